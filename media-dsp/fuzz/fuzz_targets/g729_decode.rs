//! Fuzz target: the G.729A decoder on arbitrary bytes, cut into 10-byte frames, with a byte of
//! the input choosing which frames are erased; nothing may panic, whatever the bitstream says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_dsp::g729::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&erasures, frames)) = data.split_first() else { return };
    let mut dec = Decoder::new();
    let mut out = [0i16; 80];
    for (n, f) in frames.chunks_exact(10).enumerate() {
        let frame: &[u8; 10] = f.try_into().expect("chunks_exact gives 10 bytes");
        let erased = erasures & (1 << (n % 8)) != 0;
        dec.decode(if erased { None } else { Some(frame) }, &mut out);
    }
});
