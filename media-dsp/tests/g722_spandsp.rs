//! Our G.722 against spandsp's, both directions, all three rates, through a C oracle process.
//!
//! `tests/c/g722_oracle.c` runs spandsp's encoder or decoder over stdin; spandsp is LGPL code, so
//! it runs as a separate program and is never linked into ours. The oracle is built with gcc once
//! into `target/peers/` and rebuilt only when its source is newer. A missing gcc or spandsp header
//! fails the test with the Debian package to install: this test never skips.
//!
//! Checked: our encoder's codes == spandsp's encoder's codes on varied signals (speech-like AR
//! noise in bursts, tone sweeps, white noise, silence, full-scale square waves that clip, DC
//! steps); our decoder's samples == spandsp's decoder's on the same codes, on spandsp-made codes
//! and on random octets; the same in spandsp's 8 kHz mode.

use media_dsp::g722::{Decoder, Encoder, Rate};

#[path = "common/oracle.rs"]
mod oracle;

const ORACLE: oracle::Oracle = oracle::Oracle { name: "g722_oracle", lib: "spandsp", package: "libspandsp-dev" };

const RATES: [Rate; 3] = [Rate::Kbps64, Rate::Kbps56, Rate::Kbps48];

/// Runs the oracle with `args`, feeding `input`, and returns its stdout.
fn run_oracle(args: &[&str], input: &[u8]) -> Vec<u8> {
    ORACLE.run(args, input)
}

fn spandsp_encode(rate: Rate, eight_k: bool, pcm: &[i16]) -> Vec<u8> {
    let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    let bps = rate.bps().to_string();
    run_oracle(&["encode", &bps, if eight_k { "8k" } else { "16k" }], &bytes)
}

fn spandsp_decode(rate: Rate, eight_k: bool, codes: &[u8]) -> Vec<i16> {
    let bps = rate.bps().to_string();
    let out = run_oracle(&["decode", &bps, if eight_k { "8k" } else { "16k" }], codes);
    out.chunks_exact(2).map(|p| i16::from_le_bytes([p[0], p[1]])).collect()
}

fn our_encode(rate: Rate, eight_k: bool, pcm: &[i16]) -> Vec<u8> {
    let mut enc = if eight_k { Encoder::new_8k(rate) } else { Encoder::new(rate) };
    let mut out = vec![0u8; pcm.len()];
    // Feed in uneven pieces (always whole pairs) so that block boundaries cannot matter.
    let mut done = 0;
    let mut written = 0;
    for piece in [2usize, 38, 160, 6, 320].iter().cycle() {
        if done >= pcm.len() {
            break;
        }
        let end = (done + piece).min(pcm.len());
        written += enc.encode(&pcm[done..end], &mut out[written..]);
        done = end;
    }
    out.truncate(written);
    out
}

fn our_decode(rate: Rate, eight_k: bool, codes: &[u8]) -> Vec<i16> {
    let mut dec = if eight_k { Decoder::new_8k(rate) } else { Decoder::new(rate) };
    let mut out = vec![0i16; codes.len() * 2];
    let mut written = 0;
    for piece in codes.chunks(77) {
        written += dec.decode(piece, &mut out[written..]);
    }
    out.truncate(written);
    out
}

/// Asserts equality and reports where the first differences are, not just that there are some.
fn check<T: PartialEq + std::fmt::Debug>(what: &str, ours: &[T], theirs: &[T]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length, ours vs spandsp");
    let bad: Vec<String> = ours
        .iter()
        .zip(theirs)
        .enumerate()
        .filter(|(_, (o, t))| o != t)
        .take(6)
        .map(|(i, (o, t))| format!("[{i}] ours {o:?} spandsp {t:?}"))
        .collect();
    let n = ours.iter().zip(theirs).filter(|(o, t)| o != t).count();
    assert!(n == 0, "{what}: {n} of {} differ, first: {bad:?}", ours.len());
}

/// Decoded samples must be equal except where spandsp's receive QMF overflows 16 bits: spandsp
/// casts the sum to `int16_t`, which wraps a full-scale overshoot to the opposite sign (a click),
/// where we saturate as G.722's LIMIT does. Such a sample must be at our rail with spandsp's on the
/// other side of zero; anything else is a real difference. Returns how many wrapped.
fn check_decoded(what: &str, ours: &[i16], theirs: &[i16]) -> usize {
    assert_eq!(ours.len(), theirs.len(), "{what}: length, ours vs spandsp");
    let mut wrapped = 0;
    let mut bad = Vec::new();
    for (i, (&o, &t)) in ours.iter().zip(theirs).enumerate() {
        if o == t {
            continue;
        }
        if (o == i16::MAX && t < 0) || (o == i16::MIN && t >= 0) {
            wrapped += 1;
        } else {
            bad.push(format!("[{i}] ours {o} spandsp {t}"));
        }
    }
    assert!(bad.is_empty(), "{what}: {} of {} differ, first: {:?}", bad.len(), ours.len(), &bad[..bad.len().min(6)]);
    wrapped
}

/// A small deterministic generator (xorshift64*), so every run checks the same signals.
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

    /// Roughly Gaussian (sum of four uniforms), unit variance.
    fn gauss(&mut self) -> f64 {
        (self.uniform() + self.uniform() + self.uniform() + self.uniform()) * (3.0f64 / 4.0 * 3.0).sqrt() / 1.5
    }
}

fn to_i16(x: f64) -> i16 {
    // The clamp makes the cast exact; rounding keeps it unbiased.
    #[allow(clippy::cast_possible_truncation)]
    let v = x.round().clamp(-32768.0, 32767.0) as i16;
    v
}

/// The named test signals, at 16 kHz unless `rate` says 8000.
fn signals(rate: f64) -> Vec<(&'static str, Vec<i16>)> {
    let secs = 2.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (rate * secs) as usize;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::new();

    // Speech-like: AR(2) noise (a resonance that wanders between 300 and 3000 Hz) in bursts of
    // 100-500 ms with gaps, at levels from -30 to -6 dBFS.
    let mut speech = Vec::with_capacity(n);
    let (mut y1, mut y2) = (0.0f64, 0.0f64);
    while speech.len() < n {
        let burst = 800 + usize::try_from(rng.next() % 3200).unwrap_or(0);
        let gap = usize::try_from(rng.next() % 2400).unwrap_or(0);
        let level = 32768.0 * 10f64.powf(-(6.0 + 24.0 * (rng.uniform() + 1.0) / 2.0) / 20.0);
        let f = 300.0 + 2700.0 * (rng.uniform() + 1.0) / 2.0;
        let (r, w) = (0.95, 2.0 * std::f64::consts::PI * f / rate);
        for _ in 0..burst {
            let y = rng.gauss() * 0.1 + 2.0 * r * w.cos() * y1 - r * r * y2;
            y2 = y1;
            y1 = y;
            speech.push(to_i16(level * y));
        }
        speech.extend(std::iter::repeat_n(0i16, gap));
    }
    speech.truncate(n);
    out.push(("speech-like", speech));

    // A logarithmic sweep from 50 Hz to just under Nyquist at -3 dBFS.
    let top = rate / 2.0 - 50.0;
    let mut phase = 0.0f64;
    let sweep: Vec<i16> = (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 / n as f64;
            phase += 2.0 * std::f64::consts::PI * 50.0 * (top / 50.0).powf(t) / rate;
            to_i16(23_000.0 * phase.sin())
        })
        .collect();
    out.push(("sweep", sweep));

    // Two-tone (DTMF-like) at a high level plus a steady 1 kHz at a low one.
    let tones: Vec<i16> = (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 / rate;
            let tau = 2.0 * std::f64::consts::PI;
            to_i16(12_000.0 * (tau * 697.0 * t).sin() + 12_000.0 * (tau * 1477.0 * t).sin())
        })
        .chain((0..n).map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 / rate;
            to_i16(100.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin())
        }))
        .collect();
    out.push(("tones", tones));

    // White noise at full scale and at -40 dBFS.
    let noise: Vec<i16> = (0..n)
        .map(|i| if i < n / 2 { to_i16(rng.uniform() * 32768.0) } else { to_i16(rng.uniform() * 327.0) })
        .collect();
    out.push(("white noise", noise));

    out.push(("silence", vec![0i16; n]));

    // Full-scale square waves (clipping every coder stage) at 200 Hz and 3 kHz, and alternating
    // extremes sample by sample.
    let square: Vec<i16> = (0..n)
        .map(|i| {
            let period = if i < n / 3 { 80 } else { 5 };
            if i >= 2 * n / 3 {
                if i % 2 == 0 {
                    i16::MAX
                } else {
                    i16::MIN
                }
            } else if (i / period) % 2 == 0 {
                i16::MAX
            } else {
                i16::MIN
            }
        })
        .collect();
    out.push(("full-scale clipping", square));

    // DC steps: positive and negative full scale, small offsets, back to zero.
    let levels = [32767i16, -32768, 1, -1, 20_000, -300, 0];
    let dc: Vec<i16> = (0..n).map(|i| levels[i * levels.len() / n]).collect();
    out.push(("dc", dc));
    out
}

#[test]
fn encoder_matches_spandsp_at_16k() {
    for rate in RATES {
        for (name, pcm) in signals(16_000.0) {
            let theirs = spandsp_encode(rate, false, &pcm);
            let ours = our_encode(rate, false, &pcm);
            check(&format!("encode {name} at {} bit/s", rate.bps()), &ours, &theirs);
        }
    }
}

#[test]
fn decoder_matches_spandsp_at_16k() {
    for rate in RATES {
        for (name, pcm) in signals(16_000.0) {
            // spandsp's codes, so that this holds even if our encoder were wrong.
            let codes = spandsp_encode(rate, false, &pcm);
            let what = format!("decode {name} at {} bit/s", rate.bps());
            let wrapped = check_decoded(&what, &our_decode(rate, false, &codes), &spandsp_decode(rate, false, &codes));
            eprintln!("{what}: {wrapped} samples wrapped by spandsp");
            // Below full scale nothing may differ at all.
            if matches!(name, "speech-like" | "sweep" | "tones" | "silence") {
                assert_eq!(wrapped, 0, "{what}: differs from spandsp without a full-scale signal");
            }
        }
    }
}

#[test]
fn decoder_matches_spandsp_on_random_octets() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let codes: Vec<u8> = (0..40_000).map(|_| rng.next().to_le_bytes()[7]).collect();
    for rate in RATES {
        for eight_k in [false, true] {
            check_decoded(
                &format!("decode random octets at {} bit/s, 8k={eight_k}", rate.bps()),
                &our_decode(rate, eight_k, &codes),
                &spandsp_decode(rate, eight_k, &codes),
            );
        }
    }
}

#[test]
fn eight_khz_mode_matches_spandsp() {
    for rate in RATES {
        for (name, pcm) in signals(8_000.0) {
            let theirs = spandsp_encode(rate, true, &pcm);
            let ours = our_encode(rate, true, &pcm);
            check(&format!("8k encode {name} at {} bit/s", rate.bps()), &ours, &theirs);
            check(
                &format!("8k decode {name} at {} bit/s", rate.bps()),
                &our_decode(rate, true, &theirs),
                &spandsp_decode(rate, true, &theirs),
            );
        }
    }
}
