//! A simulated far end's 2-wire hybrid: a delayed, attenuated copy of what the far end receives
//! on each bearer channel is added to what it sends back, the line echo a gateway must cancel.
//!
//! It works on the companded samples of the line, so it carries its own small G.711 codec (hal
//! depends on std only; media-dsp has the fast table-driven one). The delay line is allocated
//! when the echo path is installed; mixing a tick allocates nothing.

use crate::{Law, CHUNK};

use super::frame::LineFrame;

/// The echo a simulated far end returns: `delay_ms` of round trip, `erl_db` of loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EchoPath {
    /// Delay between a sample arriving at the far end and its echo leaving it, in ms.
    pub delay_ms: u32,
    /// Echo return loss in dB (6 dB is G.168's worst case; real hybrids give 10-20 dB).
    pub erl_db: f64,
}

/// Longest delay accepted: the longest tail the canceller covers (128 ms) is the useful limit,
/// this leaves room to test beyond it.
pub const MAX_ECHO_DELAY_MS: u32 = 500;

/// The hybrid of one far end: one delay line per bearer channel.
#[derive(Debug)]
pub(crate) struct Hybrid {
    chans: Vec<u8>,
    gain: f32,
    delay: usize,
    /// `chans.len()` rings of `len` linear samples each.
    ring: Vec<i16>,
    len: usize,
    pos: usize,
}

impl Hybrid {
    pub(crate) fn new(path: EchoPath, bchans: &[u8]) -> Hybrid {
        let delay = path.delay_ms.min(MAX_ECHO_DELAY_MS) as usize * CHUNK;
        let len = delay + CHUNK;
        // A level ratio, applied to amplitudes.
        #[allow(clippy::cast_possible_truncation, reason = "a gain below 1 fits an f32")]
        let gain = 10f64.powf(-path.erl_db / 20.0) as f32;
        Hybrid { chans: bchans.to_vec(), gain, delay, ring: vec![0; bchans.len() * len], len, pos: 0 }
    }

    /// Adds to `out` (what the far end sends this tick) the echo of what it received, `rx`.
    pub(crate) fn mix(&mut self, law: Law, rx: &LineFrame, out: &mut LineFrame) {
        for (c, &ts) in self.chans.iter().enumerate() {
            let ring = &mut self.ring[c * self.len..(c + 1) * self.len];
            let heard = rx.chunk(ts);
            let said = out.chunk_mut(ts);
            for k in 0..CHUNK {
                let w = (self.pos + k) % self.len;
                ring[w] = decode(law, heard[k]);
                let r = (w + self.len - self.delay) % self.len;
                let echo = f32::from(ring[r]) * self.gain;
                let v = f32::from(decode(law, said[k])) + echo;
                // Saturating float-to-int conversion: a loud echo clips as a real line would.
                #[allow(clippy::cast_possible_truncation, reason = "saturating conversion is the intent")]
                let s = v.round() as i16;
                said[k] = encode(law, s);
            }
        }
        self.pos = (self.pos + CHUNK) % self.len;
    }
}

/// One G.711 code as a linear 16-bit sample.
pub(crate) fn decode(law: Law, code: u8) -> i16 {
    match law {
        Law::Alaw => {
            let a = code ^ 0x55;
            let seg = (a >> 4) & 7;
            let mut t = (i16::from(a & 0x0f) << 4) + 8;
            if seg >= 1 {
                t += 0x100;
            }
            if seg > 1 {
                t <<= seg - 1;
            }
            if a & 0x80 != 0 {
                t
            } else {
                -t
            }
        }
        Law::Mulaw => {
            let u = !code;
            let t = ((i16::from(u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
            if u & 0x80 != 0 {
                0x84 - t
            } else {
                t - 0x84
            }
        }
    }
}

/// One linear sample as a G.711 code (G.711's segment rule, as in the classic `g711.c`).
pub(crate) fn encode(law: Law, pcm: i16) -> u8 {
    // The segment whose upper end first covers `v`, 8 when none does.
    fn segment(v: i32, ends: &[i32; 8]) -> u8 {
        let i = ends.iter().position(|&e| v <= e).unwrap_or(8);
        u8::try_from(i).unwrap_or(8)
    }
    // Every value below is masked to 8 bits before the conversion.
    let low = |v: i32| u8::try_from(v & 0xff).unwrap_or(0);
    match law {
        Law::Alaw => {
            let mut v = i32::from(pcm) >> 3;
            let mask = if v >= 0 {
                0xD5
            } else {
                v = -v - 1;
                0x55
            };
            let seg = segment(v, &[0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]);
            if seg >= 8 {
                return 0x7F ^ mask;
            }
            let shift = if seg < 2 { 1 } else { u32::from(seg) };
            (seg << 4 | low((v >> shift) & 0xf)) ^ mask
        }
        Law::Mulaw => {
            let mut v = i32::from(pcm) >> 2;
            let mask = if v < 0 {
                v = -v;
                0x7F
            } else {
                0xFF
            };
            v = v.min(8159) + 0x21;
            let seg = segment(v, &[0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]);
            if seg >= 8 {
                return 0x7F ^ mask;
            }
            (seg << 4 | low((v >> (u32::from(seg) + 1)) & 0xf)) ^ mask
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_survives_decode_then_encode() {
        for law in [Law::Alaw, Law::Mulaw] {
            for code in 0..=255u8 {
                // mu-law has two zeros (0x7F and 0xFF); encoding picks the positive one.
                let want = if law == Law::Mulaw && code == 0x7F { 0xFF } else { code };
                assert_eq!(encode(law, decode(law, code)), want, "{law:?} code {code:#04x}");
            }
            // A-law has no zero: its idle code is the smallest positive step, +8.
            assert!(decode(law, law.idle_code()).abs() <= 8, "{law:?} idle code is silence");
        }
        assert_eq!(decode(Law::Alaw, 0xAA), 32256, "A-law full scale");
        assert_eq!(decode(Law::Mulaw, 0x80), 32124, "mu-law full scale");
    }

    #[test]
    fn the_hybrid_returns_a_delayed_attenuated_copy() {
        let law = Law::Alaw;
        let mut h = Hybrid::new(EchoPath { delay_ms: 3, erl_db: 6.0 }, &[1, 2]);
        let mut heard = Vec::new();
        for tick in 0..10 {
            let mut rx = LineFrame::default();
            let mut out = LineFrame::default();
            for ts in [1, 2] {
                out.chunk_mut(ts).fill(law.idle_code());
                // Timeslot 1 hears a 1 ms burst at tick 2; timeslot 2 hears silence.
                let v = if tick == 2 && ts == 1 { 8000 } else { 0 };
                rx.chunk_mut(ts).fill(encode(law, v));
            }
            h.mix(law, &rx, &mut out);
            heard.push((decode(law, out.chunk(1)[0]), decode(law, out.chunk(2)[0])));
        }
        for (tick, (one, two)) in heard.into_iter().enumerate() {
            // A-law silence is +8, whose echo stays within the smallest step.
            assert!(two.abs() <= 8, "silence echoes as silence: {two}");
            if tick == 5 {
                // 8000 * 10^(-6/20) = 4009, within A-law's step at that level.
                assert!((3900..=4100).contains(&one), "tick 5: {one}");
            } else {
                assert!(one.abs() <= 8, "tick {tick}: {one}");
            }
        }
    }
}
