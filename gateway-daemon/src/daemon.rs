//! The event loop: one mio poll over signals, the media thread's waker, HTTP commands and the
//! D-channels; it owns every socket and the clock, and publishes snapshots for the HTTP side.
//!
//! Architecture invariant: this is the only thread that changes signalling state. The poll timeout
//! is the nearest deadline of everything the loop drives: the next snapshot and every D-channel
//! stack's `poll_timeout()`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use hal::sim::{SimCommand, SimSpanStatus};
use hal::{DChannel, SpanStatus, MAX_HDLC_FRAME};
use log::{info, warn};
use media_dsp::ring::{ring, Consumer, Producer};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use provisioning::Config;

use crate::board;
use crate::ha::runtime::{Runtime as HaRuntime, SpanAction};
use crate::http::{ApiCommand, ApiReply, ApiRequest, CallOp, HttpServer, Published};
use crate::isdn::calls::{self, far_end_q931_config, q931_config};
use crate::isdn::dchan::{far_end_config, q921_config, DchanStack};
use crate::isdn::q931::RestartTarget;
use crate::isdn::CallId;
use crate::media::{MediaCmd, MediaEvent, MediaThread, Timing};
use crate::media_board::BoardDChannel;
use crate::sipnet::{SipNet, RTP_TOKENS};
use crate::status::{
    AlarmSnap, BoardSnap, ChannelSnap, CounterSnap, EchoSnap, IsdnSnap, MediaSnap, SimSnap, SipSnap, Snapshot,
    SpanSnap, SwitchSnap,
};
use crate::switch::{ConfigPlan, DaemonLegs, Switch};

mod apply;

const SIGNAL: Token = Token(0);
const WAKE: Token = Token(1);
const HA: Token = Token(2);
const SIP: Token = Token(3);
/// D-channel tokens are `DCHAN_BASE + node index`.
const DCHAN_BASE: usize = 16;
const PUBLISH_EVERY: Duration = Duration::from_millis(100);

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides `[http] listen`.
    pub http: Option<SocketAddr>,
    /// `--test-hooks`: accept `POST /api/v1/test/...` (the media-thread stall); never in service.
    pub test_hooks: bool,
    /// Overrides `[sip] listen`: UDP there, and TCP on the same port (tests run many daemons side
    /// by side).
    pub sip: Option<SocketAddr>,
}

/// Why the daemon stopped with an error.
#[derive(Debug)]
pub struct DaemonError(pub String);

impl std::fmt::Display for DaemonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DaemonError {}

fn err(what: &str) -> impl FnOnce(std::io::Error) -> DaemonError + '_ {
    move |e| DaemonError(format!("{what}: {e}"))
}

/// Blocks SIGINT and SIGTERM in the calling thread (and every thread it spawns later) so they are
/// only ever received through the event loop's signalfd.
fn block_signals() -> Result<SignalFd, DaemonError> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGINT);
    mask.add(Signal::SIGTERM);
    // SIGHUP reloads the config file, as daemons do.
    mask.add(Signal::SIGHUP);
    mask.thread_block().map_err(|e| DaemonError(format!("block signals: {e}")))?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| DaemonError(format!("create signalfd: {e}")))
}

struct SpanView {
    node: usize,
    status: SpanStatus,
    sim: SimSpanStatus,
    reported: bool,
}

struct Pending {
    /// Where a capture's audio goes; plays are answered when they start.
    reply: Option<Sender<ApiReply>>,
    node: usize,
    ts: u8,
    capture: bool,
}

/// The event loop's state.
struct EventLoop {
    cfg: Config,
    started: Instant,
    spans: Vec<SpanView>,
    timing: Timing,
    far_nodes: HashMap<u32, usize>,
    /// D-channels of spans without ISDN signalling, by node: drained and dropped.
    dchans: Vec<(usize, BoardDChannel)>,
    /// The ISDN stacks by node: our ISDN spans and the simulated far ends facing them.
    stacks: Vec<(usize, DchanStack<BoardDChannel>)>,
    cmds: Producer<MediaCmd>,
    events: Consumer<MediaEvent>,
    api: Receiver<ApiRequest>,
    pending: HashMap<u64, Pending>,
    next_id: u64,
    published: Published,
    last_sync: Option<Option<u32>>,
    /// Channels with an echo canceller, as (node, timeslot).
    echo_channels: Vec<(usize, u8)>,
    /// The last statistics of each active canceller, by (node, timeslot); dropped when the
    /// channel's last operation ends.
    echo: HashMap<(usize, u8), media_dsp::echo::Stats>,
    /// Calls between legs, and the dial plan it routes them by.
    switch: Switch,
    plan: ConfigPlan,
    /// Span number of each of our own spans, by board node.
    span_of_node: HashMap<usize, u32>,
    /// Each span's call-progress tone zone, by board node.
    tone_zones: HashMap<usize, &'static media_dsp::tones::Zone>,
    /// The SIP side (`[sip] listen`), and the SIP legs we answered.
    sip: Option<SipNet>,
    sip_answered: std::collections::HashSet<crate::sip::ua::Handle>,
    /// High availability: activates and deactivates our spans as the node holds the lines.
    ha: Option<HaRuntime>,
    /// The config's revision, reloads and replication to or from the HA peer.
    conf: crate::config_state::ConfigState,
    /// `--test-hooks`.
    test_hooks: bool,
}

/// Runs the appliance described by `cfg` until SIGINT or SIGTERM.
pub fn run(cfg: Config, opts: &RunOptions) -> Result<(), DaemonError> {
    let mut sigfd = block_signals()?;
    let mut world = board::build(&cfg).map_err(|e| DaemonError(e.to_string()))?;
    let info = world.info();
    info!(
        "board {} ({}, {} backend): {} span(s) from {}",
        cfg.board.name,
        info.model,
        info.backend,
        world.span_count(),
        cfg.file
    );

    let mut poll = Poll::new().map_err(err("create poll"))?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).map_err(err("create waker"))?);
    poll.registry()
        .register(&mut SourceFd(&sigfd.as_raw_fd()), SIGNAL, Interest::READABLE)
        .map_err(err("register signalfd"))?;

    let plan = ConfigPlan::new(&cfg);
    let tone_zones = crate::switch::tone_zones(&cfg, |n| world.span_index(n));
    let mut span_of_node = HashMap::new();
    let mut spans = Vec::new();
    let mut far_nodes = HashMap::new();
    let mut dchans = Vec::new();
    let mut stacks = Vec::new();
    for s in &cfg.board.spans {
        let node = world.span_index(s.number).expect("every configured span is on the board");
        span_of_node.insert(node, s.number);
        spans.push(SpanView { node, status: SpanStatus::default(), sim: SimSpanStatus::default(), reported: false });
        let far = world.far_end_index(s.number);
        if let Some(far) = far {
            far_nodes.insert(s.number, far);
        }
        // An ISDN span gets a stack, and so does the simulated provider or PBX facing it, so that
        // the built-in board runs layer 2 against a real peer with no outside help.
        let (Some(q921), Some(q931)) = (q921_config(s), q931_config(s)) else { continue };
        if let Some(d) = world.take_dchannel(node) {
            let label = format!("span {}", s.number);
            let mut stack =
                DchanStack::new(label, d, q921, q931, s.incoming, s.pcap.as_deref()).map_err(DaemonError)?;
            stack.set_layer1_presence(s.layer1_presence);
            let overlap =
                matches!(s.overlapdial, provisioning::OverlapDial::Incoming | provisioning::OverlapDial::Both);
            let routed = plan.routes_from(s.number);
            stack.with_calls(Instant::now(), |c| {
                c.set_overlap_receiving(overlap);
                c.set_routed(routed);
            });
            stacks.push((node, stack));
        }
        // The simulated provider or PBX answers every call, so a call placed on the built-in
        // board reaches ACTIVE with no outside peer.
        if let Some((f, d)) = far.and_then(|f| world.take_dchannel(f).map(|d| (f, d))) {
            let label = format!("span {} far end", s.number);
            let (l2, l3) = (far_end_config(&q921), far_end_q931_config(&q931));
            let stack = DchanStack::new(label, d, l2, l3, provisioning::Incoming::Answer, None).map_err(DaemonError)?;
            stacks.push((f, stack));
        }
    }
    for (node, stack) in &stacks {
        poll.registry()
            .register(&mut SourceFd(&stack.channel().as_raw_fd()), Token(DCHAN_BASE + node), Interest::READABLE)
            .map_err(err("register D-channel"))?;
    }
    for node in 0..world.node_count() {
        if let Some(d) = world.take_dchannel(node) {
            poll.registry()
                .register(&mut SourceFd(&d.as_raw_fd()), Token(DCHAN_BASE + node), Interest::READABLE)
                .map_err(err("register D-channel"))?;
            dchans.push((node, d));
        }
    }

    let mut sip_cfg = cfg.clone();
    if let Some(addr) = opts.sip {
        sip_cfg.sip.listen = [provisioning::Transport::Udp, provisioning::Transport::Tcp]
            .into_iter()
            .map(|transport| provisioning::SipListen { transport, addr })
            .collect();
    }
    let seed = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() & u128::from(u64::MAX)),
    )
    .unwrap_or(0)
        ^ u64::from(std::process::id());
    let sip = SipNet::new(&sip_cfg, poll.registry(), SIP, Instant::now(), seed).map_err(DaemonError)?;
    let ha = HaRuntime::new(&cfg.ha, poll.registry(), HA, Arc::clone(&waker), Instant::now()).map_err(DaemonError)?;
    let conf = crate::config_state::ConfigState::new(&cfg, Arc::clone(&waker), Instant::now()).map_err(DaemonError)?;
    if opts.test_hooks {
        warn!("test hooks on (--test-hooks): POST /api/v1/test/media/stall can stall the media thread");
    }
    if ha.is_some() {
        // An HA node starts without the lines: its spans stay unplugged until it holds them.
        for s in &cfg.board.spans {
            world
                .apply(SimCommand::Cut { span: s.number, rx: true, tx: true })
                .map_err(|e| DaemonError(e.to_string()))?;
        }
    }

    let (cmd_tx, cmd_rx) = ring::<MediaCmd>(256);
    let (ev_tx, ev_rx) = ring::<MediaEvent>(1024);
    let stop = Arc::new(AtomicBool::new(false));
    let echo_plan = crate::media::echo_plan(&cfg, &world);
    let echo_channels = echo_plan.iter().map(|c| (c.node, c.ts)).collect();
    let media = MediaThread::new(world, cmd_rx, ev_tx, Arc::clone(&waker), Arc::clone(&stop), &echo_plan);
    let media_thread = std::thread::Builder::new()
        .name("media".into())
        .spawn(move || media.run())
        .map_err(err("start media thread"))?;

    let published: Published = Arc::new(RwLock::new(Arc::new(Snapshot::default())));
    let (api_tx, api_rx) = crossbeam_channel::bounded::<ApiRequest>(64);
    let http_listen = cfg.http.enabled.then(|| opts.http.unwrap_or(cfg.http.listen));
    let mut ev = EventLoop {
        cfg,
        started: Instant::now(),
        spans,
        timing: Timing::default(),
        far_nodes,
        dchans,
        stacks,
        cmds: cmd_tx,
        events: ev_rx,
        api: api_rx,
        pending: HashMap::new(),
        next_id: 1,
        published: Arc::clone(&published),
        last_sync: None,
        echo_channels,
        echo: HashMap::new(),
        switch: Switch::new(),
        plan,
        span_of_node,
        tone_zones,
        sip,
        sip_answered: std::collections::HashSet::new(),
        ha,
        conf,
        test_hooks: opts.test_hooks,
    };
    let now = Instant::now();
    for (_, stack) in &mut ev.stacks {
        stack.start(now);
    }
    // Published before the HTTP side starts, so that no client ever sees an empty board.
    ev.publish();
    let http = match http_listen.map(|l| HttpServer::start(l, published, api_tx, Arc::clone(&waker))) {
        None => None,
        Some(Ok(s)) => {
            info!("status page on http://{}/", s.addr);
            Some(s)
        }
        Some(Err(e)) => {
            stop.store(true, Ordering::Relaxed);
            let _ = media_thread.join();
            return Err(DaemonError(e));
        }
    };
    let result = ev.run(&mut poll, &mut sigfd);

    stop.store(true, Ordering::Relaxed);
    let _ = media_thread.join();
    if let Some(h) = http {
        h.stop();
    }
    info!("stopped");
    result
}

impl EventLoop {
    fn run(&mut self, poll: &mut Poll, sigfd: &mut SignalFd) -> Result<(), DaemonError> {
        let mut events = Events::with_capacity(64);
        let mut next_publish = Instant::now() + PUBLISH_EVERY;
        loop {
            let mut deadline =
                self.stacks.iter().filter_map(|(_, s)| s.poll_timeout()).fold(next_publish, Instant::min);
            if let Some(ha) = &self.ha {
                deadline = deadline.min(ha.poll_timeout());
            }
            if let Some(t) = self.sip.as_ref().and_then(SipNet::poll_timeout) {
                deadline = deadline.min(t);
            }
            if let Some(t) = self.conf.poll_timeout() {
                deadline = deadline.min(t);
            }
            let timeout = deadline.saturating_duration_since(Instant::now());
            if let Err(e) = poll.poll(&mut events, Some(timeout)) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(DaemonError(format!("poll: {e}")));
            }
            for event in events.iter() {
                match event.token() {
                    SIGNAL => {
                        if let Ok(Some(info)) = sigfd.read_signal() {
                            if info.ssi_signo == Signal::SIGHUP as u32 {
                                info!("SIGHUP received: reloading the config");
                                self.config_reload();
                                continue;
                            }
                            let name = Signal::try_from(i32::try_from(info.ssi_signo).unwrap_or(0))
                                .map_or("signal", |s| s.as_str());
                            info!("{name} received, stopping");
                            return Ok(());
                        }
                    }
                    WAKE => {}
                    HA => {
                        if let Some(ha) = &mut self.ha {
                            ha.on_readable(Instant::now());
                        }
                    }
                    SIP => {
                        if let Some(sip) = &mut self.sip {
                            sip.on_readable(Instant::now());
                        }
                    }
                    Token(t) if t >= RTP_TOKENS => {
                        let mut got = Vec::new();
                        if let Some(sip) = &mut self.sip {
                            sip.on_rtp_readable(Token(t), &mut got);
                        }
                        for (id, packet) in got {
                            // A full command ring drops the packet, as a congested network would.
                            let _ = self.cmds.push(MediaCmd::RtpIn { id, packet });
                        }
                    }
                    t if crate::sipnet_tcp::TcpSide::owns(t) => {
                        if let Some(sip) = &mut self.sip {
                            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
                            sip.on_tcp_event(Instant::now(), t, readable, event.is_writable());
                        }
                    }
                    Token(t) if t >= DCHAN_BASE => self.drain_dchannel(t - DCHAN_BASE),
                    Token(_) => {}
                }
            }
            let now = Instant::now();
            for (_, stack) in &mut self.stacks {
                stack.on_timeout(now);
            }
            if let Some(sip) = &mut self.sip {
                sip.on_timeout(now);
            }
            self.drain_media();
            self.serve_api();
            self.conf.poll(Instant::now());
            self.run_ha();
            self.run_switch();
            if let Some(sip) = &mut self.sip {
                for id in sip.take_detached() {
                    let _ = self.cmds.push(MediaCmd::RtpDetach { id });
                }
                for cmd in sip.take_media_cmds() {
                    let _ = self.cmds.push(cmd);
                }
            }
            if Instant::now() >= next_publish {
                if self.cfg.board.backend == provisioning::Backend::Dahdi {
                    // A DAHDI channel's poll is edge-triggered like the rest: a frame that came
                    // in with an event may not have woken us, so the stacks look once in a while.
                    for (_, stack) in &mut self.stacks {
                        stack.on_readable(Instant::now());
                    }
                }
                self.publish();
                next_publish = Instant::now() + PUBLISH_EVERY;
            }
        }
    }

    /// Hands a readable D-channel to its ISDN stack. A D-channel with no stack (a span without
    /// ISDN signalling) has its frames, already counted by the span, dropped rather than left to
    /// fill the socket.
    fn drain_dchannel(&mut self, node: usize) {
        if let Some((_, stack)) = self.stacks.iter_mut().find(|(n, _)| *n == node) {
            stack.on_readable(Instant::now());
            return;
        }
        let mut buf = [0u8; MAX_HDLC_FRAME];
        let Some((_, d)) = self.dchans.iter_mut().find(|(n, _)| *n == node) else { return };
        loop {
            match d.recv_frame(&mut buf) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    warn!("D-channel of span {}: {e}", d.span());
                    break;
                }
            }
        }
    }

    fn drain_media(&mut self) {
        while let Some(ev) = self.events.pop() {
            match ev {
                MediaEvent::Span { node, status, sim } => {
                    let Some(i) = self.spans.iter().position(|v| v.node == node) else { continue };
                    let span = self.cfg.board.spans[i].number;
                    let v = &mut self.spans[i];
                    if !v.reported || v.status.alarms != status.alarms {
                        let before = if v.reported { v.status.alarms.to_string() } else { "start".into() };
                        if status.alarms.is_clear() {
                            info!("span {span}: {before} -> {}", status.alarms);
                        } else {
                            warn!("span {span}: {before} -> {}", status.alarms);
                        }
                    }
                    let layer1 = status.alarms.is_clear();
                    let changed = !v.reported || v.status.alarms.is_clear() != layer1;
                    v.status = status;
                    v.sim = sim;
                    v.reported = true;
                    // Layer 1 for the span's ISDN stack, as the status page shows it.
                    if changed {
                        if let Some((_, stack)) = self.stacks.iter_mut().find(|(n, _)| *n == node) {
                            stack.set_layer1(Instant::now(), layer1);
                        }
                    }
                }
                MediaEvent::Timing(t) => {
                    if self.last_sync != Some(t.sync) {
                        match t.sync {
                            Some(n) => info!("clock source: span {n}"),
                            None => info!("clock source: internal oscillator"),
                        }
                        self.last_sync = Some(t.sync);
                    }
                    self.timing = t;
                }
                MediaEvent::Played { id, buf } => {
                    drop(buf);
                    self.finished(id);
                }
                MediaEvent::Captured { id, buf } => {
                    if let Some(Pending { reply: Some(r), .. }) = self.finished(id) {
                        let _ = r.send(ApiReply::Audio(buf.into_vec()));
                    }
                }
                MediaEvent::Rejected { cmd } => warn!("simulated line command refused: {cmd:?}"),
                MediaEvent::ConnectRefused { a, b } => warn!("media thread refused to join {a:?} and {b:?}"),
                MediaEvent::RtpOut { id, frame } => {
                    if let Some(sip) = &mut self.sip {
                        sip.send_rtp(id, &frame);
                    }
                }
                MediaEvent::Dtmf { id, digit, edge } => {
                    if let Some(sip) = &mut self.sip {
                        sip.on_media_dtmf(id, digit, edge);
                    }
                }
                // The jitter buffer and codec lent with the attach are freed here, off the media
                // thread, and so is a codec a re-INVITE replaced.
                MediaEvent::RtpDetached { jb, codec, .. } => drop((jb, codec)),
                MediaEvent::RtpCodecFreed { codec, .. } => drop(codec),
                MediaEvent::Echo { node, ts, stats } => {
                    self.echo.insert((node, ts), stats);
                }
                MediaEvent::Fax { id, detection } => {
                    if let Some(sip) = &mut self.sip {
                        sip.on_media_fax(Instant::now(), id, detection);
                    }
                }
            }
        }
    }

    /// Hands every call notice of our spans to the switch, until none is left (acting on one
    /// may produce more, on the other leg's span).
    fn run_switch(&mut self) {
        let now = Instant::now();
        loop {
            let mut moved = false;
            for i in 0..self.stacks.len() {
                let node = self.stacks[i].0;
                while let Some(notice) = self.stacks[i].1.poll_notice() {
                    moved = true;
                    let mut legs = DaemonLegs {
                        now,
                        span_of_node: &self.span_of_node,
                        stacks: &mut self.stacks,
                        cmds: &mut self.cmds,
                        echo: &mut self.echo,
                        sip: self.sip.as_mut(),
                        sip_answered: &mut self.sip_answered,
                        tones: &self.tone_zones,
                    };
                    self.switch.on_notice(now, node, notice, &mut self.plan, &mut legs);
                }
            }
            while let Some((leg, event)) = self.sip.as_mut().and_then(SipNet::poll_leg_event) {
                moved = true;
                let mut legs = DaemonLegs {
                    now,
                    span_of_node: &self.span_of_node,
                    stacks: &mut self.stacks,
                    cmds: &mut self.cmds,
                    echo: &mut self.echo,
                    sip: self.sip.as_mut(),
                    sip_answered: &mut self.sip_answered,
                    tones: &self.tone_zones,
                };
                self.switch.on_event(now, leg, event, &mut self.plan, &mut legs);
            }
            if !moved {
                return;
            }
        }
    }

    /// Feeds the HA node its health and applies what it decides to our spans: plugged in with
    /// layer 2 brought up when it holds the lines, unplugged (nothing sent, layer 2 down) when not.
    fn run_ha(&mut self) {
        let Some(ha) = self.ha.as_mut() else { return };
        let now = Instant::now();
        let up = self.spans.iter().filter(|v| v.reported && v.status.alarms.is_clear()).count();
        let small = |n: usize| u8::try_from(n).unwrap_or(u8::MAX);
        for action in ha.poll(now, self.timing.ticks, small(up), small(self.spans.len())) {
            for s in &self.cfg.board.spans {
                let cmd = match action {
                    SpanAction::Activate => SimCommand::Reconnect { span: s.number },
                    SpanAction::Deactivate => SimCommand::Cut { span: s.number, rx: true, tx: true },
                };
                if self.cmds.push(MediaCmd::Sim(cmd)).is_err() {
                    warn!("ha: media command queue full: span {} not switched", s.number);
                }
            }
            let ours: Vec<usize> = self.spans.iter().map(|v| v.node).collect();
            for (node, stack) in &mut self.stacks {
                if !ours.contains(node) {
                    continue;
                }
                match action {
                    SpanAction::Activate => stack.start(now),
                    // The relay took the lines: their calls are gone, so the other legs are
                    // cleared now (SIP legs get BYE) instead of after T309. Cause 27,
                    // destination out of order, as a T309 expiry would give.
                    SpanAction::Deactivate => stack.with_calls(now, |c| c.clear_all(now, 27)),
                }
            }
        }
    }

    /// Forgets operation `id`; a channel left with none loses its echo statistics.
    fn finished(&mut self, id: u64) -> Option<Pending> {
        let p = self.pending.remove(&id)?;
        if !self.pending.values().any(|q| q.node == p.node && q.ts == p.ts) {
            self.echo.remove(&(p.node, p.ts));
        }
        Some(p)
    }

    fn node_for(&self, span: u32, far: bool) -> Result<usize, ApiReply> {
        let Some(i) = self.cfg.board.spans.iter().position(|s| s.number == span) else {
            return Err(ApiReply::Err(404, format!("no span {span}")));
        };
        if far {
            self.far_nodes
                .get(&span)
                .copied()
                .ok_or_else(|| ApiReply::Err(404, format!("span {span} has no simulated far end")))
        } else {
            Ok(self.spans[i].node)
        }
    }

    fn check_channel(&self, span: u32, ts: u8) -> Result<(), ApiReply> {
        let s = self.cfg.board.spans.iter().find(|s| s.number == span).expect("span checked");
        if s.hal.bchans.contains(&ts) {
            Ok(())
        } else {
            Err(ApiReply::Err(400, format!("channel {ts} is not a bearer channel of span {span}")))
        }
    }

    fn serve_api(&mut self) {
        while let Ok(req) = self.api.try_recv() {
            let reply = self.api_command(req.cmd, &req.reply);
            if let Some(r) = reply {
                let _ = req.reply.send(r);
            }
        }
    }

    fn api_command(&mut self, cmd: ApiCommand, reply: &Sender<ApiReply>) -> Option<ApiReply> {
        let busy_media = || ApiReply::Err(503, "the media thread is busy; try again".into());
        match cmd {
            ApiCommand::Sim(c) => {
                let span = match c {
                    hal::sim::SimCommand::Cut { span, .. }
                    | hal::sim::SimCommand::Reconnect { span }
                    | hal::sim::SimCommand::SendAis { span, .. }
                    | hal::sim::SimCommand::SetFault { span, .. }
                    | hal::sim::SimCommand::SetFarDrift { span, .. }
                    | hal::sim::SimCommand::Loopback { span, .. } => span,
                };
                if let Err(e) = self.node_for(span, false) {
                    return Some(e);
                }
                if self.cfg.board.spans.iter().all(|s| s.sim.is_none()) {
                    return Some(ApiReply::Err(409, "not a simulated board".into()));
                }
                info!("simulated line change: {c:?}");
                Some(match self.cmds.push(MediaCmd::Sim(c)) {
                    Ok(()) => ApiReply::Ok(r#"{"ok":true}"#.into()),
                    Err(_) => busy_media(),
                })
            }
            ApiCommand::Play { span, far, ts, data } => {
                let node = match self.node_for(span, far).and_then(|n| self.check_channel(span, ts).map(|()| n)) {
                    Ok(n) => n,
                    Err(e) => return Some(e),
                };
                if self.pending.values().any(|p| p.node == node && p.ts == ts && !p.capture) {
                    return Some(ApiReply::Err(409, format!("channel {ts} of span {span} is already playing")));
                }
                let id = self.next_id;
                self.next_id += 1;
                let ms = data.len().div_ceil(hal::CHUNK);
                match self.cmds.push(MediaCmd::Play { id, node, ts, buf: data.into_boxed_slice() }) {
                    Ok(()) => {
                        self.pending.insert(id, Pending { reply: None, node, ts, capture: false });
                        Some(ApiReply::Ok(format!(r#"{{"ok":true,"id":{id},"ms":{ms}}}"#)))
                    }
                    Err(_) => Some(busy_media()),
                }
            }
            ApiCommand::Call { span, far, op } => Some(self.call_command(span, far, op)),
            ApiCommand::ConfigReload => Some(self.config_reload()),
            ApiCommand::ConfigPush { body, tag } => Some(self.config_push(&body, tag.as_deref())),
            ApiCommand::StallMedia { ms } => Some(self.stall_media(ms)),
            ApiCommand::HaSwitchover => Some(match self.ha.as_mut().map(|h| h.switchover(Instant::now())) {
                None => ApiReply::Err(409, "HA is disabled ([ha] role)".into()),
                Some(Ok(was)) => ApiReply::Ok(format!(r#"{{"ok":true,"was":"{was}"}}"#)),
                Some(Err(e)) => ApiReply::Err(409, e),
            }),
            ApiCommand::Capture { span, far, ts, ms, clean } => {
                let node = match self.node_for(span, far).and_then(|n| self.check_channel(span, ts).map(|()| n)) {
                    Ok(n) => n,
                    Err(e) => return Some(e),
                };
                let id = self.next_id;
                self.next_id += 1;
                let len = usize::try_from(ms).unwrap_or(0) * hal::CHUNK;
                let buf = vec![0u8; len].into_boxed_slice();
                if clean && !self.echo_channels.contains(&(node, ts)) {
                    let m = format!("channel {ts} of span {span} has no echo canceller (echo.mode = \"software\")");
                    return Some(ApiReply::Err(409, m));
                }
                match self.cmds.push(MediaCmd::Capture { id, node, ts, buf, clean }) {
                    Ok(()) => {
                        self.pending.insert(id, Pending { reply: Some(reply.clone()), node, ts, capture: true });
                        None
                    }
                    Err(_) => Some(busy_media()),
                }
            }
        }
    }

    /// A call request of the API on the stack of span `span` (or of its simulated far end).
    fn call_command(&mut self, span: u32, far: bool, op: CallOp) -> ApiReply {
        let node = match self.node_for(span, far) {
            Ok(n) => n,
            Err(e) => return e,
        };
        let Some((_, stack)) = self.stacks.iter_mut().find(|(n, _)| *n == node) else {
            return ApiReply::Err(409, format!("span {span} does not run ISDN signalling"));
        };
        let now = Instant::now();
        let result = stack.with_calls(now, |c| match op {
            CallOp::Place { called, calling, complete } => {
                c.place(now, &called, &calling, complete).map(|id| Some(id.0))
            }
            CallOp::Info { id, digits, complete } => c.information(now, CallId(id), &digits, complete).map(|()| None),
            CallOp::Answer(id) => c.answer(now, CallId(id)).map(|()| None),
            CallOp::Hangup { id, cause } => c.hangup(now, CallId(id), cause).map(|()| None),
            CallOp::Restart { channel } => {
                let target = channel.map_or(RestartTarget::Interface, RestartTarget::Channel);
                c.restart(now, target).map(|()| None)
            }
        });
        match result {
            Ok(Some(id)) => ApiReply::Ok(format!(r#"{{"ok":true,"id":{id}}}"#)),
            Ok(None) => ApiReply::Ok(r#"{"ok":true}"#.into()),
            Err(e) => ApiReply::Err(calls::error_status(&e), e.to_string()),
        }
    }

    fn publish(&mut self) {
        let snap = self.snapshot();
        if let Ok(mut g) = self.published.write() {
            *g = Arc::new(snap);
        }
    }

    /// The ISDN block of span `number` (board node `node`), with its simulated far end's stack.
    fn isdn_snapshot(&self, node: usize, number: u32, layer1_up: bool) -> Option<IsdnSnap> {
        let stack = |n: usize| self.stacks.iter().find(|(m, _)| *m == n).map(|(_, s)| s);
        let mut snap = stack(node)?.snapshot(layer1_up);
        let far = self.far_nodes.get(&number).and_then(|&f| stack(f));
        // The far end's receiver sees the same line, so its layer 1 is taken as ours.
        snap.far_end = far.map(|s| Box::new(s.snapshot(layer1_up)));
        Some(snap)
    }

    /// The DAHDI kernel's view of span `number` (node `node`); `None` on a sim board.
    fn kernel_snapshot(&self, node: usize, number: u32) -> Option<crate::status_kernel::KernelSnap> {
        if self.cfg.board.backend != provisioning::Backend::Dahdi {
            return None;
        }
        let dchan = self.stacks.iter().find(|(n, _)| *n == node).map(|(_, s)| s.channel());
        crate::status_kernel::read(number, dchan)
    }

    /// The switch's calls with each leg's media: a SIP leg's codec and RTP/RTCP figures from
    /// sipnet, an ISDN leg's span, B-channel and echo canceller ERLE.
    fn bridge_snaps(&self) -> Vec<crate::switch::BridgeSnap> {
        use crate::sipnet_rtcp::LegMedia;
        use crate::switch::LegRef;
        let mut calls = self.switch.snapshot(Instant::now());
        for b in &mut calls {
            b.legs = b
                .leg_refs
                .iter()
                .flatten()
                .filter_map(|l| match *l {
                    LegRef::Sip(h) => self.sip.as_ref()?.leg_media(h).map(LegMedia::Sip),
                    LegRef::Isdn { node, call } => {
                        let span = self.spans.iter().zip(&self.cfg.board.spans).find(|(v, _)| v.node == node)?.1;
                        let stack = self.stacks.iter().find(|(n, _)| *n == node).map(|(_, s)| s.calls());
                        let channel = stack.and_then(|c| c.channel_of(call));
                        let erle_db = channel.and_then(|ts| self.echo.get(&(node, ts))).map(|e| e.erle_db);
                        Some(LegMedia::Isdn { span: span.number, channel, erle_db })
                    }
                })
                .collect();
        }
        calls
    }

    fn snapshot(&self) -> Snapshot {
        let t = self.timing;
        let spans = self
            .cfg
            .board
            .spans
            .iter()
            .zip(&self.spans)
            .map(|(c, v)| {
                let a = v.status.alarms;
                let in_alarm = !a.is_clear() || !v.reported;
                let mut channels: Vec<ChannelSnap> = Vec::new();
                // Q.931 channel numbers are the span's timeslots (E1 1-15/17-31, BRI B1/B2 = 1/2).
                let call_channels = self
                    .stacks
                    .iter()
                    .find(|(n, _)| *n == v.node)
                    .map(|(_, s)| s.calls().busy_channels())
                    .unwrap_or_default();
                let (lo, hi) = c.hal.kind.channel_range();
                for ts in lo..=hi {
                    let role = if Some(ts) == c.hal.dchan {
                        "D"
                    } else if c.hal.bchans.contains(&ts) {
                        "B"
                    } else {
                        continue;
                    };
                    let busy =
                        self.pending.values().any(|p| p.node == v.node && p.ts == ts) || call_channels.contains(&ts);
                    let state = if in_alarm && (a.red || a.blue) {
                        "alarm"
                    } else if busy {
                        "busy"
                    } else {
                        "idle"
                    };
                    let echo = if busy { self.echo.get(&(v.node, ts)).map(EchoSnap::from) } else { None };
                    channels.push(ChannelSnap { ts, role, state, echo });
                }
                let k = v.status.counters;
                SpanSnap {
                    span: c.number,
                    name: c.name.clone(),
                    kind: c.hal.kind.to_string(),
                    termination: c.hal.termination.as_str().into(),
                    framing: c.hal.framing.as_str().into(),
                    coding: c.hal.coding.as_str().into(),
                    crc4: c.hal.crc4,
                    timing: c.hal.timing,
                    law: c.hal.law.as_str().into(),
                    signalling: c.signalling.as_str().into(),
                    switchtype: c.switchtype.as_str().into(),
                    line: board::line_text(c),
                    alarm_text: if v.reported { a.to_string() } else { "STARTING".into() },
                    alarms: AlarmSnap { red: a.red, yellow: a.yellow, blue: a.blue, loopback: a.loopback },
                    up: v.reported && a.is_clear(),
                    clock_master: v.status.clock_master,
                    counters: CounterSnap {
                        slips: k.slips,
                        crc_errors: k.crc_errors,
                        fcs_errors: k.fcs_errors,
                        hdlc_aborts: k.hdlc_aborts,
                        hdlc_overruns: k.hdlc_overruns,
                        late_ticks: k.late_ticks,
                        hdlc_tx_frames: k.hdlc_tx_frames,
                        hdlc_rx_frames: k.hdlc_rx_frames,
                    },
                    sim: c.sim.as_ref().map(|_| SimSnap {
                        signal: v.sim.signal,
                        rx_cut: v.sim.rx_cut,
                        tx_cut: v.sim.tx_cut,
                        sending_ais: v.sim.sending_ais,
                        loopback: v.sim.loopback,
                    }),
                    isdn: self.isdn_snapshot(v.node, c.number, v.reported && a.is_clear()),
                    channels,
                    kernel: self.kernel_snapshot(v.node, c.number),
                }
            })
            .collect();
        Snapshot {
            version: env!("CARGO_PKG_VERSION"),
            board: BoardSnap {
                name: self.cfg.board.name.clone(),
                model: self.cfg.board.model.clone(),
                backend: match self.cfg.board.backend {
                    provisioning::Backend::Sim => "sim".into(),
                    provisioning::Backend::Dahdi => "dahdi".into(),
                },
                description: self.cfg.board.description.clone(),
                config_file: self.cfg.file.clone(),
            },
            uptime_s: self.started.elapsed().as_secs(),
            clock_source: t.sync.map_or_else(|| "internal".into(), |n| format!("span {n}")),
            clock_source_span: t.sync,
            media: MediaSnap {
                ticks: t.ticks,
                late_ticks: t.late_ticks,
                lateness_p50_us: t.p50_us,
                lateness_p99_us: t.p99_us,
                lateness_max_us: t.max_us,
                load: t.load,
            },
            spans,
            switch: SwitchSnap { calls: self.bridge_snaps(), counters: self.switch.counters },
            sip: self.sip.as_ref().map(|s| {
                let c = s.counters();
                SipSnap {
                    listen: format!("udp:{}", s.local_addr()),
                    tcp: s.tcp_status().map(|(addr, connections, counters)| crate::status::SipTcpSnap {
                        listen: format!("tcp:{addr}"),
                        connections,
                        counters,
                    }),
                    trunks: s.trunks(),
                    garbage: c.garbage,
                    bad_requests: c.bad_requests,
                    refused: c.refused,
                    stray_responses: c.stray_responses,
                    retransmissions: c.retransmissions,
                    rtcp: s.rtcp_counters(),
                    fax: s.fax_counters(),
                }
            }),
            ha: self.ha.as_ref().map(|h| h.snapshot(Instant::now())),
            config: Some(self.conf.snapshot(&self.cfg)),
        }
    }
}
