//! Fuzz target: the Q.921 frame parser. Any octets parse or are refused without a panic, and a
//! frame that parses is emitted again byte for byte (so parse and emit agree on every field).
#![no_main]

use std::time::Instant;

use gateway_daemon::isdn::q921::{FrameRepr, Mode, Q921Config, Role, TeiMessage, Q921};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = FrameRepr::parse(data) {
        assert_eq!(frame.buffer_len(), data.len());
        assert_eq!(frame.to_bytes(), data);
        let _ = frame.to_string();
        let _ = frame.trace(Role::Te).to_string();
        if let Some(msg) = frame.tei_message() {
            let mut again = Vec::new();
            msg.emit(&mut again);
            assert_eq!(again, frame.info);
        }
    }
    if let Ok(msg) = TeiMessage::parse(data) {
        let mut again = Vec::new();
        msg.emit(&mut again);
        assert_eq!(again, data);
    }
    // Whatever arrives, an entity in any role takes it without panicking and answers only with
    // frames that parse.
    let now = Instant::now();
    for config in [
        Q921Config::pri(Role::Te),
        Q921Config::pri(Role::Nt),
        Q921Config::bri(Role::Te, Mode::PointToMultipoint),
        Q921Config::bri(Role::Nt, Mode::PointToMultipoint),
    ] {
        let mut q = Q921::new(config);
        let _ = q.handle_frame(now, data);
        while let Some(out) = q.poll_transmit() {
            assert!(FrameRepr::parse(&out).is_ok(), "{out:02x?}");
        }
    }
});
