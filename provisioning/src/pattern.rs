//! Number patterns of `[[route]]`: a plain prefix (`"0033"`) or an Asterisk-style pattern
//! (`"_0[1-9]XXXXXXXX"`, `"_00."`, `"_3XX!"`), parsed once and matched against the digits
//! received so far, with the answer overlap receiving needs ("could match with more digits").
//!
//! Pattern syntax, after the leading `_` (as Asterisk's dialplan has it, case-insensitive):
//!
//! | element | matches |
//! |---|---|
//! | `0`-`9`, `*`, `#`, `+` | itself |
//! | `X` | one digit 0-9 |
//! | `Z` | one digit 1-9 |
//! | `N` | one digit 2-9 |
//! | `[15-7]` | one digit from the set: single digits and `a-b` ranges (commas allowed between items) |
//! | `.` | one or more characters of any kind; only last |
//! | `!` | zero or more characters of any kind, and routes at once; only last |
//!
//! A prefix matches every number that starts with it (the empty prefix matches every number).
//! Prefixes and patterns ending in `.` leave the number open: in overlap receiving, a route that
//! could still take more digits makes the router wait for them (or for sending complete or T302);
//! a pattern ending in `!` never waits, which is what `!` is for in Asterisk.
//!
//! Parsing never panics, on any input, and says at which byte a pattern is wrong.

use std::fmt;

/// How a number fits a prefix or pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Neither this number nor any longer one matches.
    No,
    /// Not yet: some longer number starting with these digits would match.
    Partial,
    /// This number matches; `more` says whether a longer one would match too (an open-ended
    /// prefix or `.`), which is what makes overlap receiving wait.
    Full { more: bool },
}

/// One fixed-width element of a pattern: the set of characters it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Elem {
    /// A literal digit, `*`, `#` or `+`.
    Char(u8),
    /// A set of digits, one bit per digit 0..=9.
    Digits(u16),
}

impl Elem {
    fn accepts(&self, c: u8) -> bool {
        match self {
            Elem::Char(x) => *x == c,
            Elem::Digits(set) => c.is_ascii_digit() && set & (1 << (c - b'0')) != 0,
        }
    }
}

/// What may follow the fixed elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Nothing: the number has exactly as many characters as the pattern.
    None,
    /// `.`: one or more characters.
    Dot,
    /// `!`: zero or more characters, matched at once.
    Bang,
}

/// A parsed prefix or pattern, with its text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberMatch {
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Prefix,
    Pattern { elems: Vec<Elem>, tail: Tail },
}

/// Why a pattern does not parse: the byte offset in the text and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for PatternError {}

/// Characters a number may carry literally.
fn dialable(c: u8) -> bool {
    c.is_ascii_digit() || matches!(c, b'*' | b'#' | b'+')
}

fn err(offset: usize, message: impl Into<String>) -> PatternError {
    PatternError { offset, message: message.into() }
}

impl NumberMatch {
    /// Parses a prefix (digits, `*`, `#`, `+`) or, with a leading `_`, a pattern.
    pub fn parse(text: &str) -> Result<NumberMatch, PatternError> {
        let b = text.as_bytes();
        let Some(body) = text.strip_prefix('_') else {
            if let Some(i) = b.iter().position(|c| !dialable(*c)) {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(err(
                    i,
                    format!("`{ch}` is not dialable: a prefix has only digits, *, # and + (start a pattern with `_`)"),
                ));
            }
            return Ok(NumberMatch { text: text.to_string(), kind: Kind::Prefix });
        };
        if body.is_empty() {
            return Err(err(0, "`_` starts a pattern but nothing follows it"));
        }
        let b = body.as_bytes();
        let mut elems = Vec::new();
        let mut tail = Tail::None;
        let mut i = 0;
        while i < b.len() {
            let at = i + 1; // offset in `text`, past the `_`
            if tail != Tail::None {
                let which = if tail == Tail::Dot { '.' } else { '!' };
                return Err(err(at, format!("`{which}` must be the last character of a pattern")));
            }
            match b[i] {
                c if dialable(c) => elems.push(Elem::Char(c)),
                b'X' | b'x' => elems.push(Elem::Digits(0x3ff)),
                b'Z' | b'z' => elems.push(Elem::Digits(0x3fe)),
                b'N' | b'n' => elems.push(Elem::Digits(0x3fc)),
                b'.' => tail = Tail::Dot,
                b'!' => tail = Tail::Bang,
                b'[' => {
                    let (set, next) = class(b, i + 1)?;
                    elems.push(Elem::Digits(set));
                    i = next;
                    continue;
                }
                b']' => return Err(err(at, "`]` without a `[` before it")),
                _ => {
                    let ch = body[i..].chars().next().unwrap_or('?');
                    return Err(err(
                        at,
                        format!("`{ch}` is not a pattern element: use digits, *, #, +, X, Z, N, [..], . or !"),
                    ));
                }
            }
            i += 1;
        }
        Ok(NumberMatch { text: text.to_string(), kind: Kind::Pattern { elems, tail } })
    }

    /// The empty prefix, which matches every number.
    pub fn any() -> NumberMatch {
        NumberMatch { text: String::new(), kind: Kind::Prefix }
    }

    /// The text as written in the config.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for an Asterisk-style pattern, false for a plain prefix.
    pub fn is_pattern(&self) -> bool {
        matches!(self.kind, Kind::Pattern { .. })
    }

    /// How `number` (the digits received so far) fits.
    pub fn fit(&self, number: &str) -> Fit {
        let n = number.as_bytes();
        match &self.kind {
            Kind::Prefix => {
                let p = self.text.as_bytes();
                if n.starts_with(p) {
                    Fit::Full { more: true }
                } else if p.starts_with(n) {
                    Fit::Partial
                } else {
                    Fit::No
                }
            }
            Kind::Pattern { elems, tail } => {
                if elems.iter().zip(n).any(|(e, c)| !e.accepts(*c)) {
                    return Fit::No;
                }
                match (n.len().cmp(&elems.len()), tail) {
                    (std::cmp::Ordering::Less, _) => Fit::Partial,
                    (std::cmp::Ordering::Equal, Tail::None | Tail::Bang) => Fit::Full { more: false },
                    (std::cmp::Ordering::Equal, Tail::Dot) => Fit::Partial,
                    (std::cmp::Ordering::Greater, Tail::None) => Fit::No,
                    (std::cmp::Ordering::Greater, Tail::Dot) => Fit::Full { more: true },
                    (std::cmp::Ordering::Greater, Tail::Bang) => Fit::Full { more: false },
                }
            }
        }
    }

    /// Whether `number`, known to be complete, matches.
    pub fn matches(&self, number: &str) -> bool {
        matches!(self.fit(number), Fit::Full { .. })
    }
}

impl fmt::Display for NumberMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads a `[...]` class whose content starts at `start` in the pattern body; returns the digit
/// set and the index after the `]`. Offsets in errors are in the whole text (past the `_`).
fn class(b: &[u8], start: usize) -> Result<(u16, usize), PatternError> {
    let mut set = 0u16;
    let mut i = start;
    loop {
        let Some(&c) = b.get(i) else {
            return Err(err(start, "`[` is never closed by `]`"));
        };
        match c {
            b']' if set == 0 => return Err(err(i + 1, "an empty `[]` matches nothing")),
            b']' => return Ok((set, i + 1)),
            b',' => i += 1,
            c if c.is_ascii_digit() => {
                if b.get(i + 1) == Some(&b'-') {
                    match b.get(i + 2) {
                        Some(&hi) if hi.is_ascii_digit() && hi >= c => {
                            for d in c..=hi {
                                set |= 1 << (d - b'0');
                            }
                            i += 3;
                        }
                        Some(&hi) if hi.is_ascii_digit() => {
                            return Err(err(
                                i + 1,
                                format!("range `{}-{}` runs backwards", char::from(c), char::from(hi)),
                            ))
                        }
                        _ => return Err(err(i + 3, "a range needs a digit after `-`, as in [1-5]")),
                    }
                } else {
                    set |= 1 << (c - b'0');
                    i += 1;
                }
            }
            _ => {
                return Err(err(i + 1, "a `[..]` set holds only digits and ranges such as [1-5,7]"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case: pattern, number, expected fit (`-` no, `?` partial, `=` full and closed,
    /// `+` full and open).
    #[track_caller]
    fn check(cases: &[(&str, &str, char)]) {
        for (p, n, want) in cases {
            let m = NumberMatch::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            let got = match m.fit(n) {
                Fit::No => '-',
                Fit::Partial => '?',
                Fit::Full { more: false } => '=',
                Fit::Full { more: true } => '+',
            };
            assert_eq!(got, *want, "pattern {p} against `{n}`");
        }
    }

    #[test]
    fn prefixes() {
        check(&[
            ("0033", "0033123", '+'),
            ("0033", "0033", '+'),
            ("0033", "003", '?'),
            ("0033", "", '?'),
            ("0033", "0034", '-'),
            ("0033", "1", '-'),
            ("", "", '+'),
            ("", "12", '+'),
            ("+33", "+331", '+'),
        ]);
    }

    #[test]
    fn fixed_patterns() {
        check(&[
            ("_0[1-9]XXXXXXXX", "0123456789", '='),
            ("_0[1-9]XXXXXXXX", "012345678", '?'),
            ("_0[1-9]XXXXXXXX", "01234567890", '-'),
            ("_0[1-9]XXXXXXXX", "0023456789", '-'),
            ("_0[1-9]XXXXXXXX", "0", '?'),
            ("_0[1-9]XXXXXXXX", "", '?'),
            ("_NXX", "200", '='),
            ("_NXX", "100", '-'),
            ("_ZX", "10", '='),
            ("_ZX", "01", '-'),
            ("_nxx", "299", '='),
            ("_[15-7,9]", "6", '='),
            ("_[15-7,9]", "8", '-'),
            ("_[15-7,9]", "9", '='),
            ("_3XX", "3a1", '-'),
            ("_*8", "*8", '='),
        ]);
    }

    #[test]
    fn open_patterns() {
        check(&[
            ("_00.", "00", '?'),
            ("_00.", "0", '?'),
            ("_00.", "001", '+'),
            ("_00.", "0044123", '+'),
            ("_00.", "01", '-'),
            ("_3XX!", "3", '?'),
            ("_3XX!", "312", '='),
            ("_3XX!", "3125", '='),
            ("_3XX!", "412", '-'),
            ("_!", "", '='),
            ("_.", "", '?'),
            ("_.", "5", '+'),
        ]);
    }

    #[test]
    fn bad_patterns_say_where() {
        let cases: &[(&str, usize, &str)] = &[
            ("01a", 2, "`a` is not dialable"),
            ("_", 0, "`_` starts a pattern"),
            ("_0[1-9", 2, "`[` is never closed"),
            ("_0[]", 3, "an empty `[]`"),
            ("_0[9-1]", 3, "range `9-1` runs backwards"),
            ("_0[1-]", 5, "a range needs a digit"),
            ("_0[a]", 3, "a `[..]` set holds only digits"),
            ("_00.1", 4, "`.` must be the last"),
            ("_0!!", 3, "`!` must be the last"),
            ("_0Y", 2, "`Y` is not a pattern element"),
            ("_0]", 2, "`]` without a `[`"),
            ("_é", 1, "`é` is not a pattern element"),
        ];
        for (p, offset, msg) in cases {
            let e = NumberMatch::parse(p).expect_err(p);
            assert_eq!(e.offset, *offset, "{p}: {e}");
            assert!(e.message.starts_with(msg), "{p}: {e}");
            assert!(e.offset <= p.len());
        }
    }

    #[test]
    fn text_is_kept() {
        let m = NumberMatch::parse("_0[1-9]XXXXXXXX").unwrap();
        assert_eq!((m.as_str(), m.is_pattern()), ("_0[1-9]XXXXXXXX", true));
        assert!(!NumberMatch::parse("0033").unwrap().is_pattern());
        assert!(m.matches("0612345678") && !m.matches("061234567"));
    }

    /// Seeded random patterns and numbers from the characters that matter: parsing never panics,
    /// errors point inside the text, and a number that fits nothing never fits once longer (the
    /// property overlap receiving relies on to refuse early). The fuzz target does the same on
    /// any input.
    #[test]
    fn random_patterns_keep_their_properties() {
        const PAT: &[char] =
            &['0', '1', '5', '9', 'X', 'Z', 'N', 'x', '[', ']', '-', ',', '.', '!', '*', '#', '+', 'a', 'é'];
        const NUM: &[char] = &['0', '1', '2', '5', '9', '*', '#', '+', 'a'];
        let mut seed: u64 = 0x5eed;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap_or(0) % n
        };
        let (mut parsed, mut partial, mut full) = (0, 0, 0);
        for _ in 0..20_000 {
            let len = next(10);
            let mut p: String = if next(4) == 0 { String::new() } else { "_".into() };
            p.extend((0..len).map(|_| PAT[next(PAT.len())]));
            let m = match NumberMatch::parse(&p) {
                Ok(m) => m,
                Err(e) => {
                    assert!(e.offset <= p.len() && !e.message.is_empty(), "{p}: {e}");
                    continue;
                }
            };
            parsed += 1;
            assert_eq!(NumberMatch::parse(m.as_str()).as_ref(), Ok(&m));
            let n: String = (0..next(12)).map(|_| NUM[next(NUM.len())]).collect();
            match m.fit(&n) {
                Fit::No => {
                    for d in NUM {
                        assert_eq!(m.fit(&format!("{n}{d}")), Fit::No, "{p} against {n}{d}");
                    }
                }
                Fit::Partial => partial += 1,
                Fit::Full { .. } => full += 1,
            }
            assert_eq!(m.matches(&n), matches!(m.fit(&n), Fit::Full { .. }));
        }
        // The generator reaches every outcome, so the properties above were really exercised.
        assert!(parsed > 2000 && partial > 100 && full > 100, "{parsed} {partial} {full}");
    }
}
