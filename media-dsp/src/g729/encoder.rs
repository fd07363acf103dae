//! The G.729 Annex A encoder: 80 samples to one 10-byte frame, bit-exact with bcg729 (VAD off).
//!
//! Per frame: 140 Hz high-pass pre-processing, LP analysis on a 240-sample window, LSP
//! quantisation, interpolation for the first subframe, the weighted speech of Annex A
//! (A(z/0.75) with a 0.7 tilt) and its open-loop pitch; then per subframe: impulse response and
//! target, closed-loop pitch, algebraic codebook, gain quantisation and the filter memory updates.
//!
//! bcg729 departs from the ITU fixed-point description in its arithmetic (32-bit wrapping
//! products, 64-bit divisions, polynomial math functions), so this encoder follows bcg729's
//! operations, not `ops`; see `encoder_math`. All state is in fixed arrays: encoding never
//! allocates.

use super::bits;
use super::decoder::LSP_INIT;
use super::encoder_lp::{compute_lp, lp_to_lsp, qlsp_to_lp, LspQuantizer, L_WINDOW};
use super::encoder_math::*;
use super::encoder_search::{adaptive_search, fixed_search, open_loop_pitch, parity, pitch_gain, quantize_gains, Phi};
use super::tables::{A140, B140};
use super::{L_FRAME, L_SUBFR, M};

const PIT_MAX: usize = 143;
/// Past excitation kept for the adaptive codebook: 143 + 1 for the fraction + 10 interpolation taps.
const L_PAST_EXC: usize = 154;
/// Where the current frame starts in the analysis buffer (120 old samples before it).
const CUR: usize = L_WINDOW - L_SUBFR - L_FRAME;
/// 0.75^i, i = 1..=10, Q15: the weighting filter A(z/gamma) of Annex A.
const GAMMA_E: [i32; M] = [24756, 18432, 13824, 10368, 7776, 5832, 4374, 3280, 2460, 1845];
/// The pitch sharpening gain's bounds, 0.2 and 1.2 in Q14.
const SHARP_MIN: i16 = 3277;
const SHARP_MAX: i16 = 19661;

/// Encoder state of one channel.
#[derive(Clone)]
pub struct Encoder {
    /// 120 past samples, the current frame, 40 samples of look-ahead (pre-processed).
    signal: [i16; L_WINDOW],
    hp_x: [i16; 2],
    hp_y: [i32; 2],
    prev_lsp: [i16; M],
    prev_qlsp: [i16; M],
    lsp_q: LspQuantizer,
    /// 143 past weighted speech samples, then the current frame.
    wsp: [i16; PIT_MAX + L_FRAME],
    /// Past excitation, then the current frame (first the LP residual, then the excitation).
    exc: [i16; L_PAST_EXC + L_FRAME],
    /// Memory of the weighted synthesis filter for the target (10), then the subframe's target.
    target: [i16; M + L_SUBFR],
    sharp: i16,
    past_energy: [i16; 4],
    /// Scratch of the algebraic codebook search (not state: every entry it reads is rewritten on
    /// each subframe), kept here so it is not cleared 80 times a second.
    phi: Phi,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

/// y = 1/A(z) of `input` with `mem` holding the 10 previous outputs (bcg729's rounding and
/// saturation per sample).
fn synthesis(input: &[i16], a: &[i16; M], mem: &[i16; M], out: &mut [i16; L_SUBFR]) {
    let mut buf = [0i16; M + L_SUBFR];
    buf[..M].copy_from_slice(mem);
    for i in 0..L_SUBFR {
        let mut acc = sshl(i32::from(input[i]), 12);
        for j in 0..M {
            acc = acc.wrapping_sub(mul(i32::from(a[j]), i32::from(buf[M + i - j - 1])));
        }
        buf[M + i] = sat16(pshr(acc, 12));
    }
    out.copy_from_slice(&buf[M..]);
}

impl Encoder {
    pub fn new() -> Self {
        Self {
            signal: [0; L_WINDOW],
            hp_x: [0; 2],
            hp_y: [0; 2],
            prev_lsp: LSP_INIT,
            prev_qlsp: LSP_INIT,
            lsp_q: LspQuantizer::default(),
            wsp: [0; PIT_MAX + L_FRAME],
            exc: [0; L_PAST_EXC + L_FRAME],
            target: [0; M + L_SUBFR],
            sharp: SHARP_MIN,
            past_energy: [-14336; 4],
            phi: [[0; L_SUBFR]; L_SUBFR],
        }
    }

    /// Second-order 140 Hz high-pass with the input halved (§3.1), into the last 80 samples of
    /// the analysis buffer. The output memory is Q12 and saturated to 28 bits.
    fn pre_process(&mut self, pcm: &[i16; L_FRAME]) {
        let (b0, b1, b2) = (i32::from(B140[0]), i32::from(B140[1]), i32::from(B140[2]));
        let (a1, a2) = (i32::from(A140[1]), i32::from(A140[2]));
        for (i, &s) in pcm.iter().enumerate() {
            let x2 = self.hp_x[1];
            self.hp_x[1] = self.hp_x[0];
            self.hp_x[0] = s;
            let mut acc = mul16_32_q(a1, self.hp_y[0], 12);
            acc = acc.wrapping_add(mul16_32_q(a2, self.hp_y[1], 12));
            acc = acc.wrapping_add(mul(i32::from(self.hp_x[0]), b0));
            acc = acc.wrapping_add(mul(i32::from(self.hp_x[1]), b1));
            acc = acc.wrapping_add(mul(i32::from(x2), b2));
            let acc = acc.clamp(-0x0800_0000, 0x07ff_ffff);
            self.signal[L_WINDOW - L_FRAME + i] = pshr(acc, 12) as i16;
            self.hp_y[1] = self.hp_y[0];
            self.hp_y[0] = acc;
        }
    }

    /// LP residual of the current frame into `exc` and the weighted speech into `wsp` (§A.3.3).
    fn weighted_speech(&mut self, aq: &[[i16; M]; 2], ap: &[[i16; M]; 2]) {
        for i in 0..L_FRAME {
            let a = &aq[i / L_SUBFR];
            let mut acc = sshl(i32::from(self.signal[CUR + i]), 12);
            for j in 0..M {
                acc = acc.wrapping_add(mul(i32::from(a[j]), i32::from(self.signal[CUR + i - j - 1])));
            }
            self.exc[L_PAST_EXC + i] = sat16(pshr(acc, 12));
        }
        for sf in 0..2 {
            // A(z/gamma) times the tilt (1 - 0.7 z^-1), as one 10th-order filter.
            let w = &ap[sf];
            let mut c = [0i16; M];
            c[0] = (i32::from(w[0]) - 2867) as i16;
            for i in 1..M {
                c[i] = (i32::from(w[i]) - mul_q(i32::from(w[i - 1]), 2867, 12)) as i16;
            }
            let start = PIT_MAX + sf * L_SUBFR;
            let mem: [i16; M] = self.wsp[start - M..start].try_into().unwrap_or([0; M]);
            let mut out = [0i16; L_SUBFR];
            let res = L_PAST_EXC + sf * L_SUBFR;
            synthesis(&self.exc[res..res + L_SUBFR], &c, &mem, &mut out);
            self.wsp[start..start + L_SUBFR].copy_from_slice(&out);
        }
    }

    /// Encodes one 10 ms frame.
    pub fn encode(&mut self, pcm: &[i16; L_FRAME]) -> [u8; 10] {
        self.pre_process(pcm);
        let lp = compute_lp(&self.signal);
        let lsp = lp_to_lsp(&lp).unwrap_or(self.prev_lsp);
        let (qlsp, l) = self.lsp_q.quantize(&lsp);
        let mut interp = [0i16; M];
        for i in 0..M {
            interp[i] = pshr(i32::from(self.prev_qlsp[i]) + i32::from(qlsp[i]), 1) as i16;
        }
        let aq = [qlsp_to_lp(&interp), qlsp_to_lp(&qlsp)];
        let mut ap = [[0i16; M]; 2];
        for sf in 0..2 {
            for i in 0..M {
                ap[sf][i] = mul_p(i32::from(aq[sf][i]), GAMMA_E[i], 15) as i16;
            }
        }
        self.weighted_speech(&aq, &ap);
        let t_op = open_loop_pitch(&self.wsp);
        let mut t_min = (t_op - 3).max(20);
        let mut t_max = t_min + 6;
        if t_max > PIT_MAX as i16 {
            t_max = PIT_MAX as i16;
            t_min = PIT_MAX as i16 - 6;
        }

        let mut prm = [0i16; 11];
        prm[0] = (l[0] << 7) | l[1];
        prm[1] = (l[2] << 5) | l[3];
        for sf in 0..2 {
            let pos = L_PAST_EXC + sf * L_SUBFR;
            let w = &ap[sf];
            let mut impulse = [0i16; L_SUBFR];
            impulse[0] = 4096;
            let mut h = [0i16; L_SUBFR];
            synthesis(&impulse, w, &[0; M], &mut h);
            let mem: [i16; M] = self.target[..M].try_into().unwrap_or([0; M]);
            let mut x = [0i16; L_SUBFR];
            synthesis(&self.exc[pos..pos + L_SUBFR], w, &mem, &mut x);
            self.target[M..].copy_from_slice(&x);

            let pitch = adaptive_search(&mut self.exc, pos, &mut t_min, &mut t_max, &h, &x, sf == 0);
            let mut y = [0i16; L_SUBFR];
            synthesis(&self.exc[pos..pos + L_SUBFR], w, &[0; M], &mut y);
            let (gain_pit, xy, yy) = pitch_gain(&x, &y);
            let fixed = fixed_search(&mut self.phi, &x, &mut h, pitch.t0, self.sharp, &y, gain_pit);
            let g = quantize_gains(&mut self.past_energy, &x, &y, &fixed.filtered, &fixed.code, xy, yy);
            if sf == 0 {
                prm[2] = pitch.index;
                prm[3] = parity(pitch.index);
                prm[4] = fixed.index;
                prm[5] = fixed.signs;
                prm[6] = (g.ga << 4) | g.gb;
            } else {
                prm[7] = pitch.index;
                prm[8] = fixed.index;
                prm[9] = fixed.signs;
                prm[10] = (g.ga << 4) | g.gb;
            }

            self.sharp = g.pitch.clamp(SHARP_MIN, SHARP_MAX);
            for i in 0..L_SUBFR {
                let acc = mul(i32::from(self.exc[pos + i]), i32::from(g.pitch))
                    .wrapping_add(mul(i32::from(fixed.code[i]), i32::from(g.code)));
                self.exc[pos + i] = sat16(pshr(acc, 14));
            }
            // Filter memory for the next target: what the chosen excitation leaves in 1/A(z/g).
            let gp13 = pshr(i32::from(g.pitch), 1);
            for i in 0..M {
                let k = L_SUBFR - M + i;
                let acc = mul(gp13, i32::from(y[k])).wrapping_add(mul(i32::from(g.code), i32::from(fixed.filtered[k])));
                self.target[i] = sat16(i32::from(x[k]) - pshr(acc, 13));
            }
        }

        self.signal.copy_within(L_FRAME.., 0);
        self.prev_lsp = lsp;
        self.prev_qlsp = qlsp;
        self.wsp.copy_within(L_FRAME.., 0);
        self.exc.copy_within(L_FRAME.., 0);
        bits::pack(&prm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_and_full_scale_encode_without_panic() {
        let mut enc = Encoder::new();
        let mut x: u32 = 7;
        for n in 0..400 {
            let mut pcm = [0i16; L_FRAME];
            for (i, s) in pcm.iter_mut().enumerate() {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *s = match n % 4 {
                    0 => 0,
                    1 => (x >> 16) as i16,
                    2 => {
                        if (i / 4) % 2 == 0 {
                            32767
                        } else {
                            -32768
                        }
                    }
                    _ => 32767,
                };
            }
            let _ = enc.encode(&pcm);
        }
    }
}
