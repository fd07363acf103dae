//! The error procedures of Q.931 §5.8 (and the restart checks of §5.5), one entity fed crafted
//! octets: every case answered with the message and cause the text names, none with a panic.

use std::time::{Duration, Instant};

use super::ie::cause;
use super::tests::{bytes, check_channels};
use super::tests_wire::Rng;
use super::*;

struct Solo {
    q: Q931,
    now: Instant,
}

impl Solo {
    fn new(config: Q931Config) -> Solo {
        Solo { q: Q931::new(config), now: Instant::now() }
    }

    fn net() -> Solo {
        Solo::new(Q931Config::pri(Side::Network))
    }

    fn user() -> Solo {
        Solo::new(Q931Config::pri(Side::User))
    }

    /// Feeds one message and returns the traces of what went out.
    fn rx(&mut self, hex: &str) -> Vec<String> {
        self.q.handle_dl_data(self.now, 0, &bytes(hex));
        self.tx()
    }

    fn tx(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some((_, o)) = self.q.poll_transmit() {
            out.push(Message::parse(o).unwrap().to_string());
        }
        check_channels(&self.q);
        out
    }

    fn events(&mut self) -> Vec<Q931Event> {
        std::iter::from_fn(|| self.q.poll_event()).collect()
    }
}

const SETUP: &str = "08 02 00 01 05 04 03 80 90 a3 18 03 a9 83 81 70 05 80 31 32 33 34 a1";

/// A network side with the user's call 1 on channel 1 in CALL_INITIATED.
fn net_with_call() -> (Solo, CallId) {
    let mut s = Solo::net();
    assert!(s.rx(SETUP).is_empty());
    let call = match s.events().as_slice() {
        [Q931Event::IncomingSetup { call, .. }] => *call,
        other => panic!("{other:?}"),
    };
    (s, call)
}

#[test]
fn unknown_call_references_5_8_3_2() {
    let mut s = Solo::net();
    assert_eq!(s.rx("08 02 00 05 01"), ["RELEASE COMPLETE cref=5 (dest) cause=81 (invalid call reference value)"]);
    assert_eq!(s.rx("08 02 00 05 4d"), ["RELEASE COMPLETE cref=5 (dest) cause=81 (invalid call reference value)"]);
    assert!(s.rx("08 02 00 05 5a").is_empty(), "RELEASE COMPLETE for no call is ignored");
    assert_eq!(s.rx("08 02 00 05 75"), ["STATUS cref=5 (dest) cause=30 (response to STATUS ENQUIRY) state=0"]);
    assert_eq!(
        s.rx("08 02 00 05 7d 08 02 80 9f 14 01 0a"),
        ["RELEASE COMPLETE cref=5 (dest) cause=101 (message not compatible with call state)"]
    );
    assert!(s.rx("08 02 00 05 7d 08 02 80 9f 14 01 00").is_empty(), "STATUS in Null for no call is ignored");
    assert!(s.rx("08 02 80 05 05 04 03 80 90 a3").is_empty(), "SETUP with the flag set is ignored");
    assert!(s.events().is_empty());
    assert!(s.q.calls().is_empty());
}

#[test]
fn headers_that_are_not_q931_are_ignored_5_8_1_to_5_8_3_1() {
    let mut s = Solo::net();
    for hex in ["08", "08 02 00", "41 02 00 01 05", "08 03 00 00 01 05", "08 00 62 1c 01 00"] {
        assert!(s.rx(hex).is_empty(), "{hex}");
    }
    assert!(s.events().is_empty());
}

#[test]
fn global_call_reference_5_8_3_2() {
    let mut s = Solo::net();
    assert_eq!(s.rx("08 02 00 00 01"), ["STATUS cref=global (dest) cause=81 (invalid call reference value) state=0"]);
    assert!(s.rx("08 02 00 00 7d 08 02 80 9f 14 01 00").is_empty());
    assert!(matches!(s.events().as_slice(), [Q931Event::Status { call: None, state: Some(0), .. }]));
}

#[test]
fn setup_with_bad_mandatory_elements_is_refused_5_8_6() {
    let mut s = Solo::net();
    // Bearer capability missing: #96 with the element as diagnostic.
    assert_eq!(
        s.rx("08 02 00 01 05 18 03 a9 83 81"),
        ["RELEASE COMPLETE cref=1 (dest) cause=96 (mandatory information element is missing) diag=[04]"]
    );
    // Bearer capability garbled: #100.
    assert_eq!(
        s.rx("08 02 00 01 05 04 01 80 18 03 a9 83 81"),
        ["RELEASE COMPLETE cref=1 (dest) cause=100 (invalid information element contents) diag=[04]"]
    );
    // Channel identification garbled: no channel can be chosen, #100.
    assert_eq!(
        s.rx("08 02 00 01 05 04 03 80 90 a3 18 01 aa"),
        ["RELEASE COMPLETE cref=1 (dest) cause=100 (invalid information element contents) diag=[18]"]
    );
    // An unknown element that demands comprehension (codeset 0, 0000 xxxx): as missing, #96.
    assert_eq!(
        s.rx("08 02 00 01 05 04 03 80 90 a3 01 01 00"),
        ["RELEASE COMPLETE cref=1 (dest) cause=96 (mandatory information element is missing) diag=[01]"]
    );
    assert!(s.events().is_empty());
    assert!(s.q.channel_table().not_idle().is_empty());
}

#[test]
fn setup_with_unknown_or_bad_optional_elements_goes_ahead_with_status_5_8_7() {
    let mut s = Solo::net();
    assert_eq!(
        s.rx("08 02 00 01 05 04 03 80 90 a3 5f 01 00"),
        ["STATUS cref=1 (dest) cause=99 (information element non-existent or not implemented) diag=[5f] state=1"]
    );
    assert!(matches!(s.events().as_slice(), [Q931Event::IncomingSetup { channel: Some(1), .. }]));
    assert_eq!(
        s.rx("08 02 00 02 05 04 03 80 90 a3 6c 02 80 b1"),
        ["STATUS cref=2 (dest) cause=100 (invalid information element contents) diag=[6c] state=1"]
    );
    let ev = s.events();
    let [Q931Event::IncomingSetup { call, channel: Some(2), .. }] = ev.as_slice() else { panic!("{ev:?}") };
    assert_eq!(s.q.setup_message(*call).map(|m| m.calling()), Some(None));
    assert_eq!(s.q.busy_channels(), [1, 2]);
}

#[test]
fn messages_for_a_call_5_8_4_to_5_8_7() {
    let (mut s, call) = net_with_call();
    // Unknown message type: #97 with the type as diagnostic.
    assert_eq!(
        s.rx("08 02 00 01 33"),
        ["STATUS cref=1 (dest) cause=97 (message type non-existent or not implemented) diag=[33] state=1"]
    );
    // CONNECT ACKNOWLEDGE in CALL_INITIATED: #101.
    assert_eq!(
        s.rx("08 02 00 01 0f"),
        ["STATUS cref=1 (dest) cause=101 (message not compatible with call state) diag=[0f] state=1"]
    );
    // PROGRESS without its progress indicator: #96, nothing else.
    assert_eq!(
        s.rx("08 02 00 01 03"),
        ["STATUS cref=1 (dest) cause=96 (mandatory information element is missing) diag=[1e] state=1"]
    );
    // INFORMATION with an unknown element: acted on, then #99.
    assert_eq!(
        s.rx("08 02 00 01 7b 70 02 80 35 5f 00"),
        ["STATUS cref=1 (dest) cause=99 (information element non-existent or not implemented) diag=[5f] state=1"]
    );
    assert!(matches!(s.events().as_slice(), [Q931Event::Information { digits, .. }] if digits == "5"));
    // A second SETUP for the same reference is ignored.
    assert!(s.rx(SETUP).is_empty());
    assert_eq!(s.q.call(call).unwrap().state, CallState::CallInitiated);
}

#[test]
fn disconnect_without_or_with_a_bad_cause_is_answered_with_release_5_8_6() {
    let (mut s, call) = net_with_call();
    assert_eq!(s.rx("08 02 00 01 45"), ["RELEASE cref=1 (dest) cause=96 (mandatory information element is missing)"]);
    assert_eq!(s.q.call(call).unwrap().state, CallState::ReleaseRequest);
    assert!(s.rx("08 02 00 01 5a").is_empty());
    assert!(s.q.calls().is_empty());

    let (mut s, call) = net_with_call();
    assert_eq!(
        s.rx("08 02 00 01 45 08 01 80"),
        ["RELEASE cref=1 (dest) cause=100 (invalid information element contents)"]
    );
    assert_eq!(s.q.call(call).unwrap().state, CallState::ReleaseRequest);
}

#[test]
fn release_and_status_from_the_peer_end_the_call() {
    let (mut s, call) = net_with_call();
    assert_eq!(s.rx("08 02 00 01 4d"), ["RELEASE COMPLETE cref=1 (dest)"]);
    assert!(matches!(s.events().as_slice(), [Q931Event::Released { call: c, cause: None }] if *c == call));
    assert!(s.q.channel_table().not_idle().is_empty());

    // STATUS saying the peer is in the Null state clears the call (§5.8.11).
    let (mut s, call) = net_with_call();
    assert!(s.rx("08 02 00 01 7d 08 02 80 e5 14 01 00").is_empty());
    let ev = s.events();
    assert!(ev.iter().any(|e| matches!(e, Q931Event::Released { call: c, .. } if *c == call)), "{ev:?}");
    assert!(s.q.channel_table().not_idle().is_empty());
}

#[test]
fn restart_checks_5_5_2() {
    let mut s = Solo::user();
    assert_eq!(
        s.rx("08 02 00 00 46"),
        ["STATUS cref=global (dest) cause=96 (mandatory information element is missing) diag=[79] state=0"]
    );
    assert_eq!(
        s.rx("08 02 00 00 46 79 01 80"),
        ["STATUS cref=global (dest) cause=96 (mandatory information element is missing) diag=[18] state=0"]
    );
    assert_eq!(
        s.rx("08 02 00 00 46 18 03 a9 83 90 79 01 80"),
        ["STATUS cref=global (dest) cause=100 (invalid information element contents) diag=[18] state=0"]
    );
    assert_eq!(
        s.rx("08 02 00 00 46 79 01 83"),
        ["STATUS cref=global (dest) cause=100 (invalid information element contents) diag=[79] state=0"]
    );
    assert_eq!(s.rx("08 02 00 00 46 79 01 87"), ["RESTART ACKNOWLEDGE cref=global (dest) restart=AllInterfaces"]);
}

#[test]
fn requests_out_of_state_are_refused() {
    let (mut s, call) = net_with_call();
    let now = s.now;
    // The network side never sends CONNECT ACKNOWLEDGE-type answers from CALL_INITIATED twice.
    s.q.connect(now, call).unwrap();
    assert_eq!(s.q.alerting(now, call), Err(Q931Error::InvalidState(call, CallState::Active)));
    assert_eq!(s.q.setup_ack(now, CallId(99)), Err(Q931Error::UnknownCall(CallId(99))));
    assert_eq!(
        s.q.setup(now, SetupRequest { channel: Some(1), ..SetupRequest::speech("1", "2") }),
        Err(Q931Error::ChannelBusy(1))
    );
    assert_eq!(
        s.q.setup(now, SetupRequest { channel: Some(16), ..SetupRequest::speech("1", "2") }),
        Err(Q931Error::NoSuchChannel(16))
    );
}

/// Random messages, requests, timer runs and link events thrown at a user side and a network
/// side: no panic, and the channel invariant holds throughout; clearing everything at the end
/// leaves no channel busy.
#[test]
fn random_sequences_keep_the_channel_invariant() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let templates = [
        SETUP,
        "08 02 80 01 02 18 03 a9 83 81",
        "08 02 80 01 01",
        "08 02 80 01 07",
        "08 02 00 01 0f",
        "08 02 00 01 45 08 02 81 90",
        "08 02 80 01 4d 08 02 81 90",
        "08 02 00 01 5a",
        "08 02 00 01 7b 70 01 80 35",
        "08 02 00 00 46 79 01 86",
        "08 02 00 00 46 18 03 a9 83 82 79 01 80",
        "08 02 80 00 4e 79 01 86",
        "08 02 00 01 75",
        "08 02 00 01 7d 08 02 80 e5 14 01 00",
    ];
    for seed in 0..40 {
        let mut nodes = [Solo::user(), Solo::net()];
        for _ in 0..200 {
            let n = usize::from(rng.byte() & 1);
            let s = &mut nodes[n];
            let ids: Vec<CallId> = s.q.calls().iter().map(|c| c.id).collect();
            let pick = ids.get(usize::from(rng.byte()) % ids.len().max(1)).copied().unwrap_or(CallId(0));
            let now = s.now;
            match rng.byte() % 12 {
                0..=3 => {
                    let mut m = bytes(templates[usize::from(rng.byte()) % templates.len()]);
                    // Vary the call reference (value and flag) and, now and then, one octet.
                    m[3] = rng.byte() % 4;
                    m[2] ^= rng.byte() & 0x80;
                    if rng.byte() % 4 == 0 {
                        let i = usize::from(rng.byte()) % m.len();
                        m[i] = rng.byte();
                    }
                    s.q.handle_dl_data(now, 0, &m);
                }
                4 => {
                    let _ = s.q.setup(now, SetupRequest::speech("1", "2"));
                }
                5 => {
                    let _ = s.q.proceeding(now, pick);
                    let _ = s.q.alerting(now, pick);
                }
                6 => {
                    let _ = s.q.connect(now, pick);
                }
                7 => {
                    let _ = s.q.disconnect(now, pick, cause::NORMAL_CLEARING);
                }
                8 => {
                    let _ = s.q.release(now, pick, cause::NORMAL_CLEARING);
                }
                9 => s.q.handle_dl_released(now, 0),
                10 => s.q.handle_dl_established(now, 0),
                _ => {
                    s.now += Duration::from_secs(u64::from(rng.byte() % 40));
                    let now = s.now;
                    s.q.handle_timeout(now);
                }
            }
            s.tx();
            s.events();
        }
        // Everything ends: the link goes, then every timer runs out.
        for s in &mut nodes {
            let now = s.now;
            s.q.handle_dl_released(now, 0);
            for _ in 0..10 {
                s.now += Duration::from_secs(200);
                let now = s.now;
                s.q.handle_timeout(now);
            }
            s.tx();
            s.events();
            assert!(s.q.calls().is_empty(), "seed {seed}: {:?}", s.q.calls());
            assert!(s.q.channel_table().not_idle().is_empty(), "seed {seed}: {:?}", s.q.channel_table());
        }
    }
}

#[test]
fn ptmp_broadcast_setup_is_offered_to_every_terminal_until_one_connects_5_2_3_2() {
    let mut s = Solo::new(Q931Config::bri(Side::Network, true));
    let now = s.now;
    let call = s.q.setup(now, SetupRequest::speech("1234", "5678")).unwrap();
    assert_eq!(s.q.poll_transmit().map(|t| t.0), Some(127), "SETUP as UI on the broadcast TEI");
    // Terminal 64 rings; terminal 65 is slower (CALL PROCEEDING after ALERTING is no error);
    // terminal 66 is busy.
    s.q.handle_dl_data(now, 64, &bytes("08 01 81 01"));
    s.q.handle_dl_data(now, 65, &bytes("08 01 81 02"));
    s.q.handle_dl_data(now, 66, &bytes("08 01 81 5a 08 02 80 91"));
    assert!(s.tx().is_empty());
    assert_eq!(s.q.call(call).map(|c| (c.tei, c.state)), Some((127, CallState::CallReceived)));
    // Terminal 65 answers: it gets the call, 64 is cleared as non-selected.
    s.q.handle_dl_data(now, 65, &bytes("08 01 81 07"));
    let mut out = Vec::new();
    while let Some((tei, o)) = s.q.poll_transmit() {
        out.push((tei, Message::parse(o).unwrap().to_string()));
    }
    assert_eq!(
        out,
        [
            (64, "RELEASE cref=1 (orig) cause=26 (non-selected user clearing)".to_owned()),
            (65, "CONNECT ACKNOWLEDGE cref=1 (orig)".to_owned()),
        ]
    );
    assert_eq!(s.q.call(call).map(|c| (c.tei, c.state)), Some((65, CallState::Active)));
    // 64's RELEASE COMPLETE, and any late answer, reach no call.
    assert!(s.rx("08 01 81 5a").is_empty());
    s.q.handle_dl_data(now, 67, &bytes("08 01 81 01"));
    let (tei, o) = s.q.poll_transmit().unwrap();
    assert_eq!(
        (tei, Message::parse(o).unwrap().to_string()),
        (67, "RELEASE cref=1 (orig) cause=26 (non-selected user clearing)".to_owned())
    );
}

#[test]
fn ptmp_broadcast_setup_refused_by_every_terminal_ends_with_their_cause() {
    let mut s = Solo::new(Q931Config::bri(Side::Network, true));
    let now = s.now;
    let call = s.q.setup(now, SetupRequest::speech("1234", "5678")).unwrap();
    s.tx();
    // The only terminal is busy: the network still waits T303 for another one (§5.2.5.1) ...
    s.q.handle_dl_data(now, 64, &bytes("08 01 81 5a 08 02 80 91"));
    assert!(s.events().is_empty());
    s.now += std::time::Duration::from_secs(4);
    let now = s.now;
    s.q.handle_timeout(now);
    assert_eq!(s.tx(), [SETUP_AGAIN]);
    s.q.handle_dl_data(now, 64, &bytes("08 01 81 5a 08 02 80 91"));
    s.now += std::time::Duration::from_secs(4);
    let now = s.now;
    s.q.handle_timeout(now);
    // ... then reports the busy terminal's cause.
    let ev = s.events();
    assert!(
        matches!(ev.as_slice(), [Q931Event::Released { call: c, cause: Some(cause::USER_BUSY) }] if *c == call),
        "{ev:?}"
    );
    assert!(s.q.channel_table().not_idle().is_empty());

    // A terminal that answered, then refused, ends the call at once once T303 has stopped.
    let mut s = Solo::new(Q931Config::bri(Side::Network, true));
    let now = s.now;
    let call = s.q.setup(now, SetupRequest::speech("1234", "5678")).unwrap();
    s.tx();
    s.q.handle_dl_data(now, 64, &bytes("08 01 81 02"));
    s.q.handle_dl_data(now, 64, &bytes("08 01 81 45 08 02 80 95"));
    assert_eq!(s.tx(), ["RELEASE cref=1 (orig) cause=16 (normal clearing)"]);
    let ev = s.events();
    assert!(
        matches!(ev.last(), Some(Q931Event::Released { call: c, cause: Some(cause::CALL_REJECTED) }) if *c == call),
        "{ev:?}"
    );
    assert!(s.q.calls().is_empty() && s.q.channel_table().not_idle().is_empty());
}

const SETUP_AGAIN: &str = "SETUP cref=1 (orig) bearer=speech/alaw chan=1 excl calling=5678 (unknown/unknown, allowed, \
                           user-not-screened) called=1234 (unknown/unknown) complete";

#[test]
fn status_with_an_incompatible_state_clears_the_call_5_8_11() {
    let (mut s, call) = net_with_call();
    let now = s.now;
    s.q.proceeding(now, call).unwrap();
    s.tx();
    // Peer one step behind or ahead in the same call: fine.
    assert!(s.rx("08 02 00 01 7d 08 02 80 9f 14 01 01").is_empty());
    assert!(s.rx("08 02 00 01 7d 08 02 80 9f 14 01 04").is_empty());
    // The peer claims a call the network placed: RELEASE #101.
    assert_eq!(
        s.rx("08 02 00 01 7d 08 02 80 9f 14 01 07"),
        ["RELEASE cref=1 (dest) cause=101 (message not compatible with call state)"]
    );
    assert_eq!(s.q.call(call).unwrap().state, CallState::ReleaseRequest);
    assert!(s.rx("08 02 00 01 5a").is_empty());
    assert!(s.q.channel_table().not_idle().is_empty());
}
