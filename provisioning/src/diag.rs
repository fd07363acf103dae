//! Diagnostics: one problem in a config file, with its position and the field it is about.

use std::fmt;
use std::ops::Range;

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name as given by the caller.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// Dotted path of the field, e.g. `board.span[1].dchan` (`[N]` is the 0-based array index).
    pub field: String,
    /// What is wrong, and where it helps, what would be right. Never contains a newline.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file, self.line, self.col, self.field, self.message)
    }
}

/// Every problem found in a config file, sorted by position. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no problem at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, sorted by line then column.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Collects diagnostics for one file, turning byte offsets into lines and columns.
pub(crate) struct Sink<'t> {
    file: String,
    text: &'t str,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    diags: Vec<Diagnostic>,
}

impl<'t> Sink<'t> {
    pub(crate) fn new(file: &str, text: &'t str) -> Sink<'t> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Sink { file: file.to_string(), text, line_starts, diags: Vec::new() }
    }

    /// The text being checked.
    pub(crate) fn text(&self) -> &'t str {
        self.text
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = match self.text.get(start..offset) {
            Some(s) => s.chars().count(),
            // Not on a character boundary (an error span inside a multi-byte character).
            None => offset - start,
        };
        (line, col + 1)
    }

    /// Records a problem at `at` (the start of the span; the top of the file when unknown).
    pub(crate) fn error(&mut self, at: Option<Range<usize>>, field: &str, message: impl Into<String>) {
        let (line, col) = self.line_col(at.map_or(0, |r| r.start));
        let message: String = message.into();
        // A message is one line of output: `spangate check` and scripts rely on it.
        let message =
            message.split(['\n', '\r']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; ");
        let d = Diagnostic { file: self.file.clone(), line, col, field: field.to_string(), message };
        if !self.diags.contains(&d) {
            self.diags.push(d);
        }
    }

    /// Whether any problem has been recorded.
    pub(crate) fn has_errors(&self) -> bool {
        !self.diags.is_empty()
    }

    /// The diagnostics, sorted by line then column (stable for equal positions).
    pub(crate) fn finish(mut self) -> Diagnostics {
        self.diags.sort_by_key(|d| (d.line, d.col));
        Diagnostics(self.diags)
    }
}

/// Levenshtein distance between two short strings, in characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest of `candidates` to `word`, if it is within an edit distance of 2.
pub(crate) fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `; did you mean `x`?` when something close exists, else nothing.
pub(crate) fn did_you_mean<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> String {
    match closest(word, candidates) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_in_characters() {
        let s = Sink::new("f", "ab\ncdé = 1\n\nx");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(3), (2, 1));
        assert_eq!(s.line_col(7), (2, 4)); // after the two-byte é
        assert_eq!(s.line_col(12), (3, 1));
        assert_eq!(s.line_col(13), (4, 1));
        assert_eq!(s.line_col(999), (4, 2));
    }

    #[test]
    fn display_is_file_line_col_field_message() {
        let mut s = Sink::new("a.toml", "x = 1\ny = 2\n");
        s.error(Some(6..7), "y", "bad\nvery bad");
        s.error(Some(0..1), "x", "worse");
        let d = s.finish();
        assert_eq!(d.to_string(), "a.toml:1:1: x: worse\na.toml:2:1: y: bad; very bad");
    }

    #[test]
    fn suggestions_need_distance_two_or_less() {
        assert_eq!(edit_distance("timming", "timing"), 1);
        assert_eq!(closest("timming", ["timing", "termination"]), Some("timing"));
        assert_eq!(closest("zzzzzz", ["timing"]), None);
    }
}
