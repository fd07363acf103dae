//! The 17-bit algebraic codebook of G.729 as the decoder builds it: 4 signed unit pulses on
//! interleaved tracks (§3.8), sharpened by the pitch. The encoder's search is in `encoder_search`.

use super::ops::*;
use super::L_SUBFR;

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
