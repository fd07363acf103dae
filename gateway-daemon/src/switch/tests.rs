//! The switch against a mock dial plan and mock legs: each test walks a call through the bridge
//! table of `switch`'s module documentation and checks what was done to each leg.

use std::time::{Duration, Instant};

use super::*;

/// Routes by prefix: (from span, called prefix, destination span), first match wins; a route
/// whose prefix is longer than the number asks for more digits. A destination of 100 or more is
/// the SIP trunk `t<N>`; a route from span 0 takes calls from anywhere (a SIP caller too).
struct Plan(Vec<(u32, &'static str, u32)>);

impl Dialplan for Plan {
    fn route(
        &mut self,
        from: &Source,
        called: &str,
        calling: &str,
        complete: bool,
        after: Option<usize>,
        _: &dyn Fn(u32, u8) -> bool,
    ) -> Decision {
        let start = after.map_or(0, |a| a + 1);
        let mut more = false;
        for (index, &(f, prefix, to)) in self.0.iter().enumerate().skip(start) {
            if f != 0 && *from != Source::Span(f) {
                continue;
            }
            if called.starts_with(prefix) {
                let to = if to >= 100 {
                    Destination::Trunk(format!("t{to}"))
                } else {
                    Destination::Span { span: to, channel: None }
                };
                return Decision::Route { index, to, called: called.to_owned(), calling: calling.to_owned() };
            }
            more |= prefix.starts_with(called);
        }
        if more && !complete {
            Decision::NeedMore
        } else if after.is_some() {
            Decision::Exhausted
        } else {
            Decision::NoMatch { cause: 1 }
        }
    }
}

/// Records every action; spans 1 and 2 are nodes 0 and 1; `refuse` spans refuse calls.
#[derive(Default)]
struct Mock {
    log: Vec<String>,
    next: u32,
    refuse: Vec<u32>,
    /// Whether SIP trunks take calls (they refuse with cause 38 otherwise).
    sip_up: bool,
    /// SIP legs whose media are not known yet (no answer with SDP): `join_rtp` refuses them.
    sip_media_unknown: Vec<u64>,
    /// Spans where we are the network side (ISDN legs on them may get tones after DISCONNECT).
    net: Vec<u32>,
    /// The spans' tone zone has no tone table: `tone` plays nothing.
    no_tones: bool,
    /// SIP trunks say `ringback = "local"`.
    local_ringback: bool,
}

impl Legs for Mock {
    fn span_number(&self, node: usize) -> Option<u32> {
        u32::try_from(node + 1).ok()
    }
    fn place_isdn(&mut self, span: u32, _: Option<u8>, called: &str, calling: &str) -> Result<LegRef, u8> {
        if self.refuse.contains(&span) {
            self.log.push(format!("refused span {span}"));
            return Err(34);
        }
        self.next += 1;
        self.log.push(format!("place span {span} {called} {calling} -> {}", self.next));
        Ok(LegRef::Isdn { node: usize::try_from(span - 1).unwrap(), call: CallId(self.next) })
    }
    fn place_sip(&mut self, trunk: &str, _: &str, _: &str) -> Result<LegRef, u8> {
        self.log.push(format!("sip {trunk}"));
        if self.sip_up {
            self.next += 1;
            Ok(LegRef::Sip(Handle(u64::from(self.next))))
        } else {
            Err(38)
        }
    }
    fn proceeding(&mut self, leg: LegRef) {
        self.log.push(format!("proceeding {}", id(leg)));
    }
    fn alerting(&mut self, leg: LegRef, inband: bool) {
        self.log.push(format!("alerting {}{}", id(leg), if inband { " inband" } else { "" }));
    }
    fn progress(&mut self, leg: LegRef) {
        self.log.push(format!("progress {}", id(leg)));
    }
    fn local_ringback(&self, leg: LegRef) -> bool {
        matches!(leg, LegRef::Sip(_)) && self.local_ringback
    }
    fn rtp_tone(&mut self, sip: Handle, at: Endpoint, tone: Option<Progress>) -> bool {
        if tone.is_some() && self.no_tones {
            return false;
        }
        let what = tone.map_or_else(|| "off".to_owned(), |t| format!("{t:?}").to_lowercase());
        self.log.push(format!("rtp tone {} {}/{} {what}", sip.0, at.node, at.ts));
        true
    }
    fn connect(&mut self, leg: LegRef) {
        self.log.push(format!("connect {}", id(leg)));
    }
    fn hangup(&mut self, leg: LegRef, cause: u8) {
        self.log.push(format!("hangup {} {cause}", id(leg)));
    }
    fn network_side(&self, leg: LegRef) -> bool {
        matches!(leg, LegRef::Isdn { node, .. } if self.net.contains(&u32::try_from(node + 1).unwrap()))
    }
    fn hangup_inband(&mut self, leg: LegRef, cause: u8) -> bool {
        assert!(self.network_side(leg), "DISCONNECT with progress #8 only where we are the network");
        self.log.push(format!("hangup {} {cause} inband", id(leg)));
        true
    }
    fn tone(&mut self, at: Endpoint, tone: Option<Progress>) -> bool {
        if tone.is_some() && self.no_tones {
            return false;
        }
        let what = tone.map_or_else(|| "off".to_owned(), |t| format!("{t:?}").to_lowercase());
        self.log.push(format!("tone {}/{} {what}", at.node, at.ts));
        true
    }
    fn busy(&self, _: u32, _: u8) -> bool {
        false
    }
    fn channel(&self, leg: LegRef) -> Option<Endpoint> {
        let LegRef::Isdn { node, call } = leg else { return None };
        Some(Endpoint { node, ts: u8::try_from(call.0).unwrap() })
    }
    fn join(&mut self, a: Endpoint, b: Endpoint) {
        self.log.push(format!("join {}/{} {}/{}", a.node, a.ts, b.node, b.ts));
    }
    fn join_rtp(&mut self, a: Endpoint, sip: Handle) -> bool {
        if self.sip_media_unknown.contains(&sip.0) {
            return false;
        }
        self.log.push(format!("rtp {}/{} {}", a.node, a.ts, sip.0));
        true
    }
    fn split_rtp(&mut self, sip: Handle) {
        self.log.push(format!("unrtp {}", sip.0));
    }
    fn split(&mut self, a: Endpoint, b: Endpoint) {
        self.log.push(format!("split {}/{} {}/{}", a.node, a.ts, b.node, b.ts));
    }
}

/// A leg's call number in the log (SIP handles count from 1000).
fn id(leg: LegRef) -> u64 {
    match leg {
        LegRef::Isdn { call, .. } => u64::from(call.0),
        LegRef::Sip(h) => 1000 + h.0,
    }
}

struct Rig {
    sw: Switch,
    plan: Plan,
    legs: Mock,
    now: Instant,
}

impl Rig {
    fn new(routes: Vec<(u32, &'static str, u32)>) -> Rig {
        Rig { sw: Switch::new(), plan: Plan(routes), legs: Mock { next: 100, ..Mock::default() }, now: Instant::now() }
    }

    /// Feeds a notice of the leg on `node` and returns what the switch did.
    fn feed(&mut self, node: usize, n: CallNotice) -> Vec<String> {
        self.now += Duration::from_millis(10);
        self.sw.on_notice(self.now, node, n, &mut self.plan, &mut self.legs);
        std::mem::take(&mut self.legs.log)
    }
}

fn offer(call: u32, called: &str, complete: bool) -> CallNotice {
    CallNotice::Offer { call: CallId(call), called: called.into(), calling: "0140".into(), channel: Some(1), complete }
}

#[test]
fn a_call_is_routed_answered_joined_and_cleared_from_either_side() {
    for a_clears in [true, false] {
        let mut r = Rig::new(vec![(1, "", 2)]);
        assert_eq!(r.feed(0, offer(1, "2000", true)), ["place span 2 2000 0140 -> 101", "proceeding 1"]);
        assert_eq!(r.feed(1, CallNotice::Proceeding { call: CallId(101) }), Vec::<String>::new());
        assert_eq!(
            r.feed(1, CallNotice::Alerting { call: CallId(101), inband: true }),
            ["join 0/1 1/101", "alerting 1"]
        );
        assert_eq!(r.feed(1, CallNotice::Connected { call: CallId(101) }), ["connect 1"]);
        assert_eq!(r.sw.snapshot(r.now)[0].state, "active");
        if a_clears {
            assert_eq!(r.feed(0, CallNotice::Disconnected { call: CallId(1), cause: Some(16) }), ["hangup 101 16"]);
            assert_eq!(r.feed(0, CallNotice::Released { call: CallId(1), cause: Some(16) }), ["split 0/1 1/101"]);
            assert_eq!(r.sw.active(), 1, "the outgoing leg is not released yet");
            assert!(r.feed(1, CallNotice::Released { call: CallId(101), cause: None }).is_empty());
        } else {
            assert_eq!(r.feed(1, CallNotice::Disconnected { call: CallId(101), cause: Some(17) }), ["hangup 1 17"]);
            assert_eq!(r.feed(1, CallNotice::Released { call: CallId(101), cause: Some(17) }), ["split 0/1 1/101"]);
            assert!(r.feed(0, CallNotice::Released { call: CallId(1), cause: None }).is_empty());
        }
        assert_eq!(r.sw.active(), 0);
        assert_eq!(r.sw.counters.answered, 1);
    }
}

#[test]
fn no_route_clears_with_unallocated_number() {
    let mut r = Rig::new(vec![(2, "", 1)]);
    assert_eq!(r.feed(0, offer(1, "2000", true)), ["hangup 1 1"]);
    assert!(r.feed(0, CallNotice::Released { call: CallId(1), cause: Some(1) }).is_empty());
    assert_eq!((r.sw.active(), r.sw.counters.no_route), (0, 1));
}

#[test]
fn overlap_collects_digits_until_a_route_matches_or_t302() {
    let mut r = Rig::new(vec![(1, "123", 2)]);
    assert!(r.feed(0, offer(1, "1", false)).is_empty());
    assert!(r.feed(0, CallNotice::Digits { call: CallId(1), digits: "2".into(), complete: false }).is_empty());
    assert_eq!(
        r.feed(0, CallNotice::Digits { call: CallId(1), digits: "34".into(), complete: false }),
        ["place span 2 1234 0140 -> 101", "proceeding 1"]
    );
    // Digits after the route was taken are not a new routing.
    assert!(r.feed(0, CallNotice::Digits { call: CallId(1), digits: "5".into(), complete: false }).is_empty());

    let mut r = Rig::new(vec![(1, "123", 2)]);
    assert!(r.feed(0, offer(1, "12", false)).is_empty());
    assert_eq!(r.feed(0, CallNotice::OverlapTimeout { call: CallId(1) }), ["hangup 1 1"], "T302 on a partial number");
}

#[test]
fn congestion_falls_over_to_the_next_route_and_other_causes_do_not() {
    let mut r = Rig::new(vec![(1, "", 2), (1, "", 3), (1, "", 2)]);
    r.legs.refuse = vec![3];
    assert_eq!(r.feed(0, offer(1, "2000", true)), ["place span 2 2000 0140 -> 101", "proceeding 1"]);
    // The first destination is congested: route 1 refuses at once, route 2 takes it.
    assert_eq!(
        r.feed(1, CallNotice::Disconnected { call: CallId(101), cause: Some(34) }),
        ["refused span 3", "place span 2 2000 0140 -> 102"]
    );
    assert!(r.feed(1, CallNotice::Released { call: CallId(101), cause: Some(34) }).is_empty());
    assert_eq!(r.sw.counters.fall_overs, 1);
    // User busy is an answer, not congestion: the caller gets it.
    assert_eq!(r.feed(1, CallNotice::Disconnected { call: CallId(102), cause: Some(17) }), ["hangup 1 17"]);
    assert!(r.feed(1, CallNotice::Released { call: CallId(102), cause: Some(17) }).is_empty());
    assert!(r.feed(0, CallNotice::Released { call: CallId(1), cause: Some(17) }).is_empty());
    assert_eq!(r.sw.active(), 0);
}

#[test]
fn every_route_congested_clears_with_no_circuit() {
    let mut r = Rig::new(vec![(1, "", 3), (1, "", 4)]);
    r.legs.refuse = vec![3, 4];
    assert_eq!(r.feed(0, offer(1, "2000", true)), ["refused span 3", "refused span 4", "hangup 1 34"]);
}

#[test]
fn the_caller_hanging_up_before_answer_cancels_the_outgoing_leg() {
    let mut r = Rig::new(vec![(1, "", 2)]);
    r.feed(0, offer(1, "2000", true));
    assert_eq!(r.feed(1, CallNotice::Progress { call: CallId(101) }), ["join 0/1 1/101", "progress 1"]);
    assert_eq!(
        r.feed(0, CallNotice::Released { call: CallId(1), cause: Some(16) }),
        ["split 0/1 1/101", "hangup 101 16"]
    );
    // A late answer of the outgoing leg changes nothing.
    assert!(r.feed(1, CallNotice::Connected { call: CallId(101) }).is_empty());
    assert!(r.feed(1, CallNotice::Released { call: CallId(101), cause: None }).is_empty());
    assert_eq!((r.sw.active(), r.sw.counters.answered), (0, 0));
}

#[test]
fn notices_of_unknown_calls_are_ignored() {
    let mut r = Rig::new(vec![(1, "", 2)]);
    for n in [
        CallNotice::Alerting { call: CallId(9), inband: true },
        CallNotice::Connected { call: CallId(9) },
        CallNotice::Disconnected { call: CallId(9), cause: None },
        CallNotice::Released { call: CallId(9), cause: None },
        CallNotice::Digits { call: CallId(9), digits: "1".into(), complete: true },
    ] {
        assert!(r.feed(0, n).is_empty());
    }
    assert_eq!(r.sw.active(), 0);
}

/// A SIP trunk's 503 maps to cause 41 (RFC 3398), yet it means "try elsewhere": the leg's
/// `fall_over` flag sends the call to the next route; a 486 (cause 17) reaches the caller.
#[test]
fn a_sip_503_falls_over_and_a_486_does_not() {
    let mut r = Rig::new(vec![(1, "", 100), (1, "", 2), (1, "", 100)]);
    r.legs.sip_up = true;
    assert_eq!(r.feed(0, offer(1, "2000", true)), ["sip t100", "proceeding 1"]);
    let sip = LegRef::Sip(Handle(101));
    r.now += Duration::from_millis(10);
    r.sw.on_event(r.now, sip, LegEvent::Released { cause: Some(41), fall_over: true }, &mut r.plan, &mut r.legs);
    assert_eq!(std::mem::take(&mut r.legs.log), ["place span 2 2000 0140 -> 102"]);
    assert_eq!(r.sw.counters.fall_overs, 1);
    // Span 2 is congested too: on to the trunk again, which now answers busy.
    assert_eq!(r.feed(1, CallNotice::Disconnected { call: CallId(102), cause: Some(44) }), ["sip t100"]);
    assert!(r.feed(1, CallNotice::Released { call: CallId(102), cause: Some(44) }).is_empty());
    r.now += Duration::from_millis(10);
    let busy = LegRef::Sip(Handle(103));
    r.sw.on_event(r.now, busy, LegEvent::Released { cause: Some(17), fall_over: false }, &mut r.plan, &mut r.legs);
    assert_eq!(std::mem::take(&mut r.legs.log), ["hangup 1 17"]);
    assert_eq!(r.sw.counters.fall_overs, 2);
}

/// A SIP callee's 180 carries no SDP, so its media are unknown and joining them then would guess
/// the codec: the switch joins at the 200 (with the answer) instead, and splits them at the end.
#[test]
fn a_sip_leg_without_media_yet_is_joined_at_its_answer() {
    let mut r = Rig::new(vec![(1, "", 100)]);
    r.legs.sip_up = true;
    assert_eq!(r.feed(0, offer(1, "2000", true)), ["sip t100", "proceeding 1"]);
    let sip = LegRef::Sip(Handle(101));
    r.legs.sip_media_unknown.push(101);
    r.now += Duration::from_millis(10);
    r.sw.on_event(r.now, sip, LegEvent::Alerting { inband: true }, &mut r.plan, &mut r.legs);
    assert_eq!(std::mem::take(&mut r.legs.log), ["tone 0/1 ringback", "alerting 1 inband"]);
    r.legs.sip_media_unknown.clear();
    r.now += Duration::from_millis(10);
    r.sw.on_event(r.now, sip, LegEvent::Connected, &mut r.plan, &mut r.legs);
    assert_eq!(std::mem::take(&mut r.legs.log), ["tone 0/1 off", "connect 1", "rtp 0/1 101"]);
    assert_eq!(r.feed(0, CallNotice::Disconnected { call: CallId(1), cause: Some(16) }), ["hangup 1101 16"]);
    assert_eq!(r.feed(0, CallNotice::Released { call: CallId(1), cause: Some(16) }), ["unrtp 101"]);
}

/// Feeds an event of SIP leg `h` and returns what the switch did.
fn sip_event(r: &mut Rig, h: u64, ev: LegEvent) -> Vec<String> {
    r.now += Duration::from_millis(10);
    r.sw.on_event(r.now, LegRef::Sip(Handle(h)), ev, &mut r.plan, &mut r.legs);
    std::mem::take(&mut r.legs.log)
}

/// An ISDN caller to a SIP callee that rings without early media (180, no SDP) hears our
/// ringback (ALERTING says in-band information is available) until the callee's 183 with SDP
/// brings its own audio, and nothing of ours after the answer.
#[test]
fn ringback_plays_while_a_sip_callee_rings_without_media_and_stops_for_its_own() {
    for net in [false, true] {
        let mut r = Rig::new(vec![(1, "", 100)]);
        r.legs.sip_up = true;
        if net {
            r.legs.net = vec![1];
        }
        r.feed(0, offer(1, "2000", true));
        r.legs.sip_media_unknown.push(101);
        // Ringback on either side's span: a called user may give in-band information too.
        assert_eq!(
            sip_event(&mut r, 101, LegEvent::Alerting { inband: true }),
            ["tone 0/1 ringback", "alerting 1 inband"]
        );
        assert_eq!(
            sip_event(&mut r, 101, LegEvent::Alerting { inband: true }),
            ["alerting 1 inband"],
            "a second 180, same tone"
        );
        r.legs.sip_media_unknown.clear();
        assert_eq!(sip_event(&mut r, 101, LegEvent::Progress), ["rtp 0/1 101", "tone 0/1 off", "progress 1"]);
        assert_eq!(sip_event(&mut r, 101, LegEvent::Connected), ["connect 1"]);
        assert_eq!(r.feed(0, CallNotice::Disconnected { call: CallId(1), cause: Some(16) }), ["hangup 1101 16"]);
    }
}

/// With no tone table for the zone the caller gets a plain ALERTING (its own network or
/// terminal then provides the ringback), and a callee with early media gets none of ours.
#[test]
fn no_ringback_without_a_zone_or_with_early_media() {
    let mut r = Rig::new(vec![(1, "", 100)]);
    r.legs.sip_up = true;
    r.legs.no_tones = true;
    r.feed(0, offer(1, "2000", true));
    r.legs.sip_media_unknown.push(101);
    assert_eq!(sip_event(&mut r, 101, LegEvent::Alerting { inband: true }), ["alerting 1"]);

    let mut r = Rig::new(vec![(1, "", 100)]);
    r.legs.sip_up = true;
    r.feed(0, offer(1, "2000", true));
    assert_eq!(sip_event(&mut r, 101, LegEvent::Alerting { inband: true }), ["rtp 0/1 101", "alerting 1"]);
    // ISDN to ISDN: the far network's own ringback is joined through; nothing of ours.
    let mut r = Rig::new(vec![(1, "", 2)]);
    r.legs.net = vec![1, 2];
    r.feed(0, offer(1, "2000", true));
    assert_eq!(r.feed(1, CallNotice::Alerting { call: CallId(101), inband: true }), ["join 0/1 1/101", "alerting 1"]);
}

/// A SIP callee's 486 (cause 17) gives a caller on a network-side span DISCONNECT with progress
/// #8 and the busy tone until it releases; a 404 or 480 gives congestion; on a user-side span
/// a plain DISCONNECT (the provider's exchange plays the tone from the cause).
#[test]
fn busy_or_congestion_after_a_refusal_where_we_are_the_network() {
    for (cause, net, want) in [
        (17, true, vec!["tone 0/1 busy", "hangup 1 17 inband"]),
        (1, true, vec!["tone 0/1 congestion", "hangup 1 1 inband"]),
        (17, false, vec!["tone 0/1 off", "hangup 1 17"]),
    ] {
        let mut r = Rig::new(vec![(1, "", 100)]);
        r.legs.sip_up = true;
        if net {
            r.legs.net = vec![1];
        }
        r.feed(0, offer(1, "2000", true));
        r.legs.sip_media_unknown.push(101);
        sip_event(&mut r, 101, LegEvent::Alerting { inband: true });
        let mut got = sip_event(&mut r, 101, LegEvent::Released { cause: Some(cause), fall_over: false });
        got.sort();
        let mut want = want.clone();
        want.sort_unstable();
        assert_eq!(got, want, "cause {cause}, network side {net}");
        // The caller releases: the tone stops on the channel it played on, the call is gone.
        let end = r.feed(0, CallNotice::Released { call: CallId(1), cause: Some(cause) });
        assert_eq!(end, if net { vec!["tone 0/1 off"] } else { vec![] }, "cause {cause}");
        assert_eq!(r.sw.active(), 0);
    }
}

/// No route, on a network-side span: congestion after DISCONNECT with progress #8.
#[test]
fn no_route_gives_congestion_where_we_are_the_network() {
    let mut r = Rig::new(vec![(2, "", 1)]);
    r.legs.net = vec![1];
    assert_eq!(r.feed(0, offer(1, "2000", true)), ["hangup 1 1 inband", "tone 0/1 congestion"]);
    assert_eq!(r.feed(0, CallNotice::Released { call: CallId(1), cause: Some(1) }), ["tone 0/1 off"]);
}

/// Overlap receiving on a network-side span: a SETUP with no digit gets the dial tone, which
/// stops at the first digit; a SETUP that already has digits, or a user-side span, gets none.
#[test]
fn dial_tone_until_the_first_digit_where_we_are_the_network() {
    let mut r = Rig::new(vec![(1, "123", 2)]);
    r.legs.net = vec![1];
    assert_eq!(r.feed(0, offer(1, "", false)), ["tone 0/1 dial"]);
    assert_eq!(
        r.feed(0, CallNotice::Digits { call: CallId(1), digits: "1".into(), complete: false }),
        ["tone 0/1 off"]
    );
    assert!(r.feed(0, CallNotice::Digits { call: CallId(1), digits: "2".into(), complete: false }).is_empty());
    assert_eq!(
        r.feed(0, CallNotice::Digits { call: CallId(1), digits: "3".into(), complete: false }),
        ["place span 2 123 0140 -> 101", "proceeding 1"]
    );

    let mut r = Rig::new(vec![(1, "123", 2)]);
    r.legs.net = vec![1];
    assert!(r.feed(0, offer(1, "1", false)).is_empty(), "a digit was dialled already");
    let mut r = Rig::new(vec![(1, "123", 2)]);
    assert!(r.feed(0, offer(1, "", false)).is_empty(), "user side: the provider gives dial tone");

    // T302 with no digit at all: congestion replaces the dial tone.
    let mut r = Rig::new(vec![(1, "123", 2)]);
    r.legs.net = vec![1];
    r.feed(0, offer(1, "", false));
    assert_eq!(r.feed(0, CallNotice::OverlapTimeout { call: CallId(1) }), ["hangup 1 1 inband", "tone 0/1 congestion"]);
    assert_eq!(r.feed(0, CallNotice::Released { call: CallId(1), cause: Some(1) }), ["tone 0/1 off"]);
}

/// A SIP callee's 183 without SDP has no media to join either: the ISDN caller gets PROGRESS #8
/// with our ringback behind it, which its 200 with SDP replaces.
#[test]
fn a_183_without_sdp_gets_our_ringback_too() {
    let mut r = Rig::new(vec![(1, "", 100)]);
    r.legs.sip_up = true;
    r.feed(0, offer(1, "2000", true));
    r.legs.sip_media_unknown.push(101);
    assert_eq!(sip_event(&mut r, 101, LegEvent::Progress), ["tone 0/1 ringback", "progress 1"]);
    assert_eq!(
        sip_event(&mut r, 101, LegEvent::Alerting { inband: true }),
        ["alerting 1 inband"],
        "the ringback goes on"
    );
    r.legs.sip_media_unknown.clear();
    assert_eq!(sip_event(&mut r, 101, LegEvent::Connected), ["tone 0/1 off", "connect 1", "rtp 0/1 101"]);
}

/// A SIP caller on a `ringback = "local"` trunk to an ISDN callee whose ALERTING carries no
/// progress indicator: 183 with our SDP and our ringback in its RTP (the zone of the callee's
/// span) until the CONNECT; a PROGRESS #8 (the callee's own tones) stops it as well; with
/// `ringback = "none"` (the default) it gets the 180 and no tone, and an ALERTING with #1/#8
/// gets the 180 on either trunk.
#[test]
fn a_sip_caller_on_a_local_ringback_trunk_hears_ours_until_connect() {
    let sip_offer = |r: &mut Rig| {
        let ev = LegEvent::Offer {
            from: Source::Trunk("t".into()),
            called: "2000".into(),
            calling: "0140".into(),
            complete: true,
        };
        sip_event(r, 7, ev)
    };
    let mut r = Rig::new(vec![(0, "", 2)]);
    r.legs.local_ringback = true;
    assert_eq!(sip_offer(&mut r), ["place span 2 2000 0140 -> 101", "proceeding 1007"]);
    let alert = CallNotice::Alerting { call: CallId(101), inband: false };
    assert_eq!(r.feed(1, alert.clone()), ["rtp 1/101 7", "rtp tone 7 1/101 ringback", "progress 1007"]);
    assert_eq!(r.feed(1, alert.clone()), ["progress 1007"], "a second ALERTING, the same tone");
    assert_eq!(r.feed(1, CallNotice::Connected { call: CallId(101) }), ["rtp tone 7 1/101 off", "connect 1007"]);
    assert_eq!(sip_event(&mut r, 7, LegEvent::Disconnected { cause: Some(16) }), ["hangup 101 16"]);
    assert_eq!(r.feed(1, CallNotice::Released { call: CallId(101), cause: Some(16) }), ["unrtp 7"]);

    // The callee's own in-band tones (PROGRESS #8 after the ALERTING) replace ours.
    let mut r = Rig::new(vec![(0, "", 2)]);
    r.legs.local_ringback = true;
    sip_offer(&mut r);
    r.feed(1, alert.clone());
    assert_eq!(r.feed(1, CallNotice::Progress { call: CallId(101) }), ["rtp tone 7 1/101 off", "progress 1007"]);
    // The caller giving up stops it too, before the leg's media go.
    let mut r = Rig::new(vec![(0, "", 2)]);
    r.legs.local_ringback = true;
    sip_offer(&mut r);
    r.feed(1, alert.clone());
    assert_eq!(
        sip_event(&mut r, 7, LegEvent::Disconnected { cause: Some(16) }),
        ["rtp tone 7 1/101 off", "hangup 101 16"]
    );

    // ringback = "none": the phone rings itself on a 180; and a callee with tones gets a 180.
    for (local, inband) in [(false, false), (true, true)] {
        let mut r = Rig::new(vec![(0, "", 2)]);
        r.legs.local_ringback = local;
        sip_offer(&mut r);
        let alert = CallNotice::Alerting { call: CallId(101), inband };
        assert_eq!(r.feed(1, alert), ["rtp 1/101 7", "alerting 1007"], "local {local}, inband {inband}");
    }
}

/// ISDN to ISDN: a called side whose ALERTING has no progress #1/#8 plays nothing, so the
/// caller gets ALERTING with #8 and our ringback on its B-channel (over the far side's silence)
/// until the CONNECT; with #8 the far side's own ringback is joined through and nothing of ours.
#[test]
fn an_isdn_caller_hears_our_ringback_when_the_isdn_callee_alerts_without_tones() {
    let mut r = Rig::new(vec![(1, "", 2)]);
    r.feed(0, offer(1, "2000", true));
    let alert = CallNotice::Alerting { call: CallId(101), inband: false };
    assert_eq!(r.feed(1, alert), ["join 0/1 1/101", "tone 0/1 ringback", "alerting 1 inband"]);
    assert_eq!(r.feed(1, CallNotice::Connected { call: CallId(101) }), ["tone 0/1 off", "connect 1"]);
    // A PROGRESS from the callee (its own tones now) stops ours.
    let mut r = Rig::new(vec![(1, "", 2)]);
    r.feed(0, offer(1, "2000", true));
    r.feed(1, CallNotice::Alerting { call: CallId(101), inband: false });
    assert_eq!(r.feed(1, CallNotice::Progress { call: CallId(101) }), ["tone 0/1 off", "progress 1"]);
    // The caller hanging up stops it as well.
    let mut r = Rig::new(vec![(1, "", 2)]);
    r.feed(0, offer(1, "2000", true));
    r.feed(1, CallNotice::Alerting { call: CallId(101), inband: false });
    assert_eq!(
        r.feed(0, CallNotice::Disconnected { call: CallId(1), cause: Some(16) }),
        ["tone 0/1 off", "hangup 101 16"]
    );
}
