//! Hardware abstraction for telephony boards: spans, channels, the clock, alarms and capabilities.
//!
//! The traits here are deliberately small and fallible (embedded-hal style). Span operations
//! (configuration, alarms, counters) are apart from channel operations (8-sample audio chunks and
//! whole HDLC frames), and optional features are reported in a [`Capabilities`] value rather than
//! as optional methods. Two backends implement them: [`sim`] here and the DAHDI one in
//! `dahdi-driver`.
#![forbid(unsafe_code)]

mod error;
pub mod sim;
mod types;

pub use error::{ErrorKind, HalError};
pub use types::*;

/// Samples per channel per tick: DAHDI's fixed chunk, 1 ms at 8 kHz.
pub const CHUNK: usize = 8;

/// One tick's worth of companded samples for one channel.
pub type Chunk = [u8; CHUNK];

/// The largest D-channel frame (Q.921 N201 = 260 octets of information plus address and control).
pub const MAX_HDLC_FRAME: usize = 264;

/// The board's timing: something that wakes the media thread once per millisecond.
pub trait Clock {
    /// Blocks until the next 1 ms tick and says how late the wake-up was.
    fn wait_tick(&mut self) -> Result<Tick, HalError>;
    /// Where the board currently takes its timing from.
    fn sync_source(&self) -> SyncSource;
}

/// Operations on a whole span: its settings, alarms and counters.
pub trait Span {
    /// The span's number on the board (1-based, as DAHDI numbers them).
    fn number(&self) -> u32;
    /// The settings the span runs with.
    fn config(&self) -> &SpanConfig;
    /// Applies new settings; a real card re-trains its line interface.
    fn configure(&mut self, config: &SpanConfig) -> Result<(), HalError>;
    /// Alarms, counters and the clock role right now.
    fn status(&self) -> SpanStatus;
    /// What this span can do.
    fn capabilities(&self) -> Capabilities;
}

/// Audio on one bearer channel, one 8-sample chunk per tick.
pub trait Channel {
    /// Timeslot (E1/T1) or B-channel number (BRI), 1-based.
    fn timeslot(&self) -> u8;
    /// The chunk the far end sent during the last tick.
    fn read_chunk(&mut self, out: &mut Chunk) -> Result<(), HalError>;
    /// The chunk to send during the next tick.
    fn write_chunk(&mut self, chunk: &Chunk) -> Result<(), HalError>;
}

/// A D-channel: whole HDLC frames in and out, FCS handled by the card.
pub trait DChannel {
    /// Queues one frame (address, control, information; no FCS) for transmission.
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), HalError>;
    /// Takes one received frame into `buf`, returning its length, or `None` when none is waiting.
    fn recv_frame(&mut self, buf: &mut [u8]) -> Result<Option<usize>, HalError>;
}

/// A board: a set of spans sharing one clock.
pub trait Board {
    /// Static facts about the board.
    fn info(&self) -> BoardInfo;
    /// Number of spans. Spans keep the numbers their config gives them, which need not be
    /// contiguous.
    fn span_count(&self) -> usize;
    /// The span with that number, if it exists.
    fn span(&self, number: u32) -> Option<&dyn Span>;
}
