//! The switch: joins an incoming call leg to an outgoing one chosen by the dial plan, carries
//! each leg's progress to the other, joins their media, and clears both together.
//!
//! Sans-IO like the stacks under it: the switch never touches a D-channel, a socket or the
//! media thread itself. The event loop feeds it each leg's [`CallNotice`] with
//! [`Switch::on_notice`], and the switch acts through the [`Legs`] trait, which the event loop
//! implements over its ISDN call controls and the media thread's cross-connect (and a mock in
//! the tests). The dial plan is the [`Dialplan`] trait: which destination a number goes to, and
//! the next one when that destination is congested.
//!
//! # Bridge states (one per call through the gateway)
//!
//! | State | Event | Action | Next |
//! |---|---|---|---|
//! | — | Offer on leg A, number complete, route found | place leg B; CALL PROCEEDING on A | `Outgoing` |
//! | — | Offer, number incomplete, plan says "more digits" | (SETUP ACK went out) | `Collecting` |
//! | — | Offer, no route | DISCONNECT A, cause 1 (unallocated number) | gone |
//! | `Collecting` | Digits / T302 expiry | route again (T302: as complete) | as above |
//! | `Outgoing` | B: PROCEEDING | — | `Outgoing` |
//! | `Collecting` | (offer with no digit yet, A on a network-side span) | dial tone on A | `Collecting` |
//! | `Collecting` | first Digits | stop the dial tone; route | as above |
//! | `Outgoing` | B: ALERTING / PROGRESS | join media; ALERTING / PROGRESS on A | `Outgoing` |
//! | `Outgoing` | B: ALERTING, media not joinable (SIP 180 without SDP), A is ISDN | ringback on A; ALERTING with progress #8 on A | `Outgoing` |
//! | `Outgoing` | B: PROGRESS, media not joinable (SIP 183 without SDP), A is ISDN | ringback on A; PROGRESS #8 on A | `Outgoing` |
//! | `Outgoing` | B: ALERTING (ISDN) without progress #1/#8, A is ISDN | ringback on A; ALERTING with progress #8 on A | `Outgoing` |
//! | `Outgoing` | B: ALERTING (ISDN) without progress #1/#8, A is SIP on a `ringback = "local"` trunk | ringback into A's RTP; 183 with SDP on A | `Outgoing` |
//! | `Outgoing` | B: PROGRESS / CONNECT with media | stop the ringback; as above | same |
//! | `Outgoing` | B: CONNECT | stop the ringback; CONNECT on A; join media | `Active` |
//! | `Outgoing` | B cleared with `fall_over` (cause 34/44, SIP 503) | place on the next route | `Outgoing` |
//! | `Outgoing` | B cleared, any other cause or no next route | clear A with B's cause (A on a network-side span: DISCONNECT with progress #8 and busy for #17, congestion otherwise) | `Clearing` |
//! | `Outgoing`/`Active` | A cleared | stop any tone; clear B with A's cause | `Clearing` |
//! | `Active` | B cleared | clear A with B's cause | `Clearing` |
//! | any | a leg released | stop A's tone when A goes; split media; forget the leg | gone once both are |
//!
//! Media are joined as soon as the far leg gives in-band information (ALERTING, PROGRESS or
//! CONNECT), so a caller hears the far network's ringback and announcements, as a transit
//! exchange does; a SIP leg whose codec is not settled yet (a 180 without SDP) is joined at its
//! next answer instead. Every call that ends writes one CDR line to the log (target `cdr`).
//!
//! Call-progress tones (`media_tones`, in the zone of A's span): where the far side gives no
//! in-band progress the gateway plays it to an ISDN caller, as an exchange does. Ringback
//! (ALERTING with progress indicator #8, so the caller connects its B-channel) on either side's
//! spans, since a called user may provide in-band information too; dial tone and the busy or
//! congestion tone after DISCONNECT only where we are the network (`*_net`): Q.931 §5.3.4.1 lets
//! only the network keep the B-channel after its DISCONNECT, until the user releases or T306
//! (30 s) runs out. On a user-side span the provider's exchange plays them from the cause.

use std::time::Instant;

use log::{info, warn};

use crate::isdn::calls::CallNotice;
use crate::isdn::CallId;
use crate::media::Endpoint;
pub use crate::routing::Source;
use crate::sip::ua::Handle;
pub use media_dsp::tones::Progress;

/// Normal call clearing.
const NORMAL_CLEARING: u8 = 16;
/// No circuit/channel available: every route was congested or refused.
const NO_CIRCUIT: u8 = 34;
/// User busy: the one cause that gets the busy tone (the others get congestion).
const USER_BUSY: u8 = 17;

/// A call leg: an ISDN call on the span at board node `node`, or a SIP call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegRef {
    Isdn { node: usize, call: CallId },
    Sip(Handle),
}

/// What happened to a leg, in the switch's terms (ISDN's `CallNotice`s and SIP's events both
/// map onto these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegEvent {
    /// A new incoming call from `from`; with `complete` false the number may still grow.
    Offer {
        from: Source,
        called: String,
        calling: String,
        complete: bool,
    },
    Digits {
        digits: String,
        complete: bool,
    },
    OverlapTimeout,
    Proceeding,
    /// ISDN: the ALERTING carried progress indicator #1 or #8 (the far side plays its ringback).
    /// SIP: always true, since whether the 180 brought media (SDP) says it.
    Alerting {
        inband: bool,
    },
    Progress,
    Connected,
    /// The far end cleared the leg (its release follows).
    Disconnected {
        cause: Option<u8>,
    },
    /// The leg is gone: the last event of every leg. `fall_over` says the far side refused for
    /// lack of room (ISDN causes 34/44, SIP 503), so an unanswered call may try the next route.
    Released {
        cause: Option<u8>,
        fall_over: bool,
    },
}

/// Where a route sends a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An ISDN span, by its number on the board; `channel` when the plan hunted one.
    Span { span: u32, channel: Option<u8> },
    /// A SIP trunk, by name.
    Trunk(String),
}

/// The dial plan's answer for a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Route `index` matches: send the call to `to` with the rewritten numbers.
    Route { index: usize, to: Destination, called: String, calling: String },
    /// Not yet: a route could still match with more digits (overlap receiving).
    NeedMore,
    /// No route will match this number: refuse the call with this Q.850 cause.
    NoMatch { cause: u8 },
    /// Routes matched, but none after the one asked about has room (or there is none).
    Exhausted,
}

/// The dial plan the switch asks.
pub trait Dialplan {
    /// The first route after `after` (all routes when `None`) for a call from `from`.
    /// With `complete` false the number may still grow, so `NeedMore` is a possible answer.
    /// `busy(span, channel)` says which B-channels are taken, for hunting.
    fn route(
        &mut self,
        from: &Source,
        called: &str,
        calling: &str,
        complete: bool,
        after: Option<usize>,
        busy: &dyn Fn(u32, u8) -> bool,
    ) -> Decision;
}

/// What the switch does to legs and media. The event loop implements it.
pub trait Legs {
    /// The span number of the span at `node`.
    fn span_number(&self, node: usize) -> Option<u32>;
    /// Places an ISDN call on span `span` (channel `channel` if given); the leg, or a Q.850
    /// cause when it cannot be placed.
    fn place_isdn(&mut self, span: u32, channel: Option<u8>, called: &str, calling: &str) -> Result<LegRef, u8>;
    /// Places a SIP call on trunk `trunk`; the leg, or a Q.850 cause.
    fn place_sip(&mut self, trunk: &str, called: &str, calling: &str) -> Result<LegRef, u8>;
    fn proceeding(&mut self, leg: LegRef);
    /// ALERTING (SIP: 180); with `inband`, ISDN's progress indicator #8 says in-band information
    /// (the ringback we play) is available.
    fn alerting(&mut self, leg: LegRef, inband: bool);
    fn progress(&mut self, leg: LegRef);
    /// Whether a SIP leg's trunk says `ringback = "local"`: its caller hears our ringback in
    /// its RTP (after a 183 with our SDP) rather than ringing locally on a 180.
    fn local_ringback(&self, leg: LegRef) -> bool;
    /// Plays call-progress tone `tone` (of the zone of `at`'s span) into the RTP stream of the
    /// SIP leg joined to bearer channel `at`, in place of the channel's audio, or stops it
    /// (`None`); false when nothing is played.
    fn rtp_tone(&mut self, sip: Handle, at: Endpoint, tone: Option<Progress>) -> bool;
    fn connect(&mut self, leg: LegRef);
    /// Clears the leg with a Q.850 cause (DISCONNECT, or RELEASE when already clearing).
    fn hangup(&mut self, leg: LegRef, cause: u8);
    /// Whether the leg is an ISDN call on a span where we are the network side.
    fn network_side(&self, leg: LegRef) -> bool;
    /// Clears a network-side ISDN leg with DISCONNECT and progress indicator #8, keeping its
    /// B-channel for a tone; false (nothing done) when the leg cannot be cleared so.
    fn hangup_inband(&mut self, leg: LegRef, cause: u8) -> bool;
    /// Plays call-progress tone `tone` of the zone of `at`'s span on bearer channel `at`, or
    /// stops it (`None`); false when nothing is played (no tone table for the zone).
    fn tone(&mut self, at: Endpoint, tone: Option<Progress>) -> bool;
    /// Whether B-channel `channel` of span `span` is taken (by a call or a restart).
    fn busy(&self, span: u32, channel: u8) -> bool;
    /// The bearer channel a leg holds, once it has one.
    fn channel(&self, leg: LegRef) -> Option<Endpoint>;
    /// Joins two bearer channels (media both ways).
    fn join(&mut self, a: Endpoint, b: Endpoint);
    /// Undoes `join`.
    fn split(&mut self, a: Endpoint, b: Endpoint);
    /// Joins a bearer channel to a SIP leg's RTP; false while the leg's media are not known yet
    /// (an outgoing leg before an answer with SDP), so the switch tries again at the next answer.
    fn join_rtp(&mut self, a: Endpoint, sip: Handle) -> bool;
    /// Undoes `join_rtp`.
    fn split_rtp(&mut self, sip: Handle);
}

/// How a bridge's media are joined, to undo it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Joined {
    Channels(Endpoint, Endpoint),
    Rtp(Handle),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Collecting,
    Outgoing,
    Active,
    Clearing,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Collecting => "collecting",
            State::Outgoing => "outgoing",
            State::Active => "active",
            State::Clearing => "clearing",
        }
    }
}

/// One call through the gateway.
#[derive(Debug)]
struct Bridge {
    id: u64,
    state: State,
    /// Where the incoming leg came from.
    from: Source,
    /// The incoming leg; `None` once released.
    a: Option<LegRef>,
    /// The outgoing leg; `None` before it is placed and once released.
    b: Option<LegRef>,
    /// The numbers as received (the dial plan rewrites a copy per route).
    called: String,
    calling: String,
    /// The route the current outgoing leg took, for the fall-over to the next one.
    route: Option<usize>,
    /// Where the outgoing leg went, for the status and the CDR.
    to: Option<Destination>,
    /// How the media are joined, to split them again.
    joined: Option<Joined>,
    /// The call-progress tone played to the incoming leg, on its channel (kept to stop it after
    /// the leg is gone).
    tone: Option<(Endpoint, Progress)>,
    /// Our ringback played into a SIP caller's RTP (`ringback = "local"`), from the callee's
    /// channel, to stop it.
    rtp_tone: Option<(Handle, Endpoint)>,
    started: Instant,
    answered: Option<Instant>,
    /// The cause the call ended with (the first leg's to clear).
    cause: Option<u8>,
}

/// A call through the gateway, for the status page.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BridgeSnap {
    pub id: u64,
    pub state: &'static str,
    /// `span:N` or `trunk:NAME`.
    pub from: String,
    pub to: String,
    pub called: String,
    pub calling: String,
    pub seconds: u64,
    pub answered: bool,
    /// The incoming and the outgoing leg, for the daemon to add their media figures (the switch
    /// knows no sockets or channels).
    #[serde(skip)]
    pub leg_refs: [Option<LegRef>; 2],
    /// Each live leg's media figures, incoming first; filled by the daemon.
    pub legs: Vec<crate::sipnet_rtcp::LegMedia>,
}

/// Counters for the status page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SwitchCounters {
    pub offered: u64,
    pub routed: u64,
    pub answered: u64,
    pub no_route: u64,
    pub fall_overs: u64,
    pub failed: u64,
}

/// Every call through the gateway.
#[derive(Debug, Default)]
pub struct Switch {
    bridges: Vec<Bridge>,
    next_id: u64,
    pub counters: SwitchCounters,
}

impl Switch {
    pub fn new() -> Switch {
        Switch { bridges: Vec::new(), next_id: 1, counters: SwitchCounters::default() }
    }

    /// Calls in progress.
    pub fn active(&self) -> usize {
        self.bridges.len()
    }

    /// A notice of the ISDN call control of the span at board node `node`.
    pub fn on_notice(
        &mut self,
        now: Instant,
        node: usize,
        notice: CallNotice,
        plan: &mut dyn Dialplan,
        legs: &mut dyn Legs,
    ) {
        let isdn = |call: CallId| LegRef::Isdn { node, call };
        let (leg, event) = match notice {
            CallNotice::Offer { call, called, calling, complete, .. } => {
                let Some(span) = legs.span_number(node) else { return };
                (isdn(call), LegEvent::Offer { from: Source::Span(span), called, calling, complete })
            }
            CallNotice::Digits { call, digits, complete } => (isdn(call), LegEvent::Digits { digits, complete }),
            CallNotice::OverlapTimeout { call } => (isdn(call), LegEvent::OverlapTimeout),
            CallNotice::Proceeding { call } => (isdn(call), LegEvent::Proceeding),
            CallNotice::Alerting { call, inband } => (isdn(call), LegEvent::Alerting { inband }),
            CallNotice::Progress { call } => (isdn(call), LegEvent::Progress),
            CallNotice::Connected { call } => (isdn(call), LegEvent::Connected),
            CallNotice::Disconnected { call, cause } => (isdn(call), LegEvent::Disconnected { cause }),
            CallNotice::Released { call, cause } => {
                let fall_over = cause.is_some_and(crate::routing::is_fall_over_cause);
                (isdn(call), LegEvent::Released { cause, fall_over })
            }
        };
        self.on_event(now, leg, event, plan, legs);
    }

    /// What happened to leg `leg`, whatever its kind.
    pub fn on_event(
        &mut self,
        now: Instant,
        leg: LegRef,
        event: LegEvent,
        plan: &mut dyn Dialplan,
        legs: &mut dyn Legs,
    ) {
        match event {
            LegEvent::Offer { from, called, calling, complete } => {
                self.counters.offered += 1;
                let id = self.next_id;
                self.next_id += 1;
                self.bridges.push(Bridge {
                    id,
                    state: State::Collecting,
                    from,
                    a: Some(leg),
                    b: None,
                    called,
                    calling,
                    route: None,
                    to: None,
                    joined: None,
                    tone: None,
                    rtp_tone: None,
                    started: now,
                    answered: None,
                    cause: None,
                });
                let i = self.bridges.len() - 1;
                self.route(i, complete, plan, legs);
                // Overlap receiving with no digit yet: the caller dials to a dial tone.
                let b = &self.bridges[i];
                if b.state == State::Collecting && b.called.is_empty() && legs.network_side(leg) {
                    self.set_tone(i, Some(Progress::Dial), legs);
                }
            }
            LegEvent::Digits { digits, complete } => {
                let Some(i) = self.find_a(leg) else { return };
                if self.bridges[i].state == State::Collecting {
                    if !digits.is_empty() {
                        self.set_tone(i, None, legs);
                    }
                    self.bridges[i].called.push_str(&digits);
                    self.route(i, complete, plan, legs);
                }
            }
            LegEvent::OverlapTimeout => {
                if let Some(i) = self.find_a(leg) {
                    if self.bridges[i].state == State::Collecting {
                        self.route(i, true, plan, legs);
                    }
                }
            }
            LegEvent::Proceeding => {}
            LegEvent::Alerting { .. } | LegEvent::Progress => {
                let Some(i) = self.find_b(leg) else { return };
                if self.bridges[i].state == State::Outgoing {
                    self.join(i, legs);
                    // An ALERTING without progress #1/#8 says the far side plays nothing.
                    let inband =
                        self.bridges[i].joined.is_some() && !matches!(event, LegEvent::Alerting { inband: false });
                    if inband {
                        // The far side's own audio (its ringback, an announcement) replaces ours.
                        self.set_tone(i, None, legs);
                        self.set_rtp_tone(i, false, legs);
                    }
                    let Some(a) = self.bridges[i].a else { return };
                    if matches!(event, LegEvent::Alerting { .. }) {
                        // Nothing in band from the far side: the caller hears our ringback.
                        let ours = !inband
                            && matches!(a, LegRef::Isdn { .. })
                            && self.set_tone(i, Some(Progress::Ringback), legs);
                        if !inband
                            && matches!(a, LegRef::Sip(_))
                            && legs.local_ringback(a)
                            && self.set_rtp_tone(i, true, legs)
                        {
                            // 183 with our SDP: the phone plays the RTP instead of ringing itself.
                            legs.progress(a);
                        } else {
                            legs.alerting(a, ours);
                        }
                    } else {
                        // A 183 without SDP brings nothing in band either: PROGRESS #8 then
                        // announces our ringback rather than silence.
                        if !inband && matches!(a, LegRef::Isdn { .. }) {
                            self.set_tone(i, Some(Progress::Ringback), legs);
                        }
                        legs.progress(a);
                    }
                }
            }
            LegEvent::Connected => {
                let Some(i) = self.find_b(leg) else { return };
                if self.bridges[i].state == State::Outgoing {
                    self.set_tone(i, None, legs);
                    self.set_rtp_tone(i, false, legs);
                    self.counters.answered += 1;
                    let b = &mut self.bridges[i];
                    b.state = State::Active;
                    b.answered = Some(now);
                    if let Some(a) = b.a {
                        legs.connect(a);
                    }
                    self.join(i, legs);
                }
            }
            LegEvent::Disconnected { cause } => {
                if let Some(i) = self.find_a(leg) {
                    self.set_tone(i, None, legs);
                    self.set_rtp_tone(i, false, legs);
                    let b = &mut self.bridges[i];
                    b.cause = b.cause.or(cause);
                    if b.state != State::Clearing {
                        b.state = State::Clearing;
                        if let Some(out) = b.b {
                            legs.hangup(out, cause.unwrap_or(NORMAL_CLEARING));
                        }
                    }
                } else if let Some(i) = self.find_b(leg) {
                    let fall_over = cause.is_some_and(crate::routing::is_fall_over_cause);
                    self.outgoing_cleared(i, cause, fall_over, plan, legs);
                }
            }
            LegEvent::Released { cause, fall_over } => {
                if let Some(i) = self.find_a(leg) {
                    self.set_tone(i, None, legs);
                    self.split(i, legs);
                    let b = &mut self.bridges[i];
                    b.cause = b.cause.or(cause);
                    b.a = None;
                    if b.state != State::Clearing {
                        b.state = State::Clearing;
                        if let Some(out) = b.b {
                            legs.hangup(out, cause.unwrap_or(NORMAL_CLEARING));
                        }
                    }
                } else if let Some(i) = self.find_b(leg) {
                    // A RELEASE without DISCONNECT clears the leg as well: the same handling,
                    // then the leg is gone.
                    if self.bridges[i].state != State::Clearing {
                        self.outgoing_cleared(i, cause, fall_over, plan, legs);
                    }
                    let b = &mut self.bridges[i];
                    if b.b == Some(leg) {
                        b.b = None;
                        self.split(i, legs);
                    }
                } else {
                    return;
                }
                self.reap(now);
            }
        }
    }

    /// The outgoing leg of bridge `i` was cleared: fall over to the next route on congestion
    /// (`fall_over`) before answer, clear the incoming leg otherwise.
    fn outgoing_cleared(
        &mut self,
        i: usize,
        cause: Option<u8>,
        fall_over: bool,
        plan: &mut dyn Dialplan,
        legs: &mut dyn Legs,
    ) {
        let b = &mut self.bridges[i];
        if b.state == State::Outgoing && fall_over {
            self.split(i, legs);
            self.bridges[i].b = None;
            self.counters.fall_overs += 1;
            self.place_next(i, plan, legs);
            return;
        }
        let b = &mut self.bridges[i];
        b.cause = b.cause.or(cause);
        if b.state != State::Clearing {
            let answered = b.state == State::Active;
            b.state = State::Clearing;
            let cause = cause.unwrap_or(NORMAL_CLEARING);
            if answered {
                if let Some(a) = b.a {
                    legs.hangup(a, cause);
                }
            } else {
                self.clear_caller(i, cause, legs);
            }
        }
    }

    /// Clears bridge `i`'s unanswered incoming leg with `cause`: where we are the network, with
    /// DISCONNECT and progress indicator #8 and the busy (cause 17) or congestion tone on its
    /// channel until it releases (§5.3.4.1); otherwise with a plain DISCONNECT.
    fn clear_caller(&mut self, i: usize, cause: u8, legs: &mut dyn Legs) {
        self.set_rtp_tone(i, false, legs);
        let Some(a) = self.bridges[i].a else { return };
        let at = self.bridges[i].tone.map(|(at, _)| at).or_else(|| legs.channel(a));
        if at.is_some() && legs.network_side(a) && legs.hangup_inband(a, cause) {
            let tone = if cause == USER_BUSY { Progress::Busy } else { Progress::Congestion };
            if !self.set_tone(i, Some(tone), legs) {
                self.set_tone(i, None, legs);
            }
        } else {
            self.set_tone(i, None, legs);
            legs.hangup(a, cause);
        }
    }

    /// Plays `tone` to bridge `i`'s incoming leg (replacing the one playing), or stops it; true
    /// when the tone plays.
    fn set_tone(&mut self, i: usize, tone: Option<Progress>, legs: &mut dyn Legs) -> bool {
        let b = &mut self.bridges[i];
        if b.tone.map(|(_, t)| t) == tone {
            return tone.is_some();
        }
        let at = b.tone.map(|(at, _)| at).or_else(|| b.a.and_then(|a| legs.channel(a)));
        let Some(at) = at else { return false };
        match tone {
            Some(t) if legs.tone(at, Some(t)) => {
                b.tone = Some((at, t));
                true
            }
            _ => {
                if b.tone.take().is_some() {
                    legs.tone(at, None);
                }
                false
            }
        }
    }

    /// Starts (`on`) or stops our ringback in bridge `i`'s SIP caller's RTP, played from the
    /// callee's channel joined to it; true when it plays.
    fn set_rtp_tone(&mut self, i: usize, on: bool, legs: &mut dyn Legs) -> bool {
        let b = &mut self.bridges[i];
        if b.rtp_tone.is_some() == on {
            return on;
        }
        if let Some((h, at)) = b.rtp_tone.take() {
            legs.rtp_tone(h, at, None);
            return false;
        }
        let (Some(Joined::Rtp(h)), Some(out)) = (b.joined, b.b) else { return false };
        let Some(at) = legs.channel(out) else { return false };
        if legs.rtp_tone(h, at, Some(Progress::Ringback)) {
            b.rtp_tone = Some((h, at));
            return true;
        }
        false
    }

    /// Asks the dial plan about bridge `i`'s number (from the first route).
    fn route(&mut self, i: usize, complete: bool, plan: &mut dyn Dialplan, legs: &mut dyn Legs) {
        let b = &self.bridges[i];
        let busy = |span: u32, ch: u8| legs.busy(span, ch);
        match plan.route(&b.from, &b.called, &b.calling, complete, None, &busy) {
            Decision::NeedMore if !complete => {}
            Decision::NeedMore | Decision::NoMatch { .. } => {
                info!("call {}: no route for {:?} from {}", b.id, b.called, source_name(&b.from));
                self.counters.no_route += 1;
                // T302 ran out on a number that could still grow: unallocated as well.
                let cause = match plan.route(&b.from, &b.called, &b.calling, true, None, &busy) {
                    Decision::NoMatch { cause } => cause,
                    _ => 1,
                };
                self.fail(i, cause, legs);
            }
            Decision::Exhausted => {
                info!("call {}: every route for {:?} is busy", self.bridges[i].id, self.bridges[i].called);
                self.fail(i, NO_CIRCUIT, legs);
            }
            Decision::Route { index, to, called, calling } => {
                self.counters.routed += 1;
                if !self.place(i, index, to, &called, &calling, legs) {
                    self.place_next(i, plan, legs);
                }
            }
        }
    }

    /// Tries the routes after the current one until a leg is placed or none is left.
    fn place_next(&mut self, i: usize, plan: &mut dyn Dialplan, legs: &mut dyn Legs) {
        loop {
            let b = &self.bridges[i];
            let busy = |span: u32, ch: u8| legs.busy(span, ch);
            match plan.route(&b.from, &b.called, &b.calling, true, b.route, &busy) {
                Decision::Route { index, to, called, calling } => {
                    if self.place(i, index, to, &called, &calling, legs) {
                        return;
                    }
                }
                Decision::NeedMore | Decision::NoMatch { .. } | Decision::Exhausted => {
                    let b = &self.bridges[i];
                    info!("call {}: every route for {:?} is busy or refused", b.id, b.called);
                    self.fail(i, NO_CIRCUIT, legs);
                    return;
                }
            }
        }
    }

    /// Places bridge `i`'s outgoing leg by route `index`; false when it could not be placed.
    fn place(
        &mut self,
        i: usize,
        index: usize,
        to: Destination,
        called: &str,
        calling: &str,
        legs: &mut dyn Legs,
    ) -> bool {
        let b = &mut self.bridges[i];
        b.route = Some(index);
        let placed = match &to {
            Destination::Span { span, channel } => legs.place_isdn(*span, *channel, called, calling),
            Destination::Trunk(t) => legs.place_sip(t, called, calling),
        };
        match placed {
            Ok(leg) => {
                info!(
                    "call {}: {:?} from {} -> {} via route {index} as {called:?}",
                    b.id,
                    b.called,
                    source_name(&b.from),
                    dest_name(&to)
                );
                b.b = Some(leg);
                b.to = Some(to);
                if b.state == State::Collecting {
                    b.state = State::Outgoing;
                    if let Some(a) = b.a {
                        legs.proceeding(a);
                    }
                    self.set_tone(i, None, legs);
                }
                true
            }
            Err(cause) => {
                warn!("call {}: route {index} to {} refused with cause {cause}", b.id, dest_name(&to));
                false
            }
        }
    }

    fn fail(&mut self, i: usize, cause: u8, legs: &mut dyn Legs) {
        self.counters.failed += 1;
        let b = &mut self.bridges[i];
        b.state = State::Clearing;
        b.cause = Some(cause);
        self.clear_caller(i, cause, legs);
    }

    fn join(&mut self, i: usize, legs: &mut dyn Legs) {
        let b = &mut self.bridges[i];
        if b.joined.is_some() {
            return;
        }
        let (Some(a), Some(out)) = (b.a, b.b) else { return };
        match (a, out) {
            (LegRef::Sip(h), isdn) | (isdn, LegRef::Sip(h)) => {
                if let Some(c) = legs.channel(isdn) {
                    if legs.join_rtp(c, h) {
                        b.joined = Some(Joined::Rtp(h));
                    }
                }
            }
            _ => {
                if let (Some(ca), Some(cb)) = (legs.channel(a), legs.channel(out)) {
                    legs.join(ca, cb);
                    b.joined = Some(Joined::Channels(ca, cb));
                }
            }
        }
    }

    fn split(&mut self, i: usize, legs: &mut dyn Legs) {
        self.set_rtp_tone(i, false, legs);
        match self.bridges[i].joined.take() {
            Some(Joined::Channels(a, b)) => legs.split(a, b),
            Some(Joined::Rtp(h)) => legs.split_rtp(h),
            None => {}
        }
    }

    /// Forgets bridges whose legs are both gone, with a CDR line each.
    fn reap(&mut self, now: Instant) {
        self.bridges.retain(|b| {
            let done = b.a.is_none() && b.b.is_none();
            if done {
                let talk = b.answered.map_or(0, |t| now.duration_since(t).as_secs());
                let total = now.duration_since(b.started).as_millis();
                let to = b.to.as_ref().map_or_else(|| "-".to_owned(), dest_name);
                info!(
                    target: "cdr",
                    "call={} from={} to={to} calling={:?} called={:?} answered={} talk_s={talk} total_ms={total} cause={}",
                    b.id,
                    source_name(&b.from),
                    b.calling,
                    b.called,
                    b.answered.is_some(),
                    b.cause.map_or_else(|| "-".to_owned(), |c| c.to_string()),
                );
            }
            !done
        });
    }

    fn find_a(&self, leg: LegRef) -> Option<usize> {
        self.bridges.iter().position(|b| b.a == Some(leg))
    }

    fn find_b(&self, leg: LegRef) -> Option<usize> {
        self.bridges.iter().position(|b| b.b == Some(leg))
    }

    /// The calls through the gateway now.
    pub fn snapshot(&self, now: Instant) -> Vec<BridgeSnap> {
        self.bridges
            .iter()
            .map(|b| BridgeSnap {
                id: b.id,
                state: b.state.name(),
                from: source_name(&b.from),
                to: b.to.as_ref().map_or_else(String::new, dest_name),
                called: b.called.clone(),
                calling: b.calling.clone(),
                seconds: now.duration_since(b.started).as_secs(),
                answered: b.answered.is_some(),
                leg_refs: [b.a, b.b],
                legs: Vec::new(),
            })
            .collect()
    }
}

fn source_name(s: &Source) -> String {
    match s {
        Source::Span(n) => format!("span:{n}"),
        Source::Trunk(t) => format!("trunk:{t}"),
    }
}

fn dest_name(d: &Destination) -> String {
    match d {
        Destination::Span { span, .. } => format!("span:{span}"),
        Destination::Trunk(t) => format!("trunk:{t}"),
    }
}

mod legs;
mod plan;

pub use legs::{tone_zones, DaemonLegs};
pub use plan::ConfigPlan;

#[cfg(test)]
mod tests;
