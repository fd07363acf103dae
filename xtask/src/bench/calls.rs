//! `cargo xtask bench calls [--step-secs N] [--hold-ms N] [--max-rate N]`: the sustained call
//! rate TDM <-> SIP of the release daemon on a simulated board of eight E1 spans, with sipp as the
//! load generator (issue #5).
//!
//! The board is the TDM loop of `tests/e2e/load.rs` at full size: spans 1-4 are TE (`pri_cpe`),
//! each cabled to one of spans 5-8, NT (`pri_net`). sipp's UAC calls spangate, which routes the
//! call out of a TE span; it comes back in on the NT span at the other end of the cable and goes
//! out to sipp's auto-answering UAS; the UAC hangs up after `--hold-ms` (100). So every call is
//! two SIP legs with RTP, two ISDN calls on real 64 kbit/s D-channels (bit-level HDLC), and two
//! bridges in the switch: both directions of a gateway at once.
//!
//! The rate steps up (50, 100, 150, 200, then by 25 to 300, then by 50) for `--step-secs` (10)
//! each until a step has a failed call; the result is the highest rate with zero failures. Rows:
//! that rate; sipp's achieved rate in that step; the daemon's CPU per call (utime + stime from
//! /proc/PID/stat, less what the idle board costs over the same time), the median over the
//! steps that passed from 100 calls/s up; the CPU share of one core at the best rate; and the
//! memory per active call, the resident set's growth (/proc/PID/status VmRSS, fresh daemon)
//! with 100 calls up at once, divided by 100. No independent gateway runs beside it, so the JSON
//! lines carry no `peer` fields.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

use super::Measure;
use super::{clock_ticks_per_s, cpu_ticks, http_get, rss_kib};
use crate::{root, run};

const PAIRS: u32 = 4;
/// Calls held up at once for the memory measurement (two B-channels each of the 120 per side).
const HELD: u32 = 100;

fn status(addr: SocketAddr) -> Option<Value> {
    http_get(addr, "/api/v1/status").ok().and_then(|b| serde_json::from_str(&b).ok())
}

fn wait(addr: SocketAddr, what: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(s) = status(addr).filter(|s| pred(s)) {
            return Ok(s);
        }
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spans(s: &Value) -> Vec<Value> {
    s["spans"].as_array().cloned().unwrap_or_default()
}

fn bridges(s: &Value) -> usize {
    s["switch"]["calls"].as_array().map_or(usize::MAX, Vec::len)
}

fn idle(s: &Value) -> bool {
    bridges(s) == 0 && spans(s).iter().all(|sp| sp["isdn"]["calls"].as_array().is_some_and(Vec::is_empty))
}

fn udp_port(ip: &str) -> anyhow::Result<u16> {
    Ok(UdpSocket::bind((ip, 0))?.local_addr()?.port())
}

/// The eight-span loop: TE spans 1-4 in group 1, each cabled to NT span n + 4 in group 2.
fn config(http: u16, sip: u16, uac: u16, uas: u16) -> String {
    let mut c = String::from("[board]\nname = \"bench 8xE1 loop\"\nmodel = \"sim-e1x8-loop\"\nbackend = \"sim\"\n");
    for te in 1..=PAIRS {
        let nt = te + PAIRS;
        c += &format!(
            "[[board.span]]\nspan = {te}\nkind = \"e1\"\ntiming = {te}\ntermination = \"te\"\n\
             signalling = \"pri_cpe\"\ngroup = 1\necho = {{ mode = \"off\" }}\n[board.span.sim]\nline = \"span:{nt}\"\n\
             [[board.span]]\nspan = {nt}\nkind = \"e1\"\ntiming = 0\ntermination = \"nt\"\n\
             signalling = \"pri_net\"\ngroup = 2\necho = {{ mode = \"off\" }}\n[board.span.sim]\nline = \"span:{te}\"\n"
        );
    }
    c + &format!(
        "[sip]\nlisten = \"udp:127.0.0.1:{sip}\"\nrtp_ports = \"20000-40000\"\n\
         [[sip.trunk]]\nname = \"uac\"\nhost = \"127.0.0.1\"\nport = {uac}\ncodecs = [\"pcma\", \"pcmu\"]\n\
         [[sip.trunk]]\nname = \"uas\"\nhost = \"127.0.0.2\"\nport = {uas}\ncodecs = [\"pcma\", \"pcmu\"]\n\
         [[route]]\nname = \"in\"\nfrom = \"trunk:uac\"\nto = \"group:1\"\nhunt = \"r\"\n\
         [[route]]\nname = \"out\"\nfrom = \"group:2\"\nto = \"trunk:uas\"\n\
         [http]\nlisten = \"127.0.0.1:{http}\"\n[log]\nlevel = \"warn\"\n"
    )
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn sipp() -> anyhow::Result<Command> {
    if !Path::new("/usr/bin/sipp").exists() {
        bail!("sipp is missing: install the Debian package sip-tester (or run `cargo xtask deps`)");
    }
    Ok(Command::new("/usr/bin/sipp"))
}

/// The last row of a sipp `-trace_stat` file, column `name`.
fn stat(path: &Path, name: &str) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let col = lines.first()?.split(';').position(|c| c == name)?;
    lines.last()?.split(';').nth(col)?.trim().parse().ok()
}

/// The daemon, the UAS, and where things are.
struct Rig {
    daemon: Killed,
    _uas: Killed,
    http: SocketAddr,
    sip: String,
    uac_port: u16,
    dir: PathBuf,
}

impl Rig {
    fn start(dir: &Path, n: usize) -> anyhow::Result<Rig> {
        let http = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let (sip, uac, uas) = (udp_port("127.0.0.1")?, udp_port("127.0.0.1")?, udp_port("127.0.0.2")?);
        let cfg = dir.join(format!("calls{n}.toml"));
        std::fs::write(&cfg, config(http, sip, uac, uas))?;
        let bin = root().join("target/release/spangate");
        let log = std::fs::File::create(dir.join(format!("daemon{n}.log")))?;
        let daemon = Killed(
            Command::new(&bin)
                .args(["run", "--config"])
                .arg(&cfg)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .with_context(|| format!("start {}", bin.display()))?,
        );
        let http: SocketAddr = ([127, 0, 0, 1], http).into();
        wait(http, "layer 2 up on the 8 spans", Duration::from_secs(20), |s| {
            let sp = spans(s);
            sp.len() == 8 && sp.iter().all(|x| x["isdn"]["layer2_up"] == true)
        })?;
        let uas = Killed(
            sipp()?
                .args(["-sn", "uas", "-i", "127.0.0.2", "-p", &uas.to_string(), "-nostdin"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("start sipp uas")?,
        );
        std::thread::sleep(Duration::from_millis(500));
        Ok(Rig { daemon, _uas: uas, http, sip: format!("127.0.0.1:{sip}"), uac_port: uac, dir: dir.to_path_buf() })
    }

    fn pid(&self) -> u32 {
        self.daemon.0.id()
    }

    /// Starts sipp's UAC: `calls` calls at `rate` per second, each held `hold_ms`.
    fn uac(&self, rate: u32, calls: u32, hold_ms: u32, stats: &Path) -> anyhow::Result<Child> {
        let timeout = format!("{}s", calls / rate.max(1) + 60);
        sipp()?
            .args(["-sn", "uac", "-s", "0601020304", "-i", "127.0.0.1", "-p", &self.uac_port.to_string()])
            .args(["-r", &rate.to_string(), "-m", &calls.to_string(), "-d", &hold_ms.to_string()])
            .args(["-timeout", &timeout, "-nostdin", "-trace_stat", "-stf"])
            .arg(stats)
            .arg(&self.sip)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start sipp uac")
    }
}

/// One step of the ramp.
struct Step {
    rate: u32,
    ok: f64,
    failed: f64,
    achieved: f64,
    cpu_s: f64,
    wall_s: f64,
}

fn step(rig: &Rig, rate: u32, secs: u32, hold_ms: u32, hz: f64) -> anyhow::Result<Step> {
    let stats = rig.dir.join(format!("uac-{rate}.csv"));
    let c0 = cpu_ticks(rig.pid())?;
    let t0 = Instant::now();
    let status = rig.uac(rate, rate * secs, hold_ms, &stats)?.wait()?;
    // The step's calls are over for the daemon once their legs are gone.
    wait(rig.http, "every call cleared", Duration::from_secs(60), idle)?;
    let (c1, wall_s) = (cpu_ticks(rig.pid())?, t0.elapsed().as_secs_f64());
    let ok = stat(&stats, "SuccessfulCall(C)").unwrap_or(0.0);
    let failed = stat(&stats, "FailedCall(C)").unwrap_or(f64::NAN);
    let achieved = stat(&stats, "CallRate(C)").unwrap_or(f64::NAN);
    #[allow(clippy::cast_precision_loss)]
    let cpu_s = (c1 - c0) as f64 / hz;
    eprintln!(
        "bench calls: {rate} calls/s for {secs} s: {ok} ok, {failed} failed (sipp {status}), achieved {achieved:.1}/s, \
         daemon CPU {:.0}% of a core",
        cpu_s / wall_s * 100.0
    );
    Ok(Step { rate, ok, failed: if status.success() { failed } else { failed.max(1.0) }, achieved, cpu_s, wall_s })
}

/// RSS growth per call with `HELD` calls up at once, on a fresh daemon.
fn memory_per_call(dir: &Path) -> anyhow::Result<f64> {
    let rig = Rig::start(dir, 0)?;
    // One call first, so lazily built state (the first RTP socket, the endpoint's tables) is in
    // the baseline rather than charged to the held calls.
    rig.uac(1, 1, 0, &dir.join("warm.csv"))?.wait()?;
    wait(rig.http, "the warm-up call cleared", Duration::from_secs(20), idle)?;
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_kib(rig.pid())?;
    let mut uac = rig.uac(50, HELD, 4000, &dir.join("held.csv"))?;
    let held = usize::try_from(2 * HELD)?;
    wait(rig.http, "the calls up at once", Duration::from_secs(20), |s| bridges(s) == held)?;
    let mut samples = Vec::new();
    for _ in 0..3 {
        samples.push(rss_kib(rig.pid())?);
        std::thread::sleep(Duration::from_millis(200));
    }
    samples.sort_unstable();
    uac.wait()?;
    #[allow(clippy::cast_precision_loss)]
    let per_call = samples[1].saturating_sub(before) as f64 / f64::from(HELD);
    eprintln!("bench calls: RSS {before} KiB idle, {} KiB with {HELD} calls up", samples[1]);
    Ok(per_call)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn calls(step_secs: u32, hold_ms: u32, max_rate: u32) -> anyhow::Result<Vec<Measure>> {
    sipp()?;
    run(Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())).args([
        "build",
        "--release",
        "-p",
        "gateway-daemon",
    ]))?;
    let dir = std::env::temp_dir().join(format!("spangate-bench-calls-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let hz = clock_ticks_per_s();
    let memory = memory_per_call(&dir)?;

    let rig = Rig::start(&dir, 1)?;
    // What the idle board costs (the media thread ticks every millisecond whatever the calls).
    let (c0, t0) = (cpu_ticks(rig.pid())?, Instant::now());
    std::thread::sleep(Duration::from_secs(3));
    #[allow(clippy::cast_precision_loss)]
    let idle_share = (cpu_ticks(rig.pid())? - c0) as f64 / hz / t0.elapsed().as_secs_f64();
    let mut rate = 50;
    let mut passed: Vec<Step> = Vec::new();
    while rate <= max_rate {
        let s = step(&rig, rate, step_secs, hold_ms, hz)?;
        if s.failed != 0.0 || s.ok < f64::from(rate * step_secs) {
            break;
        }
        passed.push(s);
        rate += match rate {
            0..200 => 50,
            200..300 => 25,
            _ => 50,
        };
    }
    drop(rig);
    let _ = std::fs::remove_dir_all(&dir);
    let Some(best) = passed.last() else { bail!("not even 50 calls/s passed with zero failures") };
    if best.rate + 50 > max_rate {
        eprintln!("bench calls: every step up to --max-rate {max_rate} passed; the limit is higher");
    }
    let per_call_ms: Vec<f64> =
        passed.iter().filter(|s| s.rate >= 100).map(|s| (s.cpu_s - idle_share * s.wall_s) / s.ok * 1000.0).collect();
    Ok(vec![
        Measure::ours("calls.max_cps_zero_failures", "calls/s", f64::from(best.rate), ">= 200 (issue #5)"),
        Measure::ours("calls.achieved_cps", "calls/s", best.achieved, ""),
        Measure::ours("calls.cpu_per_call", "ms", median(per_call_ms), ""),
        Measure::ours("calls.cpu_at_max", "%", best.cpu_s / best.wall_s * 100.0, ""),
        Measure::ours("calls.idle_cpu", "%", idle_share * 100.0, ""),
        Measure::ours("calls.memory_per_active_call", "KiB", memory, ""),
    ])
}
