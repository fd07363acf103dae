//! The data-link procedure of one TEI: the Q.921 Annex B SDL as one `match (state, event)`.
//!
//! A `DataLink` knows nothing of other links or of TEI management: the entity in `entity.rs`
//! feeds it primitives, frames and timer expiries, and reads back what it queued in `Outputs`
//! (frames, DL primitives for layer 3, MDL primitives for layer management). The state table is
//! in the module doc of [`crate::isdn::q921`]. The procedures of the established states are in
//! `established.rs`, the I queue in `i_queue.rs`.

mod established;
mod i_queue;

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::frame::{Address, Control, FrameRepr, SFunction, UFunction, SAPI_CALL_CONTROL};
use super::{Info, Layer2Persistence, MdlError, Q921Event, Role, Timer};
use crate::isdn::octets::FrameQueue;

use i_queue::IQueue;

/// The data-link states of Q.921 Annex B (numbered there 1 to 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    TeiUnassigned,
    AssignAwaitingTei,
    EstablishAwaitingTei,
    TeiAssigned,
    AwaitingEstablishment,
    AwaitingRelease,
    MultipleFrameEstablished,
    TimerRecovery,
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkState::TeiUnassigned => "TEI_UNASSIGNED",
            LinkState::AssignAwaitingTei => "ASSIGN_AWAITING_TEI",
            LinkState::EstablishAwaitingTei => "ESTABLISH_AWAITING_TEI",
            LinkState::TeiAssigned => "TEI_ASSIGNED",
            LinkState::AwaitingEstablishment => "AWAITING_ESTABLISHMENT",
            LinkState::AwaitingRelease => "AWAITING_RELEASE",
            LinkState::MultipleFrameEstablished => "MULTIPLE_FRAME_ESTABLISHED",
            LinkState::TimerRecovery => "TIMER_RECOVERY",
        })
    }
}

/// The system parameters of one data link (Q.921 §5.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkParams {
    /// Maximum number of outstanding I frames.
    pub k: u8,
    /// Maximum number of retransmissions.
    pub n200: u8,
    /// Maximum number of octets in an information field.
    pub n201: usize,
    pub t200: Duration,
    pub t203: Duration,
    pub persistence: Layer2Persistence,
}

/// What a data link (or the TEI procedures) queued while handling one input.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    /// Frames to send, whole (their tags unused: 0).
    pub(crate) transmit: FrameQueue,
    pub(crate) events: VecDeque<Q921Event>,
    /// The information field of the frame being handled is a DL-DATA- (or, with `true`,
    /// DL-UNIT-DATA-) indication on the frame's TEI, which the entity lends to layer 3 from the
    /// frame instead of queueing a copy (see [`Outputs::indicate`]).
    pub(crate) lent: Option<bool>,
    /// MDL-ASSIGN-indication: the link needs a TEI.
    pub(crate) assign_needed: bool,
    /// MDL-ERROR-indications for layer management to act on (Q.921 Table II.1).
    pub(crate) mdl_errors: Vec<(Option<u8>, MdlError)>,
    /// The links that may owe the peer an acknowledgement (bit `id` per link id, see
    /// [`DataLink::owed_ack`]): set when a link comes to owe one, cleared when an I frame
    /// or the drain pays it. The link's own `ack_pending` is the debt; a bit only says where to
    /// look. A bit may stay set for a link that no longer owes (a reset or an S frame paid, or it
    /// left the established states, which drop the debt): the drain finds nothing to send there.
    /// A link that owes in an established state always has its bit set.
    pub(crate) acks_owed: u64,
}

/// Link ids are below this, so that each has its bit in [`Outputs::acks_owed`]: an entity has
/// at most 63 links (one per automatic TEI), whose ids are 1 to 63.
pub(crate) const LINK_IDS: u8 = 64;

/// The bit of link `id` in [`Outputs::acks_owed`].
#[inline(always)]
pub(crate) fn ack_bit(id: u8) -> u64 {
    debug_assert!(id < LINK_IDS, "link id {id} has no bit");
    1 << id
}

impl Outputs {
    /// Queues a frame (address, control, information).
    #[inline]
    pub(crate) fn send(&mut self, frame: &[u8]) {
        self.transmit.push(0, frame);
    }

    /// Queues a frame given as its header and information field.
    #[inline]
    pub(crate) fn send_parts(&mut self, header: &[u8], info: &[u8]) {
        self.transmit.push_parts(0, header, info);
    }

    /// Hands a received layer 3 message up: lent from its frame when nothing queued is due
    /// before it (the entity's caller drains the events after every input, so in the steady
    /// state always), else queued as a copy behind what is. `tei` is the frame's (the entity
    /// finds a data link by its TEI), which goes with the lent message too.
    #[inline(always)]
    pub(crate) fn indicate(&mut self, tei: Option<u8>, unit: bool, info: &[u8]) {
        if self.events.is_empty() && self.lent.is_none() {
            self.lent = Some(unit);
        } else {
            self.queue_indication(tei, unit, info);
        }
    }

    #[cold]
    fn queue_indication(&mut self, tei: Option<u8>, unit: bool, info: &[u8]) {
        let data = Info::from_slice(info);
        self.events.push_back(if unit {
            Q921Event::UnitDataIndication { tei, data }
        } else {
            Q921Event::DataIndication { tei, data }
        });
    }
}

/// One input to the data-link procedure.
#[derive(Debug)]
pub(crate) enum LinkEvent<'a> {
    DlEstablishRequest,
    DlReleaseRequest,
    DlUnitDataRequest(&'a [u8]),
    MdlAssignRequest(u8),
    MdlRemoveRequest,
    /// TEI assignment failed (MDL-ERROR-response from layer management).
    MdlErrorResponse,
    /// Set or clear the own receiver busy condition.
    OwnBusy(bool),
    Sabme {
        p: bool,
    },
    Disc {
        p: bool,
    },
    Ua {
        f: bool,
    },
    Dm {
        f: bool,
    },
    Frmr,
    Ui(&'a [u8]),
    I {
        ns: u8,
        nr: u8,
        p: bool,
        info: &'a [u8],
    },
    S(SFrame),
    /// A frame-rejection condition (§5.8.5) with its MDL-ERROR code L, M, N or O.
    Rejected(MdlError),
    Expiry(Timer),
    /// PH-DEACTIVATE-indication (or MPH-DEACTIVATE-indication): layer 1 is gone.
    PhDeactivate,
    /// PH-ACTIVATE-indication: layer 1 is back.
    PhActivate,
}

/// A received S frame, as the data-link procedure reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SFrame {
    pub(crate) function: SFunction,
    pub(crate) nr: u8,
    /// Command rather than response (from the C/R bit and who sent it).
    pub(crate) command: bool,
    /// The P (command) or F (response) bit.
    pub(crate) pf: bool,
}

/// A snapshot of one link's variables, for status pages and invariant checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkStatus {
    pub tei: Option<u8>,
    pub state: LinkState,
    pub vs: u8,
    pub va: u8,
    pub vr: u8,
    pub k: u8,
    pub rc: u8,
    pub peer_busy: bool,
    pub own_busy: bool,
    /// I frames waiting for transmission or acknowledgement.
    pub queued: usize,
}

/// (a − b) mod 128.
#[inline(always)]
fn seq_sub(a: u8, b: u8) -> u8 {
    a.wrapping_sub(b) & 0x7f
}

#[inline(always)]
fn seq_inc(a: u8) -> u8 {
    a.wrapping_add(1) & 0x7f
}

/// The data-link procedure of one TEI on SAPI 0.
#[derive(Debug)]
pub(crate) struct DataLink {
    /// Names the link's bit in [`Outputs::acks_owed`]: unique among an entity's links.
    pub(crate) id: u8,
    pub(crate) tei: Option<u8>,
    pub(crate) state: LinkState,
    role: Role,
    params: LinkParams,
    vs: u8,
    va: u8,
    vr: u8,
    rc: u8,
    peer_busy: bool,
    own_busy: bool,
    reject_exception: bool,
    ack_pending: bool,
    l3_initiated: bool,
    /// Layer 3 was told the link is released, so an establishment it did not ask for must be
    /// announced with DL-ESTABLISH-indication.
    announce: bool,
    /// Layer 1 said it is deactivated (only when the span's `layer1_presence` is `required`):
    /// no frame can cross, so the link is not established until PH-ACTIVATE-indication.
    layer1_down: bool,
    /// T200 and T203 while running: when they were last (re)started. They expire `params.t200`
    /// and `params.t203` later; keeping the start makes a restart, which LAPD does on nearly
    /// every frame, a plain store.
    t200: Option<Instant>,
    t203: Option<Instant>,
    /// I frames: the first `V(S) − V(A)` are sent and unacknowledged (the first has N(S) = V(A)),
    /// the rest wait for the window.
    i_queue: IQueue,
    /// UI frames waiting for a TEI.
    ui_queue: VecDeque<Info>,
}

impl DataLink {
    /// `id`: 1 to 63 (below [`LINK_IDS`]), unique among the entity's links.
    pub(crate) fn new(id: u8, role: Role, params: LinkParams, tei: Option<u8>) -> DataLink {
        DataLink {
            id,
            tei,
            state: if tei.is_some() { LinkState::TeiAssigned } else { LinkState::TeiUnassigned },
            role,
            params,
            vs: 0,
            va: 0,
            vr: 0,
            rc: 0,
            peer_busy: false,
            own_busy: false,
            reject_exception: false,
            ack_pending: false,
            l3_initiated: false,
            announce: false,
            layer1_down: false,
            t200: None,
            t203: None,
            i_queue: IQueue::default(),
            ui_queue: VecDeque::new(),
        }
    }

    pub(crate) fn status(&self) -> LinkStatus {
        LinkStatus {
            tei: self.tei,
            state: self.state,
            vs: self.vs,
            va: self.va,
            vr: self.vr,
            k: self.params.k,
            rc: self.rc,
            peer_busy: self.peer_busy,
            own_busy: self.own_busy,
            queued: self.i_queue.len(),
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let t200 = self.t200.map(|start| start + self.params.t200);
        let t203 = self.t203.map(|start| start + self.params.t203);
        match (t200, t203) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs every timer that has expired by `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant, out: &mut Outputs) {
        if self.t200.is_some_and(|start| start + self.params.t200 <= now) {
            self.t200 = None;
            self.handle(now, LinkEvent::Expiry(Timer::T200), out);
        }
        if self.t203.is_some_and(|start| start + self.params.t203 <= now) {
            self.t203 = None;
            self.handle(now, LinkEvent::Expiry(Timer::T203), out);
        }
    }

    /// Feeds one input through the state table, then sends what the window and the
    /// acknowledgement rules allow.
    pub(crate) fn handle(&mut self, now: Instant, event: LinkEvent<'_>, out: &mut Outputs) {
        use LinkEvent as E;
        use LinkState as S;
        let before = self.state;
        match (self.state, event) {
            // --- Layer 1 (§4.1 PH primitives; Annex B "persistent deactivation") ---
            (_, E::PhDeactivate) => self.layer1_lost(out),
            (_, E::PhActivate) => {
                self.layer1_down = false;
                if self.state == S::TeiAssigned && self.params.persistence == Layer2Persistence::KeepUp {
                    self.announce = true;
                    self.reestablish(now, out);
                }
            }
            (S::TeiAssigned, E::DlEstablishRequest) if self.layer1_down => {
                // No SABME can reach the peer: refuse at once, so that layer 3 clears what waited
                // for the link instead of running its own timers against a dead line.
                self.emit(out, |tei| Q921Event::ReleaseIndication { tei });
            }

            // --- Layer 3 requests (§5.5.1.1, §5.5.3.1, §5.6.1, §5.2.1) ---
            (S::TeiUnassigned, E::DlEstablishRequest) => {
                self.l3_initiated = true;
                out.assign_needed = true;
                self.state = S::EstablishAwaitingTei;
            }
            (S::AssignAwaitingTei, E::DlEstablishRequest) => {
                self.l3_initiated = true;
                self.state = S::EstablishAwaitingTei;
            }
            (S::EstablishAwaitingTei, E::DlEstablishRequest) => {}
            (S::TeiAssigned, E::DlEstablishRequest) => {
                self.l3_initiated = true;
                self.establish_data_link(now, out);
                self.state = S::AwaitingEstablishment;
            }
            (S::AwaitingEstablishment, E::DlEstablishRequest) => {
                self.i_queue.clear();
                self.l3_initiated = true;
            }
            (S::AwaitingRelease | S::MultipleFrameEstablished | S::TimerRecovery, E::DlEstablishRequest) => {
                self.i_queue.clear();
                self.l3_initiated = true;
                self.establish_data_link(now, out);
                self.state = S::AwaitingEstablishment;
            }
            (S::TeiUnassigned | S::AssignAwaitingTei | S::TeiAssigned, E::DlReleaseRequest) => {
                // Also cancels a pending keep_up re-establishment: layer 3 wants the link down.
                self.t200 = None;
                self.emit(out, |tei| Q921Event::ReleaseConfirm { tei });
            }
            (S::EstablishAwaitingTei, E::DlReleaseRequest) => {
                // The TEI procedure goes on; the link just no longer wants to be established.
                self.l3_initiated = false;
                self.state = S::AssignAwaitingTei;
                self.emit(out, |tei| Q921Event::ReleaseConfirm { tei });
            }
            (S::AwaitingRelease, E::DlReleaseRequest) => {}
            (S::AwaitingEstablishment | S::MultipleFrameEstablished | S::TimerRecovery, E::DlReleaseRequest) => {
                self.i_queue.clear();
                self.rc = 0;
                self.send_u(out, UFunction::Disc, true);
                self.t203 = None;
                self.t200 = Some(now);
                self.state = S::AwaitingRelease;
            }
            // DL-DATA-request changes no state and does not pass here: `handle_data_request` in
            // `established.rs` queues it (and the entity refuses it where `takes_data` says no).
            (S::TeiUnassigned, E::DlUnitDataRequest(data)) => {
                self.ui_queue.push_back(Info::from_slice(data));
                out.assign_needed = true;
                self.state = S::AssignAwaitingTei;
            }
            (S::AssignAwaitingTei | S::EstablishAwaitingTei, E::DlUnitDataRequest(data)) => {
                self.ui_queue.push_back(Info::from_slice(data));
            }
            (_, E::DlUnitDataRequest(data)) => self.send_ui(out, data),

            // --- Layer management (§5.3.2, §5.3.4.2) ---
            (S::TeiUnassigned, E::MdlAssignRequest(tei)) => {
                self.tei = Some(tei);
                self.state = S::TeiAssigned;
            }
            (S::AssignAwaitingTei, E::MdlAssignRequest(tei)) => {
                self.tei = Some(tei);
                self.flush_ui(out);
                self.state = S::TeiAssigned;
            }
            (S::EstablishAwaitingTei, E::MdlAssignRequest(tei)) => {
                self.tei = Some(tei);
                self.flush_ui(out);
                self.establish_data_link(now, out);
                self.state = S::AwaitingEstablishment;
            }
            (_, E::MdlAssignRequest(_)) => {}
            (S::TeiUnassigned, E::MdlRemoveRequest | E::MdlErrorResponse) => {}
            (S::AssignAwaitingTei, E::MdlRemoveRequest | E::MdlErrorResponse) => {
                self.ui_queue.clear();
                self.state = S::TeiUnassigned;
            }
            (S::EstablishAwaitingTei, E::MdlRemoveRequest | E::MdlErrorResponse) => {
                self.ui_queue.clear();
                self.emit(out, |tei| Q921Event::ReleaseIndication { tei });
                self.unassign();
                self.keep_up(now, out);
            }
            (S::TeiAssigned, E::MdlRemoveRequest | E::MdlErrorResponse) => self.unassign(),
            (S::AwaitingRelease, E::MdlRemoveRequest | E::MdlErrorResponse) => {
                self.emit(out, |tei| Q921Event::ReleaseConfirm { tei });
                self.unassign();
            }
            (
                S::AwaitingEstablishment | S::MultipleFrameEstablished | S::TimerRecovery,
                E::MdlRemoveRequest | E::MdlErrorResponse,
            ) => {
                self.emit(out, |tei| Q921Event::ReleaseIndication { tei });
                self.unassign();
                self.keep_up(now, out);
            }

            // --- Own receiver busy (§5.6.5, §5.6.6) ---
            (S::MultipleFrameEstablished | S::TimerRecovery, E::OwnBusy(busy)) => {
                if busy != self.own_busy {
                    self.own_busy = busy;
                    let function = if busy { SFunction::Rnr } else { SFunction::Rr };
                    self.send_s(out, function, false, false);
                    self.ack_pending = false;
                }
            }
            (_, E::OwnBusy(busy)) => self.own_busy = busy,

            // --- Frames before a TEI: nothing is addressed to this link yet ---
            (S::TeiUnassigned | S::AssignAwaitingTei | S::EstablishAwaitingTei, _frame_or_timer) => {}

            // --- UI frames in every state with a TEI (§5.2.2) ---
            (_, E::Ui(info)) if info.len() <= self.params.n201 => out.indicate(self.tei, true, info),
            // Longer than N201 (§5.8.5): unacknowledged, so there is nothing to recover; it goes.
            (_, E::Ui(_)) => log::debug!("q921 tei {:?}: UI frame longer than N201 discarded", self.tei),

            // --- TEI_ASSIGNED ---
            (S::TeiAssigned, E::Sabme { p }) => {
                self.send_u(out, UFunction::Ua, p);
                self.clear_exception_conditions();
                self.announce = false;
                self.reset_sequence();
                self.emit(out, |tei| Q921Event::EstablishIndication { tei });
                self.t200 = None;
                self.t203 = Some(now);
                self.state = S::MultipleFrameEstablished;
            }
            (S::TeiAssigned, E::Disc { p }) => self.send_u(out, UFunction::Dm, p),
            (S::TeiAssigned, E::Ua { f }) => self.mdl_error(out, if f { MdlError::C } else { MdlError::D }),
            (S::TeiAssigned, E::Dm { f: false }) => {
                // The peer asks for the link (an unsolicited DM with F = 0, §5.5.1.2).
                self.l3_initiated = false;
                self.announce = true;
                self.establish_data_link(now, out);
                self.state = S::AwaitingEstablishment;
            }
            (S::TeiAssigned, E::Expiry(Timer::T200)) => {
                // keep_up: the retry armed by `released`.
                self.l3_initiated = false;
                self.establish_data_link(now, out);
                self.state = S::AwaitingEstablishment;
            }
            (S::TeiAssigned, _) => {}

            // --- AWAITING_ESTABLISHMENT (§5.5.1.2, §5.5.1.3 collision) ---
            (S::AwaitingEstablishment, E::Sabme { p }) => self.send_u(out, UFunction::Ua, p),
            (S::AwaitingEstablishment, E::Disc { p }) => self.send_u(out, UFunction::Dm, p),
            (S::AwaitingEstablishment, E::Ua { f: true }) => {
                if self.l3_initiated {
                    self.emit(out, |tei| Q921Event::EstablishConfirm { tei });
                } else if self.announce || self.vs != self.va {
                    if self.vs != self.va {
                        self.i_queue.clear();
                        self.emit(out, |tei| Q921Event::IFramesDiscarded { tei });
                    }
                    self.emit(out, |tei| Q921Event::EstablishIndication { tei });
                }
                self.l3_initiated = false;
                self.announce = false;
                self.reset_sequence();
                self.t200 = None;
                self.t203 = Some(now);
                self.state = S::MultipleFrameEstablished;
            }
            (S::AwaitingEstablishment, E::Ua { f: false }) => self.mdl_error(out, MdlError::D),
            (S::AwaitingEstablishment, E::Dm { f: true }) => {
                self.i_queue.clear();
                self.t200 = None;
                self.released(now, out);
            }
            (S::AwaitingEstablishment, E::Expiry(Timer::T200)) => {
                if self.rc >= self.params.n200 {
                    self.i_queue.clear();
                    self.mdl_error(out, MdlError::G);
                    self.released(now, out);
                } else {
                    self.rc += 1;
                    self.send_u(out, UFunction::Sabme, true);
                    self.t200 = Some(now);
                }
            }
            (S::AwaitingEstablishment, _) => {}

            // --- AWAITING_RELEASE (§5.5.3.2) ---
            (S::AwaitingRelease, E::Sabme { p }) => self.send_u(out, UFunction::Dm, p),
            (S::AwaitingRelease, E::Disc { p }) => self.send_u(out, UFunction::Ua, p),
            (S::AwaitingRelease, E::Ua { f: true } | E::Dm { f: true }) => {
                self.t200 = None;
                self.emit(out, |tei| Q921Event::ReleaseConfirm { tei });
                self.state = S::TeiAssigned;
            }
            (S::AwaitingRelease, E::Ua { f: false }) => self.mdl_error(out, MdlError::D),
            (S::AwaitingRelease, E::Expiry(Timer::T200)) => {
                if self.rc >= self.params.n200 {
                    self.mdl_error(out, MdlError::H);
                    self.emit(out, |tei| Q921Event::ReleaseConfirm { tei });
                    self.state = S::TeiAssigned;
                } else {
                    self.rc += 1;
                    self.send_u(out, UFunction::Disc, true);
                    self.t200 = Some(now);
                }
            }
            (S::AwaitingRelease, _) => {}

            // --- MULTIPLE_FRAME_ESTABLISHED and TIMER_RECOVERY (§5.5.3.3, §5.6, §5.8) ---
            (S::MultipleFrameEstablished | S::TimerRecovery, E::Sabme { p }) => {
                // The peer re-establishes (§5.5.3.3): acknowledge and start afresh.
                self.send_u(out, UFunction::Ua, p);
                self.clear_exception_conditions();
                self.mdl_error(out, MdlError::F);
                if self.vs != self.va {
                    self.i_queue.clear();
                    self.emit(out, |tei| Q921Event::IFramesDiscarded { tei });
                    self.emit(out, |tei| Q921Event::EstablishIndication { tei });
                }
                self.reset_sequence();
                self.t200 = None;
                self.t203 = Some(now);
                self.state = S::MultipleFrameEstablished;
            }
            (S::MultipleFrameEstablished | S::TimerRecovery, E::Disc { p }) => {
                self.i_queue.clear();
                self.send_u(out, UFunction::Ua, p);
                self.t200 = None;
                self.t203 = None;
                self.released(now, out);
            }
            (S::MultipleFrameEstablished | S::TimerRecovery, E::Ua { f }) => {
                self.mdl_error(out, if f { MdlError::C } else { MdlError::D });
            }
            (S::MultipleFrameEstablished | S::TimerRecovery, E::Dm { f: true }) => self.mdl_error(out, MdlError::B),
            (S::MultipleFrameEstablished | S::TimerRecovery, E::Dm { f: false }) => {
                self.mdl_error(out, MdlError::E);
                self.reestablish(now, out);
            }
            (S::MultipleFrameEstablished | S::TimerRecovery, E::Frmr) => {
                self.mdl_error(out, MdlError::K);
                self.reestablish(now, out);
            }
            (S::MultipleFrameEstablished | S::TimerRecovery, E::Rejected(code)) => {
                self.mdl_error(out, code);
                self.reestablish(now, out);
            }
            (S::MultipleFrameEstablished | S::TimerRecovery, E::I { ns, nr, p, info }) => {
                self.i_frame(now, ns, nr, p, info, out);
            }
            (S::MultipleFrameEstablished | S::TimerRecovery, E::S(frame)) => self.s_frame(now, frame, out),
            (S::MultipleFrameEstablished, E::Expiry(Timer::T200)) => {
                self.rc = 0;
                self.transmit_enquiry(now, out);
                self.rc += 1;
                self.state = S::TimerRecovery;
            }
            (S::MultipleFrameEstablished, E::Expiry(Timer::T203)) => {
                self.rc = 0;
                self.transmit_enquiry(now, out);
                self.state = S::TimerRecovery;
            }
            (S::TimerRecovery, E::Expiry(Timer::T200)) => {
                if self.rc >= self.params.n200 {
                    self.mdl_error(out, MdlError::I);
                    self.reestablish(now, out);
                } else {
                    self.transmit_enquiry(now, out);
                    self.rc += 1;
                }
            }
            (S::MultipleFrameEstablished | S::TimerRecovery, E::Expiry(_)) => {}
        }
        self.after_input(now, before, out);
    }

    /// What follows every input: the I frames the window allows and a trace of the state
    /// change. An acknowledgement still owed waits for the owner's drain
    /// ([`owed_ack`](Self::owed_ack)), so that layer 3's answer can carry it.
    #[inline(always)]
    fn after_input(&mut self, now: Instant, before: LinkState, out: &mut Outputs) {
        self.transmit_i_frames(now, out);
        if self.state != before {
            log::debug!("q921 tei {:?}: {} -> {}", self.tei, before, self.state);
        }
    }

    /// "Acknowledge pending" (§5.6.2.1, Annex B): the I frames received are acknowledged by the
    /// N(R) of the next I frame sent, or else by RR (RNR when own receiver busy) once the entity's
    /// owner has drained the transmit queue, which it does after handing layer 3 what arrived
    /// and sending layer 3's answer down. The entity keeps a bit per link that owes one, so the
    /// drain looks at no other link.
    #[inline(always)]
    fn owe_ack(&mut self, out: &mut Outputs) {
        self.ack_pending = true;
        out.acks_owed |= ack_bit(self.id);
    }

    /// The transmit queue is drained and no I frame carried the acknowledgement owed: the RR
    /// (RNR when own receiver busy) response F=0 to send now, if one is still owed. A link that
    /// left the established states owes none.
    pub(crate) fn owed_ack(&mut self) -> Option<[u8; 4]> {
        let established = matches!(self.state, LinkState::MultipleFrameEstablished | LinkState::TimerRecovery);
        if !(self.ack_pending && established) {
            return None;
        }
        self.ack_pending = false;
        let function = if self.own_busy { SFunction::Rnr } else { SFunction::Rr };
        Some(self.s_octets(function, false, false))
    }

    /// The SDL procedure "establish data link".
    fn establish_data_link(&mut self, now: Instant, out: &mut Outputs) {
        self.clear_exception_conditions();
        self.rc = 0;
        self.send_u(out, UFunction::Sabme, true);
        self.t203 = None;
        self.t200 = Some(now);
    }

    /// Re-establishment that layer 3 did not ask for (§5.5.3.2 via errors, §5.8).
    fn reestablish(&mut self, now: Instant, out: &mut Outputs) {
        self.l3_initiated = false;
        self.establish_data_link(now, out);
        self.state = LinkState::AwaitingEstablishment;
    }

    /// The link fell back to TEI_ASSIGNED without layer 3 asking: tell it, and with `keep_up`
    /// bring the link straight back.
    fn released(&mut self, now: Instant, out: &mut Outputs) {
        self.emit(out, |tei| Q921Event::ReleaseIndication { tei });
        self.state = LinkState::TeiAssigned;
        if self.params.persistence == Layer2Persistence::KeepUp && !self.layer1_down {
            // Not at once: a peer that answers every SABME with DM would otherwise be hammered
            // as fast as the line turns frames around. T200 is free in TEI_ASSIGNED.
            self.announce = true;
            self.t200 = Some(now);
        }
    }

    /// Layer 1 went down: an established link or one being established or released is released
    /// at once (DL-RELEASE-indication, or -confirm for a release in progress), its queue
    /// discarded and its timers stopped; a pending `keep_up` retry is cancelled. The TEI is kept.
    fn layer1_lost(&mut self, out: &mut Outputs) {
        use LinkState as S;
        self.layer1_down = true;
        match self.state {
            S::AwaitingEstablishment | S::MultipleFrameEstablished | S::TimerRecovery => {
                self.i_queue.clear();
                self.clear_exception_conditions();
                self.t200 = None;
                self.t203 = None;
                self.l3_initiated = false;
                self.announce = true;
                self.emit(out, |tei| Q921Event::ReleaseIndication { tei });
                self.state = S::TeiAssigned;
            }
            S::AwaitingRelease => {
                self.t200 = None;
                self.emit(out, |tei| Q921Event::ReleaseConfirm { tei });
                self.state = S::TeiAssigned;
            }
            S::TeiAssigned => self.t200 = None,
            S::TeiUnassigned | S::AssignAwaitingTei | S::EstablishAwaitingTei => {}
        }
    }

    /// After the TEI went away: with `keep_up`, ask for a new one and come back up.
    fn keep_up(&mut self, _now: Instant, out: &mut Outputs) {
        if self.params.persistence == Layer2Persistence::KeepUp && self.role == Role::Te {
            self.l3_initiated = false;
            self.announce = true;
            out.assign_needed = true;
            self.state = LinkState::EstablishAwaitingTei;
        }
    }

    fn unassign(&mut self) {
        self.i_queue.clear();
        self.t200 = None;
        self.t203 = None;
        self.tei = None;
        self.state = LinkState::TeiUnassigned;
    }

    fn clear_exception_conditions(&mut self) {
        self.peer_busy = false;
        self.reject_exception = false;
        self.own_busy = false;
        self.ack_pending = false;
    }

    fn reset_sequence(&mut self) {
        self.vs = 0;
        self.va = 0;
        self.vr = 0;
        self.i_queue.rewind();
    }

    fn transmit_enquiry(&mut self, now: Instant, out: &mut Outputs) {
        let function = if self.own_busy { SFunction::Rnr } else { SFunction::Rr };
        self.send_s(out, function, true, true);
        self.ack_pending = false;
        self.t200 = Some(now);
    }

    fn enquiry_response(&mut self, out: &mut Outputs) {
        let function = if self.own_busy { SFunction::Rnr } else { SFunction::Rr };
        self.send_s(out, function, false, true);
        self.ack_pending = false;
    }

    fn address(&self, command: bool) -> Address {
        Address::new(SAPI_CALL_CONTROL, self.tei.unwrap_or(0), self.role, command)
    }

    fn send(&self, out: &mut Outputs, command: bool, control: Control, info: &[u8]) {
        let (header, len) = FrameRepr { address: self.address(command), control, info }.header();
        out.send_parts(&header[..len], info);
    }

    fn send_u(&self, out: &mut Outputs, function: UFunction, pf: bool) {
        let command = matches!(function, UFunction::Sabme | UFunction::Disc | UFunction::Ui);
        self.send(out, command, Control::U { function, pf }, &[]);
    }

    #[inline(always)]
    fn send_s(&self, out: &mut Outputs, function: SFunction, command: bool, pf: bool) {
        out.send(&self.s_octets(function, command, pf));
    }

    /// An S frame with N(R) = V(R), written out rather than through `FrameRepr`: an RR ends
    /// nearly every call.
    #[inline(always)]
    fn s_octets(&self, function: SFunction, command: bool, pf: bool) -> [u8; 4] {
        let [a0, a1] = self.address(command).octets();
        [a0, a1, function.code(), self.vr << 1 | u8::from(pf)]
    }

    fn send_ui(&self, out: &mut Outputs, data: &[u8]) {
        self.send(out, true, Control::U { function: UFunction::Ui, pf: false }, data);
    }

    fn flush_ui(&mut self, out: &mut Outputs) {
        while let Some(data) = self.ui_queue.pop_front() {
            self.send_ui(out, &data);
        }
    }

    fn emit(&self, out: &mut Outputs, event: impl FnOnce(Option<u8>) -> Q921Event) {
        out.events.push_back(event(self.tei));
    }

    fn mdl_error(&self, out: &mut Outputs, code: MdlError) {
        log::debug!("q921 tei {:?}: MDL-ERROR {} ({})", self.tei, code.letter(), code);
        out.events.push_back(Q921Event::MdlError { tei: self.tei, code });
        out.mdl_errors.push((self.tei, code));
    }
}
