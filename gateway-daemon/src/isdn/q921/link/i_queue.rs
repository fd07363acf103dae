//! The I queue of one data link: each layer 3 message kept once, from its DL-DATA-request until
//! the peer acknowledges it, so that a retransmission after T200 or REJ finds it.
//!
//! Sending a frame copies its message, behind the header of that moment, into the entity's
//! transmit queue, which `poll_transmit` lends it from like any other frame: a frame taken from
//! there is whole, and the message here stays as it was for the next retransmission. A message
//! the window lets out at once (every call's) is written into both places from the request.

/// Each entry: the message's length (two octets, little-endian), the message.
const ENTRY_HEAD: usize = 2;

/// Once acknowledged frames take this many octets at the front, a push moves the rest down.
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

    /// Queues a message, to wait for the window.
    #[inline(always)]
    pub(crate) fn push(&mut self, message: &[u8]) {
        if self.ack != 0 {
            self.reclaim();
        }
        // The entity refuses messages longer than N201 (at most 260 octets).
        let [lo, hi] = u16::try_from(message.len()).unwrap_or(u16::MAX).to_le_bytes();
        let start = self.end;
        let end = start + ENTRY_HEAD + message.len();
        if self.buf.len() < end {
            self.grow(end);
        }
        if let Some(entry) = self.buf.get_mut(start..end) {
            let (head, rest) = entry.split_at_mut(ENTRY_HEAD);
            head.copy_from_slice(&[lo, hi]);
            rest.copy_from_slice(message);
            self.end = end;
            self.len += 1;
        }
    }

    /// Queues a message that is sent at once (its caller sends it from its own copy): only
    /// when none [waits](Self::waiting), so that it is the one with N(S) = V(S).
    #[inline(always)]
    pub(crate) fn push_sent(&mut self, message: &[u8]) {
        debug_assert!(!self.waiting(), "a message sent at once would overtake one waiting");
        self.push(message);
        self.next = self.end;
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
        self.ack += ENTRY_HEAD + self.message_len(self.ack);
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
        (0..n).fold(at, |at, _| at + ENTRY_HEAD + self.message_len(at))
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

    /// The message of the frame with N(S) = V(S), now sent.
    #[inline]
    pub(crate) fn take_next(&mut self) -> &[u8] {
        let start = self.next + ENTRY_HEAD;
        let end = start + self.message_len(self.next);
        self.next = end;
        self.buf.get(start..end).unwrap_or_default()
    }

    /// Discards every frame.
    pub(crate) fn clear(&mut self) {
        self.ack = self.end;
        self.next = self.ack;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_sent_acknowledged_and_sent_again_from_where_they_are() {
        let mut q = IQueue::default();
        q.push(&[0xa1; 3]);
        q.push(&[]);
        q.push(&[0xa3; 300]);
        assert_eq!(q.len(), 3);
        assert_eq!(q.take_next(), [0xa1; 3]);
        assert!(q.take_next().is_empty());
        assert!(q.waiting());
        // The first is acknowledged; REJ sends the second again, then the third goes.
        assert!(q.pop_front());
        q.rewind();
        assert!(q.take_next().is_empty());
        assert_eq!(q.take_next(), [0xa3; 300]);
        assert!(!q.waiting());
        assert!(q.pop_front() && q.pop_front());
        assert_eq!(q.len(), 0);
        assert!(!q.pop_front());
        // A message sent at once is counted sent; the room of acknowledged ones is reused.
        let capacity = q.buf.capacity();
        q.push_sent(&[7]);
        assert_eq!((q.end, q.buf.capacity()), (ENTRY_HEAD + 1, capacity));
        assert!(!q.waiting());
        q.rewind();
        assert_eq!(q.take_next(), [7]);
        q.clear();
        assert_eq!(q.len(), 0);
        q.push(&[8]);
        assert_eq!(q.end, ENTRY_HEAD + 1);
        assert_eq!(q.take_next(), [8]);
    }

    #[test]
    fn acknowledging_every_frame_sent_leaves_those_waiting() {
        let mut q = IQueue::default();
        for octet in 1..=3 {
            q.push(&[octet; 5]);
        }
        q.take_next();
        q.take_next();
        q.pop_sent(2);
        assert_eq!((q.len(), q.waiting()), (1, true));
        assert_eq!(q.take_next(), [3; 5]);
        q.pop_sent(1);
        assert_eq!((q.len(), q.waiting()), (0, false));
        // Nothing outstanding: nothing changes.
        q.pop_sent(0);
        assert_eq!(q.len(), 0);
        q.push(&[4]);
        assert_eq!(q.end, ENTRY_HEAD + 1);
    }

    #[test]
    fn a_queue_that_never_empties_is_compacted() {
        let mut q = IQueue::default();
        for i in 0..1000u32 {
            q.push(&i.to_le_bytes());
            assert_eq!(q.take_next(), i.to_le_bytes());
            if i > 0 {
                assert!(q.pop_front());
            }
        }
        assert!(q.end < COMPACT_AT + 20 && q.buf.len() <= 2 * COMPACT_AT, "{} {}", q.end, q.buf.len());
        assert_eq!(q.len(), 1);
    }
}
