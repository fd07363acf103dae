//! The data-link entity of one D-channel: routes frames to the data link of their TEI or to TEI
//! management, and layer 3 primitives to the right data link.
//!
//! On the TE side and in point-to-point mode there is exactly one data link; on the NT side in
//! point-to-multipoint mode there is one per assigned TEI, created by the TEI assigner, plus the
//! broadcast data link (TEI 127), which only carries UI frames and so needs no state.

use std::fmt;
use std::time::Instant;

use super::frame::{
    Address, Control, Frame, FrameRepr, ParseError, UFunction, SAPI_CALL_CONTROL, SAPI_MANAGEMENT, TEI_GROUP,
};
use super::link::{ack_bit, DataLink, LinkEvent, LinkStatus, Outputs, SFrame, LINK_IDS};
use super::tei::{NetworkAction, TeiAssigner, TeiUser, UserAction, AUTOMATIC_TEIS};
use super::{DlData, MdlError, Mode, Q921Config, Q921Event, Role, N201_MAX};

/// Why a layer 3 request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestError {
    /// The NT side in point-to-multipoint mode has a data link per TEI: say which.
    NeedTei,
    /// No data link holds this TEI.
    NoSuchTei(u8),
    /// The message is longer than N201 octets.
    TooLong { len: usize, n201: usize },
    /// DL-DATA-request on a data link that is neither established nor being established.
    NotEstablished,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::NeedTei => f.write_str("point-to-multipoint network side: the request must name a TEI"),
            RequestError::NoSuchTei(tei) => write!(f, "no data link with TEI {tei}"),
            RequestError::TooLong { len, n201 } => write!(f, "{len} octets exceed N201 = {n201}"),
            RequestError::NotEstablished => f.write_str("data link not established"),
        }
    }
}

impl std::error::Error for RequestError {}

/// D-channel counters for the status page and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Q921Counters {
    pub frames_received: u64,
    pub frames_sent: u64,
    /// Invalid frames discarded unseen (too short, bad address; Q.921 §2.9).
    pub frames_discarded: u64,
    /// MDL-ERROR-indications of every data link.
    pub mdl_errors: u64,
}

/// The Q.921 entity of one D-channel. See the module doc of [`crate::isdn::q921`].
#[derive(Debug)]
pub struct Q921 {
    config: Q921Config,
    counters: Q921Counters,
    links: Vec<DataLink>,
    tei_user: Option<TeiUser>,
    assigner: Option<TeiAssigner>,
    /// Layer 1 as last indicated; a data link created while it is down starts knowing it.
    layer1_active: bool,
    out: Outputs,
    /// The RR (RNR) [`poll_transmit`](Self::poll_transmit) lends when a data link still owes an
    /// acknowledgement once the transmit queue is drained.
    ack_frame: [u8; 4],
}

impl Q921 {
    pub fn new(config: Q921Config) -> Q921 {
        let params = config.link_params();
        let (links, tei_user, assigner) = match (config.role, config.mode) {
            (role, Mode::PointToPoint) => (vec![DataLink::new(1, role, params, Some(0))], None, None),
            (Role::Te, Mode::PointToMultipoint) => (
                vec![DataLink::new(1, Role::Te, params, None)],
                Some(TeiUser::new(config.t202, config.n202, config.seed)),
                None,
            ),
            (Role::Nt, Mode::PointToMultipoint) => (Vec::new(), None, Some(TeiAssigner::new(config.t201))),
        };
        Q921 {
            config,
            counters: Q921Counters::default(),
            links,
            tei_user,
            assigner,
            layer1_active: true,
            out: Outputs::default(),
            ack_frame: [0; 4],
        }
    }

    pub fn config(&self) -> &Q921Config {
        &self.config
    }

    /// One received frame (address, control, information; the FCS already stripped).
    ///
    /// The layer 3 message of an I or UI frame is returned, lent from `octets`, when no event
    /// queued before it is waiting in [`poll_event`](Self::poll_event) (as after every drain);
    /// otherwise it is queued behind them as a [`Q921Event::DataIndication`] (or
    /// `UnitDataIndication`). Hand the returned message to layer 3 before polling the events
    /// this frame queued, which come after it.
    #[must_use = "a DL-DATA-indication carried by the frame is delivered only here"]
    // Inlined into the caller's loop over the frames it read: the quick path (an I frame or RR
    // on an established link) is short beside a call's saved registers and a lent message
    // returned through memory (the bench measured 290 Ir per call cycle, ~32 per frame).
    #[inline(always)]
    pub fn handle_frame<'a>(&mut self, now: Instant, octets: &'a [u8]) -> Option<DlData<'a>> {
        self.counters.frames_received += 1;
        // The frames of every call (I frames and RRs on SAPI 0) are decoded in one quick pass and,
        // when their data link is there, handed to it at once. Any other frame, or one for a TEI
        // no data link holds, is decoded by the checked rules (which accept those just the same)
        // and routed by `other_frame`, out of line so that the quick path keeps nothing for it.
        if let Some(frame) = FrameRepr::parse_call_frame(octets) {
            if let Some(i) = self.link_index(frame.address.tei) {
                self.link_frame(now, i, &frame);
                return self.finish(now, &frame);
            }
        }
        self.other_frame(now, octets)
    }

    /// What follows every frame: layer management acts, and the message lent to layer 3 from
    /// the frame's information field, if any, is returned with the frame's TEI (its data
    /// link's, or 127 for the broadcast data link).
    #[inline(always)]
    fn finish<'a>(&mut self, now: Instant, frame: &FrameRepr<'a>) -> Option<DlData<'a>> {
        self.after(now);
        let unit = self.out.lent.take()?;
        Some(DlData { tei: frame.address.tei, unit, data: frame.info })
    }

    /// Decodes and routes any frame but an I frame or RR on a data link we have: to TEI
    /// management, the broadcast data link or the data link of its TEI.
    #[inline(never)]
    fn other_frame<'a>(&mut self, now: Instant, octets: &'a [u8]) -> Option<DlData<'a>> {
        let frame = match FrameRepr::parse_checked(octets) {
            Ok(frame) => frame,
            Err(e) => {
                self.invalid_frame(now, octets, e);
                return None;
            }
        };
        match (frame.address.sapi, frame.address.tei) {
            (SAPI_MANAGEMENT, TEI_GROUP) => {
                if let Some(msg) = frame.tei_message() {
                    self.tei_message(now, &msg);
                }
            }
            (SAPI_CALL_CONTROL, TEI_GROUP) => self.broadcast_frame(&frame),
            (SAPI_CALL_CONTROL, tei) => match self.link_index(tei) {
                Some(i) => self.link_frame(now, i, &frame),
                None => self.unknown_tei(now, tei),
            },
            (sapi, _) => log::debug!("q921: frame for unsupported SAPI {sapi}"),
        }
        self.finish(now, &frame)
    }

    /// A frame for data link `i`, deciding command or response from the C/R bit and the peer's
    /// side. I and S frames (those of every call) reach the arms of the established states
    /// directly; U frames go through the link's table.
    #[inline(always)]
    fn link_frame(&mut self, now: Instant, i: usize, frame: &FrameRepr<'_>) {
        match frame.control {
            Control::I { ns, nr, p } => self.links[i].handle_i(now, ns, nr, p, frame.info, &mut self.out),
            Control::S { function, nr, pf } => {
                let command = frame.address.is_command(self.config.role.peer());
                self.links[i].handle_s(now, SFrame { function, nr, command, pf }, &mut self.out);
            }
            Control::U { function, pf } => self.u_frame(now, i, function, pf, frame.info),
        }
    }

    /// A U frame for data link `i`, as the event it is to the link.
    #[inline(never)]
    fn u_frame(&mut self, now: Instant, i: usize, function: UFunction, pf: bool, info: &[u8]) {
        let event = match function {
            UFunction::Sabme => LinkEvent::Sabme { p: pf },
            UFunction::Disc => LinkEvent::Disc { p: pf },
            UFunction::Ua => LinkEvent::Ua { f: pf },
            UFunction::Dm => LinkEvent::Dm { f: pf },
            UFunction::Frmr => LinkEvent::Frmr,
            UFunction::Ui => LinkEvent::Ui(info),
            // XID is optional in LAPD (§5.4 Note) and we offer no parameter negotiation.
            UFunction::Xid => return,
        };
        self.links[i].handle(now, event, &mut self.out);
    }

    /// A frame that does not parse: discarded unseen when its address is unsound or it is too
    /// short (§2.9), else a frame-rejection condition (§5.8.5) for its data link.
    #[cold]
    fn invalid_frame(&mut self, now: Instant, octets: &[u8], e: ParseError) {
        let code = match e {
            ParseError::TooShort | ParseError::BadAddress => {
                self.counters.frames_discarded += 1;
                log::debug!("q921: discarded invalid frame {octets:02x?}");
                return;
            }
            ParseError::InfoNotPermitted => MdlError::M,
            ParseError::WrongLength => MdlError::N,
            _ => MdlError::L,
        };
        // The address is sound (checked first), so the rejection goes to its data link.
        let view = Frame::new_unchecked(octets);
        if view.sapi() == SAPI_CALL_CONTROL {
            if let Some(i) = self.link_index(view.tei()) {
                self.links[i].handle(now, LinkEvent::Rejected(code), &mut self.out);
            }
        }
        self.after(now);
    }

    /// A frame on the broadcast data link (TEI 127): only UI frames mean anything there.
    fn broadcast_frame(&mut self, frame: &FrameRepr<'_>) {
        if let Control::U { function: UFunction::Ui, .. } = frame.control {
            if frame.info.len() <= self.config.n201.min(N201_MAX) {
                self.out.indicate(Some(TEI_GROUP), true, frame.info);
            } else {
                // Longer than N201 (§5.8.5): there is no data link to recover, so it goes.
                self.counters.frames_discarded += 1;
            }
        }
    }

    /// A frame on SAPI 0 for a TEI no data link holds: on the network side, a terminal still
    /// using a TEI we do not know (after our restart, or one we removed) is told to drop it, so
    /// that it asks again.
    fn unknown_tei(&mut self, now: Instant, tei: u8) {
        if let Some(assigner) = &mut self.assigner {
            if AUTOMATIC_TEIS.contains(&tei) {
                let mut actions = Vec::new();
                assigner.remove(tei, &mut self.out, &mut actions);
                self.network_actions(now, actions);
            }
        }
    }

    fn tei_message(&mut self, now: Instant, msg: &super::TeiMessage<'_>) {
        if let Some(user) = &mut self.tei_user {
            let tei = self.links.first().and_then(|l| l.tei);
            let action = user.handle_message(msg, tei, &mut self.out);
            self.user_action(now, action);
        } else if let Some(assigner) = &mut self.assigner {
            let mut actions = Vec::new();
            assigner.handle_message(now, msg, &mut self.out, &mut actions);
            self.network_actions(now, actions);
        }
    }

    fn user_action(&mut self, now: Instant, action: UserAction) {
        let Some(link) = self.links.first_mut() else { return };
        match action {
            UserAction::None => {}
            UserAction::Assign(tei) => {
                self.out.events.push_back(Q921Event::TeiAssigned { tei });
                link.handle(now, LinkEvent::MdlAssignRequest(tei), &mut self.out);
            }
            UserAction::Remove => {
                let old = link.tei;
                link.handle(now, LinkEvent::MdlRemoveRequest, &mut self.out);
                if let Some(tei) = old {
                    self.out.events.push_back(Q921Event::TeiRemoved { tei });
                }
            }
            UserAction::Failed => link.handle(now, LinkEvent::MdlErrorResponse, &mut self.out),
        }
    }

    fn network_actions(&mut self, now: Instant, actions: Vec<NetworkAction>) {
        for action in actions {
            match action {
                NetworkAction::Assign(tei) => {
                    self.links.retain(|l| l.tei != Some(tei));
                    // At most 63 links live at once: a free id is always found.
                    let id = (1..LINK_IDS).find(|id| self.links.iter().all(|l| l.id != *id)).unwrap_or(LINK_IDS - 1);
                    let mut link = DataLink::new(id, Role::Nt, self.config.link_params(), Some(tei));
                    if !self.layer1_active {
                        link.handle(now, LinkEvent::PhDeactivate, &mut self.out);
                    }
                    self.links.push(link);
                    self.out.events.push_back(Q921Event::TeiAssigned { tei });
                }
                NetworkAction::Remove(tei) => {
                    if let Some(i) = self.link_index(tei) {
                        let mut link = self.links.remove(i);
                        link.handle(now, LinkEvent::MdlRemoveRequest, &mut self.out);
                        self.out.events.push_back(Q921Event::TeiRemoved { tei });
                    }
                }
            }
        }
    }

    /// Layer management's part after any input: give a TEI to a link that wants one, and act on
    /// MDL-ERRORs that hint at a TEI problem.
    ///
    /// Inlined: it runs after every frame and almost always has nothing to do.
    #[inline]
    fn after(&mut self, now: Instant) {
        if self.out.assign_needed || !self.out.mdl_errors.is_empty() {
            self.layer_management(now);
        }
    }

    #[cold]
    fn layer_management(&mut self, now: Instant) {
        if std::mem::take(&mut self.out.assign_needed) {
            if let Some(user) = &mut self.tei_user {
                user.request(now, &mut self.out);
            }
        }
        let errors = std::mem::take(&mut self.out.mdl_errors);
        self.counters.mdl_errors += u64::try_from(errors.len()).unwrap_or(u64::MAX);
        for (tei, code) in errors {
            let Some(tei) = tei else { continue };
            if !code.suspects_tei() {
                continue;
            }
            if let Some(user) = &mut self.tei_user {
                user.verify(now, tei, &mut self.out);
            } else if let Some(assigner) = &mut self.assigner {
                assigner.check(now, tei, &mut self.out);
            }
        }
    }

    /// Runs every timer due by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for link in &mut self.links {
            link.handle_timeout(now, &mut self.out);
        }
        if let Some(user) = &mut self.tei_user {
            let tei = self.links.first().and_then(|l| l.tei);
            let action = user.handle_timeout(now, tei, &mut self.out);
            self.user_action(now, action);
        }
        if let Some(assigner) = &mut self.assigner {
            let mut actions = Vec::new();
            assigner.handle_timeout(now, &mut self.out, &mut actions);
            self.network_actions(now, actions);
        }
        self.after(now);
    }

    /// The data link holding a TEI. The first is looked at before any search: it is the only
    /// one on the TE side and in point-to-point mode, where every frame is for it.
    #[inline(always)]
    fn link_index(&self, tei: u8) -> Option<usize> {
        match self.links.first() {
            Some(first) if first.tei == Some(tei) => Some(0),
            _ => self.links.iter().position(|l| l.tei == Some(tei)),
        }
    }

    /// The single data link, or an error on the NT side in point-to-multipoint mode.
    fn default_link(&self) -> Result<usize, RequestError> {
        if self.assigner.is_some() {
            Err(RequestError::NeedTei)
        } else {
            Ok(0)
        }
    }

    fn request(&mut self, now: Instant, index: usize, event: LinkEvent<'_>) {
        self.links[index].handle(now, event, &mut self.out);
        self.after(now);
    }

    /// DL-ESTABLISH-request on the single data link (TE, or point-to-point).
    pub fn dl_establish_request(&mut self, now: Instant) -> Result<(), RequestError> {
        let i = self.default_link()?;
        self.request(now, i, LinkEvent::DlEstablishRequest);
        Ok(())
    }

    /// DL-ESTABLISH-request on the data link of one TEI.
    pub fn dl_establish_request_tei(&mut self, now: Instant, tei: u8) -> Result<(), RequestError> {
        let i = self.link_index(tei).ok_or(RequestError::NoSuchTei(tei))?;
        self.request(now, i, LinkEvent::DlEstablishRequest);
        Ok(())
    }

    /// DL-RELEASE-request on the single data link.
    pub fn dl_release_request(&mut self, now: Instant) -> Result<(), RequestError> {
        let i = self.default_link()?;
        self.request(now, i, LinkEvent::DlReleaseRequest);
        Ok(())
    }

    /// DL-RELEASE-request on the data link of one TEI.
    pub fn dl_release_request_tei(&mut self, now: Instant, tei: u8) -> Result<(), RequestError> {
        let i = self.link_index(tei).ok_or(RequestError::NoSuchTei(tei))?;
        self.request(now, i, LinkEvent::DlReleaseRequest);
        Ok(())
    }

    /// DL-DATA-request on the single data link: the message goes out in I frames once the link is
    /// established and the window allows.
    pub fn dl_data_request(&mut self, now: Instant, data: &[u8]) -> Result<(), RequestError> {
        let i = self.default_link()?;
        self.data_request(now, i, data)
    }

    /// DL-DATA-request on the data link of one TEI.
    pub fn dl_data_request_tei(&mut self, now: Instant, tei: u8, data: &[u8]) -> Result<(), RequestError> {
        let i = self.link_index(tei).ok_or(RequestError::NoSuchTei(tei))?;
        self.data_request(now, i, data)
    }

    // Always inlined into the two requests: this is every I frame layer 3 sends.
    #[inline(always)]
    fn data_request(&mut self, now: Instant, i: usize, data: &[u8]) -> Result<(), RequestError> {
        let n201 = self.config.n201.min(N201_MAX);
        if data.len() > n201 {
            return Err(RequestError::TooLong { len: data.len(), n201 });
        }
        let link = &mut self.links[i];
        if !link.takes_data() {
            return Err(RequestError::NotEstablished);
        }
        // Queueing data asks nothing of layer management: no `after`.
        link.handle_data_request(now, data, &mut self.out);
        Ok(())
    }

    /// DL-UNIT-DATA-request: a UI frame on the broadcast data link (NT, point-to-multipoint) or on
    /// the single data link (asking for a TEI first when the TE has none).
    pub fn dl_unit_data_request(&mut self, now: Instant, data: &[u8]) -> Result<(), RequestError> {
        let n201 = self.config.n201.min(N201_MAX);
        if data.len() > n201 {
            return Err(RequestError::TooLong { len: data.len(), n201 });
        }
        if self.assigner.is_some() {
            let frame = FrameRepr {
                address: Address::new(SAPI_CALL_CONTROL, TEI_GROUP, Role::Nt, true),
                control: Control::U { function: UFunction::Ui, pf: false },
                info: data,
            };
            let (header, len) = frame.header();
            self.out.send_parts(&header[..len], data);
            return Ok(());
        }
        self.request(now, 0, LinkEvent::DlUnitDataRequest(data));
        Ok(())
    }

    /// PH-DEACTIVATE-indication from layer 1 (the span went into alarm and its `layer1_presence`
    /// is `required`): every data link is released at once and none is established until
    /// [`ph_activate_indication`](Self::ph_activate_indication); DL-ESTABLISH-requests meanwhile
    /// get a DL-RELEASE-indication.
    pub fn ph_deactivate_indication(&mut self, now: Instant) {
        self.layer1_active = false;
        for link in &mut self.links {
            link.handle(now, LinkEvent::PhDeactivate, &mut self.out);
        }
        self.after(now);
    }

    /// PH-ACTIVATE-indication: layer 1 is back; `keep_up` links are brought up again.
    pub fn ph_activate_indication(&mut self, now: Instant) {
        self.layer1_active = true;
        for link in &mut self.links {
            link.handle(now, LinkEvent::PhActivate, &mut self.out);
        }
        self.after(now);
    }

    /// Whether layer 1 is taken as active (it is until told otherwise).
    pub fn layer1_active(&self) -> bool {
        self.layer1_active
    }

    /// Sets or clears the own receiver busy condition on every data link (RNR / RR, §5.6.5).
    pub fn set_own_busy(&mut self, now: Instant, busy: bool) {
        for link in &mut self.links {
            link.handle(now, LinkEvent::OwnBusy(busy), &mut self.out);
        }
        self.after(now);
    }

    /// Starts the identity check procedure for a TEI (NT, point-to-multipoint).
    pub fn check_tei(&mut self, now: Instant, tei: u8) -> Result<(), RequestError> {
        let assigner = self.assigner.as_mut().ok_or(RequestError::NoSuchTei(tei))?;
        if !assigner.in_use(tei) {
            return Err(RequestError::NoSuchTei(tei));
        }
        assigner.check(now, tei, &mut self.out);
        Ok(())
    }

    /// Removes a TEI (NT, point-to-multipoint): Identity remove, and its data link is dropped.
    pub fn remove_tei(&mut self, now: Instant, tei: u8) -> Result<(), RequestError> {
        let assigner = self.assigner.as_mut().ok_or(RequestError::NoSuchTei(tei))?;
        let mut actions = Vec::new();
        assigner.remove(tei, &mut self.out, &mut actions);
        self.network_actions(now, actions);
        self.after(now);
        Ok(())
    }

    /// The next frame to send (no FCS), lent until the entity is next used.
    ///
    /// Once every queued frame has been taken, the RR (or RNR) of each data link still owing an
    /// acknowledgement comes (§5.6.2.1): drain after layer 3 has answered what arrived and sent
    /// its answer down, so that the answer's I frame carries the acknowledgement instead.
    // Inlined into the caller's crate: the event loop drains the queue after every input, most
    // often to find it empty.
    #[inline]
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        if self.out.transmit.is_empty() {
            if self.out.acks_owed == 0 {
                return None;
            }
            return self.owed_ack();
        }
        let (_, frame) = self.out.transmit.pop()?;
        self.counters.frames_sent += 1;
        Some(frame)
    }

    /// The RR (RNR) of the first data link that still owes an acknowledgement, lent like a
    /// queued frame; the next polls find the others'.
    #[inline(never)]
    fn owed_ack(&mut self) -> Option<&[u8]> {
        for link in &mut self.links {
            let bit = ack_bit(link.id);
            if self.out.acks_owed & bit != 0 {
                self.out.acks_owed &= !bit;
                if let Some(frame) = link.owed_ack() {
                    self.counters.frames_sent += 1;
                    self.ack_frame = frame;
                    return Some(&self.ack_frame);
                }
            }
        }
        // Any bit left is of a link that went away.
        self.out.acks_owed = 0;
        None
    }

    pub fn counters(&self) -> Q921Counters {
        self.counters
    }

    /// The next primitive for layer 3 or layer management.
    // Inlined for the same reason as `poll_transmit`.
    #[inline]
    pub fn poll_event(&mut self) -> Option<Q921Event> {
        self.out.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next run.
    // Inlined for the same reason as `poll_transmit`: the event loop asks after every input.
    #[inline]
    pub fn poll_timeout(&self) -> Option<Instant> {
        // A plain fold rather than a chain of iterators: the event loop asks after every input.
        let earlier = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut next = self.tei_user.as_ref().and_then(TeiUser::poll_timeout);
        if let Some(assigner) = &self.assigner {
            next = earlier(next, assigner.poll_timeout());
        }
        for link in &self.links {
            next = earlier(next, link.poll_timeout());
        }
        next
    }

    /// Every data link's state and variables.
    pub fn links(&self) -> Vec<LinkStatus> {
        self.links.iter().map(DataLink::status).collect()
    }

    /// The single data link's status (TE, or point-to-point); `None` on the NT side in
    /// point-to-multipoint mode.
    pub fn link(&self) -> Option<LinkStatus> {
        if self.assigner.is_some() {
            None
        } else {
            self.links.first().map(DataLink::status)
        }
    }
}
