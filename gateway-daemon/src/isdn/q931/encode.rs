//! Messages written straight into the octets layer 2 carries: the header, then each element from
//! the caller's own fields, with no [`Ie`](super::ie::Ie) values built and no scratch buffer.
//!
//! This is how call control sends the messages of a call's life (SETUP, its answers, clearing):
//! the encoder writes in place at the end of Q.931's transmit queue ([`Transmit`]), where layer 2
//! then borrows the message from. The octets are exactly those
//! [`Message::emit`](super::message::Message::emit) gives for the same message (the tests below
//! hold the two to that).

use super::ie::{id, BearerCapability, Cause, PartyNumber, Progress};
use super::message::{CallRef, MessageType, PROTOCOL_DISCRIMINATOR};

/// The longest contents an element's length octet can state; longer ones are cut, as `emit` does.
const MAX_CONTENTS: usize = 255;

/// One message being written at the end of a buffer.
pub(crate) struct Encoder<'a> {
    buf: &'a mut Vec<u8>,
    /// Where the message starts in `buf` (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    start: usize,
}

impl<'a> Encoder<'a> {
    /// Starts a message at the end of `buf` with its protocol discriminator, call reference and
    /// message type.
    #[inline]
    pub(crate) fn new(buf: &'a mut Vec<u8>, call_ref: CallRef, msg_type: MessageType) -> Encoder<'a> {
        let start = buf.len();
        let flag = if call_ref.flag { 0x80 } else { 0 };
        let mt = msg_type.octet();
        match call_ref.len {
            0 => buf.extend_from_slice(&[PROTOCOL_DISCRIMINATOR, 0, mt]),
            1 => {
                buf.extend_from_slice(&[PROTOCOL_DISCRIMINATOR, 1, flag | (call_ref.value & 0x7f).to_be_bytes()[1], mt])
            }
            len => {
                let [hi, lo] = call_ref.value.to_be_bytes();
                buf.extend_from_slice(&[PROTOCOL_DISCRIMINATOR, len, flag | (hi & 0x7f), lo, mt]);
            }
        }
        Encoder { buf, start }
    }

    /// The message written so far.
    #[cfg(test)]
    pub(crate) fn octets(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    #[inline]
    fn put(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    #[inline]
    fn put_byte(&mut self, octet: u8) {
        self.buf.push(octet);
    }

    /// Appends octets with their eighth bit cleared (IA5 digits).
    #[inline]
    fn put_masked(&mut self, data: &[u8]) {
        self.buf.extend(data.iter().map(|o| o & 0x7f));
    }

    /// A variable-length element whose contents are `parts` one after the other, cut at 255.
    fn element(&mut self, ie_id: u8, parts: &[&[u8]]) {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut room = total.min(MAX_CONTENTS);
        self.put(&[ie_id, u8::try_from(room).unwrap_or(u8::MAX)]);
        for p in parts {
            let n = p.len().min(room);
            self.put(&p[..n]);
            room -= n;
        }
    }

    /// A single-octet element (sending complete, shift ...).
    #[inline]
    pub(crate) fn single(&mut self, octet: u8) {
        self.put(&[octet]);
    }

    /// Sending complete (§4.5.27).
    #[inline]
    pub(crate) fn sending_complete(&mut self) {
        self.single(id::SENDING_COMPLETE);
    }

    /// Channel identification naming one B-channel (what `ChannelId::channel` builds): on a
    /// primary rate interface by its number in octet 3.3, on a basic one in octet 3's selection.
    #[inline]
    pub(crate) fn channel(&mut self, primary: bool, channel: u8, exclusive: bool) {
        let excl = u8::from(exclusive) << 3;
        if primary {
            self.put(&[id::CHANNEL_ID, 3, 0xa1 | excl, 0x83, 0x80 | (channel & 0x7f)]);
        } else {
            let sel = match channel {
                1 => 1,
                2 => 2,
                _ => 3,
            };
            self.put(&[id::CHANNEL_ID, 1, 0x80 | excl | sel]);
        }
    }

    /// Cause (§4.5.12).
    #[inline]
    pub(crate) fn cause(&mut self, c: &Cause) {
        let o3 = (c.coding & 3) << 5 | (c.location & 0x0f);
        let o4 = 0x80 | (c.value & 0x7f);
        match (c.recommendation, c.diagnostics.is_empty()) {
            (None, true) => self.put(&[id::CAUSE, 2, 0x80 | o3, o4]),
            (None, false) => self.element(id::CAUSE, &[&[0x80 | o3, o4], &c.diagnostics]),
            (Some(r), _) => self.element(id::CAUSE, &[&[o3, 0x80 | (r & 0x7f), o4], &c.diagnostics]),
        }
    }

    /// Progress indicator (§4.5.23).
    #[inline]
    pub(crate) fn progress(&mut self, p: &Progress) {
        self.put(&[id::PROGRESS, 2, 0x80 | (p.coding & 3) << 5 | (p.location & 0x0f), 0x80 | (p.description & 0x7f)]);
    }

    /// Bearer capability (§4.5.5).
    pub(crate) fn bearer(&mut self, bc: &BearerCapability) {
        let o3 = 0x80 | (bc.coding & 3) << 5 | (bc.capability & 0x1f);
        let o4 = 0x80 | (bc.mode & 3) << 5 | (bc.rate & 0x1f);
        match (bc.multiplier, bc.layer1) {
            // A telephone call's bearer: octets 3, 4 and 5, nothing verbatim.
            (None, Some(l1)) if bc.layer1_extra.is_empty() && bc.rest.is_empty() => {
                self.put(&[id::BEARER_CAPABILITY, 3, o3, o4, 0xa0 | (l1 & 0x1f)]);
            }
            _ => {
                let mut head = [o3, o4, 0, 0];
                let mut n = 2;
                if let Some(m) = bc.multiplier {
                    head[n] = 0x80 | (m & 0x7f);
                    n += 1;
                }
                if let Some(l1) = bc.layer1 {
                    let ext = if bc.layer1_extra.is_empty() { 0x80 } else { 0 };
                    head[n] = ext | 0x20 | (l1 & 0x1f);
                    n += 1;
                }
                let extra: &[u8] = if bc.layer1.is_some() { &bc.layer1_extra } else { &[] };
                self.element(id::BEARER_CAPABILITY, &[&head[..n], extra, &bc.rest]);
            }
        }
    }

    /// A party number (calling, called, connected, redirecting: §4.5.7, §4.5.9) under `ie_id`.
    /// Each digit keeps its low seven bits (the gateway's text may be more than IA5).
    pub(crate) fn number(&mut self, ie_id: u8, n: &PartyNumber) {
        let more = n.presentation.is_some() || n.reason.is_some();
        let mut head = [0u8; 3];
        head[0] = if more { 0 } else { 0x80 } | (n.ton & 7) << 4 | (n.plan & 0x0f);
        let mut h = 1;
        if more {
            let (p, s) = n.presentation.unwrap_or((0, 0));
            let ext = if n.reason.is_some() { 0 } else { 0x80 };
            head[h] = ext | (p & 3) << 5 | (s & 3);
            h += 1;
        }
        if let Some(r) = n.reason {
            head[h] = 0x80 | (r & 0x0f);
            h += 1;
        }
        let digits = n.digits.as_bytes();
        match u8::try_from(h + digits.len()) {
            Ok(len) => {
                self.put(&[ie_id, len]);
                for &o in &head[..h] {
                    self.put_byte(o);
                }
                self.put_masked(digits);
            }
            Err(_) => {
                // More than an element's length octet states: cut at 255, as `emit` does.
                let masked: Vec<u8> = digits.iter().map(|b| b & 0x7f).collect();
                self.element(ie_id, &[&head[..h], &masked]);
            }
        }
    }
}

/// Q.931's transmit queue: each message written once, in place, after the TEI of its data link
/// and its length (two octets, little-endian), into one buffer reused once drained; layer 2
/// borrows the messages from it.
#[derive(Debug, Default)]
pub(crate) struct Transmit {
    buf: Vec<u8>,
    /// Where the next entry to take starts.
    read: usize,
}

/// The octets before an entry's message: its TEI and its length.
const ENTRY_HEAD: usize = 3;

impl Transmit {
    /// Opens an entry on `tei` at the end of the queue, for a message written into
    /// [`buf`](Self::buf); returns where it starts.
    #[inline]
    pub(crate) fn begin(&mut self, tei: u8) -> usize {
        if self.read == self.buf.len() {
            self.buf.clear();
            self.read = 0;
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(&[tei, 0, 0]);
        start
    }

    /// Where the open entry's message is written.
    #[inline]
    pub(crate) fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The message of the open entry that starts at `start`.
    #[inline]
    pub(crate) fn message(&self, start: usize) -> &[u8] {
        self.buf.get(start + ENTRY_HEAD..).unwrap_or_default()
    }

    /// Closes the entry that starts at `start`, with the TEI it goes to.
    #[inline]
    pub(crate) fn commit(&mut self, start: usize, tei: u8) {
        let len = self.message(start).len();
        let [lo, hi] = u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes();
        if let Some(head) = self.buf.get_mut(start..start + ENTRY_HEAD) {
            head.copy_from_slice(&[tei, lo, hi]);
        }
    }

    /// Takes back the open entry that starts at `start`.
    pub(crate) fn cancel(&mut self, start: usize) {
        self.buf.truncate(start);
    }

    /// Queues a message already encoded.
    pub(crate) fn push(&mut self, tei: u8, octets: &[u8]) {
        let start = self.begin(tei);
        self.buf.extend_from_slice(octets);
        self.commit(start, tei);
    }

    /// Takes the oldest message and its TEI, lent until the queue is next touched.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u8, &[u8])> {
        let &[tei, lo, hi] = self.buf.get(self.read..self.read + ENTRY_HEAD)? else { return None };
        let start = self.read + ENTRY_HEAD;
        let end = start + usize::from(u16::from_le_bytes([lo, hi]));
        let message = self.buf.get(start..end)?;
        self.read = end;
        Some((tei, message))
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.read == self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isdn::q931::ie::{ChannelId, Ie};
    use crate::isdn::q931::message::Message;

    /// The octets `Message::emit` gives for a message of these elements.
    fn emitted(call_ref: CallRef, msg_type: MessageType, ies: Vec<Ie>) -> Vec<u8> {
        let mut m = Message::new(call_ref, msg_type);
        m.ies = ies;
        m.to_bytes()
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
                    assert_eq!(e.octets(), emitted(crefs()[3], MessageType::CallProceeding, vec![ie]));
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
        for c in causes {
            let mut buf = vec![1, 2, 3];
            let mut e = Encoder::new(&mut buf, crefs()[1], MessageType::Disconnect);
            e.cause(&c);
            let p = Progress { coding: 5, location: 0x12, description: 0x88 };
            e.progress(&p);
            let want = emitted(crefs()[1], MessageType::Disconnect, vec![Ie::Cause(c), Ie::Progress(p)]);
            assert_eq!(e.octets(), want);
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
        for bc in &bearers {
            for num in &numbers {
                let mut buf = vec![];
                let mut e = Encoder::new(&mut buf, crefs()[4], MessageType::Setup);
                e.bearer(bc);
                e.channel(true, 5, false);
                e.number(id::CALLING_NUMBER, num);
                e.number(id::CALLED_NUMBER, num);
                e.sending_complete();
                let want = emitted(
                    crefs()[4],
                    MessageType::Setup,
                    vec![
                        Ie::BearerCapability(bc.clone()),
                        Ie::ChannelId(ChannelId::channel(true, 5, false)),
                        Ie::CallingNumber(num.clone()),
                        Ie::CalledNumber(num.clone()),
                        Ie::SendingComplete,
                    ],
                );
                assert_eq!(e.octets(), want);
            }
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
