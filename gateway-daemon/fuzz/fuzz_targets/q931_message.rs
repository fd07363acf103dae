//! Fuzz target: the Q.931 message and information element parser. Any octets parse or are
//! refused without a panic; a message that parses prints a trace, and emitting it parses back to
//! the same message (emit is the inverse of parse on every field parse keeps), and the receive
//! path's `MessageView` of the octets answers as the parsed message does. Every entity, in
//! either role, takes the octets without panicking and answers only with messages that parse.
#![no_main]

use std::time::Instant;

use gateway_daemon::isdn::q931::{Ie, Message, MessageView, Q931Config, Side, Q931};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The receive path's view reads the octets as the parser does.
    let view = MessageView::parse(data);
    assert_eq!(view.as_ref().err(), Message::parse(data).as_ref().err());
    if let Ok(msg) = Message::parse(data) {
        let view = view.expect("the view takes what the parser takes");
        assert_eq!(view.to_message(), msg);
        assert_eq!(view.cause().as_ref(), msg.cause());
        assert_eq!(view.cause_value(), msg.cause().map(|c| c.value));
        assert_eq!(view.channel_id().as_ref(), msg.channel_id());
        assert_eq!(view.called().as_ref(), msg.called());
        assert_eq!(view.calling().as_ref(), msg.calling());
        assert_eq!(view.call_state(), msg.call_state());
        assert_eq!(view.sending_complete(), msg.sending_complete());
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
