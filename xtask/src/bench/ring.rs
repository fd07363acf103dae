//! `cargo xtask bench ring`: items per second through media-dsp's SPSC ring against crossbeam's
//! `ArrayQueue` (the queue it replaced), one producer and one consumer thread, in the same run
//! (`media-dsp/examples/ring_bench.rs` alternates the two `--reps` times; rows are medians).

use std::process::Command;

use anyhow::{bail, Context};

use super::dsp::median;
use super::{Measure, Peer};
use crate::{root, run};

pub fn ring(reps: usize) -> anyhow::Result<Vec<Measure>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo).args(["build", "--release", "-p", "media-dsp", "--example", "ring_bench"]))?;
    let bin = root().join("target/release/examples/ring_bench");
    let out = Command::new(&bin).arg(reps.to_string()).output().with_context(|| format!("run {}", bin.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", bin.display(), String::from_utf8_lossy(&out.stderr));
    }
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["ring", "ours", v] => ours.push(v.parse::<f64>()? / 1e6),
            ["ring", "crossbeam", v] => peer.push(v.parse::<f64>()? / 1e6),
            _ => {}
        }
    }
    if ours.len() != reps || peer.len() != reps {
        bail!("ring_bench printed {} and {} results for {reps} repetitions", ours.len(), peer.len());
    }
    Ok(vec![Measure::versus(
        "ring.spsc",
        "Mitems/s",
        median(&mut ours),
        Peer { name: "crossbeam", value: median(&mut peer) },
        ">= 1x",
    )])
}
