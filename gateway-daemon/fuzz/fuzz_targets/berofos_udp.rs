//! Fuzz target: the berofos GBL4 codec and the simulated device's UDP side. Any datagram is
//! refused or parsed without a panic; what parses emits to a datagram that parses to the same
//! value; the device answers only with datagrams that parse as replies.
#![no_main]

use std::time::Instant;

use gateway_daemon::berofos::sim::{Device, SimConfig};
use gateway_daemon::berofos::udp::{Packet, Reply, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Packet::new_checked(data) {
        let _ = p.command().to_string();
        if let Ok(req) = Request::parse(&p) {
            let _ = req.to_string();
            let again = req.emit();
            assert_eq!(Request::parse(&Packet::new_checked(&again).unwrap()).unwrap(), req);
        }
        if let Ok(reply) = Reply::parse(&p) {
            let _ = reply.to_string();
            let again = reply.emit();
            assert_eq!(Reply::parse(&Packet::new_checked(&again).unwrap()).unwrap(), reply);
        }
    }
    let now = Instant::now();
    let mut device = Device::new(SimConfig::default(), now);
    // The datagram as sent, and once more with its checksum fixed so the parser goes deeper.
    let mut fixed = data.to_vec();
    if let Some((last, body)) = fixed.split_last_mut() {
        *last = body.iter().fold(0, |a, b| a ^ b);
    }
    for d in [data, &fixed[..]] {
        if let Some(out) = device.handle_udp(now, d) {
            assert!(Reply::parse(&Packet::new_checked(&out).unwrap()).is_ok(), "{out:02x?}");
        }
    }
});
