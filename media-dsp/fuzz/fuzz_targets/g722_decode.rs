//! Fuzz target: the G.722 decoder on arbitrary bytes. The first byte picks the rate, the 8 kHz
//! mode and how the rest is cut into calls; every octet is a valid code, so nothing may panic, every
//! call must write exactly the samples its codes stand for, and decoding the same bytes twice from a
//! fresh state must give the same samples (no hidden state outside the decoder).
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_dsp::g722::{Decoder, Rate};

fn run(rate: Rate, eight_k: bool, piece: usize, codes: &[u8], out: &mut [i16]) -> usize {
    let mut dec = if eight_k { Decoder::new_8k(rate) } else { Decoder::new(rate) };
    let per = dec.samples_per_code();
    let mut written = 0;
    for chunk in codes.chunks(piece) {
        let n = dec.decode(chunk, &mut out[written..]);
        assert_eq!(n, chunk.len() * per, "a call wrote a different number of samples");
        written += n;
    }
    written
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, codes)) = data.split_first() else { return };
    let rate = [Rate::Kbps64, Rate::Kbps56, Rate::Kbps48][usize::from(mode % 3)];
    let eight_k = mode & 0x80 != 0;
    let piece = usize::from((mode >> 2) & 0x1F) + 1;
    let mut first = vec![0i16; 2 * codes.len()];
    let mut second = vec![0i16; 2 * codes.len()];
    let n = run(rate, eight_k, piece, codes, &mut first);
    let m = run(rate, eight_k, codes.len().max(1), codes, &mut second);
    assert_eq!(n, m);
    assert_eq!(first[..n], second[..m], "cutting the input differently changed the output");
});
