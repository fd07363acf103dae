//! G.722 wideband speech codec (ITU-T G.722): sub-band ADPCM at 64, 56 and 48 kbit/s.
//!
//! The encoder splits 16 kHz audio with a quadrature mirror filter (`qmf`) into two 8 kHz
//! sub-bands, codes the lower band with 6-bit and the higher band with 2-bit ADPCM (`adpcm`), and
//! puts both into one 8-bit code per pair of input samples: higher-band bits 7-6, lower-band bits
//! 5-0. At 56 and 48 kbit/s the lower band's one or two least significant bits are left to
//! auxiliary data; since the lower-band coder is embedded, the encoder is the same in all three
//! modes and only the decoder's output quantiser (INVQBL) changes.
//!
//! Packing follows RFC 3551 §4.5.2 for the 64 kbit/s mode: one octet per code, in time order, and
//! an RTP clock of 8000 Hz even though the audio is sampled at 16000 Hz (one tick per octet). For
//! 56 and 48 kbit/s (not an RTP payload) each octet holds one 7- or 6-bit code, right-aligned, as
//! spandsp does without `G722_PACKED`.
//!
//! Both directions are bit-exact with spandsp's G.722 (`tests/g722_spandsp.rs`) with one deliberate
//! exception: where a full-scale signal makes the receive QMF overshoot 16 bits, spandsp's output
//! wraps to the other sign (a loud click) and ours saturates. That holds in spandsp's
//! `G722_SAMPLE_RATE_8000` mode too (`Encoder::new_8k`, `Decoder::new_8k`): there the audio is 8 kHz,
//! the lower band alone carries it and the QMF and higher band are skipped on the audio side.
//! Nothing here allocates; all state is a fixed-size struct.

pub(crate) mod adpcm;
mod lanes;
mod qmf;

use adpcm::Band;
pub use lanes::{DecoderLanes, EncoderLanes, LaneKernel, LANES};

/// The RTP clock rate of the G722 payload type (RFC 3551 §4.5.2): one tick per code octet.
pub const RTP_CLOCK_RATE: u32 = 8000;

/// The three bit rates of G.722 (§1.3): bits per code, 8, 7 or 6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rate {
    /// Mode 1: 64 kbit/s, the one SIP uses.
    Kbps64,
    /// Mode 2: 56 kbit/s (8 kbit/s of auxiliary data).
    Kbps56,
    /// Mode 3: 48 kbit/s (16 kbit/s of auxiliary data).
    Kbps48,
}

impl Rate {
    /// The rate in bit/s.
    pub fn bps(self) -> u32 {
        match self {
            Rate::Kbps64 => 64_000,
            Rate::Kbps56 => 56_000,
            Rate::Kbps48 => 48_000,
        }
    }

    /// The rate for 64000, 56000 or 48000 bit/s.
    pub fn from_bps(bps: u32) -> Option<Rate> {
        match bps {
            64_000 => Some(Rate::Kbps64),
            56_000 => Some(Rate::Kbps56),
            48_000 => Some(Rate::Kbps48),
            _ => None,
        }
    }

    /// Bits per code: 8, 7 or 6.
    pub fn bits(self) -> u32 {
        match self {
            Rate::Kbps64 => 8,
            Rate::Kbps56 => 7,
            Rate::Kbps48 => 6,
        }
    }
}

/// A G.722 encoder (one direction of one channel).
#[derive(Clone, Debug)]
pub struct Encoder {
    rate: Rate,
    eight_k: bool,
    qmf: qmf::Analysis,
    low: Band,
    high: Band,
}

impl Encoder {
    /// An encoder of 16 kHz audio in its reset state.
    pub fn new(rate: Rate) -> Encoder {
        Encoder { rate, eight_k: false, qmf: qmf::Analysis::new(), low: Band::new(32), high: Band::new(8) }
    }

    /// An encoder of 8 kHz audio (spandsp's `G722_SAMPLE_RATE_8000`): each input sample becomes
    /// one code whose higher band carries silence. Cheaper, and still G.722 on the wire.
    pub fn new_8k(rate: Rate) -> Encoder {
        Encoder { eight_k: true, ..Encoder::new(rate) }
    }

    /// The bit rate.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Input samples per code: 2 at 16 kHz, 1 in the 8 kHz mode.
    pub fn samples_per_code(&self) -> usize {
        if self.eight_k {
            1
        } else {
            2
        }
    }

    /// Encodes `pcm` into `out`, one code per octet, and returns how many codes were written:
    /// `pcm.len() / samples_per_code()` (a trailing odd sample at 16 kHz is ignored), or fewer if
    /// `out` is shorter.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        let shift = 8 - self.rate.bits();
        if self.eight_k {
            let n = pcm.len().min(out.len());
            for (o, &x) in out.iter_mut().zip(pcm).take(n) {
                *o = self.code(i32::from(x) >> 1, 0) >> shift;
            }
            n
        } else {
            let n = (pcm.len() / 2).min(out.len());
            for (o, pair) in out.iter_mut().zip(pcm.chunks_exact(2)).take(n) {
                let (xl, xh) = self.qmf.split(pair[0], pair[1]);
                *o = self.code(xl, xh) >> shift;
            }
            n
        }
    }

    /// Encodes one millisecond of 16 kHz audio (16 samples) into 8 codes.
    pub fn encode_chunk(&mut self, pcm: &[i16; 16], out: &mut [u8; 8]) {
        let n = self.encode(pcm, out);
        debug_assert!(n == 8 || self.eight_k);
    }

    /// The 8-bit code of one pair of sub-band samples; the higher band is skipped in 8 kHz mode.
    #[inline]
    fn code(&mut self, xl: i32, xh: i32) -> u8 {
        // Lower band: SUBTRA, QUANTL, then the 4-bit feedback path.
        let el = adpcm_sat(xl - self.low.s);
        let ilow = adpcm::quantl(el, self.low.det);
        let ril = ilow >> 2;
        let dlow = adpcm::invqal(ril, self.low.det);
        adpcm::adapt_low(&mut self.low, ril);
        self.low.block4(dlow);

        let ihigh = if self.eight_k {
            // spandsp's 8 kHz mode sends the higher-band code of a zero difference.
            3
        } else {
            let eh = adpcm_sat(xh - self.high.s);
            let ihigh = adpcm::quanth(eh, self.high.det);
            let dhigh = adpcm::invqah(ihigh, self.high.det);
            adpcm::adapt_high(&mut self.high, ihigh);
            self.high.block4(dhigh);
            ihigh
        };
        (ihigh << 6) | ilow
    }
}

/// A G.722 decoder (one direction of one channel).
#[derive(Clone, Debug)]
pub struct Decoder {
    rate: Rate,
    eight_k: bool,
    qmf: qmf::Synthesis,
    low: Band,
    high: Band,
}

impl Decoder {
    /// A decoder to 16 kHz audio in its reset state.
    pub fn new(rate: Rate) -> Decoder {
        Decoder { rate, eight_k: false, qmf: qmf::Synthesis::new(), low: Band::new(32), high: Band::new(8) }
    }

    /// A decoder to 8 kHz audio (spandsp's `G722_SAMPLE_RATE_8000`): one sample per code, from
    /// the lower band alone.
    pub fn new_8k(rate: Rate) -> Decoder {
        Decoder { eight_k: true, ..Decoder::new(rate) }
    }

    /// The bit rate.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Output samples per code: 2 at 16 kHz, 1 in the 8 kHz mode.
    pub fn samples_per_code(&self) -> usize {
        if self.eight_k {
            1
        } else {
            2
        }
    }

    /// Decodes `codes` (one per octet; bits above the rate's code width are ignored) into `out`
    /// and returns how many samples were written: `codes.len() * samples_per_code()`, or fewer
    /// if `out` is shorter. Every octet value is valid input.
    pub fn decode(&mut self, codes: &[u8], out: &mut [i16]) -> usize {
        if self.eight_k {
            let n = codes.len().min(out.len());
            for (o, &c) in out.iter_mut().zip(codes).take(n) {
                let (rl, _) = self.bands(c);
                *o = clamp16(rl << 1);
            }
            n
        } else {
            let n = codes.len().min(out.len() / 2);
            for (o, &c) in out.chunks_exact_mut(2).zip(codes).take(n) {
                let (rl, rh) = self.bands(c);
                let (a, b) = self.qmf.merge(rl, rh);
                o[0] = a;
                o[1] = b;
            }
            2 * n
        }
    }

    /// Decodes 8 codes into one millisecond of 16 kHz audio (16 samples).
    pub fn decode_chunk(&mut self, codes: &[u8; 8], out: &mut [i16; 16]) {
        let n = self.decode(codes, out);
        debug_assert!(n == 16 || self.eight_k);
    }

    /// The reconstructed sub-band samples (rL, rH) of one code; rH is 0 in 8 kHz mode.
    #[inline]
    fn bands(&mut self, code: u8) -> (i32, i32) {
        let bits = self.rate.bits();
        let code = code & (u8::MAX >> (8 - bits));
        let low_bits = bits - 2;
        let ilow = code & ((1u8 << low_bits) - 1);
        let ihigh = (code >> low_bits) & 0x03;
        // Lower band: the output uses every received bit (INVQBL), the predictor only the 4 most
        // significant ones (INVQAL), so that encoder and decoder stay in step in every mode.
        let ril = ilow >> (low_bits - 4);
        let wd = adpcm::invqbl(ilow, low_bits, self.low.det);
        let rl = (self.low.s + wd).clamp(-16384, 16383);
        let dlow = adpcm::invqal(ril, self.low.det);
        adpcm::adapt_low(&mut self.low, ril);
        self.low.block4(dlow);
        if self.eight_k {
            return (rl, 0);
        }
        let dhigh = adpcm::invqah(ihigh, self.high.det);
        let rh = (self.high.s + dhigh).clamp(-16384, 16383);
        adpcm::adapt_high(&mut self.high, ihigh);
        self.high.block4(dhigh);
        (rl, rh)
    }
}

/// LIMIT on the difference signals: 16-bit saturation.
#[inline]
fn adpcm_sat(x: i32) -> i32 {
    x.clamp(-32768, 32767)
}

#[inline]
fn clamp16(x: i32) -> i16 {
    i16::try_from(x).unwrap_or(if x < 0 { i16::MIN } else { i16::MAX })
}
