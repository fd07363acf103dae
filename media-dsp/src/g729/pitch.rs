//! Pitch, decoder side: lags with 1/3 resolution (§3.7), the lag parity check and the interpolated
//! adaptive codebook vector. The encoder's open- and closed-loop searches are in `encoder_search`.

use super::ops::*;
use super::tables::INTER_3L;
use super::{L_SUBFR, PIT_MAX, PIT_MIN};

pub const UP_SAMP: usize = 3;
pub const L_INTER10: usize = 10;
/// Outputs of the adaptive codebook vector computed together when the lag allows (divides L_SUBFR).
const BLOCK: usize = 8;

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
    // The 20 taps in the order of the samples they weigh, exc[start + n - 9 ..= start + n + 10],
    // so each output is one dot product over a fixed-size window (no bounds check per tap). The
    // sum wraps as bcg729's does, and a wrapping sum is the same in any order.
    let mut taps = [0i16; 2 * L_INTER10];
    for i in 0..L_INTER10 {
        let k = i * UP_SAMP;
        taps[L_INTER10 - 1 - i] = INTER_3L[t + k];
        taps[L_INTER10 + i] = INTER_3L[UP_SAMP - t + k];
    }
    let lo0 = start + 1 - L_INTER10;
    if lag >= BLOCK + L_INTER10 {
        // A block of BLOCK outputs reads only samples before its first one (the newest tap is
        // lag - 10 back), so each block's sums are built at once, tap by tap, over one fixed
        // window (lanes the compiler vectorises), taken after the previous block is stored.
        for b in (0..L_SUBFR).step_by(BLOCK) {
            let lo = lo0 + b;
            let src: &[i16; BLOCK + 2 * L_INTER10 - 1] = match exc.get(lo..lo + BLOCK + 2 * L_INTER10 - 1) {
                Some(w) => w.try_into().unwrap_or_else(|_| unreachable!()),
                None => return,
            };
            let mut acc = [0i32; BLOCK];
            for (k, &c) in taps.iter().enumerate() {
                let win: &[i16; BLOCK] = src[k..k + BLOCK].try_into().unwrap_or_else(|_| unreachable!());
                for (a, &x) in acc.iter_mut().zip(win) {
                    *a = a.wrapping_add(i32::from(x) * i32::from(c));
                }
            }
            let Some(dst) = exc.get_mut(pos + b..pos + b + BLOCK) else { return };
            for (d, &a) in dst.iter_mut().zip(&acc) {
                *d = sat16(pshr(a, 15));
            }
        }
        return;
    }
    // A lag this short reads the output just written, so each window is taken afresh after the
    // previous output is stored.
    for n in 0..L_SUBFR {
        let lo = lo0 + n;
        let Some(window) = exc.get(lo..lo + 2 * L_INTER10) else { return };
        let window: &[i16; 2 * L_INTER10] = window.try_into().unwrap_or_else(|_| unreachable!());
        let acc = window.iter().zip(&taps).fold(0i32, |acc, (&x, &c)| acc.wrapping_add(i32::from(x) * i32::from(c)));
        exc[pos + n] = sat16(pshr(acc, 15));
    }
}
