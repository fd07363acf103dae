//! Builds the C oracles of the codec tests (small programs around spandsp or bcg729, which are
//! GPL/LGPL and therefore run as separate processes, never linked into ours) and runs them.
//!
//! Each test binary includes this file (`#[path]`). An oracle is built with gcc once into
//! `target/peers/` and rebuilt only when its source is newer; a missing gcc or library header
//! fails the test naming the Debian package to install: these tests never skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A C oracle: its source under `tests/c/`, the library it links and the Debian package that
/// provides that library.
pub struct Oracle {
    pub name: &'static str,
    pub lib: &'static str,
    pub package: &'static str,
}

/// `target/peers/`, next to the `tmp` directory cargo gives integration tests.
fn peers_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("peers")
}

fn is_stale(source: &Path, binary: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(source), modified(binary)) {
        (Some(s), Some(b)) => s > b,
        _ => true,
    }
}

impl Oracle {
    /// Builds the oracle if needed and returns its path.
    pub fn build(&self) -> PathBuf {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c").join(format!("{}.c", self.name));
        let dir = peers_dir();
        std::fs::create_dir_all(&dir).expect("create target/peers");
        let bin = dir.join(self.name);
        if !is_stale(&source, &bin) {
            return bin;
        }
        // Several tests (threads of this process, or other test processes) may build the same
        // oracle at once: build under a private name and rename, which replaces atomically.
        let tmp = dir.join(format!("{}.{}.{:?}", self.name, std::process::id(), std::thread::current().id()));
        let lib = format!("-l{}", self.lib);
        let out = match Command::new("gcc").args(["-O2", "-o"]).arg(&tmp).arg(&source).arg(&lib).output() {
            Ok(out) => out,
            Err(e) => panic!("cannot run gcc ({e}): install the Debian package gcc (or run `cargo xtask deps`)"),
        };
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains(self.lib) && (stderr.contains("No such file") || stderr.contains("cannot find")) {
                panic!(
                    "{} is missing: install the Debian package {} (or run `cargo xtask deps`); gcc said: {}",
                    self.lib,
                    self.package,
                    stderr.lines().next().unwrap_or("")
                );
            }
            panic!("building {} failed:\n{stderr}", source.display());
        }
        std::fs::rename(&tmp, &bin).expect("move the oracle into place");
        bin
    }

    /// Runs the oracle with `args`, feeding it `input` on stdin, and returns its stdout; fails
    /// the test when it does not exit cleanly.
    #[allow(dead_code, reason = "not every test binary feeds its oracle")]
    pub fn run(&self, args: &[&str], input: &[u8]) -> Vec<u8> {
        let bin = self.build();
        let mut child = Command::new(&bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
        // Feed stdin from another thread: the oracle may fill its stdout pipe before it has read
        // all of its input.
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let feeder = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("wait for {}: {e}", bin.display()));
        feeder.join().expect("feeder thread").expect("write the oracle's input");
        assert!(out.status.success(), "{} {args:?} failed: {}", bin.display(), out.status);
        out.stdout
    }
}
