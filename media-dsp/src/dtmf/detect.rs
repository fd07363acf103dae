//! The DTMF receiver: windowed DFTs of the eight Q.23 frequencies over 13 ms blocks, a frequency
//! estimate per tone, and a block-level state machine for duration, drop-outs and digit changes.
//!
//! # Why this design
//! A Goertzel filter over a short block cannot tell a tone 1.5% off (accept) from one 3.5% off
//! (reject) by its energy: at 697 Hz the two are 10 and 24 Hz away, a third of a bin of a 13 ms
//! block, and the energy differs by a fraction of a dB. That is why spandsp's `dtmf_rx` leaks on the
//! low group past 3.5% (reference/dsp.md §7). So this receiver *measures* each tone's frequency.
//! For every block it computes, per frequency `f`, the Hann-windowed DFT `X` and the same sum with
//! the window multiplied by the time `t` from the block centre, `Xt`. For a tone `δ` rad/sample away
//! from `f`, `Xt / X` is `j·V(δ)/W(δ)` where `W` is the window's transform and `V` that of `t·w`: a
//! real, odd, monotonic function of `δ` across the main lobe. Its value at ±2.5% (the middle of the
//! 1.5%–3.5% band) is precomputed per frequency and is the accept limit, so the frequency gate is as
//! sharp on the low group as on the high group and costs no more than two more accumulators.
//!
//! Per sample the work is one broadcast multiply-add into 16 accumulators (X, real and imaginary,
//! for 8 frequencies) from a table computed at compile time, and a copy of the sample. `Xt` is
//! needed only for the strongest row and column, and only in blocks that pass the level, twist and
//! a purity pre-check, so it is computed at the end of such blocks from the stored samples (4
//! accumulators instead of 16 per sample; the same sums in the same order, so the verdicts are
//! bit-for-bit those of accumulating all 32 per sample). Speech, silence and noise, the bulk of
//! any channel, rarely get that far. Per block (104 samples) a handful of checks. No allocation, no
//! lock; the state is a fixed-size struct. `cargo xtask bench dsp` measures it against spandsp's
//! `dtmf_rx` (-O2) on the same speech-and-digits file: the `dtmf.channels` row.
//!
//! # Block checks (all must hold)
//! - the strongest row and column tone are each at least `MIN_TONE_DBM0`;
//! - twist: row over column at most `MAX_TWIST_NORMAL_DB`, column over row at most
//!   `MAX_TWIST_REVERSE_DB`;
//! - purity: the two tones, their power corrected for the window loss of their measured offset,
//!   carry at least `MIN_PURITY` (95%) of the block's windowed power. Speech and music carry
//!   harmonics and formant spread, so this is the main talk-off guard, and it does the job of
//!   spandsp's second-harmonic check without extra filters (any other partial lowers it). 95% is
//!   what two equal tones keep at 10 dB S/N per tone (white noise); at 75% and 92% musical chords
//!   got through the talk-off test;
//! - both tones' measured frequencies are within ±2.5% of nominal (see above);
//! - harmonic guard: the measured column/row ratio is not within 0.6% of 2:1 or 3:2, the ratios of
//!   one note's neighbouring harmonics (which no DTMF pair within ±1.5% comes near);
//! - stationarity: the energies of four 24-sample slices (both ends, either side of the middle)
//!   stay within `MAX_QUARTER_SPREAD` of each other, so a block the tone only partly covers (its
//!   start or end, or a drop-out edge) does not count.
//!
//! # Timing (block = 104 samples = 13 ms)
//! - A digit starts after two consecutive blocks agree. A 40 ms tone (320 samples) always covers
//!   two whole blocks (320 ≥ 3·104 − 1); a 20 ms tone (160 samples) never covers two, and the
//!   stationarity check rejects the partly covered ones.
//! - A digit ends after `END_MISSES` (3) blocks without it. A drop-out of 10 ms (80 samples, and up
//!   to ~15 ms) spoils at most two blocks and is bridged; a pause of 40 ms spoils at least three
//!   (two whole blocks plus a partly covered one), so a repeated digit is seen twice.
//! - A different digit that holds for two blocks ends the current one at once.
//! - Event times are sample indexes since `new`/`reset`: a start is the first sample of the first
//!   agreeing block, an end the sample after the last block that held the digit. Both are within
//!   one block (13 ms) of the true tone edges; events come out 2–3 blocks after the edge.

use super::{BLOCK, COL_HZ, DBM0_RMS, KEYPAD, ROW_HZ, SAMPLE_RATE};

/// Analysis block length in samples (13 ms).
const N: usize = 104;
/// The stationarity check's four "quarters" in 1 ms blocks: 3 blocks (24 samples) each, at the
/// two ends and either side of the middle block (slot 4, not compared), so the energy of a whole
/// 1 ms block goes to one slot and no per-sample bookkeeping is needed.
const QUARTER_OF_BLOCK: [usize; N / BLOCK] = [0, 0, 0, 1, 1, 1, 4, 2, 2, 2, 3, 3, 3];
/// Frequency acceptance half-width as a fraction of nominal: between the 1.5% that must be
/// accepted and the 3.5% that must be rejected.
const FREQ_TOLERANCE: f64 = 0.025;
/// Minimum level of each tone. The requirement is -40 dBm0; the margin covers the window's
/// attenuation of a tone 1.5% off and noise.
const MIN_TONE_DBM0: f64 = -42.5;
/// Low group louder than high group (dB) still accepted; the requirement is 8 dB.
const MAX_TWIST_NORMAL_DB: f64 = 9.5;
/// High group louder than low group (dB) still accepted; the requirement is 4 dB.
const MAX_TWIST_REVERSE_DB: f64 = 6.5;
/// Minimum share of the block power carried by the two tones.
const MIN_PURITY: f32 = 0.95;
/// Half-width of the windows around 2:1 and 3:2 frequency ratios that are taken for one note's
/// harmonics rather than a DTMF pair, as a fraction of the ratio.
const HARMONIC_GUARD: f32 = 0.006;
/// Largest ratio between the strongest and the weakest quarter-block energy.
const MAX_QUARTER_SPREAD: f32 = 2.0;
/// Blocks without the digit that end it.
const END_MISSES: u8 = 3;

// ---- compile-time tables -------------------------------------------------------------------

const PI: f64 = core::f64::consts::PI;
const TAU: f64 = core::f64::consts::TAU;

/// sin for compile-time tables: range reduction to [-π, π], then the Taylor series (error < 1e-12).
pub(crate) const fn sin(x: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation, reason = "the quotient is small: |x| < 1e4")]
    let k = (x / TAU) as i64;
    #[allow(clippy::cast_precision_loss, reason = "k is small")]
    let mut r = x - (k as f64) * TAU;
    if r > PI {
        r -= TAU;
    } else if r < -PI {
        r += TAU;
    }
    let r2 = r * r;
    let mut term = r;
    let mut sum = r;
    let mut i = 1;
    while i < 16 {
        let a = (2 * i) as f64;
        term = -term * r2 / (a * (a + 1.0));
        sum += term;
        i += 1;
    }
    sum
}

pub(crate) const fn cos(x: f64) -> f64 {
    sin(x + PI / 2.0)
}

/// Hann window sample `n`, symmetric about the block centre.
const fn window(n: usize) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "n < 104")]
    let t = (n as f64 + 0.5) / N as f64;
    0.5 - 0.5 * cos(TAU * t)
}

/// Time of sample `n` from the block centre.
const fn centred(n: usize) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "n < 104")]
    let t = n as f64 - (N as f64 - 1.0) / 2.0;
    t
}

const fn freq(i: usize) -> f64 {
    if i < 4 {
        ROW_HZ[i]
    } else {
        COL_HZ[i - 4]
    }
}

struct Tables {
    /// Per sample: w·cos, -w·sin for the 8 frequencies, in that order, so `X = Σ x·(c - j s)`.
    kernel: [[f32; 16]; N],
    /// Per frequency and sample: t·w·cos, -t·w·sin, so `Xt` likewise with the time-weighted window.
    kernel_t: [[[f32; 2]; N]; 8],
    /// The window itself, for the block power.
    window: [f32; N],
    /// Converts |X|² to the power of the tone: 2 / (Σw)².
    power_scale: f32,
    /// Converts Σ w·x² to mean power: 1 / Σw.
    total_scale: f32,
    /// Per frequency, `V(δ)/W(δ)` at `δ` = +2.5% of the frequency: the accept limit of `Im(Xt·X*)/|X|²`.
    ratio_limit: [f32; 8],
    /// The nominal frequencies in Hz.
    hz: [f32; 8],
    /// `Σ w·t² / Σ w`: the slope of that ratio at `δ` = 0, to turn a ratio back into `δ`.
    ratio_slope: f32,
    /// The largest power correction `1 / window_gain²` the frequency gate lets through, with a
    /// margin: the purity pre-check, before `Xt` is computed, assumes it.
    max_gain_loss: f32,
}

/// `window_gain` at compile time (f64), for `Tables::max_gain_loss`, with 2% margin for the
/// differences between the two evaluations.
const fn window_gain_const(delta: f64) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "N is small")]
    let b = delta * N as f64 / TAU;
    let pb = PI * b;
    sin(pb) / pb / (1.0 - b * b) / 1.02
}

#[allow(clippy::cast_possible_truncation, reason = "tables are computed in f64 and stored as f32 on purpose")]
const fn build() -> Tables {
    let mut kernel = [[0f32; 16]; N];
    let mut kernel_t = [[[0f32; 2]; N]; 8];
    let mut win = [0f32; N];
    let mut sum_w = 0.0;
    let mut sum_wt2 = 0.0;
    let mut n = 0;
    while n < N {
        let w = window(n);
        let t = centred(n);
        sum_w += w;
        sum_wt2 += w * t * t;
        win[n] = w as f32;
        let mut f = 0;
        while f < 8 {
            let phase = TAU * freq(f) / SAMPLE_RATE as f64 * t;
            let (c, s) = (cos(phase), sin(phase));
            kernel[n][f] = (w * c) as f32;
            kernel[n][8 + f] = (-w * s) as f32;
            kernel_t[f][n] = [(t * w * c) as f32, (-t * w * s) as f32];
            f += 1;
        }
        n += 1;
    }
    let mut ratio_limit = [0f32; 8];
    let mut f = 0;
    while f < 8 {
        let delta = TAU * freq(f) * FREQ_TOLERANCE / SAMPLE_RATE as f64;
        let (mut v, mut wt) = (0.0, 0.0);
        let mut n = 0;
        while n < N {
            let (w, t) = (window(n), centred(n));
            v += w * t * sin(delta * t);
            wt += w * cos(delta * t);
            n += 1;
        }
        ratio_limit[f] = (v / wt) as f32;
        f += 1;
    }
    let mut max_gain_loss = 0f32;
    let mut f = 0;
    while f < 8 {
        // The offset `evaluate` derives from a ratio at the limit (its linear estimate, which is
        // what `window_gain` is given), not the true 2.5%.
        let delta = ratio_limit[f] as f64 / (sum_wt2 / sum_w);
        let g = window_gain_const(delta);
        let loss = (1.0 / (g * g)) as f32;
        if loss > max_gain_loss {
            max_gain_loss = loss;
        }
        f += 1;
    }
    Tables {
        kernel,
        kernel_t,
        max_gain_loss,
        window: win,
        power_scale: (2.0 / (sum_w * sum_w)) as f32,
        total_scale: (1.0 / sum_w) as f32,
        ratio_limit,
        ratio_slope: (sum_wt2 / sum_w) as f32,
        hz: [
            ROW_HZ[0] as f32,
            ROW_HZ[1] as f32,
            ROW_HZ[2] as f32,
            ROW_HZ[3] as f32,
            COL_HZ[0] as f32,
            COL_HZ[1] as f32,
            COL_HZ[2] as f32,
            COL_HZ[3] as f32,
        ],
    }
}

static TABLES: Tables = build();

// ---- events ----------------------------------------------------------------------------------

/// Whether a digit began or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The digit's tones began at `at`.
    Start,
    /// The digit's tones ended at `at` (the first sample after them).
    End,
}

/// A digit edge, timed in samples since the detector was created or reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// One of `0-9 * # A-D`.
    pub digit: char,
    /// Sample index of the edge (8000 per second).
    pub at: u64,
}

// ---- the detector ----------------------------------------------------------------------------

/// A DTMF receiver for one channel. Feed it every 1 ms block with [`Detector::process`], then drain
/// [`Detector::poll_event`].
#[derive(Debug, Clone)]
pub struct Detector {
    /// X accumulators (see `Tables::kernel`).
    acc: [f32; 16],
    /// The analysis block's samples, for `Xt` of the two strongest tones.
    buf: [f32; N],
    /// Σ w·x² over the block.
    total: f32,
    /// Unwindowed energy of each quarter block (slot 4: the middle block, unused).
    quarters: [f32; 5],
    /// Position in the current analysis block.
    pos: usize,
    /// Samples consumed since `new`/`reset`.
    samples: u64,
    /// Digit being received, if any.
    current: Option<u8>,
    /// End sample of the last block that held `current`.
    last_end: u64,
    /// Blocks since `current` was last seen.
    misses: u8,
    /// The previous block's valid digit and its first sample (a start needs two in a row).
    candidate: Option<(u8, u64)>,
    /// Pending events, oldest first (at most two per block: an end and a start).
    events: [Option<Event>; 2],
    /// Thresholds in squared sample units, derived once.
    min_power: f32,
    twist_normal: f32,
    twist_reverse: f32,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

#[allow(clippy::cast_possible_truncation, reason = "thresholds are stored as f32 on purpose")]
fn db_ratio(db: f64) -> f32 {
    10f64.powf(db / 10.0) as f32
}

impl Detector {
    pub fn new() -> Self {
        #[allow(clippy::cast_possible_truncation, reason = "thresholds are stored as f32 on purpose")]
        let min_power = (DBM0_RMS * DBM0_RMS * 10f64.powf(MIN_TONE_DBM0 / 10.0)) as f32;
        Detector {
            acc: [0.0; 16],
            buf: [0.0; N],
            total: 0.0,
            quarters: [0.0; 5],
            pos: 0,
            samples: 0,
            current: None,
            last_end: 0,
            misses: 0,
            candidate: None,
            events: [None; 2],
            min_power,
            twist_normal: db_ratio(MAX_TWIST_NORMAL_DB),
            twist_reverse: db_ratio(MAX_TWIST_REVERSE_DB),
        }
    }

    /// Forgets everything, including the sample clock.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// The digit being received now, if any.
    pub fn current(&self) -> Option<char> {
        self.current.map(digit_char)
    }

    /// Samples consumed since `new`/`reset`.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Takes one 1 ms block of linear samples.
    pub fn process(&mut self, block: &[i16; BLOCK]) {
        let t = &TABLES;
        // N is a whole number of 1 ms blocks, so a block never straddles two analysis blocks, and
        // the 32 accumulators can live in registers for the whole block.
        let base = self.pos;
        let rows: &[[f32; 16]; BLOCK] = t.kernel[base..base + BLOCK].try_into().expect("N is a multiple of BLOCK");
        let window: &[f32; BLOCK] = t.window[base..base + BLOCK].try_into().expect("N is a multiple of BLOCK");
        let buf: &mut [f32; BLOCK] = (&mut self.buf[base..base + BLOCK]).try_into().expect("N is a multiple of BLOCK");
        let mut acc = self.acc;
        let (mut energy, mut total) = (0f32, 0f32);
        for (((&x, row), &w), b) in block.iter().zip(rows).zip(window).zip(buf) {
            let x = f32::from(x);
            *b = x;
            // One broadcast multiply-add over 16 lanes: the compiler vectorises this loop.
            for (a, &c) in acc.iter_mut().zip(row) {
                *a += x * c;
            }
            energy += x * x;
            total += x * x * w;
        }
        self.acc = acc;
        self.total += total;
        self.quarters[QUARTER_OF_BLOCK[base / BLOCK]] += energy;
        self.pos += BLOCK;
        self.samples += BLOCK as u64;
        if self.pos == N {
            let verdict = self.evaluate();
            self.advance(verdict);
            self.acc = [0.0; 16];
            self.total = 0.0;
            self.quarters = [0.0; 5];
            self.pos = 0;
        }
    }

    /// The next pending event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        let e = self.events[0].take();
        self.events[0] = self.events[1].take();
        e
    }

    fn push(&mut self, kind: EventKind, digit: u8, at: u64) {
        let e = Some(Event { kind, digit: digit_char(digit), at });
        if self.events[0].is_none() {
            self.events[0] = e;
        } else if self.events[1].is_none() {
            self.events[1] = e;
        } else {
            // Nobody drained the queue: keep the newest edges, which describe the present.
            self.events[0] = self.events[1].take();
            self.events[1] = e;
        }
    }

    /// The digit this block holds, if every check passes.
    fn evaluate(&self) -> Option<u8> {
        let t = &TABLES;
        let a = &self.acc;
        let mut power = [0f32; 8];
        for (f, p) in power.iter_mut().enumerate() {
            *p = (a[f] * a[f] + a[8 + f] * a[8 + f]) * t.power_scale;
        }
        let row = argmax(&power[..4]);
        let col = 4 + argmax(&power[4..]);
        let (pr, pc) = (power[row], power[col]);
        if pr < self.min_power || pc < self.min_power {
            return None;
        }
        if pr > pc * self.twist_normal || pc > pr * self.twist_reverse {
            return None;
        }
        let block_power = self.total * t.total_scale;
        // Purity pre-check: even with the largest window-loss correction the frequency gate allows,
        // the two tones must be able to reach the purity threshold (below, exactly). Most speech
        // fails here, before `Xt` is computed.
        if (pr + pc) * t.max_gain_loss < MIN_PURITY * block_power {
            return None;
        }
        let mut tone_power = 0.0;
        let mut hz = [0f32; 2];
        for (i, f) in [row, col].into_iter().enumerate() {
            let mag2 = a[f] * a[f] + a[8 + f] * a[8 + f];
            let (mut xt_re, mut xt_im) = (0f32, 0f32);
            for (&x, &[c, s]) in self.buf.iter().zip(&t.kernel_t[f]) {
                xt_re += x * c;
                xt_im += x * s;
            }
            // Im(Xt · conj X) / |X|².
            let ratio = (xt_im * a[f] - xt_re * a[8 + f]) / mag2;
            if ratio.abs() > t.ratio_limit[f] {
                return None;
            }
            // An off-centre tone loses some of its power to the window; give it back so that the
            // purity threshold can be tight without rejecting tones 1.5% off.
            let delta = ratio / t.ratio_slope;
            tone_power += power[f] / window_gain(delta).powi(2);
            hz[i] = t.hz[f] + delta * (SAMPLE_RATE as f32 / core::f32::consts::TAU);
        }
        // Harmonic guard: one note's 2nd and 1st (or 3rd and 2nd) harmonics can sit inside the
        // tolerance of a row and a column at once (1336/697, 1477/770 and 1633/852 are all 4% short
        // of 2, and the 1.5% checks could meet halfway). A DTMF pair within ±1.5% is never within
        // 1.2% of 2:1 or 3:2, a harmonic pair always is, whatever its vibrato.
        let ratio = hz[1] / hz[0];
        if (ratio - 2.0).abs() < HARMONIC_GUARD * 2.0 || (ratio - 1.5).abs() < HARMONIC_GUARD * 1.5 {
            return None;
        }
        if tone_power < MIN_PURITY * block_power {
            return None;
        }
        let (lo, hi) = self.quarters[..4].iter().fold((f32::MAX, 0f32), |(lo, hi), &q| (lo.min(q), hi.max(q)));
        if hi > lo * MAX_QUARTER_SPREAD {
            return None;
        }
        #[allow(clippy::cast_possible_truncation, reason = "row, col < 8")]
        let code = (row * 4 + (col - 4)) as u8;
        Some(code)
    }

    /// The block-level state machine (see the module doc).
    fn advance(&mut self, verdict: Option<u8>) {
        let end = self.samples;
        let start = end - N as u64;
        match self.current {
            None => {
                self.candidate = match (verdict, self.candidate) {
                    (Some(d), Some((c, at))) if c == d => {
                        self.push(EventKind::Start, d, at);
                        self.current = Some(d);
                        self.last_end = end;
                        self.misses = 0;
                        None
                    }
                    (Some(d), _) => Some((d, start)),
                    (None, _) => None,
                };
            }
            Some(cur) => {
                if verdict == Some(cur) {
                    self.misses = 0;
                    self.last_end = end;
                    self.candidate = None;
                    return;
                }
                self.misses += 1;
                self.candidate = match (verdict, self.candidate) {
                    (Some(d), Some((c, at))) if c == d => {
                        // Another digit held two blocks: the current one is over.
                        self.push(EventKind::End, cur, self.last_end);
                        self.push(EventKind::Start, d, at);
                        self.current = Some(d);
                        self.last_end = end;
                        self.misses = 0;
                        return;
                    }
                    (Some(d), _) => Some((d, start)),
                    (None, _) => None,
                };
                if self.misses >= END_MISSES {
                    self.push(EventKind::End, cur, self.last_end);
                    self.current = None;
                }
            }
        }
    }
}

/// The Hann window's amplitude response to a tone `delta` rad/sample off its bin, relative to an
/// on-bin tone: `sinc(b) / (1 - b²)` with `b` in bins (the continuous-window form; exact enough
/// within the ±2.5% the frequency check lets through, where `b` < 0.55).
fn window_gain(delta: f32) -> f32 {
    #[allow(clippy::cast_precision_loss, reason = "N is small")]
    let b = delta * N as f32 / core::f32::consts::TAU;
    if b.abs() < 1e-4 {
        return 1.0;
    }
    let pb = core::f32::consts::PI * b;
    (pb.sin() / pb / (1.0 - b * b)).max(0.1)
}

fn argmax(p: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

fn digit_char(code: u8) -> char {
    KEYPAD[usize::from(code / 4)][usize::from(code % 4)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_sin_matches_std() {
        for i in -2000..2000 {
            let x = f64::from(i) * 0.037;
            assert!((sin(x) - x.sin()).abs() < 1e-10, "{x}");
            assert!((cos(x) - x.cos()).abs() < 1e-10, "{x}");
        }
    }

    #[test]
    fn ratio_limits_grow_with_frequency() {
        // The limit is a fixed fraction of each frequency, so it grows along each group.
        let l = TABLES.ratio_limit;
        for f in 1..8 {
            assert!(l[f] > l[f - 1] && l[f] > 0.0, "{l:?}");
        }
    }

    #[test]
    fn purity_precheck_is_never_stricter_than_the_check() {
        // The pre-check must only drop blocks the exact purity check would drop too: its
        // correction is at least the one `evaluate` applies at the edge of the frequency gate.
        let t = &TABLES;
        for f in 0..8 {
            for sign in [-1.0, 1.0] {
                let gain = window_gain(sign * t.ratio_limit[f] / t.ratio_slope);
                assert!(t.max_gain_loss >= 1.0 / (gain * gain), "{f}: {} {gain}", t.max_gain_loss);
            }
        }
    }

    fn tone_pair(row: f64, col: f64, amp: f64, samples: usize, out: &mut Vec<i16>) {
        for n in 0..samples {
            #[allow(clippy::cast_precision_loss)]
            let t = n as f64 / f64::from(SAMPLE_RATE);
            let v = amp * ((TAU * row * t).sin() + (TAU * col * t).sin());
            #[allow(clippy::cast_possible_truncation)]
            out.push(v.round() as i16);
        }
    }

    fn run(signal: &[i16]) -> Vec<Event> {
        let mut d = Detector::new();
        let mut out = Vec::new();
        for b in signal.chunks_exact(BLOCK) {
            d.process(b.try_into().unwrap());
            while let Some(e) = d.poll_event() {
                out.push(e);
            }
        }
        out
    }

    #[test]
    fn detects_one_digit_with_edges_within_a_block() {
        let mut s = vec![0i16; 400];
        tone_pair(852.0, 1477.0, 5000.0, 480, &mut s);
        s.resize(s.len() + 800, 0);
        let ev = run(&s);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!((ev[0].kind, ev[0].digit), (EventKind::Start, '9'));
        assert_eq!((ev[1].kind, ev[1].digit), (EventKind::End, '9'));
        assert!(ev[0].at.abs_diff(400) <= N as u64, "{ev:?}");
        assert!(ev[1].at.abs_diff(880) <= N as u64, "{ev:?}");
    }

    #[test]
    fn silence_and_single_tones_give_nothing() {
        assert!(run(&vec![0i16; 8000]).is_empty());
        let mut s = Vec::new();
        tone_pair(697.0, 697.0, 4000.0, 4000, &mut s);
        assert!(run(&s).is_empty());
    }
}
