//! G.722 (64 kbit/s, 16 kHz) throughput of media-dsp, one repetition per run, for `cargo xtask bench dsp`.
//!
//! Usage: `g722_bench LINEAR16K.raw` (s16le at 16 kHz). The samples are encoded, then the codes
//! decoded, each pass from a fresh codec state, over and over for about 100 ms in 5 ms windows.
//! Each line printed is `KERNEL MSAMPLES_PER_S CHECKSUM` (16 kHz samples per second): the fastest
//! window's rate (preemption only makes a window slower) and a checksum of the output, which xtask
//! compares with the spandsp harness's (`xtask/src/bench/g722_peer.c`) on the same file.

use std::hint::black_box;
use std::time::{Duration, Instant};

use media_dsp::g722::{Decoder, Encoder, Rate};

const WINDOW: Duration = Duration::from_millis(5);
const WINDOWS: usize = 20;

/// Position-weighted sum, so a reordered or shifted output changes it.
fn checksum(values: impl Iterator<Item = u64>) -> u64 {
    values.enumerate().fold(0u64, |acc, (i, v)| acc.wrapping_add((i as u64 + 1).wrapping_mul(v)))
}

/// Runs `pass` (one pass over `n` samples) in timed windows; returns the best Msample/s.
fn best_rate(n: usize, mut pass: impl FnMut()) -> f64 {
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

fn main() {
    let path = std::env::args().nth(1).expect("usage: g722_bench LINEAR16K.raw");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut linear: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    linear.truncate(linear.len() / 2 * 2);
    let n = linear.len();
    let mut codes = vec![0u8; n / 2];
    let rate = best_rate(n, || {
        let mut enc = Encoder::new(Rate::Kbps64);
        enc.encode(black_box(&linear), &mut codes);
        black_box(&mut codes);
    });
    println!("g722_encode {rate:.1} {}", checksum(codes.iter().map(|&c| u64::from(c))));
    let mut out = vec![0i16; n];
    let rate = best_rate(n, || {
        let mut dec = Decoder::new(Rate::Kbps64);
        dec.decode(black_box(&codes), &mut out);
        black_box(&mut out);
    });
    println!("g722_decode {rate:.1} {}", checksum(out.iter().map(|&x| u64::from(u16::from_le_bytes(x.to_le_bytes())))));
}
