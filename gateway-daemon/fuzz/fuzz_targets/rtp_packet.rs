//! Fuzz target: the RTP header parser. Any datagram is refused or parsed without a panic; what
//! parses emits bytes that parse to the same fields, and its trace line renders.
#![no_main]

use gateway_daemon::rtp::packet::RtpRepr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = RtpRepr::parse(data) else { return };
    let _ = r.to_string();
    let bytes = r.to_bytes();
    let again = RtpRepr::parse(&bytes).expect("emitted RTP parses");
    assert_eq!(again.payload, r.payload);
    assert_eq!(
        (again.sequence, again.timestamp, again.ssrc, again.marker),
        (r.sequence, r.timestamp, r.ssrc, r.marker)
    );
    assert_eq!(again.csrcs, r.csrcs);
});
