//! Proves that the media thread's call-progress tone players (ARCHITECTURE.md's invariant for
//! `media_tones`) allocate nothing: a counting global allocator watches this thread while tones
//! are started on every channel the table holds, replaced, run for ten seconds of ticks and
//! stopped, as the media thread does between two commands.

use gateway_daemon::media::Endpoint;
use gateway_daemon::media_tones::{TonePlayers, MAX_TONES};
use media_dsp::g711::Law;
use media_dsp::tones::{zone, Progress};

#[path = "../../media-dsp/tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{counted, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn starting_playing_and_stopping_tones_allocates_nothing() {
    let mut players = TonePlayers::new();
    let (uk, fr) = (zone("uk").expect("uk"), zone("fr").expect("fr"));
    let ep = |i: usize| Endpoint { node: i / 31, ts: u8::try_from(i % 31 + 1).expect("ts") };
    let (heard, n) = counted(|| {
        // One more than the table holds: the last is refused, not allocated.
        for i in 0..=MAX_TONES {
            players.set(ep(i), Law::Alaw, None, Some(uk.tone(Progress::ALL[i % 4])));
        }
        for i in (0..MAX_TONES).step_by(2) {
            players.set(ep(i), Law::Mulaw, Some(0), Some(&fr.busy));
        }
        let mut heard = 0u64;
        for _ in 0..10_000 {
            players.tick(|_, _, chunk| heard += u64::from(chunk.iter().any(|&c| c != 0xd5 && c != 0xff)));
        }
        for i in 0..=MAX_TONES {
            players.set(ep(i), Law::Alaw, None, None);
        }
        heard
    });
    assert_eq!(n, 0, "allocations while starting, playing and stopping tones");
    assert!(heard > 1_000_000, "the tones played: {heard} chunks with a tone");
    assert!(!players.playing(ep(0)) && !players.playing(ep(MAX_TONES - 1)));
}
