//! Encoder searches of G.729 Annex A: open-loop pitch on the decimated weighted speech (§A.3.4),
//! closed-loop adaptive codebook with 1/3 resolution (§A.3.7), the pitch gain (§3.7.3), the
//! depth-first algebraic codebook search (§A.3.8) and the gain quantiser (§3.9, §A.3.9).
//!
//! Every sum, shift and rounding follows bcg729 (see `encoder_math`), including the order of the
//! comparisons that break ties, so that the chosen indices are the same.

use super::encoder_math::*;
// The adaptive codebook vector is computed the same way in bcg729's encoder and decoder.
use super::pitch::adaptive_vector;
// The decoder's gain codebooks (pitch gain Q14, code gain factor Q12) and MA gain prediction (Q14).
use super::tables::{GA_Q12 as GA, GB_Q12 as GB, MAP1, MAP2, PRED_Q14};
use super::{L_FRAME, L_SUBFR};

const PIT_MAX: usize = 143;

/// The open-loop search's signal split into its even and odd samples, so that the correlations
/// over every other sample (eq. A.4) read contiguous runs.
struct Decimated {
    even: [i16; (PIT_MAX + L_FRAME).div_ceil(2)],
    odd: [i16; (PIT_MAX + L_FRAME) / 2],
}

impl Decimated {
    fn new(x: &[i16; PIT_MAX + L_FRAME]) -> Self {
        let mut d = Self { even: [0; (PIT_MAX + L_FRAME).div_ceil(2)], odd: [0; (PIT_MAX + L_FRAME) / 2] };
        for (i, &v) in x.iter().enumerate() {
            if i % 2 == 0 {
                d.even[i / 2] = v;
            } else {
                d.odd[i / 2] = v;
            }
        }
        d
    }

    /// Samples at, at + 2, ..., at + 78.
    fn run(&self, at: usize) -> &[i16; L_FRAME / 2] {
        let half = if at % 2 == 0 { &self.even[at / 2..] } else { &self.odd[at / 2..] };
        half[..L_FRAME / 2].try_into().unwrap_or(&[0; L_FRAME / 2])
    }
}

/// Sum over the even samples of x[i] * x[i - lag] (eq. A.4); `cur` indexes sample 0 in `x`.
fn corr_even(x: &Decimated, cur: usize, lag: usize) -> i32 {
    dot40(x.run(cur), x.run(cur - lag))
}

fn corr_max(x: &Decimated, cur: usize, lo: usize, hi: usize, step: usize) -> (i32, usize) {
    let mut best = i32::MIN;
    let mut index = 0;
    for lag in (lo..=hi).step_by(step) {
        let c = corr_even(x, cur, lag);
        if c > best {
            index = lag;
            best = c;
        }
    }
    (best, index)
}

/// Open-loop pitch lag of the frame from the weighted speech: `wsp` holds 143 past samples then
/// the 80 of this frame.
pub fn open_loop_pitch(wsp: &[i16; PIT_MAX + L_FRAME]) -> i16 {
    let energy: i64 = wsp.iter().map(|&v| i64::from(v) * i64::from(v)).sum();
    let mut scaled = [0i16; PIT_MAX + L_FRAME];
    let x = Decimated::new(if energy > i64::from(i32::MAX) {
        let shift = pshr(31 - clz((energy >> 31) as i32), 1);
        for (s, &v) in scaled.iter_mut().zip(wsp.iter()) {
            *s = v >> shift;
        }
        &scaled
    } else {
        wsp
    });
    let x = &x;
    let cur = PIT_MAX;
    let (max1, i1) = corr_max(x, cur, 20, 39, 1);
    let (max2, i2) = corr_max(x, cur, 40, 79, 1);
    let (mut max3, even3) = corr_max(x, cur, 80, 143, 2);
    let mut i3 = even3;
    if i3 > 80 {
        let c = corr_even(x, cur, i3 - 1);
        if c > max3 {
            max3 = c;
            i3 = even3 - 1;
        }
    }
    let c = corr_even(x, cur, i3 + 1);
    if c > max3 {
        max3 = c;
        i3 = even3 + 1;
    }
    let energy_at = |lag: usize| {
        let e = corr_even(x, cur - lag, 0);
        if e == 0 {
            1
        } else {
            e
        }
    };
    let mut n1 = mul32_32_q(max1, inv_sqrt_q0q31(energy_at(i1)), 23);
    let mut n2 = mul32_32_q(max2, inv_sqrt_q0q31(energy_at(i2)), 23);
    let n3 = mul32_32_q(max3, inv_sqrt_q0q31(energy_at(i3)), 23);
    // Favour the lower ranges when a longer lag is a multiple of a shorter one.
    let (i1s, i2s, i3s) = (i1 as i32, i2 as i32, i3 as i32);
    if (2 * i2s - i3s).abs() < 5 {
        n2 = n2.wrapping_add(n3 >> 2);
    }
    if (3 * i2s - i3s).abs() < 7 {
        n2 = n2.wrapping_add(n3 >> 2);
    }
    if (2 * i1s - i2s).abs() < 5 {
        n1 = n1.wrapping_add(mul16_32_p(6554, n2, 15));
    }
    if (3 * i1s - i2s).abs() < 7 {
        n1 = n1.wrapping_add(mul16_32_p(6554, n2, 15));
    }
    let mut best = i1;
    if n1 < n2 {
        n1 = n2;
        best = i2;
    }
    if n1 < n3 {
        best = i3;
    }
    best as i16
}

/// Wrapping sum of a[i] * b[i] over a subframe (a fixed length the compiler vectorises).
fn dot40(a: &[i16; L_SUBFR], b: &[i16; L_SUBFR]) -> i32 {
    let mut s: i32 = 0;
    for i in 0..L_SUBFR {
        s = s.wrapping_add(mul(i32::from(a[i]), i32::from(b[i])));
    }
    s
}

/// c[i] = sum_{j >= i} x[j] * h[j - i], wrapping.
///
/// Each c[i] is a full-subframe dot product of h with x shifted by i and zero-padded: the padding
/// adds only zeros, and the sums wrap, so the order does not change them.
pub fn correlate(x: &[i16; L_SUBFR], h: &[i16; L_SUBFR]) -> [i32; L_SUBFR] {
    let mut padded = [0i16; 2 * L_SUBFR];
    padded[..L_SUBFR].copy_from_slice(x);
    std::array::from_fn(|i| dot40(padded[i..i + L_SUBFR].try_into().unwrap_or(&[0; L_SUBFR]), h))
}

/// The correlation split as `mul16_32_q(_, c, 12)` uses it: c >> 12 and its 12 low bits.
struct SplitQ12 {
    high: [i32; L_SUBFR],
    low: [i32; L_SUBFR],
}

impl SplitQ12 {
    fn new(c: &[i32; L_SUBFR]) -> Self {
        Self { high: c.map(|v| v >> 12), low: c.map(|v| v & 0xfff) }
    }

    /// Sum of mul16_32_q(exc[at + j], c[j], 12) over the subframe.
    fn dot(&self, exc: &[i16], at: usize) -> i32 {
        let e: &[i16; L_SUBFR] = exc[at..at + L_SUBFR].try_into().unwrap_or(&[0; L_SUBFR]);
        let mut s: i32 = 0;
        for j in 0..L_SUBFR {
            let v = i32::from(e[j]);
            s = s.wrapping_add(v.wrapping_mul(self.high[j]).wrapping_add(v.wrapping_mul(self.low[j]) >> 12));
        }
        s
    }
}

/// Result of the closed-loop pitch search of one subframe.
pub struct Pitch {
    pub t0: i16,
    pub frac: i16,
    pub index: i16,
}

/// Closed-loop pitch search around [t_min, t_max]; leaves the adaptive codebook vector at
/// `exc[pos..pos+40]` and, on the first subframe, narrows [t_min, t_max] for the second.
pub fn adaptive_search(
    exc: &mut [i16],
    pos: usize,
    t_min: &mut i16,
    t_max: &mut i16,
    h: &[i16; L_SUBFR],
    x: &[i16; L_SUBFR],
    first: bool,
) -> Pitch {
    let c = SplitQ12::new(&correlate(x, h));
    let mut best = i32::MIN;
    let mut t0 = *t_min;
    for t in *t_min..=*t_max {
        let s = c.dot(exc, pos - t as usize);
        if s > best {
            best = s;
            t0 = t;
        }
    }
    adaptive_vector(exc, pos, t0, 0);
    let mut frac = 0;
    if !(first && t0 >= 85) {
        let mut saved = [0i16; L_SUBFR];
        let mut best = c.dot(exc, pos);
        saved.copy_from_slice(&exc[pos..pos + L_SUBFR]);
        adaptive_vector(exc, pos, t0, -1);
        let s = c.dot(exc, pos);
        if s > best {
            frac = -1;
            best = s;
            saved.copy_from_slice(&exc[pos..pos + L_SUBFR]);
        }
        adaptive_vector(exc, pos, t0, 1);
        let s = c.dot(exc, pos);
        if s > best {
            frac = 1;
        } else {
            exc[pos..pos + L_SUBFR].copy_from_slice(&saved);
        }
    }
    let index = if first {
        let mut lo = t0 - 5;
        if lo < 20 {
            lo = 20;
        }
        let mut hi = lo + 9;
        if hi > PIT_MAX as i16 {
            hi = PIT_MAX as i16;
            lo = PIT_MAX as i16 - 9;
        }
        *t_min = lo;
        *t_max = hi;
        if t0 <= 85 {
            3 * t0 - 58 + frac
        } else {
            t0 + 112
        }
    } else {
        3 * (t0 - *t_min) + frac + 2
    };
    Pitch { t0, frac, index }
}

/// Pitch gain in Q14 (0..=1.2) and the x.y, y.y products the gain quantiser reuses.
pub fn pitch_gain(x: &[i16; L_SUBFR], y: &[i16; L_SUBFR]) -> (i16, i64, i64) {
    let mut xy: i64 = 0;
    let mut yy: i64 = 0;
    for i in 0..L_SUBFR {
        xy += i64::from(x[i]) * i64::from(y[i]);
        yy += i64::from(y[i]) * i64::from(y[i]);
    }
    if xy <= 0 {
        return (0, xy, yy);
    }
    let g = div64(xy << 14, yy) as i32;
    (g.min(19661) as i16, xy, yy)
}

/// Parity bit of the 6 most significant bits of the first lag index.
pub fn parity(index: i16) -> i16 {
    let mut v = (index as u16) >> 2;
    let mut p = 1u16;
    for _ in 0..6 {
        p ^= v & 1;
        v >>= 1;
    }
    p as i16
}

/// The algebraic codebook search's correlation matrix of the impulse response.
pub type Phi = [[i32; L_SUBFR]; L_SUBFR];

/// Outcome of the algebraic codebook search.
pub struct Fixed {
    pub index: i16,
    pub signs: i16,
    /// Code vector with pitch sharpening, Q13.
    pub code: [i16; L_SUBFR],
    /// Code vector filtered by the weighted synthesis filter, Q12.
    pub filtered: [i16; L_SUBFR],
}

/// Impulse response correlation matrix Phi (§3.8.1 eq. 51, 56, 57), with the correlation signs
/// folded in and the diagonal halved; `d` becomes |d| and `sign` its signs.
///
/// Only the diagonal and the entries between positions of different tracks are written (both
/// triangles): two positions of one track are never paired by the search, so the entries whose
/// lag is a multiple of 5 stay as they were. The sums wrap, so summing a lag's products from the
/// start of `h` once and reading each prefix gives the same values as bcg729's loop order.
fn phi_matrix(h: &[i16; L_SUBFR], d: &mut [i16; L_SUBFR], sign: &mut [i32; L_SUBFR], phi: &mut Phi) {
    let last = L_SUBFR - 1;
    let mut diag = [0i32; L_SUBFR];
    let mut acc: i32 = 0;
    for (i, &v) in h.iter().enumerate() {
        acc = acc.wrapping_add(mul(i32::from(v), i32::from(v)));
        diag[last - i] = acc >> 1;
    }
    // The energy is summed up to 10 times in the search: scale Phi down if that could overflow.
    let mut scaling = 0u32;
    if diag[0] > 0x0666_6666 {
        scaling = (3 - clz(diag[0].wrapping_shl(1).wrapping_add(0x0333_3333))) as u32;
        for v in diag.iter_mut() {
            *v >>= scaling;
        }
    }
    for (i, &v) in diag.iter().enumerate() {
        phi[i][i] = v;
    }
    for (s, v) in sign.iter_mut().zip(d.iter_mut()) {
        if *v >= 0 {
            *s = 1;
        } else {
            *s = -1;
            *v = v.wrapping_neg();
        }
    }
    let sign: &[i32; L_SUBFR] = sign;
    // h backwards: entry (r, c) for r > c sums h[k] * h[k + r - c] for k <= 39 - r, that is
    // rev[m] * rev[m - (r - c)] for m >= r.
    let mut rev = *h;
    rev.reverse();
    for lag in 1..L_SUBFR {
        if lag % 5 == 0 {
            continue;
        }
        let mut acc: i32 = 0;
        for c in (0..L_SUBFR - lag).rev() {
            let r = c + lag;
            acc = acc.wrapping_add(mul(i32::from(rev[r]), i32::from(rev[c])));
            let v = (acc >> scaling).wrapping_mul(sign[r] * sign[c]);
            phi[r][c] = v;
            phi[c][r] = v;
        }
    }
}

/// Depth-first search of the 4 pulses (Annex A): for each of the two placements of the fourth
/// track and each of the two track orders, the two best pulses of the first track are each tried
/// with every position of the second, then the third and fourth tracks are searched jointly.
/// `phi` is scratch for the correlation matrix, kept by the caller so that it is not cleared on
/// every subframe (see `phi_matrix` for which entries are written).
pub fn fixed_search(
    phi: &mut Phi,
    x: &[i16; L_SUBFR],
    h: &mut [i16; L_SUBFR],
    t0: i16,
    sharp: i16,
    y: &[i16; L_SUBFR],
    gain_pit: i16,
) -> Fixed {
    let t0 = t0 as usize;
    let mut target = [0i16; L_SUBFR];
    for i in 0..L_SUBFR {
        target[i] = (i32::from(x[i]) - mul_q(i32::from(y[i]), i32::from(gain_pit), 14)) as i16;
    }
    for i in t0..L_SUBFR {
        h[i] = (i32::from(h[i]) + mul_q(i32::from(h[i - t0]), i32::from(sharp), 14)) as i16;
    }
    let d32 = correlate(&target, h);
    let mut dmax: i32 = 0;
    for &s in &d32 {
        let a = if s >= 0 { s } else { s.wrapping_neg() };
        if a > dmax {
            dmax = a;
        }
    }
    // Normalise the backward-filtered target to 13 bits.
    let norm = clz(dmax);
    let mut d = [0i16; L_SUBFR];
    for i in 0..L_SUBFR {
        d[i] = if norm < 18 { (d32[i] >> (18 - norm)) as i16 } else { d32[i] as i16 };
    }
    let mut sign = [0i32; L_SUBFR];
    phi_matrix(h, &mut d, &mut sign, phi);
    let phi: &Phi = phi;
    let better = |e_best: i32, c2: i32, e: i32, c2_best: i32| {
        i64::from(e_best) * i64::from(c2) > i64::from(e) * i64::from(c2_best)
    };

    let (mut i0, mut i1, mut i2, mut i3) = (0usize, 0usize, 0usize, 0usize);
    let mut c2_max: i32 = -1;
    let mut e_max: i32 = 1;
    let (mut m0, mut m1, mut m2, mut m3) = (0usize, 0usize, 0usize, 0usize);
    let mut tracks = [[2usize, 3, 0, 1], [3, 0, 1, 2]];
    let mut jx = 0usize;
    for m3_base in 3..5 {
        for (order, tr) in tracks.iter().enumerate() {
            let mut c2_best: i32 = -1;
            let mut e_best: i32 = 1;
            let mut first_m2 = 0usize;
            let mut c_m2m3: i16 = 0;
            for _ in 0..2 {
                let mut c_m2: i16 = -1;
                let mut cur_m2 = 0usize;
                for j in (tr[0]..L_SUBFR).step_by(5) {
                    if d[j] > c_m2 && j != first_m2 {
                        cur_m2 = j;
                        c_m2 = d[j];
                    }
                }
                first_m2 = cur_m2;
                let e_m2 = phi[cur_m2][cur_m2];
                for j in (tr[1]..L_SUBFR).step_by(5) {
                    let c = add16(i32::from(c_m2), i32::from(d[j]));
                    let e = e_m2.wrapping_add(phi[cur_m2][j].wrapping_add(phi[j][j]));
                    let c2 = mul(i32::from(c), i32::from(c));
                    if better(e_best, c2, e, c2_best) {
                        c2_best = c2;
                        e_best = e;
                        c_m2m3 = c;
                        m3 = j;
                        m2 = cur_m2;
                    }
                }
            }
            let e_m2m3 = e_best;
            c2_best = -1;
            e_best = 1;
            // The fourth track's terms that do not depend on the third pulse, once per position
            // (the sums wrap, so regrouping them changes nothing).
            let mut d3 = [0i16; 8];
            let mut e3 = [0i32; 8];
            for (n, j) in (tr[3]..L_SUBFR).step_by(5).enumerate().take(8) {
                d3[n] = d[j];
                e3[n] = phi[j][j].wrapping_add(phi[j][m2]).wrapping_add(phi[j][m3]);
            }
            for i in (tr[2]..L_SUBFR).step_by(5) {
                let c0 = add16(i32::from(c_m2m3), i32::from(d[i]));
                let e0 = e_m2m3.wrapping_add(phi[i][i].wrapping_add(phi[i][m2].wrapping_add(phi[i][m3])));
                let row = &phi[i];
                for n in 0..8 {
                    let j = tr[3] + 5 * n;
                    let c = add16(i32::from(c0), i32::from(d3[n]));
                    let e = e0.wrapping_add(row[j].wrapping_add(e3[n]));
                    let c2 = mul(i32::from(c), i32::from(c));
                    if better(e_best, c2, e, c2_best) {
                        c2_best = c2;
                        e_best = e;
                        m1 = j;
                        m0 = i;
                    }
                }
            }
            if better(e_max, c2_best, e_best, c2_max) {
                c2_max = c2_best;
                e_max = e_best;
                (i0, i1, i2, i3) = if order == 0 { (m0, m1, m2, m3) } else { (m3, m0, m1, m2) };
                jx = m3_base - 3;
            }
        }
        tracks[0][1] += 1;
        tracks[1][0] += 1;
    }

    let mut code = [0i16; L_SUBFR];
    for &p in &[i0, i1, i2, i3] {
        code[p] = (sign[p] << 13) as i16;
    }
    for i in t0..L_SUBFR {
        code[i] = (i32::from(code[i]) + mul_q(i32::from(code[i - t0]), i32::from(sharp), 14)) as i16;
    }
    let pos5 = |p: usize| mul_q(p as i32, 6554, 15);
    let index = pos5(i0) + (pos5(i1) << 3) + (pos5(i2) << 6) + (((pos5(i3) << 1) + jx as i32) << 9);
    let bit = |p: usize| (sign[p] + 1) >> 1;
    let signs = bit(i0) | (bit(i1) << 1) | (bit(i2) << 2) | (bit(i3) << 3);

    let mut filtered = [0i16; L_SUBFR];
    for (k, &p) in [i0, i1, i2, i3].iter().enumerate() {
        for (i, j) in (p..L_SUBFR).zip(0..) {
            let v = if sign[p] > 0 { h[j] } else { h[j].wrapping_neg() };
            filtered[i] = if k == 0 { v } else { filtered[i].wrapping_add(v) };
        }
    }
    Fixed { index: index as u16 as i16, signs: signs as i16, code, filtered }
}

/// Predicted fixed-codebook gain (§3.9.1) in Q16 from the past quantised energies (Q10).
fn predicted_gain(past: &[i16; 4], code: &[i16; L_SUBFR]) -> i32 {
    let mut energy: i32 = 0;
    for &c in code.iter() {
        if c != 0 {
            energy = energy.wrapping_add(mul(i32::from(c), i32::from(c)));
        }
    }
    let mut acc = 8_145_364i32.wrapping_add(mul16_32_q(-24660, log2_q16(energy), 13));
    acc = acc.wrapping_shl(8);
    for i in 0..4 {
        acc = acc.wrapping_add(mul(i32::from(past[i]), i32::from(PRED_Q14[i])));
    }
    acc >>= 2;
    acc = mul16_32_q(5442, acc, 15);
    acc = pshr(acc, 11);
    exp2_q16(acc as i16)
}

/// Shifts 20*log10(gamma) (gamma in Q12) into the past quantised energies (Q10).
pub fn update_energy(gamma: i16, past: &mut [i16; 4]) {
    let e = log2_q16(i32::from(gamma)).wrapping_sub(786_432);
    let e = pshr(mul16_32_q(24660, e, 12), 6);
    past.copy_within(0..3, 1);
    past[0] = e as i16;
}

/// Quantised gains: pitch gain Q14, code gain Q1, and the GA, GB indices as transmitted.
pub struct Gains {
    pub pitch: i16,
    pub code: i16,
    pub ga: i16,
    pub gb: i16,
}

/// A quotient `num / den` scaled to Q(`q`) with as much of the shift on the numerator as fits.
fn scaled_quotient(num: i64, den: i64, q: i32) -> i32 {
    let high = (num >> 32) as i32;
    let high = if high > 0 { high } else { high.wrapping_neg() };
    let norm = clz(high);
    if norm >= q {
        div64(sshl64(num, q as u32), den) as i32
    } else {
        let shifted = den >> (q - norm);
        if shifted > 0 {
            div64(num.wrapping_shl(norm as u32), shifted) as i32
        } else {
            (div64(num.wrapping_shl(norm as u32), den) as i32).wrapping_shl((q - norm) as u32)
        }
    }
}

/// Joint quantisation of the pitch and code gains (§3.9.2) minimising eq. 63 over a
/// preselected 4 x 8 part of the two codebooks.
#[allow(clippy::too_many_arguments)]
pub fn quantize_gains(
    past: &mut [i16; 4],
    x: &[i16; L_SUBFR],
    y: &[i16; L_SUBFR],
    z: &[i16; L_SUBFR],
    code: &[i16; L_SUBFR],
    xy64: i64,
    yy64: i64,
) -> Gains {
    let (mut xz64, mut yz64, mut zz64) = (0i64, 0i64, 0i64);
    for i in 0..L_SUBFR {
        xz64 += i64::from(x[i]) * i64::from(z[i]);
        yz64 += i64::from(y[i]) * i64::from(z[i]);
        zz64 += i64::from(z[i]) * i64::from(z[i]);
    }
    // Scale the five products to fit 31 bits (x.y, x.z and y.z are later doubled).
    let mut min_norm = 31;
    for v in [
        (xy64.abs() >> 30) as i32,
        (yy64 >> 31) as i32,
        (xz64.abs() >> 30) as i32,
        (yz64.abs() >> 30) as i32,
        (zz64 >> 31) as i32,
    ] {
        min_norm = min_norm.min(clz(v));
    }
    let (xy, yy, xz, yz, zz) = if min_norm < 31 {
        let s = 31 - min_norm;
        ((xy64 >> s) as i32, (yy64 >> s) as i32, (xz64 >> s) as i32, (yz64 >> s) as i32, (zz64 >> s) as i32)
    } else {
        (xy64 as i32, yy64 as i32, xz64 as i32, yz64 as i32, zz64 as i32)
    };
    let p64 = |a: i32, b: i32| i64::from(a) * i64::from(b);
    let den = p64(yy, zz) + p64(yz.wrapping_neg(), yz);
    let (best_pitch, best_code) = if den == 0 {
        (
            ((p64(zz, xy) + p64(xz.wrapping_neg(), yz)) >> 15) as i32,
            ((p64(yy, xz) + p64(xy.wrapping_neg(), yz)) >> 10) as i32,
        )
    } else {
        (
            scaled_quotient(p64(zz, xy) + p64(xz.wrapping_neg(), yz), den, 9),
            scaled_quotient(p64(yy, xz) + p64(xy.wrapping_neg(), yz), den, 14),
        )
    };
    let predicted = i32::from((predicted_gain(past, code) >> 12) as i16);

    // Preselection: start two entries (GA) and four entries (GB) below the first codebook value
    // above the unquantised optimum.
    let mut base_a = 0usize;
    while base_a < 6 && best_code > mul_q(i32::from(GA[base_a][1]), predicted, 14) {
        base_a += 1;
    }
    base_a = base_a.saturating_sub(2);
    let mut base_b = 0usize;
    while base_b < 12 && best_pitch > i32::from(GB[base_b][0] >> 5) {
        base_b += 1;
    }
    base_b = base_b.saturating_sub(4);

    let xy2 = sshl(xy, 1).wrapping_neg();
    let xz2 = sshl(xz, 1).wrapping_neg();
    let yz2 = sshl(yz, 1);
    let mut dist_min = i64::MAX;
    let mut out = Gains { pitch: 0, code: 0, ga: 0, gb: 0 };
    let (mut ia, mut ib) = (0usize, 0usize);
    for i in 0..4 {
        for j in 0..8 {
            let (a, b) = (GA[i + base_a], GB[j + base_b]);
            let gp = i32::from(add16(i32::from(a[0]), i32::from(b[0])));
            let gamma = i32::from(add16(i32::from(a[1]), i32::from(b[1])));
            let gc = mul_q(gamma, predicted, 14);
            let mut acc = p64(mul(gp, gp), yy);
            acc = acc.wrapping_add(p64(mul(gc, gc), zz));
            acc = acc.wrapping_add(p64(gp << 14, xy2));
            acc = acc.wrapping_add(p64(gc.wrapping_shl(14), xz2));
            acc = acc.wrapping_add(p64(mul(gp, gc), yz2));
            if acc < dist_min {
                dist_min = acc;
                ia = i + base_a;
                ib = j + base_b;
                out.pitch = gp as i16;
                out.code = (gc >> 1) as i16;
            }
        }
    }
    update_energy(add16(i32::from(GA[ia][1]), i32::from(GB[ib][1])), past);
    out.ga = MAP1[ia];
    out.gb = MAP2[ib];
    out
}
