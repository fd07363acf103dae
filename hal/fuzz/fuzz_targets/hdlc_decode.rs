//! Feeds arbitrary line octets to the D-channel HDLC decoder and checks every frame it accepts.
//!
//! The decoder must never panic, and a frame it reports as good must be one the encoder can send
//! and the decoder then reads back unchanged: otherwise the two disagree about what a frame is.
#![no_main]

use hal::sim::hdlc::{HdlcDecoder, HdlcEncoder};
use hal::MAX_HDLC_FRAME;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = HdlcDecoder::new();
    let mut good: Vec<Vec<u8>> = Vec::new();
    // Chunks of 8 octets, because that is what a PRI's D timeslot delivers per millisecond.
    for chunk in data.chunks(8) {
        decoder.feed(chunk, &mut |report| {
            if let Ok(frame) = report {
                good.push(frame.to_vec());
            }
        });
    }
    for frame in &good {
        assert!(
            (2..=MAX_HDLC_FRAME).contains(&frame.len()),
            "accepted a frame of {} octets",
            frame.len()
        );
        let mut encoder = HdlcEncoder::new();
        encoder
            .load(frame)
            .expect("a frame the decoder accepted must be loadable");
        let mut decoder = HdlcDecoder::new();
        let mut reports: Vec<Result<Vec<u8>, _>> = Vec::new();
        let mut line = [0u8; 8];
        let mut sink = |report: Result<&[u8], _>| reports.push(report.map(<[u8]>::to_vec));
        // The encoder turns idle as the closing flag starts, so one more tick lets it finish.
        loop {
            let idle = encoder.is_idle();
            encoder.fill(&mut line);
            decoder.feed(&line, &mut sink);
            if idle {
                break;
            }
        }
        assert_eq!(
            reports,
            [Ok(frame.clone())],
            "re-encoding an accepted frame changed it"
        );
    }
});
