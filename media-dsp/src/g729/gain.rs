//! Gains: MA prediction of the fixed-codebook energy (§3.9.1) and the two-stage conjugate VQ of
//! pitch and code gains (§3.9.2), decoder side and (encoder) the quantiser.

use super::ops::*;
use super::tables::*;
use super::L_SUBFR;

/// Predicted code gain as (mantissa, exponent) from the innovation energy and the past energies.
pub fn gain_predict(past_qua_en: &[i16; 4], code: &[i16; L_SUBFR]) -> (i16, i16) {
    let mut l = 0i32;
    for &c in code.iter() {
        l = l_mac(l, c, c);
    }
    let (exp, frac) = log2(l);
    let l = mpy_32_16(exp, frac, -24660);
    let l = l_mac(l, 32588, 32);
    let mut l = l_shl(l, 10);
    for i in 0..4 {
        l = l_mac(l, PRED[i], past_qua_en[i]);
    }
    let gcode0 = extract_h(l);
    let l = l_mult(gcode0, 5439);
    let l = l_shr(l, 8);
    let (exp, frac) = l_extract(l);
    let gcode0 = extract_l(pow2(14, frac));
    (gcode0, sub(14, exp))
}

/// Shifts in 20*log10 of the chosen code gain factor (`l_gbk12` in Q13).
pub fn gain_update(past_qua_en: &mut [i16; 4], l_gbk12: i32) {
    for i in (1..4).rev() {
        past_qua_en[i] = past_qua_en[i - 1];
    }
    let (exp, frac) = log2(l_gbk12);
    let l = l_comp(sub(exp, 13), frac);
    let tmp = extract_h(l_shl(l, 13));
    past_qua_en[0] = mult(tmp, 24660);
}

/// On an erased frame: shifts in the mean past energy less 4 dB, floored at -14 dB.
pub fn gain_update_erasure(past_qua_en: &mut [i16; 4]) {
    let mut l = 0i32;
    for &e in past_qua_en.iter() {
        l = l_add(l, l_deposit_l(e));
    }
    let mut av = extract_l(l_shr(l, 2));
    av = sub(av, 4096);
    if av < -14336 {
        av = -14336;
    }
    for i in (1..4).rev() {
        past_qua_en[i] = past_qua_en[i - 1];
    }
    past_qua_en[0] = av;
}

/// Decodes the 7-bit gain index into (pitch gain Q14, code gain Q1), or attenuates on erasure.
pub fn dec_gain(
    index: i16,
    code: &[i16; L_SUBFR],
    bfi: bool,
    gain_pit: &mut i16,
    gain_cod: &mut i16,
    past_qua_en: &mut [i16; 4],
) {
    if bfi {
        *gain_pit = mult(*gain_pit, 29491);
        if *gain_pit > 29491 {
            *gain_pit = 29491;
        }
        *gain_cod = mult(*gain_cod, 32111);
        gain_update_erasure(past_qua_en);
        return;
    }
    let index1 = IMAP1[(shr(index, 4) & 7) as usize] as usize;
    let index2 = IMAP2[(index & 15) as usize] as usize;
    *gain_pit = add(GBK1[index1][0], GBK2[index2][0]);
    let (gcode0, exp_gcode0) = gain_predict(past_qua_en, code);
    let l_gbk12 = l_add(l_deposit_l(GBK1[index1][1]), l_deposit_l(GBK2[index2][1]));
    let tmp = extract_l(l_shr(l_gbk12, 1));
    let l = l_mult(tmp, gcode0);
    let l = l_shl(l, add(negate(exp_gcode0), -12 - 1 + 1 + 16));
    *gain_cod = extract_h(l);
    gain_update(past_qua_en, l_gbk12);
}
