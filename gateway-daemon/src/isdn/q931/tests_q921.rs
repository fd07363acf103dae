//! Q.931 over the real Q.921 pair on virtual time: the layer 3 entities run on top of the LAPD
//! test line of `q921::harness`, glued as the daemon glues them (DL-DATA / DL-UNIT-DATA in both
//! directions, DL-ESTABLISH / DL-RELEASE as data link events, TEI 127 as UI).

use std::time::Duration;

use super::ie::cause;
use super::tests::released_cause;
use super::*;
use crate::isdn::q921::harness::Line;
use crate::isdn::q921::{Mode, Q921Config, Q921Event, RequestError, Role, Q921};

/// Node 0 is the network side (NT), node 1 the user side (TE).
struct Stack {
    line: Line,
    l3: [Q931; 2],
    events: [Vec<Q931Event>; 2],
}

/// Hands a layer 3 payload to layer 2: UI on the broadcast link for TEI 127, I frames otherwise,
/// asking for the data link first when it is down (the TE of a bus brings it up on demand).
fn dl_send(q: &mut Q921, now: std::time::Instant, tei: u8, data: &[u8]) {
    let nt = q.config().role == Role::Nt;
    if nt && tei == 127 {
        q.dl_unit_data_request(now, data).unwrap();
        return;
    }
    let send = |q: &mut Q921| if nt { q.dl_data_request_tei(now, tei, data) } else { q.dl_data_request(now, data) };
    match send(q) {
        Ok(()) => {}
        Err(RequestError::NotEstablished) => {
            if nt {
                q.dl_establish_request_tei(now, tei).unwrap();
            } else {
                q.dl_establish_request(now).unwrap();
            }
            send(q).unwrap();
        }
        Err(e) => panic!("DL-DATA-request: {e:?}"),
    }
}

impl Stack {
    fn new(nt: Q921Config, te: Q921Config, l3: [Q931Config; 2]) -> Stack {
        Stack { line: Line::new(&[nt, te]), l3: l3.map(Q931::new), events: [Vec::new(), Vec::new()] }
    }

    fn bri_ptmp() -> Stack {
        Stack::new(
            Q921Config::bri(Role::Nt, Mode::PointToMultipoint),
            Q921Config::bri(Role::Te, Mode::PointToMultipoint),
            [Q931Config::bri(Side::Network, true), Q931Config::bri(Side::User, true)],
        )
    }

    fn pri() -> Stack {
        Stack::new(
            Q921Config::pri(Role::Nt),
            Q921Config::pri(Role::Te),
            [Q931Config::pri(Side::Network), Q931Config::pri(Side::User)],
        )
    }

    /// Moves primitives between the layers until both are quiet.
    fn pump(&mut self) {
        let now = self.line.now;
        loop {
            let mut busy = false;
            for i in 0..2 {
                for e in self.line.take_events(i) {
                    busy = true;
                    let l3 = &mut self.l3[i];
                    match e {
                        Q921Event::DataIndication { tei: Some(t), data }
                        | Q921Event::UnitDataIndication { tei: Some(t), data } => l3.handle_dl_data(now, t, &data),
                        Q921Event::EstablishIndication { tei: Some(t) }
                        | Q921Event::EstablishConfirm { tei: Some(t) } => l3.handle_dl_established(now, t),
                        Q921Event::IFramesDiscarded { tei: Some(t) } => l3.handle_dl_reset(now, t),
                        Q921Event::ReleaseIndication { tei: Some(t) }
                        | Q921Event::ReleaseConfirm { tei: Some(t) }
                        | Q921Event::TeiRemoved { tei: t } => l3.handle_dl_released(now, t),
                        _ => {}
                    }
                }
                if self.l3[i].poll_timeout().is_some_and(|t| t <= now) {
                    self.l3[i].handle_timeout(now);
                }
                while let Some((tei, data)) = self.l3[i].poll_transmit() {
                    busy = true;
                    dl_send(&mut self.line.nodes[i], now, tei, data);
                }
                while let Some(e) = self.l3[i].poll_event() {
                    self.events[i].push(e);
                }
                super::tests::check_channels(&self.l3[i]);
            }
            if !busy {
                return;
            }
        }
    }

    /// Runs both layers in 10 ms steps.
    fn run_for(&mut self, d: Duration) {
        let steps = d.as_millis() / 10;
        for _ in 0..steps.max(1) {
            let until = self.line.now + Duration::from_millis(10);
            self.line.run_until(until);
            // The line stops its clock when layer 2 has nothing to do; layer 3 timers still run.
            self.line.now = self.line.now.max(until);
            self.pump();
        }
    }

    fn incoming(&self, i: usize) -> CallId {
        self.events[i]
            .iter()
            .rev()
            .find_map(|e| if let Q931Event::IncomingSetup { call, .. } = e { Some(*call) } else { None })
            .unwrap_or_else(|| panic!("no incoming call on node {i}: {:?}", self.events[i]))
    }

    fn state(&self, i: usize, call: CallId) -> CallState {
        self.l3[i].call(call).map_or(CallState::Null, |c| c.state)
    }
}

#[test]
fn bri_ptmp_network_broadcasts_setup_and_the_terminal_answers_over_lapd() {
    let mut s = Stack::bri_ptmp();
    let now = s.line.now;
    let b = s.l3[0].setup(now, SetupRequest::speech("1234", "5678")).unwrap();
    s.run_for(Duration::from_millis(500));
    let a = s.incoming(1);
    let now = s.line.now;
    // The terminal answers: its data link comes up on demand (TEI assignment, SABME).
    s.l3[1].alerting(now, a).unwrap();
    s.l3[1].connect(now, a).unwrap();
    s.run_for(Duration::from_secs(1));
    assert_eq!(s.state(0, b), CallState::Active);
    assert_eq!(s.state(1, a), CallState::Active);
    let tei = s.l3[0].call(b).unwrap().tei;
    assert!((64..=126).contains(&tei), "bound to the terminal's automatic TEI, not {tei}");
    assert!(s.line.sent(0, "UI").iter().any(|l| l.contains("tei=127")), "{:?}", s.line.trace());
    let now = s.line.now;
    s.l3[0].disconnect(now, b, cause::NORMAL_CLEARING).unwrap();
    s.run_for(Duration::from_millis(500));
    let now = s.line.now;
    s.l3[1].release(now, a, cause::NORMAL_CLEARING).unwrap();
    s.run_for(Duration::from_millis(500));
    released_cause(&s.events[0], b);
    released_cause(&s.events[1], a);
    for q in &s.l3 {
        assert!(q.calls().is_empty() && q.channel_table().not_idle().is_empty());
    }
}

#[test]
fn bri_ptmp_line_lost_while_the_call_clears_leaves_every_channel_idle_libpri_issue_5() {
    let mut s = Stack::bri_ptmp();
    let now = s.line.now;
    let b = s.l3[0].setup(now, SetupRequest::speech("1234", "5678")).unwrap();
    s.run_for(Duration::from_millis(500));
    let a = s.incoming(1);
    let now = s.line.now;
    s.l3[1].connect(now, a).unwrap();
    s.run_for(Duration::from_secs(1));
    assert_eq!(s.state(0, b), CallState::Active);
    // The network starts clearing and the line dies before the terminal hears it.
    let now = s.line.now;
    s.l3[0].disconnect(now, b, cause::NORMAL_CLEARING).unwrap();
    s.line.dead[1] = true;
    s.run_for(Duration::from_secs(120));
    released_cause(&s.events[0], b);
    released_cause(&s.events[1], a);
    for (i, q) in s.l3.iter().enumerate() {
        assert!(q.calls().is_empty(), "node {i}: {:?}", q.calls());
        assert!(q.channel_table().not_idle().is_empty(), "node {i}: {:?}", q.channel_table());
    }
}

#[test]
fn pri_call_over_lapd_survives_a_short_link_loss_within_t309() {
    let mut s = Stack::pri();
    s.run_for(Duration::from_millis(300));
    let now = s.line.now;
    let a = s.l3[1].setup(now, SetupRequest::speech("1234", "5678")).unwrap();
    s.run_for(Duration::from_millis(300));
    let b = s.incoming(0);
    let now = s.line.now;
    s.l3[0].proceeding(now, b).unwrap();
    s.l3[0].connect(now, b).unwrap();
    s.run_for(Duration::from_millis(300));
    assert_eq!(s.state(1, a), CallState::Active);
    // The user's side of the line goes quiet long enough for LAPD to give up and retry.
    s.line.dead[1] = true;
    s.run_for(Duration::from_secs(20));
    assert!(s.l3[0].timer_running(b, Timer::T309) || s.l3[1].timer_running(a, Timer::T309));
    s.line.dead[1] = false;
    s.run_for(Duration::from_secs(10));
    assert_eq!(s.state(0, b), CallState::Active);
    assert_eq!(s.state(1, a), CallState::Active);
    assert!(!s.l3[0].timer_running(b, Timer::T309) && !s.l3[1].timer_running(a, Timer::T309));
}

/// The HA failover case (a line plugged into a standby gateway): the network side has been
/// sending SABMEs into a dead line, so it is awaiting establishment when our SABME arrives. It
/// answers UA (the collision rule of §5.5.1.3) but stays there until its own SABME is answered,
/// discarding the SETUP we send meanwhile; its next SABME then resets our link. Q.931 sends the
/// SETUP again on that reset, so the call is offered within a second instead of at T303's
/// expiry (4 s), and offered once.
#[test]
fn a_setup_lost_to_a_data_link_reset_is_sent_again_at_once() {
    let mut s = Stack::pri();
    s.line.dead[1] = true;
    let now = s.line.now;
    s.line.nodes[0].dl_establish_request(now).unwrap();
    s.run_for(Duration::from_millis(300));
    s.line.dead[1] = false;
    let now = s.line.now;
    let call = s.l3[1].setup(now, SetupRequest::speech("1234", "5678")).unwrap();
    s.run_for(Duration::from_millis(1500));
    let offers = s.events[0].iter().filter(|e| matches!(e, Q931Event::IncomingSetup { .. })).count();
    assert_eq!(offers, 1, "the network side saw the SETUP once: {:?}\n{:#?}", s.events[0], s.line.trace());
    assert_eq!(s.state(1, call), CallState::CallInitiated);
    let discarded = s.line.sent(0, "SABME").len();
    assert!(discarded >= 2, "the scenario needs the network side's repeated SABME: {:#?}", s.line.trace());
}
