//! HA on the status page, in `/metrics` and in `GET /api/v1/ha` (the second path a peer probes):
//! rendering of the `HaSnap` the event loop publishes.

use std::fmt::Write as _;
use std::time::Instant;

use super::runtime::{HaSnap, SNAPSHOT_FRESH};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The HA block of the status page (nothing with HA disabled).
pub fn html(h: &mut String, ha: Option<&HaSnap>) {
    let Some(s) = ha else { return };
    let p = &s.peer;
    let b = &s.berofos;
    let _ = write!(
        h,
        r#"<h2 style="font-size:1.1em;margin-top:1em">High availability</h2>
<table class="kv" id="ha" data-state="{state}" data-lines="{lines}"><tr><td>node</td><td>{node} ({role}, {mode})</td></tr>
<tr><td>state</td><td>{state}{lines_text} · own health {health}{fb}</td></tr>
<tr><td>peer</td><td>{paddr} · {palive} · {pstate} · last heartbeat {plast} ms ago · refused {prej}</td></tr>
<tr><td>berofos</td><td>{bn} device(s) · mode {bmode} · {breach} · watchdog {wd} ({kicks} kicks, last {lk} ms ago)</td></tr>
<tr><td>failovers</td><td>{fo}</td></tr>
"#,
        node = esc(&s.node),
        role = s.role,
        mode = s.mode,
        state = s.state,
        lines = s.lines,
        lines_text = if s.lines { " · holds the lines" } else { "" },
        health = if s.healthy { "good" } else { "BAD" },
        fb = if s.failback_suppressed { " · failback off (manual switchover)" } else { "" },
        paddr = esc(p.address.as_deref().unwrap_or("none")),
        palive = if p.alive { "alive" } else { "not heard" },
        pstate = p.state.unwrap_or("-"),
        plast = opt(p.last_heartbeat_ms_ago),
        prej = p.rejected_heartbeats,
        bn = b.devices,
        bmode = opt(b.mode),
        breach = match b.reachable {
            Some(true) => "reachable",
            Some(false) => "UNREACHABLE",
            None => "not asked yet",
        },
        wd = b.watchdog,
        kicks = b.kicks,
        lk = opt(b.last_kick_ms_ago),
        fo = s.failovers,
    );
    for r in s.history.iter().rev().take(10) {
        let _ = writeln!(h, "<tr><td>{}</td><td>{}</td></tr>", r.unix_ms, esc(&r.event));
    }
    h.push_str("</table>\n");
}

/// The HA metric families (nothing with HA disabled).
pub fn metrics(m: &mut String, ha: Option<&HaSnap>) {
    let Some(s) = ha else { return };
    let mut gauge = |name: &str, help: &str, kind: &str, value: String| {
        let _ = writeln!(m, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    let b = |v: bool| u8::from(v).to_string();
    gauge("spangate_ha_active", "1 while this node holds the lines (spans active).", "gauge", b(s.lines));
    gauge("spangate_ha_healthy", "1 while the event loop and media thread run.", "gauge", b(s.healthy));
    gauge("spangate_ha_peer_alive", "1 while the peer's heartbeats arrive.", "gauge", b(s.peer.alive));
    let last = s
        .peer
        .last_heartbeat_ms_ago
        .map_or_else(|| "NaN".into(), |v| format!("{:.3}", f64::from(u32::try_from(v).unwrap_or(u32::MAX)) / 1e3));
    gauge("spangate_ha_peer_last_heartbeat_seconds", "Time since the last valid heartbeat.", "gauge", last);
    let rej = s.peer.rejected_heartbeats.to_string();
    gauge("spangate_ha_heartbeats_rejected_total", "Heartbeats refused (bad tag, replay, stranger).", "counter", rej);
    let mode = s.berofos.mode.map_or_else(|| "NaN".into(), |v| v.to_string());
    gauge("spangate_ha_berofos_mode", "Relay mode last read back (0 = A-D, 1 = A-B).", "gauge", mode);
    let reach = s.berofos.reachable.map_or_else(|| "NaN".into(), b);
    gauge("spangate_ha_berofos_reachable", "1 when the berofos last answered.", "gauge", reach);
    gauge("spangate_ha_watchdog_kicks_total", "Watchdog kicks answered.", "counter", s.berofos.kicks.to_string());
    gauge("spangate_ha_failovers_total", "Times this node took the lines.", "counter", s.failovers.to_string());
}

/// `GET /api/v1/ha`: the node's HA state and whether it is alive: healthy by its own measure
/// and its event loop published within `SNAPSHOT_FRESH` (the HTTP threads outlive a stuck loop).
pub fn probe_json(ha: Option<&HaSnap>, now: Instant) -> String {
    let Some(s) = ha else { return r#"{"alive":false,"error":"HA is disabled"}"#.into() };
    let age = s.taken.map(|t| now.saturating_duration_since(t));
    let alive = s.healthy && age.is_some_and(|a| a < SNAPSHOT_FRESH);
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("alive".into(), alive.into());
        o.insert("snapshot_age_ms".into(), age.map(|a| u64::try_from(a.as_millis()).unwrap_or(u64::MAX)).into());
    }
    v.to_string()
}
