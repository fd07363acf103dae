//! Fuzz target: the eight-channel G.722 coder against eight one-channel codecs on arbitrary bytes.
//! The first byte picks a lane and the chunk at which that lane is reset; the rest is read twice:
//! as codes (64 octets per chunk, eight per lane) for `DecoderLanes`, and as s16le samples (256
//! bytes per chunk, sixteen per lane) for `EncoderLanes`. The fastest kernel on this CPU and the
//! scalar reference must agree on every octet and sample, and nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_dsp::g722::{DecoderLanes, EncoderLanes, LaneKernel, LANES};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let lane = usize::from(mode) % LANES;
    let reset_at = usize::from(mode >> 3);

    let mut fast = DecoderLanes::new();
    let mut reference = DecoderLanes::with_kernel(LaneKernel::Scalar).expect("the scalar kernel always runs");
    for (i, chunk) in rest.chunks_exact(8 * LANES).enumerate() {
        if i == reset_at {
            fast.reset(lane);
            reference.reset(lane);
        }
        let codes: [[u8; 8]; LANES] = std::array::from_fn(|l| std::array::from_fn(|k| chunk[8 * l + k]));
        let (mut a, mut b) = ([[0i16; 16]; LANES], [[0i16; 16]; LANES]);
        fast.decode_chunk(&codes, &mut a);
        reference.decode_chunk(&codes, &mut b);
        assert_eq!(a, b, "decoded chunk {i}: {:?} and the scalar reference differ", fast.kernel());
    }

    let mut fast = EncoderLanes::new();
    let mut reference = EncoderLanes::with_kernel(LaneKernel::Scalar).expect("the scalar kernel always runs");
    for (i, chunk) in rest.chunks_exact(32 * LANES).enumerate() {
        if i == reset_at {
            fast.reset(lane);
            reference.reset(lane);
        }
        let pcm: [[i16; 16]; LANES] = std::array::from_fn(|l| {
            std::array::from_fn(|k| i16::from_le_bytes([chunk[32 * l + 2 * k], chunk[32 * l + 2 * k + 1]]))
        });
        let (mut a, mut b) = ([[0u8; 8]; LANES], [[0u8; 8]; LANES]);
        fast.encode_chunk(&pcm, &mut a);
        reference.encode_chunk(&pcm, &mut b);
        assert_eq!(a, b, "encoded chunk {i}: {:?} and the scalar reference differ", fast.kernel());
    }
});
