//! Encoder LP analysis of G.729 Annex A: windowed autocorrelation, lag window and Levinson-Durbin
//! (§3.2.1-3.2.2), LP to LSP by the Chebyshev root search (§3.2.3, 50 grid steps of Annex A),
//! the two-stage LSF quantiser with MA prediction (§3.2.4) and quantised LSP back to LP (§3.2.6).
//!
//! Levinson-Durbin runs in Q27/Q31 with 64-bit products and divisions, as bcg729 does (the ITU
//! description uses a 16-bit double-precision division instead); the roundings follow bcg729 so
//! that the coefficients, and hence every index, come out identical.

use super::encoder_math::*;
use super::tables::{FG, FG_SUM, FG_SUM_INV, FREQ_PREV_RESET, GRID, HAMWINDOW, LAG_H, LSPCB1, LSPCB2};
use super::M;

/// Samples of the LP analysis window.
pub const L_WINDOW: usize = 240;
const ONE_Q27: i32 = 0x0800_0000;
const ONE_Q31: i32 = 0x7fff_ffff;

/// LP coefficients a[1..=10] in Q12 from the 240-sample analysis buffer.
pub fn compute_lp(signal: &[i16; L_WINDOW]) -> [i16; M] {
    let mut w = [0i16; L_WINDOW];
    for i in 0..L_WINDOW {
        w[i] = mul_p(i32::from(signal[i]), i32::from(HAMWINDOW[i]), 15) as i16;
    }
    let mut r = [0i32; M + 1];
    let mut acc64: i64 = w.iter().map(|&v| i64::from(v) * i64::from(v)).sum();
    if acc64 == 0 {
        acc64 = 1;
    }
    // r[0] is normalised to use all 31 bits; the other lags get the same scaling.
    let mut right_shift = 0i32;
    if acc64 > i64::from(i32::MAX) {
        while acc64 > i64::from(i32::MAX) {
            acc64 >>= 1;
            right_shift += 1;
        }
        r[0] = acc64 as i32;
    } else {
        right_shift = -clz(acc64 as i32);
        r[0] = sshl(acc64 as i32, (-right_shift) as u32);
    }
    for i in 1..=M {
        if right_shift > 0 {
            let mut s: i64 = 0;
            for j in i..L_WINDOW {
                s += i64::from(mul(i32::from(w[j]), i32::from(w[j - i])));
            }
            r[i] = (s >> right_shift) as i32;
        } else {
            let mut s: i32 = 0;
            for j in i..L_WINDOW {
                s = s.wrapping_add(mul(i32::from(w[j]), i32::from(w[j - i])));
            }
            r[i] = sshl(s, (-right_shift) as u32);
        }
    }
    // Lag window (the high words of the recommendation's table are the Q15 values).
    for i in 1..=M {
        r[i] = mul16_32_p(i32::from(LAG_H[i - 1]), r[i], 15);
    }
    levinson(&r)
}

/// Levinson-Durbin recursion on Q31 autocorrelations; coefficients kept in Q27, output in Q12.
fn levinson(r: &[i32; M + 1]) -> [i16; M] {
    let mut a = [0i32; M + 1];
    let mut prev = [0i32; M + 1];
    a[0] = ONE_Q27;
    a[1] = div64(sshl64(i64::from(r[1]), 27), i64::from(r[0])).wrapping_neg() as i32;
    let mut e = mul32_32_q(r[0], ONE_Q31.wrapping_sub(mul32_32_q(a[1], a[1], 23)), 31);
    for i in 2..=M {
        prev[1..i].copy_from_slice(&a[1..i]);
        let mut sum: i32 = 0;
        for j in 1..i {
            sum = sum.wrapping_add(mul32_32_q(a[j], r[i - j], 31));
        }
        let sum = sshl(sum, 4).wrapping_add(r[i]);
        a[i] = div64(sshl64(i64::from(sum), 31), i64::from(e)).wrapping_neg() as i32;
        for j in 1..i {
            a[j] = a[j].wrapping_add(mul32_32_q(a[i], prev[i - j], 31));
        }
        e = mul32_32_q(e, ONE_Q31.wrapping_sub(mul32_32_q(a[i], a[i], 31)), 31);
        a[i] >>= 4;
    }
    let mut lp = [0i16; M];
    for i in 0..M {
        lp[i] = sat16(pshr(a[i + 1], 15));
    }
    lp
}

/// The sum polynomial (F1 or F2) evaluated at x by the Chebyshev recursion, in Q15.
fn chebyshev(x: i16, f: &[i32; 6]) -> i32 {
    let x = i32::from(x);
    let mut b1 = sshl(x, 1).wrapping_add(f[1]);
    let mut b2: i32 = 32768;
    for k in (1..=3).rev() {
        let b = sshl(mul16_32_q(x, b1, 15), 1).wrapping_add(f[5 - k]).wrapping_sub(b2);
        b2 = b1;
        b1 = b;
    }
    mul16_32_q(x, b1, 15).wrapping_add(f[5] >> 1).wrapping_sub(b2)
}

/// The 10 LSPs (Q15) of the LP coefficients, or `None` when the grid search does not find all
/// roots (the caller then repeats the previous frame's LSPs).
pub fn lp_to_lsp(lp: &[i16; M]) -> Option<[i16; M]> {
    let mut f1 = [0i32; 6];
    let mut f2 = [0i32; 6];
    f1[0] = 4096;
    f2[0] = 4096;
    for i in 0..5 {
        let (lo, hi) = (i32::from(lp[i]), i32::from(lp[9 - i]));
        f1[i + 1] = lo + (hi - f1[i]);
        f2[i + 1] = f2[i] + (lo - hi);
    }
    for i in 1..6 {
        f1[i] = sshl(f1[i], 3);
        f2[i] = sshl(f2[i], 3);
    }
    let mut lsp = [0i16; M];
    let mut found = 0;
    let mut use_f1 = true;
    let poly = |first: bool| if first { f1 } else { f2 };
    let mut prev_c = chebyshev(GRID[0], &poly(use_f1));
    for i in 1..GRID.len() {
        let mut c = chebyshev(GRID[i], &poly(use_f1));
        // A sign change shows in bit 28: the polynomial values stay well inside +-2^28.
        if (prev_c ^ c) & 0x1000_0000 != 0 {
            let mut x_low = GRID[i - 1];
            let mut x_high = GRID[i];
            for _ in 0..2 {
                let x_mid = ((i32::from(x_low) + i32::from(x_high)) >> 1) as i16;
                let mid_c = chebyshev(x_mid, &poly(use_f1));
                if (prev_c ^ mid_c) & 0x1000_0000 != 0 {
                    x_high = x_mid;
                    c = mid_c;
                } else {
                    x_low = x_mid;
                    prev_c = mid_c;
                }
            }
            use_f1 = !use_f1;
            // Linear interpolation between the bracketing points; bcg729 1.1.1 saturates the
            // (possibly stale, see above) value at the low end to 17 bits first.
            let ratio = div32(sshl(prev_c.clamp(-0x1_0000, 0xffff), 14), c.wrapping_sub(prev_c) >> 1);
            let span = i32::from(x_high) - i32::from(x_low);
            let x_root = (i32::from(x_low) - mul16_32_q(span, ratio, 15)) as i16;
            prev_c = chebyshev(x_root, &poly(use_f1));
            lsp[found] = x_root;
            found += 1;
            if found == M {
                break;
            }
        }
    }
    (found == M).then_some(lsp)
}

/// Encoder-side LSF quantiser state: the last four quantiser outputs of the MA predictor.
#[derive(Clone)]
pub struct LspQuantizer {
    prev: [[i16; M]; 4],
}

impl Default for LspQuantizer {
    fn default() -> Self {
        Self { prev: [FREQ_PREV_RESET; 4] }
    }
}

/// Rearranges `q[from..to]` pairwise for a minimum distance `gap`, as the search does on each half.
fn spread(q: &mut [i16; M], gap: i32, from: usize, to: usize) {
    for i in from..to {
        let (a, b) = (i32::from(q[i - 1]), i32::from(q[i]));
        if a > b - gap {
            q[i - 1] = pshr(i32::from(add16(b, a)) - gap, 1) as i16;
            let a = i32::from(q[i - 1]);
            q[i] = pshr(i32::from(add16(i32::from(add16(b, a)), gap)), 1) as i16;
        }
    }
}

/// The decoder's rearrangement (half the overlap moved to each side, division truncating).
fn rearrange(q: &mut [i16; M], gap: i32) {
    for i in 1..M {
        let delta = (i32::from(add16(i32::from(q[i - 1]) - i32::from(q[i]), gap)) / 2) as i16;
        if delta > 0 {
            q[i - 1] = (i32::from(q[i - 1]) - i32::from(delta)) as i16;
            q[i] = add16(i32::from(q[i]), i32::from(delta));
        }
    }
}

impl LspQuantizer {
    /// Quantises the LSPs: returns the quantised LSPs (Q15) and L0, L1, L2, L3.
    pub fn quantize(&mut self, lsp: &[i16; M]) -> ([i16; M], [i16; 4]) {
        let mut lsf = [0i16; M];
        for i in 0..M {
            lsf[i] = acos_q15q13(lsp[i]);
        }
        let weights = lsf_weights(&lsf);
        let mut err = [0u32; 2];
        let mut idx = [[0usize; 3]; 2];
        let mut targets = [[0i16; M]; 2];
        for l0 in 0..2 {
            let mut target = [0i16; M];
            for i in 0..M {
                let mut acc = i32::from(lsf[i]) << 15;
                for j in 0..4 {
                    acc = acc.wrapping_sub(mul(i32::from(self.prev[j][i]), i32::from(FG[l0][j][i])));
                }
                target[i] = mul_q(i32::from(pshr(acc, 15) as i16), i32::from(FG_SUM_INV[l0][i]), 12) as i16;
            }
            targets[l0] = target;
            let mut best = i32::MAX;
            for (i, row) in LSPCB1.iter().enumerate() {
                let mut acc: i32 = 0;
                for j in 0..M {
                    let d = i32::from(sat16(i32::from(target[j]) - i32::from(row[j])));
                    acc = acc.wrapping_add(mul(d, d));
                }
                if acc < best {
                    best = acc;
                    idx[l0][0] = i;
                }
            }
            let l1 = &LSPCB1[idx[l0][0]];
            // What the second stage subtracts from, its scale and weight, per coefficient, so that
            // each codebook row costs two fixed 5-coefficient loops.
            let rest: [i32; M] = std::array::from_fn(|j| i32::from(target[j]) - i32::from(l1[j]));
            let fg: [i32; M] = FG_SUM[l0].map(i32::from);
            let w: [i32; M] = weights.map(i32::from);
            for half in 1..3 {
                let lo = (half - 1) * (M / 2);
                let part = |a: &[i32; M]| -> [i32; M / 2] { std::array::from_fn(|j| a[lo + j]) };
                let (rest, fg, w) = (part(&rest), part(&fg), part(&w));
                let mut best = i32::MAX;
                for (i, row) in LSPCB2.iter().enumerate() {
                    let row: &[i16; M / 2] = row[lo..lo + M / 2].try_into().unwrap_or(&[0; M / 2]);
                    let mut acc: i32 = 0;
                    for j in 0..M / 2 {
                        let d = rest[j] - i32::from(row[j]);
                        let d = i32::from(sat16(mul_q(d, fg[j], 15)));
                        acc = acc.wrapping_add(mul(d, mul_q(d, w[j], 11)));
                    }
                    if acc < best {
                        best = acc;
                        idx[l0][half] = i;
                    }
                }
            }
            let mut q = [0i16; M];
            for i in 0..M {
                let second = if i < M / 2 { idx[l0][1] } else { idx[l0][2] };
                q[i] = add16(i32::from(l1[i]), i32::from(LSPCB2[second][i]));
            }
            spread(&mut q, 10, 1, M / 2);
            spread(&mut q, 10, M / 2 + 1, M);
            spread(&mut q, 5, 1, M);
            // The final distance is summed unsigned, on magnitudes saturated to 16 bits.
            let mut e: u32 = 0;
            for i in 0..M {
                let d = i32::from(target[i]) - i32::from(q[i]);
                let d = mul_q(d, i32::from(FG_SUM[l0][i]), 15).unsigned_abs().min(0xffff) as i32;
                e = e.wrapping_add(mul(d, mul_q(d, i32::from(weights[i]), 11)) as u32);
            }
            err[l0] = e;
        }
        let l0 = if err[0] < err[1] { 0 } else { 1 };
        let [c1, c2, c3] = idx[l0];
        let mut out = [0i16; M];
        for i in 0..M {
            let second = if i < M / 2 { c2 } else { c3 };
            out[i] = add16(i32::from(LSPCB1[c1][i]), i32::from(LSPCB2[second][i]));
        }
        rearrange(&mut out, 10);
        rearrange(&mut out, 5);
        let mut qlsf = [0i16; M];
        for i in 0..M {
            let mut acc = mul(i32::from(FG_SUM[l0][i]), i32::from(out[i]));
            for j in 0..4 {
                acc = acc.wrapping_add(mul(i32::from(FG[l0][j][i]), i32::from(self.prev[j][i])));
            }
            qlsf[i] = pshr(acc, 15) as i16;
        }
        for k in (1..4).rev() {
            self.prev[k] = self.prev[k - 1];
        }
        self.prev[0] = out;
        stabilise(&mut qlsf);
        let mut qlsp = [0i16; M];
        for i in 0..M {
            qlsp[i] = cos_q15(qlsf[i]);
        }
        (qlsp, [l0 as i16, c1 as i16, c2 as i16, c3 as i16])
    }
}

/// Weights of the LSF distance (§3.2.4 eq. 22), Q11.
fn lsf_weights(lsf: &[i16; M]) -> [i16; M] {
    const OO4PI_PLUS1_Q13: i32 = 9221;
    const O92PI_MINUS1_Q13: i32 = 15485;
    let mut thr = [0i16; M];
    thr[0] = (i32::from(lsf[1]) - OO4PI_PLUS1_Q13) as i16;
    for i in 1..M - 1 {
        thr[i] = (i32::from(lsf[i + 1]) - i32::from(lsf[i - 1]) - 8192) as i16;
    }
    thr[M - 1] = (O92PI_MINUS1_Q13 - i32::from(lsf[M - 2])) as i16;
    let mut w = [0i16; M];
    for i in 0..M {
        let t = i32::from(thr[i]);
        w[i] = if t > 0 { 2048 } else { sat16(pshr(mul(mul_q(t, t, 13), 10), 2) + 2048) };
    }
    w[4] = mul_q(i32::from(w[4]), 19661, 14) as i16;
    w[5] = mul_q(i32::from(w[5]), 19661, 14) as i16;
    w
}

/// Sorts the quantised LSFs and enforces the limits and the minimum distance (§3.2.4). The low
/// limit is checked on the second coefficient, as bcg729 does.
fn stabilise(q: &mut [i16; M]) {
    for i in 1..M {
        let v = q[i];
        let mut j = i;
        while j > 0 && q[j - 1] > v {
            q[j] = q[j - 1];
            j -= 1;
        }
        q[j] = v;
    }
    if q[1] < 40 {
        q[1] = 40;
    }
    for i in 0..M - 1 {
        if i32::from(q[i + 1]) - i32::from(q[i]) < 321 {
            q[i + 1] = (i32::from(q[i]) + 321) as i16;
        }
    }
    if q[M - 1] > 25681 {
        q[M - 1] = 25681;
    }
}

/// F1 or F2 in Q24 from every other LSP, starting at `start`.
fn poly_coefficients(q: &[i16; M], start: usize) -> [i32; 6] {
    let mut f = [0i32; 6];
    f[0] = 16_777_216;
    f[1] = mul(i32::from(q[start]), -1024);
    for i in 2..6 {
        let l = i32::from(q[start + 2 * i - 2]);
        f[i] = f[i - 2].wrapping_sub(mul16_32_p(l, f[i - 1], 15)).wrapping_shl(1);
        for j in (2..i).rev() {
            f[j] = f[j].wrapping_add(f[j - 2].wrapping_sub(mul16_32_p(l, f[j - 1], 14)));
        }
        f[1] = f[1].wrapping_sub(l << 10);
    }
    f
}

/// Quantised LSPs (Q15) to LP coefficients a[1..=10] (Q12).
pub fn qlsp_to_lp(q: &[i16; M]) -> [i16; M] {
    let mut f1 = poly_coefficients(q, 0);
    let mut f2 = poly_coefficients(q, 1);
    for i in (1..=5).rev() {
        f1[i] = f1[i].wrapping_add(f1[i - 1]);
        f2[i] = f2[i].wrapping_sub(f2[i - 1]);
    }
    let mut lp = [0i16; M];
    for i in 0..5 {
        lp[i] = pshr(f1[i + 1].wrapping_add(f2[i + 1]), 13) as i16;
        lp[9 - i] = pshr(f1[i + 1].wrapping_sub(f2[i + 1]), 13) as i16;
    }
    lp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LSP -> LP -> LSP comes back within a third of the search grid step (pi/50) in frequency:
    /// the bisection and interpolation refine the grid, and the roots stay ordered.
    #[test]
    fn lsp_round_trip() {
        let lsp0 = crate::g729::decoder::LSP_INIT;
        let lp = qlsp_to_lp(&lsp0);
        let lsp = lp_to_lsp(&lp).expect("10 roots");
        let angle = |v: i16| (f64::from(v) / 32768.0).acos();
        for i in 0..M {
            let err = (angle(lsp[i]) - angle(lsp0[i])).abs();
            assert!(err < std::f64::consts::PI / 150.0, "lsp[{i}] {} vs {}: {err:.4} rad", lsp[i], lsp0[i]);
            if i > 0 {
                assert!(lsp[i] < lsp[i - 1], "roots out of order: {lsp:?}");
            }
        }
    }
}
