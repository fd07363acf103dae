//! Echo canceller throughput of media-dsp, one repetition per run, for `cargo xtask bench dsp`.
//!
//! Usage: `echo_bench RIN.raw SIN.raw [TAPS]` (s16le, 8 kHz, equal lengths). Runs the full
//! canceller (default config: 1024 taps, double-talk detection, NLP with comfort noise, high-pass
//! filters, tone disabler) over the files in 8-sample blocks, the way the media thread calls it,
//! and prints `echo CHANNELS_PER_CORE ERLE_DB CONVERGING_CHANNELS`: real-time channels one core
//! sustains (samples per second of processing / 8000, from the fastest 250 ms stretch of audio: on
//! a shared machine a stretch in which the process was preempted only reads slower, never
//! faster), the ERLE over the last second, so a canceller that stopped working cannot pass for a
//! fast one, and the rate of the first stretch alone, while the canceller is still converging (a
//! converged canceller adapts at every fourth sample, a converging one at every sample). xtask runs spandsp's harness (`xtask/src/bench/echo_peer.c`)
//! on the same files and prints the same line.

use std::time::Instant;

use media_dsp::echo::{Config, EchoCanceller, BLOCK};

fn read(path: &str) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

fn power(x: &[i16]) -> f64 {
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len().max(1) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(args.len() >= 3, "usage: echo_bench RIN.raw SIN.raw [TAPS]");
    let rin = read(&args[1]);
    let sin = read(&args[2]);
    assert_eq!(rin.len(), sin.len(), "RIN and SIN differ in length");
    let taps = args.get(3).map_or(1024, |t| t.parse().expect("TAPS is a number"));
    // The NLP would replace the output with comfort noise; ERLE is read on a second, NLP-less
    // instance below, so the timed one runs with every feature on.
    let mut ec = EchoCanceller::new(Config { taps, ..Config::default() });
    let mut out = sin.clone();
    const STRETCH: usize = 2000;
    let mut best = f64::INFINITY;
    let mut first = None;
    for (s, r) in out.chunks_mut(STRETCH).zip(rin.chunks(STRETCH)) {
        let t = Instant::now();
        for (s, r) in s.chunks_exact_mut(BLOCK).zip(r.chunks_exact(BLOCK)) {
            ec.process(s, r);
        }
        if s.len() == STRETCH {
            let secs = t.elapsed().as_secs_f64();
            best = best.min(secs);
            first.get_or_insert(secs);
        }
    }
    let converging = STRETCH as f64 / first.unwrap_or(f64::INFINITY) / 8000.0;
    let n = rin.len() / BLOCK * BLOCK;
    let channels = STRETCH as f64 / best / 8000.0;
    let mut plain = EchoCanceller::new(Config { taps, nlp: false, ..Config::default() });
    let mut out = sin.clone();
    for (s, r) in out.chunks_exact_mut(BLOCK).zip(rin.chunks_exact(BLOCK)) {
        plain.process(s, r);
    }
    let last = n.saturating_sub(8000);
    let erle = 10.0 * (power(&sin[last..n]) / power(&out[last..n]).max(1e-9)).log10();
    println!("echo {channels:.1} {erle:.1} {converging:.1}");
}
