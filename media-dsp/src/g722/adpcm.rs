//! The two G.722 sub-band ADPCM coders: quantisers, inverse quantisers, scale factors, predictors.
//!
//! Names follow the block names of ITU-T G.722 (1988) §3 and §6: QUANTL/QUANTH, INVQAL/INVQBL/
//! INVQAH, LOGSCL/LOGSCH, SCALEL/SCALEH, and the predictor blocks RECONS, PARREC, UPPOL2, UPPOL1,
//! UPZERO, DELAYA, FILTEP, FILTEZ and PREDIC, which are the same for both bands ("block 4").
//! Everything is 16-bit fixed point as the Recommendation specifies; `sat` is its LIMIT on 16 bits.
//! The arithmetic is done in `i32` because the Recommendation's products and sums need 17-31 bits
//! before they are shifted or limited back.

/// Decision levels of the 6-bit lower-band quantiser (Table 7/G.722, multiplied by DETL >> 12).
pub(crate) const Q6: [i32; 31] = [
    0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339,
    1458, 1612, 1765, 1980, 2195, 2557, 2919, 0,
];

/// Lower-band code for a negative difference at each quantiser interval (Table 7/G.722, ILN).
const ILN: [u8; 31] = [
    0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
];

/// Lower-band code for a positive difference at each quantiser interval (Table 7/G.722, ILP).
const ILP: [u8; 31] = [
    0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34,
    33, 32,
];

/// 6-bit lower-band inverse quantiser output levels, by code (64 kbit/s mode, Table 6/G.722).
/// Codes 0-3 are not produced by the encoder; the decoder maps them like code 63.
pub(crate) const QM6: [i32; 64] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576,
    -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040,
    -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
    4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];

/// 5-bit lower-band inverse quantiser output levels (56 kbit/s mode).
const QM5: [i32; 32] = [
    -280, -280, -23352, -17560, -14120, -11664, -9752, -8184, -6864, -5712, -4696, -3784, -2960, -2208, -1520, -880,
    23352, 17560, 14120, 11664, 9752, 8184, 6864, 5712, 4696, 3784, 2960, 2208, 1520, 880, 280, -280,
];

/// 4-bit lower-band inverse quantiser output levels (48 kbit/s mode, and the predictor feedback
/// of every mode: the coder is embedded, so only the 4 most significant bits adapt it).
pub(crate) const QM4: [i32; 16] =
    [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];

/// 2-bit higher-band inverse quantiser output levels (Table 9/G.722).
pub(crate) const QM2: [i32; 4] = [-7408, -1616, 7408, 1616];

/// Lower-band 4-bit code to its magnitude class for the log scale factor (RIL -> IL4).
pub(crate) const RL42: [usize; 16] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];

/// Lower-band log scale factor multipliers by magnitude class (WL, Table 8/G.722).
pub(crate) const WL: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];

/// Higher-band code to its magnitude class (IH -> IH2).
const RH2: [usize; 4] = [2, 1, 2, 1];

/// Higher-band log scale factor multipliers (WH, Table 10/G.722).
const WH: [i32; 3] = [0, -214, 798];

/// The antilog table of SCALEL/SCALEH: 2048 * 2^(i/32), rounded.
pub(crate) const ILB: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025,
    3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];

// RANGES: the bounds that make some of the Recommendation's LIMITs no-ops in block 4 (each is
// checked by `limits_left_out_of_block4_never_act` below, and the codec by tests/g722_spandsp.rs):
// - DETL <= 16384 and DETH <= 16384 (SCALEL/SCALEH of NBL <= 18432, NBH <= 22528), so the
//   quantised differences are |DLT| <= 16384 * 20456 >> 15 = 10228 and |DH| <= 3704;
// - APL2 is limited to ±12288, so 15360 - APL2 is 3072..=27648 and |APL1| <= 27648.

/// LIMIT: saturates to the 16-bit range the Recommendation's registers hold.
#[inline]
fn sat(x: i32) -> i32 {
    x.clamp(-32768, 32767)
}

/// The adaptive predictor and scale factor of one sub-band (the variables of G.722 §6.2).
#[derive(Clone, Debug)]
pub(crate) struct Band {
    /// Predicted signal value: SL or SH.
    pub s: i32,
    /// Pole-section prediction: SPL or SPH.
    sp: i32,
    /// Zero-section prediction: SZL or SZH.
    sz: i32,
    /// Reconstructed signal, now and the two before: RLT0..2 / RH0..2.
    r: [i32; 3],
    /// Pole-section coefficients APL1, APL2 (index 0 unused).
    a: [i32; 3],
    /// Partially reconstructed signal: PLT0..2 / PH0..2.
    p: [i32; 3],
    /// Quantised difference signal of the six previous samples: DLT1..6 / DH1..6 at index 0..5.
    d: [i32; 6],
    /// Zero-section coefficients BPL1..6 / BPH1..6 at index 0..5.
    b: [i32; 6],
    /// Log scale factor: NBL or NBH.
    nb: i32,
    /// Scale factor: DETL or DETH.
    pub det: i32,
}

impl Band {
    /// The reset state of §6.2.1: everything zero, DETL = 32 and DETH = 8.
    pub const fn new(det: i32) -> Band {
        Band { s: 0, sp: 0, sz: 0, r: [0; 3], a: [0; 3], p: [0; 3], d: [0; 6], b: [0; 6], nb: 0, det }
    }

    /// Block 4 of both bands: reconstructs, adapts the pole and zero coefficients, shifts the
    /// delay lines and predicts the next sample from the quantised difference `dlt`.
    // Inlined into each coder: it is most of the codec's work and its callers are few.
    #[inline(always)]
    pub fn block4(&mut self, dlt: i32) {
        // RECONS and PARREC.
        let r0 = sat(self.s + dlt);
        let p0 = sat(self.sz + dlt);

        // UPPOL2: the second pole coefficient, from the signs of the partial reconstructions.
        let sg0 = p0 >> 15;
        let sg1 = self.p[1] >> 15;
        let sg2 = self.p[2] >> 15;
        let wd1 = sat(self.a[1] << 2);
        let wd2 = if sg0 == sg1 { -wd1 } else { wd1 }.min(32767);
        let wd3 = (wd2 >> 7) + if sg0 == sg2 { 128 } else { -128 } + ((self.a[2] * 32512) >> 15);
        let ap2 = wd3.clamp(-12288, 12288);

        // UPPOL1: the first pole coefficient, limited so that the pole pair stays stable.
        let wd1 = if sg0 == sg1 { 192 } else { -192 };
        let wd2 = (self.a[1] * 32640) >> 15;
        // The Recommendation limits 15360 - APL2 and WD1 + WD2 to 16 bits, but neither can leave
        // them (see RANGES: APL2 is within ±12288 and |APL1| <= 27648, so |WD2| <= 27540), so the
        // limits are left out: this block runs twice per code.
        let limit = 15360 - ap2;
        let ap1 = (wd1 + wd2).clamp(-limit, limit);

        // UPZERO: sign-sign update of the six zero coefficients.
        let step = if dlt == 0 { 0 } else { 128 };
        let sgd = dlt >> 15;
        let mut bp = [0i32; 6];
        for ((bp, &d), &b) in bp.iter_mut().zip(&self.d).zip(&self.b) {
            let wd2 = if d >> 15 == sgd { step } else { -step };
            let wd3 = (b * 32640) >> 15;
            // No LIMIT needed: |BPL| <= 32768 gives WD3 in -32640..=32639, so WD2 + WD3 fits.
            *bp = wd2 + wd3;
        }

        // DELAYA: shift the delay lines and take the new coefficients.
        self.d.copy_within(0..5, 1);
        self.d[0] = dlt;
        self.b = bp;
        self.r = [r0, r0, self.r[1]];
        self.p = [p0, p0, self.p[1]];
        self.a = [0, ap1, ap2];

        // FILTEP: pole-section prediction from the two previous reconstructions.
        let wd1 = (self.a[1] * sat(self.r[1] + self.r[1])) >> 15;
        let wd2 = (self.a[2] * sat(self.r[2] + self.r[2])) >> 15;
        self.sp = sat(wd1 + wd2);

        // FILTEZ: zero-section prediction from the six previous quantised differences (the sum
        // is exact in i32, so its order does not matter).
        let mut sz = 0;
        for (&b, &d) in self.b.iter().zip(&self.d) {
            // DLT + DLT fits 16 bits (|DLT| <= 10228, see RANGES): no LIMIT.
            sz += (b * (d + d)) >> 15;
        }
        self.sz = sat(sz);

        // PREDIC.
        self.s = sat(self.sp + self.sz);
    }
}

/// QUANTL: the 6-bit lower-band code of the difference signal `el` for scale factor `detl`.
#[inline]
pub(crate) fn quantl(el: i32, detl: i32) -> u8 {
    // The magnitude is the one's complement of a negative input, as in the Recommendation.
    let wd = if el >= 0 { el } else { -(el + 1) };
    // The first interval i in 1..30 whose upper decision level exceeds wd, or 30. The levels grow
    // with i, so that is 1 plus the number of levels 1..=29 at or below wd: counting them has no
    // data-dependent branch (the Recommendation's scan and a binary search mispredict on speech)
    // and vectorises. The unit test below checks it against the scan.
    let mut below = 0usize;
    for &q in &Q6[1..30] {
        below += usize::from(wd >= (q * detl) >> 12);
    }
    let i = 1 + below;
    if el < 0 {
        ILN[i]
    } else {
        ILP[i]
    }
}

/// QUANTH: the 2-bit higher-band code of `eh` for scale factor `deth`.
#[inline]
pub(crate) fn quanth(eh: i32, deth: i32) -> u8 {
    let wd = if eh >= 0 { eh } else { -(eh + 1) };
    let outer = wd >= (564 * deth) >> 12;
    match (eh < 0, outer) {
        (true, false) => 1,
        (true, true) => 0,
        (false, false) => 3,
        (false, true) => 2,
    }
}

/// INVQAL: the quantised lower-band difference for a 4-bit code (the predictor's input).
#[inline]
pub(crate) fn invqal(ril: u8, detl: i32) -> i32 {
    (detl * QM4[usize::from(ril & 0x0F)]) >> 15
}

/// INVQBL: the lower-band difference used for the decoder's output, at the mode's resolution:
/// `bits` is 6, 5 or 4 and `code` the lower-band code of that many bits.
#[inline]
pub(crate) fn invqbl(code: u8, bits: u32, detl: i32) -> i32 {
    let q = match bits {
        6 => QM6[usize::from(code & 0x3F)],
        5 => QM5[usize::from(code & 0x1F)],
        _ => QM4[usize::from(code & 0x0F)],
    };
    (detl * q) >> 15
}

/// INVQAH: the quantised higher-band difference for a 2-bit code.
#[inline]
pub(crate) fn invqah(ih: u8, deth: i32) -> i32 {
    (deth * QM2[usize::from(ih & 0x03)]) >> 15
}

/// LOGSCL then SCALEL: adapts the lower band's scale factor to the 4-bit code just sent.
#[inline]
pub(crate) fn adapt_low(band: &mut Band, ril: u8) {
    let wd = (band.nb * 32512) >> 15;
    band.nb = (wd + WL[RL42[usize::from(ril & 0x0F)]]).clamp(0, 18432);
    band.det = scale(band.nb, 8);
}

/// LOGSCH then SCALEH: adapts the higher band's scale factor to the 2-bit code just sent.
#[inline]
pub(crate) fn adapt_high(band: &mut Band, ih: u8) {
    let wd = (band.nb * 32512) >> 15;
    band.nb = (wd + WH[RH2[usize::from(ih & 0x03)]]).clamp(0, 22528);
    band.det = scale(band.nb, 10);
}

/// SCALEL/SCALEH: the linear scale factor from the log one, through the 32-entry antilog table.
/// `shift` is 8 for the lower band and 10 for the higher band.
#[inline]
fn scale(nb: i32, shift: i32) -> i32 {
    // nb is clamped to 0..=22528, so the index is 0..=31 and the exponent stays small.
    let mantissa = ILB[usize::try_from((nb >> 6) & 31).unwrap_or(0)];
    let exponent = shift - (nb >> 11);
    let wd3 = if exponent < 0 { mantissa << -exponent } else { mantissa >> exponent };
    wd3 << 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QUANTL as the Recommendation writes it: a linear scan of the decision levels.
    fn quantl_scan(el: i32, detl: i32) -> u8 {
        let wd = if el >= 0 { el } else { -(el + 1) };
        let mut i = 1;
        while i < 30 && wd >= (Q6[i] * detl) >> 12 {
            i += 1;
        }
        if el < 0 {
            ILN[i]
        } else {
            ILP[i]
        }
    }

    #[test]
    fn limits_left_out_of_block4_never_act() {
        // The scale factors' bounds, over every log scale factor each band can hold.
        let detl = (0..=18432).map(|nb| scale(nb, 8)).max().unwrap_or(0);
        let deth = (0..=22528).map(|nb| scale(nb, 10)).max().unwrap_or(0);
        assert_eq!((detl, deth), (16384, 16384));
        let dlt = QM4.iter().map(|&q| ((detl * q) >> 15).abs()).max().unwrap_or(0);
        let dh = QM2.iter().map(|&q| ((deth * q) >> 15).abs()).max().unwrap_or(0);
        assert_eq!((dlt, dh), (10228, 3704));
        assert!(sat(dlt + dlt) == dlt + dlt && sat(-dlt - dlt) == -dlt - dlt);
        // UPZERO: every 16-bit coefficient and either step.
        for b in -32768..=32767 {
            for step in [-128, 0, 128] {
                let x = step + ((b * 32640) >> 15);
                assert_eq!(sat(x), x, "BPL {b}");
            }
        }
        // UPPOL1: every APL2, and every APL1 the previous block can leave.
        for ap2 in -12288..=12288 {
            let limit = 15360 - ap2;
            assert_eq!(sat(limit), limit);
        }
        for a1 in -27648..=27648 {
            for wd1 in [-192, 192] {
                let x = wd1 + ((a1 * 32640) >> 15);
                assert_eq!(sat(x), x, "APL1 {a1}");
            }
        }
    }

    #[test]
    fn counting_quantl_equals_the_linear_scan_for_every_reachable_scale_factor() {
        let mut dets: Vec<i32> = (0..=18432).map(|nb| scale(nb, 8)).collect();
        dets.sort_unstable();
        dets.dedup();
        assert!(dets.len() > 100, "the lower band reaches many scale factors");
        for &detl in &dets {
            for el in (-32768..=32767).step_by(7).chain([-32768, -1, 0, 1, 32767]) {
                assert_eq!(quantl(el, detl), quantl_scan(el, detl), "el {el} detl {detl}");
            }
            // Every decision level itself and its neighbours, on both signs.
            for q in Q6 {
                let level = (q * detl) >> 12;
                for wd in [level - 1, level, level + 1] {
                    for el in [wd, -(wd + 1)] {
                        assert_eq!(quantl(el, detl), quantl_scan(el, detl), "el {el} detl {detl}");
                    }
                }
            }
        }
    }
}
