//! Eight G.722 channels coded together, 1 ms at a time: the form a gateway's media thread uses.
//!
//! One channel's ADPCM is a recursion that no vector can speed up, but a media thread codes many
//! channels every millisecond, and eight of them fit the eight 32-bit lanes of an AVX2 register
//! (`simd::g722`). [`EncoderLanes`] and [`DecoderLanes`] hold eight independent 64 kbit/s,
//! 16 kHz channels (the RTP payload type G722) and code one chunk of each per call. The kernel
//! is picked once: AVX2 where the CPU has it, otherwise the scalar reference, which is simply
//! eight one-channel [`Encoder`]s or [`Decoder`]s. Both give the same octets and samples as
//! eight separate codecs (`tests/g722_lanes.rs`), so a lane is a channel like any other; a lane
//! with no call in it is coded anyway (silence), which costs what any lane costs.
//!
//! Nothing here allocates after construction.

use super::{Decoder, Encoder, Rate};
#[cfg(target_arch = "x86_64")]
use crate::simd::g722 as simd;

/// Channels per [`EncoderLanes`] or [`DecoderLanes`].
pub const LANES: usize = 8;

/// Which implementation codes the lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneKernel {
    /// Eight one-channel codecs in turn: the reference.
    Scalar,
    /// One channel per lane of AVX2 registers (x86-64).
    Avx2,
}

impl LaneKernel {
    /// The fastest kernel this CPU runs.
    pub fn detect() -> LaneKernel {
        *Self::available().last().unwrap_or(&LaneKernel::Scalar)
    }

    /// Every kernel this CPU runs, the scalar reference first.
    pub fn available() -> &'static [LaneKernel] {
        #[cfg(target_arch = "x86_64")]
        if simd::Avx2::detect().is_some() {
            return &[LaneKernel::Scalar, LaneKernel::Avx2];
        }
        &[LaneKernel::Scalar]
    }
}

// The variants differ in size, but a value is built once per eight channels and stays put;
// boxing one would put an indirection (and an allocation) where none is needed.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum EncImpl {
    Scalar([Encoder; LANES]),
    #[cfg(target_arch = "x86_64")]
    Avx2(simd::Avx2, simd::EncoderState),
}

/// Eight G.722 encoders (64 kbit/s, 16 kHz audio), one chunk of each per call.
#[derive(Clone, Debug)]
pub struct EncoderLanes {
    imp: EncImpl,
}

impl EncoderLanes {
    /// Eight encoders in the reset state, on the fastest kernel this CPU runs.
    pub fn new() -> EncoderLanes {
        Self::with_kernel(LaneKernel::detect()).unwrap_or_else(Self::scalar)
    }

    /// Eight encoders on `kernel`, or `None` if this CPU cannot run it.
    pub fn with_kernel(kernel: LaneKernel) -> Option<EncoderLanes> {
        match kernel {
            LaneKernel::Scalar => Some(Self::scalar()),
            #[cfg(target_arch = "x86_64")]
            LaneKernel::Avx2 => {
                simd::Avx2::detect().map(|t| EncoderLanes { imp: EncImpl::Avx2(t, simd::EncoderState::new()) })
            }
            #[cfg(not(target_arch = "x86_64"))]
            LaneKernel::Avx2 => None,
        }
    }

    fn scalar() -> EncoderLanes {
        EncoderLanes { imp: EncImpl::Scalar(std::array::from_fn(|_| Encoder::new(Rate::Kbps64))) }
    }

    /// The kernel in use.
    pub fn kernel(&self) -> LaneKernel {
        match self.imp {
            EncImpl::Scalar(_) => LaneKernel::Scalar,
            #[cfg(target_arch = "x86_64")]
            EncImpl::Avx2(..) => LaneKernel::Avx2,
        }
    }

    /// Encodes 1 ms of 16 kHz audio of each lane (`pcm[lane]`, 16 samples) into 8 codes each
    /// (`out[lane]`), exactly as eight `Encoder::encode_chunk` calls would.
    pub fn encode_chunk(&mut self, pcm: &[[i16; 16]; LANES], out: &mut [[u8; 8]; LANES]) {
        match &mut self.imp {
            EncImpl::Scalar(encs) => {
                for ((enc, p), o) in encs.iter_mut().zip(pcm).zip(out.iter_mut()) {
                    enc.encode_chunk(p, o);
                }
            }
            #[cfg(target_arch = "x86_64")]
            EncImpl::Avx2(token, state) => token.encode_chunk(state, pcm, out),
        }
    }

    /// Puts one lane back to the reset state, for a new call on it. The other lanes go on.
    ///
    /// # Panics
    /// If `lane >= LANES`.
    pub fn reset(&mut self, lane: usize) {
        assert!(lane < LANES, "lane {lane} out of 0..{LANES}");
        match &mut self.imp {
            EncImpl::Scalar(encs) => encs[lane] = Encoder::new(Rate::Kbps64),
            #[cfg(target_arch = "x86_64")]
            EncImpl::Avx2(_, state) => state.reset(lane),
        }
    }
}

impl Default for EncoderLanes {
    fn default() -> Self {
        Self::new()
    }
}

// Unboxed for the reason given at `EncImpl`.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum DecImpl {
    Scalar([Decoder; LANES]),
    #[cfg(target_arch = "x86_64")]
    Avx2(simd::Avx2, simd::DecoderState),
}

/// Eight G.722 decoders (64 kbit/s, to 16 kHz audio), one chunk of each per call.
#[derive(Clone, Debug)]
pub struct DecoderLanes {
    imp: DecImpl,
}

impl DecoderLanes {
    /// Eight decoders in the reset state, on the fastest kernel this CPU runs.
    pub fn new() -> DecoderLanes {
        Self::with_kernel(LaneKernel::detect()).unwrap_or_else(Self::scalar)
    }

    /// Eight decoders on `kernel`, or `None` if this CPU cannot run it.
    pub fn with_kernel(kernel: LaneKernel) -> Option<DecoderLanes> {
        match kernel {
            LaneKernel::Scalar => Some(Self::scalar()),
            #[cfg(target_arch = "x86_64")]
            LaneKernel::Avx2 => {
                simd::Avx2::detect().map(|t| DecoderLanes { imp: DecImpl::Avx2(t, simd::DecoderState::new()) })
            }
            #[cfg(not(target_arch = "x86_64"))]
            LaneKernel::Avx2 => None,
        }
    }

    fn scalar() -> DecoderLanes {
        DecoderLanes { imp: DecImpl::Scalar(std::array::from_fn(|_| Decoder::new(Rate::Kbps64))) }
    }

    /// The kernel in use.
    pub fn kernel(&self) -> LaneKernel {
        match self.imp {
            DecImpl::Scalar(_) => LaneKernel::Scalar,
            #[cfg(target_arch = "x86_64")]
            DecImpl::Avx2(..) => LaneKernel::Avx2,
        }
    }

    /// Decodes 8 codes of each lane (`codes[lane]`) into 1 ms of 16 kHz audio each
    /// (`out[lane]`), exactly as eight `Decoder::decode_chunk` calls would. Every octet is valid.
    pub fn decode_chunk(&mut self, codes: &[[u8; 8]; LANES], out: &mut [[i16; 16]; LANES]) {
        match &mut self.imp {
            DecImpl::Scalar(decs) => {
                for ((dec, c), o) in decs.iter_mut().zip(codes).zip(out.iter_mut()) {
                    dec.decode_chunk(c, o);
                }
            }
            #[cfg(target_arch = "x86_64")]
            DecImpl::Avx2(token, state) => token.decode_chunk(state, codes, out),
        }
    }

    /// Puts one lane back to the reset state, for a new call on it. The other lanes go on.
    ///
    /// # Panics
    /// If `lane >= LANES`.
    pub fn reset(&mut self, lane: usize) {
        assert!(lane < LANES, "lane {lane} out of 0..{LANES}");
        match &mut self.imp {
            DecImpl::Scalar(decs) => decs[lane] = Decoder::new(Rate::Kbps64),
            #[cfg(target_arch = "x86_64")]
            DecImpl::Avx2(_, state) => state.reset(lane),
        }
    }
}

impl Default for DecoderLanes {
    fn default() -> Self {
        Self::new()
    }
}
