//! G.711 throughput of media-dsp, one repetition per run, for `cargo xtask bench dsp`.
//!
//! Usage: `g711_bench LINEAR.raw` (s16le). The samples are encoded with each law, then the codes
//! are decoded, each over and over for about 100 ms, timed in 5 ms windows (`common/bench.rs`).
//! Each line printed is `KERNEL MSAMPLES_PER_S CHECKSUM`: the fastest window's rate and a checksum
//! of the output, which xtask compares with the spandsp harness's (`xtask/src/bench/g711_peer.c`)
//! run on the same file.

use std::hint::black_box;

use media_dsp::g711::{self, Law};

#[path = "common/bench.rs"]
mod bench;

use bench::{best_rate, checksum, checksum16};

fn main() {
    let linear = bench::read_input("g711_bench LINEAR.raw");
    let n = linear.len();
    for (name, law) in [("alaw", Law::Alaw), ("ulaw", Law::Mulaw)] {
        let mut codes = vec![0u8; n];
        let rate = best_rate(n, || {
            g711::encode_into(law, black_box(&linear), &mut codes);
            black_box(&mut codes);
        });
        println!("{name}_encode {rate:.1} {}", checksum(codes.iter().map(|&c| u64::from(c))));
        let mut out = vec![0i16; n];
        let rate = best_rate(n, || {
            g711::decode_into(law, black_box(&codes), &mut out);
            black_box(&mut out);
        });
        println!("{name}_decode {rate:.1} {}", checksum16(&out));
    }
}
