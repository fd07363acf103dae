//! Messages written straight into the octets layer 2 carries: the header, then each element from
//! the caller's own fields, with no [`Ie`](super::ie::Ie) values built and no scratch buffer.
//!
//! This is how call control sends the messages of a call's life (SETUP, its answers, clearing).
//! The octets are exactly those [`Message::emit`](super::message::Message::emit) gives for the
//! same message (the tests below hold the two to that), and stay inline while they fit
//! [`Octets::INLINE`], which every message of a basic call does.

use super::ie::{id, BearerCapability, Cause, PartyNumber, Progress};
use super::message::{CallRef, MessageType, PROTOCOL_DISCRIMINATOR};
use crate::isdn::octets::Octets;

/// The longest contents an element's length octet can state; longer ones are cut, as `emit` does.
const MAX_CONTENTS: usize = 255;

/// One message being encoded: on the stack while it fits an inline [`Octets`], which every
/// message of a basic call does, then on the heap.
pub(crate) struct Encoder {
    buf: [u8; Octets::INLINE],
    /// The octets written to `buf`; past its end once the message has moved to `heap`.
    len: usize,
    heap: Vec<u8>,
}

impl Encoder {
    /// Starts a message with its protocol discriminator, call reference and message type.
    #[inline]
    pub(crate) fn new(call_ref: CallRef, msg_type: MessageType) -> Encoder {
        let mut e = Encoder { buf: [0; Octets::INLINE], len: 0, heap: Vec::new() };
        let flag = if call_ref.flag { 0x80 } else { 0 };
        let mt = msg_type.octet();
        match call_ref.len {
            0 => e.put(&[PROTOCOL_DISCRIMINATOR, 0, mt]),
            1 => e.put(&[PROTOCOL_DISCRIMINATOR, 1, flag | (call_ref.value & 0x7f).to_be_bytes()[1], mt]),
            len => {
                let [hi, lo] = call_ref.value.to_be_bytes();
                e.put(&[PROTOCOL_DISCRIMINATOR, len, flag | (hi & 0x7f), lo, mt]);
            }
        }
        e
    }

    /// Appends octets.
    #[inline]
    fn put(&mut self, data: &[u8]) {
        let end = self.len + data.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(data);
                self.len = end;
            }
            None => self.spill(data),
        }
    }

    /// Appends one octet.
    #[inline]
    fn put_byte(&mut self, octet: u8) {
        match self.buf.get_mut(self.len) {
            Some(dst) => {
                *dst = octet;
                self.len += 1;
            }
            None => self.spill(&[octet]),
        }
    }

    /// Appends octets with their eighth bit cleared (IA5 digits).
    #[inline]
    fn put_masked(&mut self, data: &[u8]) {
        let end = self.len + data.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                for (d, &o) in dst.iter_mut().zip(data) {
                    *d = o & 0x7f;
                }
                self.len = end;
            }
            None => {
                for &o in data {
                    self.put_byte(o & 0x7f);
                }
            }
        }
    }

    /// Appends octets that no longer fit the inline buffer.
    #[cold]
    fn spill(&mut self, data: &[u8]) {
        if self.len <= self.buf.len() {
            self.heap.reserve(2 * self.buf.len());
            self.heap.extend_from_slice(&self.buf[..self.len]);
            // Past the buffer for good: every later `put` comes here.
            self.len = usize::MAX / 2;
        }
        self.heap.extend_from_slice(data);
    }

    /// The message's octets, lent.
    #[inline]
    pub(crate) fn octets(&self) -> &[u8] {
        match self.buf.get(..self.len) {
            Some(octets) => octets,
            None => &self.heap,
        }
    }

    /// The message's octets, kept.
    #[inline]
    pub(crate) fn finish(self) -> Octets {
        match self.buf.get(..self.len) {
            Some(octets) => Octets::from_slice(octets),
            None => Octets::from(self.heap),
        }
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
                let e = Encoder::new(cref, mt).finish();
                assert_eq!(e, emitted(cref, mt, vec![]), "{cref} {mt}");
            }
        }
    }

    #[test]
    fn channels_match_emit() {
        for primary in [false, true] {
            for ch in [0, 1, 2, 3, 15, 17, 31, 0x90] {
                for exclusive in [false, true] {
                    let mut e = Encoder::new(crefs()[3], MessageType::CallProceeding);
                    e.channel(primary, ch, exclusive);
                    let ie = Ie::ChannelId(ChannelId::channel(primary, ch, exclusive));
                    assert_eq!(e.finish(), emitted(crefs()[3], MessageType::CallProceeding, vec![ie]));
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
            let mut e = Encoder::new(crefs()[1], MessageType::Disconnect);
            e.cause(&c);
            let p = Progress { coding: 5, location: 0x12, description: 0x88 };
            e.progress(&p);
            let want = emitted(crefs()[1], MessageType::Disconnect, vec![Ie::Cause(c), Ie::Progress(p)]);
            assert_eq!(e.finish(), want);
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
                let mut e = Encoder::new(crefs()[4], MessageType::Setup);
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
                assert_eq!(e.finish(), want);
            }
        }
    }
}
