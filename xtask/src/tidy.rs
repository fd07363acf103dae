//! House rules checked mechanically: file headers, where unsafe may live, file sizes, the lint table
//! in every crate, the README's first commands and ARCHITECTURE.md naming every folder.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::root;

/// Top-level folders of the workspace, each of which ARCHITECTURE.md must describe.
pub const FOLDERS: &[&str] =
    &["hal", "dahdi-driver", "media-dsp", "gateway-daemon", "provisioning", "board-configs", "tests", "xtask"];
/// Crates whose root must forbid unsafe code.
const SAFE_CRATES: &[&str] = &["hal", "gateway-daemon", "provisioning", "xtask", "tests"];
/// The keyword the unsafe check looks for.
const KW: &str = "unsafe";

/// The only places unsafe code may appear.
const UNSAFE_ALLOWED: &[&str] = &["dahdi-driver/src/sys", "media-dsp/src/simd"];
const MAX_LINES: usize = 1200;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if name != "target" && !name.starts_with('.') && name != "corpus" {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

/// The line with the contents of its string literals removed (a rough cut: enough for a lint).
fn strip_strings(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_str = false;
    let mut prev = ' ';
    for c in line.chars() {
        if c == '"' && prev != '\\' {
            in_str = !in_str;
            out.push(c);
        } else if !in_str {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// Every problem found, as `path: message` lines.
pub fn problems() -> Vec<String> {
    let root = root();
    let mut out = Vec::new();
    let mut files = Vec::new();
    for f in FOLDERS {
        rust_files(&root.join(f), &mut files);
    }
    for path in &files {
        let rel = path.strip_prefix(&root).unwrap_or(path).to_string_lossy().to_string();
        let Ok(text) = fs::read_to_string(path) else {
            out.push(format!("{rel}: not UTF-8"));
            continue;
        };
        if !text.trim_start().starts_with("//!") && !rel.contains("/fuzz/") {
            out.push(format!("{rel}: must open with a `//!` line saying what the file is"));
        }
        let lines = text.lines().count();
        if lines > MAX_LINES {
            out.push(format!("{rel}: {lines} lines; split it by responsibility (limit {MAX_LINES})"));
        }
        // Integration tests may hold the unsafe a test harness needs (a counting global allocator
        // proves the media path never allocates), as long as every block says why it is sound.
        // The patterns are built from `KW` so that this file holds no unsafe-looking text of its
        // own and is checked like every other file.
        let in_tests = rel.starts_with("tests/") || rel.contains("/tests/");
        let (block, imp, start, func) =
            (format!("{KW} {{"), format!("{KW} impl"), format!("{KW} "), format!(" {KW} fn "));
        let unsafe_count = text.matches(block.as_str()).count() + text.matches(imp.as_str()).count();
        let justified = in_tests && text.matches("SAFETY:").count() >= unsafe_count;
        let allowed_here = UNSAFE_ALLOWED.iter().any(|a| rel.starts_with(a)) || justified;
        let code_lines = text.lines().map(str::trim_start).enumerate().filter(|(_, l)| !l.starts_with("//"));
        for (i, line) in code_lines.map(|(i, l)| (i, strip_strings(l))) {
            let uses_unsafe = line.contains(&block) || line.starts_with(&start) || line.contains(&func);
            if uses_unsafe && !line.contains("forbid(unsafe_code)") && !allowed_here {
                out.push(format!("{rel}: unsafe code (line {}) outside {UNSAFE_ALLOWED:?}", i + 1));
            }
        }
    }
    for c in SAFE_CRATES {
        let lib = root.join(c).join("src/lib.rs");
        let main = root.join(c).join("src/main.rs");
        let tests_lib = root.join(c).join("lib.rs");
        let roots: Vec<PathBuf> = [lib, main, tests_lib].into_iter().filter(|p| p.exists()).collect();
        for r in roots {
            let text = fs::read_to_string(&r).unwrap_or_default();
            if !text.contains("#![forbid(unsafe_code)]") {
                out.push(format!(
                    "{}: crate root must say #![forbid(unsafe_code)]",
                    r.strip_prefix(&root).unwrap_or(&r).display()
                ));
            }
        }
    }
    for f in FOLDERS.iter().filter(|f| **f != "board-configs") {
        let manifest = root.join(f).join("Cargo.toml");
        let text = fs::read_to_string(&manifest).unwrap_or_default();
        if !text.contains("[lints]\nworkspace = true") {
            out.push(format!("{f}/Cargo.toml: needs `[lints] workspace = true`"));
        }
    }
    let readme = fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let head: String = readme.lines().take(40).collect::<Vec<_>>().join("\n");
    for cmd in ["cargo run --release", "cargo xtask test"] {
        if !head.contains(cmd) {
            out.push(format!("README.md: the first screen must show `{cmd}`"));
        }
    }
    let ci = fs::read_to_string(root.join(".ci/run")).unwrap_or_default();
    if !ci.contains("cargo xtask test") {
        out.push(".ci/run: must run `cargo xtask test`".into());
    }
    let arch = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    for f in FOLDERS {
        if !arch.contains(&format!("`{f}/`")) {
            out.push(format!("ARCHITECTURE.md: does not describe `{f}/`"));
        }
    }
    out
}

/// Fails listing every problem.
pub fn check() -> anyhow::Result<()> {
    let p = problems();
    if p.is_empty() {
        println!("xtask tidy: ok");
        return Ok(());
    }
    for line in &p {
        eprintln!("tidy: {line}");
    }
    bail!("tidy found {} problem(s)", p.len())
}
