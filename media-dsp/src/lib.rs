//! DSP kernels on 8-sample (1 ms) blocks and the lock-free rings of the media path.
//!
//! Step 1 holds the SPSC rings the media thread uses to talk to the event loop; Step 2 adds the
//! line echo canceller (`echo`) and its vector kernels (`simd`); the G.711, DTMF, tone and codec
//! kernels arrive in Steps 2 and 7.
// Unsafe code is denied everywhere but the SIMD module, which allows it block by block.
#![deny(unsafe_code)]

pub mod dtmf;
pub mod echo;
pub mod fax;
pub mod g711;
pub mod g722;
pub mod g729;
pub mod jitter;
pub mod plc;
pub mod resample;
pub mod ring;
#[allow(unsafe_code)]
pub mod simd;
pub mod tones;
