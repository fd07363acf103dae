//! Q.931 messages on the wire (§4.1–§4.4): protocol discriminator, call reference, message type
//! and the information elements, as a checked parse into a [`Message`] and its exact inverse.
//!
//! [`Message::parse`] takes any octet string without panicking. It fails only where §5.8.1–§5.8.3
//! say to ignore the message outright (too short, another protocol, a call reference longer than
//! two octets); everything else, including unknown message types and broken elements, comes back
//! as a `Message` so that call control can answer it with the right STATUS cause. Emitting a parsed
//! message gives its octets back. (The receive path reads messages through a
//! [`MessageView`](super::view::MessageView) instead, which decodes the same way without building
//! the element list.)

use std::fmt;

use super::encode::Encoder;
use super::ie::{id, Cause, ChannelId, Ie, PartyNumber};
use super::view::MessageView;

/// The protocol discriminator of Q.931 user-network call control messages.
pub const PROTOCOL_DISCRIMINATOR: u8 = 0x08;

/// Why a D-channel payload is not a Q.931 message at all (§5.8.1–§5.8.3.1: ignore it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than the discriminator, call reference and message type need.
    TooShort,
    /// Another protocol discriminator (X.25, a national protocol ...).
    ProtocolDiscriminator(u8),
    /// A call reference length other than 0, 1 or 2, or spare bits set in its octet.
    CallReferenceLength(u8),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooShort => f.write_str("message too short"),
            ParseError::ProtocolDiscriminator(pd) => write!(f, "protocol discriminator {pd:#04x} is not Q.931"),
            ParseError::CallReferenceLength(o) => write!(f, "call reference length octet {o:#04x}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// The message type of each octet ([`MessageType::from_octet`]: one load where the match takes
/// a chain of compares on every received message).
const TYPE_OF: [MessageType; 256] = {
    let mut table = [MessageType::Unknown(0); 256];
    let mut o: u8 = 0;
    loop {
        table[o as usize] = MessageType::decode(o);
        if o == u8::MAX {
            break table;
        }
        o += 1;
    }
};

/// Message types (Table 4-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Alerting,
    CallProceeding,
    Progress,
    Setup,
    Connect,
    SetupAcknowledge,
    ConnectAcknowledge,
    UserInformation,
    Suspend,
    SuspendAcknowledge,
    SuspendReject,
    Resume,
    ResumeAcknowledge,
    ResumeReject,
    Disconnect,
    Restart,
    Release,
    RestartAcknowledge,
    ReleaseComplete,
    Segment,
    Facility,
    Notify,
    StatusEnquiry,
    CongestionControl,
    Information,
    Status,
    /// A code Table 4-2 does not define (answered with cause 97).
    Unknown(u8),
}

impl MessageType {
    #[inline]
    pub fn from_octet(o: u8) -> MessageType {
        TYPE_OF[usize::from(o)]
    }

    /// Table 4-2 as a match, which [`TYPE_OF`] is built from.
    const fn decode(o: u8) -> MessageType {
        match o {
            0x01 => MessageType::Alerting,
            0x02 => MessageType::CallProceeding,
            0x03 => MessageType::Progress,
            0x05 => MessageType::Setup,
            0x07 => MessageType::Connect,
            0x0d => MessageType::SetupAcknowledge,
            0x0f => MessageType::ConnectAcknowledge,
            0x20 => MessageType::UserInformation,
            0x25 => MessageType::Suspend,
            0x2d => MessageType::SuspendAcknowledge,
            0x21 => MessageType::SuspendReject,
            0x26 => MessageType::Resume,
            0x2e => MessageType::ResumeAcknowledge,
            0x22 => MessageType::ResumeReject,
            0x45 => MessageType::Disconnect,
            0x46 => MessageType::Restart,
            0x4d => MessageType::Release,
            0x4e => MessageType::RestartAcknowledge,
            0x5a => MessageType::ReleaseComplete,
            0x60 => MessageType::Segment,
            0x62 => MessageType::Facility,
            0x6e => MessageType::Notify,
            0x75 => MessageType::StatusEnquiry,
            0x79 => MessageType::CongestionControl,
            0x7b => MessageType::Information,
            0x7d => MessageType::Status,
            other => MessageType::Unknown(other),
        }
    }

    pub fn octet(self) -> u8 {
        match self {
            MessageType::Alerting => 0x01,
            MessageType::CallProceeding => 0x02,
            MessageType::Progress => 0x03,
            MessageType::Setup => 0x05,
            MessageType::Connect => 0x07,
            MessageType::SetupAcknowledge => 0x0d,
            MessageType::ConnectAcknowledge => 0x0f,
            MessageType::UserInformation => 0x20,
            MessageType::Suspend => 0x25,
            MessageType::SuspendAcknowledge => 0x2d,
            MessageType::SuspendReject => 0x21,
            MessageType::Resume => 0x26,
            MessageType::ResumeAcknowledge => 0x2e,
            MessageType::ResumeReject => 0x22,
            MessageType::Disconnect => 0x45,
            MessageType::Restart => 0x46,
            MessageType::Release => 0x4d,
            MessageType::RestartAcknowledge => 0x4e,
            MessageType::ReleaseComplete => 0x5a,
            MessageType::Segment => 0x60,
            MessageType::Facility => 0x62,
            MessageType::Notify => 0x6e,
            MessageType::StatusEnquiry => 0x75,
            MessageType::CongestionControl => 0x79,
            MessageType::Information => 0x7b,
            MessageType::Status => 0x7d,
            MessageType::Unknown(o) => o,
        }
    }

    /// The codeset 0 elements §5.8.6.1 requires in this message (ETSI EN 300 403 §3 tables,
    /// both directions). Elements mandatory only in one direction or only as a first response are
    /// checked by call control, not here.
    pub fn mandatory(self) -> &'static [u8] {
        match self {
            MessageType::Setup => &[id::BEARER_CAPABILITY],
            MessageType::Disconnect => &[id::CAUSE],
            MessageType::Status => &[id::CAUSE, id::CALL_STATE],
            MessageType::Restart | MessageType::RestartAcknowledge => &[id::RESTART_INDICATOR],
            MessageType::Progress => &[id::PROGRESS],
            MessageType::Notify => &[id::NOTIFICATION],
            _ => &[],
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageType::Alerting => "ALERTING",
            MessageType::CallProceeding => "CALL PROCEEDING",
            MessageType::Progress => "PROGRESS",
            MessageType::Setup => "SETUP",
            MessageType::Connect => "CONNECT",
            MessageType::SetupAcknowledge => "SETUP ACKNOWLEDGE",
            MessageType::ConnectAcknowledge => "CONNECT ACKNOWLEDGE",
            MessageType::UserInformation => "USER INFORMATION",
            MessageType::Suspend => "SUSPEND",
            MessageType::SuspendAcknowledge => "SUSPEND ACKNOWLEDGE",
            MessageType::SuspendReject => "SUSPEND REJECT",
            MessageType::Resume => "RESUME",
            MessageType::ResumeAcknowledge => "RESUME ACKNOWLEDGE",
            MessageType::ResumeReject => "RESUME REJECT",
            MessageType::Disconnect => "DISCONNECT",
            MessageType::Restart => "RESTART",
            MessageType::Release => "RELEASE",
            MessageType::RestartAcknowledge => "RESTART ACKNOWLEDGE",
            MessageType::ReleaseComplete => "RELEASE COMPLETE",
            MessageType::Segment => "SEGMENT",
            MessageType::Facility => "FACILITY",
            MessageType::Notify => "NOTIFY",
            MessageType::StatusEnquiry => "STATUS ENQUIRY",
            MessageType::CongestionControl => "CONGESTION CONTROL",
            MessageType::Information => "INFORMATION",
            MessageType::Status => "STATUS",
            MessageType::Unknown(o) => return write!(f, "UNKNOWN({o:#04x})"),
        })
    }
}

/// A call reference (§4.3): its length in octets, its value and the flag, which is 0 on messages
/// sent from the side that allocated the reference and 1 on messages sent towards it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallRef {
    /// 0 for the dummy call reference, 1 on a basic rate interface, 2 on a primary rate one.
    pub len: u8,
    pub value: u16,
    /// `true` when the message goes to the side that allocated the reference.
    pub flag: bool,
}

impl CallRef {
    /// The global call reference (value 0) in the interface's length, as RESTART uses it.
    pub fn global(len: u8) -> CallRef {
        CallRef { len, value: 0, flag: false }
    }

    pub fn is_global(&self) -> bool {
        self.value == 0
    }
}

impl fmt::Display for CallRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.len, self.value) {
            (0, _) => f.write_str("cref=dummy"),
            (_, 0) => write!(f, "cref=global{}", if self.flag { " (dest)" } else { "" }),
            (_, v) => write!(f, "cref={v} ({})", if self.flag { "dest" } else { "orig" }),
        }
    }
}

/// A Q.931 message: header and information elements in the order they came or are to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub call_ref: CallRef,
    pub msg_type: MessageType,
    pub ies: Vec<Ie>,
    /// The octets of a last element whose length runs past the end of the message, verbatim
    /// (the element is treated as having invalid contents).
    pub trailing: Vec<u8>,
}

impl Message {
    pub fn new(call_ref: CallRef, msg_type: MessageType) -> Message {
        Message { call_ref, msg_type, ies: Vec::new(), trailing: Vec::new() }
    }

    /// Adds an element (builder style).
    pub fn with(mut self, ie: Ie) -> Message {
        self.ies.push(ie);
        self
    }

    pub fn parse(octets: &[u8]) -> Result<Message, ParseError> {
        let mut msg = Message::new(CallRef::global(0), MessageType::Status);
        msg.parse_from(octets)?;
        Ok(msg)
    }

    /// [`parse`](Self::parse) into this message, reusing its element list (the receive path
    /// keeps one message for this, so that parsing allocates only for the elements' own
    /// contents). On error the message holds nothing useful.
    pub fn parse_from(&mut self, octets: &[u8]) -> Result<(), ParseError> {
        self.ies.clear();
        self.trailing.clear();
        let view = MessageView::parse(octets)?;
        self.call_ref = view.call_ref;
        self.msg_type = view.msg_type;
        view.decode_into(self);
        Ok(())
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        self.emit_body(&mut Encoder::new(out, self.call_ref, self.msg_type));
    }

    /// Writes what follows the header: the elements, then any trailing octets.
    pub(crate) fn emit_body(&self, e: &mut Encoder<'_>) {
        for ie in &self.ies {
            e.ie(ie);
        }
        e.put(&self.trailing);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.emit(&mut out);
        out
    }

    /// The codeset 0 elements, with the codeset each element was received in worked out from the
    /// shifts before it.
    pub fn codeset0(&self) -> impl Iterator<Item = &Ie> {
        let mut locked = 0u8;
        let mut next_only: Option<u8> = None;
        self.ies.iter().filter(move |ie| {
            let codeset = next_only.take().unwrap_or(locked);
            if let Ie::Shift { locking, codeset: c } = ie {
                if *locking {
                    locked = *c;
                } else {
                    next_only = Some(*c);
                }
                return false;
            }
            codeset == 0
        })
    }

    /// Whether a codeset 0 element with this identifier is present (valid or not).
    pub fn has(&self, ie_id: u8) -> bool {
        self.codeset0().any(|ie| ie.id() == ie_id)
    }

    pub fn cause(&self) -> Option<&Cause> {
        self.codeset0().find_map(|ie| if let Ie::Cause(c) = ie { Some(c) } else { None })
    }

    pub fn channel_id(&self) -> Option<&ChannelId> {
        self.codeset0().find_map(|ie| if let Ie::ChannelId(c) = ie { Some(c) } else { None })
    }

    pub fn called(&self) -> Option<&PartyNumber> {
        self.codeset0().find_map(|ie| if let Ie::CalledNumber(n) = ie { Some(n) } else { None })
    }

    pub fn calling(&self) -> Option<&PartyNumber> {
        self.codeset0().find_map(|ie| if let Ie::CallingNumber(n) = ie { Some(n) } else { None })
    }

    pub fn sending_complete(&self) -> bool {
        self.ies.iter().any(|ie| matches!(ie, Ie::SendingComplete))
    }

    /// The call state of a STATUS message.
    pub fn call_state(&self) -> Option<u8> {
        self.codeset0().find_map(|ie| if let Ie::CallState { state, .. } = ie { Some(*state) } else { None })
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.msg_type, self.call_ref)?;
        for ie in &self.ies {
            write!(f, " {ie}")?;
        }
        if !self.trailing.is_empty() {
            write!(f, " truncated={:02x?}", self.trailing)?;
        }
        Ok(())
    }
}
