//! One simulated span: its transmitter, its receiver with alarm detection, and its D-channel.
//!
//! The receiver follows what framers on real cards do: a missing signal for the debounce time
//! raises RED (and the transmitter then sends RAI so the far end goes YELLOW), all ones raises
//! BLUE, and each alarm clears only after the debounce time of good signal.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use super::fault::{FaultConfig, FaultInjector};
use super::frame::{crc4, live_len, LineFrame, FLAG_AIS, FLAG_BATTERY, FLAG_RAI};
use super::hdlc::{HdlcDecoder, HdlcEncoder, HdlcError};
use super::line::LineSpec;
use crate::{Capabilities, Chunk, Framing, HalError, Span, SpanConfig, SpanKind, SpanStatus, CHUNK, MAX_HDLC_FRAME};

/// How a simulated span is built.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSpanSpec {
    /// Span number on the board, 1-based.
    pub number: u32,
    /// Name shown on the status page.
    pub name: String,
    pub config: SpanConfig,
    pub line: LineSpec,
    pub fault: FaultConfig,
}

/// Simulation-only facts about a span's line, for the status page and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimSpanStatus {
    /// A signal arrived during the last tick.
    pub signal: bool,
    /// The direction toward this span is cut.
    pub rx_cut: bool,
    /// The direction away from this span is cut.
    pub tx_cut: bool,
    /// The span is made to send AIS.
    pub sending_ais: bool,
    /// The line interface is looped back: the span receives what it sends, and the far end
    /// receives nothing.
    pub loopback: bool,
}

/// A simulated span inside a [`super::World`].
pub(crate) struct SimSpan {
    pub(crate) number: u32,
    pub(crate) config: SpanConfig,
    pub(crate) status: SpanStatus,
    pub(crate) sim: SimSpanStatus,
    /// What the media side wants to send next tick (bearer chunks; the D timeslot is overwritten).
    pub(crate) tx: LineFrame,
    /// What arrived during the last tick.
    pub(crate) rx: LineFrame,
    pub(crate) fault: FaultInjector,
    /// Clock domain offset in ppm of this span's transmitter, relative to nominal.
    pub(crate) slip_phase_ns: f64,
    hdlc_tx: HdlcEncoder,
    hdlc_rx: HdlcDecoder,
    /// Our end of the D-channel socketpair; the event loop holds the other end.
    dchan: Option<UnixDatagram>,
    /// Frames the event loop has queued on the socketpair and we have not read yet, so an idle
    /// D-channel costs no system call per tick.
    queued: Arc<AtomicU32>,
    debounce_ms: u32,
    los_ms: u32,
    ais_ms: u32,
    rai_ms: u32,
    good_ms: u32,
    no_rai_ms: u32,
    /// Scratch for one D-channel frame (preallocated: the tick must not allocate).
    scratch: Box<[u8; MAX_HDLC_FRAME + 2]>,
    /// A far end's line echo (see `hybrid`), mixed into the bearer channels it sends.
    pub(crate) hybrid: Option<Box<super::hybrid::Hybrid>>,
}

impl SimSpan {
    pub(crate) fn new(
        number: u32,
        config: SpanConfig,
        fault: FaultConfig,
        debounce_ms: u32,
    ) -> io::Result<(SimSpan, Option<SimDChannel>)> {
        let (ours, theirs) = if config.dchan.is_some() {
            let (a, b) = UnixDatagram::pair()?;
            a.set_nonblocking(true)?;
            b.set_nonblocking(true)?;
            (Some(a), Some(b))
        } else {
            (None, None)
        };
        let queued = Arc::new(AtomicU32::new(0));
        let theirs = theirs.map(|sock| SimDChannel { span: number, sock, queued: Arc::clone(&queued) });
        let mut tx = LineFrame::default();
        fill_idle(&mut tx, &config);
        let span = SimSpan {
            number,
            // A framer starts out of alignment: RED until the debounce time of good signal.
            status: SpanStatus {
                running: true,
                alarms: crate::Alarms { red: true, ..crate::Alarms::default() },
                ..SpanStatus::default()
            },
            sim: SimSpanStatus::default(),
            rx: tx,
            tx,
            config,
            fault: FaultInjector::new(fault),
            slip_phase_ns: 0.0,
            hdlc_tx: HdlcEncoder::new(),
            hdlc_rx: HdlcDecoder::new(),
            dchan: ours,
            queued,
            debounce_ms: debounce_ms.max(1),
            los_ms: 0,
            ais_ms: 0,
            rai_ms: 0,
            good_ms: 0,
            no_rai_ms: 0,
            scratch: Box::new([0; MAX_HDLC_FRAME + 2]),
            hybrid: None,
        };
        Ok((span, theirs))
    }

    pub(crate) fn live_len(&self) -> usize {
        live_len(self.config.kind)
    }

    fn crc_checked(&self) -> bool {
        match self.config.kind {
            SpanKind::E1 => self.config.crc4,
            SpanKind::T1 => self.config.framing == Framing::Esf,
            _ => false,
        }
    }

    /// Builds this tick's transmitted frame into `out`.
    pub(crate) fn transmit(&mut self, out: &mut LineFrame) {
        *out = self.tx;
        if self.sim.sending_ais {
            out.make_ais();
            return;
        }
        out.flags = 0;
        // Before the D-channel and the CRC: the echo is part of the bearer signal on the line.
        if let Some(h) = self.hybrid.as_mut() {
            h.mix(self.config.law, &self.rx, out);
        }
        if let Some(d) = self.config.dchan {
            self.fill_dchannel(out, d);
        }
        if self.config.kind.is_digital() {
            // G.775: a receiver in loss of signal or receiving AIS tells the far end with RAI.
            if self.status.alarms.red || self.status.alarms.blue {
                out.flags |= FLAG_RAI;
            }
        } else if self.config.kind == SpanKind::Fxo {
            // Our FXO port is the phone side of an exchange line; it sends no line state of its
            // own until hook signalling arrives in a later step.
        } else {
            out.flags |= FLAG_BATTERY;
        }
        if self.crc_checked() {
            let len = self.live_len();
            out.payload[0] = crc4(&out.payload[CHUNK..len]);
        }
    }

    fn fill_dchannel(&mut self, out: &mut LineFrame, d: u8) {
        // Acquire pairs with the Release in `SimDChannel::send_frame`: a non-zero count means the
        // datagram is already in the socket.
        if self.hdlc_tx.is_idle() && self.queued.load(Ordering::Acquire) > 0 {
            if let Some(sock) = &self.dchan {
                if let Ok(n) = sock.recv(&mut self.scratch[..]) {
                    // Relaxed: only this thread decrements, and the datagram itself is the data.
                    self.queued.fetch_sub(1, Ordering::Relaxed);
                    if self.hdlc_tx.load(&self.scratch[..n]).is_ok() {
                        self.status.counters.hdlc_tx_frames += 1;
                    }
                }
            }
        }
        let n = self.config.kind.dchan_octets_per_ms();
        let at = usize::from(d) * CHUNK;
        self.hdlc_tx.fill(&mut out.payload[at..at + n]);
    }

    /// Takes this tick's received signal (`None`: no signal at all). `slipped` says the elastic
    /// store slipped this millisecond; the framer checks the CRC before the store, so a slip costs
    /// audio but never a CRC error.
    pub(crate) fn receive(&mut self, frame: Option<&LineFrame>, slipped: bool) {
        self.sim.signal = frame.is_some();
        match frame {
            None => {
                self.los_ms = self.los_ms.saturating_add(1);
                self.ais_ms = 0;
                self.good_ms = 0;
                self.hdlc_rx.reset();
                self.rx.payload.fill(0xFF);
            }
            Some(f) if f.flags & FLAG_AIS != 0 => {
                self.ais_ms = self.ais_ms.saturating_add(1);
                self.los_ms = 0;
                self.good_ms = 0;
                self.hdlc_rx.reset();
                self.rx.payload.fill(0xFF);
            }
            Some(f) => {
                self.los_ms = 0;
                self.ais_ms = 0;
                self.good_ms = self.good_ms.saturating_add(1);
                if f.flags & FLAG_RAI != 0 {
                    self.rai_ms = self.rai_ms.saturating_add(1);
                    self.no_rai_ms = 0;
                } else {
                    self.no_rai_ms = self.no_rai_ms.saturating_add(1);
                    self.rai_ms = 0;
                }
                self.rx = *f;
                if self.crc_checked() {
                    let len = self.live_len();
                    if crc4(&f.payload[CHUNK..len]) != f.payload[0] & 0x0F {
                        self.status.counters.crc_errors += 1;
                    }
                }
                if slipped {
                    SimSpan::slip(&mut self.rx);
                    self.status.counters.slips += 1;
                }
                if let Some(d) = self.config.dchan {
                    self.drain_dchannel(d);
                }
            }
        }
        self.update_alarms();
    }

    fn drain_dchannel(&mut self, d: u8) {
        let n = self.config.kind.dchan_octets_per_ms();
        let at = usize::from(d) * CHUNK;
        let mut octets = [0u8; CHUNK];
        octets[..n].copy_from_slice(&self.rx.payload[at..at + n]);
        let counters = &mut self.status.counters;
        let sock = &self.dchan;
        self.hdlc_rx.feed(&octets[..n], &mut |r| match r {
            Ok(frame) => {
                counters.hdlc_rx_frames += 1;
                if let Some(s) = sock {
                    if s.send(frame).is_err() {
                        counters.hdlc_overruns += 1;
                    }
                }
            }
            Err(HdlcError::BadFcs | HdlcError::TooShort) => counters.fcs_errors += 1,
            Err(HdlcError::Abort | HdlcError::TooLong) => counters.hdlc_aborts += 1,
        });
    }

    fn update_alarms(&mut self) {
        let deb = self.debounce_ms;
        let a = &mut self.status.alarms;
        if self.los_ms >= deb {
            a.red = true;
            a.blue = false;
        }
        if self.ais_ms >= deb {
            a.blue = true;
            a.red = false;
        }
        if self.good_ms >= deb {
            a.red = false;
            a.blue = false;
        }
        if !self.config.kind.is_digital() {
            a.yellow = false;
            return;
        }
        if self.rai_ms >= deb {
            a.yellow = true;
        }
        if self.no_rai_ms >= deb || a.red || a.blue {
            a.yellow = false;
        }
    }

    /// Applies a controlled slip to the received frame: one 125 µs frame is repeated, so every
    /// timeslot (the D-channel included) sees its samples shifted by one.
    pub(crate) fn slip(frame: &mut LineFrame) {
        for ch in frame.payload.chunks_exact_mut(CHUNK) {
            ch.copy_within(0..CHUNK - 1, 1);
        }
    }

    pub(crate) fn read_chunk(&self, ts: u8) -> Chunk {
        *self.rx.chunk(ts)
    }

    pub(crate) fn write_chunk(&mut self, ts: u8, chunk: &Chunk) {
        *self.tx.chunk_mut(ts) = *chunk;
    }

    pub(crate) fn reset_alarm_timers(&mut self) {
        self.los_ms = 0;
        self.ais_ms = 0;
        self.rai_ms = 0;
        self.good_ms = 0;
        self.no_rai_ms = 0;
    }
}

fn fill_idle(frame: &mut LineFrame, config: &SpanConfig) {
    let idle = config.law.idle_code();
    let len = live_len(config.kind);
    frame.payload[CHUNK..len].fill(idle);
}

impl Span for SimSpan {
    fn number(&self) -> u32 {
        self.number
    }

    fn config(&self) -> &SpanConfig {
        &self.config
    }

    fn configure(&mut self, config: &SpanConfig) -> Result<(), HalError> {
        if config.kind != self.config.kind {
            return Err(HalError::new(
                crate::ErrorKind::InvalidConfig,
                format!("reconfigure span {} from {} to {}", self.number, self.config.kind, config.kind),
            ));
        }
        if config.dchan.is_some() != self.config.dchan.is_some() {
            return Err(HalError::new(
                crate::ErrorKind::Unsupported,
                format!("add or remove the D-channel of running span {}", self.number),
            ));
        }
        self.config = config.clone();
        fill_idle(&mut self.tx, &self.config);
        // A real framer re-acquires alignment after a change: start the debounce afresh.
        self.reset_alarm_timers();
        Ok(())
    }

    fn status(&self) -> SpanStatus {
        self.status
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            hardware_echo_canceller: false,
            hardware_hdlc: true,
            nt_mode: matches!(self.config.kind, SpanKind::Bri | SpanKind::E1 | SpanKind::T1),
            loopback: false,
            fault_injection: true,
            transcoder: false,
        }
    }
}

/// One bearer channel of a simulated span, borrowed from the world for one tick's I/O.
pub struct SimChannel<'a> {
    pub(crate) span: &'a mut SimSpan,
    pub(crate) ts: u8,
}

impl crate::Channel for SimChannel<'_> {
    fn timeslot(&self) -> u8 {
        self.ts
    }

    fn read_chunk(&mut self, out: &mut Chunk) -> Result<(), HalError> {
        *out = self.span.read_chunk(self.ts);
        Ok(())
    }

    fn write_chunk(&mut self, chunk: &Chunk) -> Result<(), HalError> {
        self.span.write_chunk(self.ts, chunk);
        Ok(())
    }
}

/// The event loop's end of a simulated D-channel: whole frames on a datagram socketpair, like a
/// DAHDI HDLC channel's file descriptor.
#[derive(Debug)]
pub struct SimDChannel {
    span: u32,
    sock: UnixDatagram,
    queued: Arc<AtomicU32>,
}

impl SimDChannel {
    /// The span this D-channel belongs to.
    pub fn span(&self) -> u32 {
        self.span
    }
}

impl std::os::fd::AsRawFd for SimDChannel {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.sock.as_raw_fd()
    }
}

impl crate::DChannel for SimDChannel {
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), HalError> {
        if frame.is_empty() || frame.len() > MAX_HDLC_FRAME {
            return Err(HalError::new(
                crate::ErrorKind::BadFrame,
                format!("send {}-octet frame on span {} D-channel", frame.len(), self.span),
            ));
        }
        match self.sock.send(frame) {
            Ok(_) => {
                // Release: the span's Acquire load that sees this count also sees the datagram.
                self.queued.fetch_add(1, Ordering::Release);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                Err(HalError::new(crate::ErrorKind::WouldBlock, format!("send on span {} D-channel", self.span)))
            }
            Err(e) => Err(HalError::io(format!("send on span {} D-channel", self.span), e)),
        }
    }

    fn recv_frame(&mut self, buf: &mut [u8]) -> Result<Option<usize>, HalError> {
        match self.sock.recv(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(HalError::io(format!("receive on span {} D-channel", self.span), e)),
        }
    }
}
