//! LSF decoding of G.729 §3.2.4 (two-stage VQ, 4th-order MA predictor); the encoder's quantiser
//! is in `encoder_lp`.
//!
//! The decoder side (`LspDecoder`) rebuilds the LSFs from the indices L0..L3, keeps the predictor
//! memory and repeats the previous LSFs on an erased frame (§4.4.1).

use super::ops::*;
use super::tables::*;
use super::M;

pub const NC: usize = 5;
pub const MA_NP: usize = 4;
const L_LIMIT: i16 = 40;
const M_LIMIT: i16 = 25681;
pub const GAP1: i16 = 10;
pub const GAP2: i16 = 5;
const GAP3: i16 = 321;

pub fn prev_update(lsp_ele: &[i16; M], freq_prev: &mut [[i16; M]; MA_NP]) {
    for k in (1..MA_NP).rev() {
        freq_prev[k] = freq_prev[k - 1];
    }
    freq_prev[0] = *lsp_ele;
}

/// Decoder-side LSF dequantiser state.
///
/// Its arithmetic is bcg729's rather than the recommendation's, since the decoder is bit-exact
/// with bcg729: the MA prediction rounds instead of truncating, the LSFs are fully sorted, and
/// the low limit is applied to the second LSF (bcg729 indexes it so; the first LSF is bounded by
/// the sort and the minimum distance anyway). The LSPs come from a polynomial cosine, not the table.
#[derive(Clone)]
pub struct LspDecoder {
    freq_prev: [[i16; M]; MA_NP],
    prev_ma: usize,
    prev_lsf: [i16; M],
}

impl Default for LspDecoder {
    fn default() -> Self {
        Self { freq_prev: [FREQ_PREV_RESET; MA_NP], prev_ma: 0, prev_lsf: FREQ_PREV_RESET }
    }
}

/// Half the distance below `gap`, added to one neighbour and taken from the other, on adjacent LSFs.
fn rearrange(buf: &mut [i16; M], gap: i16) {
    for j in 1..M {
        // C division truncates towards zero; only positive halves are used, where it is a floor.
        let delta = (buf[j - 1].wrapping_sub(buf[j]).wrapping_add(gap)) / 2;
        if delta > 0 {
            buf[j - 1] = buf[j - 1].wrapping_sub(delta);
            buf[j] = buf[j].wrapping_add(delta);
        }
    }
}

impl LspDecoder {
    /// Decodes L0..L3 (`prm0` = L0|L1, `prm1` = L2|L3) to LSPs in Q15; `erased` repeats the last LSFs.
    pub fn decode(&mut self, prm0: i16, prm1: i16, erased: bool) -> [i16; M] {
        let lsf = if !erased {
            let mode = ((prm0 >> 7) & 1) as usize;
            let code0 = (prm0 & 0x7f) as usize;
            let code1 = ((prm1 >> 5) & 0x1f) as usize;
            let code2 = (prm1 & 0x1f) as usize;
            let mut buf = [0i16; M];
            for j in 0..M {
                let second = if j < NC { code1 } else { code2 };
                buf[j] = LSPCB1[code0][j].wrapping_add(LSPCB2[second][j]);
            }
            rearrange(&mut buf, GAP1);
            rearrange(&mut buf, GAP2);
            let mut lsf = [0i16; M];
            for j in 0..M {
                let mut acc = i32::from(FG_SUM[mode][j]) * i32::from(buf[j]);
                for k in 0..MA_NP {
                    acc = acc.wrapping_add(i32::from(FG[mode][k][j]) * i32::from(self.freq_prev[k][j]));
                }
                lsf[j] = pshr(acc, 15) as i16;
            }
            prev_update(&buf, &mut self.freq_prev);
            lsf.sort_unstable();
            if lsf[1] < L_LIMIT {
                lsf[1] = L_LIMIT;
            }
            for j in 0..M - 1 {
                if i32::from(lsf[j + 1]) - i32::from(lsf[j]) < i32::from(GAP3) {
                    lsf[j + 1] = lsf[j].wrapping_add(GAP3);
                }
            }
            if lsf[M - 1] > M_LIMIT {
                lsf[M - 1] = M_LIMIT;
            }
            self.prev_lsf = lsf;
            self.prev_ma = mode;
            lsf
        } else {
            // Rebuild the codeword that would have given the repeated LSFs, for the predictor.
            let ma = self.prev_ma;
            let mut ele = [0i16; M];
            for j in 0..M {
                let mut acc = i32::from(self.prev_lsf[j]) << 15;
                for k in 0..MA_NP {
                    acc = acc.wrapping_sub(i32::from(FG[ma][k][j]) * i32::from(self.freq_prev[k][j]));
                }
                ele[j] = pshr(mul16_32_q(i32::from(FG_SUM_INV[ma][j]), acc, 12), 15) as i16;
            }
            prev_update(&ele, &mut self.freq_prev);
            self.prev_lsf
        };
        let mut lsp = [0i16; M];
        for j in 0..M {
            lsp[j] = cos_q15(lsf[j]);
        }
        lsp
    }
}
