//! Packet loss concealment for decoded 8 kHz audio (G.711 and anything else decoded to linear).
//!
//! The idea is the one of ITU-T G.711 Appendix I: a lost frame is replaced by the last pitch
//! period of the good signal, repeated, and faded out the longer the erasure lasts; when good
//! audio comes back it is cross-faded in. This is our own simplified version, written from that
//! description: the pitch is found by normalised autocorrelation over 5-15 ms lags (pitches of
//! 66-200 Hz, the Appendix's range); the repeated period has its last quarter cross-faded with the
//! quarter before its start so the loop has no click; the first 10 ms of an erasure play at full
//! level, then the level falls linearly to silence at 60 ms (speech repeated longer only buzzes);
//! the first 1 ms block after an erasure fades from the synthetic signal to the real one.
//!
//! It works on the media thread's 8-sample blocks: [`Plc::good`] for every received block (it keeps
//! the history), [`Plc::conceal`] for each block of a missing frame. Fixed arrays, no allocation.

/// Samples per block.
pub const BLOCK: usize = 8;
/// Shortest pitch period searched, in samples (5 ms).
pub const PITCH_MIN: usize = 40;
/// Longest pitch period searched, in samples (15 ms).
pub const PITCH_MAX: usize = 120;
/// Samples compared per lag in the pitch search.
const CORR_LEN: usize = 80;
/// History kept: the longest period, its overlap quarter and the correlation window.
const HISTORY: usize = PITCH_MAX + PITCH_MAX / 4 + CORR_LEN;
/// Concealed samples played at full level.
const FULL_LEVEL: u32 = 80;
/// Concealed samples after which the output is silent.
const SILENT_AFTER: u32 = 480;

/// The concealment state of one channel.
#[derive(Debug, Clone)]
pub struct Plc {
    /// The last `HISTORY` good samples, oldest first.
    history: [i16; HISTORY],
    /// The pitch period being repeated, with its seam smoothed.
    cycle: [i16; PITCH_MAX],
    pitch: usize,
    /// Position in `cycle` of the next concealed sample.
    pos: usize,
    /// Samples concealed in the current erasure (0: not in an erasure).
    erased: u32,
}

impl Default for Plc {
    fn default() -> Self {
        Self::new()
    }
}

impl Plc {
    pub fn new() -> Self {
        Plc { history: [0; HISTORY], cycle: [0; PITCH_MAX], pitch: PITCH_MIN, pos: 0, erased: 0 }
    }

    /// Whether the last block was concealed.
    pub fn in_erasure(&self) -> bool {
        self.erased > 0
    }

    /// The pitch period (in samples) of the current or last erasure.
    pub fn pitch(&self) -> usize {
        self.pitch
    }

    /// Takes one good block. Right after an erasure the block is faded in from the concealment,
    /// so the real signal does not start with a step.
    pub fn good(&mut self, block: &mut [i16; BLOCK]) {
        if self.erased > 0 {
            let mut synth = [0i16; BLOCK];
            self.synthesise(&mut synth);
            for (k, (s, y)) in block.iter_mut().zip(synth).enumerate() {
                let w = i32::try_from(k + 1).unwrap_or(0);
                let n = i32::try_from(BLOCK + 1).unwrap_or(1);
                *s = sat(((n - w) * i32::from(y) + w * i32::from(*s)) / n);
            }
            self.erased = 0;
        }
        self.history.copy_within(BLOCK.., 0);
        self.history[HISTORY - BLOCK..].copy_from_slice(block);
    }

    /// Fills one block of a missing frame.
    pub fn conceal(&mut self, block: &mut [i16; BLOCK]) {
        if self.erased == 0 {
            self.start_erasure();
        }
        self.synthesise(block);
        // The concealed audio becomes history too, so a following erasure after a single good
        // block continues smoothly instead of searching a pitch in a gap.
        self.history.copy_within(BLOCK.., 0);
        self.history[HISTORY - BLOCK..].copy_from_slice(block);
    }

    fn synthesise(&mut self, block: &mut [i16; BLOCK]) {
        for s in block.iter_mut() {
            let gain = if self.erased < FULL_LEVEL {
                1.0
            } else if self.erased >= SILENT_AFTER {
                0.0
            } else {
                f64::from(SILENT_AFTER - self.erased) / f64::from(SILENT_AFTER - FULL_LEVEL)
            };
            *s = sat_f(f64::from(self.cycle[self.pos]) * gain);
            self.pos = (self.pos + 1) % self.pitch;
            self.erased = self.erased.saturating_add(1);
        }
    }

    fn start_erasure(&mut self) {
        self.pitch = self.find_pitch();
        let p = self.pitch;
        let q = p / 4;
        let end = HISTORY;
        self.cycle[..p].copy_from_slice(&self.history[end - p..end]);
        // Cross-fade the period's tail into the samples that preceded its start, so that the loop
        // from cycle[p-1] back to cycle[0] is as smooth as the real signal was.
        let q_i = i32::try_from(q.max(1)).unwrap_or(1);
        for k in 0..q {
            let w = i32::try_from(k + 1).unwrap_or(0);
            let tail = i32::from(self.cycle[p - q + k]);
            let before = i32::from(self.history[end - p - q + k]);
            self.cycle[p - q + k] = sat(((q_i - w) * tail + w * before) / q_i);
        }
        self.pos = 0;
    }

    /// The lag in `PITCH_MIN..=PITCH_MAX` that best predicts the last `CORR_LEN` samples.
    fn find_pitch(&self) -> usize {
        let h = &self.history;
        let last = &h[HISTORY - CORR_LEN..];
        let mut best = PITCH_MIN;
        let mut best_score = f64::MIN;
        for lag in PITCH_MIN..=PITCH_MAX {
            let past = &h[HISTORY - CORR_LEN - lag..HISTORY - lag];
            let (mut xy, mut yy) = (0.0f64, 0.0f64);
            for (&x, &y) in last.iter().zip(past) {
                xy += f64::from(x) * f64::from(y);
                yy += f64::from(y) * f64::from(y);
            }
            // Normalised by the lagged energy only: the target's energy is the same for every lag.
            let score = if yy > 0.0 { xy * xy.abs() / yy } else { 0.0 };
            // Strictly better only: for a periodic signal the shortest matching lag wins, not a
            // multiple of it.
            if score > best_score * 1.0001 + 1e-9 {
                best_score = score;
                best = lag;
            }
        }
        best
    }
}

fn sat(x: i32) -> i16 {
    i16::try_from(x.clamp(i32::from(i16::MIN), i32::from(i16::MAX))).unwrap_or(0)
}

fn sat_f(x: f64) -> i16 {
    // Clamped to the i16 range first, so the conversion cannot truncate.
    #[allow(clippy::cast_possible_truncation)]
    let v = x.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
    v
}
