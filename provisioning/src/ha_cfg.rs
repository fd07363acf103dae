//! The `[ha]` table: the high-availability role, heartbeat, second path and berofos switches,
//! read with positions so that every mistake is reported at its file:line:col.
//!
//! ```toml
//! [ha]
//! role = "master"                 # disabled | master | slave
//! node = "gw-a"                   # this node's name in logs and status (default: the role)
//! peer = "192.0.2.2:5405"         # the peer's heartbeat socket (required for master/slave)
//! listen = "0.0.0.0:5405"         # our heartbeat socket (port 0 picks a free one)
//! key = "long shared secret"      # HMAC-SHA256 key, at least 16 bytes; or:
//! # key_file = "/etc/spangate/ha.key"
//! interval_ms = 200               # heartbeat period, 10..=10000
//! misses = 5                      # heartbeats missed before the peer is lost, 1..=100
//! hold_secs = 10                  # master healthy this long before failback, 0..=3600
//! peer_http = "http://192.0.2.2:8080"  # the peer's API: the second path (optional)
//! watchdog = false                # kick the berofos watchdog while healthy (bypass scenario)
//!
//! [[ha.berofos]]                  # one per berofos (four lines each); none = no fencing
//!                                 # without `peer` and every berofos in bypass: one node before a PBX
//! address = "192.0.2.10:80"       # HTTP address and port
//! udp = "192.0.2.10:50123"        # GBL4 address (default: the HTTP host, port 50123)
//! user = "admin"                  # with password: HTTP authentication (optional)
//! password = "admin"
//! scenario = "fallback"           # fallback (two nodes) | bypass (one node before a PBX)
//! ```

use std::net::SocketAddr;

use crate::diag::Sink;
use crate::model::{Ha, HaBerofos, HaRole, HaScenario};
use crate::reader::{Got, Table};

pub(crate) const HA: &[&str] = &[
    "role",
    "node",
    "peer",
    "listen",
    "key",
    "key_file",
    "interval_ms",
    "misses",
    "hold_secs",
    "peer_http",
    "watchdog",
    "berofos",
];
const BEROFOS: &[&str] = &["address", "udp", "user", "password", "scenario"];
/// The GBL4 port of a berofos.
const GBL4_PORT: u16 = 50123;
/// A shorter HMAC key is guessable.
const MIN_KEY: usize = 16;

/// Reads `[ha]`, reporting every problem; defaults stand in for what is missing or wrong.
pub(crate) fn read_ha(sink: &mut Sink<'_>, t: &Table<'_>) -> Ha {
    let d = Ha::default();
    let roles: Vec<(&str, HaRole)> = HaRole::ALL.iter().map(|&r| (r.as_str(), r)).collect();
    let role = t.pick(sink, "role", &roles);
    let peer = t.socket_addr(sink, "peer", false);
    let key = t.string(sink, "key");
    let key_file = t.string(sink, "key_file");
    let active = matches!(role, Got::Ok(HaRole::Master | HaRole::Slave, _));
    if let Got::Ok(r @ (HaRole::Master | HaRole::Slave), _) = role {
        if peer.present() && !key.present() && !key_file.present() {
            t.error(sink, "role", format!("role {r} needs `key` or `key_file`: heartbeats are authenticated"));
        }
    }
    if key.present() && key_file.present() {
        t.error(sink, "key_file", "give `key` or `key_file`, not both");
    }
    if let Got::Ok(k, _) = &key {
        if k.len() < MIN_KEY {
            t.error(sink, "key", format!("the key has {} bytes: at least {MIN_KEY} are needed", k.len()));
        }
    }
    let peer_http = match t.string(sink, "peer_http") {
        Got::Ok(u, _) => match http_url_addr(&u) {
            Some(_) => Some(u),
            None => {
                t.error(sink, "peer_http", format!("`{u}` is not http://ADDRESS:PORT[/] (an IP address, no names)"));
                None
            }
        },
        _ => None,
    };
    let berofos: Vec<HaBerofos> = t
        .tables(sink, "berofos")
        .into_iter()
        .enumerate()
        .filter_map(|(i, (b, at))| {
            let b = Table::new(sink, b, format!("ha.berofos[{i}]"), at, BEROFOS);
            read_berofos(sink, &b)
        })
        .collect();
    // Without a peer, a node is the bypass scenario's single gateway in front of a PBX.
    let bypass = !berofos.is_empty() && berofos.iter().all(|b| b.scenario == HaScenario::Bypass);
    if let Got::Ok(r @ (HaRole::Master | HaRole::Slave), _) = role {
        if !peer.present() && !bypass {
            t.error(sink, "role", format!("role {r} needs `peer`, the other appliance's address:port"));
        }
    }
    let watchdog = t.boolean(sink, "watchdog").ok().unwrap_or(d.watchdog);
    if watchdog && berofos.is_empty() && active {
        t.error(sink, "watchdog", "the watchdog is the berofos': add an [[ha.berofos]]");
    }
    let node = t.string(sink, "node").ok().unwrap_or_default();
    if node.chars().any(|c| c.is_control()) {
        t.error(sink, "node", "the node name has control characters");
    }
    let role = role.ok().unwrap_or(d.role);
    Ha {
        role,
        node: if node.is_empty() { role.as_str().to_string() } else { node },
        peer: peer.ok(),
        listen: t.socket_addr(sink, "listen", true).ok().unwrap_or(d.listen),
        key: key.ok(),
        key_file: key_file.ok(),
        interval_ms: t.small(sink, "interval_ms", 10, 10_000).ok().unwrap_or(d.interval_ms),
        misses: t.small(sink, "misses", 1, 100).ok().unwrap_or(d.misses),
        hold_secs: t.small(sink, "hold_secs", 0, 3600).ok().unwrap_or(d.hold_secs),
        peer_http,
        watchdog,
        berofos,
    }
}

fn read_berofos(sink: &mut Sink<'_>, b: &Table<'_>) -> Option<HaBerofos> {
    b.require(sink, "address");
    let address = b.socket_addr(sink, "address", false).ok();
    let udp = b.socket_addr(sink, "udp", false).ok();
    let user = b.string(sink, "user").ok();
    let password = b.string(sink, "password").ok();
    if user.is_some() != password.is_some() {
        b.error(sink, if user.is_some() { "user" } else { "password" }, "give both `user` and `password`, or neither");
    }
    let scenarios: Vec<(&str, HaScenario)> = vec![("fallback", HaScenario::Fallback), ("bypass", HaScenario::Bypass)];
    let scenario = b.pick(sink, "scenario", &scenarios).ok().unwrap_or(HaScenario::Fallback);
    let address = address?;
    Some(HaBerofos {
        address,
        udp: udp.unwrap_or_else(|| SocketAddr::new(address.ip(), GBL4_PORT)),
        login: user.zip(password),
        scenario,
    })
}

/// The address of an `http://IP:PORT[/]` URL: the second path names the peer by address, as the
/// heartbeat does, so no resolver sits between a node and its failover decision.
pub fn http_url_addr(url: &str) -> Option<SocketAddr> {
    let rest = url.strip_prefix("http://")?;
    let host = rest.strip_suffix('/').unwrap_or(rest);
    host.parse::<SocketAddr>().ok().filter(|a| a.port() != 0)
}

#[cfg(test)]
mod tests {
    use crate::tests::{check, ok};
    use crate::{HaRole, HaScenario};

    #[test]
    fn every_key_read_with_its_value() {
        let c = ok(r#"[board]
            model = "s"
            [ha]
            role = "slave"
            node = "gw-b"
            peer = "127.0.0.1:5405"
            listen = "127.0.0.1:0"
            key_file = "/etc/spangate/ha.key"
            interval_ms = 100
            misses = 3
            hold_secs = 2
            peer_http = "http://127.0.0.1:8080/"
            watchdog = true
            [[ha.berofos]]
            address = "127.0.0.1:8088"
            user = "admin"
            password = "secret"
            scenario = "bypass"
            [[ha.berofos]]
            address = "127.0.0.2:80"
            udp = "127.0.0.2:6000"
            "#);
        let h = &c.ha;
        assert_eq!((h.role, h.node.as_str(), h.interval_ms, h.misses, h.hold_secs), (HaRole::Slave, "gw-b", 100, 3, 2));
        assert_eq!(h.peer.map(|p| p.to_string()).as_deref(), Some("127.0.0.1:5405"));
        assert_eq!((h.listen.to_string().as_str(), h.key.as_deref()), ("127.0.0.1:0", None));
        assert_eq!(h.key_file.as_deref(), Some("/etc/spangate/ha.key"));
        assert_eq!(h.peer_http.as_deref(), Some("http://127.0.0.1:8080/"));
        assert!(h.watchdog);
        assert_eq!(h.berofos.len(), 2);
        assert_eq!(h.berofos[0].udp.to_string(), "127.0.0.1:50123");
        assert_eq!(h.berofos[0].login, Some(("admin".into(), "secret".into())));
        assert_eq!((h.berofos[0].scenario, h.berofos[1].scenario), (HaScenario::Bypass, HaScenario::Fallback));
        assert_eq!((h.berofos[1].udp.to_string().as_str(), h.berofos[1].login.is_none()), ("127.0.0.2:6000", true));
        let d = ok(
            "[board]\nmodel = \"s\"\n[ha]\nrole = \"master\"\npeer = \"10.0.0.2:5405\"\nkey = \"0123456789abcdef\"\n",
        );
        assert_eq!((d.ha.node.as_str(), d.ha.hold_secs, d.ha.watchdog, d.ha.berofos.len()), ("master", 10, false, 0));
    }

    #[test]
    fn bypass_needs_no_peer_but_only_bypass_berofos() {
        let c = ok(r#"[board]
            model = "s"
            [ha]
            role = "master"
            watchdog = true
            [[ha.berofos]]
            address = "127.0.0.1:8088"
            scenario = "bypass"
            "#);
        assert_eq!((c.ha.peer, c.ha.watchdog, c.ha.berofos[0].scenario), (None, true, HaScenario::Bypass));
        check(
            r#"[board]
            model = "s"
            [ha]
            role = "master"             #~ ha.role: role master needs `peer`
            [[ha.berofos]]
            address = "127.0.0.1:8088"
            scenario = "fallback"
            "#,
        );
    }

    #[test]
    fn mistakes_reported_where_they_are() {
        check(
            r#"[board]
            model = "s"
            [ha]
            role = "slave"              #~ ha.role: role slave needs `key` or `key_file`
            peer = "10.0.0.1:5405"
            hold_secs = 4000            #~ ha.hold_secs: 4000 is out of range: must be 0..=3600
            peer_http = "10.0.0.1:8080" #~ ha.peer_http: `10.0.0.1:8080` is not http://ADDRESS:PORT
            watchdog = "yes"            #~ ha.watchdog: expected a boolean
            bogus = 1                   #~ ha.bogus: unknown key `bogus`
            [[ha.berofos]]              #~ ha.berofos[0].address: missing required key `address`
            udp = "10.0.0.9:0"          #~ ha.berofos[0].udp: `10.0.0.9:0` has port 0
            user = "admin"              #~ ha.berofos[0].user: give both `user` and `password`
            scenario = "both"           #~ ha.berofos[0].scenario: unknown scenario `both`
            "#,
        );
        check(
            r#"[board]
            model = "s"
            [ha]
            role = "master"
            peer = "10.0.0.1:5405"
            key = "short"               #~ ha.key: the key has 5 bytes: at least 16 are needed
            key_file = "/k"             #~ ha.key_file: give `key` or `key_file`, not both
            watchdog = true             #~ ha.watchdog: the watchdog is the berofos'
            "#,
        );
    }
}
