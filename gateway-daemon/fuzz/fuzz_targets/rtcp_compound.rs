//! Fuzz target: the RTCP compound parser, and a session's RTCP input. Any datagram is refused or
//! parsed without a panic; what parses emits a compound that parses to the same packets.
#![no_main]

use std::time::Instant;

use gateway_daemon::rtp::rtcp;
use gateway_daemon::rtp::session::{Config, RtpSession};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let cfg = Config {
        payload_type: 8,
        clock_rate: 8000,
        symmetric: true,
        remote: Some("192.0.2.1:4000".parse().unwrap()),
        remote_rtcp: None,
        cname: "fuzz".into(),
        ntp_at_start: 1 << 40,
    };
    let mut s = RtpSession::new(cfg, now, 7);
    let _ = s.handle_rtcp(now, "192.0.2.1:4001".parse().unwrap(), data);
    while s.poll_event().is_some() {}
    let Ok(pkts) = rtcp::parse_compound(data) else { return };
    for p in &pkts {
        let _ = p.to_string();
    }
    let mut out = Vec::new();
    rtcp::emit_compound(&pkts, &mut out);
    let again = rtcp::parse_compound(&out).expect("emitted RTCP parses");
    assert_eq!(again.len(), pkts.len());
});
