//! The berofos configuration variables (the CLI keys of `bnfos --set/--get`, the HTTP `cmd`
//! group and parameter that writes each, the `config.txt` key that reads it) and the `config.txt`
//! reader with its magic-line check (reference/berofos.md §1.1, §3). Pure functions, no I/O.

use std::fmt;
use std::net::Ipv4Addr;

/// The line `config.txt` must contain before any value is believed.
pub const MAGIC_KEY: &str = "bnfos_confmap_magic";
/// The magic value this client was written for; another one only warns.
pub const MAGIC_VALUE: &str = "0.1";

/// What values a variable takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// yes/y/true/1 or no/n/false/0 on the command line; `1`/`checked` in config.txt.
    Bool,
    /// 0 or 1 (scenario, relay mode).
    Choice,
    /// 1–65535: ports and the watchdog interval.
    Port,
    Ipv4,
    /// Free text of at most this many bytes.
    Text(usize),
    /// Shown by the device, never written.
    ReadOnly,
    /// Known to bnfos, refused by it for every value (`smtptest`).
    Refused,
}

/// One variable of the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Var {
    /// The `bnfos --set`/`--get` key.
    pub key: &'static str,
    /// The `cmd=N` group its HTTP write belongs to.
    pub cmd: Option<u8>,
    /// The HTTP parameter that carries the value.
    pub param: Option<&'static str>,
    /// Parameters sent along with it (the power port number of `cmd=5`).
    pub fixed: &'static [(&'static str, &'static str)],
    /// The `config.txt` key (`None` for write-only variables).
    pub conf: Option<&'static str>,
    pub kind: Kind,
    pub meaning: &'static str,
}

const fn var(
    key: &'static str,
    cmd: u8,
    param: &'static str,
    conf: &'static str,
    kind: Kind,
    meaning: &'static str,
) -> Var {
    Var { key, cmd: Some(cmd), param: Some(param), fixed: &[], conf: Some(conf), kind, meaning }
}

/// Every variable of reference/berofos.md §3, in its order.
pub const VARS: &[Var] = &[
    var("scenario", 1, "sz", "1_sz", Kind::Choice, "0 = fallback, 1 = bypass"),
    var("mode", 4, "mode", "4_mode", Kind::Choice, "relay mode now: 0 = A-D, 1 = A-B (+ C-D in bypass)"),
    var("modedef", 1, "rm", "1_rm", Kind::Choice, "relay mode at power-up"),
    Var {
        key: "power1",
        cmd: Some(5),
        param: Some("s"),
        fixed: &[("p", "0")],
        conf: Some("5_p0"),
        kind: Kind::Bool,
        meaning: "power port 1 state",
    },
    Var {
        key: "power2",
        cmd: Some(5),
        param: Some("s"),
        fixed: &[("p", "1")],
        conf: Some("5_p1"),
        kind: Kind::Bool,
        meaning: "power port 2 state",
    },
    var("power1def", 1, "p0", "1_p0", Kind::Bool, "power port 1 at power-up"),
    var("power2def", 1, "p1", "1_p1", Kind::Bool, "power port 2 at power-up"),
    var("hostname", 3, "dn", "3_dn", Kind::Text(63), "device hostname"),
    var("address", 3, "ip", "3_ip", Kind::Ipv4, "static IPv4 address"),
    var("netmask", 3, "nm", "3_nm", Kind::Ipv4, "static netmask"),
    var("gateway", 3, "gw", "3_gw", Kind::Ipv4, "static gateway"),
    var("dns", 3, "dns", "3_dns", Kind::Ipv4, "DNS server"),
    var("dhcp", 3, "dhcp", "3_dhcp", Kind::Bool, "DHCP client"),
    var("port", 3, "port", "3_port", Kind::Port, "HTTP port"),
    var("pwd", 3, "pwd", "3_pwd", Kind::Bool, "HTTP password protection"),
    Var {
        key: "apwd",
        cmd: Some(3),
        param: Some("apwd"),
        fixed: &[],
        conf: None,
        kind: Kind::Text(15),
        meaning: "admin password (write-only)",
    },
    var("smtpserv", 2, "mhost", "2_mhost", Kind::Text(63), "alarm mail server"),
    var("smtpfrom", 2, "mfrom", "2_mfrom", Kind::Text(63), "alarm mail sender"),
    var("smtpto", 2, "mto", "2_mto", Kind::Text(63), "alarm mail recipient"),
    Var {
        key: "smtptest",
        cmd: Some(7),
        param: None,
        fixed: &[],
        conf: None,
        kind: Kind::Refused,
        meaning: "test mail (bnfos refuses every value)",
    },
    var("syslog", 3, "syslog", "3_log", Kind::Bool, "remote syslog"),
    var("slgip", 3, "slgip", "3_loghost", Kind::Ipv4, "syslog host"),
    var("slgpt", 3, "slgpt", "3_logport", Kind::Port, "syslog port"),
    var("wdog", 6, "wen", "6_wen", Kind::Bool, "watchdog on/off now"),
    var("wdogdef", 2, "wen", "2_wen", Kind::Bool, "watchdog on/off at power-up"),
    Var {
        key: "wdogstate",
        cmd: None,
        param: None,
        fixed: &[],
        conf: Some("6_wstate"),
        kind: Kind::ReadOnly,
        meaning: "0 off, 1 armed, 2 failure (expired)",
    },
    var("wdogitime", 2, "wintv", "2_wintv", Kind::Port, "watchdog interval (s)"),
    var("wdogaudio", 2, "as", "2_as", Kind::Bool, "buzzer on watchdog failure"),
    var("wdogmail", 2, "men", "2_men", Kind::Bool, "mail on watchdog failure"),
    Var {
        key: "wdogrtime",
        cmd: None,
        param: None,
        fixed: &[],
        conf: Some("0_wretv"),
        kind: Kind::ReadOnly,
        meaning: "seconds left before the watchdog fails",
    },
];

/// The variable behind a CLI key (case-insensitive, as bnfos compares them).
pub fn lookup(key: &str) -> Option<&'static Var> {
    VARS.iter().find(|v| v.key.eq_ignore_ascii_case(key))
}

/// The variable behind a config.txt key.
pub fn by_conf_key(conf: &str) -> Option<&'static Var> {
    VARS.iter().find(|v| v.conf == Some(conf))
}

/// Why a value cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    UnknownKey(String),
    ReadOnly(&'static str),
    Refused(&'static str),
    Bad { key: &'static str, value: String, expected: &'static str },
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::UnknownKey(k) => write!(f, "unknown berofos variable {k:?}"),
            ValueError::ReadOnly(k) => write!(f, "{k} is read-only"),
            ValueError::Refused(k) => write!(f, "{k} cannot be set (bnfos refuses every value)"),
            ValueError::Bad { key, value, expected } => write!(f, "{key}={value:?}: expected {expected}"),
        }
    }
}

impl std::error::Error for ValueError {}

/// A command-line boolean: yes/y/true/1, no/n/false/0.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Some(true),
        "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// Checks a value for `var` and returns the form the device is sent.
pub fn normalize(var: &'static Var, value: &str) -> Result<String, ValueError> {
    let bad = |expected| ValueError::Bad { key: var.key, value: value.to_owned(), expected };
    match var.kind {
        Kind::Bool => parse_bool(value).map(|b| u8::from(b).to_string()).ok_or_else(|| bad("yes/no/true/false/1/0")),
        Kind::Choice => match value.trim() {
            v @ ("0" | "1") => Ok(v.to_owned()),
            _ => Err(bad("0 or 1")),
        },
        Kind::Port => match value.trim().parse::<u16>() {
            Ok(p) if p >= 1 => Ok(p.to_string()),
            _ => Err(bad("a number from 1 to 65535")),
        },
        Kind::Ipv4 => value.trim().parse::<Ipv4Addr>().map(|a| a.to_string()).map_err(|_| bad("an IPv4 address")),
        Kind::Text(max) if value.len() <= max && !value.contains(['\n', '\r']) => Ok(value.to_owned()),
        Kind::Text(_) => Err(bad("shorter text on one line")),
        Kind::ReadOnly => Err(ValueError::ReadOnly(var.key)),
        Kind::Refused => Err(ValueError::Refused(var.key)),
    }
}

/// A config.txt value as the user reads it: booleans become 0/1 (`checked` is 1, anything else
/// 0, as bnfos reads the HTML checkbox macro).
pub fn display_value(var: &Var, raw: &str) -> String {
    match var.kind {
        Kind::Bool => u8::from(matches!(raw.trim(), "1" | "checked")).to_string(),
        _ => raw.trim().to_owned(),
    }
}

/// `/config.txt` as read: every `key=value` after the magic line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigTxt {
    pub magic: String,
    pub entries: Vec<(String, String)>,
}

/// config.txt without the magic line: bnfos's "No valid configuration information found".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoMagic;

impl fmt::Display for NoMagic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no valid configuration information found (no {MAGIC_KEY} line in config.txt)")
    }
}

impl std::error::Error for NoMagic {}

impl ConfigTxt {
    /// Splits on LF, trims a CR, ignores everything before the magic line and lines without `=`.
    pub fn parse(text: &str) -> Result<ConfigTxt, NoMagic> {
        let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let magic = lines
            .by_ref()
            .find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == MAGIC_KEY).map(|(_, v)| v.trim().to_owned()))
            .ok_or(NoMagic)?;
        let entries = lines
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        Ok(ConfigTxt { magic, entries })
    }

    /// Whether the magic value is the one we know (another one is read anyway, with a warning).
    pub fn magic_known(&self) -> bool {
        self.magic == MAGIC_VALUE
    }

    /// The raw value of a config.txt key (the last one wins).
    pub fn raw(&self, conf_key: &str) -> Option<&str> {
        self.entries.iter().rev().find(|(k, _)| k == conf_key).map(|(_, v)| v.as_str())
    }

    /// The value of a variable as the user reads it.
    pub fn get(&self, var: &Var) -> Option<String> {
        var.conf.and_then(|c| self.raw(c)).map(|raw| display_value(var, raw))
    }

    /// Every known variable present, in table order, as `(key, value)`.
    pub fn known(&self) -> Vec<(&'static str, String)> {
        VARS.iter().filter_map(|v| self.get(v).map(|val| (v.key, val))).collect()
    }

    /// The parameters of one HTTP write of `var = value` that re-sends every other readable
    /// variable of the same `cmd` group with its current value: firmware 1.3.3 resets the
    /// group's other variables otherwise (P4). Only groups 1–3 hold several variables.
    pub fn group_write(&self, var: &'static Var, value: &str) -> Vec<(&'static str, String)> {
        let mut params: Vec<(&'static str, String)> = var.fixed.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        for other in VARS.iter().filter(|o| o.cmd == var.cmd && o.fixed.is_empty() && o.key != var.key) {
            if matches!(other.kind, Kind::ReadOnly | Kind::Refused) {
                continue;
            }
            if let (Some(param), Some(current)) = (other.param, self.get(other)) {
                params.push((param, current));
            }
        }
        if let Some(param) = var.param {
            params.push((param, value.to_owned()));
        }
        params
    }
}

/// Percent-encodes a query value (everything but unreserved characters), as curl_easy_escape.
pub fn url_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` and `+`; a bad escape is kept as written.
pub fn url_unescape(value: &str) -> String {
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The write URL path for `cmd` and its parameters: `/?cmd=N&p=v...`.
pub fn write_path(cmd: u8, params: &[(&str, String)]) -> String {
    let mut path = format!("/?cmd={cmd}");
    for (k, v) in params {
        path.push('&');
        path.push_str(k);
        path.push('=');
        path.push_str(&url_escape(v));
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "<html>junk before the magic\r\n1_sz=7\r\nbnfos_confmap_magic=0.1\r\n\
        1_sz=0\r\n4_mode=1\r\n1_rm=1\r\n6_wen=checked\r\n6_wstate=1\r\n2_wen=\r\n2_wintv=60\r\n\
        2_mail=x\r\n3_dn=fos\r\nnot a pair\r\n";

    #[test]
    fn config_txt_magic_and_values() {
        let c = ConfigTxt::parse(SAMPLE).unwrap();
        assert!(c.magic_known());
        assert_eq!(c.raw("1_sz"), Some("0"), "lines before the magic line are ignored");
        assert_eq!(c.get(lookup("wdog").unwrap()).as_deref(), Some("1"), "checked is 1");
        assert_eq!(c.get(lookup("wdogdef").unwrap()).as_deref(), Some("0"), "empty is 0");
        assert_eq!(c.get(lookup("mode").unwrap()).as_deref(), Some("1"));
        assert_eq!(c.get(lookup("hostname").unwrap()).as_deref(), Some("fos"));
        assert_eq!(c.raw("2_mail"), Some("x"), "unknown keys are kept, not an error");
        assert_eq!(ConfigTxt::parse("1_sz=0\n4_mode=1\n"), Err(NoMagic));
        assert!(!ConfigTxt::parse("bnfos_confmap_magic=0.2\n").unwrap().magic_known());
    }

    #[test]
    fn group_write_resends_the_whole_group() {
        let c = ConfigTxt::parse(SAMPLE).unwrap();
        let params = c.group_write(lookup("wdogitime").unwrap(), "30");
        assert_eq!(params, vec![("wen", "0".to_owned()), ("wintv", "30".to_owned())]);
        assert_eq!(write_path(2, &params), "/?cmd=2&wen=0&wintv=30");
        let p1 = c.group_write(lookup("power1").unwrap(), "1");
        assert_eq!(p1, vec![("p", "0".to_owned()), ("s", "1".to_owned())]);
    }

    #[test]
    fn values_are_checked() {
        let v = |k: &str, val: &str| normalize(lookup(k).unwrap(), val);
        assert_eq!(v("wdog", "yes").unwrap(), "1");
        assert_eq!(v("wdog", "N").unwrap(), "0");
        assert!(v("wdog", "maybe").is_err());
        assert_eq!(v("mode", "1").unwrap(), "1");
        assert!(v("mode", "2").is_err());
        assert!(v("port", "0").is_err());
        assert!(v("port", "65536").is_err());
        assert_eq!(v("wdogitime", "60").unwrap(), "60");
        assert!(v("apwd", "0123456789abcdef").is_err(), "apwd is at most 15 characters");
        assert_eq!(v("wdogstate", "1"), Err(ValueError::ReadOnly("wdogstate")));
        assert_eq!(v("smtptest", "1"), Err(ValueError::Refused("smtptest")));
        assert!(lookup("MODE").is_some());
    }

    #[test]
    fn url_escaping_round_trips() {
        for s in ["plain", "a b&c=d/%", "grüße", "%zz", "%4"] {
            if !s.starts_with('%') {
                assert_eq!(url_unescape(&url_escape(s)), s);
            }
        }
        assert_eq!(url_unescape("%zz"), "%zz");
        assert_eq!(url_unescape("%4"), "%4");
        assert_eq!(url_escape("a b"), "a%20b");
    }
}
