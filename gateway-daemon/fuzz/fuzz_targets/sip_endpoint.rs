//! Fuzz target: two SIP endpoints (each the other's trunk) driven by a random sequence of
//! deliveries, losses, duplicates, corrupted or injected datagrams, call commands and timer runs.
//!
//! Invariants: nothing panics; everything either side sends parses (but a 400 echoing a broken
//! request); no timer is left overdue
//! after `handle_timeout`; every handle gets at most one `Ended`. At the end every live call is
//! hung up and five minutes of timers run with a clean network: then no call is left on either
//! side and every handle that was announced has ended.
#![no_main]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use gateway_daemon::sip::transaction::Transport;
use gateway_daemon::sip::ua::{EndpointConfig, Handle, SipEndpoint, SipEvent, TrunkConfig};
use gateway_daemon::sip::Message;
use libfuzzer_sys::fuzz_target;

const ADDR: [&str; 2] = ["10.0.0.1:5060", "10.0.0.2:5060"];

struct Bed {
    eps: [SipEndpoint; 2],
    wire: [VecDeque<Vec<u8>>; 2],
    now: Instant,
    /// Per side, every handle seen and whether it ended.
    calls: [HashMap<Handle, bool>; 2],
}

fn addr(i: usize) -> SocketAddr {
    ADDR[i].parse().expect("literal address")
}

impl Bed {
    fn new(flags: u8) -> Bed {
        let now = Instant::now();
        let mk = |i: usize| {
            let trunk = TrunkConfig {
                addr: addr(1 - i),
                username: "gw".into(),
                password: "pw".into(),
                inbound_realm: if i == 1 && flags & 1 != 0 { "pbx".into() } else { String::new() },
                inbound_credentials: vec![("gw".into(), "pw".into())],
                register: flags & 2 != 0 && i == 0,
                keepalive_interval: if flags & 4 != 0 { Duration::from_secs(5) } else { Duration::ZERO },
                transport: if flags & 8 != 0 { Transport::Tcp } else { Transport::Udp },
                ..TrunkConfig::default()
            };
            let cfg =
                EndpointConfig { local_addr: addr(i), seed: i as u64 + 1, trunks: vec![trunk], ..Default::default() };
            SipEndpoint::new(now, cfg)
        };
        Bed {
            eps: [mk(0), mk(1)],
            wire: [VecDeque::new(), VecDeque::new()],
            now,
            calls: [HashMap::new(), HashMap::new()],
        }
    }

    fn drain(&mut self) {
        for i in 0..2 {
            while let Some(t) = self.eps[i].poll_transmit() {
                // Only a 400 may not parse: it copies the broken headers of the request it answers.
                if let Err(e) = Message::parse(&t.bytes) {
                    assert!(t.bytes.starts_with(b"SIP/2.0 400 "), "side {i} sent unparsable bytes: {e}");
                }
                if self.wire[1 - i].len() < 64 {
                    self.wire[1 - i].push_back(t.bytes);
                }
            }
            while let Some(e) = self.eps[i].poll_event() {
                match e {
                    SipEvent::IncomingCall { handle, .. } => {
                        assert!(self.calls[i].insert(handle, false).is_none(), "{handle:?} offered twice");
                    }
                    SipEvent::Ended { handle, .. } => {
                        let ended = self.calls[i].entry(handle).or_insert(false);
                        assert!(!*ended, "{handle:?} ended twice");
                        *ended = true;
                    }
                    _ => {}
                }
            }
        }
    }

    fn deliver(&mut self, to: usize, copies: usize) {
        if let Some(b) = self.wire[to].pop_front() {
            for _ in 0..copies {
                let transport = self.eps[to].config().trunks[0].transport;
                self.eps[to].handle_input(self.now, transport, addr(1 - to), &b);
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        for ep in &mut self.eps {
            ep.handle_timeout(self.now);
            assert!(ep.poll_timeout().is_none_or(|t| t > self.now), "a timer left overdue");
        }
    }

    fn live(&self, i: usize) -> Vec<Handle> {
        let mut v: Vec<Handle> = self.calls[i].iter().filter(|(_, e)| !**e).map(|(h, _)| *h).collect();
        v.sort();
        v
    }

    fn pick(&self, i: usize, n: u8) -> Option<Handle> {
        let v = self.live(i);
        (!v.is_empty()).then(|| v[usize::from(n) % v.len()])
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut data)) = data.split_first() else { return };
    let mut bed = Bed::new(flags);
    while let Some((&op, rest)) = data.split_first() {
        data = rest;
        let side = usize::from(op & 1);
        let arg = data.first().copied().unwrap_or(0);
        let now = bed.now;
        match op >> 1 {
            0..=39 => bed.deliver(side, 1),
            40..=44 => {
                bed.wire[side].pop_front();
            }
            45..=49 => bed.deliver(side, 2),
            50..=54 => {
                // Corrupt one byte of the next message in flight.
                if let Some(m) = bed.wire[side].front_mut() {
                    if !m.is_empty() {
                        let i = usize::from(arg) * 7 % m.len();
                        m[i] ^= data.get(1).copied().unwrap_or(0xff);
                    }
                }
                data = data.get(2..).unwrap_or_default();
            }
            55..=59 => {
                // Inject the next bytes of the input as a datagram.
                let n = usize::from(arg).min(data.len().saturating_sub(1));
                let dgram = data.get(1..1 + n).unwrap_or_default().to_vec();
                bed.eps[side].handle_input(now, Transport::Udp, addr(1 - side), &dgram);
                data = data.get(1 + n..).unwrap_or_default();
            }
            60..=79 => {
                bed.advance(Duration::from_millis(u64::from(arg) * 50));
                data = data.get(1..).unwrap_or_default();
            }
            80..=89 => {
                if let Some(h) = bed.eps[side].invite(now, 0, "100", "200", None) {
                    bed.calls[side].insert(h, false);
                }
            }
            90..=94 => {
                if let Some(h) = bed.pick(side, arg) {
                    bed.eps[side].progress(now, h, if arg & 1 == 0 { 180 } else { 183 }, None);
                }
            }
            95..=104 => {
                if let Some(h) = bed.pick(side, arg) {
                    bed.eps[side].answer(now, h, None);
                }
            }
            105..=109 => {
                if let Some(h) = bed.pick(side, arg) {
                    bed.eps[side].reject(now, h, 400 + u16::from(arg), Some(arg & 0x7f));
                }
            }
            110..=114 => {
                if let Some(h) = bed.pick(side, arg) {
                    bed.eps[side].hangup(now, h, Some(arg & 0x7f));
                }
            }
            115..=119 => {
                if let Some(h) = bed.pick(side, arg) {
                    let sd = gateway_daemon::sip::sdp::SessionDescription::parse(
                        b"v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=sendonly\r\n",
                    );
                    if let Ok(sd) = sd {
                        bed.eps[side].reinvite(now, h, &sd);
                    }
                }
            }
            _ => {
                if let Some(h) = bed.pick(side, arg) {
                    bed.eps[side].send_info_dtmf(now, h, '5', 100);
                }
            }
        }
        bed.drain();
    }
    // Wind down on a clean network: hang up what is alive (also calls that queued INVITEs
    // still create), let every timer run out.
    for _ in 0..3000 {
        for i in 0..2 {
            for h in bed.live(i) {
                let now = bed.now;
                bed.eps[i].hangup(now, h, Some(16));
            }
        }
        bed.drain();
        while !bed.wire[0].is_empty() || !bed.wire[1].is_empty() {
            bed.deliver(0, 1);
            bed.deliver(1, 1);
            bed.drain();
        }
        bed.advance(Duration::from_millis(100));
    }
    bed.drain();
    for i in 0..2 {
        assert_eq!(bed.eps[i].active_calls(), 0, "side {i} kept a call");
        assert!(bed.live(i).is_empty(), "side {i}: a call never ended");
    }
});
