//! G.729A encoder and decoder throughput of media-dsp, one repetition per run, for `cargo xtask bench dsp`.
//!
//! Usage: `g729_bench LINEAR8K.raw` (s16le at 8 kHz, whole 10 ms frames are used). One encode
//! pass encodes the file from a fresh encoder; one decode pass decodes that bitstream (encoded
//! once, before timing) from a fresh decoder. Passes repeat in 5 ms windows and the fastest
//! window counts (`common/bench.rs`). The lines printed are `g729_encode MSAMPLES_PER_S CHECKSUM`
//! (the checksum over the frames' bytes) and `g729_decode MSAMPLES_PER_S CHECKSUM` (over the
//! decoded samples), which xtask compares with bcg729's harness (`xtask/src/bench/g729_peer.c`)
//! on the same file: both the bitstreams and the decoded speech are identical.

use std::hint::black_box;

use media_dsp::g729::{Decoder, Encoder, FRAME_BYTES, L_FRAME};

#[path = "common/bench.rs"]
mod bench;

use bench::{best_rate, checksum, checksum16};

fn main() {
    let mut linear = bench::read_input("g729_bench LINEAR8K.raw");
    linear.truncate(linear.len() / L_FRAME * L_FRAME);
    let frames: Vec<[i16; L_FRAME]> =
        linear.chunks_exact(L_FRAME).map(|f| f.try_into().unwrap_or([0; L_FRAME])).collect();
    let mut out = vec![0u8; frames.len() * FRAME_BYTES];
    let rate = best_rate(linear.len(), || {
        let mut enc = Encoder::new();
        for (f, o) in frames.iter().zip(out.chunks_exact_mut(FRAME_BYTES)) {
            o.copy_from_slice(&enc.encode(black_box(f)));
        }
        black_box(&mut out);
    });
    println!("g729_encode {rate:.4} {}", checksum(out.iter().map(|&b| u64::from(b))));

    let bitstream: Vec<[u8; FRAME_BYTES]> =
        out.chunks_exact(FRAME_BYTES).map(|b| b.try_into().unwrap_or([0; FRAME_BYTES])).collect();
    let mut speech = vec![[0i16; L_FRAME]; bitstream.len()];
    let rate = best_rate(linear.len(), || {
        let mut dec = Decoder::new();
        for (b, s) in bitstream.iter().zip(speech.iter_mut()) {
            dec.decode(Some(black_box(b)), s);
        }
        black_box(&mut speech);
    });
    println!("g729_decode {rate:.4} {}", checksum16(speech.as_flattened()));
}
