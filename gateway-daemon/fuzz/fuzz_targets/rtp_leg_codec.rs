//! Fuzz target: a SIP leg's media path with any codec (`media_rtp::RtpLeg` + `media_codec`). The
//! first byte picks the codec and ptime; then each record is one tick: a received packet of any
//! payload (any sequence number, timestamp and length), or a codec swap as a re-INVITE makes.
//! Nothing may panic, and every frame built holds exactly its codec's octets for its samples.
#![no_main]

use gateway_daemon::media_codec::{LegCodec, PayloadCodec};
use gateway_daemon::media_rtp::{Frame, Incoming, RtpLeg};
use libfuzzer_sys::fuzz_target;
use media_dsp::g711::Law;
use media_dsp::jitter::{Arrival, Config, JitterBuffer};

const CODECS: [PayloadCodec; 4] = [PayloadCodec::Pcma, PayloadCodec::Pcmu, PayloadCodec::G722, PayloadCodec::G729];

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else { return };
    let codec = CODECS[usize::from(first % 4)];
    let ptime = [10u16, 20, 30, 60][usize::from(first >> 2 & 3)];
    let jb = Box::new(JitterBuffer::new(Config { frame_ms: u32::from(ptime), ..Config::default() }));
    let mut leg = RtpLeg::new(1, 0, 1, Law::Alaw, Box::new(LegCodec::new(codec)), ptime, jb);
    while rest.len() >= 6 {
        let (head, tail) = rest.split_at(6);
        let len = usize::from(head[5]).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        match head[0] % 8 {
            0 => {
                let swap = CODECS[usize::from(head[1] % 4)];
                let _old =
                    leg.replace_codec(Box::new(LegCodec::new(swap)), [10u16, 20, 30, 60][usize::from(head[2] % 4)]);
            }
            _ => {
                let arrival = Arrival {
                    ssrc: 7,
                    seq: u16::from_be_bytes([head[1], head[2]]),
                    ts: u32::from(u16::from_be_bytes([head[3], head[4]])) * 80,
                    marker: head[0] & 0x80 != 0,
                };
                if let Some(frame) = Frame::from_slice(payload) {
                    leg.receive(&Incoming { arrival, frame });
                }
            }
        }
        // A few ticks per record, with the payload's bytes as the channel's audio.
        for k in 0..usize::from(head[0] >> 4) + 1 {
            let _ = leg.next_chunk();
            let pcm: [i16; 8] = std::array::from_fn(|i| i16::from(payload.get(k * 8 + i).copied().unwrap_or(0)) << 7);
            if let Some(f) = leg.take_chunk(&pcm) {
                let expect = leg.codec.payload_len(usize::from(f.samples));
                assert_eq!(usize::from(f.len), expect, "{:?}: {} samples", f.codec, f.samples);
            }
        }
    }
});
