//! The decoder's adaptive post-filter of G.729 Annex A (§A.4.2) and the output high-pass (§4.2.5).
//!
//! Per subframe: residual through A(z/0.55), harmonic post-filter on integer lags around the
//! decoded lag, tilt compensation, synthesis through 1/A(z/0.70), then gain control against the
//! unfiltered synthesis. The frame then goes through the 100 Hz high-pass and is doubled.

use super::lpc::{residu, syn_filt, weight_az};
use super::ops::*;
use super::tables::{A100, B100};
use super::{L_FRAME, L_SUBFR, M, MP1, PIT_MAX};

const L_H: usize = 22;
const GAMMAP: i16 = 16384;
const INV_GAMMAP: i16 = 21845;
const GAMMAP_2: i16 = 10923;
const GAMMA2_PST: i16 = 18022;
const GAMMA1_PST: i16 = 22938;
const MU: i16 = 26214;
const AGC_FAC: i16 = 29491;
const AGC_FAC1: i16 = 32767 - AGC_FAC;
const RES_LEN: usize = PIT_MAX as usize + L_SUBFR;

#[derive(Clone)]
pub struct PostFilter {
    /// Residual of the synthesis through A(z/GAMMA2_PST), PIT_MAX samples of history first.
    res2: [i16; RES_LEN],
    scal_res2: [i16; RES_LEN],
    mem_syn_pst: [i16; M],
    mem_pre: i16,
    past_gain: i16,
}

impl Default for PostFilter {
    fn default() -> Self {
        Self { res2: [0; RES_LEN], scal_res2: [0; RES_LEN], mem_syn_pst: [0; M], mem_pre: 0, past_gain: 4096 }
    }
}

impl PostFilter {
    /// Filters `syn` (M history samples, then the frame) into `out`.
    pub fn run(&mut self, syn: &[i16; M + L_FRAME], az: &[[i16; MP1]; 2], lags: [i16; 2], out: &mut [i16; L_FRAME]) {
        let p = PIT_MAX as usize;
        for (sf, a) in az.iter().enumerate() {
            let i_subfr = sf * L_SUBFR;
            let mut t0_min = sub(lags[sf], 3);
            let mut t0_max = add(t0_min, 6);
            if t0_max > PIT_MAX {
                t0_max = PIT_MAX;
                t0_min = sub(t0_max, 6);
            }
            let ap3 = weight_az(a, GAMMA2_PST);
            let ap4 = weight_az(a, GAMMA1_PST);
            residu(&ap3, &syn[i_subfr..i_subfr + M + L_SUBFR], &mut self.res2[p..], L_SUBFR);
            for j in 0..L_SUBFR {
                self.scal_res2[p + j] = shr(self.res2[p + j], 2);
            }
            let mut res2_pst = [0i16; L_SUBFR];
            self.pit_pst_filt(t0_min, t0_max, &mut res2_pst);

            // Tilt compensation from the first two correlations of the impulse response of
            // A(z/GAMMA2_PST)/A(z/GAMMA1_PST), truncated to L_H samples.
            let mut hin = [0i16; L_SUBFR];
            hin[..MP1].copy_from_slice(&ap3);
            let mut h = [0i16; L_SUBFR];
            let mut zero_mem = [0i16; M];
            let _ = syn_filt(&ap4, &hin[..L_H], &mut h, &mut zero_mem, false);
            let mut l = l_mult(h[0], h[0]);
            for i in 1..L_H {
                l = l_mac(l, h[i], h[i]);
            }
            let temp1 = extract_h(l);
            let mut l = l_mult(h[0], h[1]);
            for i in 1..L_H - 1 {
                l = l_mac(l, h[i], h[i + 1]);
            }
            let mut temp2 = extract_h(l);
            if temp2 <= 0 {
                temp2 = 0;
            } else {
                temp2 = mult(temp2, MU);
                temp2 = div_s(temp2, temp1);
            }
            self.preemphasis(&mut res2_pst, temp2);

            let o = &mut out[i_subfr..i_subfr + L_SUBFR];
            let _ = syn_filt(&ap4, &res2_pst, o, &mut self.mem_syn_pst, true);
            self.agc(&syn[M + i_subfr..M + i_subfr + L_SUBFR], o);

            self.res2.copy_within(L_SUBFR.., 0);
            self.scal_res2.copy_within(L_SUBFR.., 0);
        }
    }

    /// Harmonic post-filter (1 + g z^-T)/(1 + g) with the best integer lag in [t0_min, t0_max].
    fn pit_pst_filt(&self, t0_min: i16, t0_max: i16, out: &mut [i16; L_SUBFR]) {
        let p = PIT_MAX as usize;
        let sig = &self.res2;
        let scal = &self.scal_res2;
        let mut cor_max = MIN_32;
        let mut t0 = t0_min;
        for i in t0_min..=t0_max {
            let d = p - i as usize;
            let mut corr = 0i32;
            for j in 0..L_SUBFR {
                corr = l_mac(corr, scal[p + j], scal[d + j]);
            }
            if l_sub(corr, cor_max) > 0 {
                cor_max = corr;
                t0 = i;
            }
        }
        let d = p - t0 as usize;
        let mut ener = 1i32;
        for j in 0..L_SUBFR {
            ener = l_mac(ener, scal[d + j], scal[d + j]);
        }
        let mut ener0 = 1i32;
        for j in 0..L_SUBFR {
            ener0 = l_mac(ener0, scal[p + j], scal[p + j]);
        }
        if cor_max < 0 {
            cor_max = 0;
        }
        let temp = cor_max.max(ener).max(ener0);
        let j = norm_l(temp);
        let mut cmax = round(l_shl(cor_max, j));
        let mut en = round(l_shl(ener, j));
        let en0 = round(l_shl(ener0, j));
        let temp = l_sub(l_mult(cmax, cmax), l_shr(l_mult(en, en0), 1));
        if temp < 0 {
            out.copy_from_slice(&sig[p..p + L_SUBFR]);
            return;
        }
        let (g0, gain) = if cmax > en {
            (INV_GAMMAP, GAMMAP_2)
        } else {
            cmax = shr(mult(cmax, GAMMAP), 1);
            en = shr(en, 1);
            let i = add(cmax, en);
            if i > 0 {
                let gain = div_s(cmax, i);
                (sub(32767, gain), gain)
            } else {
                (32767, 0)
            }
        };
        for i in 0..L_SUBFR {
            out[i] = add(mult(g0, sig[p + i]), mult(gain, sig[d + i]));
        }
    }

    /// 1 - g z^-1 in place.
    fn preemphasis(&mut self, sig: &mut [i16; L_SUBFR], g: i16) {
        let temp = sig[L_SUBFR - 1];
        for i in (1..L_SUBFR).rev() {
            sig[i] = sub(sig[i], mult(g, sig[i - 1]));
        }
        sig[0] = sub(sig[0], mult(g, self.mem_pre));
        self.mem_pre = temp;
    }

    /// Scales the post-filtered subframe towards the energy of its input, smoothed sample by sample.
    fn agc(&mut self, sig_in: &[i16], sig_out: &mut [i16]) {
        let mut s = 0i32;
        for &x in sig_out.iter() {
            let v = shr(x, 2);
            s = l_mac(s, v, v);
        }
        if s == 0 {
            self.past_gain = 0;
            return;
        }
        let mut exp = sub(norm_l(s), 1);
        let gain_out = round(l_shl(s, exp));
        let mut s = 0i32;
        for &x in sig_in.iter() {
            let v = shr(x, 2);
            s = l_mac(s, v, v);
        }
        let g0 = if s == 0 {
            0
        } else {
            let i = norm_l(s);
            let gain_in = round(l_shl(s, i));
            exp = sub(exp, i);
            let s = l_deposit_l(div_s(gain_out, gain_in));
            let s = l_shl(s, 7);
            let s = l_shr(s, exp);
            let s = inv_sqrt(s);
            let i = round(l_shl(s, 9));
            mult(i, AGC_FAC1)
        };
        let mut gain = self.past_gain;
        for x in sig_out.iter_mut() {
            gain = mult(gain, AGC_FAC);
            gain = add(gain, g0);
            *x = extract_h(l_shl(l_mult(*x, gain), 3));
        }
        self.past_gain = gain;
    }
}

/// The decoder's output high-pass (100 Hz) and x2 gain, with its state in double precision.
#[derive(Clone, Default)]
pub struct PostProcess {
    y2_hi: i16,
    y2_lo: i16,
    y1_hi: i16,
    y1_lo: i16,
    x0: i16,
    x1: i16,
}

impl PostProcess {
    pub fn run(&mut self, signal: &mut [i16; L_FRAME]) {
        for s in signal.iter_mut() {
            let x2 = self.x1;
            self.x1 = self.x0;
            self.x0 = *s;
            let mut l = mpy_32_16(self.y1_hi, self.y1_lo, A100[1]);
            l = l_add(l, mpy_32_16(self.y2_hi, self.y2_lo, A100[2]));
            l = l_mac(l, self.x0, B100[0]);
            l = l_mac(l, self.x1, B100[1]);
            l = l_mac(l, x2, B100[2]);
            l = l_shl(l, 2);
            *s = round(l_shl(l, 1));
            self.y2_hi = self.y1_hi;
            self.y2_lo = self.y1_lo;
            (self.y1_hi, self.y1_lo) = l_extract(l);
        }
    }
}
