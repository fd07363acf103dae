//! The media re-INVITE on virtual time: the machine alone (glare waits, busy dialog), and driven
//! through two real `SipEndpoint`s whose messages a small harness carries (200 -> ACK, 491 glare
//! and the retry, 488 keeping the call).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::sip::message::Message;
use crate::sip::offer_answer::{self, CodecPrefs, LocalMedia};
use crate::sip::sdp::Direction;
use crate::sip::ua::{EndpointConfig, Handle, SipEndpoint, SipEvent, TrunkConfig};

const A: &str = "10.0.0.1:5060";
const B: &str = "10.0.0.2:5060";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

fn local(port: u16, id: u64, version: u64) -> LocalMedia {
    LocalMedia {
        addr: "10.0.0.9".parse().expect("ip"),
        port,
        session_id: id,
        session_version: version,
        direction: Direction::SendRecv,
    }
}

fn endpoint(now: Instant, me: &str, peer: &str, seed: u64) -> SipEndpoint {
    let trunk = TrunkConfig { name: "peer".into(), addr: addr(peer), ..TrunkConfig::default() };
    SipEndpoint::new(
        now,
        EndpointConfig { local_addr: addr(me), seed, trunks: vec![trunk], ..EndpointConfig::default() },
    )
}

/// A (the gateway) and B (the PBX), what each said, and every message's first line on the wire.
struct Net {
    now: Instant,
    a: SipEndpoint,
    b: SipEndpoint,
    ev_a: Vec<SipEvent>,
    ev_b: Vec<SipEvent>,
    wire: Vec<(bool, String)>,
}

impl Net {
    fn new() -> Net {
        let now = Instant::now();
        Net { now, a: endpoint(now, A, B, 1), b: endpoint(now, B, A, 2), ev_a: vec![], ev_b: vec![], wire: vec![] }
    }

    fn flush(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit() {
                moved = true;
                self.wire.push((true, first_line(&t.bytes)));
                self.b.handle_input(self.now, t.transport, addr(A), &t.bytes);
            }
            while let Some(t) = self.b.poll_transmit() {
                moved = true;
                self.wire.push((false, first_line(&t.bytes)));
                self.a.handle_input(self.now, t.transport, addr(B), &t.bytes);
            }
            self.ev_a.extend(std::iter::from_fn(|| self.a.poll_event()));
            self.ev_b.extend(std::iter::from_fn(|| self.b.poll_event()));
            if !moved {
                break;
            }
        }
    }

    /// Runs both endpoints' timers up to `now + d`.
    fn run(&mut self, d: Duration) {
        let end = self.now + d;
        self.flush();
        while let Some(t) = [self.a.poll_timeout(), self.b.poll_timeout()].into_iter().flatten().min() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
            self.flush();
        }
        self.now = end;
    }

    /// A calls B (PCMU first, then PCMA) and B answers PCMU: (A's handle, B's handle).
    fn call_up(&mut self) -> (Handle, Handle) {
        let prefs = CodecPrefs { codecs: vec![Codec::Pcmu, Codec::Pcma], ..CodecPrefs::default() };
        let offer = offer_answer::build_offer(&prefs, &local(4000, 77, 1));
        let ha = self.a.invite(self.now, 0, "100", "200", Some(&offer)).expect("INVITE");
        self.flush();
        let hb = self
            .ev_b
            .iter()
            .find_map(|e| match e {
                SipEvent::IncomingCall { handle, .. } => Some(*handle),
                _ => None,
            })
            .expect("B has the call");
        let (answer, _) = offer_answer::answer(&offer, &prefs, &local(5000, 9, 1)).expect("answer");
        assert!(self.b.answer(self.now, hb, Some(&answer)));
        self.run(Duration::from_secs(1));
        (ha, hb)
    }

    /// Sends `r`'s offer from A when due, as sipnet does.
    fn drive(&mut self, r: &mut MediaReinvite, ha: Handle) {
        if let Some(offer) = r.poll_send(self.now).cloned() {
            let taken = self.a.reinvite(self.now, ha, &offer);
            r.sent(self.now, taken);
        }
        self.flush();
    }

    /// A's final answers to re-INVITEs, taken out of its events.
    fn take_done(&mut self) -> Vec<(u16, Option<SessionDescription>)> {
        let mut done = Vec::new();
        self.ev_a.retain(|e| match e {
            SipEvent::ReinviteDone { status, sdp, .. } => {
                done.push((*status, sdp.clone()));
                false
            }
            _ => true,
        });
        done
    }

    /// B's received re-INVITE offers, taken out of its events.
    fn take_offers(&mut self) -> Vec<SessionDescription> {
        let mut offers = Vec::new();
        self.ev_b.retain(|e| match e {
            SipEvent::OfferChanged { offer, .. } => {
                offers.extend(offer.clone());
                false
            }
            _ => true,
        });
        offers
    }

    fn count(&self, from_a: bool, start: &str) -> usize {
        self.wire.iter().filter(|(a, l)| *a == from_a && l.starts_with(start)).count()
    }
}

fn first_line(bytes: &[u8]) -> String {
    let m = Message::parse(bytes).expect("we send what parses");
    let t = String::from_utf8_lossy(bytes);
    let line = t.lines().next().unwrap_or_default().to_owned();
    format!("{line} / {}", m.cseq().map(|c| c.to_string()).unwrap_or_default())
}

fn fax_offer() -> (SessionDescription, CodecPrefs) {
    pcma_offer(&local(4000, 77, 2), Some(101), 20)
}

/// The offer is the same session (o= id kept, version + 1 from the caller's figures), PCMA and
/// telephone-event only, at the leg's address and port.
#[test]
fn the_fax_offer_is_pcma_only_in_the_same_session() {
    let (sd, prefs) = fax_offer();
    assert_eq!((sd.origin.session_id, sd.origin.session_version), (77, 2));
    assert_eq!(sd.media.len(), 1);
    assert_eq!(sd.media[0].port, 4000);
    assert_eq!(sd.media[0].formats, ["8", "101"]);
    let text = String::from_utf8(sd.to_bytes()).expect("utf-8");
    assert!(text.contains("a=rtpmap:8 PCMA/8000"), "{text}");
    assert!(!text.contains("PCMU") && !text.contains("G722"), "{text}");
    assert_eq!(prefs.codecs, [Codec::Pcma]);
    let (sd, _) = pcma_offer(&local(4000, 77, 2), None, 30);
    assert_eq!(sd.media[0].formats, ["8"], "no telephone-event where the call has none");
    assert_eq!(sd.media[0].ptime(), Some(30));
}

/// §14.1: the Call-ID's owner waits 2.1-4 s, the other side 0-2 s, in 10 ms units; the waits
/// vary (a fixed wait would glare again); after `MAX_GLARES` 491s it gives up.
#[test]
fn glare_waits_follow_rfc_3261_14_1_and_end() {
    let now = Instant::now();
    for (owner, lo, hi) in [(true, 2100, 4000), (false, 0, 2000)] {
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..50u64 {
            let (offer, prefs) = fax_offer();
            let mut r = MediaReinvite::new(now, offer, prefs, owner, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            r.sent(now, true);
            r.on_final(now, 491, None);
            let State::Glare { at } = *r.state() else { panic!("{:?}", r.state()) };
            let ms = (at - now).as_millis();
            assert!((lo..=hi).contains(&ms) && ms % 10 == 0, "owner {owner}: {ms} ms");
            assert_eq!(r.poll_timeout(), Some(at));
            assert!(r.poll_send(at - Duration::from_millis(1)).is_none() && r.poll_send(at).is_some());
            seen.insert(ms);
        }
        assert!(seen.len() > 10, "owner {owner}: the waits hardly vary: {seen:?}");
    }
    let (offer, prefs) = fax_offer();
    let mut r = MediaReinvite::new(now, offer, prefs, true, 5);
    for _ in 0..MAX_GLARES {
        r.sent(now, true);
        r.on_final(now, 491, None);
        assert!(matches!(r.state(), State::Glare { .. }));
    }
    r.sent(now, true);
    r.on_final(now, 491, None);
    assert_eq!(*r.state(), State::Failed { status: 491 });
    assert!(r.finished() && r.poll_timeout().is_none());
    assert_eq!(r.sent, MAX_GLARES + 1);
}

/// A dialog that cannot take a re-INVITE (not answered yet, another one open) is tried every
/// `BUSY_WAIT`, `MAX_BUSY` times, then given up with status 0; a final response while nothing
/// was sent is ignored.
#[test]
fn a_busy_dialog_is_retried_then_given_up() {
    let now = Instant::now();
    let (offer, prefs) = fax_offer();
    let mut r = MediaReinvite::new(now, offer, prefs, false, 1);
    r.on_final(now, 200, None);
    assert_eq!(*r.state(), State::Pending { at: now }, "a stray final changes nothing");
    let mut t = now;
    for _ in 0..MAX_BUSY {
        assert!(r.poll_send(t).is_some());
        r.sent(t, false);
        assert_eq!(*r.state(), State::Pending { at: t + BUSY_WAIT });
        t += BUSY_WAIT;
    }
    r.sent(t, false);
    assert_eq!(*r.state(), State::Failed { status: 0 });
    assert_eq!(r.sent, 0);
}

/// Through two endpoints: the re-INVITE reaches B with the PCMA-only offer, B answers 200 with
/// PCMA, A acknowledges it (one ACK for CSeq 2) and the machine holds the negotiated PCMA.
#[test]
fn a_200_with_pcma_is_acknowledged_and_accepted() {
    let mut n = Net::new();
    let (ha, hb) = n.call_up();
    let (offer, prefs) = fax_offer();
    let mut r = MediaReinvite::new(n.now, offer, prefs, true, 3);
    n.drive(&mut r, ha);
    assert_eq!(*r.state(), State::Sent);
    let offers = n.take_offers();
    assert_eq!(offers.len(), 1, "B got the re-INVITE");
    assert_eq!(offers[0].media[0].formats, ["8", "101"]);
    assert_eq!((offers[0].origin.session_id, offers[0].origin.session_version), (77, 2));
    let pbx = CodecPrefs { codecs: vec![Codec::Pcmu, Codec::Pcma], ..CodecPrefs::default() };
    let (answer, _) = offer_answer::answer(&offers[0], &pbx, &local(5000, 9, 2)).expect("B takes PCMA");
    assert!(n.b.answer(n.now, hb, Some(&answer)));
    n.run(Duration::from_secs(1));
    let done = n.take_done();
    assert_eq!(done.len(), 1, "{done:?}");
    r.on_final(n.now, done[0].0, done[0].1.as_ref());
    let State::Accepted { negotiated } = r.state() else { panic!("{:?}", r.state()) };
    assert_eq!((negotiated.codec, negotiated.pt, negotiated.telephone_event), (Codec::Pcma, 8, Some(101)));
    assert_eq!(n.count(true, "ACK"), 2, "the call's ACK and the re-INVITE's: {:?}", n.wire);
    assert!(n.wire.iter().any(|(a, l)| *a && l.starts_with("ACK") && l.ends_with("2 ACK")), "{:?}", n.wire);
    assert!(!n.ev_a.iter().any(|e| matches!(e, SipEvent::Ended { .. })), "the call goes on");
}

/// Glare: B re-INVITEs at the same moment; both get 491 (§14.2). A waits its §14.1 time, sends
/// again, B (free again) answers 200 and the machine accepts.
#[test]
fn glare_then_retry_succeeds() {
    let mut n = Net::new();
    let (ha, hb) = n.call_up();
    let (offer, prefs) = fax_offer();
    let mut r = MediaReinvite::new(n.now, offer, prefs, true, 11);
    let hold = offer_answer::build_offer(&CodecPrefs::default(), &local(5000, 9, 2));
    assert!(n.b.reinvite(n.now, hb, &hold));
    n.drive(&mut r, ha);
    n.run(Duration::from_millis(100));
    let done = n.take_done();
    assert_eq!(done.iter().map(|d| d.0).collect::<Vec<_>>(), [491]);
    r.on_final(n.now, 491, None);
    let State::Glare { at } = *r.state() else { panic!("{:?}", r.state()) };
    assert!(at - n.now >= Duration::from_millis(2000), "the Call-ID's owner waits at least 2.1 s");
    n.take_offers();
    n.run(at - n.now);
    n.drive(&mut r, ha);
    assert_eq!(r.sent, 2);
    let offers = n.take_offers();
    assert_eq!(offers.len(), 1, "the retry reached B");
    let (answer, _) = offer_answer::answer(&offers[0], &CodecPrefs::default(), &local(5000, 9, 3)).expect("answer");
    assert!(n.b.answer(n.now, hb, Some(&answer)));
    n.run(Duration::from_secs(1));
    let done = n.take_done();
    assert_eq!(done.len(), 1);
    r.on_final(n.now, done[0].0, done[0].1.as_ref());
    assert!(matches!(r.state(), State::Accepted { negotiated } if negotiated.codec == Codec::Pcma));
}

/// 488 from B: given up with 488, and the call itself is untouched (no BYE, no Ended).
#[test]
fn a_488_keeps_the_call() {
    let mut n = Net::new();
    let (ha, hb) = n.call_up();
    let (offer, prefs) = fax_offer();
    let mut r = MediaReinvite::new(n.now, offer, prefs, false, 4);
    n.drive(&mut r, ha);
    assert_eq!(n.take_offers().len(), 1);
    assert!(n.b.reject(n.now, hb, 488, None));
    n.run(Duration::from_secs(1));
    let done = n.take_done();
    assert_eq!(done.iter().map(|d| d.0).collect::<Vec<_>>(), [488]);
    r.on_final(n.now, 488, None);
    assert_eq!(*r.state(), State::Failed { status: 488 });
    assert_eq!(n.count(true, "BYE") + n.count(false, "BYE"), 0);
    assert!(!n.ev_a.iter().chain(&n.ev_b).any(|e| matches!(e, SipEvent::Ended { .. })), "the call goes on");
}
