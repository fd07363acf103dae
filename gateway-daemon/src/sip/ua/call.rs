//! Calls of the endpoint: the INVITE dialog usage on both sides (RFC 3261 §13-§15), with the
//! commands the call layer gives (invite, progress, answer, reject, hangup, reinvite, INFO DTMF)
//! and what comes back from the transactions.
//!
//! | Phase | Event | Action | Next |
//! |---|---|---|---|
//! | Outgoing | 1xx (not 100) | early dialog if tagged, Progress; CANCEL if hangup was asked | Outgoing |
//! | Outgoing | 2xx | ACK (core, §13.2.2.4), Answered; BYE if hangup was asked (CANCEL lost the race) | Confirmed |
//! | Outgoing | 401/407, credentials, < 2 tries | INVITE again with credentials, CSeq+1 | Outgoing |
//! | Outgoing | 300-699, timer B | Ended (status, Reason or RFC 3398 cause) | gone |
//! | Outgoing | hangup | CANCEL once a 1xx came (§9.1), else when it comes | Outgoing |
//! | Incoming | progress / answer | 1xx / 2xx, 2xx resent T1..T2 until ACK (§13.3.1.4) | Incoming / Confirmed |
//! | Incoming | reject, hangup | final with Reason, Ended | gone |
//! | Incoming | CANCEL | 200 to CANCEL, 487 to INVITE (§9.2), Ended | gone |
//! | Confirmed | no ACK in 64·T1 | BYE (§13.3.1.4) | Ending |
//! | Confirmed | hangup | BYE with Reason (after the ACK on the UAS side, §15) | Ending |
//! | Confirmed | BYE | 200, Ended | gone |
//! | Confirmed | re-INVITE, ours pending | 491 (glare, §14.2) | Confirmed |
//! | Confirmed | re-INVITE, theirs pending | 500 with Retry-After (§14.2) | Confirmed |
//! | Confirmed | re-INVITE | OfferChanged; the TU's answer goes in the 200 | Confirmed |
//! | Confirmed | INFO dtmf-relay / dtmf | 200, Dtmf | Confirmed |
//! | Ending | BYE answered or timer F | Ended | gone |

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{add_to_tag, base_response, name_addr, ok_deadline, RequestUri, SipEndpoint, SipEvent};
use crate::sip::dialog::{dtmf_relay_body, parse_info_dtmf, Dialog, DialogState, InfoDigit};
use crate::sip::digest::{self, Challenge};
use crate::sip::header::Method;
use crate::sip::message::Message;
use crate::sip::q850;
use crate::sip::sdp::SessionDescription;
use crate::sip::transaction::{ClientKey, ServerKey, Transport};
use crate::sip::uri::Uri;

/// A call, as the call layer names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(pub u64);

/// Who a client transaction works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    Invite(u64),
    Cancel(u64),
    Bye(u64),
    Reinvite(u64),
    Info(u64),
    Register(usize),
    Keepalive(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Outgoing,
    Incoming,
    Confirmed,
    Ending,
}

/// A 2xx the UAS core resends until the ACK (§13.3.1.4).
#[derive(Debug, Clone)]
pub(super) struct OkRetx {
    bytes: Vec<u8>,
    dst: SocketAddr,
    seq: u32,
    next: Instant,
    interval: Duration,
    deadline: Instant,
}

#[derive(Debug, Clone)]
pub(super) struct Call {
    pub trunk: usize,
    pub phase: Phase,
    /// The INVITE as last sent (UAC) or as received (UAS).
    invite: Message,
    invite_tx: Option<ClientKey>,
    server_key: Option<ServerKey>,
    local_tag: String,
    pub dialog: Option<Dialog>,
    /// Our user for Contact.
    user: String,
    /// Where in-dialog requests go when the target is not an IP literal.
    peer: SocketAddr,
    transport: Transport,
    got_1xx: bool,
    /// Hangup asked before the answer, with its cause.
    pub(super) cancel: Option<u8>,
    cancel_deadline: Option<Instant>,
    auth_tries: u32,
    ack: Option<(Vec<u8>, SocketAddr)>,
    pub(super) ok: Option<OkRetx>,
    pub(super) bye_after_ack: Option<u8>,
    pub(super) reinvite_out: bool,
    pub(super) reinvite_in: Option<ServerKey>,
    end_cause: u8,
}

impl Call {
    pub(super) fn next_timeout(&self) -> Option<Instant> {
        [self.ok.as_ref().map(|o| o.next.min(o.deadline)), self.cancel_deadline].into_iter().flatten().min()
    }
}

fn sdp_of(msg: &Message) -> Option<SessionDescription> {
    let ct = msg.content_type()?;
    if msg.body.is_empty() || !ct.to_ascii_lowercase().starts_with("application/sdp") {
        return None;
    }
    SessionDescription::parse(&msg.body).ok()
}

/// The cause a peer's final response means: its Reason header, else RFC 3398 §8.2.6.1.
fn cause_of(resp: &Message) -> u8 {
    resp.q850_reason()
        .and_then(|r| r.q850_cause())
        .unwrap_or_else(|| q850::cause_for_status(resp.status().unwrap_or(500)))
}

impl SipEndpoint {
    fn new_handle(&mut self) -> u64 {
        let h = self.next_handle;
        self.next_handle += 1;
        h
    }

    pub(super) fn contact(&self, user: &str, transport: Transport) -> String {
        let t = if transport == Transport::Tcp { ";transport=tcp" } else { "" };
        format!("<sip:{user}@{}{t}>", self.cfg.local_addr)
    }

    fn end_call(&mut self, h: u64, status: Option<u16>, cause: u8, by_remote: bool) {
        if self.calls.remove(&h).is_some() {
            self.events.push_back(SipEvent::Ended { handle: Handle(h), status, cause, by_remote });
        }
    }

    /// Places a call on `trunk` (index in the config) with an optional SDP offer.
    pub fn invite(
        &mut self,
        now: Instant,
        trunk: usize,
        from_user: &str,
        to_user: &str,
        sdp_offer: Option<&SessionDescription>,
    ) -> Option<Handle> {
        let t = self.cfg.trunks.get(trunk)?.clone();
        let host = t.uri_host();
        let uri = Uri::parse(&format!("sip:{to_user}@{host}")).ok()?;
        let tag = self.token();
        let mut from = name_addr(from_user, &host, None)?;
        from.set_tag(&tag);
        let to = name_addr(to_user, &host, None)?;
        let mut req = Message::request(Method::Invite, uri);
        req.push_header("From", from);
        req.push_header("To", to);
        req.push_header("Call-ID", format!("{}@spangate", self.token()));
        req.push_header("CSeq", "1 INVITE");
        req.push_header("Contact", self.contact(from_user, t.transport));
        req.push_header("Allow", super::ALLOW);
        if let Some(sdp) = sdp_offer {
            req.set_body("application/sdp", sdp.to_bytes());
        }
        let h = self.new_handle();
        let key = self.send_request(now, req.clone(), t.addr, t.transport, t.max_forwards, Owner::Invite(h))?;
        let invite = self.clients.get(&key).map_or(req, |e| e.tx.request().clone());
        self.calls.insert(
            h,
            Call {
                trunk,
                phase: Phase::Outgoing,
                invite,
                invite_tx: Some(key),
                server_key: None,
                local_tag: tag,
                dialog: None,
                user: from_user.to_owned(),
                peer: t.addr,
                transport: t.transport,
                got_1xx: false,
                cancel: None,
                cancel_deadline: None,
                auth_tries: 0,
                ack: None,
                ok: None,
                bye_after_ack: None,
                reinvite_out: false,
                reinvite_in: None,
                end_cause: 16,
            },
        );
        Some(Handle(h))
    }

    /// A response of ours to the INVITE (or re-INVITE) of call `h`, To tag and Contact set.
    fn call_response(
        &self,
        h: u64,
        key: &ServerKey,
        code: u16,
        reason: &str,
        sdp: Option<&SessionDescription>,
    ) -> Option<Message> {
        let call = self.calls.get(&h)?;
        let req = self.servers.get(key)?.request();
        let mut resp = base_response(req, code, reason, &self.cfg.user_agent);
        add_to_tag(&mut resp, &call.local_tag);
        if code > 100 && code < 300 {
            resp.push_header("Contact", self.contact(&call.user, call.transport));
            resp.push_header("Allow", super::ALLOW);
        }
        match sdp {
            Some(s) => resp.set_body("application/sdp", s.to_bytes()),
            None => resp.push_header("Content-Length", 0),
        }
        Some(resp)
    }

    /// Sends 180 or 183 (with early media SDP) for an incoming call.
    pub fn progress(&mut self, now: Instant, h: Handle, code: u16, sdp: Option<&SessionDescription>) -> bool {
        let Some(call) = self.calls.get(&h.0) else { return false };
        let Some(key) = call.server_key.clone().filter(|_| call.phase == Phase::Incoming) else { return false };
        let reason = if code == 183 { "Session Progress" } else { "Ringing" };
        let Some(resp) = self.call_response(h.0, &key, code, reason, sdp) else { return false };
        self.respond(now, &key, &resp);
        if let Some(call) = self.calls.get_mut(&h.0) {
            if call.dialog.is_none() {
                call.dialog = Dialog::uas(&call.invite, &call.local_tag);
            }
        }
        true
    }

    /// Answers an incoming call, or the pending re-INVITE of a confirmed one, with `sdp`.
    pub fn answer(&mut self, now: Instant, h: Handle, sdp: Option<&SessionDescription>) -> bool {
        let Some(call) = self.calls.get(&h.0) else { return false };
        let key = match call.phase {
            Phase::Incoming => call.server_key.clone(),
            Phase::Confirmed => call.reinvite_in.clone(),
            _ => None,
        };
        let Some(key) = key else { return false };
        let Some(resp) = self.call_response(h.0, &key, 200, "OK", sdp) else { return false };
        let Some(dst) = self.servers.get(&key).map(|t| t.dst) else { return false };
        self.respond(now, &key, &resp);
        let t = self.cfg.timers;
        let Some(call) = self.calls.get_mut(&h.0) else { return false };
        let seq = resp.cseq().map_or(0, |c| c.seq);
        call.ok = Some(OkRetx {
            bytes: resp.to_bytes(),
            dst,
            seq,
            next: now + t.t1,
            interval: t.t1,
            deadline: now + ok_deadline(&t),
        });
        if call.transport.reliable() {
            // No retransmission over TCP, only the wait for the ACK (§13.3.1.4).
            if let Some(o) = call.ok.as_mut() {
                o.next = o.deadline;
            }
        }
        if call.phase == Phase::Incoming {
            if call.dialog.is_none() {
                call.dialog = Dialog::uas(&call.invite, &call.local_tag);
            }
            if let Some(d) = call.dialog.as_mut() {
                d.state = DialogState::Confirmed;
            }
            call.phase = Phase::Confirmed;
        } else {
            call.reinvite_in = None;
        }
        true
    }

    /// Refuses an incoming call with `status` (and a Reason with `cause`), or the pending
    /// re-INVITE of a confirmed call (the call stays up).
    pub fn reject(&mut self, now: Instant, h: Handle, status: u16, cause: Option<u8>) -> bool {
        let Some(call) = self.calls.get(&h.0) else { return false };
        let status = if (300..700).contains(&status) { status } else { 500 };
        let (key, ends) = match call.phase {
            Phase::Incoming => (call.server_key.clone(), true),
            Phase::Confirmed => (call.reinvite_in.clone(), false),
            _ => (None, false),
        };
        let Some(key) = key else { return false };
        let Some(mut resp) = self.call_response(h.0, &key, status, reason_phrase(status), None) else { return false };
        if let Some(c) = cause {
            q850::add_reason(&mut resp, c);
        }
        self.respond(now, &key, &resp);
        if ends {
            self.end_call(h.0, Some(status), cause.unwrap_or_else(|| q850::cause_for_status(status)), false);
        } else if let Some(call) = self.calls.get_mut(&h.0) {
            call.reinvite_in = None;
        }
        true
    }

    /// Ends a call: CANCEL before the answer (UAC), a final response (UAS), BYE after.
    pub fn hangup(&mut self, now: Instant, h: Handle, cause: Option<u8>) -> bool {
        let cause_v = cause.unwrap_or(16);
        let Some(call) = self.calls.get_mut(&h.0) else { return false };
        call.end_cause = cause_v;
        match call.phase {
            Phase::Outgoing => {
                if call.cancel.is_none() {
                    call.cancel = Some(cause_v);
                    if call.got_1xx {
                        self.send_cancel(now, h.0);
                    }
                }
                true
            }
            Phase::Incoming => {
                let status = q850::status_for_cause(cause_v).unwrap_or(480);
                self.reject(now, h, status, Some(cause_v))
            }
            Phase::Confirmed if call.ok.is_some() => {
                call.bye_after_ack = Some(cause_v);
                true
            }
            Phase::Confirmed => {
                self.send_bye(now, h.0, cause_v);
                true
            }
            Phase::Ending => false,
        }
    }

    /// Sends a re-INVITE with a new offer (hold: a sendonly or inactive one).
    pub fn reinvite(&mut self, now: Instant, h: Handle, sdp: &SessionDescription) -> bool {
        let contact = match self.calls.get(&h.0) {
            Some(c) if c.phase == Phase::Confirmed && !c.reinvite_out && c.reinvite_in.is_none() && c.ok.is_none() => {
                self.contact(&c.user, c.transport)
            }
            _ => return false,
        };
        self.in_dialog_request(now, h.0, Method::Invite, Owner::Reinvite(h.0), |m| {
            m.push_header("Contact", &contact);
            m.set_body("application/sdp", sdp.to_bytes());
        });
        if let Some(c) = self.calls.get_mut(&h.0) {
            c.reinvite_out = true;
        }
        true
    }

    /// Sends a DTMF digit as INFO `application/dtmf-relay`.
    pub fn send_info_dtmf(&mut self, now: Instant, h: Handle, digit: char, duration_ms: u32) -> bool {
        if !self.calls.get(&h.0).is_some_and(|c| c.phase == Phase::Confirmed) {
            return false;
        }
        let body = dtmf_relay_body(InfoDigit { digit, duration_ms });
        self.in_dialog_request(now, h.0, Method::Info, Owner::Info(h.0), |m| {
            m.set_body("application/dtmf-relay", body.into_bytes());
        })
    }

    fn in_dialog_request(
        &mut self,
        now: Instant,
        h: u64,
        method: Method,
        owner: Owner,
        f: impl FnOnce(&mut Message),
    ) -> bool {
        let Some(call) = self.calls.get_mut(&h) else { return false };
        let Some(d) = call.dialog.as_mut() else { return false };
        let mut req = d.request(method, None);
        let dst = d.next_hop(call.peer);
        let transport = call.transport;
        let mf = self.cfg.trunks.get(call.trunk).map_or(70, |t| t.max_forwards);
        f(&mut req);
        self.send_request(now, req, dst, transport, mf, owner).is_some()
    }

    fn send_bye(&mut self, now: Instant, h: u64, cause: u8) {
        self.in_dialog_request(now, h, Method::Bye, Owner::Bye(h), |m| q850::add_reason(m, cause));
        if let Some(c) = self.calls.get_mut(&h) {
            c.phase = Phase::Ending;
            c.ok = None;
            c.end_cause = cause;
        }
    }

    /// CANCEL (§9.1): the INVITE's Request-URI, top Via, Call-ID, From, To, Route, CSeq number.
    fn send_cancel(&mut self, now: Instant, h: u64) {
        let Some(call) = self.calls.get_mut(&h) else { return };
        let inv = &call.invite;
        let Some(uri) = inv.start_uri() else { return };
        let mut c = Message::request(Method::Cancel, uri);
        for name in ["via", "route", "from", "to", "call-id"] {
            for hd in inv.headers_named(name) {
                c.headers.push(hd.clone());
            }
        }
        let seq = inv.cseq().map_or(1, |s| s.seq);
        c.push_header("CSeq", format!("{seq} CANCEL"));
        if let Some(cause) = call.cancel {
            q850::add_reason(&mut c, cause);
        }
        c.push_header("Max-Forwards", 70);
        c.push_header("Content-Length", 0);
        call.cancel_deadline = Some(now + self.cfg.timers.t64());
        let (dst, transport) = (call.peer, call.transport);
        // The CANCEL keeps the INVITE's branch (§9.1), so it bypasses send_request's new Via.
        let mut out = Vec::new();
        if let Some(tx) = crate::sip::transaction::ClientTx::start(now, c, dst, transport, self.cfg.timers, &mut out) {
            let key = tx.key.clone();
            self.tx_seq += 1;
            self.clients.insert(key.clone(), super::ClientEntry { tx, owner: Owner::Cancel(h), seq: self.tx_seq });
            self.client_out(now, &key, out);
        }
    }

    /// The call whose dialog an incoming request belongs to (To tag ours, From tag theirs).
    pub(super) fn find_call(&self, req: &Message) -> Option<u64> {
        let cid = req.call_id()?;
        let to_tag = req.to()?.tag()?.to_owned();
        let from_tag = req.from()?.tag().unwrap_or_default().to_owned();
        self.calls
            .iter()
            .find(|(_, c)| {
                c.local_tag == to_tag && c.dialog.as_ref().is_some_and(|d| d.call_id == cid && d.remote_tag == from_tag)
            })
            .map(|(h, _)| *h)
    }

    /// A new INVITE: which trunk (trusted source or digest), its offer, the IncomingCall event.
    pub(super) fn on_invite(&mut self, now: Instant, key: &ServerKey, src: SocketAddr, req: &Message) {
        if self.late_invite_copy(key, req) {
            return;
        }
        let Some(trunk) = self.inbound_trunk(now, key, src, req) else { return };
        let offer = sdp_of(req);
        if !req.body.is_empty() && offer.is_none() {
            let ct = req.content_type().unwrap_or("").to_ascii_lowercase();
            if ct.starts_with("application/sdp") {
                self.reply(now, key, 400, "Bad Request (SDP)", &[]);
            } else {
                self.reply(now, key, 415, "Unsupported Media Type", &[("Accept", "application/sdp".to_owned())]);
            }
            return;
        }
        let h = self.new_handle();
        let local_tag = self.token();
        let transport = self.servers.get(key).map_or(Transport::Udp, |t| t.transport);
        let from = req.from();
        let to_user = req.to().and_then(|t| t.uri.user());
        let request_user = req.start_uri().and_then(|u| u.user());
        self.calls.insert(
            h,
            Call {
                trunk,
                phase: Phase::Incoming,
                invite: req.clone(),
                invite_tx: None,
                server_key: Some(key.clone()),
                local_tag,
                dialog: None,
                user: to_user.clone().or_else(|| request_user.clone()).unwrap_or_else(|| "spangate".to_owned()),
                peer: src,
                transport,
                got_1xx: false,
                cancel: None,
                cancel_deadline: None,
                auth_tries: 0,
                ack: None,
                ok: None,
                bye_after_ack: None,
                reinvite_out: false,
                reinvite_in: None,
                end_cause: 16,
            },
        );
        self.events.push_back(SipEvent::IncomingCall {
            handle: Handle(h),
            trunk,
            request_user,
            from_user: from.as_ref().and_then(|f| f.uri.user()),
            from_display: from.and_then(|f| f.display).map(|d| d.trim_matches('"').to_owned()),
            to_user,
            offer,
        });
    }

    /// An INVITE we already hold a call for (same Call-ID, From tag and CSeq): a copy that
    /// arrived after its transaction ended with our 2xx, or the same request by another path
    /// (§8.2.2.2). The 2xx goes again while it is unacknowledged; nothing else happens.
    fn late_invite_copy(&mut self, key: &ServerKey, req: &Message) -> bool {
        let (Some(cid), Some(from_tag), Some(seq)) =
            (req.call_id(), req.from().and_then(|f| f.tag().map(str::to_owned)), req.cseq().map(|c| c.seq))
        else {
            return false;
        };
        let Some(call) = self.calls.values().find(|c| {
            c.server_key.is_some()
                && c.invite.call_id() == Some(cid)
                && c.invite.from().and_then(|f| f.tag().map(str::to_owned)) == Some(from_tag.clone())
                && c.invite.cseq().map(|c| c.seq) == Some(seq)
        }) else {
            return false;
        };
        let resend =
            call.ok.as_ref().map(|o| super::Transmit { transport: call.transport, dst: o.dst, bytes: o.bytes.clone() });
        self.transmits.extend(resend);
        // The copy's own transaction must not answer it again with 100 Trying or time out.
        self.servers.remove(key);
        true
    }

    /// The trunk an INVITE comes from, or `None` after answering 401/403.
    fn inbound_trunk(&mut self, now: Instant, key: &ServerKey, src: SocketAddr, req: &Message) -> Option<usize> {
        // Two trunks on one host (two PBXs, or two phones on one machine) differ only by port:
        // the trunk at exactly the source address wins over one that merely trusts its host.
        let exact = self.cfg.trunks.iter().position(|t| t.trusts(src) && t.addr == src);
        if let Some(i) = exact.or_else(|| self.cfg.trunks.iter().position(|t| t.trusts(src))) {
            return Some(i);
        }
        let creds = req.auth("authorization");
        let mut known_nonce = false;
        for c in &creds {
            let Some(user) = c.get("username") else { continue };
            let Some(nonce) = c.get("nonce") else { continue };
            let Some((ti, issued)) = self.challenges.iter().find(|(_, ch)| ch.nonce == nonce).cloned() else {
                continue;
            };
            known_nonce = true;
            let t = &self.cfg.trunks[ti];
            let Some((_, pass)) = t.inbound_credentials.iter().find(|(u, _)| u == user) else { continue };
            let ha1 = issued.algorithm.hex(&format!("{user}:{}:{pass}", issued.realm));
            if digest::verify(&issued, c, "INVITE", &ha1).is_ok() {
                return Some(ti);
            }
        }
        if known_nonce {
            self.counters.auth_failures += 1;
            self.reply(now, key, 403, "Forbidden", &[]);
            return None;
        }
        let by_addr = self.cfg.trunks.iter().position(|t| t.challenges() && t.addr.ip() == src.ip());
        let Some(ti) = by_addr.or_else(|| self.cfg.trunks.iter().position(|t| t.challenges())) else {
            self.counters.refused += 1;
            self.reply(now, key, 403, "Forbidden", &[]);
            return None;
        };
        let nonce = self.token();
        let t = &self.cfg.trunks[ti];
        let ch = Challenge {
            realm: t.inbound_realm.clone(),
            nonce,
            opaque: None,
            algorithm: t.inbound_algorithm,
            qop_auth: true,
            stale: false,
        };
        self.challenges.push_back((ti, ch.clone()));
        while self.challenges.len() > 256 {
            self.challenges.pop_front();
        }
        self.reply(now, key, 401, "Unauthorized", &[("WWW-Authenticate", ch.to_params().to_string())]);
        None
    }

    /// CANCEL (§9.2): 200 to it, 487 to the INVITE if still unanswered.
    pub(super) fn on_cancel(&mut self, now: Instant, key: &ServerKey, req: &Message) {
        let inv = key.invite_of();
        if !self.servers.contains_key(&inv) {
            self.reply(now, key, 481, "Call/Transaction Does Not Exist", &[]);
            return;
        }
        self.reply(now, key, 200, "OK", &[]);
        let Some(h) = self.calls.iter().find(|(_, c)| c.server_key.as_ref() == Some(&inv)).map(|(h, _)| *h) else {
            return;
        };
        if self.calls.get(&h).is_some_and(|c| c.phase == Phase::Incoming) {
            if let Some(resp) = self.call_response(h, &inv, 487, "Request Terminated", None) {
                self.respond(now, &inv, &resp);
            }
            let cause = req.q850_reason().and_then(|r| r.q850_cause()).unwrap_or(16);
            self.end_call(h, Some(487), cause, true);
        }
    }

    /// BYE, re-INVITE, INFO, OPTIONS inside a dialog.
    pub(super) fn on_in_dialog(&mut self, now: Instant, key: &ServerKey, req: &Message) {
        let Some(h) = self.find_call(req) else {
            self.reply(now, key, 481, "Call/Transaction Does Not Exist", &[]);
            return;
        };
        let ok_cseq = self.calls.get_mut(&h).and_then(|c| c.dialog.as_mut()).is_some_and(|d| d.accept_remote_cseq(req));
        if !ok_cseq {
            self.reply(now, key, 500, "Server Internal Error (CSeq out of order)", &[]);
            return;
        }
        let Some(call) = self.calls.get(&h).cloned() else { return };
        match req.method() {
            Some(Method::Bye) => {
                self.reply(now, key, 200, "OK", &[]);
                if let Some(inv) = call.server_key.clone().filter(|_| call.phase == Phase::Incoming) {
                    if let Some(resp) = self.call_response(h, &inv, 487, "Request Terminated", None) {
                        self.respond(now, &inv, &resp);
                    }
                }
                let cause = req.q850_reason().and_then(|r| r.q850_cause()).unwrap_or(16);
                self.end_call(h, None, cause, true);
            }
            Some(Method::Invite) => {
                if call.reinvite_out {
                    self.reply(now, key, 491, "Request Pending", &[]);
                } else if call.reinvite_in.is_some() || call.phase != Phase::Confirmed || call.ok.is_some() {
                    self.reply(now, key, 500, "Server Internal Error", &[("Retry-After", "1".to_owned())]);
                } else {
                    let offer = sdp_of(req);
                    if let Some(c) = self.calls.get_mut(&h) {
                        c.reinvite_in = Some(key.clone());
                        if let Some(d) = c.dialog.as_mut() {
                            d.refresh_target(req);
                        }
                    }
                    self.events.push_back(SipEvent::OfferChanged { handle: Handle(h), offer });
                }
            }
            Some(Method::Info) => {
                let ct = req.content_type().unwrap_or("");
                match parse_info_dtmf(ct, &req.body) {
                    Some(d) => {
                        self.reply(now, key, 200, "OK", &[]);
                        self.events.push_back(SipEvent::Dtmf {
                            handle: Handle(h),
                            digit: d.digit,
                            duration_ms: d.duration_ms,
                        });
                    }
                    None => {
                        self.reply(now, key, 415, "Unsupported Media Type", &[("Accept", super::ACCEPT.to_owned())])
                    }
                }
            }
            _ => self.reply(now, key, 200, "OK", &[("Allow", super::ALLOW.to_owned())]),
        }
    }

    /// An ACK outside any transaction: for a 2xx we sent.
    pub(super) fn on_ack(&mut self, now: Instant, req: &Message) {
        let Some(h) = self.find_call(req) else { return };
        let seq = req.cseq().map(|c| c.seq);
        let Some(call) = self.calls.get_mut(&h) else { return };
        if call.ok.as_ref().is_some_and(|o| Some(o.seq) == seq) {
            call.ok = None;
            if let Some(cause) = call.bye_after_ack.take() {
                self.send_bye(now, h, cause);
            }
        }
    }

    /// A 2xx to an INVITE whose transaction is gone: ACK it again. `true` if it was ours.
    pub(super) fn reack(&mut self, resp: &Message) -> bool {
        let (Some(cid), Some(tag)) = (resp.call_id(), resp.from().and_then(|f| f.tag().map(str::to_owned))) else {
            return false;
        };
        let Some(call) = self.calls.values().find(|c| c.local_tag == tag && c.invite.call_id() == Some(cid)) else {
            return false;
        };
        let Some((bytes, dst)) = call.ack.clone() else { return false };
        let transport = call.transport;
        self.transmits.push_back(super::Transmit { transport, dst, bytes });
        true
    }

    /// The same request again with credentials for the challenge in `resp` and CSeq + 1.
    pub(super) fn with_auth(&mut self, trunk: usize, sent: &Message, resp: &Message) -> Option<Message> {
        let t = self.cfg.trunks.get(trunk)?;
        if t.username.is_empty() {
            return None;
        }
        let (user, pass) = (t.username.clone(), t.password.clone());
        let (hdr, params) = if let Some(p) = resp.auth("www-authenticate").into_iter().next() {
            ("Authorization", p)
        } else {
            ("Proxy-Authorization", resp.auth("proxy-authenticate").into_iter().next()?)
        };
        let ch = Challenge::from_params(&params).ok()?;
        let uri = sent.start_uri()?.to_string();
        let method = sent.method()?.to_string();
        let cnonce = self.token();
        let auth = digest::authorization(&ch, &user, &pass, &method, &uri, 1, &cnonce);
        let mut req = sent.clone();
        req.headers.retain(|h| !matches!(h.key(), "via" | "authorization" | "proxy-authorization"));
        req.push_header(hdr, auth);
        let seq = sent.cseq()?.seq.wrapping_add(1);
        req.set_header("CSeq", format!("{seq} {method}"));
        Some(req)
    }

    /// A response from one of a call's client transactions.
    pub(super) fn on_call_response(&mut self, now: Instant, owner: Owner, key: &ClientKey, resp: Message) {
        let code = resp.status().unwrap_or(500);
        match owner {
            Owner::Invite(h) => self.on_invite_response(now, h, key, resp, code),
            Owner::Bye(h) => {
                if matches!(code, 401 | 407) {
                    let sent = self.clients.get(key).map(|e| e.tx.request().clone());
                    let retry = self.calls.get_mut(&h).filter(|c| c.auth_tries < 2).map(|c| {
                        c.auth_tries += 1;
                        (c.trunk, c.peer, c.transport)
                    });
                    if let (Some(sent), Some((trunk, _, transport))) = (sent, retry) {
                        if let Some(req) = self.with_auth(trunk, &sent, &resp) {
                            let dst = self.clients.get(key).map_or(self.calls[&h].peer, |e| e.tx.dst);
                            if let Some(d) = self.calls.get_mut(&h).and_then(|c| c.dialog.as_mut()) {
                                d.local_cseq = req.cseq().map_or(d.local_cseq, |c| c.seq);
                            }
                            self.send_request(now, req, dst, transport, 70, Owner::Bye(h));
                            return;
                        }
                    }
                }
                if code >= 200 {
                    let cause = self.calls.get(&h).map_or(16, |c| c.end_cause);
                    self.end_call(h, None, cause, false);
                }
            }
            Owner::Reinvite(h) if code >= 200 => {
                if (200..300).contains(&code) {
                    self.ack_2xx(h, &resp);
                }
                if let Some(c) = self.calls.get_mut(&h) {
                    c.reinvite_out = false;
                    if (200..300).contains(&code) {
                        if let Some(d) = c.dialog.as_mut() {
                            d.refresh_target(&resp);
                        }
                    }
                }
                let sdp = sdp_of(&resp);
                self.events.push_back(SipEvent::ReinviteDone { handle: Handle(h), status: code, sdp });
            }
            _ => {}
        }
    }

    fn on_invite_response(&mut self, now: Instant, h: u64, key: &ClientKey, resp: Message, code: u16) {
        let Some(call) = self.calls.get_mut(&h) else { return };
        match code {
            100..=199 => {
                // Any provisional, 100 included, lets a pending CANCEL go (§9.1).
                call.got_1xx = true;
                if code == 100 {
                    if call.cancel.is_some() && call.cancel_deadline.is_none() {
                        self.send_cancel(now, h);
                    }
                    return;
                }
                if call.dialog.is_none() && resp.to().is_some_and(|t| t.tag().is_some()) {
                    call.dialog = Dialog::uac(&call.invite, &resp);
                }
                let send_cancel = call.cancel.is_some() && call.cancel_deadline.is_none();
                self.events.push_back(SipEvent::Progress { handle: Handle(h), code, sdp: sdp_of(&resp) });
                if send_cancel {
                    self.send_cancel(now, h);
                }
            }
            200..=299 => {
                let d = Dialog::uac(&call.invite, &resp);
                call.dialog = d;
                call.phase = Phase::Confirmed;
                call.cancel_deadline = None;
                let cancel = call.cancel;
                self.ack_2xx(h, &resp);
                match cancel {
                    // CANCEL lost the race with the 200 (§9.1): the call is up, so BYE it.
                    Some(cause) => self.send_bye(now, h, cause),
                    None => self.events.push_back(SipEvent::Answered { handle: Handle(h), sdp: sdp_of(&resp) }),
                }
            }
            401 | 407 if call.auth_tries < 2 && call.cancel.is_none() => {
                call.auth_tries += 1;
                let trunk = call.trunk;
                let (dst, transport) = (call.peer, call.transport);
                let sent = self.clients.get(key).map(|e| e.tx.request().clone());
                let req = sent.and_then(|s| self.with_auth(trunk, &s, &resp));
                let Some(req) = req else {
                    self.end_call(h, Some(code), cause_of(&resp), true);
                    return;
                };
                let mf = self.cfg.trunks.get(trunk).map_or(70, |t| t.max_forwards);
                let Some(k) = self.send_request(now, req, dst, transport, mf, Owner::Invite(h)) else { return };
                let inv = self.clients.get(&k).map(|e| e.tx.request().clone());
                if let (Some(c), Some(inv)) = (self.calls.get_mut(&h), inv) {
                    c.invite = inv;
                    c.invite_tx = Some(k);
                    c.got_1xx = false;
                }
            }
            _ => {
                let (by_remote, cause) = match call.cancel {
                    Some(c) => (false, c),
                    None => (true, cause_of(&resp)),
                };
                self.end_call(h, Some(code), cause, by_remote);
            }
        }
    }

    /// The ACK for a 2xx (§13.2.2.4): a new transaction-less request in the dialog, resent on
    /// each retransmitted 2xx.
    fn ack_2xx(&mut self, h: u64, resp: &Message) {
        let Some(seq) = resp.cseq().map(|c| c.seq) else { return };
        let Some(call) = self.calls.get_mut(&h) else { return };
        let Some(d) = call.dialog.as_mut() else { return };
        let ack = d.request(Method::Ack, Some(seq));
        let dst = d.next_hop(call.peer);
        let transport = call.transport;
        let bytes = self.send_ack(ack, dst, transport);
        if let Some(c) = self.calls.get_mut(&h) {
            c.ack = Some((bytes, dst));
        }
    }

    /// The connection under a call's transaction failed: an INVITE ends as with a 503 (§8.1.3.1),
    /// so that routing falls over; a cancelled call keeps its cause.
    pub(super) fn on_call_transport_error(&mut self, now: Instant, owner: Owner) {
        if let Owner::Invite(h) = owner {
            let cause = self.calls.get(&h).and_then(|c| c.cancel).unwrap_or_else(|| q850::cause_for_status(503));
            self.end_call(h, Some(503), cause, false);
        } else {
            self.on_call_timeout(now, owner);
        }
    }

    /// Timer B/F of a call's transaction.
    pub(super) fn on_call_timeout(&mut self, now: Instant, owner: Owner) {
        match owner {
            Owner::Invite(h) => {
                let cause = self.calls.get(&h).and_then(|c| c.cancel).unwrap_or_else(|| q850::cause_for_status(408));
                self.end_call(h, Some(408), cause, false);
            }
            Owner::Bye(h) => {
                let cause = self.calls.get(&h).map_or(16, |c| c.end_cause);
                self.end_call(h, Some(408), cause, false);
            }
            Owner::Reinvite(h) => {
                if let Some(c) = self.calls.get_mut(&h) {
                    c.reinvite_out = false;
                }
                self.events.push_back(SipEvent::ReinviteDone { handle: Handle(h), status: 408, sdp: None });
                // §14.1: a re-INVITE that times out ends the dialog.
                self.send_bye(now, h, q850::cause_for_status(408));
            }
            _ => {}
        }
    }

    /// The calls' own timers: 2xx retransmission (§13.3.1.4) and the CANCEL wait (§9.1).
    pub(super) fn calls_timeout(&mut self, now: Instant) {
        let t2 = self.cfg.timers.t2;
        let mut due: Vec<u64> =
            self.calls.iter().filter(|(_, c)| c.next_timeout().is_some_and(|t| t <= now)).map(|(h, _)| *h).collect();
        due.sort_unstable();
        for h in due {
            let Some(call) = self.calls.get_mut(&h) else { continue };
            if call.cancel_deadline.is_some_and(|t| t <= now) {
                let cause = call.cancel.unwrap_or(16);
                self.end_call(h, None, cause, false);
                continue;
            }
            let Some(ok) = call.ok.as_mut() else { continue };
            if ok.deadline <= now {
                // No ACK for our 2xx: confirm and end the session with BYE (§13.3.1.4).
                call.ok = None;
                self.send_bye(now, h, q850::cause_for_status(408));
                continue;
            }
            self.counters.retransmissions += 1;
            self.transmits.push_back(super::Transmit {
                transport: call.transport,
                dst: ok.dst,
                bytes: ok.bytes.clone(),
            });
            ok.interval = (ok.interval * 2).min(t2);
            ok.next = (now + ok.interval).min(ok.deadline);
        }
    }
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        484 => "Address Incomplete",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        603 => "Decline",
        _ => "Call Failed",
    }
}
