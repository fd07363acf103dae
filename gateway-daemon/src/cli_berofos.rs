//! `spangate berofos ...`: the bnfos / xivo-berofos commands over `gateway_daemon::berofos`
//! (scan, get, set, mode, kick, ping, netconf), for one device (`--host`) or every section of
//! a bnfos.conf. Output goes to stdout and errors to stderr (bnfos mixed them up, P2).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use gateway_daemon::berofos::conf::{BnfosConf, Section};
use gateway_daemon::berofos::http::{self, Credentials, Role};
use gateway_daemon::berofos::udp::{self, Mac, Netconf};
use gateway_daemon::berofos::vars;

pub const USAGE: &str = "\
spangate berofos — control beroNet berofos failover switches (what bnfos and xivo-berofos did)

USAGE:
    spangate berofos scan [--write-conf FILE]      find devices (broadcast, or --host)
    spangate berofos get [KEY]                     print one variable, or all of them
    spangate berofos set KEY=VALUE                 write a variable (whole cmd group, read back)
    spangate berofos mode master|slave             master = mode 1 (A-B), slave = mode 0 (A-D)
    spangate berofos kick                          kick the watchdog (UDP)
    spangate berofos ping                          ping the device (UDP)
    spangate berofos reset                         reboot the device (UDP)
    spangate berofos netconf --ip ADDR [--netmask M] [--gateway G] [--dhcp 0|1] [--auth 0|1]
                             [--http-port N]       network settings (applied after a reboot)

TARGET (without --host: every section of --conf, default /etc/bnfos.conf; with only --mac, UDP
commands are broadcast):
    --host IP[:PORT]        one device by address (HTTP port default 80)
    --udp-port PORT         its GBL4 port (default 50123)
    --mac MAC               its MAC (UDP commands; learnt by a scan of --host when missing)
    --conf FILE             bnfos.conf to read the devices from
    -f, --section NAME      only this section of the file
    --user USER --password PASSWORD, or --login USER:PASSWORD
    --timeout SECONDS       per answer (default 3)
    --retries N             HTTP attempts after a network error (default 2)
    --no-group-write        write only the one variable (new firmware)

VARIABLES: ";

struct Opts {
    host: Option<SocketAddr>,
    udp_port: Option<u16>,
    mac: Option<Mac>,
    conf: Option<PathBuf>,
    section: Option<String>,
    user: Option<String>,
    password: Option<String>,
    timeout: Duration,
    retries: u32,
    group_write: bool,
    write_conf: Option<PathBuf>,
    netconf: Vec<(String, String)>,
    positional: Vec<String>,
}

fn parse(args: &[String]) -> anyhow::Result<Option<Opts>> {
    let mut o = Opts {
        host: None,
        udp_port: None,
        mac: None,
        conf: None,
        section: None,
        user: None,
        password: None,
        timeout: udp::DEFAULT_TIMEOUT,
        retries: http::DEFAULT_RETRIES,
        group_write: true,
        write_conf: None,
        netconf: Vec::new(),
        positional: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => {
                print_usage();
                return Ok(None);
            }
            "--host" | "-H" => {
                let v = value()?;
                o.host = Some(match v.parse::<Ipv4Addr>() {
                    Ok(ip) => (ip, 80).into(),
                    Err(_) => v.parse().with_context(|| format!("--host {v:?}: a numeric IPv4 address[:port]"))?,
                });
            }
            "--udp-port" => o.udp_port = Some(value()?.parse().context("--udp-port")?),
            "--mac" | "-m" => o.mac = Some(value()?.parse().map_err(anyhow::Error::msg)?),
            "--conf" => o.conf = Some(PathBuf::from(value()?)),
            "-f" | "--section" => o.section = Some(value()?),
            "--user" | "-u" => o.user = Some(value()?),
            "--password" => o.password = Some(value()?),
            "--login" => {
                let v = value()?;
                let c = Credentials::parse(&v).context("--login: USER:PASSWORD")?;
                (o.user, o.password) = (Some(c.user), Some(c.password));
            }
            "--timeout" | "-t" => {
                let v: f64 = value()?.parse().context("--timeout: seconds")?;
                o.timeout = Duration::try_from_secs_f64(v).ok().filter(|d| !d.is_zero()).context("--timeout: > 0")?;
            }
            "--retries" => o.retries = value()?.parse().context("--retries")?,
            "--no-group-write" => o.group_write = false,
            "--write-conf" | "-x" => o.write_conf = Some(PathBuf::from(value()?)),
            "--ip" | "--netmask" | "--gateway" | "--dhcp" | "--auth" | "--http-port" => {
                let v = value()?;
                o.netconf.push((arg.trim_start_matches('-').to_owned(), v));
            }
            s if s.starts_with('-') => bail!("unknown option {s:?} (spangate berofos --help)"),
            s => o.positional.push(s.to_owned()),
        }
    }
    Ok(Some(o))
}

fn print_usage() {
    print!("{USAGE}");
    let keys: Vec<&str> = vars::VARS.iter().map(|v| v.key).collect();
    println!("{}", keys.join(", "));
}

impl Opts {
    /// The devices to talk to: `--host`, or the sections of the bnfos.conf.
    fn targets(&self) -> anyhow::Result<Vec<Section>> {
        let login = match (&self.user, &self.password) {
            (Some(u), p) => Some(Credentials { user: u.clone(), password: p.clone().unwrap_or_default() }),
            (None, Some(p)) => Some(Credentials { user: "admin".into(), password: p.clone() }),
            (None, None) => None,
        };
        let mut sections = if let Some(host) = self.host {
            let SocketAddr::V4(v4) = host else { bail!("--host: IPv4 only") };
            vec![Section {
                name: host.to_string(),
                mac: self.mac,
                host: Some(*v4.ip()),
                http_port: Some(v4.port()),
                ..Section::default()
            }]
        } else if let (None, Some(mac)) = (&self.conf, self.mac) {
            // `bnfos --ping -m MAC` with no host: GBL4 to the broadcast address.
            vec![Section { name: mac.to_string(), mac: Some(mac), ..Section::default() }]
        } else {
            let path = self.conf.clone().unwrap_or_else(|| PathBuf::from("/etc/bnfos.conf"));
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("read {} (or give --host)", path.display()))?;
            let conf = BnfosConf::parse(&text).map_err(|diags| {
                let lines: Vec<String> = diags.iter().map(|d| format!("{}:{d}", path.display())).collect();
                anyhow::anyhow!("{}", lines.join("\n"))
            })?;
            match &self.section {
                Some(name) => {
                    vec![conf.section(name).cloned().with_context(|| format!("no [{name}] in {}", path.display()))?]
                }
                None if conf.sections.is_empty() => bail!("{}: no sections", path.display()),
                None => conf.sections,
            }
        };
        for s in &mut sections {
            if login.is_some() {
                s.login.clone_from(&login);
            }
            if self.udp_port.is_some() {
                s.udp_port = self.udp_port;
            }
            if self.mac.is_some() {
                s.mac = self.mac;
            }
        }
        Ok(sections)
    }

    fn http(&self, s: &Section) -> anyhow::Result<http::Client> {
        let addr = s.http_addr().with_context(|| format!("[{}] has no host: HTTP needs one", s.name))?;
        Ok(http::Client::new(addr)
            .with_credentials(s.login.clone())
            .with_timeout(self.timeout)
            .with_retries(self.retries)
            .with_whole_group(self.group_write))
    }

    /// The section's MAC, or the one a unicast scan of its host reports.
    fn mac(&self, s: &Section, client: &udp::Client) -> anyhow::Result<Mac> {
        if let Some(m) = s.mac {
            return Ok(m);
        }
        if s.host.is_none() {
            bail!("[{}] has neither mac nor host", s.name);
        }
        let found = client.scan(Some(1))?;
        found.first().map(|(i, _)| i.mac).with_context(|| format!("[{}]: no scan reply, give --mac", s.name))
    }
}

/// Runs `spangate berofos ARGS...`: exit 0 when every device did what was asked, 1 otherwise.
pub fn main(args: &[String]) -> anyhow::Result<ExitCode> {
    let Some(o) = parse(args)? else { return Ok(ExitCode::SUCCESS) };
    let Some((command, rest)) = o.positional.split_first() else {
        print_usage();
        bail!("spangate berofos needs a command");
    };
    if command == "scan" {
        return scan(&o);
    }
    let targets = o.targets()?;
    let many = targets.len() > 1;
    let mut failed = 0;
    for s in &targets {
        let prefix = if many { format!("[{}] ", s.name) } else { String::new() };
        if let Err(e) = one(&o, command, rest, s, &prefix) {
            failed += 1;
            eprintln!("{prefix}error: {e:#}");
        }
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn one(o: &Opts, command: &str, rest: &[String], s: &Section, prefix: &str) -> anyhow::Result<()> {
    let udp_client = || udp::Client::new(s.udp_addr(), o.timeout);
    match (command, rest) {
        ("get", []) => {
            for (k, v) in o.http(s)?.read_config()?.known() {
                println!("{prefix}{k} = {v}");
            }
        }
        ("get", [key]) => println!("{prefix}{key} = {}", o.http(s)?.get(key)?),
        ("set", [kv]) => {
            let (k, v) = kv.split_once('=').context("set KEY=VALUE")?;
            o.http(s)?.set_checked(k.trim(), v.trim())?;
            println!("{prefix}{} = {}: ok", k.trim(), v.trim());
        }
        ("mode", [role]) => {
            let role = match role.as_str() {
                "master" => Role::Master,
                "slave" => Role::Slave,
                other => bail!("mode {other:?}: master or slave"),
            };
            o.http(s)?.set_role(role)?;
            let links = if role == Role::Master { "A-B" } else { "A-D" };
            println!("{prefix}mode = {} ({links}): ok", role.mode());
        }
        ("kick", []) => {
            let c = udp_client()?;
            let mac = o.mac(s, &c)?;
            c.kick(mac)?;
            println!("{prefix}kicked {mac}");
        }
        ("ping", []) => {
            let c = udp_client()?;
            let mac = o.mac(s, &c)?;
            c.ping(mac)?;
            println!("{prefix}{mac} is alive");
        }
        ("reset", []) => {
            let c = udp_client()?;
            let mac = o.mac(s, &c)?;
            c.reset(mac)?;
            println!("{prefix}{mac} reboots");
        }
        ("netconf", []) => {
            let c = udp_client()?;
            let mac = o.mac(s, &c)?;
            let n = netconf(mac, &o.netconf)?;
            c.set_netconf(n)?;
            println!("{prefix}netconf sent to {mac}; the device applies it after a reboot");
        }
        (c, r) => bail!("unknown command or arguments: {c} {} (spangate berofos --help)", r.join(" ")),
    }
    Ok(())
}

/// The netconf options with bnfos's defaults: gateway 0.0.0.0, port 80, phy auto, netmask by
/// address class, DHCP on unless `--dhcp 0`, HTTP auth off unless `--auth 1`.
fn netconf(mac: Mac, opts: &[(String, String)]) -> anyhow::Result<Netconf> {
    let get = |k: &str| opts.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let ip: Ipv4Addr = get("ip").unwrap_or("0.0.0.0").parse().context("--ip")?;
    let class_mask = match ip.octets()[0] {
        0..=127 => [255, 0, 0, 0],
        128..=191 => [255, 255, 0, 0],
        _ => [255, 255, 255, 0],
    };
    let netmask = match get("netmask") {
        Some(m) => m.parse().context("--netmask")?,
        None => Ipv4Addr::from(class_mask),
    };
    let flag = |k: &str, default: bool| {
        get(k).map_or(Ok(default), |v| vars::parse_bool(v).with_context(|| format!("--{k} 0|1")))
    };
    let mut options = 0;
    if flag("dhcp", true)? {
        options |= udp::OPT_DHCP;
    }
    if flag("auth", false)? {
        options |= udp::OPT_HTTP_AUTH;
    }
    Ok(Netconf {
        mac,
        ip,
        netmask,
        gateway: get("gateway").unwrap_or("0.0.0.0").parse().context("--gateway")?,
        phy_conf: udp::PHY_AUTO,
        options,
        http_port: get("http-port").unwrap_or("80").parse().context("--http-port")?,
    })
}

fn scan(o: &Opts) -> anyhow::Result<ExitCode> {
    let target: SocketAddr = match o.host {
        Some(SocketAddr::V4(h)) => (*h.ip(), o.udp_port.unwrap_or(udp::PORT)).into(),
        Some(_) => bail!("--host: IPv4 only"),
        None => (Ipv4Addr::BROADCAST, o.udp_port.unwrap_or(udp::PORT)).into(),
    };
    let client = udp::Client::new(target, o.timeout)?;
    // A unicast scan has one device to wait for; a broadcast one waits out the timeout.
    let found = client.scan(o.host.map(|_| 1))?;
    for (i, (info, from)) in found.iter().enumerate() {
        println!(
            "fos{} mac={} ip={} netmask={} gateway={} http_port={} firmware={}.{} {} dhcp={} auth={} (answered from {from})",
            i + 1,
            info.mac,
            info.ip,
            info.netmask,
            info.gateway,
            info.http_port,
            info.firmware.0,
            info.firmware.1,
            if info.devmode == 0 { "operational" } else { "flash-mode" },
            u8::from(info.options & udp::OPT_DHCP != 0),
            u8::from(info.options & udp::OPT_HTTP_AUTH != 0),
        );
    }
    if let Some(path) = &o.write_conf {
        let infos: Vec<_> = found.iter().map(|(i, _)| *i).collect();
        let mut conf = BnfosConf::from_scan(&infos);
        if let Some(p) = o.udp_port.filter(|&p| p != udp::PORT) {
            for s in &mut conf.sections {
                s.udp_port = Some(p);
            }
        }
        std::fs::write(path, conf.write()).with_context(|| format!("write {}", path.display()))?;
        println!("wrote {} ({} device(s))", path.display(), found.len());
    }
    if found.is_empty() {
        eprintln!("no berofos answered");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
