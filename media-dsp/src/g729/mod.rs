//! ITU-T G.729 Annex A (CS-ACELP, 8 kbit/s, reduced complexity): encoder and decoder in 16/32-bit
//! fixed point, bit-exact with bcg729 1.1.1 (what our SIP peers run), whose arithmetic both follow.
//!
//! Frames are 10 ms (80 samples at 8 kHz) and 10 bytes. State lives in fixed arrays, so neither
//! direction allocates. `ops` holds the few ITU basic operators still used and bcg729's
//! arithmetic: 32-bit products, rounding shifts, polynomial log2/exp2/sqrt/cos.
//!
//! Status: the decoder is bit-exact with bcg729 1.1.1 (Debian 12's libbcg729), sample for sample
//! on bcg729's bitstreams of varied signals, on random bitstreams (bad pitch parity included) and
//! through lost frames (tests/g729_bcg729.rs); its stages are in acelp/gain/lpc/lsp/pitch and
//! postfilter (see decoder.rs). The encoder (`encoder*.rs`) produces bitstreams identical to
//! bcg729's (VAD off) on every signal of tests/g729_encoder.rs (speech-like, tones, noise,
//! silence, DC, clipping).

// Indices here are Word16 values masked or bounded by construction, as in the recommendation's
// fixed-point description; the casts that turn them into array indices cannot lose anything.
#![allow(clippy::cast_sign_loss, clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
// Loops keep the recommendation's index form so that each line can be checked against its equations.
#![allow(clippy::needless_range_loop)]

pub mod acelp;
pub mod bits;
pub mod decoder;
pub mod encoder;
pub mod encoder_lp;
pub mod encoder_math;
pub mod encoder_search;
pub mod gain;
pub mod lpc;
pub mod lsp;
pub mod ops;
pub mod pitch;
pub mod postfilter;
pub mod tables;

pub use decoder::Decoder;
pub use encoder::Encoder;

/// Samples per frame.
pub const L_FRAME: usize = 80;
/// Samples per subframe.
pub const L_SUBFR: usize = 40;
/// LP order.
pub const M: usize = 10;
pub const MP1: usize = M + 1;
pub const PIT_MIN: i16 = 20;
pub const PIT_MAX: i16 = 143;
pub const L_INTERPOL: usize = 11;
/// Bounds of the pitch sharpening gain, Q14.
pub const SHARPMAX: i16 = 13017;
pub const SHARPMIN: i16 = 3277;
/// Bytes per frame.
pub const FRAME_BYTES: usize = 10;
