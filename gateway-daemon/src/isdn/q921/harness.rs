//! A virtual-time test bed for Q.921 entities, after quinn-proto's `tests/util.rs`: entities wired
//! to one D-channel, a scheduler that delivers frames after a delay (or drops them), and a clock
//! that jumps to the next due frame or timer.
//!
//! Node 0 is on one side of the line and every other node on the other: with two nodes this is a
//! point-to-point line; with more, node 0 is the NT of an S bus whose TEs all hear it but not one
//! another (the TE-to-NT direction of a bus reaches only the NT).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::frame::FrameRepr;
use super::{LinkState, LinkStatus, Q921Config, Q921Event, Q921};

/// One frame on the wire, as the test saw it.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    pub(crate) at: Duration,
    pub(crate) from: usize,
    pub(crate) octets: Vec<u8>,
    pub(crate) dropped: bool,
}

type DropFilter = Box<dyn FnMut(usize, &[u8]) -> bool>;

pub(crate) struct Line {
    pub(crate) nodes: Vec<Q921>,
    pub(crate) events: Vec<Vec<Q921Event>>,
    pub(crate) wire: Vec<Wire>,
    pub(crate) start: Instant,
    pub(crate) now: Instant,
    pub(crate) delay: Duration,
    /// Nodes whose frames are lost and who receive nothing (a pulled plug).
    pub(crate) dead: Vec<bool>,
    /// Decides per frame (sender, octets) whether it is lost.
    pub(crate) drop: Option<DropFilter>,
    in_flight: VecDeque<(Instant, usize, Vec<u8>)>,
}

impl Line {
    pub(crate) fn new(configs: &[Q921Config]) -> Line {
        let start = Instant::now();
        Line {
            nodes: configs.iter().map(|c| Q921::new(*c)).collect(),
            events: vec![Vec::new(); configs.len()],
            wire: Vec::new(),
            start,
            now: start,
            delay: Duration::from_millis(5),
            dead: vec![false; configs.len()],
            drop: None,
            in_flight: VecDeque::new(),
        }
    }

    /// Virtual time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn receivers(&self, from: usize) -> Vec<usize> {
        if from == 0 {
            (1..self.nodes.len()).collect()
        } else {
            vec![0]
        }
    }

    /// Moves what the nodes queued onto the wire and into the event logs, checking the window
    /// invariant of every link on the way.
    fn collect(&mut self) {
        for i in 0..self.nodes.len() {
            while let Some(octets) = self.nodes[i].poll_transmit().map(|f| f.to_vec()) {
                let lost = self.dead[i] || self.drop.as_mut().is_some_and(|d| d(i, &octets));
                self.wire.push(Wire { at: self.elapsed(), from: i, octets: octets.clone(), dropped: lost });
                if !lost {
                    self.in_flight.push_back((self.now + self.delay, i, octets));
                }
            }
            while let Some(e) = self.nodes[i].poll_event() {
                self.events[i].push(e);
            }
            for link in self.nodes[i].links() {
                check_invariants(&link);
            }
        }
    }

    /// Runs the line until virtual time reaches `until` or nothing is left to do.
    pub(crate) fn run_until(&mut self, until: Instant) {
        loop {
            self.collect();
            let next_frame = self.in_flight.front().map(|f| f.0);
            let next_timer = self.nodes.iter().filter_map(Q921::poll_timeout).min();
            let next = match (next_frame, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => return,
                },
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = self.now.max(next);
            while self.in_flight.front().is_some_and(|f| f.0 <= self.now) {
                let Some((_, from, octets)) = self.in_flight.pop_front() else { break };
                for to in self.receivers(from) {
                    if !self.dead[to] {
                        self.receive(to, &octets);
                    }
                }
            }
            for node in &mut self.nodes {
                if node.poll_timeout().is_some_and(|t| t <= self.now) {
                    node.handle_timeout(self.now);
                    // An overdue timer left behind would spin the daemon's event loop.
                    assert!(node.poll_timeout().is_none_or(|t| t > self.now), "timer left overdue");
                }
            }
        }
    }

    /// Node `to` takes a frame; a DL-DATA-indication it lends goes into its event log, where it
    /// belongs: before everything still queued (it is lent only when nothing is).
    pub(crate) fn receive(&mut self, to: usize, octets: &[u8]) {
        if let Some(data) = self.nodes[to].handle_frame(self.now, octets) {
            self.events[to].push(data.to_event());
        }
    }

    pub(crate) fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Lets the frames in flight and their answers settle (well under T200).
    pub(crate) fn settle(&mut self) {
        self.run_for(Duration::from_millis(200));
    }

    /// Takes the events node `i` reported so far.
    pub(crate) fn take_events(&mut self, i: usize) -> Vec<Q921Event> {
        std::mem::take(&mut self.events[i])
    }

    /// The trace of every frame sent so far, one line each: `t=1.000 0>1 SABME sapi=0 tei=0 C p=1`.
    pub(crate) fn trace(&self) -> Vec<String> {
        self.wire
            .iter()
            .map(|w| {
                let text = match FrameRepr::parse(&w.octets) {
                    Ok(f) => f.trace(self.nodes[w.from].config().role).to_string(),
                    Err(e) => format!("invalid: {e}"),
                };
                let lost = if w.dropped { " (lost)" } else { "" };
                format!("t={:.3} {}> {text}{lost}", w.at.as_secs_f64(), w.from)
            })
            .collect()
    }

    /// The trace lines of frames node `from` sent whose text starts with `prefix`.
    pub(crate) fn sent(&self, from: usize, prefix: &str) -> Vec<String> {
        let tag = format!(" {from}> {prefix}");
        self.trace().into_iter().filter(|l| l.contains(&tag)).collect()
    }
}

/// The invariants every data link keeps: V(A) ≤ V(S) ≤ V(A) + k (modulo 128) and the queue
/// of an established link holds at least the outstanding frames.
pub(crate) fn check_invariants(link: &LinkStatus) {
    let outstanding = link.vs.wrapping_sub(link.va) & 0x7f;
    assert!(outstanding <= link.k, "V(S)={} V(A)={} k={}: {link:?}", link.vs, link.va, link.k);
    if matches!(link.state, LinkState::MultipleFrameEstablished | LinkState::TimerRecovery) {
        assert!(usize::from(outstanding) <= link.queued, "{link:?}");
    }
    assert!(link.vs < 128 && link.va < 128 && link.vr < 128, "{link:?}");
}
