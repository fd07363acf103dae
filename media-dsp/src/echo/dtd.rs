//! Double-talk detection: a power Geigel test plus, once converged, a residual test.
//!
//! The Geigel rule says near-end speech is present when Sin is louder than the echo could ever be:
//! G.168 assumes an echo return loss of at least 6 dB, but the hybrid models are far from flat, so
//! on one stretch of speech the echo can come back only 2–3 dB down. The threshold therefore
//! follows the measured ERL (4× the echo gain, between -3 and 0 dB, and -3 dB until the ERL is
//! measured; see `mod.rs`). It is computed on 1 ms block powers
//! rather than on single samples, which makes it far less jumpy on speech peaks. It misses quiet
//! near-end talk, so once the canceller has converged a second rule watches the cancelled signal:
//! an error well above the residual the canceller has been achieving is near-end speech. What both
//! still miss, the two-path filter (see `nlms`) absorbs.

/// Error power above this many times the expected residual is near-end speech.
const RESIDUAL_MARGIN: f32 = 16.0;
/// Blocks (ms) a detection is held after the last hit.
const HANGOVER: u32 = 32;

/// The detector's state for one channel.
pub(crate) struct DoubleTalk {
    /// Far-end block power (lightly smoothed) over the tail, as a ring.
    rin: Vec<f32>,
    idx: usize,
    /// The loudest entry of `rin`, recomputed each block.
    rin_max: f32,
    sin: f32,
    far: f32,
    hang: u32,
    geigel_hang: u32,
}

/// What the detector concluded for a block.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Verdict {
    /// Near-end speech present by either rule (including hangover): adaptation holds.
    pub talk: bool,
    /// Near-end speech louder than any echo could be (Geigel only, with hangover): the NLP opens.
    /// The residual rule is kept out of the NLP because at the onset of a coloured far-end burst
    /// the relative error can swing 10-15 dB, and opening the NLP there lets residual echo out.
    pub loud_talk: bool,
    /// The loudest far-end power over the tail.
    pub rin_max: f32,
    /// The far end's own power now (two-block smoothing).
    pub rin_now: f32,
}

impl DoubleTalk {
    /// A detector for a tail of `blocks` blocks (plus two of slack for the smoothing).
    pub(crate) fn new(blocks: usize) -> Self {
        DoubleTalk { rin: vec![0.0; blocks + 2], idx: 0, rin_max: 0.0, sin: 0.0, far: 0.0, hang: 0, geigel_hang: 0 }
    }

    pub(crate) fn reset(&mut self) {
        self.rin.fill(0.0);
        self.rin_max = 0.0;
        self.sin = 0.0;
        self.far = 0.0;
        self.hang = 0;
        self.geigel_hang = 0;
    }

    /// The loudest far-end block power between `from` and `to` blocks ago (inclusive, 0 = the
    /// block just fed), clipped to the tail.
    pub(crate) fn rin_max_between(&self, from: usize, to: usize) -> f32 {
        let n = self.rin.len();
        let newest = (self.idx + n - 1) % n;
        let mut m = 0.0f32;
        for k in from..=to.min(n - 1) {
            // `newest - k` wrapped into the ring without a division per entry.
            let j = if k <= newest { newest - k } else { newest + n - k };
            let v = self.rin[j];
            m = if v > m { v } else { m };
        }
        m
    }

    /// Feeds one block's powers. `residual` is `Some((error power, expected residual power))`
    /// once the canceller has converged.
    /// `geigel` is the share of the tail's loudest far-end power above which Sin cannot be echo.
    pub(crate) fn update(
        &mut self,
        sin_power: f32,
        rin_power: f32,
        geigel: f32,
        residual: Option<(f32, f32)>,
    ) -> Verdict {
        // Two-block smoothing: enough to stop one loud sample from deciding, short enough to react
        // within the first milliseconds of speech.
        self.sin += (sin_power - self.sin) * 0.5;
        self.far += (rin_power - self.far) * 0.5;
        self.rin[self.idx] = self.far;
        self.idx = (self.idx + 1) % self.rin.len();
        // A plain compare (not `f32::max`, which must mind NaN) lets this vectorise to maxps.
        self.rin_max = self.rin.iter().fold(0.0, |m, &v| if v > m { v } else { m });
        let geigel = self.sin > geigel * self.rin_max;
        // Near-end speech adds power to Sin; an error louder than Sin is the filter's own
        // misprediction (e.g. far-end onset into a long bulk delay), not a talker.
        let resid = residual.is_some_and(|(e, expected)| e > RESIDUAL_MARGIN * expected && sin_power > 0.5 * e);
        if geigel || resid {
            self.hang = HANGOVER;
        } else {
            self.hang = self.hang.saturating_sub(1);
        }
        if geigel {
            self.geigel_hang = HANGOVER;
        } else {
            self.geigel_hang = self.geigel_hang.saturating_sub(1);
        }
        Verdict { talk: self.hang > 0, loud_talk: self.geigel_hang > 0, rin_max: self.rin_max, rin_now: self.far }
    }
}
