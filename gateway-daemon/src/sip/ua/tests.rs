//! Two endpoints on virtual time: a harness shuttles each one's `poll_transmit` into the
//! other's `handle_input` (with a filter that can drop or duplicate packets) and runs the
//! timers in order. Single endpoints fed byte vectors (sipp, baresip, broken requests) are in
//! `tests/wire.rs`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::sip::digest::{self, Algorithm};
use crate::sip::offer_answer::{self, CodecPrefs, LocalMedia};
use crate::sip::sdp::Direction;
use wire::{wire, SIPP_INVITE};

/// Single endpoints fed byte vectors.
mod wire;

const A: &str = "10.0.0.1:5060";
const B: &str = "10.0.0.2:5060";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Our media at `addr`:`port`, sending and receiving, in session `id` (version `id`).
fn local_media(addr: &str, port: u16, id: u64) -> LocalMedia {
    LocalMedia {
        addr: addr.parse().unwrap(),
        port,
        session_id: id,
        session_version: id,
        direction: Direction::SendRecv,
    }
}

fn sdp(port: u16, direction: Direction) -> SessionDescription {
    let local = LocalMedia { direction, ..local_media("10.0.0.9", port, 1) };
    offer_answer::build_offer(&CodecPrefs::default(), &local)
}

fn endpoint(now: Instant, me: &str, peer: &str, seed: u64, trunk: TrunkConfig) -> SipEndpoint {
    let trunk = TrunkConfig { name: "peer".into(), addr: addr(peer), ..trunk };
    SipEndpoint::new(
        now,
        EndpointConfig { local_addr: addr(me), seed, trunks: vec![trunk], ..EndpointConfig::default() },
    )
}

/// What happens to one packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    Deliver,
    Drop,
    Duplicate,
}

/// One packet on the wire (delivered or not): when, which way, its first line and CSeq.
#[derive(Clone, Debug)]
struct Seen {
    at: Duration,
    from_a: bool,
    line: String,
}

type Filter = Box<dyn FnMut(bool, &Message) -> Fate>;

struct Net {
    t0: Instant,
    now: Instant,
    a: SipEndpoint,
    b: SipEndpoint,
    ev_a: Vec<SipEvent>,
    ev_b: Vec<SipEvent>,
    wire: Vec<Seen>,
    filter: Filter,
}

impl Net {
    fn new(ta: TrunkConfig, tb: TrunkConfig) -> Net {
        let t0 = Instant::now();
        Net {
            t0,
            now: t0,
            a: endpoint(t0, A, B, 1, ta),
            b: endpoint(t0, B, A, 2, tb),
            ev_a: Vec::new(),
            ev_b: Vec::new(),
            wire: Vec::new(),
            filter: Box::new(|_, _| Fate::Deliver),
        }
    }

    fn basic() -> Net {
        Net::new(TrunkConfig::default(), TrunkConfig::default())
    }

    /// Delivers everything queued, collecting events, until both are quiet.
    fn flush(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit() {
                moved = true;
                self.carry(true, t);
            }
            while let Some(t) = self.b.poll_transmit() {
                moved = true;
                self.carry(false, t);
            }
            while let Some(e) = self.a.poll_event() {
                self.ev_a.push(e);
            }
            while let Some(e) = self.b.poll_event() {
                self.ev_b.push(e);
            }
            if !moved {
                break;
            }
        }
    }

    fn carry(&mut self, from_a: bool, t: Transmit) {
        let Ok(msg) = Message::parse(&t.bytes) else {
            // Only a 400 may not parse: it copies the broken headers of the request it answers.
            assert!(t.bytes.starts_with(b"SIP/2.0 400 "), "we send what parses: {}", String::from_utf8_lossy(&t.bytes));
            return;
        };
        let fate = (self.filter)(from_a, &msg);
        let line = format!("{} {}", first_line(&msg), msg.cseq().map(|c| c.to_string()).unwrap_or_default());
        self.wire.push(Seen { at: self.now - self.t0, from_a, line });
        let (to, expect) = if from_a { (&mut self.b, B) } else { (&mut self.a, A) };
        if t.dst != addr(expect) {
            // Answers to injected requests go where their Via says: nowhere on this network.
            return;
        }
        let src = addr(if from_a { A } else { B });
        let n = match fate {
            Fate::Deliver => 1,
            Fate::Drop => 0,
            Fate::Duplicate => 2,
        };
        for _ in 0..n {
            to.handle_input(self.now, t.transport, src, &t.bytes);
        }
    }

    /// Runs timers and deliveries until `secs` of virtual time have passed.
    fn run(&mut self, secs: f64) {
        let end = self.now + Duration::from_secs_f64(secs);
        self.flush();
        loop {
            let next = [self.a.poll_timeout(), self.b.poll_timeout()].into_iter().flatten().min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                    self.flush();
                }
                _ => break,
            }
        }
        self.now = end;
    }

    fn count(&self, from_a: bool, prefix: &str) -> usize {
        self.wire.iter().filter(|s| s.from_a == from_a && s.line.starts_with(prefix)).count()
    }

    fn times(&self, from_a: bool, prefix: &str) -> Vec<u128> {
        self.wire
            .iter()
            .filter(|s| s.from_a == from_a && s.line.starts_with(prefix))
            .map(|s| s.at.as_millis())
            .collect()
    }

    /// A calls B and B answers; returns both handles.
    fn call_up(&mut self) -> (Handle, Handle) {
        let ha = self.a.invite(self.now, 0, "100", "200", Some(&sdp(4000, Direction::SendRecv))).unwrap();
        self.flush();
        let hb = incoming(&self.ev_b);
        assert!(self.b.progress(self.now, hb, 180, None));
        assert!(self.b.answer(self.now, hb, Some(&sdp(5000, Direction::SendRecv))));
        self.run(1.0);
        assert!(self.ev_a.iter().any(|e| matches!(e, SipEvent::Answered { handle, .. } if *handle == ha)));
        (ha, hb)
    }
}

fn first_line(m: &Message) -> String {
    match &m.start {
        StartLine::Request { method, .. } => method.to_string(),
        StartLine::Response { code, .. } => code.to_string(),
    }
}

fn incoming(ev: &[SipEvent]) -> Handle {
    ev.iter()
        .find_map(|e| match e {
            SipEvent::IncomingCall { handle, .. } => Some(*handle),
            _ => None,
        })
        .expect("an IncomingCall")
}

fn ended(ev: &[SipEvent]) -> Vec<(Option<u16>, u8, bool)> {
    ev.iter()
        .filter_map(|e| match e {
            SipEvent::Ended { status, cause, by_remote, .. } => Some((*status, *cause, *by_remote)),
            _ => None,
        })
        .collect()
}

#[test]
fn basic_call_a_to_b_with_bye_from_caller() {
    let mut n = Net::basic();
    let ha = n.a.invite(n.now, 0, "100", "200", Some(&sdp(4000, Direction::SendRecv))).unwrap();
    n.flush();
    match &n.ev_b[0] {
        SipEvent::IncomingCall { trunk, request_user, from_user, to_user, offer, .. } => {
            assert_eq!(*trunk, 0);
            assert_eq!(request_user.as_deref(), Some("200"));
            assert_eq!(from_user.as_deref(), Some("100"));
            assert_eq!(to_user.as_deref(), Some("200"));
            assert_eq!(offer.as_ref().unwrap().media[0].port, 4000);
        }
        e => panic!("{e:?}"),
    }
    let hb = incoming(&n.ev_b);
    n.run(0.1);
    assert_eq!(n.count(false, "100"), 0, "no 100 Trying before 200 ms");
    n.run(0.15);
    assert_eq!(n.times(false, "100"), [200], "100 Trying at 200 ms");
    n.b.progress(n.now, hb, 180, None);
    n.b.answer(n.now, hb, Some(&sdp(5000, Direction::SendRecv)));
    n.run(1.0);
    assert!(matches!(&n.ev_a[0], SipEvent::Progress { handle, code: 180, .. } if *handle == ha));
    match &n.ev_a[1] {
        SipEvent::Answered { sdp: Some(s), .. } => assert_eq!(s.media[0].port, 5000),
        e => panic!("{e:?}"),
    }
    assert_eq!(n.count(true, "ACK"), 1);
    assert_eq!(n.count(false, "200 1 INVITE"), 1, "the ACK stopped 2xx retransmission");
    n.a.hangup(n.now, ha, Some(16));
    n.run(1.0);
    assert_eq!(ended(&n.ev_b), [(None, 16, true)]);
    assert_eq!(ended(&n.ev_a), [(None, 16, false)]);
    assert_eq!((n.a.active_calls(), n.b.active_calls()), (0, 0));
    assert_eq!((n.a.counters().retransmissions, n.b.counters().retransmissions), (0, 0));
}

#[test]
fn call_b_to_a_with_bye_from_callee_and_cause() {
    let mut n = Net::basic();
    let hb = n.b.invite(n.now, 0, "300", "400", None).unwrap();
    n.flush();
    let ha = incoming(&n.ev_a);
    n.a.answer(n.now, ha, None);
    n.run(1.0);
    assert!(n.ev_b.iter().any(|e| matches!(e, SipEvent::Answered { handle, sdp: None } if *handle == hb)));
    n.a.hangup(n.now, ha, Some(31));
    n.run(1.0);
    assert_eq!(ended(&n.ev_b), [(None, 31, true)], "Reason: Q.850;cause=31 read back");
    assert_eq!(ended(&n.ev_a), [(None, 31, false)]);
}

#[test]
fn reject_maps_cause_to_status_and_back() {
    let mut n = Net::basic();
    n.a.invite(n.now, 0, "100", "200", None).unwrap();
    n.flush();
    let hb = incoming(&n.ev_b);
    n.b.hangup(n.now, hb, Some(17));
    n.run(1.0);
    assert_eq!(ended(&n.ev_a), [(Some(486), 17, true)]);
    assert_eq!(ended(&n.ev_b), [(Some(486), 17, false)]);
    assert_eq!(n.count(true, "ACK"), 1, "the client transaction ACKs the 486");
}

#[test]
fn cancel_before_answer() {
    let mut n = Net::basic();
    let ha = n.a.invite(n.now, 0, "100", "200", None).unwrap();
    n.a.hangup(n.now, ha, Some(16));
    n.flush();
    assert_eq!(n.count(true, "CANCEL"), 0, "no CANCEL before a provisional response (§9.1)");
    let hb = incoming(&n.ev_b);
    n.b.progress(n.now, hb, 180, None);
    n.run(1.0);
    assert_eq!(n.count(true, "CANCEL"), 1);
    assert_eq!(n.count(false, "200 1 CANCEL"), 1);
    assert_eq!(n.count(false, "487 1 INVITE"), 1);
    assert_eq!(n.count(true, "ACK 1 ACK"), 1);
    assert_eq!(ended(&n.ev_b), [(Some(487), 16, true)]);
    assert_eq!(ended(&n.ev_a), [(Some(487), 16, false)]);
    n.run(40.0);
    assert_eq!((n.a.active_calls(), n.b.active_calls()), (0, 0));
}

#[test]
fn cancel_crossing_the_200_ends_with_bye() {
    let mut n = Net::basic();
    let ha = n.a.invite(n.now, 0, "100", "200", None).unwrap();
    n.flush();
    let hb = incoming(&n.ev_b);
    n.b.progress(n.now, hb, 180, None);
    n.flush();
    // Both at the same instant, before either message reaches the other side.
    n.a.hangup(n.now, ha, Some(16));
    n.b.answer(n.now, hb, None);
    n.run(2.0);
    assert_eq!(n.count(true, "CANCEL"), 1);
    assert_eq!(n.count(true, "ACK"), 1, "the 200 is ACKed");
    assert_eq!(n.count(true, "BYE"), 1, "then the call is ended with BYE");
    assert!(!n.ev_a.iter().any(|e| matches!(e, SipEvent::Answered { .. })), "the TU never sees it answered");
    assert_eq!(ended(&n.ev_a), [(None, 16, false)]);
    assert_eq!(ended(&n.ev_b), [(None, 16, true)]);
}

#[test]
fn invite_retransmitted_on_loss_at_t1_doubling() {
    let mut n = Net::basic();
    let mut lost = 0;
    n.filter = Box::new(move |from_a, m| {
        if from_a && m.method() == Some(&Method::Invite) && lost < 3 {
            lost += 1;
            return Fate::Drop;
        }
        Fate::Deliver
    });
    n.a.invite(n.now, 0, "100", "200", None).unwrap();
    n.run(5.0);
    assert_eq!(n.times(true, "INVITE"), [0, 500, 1500, 3500]);
    assert_eq!(n.ev_b.len(), 1, "one IncomingCall");
    assert_eq!(n.times(false, "100"), [3700]);
    assert_eq!(n.a.counters().retransmissions, 3);
}

#[test]
fn bye_retransmitted_up_to_t2() {
    let mut n = Net::basic();
    let (ha, _) = n.call_up();
    let start = (n.now - n.t0).as_millis();
    n.filter =
        Box::new(|from_a, m| if from_a && m.method() == Some(&Method::Bye) { Fate::Drop } else { Fate::Deliver });
    n.a.hangup(n.now, ha, None);
    n.run(40.0);
    let t: Vec<u128> = n.times(true, "BYE").iter().map(|t| t - start).collect();
    assert_eq!(&t[..7], [0, 500, 1500, 3500, 7500, 11500, 15500], "E doubles, capped at T2 = 4 s");
    assert_eq!(ended(&n.ev_a), [(Some(408), 16, false)], "timer F");
}

#[test]
fn duplicated_packets_change_nothing() {
    let mut n = Net::basic();
    n.filter = Box::new(|_, _| Fate::Duplicate);
    let (ha, _) = n.call_up();
    n.a.hangup(n.now, ha, None);
    n.run(40.0);
    assert_eq!(n.ev_b.iter().filter(|e| matches!(e, SipEvent::IncomingCall { .. })).count(), 1);
    assert_eq!(ended(&n.ev_a).len(), 1);
    assert_eq!(ended(&n.ev_b).len(), 1);
    assert_eq!(n.a.counters().garbage + n.b.counters().garbage, 0);
}

#[test]
fn uas_resends_2xx_until_ack() {
    let mut n = Net::basic();
    let mut lost = 0;
    n.filter = Box::new(move |from_a, m| {
        if from_a && m.method() == Some(&Method::Ack) && lost < 2 {
            lost += 1;
            return Fate::Drop;
        }
        Fate::Deliver
    });
    n.a.invite(n.now, 0, "100", "200", None).unwrap();
    n.flush();
    let hb = incoming(&n.ev_b);
    n.b.answer(n.now, hb, None);
    n.run(5.0);
    assert_eq!(n.times(false, "200 1 INVITE"), [0, 500, 1500], "2xx at T1, 2·T1 until the ACK");
    assert_eq!(n.count(true, "ACK"), 3, "each 2xx ACKed again by the UAC core");
    assert_eq!(n.b.counters().retransmissions, 2);
    assert!(ended(&n.ev_b).is_empty());
}

/// A calls B, which answers; A's ACKs are lost on the way.
fn answered_without_ack(mut n: Net) -> Net {
    n.filter =
        Box::new(|from_a, m| if from_a && m.method() == Some(&Method::Ack) { Fate::Drop } else { Fate::Deliver });
    n.a.invite(n.now, 0, "100", "200", None).unwrap();
    n.flush();
    let hb = incoming(&n.ev_b);
    n.b.answer(n.now, hb, None);
    n
}

#[test]
fn uas_without_ack_sends_bye_after_64_t1() {
    let mut n = answered_without_ack(Net::basic());
    n.run(40.0);
    assert_eq!(n.times(false, "BYE"), [32000]);
    assert_eq!(ended(&n.ev_a), [(None, 102, true)]);
}

#[test]
fn tcp_has_no_retransmissions() {
    let tcp = || TrunkConfig { transport: Transport::Tcp, ..TrunkConfig::default() };
    let mut n = answered_without_ack(Net::new(tcp(), tcp()));
    n.run(20.0);
    assert_eq!(n.count(true, "INVITE"), 1);
    assert_eq!(n.count(false, "200 1 INVITE"), 1, "no 2xx retransmission over TCP");
}

#[test]
fn timer_b_ends_call_with_408() {
    let mut n = Net::basic();
    n.filter = Box::new(|_, _| Fate::Drop);
    n.a.invite(n.now, 0, "100", "200", None).unwrap();
    n.run(31.9);
    assert!(ended(&n.ev_a).is_empty());
    n.run(0.2);
    assert_eq!(ended(&n.ev_a), [(Some(408), 102, false)]);
    assert_eq!(n.count(true, "INVITE"), 7);
}

/// A TCP trunk whose connection fails: the INVITE ends at once as a 503 (§8.1.3.1, cause 41 by
/// RFC 3398), not at timer B; a failure towards another address or over UDP ends nothing.
#[test]
fn a_transport_error_ends_the_waiting_invite_as_503() {
    let t0 = Instant::now();
    let tcp = TrunkConfig { transport: Transport::Tcp, ..TrunkConfig::default() };
    let mut a = endpoint(t0, "127.0.0.1:5060", "127.0.0.1:5070", 1, tcp);
    let h = a.invite(t0, 0, "100", "200", None).unwrap();
    let sent = a.poll_transmit().expect("the INVITE");
    assert_eq!((sent.transport, sent.dst), (Transport::Tcp, addr("127.0.0.1:5070")));
    a.handle_transport_error(t0, Transport::Tcp, addr("127.0.0.1:5071"));
    a.handle_transport_error(t0, Transport::Udp, addr("127.0.0.1:5070"));
    let mut ev = Vec::new();
    while let Some(e) = a.poll_event() {
        ev.push(e);
    }
    assert!(ended(&ev).is_empty(), "{ev:?}");
    a.handle_transport_error(t0 + Duration::from_millis(5), Transport::Tcp, addr("127.0.0.1:5070"));
    while let Some(e) = a.poll_event() {
        ev.push(e);
    }
    assert_eq!(ended(&ev), [(Some(503), 41, false)]);
    assert!(ev.iter().any(|e| matches!(e, SipEvent::Ended { handle, .. } if *handle == h)));
    assert_eq!(a.active_calls(), 0);
}

fn auth_net(alg: Algorithm) -> Net {
    let ta = TrunkConfig { username: "gw".into(), password: "s3cret".into(), ..TrunkConfig::default() };
    let tb = TrunkConfig {
        inbound_realm: "pbx".into(),
        inbound_credentials: vec![("gw".into(), "s3cret".into())],
        inbound_algorithm: alg,
        ..TrunkConfig::default()
    };
    Net::new(ta, tb)
}

#[test]
fn inbound_digest_challenge_md5_and_sha256() {
    for alg in [Algorithm::Md5, Algorithm::Sha256] {
        let mut n = auth_net(alg);
        let ha = n.a.invite(n.now, 0, "100", "200", None).unwrap();
        n.run(1.0);
        assert_eq!(n.count(false, "401 1 INVITE"), 1);
        assert_eq!(n.count(true, "ACK 1 ACK"), 1);
        assert_eq!(n.count(true, "INVITE 2 INVITE"), 1, "again with credentials and CSeq 2");
        let hb = incoming(&n.ev_b);
        n.b.answer(n.now, hb, None);
        n.run(1.0);
        assert!(n.ev_a.iter().any(|e| matches!(e, SipEvent::Answered { handle, .. } if *handle == ha)), "{alg:?}");
    }
}

#[test]
fn wrong_password_is_forbidden() {
    let mut n = auth_net(Algorithm::Md5);
    n.b.cfg.trunks[0].inbound_credentials[0].1 = "other".into();
    n.a.invite(n.now, 0, "100", "200", None).unwrap();
    n.run(1.0);
    assert_eq!(n.count(false, "403"), 1);
    assert_eq!(ended(&n.ev_a), [(Some(403), 21, true)]);
    assert_eq!(n.b.counters().auth_failures, 1);
    assert!(n.ev_b.is_empty());
}

/// A proxy's 407 (RFC 3261 §22.3) built by hand, answered with Proxy-Authorization.
#[test]
fn answers_407_from_a_proxy() {
    let t0 = Instant::now();
    let trunk = TrunkConfig { username: "gw".into(), password: "pw".into(), ..TrunkConfig::default() };
    let mut a = endpoint(t0, A, B, 7, trunk);
    a.invite(t0, 0, "100", "200", None).unwrap();
    let inv = Message::parse(&a.poll_transmit().unwrap().bytes).unwrap();
    let mut resp = Message::response_to(&inv, 407, "Proxy Authentication Required");
    resp.set_header("To", format!("{};tag=px", inv.header("to").unwrap()));
    resp.push_header("Proxy-Authenticate", "Digest realm=\"proxy\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth\"");
    a.handle_input(t0, Transport::Udp, addr(B), &resp.to_bytes());
    let ack = Message::parse(&a.poll_transmit().unwrap().bytes).unwrap();
    assert_eq!(ack.method(), Some(&Method::Ack));
    let again = Message::parse(&a.poll_transmit().unwrap().bytes).unwrap();
    assert_eq!(again.cseq().unwrap().seq, 2);
    assert_ne!(again.vias()[0].branch(), inv.vias()[0].branch(), "a new transaction");
    let creds = again.auth("proxy-authorization").pop().unwrap();
    let issued = digest::Challenge::from_params(&resp.auth("proxy-authenticate")[0]).unwrap();
    let ha1 = Algorithm::Sha256.hex("gw:proxy:pw");
    assert_eq!(digest::verify(&issued, &creds, "INVITE", &ha1), Ok(()));
}

#[test]
fn reinvite_hold_and_glare() {
    let mut n = Net::basic();
    let (ha, hb) = n.call_up();
    assert!(n.a.reinvite(n.now, ha, &sdp(4000, Direction::SendOnly)));
    n.flush();
    let offer = n
        .ev_b
        .iter()
        .find_map(|e| match e {
            SipEvent::OfferChanged { offer, .. } => offer.clone(),
            _ => None,
        })
        .unwrap();
    let local = local_media("10.0.0.8", 5000, 2);
    let (answer, neg) = offer_answer::answer(&offer, &CodecPrefs::default(), &local).unwrap();
    assert_eq!(neg.direction, Direction::RecvOnly, "on hold: we only receive");
    n.b.answer(n.now, hb, Some(&answer));
    n.run(1.0);
    match n.ev_a.last().unwrap() {
        SipEvent::ReinviteDone { status: 200, sdp: Some(s), .. } => {
            assert_eq!(s.direction_of(&s.media[0]), Direction::RecvOnly);
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(n.count(true, "ACK 2 ACK"), 1);
    // Glare: both sides re-INVITE at once, each gets 491 (§14.2).
    assert!(n.a.reinvite(n.now, ha, &sdp(4000, Direction::SendRecv)));
    assert!(n.b.reinvite(n.now, hb, &sdp(5000, Direction::SendRecv)));
    n.run(1.0);
    assert!(matches!(n.ev_a.last().unwrap(), SipEvent::ReinviteDone { status: 491, .. }));
    assert!(matches!(n.ev_b.last().unwrap(), SipEvent::ReinviteDone { status: 491, .. }));
    assert!(n.a.reinvite(n.now, ha, &sdp(4000, Direction::SendRecv)), "free again after 491");
}

#[test]
fn info_dtmf_both_ways() {
    let mut n = Net::basic();
    let (ha, hb) = n.call_up();
    assert!(n.a.send_info_dtmf(n.now, ha, '5', 160));
    assert!(n.b.send_info_dtmf(n.now, hb, '#', 100));
    n.run(1.0);
    assert!(n.ev_b.iter().any(|e| matches!(e, SipEvent::Dtmf { digit: '5', duration_ms: 160, .. })));
    assert!(n.ev_a.iter().any(|e| matches!(e, SipEvent::Dtmf { digit: '#', duration_ms: 100, .. })));
    assert_eq!(n.count(false, "200 2 INFO") + n.count(true, "200 1 INFO"), 2);
}

/// Plays a registrar by hand: challenge, check the credentials, grant 120 s.
#[test]
fn registration_with_challenge_refresh_and_backoff() {
    let t0 = Instant::now();
    let trunk = TrunkConfig {
        username: "gw".into(),
        password: "pw".into(),
        domain: "pbx.example.com".into(),
        register: true,
        register_expires: 300,
        ..TrunkConfig::default()
    };
    let mut a = endpoint(t0, A, B, 3, trunk);
    assert_eq!(a.poll_timeout(), Some(t0));
    a.handle_timeout(t0);
    assert_eq!(a.poll_event(), Some(SipEvent::Registration { trunk: 0, state: RegState::Registering }));
    let reg = Message::parse(&a.poll_transmit().unwrap().bytes).unwrap();
    assert_eq!(reg.to_string().split_whitespace().nth(1), Some("sip:pbx.example.com"));
    assert_eq!(reg.header("expires"), Some("300"));
    let ch = "Digest realm=\"pbx\", nonce=\"n1\", algorithm=MD5";
    let mut resp = Message::response_to(&reg, 401, "Unauthorized");
    resp.push_header("WWW-Authenticate", ch);
    a.handle_input(t0, Transport::Udp, addr(B), &resp.to_bytes());
    let reg2 = Message::parse(&a.poll_transmit().unwrap().bytes).unwrap();
    assert_eq!(reg2.call_id(), reg.call_id(), "one Call-ID per registration (§10.2.4)");
    assert_eq!(reg2.cseq().unwrap().seq, 2);
    let creds = reg2.auth("authorization").pop().unwrap();
    let issued = digest::Challenge::from_params(&resp.auth("www-authenticate")[0]).unwrap();
    assert_eq!(digest::verify(&issued, &creds, "REGISTER", &Algorithm::Md5.hex("gw:pbx:pw")), Ok(()));
    let mut ok = Message::response_to(&reg2, 200, "OK");
    ok.push_header("Contact", format!("<sip:gw@{A}>;expires=120"));
    a.handle_input(t0, Transport::Udp, addr(B), &ok.to_bytes());
    assert_eq!(a.poll_event(), Some(SipEvent::Registration { trunk: 0, state: RegState::Registered { expires: 120 } }));
    assert_eq!(a.trunks[0].reg_next, Some(t0 + Duration::from_secs(60)), "refresh at half of 120 s");
    // Removing the binding and putting it back (a restart) on a copy of the endpoint.
    let mut b = endpoint(t0, A, B, 4, a.cfg.trunks[0].clone());
    assert!(b.unregister(t0, 0));
    while b.poll_event().is_some() {}
    let un = Message::parse(&b.poll_transmit().unwrap().bytes).unwrap();
    assert_eq!(un.header("expires"), Some("0"));
    b.handle_input(t0, Transport::Udp, addr(B), &Message::response_to(&un, 200, "OK").to_bytes());
    assert_eq!(b.poll_event(), Some(SipEvent::Registration { trunk: 0, state: RegState::Unregistered }));
    assert_eq!(b.trunks[0].reg_next, None, "no refresh after removal");
    // The refresh fails twice: retries after 30 s, then 60 s.
    let mut now = t0 + Duration::from_secs(60);
    let mut waits = Vec::new();
    for _ in 0..2 {
        a.handle_timeout(now);
        while a.poll_event().is_some() {}
        let r = Message::parse(&a.poll_transmit().unwrap().bytes).unwrap();
        a.handle_input(now, Transport::Udp, addr(B), &Message::response_to(&r, 503, "Service Unavailable").to_bytes());
        assert_eq!(
            a.poll_event(),
            Some(SipEvent::Registration { trunk: 0, state: RegState::Failed { status: Some(503) } })
        );
        let next = a.trunks[0].reg_next.unwrap();
        waits.push((next - now).as_secs());
        now = next;
    }
    assert_eq!(waits, [30, 60]);
    // A second challenge after credentials (not stale) means they are wrong: failed.
    a.handle_timeout(now);
    while a.poll_event().is_some() {}
    let r = Message::parse(&a.poll_transmit().unwrap().bytes).unwrap();
    let mut c1 = Message::response_to(&r, 401, "Unauthorized");
    c1.push_header("WWW-Authenticate", ch);
    a.handle_input(now, Transport::Udp, addr(B), &c1.to_bytes());
    let r2 = Message::parse(&a.poll_transmit().unwrap().bytes).unwrap();
    let mut c2 = Message::response_to(&r2, 401, "Unauthorized");
    c2.push_header("WWW-Authenticate", ch);
    a.handle_input(now, Transport::Udp, addr(B), &c2.to_bytes());
    assert_eq!(
        a.poll_event(),
        Some(SipEvent::Registration { trunk: 0, state: RegState::Failed { status: Some(401) } })
    );
}

#[test]
fn keepalive_marks_trunk_down_and_up() {
    let ta =
        TrunkConfig { keepalive_interval: Duration::from_secs(10), keepalive_failures: 2, ..TrunkConfig::default() };
    let mut n = Net::new(ta, TrunkConfig::default());
    n.run(1.0);
    assert_eq!(n.ev_a, [SipEvent::TrunkState { trunk: 0, up: true }]);
    assert_eq!(n.count(false, "200 1 OPTIONS"), 1);
    n.filter = Box::new(|_, _| Fate::Drop);
    n.ev_a.clear();
    // Probes at 10 s and 20 s time out at 42 s and 52 s: down after the second.
    n.run(50.0);
    assert!(n.ev_a.is_empty());
    n.run(2.0);
    assert_eq!(n.ev_a, [SipEvent::TrunkState { trunk: 0, up: false }]);
    assert_eq!(n.a.trunk_status(0), Some((RegState::Unregistered, Some(false))));
    n.filter = Box::new(|_, _| Fate::Deliver);
    n.run(10.0);
    assert_eq!(n.ev_a.last(), Some(&SipEvent::TrunkState { trunk: 0, up: true }));
}

/// The fuzz target's driver on a fixed pseudo-random sequence (the fuzzer needs nightly; this
/// runs in every `cargo test`): random losses, duplicates, corruptions, commands and timer
/// runs on two endpoints. Nothing panics, everything sent parses, no handle ends twice, and
/// after hanging up and five quiet minutes no call is left anywhere.
#[test]
fn soak_random_operations() {
    let mut seed: u64 = 0x1234_5678;
    let mut rnd = move |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    for round in 0..200 {
        let flags = rnd(16);
        let trunk = |i: usize| TrunkConfig {
            username: "gw".into(),
            password: "pw".into(),
            inbound_realm: if i == 1 && flags & 1 != 0 { "pbx".into() } else { String::new() },
            inbound_credentials: vec![("gw".into(), "pw".into())],
            register: flags & 2 != 0 && i == 0,
            keepalive_interval: if flags & 4 != 0 { Duration::from_secs(5) } else { Duration::ZERO },
            transport: if flags & 8 != 0 { Transport::Tcp } else { Transport::Udp },
            ..TrunkConfig::default()
        };
        let mut n = Net::new(trunk(0), trunk(1));
        let mut ended_seen: [std::collections::HashMap<Handle, u32>; 2] = Default::default();
        let mut live: [Vec<Handle>; 2] = Default::default();
        let mut r2 = rnd(1 << 30);
        n.filter = Box::new(move |_, _| {
            r2 = r2.wrapping_mul(1_103_515_245).wrapping_add(12_345) % (1 << 30);
            match r2 % 10 {
                0 => Fate::Drop,
                1 => Fate::Duplicate,
                _ => Fate::Deliver,
            }
        });
        for _ in 0..60 {
            let side = rnd(2) == 0;
            let now = n.now;
            let (ep, l) = if side { (&mut n.a, &mut live[0]) } else { (&mut n.b, &mut live[1]) };
            let pick = (!l.is_empty()).then(|| l[usize::try_from(rnd(8)).unwrap() % l.len()]);
            match (rnd(10), pick) {
                (0, _) => {
                    if let Some(h) = ep.invite(now, 0, "100", "200", Some(&sdp(4000, Direction::SendRecv))) {
                        l.push(h);
                    }
                }
                (1, Some(h)) => drop(ep.progress(now, h, 180, None)),
                (2, Some(h)) => drop(ep.answer(now, h, Some(&sdp(5000, Direction::SendRecv)))),
                (3, Some(h)) => drop(ep.hangup(now, h, Some(16))),
                (4, Some(h)) => drop(ep.reinvite(now, h, &sdp(4000, Direction::SendOnly))),
                (5, Some(h)) => drop(ep.send_info_dtmf(now, h, '7', 100)),
                (6, Some(h)) => drop(ep.reject(now, h, 486, Some(17))),
                (7, _) => {
                    // A corrupted copy of a real request from the other side's address.
                    let mut bytes = wire(SIPP_INVITE);
                    let i = usize::try_from(rnd(bytes.len() as u64)).unwrap();
                    bytes[i] ^= u8::try_from(rnd(255) + 1).unwrap();
                    let src = addr(if side { B } else { A });
                    ep.handle_input(now, Transport::Udp, src, &bytes);
                }
                _ => n.run(rnd(3000) as f64 / 1000.0),
            }
            n.flush();
            collect(&mut n, &mut live, &mut ended_seen);
        }
        n.filter = Box::new(|_, _| Fate::Deliver);
        for _ in 0..300 {
            let now = n.now;
            for h in live[0].clone() {
                n.a.hangup(now, h, Some(16));
            }
            for h in live[1].clone() {
                n.b.hangup(now, h, Some(16));
            }
            n.run(1.0);
            collect(&mut n, &mut live, &mut ended_seen);
        }
        assert_eq!(
            (n.a.active_calls(), n.b.active_calls()),
            (0, 0),
            "round {round}: calls left: {:#?} {:?}",
            n.b.calls
                .values()
                .map(|c| (
                    c.phase,
                    c.dialog.is_some(),
                    c.ok.is_some(),
                    c.bye_after_ack,
                    c.cancel,
                    c.reinvite_in.is_some(),
                    c.reinvite_out
                ))
                .collect::<Vec<_>>(),
            n.wire.iter().rev().take(30).collect::<Vec<_>>()
        );
        assert!(live.iter().all(Vec::is_empty), "round {round}: handles never ended: {live:?}");
    }
}

fn collect(n: &mut Net, live: &mut [Vec<Handle>; 2], ended: &mut [std::collections::HashMap<Handle, u32>; 2]) {
    for (i, ev) in [&mut n.ev_a, &mut n.ev_b].into_iter().enumerate() {
        for e in ev.drain(..) {
            match e {
                SipEvent::IncomingCall { handle, .. } => live[i].push(handle),
                SipEvent::Ended { handle, .. } => {
                    let c = ended[i].entry(handle).or_insert(0);
                    *c += 1;
                    assert_eq!(*c, 1, "{handle:?} ended twice");
                    live[i].retain(|h| *h != handle);
                }
                _ => {}
            }
        }
    }
}

#[test]
fn early_media_183_and_callee_hangup_waits_for_the_ack() {
    let mut n = Net::basic();
    let mut held = true;
    // The ACK is held back once, so B's hangup comes before it.
    n.filter = Box::new(move |from_a, m| {
        if from_a && m.method() == Some(&Method::Ack) && held {
            held = false;
            return Fate::Drop;
        }
        Fate::Deliver
    });
    let ha = n.a.invite(n.now, 0, "100", "200", Some(&sdp(4000, Direction::SendRecv))).unwrap();
    n.flush();
    let hb = incoming(&n.ev_b);
    n.b.progress(n.now, hb, 183, Some(&sdp(5000, Direction::SendRecv)));
    n.flush();
    assert!(matches!(&n.ev_a[0], SipEvent::Progress { code: 183, sdp: Some(s), .. } if s.media[0].port == 5000));
    n.b.answer(n.now, hb, None);
    n.flush();
    assert!(n.b.hangup(n.now, hb, Some(16)));
    n.flush();
    assert_eq!(n.count(false, "BYE"), 0, "no BYE before the ACK (§15)");
    n.run(1.0);
    assert_eq!(n.times(false, "BYE"), [500], "BYE once the ACK of the resent 200 arrives");
    assert_eq!(ended(&n.ev_a), [(None, 16, true)]);
    assert!(n.ev_a.iter().any(|e| matches!(e, SipEvent::Answered { handle, .. } if *handle == ha)));
}

/// Two trunks on one host differ only by port: an INVITE is taken as coming from the trunk at
/// exactly its source address, not from the first trunk that trusts the host.
#[test]
fn two_trunks_on_one_host_are_told_apart_by_port() {
    let t0 = Instant::now();
    let mut a = endpoint(t0, A, B, 11, TrunkConfig::default());
    let other = TrunkConfig { name: "other".into(), addr: addr("10.0.0.1:5070"), ..TrunkConfig::default() };
    let caller = TrunkConfig { name: "caller".into(), addr: addr(A), ..TrunkConfig::default() };
    let cfg =
        EndpointConfig { local_addr: addr(B), seed: 12, trunks: vec![other, caller], ..EndpointConfig::default() };
    let mut b = SipEndpoint::new(t0, cfg);
    a.invite(t0, 0, "100", "200", None).unwrap();
    let inv = a.poll_transmit().unwrap();
    b.handle_input(t0, Transport::Udp, addr(A), &inv.bytes);
    let trunk = std::iter::from_fn(|| b.poll_event()).find_map(|e| match e {
        SipEvent::IncomingCall { trunk, .. } => Some(trunk),
        _ => None,
    });
    assert_eq!(trunk, Some(1), "the trunk at 10.0.0.1:5060, not the first one on 10.0.0.1");
    // From a port no trunk names, the host is still trusted: the first trunk on it takes it.
    a.invite(t0, 0, "101", "200", None).unwrap();
    let inv = a.poll_transmit().unwrap();
    b.handle_input(t0, Transport::Udp, addr("10.0.0.1:40000"), &inv.bytes);
    let trunk = std::iter::from_fn(|| b.poll_event()).find_map(|e| match e {
        SipEvent::IncomingCall { trunk, .. } => Some(trunk),
        _ => None,
    });
    assert_eq!(trunk, Some(0));
}

/// `trust` takes networks: a provider's whole /24 of media and signalling servers is trusted
/// without authentication, the next /24 is not, and the trunk's own address always is.
#[test]
fn a_trusted_network_covers_every_host_in_it() {
    let net = |s: &str| provisioning::IpNet::parse(s).unwrap();
    let t = TrunkConfig {
        name: "provider".into(),
        addr: addr("192.0.2.1:5060"),
        trusted_sources: vec![net("198.51.100.0/24"), net("2001:db8::/32")],
        ..TrunkConfig::default()
    };
    assert!(t.trusts(addr("192.0.2.1:5099")));
    assert!(t.trusts(addr("198.51.100.0:5060")));
    assert!(t.trusts(addr("198.51.100.254:5060")));
    assert!(!t.trusts(addr("198.51.101.1:5060")));
    assert!(t.trusts(addr("[2001:db8:1::7]:5060")));
    assert!(!t.trusts(addr("[2001:db9::7]:5060")));
    // A trunk that must authenticate trusts nobody by address.
    let strict = TrunkConfig { inbound_realm: "spangate".into(), ..t };
    assert!(!strict.trusts(addr("198.51.100.7:5060")));
}
