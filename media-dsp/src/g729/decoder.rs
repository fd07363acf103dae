//! The G.729 Annex A decoder (§4 and §A.4): one 10-byte frame to 80 samples, with frame erasure
//! concealment (§4.4) and the Annex A post-filter, bit-exact with bcg729.
//!
//! bcg729 is the decoder our peers run, so its output is the reference here rather than the
//! recommendation's fixed-point description: it computes in plain 32-bit products, rounds where it
//! shifts down, saturates where it stores 16 bits, and never rescales the excitation after a
//! synthesis overflow. The stages below use the variants written for it (`LspDecoder`,
//! `lpc::lsp_to_lp`, `pitch::adaptive_vector`, `acelp::fixed_vector`, `gain::decode_gains`,
//! `lpc::syn_filt_sat`, `postfilter`), and the few ITU operators of `ops` only where bcg729's
//! integer arithmetic is the same (lag and parity decoding).
//!
//! All state is in fixed arrays: decoding never allocates.

use super::acelp::fixed_vector;
use super::bits;
use super::gain::decode_gains;
use super::lpc::{lsp_to_lp, syn_filt_sat};
use super::lsp::LspDecoder;
use super::ops::*;
use super::pitch::{adaptive_vector, check_parity_pitch, dec_lag3};
use super::postfilter::{PostFilter, PostProcess};
use super::{L_FRAME, L_INTERPOL, L_SUBFR, M, MP1, PIT_MAX, SHARPMIN};

const EXC_OFF: usize = PIT_MAX as usize + L_INTERPOL;
const OLD_EXC_LEN: usize = EXC_OFF + L_FRAME;
/// Upper bound of the pitch sharpening gain as bcg729 applies it (0.8 in Q14).
const SHARP_MAX_DEC: i16 = 13107;

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
        let parity_error = check_parity_pitch(prm[2], prm[3]) != 0;

        let lsp_new = self.lsp.decode(prm[0], prm[1], bfi);
        let mut lsp_mid = [0i16; M];
        for i in 0..M {
            lsp_mid[i] = pshr(i32::from(self.lsp_old[i]) + i32::from(lsp_new[i]), 1) as i16;
        }
        let az: [[i16; MP1]; 2] = [lsp_to_lp(&lsp_mid), lsp_to_lp(&lsp_new)];
        self.lsp_old = lsp_new;

        let mut lags = [0i16; 2];
        let mut t0 = 0;
        for sf in 0..2 {
            let i_subfr = sf * L_SUBFR;
            let index = prm[if sf == 0 { 2 } else { 7 }];
            let bad = bfi || (sf == 0 && parity_error);
            let mut t0_frac = 0;
            if !bad {
                (t0, t0_frac) = dec_lag3(index, sf == 0, t0);
                self.old_t0 = t0;
            } else {
                t0 = self.old_t0;
                self.old_t0 = (self.old_t0 + 1).min(PIT_MAX);
            }
            lags[sf] = t0;
            adaptive_vector(&mut self.old_exc, EXC_OFF + i_subfr, t0, t0_frac);

            let (ci, si, gi) = if sf == 0 { (4, 5, 6) } else { (8, 9, 10) };
            if bfi {
                prm[ci] = random(&mut self.seed_fer) & 0x1fff;
                prm[si] = random(&mut self.seed_fer) & 0x000f;
            }
            let mut code = [0i16; L_SUBFR];
            fixed_vector(prm[si], prm[ci], t0, self.sharp, &mut code);
            decode_gains(prm[gi], &code, bfi, &mut self.gain_pitch, &mut self.gain_code, &mut self.past_qua_en);
            self.sharp = self.gain_pitch.clamp(SHARPMIN, SHARP_MAX_DEC);

            let exc: &mut [i16; L_SUBFR] = (&mut self.old_exc[EXC_OFF + i_subfr..EXC_OFF + i_subfr + L_SUBFR])
                .try_into()
                .unwrap_or_else(|_| unreachable!());
            let (gp, gc) = (i32::from(self.gain_pitch), i32::from(self.gain_code));
            for (e, &c) in exc.iter_mut().zip(&code) {
                let acc = (i32::from(*e) * gp).wrapping_add(i32::from(c) * gc);
                *e = sat16(pshr(acc, 14));
            }
            let mut x = [0i16; L_SUBFR];
            x.copy_from_slice(exc);
            syn_filt_sat(&az[sf], &x, &mut self.synth[M + i_subfr..M + i_subfr + L_SUBFR], &mut self.mem_syn);
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
