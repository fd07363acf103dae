//! G.722 (64 kbit/s, 16 kHz) throughput of media-dsp, one repetition per run, for `cargo xtask bench dsp`.
//!
//! Usage: `g722_bench LINEAR16K.raw` (s16le at 16 kHz). Two measurements, each encode then decode,
//! each pass from a fresh codec state, over and over in 5 ms windows (`common/bench.rs`):
//! - `g722_encode`, `g722_decode`: one channel, the whole file in one call;
//! - `g722_encode_16ch`, `g722_decode_16ch`: 16 channels, what a media thread does every
//!   millisecond: 1 ms of each channel (two [`EncoderLanes`]/[`DecoderLanes`] of 8), then the
//!   next millisecond, for 100 ms. Channel c hears the file from sample c * 1000 on (wrapping
//!   round), so the lanes carry different audio. spandsp's harness codes the same 16 channels
//!   one after another. 100 ms, not the whole file, keeps a pass short enough that both sides'
//!   windows last about 5 ms: a longer window is more often preempted on a loaded machine, which
//!   would favour whichever side is faster.
//!
//! Each line printed is `KERNEL MSAMPLES_PER_S CHECKSUM` (16 kHz samples per second, all channels
//! together): the fastest window's rate and a checksum of the output (channel by channel), which
//! xtask compares with the spandsp harness's (`xtask/src/bench/g722_peer.c`) on the same file.

use std::hint::black_box;

use media_dsp::g722::{Decoder, DecoderLanes, Encoder, EncoderLanes, Rate, LANES};

#[path = "common/bench.rs"]
mod bench;

use bench::{best_rate, checksum, checksum16};

/// Channels of the multi-channel measurement, and how far apart their inputs are rotated.
const CHANNELS: usize = 16;
const ROTATION: usize = 1000;
/// Milliseconds of each channel per pass.
const MS: usize = 100;
const GROUPS: usize = CHANNELS / LANES;

fn main() {
    let mut linear = bench::read_input("g722_bench LINEAR16K.raw");
    // Whole milliseconds (which are whole sample pairs too).
    linear.truncate(linear.len() / 16 * 16);
    one_channel(&linear);
    lanes(&linear);
}

fn one_channel(linear: &[i16]) {
    let n = linear.len();
    let mut codes = vec![0u8; n / 2];
    let rate = best_rate(n, || {
        let mut enc = Encoder::new(Rate::Kbps64);
        enc.encode(black_box(linear), &mut codes);
        black_box(&mut codes);
    });
    println!("g722_encode {rate:.1} {}", checksum(codes.iter().map(|&c| u64::from(c))));
    let mut out = vec![0i16; n];
    let rate = best_rate(n, || {
        let mut dec = Decoder::new(Rate::Kbps64);
        dec.decode(black_box(&codes), &mut out);
        black_box(&mut out);
    });
    println!("g722_decode {rate:.1} {}", checksum16(&out));
}

fn lanes(linear: &[i16]) {
    let n = linear.len();
    let ms = MS;
    // The media thread's layout: for each group of 8 channels and each millisecond, 8 chunks.
    let input: Vec<[[i16; 16]; LANES]> = (0..GROUPS * ms)
        .map(|gm| {
            let (g, m) = (gm / ms, gm % ms);
            std::array::from_fn(|l| {
                let c = g * LANES + l;
                std::array::from_fn(|i| linear[(16 * m + i + c * ROTATION) % n])
            })
        })
        .collect();
    let mut codes = vec![[[0u8; 8]; LANES]; GROUPS * ms];
    let rate = best_rate(CHANNELS * 16 * ms, || {
        let mut encs: [EncoderLanes; GROUPS] = std::array::from_fn(|_| EncoderLanes::new());
        for m in 0..ms {
            for (g, enc) in encs.iter_mut().enumerate() {
                enc.encode_chunk(black_box(&input[g * ms + m]), &mut codes[g * ms + m]);
            }
        }
        black_box(&mut codes);
    });
    // Channel by channel, as the peer writes them.
    let by_channel = (0..CHANNELS).flat_map(|c| {
        let codes = &codes;
        (0..ms).flat_map(move |m| codes[(c / LANES) * ms + m][c % LANES])
    });
    println!("g722_encode_{CHANNELS}ch {rate:.1} {}", checksum(by_channel.map(u64::from)));
    let mut out = vec![[[0i16; 16]; LANES]; GROUPS * ms];
    let rate = best_rate(CHANNELS * 16 * ms, || {
        let mut decs: [DecoderLanes; GROUPS] = std::array::from_fn(|_| DecoderLanes::new());
        for m in 0..ms {
            for (g, dec) in decs.iter_mut().enumerate() {
                dec.decode_chunk(black_box(&codes[g * ms + m]), &mut out[g * ms + m]);
            }
        }
        black_box(&mut out);
    });
    let by_channel: Vec<i16> = (0..CHANNELS)
        .flat_map(|c| (0..ms).map(move |m| (c, m)))
        .flat_map(|(c, m)| out[(c / LANES) * ms + m][c % LANES])
        .collect();
    println!("g722_decode_{CHANNELS}ch {rate:.1} {}", checksum16(&by_channel));
}
