//! One millisecond of line signal: every timeslot's eight octets plus the line state bits.
//!
//! The payload is indexed by channel number: octets `8*c .. 8*c+8` belong to channel `c`. On E1,
//! channel 0 is TS0 (framing; we carry the CRC-4 remainder there); on T1 and BRI index 0 is unused.
//! The D-channel's HDLC bit stream occupies its channel's octets (8 on PRI, 2 on BRI).
//!
//! The wire form, used by the cross-process cable (one `SOCK_SEQPACKET` datagram per frame):
//! `b"SG"`, version `1`, flags, sequence number (u32 LE), payload length (u16 LE), payload.

use crate::{SpanKind, CHUNK};

/// Payload size: 32 timeslots of 8 octets.
pub const PAYLOAD: usize = 32 * CHUNK;

const MAGIC: [u8; 2] = *b"SG";
const VERSION: u8 = 1;
/// Header length of the wire form.
pub const WIRE_HEADER: usize = 10;
/// The largest datagram of the wire form.
pub const WIRE_MAX: usize = WIRE_HEADER + PAYLOAD;

/// Remote alarm indication (the sender is in RED): the receiver shows YELLOW.
pub const FLAG_RAI: u8 = 0x01;
/// Alarm indication signal (unframed all ones): the receiver shows BLUE.
pub const FLAG_AIS: u8 = 0x02;
/// Analog: the phone side is off hook (loop closed).
pub const FLAG_OFFHOOK: u8 = 0x10;
/// Analog: ringing voltage on the line.
pub const FLAG_RING: u8 = 0x20;
/// Analog: the exchange side feeds battery.
pub const FLAG_BATTERY: u8 = 0x40;

/// One millisecond of signal on one direction of a line.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LineFrame {
    pub flags: u8,
    pub payload: [u8; PAYLOAD],
}

impl Default for LineFrame {
    fn default() -> LineFrame {
        LineFrame { flags: 0, payload: [0; PAYLOAD] }
    }
}

impl std::fmt::Debug for LineFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LineFrame(flags={:#04x}, ts1={:02x?})", self.flags, &self.payload[8..16])
    }
}

/// The octets of the payload a span of `kind` actually uses.
pub const fn live_len(kind: SpanKind) -> usize {
    match kind {
        SpanKind::E1 => 32 * CHUNK,
        SpanKind::T1 => 25 * CHUNK,
        SpanKind::Bri => 4 * CHUNK,
        SpanKind::Fxs | SpanKind::Fxo => 2 * CHUNK,
    }
}

impl LineFrame {
    /// The eight octets of channel `chan`.
    pub fn chunk(&self, chan: u8) -> &[u8; CHUNK] {
        let at = usize::from(chan) * CHUNK;
        self.payload[at..at + CHUNK].try_into().expect("chunk is 8 octets")
    }

    /// The eight octets of channel `chan`, to fill.
    pub fn chunk_mut(&mut self, chan: u8) -> &mut [u8; CHUNK] {
        let at = usize::from(chan) * CHUNK;
        (&mut self.payload[at..at + CHUNK]).try_into().expect("chunk is 8 octets")
    }

    /// Turns this frame into the alarm indication signal: unframed all ones.
    pub fn make_ais(&mut self) {
        self.payload = [0xFF; PAYLOAD];
        self.flags = FLAG_AIS;
    }

    /// Writes the wire form of the first `len` payload octets into `out`; returns its length.
    pub fn encode(&self, seq: u32, len: usize, out: &mut [u8; WIRE_MAX]) -> usize {
        let len = len.min(PAYLOAD);
        out[0..2].copy_from_slice(&MAGIC);
        out[2] = VERSION;
        out[3] = self.flags;
        out[4..8].copy_from_slice(&seq.to_le_bytes());
        // len <= 256 fits a u16.
        out[8..10].copy_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes());
        out[WIRE_HEADER..WIRE_HEADER + len].copy_from_slice(&self.payload[..len]);
        WIRE_HEADER + len
    }

    /// Parses a wire datagram into `self`, returning its sequence number. Never panics.
    pub fn decode(&mut self, datagram: &[u8]) -> Result<u32, WireError> {
        if datagram.len() < WIRE_HEADER {
            return Err(WireError::Short);
        }
        if datagram[0..2] != MAGIC {
            return Err(WireError::BadMagic);
        }
        if datagram[2] != VERSION {
            return Err(WireError::BadVersion(datagram[2]));
        }
        let len = usize::from(u16::from_le_bytes([datagram[8], datagram[9]]));
        if len > PAYLOAD || datagram.len() != WIRE_HEADER + len {
            return Err(WireError::BadLength);
        }
        self.flags = datagram[3];
        self.payload[..len].copy_from_slice(&datagram[WIRE_HEADER..]);
        self.payload[len..].fill(0);
        Ok(u32::from_le_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]))
    }
}

/// Why a cable datagram was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    Short,
    BadMagic,
    BadVersion(u8),
    BadLength,
}

/// CRC-4 (x^4 + x + 1) over the live timeslots, as E1 carries it in TS0 to detect bit errors.
/// T1 ESF carries a CRC-6; the simulation uses the same 4-bit check for both.
///
/// Table-driven: the 4-bit register is kept in the top nibble of an octet, so one lookup
/// consumes a whole octet (the bitwise form cost two thirds of a tick).
pub fn crc4(data: &[u8]) -> u8 {
    let mut reg: u8 = 0;
    for &octet in data {
        reg = CRC4_TABLE[usize::from(reg ^ octet)];
    }
    reg >> 4
}

/// `CRC4_TABLE[i]`: the register (top nibble) after shifting the eight bits of `i` through it.
static CRC4_TABLE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        // i < 256 fits an octet.
        #[allow(clippy::cast_possible_truncation)]
        let mut c = i as u8;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x80 != 0 { (c << 1) ^ 0x30 } else { c << 1 };
            bit += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The bit-serial definition of [`crc4`], kept as the reference the table is tested against.
#[cfg(test)]
fn crc4_bitwise(data: &[u8]) -> u8 {
    let mut crc: u8 = 0;
    for &octet in data {
        for bit in (0..8).rev() {
            let inb = (octet >> bit) & 1;
            let top = (crc >> 3) & 1;
            crc = (crc << 1) & 0x0F;
            if inb ^ top == 1 {
                crc ^= 0x03;
            }
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip() {
        let mut f = LineFrame { flags: FLAG_RAI, ..LineFrame::default() };
        for (i, b) in f.payload.iter_mut().enumerate() {
            *b = (i * 7).to_le_bytes()[0];
        }
        let mut buf = [0; WIRE_MAX];
        let n = f.encode(77, PAYLOAD, &mut buf);
        let mut g = LineFrame::default();
        assert_eq!(g.decode(&buf[..n]), Ok(77));
        assert_eq!(f, g);
    }

    #[test]
    fn bad_datagrams_are_rejected() {
        let mut g = LineFrame::default();
        assert_eq!(g.decode(b"SG"), Err(WireError::Short));
        assert_eq!(g.decode(b"XX\x01\0\0\0\0\0\0\0"), Err(WireError::BadMagic));
        assert_eq!(g.decode(b"SG\x02\0\0\0\0\0\0\0"), Err(WireError::BadVersion(2)));
        assert_eq!(g.decode(b"SG\x01\0\0\0\0\0\x05\0ab"), Err(WireError::BadLength));
        assert_eq!(g.decode(b"SG\x01\0\0\0\0\0\xff\xff"), Err(WireError::BadLength));
    }

    #[test]
    fn crc4_table_matches_the_bitwise_definition() {
        let mut x: u32 = 1;
        for len in 0..300 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    x.to_le_bytes()[3]
                })
                .collect();
            assert_eq!(crc4(&data), crc4_bitwise(&data), "length {len}");
        }
    }

    #[test]
    fn crc4_catches_single_bit_errors() {
        let data: Vec<u8> = (0..248u32).map(|i| (i * 31 % 251) as u8).collect();
        let good = crc4(&data);
        for bit in 0..data.len() * 8 {
            let mut d = data.clone();
            d[bit / 8] ^= 1 << (bit % 8);
            assert_ne!(crc4(&d), good, "bit {bit}");
        }
    }
}
