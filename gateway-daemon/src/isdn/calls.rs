//! Layer 3 on a live D-channel: the glue between one span's [`Q921`] entity and its [`Q931`]
//! entity, the span's policy for incoming calls, and what the status page shows of the calls.
//!
//! [`super::dchan::DchanStack`] owns one [`CallControl`] and hands it every Q.921 event
//! ([`CallControl::dl_event`]); [`CallControl::pump`] then moves Q.931's output down as
//! DL-DATA / DL-UNIT-DATA requests and acts on Q.931's events. Both machines stay sans-IO: this
//! glue only moves primitives between them, the D-channel and the clock stay in `dchan`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use log::{info, warn};
use provisioning::{Incoming, Signalling, SpanCfg};

use super::q921::{DlData, RequestError, Role};
use super::q931::{Interface, RestartTarget, Side, Timers};
use super::{CallId, Q921Event, Q931Config, Q931Error, Q931Event, SetupRequest, Q921, Q931};
use crate::status::{CallSnap, ClearedCallSnap};

/// How many ended calls the status keeps, so a test or an operator sees why the last ones ended.
const CLEARED_KEPT: usize = 16;
/// Sent in DISCONNECT when the API gives no cause: normal call clearing.
pub const NORMAL_CLEARING: u8 = 16;

/// The Q.931 parameters of a span: the side from its signalling, the interface from its kind.
pub fn q931_config(span: &SpanCfg) -> Option<Q931Config> {
    let side = match span.signalling {
        Signalling::PriCpe | Signalling::BriCpe | Signalling::BriCpePtmp => Side::User,
        Signalling::PriNet | Signalling::BriNet | Signalling::BriNetPtmp => Side::Network,
        _ => return None,
    };
    let mut cfg = match span.signalling {
        Signalling::PriCpe | Signalling::PriNet => Q931Config::pri(side),
        s => Q931Config::bri(side, matches!(s, Signalling::BriCpePtmp | Signalling::BriNetPtmp)),
    };
    if span.hal.kind == hal::SpanKind::T1 {
        cfg.interface = Interface::PrimaryT1;
    }
    apply_timers(&mut cfg.timers, &span.timers);
    Some(cfg)
}

/// The stack's Q.931 timers that a span's `timers` can set, in the order of
/// `provisioning::IsdnTimers::KEYS`.
fn settable(t: &mut Timers) -> [&mut Duration; 9] {
    [
        &mut t.t301,
        &mut t.t302,
        &mut t.t303,
        &mut t.t305,
        &mut t.t308,
        &mut t.t309,
        &mut t.t310,
        &mut t.t313,
        &mut t.t316,
    ]
}

/// A span's `timers` over Q.931's defaults (provisioning checked each value's range).
fn apply_timers(t: &mut Timers, set: &provisioning::IsdnTimers) {
    for (slot, ms) in settable(t).into_iter().zip(set.values()) {
        if let Some(ms) = ms {
            *slot = Duration::from_millis(u64::from(ms));
        }
    }
}

/// The simulated far end's call control: the other side, same interface.
pub fn far_end_q931_config(ours: &Q931Config) -> Q931Config {
    let side = match ours.side {
        Side::User => Side::Network,
        Side::Network => Side::User,
    };
    // The span's `timers` are our stack's; the simulated far end runs Q.931's defaults.
    Q931Config { side, timers: Timers::default(), ..*ours }
}

/// What the gateway knows of a call beyond Q.931's state.
#[derive(Debug, Clone)]
struct CallMeta {
    called: String,
    calling: String,
    outgoing: bool,
    connected: bool,
    /// The cause the peer gave when it cleared, kept for RELEASE, which may carry none.
    cause: Option<u8>,
    /// The switch placed this call, so it hears of its progress even on a span that is only a
    /// destination of routes (not routed itself).
    switched: bool,
    /// The peer's DISCONNECT announced in-band tones (progress indicator #8).
    inband_tones: bool,
}

/// What the call control tells the switch about a call of a routed span (see
/// [`CallControl::set_routed`]): the call's life as the switch needs it, in Q.931's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallNotice {
    /// An incoming call to route: with `complete` false the number may still grow (overlap
    /// receiving; SETUP ACKNOWLEDGE went out), by `Digits`, until T302 (`OverlapTimeout`).
    Offer {
        call: CallId,
        called: String,
        calling: String,
        channel: Option<u8>,
        complete: bool,
    },
    Digits {
        call: CallId,
        digits: String,
        complete: bool,
    },
    OverlapTimeout {
        call: CallId,
    },
    Proceeding {
        call: CallId,
    },
    Alerting {
        call: CallId,
        /// Progress indicator #1 or #8: the far side gives in-band tones (its ringback).
        inband: bool,
    },
    /// A PROGRESS with indicator #1 or #8: the far side's tones are on the B-channel now.
    Progress {
        call: CallId,
    },
    Connected {
        call: CallId,
    },
    /// The peer cleared the call (RELEASE already went back) or a timer did.
    Disconnected {
        call: CallId,
        cause: Option<u8>,
    },
    /// The call is gone and its channel free: the last notice of every call.
    Released {
        call: CallId,
        cause: Option<u8>,
    },
}

impl CallNotice {
    /// The call the notice is about.
    pub fn call(&self) -> CallId {
        match self {
            CallNotice::Offer { call, .. }
            | CallNotice::Digits { call, .. }
            | CallNotice::OverlapTimeout { call }
            | CallNotice::Proceeding { call }
            | CallNotice::Alerting { call, .. }
            | CallNotice::Progress { call }
            | CallNotice::Connected { call }
            | CallNotice::Disconnected { call, .. }
            | CallNotice::Released { call, .. } => *call,
        }
    }
}

/// One D-channel's call control and the span's policy for incoming calls.
pub struct CallControl {
    label: String,
    q931: Q931,
    incoming: Incoming,
    /// The span's `overlapdial` covers incoming calls: a SETUP without sending complete gets
    /// SETUP ACKNOWLEDGE and the number grows by INFORMATION until complete or T302.
    overlap_receiving: bool,
    meta: HashMap<CallId, CallMeta>,
    cleared: VecDeque<ClearedCallSnap>,
    /// Incoming calls go to the switch (`notices`) rather than to the `incoming` policy.
    routed: bool,
    notices: VecDeque<CallNotice>,
}

impl CallControl {
    pub fn new(label: String, config: Q931Config, incoming: Incoming) -> CallControl {
        CallControl {
            label,
            q931: Q931::new(config),
            incoming,
            overlap_receiving: false,
            meta: HashMap::new(),
            cleared: VecDeque::new(),
            routed: false,
            notices: VecDeque::new(),
        }
    }

    /// Hands incoming calls to the switch (the config has routes from this span) instead of
    /// applying the span's `incoming` policy, and reports every call's progress as notices.
    pub fn set_routed(&mut self, on: bool) {
        self.routed = on;
    }

    /// The next notice for the switch (routed spans only).
    pub fn poll_notice(&mut self) -> Option<CallNotice> {
        self.notices.pop_front()
    }

    fn notify(&mut self, notice: CallNotice) {
        if self.routed || self.meta.get(&notice.call()).is_some_and(|m| m.switched) {
            self.notices.push_back(notice);
        }
    }

    /// Reports call `call` to the switch, which placed it, even when this span is not routed.
    pub fn report_to_switch(&mut self, call: CallId) {
        if let Some(m) = self.meta.get_mut(&call) {
            m.switched = true;
        }
    }

    /// Takes incoming numbers digit by digit (chan_dahdi's `overlapdial = incoming | both`).
    pub fn set_overlap_receiving(&mut self, on: bool) {
        self.overlap_receiving = on;
    }

    /// Hands Q.931 a DL-DATA- or DL-UNIT-DATA-indication lent by `Q921::handle_frame`.
    pub fn dl_data(&mut self, now: Instant, data: DlData<'_>) {
        self.q931.handle_dl_data(now, data.tei, data.data);
    }

    /// Hands a data-link event to Q.931 (DL-DATA, DL-UNIT-DATA, DL-ESTABLISH, DL-RELEASE).
    pub fn dl_event(&mut self, now: Instant, event: &Q921Event) {
        match event {
            Q921Event::DataIndication { tei, data } => self.q931.handle_dl_data(now, tei.unwrap_or(0), data),
            // On the user side Q.931 tells a broadcast SETUP by TEI 127.
            Q921Event::UnitDataIndication { tei, data } => self.q931.handle_dl_data(now, tei.unwrap_or(127), data),
            Q921Event::EstablishIndication { tei: Some(t) } | Q921Event::EstablishConfirm { tei: Some(t) } => {
                self.q931.handle_dl_established(now, *t);
            }
            Q921Event::IFramesDiscarded { tei: Some(t) } => self.q931.handle_dl_reset(now, *t),
            Q921Event::ReleaseIndication { tei: Some(t) }
            | Q921Event::ReleaseConfirm { tei: Some(t) }
            | Q921Event::TeiRemoved { tei: t } => self.q931.handle_dl_released(now, *t),
            _ => {}
        }
    }

    /// Sends what Q.931 queued through `q921` and acts on its events; true when anything moved
    /// (the caller then drains Q.921 again).
    pub fn pump(&mut self, now: Instant, q921: &mut Q921) -> bool {
        let mut moved = false;
        loop {
            let mut busy = false;
            // The message is lent by Q.931, so only the label is borrowed beside it.
            while let Some((tei, data)) = self.q931.poll_transmit() {
                busy = true;
                dl_send(&self.label, q921, now, tei, data);
            }
            while let Some(event) = self.q931.poll_event() {
                busy = true;
                self.event(now, event);
            }
            if !busy {
                return moved;
            }
            moved = true;
        }
    }

    fn event(&mut self, now: Instant, event: Q931Event) {
        // An incoming SETUP is logged once, with its numbers, below.
        if !matches!(event, Q931Event::IncomingSetup { .. }) {
            info!("{}: {event}", self.label);
        }
        match event {
            Q931Event::IncomingSetup { call, sending_complete, .. } => {
                // The numbers are read from the SETUP the call keeps (one walk per incoming call).
                let setup = self.q931.setup_message(call);
                let digits = |n: Option<super::q931::PartyNumber>| n.map(|n| n.digits.into()).unwrap_or_default();
                let called: String = digits(setup.and_then(|m| m.called()));
                let calling: String = digits(setup.and_then(|m| m.calling()));
                info!("{}: {event} called={called} calling={calling}", self.label);
                let meta = CallMeta {
                    called,
                    calling,
                    outgoing: false,
                    connected: false,
                    cause: None,
                    switched: false,
                    inband_tones: false,
                };
                let complete = sending_complete || !self.overlap_receiving;
                if self.routed {
                    // The switch's dial plan says when the number is complete; in overlap
                    // receiving SETUP ACKNOWLEDGE asks for more meanwhile (§5.2.4).
                    if !complete {
                        if let Err(e) = self.q931.setup_ack(now, call) {
                            warn!("{}: {call}: SETUP ACKNOWLEDGE: {e}", self.label);
                        }
                    }
                    let channel = self.q931.call(call).and_then(|c| c.channel);
                    let (called, calling) = (meta.called.clone(), meta.calling.clone());
                    self.meta.insert(call, meta);
                    self.notify(CallNotice::Offer { call, called, calling, channel, complete });
                    return;
                }
                self.meta.insert(call, meta);
                // Without overlap receiving a number is taken as complete as it came (en bloc).
                // With it, there is no dial plan to say when a number is complete: sending
                // complete or T302 does (§5.2.4).
                if complete {
                    self.offer(now, call);
                } else if let Err(e) = self.q931.setup_ack(now, call) {
                    warn!("{}: {call}: SETUP ACKNOWLEDGE: {e}", self.label);
                }
            }
            Q931Event::Information { call, digits, complete } => {
                if let Some(m) = self.meta.get_mut(&call) {
                    m.called.push_str(&digits);
                }
                if self.routed {
                    self.notify(CallNotice::Digits { call, digits, complete });
                } else if complete {
                    self.offer(now, call);
                }
            }
            Q931Event::OverlapTimeout { call } if self.routed => self.notify(CallNotice::OverlapTimeout { call }),
            Q931Event::OverlapTimeout { call } => self.offer(now, call),
            Q931Event::Proceeding { call } => self.notify(CallNotice::Proceeding { call }),
            Q931Event::Alerting { call, inband } => self.notify(CallNotice::Alerting { call, inband }),
            // Progress indicator #2, #3, #4...: where the call went, nothing to hear; the
            // ringback we may be playing goes on.
            Q931Event::Progress { inband: false, .. } => {}
            Q931Event::Progress { call, inband: true } => {
                if self.q931.call(call).is_some_and(|c| c.state.clearing()) {
                    // A DISCONNECT with in-band tones follows (§5.3.4.1): remember to listen.
                    if let Some(m) = self.meta.get_mut(&call) {
                        m.inband_tones = true;
                    }
                } else {
                    self.notify(CallNotice::Progress { call });
                }
            }
            Q931Event::Connected { call } => {
                if let Some(m) = self.meta.get_mut(&call) {
                    m.connected = true;
                }
                self.notify(CallNotice::Connected { call });
            }
            Q931Event::Disconnected { call, cause: value } => {
                if let Some(m) = self.meta.get_mut(&call) {
                    m.cause = m.cause.or(value);
                }
                self.notify(CallNotice::Disconnected { call, cause: value });
                // A span without routing (a simulated far end, a test line) is a user who listens
                // to the network's busy tone until told to hang up; the network's T306 bounds it.
                if !self.routed && self.meta.get(&call).is_some_and(|m| m.inband_tones) {
                    info!("{}: {call}: listening to the in-band tone until hang-up", self.label);
                    return;
                }
                // Nothing holds the call up (no routing yet): release at once with their cause.
                if let Err(e) = self.q931.release(now, call, value.unwrap_or(NORMAL_CLEARING)) {
                    warn!("{}: {call}: RELEASE: {e}", self.label);
                }
            }
            Q931Event::Released { call, cause } => {
                let cause = cause.or(self.meta.get(&call).and_then(|m| m.cause));
                self.notify(CallNotice::Released { call, cause });
                let meta = self.meta.remove(&call);
                let m = meta.unwrap_or(CallMeta {
                    called: String::new(),
                    calling: String::new(),
                    outgoing: false,
                    connected: false,
                    cause: None,
                    switched: false,
                    inband_tones: false,
                });
                if self.cleared.len() == CLEARED_KEPT {
                    self.cleared.pop_front();
                }
                self.cleared.push_back(ClearedCallSnap {
                    id: call.0,
                    called: m.called,
                    calling: m.calling,
                    direction: if m.outgoing { "outgoing" } else { "incoming" },
                    connected: m.connected,
                    cause,
                });
            }
            _ => {}
        }
    }

    /// Applies the span's `incoming` policy to a call whose number is complete.
    fn offer(&mut self, now: Instant, call: CallId) {
        let r = match self.incoming {
            Incoming::Reject(c) => self.q931.release(now, call, c),
            Incoming::Ring => self.q931.proceeding(now, call).and_then(|()| self.q931.alerting(now, call)),
            Incoming::Answer => self
                .q931
                .proceeding(now, call)
                .and_then(|()| self.q931.alerting(now, call))
                .and_then(|()| self.q931.connect(now, call)),
        };
        if let Err(e) = r {
            warn!("{}: {call}: incoming = {}: {e}", self.label, self.incoming);
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.q931.poll_timeout()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.q931.poll_timeout().is_some_and(|t| t <= now) {
            self.q931.handle_timeout(now);
        }
    }

    /// Places a speech call from `calling` to `called` on the lowest idle B-channel; with
    /// `complete` false the number is sent in overlap (more digits by [`Self::information`]).
    pub fn place(&mut self, now: Instant, called: &str, calling: &str, complete: bool) -> Result<CallId, Q931Error> {
        self.place_on(now, called, calling, complete, None)
    }

    /// As [`Self::place`], on B-channel `channel` (exclusive) when given.
    pub fn place_on(
        &mut self,
        now: Instant,
        called: &str,
        calling: &str,
        complete: bool,
        channel: Option<u8>,
    ) -> Result<CallId, Q931Error> {
        let req = SetupRequest { sending_complete: complete, channel, ..SetupRequest::speech(called, calling) };
        let id = self.q931.setup(now, req)?;
        let meta = CallMeta {
            called: called.to_owned(),
            calling: calling.to_owned(),
            outgoing: true,
            connected: false,
            cause: None,
            switched: false,
            inband_tones: false,
        };
        self.meta.insert(id, meta);
        Ok(id)
    }

    /// More digits of the called number of an outgoing call in overlap sending.
    pub fn information(&mut self, now: Instant, call: CallId, digits: &str, complete: bool) -> Result<(), Q931Error> {
        self.q931.information(now, call, digits, complete)?;
        if let Some(m) = self.meta.get_mut(&call) {
            m.called.push_str(digits);
        }
        Ok(())
    }

    /// Answers an incoming call (CONNECT), sending CALL PROCEEDING first if it was not sent yet.
    pub fn answer(&mut self, now: Instant, call: CallId) -> Result<(), Q931Error> {
        let state = self.q931.call(call).ok_or(Q931Error::UnknownCall(call))?.state;
        // N1/U6: nothing sent yet; N2/U25: overlap. Q.931 wants a first answer before CONNECT.
        if matches!(state.number(), 1 | 2 | 6 | 25) {
            self.q931.proceeding(now, call)?;
        }
        self.q931.connect(now, call)
    }

    /// CALL PROCEEDING on an incoming call, once: the switch took it.
    pub fn proceeding(&mut self, now: Instant, call: CallId) -> Result<(), Q931Error> {
        let state = self.q931.call(call).ok_or(Q931Error::UnknownCall(call))?.state;
        if matches!(state.number(), 1 | 2 | 6 | 25) {
            self.q931.proceeding(now, call)?;
        }
        Ok(())
    }

    /// ALERTING on an incoming call (CALL PROCEEDING first if it was not sent).
    pub fn alerting(&mut self, now: Instant, call: CallId) -> Result<(), Q931Error> {
        self.proceeding(now, call)?;
        self.q931.alerting(now, call)
    }

    /// ALERTING with "in-band information is now available" (8): we play the ringback.
    pub fn alerting_inband(&mut self, now: Instant, call: CallId) -> Result<(), Q931Error> {
        self.proceeding(now, call)?;
        self.q931.alerting_with_progress(now, call, 8)
    }

    /// Whether this span is the network side (`*_net`): only the network keeps a B-channel for
    /// a tone after its DISCONNECT (Q.931 §5.3.4.1).
    pub fn network_side(&self) -> bool {
        self.q931.config().side == super::q931::Side::Network
    }

    /// DISCONNECT with progress indicator #8 (network side): the caller may listen to the busy
    /// or congestion tone we play until it releases, or T306 releases the call.
    pub fn hangup_inband(&mut self, now: Instant, call: CallId, cause_value: u8) -> Result<(), Q931Error> {
        self.q931.disconnect_inband(now, call, cause_value)
    }

    /// PROGRESS with "in-band information is now available" (8) on an incoming call.
    pub fn progress(&mut self, now: Instant, call: CallId) -> Result<(), Q931Error> {
        self.proceeding(now, call)?;
        self.q931.progress(now, call, 8)
    }

    /// The B-channel a call holds.
    pub fn channel_of(&self, call: CallId) -> Option<u8> {
        self.q931.call(call).and_then(|c| c.channel)
    }

    /// Clears a call: DISCONNECT in the call's normal phases, RELEASE once the peer disconnected.
    pub fn hangup(&mut self, now: Instant, call: CallId, cause_value: u8) -> Result<(), Q931Error> {
        let state = self.q931.call(call).ok_or(Q931Error::UnknownCall(call))?.state;
        if state.clearing() {
            self.q931.release(now, call, cause_value)
        } else {
            self.q931.disconnect(now, call, cause_value)
        }
    }

    /// Clears every call at once with `cause_value`, sending nothing: the span's line was taken
    /// away (HA gave it to the other node).
    pub fn clear_all(&mut self, now: Instant, cause_value: u8) {
        self.q931.clear_all(now, cause_value);
    }

    /// RESTART of one channel or the whole interface.
    pub fn restart(&mut self, now: Instant, target: RestartTarget) -> Result<(), Q931Error> {
        self.q931.restart(now, target)
    }

    /// The B-channels held by calls (or restarting), for the span's channel grid.
    pub fn busy_channels(&self) -> Vec<u8> {
        self.q931.channel_table().not_idle()
    }

    /// Whether B-channel `channel` is held (or restarting): what channel hunting asks of every
    /// channel of a span, so without building the list.
    pub fn channel_busy(&self, channel: u8) -> bool {
        self.q931.channel_table().status(channel).is_some_and(|s| s != super::q931::ChannelStatus::Idle)
    }

    /// The calls now, in the ITU vocabulary.
    pub fn calls(&self) -> Vec<CallSnap> {
        self.q931
            .calls()
            .iter()
            .map(|c| {
                let m = self.meta.get(&c.id);
                CallSnap {
                    id: c.id.0,
                    call_reference: c.cref,
                    state: c.state.name(),
                    state_number: c.state.number(),
                    channel: c.channel,
                    called: m.map(|m| m.called.clone()).unwrap_or_default(),
                    calling: m.map(|m| m.calling.clone()).unwrap_or_default(),
                    direction: if m.is_some_and(|m| m.outgoing) { "outgoing" } else { "incoming" },
                    tei: c.tei,
                }
            })
            .collect()
    }

    /// The last calls that ended.
    pub fn cleared(&self) -> Vec<ClearedCallSnap> {
        self.cleared.iter().cloned().collect()
    }
}

/// The HTTP status an API request on a call gets for a refusal of Q.931.
pub fn error_status(e: &Q931Error) -> u16 {
    match e {
        Q931Error::UnknownCall(_) => 404,
        Q931Error::NoSuchChannel(_) => 400,
        _ => 409,
    }
}

/// A cause value the API accepts: Q.850 values are 1..=127.
pub fn valid_cause(value: u8) -> bool {
    (1..=127).contains(&value)
}

/// One layer 3 payload down: UI on the broadcast link for TEI 127 on the network side, an I
/// frame otherwise, asking for the data link first when it is down (a TE on a bus brings it
/// up on demand; Q.921 keeps the message until the link is up).
fn dl_send(label: &str, q: &mut Q921, now: Instant, tei: u8, data: &[u8]) {
    let nt = q.config().role == Role::Nt;
    let result = if nt && tei == 127 {
        q.dl_unit_data_request(now, data)
    } else {
        let send = |q: &mut Q921| if nt { q.dl_data_request_tei(now, tei, data) } else { q.dl_data_request(now, data) };
        match send(q) {
            Err(RequestError::NotEstablished) => {
                let up = if nt { q.dl_establish_request_tei(now, tei) } else { q.dl_establish_request(now) };
                up.and_then(|()| send(q))
            }
            r => r,
        }
    };
    if let Err(e) = result {
        // Q.931's timers (T303, T308...) recover a message layer 2 could not take.
        warn!("{}: layer 3 message to TEI {tei} not sent: {e:?}", label);
    }
}

#[cfg(test)]
mod tests {
    use super::{settable, Timers};

    /// The DAHDI export writes provisioning's copy of the defaults to undo a timer an earlier
    /// span set; it must be what the stack runs.
    #[test]
    fn provisioning_holds_the_stacks_q931_defaults() {
        let mut t = Timers::default();
        let ms: Vec<u128> = settable(&mut t).iter().map(|d| d.as_millis()).collect();
        let expected: Vec<u128> = provisioning::IsdnTimers::DEFAULT_MS.iter().map(|&m| u128::from(m)).collect();
        assert_eq!(ms, expected);
    }
}
