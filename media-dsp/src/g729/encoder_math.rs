//! The encoder's fixed-point arithmetic: 32/64-bit wrapping multiply-shift helpers and the
//! polynomial log2, exp2, sqrt, cos and acos approximations that bcg729's encoder is built on.
//!
//! bcg729 is not written in the ITU basic operators (`ops`): it multiplies in plain 32-bit C
//! integers (wrapping, not saturating), rounds with "add half then shift", divides in 64 bits and
//! approximates the transcendental functions with short polynomials. A bitstream identical to
//! bcg729's needs those exact operations, so the encoder uses these helpers instead of `ops`.
//! The names say the operation and its Q shift: `q` truncates, `p` rounds.

/// a * b on 32 bits, wrapping as C's int arithmetic does on every target we build for.
#[inline]
pub fn mul(a: i32, b: i32) -> i32 {
    a.wrapping_mul(b)
}

/// Right shift with rounding (adds half of the last unit first).
#[inline]
pub fn pshr(a: i32, s: u32) -> i32 {
    a.wrapping_add((1i32 << s) >> 1) >> s
}

#[inline]
pub fn pshr64(a: i64, s: u32) -> i64 {
    a.wrapping_add((1i64 << s) >> 1) >> s
}

/// Left shift of the magnitude, sign put back after (bcg729's guard against shifting negative
/// values); it differs from a plain shift only when the result overflows.
#[inline]
pub fn sshl(a: i32, s: u32) -> i32 {
    if a < 0 {
        a.wrapping_neg().wrapping_shl(s).wrapping_neg()
    } else {
        a.wrapping_shl(s)
    }
}

#[inline]
pub fn sshl64(a: i64, s: u32) -> i64 {
    if a < 0 {
        a.wrapping_neg().wrapping_shl(s).wrapping_neg()
    } else {
        a.wrapping_shl(s)
    }
}

/// Saturation to 16 bits.
#[inline]
pub fn sat16(x: i32) -> i16 {
    x.clamp(-32768, 32767) as i16
}

/// (a * b) >> s, truncating.
#[inline]
pub fn mul_q(a: i32, b: i32, s: u32) -> i32 {
    mul(a, b) >> s
}

/// (a * b + half) >> s, rounding.
#[inline]
pub fn mul_p(a: i32, b: i32, s: u32) -> i32 {
    pshr(mul(a, b), s)
}

/// A 16-bit by 32-bit product shifted right by `s` without a 64-bit intermediate: the high part
/// of `b` is multiplied exactly and the low `s` bits are multiplied then truncated.
#[inline]
pub fn mul16_32_q(a: i32, b: i32, s: u32) -> i32 {
    let mask = (1i32 << s) - 1;
    mul(a, b >> s).wrapping_add(mul(a, b & mask) >> s)
}

/// The same with the low part rounded.
#[inline]
pub fn mul16_32_p(a: i32, b: i32, s: u32) -> i32 {
    let mask = (1i32 << s) - 1;
    mul(a, b >> s).wrapping_add(pshr(mul(a, b & mask), s))
}

/// (a * b) >> s on 64 bits, truncated back to 32.
#[inline]
pub fn mul32_32_q(a: i32, b: i32, s: u32) -> i32 {
    ((i64::from(a) * i64::from(b)) >> s) as i32
}

/// Shift right for positive `s`, left for negative `s`.
#[inline]
pub fn vshr32(a: i32, s: i32) -> i32 {
    if s > 0 {
        a >> s.min(31)
    } else {
        a.wrapping_shl((-s) as u32)
    }
}

/// 16-bit addition that wraps, as a C add of two shorts stored back into a short.
#[inline]
pub fn add16(a: i32, b: i32) -> i16 {
    (a as i16).wrapping_add(b as i16)
}

/// Division that gives 0 instead of trapping on a zero divisor (C would raise SIGFPE there; the
/// encoder's inputs never reach it, but no input may stop the codec).
#[inline]
pub fn div64(a: i64, b: i64) -> i64 {
    if b == 0 {
        0
    } else {
        a.wrapping_div(b)
    }
}

#[inline]
pub fn div32(a: i32, b: i32) -> i32 {
    if b == 0 {
        0
    } else {
        a.wrapping_div(b)
    }
}

/// Leading zeros of a positive value not counting the sign bit; 31 for 0. A negative value, which
/// the callers never pass, gives 0.
#[inline]
pub fn clz(x: i32) -> i32 {
    if x == 0 {
        31
    } else if x < 0 {
        0
    } else {
        x.leading_zeros() as i32 - 1
    }
}

/// log2(x) in Q16 for x > 0 (Q0): the exponent from the leading zeros and a cubic in the mantissa.
pub fn log2_q0q16(x: i32) -> i32 {
    const KL0: i32 = -135_003;
    const KL1: i32 = 378_194;
    const KL2: i32 = -252_129;
    const KL3: i32 = 74_705;
    let lz = clz(x);
    let int_part = (30 - lz) << 16;
    let m = i32::from(vshr32(x, 16 - lz) as i16);
    let poly = KL0.wrapping_add(mul16_32_q(
        m,
        KL1.wrapping_add(mul16_32_q(m, KL2.wrapping_add(mul16_32_q(m, KL3, 15)), 15)),
        15,
    ));
    int_part.wrapping_add(poly)
}

/// 2^x for x in Q11, result in Q16 (saturated above 2^15, 0 below 2^-16).
pub fn exp2_q11q16(x: i16) -> i32 {
    const E0: i32 = 16384;
    const E1: i32 = 11356;
    const E2: i32 = 3726;
    const E3: i32 = 1301;
    let int_part = i32::from(x >> 11);
    if int_part > 14 {
        return 0x7fff_ffff;
    }
    if int_part < -15 {
        return 0;
    }
    let frac = i32::from(((i32::from(x) - (int_part << 11)) << 3) as i16);
    let t = add16(E2, mul_q(E3, frac, 14));
    let t = add16(E1, mul_q(frac, i32::from(t), 14));
    let f = add16(E0, mul_q(frac, i32::from(t), 14));
    vshr32(i32::from(f), -int_part - 2)
}

/// sqrt(x) in Q7 for x in Q0 (unsigned).
pub fn sqrt_q0q7(x: u32) -> i32 {
    const C0: i32 = 3634;
    const C1: i32 = 21173;
    const C2: i32 = -12627;
    const C3: i32 = 4204;
    if x == 0 {
        return 0;
    }
    let k = (19 - x.leading_zeros() as i32) >> 1;
    let shifted = if k * 2 > 0 { x >> (k * 2) } else { x << (-(k * 2)) };
    let xs = shifted as i32;
    let t = add16(C2, mul_q(xs, C3, 14));
    let t = add16(C1, mul_q(xs, i32::from(t), 14));
    let rt = i32::from(add16(C0, mul_q(xs, i32::from(t), 14)));
    vshr32(rt, -k)
}

/// 1/sqrt(x) in Q31 for x >= 1.
pub fn inv_sqrt_q0q31(x: i32) -> i32 {
    if x == 1 {
        return i32::MAX;
    }
    div64(i64::from(sqrt_q0q7(x as u32)) << 24, i64::from(x)) as i32
}

/// cos(x) in Q15 for x in Q13 over [0, pi], by quarter and short Taylor polynomials.
pub fn cos_q13q15(x: i16) -> i16 {
    const KCOS2: i32 = -16384;
    const KCOS3: i32 = 1365;
    const KCOS4: i32 = -46;
    const KSIN2: i32 = -5461;
    const KSIN3: i32 = 273;
    const KSIN4: i32 = -7;
    let cos_poly = |x2: i32| 32768 + mul_p(x2, KCOS2 + mul_p(x2, KCOS3 + mul_p(KCOS4, x2, 15), 15), 15);
    let sin_poly = |x2: i32| 32768 + mul_p(x2, KSIN2 + mul_p(x2, KSIN3 + mul_p(KSIN4, x2, 15), 15), 15);
    let xi = i32::from(x);
    if xi < 12868 {
        if xi < 6434 {
            let x2 = i32::from(mul_p(xi, xi, 11) as i16);
            sat16(cos_poly(x2))
        } else {
            let y = i32::from((12868 - xi) as i16);
            let x2 = i32::from(mul_p(y, y, 11) as i16);
            mul_p(y, sin_poly(x2), 13) as i16
        }
    } else {
        let scaled = i32::from((25736 - xi) as i16);
        if xi < 19302 {
            let y = i32::from((12868 - scaled) as i16);
            let x2 = i32::from(mul_p(y, y, 11) as i16);
            mul_p(-y, sin_poly(x2), 13) as i16
        } else {
            let x2 = i32::from(mul_p(scaled, scaled, 11) as i16);
            (-32768 - mul_p(x2, KCOS2 + mul_p(x2, KCOS3 + mul_p(KCOS4, x2, 15), 15), 15)) as i16
        }
    }
}

/// atan(x) in Q13 for x in Q15, by range reduction to [0, tan(pi/12)] and a rational fit.
fn atan_q15q13(x: i32) -> i16 {
    const KPI6: i32 = 17157;
    const KTAN_PI6: i32 = 18919;
    const KTAN_PI12: i32 = 8780;
    const ATAN_B: i32 = 8453;
    const ATAN_C: i32 = 19373;
    const HALF_PI_Q15: i32 = 51472;
    let mut x = x;
    let sign = x < 0;
    if sign {
        x = x.wrapping_neg();
    }
    let complement = x > 32768;
    if complement {
        x = div32(0x4000_0000, x);
    }
    let high = x > KTAN_PI12;
    if high {
        x = div32(sshl(x - KTAN_PI6, 15), mul_q(KTAN_PI6, x, 15) + 32768);
    }
    let x2 = i32::from(mul_q(x, x, 15) as i16);
    let mut angle = div32(mul(x, 32768 + mul_q(ATAN_B, x2, 15)), 32768 + mul_q(ATAN_C, x2, 15));
    if high {
        angle += KPI6;
    }
    if complement {
        angle = HALF_PI_Q15 - angle;
    }
    let angle = pshr(angle, 2);
    if sign {
        (-angle) as i16
    } else {
        angle as i16
    }
}

/// acos(x) in Q13 for x in Q15: pi/2 - atan(x / sqrt(1 - x^2)).
pub fn acos_q15q13(x: i16) -> i16 {
    let xi = i32::from(x);
    let root = pshr(sqrt_q0q7(0x4000_0000i32.wrapping_sub(mul(xi, xi)) as u32), 7);
    let asin = atan_q15q13(div32(sshl(xi, 15), root));
    (12868 - i32::from(asin)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximations_track_the_functions() {
        for q in [1, 100, 1000, 4096, 65536, 1 << 20, i32::MAX] {
            let got = f64::from(log2_q0q16(q)) / 65536.0;
            assert!((got - f64::from(q).log2()).abs() < 0.01, "log2({q}) = {got}");
        }
        for x in [-20000i16, -2048, 0, 2048, 10000, 28000] {
            let got = f64::from(exp2_q11q16(x)) / 65536.0;
            let want = 2f64.powf(f64::from(x) / 2048.0);
            assert!((got - want).abs() / want < 0.01, "exp2({x}) = {got}, want {want}");
        }
        for x in (0..25736).step_by(997) {
            let c = f64::from(cos_q13q15(x as i16)) / 32768.0;
            assert!((c - (f64::from(x) / 8192.0).cos()).abs() < 0.002, "cos({x}) = {c}");
        }
        for x in (-32000i32..32000).step_by(1111) {
            let a = f64::from(acos_q15q13(x as i16)) / 8192.0;
            assert!((a - (f64::from(x) / 32768.0).acos()).abs() < 0.003, "acos({x}) = {a}");
        }
        assert_eq!(clz(0), 31);
        assert_eq!(clz(1), 30);
        assert_eq!(clz(0x4000_0000), 0);
    }
}
