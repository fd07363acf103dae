//! Proves G.722 encode/decode and the 8 <-> 16 kHz resamplers allocate nothing while processing:
//! a counting global allocator watches this thread while they run seconds of audio (and random
//! codes) in every mode, block form and any-length form.
//!
//! Locks: every call takes `&mut self` and these modules hold no `Mutex`, `RwLock`, `Once` or
//! atomic, so a lock could only hide in an allocation, which the count covers.

use std::cell::Cell;

use media_dsp::g722::{Decoder, Encoder, Rate};
use media_dsp::resample::{Downsampler, Upsampler};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, ARMED, COUNT};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Deterministic test audio (a wandering tone with full-scale bursts), made before counting.
fn audio(n: usize) -> Vec<i16> {
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let f = 200.0 + 6000.0 * ((i as f64) / 20_000.0).sin().abs();
            phase += 2.0 * std::f64::consts::PI * f / 16_000.0;
            let level = if (i / 4000) % 3 == 2 { 40_000.0 } else { 8_000.0 };
            #[allow(clippy::cast_possible_truncation)]
            let v = (level * phase.sin()).clamp(-32768.0, 32767.0) as i16;
            v
        })
        .collect()
}

#[test]
fn g722_and_resampling_never_allocate() {
    let n = 48_000;
    let pcm = audio(n);
    let random: Vec<u8> = (0..n / 2).map(|i| u8::try_from((i * 7919 + i / 3) % 256).unwrap_or(0)).collect();
    let mut codes = vec![0u8; n];
    let mut out = vec![0i16; 2 * n];
    let mut encoders: Vec<Encoder> = Vec::new();
    let mut decoders: Vec<Decoder> = Vec::new();
    for rate in [Rate::Kbps64, Rate::Kbps56, Rate::Kbps48] {
        encoders.push(Encoder::new(rate));
        encoders.push(Encoder::new_8k(rate));
        decoders.push(Decoder::new(rate));
        decoders.push(Decoder::new_8k(rate));
    }
    let (mut up, mut down) = (Upsampler::new(), Downsampler::new());
    let mut produced = 0usize;

    ARMED.with(|a| a.set(true));
    for enc in &mut encoders {
        for (chunk, code) in pcm.chunks_exact(16).zip(codes.chunks_exact_mut(8)) {
            let chunk: &[i16; 16] = chunk.try_into().unwrap_or(&[0; 16]);
            let code: &mut [u8; 8] = code.try_into().unwrap_or_else(|_| unreachable!());
            enc.encode_chunk(chunk, code);
        }
        produced += enc.encode(&pcm, &mut codes);
    }
    for dec in &mut decoders {
        for (code, chunk) in codes.chunks_exact(8).zip(out.chunks_exact_mut(16)) {
            let code: &[u8; 8] = code.try_into().unwrap_or(&[0; 8]);
            let chunk: &mut [i16; 16] = chunk.try_into().unwrap_or_else(|_| unreachable!());
            dec.decode_chunk(code, chunk);
        }
        produced += dec.decode(&random, &mut out);
    }
    for (block, wide) in pcm.chunks_exact(8).zip(out.chunks_exact_mut(16)) {
        let block: &[i16; 8] = block.try_into().unwrap_or(&[0; 8]);
        let wide: &mut [i16; 16] = wide.try_into().unwrap_or_else(|_| unreachable!());
        up.process(block, wide);
    }
    produced += up.process_into(&pcm[..n / 2], &mut out);
    for (wide, block) in pcm.chunks_exact(16).zip(codes.chunks_exact_mut(8)) {
        let wide: &[i16; 16] = wide.try_into().unwrap_or(&[0; 16]);
        let mut narrow = [0i16; 8];
        down.process(wide, &mut narrow);
        block[0] = narrow[0].to_le_bytes()[0];
    }
    produced += down.process_into(&pcm, &mut out[..n / 2]);
    ARMED.with(|a| a.set(false));

    let count = COUNT.with(Cell::get);
    assert_eq!(count, 0, "G.722 or resampling allocated {count} times");
    // Six encoders, six decoders and both resamplers did real work.
    assert_eq!(produced, 3 * (n / 2 + n) + 3 * (n + n / 2) + n / 2 + n / 2, "samples and codes produced");
    ARMED.with(|a| a.set(true));
    let v = std::hint::black_box(vec![1u8]);
    ARMED.with(|a| a.set(false));
    drop(v);
    assert_eq!(COUNT.with(Cell::get), 1, "the counting allocator counts");
}

#[test]
fn g722_lanes_never_allocate() {
    use media_dsp::g722::{DecoderLanes, EncoderLanes, LaneKernel, LANES};
    let pcm = audio(16 * 2000);
    let mut checked = 0;
    for &kernel in LaneKernel::available() {
        let mut enc = EncoderLanes::with_kernel(kernel).expect("an available kernel");
        let mut dec = DecoderLanes::with_kernel(kernel).expect("an available kernel");
        let mut nonzero = 0usize;
        ARMED.with(|a| a.set(true));
        for (i, ms) in pcm.chunks_exact(16).enumerate() {
            let ms: &[i16; 16] = ms.try_into().unwrap_or(&[0; 16]);
            // Each lane a differently scaled copy, so the lanes' states differ.
            let input: [[i16; 16]; LANES] = std::array::from_fn(|l| ms.map(|x| x >> l));
            let mut codes = [[0u8; 8]; LANES];
            let mut out = [[0i16; 16]; LANES];
            if i == 1000 {
                enc.reset(3);
                dec.reset(3);
            }
            enc.encode_chunk(&input, &mut codes);
            dec.decode_chunk(&codes, &mut out);
            nonzero += out.iter().flatten().filter(|&&x| x != 0).count();
        }
        ARMED.with(|a| a.set(false));
        let count = COUNT.with(Cell::get);
        assert_eq!(count, 0, "{kernel:?} G.722 lanes allocated {count} times");
        assert!(nonzero > 100_000, "{kernel:?}: the lanes decoded mostly silence ({nonzero} non-zero samples)");
        checked += 1;
    }
    assert!(checked >= 1);
}
