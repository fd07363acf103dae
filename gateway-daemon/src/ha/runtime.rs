//! The HA node inside the daemon: drives the sans-IO `node` from the event loop. The loop owns
//! the heartbeat socket (registered in its poll), the clock and the node's own health; the
//! blocking work - berofos HTTP/GBL4 and the second-path probe of the peer's API - runs on one
//! worker thread that hands each answer back over a channel and wakes the loop.
//!
//! Two ways to run:
//! - **pair** (`peer` set): the decision table of `ha`, the berofos as the arbiter.
//! - **bypass** (no `peer`, every berofos in the bypass scenario): one node in front of a PBX.
//!   While healthy it asks for mode 1 (A-B + C-D: the lines through the gateway), arms the
//!   watchdog and kicks it; when it dies or hangs the kicks stop, the watchdog expires and the
//!   relay falls to mode 0 (A-D: provider straight to the PBX).
//!
//! Deactivating unplugs our spans (a cut of both directions on the simulated board: what the
//! relay does to a node it does not connect) and clears their calls at once with cause 27, so
//! the other legs hear of it now (SIP legs get BYE) rather than after T309; the loss of layer 1
//! then takes layer 2 down (with `layer1_presence = "required"`, the default). Activating plugs
//! them back and asks layer 2 up.
//!
//! Architecture invariant: nothing here blocks the event loop; every socket call on the loop's
//! side is non-blocking, and a slow berofos or peer only delays the worker's answer (the node
//! counts an answer that does not come within `request_timeout` as a failure).

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{unbounded, Receiver, Sender};
use log::{info, warn};
use mio::net::UdpSocket;
use mio::{Interest, Registry, Token, Waker};
use provisioning::{HaRole, HaScenario};
use serde::Serialize;

use super::heartbeat::{self, Health, Role};
use super::node::{Action, Event, HaConfig, Node, Probe, RelayUnreachable, State};
use crate::berofos::bank::Bank;
use crate::berofos::conf::{BnfosConf, Section};
use crate::berofos::http::{Credentials, Role as RelayRole};

/// The media thread reports every 100 ms; this long without a report, it is not ticking.
const MEDIA_STALE: Duration = Duration::from_millis(500);
/// One answer of a berofos; the client retries within the node's `request_timeout`.
const BEROFOS_TIMEOUT: Duration = Duration::from_millis(700);
/// The second path answers within this or counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_millis(800);
/// A published snapshot older than this means the peer's event loop is stuck.
pub const SNAPSHOT_FRESH: Duration = Duration::from_millis(1000);
/// Watchdog kicks while healthy (the berofos' interval is seconds: `wdogitime`, 60 by default).
const KICK_EVERY: Duration = Duration::from_millis(1000);
/// Failover history kept for the status page.
const HISTORY: usize = 32;

/// What the event loop must do with its spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanAction {
    /// The relay gives us the lines: plug the spans in and bring layer 2 up.
    Activate,
    /// We do not hold the lines: the spans stay unplugged and layer 2 down.
    Deactivate,
}

enum Job {
    Probe,
    SetRelay(u8),
    ReadRelay,
    /// Arm the watchdog (`wdog=1`), which also re-arms it after an expiry.
    ArmWatchdog,
    Kick,
}

enum Done {
    Probe(Probe),
    Relay(Result<u8, RelayUnreachable>),
    Armed(bool),
    Kicked(bool),
}

/// One line of the failover history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub unix_ms: u64,
    pub event: String,
}

/// The peer as the status shows it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PeerSnap {
    pub address: Option<String>,
    pub alive: bool,
    pub state: Option<&'static str>,
    pub healthy: Option<bool>,
    pub last_heartbeat_ms_ago: Option<u64>,
    pub rejected_heartbeats: u64,
}

/// The berofos as the status shows it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct BerofosSnap {
    pub devices: usize,
    /// The relay mode all devices last agreed on.
    pub mode: Option<u8>,
    pub reachable: Option<bool>,
    /// `off`, `kicking` or `failing` (kicks not answered).
    pub watchdog: &'static str,
    pub kicks: u64,
    pub last_kick_ms_ago: Option<u64>,
}

/// HA for the status page, the JSON API and metrics.
#[derive(Debug, Clone, Serialize, Default)]
pub struct HaSnap {
    pub role: &'static str,
    pub node: String,
    /// `pair` or `bypass`.
    pub mode: &'static str,
    pub state: &'static str,
    pub healthy: bool,
    pub media_ticking: bool,
    /// Whether this node holds the lines (its spans are active).
    pub lines: bool,
    pub failback_suppressed: bool,
    pub peer: PeerSnap,
    pub berofos: BerofosSnap,
    pub failovers: u64,
    pub history: Vec<HistoryRow>,
    /// When the loop took this snapshot: the HTTP side tells a stuck loop by its age.
    #[serde(skip)]
    pub taken: Option<Instant>,
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Standby => "standby",
        State::Probing => "probing",
        State::Acquiring => "acquiring",
        State::Active => "active",
    }
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Bypass mode: the steps of the single node's hold on the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Solo {
    Idle,
    Acquiring,
    Active,
}

/// The HA part of the event loop.
pub struct Runtime {
    cfg: provisioning::Ha,
    /// Pair mode; `None` in bypass.
    node: Option<Node>,
    socket: Option<UdpSocket>,
    peer: Option<SocketAddr>,
    jobs: Sender<Job>,
    done: Receiver<Done>,
    solo: Solo,
    solo_pending_until: Option<Instant>,
    lines: bool,
    last_ticks: u64,
    ticks_changed: Instant,
    health: Health,
    next_kick: Instant,
    kicks: u64,
    last_kick: Option<Instant>,
    kick_ok: Option<bool>,
    armed: bool,
    relay_mode: Option<u8>,
    reachable: Option<bool>,
    rejected: u64,
    failovers: u64,
    history: VecDeque<HistoryRow>,
    /// The node starts once own health is first known (or after `START_GRACE`): a heartbeat
    /// sent before the media thread's first report would tell the peer we are sick.
    started: Instant,
    ready: bool,
}

/// The longest the node waits for its first health report before it starts anyway.
const START_GRACE: Duration = Duration::from_secs(2);

impl Runtime {
    /// The runtime for `cfg`, `None` with HA disabled. The heartbeat socket is registered under
    /// `token`; the worker wakes the loop through `waker`.
    pub fn new(
        cfg: &provisioning::Ha,
        registry: &Registry,
        token: Token,
        waker: Arc<Waker>,
        now: Instant,
    ) -> Result<Option<Runtime>, String> {
        let role = match cfg.role {
            HaRole::Disabled => return Ok(None),
            HaRole::Master => Role::Master,
            HaRole::Slave => Role::Slave,
        };
        let bypass = cfg.peer.is_none();
        if bypass && (cfg.berofos.is_empty() || cfg.berofos.iter().any(|b| b.scenario != HaScenario::Bypass)) {
            return Err(
                "[ha] without `peer` is the bypass scenario: every [[ha.berofos]] needs scenario = \"bypass\"".into()
            );
        }
        let key = read_key(cfg)?;
        if !bypass && key.len() < 16 {
            return Err("[ha] the key needs at least 16 bytes".into());
        }
        let mut socket = None;
        if !bypass {
            let mut s =
                UdpSocket::bind(cfg.listen).map_err(|e| format!("[ha] heartbeat socket {}: {e}", cfg.listen))?;
            registry.register(&mut s, token, Interest::READABLE).map_err(|e| format!("[ha] register socket: {e}"))?;
            info!(
                "ha: {} node {:?}, heartbeats on {} to {}",
                cfg.role,
                cfg.node,
                s.local_addr().map_or_else(|_| cfg.listen.to_string(), |a| a.to_string()),
                cfg.peer.map_or_else(String::new, |p| p.to_string())
            );
            socket = Some(s);
        } else {
            info!("ha: bypass scenario, node {:?}, watchdog {}", cfg.node, if cfg.watchdog { "on" } else { "off" });
        }
        if cfg.berofos.is_empty() {
            warn!("ha: no [[ha.berofos]]: nothing fences the lines, both nodes could hold them");
        }
        let node = (!bypass).then(|| {
            let mut h = HaConfig::new(role, &key, unix_ms());
            h.interval = Duration::from_millis(u64::from(cfg.interval_ms));
            h.misses = cfg.misses;
            h.hold = Duration::from_secs(u64::from(cfg.hold_secs));
            h.yield_time = h.hold.max(h.dead_time() * 2);
            Node::new(h, now)
        });
        let (jobs, done) = spawn_worker(cfg, waker)?;
        Ok(Some(Runtime {
            cfg: cfg.clone(),
            node,
            socket,
            peer: cfg.peer,
            jobs,
            done,
            solo: Solo::Idle,
            solo_pending_until: None,
            lines: false,
            last_ticks: 0,
            ticks_changed: now,
            health: Health::default(),
            next_kick: now,
            kicks: 0,
            last_kick: None,
            kick_ok: None,
            armed: false,
            relay_mode: None,
            reachable: None,
            rejected: 0,
            failovers: 0,
            history: VecDeque::new(),
            started: now,
            ready: false,
        }))
    }

    /// The heartbeat socket's address (for logs and tests with port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.socket.as_ref().and_then(|s| s.local_addr().ok())
    }

    fn note(&mut self, event: String) {
        info!("ha: {event}");
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(HistoryRow { unix_ms: unix_ms(), event });
    }

    /// Takes every waiting heartbeat datagram.
    pub fn on_readable(&mut self, now: Instant) {
        let (Some(sock), Some(node)) = (self.socket.as_ref(), self.node.as_mut()) else { return };
        let mut buf = [0u8; 128];
        loop {
            match sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    // Only the configured peer's address is heard; the HMAC is the real check.
                    if self.peer.is_some_and(|p| p.ip() == from.ip()) {
                        node.handle_heartbeat(now, &buf[..n]);
                    } else {
                        self.rejected += 1;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    warn!("ha: heartbeat socket: {e}");
                    break;
                }
            }
        }
    }

    /// Manual switchover (API and CLI): the active node yields, a standby node takes the lines.
    pub fn switchover(&mut self, now: Instant) -> Result<&'static str, String> {
        let Some(node) = self.node.as_mut() else {
            return Err("switchover needs two nodes; this one runs the bypass scenario".into());
        };
        let before = node.state();
        if before != State::Active && !self.health.healthy() {
            return Err("this node is not healthy: it cannot take the lines".into());
        }
        node.switchover(now);
        self.note(format!("manual switchover requested in state {}", state_name(before)));
        Ok(state_name(before))
    }

    /// One turn of the loop: the worker's answers, own health from the media thread's tick count
    /// and the spans, timers, heartbeats out, requests to the worker. Returns what to do with the
    /// spans.
    pub fn poll(&mut self, now: Instant, media_ticks: u64, spans_up: u8, spans_total: u8) -> Vec<SpanAction> {
        if media_ticks != self.last_ticks {
            self.last_ticks = media_ticks;
            self.ticks_changed = now;
        }
        let health = Health {
            loop_alive: true,
            media_ticking: media_ticks > 0 && now < self.ticks_changed + MEDIA_STALE,
            spans_up,
            spans_total,
        };
        let mut out = Vec::new();
        while let Ok(d) = self.done.try_recv() {
            self.on_done(now, d, &mut out);
        }
        if health != self.health {
            if health.healthy() != self.health.healthy() {
                self.note(format!("own health {}", if health.healthy() { "good" } else { "bad" }));
            }
            self.health = health;
            if let Some(n) = self.node.as_mut() {
                n.handle_health(now, health);
            }
        }
        if self.node.is_some() {
            self.run_node(now, &mut out);
        } else {
            self.run_solo(now, &mut out);
        }
        self.run_watchdog(now);
        out
    }

    fn on_done(&mut self, now: Instant, d: Done, out: &mut Vec<SpanAction>) {
        match d {
            Done::Probe(p) => {
                self.note(format!("second path: peer {p:?}"));
                if let Some(n) = self.node.as_mut() {
                    n.handle_probe(now, p);
                }
            }
            Done::Relay(r) => {
                self.reachable = Some(r.is_ok());
                if let Ok(m) = r {
                    self.relay_mode = Some(m);
                }
                if let Some(n) = self.node.as_mut() {
                    n.handle_relay(now, r);
                } else if self.solo == Solo::Acquiring {
                    self.solo_pending_until = None;
                    if r == Ok(1) {
                        self.solo = Solo::Active;
                        self.set_lines(true, out);
                    } else {
                        self.solo = Solo::Idle;
                        self.next_kick = now + KICK_EVERY;
                    }
                }
            }
            Done::Armed(ok) => {
                self.armed = ok;
                self.reachable = Some(ok);
            }
            Done::Kicked(ok) => {
                self.kick_ok = Some(ok);
                if ok {
                    self.kicks += 1;
                    self.last_kick = Some(now);
                }
            }
        }
    }

    fn set_lines(&mut self, on: bool, out: &mut Vec<SpanAction>) {
        if self.lines != on {
            self.lines = on;
            out.push(if on { SpanAction::Activate } else { SpanAction::Deactivate });
            if on {
                self.failovers += 1;
            }
            self.note(format!("lines {}", if on { "taken: spans activated" } else { "released: spans deactivated" }));
        }
    }

    fn run_node(&mut self, now: Instant, out: &mut Vec<SpanAction>) {
        self.ready |= self.health.healthy() || now >= self.started + START_GRACE;
        let Some(node) = self.node.as_mut().filter(|_| self.ready) else { return };
        if now >= node.poll_timeout() {
            node.handle_timeout(now);
        }
        let mut notes = Vec::new();
        let mut jobs = Vec::new();
        let mut lines = None;
        while let Some(d) = node.poll_transmit() {
            if let (Some(s), Some(p)) = (self.socket.as_ref(), self.peer) {
                // A full socket buffer loses one heartbeat; the next follows an interval later.
                let _ = s.send_to(&d, p);
            }
        }
        while let Some(a) = node.poll_action() {
            match a {
                Action::ProbePeer => jobs.push(Job::Probe),
                Action::SetRelay { mode } => jobs.push(Job::SetRelay(mode)),
                Action::ReadRelay => jobs.push(Job::ReadRelay),
                Action::ActivateSpans => lines = Some(true),
                Action::DeactivateSpans => lines = Some(false),
            }
        }
        while let Some(e) = node.poll_event() {
            match e {
                Event::State { from, to, reason } => {
                    notes.push(format!("{} -> {}: {reason}", state_name(from), state_name(to)));
                }
                Event::Rejected(e) => {
                    self.rejected += 1;
                    if self.rejected == 1 {
                        warn!("ha: heartbeat refused: {e:?} (logged once; counted in status)");
                    }
                }
                Event::PeerLost => notes.push("peer lost: no heartbeat".into()),
                Event::PeerFound => notes.push("peer heartbeats heard".into()),
            }
        }
        for j in jobs {
            let _ = self.jobs.send(j);
        }
        for n in notes {
            self.note(n);
        }
        if let Some(on) = lines {
            self.set_lines(on, out);
        }
    }

    /// Bypass: take the lines (mode 1) while healthy; give them to the PBX when sick.
    fn run_solo(&mut self, now: Instant, out: &mut Vec<SpanAction>) {
        let healthy = self.health.healthy();
        match self.solo {
            Solo::Idle if healthy && now >= self.next_kick => {
                self.solo = Solo::Acquiring;
                self.solo_pending_until = Some(now + Duration::from_secs(5));
                let _ = self.jobs.send(Job::ArmWatchdog);
                let _ = self.jobs.send(Job::SetRelay(1));
            }
            Solo::Acquiring if self.solo_pending_until.is_some_and(|t| now >= t) => {
                self.solo = Solo::Idle;
                self.reachable = Some(false);
            }
            Solo::Active if !healthy => {
                // Stop kicking and leave the lines: the watchdog hands them to the PBX.
                self.solo = Solo::Idle;
                self.set_lines(false, out);
            }
            _ => {}
        }
    }

    /// Kicks the berofos watchdog while this node is healthy and holds the lines.
    fn run_watchdog(&mut self, now: Instant) {
        if !self.cfg.watchdog || !self.health.healthy() || !self.lines || now < self.next_kick {
            return;
        }
        self.next_kick = now + KICK_EVERY;
        if !self.armed && self.node.is_some() {
            let _ = self.jobs.send(Job::ArmWatchdog);
        }
        let _ = self.jobs.send(Job::Kick);
    }

    /// When `poll` is next due.
    pub fn poll_timeout(&self) -> Instant {
        let mut t = self.next_kick.max(Instant::now());
        if let Some(n) = &self.node {
            t = t.min(n.poll_timeout());
        }
        if let Some(p) = self.solo_pending_until {
            t = t.min(p);
        }
        // Health is sampled from the media reports; look at least this often.
        t.min(Instant::now() + Duration::from_millis(100))
    }

    /// Whether the spans are ours.
    pub fn holds_lines(&self) -> bool {
        self.lines
    }

    pub fn snapshot(&self, now: Instant) -> HaSnap {
        let peer_view = self.node.as_ref().and_then(Node::peer);
        let dead = self.node.as_ref().map_or(Duration::ZERO, |n| n.config().dead_time());
        HaSnap {
            role: self.cfg.role.as_str(),
            node: self.cfg.node.clone(),
            mode: if self.node.is_some() { "pair" } else { "bypass" },
            state: match &self.node {
                Some(n) => state_name(n.state()),
                None => match self.solo {
                    Solo::Idle => "standby",
                    Solo::Acquiring => "acquiring",
                    Solo::Active => "active",
                },
            },
            healthy: self.health.healthy(),
            media_ticking: self.health.media_ticking,
            lines: self.lines,
            failback_suppressed: self.node.as_ref().is_some_and(Node::failback_suppressed),
            peer: PeerSnap {
                address: self.peer.map(|p| p.to_string()),
                alive: peer_view.is_some_and(|(_, at)| now < at + dead),
                state: peer_view.map(|(hb, _)| match hb.state {
                    heartbeat::PeerState::Standby => "standby",
                    heartbeat::PeerState::Acquiring => "acquiring",
                    heartbeat::PeerState::Active => "active",
                }),
                healthy: peer_view.map(|(hb, _)| hb.health.healthy()),
                last_heartbeat_ms_ago: peer_view.map(|(_, at)| ms(now.saturating_duration_since(at))),
                rejected_heartbeats: self.rejected,
            },
            berofos: BerofosSnap {
                devices: self.cfg.berofos.len(),
                mode: self.relay_mode,
                reachable: self.reachable,
                watchdog: match (self.cfg.watchdog, self.kick_ok) {
                    (false, _) => "off",
                    (true, Some(false)) => "failing",
                    (true, _) => "kicking",
                },
                kicks: self.kicks,
                last_kick_ms_ago: self.last_kick.map(|t| ms(now.saturating_duration_since(t))),
            },
            failovers: self.failovers,
            history: self.history.iter().cloned().collect(),
            taken: Some(now),
        }
    }
}

/// The pair's shared key: `key`, or the first line of `key_file` (empty when neither is set).
pub fn read_key(cfg: &provisioning::Ha) -> Result<Vec<u8>, String> {
    Ok(match (&cfg.key, &cfg.key_file) {
        (Some(k), _) => k.as_bytes().to_vec(),
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("[ha] key_file {f}: {e}"))?;
            text.trim_end_matches(['\n', '\r']).as_bytes().to_vec()
        }
        (None, None) => Vec::new(),
    })
}

/// The berofos bank of the `[[ha.berofos]]` list.
fn bank(cfg: &provisioning::Ha) -> Result<Bank, String> {
    let mut conf = BnfosConf::default();
    for (i, b) in cfg.berofos.iter().enumerate() {
        let std::net::IpAddr::V4(host) = b.address.ip() else {
            return Err(format!("[ha] berofos {}: the berofos speaks IPv4 only", b.address));
        };
        conf.sections.push(Section {
            name: format!("fos{}", i + 1),
            line: 0,
            mac: None,
            host: Some(host),
            login: b.login.as_ref().map(|(u, p)| Credentials { user: u.clone(), password: p.clone() }),
            http_port: Some(b.address.port()),
            udp_port: Some(b.udp.port()),
        });
    }
    Ok(Bank::new(&conf, BEROFOS_TIMEOUT))
}

fn spawn_worker(cfg: &provisioning::Ha, waker: Arc<Waker>) -> Result<(Sender<Job>, Receiver<Done>), String> {
    let (job_tx, job_rx) = unbounded::<Job>();
    let (done_tx, done_rx) = unbounded::<Done>();
    let bank = bank(cfg)?;
    let probe_addr = cfg.peer_http.as_deref().and_then(provisioning::http_url_addr);
    std::thread::Builder::new()
        .name("ha-worker".into())
        .spawn(move || {
            for job in job_rx {
                let done = match job {
                    Job::Probe => Done::Probe(probe_addr.map_or(Probe::Unreachable, probe)),
                    Job::SetRelay(mode) => Done::Relay(set_relay(&bank, mode)),
                    Job::ReadRelay => Done::Relay(read_relay(&bank)),
                    Job::ArmWatchdog => Done::Armed(bank.is_empty() || bank.set_checked_all("wdog", "1").is_empty()),
                    Job::Kick => Done::Kicked(!bank.is_empty() && bank.kick().is_empty()),
                };
                if done_tx.send(done).is_err() || waker.wake().is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("start the HA worker: {e}"))?;
    Ok((job_tx, done_rx))
}

fn set_relay(bank: &Bank, mode: u8) -> Result<u8, RelayUnreachable> {
    if bank.is_empty() {
        // Unfenced (warned at start): the relay is taken to be where we asked.
        return Ok(mode);
    }
    let role = if mode == 1 { RelayRole::Master } else { RelayRole::Slave };
    if let Err(errors) = bank.set_role(role) {
        for e in &errors {
            warn!("ha: berofos {}: {}", e.section, e.error);
        }
    }
    read_relay(bank)
}

fn read_relay(bank: &Bank) -> Result<u8, RelayUnreachable> {
    if bank.is_empty() {
        return Err(RelayUnreachable);
    }
    bank.mode().ok_or(RelayUnreachable)
}

/// The second path: the peer's `/api/v1/ha`, healthy only if its event loop published recently.
fn probe(addr: SocketAddr) -> Probe {
    let attempt = || -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
        s.set_read_timeout(Some(PROBE_TIMEOUT))?;
        s.set_write_timeout(Some(PROBE_TIMEOUT))?;
        write!(s, "GET /api/v1/ha HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
        let mut body = Vec::new();
        s.take(64 * 1024).read_to_end(&mut body)?;
        Ok(body)
    };
    let Ok(resp) = attempt() else { return Probe::Unreachable };
    let text = String::from_utf8_lossy(&resp);
    let Some((_, body)) = text.split_once("\r\n\r\n") else { return Probe::Unreachable };
    match serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| v.get("alive")?.as_bool()) {
        Some(true) => Probe::Healthy,
        Some(false) => Probe::Unhealthy,
        None => Probe::Unreachable,
    }
}
