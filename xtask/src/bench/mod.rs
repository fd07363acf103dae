//! `cargo xtask bench NAME`: measurements printed as a table, or as one JSON object per line.
//!
//! Each benchmark is a module returning `Measure` rows: `sim` (the simulated board in the release
//! daemon), `dsp` (media-dsp's kernels against spandsp's, in the same run), `isdn` (our Q.921 +
//! Q.931 call cycles against libpri's, in the same run), `ring` (the media path's SPSC ring
//! against crossbeam's queue) and `calls` (the sustained SIP <-> TDM call rate with sipp as the
//! load generator). The JSON form is
//! the contract of DESIGN.md: `{"name","unit","ours","peer_name","peer","ratio"}`, the peer fields
//! present only where an independent implementation ran beside ours; `ratio` is ours / peer, and
//! every unit here is higher-is-better where a peer exists.

mod calls;
mod dsp;
mod ha;
mod isdn;
mod ring;
mod sim;

use anyhow::{bail, Context};

/// An independent implementation measured in the same run.
pub struct Peer {
    pub name: &'static str,
    pub value: f64,
}

/// One measurement.
pub struct Measure {
    pub name: &'static str,
    pub unit: &'static str,
    pub ours: f64,
    pub peer: Option<Peer>,
    /// What the acceptance criterion asks for, as text for the table.
    pub budget: &'static str,
}

impl Measure {
    pub fn ours(name: &'static str, unit: &'static str, ours: f64, budget: &'static str) -> Self {
        Measure { name, unit, ours, peer: None, budget }
    }

    pub fn versus(name: &'static str, unit: &'static str, ours: f64, peer: Peer, budget: &'static str) -> Self {
        Measure { name, unit, ours, peer: Some(peer), budget }
    }

    fn ratio(&self) -> Option<f64> {
        self.peer.as_ref().map(|p| self.ours / p.value)
    }

    /// The DESIGN.md line, keys in its order (serde_json's map would sort them); a NaN, such as
    /// a figure the daemon did not report, becomes `null`.
    fn json(&self) -> String {
        let num = |x: f64| serde_json::Value::from(x).to_string();
        let text = |s: &str| serde_json::Value::from(s).to_string();
        let mut line =
            format!("{{\"name\":{},\"unit\":{},\"ours\":{}", text(self.name), text(self.unit), num(self.ours));
        if let (Some(p), Some(r)) = (&self.peer, self.ratio()) {
            let ratio = (r * 1000.0).round() / 1000.0;
            line += &format!(",\"peer_name\":{},\"peer\":{},\"ratio\":{}", text(p.name), num(p.value), num(ratio));
        }
        line + "}"
    }
}

/// One request to a daemon's HTTP API, returning the body. HTTP/1.0, because a 1.1 answer may
/// come chunked (the status document is large) and these benches read the raw body.
fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> anyhow::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{body}", body.len())?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let (_, body) = resp.split_once("\r\n\r\n").context("HTTP response without a body")?;
    Ok(body.to_string())
}

/// `GET path` on a daemon's HTTP API.
fn http_get(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<String> {
    http(addr, "GET", path, "")
}

/// A process's CPU time so far (user + system) in clock ticks, from `/proc/PID/stat`.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').context("malformed /proc stat")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    Ok(f[11].parse::<u64>()? + f[12].parse::<u64>()?)
}

/// A process's resident memory in KiB, from `/proc/PID/status`.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).context("VmRSS value")?.parse()?)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot be asked).
fn clock_ticks_per_s() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn print_table(rows: &[Measure]) {
    println!("{:<26} {:>10} {:<10} {:>10} {:<8} {:>7} {:>8}", "measure", "ours", "unit", "peer", "", "ratio", "target");
    for r in rows {
        let (peer, peer_name) = match &r.peer {
            Some(p) => (format!("{:.2}", p.value), p.name),
            None => (String::new(), ""),
        };
        let ratio = r.ratio().map(|x| format!("{x:.2}")).unwrap_or_default();
        println!(
            "{:<26} {:>10.2} {:<10} {:>10} {:<8} {:>7} {:>8}",
            r.name, r.ours, r.unit, peer, peer_name, ratio, r.budget
        );
    }
}

/// The value after `flag`, parsed, or `default`.
fn flag_value<T: std::str::FromStr>(args: &[String], flag: &str, default: T) -> anyhow::Result<T> {
    match args.iter().position(|a| a == flag) {
        Some(i) => {
            let v = args.get(i + 1).with_context(|| format!("{flag} needs a value"))?;
            v.parse().map_err(|_| anyhow::anyhow!("{flag} must be a number, not {v:?}"))
        }
        None => Ok(default),
    }
}

/// `cargo xtask bench NAME... [--secs N] [--reps N] [--json]`.
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let json = args.iter().any(|a| a == "--json");
    let secs: u64 = flag_value(args, "--secs", 60)?;
    let reps: usize = flag_value(args, "--reps", 7)?;
    if reps < 5 {
        bail!("--reps must be at least 5 (medians of fewer runs on a shared machine mean little)");
    }
    let names: Vec<&str> = args.iter().map(String::as_str).filter(|a| !a.starts_with("--")).collect();
    let names: Vec<&str> = names.into_iter().filter(|a| a.parse::<u64>().is_err()).collect();
    let names = if names.is_empty() { vec!["sim"] } else { names };
    for name in names {
        let rows = match name {
            "sim" => sim::sim(secs)?,
            "dsp" => dsp::dsp(reps)?,
            "isdn" => isdn::isdn(reps)?,
            "ha" => ha::ha(flag_value(args, "--kills", 20)?)?,
            "ring" => ring::ring(reps)?,
            "calls" => calls::calls(
                flag_value(args, "--step-secs", 10)?,
                flag_value(args, "--hold-ms", 100)?,
                flag_value(args, "--max-rate", 1000)?,
            )?,
            other => bail!("unknown benchmark {other:?}; known: sim, dsp, isdn, ring, ha, calls"),
        };
        if json {
            for r in &rows {
                println!("{}", r.json());
            }
        } else {
            print_table(&rows);
        }
    }
    Ok(())
}
