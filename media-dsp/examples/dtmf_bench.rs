//! DTMF receiver throughput of media-dsp, one repetition per run, for `cargo xtask bench dsp`.
//!
//! Usage: `dtmf_bench IN.raw` (s16le, 8 kHz). Feeds the file to a `dtmf::Detector` in 8-sample
//! blocks, the way the media thread calls it, `PASSES` times with a fresh detector each pass, and
//! prints `dtmf CHANNELS_PER_CORE DIGITS`: the real-time channels one core sustains from the
//! fastest pass (on a shared machine a preempted pass only reads slower, never faster) and the
//! digits detected ("-" for none), so a detector that stopped working cannot pass for a fast one.
//! xtask runs spandsp's harness (`xtask/src/bench/dtmf_peer.c`) on the same file, prints the same
//! line, and fails if the digit strings differ.

use std::time::Instant;

use media_dsp::dtmf::{Detector, EventKind, BLOCK};

/// Passes over the file; the fastest is reported.
const PASSES: usize = 3;

fn main() {
    let path = std::env::args().nth(1).expect("usage: dtmf_bench IN.raw");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let x: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    let n = x.len() / BLOCK * BLOCK;
    // Allocated before the clock starts: the timed loop only pushes within capacity.
    let mut digits = String::with_capacity(n / 800 + 16);
    let mut best = f64::INFINITY;
    for _ in 0..PASSES {
        digits.clear();
        let mut d = Detector::new();
        let t = Instant::now();
        for b in x[..n].chunks_exact(BLOCK) {
            d.process(b.try_into().expect("chunks_exact gives BLOCK samples"));
            while let Some(e) = d.poll_event() {
                if e.kind == EventKind::Start {
                    digits.push(e.digit);
                }
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    #[allow(clippy::cast_precision_loss, reason = "sample counts are far below 2^52")]
    let channels = n as f64 / best / 8000.0;
    println!("dtmf {channels:.1} {}", if digits.is_empty() { "-" } else { &digits });
}
