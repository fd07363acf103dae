//! The Q.931 entity of one D-channel: call references, channel selection, the §5.8 error
//! procedures and data link events around the per-call machines of `call`.

use std::time::Instant;

use super::call::{Call, CallState, Input, NotCompatible, Out, Request};
use super::channels::{ChannelStatus, ChannelTable};
use super::ie::{cause, id, Cause, Ie};
use super::message::{CallRef, Message, MessageType};
use super::restart::PendingRestart;
use super::timers::Timer;
use super::view::{Check, MessageView};
use super::{CallId, Q931Config, Q931Error, Q931Event, SetupRequest, Side};
use crate::isdn::q921::frame::TEI_GROUP;
use crate::isdn::q921::Info;

/// The call control entity of one D-channel. See the module doc of [`super`].
#[derive(Debug)]
pub struct Q931 {
    pub(crate) config: Q931Config,
    pub(crate) calls: Vec<Call>,
    pub(crate) channels: ChannelTable,
    next_cref: u16,
    next_id: u32,
    pub(crate) restart: Option<PendingRestart>,
    /// User side: the TEI of our data link, which answers go out on (even to a broadcast SETUP).
    own_tei: u8,
    /// The transmit and event queues, which a call being driven writes to directly.
    pub(crate) out: Out,
}

impl Q931 {
    pub fn new(config: Q931Config) -> Q931 {
        Q931 {
            config,
            calls: Vec::new(),
            channels: ChannelTable::new(config.interface.b_channels()),
            next_cref: 1,
            next_id: 1,
            restart: None,
            own_tei: 0,
            out: Out::default(),
        }
    }

    pub fn config(&self) -> &Q931Config {
        &self.config
    }

    /// The live calls.
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    pub fn call(&self, call: CallId) -> Option<&Call> {
        self.calls.iter().find(|c| c.id == call)
    }

    /// A live call's SETUP: as received for an incoming call (its numbers, bearer capability and
    /// the elements passed through, decoded when read), as sent for one of ours.
    pub fn setup_message(&self, call: CallId) -> Option<MessageView<'_>> {
        self.call(call)?.setup_message()
    }

    pub fn channel_table(&self) -> &ChannelTable {
        &self.channels
    }

    /// Channels held by a call.
    pub fn busy_channels(&self) -> Vec<u8> {
        self.channels.busy()
    }

    /// The next message to send, with the TEI of its data link; at most N201 octets. It is lent
    /// until the entity is next touched (hand it to layer 2 before anything else).
    // Inlined into the caller's crate: the event loop drains the queue after every input, most
    // often to find it empty.
    #[inline]
    pub fn poll_transmit(&mut self) -> Option<(u8, &[u8])> {
        self.out.poll_transmit()
    }

    // Inlined for the same reason as `poll_transmit`.
    #[inline]
    pub fn poll_event(&mut self) -> Option<Q931Event> {
        self.out.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let calls = self.calls.iter().filter_map(|c| c.timers.next());
        calls.chain(self.restart.as_ref().map(|r| r.deadline)).min()
    }

    // ---- sending ----

    /// Sends a message built as a [`Message`] on `tei`.
    pub(crate) fn send(&mut self, tei: u8, msg: &Message) {
        self.out.transmit_message(tei, msg);
    }

    /// The data link a call's messages go out on.
    fn tei_of(&self, call: &Call) -> u8 {
        match self.config.side {
            Side::User => self.own_tei,
            Side::Network => call.tei,
        }
    }

    /// The TEI for messages that belong to no call (RESTART, answers to unknown references).
    pub(crate) fn reply_tei(&self, from: u8) -> u8 {
        match self.config.side {
            Side::User => self.own_tei,
            Side::Network => from,
        }
    }

    pub(crate) fn cause(&self, value: u8) -> Cause {
        let location = match self.config.side {
            Side::User => Cause::LOCATION_USER,
            Side::Network => Cause::LOCATION_PUBLIC_LOCAL,
        };
        Cause::new(location, value)
    }

    /// The answer to a message whose reference is no call of ours: the same reference, flag
    /// turned round.
    fn reply(&self, to: &MessageView<'_>, msg_type: MessageType, cause_value: u8, diagnostic: Option<u8>) -> Message {
        let cref = CallRef { flag: !to.call_ref.flag, ..to.call_ref };
        let mut c = self.cause(cause_value);
        c.diagnostics.extend(diagnostic);
        let mut m = Message::new(cref, msg_type).with(Ie::Cause(c));
        if msg_type == MessageType::Status {
            m.ies.push(Ie::CallState { coding: 0, state: 0 });
        }
        m
    }

    /// Runs one input through a call's machine; a call back in Null is dropped and its channel
    /// freed. The call's messages go straight onto the transmit queue, on its data link.
    #[inline(always)]
    pub(crate) fn drive(&mut self, now: Instant, i: usize, input: Input<'_>) -> Result<(), NotCompatible> {
        let side = self.config.side;
        let tei = self.tei_of(&self.calls[i]);
        // Borrowed, not copied: the timer values are ten `Duration`s.
        let timers = &self.config.timers;
        let call = &mut self.calls[i];
        self.out.tei = tei;
        // A broadcast SETUP still on offer: what the call sends goes to the terminals that
        // answered it (the list is lent to the output for the time of the input).
        let broadcast = tei == TEI_GROUP;
        if broadcast {
            std::mem::swap(&mut self.out.answered, &mut call.offered);
        }
        let r = call.handle(now, side, timers, input, &mut self.out);
        if broadcast {
            std::mem::swap(&mut self.out.answered, &mut call.offered);
        }
        if call.state == CallState::Null {
            let (id, channel) = (call.id, call.channel);
            // Dropped where it lies; the calls after it, if any, move up (`remove` would also
            // move the call out, and call `memmove` for an empty tail).
            self.calls.drain(i..=i);
            if let Some(ch) = channel {
                self.channels.release(ch, id);
            }
        }
        r
    }

    fn index(&self, call: CallId) -> Result<usize, Q931Error> {
        self.calls.iter().position(|c| c.id == call).ok_or(Q931Error::UnknownCall(call))
    }

    // ---- layer 2 ----

    /// A DL-DATA-indication (or DL-UNIT-DATA-indication, `tei` = 127) payload. The message is
    /// read in place (a [`MessageView`]): its elements are decoded only where call control reads
    /// them.
    pub fn handle_dl_data(&mut self, now: Instant, tei: u8, octets: &[u8]) {
        let mut msg = MessageView::unread(octets);
        match msg.read() {
            Ok(()) => self.message(now, tei, &msg),
            Err(e) => log::debug!("q931 rx tei={tei}: ignored ({e}): {octets:02x?}"),
        }
    }

    fn message(&mut self, now: Instant, tei: u8, msg: &MessageView<'_>) {
        log::debug!("q931 rx tei={tei}: {msg}");
        if self.config.side == Side::Network && tei == TEI_GROUP {
            // Only the network broadcasts; a "broadcast" from a terminal has no data link to
            // answer on.
            return;
        }
        if msg.call_ref.len == 0 {
            // The dummy call reference carries supplementary services this stack does not run.
            return;
        }
        if msg.call_ref.is_global() {
            self.global_message(now, tei, msg);
            return;
        }
        match self.find(msg.call_ref.flag, msg.call_ref.value, tei) {
            Some(i) if self.calls[i].tei == TEI_GROUP && self.config.side == Side::Network => {
                self.offered_message(now, i, tei, msg)
            }
            Some(i) => self.call_message(now, i, msg),
            None => self.unknown_reference(tei, msg),
        }
    }

    /// DL-ESTABLISH-indication or -confirm on `tei`.
    pub fn handle_dl_established(&mut self, now: Instant, tei: u8) {
        if self.config.side == Side::User && tei != TEI_GROUP {
            self.own_tei = tei;
        }
        for call in self.calls_on(tei) {
            if let Ok(i) = self.index(call) {
                let _ = self.drive(now, i, Input::LinkEstablished);
            }
        }
    }

    /// Clears every call without a word on the line, each with cause `cause_value`: the line
    /// itself has gone (an HA relay moved it to the other node), so there is nobody to tell, but
    /// the other leg of each call must hear of it now rather than after T309.
    pub fn clear_all(&mut self, now: Instant, cause_value: u8) {
        let ids: Vec<CallId> = self.calls.iter().map(|c| c.id).collect();
        for call in ids {
            self.clear_internally(now, call, cause_value);
        }
    }

    /// A data link reset on `tei` lost the I frames in flight (§5.8.8: calls in the establishment
    /// phase and active calls are kept). A SETUP still unanswered is sent again at once rather
    /// than at T303's expiry: after a line comes back, the two data links often reset each other
    /// once (a SABME collision), and that reset swallows the first SETUP.
    pub fn handle_dl_reset(&mut self, now: Instant, tei: u8) {
        for call in self.calls_on(tei) {
            if let Ok(i) = self.index(call) {
                let _ = self.drive(now, i, Input::LinkReset);
            }
        }
    }

    /// DL-RELEASE-indication or -confirm on `tei`: active calls wait T309 for the link, the
    /// others are cleared (§5.8.9).
    pub fn handle_dl_released(&mut self, now: Instant, tei: u8) {
        self.offered_link_lost(now, tei);
        for call in self.calls_on(tei) {
            if let Ok(i) = self.index(call) {
                let _ = self.drive(now, i, Input::LinkReleased);
            }
        }
    }

    fn calls_on(&self, tei: u8) -> Vec<CallId> {
        self.calls.iter().filter(|c| self.config.side == Side::User || c.tei == tei).map(|c| c.id).collect()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        let ids: Vec<CallId> = self.calls.iter().map(|c| c.id).collect();
        for call in ids {
            while let Ok(i) = self.index(call) {
                let Some(timer) = self.calls[i].timers.expire(now) else { break };
                log::debug!("q931 {call}: {timer} expired");
                let _ = self.drive(now, i, Input::Timeout(timer));
            }
        }
        if self.restart.as_ref().is_some_and(|r| r.deadline <= now) {
            self.restart_timeout(now);
        }
    }

    // ---- requests ----

    fn allocate_cref(&mut self) -> Result<u16, Q931Error> {
        let max: u16 = if self.config.interface.cref_len() == 1 { 0x7f } else { 0x7fff };
        for _ in 0..max {
            let v = self.next_cref;
            self.next_cref = if v >= max { 1 } else { v + 1 };
            if !self.calls.iter().any(|c| c.ours && c.cref == v) {
                return Ok(v);
            }
        }
        Err(Q931Error::NoCallReferenceAvailable)
    }

    fn new_call_id(&mut self) -> CallId {
        let id = CallId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Places a call: SETUP goes out (as UI on TEI 127 from a point-to-multipoint network side).
    pub fn setup(&mut self, now: Instant, req: SetupRequest) -> Result<CallId, Q931Error> {
        let channel = match req.channel {
            Some(n) => match self.channels.status(n) {
                None => return Err(Q931Error::NoSuchChannel(n)),
                Some(ChannelStatus::Idle) => n,
                Some(_) => return Err(Q931Error::ChannelBusy(n)),
            },
            None => self.channels.first_idle().ok_or(Q931Error::NoChannelAvailable)?,
        };
        let cref = self.allocate_cref()?;
        let id = self.new_call_id();
        let tei = match (self.config.side, self.config.point_to_multipoint) {
            (Side::User, _) => self.own_tei,
            (Side::Network, true) => TEI_GROUP,
            (Side::Network, false) => 0,
        };
        let primary = self.config.interface.primary();
        // Variable-length elements go in ascending identifier order, which is the order of the
        // SETUP table (§3.1.14); sending complete goes last, where libpri puts it. Bearer (0x04),
        // channel (0x18), calling (0x6c), called (0x70) are in order already, so without further
        // elements they are written as they stand, with no element list built.
        let ies = if req.extra.is_empty() {
            Vec::new()
        } else {
            // Room for every element at once: bearer, channel, two numbers, sending complete.
            let mut ies = Vec::with_capacity(5 + req.extra.len());
            ies.push(Ie::BearerCapability(req.bearer.clone()));
            ies.push(Ie::ChannelId(super::ie::ChannelId::channel(primary, channel, req.exclusive)));
            ies.extend(req.calling.clone().map(Ie::CallingNumber));
            ies.extend(req.called.clone().map(Ie::CalledNumber));
            ies.extend(req.extra);
            ies.sort_by_key(Ie::id);
            if req.sending_complete {
                ies.push(Ie::SendingComplete);
            }
            ies
        };
        self.channels.assign(channel, id);
        // Built in its slot: `push` would build the call first and copy it in after making room.
        let i = self.calls.len();
        let cref_len = self.config.interface.cref_len();
        self.calls.resize_with(i + 1, || Call::new(id, cref, cref_len, true, tei, primary));
        self.out.tei = self.tei_of(&self.calls[i]);
        let call = &mut self.calls[i];
        call.channel = Some(channel);
        call.channel_sent = true;
        // Kept by the call for T303's repeat.
        let setup = self.out.send_kept(call.call_ref(), MessageType::Setup, |e| {
            if ies.is_empty() {
                e.bearer(&req.bearer);
                e.channel(primary, channel, req.exclusive);
                if let Some(n) = &req.calling {
                    e.number(id::CALLING_NUMBER, n);
                }
                if let Some(n) = &req.called {
                    e.number(id::CALLED_NUMBER, n);
                }
                if req.sending_complete {
                    e.sending_complete();
                }
            } else {
                for ie in &ies {
                    e.ie(ie);
                }
            }
        });
        call.sent_setup(now, self.config.side, &self.config.timers, setup);
        Ok(id)
    }

    /// Runs a request of the gateway through its call's machine.
    // Inlined into each request function below, with the call's table (see `Call::request`):
    // the request is a constant there, so the call is found and the request's rows reached with
    // no dispatch on the kind of input or of request.
    #[inline(always)]
    fn request(&mut self, now: Instant, call: CallId, req: Request<'_>) -> Result<(), Q931Error> {
        let i = self.index(call)?;
        let state = self.calls[i].state;
        self.drive(now, i, Input::Request(req)).map_err(|NotCompatible| Q931Error::InvalidState(call, state))
    }

    /// SETUP ACKNOWLEDGE: overlap receiving, more digits wanted.
    pub fn setup_ack(&mut self, now: Instant, call: CallId) -> Result<(), Q931Error> {
        self.request(now, call, Request::SetupAcknowledge)
    }

    pub fn proceeding(&mut self, now: Instant, call: CallId) -> Result<(), Q931Error> {
        self.request(now, call, Request::Proceeding)
    }

    pub fn alerting(&mut self, now: Instant, call: CallId) -> Result<(), Q931Error> {
        self.request(now, call, Request::Alerting(None))
    }

    /// ALERTING with a progress indicator (8: in-band information available, our ringback).
    pub fn alerting_with_progress(&mut self, now: Instant, call: CallId, description: u8) -> Result<(), Q931Error> {
        self.request(now, call, Request::Alerting(Some(description)))
    }

    /// PROGRESS with this description (8: in-band information available).
    pub fn progress(&mut self, now: Instant, call: CallId, description: u8) -> Result<(), Q931Error> {
        self.request(now, call, Request::Progress(description))
    }

    pub fn connect(&mut self, now: Instant, call: CallId) -> Result<(), Q931Error> {
        self.request(now, call, Request::Connect)
    }

    /// INFORMATION with more called-number digits (overlap sending).
    pub fn information(&mut self, now: Instant, call: CallId, digits: &str, complete: bool) -> Result<(), Q931Error> {
        self.request(now, call, Request::Information { digits, complete })
    }

    /// Clears the call with DISCONNECT (or, after the peer's DISCONNECT, with RELEASE).
    pub fn disconnect(&mut self, now: Instant, call: CallId, cause_value: u8) -> Result<(), Q931Error> {
        self.request(now, call, Request::Disconnect(cause_value))
    }

    /// Network side: DISCONNECT with progress indicator #8, keeping the B-channel for the tone
    /// we play until the user releases or T306 runs out (§5.3.4.1).
    pub fn disconnect_inband(&mut self, now: Instant, call: CallId, cause_value: u8) -> Result<(), Q931Error> {
        self.request(now, call, Request::DisconnectInband(cause_value))
    }

    /// RELEASE (or RELEASE COMPLETE when refusing a SETUP not yet answered).
    pub fn release(&mut self, now: Instant, call: CallId, cause_value: u8) -> Result<(), Q931Error> {
        self.request(now, call, Request::Release(cause_value))
    }

    /// Sends NOTIFY or FACILITY with the given elements (supplementary services the gateway
    /// runs itself); other message types are refused.
    pub fn pass_through(
        &mut self,
        now: Instant,
        call: CallId,
        msg_type: MessageType,
        ies: Vec<Ie>,
    ) -> Result<(), Q931Error> {
        self.request(now, call, Request::PassThrough(msg_type, ies))
    }

    // ---- received messages ----

    /// The call a message belongs to: `ours` is its call reference flag (set when the message
    /// goes towards the side that allocated the reference).
    fn find(&self, ours: bool, value: u16, tei: u8) -> Option<usize> {
        let net_ptmp = self.config.side == Side::Network && self.config.point_to_multipoint;
        // A broadcast SETUP of ours hears from every terminal until one connects (`offer`).
        self.calls.iter().position(|c| {
            c.ours == ours && c.cref == value && (!net_ptmp || c.tei == tei || (c.ours && c.tei == TEI_GROUP))
        })
    }

    fn unknown_reference(&mut self, tei: u8, msg: &MessageView<'_>) {
        let to = self.reply_tei(tei);
        let net_ptmp = self.config.side == Side::Network && self.config.point_to_multipoint;
        if net_ptmp && msg.call_ref.flag && self.calls.iter().any(|c| c.ours && c.cref == msg.call_ref.value) {
            // Another terminal answered our broadcast SETUP after the call went to the first
            // one: it is a non-selected user (§5.2.3.2), cleared with RELEASE #26.
            let reply = match msg.msg_type {
                MessageType::ReleaseComplete => return,
                MessageType::Release => MessageType::ReleaseComplete,
                _ => MessageType::Release,
            };
            let m = self.reply(msg, reply, cause::NON_SELECTED_USER_CLEARING, None);
            self.send(to, &m);
            return;
        }
        match msg.msg_type {
            MessageType::Setup if !msg.call_ref.flag => self.incoming_setup(tei, msg),
            MessageType::Setup | MessageType::ReleaseComplete => {}
            MessageType::StatusEnquiry => {
                let m = self.reply(msg, MessageType::Status, cause::RESPONSE_TO_STATUS_ENQUIRY, None);
                self.send(to, &m);
            }
            MessageType::Status if msg.call_state() == Some(0) => {}
            MessageType::Status => {
                let m = self.reply(msg, MessageType::ReleaseComplete, cause::MESSAGE_NOT_COMPATIBLE, None);
                self.send(to, &m);
            }
            _ => {
                let m = self.reply(msg, MessageType::ReleaseComplete, cause::INVALID_CALL_REFERENCE, None);
                self.send(to, &m);
            }
        }
    }

    /// Picks the channel for an incoming SETUP (§5.1.2, §5.2.3) or names the cause refusing it.
    fn select_channel(&mut self, msg: &MessageView<'_>) -> Result<Option<u8>, u8> {
        let any = |t: &ChannelTable| t.first_idle().map(Some).ok_or(cause::NO_CIRCUIT_AVAILABLE);
        let Some(cid) = msg.channel_choice() else { return any(&self.channels) };
        if cid.no_channel {
            return Ok(None);
        }
        let Some(wanted) = cid.first else { return any(&self.channels) };
        match self.channels.status(wanted) {
            Some(ChannelStatus::Idle) => Ok(Some(wanted)),
            Some(ChannelStatus::Busy(holder)) if self.config.side == Side::User && self.glare_loser(holder) => {
                // Glare: the network's call keeps the channel (§5.7), exclusive or preferred.
                // Ours is left without one: the network refuses it with #44 or names another
                // channel in its answer. (Picking another channel here instead would race with
                // the network picking one for our call.)
                if let Some(c) = self.calls.iter_mut().find(|c| c.id == holder) {
                    c.channel = None;
                }
                Ok(Some(wanted))
            }
            // A preferred channel in use: another idle one serves, and no call is lost.
            _ if !cid.exclusive && self.channels.first_idle().is_some() => any(&self.channels),
            _ if cid.exclusive => Err(cause::CHANNEL_NOT_AVAILABLE),
            _ => any(&self.channels),
        }
    }

    /// Whether the call holding a channel is our own SETUP still unanswered.
    fn glare_loser(&self, holder: CallId) -> bool {
        self.calls.iter().any(|c| c.id == holder && c.ours && c.state == CallState::CallInitiated)
    }

    // Kept out of `message`, whose every other message would carry its frame.
    #[inline(never)]
    fn incoming_setup(&mut self, tei: u8, msg: &MessageView<'_>) {
        let to = self.reply_tei(tei);
        let status_after = match msg.check() {
            Check::MandatoryMissing(i) => {
                let m = self.reply(msg, MessageType::ReleaseComplete, cause::MANDATORY_IE_MISSING, Some(i));
                self.send(to, &m);
                return;
            }
            Check::MandatoryInvalid(i) => {
                let m = self.reply(msg, MessageType::ReleaseComplete, cause::INVALID_IE_CONTENTS, Some(i));
                self.send(to, &m);
                return;
            }
            Check::OptionalInvalid(i) if i == id::CHANNEL_ID => {
                let m = self.reply(msg, MessageType::ReleaseComplete, cause::INVALID_IE_CONTENTS, Some(i));
                self.send(to, &m);
                return;
            }
            Check::OptionalInvalid(i) => Some((cause::INVALID_IE_CONTENTS, i)),
            Check::Unrecognized(i) => Some((cause::IE_NON_EXISTENT, i)),
            Check::Ok => None,
        };
        let channel = match self.select_channel(msg) {
            Ok(c) => c,
            Err(cause_value) => {
                let m = self.reply(msg, MessageType::ReleaseComplete, cause_value, None);
                self.send(to, &m);
                return;
            }
        };
        let id = self.new_call_id();
        if let Some(ch) = channel {
            self.channels.assign(ch, id);
        }
        // Built in its slot, as `setup` builds ours.
        let i = self.calls.len();
        let primary = self.config.interface.primary();
        self.calls.resize_with(i + 1, || Call::new(id, msg.call_ref.value, msg.call_ref.len, false, tei, primary));
        let call = &mut self.calls[i];
        call.state = match self.config.side {
            Side::User => CallState::CallPresent,
            Side::Network => CallState::CallInitiated,
        };
        call.channel = channel;
        call.keep_setup(Info::from_slice(msg.octets()));
        self.out.events.push_back(Q931Event::IncomingSetup {
            call: id,
            tei,
            channel,
            sending_complete: msg.sending_complete(),
        });
        if let Some((c, diag)) = status_after {
            let m = self.calls[i].status(c, self.config.side, Some(diag));
            let to = self.tei_of(&self.calls[i]);
            self.send(to, &m);
        }
    }

    pub(crate) fn call_status(&mut self, i: usize, cause_value: u8, diagnostic: Option<u8>) {
        let m = self.calls[i].status(cause_value, self.config.side, diagnostic);
        let to = self.tei_of(&self.calls[i]);
        self.send(to, &m);
    }

    /// A message for call `i`. Most are a call's ordinary messages with every element in order:
    /// they go straight to the call; the others (an unknown type, SETUP, STATUS ENQUIRY,
    /// STATUS, a §5.8.6 / §5.8.7 finding) take [`call_message_checked`](Self::call_message_checked).
    // Inlined into `message` with the call's table: the cold arms live apart, so a call's
    // ordinary message reaches its arm without another call frame.
    #[inline(always)]
    pub(crate) fn call_message(&mut self, now: Instant, i: usize, msg: &MessageView<'_>) {
        let check = msg.check();
        let plain = !matches!(
            msg.msg_type,
            MessageType::Unknown(_) | MessageType::Setup | MessageType::StatusEnquiry | MessageType::Status
        );
        if plain && check == Check::Ok {
            self.call_message_drive(now, i, msg, None, None);
        } else {
            self.call_message_checked(now, i, msg, check);
        }
    }

    /// [`call_message`](Self::call_message) for the messages that need more than the call's
    /// table: §5.8.4 (unknown type), §5.8.3.2 d (SETUP), §5.8.6 / §5.8.7 (the check's finding),
    /// §5.8.10 / §5.8.11 (STATUS ENQUIRY, STATUS).
    #[cold]
    #[inline(never)]
    fn call_message_checked(&mut self, now: Instant, i: usize, msg: &MessageView<'_>, check: Check) {
        if let MessageType::Unknown(o) = msg.msg_type {
            self.call_status(i, cause::MESSAGE_TYPE_NON_EXISTENT, Some(o));
            return;
        }
        if msg.msg_type == MessageType::Setup {
            // A SETUP for a reference in use is a repeat or a mistake (§5.8.3.2 d): ignore.
            return;
        }
        let clearing =
            matches!(msg.msg_type, MessageType::Disconnect | MessageType::Release | MessageType::ReleaseComplete);
        let mut error = None;
        let mut status_after = None;
        match check {
            Check::Ok => {}
            // Outside clearing, a message without its mandatory elements gets STATUS and
            // nothing else; DISCONNECT and RELEASE still clear, carrying the cause (§5.8.6).
            Check::MandatoryMissing(ie) if !clearing => {
                self.call_status(i, cause::MANDATORY_IE_MISSING, Some(ie));
                return;
            }
            Check::MandatoryInvalid(ie) if !clearing => {
                self.call_status(i, cause::INVALID_IE_CONTENTS, Some(ie));
                return;
            }
            Check::MandatoryMissing(_) => error = Some(cause::MANDATORY_IE_MISSING),
            Check::MandatoryInvalid(_) => error = Some(cause::INVALID_IE_CONTENTS),
            Check::OptionalInvalid(ie) if msg.msg_type == MessageType::Disconnect && ie == id::CAUSE => {
                error = Some(cause::INVALID_IE_CONTENTS);
            }
            Check::OptionalInvalid(ie) => status_after = Some((cause::INVALID_IE_CONTENTS, ie)),
            Check::Unrecognized(ie) => status_after = Some((cause::IE_NON_EXISTENT, ie)),
        }
        match msg.msg_type {
            MessageType::StatusEnquiry => {
                self.call_status(i, cause::RESPONSE_TO_STATUS_ENQUIRY, None);
                return;
            }
            MessageType::Status => {
                let call = self.calls[i].id;
                let peer_state = msg.call_state();
                let cause = msg.cause_value();
                self.out.events.push_back(Q931Event::Status { call: Some(call), cause, state: peer_state });
                match peer_state {
                    Some(0) => {
                        let _ = self.drive(now, i, Input::PeerNull(cause));
                    }
                    Some(p) if !compatible(self.calls[i].state, p) => {
                        // §5.8.11: a state that cannot match ours ends the call with #101.
                        let c = cause::MESSAGE_NOT_COMPATIBLE;
                        let _ = self.drive(now, i, Input::Request(Request::Release(c)));
                    }
                    _ => {}
                }
                return;
            }
            _ => {}
        }
        self.call_message_drive(now, i, msg, error, status_after);
    }

    /// Runs a message through call `i`'s table: STATUS #101 when it does not fit the state
    /// (§5.8.4), else the STATUS the check asked for after acting on it (§5.8.7).
    #[inline(always)]
    fn call_message_drive(
        &mut self,
        now: Instant,
        i: usize,
        msg: &MessageView<'_>,
        error: Option<u8>,
        status_after: Option<(u8, u8)>,
    ) {
        self.take_answered_channel(i, msg);
        let call = self.calls[i].id;
        if self.drive(now, i, Input::Message { msg, error }).is_err() {
            self.not_compatible(call, msg.msg_type);
            return;
        }
        if let Some((c, diag)) = status_after {
            if let Ok(i) = self.index(call) {
                self.call_status(i, c, Some(diag));
            }
        }
    }

    /// A message its call's state does not take: STATUS #101 (§5.8.4).
    #[cold]
    #[inline(never)]
    fn not_compatible(&mut self, call: CallId, msg_type: MessageType) {
        if let Ok(i) = self.index(call) {
            self.call_status(i, cause::MESSAGE_NOT_COMPATIBLE, Some(msg_type.octet()));
        }
    }

    /// The first answer to our SETUP may move a preferred channel elsewhere (§5.1.2).
    // Inlined: most messages name no channel, or are not for a call of ours.
    #[inline]
    pub(crate) fn take_answered_channel(&mut self, i: usize, msg: &MessageView<'_>) {
        let call = &self.calls[i];
        if call.ours && !call.state.clearing() && msg.has(id::CHANNEL_ID) {
            self.take_named_channel(i, msg);
        }
    }

    /// [`take_answered_channel`](Self::take_answered_channel) for a message that names one.
    #[inline(never)]
    fn take_named_channel(&mut self, i: usize, msg: &MessageView<'_>) {
        let call = &self.calls[i];
        let Some(n) = msg.first_channel() else { return };
        if call.channel == Some(n) || !matches!(self.channels.status(n), Some(ChannelStatus::Idle)) {
            return;
        }
        let id = call.id;
        if let Some(old) = call.channel {
            self.channels.release(old, id);
        }
        self.channels.assign(n, id);
        self.calls[i].channel = Some(n);
    }

    /// Clears a call without a message on the line (RESTART, link loss), freeing its channel.
    pub(crate) fn clear_internally(&mut self, now: Instant, call: CallId, cause_value: u8) {
        if let Ok(i) = self.index(call) {
            let _ = self.drive(now, i, Input::ClearInternally(cause_value));
        }
    }

    pub(crate) fn global_message(&mut self, now: Instant, tei: u8, msg: &MessageView<'_>) {
        match msg.msg_type {
            MessageType::Restart => self.restart_received(now, tei, msg),
            MessageType::RestartAcknowledge => self.restart_acknowledged(msg),
            MessageType::Status => {
                self.out.events.push_back(Q931Event::Status {
                    call: None,
                    cause: msg.cause_value(),
                    state: msg.call_state(),
                });
            }
            _ => {
                let m = self.reply(msg, MessageType::Status, cause::INVALID_CALL_REFERENCE, None);
                let to = self.reply_tei(tei);
                self.send(to, &m);
            }
        }
    }

    /// Whether `timer` runs for `call` (for tests and status pages).
    pub fn timer_running(&self, call: CallId, timer: Timer) -> bool {
        self.call(call).is_some_and(|c| c.timers.running(timer))
    }
}

/// Whether the peer's call state (from STATUS) can belong to the same call as ours (§5.8.11).
///
/// Both sides number a call the user placed 1–4 and one the network placed 6–9 and 25, so the
/// peer may be a step ahead or behind (messages in flight), active, or clearing, but never in
/// the other direction's establishment states, nor in a state that does not exist.
fn compatible(ours: CallState, peer: u8) -> bool {
    const USER_PLACED: [u8; 4] = [1, 2, 3, 4];
    const NETWORK_PLACED: [u8; 5] = [6, 7, 8, 9, 25];
    let ours = ours.number();
    let valid = USER_PLACED.contains(&peer) || NETWORK_PLACED.contains(&peer) || [10, 11, 12, 19].contains(&peer);
    let crossed = (USER_PLACED.contains(&ours) && NETWORK_PLACED.contains(&peer))
        || (NETWORK_PLACED.contains(&ours) && USER_PLACED.contains(&peer));
    ours == 19 || (valid && !crossed)
}
