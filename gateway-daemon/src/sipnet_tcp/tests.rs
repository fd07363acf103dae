//! Tests of the TCP side on real loopback sockets: plain std clients and listeners are the peers,
//! a mio `Poll` drives the side, and the idle clock is passed in.

use std::io::{Read, Write};
use std::net::{TcpListener as StdListener, TcpStream as StdStream};
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};

use super::{Input, TcpLimits, TcpSide};

const OPTIONS: &[u8] = b"OPTIONS sip:gw SIP/2.0\r\nCall-ID: a\r\nContent-Length: 4\r\n\r\nbody";
const BYE: &[u8] = b"BYE sip:gw SIP/2.0\r\nCall-ID: b\r\nl: 0\r\n\r\n";

struct Rig {
    poll: Poll,
    side: TcpSide,
    now: Instant,
    got: Vec<Input>,
}

impl Rig {
    fn new(limits: TcpLimits) -> Rig {
        let poll = Poll::new().expect("poll");
        let side = TcpSide::bind("127.0.0.1:0".parse().expect("addr"), poll.registry(), limits).expect("bind");
        Rig { poll, side, now: Instant::now(), got: Vec::new() }
    }

    fn connect(&self) -> StdStream {
        let c = StdStream::connect(self.side.local_addr()).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        c
    }

    /// Runs the side's events and timeouts until `done` holds (10 s at most, then panics).
    fn until(&mut self, what: &str, done: impl Fn(&Rig) -> bool) {
        let limit = Instant::now() + Duration::from_secs(10);
        let mut events = Events::with_capacity(16);
        while !done(self) {
            assert!(Instant::now() < limit, "timed out waiting for {what}; got {:?}", self.got);
            // What SipNet does after handing the inputs to the endpoint and sending its answers.
            self.side.reap();
            self.poll.poll(&mut events, Some(Duration::from_millis(20))).expect("poll");
            for e in &events {
                let readable = e.is_readable() || e.is_read_closed() || e.is_error();
                self.side.on_event(self.now, e.token(), readable, e.is_writable(), &mut self.got);
            }
            if self.side.poll_timeout().is_some_and(|t| t <= self.now) {
                self.side.on_timeout(self.now, &mut self.got);
            }
        }
    }

    fn messages(&self) -> Vec<Vec<u8>> {
        self.got.iter().filter_map(|i| if let Input::Message(_, m) = i { Some(m.clone()) } else { None }).collect()
    }
}

/// Reads from `c` until `n` bytes came, or the peer closed.
fn read_n(c: &mut StdStream, n: usize) -> Vec<u8> {
    let mut got = vec![0u8; n];
    let mut have = 0;
    while have < n {
        match c.read(&mut got[have..]) {
            Ok(0) => break,
            Ok(k) => have += k,
            Err(e) => panic!("read: {e} after {:?}", String::from_utf8_lossy(&got[..have])),
        }
    }
    got.truncate(have);
    got
}

/// True when the peer closed the connection (EOF or reset), within the read timeout.
fn closed(c: &mut StdStream) -> bool {
    let mut b = [0u8; 64];
    matches!(c.read(&mut b), Ok(0) | Err(_)) || matches!(c.read(&mut b), Ok(0) | Err(_))
}

#[test]
fn messages_come_in_framed_and_responses_go_back_on_their_connection() {
    let mut rig = Rig::new(TcpLimits::default());
    let mut c = rig.connect();
    let me = c.local_addr().expect("addr");
    // Cut in the middle of the headers and of the body: framing must not care.
    c.write_all(&OPTIONS[..20]).expect("write");
    rig.until("the accept", |r| r.side.connections() == 1);
    c.write_all(&[&OPTIONS[20..50], &OPTIONS[50..], BYE].concat()).expect("write");
    rig.until("two messages", |r| r.got.len() == 2);
    assert_eq!(rig.got[0], Input::Message(me, OPTIONS.to_vec()));
    assert_eq!(rig.got[1], Input::Message(me, BYE.to_vec()));
    // An answer to that source goes on the same connection, not on a new one.
    assert!(rig.side.send(rig.now, me, b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n"));
    assert_eq!(read_n(&mut c, 24), b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n");
    assert_eq!((rig.side.connections(), rig.side.counters().accepted, rig.side.counters().opened), (1, 1, 0));
}

#[test]
fn a_double_crlf_ping_gets_a_crlf_pong() {
    let mut rig = Rig::new(TcpLimits::default());
    let mut c = rig.connect();
    c.write_all(b"\r\n\r\n").expect("write");
    rig.until("the ping", |r| r.side.counters().pings == 1);
    assert_eq!(read_n(&mut c, 2), b"\r\n");
    // A ping does not end the connection: a message after it is framed as usual.
    c.write_all(BYE).expect("write");
    rig.until("the message", |r| r.got.len() == 1);
    assert_eq!(rig.messages(), vec![BYE.to_vec()]);
}

#[test]
fn a_stream_without_content_length_gets_its_400_and_only_it_is_closed() {
    let mut rig = Rig::new(TcpLimits::default());
    let mut good = rig.connect();
    let mut bad = rig.connect();
    let bad_addr = bad.local_addr().expect("addr");
    rig.until("both accepted", |r| r.side.connections() == 2);
    bad.write_all(b"OPTIONS sip:gw SIP/2.0\r\nCall-ID: c\r\n\r\n").expect("write");
    rig.until("the unframed head", |r| !r.got.is_empty());
    assert_eq!(rig.got[0], Input::Unframed(bad_addr, b"OPTIONS sip:gw SIP/2.0\r\nCall-ID: c\r\n\r\n".to_vec()));
    // The endpoint's 400 still goes out on that connection, which then closes.
    assert!(rig.side.send(rig.now, bad_addr, b"SIP/2.0 400 Bad Request\r\nl: 0\r\n\r\n"));
    rig.side.reap();
    assert_eq!(read_n(&mut bad, 34), b"SIP/2.0 400 Bad Request\r\nl: 0\r\n\r\n");
    assert!(closed(&mut bad), "the malformed stream's connection is closed");
    assert_eq!((rig.side.counters().malformed, rig.side.connections()), (1, 1));
    // The other connection goes on.
    good.write_all(BYE).expect("write");
    rig.until("the good message", |r| r.messages().len() == 1);
}

#[test]
fn garbage_that_cannot_be_answered_closes_its_connection_at_once() {
    let mut rig = Rig::new(TcpLimits { max_message: 256, ..TcpLimits::default() });
    let mut c = rig.connect();
    c.write_all(&[b'x'; 600]).expect("write");
    rig.until("the close", |r| r.side.counters().malformed == 1 && r.side.connections() == 0);
    assert!(closed(&mut c));
    assert!(rig.got.is_empty(), "nothing reached the endpoint: {:?}", rig.got);
}

#[test]
fn connections_beyond_the_bound_are_closed_at_once() {
    let mut rig = Rig::new(TcpLimits { max_connections: 2, ..TcpLimits::default() });
    let _a = rig.connect();
    let _b = rig.connect();
    rig.until("two accepted", |r| r.side.connections() == 2);
    let mut third = rig.connect();
    rig.until("the third refused", |r| r.side.counters().refused == 1);
    assert!(closed(&mut third));
    assert_eq!(rig.side.connections(), 2);
}

#[test]
fn idle_connections_are_closed() {
    let mut rig = Rig::new(TcpLimits { idle: Duration::from_secs(30), ..TcpLimits::default() });
    let mut c = rig.connect();
    rig.until("the accept", |r| r.side.connections() == 1);
    let start = rig.now;
    assert_eq!(rig.side.poll_timeout(), Some(start + Duration::from_secs(30)));
    // Traffic restarts the idle clock.
    rig.now = start + Duration::from_secs(20);
    c.write_all(BYE).expect("write");
    rig.until("the message", |r| r.got.len() == 1);
    rig.now = start + Duration::from_secs(40);
    rig.until("still open at 20 s idle", |r| r.side.poll_timeout() == Some(start + Duration::from_secs(50)));
    assert_eq!(rig.side.connections(), 1);
    rig.now = start + Duration::from_secs(50);
    rig.until("the idle close", |r| r.side.connections() == 0);
    assert_eq!(rig.side.counters().idle_closed, 1);
    assert!(rig.side.take_failed().is_empty(), "an idle close fails nothing");
    assert!(closed(&mut c));
}

#[test]
fn requests_open_a_connection_and_its_answers_come_back_from_that_peer() {
    let mut rig = Rig::new(TcpLimits::default());
    let far = StdListener::bind("127.0.0.1:0").expect("bind");
    let far_addr = far.local_addr().expect("addr");
    assert!(rig.side.send(rig.now, far_addr, OPTIONS));
    assert!(rig.side.send(rig.now, far_addr, BYE), "queued behind the connect on the same connection");
    let (mut s, _) = far.accept().expect("accept");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    rig.until("the connect done", |r| r.side.conns.values().all(|c| !c.connecting));
    assert_eq!(read_n(&mut s, OPTIONS.len() + BYE.len()), [OPTIONS, BYE].concat());
    s.write_all(b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n").expect("write");
    rig.until("the answer", |r| r.got.len() == 1);
    assert_eq!(rig.got[0], Input::Message(far_addr, b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n".to_vec()));
    assert_eq!((rig.side.counters().opened, rig.side.connections()), (1, 1));
}

#[test]
fn a_refused_connect_is_counted_and_forgotten() {
    let mut rig = Rig::new(TcpLimits::default());
    // A port nobody listens on: the listener is gone once dropped.
    let gone = StdListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("addr");
    let _ = rig.side.send(rig.now, gone, OPTIONS);
    rig.until("the failure", |r| r.side.counters().failed == 1 && r.side.connections() == 0);
    // Named once, for the transactions that were waiting on it.
    assert_eq!(rig.side.take_failed(), vec![gone]);
    assert_eq!(rig.side.take_failed(), vec![]);
}

#[test]
fn a_peer_that_does_not_read_loses_its_connection_not_our_memory() {
    let mut rig = Rig::new(TcpLimits { max_unsent: 100, ..TcpLimits::default() });
    let far = StdListener::bind("127.0.0.1:0").expect("bind");
    let far_addr = far.local_addr().expect("addr");
    // Before the connect completes everything waits in our buffer: the bound shows at once.
    assert!(rig.side.send(rig.now, far_addr, OPTIONS));
    assert!(!rig.side.send(rig.now, far_addr, OPTIONS));
    assert_eq!((rig.side.counters().overflowed, rig.side.connections()), (1, 0));
    assert_eq!(rig.side.take_failed(), vec![far_addr]);
}

#[test]
fn a_flooding_peer_is_read_in_turns() {
    let mut rig = Rig::new(TcpLimits { read_budget: 100, ..TcpLimits::default() });
    let mut c = rig.connect();
    rig.until("the accept", |r| r.side.connections() == 1);
    let ten: Vec<u8> = BYE.repeat(10);
    c.write_all(&ten).expect("write");
    let mut events = Events::with_capacity(16);
    let limit = Instant::now() + Duration::from_secs(10);
    // One readiness event reads at most the budget: 100 bytes hold two 40-byte messages.
    while rig.got.is_empty() {
        assert!(Instant::now() < limit);
        rig.poll.poll(&mut events, Some(Duration::from_millis(20))).expect("poll");
        for e in &events {
            rig.side.on_event(rig.now, e.token(), e.is_readable(), e.is_writable(), &mut rig.got);
        }
    }
    assert!(rig.got.len() <= 2, "{} messages in one turn", rig.got.len());
    rig.until("all ten", |r| r.got.len() == 10);
    assert!(rig.got.iter().all(|i| matches!(i, Input::Message(_, m) if m == BYE)));
    assert!(TcpSide::owns(Token(super::TCP_TOKENS)) && !TcpSide::owns(Token(crate::sipnet::RTP_TOKENS)));
}
