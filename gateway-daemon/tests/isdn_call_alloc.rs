//! Counts the heap allocations of a whole call through Q.921 and Q.931 (the cycle of `cargo
//! xtask bench isdn`: SETUP, CALL PROCEEDING, ALERTING, CONNECT, CONNECT ACK, DISCONNECT,
//! RELEASE, RELEASE COMPLETE in I frames, and an RR for the last) and holds the count to a ceiling.
//!
//! Q.921 moves frames without allocating (`isdn_alloc.rs`); Q.931 holds party numbers inline
//! (`q931::Digits`), encodes what it sends without building a message model and reads what it
//! receives in place (`q931::MessageView`; the SETUP goes to the gateway as its octets, inline),
//! so a call allocates nothing. The ceiling is today's count, so a change that adds allocations to
//! the call path fails here.

use std::cell::Cell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use gateway_daemon::isdn::q921::FrameOctets;
use gateway_daemon::isdn::q931::{ie::cause, Side};
use gateway_daemon::isdn::{Q921Config, Q921Event, Q931Config, Q931Event, Role, SetupRequest, Q921, Q931};

#[path = "../../media-dsp/tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, ARMED, COUNT};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations allowed per call, both sides together (measured: see the module doc).
const CEILING: u64 = 0;

struct Node {
    l2: Q921,
    l3: Q931,
    up: bool,
    released: bool,
}

/// Node 0 is the network side, node 1 the user side that places the calls.
struct Pair {
    nodes: [Node; 2],
    now: Instant,
    wire: VecDeque<(usize, FrameOctets)>,
    frames: u64,
}

impl Pair {
    fn new() -> Pair {
        let node = |role, side| Node {
            l2: Q921::new(Q921Config::pri(role)),
            l3: Q931::new(Q931Config::pri(side)),
            up: false,
            released: false,
        };
        Pair {
            nodes: [node(Role::Nt, Side::Network), node(Role::Te, Side::User)],
            now: Instant::now(),
            wire: VecDeque::new(),
            frames: 0,
        }
    }

    /// Glues one node's layers as the daemon does and plays the gateway as the bench does.
    fn service(&mut self, i: usize) -> bool {
        let now = self.now;
        let mut busy = false;
        let n = &mut self.nodes[i];
        while let Some(e) = n.l2.poll_event() {
            busy = true;
            match e {
                Q921Event::DataIndication { tei: Some(t), data } => n.l3.handle_dl_data(now, t, &data),
                Q921Event::EstablishIndication { tei: Some(t) } | Q921Event::EstablishConfirm { tei: Some(t) } => {
                    n.up = true;
                    n.l3.handle_dl_established(now, t);
                }
                _ => {}
            }
        }
        while let Some(e) = n.l3.poll_event() {
            busy = true;
            let l3 = &mut n.l3;
            let done = match e {
                Q931Event::IncomingSetup { call, .. } => {
                    l3.proceeding(now, call).and_then(|()| l3.alerting(now, call)).and_then(|()| l3.connect(now, call))
                }
                Q931Event::Connected { call } if i == 1 => l3.disconnect(now, call, cause::NORMAL_CLEARING),
                Q931Event::Disconnected { call, .. } => l3.release(now, call, cause::NORMAL_CLEARING),
                Q931Event::Released { .. } => {
                    n.released = true;
                    Ok(())
                }
                _ => Ok(()),
            };
            done.expect("the scripted call follows the state table");
        }
        while let Some((tei, data)) = n.l3.poll_transmit() {
            busy = true;
            n.l2.dl_data_request_tei(now, tei, data).expect("the PRI data link is up");
        }
        while let Some(f) = n.l2.poll_transmit() {
            busy = true;
            self.frames += 1;
            self.wire.push_back((i, FrameOctets::from_slice(f)));
        }
        busy
    }

    fn settle(&mut self) {
        loop {
            let busy = self.service(0) | self.service(1);
            self.now += Duration::from_millis(1);
            let crossed = !self.wire.is_empty();
            while let Some((from, f)) = self.wire.pop_front() {
                let n = &mut self.nodes[1 - from];
                if let Some(d) = n.l2.handle_frame(self.now, &f) {
                    n.l3.handle_dl_data(self.now, d.tei, d.data);
                }
            }
            if !busy && !crossed {
                return;
            }
        }
    }

    /// One call; the request is built before counting, as the gateway's own data.
    fn cycle(&mut self, count: bool) {
        self.cycle_with(SetupRequest::speech("1234", "5678"), count);
    }

    fn cycle_with(&mut self, req: SetupRequest, count: bool) {
        for n in &mut self.nodes {
            n.released = false;
        }
        ARMED.with(|a| a.set(count));
        self.nodes[1].l3.setup(self.now, req).expect("an idle B-channel");
        self.settle();
        ARMED.with(|a| a.set(false));
        assert!(self.nodes.iter().all(|n| n.released && n.l3.calls().is_empty()), "the call did not clear");
    }
}

#[test]
fn a_call_through_q921_and_q931_stays_under_its_allocation_ceiling() {
    let mut p = Pair::new();
    p.nodes[1].l2.dl_establish_request(p.now).expect("point-to-point TE");
    p.settle();
    assert!(p.nodes.iter().all(|n| n.up), "layer 2 came up on both sides");
    // Warm-up: queues and reused buffers grow to what a call needs.
    for _ in 0..50 {
        p.cycle(false);
    }
    let calls = 1000u64;
    let frames = p.frames;
    for _ in 0..calls {
        p.cycle(true);
    }
    let allocations = COUNT.with(Cell::get);
    // Calls really crossed the line: exactly eight I frames each, and the RR of the last, which
    // nothing answers (the others are acknowledged by the N(R) of their answer).
    assert_eq!(p.frames - frames, 9 * calls, "frames per call: {}", (p.frames - frames) / calls);
    let per_call = allocations / calls;
    eprintln!("allocations per call: {per_call} ({allocations} in {calls} calls)");
    assert!(
        allocations <= CEILING * calls,
        "calls allocate {per_call} times each ({allocations} in {calls}), more than the ceiling of {CEILING}"
    );
    // The count is no artefact: a call whose SETUP is longer than the octets held inline (long
    // numbers) does allocate, and the counter sees it.
    p.cycle_with(SetupRequest::speech(&"1".repeat(20), &"2".repeat(20)), true);
    let long = COUNT.with(Cell::get) - allocations;
    assert!(long > 0, "the counter saw no allocation in a call with a long SETUP");
}
