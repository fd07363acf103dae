//! SIP over TCP for the event loop (RFC 3261 §18): the listening socket on the SIP port and the
//! connections accepted on it or opened by us, each with its stream framer and a bounded send
//! buffer, all non-blocking in the mio loop.
//!
//! Framed messages go to the endpoint as they come ([`Input::Message`]); responses go back on the
//! connection their request came on, because the endpoint answers a reliable transport at the
//! request's source address (§18.2.2) and [`TcpSide::send`] picks the open connection to that
//! address; requests to an address with no connection open a new one (§18.1.1), whose bytes wait
//! until the connect completes. A double-CRLF keep-alive ping between messages is answered with a
//! single CRLF pong (RFC 5626 §3.5.1).
//!
//! Every resource is bounded, so that no peer can cost more than its own connection:
//! - at most `max_connections` connections; a connection accepted beyond that is closed at once;
//! - a message (headers and body) of at most `max_message` bytes; the framer holds at most twice
//!   that;
//! - at most `max_unsent` bytes waiting to be sent on one connection (a peer that does not read
//!   loses its connection, not our memory);
//! - at most `read_budget` bytes read from one connection per turn of the loop: the rest waits for
//!   the next turn (the timeout is "now" while any does), so a flooding peer cannot hold the loop;
//! - a connection with no traffic for `idle` is closed.
//!
//! A stream that loses its framing (no Content-Length, a bad one, a message over the limit) is
//! counted, logged once, and closed after what we queued on it is sent: a request without
//! Content-Length is handed back as [`Input::Unframed`] so that the endpoint can answer it with
//! 400 first (§18.3). A connection that fails (connect refused, reset, closed by the peer, send
//! queue full) names its peer in [`TcpSide::take_failed`], so that the transactions waiting on it
//! end at once (§17.1.1.2) instead of at timer B or F. Nothing here reads the clock; `now` is
//! passed in.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use log::{debug, warn};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};

use crate::sip::StreamFramer;

/// TCP tokens: the listener is `TCP_TOKENS`, connection slot `n` is `TCP_TOKENS + 1 + n`. They lie
/// below `sipnet::RTP_TOKENS`.
pub const TCP_TOKENS: usize = 1 << 19;

/// How much one peer may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpLimits {
    pub max_connections: usize,
    pub max_message: usize,
    pub max_unsent: usize,
    pub read_budget: usize,
    pub idle: Duration,
}

impl Default for TcpLimits {
    fn default() -> TcpLimits {
        TcpLimits {
            max_connections: 256,
            // A SIP message is a few kilobytes; a UDP datagram could not carry more than this.
            max_message: 65_535,
            max_unsent: 256 * 1024,
            read_budget: 64 * 1024,
            // Long enough for a trunk's OPTIONS keepalive (60 s by default) to keep it open.
            idle: Duration::from_secs(300),
        }
    }
}

/// What happened to the connections, for the status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TcpCounters {
    /// Connections accepted, and opened by us.
    pub accepted: u64,
    pub opened: u64,
    /// Connections closed at once because `max_connections` were open.
    pub refused: u64,
    /// Connections closed because their stream lost its framing.
    pub malformed: u64,
    /// Connections closed after `idle` without traffic.
    pub idle_closed: u64,
    /// Connections closed because the peer did not read what we sent.
    pub overflowed: u64,
    /// Connects that failed and connections that broke (reset, refused).
    pub failed: u64,
    /// Keep-alive pings answered.
    pub pings: u64,
}

/// What a connection gave the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// One framed message from the peer at this address.
    Message(SocketAddr, Vec<u8>),
    /// The header part of a message without Content-Length: to be answered with 400; the
    /// connection closes once that is sent.
    Unframed(SocketAddr, Vec<u8>),
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    framer: StreamFramer,
    /// Bytes queued and not yet taken by the socket.
    out: Vec<u8>,
    /// Opened by us and not yet known to be connected.
    connecting: bool,
    /// Close once `out` is sent (the stream lost its framing).
    closing: bool,
    last: Instant,
}

/// The TCP side of SIP.
pub struct TcpSide {
    listener: TcpListener,
    local: SocketAddr,
    registry: Registry,
    conns: HashMap<usize, Conn>,
    next_slot: usize,
    limits: TcpLimits,
    counters: TcpCounters,
    /// Connections whose read budget ran out with bytes maybe still waiting, and since when.
    backlog: Vec<usize>,
    backlog_since: Option<Instant>,
    /// Warnings already logged once (further ones are only counted): malformed, refused.
    warned: [bool; 2],
    /// Peers whose connection failed or broke, for the endpoint's transactions waiting on them.
    failed: Vec<SocketAddr>,
}

/// The highest slot: tokens must stay below `sipnet::RTP_TOKENS`.
const SLOTS: usize = TCP_TOKENS - 1;

impl TcpSide {
    /// Listens on `addr` (non-blocking, registered under `TCP_TOKENS`).
    pub fn bind(addr: SocketAddr, registry: &Registry, limits: TcpLimits) -> std::io::Result<TcpSide> {
        let mut listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        registry.register(&mut listener, Token(TCP_TOKENS), Interest::READABLE)?;
        Ok(TcpSide {
            listener,
            local,
            registry: registry.try_clone()?,
            conns: HashMap::new(),
            next_slot: 0,
            limits,
            counters: TcpCounters::default(),
            backlog: Vec::new(),
            backlog_since: None,
            warned: [false; 2],
            failed: Vec::new(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn counters(&self) -> TcpCounters {
        self.counters
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Whether `token` is one of ours.
    pub fn owns(token: Token) -> bool {
        (TCP_TOKENS..=TCP_TOKENS + SLOTS).contains(&token.0)
    }

    fn warn_once(&mut self, which: usize, what: &str) {
        if !self.warned[which] {
            self.warned[which] = true;
            warn!("SIP/TCP: {what} (further ones are only counted)");
        }
    }

    /// A readiness event on `token`: accepts, completes connects, sends what waits, reads.
    pub fn on_event(&mut self, now: Instant, token: Token, readable: bool, writable: bool, out: &mut Vec<Input>) {
        if token.0 == TCP_TOKENS {
            self.accept(now);
            return;
        }
        let slot = token.0 - TCP_TOKENS - 1;
        // A failed connect may be reported as an error without writability.
        if writable || self.conns.get(&slot).is_some_and(|c| c.connecting) {
            self.on_writable(now, slot);
        }
        if readable {
            self.read(now, slot, out);
        }
    }

    fn accept(&mut self, now: Instant) {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if self.conns.len() >= self.limits.max_connections {
                        // Dropping the stream closes it: the peer may come back when we have room.
                        self.counters.refused += 1;
                        self.warn_once(1, &format!("{} connections open, {peer} refused", self.conns.len()));
                        continue;
                    }
                    self.counters.accepted += 1;
                    self.add(now, stream, peer, false);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                // The peer gave up before we accepted (ECONNABORTED...): nothing to do for it.
                Err(e) if e.kind() == ErrorKind::ConnectionAborted || e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    // EMFILE and the like: the waiting connections stay queued in the kernel.
                    warn!("SIP/TCP: accept: {e}");
                    return;
                }
            }
        }
    }

    /// Registers a new connection; its slot, or `None` when registration failed.
    fn add(&mut self, now: Instant, mut stream: TcpStream, peer: SocketAddr, connecting: bool) -> Option<usize> {
        let mut slot = self.next_slot;
        while self.conns.contains_key(&slot) {
            slot = (slot + 1) % SLOTS;
        }
        self.next_slot = (slot + 1) % SLOTS;
        let token = Token(TCP_TOKENS + 1 + slot);
        if let Err(e) = self.registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE) {
            warn!("SIP/TCP: register connection with {peer}: {e}");
            return None;
        }
        // Nagle would hold a short response back waiting for an ACK of the previous segment.
        let _ = stream.set_nodelay(true);
        debug!("SIP/TCP: connection {slot} with {peer} ({})", if connecting { "opened" } else { "accepted" });
        let framer = StreamFramer::new(self.limits.max_message);
        self.conns.insert(slot, Conn { stream, peer, framer, out: Vec::new(), connecting, closing: false, last: now });
        Some(slot)
    }

    /// Peers whose connection failed or broke since the last call (connect refused, reset, closed
    /// by the peer, send queue over its bound, no room for a new connection): the endpoint ends
    /// the transactions waiting on them (`SipEndpoint::handle_transport_error`).
    pub fn take_failed(&mut self) -> Vec<SocketAddr> {
        std::mem::take(&mut self.failed)
    }

    /// Closes a connection that failed under whatever was waiting on it.
    fn fail(&mut self, slot: usize, why: &str) {
        if let Some(c) = self.conns.get(&slot) {
            self.failed.push(c.peer);
        }
        self.close(slot, why);
    }

    fn close(&mut self, slot: usize, why: &str) {
        if let Some(mut c) = self.conns.remove(&slot) {
            let _ = self.registry.deregister(&mut c.stream);
            debug!("SIP/TCP: connection {slot} with {} closed: {why}", c.peer);
        }
        self.backlog.retain(|&s| s != slot);
    }

    fn on_writable(&mut self, now: Instant, slot: usize) {
        let Some(c) = self.conns.get_mut(&slot) else { return };
        if c.connecting {
            // mio: a writable event ends a connect; take_error and peer_addr say how (a spurious
            // event leaves peer_addr NotConnected: wait for the next one).
            match c.stream.take_error() {
                Ok(None) => {}
                Ok(Some(e)) | Err(e) => {
                    self.counters.failed += 1;
                    warn!("SIP/TCP: connect to {}: {e}", c.peer);
                    self.fail(slot, "connect failed");
                    return;
                }
            }
            match c.stream.peer_addr() {
                Ok(_) => c.connecting = false,
                Err(e) if e.kind() == ErrorKind::NotConnected => return,
                Err(e) => {
                    self.counters.failed += 1;
                    warn!("SIP/TCP: connect to {}: {e}", c.peer);
                    self.fail(slot, "connect failed");
                    return;
                }
            }
        }
        self.write(now, slot);
    }

    /// Sends what the socket takes of the connection's queue.
    fn write(&mut self, now: Instant, slot: usize) {
        let Some(c) = self.conns.get_mut(&slot) else { return };
        if c.connecting {
            return;
        }
        let mut sent = 0;
        let result = loop {
            if sent == c.out.len() {
                break Ok(());
            }
            match c.stream.write(&c.out[sent..]) {
                Ok(0) => break Err(std::io::Error::from(ErrorKind::WriteZero)),
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        c.out.drain(..sent);
        if sent > 0 {
            c.last = now;
        }
        let done = c.closing && c.out.is_empty();
        if let Err(e) = result {
            self.counters.failed += 1;
            let why = format!("send: {e}");
            self.fail(slot, &why);
        } else if done {
            self.close(slot, "stream framing lost");
        }
    }

    /// Reads up to the read budget from the connection into its framer and hands out what it
    /// framed.
    fn read(&mut self, now: Instant, slot: usize, out: &mut Vec<Input>) {
        let mut buf = [0u8; 16 * 1024];
        let mut total = 0;
        let mut pongs = 0;
        let mut failure: Option<String> = None;
        let mut closed: Option<String> = None;
        {
            let Some(c) = self.conns.get_mut(&slot) else { return };
            if c.closing || c.connecting {
                return;
            }
            loop {
                if total >= self.limits.read_budget {
                    if !self.backlog.contains(&slot) {
                        self.backlog.push(slot);
                    }
                    self.backlog_since.get_or_insert(now);
                    break;
                }
                let want = buf.len().min(self.limits.read_budget - total);
                let n = match c.stream.read(&mut buf[..want]) {
                    Ok(0) => {
                        closed = Some("closed by the peer".to_owned());
                        break;
                    }
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        closed = Some(format!("receive: {e}"));
                        break;
                    }
                };
                total += n;
                c.last = now;
                c.framer.push(&buf[..n]);
                while let Some(m) = c.framer.next_message() {
                    match m {
                        Ok(m) => out.push(Input::Message(c.peer, m)),
                        Err(e) => {
                            if let Some(head) = c.framer.take_rejected() {
                                out.push(Input::Unframed(c.peer, head));
                            }
                            failure = Some(format!("stream from {} closed: {e}", c.peer));
                            break;
                        }
                    }
                }
                pongs += c.framer.take_pings();
                if failure.is_some() {
                    c.closing = true;
                    break;
                }
            }
        }
        if pongs > 0 {
            self.counters.pings += u64::from(pongs);
            for _ in 0..pongs {
                self.queue(now, slot, b"\r\n");
            }
        }
        if let Some(what) = failure {
            self.counters.malformed += 1;
            self.warn_once(0, &what);
        }
        if let Some(why) = closed {
            if why != "closed by the peer" {
                self.counters.failed += 1;
            }
            self.fail(slot, &why);
        }
    }

    /// Queues `bytes` for `dst`: on the open connection with that peer (one closing after a
    /// framing error takes its 400), else on a new one. `false` when the bytes cannot go (connect
    /// refused by the OS, the connection bound, the peer not reading); the transaction layer then
    /// times out as it would over a lossy UDP.
    pub fn send(&mut self, now: Instant, dst: SocketAddr, bytes: &[u8]) -> bool {
        let open = self.conns.iter().filter(|(_, c)| c.peer == dst).min_by_key(|(_, c)| c.closing).map(|(&s, _)| s);
        let slot = match open {
            Some(s) => s,
            None => {
                if self.conns.len() >= self.limits.max_connections {
                    self.counters.refused += 1;
                    self.warn_once(1, &format!("{} connections open, none more to {dst}", self.conns.len()));
                    self.failed.push(dst);
                    return false;
                }
                let stream = match TcpStream::connect(dst) {
                    Ok(s) => s,
                    Err(e) => {
                        self.counters.failed += 1;
                        warn!("SIP/TCP: connect to {dst}: {e}");
                        self.failed.push(dst);
                        return false;
                    }
                };
                let Some(s) = self.add(now, stream, dst, true) else {
                    self.failed.push(dst);
                    return false;
                };
                self.counters.opened += 1;
                s
            }
        };
        self.queue(now, slot, bytes)
    }

    fn queue(&mut self, now: Instant, slot: usize, bytes: &[u8]) -> bool {
        let Some(c) = self.conns.get_mut(&slot) else { return false };
        if c.out.len().saturating_add(bytes.len()) > self.limits.max_unsent {
            self.counters.overflowed += 1;
            warn!("SIP/TCP: {} does not read what we send ({} bytes waiting): connection closed", c.peer, c.out.len());
            self.fail(slot, "send buffer full");
            return false;
        }
        c.out.extend_from_slice(bytes);
        c.last = now;
        self.write(now, slot);
        true
    }

    /// Closes the connections that lost their framing once what was queued on them (their 400)
    /// is sent; called after the endpoint's answers went out.
    pub fn reap(&mut self) {
        let done: Vec<usize> =
            self.conns.iter().filter(|(_, c)| c.closing && c.out.is_empty()).map(|(&s, _)| s).collect();
        for slot in done {
            self.close(slot, "stream framing lost");
        }
    }

    /// When [`TcpSide::on_timeout`] has work: a backlog to read, or the next idle deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let idle = self.conns.values().map(|c| c.last + self.limits.idle).min();
        match (self.backlog_since, idle) {
            (Some(b), Some(i)) => Some(b.min(i)),
            (b, i) => b.or(i),
        }
    }

    /// Closes idle connections and reads on from connections whose budget ran out.
    pub fn on_timeout(&mut self, now: Instant, out: &mut Vec<Input>) {
        let idle: Vec<usize> =
            self.conns.iter().filter(|(_, c)| c.last + self.limits.idle <= now).map(|(&s, _)| s).collect();
        for slot in idle {
            self.counters.idle_closed += 1;
            self.close(slot, "idle");
        }
        let backlog = std::mem::take(&mut self.backlog);
        self.backlog_since = None;
        for slot in backlog {
            self.read(now, slot, out);
        }
    }
}

#[cfg(test)]
mod tests;
