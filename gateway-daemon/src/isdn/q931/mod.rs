//! Q.931 call control (ETSI EN 300 403, "euroisdn"), user and network side, as a sans-IO state
//! machine on top of Q.921.
//!
//! [`Q931`] is the layer 3 entity of one D-channel. Feed it DL-DATA / DL-UNIT-DATA payloads with
//! [`Q931::handle_dl_data`], data-link state changes with [`Q931::handle_dl_established`] and
//! [`Q931::handle_dl_released`], timer expiries with [`Q931::handle_timeout`] and the gateway's
//! requests ([`Q931::setup`], [`Q931::alerting`], [`Q931::disconnect`] ...); then drain
//! [`Q931::poll_transmit`] (`(tei, payload)`: TEI 127 means "send as UI on the broadcast data
//! link", anything else "DL-DATA-request on that TEI"), [`Q931::poll_event`] and
//! [`Q931::poll_timeout`]. It reads no clock and does no I/O.
//!
//! TEIs: on the network side the TEI in and out names the terminal's data link (one entity
//! serves every TEI of a point-to-multipoint bus; calls remember their TEI, a broadcast SETUP's
//! call takes the TEI of the first terminal that answers). On the user side there is one data
//! link: pass 127 for a UI (broadcast) payload and the link's TEI otherwise; what it sends goes on
//! that link, under the TEI last given to `handle_dl_established` (never 127).
//!
//! Every call ends with exactly one [`Q931Event::Released`], and a B-channel is busy only while a
//! live call holds it: link loss, T308/T309/T316 expiry and RESTART all free channels.
//!
//! Files: `ie` and `message` (wire format, §4), `encode` (the messages a call sends, written
//! straight into their octets), `call` (one call's state machine, §5.1–§5.4),
//! `entity` (call references, channel selection, the §5.8 error procedures, data link events),
//! `offer` (a broadcast SETUP offered to every terminal of a bus, §5.2.3.2), `restart` (§5.5),
//! `channels` (the B-channel table), `timers` (§9), `digits` (party numbers' digits, held inline).
//!
//! Variants: [`Variant`] names the protocol flavour. ETSI is the only one today; a national
//! variant or QSIG changes the mandatory elements ([`MessageType::mandatory`] is the ETSI table),
//! the cause location, timer defaults ([`Timers`]) and channel-selection rules, which are the
//! places that consult `config.variant`.
//!
//! # Call state table (Q.931 §5, Annex A; ETSI EN 300 403 §5)
//!
//! "U" rows run on the user side, "N" rows on the network side, "U/N" on both. "→peer" is a
//! message sent, "peer→" one received, "req" a request of the gateway, "ev" an event to it.
//!
//! | Side | State | Event | Action | Next | Clause |
//! |---|---|---|---|---|---|
//! | U | NULL | req setup | →SETUP, start T303 | CALL_INITIATED | §5.1.1 |
//! | N | NULL | req setup | →SETUP (UI on TEI 127 in PTMP), start T303 | CALL_PRESENT | §5.2.1 |
//! | U/N | CALL_INITIATED / CALL_PRESENT | T303 first | →SETUP again, start T303 | same | §5.1.1, §5.2.1 |
//! | U/N | CALL_INITIATED / CALL_PRESENT | T303 second | →RELEASE COMPLETE #102, ev released | NULL | §5.1.1, §5.2.1 |
//! | U/N | CALL_INITIATED / CALL_PRESENT | data link reset lost I frames, T303 running | →SETUP again, restart T303 (the retransmission is not used up) | same | §5.8.8 c) |
//! | U | CALL_INITIATED | peer→SETUP ACK | stop T303, ev | OVERLAP_SENDING | §5.1.3 |
//! | N | CALL_PRESENT | peer→SETUP ACK | stop T303, ev | OVERLAP_RECEIVING | §5.2.4 |
//! | U | OVERLAP_SENDING | req information | →INFORMATION | same | §5.1.3 |
//! | N | OVERLAP_RECEIVING | req information | →INFORMATION | same | §5.2.4 |
//! | U | CALL_INITIATED, OVERLAP_SENDING | peer→CALL PROCEEDING | stop T303, start T310, ev | OUTGOING_CALL_PROCEEDING | §5.1.5.2 |
//! | N | CALL_PRESENT, OVERLAP_RECEIVING | peer→CALL PROCEEDING | stop T303, start T310, ev | INCOMING_CALL_PROCEEDING | §5.2.5.2 |
//! | U | 1, 2, 3 | peer→ALERTING | stop T303/T310, ev | CALL_DELIVERED | §5.1.7 |
//! | N | 6, 25, 9 | peer→ALERTING | stop T303/T310, start T301, ev | CALL_RECEIVED | §5.2.5.1 |
//! | U | 1, 2, 3, 4 | peer→CONNECT | →CONNECT ACK, ev connected | ACTIVE | §5.1.8 |
//! | N | 6, 25, 9, 7 | peer→CONNECT | →CONNECT ACK, ev connected (N8 is passed through) | ACTIVE | §5.2.8 |
//! | U | OUTGOING_CALL_PROCEEDING | T310 | →DISCONNECT #102, start T305, ev | DISCONNECT_REQUEST | §5.1.5.2 |
//! | N | INCOMING_CALL_PROCEEDING | T310 | →DISCONNECT #18, start T305, ev | DISCONNECT_INDICATION | §5.2.5.3 |
//! | N | CALL_RECEIVED | T301 | →DISCONNECT #19, start T305, ev | DISCONNECT_INDICATION | §5.2.5.3 |
//! | U | NULL | peer→SETUP | select channel, ev incoming setup | CALL_PRESENT | §5.2.1 |
//! | N | NULL | peer→SETUP | select channel, ev incoming setup | CALL_INITIATED | §5.1.1 |
//! | U/N | NULL | peer→SETUP, channel taken (exclusive) / none free | →RELEASE COMPLETE #44 / #34 | NULL | §5.1.2, §5.2.3 |
//! | U | CALL_PRESENT | req setup ack | →SETUP ACK (+chan), start T302 | OVERLAP_RECEIVING | §5.2.4 |
//! | N | CALL_INITIATED | req setup ack | →SETUP ACK (+chan), start T302 | OVERLAP_SENDING | §5.1.3 |
//! | U/N | OVERLAP_RECEIVING / OVERLAP_SENDING | peer→INFORMATION | restart T302 (stop if complete), ev | same | §5.1.3, §5.2.4 |
//! | U/N | OVERLAP_RECEIVING / OVERLAP_SENDING | T302 | ev overlap timeout (gateway proceeds or clears #28) | same | §5.1.3, §5.2.4 |
//! | U | 6, 25 | req proceeding | →CALL PROCEEDING (+chan), stop T302 | INCOMING_CALL_PROCEEDING | §5.2.5.2 |
//! | N | 1, 2 | req proceeding | →CALL PROCEEDING (+chan), stop T302 | OUTGOING_CALL_PROCEEDING | §5.1.5.2 |
//! | U | 6, 25, 9 | req alerting | →ALERTING (+progress #8 when we play ringback) | CALL_RECEIVED | §5.2.5.1 |
//! | N | 1, 2, 3 | req alerting | →ALERTING (+progress #8 when we play ringback) | CALL_DELIVERED | §5.1.7 |
//! | U | 6, 25, 9, 7 | req connect | →CONNECT, start T313 | CONNECT_REQUEST | §5.2.8 |
//! | N | 1, 2, 3, 4 | req connect | →CONNECT | ACTIVE | §5.1.8 |
//! | U | CONNECT_REQUEST | peer→CONNECT ACK | stop T313, ev connected | ACTIVE | §5.2.8 |
//! | U | CONNECT_REQUEST | T313 | →DISCONNECT #102, start T305 | DISCONNECT_REQUEST | §5.2.8 |
//! | U/N | any but 0, 19 | peer→PROGRESS / INFORMATION / NOTIFY / FACILITY | ev | same | §5.1.6, §5.9 |
//! | U | any but 0, 11, 12, 19 | req disconnect | →DISCONNECT, start T305 | DISCONNECT_REQUEST | §5.3.3 |
//! | N | any but 0, 11, 12, 19 | req disconnect | →DISCONNECT, start T305 | DISCONNECT_INDICATION | §5.3.4 |
//! | N | any but 0, 11, 12, 19 | req disconnect in-band | →DISCONNECT with progress #8, start T306 | DISCONNECT_INDICATION | §5.3.4.1 |
//! | N | DISCONNECT_INDICATION | T306 | →RELEASE (our cause), start T308 | RELEASE_REQUEST | §5.3.4.1 |
//! | U | any but 0, 11, 12, 19 | peer→DISCONNECT | ev disconnected (ev progress #8 first when it has it) | DISCONNECT_INDICATION | §5.3.4 |
//! | N | any but 0, 11, 12, 19 | peer→DISCONNECT | ev disconnected | DISCONNECT_REQUEST | §5.3.3 |
//! | U / N | DISCONNECT_REQUEST / DISCONNECT_INDICATION | peer→DISCONNECT (collision) | →RELEASE, start T308 | RELEASE_REQUEST | §5.3.5 |
//! | U/N | 11, 12 | T305 | →RELEASE (our cause), start T308 | RELEASE_REQUEST | §5.3.3 |
//! | U/N | 11, 12 (or any but 0, 19) | req release | →RELEASE, start T308 | RELEASE_REQUEST | §5.3.4 |
//! | U / N | CALL_PRESENT / CALL_INITIATED | req release | →RELEASE COMPLETE, ev released | NULL | §5.2.5.1 |
//! | U/N | any but 0, 19 | peer→RELEASE | →RELEASE COMPLETE, ev released | NULL | §5.3.4 |
//! | U/N | any but 0 | peer→RELEASE COMPLETE | ev released | NULL | §5.3.4 |
//! | U/N | RELEASE_REQUEST | peer→RELEASE (collision) / RELEASE COMPLETE | ev released | NULL | §5.3.5 |
//! | U/N | RELEASE_REQUEST | T308 first / second | →RELEASE again / ev released #102, channel freed | same / NULL | §5.3.4.3 |
//! | U/N | ACTIVE | DL-RELEASE-indication | start T309 | same | §5.8.9 |
//! | U/N | any other but 0 | DL-RELEASE-indication | ev released #41 | NULL | §5.8.9 |
//! | U/N | T309 running | DL-ESTABLISH-ind/conf | stop T309, →STATUS #31 | same | §5.8.9 |
//! | U/N | any | T309 | ev released #27 | NULL | §5.8.9 |
//! | U/N | any | peer→STATUS ENQUIRY | →STATUS #30 with our state | same | §5.8.10 |
//! | U/N | any but 0 | peer→STATUS call state 0 | ev released | NULL | §5.8.11 |
//! | U/N | any | peer→unexpected message | →STATUS #101 | same | §5.8.4 |
//!
//! # Error procedures (§5.8) and restart (§5.5)
//!
//! | Condition | Action | Clause |
//! |---|---|---|
//! | shorter than 3 octets, other discriminator, call reference over 2 octets | ignore | §5.8.1–§5.8.3.1 |
//! | unknown reference: SETUP flag 0 / SETUP flag 1 / RELEASE COMPLETE | new call / ignore / ignore | §5.8.3.2 |
//! | unknown reference: STATUS ENQUIRY / STATUS not Null / any other | →STATUS #30 / →RELEASE COMPLETE #101 / →RELEASE COMPLETE #81 | §5.8.3.2 |
//! | global reference: not RESTART, RESTART ACK or STATUS | →STATUS #81 | §5.8.3.2 |
//! | unknown message type | →STATUS #97 | §5.8.4 |
//! | mandatory element missing / invalid: SETUP, RELEASE / DISCONNECT / other | →RELEASE COMPLETE, →RELEASE, →STATUS with #96 / #100 | §5.8.6 |
//! | unknown element, comprehension required (codeset 0, 0000 xxxx) | as a missing mandatory element, #96 | §5.8.7.1 |
//! | unknown element / invalid optional element | act on the message, →STATUS #99 / #100 | §5.8.7 |
//! | req restart (channel or interface) | clear its calls, channels restarting, →RESTART, start T316 | §5.5.1 |
//! | peer→RESTART ACK | channels idle, ev | §5.5.1 |
//! | T316 first, second / third | →RESTART again / channels idle, ev restart failed | §5.5.1 |
//! | peer→RESTART | clear the calls, channels idle, →RESTART ACK, ev restart indication | §5.5.2 |
//!
//! # Broadcast SETUP on a point-to-multipoint bus, network side (§5.2.3.2, §5.2.5.1)
//!
//! | State | Event | Action | Next |
//! |---|---|---|---|
//! | CALL_PRESENT (TEI 127) | terminal→SETUP ACK / CALL PROCEEDING / ALERTING | note the terminal, as above | as above |
//! | any, TEI 127 | terminal→answer another terminal overtook | note the terminal | same |
//! | any, TEI 127 | terminal→CONNECT | call to that TEI, →RELEASE #26 to the other terminals, →CONNECT ACK | ACTIVE |
//! | any, TEI 127 | terminal→RELEASE COMPLETE / RELEASE / DISCONNECT | keep cause, (→RELEASE COMPLETE / RELEASE) | same |
//! | any, TEI 127 | last terminal gone and T303 stopped | ev released with its cause | NULL |
//! | CALL_PRESENT (TEI 127) | T303 second, a terminal refused | →RELEASE COMPLETE, ev released with the refusal | NULL |
//! | any, bound to a TEI | another terminal→answer | →RELEASE #26 to it | same |
//!
//! Glare on a PRI (§5.7 and ETSI §5.7): when the network's SETUP and the user's SETUP name the
//! same channel, the network's call keeps it. The user side gives the channel to the incoming
//! call, whether exclusive or preferred; the network side refuses the user's exclusive request
//! with RELEASE COMPLETE #44 and moves a preferred one to another idle channel, which its first
//! answer names and the user's call then takes. Outside glare, a preferred channel in use is
//! replaced by an idle one on either side; an exclusive one is refused with #44, and #34 when no
//! channel is idle.

mod call;
pub mod channels;
pub mod digits;
mod encode;
mod entity;
pub mod ie;
pub mod message;
mod offer;
mod restart;
pub mod timers;
pub mod view;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_q921;
#[cfg(test)]
mod tests_view;
#[cfg(test)]
mod tests_wire;

use std::fmt;

pub use call::{Call, CallState, Request};
pub use channels::{ChannelStatus, ChannelTable};
pub use digits::Digits;
pub use entity::Q931;
pub use ie::{BearerCapability, Cause, ChannelId, ChannelSelection, Ie, PartyNumber, RestartClass};
pub use message::{CallRef, Message, MessageType, ParseError};
pub use timers::{Timer, Timers};
pub use view::MessageView;

/// Which side of the user-network interface this entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The user side (TE, "cpe").
    User,
    /// The network side (NT, "net").
    Network,
}

/// The protocol flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// ETSI EN 300 403 ("euroisdn").
    Etsi,
}

/// The kind of interface the D-channel controls, which fixes the B-channel numbers and the
/// length of call references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    /// Basic rate: B1 and B2, one-octet call references.
    Basic,
    /// Primary rate E1: timeslots 1–15 and 17–31, two-octet call references.
    PrimaryE1,
    /// Primary rate T1: channels 1–23, two-octet call references.
    PrimaryT1,
}

impl Interface {
    pub fn b_channels(self) -> Vec<u8> {
        match self {
            Interface::Basic => vec![1, 2],
            Interface::PrimaryE1 => (1..=31).filter(|&n| n != 16).collect(),
            Interface::PrimaryT1 => (1..=23).collect(),
        }
    }

    pub fn primary(self) -> bool {
        self != Interface::Basic
    }

    /// Call reference length (§4.3): one octet on a basic access, two on a primary rate.
    pub fn cref_len(self) -> u8 {
        if self.primary() {
            2
        } else {
            1
        }
    }
}

/// The configuration of one D-channel's call control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Q931Config {
    pub side: Side,
    pub variant: Variant,
    pub interface: Interface,
    /// Point-to-multipoint: the network sends SETUP as UI on TEI 127 and answers each TEI.
    pub point_to_multipoint: bool,
    pub timers: Timers,
}

impl Q931Config {
    /// ETSI PRI (E1), point-to-point.
    pub fn pri(side: Side) -> Q931Config {
        Q931Config {
            side,
            variant: Variant::Etsi,
            interface: Interface::PrimaryE1,
            point_to_multipoint: false,
            timers: Timers::default(),
        }
    }

    /// ETSI BRI, point-to-point or point-to-multipoint.
    pub fn bri(side: Side, point_to_multipoint: bool) -> Q931Config {
        Q931Config { interface: Interface::Basic, point_to_multipoint, ..Q931Config::pri(side) }
    }
}

/// A call of this entity, as the gateway names it (call references are reused; these are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u32);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

/// What the gateway asks for when it places a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupRequest {
    /// The B-channel wanted; `None` takes the lowest idle one.
    pub channel: Option<u8>,
    /// Whether only that channel is acceptable (exclusive) or merely preferred.
    pub exclusive: bool,
    pub bearer: BearerCapability,
    pub called: Option<PartyNumber>,
    pub calling: Option<PartyNumber>,
    /// En-bloc sending: the called number is complete (sending complete element).
    pub sending_complete: bool,
    /// Further codeset 0 elements (display, high-layer compatibility, facility ...).
    pub extra: Vec<Ie>,
}

impl SetupRequest {
    /// A speech call (A-law) from `calling` to `called`, en bloc, as libpri's test places it:
    /// calling number presentation allowed, user-provided, not screened.
    pub fn speech(called: &str, calling: &str) -> SetupRequest {
        let mut calling = PartyNumber::unknown(calling);
        calling.presentation = Some((0, 0));
        SetupRequest {
            channel: None,
            exclusive: true,
            bearer: BearerCapability::speech(BearerCapability::LAYER1_ALAW),
            called: Some(PartyNumber::unknown(called)),
            calling: Some(calling),
            sending_complete: true,
            extra: Vec::new(),
        }
    }
}

/// What RESTART applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartTarget {
    Channel(u8),
    Interface,
}

/// A request the entity cannot carry out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Q931Error {
    UnknownCall(CallId),
    /// The request does not fit the call's state.
    InvalidState(CallId, CallState),
    NoSuchChannel(u8),
    ChannelBusy(u8),
    NoChannelAvailable,
    NoCallReferenceAvailable,
    RestartInProgress,
}

impl fmt::Display for Q931Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Q931Error::UnknownCall(c) => write!(f, "no such call {c}"),
            Q931Error::InvalidState(c, s) => write!(f, "{c} is in state {s}"),
            Q931Error::NoSuchChannel(n) => write!(f, "B-channel {n} does not exist on this interface"),
            Q931Error::ChannelBusy(n) => write!(f, "B-channel {n} is busy"),
            Q931Error::NoChannelAvailable => f.write_str("no B-channel is idle"),
            Q931Error::NoCallReferenceAvailable => f.write_str("every call reference is in use"),
            Q931Error::RestartInProgress => f.write_str("a RESTART is already in progress"),
        }
    }
}

impl std::error::Error for Q931Error {}

/// What call control tells the gateway.
// A plain tag octet: matching and dropping an event read it as it stands, where the default
// layout hides the tag in the niche of `Information`'s `String` and decodes it every time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[repr(u8)]
pub enum Q931Event {
    /// A SETUP arrived and is now a call in CALL_PRESENT (user) or CALL_INITIATED (network).
    /// The SETUP stays with the call: its numbers, bearer capability and the elements passed
    /// through (high-layer compatibility ...) are read from [`Q931::setup_message`] when wanted,
    /// rather than decoded and moved for every call.
    IncomingSetup {
        call: CallId,
        tei: u8,
        /// The B-channel the call was given (none: "no channel" was asked for).
        channel: Option<u8>,
        sending_complete: bool,
    },
    SetupAcknowledged {
        call: CallId,
    },
    Proceeding {
        call: CallId,
    },
    Alerting {
        call: CallId,
        /// The ALERTING carried progress indicator #1 or #8: the far side gives in-band tones.
        inband: bool,
    },
    /// A PROGRESS, or a DISCONNECT with progress indicator #8 (told just before `Disconnected`).
    Progress {
        call: CallId,
        /// Progress indicator #1 or #8: the far side's tones are now on the B-channel. Any other
        /// (#2 destination not ISDN, #3, #4...) tells where the call went, not that there is
        /// anything to hear.
        inband: bool,
    },
    Connected {
        call: CallId,
    },
    /// More digits in overlap mode (or keypad information).
    // `complete` first: beside the tag octet (the variants are laid out in order under
    // `repr(u8)`), which keeps the event at 32 octets.
    Information {
        complete: bool,
        call: CallId,
        digits: String,
    },
    /// T302 ran out in overlap receiving: the gateway decides whether the number is complete
    /// (proceed) or not (disconnect with cause 28).
    OverlapTimeout {
        call: CallId,
    },
    /// The peer disconnected (answer with [`Q931::release`]), or a timer cleared the call; with
    /// the Q.850 cause value.
    Disconnected {
        call: CallId,
        cause: Option<u8>,
    },
    /// The call is over and its channel free; the last event of every call. With the Q.850 cause
    /// value.
    Released {
        call: CallId,
        cause: Option<u8>,
    },
    /// NOTIFY or FACILITY, passed through (boxed: the rare event keeps the common ones small).
    PassedThrough {
        call: CallId,
        message: Box<Message>,
    },
    /// A STATUS from the peer (for a call, or on the global call reference), with its cause
    /// value and call state.
    Status {
        call: Option<CallId>,
        cause: Option<u8>,
        state: Option<u8>,
    },
    /// The peer restarted these channels (`None`: the whole interface).
    RestartIndication {
        channels: Option<Vec<u8>>,
    },
    RestartAcknowledged {
        target: RestartTarget,
    },
    /// T316 ran out on every try; the channels were made idle anyway.
    RestartFailed {
        target: RestartTarget,
    },
}

impl fmt::Display for Q931Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause = |f: &mut fmt::Formatter<'_>, c: &Option<u8>| match c {
            Some(c) => write!(f, " cause={c} ({})", ie::cause::name(*c)),
            None => Ok(()),
        };
        match self {
            Q931Event::IncomingSetup { call, tei, channel, sending_complete } => {
                write!(f, "{call} incoming tei={tei} chan={channel:?}")?;
                if *sending_complete {
                    f.write_str(" complete")?;
                }
                Ok(())
            }
            Q931Event::SetupAcknowledged { call } => write!(f, "{call} setup acknowledged"),
            Q931Event::Proceeding { call } => write!(f, "{call} proceeding"),
            Q931Event::Alerting { call, inband } => {
                write!(f, "{call} alerting{}", if *inband { " inband" } else { "" })
            }
            Q931Event::Progress { call, inband } => {
                write!(f, "{call} progress{}", if *inband { " inband" } else { "" })
            }
            Q931Event::Connected { call } => write!(f, "{call} connected"),
            Q931Event::Information { call, digits, complete } => {
                write!(f, "{call} information digits={digits}{}", if *complete { " complete" } else { "" })
            }
            Q931Event::OverlapTimeout { call } => write!(f, "{call} T302 expired"),
            Q931Event::Disconnected { call, cause: c } => {
                write!(f, "{call} disconnected")?;
                cause(f, c)
            }
            Q931Event::Released { call, cause: c } => {
                write!(f, "{call} released")?;
                cause(f, c)
            }
            Q931Event::PassedThrough { call, message } => write!(f, "{call} {message}"),
            Q931Event::Status { call, cause: c, state } => {
                write!(f, "status call={call:?} state={state:?}")?;
                cause(f, c)
            }
            Q931Event::RestartIndication { channels } => write!(f, "restart indication {channels:?}"),
            Q931Event::RestartAcknowledged { target } => write!(f, "restart acknowledged {target:?}"),
            Q931Event::RestartFailed { target } => write!(f, "restart failed {target:?}"),
        }
    }
}
