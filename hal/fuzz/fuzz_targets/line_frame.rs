//! Fuzz target: the cross-process cable's datagram parser. Any input either fails cleanly or
//! decodes to a frame whose re-encoding is the same datagram.
#![no_main]

use hal::sim::frame::{LineFrame, WIRE_HEADER, WIRE_MAX};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut f = LineFrame::default();
    if let Ok(seq) = f.decode(data) {
        let len = data.len() - WIRE_HEADER;
        let mut out = [0u8; WIRE_MAX];
        let n = f.encode(seq, len, &mut out);
        assert_eq!(&out[..n], data);
    }
});
