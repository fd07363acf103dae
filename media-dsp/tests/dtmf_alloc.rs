//! Proves the DTMF receiver, the DTMF generator and the fax tone detector allocate nothing per
//! block: a counting global allocator watches this thread while they run seconds of digits, fax
//! tones and noise (digit starts and ends, drop-outs, answer-tone classification, CNG cadence).
//!
//! Locks: `process`/`fill` take `&mut self` and `media_dsp::dtmf` and `media_dsp::fax` hold no
//! `Mutex`, `RwLock`, `Once` or atomic (their tables are `static`s computed at compile time), so a
//! lock could only hide in an allocation or a syscall; the count covers the former and the path
//! makes no syscall.

use std::cell::Cell;

use media_dsp::dtmf::{Detector, Generator, GeneratorConfig, BLOCK};
use media_dsp::fax::FaxDetector;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, ARMED, COUNT};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Test audio made before counting starts: digits, a CNG burst, /ANSam, and noise.
fn audio() -> Vec<i16> {
    let mut g = Generator::new(GeneratorConfig { on_ms: 45, off_ms: 12, ..GeneratorConfig::default() });
    g.push_str("0123456789*#ABCD").unwrap();
    let mut s = Vec::new();
    while !g.is_idle() {
        let mut b = [0i16; BLOCK];
        g.fill(&mut b);
        s.extend_from_slice(&b);
    }
    let mut x: u32 = 1;
    for n in 0..40_000u32 {
        let t = f64::from(n) / 8000.0;
        let tone = if n < 4000 {
            (std::f64::consts::TAU * 1100.0 * t).sin()
        } else if n > 8000 {
            let flip = if (t / 0.45).floor().rem_euclid(2.0) < 0.5 { 1.0 } else { -1.0 };
            flip * (1.0 + 0.2 * (std::f64::consts::TAU * 15.0 * t).sin()) * (std::f64::consts::TAU * 2100.0 * t).sin()
        } else {
            0.0
        };
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let noise = f64::from(x % 200) - 100.0;
        #[allow(clippy::cast_possible_truncation, reason = "well inside the i16 range")]
        s.push((8000.0 * tone + noise) as i16);
    }
    s
}

#[test]
fn process_and_fill_allocate_nothing() {
    let signal = audio();
    let mut dtmf = Detector::new();
    let mut fax = FaxDetector::new();
    let mut gen = Generator::default();
    let (mut digits, mut tones) = (0, 0);
    ARMED.with(|a| a.set(true));
    for (i, b) in signal.chunks_exact(BLOCK).enumerate() {
        let b: &[i16; BLOCK] = b.try_into().unwrap();
        dtmf.process(b);
        fax.process(b);
        while dtmf.poll_event().is_some() {
            digits += 1;
        }
        while fax.poll_event().is_some() {
            tones += 1;
        }
        if i % 200 == 0 {
            gen.push('5').unwrap();
        }
        let mut out = [0i16; BLOCK];
        gen.fill(&mut out);
    }
    ARMED.with(|a| a.set(false));
    let count = COUNT.with(Cell::get);
    // The run went through every state: 16 digits (start + end), CNG and /ANSam (two reports).
    assert_eq!(digits, 32, "digit events");
    assert_eq!(tones, 3, "fax events");
    assert_eq!(count, 0, "allocations while processing");
}
