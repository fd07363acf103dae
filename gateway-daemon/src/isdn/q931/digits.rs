//! The digits of a party number, held inline: a number crosses call control (parsed from a
//! SETUP, copied into the gateway's event, placed by a request) without a heap allocation.
//!
//! E.164 numbers have at most 15 digits, and with an international prefix and a few more for a
//! private plan they still fit [`Digits::INLINE`]; a longer number (the coding allows up to what
//! an I frame carries) goes to the heap, so nothing is cut off. The digits are the text they were
//! given as: IA5 when parsed (checked by the parser), any `str` when the gateway supplies them.

use std::fmt;
use std::ops::Deref;

/// Inline capacity: with the length octet and the discriminant the value is 24 octets, the size
/// of the `String` it replaces.
const INLINE: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<str>),
}

/// A party number's digits, inline when short.
#[derive(Clone)]
pub struct Digits {
    repr: Repr,
}

impl Digits {
    /// The longest number held without allocating.
    pub const INLINE: usize = INLINE;

    pub const fn new() -> Digits {
        Digits { repr: Repr::Inline { len: 0, buf: [0; INLINE] } }
    }

    /// The octets of a parsed number, which the parser checked to be below 0x80 (ASCII, so valid
    /// UTF-8 as they stand); anything else gives no digits, as `from_utf8` did before.
    pub fn from_ascii(octets: &[u8]) -> Digits {
        // ASCII is UTF-8 as it stands: copied without the UTF-8 decoder's walk.
        let ascii = if octets.is_ascii() { Digits::inline(octets) } else { None };
        ascii.unwrap_or_else(|| std::str::from_utf8(octets).map_or_else(|_| Digits::new(), Digits::from))
    }

    /// `text` (valid UTF-8: `from_ascii` and `From<&str>` are the callers) held inline, when it
    /// fits.
    #[inline]
    fn inline(text: &[u8]) -> Option<Digits> {
        let len = u8::try_from(text.len()).ok().filter(|&l| usize::from(l) <= INLINE)?;
        let mut buf = [0; INLINE];
        buf[..text.len()].copy_from_slice(text);
        Some(Digits { repr: Repr::Inline { len, buf } })
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.repr {
            // Only ever filled from a whole `str` (see `From<&str>`), so always valid UTF-8.
            Repr::Inline { len, buf } => std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or_default(),
            Repr::Heap(s) => s,
        }
    }

    /// The whole inline buffer of a number held inline (its digits first, then octets past
    /// [`len`](str::len) that mean nothing): what an encoder copies at a fixed size.
    #[inline]
    pub(crate) fn inline_block(&self) -> Option<&[u8; INLINE]> {
        match &self.repr {
            Repr::Inline { buf, .. } => Some(buf),
            Repr::Heap(_) => None,
        }
    }

    /// The octets, without the UTF-8 check `as_str` makes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.repr {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Heap(s) => s.as_bytes(),
        }
    }
}

impl Default for Digits {
    fn default() -> Digits {
        Digits::new()
    }
}

impl From<&str> for Digits {
    #[inline]
    fn from(s: &str) -> Digits {
        Digits::inline(s.as_bytes()).unwrap_or_else(|| Digits { repr: Repr::Heap(s.into()) })
    }
}

impl From<String> for Digits {
    fn from(s: String) -> Digits {
        Digits::from(s.as_str())
    }
}

impl From<Digits> for String {
    fn from(d: Digits) -> String {
        d.as_str().to_owned()
    }
}

impl Deref for Digits {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Digits {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Digits {
    fn eq(&self, other: &Digits) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Digits {}

impl PartialEq<str> for Digits {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Digits {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Digits {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers_stay_inline_and_long_ones_move_to_the_heap_intact() {
        let d = Digits::from("00442079460000");
        assert!(matches!(d.repr, Repr::Inline { .. }));
        assert_eq!(d, "00442079460000");
        let full = "1".repeat(INLINE);
        assert!(matches!(Digits::from(full.as_str()).repr, Repr::Inline { .. }));
        let long = "1234567890".repeat(25);
        let d = Digits::from(long.as_str());
        assert!(matches!(d.repr, Repr::Heap(_)));
        assert_eq!(d.as_str(), long);
        assert_eq!(String::from(d.clone()), long);
        assert_eq!(Digits::from_ascii(long.as_bytes()), d);
        assert!(std::mem::size_of::<Digits>() <= std::mem::size_of::<String>());
    }

    #[test]
    fn compares_prints_and_reads_like_the_string_it_holds() {
        let d = Digits::from("5678");
        assert_eq!(format!("{d} {d:?}"), "5678 \"5678\"");
        assert_eq!(d.len(), 4);
        assert_ne!(d, Digits::from("567"));
        assert_eq!(Digits::from_ascii(b"*#12"), "*#12");
        // Not ASCII: no digits, as the parser's `from_utf8` gave before.
        assert_eq!(Digits::from_ascii(&[0x31, 0xff]), "");
        // A gateway-supplied number is kept as the text it is, UTF-8 and all.
        assert_eq!(Digits::from("1é2").as_str(), "1é2");
        assert!(Digits::default().is_empty());
    }
}
