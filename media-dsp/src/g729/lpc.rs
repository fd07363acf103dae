//! LP filters of G.729: LSP-to-LPC conversion and interpolation, weighting, residual and synthesis.

use super::ops::*;
use super::{L_SUBFR, M, MP1};

/// F1(z) or F2(z) coefficients in Q24 from every other LSP.
fn get_lsp_pol(lsp: &[i16; M], start: usize) -> [i32; 6] {
    let mut f = [0i32; 6];
    f[0] = l_mult(4096, 2048);
    f[1] = l_msu(0, lsp[start], 512);
    for i in 2..=5usize {
        let l = lsp[start + 2 * (i - 1)];
        f[i] = f[i - 2];
        for j in (2..=i).rev() {
            // f[j] += f[j-2] - 2*lsp*f[j-1], with f[j-1] in double precision.
            let (hi, lo) = l_extract(f[j - 1]);
            let t0 = mpy_32_16(hi, lo, l);
            let t0 = l_shl(t0, 1);
            f[j] = l_add(f[j], f[j - 2]);
            f[j] = l_sub(f[j], t0);
        }
        f[1] = l_msu(f[1], l, 512);
    }
    f
}

/// LSPs (Q15) to LP coefficients a[0..=10] (Q12).
pub fn lsp_az(lsp: &[i16; M]) -> [i16; MP1] {
    let mut f1 = get_lsp_pol(lsp, 0);
    let mut f2 = get_lsp_pol(lsp, 1);
    for i in (1..=5).rev() {
        f1[i] = l_add(f1[i], f1[i - 1]);
        f2[i] = l_sub(f2[i], f2[i - 1]);
    }
    let mut a = [0i16; MP1];
    a[0] = 4096;
    for i in 1..=5 {
        let t0 = l_add(f1[i], f2[i]);
        a[i] = extract_l(l_shr_r(t0, 13));
        let t0 = l_sub(f1[i], f2[i]);
        a[MP1 - i] = extract_l(l_shr_r(t0, 13));
    }
    a
}

/// LP coefficients of both subframes: the mean of old and new LSPs, then the new ones.
pub fn int_qlpc(lsp_old: &[i16; M], lsp_new: &[i16; M]) -> [[i16; MP1]; 2] {
    let mut lsp = [0i16; M];
    for i in 0..M {
        lsp[i] = add(shr(lsp_new[i], 1), shr(lsp_old[i], 1));
    }
    [lsp_az(&lsp), lsp_az(lsp_new)]
}

/// ap[i] = a[i] * gamma^i.
pub fn weight_az(a: &[i16; MP1], gamma: i16) -> [i16; MP1] {
    let mut ap = [0i16; MP1];
    ap[0] = a[0];
    let mut fac = gamma;
    for i in 1..M {
        ap[i] = round(l_mult(a[i], fac));
        fac = round(l_mult(fac, gamma));
    }
    ap[M] = round(l_mult(a[M], fac));
    ap
}

/// Residual through A(z): `x` holds M samples of history before the `len` samples filtered.
pub fn residu(a: &[i16; MP1], x: &[i16], y: &mut [i16], len: usize) {
    for i in 0..len {
        let mut s = l_mult(x[i + M], a[0]);
        for j in 1..=M {
            s = l_mac(s, a[j], x[i + M - j]);
        }
        let s = l_shl(s, 3);
        y[i] = round(s);
    }
}

/// Synthesis through 1/A(z) of `x` into `y` with memory `mem`; returns whether any operator
/// saturated, which the reference answers by scaling the excitation down and filtering again.
pub fn syn_filt(a: &[i16; MP1], x: &[i16], y: &mut [i16], mem: &mut [i16; M], update: bool) -> bool {
    let len = x.len();
    let mut tmp = [0i16; M + L_SUBFR];
    debug_assert!(len <= L_SUBFR);
    tmp[..M].copy_from_slice(mem);
    let mut o = Ovf::default();
    for i in 0..len {
        let mut s = o.l_mult(x[i], a[0]);
        for j in 1..=M {
            s = o.l_msu(s, a[j], tmp[M + i - j]);
        }
        let s = o.l_shl(s, 3);
        tmp[M + i] = o.round(s);
    }
    y[..len].copy_from_slice(&tmp[M..M + len]);
    if update {
        mem.copy_from_slice(&y[len - M..len]);
    }
    o.0
}

/// F1(z) or F2(z) in Q24 with bcg729's rounding products (the decoder's variant of [`lsp_az`]).
fn lsp_pol_rounded(lsp: &[i16; M], start: usize) -> [i32; 6] {
    let mut f = [0i32; 6];
    f[0] = 1 << 24;
    f[1] = i32::from(lsp[start]) * -1024;
    for i in 2..=5usize {
        let q = lsp[start + 2 * i - 2];
        f[i] = f[i - 2].wrapping_sub(mul16_32_p(q, f[i - 1], 15)).wrapping_shl(1);
        for j in (2..i).rev() {
            // Q14 instead of Q15 doubles the LSP, as the recursion wants.
            f[j] = f[j].wrapping_add(f[j - 2].wrapping_sub(mul16_32_p(q, f[j - 1], 14)));
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
    for i in 0..len {
        let mut acc = i32::from(x[i]) << 12;
        for j in 1..=M {
            acc = acc.wrapping_sub(i32::from(a[j]) * i32::from(tmp[M + i - j]));
        }
        tmp[M + i] = sat16(pshr(acc, 12));
    }
    y[..len].copy_from_slice(&tmp[M..M + len]);
    mem.copy_from_slice(&tmp[len..len + M]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-point LSP-to-LPC conversion against the same polynomial products in floating point.
    #[test]
    fn lsp_az_matches_float_expansion() {
        let lsp = crate::g729::decoder::LSP_INIT;
        let a = lsp_az(&lsp);
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
