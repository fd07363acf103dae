//! Test signals and the level meter: a CSS-like composite source, Hoth-like noise, tones,
//! white noise and a bursty speech-like far end; levels in dBm0 through the G.168 band-pass.

use media_dsp::echo::db_to_power;

use super::models::LEVEL_BP;

pub const RATE: usize = 8000;

/// Samples in `ms` milliseconds.
pub const fn ms(ms: usize) -> usize {
    ms * RATE / 1000
}

/// A small seeded generator (xorshift64*), so every run sees the same signals.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss, reason = "53 random bits into a double")]
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        u
    }

    /// Standard normal (Box-Muller).
    pub fn gauss(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Scales `x` so its mean power over the samples where `active` holds is `dbm0`.
fn scale_to(x: &mut [f64], dbm0: f32, active: impl Fn(usize) -> bool) {
    let (mut p, mut n) = (0.0, 0usize);
    for (i, v) in x.iter().enumerate() {
        if active(i) {
            p += v * v;
            n += 1;
        }
    }
    #[allow(clippy::cast_precision_loss, reason = "sample counts")]
    let p = p / n.max(1) as f64;
    let g = (f64::from(db_to_power(dbm0)) / p.max(1e-30)).sqrt();
    x.iter_mut().for_each(|v| *v *= g);
}

/// Rounds and saturates to 16-bit samples.
pub fn to_i16(x: &[f64]) -> Vec<i16> {
    #[allow(clippy::cast_possible_truncation, reason = "clamped first")]
    x.iter().map(|v| v.round().clamp(-32768.0, 32767.0) as i16).collect()
}

/// Band-passed noise (through the level meter's filter, which spans the voice band).
fn band_noise(rng: &mut Rng, n: usize) -> Vec<f64> {
    let w: Vec<f64> = (0..n + LEVEL_BP.len()).map(|_| rng.gauss()).collect();
    (0..n)
        .map(|i| LEVEL_BP.iter().enumerate().map(|(k, c)| f64::from(*c) * w[i + LEVEL_BP.len() - 1 - k]).sum())
        .collect()
}

/// A composite-source-like signal modelled on G.168 Annex C: 48.62 ms of a voiced segment
/// (the table repeated), 200 ms of band-limited noise, 101.38 ms of pause, then the same with
/// the polarity inverted, repeated. The level (in dBm0) is that of the active parts.
pub fn css(voiced: &[i16], seconds: f64, dbm0: f32, seed: u64) -> Vec<f64> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "positive durations")]
    let n = (seconds * 8000.0) as usize;
    let (v_len, pn_len, pause) = (389usize, 1600usize, 811usize);
    let period = v_len + pn_len + pause;
    let mut rng = Rng::new(seed);
    let pn = band_noise(&mut rng, pn_len);
    // The voiced segment has its own level; bring the noise to it so the parts sound alike.
    let vp: f64 = voiced.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / 134.0f64.max(1.0);
    let np: f64 = pn.iter().map(|v| v * v).sum::<f64>() / 1600.0;
    let g = (vp / np).sqrt();
    let mut x = vec![0.0; n];
    for (i, s) in x.iter_mut().enumerate() {
        let k = i % period;
        let sign = if (i / period) % 2 == 0 { 1.0 } else { -1.0 };
        *s = sign
            * if k < v_len {
                f64::from(voiced[k % voiced.len()])
            } else if k < v_len + pn_len {
                pn[k - v_len] * g
            } else {
                0.0
            };
    }
    scale_to(&mut x, dbm0, |i| i % period < v_len + pn_len);
    x
}

/// Hoth-like noise: white noise tilted towards the low band (a one-pole low-pass) and kept
/// in the voice band, at `dbm0`.
pub fn hoth(seconds: f64, dbm0: f32, seed: u64) -> Vec<f64> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "positive durations")]
    let n = (seconds * 8000.0) as usize;
    let mut rng = Rng::new(seed);
    let mut lp = 0.0;
    let mut x: Vec<f64> = (0..n)
        .map(|_| {
            lp = 0.6 * lp + rng.gauss();
            lp
        })
        .collect();
    scale_to(&mut x, dbm0, |_| true);
    x
}

/// Gaussian white noise at `dbm0`.
pub fn white(seconds: f64, dbm0: f32, seed: u64) -> Vec<f64> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "positive durations")]
    let n = (seconds * 8000.0) as usize;
    let mut rng = Rng::new(seed);
    let mut x: Vec<f64> = (0..n).map(|_| rng.gauss()).collect();
    scale_to(&mut x, dbm0, |_| true);
    x
}

/// One or two tones (0 Hz = absent), each at `dbm0`.
pub fn tones(seconds: f64, f1: f32, f2: f32, dbm0: f32) -> Vec<f64> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "positive durations")]
    let n = (seconds * 8000.0) as usize;
    let amp = f64::from(db_to_power(dbm0)).sqrt() * std::f64::consts::SQRT_2;
    (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss, reason = "sample index")]
            let t = i as f64 / 8000.0;
            let mut v = 0.0;
            for f in [f1, f2] {
                if f > 0.0 {
                    v += amp * (std::f64::consts::TAU * f64::from(f) * t).sin();
                }
            }
            v
        })
        .collect()
}

/// The speech-like far end of reference/dsp.md §1: AR(2) noise (poles at radius 0.9, 500 Hz)
/// in 150–600 ms bursts with 50–400 ms gaps, each burst at -18 ± 6 dBm0.
pub fn speech_like(seconds: f64, seed: u64) -> Vec<f64> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "positive durations")]
    let n = (seconds * 8000.0) as usize;
    let mut rng = Rng::new(seed);
    let (r, th) = (0.9f64, std::f64::consts::TAU * 500.0 / 8000.0);
    let (a1, a2) = (2.0 * r * th.cos(), -r * r);
    // Power gain of the AR(2) filter on unit white noise, measured once on a long run.
    let mut probe = Rng::new(seed ^ 0xabc);
    let (mut y1, mut y2, mut p) = (0.0, 0.0, 0.0);
    for _ in 0..80_000 {
        let y = probe.gauss() + a1 * y1 + a2 * y2;
        (y2, y1) = (y1, y);
        p += y * y;
    }
    let gain = p / 80_000.0;
    let mut x = vec![0.0; n];
    let mut i = 0;
    (y1, y2) = (0.0, 0.0);
    while i < n {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "bounded durations")]
        let (burst, gap) = ((150.0 + 450.0 * rng.uniform()) as usize * 8, (50.0 + 350.0 * rng.uniform()) as usize * 8);
        #[allow(clippy::cast_possible_truncation, reason = "a level in dB")]
        let level = (-18.0 + 12.0 * rng.uniform() - 6.0) as f32;
        let amp = (f64::from(db_to_power(level)) / gain).sqrt();
        for v in x.iter_mut().skip(i).take(burst) {
            let y = rng.gauss() + a1 * y1 + a2 * y2;
            (y2, y1) = (y1, y);
            *v = y * amp;
        }
        i += burst + gap;
    }
    x
}

/// The signal through the G.168 level-meter band-pass (zero initial state, same length).
pub fn band_pass(x: &[f64]) -> Vec<f64> {
    (0..x.len()).map(|i| LEVEL_BP.iter().enumerate().take(i + 1).map(|(k, c)| f64::from(*c) * x[i - k]).sum()).collect()
}

/// A power (squared sample units) as dBm0.
pub fn db(power: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation, reason = "powers fit f32 easily")]
    let p = power as f32;
    f64::from(media_dsp::echo::power_to_db(p))
}

/// Mean level in dBm0 of `x[from..to]`, band-passed as G.168's meter does.
pub fn level(x: &[f64], from: usize, to: usize) -> f64 {
    let bp = band_pass(&x[from.saturating_sub(LEVEL_BP.len())..to]);
    let skip = from - from.saturating_sub(LEVEL_BP.len());
    let s = &bp[skip..];
    #[allow(clippy::cast_precision_loss, reason = "sample counts")]
    let p = s.iter().map(|v| v * v).sum::<f64>() / s.len().max(1) as f64;
    db(p)
}

/// The highest level (dBm0) over `x[from..to]` of a 35 ms exponential power average.
pub fn peak_level(x: &[f64], from: usize, to: usize) -> f64 {
    let start = from.saturating_sub(ms(200));
    let bp = band_pass(&x[start..to]);
    let a = 1.0 / 280.0;
    let mut p = 0.0f64;
    let mut peak = 0.0f64;
    for (i, v) in bp.iter().enumerate() {
        p += (v * v - p) * a;
        if start + i >= from {
            peak = peak.max(p);
        }
    }
    db(peak)
}

/// Converts i16 samples to f64.
pub fn f64s(x: &[i16]) -> Vec<f64> {
    x.iter().map(|&v| f64::from(v)).collect()
}
