//! `cargo xtask bench sim`: the release daemon runs a simulated board of four E1 spans (124
//! channels, each span cabled to a simulated provider, so eight framers tick every millisecond) for
//! `--secs` seconds.
//!
//! We report the CPU it used (share of one core, from /proc/PID/stat), the media thread's tick
//! lateness (p50/p99/max, from its own histogram via /api/v1/status) and the idle daemon's resident
//! memory. There is no independent implementation of a simulated E1 board to run beside it, so the
//! JSON lines carry no `peer` fields.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::Measure;
use super::{clock_ticks_per_s, cpu_ticks, http_get, rss_kib};
use crate::{root, run};

const SIM4_CONFIG: &str = r#"
[board]
name = "bench 4xE1"
model = "sim-e1x4-bench"
backend = "sim"
description = "Four E1 spans to simulated providers, for cargo xtask bench sim"
"#;

fn sim4_config(port: u16) -> String {
    let mut c = SIM4_CONFIG.to_string();
    for n in 1..=4 {
        c.push_str(&format!(
            "\n[[board.span]]\nspan = {n}\nkind = \"e1\"\ntiming = {n}\ntermination = \"te\"\n\
             signalling = \"pri_cpe\"\nswitchtype = \"euroisdn\"\n[board.span.sim]\nline = \"provider\"\n"
        ));
    }
    c.push_str(&format!("\n[http]\nlisten = \"127.0.0.1:{port}\"\n[log]\nlevel = \"warn\"\n"));
    c
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

pub fn sim(secs: u64) -> anyhow::Result<Vec<Measure>> {
    run(Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())).args([
        "build",
        "--release",
        "-p",
        "gateway-daemon",
    ]))?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = std::env::temp_dir().join(format!("spangate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let cfg = dir.join("sim4.toml");
    std::fs::write(&cfg, sim4_config(port))?;
    let bin = root().join("target/release/spangate");
    let child = Command::new(&bin)
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("start {}", bin.display()))?;
    let child = Killed(child);
    let pid = child.0.id();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(body) = http_get(addr, "/api/v1/status") {
            let v: serde_json::Value = serde_json::from_str(&body)?;
            if v["spans"].as_array().is_some_and(|s| s.len() == 4 && s.iter().all(|s| s["up"] == true)) {
                break;
            }
        }
        if Instant::now() > deadline {
            bail!("the bench daemon did not bring its 4 spans up within 10 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let hz = clock_ticks_per_s();
    let t0 = Instant::now();
    let c0 = cpu_ticks(pid)?;
    eprintln!("bench sim: 4 E1 spans up; measuring for {secs} s");
    std::thread::sleep(Duration::from_secs(secs));
    let c1 = cpu_ticks(pid)?;
    let wall = t0.elapsed().as_secs_f64();
    let v: serde_json::Value = serde_json::from_str(&http_get(addr, "/api/v1/status")?)?;
    let rss = rss_kib(pid)?;
    #[allow(clippy::cast_precision_loss)]
    let cpu = (c1 - c0) as f64 / hz / wall * 100.0;
    let media = &v["media"];
    let f = |k: &str| media[k].as_f64().unwrap_or(f64::NAN);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(vec![
        Measure::ours("sim.cpu_one_core", "%", cpu, "< 5"),
        Measure::ours("sim.tick_lateness_p50", "us", f("lateness_p50_us"), ""),
        Measure::ours("sim.tick_lateness_p99", "us", f("lateness_p99_us"), "< 200"),
        Measure::ours("sim.tick_lateness_max", "us", f("lateness_max_us"), ""),
        Measure::ours("sim.late_ticks", "ticks", f("late_ticks"), ""),
        Measure::ours("sim.ticks", "ticks", f("ticks"), ""),
        #[allow(clippy::cast_precision_loss)]
        Measure::ours("sim.idle_rss", "MiB", rss as f64 / 1024.0, "< 20"),
    ])
}
