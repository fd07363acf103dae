//! G.711 throughput of media-dsp, one repetition per run, for `cargo xtask bench dsp`.
//!
//! Usage: `g711_bench LINEAR.raw` (s16le). The samples are encoded with each law, then the codes
//! are decoded, each over and over for about 100 ms, timed in 5 ms windows. Each line printed is
//! `KERNEL MSAMPLES_PER_S CHECKSUM`: the fastest window's rate (a window in which the process was
//! preempted by another job only reads slower, never faster) and a checksum of the output, which
//! xtask compares with the spandsp harness's (`xtask/src/bench/g711_peer.c`) run on the same file.

use std::hint::black_box;
use std::time::{Duration, Instant};

use media_dsp::g711::{self, Law};

const WINDOW: Duration = Duration::from_millis(5);
const WINDOWS: usize = 20;

/// Position-weighted sum, so a reordered or shifted output changes it.
fn checksum(values: impl Iterator<Item = u64>) -> u64 {
    values.enumerate().fold(0u64, |acc, (i, v)| acc.wrapping_add((i as u64 + 1).wrapping_mul(v)))
}

/// Runs `pass` (one pass over `n` samples) in timed windows; returns the best Msample/s.
fn best_rate(n: usize, mut pass: impl FnMut()) -> f64 {
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

fn main() {
    let path = std::env::args().nth(1).expect("usage: g711_bench LINEAR.raw");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let linear: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    let n = linear.len();
    for (name, law) in [("alaw", Law::Alaw), ("ulaw", Law::Mulaw)] {
        let mut codes = vec![0u8; n];
        let rate = best_rate(n, || {
            g711::encode_into(law, black_box(&linear), &mut codes);
            black_box(&mut codes);
        });
        println!("{name}_encode {rate:.1} {}", checksum(codes.iter().map(|&c| u64::from(c))));
        let mut out = vec![0i16; n];
        let rate = best_rate(n, || {
            g711::decode_into(law, black_box(&codes), &mut out);
            black_box(&mut out);
        });
        println!(
            "{name}_decode {rate:.1} {}",
            checksum(out.iter().map(|&x| u64::from(u16::from_le_bytes(x.to_le_bytes()))))
        );
    }
}
