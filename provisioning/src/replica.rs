//! Configuration replication between the two nodes of an HA pair: what is node-local, the text a
//! master sends, and the config a slave runs from it.
//!
//! Node-local, never replicated (XiVO likewise never copied network settings, HA settings or
//! provisioning; reference/berofos.md §5):
//!
//! | what | why |
//! |---|---|
//! | `[ha]` and its `[[ha.berofos]]` | each node's role, name, addresses; the key is not sent on the wire |
//! | `[http]` | the node's own status/API address |
//! | `[log]` | each node's own diagnostics |
//! | `[sip] listen` | the node's own addresses |
//! | `[board] name` | the node's name on its status page |
//! | `[[board.span]]` `sim` and `pcap` | the node's cabling (its simulated lines) and capture files |
//!
//! Everything else is shared: the board's spans and their signalling, the SIP settings and
//! trunks, the routes. A master sends [`shareable`] of its file: the text with its node-local
//! tables blanked out line for line, so that a diagnostic on the slave names the same line as in
//! the master's file. The slave validates that text fully with [`crate::parse_str`] and runs
//! [`overlay_node_local`] of the result and its own config.

use crate::model::Config;

/// Top-level tables that stay on their node; `shareable` blanks them.
pub const NODE_LOCAL_TABLES: [&str; 3] = ["ha", "http", "log"];

/// `text` with every node-local table (`[ha]`, `[[ha.berofos]]`, `[http]`, `[log]`) replaced by
/// as many empty lines as it had, so the rest keeps its line numbers. Refused when `text` is not
/// TOML or writes a node-local table inline or with dotted keys (`ha.role = ...`), which could not
/// be cut out by lines: the master then replicates nothing and says why.
pub fn shareable(text: &str) -> Result<String, String> {
    let doc = toml_edit::ImDocument::parse(text).map_err(|e| format!("TOML syntax error: {}", e.message()))?;
    let mut cuts: Vec<std::ops::Range<usize>> = Vec::new();
    for name in NODE_LOCAL_TABLES {
        if let Some(item) = doc.as_table().get(name) {
            collect(name, item, &mut cuts)?;
        }
    }
    cuts.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in cuts {
        if r.start < at || r.end > text.len() || !text.is_char_boundary(r.start) || !text.is_char_boundary(r.end) {
            return Err("node-local tables overlap other settings; write them as [tables]".into());
        }
        out.push_str(&text[at..r.start]);
        out.extend(std::iter::repeat_n('\n', text[r.clone()].matches('\n').count()));
        at = r.end;
    }
    out.push_str(&text[at..]);
    // What is left must be TOML without a node-local key: the proof that the cuts were whole.
    let check = toml_edit::ImDocument::parse(out.as_str()).map_err(|e| format!("after the cut: {}", e.message()))?;
    if let Some(name) = NODE_LOCAL_TABLES.iter().find(|n| check.as_table().contains_key(n)) {
        return Err(format!("[{name}] is still there after the cut; write it as a [{name}] table"));
    }
    Ok(out)
}

/// The byte ranges of table `path` and of every table under it.
fn collect(path: &str, item: &toml_edit::Item, cuts: &mut Vec<std::ops::Range<usize>>) -> Result<(), String> {
    let table = |t: &toml_edit::Table, cuts: &mut Vec<std::ops::Range<usize>>| -> Result<(), String> {
        if t.is_dotted() {
            return Err(format!("`{path}` is written with dotted keys; write it as a [{path}] table to replicate"));
        }
        if !t.is_implicit() {
            cuts.push(t.span().ok_or_else(|| format!("[{path}] has no position"))?);
        }
        for (k, v) in t.iter() {
            match v {
                toml_edit::Item::Table(_) | toml_edit::Item::ArrayOfTables(_) => {
                    collect(&format!("{path}.{k}"), v, cuts)?
                }
                // Plain keys lie inside the table's own range.
                _ => {}
            }
        }
        Ok(())
    };
    match item {
        toml_edit::Item::Table(t) => table(t, cuts),
        toml_edit::Item::ArrayOfTables(a) => a.iter().try_for_each(|t| table(t, cuts)),
        _ => Err(format!("`{path}` is written inline; write it as a [{path}] table to replicate")),
    }
}

/// The config a slave runs: `received` (the master's, validated) with the node-local settings of
/// `local` (the slave's running config) put back. A span keeps its own `sim` and `pcap` when the
/// master's config still has a span of that number; a span new to the slave gets no simulated
/// line (`open`, on a simulated board) until its own file says otherwise.
pub fn overlay_node_local(received: &Config, local: &Config) -> Config {
    let mut c = received.clone();
    c.file = local.file.clone();
    c.ha = local.ha.clone();
    c.http = local.http.clone();
    c.log = local.log.clone();
    c.sip.listen = local.sip.listen.clone();
    c.board.name = local.board.name.clone();
    for s in &mut c.board.spans {
        match local.board.spans.iter().find(|l| l.number == s.number) {
            Some(l) => {
                s.sim = l.sim.clone();
                s.pcap = l.pcap.clone();
            }
            None => {
                s.pcap = None;
                if let Some(sim) = &mut s.sim {
                    *sim = crate::model::SimSpan {
                        line: hal::sim::LineSpec::Open,
                        fault: hal::sim::FaultConfig::default(),
                        echo_path: None,
                    };
                }
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_str;

    const MASTER: &str = r#"# the master
[board]
name = "gw-a"
model = "sim-e1x2"
description = "rev 2"
[[board.span]]
span = 1
kind = "e1"
signalling = "pri_cpe"
[board.span.sim]
line = "connect:/tmp/B.sock"
[[board.span]]
span = 2
kind = "e1"
signalling = "pri_net"
[ha]
role = "master"   # the key must not leave this node
peer = "127.0.0.1:5405"
key = "0123456789abcdef-secret"
[[ha.berofos]]
address = "127.0.0.1:8088"
[http]
listen = "127.0.0.1:8081"
[[route]]
from = "span:1"
to = "span:2"
[log]
level = "debug"
"#;

    const SLAVE: &str = r#"[board]
name = "gw-b"
model = "sim-e1x2"
[[board.span]]
span = 1
kind = "e1"
signalling = "pri_cpe"
pcap = "/tmp/b.pcap"
[board.span.sim]
line = "connect:/tmp/D.sock"
[ha]
role = "slave"
peer = "127.0.0.1:5406"
key = "0123456789abcdef-secret"
[http]
listen = "127.0.0.1:8082"
"#;

    #[test]
    fn shareable_blanks_node_local_tables_and_keeps_line_numbers() {
        let s = shareable(MASTER).unwrap();
        assert_eq!(s.lines().count(), MASTER.lines().count());
        assert!(!s.contains("secret") && !s.contains("8088") && !s.contains("8081") && !s.contains("debug"), "{s}");
        // The shared settings are where they were.
        for (a, b) in MASTER.lines().zip(s.lines()) {
            assert!(b.is_empty() || a == b, "{a:?} became {b:?}");
        }
        let c = parse_str("m", &s).unwrap();
        assert_eq!((c.board.description.as_str(), c.routes.len()), ("rev 2", 1));
        assert_eq!(c.ha, crate::Ha::default());
    }

    #[test]
    fn inline_or_dotted_node_local_tables_are_refused() {
        let inline = "ha = { role = \"disabled\" }\n[board]\nmodel = \"s\"\n";
        assert!(shareable(inline).unwrap_err().contains("inline"));
        let dotted = "log.level = \"debug\"\n[board]\nmodel = \"s\"\n";
        assert!(shareable(dotted).unwrap_err().contains("dotted"));
        assert!(shareable("[board\n").is_err());
        assert_eq!(shareable("[board]\nmodel = \"s\"\n").unwrap(), "[board]\nmodel = \"s\"\n");
    }

    #[test]
    fn overlay_keeps_the_slave_own_settings() {
        let received = parse_str("m", &shareable(MASTER).unwrap()).unwrap();
        let local = parse_str("slave.toml", SLAVE).unwrap();
        let c = overlay_node_local(&received, &local);
        assert_eq!((c.board.name.as_str(), c.board.description.as_str()), ("gw-b", "rev 2"));
        assert_eq!(
            (c.ha.clone(), c.http.clone(), c.file.as_str()),
            (local.ha.clone(), local.http.clone(), "slave.toml")
        );
        assert_eq!(c.board.spans[0].sim, local.board.spans[0].sim);
        assert_eq!(c.board.spans[0].pcap, local.board.spans[0].pcap);
        assert_eq!(c.routes, received.routes);
        // Span 2 is new to the slave: no cable of the master's, an open line.
        let open = c.board.spans[1].sim.as_ref().map(|s| s.line.clone());
        assert_eq!((c.board.spans.len(), open), (2, Some(hal::sim::LineSpec::Open)));
    }

    #[test]
    fn shareable_never_panics_on_odd_text() {
        for t in
            ["", "\u{0}", "[ha]\n[ha]\n", "[[ha]]\nx=1\n[[ha]]\n", "[ha.x]\n[http]\na=\"é\"\n", "a = [\n1,\n]\n[log]"]
        {
            let _ = shareable(t);
        }
        // Every truncation and every byte flipped to a TOML metacharacter of a real file.
        for cut in 0..=MASTER.len() {
            if MASTER.is_char_boundary(cut) {
                let _ = shareable(&MASTER[..cut]);
            }
        }
        for at in 0..MASTER.len() {
            for b in [b'[', b']', b'"', b'\n', b'=', b'.', b'{'] {
                let mut m = MASTER.as_bytes().to_vec();
                m[at] = b;
                if let Ok(t) = String::from_utf8(m) {
                    if let Ok(out) = shareable(&t) {
                        assert_eq!(out.lines().count(), t.lines().count(), "{t}");
                    }
                }
            }
        }
        let arr = shareable("[[ha]]\nx = 1\n[[ha]]\nx = 2\n[board]\nmodel = \"s\"\n").unwrap();
        assert_eq!(arr, "\n\n\n\n[board]\nmodel = \"s\"\n");
    }
}
