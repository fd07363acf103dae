//! Two HA nodes, a berofos and the network between them on virtual time (10 ms steps): kills,
//! hangs, unhealthy reports, partitions with and without the second path, an unreachable
//! berofos, failback and manual switchover. Every step records who holds the lines.

use std::time::{Duration, Instant};

use super::heartbeat::{Health, Role};
use super::node::{Action, HaConfig, Node, Probe, RelayUnreachable, State};

const KEY: &[u8] = b"pair key";
const STEP: Duration = Duration::from_millis(10);

/// One node process as the harness sees it.
struct Proc {
    node: Node,
    /// Running (false after kill -9 or while stopped).
    running: bool,
    /// The health it measures for itself.
    health: Health,
    spans_active: bool,
}

struct World {
    t0: Instant,
    now: Instant,
    procs: [Proc; 2],
    /// The berofos relay mode, and whether the nodes can reach the berofos.
    relay: u8,
    berofos_up: bool,
    /// Heartbeats get through (both directions).
    link_up: bool,
    /// The peer's HTTP API reachable (second path).
    api_up: bool,
    /// Milliseconds both nodes had active spans.
    both_active_ms: u64,
}

impl World {
    fn new() -> World {
        let t0 = Instant::now();
        let mk = |role, epoch| {
            let mut cfg = HaConfig::new(role, KEY, epoch);
            cfg.hold = Duration::from_secs(3);
            Proc { node: Node::new(cfg, t0), running: true, health: Health::ok(2), spans_active: false }
        };
        World {
            t0,
            now: t0,
            procs: [mk(Role::Master, 1), mk(Role::Slave, 1)],
            relay: 1,
            berofos_up: true,
            link_up: true,
            api_up: true,
            both_active_ms: 0,
        }
    }

    fn secs(&self) -> f64 {
        (self.now - self.t0).as_secs_f64()
    }

    fn step(&mut self) {
        self.now += STEP;
        let now = self.now;
        for i in 0..2 {
            if !self.procs[i].running {
                continue;
            }
            let health = self.procs[i].health;
            let p = &mut self.procs[i].node;
            p.handle_health(now, health);
            if now >= p.poll_timeout() {
                p.handle_timeout(now);
            }
            while let Some(dgram) = self.procs[i].node.poll_transmit() {
                let other = &mut self.procs[1 - i];
                if self.link_up && other.running {
                    other.node.handle_heartbeat(now, &dgram);
                }
            }
            while let Some(action) = self.procs[i].node.poll_action() {
                self.act(i, action);
            }
            while self.procs[i].node.poll_event().is_some() {}
        }
        if self.procs.iter().all(|p| p.running && p.spans_active) {
            self.both_active_ms += 10;
        }
    }

    /// Answers at once: the harness's berofos and API are fast; timeouts are tested apart.
    fn act(&mut self, i: usize, action: Action) {
        let now = self.now;
        match action {
            Action::ProbePeer => {
                let peer = &self.procs[1 - i];
                let answer = if !self.api_up || !peer.running {
                    Probe::Unreachable
                } else if peer.health.healthy() {
                    Probe::Healthy
                } else {
                    Probe::Unhealthy
                };
                self.procs[i].node.handle_probe(now, answer);
            }
            Action::SetRelay { mode } => {
                let r = if self.berofos_up {
                    self.relay = mode;
                    Ok(self.relay)
                } else {
                    Err(RelayUnreachable)
                };
                self.procs[i].node.handle_relay(now, r);
            }
            Action::ReadRelay => {
                let r = if self.berofos_up { Ok(self.relay) } else { Err(RelayUnreachable) };
                self.procs[i].node.handle_relay(now, r);
            }
            Action::ActivateSpans => self.procs[i].spans_active = true,
            Action::DeactivateSpans => self.procs[i].spans_active = false,
        }
    }

    /// Runs until `cond` holds; returns the virtual seconds it took. Panics after `limit`.
    fn run_until(&mut self, limit: f64, mut cond: impl FnMut(&World) -> bool) -> f64 {
        let start = self.now;
        while !cond(self) {
            assert!((self.now - start).as_secs_f64() < limit, "condition not reached by {:.2} s", self.secs());
            self.step();
        }
        (self.now - start).as_secs_f64()
    }

    fn run_for(&mut self, secs: f64) {
        let end = self.now + Duration::from_secs_f64(secs);
        while self.now < end {
            self.step();
        }
    }

    /// The node whose spans are active and whose mode the relay is in: the one holding the lines.
    fn owner(&self) -> Option<usize> {
        (0..2).find(|&i| {
            let p = &self.procs[i];
            p.running && p.spans_active && p.node.config().own_mode() == self.relay
        })
    }

    fn kill(&mut self, i: usize) {
        // The process is gone: its spans with it.
        self.procs[i].running = false;
        self.procs[i].spans_active = false;
    }

    fn restart(&mut self, i: usize, epoch: u64) {
        let mut cfg = self.procs[i].node.config().clone();
        cfg.epoch = epoch;
        self.procs[i] =
            Proc { node: Node::new(cfg, self.now), running: true, health: Health::ok(2), spans_active: false };
    }
}

const MASTER: usize = 0;
const SLAVE: usize = 1;

fn started() -> World {
    let mut w = World::new();
    w.run_until(3.0, |w| w.owner() == Some(MASTER));
    w.run_for(1.0);
    assert_eq!(w.procs[SLAVE].node.state(), State::Standby);
    w
}

#[test]
fn master_takes_the_lines_at_start() {
    let mut w = World::new();
    let t = w.run_until(3.0, |w| w.owner() == Some(MASTER));
    assert!(t < 1.0, "{t}");
    w.run_for(5.0);
    assert_eq!(w.owner(), Some(MASTER));
    assert_eq!(w.both_active_ms, 0);
}

#[test]
fn kill_of_the_master_fails_over_in_about_a_second() {
    let mut w = started();
    w.kill(MASTER);
    let t = w.run_until(5.0, |w| w.owner() == Some(SLAVE));
    // 5 missed 200 ms heartbeats, then a probe and a relay command.
    assert!((0.9..=1.3).contains(&t), "failover took {t} s");
    assert_eq!(w.relay, 0);
}

#[test]
fn a_hung_master_reporting_unhealthy_hands_over_at_once() {
    let mut w = started();
    w.procs[MASTER].health.media_ticking = false;
    let t = w.run_until(5.0, |w| w.owner() == Some(SLAVE));
    assert!(t < 0.5, "{t}");
    assert!(!w.procs[MASTER].spans_active);
    assert_eq!(w.both_active_ms, 0);
}

#[test]
fn a_stopped_master_fails_over_and_steps_down_when_it_resumes() {
    let mut w = started();
    // SIGSTOP: no heartbeats, no API answers, spans still "active" in the frozen process.
    w.procs[MASTER].running = false;
    w.run_until(5.0, |w| w.relay == 0 && w.procs[SLAVE].spans_active);
    w.procs[MASTER].running = true;
    w.run_until(3.0, |w| !w.procs[MASTER].spans_active);
    assert_eq!(w.owner(), Some(SLAVE));
}

#[test]
fn failback_waits_for_the_hold_time() {
    let mut w = started();
    w.kill(MASTER);
    w.run_until(5.0, |w| w.owner() == Some(SLAVE));
    w.run_for(2.0);
    w.restart(MASTER, 2);
    let t = w.run_until(10.0, |w| w.owner() == Some(MASTER));
    assert!(
        (3.0..=3.8).contains(&t),
        "failback after {t} s, hold is 3 s (and a heartbeat round for the slave to yield)"
    );
    w.run_for(1.0);
    assert_eq!(w.procs[SLAVE].node.state(), State::Standby);
    assert!(!w.procs[SLAVE].spans_active);
    assert_eq!(w.both_active_ms, 0, "the slave yields before the master takes the lines");
}

#[test]
fn a_partition_with_the_second_path_up_changes_nothing() {
    let mut w = started();
    w.link_up = false;
    for _ in 0..1000 {
        w.step();
        assert_eq!(w.owner(), Some(MASTER), "at {:.2} s", w.secs());
        assert!(!w.procs[SLAVE].spans_active);
    }
}

#[test]
fn a_full_partition_leaves_one_owner_at_every_instant() {
    let mut w = started();
    w.link_up = false;
    w.api_up = false;
    let mut owners = Vec::new();
    for _ in 0..1000 {
        w.step();
        // Exactly one node holds the lines at every instant (the relay has one position, and
        // the node it points to is active within a step of the move).
        let holders = (0..2).filter(|&i| w.owner() == Some(i)).count();
        owners.push(w.owner());
        assert!(holders <= 1);
    }
    assert_eq!(w.owner(), Some(SLAVE), "the slave could not tell the master was alive and took the lines");
    // The master read the relay back and stepped down within a relay check.
    assert!(!w.procs[MASTER].spans_active);
    assert!(w.both_active_ms <= 1100, "both active for {} ms", w.both_active_ms);
    assert!(owners.iter().filter(|o| o.is_none()).count() <= 1, "lines without an owner");
    let moves = owners.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(moves <= 2, "the lines flapped {moves} times");
    // The split heals: the master, healthy all along, takes the lines back once (failback).
    w.link_up = true;
    w.api_up = true;
    w.run_until(5.0, |w| w.owner() == Some(MASTER));
    w.run_for(10.0);
    assert_eq!(w.owner(), Some(MASTER));
    assert!(!w.procs[SLAVE].spans_active);
}

#[test]
fn no_node_takes_lines_it_cannot_fence() {
    let mut w = started();
    w.berofos_up = false;
    w.kill(MASTER);
    w.run_for(10.0);
    assert!(!w.procs[SLAVE].spans_active);
    assert_eq!(w.relay, 1);
    // The berofos comes back: the slave takes the lines.
    w.berofos_up = true;
    let t = w.run_until(3.0, |w| w.owner() == Some(SLAVE));
    assert!(t <= 1.1, "{t}");
}

#[test]
fn manual_switchover_both_ways_without_failback_undoing_it() {
    let mut w = started();
    w.procs[MASTER].node.switchover(w.now);
    w.run_until(2.0, |w| w.owner() == Some(SLAVE));
    w.run_for(20.0);
    assert_eq!(w.owner(), Some(SLAVE), "a hand-made switchover is not undone by failback");
    w.procs[MASTER].node.switchover(w.now);
    w.run_until(2.0, |w| w.owner() == Some(MASTER));
    w.run_for(1.0);
    assert!(!w.procs[SLAVE].spans_active);
}

#[test]
fn berofos_timeouts_count_as_unreachable() {
    let t0 = Instant::now();
    let mut n = Node::new(HaConfig::new(Role::Slave, KEY, 1), t0);
    n.handle_health(t0, Health::ok(1));
    let mut now = t0;
    let mut actions = Vec::new();
    // The peer never speaks, the probe is never answered, nor is the relay command.
    while now < t0 + Duration::from_secs(20) {
        now += STEP;
        if now >= n.poll_timeout() {
            n.handle_timeout(now);
        }
        while let Some(a) = n.poll_action() {
            actions.push(a);
        }
    }
    assert!(actions.contains(&Action::ProbePeer));
    assert!(actions.contains(&Action::SetRelay { mode: 0 }));
    assert!(!actions.contains(&Action::ActivateSpans));
    assert_ne!(n.state(), State::Active);
}
