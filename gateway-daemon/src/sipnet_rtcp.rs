//! RTCP of one SIP leg in the event loop: the socket on the odd port next to the leg's RTP port
//! (RFC 3550 §11), the sans-IO [`RtpSession`] that keeps the reception statistics of every RTP
//! packet received (loss, jitter) and builds the reports, and the leg's media figures for the
//! status.
//!
//! The RTP send path in `sipnet` builds its headers itself, into a reused buffer, from the SSRC,
//! sequence number and timestamp the session chose, and tells the session what it sent
//! ([`RtpSession::note_sent`]): the session then sends an SR while we send and an RR otherwise, at
//! the randomised RFC 3550 §6.3 interval (the first one after about 2.5 s), and a BYE when the leg
//! closes (§6.6). Received RTCP is parsed by the session; a malformed compound is counted, logged
//! once per leg and otherwise ignored. Reports go to the far end's RTP port + 1, or to the
//! address its SDP names with `a=rtcp` (RFC 3605) while RTP goes to that host. The far end's
//! report block about our stream is its view of our loss and jitter; LSR/DLSR give the round trip
//! time.
//!
//! Architecture Invariant: RTCP never touches the media path - a report's only effect on the call
//! is the figures on the status page.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use log::warn;
use mio::net::UdpSocket;

use crate::rtp::session::{Config, RtpSession};
use crate::sip::sdp::SessionDescription;

/// The RTCP address an SDP names for its first audio stream with `a=rtcp:PORT [IN IP4 ADDR]`
/// (RFC 3605); the address defaults to the stream's, from `rtp`. `None` without the attribute
/// (RTCP then goes to the RTP port + 1) or with one that does not parse.
pub fn sdp_rtcp(sdp: &SessionDescription, rtp: Option<SocketAddr>) -> Option<SocketAddr> {
    let audio = sdp.media.iter().find(|m| m.media == "audio")?;
    let value = audio.attributes.iter().find(|a| a.name == "rtcp")?.value.as_deref()?;
    let mut words = value.split_ascii_whitespace();
    let port: u16 = words.next()?.parse().ok()?;
    let ip = match (words.next(), words.next(), words.next()) {
        (Some("IN"), Some("IP4" | "IP6"), Some(addr)) => addr.parse().ok()?,
        (None, _, _) => rtp?.ip(),
        _ => return None,
    };
    (port != 0).then_some(SocketAddr::new(ip, port))
}

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// RTCP counters of all legs, for the status and /metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RtcpCounters {
    pub rtcp_sent: u64,
    pub rtcp_received: u64,
    pub rtcp_malformed: u64,
    /// RTP packets lost on the way to us, of legs that have ended (cumulative lost at the close).
    pub rtp_lost: u64,
}

/// One SIP leg's media figures, for the status page's call table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SipLegMedia {
    /// The encoding name (`PCMA`, `PCMU`...), or `-` before the answer settled the codec.
    pub codec: &'static str,
    pub ptime: u32,
    /// Where our RTP goes (the SDP's address, or where its packets come from).
    pub remote: Option<String>,
    pub rtcp_port: u16,
    /// Every RTP packet that parsed; loss and jitter count only a validated far-end source (a
    /// loop echoing our own SSRC, like sipp's `-rtp_echo`, is no source: RFC 3550 §8.2).
    pub packets_received: u32,
    pub packets_sent: u32,
    /// Our measure of the far end's stream (RFC 3550 A.3, A.8).
    pub lost: i32,
    pub loss_percent: f64,
    pub jitter_ms: f64,
    /// The far end's view of our stream, from its last report block.
    pub far_lost: Option<i32>,
    pub far_loss_percent: Option<f64>,
    pub far_jitter_ms: Option<f64>,
    pub rtt_ms: Option<f64>,
    /// The leg's fax switch, once a fax tone was heard on the call (`sipnet_fax`).
    pub fax: Option<crate::sipnet_fax::FaxSnap>,
}

/// One leg of a call through the gateway, for the status page's call table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LegMedia {
    Sip(SipLegMedia),
    /// The span, its B-channel and the channel's echo canceller's ERLE (dB), when it has one.
    Isdn {
        span: u32,
        channel: Option<u8>,
        erle_db: Option<f32>,
    },
}

/// The RTCP side of one leg.
pub struct LegRtcp {
    sock: UdpSocket,
    pub session: RtpSession,
    /// RTP packets that parsed, whatever their source.
    pub rtp_received: u32,
    /// The far end's `a=rtcp` address (RFC 3605), when its SDP names one.
    pub sdp_rtcp: Option<SocketAddr>,
    port: u16,
    malformed_logged: bool,
}

/// The NTP time of `now` (RFC 3550 §4: 32.32 fixed point), for the sender reports.
fn ntp_now() -> u64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
    ((d.as_secs() + NTP_UNIX_OFFSET) << 32) | frac
}

impl LegRtcp {
    /// The RTCP side on `sock` (bound on the port after the RTP one); `seed` randomises the SSRC,
    /// the first sequence number and timestamp, and the report interval.
    pub fn new(sock: UdpSocket, cname: &str, now: Instant, seed: u64) -> Self {
        let port = sock.local_addr().map_or(0, |a| a.port());
        let cfg = Config {
            payload_type: 8,
            clock_rate: 8000,
            // sipnet latches the address itself (any source of the negotiated type).
            symmetric: false,
            remote: None,
            remote_rtcp: None,
            cname: cname.to_owned(),
            ntp_at_start: ntp_now(),
        };
        LegRtcp {
            sock,
            session: RtpSession::new(cfg, now, seed),
            rtp_received: 0,
            sdp_rtcp: None,
            port,
            malformed_logged: false,
        }
    }

    pub fn socket(&mut self) -> &mut UdpSocket {
        &mut self.sock
    }

    /// Reads every waiting RTCP datagram into the session.
    pub fn on_readable(&mut self, now: Instant, counters: &mut RtcpCounters) {
        let mut buf = [0u8; 1500];
        loop {
            match self.sock.recv_from(&mut buf) {
                Ok((n, src)) => match self.session.handle_rtcp(now, src, &buf[..n]) {
                    Ok(()) => counters.rtcp_received += 1,
                    Err(e) => {
                        counters.rtcp_malformed += 1;
                        if !self.malformed_logged {
                            self.malformed_logged = true;
                            warn!("RTCP: malformed compound from {src} on port {}: {e}", self.port);
                        }
                    }
                },
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
        while self.session.poll_event().is_some() {}
    }

    /// Sends the report when due; `remote` is where RTP goes now.
    pub fn on_timeout(&mut self, now: Instant, remote: Option<SocketAddr>, counters: &mut RtcpCounters) {
        if self.session.poll_timeout().is_some_and(|t| t <= now) {
            self.session.set_remote(remote, self.rtcp_for(remote));
            self.session.handle_timeout(now);
            self.flush(counters);
        }
    }

    /// Ends the stream with a last report and a BYE (RFC 3550 §6.6).
    pub fn close(&mut self, now: Instant, remote: Option<SocketAddr>, counters: &mut RtcpCounters) {
        self.session.set_remote(remote, self.rtcp_for(remote));
        self.session.close(now, "call ended");
        self.flush(counters);
        let lost = self.session.source().map_or(0, |s| s.cumulative_lost());
        counters.rtp_lost += u64::try_from(lost).unwrap_or(0);
    }

    /// The SDP's RTCP address while RTP goes to that host; RTP latched elsewhere (NAT) takes
    /// RTCP along to its port + 1.
    fn rtcp_for(&self, remote: Option<SocketAddr>) -> Option<SocketAddr> {
        self.sdp_rtcp.filter(|a| remote.is_some_and(|r| r.ip() == a.ip()))
    }

    fn flush(&mut self, counters: &mut RtcpCounters) {
        while let Some(t) = self.session.poll_transmit() {
            if self.sock.send_to(&t.data, t.dst).is_ok() {
                counters.rtcp_sent += 1;
            }
        }
    }

    /// The leg's figures; `codec` and `ptime` from the negotiation, `remote` where RTP goes.
    pub fn media(&self, codec: &'static str, ptime: u32, remote: Option<SocketAddr>) -> SipLegMedia {
        let s = self.session.source().filter(|s| s.probation == 0);
        let (lost, expected, jitter) = s.map_or((0, 0, 0), |s| (s.cumulative_lost(), s.expected(), s.jitter()));
        let far = self.session.remote_report();
        SipLegMedia {
            codec,
            ptime,
            remote: remote.map(|a| a.to_string()),
            rtcp_port: self.port,
            packets_received: self.rtp_received,
            packets_sent: self.session.packets_sent(),
            lost,
            loss_percent: percent(lost, expected),
            jitter_ms: f64::from(jitter) / 8.0,
            far_lost: far.map(|r| r.cumulative_lost),
            far_loss_percent: far.map(|r| f64::from(r.fraction_lost) * 100.0 / 256.0),
            far_jitter_ms: far.map(|r| f64::from(r.jitter) / 8.0),
            rtt_ms: self.session.rtt().map(|d| d.as_secs_f64() * 1000.0),
            fax: None,
        }
    }
}

/// `lost` of `expected` in percent; nothing expected is no loss.
fn percent(lost: i32, expected: u32) -> f64 {
    if expected == 0 {
        0.0
    } else {
        f64::from(lost.max(0)) * 100.0 / f64::from(expected)
    }
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket as StdSocket;
    use std::time::{Duration, Instant};

    use super::{percent, LegRtcp, RtcpCounters};
    use crate::rtp::rtcp::{self, ReportBlock, RtcpPacket};

    /// Reads until `done` holds or a second passes (loopback delivery is not instant).
    fn read_until(leg: &mut LegRtcp, c: &mut RtcpCounters, done: impl Fn(&RtcpCounters) -> bool) {
        let end = Instant::now() + Duration::from_secs(1);
        while !done(c) && Instant::now() < end {
            leg.on_readable(Instant::now(), c);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn garbage_is_counted_a_report_gives_the_far_view_and_close_sends_a_bye() {
        let sock = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let ours = sock.local_addr().unwrap();
        let t0 = Instant::now();
        let mut leg = LegRtcp::new(sock, "spangate@test", t0, 7);
        let peer = StdSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut c = RtcpCounters::default();
        for junk in [&[][..], &[0x80][..], &[0xff; 40][..], &[0x81, 201, 0, 7, 1, 2, 3, 4][..]] {
            peer.send_to(junk, ours).unwrap();
        }
        read_until(&mut leg, &mut c, |c| c.rtcp_malformed == 4);
        assert_eq!((c.rtcp_malformed, c.rtcp_received), (4, 0));
        assert!(leg.session.remote_report().is_none());
        // The far end's RR about our stream: 3 lost, jitter 80 units = 10 ms at 8 kHz.
        let block = ReportBlock {
            ssrc: leg.session.ssrc(),
            fraction_lost: 64,
            cumulative_lost: 3,
            highest_seq: 1000,
            jitter: 80,
            lsr: 0,
            dlsr: 0,
        };
        let mut rr = Vec::new();
        rtcp::emit_compound(&[RtcpPacket::Rr { ssrc: 0x1234_5678, reports: vec![block] }], &mut rr);
        peer.send_to(&rr, ours).unwrap();
        read_until(&mut leg, &mut c, |c| c.rtcp_received == 1);
        assert_eq!(c.rtcp_received, 1);
        let m = leg.media("PCMA", 20, None);
        assert_eq!(m.far_lost, Some(3));
        assert_eq!(m.far_loss_percent, Some(25.0));
        assert_eq!(m.far_jitter_ms, Some(10.0));
        assert_eq!((m.packets_received, m.lost, m.rtcp_port), (0, 0, ours.port()));
        // Closing sends the last report and a BYE to where RTP goes, port + 1.
        let far_rtp = peer.local_addr().map(|mut a| {
            a.set_port(a.port() - 1);
            a
        });
        leg.close(t0 + Duration::from_secs(3), far_rtp.ok(), &mut c);
        assert_eq!(c.rtcp_sent, 1);
        let mut buf = [0u8; 1500];
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!(from, ours);
        let pkts = rtcp::parse_compound(&buf[..n]).unwrap();
        assert!(matches!(pkts[0], RtcpPacket::Rr { .. }), "nothing sent: RR, {pkts:?}");
        assert!(matches!(pkts.last(), Some(RtcpPacket::Bye { .. })), "{pkts:?}");
    }

    #[test]
    fn rfc3605_rtcp_attribute_with_and_without_an_address() {
        use super::sdp_rtcp;
        use crate::sip::sdp::SessionDescription;
        let sdp = |extra: &str| {
            let text = format!(
                "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                 m=audio 49170 RTP/AVP 8\r\n{extra}"
            );
            SessionDescription::parse(text.as_bytes()).unwrap()
        };
        let rtp = Some("192.0.2.1:49170".parse().unwrap());
        assert_eq!(sdp_rtcp(&sdp("a=rtcp:53020\r\n"), rtp), Some("192.0.2.1:53020".parse().unwrap()));
        assert_eq!(
            sdp_rtcp(&sdp("a=rtcp:53020 IN IP4 198.51.100.9\r\n"), rtp),
            Some("198.51.100.9:53020".parse().unwrap())
        );
        assert_eq!(sdp_rtcp(&sdp(""), rtp), None);
        for bad in ["a=rtcp\r\n", "a=rtcp:x\r\n", "a=rtcp:0\r\n", "a=rtcp:53020 IN IP4\r\n", "a=rtcp:1 IN IP4 nope\r\n"]
        {
            assert_eq!(sdp_rtcp(&sdp(bad), rtp), None, "{bad}");
        }
    }

    #[test]
    fn loss_percent_of_expected_and_none_expected() {
        assert!((percent(5, 200) - 2.5).abs() < 1e-9);
        assert!(percent(0, 0).abs() < 1e-9);
        // Duplicates make the count negative (RFC 3550 A.3): shown as no loss.
        assert!(percent(-3, 100).abs() < 1e-9);
    }
}
