//! Our G.729A against bcg729 through a C oracle process, both directions, on varied signals.
//!
//! `tests/c/g729_oracle.c` runs bcg729's encoder or decoder over a file; bcg729 is GPLv3, so it
//! runs as a separate program and is never linked into ours. The oracle is built with gcc once
//! into `target/peers/`. A missing gcc or bcg729 header fails the test with the Debian package to
//! install: this test never skips. Failures print the first differing frame and sample.
//!
//! The decoder must be bit-exact with bcg729: on bcg729's own bitstreams of varied signals, on
//! random bitstreams (bad pitch parity included) and with lost frames concealed.

// The signal generators turn bounded, clamped floats into samples and sample counts.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use media_dsp::g729::Decoder;

#[path = "common/oracle.rs"]
mod oracle;

const ORACLE: oracle::Oracle = oracle::Oracle { name: "g729_oracle", lib: "bcg729", package: "libbcg729-dev" };

fn run_oracle(mode: &str, input: &[u8]) -> Vec<u8> {
    ORACLE.run(&[mode], input)
}

fn bcg729_encode(pcm: &[i16]) -> Vec<u8> {
    let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    let out = run_oracle("encode", &bytes);
    assert_eq!(out.len(), pcm.len() / 80 * 10, "bcg729 frame count");
    out
}

fn bcg729_decode(frames: &[u8]) -> Vec<i16> {
    let out = run_oracle("decode", frames);
    assert_eq!(out.len(), frames.len() / 10 * 160, "bcg729 sample count");
    out.chunks_exact(2).map(|p| i16::from_le_bytes([p[0], p[1]])).collect()
}

fn our_decode(frames: &[u8]) -> Vec<i16> {
    let mut dec = Decoder::new();
    let mut pcm = Vec::with_capacity(frames.len() * 8);
    for f in frames.chunks_exact(10) {
        let mut out = [0i16; 80];
        dec.decode(Some(f.try_into().expect("10 bytes")), &mut out);
        pcm.extend_from_slice(&out);
    }
    pcm
}

/// A small deterministic generator, so every run tests the same signals.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
    fn gauss(&mut self) -> f64 {
        (0..12).map(|_| self.next()).sum::<f64>() - 6.0
    }
}

fn to_i16(x: f64) -> i16 {
    x.round().clamp(-32768.0, 32767.0) as i16
}

/// Voiced speech-like signal: a glottal pulse train with drifting pitch through three formant
/// resonators, with syllable-like amplitude and short unvoiced (noise) segments.
fn speech_like(seconds: f64, seed: u64, level: f64) -> Vec<i16> {
    let n = (seconds * 8000.0) as usize;
    let mut rng = Lcg(seed);
    let formants = [(700.0, 130.0), (1220.0, 70.0), (2600.0, 160.0)];
    let mut state = [[0.0f64; 2]; 3];
    let mut phase = 0.0;
    let mut raw = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / 8000.0;
        let f0 = 110.0 + 40.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
        phase += f0 / 8000.0;
        let voiced = (t * 3.0).fract() < 0.75;
        let mut x = if voiced {
            if phase >= 1.0 {
                phase -= 1.0;
                1.0
            } else {
                0.0
            }
        } else {
            0.05 * rng.gauss()
        };
        for (k, &(f, bw)) in formants.iter().enumerate() {
            let r = (-std::f64::consts::PI * bw / 8000.0).exp();
            let c = 2.0 * r * (2.0 * std::f64::consts::PI * f / 8000.0).cos();
            let y = x + c * state[k][0] - r * r * state[k][1];
            state[k][1] = state[k][0];
            state[k][0] = y;
            x = y * (1.0 - r);
        }
        let env = 0.3 + 0.7 * (std::f64::consts::PI * (t * 3.0).fract()).sin().abs();
        raw.push(env * x);
    }
    // Scale to an RMS of `level` x 3000 (about -18 dBm0 at level 1), clipping what exceeds 16 bits.
    let rms = (raw.iter().map(|v| v * v).sum::<f64>() / raw.len().max(1) as f64).sqrt().max(1e-12);
    raw.iter().map(|v| to_i16(v / rms * level * 3000.0)).collect()
}

fn tones(seconds: f64) -> Vec<i16> {
    let n = (seconds * 8000.0) as usize;
    let pairs = [(697.0, 1209.0), (770.0, 1336.0), (852.0, 1477.0), (941.0, 1633.0)];
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let (a, b) = pairs[(i / 1600) % 4];
            if (i / 800) % 2 == 0 {
                let w = 2.0 * std::f64::consts::PI;
                to_i16(6000.0 * ((w * a * t).sin() + (w * b * t).sin()))
            } else {
                // A sine sweep from 200 Hz to 3400 Hz in the gaps between digits.
                let f = 200.0 + 3200.0 * ((i % 800) as f64 / 800.0);
                to_i16(9000.0 * (2.0 * std::f64::consts::PI * f * t).sin())
            }
        })
        .collect()
}

fn noise(seconds: f64, seed: u64, rms: f64) -> Vec<i16> {
    let mut rng = Lcg(seed);
    (0..(seconds * 8000.0) as usize).map(|_| to_i16(rms * rng.gauss())).collect()
}

/// Constant levels from full-scale negative to full-scale positive, half a second each.
fn dc_steps() -> Vec<i16> {
    [-32768i16, -20000, -3, 0, 1, 700, 12000, 32767].iter().flat_map(|&v| std::iter::repeat_n(v, 4000)).collect()
}

fn clipped(seconds: f64) -> Vec<i16> {
    speech_like(seconds, 7, 1.0).iter().map(|&s| s.saturating_mul(8)).collect()
}

fn signals() -> Vec<(&'static str, Vec<i16>)> {
    let mut long = Vec::new();
    for k in 0..6u64 {
        long.extend(speech_like(2.0, 100 + k, 0.3 + 0.3 * k as f64));
        long.extend(noise(0.3, 200 + k, 300.0 * k as f64));
        long.extend(tones(0.5));
    }
    vec![
        ("speech-like", speech_like(4.0, 1, 1.0)),
        ("quiet speech-like", speech_like(2.0, 2, 0.05)),
        ("DTMF and sweeps", tones(4.0)),
        ("white noise", noise(2.0, 3, 3000.0)),
        ("loud white noise", noise(1.0, 4, 12000.0)),
        ("silence", vec![0; 8000]),
        ("DC steps", dc_steps()),
        ("full-scale clipping", clipped(2.0)),
        ("long mixed file", long),
    ]
}

fn first_diff<T: PartialEq + Copy + std::fmt::Debug>(ours: &[T], theirs: &[T], per_frame: usize) -> Option<String> {
    if ours.len() != theirs.len() {
        return Some(format!("lengths differ: ours {}, bcg729 {}", ours.len(), theirs.len()));
    }
    let bad = ours.iter().zip(theirs).filter(|(a, b)| a != b).count();
    ours.iter().zip(theirs).position(|(a, b)| a != b).map(|i| {
        format!(
            "{bad} of {} differ; first at frame {} index {}: ours {:?}, bcg729 {:?}",
            ours.len(),
            i / per_frame,
            i % per_frame,
            ours[i],
            theirs[i]
        )
    })
}

/// bcg729's decoder over frames some of which are lost (`None`): the oracle's lossy mode takes a
/// flag byte before each frame.
fn bcg729_decode_lossy(frames: &[Option<[u8; 10]>]) -> Vec<i16> {
    let mut input = Vec::with_capacity(frames.len() * 11);
    for f in frames {
        input.push(u8::from(f.is_none()));
        input.extend_from_slice(&f.unwrap_or([0; 10]));
    }
    let out = run_oracle("decode-lossy", &input);
    assert_eq!(out.len(), frames.len() * 160, "bcg729 sample count");
    out.chunks_exact(2).map(|p| i16::from_le_bytes([p[0], p[1]])).collect()
}

fn our_decode_lossy(frames: &[Option<[u8; 10]>]) -> Vec<i16> {
    let mut dec = Decoder::new();
    let mut pcm = Vec::with_capacity(frames.len() * 80);
    for f in frames {
        let mut out = [0i16; 80];
        dec.decode(f.as_ref(), &mut out);
        pcm.extend_from_slice(&out);
    }
    pcm
}

/// Our decoder against bcg729's on bcg729's own bitstreams of every test signal: identical
/// samples, every one of them.
#[test]
fn decoder_is_bit_exact_with_bcg729_on_its_own_bitstreams() {
    let mut failures = Vec::new();
    let mut frames_checked = 0;
    for (name, pcm) in signals() {
        let frames = bcg729_encode(&pcm);
        let theirs = bcg729_decode(&frames);
        let ours = our_decode(&frames);
        frames_checked += frames.len() / 10;
        if let Some(diff) = first_diff(&ours, &theirs, 80) {
            failures.push(format!("{name}: {diff}"));
        }
    }
    assert!(frames_checked > 3000, "only {frames_checked} frames compared");
    assert!(failures.is_empty(), "decoder differs from bcg729:\n{}", failures.join("\n"));
}

/// Random bytes as frames: every parameter value, half of them with a pitch parity error, and
/// gains and lags no encoder would choose (saturating the synthesis and the post-filter).
#[test]
fn decoder_is_bit_exact_with_bcg729_on_random_bitstreams() {
    let mut failures = Vec::new();
    for seed in 1..=4u64 {
        let mut rng = Lcg(seed);
        let mut frames = Vec::with_capacity(1500 * 10);
        for n in 0..1500 {
            let mut f = [0u8; 10];
            for b in f.iter_mut() {
                *b = (rng.next() * 256.0) as u8;
            }
            // Runs of repeated frames let the pitch and gain memories settle on extreme values.
            if n % 50 >= 40 {
                let prev = frames.len() - 10;
                f.copy_from_slice(&frames[prev..prev + 10]);
            }
            frames.extend_from_slice(&f);
        }
        let theirs = bcg729_decode(&frames);
        let ours = our_decode(&frames);
        if let Some(diff) = first_diff(&ours, &theirs, 80) {
            failures.push(format!("seed {seed}: {diff}"));
        }
    }
    // Constant frames held for a second each: all-zero and all-one parameters (lag 143, largest
    // gains), alternating bits, and frames with the largest gains on the shortest lags.
    let mut frames = Vec::new();
    for f in [
        [0u8; 10],
        [0xff; 10],
        [0xaa; 10],
        [0x55; 10],
        [0, 0, 0, 0, 0, 0, 0x7f, 0, 0, 0x7f],
        [0xff, 0xff, 0, 0x3f, 0xff, 0xf7, 0x1f, 0xff, 0xff, 0xf7],
    ] {
        for _ in 0..100 {
            frames.extend_from_slice(&f);
        }
    }
    if let Some(diff) = first_diff(&our_decode(&frames), &bcg729_decode(&frames), 80) {
        failures.push(format!("constant frames: {diff}"));
    }
    assert!(failures.is_empty(), "decoder differs from bcg729 on random frames:\n{}", failures.join("\n"));
}

/// Lost frames concealed (§4.4): single losses, bursts of 12, 20% at random and one 1.5 s gap,
/// each followed by recovery, on speech and on random frames; the first pattern loses the very
/// first frame too.
#[test]
fn concealment_is_bit_exact_with_bcg729() {
    let mut failures = Vec::new();
    let speech = bcg729_encode(&speech_like(6.0, 11, 1.0));
    let mut rng = Lcg(99);
    let random: Vec<u8> = (0..6000).map(|_| (rng.next() * 256.0) as u8).collect();
    for (name, bytes) in [("speech-like", &speech), ("random", &random)] {
        for pattern in 0..4u32 {
            let frames: Vec<Option<[u8; 10]>> = bytes
                .chunks_exact(10)
                .enumerate()
                .map(|(n, f)| {
                    let lost = match pattern {
                        0 => n % 7 == 0 || n % 7 == 3,
                        1 => (n % 100) >= 40 && (n % 100) < 52,
                        // 1.5 s lost: the gains fade to nothing and the energy memory to its floor.
                        3 => (100..250).contains(&n),
                        2 => rng.next() < 0.2,
                        _ => false,
                    };
                    if lost {
                        None
                    } else {
                        Some(f.try_into().expect("10 bytes"))
                    }
                })
                .collect();
            assert!(frames.iter().any(Option::is_none), "pattern {pattern} loses nothing");
            let theirs = bcg729_decode_lossy(&frames);
            let ours = our_decode_lossy(&frames);
            if let Some(diff) = first_diff(&ours, &theirs, 80) {
                failures.push(format!("{name}, loss pattern {pattern}: {diff}"));
            }
        }
    }
    assert!(failures.is_empty(), "concealment differs from bcg729:\n{}", failures.join("\n"));
}
