//! Fuzz target: the HTTP API's request parser. Any path, query and body is either a command or a
//! refusal with a 4xx status; it never panics.
#![no_main]

use gateway_daemon::http::parse_command;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First line: path; second: query; the rest: body.
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default().to_vec();
    if let Err((status, msg)) = parse_command(&path, &query, body) {
        assert!((400..500).contains(&status), "{status} {msg}");
        assert!(!msg.is_empty());
    }
});
