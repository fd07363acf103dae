//! Two-peer tests on virtual time: our user side against our network side, back to back over a
//! stand-in data link that delivers payloads after a delay (or loses them while "down").

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::ie::cause;
use super::*;

/// Node 0 is the user side, node 1 the network side.
pub(crate) struct Pair {
    pub(crate) nodes: [Q931; 2],
    pub(crate) events: [Vec<Q931Event>; 2],
    /// Every payload sent: (sender, tei, octets).
    pub(crate) wire: Vec<(usize, u8, Vec<u8>)>,
    pub(crate) now: Instant,
    pub(crate) start: Instant,
    /// While false, payloads are lost (the data link is gone).
    pub(crate) link_up: bool,
    /// The TEI the user side's link runs on (what the network sees as sender).
    pub(crate) user_tei: u8,
    in_flight: VecDeque<(Instant, usize, u8, Vec<u8>)>,
}

impl Pair {
    pub(crate) fn new(user: Q931Config, net: Q931Config) -> Pair {
        let now = Instant::now();
        Pair {
            nodes: [Q931::new(user), Q931::new(net)],
            events: [Vec::new(), Vec::new()],
            wire: Vec::new(),
            now,
            start: now,
            link_up: true,
            user_tei: 0,
            in_flight: VecDeque::new(),
        }
    }

    pub(crate) fn pri() -> Pair {
        Pair::new(Q931Config::pri(Side::User), Q931Config::pri(Side::Network))
    }

    pub(crate) fn bri() -> Pair {
        Pair::new(Q931Config::bri(Side::User, false), Q931Config::bri(Side::Network, false))
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn collect(&mut self) {
        for i in 0..2 {
            while let Some((tei, octets)) = self.nodes[i].poll_transmit().map(|(t, o)| (t, o.to_vec())) {
                // Everything we send must parse and re-emit to the same octets.
                let msg = Message::parse(&octets).unwrap_or_else(|e| panic!("node {i} sent {octets:02x?}: {e}"));
                assert_eq!(msg.to_bytes(), octets, "node {i}: {msg}");
                self.wire.push((i, tei, octets.clone()));
                if self.link_up {
                    // The network sees the user's link TEI; the user hears the network's UI too.
                    let rx_tei = if i == 0 { self.user_tei } else { tei };
                    self.in_flight.push_back((self.now + Duration::from_millis(5), 1 - i, rx_tei, octets));
                }
            }
            while let Some(e) = self.nodes[i].poll_event() {
                self.events[i].push(e);
            }
            check_channels(&self.nodes[i]);
        }
    }

    pub(crate) fn run_until(&mut self, until: Instant) {
        loop {
            self.collect();
            let next_frame = self.in_flight.front().map(|f| f.0);
            let next_timer = self.nodes.iter().filter_map(Q931::poll_timeout).min();
            let next = match (next_frame, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => {
                        self.now = self.now.max(until);
                        return;
                    }
                },
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = self.now.max(next);
            while self.in_flight.front().is_some_and(|f| f.0 <= self.now) {
                let Some((_, to, tei, octets)) = self.in_flight.pop_front() else { break };
                self.nodes[to].handle_dl_data(self.now, tei, &octets);
            }
            for node in &mut self.nodes {
                if node.poll_timeout().is_some_and(|t| t <= self.now) {
                    node.handle_timeout(self.now);
                    assert!(node.poll_timeout().is_none_or(|t| t > self.now), "timer left overdue");
                }
            }
        }
    }

    pub(crate) fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Lets the messages in flight and their answers settle.
    pub(crate) fn settle(&mut self) {
        self.run_for(Duration::from_millis(100));
    }

    pub(crate) fn take_events(&mut self, i: usize) -> Vec<Q931Event> {
        std::mem::take(&mut self.events[i])
    }

    /// The message types node `i` sent, in order.
    pub(crate) fn sent(&self, i: usize) -> Vec<MessageType> {
        self.wire.iter().filter(|w| w.0 == i).filter_map(|w| Message::parse(&w.2).ok()).map(|m| m.msg_type).collect()
    }

    pub(crate) fn incoming(&mut self, i: usize) -> CallId {
        // The latest one, when several calls came in.
        let found = self.events[i].iter().rev().find_map(|e| match e {
            Q931Event::IncomingSetup { call, .. } => Some(*call),
            _ => None,
        });
        found.unwrap_or_else(|| panic!("no incoming call on node {i}: {:?}", self.events[i]))
    }

    pub(crate) fn state(&self, i: usize, call: CallId) -> CallState {
        self.nodes[i].call(call).map_or(CallState::Null, |c| c.state)
    }

    /// Both ends idle: no call, no channel held or restarting.
    pub(crate) fn assert_idle(&self) {
        for (i, n) in self.nodes.iter().enumerate() {
            assert!(n.calls().is_empty(), "node {i} still has calls: {:?}", n.calls());
            assert!(n.channel_table().not_idle().is_empty(), "node {i} channels not idle: {:?}", n.channel_table());
        }
    }

    /// Places a call (called 1234, calling 5678) from node `from` and lets the SETUP arrive,
    /// returning (caller's id, callee's id).
    pub(crate) fn offered_call(&mut self, from: usize) -> (CallId, CallId) {
        let now = self.now;
        let a = self.nodes[from].setup(now, SetupRequest::speech("1234", "5678")).unwrap();
        self.settle();
        (a, self.incoming(1 - from))
    }

    /// Places a call from node `from` and answers it at the other end (PROCEEDING, ALERTING,
    /// CONNECT), returning (caller's id, callee's id).
    pub(crate) fn active_call(&mut self, from: usize) -> (CallId, CallId) {
        let (a, b) = self.offered_call(from);
        let now = self.now;
        self.nodes[1 - from].proceeding(now, b).unwrap();
        self.nodes[1 - from].alerting(now, b).unwrap();
        self.nodes[1 - from].connect(now, b).unwrap();
        self.settle();
        assert_eq!(self.state(from, a), CallState::Active);
        assert_eq!(self.state(1 - from, b), CallState::Active);
        (a, b)
    }
}

/// The libpri issue #5 invariant: a channel is busy only for a live call that holds it.
pub(crate) fn check_channels(q: &Q931) {
    for n in q.busy_channels() {
        let holder = q.channel_table().holder(n).unwrap();
        let call = q.call(holder).unwrap_or_else(|| panic!("channel {n} held by gone {holder}"));
        assert_eq!(call.channel, Some(n), "channel {n} held by {holder} which names {:?}", call.channel);
    }
}

pub(crate) fn released_cause(events: &[Q931Event], call: CallId) -> Option<u8> {
    events
        .iter()
        .find_map(|e| match e {
            Q931Event::Released { call: c, cause } if *c == call => Some(*cause),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{call} not released: {events:?}"))
}

fn disconnected_cause(events: &[Q931Event], call: CallId) -> Option<u8> {
    events
        .iter()
        .find_map(|e| match e {
            Q931Event::Disconnected { call: c, cause } if *c == call => Some(*cause),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{call} not disconnected: {events:?}"))
}

fn clear(p: &mut Pair, from: usize, a: CallId, b: CallId) {
    let now = p.now;
    p.nodes[from].disconnect(now, a, cause::NORMAL_CLEARING).unwrap();
    p.settle();
    assert_eq!(disconnected_cause(&p.events[1 - from], b), Some(cause::NORMAL_CLEARING));
    let now = p.now;
    p.nodes[1 - from].release(now, b, cause::NORMAL_CLEARING).unwrap();
    p.settle();
    assert_eq!(released_cause(&p.events[from], a), Some(cause::NORMAL_CLEARING));
    released_cause(&p.events[1 - from], b);
    p.assert_idle();
}

#[test]
fn user_calls_network_on_pri_with_libpri_octets_and_clears() {
    let mut p = Pair::pri();
    let (a, b) = p.active_call(0);
    // The user's SETUP and the network's CALL PROCEEDING are libpri's, octet for octet.
    let setup = "08 02 00 01 05 04 03 80 90 a3 18 03 a9 83 81 6c 06 00 80 35 36 37 38 70 05 80 31 32 33 34 a1";
    assert_eq!(hex(&p.wire[0].2), setup);
    assert_eq!(hex(&p.wire[1].2), "08 02 80 01 02 18 03 a9 83 81");
    assert!(matches!(&p.events[1][0],
        Q931Event::IncomingSetup { call, channel: Some(1), sending_complete: true, .. } if *call == b));
    // The SETUP stays with the call, read when wanted.
    let received = p.nodes[1].setup_message(b).expect("the SETUP kept with the call");
    assert_eq!(hex(received.octets()), setup);
    assert_eq!(received.called().map(|n| n.digits.to_string()).as_deref(), Some("1234"));
    assert_eq!(received.calling().map(|n| n.digits.to_string()).as_deref(), Some("5678"));
    let ev: Vec<_> = p.events[0].iter().map(|e| e.to_string()).collect();
    assert_eq!(ev, ["call#1 proceeding", "call#1 alerting", "call#1 connected"]);
    assert_eq!(p.nodes[0].busy_channels(), [1]);
    assert_eq!(p.nodes[1].busy_channels(), [1]);
    clear(&mut p, 0, a, b);
    use MessageType as M;
    assert_eq!(p.sent(0), [M::Setup, M::ConnectAcknowledge, M::Disconnect, M::ReleaseComplete]);
    assert_eq!(p.sent(1), [M::CallProceeding, M::Alerting, M::Connect, M::Release]);
}

#[test]
fn network_calls_user_on_pri_and_network_clears() {
    let mut p = Pair::pri();
    let (a, b) = p.active_call(1);
    use MessageType as M;
    assert_eq!(p.sent(0), [M::CallProceeding, M::Alerting, M::Connect]);
    assert_eq!(p.sent(1), [M::Setup, M::ConnectAcknowledge]);
    clear(&mut p, 1, a, b);
}

#[test]
fn bri_calls_both_ways_clear_from_either_side() {
    for (from, clearer) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let mut p = Pair::bri();
        let (a, b) = p.active_call(from);
        // The BRI channel identification is libpri's one-octet form.
        let setup = Message::parse(&p.wire[0].2).unwrap();
        assert_eq!(setup.call_ref.len, 1);
        let mut cid = Vec::new();
        Ie::ChannelId(setup.channel_id().unwrap().clone()).emit(&mut cid);
        assert_eq!(cid, [0x18, 0x01, 0x89]);
        if clearer == from {
            clear(&mut p, from, a, b);
        } else {
            clear(&mut p, clearer, b, a);
        }
    }
}

#[test]
fn disconnect_collision_goes_straight_to_release() {
    let mut p = Pair::pri();
    let (a, b) = p.active_call(0);
    let now = p.now;
    p.nodes[0].disconnect(now, a, cause::NORMAL_CLEARING).unwrap();
    p.nodes[1].disconnect(now, b, cause::NORMAL_CLEARING).unwrap();
    p.settle();
    released_cause(&p.events[0], a);
    released_cause(&p.events[1], b);
    p.assert_idle();
}

#[test]
fn overlap_dialling_digit_by_digit_with_t302() {
    let mut p = Pair::pri();
    let mut req = SetupRequest::speech("1", "5678");
    req.sending_complete = false;
    let now = p.now;
    let a = p.nodes[0].setup(now, req).unwrap();
    p.settle();
    let b = p.incoming(1);
    let now = p.now;
    p.nodes[1].setup_ack(now, b).unwrap();
    p.settle();
    assert_eq!(p.state(0, a), CallState::OverlapSending);
    assert_eq!(p.state(1, b), CallState::OverlapSending);
    assert!(p.nodes[1].timer_running(b, Timer::T302));
    for d in ["2", "3", "4"] {
        // Each digit arrives within T302 and starts it again.
        p.run_for(Duration::from_secs(10));
        let now = p.now;
        p.nodes[0].information(now, a, d, false).unwrap();
        p.settle();
    }
    let digits: Vec<String> = p.events[1]
        .iter()
        .filter_map(|e| if let Q931Event::Information { digits, .. } = e { Some(digits.clone()) } else { None })
        .collect();
    assert_eq!(digits, ["2", "3", "4"]);
    assert!(!p.events[1].iter().any(|e| matches!(e, Q931Event::OverlapTimeout { .. })));
    let before = p.elapsed();
    p.run_for(Duration::from_secs(16));
    let ev = p.take_events(1);
    assert!(ev.iter().any(|e| matches!(e, Q931Event::OverlapTimeout { call } if *call == b)), "{ev:?}");
    assert!(p.elapsed() - before >= Duration::from_secs(15));
    let now = p.now;
    p.nodes[1].proceeding(now, b).unwrap();
    p.nodes[1].connect(now, b).unwrap();
    p.settle();
    assert_eq!(p.state(0, a), CallState::Active);
    clear(&mut p, 1, b, a);
}

#[test]
fn overlap_receiving_on_the_user_side_ends_with_sending_complete() {
    let mut p = Pair::bri();
    let mut req = SetupRequest::speech("", "5678");
    req.called = None;
    req.sending_complete = false;
    let now = p.now;
    let b = p.nodes[1].setup(now, req).unwrap();
    p.settle();
    let a = p.incoming(0);
    let now = p.now;
    p.nodes[0].setup_ack(now, a).unwrap();
    p.settle();
    assert_eq!(p.state(0, a), CallState::OverlapReceiving);
    assert_eq!(p.state(1, b), CallState::OverlapReceiving);
    let now = p.now;
    p.nodes[1].information(now, b, "12", false).unwrap();
    p.nodes[1].information(now, b, "34", true).unwrap();
    p.settle();
    assert!(!p.nodes[0].timer_running(a, Timer::T302), "sending complete stops T302");
    assert!(p.events[0]
        .iter()
        .any(|e| matches!(e, Q931Event::Information { digits, complete: true, .. } if digits == "34")));
    let now = p.now;
    p.nodes[0].alerting(now, a).unwrap();
    p.nodes[0].connect(now, a).unwrap();
    p.settle();
    assert_eq!(p.state(0, a), CallState::Active);
    clear(&mut p, 0, a, b);
}

#[test]
fn call_refused_user_busy_and_unallocated_number() {
    // The user refuses the network's SETUP with RELEASE COMPLETE #17.
    let mut p = Pair::pri();
    let (b, a) = p.offered_call(1);
    let now = p.now;
    p.nodes[0].release(now, a, cause::USER_BUSY).unwrap();
    p.settle();
    assert_eq!(released_cause(&p.events[1], b), Some(cause::USER_BUSY));
    assert_eq!(p.sent(0), [MessageType::ReleaseComplete]);
    p.assert_idle();

    // The network refuses the user's SETUP with DISCONNECT #1.
    let mut p = Pair::pri();
    let now = p.now;
    let a = p.nodes[0].setup(now, SetupRequest::speech("9999", "5678")).unwrap();
    p.settle();
    let b = p.incoming(1);
    let now = p.now;
    p.nodes[1].disconnect(now, b, cause::UNALLOCATED_NUMBER).unwrap();
    p.settle();
    assert_eq!(disconnected_cause(&p.events[0], a), Some(cause::UNALLOCATED_NUMBER));
    let now = p.now;
    p.nodes[0].release(now, a, cause::NORMAL_CLEARING).unwrap();
    p.settle();
    released_cause(&p.events[1], b);
    p.assert_idle();
}

#[test]
fn restart_of_one_channel_and_of_the_interface() {
    let mut p = Pair::pri();
    let (a1, b1) = p.active_call(0);
    let (a2, b2) = p.active_call(0);
    assert_eq!(p.nodes[0].busy_channels(), [1, 2]);
    let now = p.now;
    p.nodes[1].restart(now, RestartTarget::Channel(1)).unwrap();
    p.settle();
    assert_eq!(released_cause(&p.events[0], a1), Some(cause::TEMPORARY_FAILURE));
    assert_eq!(released_cause(&p.events[1], b1), Some(cause::TEMPORARY_FAILURE));
    assert!(p.events[0].contains(&Q931Event::RestartIndication { channels: Some(vec![1]) }));
    assert!(p.events[1].contains(&Q931Event::RestartAcknowledged { target: RestartTarget::Channel(1) }));
    assert_eq!(p.nodes[0].busy_channels(), [2]);
    assert_eq!(p.state(0, a2), CallState::Active);
    let restart = Message::parse(&p.wire.iter().rev().find(|w| w.0 == 1).unwrap().2).unwrap();
    assert_eq!(restart.msg_type, MessageType::Restart);
    // RESTART ACKNOWLEDGE repeats the channel and the class, on the global reference.
    let ack = Message::parse(&p.wire.last().unwrap().2).unwrap();
    assert_eq!(ack.to_string(), "RESTART ACKNOWLEDGE cref=global (dest) chan=1 excl restart=Indicated");

    let now = p.now;
    p.nodes[0].restart(now, RestartTarget::Interface).unwrap();
    assert!(p.nodes[0].setup(now, SetupRequest::speech("1", "2")).is_err(), "channels are restarting");
    p.settle();
    released_cause(&p.events[0], a2);
    released_cause(&p.events[1], b2);
    assert!(p.events[1].contains(&Q931Event::RestartIndication { channels: None }));
    assert!(p.events[0].contains(&Q931Event::RestartAcknowledged { target: RestartTarget::Interface }));
    p.assert_idle();
}

#[test]
fn unanswered_restart_is_retried_then_the_channels_come_back() {
    let mut p = Pair::pri();
    p.link_up = false;
    let now = p.now;
    p.nodes[0].restart(now, RestartTarget::Interface).unwrap();
    p.run_for(Duration::from_secs(121));
    assert_eq!(p.sent(0), [MessageType::Restart, MessageType::Restart]);
    assert_eq!(p.nodes[0].channel_table().not_idle().len(), 30);
    p.run_for(Duration::from_secs(240));
    assert_eq!(p.sent(0).len(), 3);
    assert!(p.events[0].contains(&Q931Event::RestartFailed { target: RestartTarget::Interface }));
    p.assert_idle();
}

#[test]
fn t303_retransmits_setup_then_clears() {
    for side in [0, 1] {
        let mut p = Pair::pri();
        p.link_up = false;
        let now = p.now;
        let a = p.nodes[side].setup(now, SetupRequest::speech("1234", "5678")).unwrap();
        p.run_for(Duration::from_millis(4100));
        assert_eq!(p.sent(side), [MessageType::Setup, MessageType::Setup]);
        let waiting = if side == 0 { CallState::CallInitiated } else { CallState::CallPresent };
        assert_eq!(p.state(side, a), waiting);
        p.run_for(Duration::from_secs(4));
        assert_eq!(p.sent(side), [MessageType::Setup, MessageType::Setup, MessageType::ReleaseComplete]);
        let expected = if side == 0 { cause::RECOVERY_ON_TIMER_EXPIRY } else { cause::NO_USER_RESPONDING };
        assert_eq!(released_cause(&p.events[side], a), Some(expected));
        p.assert_idle();
    }
}

#[test]
fn t308_retransmits_release_then_frees_the_channel() {
    let mut p = Pair::pri();
    let (a, _b) = p.active_call(0);
    // Messages are lost from now on, without a data link indication.
    p.link_up = false;
    let now = p.now;
    p.nodes[0].release(now, a, cause::NORMAL_CLEARING).unwrap();
    p.run_for(Duration::from_millis(4100));
    assert_eq!(p.state(0, a), CallState::ReleaseRequest);
    p.run_for(Duration::from_secs(4));
    let rel = p.sent(0).iter().filter(|t| **t == MessageType::Release).count();
    assert_eq!(rel, 2);
    assert_eq!(released_cause(&p.events[0], a), Some(cause::RECOVERY_ON_TIMER_EXPIRY));
    assert!(p.nodes[0].calls().is_empty());
    assert!(p.nodes[0].channel_table().not_idle().is_empty());
}

#[test]
fn t305_turns_an_unanswered_disconnect_into_release() {
    let mut p = Pair::pri();
    let (a, _b) = p.active_call(1);
    p.link_up = false;
    let now = p.now;
    p.nodes[0].disconnect(now, a, cause::NORMAL_CLEARING).unwrap();
    p.run_for(Duration::from_secs(31));
    assert_eq!(p.state(0, a), CallState::ReleaseRequest);
    let last = Message::parse(&p.wire.last().unwrap().2).unwrap();
    assert_eq!(last.msg_type, MessageType::Release);
    assert_eq!(last.cause().map(|c| c.value), Some(cause::NORMAL_CLEARING));
}

#[test]
fn t309_keeps_an_active_call_across_a_short_link_loss() {
    let mut p = Pair::pri();
    let (a, b) = p.active_call(0);
    p.link_up = false;
    let now = p.now;
    p.nodes[0].handle_dl_released(now, 0);
    p.nodes[1].handle_dl_released(now, 0);
    assert!(p.nodes[0].timer_running(a, Timer::T309));
    p.run_for(Duration::from_secs(60));
    assert_eq!(p.state(0, a), CallState::Active);
    p.link_up = true;
    let now = p.now;
    p.nodes[0].handle_dl_established(now, 0);
    p.nodes[1].handle_dl_established(now, 0);
    p.settle();
    assert!(!p.nodes[0].timer_running(a, Timer::T309));
    // Each side reports its state with STATUS #31; the peer, also active, just notes it.
    let st = Message::parse(&p.wire.iter().rev().find(|w| w.0 == 0).unwrap().2).unwrap();
    assert_eq!(st.to_string(), "STATUS cref=1 (orig) cause=31 (normal, unspecified) state=10");
    assert_eq!(p.state(0, a), CallState::Active);
    assert_eq!(p.state(1, b), CallState::Active);
    p.run_for(Duration::from_secs(100));
    assert_eq!(p.state(0, a), CallState::Active);
    clear(&mut p, 0, a, b);
}

#[test]
fn t309_clears_the_call_when_the_link_stays_down() {
    let mut p = Pair::pri();
    let (a, b) = p.active_call(1);
    p.link_up = false;
    let now = p.now;
    p.nodes[0].handle_dl_released(now, 0);
    p.nodes[1].handle_dl_released(now, 0);
    p.run_for(Duration::from_secs(91));
    // §5.8.9: cause #27, destination out of order, on both sides.
    assert_eq!(released_cause(&p.events[0], b), Some(cause::DESTINATION_OUT_OF_ORDER));
    assert_eq!(released_cause(&p.events[1], a), Some(cause::DESTINATION_OUT_OF_ORDER));
    p.assert_idle();
}

/// HA moved the line to the other node: every call of ours is released at once with cause #27
/// and its channel freed, and nothing is sent on the line that is no longer ours.
#[test]
fn clear_all_releases_every_call_at_once_and_sends_nothing() {
    let mut p = Pair::pri();
    let (a, _) = p.active_call(0);
    let now = p.now;
    let c = p.nodes[0].setup(now, SetupRequest::speech("1235", "5678")).unwrap();
    // The line goes with the SETUP unanswered: one call active, one being set up.
    p.link_up = false;
    p.run_for(Duration::from_millis(10));
    let sent = p.wire.len();
    let now = p.now;
    p.nodes[0].clear_all(now, cause::DESTINATION_OUT_OF_ORDER);
    p.run_for(Duration::from_millis(10));
    for call in [a, c] {
        assert_eq!(released_cause(&p.events[0], call), Some(cause::DESTINATION_OUT_OF_ORDER), "{call}");
    }
    assert!(p.nodes[0].calls().is_empty(), "{:?}", p.nodes[0].calls());
    assert!(p.nodes[0].channel_table().not_idle().is_empty());
    assert_eq!(p.wire.len(), sent, "nothing sent: {:?}", &p.wire[sent..]);
}

#[test]
fn link_loss_while_clearing_leaves_no_channel_busy_libpri_issue_5() {
    // NT point-to-multipoint BRI: the network calls, a terminal answers, the line drops while the
    // call clears.
    let mut p = Pair::new(Q931Config::bri(Side::User, true), Q931Config::bri(Side::Network, true));
    p.user_tei = 64;
    let now = p.now;
    p.nodes[0].handle_dl_established(now, 64);
    let (b, a) = p.active_call(1);
    assert_eq!(p.wire[0].1, 127, "broadcast SETUP as UI on TEI 127");
    assert_eq!(p.nodes[1].call(b).unwrap().tei, 64, "the answering terminal's TEI");
    let now = p.now;
    p.nodes[1].disconnect(now, b, cause::NORMAL_CLEARING).unwrap();
    p.link_up = false;
    p.run_for(Duration::from_millis(100));
    let now = p.now;
    p.nodes[1].handle_dl_released(now, 64);
    p.nodes[0].handle_dl_released(now, 64);
    p.run_for(Duration::from_secs(100));
    released_cause(&p.events[1], b);
    released_cause(&p.events[0], a);
    p.assert_idle();
}

#[test]
fn link_loss_during_establishment_clears_at_once() {
    let mut p = Pair::bri();
    let (a, b) = p.offered_call(0);
    let now = p.now;
    p.nodes[1].alerting(now, b).unwrap();
    p.settle();
    p.link_up = false;
    let now = p.now;
    p.nodes[0].handle_dl_released(now, 0);
    p.nodes[1].handle_dl_released(now, 0);
    p.settle();
    assert_eq!(released_cause(&p.events[0], a), Some(cause::TEMPORARY_FAILURE));
    released_cause(&p.events[1], b);
    p.assert_idle();
}

#[test]
fn glare_on_pri_the_network_call_keeps_the_channel() {
    let mut p = Pair::pri();
    let now = p.now;
    let mut req = SetupRequest::speech("1234", "5678");
    req.channel = Some(5);
    let a = p.nodes[0].setup(now, req.clone()).unwrap();
    let b = p.nodes[1].setup(now, req).unwrap();
    p.settle();
    // The network refused the user's SETUP for channel 5 ...
    assert_eq!(released_cause(&p.events[0], a), Some(cause::CHANNEL_NOT_AVAILABLE));
    // ... and the user took the network's call on it.
    let incoming = p.incoming(0);
    assert_eq!(p.nodes[0].call(incoming).unwrap().channel, Some(5));
    assert_eq!(p.nodes[0].busy_channels(), [5]);
    let now = p.now;
    p.nodes[0].connect(now, incoming).unwrap();
    p.settle();
    assert_eq!(p.state(1, b), CallState::Active);
    clear(&mut p, 0, incoming, b);
}

#[test]
fn glare_with_a_preferred_channel_keeps_both_calls() {
    let mut p = Pair::pri();
    let now = p.now;
    let mut req = SetupRequest::speech("1234", "5678");
    req.channel = Some(5);
    req.exclusive = false;
    let a = p.nodes[0].setup(now, req.clone()).unwrap();
    let b = p.nodes[1].setup(now, req).unwrap();
    p.settle();
    let at_user = p.incoming(0);
    let at_net = p.incoming(1);
    let now = p.now;
    p.nodes[0].connect(now, at_user).unwrap();
    p.nodes[1].connect(now, at_net).unwrap();
    p.settle();
    for (i, call) in [(0, a), (0, at_user), (1, b), (1, at_net)] {
        assert_eq!(p.state(i, call), CallState::Active, "node {i} {call}");
    }
    let mut user = p.nodes[0].busy_channels();
    user.sort_unstable();
    assert_eq!(user, [1, 5]);
    assert_eq!(p.nodes[0].call(a).unwrap().channel, p.nodes[1].call(at_net).unwrap().channel);
    assert_eq!(p.nodes[1].call(b).unwrap().channel, p.nodes[0].call(at_user).unwrap().channel);
    let now = p.now;
    p.nodes[0].disconnect(now, a, cause::NORMAL_CLEARING).unwrap();
    p.nodes[1].disconnect(now, b, cause::NORMAL_CLEARING).unwrap();
    p.settle();
    let now = p.now;
    p.nodes[1].release(now, at_net, cause::NORMAL_CLEARING).unwrap();
    p.nodes[0].release(now, at_user, cause::NORMAL_CLEARING).unwrap();
    p.settle();
    p.assert_idle();
}

#[test]
fn a_preferred_channel_in_use_moves_to_another_an_exclusive_one_is_refused() {
    let mut p = Pair::pri();
    let (a, _b) = p.active_call(0);
    assert_eq!(p.nodes[0].call(a).unwrap().channel, Some(1));
    let now = p.now;
    // The network offers channel 1, preferred: the user takes channel 2 and says so.
    let preferred = "08 02 00 07 05 04 03 80 90 a3 18 03 a1 83 81";
    p.nodes[0].handle_dl_data(now, 0, &bytes(preferred));
    let c = match p.nodes[0].poll_event() {
        Some(Q931Event::IncomingSetup { call, channel: Some(2), .. }) => call,
        other => panic!("{other:?}"),
    };
    assert_eq!(p.nodes[0].call(c).unwrap().channel, Some(2));
    p.nodes[0].proceeding(now, c).unwrap();
    let (_, out) = p.nodes[0].poll_transmit().unwrap();
    assert_eq!(hex(out), "08 02 80 07 02 18 03 a9 83 82");
    // Exclusive: RELEASE COMPLETE #44.
    let exclusive = "08 02 00 08 05 04 03 80 90 a3 18 03 a9 83 81";
    p.nodes[0].handle_dl_data(now, 0, &bytes(exclusive));
    let (_, out) = p.nodes[0].poll_transmit().unwrap();
    assert_eq!(
        Message::parse(out).unwrap().to_string(),
        "RELEASE COMPLETE cref=8 (dest) cause=44 (requested circuit/channel not available)"
    );
    check_channels(&p.nodes[0]);
}

#[test]
fn status_enquiry_is_answered_with_the_call_state() {
    let mut p = Pair::pri();
    let (a, _b) = p.active_call(0);
    let cref = p.nodes[0].call(a).unwrap().call_ref();
    let enquiry = Message::new(CallRef { flag: !cref.flag, ..cref }, MessageType::StatusEnquiry).to_bytes();
    let now = p.now;
    p.nodes[0].handle_dl_data(now, 0, &enquiry);
    let (_, out) = p.nodes[0].poll_transmit().unwrap();
    let st = Message::parse(out).unwrap();
    assert_eq!(st.to_string(), "STATUS cref=1 (orig) cause=30 (response to STATUS ENQUIRY) state=10");
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

pub(crate) fn bytes(hex: &str) -> Vec<u8> {
    hex.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
}

#[test]
fn t310_t313_and_t301_clear_calls_that_stop_progressing() {
    // T310: CALL PROCEEDING, then nothing: the user clears with #102.
    let mut p = Pair::pri();
    let (a, b) = p.offered_call(0);
    let now = p.now;
    p.nodes[1].proceeding(now, b).unwrap();
    p.run_for(Duration::from_secs(29));
    assert_eq!(p.state(0, a), CallState::OutgoingCallProceeding);
    p.run_for(Duration::from_secs(2));
    assert_eq!(disconnected_cause(&p.events[0], a), Some(cause::RECOVERY_ON_TIMER_EXPIRY));
    assert_eq!(disconnected_cause(&p.events[1], b), Some(cause::RECOVERY_ON_TIMER_EXPIRY));
    let now = p.now;
    p.nodes[1].release(now, b, cause::NORMAL_CLEARING).unwrap();
    p.settle();
    p.assert_idle();

    // T313: the user's CONNECT is never acknowledged.
    let mut p = Pair::pri();
    let (b, a) = p.offered_call(1);
    p.link_up = false;
    let now = p.now;
    p.nodes[0].connect(now, a).unwrap();
    p.run_for(Duration::from_secs(5));
    assert_eq!(disconnected_cause(&p.events[0], a), Some(cause::RECOVERY_ON_TIMER_EXPIRY));
    assert_eq!(p.state(0, a), CallState::DisconnectRequest);
    assert_eq!(p.state(1, b), CallState::CallPresent);

    // T301: the user rings and never answers: the network clears with #19.
    let mut p = Pair::pri();
    let (b, a) = p.offered_call(1);
    let now = p.now;
    p.nodes[0].alerting(now, a).unwrap();
    p.run_for(Duration::from_secs(179));
    assert_eq!(p.state(1, b), CallState::CallReceived);
    p.run_for(Duration::from_secs(2));
    assert_eq!(disconnected_cause(&p.events[1], b), Some(cause::NO_ANSWER));
    assert_eq!(disconnected_cause(&p.events[0], a), Some(cause::NO_ANSWER));
    let now = p.now;
    p.nodes[0].release(now, a, cause::NORMAL_CLEARING).unwrap();
    p.settle();
    p.assert_idle();
}

#[test]
fn every_message_and_event_has_a_readable_trace() {
    let mut p = Pair::bri();
    let (a, b) = p.active_call(0);
    clear(&mut p, 0, a, b);
    let traces: Vec<String> = p.wire.iter().map(|w| Message::parse(&w.2).unwrap().to_string()).collect();
    assert_eq!(
        traces,
        [
            "SETUP cref=1 (orig) bearer=speech/alaw chan=1 excl calling=5678 (unknown/unknown, allowed, \
             user-not-screened) called=1234 (unknown/unknown) complete",
            "CALL PROCEEDING cref=1 (dest) chan=1 excl",
            "ALERTING cref=1 (dest)",
            "CONNECT cref=1 (dest)",
            "CONNECT ACKNOWLEDGE cref=1 (orig)",
            "DISCONNECT cref=1 (orig) cause=16 (normal clearing)",
            "RELEASE cref=1 (dest) cause=16 (normal clearing)",
            "RELEASE COMPLETE cref=1 (orig)",
        ]
    );
    // The numbers are the SETUP's (traced above), which the call keeps; the events name causes.
    let events: Vec<String> = p.events[1].iter().map(ToString::to_string).collect();
    assert_eq!(
        events,
        [
            "call#1 incoming tei=0 chan=Some(1) complete",
            "call#1 disconnected cause=16 (normal clearing)",
            "call#1 released"
        ]
    );
    let events: Vec<String> = p.events[0].iter().map(ToString::to_string).collect();
    assert_eq!(events.last().map(String::as_str), Some("call#1 released cause=16 (normal clearing)"));
}

#[test]
fn notify_and_facility_pass_through_both_ways() {
    let mut p = Pair::pri();
    let (a, b) = p.active_call(0);
    let now = p.now;
    let facility = Ie::Raw { codeset: 0, id: ie::id::FACILITY, data: vec![0x91, 0xa1, 0x03, 0x02, 0x01, 0x01] };
    p.nodes[0].pass_through(now, a, MessageType::Facility, vec![facility.clone()]).unwrap();
    let notify = Ie::Raw { codeset: 0, id: ie::id::NOTIFICATION, data: vec![0x80] };
    p.nodes[1].pass_through(now, b, MessageType::Notify, vec![notify.clone()]).unwrap();
    assert_eq!(
        p.nodes[0].pass_through(now, a, MessageType::Setup, Vec::new()),
        Err(Q931Error::InvalidState(a, CallState::Active))
    );
    p.settle();
    assert!(p.events[1].iter().any(
        |e| matches!(e, Q931Event::PassedThrough { call, message } if *call == b && message.ies == [facility.clone()])
    ));
    assert!(p.events[0].iter().any(
        |e| matches!(e, Q931Event::PassedThrough { call, message } if *call == a && message.ies == [notify.clone()])
    ));
    clear(&mut p, 1, b, a);
}

/// The network's tones (§5.3.4.1): ALERTING with progress #8 while it plays ringback, then
/// DISCONNECT with progress #8 while it plays busy; the user is told of the tone before the
/// DISCONNECT and may listen; T306 (not T305) bounds it, and its expiry is RELEASE with the
/// DISCONNECT's cause. The user side cannot keep the channel so.
#[test]
fn network_tones_after_alerting_and_disconnect_with_progress_8() {
    let mut p = Pair::pri();
    let (a, b) = p.offered_call(0);
    let now = p.now;
    p.nodes[1].proceeding(now, b).unwrap();
    p.nodes[1].alerting_with_progress(now, b, 8).unwrap();
    p.settle();
    let last = |p: &Pair, i: usize| Message::parse(&p.wire.iter().rev().find(|w| w.0 == i).unwrap().2).unwrap();
    let progress =
        |m: &Message| m.codeset0().find_map(|ie| if let Ie::Progress(pi) = ie { Some(pi.description) } else { None });
    let alerting = last(&p, 1);
    assert_eq!((alerting.msg_type, progress(&alerting)), (MessageType::Alerting, Some(8)));
    let ev = p.take_events(0);
    assert!(
        ev.iter().any(|e| matches!(e, Q931Event::Alerting { call, inband: true } if *call == a)),
        "the user is told the network plays its ringback: {ev:?}"
    );
    assert!(p.nodes[0].disconnect_inband(p.now, a, cause::USER_BUSY).is_err(), "only the network keeps the channel");
    let now = p.now;
    p.nodes[1].disconnect_inband(now, b, cause::USER_BUSY).unwrap();
    p.settle();
    let disc = last(&p, 1);
    assert_eq!((disc.msg_type, progress(&disc)), (MessageType::Disconnect, Some(8)));
    assert_eq!(disc.cause().map(|c| c.value), Some(cause::USER_BUSY));
    let ev = p.take_events(0);
    assert!(matches!(&ev[..], [Q931Event::Progress { inband: true, .. }, Q931Event::Disconnected { .. }]), "{ev:?}");
    assert!(p.nodes[1].timer_running(b, Timer::T306) && !p.nodes[1].timer_running(b, Timer::T305));
    p.run_for(Duration::from_secs(29));
    assert_eq!(p.state(0, a), CallState::DisconnectIndication, "the user listens");
    assert_eq!(p.state(1, b), CallState::DisconnectIndication);
    p.run_for(Duration::from_secs(2));
    let rel = last(&p, 1);
    assert_eq!((rel.msg_type, rel.cause().map(|c| c.value)), (MessageType::Release, Some(cause::USER_BUSY)));
    assert_eq!(released_cause(&p.events[0], a), Some(cause::USER_BUSY));
    p.assert_idle();
}

/// An ALERTING without a progress indicator says the called side plays no ringback of its own
/// (the switch then plays ours), whichever side sends it.
#[test]
fn alerting_without_progress_is_not_inband() {
    for from in [0, 1] {
        let mut p = Pair::pri();
        let (a, b) = p.offered_call(from);
        let now = p.now;
        p.nodes[1 - from].proceeding(now, b).unwrap();
        p.nodes[1 - from].alerting(now, b).unwrap();
        p.settle();
        let ev = p.take_events(from);
        assert!(
            ev.iter().any(|e| matches!(e, Q931Event::Alerting { call, inband: false } if *call == a)),
            "from node {from}: {ev:?}"
        );
    }
}

/// A PROGRESS tells the other side whether there is something to hear: #1 and #8 say the tones
/// are on the B-channel, #2 (destination not ISDN) only where the call went.
#[test]
fn progress_is_inband_only_with_indicator_1_or_8() {
    for (description, inband) in [(8, true), (1, true), (2, false), (4, false)] {
        let mut p = Pair::pri();
        let (a, b) = p.offered_call(1);
        let now = p.now;
        p.nodes[0].proceeding(now, b).unwrap();
        p.nodes[0].progress(now, b, description).unwrap();
        p.settle();
        let ev = p.take_events(1);
        assert!(
            ev.iter().any(|e| matches!(e, Q931Event::Progress { call, inband: i } if *call == a && *i == inband)),
            "progress #{description}: {ev:?}"
        );
    }
}

/// The call timers running for `call` on node `i`.
fn timers_of(p: &Pair, i: usize, call: CallId) -> Vec<Timer> {
    Timer::CALL.into_iter().filter(|&t| p.nodes[i].timer_running(call, t)).collect()
}

/// Through a call's life each side runs the timer of the state it is in (Tables 9-1 and 9-2)
/// and none of a state it left: one state timer at a time, as `TimerSet` keeps them.
#[test]
fn each_state_runs_its_own_timer_and_no_other() {
    for from in [0, 1] {
        let (caller_user, to) = (from == 0, 1 - from);
        let mut p = Pair::pri();
        let now = p.now;
        let a = p.nodes[from].setup(now, SetupRequest::speech("1234", "5678")).unwrap();
        assert_eq!(timers_of(&p, from, a), [Timer::T303], "U1/N6 from {from}");
        p.settle();
        let b = p.incoming(to);
        assert_eq!(timers_of(&p, to, b), [], "U6/N1 from {from}");
        let now = p.now;
        p.nodes[to].proceeding(now, b).unwrap();
        p.settle();
        assert_eq!((timers_of(&p, from, a), timers_of(&p, to, b)), (vec![Timer::T310], vec![]), "U3/N9 from {from}");
        let now = p.now;
        p.nodes[to].alerting(now, b).unwrap();
        p.settle();
        let delivered = if caller_user { vec![] } else { vec![Timer::T301] };
        assert_eq!((timers_of(&p, from, a), timers_of(&p, to, b)), (delivered, vec![]), "U4/N7 from {from}");
        let now = p.now;
        p.nodes[to].connect(now, b).unwrap();
        let connect_request = if caller_user { vec![] } else { vec![Timer::T313] };
        assert_eq!(timers_of(&p, to, b), connect_request, "U8 from {from}");
        p.settle();
        assert_eq!((timers_of(&p, from, a), timers_of(&p, to, b)), (vec![], vec![]), "U10/N10 from {from}");
        let now = p.now;
        p.nodes[from].disconnect(now, a, cause::NORMAL_CLEARING).unwrap();
        p.settle();
        assert_eq!((timers_of(&p, from, a), timers_of(&p, to, b)), (vec![Timer::T305], vec![]), "U11/N12 from {from}");
        let now = p.now;
        p.nodes[to].release(now, b, cause::NORMAL_CLEARING).unwrap();
        assert_eq!(timers_of(&p, to, b), [Timer::T308], "U19/N19 from {from}");
        p.settle();
        p.assert_idle();
    }
}
