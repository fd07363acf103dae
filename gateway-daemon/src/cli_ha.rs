//! `spangate ha ...`: HA commands against a running daemon's HTTP API (`status`, `switchover`).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};

pub const USAGE: &str = "\
spangate ha — high availability of a running spangate

USAGE:
    spangate ha status [--url URL]       the node's HA state as JSON (GET /api/v1/ha)
    spangate ha switchover [--url URL]   hand the lines over: the active node yields them, a
                                         standby node takes them (POST /api/v1/ha/switchover)

OPTIONS:
    --url URL    the daemon's API, http://IP:PORT (default http://127.0.0.1:8080)
";

const TIMEOUT: Duration = Duration::from_secs(5);

/// One HTTP/1.0 request; the status code and body.
fn request(addr: SocketAddr, method: &str, path: &str) -> anyhow::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).with_context(|| format!("connect to {addr}"))?;
    s.set_read_timeout(Some(TIMEOUT))?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut resp = Vec::new();
    s.take(1 << 20).read_to_end(&mut resp).context("read the answer")?;
    let text = String::from_utf8_lossy(&resp);
    let (head, body) = text.split_once("\r\n\r\n").context("the answer is not HTTP")?;
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).context("no HTTP status")?;
    Ok((status, body.to_string()))
}

pub fn main(args: &[String]) -> anyhow::Result<ExitCode> {
    let mut url = "http://127.0.0.1:8080".to_string();
    let mut cmd = None;
    let mut it = args.iter().cloned();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            "--url" => url = it.next().context("--url needs a value")?,
            "status" | "switchover" if cmd.is_none() => cmd = Some(a),
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    let addr = provisioning::http_url_addr(&url).with_context(|| format!("--url {url:?}: expected http://IP:PORT"))?;
    let (status, body) = match cmd.as_deref() {
        Some("status") => request(addr, "GET", "/api/v1/ha")?,
        Some("switchover") => request(addr, "POST", "/api/v1/ha/switchover")?,
        _ => bail!("which command?\n\n{USAGE}"),
    };
    if status == 200 {
        println!("{body}");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("spangate ha: HTTP {status}: {body}");
        Ok(ExitCode::from(1))
    }
}
