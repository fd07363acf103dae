//! Q.931's one encoder: messages and their elements written straight into the octets layer 2
//! carries, the header, then each element.
//!
//! Call control sends the messages of a call's life (SETUP, its answers, clearing) from the
//! call's own fields, with no [`Ie`] values built and no scratch buffer: the encoder writes in
//! place at the end of Q.931's transmit queue ([`Transmit`]), where layer 2 then borrows the
//! message from. A message built as a [`Message`](super::message::Message) (STATUS, NOTIFY,
//! FACILITY, RESTART, the tests) is written by the same functions, through [`Encoder::ie`]. The
//! tests below hold the call path's shortcuts (one B-channel, a cause without diagnostics, a
//! speech bearer) to the octets of the general elements, and check well-formed output against
//! the parser, which shares no code with the encoder (`tests_wire.rs` holds captured octets).

use super::digits::Digits;
use super::ie::{id, BearerCapability, Cause, ChannelId, ChannelSelection, DateTime, Ie, PartyNumber, Progress};
use super::message::{CallRef, MessageType, PROTOCOL_DISCRIMINATOR};
use crate::isdn::octets::FrameQueue;

/// The longest contents an element's length octet can state; longer ones are cut.
const MAX_CONTENTS: usize = 255;

/// The room for a party number element written at once: identifier, length, octets 3 to 3b and
/// the digits a number holds inline.
const NUMBER_BLOCK: usize = 5 + Digits::INLINE;

/// One message, or a run of elements, being written at the end of a buffer.
pub(crate) struct Encoder<'a> {
    buf: &'a mut Vec<u8>,
    /// Where the message starts in `buf` (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    start: usize,
}

/// Octet 3 of a channel identification without interface identifier nor D-channel indication.
#[inline]
fn channel_octet3(primary: bool, exclusive: bool, selection: u8) -> u8 {
    0x80 | u8::from(primary) << 5 | u8::from(exclusive) << 3 | selection
}

/// The information channel selection a basic rate interface codes B1 and B2 with (any other
/// channel as "any channel").
#[inline]
fn basic_selection(channel: Option<u8>) -> u8 {
    match channel {
        Some(1) => 1,
        Some(2) => 2,
        _ => 3,
    }
}

/// A message's header: protocol discriminator, call reference and message type, as five octets
/// and the length they are cut to (that of the call reference).
#[inline(always)]
pub(crate) fn header(call_ref: CallRef, msg_type: MessageType) -> ([u8; 5], usize) {
    let flag = if call_ref.flag { 0x80 } else { 0 };
    let mt = msg_type.octet();
    let [hi, lo] = call_ref.value.to_be_bytes();
    match call_ref.len {
        0 => ([PROTOCOL_DISCRIMINATOR, 0, mt, 0, 0], 3),
        1 => ([PROTOCOL_DISCRIMINATOR, 1, flag | (lo & 0x7f), mt, 0], 4),
        len => ([PROTOCOL_DISCRIMINATOR, len, flag | (hi & 0x7f), lo, mt], 5),
    }
}

impl<'a> Encoder<'a> {
    /// Starts a message at the end of `buf` with its protocol discriminator, call reference and
    /// message type.
    #[inline(always)]
    pub(crate) fn new(buf: &'a mut Vec<u8>, call_ref: CallRef, msg_type: MessageType) -> Encoder<'a> {
        let start = buf.len();
        let (header, len) = header(call_ref, msg_type);
        buf.extend_from_slice(&header);
        buf.truncate(start + len);
        Encoder { buf, start }
    }

    /// Appends elements, without a header, at the end of `buf`.
    #[inline(always)]
    pub(crate) fn elements(buf: &'a mut Vec<u8>) -> Encoder<'a> {
        let start = buf.len();
        Encoder { buf, start }
    }

    /// The message written so far.
    #[cfg(test)]
    pub(crate) fn octets(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    #[inline]
    pub(crate) fn put(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    #[inline]
    fn put_byte(&mut self, octet: u8) {
        self.buf.push(octet);
    }

    /// Appends the first `len` octets of `block` (at most its size): the whole block in one
    /// fixed-size copy, then cut back, cheaper than a copy of a length known only at run time.
    #[inline]
    fn put_cut<const N: usize>(&mut self, block: &[u8; N], len: usize) {
        let end = self.buf.len() + len.min(N);
        self.buf.extend_from_slice(block);
        self.buf.truncate(end);
    }

    /// Appends octets with their eighth bit cleared (IA5 digits): a party number's few, one by
    /// one.
    #[inline]
    fn put_masked(&mut self, data: &[u8]) {
        self.buf.reserve(data.len());
        for &o in data {
            self.put_byte(o & 0x7f);
        }
    }

    /// Opens a variable-length element: its identifier and a length octet that
    /// [`close`](Self::close) fills in. Returns where the element starts.
    #[inline]
    fn open(&mut self, ie_id: u8) -> usize {
        let at = self.buf.len();
        self.put(&[ie_id, 0]);
        at
    }

    /// Closes the element opened at `at`: contents longer than its length octet can state are
    /// cut at 255.
    fn close(&mut self, at: usize) {
        let body = at + 2;
        let len = self.buf.len() - body;
        if len > MAX_CONTENTS {
            self.buf.truncate(body + MAX_CONTENTS);
        }
        self.buf[at + 1] = u8::try_from(len.min(MAX_CONTENTS)).unwrap_or(u8::MAX);
    }

    /// A variable-length element whose contents are `data` as they stand.
    fn element(&mut self, ie_id: u8, data: &[u8]) {
        let at = self.open(ie_id);
        self.put(data);
        self.close(at);
    }

    /// Any element of a message built as a [`Message`](super::message::Message).
    pub(crate) fn ie(&mut self, ie: &Ie) {
        match ie {
            Ie::Shift { .. } | Ie::SendingComplete | Ie::SingleOctet(_) => self.single(ie.id()),
            Ie::BearerCapability(bc) => self.bearer(bc),
            Ie::ChannelId(c) => self.channel_id(c),
            Ie::CallingNumber(n) | Ie::CalledNumber(n) | Ie::ConnectedNumber(n) | Ie::RedirectingNumber(n) => {
                self.number(ie.id(), n)
            }
            Ie::Cause(c) => self.cause(c),
            Ie::Progress(p) => self.progress(p),
            Ie::CallState { coding, state } => self.put(&[id::CALL_STATE, 1, (coding & 3) << 6 | (state & 0x3f)]),
            Ie::RestartIndicator(c) => self.put(&[id::RESTART_INDICATOR, 1, 0x80 | c.bits()]),
            Ie::DateTime(d) => self.date_time(d),
            Ie::Display(d) | Ie::Keypad(d) | Ie::Raw { data: d, .. } | Ie::Invalid { data: d, .. } => {
                self.element(ie.id(), d)
            }
        }
    }

    /// A single-octet element (sending complete, shift ...).
    #[inline]
    pub(crate) fn single(&mut self, octet: u8) {
        self.put_byte(octet);
    }

    /// Sending complete (§4.5.27).
    #[inline]
    pub(crate) fn sending_complete(&mut self) {
        self.single(id::SENDING_COMPLETE);
    }

    /// Channel identification naming one B-channel (what `ChannelId::channel` builds, written
    /// as [`channel_id`](Self::channel_id) writes it): on a primary rate interface by its number
    /// in octet 3.3, on a basic one in octet 3's selection.
    #[inline]
    pub(crate) fn channel(&mut self, primary: bool, channel: u8, exclusive: bool) {
        if primary {
            self.put(&[id::CHANNEL_ID, 3, channel_octet3(true, exclusive, 1), 0x83, 0x80 | (channel & 0x7f)]);
        } else {
            self.put(&[id::CHANNEL_ID, 1, channel_octet3(false, exclusive, basic_selection(Some(channel)))]);
        }
    }

    /// Channel identification (§4.5.13).
    pub(crate) fn channel_id(&mut self, c: &ChannelId) {
        let sel = match (&c.selection, c.primary) {
            (ChannelSelection::NoChannel, _) => 0,
            (ChannelSelection::Any, _) => 3,
            (ChannelSelection::Channels(ch), false) => basic_selection(ch.first().copied()),
            (ChannelSelection::Other(_), false) => 3,
            (_, true) => 1,
        };
        let at = self.open(id::CHANNEL_ID);
        let flags = u8::from(c.interface_id.is_some()) << 6 | u8::from(c.d_channel) << 2;
        self.put_byte(channel_octet3(c.primary, c.exclusive, sel) | flags);
        if let Some(iid) = &c.interface_id {
            self.put(iid);
        }
        if c.primary {
            match &c.selection {
                ChannelSelection::Channels(ch) if !ch.is_empty() => {
                    self.put_byte(0x83);
                    for (i, n) in ch.iter().enumerate() {
                        self.put_byte((n & 0x7f) | if i + 1 == ch.len() { 0x80 } else { 0 });
                    }
                }
                ChannelSelection::Other(raw) => self.put(raw),
                _ => {}
            }
        }
        self.close(at);
    }

    /// Cause (§4.5.12).
    #[inline(always)]
    pub(crate) fn cause(&mut self, c: &Cause) {
        let o3 = (c.coding & 3) << 5 | (c.location & 0x0f);
        let o4 = 0x80 | (c.value & 0x7f);
        if c.recommendation.is_none() && c.diagnostics.is_empty() {
            self.put(&[id::CAUSE, 2, 0x80 | o3, o4]);
        } else {
            self.cause_with(o3, o4, c);
        }
    }

    /// [`cause`](Self::cause) with a recommendation or diagnostics.
    #[cold]
    fn cause_with(&mut self, o3: u8, o4: u8, c: &Cause) {
        let at = self.open(id::CAUSE);
        match c.recommendation {
            Some(r) => self.put(&[o3, 0x80 | (r & 0x7f), o4]),
            None => self.put(&[0x80 | o3, o4]),
        }
        self.put(&c.diagnostics);
        self.close(at);
    }

    /// Progress indicator (§4.5.23).
    #[inline]
    pub(crate) fn progress(&mut self, p: &Progress) {
        self.put(&[id::PROGRESS, 2, 0x80 | (p.coding & 3) << 5 | (p.location & 0x0f), 0x80 | (p.description & 0x7f)]);
    }

    /// Bearer capability (§4.5.5).
    #[inline(always)]
    pub(crate) fn bearer(&mut self, bc: &BearerCapability) {
        let o3 = 0x80 | (bc.coding & 3) << 5 | (bc.capability & 0x1f);
        let o4 = 0x80 | (bc.mode & 3) << 5 | (bc.rate & 0x1f);
        match (bc.multiplier, bc.layer1) {
            // A telephone call's bearer: octets 3, 4 and 5, nothing verbatim.
            (None, Some(l1)) if bc.layer1_extra.is_empty() && bc.rest.is_empty() => {
                self.put(&[id::BEARER_CAPABILITY, 3, o3, o4, 0xa0 | (l1 & 0x1f)]);
            }
            _ => self.bearer_with(o3, o4, bc),
        }
    }

    /// [`bearer`](Self::bearer) with a multiplier, layer 1 extension octets or octets 6 and 7.
    #[cold]
    fn bearer_with(&mut self, o3: u8, o4: u8, bc: &BearerCapability) {
        let at = self.open(id::BEARER_CAPABILITY);
        self.put(&[o3, o4]);
        if let Some(m) = bc.multiplier {
            self.put_byte(0x80 | (m & 0x7f));
        }
        if let Some(l1) = bc.layer1 {
            let ext = if bc.layer1_extra.is_empty() { 0x80 } else { 0 };
            self.put_byte(ext | 0x20 | (l1 & 0x1f));
            self.put(&bc.layer1_extra);
        }
        self.put(&bc.rest);
        self.close(at);
    }

    /// A party number (calling, called, connected, redirecting: §4.5.7, §4.5.9) under `ie_id`.
    /// Each digit keeps its low seven bits (the gateway's text may be more than IA5).
    // Inlined: a SETUP writes two, with constant identifiers.
    #[inline(always)]
    pub(crate) fn number(&mut self, ie_id: u8, n: &PartyNumber) {
        let more = n.presentation.is_some() || n.reason.is_some();
        let digits = n.digits.as_bytes();
        // Identifier, length, octets 3 to 3b and, for digits held inline, the digits: built
        // here and written at once, the digits copied and masked as one fixed-size block.
        let mut block = [0u8; NUMBER_BLOCK];
        block[0] = ie_id;
        block[2] = if more { 0 } else { 0x80 } | (n.ton & 7) << 4 | (n.plan & 0x0f);
        let mut h = 3;
        if more {
            let (p, s) = n.presentation.unwrap_or((0, 0));
            let ext = if n.reason.is_some() { 0 } else { 0x80 };
            block[h] = ext | (p & 3) << 5 | (s & 3);
            h += 1;
        }
        if let Some(r) = n.reason {
            block[h] = 0x80 | (r & 0x0f);
            h += 1;
        }
        match n.digits.inline_block() {
            Some(inline) => {
                // At most 5 + Digits::INLINE octets: within the block, and the length fits.
                block[1] = u8::try_from(h - 2 + digits.len()).unwrap_or(u8::MAX);
                let masked = inline.map(|d| d & 0x7f);
                if let Some(dst) = block.get_mut(h..h + Digits::INLINE) {
                    dst.copy_from_slice(&masked);
                }
                self.put_cut(&block, h + digits.len());
            }
            None => self.number_long(block, h, digits),
        }
    }

    /// [`number`](Self::number) of digits not held inline (more than [`Digits::INLINE`]), after
    /// the element's octets up to `h` in `block`: cut at 255 octets of contents.
    #[cold]
    fn number_long(&mut self, block: [u8; NUMBER_BLOCK], h: usize, digits: &[u8]) {
        let at = self.buf.len();
        self.put_cut(&block, h);
        self.put_masked(digits);
        self.close(at);
    }

    /// Date/time (§4.5.30).
    fn date_time(&mut self, d: &DateTime) {
        let at = self.open(id::DATE_TIME);
        self.put(&[d.year, d.month, d.day]);
        // The optional octets are positional: a later one implies the earlier ones.
        for o in [d.hour, d.minute, d.second].into_iter().map_while(|o| o) {
            self.put_byte(o);
        }
        self.close(at);
    }
}

/// Q.931's transmit queue: each message written once, in place, into one buffer reused once
/// drained, tagged with the TEI of its data link; layer 2 borrows the messages from it.
pub(crate) type Transmit = FrameQueue;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isdn::q931::message::Message;

    /// The octets `Message::emit` gives for a message of these elements (since `Message::emit`
    /// writes through the Encoder too, this holds the call path's shortcuts to the general
    /// element; [`reads_back`] is the check independent of the encoder).
    fn emitted(call_ref: CallRef, msg_type: MessageType, ies: Vec<Ie>) -> Vec<u8> {
        let mut m = Message::new(call_ref, msg_type);
        m.ies = ies;
        m.to_bytes()
    }

    /// The independent check: the parser (`Message::parse`, which shares no code with the
    /// encoder) reads back the header and the elements that were written.
    fn reads_back(octets: &[u8], call_ref: CallRef, msg_type: MessageType, ies: &[Ie]) {
        let m = Message::parse(octets).expect("the encoder's output parses");
        assert_eq!((m.call_ref, m.msg_type, &m.ies[..]), (call_ref, msg_type, ies), "{octets:02x?}");
    }

    fn crefs() -> [CallRef; 5] {
        [
            CallRef { len: 0, value: 0, flag: false },
            CallRef { len: 1, value: 0x25, flag: false },
            CallRef { len: 1, value: 0x7f, flag: true },
            CallRef { len: 2, value: 0x1234, flag: false },
            CallRef { len: 2, value: 0x7fff, flag: true },
        ]
    }

    #[test]
    fn headers_match_emit() {
        for cref in crefs() {
            for mt in [MessageType::Setup, MessageType::ConnectAcknowledge, MessageType::Unknown(0x33)] {
                let mut buf = vec![0xee];
                let e = Encoder::new(&mut buf, cref, mt);
                assert_eq!(e.octets(), emitted(cref, mt, vec![]), "{cref} {mt}");
                reads_back(e.octets(), cref, mt, &[]);
            }
        }
    }

    #[test]
    fn channels_match_emit() {
        for primary in [false, true] {
            for ch in [0, 1, 2, 3, 15, 17, 31, 0x90] {
                for exclusive in [false, true] {
                    let mut buf = vec![];
                    let mut e = Encoder::new(&mut buf, crefs()[3], MessageType::CallProceeding);
                    e.channel(primary, ch, exclusive);
                    let ie = Ie::ChannelId(ChannelId::channel(primary, ch, exclusive));
                    assert_eq!(e.octets(), emitted(crefs()[3], MessageType::CallProceeding, vec![ie.clone()]));
                    // The B-channels of each interface read back as written (on a BRI, 0 and 3
                    // are "no channel" and "any"; past 31 is no E1 timeslot).
                    let b_channels = if primary { 1..=31 } else { 1..=2 };
                    if b_channels.contains(&ch) {
                        reads_back(e.octets(), crefs()[3], MessageType::CallProceeding, &[ie]);
                    }
                }
            }
        }
    }

    #[test]
    fn causes_and_progress_match_emit() {
        let mut causes = vec![Cause::new(Cause::LOCATION_USER, 16), Cause::new(Cause::LOCATION_PUBLIC_LOCAL, 0xff)];
        let mut c = Cause::new(3, 96);
        c.diagnostics = vec![0x18];
        causes.push(c.clone());
        c.recommendation = Some(0x85);
        c.coding = 7;
        causes.push(c.clone());
        c.diagnostics = vec![0x41; 300];
        causes.push(c.clone());
        c.recommendation = None;
        causes.push(c);
        for (k, c) in causes.into_iter().enumerate() {
            let mut buf = vec![1, 2, 3];
            let mut e = Encoder::new(&mut buf, crefs()[1], MessageType::Disconnect);
            e.cause(&c);
            let p = Progress { coding: 5, location: 0x12, description: 0x88 };
            e.progress(&p);
            let ies = vec![Ie::Cause(c), Ie::Progress(p)];
            assert_eq!(e.octets(), emitted(crefs()[1], MessageType::Disconnect, ies.clone()));
            // The well-formed causes read back (the others carry out-of-range fields on purpose,
            // as does the progress indicator).
            if k == 0 || k == 2 {
                let m = Message::parse(e.octets()).expect("the encoder's output parses");
                assert_eq!(m.ies.first(), ies.first(), "{:02x?}", e.octets());
            }
        }
    }

    #[test]
    fn setup_elements_match_emit() {
        let mut bearers = vec![BearerCapability::speech(BearerCapability::LAYER1_ALAW)];
        let mut b = BearerCapability::speech(BearerCapability::LAYER1_ULAW);
        b.multiplier = Some(0x82);
        b.layer1_extra = vec![0x21, 0x8f];
        b.rest = vec![0xc2, 0xe6];
        bearers.push(b.clone());
        b.layer1 = None;
        bearers.push(b.clone());
        b.rest = vec![0x11; 280];
        bearers.push(b);
        let mut numbers = vec![PartyNumber::unknown("1234"), PartyNumber::unknown("")];
        let mut n = PartyNumber::unknown("00491234567890123456789");
        n.ton = 1;
        n.plan = 1;
        n.presentation = Some((1, 3));
        numbers.push(n.clone());
        n.reason = Some(0x0f);
        numbers.push(n.clone());
        n.presentation = None;
        numbers.push(n.clone());
        n.digits = "12é4".into();
        numbers.push(n.clone());
        n.digits = "9".repeat(300).as_str().into();
        numbers.push(n);
        for (bi, bc) in bearers.iter().enumerate() {
            for (ni, num) in numbers.iter().enumerate() {
                let mut buf = vec![];
                let mut e = Encoder::new(&mut buf, crefs()[4], MessageType::Setup);
                e.bearer(bc);
                e.channel(true, 5, false);
                e.number(id::CALLING_NUMBER, num);
                e.number(id::CALLED_NUMBER, num);
                e.sending_complete();
                let ies = vec![
                    Ie::BearerCapability(bc.clone()),
                    Ie::ChannelId(ChannelId::channel(true, 5, false)),
                    Ie::CallingNumber(num.clone()),
                    Ie::CalledNumber(num.clone()),
                    Ie::SendingComplete,
                ];
                assert_eq!(e.octets(), emitted(crefs()[4], MessageType::Setup, ies.clone()));
                // A speech bearer and the numbers a called party number can carry (no
                // presentation octet, ASCII, not cut at 255) read back as written.
                if bi == 0 && ni < 2 {
                    reads_back(e.octets(), crefs()[4], MessageType::Setup, &ies);
                }
            }
        }
    }

    /// Numbers inline and not (past `Digits::INLINE`), with and without octet 3a, read back
    /// through the parser digit for digit.
    #[test]
    fn numbers_of_every_length_read_back() {
        for len in 0..=Digits::INLINE + 8 {
            let digits: String = "0123456789".chars().cycle().take(len).collect();
            let called = PartyNumber { ton: 2, plan: 1, ..PartyNumber::unknown(&digits) };
            let calling = PartyNumber { presentation: Some((1, 3)), ..called.clone() };
            let mut buf = vec![0x55];
            let mut e = Encoder::new(&mut buf, crefs()[3], MessageType::Information);
            e.number(id::CALLING_NUMBER, &calling);
            e.number(id::CALLED_NUMBER, &called);
            let ies = [Ie::CallingNumber(calling), Ie::CalledNumber(called)];
            reads_back(e.octets(), crefs()[3], MessageType::Information, &ies);
        }
    }

    #[test]
    fn the_transmit_queue_gives_back_what_was_queued_in_order() {
        let mut q = Transmit::default();
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        q.push(3, &[1, 2, 3]);
        let start = q.begin(127);
        Encoder::new(q.buf(), crefs()[3], MessageType::Alerting).cause(&Cause::new(0, 16));
        q.commit(start, 64);
        let start = q.begin(5);
        q.buf().extend_from_slice(&[9; 300]);
        q.cancel(start);
        q.push(7, &[0x55; 300]);
        assert_eq!(q.pop(), Some((3, &[1u8, 2, 3][..])));
        let (tei, m) = q.pop().unwrap();
        assert_eq!((tei, hex(m)), (64, "08 02 12 34 01 08 02 80 90".to_string()));
        assert_eq!(q.pop(), Some((7, &[0x55u8; 300][..])));
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        q.push(1, &[]);
        assert_eq!(q.pop(), Some((1, &[][..])));
    }

    fn hex(o: &[u8]) -> String {
        o.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_call_s_output_goes_to_its_link_or_the_answering_terminals_and_too_long_is_dropped() {
        use crate::isdn::q931::call::Out;
        let mut out = Out { tei: 9, ..Out::default() };
        out.send(crefs()[1], MessageType::Alerting, |_| {});
        out.queue(MessageType::Facility, &[0x08; 261]);
        out.queue(MessageType::Facility, &[0x08; 260]);
        assert_eq!(out.too_long, 1);
        assert_eq!(out.poll_transmit(), Some((9, &[8u8, 1, 0x25, 0x01][..])));
        assert_eq!(out.poll_transmit().map(|(t, m)| (t, m.len())), Some((9, 260)));
        assert_eq!(out.poll_transmit(), None);
        // A broadcast SETUP answered by terminals 3 and 4: SETUP and RELEASE COMPLETE on 127,
        // anything else to each of them, a too-long one counted once per terminal.
        out.tei = 127;
        out.answered = vec![3, 4];
        out.send(crefs()[1], MessageType::Setup, |_| {});
        out.send(crefs()[1], MessageType::Disconnect, |e| e.cause(&Cause::new(2, 16)));
        out.send(crefs()[1], MessageType::ReleaseComplete, |_| {});
        out.queue(MessageType::Facility, &[0x08; 300]);
        let sent: Vec<(u8, u8)> = std::iter::from_fn(|| out.poll_transmit().map(|(t, m)| (t, m[3]))).collect();
        assert_eq!(sent, [(127, 0x05), (3, 0x45), (4, 0x45), (127, 0x5a)]);
        assert_eq!(out.too_long, 3);
    }
}
