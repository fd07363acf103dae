//! The event loop's SIP side: the UDP socket of `[sip] listen` and TCP on the same port
//! ([`crate::sipnet_tcp`]), the sans-IO [`SipEndpoint`] they feed, the trunks of the config mapped
//! to the endpoint's [`TrunkConfig`], and the SIP legs of calls through the switch (their SDP
//! offer/answer state).
//!
//! Datagrams go to `SipEndpoint::handle_input` as they come; `flush` sends what it queued;
//! `poll_leg_event` turns its [`SipEvent`]s into the switch's [`LegEvent`]s; the switch acts on SIP
//! legs through [`SipNet::invite`], `progress`, `answer`, `hangup`. Trunk and registration state
//! go to the status snapshot. A datagram that fails to parse costs only itself (the endpoint counts
//! it and answers 400 where it can).
//!
//! Media: each SIP leg gets an RTP socket bound to a port of `[sip] rtp_ports` (the one its SDP
//! names), registered in mio. Received packets of the negotiated payload type become
//! `media_rtp::Incoming`s for the media thread; frames the media thread built get an RTP header
//! (our SSRC, sequence and timestamp) and go to the address the SDP gave, or, when the far end
//! sends from elsewhere (NAT), to where its packets come from (symmetric RTP).
//!
//! DTMF (the trunk's `dtmf` option, [`crate::sipnet_dtmf`]): packets of the negotiated
//! telephone-event type and INFO digits become `MediaCmd::DtmfPlay`s, digits the media thread found
//! in band (`MediaEvent::Dtmf`) go out as RFC 4733 events in the leg's RTP stream or as INFO; the
//! daemon takes the media commands with [`SipNet::take_media_cmds`].
//!
//! RTCP ([`crate::sipnet_rtcp`]): each leg's second socket, on the odd port after its RTP port,
//! under token `RTP_TOKENS + 2 x id + 1` (RTP is `+ 2 x id`); every received RTP packet's header
//! feeds the leg's `RtpSession` statistics, and every packet sent is noted in it. The sockets
//! themselves, reading and sending, are in [`rtp`].

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use log::{info, warn};
use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};
use provisioning::Config;

use crate::media::MediaCmd;
use crate::media_codec::{LegCodec, PayloadCodec};
use crate::media_dtmf::DtmfEdge;
use crate::rtp::packet::RtpRepr;
use crate::sip::offer_answer::{self, Codec, CodecPrefs, LocalMedia, Negotiated};
use crate::sip::sdp::{Direction, SessionDescription};
use crate::sip::transaction::Transport;
use crate::sip::ua::{EndpointConfig, Handle, RegState, SipEndpoint, SipEvent, TrunkConfig};
use crate::sipnet_fax::{FaxNet, Outcome};
use crate::sipnet_rtcp::{RtcpCounters, SipLegMedia};
use crate::sipnet_tcp::{Input, TcpLimits, TcpSide};
use crate::switch::{LegEvent, LegRef, Source};

mod rtp;
use rtp::RtpSock;

/// RTP sockets' tokens are `RTP_TOKENS + 2 x leg id`, their RTCP sockets' the next one.
pub const RTP_TOKENS: usize = 1 << 20;

/// The largest datagram we read: SIP over UDP stays well below a jumbo frame.
const MAX_DATAGRAM: usize = 65_535;
/// Not Acceptable Here (RFC 3261): no codec in common.
const NOT_ACCEPTABLE_HERE: u16 = 488;

/// One SIP leg's media negotiation.
#[derive(Debug, Clone)]
struct Leg {
    /// The leg's RTP id (token and media-thread key).
    rtp: u32,
    trunk: usize,
    /// The far end's offer (incoming calls), answered when the call is answered.
    offer: Option<SessionDescription>,
    /// Our offer (outgoing calls), to read the answer against.
    our_offer: Option<SessionDescription>,
    /// Our RTP port in the SDP.
    port: u16,
    negotiated: Option<Negotiated>,
}

/// The status of a trunk, for the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TrunkSnap {
    pub name: String,
    pub peer: String,
    /// `off`, `unregistered`, `registering`, `registered (N s)` or `failed (STATUS)`.
    pub registration: String,
    /// OPTIONS keepalive: `up`, `down` or `unknown` (off or not yet answered).
    pub reachable: &'static str,
}

/// The SIP side of the event loop.
pub struct SipNet {
    endpoint: SipEndpoint,
    sock: UdpSocket,
    /// SIP over TCP, when `[sip] listen` asks for it.
    tcp: Option<TcpSide>,
    local: SocketAddr,
    trunk_names: Vec<String>,
    /// Per trunk: `ringback = "local"` (see `switch`).
    local_ringback: Vec<bool>,
    prefs: Vec<CodecPrefs>,
    legs: HashMap<Handle, Leg>,
    /// The SIP leg of each RTP id: every RTP packet in or out looks its leg up here.
    by_rtp: HashMap<u32, Handle>,
    rtp: HashMap<u32, RtpSock>,
    /// One datagram read, and one RTP packet built: reused, not allocated per event or packet.
    rx_buf: Box<[u8]>,
    tx_buf: Vec<u8>,
    next_rtp: u32,
    registry: Registry,
    /// RTP legs whose SIP leg ended while attached: the daemon detaches them in the media thread.
    detach: Vec<u32>,
    /// Each trunk's `dtmf` option, and DTMF commands for the media thread.
    dtmf_modes: Vec<provisioning::Dtmf>,
    media_cmds: Vec<MediaCmd>,
    rtcp_counters: RtcpCounters,
    /// `[sip] rtp_ports`: the next even port handed out, and the range.
    next_port: u16,
    ports: (u16, u16),
    session: u64,
    /// Each leg's fax switch (re-INVITE to PCMA) and the `o=` of our SDP on it.
    fax: FaxNet,
    /// `transcoding = "hardware"`: G.729 legs go to the TC400B, in this line law (the first span's).
    tc400b: Option<media_dsp::g711::Law>,
}

/// Binds the UDP socket at `udp` and, when `tcp` is given, the TCP listener. TCP at the UDP
/// address takes the port UDP got (port 0 asks for any: a few tries find one free for both);
/// TCP refused by the system leaves SIP on UDP alone, with an error in the log.
fn bind_udp_and_tcp(
    udp: SocketAddr,
    tcp: Option<SocketAddr>,
    registry: &Registry,
) -> std::io::Result<(UdpSocket, Option<TcpSide>)> {
    let tries = if udp.port() == 0 && tcp == Some(udp) { 8 } else { 1 };
    for attempt in 1..=tries {
        let sock = UdpSocket::bind(udp)?;
        let Some(tcp) = tcp else { return Ok((sock, None)) };
        let at = if tcp == udp { sock.local_addr()? } else { tcp };
        match TcpSide::bind(at, registry, TcpLimits::default()) {
            Ok(t) => return Ok((sock, Some(t))),
            Err(e) if e.kind() == ErrorKind::AddrInUse && attempt < tries => {}
            Err(e) => {
                log::error!("SIP over TCP disabled: tcp:{at}: {e}; SIP runs on UDP only");
                return Ok((sock, None));
            }
        }
    }
    Err(std::io::Error::from(ErrorKind::AddrInUse))
}

fn codec(c: provisioning::Codec) -> Option<Codec> {
    Some(match c {
        provisioning::Codec::Pcma => Codec::Pcma,
        provisioning::Codec::Pcmu => Codec::Pcmu,
        provisioning::Codec::G722 => Codec::G722,
        provisioning::Codec::G729 => Codec::G729,
        // telephone-event is the `telephone_event` flag.
        provisioning::Codec::TelephoneEvent => return None,
    })
}

/// The media thread's codec for a negotiated one.
pub fn payload_codec(c: Codec) -> PayloadCodec {
    match c {
        Codec::Pcma => PayloadCodec::Pcma,
        Codec::Pcmu => PayloadCodec::Pcmu,
        Codec::G722 => PayloadCodec::G722,
        Codec::G729 => PayloadCodec::G729,
    }
}

/// Where a trunk's requests go: its `host` as an address, or a name resolved through the system
/// resolver (A/AAAA records via getaddrinfo, /etc/hosts included), once, when the SIP side
/// starts. An IPv4 answer is preferred, as the SIP socket is bound to an IPv4 address.
fn resolve(name: &str, host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("trunk {name}: host {host} does not resolve: {e}"))?
        .collect();
    let addr = addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied();
    let addr = addr.ok_or_else(|| format!("trunk {name}: host {host} has no address"))?;
    info!("trunk {name}: {host} is {}", addr.ip());
    Ok(addr)
}

/// The endpoint's view of a `[[sip.trunk]]`.
fn trunk_config(t: &provisioning::Trunk) -> Result<TrunkConfig, String> {
    let addr = resolve(&t.name, &t.host, t.port)?;
    let mut c = TrunkConfig { name: t.name.clone(), addr, ..TrunkConfig::default() };
    c.transport = match t.transport {
        provisioning::Transport::Udp => Transport::Udp,
        provisioning::Transport::Tcp => Transport::Tcp,
    };
    if let Some(r) = &t.register {
        c.register = true;
        c.username = r.user.clone();
        c.password = r.password.clone();
        if !r.domain.is_empty() {
            c.domain = r.domain.clone();
        }
        c.register_expires = r.expires;
    }
    if let Some(a) = &t.auth {
        c.inbound_realm = a.realm.clone();
        c.inbound_credentials = vec![(a.user.clone(), a.password.clone())];
    }
    // A trunk named by its host name is addressed by that name in URIs (RFC 3261 §19.1.1).
    if c.domain.is_empty() && t.host.parse::<IpAddr>().is_err() {
        c.domain = if t.port == 5060 { t.host.clone() } else { format!("{}:{}", t.host, t.port) };
    }
    // The peer itself is always trusted (the endpoint checks `addr`); `trust` adds hosts and networks.
    c.trusted_sources.clone_from(&t.trust);
    c.keepalive_interval = Duration::from_secs(u64::from(t.keepalive_secs));
    Ok(c)
}

impl SipNet {
    /// The SIP side of `cfg`, listening on its first UDP `[sip] listen` address; `None` without one,
    /// or when another program holds that address (logged as an error).
    pub fn new(
        cfg: &Config,
        registry: &Registry,
        token: Token,
        now: Instant,
        seed: u64,
    ) -> Result<Option<SipNet>, String> {
        let Some(listen) = cfg.sip.listen.iter().find(|l| l.transport == provisioning::Transport::Udp) else {
            return Ok(None);
        };
        let tcp_addr = cfg.sip.listen.iter().find(|l| l.transport == provisioning::Transport::Tcp).map(|l| l.addr);
        let bound = match bind_udp_and_tcp(listen.addr, tcp_addr, registry) {
            Ok(s) => s,
            // Another SIP stack on the machine (an Asterisk on 5060...) must not keep the TDM side
            // from running: the daemon goes on without SIP and says why, loudly.
            Err(e) if e.kind() == ErrorKind::AddrInUse => {
                log::error!(
                    "SIP disabled: udp:{} is taken by another program ({e}); calls to trunks fall over",
                    listen.addr
                );
                return Ok(None);
            }
            Err(e) => return Err(format!("SIP: bind {}: {e}", listen.addr)),
        };
        let (mut sock, tcp) = bound;
        let local = sock.local_addr().map_err(|e| format!("SIP: {e}"))?;
        registry.register(&mut sock, token, Interest::READABLE).map_err(|e| format!("SIP: register: {e}"))?;
        let trunks = cfg.sip.trunks.iter().map(trunk_config).collect::<Result<Vec<_>, _>>()?;
        let prefs = cfg
            .sip
            .trunks
            .iter()
            .map(|t| {
                let mut codecs: Vec<Codec> = t.codecs.iter().filter_map(|&c| codec(c)).collect();
                if codecs.is_empty() {
                    codecs = vec![Codec::Pcma, Codec::Pcmu];
                }
                CodecPrefs {
                    codecs,
                    // telephone-event is offered and accepted only where digits go as events.
                    telephone_event: t.codecs.contains(&provisioning::Codec::TelephoneEvent)
                        && t.dtmf == provisioning::Dtmf::Rfc4733,
                    telephone_event_pt: 101,
                    ptime: u32::from(t.ptime),
                }
            })
            .collect();
        let ecfg = EndpointConfig {
            local_addr: local,
            user_agent: cfg.sip.user_agent.clone(),
            seed,
            trunks,
            ..EndpointConfig::default()
        };
        match &tcp {
            Some(t) => info!("SIP on udp:{local} and tcp:{}, {} trunk(s)", t.local_addr(), cfg.sip.trunks.len()),
            None => info!("SIP on udp:{local}, {} trunk(s)", cfg.sip.trunks.len()),
        }
        let (lo, hi) = cfg.sip.rtp_ports;
        Ok(Some(SipNet {
            endpoint: SipEndpoint::new(now, ecfg),
            sock,
            tcp,
            local,
            trunk_names: cfg.sip.trunks.iter().map(|t| t.name.clone()).collect(),
            local_ringback: cfg.sip.trunks.iter().map(|t| t.ringback == provisioning::Ringback::Local).collect(),
            prefs,
            legs: HashMap::new(),
            by_rtp: HashMap::new(),
            rtp: HashMap::new(),
            rx_buf: vec![0u8; MAX_DATAGRAM].into_boxed_slice(),
            tx_buf: Vec::with_capacity(1500),
            next_rtp: 1,
            registry: registry.try_clone().map_err(|e| format!("SIP: registry: {e}"))?,
            detach: Vec::new(),
            dtmf_modes: cfg.sip.trunks.iter().map(|t| t.dtmf).collect(),
            media_cmds: Vec::new(),
            rtcp_counters: RtcpCounters::default(),
            next_port: lo + lo % 2,
            ports: (lo, hi),
            session: seed % 1_000_000,
            fax: FaxNet::new(seed),
            tc400b: (cfg.board.transcoding == provisioning::Transcoding::Hardware).then(|| {
                match cfg.board.spans.first().map_or(hal::Law::Alaw, |s| s.hal.law) {
                    hal::Law::Alaw => media_dsp::g711::Law::Alaw,
                    hal::Law::Mulaw => media_dsp::g711::Law::Mulaw,
                }
            }),
        }))
    }

    /// The address peers reach us on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether leg `h`'s codec and ptime are settled, so its media can be joined: an incoming leg's
    /// are what our answer says (negotiated here if not yet; false when nothing in the offer
    /// fits), an outgoing leg's come with the far end's answer (a 180 without SDP has none).
    pub fn media_known(&mut self, h: Handle) -> bool {
        let Some(leg) = self.legs.get(&h) else { return false };
        if leg.negotiated.is_none() && leg.offer.is_some() {
            return self.answer_sdp(h).is_some();
        }
        leg.negotiated.is_some()
    }

    /// Reads every waiting datagram into the endpoint, then sends what it answered.
    pub fn on_readable(&mut self, now: Instant) {
        loop {
            match self.sock.recv_from(&mut self.rx_buf) {
                Ok((n, src)) => self.endpoint.handle_input(now, Transport::Udp, src, &self.rx_buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    warn!("SIP: receive: {e}");
                    break;
                }
            }
        }
        self.flush();
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let tcp = self.tcp.as_ref().and_then(TcpSide::poll_timeout);
        let rtcp = self.rtp.values().filter_map(|r| r.rtcp.session.poll_timeout()).min();
        [self.endpoint.poll_timeout(), tcp, rtcp, self.fax.poll_timeout()].into_iter().flatten().min()
    }

    pub fn on_timeout(&mut self, now: Instant) {
        if self.endpoint.poll_timeout().is_some_and(|t| t <= now) {
            self.endpoint.handle_timeout(now);
        }
        if let Some(tcp) = self.tcp.as_mut().filter(|t| t.poll_timeout().is_some_and(|t| t <= now)) {
            let mut inputs = Vec::new();
            tcp.on_timeout(now, &mut inputs);
            self.take_tcp_inputs(now, inputs);
        }
        self.send_fax_reinvites(now);
        self.flush();
        self.rtcp_timeouts(now);
    }

    /// Sends the RTCP reports that are due, to where each leg's RTP goes now.
    fn rtcp_timeouts(&mut self, now: Instant) {
        for (id, r) in &mut self.rtp {
            if r.rtcp.session.poll_timeout().is_some_and(|t| t <= now) {
                let sdp = self.by_rtp.get(id).and_then(|h| self.legs.get(h)?.negotiated.as_ref()?.remote);
                r.rtcp.on_timeout(now, r.learned.or(sdp), &mut self.rtcp_counters);
            }
        }
    }

    /// The RTCP counters of all legs; `rtp_lost` adds the live legs' losses to the ended ones'.
    pub fn rtcp_counters(&self) -> RtcpCounters {
        let mut c = self.rtcp_counters;
        for r in self.rtp.values() {
            let lost = r.rtcp.session.source().map_or(0, |s| s.cumulative_lost());
            c.rtp_lost += u64::try_from(lost).unwrap_or(0);
        }
        c
    }

    /// SIP leg `h`'s media figures, for the status page.
    pub fn leg_media(&self, h: Handle) -> Option<SipLegMedia> {
        let leg = self.legs.get(&h)?;
        let r = self.rtp.get(&leg.rtp)?;
        let n = leg.negotiated.as_ref();
        let codec = r.codec_label.or(n.map(|n| n.codec.encoding())).unwrap_or("-");
        let mut m = r.rtcp.media(codec, n.map_or(0, |n| n.ptime), r.learned.or(n.and_then(|n| n.remote)));
        m.fax = self.fax.snap(h);
        Some(m)
    }

    /// A readiness event on one of the TCP tokens ([`TcpSide::owns`]).
    pub fn on_tcp_event(&mut self, now: Instant, token: Token, readable: bool, writable: bool) {
        let Some(tcp) = self.tcp.as_mut() else { return };
        let mut inputs = Vec::new();
        tcp.on_event(now, token, readable, writable, &mut inputs);
        self.take_tcp_inputs(now, inputs);
        self.flush();
    }

    fn take_tcp_inputs(&mut self, now: Instant, inputs: Vec<Input>) {
        for input in inputs {
            match input {
                Input::Message(src, bytes) => self.endpoint.handle_input(now, Transport::Tcp, src, &bytes),
                Input::Unframed(src, head) => self.endpoint.reject_unframed(Transport::Tcp, src, &head),
            }
        }
    }

    /// Sends everything the endpoint queued.
    pub fn flush(&mut self) {
        while let Some(t) = self.endpoint.poll_transmit() {
            if t.transport == Transport::Tcp {
                match self.tcp.as_mut() {
                    // The connection's idle clock is the loop's; sending reads no other state.
                    Some(tcp) => {
                        tcp.send(Instant::now(), t.dst, &t.bytes);
                    }
                    None => warn!("SIP: no TCP listen address, so no TCP to {}; message dropped", t.dst),
                }
                continue;
            }
            if let Err(e) = self.sock.send_to(&t.bytes, t.dst) {
                warn!("SIP: send to {}: {e}", t.dst);
            }
        }
        if let Some(tcp) = &mut self.tcp {
            tcp.reap();
            let failed = tcp.take_failed();
            if !failed.is_empty() {
                let now = Instant::now();
                for dst in failed {
                    self.endpoint.handle_transport_error(now, Transport::Tcp, dst);
                }
                // What the failures ended (a BYE, a new REGISTER) goes out too; a failure on that
                // ends only transactions, so this settles.
                self.flush();
            }
        }
    }

    /// The TCP side's address and counters, when SIP runs over TCP too.
    pub fn tcp_status(&self) -> Option<(SocketAddr, usize, crate::sipnet_tcp::TcpCounters)> {
        self.tcp.as_ref().map(|t| (t.local_addr(), t.connections(), t.counters()))
    }

    fn trunk_index(&self, name: &str) -> Option<usize> {
        self.trunk_names.iter().position(|n| n == name)
    }

    /// Legs to detach in the media thread.
    pub fn take_detached(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.detach)
    }

    /// The media thread's codec and ptime for leg `h`: the negotiated ones, or the trunk's first
    /// codec before an answer came.
    fn media_codec_of(&self, h: Handle) -> Option<(PayloadCodec, u16)> {
        let leg = self.legs.get(&h)?;
        let codec = leg.negotiated.as_ref().map_or_else(|| self.prefs[leg.trunk].codecs[0], |n| n.codec);
        let ptime = leg.negotiated.as_ref().map_or(self.prefs[leg.trunk].ptime, |n| n.ptime);
        Some((payload_codec(codec), u16::try_from(ptime.clamp(10, 60)).unwrap_or(20)))
    }

    /// A fresh codec state for RTP leg `id`, negotiated `codec`: on the TC400B when the board
    /// says so and it has channels, else ours (built here, on the event loop: it may open the
    /// card). The status shows which one codes the leg.
    pub fn leg_codec(&mut self, id: u32, codec: PayloadCodec) -> LegCodec {
        let c = match self.tc400b {
            Some(law) => LegCodec::for_leg(codec, true, law),
            None => LegCodec::new(codec),
        };
        if let Some(r) = self.rtp.get_mut(&id) {
            r.codec_label = c.on_card().then(|| c.label());
        }
        c
    }

    /// What the media thread needs to join SIP leg `h`: its RTP id, the payload codec and the
    /// ptime (see [`SipNet::media_codec_of`]).
    pub fn attach(&mut self, h: Handle) -> Option<(u32, PayloadCodec, u16)> {
        let (codec, ptime) = self.media_codec_of(h)?;
        let id = self.legs.get(&h)?.rtp;
        let r = self.rtp.get_mut(&id)?;
        r.attached = true;
        r.media_codec = Some((codec, ptime));
        // The receiver starts with the attach (commands are applied in order).
        r.dtmf.detect = false;
        self.update_dtmf(h);
        Some((id, codec, ptime))
    }

    /// Tells the media thread leg `h`'s new codec or ptime when a negotiation changed them (a
    /// re-INVITE, ours or theirs): `MediaCmd::RtpCodec` with a fresh codec state, which replaces
    /// the old one from the next tick. Nothing while the leg is not attached (the attach takes
    /// the negotiated codec) or when nothing changed.
    fn sync_media_codec(&mut self, h: Handle) {
        let Some(want) = self.media_codec_of(h) else { return };
        let Some(id) = self.legs.get(&h).map(|l| l.rtp) else { return };
        let Some(r) = self.rtp.get_mut(&id).filter(|r| r.attached) else { return };
        if r.media_codec == Some(want) {
            return;
        }
        info!("SIP: {h:?}: media now {} {} ms", want.0.name(), want.1);
        r.media_codec = Some(want);
        let codec = Box::new(self.leg_codec(id, want.0));
        self.media_cmds.push(MediaCmd::RtpCodec { id, codec, frame_ms: want.1 });
    }

    /// Tells the media thread whether leg `h`'s digits are to be found in band and sent out of
    /// band, once that changes (the answer named telephone-event, a re-INVITE...).
    fn update_dtmf(&mut self, h: Handle) {
        let Some(leg) = self.legs.get(&h) else { return };
        let te = leg.negotiated.as_ref().and_then(|n| n.telephone_event);
        let Some(r) = self.rtp.get_mut(&leg.rtp) else { return };
        r.dtmf.te_pt = te;
        let on = r.attached && r.dtmf.wants_detect();
        if on != r.dtmf.detect {
            r.dtmf.detect = on;
            self.media_cmds.push(MediaCmd::DtmfDetect { id: r.id, on });
        }
    }

    /// DTMF commands for the media thread, in order; the daemon pushes them after the attaches
    /// the switch made in the same turn of the loop.
    pub fn take_media_cmds(&mut self) -> Vec<MediaCmd> {
        std::mem::take(&mut self.media_cmds)
    }

    /// A digit edge the media thread found on leg `id`'s TDM side.
    pub fn on_media_dtmf(&mut self, id: u32, digit: char, edge: DtmfEdge) {
        let now = Instant::now();
        let Some(r) = self.rtp.get_mut(&id) else { return };
        if let Some((digit, ms)) = r.dtmf.on_edge(now, r.ts, digit, edge) {
            let Some(&h) = self.by_rtp.get(&id) else { return };
            if !self.endpoint.send_info_dtmf(now, h, digit, ms) {
                warn!("SIP: {h:?}: INFO for DTMF {digit} not sent (dialog not confirmed)");
            }
            self.flush();
        }
        self.send_events(id);
    }

    /// Sends the telephone-event packets due on leg `id`, in its RTP stream.
    fn send_events(&mut self, id: u32) {
        let remote = self.leg_of_rtp(id).and_then(|l| l.negotiated.as_ref()?.remote);
        let Some(r) = self.rtp.get_mut(&id) else { return };
        let (Some(pt), Some(dst)) = (r.dtmf.te_pt, r.learned.or(remote)) else { return };
        let now = Instant::now();
        r.dtmf.on_timeout(now, id, &mut self.media_cmds);
        while let Some(e) = r.dtmf.poll_packet(now) {
            let payload = e.payload.to_bytes();
            let repr = RtpRepr {
                marker: e.marker,
                payload_type: pt,
                sequence: r.seq,
                timestamp: e.timestamp,
                ssrc: r.ssrc,
                csrcs: Vec::new(),
                extension: None,
                payload: &payload,
            };
            r.started = true;
            r.seq = r.seq.wrapping_add(1);
            r.rtcp.session.note_sent(now, repr.sequence, repr.timestamp, payload.len());
            let _ = r.sock.send_to(&repr.to_bytes(), dst);
        }
    }

    /// Whether leg `h`'s trunk plays our ringback in the RTP (`ringback = "local"`).
    pub fn local_ringback(&self, h: Handle) -> bool {
        self.legs.get(&h).is_some_and(|l| self.local_ringback.get(l.trunk).copied().unwrap_or(false))
    }

    /// Leg `h`'s RTP id (the media thread's name for it).
    pub fn rtp_id(&self, h: Handle) -> Option<u32> {
        self.legs.get(&h).map(|l| l.rtp)
    }

    /// Marks leg `id` detached (the switch split it).
    pub fn detached(&mut self, h: Handle) -> Option<u32> {
        let id = self.legs.get(&h)?.rtp;
        if let Some(r) = self.rtp.get_mut(&id) {
            r.attached = false;
            r.media_codec = None;
        }
        Some(id)
    }

    /// The media thread heard a fax tone on leg `id` and switched its media to fax mode: the SIP
    /// leg is re-INVITEd to PCMA only (`sipnet_fax`), once per call.
    pub fn on_media_fax(&mut self, now: Instant, id: u32, d: crate::media_fax::FaxDetection) {
        let Some(&h) = self.by_rtp.get(&id) else { return };
        let Some(leg) = self.legs.get(&h) else { return };
        let n = leg.negotiated.as_ref();
        let te = n.and_then(|n| n.telephone_event);
        let ptime = n.map_or(self.prefs[leg.trunk].ptime, |n| n.ptime);
        // We own the Call-ID of the calls we placed (RFC 3261 §14.1's longer glare wait).
        let owner = leg.our_offer.is_some();
        let tone = crate::sipnet_fax::tone_name(d.tone);
        if self.fax.detected(now, h, d, self.local.ip(), leg.port, te, ptime, owner) {
            info!("SIP: {h:?}: fax tone {tone} on the {:?} side: fax mode, re-INVITE to PCMA", d.side);
            self.send_fax_reinvites(now);
            self.flush();
        }
    }

    /// Sends the fax re-INVITEs that are due (a dialog still busy is tried again later).
    fn send_fax_reinvites(&mut self, now: Instant) {
        for (h, offer) in self.fax.due(now) {
            let taken = self.endpoint.reinvite(now, h, &offer);
            if self.fax.sent(now, h, taken) {
                warn!("SIP: {h:?}: fax re-INVITE given up: the dialog never took one; the call goes on");
            }
        }
    }

    /// The final answer to a re-INVITE of ours: a fax switch's PCMA answer becomes the leg's media.
    fn fax_reinvite_done(&mut self, h: Handle, status: u16, sdp: Option<&SessionDescription>) {
        match self.fax.on_final(Instant::now(), h, status, sdp) {
            Outcome::Nothing => {}
            Outcome::Accepted(n) => {
                info!("SIP: {h:?}: fax re-INVITE accepted: {} to {:?}", n.codec.encoding(), n.remote);
                if let (Some(leg), Some(answer)) = (self.legs.get_mut(&h), sdp) {
                    if let Some(r) = self.rtp.get_mut(&leg.rtp) {
                        r.rtcp.sdp_rtcp = crate::sipnet_rtcp::sdp_rtcp(answer, n.remote);
                    }
                    leg.negotiated = Some(n);
                }
                self.update_dtmf(h);
                self.sync_media_codec(h);
            }
            // Logged once: a leg's fax switch ends once.
            Outcome::Failed(status) => {
                warn!("SIP: {h:?}: fax re-INVITE refused ({status}); the call goes on with its media as it was");
            }
        }
    }

    /// The fax switches' counters, for the status.
    pub fn fax_counters(&self) -> crate::sipnet_fax::FaxCounters {
        self.fax.counters
    }

    fn local_media(&mut self, port: u16) -> LocalMedia {
        self.session += 1;
        let addr: IpAddr = self.local.ip();
        LocalMedia { addr, port, session_id: self.session, session_version: 1, direction: Direction::SendRecv }
    }

    /// Our media for another SDP on leg `h`: the session of the last SDP we sent on it (RFC 3264
    /// §8: the `o=` line stays, only its version moves), with the version one up when `modified`
    /// (an answer to a re-INVITE), the same when the SDP is sent again (the 200 after a 183
    /// carries the 183's answer). A leg that has sent none starts a session.
    fn session_media(&mut self, h: Handle, port: u16, modified: bool) -> LocalMedia {
        match self.fax.origin(h) {
            Some((session_id, version)) => LocalMedia {
                addr: self.local.ip(),
                port,
                session_id,
                session_version: if modified { version + 1 } else { version },
                direction: Direction::SendRecv,
            },
            None => self.local_media(port),
        }
    }

    /// The next event for the switch; trunk and registration changes are logged and kept.
    pub fn poll_leg_event(&mut self) -> Option<(LegRef, LegEvent)> {
        while let Some(ev) = self.endpoint.poll_event() {
            match ev {
                SipEvent::IncomingCall { handle, trunk, request_user, from_user, offer, to_user, .. } => {
                    let Some((rtp, port)) = self.open_rtp(trunk) else {
                        // 503: no media port for the call; the caller may try elsewhere.
                        self.endpoint.reject(Instant::now(), handle, 503, Some(34));
                        self.flush();
                        continue;
                    };
                    self.legs.insert(handle, Leg { rtp, trunk, offer, our_offer: None, port, negotiated: None });
                    self.by_rtp.insert(rtp, handle);
                    let called = request_user.or(to_user).unwrap_or_default();
                    let from = Source::Trunk(self.trunk_names.get(trunk).cloned().unwrap_or_default());
                    let ev = LegEvent::Offer { from, called, calling: from_user.unwrap_or_default(), complete: true };
                    return Some((LegRef::Sip(handle), ev));
                }
                SipEvent::Progress { handle, code, sdp } => {
                    self.read_answer(handle, sdp.as_ref());
                    let ev = if code == 180 {
                        // Whether the 180 brought media (SDP) says if the far side plays tones.
                        LegEvent::Alerting { inband: true }
                    } else if code == 183 {
                        LegEvent::Progress
                    } else {
                        LegEvent::Proceeding
                    };
                    return Some((LegRef::Sip(handle), ev));
                }
                SipEvent::Answered { handle, sdp } => {
                    self.read_answer(handle, sdp.as_ref());
                    return Some((LegRef::Sip(handle), LegEvent::Connected));
                }
                SipEvent::Ended { handle, status, cause, .. } => {
                    self.fax.forget(handle);
                    if let Some(leg) = self.legs.remove(&handle) {
                        self.by_rtp.remove(&leg.rtp);
                        self.close_rtp(leg.rtp, leg.negotiated.and_then(|n| n.remote));
                    }
                    // RFC 3398 maps 503 to cause 41, yet a trunk's 503 means "try elsewhere".
                    let fall_over = status.is_some_and(crate::routing::is_fall_over_status)
                        || crate::routing::is_fall_over_cause(cause);
                    return Some((LegRef::Sip(handle), LegEvent::Released { cause: Some(cause), fall_over }));
                }
                SipEvent::OfferChanged { handle, offer } => {
                    // A re-INVITE (hold, a new address): answer with the same media.
                    let Some(leg) = self.legs.get(&handle).cloned() else { continue };
                    let local = self.session_media(handle, leg.port, true);
                    let answer =
                        offer.as_ref().and_then(|o| offer_answer::answer(o, &self.prefs[leg.trunk], &local).ok());
                    match answer {
                        Some((sdp, n)) => {
                            if let (Some(o), Some(r)) = (offer.as_ref(), self.rtp.get_mut(&leg.rtp)) {
                                r.rtcp.sdp_rtcp = crate::sipnet_rtcp::sdp_rtcp(o, n.remote);
                            }
                            self.legs.entry(handle).and_modify(|l| l.negotiated = Some(n));
                            self.update_dtmf(handle);
                            self.sync_media_codec(handle);
                            self.fax.note_origin(handle, &sdp);
                            self.endpoint.answer(Instant::now(), handle, Some(&sdp));
                        }
                        None => {
                            self.endpoint.reject(Instant::now(), handle, NOT_ACCEPTABLE_HERE, None);
                        }
                    }
                    self.flush();
                }
                SipEvent::Dtmf { handle, digit, duration_ms } => {
                    // An INFO digit: played in band with its duration (at least 40 ms).
                    if let Some(id) = self.legs.get(&handle).map(|l| l.rtp) {
                        self.media_cmds.push(MediaCmd::DtmfPlay { id, digit, end: None });
                        let end = Some(duration_ms.saturating_mul(8));
                        self.media_cmds.push(MediaCmd::DtmfPlay { id, digit, end });
                    }
                }
                SipEvent::ReinviteDone { handle, status, sdp } => self.fax_reinvite_done(handle, status, sdp.as_ref()),
                SipEvent::TrunkState { trunk, up } => {
                    info!("SIP trunk {}: {}", self.name(trunk), if up { "up" } else { "down" });
                }
                SipEvent::Registration { trunk, state } => {
                    info!("SIP trunk {}: registration {state:?}", self.name(trunk));
                }
            }
        }
        None
    }

    fn name(&self, trunk: usize) -> &str {
        self.trunk_names.get(trunk).map_or("?", String::as_str)
    }

    fn read_answer(&mut self, handle: Handle, sdp: Option<&SessionDescription>) {
        let Some(leg) = self.legs.get_mut(&handle) else { return };
        let (Some(ours), Some(theirs)) = (&leg.our_offer, sdp) else { return };
        match offer_answer::read_answer(ours, theirs, &self.prefs[leg.trunk]) {
            Ok(n) => {
                if let Some(r) = self.rtp.get_mut(&leg.rtp) {
                    r.rtcp.sdp_rtcp = crate::sipnet_rtcp::sdp_rtcp(theirs, n.remote);
                }
                leg.negotiated = Some(n);
            }
            Err(e) => warn!("SIP: {handle:?}: answer not usable: {e}"),
        }
        self.update_dtmf(handle);
        self.sync_media_codec(handle);
    }

    /// Places a call on trunk `trunk` with our offer; the leg, or a Q.850 cause.
    pub fn invite(&mut self, now: Instant, trunk: &str, called: &str, calling: &str) -> Result<LegRef, u8> {
        // 3: no route to destination (the trunk is not configured).
        let t = self.trunk_index(trunk).ok_or(3u8)?;
        // 34: no circuit (no media port); another route may have room.
        let (rtp, port) = self.open_rtp(t).ok_or(34u8)?;
        let local = self.local_media(port);
        let offer = offer_answer::build_offer(&self.prefs[t], &local);
        // 41: temporary failure (the endpoint refused to build the request).
        let Some(h) = self.endpoint.invite(now, t, calling, called, Some(&offer)) else {
            self.close_rtp(rtp, None);
            return Err(41);
        };
        self.fax.note_origin(h, &offer);
        self.legs.insert(h, Leg { rtp, trunk: t, offer: None, our_offer: Some(offer), port, negotiated: None });
        self.by_rtp.insert(rtp, h);
        self.flush();
        Ok(LegRef::Sip(h))
    }

    /// 180 Ringing (or 183 with SDP for `early_media`).
    pub fn progress(&mut self, now: Instant, h: Handle, early_media: bool) {
        if early_media {
            let sdp = self.answer_sdp(h);
            if let Some(sdp) = sdp {
                self.endpoint.progress(now, h, 183, Some(&sdp));
            }
        } else {
            self.endpoint.progress(now, h, 180, None);
        }
        self.flush();
    }

    /// Our answer to the leg's offer (built once and kept), or `None` with no codec in common.
    fn answer_sdp(&mut self, h: Handle) -> Option<SessionDescription> {
        let leg = self.legs.get(&h)?.clone();
        let offer = leg.offer.as_ref()?;
        let local = self.session_media(h, leg.port, false);
        match offer_answer::answer(offer, &self.prefs[leg.trunk], &local) {
            Ok((sdp, n)) => {
                if let Some(r) = self.rtp.get_mut(&leg.rtp) {
                    r.rtcp.sdp_rtcp = crate::sipnet_rtcp::sdp_rtcp(offer, n.remote);
                }
                if let Some(l) = self.legs.get_mut(&h) {
                    l.negotiated = Some(n);
                }
                self.update_dtmf(h);
                self.fax.note_origin(h, &sdp);
                Some(sdp)
            }
            Err(e) => {
                warn!("SIP: {h:?}: offer not acceptable: {e}");
                None
            }
        }
    }

    /// 200 OK with our answer; 488 when nothing in the offer is acceptable.
    pub fn answer(&mut self, now: Instant, h: Handle) {
        let has_offer = self.legs.get(&h).is_some_and(|l| l.offer.is_some());
        match (has_offer, self.answer_sdp(h)) {
            (true, None) => {
                self.endpoint.reject(now, h, NOT_ACCEPTABLE_HERE, Some(65));
            }
            (_, sdp) => {
                self.endpoint.answer(now, h, sdp.as_ref());
            }
        }
        self.flush();
    }

    /// Ends the leg: CANCEL or an error response before answer, BYE after.
    pub fn hangup(&mut self, now: Instant, h: Handle, cause: u8, answered_by_us: bool) {
        let status = crate::sip::q850::status_for_cause(cause).unwrap_or(480);
        if answered_by_us || !self.endpoint.reject(now, h, status, Some(cause)) {
            self.endpoint.hangup(now, h, Some(cause));
        }
        self.flush();
    }

    /// The trunks' state for the snapshot.
    pub fn trunks(&self) -> Vec<TrunkSnap> {
        self.endpoint
            .config()
            .trunks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (reg, reachable) = self.endpoint.trunk_status(i).unwrap_or((RegState::Unregistered, None));
                TrunkSnap {
                    name: t.name.clone(),
                    peer: t.addr.to_string(),
                    registration: match (t.register, reg) {
                        (false, _) => "off".into(),
                        (true, RegState::Unregistered) => "unregistered".into(),
                        (true, RegState::Registering) => "registering".into(),
                        (true, RegState::Registered { expires }) => format!("registered ({expires} s)"),
                        (true, RegState::Failed { status: Some(s) }) => format!("failed ({s})"),
                        (true, RegState::Failed { status: None }) => "failed (no answer)".into(),
                    },
                    reachable: match reachable {
                        Some(true) => "up",
                        Some(false) => "down",
                        None => "unknown",
                    },
                }
            })
            .collect()
    }

    pub fn counters(&self) -> crate::sip::ua::Counters {
        self.endpoint.counters()
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;

    /// Trunk hosts may be names: /etc/hosts (through getaddrinfo) answers for localhost without
    /// any network; an address needs no lookup; a name nobody knows is a clear error.
    #[test]
    fn trunk_hosts_resolve_by_name_or_address() {
        assert_eq!(resolve("pbx", "localhost", 5070).unwrap(), "127.0.0.1:5070".parse().unwrap());
        assert_eq!(resolve("pbx", "192.0.2.7", 5060).unwrap(), "192.0.2.7:5060".parse().unwrap());
        let e = resolve("pbx", "no-such-host.invalid", 5060).unwrap_err();
        assert!(e.starts_with("trunk pbx: host no-such-host.invalid does not resolve"), "{e}");
    }
}
