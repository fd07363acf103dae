//! SIP transactions (RFC 3261 §17): the four state machines (INVITE and non-INVITE, client and
//! server) with timers A-K as data, and the keys that match messages to them (§17.1.3, §17.2.3).
//!
//! A transaction never sends by itself: every method pushes [`TxOut`] values (bytes to send,
//! a response for the transaction user, a timeout) that the endpoint drains. Time is passed in.
//! Over a reliable transport (TCP) the retransmission timers A, E, G are never armed and the
//! wait timers D, I, J, K are zero, as §17 says.
//!
//! # INVITE client transaction (§17.1.1, figure 5)
//! | State | Event | Action | Next |
//! |---|---|---|---|
//! | Calling | start | send INVITE, A=T1 (UDP), B=64·T1 | Calling |
//! | Calling | timer A | resend INVITE, A doubles | Calling |
//! | Calling | timer B | report timeout | Terminated |
//! | Calling, Proceeding | 1xx | pass up | Proceeding |
//! | Calling, Proceeding | 2xx | pass up (the core sends the ACK) | Terminated |
//! | Calling, Proceeding | 300-699 | send ACK, pass up, D=32 s (UDP) or 0 | Completed |
//! | Completed | 300-699 | resend ACK | Completed |
//! | Completed | timer D | - | Terminated |
//!
//! # Non-INVITE client transaction (§17.1.2, figure 6)
//! | State | Event | Action | Next |
//! |---|---|---|---|
//! | Trying | start | send request, E=T1 (UDP), F=64·T1 | Trying |
//! | Trying | timer E | resend, E=min(2E, T2) | Trying |
//! | Proceeding | timer E | resend, E=T2 | Proceeding |
//! | Trying, Proceeding | 1xx | pass up | Proceeding |
//! | Trying, Proceeding | 200-699 | pass up, K=T4 (UDP) or 0 | Completed |
//! | Trying, Proceeding | timer F | report timeout | Terminated |
//! | Completed | timer K | - | Terminated |
//!
//! # INVITE server transaction (§17.2.1, figure 7)
//! | State | Event | Action | Next |
//! |---|---|---|---|
//! | Proceeding | created | 100 Trying after the trying delay (200 ms or at once) | Proceeding |
//! | Proceeding | request again | resend last provisional | Proceeding |
//! | Proceeding | TU 1xx | send | Proceeding |
//! | Proceeding | TU 2xx | send (the core retransmits it, §13.3.1.4) | Terminated |
//! | Proceeding | TU 300-699 | send, G=T1 (UDP), H=64·T1 | Completed |
//! | Completed | request again, timer G | resend final, G=min(2G, T2) | Completed |
//! | Completed | ACK | I=T4 (UDP) or 0 | Confirmed |
//! | Completed | timer H | report timeout | Terminated |
//! | Confirmed | timer I | - | Terminated |
//!
//! # Non-INVITE server transaction (§17.2.2, figure 8)
//! | State | Event | Action | Next |
//! |---|---|---|---|
//! | Trying | request again | - | Trying |
//! | Trying, Proceeding | TU 1xx | send | Proceeding |
//! | Proceeding | request again | resend last provisional | Proceeding |
//! | Trying, Proceeding | TU 200-699 | send, J=64·T1 (UDP) or 0 | Completed |
//! | Completed | request again | resend final | Completed |
//! | Completed | timer J | - | Terminated |

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::header::Method;
use super::message::{Message, StartLine};

/// The transport a message came on or goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
}

impl Transport {
    /// Whether the transport delivers reliably (no retransmission timers, §17.1.1.2).
    pub fn reliable(self) -> bool {
        self == Transport::Tcp
    }

    /// The Via transport token.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

/// The protocol timers (§17.1.1.1, table 4): T1 the RTT estimate, T2 the longest non-INVITE
/// retransmission interval, T4 how long a message may stay in the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub t1: Duration,
    pub t2: Duration,
    pub t4: Duration,
    /// How long an INVITE server transaction waits for the TU before it sends 100 Trying
    /// itself (§17.2.1 says 200 ms); zero sends it at once.
    pub trying_delay: Duration,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            trying_delay: Duration::from_millis(200),
        }
    }
}

impl Timers {
    /// 64·T1: timers B, F, H and J.
    pub fn t64(&self) -> Duration {
        self.t1 * 64
    }
}

/// Transaction states, named as in §17.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Calling,
    Trying,
    Proceeding,
    Completed,
    Confirmed,
    Terminated,
}

/// What a transaction asks of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxOut {
    /// Bytes to send to the transaction's peer.
    Send(Vec<u8>),
    /// A response for the transaction user (client transactions).
    Response(Message),
    /// Timer B, F or H fired: the request (or, for H, the final response) went unanswered.
    Timeout,
}

/// Identifies a client transaction: our branch and the CSeq method (§17.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    pub branch: String,
    pub method: Method,
}

impl ClientKey {
    /// The key of a response: top Via branch and CSeq method.
    pub fn of_response(resp: &Message) -> Option<ClientKey> {
        let via = resp.vias().into_iter().next()?;
        Some(ClientKey { branch: via.branch()?.to_owned(), method: resp.cseq()?.method })
    }
}

/// Identifies a server transaction: branch, sent-by and method, with ACK folded into INVITE
/// (§17.2.3) so a non-2xx ACK finds its INVITE transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerKey {
    pub branch: String,
    pub sent_by: String,
    pub method: Method,
}

impl ServerKey {
    /// The key of a request; `None` without an RFC 3261 branch.
    pub fn of_request(req: &Message) -> Option<ServerKey> {
        let k = req.transaction_key()?;
        let method = if k.method == Method::Ack { Method::Invite } else { k.method };
        Some(ServerKey { branch: k.branch, sent_by: k.sent_by, method })
    }

    /// The key of the INVITE transaction a CANCEL cancels (§9.2: same branch, method INVITE).
    pub fn invite_of(&self) -> ServerKey {
        ServerKey { method: Method::Invite, ..self.clone() }
    }
}

fn earliest(ts: &[Option<Instant>]) -> Option<Instant> {
    ts.iter().flatten().min().copied()
}

fn fired(t: Option<Instant>, now: Instant) -> bool {
    t.is_some_and(|t| t <= now)
}

/// A client transaction (INVITE or non-INVITE by the request's method).
#[derive(Debug, Clone)]
pub struct ClientTx {
    pub key: ClientKey,
    pub state: State,
    pub dst: SocketAddr,
    pub transport: Transport,
    invite: bool,
    request: Message,
    bytes: Vec<u8>,
    ack: Option<Vec<u8>>,
    timers: Timers,
    /// Timer A (INVITE) or E (non-INVITE) and its current interval.
    retransmit: Option<Instant>,
    interval: Duration,
    /// Timer B (INVITE) or F (non-INVITE).
    give_up: Option<Instant>,
    /// Timer D (INVITE) or K (non-INVITE).
    linger: Option<Instant>,
    /// How many times the request was sent again (for tests and counters).
    pub retransmissions: u32,
}

impl ClientTx {
    /// Creates the transaction and sends the request (its top Via carries `key.branch`).
    pub fn start(
        now: Instant,
        request: Message,
        dst: SocketAddr,
        transport: Transport,
        timers: Timers,
        out: &mut Vec<TxOut>,
    ) -> Option<ClientTx> {
        let key = ClientKey {
            branch: request.vias().into_iter().next()?.branch()?.to_owned(),
            method: request.method()?.clone(),
        };
        let invite = key.method == Method::Invite;
        let bytes = request.to_bytes();
        out.push(TxOut::Send(bytes.clone()));
        let retransmit = (!transport.reliable()).then(|| now + timers.t1);
        Some(ClientTx {
            key,
            state: if invite { State::Calling } else { State::Trying },
            dst,
            transport,
            invite,
            request,
            bytes,
            ack: None,
            timers,
            retransmit,
            interval: timers.t1,
            give_up: Some(now + timers.t64()),
            linger: None,
            retransmissions: 0,
        })
    }

    /// The request this transaction sends.
    pub fn request(&self) -> &Message {
        &self.request
    }

    pub fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.retransmit, self.give_up, self.linger])
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// A response whose key matched this transaction.
    pub fn on_response(&mut self, now: Instant, resp: Message, out: &mut Vec<TxOut>) {
        let Some(code) = resp.status() else { return };
        match (self.invite, self.state, code) {
            (_, State::Terminated, _) => {}
            (true, State::Calling | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                self.retransmit = None;
                // Timer B guards only the Calling state (§17.1.1.2); the TU cancels later.
                self.give_up = None;
                out.push(TxOut::Response(resp));
            }
            (true, State::Calling | State::Proceeding, 200..=299) => {
                self.terminate();
                out.push(TxOut::Response(resp));
            }
            (true, State::Calling | State::Proceeding, _) => {
                let ack = self.ack_for(&resp).to_bytes();
                out.push(TxOut::Send(ack.clone()));
                self.ack = Some(ack);
                self.state = State::Completed;
                self.retransmit = None;
                self.give_up = None;
                self.linger =
                    Some(now + if self.transport.reliable() { Duration::ZERO } else { Duration::from_secs(32) });
                out.push(TxOut::Response(resp));
            }
            (true, State::Completed, 300..) => {
                if let Some(a) = &self.ack {
                    out.push(TxOut::Send(a.clone()));
                }
            }
            (false, State::Trying | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                out.push(TxOut::Response(resp));
            }
            (false, State::Trying | State::Proceeding, _) => {
                self.state = State::Completed;
                self.retransmit = None;
                self.give_up = None;
                self.linger = Some(now + if self.transport.reliable() { Duration::ZERO } else { self.timers.t4 });
                out.push(TxOut::Response(resp));
            }
            // Retransmitted finals in Completed are absorbed (§17.1.2.2).
            _ => {}
        }
    }

    /// Runs the timers due at `now`.
    pub fn on_timeout(&mut self, now: Instant, out: &mut Vec<TxOut>) {
        if fired(self.give_up, now) {
            self.terminate();
            out.push(TxOut::Timeout);
            return;
        }
        if fired(self.linger, now) {
            self.terminate();
            return;
        }
        if fired(self.retransmit, now) {
            out.push(TxOut::Send(self.bytes.clone()));
            self.retransmissions += 1;
            self.interval = match (self.invite, self.state) {
                (true, _) => self.interval * 2,
                (false, State::Proceeding) => self.timers.t2,
                (false, _) => (self.interval * 2).min(self.timers.t2),
            };
            self.retransmit = Some(now + self.interval);
        }
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.retransmit = None;
        self.give_up = None;
        self.linger = None;
    }

    /// The ACK for a non-2xx final response (§17.1.1.3): the INVITE's Request-URI, top Via,
    /// Call-ID, From, Route; To from the response; CSeq number with method ACK.
    fn ack_for(&self, resp: &Message) -> Message {
        let uri = match &self.request.start {
            StartLine::Request { uri, .. } => uri.clone(),
            StartLine::Response { .. } => unreachable_uri(),
        };
        let mut ack = Message::request(Method::Ack, uri);
        if let Some(v) = self.request.header("via") {
            // Only the top Via: ours. A request we built holds just one Via line.
            ack.push_header("Via", v);
        }
        for h in self.request.headers.iter().filter(|h| matches!(h.key(), "route" | "max-forwards")) {
            ack.headers.push(h.clone());
        }
        if let Some(v) = self.request.header("from") {
            ack.push_header("From", v);
        }
        if let Some(v) = resp.header("to") {
            ack.push_header("To", v);
        }
        if let Some(v) = self.request.call_id() {
            ack.push_header("Call-ID", v);
        }
        let seq = self.request.cseq().map_or(1, |c| c.seq);
        ack.push_header("CSeq", format!("{seq} ACK"));
        ack.push_header("Content-Length", 0);
        ack
    }
}

/// A request we build always has a request line; this keeps `ack_for` total without a panic.
fn unreachable_uri() -> super::uri::Uri {
    super::uri::Uri::Other { scheme: "sip".to_owned(), rest: "invalid".to_owned() }
}

/// A server transaction (INVITE or non-INVITE by the request's method).
#[derive(Debug, Clone)]
pub struct ServerTx {
    pub key: ServerKey,
    pub state: State,
    /// Where responses go (§18.2.2, with rport).
    pub dst: SocketAddr,
    pub transport: Transport,
    invite: bool,
    request: Message,
    last: Option<Vec<u8>>,
    last_code: u16,
    timers: Timers,
    /// The 100 Trying deadline while the TU has not answered.
    trying: Option<Instant>,
    /// Timer G and its interval.
    retransmit: Option<Instant>,
    interval: Duration,
    /// Timer H.
    give_up: Option<Instant>,
    /// Timer I or J.
    linger: Option<Instant>,
    /// How many times the final response was sent again.
    pub retransmissions: u32,
}

impl ServerTx {
    pub fn new(
        now: Instant,
        key: ServerKey,
        request: Message,
        dst: SocketAddr,
        transport: Transport,
        timers: Timers,
    ) -> ServerTx {
        let invite = key.method == Method::Invite;
        ServerTx {
            key,
            state: if invite { State::Proceeding } else { State::Trying },
            dst,
            transport,
            invite,
            request,
            last: None,
            last_code: 0,
            timers,
            trying: invite.then(|| now + timers.trying_delay),
            retransmit: None,
            interval: timers.t1,
            give_up: None,
            linger: None,
            retransmissions: 0,
        }
    }

    pub fn request(&self) -> &Message {
        &self.request
    }

    /// The status of the last response sent, 0 before any.
    pub fn last_code(&self) -> u16 {
        self.last_code
    }

    pub fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.trying, self.retransmit, self.give_up, self.linger])
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// Whether the transaction still waits for the TU's final response.
    pub fn awaiting_final(&self) -> bool {
        matches!(self.state, State::Trying | State::Proceeding)
    }

    /// The same request again (a retransmission), or an ACK for an INVITE transaction.
    pub fn on_request(&mut self, now: Instant, req: &Message, out: &mut Vec<TxOut>) {
        let is_ack = req.method() == Some(&Method::Ack);
        match (self.invite, self.state, is_ack) {
            (true, State::Completed, true) => {
                self.state = State::Confirmed;
                self.retransmit = None;
                self.give_up = None;
                self.linger = Some(now + if self.transport.reliable() { Duration::ZERO } else { self.timers.t4 });
            }
            (_, State::Proceeding | State::Completed, false) => {
                if let Some(b) = &self.last {
                    out.push(TxOut::Send(b.clone()));
                }
            }
            _ => {}
        }
    }

    /// A response from the TU.
    pub fn respond(&mut self, now: Instant, resp: &Message, out: &mut Vec<TxOut>) {
        let Some(code) = resp.status() else { return };
        if !self.awaiting_final() {
            return;
        }
        let bytes = resp.to_bytes();
        out.push(TxOut::Send(bytes.clone()));
        self.last = Some(bytes);
        self.last_code = code;
        self.trying = None;
        let reliable = self.transport.reliable();
        match (self.invite, code) {
            (_, 100..=199) => {
                if !self.invite {
                    self.state = State::Proceeding;
                }
            }
            (true, 200..=299) => {
                self.state = State::Terminated;
            }
            (true, _) => {
                self.state = State::Completed;
                self.retransmit = (!reliable).then(|| now + self.timers.t1);
                self.give_up = Some(now + self.timers.t64());
            }
            (false, _) => {
                self.state = State::Completed;
                self.linger = Some(now + if reliable { Duration::ZERO } else { self.timers.t64() });
            }
        }
    }

    /// Runs the timers due at `now`; `trying` is the 100 Trying to send if the TU was slow.
    pub fn on_timeout(&mut self, now: Instant, trying: impl FnOnce(&Message) -> Message, out: &mut Vec<TxOut>) {
        if fired(self.trying, now) {
            self.trying = None;
            let t = trying(&self.request);
            self.respond(now, &t, out);
        }
        if fired(self.give_up, now) {
            self.state = State::Terminated;
            self.retransmit = None;
            self.give_up = None;
            out.push(TxOut::Timeout);
            return;
        }
        if fired(self.linger, now) {
            self.state = State::Terminated;
            self.linger = None;
            return;
        }
        if fired(self.retransmit, now) {
            if let Some(b) = &self.last {
                out.push(TxOut::Send(b.clone()));
                self.retransmissions += 1;
            }
            self.interval = (self.interval * 2).min(self.timers.t2);
            self.retransmit = Some(now + self.interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::uri::Uri;

    fn req(method: Method, branch: &str) -> Message {
        let mut m = Message::request(method.clone(), Uri::parse("sip:1000@192.0.2.1").unwrap());
        m.push_header("Via", format!("SIP/2.0/UDP 192.0.2.9:5060;branch={branch};rport"));
        m.push_header("From", "<sip:a@192.0.2.9>;tag=f1");
        m.push_header("To", "<sip:1000@192.0.2.1>");
        m.push_header("Call-ID", "c1");
        m.push_header("CSeq", format!("1 {method}"));
        m.push_header("Content-Length", 0);
        m
    }

    fn sends(out: &[TxOut]) -> usize {
        out.iter().filter(|o| matches!(o, TxOut::Send(_))).count()
    }

    const DST: &str = "192.0.2.1:5060";

    #[test]
    fn invite_client_timer_a_doubles_and_b_times_out() {
        let t0 = Instant::now();
        let timers = Timers::default();
        let mut out = Vec::new();
        let mut tx = ClientTx::start(
            t0,
            req(Method::Invite, "z9hG4bKa"),
            DST.parse().unwrap(),
            Transport::Udp,
            timers,
            &mut out,
        )
        .unwrap();
        assert_eq!(sends(&out), 1);
        let mut sent_at = Vec::new();
        while let Some(t) = tx.next_timeout() {
            out.clear();
            tx.on_timeout(t, &mut out);
            if sends(&out) == 1 {
                sent_at.push(t - t0);
            }
            if out.contains(&TxOut::Timeout) {
                assert_eq!(t - t0, Duration::from_secs(32), "timer B is 64*T1");
                break;
            }
        }
        let ms: Vec<u128> = sent_at.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [500, 1500, 3500, 7500, 15500, 31500]);
        assert!(tx.is_terminated());
    }

    #[test]
    fn non_invite_client_timer_e_caps_at_t2() {
        let t0 = Instant::now();
        let mut out = Vec::new();
        let timers = Timers::default();
        let mut tx =
            ClientTx::start(t0, req(Method::Bye, "z9hG4bKb"), DST.parse().unwrap(), Transport::Udp, timers, &mut out)
                .unwrap();
        let mut sent_at = Vec::new();
        while let Some(t) = tx.next_timeout() {
            out.clear();
            tx.on_timeout(t, &mut out);
            if sends(&out) == 1 {
                sent_at.push((t - t0).as_millis());
            }
        }
        assert_eq!(&sent_at[..6], [500, 1500, 3500, 7500, 11500, 15500]);
        assert_eq!(tx.state, State::Terminated);
    }

    #[test]
    fn invite_client_acks_non_2xx_and_absorbs_retransmissions() {
        let t0 = Instant::now();
        let mut out = Vec::new();
        let request = req(Method::Invite, "z9hG4bKc");
        let mut tx =
            ClientTx::start(t0, request.clone(), DST.parse().unwrap(), Transport::Udp, Timers::default(), &mut out)
                .unwrap();
        out.clear();
        let mut busy = Message::response_to(&request, 486, "Busy Here");
        busy.set_header("To", "<sip:1000@192.0.2.1>;tag=t9");
        tx.on_response(t0, busy.clone(), &mut out);
        let TxOut::Send(ack) = &out[0] else { panic!("ACK first") };
        let ack = Message::parse(ack).unwrap();
        assert_eq!(ack.method(), Some(&Method::Ack));
        assert_eq!(ack.header("to"), Some("<sip:1000@192.0.2.1>;tag=t9"));
        assert_eq!(ack.cseq().unwrap().seq, 1);
        assert!(matches!(out[1], TxOut::Response(_)));
        out.clear();
        tx.on_response(t0, busy, &mut out);
        assert_eq!(sends(&out), 1, "the ACK again, nothing to the TU");
        assert_eq!(tx.next_timeout(), Some(t0 + Duration::from_secs(32)), "timer D");
    }

    #[test]
    fn tcp_arms_no_retransmission() {
        let t0 = Instant::now();
        let mut out = Vec::new();
        let tx = ClientTx::start(
            t0,
            req(Method::Options, "z9hG4bKd"),
            DST.parse().unwrap(),
            Transport::Tcp,
            Timers::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(tx.next_timeout(), Some(t0 + Duration::from_secs(32)), "only timer F");
    }

    #[test]
    fn invite_server_retransmits_final_until_ack_then_timer_i() {
        let t0 = Instant::now();
        let request = req(Method::Invite, "z9hG4bKe");
        let key = ServerKey::of_request(&request).unwrap();
        let mut tx = ServerTx::new(t0, key, request.clone(), DST.parse().unwrap(), Transport::Udp, Timers::default());
        let mut out = Vec::new();
        let trying = |r: &Message| Message::response_to(r, 100, "Trying");
        tx.on_timeout(t0 + Duration::from_millis(200), trying, &mut out);
        assert_eq!(tx.last_code(), 100);
        out.clear();
        tx.respond(t0 + Duration::from_secs(1), &Message::response_to(&request, 486, "Busy Here"), &mut out);
        assert_eq!(tx.state, State::Completed);
        let t = tx.next_timeout().unwrap();
        assert_eq!(t, t0 + Duration::from_millis(1500), "timer G = T1");
        out.clear();
        tx.on_timeout(t, trying, &mut out);
        assert_eq!(sends(&out), 1);
        assert_eq!(tx.next_timeout(), Some(t + Duration::from_secs(1)), "G doubles");
        let mut ack = req(Method::Ack, "z9hG4bKe");
        ack.set_header("CSeq", "1 ACK");
        assert_eq!(ServerKey::of_request(&ack), Some(tx.key.clone()));
        tx.on_request(t, &ack, &mut out);
        assert_eq!(tx.state, State::Confirmed);
        assert_eq!(tx.next_timeout(), Some(t + Duration::from_secs(5)), "timer I = T4");
    }

    #[test]
    fn invite_server_timer_h_reports_timeout() {
        let t0 = Instant::now();
        let request = req(Method::Invite, "z9hG4bKf");
        let key = ServerKey::of_request(&request).unwrap();
        let mut tx = ServerTx::new(t0, key, request.clone(), DST.parse().unwrap(), Transport::Udp, Timers::default());
        let mut out = Vec::new();
        tx.respond(t0, &Message::response_to(&request, 503, "Service Unavailable"), &mut out);
        let mut n = 0;
        while let Some(t) = tx.next_timeout() {
            out.clear();
            tx.on_timeout(t, |r| Message::response_to(r, 100, "Trying"), &mut out);
            n += sends(&out);
            if out.contains(&TxOut::Timeout) {
                assert_eq!(t - t0, Duration::from_secs(32));
            }
        }
        assert!(n >= 9, "G retransmitted until H, got {n}");
        assert!(tx.is_terminated());
    }

    #[test]
    fn non_invite_server_absorbs_in_trying_and_resends_final() {
        let t0 = Instant::now();
        let request = req(Method::Options, "z9hG4bKg");
        let key = ServerKey::of_request(&request).unwrap();
        let mut tx = ServerTx::new(t0, key, request.clone(), DST.parse().unwrap(), Transport::Udp, Timers::default());
        let mut out = Vec::new();
        tx.on_request(t0, &request, &mut out);
        assert!(out.is_empty());
        tx.respond(t0, &Message::response_to(&request, 200, "OK"), &mut out);
        tx.on_request(t0, &request, &mut out);
        assert_eq!(sends(&out), 2);
        assert_eq!(tx.next_timeout(), Some(t0 + Duration::from_secs(32)), "timer J");
    }
}
