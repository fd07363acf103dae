//! Pitch: lag coding with 1/3 resolution, the interpolated adaptive codebook, the lag parity bit,
//! and (encoder) the open-loop and closed-loop searches of G.729 Annex A.

use super::ops::*;
use super::tables::INTER_3L;
use super::{L_SUBFR, PIT_MAX, PIT_MIN};

pub const UP_SAMP: usize = 3;
pub const L_INTER10: usize = 10;

/// Decodes a lag index; the second subframe's index is relative to the first subframe's lag `t0`.
pub fn dec_lag3(index: i16, first: bool, t0: i16) -> (i16, i16) {
    if first {
        if index < 197 {
            let t = add(mult(add(index, 2), 10923), 19);
            let i = add(add(t, t), t);
            (t, add(sub(index, i), 58))
        } else {
            (sub(index, 112), 0)
        }
    } else {
        let mut t0_min = sub(t0, 5);
        if t0_min < PIT_MIN {
            t0_min = PIT_MIN;
        }
        let mut t0_max = add(t0_min, 9);
        if t0_max > PIT_MAX {
            t0_max = PIT_MAX;
            t0_min = sub(t0_max, 9);
        }
        let i = sub(mult(add(index, 2), 10923), 1);
        let t = add(i, t0_min);
        let i3 = add(add(i, i), i);
        (t, sub(sub(index, 2), i3))
    }
}

/// Adaptive codebook vector at lag `t0` + `frac`/3 into `exc[pos..pos+40]`, from `exc` history.
pub fn pred_lt_3(exc: &mut [i16], pos: usize, t0: i16, frac: i16) {
    let mut x0 = pos as isize - isize::from(t0);
    let mut frac = negate(frac);
    if frac < 0 {
        frac = add(frac, UP_SAMP as i16);
        x0 -= 1;
    }
    let frac = frac as usize;
    for j in 0..L_SUBFR {
        let x1 = x0 as usize;
        x0 += 1;
        let x2 = x0 as usize;
        let mut s = 0i32;
        for i in 0..L_INTER10 {
            let k = i * UP_SAMP;
            s = l_mac(s, exc[x1 - i], INTER_3L[frac + k]);
            s = l_mac(s, exc[x2 + i], INTER_3L[UP_SAMP - frac + k]);
        }
        exc[pos + j] = round(s);
    }
}

/// Parity of the 6 most significant bits of the first lag index.
pub fn parity_pitch(index: i16) -> i16 {
    let mut temp = shr(index, 1);
    let mut sum: i16 = 1;
    for _ in 0..=5 {
        temp = shr(temp, 1);
        sum = add(sum, temp & 1);
    }
    sum & 1
}

/// 1 when the received parity bit disagrees with the lag index.
pub fn check_parity_pitch(index: i16, parity: i16) -> i16 {
    add(parity_pitch(index), parity) & 1
}

/// Adaptive codebook vector at lag `t0` + `frac`/3 (frac in -1..=1) into `exc[pos..pos+40]`, the
/// decoder's variant of [`pred_lt_3`]: the sum is kept in 32 bits and rounded and saturated once.
pub fn adaptive_vector(exc: &mut [i16], pos: usize, t0: i16, frac: i16) {
    // A lag of k - 1/3 is read as k + 1 less 2/3, so the fraction is 0, 1 or 2 thirds.
    let (lag, t) = if frac == 1 { (t0 as usize + 1, 2usize) } else { (t0 as usize, (-frac) as usize) };
    let Some(start) = pos.checked_sub(lag) else { return };
    if start + 1 < L_INTER10 || pos + L_SUBFR > exc.len() {
        return;
    }
    for n in 0..L_SUBFR {
        let base = start + n;
        let mut acc = 0i32;
        for i in 0..L_INTER10 {
            let k = i * UP_SAMP;
            acc = acc.wrapping_add(i32::from(exc[base - i]) * i32::from(INTER_3L[t + k]));
            acc = acc.wrapping_add(i32::from(exc[base + 1 + i]) * i32::from(INTER_3L[UP_SAMP - t + k]));
        }
        exc[pos + n] = sat16(pshr(acc, 15));
    }
}
