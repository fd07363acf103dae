//! 8 kHz <-> 16 kHz resampling for G.711 <-> G.722: a linear-phase half-band FIR, polyphase.
//!
//! One 51-tap half-band low-pass filter (cut-off 4 kHz at 16 kHz, Kaiser window, beta 5.65)
//! serves both directions. Half of its taps are zero and the centre tap is 1/2, so each phase of
//! the polyphase form is cheap: upsampling copies every input sample to one output (delayed) and
//! computes the other output with the 26 non-zero side taps; downsampling computes one output from
//! 26 even-phase inputs plus the centre tap. Measured by `tests/g722_resample.rs`: passband within
//! 0.5 dB up to 3.4 kHz, images and aliases from 4.6 kHz on at least 50 dB down.
//!
//! Delay: the filter is symmetric, so the group delay is the same at every frequency, 25 samples
//! at 16 kHz (1.5625 ms) each way: `Upsampler::DELAY_16K` (25 output samples) and
//! `Downsampler::DELAY_8K` (the output at 8 kHz sample j stands for the input's 16 kHz sample
//! 2j - 24, i.e. 12 output samples; the other half sample is the phase the output is taken on).
//! State is fixed-size and processing allocates nothing.

/// Filter length: 4k + 3, so that both ends are non-zero odd-offset taps.
const TAPS: usize = 51;
/// Non-zero side taps (odd offsets from the centre): 26.
const SIDE: usize = TAPS.div_ceil(2);
/// Kaiser window beta: about 57 dB stopband for this length.
const BETA: f64 = 5.65;
/// How many 8 kHz samples back the centre tap reaches: the filter's delay, 25 samples at 16 kHz,
/// is 12 whole samples at 8 kHz plus the half sample the two phases differ by.
const CENTRE_LAG: usize = (TAPS - 3) / 4;

/// The side taps h[2i - 25], i = 0..26, of the half-band filter (centre tap 1/2, even offsets 0).
fn side_taps() -> [f32; SIDE] {
    let mut taps = [0f32; SIDE];
    let half = (TAPS - 1) / 2;
    let i0_beta = bessel_i0(BETA);
    for (i, tap) in taps.iter_mut().enumerate() {
        // The offset from the centre, odd, from -25 to 25.
        let n = f64::from(u32::try_from(2 * i).unwrap_or(0)) - f64::from(u32::try_from(half).unwrap_or(0));
        let ratio = n / f64::from(u32::try_from(half).unwrap_or(1));
        let window = bessel_i0(BETA * (1.0 - ratio * ratio).max(0.0).sqrt()) / i0_beta;
        let x = std::f64::consts::PI * n / 2.0;
        // 0.5 * sinc(n / 2): the ideal half-band low-pass.
        #[allow(clippy::cast_possible_truncation)]
        let value = (0.5 * x.sin() / x * window) as f32;
        *tap = value;
    }
    taps
}

/// The modified Bessel function of the first kind, order 0, by its power series.
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    for k in 1..40u32 {
        let f = x / (2.0 * f64::from(k));
        term *= f * f;
        sum += term;
    }
    sum
}

/// Rounds and saturates a filter output to a 16-bit sample.
#[inline]
fn to_i16(x: f32) -> i16 {
    // The clamp keeps the value in range, so the cast is exact after rounding.
    #[allow(clippy::cast_possible_truncation)]
    let v = x.round().clamp(-32768.0, 32767.0) as i16;
    v
}

/// 8 kHz -> 16 kHz: two output samples per input sample.
#[derive(Clone, Debug)]
pub struct Upsampler {
    taps: [f32; SIDE],
    /// The last `SIDE` inputs, stored twice so that the window is one contiguous slice.
    hist: [f32; 2 * SIDE],
    pos: usize,
}

impl Default for Upsampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Upsampler {
    /// Group delay in 16 kHz output samples.
    pub const DELAY_16K: usize = (TAPS - 1) / 2;

    pub fn new() -> Upsampler {
        Upsampler { taps: side_taps(), hist: [0.0; 2 * SIDE], pos: 0 }
    }

    /// One input sample in, two output samples out (the older first).
    #[inline]
    pub fn push(&mut self, x: i16) -> [i16; 2] {
        let x = f32::from(x);
        self.hist[self.pos] = x;
        self.hist[self.pos + SIDE] = x;
        self.pos = if self.pos + 1 == SIDE { 0 } else { self.pos + 1 };
        // Oldest first: w[SIDE - 1] is the sample just pushed.
        let w = &self.hist[self.pos..self.pos + SIDE];
        let mut acc = 0.0f32;
        for (t, v) in self.taps.iter().zip(w.iter().rev()) {
            acc += t * v;
        }
        // The zero-stuffed signal needs a gain of 2; the centre tap (1/2) times 2 is a plain copy
        // of the input 12 samples back, which lands on the odd output.
        [to_i16(2.0 * acc), to_i16(w[SIDE - 1 - CENTRE_LAG])]
    }

    /// One millisecond: 8 samples at 8 kHz to 16 at 16 kHz.
    pub fn process(&mut self, input: &[i16; 8], out: &mut [i16; 16]) {
        self.process_into(input, out);
    }

    /// Any length: writes `2 * n` samples for the first `n = min(input.len(), out.len() / 2)`
    /// inputs and returns `n`.
    pub fn process_into(&mut self, input: &[i16], out: &mut [i16]) -> usize {
        let n = input.len().min(out.len() / 2);
        for (o, &x) in out.chunks_exact_mut(2).zip(input).take(n) {
            o.copy_from_slice(&self.push(x));
        }
        n
    }
}

/// 16 kHz -> 8 kHz: one output sample per two input samples.
#[derive(Clone, Debug)]
pub struct Downsampler {
    taps: [f32; SIDE],
    /// The last `SIDE` odd-phase inputs (second of each pair), stored twice.
    odd: [f32; 2 * SIDE],
    /// The last `SIDE` even-phase inputs (first of each pair), stored twice; the centre tap uses
    /// the one 12 pairs back.
    even: [f32; 2 * SIDE],
    pos: usize,
}

impl Default for Downsampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Downsampler {
    /// Group delay in 8 kHz output samples: the output at pair j stands for the input at pair
    /// j - 12 (exactly, because the output sits on the second sample of each pair).
    pub const DELAY_8K: usize = CENTRE_LAG;

    pub fn new() -> Downsampler {
        Downsampler { taps: side_taps(), odd: [0.0; 2 * SIDE], even: [0.0; 2 * SIDE], pos: 0 }
    }

    /// Two input samples in (the older first), one output sample out.
    #[inline]
    pub fn push(&mut self, first: i16, second: i16) -> i16 {
        let (a, b) = (f32::from(first), f32::from(second));
        let p = self.pos;
        self.even[p] = a;
        self.even[p + SIDE] = a;
        self.odd[p] = b;
        self.odd[p + SIDE] = b;
        self.pos = if p + 1 == SIDE { 0 } else { p + 1 };
        let odd = &self.odd[self.pos..self.pos + SIDE];
        let even = &self.even[self.pos..self.pos + SIDE];
        let mut acc = 0.0f32;
        for (t, v) in self.taps.iter().zip(odd.iter().rev()) {
            acc += t * v;
        }
        // Centre tap 1/2 on the first sample of the pair 12 pairs back.
        to_i16(acc + 0.5 * even[SIDE - 1 - CENTRE_LAG])
    }

    /// One millisecond: 16 samples at 16 kHz to 8 at 8 kHz.
    pub fn process(&mut self, input: &[i16; 16], out: &mut [i16; 8]) {
        self.process_into(input, out);
    }

    /// Any length: writes one sample per input pair, `n = min(input.len() / 2, out.len())`, and
    /// returns `n` (a trailing odd input sample is ignored).
    pub fn process_into(&mut self, input: &[i16], out: &mut [i16]) -> usize {
        let n = (input.len() / 2).min(out.len());
        for (o, pair) in out.iter_mut().zip(input.chunks_exact(2)).take(n) {
            *o = self.push(pair[0], pair[1]);
        }
        n
    }
}
