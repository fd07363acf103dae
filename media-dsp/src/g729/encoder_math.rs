//! The encoder's own fixed-point arithmetic: the 64-bit and sign-magnitude helpers, divisions and
//! the atan/acos approximation only bcg729's encoder uses, over the shared bcg729 arithmetic of
//! `ops` (rounding shifts, split 16x32 products, polynomial log2/exp2/sqrt/cos), re-exported here.
//!
//! bcg729 is not written in the ITU basic operators: it multiplies in plain 32-bit C integers
//! (wrapping, not saturating), rounds with "add half then shift", divides in 64 bits and
//! approximates the transcendental functions with short polynomials. A bitstream identical to
//! bcg729's needs those exact operations. The names say the operation and its Q shift: `q`
//! truncates, `p` rounds.

pub use super::ops::{cos_q15, exp2_q16, log2_q16, mul16_32_p, mul16_32_q, mul_p, mul_q, pshr, sat16, sqrt_q7};

/// a * b on 32 bits, wrapping as C's int arithmetic does on every target we build for.
#[inline]
pub fn mul(a: i32, b: i32) -> i32 {
    a.wrapping_mul(b)
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

/// (a * b) >> s on 64 bits, truncated back to 32.
#[inline]
pub fn mul32_32_q(a: i32, b: i32, s: u32) -> i32 {
    ((i64::from(a) * i64::from(b)) >> s) as i32
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
/// the callers never pass, gives 0 (where `ops::clz_signed` gives 31, as the decoder's callers want).
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

/// 1/sqrt(x) in Q31 for x >= 1.
pub fn inv_sqrt_q0q31(x: i32) -> i32 {
    if x == 1 {
        return i32::MAX;
    }
    div64(i64::from(sqrt_q7(x as u32)) << 24, i64::from(x)) as i32
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
    let root = pshr(sqrt_q7(0x4000_0000i32.wrapping_sub(mul(xi, xi)) as u32), 7);
    let asin = atan_q15q13(div32(sshl(xi, 15), root));
    (12868 - i32::from(asin)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximations_track_the_functions() {
        for q in [1, 100, 1000, 4096, 65536, 1 << 20, i32::MAX] {
            let got = f64::from(log2_q16(q)) / 65536.0;
            assert!((got - f64::from(q).log2()).abs() < 0.01, "log2({q}) = {got}");
        }
        for x in [-20000i16, -2048, 0, 2048, 10000, 28000] {
            let got = f64::from(exp2_q16(x)) / 65536.0;
            let want = 2f64.powf(f64::from(x) / 2048.0);
            assert!((got - want).abs() / want < 0.01, "exp2({x}) = {got}, want {want}");
        }
        for x in (0..25736).step_by(997) {
            let c = f64::from(cos_q15(x as i16)) / 32768.0;
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
