//! The 8 <-> 16 kHz resampler used for G.711 <-> G.722: passband, stopband and delay, measured.
//!
//! Each test drives the real block API with a tone and measures the output with a Hann-windowed
//! projection on the frequencies of interest, so a filter that is too short, a wrong tap or a wrong
//! phase shows up as a number outside the limits: passband within 0.5 dB up to 3.4 kHz, images
//! (upsampling) and aliases (downsampling) from 4.6 kHz on at least 50 dB down, and the group delay
//! equal to the documented constant at every passband frequency (linear phase).

use std::f64::consts::PI;

use media_dsp::resample::{Downsampler, Upsampler};

const AMPLITUDE: f64 = 16_000.0;
/// Samples skipped at the start of each output while the filter fills.
const SETTLE: usize = 200;

fn tone(freq: f64, rate: f64, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 / rate;
            #[allow(clippy::cast_possible_truncation)]
            let v = (AMPLITUDE * (2.0 * PI * freq * t).sin()).round() as i16;
            v
        })
        .collect()
}

/// Amplitude and phase (relative to sin at sample 0 of `x`, whose first sample has index
/// `start`) of the component at `freq` in `x`, through a Hann window.
fn measure(x: &[i16], start: usize, freq: f64, rate: f64) -> (f64, f64) {
    let n = x.len();
    let (mut re, mut im, mut wsum) = (0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let (fi, fnn, t) = (i as f64, n as f64, (i + start) as f64);
        let w = 0.5 - 0.5 * (2.0 * PI * fi / fnn).cos();
        let ph = 2.0 * PI * freq * t / rate;
        re += w * f64::from(v) * ph.sin();
        im += w * f64::from(v) * ph.cos();
        wsum += w;
    }
    // For v = A sin(ph + phi): re ~ A cos(phi) * wsum / 2, im ~ A sin(phi) * wsum / 2.
    let amp = 2.0 * (re * re + im * im).sqrt() / wsum;
    (amp, im.atan2(re))
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

fn upsample(input: &[i16]) -> Vec<i16> {
    let mut up = Upsampler::new();
    let mut out = vec![0i16; 2 * input.len()];
    for (i, o) in input.chunks_exact(8).zip(out.chunks_exact_mut(16)) {
        up.process(i.try_into().expect("8 samples"), o.try_into().expect("16 samples"));
    }
    out
}

fn downsample(input: &[i16]) -> Vec<i16> {
    let mut down = Downsampler::new();
    let mut out = vec![0i16; input.len() / 2];
    for (i, o) in input.chunks_exact(16).zip(out.chunks_exact_mut(8)) {
        down.process(i.try_into().expect("16 samples"), o.try_into().expect("8 samples"));
    }
    out
}

/// The phase difference wrapped to (-pi, pi].
fn wrap(phase: f64) -> f64 {
    let p = phase.rem_euclid(2.0 * PI);
    if p > PI {
        p - 2.0 * PI
    } else {
        p
    }
}

#[test]
fn upsampler_passband_images_and_delay() {
    let mut worst_pass: f64 = 0.0;
    let mut worst_image = f64::NEG_INFINITY;
    for step in 1..=34 {
        let f = 100.0 * f64::from(step);
        let out = upsample(&tone(f, 8000.0, 8000));
        let tail = &out[SETTLE..];
        let (amp, phase) = measure(tail, SETTLE, f, 16_000.0);
        let gain = db(amp / AMPLITUDE);
        worst_pass = worst_pass.max(gain.abs());
        assert!(gain.abs() < 0.5, "upsampler gain at {f} Hz is {gain:.3} dB");
        // The image of f sits at 8000 - f at the 16 kHz rate.
        let (image, _) = measure(tail, SETTLE, 8000.0 - f, 16_000.0);
        let rejection = db(image / AMPLITUDE);
        worst_image = worst_image.max(rejection);
        assert!(rejection <= -50.0, "upsampler image of {f} Hz at {} Hz is {rejection:.1} dB", 8000.0 - f);
        // Linear phase with the documented delay: the output is the input DELAY_16K samples late.
        #[allow(clippy::cast_precision_loss)]
        let expected = -2.0 * PI * f * Upsampler::DELAY_16K as f64 / 16_000.0;
        let err = wrap(phase - expected);
        assert!(
            err.abs() < 0.01,
            "upsampler phase at {f} Hz off by {err:.4} rad from a {}-sample delay",
            Upsampler::DELAY_16K
        );
    }
    eprintln!("upsampler: passband within {worst_pass:.3} dB to 3.4 kHz, images <= {worst_image:.1} dB");
}

#[test]
fn downsampler_passband_aliases_and_delay() {
    let mut worst_pass: f64 = 0.0;
    let mut worst_alias = f64::NEG_INFINITY;
    for step in 1..=34 {
        let f = 100.0 * f64::from(step);
        let out = downsample(&tone(f, 16_000.0, 16_000));
        let tail = &out[SETTLE..];
        let (amp, phase) = measure(tail, SETTLE, f, 8000.0);
        let gain = db(amp / AMPLITUDE);
        worst_pass = worst_pass.max(gain.abs());
        assert!(gain.abs() < 0.5, "downsampler gain at {f} Hz is {gain:.3} dB");
        #[allow(clippy::cast_precision_loss)]
        let expected = -2.0 * PI * f * Downsampler::DELAY_8K as f64 / 8000.0;
        let err = wrap(phase - expected);
        assert!(
            err.abs() < 0.01,
            "downsampler phase at {f} Hz off by {err:.4} rad from a {}-sample delay",
            Downsampler::DELAY_8K
        );
    }
    // Tones from 4.6 to 7.9 kHz alias to 8000 - f once decimated; they must be filtered first.
    for step in 46..=79 {
        let f = 100.0 * f64::from(step);
        let out = downsample(&tone(f, 16_000.0, 16_000));
        let (alias, _) = measure(&out[SETTLE..], SETTLE, 8000.0 - f, 8000.0);
        let rejection = db(alias / AMPLITUDE);
        worst_alias = worst_alias.max(rejection);
        assert!(rejection <= -50.0, "downsampler alias of {f} Hz at {} Hz is {rejection:.1} dB", 8000.0 - f);
    }
    eprintln!("downsampler: passband within {worst_pass:.3} dB to 3.4 kHz, aliases <= {worst_alias:.1} dB");
}

#[test]
fn any_length_and_block_forms_agree_and_full_scale_saturates() {
    // A full-scale square wave overshoots (Gibbs): the output must saturate, not wrap.
    let input: Vec<i16> = (0..800).map(|i| if (i / 20) % 2 == 0 { i16::MAX } else { i16::MIN }).collect();
    let blocks = upsample(&input);
    let mut up = Upsampler::new();
    let mut uneven = vec![0i16; 1600];
    let mut done = 0;
    for piece in input.chunks(13) {
        done += 2 * up.process_into(piece, &mut uneven[done..]);
    }
    assert_eq!(done, 1600);
    assert_eq!(blocks, uneven, "block and any-length upsampling differ");
    // Near each edge the true output overshoots: it must stay at the rail with the same sign,
    // never wrap to the other one. Counting swings between +-16000 (with hysteresis) finds one
    // per input edge; a wrap would add two.
    let mut high = false;
    let mut swings = 0;
    for &v in &blocks {
        if (high && v < -16_000) || (!high && v > 16_000) {
            high = !high;
            swings += 1;
        }
    }
    // The start from silence to MAX is one swing, then each of the 39 edges.
    assert_eq!(swings, 1 + input.windows(2).filter(|w| w[0] != w[1]).count(), "one swing per input edge");
    assert!(blocks.contains(&i16::MAX) && blocks.contains(&i16::MIN), "the overshoot was saturated");

    let down_blocks = downsample(&blocks);
    let mut down = Downsampler::new();
    let mut uneven = vec![0i16; 800];
    let mut done = 0;
    for piece in blocks.chunks(26) {
        done += down.process_into(piece, &mut uneven[done..]);
    }
    assert_eq!(done, 800);
    assert_eq!(down_blocks, uneven, "block and any-length downsampling differ");
}
