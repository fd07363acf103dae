//! Fax and modem answer-tone detection on 8-sample blocks: CNG, CED/ANS, ANSam and their
//! phase-reversed forms, for the call logic (fax mode, G.711 pass-through re-INVITE).
//!
//! The tones (T.30, V.25, V.8; reference/dsp.md §4):
//! - CNG, the calling fax: 1100 ±38 Hz, 0.5 s on / 3 s off (±15%).
//! - CED/ANS, the answering fax or modem: 2100 ±15 Hz for 2.6–4 s.
//! - /ANS: ANS whose phase flips by 180° every 450 ±25 ms. ANSam: ANS amplitude-modulated by
//!   15 Hz at 20 ±5%; /ANSam both. The reversals are the G.164/G.165 condition for disabling echo
//!   control; the canceller has its own disabler (`echo::tone`) on its signal path, this detector
//!   tells the call what answered.
//!
//! How: the signal is cut into 10 ms blocks (80 samples, a whole number of periods of both 1100
//! and 2100 Hz, so an on-frequency tone shows the same phase in every block). Per block and per
//! frequency a Hann-windowed DFT gives the level, the share of the block power (purity) and,
//! through the time-weighted DFT as in the DTMF receiver (`dtmf::detect`), the frequency offset.
//! A block "has" the tone when the level is at least `MIN_DBM0`, the purity at least `MIN_PURITY`
//! and the offset within the tolerance. A tone lasts while blocks have it, bridging up to two that
//! do not (a reversal in the middle of a block empties it).
//! - CNG is reported when an 1100 Hz burst ends after 400–650 ms (0.5 s ±15%, plus a block of
//!   measuring slack each side) at a steady level (`CNG_STEADY`): a continuous 1100 Hz tone is
//!   not CNG, nor is a decaying musical note.
//! - A 2100 Hz tone is reported after `ANNOUNCE_BLOCKS` (400 ms) as ANS or ANSam. ANSam is decided
//!   from the block magnitudes over two 200 ms windows (exactly three periods of 15 Hz): their
//!   15 Hz component over their mean is the modulation index; both windows must show at least
//!   `MIN_AM_INDEX`. The windows' mean levels must agree within `ANS_STEADY` (V.25 sends a steady
//!   level; music that lands on 2100 Hz, like C7 at 2093 Hz, decays).
//! - A reversal is a block whose phase differs by more than 120° from the phase predicted by the
//!   previous tone block and the measured rotation per block (a tone up to 15 Hz off turns ~54°
//!   per block). A reversal 400–500 ms after the tone start or after the previous reversal
//!   upgrades the tone to /ANS or /ANSam, reported once more with the same start.
//!
//! Events carry the tone's first sample (samples since `new`/`reset`). No allocation, no lock;
//! the state is a fixed-size struct.

use crate::dtmf::{const_cos as cos, const_sin as sin, BLOCK, DBM0_RMS, SAMPLE_RATE};

/// Analysis block: 10 ms.
const N: usize = 80;
const _: () = assert!(N % BLOCK == 0, "analysis blocks are whole 1 ms blocks");
/// The two frequencies, CNG's and ANS's.
const CNG_HZ: f64 = 1100.0;
const ANS_HZ: f64 = 2100.0;
/// Accept limits of the frequency offset (Hz): T.30's ±38 for CNG and V.25's ±15 for ANS, plus
/// margin for noise; 1000 and 2000 Hz (100 Hz off) stay far outside.
const CNG_TOLERANCE_HZ: f64 = 50.0;
const ANS_TOLERANCE_HZ: f64 = 25.0;
/// Minimum tone level.
const MIN_DBM0: f64 = -43.0;
/// Minimum share of the block power in the tone.
const MIN_PURITY: f32 = 0.8;
/// Blocks without the tone that end it.
const END_MISSES: u32 = 3;
/// CNG burst length accepted, in samples (400–650 ms).
const CNG_MIN: u64 = 3200;
const CNG_MAX: u64 = 5200;
/// Largest ratio between the strongest and weakest interior block of a CNG burst (3 dB in
/// amplitude): CNG is sent at a steady level, a struck or plucked note decays.
const CNG_STEADY: f32 = 1.41;
/// Largest ratio between the mean magnitudes of the 200 ms windows of an answer tone before it is
/// reported (2 dB): ANS is steady (ANSam's 15 Hz modulation averages out over a window).
const ANS_STEADY: f32 = 1.26;
/// Blocks of 2100 Hz before it is reported (400 ms).
const ANNOUNCE_BLOCKS: u32 = 40;
/// Blocks in one AM measuring window (200 ms, three periods of 15 Hz).
const AM_WINDOW: usize = 20;
/// Smallest modulation index taken as ANSam (V.8 sends 0.2 ± 0.05).
const MIN_AM_INDEX: f32 = 0.1;
/// Phase jump (radians) beyond which a block is a reversal.
const REVERSAL_RAD: f32 = 2.0 * core::f32::consts::FRAC_PI_3;
/// Interval between reversals (or from the tone start) accepted, in samples: 450 ±50 ms.
const REVERSAL_MIN: u64 = 3200;
const REVERSAL_MAX: u64 = 4000;

const TAU: f64 = core::f64::consts::TAU;

/// What was heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaxTone {
    /// Calling fax tone, 1100 Hz with its cadence.
    Cng,
    /// Answer tone, 2100 Hz, no reversal and no modulation (fax CED, V.25 ANS).
    Ans,
    /// 2100 Hz with phase reversals (/ANS).
    AnsPr,
    /// 2100 Hz with 15 Hz amplitude modulation (V.8 ANSam).
    AnsAm,
    /// ANSam with phase reversals (/ANSam).
    AnsAmPr,
}

impl FaxTone {
    /// The tone carries phase reversals: the G.164/G.165 condition to disable echo control.
    pub fn has_reversals(self) -> bool {
        matches!(self, FaxTone::AnsPr | FaxTone::AnsAmPr)
    }
}

/// A tone was recognised; `at` is its first sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaxEvent {
    pub tone: FaxTone,
    pub at: u64,
}

struct Tables {
    /// Per sample, for CNG then ANS: w·cos, -w·sin, t·w·cos, -t·w·sin.
    kernel: [[f32; 8]; N],
    window: [f32; N],
    power_scale: f32,
    total_scale: f32,
    /// `Im(Xt·X*)/|X|²` at the tolerance, per frequency.
    ratio_limit: [f32; 2],
    /// Slope of that ratio at zero offset (`Σ w t² / Σ w`).
    ratio_slope: f32,
    /// cos and sin of the 15 Hz envelope at each block of an AM window.
    am: [(f32, f32); AM_WINDOW],
}

#[allow(clippy::cast_possible_truncation, reason = "tables are computed in f64 and stored as f32 on purpose")]
#[allow(clippy::cast_precision_loss, reason = "small indexes")]
const fn build() -> Tables {
    let mut kernel = [[0f32; 8]; N];
    let mut window = [0f32; N];
    let (mut sum_w, mut sum_wt2) = (0.0, 0.0);
    let mut n = 0;
    while n < N {
        let w = 0.5 - 0.5 * cos(TAU * (n as f64 + 0.5) / N as f64);
        let t = n as f64 - (N as f64 - 1.0) / 2.0;
        sum_w += w;
        sum_wt2 += w * t * t;
        window[n] = w as f32;
        let mut f = 0;
        while f < 2 {
            let hz = if f == 0 { CNG_HZ } else { ANS_HZ };
            let ph = TAU * hz / SAMPLE_RATE as f64 * t;
            kernel[n][f] = (w * cos(ph)) as f32;
            kernel[n][2 + f] = (-w * sin(ph)) as f32;
            kernel[n][4 + f] = (t * w * cos(ph)) as f32;
            kernel[n][6 + f] = (-t * w * sin(ph)) as f32;
            f += 1;
        }
        n += 1;
    }
    let mut ratio_limit = [0f32; 2];
    let mut f = 0;
    while f < 2 {
        let tol = if f == 0 { CNG_TOLERANCE_HZ } else { ANS_TOLERANCE_HZ };
        let delta = TAU * tol / SAMPLE_RATE as f64;
        let (mut v, mut wt) = (0.0, 0.0);
        let mut n = 0;
        while n < N {
            let w = 0.5 - 0.5 * cos(TAU * (n as f64 + 0.5) / N as f64);
            let t = n as f64 - (N as f64 - 1.0) / 2.0;
            v += w * t * sin(delta * t);
            wt += w * cos(delta * t);
            n += 1;
        }
        ratio_limit[f] = (v / wt) as f32;
        f += 1;
    }
    let mut am = [(0f32, 0f32); AM_WINDOW];
    let mut k = 0;
    while k < AM_WINDOW {
        // 15 Hz sampled every 10 ms.
        let ph = TAU * 15.0 * k as f64 / 100.0;
        am[k] = (cos(ph) as f32, sin(ph) as f32);
        k += 1;
    }
    Tables {
        kernel,
        window,
        power_scale: (2.0 / (sum_w * sum_w)) as f32,
        total_scale: (1.0 / sum_w) as f32,
        ratio_limit,
        ratio_slope: (sum_wt2 / sum_w) as f32,
        am,
    }
}

static TABLES: Tables = build();

/// One frequency's verdict on one block.
#[derive(Clone, Copy, Default)]
struct Bin {
    present: bool,
    magnitude: f32,
    phase: f32,
    /// Measured offset in rad/sample.
    delta: f32,
}

/// A tone being followed: when it started, when it was last seen.
#[derive(Debug, Clone, Copy, Default)]
struct Track {
    on: bool,
    start: u64,
    last_end: u64,
    misses: u32,
    blocks: u32,
    /// Magnitude of the latest tone block, not yet counted in `low`/`high`: the first and last
    /// blocks of a burst are partly covered, so only the blocks between them are.
    pending: Option<f32>,
    seen_first: bool,
    low: f32,
    high: f32,
}

impl Track {
    /// Follows one block; returns true when the tone just ended (after `END_MISSES`).
    fn step(&mut self, present: bool, magnitude: f32, block_start: u64, block_end: u64) -> bool {
        if present {
            if !self.on {
                *self = Track { on: true, start: block_start, last_end: block_end, low: f32::MAX, ..Track::default() };
            }
            if let Some(m) = self.pending.replace(magnitude) {
                if self.seen_first {
                    self.low = self.low.min(m);
                    self.high = self.high.max(m);
                }
                self.seen_first = true;
            }
            self.last_end = block_end;
            self.misses = 0;
        } else if self.on {
            self.misses += 1;
            if self.misses >= END_MISSES {
                self.on = false;
                return true;
            }
        }
        if self.on {
            self.blocks += 1;
        }
        false
    }

    /// The interior blocks kept a steady level (true when there were none to compare).
    fn steady(&self, max_ratio: f32) -> bool {
        self.high <= self.low * max_ratio || self.high == 0.0
    }
}

/// The answer-tone analysis that runs while a 2100 Hz tone lasts.
#[derive(Debug, Clone, Copy, Default)]
struct Answer {
    /// Phase and block number of the last tone block, for reversals.
    last_phase: Option<(f32, u32)>,
    /// Phase turn per block from the frequency offset.
    drift: f32,
    last_reversal: Option<u64>,
    reversals: bool,
    /// Current AM window: Σa, Σa·cos, Σa·sin, and the last magnitude (held over empty blocks).
    am_sum: (f32, f32, f32),
    am_last: f32,
    am_windows: u32,
    am_votes: u32,
    /// Lowest and highest mean magnitude of the AM windows so far.
    level_low: f32,
    level_high: f32,
    announced: Option<FaxTone>,
}

/// Fax/modem tone detector for one channel: feed [`FaxDetector::process`] every 1 ms block and
/// drain [`FaxDetector::poll_event`].
#[derive(Debug, Clone)]
pub struct FaxDetector {
    acc: [f32; 8],
    total: f32,
    pos: usize,
    samples: u64,
    cng: Track,
    ans: Track,
    answer: Answer,
    events: [Option<FaxEvent>; 2],
    min_power: f32,
}

impl Default for FaxDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl FaxDetector {
    pub fn new() -> Self {
        #[allow(clippy::cast_possible_truncation, reason = "thresholds are stored as f32 on purpose")]
        let min_power = (DBM0_RMS * DBM0_RMS * 10f64.powf(MIN_DBM0 / 10.0)) as f32;
        FaxDetector {
            acc: [0.0; 8],
            total: 0.0,
            pos: 0,
            samples: 0,
            cng: Track::default(),
            ans: Track::default(),
            answer: Answer::default(),
            events: [None; 2],
            min_power,
        }
    }

    /// Forgets everything, including the sample clock.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// What the current 2100 Hz tone has been reported as, if one is sounding.
    pub fn answer_tone(&self) -> Option<FaxTone> {
        if self.ans.on {
            self.answer.announced
        } else {
            None
        }
    }

    /// Takes one 1 ms block of linear samples.
    pub fn process(&mut self, block: &[i16; BLOCK]) {
        let t = &TABLES;
        // N is a whole number of 1 ms blocks: a block never straddles two analysis blocks, and
        // the accumulators stay in registers for the whole block.
        let base = self.pos;
        let rows: &[[f32; 8]; BLOCK] = t.kernel[base..base + BLOCK].try_into().expect("N is a multiple of BLOCK");
        let window: &[f32; BLOCK] = t.window[base..base + BLOCK].try_into().expect("N is a multiple of BLOCK");
        let mut acc = self.acc;
        let mut total = 0f32;
        for ((&x, row), &w) in block.iter().zip(rows).zip(window) {
            let x = f32::from(x);
            for (a, &c) in acc.iter_mut().zip(row) {
                *a += x * c;
            }
            total += x * x * w;
        }
        self.acc = acc;
        self.total += total;
        self.pos += BLOCK;
        self.samples += BLOCK as u64;
        if self.pos == N {
            self.end_block();
            self.acc = [0.0; 8];
            self.total = 0.0;
            self.pos = 0;
        }
    }

    /// The next pending event, oldest first.
    pub fn poll_event(&mut self) -> Option<FaxEvent> {
        let e = self.events[0].take();
        self.events[0] = self.events[1].take();
        e
    }

    fn push(&mut self, tone: FaxTone, at: u64) {
        let e = Some(FaxEvent { tone, at });
        if self.events[0].is_none() {
            self.events[0] = e;
        } else if self.events[1].is_none() {
            self.events[1] = e;
        } else {
            self.events[0] = self.events[1].take();
            self.events[1] = e;
        }
    }

    fn bin(&self, f: usize) -> Bin {
        let t = &TABLES;
        let a = &self.acc;
        let mag2 = a[f] * a[f] + a[2 + f] * a[2 + f];
        let power = mag2 * t.power_scale;
        if power < self.min_power || mag2 <= 0.0 {
            return Bin::default();
        }
        let ratio = (a[6 + f] * a[f] - a[4 + f] * a[2 + f]) / mag2;
        let delta = ratio / t.ratio_slope;
        let present = ratio.abs() <= t.ratio_limit[f] && power >= MIN_PURITY * self.total * t.total_scale;
        Bin { present, magnitude: power.sqrt(), phase: a[2 + f].atan2(a[f]), delta }
    }

    fn end_block(&mut self) {
        let end = self.samples;
        let start = end - N as u64;
        let (cng, ans) = (self.bin(0), self.bin(1));

        if self.cng.step(cng.present, cng.magnitude, start, end) {
            let len = self.cng.last_end - self.cng.start;
            if (CNG_MIN..=CNG_MAX).contains(&len) && self.cng.steady(CNG_STEADY) {
                self.push(FaxTone::Cng, self.cng.start);
            }
        }

        let was_on = self.ans.on;
        self.ans.step(ans.present, ans.magnitude, start, end);
        if !self.ans.on {
            self.answer = Answer::default();
            return;
        }
        if !was_on {
            self.answer = Answer::default();
        }
        self.answer_block(ans, start);
    }

    /// Reversals, AM and reporting for one block inside a 2100 Hz tone.
    fn answer_block(&mut self, bin: Bin, block_start: u64) {
        let t = &TABLES;
        let k = self.ans.blocks - 1;
        let tone_start = self.ans.start;
        let a = &mut self.answer;
        let mut reversal_now = false;
        if bin.present {
            #[allow(clippy::cast_precision_loss, reason = "N is small")]
            let turn = bin.delta * N as f32;
            match a.last_phase {
                None => a.drift = turn,
                Some((phase, at)) => {
                    #[allow(clippy::cast_precision_loss, reason = "block counts are small")]
                    let gap = (k - at) as f32;
                    let dev = wrap(bin.phase - phase - a.drift * gap);
                    if dev.abs() > REVERSAL_RAD {
                        reversal_now = true;
                    } else {
                        // Follow the measured rotation, which is finer than one block's estimate.
                        a.drift += 0.25 * dev / gap;
                    }
                }
            }
            a.last_phase = Some((bin.phase, k));
            a.am_last = bin.magnitude;
        }
        // AM: empty blocks inside the tone (a reversal) hold the last magnitude.
        let (c, s) = t.am[k as usize % AM_WINDOW];
        a.am_sum.0 += a.am_last;
        a.am_sum.1 += a.am_last * c;
        a.am_sum.2 += a.am_last * s;
        if (k as usize + 1) % AM_WINDOW == 0 {
            let (m0, mc, ms) = a.am_sum;
            let index = if m0 > 0.0 { 2.0 * (mc * mc + ms * ms).sqrt() / m0 } else { 0.0 };
            a.am_windows += 1;
            a.am_votes += u32::from(index >= MIN_AM_INDEX);
            if a.am_windows == 1 {
                a.level_low = m0;
            }
            a.level_low = a.level_low.min(m0);
            a.level_high = a.level_high.max(m0);
            a.am_sum = (0.0, 0.0, 0.0);
        }
        if reversal_now {
            let since = block_start - a.last_reversal.unwrap_or(tone_start);
            if (REVERSAL_MIN..=REVERSAL_MAX).contains(&since) {
                a.reversals = true;
            }
            a.last_reversal = Some(block_start);
        }
        let mut report = None;
        if a.announced.is_none() && self.ans.blocks >= ANNOUNCE_BLOCKS && a.level_high <= a.level_low * ANS_STEADY {
            let am = a.am_windows >= 2 && a.am_votes == a.am_windows;
            report = Some(classify(am, a.reversals));
        } else if let Some(tone) = a.announced {
            if a.reversals && !tone.has_reversals() {
                report = Some(classify(matches!(tone, FaxTone::AnsAm), true));
            }
        }
        if let Some(tone) = report {
            a.announced = Some(tone);
            self.push(tone, tone_start);
        }
    }
}

fn classify(am: bool, reversals: bool) -> FaxTone {
    match (am, reversals) {
        (false, false) => FaxTone::Ans,
        (false, true) => FaxTone::AnsPr,
        (true, false) => FaxTone::AnsAm,
        (true, true) => FaxTone::AnsAmPr,
    }
}

/// An angle brought into (-π, π].
fn wrap(x: f32) -> f32 {
    use core::f32::consts::{PI, TAU};
    let r = x.rem_euclid(TAU);
    if r > PI {
        r - TAU
    } else {
        r
    }
}
