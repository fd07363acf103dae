//! `berofos-sim`: a simulated beroNet berofos failover switch for tests and demos (HTTP on a
//! TCP port, GBL4 on a UDP port). The device itself is `gateway_daemon::berofos::sim`.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use gateway_daemon::berofos::sim::{self, AuthScheme, Device, SimConfig};
use gateway_daemon::logging;
use log::LevelFilter;

const USAGE: &str = "\
berofos-sim — a simulated berofos failover switch

USAGE:
    berofos-sim [OPTIONS]

OPTIONS:
    --http [ADDR:]PORT       HTTP listen address (default 127.0.0.1:8088; port 0 = any free one)
    --udp [ADDR:]PORT        GBL4 listen address (default 0.0.0.0:50123; port 0 = any free one)
    --mac MAC                device MAC (default 00:50:C2:6B:00:01)
    --ip ADDR                address reported by a scan (default: the HTTP address, or 192.168.0.2)
    --scenario fallback|bypass
    --modedef 0|1            relay mode at power-up (default 1)
    --wdog                   watchdog on at power-up (wdogdef=1)
    --wdog-interval SECONDS  watchdog interval (default 60)
    --auth none|basic|digest password protection (pwd) and its scheme (default none)
    --password PASSWORD      admin password (default admin; user is admin)
    --old-firmware           firmware 1.3.3's group-write side effect
    --power-off              start with the power off (relays A-D; GET /sim/power?on=1 to switch on)
    --cables DIR             relay span cables too: SOCK_SEQPACKET ports DIR/A.sock .. DIR/D.sock
                             (spans plug in with line = \"connect:DIR/B.sock\")
    --log-level LEVEL        error | warn | info | debug | trace (default info)

The first line on stdout is `berofos-sim http=ADDR udp=ADDR mac=MAC` with the bound addresses.
Simulator-only hooks: GET /sim/state, GET /sim/power?on=0|1.
";

fn addr(v: &str, default_ip: Ipv4Addr) -> anyhow::Result<SocketAddr> {
    if let Ok(port) = v.parse::<u16>() {
        return Ok((default_ip, port).into());
    }
    v.parse().with_context(|| format!("{v:?} is not PORT or ADDR:PORT"))
}

fn run() -> anyhow::Result<ExitCode> {
    let mut cfg = SimConfig::default();
    let mut http: SocketAddr = ([127, 0, 0, 1], 8088).into();
    let mut udp: SocketAddr = ([0, 0, 0, 0], 50123).into();
    let mut ip = None;
    let mut cables: Option<std::path::PathBuf> = None;
    let mut level = LevelFilter::Info;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            "--http" => http = addr(&value()?, Ipv4Addr::LOCALHOST)?,
            "--udp" => udp = addr(&value()?, Ipv4Addr::UNSPECIFIED)?,
            "--mac" => cfg.mac = value()?.parse().map_err(anyhow::Error::msg)?,
            "--ip" => ip = Some(value()?.parse::<Ipv4Addr>().context("--ip")?),
            "--scenario" => {
                cfg.scenario = match value()?.as_str() {
                    "fallback" | "0" => 0,
                    "bypass" | "1" => 1,
                    v => bail!("--scenario {v:?}: fallback or bypass"),
                }
            }
            "--modedef" => {
                cfg.modedef = match value()?.as_str() {
                    "0" => 0,
                    "1" => 1,
                    v => bail!("--modedef {v:?}: 0 or 1"),
                }
            }
            "--wdog" => cfg.wdogdef = true,
            "--wdog-interval" => {
                cfg.wintv = value()?.parse().ok().filter(|&s| s > 0).context("--wdog-interval: 1 to 65535 seconds")?
            }
            "--auth" => {
                let v = value()?;
                cfg.pwd = v != "none";
                cfg.auth = match v.as_str() {
                    "none" | "basic" => AuthScheme::Basic,
                    "digest" => AuthScheme::Digest,
                    _ => bail!("--auth {v:?}: none, basic or digest"),
                };
            }
            "--password" => cfg.password = value()?,
            "--old-firmware" => cfg.old_firmware = true,
            "--power-off" => cfg.powered = false,
            "--cables" => cables = Some(value()?.into()),
            "--log-level" => {
                let v = value()?;
                level = logging::parse_level(&v).with_context(|| format!("unknown log level {v:?}"))?;
            }
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    logging::init(level);
    let listener = TcpListener::bind(http).with_context(|| format!("bind HTTP {http}"))?;
    let socket = UdpSocket::bind(udp).with_context(|| format!("bind UDP {udp}"))?;
    let http = listener.local_addr()?;
    let udp = socket.local_addr()?;
    cfg.http_port = http.port();
    cfg.ip = ip.unwrap_or(match http.ip() {
        std::net::IpAddr::V4(v4) if !v4.is_unspecified() => v4,
        _ => Ipv4Addr::new(192, 168, 0, 2),
    });
    let mac = cfg.mac;
    let device = Device::new(cfg, Instant::now());
    let mut out = std::io::stdout();
    writeln!(out, "berofos-sim http={http} udp={udp} mac={mac}")?;
    out.flush()?;
    sim::serve(device, listener, socket, cables.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    run().unwrap_or_else(|e| {
        eprintln!("berofos-sim: {e:#}");
        ExitCode::from(2)
    })
}
