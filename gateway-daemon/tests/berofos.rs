//! berofos end to end: the real `berofos-sim` binary on free loopback ports, driven by the
//! library client and by `spangate berofos ...`. Waits are generous timeouts around polls,
//! never fixed sleeps that a slow machine could outrun.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use gateway_daemon::berofos::conf::BnfosConf;
use gateway_daemon::berofos::http::{self, Credentials, Role};
use gateway_daemon::berofos::udp::{self, Mac};

/// One running simulator, killed on drop.
struct Sim {
    child: Child,
    http: SocketAddr,
    udp: SocketAddr,
    mac: Mac,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_berofos-sim"))
            .args(["--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--log-level", "warn"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start berofos-sim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
        let field = |name: &str| -> String {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {line:?}"))
                .to_owned()
        };
        Sim {
            http: field("http=").parse().unwrap(),
            udp: field("udp=").parse().unwrap(),
            mac: field("mac=").parse().unwrap(),
            child,
        }
    }

    fn client(&self) -> http::Client {
        http::Client::new(self.http).with_timeout(Duration::from_secs(5))
    }

    /// A simulator-only hook, as `key=value` lines.
    fn hook(&self, path: &str) -> String {
        let mut s = TcpStream::connect(self.http).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.0 200"), "{path}: {out}");
        out.split("\r\n\r\n").nth(1).unwrap_or("").to_owned()
    }

    fn state(&self, key: &str) -> String {
        let body = self.hook("/sim/state");
        body.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .unwrap_or_else(|| panic!("no {key} in {body}"))
            .to_owned()
    }

    /// `--host` and `--udp-port` for the CLI.
    fn target(&self) -> Vec<String> {
        vec!["--host".into(), self.http.to_string(), "--udp-port".into(), self.udp.port().to_string()]
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spangate(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spangate")).arg("berofos").args(args).output().expect("run spangate")
}

fn cli(sim: &Sim, args: &[&str]) -> Output {
    let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    all.extend(sim.target());
    spangate(&all)
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn scan_finds_the_simulator_and_writes_bnfos_conf() {
    let sim = Sim::start(&["--mac", "00:50:C2:11:22:33"]);
    let client = udp::Client::new(sim.udp, Duration::from_secs(5)).unwrap();
    let found = client.scan(Some(1)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0.mac, sim.mac);
    assert_eq!(found[0].0.http_port, sim.http.port());
    client.ping(sim.mac).unwrap();

    let dir = std::env::temp_dir().join(format!("berofos-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf_path = dir.join("bnfos.conf");
    let out = ok(&cli(&sim, &["scan", "--write-conf", conf_path.to_str().unwrap()]));
    assert!(out.contains("fos1 mac=00:50:C2:11:22:33 ip=127.0.0.1"), "{out}");
    let conf = BnfosConf::parse(&std::fs::read_to_string(&conf_path).unwrap()).unwrap();
    let s = conf.section("fos1").unwrap();
    assert_eq!(s.mac, Some(sim.mac));
    assert_eq!(s.http_addr(), Some(sim.http));
    assert_eq!(s.udp_addr(), sim.udp);
    // The written file drives the other commands (kick without --mac, get over HTTP).
    let conf_arg = conf_path.to_str().unwrap();
    ok(&spangate(&["kick".into(), "--conf".into(), conf_arg.into()]));
    let mode =
        ok(&spangate(&["get".into(), "mode".into(), "--conf".into(), conf_arg.into(), "-f".into(), "FOS1".into()]));
    assert_eq!(mode.trim(), "mode = 1");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn get_set_round_trip() {
    let sim = Sim::start(&[]);
    let c = sim.client();
    c.set("wdogitime", "30").unwrap();
    assert_eq!(c.get("wdogitime").unwrap(), "30");
    c.set_checked("hostname", "gw-1").unwrap();
    ok(&cli(&sim, &["set", "smtpto=ops@example.invalid"]));
    assert_eq!(ok(&cli(&sim, &["get", "smtpto"])).trim(), "smtpto = ops@example.invalid");
    assert_eq!(ok(&cli(&sim, &["get", "hostname"])).trim(), "hostname = gw-1");
    let all = ok(&cli(&sim, &["get"]));
    assert!(all.contains("wdogitime = 30\n") && all.contains("wdogstate = 0\n"), "{all}");
    let bad = cli(&sim, &["set", "mode=2"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected 0 or 1"));
    let ro = cli(&sim, &["set", "wdogstate=1"]);
    assert!(String::from_utf8_lossy(&ro.stderr).contains("read-only"));
}

#[test]
fn mode_master_and_slave_move_the_relays() {
    let sim = Sim::start(&["--modedef", "1"]);
    assert_eq!(sim.state("links"), "A-B");
    assert_eq!(ok(&cli(&sim, &["mode", "slave"])).trim(), "mode = 0 (A-D): ok");
    assert_eq!(sim.state("links"), "A-D");
    assert_eq!(sim.client().get("mode").unwrap(), "0");
    ok(&cli(&sim, &["mode", "master"]));
    assert_eq!(sim.state("links"), "A-B");
    // Bypass: mode 1 joins A-B and C-D.
    let c = sim.client();
    c.set("scenario", "1").unwrap();
    c.set_role(Role::Slave).unwrap();
    assert_eq!(sim.state("links"), "A-D");
    c.set_role(Role::Master).unwrap();
    assert_eq!(sim.state("links"), "A-B,C-D");
}

#[test]
fn authentication_basic_and_digest() {
    for scheme in ["basic", "digest"] {
        let sim = Sim::start(&["--auth", scheme, "--password", "s3cret"]);
        let none = cli(&sim, &["get", "mode"]);
        assert_eq!(none.status.code(), Some(1), "{scheme}");
        assert!(String::from_utf8_lossy(&none.stderr).contains("asks for a password"), "{scheme}");
        let wrong = cli(&sim, &["get", "mode", "--user", "admin", "--password", "nope"]);
        assert!(String::from_utf8_lossy(&wrong.stderr).contains("bad credentials"), "{scheme}");
        ok(&cli(&sim, &["mode", "slave", "--login", "admin:s3cret"]));
        assert_eq!(sim.state("links"), "A-D");
        let c = sim.client().with_credentials(Some(Credentials { user: "admin".into(), password: "s3cret".into() }));
        c.set_role(Role::Master).unwrap();
        assert_eq!(c.get("pwd").unwrap(), "1");
        assert!(matches!(sim.client().get("mode"), Err(http::Error::Unauthorized { sent_credentials: false, .. })));
        assert!(sim.state("unauthorized").parse::<u32>().unwrap() >= 4);
    }
}

#[test]
fn watchdog_expiry_drops_to_a_d() {
    let sim = Sim::start(&["--wdog-interval", "1"]);
    let c = sim.client();
    ok(&cli(&sim, &["set", "wdog=1"]));
    assert_eq!(sim.state("links"), "A-B");
    wait_for("watchdog expiry", Duration::from_secs(20), || sim.state("wdog_state") == "2");
    assert_eq!(sim.state("links"), "A-D");
    assert_eq!(c.get("wdogstate").unwrap(), "2");
    assert_eq!(c.get("mode").unwrap(), "0");
    // A kick does not bring it back; writing mode and wdog does (Wazo's workaround).
    udp::Client::new(sim.udp, Duration::from_secs(5)).unwrap().kick(sim.mac).unwrap();
    assert_eq!(sim.state("wdog_state"), "2");
    c.set_role(Role::Master).unwrap();
    c.set("wdog", "1").unwrap();
    assert_eq!(c.get("wdogstate").unwrap(), "1");
    assert_eq!(sim.state("links"), "A-B");
}

#[test]
fn kicks_keep_the_watchdog_up() {
    let sim = Sim::start(&["--wdog", "--wdog-interval", "3"]);
    assert_eq!(sim.state("wdog_state"), "1", "wdogdef arms it at power-up");
    let kicker = udp::Client::new(sim.udp, Duration::from_secs(5)).unwrap();
    let start = Instant::now();
    // Kick every 200 ms for more than two intervals: a 15x margin over the interval.
    while start.elapsed() < Duration::from_secs(7) {
        kicker.kick(sim.mac).unwrap();
        assert_eq!(sim.state("wdog_state"), "1");
        std::thread::sleep(Duration::from_millis(200));
    }
    ok(&cli(&sim, &["kick"]));
    assert_eq!(sim.state("links"), "A-B");
    assert_eq!(sim.state("wdog_expiries"), "0");
}

#[test]
fn old_firmware_group_write_side_effect_is_handled() {
    let sim = Sim::start(&["--old-firmware", "--wdog"]);
    let c = sim.client();
    assert_eq!(c.get("wdogdef").unwrap(), "1");
    // One variable alone: firmware 1.3.3 clears the rest of the cmd=2 form.
    let single = sim.client().with_whole_group(false);
    single.set("wdogitime", "30").unwrap();
    assert_eq!(c.get("wdogitime").unwrap(), "30");
    assert_eq!(c.get("wdogdef").unwrap(), "0", "the simulator reproduces the side effect");
    // The default client (and the CLI) re-send the whole group.
    let c = sim.client();
    c.set("wdogdef", "1").unwrap();
    c.set("wdogitime", "45").unwrap();
    assert_eq!((c.get("wdogitime").unwrap(), c.get("wdogdef").unwrap()), ("45".into(), "1".into()));
    ok(&cli(&sim, &["set", "wdogaudio=yes"]));
    ok(&cli(&sim, &["set", "wdogitime=50"]));
    assert_eq!((c.get("wdogaudio").unwrap(), c.get("wdogdef").unwrap()), ("1".into(), "1".into()));
}

#[test]
fn several_berofos_from_one_bnfos_conf() {
    let a = Sim::start(&["--mac", "00:50:C2:00:00:0A"]);
    let b = Sim::start(&["--mac", "00:50:C2:00:00:0B"]);
    let section = |name: &str, s: &Sim| {
        format!("[{name}]\nmac = {}\nhost = 127.0.0.1\nport = {}\nudp_port = {}\n", s.mac, s.http.port(), s.udp.port())
    };
    let dir = std::env::temp_dir().join(format!("berofos-multi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bnfos.conf");
    std::fs::write(&path, format!("; eight lines\n{}\n{}", section("fos1", &a), section("fos2", &b))).unwrap();
    let conf: Vec<String> = vec!["--conf".into(), path.to_str().unwrap().into()];
    let run = |args: &[&str]| spangate(&[args.iter().map(|s| (*s).to_owned()).collect(), conf.clone()].concat());
    let out = ok(&run(&["mode", "slave"]));
    assert!(out.contains("[fos1] mode = 0") && out.contains("[fos2] mode = 0"), "{out}");
    assert_eq!((a.state("links"), b.state("links")), ("A-D".into(), "A-D".into()));
    ok(&run(&["kick"]));
    assert_eq!((a.state("kicks"), b.state("kicks")), ("1".into(), "1".into()));
    // One device off: the other still moves, and the command says it failed.
    a.hook("/sim/power?on=0");
    let out = run(&["mode", "master", "--timeout", "1", "--retries", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[fos1] error"), "{out:?}");
    assert_eq!((a.state("links"), b.state("links")), ("A-D".into(), "A-B".into()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn power_off_is_a_d_and_silent() {
    let sim = Sim::start(&["--modedef", "1"]);
    assert_eq!(sim.state("links"), "A-B");
    sim.hook("/sim/power?on=0");
    assert_eq!((sim.state("powered"), sim.state("links")), ("0".into(), "A-D".into()));
    let quick = http::Client::new(sim.http).with_timeout(Duration::from_secs(1)).with_retries(0);
    assert!(quick.get("mode").is_err());
    assert!(udp::Client::new(sim.udp, Duration::from_millis(500)).unwrap().scan(Some(1)).unwrap().is_empty());
    sim.hook("/sim/power?on=1");
    assert_eq!(sim.client().get("mode").unwrap(), "1", "modedef at power-up");
}

#[test]
fn malformed_requests_are_counted_and_the_device_stays_up() {
    let sim = Sim::start(&[]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.send_to(b"not gbl4", sim.udp).unwrap();
    sock.send_to(&[0x47, 0x42, 0x4C, 0x04, 0x0B, 0x00, 0x46], sim.udp).unwrap();
    let mut s = TcpStream::connect(sim.http).unwrap();
    s.write_all(b"BREW /pot\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 400"), "{answer}");
    wait_for("UDP garbage counted", Duration::from_secs(10), || sim.state("malformed_udp") == "2");
    assert_eq!(sim.state("malformed_http"), "1");
    let found = udp::Client::new(sim.udp, Duration::from_secs(5)).unwrap().scan(Some(1)).unwrap();
    assert_eq!(found.len(), 1);
}

#[test]
fn netconf_is_applied_after_a_reset() {
    let sim = Sim::start(&[]);
    let scan_ip = || {
        let found = udp::Client::new(sim.udp, Duration::from_secs(5)).unwrap().scan(Some(1)).unwrap();
        (found[0].0.ip.to_string(), found[0].0.netmask.to_string(), found[0].0.options & udp::OPT_DHCP)
    };
    ok(&cli(&sim, &["netconf", "--ip", "10.1.2.3", "--dhcp", "0"]));
    assert_eq!(scan_ip().0, "127.0.0.1", "a netconf waits for a reboot (P10)");
    ok(&cli(&sim, &["reset"]));
    assert_eq!(scan_ip(), ("10.1.2.3".into(), "255.0.0.0".into(), 0), "class A netmask by default, DHCP off");
}

#[test]
fn a_bank_of_berofos_moves_as_one() {
    use gateway_daemon::berofos::bank::Bank;
    let a = Sim::start(&["--mac", "00:50:C2:00:01:0A", "--wdog", "--wdog-interval", "30"]);
    let b = Sim::start(&["--mac", "00:50:C2:00:01:0B", "--wdog", "--wdog-interval", "30"]);
    let text = [&a, &b]
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!("[fos{}]\nhost = 127.0.0.1\nport = {}\nudp_port = {}\n", i + 1, s.http.port(), s.udp.port())
        })
        .collect::<String>();
    let bank = Bank::new(&BnfosConf::parse(&text).unwrap(), Duration::from_secs(5));
    assert_eq!(bank.len(), 2);
    assert_eq!(bank.mode(), Some(1));
    bank.set_role(Role::Slave).unwrap();
    assert_eq!(bank.mode(), Some(0));
    assert_eq!((a.state("links"), b.state("links")), ("A-D".into(), "A-D".into()));
    assert!(bank.kick().is_empty(), "MACs learnt by scanning each host");
    assert_eq!((a.state("kicks"), b.state("kicks")), ("1".into(), "1".into()));
    // One device off: the bank is not in one position and says which device failed.
    b.hook("/sim/power?on=0");
    let quick = Bank::new(&BnfosConf::parse(&text).unwrap(), Duration::from_secs(1));
    assert_eq!(quick.mode(), None);
    let errors = quick.set_role(Role::Master).unwrap_err();
    assert_eq!(errors.iter().map(|e| e.section.as_str()).collect::<Vec<_>>(), vec!["fos2"]);
}
