//! HA end to end, part two: configuration replication from the master to the slave, and a
//! master whose media thread stalls (the `--test-hooks` stall) while its event loop still runs.
//!
//! - A config change on the master (file rewritten, then `POST /api/v1/config/reload`) reaches
//!   the slave within 2 s: same revision, the new description and routes; node-local settings
//!   (board name, HA node name, HTTP address) differ and stay different; a bad config is refused
//!   on the master (SIGHUP) with its file:line, nothing replicated; pushes without the right HMAC
//!   are refused by the slave and counted.
//! - The master's media thread stalled: its heartbeats report it unhealthy, it gives up the lines
//!   and the slave takes them.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use spangate_tests::{free_port, Config, Daemon, Scratch, Span};

use crate::ha::{call_completes, ha, ha_table, holds, l2_up, user_side, Berofos, T};

/// A node of the pair with two spans (a route needs somewhere to go); `extra` is appended.
#[allow(clippy::too_many_arguments)]
fn node_config(
    dir: &Path,
    name: &str,
    role: &str,
    hb: (u16, u16),
    peer_http: u16,
    fos: u16,
    description: &str,
    extra: &str,
) -> PathBuf {
    let text = Config::board("sim-e1x2")
        .board_key("name", &format!("\"{name}-board\""))
        .board_key("description", &format!("\"{description}\""))
        .span(user_side("provider"))
        .span(Span::e1(2, "pbx").set("signalling", "\"pri_net\""))
        .raw(&ha_table(name, role, hb, peer_http, fos, 30))
        .text();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text + extra).expect("write config");
    path
}

/// Rewrites the master's file: `(description, extra)`.
type Rewrite = Box<dyn Fn(&str, &str)>;

struct Pair {
    master: Daemon,
    slave: Daemon,
    rewrite_master: Rewrite,
}

fn start_pair(scratch: &Scratch, fos: u16, master_args: &[&str]) -> Pair {
    let (hm, hs) = (free_port(), free_port());
    let (pm, ps) = (free_port(), free_port());
    let m = node_config(&scratch.0, "gw-a", "master", (hm, hs), ps, fos, "rev 1", "");
    let s = node_config(&scratch.0, "gw-b", "slave", (hs, hm), pm, fos, "the slave's own", "");
    let arg = |p: &PathBuf| p.to_str().expect("utf-8").to_string();
    let mut margs = vec!["run", "--config"];
    let mpath = arg(&m);
    margs.push(&mpath);
    margs.extend_from_slice(master_args);
    let master = Daemon::start_on(&margs, pm);
    let slave = Daemon::start_on(&["run", "--config", &arg(&s)], ps);
    let dir = scratch.0.clone();
    let rewrite_master = Box::new(move |description: &str, extra: &str| {
        node_config(&dir, "gw-a", "master", (hm, hs), ps, fos, description, extra);
    });
    Pair { master, slave, rewrite_master }
}

/// `POST /api/v1/ha/config` with an `X-Spangate-Hmac` header; the raw response.
fn post_with_tag(d: &Daemon, tag: &str, body: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(d.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let head = format!(
        "POST /api/v1/ha/config HTTP/1.1\r\nHost: {}\r\nX-Spangate-Hmac: {tag}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        d.addr,
        body.len()
    );
    s.write_all(head.as_bytes()).and_then(|()| s.write_all(body)).expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("answer");
    out
}

fn config(s: &Value) -> &Value {
    &s["config"]
}

fn revision(s: &Value) -> u64 {
    config(s)["revision"].as_u64().unwrap_or(0)
}

#[test]
fn master_config_change_reaches_the_slave_within_2_s_and_node_local_settings_stay() {
    let scratch = Scratch::new("ha-replica");
    let fos = Berofos::start();
    let p = start_pair(&scratch, fos.http, &[]);
    let m = p.master.wait_for("master holds the lines", T, |s| holds(s) && l2_up(s));
    let first = revision(&m);
    assert!(first > 0, "the master has a revision: {}", m["config"]);
    // At start the master pushes what it runs; the slave had only its own file (revision 0).
    let s = p.slave.wait_for("the slave runs the master's first revision", T, |s| revision(s) == first);
    assert_eq!(config(&s)["description"], "rev 1");
    assert_eq!(config(&s)["source"], "replicated from gw-a");

    // The change: a new description and a route (shared), a log level (node-local).
    (p.rewrite_master)(
        "rev 2",
        "[log]\nlevel = \"debug\"\n[[route]]\nname = \"to-pbx\"\nfrom = \"span:1\"\nto = \"span:2\"\n",
    );
    let changed = Instant::now();
    let r = p.master.post_ok("/api/v1/config/reload", b"");
    let rev: u64 = serde_json::from_slice::<Value>(&r.body).expect("JSON")["revision"].as_u64().expect("revision");
    assert!(rev > first, "a shared change is a new revision: {rev} after {first}");
    let s = p.slave.wait_for("the slave runs the new revision", T, |s| revision(s) == rev);
    let took = changed.elapsed();
    assert!(took < Duration::from_secs(2), "replication took {took:?}");
    eprintln!("config change on the master to the slave running it: {took:?}");
    let c = config(&s);
    assert_eq!((c["description"].as_str(), c["routes"].as_u64()), (Some("rev 2"), Some(1)), "{c}");
    assert_eq!(s["board"]["description"], "rev 2", "applied, as a local reload applies it");
    assert_eq!(c["restart_pending"], serde_json::json!([]), "routes and description apply live: {c}");
    assert_eq!(c["replication"]["last_revision"].as_u64(), Some(rev));
    // Node-local settings stay each node's own.
    let m = p.master.wait_for("the master saw the slave acknowledge", T, |s| {
        config(s)["replication"]["last_revision"].as_u64() == Some(rev)
    });
    assert_eq!((m["board"]["name"].as_str(), s["board"]["name"].as_str()), (Some("gw-a-board"), Some("gw-b-board")));
    assert_eq!((ha(&m)["node"].as_str(), ha(&s)["node"].as_str()), (Some("gw-a"), Some("gw-b")));
    assert_eq!((ha(&m)["role"].as_str(), ha(&s)["role"].as_str()), (Some("master"), Some("slave")));
    assert!(holds(&m) && !holds(&s), "replication moved no lines");
    // The same on the page and in the metrics of both nodes.
    for d in [&p.master, &p.slave] {
        let metrics = d.get("/metrics").text();
        assert!(metrics.contains(&format!("\nspangate_config_revision {rev}\n")), "{metrics}");
        assert!(metrics.contains(&format!("\nspangate_config_replication_last_revision {rev}\n")), "{metrics}");
        let page = d.get("/").text();
        assert!(page.contains(&format!(r#"id="config" data-revision="{rev}""#)), "{page}");
    }

    // A bad config on the master (SIGHUP): refused there with its line, nothing replicated.
    (p.rewrite_master)("rev 3", "[[route]]\nfrom = \"span:1\"\nto = \"span:9\"\n");
    let ok = Command::new("kill").args(["-HUP", &p.master.pid().to_string()]).status().expect("kill");
    assert!(ok.success());
    let m = p.master.wait_for("the master refused the bad reload", T, |s| config(s)["failed_reloads"] == 1);
    let err = config(&m)["last_error"].as_str().unwrap_or("").to_string();
    assert!(err.contains("gw-a.toml:") && err.contains("route[0].to"), "file:line and field: {err}");
    assert_eq!((revision(&m), config(&m)["description"].as_str()), (rev, Some("rev 2")), "nothing applied");

    // Pushes the master did not sign: no tag, a tag under another key. Refused and counted.
    let body = serde_json::json!({"version":1,"role":"master","from":"gw-a","revision": rev + 1000,
        "config":"[board]\nmodel = \"sim-e1x2\"\ndescription = \"forged\"\n"})
    .to_string();
    let before = config(&p.slave.status())["replication"]["refused"].as_u64().unwrap_or(0);
    let r = p.slave.request("POST", "/api/v1/ha/config", body.as_bytes());
    assert_eq!(r.status, 401, "{}", r.text());
    let forged = post_with_tag(&p.slave, &"ab".repeat(32), body.as_bytes());
    assert!(forged.starts_with("HTTP/1.1 401"), "{forged}");
    // The status is a snapshot published every 100 ms: wait for it to show both.
    let s = p
        .slave
        .wait_for("both refusals counted", T, |s| config(s)["replication"]["refused"].as_u64() == Some(before + 2));
    let c = config(&s);
    assert_eq!((revision(&s), c["description"].as_str()), (rev, Some("rev 2")), "nothing forged applied");
    // The slave's own log names the refusal once.
    p.slave.wait_log("the refusal", T, |l| l.contains("config push refused (401)"));
}

#[test]
fn stalled_media_thread_on_the_master_reports_unhealthy_and_the_slave_takes_the_lines() {
    let scratch = Scratch::new("ha-stall");
    let fos = Berofos::start();
    let p = start_pair(&scratch, fos.http, &["--test-hooks"]);
    p.master.wait_for("master holds the lines", T, |s| holds(s) && l2_up(s));
    p.slave.wait_for("slave standby, master heard healthy", T, |s| {
        ha(s)["peer"]["alive"] == true && ha(s)["peer"]["healthy"] == true
    });
    // The hook is off unless asked for: the slave runs without --test-hooks.
    assert_eq!(p.slave.request("POST", "/api/v1/test/media/stall?ms=1000", b"").status, 403);

    let stalled = Instant::now();
    p.master.post_ok("/api/v1/test/media/stall?ms=4000", b"");
    // The master's event loop still runs and answers: it sees its own media thread stop.
    let m = p.master.wait_for("the stalled master gave up the lines", T, |s| !holds(s) && ha(s)["healthy"] == false);
    assert_eq!(ha(&m)["media_ticking"], false, "{}", m["ha"]);
    let s = p.slave.wait_for("the slave holds the lines with layer 2 up", T, |s| holds(s) && l2_up(s));
    eprintln!("media stall to the slave holding the lines: {:?}", stalled.elapsed());
    assert_eq!(fos.state("mode").as_deref(), Some("0"), "the relay gives the lines to the slave");
    let seen = |s: &Value, what: &str| {
        ha(s)["history"]
            .as_array()
            .is_some_and(|h| h.iter().any(|r| r["event"].as_str().is_some_and(|e| e.contains(what))))
    };
    assert!(seen(&s, "peer reports itself unhealthy"), "the heartbeat carried it: {}", s["ha"]);
    assert!(seen(&m, "own health bad"), "{}", m["ha"]);
    call_completes(&p.slave, T);
    // The stall over, the master is healthy again and stays standby (no failback before 30 s).
    let m = p.master.wait_for("the master healthy again", T, |s| ha(s)["healthy"] == true);
    assert!(!holds(&m) && holds(&p.slave.status()), "one owner: the slave");
}
