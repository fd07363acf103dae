//! The simulated world: every simulated span of a process, the cables between them, and the clock.
//!
//! Clocking follows DAHDI: the healthy span with the lowest non-zero timing priority is the clock
//! master and the whole board runs at the rate recovered from it; with none, the board runs on its
//! own oscillator. A span whose far end runs at another rate slips once every 125 µs of accumulated
//! phase (one E1/T1 frame). Far ends of role `provider` and `exchange` run free at their
//! `drift_ppm`; `pbx` and `phone` far ends are loop-timed from us unless given a drift of their own.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use super::cable::{DchanLine, SocketCable};
use super::fault::FaultConfig;
use super::frame::LineFrame;
use super::line::{FarEndRole, LineSpec};
use super::span::{SimChannel, SimDChannel, SimSpan, SimSpanSpec, SimSpanStatus};
use crate::SpanKind as hal_kind;
use crate::{
    BoardInfo, Capabilities, Chunk, Clock, ErrorKind, HalError, Span, SpanConfig, SyncSource, Termination, Tick,
};

/// A change to the simulated lines, as a technician would make it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SimCommand {
    /// Cuts the direction toward `span`'s receiver (`rx`), away from it (`tx`), or both (the whole
    /// cable pulled). Cuts add up; `Reconnect` heals them.
    Cut { span: u32, rx: bool, tx: bool },
    /// Plugs the span's cable back in, both directions.
    Reconnect { span: u32 },
    /// Makes the span send AIS (unframed all ones) or stop sending it.
    SendAis { span: u32, on: bool },
    /// Replaces the fault injector on the span's receive path.
    SetFault { span: u32, fault: FaultConfig },
    /// Changes the clock offset of the span's simulated far end.
    SetFarDrift { span: u32, ppm: f64 },
    /// Loops the span's line interface back on itself (a local loopback, as `dahdi_maint -l`).
    Loopback { span: u32, on: bool },
}

/// Settings of the whole world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldOptions {
    /// The board model, for [`BoardInfo`].
    pub model: String,
    /// How long a condition must last before an alarm is raised or cleared, in ms.
    pub alarm_debounce_ms: u32,
}

impl Default for WorldOptions {
    fn default() -> WorldOptions {
        WorldOptions { model: "sim".into(), alarm_debounce_ms: 100 }
    }
}

enum Peer {
    Open,
    Local(usize),
    Socket(Box<SocketCable>),
    Dchan(Box<DchanLine>),
}

struct Node {
    span: SimSpan,
    peer: Peer,
    /// For far ends: the index of the board span they face. `None` for the board's own spans.
    far_of: Option<usize>,
    /// For far ends: the clock offset; `None` when loop-timed from the board.
    drift_ppm: Option<f64>,
    role: Option<FarEndRole>,
}

/// Every simulated span of a process and the lines between them.
pub struct World {
    model: String,
    nodes: Vec<Node>,
    /// Our spans are `nodes[..ours]`, sorted by span number.
    ours: usize,
    tx: Vec<LineFrame>,
    dchans: Vec<Option<SimDChannel>>,
    sync: SyncSource,
    /// The board's clock offset in ppm: that of the clock master's far end.
    board_ppm: f64,
    clock: WorldClock,
    ticks: u64,
}

impl World {
    /// Builds the world for a board's spans, creating the far ends and opening cable sockets.
    pub fn new(opts: &WorldOptions, specs: &[SimSpanSpec]) -> Result<World, HalError> {
        let mut specs: Vec<&SimSpanSpec> = specs.iter().collect();
        specs.sort_by_key(|s| s.number);
        for w in specs.windows(2) {
            if w[0].number == w[1].number {
                return Err(HalError::new(
                    ErrorKind::InvalidConfig,
                    format!("build sim board: span {} defined twice", w[0].number),
                ));
            }
        }
        let deb = opts.alarm_debounce_ms;
        let mut nodes = Vec::new();
        let mut dchans = Vec::new();
        for s in &specs {
            let (span, theirs) = SimSpan::new(s.number, s.config.clone(), s.fault, deb)
                .map_err(|e| HalError::io(format!("create span {} D-channel", s.number), e))?;
            dchans.push(theirs);
            nodes.push(Node { span, peer: Peer::Open, far_of: None, drift_ppm: None, role: None });
        }
        let ours = nodes.len();
        let index_of = |n: u32| specs.iter().position(|s| s.number == n);
        for (i, s) in specs.iter().enumerate() {
            let op = |what: &str| format!("build sim span {}: {what}", s.number);
            match &s.line {
                LineSpec::Open => {}
                LineSpec::Span(n) => {
                    let j = index_of(*n).ok_or_else(|| {
                        HalError::new(ErrorKind::NoSuchSpan, op(&format!("cable to missing span {n}")))
                    })?;
                    let back_ok = match &specs[j].line {
                        LineSpec::Span(m) => *m == s.number,
                        LineSpec::Open => true,
                        _ => false,
                    };
                    // The far span may already be cabled, by its own spec or by a third span's.
                    let free = match nodes[j].peer {
                        Peer::Open => true,
                        Peer::Local(k) => k == i,
                        _ => false,
                    };
                    if j == i || !back_ok || !free {
                        return Err(HalError::new(
                            ErrorKind::InvalidConfig,
                            op(&format!("span {n} is already cabled elsewhere")),
                        ));
                    }
                    nodes[i].peer = Peer::Local(j);
                    nodes[j].peer = Peer::Local(i);
                }
                LineSpec::FarEnd { role, drift_ppm } => {
                    let mut cfg: SpanConfig = s.config.clone();
                    cfg.termination = match cfg.termination {
                        Termination::Te => Termination::Nt,
                        Termination::Nt => Termination::Te,
                    };
                    cfg.timing = 0;
                    // The phone on an FXS port behaves as an FXO device and vice versa.
                    cfg.kind = match cfg.kind {
                        hal_kind::Fxs => hal_kind::Fxo,
                        hal_kind::Fxo => hal_kind::Fxs,
                        k => k,
                    };
                    let (span, theirs) = SimSpan::new(s.number, cfg, FaultConfig::default(), deb)
                        .map_err(|e| HalError::io(op("create far-end D-channel"), e))?;
                    dchans.push(theirs);
                    let free_running = matches!(role, FarEndRole::Provider | FarEndRole::Exchange);
                    nodes.push(Node {
                        span,
                        peer: Peer::Local(i),
                        far_of: Some(i),
                        drift_ppm: (free_running || *drift_ppm != 0.0).then_some(*drift_ppm),
                        role: Some(*role),
                    });
                    let far = nodes.len() - 1;
                    nodes[i].peer = Peer::Local(far);
                }
                LineSpec::Listen(p) => {
                    nodes[i].peer = Peer::Socket(Box::new(SocketCable::listen(p)?));
                }
                LineSpec::Connect(p) => {
                    nodes[i].peer = Peer::Socket(Box::new(SocketCable::connect(p)));
                }
                LineSpec::DchanSocket(p) => {
                    let line = DchanLine::bind(p, &s.config)?;
                    nodes[i].peer = Peer::Dchan(Box::new(line));
                }
            }
        }
        let n = nodes.len();
        Ok(World {
            model: opts.model.clone(),
            nodes,
            ours,
            tx: vec![LineFrame::default(); n],
            dchans,
            sync: SyncSource::Internal,
            board_ppm: 0.0,
            clock: WorldClock::new(),
            ticks: 0,
        })
    }

    /// The index of board span `number`, for the fast per-tick accessors.
    pub fn span_index(&self, number: u32) -> Option<usize> {
        self.nodes[..self.ours].iter().position(|n| n.span.number == number)
    }

    /// The index of the simulated far end that board span `number` is cabled to.
    pub fn far_end_index(&self, number: u32) -> Option<usize> {
        let i = self.span_index(number)?;
        self.nodes.iter().position(|n| n.far_of == Some(i))
    }

    /// The role of the far end at `index`, if it is one.
    pub fn far_end_role(&self, index: usize) -> Option<FarEndRole> {
        self.nodes.get(index).and_then(|n| n.role)
    }

    /// Gives the simulated far end facing board span `number` a hybrid that returns `path`'s echo
    /// on every bearer channel (allocated here, before the media loop runs).
    pub fn set_echo_path(&mut self, number: u32, path: super::EchoPath) -> Result<(), HalError> {
        let far = self.far_end_index(number).ok_or_else(|| {
            HalError::new(ErrorKind::InvalidConfig, format!("echo path on span {number}: no simulated far end"))
        })?;
        let span = &mut self.nodes[far].span;
        span.hybrid = Some(Box::new(super::hybrid::Hybrid::new(path, &span.config.bchans)));
        Ok(())
    }

    /// Takes the event loop's end of the D-channel of the span (or far end) at `index`.
    pub fn take_dchannel(&mut self, index: usize) -> Option<SimDChannel> {
        self.dchans.get_mut(index).and_then(Option::take)
    }

    /// The chunk received on channel `ts` of the span at `index` during the last tick.
    pub fn read_chunk(&self, index: usize, ts: u8) -> Chunk {
        self.nodes[index].span.read_chunk(ts)
    }

    /// The chunk to send on channel `ts` of the span at `index` during the next tick.
    pub fn write_chunk(&mut self, index: usize, ts: u8, chunk: &Chunk) {
        self.nodes[index].span.write_chunk(ts, chunk);
    }

    /// Channel `ts` of the span at `index`, for the media thread's per-tick I/O; `None` when the
    /// span does not carry that channel. (No `HalError` here: building one allocates, and the media
    /// thread must not.)
    pub fn channel(&mut self, index: usize, ts: u8) -> Option<SimChannel<'_>> {
        let node = self.nodes.get_mut(index)?;
        let (lo, hi) = node.span.config.kind.channel_range();
        (lo..=hi).contains(&ts).then_some(SimChannel { span: &mut node.span, ts })
    }

    /// The span (board span or far end) at `index`.
    pub fn span_at(&self, index: usize) -> &dyn Span {
        &self.nodes[index].span
    }

    /// Line facts of the span at `index`.
    pub fn sim_status(&self, index: usize) -> SimSpanStatus {
        self.nodes[index].span.sim
    }

    /// Number of nodes (board spans first, then far ends).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Ticks run so far.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Records ticks the host missed (woke too late to run them), on every board span.
    pub fn note_missed_ticks(&mut self, missed: u64) {
        for n in &mut self.nodes[..self.ours] {
            n.span.status.counters.late_ticks += missed;
        }
    }

    /// Applies a line change; an unknown span is an error.
    pub fn apply(&mut self, cmd: SimCommand) -> Result<(), HalError> {
        let span = match cmd {
            SimCommand::Cut { span, .. }
            | SimCommand::Reconnect { span }
            | SimCommand::SendAis { span, .. }
            | SimCommand::SetFault { span, .. }
            | SimCommand::SetFarDrift { span, .. }
            | SimCommand::Loopback { span, .. } => span,
        };
        let i = self
            .span_index(span)
            .ok_or_else(|| HalError::new(ErrorKind::NoSuchSpan, format!("sim command on span {span}")))?;
        match cmd {
            SimCommand::Cut { rx, tx, .. } => {
                let s = &mut self.nodes[i].span.sim;
                s.rx_cut |= rx;
                s.tx_cut |= tx;
            }
            SimCommand::Reconnect { .. } => {
                // Plugging a cable back in heals both of its ends, whichever end was cut.
                let peer = match self.nodes[i].peer {
                    Peer::Local(j) => Some(j),
                    _ => None,
                };
                for k in std::iter::once(i).chain(peer) {
                    let s = &mut self.nodes[k].span.sim;
                    s.rx_cut = false;
                    s.tx_cut = false;
                }
            }
            SimCommand::SendAis { on, .. } => self.nodes[i].span.sim.sending_ais = on,
            SimCommand::Loopback { on, .. } => {
                let span = &mut self.nodes[i].span;
                span.sim.loopback = on;
                span.status.alarms.loopback = on;
            }
            SimCommand::SetFault { fault, .. } => {
                self.nodes[i].span.fault = super::fault::FaultInjector::new(fault);
            }
            SimCommand::SetFarDrift { ppm, .. } => {
                let far = self.far_end_index(span).ok_or_else(|| {
                    HalError::new(ErrorKind::Unsupported, format!("span {span} has no simulated far end"))
                })?;
                self.nodes[far].drift_ppm = Some(ppm);
            }
        }
        Ok(())
    }

    /// The clock offset (ppm) of the transmitter at `index`.
    fn rate_ppm(&self, index: usize, board_ppm: f64) -> f64 {
        let n = &self.nodes[index];
        match (n.far_of, n.drift_ppm) {
            (Some(_), Some(ppm)) => ppm,
            _ => board_ppm,
        }
    }

    fn select_clock(&mut self) -> f64 {
        let mut best: Option<(u8, u32, usize)> = None;
        for (i, n) in self.nodes[..self.ours].iter().enumerate() {
            let c = &n.span.config;
            let st = &n.span.status;
            if c.timing == 0 || !st.alarms.can_time() {
                continue;
            }
            let key = (c.timing, n.span.number, i);
            if best.is_none_or(|b| (key.0, key.1) < (b.0, b.1)) {
                best = Some(key);
            }
        }
        for n in &mut self.nodes[..self.ours] {
            n.span.status.clock_master = false;
        }
        match best {
            Some((_, number, i)) => {
                self.sync = SyncSource::Span(number);
                self.nodes[i].span.status.clock_master = true;
                match self.nodes[i].peer {
                    Peer::Local(j) if self.nodes[j].far_of.is_some() => self.nodes[j].drift_ppm.unwrap_or(0.0),
                    _ => 0.0,
                }
            }
            None => {
                self.sync = SyncSource::Internal;
                0.0
            }
        }
    }

    /// Runs one millisecond of line time: every span transmits, every cable carries, every span
    /// receives. Allocates nothing.
    pub fn tick(&mut self) {
        self.ticks += 1;
        let board_ppm = self.board_ppm;
        for i in 0..self.nodes.len() {
            let (node, tx) = (&mut self.nodes[i], &mut self.tx[i]);
            node.span.transmit(tx);
            let tx_cut = node.span.sim.tx_cut;
            match &mut node.peer {
                Peer::Socket(c) => c.pump(tx, node.span.live_len(), tx_cut),
                Peer::Dchan(d) => {
                    if !tx_cut {
                        d.forward_span_tx(tx);
                    }
                }
                Peer::Open | Peer::Local(_) => {}
            }
        }
        for i in 0..self.nodes.len() {
            let my_rate = self.rate_ppm(i, board_ppm);
            let (mut frame, mut slipped, peer_rate) = match &mut self.nodes[i].peer {
                Peer::Open => (None, false, my_rate),
                Peer::Local(j) => {
                    let j = *j;
                    let ok = !self.nodes[i].span.sim.rx_cut && !self.nodes[j].span.sim.tx_cut;
                    (ok.then_some(self.tx[j]), false, self.rate_ppm(j, board_ppm))
                }
                Peer::Socket(c) => match c.take() {
                    Some((f, slip)) => (Some(f), slip, my_rate),
                    None => (None, false, my_rate),
                },
                Peer::Dchan(d) => (Some(d.next_rx_frame()), false, my_rate),
            };
            // A looped span hears itself; its far end hears nothing (the line is disconnected).
            if self.nodes[i].span.sim.loopback {
                frame = Some(self.tx[i]);
            } else if let Peer::Local(j) = self.nodes[i].peer {
                if self.nodes[j].span.sim.loopback {
                    frame = None;
                }
            }
            let node = &mut self.nodes[i];
            if node.span.sim.rx_cut && !node.span.sim.loopback {
                frame = None;
            }
            if let Some(f) = frame.as_mut() {
                let len = node.span.live_len();
                let inj = node.span.fault.apply(f, len);
                if inj.lost {
                    frame = None;
                } else if inj.slip {
                    slipped = true;
                }
            }
            if frame.is_some() {
                // One ppm of rate difference moves the phase by 1 ns per millisecond.
                node.span.slip_phase_ns += peer_rate - my_rate;
                if node.span.slip_phase_ns.abs() >= 125_000.0 {
                    node.span.slip_phase_ns = 0.0;
                    slipped = true;
                }
            }
            node.span.receive(frame.as_ref(), slipped && frame.is_some());
        }
        // The clock follows the alarms as they stand at the end of this millisecond.
        self.board_ppm = self.select_clock();
    }

    /// Runs ticks back to back without waiting for the clock (tests and benchmarks).
    pub fn run_ticks(&mut self, n: u64) {
        for _ in 0..n {
            self.tick();
        }
    }
}

impl crate::Board for World {
    fn info(&self) -> BoardInfo {
        BoardInfo {
            model: self.model.clone(),
            backend: "sim",
            capabilities: Capabilities {
                hardware_hdlc: true,
                nt_mode: true,
                fault_injection: true,
                ..Capabilities::default()
            },
        }
    }

    fn span_count(&self) -> usize {
        self.ours
    }

    fn span(&self, number: u32) -> Option<&dyn Span> {
        self.span_index(number).map(|i| &self.nodes[i].span as &dyn Span)
    }
}

impl Clock for World {
    fn wait_tick(&mut self) -> Result<Tick, HalError> {
        Ok(self.clock.wait())
    }

    fn sync_source(&self) -> SyncSource {
        self.sync
    }
}

/// A 1 ms ticker on the monotonic clock, with absolute deadlines so wake-up jitter never
/// accumulates into drift.
#[derive(Debug)]
pub struct WorldClock {
    next: Instant,
    seq: u64,
}

const MS: Duration = Duration::from_millis(1);

impl WorldClock {
    /// A clock whose first tick is due one millisecond from now.
    pub fn new() -> WorldClock {
        WorldClock { next: Instant::now() + MS, seq: 0 }
    }

    /// Sleeps until the next deadline; reports lateness and whole deadlines missed, and moves
    /// the next deadline past them.
    pub fn wait(&mut self) -> Tick {
        let now = Instant::now();
        if now < self.next {
            std::thread::sleep(self.next - now);
        }
        let woke = Instant::now();
        let lateness = woke.saturating_duration_since(self.next);
        // Lateness is far below u32::MAX milliseconds.
        let missed = u32::try_from(lateness.as_millis()).unwrap_or(u32::MAX);
        self.seq += 1 + u64::from(missed);
        self.next += MS * (1 + missed);
        Tick { seq: self.seq, lateness, missed }
    }
}

impl Default for WorldClock {
    fn default() -> WorldClock {
        WorldClock::new()
    }
}

/// Removes a stale socket file left by an earlier run, but nothing else.
pub(crate) fn remove_stale_socket(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path),
        Ok(_) => {
            Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} exists and is not a socket", path.display())))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
