//! Layer 1 under Q.921 (PH-DEACTIVATE / PH-ACTIVATE-indication, as `layer1_presence =
//! "required"` delivers them) and XID frames, on the virtual-time line of `harness`.

use std::time::Duration;

use super::harness::Line;
use super::*;

const NT: usize = 0;
const TE: usize = 1;

fn line(persistence: Layer2Persistence) -> Line {
    let cfg = |role| Q921Config { layer2_persistence: persistence, ..Q921Config::pri(role) };
    let mut l = Line::new(&[cfg(Role::Nt), cfg(Role::Te)]);
    let now = l.now;
    l.nodes[TE].dl_establish_request(now).unwrap();
    l.settle();
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished, "{:#?}", l.trace());
    l.take_events(TE);
    l.take_events(NT);
    l
}

fn state(l: &Line, node: usize) -> LinkState {
    l.nodes[node].link().expect("single link").state
}

/// Frames node `from` put on the wire after wire index `mark`.
fn sent_since(l: &Line, from: usize, mark: usize) -> Vec<String> {
    let trace = l.trace();
    l.wire.iter().zip(trace).skip(mark).filter(|(w, _)| w.from == from).map(|(_, t)| t).collect()
}

#[test]
fn layer1_loss_releases_the_link_at_once_and_keep_up_waits_for_activation() {
    let mut l = line(Layer2Persistence::KeepUp);
    // The plug is pulled: nothing crosses. Only the TE is told (its span is `required`); the NT
    // plays a side with `ignore` and must find out through its own timers.
    l.dead = vec![true, true];
    let mark = l.wire.len();
    let now = l.now;
    l.nodes[TE].ph_deactivate_indication(now);
    l.run_for(Duration::from_millis(1));
    assert_eq!(l.take_events(TE), [Q921Event::ReleaseIndication { tei: Some(0) }]);
    assert_eq!(state(&l, TE), LinkState::TeiAssigned);
    assert_eq!(l.nodes[TE].counters().mdl_errors, 0, "released by layer 1, not by a timer");
    assert!(!l.nodes[TE].layer1_active());

    // A minute of dead line: the TE sends nothing at all, the NT polls and retries SABME.
    l.run_for(Duration::from_secs(60));
    assert_eq!(sent_since(&l, TE, mark), Vec::<String>::new(), "no frame while layer 1 is down");
    assert_eq!(l.nodes[TE].poll_timeout(), None, "no timer runs while layer 1 is down");
    let nt_frames = sent_since(&l, NT, mark);
    assert!(nt_frames.iter().any(|t| t.contains("SABME")), "the NT keeps trying: {nt_frames:?}");
    assert!(l.nodes[NT].counters().mdl_errors > 0);

    // A layer 3 request meanwhile is refused at once.
    let now = l.now;
    l.nodes[TE].dl_establish_request(now).unwrap();
    l.run_for(Duration::from_millis(1));
    assert_eq!(l.take_events(TE), [Q921Event::ReleaseIndication { tei: Some(0) }]);
    assert_eq!(state(&l, TE), LinkState::TeiAssigned);

    // Layer 1 back: keep_up brings the link up and tells layer 3.
    l.dead = vec![false, false];
    let now = l.now;
    l.nodes[TE].ph_activate_indication(now);
    // The NT may be between its own SABMEs (collision, §5.5.1.3): give it one T200.
    l.run_for(Duration::from_secs(2));
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished, "{:#?}", l.trace());
    assert_eq!(state(&l, NT), LinkState::MultipleFrameEstablished);
    // (The NT's own SABME may still cross ours: MDL-ERROR F, the link stays up.)
    let events = l.take_events(TE);
    assert_eq!(events.first(), Some(&Q921Event::EstablishIndication { tei: Some(0) }), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, Q921Event::ReleaseIndication { .. })), "{events:?}");
}

#[test]
fn with_leave_down_the_link_stays_released_until_layer_3_asks() {
    let mut l = line(Layer2Persistence::LeaveDown);
    let now = l.now;
    l.nodes[TE].ph_deactivate_indication(now);
    l.nodes[TE].ph_activate_indication(now);
    let mark = l.wire.len();
    l.run_for(Duration::from_millis(500));
    assert_eq!(state(&l, TE), LinkState::TeiAssigned);
    assert_eq!(sent_since(&l, TE, mark), Vec::<String>::new());
    let now = l.now;
    l.nodes[TE].dl_establish_request(now).unwrap();
    l.settle();
    assert_eq!(state(&l, TE), LinkState::MultipleFrameEstablished);
    let events = l.take_events(TE);
    assert_eq!(events.last(), Some(&Q921Event::EstablishConfirm { tei: Some(0) }), "{events:?}");
}

#[test]
fn a_release_in_progress_is_confirmed_and_queued_data_discarded() {
    let mut l = line(Layer2Persistence::LeaveDown);
    l.dead = vec![true, true];
    let now = l.now;
    l.nodes[TE].dl_data_request(now, b"lost with the line").unwrap();
    l.nodes[TE].dl_release_request(now).unwrap();
    l.run_for(Duration::from_millis(1));
    assert_eq!(state(&l, TE), LinkState::AwaitingRelease);
    let now = l.now;
    l.nodes[TE].ph_deactivate_indication(now);
    l.run_for(Duration::from_millis(1));
    assert_eq!(l.take_events(TE), [Q921Event::ReleaseConfirm { tei: Some(0) }]);
    let link = l.nodes[TE].link().unwrap();
    assert_eq!((link.state, link.queued), (LinkState::TeiAssigned, 0));
    assert!(l.nodes[TE].poll_timeout().is_none(), "T200 and T203 stopped");
}

#[test]
fn a_terminal_on_a_bus_keeps_its_tei_across_layer1_loss() {
    let nt = Q921Config::bri(Role::Nt, Mode::PointToMultipoint);
    let te = Q921Config {
        layer2_persistence: Layer2Persistence::KeepUp,
        ..Q921Config::bri(Role::Te, Mode::PointToMultipoint)
    };
    let mut l = Line::new(&[nt, te]);
    let now = l.now;
    l.nodes[TE].dl_establish_request(now).unwrap();
    l.run_for(Duration::from_secs(1));
    let tei = l.nodes[TE].link().and_then(|s| s.tei).expect("a TEI");
    assert_eq!(l.nodes[TE].link().unwrap().state, LinkState::MultipleFrameEstablished);
    l.take_events(TE);
    let now = l.now;
    l.nodes[TE].ph_deactivate_indication(now);
    l.nodes[NT].ph_deactivate_indication(now);
    l.run_for(Duration::from_millis(1));
    assert_eq!(l.take_events(TE), [Q921Event::ReleaseIndication { tei: Some(tei) }]);
    assert_eq!(l.nodes[TE].link().unwrap().tei, Some(tei));
    assert_eq!(
        l.nodes[NT].links().iter().map(|s| (s.tei, s.state)).collect::<Vec<_>>(),
        [(Some(tei), LinkState::TeiAssigned)]
    );
    let now = l.now;
    l.nodes[NT].ph_activate_indication(now);
    l.nodes[TE].ph_activate_indication(now);
    l.settle();
    assert_eq!(l.nodes[TE].link().map(|s| (s.tei, s.state)), Some((Some(tei), LinkState::MultipleFrameEstablished)));
}

/// XID is optional in LAPD and we negotiate no parameters: a received XID command or response
/// is ignored in every state, with no answer, no state change and no MDL-ERROR (libpri does the
/// same; treating it as an undefined control field would re-establish the link for nothing).
#[test]
fn xid_frames_are_ignored() {
    for established in [true, false] {
        let mut l = line(Layer2Persistence::LeaveDown);
        if !established {
            let now = l.now;
            l.nodes[TE].dl_release_request(now).unwrap();
            l.settle();
            l.take_events(TE);
        }
        let before = state(&l, TE);
        let mark = l.wire.len();
        // XID command from the network (C/R = 1), P = 1, then the same as a response with a
        // parameter field.
        l.receive(TE, &[0x02, 0x01, 0xbf]);
        l.receive(TE, &[0x00, 0x01, 0xaf, 0x82, 0x80, 0x00]);
        l.run_for(Duration::from_millis(50));
        assert_eq!(state(&l, TE), before, "established={established}");
        assert_eq!(sent_since(&l, TE, mark), Vec::<String>::new(), "established={established}");
        assert!(l.take_events(TE).is_empty(), "established={established}");
        assert_eq!(l.nodes[TE].counters().mdl_errors, 0, "established={established}");
    }
}
