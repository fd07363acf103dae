//! Config changes on the event loop: a local reload (`SIGHUP`, `POST /api/v1/config/reload`) and
//! a push replicated from the HA master take the same path: validated by `ConfigState`, then
//! applied here.
//!
//! Applied at once: the routes (`[[route]]`, with each span's "routed" flag; calls already up
//! keep going, new calls take the new plan), the board's description and name, and the log
//! level. Everything else that changed (spans, SIP, HA, HTTP) is kept for the next start, logged
//! and shown as `restart_pending`: a span change applied live would need the span's calls torn
//! down, which a config push must never do behind the operator's back.
//!
//! Also here: the media-thread stall of `--test-hooks` (`POST /api/v1/test/media/stall?ms=N`).

use std::time::Instant;

use log::{info, warn};
use provisioning::Config;

use super::EventLoop;
use crate::config_state::Change;
use crate::http::ApiReply;
use crate::media::MediaCmd;
use crate::switch::ConfigPlan;

/// The longest media stall a test may ask for.
pub const MAX_STALL_MS: u32 = 60_000;

/// The parts of `old` and `new` that differ and only take effect at the next start.
pub fn restart_pending(old: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let (mut a, mut b) = (old.board.clone(), new.board.clone());
    a.spans.clear();
    b.spans.clear();
    (a.name, a.description) = (b.name.clone(), b.description.clone());
    if a != b {
        out.push("board".to_string());
    }
    let numbers = |c: &Config| c.board.spans.iter().map(|s| s.number).collect::<Vec<_>>();
    for s in &new.board.spans {
        if old.board.spans.iter().find(|o| o.number == s.number) != Some(s) {
            out.push(format!("board.span {}", s.number));
        }
    }
    for n in numbers(old).into_iter().filter(|n| !numbers(new).contains(n)) {
        out.push(format!("board.span {n} (removed)"));
    }
    if old.sip != new.sip {
        out.push("sip".into());
    }
    if old.ha != new.ha {
        out.push("ha".into());
    }
    if old.http != new.http {
        out.push("http".into());
    }
    out
}

impl EventLoop {
    /// `SIGHUP` or `POST /api/v1/config/reload`.
    pub(super) fn config_reload(&mut self) -> ApiReply {
        match self.conf.reload(&self.cfg) {
            Ok(change) => self.apply_config(change),
            Err((status, why)) => {
                warn!("config reload refused: {why}");
                ApiReply::Err(status, why)
            }
        }
    }

    /// `POST /api/v1/ha/config` from the master.
    pub(super) fn config_push(&mut self, body: &[u8], tag: Option<&str>) -> ApiReply {
        match self.conf.receive(body, tag, &self.cfg) {
            Ok(Some(change)) => self.apply_config(change),
            Ok(None) => ApiReply::Ok(format!(r#"{{"ok":true,"revision":{},"current":true}}"#, self.conf.revision)),
            Err((status, why)) => ApiReply::Err(status, why),
        }
    }

    /// Applies what can be applied live; the rest waits for the next start.
    fn apply_config(&mut self, change: Change) -> ApiReply {
        let Change { config: new, what } = change;
        let pending = restart_pending(&self.cfg, &new);
        if new.log.level != self.cfg.log.level {
            if let Some(level) = crate::logging::parse_level(&new.log.level) {
                log::set_max_level(level);
            }
        }
        self.cfg.log = new.log;
        self.cfg.board.name = new.board.name;
        self.cfg.board.description = new.board.description;
        self.cfg.routes = new.routes;
        self.plan = ConfigPlan::new(&self.cfg);
        let now = Instant::now();
        for (node, stack) in &mut self.stacks {
            if let Some(&span) = self.span_of_node.get(node) {
                let routed = self.plan.routes_from(span);
                stack.with_calls(now, |c| c.set_routed(routed));
            }
        }
        self.conf.applied(&what, pending);
        ApiReply::Ok(format!(r#"{{"ok":true,"revision":{}}}"#, self.conf.revision))
    }

    /// The test hook: the media thread sleeps `ms`, refused unless the daemon runs with
    /// `--test-hooks`.
    pub(super) fn stall_media(&mut self, ms: u32) -> ApiReply {
        if !self.test_hooks {
            return ApiReply::Err(403, "test hooks are off (spangate run --test-hooks)".into());
        }
        if ms == 0 || ms > MAX_STALL_MS {
            return ApiReply::Err(400, format!("ms must be within 1..={MAX_STALL_MS}"));
        }
        info!("test hook: stalling the media thread for {ms} ms");
        match self.cmds.push(MediaCmd::Stall { ms }) {
            Ok(()) => ApiReply::Ok(r#"{"ok":true}"#.into()),
            Err(_) => ApiReply::Err(503, "the media thread is busy; try again".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::restart_pending;

    const BASE: &str = r#"[board]
model = "sim-e1x2"
[[board.span]]
span = 1
kind = "e1"
signalling = "pri_cpe"
[[board.span]]
span = 2
kind = "e1"
signalling = "pri_net"
"#;

    fn cfg(extra: &str) -> provisioning::Config {
        provisioning::parse_str("t.toml", &format!("{BASE}{extra}")).expect("valid")
    }

    #[test]
    fn live_changes_need_no_restart_and_the_rest_is_named() {
        let old = cfg("");
        let live = cfg("[[route]]\nfrom = \"span:1\"\nto = \"span:2\"\n[log]\nlevel = \"debug\"\n");
        assert_eq!(restart_pending(&old, &live), Vec::<String>::new());
        let mut desc = old.clone();
        desc.board.description = "changed".into();
        assert!(restart_pending(&old, &desc).is_empty());
        let mut span = old.clone();
        span.board.spans[1].switchtype = provisioning::SwitchType::Qsig;
        let mut gone = old.clone();
        gone.board.spans.pop();
        let sip = cfg("[sip]\nlisten = \"127.0.0.1:5060\"\n");
        assert_eq!(restart_pending(&old, &span), ["board.span 2"]);
        assert_eq!(restart_pending(&old, &gone), ["board.span 2 (removed)"]);
        assert_eq!(restart_pending(&old, &sip), ["sip"]);
    }
}
