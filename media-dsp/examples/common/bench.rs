//! The timed-window harness the codec benches share (`g711_bench`, `g722_bench`), for `cargo xtask bench dsp`.
//!
//! A kernel's pass runs over and over in 5 ms windows, 20 of them, and the fastest window's rate
//! is reported: a window in which the process was preempted by another job only reads slower,
//! never faster. `xtask/src/bench/bench_harness.h` is the same harness for the C peers, so both
//! sides are timed alike.

use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_millis(5);
const WINDOWS: usize = 20;

/// Position-weighted sum, so a reordered or shifted output changes it.
pub fn checksum(values: impl Iterator<Item = u64>) -> u64 {
    values.enumerate().fold(0u64, |acc, (i, v)| acc.wrapping_add((i as u64 + 1).wrapping_mul(v)))
}

/// The checksum of 16-bit samples, each taken as its unsigned bit pattern (as the C peers do).
pub fn checksum16(values: &[i16]) -> u64 {
    checksum(values.iter().map(|&x| u64::from(u16::from_le_bytes(x.to_le_bytes()))))
}

/// Runs `pass` (one pass over `n` samples) in timed windows; returns the best Msample/s.
pub fn best_rate(n: usize, mut pass: impl FnMut()) -> f64 {
    // Size a window in passes once, so the clock is read only twice per window.
    let t = Instant::now();
    let mut calib = 0u32;
    while t.elapsed() < WINDOW / 4 {
        pass();
        calib += 1;
    }
    let passes = calib * 4;
    let mut best = 0.0f64;
    for _ in 0..WINDOWS {
        let t = Instant::now();
        for _ in 0..passes {
            pass();
        }
        let secs = t.elapsed().as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let rate = f64::from(passes) * n as f64 / secs / 1e6;
        best = best.max(rate);
    }
    best
}

/// Reads a raw s16le file given as the first argument (`usage` names the program's arguments).
pub fn read_input(usage: &str) -> Vec<i16> {
    let path = std::env::args().nth(1).unwrap_or_else(|| panic!("usage: {usage}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}
