//! The jitter buffer on simulated streams in virtual time: order, loss, duplicates, late packets,
//! wrap-arounds, resynchronisation, adaptation up under jitter and back down when it calms, fixed
//! mode, a new frame period mid-stream, the RFC 3550 jitter against a hand calculation, and no allocation after `new` (a counting
//! global allocator watches this thread while push and pop run).

use std::cell::Cell;

use media_dsp::jitter::{Arrival, Config, JitterBuffer, Mode, Playout, Push};
use media_dsp::plc::Plc;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, ARMED, COUNT};

#[global_allocator]
static GLOBAL: Counting = Counting;

const FRAME: u32 = 160;
/// The sender's clock runs at an arbitrary offset from ours, as in real life.
const CLOCK_OFFSET: u32 = 0x9000_0123;
const BASE_TRANSIT: u32 = 400;

/// A small deterministic generator for jitter patterns.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        u32::try_from(self.0 >> 32).unwrap()
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n.max(1)
    }
}

/// One simulated packet: its index in the stream, when it arrives, and its header.
#[derive(Clone, Copy)]
struct Pkt {
    arrival: u32,
    arr: Arrival,
    /// The payload carries the frame index so playout order can be checked.
    index: u32,
}

/// A stream of `n` 20 ms frames; `extra(i)` is frame i's extra network delay in samples, `None`
/// drops it.
fn stream(n: u32, seq0: u16, ts0: u32, mut extra: impl FnMut(u32) -> Option<u32>) -> Vec<Pkt> {
    let mut v: Vec<Pkt> = (0..n)
        .filter_map(|i| {
            let ts = ts0.wrapping_add(i * FRAME);
            let send = ts.wrapping_sub(ts0).wrapping_add(CLOCK_OFFSET);
            let arrival = send.wrapping_add(BASE_TRANSIT).wrapping_add(extra(i)?);
            let seq = seq0.wrapping_add(u16::try_from(i % 65536).unwrap());
            Some(Pkt { arrival, arr: Arrival { ssrc: 7, seq, ts, marker: i == 0 }, index: i })
        })
        .collect();
    v.sort_by_key(|p| (p.arrival.wrapping_sub(CLOCK_OFFSET), p.index));
    v
}

/// What one pop gave: the frame index played, or the kind of gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    Frame(u32),
    Missing,
    Empty,
}

/// Runs the stream through `jb`, popping every 20 ms for `pops` periods from the first arrival.
fn run(jb: &mut JitterBuffer, pkts: &[Pkt], pops: u32) -> Vec<Out> {
    let mut out = Vec::with_capacity(pops as usize);
    let mut buf = [0u8; 480];
    let mut next = 0;
    for k in 0..pops {
        let now = CLOCK_OFFSET.wrapping_add(k * FRAME + 7);
        while next < pkts.len() && pkts[next].arrival.wrapping_sub(CLOCK_OFFSET) <= now.wrapping_sub(CLOCK_OFFSET) {
            let p = pkts[next];
            jb.push(p.arrival, p.arr, &p.index.to_be_bytes());
            next += 1;
        }
        out.push(match jb.pop(now, &mut buf) {
            Playout::Frame { len, .. } => {
                assert_eq!(len, 4);
                Out::Frame(u32::from_be_bytes(buf[..4].try_into().unwrap()))
            }
            Playout::Missing => Out::Missing,
            Playout::Empty => Out::Empty,
        });
    }
    out
}

fn frames(out: &[Out]) -> Vec<u32> {
    out.iter().filter_map(|o| if let Out::Frame(i) = o { Some(*i) } else { None }).collect()
}

fn cfg() -> Config {
    Config::default()
}

#[test]
fn steady_stream_plays_every_frame_in_order_at_the_minimum_delay() {
    let mut jb = JitterBuffer::new(cfg());
    let pkts = stream(200, 1000, 5000, |_| Some(0));
    let out = run(&mut jb, &pkts, 204);
    assert_eq!(frames(&out), (0..200).collect::<Vec<_>>());
    let first = out.iter().position(|o| matches!(o, Out::Frame(_))).unwrap();
    // Playout starts once the first frame has waited the minimum delay (20 ms = one pop).
    // The first packet arrives 50 ms after it was sent, just before pop 3; playout starts once
    // it has waited the minimum delay of 20 ms, at pop 4.
    assert_eq!(first, 4, "started after {first} pops");
    assert!(out[first..].iter().all(|o| matches!(o, Out::Frame(_))));
    let s = jb.stats();
    assert_eq!((s.received, s.lost, s.late, s.duplicate, s.overflow), (200, 0, 0, 0, 0));
    assert_eq!(s.target_delay_ms, 20);
    assert!(s.current_delay_ms >= 20 && s.current_delay_ms < 40, "{s:?}");
}

#[test]
fn reordered_packets_are_played_in_order() {
    let mut jb = JitterBuffer::new(cfg());
    // Every odd frame overtakes its predecessor by 10 ms.
    let pkts = stream(100, 0, 0, |i| Some(if i % 2 == 0 { 80 } else { 0 }));
    let out = run(&mut jb, &pkts, 120);
    assert_eq!(frames(&out), (0..100).collect::<Vec<_>>());
    assert_eq!(jb.stats().late, 0);
    assert_eq!(jb.stats().lost, 0);
}

#[test]
fn duplicates_are_counted_and_played_once() {
    let mut jb = JitterBuffer::new(cfg());
    let mut pkts = stream(50, 0, 0, |_| Some(0));
    let dup: Vec<Pkt> =
        pkts.iter().filter(|p| p.index % 10 == 3).map(|p| Pkt { arrival: p.arrival + 1, ..*p }).collect();
    pkts.extend(dup);
    pkts.sort_by_key(|p| (p.arrival.wrapping_sub(CLOCK_OFFSET), p.index));
    let out = run(&mut jb, &pkts, 60);
    assert_eq!(frames(&out), (0..50).collect::<Vec<_>>());
    assert_eq!(jb.stats().duplicate, 5);
}

#[test]
fn a_lost_packet_is_one_missing_frame_in_its_place() {
    let mut jb = JitterBuffer::new(cfg());
    let pkts = stream(60, 0, 0, |i| if i == 20 { None } else { Some(0) });
    let out = run(&mut jb, &pkts, 70);
    let i = out.iter().position(|o| *o == Out::Frame(19)).unwrap();
    assert_eq!(out[i + 1], Out::Missing);
    assert_eq!(out[i + 2], Out::Frame(21));
    assert_eq!(jb.stats().lost, 1);
}

#[test]
fn a_packet_behind_playout_is_late_and_dropped() {
    let mut jb = JitterBuffer::new(cfg());
    // Frame 30 arrives 400 ms late, long after its turn (the target stays well below that
    // because the spread it causes is clamped at the maximum of 200 ms).
    let pkts = stream(80, 0, 0, |i| Some(if i == 30 { 3200 } else { 0 }));
    let out = run(&mut jb, &pkts, 100);
    let played = frames(&out);
    assert!(!played.contains(&30));
    assert!(played.windows(2).all(|w| w[0] < w[1]), "order kept");
    assert_eq!(jb.stats().late, 1);
}

#[test]
fn sequence_and_timestamp_wrap_are_seamless() {
    let mut jb = JitterBuffer::new(cfg());
    let pkts = stream(100, 65500, u32::MAX - 50 * FRAME, |i| Some(if i % 3 == 0 { 40 } else { 0 }));
    let out = run(&mut jb, &pkts, 110);
    assert_eq!(frames(&out), (0..100).collect::<Vec<_>>());
    let s = jb.stats();
    assert_eq!((s.lost, s.late, s.resyncs), (0, 0, 0));
}

#[test]
fn a_burst_beyond_capacity_drops_the_oldest() {
    let mut jb = JitterBuffer::new(Config { slots: 16, ..cfg() });
    let mut buf = [0u8; 480];
    for i in 0..40u16 {
        let r = jb.push(1000, Arrival { ssrc: 1, seq: i, ts: u32::from(i) * FRAME, marker: false }, &i.to_be_bytes());
        assert_eq!(r, Push::Stored);
    }
    assert_eq!(jb.stats().overflow, 24);
    assert_eq!(jb.stats().buffered, 16);
    // The newest 16 are what plays, from the oldest of them.
    let mut seqs = Vec::new();
    for k in 0..40u32 {
        if let Playout::Frame { seq, .. } = jb.pop(100_000 + k * FRAME, &mut buf) {
            seqs.push(seq);
        }
    }
    assert_eq!(seqs, (24..40).collect::<Vec<u16>>());
}

#[test]
fn new_ssrc_and_timestamp_jump_resynchronise() {
    let mut jb = JitterBuffer::new(cfg());
    let mut buf = [0u8; 480];
    let a = |ssrc, seq, ts| Arrival { ssrc, seq, ts, marker: false };
    for i in 0..10u16 {
        jb.push(u32::from(i) * FRAME, a(1, i, u32::from(i) * FRAME), &[1]);
        jb.pop(u32::from(i) * FRAME + 5, &mut buf);
    }
    assert_eq!(jb.push(1700, a(2, 5000, 777_777), &[2]), Push::Resynced);
    assert_eq!(jb.stats().resyncs, 1);
    // Same SSRC, contiguous sequence, but the timestamps jumped by an hour: a restart too.
    assert_eq!(jb.push(1860, a(2, 5001, 777_777 + 160 + 28_800_000), &[3]), Push::Resynced);
    assert_eq!(jb.stats().resyncs, 2);
    let mut got = None;
    for k in 0..10 {
        if let Playout::Frame { seq, .. } = jb.pop(1900 + k * FRAME, &mut buf) {
            got = Some(seq);
            break;
        }
    }
    assert_eq!(got, Some(5001));
}

#[test]
fn a_lone_far_packet_is_ignored_and_two_in_sequence_restart() {
    let mut jb = JitterBuffer::new(cfg());
    let a = |seq, ts| Arrival { ssrc: 9, seq, ts, marker: false };
    for i in 0..5u16 {
        jb.push(u32::from(i) * FRAME, a(i, u32::from(i) * FRAME), &[0]);
    }
    assert_eq!(jb.push(900, a(20_000, 900), &[0]), Push::Suspect);
    assert_eq!(jb.push(1000, a(5, 800), &[0]), Push::Stored);
    assert_eq!(jb.push(1100, a(30_000, 1000), &[0]), Push::Suspect);
    assert_eq!(jb.push(1200, a(30_001, 1160), &[0]), Push::Resynced);
    assert_eq!(jb.stats().resyncs, 1);
}

#[test]
fn interarrival_jitter_matches_the_hand_calculation() {
    // Transits alternate 0 and 160 samples, so every |D| is 160. By hand, with RFC 3550's
    // J += (|D| - J)/16 from J = 0: 10, 19.375, 28.164 after three differences. The integer
    // form of Appendix A.8 (J scaled by 16) gives 160, 310, 451, and 451 >> 4 = 28.
    let mut jb = JitterBuffer::new(cfg());
    for i in 0..4u32 {
        let ts = i * FRAME;
        let arrival = ts + 500 + if i % 2 == 1 { 160 } else { 0 };
        jb.push(arrival, Arrival { ssrc: 1, seq: u16::try_from(i).unwrap(), ts, marker: false }, &[0]);
    }
    let hand = (0..3).fold(0.0f64, |j, _| j + (160.0 - j) / 16.0);
    assert!((hand - 28.164).abs() < 0.001);
    assert_eq!(jb.stats().jitter, 28);
    assert_eq!(f64::from(jb.stats().jitter), hand.floor());
}

/// Late share of frames played in `out[from..]`.
fn missing_share(out: &[Out], from: usize) -> f64 {
    let tail = &out[from..];
    let miss = tail.iter().filter(|o| **o == Out::Missing).count();
    miss as f64 / tail.len() as f64
}

#[test]
fn adapts_up_under_jitter_and_back_down_when_it_calms() {
    let mut jb = JitterBuffer::new(cfg());
    let mut rng = Rng(0x1234_5678_9abc_def1);
    // 20 s of 0-80 ms uniform jitter, then 60 s of a calm network.
    let pkts = stream(4000, 10, 99, |i| Some(if i < 1000 { rng.below(640) } else { 0 }));
    let mut buf = [0u8; 480];
    let (mut next, mut out) = (0, Vec::new());
    let mut target_at_20s = 0;
    let mut delay_at_20s = 0;
    let mut calm = None;
    for k in 0..4010u32 {
        let now = CLOCK_OFFSET.wrapping_add(k * FRAME + 7);
        while next < pkts.len() && pkts[next].arrival.wrapping_sub(CLOCK_OFFSET) <= k * FRAME + 7 {
            let p = pkts[next];
            jb.push(p.arrival, p.arr, &p.index.to_be_bytes());
            next += 1;
        }
        out.push(match jb.pop(now, &mut buf) {
            Playout::Frame { .. } => Out::Frame(0),
            Playout::Missing => Out::Missing,
            Playout::Empty => Out::Empty,
        });
        if k == 1000 {
            target_at_20s = jb.stats().target_delay_ms;
            delay_at_20s = jb.stats().current_delay_ms;
        }
        if k == 3990 {
            calm = Some(jb.stats());
        }
    }
    // Up: the target covers most of the 80 ms spread, and after the first seconds of learning
    // fewer than 2% of the frames need concealment.
    assert!((60..=100).contains(&target_at_20s), "target {target_at_20s} ms");
    assert!(delay_at_20s >= 60, "delay {delay_at_20s} ms");
    let share = missing_share(&out[..1000], 250);
    assert!(share < 0.02, "{:.1}% concealed under jitter", share * 100.0);
    // Down: after a minute of calm the target is back near the minimum, reached by one-frame
    // drops, and the calm part plays without a gap.
    let s = calm.unwrap();
    assert!(s.target_delay_ms <= 30, "target {} ms after the calm", s.target_delay_ms);
    assert!(s.current_delay_ms <= 50, "delay {} ms after the calm", s.current_delay_ms);
    assert!(s.shrunk >= 2, "shrunk {}", s.shrunk);
    assert!(out[1100..4000].iter().all(|o| *o == Out::Frame(0)));
}

#[test]
fn fixed_mode_keeps_its_delay_under_jitter() {
    let mut jb = JitterBuffer::new(cfg());
    jb.set_mode(Mode::Fixed { delay_ms: 60 });
    let mut rng = Rng(77);
    let pkts = stream(1500, 0, 0, |_| Some(rng.below(800)));
    let mut buf = [0u8; 480];
    let mut next = 0;
    let mut delays = Vec::new();
    for k in 0..1500u32 {
        let now = CLOCK_OFFSET.wrapping_add(k * FRAME + 7);
        while next < pkts.len() && pkts[next].arrival.wrapping_sub(CLOCK_OFFSET) <= k * FRAME + 7 {
            let p = pkts[next];
            jb.push(p.arrival, p.arr, &[0]);
            next += 1;
        }
        jb.pop(now, &mut buf);
        if k > 20 {
            delays.push(jb.stats().current_delay_ms);
        }
        assert_eq!(jb.target_delay_ms(), 60);
    }
    // The delay is set once and never moves, whatever the jitter (late frames are simply lost).
    assert!(delays.iter().all(|d| *d == delays[0]), "delay moved: {:?}", &delays[..20]);
    assert!(delays[0] >= 60 && delays[0] < 80, "{}", delays[0]);
    assert!(jb.stats().late > 0);
    // And back to adaptive it grows to cover the jitter again.
    jb.set_mode(Mode::Adaptive);
    assert!(jb.target_delay_ms() > 60);
}

#[test]
fn a_talkspurt_after_silence_reanchors_and_shortens_an_overgrown_delay() {
    let mut jb = JitterBuffer::new(cfg());
    // One slow packet teaches a 100 ms spread, then silence from frame 20, then a new talkspurt.
    let mut pkts = stream(20, 0, 0, |i| Some(if i == 3 { 800 } else { 0 }));
    for j in 0..20u32 {
        let i = 200 + j;
        let ts = i * FRAME;
        pkts.push(Pkt {
            arrival: CLOCK_OFFSET.wrapping_add(ts + BASE_TRANSIT),
            arr: Arrival { ssrc: 7, seq: u16::try_from(20 + j).unwrap(), ts, marker: j == 0 },
            index: i,
        });
    }
    let out = run(&mut jb, &pkts, 240);
    let played = frames(&out);
    // Frame 3 came 100 ms late while the target was still 20 ms: late, and the lesson learned.
    assert_eq!(played.len(), 39);
    assert_eq!(jb.stats().late, 1);
    assert!(out[60..195].iter().all(|o| *o == Out::Empty), "silence is Empty");
    // The talkspurt plays at the target delay (which decayed only slightly from 100 ms).
    let start = out.iter().position(|o| *o == Out::Frame(200)).unwrap();
    let delay_ms = (u32::try_from(start).unwrap() * FRAME + 7 - (200 * FRAME + BASE_TRANSIT)) / 8;
    assert!(delay_ms >= jb.target_delay_ms() && delay_ms < jb.target_delay_ms() + 20, "{delay_ms} ms");
}

/// A re-INVITE takes the ptime from 20 to 30 ms mid-call: with the new period the buffer plays
/// the far end's 30 ms frames in order, one a pop, from its next packet on, and a 20 ms frame
/// still in flight is not played into the new cadence.
#[test]
fn a_new_frame_period_plays_the_new_stream_in_order() {
    let mut jb = JitterBuffer::new(cfg());
    let out = run(&mut jb, &stream(50, 1000, 5000, |_| Some(0)), 52);
    assert_eq!(frames(&out), (0..48).collect::<Vec<_>>(), "two frames still wait");
    jb.set_frame_ms(30);
    assert_eq!(jb.config().frame_ms, 30);
    // The new stream carries on the sequence and the clock, 240 samples a packet, sent from
    // where the old one stopped; pops go on every 30 ms from where they were.
    const NEW: u32 = 240;
    let t0 = CLOCK_OFFSET.wrapping_add(52 * FRAME + 7);
    let mut buf = [0u8; 480];
    let mut played = Vec::new();
    let mut first = None;
    for k in 0..110u32 {
        let now = t0.wrapping_add(k * NEW);
        if k < 100 {
            let ts = 5000 + 50 * FRAME + k * NEW;
            let arr = Arrival { ssrc: 7, seq: u16::try_from(1050 + k).unwrap(), ts, marker: false };
            jb.push(now.wrapping_sub(NEW / 2), arr, &(1000 + k).to_be_bytes());
        }
        match jb.pop(now, &mut buf) {
            Playout::Frame { len, .. } => {
                assert_eq!(len, 4);
                first.get_or_insert(k);
                played.push(u32::from_be_bytes(buf[..4].try_into().unwrap()));
            }
            other => assert!(first.is_none() || played.len() == 100, "a gap at pop {k} mid-stream: {other:?}"),
        }
    }
    assert_eq!(played, (1000..1100).collect::<Vec<_>>(), "every new frame once, in order, no old one");
    assert!(first.is_some_and(|f| f <= 2), "playout resumed after {first:?} pops");
}

#[test]
fn push_pop_and_concealment_allocate_nothing() {
    let mut jb = JitterBuffer::new(Config { slots: 16, ..cfg() });
    let mut plc = Plc::new();
    let mut block = [0i16; 8];
    let mut rng = Rng(99);
    let pkts = stream(3000, 65000, u32::MAX - 1000, |i| if i % 37 == 0 { None } else { Some(rng.below(1200)) });
    let mut buf = [0u8; 480];
    let payload = [0x55u8; 480];
    ARMED.with(|a| a.set(true));
    let mut next = 0;
    for k in 0..3100u32 {
        let now = CLOCK_OFFSET.wrapping_add(k * FRAME + 7);
        while next < pkts.len() && pkts[next].arrival.wrapping_sub(CLOCK_OFFSET) <= k * FRAME + 7 {
            let p = pkts[next];
            jb.push(p.arrival, p.arr, &payload[..(p.index as usize % 481)]);
            next += 1;
        }
        if k == 1500 {
            jb.set_mode(Mode::Fixed { delay_ms: 80 });
        }
        if k == 2000 {
            jb.set_mode(Mode::Adaptive);
            jb.push(now, Arrival { ssrc: 8, seq: 1, ts: 1, marker: true }, &payload[..10]);
        }
        // What the media thread does with the answer: decode or conceal 20 blocks of 1 ms.
        let missing = jb.pop(now, &mut buf) == Playout::Missing;
        for j in 0..20i16 {
            if missing {
                plc.conceal(&mut block);
            } else {
                block = [j.wrapping_mul(997); 8];
                plc.good(&mut block);
            }
        }
    }
    jb.push(0, Arrival { ssrc: 8, seq: 1, ts: 1, marker: true }, &[0; 600]);
    ARMED.with(|a| a.set(false));
    assert_eq!(COUNT.with(Cell::get), 0, "push, pop or concealment allocated");
    let s = jb.stats();
    assert!(s.received > 2900 && s.lost > 0 && s.resyncs > 0 && s.too_long == 1, "{s:?}");
}
