//! The G.165 tone disabler: 2100 Hz with periodic phase reversals puts the canceller in bypass.
//!
//! A V-series data modem answers with 2100 Hz whose phase flips by 180° every 450 ms (ANS/ANSam
//! with reversals); such a call needs a transparent path, so the canceller steps aside. A plain
//! 2100 Hz tone (fax CED) does not disable it, as G.165 requires; Step 7's fax detector decides
//! that case. The signal is mixed down to baseband at 2100 Hz (an exact 80-sample period at
//! 8 kHz) and low-passed; the tone is present when that baseband holds most of the power, and a
//! reversal is a phase jump of more than 120° across the brief dip a reversal causes, after
//! removing the slow rotation a frequency offset of up to ±21 Hz causes. The bypass ends once both directions have
//! stayed below -36 dBm0 for 250 ms (G.165 allows 250 ± 150 ms).

use super::{db_to_power, BLOCK};

/// Samples in one period of 2100 Hz at 8 kHz (2100/8000 = 21/80).
const PERIOD: usize = 80;
/// One-pole low-pass coefficient of the baseband (about 2 ms time constant).
const BETA: f32 = 1.0 / 16.0;
/// Share of the power the 2100 Hz baseband must hold for "tone present".
const PURITY: f32 = 0.7;
/// Blocks (ms) of tone needed before a reversal counts.
const MIN_TONE_BLOCKS: u32 = 100;
/// Longest purity dip (blocks) still taken as one reversal rather than a new tone.
const MAX_GAP: u32 = 16;
/// Blocks of silence that end the bypass.
const RELEASE_BLOCKS: u32 = 250;

/// One direction's 2100 Hz detector.
#[derive(Clone, Copy)]
struct Detector {
    z: (f32, f32),
    power: f32,
    /// Baseband value at the last block where the tone was clean, and blocks since then.
    anchor: (f32, f32),
    since: u32,
    /// Unit rotation per block caused by a frequency offset.
    drift: (f32, f32),
    tone_blocks: u32,
}

impl Detector {
    const fn new() -> Self {
        Detector { z: (0.0, 0.0), power: 0.0, anchor: (0.0, 0.0), since: u32::MAX, drift: (1.0, 0.0), tone_blocks: 0 }
    }

    /// Runs one block; returns true when a phase reversal of an established tone ended in it.
    ///
    /// During a reversal the baseband swings through zero, so the tone looks impure for a few
    /// blocks; the phase after it is compared with the last clean phase before it (the anchor),
    /// with the drift of a frequency offset over the blocks in between removed.
    fn block(&mut self, x: &[f32; BLOCK], phase: usize, osc: &[(f32, f32); PERIOD], min_power: f32) -> bool {
        for (i, &s) in x.iter().enumerate() {
            let (c, sn) = osc[(phase + i) % PERIOD];
            self.z.0 += (s * c - self.z.0) * BETA;
            self.z.1 += (-s * sn - self.z.1) * BETA;
            self.power += (s * s - self.power) * BETA;
        }
        let mag2 = self.z.0 * self.z.0 + self.z.1 * self.z.1;
        // A pure tone of power P gives |z|² = P/2.
        let present = self.power >= min_power && 2.0 * mag2 >= PURITY * self.power;
        if !present {
            // A reversal briefly spoils the purity; forgive a few blocks of it.
            self.tone_blocks = self.tone_blocks.saturating_sub(4);
            self.since = self.since.saturating_add(1);
            return false;
        }
        let mut reversal = false;
        if self.since == 1 {
            // Consecutive clean blocks: learn the drift.
            let r = mul_conj(self.z, self.anchor);
            let rm = (r.0 * r.0 + r.1 * r.1).sqrt();
            if rm > 0.0 {
                self.drift.0 += (r.0 / rm - self.drift.0) * 0.125;
                self.drift.1 += (r.1 / rm - self.drift.1) * 0.125;
                let dm = (self.drift.0 * self.drift.0 + self.drift.1 * self.drift.1).sqrt().max(1e-6);
                self.drift = (self.drift.0 / dm, self.drift.1 / dm);
            }
        }
        if (2..=MAX_GAP).contains(&self.since) && self.tone_blocks >= MIN_TONE_BLOCKS {
            let mut expected = (1.0, 0.0);
            for _ in 0..self.since {
                expected = mul(expected, self.drift);
            }
            let q = mul_conj(mul_conj(self.z, self.anchor), expected);
            let qm = (q.0 * q.0 + q.1 * q.1).sqrt();
            if qm > 0.0 && q.0 < -0.5 * qm {
                reversal = true;
            }
        }
        self.tone_blocks = self.tone_blocks.saturating_add(1);
        self.anchor = self.z;
        self.since = 1;
        reversal
    }
}

fn mul(a: (f32, f32), b: (f32, f32)) -> (f32, f32) {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

fn mul_conj(a: (f32, f32), b: (f32, f32)) -> (f32, f32) {
    (a.0 * b.0 + a.1 * b.1, a.1 * b.0 - a.0 * b.1)
}

/// Watches both directions and holds the bypass state.
pub(crate) struct ToneDisabler {
    osc: [(f32, f32); PERIOD],
    phase: usize,
    rin: Detector,
    sin: Detector,
    bypass: bool,
    quiet_blocks: u32,
    min_power: f32,
    release_power: f32,
}

impl ToneDisabler {
    pub(crate) fn new() -> Self {
        let mut osc = [(0.0, 0.0); PERIOD];
        for (n, o) in osc.iter_mut().enumerate() {
            #[allow(clippy::cast_precision_loss, reason = "n < 80")]
            let ph = 2.0 * std::f32::consts::PI * 21.0 * n as f32 / 80.0;
            *o = (ph.cos(), ph.sin());
        }
        ToneDisabler {
            osc,
            phase: 0,
            rin: Detector::new(),
            sin: Detector::new(),
            bypass: false,
            quiet_blocks: 0,
            // G.165: the disabler must work on tones down to about -31 dBm0.
            min_power: db_to_power(-31.0),
            release_power: db_to_power(-36.0),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.rin = Detector::new();
        self.sin = Detector::new();
        self.bypass = false;
        self.quiet_blocks = 0;
    }

    /// Runs one block of both directions; returns whether the canceller is bypassed.
    pub(crate) fn block(&mut self, sin: &[f32; BLOCK], rin: &[f32; BLOCK]) -> bool {
        let a = self.rin.block(rin, self.phase, &self.osc, self.min_power);
        let b = self.sin.block(sin, self.phase, &self.osc, self.min_power);
        self.phase = (self.phase + BLOCK) % PERIOD;
        if a || b {
            self.bypass = true;
            self.quiet_blocks = 0;
        } else if self.bypass {
            if self.rin.power < self.release_power && self.sin.power < self.release_power {
                self.quiet_blocks += 1;
                if self.quiet_blocks >= RELEASE_BLOCKS {
                    self.bypass = false;
                    self.quiet_blocks = 0;
                }
            } else {
                self.quiet_blocks = 0;
            }
        }
        self.bypass
    }
}
