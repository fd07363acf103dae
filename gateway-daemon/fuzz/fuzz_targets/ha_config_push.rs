//! Fuzz target: HA config pushes. Any body with any tag header is refused or opened without a
//! panic; a push sealed under the key always opens to itself, and under another key never does.
#![no_main]

use gateway_daemon::ha::replica::{Push, PushError};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzz-key-0123456789";

fuzz_target!(|data: &[u8]| {
    // The first 64 bytes stand for the header value, the rest for the body.
    let (tag, body) = data.split_at(data.len().min(64));
    let tag = String::from_utf8_lossy(tag);
    let _ = Push::open(body, Some(&tag), KEY);
    let _ = Push::open(body, None, KEY);
    let text = String::from_utf8_lossy(body).into_owned();
    let push = Push { from: text.chars().take(16).collect(), revision: u64::try_from(data.len()).unwrap_or(0), config: text };
    let (sealed, tag) = push.seal(KEY);
    assert_eq!(Push::open(&sealed, Some(&tag), KEY), Ok(push));
    assert_eq!(Push::open(&sealed, Some(&tag), b"another-key-0123456"), Err(PushError::Authentication));
});
