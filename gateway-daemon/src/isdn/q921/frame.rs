//! Q.921 frames on the wire: a checked view over the octets and a `Repr` that parses and emits them.
//!
//! A LAPD frame, as `hal::DChannel` carries it (no flags, no FCS), is an address field of two
//! octets (SAPI, C/R, EA=0 | TEI, EA=1), a control field of one (U format) or two (I and S formats,
//! modulo 128) octets, and an optional information field (Q.921 §2.1–§3.6). TEI management
//! messages (Q.921 §5.3, Table 8) travel in the information field of UI frames on SAPI 63.
//!
//! [`Frame::new_checked`] and [`FrameRepr::parse`] accept any octet string without panicking and say
//! which Q.921 frame-rejection condition (§5.8.5) an unacceptable frame meets, because the data-link
//! machine reports that condition as an MDL-ERROR code.

use std::fmt;

use super::{FrameOctets, Role};
use crate::isdn::octets::OctetSink;

/// SAPI of call control (Q.931) procedures.
pub const SAPI_CALL_CONTROL: u8 = 0;
/// SAPI of layer 2 management procedures (TEI management).
pub const SAPI_MANAGEMENT: u8 = 63;
/// The group TEI that addresses every TE of the interface (broadcast data link).
pub const TEI_GROUP: u8 = 127;
/// Management entity identifier of TEI management messages (Q.921 §5.3.1).
pub const TEI_MANAGEMENT_ENTITY: u8 = 0x0f;

/// Why an octet string is not an acceptable frame.
///
/// The first two are "invalid frames" that Q.921 §2.9 says to discard silently; the others are
/// frame-rejection conditions (§5.8.5) with the MDL-ERROR code the data-link entity reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Fewer than three octets: no room for an address and a control field.
    TooShort,
    /// The EA bits of the address field are not 0 then 1 (a longer address is not LAPD).
    BadAddress,
    /// A control field that names no frame Q.921 defines (MDL-ERROR L).
    UndefinedControl,
    /// An information field on a frame that may not carry one (MDL-ERROR M).
    InfoNotPermitted,
    /// An I or S frame without its second control octet, or an S frame with extra octets
    /// (MDL-ERROR N).
    WrongLength,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::TooShort => "frame shorter than three octets",
            ParseError::BadAddress => "address field EA bits are not 0, 1",
            ParseError::UndefinedControl => "undefined control field",
            ParseError::InfoNotPermitted => "information field not permitted on this frame",
            ParseError::WrongLength => "frame has the wrong length for its control field",
        })
    }
}

impl std::error::Error for ParseError {}

/// The address field: SAPI (6 bits), C/R bit and TEI (7 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    pub sapi: u8,
    /// The C/R bit as sent. Whether it means command or response depends on who sent it (§3.3.2):
    /// a network's commands carry 1, a user's commands carry 0.
    pub cr: bool,
    pub tei: u8,
}

impl Address {
    /// The address of a frame sent by `sender`, marked as command or response.
    pub fn new(sapi: u8, tei: u8, sender: Role, command: bool) -> Address {
        Address { sapi: sapi & 0x3f, cr: cr_bit(sender, command), tei: tei & 0x7f }
    }

    /// The two octets of the address field (§3.2, EA bits 0 then 1).
    #[inline]
    pub fn octets(&self) -> [u8; 2] {
        [(self.sapi & 0x3f) << 2 | u8::from(self.cr) << 1, (self.tei & 0x7f) << 1 | 1]
    }

    /// Whether this frame, sent by `sender`, is a command.
    pub fn is_command(&self, sender: Role) -> bool {
        self.cr == cr_bit(sender, true)
    }
}

/// Q.921 Table 1: the network sets C/R to 1 in commands, the user sets it to 0.
fn cr_bit(sender: Role, command: bool) -> bool {
    match sender {
        Role::Nt => command,
        Role::Te => !command,
    }
}

/// The supervisory functions (Q.921 §3.6.7–§3.6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SFunction {
    Rr,
    Rnr,
    Rej,
}

impl SFunction {
    /// The first control octet (Q.921 Table 5).
    #[inline]
    pub(crate) fn code(self) -> u8 {
        match self {
            SFunction::Rr => 0x01,
            SFunction::Rnr => 0x05,
            SFunction::Rej => 0x09,
        }
    }
}

/// The unnumbered functions LAPD defines (Q.921 Table 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UFunction {
    Sabme,
    Dm,
    Ui,
    Disc,
    Ua,
    Frmr,
    Xid,
}

impl UFunction {
    /// The control octet with P/F = 0.
    fn code(self) -> u8 {
        match self {
            UFunction::Sabme => 0x6f,
            UFunction::Dm => 0x0f,
            UFunction::Ui => 0x03,
            UFunction::Disc => 0x43,
            UFunction::Ua => 0x63,
            UFunction::Frmr => 0x87,
            UFunction::Xid => 0xaf,
        }
    }

    fn from_code(octet: u8) -> Option<UFunction> {
        [
            UFunction::Sabme,
            UFunction::Dm,
            UFunction::Ui,
            UFunction::Disc,
            UFunction::Ua,
            UFunction::Frmr,
            UFunction::Xid,
        ]
        .into_iter()
        .find(|f| f.code() == octet & !0x10)
    }

    /// Whether this frame may carry an information field (Q.921 §3.6.10, §3.6.11, Annex).
    fn info_allowed(self) -> bool {
        matches!(self, UFunction::Ui | UFunction::Frmr | UFunction::Xid)
    }

    fn name(self) -> &'static str {
        match self {
            UFunction::Sabme => "SABME",
            UFunction::Dm => "DM",
            UFunction::Ui => "UI",
            UFunction::Disc => "DISC",
            UFunction::Ua => "UA",
            UFunction::Frmr => "FRMR",
            UFunction::Xid => "XID",
        }
    }

    /// The kind a frame of this function always is, when its function decides it.
    fn implied_command(self) -> Option<bool> {
        match self {
            UFunction::Sabme | UFunction::Disc | UFunction::Ui => Some(true),
            UFunction::Dm | UFunction::Ua | UFunction::Frmr => Some(false),
            UFunction::Xid => None,
        }
    }
}

/// The control field in its three formats (Q.921 §3.4, Table 4), sequence numbers modulo 128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Information transfer: send sequence N(S), receive sequence N(R), poll bit.
    I { ns: u8, nr: u8, p: bool },
    /// Supervisory: function, N(R), poll (command) or final (response) bit.
    S { function: SFunction, nr: u8, pf: bool },
    /// Unnumbered: function and poll/final bit.
    U { function: UFunction, pf: bool },
}

impl Control {
    fn len(&self) -> usize {
        match self {
            Control::U { .. } => 1,
            _ => 2,
        }
    }

    /// The trace name of the frame type.
    pub fn name(&self) -> &'static str {
        match self {
            Control::I { .. } => "I",
            Control::S { function: SFunction::Rr, .. } => "RR",
            Control::S { function: SFunction::Rnr, .. } => "RNR",
            Control::S { function: SFunction::Rej, .. } => "REJ",
            Control::U { function, .. } => function.name(),
        }
    }
}

/// A checked view over the octets of one frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps octets without checking them; the accessors may then panic on short input.
    pub fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps octets after checking every rule the accessors and [`FrameRepr::parse`] rely on.
    pub fn new_checked(buffer: T) -> Result<Frame<T>, ParseError> {
        let frame = Frame { buffer };
        frame.check()?;
        Ok(frame)
    }

    fn check(&self) -> Result<(), ParseError> {
        let b = self.buffer.as_ref();
        // The address is looked at first so that a frame for someone else is discarded before its
        // control field can raise an error against our data link.
        if b.len() >= 2 && (b[0] & 1 != 0 || b[1] & 1 != 1) {
            return Err(ParseError::BadAddress);
        }
        if b.len() < 3 {
            return Err(ParseError::TooShort);
        }
        let c = b[2];
        if c & 1 == 0 {
            if b.len() < 4 {
                return Err(ParseError::WrongLength);
            }
        } else if c & 3 == 1 {
            // Bits 5..8 of an S frame's first control octet are reserved and sent as 0; a frame
            // with them set is one Q.921 does not define.
            if c & 0xf0 != 0 || c & 0x0c == 0x0c {
                return Err(ParseError::UndefinedControl);
            }
            if b.len() != 4 {
                return Err(ParseError::WrongLength);
            }
        } else {
            let function = UFunction::from_code(c).ok_or(ParseError::UndefinedControl)?;
            if !function.info_allowed() && b.len() > 3 {
                return Err(ParseError::InfoNotPermitted);
            }
        }
        Ok(())
    }

    pub fn sapi(&self) -> u8 {
        self.buffer.as_ref()[0] >> 2
    }

    pub fn cr(&self) -> bool {
        self.buffer.as_ref()[0] & 2 != 0
    }

    pub fn tei(&self) -> u8 {
        self.buffer.as_ref()[1] >> 1
    }

    pub fn address(&self) -> Address {
        Address { sapi: self.sapi(), cr: self.cr(), tei: self.tei() }
    }

    pub fn control(&self) -> Control {
        let b = self.buffer.as_ref();
        let c = b[2];
        if c & 1 == 0 {
            Control::I { ns: c >> 1, nr: b[3] >> 1, p: b[3] & 1 != 0 }
        } else if c & 3 == 1 {
            let function = match c & 0x0c {
                0x00 => SFunction::Rr,
                0x04 => SFunction::Rnr,
                _ => SFunction::Rej,
            };
            Control::S { function, nr: b[3] >> 1, pf: b[3] & 1 != 0 }
        } else {
            // new_checked guarantees a known function; Ui is only a fallback for unchecked use.
            Control::U { function: UFunction::from_code(c).unwrap_or(UFunction::Ui), pf: c & 0x10 != 0 }
        }
    }

    /// The information field (empty when there is none).
    pub fn info(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let start = if b[2] & 3 == 3 { 3 } else { 4 };
        b.get(start..).unwrap_or(&[])
    }
}

/// A parsed frame, borrowing its information field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRepr<'a> {
    pub address: Address,
    pub control: Control,
    pub info: &'a [u8],
}

impl<'a> FrameRepr<'a> {
    /// Parses one frame (no FCS). Never panics.
    #[inline]
    pub fn parse(octets: &'a [u8]) -> Result<FrameRepr<'a>, ParseError> {
        match FrameRepr::parse_call_frame(octets) {
            Some(frame) => Ok(frame),
            None => FrameRepr::parse_checked(octets),
        }
    }

    /// The frames of every call, I frames and their RR acknowledgements on SAPI 0 with a sound
    /// address, in one pass; `None` for any other octets. The checked rules accept these frames
    /// just the same.
    #[inline(always)]
    pub(crate) fn parse_call_frame(octets: &'a [u8]) -> Option<FrameRepr<'a>> {
        let [a0, a1, c, c2, info @ ..] = octets else { return None };
        // SAPI 0 and EA 0 in the first octet (only C/R may be set), EA 1 in the second.
        if a0 & !2 != SAPI_CALL_CONTROL << 2 || a1 & 1 != 1 {
            return None;
        }
        let address = Address { sapi: SAPI_CALL_CONTROL, cr: a0 & 2 != 0, tei: a1 >> 1 };
        let control = if c & 1 == 0 {
            Control::I { ns: c >> 1, nr: c2 >> 1, p: c2 & 1 != 0 }
        } else if *c == 0x01 && info.is_empty() {
            Control::S { function: SFunction::Rr, nr: c2 >> 1, pf: c2 & 1 != 0 }
        } else {
            return None;
        };
        Some(FrameRepr { address, control, info })
    }

    /// Parses any frame by the rules [`Frame::new_checked`] checks.
    pub(crate) fn parse_checked(octets: &'a [u8]) -> Result<FrameRepr<'a>, ParseError> {
        let frame = Frame::new_checked(octets)?;
        let control = frame.control();
        let info = &octets[2 + control.len()..];
        Ok(FrameRepr { address: frame.address(), control, info })
    }

    /// The number of octets [`emit`](Self::emit) appends.
    pub fn buffer_len(&self) -> usize {
        2 + self.control.len() + self.info.len()
    }

    /// The address and control octets: the array and how many of its octets count.
    #[inline]
    pub(crate) fn header(&self) -> ([u8; 4], usize) {
        let address = self.address.octets();
        match self.control {
            Control::I { ns, nr, p } => ([address[0], address[1], (ns & 0x7f) << 1, (nr & 0x7f) << 1 | u8::from(p)], 4),
            Control::S { function, nr, pf } => {
                ([address[0], address[1], function.code(), (nr & 0x7f) << 1 | u8::from(pf)], 4)
            }
            Control::U { function, pf } => ([address[0], address[1], function.code() | u8::from(pf) << 4, 0], 3),
        }
    }

    /// Appends the frame's octets to `out`.
    pub fn emit(&self, out: &mut impl OctetSink) {
        let (header, len) = self.header();
        out.put_slice(&header[..len]);
        out.put_slice(self.info);
    }

    /// The frame's octets.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buffer_len());
        self.emit(&mut out);
        out
    }

    /// The frame's octets, inline. The information field must be at most N201 octets (the
    /// entity checks every request), or the frame is cut there.
    pub fn to_octets(&self) -> FrameOctets {
        let (header, len) = self.header();
        FrameOctets::from_parts(&header[..len], self.info)
    }

    /// A trace line that knows who sent the frame, so that S frames show C or R and P or F.
    pub fn trace(&self, sender: Role) -> Trace<'_, 'a> {
        Trace { frame: self, sender: Some(sender) }
    }

    /// The TEI management message this frame carries, if it is one.
    pub fn tei_message(&self) -> Option<TeiMessage<'a>> {
        let is_ui = matches!(self.control, Control::U { function: UFunction::Ui, .. });
        if is_ui && self.address.sapi == SAPI_MANAGEMENT && self.address.tei == TEI_GROUP {
            TeiMessage::parse(self.info).ok()
        } else {
            None
        }
    }
}

/// `Display` of a frame as a one-line protocol trace, e.g. `SABME sapi=0 tei=0 C p=1`.
pub struct Trace<'f, 'a> {
    frame: &'f FrameRepr<'a>,
    sender: Option<Role>,
}

impl fmt::Display for Trace<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fr = self.frame;
        let a = fr.address;
        write!(f, "{} sapi={} tei={}", fr.control.name(), a.sapi, a.tei)?;
        // Whether the frame is a command follows from who sent it, or else from its type; an S
        // frame of unknown origin shows its raw C/R bit.
        let command = match (self.sender, fr.control) {
            (Some(sender), _) => Some(a.is_command(sender)),
            (None, Control::I { .. }) => Some(true),
            (None, Control::U { function, .. }) => function.implied_command(),
            (None, Control::S { .. }) => None,
        };
        let pf = match command {
            Some(true) => {
                f.write_str(" C")?;
                "p"
            }
            Some(false) => {
                f.write_str(" R")?;
                "f"
            }
            None => {
                write!(f, " cr={}", u8::from(a.cr))?;
                "pf"
            }
        };
        match fr.control {
            Control::I { ns, nr, p } => write!(f, " ns={ns} nr={nr} p={}", u8::from(p))?,
            Control::S { nr, pf: bit, .. } => write!(f, " nr={nr} {pf}={}", u8::from(bit))?,
            Control::U { pf: bit, .. } => write!(f, " {pf}={}", u8::from(bit))?,
        }
        if let Some(m) = fr.tei_message() {
            write!(f, " | {m}")
        } else if !fr.info.is_empty() {
            write!(f, " len={}", fr.info.len())
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for FrameRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Trace { frame: self, sender: None }.fmt(f)
    }
}

/// TEI management message types (Q.921 Table 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeiMessageType {
    IdentityRequest,
    IdentityAssigned,
    IdentityDenied,
    IdentityCheckRequest,
    IdentityCheckResponse,
    IdentityRemove,
    IdentityVerify,
}

impl TeiMessageType {
    fn code(self) -> u8 {
        match self {
            TeiMessageType::IdentityRequest => 1,
            TeiMessageType::IdentityAssigned => 2,
            TeiMessageType::IdentityDenied => 3,
            TeiMessageType::IdentityCheckRequest => 4,
            TeiMessageType::IdentityCheckResponse => 5,
            TeiMessageType::IdentityRemove => 6,
            TeiMessageType::IdentityVerify => 7,
        }
    }

    fn from_code(code: u8) -> Option<TeiMessageType> {
        [
            TeiMessageType::IdentityRequest,
            TeiMessageType::IdentityAssigned,
            TeiMessageType::IdentityDenied,
            TeiMessageType::IdentityCheckRequest,
            TeiMessageType::IdentityCheckResponse,
            TeiMessageType::IdentityRemove,
            TeiMessageType::IdentityVerify,
        ]
        .into_iter()
        .find(|t| t.code() == code)
    }

    fn name(self) -> &'static str {
        match self {
            TeiMessageType::IdentityRequest => "Identity request",
            TeiMessageType::IdentityAssigned => "Identity assigned",
            TeiMessageType::IdentityDenied => "Identity denied",
            TeiMessageType::IdentityCheckRequest => "Identity check request",
            TeiMessageType::IdentityCheckResponse => "Identity check response",
            TeiMessageType::IdentityRemove => "Identity remove",
            TeiMessageType::IdentityVerify => "Identity verify",
        }
    }
}

/// A TEI management message (Q.921 §5.3.1, Figure 5): management entity identifier 0x0f, the
/// reference number Ri, the message type and the action indicator Ai.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeiMessage<'a> {
    pub ri: u16,
    pub kind: TeiMessageType,
    /// The (first) action indicator: a TEI value, or 127 for "any" / "all".
    pub ai: u8,
    /// Further Ai octets, as sent, which only an Identity check response may carry (a TE that
    /// holds several TEIs answers for all of them in one message).
    pub more_ai: &'a [u8],
}

impl<'a> TeiMessage<'a> {
    /// A message with one Ai.
    pub fn new(kind: TeiMessageType, ri: u16, ai: u8) -> TeiMessage<'static> {
        TeiMessage { ri, kind, ai: ai & 0x7f, more_ai: &[] }
    }

    /// Parses the information field of a UI frame on SAPI 63. Never panics.
    pub fn parse(info: &'a [u8]) -> Result<TeiMessage<'a>, ParseError> {
        let [entity, ri_hi, ri_lo, code, ai, more @ ..] = info else {
            return Err(ParseError::WrongLength);
        };
        if *entity != TEI_MANAGEMENT_ENTITY {
            return Err(ParseError::UndefinedControl);
        }
        let kind = TeiMessageType::from_code(*code).ok_or(ParseError::UndefinedControl)?;
        // Ai is an extended field: E = 1 marks the last octet.
        let last_e_ok = match more.split_last() {
            None => ai & 1 == 1,
            Some((last, middle)) => {
                kind == TeiMessageType::IdentityCheckResponse
                    && ai & 1 == 0
                    && middle.iter().all(|o| o & 1 == 0)
                    && last & 1 == 1
            }
        };
        if !last_e_ok {
            return Err(ParseError::WrongLength);
        }
        Ok(TeiMessage { ri: u16::from_be_bytes([*ri_hi, *ri_lo]), kind, ai: ai >> 1, more_ai: more })
    }

    /// Every Ai value the message carries.
    pub fn ais(&self) -> impl Iterator<Item = u8> + '_ {
        std::iter::once(self.ai).chain(self.more_ai.iter().map(|o| o >> 1))
    }

    /// Appends the information field.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let [hi, lo] = self.ri.to_be_bytes();
        out.extend_from_slice(&[TEI_MANAGEMENT_ENTITY, hi, lo, self.kind.code()]);
        out.push((self.ai & 0x7f) << 1 | u8::from(self.more_ai.is_empty()));
        out.extend_from_slice(self.more_ai);
    }

    /// The complete UI frame on SAPI 63, TEI 127, sent by `sender` as a command.
    pub fn to_frame(&self, sender: Role) -> FrameOctets {
        let mut info = Vec::with_capacity(5 + self.more_ai.len());
        self.emit(&mut info);
        FrameRepr {
            address: Address::new(SAPI_MANAGEMENT, TEI_GROUP, sender, true),
            control: Control::U { function: UFunction::Ui, pf: false },
            info: &info,
        }
        .to_octets()
    }
}

impl fmt::Display for TeiMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ri={:#06x} ai={}", self.kind.name(), self.ri, self.ai)?;
        for ai in self.ais().skip(1) {
            write!(f, ",{ai}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses, re-emits byte for byte, and returns the trace line.
    fn check(octets: &[u8]) -> String {
        let repr = FrameRepr::parse(octets).unwrap_or_else(|e| panic!("{octets:02x?}: {e}"));
        assert_eq!(repr.to_bytes(), octets, "{repr}");
        assert_eq!(repr.buffer_len(), octets.len());
        repr.to_string()
    }

    #[test]
    fn libpri_sabme_and_ua_from_the_trace() {
        // test-peers.md §1: the SABMEs crossed (user then network), then the UAs.
        assert_eq!(check(&[0x00, 0x01, 0x7f]), "SABME sapi=0 tei=0 C p=1");
        assert_eq!(check(&[0x02, 0x01, 0x7f]), "SABME sapi=0 tei=0 C p=1");
        assert_eq!(check(&[0x02, 0x01, 0x73]), "UA sapi=0 tei=0 R f=1");
        assert_eq!(check(&[0x00, 0x01, 0x73]), "UA sapi=0 tei=0 R f=1");
        let user_sabme = FrameRepr::parse(&[0x00, 0x01, 0x7f]).unwrap();
        assert!(user_sabme.address.is_command(Role::Te));
        let net_sabme = FrameRepr::parse(&[0x02, 0x01, 0x7f]).unwrap();
        assert!(net_sabme.address.is_command(Role::Nt));
        let ua_from_user = FrameRepr::parse(&[0x02, 0x01, 0x73]).unwrap();
        assert!(!ua_from_user.address.is_command(Role::Te));
        assert_eq!(
            FrameRepr::parse(&[0x00, 0x01, 0x7f]).unwrap().trace(Role::Te).to_string(),
            "SABME sapi=0 tei=0 C p=1"
        );
    }

    #[test]
    fn libpri_i_frames_from_the_trace() {
        // The SETUP from the user, N(S)=0 N(R)=0, and the CALL PROCEEDING from the network.
        let setup: &[u8] = &[
            0x00, 0x01, 0x00, 0x00, 0x08, 0x02, 0x00, 0x01, 0x05, 0x04, 0x03, 0x80, 0x90, 0xa3, 0x18, 0x03, 0xa9, 0x83,
            0x81, 0x6c, 0x06, 0x00, 0x80, 0x35, 0x36, 0x37, 0x38, 0x70, 0x05, 0x80, 0x31, 0x32, 0x33, 0x34, 0xa1,
        ];
        assert_eq!(check(setup), "I sapi=0 tei=0 C ns=0 nr=0 p=0 len=31");
        let repr = FrameRepr::parse(setup).unwrap();
        assert_eq!(repr.info[..4], [0x08, 0x02, 0x00, 0x01]);
        let proceeding: &[u8] = &[0x02, 0x01, 0x00, 0x02, 0x08, 0x02, 0x80, 0x01, 0x02, 0x18, 0x03, 0xa9, 0x83, 0x81];
        assert_eq!(check(proceeding), "I sapi=0 tei=0 C ns=0 nr=1 p=0 len=10");
        // CONNECT ACK then DISCONNECT from the user: N(S) 1 and 2, N(R) 3.
        assert_eq!(
            check(&[0x00, 0x01, 0x02, 0x06, 0x08, 0x02, 0x00, 0x01, 0x0f]),
            "I sapi=0 tei=0 C ns=1 nr=3 p=0 len=5"
        );
        assert_eq!(
            FrameRepr::parse(&[0x00, 0x01, 0x04, 0x06, 0x08]).unwrap().control,
            Control::I { ns: 2, nr: 3, p: false }
        );
    }

    #[test]
    fn supervisory_frames_and_their_direction() {
        // RR response from the network (C/R = 0) with F = 1 and N(R) = 5.
        let rr = [0x00, 0x01, 0x01, 0x0b];
        assert_eq!(check(&rr), "RR sapi=0 tei=0 cr=0 nr=5 pf=1");
        let repr = FrameRepr::parse(&rr).unwrap();
        assert_eq!(repr.trace(Role::Nt).to_string(), "RR sapi=0 tei=0 R nr=5 f=1");
        assert_eq!(repr.trace(Role::Te).to_string(), "RR sapi=0 tei=0 C nr=5 p=1");
        assert_eq!(check(&[0x02, 0x01, 0x05, 0xfe]), "RNR sapi=0 tei=0 cr=1 nr=127 pf=0");
        assert_eq!(check(&[0x02, 0x81, 0x09, 0x00]), "REJ sapi=0 tei=64 cr=1 nr=0 pf=0");
        assert_eq!(check(&[0x00, 0x01, 0x1f]), "DM sapi=0 tei=0 R f=1");
        assert_eq!(check(&[0x02, 0x01, 0x53]), "DISC sapi=0 tei=0 C p=1");
        assert_eq!(check(&[0x00, 0x01, 0x97, 1, 2, 3, 4, 5]), "FRMR sapi=0 tei=0 R f=1 len=5");
        assert_eq!(check(&[0x02, 0xff, 0x03, 0x08, 0x01, 0x01, 0x05]), "UI sapi=0 tei=127 C p=0 len=4");
        assert_eq!(check(&[0x02, 0x01, 0xbf]), "XID sapi=0 tei=0 cr=1 pf=1");
    }

    #[test]
    fn tei_management_messages_from_the_trace() {
        // The TE's Identity request with Ri = 0x1234 and Ai = 127.
        let req = [0xfc, 0xff, 0x03, 0x0f, 0x12, 0x34, 0x01, 0xff];
        assert_eq!(check(&req), "UI sapi=63 tei=127 C p=0 | Identity request ri=0x1234 ai=127");
        let msg = FrameRepr::parse(&req).unwrap().tei_message().unwrap();
        assert_eq!(msg, TeiMessage::new(TeiMessageType::IdentityRequest, 0x1234, 127));
        assert_eq!(msg.to_frame(Role::Te), req);
        // The network's answer: Identity assigned, same Ri, Ai = 64 (`02 81`).
        let assigned = [0xfe, 0xff, 0x03, 0x0f, 0x12, 0x34, 0x02, 0x81];
        assert_eq!(check(&assigned), "UI sapi=63 tei=127 C p=0 | Identity assigned ri=0x1234 ai=64");
        assert_eq!(TeiMessage::new(TeiMessageType::IdentityAssigned, 0x1234, 64).to_frame(Role::Nt), assigned);
        // libpri's NT removing every TEI at start: Identity remove, Ai = 127.
        assert_eq!(
            check(&[0xfe, 0xff, 0x03, 0x0f, 0x00, 0x00, 0x06, 0xff]),
            "UI sapi=63 tei=127 C p=0 | Identity remove ri=0x0000 ai=127"
        );
        for (code, name) in [(3, "denied"), (4, "check request"), (5, "check response"), (7, "verify")] {
            let frame = [0xfc, 0xff, 0x03, 0x0f, 0, 1, code, 0x83];
            assert_eq!(check(&frame), format!("UI sapi=63 tei=127 C p=0 | Identity {name} ri=0x0001 ai=65"));
        }
        // A check response naming three TEIs.
        let multi = [0xfc, 0xff, 0x03, 0x0f, 0, 9, 5, 0x80, 0x82, 0x85];
        assert_eq!(check(&multi), "UI sapi=63 tei=127 C p=0 | Identity check response ri=0x0009 ai=64,65,66");
        let msg = TeiMessage::parse(&multi[3..]).unwrap();
        assert_eq!(msg.ais().collect::<Vec<_>>(), [64, 65, 66]);
        // Only a check response may carry more than one Ai; the wrong entity id is no message.
        assert!(TeiMessage::parse(&[0x0f, 0, 9, 2, 0x80, 0x83]).is_err());
        assert!(TeiMessage::parse(&[0x0e, 0, 9, 2, 0x81]).is_err());
        assert!(TeiMessage::parse(&[0x0f, 0, 9, 8, 0x81]).is_err());
        assert!(TeiMessage::parse(&[0x0f, 0, 9, 2, 0x80]).is_err());
    }

    #[test]
    fn rejection_conditions_map_to_their_errors() {
        assert_eq!(FrameRepr::parse(&[]), Err(ParseError::TooShort));
        assert_eq!(FrameRepr::parse(&[0x00]), Err(ParseError::TooShort));
        assert_eq!(FrameRepr::parse(&[0x00, 0x01]), Err(ParseError::TooShort));
        assert_eq!(FrameRepr::parse(&[0x01, 0x01, 0x7f]), Err(ParseError::BadAddress));
        assert_eq!(FrameRepr::parse(&[0x00, 0x00, 0x7f]), Err(ParseError::BadAddress));
        assert_eq!(FrameRepr::parse(&[0x00, 0x01, 0x00]), Err(ParseError::WrongLength));
        assert_eq!(FrameRepr::parse(&[0x00, 0x01, 0x01]), Err(ParseError::WrongLength));
        assert_eq!(FrameRepr::parse(&[0x00, 0x01, 0x01, 0x00, 0x00]), Err(ParseError::WrongLength));
        assert_eq!(FrameRepr::parse(&[0x00, 0x01, 0x0d, 0x00]), Err(ParseError::UndefinedControl));
        assert_eq!(FrameRepr::parse(&[0x00, 0x01, 0x11, 0x00]), Err(ParseError::UndefinedControl));
        assert_eq!(FrameRepr::parse(&[0x00, 0x01, 0x07]), Err(ParseError::UndefinedControl));
        assert_eq!(FrameRepr::parse(&[0x00, 0x01, 0x7f, 0x00]), Err(ParseError::InfoNotPermitted));
    }

    #[test]
    fn parse_never_panics_on_prefixes_or_random_octets() {
        let vectors: [&[u8]; 4] = [
            &[0x00, 0x01, 0x00, 0x00, 0x08, 0x02, 0x00, 0x01, 0x05],
            &[0xfc, 0xff, 0x03, 0x0f, 0x12, 0x34, 0x01, 0xff],
            &[0x00, 0x01, 0x97, 1, 2, 3, 4, 5],
            &[0xfc, 0xff, 0x03, 0x0f, 0, 9, 5, 0x80, 0x82, 0x85],
        ];
        for v in vectors {
            for end in 0..=v.len() {
                round_trip_if_ok(&v[..end]);
            }
        }
        // Every three-octet frame, and pseudo-random longer ones.
        for a in 0..=255u8 {
            for c in 0..=255u8 {
                round_trip_if_ok(&[a, 0x01, c]);
                round_trip_if_ok(&[a, 0xff, c, 0x0f]);
            }
        }
        let mut x = 0x9e37_79b9_u32;
        let mut buf = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf.clear();
            buf.extend(x.to_le_bytes().iter().cycle().take(usize::from(x.to_le_bytes()[0] % 12)).copied());
            if let Some(b) = buf.get_mut(1) {
                *b |= 1;
            }
            round_trip_if_ok(&buf);
        }
    }

    fn round_trip_if_ok(octets: &[u8]) {
        if let Ok(repr) = FrameRepr::parse(octets) {
            assert_eq!(repr.to_bytes(), octets);
            let _ = repr.to_string();
            let _ = repr.trace(Role::Nt).to_string();
        }
        if let Ok(msg) = TeiMessage::parse(octets) {
            let mut out = Vec::new();
            msg.emit(&mut out);
            assert_eq!(out, octets);
        }
    }
}
