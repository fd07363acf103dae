//! One HA node as a sans-IO state machine: heartbeats in and out, its own health, the answers
//! of the berofos and of the second-path probe in; actions (probe the peer, move or read the
//! relay, activate or deactivate the spans) and events out. The decision table is in `ha`'s
//! module documentation; `evaluate` is that table, one arm per row.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::heartbeat::{self, Health, Heartbeat, PeerState, ReplayGuard, Role};

/// Timers and identity of a node.
#[derive(Debug, Clone)]
pub struct HaConfig {
    pub role: Role,
    /// The pair's shared HMAC key.
    pub key: Vec<u8>,
    /// Heartbeat interval (default 200 ms).
    pub interval: Duration,
    /// Heartbeats missed before the peer counts as lost (default 5).
    pub misses: u32,
    /// How long the master must have been healthy before it takes the lines back (failback),
    /// and how long a slave waits for a healthy standby master to take them at start.
    pub hold: Duration,
    /// While the peer is lost, how often the active node reads the relay back.
    pub relay_check: Duration,
    /// After a failed probe or relay command, the wait before trying again.
    pub retry: Duration,
    /// The longest a probe or a relay command may take before it counts as failed.
    pub request_timeout: Duration,
    /// How long a node that yielded the lines leaves them to its peer.
    pub yield_time: Duration,
    /// This run's epoch: higher than any earlier run's (the start time in ms does).
    pub epoch: u64,
}

impl HaConfig {
    pub fn new(role: Role, key: &[u8], epoch: u64) -> HaConfig {
        HaConfig {
            role,
            key: key.to_vec(),
            interval: Duration::from_millis(200),
            misses: 5,
            hold: Duration::from_secs(10),
            relay_check: Duration::from_secs(1),
            retry: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            yield_time: Duration::from_secs(10),
            epoch,
        }
    }

    /// The peer is lost after this long without a valid heartbeat.
    pub fn dead_time(&self) -> Duration {
        self.interval * self.misses
    }

    /// The relay mode that gives this node the lines (provider on A, master on B, slave on D):
    /// mode 1 (A–B) for the master, mode 0 (A–D, also the relay's rest position) for the slave.
    pub fn own_mode(&self) -> u8 {
        match self.role {
            Role::Master => 1,
            Role::Slave => 0,
        }
    }
}

/// The node's hold on the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Spans inactive; watching the peer.
    Standby,
    /// Heartbeats lost: asking the peer's HTTP API whether it is alive (second path).
    Probing,
    /// The berofos was told to give us the lines; waiting for the mode read back.
    Acquiring,
    /// The relay gives us the lines and our spans are active.
    Active,
}

/// What the event loop must do for the node; the answer comes back through `handle_probe` or
/// `handle_relay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ProbePeer,
    SetRelay { mode: u8 },
    ReadRelay,
    ActivateSpans,
    DeactivateSpans,
}

/// The peer's health as its HTTP API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Healthy,
    Unhealthy,
    Unreachable,
}

/// The berofos could not be reached (or did not answer in time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayUnreachable;

/// What happened, for the status page and the failover history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    State { from: State, to: State, reason: &'static str },
    Rejected(heartbeat::Error),
    PeerLost,
    PeerFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Probe,
    SetRelay,
    ReadRelay,
}

#[derive(Debug, Clone, Copy)]
struct PeerView {
    hb: Heartbeat,
    at: Instant,
}

/// One node.
#[derive(Debug)]
pub struct Node {
    cfg: HaConfig,
    state: State,
    started: Instant,
    health: Health,
    healthy_since: Option<Instant>,
    peer: Option<PeerView>,
    peer_lost_reported: bool,
    guard: ReplayGuard,
    seq: u64,
    next_tx: Instant,
    pending: Option<(Pending, Instant)>,
    not_before: Instant,
    probe_ok_until: Option<Instant>,
    next_relay_check: Instant,
    yielding_until: Option<Instant>,
    /// The master yielded the lines by hand: no automatic failback until it holds them again.
    no_failback: bool,
    /// The relay was found in the peer's mode while we were active: the peer is alive and took
    /// the lines. Until we hear it again, an unreachable peer keeps them.
    lost_to_peer: bool,
    nobody_active_since: Option<Instant>,
    /// The master asks the slave, in its heartbeats, to hand the lines back (failback).
    want_failback: bool,
    transmit: VecDeque<[u8; heartbeat::LEN]>,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
}

impl Node {
    pub fn new(cfg: HaConfig, now: Instant) -> Node {
        Node {
            cfg,
            state: State::Standby,
            started: now,
            health: Health::default(),
            healthy_since: None,
            peer: None,
            peer_lost_reported: false,
            guard: ReplayGuard::default(),
            seq: 0,
            next_tx: now,
            pending: None,
            not_before: now,
            probe_ok_until: None,
            next_relay_check: now,
            yielding_until: None,
            no_failback: false,
            lost_to_peer: false,
            nobody_active_since: None,
            want_failback: false,
            transmit: VecDeque::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn config(&self) -> &HaConfig {
        &self.cfg
    }

    /// The last heartbeat accepted from the peer and when it came.
    pub fn peer(&self) -> Option<(Heartbeat, Instant)> {
        self.peer.map(|p| (p.hb, p.at))
    }

    fn peer_alive(&self, now: Instant) -> bool {
        self.peer.is_some_and(|p| now < p.at + self.cfg.dead_time())
    }

    fn goto(&mut self, to: State, reason: &'static str) {
        if to != self.state {
            log::info!("ha: {:?} -> {to:?}: {reason}", self.state);
            self.events.push_back(Event::State { from: self.state, to, reason });
            self.state = to;
        }
    }

    fn request(&mut self, now: Instant, what: Pending, action: Action) {
        self.pending = Some((what, now + self.cfg.request_timeout));
        self.actions.push_back(action);
    }

    fn acquire(&mut self, now: Instant, reason: &'static str) {
        self.goto(State::Acquiring, reason);
        self.request(now, Pending::SetRelay, Action::SetRelay { mode: self.cfg.own_mode() });
    }

    fn release(&mut self, reason: &'static str) {
        self.actions.push_back(Action::DeactivateSpans);
        self.goto(State::Standby, reason);
    }

    /// The node's own health, as the event loop measures it.
    pub fn handle_health(&mut self, now: Instant, health: Health) {
        match (self.health.healthy(), health.healthy()) {
            (false, true) => self.healthy_since = Some(now),
            (_, false) => self.healthy_since = None,
            _ => {}
        }
        self.health = health;
        self.evaluate(now);
    }

    /// A datagram from the peer's heartbeat socket.
    pub fn handle_heartbeat(&mut self, now: Instant, data: &[u8]) {
        let hb = match Heartbeat::parse(data, &self.cfg.key).and_then(|hb| self.guard.check(&hb).map(|()| hb)) {
            Ok(hb) if hb.role != self.cfg.role => hb,
            Ok(_) => {
                log::warn!("ha: heartbeat from a node with our own role: both configured {:?}?", self.cfg.role);
                return;
            }
            Err(e) => {
                self.events.push_back(Event::Rejected(e));
                return;
            }
        };
        if !self.peer_alive(now) {
            self.events.push_back(Event::PeerFound);
        }
        self.peer_lost_reported = false;
        self.lost_to_peer = false;
        self.peer = Some(PeerView { hb, at: now });
        self.evaluate(now);
    }

    /// The answer to `Action::ProbePeer`.
    pub fn handle_probe(&mut self, now: Instant, probe: Probe) {
        if self.pending.map(|p| p.0) != Some(Pending::Probe) {
            return;
        }
        self.pending = None;
        match probe {
            Probe::Healthy => {
                // Heartbeats lost, the peer alive: a network split. Taking over now would
                // give the lines to one node while the other still serves calls.
                self.probe_ok_until = Some(now + self.cfg.dead_time());
                self.goto(State::Standby, "peer alive over the second path");
            }
            Probe::Unhealthy => self.acquire(now, "peer lost and unhealthy over the second path"),
            Probe::Unreachable if self.lost_to_peer => {
                // A full split after the peer moved the relay: it holds the lines and may be
                // serving calls; taking them back would only make the two of us flap.
                self.not_before = now + self.cfg.retry;
                self.goto(State::Standby, "peer took the lines and cannot be reached: leaving them");
            }
            Probe::Unreachable => self.acquire(now, "peer lost on both paths"),
        }
    }

    /// The answer to `SetRelay` or `ReadRelay`: the mode read back, or unreachable.
    pub fn handle_relay(&mut self, now: Instant, result: Result<u8, RelayUnreachable>) {
        let Some((what, _)) = self.pending else { return };
        if what == Pending::Probe {
            return;
        }
        self.pending = None;
        let ours = result == Ok(self.cfg.own_mode());
        match (what, self.state, ours) {
            (Pending::SetRelay, State::Acquiring, true) => {
                self.actions.push_back(Action::ActivateSpans);
                self.no_failback = false;
                self.next_relay_check = now + self.cfg.relay_check;
                self.goto(State::Active, "relay reports our mode");
            }
            (Pending::SetRelay, State::Acquiring, false) => {
                // No fence, no lines: without the berofos we cannot know who holds them.
                self.not_before = now + self.cfg.retry;
                self.goto(State::Standby, if result.is_err() { "berofos unreachable" } else { "relay refused" });
            }
            (Pending::ReadRelay, State::Active, false) if result.is_ok() => {
                self.lost_to_peer = true;
                self.release("relay gives the lines to the peer");
            }
            // Unreachable while active: nobody else can move the relay either; keep the lines.
            _ => {}
        }
    }

    /// Manual switchover: the active node hands the lines over; a standby node takes them.
    pub fn switchover(&mut self, now: Instant) {
        match self.state {
            State::Active => {
                self.yielding_until = Some(now + self.cfg.yield_time);
                self.no_failback = self.cfg.role == Role::Master;
                self.release("manual switchover: yielding");
            }
            State::Standby if self.health.healthy() => {
                self.yielding_until = None;
                self.acquire(now, "manual switchover: taking the lines");
            }
            _ => {}
        }
    }

    /// Timers: heartbeats, request deadlines, and a fresh look at the decision table.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now >= self.next_tx {
            self.seq += 1;
            let hb = Heartbeat {
                role: self.cfg.role,
                state: match self.state {
                    State::Standby | State::Probing => PeerState::Standby,
                    State::Acquiring => PeerState::Acquiring,
                    State::Active => PeerState::Active,
                },
                health: self.health,
                yielding: self.yielding_until.is_some_and(|t| now < t),
                failback: self.want_failback,
                epoch: self.cfg.epoch,
                seq: self.seq,
            };
            self.transmit.push_back(hb.emit(&self.cfg.key));
            self.next_tx = (self.next_tx + self.cfg.interval).max(now);
        }
        if let Some((what, deadline)) = self.pending {
            if now >= deadline {
                match what {
                    Pending::Probe => self.handle_probe(now, Probe::Unreachable),
                    Pending::SetRelay | Pending::ReadRelay => self.handle_relay(now, Err(RelayUnreachable)),
                }
            }
        }
        if self.peer.is_some() && !self.peer_alive(now) && !self.peer_lost_reported {
            self.peer_lost_reported = true;
            self.events.push_back(Event::PeerLost);
        }
        self.evaluate(now);
    }

    /// The decision table (module documentation of `ha`), row by row.
    fn evaluate(&mut self, now: Instant) {
        if self.pending.is_some() {
            return;
        }
        let alive = self.peer_alive(now);
        let peer = self.peer.map(|p| p.hb).filter(|_| alive);
        let peer_holds = peer.is_some_and(|p| p.state != PeerState::Standby && p.health.healthy() && !p.yielding);
        if peer_holds || self.state == State::Active {
            self.nobody_active_since = None;
        } else if self.nobody_active_since.is_none() {
            self.nobody_active_since = Some(now);
        }
        let failback_asked = peer.is_some_and(|p| {
            p.role == Role::Master && p.failback && p.state == PeerState::Standby && p.health.healthy()
        });
        if self.state != State::Standby {
            self.want_failback = false;
        }
        match self.state {
            State::Active => {
                if !self.health.healthy() {
                    // Row A1: we are sick; the peer sees it in our heartbeat and takes over.
                    self.release("own health failed");
                } else if self.cfg.role == Role::Slave && failback_asked {
                    // Row A6: the master has been healthy for the hold time and asks for the
                    // lines: let go first, so that the two never hold them together.
                    self.yielding_until = Some(now + self.cfg.yield_time);
                    self.next_tx = now;
                    self.release("failback: the master asks for the lines");
                } else if (peer.is_some_and(|p| p.state == PeerState::Active) || !alive) && now >= self.next_relay_check
                {
                    // Rows A2/A3: two claimants, or a silent peer: the relay decides.
                    self.next_relay_check = now + self.cfg.relay_check;
                    self.request(now, Pending::ReadRelay, Action::ReadRelay);
                }
            }
            State::Standby => {
                if peer_holds || peer.is_some_and(|p| p.yielding) {
                    // A yield ends once the peer holds the lines (it served its purpose), or when
                    // the peer hands them back (a switchover from its side): else nobody would
                    // hold them, or both would answer each other's stale yield.
                    self.yielding_until = None;
                }
                let healthy = self.health.healthy();
                let yielding = self.yielding_until.is_some_and(|t| now < t);
                if !healthy || yielding || now < self.not_before {
                    // Row S1: never take lines while sick, just after yielding them, or while
                    // backing off from a failed attempt.
                    return;
                }
                match peer {
                    Some(p) if peer_holds => {
                        // Row S2: the peer holds the lines; only the master's failback moves them.
                        // The master asks in its heartbeats; the slave yields (row A6) and row S3
                        // then moves the relay.
                        let held_long = self.healthy_since.is_some_and(|t| now >= t + self.cfg.hold);
                        let want =
                            self.cfg.role == Role::Master && held_long && !self.no_failback && p.role == Role::Slave;
                        if want && !self.want_failback {
                            log::info!("ha: failback: healthy for the hold time, asking the slave for the lines");
                            self.next_tx = now;
                        }
                        self.want_failback = want;
                    }
                    Some(p) if p.yielding => self.acquire(now, "peer yields the lines"),
                    Some(p) if !p.health.healthy() => self.acquire(now, "peer reports itself unhealthy"),
                    Some(_) => {
                        // Row S5: both standby and healthy: the master takes the lines, the
                        // slave only if the master has not after the hold time.
                        let waited = self.nobody_active_since.is_some_and(|t| now >= t + self.cfg.hold);
                        if self.cfg.role == Role::Master || waited {
                            self.acquire(now, "nobody holds the lines");
                        }
                    }
                    None if now < self.started + self.cfg.dead_time() => {
                        // Row S6: just started, the peer's heartbeats may not have come yet.
                    }
                    None if self.probe_ok_until.is_some_and(|t| now < t) => {
                        // Row S7: heartbeats lost, the peer's API says it is alive.
                    }
                    None => {
                        // Row S8: heartbeats lost: ask the second path before touching the relay.
                        self.goto(State::Probing, "peer heartbeats lost");
                        self.request(now, Pending::Probe, Action::ProbePeer);
                    }
                }
            }
            State::Probing | State::Acquiring => {}
        }
    }

    /// The next heartbeat datagram to send to the peer.
    pub fn poll_transmit(&mut self) -> Option<[u8; heartbeat::LEN]> {
        self.transmit.pop_front()
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` is next due: the next heartbeat or a request's deadline. The
    /// decision table is looked at then too, so decisions land within one interval.
    pub fn poll_timeout(&self) -> Instant {
        self.pending.map_or(self.next_tx, |(_, deadline)| deadline.min(self.next_tx))
    }

    /// Whether automatic failback is off because the master yielded by hand.
    pub fn failback_suppressed(&self) -> bool {
        self.no_failback
    }
}
