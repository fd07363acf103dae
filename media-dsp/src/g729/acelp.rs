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
