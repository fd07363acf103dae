//! Fuzz target: the G.729A encoder on arbitrary PCM (s16le, whole 10 ms frames), its frames then
//! decoded; nothing may panic on any signal, and encoding is a pure function of the samples.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_dsp::g729::{Decoder, Encoder, FRAME_BYTES, L_FRAME};

fn encode_all(pcm: &[[i16; L_FRAME]]) -> Vec<[u8; FRAME_BYTES]> {
    let mut enc = Encoder::new();
    pcm.iter().map(|f| enc.encode(f)).collect()
}

fuzz_target!(|data: &[u8]| {
    let samples: Vec<i16> = data.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    let pcm: Vec<[i16; L_FRAME]> =
        samples.chunks_exact(L_FRAME).map(|f| f.try_into().expect("whole frames")).collect();
    let frames = encode_all(&pcm);
    assert_eq!(frames, encode_all(&pcm), "a fresh encoder must give the same bitstream");
    let mut dec = Decoder::new();
    let mut out = [0i16; L_FRAME];
    for f in &frames {
        dec.decode(Some(f), &mut out);
    }
});
