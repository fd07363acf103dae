//! Fuzz target: the Q.931 message and information element parser. Any octets parse or are
//! refused without a panic; a message that parses prints a trace, and emitting it parses back to
//! the same message (emit is the inverse of parse on every field parse keeps). Every entity, in
//! either role, takes the octets without panicking and answers only with messages that parse.
#![no_main]

use std::time::Instant;

use gateway_daemon::isdn::q931::{Ie, Message, Q931Config, Side, Q931};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Message::parse(data) {
        let _ = msg.to_string();
        let emitted = msg.to_bytes();
        let again = Message::parse(&emitted).expect("an emitted message parses");
        assert_eq!(again, msg);
        assert_eq!(again.to_bytes(), emitted);
    }
    // One element on its own, identifier and codeset from the first octets.
    if let [codeset, ie_id, rest @ ..] = data {
        let ie = Ie::parse_variable(codeset & 7, ie_id & 0x7f, rest);
        let _ = ie.to_string();
        let mut out = Vec::new();
        ie.emit(&mut out);
    }
    let now = Instant::now();
    for config in [
        Q931Config::pri(Side::User),
        Q931Config::pri(Side::Network),
        Q931Config::bri(Side::User, true),
        Q931Config::bri(Side::Network, true),
    ] {
        let mut q = Q931::new(config);
        q.handle_dl_data(now, 0, data);
        q.handle_dl_data(now, 127, data);
        while let Some((_, out)) = q.poll_transmit() {
            assert!(Message::parse(&out).is_ok(), "{out:02x?}");
        }
        while q.poll_event().is_some() {}
    }
});
