//! `/etc/bnfos.conf`, read as bnfos reads it and written as `bnfos --scan -x` writes it
//! (reference/berofos.md §4): `[name]` sections with `mac`, `host` and `login` keys in column 0.
//! Every section is kept, so one file describes several berofos (four lines each).
//!
//! spangate also reads two keys bnfos would refuse, for devices on other ports (the simulator
//! in tests): `port = N` (HTTP) and `udp_port = N` (GBL4). They are written only when not the
//! defaults, so files for real devices stay readable by bnfos.

use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;

use super::http::Credentials;
use super::udp::{self, DeviceInfo, Mac};

/// One `[section]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    pub name: String,
    /// The line of the `[name]` header (1-based).
    pub line: usize,
    pub mac: Option<Mac>,
    /// A numeric IPv4 address: bnfos never resolves names (P3).
    pub host: Option<Ipv4Addr>,
    pub login: Option<Credentials>,
    pub http_port: Option<u16>,
    pub udp_port: Option<u16>,
}

impl Section {
    /// Where HTTP goes.
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.host.map(|h| (h, self.http_port.unwrap_or(80)).into())
    }

    /// Where GBL4 goes: the host, or broadcast without one.
    pub fn udp_addr(&self) -> std::net::SocketAddr {
        (self.host.unwrap_or(Ipv4Addr::BROADCAST), self.udp_port.unwrap_or(udp::PORT)).into()
    }
}

/// A problem at a line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BnfosConf {
    pub sections: Vec<Section>,
}

impl BnfosConf {
    /// Reads every section and returns every problem: bnfos's syntax errors (an indented or
    /// unknown key, a line before the first section, a MAC that is not 17 characters, a host
    /// that is not a dotted IPv4 address) and sections with neither `mac` nor `host`.
    pub fn parse(text: &str) -> Result<BnfosConf, Vec<Diag>> {
        let mut sections: Vec<Section> = Vec::new();
        let mut diags = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let l = raw.strip_suffix('\r').unwrap_or(raw);
            let mut err = |m: String| diags.push(Diag { line, message: m });
            // bnfos skips comments, lines that start with a TAB, and empty lines; anything else
            // that does not start in column 0 with a known key is a syntax error.
            if l.is_empty() || l.starts_with(['#', ';', '\t']) {
                continue;
            }
            if let Some(rest) = l.strip_prefix('[') {
                match rest.split_once(']') {
                    Some((name, _)) if !name.trim().is_empty() => {
                        sections.push(Section { name: name.trim().to_owned(), line, ..Section::default() })
                    }
                    _ => err(format!("bad section header {l:?}")),
                }
                continue;
            }
            let key_end = l.find([' ', '\t', '=']).unwrap_or(l.len());
            let (key, rest) = l.split_at(key_end);
            let value = rest.trim_start_matches([' ', '\t', '=']).trim_end();
            let Some(section) = sections.last_mut() else {
                err(format!("{key:?} before any [section]"));
                continue;
            };
            match key {
                "mac" => match value.parse::<Mac>() {
                    Ok(m) => section.mac = Some(m),
                    Err(e) => err(format!("mac: {e}")),
                },
                "host" => match value.parse::<Ipv4Addr>() {
                    Ok(h) => section.host = Some(h),
                    Err(_) => err(format!("host: {value:?} is not a dotted IPv4 address (names are not resolved)")),
                },
                "login" => match Credentials::parse(value) {
                    Some(c) => section.login = Some(c),
                    None => err(format!("login: {value:?} is not user:password")),
                },
                "port" | "udp_port" => match value.parse::<u16>() {
                    Ok(p) if p > 0 => {
                        if key == "port" {
                            section.http_port = Some(p);
                        } else {
                            section.udp_port = Some(p);
                        }
                    }
                    _ => err(format!("{key}: {value:?} is not a port number")),
                },
                _ => err(format!("syntax error: unknown key {key:?} (keys start in column 0)")),
            }
        }
        for s in &sections {
            if s.mac.is_none() && s.host.is_none() {
                diags.push(Diag { line: s.line, message: format!("[{}] needs mac or host", s.name) });
            }
        }
        if diags.is_empty() {
            Ok(BnfosConf { sections })
        } else {
            Err(diags)
        }
    }

    /// The section called `name`, case-insensitively, as `bnfos -f`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// What `bnfos --scan -x` writes for the devices found: `[fos1]`, `[fos2]`... (Wazo's
    /// naming rule), `;host` when the device has no address yet, and a commented login.
    pub fn from_scan(devices: &[DeviceInfo]) -> BnfosConf {
        let sections = devices
            .iter()
            .enumerate()
            .map(|(i, d)| Section {
                name: format!("fos{}", i + 1),
                line: 0,
                mac: Some(d.mac),
                host: (!d.ip.is_unspecified()).then_some(d.ip),
                login: None,
                http_port: (d.http_port != 80 && d.http_port != 0).then_some(d.http_port),
                udp_port: None,
            })
            .collect();
        BnfosConf { sections }
    }

    /// The file text; `parse(write(x)) == x` except for header line numbers.
    pub fn write(&self) -> String {
        let mut out = String::from("# berofos devices (bnfos.conf), written by spangate berofos scan\n");
        for s in &self.sections {
            let _ = writeln!(out, "\n[{}]", s.name);
            if let Some(m) = s.mac {
                let _ = writeln!(out, "mac = {m}");
            }
            match s.host {
                Some(h) => {
                    let _ = writeln!(out, "host = {h}");
                }
                None => out.push_str(";host = 0.0.0.0\n"),
            }
            match &s.login {
                Some(c) => {
                    let _ = writeln!(out, "login = {}:{}", c.user, c.password);
                }
                None => out.push_str("#login = admin:password\n"),
            }
            if let Some(p) = s.http_port {
                let _ = writeln!(out, "port = {p}");
            }
            if let Some(p) = s.udp_port {
                let _ = writeln!(out, "udp_port = {p}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_wazo_layout_with_two_devices() {
        let text = "# two berofos for eight lines\n[fos1]\nmac = 00:50:C2:00:00:01\nhost = 10.0.0.5\n\
                    login = admin:secret\n;host = 1.2.3.4\n\tindented comment\n\n[FOS2]\nmac\t00:50:c2:00:00:02\n";
        let c = BnfosConf::parse(text).unwrap();
        assert_eq!(c.sections.len(), 2);
        let s1 = c.section("FOS1").unwrap();
        assert_eq!(s1.host, Some(Ipv4Addr::new(10, 0, 0, 5)));
        assert_eq!(s1.login, Some(Credentials { user: "admin".into(), password: "secret".into() }));
        assert_eq!(s1.http_addr(), Some(([10, 0, 0, 5], 80).into()));
        let s2 = c.section("fos2").unwrap();
        assert_eq!(s2.mac, Some(Mac([0, 0x50, 0xC2, 0, 0, 2])));
        assert_eq!(s2.udp_addr(), ([255, 255, 255, 255], 50123).into(), "no host: GBL4 broadcasts");
        assert_eq!(BnfosConf::parse(&c.write()).unwrap().sections.len(), 2);
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        let text = "mac = 00:50:C2:00:00:01\n[a]\n host = 1.2.3.4\nhost = berofos.lan\nmac = 0:50:C2:00:00:01\n\
                    colour = red\n[b]\n";
        let diags = BnfosConf::parse(text).unwrap_err();
        let lines: Vec<usize> = diags.iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![1, 3, 4, 5, 6, 2, 7], "{diags:?}");
    }

    #[test]
    fn scan_output_round_trips() {
        let info = |last, ip: [u8; 4], port| DeviceInfo {
            mac: Mac([0, 0x50, 0xC2, 0, 0, last]),
            hwmagic: udp::HWMAGIC_BEROFOS,
            bootloader: (1, 0),
            firmware: (1, 53),
            devmode: 0,
            ip: ip.into(),
            netmask: [255, 255, 255, 0].into(),
            gateway: [0, 0, 0, 0].into(),
            phy_conf: 3,
            phy_state: 7,
            options: 0,
            http_port: port,
        };
        let conf = BnfosConf::from_scan(&[info(1, [192, 168, 0, 2], 80), info(2, [0, 0, 0, 0], 8080)]);
        let text = conf.write();
        assert!(
            text.contains("[fos1]\nmac = 00:50:C2:00:00:01\nhost = 192.168.0.2\n#login = admin:password\n"),
            "{text}"
        );
        assert!(text.contains("[fos2]\nmac = 00:50:C2:00:00:02\n;host = 0.0.0.0\n"), "{text}");
        let back = BnfosConf::parse(&text).unwrap();
        assert_eq!(
            back.sections.iter().map(|s| (s.mac, s.host, s.http_port)).collect::<Vec<_>>(),
            conf.sections.iter().map(|s| (s.mac, s.host, s.http_port)).collect::<Vec<_>>()
        );
    }
}
