//! Proves that Q.921 carries a call's frames without a heap allocation once its queues have
//! grown: a counting global allocator watches this thread while a PRI TE and NT exchange
//! thousands of I frames the size of a SETUP and the RR frames acknowledging them.
//!
//! This is the steady state of a D-channel (ARCHITECTURE.md's invariant for `isdn::q921`):
//! `dl_data_request` keeps messages of up to `Octets::INLINE` octets inline, `handle_frame` lends
//! the DL-DATA-indication from the frame, and `poll_transmit` lends frames from a buffer that has
//! stopped growing. Longer frames, TEI management and the first frames (which grow the queues)
//! may allocate and are outside the count.

use std::cell::Cell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use gateway_daemon::isdn::octets::Octets;
use gateway_daemon::isdn::q921::FrameOctets;
use gateway_daemon::isdn::{Q921Config, Q921Event, Role, Q921};

#[path = "../../media-dsp/tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, ARMED, COUNT};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The SETUP of `cargo xtask bench isdn`'s call (31 octets: the longest message of a basic call).
const SETUP: [u8; 31] = [
    0x08, 0x02, 0x00, 0x01, 0x05, 0x04, 0x03, 0x80, 0x90, 0xa3, 0x18, 0x03, 0xa1, 0x83, 0x81, 0x6c, 0x06, 0x00, 0x80,
    0x35, 0x36, 0x37, 0x38, 0x70, 0x05, 0x80, 0x31, 0x32, 0x33, 0x34, 0xa1,
];

struct Pair {
    nodes: [Q921; 2],
    now: Instant,
    wire: VecDeque<(usize, FrameOctets)>,
    received: [u64; 2],
    frames: u64,
}

impl Pair {
    /// Moves every frame across and drains the events until both sides are quiet.
    fn settle(&mut self) {
        loop {
            for i in 0..2 {
                while let Some(f) = self.nodes[i].poll_transmit() {
                    self.frames += 1;
                    self.wire.push_back((i, FrameOctets::from_slice(f)));
                }
                while let Some(e) = self.nodes[i].poll_event() {
                    if let Q921Event::DataIndication { data, .. } = &e {
                        assert_eq!(&data[..], &SETUP[..]);
                        self.received[i] += 1;
                    }
                }
            }
            if self.wire.is_empty() {
                return;
            }
            self.now += Duration::from_millis(1);
            while let Some((from, f)) = self.wire.pop_front() {
                let to = 1 - from;
                if let Some(d) = self.nodes[to].handle_frame(self.now, &f) {
                    assert!(!d.unit);
                    assert_eq!(d.data, &SETUP[..]);
                    self.received[to] += 1;
                }
            }
        }
    }

    /// One I frame each way, as a SETUP and its answer travel, with their acknowledgements.
    fn exchange(&mut self) {
        self.nodes[1].dl_data_request(self.now, &SETUP).expect("the link is up");
        self.settle();
        self.nodes[0].dl_data_request(self.now, &SETUP).expect("the link is up");
        self.settle();
    }
}

#[test]
fn q921_carries_a_calls_frames_without_allocating() {
    assert!(SETUP.len() <= Octets::INLINE - 4, "the SETUP and its LAPD header fit inline");
    let now = Instant::now();
    let mut p = Pair {
        nodes: [Q921::new(Q921Config::pri(Role::Nt)), Q921::new(Q921Config::pri(Role::Te))],
        now,
        wire: VecDeque::new(),
        received: [0; 2],
        frames: 0,
    };
    p.nodes[1].dl_establish_request(now).expect("point-to-point TE");
    p.settle();
    // Warm-up: the queues grow to what the exchange needs.
    for _ in 0..100 {
        p.exchange();
    }
    let before = (p.received, p.frames);
    ARMED.with(|a| a.set(true));
    for _ in 0..5000 {
        p.exchange();
    }
    ARMED.with(|a| a.set(false));
    let allocations = COUNT.with(Cell::get);
    // The count could be wrong only if nothing moved: check that it did.
    assert_eq!([p.received[0] - before.0[0], p.received[1] - before.0[1]], [5000, 5000]);
    assert!(p.frames - before.1 >= 20_000, "I frames and their RRs crossed: {}", p.frames - before.1);
    assert_eq!(allocations, 0, "Q.921 allocated {allocations} times in 10000 I frames and their acknowledgements");
    // And the counter does count: a frame longer than the inline capacity goes to the heap.
    ARMED.with(|a| a.set(true));
    let long = Octets::from_slice(&[0; Octets::INLINE + 1]);
    ARMED.with(|a| a.set(false));
    assert_eq!(long.len(), Octets::INLINE + 1);
    assert_eq!(COUNT.with(Cell::get), 1);
}
