//! The call control state machine of one call (Q.931 §5.1–§5.4, §5.8.9, Annex A SDLs), for the
//! user side (states U0–U25) and the network side (N0–N25), in one `match (state, input)`.
//!
//! The same state names serve both sides, as in the text: a user that sent SETUP is in
//! CALL_INITIATED (U1) while the network that received it is in CALL_INITIATED (N1); the network
//! that sent SETUP is in CALL_PRESENT (N6) like the user that received it. What differs is who
//! sends and who receives each message, so arms that only one side may take carry a guard.
//! The state table, with its clauses, is in the module doc of [`super`].

use std::collections::VecDeque;
use std::fmt;
use std::time::Instant;

use super::encode::{header, Encoder, Transmit};
use super::ie::{cause, id, Cause, Ie, PartyNumber, Progress};
use super::message::{CallRef, Message, MessageType};
use super::timers::{Timer, TimerSet, Timers};
use super::view::MessageView;
use super::{CallId, Q931Event, Side};
use crate::isdn::q921::{Info, N201_MAX};

/// The call states (§2.1 user side, §2.2 network side), numbered as the call state element
/// codes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallState {
    Null,
    CallInitiated,
    OverlapSending,
    OutgoingCallProceeding,
    CallDelivered,
    CallPresent,
    CallReceived,
    ConnectRequest,
    IncomingCallProceeding,
    Active,
    DisconnectRequest,
    DisconnectIndication,
    ReleaseRequest,
    OverlapReceiving,
}

impl CallState {
    /// The state number of §2 (and of the call state element).
    pub fn number(self) -> u8 {
        match self {
            CallState::Null => 0,
            CallState::CallInitiated => 1,
            CallState::OverlapSending => 2,
            CallState::OutgoingCallProceeding => 3,
            CallState::CallDelivered => 4,
            CallState::CallPresent => 6,
            CallState::CallReceived => 7,
            CallState::ConnectRequest => 8,
            CallState::IncomingCallProceeding => 9,
            CallState::Active => 10,
            CallState::DisconnectRequest => 11,
            CallState::DisconnectIndication => 12,
            CallState::ReleaseRequest => 19,
            CallState::OverlapReceiving => 25,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CallState::Null => "NULL",
            CallState::CallInitiated => "CALL_INITIATED",
            CallState::OverlapSending => "OVERLAP_SENDING",
            CallState::OutgoingCallProceeding => "OUTGOING_CALL_PROCEEDING",
            CallState::CallDelivered => "CALL_DELIVERED",
            CallState::CallPresent => "CALL_PRESENT",
            CallState::CallReceived => "CALL_RECEIVED",
            CallState::ConnectRequest => "CONNECT_REQUEST",
            CallState::IncomingCallProceeding => "INCOMING_CALL_PROCEEDING",
            CallState::Active => "ACTIVE",
            CallState::DisconnectRequest => "DISCONNECT_REQUEST",
            CallState::DisconnectIndication => "DISCONNECT_INDICATION",
            CallState::ReleaseRequest => "RELEASE_REQUEST",
            CallState::OverlapReceiving => "OVERLAP_RECEIVING",
        }
    }

    /// Whether the call is being cleared (DISCONNECT or RELEASE already exchanged).
    pub fn clearing(self) -> bool {
        matches!(self, CallState::DisconnectRequest | CallState::DisconnectIndication | CallState::ReleaseRequest)
    }
}

impl fmt::Display for CallState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.number())
    }
}

/// A primitive from the call control user (the gateway) for one call; the digits of an
/// INFORMATION are lent for the time of the request, not copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    SetupAcknowledge,
    Proceeding,
    /// ALERTING, with a progress indicator of this description when given (8: in-band
    /// information, the ringback we play, is available).
    Alerting(Option<u8>),
    Progress(u8),
    Connect,
    Information {
        digits: &'a str,
        complete: bool,
    },
    /// DISCONNECT with this Q.850 cause value (at our side's location, as every cause the
    /// requests send).
    Disconnect(u8),
    /// Network side: DISCONNECT with progress indicator #8, the B-channel kept for the tone we
    /// play, and T306 instead of T305 (§5.3.4.1).
    DisconnectInband(u8),
    Release(u8),
    /// NOTIFY or FACILITY with these elements, passed through from the gateway.
    PassThrough(MessageType, Vec<Ie>),
}

/// What drives a call.
#[derive(Debug)]
pub(crate) enum Input<'a> {
    Request(Request<'a>),
    /// A received message; `error` is the cause §5.8.6 puts in the answer to a DISCONNECT or
    /// RELEASE that lacks or garbles its mandatory elements.
    Message {
        msg: &'a MessageView<'a>,
        error: Option<u8>,
    },
    Timeout(Timer),
    LinkReleased,
    LinkEstablished,
    /// A data link reset discarded the I frames in flight.
    LinkReset,
    /// A STATUS from the peer says it is in the Null state (§5.8.11); its cause value.
    PeerNull(Option<u8>),
    /// RESTART took the channel away, or the call is cleared without a word on the line.
    ClearInternally(u8),
}

/// The input cannot be taken in this state: a message answered with STATUS cause 101 (§5.8.4),
/// a request refused to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotCompatible;

/// What a call produced: messages for layer 2 and events for the call control user. It is the
/// entity's own output, lent to the call being driven: a call's messages go straight onto the
/// transmit queue, under the TEI its data link has.
#[derive(Debug, Default)]
pub(crate) struct Out {
    /// The messages for layer 2, each written once, in place, after the TEI of its data link.
    pub(crate) transmit: Transmit,
    /// The event queue of the gateway.
    pub(crate) events: VecDeque<Q931Event>,
    /// The data link of the call being driven (set by the entity before each input).
    pub(crate) tei: u8,
    /// Network side, a broadcast SETUP still on offer: the terminals that answered it so far
    /// (lent from the call while it is driven). SETUP and the final RELEASE COMPLETE go to every
    /// terminal, anything else to each of these.
    pub(crate) answered: Vec<u8>,
    /// Messages that did not fit in an I frame (N201) and were not sent.
    pub(crate) too_long: u64,
    /// Where a message built as a [`Message`] is encoded before it is copied into its octets.
    pub(crate) scratch: Vec<u8>,
}

impl Out {
    /// Queues an encoded message for layer 2 on `tei`, unless it is longer than an I frame
    /// carries.
    pub(crate) fn transmit_octets(&mut self, tei: u8, octets: &[u8]) {
        // The trace decodes the octets again, only when someone reads it.
        let trace = || Message::parse(octets).map_or_else(|e| e.to_string(), |m| m.to_string());
        if octets.len() <= N201_MAX {
            if log::log_enabled!(log::Level::Debug) {
                log::debug!("q931 tx tei={tei}: {}", trace());
            }
            self.transmit.push(tei, octets);
        } else {
            // Without segmentation (not used on ETSI call control) layer 2 cannot carry it.
            self.too_long += 1;
            log::warn!("q931 tx tei={tei}: {} octets exceed N201, not sent: {}", octets.len(), trace());
        }
    }

    /// The next message for layer 2 and the TEI of its data link, lent until the queue is next
    /// touched.
    #[inline]
    pub(crate) fn poll_transmit(&mut self) -> Option<(u8, &[u8])> {
        self.transmit.pop()
    }

    /// Encodes a message that belongs to no call and queues it on `tei`.
    pub(crate) fn transmit_message(&mut self, tei: u8, msg: &Message) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        msg.emit(&mut scratch);
        self.transmit_octets(tei, &scratch);
        self.scratch = scratch;
    }

    /// Sends a message of the call being driven: `body` writes its elements after the header,
    /// in place at the end of the transmit queue.
    #[inline]
    pub(crate) fn send(&mut self, call_ref: CallRef, msg_type: MessageType, body: impl FnOnce(&mut Encoder<'_>)) {
        let start = self.write(call_ref, msg_type, body);
        self.close(start, msg_type);
    }

    /// [`send`](Self::send), giving back a copy of the message (the SETUP a call keeps for
    /// T303's repeat).
    pub(crate) fn send_kept(
        &mut self,
        call_ref: CallRef,
        msg_type: MessageType,
        body: impl FnOnce(&mut Encoder<'_>),
    ) -> Info {
        let start = self.write(call_ref, msg_type, body);
        let kept = Info::from_slice(self.transmit.contents(start));
        self.close(start, msg_type);
        kept
    }

    /// Opens an entry on the call's data link and writes the message into it; returns where the
    /// entry starts.
    #[inline(always)]
    fn write(&mut self, call_ref: CallRef, msg_type: MessageType, body: impl FnOnce(&mut Encoder<'_>)) -> usize {
        let (header, len) = header(call_ref, msg_type);
        let start = self.transmit.begin_with(self.tei, header, len);
        body(&mut Encoder::elements(self.transmit.buf()));
        start
    }

    /// Queues a message of the call being driven, already encoded.
    pub(crate) fn queue(&mut self, msg_type: MessageType, octets: &[u8]) {
        let start = self.transmit.begin(self.tei);
        self.transmit.buf().extend_from_slice(octets);
        self.close(start, msg_type);
    }

    /// Closes the message of the call being driven just written at `start`: on the call's data
    /// link, unless it needs a trace, is too long or goes to the terminals of a broadcast SETUP.
    #[inline]
    fn close(&mut self, start: usize, msg_type: MessageType) {
        let plain = self.answered.is_empty() && !log::log_enabled!(log::Level::Debug);
        if !(plain && self.transmit.commit_within(start, self.tei, N201_MAX)) {
            self.close_slow(start, msg_type);
        }
    }

    /// `close` when the message is traced, too long, or to go to every terminal that answered a
    /// broadcast SETUP (all but SETUP and the final RELEASE COMPLETE, which go on TEI 127).
    #[cold]
    fn close_slow(&mut self, start: usize, msg_type: MessageType) {
        let mut message = std::mem::take(&mut self.scratch);
        message.clear();
        message.extend_from_slice(self.transmit.contents(start));
        self.transmit.cancel(start);
        let broadcast = matches!(msg_type, MessageType::Setup | MessageType::ReleaseComplete);
        if self.answered.is_empty() || broadcast {
            self.transmit_octets(self.tei, &message);
        } else {
            for i in 0..self.answered.len() {
                let t = self.answered[i];
                self.transmit_octets(t, &message);
            }
        }
        self.scratch = message;
    }

    /// Sends a message of the call being driven built as a [`Message`], written in place.
    pub(crate) fn push(&mut self, msg: &Message) {
        self.send(msg.call_ref, msg.msg_type, |e| msg.emit_body(e));
    }

    /// Sends a message whose elements are none or this cause.
    #[inline]
    fn send_cause(&mut self, call_ref: CallRef, msg_type: MessageType, cause: Option<&Cause>) {
        self.send(call_ref, msg_type, |e| {
            if let Some(c) = cause {
                e.cause(c);
            }
        });
    }
}

/// One call: its reference, data link, channel and the state of its procedures.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: CallId,
    /// The call reference value and whether this side allocated it.
    pub cref: u16,
    pub cref_len: u8,
    pub ours: bool,
    /// The data link the call runs on (127 while a broadcast SETUP awaits its first answer).
    pub tei: u8,
    pub state: CallState,
    /// The B-channel the call holds in the interface's channel table.
    pub channel: Option<u8>,
    pub(crate) primary: bool,
    /// Whether the channel identification went out in a first answer to SETUP already.
    pub(crate) channel_sent: bool,
    pub(crate) timers: TimerSet,
    t303_expired: bool,
    t308_expired: bool,
    /// The cause value of this side's DISCONNECT, reused by RELEASE after T305.
    clearing_cause: Option<u8>,
    /// The SETUP: as sent, for its retransmission on the first T303 expiry; as received, for
    /// the gateway to read ([`Q931::setup_message`](super::Q931::setup_message)).
    setup: Option<Info>,
    /// Network side, broadcast SETUP not yet answered with CONNECT: the terminals that answered
    /// it so far (§5.2.3.2).
    pub(crate) offered: Vec<u8>,
    /// The cause value a terminal refused the broadcast SETUP with, reported if no one takes the
    /// call.
    pub(crate) offer_cause: Option<u8>,
}

fn cause_ie(value: u8, side: Side) -> Cause {
    let location = match side {
        Side::User => Cause::LOCATION_USER,
        Side::Network => Cause::LOCATION_PUBLIC_LOCAL,
    };
    Cause::new(location, value)
}

impl Call {
    pub(crate) fn new(id: CallId, cref: u16, cref_len: u8, ours: bool, tei: u8, primary: bool) -> Call {
        Call {
            id,
            cref,
            cref_len,
            ours,
            tei,
            state: CallState::Null,
            channel: None,
            primary,
            channel_sent: false,
            timers: TimerSet::default(),
            t303_expired: false,
            t308_expired: false,
            clearing_cause: None,
            setup: None,
            offered: Vec::new(),
            offer_cause: None,
        }
    }

    pub fn call_ref(&self) -> CallRef {
        CallRef { len: self.cref_len, value: self.cref, flag: !self.ours }
    }

    /// Keeps a received SETUP with the call (an incoming call has none of its own to repeat).
    pub(crate) fn keep_setup(&mut self, setup: Info) {
        self.setup = Some(setup);
    }

    /// The SETUP kept with the call, read in place.
    pub(crate) fn setup_message(&self) -> Option<MessageView<'_>> {
        MessageView::parse(self.setup.as_ref()?).ok()
    }

    pub(crate) fn message(&self, msg_type: MessageType) -> Message {
        Message::new(self.call_ref(), msg_type)
    }

    /// Sends an answer to SETUP, with a progress indicator after the channel identification a
    /// first answer carries (§5.1.2, §5.2.3.1); later ones need not.
    fn answer(&mut self, msg_type: MessageType, progress: Option<&Progress>, out: &mut Out) {
        let channel = if self.channel_sent { None } else { self.channel };
        self.channel_sent = true;
        let primary = self.primary;
        out.send(self.call_ref(), msg_type, |e| {
            if let Some(ch) = channel {
                e.channel(primary, ch, true);
            }
            if let Some(p) = progress {
                e.progress(p);
            }
        });
    }

    /// Sends a message whose one element is this cause.
    // Inlined, as the clearing steps below: a clearing request then writes its message itself,
    // with no call in between (see `request`).
    #[inline(always)]
    fn send_cause(&self, msg_type: MessageType, cause: &Cause, out: &mut Out) {
        out.send_cause(self.call_ref(), msg_type, Some(cause));
    }

    fn with_cause(&self, msg_type: MessageType, cause: &Cause) -> Message {
        self.message(msg_type).with(Ie::Cause(cause.clone()))
    }

    /// STATUS carrying our call state (§5.8.10, §5.8.11).
    pub(crate) fn status(&self, cause_value: u8, side: Side, diagnostic: Option<u8>) -> Message {
        let mut c = cause_ie(cause_value, side);
        c.diagnostics.extend(diagnostic);
        self.with_cause(MessageType::Status, &c).with(Ie::CallState { coding: 0, state: self.state.number() })
    }

    #[inline(always)]
    fn start_disconnect(&mut self, now: Instant, timers: &Timers, side: Side, cause: u8, out: &mut Out) {
        self.timers.stop_all_but_t309();
        self.send_cause(MessageType::Disconnect, &cause_ie(cause, side), out);
        self.clearing_cause = Some(cause);
        self.timers.start(Timer::T305, now + timers.t305);
        self.state = match side {
            Side::User => CallState::DisconnectRequest,
            Side::Network => CallState::DisconnectIndication,
        };
    }

    #[inline(always)]
    fn start_release(&mut self, now: Instant, side: Side, timers: &Timers, cause: Option<u8>, out: &mut Out) {
        self.timers.stop_all_but_t309();
        out.send_cause(self.call_ref(), MessageType::Release, cause.map(|c| cause_ie(c, side)).as_ref());
        self.t308_expired = false;
        self.timers.start(Timer::T308, now + timers.t308);
        self.state = CallState::ReleaseRequest;
    }

    /// Places the call with this SETUP, already sent; a call in Null only. It is kept for
    /// T303's repeat (§5.1.1, §5.2.1).
    pub(crate) fn sent_setup(&mut self, now: Instant, side: Side, timers: &Timers, setup: Info) {
        self.setup = Some(setup);
        self.timers.start(Timer::T303, now + timers.t303);
        self.state = if side == Side::User { CallState::CallInitiated } else { CallState::CallPresent };
    }

    /// Sends the SETUP as sent before (T303's first expiry, a data link reset), with a full T303.
    fn repeat_setup(&mut self, now: Instant, timers: &Timers, out: &mut Out) {
        if let Some(setup) = &self.setup {
            out.queue(MessageType::Setup, setup);
        }
        self.timers.start(Timer::T303, now + timers.t303);
    }

    /// Enters the Null state; the owner drops the call and frees its channel.
    fn enter_null(&mut self, cause: Option<u8>, out: &mut Out) {
        self.timers = TimerSet::default();
        self.state = CallState::Null;
        out.events.push_back(Q931Event::Released { call: self.id, cause });
    }

    /// Runs one input through the state table. Requests, timer expiries, received messages and
    /// data link events have tables of their own (below), so that an input does not walk past
    /// the arms of the others.
    #[inline(always)]
    pub(crate) fn handle(
        &mut self,
        now: Instant,
        side: Side,
        timers: &Timers,
        input: Input<'_>,
        out: &mut Out,
    ) -> Result<(), NotCompatible> {
        match input {
            Input::Request(req) => self.request(now, side, timers, req, out),
            Input::Timeout(timer) => {
                self.timeout(now, side, timers, timer, out);
                Ok(())
            }
            Input::Message { msg, error } => self.received(now, side, timers, msg, error, out),
            input => self.link_event(now, side, timers, &input, out),
        }
    }

    /// A data link event, a STATUS or an internal clearing (the other rows of the table in
    /// [`super`]).
    fn link_event(
        &mut self,
        now: Instant,
        side: Side,
        timers: &Timers,
        input: &Input<'_>,
        out: &mut Out,
    ) -> Result<(), NotCompatible> {
        use CallState as S;
        match (self.state, input) {
            // --- Data link failure (§5.8.9) and status (§5.8.11) ---
            (S::Active, Input::LinkReleased) => {
                if !self.timers.running(Timer::T309) {
                    self.timers.start(Timer::T309, now + timers.t309);
                }
            }
            (S::Null, Input::LinkReleased) => {}
            (_, Input::LinkReleased) => {
                if self.timers.running(Timer::T309) {
                    return Ok(());
                }
                // A call not yet active, or being cleared, cannot be kept: clear it here so that
                // its channel is free (libpri issue #5 left such a channel busy).
                self.enter_null(Some(cause::TEMPORARY_FAILURE), out);
            }
            (S::CallInitiated | S::CallPresent, Input::LinkReset) if self.timers.running(Timer::T303) => {
                // The SETUP went down with the reset: send it again and give it a full T303,
                // without using up the one retransmission T303's expiry allows.
                self.repeat_setup(now, timers, out);
            }
            (_, Input::LinkReset) => {
                // §5.8.8: every other call is kept as it is.
            }
            (_, Input::LinkEstablished) => {
                if self.timers.running(Timer::T309) {
                    self.timers.stop(Timer::T309);
                    // §5.8.9: tell the peer the state we kept, so that it can check its own.
                    out.push(&self.status(cause::NORMAL_UNSPECIFIED, side, None));
                }
            }
            (s, Input::PeerNull(c)) if s != S::Null => {
                self.enter_null(*c, out);
            }
            (s, Input::ClearInternally(value)) if s != S::Null => {
                self.enter_null(Some(*value), out);
            }
            _ => return Err(NotCompatible),
        }
        Ok(())
    }

    /// A received message (the "peer→" rows of the table in [`super`]), dispatched on its type
    /// first; `error` is the cause §5.8.6 puts in the answer to a DISCONNECT or RELEASE that
    /// lacks or garbles its mandatory elements.
    // Inlined into `handle`'s callers with it: only those that pass a message keep it.
    #[inline(always)]
    fn received(
        &mut self,
        now: Instant,
        side: Side,
        timers: &Timers,
        msg: &MessageView<'_>,
        error: Option<u8>,
        out: &mut Out,
    ) -> Result<(), NotCompatible> {
        use CallState as S;
        use MessageType as M;
        let user = side == Side::User;
        let net = side == Side::Network;
        let id = self.id;
        match (msg.msg_type, self.state) {
            (M::SetupAcknowledge, S::CallInitiated) if user => {
                self.timers.stop(Timer::T303);
                self.state = S::OverlapSending;
                out.events.push_back(Q931Event::SetupAcknowledged { call: id });
            }
            (M::SetupAcknowledge, S::CallPresent) if net => {
                self.timers.stop(Timer::T303);
                self.state = S::OverlapReceiving;
                out.events.push_back(Q931Event::SetupAcknowledged { call: id });
            }
            (M::CallProceeding, S::CallInitiated | S::OverlapSending) if user => {
                self.timers.stop(Timer::T303);
                self.timers.start(Timer::T310, now + timers.t310);
                self.state = S::OutgoingCallProceeding;
                out.events.push_back(Q931Event::Proceeding { call: id });
            }
            (M::CallProceeding, S::CallPresent | S::OverlapReceiving) if net => {
                self.timers.stop(Timer::T303);
                self.timers.start(Timer::T310, now + timers.t310);
                self.state = S::IncomingCallProceeding;
                out.events.push_back(Q931Event::Proceeding { call: id });
            }
            (M::Alerting, S::CallInitiated | S::OverlapSending | S::OutgoingCallProceeding) if user => {
                self.timers.stop(Timer::T303);
                self.timers.stop(Timer::T310);
                self.state = S::CallDelivered;
                out.events.push_back(Q931Event::Alerting { call: id, inband: inband_progress(msg) });
            }
            (M::Alerting, S::CallPresent | S::OverlapReceiving | S::IncomingCallProceeding) if net => {
                self.timers.stop(Timer::T303);
                self.timers.stop(Timer::T310);
                self.timers.start(Timer::T301, now + timers.t301);
                self.state = S::CallReceived;
                out.events.push_back(Q931Event::Alerting { call: id, inband: inband_progress(msg) });
            }
            // CONNECT: acknowledged at once. On the network side CONNECT_REQUEST (N8) lasts no
            // longer than this arm, since the network has nothing else to wait for.
            (M::Connect, S::CallInitiated | S::OverlapSending | S::OutgoingCallProceeding | S::CallDelivered)
                if user =>
            {
                self.timers.stop_all_but_t309();
                out.send_cause(self.call_ref(), M::ConnectAcknowledge, None);
                self.state = S::Active;
                out.events.push_back(Q931Event::Connected { call: id });
            }
            (M::Connect, S::CallPresent | S::OverlapReceiving | S::IncomingCallProceeding | S::CallReceived) if net => {
                self.timers.stop_all_but_t309();
                out.send_cause(self.call_ref(), M::ConnectAcknowledge, None);
                self.state = S::Active;
                out.events.push_back(Q931Event::Connected { call: id });
            }
            // --- Incoming call establishment (§5.2 user, §5.1 network) ---
            (M::Information, S::OverlapSending) if net => self.received_information(now, timers, msg, out),
            (M::Information, S::OverlapReceiving) if user => self.received_information(now, timers, msg, out),
            (M::ConnectAcknowledge, S::ConnectRequest) if user => {
                self.timers.stop(Timer::T313);
                self.state = S::Active;
                out.events.push_back(Q931Event::Connected { call: id });
            }
            // The calling user may acknowledge the network's CONNECT (§5.1.8); nothing to do.
            (M::ConnectAcknowledge, S::Active) => {}
            // --- Messages that change no state (§5.1.6, §5.9, passed through) ---
            (M::Progress, s) if s != S::Null && s != S::ReleaseRequest => {
                out.events.push_back(Q931Event::Progress { call: id, inband: inband_progress(msg) });
            }
            (M::Information, s) if s != S::Null => {
                let (digits, complete) = information_of(msg);
                out.events.push_back(Q931Event::Information { call: id, digits, complete });
            }
            (M::Notify | M::Facility, s) if s != S::Null => {
                out.events.push_back(Q931Event::PassedThrough { call: id, message: Box::new(msg.to_message()) });
            }

            // --- Call clearing (§5.3) ---
            (M::Disconnect, S::DisconnectRequest) if user => {
                // DISCONNECT crossed ours (§5.3.5): go straight to RELEASE.
                out.events.push_back(Q931Event::Disconnected { call: id, cause: msg.cause_value() });
                self.start_release(now, side, timers, error.or(self.clearing_cause), out);
            }
            (M::Disconnect, S::DisconnectIndication) if net => {
                out.events.push_back(Q931Event::Disconnected { call: id, cause: msg.cause_value() });
                self.start_release(now, side, timers, error.or(self.clearing_cause), out);
            }
            (M::Disconnect, s) if s != S::Null && !s.clearing() => {
                self.timers.stop_all_but_t309();
                let cause = msg.cause_value();
                if let Some(e) = error {
                    // §5.8.6.1/§5.8.6.2: a DISCONNECT without a usable cause is answered with
                    // RELEASE carrying ours.
                    out.events.push_back(Q931Event::Disconnected { call: id, cause });
                    self.start_release(now, side, timers, Some(e), out);
                } else {
                    self.state = if user { S::DisconnectIndication } else { S::DisconnectRequest };
                    // §5.3.4.1: with progress indicator #8 the network plays a tone on the
                    // B-channel; told first, so the user can listen before releasing.
                    let inband = progress_among(msg, &[Progress::INBAND_AVAILABLE]);
                    if inband {
                        out.events.push_back(Q931Event::Progress { call: id, inband: true });
                    }
                    out.events.push_back(Q931Event::Disconnected { call: id, cause });
                }
            }
            (M::Release | M::ReleaseComplete, S::ReleaseRequest) => {
                // RELEASE COMPLETE, or a RELEASE that crossed ours (§5.3.5): the call is over.
                self.enter_null(msg.cause_value(), out);
            }
            (M::Disconnect, S::ReleaseRequest) => {}
            (M::Release, s) if s != S::Null => {
                out.send_cause(self.call_ref(), M::ReleaseComplete, error.map(|e| cause_ie(e, side)).as_ref());
                self.enter_null(msg.cause_value(), out);
            }
            (M::ReleaseComplete, s) if s != S::Null => {
                self.enter_null(msg.cause_value(), out);
            }
            _ => return Err(NotCompatible),
        }
        Ok(())
    }

    /// A request of the gateway (the "req" rows of the table in [`super`]).
    // Inlined into each of the entity's request functions, where the request is a constant: the
    // match then tests only the call's state against that request's rows.
    #[inline(always)]
    fn request(
        &mut self,
        now: Instant,
        side: Side,
        timers: &Timers,
        req: Request<'_>,
        out: &mut Out,
    ) -> Result<(), NotCompatible> {
        use CallState as S;
        use MessageType as M;
        let user = side == Side::User;
        let net = side == Side::Network;
        match (self.state, req) {
            // --- Outgoing call establishment (§5.1 user, §5.2 network) ---
            (S::OverlapSending, Request::Information { digits, complete }) if user => {
                self.send_information(digits, complete, out);
            }
            (S::OverlapReceiving, Request::Information { digits, complete }) if net => {
                self.send_information(digits, complete, out);
            }

            // --- Incoming call establishment (§5.2 user, §5.1 network) ---
            (S::CallInitiated, Request::SetupAcknowledge) if net => {
                self.answer(M::SetupAcknowledge, None, out);
                self.timers.start(Timer::T302, now + timers.t302);
                self.state = S::OverlapSending;
            }
            (S::CallPresent, Request::SetupAcknowledge) if user => {
                self.answer(M::SetupAcknowledge, None, out);
                self.timers.start(Timer::T302, now + timers.t302);
                self.state = S::OverlapReceiving;
            }
            (S::CallInitiated | S::OverlapSending, Request::Proceeding) if net => {
                self.timers.stop(Timer::T302);
                self.answer(M::CallProceeding, None, out);
                self.state = S::OutgoingCallProceeding;
            }
            (S::CallPresent | S::OverlapReceiving, Request::Proceeding) if user => {
                self.timers.stop(Timer::T302);
                self.answer(M::CallProceeding, None, out);
                self.state = S::IncomingCallProceeding;
            }
            (S::CallInitiated | S::OverlapSending | S::OutgoingCallProceeding, Request::Alerting(progress)) if net => {
                self.timers.stop(Timer::T302);
                self.answer(M::Alerting, progress_ie(progress, side).as_ref(), out);
                self.state = S::CallDelivered;
            }
            (S::CallPresent | S::OverlapReceiving | S::IncomingCallProceeding, Request::Alerting(progress)) if user => {
                self.timers.stop(Timer::T302);
                self.answer(M::Alerting, progress_ie(progress, side).as_ref(), out);
                self.state = S::CallReceived;
            }
            (S::CallInitiated | S::OverlapSending | S::OutgoingCallProceeding | S::CallDelivered, Request::Connect)
                if net =>
            {
                self.timers.stop(Timer::T302);
                self.answer(M::Connect, None, out);
                self.state = S::Active;
            }
            (S::CallPresent | S::OverlapReceiving | S::IncomingCallProceeding | S::CallReceived, Request::Connect)
                if user =>
            {
                self.timers.stop(Timer::T302);
                self.answer(M::Connect, None, out);
                self.timers.start(Timer::T313, now + timers.t313);
                self.state = S::ConnectRequest;
            }
            (
                S::CallInitiated
                | S::OverlapSending
                | S::OutgoingCallProceeding
                | S::CallDelivered
                | S::CallReceived
                | S::IncomingCallProceeding
                | S::OverlapReceiving
                | S::CallPresent
                | S::Active,
                Request::Progress(description),
            ) => {
                let location = if user { Cause::LOCATION_USER } else { Cause::LOCATION_PUBLIC_LOCAL };
                out.send(self.call_ref(), M::Progress, |e| e.progress(&Progress { coding: 0, location, description }));
            }

            // --- Messages that change no state (§5.9, passed through) ---
            (s, Request::PassThrough(t, ies))
                if s != S::Null && s != S::ReleaseRequest && matches!(t, M::Notify | M::Facility) =>
            {
                let mut m = self.message(t);
                m.ies = ies;
                out.push(&m);
            }

            // --- Call clearing (§5.3) ---
            // The first answer to SETUP may refuse the call with RELEASE COMPLETE (§5.2.5.1);
            // after that, RELEASE starts the release (§5.3.2).
            (S::CallPresent, Request::Release(c)) if user => {
                self.send_cause(M::ReleaseComplete, &cause_ie(c, side), out);
                self.enter_null(Some(c), out);
            }
            (S::CallInitiated, Request::Release(c)) if net => {
                self.send_cause(M::ReleaseComplete, &cause_ie(c, side), out);
                self.enter_null(Some(c), out);
            }
            (s, Request::Release(c)) if s != S::Null && s != S::ReleaseRequest => {
                // In U12/N11 this answers the peer's DISCONNECT; elsewhere it aborts the call.
                self.start_release(now, side, timers, Some(c), out);
            }
            (S::DisconnectIndication, Request::Disconnect(c)) if user => {
                self.start_release(now, side, timers, Some(c), out);
            }
            (S::DisconnectRequest, Request::Disconnect(c)) if net => {
                self.start_release(now, side, timers, Some(c), out);
            }
            (s, Request::Disconnect(c)) if s != S::Null && !s.clearing() => {
                self.start_disconnect(now, timers, side, c, out);
            }
            (s, Request::DisconnectInband(c)) if net && s != S::Null && !s.clearing() => {
                self.timers.stop_all_but_t309();
                let p = Progress { coding: 0, location: Cause::LOCATION_PUBLIC_LOCAL, description: 8 };
                let cause = cause_ie(c, side);
                out.send(self.call_ref(), M::Disconnect, |e| {
                    e.cause(&cause);
                    e.progress(&p);
                });
                self.clearing_cause = Some(c);
                self.timers.start(Timer::T306, now + timers.t306);
                self.state = S::DisconnectIndication;
            }
            _ => return Err(NotCompatible),
        }
        Ok(())
    }

    /// A timer of this call ran out (the timer rows of the table in [`super`]).
    fn timeout(&mut self, now: Instant, side: Side, timers: &Timers, timer: Timer, out: &mut Out) {
        use CallState as S;
        let user = side == Side::User;
        let net = side == Side::Network;
        let id = self.id;
        match (self.state, timer) {
            // T303 runs only in the state this side enters on sending SETUP.
            (S::CallInitiated | S::CallPresent, Timer::T303) => {
                if self.t303_expired {
                    // Second expiry (§5.1.1, §5.2.1): give up; RELEASE COMPLETE tells the peer.
                    let c = cause_ie(cause::RECOVERY_ON_TIMER_EXPIRY, side);
                    self.send_cause(MessageType::ReleaseComplete, &c, out);
                    // A terminal's refusal of a broadcast SETUP is the cause to report (§5.2.5.1).
                    let reported = match (net, self.offer_cause.take()) {
                        (true, Some(refusal)) => refusal,
                        (true, None) => cause::NO_USER_RESPONDING,
                        (false, _) => c.value,
                    };
                    self.enter_null(Some(reported), out);
                } else {
                    self.t303_expired = true;
                    self.repeat_setup(now, timers, out);
                }
            }
            (S::OutgoingCallProceeding, Timer::T310) if user => {
                out.events
                    .push_back(Q931Event::Disconnected { call: id, cause: Some(cause::RECOVERY_ON_TIMER_EXPIRY) });
                self.start_disconnect(now, timers, side, cause::RECOVERY_ON_TIMER_EXPIRY, out);
            }
            (S::IncomingCallProceeding, Timer::T310) if net => {
                out.events.push_back(Q931Event::Disconnected { call: id, cause: Some(cause::NO_USER_RESPONDING) });
                self.start_disconnect(now, timers, side, cause::NO_USER_RESPONDING, out);
            }
            (S::CallReceived, Timer::T301) if net => {
                out.events.push_back(Q931Event::Disconnected { call: id, cause: Some(cause::NO_ANSWER) });
                self.start_disconnect(now, timers, side, cause::NO_ANSWER, out);
            }
            (S::OverlapSending, Timer::T302) if net => {
                out.events.push_back(Q931Event::OverlapTimeout { call: id });
            }
            (S::OverlapReceiving, Timer::T302) if user => {
                out.events.push_back(Q931Event::OverlapTimeout { call: id });
            }
            (S::ConnectRequest, Timer::T313) if user => {
                out.events
                    .push_back(Q931Event::Disconnected { call: id, cause: Some(cause::RECOVERY_ON_TIMER_EXPIRY) });
                self.start_disconnect(now, timers, side, cause::RECOVERY_ON_TIMER_EXPIRY, out);
            }
            (S::DisconnectRequest | S::DisconnectIndication, Timer::T305) => {
                self.start_release(now, side, timers, self.clearing_cause, out);
            }
            (S::DisconnectIndication, Timer::T306) if net => {
                // §5.3.4.1: the tone ran its time; RELEASE with the DISCONNECT's cause.
                self.start_release(now, side, timers, self.clearing_cause, out);
            }
            (S::ReleaseRequest, Timer::T308) => {
                if self.t308_expired {
                    // Second expiry (§5.3.4.3). The text parks the B-channel in a maintenance
                    // condition; a channel left so is the stuck channel of libpri issue #5, so
                    // the call and its channel are released.
                    self.enter_null(Some(cause::RECOVERY_ON_TIMER_EXPIRY), out);
                } else {
                    self.t308_expired = true;
                    let c = self.clearing_cause.map(|c| cause_ie(c, side));
                    out.send_cause(self.call_ref(), MessageType::Release, c.as_ref());
                    self.timers.start(Timer::T308, now + timers.t308);
                }
            }
            (_, Timer::T309) => {
                // §5.8.9: both sides clear with cause #27 when the link did not come back in time.
                self.enter_null(Some(cause::DESTINATION_OUT_OF_ORDER), out);
            }
            _ => {
                // A timer of a state already left: nothing to do.
            }
        }
    }

    fn send_information(&self, digits: &str, complete: bool, out: &mut Out) {
        out.send(self.call_ref(), MessageType::Information, |e| {
            if !digits.is_empty() {
                e.number(id::CALLED_NUMBER, &PartyNumber::unknown(digits));
            }
            if complete {
                e.sending_complete();
            }
        });
    }

    fn received_information(&mut self, now: Instant, timers: &Timers, msg: &MessageView<'_>, out: &mut Out) {
        let (digits, complete) = information_of(msg);
        if complete {
            self.timers.stop(Timer::T302);
        } else {
            self.timers.start(Timer::T302, now + timers.t302);
        }
        out.events.push_back(Q931Event::Information { call: self.id, digits, complete });
    }
}

/// The digits (called number, else keypad) and sending-complete flag of an INFORMATION.
fn information_of(m: &MessageView<'_>) -> (String, bool) {
    let digits = m
        .called()
        .map(|n| n.digits.to_string())
        .or_else(|| m.keypad().map(|k| String::from_utf8_lossy(k).into_owned()));
    (digits.unwrap_or_default(), m.sending_complete())
}

/// Whether a message carries progress indicator #1 (not end-to-end ISDN: in-band information may
/// follow) or #8 (in-band information available), so the far side plays its own tones.
fn inband_progress(msg: &MessageView<'_>) -> bool {
    progress_among(msg, &[1, Progress::INBAND_AVAILABLE])
}

/// Whether a message carries a progress indicator with one of these descriptions. Most carry
/// none, which the view knows without building the walk over the elements.
#[inline]
fn progress_among(msg: &MessageView<'_>, descriptions: &[u8]) -> bool {
    msg.progress().any(|p| descriptions.contains(&p.description))
}

/// A progress indicator of `description`, when given, at our side's location.
fn progress_ie(description: Option<u8>, side: Side) -> Option<Progress> {
    let location = if side == Side::User { Cause::LOCATION_USER } else { Cause::LOCATION_PUBLIC_LOCAL };
    description.map(|description| Progress { coding: 0, location, description })
}
