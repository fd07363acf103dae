//! Tests of the RTP layer with byte vectors laid out by hand from RFC 3550 §5.1/§6.4 and RFC 4733
//! §2.3, round trips, and two sessions talking on virtual time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::event::{DigitEvent, EventPayload, EventReceiver, EventSender, UPDATE_INTERVAL};
use super::packet::{self, Packet, RtpRepr};
use super::ports::{PortAllocator, PortError};
use super::rtcp::{self, ReportBlock, RtcpPacket, SdesChunk, SenderInfo};
use super::session::{Config, Dropped, RtpSession, SessionEvent};

/// V=2 P=1 X=1 CC=1, M=1 PT=8, seq 0x1d63, ts 0xa000, SSRC 0x5a3b2c1d, one CSRC, a one-word
/// extension (profile 0xbede), two payload octets and two octets of padding.
const RTP: [u8; 32] = [
    0xb1, 0x88, 0x1d, 0x63, 0x00, 0x00, 0xa0, 0x00, 0x5a, 0x3b, 0x2c, 0x1d, // fixed header
    0x11, 0x22, 0x33, 0x44, // CSRC
    0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00, // extension
    0xd5, 0x55, // payload
    0x00, 0x00, 0x00, 0x00, 0x00, 0x06, // padding, count 6 in the last octet
];

#[test]
fn rtp_header_fields_from_bytes() {
    let p = Packet::new_checked(&RTP).unwrap();
    assert!(p.padding() && p.extension() && p.marker());
    assert_eq!((p.csrc_count(), p.payload_type(), p.sequence()), (1, 8, 0x1d63));
    assert_eq!((p.timestamp(), p.ssrc()), (0xa000, 0x5a3b_2c1d));
    assert_eq!(p.csrcs().collect::<Vec<_>>(), [0x1122_3344]);
    assert_eq!(p.extension_data(), Some((0xbede, &[0x10, 0xaa, 0, 0][..])));
    assert_eq!(p.payload(), [0xd5, 0x55]);
    let r = RtpRepr::parse(&RTP).unwrap();
    assert_eq!(r.to_string(), "RTP PT=8 seq=7523 ts=40960 ssrc=0x5a3b2c1d M csrc=0x11223344 ext=0xbede/4 len=2");
    // Emitted without the padding, the packet parses to the same fields.
    let bytes = r.to_bytes();
    assert_eq!(bytes[1..], RTP[1..26]);
    assert_eq!(bytes[0], 0x91);
    assert_eq!(RtpRepr::parse(&bytes).unwrap(), r);
}

#[test]
fn rtp_rejects_bad_headers_and_never_panics() {
    assert_eq!(Packet::new_checked(&RTP[..11]).err(), Some(packet::Error::Truncated));
    let mut v1 = RTP;
    v1[0] = 0x71;
    assert_eq!(Packet::new_checked(&v1).err(), Some(packet::Error::Version(1)));
    let mut pad = RTP;
    // More padding than the 8 octets after the extension.
    pad[31] = 9;
    assert_eq!(Packet::new_checked(&pad).err(), Some(packet::Error::Padding));
    pad[31] = 0;
    assert_eq!(Packet::new_checked(&pad).err(), Some(packet::Error::Padding));
    // An RTCP RR (201 = marker + 73) sent to the RTP port.
    assert_eq!(
        Packet::new_checked(&[0x80, 0xc9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]).err(),
        Some(packet::Error::RtcpPayloadType(73))
    );
    for n in 0..RTP.len() {
        let _ = RtpRepr::parse(&RTP[..n]);
    }
    let mut x = 0x9e37_79b9_u32;
    let mut buf = [0u8; 40];
    for _ in 0..20_000 {
        for b in &mut buf {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x.to_le_bytes()[0];
        }
        buf[0] = (buf[0] & 0x3f) | 0x80;
        let n = usize::from(buf[1]) % 41;
        if let Ok(r) = RtpRepr::parse(&buf[..n]) {
            assert!(r.payload.len() <= n);
        }
        let _ = rtcp::parse_compound(&buf[..n]);
        let _ = EventPayload::parse(&buf[..n]);
    }
}

/// SR with one report block, then SDES with a CNAME, then BYE with a reason (RFC 3550 §6.4.1,
/// §6.5, §6.6 layouts).
fn compound_bytes() -> Vec<u8> {
    let mut v = vec![0x81, 200, 0x00, 0x0c, 0x00, 0x00, 0x04, 0xd2]; // SR, RC=1, 13 words, SSRC 1234
    v.extend_from_slice(&[0xe9, 0xa5, 0xb6, 0x00, 0x80, 0x00, 0x00, 0x00]); // NTP
    v.extend_from_slice(&[0x00, 0x00, 0x1f, 0x40, 0x00, 0x00, 0x00, 0x32, 0x00, 0x00, 0x1f, 0x40]); // ts, pkts, octets
    v.extend_from_slice(&[0x00, 0x00, 0x16, 0x2e, 0x05, 0xff, 0xff, 0xfe]); // SSRC 5678, 5/256, cum -2
    v.extend_from_slice(&[0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00, 0x11, 0xb6, 0x00, 0x80, 0x00]); // ext max, jitter, lsr
    v.extend_from_slice(&[0x00, 0x01, 0x00, 0x00]); // dlsr = 1 s
    v.extend_from_slice(&[
        0x81, 202, 0x00, 0x03, 0x00, 0x00, 0x04, 0xd2, 0x01, 0x05, b'a', b'@', b'b', b'.', b'c', 0x00,
    ]);
    v.extend_from_slice(&[0x81, 203, 0x00, 0x02, 0x00, 0x00, 0x04, 0xd2, 0x02, b'o', b'k', 0x00]);
    v
}

#[test]
fn rtcp_compound_from_bytes_and_back() {
    let bytes = compound_bytes();
    let pkts = rtcp::parse_compound(&bytes).unwrap();
    let block = ReportBlock {
        ssrc: 5678,
        fraction_lost: 5,
        cumulative_lost: -2,
        highest_seq: 0x0001_0010,
        jitter: 17,
        lsr: 0xb600_8000,
        dlsr: 0x0001_0000,
    };
    let info = SenderInfo { ntp: 0xe9a5_b600_8000_0000, rtp_ts: 8000, packets: 50, octets: 8000 };
    assert_eq!(
        pkts,
        vec![
            RtcpPacket::Sr { ssrc: 1234, info, reports: vec![block] },
            RtcpPacket::Sdes(vec![SdesChunk { ssrc: 1234, items: vec![(rtcp::CNAME, b"a@b.c".to_vec())] }]),
            RtcpPacket::Bye { ssrcs: vec![1234], reason: Some(b"ok".to_vec()) },
        ]
    );
    let mut out = Vec::new();
    rtcp::emit_compound(&pkts, &mut out);
    assert_eq!(out, bytes);
    assert_eq!(
        pkts[0].to_string(),
        "RTCP SR ssrc=0x000004d2 ntp=0xe9a5b60080000000 rtp=8000 pkts=50 octets=8000 [ssrc=0x0000162e \
         lost=5/256 cum=-2 ext_max=65552 jitter=17 lsr=0xb6008000 dlsr=65536]"
    );
    assert_eq!(pkts[1].to_string(), "RTCP SDES ssrc=0x000004d2 cname=\"a@b.c\"");
}

#[test]
fn rtcp_validity_checks_of_appendix_a2() {
    let bytes = compound_bytes();
    // Starting with SDES is not a valid compound.
    assert_eq!(rtcp::parse_compound(&bytes[52..]), Err(rtcp::Error::FirstNotReport(202)));
    // A length running past the datagram.
    assert_eq!(rtcp::parse_compound(&bytes[..bytes.len() - 4]), Err(rtcp::Error::Length));
    // Padding on the first of several packets.
    let mut padded = bytes.clone();
    padded[0] |= 0x20;
    assert_eq!(rtcp::parse_compound(&padded), Err(rtcp::Error::Padding));
    let mut v0 = bytes;
    v0[0] = 0x01;
    assert_eq!(rtcp::parse_compound(&v0), Err(rtcp::Error::Version(0)));
    assert_eq!(rtcp::parse_compound(&[]), Err(rtcp::Error::Truncated));
}

#[test]
fn telephone_event_payload_bytes() {
    // Digit 5, end bit, volume 10, duration 800 (100 ms).
    let p = EventPayload::parse(&[0x05, 0x8a, 0x03, 0x20]).unwrap();
    assert_eq!(p, EventPayload { event: 5, end: true, volume: 10, duration: 800 });
    assert_eq!(p.to_bytes(), [0x05, 0x8a, 0x03, 0x20]);
    assert_eq!(p.to_string(), "EVENT 5 (5) vol=-10 dur=800 E");
    assert_eq!(EventPayload::parse(&[11, 0x40, 0, 0]).unwrap().to_string(), "EVENT 11 (#) vol=-0 dur=0");
    assert_eq!(EventPayload::parse(&[1, 2, 3]), None);
}

fn drain(s: &mut EventSender) -> Vec<(bool, u32, EventPayload)> {
    std::iter::from_fn(|| s.poll_transmit()).map(|p| (p.marker, p.timestamp, p.payload)).collect()
}

#[test]
fn sender_starts_updates_and_ends_three_times() {
    let t0 = Instant::now();
    let mut s = EventSender::new();
    s.start(t0, 16_000, 1, 10);
    let first = drain(&mut s);
    assert_eq!(first, [(true, 16_000, EventPayload { event: 1, end: false, volume: 10, duration: 0 })]);
    assert_eq!(s.poll_timeout(), Some(t0 + UPDATE_INTERVAL));
    s.handle_timeout(t0 + Duration::from_millis(50));
    s.handle_timeout(t0 + Duration::from_millis(100));
    let updates = drain(&mut s);
    assert_eq!(updates.iter().map(|u| u.2.duration).collect::<Vec<_>>(), [400, 800]);
    assert!(updates.iter().all(|u| !u.0 && u.1 == 16_000 && !u.2.end));
    s.stop(t0 + Duration::from_millis(120));
    let mut t = t0 + Duration::from_millis(120);
    let mut ends = drain(&mut s);
    while let Some(due) = s.poll_timeout() {
        t = due;
        s.handle_timeout(t);
        ends.extend(drain(&mut s));
    }
    assert_eq!(ends.len(), 3);
    assert!(ends.iter().all(|e| e.1 == 16_000 && e.2.end && e.2.duration == 960 && !e.0));
    assert_eq!(t, t0 + Duration::from_millis(220), "three end packets 50 ms apart");
    assert!(!s.busy());
}

#[test]
fn long_event_wraps_its_duration_into_segments() {
    let t0 = Instant::now();
    let mut s = EventSender::new();
    s.start(t0, 1000, 0, 10);
    let mut pkts = drain(&mut s);
    let mut t = t0;
    while t < t0 + Duration::from_millis(9000) {
        t += UPDATE_INTERVAL;
        s.handle_timeout(t);
        pkts.extend(drain(&mut s));
    }
    s.stop(t);
    while let Some(due) = s.poll_timeout() {
        s.handle_timeout(due);
    }
    pkts.extend(drain(&mut s));
    let full = pkts.iter().position(|p| p.2.duration == 0xffff).expect("a packet with the maximum duration");
    assert_eq!(pkts[full].1, 1000);
    let next = pkts[full + 1];
    assert_eq!(next.1, 1000 + 0xffff, "new segment timestamp");
    assert!(!next.0, "no marker on a continuation");
    let end = pkts.last().unwrap();
    assert_eq!(u64::from(end.2.duration) + 0xffff, 9000 * 8);
    // The receiver sees one digit of the whole length.
    let mut r = EventReceiver::new();
    for p in &pkts {
        r.handle_packet(t0, p.1, p.2);
    }
    let evs: Vec<_> = std::iter::from_fn(|| r.poll_event()).collect();
    assert_eq!(evs, [DigitEvent::Start { event: 0 }, DigitEvent::End { event: 0, duration: 72_000 }]);
}

#[test]
fn receiver_reports_each_digit_once_through_retransmits_and_loss() {
    let t0 = Instant::now();
    let mut r = EventReceiver::new();
    let p = |event, end, duration| EventPayload { event, end, volume: 10, duration };
    // Digit 1: start, update, its start retransmitted late, three ends, then a stray end again.
    for (ts, pl) in [(1000, p(1, false, 0)), (1000, p(1, false, 400)), (1000, p(1, false, 0))] {
        r.handle_packet(t0, ts, pl);
    }
    for _ in 0..4 {
        r.handle_packet(t0, 1000, p(1, true, 800));
    }
    // Digit 2: its first packet lost, every end packet lost; digit 3 follows.
    r.handle_packet(t0, 3000, p(2, false, 400));
    r.handle_packet(t0, 3000, p(2, false, 800));
    r.handle_packet(t0, 5000, p(3, false, 0));
    // Digit 3: nothing more arrives; the timeout ends it.
    assert_eq!(r.poll_timeout(), Some(t0 + super::event::RECEIVE_TIMEOUT));
    r.handle_timeout(t0 + Duration::from_secs(2));
    let evs: Vec<_> = std::iter::from_fn(|| r.poll_event()).collect();
    assert_eq!(
        evs,
        [
            DigitEvent::Start { event: 1 },
            DigitEvent::End { event: 1, duration: 800 },
            DigitEvent::Start { event: 2 },
            DigitEvent::End { event: 2, duration: 800 },
            DigitEvent::Start { event: 3 },
            DigitEvent::End { event: 3, duration: 0 },
        ]
    );
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn cfg(remote: Option<&str>, symmetric: bool) -> Config {
    Config {
        payload_type: 8,
        clock_rate: 8000,
        symmetric,
        remote: remote.map(addr),
        remote_rtcp: None,
        cname: "spangate@test".into(),
        ntp_at_start: 0xe9a5_b600_0000_0000,
    }
}

#[test]
fn symmetric_rtp_latches_on_the_first_valid_packet_and_counts_loss() {
    let t0 = Instant::now();
    let mut a = RtpSession::new(cfg(Some("192.0.2.2:4000"), false), t0, 1);
    // B was told 198.51.100.9 in the SDP, but A is behind a NAT that shows as 203.0.113.5:61000.
    let mut b = RtpSession::new(cfg(Some("198.51.100.9:5000"), true), t0, 2);
    assert_ne!(a.ssrc(), b.ssrc());
    let nat = addr("203.0.113.5:61000");
    let mut accepted = 0;
    for i in 0..60u32 {
        let now = t0 + Duration::from_millis(u64::from(20 * i));
        a.send_audio(now, &[0xd5; 160], 160, i == 0);
        let tx = a.poll_transmit().unwrap();
        assert_eq!(tx.dst, addr("192.0.2.2:4000"));
        if (20..25).contains(&i) {
            continue; // lost in the network
        }
        match b.handle_rtp(now + Duration::from_millis(30), nat, &tx.data) {
            Ok(r) => {
                assert_eq!((r.payload_type, r.payload.len(), r.ssrc), (8, 160, a.ssrc()));
                accepted += 1;
            }
            Err(e) => assert_eq!((i, e), (0, Dropped::Probation)),
        }
    }
    assert_eq!(accepted, 54);
    assert_eq!(b.poll_event(), Some(SessionEvent::RemoteLatched(nat)));
    assert_eq!(b.remote(), Some(nat));
    // Another address is refused once latched.
    a.send_audio(t0, &[0; 160], 160, false);
    let stray = a.poll_transmit().unwrap();
    assert_eq!(b.handle_rtp(t0, addr("203.0.113.6:1"), &stray.data), Err(Dropped::WrongSource(addr("203.0.113.6:1"))));
    let src = *b.source().unwrap();
    // Packets 1..=59 are validated (0 was the probation packet); 20..=24 never came.
    assert_eq!(src.expected(), 59);
    assert_eq!(src.received, 54);
    assert_eq!(src.cumulative_lost(), 5);
    assert_eq!(src.jitter(), 0, "a constant transit has no jitter");
    // B answers towards the NAT address, RTCP to the next port.
    b.send_audio(t0, &[0; 160], 160, true);
    assert_eq!(b.poll_transmit().unwrap().dst, nat);
    b.handle_timeout(t0 + Duration::from_secs(10));
    let report = b.poll_transmit().unwrap();
    assert!(report.rtcp);
    assert_eq!(report.dst, addr("203.0.113.5:61001"));
    let pkts = rtcp::parse_compound(&report.data).unwrap();
    let RtcpPacket::Sr { reports, .. } = &pkts[0] else { panic!("{}", pkts[0]) };
    // 5 lost of 59 expected in this first interval: 5 * 256 / 59 = 21.
    assert_eq!((reports[0].fraction_lost, reports[0].cumulative_lost), (21, 5));
}

#[test]
fn interarrival_jitter_follows_rfc3550_by_hand() {
    let t0 = Instant::now();
    let mut b = RtpSession::new(cfg(None, false), t0, 3);
    let from = addr("192.0.2.1:4000");
    // Timestamps 160 apart (20 ms); arrivals at 0, 20, 45, 60, 85 ms: transits 0, 0, 40, 0, 40
    // units relative to the first. Packet 0 is on probation and packet 1 restarts the statistics,
    // so J is computed over packets 2..4: |D| = 40, 40, 40 -> J = 40/16 = 2.5, then
    // 2.5 + (40 - 2.5)/16 = 4.84, then 4.84 + (40 - 4.84)/16 = 7.04; the integer form of A.8
    // gives 40, 40 + 40 - 3 = 77, 77 + 40 - 5 = 112, and 112 >> 4 = 7.
    for (i, ms) in [0u64, 20, 45, 60, 85].into_iter().enumerate() {
        let seq = u16::try_from(i).unwrap();
        let repr = RtpRepr {
            marker: false,
            payload_type: 0,
            sequence: seq,
            timestamp: 160 * u32::from(seq),
            ssrc: 99,
            csrcs: vec![],
            extension: None,
            payload: &[0; 4],
        };
        let _ = b.handle_rtp(t0 + Duration::from_millis(ms), from, &repr.to_bytes());
    }
    assert_eq!(b.source().unwrap().jitter(), 7);
}

#[test]
fn rtcp_reports_at_randomised_intervals_and_measures_rtt() {
    let t0 = Instant::now();
    let mut a = RtpSession::new(cfg(Some("192.0.2.2:4000"), false), t0, 11);
    let mut b = RtpSession::new(cfg(Some("192.0.2.1:4000"), false), t0, 12);
    let one_way = Duration::from_millis(40);
    let mut times = Vec::new();
    let mut rtt = None;
    let mut now = t0;
    let end = t0 + Duration::from_secs(120);
    while now < end {
        // A sends 20 ms frames; B only receives.
        a.send_audio(now, &[0; 160], 160, false);
        let tx = a.poll_transmit().unwrap();
        let _ = b.handle_rtp(now + one_way, addr("192.0.2.1:4000"), &tx.data);
        for s in [&mut a, &mut b] {
            if s.poll_timeout().unwrap() <= now {
                s.handle_timeout(now);
            }
        }
        while let Some(t) = a.poll_transmit() {
            assert!(t.rtcp);
            times.push(now);
            b.handle_rtcp(now + one_way, addr("192.0.2.1:4001"), &t.data).unwrap();
        }
        while let Some(t) = b.poll_transmit() {
            let pkts = rtcp::parse_compound(&t.data).unwrap();
            assert!(matches!(pkts[0], RtcpPacket::Rr { .. }), "B sends nothing: RR");
            a.handle_rtcp(now + one_way, addr("192.0.2.2:4001"), &t.data).unwrap();
        }
        while let Some(e) = a.poll_event() {
            if let SessionEvent::Rtt(d) = e {
                rtt = Some(d);
            }
        }
        now += Duration::from_millis(20);
    }
    // First report within [0.5, 1.5] x 2.5 s / 1.218, then within [0.5, 1.5] x 5 s / 1.218.
    let first = times[0] - t0;
    assert!(first >= Duration::from_millis(1000) && first <= Duration::from_millis(3100), "{first:?}");
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() >= 15, "{} reports in 2 minutes", times.len());
    assert!(gaps.iter().all(|g| *g >= Duration::from_millis(2040) && *g <= Duration::from_millis(6180)), "{gaps:?}");
    assert!(gaps.iter().any(|g| *g != gaps[0]), "randomised");
    // RTT = A - LSR - DLSR: two 40 ms trips, plus up to 20 ms of our loop's step, in 1/65536 s.
    let rtt = rtt.expect("an RTT from B's report blocks");
    assert!(rtt >= Duration::from_millis(79) && rtt <= Duration::from_millis(101), "{rtt:?}");
    a.close(end, "bye");
    let last = rtcp::parse_compound(&a.poll_transmit().unwrap().data).unwrap();
    assert!(matches!(last.last(), Some(RtcpPacket::Bye { .. })));
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn port_pairs_are_even_round_robin_and_quarantined() {
    let t0 = Instant::now();
    let q = Duration::from_secs(30);
    let mut p = PortAllocator::new(10_001, 10_008, q).unwrap();
    assert_eq!(p.capacity(), 3, "10002, 10004, 10006 (10008 has no odd partner)");
    let got: Vec<u16> = (0..3).map(|_| p.allocate(t0).unwrap()).collect();
    assert_eq!(got, [10_002, 10_004, 10_006]);
    assert_eq!(p.allocate(t0), Err(PortError::Exhausted { pairs: 3 }));
    p.release(t0, 10_004);
    p.release(t0, 10_005); // odd: ignored
    assert_eq!(p.allocate(t0 + Duration::from_secs(29)), Err(PortError::Exhausted { pairs: 3 }));
    assert_eq!(p.allocate(t0 + q), Ok(10_004));
    assert_eq!(p.in_use(), 3);
    assert_eq!(
        PortAllocator::new(10_000, 10_000, q).err(),
        Some(PortError::EmptyRange { first: 10_000, last: 10_000 })
    );
    assert!(PortAllocator::new(65_534, 65_535, q).is_ok());
    assert!(PortAllocator::new(65_535, 65_535, q).is_err());
}

/// The data path the lead will wire: RTP from a session, across a jittery network, parsed by the
/// receiving session and pushed into the media thread's jitter buffer, popped every 20 ms.
#[test]
fn session_to_jitter_buffer_plays_every_frame_in_order() {
    use media_dsp::jitter::{Arrival, Config as JbConfig, JitterBuffer, Playout};
    let t0 = Instant::now();
    let mut a = RtpSession::new(cfg(Some("192.0.2.2:4000"), false), t0, 21);
    let mut b = RtpSession::new(cfg(None, true), t0, 22);
    let mut jb = JitterBuffer::new(JbConfig::default());
    let from = addr("192.0.2.1:4000");
    // 10 s of frames, each delayed 0-40 ms by a fixed pseudo-random pattern.
    let mut wire: Vec<(Instant, Vec<u8>)> = (0..500u32)
        .map(|i| {
            let sent = t0 + Duration::from_millis(u64::from(20 * i));
            let payload = [u8::try_from(i % 256).unwrap(); 160];
            a.send_audio(sent, &payload, 160, i == 0);
            let delay = Duration::from_millis(u64::from((i * 37) % 41));
            (sent + delay, a.poll_transmit().unwrap().data)
        })
        .collect();
    wire.sort_by_key(|w| w.0);
    let media_clock = |t: Instant| u32::try_from((t - t0).as_micros() * 8 / 1000).unwrap();
    let mut played = Vec::new();
    let mut out = [0u8; 480];
    let mut next = 0;
    for k in 0..560u32 {
        let now = t0 + Duration::from_millis(u64::from(20 * k) + 3);
        while next < wire.len() && wire[next].0 <= now {
            if let Ok(r) = b.handle_rtp(wire[next].0, from, &wire[next].1) {
                let arr = Arrival { ssrc: r.ssrc, seq: r.sequence, ts: r.timestamp, marker: r.marker };
                jb.push(media_clock(wire[next].0), arr, r.payload);
            }
            next += 1;
        }
        if let Playout::Frame { len, .. } = jb.pop(media_clock(now), &mut out) {
            assert_eq!(len, 160);
            played.push(out[0]);
        }
    }
    // Frame 0 is the session's probation packet; every other frame plays, in order.
    let expected: Vec<u8> = (1..500u32).map(|i| u8::try_from(i % 256).unwrap()).collect();
    assert_eq!(played, expected);
    let s = jb.stats();
    assert_eq!((s.late, s.lost), (0, 0), "{s:?}");
    assert!(s.target_delay_ms >= 30 && s.target_delay_ms <= 60, "{s:?}");
    assert!(b.source().unwrap().jitter() > 0);
}

/// RFC 4733 packets as sipp sends them: `/usr/share/sip-tester/dtmf_2833_1.pcap` from Debian's
/// sip-tester, the UDP payloads as tshark prints them. Digit 1, PT 101, volume 10, duration
/// growing by 320 every 20 ms from 0, then three identical end packets (same sequence number too).
const SIPP_DTMF_1: [&str; 10] = [
    "80e51f30000033e00e05384e010a0000",
    "80651f31000033e00e05384e010a0140",
    "80651f32000033e00e05384e010a0280",
    "80651f33000033e00e05384e010a03c0",
    "80651f34000033e00e05384e010a0500",
    "80651f35000033e00e05384e010a0640",
    "80651f36000033e00e05384e010a0780",
    "80651f37000033e00e05384e018a08c0",
    "80651f37000033e00e05384e018a08c0",
    "80651f37000033e00e05384e018a08c0",
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn sipp_dtmf_capture_gives_one_digit() {
    let t0 = Instant::now();
    let mut rx = EventReceiver::new();
    for (i, hex) in SIPP_DTMF_1.iter().enumerate() {
        let bytes = unhex(hex);
        let r = RtpRepr::parse(&bytes).unwrap();
        assert_eq!((r.payload_type, r.marker, r.timestamp, r.ssrc), (101, i == 0, 0x33e0, 0x0e05_384e));
        let p = EventPayload::parse(r.payload).unwrap();
        assert_eq!((p.event, p.volume, p.end), (1, 10, i >= 7));
        assert_eq!(p.to_bytes(), r.payload, "our emit gives sipp's bytes");
        assert_eq!(r.to_bytes(), bytes);
        rx.handle_packet(t0 + Duration::from_millis(20 * u64::try_from(i).unwrap()), r.timestamp, p);
    }
    let evs: Vec<_> = std::iter::from_fn(|| rx.poll_event()).collect();
    assert_eq!(evs, [DigitEvent::Start { event: 1 }, DigitEvent::End { event: 1, duration: 2240 }]);
}

/// The first two packets of sipp's `g711a.pcap` (Debian sip-tester): PCMA, 30 ms (240 octets,
/// all 0xd5 - A-law silence - in the capture), marker on the first.
#[test]
fn sipp_pcma_capture_headers() {
    for (hdr, marker, seq, ts) in
        [("8088e6fd000000f0dee0ee8f", true, 0xe6fd, 0xf0), ("8008e6fe000001e0dee0ee8f", false, 0xe6fe, 0x1e0)]
    {
        let mut bytes = unhex(hdr);
        bytes.extend_from_slice(&[0xd5; 240]);
        let r = RtpRepr::parse(&bytes).unwrap();
        assert_eq!((r.payload_type, r.marker, r.sequence, r.timestamp, r.ssrc), (8, marker, seq, ts, 0xdee0_ee8f));
        assert_eq!(r.payload.len(), 240);
        assert_eq!(r.to_bytes(), bytes);
    }
}

#[test]
fn packets_sent_elsewhere_make_a_sender_report_and_the_far_ends_view_is_kept() {
    let t0 = Instant::now();
    // No remote yet: the daemon learns it from the SDP answer.
    let mut a = RtpSession::new(cfg(None, false), t0, 21);
    let mut b = RtpSession::new(cfg(Some("192.0.2.1:4000"), false), t0, 22);
    a.handle_timeout(t0 + Duration::from_secs(10));
    assert!(a.poll_transmit().is_none(), "no report before the far end is known");
    a.set_remote(Some(addr("192.0.2.2:4000")), None);
    let (seq0, ts0) = (a.next_sequence(), a.next_timestamp());
    let mut now = t0;
    for i in 0..50u16 {
        // The caller builds the header itself, from the session's SSRC, sequence and timestamp.
        let repr = RtpRepr {
            marker: false,
            payload_type: 8,
            sequence: seq0.wrapping_add(i),
            timestamp: ts0.wrapping_add(u32::from(i) * 160),
            ssrc: a.ssrc(),
            csrcs: Vec::new(),
            extension: None,
            payload: &[0xd5; 160],
        };
        a.note_sent(now, repr.sequence, repr.timestamp, 160);
        // Every fifth packet is lost on the way.
        if i % 5 != 4 {
            let _ = b.handle_rtp(now, addr("192.0.2.1:4000"), &repr.to_bytes());
        }
        now += Duration::from_millis(20);
    }
    assert_eq!(a.next_sequence(), seq0.wrapping_add(50));
    assert_eq!(a.packets_sent(), 50);
    // The report skipped for want of an address set the next one 2-6 s after the first try.
    a.handle_timeout(now + Duration::from_secs(20));
    let sr = a.poll_transmit().unwrap();
    assert!(sr.rtcp);
    assert_eq!(sr.dst, addr("192.0.2.2:4001"), "RTCP on the RTP port + 1");
    match &rtcp::parse_compound(&sr.data).unwrap()[0] {
        RtcpPacket::Sr { ssrc, info, .. } => {
            assert_eq!(*ssrc, a.ssrc());
            assert_eq!((info.packets, info.octets), (50, 8000));
        }
        p => panic!("we sent: SR expected, got {p:?}"),
    }
    b.handle_timeout(now + Duration::from_secs(10));
    let rr = b.poll_transmit().unwrap();
    assert!(a.remote_report().is_none());
    a.handle_rtcp(now, addr("192.0.2.2:4001"), &rr.data).unwrap();
    let view = a.remote_report().expect("B's report block about our stream");
    assert_eq!(view.ssrc, a.ssrc());
    // B saw the first two on probation and then lost every fifth one: 9 of the 48 it expected.
    assert_eq!(view.cumulative_lost, 9, "{view:?}");
    assert!(view.fraction_lost > 0);
}
