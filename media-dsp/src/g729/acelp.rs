//! The 17-bit algebraic codebook of G.729: 4 signed unit pulses on interleaved tracks (§3.8), and
//! (encoder) the Annex A depth-first search.

use super::ops::*;
use super::L_SUBFR;

/// Builds the code vector (Q13) from the 13-bit positions `index` and the 4 sign bits.
pub fn decod_acelp(sign: i16, index: i16, cod: &mut [i16; L_SUBFR]) {
    let mut pos = [0usize; 4];
    let mut index = index;
    let i = index & 7;
    pos[0] = add(i, shl(i, 2)) as usize;
    index = shr(index, 3);
    let i = index & 7;
    pos[1] = add(add(i, shl(i, 2)), 1) as usize;
    index = shr(index, 3);
    let i = index & 7;
    pos[2] = add(add(i, shl(i, 2)), 2) as usize;
    index = shr(index, 3);
    let j = index & 1;
    index = shr(index, 1);
    let i = index & 7;
    pos[3] = add(add(add(i, shl(i, 2)), 3), j) as usize;
    *cod = [0; L_SUBFR];
    let mut sign = sign;
    for p in pos {
        let s = sign & 1;
        sign = shr(sign, 1);
        cod[p] = if s != 0 { 8191 } else { -8192 };
    }
}

/// The decoder's code vector (Q13, pulses of exactly +-1) with the pitch sharpening of §3.8
/// applied for lags `t0` shorter than the subframe: c[i] += beta * c[i - t0], beta in Q14, rounded.
pub fn fixed_vector(sign: i16, index: i16, t0: i16, beta: i16, cod: &mut [i16; L_SUBFR]) {
    let mut index = index;
    let mut pos = [0usize; 4];
    for (track, p) in pos.iter_mut().enumerate().take(3) {
        *p = (index & 7) as usize * 5 + track;
        index >>= 3;
    }
    let jx = (index & 1) as usize;
    index >>= 1;
    pos[3] = (index & 7) as usize * 5 + 3 + jx;
    *cod = [0; L_SUBFR];
    let mut sign = sign;
    for p in pos {
        cod[p] = if sign & 1 != 0 { 8192 } else { -8192 };
        sign >>= 1;
    }
    let t0 = t0.max(1) as usize;
    for i in t0..L_SUBFR {
        cod[i] = cod[i].wrapping_add(mul_p(i32::from(cod[i - t0]), i32::from(beta), 14) as i16);
    }
}
