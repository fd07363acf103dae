//! Fuzz target: the jitter buffer and the concealment behind it. The input is a script of
//! operations (push a packet with arbitrary header fields and payload length, pop, move the clock,
//! switch mode); nothing may panic, a popped frame must fit the slot it came from, and the counters
//! must stay consistent with what was pushed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_dsp::jitter::{Arrival, Config, JitterBuffer, Mode, Playout, Push};
use media_dsp::plc::Plc;

fuzz_target!(|data: &[u8]| {
    let Some((&size, mut rest)) = data.split_first() else { return };
    let cfg = Config { slots: usize::from(size % 40), max_payload: 160, ..Config::default() };
    let mut jb = JitterBuffer::new(cfg);
    let mut plc = Plc::new();
    let mut now = 0u32;
    let mut out = [0u8; 160];
    let mut pushed = 0u64;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 5 {
            0 | 1 => {
                if rest.len() < 12 {
                    return;
                }
                let (h, tail) = rest.split_at(12);
                rest = tail;
                let arr = Arrival {
                    ssrc: u32::from(h[0] & 3),
                    seq: u16::from_be_bytes([h[1], h[2]]),
                    ts: u32::from_be_bytes([h[3], h[4], h[5], h[6]]),
                    marker: h[7] & 1 == 1,
                };
                let len = usize::from(h[8]);
                let payload = [h[9]; 255];
                now = now.wrapping_add(u32::from(u16::from_be_bytes([h[10], h[11]])));
                pushed += 1;
                let r = jb.push(now, arr, &payload[..len]);
                assert!(len <= 160 || r == Push::TooLong);
            }
            2 => match jb.pop(now, &mut out) {
                Playout::Frame { len, .. } => {
                    assert!(len <= 160);
                    let mut block = [i16::from(out[0]); 8];
                    plc.good(&mut block);
                }
                Playout::Missing => {
                    let mut block = [0; 8];
                    plc.conceal(&mut block);
                }
                Playout::Empty => {}
            },
            3 => now = now.wrapping_add(160),
            _ => {
                let m = rest.first().copied().unwrap_or(0);
                jb.set_mode(if m & 1 == 0 { Mode::Adaptive } else { Mode::Fixed { delay_ms: u32::from(m) } });
            }
        }
        let s = jb.stats();
        assert_eq!(s.received, pushed);
        assert!(s.duplicate + s.late + s.too_long <= s.received);
        assert!(s.buffered as usize <= cfg.slots.max(2));
    }
});
