//! Helpers shared by the end-to-end tests: start the real `spangate` binary, talk HTTP to it, wait
//! for conditions with a deadline, and stop it.
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod config;
pub mod scenario;
pub use config::{Config, Span};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_path_buf()
}

/// The `spangate` binary under test: `$SPANGATE_BIN`, or the one cargo built next to this test.
pub fn spangate_bin() -> PathBuf {
    if let Ok(p) = std::env::var("SPANGATE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/e2e-HASH -> target/debug/spangate
    let bin = exe.parent().and_then(Path::parent).expect("target dir").join("spangate");
    assert!(
        bin.exists(),
        "the spangate binary is not built at {}: run `cargo xtask test` (it builds it first) or \
         `cargo build -p gateway-daemon`",
        bin.display()
    );
    bin
}

/// A private scratch directory for one test, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("spangate-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create scratch dir");
        Scratch(d)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The loopback address the tests' peers listen on.
pub const LOCALHOST: std::net::Ipv4Addr = std::net::Ipv4Addr::LOCALHOST;

/// A port of 127.0.0.1 free for both TCP and UDP when asked (see [`free_port_on`]).
pub fn free_port() -> u16 {
    free_port_on("127.0.0.1")
}

/// A port of `ip` that was free for both TCP and UDP when asked, and that this process never
/// handed out before. The tests of one binary run in parallel threads: two of them given the same
/// port (the kernel may offer a released port again), or a UDP peer given a port only checked for
/// TCP, would fail for no fault of the code under test. The port is released before it is
/// returned, so another process could still take it; the kernel hands out ports at random, which
/// makes that rare.
pub fn free_port_on(ip: &str) -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    for _ in 0..100 {
        let tcp = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind a TCP port on {ip}: {e}"));
        let port = tcp.local_addr().expect("bound address").port();
        if UdpSocket::bind((ip, port)).is_err() {
            continue;
        }
        let mut given = GIVEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
    panic!("no port of {ip} free for both TCP and UDP in 100 tries");
}

/// An RTP socket on an even port of 127.0.0.1 and the RTCP socket on the odd port above it, both
/// bound, for a test that is an RTP endpoint itself. Keep the second alive as long as the first:
/// the gateway sends RTCP to the RTP port + 1 (RFC 3550 §11), and with that port left free another
/// test's endpoint, bound there by chance, would take those packets for its own stream.
pub fn rtp_pair() -> (UdpSocket, UdpSocket) {
    for _ in 0..200 {
        let rtp = UdpSocket::bind("127.0.0.1:0").expect("bind an RTP socket");
        let port = rtp.local_addr().expect("bound address").port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = UdpSocket::bind(("127.0.0.1", port + 1)) {
            return (rtp, rtcp);
        }
    }
    panic!("no even/odd UDP port pair free on 127.0.0.1 in 200 tries");
}

/// Whether something has UDP `port` of `ip` bound, read from /proc/net/udp so that asking sends
/// the peer nothing and never races it for the port.
pub fn udp_bound(ip: std::net::Ipv4Addr, port: u16) -> bool {
    let wanted = proc_net_addr(ip, port);
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    table.lines().skip(1).any(|l| l.split_whitespace().nth(1) == Some(wanted.as_str()))
}

/// Whether something listens on TCP `port` of `ip` (from /proc/net/tcp: asking opens no
/// connection to the peer).
pub fn tcp_listening(ip: std::net::Ipv4Addr, port: u16) -> bool {
    let wanted = proc_net_addr(ip, port);
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // State 0A is LISTEN.
        f.len() > 3 && f[1] == wanted && f[3] == "0A"
    })
}

/// An address as /proc/net/{tcp,udp} writes it: the IPv4 address as a little-endian word in hex,
/// then the port in hex.
fn proc_net_addr(ip: std::net::Ipv4Addr, port: u16) -> String {
    format!("{:08X}:{port:04X}", u32::from_le_bytes(ip.octets()))
}

/// Waits until `ok` holds, polling every 20 ms; panics after `timeout` with `what` and the
/// `context` it gives then (a peer's output, a log).
pub fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool, context: impl FnOnce() -> String) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}\n{}", context());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until a peer process has bound UDP `port` of `ip` (sipp prints no readiness line);
/// fails at once if the process exits first.
pub fn wait_udp_bound(ip: std::net::Ipv4Addr, port: u16, peer: &mut Child, what: &str) {
    wait_bound(|| udp_bound(ip, port), peer, &format!("{what} to bind UDP {ip}:{port}"));
}

/// Waits until a peer process listens on TCP `port` of `ip`; fails at once if it exits first.
pub fn wait_tcp_listening(ip: std::net::Ipv4Addr, port: u16, peer: &mut Child, what: &str) {
    wait_bound(|| tcp_listening(ip, port), peer, &format!("{what} to listen on TCP {ip}:{port}"));
}

fn wait_bound(bound: impl Fn() -> bool, peer: &mut Child, what: &str) {
    let deadline = Instant::now() + PEER_START;
    while !bound() {
        if let Ok(Some(st)) = peer.try_wait() {
            panic!("waiting for {what}: the process exited ({st})");
        }
        assert!(Instant::now() < deadline, "timed out after {PEER_START:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How long a peer process may take to start on a loaded CI machine.
pub const PEER_START: Duration = Duration::from_secs(30);

/// A running daemon; killed when dropped.
pub struct Daemon {
    child: Option<Child>,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    started: Instant,
}

/// One HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Daemon {
    /// Starts `spangate ARGS... --http 127.0.0.1:PORT` and collects its log.
    pub fn start(args: &[&str]) -> Daemon {
        Daemon::start_on(args, free_port())
    }

    /// Starts `spangate ARGS... --http 127.0.0.1:PORT` on a chosen port (two nodes that must
    /// know each other's API address before either starts).
    pub fn start_on(args: &[&str], port: u16) -> Daemon {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        // SIP on a port of the kernel's choosing (the status JSON says which), so that daemons
        // of the default board, which listens on 5060, can run side by side.
        let sip: &[&str] = if args.contains(&"--sip") { &[] } else { &["--sip", "127.0.0.1:0"] };
        let mut child = Command::new(spangate_bin())
            .args(args)
            .args(["--http", &addr.to_string()])
            .args(sip)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start spangate");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr piped");
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("log lock").push(line);
            }
        });
        Daemon { child: Some(child), addr, log, started: Instant::now() }
    }

    /// A handle on an HTTP server we did not start (for its request helpers); nothing to kill.
    pub fn attach(addr: SocketAddr) -> Daemon {
        Daemon { child: None, addr, log: Arc::new(Mutex::new(Vec::new())), started: Instant::now() }
    }

    /// The process id (0 once it was killed).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `kill -9`: the process dies at once, with no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the daemon on a config file.
    pub fn with_config(path: &Path) -> Daemon {
        Daemon::start(&["run", "--config", path.to_str().expect("utf-8 path")])
    }

    /// When the process was started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }

    /// One HTTP request; `None` when the daemon does not answer (yet).
    pub fn try_request(&self, method: &str, path: &str, body: &[u8], timeout: Duration) -> Option<Reply> {
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500)).ok()?;
        s.set_read_timeout(Some(timeout)).ok()?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        s.write_all(head.as_bytes()).ok()?;
        s.write_all(body).ok()?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).ok()?;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        let mut body = raw[split + 4..].to_vec();
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            body = dechunk(&body);
        }
        Some(Reply { status, body })
    }

    /// A request that must be answered.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        self.try_request(method, path, body, Duration::from_secs(15))
            .unwrap_or_else(|| panic!("no answer to {method} {path}\nlog:\n{}", self.log()))
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, b"")
    }

    /// POST that must succeed with 200.
    pub fn post_ok(&self, path: &str, body: &[u8]) -> Reply {
        let r = self.request("POST", path, body);
        assert_eq!(r.status, 200, "POST {path}: {}", r.text());
        r
    }

    /// `GET /api/v1/status` as JSON.
    pub fn status(&self) -> Value {
        let r = self.get("/api/v1/status");
        assert_eq!(r.status, 200, "status: {}", r.text());
        serde_json::from_slice(&r.body).expect("status is JSON")
    }

    /// Polls the status until `pred` holds; panics after `timeout` with the last status and log,
    /// or at once when the process has exited (a port taken, a bad config) with its log.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        let mut last = Value::Null;
        loop {
            if let Some(r) = self.try_request("GET", "/api/v1/status", b"", Duration::from_secs(5)) {
                if let Ok(v) = serde_json::from_slice::<Value>(&r.body) {
                    if pred(&v) {
                        return v;
                    }
                    last = v;
                }
            } else if self.exited() {
                // The log reader may still hold the last lines (the exit reason): give it a moment.
                std::thread::sleep(Duration::from_millis(200));
                panic!("spangate exited while the test waited for {what}\nlog:\n{}", self.log());
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {what}\nlast status: {last:#}\nlog:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the process we started has exited (it stays a zombie until we reap it on drop).
    fn exited(&self) -> bool {
        let Some(c) = &self.child else { return false };
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", c.id())).unwrap_or_default();
        // pid (comm) STATE ...: the command name may hold spaces and parentheses, the state
        // follows the last ')'.
        stat.rsplit_once(')').is_none_or(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
    }

    /// Waits until the daemon's log satisfies `pred` and returns it; panics after `timeout` with
    /// the log. The log arrives through a pipe and a reader thread, so a line written before a
    /// status change can still be on its way when the status shows the change: a test reads the
    /// log after a status wait through this, never directly.
    pub fn wait_log(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if pred(&log) {
                return log;
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {what} in the daemon's log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Captures `ms` of `to_path` (an `/api/v1/...` channel path of this daemon) while `play`
    /// runs, and returns the capture's reply. The capture must be running before the first sample
    /// is played, and its HTTP request races the play's: on a near channel that is idle the test
    /// waits until the status shows it busy (the capture is then queued to the media thread ahead
    /// of any play); a simulated far end's channels are not on the status, so there it leaves a
    /// head start of [`CAPTURE_LEAD`] and the caller checks for a late start (see [`bit_exact`]).
    pub fn capture_during(&self, to_path: &str, ms: usize, play: impl FnOnce()) -> Reply {
        let near = near_channel(to_path).filter(|&(span_n, ts)| channel_state(&self.status(), span_n, ts) == "idle");
        std::thread::scope(|scope| {
            let capture = scope.spawn(|| self.request("POST", &format!("{to_path}/capture?ms={ms}"), b""));
            match near {
                Some((span_n, ts)) => {
                    let deadline = Instant::now() + Duration::from_secs(30);
                    // A refused capture ends the request at once: the caller sees its status.
                    while !capture.is_finished() && channel_state(&self.status(), span_n, ts) != "busy" {
                        assert!(
                            Instant::now() < deadline,
                            "channel {ts} of span {span_n} never showed busy with a capture on it\nlog:\n{}",
                            self.log()
                        );
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                None => std::thread::sleep(CAPTURE_LEAD),
            }
            play();
            capture.join().expect("capture thread")
        })
    }

    /// Sends SIGTERM and waits for the exit; returns the status and how long it took.
    pub fn terminate(mut self) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("running");
        let t0 = Instant::now();
        let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
        assert!(ok.success());
        let status = child.wait().expect("wait");
        (status, t0.elapsed())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < nl + 2 + size {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + size]);
        b = &b[(nl + 4 + size).min(b.len())..];
    }
    out
}

/// The head start a capture on a channel the status does not show gets before its audio is played.
pub const CAPTURE_LEAD: Duration = Duration::from_millis(300);

/// `(span, timeslot)` of a near channel path `/api/v1/spans/N/channels/TS`.
fn near_channel(path: &str) -> Option<(u64, u64)> {
    let rest = path.strip_prefix("/api/v1/spans/")?;
    let (span_n, ts) = rest.split_once("/channels/")?;
    Some((span_n.parse().ok()?, ts.parse().ok()?))
}

/// The state (`idle`, `busy`, `alarm`) of timeslot `ts` of span `n` in a status document.
pub fn channel_state(status: &Value, n: u64, ts: u64) -> String {
    span(status, n)["channels"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["ts"] == ts))
        .and_then(|c| c["state"].as_str())
        .unwrap_or("")
        .to_string()
}

/// How a capture failed to hold a played pattern.
#[derive(Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The capture begins inside the pattern, which from there on arrived unchanged: the capture
    /// started after the play did (its request lost the race), nothing was damaged.
    LateStart { from: usize },
    /// Neither the pattern's start nor a later piece of it is in the capture.
    NeverArrived,
    /// The capture ended before the pattern did.
    Truncated,
    /// The pattern arrived changed from this offset on.
    Differs { offset: usize },
}

/// Whether all of `audio` (32 bytes or more) arrived unchanged and in one piece in `got`.
pub fn bit_exact(got: &[u8], audio: &[u8]) -> Result<(), Mismatch> {
    let Some(at) = find(got, &audio[..32]) else {
        // Where the capture's first bytes sit in the pattern, if they do: a late start shows the
        // pattern from there to its end, unchanged.
        let head = got.get(..32).ok_or(Mismatch::NeverArrived)?;
        return match find(audio, head) {
            Some(from) if from > 0 => {
                let n = (audio.len() - from).min(got.len());
                if got[..n] == audio[from..from + n] {
                    Err(Mismatch::LateStart { from })
                } else {
                    Err(Mismatch::Differs { offset: from })
                }
            }
            _ => Err(Mismatch::NeverArrived),
        };
    };
    let arrived = got.get(at..at + audio.len()).ok_or(Mismatch::Truncated)?;
    match arrived.iter().zip(audio).position(|(a, b)| a != b) {
        None => Ok(()),
        Some(offset) => Err(Mismatch::Differs { offset }),
    }
}

/// The span object with number `n` in a status document.
pub fn span(status: &Value, n: u64) -> &Value {
    status["spans"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["span"] == n))
        .unwrap_or_else(|| panic!("no span {n} in {status:#}"))
}

/// The alarm text of span `n` ("OK", "RED", ...).
pub fn alarm(status: &Value, n: u64) -> String {
    span(status, n)["alarm_text"].as_str().unwrap_or("").to_string()
}

/// Deterministic test audio that never repeats within its length and avoids the idle codes.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| loop {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = x.to_le_bytes()[3];
            if b != 0xD5 && b != 0xFF {
                break b;
            }
        })
        .collect()
}

/// Where `needle` starts inside `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `target/peers/`: where C test peers are built, beside the profile directory of the running
/// test binary (`target/debug/deps/e2e-HASH` -> `target/peers`).
pub fn peers_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let target = exe.ancestors().nth(3).expect("target dir").to_path_buf();
    target.join("peers")
}

/// Builds the C peer `tests/peers/NAME.c` with gcc into `target/peers/NAME`, once per test run:
/// only when the binary is missing or older than its source. `libs` are `-l` names; when gcc's
/// complaint mentions a `(needle, package)` needle, the test fails naming that Debian package.
pub fn build_c_peer(name: &str, libs: &[&str], packages: &[(&str, &str)]) -> PathBuf {
    let source = root().join("tests/peers").join(format!("{name}.c"));
    let dir = peers_dir();
    std::fs::create_dir_all(&dir).expect("create target/peers");
    let bin = dir.join(name);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(s), Some(b)) = (modified(&source), modified(&bin)) {
        if s <= b {
            return bin;
        }
    }
    // Tests run in parallel and may build the same peer at once: build under a private name and
    // rename, which replaces the file atomically.
    let tmp = dir.join(format!("{name}.{}.{:?}", std::process::id(), std::thread::current().id()));
    let mut cmd = Command::new("gcc");
    cmd.args(["-Wall", "-O2", "-o"]).arg(&tmp).arg(&source);
    for l in libs {
        cmd.arg(format!("-l{l}"));
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run gcc ({e}): install the Debian package gcc (or run `cargo xtask deps`)"));
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        for (needle, package) in packages {
            if stderr.contains(needle) {
                panic!(
                    "building {} failed: install the Debian package {package} (or run `cargo xtask deps`); gcc said:\n{stderr}",
                    source.display()
                );
            }
        }
        panic!("building {} failed:\n{stderr}", source.display());
    }
    std::fs::rename(&tmp, &bin).expect("move the peer into place");
    bin
}

/// A peer process whose stdout lines (its events) and stderr are collected; killed when dropped.
pub struct Peer {
    child: Child,
    /// The peer's stdin when it was started with [`Peer::start_scripted`].
    stdin: Option<Mutex<std::process::ChildStdin>>,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Peer {
    /// Starts `cmd` with stdout and stderr piped.
    pub fn start(cmd: Command) -> Peer {
        Peer::spawn(cmd, false)
    }

    /// Starts `cmd` with stdin piped too, for [`Peer::send`].
    pub fn start_scripted(cmd: Command) -> Peer {
        Peer::spawn(cmd, true)
    }

    fn spawn(mut cmd: Command, scripted: bool) -> Peer {
        let mut child = cmd
            .stdin(if scripted { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
        let collect = |r: Box<dyn Read + Send>| {
            let sink = Arc::new(Mutex::new(Vec::new()));
            let s = Arc::clone(&sink);
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines().map_while(Result::ok) {
                    s.lock().expect("peer lines lock").push(line);
                }
            });
            sink
        };
        let lines = collect(Box::new(child.stdout.take().expect("stdout piped")));
        let stderr = collect(Box::new(child.stderr.take().expect("stderr piped")));
        let stdin = child.stdin.take().map(Mutex::new);
        Peer { child, stdin, lines, stderr }
    }

    /// Writes one script line to the peer's stdin.
    pub fn send(&self, line: &str) {
        let stdin = self.stdin.as_ref().expect("the peer was started with start_scripted");
        let mut w = stdin.lock().expect("peer stdin lock");
        writeln!(w, "{line}").and_then(|()| w.flush()).unwrap_or_else(|e| panic!("send {line:?} to the peer: {e}"));
    }

    /// How many lines the peer printed so far, to wait for lines after this point.
    pub fn mark(&self) -> usize {
        self.lines.lock().expect("peer lines lock").len()
    }

    /// Waits for the first line after `mark` that starts with `prefix` and returns it; panics
    /// after `timeout` with what the peer printed.
    pub fn wait_prefix(&self, mark: usize, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.lines().iter().skip(mark).find(|l| l.starts_with(prefix)) {
                return l.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "the peer did not print {prefix}... within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                    self.lines().join("\n"),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the peer prints a line containing `needle` after `mark` (see [`Peer::mark`]),
    /// for peers that redraw a status line with carriage returns (baresip); panics after `timeout`
    /// with its output.
    pub fn wait_contains(&self, mark: usize, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.lines().iter().skip(mark).any(|l| l.contains(needle)) {
            if Instant::now() > deadline {
                panic!(
                    "the peer did not print {needle:?} within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                    self.lines().join("\n"),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the peer printed on stdout so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("peer lines lock").clone()
    }

    /// Everything the peer printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("peer stderr lock").join("\n")
    }

    /// Waits until the peer prints `line`; panics after `timeout` with what it printed.
    pub fn wait_line(&self, line: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.lines().iter().any(|l| l == line) {
            if Instant::now() > deadline {
                panic!(
                    "the peer did not print {line} within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                    self.lines().join("\n"),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs tshark on a capture and returns its one-line summary per frame, after checking that tshark
/// reads the file and finds no malformed packet in its full decode.
pub fn tshark_decode(pcap: &Path) -> String {
    let run = |args: &[&str]| {
        let out = Command::new("tshark").arg("-r").arg(pcap).args(args).output().unwrap_or_else(|e| {
            panic!("cannot run tshark ({e}): install the Debian package tshark (or run `cargo xtask deps`)")
        });
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "tshark -r {} {args:?}: {}",
            pcap.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let verbose = run(&["-V"]);
    assert!(!verbose.contains("Malformed"), "tshark found a malformed packet in {}:\n{verbose}", pcap.display());
    run(&[])
}

/// A-law code of a linear sample (G.711's segment rule).
pub fn alaw(x: i16) -> u8 {
    let mut v = i32::from(x) >> 3;
    let mask = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    let ends = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let Some(seg) = ends.iter().position(|&e| v <= e) else { return 0x7F ^ mask };
    let shift = if seg < 2 { 1 } else { seg };
    let mantissa = u8::try_from((v >> shift) & 0xF).expect("four bits");
    (u8::try_from(seg).expect("segment 0..8") << 4 | mantissa) ^ mask
}

/// Linear sample of an A-law code.
pub fn linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let seg = (a >> 4) & 7;
    let mut t = (i16::from(a & 0x0F) << 4) + 8;
    if seg >= 1 {
        t += 0x100;
    }
    if seg > 1 {
        t <<= seg - 1;
    }
    if a & 0x80 != 0 {
        t
    } else {
        -t
    }
}

/// Frequency (from zero crossings) and RMS of the loudest 500 ms of 8 kHz linear `samples` (all of
/// them when shorter).
#[allow(clippy::cast_precision_loss)]
pub fn measure_tone(samples: &[f64]) -> (f64, f64) {
    let win = 4000.min(samples.len());
    let energy = |s: usize| samples[s..s + win].iter().map(|v| v * v).sum::<f64>();
    let best = (0..=samples.len() - win).step_by(400).max_by(|&a, &b| energy(a).total_cmp(&energy(b))).unwrap_or(0);
    let s = &samples[best..best + win];
    let crossings = s.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
    let hz = crossings as f64 / 2.0 / (s.len().max(1) as f64 / 8000.0);
    (hz, rms(s))
}

/// Root mean square of `samples` (0 for none).
#[allow(clippy::cast_precision_loss)]
pub fn rms(samples: &[f64]) -> f64 {
    (samples.iter().map(|v| v * v).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

/// Amplitude of the `hz` component of 8 kHz `samples` (Goertzel): a full sine of amplitude A
/// reads A, whatever else is in the signal.
#[allow(clippy::cast_precision_loss)]
pub fn goertzel(samples: &[f64], hz: f64) -> f64 {
    let c = 2.0 * (2.0 * std::f64::consts::PI * hz / 8000.0).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s0 = x + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - c * s1 * s2).max(0.0).sqrt() * 2.0 / samples.len().max(1) as f64
}

/// `secs` of a `hz` sine of amplitude `amplitude`, 8 kHz linear samples.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
pub fn sine(hz: f64, amplitude: f64, secs: f64) -> Vec<i16> {
    let n = (secs * 8000.0) as usize;
    (0..n).map(|i| (amplitude * (2.0 * std::f64::consts::PI * hz * i as f64 / 8000.0).sin()).round() as i16).collect()
}

/// Writes 8 kHz mono 16-bit PCM as a WAV file (what baresip's `aufile` plays for G.711).
pub fn write_wav(path: &Path, samples: &[i16]) {
    let data = u32::try_from(samples.len() * 2).expect("a WAV under 4 GiB");
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    // PCM, 1 channel, 8000 Hz, 16000 bytes/s, 2-byte frames, 16 bits.
    for (v, n) in [(16u32, 4), (1, 2), (1, 2), (8000, 4), (16000, 4), (2, 2), (16, 2)] {
        b.extend_from_slice(&v.to_le_bytes()[..n]);
    }
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The samples of an 8 kHz mono 16-bit PCM WAV file (as libsndfile writes them: any chunks
/// before `data`; a `data` size left unset by a writer that did not close runs to the end).
pub fn read_wav(path: &Path) -> Vec<i16> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE", "{} is not a WAV file", path.display());
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let mut at = 12;
    let mut format = None;
    while at + 8 <= b.len() {
        let (id, size) = (&b[at..at + 4], usize::try_from(u32_at(at + 4)).expect("32-bit size"));
        let body = at + 8;
        if id == b"fmt " && body + 16 <= b.len() {
            format = Some((u16_at(body), u16_at(body + 2), u32_at(body + 4), u16_at(body + 14)));
        } else if id == b"data" {
            assert_eq!(format, Some((1, 1, 8000, 16)), "{}: (format, channels, rate, bits)", path.display());
            let end = if size == 0 || body + size > b.len() { b.len() } else { body + size };
            return b[body..end].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
        }
        at = body + size + size % 2;
    }
    panic!("{}: no data chunk", path.display());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_exact_tells_a_late_start_from_damage() {
        let audio = pattern(800, 3);
        let idle = |n: usize| vec![0xD5u8; n];
        let whole = [idle(100), audio.clone(), idle(100)].concat();
        assert_eq!(bit_exact(&whole, &audio), Ok(()));
        // The capture began 200 samples into the play: the rest arrived unchanged.
        let late = [audio[200..].to_vec(), idle(300)].concat();
        assert_eq!(bit_exact(&late, &audio), Err(Mismatch::LateStart { from: 200 }));
        // The same late start with a changed sample after it is damage, not a late start.
        let mut damaged_late = late.clone();
        damaged_late[400] ^= 0x10;
        assert_eq!(bit_exact(&damaged_late, &audio), Err(Mismatch::Differs { offset: 200 }));
        let mut changed = whole.clone();
        changed[100 + 500] ^= 0x01;
        assert_eq!(bit_exact(&changed, &audio), Err(Mismatch::Differs { offset: 500 }));
        assert_eq!(bit_exact(&whole[..600], &audio), Err(Mismatch::Truncated));
        assert_eq!(bit_exact(&idle(2000), &audio), Err(Mismatch::NeverArrived));
        assert_eq!(bit_exact(&idle(10), &audio), Err(Mismatch::NeverArrived));
    }

    #[test]
    fn ports_are_never_handed_out_twice_and_are_seen_bound_in_proc_net() {
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ports.len(), "{ports:?}");
        assert_eq!(proc_net_addr(std::net::Ipv4Addr::new(127, 0, 0, 1), 5060), "0100007F:13C4");
        let p = free_port();
        assert!(!udp_bound(LOCALHOST, p) && !tcp_listening(LOCALHOST, p));
        let udp = UdpSocket::bind((LOCALHOST, p)).expect("the port is free for UDP");
        let tcp = TcpListener::bind((LOCALHOST, p)).expect("and for TCP");
        assert!(udp_bound(LOCALHOST, p) && tcp_listening(LOCALHOST, p));
        drop((udp, tcp));
    }

    #[test]
    #[should_panic(expected = "spangate exited while the test waited for the spans")]
    fn waiting_on_a_daemon_that_exited_fails_at_once_and_says_so() {
        let child = Command::new("true").spawn().expect("run true");
        let addr = SocketAddr::from((LOCALHOST, free_port()));
        let d = Daemon { child: Some(child), addr, log: Arc::default(), started: Instant::now() };
        // A day: only the exit can end this wait within the test run.
        d.wait_for("the spans", Duration::from_secs(86_400), |_| true);
    }

    #[test]
    fn a_channel_state_is_read_from_the_status() {
        let s = serde_json::json!({"spans": [{"span": 2, "channels": [{"ts": 1, "state": "idle"}, {"ts": 5, "state": "busy"}]}]});
        assert_eq!(channel_state(&s, 2, 5), "busy");
        assert_eq!(channel_state(&s, 2, 1), "idle");
        assert_eq!(channel_state(&s, 2, 9), "");
        assert_eq!(near_channel("/api/v1/spans/2/channels/5"), Some((2, 5)));
        assert_eq!(near_channel("/api/v1/spans/2/far/channels/5"), None);
        assert_eq!(near_channel("/api/v1/sim/spans/1/far/channels/1"), None);
    }
}
