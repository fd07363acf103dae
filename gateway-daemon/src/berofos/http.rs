//! The berofos HTTP client: reads `/config.txt`, writes `/?cmd=N&param=value` (whole groups
//! for old firmware, P4), answers a 401 with Digest or Basic, 3 s per exchange, retries on
//! network errors. Blocking `std::net::TcpStream`, for the CLI and the HA logic's worker.

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::auth::{self, Challenge};
use super::httpmsg::{HttpError, Response};
use super::vars::{self, ConfigTxt, NoMagic, ValueError, Var};

/// bnfos's total HTTP timeout (`GBL4_TO`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// Extra attempts after a network error or timeout (bnfos makes none; a relay switch that
/// fails on one lost SYN is worse than one that takes a second longer).
pub const DEFAULT_RETRIES: u32 = 2;
/// The largest response we read (config.txt is about 1 KiB).
const MAX_RESPONSE: u64 = 256 * 1024;

/// `user:password` for the device (`login =` in bnfos.conf; the device's user is `admin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl Credentials {
    /// `user:password`, split at the first colon.
    pub fn parse(login: &str) -> Option<Credentials> {
        let (user, password) = login.split_once(':')?;
        Some(Credentials { user: user.to_owned(), password: password.to_owned() })
    }
}

/// What went wrong talking HTTP to a device.
#[derive(Debug)]
pub enum Error {
    Io {
        op: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    Timeout {
        addr: SocketAddr,
    },
    Http {
        addr: SocketAddr,
        source: HttpError,
    },
    /// 401 without credentials, or with credentials the device refused.
    Unauthorized {
        addr: SocketAddr,
        sent_credentials: bool,
    },
    /// 401 with no challenge we can answer.
    NoUsableChallenge {
        addr: SocketAddr,
    },
    /// Any status but 2xx and 401 (redirects are not followed, as bnfos).
    Status {
        addr: SocketAddr,
        status: u16,
    },
    NoMagic(NoMagic),
    Value(ValueError),
    WriteOnly(&'static str),
    NotReported(&'static str),
    /// The value read back after a write is not the one written.
    ReadBack {
        key: &'static str,
        want: String,
        got: Option<String>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, addr, source } => write!(f, "{op} {addr}: {source}"),
            Error::Timeout { addr } => write!(f, "{addr}: no complete answer in time"),
            Error::Http { addr, source } => write!(f, "{addr}: {source}"),
            Error::Unauthorized { addr, sent_credentials: false } => {
                write!(f, "{addr}: the berofos asks for a password (give --user/--password or login = in bnfos.conf)")
            }
            Error::Unauthorized { addr, sent_credentials: true } => write!(f, "{addr}: bad credentials"),
            Error::NoUsableChallenge { addr } => write!(f, "{addr}: 401 with no Basic or Digest challenge"),
            Error::Status { addr, status } => write!(f, "{addr}: HTTP status {status}"),
            Error::NoMagic(e) => e.fmt(f),
            Error::Value(e) => e.fmt(f),
            Error::WriteOnly(k) => write!(f, "{k} is write-only"),
            Error::NotReported(k) => write!(f, "the device does not report {k}"),
            Error::ReadBack { key, want, got } => {
                write!(f, "{key}: wrote {want}, read back {}", got.as_deref().unwrap_or("nothing"))
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Error {
    /// Worth another attempt: the network, not the device's answer, failed.
    fn transient(&self) -> bool {
        matches!(self, Error::Io { .. } | Error::Timeout { .. } | Error::Http { source: HttpError::Incomplete, .. })
    }
}

/// The relay position a node asks for: XiVO's `xivo-berofos master` = mode 1 (A–B), `slave` =
/// mode 0 (A–D).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Slave,
}

impl Role {
    pub fn mode(self) -> u8 {
        match self {
            Role::Master => 1,
            Role::Slave => 0,
        }
    }
}

/// One berofos reached over HTTP.
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    credentials: Option<Credentials>,
    timeout: Duration,
    retries: u32,
    whole_group: bool,
    /// Digest nonce count; one client answers each challenge with an increasing count.
    nc: AtomicU32,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            credentials: None,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            whole_group: true,
            nc: AtomicU32::new(0),
        }
    }

    pub fn with_credentials(mut self, c: Option<Credentials>) -> Client {
        self.credentials = c;
        self
    }

    pub fn with_timeout(mut self, t: Duration) -> Client {
        self.timeout = t;
        self
    }

    pub fn with_retries(mut self, n: u32) -> Client {
        self.retries = n;
        self
    }

    /// Whether `set` re-sends the variable's whole `cmd` group (on by default, as rsclib).
    pub fn with_whole_group(mut self, on: bool) -> Client {
        self.whole_group = on;
        self
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// One GET on a fresh connection, with an optional `Authorization`.
    fn fetch(&self, path: &str, authorization: Option<&str>) -> Result<Response, Error> {
        let addr = self.addr;
        let deadline = Instant::now() + self.timeout;
        let left =
            || deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()).ok_or(Error::Timeout { addr });
        let io = |op| {
            move |source: std::io::Error| match source.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Error::Timeout { addr },
                _ => Error::Io { op, addr, source },
            }
        };
        let mut stream = TcpStream::connect_timeout(&addr, left()?).map_err(io("connect to"))?;
        stream.set_write_timeout(Some(left()?)).map_err(io("set timeout on"))?;
        let mut head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: libbnfos\r\nConnection: close\r\n");
        if let Some(a) = authorization {
            head.push_str(&format!("Authorization: {a}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).map_err(io("send request to"))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            stream.set_read_timeout(Some(left()?)).map_err(io("set timeout on"))?;
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.len() as u64 > MAX_RESPONSE {
                        return Err(Error::Http { addr, source: HttpError::TooLarge });
                    }
                    // Stop early once a Content-Length body is complete.
                    if let Ok(r) = Response::parse(&buf) {
                        if r.header("content-length").is_some() {
                            return Ok(r);
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io("read answer from")(e)),
            }
        }
        Response::parse(&buf).map_err(|source| Error::Http { addr, source })
    }

    /// A GET answered with 2xx, after answering a 401 challenge if there is one.
    fn get_ok(&self, path: &str) -> Result<Response, Error> {
        let mut attempt = 0;
        loop {
            match self.get_once(path) {
                Err(e) if e.transient() && attempt < self.retries => {
                    attempt += 1;
                    log::debug!("berofos {}: {e}; retry {attempt} of {}", self.addr, self.retries);
                    std::thread::sleep(Duration::from_millis(100 * u64::from(attempt)));
                }
                other => return other,
            }
        }
    }

    fn get_once(&self, path: &str) -> Result<Response, Error> {
        let addr = self.addr;
        let mut resp = self.fetch(path, None)?;
        if resp.status == 401 {
            let Some(creds) = &self.credentials else {
                return Err(Error::Unauthorized { addr, sent_credentials: false });
            };
            let challenges: Vec<Challenge> =
                resp.headers_named("www-authenticate").filter_map(Challenge::parse).collect();
            // Digest first: it never sends the password itself (curl's HTTPAUTH=ANY picks it too).
            let digest = challenges.iter().find_map(|c| match c {
                Challenge::Digest(d) => Some(d),
                Challenge::Basic { .. } => None,
            });
            let authorization = if let Some(d) = digest {
                let nc = self.nc.fetch_add(1, Ordering::Relaxed) + 1;
                let cnonce = auth::md5_hex(&format!("{:?}{}{nc}", Instant::now(), std::process::id()));
                auth::digest_authorization(d, &creds.user, &creds.password, path, nc, &cnonce[..16])
            } else if challenges.iter().any(|c| matches!(c, Challenge::Basic { .. })) {
                auth::basic_authorization(&creds.user, &creds.password)
            } else {
                return Err(Error::NoUsableChallenge { addr });
            };
            resp = self.fetch(path, Some(&authorization))?;
            if resp.status == 401 {
                return Err(Error::Unauthorized { addr, sent_credentials: true });
            }
        }
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(Error::Status { addr, status: resp.status })
        }
    }

    /// Reads `/config.txt`; a magic value other than 0.1 is logged and read anyway.
    pub fn read_config(&self) -> Result<ConfigTxt, Error> {
        let resp = self.get_ok("/config.txt")?;
        let text = String::from_utf8_lossy(&resp.body);
        let conf = ConfigTxt::parse(&text).map_err(Error::NoMagic)?;
        if !conf.magic_known() {
            log::warn!("berofos {}: config.txt magic {:?}, expected {}", self.addr, conf.magic, vars::MAGIC_VALUE);
        }
        Ok(conf)
    }

    /// One raw write: `/?cmd=N&k=v...`.
    pub fn write(&self, cmd: u8, params: &[(&str, String)]) -> Result<(), Error> {
        self.get_ok(&vars::write_path(cmd, params)).map(drop)
    }

    /// The current value of a variable, as `bnfos --get KEY` prints it.
    pub fn get(&self, key: &str) -> Result<String, Error> {
        let var = vars::lookup(key).ok_or_else(|| Error::Value(ValueError::UnknownKey(key.to_owned())))?;
        if var.conf.is_none() {
            return Err(Error::WriteOnly(var.key));
        }
        self.read_config()?.get(var).ok_or(Error::NotReported(var.key))
    }

    /// Writes `key = value` (checked first). Variables that share a `cmd` group with others are
    /// written together with the group's current values, so old firmware keeps them.
    pub fn set(&self, key: &str, value: &str) -> Result<(), Error> {
        let var = vars::lookup(key).ok_or_else(|| Error::Value(ValueError::UnknownKey(key.to_owned())))?;
        let value = vars::normalize(var, value).map_err(Error::Value)?;
        let cmd = var.cmd.ok_or(Error::Value(ValueError::ReadOnly(var.key)))?;
        let params = if self.whole_group && group_size(var) > 1 {
            self.read_config()?.group_write(var, &value)
        } else {
            let mut p: Vec<(&str, String)> = var.fixed.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            p.extend(var.param.map(|k| (k, value.clone())));
            p
        };
        self.write(cmd, &params)
    }

    /// Writes and reads back; fails unless the device reports the value written.
    pub fn set_checked(&self, key: &str, value: &str) -> Result<(), Error> {
        self.set(key, value)?;
        let var = vars::lookup(key).ok_or_else(|| Error::Value(ValueError::UnknownKey(key.to_owned())))?;
        let Some(_) = var.conf else { return Ok(()) };
        let want = vars::normalize(var, value).map_err(Error::Value)?;
        let got = self.read_config()?.get(var);
        if got.as_deref() == Some(want.as_str()) {
            Ok(())
        } else {
            Err(Error::ReadBack { key: var.key, want, got })
        }
    }

    /// Moves the relays for `role` and reads the mode back (XiVO never did).
    pub fn set_role(&self, role: Role) -> Result<(), Error> {
        self.set_checked("mode", &role.mode().to_string())
    }
}

/// How many writable variables share `var`'s HTTP form.
fn group_size(var: &Var) -> usize {
    vars::VARS.iter().filter(|o| o.cmd == var.cmd && o.fixed.is_empty() && o.param.is_some()).count()
}
