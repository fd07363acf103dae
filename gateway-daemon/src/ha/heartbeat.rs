//! The HA heartbeat datagram: each node's role, state and own health, authenticated with
//! HMAC-SHA256 under the pair's shared key, numbered by (epoch, sequence) so that a replayed or
//! reordered datagram is refused.
//!
//! Layout (58 bytes, integers big-endian):
//!
//! | off | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `SGHB` |
//! | 4 | 1 | version (1) |
//! | 5 | 1 | configured role: 1 master, 2 slave |
//! | 6 | 1 | state: 0 standby, 1 acquiring, 2 active |
//! | 7 | 1 | flags: bit0 event loop alive, bit1 media thread ticking, bit2 spans up, bit3 yielding, bit4 failback wanted |
//! | 8 | 1 | spans up |
//! | 9 | 1 | spans configured |
//! | 10 | 8 | epoch: chosen at start, higher than any earlier run's (start time in ms) |
//! | 18 | 8 | sequence number, from 1, +1 per datagram |
//! | 26 | 32 | HMAC-SHA256 of bytes 0..26 |
//!
//! HMAC and SHA-256 come from the RustCrypto `hmac` and `sha2` crates: authentication code is
//! where a reviewed implementation with a constant-time tag comparison (`verify_slice`) is worth
//! a dependency, and nothing of ours would be easier to trust.

use std::fmt;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

pub const MAGIC: [u8; 4] = *b"SGHB";
pub const VERSION: u8 = 1;
pub const LEN: usize = 58;
const BODY: usize = 26;

pub const FLAG_LOOP_ALIVE: u8 = 0x01;
pub const FLAG_MEDIA_TICKING: u8 = 0x02;
pub const FLAG_SPANS_UP: u8 = 0x04;
pub const FLAG_YIELDING: u8 = 0x08;
pub const FLAG_FAILBACK: u8 = 0x10;

/// The role a node was configured with (`[ha] role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Slave,
}

/// What a node says about its hold on the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    Standby,
    Acquiring,
    Active,
}

/// A node's own health, as it reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Health {
    pub loop_alive: bool,
    pub media_ticking: bool,
    pub spans_up: u8,
    pub spans_total: u8,
}

impl Health {
    /// Healthy: the event loop and the media thread run. Spans that are down are reported but
    /// do not make a node unhealthy: on a standby node they are down because it lacks the lines.
    pub fn healthy(&self) -> bool {
        self.loop_alive && self.media_ticking
    }

    /// A fully healthy node for tests and the simulated boards.
    pub fn ok(spans: u8) -> Health {
        Health { loop_alive: true, media_ticking: true, spans_up: spans, spans_total: spans }
    }
}

/// One heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub role: Role,
    pub state: PeerState,
    pub health: Health,
    /// The sender is handing the lines over (manual switchover).
    pub yielding: bool,
    /// The master, healthy for the hold time, asks the active slave to hand the lines back.
    pub failback: bool,
    pub epoch: u64,
    pub seq: u64,
}

/// Why a datagram was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    Length(usize),
    Magic,
    Version(u8),
    /// Wrong key or altered bytes.
    Authentication,
    Field {
        offset: usize,
        value: u8,
    },
    /// An (epoch, seq) not newer than the last one accepted.
    Replay {
        epoch: u64,
        seq: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Length(n) => write!(f, "heartbeat of {n} bytes, expected {LEN}"),
            Error::Magic => f.write_str("not a heartbeat (magic)"),
            Error::Version(v) => write!(f, "heartbeat version {v}"),
            Error::Authentication => f.write_str("heartbeat HMAC does not verify"),
            Error::Field { offset, value } => write!(f, "heartbeat byte {offset} = {value}"),
            Error::Replay { epoch, seq } => write!(f, "heartbeat epoch {epoch} seq {seq} replayed or out of order"),
        }
    }
}

impl std::error::Error for Error {}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    <Hmac<Sha256> as hmac::Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

impl Heartbeat {
    pub fn emit(&self, key: &[u8]) -> [u8; LEN] {
        let mut out = [0u8; LEN];
        out[..4].copy_from_slice(&MAGIC);
        out[4] = VERSION;
        out[5] = match self.role {
            Role::Master => 1,
            Role::Slave => 2,
        };
        out[6] = match self.state {
            PeerState::Standby => 0,
            PeerState::Acquiring => 1,
            PeerState::Active => 2,
        };
        let h = &self.health;
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        out[7] = flag(h.loop_alive, FLAG_LOOP_ALIVE)
            | flag(h.media_ticking, FLAG_MEDIA_TICKING)
            | flag(h.spans_total > 0 && h.spans_up == h.spans_total, FLAG_SPANS_UP)
            | flag(self.yielding, FLAG_YIELDING)
            | flag(self.failback, FLAG_FAILBACK);
        out[8] = h.spans_up;
        out[9] = h.spans_total;
        out[10..18].copy_from_slice(&self.epoch.to_be_bytes());
        out[18..26].copy_from_slice(&self.seq.to_be_bytes());
        let mut m = mac(key);
        m.update(&out[..BODY]);
        out[BODY..].copy_from_slice(&m.finalize().into_bytes());
        out
    }

    /// Checks length, magic, version and the HMAC before reading any field.
    pub fn parse(data: &[u8], key: &[u8]) -> Result<Heartbeat, Error> {
        if data.len() != LEN {
            return Err(Error::Length(data.len()));
        }
        if data[..4] != MAGIC {
            return Err(Error::Magic);
        }
        if data[4] != VERSION {
            return Err(Error::Version(data[4]));
        }
        let mut m = mac(key);
        m.update(&data[..BODY]);
        m.verify_slice(&data[BODY..]).map_err(|_| Error::Authentication)?;
        let role = match data[5] {
            1 => Role::Master,
            2 => Role::Slave,
            value => return Err(Error::Field { offset: 5, value }),
        };
        let state = match data[6] {
            0 => PeerState::Standby,
            1 => PeerState::Acquiring,
            2 => PeerState::Active,
            value => return Err(Error::Field { offset: 6, value }),
        };
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&data[o..o + 8]);
            u64::from_be_bytes(b)
        };
        Ok(Heartbeat {
            role,
            state,
            health: Health {
                loop_alive: data[7] & FLAG_LOOP_ALIVE != 0,
                media_ticking: data[7] & FLAG_MEDIA_TICKING != 0,
                spans_up: data[8],
                spans_total: data[9],
            },
            yielding: data[7] & FLAG_YIELDING != 0,
            failback: data[7] & FLAG_FAILBACK != 0,
            epoch: u64_at(10),
            seq: u64_at(18),
        })
    }
}

impl fmt::Display for Heartbeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.health;
        write!(
            f,
            "HB {:?} {:?} epoch={} seq={} loop={} media={} spans={}/{}{}",
            self.role,
            self.state,
            self.epoch,
            self.seq,
            u8::from(h.loop_alive),
            u8::from(h.media_ticking),
            h.spans_up,
            h.spans_total,
            if self.yielding { " YIELDING" } else { "" }
        )
    }
}

/// Accepts only heartbeats newer than the last one: a higher epoch (the peer restarted), or the
/// same epoch with a higher sequence number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayGuard {
    last: Option<(u64, u64)>,
}

impl ReplayGuard {
    pub fn check(&mut self, hb: &Heartbeat) -> Result<(), Error> {
        let now = (hb.epoch, hb.seq);
        match self.last {
            Some(last) if now <= last => Err(Error::Replay { epoch: hb.epoch, seq: hb.seq }),
            _ => {
                self.last = Some(now);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"shared secret of the pair";

    fn hb(seq: u64) -> Heartbeat {
        Heartbeat {
            role: Role::Master,
            state: PeerState::Active,
            health: Health::ok(2),
            yielding: false,
            failback: true,
            epoch: 1_700_000_000_000,
            seq,
        }
    }

    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        // Pins the crates to the RFC's vector: key "Jefe", data "what do ya want for nothing?".
        let mut m = mac(b"Jefe");
        m.update(b"what do ya want for nothing?");
        let tag: Vec<String> = m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tag.concat(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn round_trip_and_layout() {
        let bytes = hb(7).emit(KEY);
        assert_eq!(&bytes[..10], &[b'S', b'G', b'H', b'B', 1, 1, 2, 0x17, 2, 2], "flags: loop, media, spans, failback");
        assert_eq!(&bytes[18..26], &7u64.to_be_bytes());
        let back = Heartbeat::parse(&bytes, KEY).unwrap();
        assert_eq!(back, hb(7));
        assert_eq!(back.to_string(), "HB Master Active epoch=1700000000000 seq=7 loop=1 media=1 spans=2/2");
    }

    #[test]
    fn tampering_and_wrong_keys_are_refused() {
        let bytes = hb(1).emit(KEY);
        assert_eq!(Heartbeat::parse(&bytes, b"other key"), Err(Error::Authentication));
        for i in 5..LEN {
            let mut t = bytes;
            t[i] ^= 0x01;
            assert_eq!(Heartbeat::parse(&t, KEY), Err(Error::Authentication), "byte {i}");
        }
        assert_eq!(Heartbeat::parse(&bytes[..57], KEY), Err(Error::Length(57)));
        let mut v = bytes;
        v[4] = 2;
        assert_eq!(Heartbeat::parse(&v, KEY), Err(Error::Version(2)));
    }

    #[test]
    fn replays_and_old_epochs_are_refused() {
        let mut g = ReplayGuard::default();
        assert!(g.check(&hb(1)).is_ok());
        assert!(g.check(&hb(2)).is_ok());
        assert_eq!(g.check(&hb(2)), Err(Error::Replay { epoch: hb(2).epoch, seq: 2 }));
        assert!(g.check(&hb(1)).is_err());
        let restarted = Heartbeat { epoch: hb(1).epoch + 5000, seq: 1, ..hb(1) };
        assert!(g.check(&restarted).is_ok(), "a restarted peer starts a new epoch");
        assert!(g.check(&hb(3)).is_err(), "the old epoch is over");
    }
}
