//! Our G.729A encoder against bcg729's on varied signals: the bitstreams must be identical.
//!
//! bcg729 (GPLv3) runs as a separate C oracle process (`tests/c/g729_oracle.c`, built with gcc
//! into `target/peers/`); a missing gcc or libbcg729-dev fails the test naming the Debian package.
//! A mismatch prints the first differing frame and parameter, and how far bcg729's decoder output
//! of our stream is from its output of its own stream.

// The signal generators turn bounded, clamped floats into samples and sample counts.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use media_dsp::g729::{bits, Encoder};

#[path = "common/oracle.rs"]
mod oracle;

const ORACLE: oracle::Oracle = oracle::Oracle { name: "g729_oracle", lib: "bcg729", package: "libbcg729-dev" };

const NAMES: [&str; 11] = ["L0|L1", "L2|L3", "P1", "P0", "C1", "S1", "GA1|GB1", "P2", "C2", "S2", "GA2|GB2"];

fn bcg729_encode(pcm: &[i16]) -> Vec<u8> {
    let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    let out = ORACLE.run(&["encode"], &bytes);
    assert_eq!(out.len(), pcm.len() / 80 * 10, "bcg729 frame count");
    out
}

fn bcg729_decode(frames: &[u8]) -> Vec<i16> {
    let out = ORACLE.run(&["decode"], frames);
    out.chunks_exact(2).map(|p| i16::from_le_bytes([p[0], p[1]])).collect()
}

fn our_encode(pcm: &[i16]) -> Vec<u8> {
    let mut enc = Encoder::new();
    let mut out = Vec::with_capacity(pcm.len() / 8);
    for f in pcm.chunks_exact(80) {
        out.extend_from_slice(&enc.encode(f.try_into().expect("80 samples")));
    }
    out
}

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

/// Vowel-like: a pulse train with gliding pitch through two resonators, syllable envelope,
/// with short noise bursts between syllables.
fn speech_like(seconds: f64, seed: u64, gain: f64) -> Vec<i16> {
    let n = (seconds * 8000.0) as usize;
    let mut rng = Lcg(seed);
    let mut phase = 0.0;
    let res = [(650.0, 90.0), (1500.0, 120.0)];
    let mut st = [[0.0f64; 2]; 2];
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let f0 = 100.0 + 60.0 * (2.0 * std::f64::consts::PI * 0.5 * t).sin();
            phase += f0 / 8000.0;
            let voiced = (t * 2.5).fract() < 0.8;
            let mut x = if voiced {
                if phase >= 1.0 {
                    phase -= 1.0;
                    1.0
                } else {
                    0.0
                }
            } else {
                0.1 * rng.gauss()
            };
            for (k, &(f, bw)) in res.iter().enumerate() {
                let r = (-std::f64::consts::PI * bw / 8000.0).exp();
                let c = 2.0 * r * (2.0 * std::f64::consts::PI * f / 8000.0).cos();
                let y = x + c * st[k][0] - r * r * st[k][1];
                st[k][1] = st[k][0];
                st[k][0] = y;
                x = y * (1.0 - r);
            }
            let env = 0.2 + 0.8 * (std::f64::consts::PI * (t * 2.5).fract()).sin();
            to_i16(gain * 40000.0 * env * x)
        })
        .collect()
}

fn tones(seconds: f64) -> Vec<i16> {
    (0..(seconds * 8000.0) as usize)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let w = 2.0 * std::f64::consts::PI;
            if (i / 2000) % 2 == 0 {
                to_i16(7000.0 * ((w * 770.0 * t).sin() + (w * 1336.0 * t).sin()))
            } else {
                to_i16(12000.0 * (w * (300.0 + 1500.0 * t) * t).sin())
            }
        })
        .collect()
}

fn noise(seconds: f64, seed: u64, rms: f64) -> Vec<i16> {
    let mut rng = Lcg(seed);
    (0..(seconds * 8000.0) as usize).map(|_| to_i16(rms * rng.gauss())).collect()
}

/// 40 segments of 0.1-0.6 s, each of a randomly chosen kind and level: coloured noise (one
/// random resonance), a sine, speech-like, silence, a DC step with noise, or a clipped square.
fn random_segments(seed: u64) -> Vec<i16> {
    let mut rng = Lcg(seed);
    let mut out = Vec::new();
    for k in 0..40u64 {
        let n = 800 + (rng.next() * 4000.0) as usize;
        let level = 10f64.powf(1.0 + 3.6 * rng.next());
        match (rng.next() * 6.0) as u32 {
            0 => {
                let (r, w) = (0.5 + 0.49 * rng.next(), std::f64::consts::PI * rng.next());
                let (mut y1, mut y2) = (0.0, 0.0);
                for _ in 0..n {
                    let y = rng.gauss() + 2.0 * r * w.cos() * y1 - r * r * y2;
                    y2 = y1;
                    y1 = y;
                    out.push(to_i16(level * y * (1.0 - r)));
                }
            }
            1 => {
                let f = 50.0 + 3900.0 * rng.next();
                out.extend((0..n).map(|i| to_i16(level * (2.0 * std::f64::consts::PI * f * i as f64 / 8000.0).sin())));
            }
            2 => out.extend(speech_like(n as f64 / 8000.0, seed * 100 + k, level / 3000.0)),
            3 => out.extend(std::iter::repeat_n(0i16, n)),
            4 => {
                let dc = level * (rng.next() - 0.5);
                out.extend((0..n).map(|_| to_i16(dc + 30.0 * rng.gauss())));
            }
            _ => {
                let period = 2 + (rng.next() * 200.0) as usize;
                out.extend((0..n).map(|i| to_i16(if (i / period) % 2 == 0 { 3.0 * level } else { -3.0 * level })));
            }
        }
    }
    out
}

/// Frame-sized pieces of extremes: full-scale noise, constant +-32767/-32768, alternating
/// extremes, single samples, each 1-3 frames long, to reach the saturating and wrapping paths.
fn chaos(seed: u64) -> Vec<i16> {
    let mut rng = Lcg(seed);
    let mut out = Vec::new();
    while out.len() < 16_000 {
        let n = 40 + (rng.next() * 200.0) as usize;
        let kind = (rng.next() * 5.0) as u32;
        for i in 0..n {
            out.push(match kind {
                0 => to_i16(65536.0 * (rng.next() - 0.5)),
                1 => 32767,
                2 => -32768,
                3 => {
                    if i % 2 == 0 {
                        32767
                    } else {
                        -32768
                    }
                }
                _ => {
                    if i == n / 2 {
                        -32768
                    } else {
                        0
                    }
                }
            });
        }
    }
    out
}

fn signals() -> Vec<(&'static str, Vec<i16>)> {
    let clipped: Vec<i16> = speech_like(1.5, 9, 1.0).iter().map(|&s| s.saturating_mul(10)).collect();
    let mut mixed = Vec::new();
    for k in 0..4u64 {
        mixed.extend(speech_like(0.8, 20 + k, 0.2 + 0.4 * k as f64));
        mixed.extend(vec![0i16; 400]);
        mixed.extend(noise(0.2, 30 + k, 500.0 * k as f64));
        mixed.extend(vec![-1200i16; 320]);
        mixed.extend(tones(0.3));
    }
    let square: Vec<i16> = (0..8000).map(|i| if (i / 23) % 2 == 0 { 32767 } else { -32768 }).collect();
    let impulses: Vec<i16> = (0..8000).map(|i| if i % 97 == 0 { 30000 } else { 0 }).collect();
    let mut rng = Lcg(77);
    let bursts: Vec<i16> = (0..16000)
        .map(|i| {
            let level = [0.0, 50.0, 3000.0, 30000.0][(i / 1200) % 4];
            to_i16(level * rng.gauss())
        })
        .collect();
    vec![
        ("speech-like", speech_like(3.0, 1, 1.0)),
        ("long speech-like, 20 s", speech_like(20.0, 5, 0.7)),
        ("full-scale square wave", square),
        ("impulse train", impulses),
        ("noise bursts up to saturation", bursts),
        ("random segments A", random_segments(1)),
        ("random segments B", random_segments(2)),
        ("random segments C", random_segments(3)),
        ("frame-sized extremes", chaos(4)),
        ("quiet speech-like", speech_like(1.5, 2, 0.02)),
        ("tones and sweep", tones(2.0)),
        ("white noise", noise(1.5, 3, 3000.0)),
        ("loud white noise", noise(1.0, 4, 14000.0)),
        ("silence", vec![0; 4000]),
        ("DC", vec![9000; 4000]),
        ("full-scale clipping", clipped),
        ("mixed", mixed),
    ]
}

/// Segmental SNR (dB, 10 ms segments, each clamped to [-10, 60]) of `test` against `reference`.
fn seg_snr(reference: &[i16], test: &[i16]) -> f64 {
    let mut sum = 0.0;
    let mut n = 0;
    for (r, t) in reference.chunks(80).zip(test.chunks(80)) {
        let sig: f64 = r.iter().map(|&v| f64::from(v).powi(2)).sum();
        let err: f64 = r.iter().zip(t).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum();
        sum += (10.0 * ((sig + 1.0) / (err + 1.0)).log10()).clamp(-10.0, 60.0);
        n += 1;
    }
    sum / f64::from(n.max(1))
}

#[test]
fn bitstream_matches_bcg729() {
    let mut failures = Vec::new();
    for (name, pcm) in signals() {
        let ours = our_encode(&pcm);
        let theirs = bcg729_encode(&pcm);
        assert_eq!(ours.len(), theirs.len(), "{name}: frame count");
        let frames = ours.len() / 10;
        let differing = ours.chunks(10).zip(theirs.chunks(10)).filter(|(a, b)| a != b).count();
        if differing == 0 {
            eprintln!("{name}: {frames} frames, bit-exact");
            continue;
        }
        let first = ours.chunks(10).zip(theirs.chunks(10)).position(|(a, b)| a != b).unwrap_or(0);
        let ours_prm = bits::unpack(ours[first * 10..first * 10 + 10].try_into().expect("10 bytes"));
        let theirs_prm = bits::unpack(theirs[first * 10..first * 10 + 10].try_into().expect("10 bytes"));
        let k = (0..11).find(|&k| ours_prm[k] != theirs_prm[k]).unwrap_or(0);
        let dec_ours = bcg729_decode(&ours);
        let dec_theirs = bcg729_decode(&theirs);
        let msg = format!(
            "{name}: {differing} of {frames} frames differ; first frame {first}, parameter {} ours {} bcg729 {}; \
             bcg729-decoded ours vs bcg729-decoded bcg729: {:.1} dB segmental SNR",
            NAMES[k],
            ours_prm[k],
            theirs_prm[k],
            seg_snr(&dec_theirs, &dec_ours)
        );
        eprintln!("{msg}");
        failures.push(msg);
    }
    assert!(failures.is_empty(), "encoder differs from bcg729:\n{}", failures.join("\n"));
}

/// `dsp-tool g729 encode` writes bcg729's bitstream, pads a partial last frame with silence and
/// refuses a file that is not whole 16-bit samples.
#[test]
fn dsp_tool_encode_matches_bcg729() {
    let tool = env!("CARGO_BIN_EXE_dsp-tool");
    let dir = std::env::temp_dir().join(format!("g729_encoder_tool.{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut pcm = speech_like(1.0, 11, 1.0);
    pcm.truncate(pcm.len() - 30);
    let input = dir.join("in.raw");
    let output = dir.join("out.g729");
    let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(&input, &bytes).expect("write input");
    let run = |inp: &std::path::Path| {
        std::process::Command::new(tool)
            .args(["g729", "encode", "--in"])
            .arg(inp)
            .arg("--out")
            .arg(&output)
            .output()
            .expect("run dsp-tool")
    };
    let out = run(&input);
    assert!(out.status.success(), "dsp-tool g729 encode failed: {}", String::from_utf8_lossy(&out.stderr));
    let frames = std::fs::read(&output).expect("read output");
    pcm.resize(pcm.len().div_ceil(80) * 80, 0);
    assert_eq!(frames.len(), 100 * 10, "a partial last frame still gives a frame");
    assert!(frames == bcg729_encode(&pcm), "dsp-tool's frames differ from bcg729's");

    std::fs::write(&input, &bytes[..bytes.len() - 1]).expect("write odd input");
    let out = run(&input);
    assert_eq!(out.status.code(), Some(1), "an odd byte count must fail, not be a usage error");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("16-bit samples"),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A longer sweep (20 random-segment and 20 extreme files, about 2 minutes of audio): it costs about
/// 12 s and reaches encoder paths the shorter signals above may not, so it runs with every test.
#[test]
fn random_segments_sweep_matches_bcg729() {
    for seed in 10..50 {
        let pcm = if seed % 2 == 0 { random_segments(seed) } else { chaos(seed) };
        let (ours, theirs) = (our_encode(&pcm), bcg729_encode(&pcm));
        let first = ours.chunks(10).zip(theirs.chunks(10)).position(|(a, b)| a != b);
        assert!(first.is_none(), "seed {seed}: first differing frame {first:?}");
    }
}
