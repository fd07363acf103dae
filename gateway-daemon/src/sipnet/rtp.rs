//! The SIP legs' RTP sockets: one even port of `[sip] rtp_ports` per leg with its RTCP socket on
//! the odd port above, registered in mio under `RTP_TOKENS + 2 x id` (RTCP `+ 1`); reading the
//! negotiated payload type (and telephone-events) for the media thread, and sending the frames the
//! media thread built with our SSRC, sequence and timestamp, to the SDP's address or where the far
//! end's packets come from (symmetric RTP). Split out of [`super`] to keep that file readable.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Instant;

use log::warn;
use mio::net::UdpSocket;
use mio::{Interest, Token};

use super::{payload_codec, Leg, SipNet, RTP_TOKENS};
use crate::media_codec::PayloadCodec;
use crate::media_rtp::{Frame, Incoming};
use crate::rtp::packet::RtpRepr;
use crate::sip::offer_answer::Codec;
use crate::sipnet_dtmf::LegDtmfNet;
use crate::sipnet_rtcp::LegRtcp;

/// One SIP leg's RTP socket and sending state.
pub(super) struct RtpSock {
    pub(super) id: u32,
    pub(super) sock: UdpSocket,
    pub(super) ssrc: u32,
    pub(super) seq: u16,
    pub(super) ts: u32,
    pub(super) started: bool,
    /// Where packets come from (symmetric RTP), once one has arrived.
    pub(super) learned: Option<SocketAddr>,
    /// Attached to a channel in the media thread.
    pub(super) attached: bool,
    /// The codec and ptime the media thread has for the leg while attached: a negotiation that
    /// changes them (a re-INVITE) sends it the new ones.
    pub(super) media_codec: Option<(PayloadCodec, u16)>,
    /// Who codes the leg when that is not the SDP name alone (`G729 (tc400b)`), for the status.
    pub(super) codec_label: Option<&'static str>,
    pub(super) dtmf: LegDtmfNet,
    pub(super) rtcp: LegRtcp,
}

impl SipNet {
    pub(super) fn next_even_port(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if p.saturating_add(2) > self.ports.1 { self.ports.0 + self.ports.0 % 2 } else { p + 2 };
        p
    }

    /// A new RTP socket on the next free even port of the range: (leg id, port).
    pub(super) fn open_rtp(&mut self, trunk: usize) -> Option<(u32, u16)> {
        let mode = self.dtmf_modes.get(trunk).copied().unwrap_or(provisioning::Dtmf::Inband);
        let span = usize::from(self.ports.1.saturating_sub(self.ports.0)) / 2 + 1;
        for _ in 0..span {
            let port = self.next_even_port();
            let Ok(mut sock) = UdpSocket::bind(SocketAddr::new(self.local.ip(), port)) else { continue };
            // RFC 3550 §11: RTCP on the next (odd) port; a pair we cannot have whole is skipped.
            let Ok(mut rtcp_sock) = UdpSocket::bind(SocketAddr::new(self.local.ip(), port + 1)) else { continue };
            let id = self.next_rtp;
            self.next_rtp = self.next_rtp.wrapping_add(1).max(1);
            let token = Token(RTP_TOKENS + 2 * usize::try_from(id).unwrap_or(0));
            if let Err(e) = self.registry.register(&mut sock, token, Interest::READABLE) {
                warn!("RTP: register port {port}: {e}");
                return None;
            }
            if let Err(e) = self.registry.register(&mut rtcp_sock, Token(token.0 + 1), Interest::READABLE) {
                warn!("RTCP: register port {}: {e}", port + 1);
                let _ = self.registry.deregister(&mut sock);
                return None;
            }
            self.session = self.session.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let cname = format!("spangate@{}", self.local.ip());
            let rtcp = LegRtcp::new(rtcp_sock, &cname, Instant::now(), self.session);
            // Our stream's SSRC, sequence numbers and timestamps are the ones the session chose.
            let (ssrc, seq, ts) = (rtcp.session.ssrc(), rtcp.session.next_sequence(), rtcp.session.next_timestamp());
            let dtmf = LegDtmfNet::new(mode);
            let r = RtpSock {
                id,
                sock,
                ssrc,
                seq,
                ts,
                started: false,
                learned: None,
                attached: false,
                media_codec: None,
                codec_label: None,
                dtmf,
                rtcp,
            };
            self.rtp.insert(id, r);
            return Some((id, port));
        }
        warn!("RTP: no free port in {}-{}", self.ports.0, self.ports.1);
        None
    }

    pub(super) fn close_rtp(&mut self, id: u32, remote: Option<SocketAddr>) {
        if let Some(mut r) = self.rtp.remove(&id) {
            r.rtcp.close(Instant::now(), r.learned.or(remote), &mut self.rtcp_counters);
            let _ = self.registry.deregister(r.rtcp.socket());
            let _ = self.registry.deregister(&mut r.sock);
            if r.attached {
                self.detach.push(id);
            }
        }
    }

    /// Reads every packet waiting on RTP token `token`: the ones of the negotiated payload type,
    /// for the media thread.
    pub fn on_rtp_readable(&mut self, token: Token, out: &mut Vec<(u32, Incoming)>) {
        let Some(i) = token.0.checked_sub(RTP_TOKENS) else { return };
        let Ok(id) = u32::try_from(i / 2) else { return };
        let now = Instant::now();
        if i % 2 == 1 {
            if let Some(r) = self.rtp.get_mut(&id) {
                r.rtcp.on_readable(now, &mut self.rtcp_counters);
            }
            return;
        }
        let negotiated = self.leg_of_rtp(id).and_then(|l| l.negotiated.as_ref().map(|n| (n.pt, n.codec)));
        let pt = negotiated.map(|n| n.0);
        // A G.711 leg also takes the other static G.711 type (as it always has); a G.722 leg only
        // its own, since G.711 octets decoded as G.722 are noise.
        let g711 = negotiated.is_none_or(|n| matches!(n.1, Codec::Pcma | Codec::Pcmu));
        let Some(r) = self.rtp.get_mut(&id) else { return };
        let mut buf = [0u8; 2048];
        loop {
            match r.sock.recv_from(&mut buf) {
                Ok((n, src)) => {
                    // Every packet counts in the reception statistics (RFC 3550 A.1, A.8), whatever
                    // the media path does with it.
                    let _ = r.rtcp.session.handle_rtp(now, src, &buf[..n]);
                    let Ok(p) = RtpRepr::parse(&buf[..n]) else { continue };
                    r.rtcp.rtp_received = r.rtcp.rtp_received.wrapping_add(1);
                    if r.dtmf.te_pt == Some(p.payload_type) {
                        r.learned = Some(src);
                        r.dtmf.on_packet(Instant::now(), id, p.timestamp, p.payload, &mut self.media_cmds);
                        continue;
                    }
                    if pt.is_some_and(|pt| pt != p.payload_type) && !(g711 && matches!(p.payload_type, 0 | 8)) {
                        continue;
                    }
                    r.learned = Some(src);
                    let Some(frame) = Frame::from_slice(p.payload) else { continue };
                    let arrival =
                        media_dsp::jitter::Arrival { ssrc: p.ssrc, seq: p.sequence, ts: p.timestamp, marker: p.marker };
                    out.push((r.id, Incoming { arrival, frame }));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
    }

    /// The SIP leg of RTP id `id`.
    pub(super) fn leg_of_rtp(&self, id: u32) -> Option<&Leg> {
        self.by_rtp.get(&id).and_then(|h| self.legs.get(h))
    }

    /// Sends a frame the media thread built for leg `id`.
    pub fn send_rtp(&mut self, id: u32, frame: &Frame) {
        let leg = self.leg_of_rtp(id);
        let remote = leg.and_then(|l| l.negotiated.as_ref().and_then(|n| n.remote));
        let negotiated = leg.and_then(|l| l.negotiated.as_ref().map(|n| (n.pt, n.codec)));
        let pt = negotiated.map_or(8, |n| n.0);
        let Some(r) = self.rtp.get_mut(&id) else { return };
        // A frame the media thread encoded before a re-INVITE's new codec reached it: its octets
        // are not the negotiated payload, so it is not sent; its time passes all the same.
        if let (Some(built), Some((_, codec))) = (frame.codec, negotiated) {
            if built != payload_codec(codec) {
                r.ts = r.ts.wrapping_add(u32::from(frame.samples));
                return;
            }
        }
        let Some(dst) = r.learned.or(remote) else { return };
        let repr = RtpRepr {
            marker: !r.started,
            payload_type: pt,
            sequence: r.seq,
            timestamp: r.ts,
            ssrc: r.ssrc,
            csrcs: Vec::new(),
            extension: None,
            payload: frame.bytes(),
        };
        r.started = true;
        r.rtcp.session.note_sent(Instant::now(), r.seq, r.ts, frame.bytes().len());
        r.seq = r.seq.wrapping_add(1);
        // The timestamp counts samples (8 kHz for every codec here), not payload octets.
        r.ts = r.ts.wrapping_add(u32::from(if frame.samples > 0 { frame.samples } else { frame.len }));
        self.tx_buf.clear();
        repr.emit(&mut self.tx_buf);
        let _ = r.sock.send_to(&self.tx_buf, dst);
        // The leg's frames are the clock of its telephone-event updates and end packets.
        self.send_events(id);
    }
}
