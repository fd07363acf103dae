//! G.729A encoder throughput of media-dsp, one repetition per run, for `cargo xtask bench dsp`.
//!
//! Usage: `g729_bench LINEAR8K.raw` (s16le at 8 kHz, whole 10 ms frames are used). One pass
//! encodes the file from a fresh encoder; passes repeat in 5 ms windows and the fastest window
//! counts (`common/bench.rs`). The line printed is `g729_encode MSAMPLES_PER_S CHECKSUM`, the
//! checksum over the frames' bytes, which xtask compares with bcg729's harness
//! (`xtask/src/bench/g729_peer.c`) on the same file: the two bitstreams are identical.

use std::hint::black_box;

use media_dsp::g729::{Encoder, FRAME_BYTES, L_FRAME};

// The shared harness also has a 16-bit checksum, which an encode-only bench does not need.
#[allow(dead_code)]
#[path = "common/bench.rs"]
mod bench;

use bench::{best_rate, checksum};

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
}
