//! Q.931 information elements (§4.5): typed `Repr`s for the elements call control acts on, raw
//! octets for the ones it passes through or does not know.
//!
//! Every typed element keeps each field its octets carry (extension-bit structure included), so
//! `emit(parse(x))` gives `x` back for any element that parses. A known element whose contents
//! break its coding is kept as [`Ie::Invalid`], because §5.8.6.2 / §5.8.7.2 answer that with cause
//! 100 rather than dropping the message. Nothing here panics on any input.

use std::fmt;

use super::digits::Digits;
use super::encode::Encoder;
use crate::isdn::octets::Octets;

/// Codeset 0 element identifiers (Q.931 Table 4-3) that this stack names.
pub mod id {
    pub const BEARER_CAPABILITY: u8 = 0x04;
    pub const CAUSE: u8 = 0x08;
    pub const CALL_STATE: u8 = 0x14;
    pub const CHANNEL_ID: u8 = 0x18;
    pub const FACILITY: u8 = 0x1c;
    pub const PROGRESS: u8 = 0x1e;
    pub const NOTIFICATION: u8 = 0x27;
    pub const DISPLAY: u8 = 0x28;
    pub const DATE_TIME: u8 = 0x29;
    pub const KEYPAD: u8 = 0x2c;
    pub const SIGNAL: u8 = 0x34;
    pub const CONNECTED_NUMBER: u8 = 0x4c;
    pub const CONNECTED_SUBADDRESS: u8 = 0x4d;
    pub const CALLING_NUMBER: u8 = 0x6c;
    pub const CALLING_SUBADDRESS: u8 = 0x6d;
    pub const CALLED_NUMBER: u8 = 0x70;
    pub const CALLED_SUBADDRESS: u8 = 0x71;
    pub const REDIRECTING_NUMBER: u8 = 0x74;
    pub const TRANSIT_NETWORK: u8 = 0x78;
    pub const RESTART_INDICATOR: u8 = 0x79;
    pub const LOW_LAYER_COMPAT: u8 = 0x7c;
    pub const HIGH_LAYER_COMPAT: u8 = 0x7d;
    pub const USER_USER: u8 = 0x7e;
    /// Single-octet "sending complete" (type 2, the whole octet).
    pub const SENDING_COMPLETE: u8 = 0xa1;

    /// Codeset 0 variable-length elements this stack recognises, typed or passed through (the
    /// walk reads the same table; the tests use this to tell them from the rest).
    #[cfg(test)]
    pub fn known(id: u8) -> bool {
        super::rule(id) != super::Rule::Unknown
    }
}

/// Why the contents of a known element are not acceptable (reported with cause 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IeError {
    /// Shorter than the octets its coding requires.
    TooShort,
    /// A field holds a value its coding reserves, or digits are not IA5.
    BadValue,
    /// Octets beyond what the coding allows.
    TooLong,
}

impl fmt::Display for IeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IeError::TooShort => "too short",
            IeError::BadValue => "reserved value",
            IeError::TooLong => "too long",
        })
    }
}

/// Bearer capability (§4.5.5). Octets 3, 4 (with 4.1 for multirate) and 5 are typed; the layer 1
/// extension octets 5a.. and the layer 2/3 octets 6, 7 travel as they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerCapability {
    /// Coding standard (0 = ITU-T).
    pub coding: u8,
    /// Information transfer capability: 0 speech, 8 unrestricted digital, 0x10 3.1 kHz audio.
    pub capability: u8,
    /// Transfer mode: 0 circuit, 2 packet.
    pub mode: u8,
    /// Information transfer rate: 0x10 64 kbit/s, 0x18 multirate.
    pub rate: u8,
    /// Octet 4.1, present with the multirate rate.
    pub multiplier: Option<u8>,
    /// User information layer 1 protocol (octet 5): 2 mu-law, 3 A-law.
    pub layer1: Option<u8>,
    /// Octets 5a.. (present when octet 5's extension bit is 0), verbatim.
    pub layer1_extra: Vec<u8>,
    /// Octets 6 and 7, verbatim.
    pub rest: Vec<u8>,
}

impl BearerCapability {
    pub const SPEECH: u8 = 0x00;
    pub const UNRESTRICTED_DIGITAL: u8 = 0x08;
    pub const AUDIO_3K1: u8 = 0x10;
    pub const LAYER1_ULAW: u8 = 0x02;
    pub const LAYER1_ALAW: u8 = 0x03;

    /// Speech at 64 kbit/s circuit mode, as a telephone call carries it.
    pub fn speech(layer1: u8) -> BearerCapability {
        BearerCapability {
            coding: 0,
            capability: Self::SPEECH,
            mode: 0,
            rate: 0x10,
            multiplier: None,
            layer1: Some(layer1),
            layer1_extra: Vec::new(),
            rest: Vec::new(),
        }
    }

    pub(crate) fn parse(d: &[u8]) -> Result<BearerCapability, IeError> {
        let (&o3, mut d) = d.split_first().ok_or(IeError::TooShort)?;
        let (&o4, r) = d.split_first().ok_or(IeError::TooShort)?;
        d = r;
        if o3 & 0x80 == 0 || o4 & 0x80 == 0 {
            return Err(IeError::BadValue);
        }
        let mut bc = BearerCapability {
            coding: (o3 >> 5) & 3,
            capability: o3 & 0x1f,
            mode: (o4 >> 5) & 3,
            rate: o4 & 0x1f,
            multiplier: None,
            layer1: None,
            layer1_extra: Vec::new(),
            rest: Vec::new(),
        };
        if bc.rate == 0x18 {
            let (&m, r) = d.split_first().ok_or(IeError::TooShort)?;
            bc.multiplier = Some(m & 0x7f);
            d = r;
            if m & 0x80 == 0 {
                return Err(IeError::BadValue);
            }
        }
        if let Some((&o5, r)) = d.split_first() {
            if (o5 >> 5) & 3 == 1 {
                bc.layer1 = Some(o5 & 0x1f);
                d = r;
                if o5 & 0x80 == 0 {
                    let end = d.iter().position(|b| b & 0x80 != 0).ok_or(IeError::TooShort)?;
                    bc.layer1_extra = d[..=end].to_vec();
                    d = &d[end + 1..];
                }
            }
        }
        bc.rest = d.to_vec();
        Ok(bc)
    }
}

impl fmt::Display for BearerCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cap = match self.capability {
            Self::SPEECH => "speech",
            Self::UNRESTRICTED_DIGITAL => "digital",
            0x09 => "restricted-digital",
            Self::AUDIO_3K1 => "3.1k-audio",
            0x11 => "7k-audio",
            0x18 => "video",
            _ => "reserved",
        };
        f.write_str(cap)?;
        match self.layer1 {
            Some(Self::LAYER1_ALAW) => f.write_str("/alaw"),
            Some(Self::LAYER1_ULAW) => f.write_str("/ulaw"),
            Some(p) => write!(f, "/l1={p}"),
            None => Ok(()),
        }
    }
}

/// The channel selection of a channel identification element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelSelection {
    /// "No channel" (information channel selection 00).
    NoChannel,
    /// "Any channel" (selection 11).
    Any,
    /// Explicit B-channels: on a BRI 1 or 2 (selection 01/10); on a PRI the channel numbers of
    /// octet 3.3 (E1 timeslots), coded as ITU-T B-channel numbers. (Held inline: the usual one
    /// channel costs no allocation.)
    Channels(Octets),
    /// A PRI indication this stack does not decode (slot map, H channels, another coding
    /// standard): octet 3.2 and what follows, verbatim.
    Other(Vec<u8>),
}

/// Channel identification (§4.5.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelId {
    /// Interface type bit: `true` for "other interfaces" (primary rate), `false` for basic.
    pub primary: bool,
    /// Preferred/exclusive bit: `true` when only the indicated channel is acceptable.
    pub exclusive: bool,
    /// D-channel indicator.
    pub d_channel: bool,
    /// The interface identifier octets 3.1 (present when bit 7 of octet 3 is set), verbatim.
    pub interface_id: Option<Vec<u8>>,
    pub selection: ChannelSelection,
}

impl ChannelId {
    /// One explicit B-channel, coded in the form of the interface.
    pub fn channel(primary: bool, channel: u8, exclusive: bool) -> ChannelId {
        ChannelId {
            primary,
            exclusive,
            d_channel: false,
            interface_id: None,
            selection: ChannelSelection::Channels(Octets::from_slice(&[channel])),
        }
    }

    /// The first explicit B-channel, if the element names one.
    pub fn first_channel(&self) -> Option<u8> {
        match &self.selection {
            ChannelSelection::Channels(c) => c.first().copied(),
            _ => None,
        }
    }

    pub(crate) fn parse(d: &[u8]) -> Result<ChannelId, IeError> {
        let (&o3, mut d) = d.split_first().ok_or(IeError::TooShort)?;
        if o3 & 0x80 == 0 {
            return Err(IeError::BadValue);
        }
        let mut interface_id = None;
        if o3 & 0x40 != 0 {
            let end = d.iter().position(|b| b & 0x80 != 0).ok_or(IeError::TooShort)?;
            interface_id = Some(d[..=end].to_vec());
            d = &d[end + 1..];
        }
        let primary = o3 & 0x20 != 0;
        let sel = o3 & 3;
        let selection = match (primary, sel) {
            (_, 0) => ChannelSelection::NoChannel,
            (_, 3) => ChannelSelection::Any,
            (false, s) => ChannelSelection::Channels(Octets::from_slice(&[s])),
            (true, 2) => return Err(IeError::BadValue),
            (true, _) if interface_id.is_some() && d.is_empty() => ChannelSelection::Channels(Octets::new()),
            (true, _) => {
                let (&o32, r) = d.split_first().ok_or(IeError::TooShort)?;
                // ITU-T coding, channel numbers (not a slot map), B-channel units.
                if o32 == 0x83 && !r.is_empty() {
                    let mut numbers = Octets::new();
                    for (i, &b) in r.iter().enumerate() {
                        numbers.push(b & 0x7f);
                        if (b & 0x80 != 0) != (i + 1 == r.len()) {
                            return Err(IeError::BadValue);
                        }
                    }
                    ChannelSelection::Channels(numbers)
                } else {
                    ChannelSelection::Other(d.to_vec())
                }
            }
        };
        if !primary && !d.is_empty() {
            return Err(IeError::TooLong);
        }
        Ok(ChannelId { primary, exclusive: o3 & 0x08 != 0, d_channel: o3 & 0x04 != 0, interface_id, selection })
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.selection {
            ChannelSelection::NoChannel => f.write_str("none")?,
            ChannelSelection::Any => f.write_str("any")?,
            ChannelSelection::Channels(c) => {
                for (i, n) in c.iter().enumerate() {
                    write!(f, "{}{n}", if i == 0 { "" } else { "," })?;
                }
            }
            ChannelSelection::Other(raw) => write!(f, "other{raw:02x?}")?,
        }
        f.write_str(if self.exclusive { " excl" } else { " pref" })?;
        if self.d_channel {
            f.write_str(" dchan")?;
        }
        Ok(())
    }
}

/// Calling, called, connected and redirecting party numbers (§4.5.7, §4.5.9; connected number
/// and redirecting number as in ETSI EN 300 097 / Q.952).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyNumber {
    /// Type of number (octet 3 bits 7–5): 0 unknown, 1 international, 2 national, 4 subscriber.
    pub ton: u8,
    /// Numbering plan (octet 3 bits 4–1): 0 unknown, 1 ISDN/E.164, 9 private.
    pub plan: u8,
    /// Octet 3a: presentation indicator (0 allowed, 1 restricted, 2 not available) and screening
    /// (0 user provided not screened .. 3 network provided). Called numbers have no octet 3a.
    pub presentation: Option<(u8, u8)>,
    /// Octet 3b of the redirecting number: the reason for redirection.
    pub reason: Option<u8>,
    /// The IA5 digits (inline up to [`Digits::INLINE`]).
    pub digits: Digits,
}

impl PartyNumber {
    /// A number of unknown type and plan.
    pub fn unknown(digits: &str) -> PartyNumber {
        PartyNumber { ton: 0, plan: 0, presentation: None, reason: None, digits: Digits::from(digits) }
    }

    pub(crate) fn parse(d: &[u8], with_3a: bool, with_3b: bool) -> Result<PartyNumber, IeError> {
        let (&o3, mut d) = d.split_first().ok_or(IeError::TooShort)?;
        let mut n = PartyNumber {
            ton: (o3 >> 4) & 7,
            plan: o3 & 0x0f,
            presentation: None,
            reason: None,
            digits: Digits::new(),
        };
        let mut ext = o3 & 0x80 != 0;
        if !ext {
            if !with_3a {
                return Err(IeError::BadValue);
            }
            let (&o3a, r) = d.split_first().ok_or(IeError::TooShort)?;
            d = r;
            n.presentation = Some(((o3a >> 5) & 3, o3a & 3));
            ext = o3a & 0x80 != 0;
            if !ext {
                if !with_3b {
                    return Err(IeError::BadValue);
                }
                let (&o3b, r) = d.split_first().ok_or(IeError::TooShort)?;
                d = r;
                if o3b & 0x80 == 0 {
                    return Err(IeError::BadValue);
                }
                n.reason = Some(o3b & 0x0f);
            }
        }
        if d.iter().any(|b| b & 0x80 != 0) {
            return Err(IeError::BadValue);
        }
        // Every octet is below 0x80 (checked above): ASCII, so valid UTF-8 as it stands.
        n.digits = Digits::from_ascii(d);
        Ok(n)
    }
}

impl fmt::Display for PartyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ton = match self.ton {
            0 => "unknown",
            1 => "international",
            2 => "national",
            3 => "network-specific",
            4 => "subscriber",
            6 => "abbreviated",
            _ => "reserved",
        };
        let plan = match self.plan {
            0 => "unknown",
            1 => "isdn",
            3 => "data",
            4 => "telex",
            8 => "national",
            9 => "private",
            _ => "reserved",
        };
        write!(f, "{} ({ton}/{plan}", self.digits)?;
        if let Some((p, s)) = self.presentation {
            let p = ["allowed", "restricted", "unavailable", "reserved"][usize::from(p & 3)];
            let s = ["user-not-screened", "user-passed", "user-failed", "network"][usize::from(s & 3)];
            write!(f, ", {p}, {s}")?;
        }
        if let Some(r) = self.reason {
            write!(f, ", reason={r}")?;
        }
        f.write_str(")")
    }
}

/// Q.850 cause values this stack uses by name.
pub mod cause {
    pub const UNALLOCATED_NUMBER: u8 = 1;
    pub const NORMAL_CLEARING: u8 = 16;
    pub const USER_BUSY: u8 = 17;
    pub const NO_USER_RESPONDING: u8 = 18;
    pub const NO_ANSWER: u8 = 19;
    pub const CALL_REJECTED: u8 = 21;
    pub const NON_SELECTED_USER_CLEARING: u8 = 26;
    pub const DESTINATION_OUT_OF_ORDER: u8 = 27;
    pub const INVALID_NUMBER_FORMAT: u8 = 28;
    pub const RESPONSE_TO_STATUS_ENQUIRY: u8 = 30;
    pub const NORMAL_UNSPECIFIED: u8 = 31;
    pub const NO_CIRCUIT_AVAILABLE: u8 = 34;
    pub const TEMPORARY_FAILURE: u8 = 41;
    pub const CHANNEL_NOT_AVAILABLE: u8 = 44;
    pub const INVALID_CALL_REFERENCE: u8 = 81;
    pub const MANDATORY_IE_MISSING: u8 = 96;
    pub const MESSAGE_TYPE_NON_EXISTENT: u8 = 97;
    pub const IE_NON_EXISTENT: u8 = 99;
    pub const INVALID_IE_CONTENTS: u8 = 100;
    pub const MESSAGE_NOT_COMPATIBLE: u8 = 101;
    pub const RECOVERY_ON_TIMER_EXPIRY: u8 = 102;

    /// The Q.850 name of a cause value, for traces.
    pub fn name(value: u8) -> &'static str {
        match value {
            1 => "unallocated number",
            2 => "no route to network",
            3 => "no route to destination",
            6 => "channel unacceptable",
            16 => "normal clearing",
            17 => "user busy",
            18 => "no user responding",
            19 => "no answer",
            21 => "call rejected",
            22 => "number changed",
            26 => "non-selected user clearing",
            27 => "destination out of order",
            28 => "invalid number format",
            29 => "facility rejected",
            30 => "response to STATUS ENQUIRY",
            31 => "normal, unspecified",
            34 => "no circuit/channel available",
            38 => "network out of order",
            41 => "temporary failure",
            42 => "switching equipment congestion",
            44 => "requested circuit/channel not available",
            47 => "resource unavailable",
            58 => "bearer capability not available",
            65 => "bearer capability not implemented",
            81 => "invalid call reference value",
            88 => "incompatible destination",
            96 => "mandatory information element is missing",
            97 => "message type non-existent or not implemented",
            98 => "message not compatible with call state or message type non-existent",
            99 => "information element non-existent or not implemented",
            100 => "invalid information element contents",
            101 => "message not compatible with call state",
            102 => "recovery on timer expiry",
            111 => "protocol error, unspecified",
            127 => "interworking, unspecified",
            _ => "unknown cause",
        }
    }
}

/// Cause (§4.5.12, values from Q.850).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub coding: u8,
    /// Location: 0 user, 1 private network serving the local user, 2 public network serving the
    /// local user, 3 transit, 4 public remote, 5 private remote, 7 international, 10 beyond
    /// interworking point.
    pub location: u8,
    /// Octet 3a (recommendation), when present.
    pub recommendation: Option<u8>,
    /// The Q.850 cause value.
    pub value: u8,
    pub diagnostics: Vec<u8>,
}

impl Cause {
    pub const LOCATION_USER: u8 = 0;
    pub const LOCATION_PRIVATE_LOCAL: u8 = 1;
    pub const LOCATION_PUBLIC_LOCAL: u8 = 2;

    pub fn new(location: u8, value: u8) -> Cause {
        Cause { coding: 0, location, recommendation: None, value, diagnostics: Vec::new() }
    }

    pub(crate) fn parse(d: &[u8]) -> Result<Cause, IeError> {
        let c = CauseOctets::read(d)?;
        Ok(Cause {
            coding: (c.o3 >> 5) & 3,
            location: c.o3 & 0x0f,
            recommendation: c.o3a.map(|o| o & 0x7f),
            value: c.value,
            diagnostics: c.diagnostics.to_vec(),
        })
    }
}

/// A cause element's octets as its coding lays them out (§4.5.12): the one reading of the
/// element, which [`Cause::parse`] builds on and the receive path uses as it stands for the
/// value alone (`MessageView::cause_value`, [`valid_contents`]).
pub(crate) struct CauseOctets<'a> {
    o3: u8,
    /// Octet 3a, present when octet 3 has no extension bit.
    o3a: Option<u8>,
    /// The Q.850 cause value (octet 4 without its extension bit).
    pub(crate) value: u8,
    diagnostics: &'a [u8],
}

impl<'a> CauseOctets<'a> {
    #[inline]
    pub(crate) fn read(d: &'a [u8]) -> Result<CauseOctets<'a>, IeError> {
        let (&o3, mut d) = d.split_first().ok_or(IeError::TooShort)?;
        let mut o3a = None;
        if o3 & 0x80 == 0 {
            let (&o, r) = d.split_first().ok_or(IeError::TooShort)?;
            if o & 0x80 == 0 {
                return Err(IeError::BadValue);
            }
            o3a = Some(o);
            d = r;
        }
        let (&o4, diagnostics) = d.split_first().ok_or(IeError::TooShort)?;
        if o4 & 0x80 == 0 {
            return Err(IeError::BadValue);
        }
        Ok(CauseOctets { o3, o3a, value: o4 & 0x7f, diagnostics })
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.value, cause::name(self.value))?;
        if !self.diagnostics.is_empty() {
            write!(f, " diag={:02x?}", self.diagnostics)?;
        }
        Ok(())
    }
}

/// Progress indicator (§4.5.23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub coding: u8,
    pub location: u8,
    /// 1 not end-to-end ISDN, 2 destination non-ISDN, 3 origination non-ISDN, 8 in-band
    /// information available.
    pub description: u8,
}

impl Progress {
    pub const INBAND_AVAILABLE: u8 = 8;

    pub(crate) fn parse(d: &[u8]) -> Result<Progress, IeError> {
        match *d {
            [o3, o4] if o3 & 0x80 != 0 && o4 & 0x80 != 0 => {
                Ok(Progress { coding: (o3 >> 5) & 3, location: o3 & 0x0f, description: o4 & 0x7f })
            }
            [_, _] => Err(IeError::BadValue),
            [] | [_] => Err(IeError::TooShort),
            _ => Err(IeError::TooLong),
        }
    }
}

/// Date/time (§4.5.30): year (two digits), month, day, and optionally hour, minute, second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: u8,
    pub month: u8,
    pub day: u8,
    pub hour: Option<u8>,
    pub minute: Option<u8>,
    pub second: Option<u8>,
}

impl DateTime {
    pub(crate) fn parse(d: &[u8]) -> Result<DateTime, IeError> {
        if d.len() < 3 {
            return Err(IeError::TooShort);
        }
        if d.len() > 6 {
            return Err(IeError::TooLong);
        }
        Ok(DateTime {
            year: d[0],
            month: d[1],
            day: d[2],
            hour: d.get(3).copied(),
            minute: d.get(4).copied(),
            second: d.get(5).copied(),
        })
    }
}

/// Restart indicator classes (§4.5.25).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartClass {
    /// The channels named in the channel identification element.
    Indicated,
    /// The whole interface.
    SingleInterface,
    /// Every interface the D-channel controls.
    AllInterfaces,
}

impl RestartClass {
    pub(crate) fn parse(d: &[u8]) -> Result<RestartClass, IeError> {
        match *d {
            [o3] if o3 & 0x80 != 0 => match o3 & 7 {
                0 => Ok(RestartClass::Indicated),
                6 => Ok(RestartClass::SingleInterface),
                7 => Ok(RestartClass::AllInterfaces),
                _ => Err(IeError::BadValue),
            },
            [_] => Err(IeError::BadValue),
            [] => Err(IeError::TooShort),
            _ => Err(IeError::TooLong),
        }
    }

    pub(crate) fn bits(self) -> u8 {
        match self {
            RestartClass::Indicated => 0,
            RestartClass::SingleInterface => 6,
            RestartClass::AllInterfaces => 7,
        }
    }
}

/// One information element of a message, in order of appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ie {
    /// Shift (§4.5.3): `locking` changes the active codeset for the rest of the message;
    /// non-locking applies to the next element only.
    Shift {
        locking: bool,
        codeset: u8,
    },
    SendingComplete,
    /// Another single-octet element (more data, congestion level, repeat indicator), verbatim.
    SingleOctet(u8),
    BearerCapability(BearerCapability),
    ChannelId(ChannelId),
    CallingNumber(PartyNumber),
    CalledNumber(PartyNumber),
    ConnectedNumber(PartyNumber),
    RedirectingNumber(PartyNumber),
    Cause(Cause),
    Progress(Progress),
    /// Call state (§4.5.7): coding standard and the Q.931 state number.
    CallState {
        coding: u8,
        state: u8,
    },
    RestartIndicator(RestartClass),
    /// Display (§4.5.16): IA5 characters, kept as octets.
    Display(Vec<u8>),
    /// Keypad facility (§4.5.18): IA5 characters.
    Keypad(Vec<u8>),
    DateTime(DateTime),
    /// Any other element (facility, high-layer compatibility, notification, user-user, elements
    /// of other codesets, unknown ones): identifier and contents, verbatim.
    Raw {
        codeset: u8,
        id: u8,
        data: Vec<u8>,
    },
    /// A codeset 0 element this stack types whose contents break its coding (§5.8.6.2, §5.8.7.2).
    Invalid {
        id: u8,
        data: Vec<u8>,
        error: IeError,
    },
}

/// The call state element's contents (§4.5.7): coding standard and state number.
pub(crate) fn call_state(d: &[u8]) -> Result<(u8, u8), IeError> {
    match *d {
        [o] => Ok((o >> 6, o & 0x3f)),
        [] => Err(IeError::TooShort),
        _ => Err(IeError::TooLong),
    }
}

/// The keypad facility element's contents (§4.5.18): IA5 characters only.
pub(crate) fn keypad(d: &[u8]) -> Result<&[u8], IeError> {
    if d.iter().any(|b| b & 0x80 != 0) {
        Err(IeError::BadValue)
    } else {
        Ok(d)
    }
}

/// How the contents of a codeset 0 variable-length element are checked ([`valid_contents`]):
/// one rule per coding, looked up per identifier in [`RULES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// An identifier this stack does not know (contents not checked).
    Unknown,
    /// Known, passed through as octets (contents not checked).
    Any,
    Bearer,
    Channel,
    /// Calling and connected party number: octet 3a may follow.
    Number3a,
    /// Called party number: octet 3 only.
    Number,
    /// Redirecting number: octets 3a and 3b may follow.
    Number3b,
    Cause,
    Progress,
    CallState,
    Restart,
    Keypad,
    DateTime,
}

/// The rule of a codeset 0 variable-length identifier: the elements this stack decodes, those
/// it knows and passes through as octets, and the ones it does not know.
const fn rule_of(ie_id: u8) -> Rule {
    match ie_id {
        id::BEARER_CAPABILITY => Rule::Bearer,
        id::CHANNEL_ID => Rule::Channel,
        id::CALLING_NUMBER | id::CONNECTED_NUMBER => Rule::Number3a,
        id::CALLED_NUMBER => Rule::Number,
        id::REDIRECTING_NUMBER => Rule::Number3b,
        id::CAUSE => Rule::Cause,
        id::PROGRESS => Rule::Progress,
        id::CALL_STATE => Rule::CallState,
        id::RESTART_INDICATOR => Rule::Restart,
        id::KEYPAD => Rule::Keypad,
        id::DATE_TIME => Rule::DateTime,
        id::FACILITY
        | id::NOTIFICATION
        | id::DISPLAY
        | id::SIGNAL
        | id::CONNECTED_SUBADDRESS
        | id::CALLING_SUBADDRESS
        | id::CALLED_SUBADDRESS
        | id::TRANSIT_NETWORK
        | id::LOW_LAYER_COMPAT
        | id::HIGH_LAYER_COMPAT
        | id::USER_USER
        | 0x10 // call identity
        | 0x20 // network-specific facilities
        | 0x2d => Rule::Any, // extended facility (ETSI)
        _ => Rule::Unknown,
    }
}

/// [`rule_of`] for every variable-length identifier (they are below 0x80), built at compile
/// time: the walk over a received message looks each element up once.
pub(crate) const RULES: [Rule; 128] = {
    let mut table = [Rule::Unknown; 128];
    let mut i: u8 = 0;
    while i < 128 {
        table[i as usize] = rule_of(i);
        i += 1;
    }
    table
};

/// The rule of an identifier (single-octet ones, 0x80 and up, are not variable-length elements).
#[inline]
pub(crate) fn rule(ie_id: u8) -> Rule {
    RULES.get(usize::from(ie_id)).copied().unwrap_or(Rule::Unknown)
}

/// Whether the contents of codeset 0 element `ie_id` keep to its coding, that is whether
/// [`Ie::parse_variable`] would decode it rather than keep it as [`Ie::Invalid`]: the same tests
/// as the decoders make, without building the element (the §5.8.6 / §5.8.7 checks of a received
/// message look at every element, call control decodes few). `tests_view` holds the two together.
pub(crate) fn valid_contents(ie_id: u8, d: &[u8]) -> bool {
    follows(rule(ie_id), d)
}

/// [`valid_contents`] by the element's rule.
#[inline]
pub(crate) fn follows(rule: Rule, d: &[u8]) -> bool {
    let high = |b: &u8| b & 0x80 != 0;
    match rule {
        Rule::Unknown | Rule::Any => true,
        Rule::Bearer => {
            let [o3, o4, rest @ ..] = d else { return false };
            if !high(o3) || !high(o4) {
                return false;
            }
            let mut d = rest;
            if o4 & 0x1f == 0x18 {
                let [m, r @ ..] = d else { return false };
                if !high(m) {
                    return false;
                }
                d = r;
            }
            match d {
                // Octet 5 without its extension bit needs the octets 5a.. up to one with it.
                [o5, r @ ..] if (o5 >> 5) & 3 == 1 && !high(o5) => r.iter().any(high),
                _ => true,
            }
        }
        Rule::Channel => {
            let [o3, rest @ ..] = d else { return false };
            if !high(o3) {
                return false;
            }
            let mut d = rest;
            let interface_id = o3 & 0x40 != 0;
            if interface_id {
                let Some(end) = d.iter().position(high) else { return false };
                d = d.get(end + 1..).unwrap_or_default();
            }
            match (o3 & 0x20 != 0, o3 & 3) {
                (false, _) => d.is_empty(),
                (true, 0 | 3) => true,
                (true, 2) => false,
                (true, _) if interface_id && d.is_empty() => true,
                (true, _) => match d {
                    [] => false,
                    [0x83, r @ ..] if !r.is_empty() => r.iter().enumerate().all(|(i, b)| high(b) == (i + 1 == r.len())),
                    _ => true,
                },
            }
        }
        Rule::Number3a => party_number_valid(d, true, false),
        Rule::Number => party_number_valid(d, false, false),
        Rule::Number3b => party_number_valid(d, true, true),
        Rule::Cause => CauseOctets::read(d).is_ok(),
        Rule::Progress => matches!(d, [o3, o4] if high(o3) && high(o4)),
        Rule::CallState => d.len() == 1,
        Rule::Restart => matches!(d, [o3] if high(o3) && matches!(o3 & 7, 0 | 6 | 7)),
        Rule::Keypad => !d.iter().any(high),
        Rule::DateTime => (3..=6).contains(&d.len()),
    }
}

/// The first explicit B-channel of a channel identification with valid contents: what
/// [`ChannelId::first_channel`] of the decoded element gives, without building it.
pub(crate) fn first_channel_of(d: &[u8]) -> Option<u8> {
    let (&o3, mut d) = d.split_first()?;
    if o3 & 0x40 != 0 {
        let end = d.iter().position(|b| b & 0x80 != 0)?;
        d = d.get(end + 1..)?;
    }
    match (o3 & 0x20 != 0, o3 & 3) {
        (_, 0 | 3) | (true, 2) => None,
        (false, s) => Some(s),
        (true, _) => match d {
            [0x83, first, ..] => Some(first & 0x7f),
            _ => None,
        },
    }
}

/// [`valid_contents`] of a party number: octet 3, octets 3a and 3b where the coding has them
/// and the extension bits call for them, then IA5 digits.
fn party_number_valid(d: &[u8], with_3a: bool, with_3b: bool) -> bool {
    let high = |b: &u8| b & 0x80 != 0;
    let digits = match d {
        [o3, rest @ ..] if high(o3) => rest,
        [_, o3a, rest @ ..] if with_3a && high(o3a) => rest,
        [_, _, o3b, rest @ ..] if with_3a && with_3b && high(o3b) => rest,
        _ => return false,
    };
    !digits.iter().any(high)
}

impl Ie {
    /// The element identifier (for single-octet ones, the whole octet).
    pub fn id(&self) -> u8 {
        match self {
            Ie::Shift { locking, codeset } => 0x90 | if *locking { 0 } else { 8 } | (codeset & 7),
            Ie::SendingComplete => id::SENDING_COMPLETE,
            Ie::SingleOctet(o) => *o,
            Ie::BearerCapability(_) => id::BEARER_CAPABILITY,
            Ie::ChannelId(_) => id::CHANNEL_ID,
            Ie::CallingNumber(_) => id::CALLING_NUMBER,
            Ie::CalledNumber(_) => id::CALLED_NUMBER,
            Ie::ConnectedNumber(_) => id::CONNECTED_NUMBER,
            Ie::RedirectingNumber(_) => id::REDIRECTING_NUMBER,
            Ie::Cause(_) => id::CAUSE,
            Ie::Progress(_) => id::PROGRESS,
            Ie::CallState { .. } => id::CALL_STATE,
            Ie::RestartIndicator(_) => id::RESTART_INDICATOR,
            Ie::Display(_) => id::DISPLAY,
            Ie::Keypad(_) => id::KEYPAD,
            Ie::DateTime(_) => id::DATE_TIME,
            Ie::Raw { id, .. } | Ie::Invalid { id, .. } => *id,
        }
    }

    /// Parses a variable-length element of `codeset` from its identifier and contents.
    pub fn parse_variable(codeset: u8, ie_id: u8, data: &[u8]) -> Ie {
        if codeset != 0 {
            return Ie::Raw { codeset, id: ie_id, data: data.to_vec() };
        }
        let typed = match ie_id {
            id::BEARER_CAPABILITY => BearerCapability::parse(data).map(Ie::BearerCapability),
            id::CHANNEL_ID => ChannelId::parse(data).map(Ie::ChannelId),
            id::CALLING_NUMBER => PartyNumber::parse(data, true, false).map(Ie::CallingNumber),
            id::CALLED_NUMBER => PartyNumber::parse(data, false, false).map(Ie::CalledNumber),
            id::CONNECTED_NUMBER => PartyNumber::parse(data, true, false).map(Ie::ConnectedNumber),
            id::REDIRECTING_NUMBER => PartyNumber::parse(data, true, true).map(Ie::RedirectingNumber),
            id::CAUSE => Cause::parse(data).map(Ie::Cause),
            id::PROGRESS => Progress::parse(data).map(Ie::Progress),
            id::CALL_STATE => call_state(data).map(|(coding, state)| Ie::CallState { coding, state }),
            id::RESTART_INDICATOR => RestartClass::parse(data).map(Ie::RestartIndicator),
            id::DISPLAY => Ok(Ie::Display(data.to_vec())),
            id::KEYPAD => keypad(data).map(|k| Ie::Keypad(k.to_vec())),
            id::DATE_TIME => DateTime::parse(data).map(Ie::DateTime),
            _ => Ok(Ie::Raw { codeset, id: ie_id, data: data.to_vec() }),
        };
        typed.unwrap_or_else(|error| Ie::Invalid { id: ie_id, data: data.to_vec(), error })
    }

    /// Appends the element (identifier, length, contents) to `out`. Contents longer than 255
    /// octets cannot be coded and are cut at 255.
    pub fn emit(&self, out: &mut Vec<u8>) {
        Encoder::elements(out).ie(self);
    }
}

impl fmt::Display for Ie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text =
            |f: &mut fmt::Formatter<'_>, d: &[u8]| write!(f, "\"{}\"", String::from_utf8_lossy(d).escape_debug());
        match self {
            Ie::Shift { locking, codeset } => {
                write!(f, "shift{}={codeset}", if *locking { "" } else { "(non-locking)" })
            }
            Ie::SendingComplete => f.write_str("complete"),
            Ie::SingleOctet(o) => write!(f, "ie={o:02x}"),
            Ie::BearerCapability(bc) => write!(f, "bearer={bc}"),
            Ie::ChannelId(c) => write!(f, "chan={c}"),
            Ie::CallingNumber(n) => write!(f, "calling={n}"),
            Ie::CalledNumber(n) => write!(f, "called={n}"),
            Ie::ConnectedNumber(n) => write!(f, "connected={n}"),
            Ie::RedirectingNumber(n) => write!(f, "redirecting={n}"),
            Ie::Cause(c) => write!(f, "cause={c}"),
            Ie::Progress(p) => write!(f, "progress={}", p.description),
            Ie::CallState { state, .. } => write!(f, "state={state}"),
            Ie::RestartIndicator(c) => write!(f, "restart={c:?}"),
            Ie::Display(d) => {
                f.write_str("display=")?;
                text(f, d)
            }
            Ie::Keypad(d) => {
                f.write_str("keypad=")?;
                text(f, d)
            }
            Ie::DateTime(d) => {
                write!(f, "date={:02}-{:02}-{:02}", d.year, d.month, d.day)?;
                if let (Some(h), Some(m)) = (d.hour, d.minute) {
                    write!(f, " {h:02}:{m:02}")?;
                }
                Ok(())
            }
            Ie::Raw { codeset: 0, id, data } => write!(f, "ie{id:02x}={data:02x?}"),
            Ie::Raw { codeset, id, data } => write!(f, "ie{codeset}/{id:02x}={data:02x?}"),
            Ie::Invalid { id, data, error } => write!(f, "invalid-ie{id:02x}({error})={data:02x?}"),
        }
    }
}
