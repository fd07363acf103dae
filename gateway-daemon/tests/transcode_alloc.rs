//! Proves that transcoding on a SIP leg's media (ARCHITECTURE.md's invariant for `media_codec`)
//! allocates nothing: a counting global allocator watches this thread while an `RtpLeg` with a
//! G.722 codec on an A-law span plays received G.722 packets (one in ten lost, so concealment
//! runs too) and encodes the channel's audio into G.722 frames for ten seconds of ticks, has its
//! codec replaced by PCMU and back as a re-INVITE does, and runs on; and the same for a G.729A leg,
//! whose lost frames the G.729A decoder conceals.

use gateway_daemon::media_codec::{LegCodec, PayloadCodec};
use gateway_daemon::media_rtp::{Frame, Incoming, RtpLeg};
use media_dsp::g711::Law;
use media_dsp::g722;
use media_dsp::jitter::{Arrival, Config, JitterBuffer};

#[path = "../../media-dsp/tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{counted, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Sample `i` of a `hz` sine at `rate`, amplitude 8000.
#[allow(clippy::cast_possible_truncation)]
fn sine(hz: f64, rate: f64, i: usize) -> i16 {
    let t = f64::from(u32::try_from(i).expect("short signal")) / rate;
    (8000.0 * (std::f64::consts::TAU * hz * t).sin()).round() as i16
}

/// Frequency from zero crossings of 8 kHz `x`.
fn crossings_hz(x: &[i16]) -> f64 {
    let n = x.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    f64::from(u32::try_from(n).expect("count")) / 2.0 / (f64::from(u32::try_from(x.len()).expect("len")) / 8000.0)
}

#[test]
fn g722_leg_plays_encodes_and_switches_codec_without_allocating() {
    // 10 s of 20 ms G.722 packets of a 600 Hz tone (16 kHz audio, as a phone sends), built before
    // counting starts.
    let mut enc = g722::Encoder::new(g722::Rate::Kbps64);
    let packets: Vec<Incoming> = (0..500u16)
        .map(|k| {
            let wide: Vec<i16> = (0..320).map(|i| sine(600.0, 16_000.0, usize::from(k) * 320 + i)).collect();
            let mut codes = [0u8; 160];
            assert_eq!(enc.encode(&wide, &mut codes), 160);
            let arrival = Arrival { ssrc: 7, seq: k, ts: u32::from(k) * 160, marker: k == 0 };
            Incoming { arrival, frame: Frame::from_slice(&codes).expect("fits") }
        })
        .collect();
    let jb = Box::new(JitterBuffer::new(Config { frame_ms: 20, ..Config::default() }));
    let mut leg = RtpLeg::new(1, 0, 1, Law::Alaw, Box::new(LegCodec::new(PayloadCodec::G722)), 20, jb);
    let mut spare = Some(Box::new(LegCodec::new(PayloadCodec::Pcmu)));
    let mut played: Vec<i16> = Vec::with_capacity(80_000);
    let mut sizes: Vec<(u16, u16)> = Vec::with_capacity(1_000);

    let ((), n) = counted(|| {
        for tick in 0..10_000usize {
            if tick % 20 == 0 && tick / 20 % 10 != 9 {
                leg.receive(&packets[tick / 20]);
            }
            let chunk = leg.next_chunk();
            played.extend(chunk.iter().map(|&c| Law::Alaw.decode(c)));
            let pcm: [i16; 8] = std::array::from_fn(|i| sine(1000.0, 8000.0, tick * 8 + i));
            if let Some(f) = leg.take_chunk(&pcm) {
                sizes.push((f.len, f.samples));
            }
            // A re-INVITE to PCMU at 4 s, and back to G.722 at 4.5 s (between two frames): the
            // codec lent with the command goes in, the one it replaced comes out to be freed
            // elsewhere.
            if tick == 3_999 || tick == 4_499 {
                let old = leg.replace_codec(spare.take().expect("a codec to lend"), 20);
                spare = Some(old);
            }
        }
    });
    assert_eq!(n, 0, "allocations while transcoding");
    assert_eq!(spare.as_ref().map(|c| c.codec()), Some(PayloadCodec::Pcmu), "the codec lent at 4 s came back");
    assert_eq!(leg.codec.codec(), PayloadCodec::G722);
    assert_eq!(sizes.len(), 500, "one 20 ms frame per 20 ticks");
    assert!(sizes.iter().all(|&s| s == (160, 160)), "20 ms of G.722 or PCMU: 160 octets, 160 timestamp units");
    // The packets' tone came through the decoder, the downsampler and the span's law (the
    // played audio lags the arrivals by the jitter buffer's delay: look at 1-4 s, G.722 only).
    let hz = crossings_hz(&played[8_000..32_000]);
    assert!((hz / 600.0 - 1.0).abs() < 0.02, "played {hz:.1} Hz, sent 600 Hz");
}

#[test]
fn g729_leg_plays_encodes_and_conceals_without_allocating() {
    // 4 s of 20 ms G.729A packets (two 10-octet frames each) of a 600 Hz tone.
    let mut enc = media_dsp::g729::Encoder::new();
    let packets: Vec<Incoming> = (0..200u16)
        .map(|k| {
            let mut payload = Vec::new();
            for f in 0..2 {
                let pcm: [i16; 80] = std::array::from_fn(|i| sine(600.0, 8000.0, usize::from(k) * 160 + f * 80 + i));
                payload.extend_from_slice(&enc.encode(&pcm));
            }
            let arrival = Arrival { ssrc: 9, seq: k, ts: u32::from(k) * 160, marker: k == 0 };
            Incoming { arrival, frame: Frame::from_slice(&payload).expect("fits") }
        })
        .collect();
    let jb = Box::new(JitterBuffer::new(Config { frame_ms: 20, ..Config::default() }));
    let mut leg = RtpLeg::new(1, 0, 1, Law::Alaw, Box::new(LegCodec::new(PayloadCodec::G729)), 20, jb);
    let mut played: Vec<i16> = Vec::with_capacity(32_000);
    let mut sizes: Vec<(u16, u16)> = Vec::with_capacity(200);
    let ((), n) = counted(|| {
        for tick in 0..4_000usize {
            // One packet in ten lost: the decoder's erasure path conceals it.
            if tick % 20 == 0 && tick / 20 % 10 != 9 {
                leg.receive(&packets[tick / 20]);
            }
            let chunk = leg.next_chunk();
            played.extend(chunk.iter().map(|&c| Law::Alaw.decode(c)));
            let pcm: [i16; 8] = std::array::from_fn(|i| sine(1000.0, 8000.0, tick * 8 + i));
            if let Some(f) = leg.take_chunk(&pcm) {
                sizes.push((f.len, f.samples));
            }
        }
    });
    assert_eq!(n, 0, "allocations while transcoding G.729A");
    assert_eq!(sizes.len(), 200, "one 20 ms frame per 20 ticks");
    assert!(sizes.iter().all(|&s| s == (20, 160)), "20 ms of G.729A: 20 octets, 160 timestamp units: {sizes:?}");
    let hz = crossings_hz(&played[8_000..28_000]);
    assert!((hz / 600.0 - 1.0).abs() < 0.02, "played {hz:.1} Hz, sent 600 Hz");
}
