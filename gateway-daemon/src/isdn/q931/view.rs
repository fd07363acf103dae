//! A received Q.931 message as a checked view over its octets (§4.1–§4.5): the header decoded,
//! the information elements walked in place and decoded only when call control asks for one.
//!
//! This is the receive path's form of a message: reading one copies and allocates nothing. The
//! walk over the elements ([`Elements`]: codesets, shifts, a last element cut short) is the one
//! [`Message::parse`] builds its element list from, and every accessor decodes with the same
//! element decoders, so a view and the `Message` parsed from the same octets answer alike (the
//! tests in `tests_view` hold the two side by side on random octets).

use std::fmt;

use super::ie::{self, id, BearerCapability, Cause, CauseOctets, ChannelId, Ie, PartyNumber, Progress, Rule};
use super::message::{CallRef, Message, MessageType, ParseError, PROTOCOL_DISCRIMINATOR};

/// A Q.931 message received: header fields, and its elements still as octets, with what one walk
/// over them found: where the elements call control reads are, and what §5.8.6 / §5.8.7 make of
/// them.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'a> {
    pub call_ref: CallRef,
    pub msg_type: MessageType,
    /// The whole message.
    octets: &'a [u8],
    /// Where the elements start in `octets` (after the message type).
    ies_at: u8,
    /// Per element of [`SLOTS`] (bit i for slot i): whether it occurs in codeset 0, and whether
    /// its first occurrence has invalid contents.
    seen: u16,
    first_invalid: u16,
    /// Per element of [`SLOTS`], where the first occurrence with valid contents starts (its
    /// identifier octet); 0 when there is none (or it starts beyond what a `u8` holds: the
    /// elements of a basic call's messages are all within its first 46 octets).
    valid: [u8; SLOTS.len()],
    /// The first element to refuse outright: a known one with invalid contents (cause 100), an
    /// unknown one demanding comprehension (cause 96), a last one cut short (cause 100).
    refused: Option<Check>,
    /// The first codeset 0 element this stack does not know (cause 99).
    unrecognized: Option<u8>,
    /// The identifier of a last element cut short by the end of the message.
    truncated_id: Option<u8>,
    sending_complete: bool,
}

/// What §5.8.6 / §5.8.7 make of a message's elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    Ok,
    /// A mandatory element missing, or an unknown comprehension-required one (cause 96).
    MandatoryMissing(u8),
    /// A mandatory element with invalid contents (cause 100).
    MandatoryInvalid(u8),
    /// An optional element with invalid contents: act, then STATUS cause 100.
    OptionalInvalid(u8),
    /// An element this stack does not know: act, then STATUS cause 99.
    Unrecognized(u8),
}

/// The codeset 0 elements a view notes the first occurrence of: those call control decodes and
/// those a message type requires ([`MessageType::mandatory`]).
const SLOTS: [u8; NO_SLOT as usize] = [
    id::BEARER_CAPABILITY,
    id::CAUSE,
    id::CALL_STATE,
    id::CHANNEL_ID,
    id::PROGRESS,
    id::NOTIFICATION,
    id::KEYPAD,
    id::CALLING_NUMBER,
    id::CALLED_NUMBER,
    id::RESTART_INDICATOR,
];

/// The slot of identifiers without one (one past the last).
const NO_SLOT: u8 = 10;

/// What the walk looks up once per codeset 0 variable-length element (identifiers below 0x80):
/// how its contents are checked and which slot notes it.
#[derive(Debug, Clone, Copy)]
struct Kind {
    rule: Rule,
    slot: u8,
}

/// The kind of every variable-length identifier, built at compile time from [`ie::RULES`] and
/// [`SLOTS`].
const KINDS: [Kind; 128] = {
    let mut table = [Kind { rule: Rule::Unknown, slot: NO_SLOT }; 128];
    let mut i = 0;
    while i < 128 {
        table[i].rule = ie::RULES[i];
        i += 1;
    }
    let mut s = 0;
    while s < NO_SLOT {
        table[SLOTS[s as usize] as usize].slot = s;
        s += 1;
    }
    table
};

/// The slot of an identifier; [`NO_SLOT`] for those without one.
fn slot(ie_id: u8) -> u8 {
    KINDS.get(usize::from(ie_id)).map_or(NO_SLOT, |k| k.slot)
}

/// What a channel identification asks for ([`MessageView::channel_choice`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelChoice {
    /// "No channel" ([`ChannelSelection::NoChannel`](super::ie::ChannelSelection::NoChannel)).
    pub no_channel: bool,
    /// The first explicit B-channel ([`ChannelId::first_channel`]).
    pub first: Option<u8>,
    /// Only that channel is acceptable.
    pub exclusive: bool,
}

/// One element as it stands in the message, with the codeset it belongs to (worked out from the
/// shifts before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element<'a> {
    /// Shift (§4.5.3).
    Shift { locking: bool, codeset: u8 },
    /// Any other single-octet element: the whole octet.
    Single { codeset: u8, octet: u8 },
    /// A variable-length element: identifier and contents.
    Variable { codeset: u8, id: u8, data: &'a [u8] },
    /// A last element whose length runs past the end of the message: its octets from the
    /// identifier on (the element has invalid contents).
    Truncated(&'a [u8]),
}

/// The elements of a message in order (see [`MessageView::elements`]).
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    rest: &'a [u8],
    locked: u8,
    next_only: Option<u8>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        let whole = self.rest;
        let (&o, r) = whole.split_first()?;
        let codeset = self.next_only.take().unwrap_or(self.locked);
        if o & 0x80 != 0 {
            self.rest = r;
            if o & 0xf0 == 0x90 {
                let locking = o & 0x08 == 0;
                if locking {
                    self.locked = o & 7;
                } else {
                    self.next_only = Some(o & 7);
                }
                return Some(Element::Shift { locking, codeset: o & 7 });
            }
            return Some(Element::Single { codeset, octet: o });
        }
        if let Some((&l, body)) = r.split_first() {
            let l = usize::from(l);
            if let (Some(data), Some(after)) = (body.get(..l), body.get(l..)) {
                self.rest = after;
                return Some(Element::Variable { codeset, id: o, data });
            }
        }
        self.rest = &[];
        Some(Element::Truncated(whole))
    }
}

impl<'a> MessageView<'a> {
    /// Checks the header of any octet string without panicking. It fails only where
    /// §5.8.1–§5.8.3 say to ignore the message outright (see [`Message::parse`]).
    #[inline]
    pub fn parse(octets: &'a [u8]) -> Result<MessageView<'a>, ParseError> {
        let mut view = MessageView::unread(octets);
        view.read()?;
        Ok(view)
    }

    /// A view of `octets` before [`read`](Self::read): no header, no elements noted.
    #[inline]
    pub(crate) fn unread(octets: &'a [u8]) -> MessageView<'a> {
        MessageView {
            call_ref: CallRef { len: 0, value: 0, flag: false },
            msg_type: MessageType::Unknown(0),
            octets,
            ies_at: 0,
            seen: 0,
            first_invalid: 0,
            valid: [0; SLOTS.len()],
            refused: None,
            unrecognized: None,
            truncated_id: None,
            sending_complete: false,
        }
    }

    /// [`parse`](Self::parse) in place: the receive path reads a message where it keeps the
    /// view, rather than moving the view out of a `Result`.
    #[inline]
    pub(crate) fn read(&mut self) -> Result<(), ParseError> {
        let octets = self.octets;
        let (&pd, rest) = octets.split_first().ok_or(ParseError::TooShort)?;
        if pd != PROTOCOL_DISCRIMINATOR {
            return Err(ParseError::ProtocolDiscriminator(pd));
        }
        let (&lo, rest) = rest.split_first().ok_or(ParseError::TooShort)?;
        self.call_ref = match (lo, rest) {
            (0, _) => CallRef { len: 0, value: 0, flag: false },
            (1, [a, _, ..]) => CallRef { len: 1, value: u16::from(a & 0x7f), flag: a & 0x80 != 0 },
            (2, [a, b, _, ..]) => {
                CallRef { len: 2, value: u16::from(a & 0x7f) << 8 | u16::from(*b), flag: a & 0x80 != 0 }
            }
            (1 | 2, _) => return Err(ParseError::TooShort),
            _ => return Err(ParseError::CallReferenceLength(lo)),
        };
        let &mt = rest.get(usize::from(lo)).ok_or(ParseError::TooShort)?;
        self.msg_type = MessageType::from_octet(mt);
        self.ies_at = lo + 3;
        // Many messages of a call carry no element at all: nothing to walk.
        if octets.len() > usize::from(self.ies_at) {
            self.walk();
        }
        Ok(())
    }

    /// The one walk over the elements that fills in what the view notes: per codeset 0 element
    /// one look-up in [`KINDS`], its contents checked by the rule found there.
    fn walk(&mut self) {
        let mut at = usize::from(self.ies_at);
        for e in self.elements() {
            match e {
                Element::Variable { codeset: 0, id: i, data } => {
                    let start = at;
                    at += data.len() + 2;
                    // Variable-length identifiers are below 0x80: the look-up cannot miss.
                    let kind = KINDS[usize::from(i & 0x7f)];
                    let valid = ie::follows(kind.rule, data);
                    if kind.slot != NO_SLOT {
                        let (s, bit) = (usize::from(kind.slot), 1u16 << kind.slot);
                        if self.seen & bit == 0 {
                            self.seen |= bit;
                            if !valid {
                                self.first_invalid |= bit;
                            }
                        }
                        if valid && self.valid[s] == 0 {
                            self.valid[s] = u8::try_from(start).unwrap_or(0);
                        }
                    }
                    if !valid || kind.rule == Rule::Unknown {
                        self.refuse(i, valid);
                    }
                }
                Element::Variable { data, .. } => at += data.len() + 2,
                Element::Single { codeset: 0, octet: id::SENDING_COMPLETE } => {
                    self.sending_complete = true;
                    at += 1;
                }
                Element::Single { .. } | Element::Shift { .. } => at += 1,
                Element::Truncated(t) => {
                    self.truncated_id = t.first().copied();
                    if self.refused.is_none() {
                        self.refused = self.truncated_id.map(Check::OptionalInvalid);
                    }
                }
            }
        }
    }

    /// Notes an element with invalid contents or one this stack does not know, unless an
    /// earlier one is refused already (§5.8.7).
    #[cold]
    #[inline(never)]
    fn refuse(&mut self, i: u8, valid: bool) {
        if self.refused.is_some() {
            return;
        }
        if !valid {
            self.refused = Some(Check::OptionalInvalid(i));
        } else if i & 0xf0 == 0 {
            // Codeset 0 identifiers 0000 xxxx demand comprehension (§4.5.1, §5.8.7.1).
            self.refused = Some(Check::MandatoryMissing(i));
        } else if self.unrecognized.is_none() {
            self.unrecognized = Some(i);
        }
    }

    /// §5.8.6 / §5.8.7 on the elements: the mandatory elements of the message type first, then
    /// the first element to refuse, then the first one not understood.
    #[inline]
    pub(crate) fn check(&self) -> Check {
        for &m in self.msg_type.mandatory() {
            let bit = 1u16 << slot(m);
            if self.seen & bit == 0 {
                if let Some(refused) = self.walk_for_mandatory(m) {
                    return refused;
                }
            } else if self.first_invalid & bit != 0 {
                return Check::MandatoryInvalid(m);
            }
        }
        match (self.refused, self.unrecognized) {
            (Some(c), _) => c,
            (None, Some(i)) => Check::Unrecognized(i),
            (None, None) => Check::Ok,
        }
    }

    /// A mandatory element missing (or without a slot: every mandatory identifier has one, but
    /// the walk answers for one that would not), found by walking the elements.
    #[cold]
    #[inline(never)]
    fn walk_for_mandatory(&self, m: u8) -> Option<Check> {
        match self.variable0().find(|&(i, _)| i == m) {
            None if self.truncated_id == Some(m) => Some(Check::MandatoryInvalid(m)),
            None => Some(Check::MandatoryMissing(m)),
            Some((_, d)) if !ie::valid_contents(m, d) => Some(Check::MandatoryInvalid(m)),
            Some(_) => None,
        }
    }

    /// The contents of the first valid codeset 0 element `ie_id` (one with a slot).
    #[inline]
    fn first_valid(&self, ie_id: u8) -> Option<&'a [u8]> {
        let s = slot(ie_id);
        // An identifier without a slot (no caller asks for one) is walked for, never indexed.
        let Some(&at) = self.valid.get(usize::from(s)) else { return self.walk_for_valid(ie_id) };
        match usize::from(at) {
            0 if self.seen & 1 << s == 0 => None,
            0 => self.walk_for_valid(ie_id),
            at => {
                let len = usize::from(*self.octets.get(at + 1)?);
                self.octets.get(at + 2..at + 2 + len)
            }
        }
    }

    /// [`first_valid`](Self::first_valid) where the slot notes none: none valid, or one beyond
    /// what a `u8` notes; the walk answers.
    #[cold]
    #[inline(never)]
    fn walk_for_valid(&self, ie_id: u8) -> Option<&'a [u8]> {
        self.variable0().find(|&(i, d)| i == ie_id && ie::valid_contents(i, d)).map(|(_, d)| d)
    }

    /// The message's octets, as received.
    pub fn octets(&self) -> &'a [u8] {
        self.octets
    }

    pub fn elements(&self) -> Elements<'a> {
        let ies = self.octets.get(usize::from(self.ies_at)..).unwrap_or_default();
        Elements { rest: ies, locked: 0, next_only: None }
    }

    /// The codeset 0 variable-length elements: identifier and contents.
    pub fn variable0(&self) -> impl Iterator<Item = (u8, &'a [u8])> {
        self.elements().filter_map(|e| match e {
            Element::Variable { codeset: 0, id, data } => Some((id, data)),
            _ => None,
        })
    }

    /// The codeset 0 elements decoded, as [`Message::codeset0`] gives them (for the rarely taken
    /// paths that want them all; the accessors below decode one element).
    pub fn codeset0(&self) -> impl Iterator<Item = Ie> + 'a {
        self.elements().filter_map(|e| match e {
            Element::Single { codeset: 0, octet: id::SENDING_COMPLETE } => Some(Ie::SendingComplete),
            Element::Single { codeset: 0, octet } => Some(Ie::SingleOctet(octet)),
            Element::Variable { codeset: 0, id, data } => Some(Ie::parse_variable(0, id, data)),
            _ => None,
        })
    }

    /// The first codeset 0 element `ie_id` with valid contents, decoded (invalid ones are passed
    /// over, as [`Message`]'s accessors pass over [`Ie::Invalid`]).
    #[inline]
    fn first<T>(&self, ie_id: u8, decode: impl Fn(&'a [u8]) -> Result<T, ie::IeError>) -> Option<T> {
        self.first_valid(ie_id).and_then(|d| decode(d).ok())
    }

    /// Whether a codeset 0 element with this identifier is present (valid or not). The walk
    /// noted those with a slot; others are looked for.
    #[inline]
    pub fn has(&self, ie_id: u8) -> bool {
        match slot(ie_id) {
            NO_SLOT => self.look_for(ie_id),
            s => self.seen & 1 << s != 0,
        }
    }

    /// [`has`](Self::has) for an identifier without a slot, found by walking the elements.
    fn look_for(&self, ie_id: u8) -> bool {
        self.elements().any(|e| match e {
            Element::Single { codeset: 0, octet } => octet == ie_id,
            Element::Variable { codeset: 0, id, .. } => id == ie_id,
            _ => false,
        })
    }

    pub fn cause(&self) -> Option<Cause> {
        self.first(id::CAUSE, Cause::parse)
    }

    /// The Q.850 value of the first valid cause, as `cause()?.value` gives it, read without
    /// building the element (no diagnostics copied).
    #[inline]
    pub fn cause_value(&self) -> Option<u8> {
        self.first(id::CAUSE, CauseOctets::read).map(|c| c.value)
    }

    pub fn channel_id(&self) -> Option<ChannelId> {
        self.first(id::CHANNEL_ID, ChannelId::parse)
    }

    /// The first explicit B-channel of the channel identification, as
    /// `channel_id()?.first_channel()` gives it.
    pub fn first_channel(&self) -> Option<u8> {
        self.first_valid(id::CHANNEL_ID).and_then(ie::first_channel_of)
    }

    /// What an incoming SETUP's channel identification asks for, read without decoding the
    /// element: what `channel_id()` says in its selection and exclusive bit.
    pub fn channel_choice(&self) -> Option<ChannelChoice> {
        let d = self.first_valid(id::CHANNEL_ID)?;
        let &o3 = d.first()?;
        Some(ChannelChoice { no_channel: o3 & 3 == 0, first: ie::first_channel_of(d), exclusive: o3 & 0x08 != 0 })
    }

    pub fn bearer(&self) -> Option<BearerCapability> {
        self.first(id::BEARER_CAPABILITY, BearerCapability::parse)
    }

    pub fn called(&self) -> Option<PartyNumber> {
        self.first(id::CALLED_NUMBER, |d| PartyNumber::parse(d, false, false))
    }

    pub fn calling(&self) -> Option<PartyNumber> {
        self.first(id::CALLING_NUMBER, |d| PartyNumber::parse(d, true, false))
    }

    /// The contents of the first valid keypad facility element.
    pub fn keypad(&self) -> Option<&'a [u8]> {
        self.first_valid(id::KEYPAD)
    }

    /// The valid progress indicators, in order.
    pub fn progress(&self) -> impl Iterator<Item = Progress> + 'a {
        // Most messages carry none: then nothing is walked.
        let walk = self.has(id::PROGRESS).then(|| self.variable0());
        walk.into_iter().flatten().filter(|&(i, _)| i == id::PROGRESS).filter_map(|(_, d)| Progress::parse(d).ok())
    }

    pub fn sending_complete(&self) -> bool {
        self.sending_complete
    }

    /// The call state of a STATUS message.
    pub fn call_state(&self) -> Option<u8> {
        self.first(id::CALL_STATE, |d| ie::call_state(d).map(|(_, state)| state))
    }

    /// The message with its elements decoded, as [`Message::parse`] gives it.
    pub fn to_message(&self) -> Message {
        let mut msg = Message::new(self.call_ref, self.msg_type);
        self.decode_into(&mut msg);
        msg
    }

    /// Appends the elements, decoded, to `msg`'s element list (and a cut-short last one to its
    /// trailing octets).
    pub(crate) fn decode_into(&self, msg: &mut Message) {
        for e in self.elements() {
            let ie = match e {
                Element::Shift { locking, codeset } => Ie::Shift { locking, codeset },
                Element::Single { codeset: 0, octet: id::SENDING_COMPLETE } => Ie::SendingComplete,
                Element::Single { octet, .. } => Ie::SingleOctet(octet),
                Element::Variable { codeset, id, data } => Ie::parse_variable(codeset, id, data),
                Element::Truncated(t) => {
                    msg.trailing.extend_from_slice(t);
                    break;
                }
            };
            msg.ies.push(ie);
        }
    }
}

impl fmt::Display for MessageView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_message().fmt(f)
    }
}
