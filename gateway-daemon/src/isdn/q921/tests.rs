//! Two-peer (and S-bus) scenario tests of the Q.921 entity on virtual time.

use std::time::{Duration, Instant};

use super::harness::Line;
use super::*;

const NT: usize = 0;
const TE: usize = 1;

fn cfg(role: Role, k: u8, persistence: Layer2Persistence) -> Q921Config {
    Q921Config { k, layer2_persistence: persistence, ..Q921Config::pri(role) }
}

fn line(k: u8, persistence: Layer2Persistence) -> Line {
    Line::new(&[cfg(Role::Nt, k, persistence), cfg(Role::Te, k, persistence)])
}

fn state(line: &Line, node: usize) -> LinkState {
    line.nodes[node].link().expect("single link").state
}

/// A point-to-point line with the data link established by the TE.
fn up(k: u8, persistence: Layer2Persistence) -> Line {
    let mut l = line(k, persistence);
    l.nodes[TE].dl_establish_request(l.now).unwrap();
    l.settle();
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished, "{:#?}", l.trace());
    assert_eq!(state(&l, NT), LinkState::MultipleFrameEstablished);
    assert_eq!(l.take_events(TE), [Q921Event::EstablishConfirm { tei: Some(0) }]);
    assert_eq!(l.take_events(NT), [Q921Event::EstablishIndication { tei: Some(0) }]);
    l
}

fn data(events: &[Q921Event]) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            Q921Event::DataIndication { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .collect()
}

fn message(i: usize) -> Vec<u8> {
    format!("message {i}").into_bytes()
}

fn wire_of(l: &Line, from: usize) -> Vec<Vec<u8>> {
    l.wire.iter().filter(|w| w.from == from).map(|w| w.octets.clone()).collect()
}

#[test]
fn te_establishes_the_link_with_the_nt() {
    let l = up(7, Layer2Persistence::LeaveDown);
    assert_eq!(wire_of(&l, TE)[0], [0x00, 0x01, 0x7f]);
    assert_eq!(wire_of(&l, NT)[0], [0x00, 0x01, 0x73]);
    assert_eq!(l.trace()[..2], ["t=0.000 1> SABME sapi=0 tei=0 C p=1", "t=0.005 0> UA sapi=0 tei=0 R f=1"]);
}

#[test]
fn crossing_sabmes_bring_both_sides_up_as_with_libpri() {
    let mut l = line(7, Layer2Persistence::KeepUp);
    let now = l.now;
    l.nodes[TE].dl_establish_request(now).unwrap();
    l.nodes[NT].dl_establish_request(now).unwrap();
    l.settle();
    // The bytes of test-peers.md §1: SABMEs 00 01 7f (user) and 02 01 7f (net), then the UAs.
    assert_eq!(wire_of(&l, TE), [vec![0x00, 0x01, 0x7f], vec![0x02, 0x01, 0x73]]);
    assert_eq!(wire_of(&l, NT), [vec![0x02, 0x01, 0x7f], vec![0x00, 0x01, 0x73]]);
    assert_eq!(l.take_events(TE), [Q921Event::EstablishConfirm { tei: Some(0) }]);
    assert_eq!(l.take_events(NT), [Q921Event::EstablishConfirm { tei: Some(0) }]);
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished);
    assert_eq!(state(&l, NT), LinkState::MultipleFrameEstablished);
}

/// Both sides queue `n` messages at once; each must arrive once and in order, with no
/// retransmission, and the window may never exceed k (the harness checks that on every step).
fn exchange(k: u8, n: usize) -> Line {
    let mut l = up(k, Layer2Persistence::LeaveDown);
    let now = l.now;
    for i in 0..n {
        l.nodes[TE].dl_data_request(now, &message(i)).unwrap();
        l.nodes[NT].dl_data_request(now, &message(i + 1000)).unwrap();
    }
    l.run_for(Duration::from_secs(8));
    let expected_at_nt: Vec<Vec<u8>> = (0..n).map(message).collect();
    let expected_at_te: Vec<Vec<u8>> = (0..n).map(|i| message(i + 1000)).collect();
    assert_eq!(data(&l.take_events(NT)), expected_at_nt);
    assert_eq!(data(&l.take_events(TE)), expected_at_te);
    for node in [TE, NT] {
        let i_frames = l.sent(node, "I ").len();
        assert_eq!(i_frames, n, "no I frame sent twice");
        let link = l.nodes[node].link().unwrap();
        assert_eq!(link.vs, link.va, "all acknowledged");
        assert_eq!(usize::from(link.vs), n % 128);
    }
    l
}

#[test]
fn i_frames_both_ways_with_window_7_wrap_past_127() {
    let l = exchange(7, 300);
    let te_sent = l.sent(TE, "I ");
    assert!(te_sent[127].contains("ns=127"), "{}", te_sent[127]);
    assert!(te_sent[128].contains(" ns=0 "), "{}", te_sent[128]);
    assert!(te_sent[299].contains("ns=43"));
}

#[test]
fn i_frames_both_ways_with_window_1_wrap_past_127() {
    let l = exchange(1, 200);
    let nt_sent = l.sent(NT, "I ");
    assert!(nt_sent[128].contains(" ns=0 "), "{}", nt_sent[128]);
    // With k = 1 a second frame never leaves before the first is acknowledged.
    assert_eq!(nt_sent.len(), 200);
}

#[test]
fn acknowledgement_by_rr_and_by_piggy_backed_nr() {
    let mut l = up(7, Layer2Persistence::LeaveDown);
    let now = l.now;
    l.nodes[TE].dl_data_request(now, b"one").unwrap();
    l.settle();
    assert_eq!(l.sent(NT, "RR"), ["t=0.205 0> RR sapi=0 tei=0 R nr=1 f=0"]);
    assert_eq!(l.nodes[TE].link().unwrap().va, 1);

    // Now lose every RR of the NT: only the N(R) of its own I frame can acknowledge.
    l.drop = Some(Box::new(|from, octets| from == NT && octets.len() == 4 && octets[2] == 0x01));
    let now = l.now;
    for m in [&b"two"[..], b"three", b"four"] {
        l.nodes[TE].dl_data_request(now, m).unwrap();
    }
    l.run_for(Duration::from_millis(100));
    let te = l.nodes[TE].link().unwrap();
    assert_eq!((te.va, te.vs), (1, 4));
    l.nodes[NT].dl_data_request(l.now, b"reply").unwrap();
    l.run_for(Duration::from_millis(100));
    let te = l.nodes[TE].link().unwrap();
    assert_eq!((te.va, te.vs), (4, 4));
    assert_eq!(l.sent(NT, "I "), ["t=0.500 0> I sapi=0 tei=0 C ns=0 nr=4 p=0 len=5"]);
    assert!(l.sent(TE, "RR sapi=0 tei=0 C").is_empty(), "no enquiry: T200 stopped by the N(R)");
}

#[test]
fn rej_recovers_a_lost_i_frame() {
    let mut l = up(7, Layer2Persistence::LeaveDown);
    let mut lost = false;
    l.drop = Some(Box::new(move |from, octets| {
        let is_ns1 = from == TE && octets.len() > 4 && octets[2] == 0x02;
        let drop = is_ns1 && !lost;
        lost |= drop;
        drop
    }));
    let now = l.now;
    for i in 0..4 {
        l.nodes[TE].dl_data_request(now, &message(i)).unwrap();
    }
    l.run_for(Duration::from_millis(500));
    assert_eq!(data(&l.take_events(NT)), (0..4).map(message).collect::<Vec<_>>());
    assert_eq!(l.sent(NT, "REJ").len(), 1, "{:#?}", l.trace());
    assert!(l.sent(NT, "REJ")[0].ends_with("REJ sapi=0 tei=0 R nr=1 f=0"));
    // Frames 1, 2 and 3 went out a second time, and nothing waited for T200.
    assert_eq!(l.sent(TE, "I ").len(), 7);
    assert!(l.sent(TE, "RR sapi=0 tei=0 C").is_empty());
}

#[test]
fn t200_enquiry_recovers_a_lost_i_frame() {
    let mut l = up(7, Layer2Persistence::LeaveDown);
    let mut lost = false;
    l.drop = Some(Box::new(move |from, octets| {
        let drop = from == TE && octets[2] & 1 == 0 && !lost;
        lost |= drop;
        drop
    }));
    l.nodes[TE].dl_data_request(l.now, b"setup").unwrap();
    l.run_for(Duration::from_secs(2));
    assert_eq!(data(&l.take_events(NT)), [b"setup".to_vec()]);
    assert_eq!(l.sent(TE, "RR sapi=0 tei=0 C"), ["t=1.200 1> RR sapi=0 tei=0 C nr=0 p=1"]);
    assert_eq!(l.sent(NT, "RR sapi=0 tei=0 R nr=0 f=1").len(), 1);
    assert_eq!(l.sent(TE, "I ").len(), 2);
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished);
}

#[test]
fn n200_unanswered_enquiries_then_sabmes_end_in_link_failure() {
    let mut l = up(7, Layer2Persistence::LeaveDown);
    l.dead[NT] = true;
    l.nodes[TE].dl_data_request(l.now, b"lost").unwrap();
    l.run_for(Duration::from_secs(20));
    assert_eq!(
        l.take_events(TE),
        [
            Q921Event::MdlError { tei: Some(0), code: MdlError::I },
            Q921Event::MdlError { tei: Some(0), code: MdlError::G },
            Q921Event::ReleaseIndication { tei: Some(0) },
        ]
    );
    let enquiries = l.sent(TE, "RR sapi=0 tei=0 C");
    assert_eq!(enquiries.len(), 3, "N200 enquiries: {enquiries:#?}");
    // N200 + 1 SABMEs (the first of the initial establishment excluded), one per T200.
    let sabmes: Vec<String> = l.sent(TE, "SABME").into_iter().skip(1).collect();
    assert_eq!(sabmes.len(), 4, "{sabmes:#?}");
    assert!(sabmes[0].starts_with("t=4.200"), "{}", sabmes[0]);
    assert!(sabmes[3].starts_with("t=7.200"), "{}", sabmes[3]);
    assert_eq!(state(&l, TE), LinkState::TeiAssigned);
    assert!(l.nodes[TE].poll_timeout().is_none(), "leave_down: nothing more to do");
}

#[test]
fn rnr_holds_the_peer_until_the_busy_condition_clears() {
    let mut l = up(7, Layer2Persistence::LeaveDown);
    l.nodes[NT].set_own_busy(l.now, true);
    l.settle();
    assert!(l.nodes[TE].link().unwrap().peer_busy);
    assert_eq!(l.sent(NT, "RNR").len(), 1);
    let now = l.now;
    for i in 0..3 {
        l.nodes[TE].dl_data_request(now, &message(i)).unwrap();
    }
    l.run_for(Duration::from_secs(3));
    assert!(l.sent(TE, "I ").is_empty(), "nothing sent to a busy peer");
    assert!(l.sent(TE, "RR sapi=0 tei=0 C").len() >= 2, "the busy peer is polled");
    assert!(l.sent(NT, "RNR sapi=0 tei=0 R nr=0 f=1").len() >= 2);
    l.nodes[NT].set_own_busy(l.now, false);
    l.run_for(Duration::from_secs(3));
    assert_eq!(data(&l.take_events(NT)), (0..3).map(message).collect::<Vec<_>>());
    assert_eq!(l.sent(TE, "I ").len(), 3);
}

#[test]
fn own_busy_discards_i_frames_and_the_sender_retransmits_later() {
    let mut l = up(7, Layer2Persistence::LeaveDown);
    // The RNR is lost, so the TE sends into the busy NT and must recover by T200.
    l.drop = Some(Box::new(|from, octets| from == NT && octets.len() == 4 && octets[2] == 0x05 && octets[3] == 0));
    l.nodes[NT].set_own_busy(l.now, true);
    l.nodes[TE].dl_data_request(l.now, b"while busy").unwrap();
    l.run_for(Duration::from_millis(500));
    assert!(data(&l.take_events(NT)).is_empty());
    l.nodes[NT].set_own_busy(l.now, false);
    l.run_for(Duration::from_secs(3));
    assert_eq!(data(&l.take_events(NT)), [b"while busy".to_vec()]);
}

#[test]
fn t203_polls_an_idle_link() {
    let mut l = up(7, Layer2Persistence::LeaveDown);
    l.run_for(Duration::from_millis(10_500) - l.elapsed());
    // The NT started T203 on the SABME (t=0.005), the TE on the UA (t=0.010): the NT polls first
    // and its poll restarts the TE's T203.
    assert_eq!(l.sent(NT, "RR"), ["t=10.005 0> RR sapi=0 tei=0 C nr=0 p=1"]);
    assert_eq!(l.sent(TE, "RR"), ["t=10.010 1> RR sapi=0 tei=0 R nr=0 f=1"]);
    assert_eq!(state(&l, NT), LinkState::MultipleFrameEstablished);
    l.run_for(Duration::from_secs(30));
    // Whoever's T203 runs out first polls, which restarts the other's: one poll per T203.
    let polls = l.sent(NT, "RR sapi=0 tei=0 C").len() + l.sent(TE, "RR sapi=0 tei=0 C").len();
    assert_eq!(polls, 4, "{:#?}", l.trace());
    assert!(l.take_events(TE).is_empty() && l.take_events(NT).is_empty());
}

#[test]
fn disc_ua_release() {
    let mut l = up(7, Layer2Persistence::LeaveDown);
    l.nodes[TE].dl_release_request(l.now).unwrap();
    l.settle();
    assert_eq!(l.take_events(TE), [Q921Event::ReleaseConfirm { tei: Some(0) }]);
    assert_eq!(l.take_events(NT), [Q921Event::ReleaseIndication { tei: Some(0) }]);
    assert_eq!(l.trace()[2..], ["t=0.200 1> DISC sapi=0 tei=0 C p=1", "t=0.205 0> UA sapi=0 tei=0 R f=1"]);
    assert_eq!(state(&l, TE), LinkState::TeiAssigned);
    assert_eq!(state(&l, NT), LinkState::TeiAssigned);
    assert_eq!(l.nodes[TE].dl_data_request(l.now, b"x"), Err(RequestError::NotEstablished));
    l.run_for(Duration::from_secs(30));
    assert_eq!(l.wire.len(), 4);
}

/// A single entity driven by raw frames, for the error paths.
struct Solo {
    q: Q921,
    now: Instant,
    /// DL-DATA-indications lent by `handle_frame`, which come before every queued event.
    lent: Vec<Q921Event>,
}

impl Solo {
    fn new(config: Q921Config) -> Solo {
        Solo { q: Q921::new(config), now: Instant::now(), lent: Vec::new() }
    }

    fn rx(&mut self, octets: &[u8]) -> Vec<Vec<u8>> {
        if let Some(data) = self.q.handle_frame(self.now, octets) {
            self.lent.push(data.to_event());
        }
        self.tx()
    }

    fn tx(&mut self) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| self.q.poll_transmit().map(|f| f.to_vec())).collect()
    }

    fn events(&mut self) -> Vec<Q921Event> {
        let mut events = std::mem::take(&mut self.lent);
        events.extend(std::iter::from_fn(|| self.q.poll_event()));
        events
    }

    /// A TE whose link the network has just accepted.
    fn established_te() -> Solo {
        let mut s = Solo::new(cfg(Role::Te, 7, Layer2Persistence::LeaveDown));
        s.q.dl_establish_request(s.now).unwrap();
        assert_eq!(s.tx(), [vec![0x00, 0x01, 0x7f]]);
        assert!(s.rx(&[0x00, 0x01, 0x73]).is_empty());
        assert_eq!(s.events(), [Q921Event::EstablishConfirm { tei: Some(0) }]);
        s
    }
}

#[test]
fn dm_answers_sabme_and_disc_when_the_link_cannot_take_them() {
    // DISC to a link that is not established: DM F=1 (from the network: C/R = 0).
    let mut nt = Solo::new(cfg(Role::Nt, 7, Layer2Persistence::LeaveDown));
    assert_eq!(nt.rx(&[0x00, 0x01, 0x53]), [vec![0x00, 0x01, 0x1f]]);
    // SABME while we wait for the answer to our DISC: DM F=1 (from the user: C/R = 1).
    let mut te = Solo::established_te();
    te.q.dl_release_request(te.now).unwrap();
    assert_eq!(te.tx(), [vec![0x00, 0x01, 0x53]]);
    assert_eq!(te.rx(&[0x02, 0x01, 0x7f]), [vec![0x02, 0x01, 0x1f]]);
    assert_eq!(te.q.link().unwrap().state, LinkState::AwaitingRelease);
    assert!(te.rx(&[0x02, 0x01, 0x1f]).is_empty());
    assert_eq!(te.events(), [Q921Event::ReleaseConfirm { tei: Some(0) }]);
}

#[test]
fn a_received_message_is_lent_from_its_frame_unless_older_events_wait() {
    let mut te = Solo::established_te();
    // I frame from the network, N(S)=0 N(R)=0: lent to layer 3, then acknowledged by RR F=0.
    let d = te.q.handle_frame(te.now, &[0x02, 0x01, 0x00, 0x00, 0x08, 0x01]).expect("lent");
    assert_eq!(d, DlData { tei: 0, unit: false, data: &[0x08, 0x01] });
    assert!(te.q.poll_event().is_none());
    assert_eq!(te.tx(), [vec![0x02, 0x01, 0x01, 0x02]]);
    // An unsolicited UA F=1 leaves an MDL-ERROR waiting: the next message queues behind it.
    assert!(te.q.handle_frame(te.now, &[0x00, 0x01, 0x73]).is_none());
    assert!(te.q.handle_frame(te.now, &[0x02, 0x01, 0x02, 0x00, 0x08, 0x02]).is_none());
    assert_eq!(
        te.events(),
        [
            Q921Event::MdlError { tei: Some(0), code: MdlError::C },
            Q921Event::DataIndication { tei: Some(0), data: vec![0x08, 0x02].into() },
        ]
    );
    // Drained, the next one is lent again; so is a UI frame on the broadcast data link.
    let d = te.q.handle_frame(te.now, &[0x02, 0x01, 0x04, 0x00, 0x08, 0x03]).expect("lent");
    assert_eq!(d.data, &[0x08, 0x03][..]);
    let d = te.q.handle_frame(te.now, &[0x02, 0xff, 0x03, 0x08, 0x04]).expect("lent");
    assert_eq!(d, DlData { tei: 127, unit: true, data: &[0x08, 0x04] });
    assert_eq!(d.to_event(), Q921Event::UnitDataIndication { tei: Some(127), data: vec![0x08, 0x04].into() });
}

/// §5.6.2.1: a received I frame is acknowledged by the next I frame sent, and by RR only when
/// the owner drains the transmit queue with the acknowledgement still owed.
#[test]
fn an_i_frame_answered_by_an_i_frame_sends_no_rr() {
    let mut te = Solo::established_te();
    assert!(te.q.handle_frame(te.now, &[0x02, 0x01, 0x00, 0x00, 0x08, 0x01]).is_some());
    te.q.dl_data_request(te.now, &[0x08, 0x02]).unwrap();
    // I command N(S)=0 with N(R)=1: the answer acknowledges, and nothing else goes.
    assert_eq!(te.tx(), [vec![0x00, 0x01, 0x00, 0x02, 0x08, 0x02]]);
    assert!(te.tx().is_empty());
}

#[test]
fn an_i_frame_with_nothing_to_answer_gets_one_rr_at_the_drain() {
    let mut te = Solo::established_te();
    assert!(te.q.handle_frame(te.now, &[0x02, 0x01, 0x00, 0x00, 0x08, 0x01]).is_some());
    assert_eq!(te.tx(), [vec![0x02, 0x01, 0x01, 0x02]]);
    assert!(te.tx().is_empty(), "owed once, sent once");
    // With P=1 the answer goes at once (enquiry response F=1), before the I frame that follows.
    assert!(te.q.handle_frame(te.now, &[0x02, 0x01, 0x02, 0x01, 0x08, 0x02]).is_some());
    te.q.dl_data_request(te.now, &[0x08, 0x03]).unwrap();
    assert_eq!(te.tx(), [vec![0x02, 0x01, 0x01, 0x05], vec![0x00, 0x01, 0x00, 0x04, 0x08, 0x03]]);
}

/// An answer that cannot go (the peer is busy) leaves the acknowledgement to an RR at the drain.
#[test]
fn an_answer_held_back_by_a_busy_peer_leaves_the_rr_to_the_drain() {
    let mut te = Solo::established_te();
    // RNR command, P=0: the peer's receiver is busy.
    assert!(te.q.handle_frame(te.now, &[0x02, 0x01, 0x05, 0x00]).is_none());
    assert!(te.q.handle_frame(te.now, &[0x02, 0x01, 0x00, 0x00, 0x08, 0x01]).is_some());
    te.q.dl_data_request(te.now, &[0x08, 0x02]).unwrap();
    // Only the RR response N(R)=1: the answer waits for the peer.
    assert_eq!(te.tx(), [vec![0x02, 0x01, 0x01, 0x02]]);
    // RR command, P=0: the peer takes frames again, and the answer goes with N(R)=1.
    assert!(te.q.handle_frame(te.now, &[0x02, 0x01, 0x01, 0x00]).is_none());
    assert_eq!(te.tx(), [vec![0x00, 0x01, 0x00, 0x02, 0x08, 0x02]]);
}

#[test]
fn several_i_frames_before_a_drain_get_one_rr() {
    let mut te = Solo::established_te();
    for ns in 0..3u8 {
        assert!(te.q.handle_frame(te.now, &[0x02, 0x01, ns << 1, 0x00, 0x08, ns]).is_some());
    }
    assert_eq!(te.tx(), [vec![0x02, 0x01, 0x01, 0x06]]);
    // An answer paid an owed acknowledgement, owed again since: still one RR.
    assert!(te.q.handle_frame(te.now, &[0x02, 0x01, 0x06, 0x00, 0x08, 0x03]).is_some());
    te.q.dl_data_request(te.now, &[0x08, 0x04]).unwrap();
    assert!(te.q.handle_frame(te.now, &[0x02, 0x01, 0x08, 0x00, 0x08, 0x05]).is_some());
    assert_eq!(te.tx(), [vec![0x00, 0x01, 0x00, 0x08, 0x08, 0x04], vec![0x02, 0x01, 0x01, 0x0a]]);
    assert!(te.tx().is_empty());
}

#[test]
fn invalid_nr_is_an_mdl_error_j_and_re_establishment_not_an_frmr() {
    let mut te = Solo::established_te();
    // RR response from the network acknowledging frame 5 that was never sent.
    assert_eq!(te.rx(&[0x00, 0x01, 0x01, 0x0a]), [vec![0x00, 0x01, 0x7f]]);
    assert_eq!(te.events(), [Q921Event::MdlError { tei: Some(0), code: MdlError::J }]);
    assert_eq!(te.q.link().unwrap().state, LinkState::AwaitingEstablishment);
    // The network's UA completes the re-establishment silently: nothing was lost.
    assert!(te.rx(&[0x00, 0x01, 0x73]).is_empty());
    assert!(te.events().is_empty());
    assert_eq!(te.q.link().unwrap().state, LinkState::MultipleFrameEstablished);
}

#[test]
fn frame_rejection_conditions_report_their_codes() {
    let cases: [(&[u8], MdlError); 5] = [
        (&[0x00, 0x01, 0x97, 0, 0, 0, 0, 0], MdlError::K),
        (&[0x00, 0x01, 0x0d, 0x00], MdlError::L),
        (&[0x02, 0x01, 0x7f, 0x00], MdlError::M),
        (&[0x02, 0x01, 0x01, 0x00, 0x00], MdlError::N),
        (&[0x02, 0x01, 0x00, 0x00], MdlError::O),
    ];
    for (octets, code) in cases {
        let mut te = Solo::established_te();
        let mut frame = octets.to_vec();
        if code == MdlError::O {
            frame.resize(4 + 261, 0x55);
        }
        assert_eq!(te.rx(&frame), [vec![0x00, 0x01, 0x7f]], "{code:?}");
        assert_eq!(te.events(), [Q921Event::MdlError { tei: Some(0), code }]);
    }
    // Invalid frames are discarded without a word.
    let mut te = Solo::established_te();
    for junk in [&[][..], &[0x00], &[0x00, 0x01], &[0x01, 0x01, 0x7f], &[0x00, 0x00, 0x7f]] {
        assert!(te.rx(junk).is_empty());
    }
    assert!(te.events().is_empty());
    let c = te.q.counters();
    assert_eq!((c.frames_received, c.frames_sent, c.frames_discarded, c.mdl_errors), (6, 1, 5, 0));
    // And the refused requests.
    assert_eq!(te.q.dl_data_request(te.now, &[0; 261]), Err(RequestError::TooLong { len: 261, n201: 260 }));
    assert_eq!(te.q.dl_establish_request_tei(te.now, 64), Err(RequestError::NoSuchTei(64)));
}

#[test]
fn mdl_error_f_when_the_peer_re_establishes() {
    let mut te = Solo::established_te();
    assert_eq!(te.rx(&[0x02, 0x01, 0x7f]), [vec![0x02, 0x01, 0x73]]);
    assert_eq!(te.events(), [Q921Event::MdlError { tei: Some(0), code: MdlError::F }]);
    // An unsolicited UA: C (F = 1).
    assert!(te.rx(&[0x00, 0x01, 0x73]).is_empty());
    assert_eq!(te.events(), [Q921Event::MdlError { tei: Some(0), code: MdlError::C }]);
}

fn ptmp(tes: usize) -> Line {
    let mut configs = vec![Q921Config::bri(Role::Nt, Mode::PointToMultipoint)];
    for seed in 0..tes {
        let seed = u32::try_from(seed).unwrap_or(0) * 7919 + 17;
        configs.push(Q921Config { seed, ..Q921Config::bri(Role::Te, Mode::PointToMultipoint) });
    }
    Line::new(&configs)
}

/// A bus whose every terminal has asked for its data link and has it.
fn ptmp_up(tes: usize) -> Line {
    let mut l = ptmp(tes);
    for te in 1..=tes {
        l.nodes[te].dl_establish_request(l.now).unwrap();
    }
    l.settle();
    l
}

#[test]
fn ptmp_te_obtains_a_tei_then_establishes() {
    let mut l = ptmp(1);
    l.nodes[TE].dl_establish_request(l.now).unwrap();
    assert_eq!(state(&l, TE), LinkState::EstablishAwaitingTei);
    l.settle();
    let te = wire_of(&l, TE);
    let nt = wire_of(&l, NT);
    assert_eq!([te[0][..4].to_vec(), te[0][6..].to_vec()], [vec![0xfc, 0xff, 0x03, 0x0f], vec![0x01, 0xff]]);
    let ri = &te[0][4..6];
    assert_eq!(nt[0], [&[0xfe, 0xff, 0x03, 0x0f][..], ri, &[0x02, 0x81]].concat());
    assert_eq!(te[1], [0x00, 0x81, 0x7f]);
    assert_eq!(nt[1], [0x00, 0x81, 0x73]);
    assert_eq!(l.take_events(TE), [Q921Event::TeiAssigned { tei: 64 }, Q921Event::EstablishConfirm { tei: Some(64) }]);
    assert_eq!(
        l.take_events(NT),
        [Q921Event::TeiAssigned { tei: 64 }, Q921Event::EstablishIndication { tei: Some(64) }]
    );
    assert!(l.trace()[0].contains("UI sapi=63 tei=127 C p=0 | Identity request ri="));
}

#[test]
fn ptmp_nt_assigns_distinct_teis_and_serves_each_link() {
    let mut l = ptmp_up(2);
    let teis: Vec<Option<u8>> = (1..=2).map(|i| l.nodes[i].link().unwrap().tei).collect();
    assert_eq!(teis, [Some(64), Some(65)]);
    let nt_links: Vec<(Option<u8>, LinkState)> = l.nodes[NT].links().iter().map(|s| (s.tei, s.state)).collect();
    assert_eq!(
        nt_links,
        [(Some(64), LinkState::MultipleFrameEstablished), (Some(65), LinkState::MultipleFrameEstablished)]
    );
    assert_eq!(l.nodes[NT].dl_data_request(l.now, b"x"), Err(RequestError::NeedTei));
    l.nodes[NT].dl_data_request_tei(l.now, 64, b"to 64").unwrap();
    l.nodes[NT].dl_data_request_tei(l.now, 65, b"to 65").unwrap();
    l.nodes[2].dl_data_request(l.now, b"from 65").unwrap();
    l.settle();
    assert_eq!(data(&l.take_events(1)), [b"to 64".to_vec()]);
    assert_eq!(data(&l.take_events(2)), [b"to 65".to_vec()]);
    let at_nt = l.take_events(NT);
    assert!(at_nt.contains(&Q921Event::DataIndication { tei: Some(65), data: b"from 65".to_vec().into() }));
}

/// Several data links owe an acknowledgement at one drain: each sends its RR, once.
#[test]
fn ptmp_nt_acknowledges_every_link_that_owes() {
    let mut l = ptmp_up(2);
    l.nodes[1].dl_data_request(l.now, b"from 64").unwrap();
    l.nodes[2].dl_data_request(l.now, b"from 65").unwrap();
    l.settle();
    let rr: Vec<String> = l.sent(NT, "RR").iter().map(|t| t.split_once(' ').unwrap().1.to_string()).collect();
    assert_eq!(rr, ["0> RR sapi=0 tei=64 R nr=1 f=0", "0> RR sapi=0 tei=65 R nr=1 f=0"], "{:#?}", l.trace());
}

#[test]
fn ptmp_identity_check_removes_a_dead_tei_and_keeps_a_live_one() {
    let mut l = ptmp_up(2);
    l.take_events(NT);
    l.dead[2] = true;
    l.nodes[NT].check_tei(l.now, 64).unwrap();
    l.nodes[NT].check_tei(l.now, 65).unwrap();
    l.run_for(Duration::from_secs(3));
    let events = l.take_events(NT);
    assert_eq!(
        events,
        [Q921Event::ReleaseIndication { tei: Some(65) }, Q921Event::TeiRemoved { tei: 65 }],
        "{:#?}",
        l.trace()
    );
    assert_eq!(l.sent(NT, "UI sapi=63 tei=127 C p=0 | Identity check request ri=0x0000 ai=65").len(), 2);
    assert_eq!(l.sent(NT, "UI sapi=63 tei=127 C p=0 | Identity remove ri=0x0000 ai=65").len(), 2);
    assert_eq!(l.sent(1, "UI sapi=63 tei=127 C p=0 | Identity check response").len(), 1);
    let teis: Vec<Option<u8>> = l.nodes[NT].links().iter().map(|s| s.tei).collect();
    assert_eq!(teis, [Some(64)]);
}

#[test]
fn ptmp_identity_remove_returns_the_te_to_tei_unassigned() {
    let mut l = ptmp_up(1);
    l.take_events(TE);
    l.nodes[NT].remove_tei(l.now, 64).unwrap();
    l.settle();
    assert_eq!(l.take_events(TE), [Q921Event::ReleaseIndication { tei: Some(64) }, Q921Event::TeiRemoved { tei: 64 }]);
    let te = l.nodes[TE].link().unwrap();
    assert_eq!((te.state, te.tei), (LinkState::TeiUnassigned, None));
    // Asked again, it gets a TEI again.
    l.nodes[TE].dl_establish_request(l.now).unwrap();
    l.settle();
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished);
}

/// A removed TEI's data link goes at once; an I frame it sent that still waits in the transmit
/// queue goes as it was sent.
#[test]
fn ptmp_an_i_frame_sent_before_a_tei_removal_still_goes() {
    let mut l = ptmp_up(1);
    let now = l.now;
    l.nodes[NT].dl_data_request_tei(now, 64, b"first").unwrap();
    // k = 1 on a BRI: the second waits in the link's queue and is discarded with it.
    l.nodes[NT].dl_data_request_tei(now, 64, b"second").unwrap();
    l.nodes[NT].remove_tei(now, 64).unwrap();
    assert!(l.nodes[NT].links().is_empty());
    let frames: Vec<Vec<u8>> = std::iter::from_fn(|| l.nodes[NT].poll_transmit().map(<[u8]>::to_vec)).collect();
    let remove = TeiMessage::new(TeiMessageType::IdentityRemove, 0, 64).to_frame(Role::Nt).to_vec();
    assert_eq!(frames, [[&[0x02, 0x81, 0x00, 0x00][..], b"first"].concat(), remove.clone(), remove]);
}

#[test]
fn ptmp_te_without_an_answer_gives_up_after_n202_requests() {
    let mut l = ptmp(1);
    l.dead[NT] = true;
    l.nodes[TE].dl_establish_request(l.now).unwrap();
    l.run_for(Duration::from_secs(10));
    assert_eq!(l.sent(TE, "UI sapi=63").len(), 3);
    assert_eq!(l.take_events(TE), [Q921Event::ReleaseIndication { tei: None }]);
    assert_eq!(state(&l, TE), LinkState::TeiUnassigned);
}

#[test]
fn ptmp_ui_broadcast_on_tei_127_reaches_every_te() {
    let mut l = ptmp(2);
    l.nodes[NT].dl_unit_data_request(l.now, &[0x08, 0x01, 0x01, 0x05]).unwrap();
    l.settle();
    assert_eq!(wire_of(&l, NT), [vec![0x02, 0xff, 0x03, 0x08, 0x01, 0x01, 0x05]]);
    for te in [1, 2] {
        assert_eq!(
            l.take_events(te),
            [Q921Event::UnitDataIndication { tei: Some(127), data: vec![0x08, 0x01, 0x01, 0x05].into() }]
        );
    }
}

#[test]
fn ptmp_te_unit_data_waits_for_a_tei() {
    let mut l = ptmp(1);
    l.nodes[TE].dl_unit_data_request(l.now, b"ui").unwrap();
    assert_eq!(state(&l, TE), LinkState::AssignAwaitingTei);
    l.settle();
    assert_eq!(state(&l, TE), LinkState::TeiAssigned);
    assert_eq!(l.take_events(NT)[1], Q921Event::UnitDataIndication { tei: Some(64), data: b"ui".to_vec().into() });
}

#[test]
fn keep_up_re_establishes_after_release_and_failure() {
    // The NT releases; the TE brings the link straight back.
    let mut l = up(7, Layer2Persistence::KeepUp);
    l.nodes[NT].dl_release_request(l.now).unwrap();
    l.settle();
    assert_eq!(state(&l, TE), LinkState::TeiAssigned, "one T200 before trying again");
    l.run_for(Duration::from_secs(1));
    assert_eq!(
        l.take_events(TE),
        [Q921Event::ReleaseIndication { tei: Some(0) }, Q921Event::EstablishIndication { tei: Some(0) }]
    );
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished);
    assert_eq!(state(&l, NT), LinkState::MultipleFrameEstablished);

    // The far end dies: after the failure the TE keeps trying, and comes back when it returns.
    l.dead[NT] = true;
    l.run_for(Duration::from_secs(30));
    let events = l.take_events(TE);
    assert!(events.contains(&Q921Event::ReleaseIndication { tei: Some(0) }), "{events:?}");
    assert!(l.sent(TE, "SABME").len() > 10);
    l.dead[NT] = false;
    l.run_for(Duration::from_secs(5));
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished);
    assert!(l.take_events(TE).contains(&Q921Event::EstablishIndication { tei: Some(0) }));
}

#[test]
fn keep_up_waits_t200_before_asking_a_refusing_peer_again() {
    let mut te = Solo::new(cfg(Role::Te, 7, Layer2Persistence::KeepUp));
    te.q.dl_establish_request(te.now).unwrap();
    assert_eq!(te.tx(), [vec![0x00, 0x01, 0x7f]]);
    // DM F=1 from the network: it will not take the link now.
    assert!(te.rx(&[0x00, 0x01, 0x1f]).is_empty());
    assert_eq!(te.events(), [Q921Event::ReleaseIndication { tei: Some(0) }]);
    let retry = te.q.poll_timeout().expect("a retry is scheduled");
    assert_eq!(retry - te.now, Duration::from_secs(1));
    te.q.handle_timeout(retry);
    assert_eq!(te.tx(), [vec![0x00, 0x01, 0x7f]]);
    // Layer 3 giving up cancels the retries.
    assert!(te.rx(&[0x00, 0x01, 0x1f]).is_empty());
    te.q.dl_release_request(te.now).unwrap();
    assert!(te.q.poll_timeout().is_none());
}

#[test]
fn leave_down_stays_down_after_release_and_failure() {
    let mut l = up(7, Layer2Persistence::LeaveDown);
    l.nodes[NT].dl_release_request(l.now).unwrap();
    l.run_for(Duration::from_secs(30));
    assert_eq!(l.take_events(TE), [Q921Event::ReleaseIndication { tei: Some(0) }]);
    assert_eq!(state(&l, TE), LinkState::TeiAssigned);
    assert_eq!(l.sent(TE, "SABME").len(), 1);
}

#[test]
fn ptmp_te_keep_up_asks_for_a_new_tei_after_removal() {
    let mut configs =
        [Q921Config::bri(Role::Nt, Mode::PointToMultipoint), Q921Config::bri(Role::Te, Mode::PointToMultipoint)];
    configs[1].layer2_persistence = Layer2Persistence::KeepUp;
    let mut l = Line::new(&configs);
    l.nodes[TE].dl_establish_request(l.now).unwrap();
    l.settle();
    l.nodes[NT].remove_tei(l.now, 64).unwrap();
    l.settle();
    let te = l.nodes[TE].link().unwrap();
    assert_eq!((te.state, te.tei), (LinkState::MultipleFrameEstablished, Some(65)));
}

#[test]
fn lossy_line_delivers_in_order_without_duplicates() {
    for k in [1, 7] {
        let mut l = up(k, Layer2Persistence::KeepUp);
        let mut x = 0x1234_5678_u32 + u32::from(k);
        l.drop = Some(Box::new(move |_, _| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % 100 < 15
        }));
        let n = 150;
        for i in 0..n {
            let now = l.now;
            l.nodes[TE].dl_data_request(now, &message(i)).unwrap_or(());
            l.nodes[NT].dl_data_request(now, &message(i)).unwrap_or(());
            l.run_for(Duration::from_millis(37));
        }
        l.run_for(Duration::from_secs(30));
        l.drop = None;
        l.run_for(Duration::from_secs(30));
        for node in [TE, NT] {
            let events = l.take_events(node);
            let got = data(&events);
            let mut indices: Vec<usize> = got
                .iter()
                .map(|m| String::from_utf8_lossy(&m[8..]).parse::<usize>().expect("a message index"))
                .collect();
            assert!(indices.windows(2).all(|w| w[0] < w[1]), "k={k} node {node}: out of order or twice: {indices:?}");
            let restarted = events.iter().any(|e| matches!(e, Q921Event::EstablishIndication { .. }));
            if !restarted {
                indices.dedup();
                assert_eq!(indices.len(), n, "k={k} node {node}: lost without a re-establishment");
            }
        }
        assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished);
    }
}

/// The stateful fuzz target's idea on stable Rust: random requests, losses, corrupted frames and
/// waits on every kind of line, with the harness checking the window invariant and timers at
/// every step.
#[test]
fn random_operations_keep_the_invariants() {
    let mut x = 0x2545_f491_u32;
    let mut rand = move |n: u32| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x % n
    };
    for seed in 0..300u32 {
        let (mut line, nodes) = match seed % 3 {
            0 => (line(7, Layer2Persistence::KeepUp), 2),
            1 => (line(1, Layer2Persistence::LeaveDown), 2),
            _ => (ptmp(2), 3),
        };
        for _ in 0..200 {
            let node = usize::try_from(rand(u32::try_from(nodes).unwrap_or(2))).unwrap_or(0);
            let now = line.now;
            let tei = u8::try_from(64 + rand(3)).unwrap_or(64);
            match rand(20) {
                0..=4 => line.run_for(Duration::from_millis(u64::from(rand(300)))),
                5 => line.run_for(Duration::from_millis(u64::from(rand(15_000)))),
                6 => {
                    let loss = rand(25);
                    let mut y = seed + 1;
                    line.drop = Some(Box::new(move |_, _| {
                        y ^= y << 13;
                        y ^= y >> 17;
                        y ^= y << 5;
                        y % 100 < loss
                    }));
                }
                7..=10 => {
                    for _ in 0..rand(10) {
                        let len = usize::try_from(rand(270)).unwrap_or(0);
                        let _ = line.nodes[node].dl_data_request(now, &vec![0x55; len]);
                        let _ = line.nodes[node].dl_data_request_tei(now, tei, b"to a tei");
                    }
                }
                11 | 12 => {
                    let _ = line.nodes[node].dl_establish_request(now);
                    let _ = line.nodes[node].dl_establish_request_tei(now, tei);
                }
                13 if rand(3) == 0 => {
                    let _ = line.nodes[node].dl_release_request(now);
                }
                14 => line.nodes[node].set_own_busy(now, rand(3) == 0),
                15 => {
                    let len = usize::try_from(rand(8)).unwrap_or(0);
                    let frame: Vec<u8> = (0..len).map(|_| u8::try_from(rand(256)).unwrap_or(0)).collect();
                    line.receive(node, &frame);
                }
                16 => {
                    let _ = line.nodes[node].dl_unit_data_request(now, b"ui");
                }
                17 => {
                    let _ = line.nodes[NT].check_tei(now, tei);
                    if rand(4) == 0 {
                        let _ = line.nodes[NT].remove_tei(now, tei);
                    }
                }
                18 if rand(4) == 0 => line.dead[node] = true,
                _ => line.dead.iter_mut().for_each(|d| *d = false),
            }
        }
    }
}

#[test]
fn ptmp_te_verifies_its_tei_after_an_unsolicited_ua_and_keeps_it() {
    let mut l = ptmp(1);
    l.nodes[TE].dl_establish_request(l.now).unwrap();
    l.settle();
    l.take_events(TE);
    // An unsolicited UA F=1 on our TEI hints that another terminal holds it (MDL-ERROR C).
    l.receive(TE, &[0x00, 0x81, 0x73]);
    l.run_for(Duration::from_secs(3));
    assert_eq!(l.take_events(TE), [Q921Event::MdlError { tei: Some(64), code: MdlError::C }]);
    assert_eq!(l.sent(TE, "UI sapi=63 tei=127 C p=0 | Identity verify ri=0x0000 ai=64").len(), 1);
    assert_eq!(l.sent(NT, "UI sapi=63 tei=127 C p=0 | Identity check request ri=0x0000 ai=64").len(), 1);
    assert_eq!(l.sent(TE, "UI sapi=63 tei=127 C p=0 | Identity check response").len(), 1);
    assert!(l.sent(NT, "UI sapi=63 tei=127 C p=0 | Identity remove").is_empty());
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished);
}

#[test]
fn ptmp_nt_takes_back_a_tei_it_does_not_know() {
    // After a restart of the NT a terminal still talks on its old TEI 70.
    let mut nt = Solo::new(Q921Config::bri(Role::Nt, Mode::PointToMultipoint));
    let remove = vec![0xfe, 0xff, 0x03, 0x0f, 0x00, 0x00, 0x06, 0x8d];
    assert_eq!(nt.rx(&[0x00, 0x8d, 0x7f]), [remove.clone(), remove]);
    assert!(nt.events().is_empty());
    // A group UI or a frame on a fixed TEI is no reason to remove anything.
    assert!(nt.rx(&[0x00, 0x01, 0x7f]).is_empty());
    assert!(nt.rx(&[0x00, 0xff, 0x03, 0x08]).is_empty());
}
