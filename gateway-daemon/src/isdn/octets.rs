//! Small octet strings held inline: how frames and Q.931 messages travel through the ISDN stack
//! without a heap allocation per frame.
//!
//! The frames of a call's life are short: the longest of a basic call is the SETUP, about 35
//! octets with its LAPD header, and acknowledgements are 4. [`Octets`] keeps up to
//! [`Octets::INLINE`] octets in place and only longer ones (up to N201 = 260 for the information
//! field) on the heap, so the common frame costs a 48-octet move where a `Vec` costs an
//! allocation and a free, and a long one costs what a `Vec` did. It dereferences to `[u8]`, so
//! code that reads frames does not see the difference.

use std::fmt;
use std::ops::Deref;

/// Inline capacity: with the length octet and the discriminant the value is 48 octets, the
/// size at which moves stay a few vector instructions.
const INLINE: usize = 46;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Vec<u8>),
}

/// An octet string, inline when short.
#[derive(Clone)]
pub struct Octets {
    repr: Repr,
}

impl Octets {
    /// The longest string held without allocating.
    pub const INLINE: usize = INLINE;

    pub const fn new() -> Octets {
        Octets { repr: Repr::Inline { len: 0, buf: [0; INLINE] } }
    }

    /// A copy of `data`.
    #[inline]
    pub fn from_slice(data: &[u8]) -> Octets {
        Octets::from_parts(&[], data)
    }

    /// `head` followed by `tail` (a frame's header and information field).
    #[inline]
    pub fn from_parts(head: &[u8], tail: &[u8]) -> Octets {
        let len = head.len() + tail.len();
        match u8::try_from(len) {
            Ok(n) if len <= INLINE => {
                let mut buf = [0; INLINE];
                buf[..head.len()].copy_from_slice(head);
                buf[head.len()..len].copy_from_slice(tail);
                Octets { repr: Repr::Inline { len: n, buf } }
            }
            _ => {
                let mut v = Vec::with_capacity(len);
                v.extend_from_slice(head);
                v.extend_from_slice(tail);
                Octets { repr: Repr::Heap(v) }
            }
        }
    }

    /// Appends `data`, moving to the heap when it no longer fits inline.
    #[inline]
    pub fn extend_from_slice(&mut self, data: &[u8]) {
        match &mut self.repr {
            Repr::Inline { len, buf } => {
                let start = usize::from(*len);
                let end = start + data.len();
                match (buf.get_mut(start..end), u8::try_from(end)) {
                    (Some(dst), Ok(new_len)) => {
                        dst.copy_from_slice(data);
                        *len = new_len;
                    }
                    _ => {
                        let mut v = Vec::with_capacity(end.max(2 * INLINE));
                        v.extend_from_slice(&buf[..start]);
                        v.extend_from_slice(data);
                        self.repr = Repr::Heap(v);
                    }
                }
            }
            Repr::Heap(v) => v.extend_from_slice(data),
        }
    }

    /// Appends one octet.
    pub fn push(&mut self, octet: u8) {
        self.extend_from_slice(&[octet]);
    }

    /// Empties the string, keeping a heap buffer for reuse.
    pub fn clear(&mut self) {
        match &mut self.repr {
            Repr::Inline { len, .. } => *len = 0,
            Repr::Heap(v) => v.clear(),
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.repr {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Heap(v) => v,
        }
    }
}

impl Default for Octets {
    fn default() -> Octets {
        Octets::new()
    }
}

impl Deref for Octets {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Octets {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for Octets {
    fn from(data: &[u8]) -> Octets {
        Octets::from_slice(data)
    }
}

impl From<Vec<u8>> for Octets {
    fn from(data: Vec<u8>) -> Octets {
        if data.len() <= INLINE {
            Octets::from_slice(&data)
        } else {
            Octets { repr: Repr::Heap(data) }
        }
    }
}

impl<const M: usize> PartialEq<[u8; M]> for Octets {
    fn eq(&self, other: &[u8; M]) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq for Octets {
    fn eq(&self, other: &Octets) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Octets {}

impl PartialEq<[u8]> for Octets {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<Vec<u8>> for Octets {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<Octets> for Vec<u8> {
    fn eq(&self, other: &Octets) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl fmt::Debug for Octets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

/// Where the frame encoder writes: a `Vec` or [`Octets`].
pub trait OctetSink {
    fn put(&mut self, octet: u8);
    fn put_slice(&mut self, data: &[u8]);
}

impl OctetSink for Vec<u8> {
    fn put(&mut self, octet: u8) {
        self.push(octet);
    }

    fn put_slice(&mut self, data: &[u8]) {
        self.extend_from_slice(data);
    }
}

impl OctetSink for Octets {
    fn put(&mut self, octet: u8) {
        self.push(octet);
    }

    fn put_slice(&mut self, data: &[u8]) {
        self.extend_from_slice(data);
    }
}

/// Frames waiting to be sent, one after another in one buffer, each behind its length.
///
/// A frame is written once, header and information field in place, and lent out when taken, so
/// that queueing and draining move no octet string around. The buffer grows to the largest
/// batch its owner lets pile up, then is reused from the start whenever it has been drained: no
/// allocation once it has grown.
#[derive(Debug, Default)]
pub struct FrameQueue {
    buf: Vec<u8>,
    /// Where the length of the next frame to take is.
    read: usize,
}

impl FrameQueue {
    pub const fn new() -> FrameQueue {
        FrameQueue { buf: Vec::new(), read: 0 }
    }

    /// Queues the frame `head` followed by `tail` (a header and an information field). A frame
    /// longer than 65535 octets, which LAPD never sends (N201 is at most 260), is cut there.
    #[inline]
    pub fn push_parts(&mut self, head: &[u8], tail: &[u8]) {
        if self.read == self.buf.len() {
            self.buf.clear();
            self.read = 0;
        }
        const MAX: usize = u16::MAX as usize;
        let head = head.get(..MAX).unwrap_or(head);
        let tail = tail.get(..MAX - head.len()).unwrap_or(tail);
        let len = u16::try_from(head.len() + tail.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(head);
        self.buf.extend_from_slice(tail);
    }

    /// Queues one frame.
    pub fn push(&mut self, frame: &[u8]) {
        self.push_parts(frame, &[]);
    }

    /// Takes the oldest frame, lent until the queue is next touched.
    #[inline]
    pub fn pop(&mut self) -> Option<&[u8]> {
        let start = self.read + 2;
        let len = match self.buf.get(self.read..start) {
            Some(&[lo, hi]) => usize::from(u16::from_le_bytes([lo, hi])),
            _ => return None,
        };
        let frame = self.buf.get(start..start + len)?;
        self.read = start + len;
        Some(frame)
    }

    pub fn is_empty(&self) -> bool {
        self.read == self.buf.len()
    }

    /// Drops every queued frame.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.read = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_stay_inline_and_long_ones_move_to_the_heap_intact() {
        let mut o = Octets::from_slice(&[1, 2]);
        o.extend_from_slice(&[3; INLINE - 2]);
        assert!(matches!(o.repr, Repr::Inline { .. }));
        assert_eq!(o.len(), INLINE);
        o.push(9);
        assert!(matches!(o.repr, Repr::Heap(_)));
        let mut want = vec![1, 2];
        want.extend_from_slice(&[3; INLINE - 2]);
        want.push(9);
        assert_eq!(o, want);
        let long: Vec<u8> = (0..260u32).map(|b| u8::try_from(b % 256).unwrap()).collect();
        assert_eq!(Octets::from_slice(&long), long);
        o.clear();
        assert!(o.is_empty());
        assert_eq!(o, Octets::new());
    }

    #[test]
    fn compares_by_contents_only() {
        let mut a = Octets::from_slice(&[9; 60]);
        a.clear();
        a.push(7);
        assert_eq!(a, Octets::from_slice(&[7]));
        assert_eq!(a, vec![7u8]);
        assert_eq!(format!("{a:?}"), "[7]");
        assert!(std::mem::size_of::<Octets>() <= 48);
    }

    #[test]
    fn frame_queue_lends_frames_in_order_and_reuses_its_buffer() {
        let mut q = FrameQueue::new();
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        q.push_parts(&[1, 2], &[3]);
        q.push(&[]);
        q.push(&[9; 300]);
        assert_eq!(q.pop(), Some(&[1u8, 2, 3][..]));
        assert_eq!(q.pop(), Some(&[][..]));
        assert!(!q.is_empty());
        assert_eq!(q.pop(), Some(&[9u8; 300][..]));
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        let capacity = q.buf.capacity();
        q.push(&[4, 5]);
        assert_eq!(q.buf.len(), 4, "a drained queue starts again at the front");
        assert_eq!(q.buf.capacity(), capacity);
        q.clear();
        assert_eq!(q.pop(), None);
        q.push_parts(&[7; 4], &[8; 70_000]);
        assert_eq!(q.pop().map(<[u8]>::len), Some(65_535));
    }
}
