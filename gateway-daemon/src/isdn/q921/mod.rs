//! Q.921 (LAPD), the ISDN D-channel data link layer, as a sans-IO state machine.
//!
//! [`Q921`] is the data-link entity of one D-channel, on the user (TE) or network (NT) side, in
//! point-to-point (TEI 0) or point-to-multipoint mode (automatic TEIs, one data link per TEI on the
//! NT side, plus the broadcast data link on TEI 127 for UI frames). Feed it with
//! [`Q921::handle_frame`], [`Q921::handle_timeout`] and the layer 3 requests (`dl_*_request`), then
//! drain [`Q921::poll_transmit`] (frames without FCS, as `hal::DChannel::send_frame` takes them),
//! [`Q921::poll_event`] and [`Q921::poll_timeout`]. It reads no clock and does no I/O.
//!
//! Files: `frame` (wire format), `link` (the data-link procedure of one TEI, Annex B SDL), `tei`
//! (TEI management, §5.3), `entity` (routing frames and primitives between them).
//!
//! # Data-link state table (Q.921 Annex B; states 1–8 as numbered there)
//!
//! | State | Event | Action | Next | Clause |
//! |---|---|---|---|---|
//! | TEI_UNASSIGNED | DL-ESTABLISH-req | MDL-ASSIGN-ind | ESTABLISH_AWAITING_TEI | §5.3.2 |
//! | TEI_UNASSIGNED | DL-UNIT-DATA-req | queue UI, MDL-ASSIGN-ind | ASSIGN_AWAITING_TEI | §5.2.1 |
//! | ASSIGN_AWAITING_TEI | MDL-ASSIGN-req | send queued UI | TEI_ASSIGNED | §5.3.2 |
//! | ESTABLISH_AWAITING_TEI | MDL-ASSIGN-req | send queued UI, SABME P=1, start T200 | AWAITING_ESTABLISHMENT | §5.5.1.1 |
//! | ASSIGN/ESTABLISH_AWAITING_TEI | MDL-ERROR-resp / MDL-REMOVE-req | discard UI; DL-RELEASE-ind (establish) | TEI_UNASSIGNED | §5.3.2.1 |
//! | TEI_ASSIGNED | DL-ESTABLISH-req | SABME P=1, RC=0, start T200 | AWAITING_ESTABLISHMENT | §5.5.1.1 |
//! | TEI_ASSIGNED | SABME | UA F=P, V(S)=V(A)=V(R)=0, DL-ESTABLISH-ind, start T203 | MULTIPLE_FRAME_ESTABLISHED | §5.5.1.2 |
//! | TEI_ASSIGNED | DISC | DM F=P | TEI_ASSIGNED | §5.5.3.2 |
//! | TEI_ASSIGNED | DM F=0 | SABME P=1 (peer asks for the link) | AWAITING_ESTABLISHMENT | §5.5.1.2 |
//! | TEI_ASSIGNED | UA | MDL-ERROR C/D | TEI_ASSIGNED | §5.8.7 |
//! | any with TEI | UI / DL-UNIT-DATA-req | DL-UNIT-DATA-ind / send UI | same | §5.2 |
//! | AWAITING_ESTABLISHMENT | SABME (collision) | UA F=P | AWAITING_ESTABLISHMENT | §5.5.1.3 |
//! | AWAITING_ESTABLISHMENT | UA F=1 | DL-ESTABLISH-conf (or -ind), stop T200, start T203 | MULTIPLE_FRAME_ESTABLISHED | §5.5.1.2 |
//! | AWAITING_ESTABLISHMENT | DM F=1 | DL-RELEASE-ind | TEI_ASSIGNED | §5.5.1.2 |
//! | AWAITING_ESTABLISHMENT | T200, RC<N200 | SABME P=1, RC+1, start T200 | AWAITING_ESTABLISHMENT | §5.5.1.2 |
//! | AWAITING_ESTABLISHMENT | T200, RC=N200 | MDL-ERROR G, DL-RELEASE-ind | TEI_ASSIGNED | §5.5.1.2 |
//! | AWAITING_ESTABLISHMENT | DISC | DM F=P | AWAITING_ESTABLISHMENT | §5.5.1.3 |
//! | MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | DL-RELEASE-req | DISC P=1, RC=0, start T200 | AWAITING_RELEASE | §5.5.3.1 |
//! | AWAITING_RELEASE | UA F=1 or DM F=1 | DL-RELEASE-conf | TEI_ASSIGNED | §5.5.3.1 |
//! | AWAITING_RELEASE | SABME / DISC | DM F=P / UA F=P | AWAITING_RELEASE | §5.5.3.3 |
//! | AWAITING_RELEASE | T200, RC=N200 | MDL-ERROR H, DL-RELEASE-conf | TEI_ASSIGNED | §5.5.3.1 |
//! | MULTIPLE_FRAME_ESTABLISHED | DL-DATA-req | queue; I frames while V(S) < V(A)+k and peer not busy | same | §5.6.1 |
//! | MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | I, N(S)=V(R) | V(R)+1, DL-DATA-ind; P=1: RR F=1 at once; P=0: acknowledge pending (below) | same | §5.6.2.1 |
//! | MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | I, N(S)≠V(R) | REJ F=P once (reject exception) | same | §5.6.4 |
//! | MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | I while own busy | discard; RNR F=1 if P=1 | same | §5.6.5 |
//! | MULTIPLE_FRAME_ESTABLISHED | RR / RNR | peer busy := RNR; RR/RNR F=1 if P=1; V(A)=N(R); T200/T203 | same | §5.6.3, §5.6.6 |
//! | MULTIPLE_FRAME_ESTABLISHED | REJ | V(A)=V(S)=N(R) (retransmit), start T203 | same | §5.6.4 |
//! | MULTIPLE_FRAME_ESTABLISHED | T200 | RR/RNR P=1 (enquiry), RC=1 | TIMER_RECOVERY | §5.6.7 |
//! | MULTIPLE_FRAME_ESTABLISHED | T203 | RR/RNR P=1 (enquiry), RC=0 | TIMER_RECOVERY | §5.7.1 |
//! | TIMER_RECOVERY | RR/RNR/REJ response F=1 | V(A)=V(S)=N(R) (retransmit), restart T200 or T203 | MULTIPLE_FRAME_ESTABLISHED | §5.6.7 |
//! | TIMER_RECOVERY | T200, RC<N200 | enquiry, RC+1 | TIMER_RECOVERY | §5.6.7 |
//! | TIMER_RECOVERY | T200, RC=N200 | MDL-ERROR I, SABME P=1 | AWAITING_ESTABLISHMENT | §5.6.7 |
//! | MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | SABME | UA F=P, MDL-ERROR F, reset V(S), V(A), V(R); if V(S)≠V(A): discard the I queue, tell layer 3 (I frames discarded, DL-ESTABLISH-ind) | MULTIPLE_FRAME_ESTABLISHED | §5.5.3.3 |
//! | MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | DISC | UA F=P, DL-RELEASE-ind | TEI_ASSIGNED | §5.5.3.2 |
//! | MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | DM F=0 / FRMR | MDL-ERROR E / K, SABME P=1 | AWAITING_ESTABLISHMENT | §5.5.3.3, §5.8.6 |
//! | MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | N(R) outside V(A)..V(S) | MDL-ERROR J, SABME P=1 | AWAITING_ESTABLISHMENT | §5.8.2 |
//! | MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | undefined / bad length / I-field / > N201 | MDL-ERROR L/N/M/O, SABME P=1 | AWAITING_ESTABLISHMENT | §5.8.5 |
//! | any with TEI | MDL-REMOVE-req | DL-RELEASE-ind (or -conf), discard queues | TEI_UNASSIGNED | §5.3.4.2 |
//! | TEI_ASSIGNED | T200 (keep_up retry) | SABME P=1 | AWAITING_ESTABLISHMENT | — (persistence) |
//! | AWAITING_ESTABLISHMENT / MULTIPLE_FRAME_ESTABLISHED / TIMER_RECOVERY | PH-DEACTIVATE-ind | discard I queue, stop T200/T203, DL-RELEASE-ind | TEI_ASSIGNED | Annex B (persistent deactivation) |
//! | AWAITING_RELEASE | PH-DEACTIVATE-ind | stop T200, DL-RELEASE-conf | TEI_ASSIGNED | Annex B |
//! | TEI_ASSIGNED (layer 1 down) | DL-ESTABLISH-req | DL-RELEASE-ind | TEI_ASSIGNED | — (layer1_presence) |
//! | TEI_ASSIGNED | PH-ACTIVATE-ind, keep_up | SABME P=1, start T200 | AWAITING_ESTABLISHMENT | — (persistence) |
//!
//! Acknowledge pending (§5.6.2.1, the SDL's variable of that name): an I frame received with
//! P=0 is acknowledged by the N(R) of the next I frame the link sends; only when none has gone by
//! the time the owner drains [`Q921::poll_transmit`] to its end does the link send RR (RNR when
//! own receiver busy) F=0. So the owner drains after handing layer 3 what arrived and passing
//! layer 3's answer down as DL-DATA-requests, and the answer carries the acknowledgement. A P=1
//! frame (enquiry response), REJ, an enquiry and the own-busy RR/RNR are sent at once and pay the
//! debt too; a link that leaves the established states owes nothing.
//!
//! Layer 1 reaches the entity only when the span's `layer1_presence` is `required` (the event
//! loop turns span alarms into [`Q921::ph_deactivate_indication`] and
//! [`Q921::ph_activate_indication`]); with `ignore` layer 2 finds a dead line through its own
//! timers and keeps trying. While layer 1 is down no SABME is sent: `keep_up` retries wait for
//! PH-ACTIVATE-indication. TEIs are kept across the deactivation.
//!
//! A DL-RELEASE-indication is followed, with `layer2_persistence = keep_up`, by a new SABME one T200
//! later (or, on the TE in point-to-multipoint after losing its TEI, by a new Identity request);
//! with `leave_down` the link stays down until layer 3 asks. A DL-RELEASE-request cancels the
//! retry.
//!
//! Q.921 LAPD never transmits FRMR (unlike LAPB): a frame-rejection condition is reported as an
//! MDL-ERROR and repaired by re-establishment (§5.8.5); a received FRMR is handled as above.
//!
//! # TEI management (§5.3)
//!
//! | Side | Event | Action |
//! |---|---|---|
//! | TE | MDL-ASSIGN-ind | Identity request (random Ri, Ai=127), start T202 |
//! | TE | Identity assigned with our Ri | MDL-ASSIGN-req (TEI = Ai), stop T202 |
//! | TE | T202, tries < N202 / = N202 | new request with new Ri / MDL-ERROR-resp |
//! | TE | Identity check request (Ai = ours or 127) | Identity check response (Ai = ours) |
//! | TE | Identity remove (Ai = ours or 127) | MDL-REMOVE-req |
//! | TE | MDL-ERROR C, D, G, H | Identity verify, start T202 (twice, then remove) |
//! | NT | Identity request | Identity assigned (free TEI 64..=126) or Identity denied |
//! | NT | MDL-ERROR C, D, G, H / Identity verify | Identity check request, start T201 |
//! | NT | T201: no answer twice, or two answers | Identity remove (sent twice), drop the link |
//! | NT | frame on an unknown automatic TEI | Identity remove for that TEI |

mod entity;
pub mod frame;
pub mod link;
pub mod tei;

use std::fmt;
use std::time::Duration;

pub use entity::{Q921Counters, RequestError, Q921};
pub use frame::{Address, Control, Frame, FrameRepr, ParseError, SFunction, TeiMessage, TeiMessageType, UFunction};
pub use link::{LinkParams, LinkState, LinkStatus};

use crate::isdn::octets::Octets;

/// The largest information field (N201 for SAPI 0, §5.9.3): the bound of every buffer below.
pub const N201_MAX: usize = 260;

/// An information field: a layer 3 message of at most N201 octets (inline when short).
pub type Info = Octets;

/// A whole frame without FCS: address, control and information (inline when short).
pub type FrameOctets = Octets;

#[cfg(test)]
pub(crate) mod harness;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_layer1;

/// Which side of the user-network interface this entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The user side (TE, "cpe").
    Te,
    /// The network side (NT, "net").
    Nt,
}

impl Role {
    /// The other side.
    pub fn peer(self) -> Role {
        match self {
            Role::Te => Role::Nt,
            Role::Nt => Role::Te,
        }
    }
}

/// Point-to-point (fixed TEI 0) or point-to-multipoint (automatic TEIs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    PointToPoint,
    PointToMultipoint,
}

/// chan_dahdi's `layer2_persistence`: whether a released data link is brought straight back up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer2Persistence {
    KeepUp,
    LeaveDown,
}

/// The Q.921 timers, held as deadlines by the machines that run them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Retransmission timer (§5.9.1).
    T200,
    /// TEI identity check timer, network side (§5.9.6).
    T201,
    /// TEI identity request timer, user side (§5.9.7).
    T202,
    /// Maximum time without frames exchanged (§5.9.8).
    T203,
}

/// MDL-ERROR-indication codes (Q.921 Appendix II, Table II.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MdlError {
    /// Unsolicited supervisory response with F = 1.
    A,
    /// Unsolicited DM response with F = 1.
    B,
    /// Unsolicited UA response with F = 1.
    C,
    /// Unsolicited UA response with F = 0.
    D,
    /// DM response with F = 0 received while established.
    E,
    /// SABME received while established: the peer re-established.
    F,
    /// SABME unanswered N200 + 1 times.
    G,
    /// DISC unanswered N200 + 1 times.
    H,
    /// Status enquiry unanswered N200 times.
    I,
    /// N(R) sequence error.
    J,
    /// FRMR received.
    K,
    /// Undefined control field received.
    L,
    /// Information field not permitted.
    M,
    /// Frame of wrong size.
    N,
    /// Information field longer than N201.
    O,
}

impl MdlError {
    /// The code letter of Table II.1.
    pub fn letter(self) -> char {
        match self {
            MdlError::A => 'A',
            MdlError::B => 'B',
            MdlError::C => 'C',
            MdlError::D => 'D',
            MdlError::E => 'E',
            MdlError::F => 'F',
            MdlError::G => 'G',
            MdlError::H => 'H',
            MdlError::I => 'I',
            MdlError::J => 'J',
            MdlError::K => 'K',
            MdlError::L => 'L',
            MdlError::M => 'M',
            MdlError::N => 'N',
            MdlError::O => 'O',
        }
    }

    /// Codes after which layer management suspects a TEI problem and checks (NT) or verifies
    /// (TE) the TEI (Table II.1).
    pub fn suspects_tei(self) -> bool {
        matches!(self, MdlError::C | MdlError::D | MdlError::G | MdlError::H)
    }
}

impl fmt::Display for MdlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MdlError::A => "unsolicited supervisory response F=1",
            MdlError::B => "unsolicited DM response F=1",
            MdlError::C => "unsolicited UA response F=1",
            MdlError::D => "unsolicited UA response F=0",
            MdlError::E => "DM response F=0 while established",
            MdlError::F => "SABME while established (peer re-established)",
            MdlError::G => "SABME unanswered after N200 retransmissions",
            MdlError::H => "DISC unanswered after N200 retransmissions",
            MdlError::I => "status enquiry unanswered after N200 retransmissions",
            MdlError::J => "N(R) sequence error",
            MdlError::K => "FRMR response received",
            MdlError::L => "undefined control field",
            MdlError::M => "information field not permitted",
            MdlError::N => "frame of wrong size",
            MdlError::O => "information field longer than N201",
        })
    }
}

/// What the entity tells layer 3 and layer management. `tei` names the data link; it is `None`
/// only for a link that holds no TEI (a TE waiting for one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Q921Event {
    EstablishIndication {
        tei: Option<u8>,
    },
    EstablishConfirm {
        tei: Option<u8>,
    },
    /// A data link reset threw away I frames that were sent but not acknowledged, or still
    /// queued (the peer re-established with V(S) != V(A), §5.5.3.3, or answered a
    /// re-establishment we did not ask for): what layer 3 sent since its last acknowledged frame
    /// never arrived. Always followed by `EstablishIndication` for the same link.
    IFramesDiscarded {
        tei: Option<u8>,
    },
    ReleaseIndication {
        tei: Option<u8>,
    },
    ReleaseConfirm {
        tei: Option<u8>,
    },
    DataIndication {
        tei: Option<u8>,
        data: Info,
    },
    /// A UI frame; `tei` is 127 for the broadcast data link.
    UnitDataIndication {
        tei: Option<u8>,
        data: Info,
    },
    MdlError {
        tei: Option<u8>,
        code: MdlError,
    },
    /// MDL-ASSIGN: a TEI now belongs to this side (TE) or to a terminal (NT).
    TeiAssigned {
        tei: u8,
    },
    /// MDL-REMOVE: the TEI is gone.
    TeiRemoved {
        tei: u8,
    },
}

impl fmt::Display for Q921Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tei = |f: &mut fmt::Formatter<'_>, t: &Option<u8>| match t {
            Some(t) => write!(f, " tei={t}"),
            None => f.write_str(" tei=none"),
        };
        match self {
            Q921Event::EstablishIndication { tei: t } => {
                f.write_str("DL-ESTABLISH-indication")?;
                tei(f, t)
            }
            Q921Event::EstablishConfirm { tei: t } => {
                f.write_str("DL-ESTABLISH-confirm")?;
                tei(f, t)
            }
            Q921Event::IFramesDiscarded { tei: t } => {
                f.write_str("I frames discarded by a data link reset")?;
                tei(f, t)
            }
            Q921Event::ReleaseIndication { tei: t } => {
                f.write_str("DL-RELEASE-indication")?;
                tei(f, t)
            }
            Q921Event::ReleaseConfirm { tei: t } => {
                f.write_str("DL-RELEASE-confirm")?;
                tei(f, t)
            }
            Q921Event::DataIndication { tei: t, data } => {
                f.write_str("DL-DATA-indication")?;
                tei(f, t)?;
                write!(f, " len={}", data.len())
            }
            Q921Event::UnitDataIndication { tei: t, data } => {
                f.write_str("DL-UNIT-DATA-indication")?;
                tei(f, t)?;
                write!(f, " len={}", data.len())
            }
            Q921Event::MdlError { tei: t, code } => {
                write!(f, "MDL-ERROR-indication {}", code.letter())?;
                tei(f, t)?;
                write!(f, " ({code})")
            }
            Q921Event::TeiAssigned { tei } => write!(f, "MDL-ASSIGN tei={tei}"),
            Q921Event::TeiRemoved { tei } => write!(f, "MDL-REMOVE tei={tei}"),
        }
    }
}

/// A DL-DATA-indication (an I frame's message) or DL-UNIT-DATA-indication (a UI frame's)
/// returned by [`Q921::handle_frame`]: the layer 3 message is lent from the received frame
/// rather than copied into a [`Q921Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlData<'a> {
    /// The data link's TEI; 127 for the broadcast data link.
    pub tei: u8,
    /// DL-UNIT-DATA (unacknowledged, a UI frame) rather than DL-DATA.
    pub unit: bool,
    pub data: &'a [u8],
}

impl DlData<'_> {
    /// The same primitive as an event, as [`Q921::poll_event`] would have returned it.
    pub fn to_event(&self) -> Q921Event {
        let (tei, data) = (Some(self.tei), Info::from_slice(self.data));
        if self.unit {
            Q921Event::UnitDataIndication { tei, data }
        } else {
            Q921Event::DataIndication { tei, data }
        }
    }
}

/// The system parameters of one D-channel (Q.921 §5.9) and the persistence knob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Q921Config {
    pub role: Role,
    pub mode: Mode,
    /// Window size: 7 on a PRI (§5.9.5: SAPI 0 at 2048 kbit/s), 1 on a BRI.
    pub k: u8,
    pub n200: u8,
    /// Maximum information field; values above [`N201_MAX`] count as `N201_MAX`.
    pub n201: usize,
    /// Identity request retransmissions (TE, point-to-multipoint).
    pub n202: u8,
    pub t200: Duration,
    pub t201: Duration,
    pub t202: Duration,
    pub t203: Duration,
    pub layer2_persistence: Layer2Persistence,
    /// Seeds the generator of Ri values; give each TE of a bus its own.
    pub seed: u32,
}

impl Q921Config {
    /// A primary rate D-channel: point-to-point, k = 7, links kept up as libpri does.
    pub fn pri(role: Role) -> Q921Config {
        Q921Config {
            role,
            mode: Mode::PointToPoint,
            k: 7,
            n200: 3,
            n201: 260,
            n202: 3,
            t200: Duration::from_secs(1),
            t201: Duration::from_secs(1),
            t202: Duration::from_secs(2),
            t203: Duration::from_secs(10),
            layer2_persistence: Layer2Persistence::KeepUp,
            seed: 1,
        }
    }

    /// A basic rate D-channel: k = 1; point-to-point keeps its link up, point-to-multipoint
    /// leaves it down until layer 3 needs it.
    pub fn bri(role: Role, mode: Mode) -> Q921Config {
        let layer2_persistence = match mode {
            Mode::PointToPoint => Layer2Persistence::KeepUp,
            Mode::PointToMultipoint => Layer2Persistence::LeaveDown,
        };
        Q921Config { mode, k: 1, layer2_persistence, ..Q921Config::pri(role) }
    }

    pub(crate) fn link_params(&self) -> LinkParams {
        LinkParams {
            k: self.k,
            n200: self.n200,
            n201: self.n201.min(N201_MAX),
            t200: self.t200,
            t203: self.t203,
            persistence: self.layer2_persistence,
        }
    }
}
