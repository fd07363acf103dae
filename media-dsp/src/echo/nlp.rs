//! The non-linear processor's comfort noise: a background-level tracker and a noise generator.
//!
//! When the NLP removes the residual echo, a line that falls silent sounds dead; G.168 Test 9
//! asks for noise matched to the near-end background instead. The level comes from minimum
//! statistics on the cancelled signal: the lowest 16 ms power seen over the last 1.5 s, corrected
//! for the bias of taking a minimum. Only blocks with no echo in them feed it (see `mod.rs`):
//! residual echo taken for background would make the comfort noise itself an echo. Near-end
//! speech has pauses, so the minimum finds the background under it; a rise is followed within
//! 1.5 s of echo-free blocks, a fall at once (any block may lower it).
//!
//! A far end that never pauses leaves no echo-free block (G.168 Test 9 under a continuous Hoth
//! far end). Then the cancelled signal of a converged canceller, with nobody talking at the near
//! end, teaches the level too, but only while its smoothed power has stayed within 6 dB over the
//! whole window: residual echo follows the far end's bursts and pauses, a background does not.
//! Correlating the error with the echo estimate (in power or in amplitude) does not tell them
//! apart: a converged filter's residual comes from a misalignment in random directions, which is
//! uncorrelated with the estimate (G.168 Test 2A showed it).
//! Known limit: under a stationary far end (a continuous noise), residual echo is stationary too,
//! and a canceller that has converged to only 12 dB would take it for background.

use super::{db_to_power, BLOCK};

/// Blocks per minimum-statistics sub-window (250 ms) and sub-windows kept (1.5 s in all).
const SUB_BLOCKS: u32 = 250;
const SUBS: usize = 6;
/// The minimum of a 16 ms power average over 1.5 s of steady noise sits about 1.5 dB under its
/// mean; this undoes that.
const BIAS: f32 = 1.4;

/// Power gain of the tilt filter `y = x + TILT·y1` on white noise is 1/(1 - TILT²).
const TILT: f32 = 0.5;

/// Highest spread (max over min, 6 dB) of the smoothed error power over the minimum-statistics
/// window for the error to count as a stationary background.
const STATIONARY: f32 = 4.0;

/// Background tracker and comfort-noise source.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ComfortNoise {
    /// Smoothed power of the echo-free blocks (about 16 ms of them), and of the error.
    smooth: f32,
    smooth_err: f32,
    sub_min: f32,
    subs: [f32; SUBS],
    /// The smoothed error's extremes per sub-window, for the stationarity test.
    err_max: f32,
    err_min: f32,
    err_maxs: [f32; SUBS],
    err_mins: [f32; SUBS],
    sub_idx: usize,
    sub_count: u32,
    /// Background power estimate.
    noise: f32,
    rng: u32,
    /// One-pole tilt state: the generated noise leans to the low band like real line noise.
    lp: f32,
}

impl ComfortNoise {
    pub(crate) fn new() -> Self {
        let floor = db_to_power(-70.0);
        ComfortNoise {
            smooth: floor,
            smooth_err: floor,
            sub_min: f32::MAX,
            subs: [floor; SUBS],
            err_max: 0.0,
            err_min: f32::MAX,
            // Not stationary until a whole window was seen.
            err_maxs: [f32::MAX; SUBS],
            err_mins: [0.0; SUBS],
            sub_idx: 0,
            sub_count: 0,
            noise: floor,
            rng: 0x2545_f491,
            lp: 0.0,
        }
    }

    pub(crate) fn reset(&mut self) {
        *self = ComfortNoise { rng: self.rng, ..ComfortNoise::new() };
    }

    /// The background power estimate.
    pub(crate) fn level(&self) -> f32 {
        self.noise
    }

    /// Feeds one block: `echo_free` is Sin's power when the block holds no echo (background and
    /// near-end speech only), `error` the cancelled signal's power, which can only lower the
    /// estimate (it holds the background plus whatever the filter leaves or mispredicts), and
    /// `error_ok` says the canceller has converged and nobody talks at the near end: then a
    /// stationary error also teaches the level.
    pub(crate) fn track(&mut self, echo_free: Option<f32>, error: f32, error_ok: bool) {
        if let Some(p) = echo_free {
            self.smooth += (p - self.smooth) * (1.0 / 16.0);
            self.sub_min = self.sub_min.min(self.smooth);
        }
        self.smooth_err += (error - self.smooth_err) * (1.0 / 16.0);
        self.err_max = self.err_max.max(self.smooth_err);
        self.err_min = self.err_min.min(self.smooth_err);
        if error_ok && self.stationary() {
            self.sub_min = self.sub_min.min(self.smooth_err);
        }
        self.sub_count += 1;
        if self.sub_count >= SUB_BLOCKS {
            self.subs[self.sub_idx] = self.sub_min;
            // A sub-window without a single background block keeps the last estimate.
            self.sub_min = f32::MAX;
            self.err_maxs[self.sub_idx] = self.err_max;
            self.err_mins[self.sub_idx] = self.err_min;
            self.sub_idx = (self.sub_idx + 1) % SUBS;
            (self.err_max, self.err_min) = (0.0, f32::MAX);
            self.sub_count = 0;
            let m = self.subs.iter().copied().fold(f32::MAX, f32::min);
            if m < f32::MAX {
                self.noise = m * BIAS;
            }
        }
        // A fall is believed at once.
        self.noise = self.noise.min(self.smooth_err * BIAS);
        // Never below the -90 dBm0 a 16-bit line can carry.
        self.noise = self.noise.max(db_to_power(-90.0));
    }

    /// The smoothed error stayed within [`STATIONARY`] over the last window: the far end's bursts,
    /// which residual echo follows, would spread it further.
    fn stationary(&self) -> bool {
        let hi = self.err_maxs.iter().copied().fold(self.err_max, f32::max);
        let lo = self.err_mins.iter().copied().fold(self.err_min, f32::min);
        hi < STATIONARY * lo
    }

    /// Replaces `out` with comfort noise at the background level.
    pub(crate) fn fill(&mut self, out: &mut [f32; BLOCK]) {
        // Uniform noise of unit power has amplitude sqrt(3); the tilt adds 1/(1 - TILT²).
        let scale = (self.noise * 3.0 * (1.0 - TILT * TILT)).sqrt();
        for o in out.iter_mut() {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 17;
            self.rng ^= self.rng << 5;
            #[allow(clippy::cast_precision_loss, reason = "24 random bits are plenty")]
            let u = (self.rng >> 8) as f32 * (2.0 / 16_777_216.0) - 1.0;
            self.lp = u + TILT * self.lp;
            *o = self.lp * scale;
        }
    }
}
