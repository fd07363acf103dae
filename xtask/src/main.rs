//! `cargo xtask`: project automation. `test` installs the system packages the tests need and runs
//! every test; `bench NAME` measures; `fuzz` runs the fuzz targets; `tidy` checks the source tree's house rules.
#![forbid(unsafe_code)]

mod bench;
mod deps;
mod fuzz;
mod tidy;
mod vm;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

const USAGE: &str = "\
cargo xtask test [-- CARGO-TEST-ARGS]   install missing test peers (apt-get), build once, run every test + vm-test
cargo xtask bench sim [--secs N] [--json]  measure the simulated board (CPU, tick lateness, RSS)
cargo xtask bench dsp [--reps N] [--json]  DSP kernels against spandsp, same input, same run (medians)
cargo xtask bench calls [--step-secs N] [--hold-ms N] [--json]  highest call rate SIP<->TDM with zero failures (sipp)
cargo xtask fuzz [--secs N] [TARGET...]  run every fuzz target N s (default 60) under libFuzzer (nightly; installs cargo-fuzz)
cargo xtask tidy                        check file headers, unsafe placement and file sizes
cargo xtask deps                        install the test peers only
cargo xtask vm-test                     the real DAHDI kernel modules in QEMU: our backend on looped spans
";

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask is inside the workspace").to_path_buf()
}

/// Runs a command in the workspace root, failing with its command line when it fails.
pub fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.current_dir(root()).status().with_context(|| format!("start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed: {status}");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    deps::ensure()?;
    // One debug build of everything, reused by the test run (same profile, same target dir).
    run(cargo().args(["build", "--workspace", "--bins"]))?;
    let bin = root().join("target/debug/spangate");
    run(cargo().args(["test", "--workspace", "--no-fail-fast"]).args(extra).env("SPANGATE_BIN", &bin))?;
    // The DAHDI backend against the real kernel modules, in a QEMU guest (prints its wall time).
    vm::main(&[])?;
    tidy::check()?;
    // The lint table (casts between sample widths, undocumented unsafe...) only means something if
    // it is enforced.
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--quiet", "--", "-D", "warnings"]))?;
    check_fuzz_targets()?;
    // The SPSC ring's memory orderings, model-checked by loom (its own target dir: `--cfg loom`
    // changes every crate it builds).
    run(cargo()
        .args(["test", "--quiet", "--release", "-p", "media-dsp", "--lib", "ring", "--target-dir", "target/loom"])
        .env("RUSTFLAGS", "--cfg loom"))?;
    println!("xtask test: all tests passed");
    Ok(())
}

/// The fuzz crates live outside the workspace (they need nightly to run); checking that they still
/// compile against today's APIs keeps them from rotting. One shared target dir builds libFuzzer once.
fn check_fuzz_targets() -> anyhow::Result<()> {
    for folder in fuzz::crates() {
        run(cargo()
            .args(["check", "--quiet", "--bins", "--manifest-path"])
            .arg(root().join(folder).join("fuzz/Cargo.toml"))
            .args(["--target-dir", "target/fuzz-check"]))?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => {
            let extra: Vec<String> = args.iter().skip(1).skip_while(|a| *a != "--").skip(1).cloned().collect();
            test(&extra)
        }
        Some("bench") => bench::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("tidy") => tidy::check(),
        Some("deps") => deps::ensure(),
        Some("vm-test") => vm::main(&args[1..]),
        _ => {
            print!("{USAGE}");
            if args.is_empty() {
                Ok(())
            } else {
                bail!("unknown xtask command {:?}", args[0])
            }
        }
    }
}
