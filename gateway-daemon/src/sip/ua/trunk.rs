//! Per-trunk configuration and the two per-trunk machines of the endpoint: outbound
//! registration (RFC 3261 §10.2) with refresh and backoff, and the OPTIONS keepalive that marks
//! a trunk down after N unanswered probes and up on the first answer.
//!
//! # Registration
//! | State | Event | Action | Next |
//! |---|---|---|---|
//! | Unregistered | start (at creation) | send REGISTER | Registering |
//! | Registering | 401/407, credentials, first time for this nonce | REGISTER with Authorization | Registering |
//! | Registering | 2xx | refresh at half the granted expiry (expiry - 30 s above 2 min) | Registered |
//! | Registering | other final, timer F | retry after the backoff (doubles to its maximum) | Failed |
//! | Registered, Failed | refresh / retry time | send REGISTER | Registering |
//! | any | unregister | REGISTER with Expires: 0, no refresh | Registering |
//! | Registering (removing) | 2xx | - | Unregistered |
//!
//! # Keepalive
//! | State | Event | Action | Next |
//! |---|---|---|---|
//! | any | interval elapsed | send OPTIONS | - |
//! | Unknown, Down | any final response | report up | Up |
//! | Unknown, Up | Nth timer F in a row | report down | Down |

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::call::Owner;
use super::SipEvent;
use crate::sip::digest::Algorithm;
use crate::sip::header::{Contacts, Method};
use crate::sip::message::Message;
use crate::sip::transaction::{ClientKey, Transport};
use crate::sip::uri::Uri;

/// One SIP trunk: the peer (PBX, provider) we place calls to and take calls from.
/// Another layer maps the configuration file onto this plain struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkConfig {
    pub name: String,
    /// Where requests go (no DNS here: the daemon resolves names before).
    pub addr: SocketAddr,
    pub transport: Transport,
    /// The host part of the Request-URI, From and To (`pbx.example.com`); empty uses `addr`.
    pub domain: String,
    /// Credentials we answer 401/407 with, and register with.
    pub username: String,
    pub password: String,
    /// Register to the trunk (REGISTER sip:domain) with this expiry in seconds.
    pub register: bool,
    pub register_expires: u32,
    /// First and largest wait before retrying a failed registration.
    pub register_retry: Duration,
    pub register_retry_max: Duration,
    /// Inbound authentication: when not empty, INVITEs from this trunk are challenged (401)
    /// in this realm and must answer with one of `inbound_credentials` (user, password).
    pub inbound_realm: String,
    pub inbound_credentials: Vec<(String, String)>,
    pub inbound_algorithm: Algorithm,
    /// Source networks trusted as this trunk without authentication (`/32` for one host);
    /// `addr`'s IP always is, unless `inbound_realm` asks for authentication.
    pub trusted_sources: Vec<provisioning::IpNet>,
    /// OPTIONS keepalive interval; zero turns it off.
    pub keepalive_interval: Duration,
    /// Unanswered probes in a row that mark the trunk down.
    pub keepalive_failures: u32,
    pub max_forwards: u32,
}

impl Default for TrunkConfig {
    fn default() -> TrunkConfig {
        TrunkConfig {
            name: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 5060)),
            transport: Transport::Udp,
            domain: String::new(),
            username: String::new(),
            password: String::new(),
            register: false,
            register_expires: 3600,
            register_retry: Duration::from_secs(30),
            register_retry_max: Duration::from_secs(600),
            inbound_realm: String::new(),
            inbound_credentials: Vec::new(),
            inbound_algorithm: Algorithm::Md5,
            trusted_sources: Vec::new(),
            keepalive_interval: Duration::ZERO,
            keepalive_failures: 3,
            max_forwards: 70,
        }
    }
}

impl TrunkConfig {
    /// The host (and port) written in URIs toward this trunk.
    pub fn uri_host(&self) -> String {
        if self.domain.is_empty() {
            self.addr.to_string()
        } else {
            self.domain.clone()
        }
    }

    /// Whether a source address is this trunk without authentication.
    pub fn trusts(&self, src: SocketAddr) -> bool {
        self.inbound_realm.is_empty()
            && (self.addr.ip() == src.ip() || self.trusted_sources.iter().any(|n| n.contains(src.ip())))
    }

    /// Whether INVITEs from this trunk must authenticate.
    pub fn challenges(&self) -> bool {
        !self.inbound_realm.is_empty()
    }
}

/// Where a trunk's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegState {
    Unregistered,
    Registering,
    /// Registered for this many seconds as granted by the registrar.
    Registered {
        expires: u32,
    },
    /// The last attempt failed with this status (`None`: timer F, no answer).
    Failed {
        status: Option<u16>,
    },
}

/// The time to refresh a binding granted for `expires` seconds: half the time for short
/// bindings, 30 s before expiry for long ones, never sooner than 1 s.
pub fn refresh_after(expires: u32) -> Duration {
    let secs = if expires > 120 { expires - 30 } else { expires / 2 };
    Duration::from_secs(u64::from(secs.max(1)))
}

/// The runtime of one trunk.
#[derive(Debug, Clone)]
pub(super) struct TrunkRt {
    pub reg: RegState,
    pub reg_call_id: String,
    pub reg_tag: String,
    pub reg_cseq: u32,
    pub reg_next: Option<Instant>,
    pub reg_backoff: Duration,
    pub reg_tx: Option<ClientKey>,
    /// Whether the last REGISTER already carried credentials for a challenge (a second
    /// challenge that is not `stale` means they are wrong).
    pub reg_authed: bool,
    /// The binding is being removed (Expires: 0); its 2xx leaves the trunk Unregistered.
    pub unregistering: bool,
    pub ka_next: Option<Instant>,
    pub ka_misses: u32,
    /// `None` until the first probe settles it.
    pub up: Option<bool>,
}

impl TrunkRt {
    pub fn new(now: Instant, cfg: &TrunkConfig, call_id: String, tag: String) -> TrunkRt {
        TrunkRt {
            reg: RegState::Unregistered,
            reg_call_id: call_id,
            reg_tag: tag,
            reg_cseq: 0,
            reg_next: cfg.register.then_some(now),
            reg_backoff: cfg.register_retry,
            reg_tx: None,
            reg_authed: false,
            unregistering: false,
            ka_next: (!cfg.keepalive_interval.is_zero()).then_some(now),
            ka_misses: 0,
            up: None,
        }
    }

    /// A failed attempt: the retry time, and the backoff doubled for the next one.
    pub fn reg_failed(&mut self, now: Instant, cfg: &TrunkConfig, status: Option<u16>) {
        self.reg = RegState::Failed { status };
        self.reg_next = Some(now + self.reg_backoff);
        self.reg_backoff = (self.reg_backoff * 2).min(cfg.register_retry_max);
        self.reg_tx = None;
        self.reg_authed = false;
    }

    pub fn reg_ok(&mut self, now: Instant, cfg: &TrunkConfig, expires: u32) {
        self.reg = RegState::Registered { expires };
        self.reg_next = Some(now + refresh_after(expires));
        self.reg_backoff = cfg.register_retry;
        self.reg_tx = None;
        self.reg_authed = false;
    }

    /// A probe answered (any final status: the peer is alive). `Some(true)` when it changed.
    pub fn ka_answered(&mut self) -> Option<bool> {
        self.ka_misses = 0;
        let changed = self.up != Some(true);
        self.up = Some(true);
        changed.then_some(true)
    }

    /// A probe timed out. `Some(false)` when this marks the trunk down.
    pub fn ka_missed(&mut self, cfg: &TrunkConfig) -> Option<bool> {
        self.ka_misses = self.ka_misses.saturating_add(1);
        if self.ka_misses >= cfg.keepalive_failures.max(1) && self.up != Some(false) {
            self.up = Some(false);
            return Some(false);
        }
        None
    }
}

impl super::SipEndpoint {
    /// Registration and keepalive timers of every trunk.
    pub(super) fn trunks_timeout(&mut self, now: Instant) {
        for i in 0..self.trunks.len() {
            if self.trunks[i].reg_next.is_some_and(|t| t <= now) {
                self.trunks[i].reg_next = None;
                self.send_register(now, i, None);
            }
            if self.trunks[i].ka_next.is_some_and(|t| t <= now) {
                let interval = self.cfg.trunks[i].keepalive_interval;
                self.trunks[i].ka_next = Some(now + interval);
                self.send_keepalive(now, i);
            }
        }
    }

    /// REGISTER sip:domain, To/From the registered user, one Call-ID per trunk (§10.2.4).
    /// `auth_from` is the challenge to answer.
    fn send_register(&mut self, now: Instant, i: usize, auth_from: Option<(&Message, &Message)>) {
        let cfg = self.cfg.trunks[i].clone();
        let host = cfg.uri_host();
        let req = match auth_from {
            Some((sent, resp)) => match self.with_auth(i, sent, resp) {
                Some(r) => r,
                None => return self.register_failed(now, i, resp.status()),
            },
            None => {
                let Ok(uri) = Uri::parse(&format!("sip:{host}")) else { return self.register_failed(now, i, None) };
                let Some(mut from) = super::name_addr(&cfg.username, &host, None) else {
                    return self.register_failed(now, i, None);
                };
                let Some(to) = super::name_addr(&cfg.username, &host, None) else { return };
                from.set_tag(&self.trunks[i].reg_tag);
                let mut m = Message::request(Method::Register, uri);
                m.push_header("From", from);
                m.push_header("To", to);
                m.push_header("Call-ID", &self.trunks[i].reg_call_id);
                m.push_header("CSeq", format!("{} REGISTER", self.trunks[i].reg_cseq.wrapping_add(1)));
                m.push_header("Contact", self.contact(&cfg.username, cfg.transport));
                let expires = if self.trunks[i].unregistering { 0 } else { cfg.register_expires };
                m.push_header("Expires", expires);
                m
            }
        };
        self.trunks[i].reg_cseq = req.cseq().map_or(self.trunks[i].reg_cseq, |c| c.seq);
        let changed = self.trunks[i].reg != RegState::Registering;
        self.trunks[i].reg = RegState::Registering;
        let key = self.send_request(now, req, cfg.addr, cfg.transport, cfg.max_forwards, Owner::Register(i));
        self.trunks[i].reg_tx = key;
        if changed {
            self.events.push_back(SipEvent::Registration { trunk: i, state: RegState::Registering });
        }
    }

    /// Removes our binding (REGISTER with Expires: 0, §10.2.2), e.g. before shutting down;
    /// no refresh follows. `false` for a trunk that does not register.
    pub fn unregister(&mut self, now: Instant, trunk: usize) -> bool {
        if !self.cfg.trunks.get(trunk).is_some_and(|t| t.register) {
            return false;
        }
        self.trunks[trunk].unregistering = true;
        self.trunks[trunk].reg_next = None;
        self.trunks[trunk].reg_authed = false;
        self.send_register(now, trunk, None);
        true
    }

    fn register_failed(&mut self, now: Instant, i: usize, status: Option<u16>) {
        let cfg = self.cfg.trunks[i].clone();
        self.trunks[i].reg_failed(now, &cfg, status);
        if self.trunks[i].unregistering {
            // Removing the binding failed: it expires by itself; do not register again.
            self.trunks[i].reg_next = None;
        }
        self.events.push_back(SipEvent::Registration { trunk: i, state: self.trunks[i].reg });
    }

    pub(super) fn on_register_response(&mut self, now: Instant, i: usize, key: &ClientKey, resp: &Message) {
        let Some(code) = resp.status() else { return };
        match code {
            100..=199 => {}
            200..=299 if self.trunks[i].unregistering => {
                self.trunks[i].reg = RegState::Unregistered;
                self.trunks[i].reg_tx = None;
                self.events.push_back(SipEvent::Registration { trunk: i, state: RegState::Unregistered });
            }
            200..=299 => {
                let cfg = self.cfg.trunks[i].clone();
                let expires = granted_expires(resp, &self.cfg.local_addr.to_string()).unwrap_or(cfg.register_expires);
                self.trunks[i].reg_ok(now, &cfg, expires);
                self.events.push_back(SipEvent::Registration { trunk: i, state: self.trunks[i].reg });
            }
            401 | 407 => {
                let stale = resp
                    .auth(if code == 401 { "www-authenticate" } else { "proxy-authenticate" })
                    .iter()
                    .any(|p| p.get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")));
                if self.trunks[i].reg_authed && !stale {
                    return self.register_failed(now, i, Some(code));
                }
                let Some(sent) = self.clients.get(key).map(|e| e.tx.request().clone()) else { return };
                self.trunks[i].reg_authed = true;
                self.send_register(now, i, Some((&sent, resp)));
            }
            _ => self.register_failed(now, i, Some(code)),
        }
    }

    pub(super) fn on_register_timeout(&mut self, now: Instant, i: usize) {
        self.register_failed(now, i, None);
    }

    /// OPTIONS sip:domain out of dialog (RFC 3261 §11), our probe.
    fn send_keepalive(&mut self, now: Instant, i: usize) {
        let cfg = self.cfg.trunks[i].clone();
        let host = cfg.uri_host();
        let user = if cfg.username.is_empty() { "spangate" } else { &cfg.username };
        let (Ok(uri), Some(mut from), Some(to)) = (
            Uri::parse(&format!("sip:{host}")),
            super::name_addr(user, &host, None),
            super::name_addr(user, &host, None),
        ) else {
            return;
        };
        let tag = self.token();
        from.set_tag(&tag);
        let mut m = Message::request(Method::Options, uri);
        m.push_header("From", from);
        m.push_header("To", to);
        m.push_header("Call-ID", format!("{}@spangate", self.token()));
        m.push_header("CSeq", "1 OPTIONS");
        m.push_header("Accept", super::ACCEPT);
        self.send_request(now, m, cfg.addr, cfg.transport, cfg.max_forwards, Owner::Keepalive(i));
    }

    pub(super) fn on_keepalive_response(&mut self, i: usize, resp: &Message) {
        if resp.status().is_some_and(|c| c >= 200) {
            if let Some(up) = self.trunks[i].ka_answered() {
                self.events.push_back(SipEvent::TrunkState { trunk: i, up });
            }
        }
    }

    pub(super) fn on_keepalive_timeout(&mut self, i: usize) {
        let cfg = self.cfg.trunks[i].clone();
        if let Some(up) = self.trunks[i].ka_missed(&cfg) {
            self.events.push_back(SipEvent::TrunkState { trunk: i, up });
        }
    }
}

/// The expiry the registrar granted (§10.2.4): our Contact's `expires`, else the Expires header.
fn granted_expires(resp: &Message, local: &str) -> Option<u32> {
    if let Some(Contacts::List(list)) = resp.contacts() {
        let ours = list.iter().find(|c| c.uri.as_sip().is_some_and(|u| u.to_string().contains(local)));
        if let Some(e) = ours.and_then(|c| c.param("expires").flatten()).and_then(|e| e.trim().parse().ok()) {
            return Some(e);
        }
    }
    resp.header("expires").and_then(|e| e.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_is_before_expiry() {
        assert_eq!(refresh_after(3600), Duration::from_secs(3570));
        assert_eq!(refresh_after(60), Duration::from_secs(30));
        assert_eq!(refresh_after(1), Duration::from_secs(1));
        assert_eq!(refresh_after(0), Duration::from_secs(1));
    }

    #[test]
    fn backoff_doubles_to_its_maximum_and_resets() {
        let now = Instant::now();
        let cfg = TrunkConfig { register: true, ..TrunkConfig::default() };
        let mut t = TrunkRt::new(now, &cfg, "c".into(), "t".into());
        let mut waits = Vec::new();
        for _ in 0..7 {
            t.reg_failed(now, &cfg, Some(403));
            waits.push((t.reg_next.unwrap() - now).as_secs());
        }
        assert_eq!(waits, [30, 60, 120, 240, 480, 600, 600]);
        t.reg_ok(now, &cfg, 600);
        assert_eq!(t.reg_backoff, Duration::from_secs(30));
    }

    #[test]
    fn keepalive_goes_down_after_n_and_up_on_first_answer() {
        let cfg = TrunkConfig { keepalive_failures: 3, ..TrunkConfig::default() };
        let mut t = TrunkRt::new(Instant::now(), &cfg, "c".into(), "t".into());
        assert_eq!(t.ka_answered(), Some(true));
        assert_eq!(t.ka_answered(), None);
        assert_eq!(t.ka_missed(&cfg), None);
        assert_eq!(t.ka_missed(&cfg), None);
        assert_eq!(t.ka_missed(&cfg), Some(false));
        assert_eq!(t.ka_missed(&cfg), None);
        assert_eq!(t.ka_answered(), Some(true));
    }
}
