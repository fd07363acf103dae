//! DSP kernels on 8-sample (1 ms) blocks and the lock-free rings of the media path.
//!
//! Step 1 holds the SPSC rings the media thread uses to talk to the event loop; the G.711, echo
//! canceller, DTMF, tone and codec kernels arrive in Steps 2 and 7.
#![forbid(unsafe_code)]

pub mod ring;
