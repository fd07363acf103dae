//! `cargo xtask fuzz`: runs every fuzz target (or the ones named) under libFuzzer for a while
//! each, and fails on the first input that crashes one.
//!
//! The fuzz crates (`FOLDER/fuzz`, outside the workspace) need a nightly toolchain and
//! cargo-fuzz; `cargo xtask test` only type-checks them. This installs cargo-fuzz with
//! `cargo install` when it is missing, and says so when nightly is. All crates build into one
//! target dir (`target/fuzz`), so the sanitizer runtime and shared crates build once. New inputs
//! go to `target/fuzz-corpus/FOLDER/TARGET`, with the committed seeds (`FOLDER/fuzz/corpus/TARGET`)
//! read beside them, so a run leaves the source tree as it was; a crashing input is kept in
//! `FOLDER/fuzz/artifacts/TARGET/` (ignored by git) and named in the error.

use std::process::Command;

use anyhow::{bail, Context};

use crate::{root, run, tidy};

const USAGE: &str = "cargo xtask fuzz [--secs N] [TARGET...]   run each fuzz target N s (default 60) under libFuzzer";

/// One fuzz target: the folder whose `fuzz/` crate holds it, and its name.
struct Target {
    folder: &'static str,
    name: String,
}

/// The folders that hold a fuzz crate (`FOLDER/fuzz/Cargo.toml`), in `tidy::FOLDERS` order.
pub fn crates() -> impl Iterator<Item = &'static str> {
    tidy::FOLDERS.iter().copied().filter(|f| root().join(f).join("fuzz/Cargo.toml").exists())
}

/// Every fuzz target, as cargo-fuzz lists them, in folder order.
fn targets() -> anyhow::Result<Vec<Target>> {
    let mut all = Vec::new();
    for folder in crates() {
        let out = Command::new("cargo")
            .args(["fuzz", "list", "--fuzz-dir"])
            .arg(root().join(folder).join("fuzz"))
            .output()
            .context("run cargo fuzz list")?;
        if !out.status.success() {
            bail!("cargo fuzz list in {folder}/fuzz failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let names = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect::<Vec<_>>();
        all.extend(names.into_iter().map(|name| Target { folder, name }));
    }
    Ok(all)
}

/// Installs cargo-fuzz if `cargo fuzz` is not there; fails naming what is missing otherwise.
fn ensure_tools() -> anyhow::Result<()> {
    let nightly = Command::new("rustup").args(["toolchain", "list"]).output().context("run rustup")?;
    if !String::from_utf8_lossy(&nightly.stdout).lines().any(|l| l.starts_with("nightly")) {
        bail!("fuzzing needs a nightly toolchain: rustup toolchain install nightly");
    }
    let have = Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("xtask fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)");
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}

pub fn main(args: &[String]) -> anyhow::Result<()> {
    let mut secs = 60u32;
    let mut wanted = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--secs" => secs = it.next().context(USAGE)?.parse().context("--secs takes whole seconds")?,
            s if s.starts_with('-') => bail!("unknown option {s}\n{USAGE}"),
            s => wanted.push(s.to_string()),
        }
    }
    ensure_tools()?;
    let all = targets()?;
    if let Some(unknown) = wanted.iter().find(|w| !all.iter().any(|t| &t.name == *w)) {
        let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
        bail!("no fuzz target {unknown:?}; there are: {}", names.join(" "));
    }
    let chosen: Vec<&Target> = all.iter().filter(|t| wanted.is_empty() || wanted.contains(&t.name)).collect();
    for t in &chosen {
        let dir = root().join(t.folder).join("fuzz");
        let scratch = root().join("target/fuzz-corpus").join(t.folder).join(&t.name);
        std::fs::create_dir_all(&scratch).with_context(|| format!("create {}", scratch.display()))?;
        let mut cmd = Command::new("cargo");
        cmd.args(["+nightly", "fuzz", "run", "--fuzz-dir"]).arg(&dir);
        cmd.args(["--target-dir", "target/fuzz", &t.name]).arg(&scratch);
        let seeds = dir.join("corpus").join(&t.name);
        if seeds.is_dir() {
            cmd.arg(&seeds);
        }
        cmd.args(["--", &format!("-max_total_time={secs}"), "-rss_limit_mb=2048", "-print_final_stats=1"]);
        eprintln!("xtask fuzz: {}/{} for {secs} s", t.folder, t.name);
        run(&mut cmd).with_context(|| {
            format!("fuzz target {} found a crash: see {}", t.name, dir.join("artifacts").join(&t.name).display())
        })?;
    }
    println!("xtask fuzz: {} targets ran {secs} s each with no crash", chosen.len());
    Ok(())
}
