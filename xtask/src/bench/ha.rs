//! `cargo xtask bench ha [--kills N]`: failover time of a pair of release `spangate` nodes with a
//! `berofos-sim` on loopback, over N (20) `kill -9`s of the master: from the kill to the first
//! new call ACTIVE on the slave (its span to the simulated provider), as the issue measures it.
//! Rows: median and p95 in seconds (issue #7's acceptance: median <= 3 s, p95 <= 5 s). No
//! independent implementation runs beside it, so the JSON lines carry no `peer` fields.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

use super::http;
use super::Measure;
use crate::{root, run};

const KEY: &str = "bench-shared-secret-0123456789";

fn status(addr: SocketAddr) -> Option<Value> {
    http(addr, "GET", "/api/v1/status", "").ok().and_then(|b| serde_json::from_str(&b).ok())
}

fn wait(addr: SocketAddr, what: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if status(addr).is_some_and(|s| pred(&s)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what} on {addr}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn holds(s: &Value) -> bool {
    s["ha"]["lines"] == true && s["spans"][0]["isdn"]["layer2_up"] == true
}

fn tcp_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn udp_port() -> anyhow::Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn node(
    dir: &Path,
    name: &str,
    role: &str,
    http: u16,
    hb: (u16, u16),
    peer_http: u16,
    fos: u16,
) -> anyhow::Result<Killed> {
    let cfg = format!(
        "[board]\nmodel = \"sim-e1x2\"\nbackend = \"sim\"\n[[board.span]]\nspan = 1\nkind = \"e1\"\n\
         signalling = \"pri_cpe\"\nlayer2_persistence = \"keep_up\"\n[board.span.sim]\nline = \"provider\"\n\
         [http]\nlisten = \"127.0.0.1:{http}\"\n[log]\nlevel = \"warn\"\n[ha]\nrole = \"{role}\"\nnode = \"{name}\"\n\
         listen = \"127.0.0.1:{}\"\npeer = \"127.0.0.1:{}\"\nkey = \"{KEY}\"\ninterval_ms = 100\nmisses = 5\n\
         hold_secs = 600\npeer_http = \"http://127.0.0.1:{peer_http}\"\n[[ha.berofos]]\naddress = \"127.0.0.1:{fos}\"\n",
        hb.0, hb.1
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, cfg)?;
    let child = Command::new(root().join("target/release/spangate"))
        .args(["run", "--config"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start spangate")?;
    Ok(Killed(child))
}

/// One kill: a fresh pair, the master holding the lines, `kill -9`, then the time until a new
/// call on the slave is ACTIVE.
fn one(dir: &Path, fos: u16) -> anyhow::Result<Duration> {
    let (hm, hs, pm, ps) = (udp_port()?, udp_port()?, tcp_port()?, tcp_port()?);
    let mut master = node(dir, "master", "master", pm, (hm, hs), ps, fos)?;
    let _slave = node(dir, "slave", "slave", ps, (hs, hm), pm, fos)?;
    let (ma, sa): (SocketAddr, SocketAddr) = (([127, 0, 0, 1], pm).into(), ([127, 0, 0, 1], ps).into());
    let t = Duration::from_secs(15);
    wait(ma, "the master holding the lines", t, holds)?;
    wait(sa, "the slave hearing the master", t, |s| s["ha"]["peer"]["alive"] == true)?;
    master.0.kill()?;
    let killed = Instant::now();
    master.0.wait()?;
    wait(sa, "the slave holding the lines", t, holds)?;
    let placed = http(sa, "POST", "/api/v1/spans/1/calls", r#"{"called":"1234","calling":"5678"}"#)?;
    let id = serde_json::from_str::<Value>(&placed)?["id"].as_u64().with_context(|| format!("no call id: {placed}"))?;
    wait(sa, "the call ACTIVE", t, |s| {
        s["spans"][0]["isdn"]["calls"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["id"] == id && c["state"] == "ACTIVE"))
    })?;
    Ok(killed.elapsed())
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    // Nearest rank: small sample counts, no interpolation to invent values.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

pub fn ha(kills: usize) -> anyhow::Result<Vec<Measure>> {
    if kills < 5 {
        bail!("--kills must be at least 5");
    }
    run(Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())).args([
        "build",
        "--release",
        "-p",
        "gateway-daemon",
    ]))?;
    let dir: PathBuf = std::env::temp_dir().join(format!("spangate-bench-ha-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut fos = Killed(
        Command::new(root().join("target/release/berofos-sim"))
            .args(["--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--log-level", "warn"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("start berofos-sim")?,
    );
    let mut line = String::new();
    BufReader::new(fos.0.stdout.take().context("berofos-sim stdout")?).read_line(&mut line)?;
    let fos_http: u16 = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http="))
        .and_then(|a| a.rsplit(':').next()?.parse().ok())
        .with_context(|| format!("berofos-sim said {line:?}"))?;
    let mut secs = Vec::with_capacity(kills);
    for i in 0..kills {
        let d = one(&dir, fos_http).with_context(|| format!("kill {}", i + 1))?;
        eprintln!("kill {}/{kills}: call ACTIVE on the slave {:.2} s after kill -9", i + 1, d.as_secs_f64());
        secs.push(d.as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&dir);
    secs.sort_by(f64::total_cmp);
    Ok(vec![
        Measure::ours("ha.failover_to_call.median", "s", quantile(&secs, 0.5), "<= 3 s (issue #7)"),
        Measure::ours("ha.failover_to_call.p95", "s", quantile(&secs, 0.95), "<= 5 s (issue #7)"),
    ])
}
