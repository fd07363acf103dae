//! Fuzz target: two Q.921 entities wired back to back, driven by a random sequence of frame
//! deliveries, losses, corrupted frames, timer expiries, layer 1 going down and up, and layer 3
//! requests.
//!
//! Invariants checked after every step: V(A) ≤ V(S) ≤ V(A) + k (modulo 128) on every data link,
//! every frame either side sends parses and re-emits unchanged, and no timer is left overdue after
//! `handle_timeout` (which would spin the event loop).
#![no_main]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use gateway_daemon::isdn::q921::{FrameRepr, Layer2Persistence, Mode, Q921Config, Role, Q921};
use libfuzzer_sys::fuzz_target;

struct Bed {
    nodes: [Q921; 2],
    /// Frames in flight towards node 0 and node 1.
    wire: [VecDeque<Vec<u8>>; 2],
    now: Instant,
}

impl Bed {
    fn drain(&mut self) {
        for i in 0..2 {
            while let Some(frame) = self.nodes[i].poll_transmit().map(|f| f.to_vec()) {
                let parsed = FrameRepr::parse(&frame).unwrap_or_else(|e| panic!("node {i} sent {frame:02x?}: {e}"));
                assert_eq!(parsed.to_bytes(), frame);
                // The bus is at most a few frames deep in practice; cap it so inputs stay cheap.
                if self.wire[1 - i].len() < 64 {
                    self.wire[1 - i].push_back(frame);
                }
            }
            while self.nodes[i].poll_event().is_some() {}
            for link in self.nodes[i].links() {
                let outstanding = link.vs.wrapping_sub(link.va) & 0x7f;
                assert!(outstanding <= link.k, "node {i}: {link:?}");
                assert!(link.vs < 128 && link.va < 128 && link.vr < 128, "node {i}: {link:?}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, ops)) = data.split_first() else { return };
    let persistence = if setup & 1 == 0 { Layer2Persistence::KeepUp } else { Layer2Persistence::LeaveDown };
    let (a, b) = match (setup >> 1) % 3 {
        0 => (Q921Config::pri(Role::Nt), Q921Config::pri(Role::Te)),
        1 => (Q921Config::bri(Role::Nt, Mode::PointToPoint), Q921Config::bri(Role::Te, Mode::PointToPoint)),
        _ => (Q921Config::bri(Role::Nt, Mode::PointToMultipoint), Q921Config::bri(Role::Te, Mode::PointToMultipoint)),
    };
    let configs = [a, b].map(|c| Q921Config { layer2_persistence: persistence, seed: u32::from(setup) + 1, ..c });
    let mut bed = Bed { nodes: configs.map(Q921::new), wire: [VecDeque::new(), VecDeque::new()], now: Instant::now() };
    let mut ops = ops.iter().copied();
    let mut counter = 0u32;
    while let Some(op) = ops.next() {
        let node = usize::from(op & 1);
        let now = bed.now;
        match op >> 1 {
            0 => {
                if let Some(frame) = bed.wire[node].pop_front() {
                    let _ = bed.nodes[node].handle_frame(now, &frame);
                }
            }
            1 => {
                bed.wire[node].pop_front();
            }
            2 => {
                // A corrupted copy of the next frame: one octet flipped.
                let flip = ops.next().unwrap_or(0);
                if let Some(mut frame) = bed.wire[node].front().cloned() {
                    let at = usize::from(flip) % frame.len().max(1);
                    if let Some(o) = frame.get_mut(at) {
                        *o ^= flip | 1;
                    }
                    let _ = bed.nodes[node].handle_frame(now, &frame);
                }
            }
            3 => {
                let next = bed.nodes.iter().filter_map(Q921::poll_timeout).min();
                if let Some(t) = next {
                    bed.now = bed.now.max(t);
                    for q in &mut bed.nodes {
                        q.handle_timeout(bed.now);
                        assert!(q.poll_timeout().is_none_or(|t| t > bed.now), "a timer left overdue");
                    }
                }
            }
            4 => bed.now += Duration::from_millis(u64::from(ops.next().unwrap_or(0)) * 10),
            5 => {
                counter += 1;
                let len = usize::from(ops.next().unwrap_or(0));
                let msg: Vec<u8> = counter.to_be_bytes().iter().copied().cycle().take(len + 1).collect();
                let _ = bed.nodes[node].dl_data_request(now, &msg);
                let tei = ops.next().unwrap_or(64) & 0x7f;
                let _ = bed.nodes[node].dl_data_request_tei(now, tei, &msg);
            }
            6 => {
                let _ = bed.nodes[node].dl_establish_request(now);
            }
            7 => {
                let _ = bed.nodes[node].dl_release_request(now);
            }
            8 => {
                let busy = ops.next().unwrap_or(0) & 1 == 1;
                bed.nodes[node].set_own_busy(now, busy);
            }
            9 => {
                let _ = bed.nodes[node].dl_unit_data_request(now, b"broadcast");
            }
            10 => {
                let tei = ops.next().unwrap_or(64) & 0x7f;
                let _ = bed.nodes[node].check_tei(now, tei);
            }
            11 => {
                let tei = ops.next().unwrap_or(64) & 0x7f;
                let _ = bed.nodes[node].remove_tei(now, tei);
            }
            13 => {
                // Layer 1 (layer1_presence = required): PH-DEACTIVATE or PH-ACTIVATE-indication.
                if bed.nodes[node].layer1_active() {
                    bed.nodes[node].ph_deactivate_indication(now);
                } else {
                    bed.nodes[node].ph_activate_indication(now);
                }
            }
            12 => {
                // Raw octets from the input, as a foreign peer might send them.
                let len = usize::from(ops.next().unwrap_or(0) % 16);
                let frame: Vec<u8> = ops.by_ref().take(len).collect();
                let _ = bed.nodes[node].handle_frame(now, &frame);
            }
            _ => {
                let tei = ops.next().unwrap_or(64) & 0x7f;
                let _ = bed.nodes[node].dl_establish_request_tei(now, tei);
                let _ = bed.nodes[node].dl_release_request_tei(now, tei);
            }
        }
        bed.drain();
    }
});
