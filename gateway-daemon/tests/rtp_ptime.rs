//! A re-INVITE that changes the ptime mid-call (20 ms to 30 ms, the codec kept): the leg sends
//! 30 ms frames from then on, its jitter buffer counts in the new period it is popped at (before
//! this was fixed it kept the old one, and judged lateness and delay in the wrong unit), and the
//! far end's 30 ms packets play without a gap.

use gateway_daemon::media_codec::{LegCodec, PayloadCodec};
use gateway_daemon::media_rtp::{Frame, Incoming, RtpLeg};
use media_dsp::g711::Law;
use media_dsp::jitter::{Arrival, Config, JitterBuffer};

/// Sample `i` of a 600 Hz sine, amplitude 8000, at 8 kHz.
#[allow(clippy::cast_possible_truncation)]
fn tone(i: usize) -> i16 {
    let t = f64::from(u32::try_from(i).expect("short signal")) / 8000.0;
    (8000.0 * (std::f64::consts::TAU * 600.0 * t).sin()).round() as i16
}

/// A-law packet of `samples` samples of the tone from sample `from`.
fn packet(seq: u16, from: usize, samples: usize) -> Incoming {
    let codes: Vec<u8> = (from..from + samples).map(|i| Law::Alaw.encode(tone(i))).collect();
    let ts = u32::try_from(from).expect("short signal");
    Incoming {
        arrival: Arrival { ssrc: 5, seq, ts, marker: seq == 0 },
        frame: Frame::from_slice(&codes).expect("fits"),
    }
}

#[test]
fn a_ptime_change_by_reinvite_plays_the_new_packets_without_gaps() {
    let jb = Box::new(JitterBuffer::new(Config { frame_ms: 20, ..Config::default() }));
    let mut leg = RtpLeg::new(1, 0, 1, Law::Alaw, Box::new(LegCodec::new(PayloadCodec::Pcma)), 20, jb);
    let mut played: Vec<i16> = Vec::new();
    let mut sizes: Vec<u16> = Vec::new();
    let mut seq = 0u16;
    // 2 s at 20 ms (a packet every 20 ticks), then the re-INVITE, then 3 s at 30 ms.
    const SWITCH: usize = 2_000;
    for tick in 0..5_000usize {
        if tick == SWITCH {
            let old = leg.replace_codec(Box::new(LegCodec::new(PayloadCodec::Pcma)), 30);
            assert_eq!(old.codec(), PayloadCodec::Pcma);
            // The jitter buffer is popped once per new frame: it must count in that period.
            assert_eq!(leg.jb.config().frame_ms, 30, "the jitter buffer's period follows the ptime");
        }
        let (period, start) = if tick < SWITCH { (20, 0) } else { (30, SWITCH) };
        if (tick - start) % period == 0 {
            leg.receive(&packet(seq, tick * 8, period * 8));
            seq = seq.wrapping_add(1);
        }
        played.extend(leg.next_chunk().iter().map(|&c| Law::Alaw.decode(c)));
        if let Some(f) = leg.take_chunk(&[0; 8]) {
            sizes.push(f.samples);
        }
    }
    assert!(sizes[..99].iter().all(|&s| s == 160), "20 ms frames before: {:?}", &sizes[..99]);
    assert!(sizes[sizes.len() - 99..].iter().all(|&s| s == 240), "30 ms frames after");
    // From half a second after the switch, every 10 ms of what is played carries the tone: no
    // loss concealed, no silence.
    for (k, block) in played[(SWITCH + 500) * 8..].chunks(80).enumerate() {
        let peak = block.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!(peak > 6_000, "block {k} after the settling time is {peak} at its loudest");
    }
}
