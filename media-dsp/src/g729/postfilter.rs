//! The decoder's adaptive post-filter of G.729 Annex A (§A.4.2) and the output high-pass (§4.2.5),
//! in bcg729's arithmetic so that the decoder output is bit-exact with it.
//!
//! Per subframe: residual through A(z/0.55), harmonic post-filter on the best integer lag within
//! 3 of the decoded one, tilt compensation, synthesis through 1/A(z/0.70), then gain control
//! towards the energy of the unfiltered synthesis. Each subframe then goes through the 100 Hz
//! high-pass, which also doubles it.
//!
//! Where this differs from the recommendation's fixed-point description: the weighted filters use
//! fixed powers of gamma rounded once, products are 32-bit and rounded where they are shifted
//! down, the harmonic gain is an integer division, the tilt factor comes from the filter's impulse
//! response correlations divided in 32 bits, and the gain control uses a square root of the energy
//! ratio instead of the inverse square root of its reciprocal.

use super::ops::*;
use super::{L_FRAME, L_SUBFR, M, MP1, PIT_MAX};

/// gamma_n^i (0.55^i) for i = 1..=10, Q15.
const GAMMA_N: [i16; M] = [18022, 9912, 5452, 2998, 1649, 907, 499, 274, 151, 83];
/// gamma_d^i (0.70^i) for i = 1..=10, Q15.
const GAMMA_D: [i16; M] = [22938, 16056, 11239, 7868, 5507, 3855, 2699, 1889, 1322, 926];
/// Tilt factor gamma_t = 0.8, Q15.
const GAMMA_T: i16 = 26214;
/// Length of the truncated impulse response used for the tilt.
const L_H: usize = 22;
const P: usize = PIT_MAX as usize;
const RES_LEN: usize = P + L_FRAME;

#[derive(Clone)]
pub struct PostFilter {
    /// Residual of the synthesis through A(z/gamma_n): PIT_MAX samples of history, then the frame.
    res: [i16; RES_LEN],
    /// The same divided by 4 (rounded), for correlations that cannot overflow.
    scaled_res: [i16; RES_LEN],
    /// Last sample of the previous subframe's long-term filter output (tilt filter memory).
    ltp_mem: i16,
    /// Memory of the 1/A(z/gamma_d) synthesis.
    syn_mem: [i16; M],
    /// Gain control factor at the end of the previous subframe, Q12.
    past_gain: i16,
}

impl Default for PostFilter {
    fn default() -> Self {
        Self { res: [0; RES_LEN], scaled_res: [0; RES_LEN], ltp_mem: 0, syn_mem: [0; M], past_gain: 4096 }
    }
}

/// The wrapping (as in bcg729's 32-bit accumulators) dot product of two equal-length windows.
fn dot(x: &[i16; L_SUBFR], y: &[i16; L_SUBFR]) -> i32 {
    x.iter().zip(y).fold(0i32, |acc, (&a, &b)| acc.wrapping_add(i32::from(a) * i32::from(b)))
}

fn weighted(a: &[i16; MP1], powers: &[i16; M]) -> [i16; M] {
    let mut w = [0i16; M];
    for i in 0..M {
        w[i] = mul_p(i32::from(a[i + 1]), i32::from(powers[i]), 15) as i16;
    }
    w
}

impl PostFilter {
    /// Filters `syn` (M history samples, then the frame) into `out`, with each subframe's LP
    /// coefficients and integer pitch lag.
    pub fn run(&mut self, syn: &[i16; M + L_FRAME], az: &[[i16; MP1]; 2], lags: [i16; 2], out: &mut [i16; L_FRAME]) {
        for (sf, a) in az.iter().enumerate() {
            let i_subfr = sf * L_SUBFR;
            let speech = &syn[i_subfr..i_subfr + M + L_SUBFR];
            let o: &mut [i16; L_SUBFR] =
                (&mut out[i_subfr..i_subfr + L_SUBFR]).try_into().unwrap_or_else(|_| unreachable!());
            self.subframe(a, speech, lags[sf], P + i_subfr, o);
        }
        self.res.copy_within(L_FRAME.., 0);
        self.scaled_res.copy_within(L_FRAME.., 0);
    }

    /// One subframe: `speech` is M history samples then the subframe, `at` where the subframe's
    /// residual goes in the residual buffers.
    fn subframe(&mut self, a: &[i16; MP1], speech: &[i16], lag: i16, at: usize, out: &mut [i16; L_SUBFR]) {
        let gn = weighted(a, &GAMMA_N);
        let gd = weighted(a, &GAMMA_D);

        // The residual is a plain FIR filter over the synthesis, so all 40 sums are built at once,
        // tap by tap, over fixed windows (lanes the compiler vectorises); the wrapping sum is
        // order-free.
        let speech: &[i16; M + L_SUBFR] = speech.try_into().unwrap_or_else(|_| unreachable!());
        let mut acc = [0i32; L_SUBFR];
        let current: &[i16; L_SUBFR] = speech[M..].try_into().unwrap_or_else(|_| unreachable!());
        for (a, &x) in acc.iter_mut().zip(current) {
            *a = i32::from(x) << 12;
        }
        for (j, &c) in gn.iter().enumerate() {
            let past: &[i16; L_SUBFR] =
                speech[M - 1 - j..M - 1 - j + L_SUBFR].try_into().unwrap_or_else(|_| unreachable!());
            for (a, &x) in acc.iter_mut().zip(past) {
                *a = a.wrapping_add(i32::from(x) * i32::from(c));
            }
        }
        let res: &mut [i16; L_SUBFR] = (&mut self.res[at..at + L_SUBFR]).try_into().unwrap_or_else(|_| unreachable!());
        let scaled: &mut [i16; L_SUBFR] =
            (&mut self.scaled_res[at..at + L_SUBFR]).try_into().unwrap_or_else(|_| unreachable!());
        for ((r, s), &a) in res.iter_mut().zip(scaled.iter_mut()).zip(&acc) {
            *r = sat16(pshr(a, 12));
            *s = pshr(i32::from(*r), 2) as i16;
        }

        let mut ltp = [0i16; L_SUBFR];
        self.long_term(lag, at, &mut ltp);

        // Tilt compensation 1 - k z^-1 from the impulse response of A(z/gamma_n)/A(z/gamma_d).
        // h is kept after M zeros and gd reversed to the order of the past samples it weighs, so
        // each step of the recursion is one dot product over a fixed window; the wrapping sum is
        // order-free.
        let mut gd_rev = [0i16; M];
        for (r, &g) in gd_rev.iter_mut().rev().zip(&gd) {
            *r = g;
        }
        let mut hp = [0i16; M + L_H];
        hp[M] = 4096;
        for i in 1..L_H {
            let x = if i <= M { i32::from(gn[i - 1]) << 12 } else { 0 };
            let past: &[i16; M] = hp[i..i + M].try_into().unwrap_or_else(|_| unreachable!());
            let dot =
                past.iter().zip(&gd_rev).fold(0i32, |acc, (&y, &c)| acc.wrapping_add(i32::from(y) * i32::from(c)));
            hp[M + i] = sat16(pshr(x.wrapping_sub(dot), 12));
        }
        let h: &[i16; L_H] = hp[M..].try_into().unwrap_or_else(|_| unreachable!());
        let mut rh1 = 0i32;
        for i in 0..L_H - 1 {
            rh1 = rh1.wrapping_add(i32::from(h[i]) * i32::from(h[i + 1]));
        }
        let mut tilted = ltp;
        if rh1 >= 0 {
            let mut rh0 = 0i32;
            for &v in h.iter() {
                rh0 = rh0.wrapping_add(i32::from(v) * i32::from(v));
            }
            let rh1 = mul16_32_q(i32::from(GAMMA_T), rh1, 15);
            // rh0 wraps on 32 bits for a saturated response, as in bcg729; a divisor of zero
            // (which would stop bcg729) leaves the tilt off.
            let k = sat16(rh1.checked_div(pshr(rh0, 12)).unwrap_or(0));
            let mut prev = self.ltp_mem;
            for i in 0..L_SUBFR {
                tilted[i] = (i32::from(ltp[i]) - mul_q(i32::from(k), i32::from(prev), 12)) as i16;
                prev = ltp[i];
            }
        }
        self.ltp_mem = ltp[L_SUBFR - 1];

        let mut sf = [0i16; L_SUBFR];
        let mut ad = [0i16; MP1];
        ad[0] = 4096;
        ad[1..].copy_from_slice(&gd);
        super::lpc::syn_filt_sat(&ad, &tilted, &mut sf, &mut self.syn_mem);

        self.gain_control(&speech[M..], &sf, out);
    }

    /// Harmonic post-filter (1 + g z^-T)/(1 + g) on the best integer lag near `lag`.
    fn long_term(&self, lag: i16, at: usize, out: &mut [i16; L_SUBFR]) {
        let scaled = &self.scaled_res;
        // Seven lags around the decoded one, the window slid down when it would pass PIT_MAX (the
        // bcg729 we test against, Debian's 1.1.1, slides it; later versions only cut it).
        let mut t_min = lag - 3;
        let mut t_max = lag + 3;
        if t_max > PIT_MAX {
            t_max = PIT_MAX;
            t_min = PIT_MAX - 6;
        }
        let mut cor_max = i32::MIN;
        let mut best = 0usize;
        let win =
            |d: usize| -> &[i16; L_SUBFR] { scaled[d..d + L_SUBFR].try_into().unwrap_or_else(|_| unreachable!()) };
        let current = win(at);
        for t in t_min.max(1)..=t_max {
            let d = at - t as usize;
            let corr = dot(win(d), current);
            if corr > cor_max {
                cor_max = corr;
                best = t as usize;
            }
        }
        let cor_max = cor_max.max(0);
        let d = at - best;
        let delayed = win(d);
        let (ener, ener_d) = (dot(current, current), dot(delayed, delayed));
        // Bring the three onto 16 bits with the same shift, the largest into [2^14, 2^15).
        let largest = cor_max.max(ener).max(ener_d);
        let (mut c16, mut e16, mut d16) = (0i32, 0i32, 0i32);
        if largest > 0 {
            let lz = clz_signed(largest);
            let s = 16u32.saturating_sub(lz);
            c16 = i32::from((cor_max >> s) as i16);
            e16 = i32::from((ener >> s) as i16);
            d16 = i32::from((ener_d >> s) as i16);
        }
        let res = &self.res;
        // Off when the prediction gain is below 3 dB (c^2 < e * e_d / 2), or with nothing to scale.
        if c16 * c16 < (e16 * d16) >> 1 || (c16 == 0 && d16 == 0) {
            out.copy_from_slice(&res[at..at + L_SUBFR]);
            return;
        }
        let (g0, g1) = if cor_max > ener_d {
            (21845, 10923)
        } else {
            // Both are stored in 16 bits, as in bcg729 (only reachable bounds matter here).
            let g1 = i32::from((c16 << 15).checked_div(2 * d16 + c16).unwrap_or(0) as i16);
            (i32::from((32767 - g1) as i16), g1)
        };
        for i in 0..L_SUBFR {
            let acc = (g0 * i32::from(res[at + i])).wrapping_add(g1 * i32::from(res[d + i]));
            out[i] = sat16(pshr(acc, 15));
        }
    }

    /// Scales the post-filtered subframe `sf` towards the energy of the synthesis `speech`,
    /// the factor smoothed sample by sample (g = 0.9 g + 0.1 G).
    fn gain_control(&mut self, speech: &[i16], sf: &[i16; L_SUBFR], out: &mut [i16; L_SUBFR]) {
        let energy = |x: &[i16]| -> u32 {
            x.iter().take(L_SUBFR).fold(0u32, |s, &v| s.wrapping_add((i32::from(v) * i32::from(v)) as u32 >> 4))
        };
        let e_out = energy(sf);
        if e_out == 0 {
            self.past_gain = 0;
            out.copy_from_slice(sf);
            return;
        }
        let e_in = energy(speech);
        let g = if e_in == 0 {
            0
        } else {
            let shift = e_in.leading_zeros() as i32;
            let num = e_in << shift;
            let den = vshr_u(e_out, 10 - shift);
            // The shift may have sent the divisor to zero: then divide first and shift after.
            let ratio = num.checked_div(den).unwrap_or_else(|| vshr_u(num / e_out, shift - 10));
            let g = sat16(sqrt_q7(ratio));
            mul_p(i32::from(g), 3277, 15) as i16
        };
        let mut gain = self.past_gain;
        for i in 0..L_SUBFR {
            gain = g.wrapping_add(mul_p(i32::from(gain), 29491, 15) as i16);
            out[i] = mul_q(i32::from(gain), i32::from(sf[i]), 12) as i16;
        }
        self.past_gain = gain;
    }
}

/// The decoder's output high-pass (100 Hz, 2nd order) with a gain of 2; its output history is
/// kept in 32 bits (Q13).
#[derive(Clone, Default)]
pub struct PostProcess {
    y1: i32,
    y2: i32,
    x0: i16,
    x1: i16,
}

impl PostProcess {
    const A1: i16 = 15836;
    const A2: i16 = -7667;
    const B: [i32; 3] = [7699, -15398, 7699];
    const LIMIT: i32 = 0x0fff_ffff;

    pub fn run(&mut self, signal: &mut [i16]) {
        for s in signal.iter_mut() {
            let x2 = self.x1;
            self.x1 = self.x0;
            self.x0 = *s;
            // y1 and y2 are clamped to 29 bits, so a 16x32 product in Q13 is the 64-bit product
            // shifted down (the split product's two halves floor to the same value) and fits.
            let q13 = |a: i16, y: i32| ((i64::from(a) * i64::from(y)) >> 13) as i32;
            let mut acc = q13(Self::A1, self.y1);
            acc = acc.wrapping_add(q13(Self::A2, self.y2));
            acc = acc.wrapping_add(i32::from(self.x0) * Self::B[0]);
            acc = acc.wrapping_add(i32::from(self.x1) * Self::B[1]);
            acc = acc.wrapping_add(i32::from(x2) * Self::B[2]);
            let acc = acc.clamp(-Self::LIMIT - 1, Self::LIMIT);
            *s = sat16(pshr(acc, 12));
            self.y2 = self.y1;
            self.y1 = acc;
        }
    }
}
