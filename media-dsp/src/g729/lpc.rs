//! LP filters of G.729 in bcg729's arithmetic: LSP-to-LPC conversion and the saturating synthesis filter.

use super::ops::*;
use super::{L_SUBFR, M, MP1};

/// F1(z) or F2(z) in Q24 (the ITU text's Get_lsp_pol) with bcg729's rounding products.
fn lsp_pol_rounded(lsp: &[i16; M], start: usize) -> [i32; 6] {
    let mut f = [0i32; 6];
    f[0] = 1 << 24;
    f[1] = i32::from(lsp[start]) * -1024;
    for i in 2..=5usize {
        let q = lsp[start + 2 * i - 2];
        f[i] = f[i - 2].wrapping_sub(mul16_32_p(i32::from(q), f[i - 1], 15)).wrapping_shl(1);
        for j in (2..i).rev() {
            // Q14 instead of Q15 doubles the LSP, as the recursion wants.
            f[j] = f[j].wrapping_add(f[j - 2].wrapping_sub(mul16_32_p(i32::from(q), f[j - 1], 14)));
        }
        f[1] = f[1].wrapping_sub(i32::from(q) << 10);
    }
    f
}

/// LSPs (Q15) to LP coefficients a[0..=10] (Q12), rounding as bcg729 does.
pub fn lsp_to_lp(lsp: &[i16; M]) -> [i16; MP1] {
    let mut f1 = lsp_pol_rounded(lsp, 0);
    let mut f2 = lsp_pol_rounded(lsp, 1);
    for i in (1..=5).rev() {
        f1[i] = f1[i].wrapping_add(f1[i - 1]);
        f2[i] = f2[i].wrapping_sub(f2[i - 1]);
    }
    let mut a = [0i16; MP1];
    a[0] = 4096;
    for i in 1..=5 {
        a[i] = pshr(f1[i].wrapping_add(f2[i]), 13) as i16;
        a[MP1 - i] = pshr(f1[i].wrapping_sub(f2[i]), 13) as i16;
    }
    a
}

/// Synthesis through 1/A(z) in plain 32-bit arithmetic, each output rounded and saturated (the
/// decoder's variant of [`syn_filt`]: no overflow flag, no second pass). `mem` holds the last M
/// outputs before `x` and is updated.
pub fn syn_filt_sat(a: &[i16; MP1], x: &[i16], y: &mut [i16], mem: &mut [i16; M]) {
    let len = x.len().min(L_SUBFR);
    let mut tmp = [0i16; M + L_SUBFR];
    tmp[..M].copy_from_slice(mem);
    // The coefficients reversed to the order of the past outputs they weigh, tmp[i..i + M], so
    // each step is one dot product over a fixed-size window; the wrapping sum is order-free. The
    // newest output's term is added last, apart from the rest, so the dot product over the older
    // nine can start before that output is known (the recursion's critical path is one product).
    let mut rev = [0i16; M - 1];
    for (r, &c) in rev.iter_mut().rev().zip(&a[2..]) {
        *r = c;
    }
    let a1 = i32::from(a[1]);
    let mut prev = i32::from(mem[M - 1]);
    for i in 0..len {
        let older: &[i16; M - 1] = tmp[i..i + M - 1].try_into().unwrap_or(&[0; M - 1]);
        let dot = older.iter().zip(&rev).fold(0i32, |acc, (&y, &c)| acc.wrapping_add(i32::from(y) * i32::from(c)));
        let y = sat16(pshr((i32::from(x[i]) << 12).wrapping_sub(dot).wrapping_sub(a1 * prev), 12));
        tmp[M + i] = y;
        prev = i32::from(y);
    }
    y[..len].copy_from_slice(&tmp[M..M + len]);
    mem.copy_from_slice(&tmp[len..len + M]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-point LSP-to-LPC conversion against the same polynomial products in floating point.
    #[test]
    fn lsp_to_lp_matches_float_expansion() {
        let lsp = crate::g729::decoder::LSP_INIT;
        let a = lsp_to_lp(&lsp);
        let q: Vec<f64> = lsp.iter().map(|&v| f64::from(v) / 32768.0).collect();
        let mul = |p: &Vec<f64>, qq: f64| {
            let mut r = vec![0.0; p.len() + 2];
            for (i, &c) in p.iter().enumerate() {
                r[i] += c;
                r[i + 1] += -2.0 * qq * c;
                r[i + 2] += c;
            }
            r
        };
        let (mut f1, mut f2) = (vec![1.0], vec![1.0]);
        for k in 0..5 {
            f1 = mul(&f1, q[2 * k]);
            f2 = mul(&f2, q[2 * k + 1]);
        }
        for i in 0..MP1 {
            let f1p = f1[i] + if i > 0 { f1[i - 1] } else { 0.0 };
            let f2m = f2[i] - if i > 0 { f2[i - 1] } else { 0.0 };
            let want = (f1p + f2m) / 2.0 * 4096.0;
            assert!((f64::from(a[i]) - want).abs() <= 1.0, "a[{i}] = {}, float {want}", a[i]);
        }
    }
}
