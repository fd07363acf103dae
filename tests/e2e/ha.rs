//! High availability end to end: two `spangate` nodes and a `berofos-sim` on loopback. Each node
//! has one E1 span to a simulated provider (in its own process: the relay in the simulation is
//! not wired yet, so the berofos mode read back is the arbiter we check, with each node's span
//! plugged in only while that node holds the lines).
//!
//! - `kill -9` of the master: the slave holds the lines (berofos mode 0, layer 2 up) and
//!   completes a new call within 5 s of the kill;
//! - a manual switchover moves the lines, and never leaves both nodes holding them;
//! - with the berofos unreachable, no node takes the lines;
//! - the master back after a kill takes the lines back once healthy for the hold time;
//! - a hung master (SIGSTOP) loses the lines to the slave, and gives them up when it wakes;
//! - bypass: one gateway kicks the watchdog; killed, the watchdog expires and the relay joins
//!   the provider to the PBX (A-D); restarted, it takes the lines back.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use spangate_tests::{free_port, span, spangate_bin, Config, Daemon, Scratch, Span};

pub(crate) const T: Duration = Duration::from_secs(10);
pub(crate) const KEY: &str = "e2e-shared-secret-0123456789";

/// A running `berofos-sim`, killed when dropped.
pub(crate) struct Berofos {
    child: Child,
    pub(crate) http: u16,
    pub(crate) udp: u16,
}

impl Berofos {
    pub(crate) fn start() -> Berofos {
        Berofos::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Berofos {
        let bin = spangate_bin().with_file_name("berofos-sim");
        assert!(bin.exists(), "berofos-sim is not built at {}: cargo build -p gateway-daemon", bin.display());
        let mut child = Command::new(bin)
            .args(["--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--log-level", "warn"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start berofos-sim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
        let field = |k: &str| -> u16 {
            let v = line.split_whitespace().find_map(|w| w.strip_prefix(k)).expect("address in the first line");
            v.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
        };
        Berofos { child, http: field("http="), udp: field("udp=") }
    }

    /// `GET /sim/state` as key=value lines.
    pub(crate) fn state(&self, key: &str) -> Option<String> {
        let d = probe_daemon(self.http);
        let r = d.try_request("GET", "/sim/state", b"", Duration::from_secs(2))?;
        r.text().lines().find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
    }
}

impl Drop for Berofos {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `Daemon` handle aimed at an HTTP port we do not own (only for its request helper).
fn probe_daemon(port: u16) -> Daemon {
    Daemon::attach(format!("127.0.0.1:{port}").parse().expect("addr"))
}

struct Pair {
    master: Daemon,
    slave: Daemon,
}

fn config(scratch: &Scratch, name: &str, role: &str, hb: (u16, u16), peer_http: u16, fos: u16, hold: u32) -> PathBuf {
    config_on(scratch, name, role, hb, peer_http, fos, hold, "provider")
}

/// A node whose span 1 is plugged into `line` (`provider`: its own simulated provider).
#[allow(clippy::too_many_arguments)]
fn config_on(
    scratch: &Scratch,
    name: &str,
    role: &str,
    hb: (u16, u16),
    peer_http: u16,
    fos: u16,
    hold: u32,
    line: &str,
) -> PathBuf {
    Config::board("sim-e1x2")
        .span(user_side(line))
        .raw(&ha_table(name, role, hb, peer_http, fos, hold))
        .write(scratch, &format!("{name}.toml"))
}

/// Span 1 on `line`, user side, layer 2 kept up.
pub(crate) fn user_side(line: &str) -> Span {
    Span::e1(1, line).set("signalling", "\"pri_cpe\"").set("layer2_persistence", "\"keep_up\"")
}

/// The `[ha]` table of node `name` (heartbeats from `hb.0` to `hb.1`, 100 ms, 5 misses) and its
/// berofos on `fos`.
pub(crate) fn ha_table(name: &str, role: &str, hb: (u16, u16), peer_http: u16, fos: u16, hold: u32) -> String {
    format!(
        "[ha]\nrole = \"{role}\"\nnode = \"{name}\"\nlisten = \"127.0.0.1:{}\"\npeer = \"127.0.0.1:{}\"\nkey = \"{KEY}\"\n\
         interval_ms = 100\nmisses = 5\nhold_secs = {hold}\npeer_http = \"http://127.0.0.1:{peer_http}\"\n\
         [[ha.berofos]]\naddress = \"127.0.0.1:{fos}\"\n",
        hb.0, hb.1
    )
}

fn start_pair(scratch: &Scratch, fos_http: u16, hold: u32) -> Pair {
    let (hm, hs) = (free_port(), free_port());
    let (pm, ps) = (free_port(), free_port());
    let m = config(scratch, "gw-a", "master", (hm, hs), ps, fos_http, hold);
    let s = config(scratch, "gw-b", "slave", (hs, hm), pm, fos_http, hold);
    let arg = |p: &PathBuf| p.to_str().expect("utf-8").to_string();
    let master = Daemon::start_on(&["run", "--config", &arg(&m)], pm);
    let slave = Daemon::start_on(&["run", "--config", &arg(&s)], ps);
    Pair { master, slave }
}

/// The intervals (unix ms) in which a node held the lines, from its failover history; an
/// interval still open ends at `u64::MAX`.
fn holding(s: &Value) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut open = None;
    for r in s["ha"]["history"].as_array().into_iter().flatten() {
        let (at, e) = (r["unix_ms"].as_u64().unwrap_or(0), r["event"].as_str().unwrap_or(""));
        if e.starts_with("lines taken") {
            open = Some(at);
        } else if e.starts_with("lines released") {
            out.extend(open.take().map(|t| (t, at)));
        }
    }
    out.extend(open.map(|t| (t, u64::MAX)));
    out
}

/// The property: the nodes' holding intervals never overlap (one owner at every instant).
fn assert_one_owner(nodes: &[&Value]) {
    let all: Vec<(usize, (u64, u64))> =
        nodes.iter().enumerate().flat_map(|(i, s)| holding(s).into_iter().map(move |h| (i, h))).collect();
    assert!(all.iter().filter(|(i, _)| *i == 0).count() + all.iter().filter(|(i, _)| *i == 1).count() >= 2);
    for (i, a) in &all {
        for (j, b) in &all {
            assert!(i == j || a.1 <= b.0 || b.1 <= a.0, "node {i} held {a:?} while node {j} held {b:?}");
        }
    }
}

pub(crate) fn ha(s: &Value) -> &Value {
    &s["ha"]
}

pub(crate) fn holds(s: &Value) -> bool {
    ha(s)["lines"] == true
}

pub(crate) fn l2_up(s: &Value) -> bool {
    span(s, 1)["isdn"]["layer2_up"] == true
}

/// Places a call on span 1 (the simulated provider answers) and waits for ACTIVE.
pub(crate) fn call_completes(d: &Daemon, within: Duration) {
    let r = d.post_ok("/api/v1/spans/1/calls", br#"{"called":"1234","calling":"5678"}"#);
    let v: Value = serde_json::from_slice(&r.body).expect("JSON");
    let id = v["id"].as_u64().expect("call id");
    d.wait_for("the call ACTIVE", within, |s| {
        span(s, 1)["isdn"]["calls"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["id"] == id && c["state"] == "ACTIVE"))
    });
}

#[test]
fn kill_9_master_slave_takes_the_lines_and_completes_a_call() {
    let scratch = Scratch::new("ha-kill");
    let fos = Berofos::start();
    let mut p = start_pair(&scratch, fos.http, 30);
    p.master.wait_for("master holds the lines with layer 2 up", T, |s| holds(s) && l2_up(s));
    p.slave.wait_for("slave standby, peer heard", T, |s| ha(s)["state"] == "standby" && ha(s)["peer"]["alive"] == true);
    assert_eq!(fos.state("mode").as_deref(), Some("1"), "master's mode read back");
    let s = p.slave.status();
    assert!(!l2_up(&s) && !holds(&s), "a standby node keeps layer 2 down: {}", s["ha"]);
    call_completes(&p.master, T);

    let killed = Instant::now();
    p.master.kill9();
    p.slave.wait_for("slave holds the lines with layer 2 up", Duration::from_secs(5), |s| holds(s) && l2_up(s));
    assert_eq!(fos.state("mode").as_deref(), Some("0"), "the relay gives the lines to the slave (A-D)");
    call_completes(&p.slave, Duration::from_secs(5).saturating_sub(killed.elapsed()));
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(5), "kill to call completed took {took:?}");
    eprintln!("failover: kill -9 to new call ACTIVE in {took:?}");
    let s = p.slave.status();
    assert!(
        ha(&s)["history"].as_array().is_some_and(|h| h
            .iter()
            .any(|r| r["event"].as_str().is_some_and(|e| e.contains("peer lost on both paths")))),
        "{}",
        s["ha"]
    );
}

#[test]
fn switchover_moves_the_lines_and_never_to_both() {
    let scratch = Scratch::new("ha-switch");
    let fos = Berofos::start();
    let p = start_pair(&scratch, fos.http, 30);
    p.master.wait_for("master holds the lines", T, |s| holds(s) && l2_up(s));
    p.slave.wait_for("slave standby", T, |s| ha(s)["peer"]["alive"] == true);
    // Through the CLI, as an operator would: `spangate ha switchover --url http://IP:PORT`.
    let url = format!("http://{}", p.master.addr);
    let out = Command::new(spangate_bin()).args(["ha", "switchover", "--url", &url]).output().expect("run the CLI");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(r#""was":"active""#),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = p.slave.wait_for("slave holds the lines", T, |s| holds(s) && l2_up(s));
    let m = p.master.status();
    assert!(!holds(&m), "{}", m["ha"]);
    assert_one_owner(&[&m, &s]);
    assert_eq!(fos.state("mode").as_deref(), Some("0"));
    // Unplugged: the master's span loses the line. (Its Q.921 is not told: layer 2 is not torn
    // down explicitly yet, see the module documentation of ha::runtime.)
    let m = p.master.wait_for("the master's span unplugged", T, |s| span(s, 1)["up"] == false);
    assert_eq!(ha(&m)["failback_suppressed"], true, "no automatic failback after a manual switchover");
    call_completes(&p.slave, T);
    // Asked again, the slave (now active) hands the lines back; `ha status` shows it.
    let url = format!("http://{}", p.slave.addr);
    let out = Command::new(spangate_bin()).args(["ha", "switchover", "--url", &url]).output().expect("run the CLI");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    p.master.wait_for("the master holds the lines again", T, |s| holds(s) && l2_up(s));
    let out = Command::new(spangate_bin()).args(["ha", "status", "--url", &url]).output().expect("run the CLI");
    let st: Value = serde_json::from_slice(&out.stdout).expect("ha status is JSON");
    assert_eq!((st["state"].as_str(), st["lines"].as_bool()), (Some("standby"), Some(false)), "{st}");
}

#[test]
fn berofos_unreachable_no_node_takes_the_lines() {
    let scratch = Scratch::new("ha-nofos");
    // A port nobody listens on: every berofos request fails.
    let p = start_pair(&scratch, free_port(), 1);
    for d in [&p.master, &p.slave] {
        d.wait_for("the node up", T, |s| s["ha"]["healthy"] == true);
    }
    let until = Instant::now() + Duration::from_secs(4);
    let mut tried = false;
    while Instant::now() < until {
        for d in [&p.master, &p.slave] {
            let s = d.status();
            assert!(!holds(&s) && !l2_up(&s), "a node took lines it cannot fence: {}", s["ha"]);
            tried |= ha(&s)["berofos"]["reachable"] == false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(tried, "the nodes asked the berofos (and found it unreachable)");
}

/// Sends `sig` (STOP, CONT) to the daemon's process.
fn signal(d: &Daemon, sig: &str) {
    let ok = Command::new("kill").args([&format!("-{sig}"), &d.pid().to_string()]).status().expect("kill");
    assert!(ok.success());
}

#[test]
fn master_back_after_a_kill_fails_back_after_the_hold_time() {
    let scratch = Scratch::new("ha-failback");
    let fos = Berofos::start();
    let hold = 2;
    let mut p = start_pair(&scratch, fos.http, hold);
    p.master.wait_for("master holds the lines", T, |s| holds(s) && l2_up(s));
    let master_cfg = scratch.path("gw-a.toml");
    let master_port = p.master.addr.port();
    p.master.kill9();
    p.slave.wait_for("slave holds the lines", T, |s| holds(s) && l2_up(s));
    let back = Instant::now();
    let master = Daemon::start_on(&["run", "--config", master_cfg.to_str().expect("utf-8")], master_port);
    master.wait_for("master healthy in standby", T, |s| ha(s)["healthy"] == true);
    assert!(!holds(&master.status()), "the master must not take the lines at once");
    master.wait_for("failback: master holds the lines", T, |s| holds(s) && l2_up(s));
    let took = back.elapsed();
    assert!(took >= Duration::from_secs(hold.into()), "failback before the hold time: {took:?}");
    assert_eq!(fos.state("mode").as_deref(), Some("1"));
    let s = p.slave.wait_for("slave released the lines", T, |s| !holds(s) && ha(s)["state"] == "standby");
    call_completes(&master, T);
    assert_one_owner(&[&master.status(), &s]);
}

#[test]
fn hung_master_sigstop_fails_over_and_gives_up_the_lines_when_it_wakes() {
    let scratch = Scratch::new("ha-sigstop");
    let fos = Berofos::start();
    let p = start_pair(&scratch, fos.http, 30);
    p.master.wait_for("master holds the lines", T, |s| holds(s) && l2_up(s));
    p.slave.wait_for("slave standby", T, |s| ha(s)["peer"]["alive"] == true);
    signal(&p.master, "STOP");
    let stopped = Instant::now();
    p.slave.wait_for("slave holds the lines", Duration::from_secs(5), |s| holds(s) && l2_up(s));
    eprintln!("SIGSTOP to slave holding the lines: {:?}", stopped.elapsed());
    assert_eq!(fos.state("mode").as_deref(), Some("0"));
    call_completes(&p.slave, T);
    signal(&p.master, "CONT");
    // Awake, the master finds the relay in the slave's mode and lets go; no failback (hold 30 s).
    p.master.wait_for("woken master released the lines", T, |s| !holds(s));
    assert!(holds(&p.slave.status()), "the slave keeps the lines");
    assert_eq!(fos.state("mode").as_deref(), Some("0"));
}

fn bypass_config(scratch: &Scratch, fos: &Berofos) -> PathBuf {
    let ha = format!(
        "[ha]\nrole = \"master\"\nnode = \"gw\"\nwatchdog = true\n[[ha.berofos]]\naddress = \"127.0.0.1:{}\"\n\
         udp = \"127.0.0.1:{}\"\nscenario = \"bypass\"\n",
        fos.http, fos.udp
    );
    Config::board("sim-e1x2").span(user_side("provider")).raw(&ha).write(scratch, "bypass.toml")
}

#[test]
fn bypass_watchdog_expires_when_the_gateway_dies_and_lines_go_to_the_pbx() {
    let scratch = Scratch::new("ha-bypass");
    let fos = Berofos::start_with(&["--scenario", "bypass", "--wdog-interval", "2"]);
    let cfg = bypass_config(&scratch, &fos);
    let mut d = Daemon::with_config(&cfg);
    d.wait_for("the gateway holds the lines", T, |s| {
        holds(s) && l2_up(s) && ha(s)["berofos"]["kicks"].as_u64() > Some(1)
    });
    assert_eq!(fos.state("links").as_deref(), Some("A-B,C-D"), "lines through the gateway");
    assert!(fos.state("wdog_state").is_some_and(|w| w != "off"), "watchdog armed");
    // Kicks keep it from expiring while the gateway lives (more than one interval).
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(fos.state("wdog_expiries").as_deref(), Some("0"));
    d.kill9();
    let killed = Instant::now();
    // The watchdog interval is 2 s; the limit leaves a loaded machine room.
    while fos.state("mode").as_deref() != Some("0") {
        assert!(killed.elapsed() < T, "the watchdog did not expire within {T:?} of the kill");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(fos.state("links").as_deref(), Some("A-D"), "provider straight to the PBX");
    assert_eq!(fos.state("wdog_expiries").as_deref(), Some("1"));
    // Healthy again, the gateway re-arms the watchdog and takes the lines back.
    let d = Daemon::with_config(&cfg);
    d.wait_for("the gateway holds the lines again", T, |s| holds(s) && l2_up(s));
    assert_eq!(fos.state("mode").as_deref(), Some("1"));
}

/// The provider of the relay test: one NT span answering every call, cabled to group A.
fn provider_config(scratch: &Scratch) -> PathBuf {
    let line = format!("connect:{}", scratch.path("A.sock").display());
    let span = Span::e1(1, &line).set("signalling", "\"pri_net\"").set("layer2_persistence", "\"keep_up\"");
    Config::board("sim-e1x2").span(span.set("incoming", "\"answer\"")).write(scratch, "provider.toml")
}

fn incoming_active(s: &Value) -> usize {
    span(s, 1)["isdn"]["calls"]
        .as_array()
        .map_or(0, |c| c.iter().filter(|c| c["direction"] == "incoming" && c["state"] == "ACTIVE").count())
}

/// The lines really move: one provider process cabled to berofos group A, the master on B, the
/// slave on D; the relay (berofos-sim `--cables`) joins the provider to whichever node the mode
/// says. After `kill -9` of the master the provider's calls arrive from the slave.
#[test]
fn relay_moves_the_provider_line_from_master_to_slave() {
    let scratch = Scratch::new("ha-relay");
    let dir = scratch.0.to_str().expect("utf-8").to_string();
    let fos = Berofos::start_with(&["--cables", &dir]);
    let provider = Daemon::with_config(&provider_config(&scratch));
    let (hm, hs) = (free_port(), free_port());
    let (pm, ps) = (free_port(), free_port());
    let b = format!("connect:{dir}/B.sock");
    let d = format!("connect:{dir}/D.sock");
    let m = config_on(&scratch, "gw-a", "master", (hm, hs), ps, fos.http, 30, &b);
    let s = config_on(&scratch, "gw-b", "slave", (hs, hm), pm, fos.http, 30, &d);
    let arg = |p: &PathBuf| p.to_str().expect("utf-8").to_string();
    let mut master = Daemon::start_on(&["run", "--config", &arg(&m)], pm);
    let slave = Daemon::start_on(&["run", "--config", &arg(&s)], ps);
    master.wait_for("master holds the lines with layer 2 up", T, |s| holds(s) && l2_up(s));
    provider.wait_for("provider layer 2 up", T, l2_up);
    let st = slave.wait_for("slave standby", T, |s| ha(s)["peer"]["alive"] == true);
    assert!(!l2_up(&st), "the slave's span is not joined to the provider");
    call_completes(&master, T);
    provider.wait_for("the provider answered the master's call", T, |s| incoming_active(s) == 1);

    let killed = Instant::now();
    master.kill9();
    slave.wait_for("slave layer 2 up with the provider through the relay", T, |s| holds(s) && l2_up(s));
    assert_eq!(fos.state("links").as_deref(), Some("A-D"));
    // The master's call died with it (the TDM path is gone). The provider's end of it is cleared
    // by Q.931 itself, not by the test: its layer 2 dropped with the relay, T309 ran, and when
    // the slave's layer 2 came up through the relay the provider sent STATUS #31 (§5.8.9); the
    // slave knows no such call and answers RELEASE COMPLETE #101 (§5.8.3.2). (A hangup posted by
    // the test raced this exchange, which usually ends within milliseconds of layer 2 coming up:
    // the call was often gone by the time the request arrived.)
    let st = provider.wait_for("the stale call cleared by the protocol", T, |s| {
        incoming_active(s) == 0 && span(s, 1)["isdn"]["calls"].as_array().is_some_and(Vec::is_empty)
    });
    let cleared = span(&st, 1)["isdn"]["cleared"].as_array().cloned().unwrap_or_default();
    assert!(
        cleared.iter().any(|c| c["direction"] == "incoming" && c["cause"] == 101),
        "the master's call cleared by RELEASE COMPLETE #101 from the slave: {cleared:?}"
    );
    call_completes(&slave, T);
    eprintln!("relay failover: kill -9 to a call through the relay ACTIVE in {:?}", killed.elapsed());
    // The provider saw the new call arrive over the same cable, now joined to the slave.
    provider.wait_for("the provider answered the slave's call", T, |s| incoming_active(s) == 1 && l2_up(s));
}

/// A UDP forwarder standing in for the network between the nodes: datagrams to `port()` go to
/// `target` while `open`.
struct Link {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Link {
    fn new(target: u16) -> Link {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind link");
        s.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
        let port = s.local_addr().expect("addr").port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = std::sync::Arc::clone(&open);
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            loop {
                if let Ok(n) = s.recv(&mut buf) {
                    if flag.load(std::sync::atomic::Ordering::Relaxed) {
                        let _ = s.send_to(&buf[..n], ("127.0.0.1", target));
                    }
                }
            }
        });
        Link { port, open }
    }

    fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Heartbeats lost between the nodes while each still reaches the other's API (the second path):
/// the slave must not take the lines from a live master (XiVO's split-brain), and the relay
/// stays where it is, sampled all along.
#[test]
fn heartbeats_cut_but_master_alive_over_the_second_path_keeps_the_lines() {
    let scratch = Scratch::new("ha-split");
    let fos = Berofos::start();
    let (hm, hs) = (free_port(), free_port());
    let (to_master, to_slave) = (Link::new(hm), Link::new(hs));
    let (pm, ps) = (free_port(), free_port());
    let m = config(&scratch, "gw-a", "master", (hm, to_slave.port), ps, fos.http, 30);
    let s = config(&scratch, "gw-b", "slave", (hs, to_master.port), pm, fos.http, 30);
    let arg = |p: &PathBuf| p.to_str().expect("utf-8").to_string();
    let master = Daemon::start_on(&["run", "--config", &arg(&m)], pm);
    let slave = Daemon::start_on(&["run", "--config", &arg(&s)], ps);
    master.wait_for("master holds the lines", T, |s| holds(s) && l2_up(s));
    slave.wait_for("slave hears the master through the link", T, |s| ha(s)["peer"]["alive"] == true);
    to_master.cut();
    to_slave.cut();
    slave.wait_for("slave lost the heartbeats", T, |s| ha(s)["peer"]["alive"] == false);
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let (ms, ss) = (master.status(), slave.status());
        assert!(holds(&ms) && !holds(&ss), "split brain: master {} slave {}", ms["ha"], ss["ha"]);
        assert_eq!(fos.state("mode").as_deref(), Some("1"), "the relay moved during the split");
        std::thread::sleep(Duration::from_millis(50));
    }
    let ss = slave.status();
    assert!(
        ha(&ss)["history"].as_array().is_some_and(|h| h.iter().any(|r| r["event"] == "second path: peer Healthy")),
        "the slave asked the second path: {}",
        ss["ha"]
    );
}

/// A TCP forwarder for the second path: connections to `port` reach `target` while open; once
/// cut, they are closed at once (the peer's API unreachable).
struct TcpLink {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl TcpLink {
    fn new(target: u16) -> TcpLink {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = std::sync::Arc::clone(&open);
        std::thread::spawn(move || {
            for c in l.incoming().map_while(Result::ok) {
                if !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    continue;
                }
                let Ok(up) = std::net::TcpStream::connect(("127.0.0.1", target)) else { continue };
                let (mut c2, mut up2) = (c.try_clone().expect("clone"), up.try_clone().expect("clone"));
                let (mut c, mut up) = (c, up);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c, &mut up);
                    let _ = up.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut up2, &mut c2);
                });
            }
        });
        TcpLink { port, open }
    }

    fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A full split between the nodes (heartbeats and second path), the berofos reachable from both:
/// the slave takes the lines through the relay, and the master, reading the relay while its peer
/// is silent, lets go within its relay check. Recorded as a timeline of both nodes and the relay:
/// at every sample at most one node holds the lines in the relay's mode, and a node claiming lines
/// the relay does not give it never does so for longer than the relay check (1 s) and a margin.
#[test]
fn full_partition_with_the_berofos_reachable_has_one_owner_at_every_instant() {
    let scratch = Scratch::new("ha-partition");
    let fos = Berofos::start();
    let (hm, hs) = (free_port(), free_port());
    let (to_master, to_slave) = (Link::new(hm), Link::new(hs));
    let (pm, ps) = (free_port(), free_port());
    let (api_master, api_slave) = (TcpLink::new(pm), TcpLink::new(ps));
    let m = config(&scratch, "gw-a", "master", (hm, to_slave.port), api_slave.port, fos.http, 30);
    let s = config(&scratch, "gw-b", "slave", (hs, to_master.port), api_master.port, fos.http, 30);
    let arg = |p: &PathBuf| p.to_str().expect("utf-8").to_string();
    let master = Daemon::start_on(&["run", "--config", &arg(&m)], pm);
    let slave = Daemon::start_on(&["run", "--config", &arg(&s)], ps);
    master.wait_for("master holds the lines", T, |s| holds(s) && l2_up(s));
    slave.wait_for("slave hears the master", T, |s| ha(s)["peer"]["alive"] == true);
    for cut in [&to_master.open, &to_slave.open] {
        cut.store(false, std::sync::atomic::Ordering::Relaxed);
    }
    api_master.cut();
    api_slave.cut();
    let start = Instant::now();
    // (master claims, slave claims, relay mode) every ~50 ms, for 6 s and then until the split
    // has settled with the slave holding (a loaded machine may take longer; the last sample must
    // show it, within T more).
    let mut timeline: Vec<(Duration, bool, bool, Option<String>)> = Vec::new();
    let settled = |t: &[(Duration, bool, bool, Option<String>)]| {
        t.last().is_some_and(|(_, m, s, mode)| !*m && *s && mode.as_deref() == Some("0"))
    };
    while start.elapsed() < Duration::from_secs(6)
        || (!settled(&timeline) && start.elapsed() < Duration::from_secs(6) + T)
    {
        let (ms, ss, mode) = (master.status(), slave.status(), fos.state("mode"));
        timeline.push((start.elapsed(), holds(&ms), holds(&ss), mode));
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut wrong_since: [Option<Duration>; 2] = [None, None];
    for (at, m, s, mode) in &timeline {
        let owners = usize::from(*m && mode.as_deref() == Some("1")) + usize::from(*s && mode.as_deref() == Some("0"));
        assert!(owners <= 1, "two owners at {at:?}: {timeline:?}");
        for (i, (claims, own)) in [(*m, "1"), (*s, "0")].into_iter().enumerate() {
            if claims && mode.as_deref().is_some_and(|x| x != own) {
                let since = *wrong_since[i].get_or_insert(*at);
                assert!(
                    *at - since < Duration::from_millis(1800),
                    "node {i} claimed lines it lost for too long: {timeline:?}"
                );
            } else {
                wrong_since[i] = None;
            }
        }
    }
    let (_, m, s, mode) = timeline.last().expect("samples");
    assert_eq!(
        (*m, *s, mode.as_deref()),
        (false, true, Some("0")),
        "the split ends with the slave holding: {timeline:?}"
    );
}
