//! The `[sip]` table and its `[[sip.trunk]]` entries: the model and the reader, every problem
//! reported with its position and carried on past.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::diag::{did_you_mean, Sink};
use crate::model::{names, UnknownName};
use crate::reader::{describe_value, Got, Table};

const SIP: &[&str] = &["listen", "rtp_ports", "user_agent", "ptime", "jitter_buffer", "dtmf", "trunk"];
const TRUNK: &[&str] = &[
    "name",
    "host",
    "port",
    "transport",
    "codecs",
    "ptime",
    "dtmf",
    "ringback",
    "register",
    "auth",
    "trust",
    "keepalive_secs",
    "max_calls",
];
const REGISTER: &[&str] = &["user", "password", "domain", "expires"];
const AUTH: &[&str] = &["realm", "user", "password"];
const JITTER: &[&str] = &["min_ms", "max_ms", "fixed_ms"];

/// The SIP side.
#[derive(Debug, Clone, PartialEq)]
pub struct Sip {
    /// Where the SIP stack listens, each with its transport; no SIP at all when empty.
    pub listen: Vec<SipListen>,
    /// The UDP ports RTP and RTCP use, inclusive; the first is even (RTP on even, RTCP on odd).
    pub rtp_ports: (u16, u16),
    /// The `User-Agent` and `Server` header value.
    pub user_agent: String,
    /// Packet time in ms, unless a trunk says otherwise.
    pub ptime: u16,
    pub jitter_buffer: JitterBuffer,
    /// How DTMF is carried, unless a trunk says otherwise.
    pub dtmf: Dtmf,
    pub trunks: Vec<Trunk>,
}

impl Default for Sip {
    fn default() -> Sip {
        Sip {
            listen: Vec::new(),
            rtp_ports: (10_000, 20_000),
            user_agent: "spangate".into(),
            ptime: 20,
            jitter_buffer: JitterBuffer::default(),
            dtmf: Dtmf::Rfc4733,
            trunks: Vec::new(),
        }
    }
}

/// One listening socket of the SIP stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipListen {
    pub transport: Transport,
    pub addr: SocketAddr,
}

/// The RTP jitter buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JitterBuffer {
    /// Grows and shrinks with the measured jitter between these depths.
    Adaptive { min_ms: u16, max_ms: u16 },
    /// Always this deep.
    Fixed { ms: u16 },
}

impl Default for JitterBuffer {
    fn default() -> JitterBuffer {
        JitterBuffer::Adaptive { min_ms: 20, max_ms: 200 }
    }
}

/// A SIP peer calls are exchanged with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    pub name: String,
    /// A host name or an IP address.
    pub host: String,
    pub port: u16,
    pub transport: Transport,
    /// In order of preference.
    pub codecs: Vec<Codec>,
    /// Packet time in ms (the `[sip]` default unless set here).
    pub ptime: u16,
    pub dtmf: Dtmf,
    /// Who plays ringback to a caller from this trunk when the called ISDN side alerts with no
    /// in-band tones of its own.
    pub ringback: Ringback,
    /// Register to the peer (outbound registration), when set.
    pub register: Option<Register>,
    /// Requests from the peer must authenticate with these credentials (digest), when set.
    pub auth: Option<InboundAuth>,
    /// Requests from these addresses are taken without authentication.
    pub trust: Vec<IpNet>,
    /// OPTIONS keepalive period in seconds; 0 = off.
    pub keepalive_secs: u32,
    /// The most simultaneous calls on this trunk; `None` = no limit.
    pub max_calls: Option<u32>,
}

/// Outbound registration to a trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub user: String,
    pub password: String,
    /// The registrar's domain (the trunk's host unless set).
    pub domain: String,
    /// The registration lifetime asked for, in seconds.
    pub expires: u32,
}

/// Credentials a trunk's peer must present (digest authentication as the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundAuth {
    pub realm: String,
    pub user: String,
    pub password: String,
}

/// An IP network (`198.51.100.0/24`), or one address (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// Parses `ADDR` or `ADDR/PREFIX`; the address must have no bits set past the prefix.
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| format!("`{s}` is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("`{s}`: the prefix length must be 0..={max}")),
            },
        };
        let net = IpNet { addr, prefix };
        let masked = net.network();
        if masked != addr {
            return Err(format!("`{s}` has host bits set past /{prefix}; did you mean `{masked}/{prefix}`?"));
        }
        Ok(net)
    }

    /// The address with every bit past the prefix cleared.
    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }

    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let other = IpNet { addr: ip, prefix: self.prefix };
        ip.is_ipv4() == self.addr.is_ipv4() && other.network() == self.addr
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

names!(
    /// A SIP transport.
    Transport {
        Udp = "udp",
        Tcp = "tcp",
    }
);

names!(
    /// A codec a trunk may offer, in SDP's sense (`telephone-event` carries RFC 4733 DTMF).
    Codec {
        Pcma = "pcma",
        Pcmu = "pcmu",
        G722 = "g722",
        G729 = "g729",
        TelephoneEvent = "telephone-event",
    }
);

names!(
    /// How DTMF digits cross to SIP.
    Dtmf {
        /// RTP events (RFC 4733 `telephone-event`).
        Rfc4733 = "rfc4733",
        /// SIP INFO requests (`application/dtmf-relay`).
        Info = "info",
        /// Tones in the audio.
        Inband = "inband",
    }
);

names!(
    /// Ringback for a SIP caller whose ISDN callee alerts without progress indicator #1/#8.
    Ringback {
        /// A 180 Ringing: the phone rings locally, as most do.
        None = "none",
        /// A 183 Session Progress with our SDP, and the zone's ringback in the RTP.
        Local = "local",
    }
);

fn pairs<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<(&'static str, T)> {
    all.iter().map(|&v| (name(v), v)).collect()
}

/// Reads `[sip]` and its trunks.
pub(crate) fn read(sink: &mut Sink<'_>, top: &Table<'_>) -> Sip {
    let t = match top.table(sink, "sip", SIP) {
        Got::Ok(t, _) => t,
        _ => return Sip::default(),
    };
    let d = Sip::default();
    let ptime = read_ptime(sink, &t).unwrap_or(d.ptime);
    let dtmf = t.pick(sink, "dtmf", &pairs(Dtmf::ALL, Dtmf::as_str)).ok().unwrap_or(d.dtmf);
    let listen = read_listen(sink, &t);
    let tcp_listen = listen.iter().any(|l| l.transport == Transport::Tcp);
    let mut trunks: Vec<Trunk> = Vec::new();
    for (i, (tt, at)) in t.tables(sink, "trunk").into_iter().enumerate() {
        let tr = Table::new(sink, tt, format!("sip.trunk[{i}]"), at, TRUNK);
        let trunk = read_trunk(sink, &tr, &trunks, ptime, dtmf);
        // Our Via and Contact name the listening port: the trunk's requests to us need TCP there.
        if trunk.transport == Transport::Tcp && !listen.is_empty() && !tcp_listen {
            tr.error(sink, "transport", "a tcp trunk needs TCP in [sip] listen (`ADDR:PORT` or `tcp:ADDR:PORT`)");
        }
        trunks.push(trunk);
    }
    Sip {
        listen,
        rtp_ports: read_rtp_ports(sink, &t).unwrap_or(d.rtp_ports),
        user_agent: match t.string(sink, "user_agent") {
            Got::Ok(s, _) if s.trim().is_empty() || s.contains(char::is_control) => {
                t.error(sink, "user_agent", "the user agent must be non-empty printable text");
                d.user_agent
            }
            Got::Ok(s, _) => s,
            _ => d.user_agent,
        },
        ptime,
        jitter_buffer: read_jitter(sink, &t).unwrap_or(d.jitter_buffer),
        dtmf,
        trunks,
    }
}

/// `listen = "ADDR:PORT"` or an array of them, each optionally `udp:` or `tcp:`; a bare address
/// listens on both, as RFC 3261 §18 asks of a server.
fn read_listen(sink: &mut Sink<'_>, t: &Table<'_>) -> Vec<SipListen> {
    let Some(item) = t.raw("listen") else { return Vec::new() };
    let field = t.field("listen");
    let values: Vec<&toml_edit::Value> = match item.as_value() {
        Some(toml_edit::Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => {
            t.error(sink, "listen", "expected an address string or an array of them");
            return Vec::new();
        }
    };
    let mut out: Vec<SipListen> = Vec::new();
    for v in values {
        let Some(s) = v.as_str() else {
            sink.error(v.span(), &field, format!("expected an address string, found {}", describe_value(v)));
            continue;
        };
        let (transports, addr): (&[Transport], &str) = match s.split_once(':') {
            Some(("udp", rest)) => (&[Transport::Udp], rest),
            Some(("tcp", rest)) => (&[Transport::Tcp], rest),
            _ => (&[Transport::Udp, Transport::Tcp], s),
        };
        match addr.parse::<SocketAddr>() {
            Ok(addr) => {
                for &transport in transports {
                    let l = SipListen { transport, addr };
                    if out.contains(&l) {
                        sink.error(v.span(), &field, format!("{transport} {addr} is listed twice"));
                    } else {
                        out.push(l);
                    }
                }
            }
            Err(_) => sink.error(
                v.span(),
                &field,
                format!("`{s}` is not [udp:|tcp:]ADDRESS:PORT with an IP address (e.g. 0.0.0.0:5060)"),
            ),
        }
    }
    out
}

/// `rtp_ports = "10000-20000"`.
fn read_rtp_ports(sink: &mut Sink<'_>, t: &Table<'_>) -> Option<(u16, u16)> {
    let s = t.string(sink, "rtp_ports").ok()?;
    let parsed =
        s.split_once('-').and_then(|(a, b)| Some((a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?)));
    let msg = match parsed {
        None => format!("`{s}` is not a port range like \"10000-20000\""),
        Some((lo, _)) if lo < 1024 => format!("`{s}` starts below 1024, among the system ports"),
        Some((lo, hi)) if hi <= lo => format!("`{s}`: the range must go up and hold at least two ports"),
        Some((lo, _)) if lo % 2 == 1 => format!("`{s}` starts on an odd port: RTP takes even ports, RTCP the next one"),
        Some(r) => return Some(r),
    };
    t.error(sink, "rtp_ports", msg);
    None
}

/// `ptime`: 10..=120 ms in steps of 10, the sizes every G.711 peer takes.
fn read_ptime(sink: &mut Sink<'_>, t: &Table<'_>) -> Option<u16> {
    match t.integer(sink, "ptime", 10, 120) {
        Got::Ok(v, _) if v % 10 == 0 => u16::try_from(v).ok(),
        Got::Ok(v, _) => {
            t.error(sink, "ptime", format!("{v} ms: the packet time must be a multiple of 10 ms"));
            None
        }
        _ => None,
    }
}

/// `jitter_buffer = { min_ms, max_ms }` (adaptive) or `{ fixed_ms }`.
fn read_jitter(sink: &mut Sink<'_>, t: &Table<'_>) -> Option<JitterBuffer> {
    let j = t.table(sink, "jitter_buffer", JITTER).ok()?;
    let ms = |sink: &mut Sink<'_>, key| j.integer(sink, key, 0, 1000).ok().and_then(|v| u16::try_from(v).ok());
    let (min, max, fixed) = (ms(sink, "min_ms"), ms(sink, "max_ms"), ms(sink, "fixed_ms"));
    if let Some(f) = fixed {
        if j.has("min_ms") || j.has("max_ms") {
            j.error(sink, "fixed_ms", "a fixed buffer has one depth: give fixed_ms alone, or min_ms and max_ms");
            return None;
        }
        return Some(JitterBuffer::Fixed { ms: f });
    }
    let d = (20, 200);
    let (min, max) = (min.unwrap_or(d.0), max.unwrap_or(d.1.max(min.unwrap_or(0))));
    if max < min {
        j.error(sink, "max_ms", format!("max_ms {max} is below min_ms {min}"));
        return None;
    }
    Some(JitterBuffer::Adaptive { min_ms: min, max_ms: max })
}

fn read_trunk(sink: &mut Sink<'_>, tr: &Table<'_>, before: &[Trunk], ptime: u16, dtmf: Dtmf) -> Trunk {
    tr.require(sink, "name");
    tr.require(sink, "host");
    let name = tr.string(sink, "name");
    if let Got::Ok(n, _) = &name {
        if n.is_empty() || n.contains(char::is_whitespace) || n.contains(':') {
            tr.error(sink, "name", format!("trunk name `{n}` must be a non-empty word (no spaces or `:`)"));
        } else if before.iter().any(|x| &x.name == n) {
            tr.error(sink, "name", format!("trunk `{n}` is defined twice"));
        }
    }
    let host = tr.string(sink, "host").ok().unwrap_or_default();
    if tr.has("host") && (host.is_empty() || host.contains(char::is_whitespace)) {
        tr.error(sink, "host", format!("`{host}` is not a host name or address"));
    }
    let register = tr.table(sink, "register", REGISTER).ok().map(|r| {
        r.require(sink, "user");
        r.require(sink, "password");
        Register {
            user: r.string(sink, "user").ok().unwrap_or_default(),
            password: r.string(sink, "password").ok().unwrap_or_default(),
            domain: r.string(sink, "domain").ok().unwrap_or_else(|| host.clone()),
            expires: r.integer(sink, "expires", 60, 86_400).ok().and_then(|v| u32::try_from(v).ok()).unwrap_or(3600),
        }
    });
    let auth = tr.table(sink, "auth", AUTH).ok().map(|a| {
        for k in AUTH {
            a.require(sink, k);
        }
        InboundAuth {
            realm: a.string(sink, "realm").ok().unwrap_or_default(),
            user: a.string(sink, "user").ok().unwrap_or_default(),
            password: a.string(sink, "password").ok().unwrap_or_default(),
        }
    });
    Trunk {
        name: name.ok().unwrap_or_default(),
        port: tr.integer(sink, "port", 1, 65535).ok().and_then(|v| u16::try_from(v).ok()).unwrap_or(5060),
        transport: tr.pick(sink, "transport", &pairs(Transport::ALL, Transport::as_str)).ok().unwrap_or(Transport::Udp),
        codecs: read_codecs(sink, tr),
        ptime: read_ptime(sink, tr).unwrap_or(ptime),
        dtmf: tr.pick(sink, "dtmf", &pairs(Dtmf::ALL, Dtmf::as_str)).ok().unwrap_or(dtmf),
        ringback: tr.pick(sink, "ringback", &pairs(Ringback::ALL, Ringback::as_str)).ok().unwrap_or(Ringback::None),
        register,
        auth,
        trust: read_trust(sink, tr),
        keepalive_secs: tr
            .integer(sink, "keepalive_secs", 0, 3600)
            .ok()
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0),
        max_calls: tr.integer(sink, "max_calls", 1, 100_000).ok().and_then(|v| u32::try_from(v).ok()),
        host,
    }
}

fn read_codecs(sink: &mut Sink<'_>, tr: &Table<'_>) -> Vec<Codec> {
    let default = || vec![Codec::Pcma, Codec::Pcmu, Codec::TelephoneEvent];
    let Some(item) = tr.raw("codecs") else { return default() };
    let Some(arr) = item.as_array() else {
        tr.error(sink, "codecs", "expected an array of codec names, e.g. [\"pcma\", \"telephone-event\"]");
        return default();
    };
    let field = tr.field("codecs");
    let names: Vec<&str> = Codec::ALL.iter().map(|c| c.as_str()).collect();
    let mut out: Vec<Codec> = Vec::new();
    for v in arr.iter() {
        match v.as_str().map(|s| (s, s.parse::<Codec>())) {
            Some((c, Err(_))) => {
                let hint = did_you_mean(c, names.iter().copied());
                sink.error(
                    v.span(),
                    &field,
                    format!("unknown codec `{c}`: expected one of {}{hint}", names.join(", ")),
                );
            }
            Some((c, Ok(x))) if out.contains(&x) => sink.error(v.span(), &field, format!("codec `{c}` listed twice")),
            Some((_, Ok(x))) => out.push(x),
            None => sink.error(v.span(), &field, format!("expected a codec name, found {}", describe_value(v))),
        }
    }
    if arr.is_empty() {
        tr.error(sink, "codecs", "a trunk needs at least one codec");
    } else if !out.is_empty() && out.iter().all(|c| *c == Codec::TelephoneEvent) {
        tr.error(sink, "codecs", "telephone-event carries only DTMF: add an audio codec");
    }
    out
}

/// `trust = ["192.0.2.10", "198.51.100.0/24"]`.
fn read_trust(sink: &mut Sink<'_>, tr: &Table<'_>) -> Vec<IpNet> {
    let Some(item) = tr.raw("trust") else { return Vec::new() };
    let Some(arr) = item.as_array() else {
        tr.error(sink, "trust", "expected an array of addresses or networks, e.g. [\"198.51.100.0/24\"]");
        return Vec::new();
    };
    let field = tr.field("trust");
    let mut out = Vec::new();
    for v in arr.iter() {
        match v.as_str().map(IpNet::parse) {
            Some(Ok(n)) => out.push(n),
            Some(Err(m)) => sink.error(v.span(), &field, m),
            None => sink.error(v.span(), &field, format!("expected an address string, found {}", describe_value(v))),
        }
    }
    out
}

/// The trunks' names, for routes naming them.
pub(crate) fn trunk_names(sip: &Sip) -> Vec<&str> {
    sip.trunks.iter().map(|t| t.name.as_str()).collect()
}
