//! Fuzz target: the SDP parser and offer/answer. Any body is refused or parsed without a
//! panic; what parses emits text that parses again and is stable from then on; answering it
//! never panics and a successful answer parses as SDP.
#![no_main]

use gateway_daemon::sip::offer_answer::{answer, CodecPrefs, LocalMedia};
use gateway_daemon::sip::sdp::{Direction, SessionDescription};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sd) = SessionDescription::parse(data) else { return };
    let _ = sd.to_string();
    let once = SessionDescription::parse(&sd.to_bytes()).expect("emitted SDP parses");
    assert_eq!(SessionDescription::parse(&once.to_bytes()).expect("stable"), once);
    let local = LocalMedia {
        addr: "192.0.2.1".parse().unwrap(),
        port: 30000,
        session_id: 1,
        session_version: 1,
        direction: Direction::SendRecv,
    };
    if let Ok((ans, _)) = answer(&sd, &CodecPrefs::default(), &local) {
        SessionDescription::parse(&ans.to_bytes()).expect("our answer parses");
    }
});
