//! The daemon on real DAHDI spans (`board.backend = "dahdi"`): the configured kernel spans set up
//! as `dahdi_cfg` would, their bearer channels open for the media thread ([`DahdiMedia`], paced by
//! the kernel's reads), their D-channels in HDLC-with-FCS mode for the event loop, the hardware
//! echo canceller where a span asks for one (and the TC400B where `transcoding = "hardware"`), and
//! the kernel's own view of each span (`/proc/dahdi/N`) for the status page.
//!
//! Timing: there is no clock of ours. DAHDI hands a channel's audio out in blocks of
//! `board.block_ms` (10 ms unless set: eighty bytes, ten of our 8-sample chunks), all channels of
//! the board at the same instant. The media thread waits on the *pace* channel (the first bearer
//! channel of the first span, always read) with `poll(2)`; each block gives its ticks back to
//! back. A late thread finds several blocks waiting and runs their ticks back to back,
//! so the kernel's clock, not ours, sets the pace and nothing drifts.
//!
//! Only channels in use move audio: a channel is read and written from the tick something reads
//! or writes it (a call's cross-connect, an RTP leg, a play or capture) until it has been left
//! alone for [`IDLE_AFTER`] ticks. A channel taken into use is flushed and primed with
//! [`PRIME_BLOCKS`] idle blocks, so a late wake-up never underruns its transmitter.
//!
//! Architecture invariant: nothing the media thread calls here allocates, locks or logs: reads
//! and writes go through `AudioChannel::*_io` (an `io::Error` from an errno does not allocate),
//! span status through `DAHDI_SPANSTAT` without decoding its strings, events into preallocated
//! queues.

use std::cell::Cell;
use std::os::fd::AsFd;
use std::time::Duration;

use dahdi_driver::backend::{self, AudioChannel, DChannel, DahdiBoard};
use dahdi_driver::transcoder;
use hal::{Board, BoardInfo, Chunk, ErrorKind, HalError, Law, SpanStatus, SyncSource, Tick, CHUNK};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use provisioning::{Config, EchoMode};

/// Kernel buffers per bearer channel: 16 blocks (160 ms at the default 10 ms block) ride out a
/// late wake-up before the receiver overruns. The block is `board.block_ms`: the kernel's smallest
/// is 2 ms ([`dahdi_driver::backend::BLOCK`]), but every block costs a read and a write per channel
/// in use, so 10 ms is the default (chan_dahdi's own is 20 ms).
pub const NUM_BUFS: i32 = 16;
/// Idle blocks written ahead when a channel is taken into use: the transmitter's cushion (30 ms).
pub const PRIME_BLOCKS: usize = 3;
/// A channel nobody read or wrote for this many ticks stops moving audio.
pub const IDLE_AFTER: u64 = 2000;
/// `MediaChan::used` of a channel nobody has touched yet.
const NEVER: u64 = u64::MAX;
/// How long the media thread waits for a block before it runs a tick anyway (a stopped span
/// still gets its status reported).
const PACE_TIMEOUT_MS: u16 = 100;

/// Why the DAHDI board could not be brought up.
fn board_err(op: String) -> HalError {
    HalError::new(ErrorKind::InvalidConfig, op)
}

/// One bearer channel of the board.
struct MediaChan {
    ch: AudioChannel,
    rx: Chunk,
    /// The chunk sent every tick until changed (the sim's channels hold theirs the same way).
    tx: Chunk,
    /// The tick of the last read or write by the media thread; a `Cell` because reads take `&self`.
    used: Cell<u64>,
    /// Moving audio now.
    live: bool,
}

/// One board span.
struct NodeSpan {
    number: u32,
    law: Law,
    /// `channels[ts]` is the index of timeslot `ts` in `DahdiMedia::chans`.
    channels: [Option<u16>; 32],
    clock_master: bool,
}

/// The media thread's view of the kernel spans (see the module doc).
pub struct DahdiMedia {
    board: DahdiBoard,
    spans: Vec<NodeSpan>,
    chans: Vec<MediaChan>,
    dchans: Vec<Option<DChannel>>,
    /// Index in `chans` of the channel whose blocks pace the thread.
    pace: usize,
    /// Bytes per kernel block.
    block: usize,
    ticks: u64,
    late_ticks: u64,
    /// Ticks on which a channel in use had no block to read (the kernel was behind us).
    pub rx_underruns: u64,
    /// Chunks the kernel's transmit buffers had no room for.
    pub tx_overruns: u64,
}

/// `transcoding = "hardware"` needs DAHDI transcoders turning every span's law into G.729A and
/// back (a TC400B's encoder and decoder); without them spangate refuses to start and says what
/// DAHDI has, rather than failing each G.729 call later.
fn check_hardware_transcoding(cfg: &Config) -> Result<(), HalError> {
    if cfg.board.transcoding != provisioning::Transcoding::Hardware {
        return Ok(());
    }
    let found = transcoder::list().map_err(|e| board_err(format!("transcoding = \"hardware\": {e}")))?;
    for s in &cfg.board.spans {
        if !transcoder::g729_both_ways(&found, s.hal.law) {
            let why = transcoder::TranscoderError::NoG729 { law: transcoder::Format::of_law(s.hal.law), found };
            return Err(board_err(format!(
                "span {}: transcoding = \"hardware\" but {why}: use transcoding = \"software\"",
                s.number
            )));
        }
    }
    Ok(())
}

impl DahdiMedia {
    /// Configures the config's spans on the kernel (our span N is DAHDI span N) and opens every
    /// bearer channel and D-channel. A span with `echo = "hardware"` needs a canceller on the card
    /// (`(EC: VPM...)` on `/proc/dahdi/N`); without one this fails and says so.
    pub fn open(cfg: &Config) -> Result<DahdiMedia, HalError> {
        check_hardware_transcoding(cfg)?;
        let spans: Vec<(u32, hal::SpanConfig)> = cfg.board.spans.iter().map(|s| (s.number, s.hal.clone())).collect();
        let board = DahdiBoard::configure(&cfg.board.model, &spans)?;
        let mut nodes = Vec::new();
        let mut chans = Vec::new();
        let mut dchans = Vec::new();
        // 8 bytes (one chunk) per ms, within what AudioChannel buffers.
        let block = (usize::from(cfg.board.block_ms) * CHUNK).clamp(backend::BLOCK, backend::MAX_BLOCK);
        for s in &cfg.board.spans {
            let span =
                board.dahdi_span(s.number).ok_or_else(|| board_err(format!("DAHDI has no span {}", s.number)))?;
            if s.echo.mode == EchoMode::Hardware && !hal::Span::capabilities(span).hardware_echo_canceller {
                return Err(board_err(format!(
                    "span {}: echo = \"hardware\" but DAHDI span {} has no hardware echo canceller (no \
                     \"(EC: VPM...)\" on /proc/dahdi/{}; is the VPM module fitted and vpmsupport=1?): use \
                     echo mode \"software\" or \"off\"",
                    s.number, s.number, s.number
                )));
            }
            let mut channels = [None; 32];
            for &ts in &s.hal.bchans {
                let channo = span.channo(ts).ok_or_else(|| board_err(format!("span {}: no channel {ts}", s.number)))?;
                let mut ch = AudioChannel::open(channo, ts, s.hal.law)
                    .map_err(|e| HalError::io(format!("open channel {channo} (span {} B{ts})", s.number), e))?;
                ch.set_buffers(NUM_BUFS, block)
                    .map_err(|e| HalError::io(format!("set buffers of channel {channo}"), e))?;
                if s.echo.mode == EchoMode::Hardware {
                    // The card's canceller is attached by its driver; it runs once given taps, as
                    // chan_dahdi enables it (DAHDI_ECHOCANCEL_PARAMS).
                    ch.echo_cancel(u32::from(s.echo.taps))
                        .map_err(|e| HalError::io(format!("enable the hardware echo canceller on {channo}"), e))?;
                }
                if let Some(slot) = channels.get_mut(usize::from(ts)) {
                    *slot = Some(u16::try_from(chans.len()).unwrap_or(u16::MAX));
                }
                let idle = [s.hal.law.idle_code(); CHUNK];
                chans.push(MediaChan { ch, rx: idle, tx: idle, used: Cell::new(NEVER), live: false });
            }
            let d = match s.hal.dchan {
                Some(ts) => {
                    let channo =
                        span.channo(ts).ok_or_else(|| board_err(format!("span {}: no D-channel {ts}", s.number)))?;
                    Some(DChannel::open(channo).map_err(|e| HalError::io(format!("open D-channel {channo}"), e))?)
                }
                None => None,
            };
            dchans.push(d);
            nodes.push(NodeSpan { number: s.number, law: s.hal.law, channels, clock_master: false });
        }
        if chans.is_empty() {
            return Err(board_err("a DAHDI board needs at least one bearer channel to take its timing from".into()));
        }
        // The pace channel is read every tick, so it is live from the start.
        chans[0].live = true;
        Ok(DahdiMedia {
            board,
            spans: nodes,
            chans,
            dchans,
            pace: 0,
            block,
            ticks: 0,
            late_ticks: 0,
            rx_underruns: 0,
            tx_overruns: 0,
        })
    }

    /// Waits for the kernel's next chunk: the second half of a block at once, else the pace
    /// channel's next block (`poll` on its descriptor).
    pub fn wait_tick(&mut self) -> Tick {
        let seq = self.ticks;
        let pace = &mut self.chans[self.pace];
        loop {
            match pace.ch.read_chunk_io(&mut pace.rx) {
                Ok(()) => return Tick { seq, lateness: Duration::ZERO, missed: 0 },
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let mut fds = [PollFd::new(pace.ch.as_fd(), PollFlags::POLLIN | PollFlags::POLLPRI)];
                    match poll(&mut fds, PollTimeout::from(PACE_TIMEOUT_MS)) {
                        // Nothing came: run a tick anyway so the span's status is still reported.
                        Ok(0) => return Tick { seq, lateness: Duration::ZERO, missed: 0 },
                        Ok(_) => {}
                        Err(_) => return Tick { seq, lateness: Duration::ZERO, missed: 0 },
                    }
                }
                // An event was fetched and the channel is otherwise fine; try again.
                Err(_) => return Tick { seq, lateness: Duration::ZERO, missed: 0 },
            }
        }
    }

    /// Counts ticks the thread knows it missed.
    pub fn note_missed_ticks(&mut self, missed: u64) {
        self.late_ticks += missed;
    }

    /// Ticks run so far.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// The span's law at `node`.
    pub fn law(&self, node: usize) -> Law {
        self.spans.get(node).map_or(Law::Alaw, |s| s.law)
    }

    fn index(&self, node: usize, ts: u8) -> Option<usize> {
        self.spans.get(node)?.channels.get(usize::from(ts)).copied().flatten().map(usize::from)
    }

    /// The chunk channel `ts` of `node` received this tick; marks the channel in use.
    pub fn read_chunk(&self, node: usize, ts: u8) -> Chunk {
        match self.index(node, ts) {
            Some(i) => {
                let c = &self.chans[i];
                c.used.set(self.ticks);
                c.rx
            }
            None => [self.law(node).idle_code(); CHUNK],
        }
    }

    /// The chunk to send on channel `ts` of `node` from now on; marks the channel in use.
    pub fn write_chunk(&mut self, node: usize, ts: u8, chunk: &Chunk) {
        if let Some(i) = self.index(node, ts) {
            let c = &mut self.chans[i];
            c.used.set(self.ticks);
            c.tx = *chunk;
        }
    }

    /// One tick of audio on every channel in use: the pace channel was read by `wait_tick`.
    pub fn tick(&mut self) {
        let now = self.ticks;
        for (i, c) in self.chans.iter_mut().enumerate() {
            let used = c.used.get();
            let wanted = i == self.pace || (used != NEVER && now.saturating_sub(used) < IDLE_AFTER);
            if wanted && !c.live {
                // Taken into use: drop what the kernel kept while nobody listened and give the
                // transmitter a cushion of idle blocks.
                let _ = c.ch.flush();
                let idle = [c.tx[0]; CHUNK];
                for _ in 0..PRIME_BLOCKS * (self.block / CHUNK) {
                    let _ = c.ch.write_chunk_io(&idle);
                }
            }
            c.live = wanted;
            if !wanted {
                continue;
            }
            if c.ch.write_chunk_io(&c.tx).is_err() {
                self.tx_overruns += 1;
            }
            if i != self.pace && c.ch.read_chunk_io(&mut c.rx).is_err() {
                self.rx_underruns += 1;
            }
        }
        self.ticks += 1;
    }

    /// `DAHDI_SPANSTAT` of the span at `node`, with the thread's late ticks as IRQ-miss-like
    /// lateness on top of the kernel's own.
    pub fn status(&mut self, node: usize) -> SpanStatus {
        let Some(s) = self.spans.get_mut(node) else { return SpanStatus::default() };
        let mut st = match self.board.dahdi_span(s.number) {
            Some(span) => hal::Span::status(span),
            None => SpanStatus::default(),
        };
        s.clock_master = st.clock_master;
        st.counters.late_ticks += self.late_ticks;
        st
    }

    /// The span DAHDI takes its timing from, if it is one of ours.
    pub fn sync_source(&self) -> SyncSource {
        self.spans.iter().find(|s| s.clock_master).map_or(SyncSource::Internal, |s| SyncSource::Span(s.number))
    }

    /// Board spans.
    pub fn span_count(&self) -> usize {
        self.spans.len()
    }

    /// The node of span `number`.
    pub fn span_index(&self, number: u32) -> Option<usize> {
        self.spans.iter().position(|s| s.number == number)
    }

    /// The event loop's D-channel of the span at `node`.
    pub fn take_dchannel(&mut self, node: usize) -> Option<DChannel> {
        self.dchans.get_mut(node).and_then(Option::take)
    }

    /// Facts about the board (capabilities from the kernel's spans).
    pub fn info(&self) -> BoardInfo {
        self.board.info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(transcoding: &str) -> Config {
        let text = format!(
            "[board]\nmodel = \"te205p\"\nbackend = \"dahdi\"\nkernel_module = \"wct4xxp\"\ntranscoding = \"{transcoding}\"\n"
        );
        provisioning::parse_str("t.toml", &text).expect("valid config")
    }

    #[test]
    fn hardware_transcoding_is_checked_only_when_asked() {
        assert!(check_hardware_transcoding(&cfg("software")).is_ok());
        // This host has no DAHDI (the VM test covers a loaded kernel without a card): the refusal
        // names the key and the device it could not use.
        let present = std::path::Path::new(transcoder::TRANSCODE_DEVICE).exists();
        match check_hardware_transcoding(&cfg("hardware")) {
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains("transcoding = \"hardware\""), "{e}");
                assert!(e.contains("/dev/dahdi/transcode") || present, "{e}");
            }
            Ok(()) => assert!(present, "hardware transcoding passed without /dev/dahdi/transcode"),
        }
    }
}
