//! The eight-channel G.722 coder (`EncoderLanes`/`DecoderLanes`) against eight one-channel codecs.
//!
//! The one-channel `Encoder` and `Decoder` are proven bit-exact with spandsp by
//! `tests/g722_spandsp.rs`; here every lane kernel this CPU runs (the scalar reference and AVX2)
//! must give the same octets and samples as eight of them, lane by lane, on eight different
//! signals at once: speech-like bursts, a sweep, full-scale and quiet noise, clipping square
//! waves, DC steps, silence and a tone pair. Those reach every saturation of the ADPCM (the
//! scale factors' limits, the pole limits, the QMF's 16-bit overshoot). Decoding is checked on
//! the encoders' codes and on random octets (codes no encoder sends, such as lower-band 0-3),
//! and resetting one lane mid-stream must restart that channel alone.

use media_dsp::g722::{Decoder, DecoderLanes, Encoder, EncoderLanes, LaneKernel, Rate, LANES};

/// xorshift64*, so every run checks the same signals.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [-1, 1).
    fn uniform(&mut self) -> f64 {
        let top = u32::try_from(self.next() >> 32).unwrap_or(0);
        f64::from(top) / f64::from(1u32 << 31) - 1.0
    }
}

fn to_i16(x: f64) -> i16 {
    // The clamp makes the cast exact.
    #[allow(clippy::cast_possible_truncation)]
    let v = x.round().clamp(-32768.0, 32767.0) as i16;
    v
}

/// Eight different 16 kHz signals of `n` samples, one per lane.
fn signals(n: usize) -> [Vec<i16>; LANES] {
    let mut rng = Rng(0x0DDB_1A5E_5BAD_5EED);
    let tau = std::f64::consts::TAU;
    #[allow(clippy::cast_precision_loss)]
    let t = |i: usize| i as f64 / 16_000.0;
    // Speech-like: a wandering resonance in bursts with gaps, levels from -30 to -3 dBFS.
    let mut speech = Vec::with_capacity(n);
    let (mut y1, mut y2) = (0.0f64, 0.0f64);
    while speech.len() < n {
        let burst = 800 + usize::try_from(rng.next() % 3200).unwrap_or(0);
        let level = 32768.0 * 10f64.powf(-(3.0 + 27.0 * (rng.uniform() + 1.0) / 2.0) / 20.0);
        let w = tau * (300.0 + 3000.0 * (rng.uniform() + 1.0) / 2.0) / 16_000.0;
        for _ in 0..burst {
            let y = rng.uniform() * 0.1 + 1.9 * w.cos() * y1 - 0.9025 * y2;
            y2 = y1;
            y1 = y;
            speech.push(to_i16(level * y));
        }
        speech.extend(std::iter::repeat_n(0i16, usize::try_from(rng.next() % 2400).unwrap_or(0)));
    }
    speech.truncate(n);
    let mut phase = 0.0f64;
    let sweep = (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let u = i as f64 / n as f64;
            phase += tau * 50.0 * (7950.0f64 / 50.0).powf(u) / 16_000.0;
            to_i16(30_000.0 * phase.sin())
        })
        .collect();
    let loud = (0..n).map(|_| to_i16(rng.uniform() * 32768.0)).collect();
    let quiet = (0..n).map(|_| to_i16(rng.uniform() * 300.0)).collect();
    // Full-scale square waves whose period changes every 4000 samples: the hardest clipping.
    let square = (0..n)
        .map(|i| {
            let period = 4 + 2 * ((i / 4000) % 40);
            if (i / (period / 2)) % 2 == 0 {
                i16::MAX
            } else {
                i16::MIN
            }
        })
        .collect();
    let dc = (0..n).map(|i| [0i16, 32767, -32768, 12000, -5][(i / 3000) % 5]).collect();
    let tones = (0..n).map(|i| to_i16(16_000.0 * (tau * 697.0 * t(i)).sin() + 16_000.0 * (tau * 1477.0 * t(i)).sin()));
    [speech, sweep, loud, quiet, square, dc, vec![0; n], tones.collect()]
}

/// Encodes the lanes' signals 1 ms at a time; `reset` = (chunk, lane) resets that lane first.
fn encode_lanes(enc: &mut EncoderLanes, pcm: &[Vec<i16>; LANES], reset: Option<(usize, usize)>) -> [Vec<u8>; LANES] {
    let chunks = pcm[0].len() / 16;
    let mut out: [Vec<u8>; LANES] = std::array::from_fn(|_| Vec::with_capacity(chunks * 8));
    for c in 0..chunks {
        if let Some((at, lane)) = reset {
            if at == c {
                enc.reset(lane);
            }
        }
        let input: [[i16; 16]; LANES] =
            std::array::from_fn(|l| pcm[l][16 * c..16 * c + 16].try_into().expect("16 samples"));
        let mut codes = [[0u8; 8]; LANES];
        enc.encode_chunk(&input, &mut codes);
        for (o, c) in out.iter_mut().zip(&codes) {
            o.extend_from_slice(c);
        }
    }
    out
}

fn decode_lanes(dec: &mut DecoderLanes, codes: &[Vec<u8>; LANES], reset: Option<(usize, usize)>) -> [Vec<i16>; LANES] {
    let chunks = codes[0].len() / 8;
    let mut out: [Vec<i16>; LANES] = std::array::from_fn(|_| Vec::with_capacity(chunks * 16));
    for c in 0..chunks {
        if let Some((at, lane)) = reset {
            if at == c {
                dec.reset(lane);
            }
        }
        let input: [[u8; 8]; LANES] = std::array::from_fn(|l| codes[l][8 * c..8 * c + 8].try_into().expect("8 codes"));
        let mut pcm = [[0i16; 16]; LANES];
        dec.decode_chunk(&input, &mut pcm);
        for (o, p) in out.iter_mut().zip(&pcm) {
            o.extend_from_slice(p);
        }
    }
    out
}

/// One channel through the one-channel encoder; `reset_at` starts a fresh encoder at that chunk.
fn encode_one(pcm: &[i16], reset_at: Option<usize>) -> Vec<u8> {
    let mut out = vec![0u8; pcm.len() / 2];
    match reset_at {
        None => {
            Encoder::new(Rate::Kbps64).encode(pcm, &mut out);
        }
        Some(c) => {
            Encoder::new(Rate::Kbps64).encode(&pcm[..16 * c], &mut out[..8 * c]);
            Encoder::new(Rate::Kbps64).encode(&pcm[16 * c..], &mut out[8 * c..]);
        }
    }
    out
}

fn decode_one(codes: &[u8], reset_at: Option<usize>) -> Vec<i16> {
    let mut out = vec![0i16; codes.len() * 2];
    match reset_at {
        None => {
            Decoder::new(Rate::Kbps64).decode(codes, &mut out);
        }
        Some(c) => {
            Decoder::new(Rate::Kbps64).decode(&codes[..8 * c], &mut out[..16 * c]);
            Decoder::new(Rate::Kbps64).decode(&codes[8 * c..], &mut out[16 * c..]);
        }
    }
    out
}

/// Asserts equality and says where the first differences are.
fn check<T: PartialEq + std::fmt::Debug>(what: &str, ours: &[T], reference: &[T]) {
    assert_eq!(ours.len(), reference.len(), "{what}: length");
    let bad: Vec<String> = ours
        .iter()
        .zip(reference)
        .enumerate()
        .filter(|(_, (o, r))| o != r)
        .take(6)
        .map(|(i, (o, r))| format!("[{i}] lanes {o:?} one-channel {r:?}"))
        .collect();
    assert!(bad.is_empty(), "{what}: first differences {bad:?}");
}

#[test]
fn every_lane_kernel_codes_like_eight_one_channel_codecs() {
    let n = 16_000 * 3;
    let pcm = signals(n);
    let expected_codes: Vec<Vec<u8>> = pcm.iter().map(|p| encode_one(p, None)).collect();
    let expected_pcm: Vec<Vec<i16>> = expected_codes.iter().map(|c| decode_one(c, None)).collect();
    // The signals must really be hard: the square waves drive the decoder to its 16-bit rails.
    assert!(expected_pcm[4].iter().any(|&x| x == i16::MAX || x == i16::MIN), "no decoded sample at a rail");
    for &kernel in LaneKernel::available() {
        eprintln!("checking the {kernel:?} lane kernel");
        let mut enc = EncoderLanes::with_kernel(kernel).expect("an available kernel");
        assert_eq!(enc.kernel(), kernel);
        let codes = encode_lanes(&mut enc, &pcm, None);
        for (lane, (ours, reference)) in codes.iter().zip(&expected_codes).enumerate() {
            check(&format!("{kernel:?} encode, lane {lane}"), ours, reference);
        }
        let mut dec = DecoderLanes::with_kernel(kernel).expect("an available kernel");
        assert_eq!(dec.kernel(), kernel);
        let out = decode_lanes(&mut dec, &codes, None);
        for (lane, (ours, reference)) in out.iter().zip(&expected_pcm).enumerate() {
            check(&format!("{kernel:?} decode, lane {lane}"), ours, reference);
        }
    }
}

#[test]
fn every_lane_kernel_decodes_random_octets_like_eight_decoders() {
    let mut rng = Rng(0x5EED_0F0C_7E75);
    let codes: [Vec<u8>; LANES] = std::array::from_fn(|_| (0..16_000).map(|_| rng.next().to_le_bytes()[7]).collect());
    for &kernel in LaneKernel::available() {
        let mut dec = DecoderLanes::with_kernel(kernel).expect("an available kernel");
        let out = decode_lanes(&mut dec, &codes, None);
        for (lane, (ours, c)) in out.iter().zip(&codes).enumerate() {
            check(&format!("{kernel:?} decode of random octets, lane {lane}"), ours, &decode_one(c, None));
        }
    }
}

#[test]
fn resetting_one_lane_restarts_that_channel_alone() {
    let n = 16_000;
    let pcm = signals(n);
    // Lane 2 (loud noise) is reset at chunk 300, with every predictor far from its reset state.
    let (at, lane) = (300, 2);
    for &kernel in LaneKernel::available() {
        let mut enc = EncoderLanes::with_kernel(kernel).expect("an available kernel");
        let codes = encode_lanes(&mut enc, &pcm, Some((at, lane)));
        let mut dec = DecoderLanes::with_kernel(kernel).expect("an available kernel");
        let out = decode_lanes(&mut dec, &codes, Some((at, lane)));
        for l in 0..LANES {
            let reset_at = (l == lane).then_some(at);
            let expected = encode_one(&pcm[l], reset_at);
            check(&format!("{kernel:?} encode with a reset, lane {l}"), &codes[l], &expected);
            check(&format!("{kernel:?} decode with a reset, lane {l}"), &out[l], &decode_one(&expected, reset_at));
        }
        // Without the reset, lane 2 would have coded differently after chunk 300.
        assert_ne!(codes[lane], encode_one(&pcm[lane], None), "{kernel:?}: the reset changed nothing");
    }
}

#[test]
#[should_panic(expected = "out of 0..8")]
fn a_lane_past_the_last_is_refused() {
    EncoderLanes::new().reset(LANES);
}
