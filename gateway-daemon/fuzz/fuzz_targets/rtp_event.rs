//! Fuzz target: the RFC 4733 payload parser and the receiver. The input is a list of
//! (timestamp, payload) records; nothing may panic, every digit end follows its start, and no
//! digit is reported twice in a row without its end.
#![no_main]

use std::time::{Duration, Instant};

use gateway_daemon::rtp::event::{DigitEvent, EventPayload, EventReceiver};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let mut r = EventReceiver::new();
    let mut open: Option<u8> = None;
    for (i, rec) in data.chunks_exact(7).enumerate() {
        let ts = u32::from(u16::from_be_bytes([rec[0], rec[1]])) * 0x101;
        let Some(p) = EventPayload::parse(&rec[2..6]) else { continue };
        assert_eq!(p.to_bytes()[0], rec[2]);
        let now = t0 + Duration::from_millis(u64::try_from(i).unwrap_or(0) * u64::from(rec[6]));
        r.handle_packet(now, ts, p);
        r.handle_timeout(now);
        while let Some(e) = r.poll_event() {
            match e {
                DigitEvent::Start { event } => {
                    assert!(open.is_none(), "start of {event} while another is open");
                    open = Some(event);
                }
                DigitEvent::End { event, .. } => assert_eq!(open.take(), Some(event)),
            }
        }
    }
});
