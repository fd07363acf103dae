//! The SIP user agent endpoint (`SipEndpoint`), sans-IO: datagrams and framed TCP messages in
//! through `handle_input(now, ..)`, timers through `handle_timeout(now)`, commands with a call
//! [`Handle`]; bytes out through `poll_transmit`, [`SipEvent`]s through `poll_event`, the next
//! deadline through `poll_timeout`. No sockets, no clock, no threads.
//!
//! Layers: [`crate::sip::transaction`] holds the four §17 machines, [`crate::sip::dialog`] the
//! §12 dialog state; this module matches messages to them, checks requests before they reach a
//! call (§8.2: 482 loop, 483 Max-Forwards, 501 method, 420 Require, 416 scheme, 505 version,
//! 400 malformed), answers OPTIONS, and owns the calls (`call`) and the trunks (`trunk`).
//!
//! Every handle gets exactly one [`SipEvent::Ended`], when the call is over on the wire
//! (BYE answered or timed out, final response to the INVITE, CANCEL done).
//!
//! Request checks, in order (after the transaction match, so retransmissions cost nothing):
//! | Condition | Answer |
//! |---|---|
//! | unparsable, too broken to answer | counted in [`Counters::garbage`], dropped |
//! | malformed but answerable | 400, counted in [`Counters::bad_requests`] |
//! | no RFC 3261 branch | 400 (RFC 2543 peers are not supported) |
//! | version other than SIP/2.0 | 505 |
//! | one of our own Via branches in Via | 482 (a loop through us) |
//! | Max-Forwards: 0, not OPTIONS | 483 |
//! | extension method | 501 with Allow |
//! | REGISTER, SUBSCRIBE... (known, not served) | 405 with Allow |
//! | `Contact: *` (only REGISTER may carry it) | 400 |
//! | Request-URI neither sip, sips nor tel | 416 |
//! | Require with a tag we lack | 420 with Unsupported |

mod call;
#[cfg(test)]
mod tests;
pub mod trunk;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::digest::Challenge;
use super::header::{Method, NameAddr, Via};
use super::message::{Message, StartLine};
use super::sdp::SessionDescription;
use super::transaction::{ClientKey, ClientTx, ServerKey, ServerTx, State as TxState, Timers, Transport, TxOut};
use super::uri::Uri;
pub use call::Handle;
use call::{Call, Owner};
use trunk::TrunkRt;
pub use trunk::{RegState, TrunkConfig};

/// What we allow, accept and support (answers to OPTIONS, 405, 501).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO";
pub const ACCEPT: &str = "application/sdp, application/dtmf-relay, application/dtmf";
/// We support no extensions yet; every Require option tag gets 420.
pub const SUPPORTED: &[&str] = &[];

/// The endpoint's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The address written in Via and Contact (the daemon's SIP socket as peers reach it).
    pub local_addr: SocketAddr,
    pub user_agent: String,
    pub timers: Timers,
    /// Seeds tags, branches, Call-IDs, nonces (the daemon passes a random value).
    pub seed: u64,
    pub trunks: Vec<TrunkConfig>,
}

impl Default for EndpointConfig {
    fn default() -> EndpointConfig {
        EndpointConfig {
            local_addr: SocketAddr::from(([127, 0, 0, 1], 5060)),
            user_agent: "spangate".to_owned(),
            timers: Timers::default(),
            seed: 1,
            trunks: Vec::new(),
        }
    }
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub transport: Transport,
    pub dst: SocketAddr,
    pub bytes: Vec<u8>,
}

/// What the endpoint tells the call layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipEvent {
    IncomingCall {
        handle: Handle,
        trunk: usize,
        /// The Request-URI user (the called number).
        request_user: Option<String>,
        from_user: Option<String>,
        from_display: Option<String>,
        to_user: Option<String>,
        offer: Option<SessionDescription>,
    },
    Progress {
        handle: Handle,
        code: u16,
        sdp: Option<SessionDescription>,
    },
    Answered {
        handle: Handle,
        sdp: Option<SessionDescription>,
    },
    /// The call is over. `status` is the final response that ended it (`None` for BYE and
    /// local hang-ups); `cause` the Q.850 cause from a Reason header, or mapped (RFC 3398).
    Ended {
        handle: Handle,
        status: Option<u16>,
        cause: u8,
        by_remote: bool,
    },
    /// The peer sent a re-INVITE; answer it with [`SipEndpoint::answer`] (or refuse it with
    /// [`SipEndpoint::reject`], which keeps the call).
    OfferChanged {
        handle: Handle,
        offer: Option<SessionDescription>,
    },
    /// Our re-INVITE was answered (491 on glare: retry later, §14.1).
    ReinviteDone {
        handle: Handle,
        status: u16,
        sdp: Option<SessionDescription>,
    },
    Dtmf {
        handle: Handle,
        digit: char,
        duration_ms: u32,
    },
    TrunkState {
        trunk: usize,
        up: bool,
    },
    Registration {
        trunk: usize,
        state: RegState,
    },
}

/// What went wrong with input, counted (logged once per kind).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams too broken to answer.
    pub garbage: u64,
    /// Malformed requests answered with 400.
    pub bad_requests: u64,
    /// Responses that match no transaction or call.
    pub stray_responses: u64,
    /// Requests refused before reaching a call (482, 483, 501, 405, 416, 420, 505).
    pub refused: u64,
    /// INVITEs whose credentials failed (after the first challenge).
    pub auth_failures: u64,
    /// Requests and responses sent again by timers.
    pub retransmissions: u64,
}

/// A refusal: status, reason phrase, extra headers.
type Refusal = (u16, &'static str, Vec<(&'static str, String)>);

struct ClientEntry {
    tx: ClientTx,
    owner: Owner,
    seq: u64,
}

/// The SIP user agent for every trunk of the gateway.
pub struct SipEndpoint {
    cfg: EndpointConfig,
    rng: u64,
    /// Every branch we create starts with this, so a request carrying one is a loop (482).
    branch_prefix: String,
    clients: HashMap<ClientKey, ClientEntry>,
    servers: HashMap<ServerKey, ServerTx>,
    calls: HashMap<u64, Call>,
    next_handle: u64,
    tx_seq: u64,
    trunks: Vec<TrunkRt>,
    /// Challenges we issued (inbound digest), newest last, bounded.
    challenges: VecDeque<(usize, Challenge)>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<SipEvent>,
    counters: Counters,
    warned: u8,
}

impl SipEndpoint {
    pub fn new(now: Instant, cfg: EndpointConfig) -> SipEndpoint {
        let mut ep = SipEndpoint {
            rng: cfg.seed ^ 0x5eed_5eed_0000_0001,
            branch_prefix: String::new(),
            clients: HashMap::new(),
            servers: HashMap::new(),
            calls: HashMap::new(),
            next_handle: 1,
            tx_seq: 0,
            trunks: Vec::new(),
            challenges: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
            warned: 0,
            cfg,
        };
        ep.branch_prefix = format!("z9hG4bK-sg{:08x}-", ep.random() & 0xffff_ffff);
        for i in 0..ep.cfg.trunks.len() {
            let (cid, tag) = (ep.token(), ep.token());
            let rt = TrunkRt::new(now, &ep.cfg.trunks[i], format!("{cid}@spangate"), tag);
            ep.trunks.push(rt);
        }
        ep
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.cfg
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// A trunk's registration state and whether its keepalive says it is up.
    pub fn trunk_status(&self, trunk: usize) -> Option<(RegState, Option<bool>)> {
        self.trunks.get(trunk).map(|t| (t.reg, t.up))
    }

    /// How many calls are alive (for tests and status).
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<SipEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let c = self.clients.values().filter_map(|e| e.tx.next_timeout());
        let s = self.servers.values().filter_map(ServerTx::next_timeout);
        let k = self.calls.values().filter_map(Call::next_timeout);
        let t = self.trunks.iter().flat_map(|t| [t.reg_next, t.ka_next]).flatten();
        c.chain(s).chain(k).chain(t).min()
    }

    /// splitmix64: deterministic from the seed, good enough for tags and branches, which must
    /// be unique, not secret (nonces are checked against what we issued).
    fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn token(&mut self) -> String {
        format!("{:016x}", self.random())
    }

    fn warn_once(&mut self, bit: u8, what: &str) {
        if self.warned & bit == 0 {
            self.warned |= bit;
            log::warn!("sip: {what} (further ones are only counted)");
        }
    }

    /// One UDP datagram or one framed TCP message from `src`.
    pub fn handle_input(&mut self, now: Instant, transport: Transport, src: SocketAddr, bytes: &[u8]) {
        match Message::parse(bytes) {
            Ok(msg) => match msg.start {
                StartLine::Request { .. } => self.on_request(now, transport, src, msg),
                StartLine::Response { .. } => self.on_response(now, msg),
            },
            Err(e) => match e.answerable() {
                Some(req) if req.method() != Some(&Method::Ack) => {
                    self.counters.bad_requests += 1;
                    self.warn_once(1, &format!("malformed request from {src}: {e}"));
                    let reason = format!("Bad Request ({})", e.kind);
                    let req = req.clone();
                    self.reply_stateless(transport, src, &req, 400, &reason.replace(['\r', '\n'], " "));
                }
                _ => {
                    self.counters.garbage += 1;
                    self.warn_once(2, &format!("unparsable datagram from {src}: {e}"));
                }
            },
        }
    }

    /// The header part of a message that arrived on a stream without Content-Length (the
    /// connection will be closed, §18.3): a request other than ACK is answered with 400 on it,
    /// anything else is counted as garbage.
    pub fn reject_unframed(&mut self, transport: Transport, src: SocketAddr, head: &[u8]) {
        let req = match Message::parse(head) {
            Ok(m) if matches!(m.start, StartLine::Request { .. }) => Some(m),
            Ok(_) => None,
            Err(e) => e.answerable().cloned(),
        };
        match req {
            Some(req) if req.method() != Some(&Method::Ack) => {
                self.counters.bad_requests += 1;
                self.warn_once(1, &format!("request without Content-Length on a stream from {src}"));
                self.reply_stateless(transport, src, &req, 400, "Bad Request (no Content-Length on a stream)");
            }
            _ => {
                self.counters.garbage += 1;
                self.warn_once(2, &format!("unframable stream message from {src}"));
            }
        }
    }

    /// The connection to `dst` failed or broke: each client transaction still waiting over it for
    /// its final response ends now (§17.1.1.2, §17.1.2.2) rather than at timer B or F. Its user
    /// sees a timeout, except that a call ends as with a 503 (§8.1.3.1).
    pub fn handle_transport_error(&mut self, now: Instant, transport: Transport, dst: SocketAddr) {
        let mut waiting: Vec<(u64, ClientKey)> = self
            .clients
            .iter()
            .filter(|(_, e)| e.tx.transport == transport && e.tx.dst == dst)
            .filter(|(_, e)| matches!(e.tx.state, TxState::Calling | TxState::Trying | TxState::Proceeding))
            .map(|(k, e)| (e.seq, k.clone()))
            .collect();
        waiting.sort_by_key(|w| w.0);
        for (_, key) in waiting {
            let Some(e) = self.clients.remove(&key) else { continue };
            match e.owner {
                Owner::Register(t) => self.on_register_timeout(now, t),
                Owner::Keepalive(t) => self.on_keepalive_timeout(t),
                owner => self.on_call_transport_error(now, owner),
            }
        }
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due: Vec<(u64, ClientKey)> = self
            .clients
            .iter()
            .filter(|(_, e)| e.tx.next_timeout().is_some_and(|t| t <= now))
            .map(|(k, e)| (e.seq, k.clone()))
            .collect();
        due.sort_by_key(|d| d.0);
        for (_, key) in due {
            let mut out = Vec::new();
            if let Some(e) = self.clients.get_mut(&key) {
                let before = e.tx.retransmissions;
                e.tx.on_timeout(now, &mut out);
                self.counters.retransmissions += u64::from(e.tx.retransmissions - before);
            }
            self.client_out(now, &key, out);
        }
        let due: Vec<ServerKey> = self
            .servers
            .iter()
            .filter(|(_, t)| t.next_timeout().is_some_and(|t| t <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let mut out = Vec::new();
            let ua = self.cfg.user_agent.clone();
            if let Some(tx) = self.servers.get_mut(&key) {
                let before = tx.retransmissions;
                tx.on_timeout(now, |r| base_response(r, 100, "Trying", &ua), &mut out);
                self.counters.retransmissions += u64::from(tx.retransmissions - before);
            }
            self.server_out(&key, out);
        }
        self.servers.retain(|_, t| !t.is_terminated());
        self.calls_timeout(now);
        self.trunks_timeout(now);
    }

    // ---- transaction plumbing ----

    /// Sends a new request through a client transaction: adds our Via (fresh branch, rport),
    /// Max-Forwards, User-Agent and Content-Length. Returns the transaction key.
    fn send_request(
        &mut self,
        now: Instant,
        mut req: Message,
        dst: SocketAddr,
        transport: Transport,
        max_forwards: u32,
        owner: Owner,
    ) -> Option<ClientKey> {
        let token = self.token();
        let branch = format!("{}{token}", self.branch_prefix);
        self.stamp_request(&mut req, transport, &branch, max_forwards);
        let mut out = Vec::new();
        let tx = ClientTx::start(now, req, dst, transport, self.cfg.timers, &mut out)?;
        let key = tx.key.clone();
        self.tx_seq += 1;
        self.clients.insert(key.clone(), ClientEntry { tx, owner, seq: self.tx_seq });
        self.client_out(now, &key, out);
        Some(key)
    }

    fn stamp_request(&self, req: &mut Message, transport: Transport, branch: &str, max_forwards: u32) {
        let via = format!("SIP/2.0/{} {};branch={branch};rport", transport.as_str(), self.cfg.local_addr);
        req.headers.retain(|h| h.key() != "via");
        req.headers.insert(0, super::message::Header::new("Via", &via));
        if req.header("max-forwards").is_none() {
            req.push_header("Max-Forwards", max_forwards);
        }
        if req.header("user-agent").is_none() {
            req.push_header("User-Agent", &self.cfg.user_agent);
        }
        if req.header("content-length").is_none() {
            req.push_header("Content-Length", req.body.len());
        }
    }

    /// A request sent outside any transaction (the ACK for a 2xx, §13.2.2.4).
    fn send_ack(&mut self, mut ack: Message, dst: SocketAddr, transport: Transport) -> Vec<u8> {
        let token = self.token();
        let branch = format!("{}{token}", self.branch_prefix);
        self.stamp_request(&mut ack, transport, &branch, 70);
        let bytes = ack.to_bytes();
        self.transmits.push_back(Transmit { transport, dst, bytes: bytes.clone() });
        bytes
    }

    fn on_tx_response(&mut self, now: Instant, owner: Owner, key: &ClientKey, resp: Message) {
        match owner {
            Owner::Register(t) => self.on_register_response(now, t, key, &resp),
            Owner::Keepalive(t) => self.on_keepalive_response(t, &resp),
            _ => self.on_call_response(now, owner, key, resp),
        }
    }

    fn on_tx_timeout(&mut self, now: Instant, owner: Owner) {
        match owner {
            Owner::Register(t) => self.on_register_timeout(now, t),
            Owner::Keepalive(t) => self.on_keepalive_timeout(t),
            _ => self.on_call_timeout(now, owner),
        }
    }

    fn client_out(&mut self, now: Instant, key: &ClientKey, out: Vec<TxOut>) {
        let Some(e) = self.clients.get(key) else { return };
        let (dst, transport, owner) = (e.tx.dst, e.tx.transport, e.owner);
        for o in out {
            match o {
                TxOut::Send(bytes) => self.transmits.push_back(Transmit { transport, dst, bytes }),
                TxOut::Response(resp) => self.on_tx_response(now, owner, key, resp),
                TxOut::Timeout => self.on_tx_timeout(now, owner),
            }
        }
        if self.clients.get(key).is_some_and(|e| e.tx.is_terminated()) {
            self.clients.remove(key);
        }
    }

    fn server_out(&mut self, key: &ServerKey, out: Vec<TxOut>) {
        let Some(tx) = self.servers.get(key) else { return };
        let (dst, transport) = (tx.dst, tx.transport);
        for o in out {
            if let TxOut::Send(bytes) = o {
                self.transmits.push_back(Transmit { transport, dst, bytes });
            }
        }
    }

    /// Sends a response through the server transaction `key`.
    fn respond(&mut self, now: Instant, key: &ServerKey, resp: &Message) {
        let mut out = Vec::new();
        if let Some(tx) = self.servers.get_mut(key) {
            tx.respond(now, resp, &mut out);
        }
        self.server_out(key, out);
    }

    /// Answers a request with a fresh server transaction (so retransmissions get the same
    /// answer) with `code`, plus `extra` headers.
    fn reply(&mut self, now: Instant, key: &ServerKey, code: u16, reason: &str, extra: &[(&str, String)]) {
        let Some(tx) = self.servers.get(key) else { return };
        let mut resp = base_response(tx.request(), code, reason, &self.cfg.user_agent);
        if code > 100 && resp.to().is_some_and(|t| t.tag().is_none()) {
            let tag = self.token();
            add_to_tag(&mut resp, &tag);
        }
        for (n, v) in extra {
            resp.push_header(n, v);
        }
        resp.push_header("Content-Length", 0);
        self.respond(now, key, &resp);
    }

    /// A response with no transaction (to a request we could not key): straight to its Via.
    fn reply_stateless(&mut self, transport: Transport, src: SocketAddr, req: &Message, code: u16, reason: &str) {
        let mut req = req.clone();
        stamp_via(&mut req, src);
        let mut resp = base_response(&req, code, reason, &self.cfg.user_agent);
        if resp.to().is_some_and(|t| t.tag().is_none()) {
            let tag = self.token();
            add_to_tag(&mut resp, &tag);
        }
        resp.push_header("Content-Length", 0);
        let dst = response_dst(&req, src, transport);
        self.transmits.push_back(Transmit { transport, dst, bytes: resp.to_bytes() });
    }

    // ---- requests ----

    fn on_request(&mut self, now: Instant, transport: Transport, src: SocketAddr, mut req: Message) {
        let Some(method) = req.method().cloned() else { return };
        let Some(key) = ServerKey::of_request(&req) else {
            if method != Method::Ack {
                self.counters.bad_requests += 1;
                self.reply_stateless(transport, src, &req, 400, "Bad Request (no RFC 3261 branch)");
            }
            return;
        };
        if self.servers.get(&key).is_some_and(ServerTx::is_terminated) {
            self.servers.remove(&key);
        }
        if let Some(tx) = self.servers.get_mut(&key) {
            // Retransmission, or the ACK of a non-2xx final (same branch, §17.2.3).
            if method == Method::Ack || Some(&method) == tx.request().method() {
                let mut out = Vec::new();
                tx.on_request(now, &req, &mut out);
                self.server_out(&key, out);
                return;
            }
        }
        if method == Method::Ack {
            self.on_ack(now, &req);
            return;
        }
        stamp_via(&mut req, src);
        let dst = response_dst(&req, src, transport);
        let tx = ServerTx::new(now, key.clone(), req.clone(), dst, transport, self.cfg.timers);
        self.servers.insert(key.clone(), tx);
        if let Some((code, reason, extra)) = self.check_request(&req, &method) {
            self.counters.refused += 1;
            let extra: Vec<(&str, String)> = extra.iter().map(|(n, v)| (*n, v.clone())).collect();
            self.reply(now, &key, code, reason, &extra);
            return;
        }
        let in_dialog = req.to().is_some_and(|t| t.tag().is_some());
        match method {
            Method::Cancel => self.on_cancel(now, &key, &req),
            Method::Options if !in_dialog || self.find_call(&req).is_none() => {
                let extra =
                    [("Allow", ALLOW.to_owned()), ("Accept", ACCEPT.to_owned()), ("Supported", SUPPORTED.join(", "))];
                self.reply(now, &key, 200, "OK", &extra);
            }
            Method::Invite if !in_dialog => self.on_invite(now, &key, src, &req),
            _ if in_dialog => self.on_in_dialog(now, &key, &req),
            _ => self.reply(now, &key, 481, "Call/Transaction Does Not Exist", &[]),
        }
    }

    /// The §8.2 checks; `Some` is the refusal.
    fn check_request(&mut self, req: &Message, method: &Method) -> Option<Refusal> {
        if let StartLine::Request { version, uri, .. } = &req.start {
            if !version.eq_ignore_ascii_case("SIP/2.0") {
                return Some((505, "Version Not Supported", vec![]));
            }
            if req.vias().iter().any(|v| v.branch().is_some_and(|b| b.starts_with(&self.branch_prefix))) {
                self.warn_once(4, "loop detected: our own Via branch came back (482)");
                return Some((482, "Loop Detected", vec![]));
            }
            if req.max_forwards() == Some(0) && *method != Method::Options {
                return Some((483, "Too Many Hops", vec![]));
            }
            match method {
                Method::Other(_) => return Some((501, "Not Implemented", vec![("Allow", ALLOW.to_owned())])),
                Method::Invite | Method::Bye | Method::Cancel | Method::Options | Method::Info => {}
                _ => return Some((405, "Method Not Allowed", vec![("Allow", ALLOW.to_owned())])),
            }
            if matches!(req.contacts(), Some(super::header::Contacts::Star)) {
                // `Contact: *` belongs to REGISTER alone (§10.2.2), which we do not serve.
                return Some((400, "Bad Request (Contact: * outside REGISTER)", vec![]));
            }
            if matches!(uri, Uri::Other { .. }) {
                return Some((416, "Unsupported URI Scheme", vec![]));
            }
            if *method != Method::Cancel {
                let missing: Vec<&str> =
                    req.option_tags("require").into_iter().filter(|t| !SUPPORTED.contains(t)).collect();
                if !missing.is_empty() {
                    return Some((420, "Bad Extension", vec![("Unsupported", missing.join(", "))]));
                }
            }
        }
        None
    }

    // ---- responses ----

    fn on_response(&mut self, now: Instant, resp: Message) {
        let Some(key) = ClientKey::of_response(&resp) else {
            self.counters.stray_responses += 1;
            return;
        };
        if let Some(e) = self.clients.get_mut(&key) {
            let mut out = Vec::new();
            e.tx.on_response(now, resp, &mut out);
            self.client_out(now, &key, out);
            return;
        }
        // A 2xx retransmission after the INVITE transaction ended: the core ACKs it again.
        if key.method == Method::Invite && resp.status().is_some_and(|c| (200..300).contains(&c)) && self.reack(&resp) {
            return;
        }
        self.counters.stray_responses += 1;
    }
}

/// A response to `req` with our Server header (the To tag is the caller's business).
fn base_response(req: &Message, code: u16, reason: &str, ua: &str) -> Message {
    let mut r = Message::response_to(req, code, reason);
    r.push_header("Server", ua);
    r
}

fn add_to_tag(resp: &mut Message, tag: &str) {
    if let Some(mut to) = resp.to() {
        to.set_tag(tag);
        resp.set_header("To", to);
    }
}

/// Adds `received` and fills `rport` in the top Via (§18.2.1, RFC 3581 §4).
fn stamp_via(req: &mut Message, src: SocketAddr) {
    let Some(idx) = req.headers.iter().position(|h| h.key() == "via") else { return };
    let Ok(parts) = super::header::split_list(&req.headers[idx].value) else { return };
    let Some(Ok(mut top)) = parts.first().map(|p| Via::parse(p)) else { return };
    let rest: Vec<String> = parts[1..].iter().map(|s| (*s).to_owned()).collect();
    let wants_rport = top.rport().is_some();
    let host_is_src = top.host.to_string().trim_matches(['[', ']']) == src.ip().to_string();
    if wants_rport || !host_is_src {
        top.set_param("received", Some(src.ip().to_string()));
    }
    if wants_rport {
        top.set_param("rport", Some(src.port().to_string()));
    }
    let mut value = top.to_string();
    for r in rest {
        value.push_str(", ");
        value.push_str(&r);
    }
    req.headers[idx].value = value;
}

/// Where responses go (§18.2.2, RFC 3581): the source for TCP and for UDP with rport, else the
/// received address with the Via port.
fn response_dst(req: &Message, src: SocketAddr, transport: Transport) -> SocketAddr {
    if transport.reliable() {
        return src;
    }
    match req.vias().into_iter().next() {
        Some(v) if v.rport().is_none() => SocketAddr::new(src.ip(), v.port.unwrap_or(5060)),
        _ => src,
    }
}

/// A From/To value for `user@host`.
fn name_addr(user: &str, host: &str, display: Option<&str>) -> Option<NameAddr> {
    let mut n = NameAddr::new(Uri::parse(&format!("sip:{user}@{host}")).ok()?);
    n.angle = true;
    n.display = display.map(|d| format!("\"{}\"", d.replace(['"', '\\'], "")));
    Some(n)
}

/// How long a 2xx is retransmitted for (§13.3.1.4: 64·T1).
fn ok_deadline(t: &Timers) -> Duration {
    t.t64()
}

/// The Request-URI of a request.
trait RequestUri {
    fn start_uri(&self) -> Option<Uri>;
}

impl RequestUri for Message {
    fn start_uri(&self) -> Option<Uri> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri.clone()),
            StartLine::Response { .. } => None,
        }
    }
}
