//! Proves the G.729A encoder allocates nothing while encoding: a counting global allocator watches
//! this thread while it encodes seconds of audio (a wandering tone, full-scale bursts, silence and
//! noise), frame by frame as the media thread would.
//!
//! Locks: `encode` takes `&mut self` and the g729 modules hold no `Mutex`, `RwLock`, `Once` or
//! atomic, so a lock could only hide in an allocation, which the count covers.

use std::cell::Cell;

use media_dsp::g729::{Encoder, L_FRAME};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, ARMED, COUNT};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Deterministic test audio, made before counting: a wandering tone, every third second at
/// clipping level, then silence, then pseudo-random noise.
fn audio(n: usize) -> Vec<i16> {
    let mut phase = 0.0f64;
    let mut seed: u32 = 1;
    (0..n)
        .map(|i| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            #[allow(clippy::cast_precision_loss)]
            let f = 150.0 + 3000.0 * ((i as f64) / 9_000.0).sin().abs();
            phase += 2.0 * std::f64::consts::PI * f / 8_000.0;
            let level = match (i / 8000) % 4 {
                0 => 6_000.0,
                1 => 40_000.0,
                _ => 0.0,
            };
            #[allow(clippy::cast_possible_truncation)]
            let tone = (level * phase.sin()).clamp(-32768.0, 32767.0) as i16;
            if (i / 8000) % 4 == 3 {
                i16::from_le_bytes((seed >> 8).to_le_bytes()[..2].try_into().unwrap_or([0, 0])) / 4
            } else {
                tone
            }
        })
        .collect()
}

#[test]
fn g729_encoder_never_allocates() {
    let pcm = audio(4 * 8000);
    let mut enc = Encoder::new();
    let mut frames = vec![[0u8; 10]; pcm.len() / L_FRAME];

    ARMED.with(|a| a.set(true));
    for (chunk, out) in pcm.chunks_exact(L_FRAME).zip(frames.iter_mut()) {
        let chunk: &[i16; L_FRAME] = chunk.try_into().unwrap_or(&[0; L_FRAME]);
        *out = enc.encode(chunk);
    }
    ARMED.with(|a| a.set(false));

    let count = COUNT.with(Cell::get);
    assert_eq!(count, 0, "the G.729A encoder allocated {count} times");
    // It did real work: the frames of the tone, the bursts and the noise are not all alike.
    let distinct = frames.iter().collect::<std::collections::BTreeSet<_>>().len();
    assert!(distinct > frames.len() / 2, "only {distinct} distinct frames of {}", frames.len());
    ARMED.with(|a| a.set(true));
    let v = std::hint::black_box(vec![1u8]);
    ARMED.with(|a| a.set(false));
    drop(v);
    assert_eq!(COUNT.with(Cell::get), 1, "the counting allocator counts");
}
