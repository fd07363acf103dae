//! RTCP (RFC 3550 §6.4-6.6): SR, RR with report blocks, SDES, BYE and compound packets, parse and
//! emit with a trace `Display`. Parsing never panics; a compound packet is checked as RFC 3550
//! Appendix A.2 says (version 2, first packet SR or RR, padding only in the last, lengths adding
//! up to the datagram).

use std::fmt;

use super::packet::be32;

pub const SR: u8 = 200;
pub const RR: u8 = 201;
pub const SDES: u8 = 202;
pub const BYE: u8 = 203;
/// SDES item type of the canonical name.
pub const CNAME: u8 = 1;

/// Why a datagram is not a valid RTCP compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    Truncated,
    Version(u8),
    /// The first packet of a compound must be an SR or an RR.
    FirstNotReport(u8),
    /// Padding in a packet that is not the last, or a bad padding count.
    Padding,
    /// A packet's length field disagrees with its content or the datagram.
    Length,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => write!(f, "truncated RTCP packet"),
            Error::Version(v) => write!(f, "RTCP version {v}, expected 2"),
            Error::FirstNotReport(pt) => write!(f, "compound RTCP starts with type {pt}, not SR or RR"),
            Error::Padding => write!(f, "bad RTCP padding"),
            Error::Length => write!(f, "RTCP length field does not fit"),
        }
    }
}

impl std::error::Error for Error {}

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    pub ssrc: u32,
    pub fraction_lost: u8,
    /// Cumulative number of packets lost, a signed 24-bit field (duplicates can make it negative).
    pub cumulative_lost: i32,
    pub highest_seq: u32,
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from this source (0: none).
    pub lsr: u32,
    /// Delay since that SR, in units of 1/65536 s.
    pub dlsr: u32,
}

/// The sender info of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp (seconds since 1900 in the high 32 bits).
    pub ntp: u64,
    pub rtp_ts: u32,
    pub packets: u32,
    pub octets: u32,
}

/// One SDES chunk: a source and its items (type, value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesChunk {
    pub ssrc: u32,
    pub items: Vec<(u8, Vec<u8>)>,
}

/// One packet of a compound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    Sr {
        ssrc: u32,
        info: SenderInfo,
        reports: Vec<ReportBlock>,
    },
    Rr {
        ssrc: u32,
        reports: Vec<ReportBlock>,
    },
    Sdes(Vec<SdesChunk>),
    Bye {
        ssrcs: Vec<u32>,
        reason: Option<Vec<u8>>,
    },
    /// APP and anything else, kept as the count field and the body after the common header.
    Other {
        pt: u8,
        count: u8,
        body: Vec<u8>,
    },
}

/// Parses a compound RTCP datagram.
pub fn parse_compound(buf: &[u8]) -> Result<Vec<RtcpPacket>, Error> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let hdr = buf.get(at..at + 4).ok_or(Error::Truncated)?;
        let version = hdr[0] >> 6;
        if version != 2 {
            return Err(Error::Version(version));
        }
        let pt = hdr[1];
        if at == 0 && pt != SR && pt != RR {
            return Err(Error::FirstNotReport(pt));
        }
        let len = 4 * (usize::from(u16::from_be_bytes([hdr[2], hdr[3]])) + 1);
        let pkt = buf.get(at..at + len).ok_or(Error::Length)?;
        let last = at + len == buf.len();
        let mut body = &pkt[4..];
        if hdr[0] & 0x20 != 0 {
            let pad = usize::from(*pkt.last().ok_or(Error::Padding)?);
            if !last || pad == 0 || pad > body.len() {
                return Err(Error::Padding);
            }
            body = &body[..body.len() - pad];
        }
        out.push(parse_one(pt, hdr[0] & 0x1f, body)?);
        at += len;
    }
    if out.is_empty() {
        return Err(Error::Truncated);
    }
    Ok(out)
}

fn parse_one(pt: u8, count: u8, body: &[u8]) -> Result<RtcpPacket, Error> {
    let n = usize::from(count);
    Ok(match pt {
        SR => {
            if body.len() < 24 + 24 * n {
                return Err(Error::Length);
            }
            let info = SenderInfo {
                ntp: (u64::from(be32(&body[4..8])) << 32) | u64::from(be32(&body[8..12])),
                rtp_ts: be32(&body[12..16]),
                packets: be32(&body[16..20]),
                octets: be32(&body[20..24]),
            };
            RtcpPacket::Sr { ssrc: be32(body), info, reports: blocks(&body[24..], n) }
        }
        RR => {
            if body.len() < 4 + 24 * n {
                return Err(Error::Length);
            }
            RtcpPacket::Rr { ssrc: be32(body), reports: blocks(&body[4..], n) }
        }
        SDES => {
            let mut chunks = Vec::new();
            let mut at = 0;
            for _ in 0..n {
                let ssrc = be32(body.get(at..at + 4).ok_or(Error::Length)?);
                at += 4;
                let mut items = Vec::new();
                loop {
                    let ty = *body.get(at).ok_or(Error::Length)?;
                    if ty == 0 {
                        // The list ends with a null octet, then padding to the next word.
                        at = (at + 4) & !3;
                        break;
                    }
                    let len = usize::from(*body.get(at + 1).ok_or(Error::Length)?);
                    let value = body.get(at + 2..at + 2 + len).ok_or(Error::Length)?;
                    items.push((ty, value.to_vec()));
                    at += 2 + len;
                }
                chunks.push(SdesChunk { ssrc, items });
            }
            RtcpPacket::Sdes(chunks)
        }
        BYE => {
            let ids = body.get(..4 * n).ok_or(Error::Length)?;
            let ssrcs = ids.chunks_exact(4).map(be32).collect();
            let reason = match body.get(4 * n) {
                Some(&len) => Some(body.get(4 * n + 1..4 * n + 1 + usize::from(len)).ok_or(Error::Length)?.to_vec()),
                None => None,
            };
            RtcpPacket::Bye { ssrcs, reason }
        }
        _ => RtcpPacket::Other { pt, count, body: body.to_vec() },
    })
}

fn blocks(b: &[u8], n: usize) -> Vec<ReportBlock> {
    b.chunks_exact(24)
        .take(n)
        .map(|r| {
            // Sign-extend the 24-bit cumulative loss.
            let lost = i32::from_be_bytes([r[5], r[6], r[7], 0]) >> 8;
            ReportBlock {
                ssrc: be32(r),
                fraction_lost: r[4],
                cumulative_lost: lost,
                highest_seq: be32(&r[8..12]),
                jitter: be32(&r[12..16]),
                lsr: be32(&r[16..20]),
                dlsr: be32(&r[20..24]),
            }
        })
        .collect()
}

/// Appends the packets as one compound datagram (at most 31 report blocks or chunks each).
pub fn emit_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) {
    for p in packets {
        let start = out.len();
        out.extend_from_slice(&[0x80, 0, 0, 0]);
        let (pt, count) = match p {
            RtcpPacket::Sr { ssrc, info, reports } => {
                out.extend_from_slice(&ssrc.to_be_bytes());
                out.extend_from_slice(&info.ntp.to_be_bytes());
                for v in [info.rtp_ts, info.packets, info.octets] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                (SR, emit_blocks(reports, out))
            }
            RtcpPacket::Rr { ssrc, reports } => {
                out.extend_from_slice(&ssrc.to_be_bytes());
                (RR, emit_blocks(reports, out))
            }
            RtcpPacket::Sdes(chunks) => {
                let chunks = &chunks[..chunks.len().min(31)];
                for c in chunks {
                    out.extend_from_slice(&c.ssrc.to_be_bytes());
                    for (ty, value) in &c.items {
                        let v = &value[..value.len().min(255)];
                        out.push(*ty);
                        out.push(u8::try_from(v.len()).unwrap_or(255));
                        out.extend_from_slice(v);
                    }
                    // The null item, then zeros to the next word boundary.
                    out.push(0);
                    pad4(out, start);
                }
                (SDES, chunks.len())
            }
            RtcpPacket::Bye { ssrcs, reason } => {
                let ssrcs = &ssrcs[..ssrcs.len().min(31)];
                for s in ssrcs {
                    out.extend_from_slice(&s.to_be_bytes());
                }
                if let Some(r) = reason {
                    let r = &r[..r.len().min(255)];
                    out.push(u8::try_from(r.len()).unwrap_or(255));
                    out.extend_from_slice(r);
                    pad4(out, start);
                }
                (BYE, ssrcs.len())
            }
            RtcpPacket::Other { pt, count, body } => {
                out.extend_from_slice(body);
                pad4(out, start);
                (*pt, usize::from(*count))
            }
        };
        let words = (out.len() - start) / 4 - 1;
        out[start] |= u8::try_from(count.min(31)).unwrap_or(31);
        out[start + 1] = pt;
        out[start + 2..start + 4].copy_from_slice(&u16::try_from(words).unwrap_or(u16::MAX).to_be_bytes());
    }
}

/// Zeros up to the next 32-bit boundary from `start`.
fn pad4(out: &mut Vec<u8>, start: usize) {
    let len = (out.len() - start).next_multiple_of(4) + start;
    out.resize(len, 0);
}

fn emit_blocks(reports: &[ReportBlock], out: &mut Vec<u8>) -> usize {
    let reports = &reports[..reports.len().min(31)];
    for r in reports {
        out.extend_from_slice(&r.ssrc.to_be_bytes());
        out.push(r.fraction_lost);
        out.extend_from_slice(&r.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff).to_be_bytes()[1..]);
        for v in [r.highest_seq, r.jitter, r.lsr, r.dlsr] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    reports.len()
}

impl fmt::Display for ReportBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[ssrc={:#010x} lost={}/256 cum={} ext_max={} jitter={} lsr={:#010x} dlsr={}]",
            self.ssrc, self.fraction_lost, self.cumulative_lost, self.highest_seq, self.jitter, self.lsr, self.dlsr
        )
    }
}

impl fmt::Display for RtcpPacket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RtcpPacket::Sr { ssrc, info, reports } => {
                write!(
                    f,
                    "RTCP SR ssrc={ssrc:#010x} ntp={:#018x} rtp={} pkts={} octets={}",
                    info.ntp, info.rtp_ts, info.packets, info.octets
                )?;
                reports.iter().try_for_each(|r| write!(f, " {r}"))
            }
            RtcpPacket::Rr { ssrc, reports } => {
                write!(f, "RTCP RR ssrc={ssrc:#010x}")?;
                reports.iter().try_for_each(|r| write!(f, " {r}"))
            }
            RtcpPacket::Sdes(chunks) => {
                write!(f, "RTCP SDES")?;
                for c in chunks {
                    write!(f, " ssrc={:#010x}", c.ssrc)?;
                    for (ty, v) in &c.items {
                        let name = if *ty == CNAME { "cname".to_string() } else { format!("item{ty}") };
                        write!(f, " {name}={:?}", String::from_utf8_lossy(v))?;
                    }
                }
                Ok(())
            }
            RtcpPacket::Bye { ssrcs, reason } => {
                write!(f, "RTCP BYE")?;
                ssrcs.iter().try_for_each(|s| write!(f, " ssrc={s:#010x}"))?;
                match reason {
                    Some(r) => write!(f, " reason={:?}", String::from_utf8_lossy(r)),
                    None => Ok(()),
                }
            }
            RtcpPacket::Other { pt, count, body } => write!(f, "RTCP PT={pt} count={count} len={}", body.len()),
        }
    }
}
