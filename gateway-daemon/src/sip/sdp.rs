//! SDP session descriptions (RFC 4566): parse and emit, with the attributes audio calls use
//! (rtpmap, fmtp, ptime, maxptime, direction). Lines we do not interpret are kept and
//! emitted again at their level.

use std::fmt;
use std::net::IpAddr;

/// Why a description was refused: what, and on which 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpError {
    pub line: usize,
    pub what: &'static str,
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SDP line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for SdpError {}

/// `o=username sess-id sess-version IN IP4 address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: u64,
    pub session_version: u64,
    pub net_type: String,
    pub addr_type: String,
    pub address: String,
}

/// `c=IN IP4 address[/ttl]`: the address is kept as written (it may be a name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub net_type: String,
    pub addr_type: String,
    pub address: String,
}

impl Connection {
    pub fn ip(ip: IpAddr) -> Connection {
        Connection {
            net_type: "IN".to_owned(),
            addr_type: if ip.is_ipv4() { "IP4" } else { "IP6" }.to_owned(),
            address: ip.to_string(),
        }
    }

    /// The address as an IP, if it is one (multicast TTL suffixes ignored).
    pub fn ip_addr(&self) -> Option<IpAddr> {
        self.address.split('/').next().and_then(|a| a.parse().ok())
    }

    /// Old-style hold (RFC 2543, RFC 3264 §8.4): `c=IN IP4 0.0.0.0`.
    pub fn is_hold(&self) -> bool {
        self.ip_addr().is_some_and(|a| a.is_unspecified())
    }
}

/// `a=name[:value]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: Option<String>,
}

impl Attribute {
    pub fn new(name: &str, value: Option<String>) -> Attribute {
        Attribute { name: name.to_owned(), value }
    }
}

/// Media direction (RFC 3264 §5.1, §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_name(s: &str) -> Option<Direction> {
        Some(match s {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    /// The direction seen from the other side: sendonly there is recvonly here.
    pub fn reversed(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub pt: u8,
    pub encoding: String,
    pub clock_rate: u32,
    pub channels: Option<u32>,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`...
    pub media: String,
    pub port: u16,
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/SAVP`...
    pub proto: String,
    /// Formats in preference order: payload type numbers for RTP.
    pub formats: Vec<String>,
    pub connection: Option<Connection>,
    pub attributes: Vec<Attribute>,
    /// `i=`, `b=`, `k=` and unknown lines, in order.
    pub other: Vec<(char, String)>,
}

impl Media {
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Payload types in the order offered; formats that are not numbers are skipped.
    pub fn payload_types(&self) -> Vec<u8> {
        self.formats.iter().filter_map(|f| f.parse().ok()).collect()
    }

    /// The rtpmap of a payload type, if the description gives one.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        self.attributes
            .iter()
            .filter(|a| a.name == "rtpmap")
            .filter_map(|a| parse_rtpmap(a.value.as_deref()?))
            .find(|m| m.pt == pt)
    }

    /// The fmtp parameters of a payload type.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.attributes.iter().filter(|a| a.name == "fmtp").find_map(|a| {
            let (p, rest) = a.value.as_deref()?.split_once(' ')?;
            (p.parse() == Ok(pt)).then_some(rest.trim())
        })
    }

    pub fn ptime(&self) -> Option<u32> {
        self.attr("ptime").and_then(|a| a.value.as_deref()?.trim().parse().ok())
    }

    pub fn maxptime(&self) -> Option<u32> {
        self.attr("maxptime").and_then(|a| a.value.as_deref()?.trim().parse().ok())
    }

    /// The direction attribute of this section, if it has one.
    pub fn direction_attr(&self) -> Option<Direction> {
        self.attributes.iter().rev().find_map(|a| if a.value.is_none() { Direction::from_name(&a.name) } else { None })
    }
}

fn parse_rtpmap(v: &str) -> Option<RtpMap> {
    let (pt, rest) = v.split_once(' ')?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next()?.to_owned();
    let clock_rate = parts.next()?.parse().ok()?;
    let channels = match parts.next() {
        Some(c) => Some(c.parse().ok()?),
        None => None,
    };
    Some(RtpMap { pt: pt.parse().ok()?, encoding, clock_rate, channels })
}

/// A whole session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    pub origin: Origin,
    pub session_name: String,
    pub connection: Option<Connection>,
    /// `t=` start and stop times.
    pub times: Vec<(u64, u64)>,
    pub attributes: Vec<Attribute>,
    /// Session-level `i=`, `u=`, `e=`, `p=`, `b=`, `r=`, `z=`, `k=` and unknown lines, in order.
    pub other: Vec<(char, String)>,
    pub media: Vec<Media>,
}

impl SessionDescription {
    /// Parses a description. Line ends may be CRLF or LF; a trailing line without an end is
    /// accepted. `v=0` must come first, then `o=`, `s=`, at least one `t=` (§5).
    pub fn parse(data: &[u8]) -> Result<SessionDescription, SdpError> {
        let text = std::str::from_utf8(data).map_err(|_| SdpError { line: 0, what: "not UTF-8" })?;
        let mut origin = None;
        let mut session_name = None;
        let mut sd = SessionDescription {
            origin: Origin {
                username: String::new(),
                session_id: 0,
                session_version: 0,
                net_type: String::new(),
                addr_type: String::new(),
                address: String::new(),
            },
            session_name: String::new(),
            connection: None,
            times: Vec::new(),
            attributes: Vec::new(),
            other: Vec::new(),
            media: Vec::new(),
        };
        let mut seen_version = false;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let l = raw.strip_suffix('\r').unwrap_or(raw);
            if l.is_empty() {
                continue;
            }
            let err = |what| SdpError { line, what };
            let b = l.as_bytes();
            if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_lowercase() {
                return Err(err("not a <type>=<value> line"));
            }
            let kind = char::from(b[0]);
            let value = &l[2..];
            if !seen_version {
                if kind != 'v' || value.trim() != "0" {
                    return Err(err("must start with v=0"));
                }
                seen_version = true;
                continue;
            }
            match (kind, sd.media.last_mut()) {
                ('v', _) => return Err(err("repeated v=")),
                ('o', None) => origin = Some(parse_origin(value).ok_or(err("bad o= line"))?),
                ('s', None) => session_name = Some(value.to_owned()),
                ('c', None) => sd.connection = Some(parse_connection(value).ok_or(err("bad c= line"))?),
                ('c', Some(m)) => m.connection = Some(parse_connection(value).ok_or(err("bad c= line"))?),
                ('t', None) => {
                    let mut it = value.split_whitespace().map(str::parse::<u64>);
                    match (it.next(), it.next(), it.next()) {
                        (Some(Ok(a)), Some(Ok(b)), None) => sd.times.push((a, b)),
                        _ => return Err(err("bad t= line")),
                    }
                }
                ('a', None) => sd.attributes.push(parse_attribute(value)),
                ('a', Some(m)) => m.attributes.push(parse_attribute(value)),
                ('m', _) => sd.media.push(parse_media(value).ok_or(err("bad m= line"))?),
                ('o' | 's' | 't', Some(_)) => return Err(err("session line inside a media section")),
                (k, None) => sd.other.push((k, value.to_owned())),
                (k, Some(m)) => m.other.push((k, value.to_owned())),
            }
        }
        if !seen_version {
            return Err(SdpError { line: 0, what: "empty description" });
        }
        sd.origin = origin.ok_or(SdpError { line: 0, what: "missing o=" })?;
        sd.session_name = session_name.ok_or(SdpError { line: 0, what: "missing s=" })?;
        if sd.times.is_empty() {
            return Err(SdpError { line: 0, what: "missing t=" });
        }
        Ok(sd)
    }

    /// Serialises with CRLF line ends in the §5 order.
    pub fn to_bytes(&self) -> Vec<u8> {
        Wire(self).to_string().into_bytes()
    }

    /// The wire form as text.
    pub fn to_text(&self) -> String {
        Wire(self).to_string()
    }

    /// The connection that applies to a media section: its own, else the session's.
    pub fn connection_for<'a>(&'a self, m: &'a Media) -> Option<&'a Connection> {
        m.connection.as_ref().or(self.connection.as_ref())
    }

    /// The direction of a media section: its own attribute, else the session's, else sendrecv.
    pub fn direction_of(&self, m: &Media) -> Direction {
        m.direction_attr()
            .or_else(|| {
                self.attributes.iter().rev().find_map(|a| {
                    if a.value.is_none() {
                        Direction::from_name(&a.name)
                    } else {
                        None
                    }
                })
            })
            .unwrap_or(Direction::SendRecv)
    }
}

fn parse_origin(v: &str) -> Option<Origin> {
    let p: Vec<&str> = v.split_whitespace().collect();
    if p.len() != 6 {
        return None;
    }
    Some(Origin {
        username: p[0].to_owned(),
        session_id: p[1].parse().ok()?,
        session_version: p[2].parse().ok()?,
        net_type: p[3].to_owned(),
        addr_type: p[4].to_owned(),
        address: p[5].to_owned(),
    })
}

fn parse_connection(v: &str) -> Option<Connection> {
    let p: Vec<&str> = v.split_whitespace().collect();
    if p.len() != 3 {
        return None;
    }
    Some(Connection { net_type: p[0].to_owned(), addr_type: p[1].to_owned(), address: p[2].to_owned() })
}

fn parse_attribute(v: &str) -> Attribute {
    match v.split_once(':') {
        Some((n, val)) => Attribute::new(n, Some(val.to_owned())),
        None => Attribute::new(v, None),
    }
}

fn parse_media(v: &str) -> Option<Media> {
    let mut it = v.split_whitespace();
    let media = it.next()?.to_owned();
    let port_text = it.next()?;
    let (port, port_count) = match port_text.split_once('/') {
        Some((p, n)) => (p.parse().ok()?, Some(n.parse().ok()?)),
        None => (port_text.parse().ok()?, None),
    };
    let proto = it.next()?.to_owned();
    let formats = it.map(str::to_owned).collect();
    Some(Media { media, port, port_count, proto, formats, connection: None, attributes: Vec::new(), other: Vec::new() })
}

fn write_other(f: &mut fmt::Formatter<'_>, other: &[(char, String)], kinds: &str) -> fmt::Result {
    for (k, v) in other.iter().filter(|(k, _)| kinds.contains(*k)) {
        write!(f, "{k}={v}\r\n")?;
    }
    Ok(())
}

fn write_attrs(f: &mut fmt::Formatter<'_>, attrs: &[Attribute]) -> fmt::Result {
    for a in attrs {
        match &a.value {
            Some(v) => write!(f, "a={}:{v}\r\n", a.name)?,
            None => write!(f, "a={}\r\n", a.name)?,
        }
    }
    Ok(())
}

fn write_conn(f: &mut fmt::Formatter<'_>, c: &Connection) -> fmt::Result {
    write!(f, "c={} {} {}\r\n", c.net_type, c.addr_type, c.address)
}

/// The wire form (CRLF line ends), in the order of RFC 4566 §5; unknown line types go after
/// the known ones of their level.
struct Wire<'a>(&'a SessionDescription);

impl fmt::Display for Wire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sd = self.0;
        let o = &sd.origin;
        write!(
            f,
            "v=0\r\no={} {} {} {} {} {}\r\n",
            o.username, o.session_id, o.session_version, o.net_type, o.addr_type, o.address
        )?;
        write!(f, "s={}\r\n", sd.session_name)?;
        write_other(f, &sd.other, "iuep")?;
        if let Some(c) = &sd.connection {
            write_conn(f, c)?;
        }
        write_other(f, &sd.other, "b")?;
        let mut rz = sd.other.iter().filter(|(k, _)| *k == 'r' || *k == 'z');
        for (i, (a, b)) in sd.times.iter().enumerate() {
            write!(f, "t={a} {b}\r\n")?;
            // Repeat lines belong to the time line before them; we keep them after the first.
            if i == 0 {
                for (k, v) in rz.by_ref() {
                    write!(f, "{k}={v}\r\n")?;
                }
            }
        }
        write_other(f, &sd.other, "k")?;
        let known = "iuepbrzk";
        for (k, v) in sd.other.iter().filter(|(k, _)| !known.contains(*k)) {
            write!(f, "{k}={v}\r\n")?;
        }
        write_attrs(f, &sd.attributes)?;
        for m in &sd.media {
            write!(f, "m={} {}", m.media, m.port)?;
            if let Some(n) = m.port_count {
                write!(f, "/{n}")?;
            }
            write!(f, " {}", m.proto)?;
            for fmt_ in &m.formats {
                write!(f, " {fmt_}")?;
            }
            f.write_str("\r\n")?;
            write_other(f, &m.other, "i")?;
            if let Some(c) = &m.connection {
                write_conn(f, c)?;
            }
            write_other(f, &m.other, "bk")?;
            for (k, v) in m.other.iter().filter(|(k, _)| !"ibk".contains(*k)) {
                write!(f, "{k}={v}\r\n")?;
            }
            write_attrs(f, &m.attributes)?;
        }
        Ok(())
    }
}

/// A one-line trace: `sdp o=- 5 6 c=198.51.100.7 audio 4000 RTP/AVP 8 101 sendrecv`.
impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sdp o={} {} {}", self.origin.username, self.origin.session_id, self.origin.session_version)?;
        if let Some(c) = &self.connection {
            write!(f, " c={}", c.address)?;
        }
        for m in &self.media {
            write!(f, " {} {} {} {}", m.media, m.port, m.proto, m.formats.join(" "))?;
            if let Some(c) = &m.connection {
                write!(f, " c={}", c.address)?;
            }
            write!(f, " {}", self.direction_of(m).as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// baresip 1.0.0's offer as it goes out with PCMU, PCMA and telephone-event.
    pub(crate) const BARESIP_OFFER: &str = "v=0\r\no=- 1234567890 2398026505 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20012 RTP/AVP 0 8 101\r\nb=AS:64\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\na=label:1\r\na=ssrc:3167214447 cname:1d2a3f0e-5e\r\na=rtcp-rsize\r\na=ptime:20\r\n";

    #[test]
    fn parse_baresip() {
        let sd = SessionDescription::parse(BARESIP_OFFER.as_bytes()).unwrap();
        assert_eq!(sd.origin.session_id, 1_234_567_890);
        assert_eq!(sd.connection.as_ref().unwrap().ip_addr(), Some("127.0.0.1".parse().unwrap()));
        let m = &sd.media[0];
        assert_eq!(m.port, 20012);
        assert_eq!(m.payload_types(), vec![0, 8, 101]);
        assert_eq!(m.rtpmap(101).unwrap().encoding, "telephone-event");
        assert_eq!(m.fmtp(101), Some("0-15"));
        assert_eq!(m.ptime(), Some(20));
        assert_eq!(sd.direction_of(m), Direction::SendRecv);
        assert_eq!(m.other, vec![('b', "AS:64".to_owned())]);
        // Our output is in §5 order, which is what baresip sent: byte-identical.
        assert_eq!(sd.to_text(), BARESIP_OFFER);
        assert_eq!(sd.to_string(), "sdp o=- 1234567890 2398026505 c=127.0.0.1 audio 20012 RTP/AVP 0 8 101 sendrecv");
    }

    #[test]
    fn round_trip_and_unknown_lines() {
        let text = "v=0\no=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\ns=\ni=A call\nc=IN IP4 host.atlanta.example.com\nt=0 0\nx=unknown\na=sendonly\nm=audio 49170/2 RTP/AVP 0 97\ni=voice\nc=IN IP6 ::1\na=rtpmap:97 iLBC/8000\nm=video 0 RTP/AVP 31\n";
        let sd = SessionDescription::parse(text.as_bytes()).unwrap();
        assert_eq!(sd.other, vec![('i', "A call".to_owned()), ('x', "unknown".to_owned())]);
        assert_eq!(sd.media[0].port_count, Some(2));
        assert_eq!(sd.direction_of(&sd.media[0]), Direction::SendOnly);
        assert_eq!(sd.media[0].rtpmap(97).unwrap().clock_rate, 8000);
        assert_eq!(sd.media[0].rtpmap(0), None);
        assert_eq!(sd.media[1].port, 0);
        let again = SessionDescription::parse(&sd.to_bytes()).unwrap();
        assert_eq!(again, sd);
    }

    #[test]
    fn refused() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty description"),
            ("o=x 1 1 IN IP4 a\r\n", 1, "must start with v=0"),
            ("v=1\r\n", 1, "must start with v=0"),
            ("v=0\r\no=x 1 IN IP4 a\r\n", 2, "bad o= line"),
            ("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\n", 0, "missing t="),
            ("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nt=0 0\r\nm=audio x RTP/AVP 0\r\n", 5, "bad m= line"),
            (
                "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\ns=again\r\n",
                6,
                "session line inside a media section",
            ),
            ("v=0\r\nhello\r\n", 2, "not a <type>=<value> line"),
            ("v=0\r\ns=-\r\nt=0 0\r\n", 0, "missing o="),
        ];
        for (text, line, what) in cases {
            assert_eq!(SessionDescription::parse(text.as_bytes()), Err(SdpError { line: *line, what }), "{text:?}");
        }
    }
}
