//! `cargo xtask bench isdn`: call setup and clearing cycles per CPU second through our Q.921 +
//! Q.931 TE and NT, against libpri's NT and CPE, in the same run.
//!
//! Ours is `gateway-daemon/examples/isdn_bench.rs` built in release mode: our two PRI stacks back
//! to back in one process on virtual time, frames handed straight across. The peer is
//! `isdn_peer.c` beside this file, built with gcc -O2 against libpri (`libpri-dev`) into
//! `target/peers/` on every run: libpri's two instances in one process over a SOCK_DGRAM
//! socketpair, as libpri's testprilib runs them, and a second time (`memory`) with the frames
//! passed through an in-process FIFO, which is libpri's protocol code alone. Both do the same
//! cycle (SETUP, CALL PROCEEDING, ALERTING, CONNECT, CONNECT ACK, DISCONNECT, RELEASE, RELEASE
//! COMPLETE in I frames, with LAPD's acknowledgements), both report cycles per second of process CPU time over
//! at least a second after 1000 untimed cycles, frames per cycle, and a checksum of the untimed
//! cycles' frames that must not change between repetitions. The three runs alternate `--reps`
//! times; rows are medians.
//!
//! The load rows turn our cost per cycle and per frame into the share of one core a busy PRI
//! needs, in parts per million of a core (10 000 ppm = 1 %), under assumptions printed with them.
//!
//! Wall time on a shared machine is noisy; instruction counts are not. To see what a change to
//! the stack did, count ours per cycle under callgrind (Debian `valgrind`):
//! `cargo build --release -p gateway-daemon --example isdn_bench && valgrind --tool=callgrind
//! target/release/examples/isdn_bench 0.01` runs 2000 cycles (1000 untimed, then the timed loop's
//! first 1000, which already take longer than 0.01 s under callgrind): the `Collected` total over
//! 2000 is the cost of one cycle, and `callgrind_annotate --inclusive=yes` shows where it goes.
//! The printed checksum must not change unless the frames on the wire were meant to. libpri's
//! side runs the same way (`target/peers/isdn_peer memory 0.01`).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use super::dsp::{build_c_peer, median};
use super::{Measure, Peer};
use crate::{root, run};

/// A busy PRI: 30 B-channels always in use, calls held 90 s on average: 30 / 90 calls per second.
const BUSY_PRI_CALLS_PER_S: f64 = 30.0 / 90.0;
/// A saturated 64 kbit/s D-channel of the smallest frames (RR: 4 octets + 2 FCS + 1 flag).
const SATURATED_DCHANNEL_FRAMES_PER_S: f64 = 64_000.0 / 56.0;

/// One run of a harness: cycles per CPU second, frames per cycle, checksum.
struct Run {
    rate: f64,
    frames_per_cycle: f64,
    checksum: u64,
}

fn run_harness(cmd: &mut Command, what: &str) -> anyhow::Result<Run> {
    let out = cmd.output().with_context(|| format!("run {what}"))?;
    if !out.status.success() {
        bail!("{what} failed: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("isdn ")).with_context(|| format!("{what}: no result line"))?;
    let f: Vec<&str> = line.split_whitespace().collect();
    let [_, rate, frames, sum] = f[..] else { bail!("{what}: unexpected line {line:?}") };
    Ok(Run { rate: rate.parse()?, frames_per_cycle: frames.parse()?, checksum: sum.parse()? })
}

/// Collects one implementation's runs, insisting that every repetition did the same work.
#[derive(Default)]
struct Series {
    rates: Vec<f64>,
    frames_per_cycle: f64,
    checksum: Option<u64>,
}

impl Series {
    fn push(&mut self, r: Run, what: &str) -> anyhow::Result<()> {
        if self.checksum.is_some_and(|c| c != r.checksum) {
            bail!("{what}: the frames of the untimed cycles changed between repetitions");
        }
        self.checksum = Some(r.checksum);
        self.frames_per_cycle = r.frames_per_cycle;
        self.rates.push(r.rate);
        Ok(())
    }
}

pub fn isdn(reps: usize) -> anyhow::Result<Vec<Measure>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo).args(["build", "--release", "-p", "gateway-daemon", "--example", "isdn_bench"]))?;
    let ours = root().join("target/release/examples/isdn_bench");
    let source = root().join("xtask/src/bench/isdn_peer.c");
    let peer = build_c_peer(&source, "isdn_peer", &["-O2"], &["-lpri"]).map_err(|e| {
        if e.to_string().contains("libpri.h") {
            anyhow::anyhow!("libpri headers missing: install the Debian package libpri-dev (cargo xtask deps)")
        } else {
            e
        }
    })?;
    let (mut o, mut p, mut m) = (Series::default(), Series::default(), Series::default());
    let harness = |bin: &Path, mode: Option<&str>| {
        let mut c = Command::new(bin);
        c.args(mode);
        c
    };
    for rep in 0..reps {
        eprintln!("bench isdn: repetition {}/{reps}", rep + 1);
        o.push(run_harness(&mut harness(&ours, None), "isdn_bench")?, "isdn_bench")?;
        p.push(run_harness(&mut harness(&peer, Some("socketpair")), "isdn_peer socketpair")?, "isdn_peer")?;
        m.push(run_harness(&mut harness(&peer, Some("memory")), "isdn_peer memory")?, "isdn_peer memory")?;
    }
    let (ours_rate, peer_rate, mem_rate) = (median(&mut o.rates), median(&mut p.rates), median(&mut m.rates));
    let ours_frames = ours_rate * o.frames_per_cycle;
    eprintln!(
        "bench isdn: frames per cycle: ours {:.1}, libpri {:.1} (the same Q.931 messages; ours acknowledges an I frame \
         with the I frame that answers it and sends an RR only when none does, Q.921 §5.6.2.1; libpri sends more RRs)",
        o.frames_per_cycle, p.frames_per_cycle
    );
    eprintln!(
        "bench isdn: libpri over a socketpair pays a send and a recv per frame; `libpri-mem` is libpri with \
         in-process frame passing, its protocol code alone, the like-for-like comparison with ours"
    );
    // Parts per million of one core (10 000 ppm = 1 %): the shares are far below what the
    // table's two decimals of a percentage could show.
    let busy_ppm = 1e6 * BUSY_PRI_CALLS_PER_S / ours_rate;
    let saturated_ppm = 1e6 * SATURATED_DCHANNEL_FRAMES_PER_S / ours_frames;
    eprintln!(
        "bench isdn: one loaded PRI D-channel costs {:.5} % of a core busy, {:.4} % saturated (the pri_load rows, \
         in ppm of a core: 10000 ppm = 1 %)",
        busy_ppm / 1e4,
        saturated_ppm / 1e4
    );
    eprintln!(
        "bench isdn: pri_load_busy assumes a busy PRI: 30 B-channels always in use, 90 s mean holding time \
         (1/3 call per second, set up and cleared); pri_load_saturated assumes the 64 kbit/s D-channel full of \
         the smallest frames (7 octets with FCS and flag: {SATURATED_DCHANNEL_FRAMES_PER_S:.0} frames/s) at our \
         measured cost per frame; both are our Q.921+Q.931 machines only, no I/O"
    );
    Ok(vec![
        // The acceptance (>= 5x libpri) is judged like for like: protocol code alone on both
        // sides, which is the in-memory row; over the socketpair libpri also pays two system
        // calls per frame that ours does not.
        Measure::versus("isdn.call_cycles", "cycles/s", ours_rate, Peer { name: "libpri", value: peer_rate }, ""),
        Measure::versus(
            "isdn.call_cycles_mem",
            "cycles/s",
            ours_rate,
            Peer { name: "libpri-mem", value: mem_rate },
            ">= 5x",
        ),
        Measure::versus(
            "isdn.frames",
            "frames/s",
            ours_frames,
            Peer { name: "libpri", value: peer_rate * p.frames_per_cycle },
            "",
        ),
        Measure::ours("isdn.pri_load_busy", "ppm core", busy_ppm, "< 10000"),
        Measure::ours("isdn.pri_load_saturated", "ppm core", saturated_ppm, "< 10000"),
    ])
}
