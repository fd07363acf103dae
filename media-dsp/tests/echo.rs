//! The echo canceller's API, kernels and tone disabler, outside the G.168 set (`tests/g168/`).

use media_dsp::echo::{db_to_power, Config, EchoCanceller, BLOCK};
use media_dsp::simd::Kernel;

/// xorshift noise, uniform, at roughly `rms`.
fn noise(n: usize, rms: f32, mut seed: u32) -> Vec<i16> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            #[allow(clippy::cast_precision_loss, reason = "24 random bits")]
            let u = (seed >> 8) as f32 / 16_777_216.0 * 2.0 - 1.0;
            #[allow(clippy::cast_possible_truncation, reason = "rms well below full scale")]
            let v = (u * rms * 3f32.sqrt()) as i16;
            v
        })
        .collect()
}

/// A short sparse echo path behind `delay` samples, about 6 dB down.
fn echo_of(rin: &[i16], delay: usize) -> Vec<i16> {
    let taps = [(0usize, 0.35f32), (1, -0.25), (3, 0.15), (7, -0.08), (12, 0.04)];
    (0..rin.len())
        .map(|t| {
            let mut e = 0.0;
            for (k, h) in taps {
                if t >= delay + k {
                    e += h * f32::from(rin[t - delay - k]);
                }
            }
            #[allow(clippy::cast_possible_truncation, reason = "well inside i16")]
            let v = e.round() as i16;
            v
        })
        .collect()
}

fn power(x: &[i16]) -> f32 {
    #[allow(clippy::cast_precision_loss, reason = "sample counts")]
    let n = x.len().max(1) as f32;
    x.iter().map(|&v| f32::from(v) * f32::from(v)).sum::<f32>() / n
}

fn run(ec: &mut EchoCanceller, sin: &[i16], rin: &[i16]) -> Vec<i16> {
    let mut out = sin.to_vec();
    for (s, r) in out.chunks_exact_mut(BLOCK).zip(rin.chunks_exact(BLOCK)) {
        ec.process(s, r);
    }
    out
}

#[test]
fn every_kernel_cancels_like_the_scalar_reference() {
    let n = 8000 * 3;
    let rin = noise(n, 3000.0, 1);
    let mut sin = echo_of(&rin, 300);
    // A second of double talk in the middle exercises the detector and the two-path control.
    let near = noise(n, 2500.0, 2);
    for i in 8000..16_000 {
        sin[i] = sin[i].saturating_add(near[i]);
    }
    let cfg = Config { nlp: false, ..Config::default() };
    let reference = run(&mut EchoCanceller::with_kernel(cfg, Kernel::Scalar), &sin, &rin);
    for &k in Kernel::available() {
        let out = run(&mut EchoCanceller::with_kernel(cfg, k), &sin, &rin);
        // Float sums in another order round differently; an adaptive filter keeps such differences
        // at the level of its own residual, far below the echo.
        let diff: Vec<i16> = out.iter().zip(&reference).map(|(a, b)| a.saturating_sub(*b)).collect();
        let worst = diff.iter().map(|d| d.unsigned_abs()).max().unwrap_or(0);
        let ratio = power(&diff) / power(&sin);
        assert!(ratio < 1e-4, "{k:?}: difference {:.1} dB below Sin (worst sample {worst})", -10.0 * ratio.log10());
    }
}

#[test]
fn the_detected_kernel_is_the_fastest_available() {
    let ec = EchoCanceller::new(Config::default());
    assert_eq!(ec.kernel(), *Kernel::available().last().expect("at least the scalar kernel"));
}

#[test]
fn stats_report_erl_erle_and_convergence() {
    let n = 8000 * 3;
    let rin = noise(n, 3000.0, 3);
    let sin = echo_of(&rin, 100);
    let mut ec = EchoCanceller::new(Config { nlp: false, ..Config::default() });
    let out = run(&mut ec, &sin, &rin);
    let st = ec.stats();
    let copy = st; // `Stats` is `Copy`: the status page takes snapshots freely.
    assert_eq!(copy, st);
    // The path above has an energy of 0.2334 (ERL 6.3 dB).
    assert!((st.erl_db - 6.3).abs() < 1.0, "ERL {st:?}");
    assert!(st.erle_db > 30.0 && st.converged && !st.double_talk && !st.bypassed, "{st:?}");
    let tail = n - 8000;
    let measured = 10.0 * (power(&sin[tail..]) / power(&out[tail..])).log10();
    assert!(measured > 30.0, "ERLE over the last second {measured:.1} dB");
}

#[test]
fn nlp_replaces_the_residual_with_comfort_noise() {
    let n = 8000 * 3;
    let rin = noise(n, 3000.0, 4);
    let sin = echo_of(&rin, 50);
    let mut ec = EchoCanceller::new(Config::default());
    let out = run(&mut ec, &sin, &rin);
    assert!(ec.stats().nlp_active);
    // No near-end background here: the comfort noise is at the floor, far below -65 dBm0.
    assert!(power(&out[n - 8000..]) < db_to_power(-65.0));
}

#[test]
fn a_short_tail_instance_covers_its_own_tail() {
    let n = 8000 * 2;
    let rin = noise(n, 3000.0, 5);
    let sin = echo_of(&rin, 100);
    let mut ec = EchoCanceller::new(Config { taps: 120, nlp: false, ..Config::default() });
    assert_eq!(ec.config().taps, 128, "taps round up to a multiple of 16");
    let out = run(&mut ec, &sin, &rin);
    let tail = n - 4000;
    assert!(power(&sin[tail..]) / power(&out[tail..]) > 1000.0, "30 dB on a 16 ms tail");
}

#[test]
fn reset_forgets_the_echo_path() {
    let n = 8000 * 2;
    let rin = noise(n, 3000.0, 6);
    let sin = echo_of(&rin, 40);
    let mut ec = EchoCanceller::new(Config { nlp: false, ..Config::default() });
    run(&mut ec, &sin, &rin);
    ec.reset();
    assert_eq!(ec.stats().erle_db, 0.0);
    let out = run(&mut ec, &sin[..80], &rin[..80]);
    // Right after a reset the filter is empty: the first 10 ms come through as they went in.
    assert_eq!(&out[..40], &sin[..40]);
}

#[test]
fn frozen_adaptation_keeps_the_filter() {
    let n = 8000 * 2;
    let rin = noise(n, 3000.0, 7);
    let sin = echo_of(&rin, 40);
    let mut ec = EchoCanceller::new(Config { nlp: false, ..Config::default() });
    run(&mut ec, &sin, &rin);
    ec.set_adapt(false);
    let rin2 = noise(8000, 3000.0, 8);
    let sin2 = echo_of(&rin2, 40);
    let out = run(&mut ec, &sin2, &rin2);
    assert!(power(&sin2[800..]) / power(&out[800..]) > 1000.0);
}

#[test]
#[should_panic(expected = "equal multiples of 8")]
fn a_ragged_block_is_refused() {
    let mut ec = EchoCanceller::new(Config::default());
    let mut sin = [0i16; 12];
    ec.process(&mut sin, &[0; 12]);
}

/// 2100 Hz (plus `offset_hz`) at about -12 dBm0, its phase flipped every 450 ms when `reversals`.
fn answer_tone(seconds: f32, offset_hz: f32, reversals: bool) -> Vec<i16> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "positive durations")]
    let n = (seconds * 8000.0) as usize;
    let amp = (2.0 * db_to_power(-12.0)).sqrt();
    (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss, reason = "sample index")]
            let t = i as f32 / 8000.0;
            let flip = if reversals && (i / 3600) % 2 == 1 { std::f32::consts::PI } else { 0.0 };
            #[allow(clippy::cast_possible_truncation, reason = "amplitude below full scale")]
            let v = (amp * (std::f32::consts::TAU * (2100.0 + offset_hz) * t + flip).sin()) as i16;
            v
        })
        .collect()
}

/// Feeds `tone` as Rin (or Sin) after a second of converging; returns when bypass began (ms).
fn bypass_time(tone: &[i16], on_rin: bool) -> Option<usize> {
    let pre = noise(8000, 3000.0, 9);
    let mut ec = EchoCanceller::new(Config::default());
    run(&mut ec, &echo_of(&pre, 40), &pre);
    let silent = vec![0i16; tone.len()];
    let (rin, sin) = if on_rin { (tone, &silent[..]) } else { (&silent[..], tone) };
    let mut sin = sin.to_vec();
    for (i, (s, r)) in sin.chunks_exact_mut(BLOCK).zip(rin.chunks_exact(BLOCK)).enumerate() {
        ec.process(s, r);
        if ec.stats().bypassed {
            return Some(i);
        }
    }
    None
}

#[test]
fn tone_disabler_bypasses_on_2100_hz_with_phase_reversals_in_either_direction() {
    for offset in [-15.0, 0.0, 15.0] {
        let tone = answer_tone(2.0, offset, true);
        for on_rin in [true, false] {
            let t = bypass_time(&tone, on_rin);
            // The first reversal is at 450 ms; G.165 wants the disabler to hold within 1 s.
            assert!(t.is_some_and(|t| (450..1000).contains(&t)), "offset {offset} Hz, rin {on_rin}: {t:?}");
        }
    }
}

#[test]
fn tone_disabler_ignores_2100_hz_without_reversals_and_noise() {
    assert_eq!(bypass_time(&answer_tone(3.0, 0.0, false), true), None, "a plain 2100 Hz tone (fax CED)");
    assert_eq!(bypass_time(&noise(24_000, 4000.0, 10), true), None, "noise");
}

#[test]
fn bypass_passes_sin_untouched_and_ends_after_250_ms_of_silence() {
    let tone = answer_tone(1.5, 0.0, true);
    let mut ec = EchoCanceller::new(Config::default());
    let mut sin: Vec<i16> = echo_of(&tone, 40);
    let before = sin.clone();
    for (s, r) in sin.chunks_exact_mut(BLOCK).zip(tone.chunks_exact(BLOCK)) {
        ec.process(s, r);
    }
    assert!(ec.stats().bypassed);
    // The last 500 ms ran in bypass: Sout is Sin, sample for sample.
    assert_eq!(&sin[8000..], &before[8000..]);
    let mut quiet = vec![0i16; 8 * 240];
    ec.process(&mut quiet, &[0; 8 * 240]);
    assert!(ec.stats().bypassed, "still bypassed after 240 ms of silence");
    let mut quiet = vec![0i16; 8 * 20];
    ec.process(&mut quiet, &[0; 8 * 20]);
    assert!(!ec.stats().bypassed, "released after 260 ms of silence");
}

/// A digital line returns no echo at all: a near-end talker nearly as loud as the far end (two
/// tones meeting on a TDM loop, the near one 1 dB down) is double talk, not echo, and must come
/// through rather than be replaced by comfort noise. Before the ERL is measured the Geigel rule
/// assumes G.168's 6 dB; with 0 dB the near end was learnt as a 1 dB echo and muted for good.
#[test]
fn a_near_end_nearly_as_loud_as_the_far_end_with_no_echo_is_never_muted() {
    let n = 8000 * 3;
    let tone = |hz: f32, amp: f32| -> Vec<i16> {
        (0..n)
            .map(|t| {
                #[allow(clippy::cast_precision_loss, reason = "sample index")]
                let x = (std::f32::consts::TAU * hz * t as f32 / 8000.0).sin() * amp;
                #[allow(clippy::cast_possible_truncation, reason = "amplitude below full scale")]
                let v = x as i16;
                v
            })
            .collect()
    };
    let rin = tone(1000.0, 8000.0);
    let sin = tone(600.0, 7100.0);
    let mut ec = EchoCanceller::new(Config::default());
    let out = run(&mut ec, &sin, &rin);
    // Every 100 ms window keeps the near-end tone within 3 dB.
    for (i, (o, s)) in out.chunks_exact(800).zip(sin.chunks_exact(800)).enumerate().skip(1) {
        let loss = 10.0 * (power(s) / power(o).max(1.0)).log10();
        assert!(loss.abs() < 3.0, "window {i}: the near end lost {loss:.1} dB; {:?}", ec.stats());
    }
}

/// Fax mode (the call heard CNG or CED): Sin passes untouched - no subtraction, no high-pass, no
/// comfort noise - and the filter is frozen, so turning fax mode off again cancels at once with
/// what was learned before; a reset (a new call) leaves fax mode.
#[test]
fn fax_mode_passes_sin_untouched_freezes_the_filter_and_ends_with_a_reset() {
    let n = 8000 * 3;
    let rin = noise(n, 3000.0, 21);
    let sin = echo_of(&rin, 100);
    let mut ec = EchoCanceller::new(Config::default());
    let _ = run(&mut ec, &sin, &rin);
    assert!(ec.stats().converged && !ec.stats().fax_mode, "{:?}", ec.stats());
    ec.set_fax_mode(true);
    assert!(ec.fax_mode() && ec.stats().fax_mode && ec.stats().bypassed && !ec.stats().nlp_active);
    // A different echo path during the fax: passed through as it is, not learned.
    let rin2 = noise(8000, 3000.0, 22);
    let sin2: Vec<i16> = echo_of(&rin2, 300).iter().zip(noise(8000, 300.0, 23)).map(|(e, v)| e + v).collect();
    let out = run(&mut ec, &sin2, &rin2);
    assert_eq!(out, sin2, "fax mode changed the near end");
    assert!(ec.stats().fax_mode && ec.stats().bypassed, "{:?}", ec.stats());
    // Back out of fax mode: the old path is still cancelled (the filter did not move).
    ec.set_fax_mode(false);
    let rin3 = noise(4000, 3000.0, 24);
    let sin3 = echo_of(&rin3, 100);
    let out = run(&mut ec, &sin3, &rin3);
    let erle = 10.0 * (power(&sin3[2000..]) / power(&out[2000..]).max(1e-3)).log10();
    assert!(erle > 20.0, "the frozen filter still cancels the old path: ERLE {erle:.1} dB");
    ec.set_fax_mode(true);
    ec.reset();
    assert!(!ec.fax_mode() && !ec.stats().fax_mode && !ec.stats().bypassed, "a reset ends fax mode");
}
