//! One RTP stream's sans-IO state (RFC 3550): our SSRC, sequence numbers and timestamps, the
//! reception statistics of Appendix A (extended highest sequence number, cumulative and fractional
//! loss, interarrival jitter), symmetric RTP (RFC 4961: the remote address is learned from the first
//! valid packet), RTCP SR/RR with SDES CNAME at the randomised RFC 3550 §6.3 interval, and the round
//! trip time from received report blocks (LSR/DLSR).
//!
//! Input: `handle_rtp(now, from, bytes)`, `handle_rtcp(now, from, bytes)`, `send_audio` /
//! `send_event`, `handle_timeout(now)`, `close(now)`; output is drained with `poll_transmit`,
//! `poll_event` and `poll_timeout`. Randomness (initial SSRC, sequence number, timestamp, and the
//! RTCP interval's jitter) comes from the seed passed in; the wall clock the SR needs comes from
//! `Config::ntp_at_start`, the NTP time of the `start` instant. Nothing here reads a clock.
//!
//! Source validation (RFC 3550 Appendix A.1):
//!
//! | State     | Event                               | Action                             | Next      |
//! |-----------|-------------------------------------|------------------------------------|-----------|
//! | Probation | packet in sequence, probation left  | count down, drop the packet        | Probation |
//! | Probation | packet in sequence, probation done  | init stats, accept (latch address) | Valid     |
//! | Probation | packet out of sequence              | restart probation, drop            | Probation |
//! | Valid     | delta < MAX_DROPOUT                 | accept (wrap counts a cycle)       | Valid     |
//! | Valid     | delta within MAX_MISORDER behind    | accept (duplicate or reordered)    | Valid     |
//! | Valid     | large jump, not after the last bad  | remember as bad, drop              | Valid     |
//! | Valid     | large jump following the last bad   | restart: init stats, accept        | Valid     |
//! | any       | a new SSRC                          | event, new source on probation     | Probation |

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::event::EventPacket;
use super::packet::{self, RtpRepr};
use super::rtcp::{self, ReportBlock, RtcpPacket, SdesChunk, SenderInfo};

pub const MAX_DROPOUT: u32 = 3000;
pub const MAX_MISORDER: u32 = 100;
pub const MIN_SEQUENTIAL: u32 = 2;
const RTP_SEQ_MOD: u32 = 1 << 16;
/// RFC 3550 §6.2: the minimum RTCP interval.
pub const RTCP_MIN_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 3550 §6.3.1: the randomised interval is divided by e - 3/2 to compensate the timer
/// reconsideration's bias.
const COMPENSATION: f64 = 1.218_281_828_459_045;

/// What the stream is configured with (from SDP and the trunk's settings).
#[derive(Debug, Clone)]
pub struct Config {
    pub payload_type: u8,
    /// RTP clock rate: 8000 for every codec we carry.
    pub clock_rate: u32,
    /// Learn the remote address from the first valid packet, and accept packets only from it.
    pub symmetric: bool,
    /// Where to send RTP, from the SDP (None until known or learned).
    pub remote: Option<SocketAddr>,
    /// Where to send RTCP: `a=rtcp` from the SDP, or the RTP port plus one when None.
    pub remote_rtcp: Option<SocketAddr>,
    pub cname: String,
    /// NTP timestamp (RFC 3550 §4 format) of the `start` instant given to `new`.
    pub ntp_at_start: u64,
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub dst: SocketAddr,
    pub rtcp: bool,
    pub data: Vec<u8>,
}

/// Things the call logic and the status page want to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// Symmetric RTP learned (or moved to) this remote address.
    RemoteLatched(SocketAddr),
    /// A new sending source replaced the previous one.
    NewSource { ssrc: u32 },
    /// The remote said BYE.
    Bye { ssrc: u32 },
    /// A round trip time measured from a report block about us.
    Rtt(Duration),
}

/// Why a received RTP datagram was not passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    Malformed(packet::Error),
    /// Symmetric RTP: not from the latched address.
    WrongSource(SocketAddr),
    /// The source is not yet validated (RFC 3550 A.1 probation).
    Probation,
    /// A sequence jump held back until a second packet confirms it.
    BadSequence,
    /// Our own SSRC: a loop or a collision.
    OwnSsrc,
}

/// The reception statistics of one source (RFC 3550 Appendix A.1, A.3, A.8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    pub ssrc: u32,
    pub max_seq: u16,
    pub cycles: u32,
    pub base_seq: u32,
    pub bad_seq: u32,
    pub probation: u32,
    pub received: u32,
    pub expected_prior: u32,
    pub received_prior: u32,
    pub transit: u32,
    /// Interarrival jitter scaled by 16 (A.8); `jitter()` gives RTP timestamp units.
    pub jitter_q4: u32,
}

impl SourceStats {
    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// RFC 3550 A.1 `update_seq`: whether the packet is valid.
    fn update_seq(&mut self, seq: u16) -> Result<(), Dropped> {
        let udelta = u32::from(seq.wrapping_sub(self.max_seq));
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return Ok(());
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return Err(Dropped::Probation);
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += RTP_SEQ_MOD;
            }
            self.max_seq = seq;
        } else if udelta <= RTP_SEQ_MOD - MAX_MISORDER {
            if u32::from(seq) == self.bad_seq {
                // Two sequential packets after a jump: the other side restarted.
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                return Err(Dropped::BadSequence);
            }
        }
        self.received += 1;
        Ok(())
    }

    pub fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    pub fn expected(&self) -> u32 {
        self.extended_max().wrapping_sub(self.base_seq).wrapping_add(1)
    }

    /// Cumulative packets lost (A.3), clamped to the 24-bit field.
    pub fn cumulative_lost(&self) -> i32 {
        let lost = i64::from(self.expected()) - i64::from(self.received);
        i32::try_from(lost.clamp(-0x80_0000, 0x7f_ffff)).unwrap_or(0)
    }

    pub fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }

    /// The report block for this source, moving the "prior" counters on (A.3).
    fn report(&mut self, lsr: u32, dlsr: u32) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            u8::try_from((lost_interval << 8) / i64::from(expected_interval)).unwrap_or(255)
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost: fraction,
            cumulative_lost: self.cumulative_lost(),
            highest_seq: self.extended_max(),
            jitter: self.jitter(),
            lsr,
            dlsr,
        }
    }
}

/// SplitMix64: small, seedable, good enough for identifiers and timer jitter.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn next_u32(&mut self) -> u32 {
        u32::try_from(self.next_u64() >> 32).unwrap_or(0)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        // 53 random bits make an exact double in [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x
    }
}

/// One RTP stream, both directions.
#[derive(Debug)]
pub struct RtpSession {
    cfg: Config,
    start: Instant,
    rng: Rng,
    ssrc: u32,
    seq: u16,
    next_ts: u32,
    /// When and with which timestamp we last sent, for the SR's RTP timestamp.
    last_sent: Option<(Instant, u32)>,
    packets_sent: u32,
    octets_sent: u32,
    sent_since_report: bool,
    latched: bool,
    source: Option<SourceStats>,
    /// LSR of the remote's last SR and when it came.
    last_sr: Option<(u32, Instant)>,
    rtt: Option<Duration>,
    /// The far end's last report block about our stream: its view of our loss and jitter.
    remote_report: Option<ReportBlock>,
    next_rtcp: Instant,
    closed: bool,
    transmits: VecDeque<Transmit>,
    events: VecDeque<SessionEvent>,
    scratch: Vec<u8>,
}

impl RtpSession {
    /// A new stream at `start`; `seed` gives the random SSRC, first sequence number and timestamp
    /// (RFC 3550 §5.1 wants them random) and the RTCP timer's jitter.
    pub fn new(cfg: Config, start: Instant, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let ssrc = rng.next_u32();
        let seq = u16::try_from(rng.next_u32() >> 16).unwrap_or(0);
        let next_ts = rng.next_u32();
        let mut s = RtpSession {
            cfg,
            start,
            rng,
            ssrc,
            seq,
            next_ts,
            last_sent: None,
            packets_sent: 0,
            octets_sent: 0,
            sent_since_report: false,
            latched: false,
            source: None,
            last_sr: None,
            rtt: None,
            remote_report: None,
            next_rtcp: start,
            closed: false,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            scratch: Vec::new(),
        };
        // RFC 3550 §6.2: the first report may come after half the minimum interval.
        s.next_rtcp = start + s.rtcp_interval(RTCP_MIN_INTERVAL / 2);
        s
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }
    /// The sequence number the next packet will carry.
    pub fn next_sequence(&self) -> u16 {
        self.seq
    }
    /// The RTP timestamp the next audio frame will carry.
    pub fn next_timestamp(&self) -> u32 {
        self.next_ts
    }
    pub fn remote(&self) -> Option<SocketAddr> {
        self.cfg.remote
    }
    pub fn source(&self) -> Option<&SourceStats> {
        self.source.as_ref()
    }
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }
    pub fn packets_sent(&self) -> u32 {
        self.packets_sent
    }
    /// The far end's last report block about our stream (RFC 3550 §6.4.1).
    pub fn remote_report(&self) -> Option<&ReportBlock> {
        self.remote_report.as_ref()
    }

    /// Where RTP and RTCP go, once the SDP (or the first packet, symmetric RTP) tells; `rtcp`
    /// `None` means the RTP port + 1 (RFC 3550 §11).
    pub fn set_remote(&mut self, rtp: Option<SocketAddr>, rtcp: Option<SocketAddr>) {
        self.cfg.remote = rtp;
        self.cfg.remote_rtcp = rtcp;
    }

    /// Counts a packet the caller built and sent itself with our SSRC (the daemon's send path
    /// writes into a reused buffer): the sender report's figures then include it.
    pub fn note_sent(&mut self, now: Instant, sequence: u16, timestamp: u32, payload_len: usize) {
        self.seq = sequence.wrapping_add(1);
        self.packets_sent = self.packets_sent.wrapping_add(1);
        self.octets_sent = self.octets_sent.wrapping_add(u32::try_from(payload_len).unwrap_or(u32::MAX));
        self.last_sent = Some((now, timestamp));
        self.sent_since_report = true;
    }

    /// The randomised interval around `td`: uniform in [0.5, 1.5] x td, compensated (§6.3.1).
    fn rtcp_interval(&mut self, td: Duration) -> Duration {
        td.mul_f64((0.5 + self.rng.unit()) / COMPENSATION)
    }

    fn remote_rtcp(&self) -> Option<SocketAddr> {
        self.cfg.remote_rtcp.or_else(|| {
            self.cfg.remote.map(|mut a| {
                a.set_port(a.port().wrapping_add(1));
                a
            })
        })
    }

    /// NTP time of `now`, from the configured NTP time of `start`.
    fn ntp(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.start);
        let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
        self.cfg.ntp_at_start.wrapping_add((d.as_secs() << 32) | frac)
    }

    /// Sends one audio frame of `samples` timestamp units; `marker` at the start of a talkspurt.
    pub fn send_audio(&mut self, now: Instant, payload: &[u8], samples: u32, marker: bool) {
        let ts = self.next_ts;
        self.next_ts = self.next_ts.wrapping_add(samples);
        let pt = self.cfg.payload_type;
        self.send(now, pt, marker, ts, payload);
    }

    /// Moves the timestamp on without sending (silence suppression).
    pub fn skip(&mut self, samples: u32) {
        self.next_ts = self.next_ts.wrapping_add(samples);
    }

    /// Sends one RFC 4733 packet from an `EventSender` with payload type `pt`.
    pub fn send_event(&mut self, now: Instant, pt: u8, p: &EventPacket) {
        self.send(now, pt, p.marker, p.timestamp, &p.payload.to_bytes());
    }

    fn send(&mut self, now: Instant, pt: u8, marker: bool, timestamp: u32, payload: &[u8]) {
        let Some(dst) = self.cfg.remote else { return };
        let repr = RtpRepr {
            marker,
            payload_type: pt,
            sequence: self.seq,
            timestamp,
            ssrc: self.ssrc,
            csrcs: Vec::new(),
            extension: None,
            payload,
        };
        self.seq = self.seq.wrapping_add(1);
        self.packets_sent = self.packets_sent.wrapping_add(1);
        self.octets_sent = self.octets_sent.wrapping_add(u32::try_from(payload.len()).unwrap_or(u32::MAX));
        self.last_sent = Some((now, timestamp));
        self.sent_since_report = true;
        self.transmits.push_back(Transmit { dst, rtcp: false, data: repr.to_bytes() });
    }

    /// Takes one datagram from the RTP socket. A valid packet is returned for the media path.
    pub fn handle_rtp<'a>(&mut self, now: Instant, from: SocketAddr, data: &'a [u8]) -> Result<RtpRepr<'a>, Dropped> {
        let repr = RtpRepr::parse(data).map_err(Dropped::Malformed)?;
        if self.cfg.symmetric && self.latched && Some(from) != self.cfg.remote {
            return Err(Dropped::WrongSource(from));
        }
        if repr.ssrc == self.ssrc {
            return Err(Dropped::OwnSsrc);
        }
        if self.source.map(|s| s.ssrc) != Some(repr.ssrc) {
            if self.source.is_some() {
                self.events.push_back(SessionEvent::NewSource { ssrc: repr.ssrc });
            }
            // A.1: a new source starts on probation, its first packet counting as in sequence.
            let mut s = SourceStats { ssrc: repr.ssrc, probation: MIN_SEQUENTIAL, ..SourceStats::default() };
            s.init_seq(repr.sequence);
            s.max_seq = repr.sequence.wrapping_sub(1);
            self.source = Some(s);
        }
        // A.8: the jitter, with the arrival time in RTP timestamp units.
        let arrival = self.arrival_ts(now);
        let Some(src) = self.source.as_mut() else { return Err(Dropped::Probation) };
        src.update_seq(repr.sequence)?;
        let transit = arrival.wrapping_sub(repr.timestamp);
        if src.received > 1 {
            let d = transit.wrapping_sub(src.transit) as i32;
            src.jitter_q4 = src.jitter_q4.wrapping_add(d.unsigned_abs()).wrapping_sub((src.jitter_q4 + 8) >> 4);
        }
        src.transit = transit;
        if self.cfg.symmetric && !self.latched {
            self.latched = true;
            if self.cfg.remote != Some(from) {
                // RFC 4961: send where the packets come from; RTCP follows on the next port
                // unless the SDP named an RTCP address on that same host.
                if self.cfg.remote_rtcp.is_some_and(|r| r.ip() != from.ip()) {
                    self.cfg.remote_rtcp = None;
                }
                self.cfg.remote = Some(from);
            }
            self.events.push_back(SessionEvent::RemoteLatched(from));
        }
        Ok(repr)
    }

    fn arrival_ts(&self, now: Instant) -> u32 {
        let d = now.saturating_duration_since(self.start);
        let ts = d.as_micros().saturating_mul(u128::from(self.cfg.clock_rate)) / 1_000_000;
        // Wraps like every RTP clock; only differences are used.
        #[allow(clippy::cast_possible_truncation)]
        let t = ts as u32;
        t
    }

    /// Takes one datagram from the RTCP socket.
    pub fn handle_rtcp(&mut self, now: Instant, _from: SocketAddr, data: &[u8]) -> Result<(), rtcp::Error> {
        let packets = rtcp::parse_compound(data)?;
        for p in &packets {
            let reports = match p {
                RtcpPacket::Sr { ssrc, info, reports } => {
                    if self.source.is_some_and(|s| s.ssrc == *ssrc) || self.source.is_none() {
                        let lsr = u32::try_from((info.ntp >> 16) & 0xffff_ffff).unwrap_or(0);
                        self.last_sr = Some((lsr, now));
                    }
                    reports
                }
                RtcpPacket::Rr { reports, .. } => reports,
                RtcpPacket::Bye { ssrcs, .. } => {
                    for s in ssrcs {
                        if *s != self.ssrc {
                            self.events.push_back(SessionEvent::Bye { ssrc: *s });
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            if let Some(r) = reports.iter().find(|r| r.ssrc == self.ssrc) {
                self.remote_report = Some(*r);
            }
            for r in reports.iter().filter(|r| r.ssrc == self.ssrc && r.lsr != 0) {
                // §6.4.1: RTT = A - LSR - DLSR in 1/65536 s, A the middle 32 bits of now.
                let a = u32::try_from((self.ntp(now) >> 16) & 0xffff_ffff).unwrap_or(0);
                let rtt = a.wrapping_sub(r.lsr).wrapping_sub(r.dlsr);
                if rtt < 0x8000_0000 {
                    let d = Duration::from_nanos(u64::from(rtt) * 1_000_000_000 / 65536);
                    self.rtt = Some(d);
                    self.events.push_back(SessionEvent::Rtt(d));
                }
            }
        }
        Ok(())
    }

    /// Sends the RTCP report when due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed || now < self.next_rtcp {
            return;
        }
        self.send_report(now, None);
        self.next_rtcp = now + self.rtcp_interval(RTCP_MIN_INTERVAL);
    }

    /// Ends the stream: a last report with a BYE (RFC 3550 §6.6).
    pub fn close(&mut self, now: Instant, reason: &str) {
        if !self.closed {
            self.send_report(now, Some(reason));
            self.closed = true;
        }
    }

    fn send_report(&mut self, now: Instant, bye: Option<&str>) {
        let Some(dst) = self.remote_rtcp() else { return };
        let dlsr_base = self.last_sr;
        let reports: Vec<ReportBlock> = self
            .source
            .as_mut()
            .filter(|s| s.probation == 0)
            .map(|s| {
                let (lsr, dlsr) = match dlsr_base {
                    Some((lsr, at)) => {
                        let d = now.saturating_duration_since(at);
                        let units = d.as_micros() * 65536 / 1_000_000;
                        (lsr, u32::try_from(units).unwrap_or(u32::MAX))
                    }
                    None => (0, 0),
                };
                s.report(lsr, dlsr)
            })
            .into_iter()
            .collect();
        let first = if self.sent_since_report {
            let rtp_ts = match self.last_sent {
                Some((at, ts)) => {
                    let d = now.saturating_duration_since(at);
                    let add = d.as_micros().saturating_mul(u128::from(self.cfg.clock_rate)) / 1_000_000;
                    ts.wrapping_add(u32::try_from(add & 0xffff_ffff).unwrap_or(0))
                }
                None => self.next_ts,
            };
            let info = SenderInfo { ntp: self.ntp(now), rtp_ts, packets: self.packets_sent, octets: self.octets_sent };
            RtcpPacket::Sr { ssrc: self.ssrc, info, reports }
        } else {
            RtcpPacket::Rr { ssrc: self.ssrc, reports }
        };
        self.sent_since_report = false;
        let mut compound = vec![
            first,
            RtcpPacket::Sdes(vec![SdesChunk {
                ssrc: self.ssrc,
                items: vec![(rtcp::CNAME, self.cfg.cname.clone().into_bytes())],
            }]),
        ];
        if let Some(reason) = bye {
            compound.push(RtcpPacket::Bye { ssrcs: vec![self.ssrc], reason: Some(reason.as_bytes().to_vec()) });
        }
        self.scratch.clear();
        rtcp::emit_compound(&compound, &mut self.scratch);
        self.transmits.push_back(Transmit { dst, rtcp: true, data: self.scratch.clone() });
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.closed).then_some(self.next_rtcp)
    }
}
