//! A berofos simulator, faithful to reference/berofos.md: `config.txt` with its magic line and
//! `/?cmd=N&...` writes over HTTP (optional Basic or Digest password), GBL4 over UDP (scan,
//! ping, kick, netconf, reset), relay state per group, the watchdog countdown that drops the
//! relays to mode 0 (A–D) on expiry, power-off = A–D, and the old-firmware form bug.
//!
//! `Device` is sans-IO: bytes and `now` in, bytes out. `serve` gives it a TCP listener and a
//! UDP socket on two threads. Where the reference infers behaviour the choice is noted.
//!
//! **Simulator-only test hooks** (no real berofos has them; never authenticated, answered even
//! with the power off, as they stand for the mains switch and a look inside the box):
//! `GET /sim/state` (powered, mode, links, watchdog, counters as `key=value` lines) and
//! `GET /sim/power?on=0|1`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::auth::{self, parse_params};
use super::httpmsg::{self, Request as HttpRequest, Response};
use super::udp::{self, Command, DeviceInfo, Mac, Netconf, Packet, Reply, Request};
use super::vars::{self, Kind, MAGIC_KEY, MAGIC_VALUE, VARS};

/// Which scheme a password-protected device asks for (the real one's is not known: both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    Basic,
    Digest,
}

/// How the simulated device starts.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub mac: Mac,
    /// The address reported by a scan.
    pub ip: Ipv4Addr,
    /// The HTTP port reported by a scan (the port the simulator listens on).
    pub http_port: u16,
    /// 0 fallback, 1 bypass.
    pub scenario: u8,
    /// Relay mode at power-up (`modedef`).
    pub modedef: u8,
    /// Watchdog on at power-up (`wdogdef`).
    pub wdogdef: bool,
    /// Watchdog interval in seconds (`wdogitime`).
    pub wintv: u16,
    /// HTTP password protection (`pwd`) and the admin password (`apwd`).
    pub pwd: bool,
    pub password: String,
    pub auth: AuthScheme,
    /// Firmware 1.3.3's form bug (P4): a write of one `cmd` group clears the group's
    /// checkboxes that the request leaves out.
    pub old_firmware: bool,
    pub powered: bool,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            mac: Mac([0x00, 0x50, 0xC2, 0x6B, 0x00, 0x01]),
            ip: Ipv4Addr::new(192, 168, 0, 2),
            http_port: 80,
            scenario: 0,
            modedef: 1,
            wdogdef: false,
            wintv: 60,
            pwd: false,
            password: "admin".into(),
            auth: AuthScheme::Basic,
            old_firmware: false,
            powered: true,
        }
    }
}

/// Watchdog state as `wdogstate` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WdogState {
    Off,
    Armed {
        deadline: Instant,
    },
    /// Expired; the device stays here (mode 0) until `wdog` is written again (inferred).
    Failed,
}

/// What the simulator counted, for tests and the `/sim/state` hook.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub http_requests: u64,
    pub udp_requests: u64,
    pub malformed_http: u64,
    pub malformed_udp: u64,
    pub unauthorized: u64,
    pub kicks: u64,
    pub wdog_expiries: u64,
}

/// The simulated device.
#[derive(Debug)]
pub struct Device {
    cfg: SimConfig,
    /// Every stored variable by its config.txt key (`4_mode` and `6_wen` included).
    values: BTreeMap<&'static str, String>,
    apwd: String,
    wdog: WdogState,
    powered: bool,
    pending_netconf: Option<Netconf>,
    nonces: VecDeque<String>,
    nonce_seq: u64,
    counters: Counters,
    malformed_logged: bool,
}

fn b(v: bool) -> String {
    u8::from(v).to_string()
}

impl Device {
    pub fn new(cfg: SimConfig, now: Instant) -> Device {
        let mut values = BTreeMap::new();
        for v in VARS {
            if let (Some(conf), Kind::Bool | Kind::Choice | Kind::Port | Kind::Ipv4 | Kind::Text(_)) = (v.conf, v.kind)
            {
                values.insert(conf, String::new());
            }
        }
        let mut set = |k: &'static str, v: String| {
            values.insert(k, v);
        };
        set("1_sz", cfg.scenario.to_string());
        set("1_rm", cfg.modedef.to_string());
        set("1_p0", b(true));
        set("1_p1", b(true));
        set("2_wen", b(cfg.wdogdef));
        set("2_wintv", cfg.wintv.to_string());
        for k in ["2_as", "2_men", "3_dhcp", "3_log"] {
            set(k, b(false));
        }
        set("3_dn", "berofos".into());
        set("3_ip", cfg.ip.to_string());
        set("3_nm", "255.255.255.0".into());
        set("3_gw", "0.0.0.0".into());
        set("3_dns", "0.0.0.0".into());
        set("3_port", cfg.http_port.to_string());
        set("3_pwd", b(cfg.pwd));
        set("3_loghost", "0.0.0.0".into());
        set("3_logport", "514".into());
        set("4_mode", "0".into());
        set("6_wen", "0".into());
        let mut d = Device {
            apwd: cfg.password.clone(),
            powered: false,
            cfg,
            values,
            wdog: WdogState::Off,
            pending_netconf: None,
            nonces: VecDeque::new(),
            nonce_seq: 0,
            counters: Counters::default(),
            malformed_logged: false,
        };
        if d.cfg.powered {
            d.power(now, true);
        }
        d
    }

    fn val(&self, conf: &str) -> &str {
        self.values.get(conf).map_or("", String::as_str)
    }

    fn flag(&self, conf: &str) -> bool {
        self.val(conf) == "1"
    }

    fn wintv(&self) -> Duration {
        Duration::from_secs(self.val("2_wintv").parse::<u64>().unwrap_or(60).max(1))
    }

    /// The relay mode now: 0 (A–D) or 1.
    pub fn mode(&self) -> u8 {
        u8::from(self.powered && self.val("4_mode") == "1")
    }

    pub fn powered(&self) -> bool {
        self.powered
    }

    pub fn wdog(&self) -> WdogState {
        self.wdog
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The groups joined by the relays: A–D at rest (mode 0, power off, watchdog expired),
    /// A–B in fallback mode 1, A–B and C–D in bypass mode 1.
    pub fn links(&self) -> Vec<(char, char)> {
        match (self.mode(), self.val("1_sz")) {
            (0, _) => vec![('A', 'D')],
            (_, "1") => vec![('A', 'B'), ('C', 'D')],
            _ => vec![('A', 'B')],
        }
    }

    /// Power on (mode and watchdog from their power-up settings, a pending netconf applied)
    /// or off (every relay at rest: A–D).
    pub fn power(&mut self, now: Instant, on: bool) {
        if on == self.powered {
            return;
        }
        self.powered = on;
        self.wdog = WdogState::Off;
        if on {
            if let Some(n) = self.pending_netconf.take() {
                self.values.insert("3_ip", n.ip.to_string());
                self.values.insert("3_nm", n.netmask.to_string());
                self.values.insert("3_gw", n.gateway.to_string());
                self.values.insert("3_dhcp", b(n.options & udp::OPT_DHCP != 0));
                self.values.insert("3_pwd", b(n.options & udp::OPT_HTTP_AUTH != 0));
                self.values.insert("3_port", n.http_port.to_string());
            }
            let modedef = self.val("1_rm").to_owned();
            self.values.insert("4_mode", modedef);
            let wen = self.flag("2_wen");
            self.values.insert("6_wen", b(wen));
            if wen {
                self.wdog = WdogState::Armed { deadline: now + self.wintv() };
            }
            log::info!("power on, mode {}, watchdog {}", self.mode(), if wen { "armed" } else { "off" });
        } else {
            log::info!("power off, relays at rest (A-D)");
        }
    }

    /// Lets the watchdog expire when its time has come.
    pub fn advance(&mut self, now: Instant) {
        if let WdogState::Armed { deadline } = self.wdog {
            if now >= deadline {
                self.wdog = WdogState::Failed;
                self.values.insert("4_mode", "0".into());
                self.counters.wdog_expiries += 1;
                log::warn!("watchdog expired, relays to mode 0 (A-D)");
            }
        }
    }

    /// When `advance` next has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.wdog {
            WdogState::Armed { deadline } => Some(deadline),
            _ => None,
        }
    }

    fn malformed(&mut self, what: &str, detail: &dyn std::fmt::Display) {
        if !self.malformed_logged {
            self.malformed_logged = true;
            log::warn!("malformed {what}: {detail} (further ones are only counted)");
        }
    }

    /// One GBL4 datagram in, at most one out. Garbage is dropped (counted), as is a request for
    /// another MAC; nothing is answered with the power off.
    pub fn handle_udp(&mut self, now: Instant, datagram: &[u8]) -> Option<Vec<u8>> {
        self.advance(now);
        if !self.powered {
            return None;
        }
        self.counters.udp_requests += 1;
        let req = match Packet::new_checked(datagram).and_then(|p| Request::parse(&p)) {
            Ok(r) => r,
            Err(e) => {
                self.counters.malformed_udp += 1;
                self.malformed("GBL4 datagram", &e);
                return None;
            }
        };
        log::debug!("{req}");
        if req.mac().is_some_and(|m| m != self.cfg.mac) {
            return None;
        }
        let mac = self.cfg.mac;
        let ok = |command| Some(Reply::Status { command, mac, errcode: 0 });
        let reply = match req {
            Request::Scan => Some(Reply::Netconf(self.info())),
            Request::Ping { .. } => ok(Command::Ping),
            Request::Kick { .. } => {
                self.counters.kicks += 1;
                // A kick only feeds an armed watchdog: after a failure the relays stay at rest
                // until `wdog` is written again (why Wazo's workaround re-sets wdog=1).
                if let WdogState::Armed { .. } = self.wdog {
                    self.wdog = WdogState::Armed { deadline: now + self.wintv() };
                }
                ok(Command::KickWdog)
            }
            Request::SetNetconf(n) => {
                // Applied at the next power-up (P10).
                self.pending_netconf = Some(n);
                ok(Command::SetNetconf)
            }
            Request::Reset { .. } => {
                self.power(now, false);
                self.power(now, true);
                ok(Command::Reset)
            }
            // The simulator cannot be flashed: refuse with a non-zero code.
            Request::FlashPrep { .. } => Some(Reply::Status { command: Command::FlashPrep, mac, errcode: 1 }),
            Request::FlashPage { .. } => Some(Reply::Status { command: Command::FlashPage, mac, errcode: 1 }),
            Request::SetMac { .. } => None,
        };
        reply.map(|r| {
            log::debug!("{r}");
            r.emit()
        })
    }

    fn info(&self) -> DeviceInfo {
        let ip = |k: &str| self.val(k).parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
        let mut options = 0;
        if self.flag("3_dhcp") {
            options |= udp::OPT_DHCP;
        }
        if self.flag("3_pwd") {
            options |= udp::OPT_HTTP_AUTH;
        }
        DeviceInfo {
            mac: self.cfg.mac,
            hwmagic: udp::HWMAGIC_BEROFOS,
            bootloader: (1, 2),
            firmware: if self.cfg.old_firmware { (1, 33) } else { (1, 53) },
            devmode: 0,
            ip: ip("3_ip"),
            netmask: ip("3_nm"),
            gateway: ip("3_gw"),
            phy_conf: udp::PHY_AUTO,
            phy_state: 0x07,
            options,
            http_port: self.cfg.http_port,
        }
    }

    /// One HTTP request head in, the response bytes out; `None` means close without an answer
    /// (the device is off).
    pub fn handle_http(&mut self, now: Instant, head: &[u8]) -> Option<Vec<u8>> {
        self.advance(now);
        let req = match HttpRequest::parse(head) {
            Ok(r) => r,
            Err(e) => {
                if !self.powered {
                    return None;
                }
                self.counters.malformed_http += 1;
                self.malformed("HTTP request", &e);
                return Some(Response::new(400, "text/plain", "bad request\n").emit());
            }
        };
        let (path, query) = req.path_and_query();
        if let Some(hook) = path.strip_prefix("/sim/") {
            return Some(self.sim_hook(now, hook, &query).emit());
        }
        if !self.powered {
            return None;
        }
        self.counters.http_requests += 1;
        if self.flag("3_pwd") && !self.authorized(&req) {
            self.counters.unauthorized += 1;
            return Some(self.challenge().emit());
        }
        let resp = if req.method != "GET" {
            Response::new(405, "text/plain", "GET only\n")
        } else if path == "/config.txt" {
            Response::new(200, "text/plain", self.config_txt(now))
        } else if path == "/" || path == "/index.html" {
            self.write(now, &query);
            Response::new(200, "text/html", "<html><body>berofos</body></html>\n")
        } else {
            Response::new(404, "text/plain", "not found\n")
        };
        Some(resp.emit())
    }

    fn sim_hook(&mut self, now: Instant, hook: &str, query: &[(String, String)]) -> Response {
        match hook {
            "state" => {}
            "power" => match query.iter().find(|(k, _)| k == "on").map(|(_, v)| v.as_str()) {
                Some("1") => self.power(now, true),
                Some("0") => self.power(now, false),
                _ => return Response::new(400, "text/plain", "power?on=0|1\n"),
            },
            _ => return Response::new(404, "text/plain", "unknown simulator hook\n"),
        }
        let c = self.counters;
        let links: Vec<String> = self.links().iter().map(|(a, z)| format!("{a}-{z}")).collect();
        let (wstate, left) = self.wdog_report(now);
        let body = format!(
            "powered={}\nmode={}\nlinks={}\nwdog_state={wstate}\nwdog_left={left}\nhttp_requests={}\n\
             udp_requests={}\nmalformed_http={}\nmalformed_udp={}\nunauthorized={}\nkicks={}\nwdog_expiries={}\n",
            u8::from(self.powered),
            self.mode(),
            links.join(","),
            c.http_requests,
            c.udp_requests,
            c.malformed_http,
            c.malformed_udp,
            c.unauthorized,
            c.kicks,
            c.wdog_expiries
        );
        Response::new(200, "text/plain", body)
    }

    /// `wdogstate` (0 off, 1 armed, 2 failed) and whole seconds left.
    fn wdog_report(&self, now: Instant) -> (u8, u64) {
        match self.wdog {
            WdogState::Off => (0, 0),
            WdogState::Armed { deadline } => (1, deadline.saturating_duration_since(now).as_secs()),
            WdogState::Failed => (2, 0),
        }
    }

    /// config.txt as the firmware's template expands it: a line before the magic, checkbox
    /// macros (`checked` or empty) in the form groups, plain numbers elsewhere.
    fn config_txt(&self, now: Instant) -> String {
        let (wstate, left) = self.wdog_report(now);
        let mut out = format!("# berofos {}\n{MAGIC_KEY}={MAGIC_VALUE}\n0_wretv={left}\n", self.cfg.mac);
        for v in VARS {
            let Some(conf) = v.conf else { continue };
            let value = match (conf, v.kind) {
                ("6_wstate", _) => wstate.to_string(),
                ("0_wretv", _) => continue,
                ("4_mode", _) => self.mode().to_string(),
                (c, Kind::Bool) if c.starts_with('2') || c.starts_with('3') => {
                    if self.flag(c) { "checked" } else { "" }.to_owned()
                }
                (c, _) => self.val(c).to_owned(),
            };
            let _ = writeln!(out, "{conf}={value}");
        }
        // Firmware 1.5.7 adds keys bnfos does not know; clients must skip them.
        out.push_str("2_mail=0\n");
        out
    }

    /// Applies `/?cmd=N&...`. Values the device cannot use are ignored (a web form gives no
    /// error page), and counted as malformed: only reading back tells the client.
    fn write(&mut self, now: Instant, query: &[(String, String)]) {
        let Some(cmd) = query.iter().find(|(k, _)| k == "cmd").and_then(|(_, v)| v.parse::<u8>().ok()) else {
            return;
        };
        let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match cmd {
            5 => {
                let port = match get("p") {
                    Some("0") => "5_p0",
                    Some("1") => "5_p1",
                    _ => return self.bad_write("cmd=5 without p=0|1"),
                };
                match get("s").and_then(vars::parse_bool) {
                    Some(on) => {
                        self.values.insert(port, b(on));
                    }
                    None => self.bad_write("cmd=5 without s=0|1"),
                }
            }
            7 => log::info!("test mail requested (not sent)"),
            1..=4 | 6 => {
                for var in VARS.iter().filter(|v| v.cmd == Some(cmd) && v.fixed.is_empty()) {
                    let Some(param) = var.param else { continue };
                    match get(param) {
                        Some(raw) => match vars::normalize(var, raw) {
                            Ok(v) if var.key == "apwd" => self.apwd = v,
                            Ok(v) => self.store(now, var.conf.unwrap_or(""), v),
                            Err(e) => self.bad_write(&e.to_string()),
                        },
                        // The old firmware's form handler reads a missing checkbox as unchecked.
                        None if self.cfg.old_firmware && var.kind == Kind::Bool && cmd <= 3 => {
                            self.store(now, var.conf.unwrap_or(""), "0".into())
                        }
                        None => {}
                    }
                }
            }
            other => self.bad_write(&format!("unknown cmd={other}")),
        }
    }

    fn store(&mut self, now: Instant, conf: &'static str, value: String) {
        if conf.is_empty() {
            return;
        }
        if conf == "6_wen" {
            // Writing the watchdog (re)arms or disarms it, also out of a failure.
            self.wdog = if value == "1" { WdogState::Armed { deadline: now + self.wintv() } } else { WdogState::Off };
        }
        if conf == "4_mode" {
            log::info!("relay mode {value}");
        }
        self.values.insert(conf, value);
    }

    fn bad_write(&mut self, why: &str) {
        self.counters.malformed_http += 1;
        self.malformed("write", &why);
    }

    fn challenge(&mut self) -> Response {
        let realm = "berofos";
        let resp = Response::new(401, "text/plain", "authorization required\n");
        match self.cfg.auth {
            AuthScheme::Basic => resp.with_header("www-authenticate", format!("Basic realm=\"{realm}\"")),
            AuthScheme::Digest => {
                self.nonce_seq += 1;
                let nonce = auth::md5_hex(&format!("{}:{}:{:?}", self.cfg.mac, self.nonce_seq, Instant::now()));
                self.nonces.push_back(nonce.clone());
                if self.nonces.len() > 32 {
                    self.nonces.pop_front();
                }
                resp.with_header(
                    "www-authenticate",
                    format!("Digest realm=\"{realm}\", qop=\"auth\", nonce=\"{nonce}\", algorithm=MD5"),
                )
            }
        }
    }

    fn authorized(&self, req: &HttpRequest) -> bool {
        let Some(value) = req.header("authorization") else { return false };
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        match self.cfg.auth {
            AuthScheme::Basic if scheme.eq_ignore_ascii_case("basic") => auth::base64_decode(rest.trim())
                .and_then(|raw| String::from_utf8(raw).ok())
                .is_some_and(|s| s == format!("admin:{}", self.apwd)),
            AuthScheme::Digest if scheme.eq_ignore_ascii_case("digest") => {
                let p = parse_params(rest);
                let get = |n: &str| p.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
                let (Some(user), Some(nonce), Some(uri), Some(response)) =
                    (get("username"), get("nonce"), get("uri"), get("response"))
                else {
                    return false;
                };
                if user != "admin" || uri != req.target || !self.nonces.iter().any(|n| n == nonce) {
                    return false;
                }
                let qop = match (get("qop"), get("nc"), get("cnonce")) {
                    (Some("auth"), Some(nc), Some(cn)) => Some((nc, cn)),
                    (None, _, _) => None,
                    _ => return false,
                };
                let want =
                    auth::digest_response(user, get("realm").unwrap_or(""), &self.apwd, &req.method, uri, nonce, qop);
                want == response
            }
            _ => false,
        }
    }
}

/// Runs the device on a TCP listener (HTTP) and a UDP socket (GBL4) until the process ends.
/// Each HTTP connection is read with a 2 s limit, answered and closed, one at a time, as a
/// small embedded web server does.
/// With `cables`, the relays also switch the span cables plugged into `cables/A.sock` ...
/// `D.sock` (`berofos::relay`).
pub fn serve(
    device: Device,
    http: TcpListener,
    udp: UdpSocket,
    cables: Option<&std::path::Path>,
) -> std::io::Result<()> {
    let device = Arc::new(Mutex::new(device));
    if let Some(dir) = cables {
        super::relay::serve_cables(dir, Arc::clone(&device))?;
    }
    let tick = |d: &Arc<Mutex<Device>>| d.lock().unwrap_or_else(PoisonError::into_inner).advance(Instant::now());
    let udp_device = Arc::clone(&device);
    udp.set_read_timeout(Some(Duration::from_millis(50)))?;
    std::thread::Builder::new().name("berofos-udp".into()).spawn(move || {
        let mut buf = [0u8; 2048];
        loop {
            match udp.recv_from(&mut buf) {
                Ok((n, from)) => {
                    let reply =
                        udp_device.lock().unwrap_or_else(PoisonError::into_inner).handle_udp(Instant::now(), &buf[..n]);
                    if let Some(r) = reply {
                        if let Err(e) = udp.send_to(&r, from) {
                            log::warn!("UDP reply to {from}: {e}");
                        }
                    }
                }
                // The timeout lets the watchdog expire (and log) on time with no traffic.
                Err(_) => tick(&udp_device),
            }
        }
    })?;
    for stream in http.incoming() {
        match stream {
            Ok(s) => {
                if let Err(e) = serve_connection(&device, s) {
                    log::debug!("HTTP connection: {e}");
                }
            }
            Err(e) => log::warn!("accept: {e}"),
        }
    }
    Ok(())
}

fn serve_connection(device: &Mutex<Device>, mut s: TcpStream) -> std::io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while httpmsg::head_end(&buf).is_none() && buf.len() <= httpmsg::MAX_HEAD {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        s.set_read_timeout(Some(left))?;
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if buf.is_empty() {
        return Ok(());
    }
    // An unfinished or oversized head reaches the parser as it is and is answered with 400.
    let reply = device.lock().unwrap_or_else(PoisonError::into_inner).handle_http(Instant::now(), &buf);
    if let Some(r) = reply {
        s.set_write_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(&r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::berofos::vars::ConfigTxt;

    fn get(d: &mut Device, now: Instant, target: &str) -> Response {
        let head = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        Response::parse(&d.handle_http(now, head.as_bytes()).expect("answered")).unwrap()
    }

    fn config(d: &mut Device, now: Instant) -> ConfigTxt {
        ConfigTxt::parse(std::str::from_utf8(&get(d, now, "/config.txt").body).unwrap()).unwrap()
    }

    #[test]
    fn mode_writes_move_the_relays() {
        let t0 = Instant::now();
        let mut d = Device::new(SimConfig { modedef: 1, ..SimConfig::default() }, t0);
        assert_eq!(d.links(), vec![('A', 'B')]);
        assert_eq!(get(&mut d, t0, "/?cmd=4&mode=0").status, 200);
        assert_eq!(d.links(), vec![('A', 'D')]);
        get(&mut d, t0, "/?cmd=1&sz=1&rm=1");
        get(&mut d, t0, "/?cmd=4&mode=1");
        assert_eq!(d.links(), vec![('A', 'B'), ('C', 'D')]);
        assert_eq!(config(&mut d, t0).raw("4_mode"), Some("1"));
        d.power(t0, false);
        assert_eq!(d.links(), vec![('A', 'D')], "power off = A-D");
        assert!(d.handle_http(t0, b"GET /config.txt HTTP/1.1\r\n\r\n").is_none());
        d.power(t0, true);
        assert_eq!(d.links(), vec![('A', 'B'), ('C', 'D')], "modedef at power-up");
    }

    #[test]
    fn watchdog_expires_to_mode_0_and_kicks_keep_it_up() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut d = Device::new(SimConfig { wintv: 10, ..SimConfig::default() }, t0);
        let mac = d.cfg.mac;
        get(&mut d, t0, "/?cmd=6&wen=1");
        assert_eq!(d.poll_timeout(), Some(t0 + s(10)));
        for i in 1..=5 {
            let now = t0 + s(8 * i);
            assert!(d.handle_udp(now, &Request::Kick { mac }.emit()).is_some());
            assert_eq!(d.mode(), 1, "kicked at {i}");
        }
        let last_kick = t0 + s(40);
        d.advance(last_kick + s(9));
        assert_eq!(d.mode(), 1);
        d.advance(last_kick + s(10));
        assert_eq!(d.wdog(), WdogState::Failed);
        assert_eq!(d.links(), vec![('A', 'D')]);
        assert_eq!(config(&mut d, last_kick + s(11)).raw("6_wstate"), Some("2"));
        // A kick does not revive a failed watchdog; writing wdog and mode does.
        d.handle_udp(last_kick + s(12), &Request::Kick { mac }.emit());
        assert_eq!(d.wdog(), WdogState::Failed);
        get(&mut d, last_kick + s(13), "/?cmd=4&mode=1");
        get(&mut d, last_kick + s(13), "/?cmd=6&wen=1");
        assert!(matches!(d.wdog(), WdogState::Armed { .. }));
        assert_eq!(d.mode(), 1);
    }

    #[test]
    fn old_firmware_clears_the_groups_missing_checkboxes() {
        let t0 = Instant::now();
        let mut d = Device::new(SimConfig { old_firmware: true, wdogdef: true, ..SimConfig::default() }, t0);
        get(&mut d, t0, "/?cmd=2&wintv=30");
        let c = config(&mut d, t0);
        assert_eq!(c.raw("2_wintv"), Some("30"));
        assert_eq!(c.get(vars::lookup("wdogdef").unwrap()).as_deref(), Some("0"), "side effect");
        let mut fixed = Device::new(SimConfig { old_firmware: false, wdogdef: true, ..SimConfig::default() }, t0);
        get(&mut fixed, t0, "/?cmd=2&wintv=30");
        assert_eq!(config(&mut fixed, t0).get(vars::lookup("wdogdef").unwrap()).as_deref(), Some("1"));
    }

    #[test]
    fn malformed_input_is_counted_and_answered_like_a_device() {
        let t0 = Instant::now();
        let mut d = Device::new(SimConfig::default(), t0);
        assert_eq!(d.handle_udp(t0, b"hello"), None);
        assert_eq!(d.handle_udp(t0, &udp::emit(Command::Unknown(77), &[])), None);
        let bad = Response::parse(&d.handle_http(t0, b"\x00\x01garbage\r\n\r\n").unwrap()).unwrap();
        assert_eq!(bad.status, 400);
        get(&mut d, t0, "/?cmd=4&mode=7");
        assert_eq!(d.mode(), 1, "an unusable value is ignored");
        let c = d.counters();
        assert_eq!((c.malformed_udp, c.malformed_http), (2, 2));
        let other = Request::Ping { mac: Mac([1; 6]) }.emit();
        assert_eq!(d.handle_udp(t0, &other), None, "requests for another MAC are not answered");
    }

    #[test]
    fn password_protection_basic_and_digest() {
        let t0 = Instant::now();
        for scheme in [AuthScheme::Basic, AuthScheme::Digest] {
            let mut d = Device::new(
                SimConfig { pwd: true, password: "s3cret".into(), auth: scheme, ..SimConfig::default() },
                t0,
            );
            let r = get(&mut d, t0, "/config.txt");
            assert_eq!(r.status, 401);
            let challenge = auth::Challenge::parse(r.header("www-authenticate").unwrap()).unwrap();
            let authz = |password: &str| match &challenge {
                auth::Challenge::Basic { .. } => auth::basic_authorization("admin", password),
                auth::Challenge::Digest(c) => {
                    auth::digest_authorization(c, "admin", password, "/config.txt", 1, "abcdef")
                }
            };
            for (password, status) in [("s3cret", 200), ("wrong", 401)] {
                let head = format!("GET /config.txt HTTP/1.1\r\nAuthorization: {}\r\n\r\n", authz(password));
                let r = Response::parse(&d.handle_http(t0, head.as_bytes()).unwrap()).unwrap();
                assert_eq!(r.status, status, "{scheme:?} {password}");
            }
        }
    }

    #[test]
    fn scan_reports_the_device() {
        let t0 = Instant::now();
        let mut d = Device::new(SimConfig { http_port: 8080, ip: Ipv4Addr::LOCALHOST, ..SimConfig::default() }, t0);
        let r = d.handle_udp(t0, &Request::Scan.emit()).unwrap();
        let Reply::Netconf(info) = Reply::parse(&Packet::new_checked(&r).unwrap()).unwrap() else { panic!() };
        assert_eq!((info.ip, info.http_port, info.mac), (Ipv4Addr::LOCALHOST, 8080, d.cfg.mac));
    }
}
