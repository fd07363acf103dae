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

/// Frames or messages waiting to be sent, one after another in one buffer, each behind a tag
/// octet and its length (two octets, little-endian): Q.921's transmit queue (whole frames, the
/// tag unused) and Q.931's (the tag is the TEI of the message's data link).
///
/// An entry is written once, in place (whole with [`push`](Self::push), or opened with
/// [`begin`](Self::begin), written through [`buf`](Self::buf) and closed with
/// [`commit`](Self::commit)), and lent out when taken, so that queueing and draining move no
/// octet string around. The buffer grows to the largest batch its owner lets pile up, then is
/// reused from the start whenever it has been drained: no allocation once it has grown.
#[derive(Debug, Default)]
pub struct FrameQueue {
    /// The entries from `read` to `end`. Past `end` the octets are stale: room the next entry
    /// is written into without the vector growing (`push_parts` writes into the slice; an entry
    /// opened with `begin` is appended, the vector cut back to `end` first).
    buf: Vec<u8>,
    /// Where the next entry to take starts.
    read: usize,
    /// Where the queued entries end.
    end: usize,
}

/// The octets before an entry's contents: its tag and its length.
const ENTRY_HEAD: usize = 3;

/// The longest entry: what the length octets state. LAPD never comes near it (N201 is at most
/// 260); a longer entry is cut there.
const ENTRY_MAX: usize = u16::MAX as usize;

impl FrameQueue {
    pub const fn new() -> FrameQueue {
        FrameQueue { buf: Vec::new(), read: 0, end: 0 }
    }

    /// Starts again at the front once everything queued has been taken.
    #[inline(always)]
    fn reuse(&mut self) {
        if self.read == self.end {
            self.read = 0;
            self.end = 0;
        }
    }

    /// Opens an entry tagged `tag` at the end of the queue, for contents appended to
    /// [`buf`](Self::buf); returns where it starts. Nothing else may be queued until it is
    /// closed by [`commit`](Self::commit) or taken back by [`cancel`](Self::cancel).
    #[inline]
    pub fn begin(&mut self, tag: u8) -> usize {
        self.reuse();
        let start = self.end;
        self.buf.truncate(start);
        self.buf.extend_from_slice(&[tag, 0, 0]);
        start
    }

    /// [`begin`](Self::begin), with the first `len` octets of `first` (a Q.931 message's header,
    /// whose length depends on its call reference) written with the entry's head in one go.
    #[inline]
    pub fn begin_with(&mut self, tag: u8, first: [u8; 5], len: usize) -> usize {
        self.reuse();
        let start = self.end;
        self.buf.truncate(start);
        let [a, b, c, d, e] = first;
        self.buf.extend_from_slice(&[tag, 0, 0, a, b, c, d, e]);
        self.buf.truncate(start + ENTRY_HEAD + len.min(first.len()));
        start
    }

    /// Where the open entry's contents are written (appended).
    #[inline]
    pub fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The contents of the open entry that starts at `start`.
    #[inline]
    pub fn contents(&self, start: usize) -> &[u8] {
        self.buf.get(start + ENTRY_HEAD..).unwrap_or_default()
    }

    /// Closes the entry that starts at `start`, with its tag (which may differ from the one it
    /// was opened with).
    #[inline]
    pub fn commit(&mut self, start: usize, tag: u8) {
        if !self.commit_within(start, tag, ENTRY_MAX) {
            self.commit_cut(start, tag);
        }
    }

    /// [`commit`](Self::commit) when the contents are at most `max` octets (Q.931's N201);
    /// otherwise the entry stays open and the answer is false. The length is measured once,
    /// for the check and the entry's head.
    #[inline]
    pub fn commit_within(&mut self, start: usize, tag: u8, max: usize) -> bool {
        let end = self.buf.len();
        let Some(len) = end.checked_sub(start + ENTRY_HEAD).filter(|&l| l <= max.min(ENTRY_MAX)) else {
            return false;
        };
        let [lo, hi] = u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes();
        let Some(head) = self.buf.get_mut(start..start + ENTRY_HEAD) else { return false };
        head.copy_from_slice(&[tag, lo, hi]);
        self.end = end;
        true
    }

    /// `commit` of an entry longer than its length octets state: it is cut there.
    #[cold]
    fn commit_cut(&mut self, start: usize, tag: u8) {
        self.buf.truncate(start + ENTRY_HEAD + ENTRY_MAX);
        self.commit_within(start, tag, ENTRY_MAX);
    }

    /// Takes back the open entry that starts at `start`.
    pub fn cancel(&mut self, start: usize) {
        self.buf.truncate(start);
        self.end = start;
    }

    /// Queues `head` followed by `tail` (a frame's header and information field) as one entry.
    // Always inlined: the callers' headers are arrays, whose copies then need no call.
    #[inline(always)]
    pub fn push_parts(&mut self, tag: u8, head: &[u8], tail: &[u8]) {
        let len = head.len() + tail.len();
        if len > ENTRY_MAX {
            return self.push_cut(tag, head, tail);
        }
        self.reuse();
        let start = self.end;
        let contents = start + ENTRY_HEAD;
        let end = contents + len;
        if self.buf.len() < end {
            self.grow(end);
        }
        let [lo, hi] = u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes();
        if let Some(entry) = self.buf.get_mut(start..end) {
            let (entry_head, rest) = entry.split_at_mut(ENTRY_HEAD);
            let (dst_head, dst_tail) = rest.split_at_mut(head.len());
            entry_head.copy_from_slice(&[tag, lo, hi]);
            dst_head.copy_from_slice(head);
            dst_tail.copy_from_slice(tail);
            self.end = end;
        }
    }

    /// Makes room up to `end`: at least doubles, so that a growing queue reallocates rarely.
    #[cold]
    fn grow(&mut self, end: usize) {
        self.buf.resize(end.max(2 * self.buf.len()).max(64), 0);
    }

    /// `push_parts` of an entry longer than its length octets state: it is cut there.
    #[cold]
    fn push_cut(&mut self, tag: u8, head: &[u8], tail: &[u8]) {
        let start = self.begin(tag);
        self.buf.extend_from_slice(head);
        self.buf.extend_from_slice(tail);
        self.commit_cut(start, tag);
    }

    /// Queues one entry.
    #[inline(always)]
    pub fn push(&mut self, tag: u8, octets: &[u8]) {
        self.push_parts(tag, octets, &[]);
    }

    /// Takes the oldest entry and its tag, lent until the queue is next touched.
    #[inline]
    pub fn pop(&mut self) -> Option<(u8, &[u8])> {
        if self.read == self.end {
            return None;
        }
        let &[tag, lo, hi] = self.buf.get(self.read..self.read + ENTRY_HEAD)? else { return None };
        let start = self.read + ENTRY_HEAD;
        let end = start + usize::from(u16::from_le_bytes([lo, hi]));
        let contents = self.buf.get(start..end)?;
        self.read = end;
        Some((tag, contents))
    }

    /// The tag of the oldest entry.
    #[inline]
    pub fn peek_tag(&self) -> Option<u8> {
        if self.read == self.end {
            return None;
        }
        self.buf.get(self.read).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.read == self.end
    }

    /// Drops every queued entry.
    pub fn clear(&mut self) {
        self.read = 0;
        self.end = 0;
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
    fn frame_queue_lends_entries_in_order_and_reuses_its_buffer() {
        let mut q = FrameQueue::new();
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        q.push_parts(3, &[1, 2], &[3]);
        q.push(0, &[]);
        let start = q.begin(127);
        q.buf().extend_from_slice(&[8, 9]);
        assert_eq!(q.contents(start), [8, 9]);
        q.commit(start, 64);
        let start = q.begin(5);
        q.buf().extend_from_slice(&[9; 300]);
        q.cancel(start);
        q.push(7, &[9; 300]);
        let start = q.begin_with(8, [1, 2, 3, 4, 5], 3);
        q.buf().push(6);
        q.commit(start, 8);
        assert_eq!(q.peek_tag(), Some(3));
        assert_eq!(q.pop(), Some((3, &[1u8, 2, 3][..])));
        assert_eq!(q.pop(), Some((0, &[][..])));
        assert_eq!(q.pop(), Some((64, &[8u8, 9][..])));
        assert!(!q.is_empty());
        assert_eq!(q.pop(), Some((7, &[9u8; 300][..])));
        assert_eq!(q.pop(), Some((8, &[1u8, 2, 3, 6][..])));
        assert!(q.is_empty());
        assert_eq!(q.peek_tag(), None);
        assert_eq!(q.pop(), None);
        let capacity = q.buf.capacity();
        q.push(1, &[4, 5]);
        assert_eq!(q.end, 5, "a drained queue starts again at the front");
        assert_eq!(q.buf.capacity(), capacity);
        // Entries written whole and in place, mixed.
        let start = q.begin(9);
        q.buf().push(1);
        q.commit(start, 9);
        q.push(2, &[3; 100]);
        q.push(4, &[]);
        assert_eq!(q.pop(), Some((1, &[4u8, 5][..])));
        assert_eq!(q.pop(), Some((9, &[1u8][..])));
        assert_eq!(q.pop(), Some((2, &[3u8; 100][..])));
        assert_eq!(q.pop(), Some((4, &[][..])));
        assert_eq!(q.pop(), None);
        q.clear();
        assert_eq!(q.pop(), None);
        q.push_parts(2, &[7; 4], &[8; 70_000]);
        q.push(4, &[6]);
        assert_eq!(q.pop().map(|(t, e)| (t, e.len())), Some((2, 65_535)));
        assert_eq!(q.pop(), Some((4, &[6u8][..])), "a cut entry leaves the next one intact");
    }
}
