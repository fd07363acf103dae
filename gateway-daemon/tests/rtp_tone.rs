//! Proves that a call-progress tone sent in a SIP leg's RTP (`MediaCmd::RtpTone`, our ringback to
//! a SIP caller on a `ringback = "local"` trunk) replaces the channel's audio in the frames built,
//! follows the zone's cadence, gives the channel's audio back when stopped, and allocates nothing
//! in the media thread's part (a counting global allocator watches the ticks).

use gateway_daemon::media_codec::{LegCodec, PayloadCodec};
use gateway_daemon::media_rtp::RtpLeg;
use media_dsp::g711::Law;
use media_dsp::jitter::{Config, JitterBuffer};
use media_dsp::tones::ToneGenerator;

#[path = "../../media-dsp/tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, ARMED, COUNT};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What the channel sends toward SIP: a steady level no tone sample stays at.
const CHANNEL: i16 = 1000;

/// Runs `ms` ticks and sorts each 20 ms frame: (the channel's audio, our tone, silence), counting
/// allocations.
fn frames(leg: &mut RtpLeg, ms: usize) -> ((u32, u32, u32), u64) {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    let mut kinds = (0, 0, 0);
    for _ in 0..ms {
        let _ = leg.next_chunk();
        if let Some(f) = leg.take_chunk(&[CHANNEL; 8]) {
            // Decoded into an array: the test's own check must not allocate either.
            let mut pcm = [0i16; 160];
            for (s, &c) in pcm.iter_mut().zip(f.bytes()) {
                *s = Law::Alaw.decode(c);
            }
            assert_eq!(f.bytes().len(), pcm.len(), "a 20 ms PCMA frame");
            if pcm.iter().all(|&s| s.abs_diff(CHANNEL) < 40) {
                kinds.0 += 1;
            } else if pcm.iter().any(|&s| s.unsigned_abs() > 2000) {
                kinds.1 += 1;
            } else if pcm.iter().all(|&s| s.unsigned_abs() < 16) {
                kinds.2 += 1;
            }
        }
    }
    ARMED.with(|a| a.set(false));
    (kinds, COUNT.with(std::cell::Cell::get))
}

#[test]
fn a_tone_in_the_rtp_replaces_the_channel_until_stopped_without_allocating() {
    let fr = media_dsp::tones::zone("fr").expect("fr");
    let jb = Box::new(JitterBuffer::new(Config { frame_ms: 20, ..Config::default() }));
    let mut leg = RtpLeg::new(1, 0, 1, Law::Alaw, Box::new(LegCodec::new(PayloadCodec::Pcma)), 20, jb);
    let (kinds, n) = frames(&mut leg, 200);
    assert_eq!((kinds, n), ((10, 0, 0), 0), "the channel's audio goes out as it is");
    // As the media thread does on MediaCmd::RtpTone (the generator is built there, on the stack).
    leg.tone = Some(ToneGenerator::new(&fr.ringback));
    // fr ringback: 1.5 s of 440 Hz, 3.5 s of silence; frames follow on the frame boundary.
    let (kinds, n) = frames(&mut leg, 5000);
    assert_eq!(n, 0, "allocations while the tone plays");
    assert_eq!(kinds, (0, 75, 175), "1.5 s of tone then 3.5 s of silence, none of the channel's audio");
    leg.tone = None;
    let (kinds, n) = frames(&mut leg, 200);
    assert_eq!((kinds, n), ((10, 0, 0), 0), "the channel's audio is back once the tone stops");
}
