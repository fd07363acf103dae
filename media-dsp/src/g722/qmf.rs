//! The G.722 quadrature mirror filters: 16 kHz <-> two 8 kHz sub-bands (ITU-T G.722 §3.2 and §4.4).
//!
//! Both filters use the 24 coefficients of Table 11/G.722, symmetric (h[i] = h[23 - i]) and
//! scaled by 2^13. The sums stay within `i32`: 24 products of at most 2^15 * 3876 add up to less
//! than 2^31.

/// The 24 QMF coefficients h0..h23 of Table 11/G.722.
const H: [i32; 24] = [
    3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11,
    3,
];

/// Transmit QMF: takes input samples two at a time and splits them into one lower-band and one
/// higher-band sample.
#[derive(Clone, Debug)]
pub(crate) struct Analysis {
    /// The last 24 input samples, stored twice so that the window is always one contiguous slice
    /// (no modulo in the inner loop, no shifting of the whole history).
    x: [i32; 48],
    /// Where the next pair goes; always even.
    pos: usize,
}

impl Analysis {
    pub const fn new() -> Analysis {
        Analysis { x: [0; 48], pos: 0 }
    }

    /// Splits the pair (`first`, `second`), `second` being the newer, into (xL, xH).
    #[inline]
    pub fn split(&mut self, first: i16, second: i16) -> (i32, i32) {
        let pos = self.pos;
        self.x[pos] = i32::from(first);
        self.x[pos + 1] = i32::from(second);
        self.x[pos + 24] = i32::from(first);
        self.x[pos + 25] = i32::from(second);
        self.pos = if pos + 2 == 24 { 0 } else { pos + 2 };
        // The window, oldest first, ends with the pair just stored.
        let w = &self.x[pos + 2..pos + 26];
        // xA sums the even coefficients against the newest sample and every second one before
        // it; xB sums the odd coefficients against the others (G.722 §3.2).
        let mut xa = 0;
        let mut xb = 0;
        for i in 0..12 {
            xa += H[2 * i] * w[23 - 2 * i];
            xb += H[2 * i + 1] * w[22 - 2 * i];
        }
        ((xa + xb) >> 14, (xa - xb) >> 14)
    }
}

/// Receive QMF: merges one lower-band and one higher-band sample into two output samples.
#[derive(Clone, Debug)]
pub(crate) struct Synthesis {
    /// The last 12 difference signals xd = rL - rH, stored twice (see `Analysis::x`).
    xd: [i32; 24],
    /// The last 12 sum signals xs = rL + rH, stored twice.
    xs: [i32; 24],
    /// Where the next values go.
    pos: usize,
}

impl Synthesis {
    pub const fn new() -> Synthesis {
        Synthesis { xd: [0; 24], xs: [0; 24], pos: 0 }
    }

    /// Merges (rL, rH) into two 16-bit samples, the older first.
    #[inline]
    pub fn merge(&mut self, rl: i32, rh: i32) -> (i16, i16) {
        let pos = self.pos;
        let (d, s) = (rl - rh, rl + rh);
        self.xd[pos] = d;
        self.xd[pos + 12] = d;
        self.xs[pos] = s;
        self.xs[pos + 12] = s;
        self.pos = if pos + 1 == 12 { 0 } else { pos + 1 };
        // Windows oldest first, ending with the values just stored.
        let xd = &self.xd[pos + 1..pos + 13];
        let xs = &self.xs[pos + 1..pos + 13];
        let mut out1 = 0;
        let mut out2 = 0;
        for i in 0..12 {
            out1 += H[2 * i] * xd[11 - i];
            out2 += H[2 * i + 1] * xs[11 - i];
        }
        (to_i16(out1 >> 11), to_i16(out2 >> 11))
    }
}

/// Saturates to a 16-bit sample: a full-scale input can overshoot after the two ADPCM coders.
#[inline]
fn to_i16(x: i32) -> i16 {
    i16::try_from(x).unwrap_or(if x < 0 { i16::MIN } else { i16::MAX })
}
