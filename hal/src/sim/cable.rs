//! Lines that leave the process: a full span cable over `SOCK_SEQPACKET`, and a D-channel-only
//! line in libpri's datagram framing.
//!
//! The span cable carries one datagram per 1 ms frame. Both processes tick on their own clocks, so
//! the receiver keeps a small elastic store, as a real framer does: it starts delivering once a few
//! frames are buffered, repeats the last frame when the store runs dry (a controlled slip) and drops
//! the oldest when it overflows (also a slip). A peer that goes away is a loss of signal.

use std::io::{self, Read};
use std::os::unix::net::{SocketAddr as UnixAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Socket, Type};

use super::frame::{live_len, LineFrame, WIRE_MAX};
use super::hdlc::{HdlcDecoder, HdlcEncoder};
use super::world::remove_stale_socket;
use crate::{HalError, SpanConfig, CHUNK, MAX_HDLC_FRAME};

/// Frames buffered before the receiver starts delivering.
const PRIME: usize = 4;
/// Capacity of the elastic store.
const STORE: usize = 32;
/// Consecutive empty ticks after which the store is considered drained (signal lost).
const DRY_LIMIT: u32 = 20;
/// How often a disconnected `connect` end retries.
const RETRY: Duration = Duration::from_millis(100);

/// A cable to a span in another process.
pub(crate) struct SocketCable {
    path: PathBuf,
    listener: Option<Socket>,
    conn: Option<Socket>,
    next_try: Instant,
    seq: u32,
    store: [LineFrame; STORE],
    head: usize,
    len: usize,
    primed: bool,
    dry: u32,
    last: LineFrame,
    wire: [u8; WIRE_MAX],
    /// Datagrams that were not valid frames.
    pub(crate) bad_datagrams: u64,
}

impl SocketCable {
    fn empty(path: &Path) -> SocketCable {
        SocketCable {
            path: path.to_owned(),
            listener: None,
            conn: None,
            next_try: Instant::now(),
            seq: 0,
            store: [LineFrame::default(); STORE],
            head: 0,
            len: 0,
            primed: false,
            dry: 0,
            last: LineFrame::default(),
            wire: [0; WIRE_MAX],
            bad_datagrams: 0,
        }
    }

    /// The listening end: binds `path` (replacing a stale socket file) and waits for the peer.
    pub(crate) fn listen(path: &Path) -> Result<SocketCable, HalError> {
        let op = || format!("listen for cable on {}", path.display());
        remove_stale_socket(path).map_err(|e| HalError::io(op(), e))?;
        let s = Socket::new(Domain::UNIX, Type::SEQPACKET, None).map_err(|e| HalError::io(op(), e))?;
        let addr = SockAddr::unix(path).map_err(|e| HalError::io(op(), e))?;
        s.bind(&addr).map_err(|e| HalError::io(op(), e))?;
        s.listen(1).map_err(|e| HalError::io(op(), e))?;
        s.set_nonblocking(true).map_err(|e| HalError::io(op(), e))?;
        let mut c = SocketCable::empty(path);
        c.listener = Some(s);
        Ok(c)
    }

    /// The connecting end: retries until the listening end is there.
    pub(crate) fn connect(path: &Path) -> SocketCable {
        SocketCable::empty(path)
    }

    fn try_connect(&mut self) {
        if let Some(l) = &self.listener {
            if let Ok((s, _)) = l.accept() {
                if s.set_nonblocking(true).is_ok() {
                    self.conn = Some(s);
                }
            }
            return;
        }
        let now = Instant::now();
        if now < self.next_try {
            return;
        }
        self.next_try = now + RETRY;
        let Ok(addr) = SockAddr::unix(&self.path) else { return };
        if let Ok(s) = Socket::new(Domain::UNIX, Type::SEQPACKET, None) {
            if s.connect(&addr).is_ok() && s.set_nonblocking(true).is_ok() {
                self.conn = Some(s);
            }
        }
    }

    fn drop_conn(&mut self) {
        self.conn = None;
        self.len = 0;
        self.primed = false;
    }

    /// Sends this tick's frame (unless the direction is cut) and takes in whatever arrived.
    pub(crate) fn pump(&mut self, tx: &LineFrame, live: usize, tx_cut: bool) {
        if self.conn.is_none() {
            self.try_connect();
        }
        let Some(conn) = &self.conn else { return };
        let mut lost = false;
        if !tx_cut {
            self.seq = self.seq.wrapping_add(1);
            let n = tx.encode(self.seq, live, &mut self.wire);
            match conn.send(&self.wire[..n]) {
                Ok(_) => {}
                // The peer is not reading fast enough: this frame is lost on the wire.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => lost = true,
            }
        }
        // Drain everything that arrived; a burst after a scheduling hiccup is normal.
        let mut reader = conn;
        while !lost {
            match reader.read(&mut self.wire) {
                Ok(0) => lost = true,
                Ok(n) => {
                    let at = (self.head + self.len) % STORE;
                    let mut f = LineFrame::default();
                    match f.decode(&self.wire[..n]) {
                        Ok(_) => {
                            self.store[at] = f;
                            if self.len == STORE {
                                // Overflow: the oldest frame is dropped (a slip on the peer's side
                                // of the store; counted when delivered as a jump).
                                self.head = (self.head + 1) % STORE;
                            } else {
                                self.len += 1;
                            }
                        }
                        Err(_) => self.bad_datagrams += 1,
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => lost = true,
            }
            reader = match &self.conn {
                Some(c) => c,
                None => break,
            };
        }
        if lost {
            self.drop_conn();
        }
    }

    /// This tick's received frame and whether a slip happened; `None` when there is no signal.
    pub(crate) fn take(&mut self) -> Option<(LineFrame, bool)> {
        self.conn.as_ref()?;
        if !self.primed {
            if self.len < PRIME {
                return None;
            }
            self.primed = true;
        }
        if self.len == 0 {
            self.dry += 1;
            if self.dry > DRY_LIMIT {
                self.primed = false;
                return None;
            }
            return Some((self.last, true));
        }
        // Keep the store from growing without bound when the peer runs slightly fast.
        let mut slip = self.dry > 0;
        if self.len > STORE / 2 {
            self.head = (self.head + 1) % STORE;
            self.len -= 1;
            slip = true;
        }
        self.dry = 0;
        let f = self.store[self.head];
        self.head = (self.head + 1) % STORE;
        self.len -= 1;
        self.last = f;
        Some((f, slip))
    }
}

/// A D-channel-only line to a peer such as libpri: one datagram is one Q.921 frame plus two dummy
/// FCS octets. Our span's transmitted HDLC stream is decoded into datagrams; the peer's datagrams
/// are HDLC-encoded into the span's received D timeslot. Layer 1 is always up.
pub(crate) struct DchanLine {
    sock: UnixDatagram,
    peer: Option<UnixAddr>,
    enc: HdlcEncoder,
    dec: HdlcDecoder,
    idle: LineFrame,
    dchan: usize,
    octets: usize,
    buf: Box<[u8; MAX_HDLC_FRAME + 4]>,
    /// Datagrams too short or too long to be a Q.921 frame with its two FCS octets.
    pub(crate) bad_datagrams: u64,
    /// Frames we could not deliver because no peer has written to us yet.
    pub(crate) undeliverable: u64,
}

impl DchanLine {
    pub(crate) fn bind(path: &Path, config: &SpanConfig) -> Result<DchanLine, HalError> {
        let op = || format!("bind D-channel socket {}", path.display());
        let dchan = config.dchan.ok_or_else(|| {
            HalError::new(crate::ErrorKind::InvalidConfig, format!("{}: span has no D-channel", op()))
        })?;
        remove_stale_socket(path).map_err(|e| HalError::io(op(), e))?;
        let sock = UnixDatagram::bind(path).map_err(|e| HalError::io(op(), e))?;
        sock.set_nonblocking(true).map_err(|e| HalError::io(op(), e))?;
        let mut idle = LineFrame::default();
        let code = config.law.idle_code();
        idle.payload[CHUNK..live_len(config.kind)].fill(code);
        Ok(DchanLine {
            sock,
            peer: None,
            enc: HdlcEncoder::new(),
            dec: HdlcDecoder::new(),
            idle,
            dchan: usize::from(dchan),
            octets: config.kind.dchan_octets_per_ms(),
            buf: Box::new([0; MAX_HDLC_FRAME + 4]),
            bad_datagrams: 0,
            undeliverable: 0,
        })
    }

    /// Decodes our span's transmitted D timeslot and forwards whole frames to the peer.
    pub(crate) fn forward_span_tx(&mut self, tx: &LineFrame) {
        let at = self.dchan * CHUNK;
        let mut octets = [0u8; CHUNK];
        octets[..self.octets].copy_from_slice(&tx.payload[at..at + self.octets]);
        let (sock, peer, buf) = (&self.sock, &self.peer, &mut self.buf);
        let undeliverable = &mut self.undeliverable;
        self.dec.feed(&octets[..self.octets], &mut |r| {
            let Ok(frame) = r else { return };
            let Some(to) = peer else {
                *undeliverable += 1;
                return;
            };
            let n = frame.len();
            buf[..n].copy_from_slice(frame);
            buf[n] = 0;
            buf[n + 1] = 0;
            if sock.send_to_addr(&buf[..n + 2], to).is_err() {
                *undeliverable += 1;
            }
        });
    }

    /// This tick's received frame: idle bearers and the peer's frames as an HDLC stream.
    pub(crate) fn next_rx_frame(&mut self) -> LineFrame {
        if self.enc.is_idle() {
            // Skip malformed datagrams until a good frame is loaded or the socket is empty.
            while let Ok((n, from)) = self.sock.recv_from(&mut self.buf[..]) {
                if from.as_pathname().is_some() {
                    self.peer = Some(from);
                }
                if (5..=MAX_HDLC_FRAME + 2).contains(&n) && self.enc.load(&self.buf[..n - 2]).is_ok() {
                    break;
                }
                self.bad_datagrams += 1;
            }
        }
        let mut f = self.idle;
        let at = self.dchan * CHUNK;
        self.enc.fill(&mut f.payload[at..at + self.octets]);
        f
    }
}
