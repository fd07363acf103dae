//! A G.729 leg coded by the TC400B (`transcoding = "hardware"`), without a card: the leg's
//! `G729Pair` is two datagram socket pairs and a fake card on their far ends answers like
//! wctc4xxp, asynchronously, one frame late, with our own G.729A encoder and decoder. Checks a tone
//! crosses both ways within 2% with the card's latency and no gaps, the fallback to the software
//! codec when the card cannot give a channel, and that the media-thread calls allocate nothing.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixDatagram;

use dahdi_driver::transcoder::{Format, G729Pair, TranscoderError};
use gateway_daemon::media_codec::{self, LegCodec, PayloadCodec};
use gateway_daemon::media_rtp::{Frame, Incoming, RtpLeg};
use media_dsp::g711::Law;
use media_dsp::g729;
use media_dsp::jitter::{Arrival, Config, JitterBuffer};

#[path = "../../media-dsp/tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, ARMED, COUNT};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with this thread's allocations counted; returns them added to `total`.
fn counted<R>(total: &mut u64, f: impl FnOnce() -> R) -> R {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    let r = f();
    ARMED.with(|a| a.set(false));
    *total += COUNT.with(std::cell::Cell::get);
    r
}

/// Sample `i` of a `hz` sine at 8 kHz, amplitude 8000.
#[allow(clippy::cast_possible_truncation)]
fn sine(hz: f64, i: usize) -> i16 {
    let t = f64::from(u32::try_from(i).expect("short signal")) / 8000.0;
    (8000.0 * (std::f64::consts::TAU * hz * t).sin()).round() as i16
}

/// Frequency from zero crossings and RMS of 8 kHz `x`.
fn tone(x: &[i16]) -> (f64, f64) {
    let n = x.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    let len = f64::from(u32::try_from(x.len()).expect("len"));
    let rms = (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / len).sqrt();
    (f64::from(u32::try_from(n).expect("count")) / 2.0 / (len / 8000.0), rms)
}

/// The far ends of a leg's two channels, answering each input 10 ms (80 samples of time) after
/// it came, as the card works on its own clock.
struct FakeCard {
    enc_side: UnixDatagram,
    dec_side: UnixDatagram,
    enc: g729::Encoder,
    dec: g729::Decoder,
    /// Answers not sent yet: (due time in samples, towards the encoder side?, octets).
    pending: Vec<(usize, bool, Vec<u8>)>,
}

/// How late the fake card answers, in 8 kHz samples.
const LATE: usize = 80;

/// A leg on a fake card (A-law line).
fn leg_on_fake_card() -> (LegCodec, FakeCard) {
    let (enc_leg, enc_side) = UnixDatagram::pair().expect("socketpair");
    let (dec_leg, dec_side) = UnixDatagram::pair().expect("socketpair");
    for s in [&enc_leg, &dec_leg, &enc_side, &dec_side] {
        s.set_nonblocking(true).expect("non-blocking");
    }
    let file = |s: UnixDatagram| File::from(OwnedFd::from(s));
    let pair = G729Pair::from_files(hal::Law::Alaw, file(enc_leg), file(dec_leg));
    let leg = LegCodec::g729_on(Ok(pair), Law::Alaw);
    let card =
        FakeCard { enc_side, dec_side, enc: g729::Encoder::new(), dec: g729::Decoder::new(), pending: Vec::new() };
    (leg, card)
}

impl FakeCard {
    /// At time `now` (samples): sends the answers that are due, then takes whatever the leg wrote.
    fn service(&mut self, now: usize) {
        let (due, later): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|p| p.0 <= now);
        self.pending = later;
        for (_, enc, bytes) in due {
            let side = if enc { &self.enc_side } else { &self.dec_side };
            side.send(&bytes).expect("answer");
        }
        let mut buf = [0u8; 1024];
        while let Ok(n) = self.enc_side.recv(&mut buf) {
            assert_eq!(n, G729Pair::LAW_FRAME, "the leg writes whole 10 ms law frames");
            let pcm: Vec<i16> = buf[..n].iter().map(|&c| Law::Alaw.decode(c)).collect();
            let frame = self.enc.encode(&pcm.try_into().expect("80 samples")).to_vec();
            self.pending.push((now + LATE, true, frame));
        }
        while let Ok(n) = self.dec_side.recv(&mut buf) {
            assert_eq!(n % g729::FRAME_BYTES, 0, "the leg writes whole G.729A frames");
            let mut law = Vec::new();
            for f in buf[..n].chunks_exact(g729::FRAME_BYTES) {
                let mut pcm = [0i16; g729::L_FRAME];
                self.dec.decode(Some(f.try_into().expect("10 octets")), &mut pcm);
                law.extend(pcm.iter().map(|&s| Law::Alaw.encode(s)));
            }
            self.pending.push((now + LATE, false, law));
        }
    }
}

#[test]
fn a_tone_crosses_the_card_both_ways_late_but_whole_and_without_allocating() {
    let (mut leg, mut card) = leg_on_fake_card();
    assert!(leg.on_card());
    assert_eq!(
        (leg.label(), leg.codec().name(), leg.quantum(), leg.payload_len(160)),
        ("G729 (tc400b)", "G729", 80, 20)
    );
    let mut allocs = 0;

    // Towards RTP: 2 s of 1 kHz, a 10-octet frame every 10 ms from the first frame on.
    let mut frames: Vec<[u8; 10]> = Vec::with_capacity(200);
    for k in 0..2000 {
        let pcm: [i16; 8] = std::array::from_fn(|i| sine(1000.0, k * 8 + i));
        let mut out = [0u8; 10];
        card.service(k * 8);
        let n = counted(&mut allocs, || leg.encode(&pcm, &mut out));
        if k % 10 == 9 {
            assert_eq!(n, 10, "chunk {k}: a frame every 10 ms, even while the card has nothing yet");
            frames.push(out);
        } else {
            assert_eq!(n, 0, "chunk {k}");
        }
    }
    assert_eq!(frames.len(), 200);
    let silence = g729::Encoder::new().encode(&[0; 80]);
    // The card sees a frame at its next look (a chunk later) and answers 10 ms after: two slots
    // of silence, then exactly the card's coding of the first frame, the rest in turn.
    assert_eq!(&frames[..2], &[silence, silence]);
    let first: [i16; 80] = std::array::from_fn(|i| Law::Alaw.decode(Law::Alaw.encode(sine(1000.0, i))));
    assert_eq!(frames[2], g729::Encoder::new().encode(&first), "the card's answer to the first frame");
    let mut dec = g729::Decoder::new();
    let mut heard = Vec::new();
    for f in &frames {
        let mut pcm = [0i16; 80];
        dec.decode(Some(f), &mut pcm);
        heard.extend_from_slice(&pcm);
    }
    let (hz, rms) = tone(&heard[800..]);
    assert!((hz / 1000.0 - 1.0).abs() < 0.02, "towards RTP the tone came out at {hz:.1} Hz");
    assert!(rms > 3000.0, "towards RTP: rms {rms:.0}");
    // No gap: every 20 ms after the start carries the tone.
    for (i, w) in heard[800..].chunks_exact(160).enumerate() {
        assert!(tone(w).1 > 2000.0, "gap towards RTP at 20 ms block {i}");
    }

    // From RTP: 20 ms packets of 600 Hz from a phone's encoder.
    let mut enc = g729::Encoder::new();
    let mut played = Vec::new();
    for k in 0..100 {
        let mut payload = [0u8; 20];
        for (j, part) in payload.chunks_exact_mut(10).enumerate() {
            let pcm: [i16; 80] = std::array::from_fn(|i| sine(600.0, k * 160 + j * 80 + i));
            part.copy_from_slice(&enc.encode(&pcm));
        }
        let mut out = [0i16; 160];
        card.service(k * 160);
        let n = counted(&mut allocs, || leg.decode(&payload, &mut out));
        // The card sees a packet at the next slot and answers 10 ms later: nothing for the first
        // two packets, then each brings the one two before it.
        assert_eq!(n, if k < 2 { 0 } else { 160 }, "packet {k}");
        played.extend_from_slice(&out[..n]);
    }
    let (hz, rms) = tone(&played[400..]);
    assert!((hz / 600.0 - 1.0).abs() < 0.02, "from RTP the tone came out at {hz:.1} Hz");
    assert!(rms > 3000.0, "from RTP: rms {rms:.0}");
    for (i, w) in played[400..].chunks_exact(160).enumerate() {
        assert!(tone(w).1 > 2000.0, "gap from RTP at 20 ms block {i}");
    }
    // A lost packet with nothing decoded waiting is left to the caller's PLC; with audio the card
    // has just decoded waiting, that audio plays.
    let mut out = [0i16; 160];
    card.service(100 * 160);
    assert!(counted(&mut allocs, || leg.conceal(&mut out)), "the last packet's audio was still at the card");
    assert!(tone(&out).1 > 2000.0);
    assert!(!counted(&mut allocs, || leg.conceal(&mut out)), "nothing left: the caller conceals");
    assert_eq!(leg.hw_errors(), 0);
    assert_eq!(allocs, 0, "allocations on the media path of a card-coded leg");
}

#[test]
fn a_card_that_goes_away_is_counted_and_the_leg_goes_on() {
    let (mut leg, card) = leg_on_fake_card();
    drop(card);
    let mut out = [0u8; 10];
    for _ in 0..9 {
        assert_eq!(leg.encode(&[100; 8], &mut out), 0);
    }
    // The frame still goes out (silence) in its slot; the failed write is counted, not thrown.
    assert_eq!(leg.encode(&[100; 8], &mut out), 10);
    let mut pcm = [0i16; 160];
    assert_eq!(leg.decode(&[0u8; 20], &mut pcm), 0);
    assert_eq!(leg.decode(&[0u8; 3], &mut pcm), 0, "no whole frame: nothing written, nothing played");
    assert!(!leg.conceal(&mut pcm));
    assert!(leg.hw_errors() >= 2, "errors {}", leg.hw_errors());
    // The process-wide total (the metric) has every leg's errors, this one's among them.
    assert!(media_codec::hw_errors() >= leg.hw_errors(), "total {}", media_codec::hw_errors());
}

#[test]
fn a_busy_card_falls_back_to_the_software_codec_and_counts_it() {
    let before = media_codec::hw_fallbacks();
    let busy = Err(TranscoderError::Busy { from: Format::Alaw, to: Format::G729A });
    let mut leg = LegCodec::g729_on(busy, Law::Alaw);
    assert!(!leg.on_card());
    assert_eq!((leg.label(), leg.codec()), ("G729", PayloadCodec::G729));
    assert_eq!(media_codec::hw_fallbacks(), before + 1);
    // It codes: our encoder gives a frame after 80 samples.
    let mut out = [0u8; 10];
    let n: usize = (0..10).map(|_| leg.encode(&[0; 8], &mut out)).sum();
    assert_eq!(n, 10);
    // Without a card at all the same happens; only G.729 asks for the card.
    if !std::path::Path::new(dahdi_driver::transcoder::TRANSCODE_DEVICE).exists() {
        assert!(!LegCodec::for_leg(PayloadCodec::G729, true, Law::Mulaw).on_card());
        assert!(media_codec::hw_fallbacks() >= before + 2);
    }
    assert_eq!(LegCodec::for_leg(PayloadCodec::Pcma, true, Law::Alaw).label(), "PCMA");
    assert_eq!(LegCodec::for_leg(PayloadCodec::G729, false, Law::Alaw).label(), "G729");
}

#[test]
fn a_card_running_ahead_is_bounded_in_order_and_counted() {
    let (mut leg, card) = leg_on_fake_card();
    // Nine frames answered at once, one per read as the kernel hands them, numbered.
    for id in 1..=9u8 {
        card.enc_side.send(&[id; 10]).expect("answer");
    }
    let mut sent = Vec::new();
    for _ in 0..6 {
        let mut out = [0u8; 10];
        let n: usize = (0..10).map(|_| leg.encode(&[0; 8], &mut out)).sum();
        assert_eq!(n, 10, "one frame per 10 ms slot, however many the card has ready");
        sent.push(out[0]);
    }
    // Four read per slot and four kept: the oldest dropped for the newer, order kept.
    assert!(sent.windows(2).all(|w| w[0] < w[1]), "in order: {sent:?}");
    assert_eq!(sent.last(), Some(&9), "the newest frame still goes out: {sent:?}");
    assert!(leg.hw_errors() >= 1, "dropped frames are counted");
    drop(card);
}

#[test]
fn a_card_coded_rtp_leg_sends_whole_frames_plays_the_tone_and_never_allocates() {
    // The whole leg as the media thread runs it: 4 s of 20 ms G.729A packets of 600 Hz in (one in
    // ten lost), 1 kHz from the channel out, the card one frame late.
    let mut enc = g729::Encoder::new();
    let packets: Vec<Incoming> = (0..200u16)
        .map(|k| {
            let mut payload = Vec::new();
            for f in 0..2 {
                let pcm: [i16; 80] = std::array::from_fn(|i| sine(600.0, usize::from(k) * 160 + f * 80 + i));
                payload.extend_from_slice(&enc.encode(&pcm));
            }
            let arrival = Arrival { ssrc: 9, seq: k, ts: u32::from(k) * 160, marker: k == 0 };
            Incoming { arrival, frame: Frame::from_slice(&payload).expect("fits") }
        })
        .collect();
    let (codec, mut card) = leg_on_fake_card();
    let jb = Box::new(JitterBuffer::new(Config { frame_ms: 20, ..Config::default() }));
    let mut leg = RtpLeg::new(1, 0, 1, Law::Alaw, Box::new(codec), 20, jb);
    let mut played: Vec<i16> = Vec::with_capacity(32_000);
    let mut sent: Vec<Frame> = Vec::with_capacity(200);
    let mut allocs = 0;
    for tick in 0..4_000usize {
        let pcm: [i16; 8] = std::array::from_fn(|i| sine(1000.0, tick * 8 + i));
        card.service(tick * 8);
        let (chunk, frame) = counted(&mut allocs, || {
            if tick % 20 == 0 && tick / 20 % 10 != 9 {
                leg.receive(&packets[tick / 20]);
            }
            (leg.next_chunk(), leg.take_chunk(&pcm))
        });
        played.extend(chunk.iter().map(|&c| Law::Alaw.decode(c)));
        sent.extend(frame);
    }
    assert_eq!(allocs, 0, "allocations on a card-coded leg");
    assert_eq!(sent.len(), 200, "one 20 ms frame per 20 ticks, from the first");
    assert!(sent.iter().all(|f| (f.len, f.samples) == (20, 160)), "20 octets, 160 timestamp units each");
    let hz = tone(&played[8_000..28_000]).0;
    assert!((hz / 600.0 - 1.0).abs() < 0.02, "played {hz:.1} Hz, sent 600 Hz");
    // A lost packet leaves the card a slot late: that slot is concealed, never a hole.
    for (i, w) in played[8_000..28_000].chunks_exact(160).enumerate() {
        assert!(tone(w).1 > 1000.0, "hole in the played audio at 20 ms block {i}: rms {:.0}", tone(w).1);
    }
    let mut dec = g729::Decoder::new();
    let mut heard = Vec::new();
    for f in &sent {
        for part in f.bytes().chunks_exact(10) {
            let mut pcm = [0i16; 80];
            dec.decode(Some(part.try_into().expect("10 octets")), &mut pcm);
            heard.extend_from_slice(&pcm);
        }
    }
    let hz = tone(&heard[800..]).0;
    assert!((hz / 1000.0 - 1.0).abs() < 0.02, "sent {hz:.1} Hz for a 1 kHz channel");
}
