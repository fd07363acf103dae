//! The G.729 Annex A decoder (§4 and §A.4): one 10-byte frame to 80 samples, with frame erasure
//! concealment (§4.4) and the Annex A post-filter.
//!
//! All state is in fixed arrays: decoding never allocates.

use super::acelp::decod_acelp;
use super::bits;
use super::gain::dec_gain;
use super::lpc::{int_qlpc, syn_filt};
use super::lsp::LspDecoder;
use super::ops::*;
use super::pitch::{check_parity_pitch, dec_lag3, pred_lt_3};
use super::postfilter::{PostFilter, PostProcess};
use super::{L_FRAME, L_INTERPOL, L_SUBFR, M, PIT_MAX, SHARPMAX, SHARPMIN};

const EXC_OFF: usize = PIT_MAX as usize + L_INTERPOL;
const OLD_EXC_LEN: usize = EXC_OFF + L_FRAME;

/// Initial LSPs (cosine domain, Q15) before the first frame.
pub const LSP_INIT: [i16; M] = [30000, 26000, 21000, 15000, 8000, 0, -8000, -15000, -21000, -26000];

/// Decoder state of one channel.
#[derive(Clone)]
pub struct Decoder {
    old_exc: [i16; OLD_EXC_LEN],
    past_qua_en: [i16; 4],
    lsp_old: [i16; M],
    mem_syn: [i16; M],
    sharp: i16,
    old_t0: i16,
    gain_code: i16,
    gain_pitch: i16,
    seed_fer: i16,
    lsp: LspDecoder,
    /// The last M synthesis samples of the previous frame, then this frame's synthesis.
    synth: [i16; M + L_FRAME],
    post: PostFilter,
    post_process: PostProcess,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    pub fn new() -> Self {
        Self {
            old_exc: [0; OLD_EXC_LEN],
            past_qua_en: [-14336; 4],
            lsp_old: LSP_INIT,
            mem_syn: [0; M],
            sharp: SHARPMIN,
            old_t0: 60,
            gain_code: 0,
            gain_pitch: 0,
            seed_fer: 21845,
            lsp: LspDecoder::default(),
            synth: [0; M + L_FRAME],
            post: PostFilter::default(),
            post_process: PostProcess::default(),
        }
    }

    /// Decodes one frame; `None` is an erased (lost) frame, concealed from the past.
    pub fn decode(&mut self, frame: Option<&[u8; 10]>, out: &mut [i16; L_FRAME]) {
        let bfi = frame.is_none();
        let mut prm = frame.map(bits::unpack).unwrap_or([0; 11]);
        prm[3] = if bfi { 1 } else { check_parity_pitch(prm[2], prm[3]) };

        let lsp_new = self.lsp.decode(prm[0], prm[1], bfi);
        let az = int_qlpc(&self.lsp_old, &lsp_new);
        self.lsp_old = lsp_new;

        let mut lags = [0i16; 2];
        let mut t0 = 0;
        for sf in 0..2 {
            let i_subfr = sf * L_SUBFR;
            let base = if sf == 0 { 2 } else { 7 };
            let index = prm[base];
            let bad = if sf == 0 { bfi || prm[3] != 0 } else { bfi };
            let mut t0_frac = 0;
            if !bad {
                (t0, t0_frac) = dec_lag3(index, sf == 0, t0);
                self.old_t0 = t0;
            } else {
                t0 = self.old_t0;
                self.old_t0 = add(self.old_t0, 1);
                if self.old_t0 > PIT_MAX {
                    self.old_t0 = PIT_MAX;
                }
            }
            lags[sf] = t0;
            pred_lt_3(&mut self.old_exc, EXC_OFF + i_subfr, t0, t0_frac);

            let (ci, si, gi) = if sf == 0 { (4, 5, 6) } else { (8, 9, 10) };
            if bfi {
                prm[ci] = random(&mut self.seed_fer) & 0x1fff;
                prm[si] = random(&mut self.seed_fer) & 0x000f;
            }
            let mut code = [0i16; L_SUBFR];
            decod_acelp(prm[si], prm[ci], &mut code);
            let j = shl(self.sharp, 1);
            if t0 < L_SUBFR as i16 {
                for i in t0 as usize..L_SUBFR {
                    code[i] = add(code[i], mult(code[i - t0 as usize], j));
                }
            }
            dec_gain(prm[gi], &code, bfi, &mut self.gain_pitch, &mut self.gain_code, &mut self.past_qua_en);
            self.sharp = self.gain_pitch.clamp(SHARPMIN, SHARPMAX);

            let exc = &mut self.old_exc[EXC_OFF + i_subfr..EXC_OFF + i_subfr + L_SUBFR];
            for i in 0..L_SUBFR {
                let l = l_mult(exc[i], self.gain_pitch);
                let l = l_mac(l, code[i], self.gain_code);
                let l = l_shl(l, 1);
                exc[i] = round(l);
            }
            let a = &az[sf];
            let (hist, syn) = self.synth.split_at_mut(M + i_subfr);
            let _ = hist;
            let y = &mut syn[..L_SUBFR];
            let x: [i16; L_SUBFR] =
                self.old_exc[EXC_OFF + i_subfr..EXC_OFF + i_subfr + L_SUBFR].try_into().unwrap_or([0; L_SUBFR]);
            if syn_filt(a, &x, y, &mut self.mem_syn, false) {
                // Overflow in the synthesis: scale the whole excitation memory down and redo it.
                for e in self.old_exc.iter_mut() {
                    *e = shr(*e, 2);
                }
                let x: [i16; L_SUBFR] =
                    self.old_exc[EXC_OFF + i_subfr..EXC_OFF + i_subfr + L_SUBFR].try_into().unwrap_or([0; L_SUBFR]);
                let _ = syn_filt(a, &x, y, &mut self.mem_syn, true);
            } else {
                self.mem_syn.copy_from_slice(&y[L_SUBFR - M..]);
            }
        }
        self.old_exc.copy_within(L_FRAME.., 0);

        self.post.run(&self.synth, &az, lags, out);
        self.synth.copy_within(L_FRAME.., 0);
        self.post_process.run(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn energy(x: &[i16]) -> f64 {
        x.iter().map(|&s| f64::from(s).powi(2)).sum()
    }

    #[test]
    fn erased_frames_fade_out() {
        let mut dec = Decoder::new();
        let frame = [0xf1, 0x7b, 0x9d, 0x7b, 0xa6, 0xc2, 0xd7, 0x6a, 0x3c, 0xae];
        let mut out = [0i16; L_FRAME];
        for _ in 0..50 {
            dec.decode(Some(&frame), &mut out);
        }
        assert!(energy(&out) > 0.0, "the speech frame decodes to silence");
        dec.decode(None, &mut out);
        let first = energy(&out);
        for _ in 0..40 {
            dec.decode(None, &mut out);
        }
        assert!(energy(&out) < first / 10.0, "concealment does not fade: {} then {}", first, energy(&out));
    }

    #[test]
    fn any_bytes_decode_without_panic() {
        let mut dec = Decoder::new();
        let mut out = [0i16; L_FRAME];
        let mut x: u32 = 1;
        for n in 0..5000 {
            let mut f = [0u8; 10];
            for b in f.iter_mut() {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *b = (x >> 24) as u8;
            }
            if n % 7 == 0 {
                f = if n % 14 == 0 { [0xff; 10] } else { [0; 10] };
            }
            dec.decode(if n % 11 == 0 { None } else { Some(&f) }, &mut out);
        }
    }
}
