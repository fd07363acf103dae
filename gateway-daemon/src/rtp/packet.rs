//! RTP fixed header (RFC 3550 §5.1): a checked view over received bytes and an owned `RtpRepr` to
//! parse and emit, with a trace `Display`. Parsing never panics on any input.

use std::fmt;

/// The only RTP version there is.
pub const VERSION: u8 = 2;
/// Length of the fixed header without CSRCs or extension.
pub const HEADER_LEN: usize = 12;

/// Why a datagram is not an RTP packet we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Shorter than the header, its CSRC list or its extension says.
    Truncated,
    /// Version field other than 2.
    Version(u8),
    /// The padding count is zero or longer than the payload (RFC 3550 A.1's validity check).
    Padding,
    /// Payload type 72-76 (RTCP SR/RR/SDES/BYE/APP with the marker set): RTCP on the RTP port.
    RtcpPayloadType(u8),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => write!(f, "truncated RTP packet"),
            Error::Version(v) => write!(f, "RTP version {v}, expected 2"),
            Error::Padding => write!(f, "bad RTP padding count"),
            Error::RtcpPayloadType(pt) => write!(f, "payload type {pt} is RTCP"),
        }
    }
}

impl std::error::Error for Error {}

/// A checked view of one RTP packet: every accessor is in bounds once `new_checked` succeeded.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    buf: &'a [u8],
    payload_start: usize,
    payload_end: usize,
}

impl<'a> Packet<'a> {
    /// Checks the header, the CSRC list, the extension and the padding against the length.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        if buf.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let version = buf[0] >> 6;
        if version != VERSION {
            return Err(Error::Version(version));
        }
        let pt = buf[1] & 0x7f;
        if (72..=76).contains(&pt) {
            return Err(Error::RtcpPayloadType(pt));
        }
        let mut start = HEADER_LEN + 4 * usize::from(buf[0] & 0x0f);
        if buf.len() < start {
            return Err(Error::Truncated);
        }
        if buf[0] & 0x10 != 0 {
            let ext = buf.get(start..start + 4).ok_or(Error::Truncated)?;
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            start += 4 + 4 * words;
            if buf.len() < start {
                return Err(Error::Truncated);
            }
        }
        let mut end = buf.len();
        if buf[0] & 0x20 != 0 {
            let pad = usize::from(buf[end - 1]);
            if pad == 0 || pad > end - start {
                return Err(Error::Padding);
            }
            end -= pad;
        }
        Ok(Packet { buf, payload_start: start, payload_end: end })
    }

    pub fn padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }
    pub fn extension(&self) -> bool {
        self.buf[0] & 0x10 != 0
    }
    pub fn csrc_count(&self) -> usize {
        usize::from(self.buf[0] & 0x0f)
    }
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7f
    }
    pub fn sequence(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }
    pub fn timestamp(&self) -> u32 {
        be32(&self.buf[4..8])
    }
    pub fn ssrc(&self) -> u32 {
        be32(&self.buf[8..12])
    }
    /// The contributing sources.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let n = self.csrc_count();
        self.buf[HEADER_LEN..HEADER_LEN + 4 * n].chunks_exact(4).map(be32)
    }
    /// The header extension: its profile-defined 16 bits and its data.
    pub fn extension_data(&self) -> Option<(u16, &'a [u8])> {
        if !self.extension() {
            return None;
        }
        let at = HEADER_LEN + 4 * self.csrc_count();
        let profile = u16::from_be_bytes([self.buf[at], self.buf[at + 1]]);
        Some((profile, &self.buf[at + 4..self.payload_start]))
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_start..self.payload_end]
    }
}

pub(crate) fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// An RTP packet's fields, to build one or to hold a parsed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpRepr<'a> {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// At most 15 (the count is 4 bits); `emit` writes the first 15.
    pub csrcs: Vec<u32>,
    pub extension: Option<(u16, &'a [u8])>,
    pub payload: &'a [u8],
}

impl<'a> RtpRepr<'a> {
    pub fn parse(buf: &'a [u8]) -> Result<Self, Error> {
        let p = Packet::new_checked(buf)?;
        Ok(RtpRepr {
            marker: p.marker(),
            payload_type: p.payload_type(),
            sequence: p.sequence(),
            timestamp: p.timestamp(),
            ssrc: p.ssrc(),
            csrcs: p.csrcs().collect(),
            extension: p.extension_data(),
            payload: p.payload(),
        })
    }

    /// Appends the packet to `out` (no padding; an extension is padded to whole words with zeros).
    pub fn emit(&self, out: &mut Vec<u8>) {
        let n = self.csrcs.len().min(15);
        let cc = u8::try_from(n).unwrap_or(15);
        let x = if self.extension.is_some() { 0x10 } else { 0 };
        out.push((VERSION << 6) | x | cc);
        out.push(if self.marker { 0x80 } else { 0 } | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for c in &self.csrcs[..n] {
            out.extend_from_slice(&c.to_be_bytes());
        }
        if let Some((profile, data)) = self.extension {
            let words = data.len().div_ceil(4).min(usize::from(u16::MAX));
            out.extend_from_slice(&profile.to_be_bytes());
            out.extend_from_slice(&u16::try_from(words).unwrap_or(u16::MAX).to_be_bytes());
            let data = &data[..data.len().min(words * 4)];
            out.extend_from_slice(data);
            out.resize(out.len() + (words * 4 - data.len()), 0);
        }
        out.extend_from_slice(self.payload);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(HEADER_LEN + self.payload.len());
        self.emit(&mut v);
        v
    }
}

impl fmt::Display for RtpRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RTP PT={} seq={} ts={} ssrc={:#010x}", self.payload_type, self.sequence, self.timestamp, self.ssrc)?;
        if self.marker {
            write!(f, " M")?;
        }
        for c in &self.csrcs {
            write!(f, " csrc={c:#010x}")?;
        }
        if let Some((profile, data)) = self.extension {
            write!(f, " ext={profile:#06x}/{}", data.len())?;
        }
        write!(f, " len={}", self.payload.len())
    }
}
