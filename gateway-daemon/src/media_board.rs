//! The board the media thread and the event loop run on, whichever backend `board.backend`
//! chose: the simulated `World` or the DAHDI kernel spans ([`DahdiMedia`]). One enum, so the
//! media thread's loop and the event loop are the same code for both and dispatch costs a match,
//! not an allocation or a virtual call.
//!
//! Nodes are the board's spans in config order; on a sim board the simulated far ends follow.
//! Everything the media thread calls here (`wait_tick`, `tick`, `read_chunk`, `write_chunk`,
//! `status`, `apply`) allocates nothing, locks nothing and logs nothing on either backend.

use std::os::fd::{AsRawFd, RawFd};

use hal::sim::{SimCommand, SimDChannel, SimSpanStatus, World};
use hal::{Board, BoardInfo, Chunk, Clock, DChannel, ErrorKind, HalError, Law, SpanStatus, SyncSource, Tick};

use crate::dahdi_media::DahdiMedia;

/// The board of a running daemon.
pub enum MediaBoard {
    Sim(World),
    Dahdi(Box<DahdiMedia>),
}

impl MediaBoard {
    /// Blocks until the next 1 ms chunk is due: the sim's clock, or the kernel's next block on
    /// the DAHDI channels.
    pub fn wait_tick(&mut self) -> Result<Tick, HalError> {
        match self {
            MediaBoard::Sim(w) => w.wait_tick(),
            MediaBoard::Dahdi(d) => Ok(d.wait_tick()),
        }
    }

    /// Records ticks the thread woke too late to run.
    pub fn note_missed_ticks(&mut self, missed: u64) {
        match self {
            MediaBoard::Sim(w) => w.note_missed_ticks(missed),
            MediaBoard::Dahdi(d) => d.note_missed_ticks(missed),
        }
    }

    /// Ticks run so far.
    pub fn ticks(&self) -> u64 {
        match self {
            MediaBoard::Sim(w) => w.ticks(),
            MediaBoard::Dahdi(d) => d.ticks(),
        }
    }

    /// The G.711 law of the span at `node`.
    pub fn law(&self, node: usize) -> Law {
        match self {
            MediaBoard::Sim(w) => w.span_at(node).config().law,
            MediaBoard::Dahdi(d) => d.law(node),
        }
    }

    /// The chunk received on channel `ts` of the span at `node` during the last tick (the idle
    /// code for a channel the span does not carry).
    pub fn read_chunk(&self, node: usize, ts: u8) -> Chunk {
        match self {
            MediaBoard::Sim(w) => {
                let (lo, hi) = w.span_at(node).config().kind.channel_range();
                if (lo..=hi).contains(&ts) {
                    w.read_chunk(node, ts)
                } else {
                    [w.span_at(node).config().law.idle_code(); hal::CHUNK]
                }
            }
            MediaBoard::Dahdi(d) => d.read_chunk(node, ts),
        }
    }

    /// The chunk to send on channel `ts` of the span at `node` from the next tick on (a channel
    /// the span does not carry is ignored).
    pub fn write_chunk(&mut self, node: usize, ts: u8, chunk: &Chunk) {
        match self {
            MediaBoard::Sim(w) => {
                if let Some(mut ch) = w.channel(node, ts) {
                    let _ = hal::Channel::write_chunk(&mut ch, chunk);
                }
            }
            MediaBoard::Dahdi(d) => d.write_chunk(node, ts, chunk),
        }
    }

    /// Moves one tick of audio: the sim runs its lines; DAHDI writes and reads the channels in use.
    pub fn tick(&mut self) {
        match self {
            MediaBoard::Sim(w) => w.tick(),
            MediaBoard::Dahdi(d) => d.tick(),
        }
    }

    /// The status of the span at `node` (the sim's line facts stay default on DAHDI).
    pub fn status(&mut self, node: usize) -> (SpanStatus, SimSpanStatus) {
        match self {
            MediaBoard::Sim(w) => (w.span_at(node).status(), w.sim_status(node)),
            MediaBoard::Dahdi(d) => (d.status(node), SimSpanStatus::default()),
        }
    }

    /// Where the board takes its timing from.
    pub fn sync_source(&self) -> SyncSource {
        match self {
            MediaBoard::Sim(w) => w.sync_source(),
            MediaBoard::Dahdi(d) => d.sync_source(),
        }
    }

    /// A simulated line change. A DAHDI board has real lines: the command is refused (with an
    /// error that allocates nothing, as the media thread builds it).
    pub fn apply(&mut self, cmd: SimCommand) -> Result<(), HalError> {
        match self {
            MediaBoard::Sim(w) => w.apply(cmd),
            MediaBoard::Dahdi(_) => Err(HalError { kind: ErrorKind::Unsupported, op: String::new(), source: None }),
        }
    }

    /// Nodes: board spans, then (sim) the simulated far ends.
    pub fn node_count(&self) -> usize {
        match self {
            MediaBoard::Sim(w) => w.node_count(),
            MediaBoard::Dahdi(d) => d.span_count(),
        }
    }

    /// The board's own spans.
    pub fn span_count(&self) -> usize {
        match self {
            MediaBoard::Sim(w) => w.span_count(),
            MediaBoard::Dahdi(d) => d.span_count(),
        }
    }

    /// The node of board span `number`.
    pub fn span_index(&self, number: u32) -> Option<usize> {
        match self {
            MediaBoard::Sim(w) => w.span_index(number),
            MediaBoard::Dahdi(d) => d.span_index(number),
        }
    }

    /// The node of the simulated far end cabled to span `number` (none on DAHDI).
    pub fn far_end_index(&self, number: u32) -> Option<usize> {
        match self {
            MediaBoard::Sim(w) => w.far_end_index(number),
            MediaBoard::Dahdi(_) => None,
        }
    }

    /// Takes the event loop's D-channel of the span at `node`.
    pub fn take_dchannel(&mut self, node: usize) -> Option<BoardDChannel> {
        match self {
            MediaBoard::Sim(w) => w.take_dchannel(node).map(BoardDChannel::Sim),
            MediaBoard::Dahdi(d) => d.take_dchannel(node).map(|c| BoardDChannel::Dahdi(Box::new(c))),
        }
    }

    /// Static facts about the board.
    pub fn info(&self) -> BoardInfo {
        match self {
            MediaBoard::Sim(w) => w.info(),
            MediaBoard::Dahdi(d) => d.info(),
        }
    }
}

/// A D-channel as the event loop holds it: the sim's socketpair end or a DAHDI HDLC channel.
pub enum BoardDChannel {
    Sim(SimDChannel),
    Dahdi(Box<dahdi_driver::backend::DChannel>),
}

impl BoardDChannel {
    /// The span number (sim) or kernel channel number (DAHDI), for log lines.
    pub fn span(&self) -> u32 {
        match self {
            BoardDChannel::Sim(d) => d.span(),
            BoardDChannel::Dahdi(d) => u32::try_from(d.channo()).unwrap_or(0),
        }
    }

    /// The DAHDI channel, for its event counters.
    pub fn dahdi(&self) -> Option<&dahdi_driver::backend::DChannel> {
        match self {
            BoardDChannel::Sim(_) => None,
            BoardDChannel::Dahdi(d) => Some(d),
        }
    }
}

impl DChannel for BoardDChannel {
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), HalError> {
        match self {
            BoardDChannel::Sim(d) => d.send_frame(frame),
            BoardDChannel::Dahdi(d) => d.send_frame(frame),
        }
    }

    fn recv_frame(&mut self, buf: &mut [u8]) -> Result<Option<usize>, HalError> {
        match self {
            BoardDChannel::Sim(d) => d.recv_frame(buf),
            BoardDChannel::Dahdi(d) => d.recv_frame(buf),
        }
    }
}

impl AsRawFd for BoardDChannel {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            BoardDChannel::Sim(d) => d.as_raw_fd(),
            BoardDChannel::Dahdi(d) => d.as_raw_fd(),
        }
    }
}
