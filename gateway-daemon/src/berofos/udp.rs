//! The berofos UDP "GBL4" protocol (port 50123): a checked datagram view, `Request`/`Reply`
//! representations with parse and emit that never panic, trace `Display`, and a small blocking
//! client (scan, ping, watchdog kick, netconf, reset) over `std::net::UdpSocket`.
//!
//! Datagram: `GBL` 0x04, command byte, payload, XOR of every preceding byte. Integers are
//! big-endian, IPv4 addresses raw network-order bytes (reference/berofos.md §1.2, §2).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The device's UDP port.
pub const PORT: u16 = 50123;
/// The four bytes every datagram starts with.
pub const PREFIX: [u8; 4] = *b"GBL\x04";
/// The hardware magic numbers a scan reply may carry; any other reply is dropped (P6).
pub const HWMAGIC_BEROFOS: u16 = 0x0050;
pub const HWMAGIC_BOOTLOADER: u16 = 0x00BB;
/// Bytes in one flash page.
pub const FLASH_PAGE: usize = 512;

/// XOR of every byte: the checksum is this over everything before the last byte.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

/// An Ethernet MAC address, written `00:50:C2:12:34:56`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(f, "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

impl FromStr for Mac {
    type Err = String;
    /// Exactly 17 characters, as bnfos.conf demands: six hex pairs separated by `:` (or `-`).
    fn from_str(s: &str) -> Result<Mac, String> {
        let bad = || format!("{s:?} is not a MAC address like 00:50:C2:12:34:56");
        if s.len() != 17 {
            return Err(bad());
        }
        let mut out = [0u8; 6];
        for (i, part) in s.split([':', '-']).enumerate() {
            if i >= 6 || part.len() != 2 {
                return Err(bad());
            }
            out[i] = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        Ok(Mac(out))
    }
}

/// GBL4 command bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    GetNetconf,
    SetNetconf,
    FlashPrep,
    FlashPage,
    Reset,
    Ping,
    SetMac,
    KickWdog,
    Unknown(u8),
}

impl Command {
    pub fn from_byte(b: u8) -> Command {
        match b {
            1 => Command::GetNetconf,
            2 => Command::SetNetconf,
            3 => Command::FlashPrep,
            4 => Command::FlashPage,
            5 => Command::Reset,
            9 => Command::Ping,
            10 => Command::SetMac,
            11 => Command::KickWdog,
            other => Command::Unknown(other),
        }
    }

    pub fn byte(self) -> u8 {
        match self {
            Command::GetNetconf => 1,
            Command::SetNetconf => 2,
            Command::FlashPrep => 3,
            Command::FlashPage => 4,
            Command::Reset => 5,
            Command::Ping => 9,
            Command::SetMac => 10,
            Command::KickWdog => 11,
            Command::Unknown(b) => b,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::GetNetconf => f.write_str("GET_NETCONF"),
            Command::SetNetconf => f.write_str("SET_NETCONF"),
            Command::FlashPrep => f.write_str("FLASH_PREP"),
            Command::FlashPage => f.write_str("FLASH_PAGE"),
            Command::Reset => f.write_str("RESET"),
            Command::Ping => f.write_str("PING"),
            Command::SetMac => f.write_str("SET_MAC"),
            Command::KickWdog => f.write_str("KICK_WDOG"),
            Command::Unknown(b) => write!(f, "CMD_{b}"),
        }
    }
}

/// Why a datagram was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Shorter than prefix + command + checksum.
    Truncated,
    BadPrefix,
    BadChecksum {
        want: u8,
        got: u8,
    },
    UnknownCommand(u8),
    /// The payload is too short (or, for fixed-size requests, too long) for the command.
    BadLength {
        command: Command,
        len: usize,
    },
    /// A scan reply from something that is not a berofos (P6).
    UnknownHardware(u16),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("datagram shorter than 6 bytes"),
            Error::BadPrefix => f.write_str("datagram does not start with GBL\\x04"),
            Error::BadChecksum { want, got } => write!(f, "XOR checksum {got:#04x}, expected {want:#04x}"),
            Error::UnknownCommand(c) => write!(f, "unknown command byte {c}"),
            Error::BadLength { command, len } => write!(f, "{command} with a {len}-byte payload"),
            Error::UnknownHardware(m) => write!(f, "scan reply with hardware magic {m:#06x}"),
        }
    }
}

impl std::error::Error for Error {}

/// A checked view of one datagram: prefix, length and checksum are valid once built.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks length, prefix and the XOR checksum.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let b = buffer.as_ref();
        if b.len() < 6 {
            return Err(Error::Truncated);
        }
        if b[..4] != PREFIX {
            return Err(Error::BadPrefix);
        }
        let (body, last) = b.split_at(b.len() - 1);
        let want = checksum(body);
        if want != last[0] {
            return Err(Error::BadChecksum { want, got: last[0] });
        }
        Ok(Packet { buffer })
    }

    pub fn command(&self) -> Command {
        Command::from_byte(self.buffer.as_ref()[4])
    }

    /// The bytes between the command byte and the checksum.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[5..b.len() - 1]
    }
}

/// Wraps a command and payload into a datagram with its checksum.
pub fn emit(command: Command, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 6);
    out.extend_from_slice(&PREFIX);
    out.push(command.byte());
    out.extend_from_slice(payload);
    out.push(checksum(&out));
    out
}

/// A cursor over a payload that reports short reads instead of panicking.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.0.split_at_checked(N)?;
        self.0 = tail;
        head.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take::<2>().map(u16::from_be_bytes)
    }
    fn mac(&mut self) -> Option<Mac> {
        self.take::<6>().map(Mac)
    }
    fn ip(&mut self) -> Option<Ipv4Addr> {
        self.take::<4>().map(Ipv4Addr::from)
    }
}

/// `options` bits of the network configuration.
pub const OPT_DHCP: u8 = 0x01;
pub const OPT_HTTP_AUTH: u8 = 0x02;
pub const OPT_IP_ACL: u8 = 0x04;
/// `phy_conf` value "probe 10M and 100M" (auto-negotiation).
pub const PHY_AUTO: u8 = 0x03;

/// What SET_NETCONF carries (22 payload bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Netconf {
    pub mac: Mac,
    pub ip: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub phy_conf: u8,
    pub options: u8,
    pub http_port: u16,
}

/// What a scan (GET_NETCONF) reply carries (30 payload bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceInfo {
    pub mac: Mac,
    pub hwmagic: u16,
    pub bootloader: (u8, u8),
    pub firmware: (u8, u8),
    /// 0 = operational, anything else = flash mode.
    pub devmode: u8,
    pub ip: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub phy_conf: u8,
    /// bit0 link, bit1 100M, bit2 full duplex.
    pub phy_state: u8,
    pub options: u8,
    pub http_port: u16,
}

/// A request, as the client sends it and the device reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Scan,
    SetNetconf(Netconf),
    FlashPrep { mac: Mac, pages: u16, xor: u8 },
    FlashPage { mac: Mac, index: u16, data: Vec<u8> },
    Reset { mac: Mac },
    Ping { mac: Mac },
    SetMac { mac: Mac, payload: Vec<u8> },
    Kick { mac: Mac },
}

/// A reply, as the device sends it and the client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Netconf(DeviceInfo),
    /// MAC + error code (0 = OK): SET_NETCONF, RESET, FLASH_*, and what our simulator answers to
    /// PING and KICK_WDOG.
    Status {
        command: Command,
        mac: Mac,
        errcode: u8,
    },
    /// A reply whose payload we cannot read as a status: for PING and KICK_WDOG bnfos only looks
    /// at the command byte, so neither do we.
    Ack {
        command: Command,
    },
}

impl Request {
    pub fn command(&self) -> Command {
        match self {
            Request::Scan => Command::GetNetconf,
            Request::SetNetconf(_) => Command::SetNetconf,
            Request::FlashPrep { .. } => Command::FlashPrep,
            Request::FlashPage { .. } => Command::FlashPage,
            Request::Reset { .. } => Command::Reset,
            Request::Ping { .. } => Command::Ping,
            Request::SetMac { .. } => Command::SetMac,
            Request::Kick { .. } => Command::KickWdog,
        }
    }

    /// The MAC a request is addressed to; a scan goes to every device.
    pub fn mac(&self) -> Option<Mac> {
        match self {
            Request::Scan => None,
            Request::SetNetconf(n) => Some(n.mac),
            Request::FlashPrep { mac, .. }
            | Request::FlashPage { mac, .. }
            | Request::Reset { mac }
            | Request::Ping { mac }
            | Request::SetMac { mac, .. }
            | Request::Kick { mac } => Some(*mac),
        }
    }

    /// Reads a request; trailing bytes after a complete payload are tolerated, as the device
    /// firmware is inferred to read fixed offsets.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Request, Error> {
        let command = p.command();
        let payload = p.payload();
        let short = Error::BadLength { command, len: payload.len() };
        let mut r = Reader(payload);
        let req = match command {
            Command::GetNetconf => Some(Request::Scan),
            Command::SetNetconf => (|| {
                Some(Request::SetNetconf(Netconf {
                    mac: r.mac()?,
                    ip: r.ip()?,
                    netmask: r.ip()?,
                    gateway: r.ip()?,
                    phy_conf: r.u8()?,
                    options: r.u8()?,
                    http_port: r.u16()?,
                }))
            })(),
            Command::FlashPrep => (|| Some(Request::FlashPrep { mac: r.mac()?, pages: r.u16()?, xor: r.u8()? }))(),
            Command::FlashPage => (|| {
                let mac = r.mac()?;
                let index = r.u16()?;
                let data = r.take::<FLASH_PAGE>()?.to_vec();
                Some(Request::FlashPage { mac, index, data })
            })(),
            Command::Reset => r.mac().map(|mac| Request::Reset { mac }),
            Command::Ping => r.mac().map(|mac| Request::Ping { mac }),
            Command::SetMac => r.mac().map(|mac| Request::SetMac { mac, payload: r.0.to_vec() }),
            Command::KickWdog => r.mac().map(|mac| Request::Kick { mac }),
            Command::Unknown(b) => return Err(Error::UnknownCommand(b)),
        };
        req.ok_or(short)
    }

    /// The whole datagram, checksum included.
    pub fn emit(&self) -> Vec<u8> {
        let mut p = Vec::new();
        match self {
            Request::Scan => {}
            Request::SetNetconf(n) => {
                p.extend_from_slice(&n.mac.0);
                p.extend_from_slice(&n.ip.octets());
                p.extend_from_slice(&n.netmask.octets());
                p.extend_from_slice(&n.gateway.octets());
                p.push(n.phy_conf);
                p.push(n.options);
                p.extend_from_slice(&n.http_port.to_be_bytes());
            }
            Request::FlashPrep { mac, pages, xor } => {
                p.extend_from_slice(&mac.0);
                p.extend_from_slice(&pages.to_be_bytes());
                p.push(*xor);
            }
            Request::FlashPage { mac, index, data } => {
                p.extend_from_slice(&mac.0);
                p.extend_from_slice(&index.to_be_bytes());
                // A page is always 512 bytes on the wire: short data is zero-padded, long cut.
                let mut page = [0u8; FLASH_PAGE];
                let n = data.len().min(FLASH_PAGE);
                page[..n].copy_from_slice(&data[..n]);
                p.extend_from_slice(&page);
            }
            Request::Reset { mac } => p.extend_from_slice(&mac.0),
            // bnfos sends a u16 zero after the MAC of a ping.
            Request::Ping { mac } => {
                p.extend_from_slice(&mac.0);
                p.extend_from_slice(&[0, 0]);
            }
            Request::SetMac { mac, payload } => {
                p.extend_from_slice(&mac.0);
                p.extend_from_slice(payload);
            }
            // And one zero byte after the MAC of a kick (13 bytes on the wire).
            Request::Kick { mac } => {
                p.extend_from_slice(&mac.0);
                p.push(0);
            }
        }
        emit(self.command(), &p)
    }
}

impl Reply {
    pub fn command(&self) -> Command {
        match self {
            Reply::Netconf(_) => Command::GetNetconf,
            Reply::Status { command, .. } | Reply::Ack { command } => *command,
        }
    }

    /// Reads a reply. A scan reply needs its 30 bytes and a known hardware magic (bnfos reads
    /// past short replies; we refuse them).
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Reply, Error> {
        let command = p.command();
        let payload = p.payload();
        let mut r = Reader(payload);
        match command {
            Command::GetNetconf => {
                let info = (|| {
                    Some(DeviceInfo {
                        mac: r.mac()?,
                        hwmagic: r.u16()?,
                        bootloader: (r.u8()?, r.u8()?),
                        firmware: (r.u8()?, r.u8()?),
                        devmode: r.u8()?,
                        ip: r.ip()?,
                        netmask: r.ip()?,
                        gateway: r.ip()?,
                        phy_conf: r.u8()?,
                        phy_state: r.u8()?,
                        options: r.u8()?,
                        http_port: r.u16()?,
                    })
                })()
                .ok_or(Error::BadLength { command, len: payload.len() })?;
                if info.hwmagic != HWMAGIC_BEROFOS && info.hwmagic != HWMAGIC_BOOTLOADER {
                    return Err(Error::UnknownHardware(info.hwmagic));
                }
                Ok(Reply::Netconf(info))
            }
            Command::Unknown(b) => Err(Error::UnknownCommand(b)),
            _ => match (r.mac(), r.u8()) {
                (Some(mac), Some(errcode)) => Ok(Reply::Status { command, mac, errcode }),
                _ => Ok(Reply::Ack { command }),
            },
        }
    }

    pub fn emit(&self) -> Vec<u8> {
        let mut p = Vec::new();
        match self {
            Reply::Netconf(i) => {
                p.extend_from_slice(&i.mac.0);
                p.extend_from_slice(&i.hwmagic.to_be_bytes());
                p.extend_from_slice(&[i.bootloader.0, i.bootloader.1, i.firmware.0, i.firmware.1, i.devmode]);
                p.extend_from_slice(&i.ip.octets());
                p.extend_from_slice(&i.netmask.octets());
                p.extend_from_slice(&i.gateway.octets());
                p.extend_from_slice(&[i.phy_conf, i.phy_state, i.options]);
                p.extend_from_slice(&i.http_port.to_be_bytes());
            }
            Reply::Status { mac, errcode, .. } => {
                p.extend_from_slice(&mac.0);
                p.push(*errcode);
            }
            Reply::Ack { .. } => {}
        }
        emit(self.command(), &p)
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GBL4 > {}", self.command())?;
        match self {
            Request::Scan => Ok(()),
            Request::SetNetconf(n) => write!(
                f,
                " mac={} ip={} mask={} gw={} phy={:#04x} options={:#04x} http_port={}",
                n.mac, n.ip, n.netmask, n.gateway, n.phy_conf, n.options, n.http_port
            ),
            Request::FlashPrep { mac, pages, xor } => write!(f, " mac={mac} pages={pages} xor={xor:#04x}"),
            Request::FlashPage { mac, index, data } => write!(f, " mac={mac} page={index} len={}", data.len()),
            Request::SetMac { mac, payload } => write!(f, " mac={mac} +{} bytes", payload.len()),
            Request::Reset { mac } | Request::Ping { mac } | Request::Kick { mac } => write!(f, " mac={mac}"),
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GBL4 < {}", self.command())?;
        match self {
            Reply::Netconf(i) => write!(
                f,
                " mac={} hw={:#06x} boot={}.{} fw={}.{} {} ip={} mask={} gw={} phy={:#04x}/{:#04x} \
                 dhcp={} auth={} acl={} http_port={}",
                i.mac,
                i.hwmagic,
                i.bootloader.0,
                i.bootloader.1,
                i.firmware.0,
                i.firmware.1,
                if i.devmode == 0 { "OPERATIONAL" } else { "FLASH" },
                i.ip,
                i.netmask,
                i.gateway,
                i.phy_conf,
                i.phy_state,
                u8::from(i.options & OPT_DHCP != 0),
                u8::from(i.options & OPT_HTTP_AUTH != 0),
                u8::from(i.options & OPT_IP_ACL != 0),
                i.http_port
            ),
            Reply::Status { mac, errcode, .. } => write!(f, " mac={mac} err={errcode}"),
            Reply::Ack { .. } => Ok(()),
        }
    }
}

/// What went wrong talking GBL4 to a device.
#[derive(Debug)]
pub enum ClientError {
    Io {
        op: &'static str,
        source: std::io::Error,
    },
    /// No valid reply before the timeout (bnfos: 3 s per reply).
    Timeout {
        command: Command,
        target: SocketAddr,
    },
    /// The device answered with a non-zero error code.
    Refused {
        command: Command,
        errcode: u8,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io { op, source } => write!(f, "{op}: {source}"),
            ClientError::Timeout { command, target } => write!(f, "no {command} reply from {target}"),
            ClientError::Refused { command, errcode } => write!(f, "{command} refused with error code {errcode}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// The default wait for a reply, as bnfos (`GBL4_TO`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// bnfos waits longer for the reply to a reset.
pub const RESET_TIMEOUT: Duration = Duration::from_secs(8);

/// A blocking GBL4 client bound to an ephemeral port. Replies are matched by checksum, prefix
/// and command byte, as bnfos does; anything else is dropped and the wait goes on.
pub struct Client {
    socket: UdpSocket,
    target: SocketAddr,
    timeout: Duration,
}

impl Client {
    /// `target` is `host:50123`, or `255.255.255.255:50123` to broadcast.
    pub fn new(target: SocketAddr, timeout: Duration) -> Result<Client, ClientError> {
        let bind: SocketAddr =
            if target.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { "[::]:0".parse().expect("literal") };
        let socket = UdpSocket::bind(bind).map_err(|source| ClientError::Io { op: "bind UDP socket", source })?;
        if target.ip() == Ipv4Addr::BROADCAST {
            socket.set_broadcast(true).map_err(|source| ClientError::Io { op: "set SO_BROADCAST", source })?;
        }
        Ok(Client { socket, target, timeout })
    }

    fn send(&self, req: &Request) -> Result<(), ClientError> {
        log::debug!("{req} to {}", self.target);
        self.socket.send_to(&req.emit(), self.target).map_err(|source| ClientError::Io { op: "send GBL4", source })?;
        Ok(())
    }

    /// Waits until `deadline` for the next valid reply to `command`; `None` at the deadline.
    fn recv(&self, command: Command, deadline: Instant) -> Result<Option<(Reply, SocketAddr)>, ClientError> {
        let mut buf = [0u8; 1500];
        loop {
            let now = Instant::now();
            let Some(left) = deadline.checked_duration_since(now).filter(|d| !d.is_zero()) else {
                return Ok(None);
            };
            self.socket.set_read_timeout(Some(left)).map_err(|source| ClientError::Io { op: "set timeout", source })?;
            let (n, from) = match self.socket.recv_from(&mut buf) {
                Ok(x) => x,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    return Ok(None)
                }
                // A port-unreachable ICMP from an earlier send shows up here on Linux: keep waiting.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
                Err(source) => return Err(ClientError::Io { op: "receive GBL4", source }),
            };
            let parsed = Packet::new_checked(&buf[..n]).and_then(|p| {
                if p.command() == command {
                    Reply::parse(&p)
                } else {
                    Err(Error::UnknownCommand(p.command().byte()))
                }
            });
            match parsed {
                Ok(reply) => {
                    log::debug!("{reply} from {from}");
                    return Ok(Some((reply, from)));
                }
                Err(e) => log::debug!("dropped datagram from {from}: {e}"),
            }
        }
    }

    fn exchange(&self, req: &Request) -> Result<Reply, ClientError> {
        self.send(req)?;
        let command = req.command();
        match self.recv(command, Instant::now() + self.timeout)? {
            Some((Reply::Status { errcode, .. }, _))
                if errcode != 0 && command != Command::Ping && command != Command::KickWdog =>
            {
                Err(ClientError::Refused { command, errcode })
            }
            Some((reply, _)) => Ok(reply),
            None => Err(ClientError::Timeout { command, target: self.target }),
        }
    }

    /// Collects scan replies until the timeout, or until `max` devices have answered (a unicast
    /// scan of one host needs no more than one).
    pub fn scan(&self, max: Option<usize>) -> Result<Vec<(DeviceInfo, SocketAddr)>, ClientError> {
        self.send(&Request::Scan)?;
        let deadline = Instant::now() + self.timeout;
        let mut found: Vec<(DeviceInfo, SocketAddr)> = Vec::new();
        while max.is_none_or(|m| found.len() < m) {
            match self.recv(Command::GetNetconf, deadline)? {
                Some((Reply::Netconf(info), from)) => {
                    if !found.iter().any(|(i, _)| i.mac == info.mac) {
                        found.push((info, from));
                    }
                }
                Some(_) => {}
                None => break,
            }
        }
        Ok(found)
    }

    /// One ping, no retry (as bnfos).
    pub fn ping(&self, mac: Mac) -> Result<(), ClientError> {
        self.exchange(&Request::Ping { mac }).map(drop)
    }

    /// One watchdog kick, no retry: the caller kicks again at its interval.
    pub fn kick(&self, mac: Mac) -> Result<(), ClientError> {
        self.exchange(&Request::Kick { mac }).map(drop)
    }

    /// Sends a new network configuration (applied by the device after a reboot, P10).
    pub fn set_netconf(&self, conf: Netconf) -> Result<(), ClientError> {
        self.exchange(&Request::SetNetconf(conf)).map(drop)
    }

    /// Reboots the device; bnfos waits 8 s for this reply.
    pub fn reset(&self, mac: Mac) -> Result<(), ClientError> {
        let req = Request::Reset { mac };
        self.send(&req)?;
        let wait = self.timeout.max(RESET_TIMEOUT);
        match self.recv(Command::Reset, Instant::now() + wait)? {
            Some((Reply::Status { errcode, .. }, _)) if errcode != 0 => {
                Err(ClientError::Refused { command: Command::Reset, errcode })
            }
            Some(_) => Ok(()),
            None => Err(ClientError::Timeout { command: Command::Reset, target: self.target }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: Mac = Mac([0x00, 0x50, 0xC2, 0x12, 0x34, 0x56]);

    #[test]
    fn scan_request_is_the_reference_bytes() {
        // reference/berofos.md §1.2: the whole scan request, and the prefix's XOR alone.
        assert_eq!(Request::Scan.emit(), [0x47, 0x42, 0x4C, 0x04, 0x01, 0x4C]);
        assert_eq!(checksum(&PREFIX), 0x4D);
        let p = Packet::new_checked(&[0x47u8, 0x42, 0x4C, 0x04, 0x01, 0x4C][..]).unwrap();
        assert_eq!(Request::parse(&p).unwrap(), Request::Scan);
    }

    #[test]
    fn request_sizes_match_the_reference() {
        let kick = Request::Kick { mac: MAC }.emit();
        assert_eq!(kick.len(), 13);
        assert_eq!(kick, [0x47, 0x42, 0x4C, 0x04, 0x0B, 0x00, 0x50, 0xC2, 0x12, 0x34, 0x56, 0x00, 0xA4]);
        assert_eq!(Request::Ping { mac: MAC }.emit().len(), 14);
        let nc = Netconf {
            mac: MAC,
            ip: Ipv4Addr::new(192, 168, 0, 2),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            gateway: Ipv4Addr::UNSPECIFIED,
            phy_conf: PHY_AUTO,
            options: OPT_DHCP,
            http_port: 80,
        };
        let bytes = Request::SetNetconf(nc).emit();
        assert_eq!(bytes.len(), 5 + 22 + 1);
        assert_eq!(&bytes[11..15], &[192, 168, 0, 2]);
        assert_eq!(&bytes[25..27], &[0, 80]);
        assert_eq!(Request::parse(&Packet::new_checked(&bytes).unwrap()).unwrap(), Request::SetNetconf(nc));
        assert_eq!(Request::FlashPage { mac: MAC, index: 3, data: vec![1, 2] }.emit().len(), 5 + 6 + 2 + 512 + 1);
    }

    #[test]
    fn scan_reply_round_trip_and_magic_filter() {
        let info = DeviceInfo {
            mac: MAC,
            hwmagic: HWMAGIC_BEROFOS,
            bootloader: (1, 2),
            firmware: (1, 53),
            devmode: 0,
            ip: Ipv4Addr::new(10, 0, 0, 9),
            netmask: Ipv4Addr::new(255, 0, 0, 0),
            gateway: Ipv4Addr::new(10, 0, 0, 1),
            phy_conf: PHY_AUTO,
            phy_state: 0x07,
            options: OPT_HTTP_AUTH,
            http_port: 8080,
        };
        let bytes = Reply::Netconf(info).emit();
        assert_eq!(bytes.len(), 36, "reference: scan reply datagram is 36 bytes");
        assert_eq!(&bytes[11..13], &[0x00, 0x50]);
        assert_eq!(&bytes[33..35], &[0x1F, 0x90]);
        let reply = Reply::parse(&Packet::new_checked(&bytes).unwrap()).unwrap();
        assert_eq!(reply, Reply::Netconf(info));
        assert!(reply.to_string().contains("fw=1.53 OPERATIONAL ip=10.0.0.9"), "{reply}");
        let other = Reply::Netconf(DeviceInfo { hwmagic: 0x0035, ..info }).emit();
        assert_eq!(Reply::parse(&Packet::new_checked(&other).unwrap()), Err(Error::UnknownHardware(0x35)));
        let short = emit(Command::GetNetconf, &bytes[5..20]);
        assert!(matches!(Reply::parse(&Packet::new_checked(&short).unwrap()), Err(Error::BadLength { .. })));
    }

    #[test]
    fn checked_view_rejects_bad_datagrams() {
        assert_eq!(Packet::new_checked(&[0x47u8, 0x42, 0x4C][..]).unwrap_err(), Error::Truncated);
        assert_eq!(Packet::new_checked(&[0x47u8, 0x42, 0x4C, 0x05, 0x01, 0x4B][..]).unwrap_err(), Error::BadPrefix);
        assert_eq!(
            Packet::new_checked(&[0x47u8, 0x42, 0x4C, 0x04, 0x01, 0x00][..]).unwrap_err(),
            Error::BadChecksum { want: 0x4C, got: 0 }
        );
        let unknown = emit(Command::Unknown(42), &[]);
        assert_eq!(Request::parse(&Packet::new_checked(&unknown).unwrap()), Err(Error::UnknownCommand(42)));
        let short_kick = emit(Command::KickWdog, &[0, 1, 2]);
        assert!(matches!(Request::parse(&Packet::new_checked(&short_kick).unwrap()), Err(Error::BadLength { .. })));
    }

    #[test]
    fn status_replies_and_trace() {
        let r = Reply::Status { command: Command::KickWdog, mac: MAC, errcode: 0 };
        let back = Reply::parse(&Packet::new_checked(r.emit()).unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(r.to_string(), "GBL4 < KICK_WDOG mac=00:50:C2:12:34:56 err=0");
        let bare = emit(Command::Ping, &[]);
        assert_eq!(Reply::parse(&Packet::new_checked(&bare).unwrap()).unwrap(), Reply::Ack { command: Command::Ping });
        assert_eq!(Request::Kick { mac: MAC }.to_string(), "GBL4 > KICK_WDOG mac=00:50:C2:12:34:56");
    }

    #[test]
    fn mac_text() {
        assert_eq!("00:50:c2:12:34:56".parse::<Mac>().unwrap(), MAC);
        assert!("00:50:c2:12:34".parse::<Mac>().is_err());
        assert!("00:50:c2:12:34:5g".parse::<Mac>().is_err());
        assert!("0:50:c2:12:34:567".parse::<Mac>().is_err());
    }

    #[test]
    fn parse_never_panics_on_short_or_random_input() {
        // A cheap deterministic sweep; the fuzz target berofos_udp goes further.
        let mut x = 0x1234_5678u32;
        for len in 0..64 {
            for _ in 0..50 {
                let mut buf: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        x.to_le_bytes()[0]
                    })
                    .collect();
                if len >= 5 {
                    buf[..4].copy_from_slice(&PREFIX);
                    let c = checksum(&buf[..len - 1]);
                    buf[len - 1] = c;
                }
                if let Ok(p) = Packet::new_checked(&buf[..]) {
                    let _ = Request::parse(&p).map(|r| r.to_string());
                    let _ = Reply::parse(&p).map(|r| r.to_string());
                }
            }
        }
    }
}
