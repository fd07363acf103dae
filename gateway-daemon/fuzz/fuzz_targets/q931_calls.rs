//! Fuzz target: a Q.931 user side and network side back to back, driven by a random sequence of
//! deliveries, losses, injected or corrupted messages, gateway requests, data link events and
//! timer runs.
//!
//! Invariants checked after every step: every message either side sends parses and re-emits
//! unchanged; a B-channel is busy only for a live call that names it (the libpri issue #5
//! lesson); no timer is left overdue after `handle_timeout`; every call (placed or offered) gets
//! exactly one `Released` event. At the end the link goes down and every timer runs out: then no
//! call is left, every call was released, and no channel is busy or restarting.
#![no_main]

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use gateway_daemon::isdn::q931::{CallId, Message, Q931Config, Q931Event, RestartTarget, SetupRequest, Side, Q931};
use libfuzzer_sys::fuzz_target;

struct Bed {
    nodes: [Q931; 2],
    /// Messages in flight towards node 0 and node 1.
    wire: [VecDeque<Vec<u8>>; 2],
    now: Instant,
    /// Per node, every call seen and whether it was released.
    released: [HashMap<CallId, bool>; 2],
}

fn check_channels(q: &Q931) {
    for n in q.busy_channels() {
        let holder = q.channel_table().holder(n).expect("busy channel has a holder");
        let call = q.call(holder).unwrap_or_else(|| panic!("channel {n} held by a gone call"));
        assert_eq!(call.channel, Some(n));
    }
}

impl Bed {
    fn drain(&mut self) {
        for i in 0..2 {
            while let Some((_, out)) = self.nodes[i].poll_transmit().map(|(t, o)| (t, o.to_vec())) {
                let msg = Message::parse(&out).unwrap_or_else(|e| panic!("node {i} sent {out:02x?}: {e}"));
                assert_eq!(msg.to_bytes(), out);
                if self.wire[1 - i].len() < 64 {
                    self.wire[1 - i].push_back(out);
                }
            }
            while let Some(e) = self.nodes[i].poll_event() {
                match e {
                    Q931Event::IncomingSetup { call, .. } => {
                        assert!(self.released[i].insert(call, false).is_none(), "{call} offered twice");
                    }
                    Q931Event::Released { call, .. } => {
                        let seen = self.released[i].insert(call, true);
                        assert_eq!(seen, Some(false), "{call} released without being known, or twice");
                    }
                    _ => {}
                }
            }
            check_channels(&self.nodes[i]);
        }
    }

    fn pick(&self, node: usize, b: u8) -> CallId {
        let calls = self.nodes[node].calls();
        calls.get(usize::from(b) % calls.len().max(1)).map_or(CallId(0), |c| c.id)
    }

    fn timeout(&mut self, node: usize) {
        let now = self.now;
        self.nodes[node].handle_timeout(now);
        assert!(self.nodes[node].poll_timeout().is_none_or(|t| t > now), "timer left overdue");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, ops)) = data.split_first() else { return };
    let (user, net) = match setup % 3 {
        0 => (Q931Config::pri(Side::User), Q931Config::pri(Side::Network)),
        1 => (Q931Config::bri(Side::User, false), Q931Config::bri(Side::Network, false)),
        _ => (Q931Config::bri(Side::User, true), Q931Config::bri(Side::Network, true)),
    };
    let mut bed = Bed {
        nodes: [Q931::new(user), Q931::new(net)],
        wire: [VecDeque::new(), VecDeque::new()],
        now: Instant::now(),
        released: [HashMap::new(), HashMap::new()],
    };
    let mut ops = ops.iter().copied();
    while let Some(op) = ops.next() {
        let node = usize::from(op & 1);
        let arg = ops.next().unwrap_or(0);
        let now = bed.now;
        let call = bed.pick(node, arg);
        let q = &mut bed.nodes[node];
        match (op >> 1) % 16 {
            0 | 1 => {
                if let Some(m) = bed.wire[node].pop_front() {
                    q.handle_dl_data(now, if arg & 1 == 0 { 0 } else { 127 }, &m);
                }
            }
            2 => {
                bed.wire[node].pop_front();
            }
            3 => {
                // A corrupted copy of the next message.
                if let Some(mut m) = bed.wire[node].front().cloned() {
                    let i = usize::from(arg) % m.len().max(1);
                    if let Some(o) = m.get_mut(i) {
                        *o ^= ops.next().unwrap_or(0xff);
                    }
                    q.handle_dl_data(now, 0, &m);
                }
            }
            4 => {
                // Raw octets from the input.
                let len = usize::from(arg % 24);
                let raw: Vec<u8> = ops.by_ref().take(len).collect();
                q.handle_dl_data(now, 0, &raw);
            }
            5 => {
                let mut req = SetupRequest::speech("1234", "5678");
                req.channel = (arg & 0x80 != 0).then_some(arg & 0x1f);
                req.exclusive = arg & 0x40 != 0;
                req.sending_complete = arg & 0x20 != 0;
                if let Ok(call) = q.setup(now, req) {
                    assert!(bed.released[node].insert(call, false).is_none());
                }
            }
            6 => {
                let _ = q.setup_ack(now, call);
            }
            7 => {
                let _ = q.proceeding(now, call);
            }
            8 => {
                let _ = q.alerting(now, call);
            }
            9 => {
                let _ = q.connect(now, call);
            }
            10 => {
                let _ = q.information(now, call, "5", arg & 1 == 0);
            }
            11 => {
                let _ = q.disconnect(now, call, arg & 0x7f);
            }
            12 => {
                let _ = q.release(now, call, arg & 0x7f);
            }
            13 => {
                let target =
                    if arg & 0x80 != 0 { RestartTarget::Interface } else { RestartTarget::Channel(arg & 0x1f) };
                let _ = q.restart(now, target);
            }
            14 => {
                if arg & 1 == 0 {
                    q.handle_dl_released(now, 0);
                } else {
                    q.handle_dl_established(now, 0);
                }
            }
            _ => {
                bed.now += Duration::from_millis(u64::from(arg) * 500);
                bed.timeout(0);
                bed.timeout(1);
            }
        }
        bed.drain();
    }
    for i in 0..2 {
        let now = bed.now;
        bed.nodes[i].handle_dl_released(now, 0);
    }
    for _ in 0..8 {
        bed.now += Duration::from_secs(200);
        bed.timeout(0);
        bed.timeout(1);
        bed.wire = [VecDeque::new(), VecDeque::new()];
        bed.drain();
    }
    for (q, released) in bed.nodes.iter().zip(&bed.released) {
        assert!(released.values().all(|r| *r), "calls never released: {released:?}");
        assert!(q.calls().is_empty(), "{:?}", q.calls());
        assert!(q.channel_table().not_idle().is_empty(), "{:?}", q.channel_table());
    }
});
