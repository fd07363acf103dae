//! The media thread's call-progress tone players: one per bearer channel the switch asked a tone
//! on (`MediaCmd::Tone`), replacing what the channel is sent (toward TDM) with the zone's tone.
//!
//! The switch plays dial tone after SETUP ACKNOWLEDGE, ringback while a far end that gives no
//! in-band progress (a SIP 180 without SDP) rings, and busy or congestion after a DISCONNECT
//! with progress indicator #8 (see `switch`'s module doc). Whatever else feeds the channel (a
//! cross-connect, an RTP leg) still runs; the player writes after it each tick, so the tone
//! wins until it is stopped, and the canceller's reference is the tone.
//!
//! Nothing here allocates, locks or logs: the table is reserved before the loop, a player is a
//! [`ToneGenerator`] (phasors and a `'static` cadence) and the tones are `'static` zone entries.

use hal::CHUNK;
use media_dsp::g711;
use media_dsp::tones::{Tone, ToneGenerator};

use crate::media::Endpoint;

/// Channels playing a tone at once: every bearer channel of the largest board.
pub const MAX_TONES: usize = 256;

/// One channel's tone.
#[derive(Debug)]
struct Player {
    ep: Endpoint,
    law: g711::Law,
    /// The channel's canceller (index into the media thread's), whose reference is the tone.
    echo: Option<usize>,
    gen: ToneGenerator,
}

/// Every tone being played, in a table reserved before the loop.
#[derive(Debug)]
pub struct TonePlayers {
    players: Vec<Player>,
}

impl Default for TonePlayers {
    fn default() -> Self {
        TonePlayers::new()
    }
}

impl TonePlayers {
    /// Allocates the table (before the media loop starts).
    pub fn new() -> TonePlayers {
        TonePlayers { players: Vec::with_capacity(MAX_TONES) }
    }

    /// Starts `tone` on `ep` from the beginning of its cadence (replacing a tone already there),
    /// or stops it with `None`; true when `ep` stopped playing (the caller idles the channel
    /// unless something else feeds it). A full table refuses a new tone: the caller hears
    /// nothing rather than the media thread allocating.
    pub fn set(&mut self, ep: Endpoint, law: g711::Law, echo: Option<usize>, tone: Option<&'static Tone>) -> bool {
        let at = self.players.iter().position(|p| p.ep == ep);
        match (at, tone) {
            (Some(i), Some(t)) => {
                self.players[i] = Player { ep, law, echo, gen: ToneGenerator::new(t) };
                false
            }
            (None, Some(t)) => {
                if self.players.len() < self.players.capacity() {
                    // Within the capacity reserved in `new`: no allocation.
                    self.players.push(Player { ep, law, echo, gen: ToneGenerator::new(t) });
                }
                false
            }
            (Some(i), None) => {
                self.players.swap_remove(i);
                true
            }
            (None, None) => false,
        }
    }

    /// Whether `ep` plays a tone.
    pub fn playing(&self, ep: Endpoint) -> bool {
        self.players.iter().any(|p| p.ep == ep)
    }

    /// One tick: the next chunk of every tone, encoded in its span's law, handed to `write` with
    /// the channel's canceller.
    pub fn tick(&mut self, mut write: impl FnMut(Endpoint, Option<usize>, &[u8; CHUNK])) {
        for p in &mut self.players {
            let mut pcm = [0i16; CHUNK];
            p.gen.process(&mut pcm);
            let mut chunk = [0u8; CHUNK];
            g711::encode_chunk(p.law, &pcm, &mut chunk);
            write(p.ep, p.echo, &chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ts: u8) -> Endpoint {
        Endpoint { node: 0, ts }
    }

    /// Milliseconds of tone (any sample off the idle level) in `ms` ticks of channel `ts`.
    fn audible_ms(t: &mut TonePlayers, ts: u8, ms: usize) -> Vec<bool> {
        let mut on = Vec::new();
        for _ in 0..ms {
            let mut heard = None;
            t.tick(|e, _, c| {
                if e == ep(ts) {
                    heard = Some(c.iter().any(|&b| g711::Law::Alaw.decode(b).unsigned_abs() > 64));
                }
            });
            on.push(heard.unwrap_or(false));
        }
        on
    }

    #[test]
    fn a_tone_follows_its_cadence_and_stops_when_told() {
        let fr = media_dsp::tones::zone("fr").unwrap();
        let mut t = TonePlayers::new();
        t.set(ep(3), g711::Law::Alaw, None, Some(&fr.busy));
        assert!(t.playing(ep(3)) && !t.playing(ep(4)));
        let on = audible_ms(&mut t, 3, 2000);
        // fr busy: 500 ms on, 500 ms off.
        for (ms, &o) in on.iter().enumerate() {
            assert_eq!(o, (ms / 500) % 2 == 0, "at {ms} ms");
        }
        // Another tone on the same channel replaces it from the start of its cadence.
        t.set(ep(3), g711::Law::Alaw, None, Some(&fr.ringback));
        let on = audible_ms(&mut t, 3, 5000);
        assert_eq!(on.iter().filter(|&&o| o).count(), 1500, "fr ringback: 1.5 s on in 5 s");
        assert!(on[..1500].iter().all(|&o| o) && !on[1500..].iter().any(|&o| o));
        assert!(t.set(ep(3), g711::Law::Alaw, None, None), "stopping says the channel went quiet");
        assert!(!t.set(ep(3), g711::Law::Alaw, None, None), "nothing left to stop");
        assert!(audible_ms(&mut t, 3, 10).iter().all(|&o| !o));
    }

    #[test]
    fn the_table_never_grows_past_its_reservation() {
        let us = media_dsp::tones::zone("us").unwrap();
        let mut t = TonePlayers::new();
        for i in 0..=MAX_TONES {
            let e = Endpoint { node: i / 32, ts: u8::try_from(i % 32).unwrap() };
            t.set(e, g711::Law::Mulaw, None, Some(&us.dial));
        }
        assert_eq!(t.players.len(), MAX_TONES);
        assert_eq!(t.players.capacity(), MAX_TONES);
    }
}
