//! Fixed-point arithmetic of G.729: the few ITU-T basic operators (G.729 / G.191 STL) still used,
//! with their exact saturation rules, then the plain 32-bit arithmetic and polynomial
//! log2/exp2/sqrt/cos that both directions use to be bit-exact with bcg729.
//!
//! Each ITU operator is the textbook definition, not a "wider arithmetic" shortcut, so that where
//! the code uses one it saturates exactly where the reference does. bcg729 instead wraps on 32
//! bits and saturates only where it stores 16 bits; the second half of this file does the same.

pub const MAX_16: i16 = i16::MAX;
pub const MIN_16: i16 = i16::MIN;
pub const MAX_32: i32 = i32::MAX;
pub const MIN_32: i32 = i32::MIN;

#[inline]
pub fn sat16(x: i32) -> i16 {
    x.clamp(i32::from(MIN_16), i32::from(MAX_16)) as i16
}

#[inline]
pub fn add(a: i16, b: i16) -> i16 {
    sat16(i32::from(a) + i32::from(b))
}

#[inline]
pub fn sub(a: i16, b: i16) -> i16 {
    sat16(i32::from(a) - i32::from(b))
}

#[inline]
pub fn shl(a: i16, n: i16) -> i16 {
    if n < 0 {
        return shr(a, -n);
    }
    if n > 15 && a != 0 {
        return if a > 0 { MAX_16 } else { MIN_16 };
    }
    let r = i32::from(a) << n.min(16);
    sat16(r)
}

#[inline]
pub fn shr(a: i16, n: i16) -> i16 {
    if n < 0 {
        return shl(a, -n);
    }
    if n >= 15 {
        if a < 0 {
            -1
        } else {
            0
        }
    } else {
        a >> n
    }
}

#[inline]
pub fn mult(a: i16, b: i16) -> i16 {
    sat16((i32::from(a) * i32::from(b)) >> 15)
}

#[inline]
pub fn l_mult(a: i16, b: i16) -> i32 {
    let p = i32::from(a) * i32::from(b);
    if p == 0x4000_0000 {
        MAX_32
    } else {
        p * 2
    }
}

#[inline]
pub fn l_add(a: i32, b: i32) -> i32 {
    a.saturating_add(b)
}

#[inline]
pub fn l_sub(a: i32, b: i32) -> i32 {
    a.saturating_sub(b)
}

#[inline]
pub fn l_msu(acc: i32, a: i16, b: i16) -> i32 {
    l_sub(acc, l_mult(a, b))
}

#[inline]
pub fn l_shl(a: i32, n: i16) -> i32 {
    if n <= 0 {
        return l_shr(a, -n);
    }
    let mut x = a;
    for _ in 0..n {
        if x > 0x3fff_ffff {
            return MAX_32;
        }
        if x < -0x4000_0000 {
            return MIN_32;
        }
        x *= 2;
    }
    x
}

#[inline]
pub fn l_shr(a: i32, n: i16) -> i32 {
    if n < 0 {
        return l_shl(a, -n);
    }
    if n >= 31 {
        if a < 0 {
            -1
        } else {
            0
        }
    } else {
        a >> n
    }
}

#[inline]
pub fn extract_h(a: i32) -> i16 {
    (a >> 16) as i16
}

#[inline]
#[allow(clippy::cast_possible_truncation)]
pub fn extract_l(a: i32) -> i16 {
    a as i16
}

#[inline]
pub fn l_deposit_h(a: i16) -> i32 {
    i32::from(a) << 16
}

#[inline]
pub fn norm_l(a: i32) -> i16 {
    if a == 0 {
        return 0;
    }
    if a == -1 {
        return 31;
    }
    let v = if a < 0 { !a } else { a };
    (v.leading_zeros() as i16) - 1
}

/// The reference's pseudo-random generator: seed = seed * 31821 + 13849 on 16 bits.
#[inline]
pub fn random(seed: &mut i16) -> i16 {
    *seed = extract_l(l_add(l_shr(l_mult(*seed, 31821), 1), 13849));
    *seed
}

/// log2(L_x) as (exponent, fraction); 0 for non-positive input.
pub fn log2(l_x: i32) -> (i16, i16) {
    use super::tables::TABLOG;
    if l_x <= 0 {
        return (0, 0);
    }
    let exp = norm_l(l_x);
    let l = l_shl(l_x, exp);
    let exponent = sub(30, exp);
    let l = l_shr(l, 9);
    let i = extract_h(l);
    let l = l_shr(l, 1);
    let a = extract_l(l) & 0x7fff;
    let i = sub(i, 32) as usize;
    let ly = l_deposit_h(TABLOG[i]);
    let tmp = sub(TABLOG[i], TABLOG[i + 1]);
    let ly = l_msu(ly, tmp, a);
    (exponent, extract_h(ly))
}

// Plain 32-bit arithmetic with rounding shifts.
//
// The decoder is bit-exact with bcg729, which does not use the ITU operators: it multiplies in
// plain 32-bit integers, rounds where it shifts down ("P" below) or truncates ("Q"), and saturates
// only where it stores 16-bit results. These helpers are those operations, wrapping on 32 bits as
// the C they are compared against does on every machine we run on.

/// Rounding arithmetic shift right: (x + 2^(n-1)) >> n.
#[inline]
pub fn pshr(x: i32, n: u32) -> i32 {
    x.wrapping_add((1i32 << n) >> 1) >> n
}

/// Shift right by `n`, or left by `-n` when `n` is negative.
#[inline]
pub fn vshr(x: i32, n: i32) -> i32 {
    if n > 0 {
        x >> n
    } else {
        x.wrapping_shl(n.unsigned_abs())
    }
}

/// The same on an unsigned value.
#[inline]
pub fn vshr_u(x: u32, n: i32) -> u32 {
    if n > 0 {
        x >> n
    } else {
        x.wrapping_shl(n.unsigned_abs())
    }
}

/// a * b >> q, truncating.
#[inline]
pub fn mul_q(a: i32, b: i32, q: u32) -> i32 {
    a.wrapping_mul(b) >> q
}

/// a * b >> q, rounding.
#[inline]
pub fn mul_p(a: i32, b: i32, q: u32) -> i32 {
    pshr(a.wrapping_mul(b), q)
}

/// A 16-bit by 32-bit product in Qq, truncating: the 32-bit factor is split at bit q so that
/// nothing overflows for a 16-bit `a`. `a` is an i32 because bcg729's macros take whatever int
/// they are given; the encoder passes some wider values and gets the same wrapping as the C.
#[inline]
pub fn mul16_32_q(a: i32, b: i32, q: u32) -> i32 {
    let low = b & ((1i32 << q) - 1);
    a.wrapping_mul(b >> q).wrapping_add(a.wrapping_mul(low) >> q)
}

/// The same, rounding the low part.
#[inline]
pub fn mul16_32_p(a: i32, b: i32, q: u32) -> i32 {
    let low = b & ((1i32 << q) - 1);
    a.wrapping_mul(b >> q).wrapping_add(pshr(a.wrapping_mul(low), q))
}

/// Leading zeros of a non-negative value, not counting the sign bit (31 for zero).
#[inline]
pub fn clz_signed(x: i32) -> u32 {
    if x <= 0 {
        return 31;
    }
    x.leading_zeros() - 1
}

/// log2(x) in Q16 for x > 0 in Q0: the exponent plus a cubic fit of the mantissa's log.
pub fn log2_q16(x: i32) -> i32 {
    const K: [i32; 4] = [-135_003, 378_194, -252_129, 74_705];
    let lz = clz_signed(x) as i32;
    let int_part = (30 - lz) << 16;
    let m = i32::from(vshr(x, 16 - lz) as i16);
    let poly = mul16_32_q(m, K[2] + mul16_32_q(m, K[3], 15), 15);
    let poly = K[0] + mul16_32_q(m, K[1] + poly, 15);
    int_part.wrapping_add(poly)
}

/// 2^x in Q16 for x in Q11: the integer part as a shift, the fraction by a cubic fit.
pub fn exp2_q16(x: i16) -> i32 {
    const E: [i16; 4] = [16384, 11356, 3726, 1301];
    let int_part = i32::from(x >> 11);
    if int_part > 14 {
        return i32::MAX;
    }
    if int_part < -15 {
        return 0;
    }
    let f = ((i32::from(x) - (int_part << 11)) << 3) as i16;
    let f32_ = i32::from(f);
    let t = (i32::from(E[2]) + mul_q(i32::from(E[3]), f32_, 14)) as i16;
    let t = (i32::from(E[1]) + mul_q(f32_, i32::from(t), 14)) as i16;
    let t = (i32::from(E[0]) + mul_q(f32_, i32::from(t), 14)) as i16;
    vshr(i32::from(t), -int_part - 2)
}

/// sqrt(x) in Q7 for x in Q0: x scaled into [0.25, 1) in Q14, then a cubic fit.
pub fn sqrt_q7(x: u32) -> i32 {
    const C: [i32; 4] = [3634, 21173, -12627, 4204];
    if x == 0 {
        return 0;
    }
    let k = (19 - x.leading_zeros() as i32) >> 1;
    let y = vshr_u(x, k << 1) as i32;
    let t = (C[2] + mul_q(y, C[3], 14)) as i16;
    let t = (C[1] + mul_q(y, i32::from(t), 14)) as i16;
    let t = (C[0] + mul_q(y, i32::from(t), 14)) as i16;
    vshr(i32::from(t), -k)
}

/// cos(x) in Q15 for x in Q13 in [0, pi], by quadrant and a polynomial for cos or sin.
pub fn cos_q15(x: i16) -> i16 {
    const KCOS: [i32; 4] = [32768, -16384, 1365, -46];
    const KSIN: [i32; 4] = [32768, -5461, 273, -7];
    let series = |x2: i32, k: &[i32; 4]| k[0] + mul_p(x2, k[1] + mul_p(x2, k[2] + mul_p(k[3], x2, 15), 15), 15);
    let x = i32::from(x);
    let sq = |v: i32| i32::from(mul_p(v, v, 11) as i16);
    if x < 12868 {
        if x < 6434 {
            sat16(series(sq(x), &KCOS))
        } else {
            let v = i32::from((12868 - x) as i16);
            mul_p(v, series(sq(v), &KSIN), 13) as i16
        }
    } else {
        let scaled = i32::from((25736 - x) as i16);
        if x < 19302 {
            let v = i32::from((12868 - scaled) as i16);
            mul_p(-v, series(sq(v), &KSIN), 13) as i16
        } else {
            let x2 = sq(scaled);
            (-KCOS[0] - mul_p(x2, KCOS[1] + mul_p(x2, KCOS[2] + mul_p(KCOS[3], x2, 15), 15), 15)) as i16
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The polynomial approximations against floating point over their whole input ranges.
    #[test]
    fn polynomial_math_tracks_float() {
        let mut worst = [0f64; 4];
        for x in (0..=25736).step_by(7) {
            let want = (f64::from(x) / 8192.0).cos() * 32768.0;
            worst[0] = worst[0].max((f64::from(cos_q15(x as i16)) - want.min(32767.0)).abs());
        }
        for x in [1i32, 2, 3, 7, 100, 4095, 65536, 1_000_000, 123_456_789, i32::MAX] {
            let want = f64::from(x).log2() * 65536.0;
            worst[1] = worst[1].max((f64::from(log2_q16(x)) - want).abs() / 65536.0);
        }
        for x in (-30_000i16..=28_000).step_by(97) {
            let want = 2f64.powf(f64::from(x) / 2048.0) * 65536.0;
            worst[2] = worst[2].max((f64::from(exp2_q16(x)) - want).abs() / want.max(65536.0));
        }
        for x in [1u32, 2, 17, 1000, 65_535, 1 << 20, 123_456_789, u32::MAX] {
            let want = f64::from(x).sqrt() * 128.0;
            worst[3] = worst[3].max((f64::from(sqrt_q7(x)) - want).abs() / want);
        }
        assert!(worst[0] <= 8.0, "cos: {} LSB off in Q15", worst[0]);
        assert!(worst[1] < 0.01, "log2: {} off (a cubic fit of the mantissa)", worst[1]);
        assert!(worst[2] < 0.001, "exp2: {} relative", worst[2]);
        assert!(worst[3] < 0.01, "sqrt: {} relative", worst[3]);
        assert_eq!(exp2_q16(15 << 11), i32::MAX, "2^15 in Q16 does not fit: saturates");
        assert_eq!(exp2_q16(-16 << 11), 0);
        assert_eq!(sqrt_q7(0), 0);
    }

    #[test]
    fn rounding_shifts_and_split_products() {
        assert_eq!(pshr(5, 1), 3);
        assert_eq!(pshr(-5, 1), -2, "rounds half up, as (x + 1) >> 1 does");
        assert_eq!(pshr(i32::MAX, 4), -(1 << 27), "wraps like the C it mirrors");
        assert_eq!(vshr(3, -2), 12);
        assert_eq!(vshr(-12, 2), -3);
        assert_eq!(mul16_32_q(16384, 1 << 20, 15), 1 << 19);
        assert_eq!(mul16_32_q(-32768, i32::MAX, 15), -(i32::MAX >> 15 << 15) - ((32767 * 32768) >> 15));
        assert_eq!(mul16_32_p(3, 0x7fff, 15), 3);
        assert_eq!(mul16_32_q(3, 0x7fff, 15), 2);
        assert_eq!(clz_signed(1), 30);
        assert_eq!(clz_signed(0x4000_0000), 0);
        assert_eq!(clz_signed(0), 31);
    }

    #[test]
    fn saturation_edges() {
        assert_eq!(add(32767, 1), 32767);
        assert_eq!(sub(-32768, 1), -32768);
        assert_eq!(mult(-32768, -32768), 32767);
        assert_eq!(l_mult(-32768, -32768), MAX_32);
        assert_eq!(l_shl(0x4000_0000, 1), MAX_32);
        assert_eq!(l_shl(-0x4000_0001, 1), MIN_32);
        assert_eq!(shl(0x4000, 1), 32767);
        assert_eq!(norm_l(1), 30);
        assert_eq!(norm_l(-1), 31);
        assert_eq!(extract_h(l_msu(0, -32768, -32768)), -32768, "l_msu saturates at MIN_32");
    }
}
