//! Proves that DTMF on a SIP leg's media (ARCHITECTURE.md's invariant for `media_dtmf`) allocates
//! nothing: a counting global allocator watches this thread while an `RtpLeg` with its receiver on
//! runs ten seconds of ticks whose TDM audio holds all 16 digits, and while its player plays 16
//! digits given as starts and ends, as the media thread does between two commands.

use gateway_daemon::media_codec::{LegCodec, PayloadCodec};
use gateway_daemon::media_dtmf::DtmfEdge;
use gateway_daemon::media_rtp::RtpLeg;
use media_dsp::dtmf::{Generator, GeneratorConfig};
use media_dsp::g711::Law;
use media_dsp::jitter::{Config, JitterBuffer};

#[path = "../../media-dsp/tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{counted, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const DIGITS: &str = "0123456789*#ABCD";

#[test]
fn receiver_delay_line_and_player_allocate_nothing() {
    let jb = Box::new(JitterBuffer::new(Config { frame_ms: 20, ..Config::default() }));
    let mut leg = RtpLeg::new(1, 0, 1, Law::Alaw, Box::new(LegCodec::new(PayloadCodec::Pcma)), 20, jb);
    leg.dtmf.detect = true;
    let mut gen = Generator::new(GeneratorConfig::default());
    gen.push_str(DIGITS).expect("queue");
    // The digits, one per 140 ms, then silence: 10 s of 1 ms ticks.
    let ((starts, frames), n) = counted(|| {
        let (mut starts, mut frames) = ([' '; 16], 0u32);
        let mut k = 0;
        for _ in 0..10_000 {
            let mut pcm = [0i16; 8];
            gen.fill(&mut pcm);
            let _ = leg.next_chunk();
            if leg.take_chunk(&pcm).is_some() {
                frames += 1;
            }
            while let Some((d, e)) = leg.dtmf.tx.poll() {
                if matches!(e, DtmfEdge::Start { .. }) && k < starts.len() {
                    starts[k] = d;
                    k += 1;
                }
            }
        }
        (starts, frames)
    });
    assert_eq!(n, 0, "allocations while detecting and muting");
    assert_eq!(starts.iter().collect::<String>(), DIGITS, "the receiver ran and found every digit");
    assert_eq!(frames, 500, "one 20 ms frame per 20 ticks");

    let (played, n) = counted(|| {
        let mut loud = 0u32;
        for d in DIGITS.chars() {
            leg.dtmf.player.start(d);
            leg.dtmf.player.end(d, 480);
        }
        for _ in 0..3_000 {
            let chunk = leg.next_chunk();
            if chunk.iter().any(|&c| Law::Alaw.decode(c).unsigned_abs() > 1000) {
                loud += 1;
            }
        }
        loud
    });
    assert_eq!(n, 0, "allocations while playing");
    // 16 digits of 60 ms: about 960 ticks carry the tone (a tick near a zero crossing may not).
    assert!((900..=16 * 60).contains(&played), "{played} ticks of tone");
}
