//! The I queue of one data link: each layer 3 message kept once, from its DL-DATA-request until
//! the peer acknowledges it, with room for its I frame header in front.
//!
//! Sending a frame does not copy it: the transmit queue gets a reference (the header written
//! then, the link and where the frame is, see [`IRef`]), and the entity's `poll_transmit` writes
//! that header into the room in front of the message and lends the frame from here. So a frame
//! the window lets out waits for `poll_transmit` where it already is, and a retransmission after
//! T200 or REJ sends it again from the same place.
//!
//! The buffer is reused from its front only while no reference is waiting in the transmit queue
//! (the caller says so when it queues a message): an acknowledged or discarded frame's octets
//! stay until then, so every reference always finds the frame it was made for.

/// Each entry: the message's length (two octets, little-endian), the four header octets, the
/// message.
const ENTRY_HEAD: usize = 2;
/// Address and control field of an I frame (modulo 128).
pub(crate) const HEADER: usize = 4;

/// Once acknowledged frames take this many octets at the front, a reuse moves the rest down.
const COMPACT_AT: usize = 4096;

/// The I frames of one data link: the first `V(S) − V(A)` are sent and unacknowledged (the first
/// has N(S) = V(A)), the rest wait for the window.
#[derive(Debug, Default)]
pub(crate) struct IQueue {
    /// The entries up to `end`; past it, room for the next without the vector growing.
    buf: Vec<u8>,
    end: usize,
    /// Where the entry with N(S) = V(A) (the oldest unacknowledged) starts.
    ack: usize,
    /// Where the entry with N(S) = V(S) (the next to send) starts.
    next: usize,
    len: usize,
}

impl IQueue {
    /// Frames sent and unacknowledged, or waiting.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Queues a message. `reuse`: no reference into this queue waits in the transmit queue, so
    /// the octets of frames already acknowledged may be overwritten.
    #[inline]
    pub(crate) fn push(&mut self, message: &[u8], reuse: bool) {
        if reuse && self.ack != 0 {
            self.reclaim();
        }
        // The entity refuses messages longer than N201 (at most 260 octets).
        let [lo, hi] = u16::try_from(message.len()).unwrap_or(u16::MAX).to_le_bytes();
        let start = self.end;
        let end = start + ENTRY_HEAD + HEADER + message.len();
        if self.buf.len() < end {
            self.grow(end);
        }
        if let Some(entry) = self.buf.get_mut(start..end) {
            let (head, rest) = entry.split_at_mut(ENTRY_HEAD + HEADER);
            head[..ENTRY_HEAD].copy_from_slice(&[lo, hi]);
            rest.copy_from_slice(message);
            self.end = end;
            self.len += 1;
        }
    }

    /// Makes room up to `end`: at least doubles, so that a growing queue reallocates rarely.
    #[cold]
    fn grow(&mut self, end: usize) {
        self.buf.resize(end.max(2 * self.buf.len()).max(256), 0);
    }

    /// Gives back the room of acknowledged frames: all of it once the queue is empty, else when
    /// it has grown large (a link whose queue never empties).
    #[inline]
    fn reclaim(&mut self) {
        if self.ack == self.end {
            self.ack = 0;
            self.next = 0;
            self.end = 0;
        } else if self.ack >= COMPACT_AT {
            self.buf.copy_within(self.ack..self.end, 0);
            self.next -= self.ack;
            self.end -= self.ack;
            self.ack = 0;
        }
    }

    /// The length of the message of the entry at `at`.
    #[inline]
    fn message_len(&self, at: usize) -> usize {
        match self.buf.get(at..at + ENTRY_HEAD) {
            Some(&[lo, hi]) => usize::from(u16::from_le_bytes([lo, hi])),
            _ => 0,
        }
    }

    /// Drops the oldest frame (acknowledged); false when there is none.
    // Always inlined: every received I frame and RR acknowledges through it.
    #[inline(always)]
    pub(crate) fn pop_front(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        self.ack += ENTRY_HEAD + HEADER + self.message_len(self.ack);
        self.next = self.next.max(self.ack);
        self.len -= 1;
        true
    }

    /// Drops every frame sent (N(R) = V(S)), `sent` = V(S) − V(A) of them: the next to send
    /// becomes the oldest unacknowledged at once, without walking the entries one by one as
    /// [`pop_front`](Self::pop_front) does.
    // Always inlined: nearly every received I frame and RR acknowledges everything sent.
    #[inline(always)]
    pub(crate) fn pop_sent(&mut self, sent: usize) {
        debug_assert_eq!(self.entry_after(self.ack, sent), self.next, "{sent} frames sent");
        self.ack = self.next;
        self.len -= sent;
    }

    /// Where the entry `n` entries after the one at `at` starts (for the check in `pop_sent`).
    fn entry_after(&self, at: usize, n: usize) -> usize {
        (0..n).fold(at, |at, _| at + ENTRY_HEAD + HEADER + self.message_len(at))
    }

    /// V(S) := V(A): the unacknowledged frames are sent again.
    #[inline]
    pub(crate) fn rewind(&mut self) {
        self.next = self.ack;
    }

    /// Whether a frame waits beyond V(S).
    #[inline]
    pub(crate) fn waiting(&self) -> bool {
        self.next < self.end
    }

    /// The frame with N(S) = V(S), now sent: where its header goes (for [`lend`](Self::lend)).
    #[inline]
    pub(crate) fn take_next(&mut self) -> usize {
        let at = self.next;
        self.next += ENTRY_HEAD + HEADER + self.message_len(at);
        at + ENTRY_HEAD
    }

    /// Discards every frame. Their octets stay until the next reuse.
    pub(crate) fn clear(&mut self) {
        self.ack = self.end;
        self.next = self.ack;
        self.len = 0;
    }

    /// The frame a reference names, with its header written in front of the message.
    #[inline]
    pub(crate) fn lend(&mut self, frame: IRef) -> &[u8] {
        let (at, header) = (usize::try_from(frame.at).unwrap_or(usize::MAX), frame.header);
        let end = at + HEADER + at.checked_sub(ENTRY_HEAD).map_or(0, |e| self.message_len(e));
        match self.buf.get_mut(at..end) {
            Some(frame) => {
                frame[..HEADER].copy_from_slice(&header);
                frame
            }
            None => &[],
        }
    }
}

/// What the transmit queue holds for a sent I frame (its entry tagged with the link's id): its
/// header as it was when sent and where the frame is in that link's [`IQueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IRef {
    pub(crate) header: [u8; HEADER],
    pub(crate) at: u32,
}

impl IRef {
    #[inline]
    pub(crate) fn to_octets(self) -> [u8; 8] {
        let [h0, h1, h2, h3] = self.header;
        let [a0, a1, a2, a3] = self.at.to_le_bytes();
        [h0, h1, h2, h3, a0, a1, a2, a3]
    }

    #[inline]
    pub(crate) fn parse(octets: &[u8]) -> Option<IRef> {
        let &[h0, h1, h2, h3, a0, a1, a2, a3] = octets else { return None };
        Some(IRef { header: [h0, h1, h2, h3], at: u32::from_le_bytes([a0, a1, a2, a3]) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lend(q: &mut IQueue, at: usize, ns: u8) -> Vec<u8> {
        q.lend(IRef { header: [0, 1, ns << 1, 0], at: u32::try_from(at).unwrap() }).to_vec()
    }

    #[test]
    fn frames_are_sent_acknowledged_and_sent_again_from_where_they_are() {
        let mut q = IQueue::default();
        q.push(&[0xa1; 3], true);
        q.push(&[], true);
        q.push(&[0xa3; 300], true);
        assert_eq!(q.len(), 3);
        let first = q.take_next();
        let second = q.take_next();
        assert_eq!(lend(&mut q, first, 0), [0, 1, 0, 0, 0xa1, 0xa1, 0xa1]);
        assert_eq!(lend(&mut q, second, 1), [0, 1, 2, 0]);
        assert!(q.waiting());
        // The first is acknowledged; REJ sends the second again, then the third goes.
        assert!(q.pop_front());
        q.rewind();
        assert_eq!(q.take_next(), second);
        let third = q.take_next();
        assert!(!q.waiting());
        assert_eq!(lend(&mut q, third, 2).len(), HEADER + 300);
        assert!(q.pop_front() && q.pop_front());
        assert_eq!(q.len(), 0);
        assert!(!q.pop_front());
        // Not reused while a reference may wait: the octets are still there.
        q.push(&[7], false);
        assert_eq!(lend(&mut q, second, 1), [0, 1, 2, 0]);
        let capacity = q.buf.capacity();
        q.clear();
        q.push(&[8], true);
        assert_eq!((q.end, q.buf.capacity()), (ENTRY_HEAD + HEADER + 1, capacity));
        let at = q.take_next();
        assert_eq!(lend(&mut q, at, 0), [0, 1, 0, 0, 8]);
    }

    #[test]
    fn acknowledging_every_frame_sent_leaves_those_waiting() {
        let mut q = IQueue::default();
        for octet in 1..=3 {
            q.push(&[octet; 5], true);
        }
        q.take_next();
        q.take_next();
        q.pop_sent(2);
        assert_eq!((q.len(), q.waiting()), (1, true));
        let at = q.take_next();
        assert_eq!(lend(&mut q, at, 2), [0, 1, 4, 0, 3, 3, 3, 3, 3]);
        q.pop_sent(1);
        assert_eq!((q.len(), q.waiting()), (0, false));
        // Nothing outstanding: nothing changes.
        q.pop_sent(0);
        assert_eq!(q.len(), 0);
        q.push(&[4], true);
        assert_eq!(q.end, ENTRY_HEAD + HEADER + 1);
    }

    #[test]
    fn a_queue_that_never_empties_is_compacted() {
        let mut q = IQueue::default();
        for i in 0..1000u32 {
            q.push(&i.to_le_bytes(), true);
            let at = q.take_next();
            assert_eq!(lend(&mut q, at, 0)[HEADER..], i.to_le_bytes());
            if i > 0 {
                assert!(q.pop_front());
            }
        }
        assert!(q.end < COMPACT_AT + 20 && q.buf.len() <= 2 * COMPACT_AT, "{} {}", q.end, q.buf.len());
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn references_round_trip() {
        let r = IRef { header: [1, 2, 3, 4], at: 0x0102_0304 };
        assert_eq!(IRef::parse(&r.to_octets()), Some(r));
        assert_eq!(IRef::parse(&[1, 2, 3]), None);
    }
}
