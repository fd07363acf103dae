//! DAHDI configuration files: parsers for `system.conf`, `chan_dahdi.conf` / `dahdi-channels.conf`
//! and `/etc/dahdi/modules`, and the import/export between them and a spangate config.
//!
//! Every parser takes the file's name and text, never panics, and reports every problem it finds
//! as `file:line: message` ([`Diagnostics`]), not only the first. What parses but has no spangate
//! equivalent is not an error: the import says so in a [`Notice`], also by file and line.

use std::fmt;

pub mod chan_dahdi;
pub mod export;
pub mod import;
pub mod modules;
pub mod system_conf;

pub use export::export;
pub use import::{import, Input};

/// A place in a config file: its name as given to the parser and a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub file: String,
    pub line: usize,
}

impl Loc {
    pub fn new(file: &str, line: usize) -> Loc {
        Loc { file: file.to_string(), line }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One problem in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    pub at: Loc,
    pub message: String,
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Every problem found in the input files, in the order found (file by file, line by line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<ConfError>);

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfError> {
        self.0.iter()
    }

    pub(crate) fn push(&mut self, at: Loc, message: impl Into<String>) {
        self.0.push(ConfError { at, message: message.into() });
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a ConfError;
    type IntoIter = std::slice::Iter<'a, ConfError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Something the import read but could not carry into the spangate config, or a choice it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Where the setting was read; `None` for choices not tied to one line (e.g. a missing file).
    pub at: Option<Loc>,
    pub message: String,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Formats channel numbers as DAHDI channel lists: `1-15,17-31`.
pub fn format_chanlist(chans: impl IntoIterator<Item = u32>) -> String {
    let mut v: Vec<u32> = chans.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < v.len() {
        let start = v[i];
        let mut end = start;
        while i + 1 < v.len() && v[i + 1] == end + 1 {
            i += 1;
            end = v[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}-{end}"));
        }
        i += 1;
    }
    out
}

/// C's `%d` in `sscanf`: leading white space, an optional sign, at least one digit; whatever
/// follows is ignored (`5abc` reads as 5). Out-of-range values saturate instead of wrapping, which
/// keeps every later range check meaningful.
pub(crate) fn scan_int(s: &str) -> Option<i64> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits[..n].bytes() {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    // `%d` stores an int: clamp to its range like glibc's conversion does on overflow.
    let v = v.min(i64::from(i32::MAX) + 1);
    Some(if neg { -v } else { v.min(i64::from(i32::MAX)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chanlists_compress_ranges() {
        assert_eq!(format_chanlist([1, 2, 3, 5, 17, 16, 31]), "1-3,5,16-17,31");
        assert_eq!(format_chanlist([]), "");
        assert_eq!(format_chanlist([7]), "7");
    }

    #[test]
    fn scan_int_reads_like_sscanf() {
        assert_eq!(scan_int("5abc"), Some(5));
        assert_eq!(scan_int("  -3"), Some(-3));
        assert_eq!(scan_int("x"), None);
        assert_eq!(scan_int(""), None);
        assert_eq!(scan_int("-"), None);
        assert_eq!(scan_int("99999999999999999999"), Some(i64::from(i32::MAX)));
    }
}
