//! Fuzz target: the `[[route]]` number pattern parser and matcher. Any text parses or gives an
//! error inside the text, never a panic; a parsed pattern matches any number without panicking,
//! reads back the same from its text, and a number that cannot match stays unmatchable however
//! many digits follow (what lets overlap receiving refuse early).
#![no_main]

use libfuzzer_sys::fuzz_target;
use provisioning::{Fit, NumberMatch};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The pattern is the first line, the numbers to match the following ones.
    let mut lines = text.split('\n');
    let pattern = lines.next().unwrap_or_default();
    match NumberMatch::parse(pattern) {
        Err(e) => assert!(e.offset <= pattern.len() && !e.message.is_empty()),
        Ok(m) => {
            assert_eq!(NumberMatch::parse(m.as_str()).as_ref(), Ok(&m));
            for number in lines {
                let fit = m.fit(number);
                assert_eq!(m.matches(number), matches!(fit, Fit::Full { .. }));
                if fit == Fit::No {
                    for d in ["0", "9", "*", "#", "+", "00"] {
                        assert_eq!(m.fit(&format!("{number}{d}")), Fit::No, "{pattern} {number}{d}");
                    }
                }
            }
        }
    }
});
