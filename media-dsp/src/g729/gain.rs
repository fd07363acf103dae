//! Decoder gains in bcg729's arithmetic: MA prediction of the fixed-codebook energy (§3.9.1) and
//! the two-stage conjugate VQ of pitch and code gains (§3.9.2). The encoder's quantiser is in
//! `encoder_search`.

use super::ops::*;
use super::tables::*;
use super::L_SUBFR;

/// The decoder's predicted code gain (Q16) from the innovation energy and the past quantised
/// energies (Q10), through polynomial log2 and exp2 as bcg729 computes it.
pub fn predict_code_gain(past_qua_en: &[i16; 4], code: &[i16; L_SUBFR]) -> i32 {
    let mut energy = 0i32;
    for &c in code.iter() {
        energy = energy.wrapping_add(i32::from(c) * i32::from(c));
    }
    // 124.2884 dB (Q16) less 10 log10 of the Q26 energy gives the mean energy minus this one.
    let mut acc = 8_145_364i32.wrapping_add(mul16_32_q(-24660, log2_q16(energy), 13));
    acc = acc.wrapping_shl(8);
    for i in 0..4 {
        acc = acc.wrapping_add(i32::from(past_qua_en[i]) * i32::from(PRED_Q14[i]));
    }
    // 10^(x/20) = 2^(0.1661 x).
    let acc = mul16_32_q(5442, acc >> 2, 15);
    exp2_q16(pshr(acc, 11) as i16)
}

/// Decodes GA|GB (`index`, 7 bits) into the pitch gain (Q14) and code gain (Q1), or on an
/// erased frame attenuates the previous ones (§4.4.2), updating the energy memory either way.
pub fn decode_gains(
    index: i16,
    code: &[i16; L_SUBFR],
    erased: bool,
    gain_pit: &mut i16,
    gain_cod: &mut i16,
    past_qua_en: &mut [i16; 4],
) {
    if erased {
        *gain_pit = if *gain_pit < 16384 { mul_q(i32::from(*gain_pit), 29491, 15) as i16 } else { 14746 };
        *gain_cod = mul_q(i32::from(*gain_cod), 32113, 15) as i16;
        let sum: i32 = past_qua_en.iter().map(|&e| i32::from(e)).sum();
        let mean = pshr(sum, 2);
        let en = if mean < -10240 { -14336 } else { mean - 4096 };
        past_qua_en.copy_within(0..3, 1);
        past_qua_en[0] = en as i16;
        return;
    }
    let ga = IMAP1[((index >> 4) & 7) as usize] as usize;
    let gb = IMAP2[(index & 15) as usize] as usize;
    *gain_pit = GA_Q12[ga][0].wrapping_add(GB_Q12[gb][0]);
    let predicted = predict_code_gain(past_qua_en, code);
    let gamma = GA_Q12[ga][1].wrapping_add(GB_Q12[gb][1]);
    *gain_cod = pshr(mul16_32_q(i32::from(gamma), predicted, 12), 15) as i16;
    // The quantised energy error 20 log10(gamma) in Q10, gamma being Q12.
    let err = log2_q16(i32::from(gamma)).wrapping_sub(12 << 16);
    let err = pshr(mul16_32_q(24660, err, 12), 6);
    past_qua_en.copy_within(0..3, 1);
    past_qua_en[0] = err as i16;
}
