//! The running config's revision and where it came from: local reloads (`SIGHUP`,
//! `POST /api/v1/config/reload`) and, on an HA pair, replication from the master to the slave
//! (`ha::replica`). It decides what a change is; the event loop applies it (`daemon::apply`).
//!
//! Revisions: the master (and a node without HA) starts at its clock in unix ms and takes a new
//! revision, again its clock in ms and always higher than the last, when a reload changes what it
//! shares; a change to node-local settings only keeps the revision. A slave starts at 0 ("its own
//! file") and runs the revision of the last push it accepted; its own reloads then change only
//! its node-local settings (the shared ones are the master's until the master says otherwise).
//!
//! Not replicated: call state and CDRs (a call up on a failed node ends with it), nor anything
//! node-local (`provisioning::replica`). A slave keeps the replicated config in memory: after a
//! restart it runs its own file until the master's next push (at most `ha::replica::RESYNC`).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};
use log::{info, warn};
use provisioning::{Config, HaRole};
use serde::Serialize;

use crate::ha::replica::{self, judge, Push, PushError, PushJob, Pusher, Verdict};

pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The replication side of this node.
enum Side {
    None,
    /// The master: pushes to the slave's API at `peer`.
    Master {
        peer: String,
        pusher: Pusher,
        jobs: Sender<PushJob>,
        done: Receiver<(u64, Result<u64, String>)>,
    },
    /// The slave: takes pushes.
    Slave,
}

/// A change for the event loop to apply.
#[derive(Debug)]
pub struct Change {
    pub config: Config,
    pub what: String,
}

/// An HTTP-style refusal: status and message.
pub type Refusal = (u16, String);

/// Config revision, source and replication of one node.
pub struct ConfigState {
    /// The file reloads read; `None` for the built-in board.
    path: Option<PathBuf>,
    key: Vec<u8>,
    node: String,
    side: Side,
    pub revision: u64,
    /// The master's shareable text of the running config (what a push carries).
    shared: Option<String>,
    /// Why the running config cannot be replicated, if it cannot.
    share_error: Option<String>,
    /// On a slave: the last config accepted from the master, before our node-local overlay.
    received: Option<Config>,
    /// The config last read from the file, whole: a reload compares what it shares with this.
    loaded: Config,
    source: String,
    changed_unix_ms: u64,
    reloads: u64,
    failed_reloads: u64,
    last_error: Option<String>,
    restart_pending: Vec<String>,
    accepted: u64,
    refused: u64,
    last_refusal: Option<String>,
    last_received: Option<(u64, u64, String)>,
}

/// The `config` block of the status.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ConfigSnap {
    pub file: String,
    pub revision: u64,
    /// `file` or `replicated from NODE`.
    pub source: String,
    pub changed_unix_ms: u64,
    pub routes: usize,
    pub description: String,
    /// Changed settings that take effect at the next start.
    pub restart_pending: Vec<String>,
    pub reloads: u64,
    pub failed_reloads: u64,
    pub last_error: Option<String>,
    pub replication: Option<ReplicationSnap>,
}

/// Replication as one node sees it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ReplicationSnap {
    /// `push` (master) or `receive` (slave).
    pub role: &'static str,
    /// The master: the slave's API it pushes to.
    pub peer: Option<String>,
    /// When (unix ms) the last replication succeeded and its revision: acknowledged by the
    /// slave on the master, accepted from the master on the slave.
    pub last_unix_ms: Option<u64>,
    pub last_revision: Option<u64>,
    /// The master: pushes tried, failed, and the last failure.
    pub pushes: u64,
    pub push_failures: u64,
    pub last_push_error: Option<String>,
    /// The master: why its config is not shareable, if so.
    pub share_error: Option<String>,
    /// The slave: pushes applied, pushes refused (unauthenticated, not from the master, stale,
    /// invalid), the last refusal.
    pub accepted: u64,
    pub refused: u64,
    pub last_refusal: Option<String>,
}

impl ConfigState {
    /// The state of `cfg`, loaded from `cfg.file` (the built-in board when that is not a file).
    /// On an HA master with `peer_http`, starts the push thread.
    pub fn new(cfg: &Config, waker: Arc<mio::Waker>, now: Instant) -> Result<ConfigState, String> {
        let path = PathBuf::from(&cfg.file);
        let path = path.is_file().then_some(path);
        let text = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
        let pair = cfg.ha.peer.is_some();
        let key = if pair { crate::ha::runtime::read_key(&cfg.ha)? } else { Vec::new() };
        let side = match (cfg.ha.role, pair) {
            (HaRole::Master, true) => match cfg.ha.peer_http.as_deref().and_then(provisioning::http_url_addr) {
                Some(addr) => {
                    let (jobs, done) = replica::spawn_pusher(addr, waker)?;
                    info!("config: replicated to the slave at http://{addr}{}", replica::PATH);
                    Side::Master { peer: addr.to_string(), pusher: Pusher::new(now), jobs, done }
                }
                None => {
                    warn!("config: [ha] peer_http is not set: the config is not replicated to the slave");
                    Side::None
                }
            },
            (HaRole::Slave, true) => Side::Slave,
            _ => Side::None,
        };
        let (shared, share_error) = match text.as_deref().map(provisioning::replica::shareable) {
            Some(Ok(s)) => (Some(s), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, Some("the built-in board has no file to replicate".into())),
        };
        if let (Side::Master { .. }, Some(e)) = (&side, &share_error) {
            warn!("config: not replicated: {e}");
        }
        Ok(ConfigState {
            path,
            key,
            node: cfg.ha.node.clone(),
            revision: if matches!(side, Side::Slave) { 0 } else { unix_ms() },
            side,
            shared,
            share_error,
            received: None,
            loaded: cfg.clone(),
            source: "file".into(),
            changed_unix_ms: unix_ms(),
            reloads: 0,
            failed_reloads: 0,
            last_error: None,
            restart_pending: Vec::new(),
            accepted: 0,
            refused: 0,
            last_refusal: None,
            last_received: None,
        })
    }

    fn next_revision(&self) -> u64 {
        unix_ms().max(self.revision + 1)
    }

    /// A local reload: reads and validates the file; `running` is the config in force. Bad
    /// config: every diagnostic logged, nothing applied.
    pub fn reload(&mut self, running: &Config) -> Result<Change, Refusal> {
        let Some(path) = self.path.clone() else {
            return Err((409, "the built-in board has no config file to reload".into()));
        };
        let loaded = match std::fs::read_to_string(&path) {
            Err(e) => Err((500, format!("read {}: {e}", path.display()))),
            Ok(text) => match provisioning::parse_str(&running.file, &text) {
                Ok(c) => Ok((c, text)),
                Err(diags) => {
                    for d in &diags.0 {
                        warn!("config reload: {d}");
                    }
                    Err((422, format!("{} problem(s) in {}; nothing applied: {diags}", diags.0.len(), path.display())))
                }
            },
        };
        let (new, text) = match loaded {
            Ok(x) => x,
            Err(e) => {
                self.failed_reloads += 1;
                self.last_error = Some(e.1.clone());
                return Err(e);
            }
        };
        self.reloads += 1;
        self.last_error = None;
        if let Some(master) = &self.received {
            // A slave that runs the master's config takes only its own node-local settings.
            let config = provisioning::replica::overlay_node_local(master, &new);
            return Ok(Change { config, what: format!("reload of {} (node-local settings)", path.display()) });
        }
        // Compared as settings, not as text: a comment or a blank line is no new revision.
        let shared_changed = provisioning::replica::overlay_node_local(&new, &self.loaded) != self.loaded;
        self.loaded = new.clone();
        match provisioning::replica::shareable(&text) {
            Ok(s) => {
                if shared_changed {
                    self.revision = self.next_revision();
                    self.changed_unix_ms = unix_ms();
                }
                self.shared = Some(s);
                self.share_error = None;
            }
            Err(e) => {
                if matches!(self.side, Side::Master { .. }) {
                    warn!("config: not replicated: {e}");
                }
                self.revision = self.next_revision();
                self.changed_unix_ms = unix_ms();
                self.shared = None;
                self.share_error = Some(e);
            }
        }
        Ok(Change { config: new, what: format!("reload of {}", path.display()) })
    }

    fn refuse(&mut self, status: u16, why: String) -> Refusal {
        self.refused += 1;
        if self.refused == 1 || self.last_refusal.as_deref() != Some(why.as_str()) {
            // Logged when the reason changes, counted always: a flood of bad pushes cannot fill the log.
            warn!("config push refused ({status}): {why}");
        }
        self.last_refusal = Some(why.clone());
        (status, why)
    }

    /// A push to `POST /api/v1/ha/config`: authentic, from the master, newer, valid - or refused.
    /// `Ok(None)`: the revision we run already.
    pub fn receive(&mut self, body: &[u8], tag: Option<&str>, running: &Config) -> Result<Option<Change>, Refusal> {
        let slave = matches!(self.side, Side::Slave);
        if !slave {
            return Err(self.refuse(409, "this node is not an HA slave: it takes no config pushes".into()));
        }
        let push = match Push::open(body, tag, &self.key) {
            Ok(p) => p,
            Err(e @ (PushError::NoTag | PushError::Authentication)) => return Err(self.refuse(401, e.to_string())),
            Err(e) => return Err(self.refuse(409, e.to_string())),
        };
        match judge(slave, self.revision, push.revision) {
            Verdict::Apply => {}
            Verdict::Current => return Ok(None),
            Verdict::Stale => {
                let why =
                    format!("revision {} from {:?} is older than ours ({})", push.revision, push.from, self.revision);
                return Err(self.refuse(409, why));
            }
            Verdict::NotSlave => return Err(self.refuse(409, "this node is not an HA slave".into())),
        }
        let name = format!("{} (replicated from {}, revision {})", running.file, push.from, push.revision);
        let received = match provisioning::parse_str(&name, &push.config) {
            Ok(c) => c,
            Err(diags) => {
                for d in &diags.0 {
                    warn!("config push: {d}");
                }
                return Err(self.refuse(422, format!("{} problem(s), nothing applied: {diags}", diags.0.len())));
            }
        };
        let config = provisioning::replica::overlay_node_local(&received, running);
        self.received = Some(received);
        self.revision = push.revision;
        self.changed_unix_ms = unix_ms();
        self.source = format!("replicated from {}", push.from);
        self.accepted += 1;
        self.last_received = Some((unix_ms(), push.revision, push.from.clone()));
        Ok(Some(Change { config, what: format!("revision {} from {}", push.revision, push.from) }))
    }

    /// Records what applying a change left for the next start.
    pub fn applied(&mut self, what: &str, restart_pending: Vec<String>) {
        if restart_pending.is_empty() {
            info!("config: applied {what} (revision {})", self.revision);
        } else {
            warn!(
                "config: applied {what} (revision {}); takes effect at the next start: {}",
                self.revision,
                restart_pending.join(", ")
            );
        }
        self.restart_pending = restart_pending;
    }

    /// The master's pushes: answers in, the next push out. Call every loop turn.
    pub fn poll(&mut self, now: Instant) {
        let Side::Master { pusher, jobs, done, .. } = &mut self.side else { return };
        while let Ok((rev, r)) = done.try_recv() {
            match &r {
                Ok(slave_rev) if *slave_rev != rev => {
                    warn!("config: the slave runs revision {slave_rev} after our push of {rev}");
                }
                Ok(_) => info!("config: the slave runs revision {rev}"),
                Err(e) if pusher.last_error.as_deref() != Some(e.as_str()) => warn!("config push: {e}"),
                Err(_) => {}
            }
            pusher.done(now, unix_ms(), r);
        }
        let Some(shared) = &self.shared else { return };
        if pusher.poll(now, self.revision) {
            let push = Push { from: self.node.clone(), revision: self.revision, config: shared.clone() };
            let (body, tag) = push.seal(&self.key);
            let _ = jobs.send(PushJob { revision: self.revision, body, tag });
        }
    }

    /// When `poll` is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.side {
            Side::Master { pusher, .. } if self.shared.is_some() => pusher.poll_timeout(self.revision),
            _ => None,
        }
    }

    pub fn snapshot(&self, running: &Config) -> ConfigSnap {
        let replication = match &self.side {
            Side::None => None,
            Side::Master { peer, pusher, .. } => Some(ReplicationSnap {
                role: "push",
                peer: Some(peer.clone()),
                last_unix_ms: pusher.last_ok.map(|(t, _)| t),
                last_revision: pusher.last_ok.map(|(_, r)| r),
                pushes: pusher.pushes,
                push_failures: pusher.failures,
                last_push_error: pusher.last_error.clone(),
                share_error: self.share_error.clone(),
                ..ReplicationSnap::default()
            }),
            Side::Slave => Some(ReplicationSnap {
                role: "receive",
                last_unix_ms: self.last_received.as_ref().map(|r| r.0),
                last_revision: self.last_received.as_ref().map(|r| r.1),
                accepted: self.accepted,
                refused: self.refused,
                last_refusal: self.last_refusal.clone(),
                ..ReplicationSnap::default()
            }),
        };
        ConfigSnap {
            file: running.file.clone(),
            revision: self.revision,
            source: self.source.clone(),
            changed_unix_ms: self.changed_unix_ms,
            routes: running.routes.len(),
            description: running.board.description.clone(),
            restart_pending: self.restart_pending.clone(),
            reloads: self.reloads,
            failed_reloads: self.failed_reloads,
            last_error: self.last_error.clone(),
            replication,
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The config block of the status page.
pub fn html(h: &mut String, c: Option<&ConfigSnap>) {
    let Some(c) = c else { return };
    let _ = write!(
        h,
        r#"<h2 style="font-size:1.1em;margin-top:1em">Configuration</h2>
<table class="kv" id="config" data-revision="{rev}"><tr><td>revision</td><td>{rev} · {src} · {routes} route(s){pending}</td></tr>
"#,
        rev = c.revision,
        src = esc(&c.source),
        routes = c.routes,
        pending = if c.restart_pending.is_empty() {
            String::new()
        } else {
            format!(" · at the next start: {}", esc(&c.restart_pending.join(", ")))
        },
    );
    if let Some(r) = &c.replication {
        let last = match (r.last_unix_ms, r.last_revision) {
            (Some(t), Some(v)) => format!("revision {v} at {t}"),
            _ => "none yet".into(),
        };
        let extra = if r.role == "push" {
            format!(
                "{} push(es), {} failed{}",
                r.pushes,
                r.push_failures,
                r.last_push_error.as_deref().map_or(String::new(), |e| format!(" · {}", esc(e)))
            )
        } else {
            format!(
                "{} accepted, {} refused{}",
                r.accepted,
                r.refused,
                r.last_refusal.as_deref().map_or(String::new(), |e| format!(" · {}", esc(e)))
            )
        };
        let _ = writeln!(h, "<tr><td>replication</td><td>{} · last {last} · {extra}</td></tr>", r.role);
    }
    h.push_str("</table>\n");
}

/// The config metric families.
pub fn metrics(m: &mut String, c: Option<&ConfigSnap>) {
    let Some(c) = c else { return };
    let mut family = |name: &str, help: &str, kind: &str, value: String| {
        let _ = writeln!(m, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    family(
        "spangate_config_revision",
        "Revision of the running config (the master's clock in ms at the change; 0: a slave's own file).",
        "gauge",
        c.revision.to_string(),
    );
    let Some(r) = &c.replication else { return };
    let last = r.last_unix_ms.map_or_else(|| "NaN".into(), |t| format!("{:.3}", ms_to_s(t)));
    family(
        "spangate_config_replication_last_timestamp_seconds",
        "When the last replication succeeded (unix time).",
        "gauge",
        last,
    );
    let rev = r.last_revision.map_or_else(|| "NaN".into(), |v| v.to_string());
    family("spangate_config_replication_last_revision", "Revision of the last successful replication.", "gauge", rev);
    family("spangate_config_pushes_total", "Config pushes tried by the master.", "counter", r.pushes.to_string());
    family(
        "spangate_config_push_failures_total",
        "Config pushes that failed or were refused.",
        "counter",
        r.push_failures.to_string(),
    );
    family(
        "spangate_config_pushes_accepted_total",
        "Config pushes applied by the slave.",
        "counter",
        r.accepted.to_string(),
    );
    family(
        "spangate_config_pushes_refused_total",
        "Config pushes the slave refused (unauthenticated, not from the master, stale, invalid).",
        "counter",
        r.refused.to_string(),
    );
}

fn ms_to_s(ms: u64) -> f64 {
    // Seconds since 1970 in f64 keep millisecond precision for millennia.
    let (s, rem) = (ms / 1000, ms % 1000);
    f64::from(u32::try_from(s).unwrap_or(u32::MAX)) + f64::from(u32::try_from(rem).unwrap_or(0)) / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef-pair";

    fn node(role: &str, name: &str, extra: &str) -> String {
        format!(
            "[board]\nname = \"{name}-board\"\nmodel = \"sim-e1x2\"\ndescription = \"d\"\n\
             [[board.span]]\nspan = 1\nkind = \"e1\"\nsignalling = \"pri_cpe\"\n\
             [[board.span]]\nspan = 2\nkind = \"e1\"\nsignalling = \"pri_net\"\n\
             [ha]\nrole = \"{role}\"\nnode = \"{name}\"\npeer = \"127.0.0.1:5405\"\nkey = \"{KEY}\"\n{extra}"
        )
    }

    fn waker() -> (mio::Poll, Arc<mio::Waker>) {
        let poll = mio::Poll::new().expect("poll");
        let w = Arc::new(mio::Waker::new(poll.registry(), mio::Token(0)).expect("waker"));
        (poll, w)
    }

    fn push(revision: u64, config: &str) -> (Vec<u8>, String) {
        Push { from: "gw-a".into(), revision, config: config.into() }.seal(KEY.as_bytes())
    }

    #[test]
    fn a_slave_takes_only_authentic_newer_valid_pushes() {
        let (_poll, w) = waker();
        let slave = provisioning::parse_str("slave.toml", &node("slave", "gw-b", "")).unwrap();
        let mut st = ConfigState::new(&slave, w, Instant::now()).unwrap();
        assert_eq!(st.revision, 0, "a slave starts on its own file");
        let shared = provisioning::replica::shareable(&node(
            "master",
            "gw-a",
            "[[route]]\nfrom = \"span:1\"\nto = \"span:2\"\n",
        ))
        .unwrap();

        let (body, tag) = push(10, &shared);
        let change = st.receive(&body, Some(&tag), &slave).unwrap().expect("applied");
        assert_eq!((st.revision, change.config.routes.len()), (10, 1));
        assert_eq!((change.config.board.name.as_str(), change.config.ha.clone()), ("gw-b-board", slave.ha.clone()));
        assert_eq!(st.receive(&body, Some(&tag), &slave).unwrap().map(|c| c.what), None, "current: nothing to do");

        let (old, old_tag) = push(5, &shared);
        assert_eq!(st.receive(&old, Some(&old_tag), &slave).unwrap_err().0, 409, "stale");
        assert_eq!(st.receive(&body, Some(&"00".repeat(32)), &slave).unwrap_err().0, 401);
        assert_eq!(st.receive(&body, None, &slave).unwrap_err().0, 401);
        let bad = shared.replace("to = \"span:2\"", "to = \"span:9\"");
        let (b, t) = push(11, &bad);
        let (status, why) = st.receive(&b, Some(&t), &slave).unwrap_err();
        assert_eq!(status, 422);
        assert!(why.contains("replicated from gw-a, revision 11") && why.contains("route[0].to"), "{why}");
        assert_eq!((st.revision, st.refused, st.accepted), (10, 4, 1), "nothing applied, every refusal counted");
        let snap = st.snapshot(&change.config);
        let r = snap.replication.expect("a slave replicates");
        assert_eq!((r.role, r.last_revision, r.refused), ("receive", Some(10), 4));
        assert_eq!(snap.source, "replicated from gw-a");
    }

    #[test]
    fn only_a_slave_takes_pushes() {
        let (_poll, w) = waker();
        let alone = provisioning::parse_str("alone.toml", "[board]\nmodel = \"sim-e1x2\"\n").unwrap();
        let mut st = ConfigState::new(&alone, w, Instant::now()).unwrap();
        assert!(st.revision > 0);
        let (body, tag) = push(u64::MAX, "[board]\nmodel = \"sim-e1x2\"\n");
        assert_eq!(st.receive(&body, Some(&tag), &alone).unwrap_err().0, 409);
        assert_eq!(st.reload(&alone).unwrap_err().0, 409, "no file to reload");
    }

    #[test]
    fn a_reload_takes_a_new_revision_only_when_what_it_shares_changed() {
        let (_poll, w) = waker();
        let dir = std::env::temp_dir().join(format!("spangate-config-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("node.toml");
        let write = |extra: &str| std::fs::write(&path, format!("[board]\nmodel = \"sim-e1x2\"\n{extra}")).unwrap();
        write("");
        let cfg = provisioning::load_file(&path).unwrap();
        let mut st = ConfigState::new(&cfg, w, Instant::now()).unwrap();
        let first = st.revision;
        write("# a comment\n[log]\nlevel = \"debug\"\n");
        let c = st.reload(&cfg).unwrap();
        assert_eq!((st.revision, c.config.log.level.as_str()), (first, "debug"), "node-local only: same revision");
        write("[log]\nlevel = \"debug\"\n[board.span]\n");
        assert_eq!(st.reload(&cfg).unwrap_err().0, 422, "bad: refused");
        assert_eq!((st.revision, st.failed_reloads), (first, 1));
        write("description = \"new\"\n");
        let c = st.reload(&cfg).unwrap();
        assert!(st.revision > first, "a shared change is a new revision");
        assert_eq!(c.config.board.description, "new");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
