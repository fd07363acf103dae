//! Configuration replication (Step 6, build item 6): the master pushes its shareable config
//! (`provisioning::replica::shareable`) to the slave's HTTP API, authenticated with HMAC-SHA256
//! under the pair's heartbeat key; the slave checks, validates and applies it like a local reload.
//!
//! Why a push over the peer's HTTP API: a change reaches the slave as soon as it is made (no
//! polling period to wait out), the master learns from the answer which revision the slave runs
//! (shown on its status), and `peer_http` is already configured for the second path. The
//! heartbeat stays a fixed 58-byte datagram. The body is not encrypted (neither is the
//! heartbeat): SIP trunk passwords cross the link between the two nodes in clear; the HA key
//! itself never does (`[ha]` is node-local and cut out).
//!
//! `POST /api/v1/ha/config`, header `X-Spangate-Hmac: <64 hex digits>` = HMAC-SHA256(key, body),
//! body JSON `{"version":1,"role":"master","from":NODE,"revision":N,"config":TOML}`. The tag is
//! checked before a byte of the body is interpreted. Answers: 200 `{"revision":N}` (applied, or
//! already current), 401 (no tag, bad tag), 409 (not from the master, not to a slave, older than
//! ours), 422 (the config does not validate: nothing applied), each refusal counted.
//!
//! A revision is the master's clock in unix milliseconds when its config last changed (made
//! strictly increasing), so a restarted master is newer than anything it sent before, and a
//! replayed push is never newer than what the slave runs.
//!
//! ## The pusher (master side, sans-IO)
//!
//! | state | event | action | next |
//! |---|---|---|---|
//! | idle | revision differs from the slave's last answer, retry time reached | push | in flight |
//! | idle | `RESYNC` since the last push | push (a restarted slave runs its own file) | in flight |
//! | in flight | answer with the slave's revision | remember it | idle |
//! | in flight | failure or refusal | retry after `RETRY` | idle |

use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, Receiver, Sender};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// The header carrying the tag.
pub const HEADER: &str = "X-Spangate-Hmac";
/// Where the slave takes pushes.
pub const PATH: &str = "/api/v1/ha/config";
/// A failed push is tried again this much later.
pub const RETRY: Duration = Duration::from_secs(1);
/// An acknowledged revision is pushed again this often: a slave that restarted runs its own
/// file until then (it answers "current" at once when nothing changed).
pub const RESYNC: Duration = Duration::from_secs(10);
/// One push's connect, write and read each.
const PUSH_TIMEOUT: Duration = Duration::from_millis(1500);
const VERSION: u64 = 1;

/// One replicated config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// The master's node name.
    pub from: String,
    pub revision: u64,
    /// The master's shareable config text.
    pub config: String,
}

/// Why a push was refused before its config was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    /// No `X-Spangate-Hmac` header, or not 64 hex digits.
    NoTag,
    /// The tag does not verify: wrong key or altered bytes.
    Authentication,
    /// Authentic but not what a master sends (an older or newer version of us).
    Malformed(String),
    /// Authentic but the sender says it is not the master.
    NotFromMaster,
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::NoTag => write!(f, "no {HEADER} header of 64 hex digits"),
            PushError::Authentication => f.write_str("the HMAC does not verify (wrong key or altered body)"),
            PushError::Malformed(m) => write!(f, "malformed push: {m}"),
            PushError::NotFromMaster => f.write_str("the sender is not the master"),
        }
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    <Hmac<Sha256> as hmac::Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        s
    })
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim().as_bytes();
    if s.len() != 64 {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *o = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

impl Push {
    /// The body and its tag (hex) under `key`.
    pub fn seal(&self, key: &[u8]) -> (Vec<u8>, String) {
        let body = serde_json::json!({
            "version": VERSION,
            "role": "master",
            "from": self.from,
            "revision": self.revision,
            "config": self.config,
        })
        .to_string()
        .into_bytes();
        let mut m = mac(key);
        m.update(&body);
        let tag = hex(&m.finalize().into_bytes());
        (body, tag)
    }

    /// Checks the tag over `body`, then reads it. Never panics, whatever the bytes.
    pub fn open(body: &[u8], tag: Option<&str>, key: &[u8]) -> Result<Push, PushError> {
        let tag = tag.and_then(unhex).ok_or(PushError::NoTag)?;
        let mut m = mac(key);
        m.update(body);
        m.verify_slice(&tag).map_err(|_| PushError::Authentication)?;
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| PushError::Malformed(format!("not JSON: {e}")))?;
        let field = |k: &str| v.get(k).ok_or_else(|| PushError::Malformed(format!("no `{k}`")));
        if field("version")?.as_u64() != Some(VERSION) {
            return Err(PushError::Malformed(format!("version {} (we speak {VERSION})", field("version")?)));
        }
        if field("role")?.as_str() != Some("master") {
            return Err(PushError::NotFromMaster);
        }
        let text = |k: &str| {
            field(k)?.as_str().map(str::to_string).ok_or_else(|| PushError::Malformed(format!("`{k}` is not a string")))
        };
        let revision =
            field("revision")?.as_u64().ok_or_else(|| PushError::Malformed("`revision` is not a number".into()))?;
        Ok(Push { from: text("from")?, revision, config: text("config")? })
    }
}

/// What a slave does with an authentic push, before validating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Newer than ours: validate and apply.
    Apply,
    /// The revision we run already.
    Current,
    /// Older than ours (a replay, or a master whose clock went back): refused.
    Stale,
    /// We are not a slave of a pair: nobody may push to us.
    NotSlave,
}

/// The slave's rule: only a slave takes pushes, and only newer revisions.
pub fn judge(we_are_slave: bool, ours: u64, pushed: u64) -> Verdict {
    if !we_are_slave {
        Verdict::NotSlave
    } else if pushed > ours {
        Verdict::Apply
    } else if pushed == ours {
        Verdict::Current
    } else {
        Verdict::Stale
    }
}

/// The master's side: when to push, and what the slave last said.
#[derive(Debug, Clone)]
pub struct Pusher {
    /// The revision the slave last said it runs.
    pub acked: Option<u64>,
    in_flight: bool,
    next_try: Instant,
    last_push: Option<Instant>,
    pub pushes: u64,
    pub failures: u64,
    /// The last failure, for the status.
    pub last_error: Option<String>,
    /// When (unix ms) and which revision the slave last acknowledged.
    pub last_ok: Option<(u64, u64)>,
}

impl Pusher {
    pub fn new(now: Instant) -> Pusher {
        Pusher {
            acked: None,
            in_flight: false,
            next_try: now,
            last_push: None,
            pushes: 0,
            failures: 0,
            last_error: None,
            last_ok: None,
        }
    }

    /// Whether to push `revision` now; if so, it is in flight until `done`.
    pub fn poll(&mut self, now: Instant, revision: u64) -> bool {
        if self.in_flight || now < self.next_try {
            return false;
        }
        let due = self.acked != Some(revision) || self.last_push.is_none_or(|t| now >= t + RESYNC);
        if due {
            self.in_flight = true;
            self.pushes += 1;
            self.last_push = Some(now);
        }
        due
    }

    /// The answer to the push in flight: the revision the slave runs, or why it failed.
    pub fn done(&mut self, now: Instant, unix_ms: u64, result: Result<u64, String>) {
        self.in_flight = false;
        match result {
            Ok(rev) => {
                self.acked = Some(rev);
                self.last_ok = Some((unix_ms, rev));
                self.last_error = None;
            }
            Err(e) => {
                self.failures += 1;
                self.last_error = Some(e);
                self.next_try = now + RETRY;
            }
        }
    }

    /// When `poll` may next say yes.
    pub fn poll_timeout(&self, revision: u64) -> Option<Instant> {
        if self.in_flight {
            return None;
        }
        if self.acked != Some(revision) {
            return Some(self.next_try);
        }
        Some(self.last_push.map_or(self.next_try, |t| (t + RESYNC).max(self.next_try)))
    }
}

/// A push's answer: the revision pushed, and the slave's revision or why it failed.
pub type PushDone = (u64, Result<u64, String>);

/// One push to do: the revision, the body and its tag.
pub struct PushJob {
    pub revision: u64,
    pub body: Vec<u8>,
    pub tag: String,
}

/// Starts the `ha-push` thread: it POSTs each job to `addr` and answers (pushed revision, the
/// slave's revision or the failure), waking the event loop. Blocking sockets live only here.
pub fn spawn_pusher(addr: SocketAddr, waker: Arc<mio::Waker>) -> Result<(Sender<PushJob>, Receiver<PushDone>), String> {
    let (job_tx, job_rx) = unbounded::<PushJob>();
    let (done_tx, done_rx) = unbounded();
    std::thread::Builder::new()
        .name("ha-push".into())
        .spawn(move || {
            for job in job_rx {
                let r = post(addr, &job);
                if done_tx.send((job.revision, r)).is_err() || waker.wake().is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("start the config push thread: {e}"))?;
    Ok((job_tx, done_rx))
}

fn post(addr: SocketAddr, job: &PushJob) -> Result<u64, String> {
    let attempt = || -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect_timeout(&addr, PUSH_TIMEOUT)?;
        s.set_read_timeout(Some(PUSH_TIMEOUT))?;
        s.set_write_timeout(Some(PUSH_TIMEOUT))?;
        write!(
            s,
            "POST {PATH} HTTP/1.0\r\nHost: {addr}\r\n{HEADER}: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            job.tag,
            job.body.len()
        )?;
        s.write_all(&job.body)?;
        let mut resp = Vec::new();
        s.take(64 * 1024).read_to_end(&mut resp)?;
        Ok(resp)
    };
    let resp = attempt().map_err(|e| format!("{addr}: {e}"))?;
    let text = String::from_utf8_lossy(&resp);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let v: Option<serde_json::Value> = serde_json::from_str(body).ok();
    match (status, v.as_ref().and_then(|v| v.get("revision")?.as_u64())) {
        (200, Some(rev)) => Ok(rev),
        _ => {
            let why = v.as_ref().and_then(|v| v.get("error")?.as_str().map(str::to_string));
            Err(format!("slave answered {status}: {}", why.unwrap_or_else(|| body.chars().take(200).collect())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef-pair";

    fn push() -> Push {
        Push { from: "gw-a".into(), revision: 1_764_000_000_123, config: "[board]\nmodel = \"s\"\n".into() }
    }

    #[test]
    fn sealed_push_opens_with_the_key_only() {
        let (body, tag) = push().seal(KEY);
        assert_eq!(tag.len(), 64);
        assert_eq!(Push::open(&body, Some(&tag), KEY), Ok(push()));
        assert_eq!(Push::open(&body, Some(&tag), b"another key of 16+ bytes"), Err(PushError::Authentication));
        assert_eq!(Push::open(&body, None, KEY), Err(PushError::NoTag));
        assert_eq!(Push::open(&body, Some("abc"), KEY), Err(PushError::NoTag));
        assert_eq!(Push::open(&body, Some(&"zz".repeat(32)), KEY), Err(PushError::NoTag));
        // One byte changed anywhere (here the revision) breaks the tag.
        let mut bad = body.clone();
        let at = bad.windows(3).position(|w| w == b"123").unwrap();
        bad[at] = b'9';
        assert_eq!(Push::open(&bad, Some(&tag), KEY), Err(PushError::Authentication));
    }

    #[test]
    fn every_altered_body_or_tag_is_refused_without_a_panic() {
        let (body, tag) = push().seal(KEY);
        for at in 0..body.len() {
            for delta in [1u8, 0x80] {
                let mut b = body.clone();
                b[at] ^= delta;
                assert_eq!(Push::open(&b, Some(&tag), KEY), Err(PushError::Authentication), "byte {at}");
            }
            assert!(Push::open(&body[..at], Some(&tag), KEY).is_err(), "cut at {at}");
        }
        for at in 0..tag.len() {
            let mut t = tag.clone().into_bytes();
            t[at] = if t[at] == b'0' { b'1' } else { b'0' };
            let t = String::from_utf8(t).unwrap();
            assert_eq!(Push::open(&body, Some(&t), KEY), Err(PushError::Authentication), "tag digit {at}");
        }
        // Upper-case hex and surrounding blanks are the same tag.
        assert_eq!(Push::open(&body, Some(&format!(" {} ", tag.to_uppercase())), KEY), Ok(push()));
    }

    #[test]
    fn authentic_but_wrong_pushes_are_refused() {
        let seal = |v: serde_json::Value| {
            let body = v.to_string().into_bytes();
            let mut m = mac(KEY);
            m.update(&body);
            let tag = hex(&m.finalize().into_bytes());
            Push::open(&body, Some(&tag), KEY)
        };
        let ok = serde_json::json!({"version":1,"role":"master","from":"a","revision":5,"config":""});
        assert!(seal(ok.clone()).is_ok());
        let mut slave = ok.clone();
        slave["role"] = "slave".into();
        assert_eq!(seal(slave), Err(PushError::NotFromMaster));
        let mut v2 = ok.clone();
        v2["version"] = 2.into();
        assert!(matches!(seal(v2), Err(PushError::Malformed(_))));
        let mut neg = ok;
        neg["revision"] = (-1).into();
        assert!(matches!(seal(neg), Err(PushError::Malformed(_))));
        assert!(matches!(seal(serde_json::json!([1, 2])), Err(PushError::Malformed(_))));
    }

    #[test]
    fn only_a_slave_takes_only_newer_revisions() {
        assert_eq!(judge(true, 5, 6), Verdict::Apply);
        assert_eq!(judge(true, 5, 5), Verdict::Current);
        assert_eq!(judge(true, 5, 4), Verdict::Stale);
        assert_eq!(judge(false, 0, 6), Verdict::NotSlave);
    }

    #[test]
    fn pusher_pushes_changes_retries_failures_and_resyncs() {
        let t0 = Instant::now();
        let mut p = Pusher::new(t0);
        assert!(p.poll(t0, 7));
        assert!(!p.poll(t0, 7), "one push in flight at a time");
        p.done(t0, 1, Err("refused".into()));
        assert!(!p.poll(t0 + RETRY / 2, 7), "a failure waits RETRY");
        assert_eq!(p.poll_timeout(7), Some(t0 + RETRY));
        assert!(p.poll(t0 + RETRY, 7));
        p.done(t0 + RETRY, 2, Ok(7));
        assert_eq!((p.acked, p.last_ok, p.last_error.clone()), (Some(7), Some((2, 7)), None));
        assert!(!p.poll(t0 + RETRY * 2, 7), "acknowledged: nothing to push");
        assert!(p.poll(t0 + RETRY * 2, 8), "a new revision goes at once");
        p.done(t0 + RETRY * 2, 3, Ok(8));
        assert_eq!(p.poll_timeout(8), Some(t0 + RETRY * 2 + RESYNC));
        assert!(p.poll(t0 + RETRY * 2 + RESYNC, 8), "resync");
        assert_eq!((p.pushes, p.failures), (4, 1));
    }
}
