//! The simulated backend: spans that behave like real cards, on cables instead of copper.
//!
//! A [`World`] owns every simulated span of a process: the board's own spans and the far ends they
//! are cabled to (a simulated provider, a simulated PBX). Each call of [`World::tick`] is one
//! millisecond of line time: every span sends one [`frame::LineFrame`] (all timeslots, the
//! D-channel's HDLC bit stream, and the line state bits), every cable carries it, and every span
//! receives one. Alarms, slips, CRC errors and HDLC errors come out of that exchange exactly as they
//! would on copper: cutting one direction of a cable starves one receiver (RED), which then sets
//! the remote alarm bit (the far end goes YELLOW); all-ones is AIS (BLUE).
//!
//! The world does no allocation per tick: frames are fixed arrays and D-channel frames travel as
//! bytes in preallocated queues.

mod cable;
pub mod fault;
pub mod frame;
pub mod hdlc;
mod hybrid;
mod line;
mod span;
#[cfg(test)]
mod tests;
mod world;

pub use fault::FaultConfig;
pub use hybrid::{EchoPath, MAX_ECHO_DELAY_MS};
pub use line::{FarEndRole, LineSpec};
pub use span::{SimChannel, SimDChannel, SimSpanSpec, SimSpanStatus};
pub use world::{SimCommand, World, WorldClock, WorldOptions};
