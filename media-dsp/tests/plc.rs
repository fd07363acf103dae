//! Packet loss concealment: the pitch found on voiced-like signals, the concealed audio against
//! the signal that was lost, the fade to silence, and a smooth return to the real signal.

use media_dsp::plc::{Plc, BLOCK};

/// A voiced-like signal: a 160 Hz fundamental (a 50-sample period) with two harmonics.
fn voiced(n: usize) -> i16 {
    let t = n as f64 / 8000.0;
    let w = 2.0 * std::f64::consts::PI * 160.0 * t;
    let x = 6000.0 * w.sin() + 3000.0 * (2.0 * w + 0.3).sin() + 1500.0 * (3.0 * w + 1.1).sin();
    // The three amplitudes sum to 10 500, well inside the i16 range.
    #[allow(clippy::cast_possible_truncation)]
    let v = x.round() as i16;
    v
}

fn block_at(start: usize, f: impl Fn(usize) -> i16) -> [i16; BLOCK] {
    std::array::from_fn(|k| f(start + k))
}

fn energy(x: &[i16]) -> f64 {
    x.iter().map(|&s| f64::from(s) * f64::from(s)).sum()
}

/// Feeds `good_ms` of signal, then conceals `lost_ms`; returns the concealed samples.
fn conceal_after(plc: &mut Plc, good_ms: usize, lost_ms: usize) -> Vec<i16> {
    for b in 0..good_ms {
        let mut blk = block_at(b * BLOCK, voiced);
        plc.good(&mut blk);
        assert_eq!(blk, block_at(b * BLOCK, voiced), "good blocks pass unchanged outside an erasure");
    }
    let mut out = Vec::new();
    for _ in 0..lost_ms {
        let mut blk = [0; BLOCK];
        plc.conceal(&mut blk);
        out.extend_from_slice(&blk);
    }
    out
}

#[test]
fn finds_the_pitch_and_continues_a_periodic_signal() {
    let mut plc = Plc::new();
    let out = conceal_after(&mut plc, 100, 10);
    assert_eq!(plc.pitch(), 50);
    let truth: Vec<i16> = (800..880).map(voiced).collect();
    let err: Vec<i16> = out.iter().zip(&truth).map(|(a, b)| a.saturating_sub(*b)).collect();
    let snr = 10.0 * (energy(&truth) / energy(&err).max(1.0)).log10();
    assert!(snr > 25.0, "concealment SNR {snr:.1} dB");
}

#[test]
fn fades_out_after_ten_ms_and_is_silent_after_sixty() {
    let mut plc = Plc::new();
    let out = conceal_after(&mut plc, 100, 80);
    let per_10ms: Vec<f64> = out.chunks(80).map(energy).collect();
    // The first 10 ms keep the level of the signal (a 50-sample period over 80 samples: within 10%).
    let reference = energy(&(800..880).map(voiced).collect::<Vec<_>>());
    assert!((per_10ms[0] / reference - 1.0).abs() < 0.1, "{} vs {reference}", per_10ms[0]);
    // From 10 ms on, each 10 ms is quieter than the one before (the first fading window still
    // holds full-level samples, and 80 samples are not a whole number of periods, so it is not
    // compared with the first).
    for w in per_10ms[1..7].windows(2) {
        assert!(w[1] < w[0], "level falls: {per_10ms:?}");
    }
    assert!(out[480..].iter().all(|&s| s == 0), "silent after 60 ms");
}

#[test]
fn the_signal_returns_without_a_click() {
    let mut plc = Plc::new();
    conceal_after(&mut plc, 100, 20);
    assert!(plc.in_erasure());
    // The real signal resumes where it now is (the lost 20 ms are gone).
    let mut blk = block_at(960, voiced);
    let prev_last = {
        let mut probe = plc.clone();
        let mut b = [0; BLOCK];
        probe.conceal(&mut b);
        b[0]
    };
    plc.good(&mut blk);
    assert!(!plc.in_erasure());
    // The first sample is mostly the concealment, the last mostly the real signal.
    let truth = block_at(960, voiced);
    assert!((i32::from(blk[0]) - i32::from(prev_last)).abs() <= (i32::from(truth[0]) - i32::from(prev_last)).abs());
    assert!((i32::from(blk[7]) - i32::from(truth[7])).abs() < 2000);
    // After that block, good audio passes untouched again.
    let mut next = block_at(968, voiced);
    plc.good(&mut next);
    assert_eq!(next, block_at(968, voiced));
}

#[test]
fn silence_conceals_as_silence_and_loud_input_never_overflows() {
    let mut plc = Plc::new();
    let mut blk = [0; BLOCK];
    plc.conceal(&mut blk);
    assert_eq!(blk, [0; BLOCK]);
    let mut plc = Plc::new();
    for b in 0..40 {
        let mut blk: [i16; BLOCK] = std::array::from_fn(|k| if (b * 8 + k) % 57 < 28 { i16::MAX } else { i16::MIN });
        plc.good(&mut blk);
    }
    let mut out = [0; BLOCK];
    for _ in 0..70 {
        plc.conceal(&mut out);
    }
    assert_eq!(out, [0; BLOCK]);
    let mut back = [i16::MIN; BLOCK];
    plc.good(&mut back);
}
