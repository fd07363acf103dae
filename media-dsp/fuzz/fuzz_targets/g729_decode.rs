//! Fuzz target: the G.729A decoder on arbitrary 10-byte frames, each with its own erasure flag;
//! nothing may panic, whatever the bitstream says, and decoding is a pure function of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_dsp::g729::{Decoder, FRAME_BYTES, L_FRAME};

/// Decodes `data` as records of one flag byte (odd: the frame is lost) and one 10-byte frame.
fn decode_all(data: &[u8]) -> Vec<[i16; L_FRAME]> {
    let mut dec = Decoder::new();
    let mut pcm = Vec::new();
    for record in data.chunks_exact(1 + FRAME_BYTES) {
        let (&flag, frame) = record.split_first().expect("records are 11 bytes");
        let frame: &[u8; FRAME_BYTES] = frame.try_into().expect("10 bytes after the flag");
        let mut out = [0i16; L_FRAME];
        dec.decode(if flag & 1 == 1 { None } else { Some(frame) }, &mut out);
        pcm.push(out);
    }
    pcm
}

fuzz_target!(|data: &[u8]| {
    // A second decoder from scratch must produce the same samples: no state may leak between
    // decoders or depend on anything but the frames.
    assert_eq!(decode_all(data), decode_all(data));
});
