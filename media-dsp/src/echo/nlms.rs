//! The two-path IPNLMS adaptive filter: a background filter that always learns, a foreground
//! filter that only ever receives the background's taps when they have proven better.
//!
//! Why two paths: a double-talk detector always misses some near-end speech, and an NLMS filter
//! that adapts on it diverges. Here the background may diverge, but the foreground (whose output
//! is the canceller's output) only takes its taps when the background's error has been clearly
//! lower for a while, and a background that has wandered off is put back from the foreground.
//!
//! Speech is coloured, and NLMS converges slowly along the weak directions of a coloured input.
//! So the background adapts in a pre-whitened domain: a second-order linear predictor, refitted
//! every block from a slow (about 0.5 s) autocorrelation of the far end, turns the far end into
//! its prediction error `z` and Sin into `d_z`, and the adaptation error is `d_z - w·z`. The
//! predictor is applied to both sides of `d = w·x`, so the taps converge to the same echo path,
//! only faster; the echo estimate that is subtracted is still `w·x`. Two things that looked
//! cheaper did not work: filtering past a-priori errors instead (stale after each large NLMS step;
//! it diverges), and a fast (32 ms) predictor (the history would hold `z` made with many
//! different predictors, which caps the ERLE near 30 dB).
//!
//! The far-end history (raw and whitened) is a flat buffer written backwards, so the window for
//! every sample is one contiguous slice (`x[k]` = the sample `k` steps ago) that the SIMD kernels
//! read directly. Once the write position reaches the front, the current window is copied to the
//! back: one copy per `SLACK` samples.

use crate::simd::Kernel;

use super::BLOCK;

/// Extra room in the history buffer; a multiple of the block so a block never straddles a wrap.
const SLACK: usize = 1024;

/// IPNLMS proportionality: -0.5 is the usual compromise between NLMS (-1) and PNLMS (+1).
const ALPHA: f32 = -0.5;

/// Regulariser of the step normaliser: a far-end power below about -50 dBm0 (rms 51) cannot
/// drive the step, which keeps quiet far-end noise from making the filter wander.
const DELTA_POWER: f32 = 2600.0;

/// The adaptive filter pair and the far-end history they share.
pub(crate) struct TwoPath {
    kernel: Kernel,
    taps: usize,
    /// Background taps (always adapting, within what the controller allows).
    bg: Vec<f32>,
    /// Foreground taps (produce the output).
    fg: Vec<f32>,
    /// Far-end history, written backwards from `pos`, and its whitened form at the same places.
    hist: Vec<f32>,
    white: Vec<f32>,
    /// `z²` beside `white`, so the fused pass loads it rather than multiplying again.
    white_sq: Vec<f32>,
    pos: usize,
    /// `Σ z²` over the current whitened window (recomputed exactly at every wrap).
    energy: f64,
    whitener: Whitener,
    /// The last two Sin samples, for the whitened Sin.
    d1: f32,
    d2: f32,
    /// Samples since the last non-zero far-end sample, to skip all work on a silent far end.
    silent_run: usize,
    /// See [`TwoPath::span`]; the whole filter until the first promotion.
    span: (usize, usize),
    span_stale: bool,
    span_age: u32,
}

/// A second-order linear predictor of the far end, refitted every block.
#[derive(Clone, Copy, Debug, Default)]
struct Whitener {
    /// Smoothed autocorrelation at lags 0, 1, 2.
    r: [f32; 3],
    /// Predictor `z = x + a1·x[-1] + a2·x[-2]`.
    a1: f32,
    a2: f32,
    x1: f32,
    x2: f32,
}

impl Whitener {
    /// Refits the predictor on the autocorrelation updated with `x` (Levinson-Durbin, order 2).
    fn fit(&mut self, x: &[i16; BLOCK]) {
        let (mut p1, mut p2) = (self.x1, self.x2);
        let mut acc = [0.0f32; 3];
        for &s in x {
            let s = f32::from(s);
            acc[0] += s * s;
            acc[1] += s * p1;
            acc[2] += s * p2;
            (p2, p1) = (p1, s);
        }
        for (r, a) in self.r.iter_mut().zip(acc) {
            *r += (a - *r) * (1.0 / 512.0);
        }
        // A touch of white noise keeps the fit well conditioned on tones and silence.
        let r0 = self.r[0] * 1.001 + 1.0;
        let k1 = -self.r[1] / r0;
        let err = r0 * (1.0 - k1 * k1);
        let k2 = -(self.r[2] + k1 * self.r[1]) / err;
        // Bandwidth expansion (0.9 per lag) so a sharp resonance is flattened, not notched out.
        self.a1 = (k1 + k2 * k1) * 0.9;
        self.a2 = k2 * 0.81;
    }

    fn step(&mut self, x: f32) -> f32 {
        let z = x + self.a1 * self.x1 + self.a2 * self.x2;
        (self.x2, self.x1) = (self.x1, x);
        z
    }
}

/// The smallest tap range holding 99.5% of the taps' energy (0.25% cut at each end).
fn energy_span(w: &[f32]) -> (usize, usize) {
    let total: f32 = w.iter().map(|v| v * v).sum();
    if total <= 0.0 {
        return (0, w.len() - 1);
    }
    let cut = total * 0.0025;
    let (mut first, mut acc) = (0, 0.0);
    while first + 1 < w.len() && acc + w[first] * w[first] < cut {
        acc += w[first] * w[first];
        first += 1;
    }
    let (mut last, mut acc) = (w.len() - 1, 0.0);
    while last > first && acc + w[last] * w[last] < cut {
        acc += w[last] * w[last];
        last -= 1;
    }
    (first, last)
}

/// The per-sample results of one block.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BlockOut {
    /// Foreground error: the cancelled signal.
    pub e_fg: [f32; BLOCK],
    /// Background a-priori error.
    pub e_bg: [f32; BLOCK],
    /// Foreground echo estimate.
    pub y_fg: [f32; BLOCK],
}

impl TwoPath {
    /// A filter of `taps` taps (a multiple of 16) running on `kernel`.
    pub(crate) fn new(taps: usize, kernel: Kernel) -> Self {
        debug_assert!(taps % 16 == 0 && taps > 0);
        TwoPath {
            kernel,
            taps,
            bg: vec![0.0; taps],
            fg: vec![0.0; taps],
            hist: vec![0.0; taps + SLACK],
            white: vec![0.0; taps + SLACK],
            white_sq: vec![0.0; taps + SLACK],
            pos: SLACK,
            energy: 0.0,
            whitener: Whitener::default(),
            d1: 0.0,
            d2: 0.0,
            silent_run: usize::MAX / 2,
            span: (0, taps - 1),
            span_stale: false,
            span_age: 0,
        }
    }

    pub(crate) fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Clears taps and history.
    pub(crate) fn reset(&mut self) {
        self.bg.fill(0.0);
        self.fg.fill(0.0);
        self.hist.fill(0.0);
        self.white.fill(0.0);
        self.white_sq.fill(0.0);
        self.pos = SLACK;
        self.energy = 0.0;
        self.whitener = Whitener::default();
        (self.d1, self.d2) = (0.0, 0.0);
        self.silent_run = usize::MAX / 2;
        self.span = (0, self.taps - 1);
        (self.span_stale, self.span_age) = (false, 0);
    }

    /// Copies the background taps into the foreground (the background proved better), and
    /// notes where the foreground's energy lies.
    pub(crate) fn promote(&mut self) {
        self.fg.copy_from_slice(&self.bg);
        self.span_stale = true;
    }

    /// The taps holding all but 0.5% of the foreground's energy, as `(first, last)`: where the
    /// echo path is, so the caller knows which stretch of far-end history can make echo now.
    /// Recomputed at most every 128 calls after a promotion (the scan is as long as a filter
    /// pass, and promotions come every few milliseconds while converging).
    pub(crate) fn span(&mut self) -> (usize, usize) {
        self.span_age = self.span_age.saturating_add(1);
        if self.span_stale && self.span_age >= 128 {
            self.span = energy_span(&self.fg);
            self.span_stale = false;
            self.span_age = 0;
        }
        self.span
    }

    /// Copies the foreground taps into the background (the background diverged).
    pub(crate) fn demote(&mut self) {
        self.bg.copy_from_slice(&self.fg);
    }

    /// Pushes one far-end sample into the history.
    fn push(&mut self, x: i16) {
        // The oldest sample of the current window leaves it.
        let leaving = f64::from(self.white[self.pos + self.taps - 1]);
        self.pos -= 1;
        let xf = f32::from(x);
        let z = self.whitener.step(xf);
        self.hist[self.pos] = xf;
        self.white[self.pos] = z;
        self.white_sq[self.pos] = z * z;
        self.energy += f64::from(z) * f64::from(z) - leaving * leaving;
        self.silent_run = if x == 0 { self.silent_run.saturating_add(1) } else { 0 };
    }

    /// `a1·d[n-1] + a2·d[n-2]`: the predictor's part of the whitened Sin at the block's sample
    /// `i`, reaching into the previous block for the first two.
    fn whiten_d(&self, sin: &[f32; BLOCK], i: usize) -> f32 {
        let (a1, a2) = (self.whitener.a1, self.whitener.a2);
        let d1 = if i >= 1 { sin[i - 1] } else { self.d1 };
        let d2 = match i {
            0 => self.d2,
            1 => self.d1,
            _ => sin[i - 2],
        };
        a1 * d1 + a2 * d2
    }

    /// Runs one block: pushes `rin`, predicts and cancels the echo in `sin` with both filters, and
    /// adapts the background with step `mu` (0 freezes it) at every `stride`-th sample (1, 2, 4
    /// or 8). Stride 1 is full NLMS; a converged canceller only tracks, and adapting at every
    /// second sample halves the background's cost (the dominant one) while each update stays a
    /// full normalised step.
    ///
    /// The background's error (`e_bg`) is computed only when `bg_error` is set (it costs a pass
    /// of its own and only feeds the two-path comparison); otherwise it is left zero.
    pub(crate) fn block(
        &mut self,
        sin: &[f32; BLOCK],
        rin: &[i16; BLOCK],
        mu: f32,
        stride: usize,
        bg_error: bool,
    ) -> BlockOut {
        debug_assert!(stride.is_power_of_two() && stride <= BLOCK);
        let mut out = BlockOut::default();
        if self.pos < BLOCK {
            // Move the current window to the back; `pos` stays a multiple of the block.
            self.hist.copy_within(self.pos..self.pos + self.taps, SLACK);
            self.white.copy_within(self.pos..self.pos + self.taps, SLACK);
            self.white_sq.copy_within(self.pos..self.pos + self.taps, SLACK);
            self.pos = SLACK;
            // The running energy picks up rounding on every sample; start it afresh.
            self.energy = self.white[SLACK..SLACK + self.taps].iter().map(|&z| f64::from(z) * f64::from(z)).sum();
        }
        self.whitener.fit(rin);
        for &x in rin {
            self.push(x);
        }
        // With the whole window silent, both filters output exactly zero and nothing can adapt.
        if self.silent_run >= self.taps + BLOCK {
            out.e_fg = *sin;
            out.e_bg = *sin;
            (self.d2, self.d1) = (sin[BLOCK - 2], sin[BLOCK - 1]);
            return out;
        }
        let n = self.taps;
        // Sample i (0 = oldest of the block) has its window at `pos + BLOCK - 1 - i`.
        let base = self.pos + BLOCK - 1;
        // Whitened energies of the block's windows, derived backwards from the newest one.
        let mut energies = [0.0f32; BLOCK];
        let mut e = self.energy;
        for i in (0..BLOCK).rev() {
            #[allow(clippy::cast_possible_truncation, reason = "a step normaliser needs no 53-bit precision")]
            let ef = e.max(0.0) as f32;
            energies[i] = ef;
            if i > 0 {
                // Going one sample back: the newest sample leaves, the one just past the end returns.
                let (newest, back) = (f64::from(self.white[base - i]), f64::from(self.white[base - i + n]));
                e += back * back - newest * newest;
            }
        }
        let a = (1.0 - ALPHA) / (2.0 * n_f32(n));
        let delta = a * n_f32(n) * DELTA_POWER;
        let mut cur = self.kernel.prime(&self.bg, &self.white[base..base + n]);
        // The foreground is fixed for the block: its eight outputs in one pass.
        out.y_fg = self.kernel.dot_block(&self.fg, &self.hist, base);
        // The background's error for the two-path comparison, with its taps as the block starts:
        // an a-priori error, like the foreground's. (With the taps after the block's updates it
        // would be a-posteriori, biased low, and promote a background that fits a near-end talker.)
        if bg_error {
            let y_bg = self.kernel.dot_block(&self.bg, &self.hist, base);
            out.e_bg = std::array::from_fn(|i| sin[i] - y_bg[i]);
        }
        out.e_fg = std::array::from_fn(|i| sin[i] - out.y_fg[i]);
        // The background adapts at every `stride`-th sample of the block (see `block`'s doc).
        let mut i = 0;
        while i < BLOCK {
            let w0 = base - i;
            let d = sin[i];
            // The adaptation error in the whitened domain.
            let dw = d + self.whiten_d(sin, i);
            let err_w = dw - cur.dot_z;
            // The proportionate part of the gains, `b·|w_k|`, sums to (1+α)/2 whatever the taps.
            let b = (1.0 + ALPHA) / (2.0 * cur.l1 + 1e-6);
            let norm = a * energies[i] + b * cur.s1 + delta;
            let c = mu * err_w / norm;
            // The sums for the next update's window come out of this pass; the block's last update
            // has no such window yet (the next block primes its own), so it sums an old one.
            let next = if i + stride < BLOCK { w0 - stride } else { w0 };
            let z_next = &self.white[next..next + n];
            if c != 0.0 {
                let q_next = &self.white_sq[next..next + n];
                cur = self.kernel.fused(&mut self.bg, &self.white[w0..w0 + n], z_next, q_next, c * a, c * b);
            } else if i + stride < BLOCK {
                cur = self.kernel.prime(&self.bg, z_next);
            }
            i += stride;
        }
        (self.d2, self.d1) = (sin[BLOCK - 2], sin[BLOCK - 1]);
        out
    }
}

#[allow(clippy::cast_precision_loss, reason = "tap counts are at most a few thousand")]
fn n_f32(n: usize) -> f32 {
    n as f32
}
