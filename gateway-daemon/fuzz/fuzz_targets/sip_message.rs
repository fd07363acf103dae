//! Fuzz target: the SIP message parser. Any datagram is refused or parsed without a panic;
//! what parses serialises to bytes that parse to the same message, its typed headers read
//! without a panic, and a refused request offered for a 400 builds one.
#![no_main]

use gateway_daemon::sip::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Message::parse(data) {
        Ok(m) => {
            let _ = m.to_string();
            let again = Message::parse(&m.to_bytes()).expect("a serialised message parses");
            assert_eq!(again, m);
            let _ = (m.vias(), m.contacts(), m.from(), m.to(), m.cseq(), m.max_forwards());
            let _ = (m.q850_reason(), m.auth("www-authenticate"), m.routes("record-route"));
        }
        Err(e) => {
            let _ = e.to_string();
            if let Some(req) = e.answerable() {
                let resp = Message::response_to(req, 400, "Bad Request");
                let _ = resp.to_bytes();
            }
        }
    }
});
