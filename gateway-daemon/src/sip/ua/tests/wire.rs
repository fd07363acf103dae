//! Single endpoints fed byte vectors: what sipp and baresip send, requests we refuse, malformed
//! ones, rport.

use std::time::Instant;

use super::*;

pub(super) fn wire(text: &str) -> Vec<u8> {
    let crlf = text.replace('\n', "\r\n");
    let body_len = crlf.find("\r\n\r\n").map_or(0, |i| crlf.len() - i - 4);
    crlf.replace("{CL}", &body_len.to_string()).into_bytes()
}

/// An endpoint trusting 127.0.0.1 (sipp and baresip run there) and what it answers to one
/// request.
fn answer_to(req: &str) -> (SipEndpoint, Vec<Message>) {
    let t0 = Instant::now();
    let mut ep = endpoint(t0, "127.0.0.1:5060", "127.0.0.1:5070", 9, TrunkConfig::default());
    ep.handle_input(t0, Transport::Udp, addr("127.0.0.1:5070"), &wire(req));
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit() {
        assert_eq!(t.dst, addr("127.0.0.1:5070"));
        out.push(Message::parse(&t.bytes).unwrap());
    }
    (ep, out)
}

const OPTS: &str = "OPTIONS sip:gw@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-o1\nFrom: <sip:t@127.0.0.1>;tag=a\nTo: <sip:gw@127.0.0.1>\nCall-ID: o1\nCSeq: 1 OPTIONS\nMax-Forwards: 70\n{EXTRA}Content-Length: 0\n\n";

fn opts(method: &str, extra: &str) -> String {
    OPTS.replace("OPTIONS", method).replace("{EXTRA}", extra)
}

#[test]
fn options_to_us_lists_what_we_do() {
    let (_, out) = answer_to(&opts("OPTIONS", ""));
    assert_eq!(out[0].status(), Some(200));
    assert_eq!(out[0].header("allow"), Some(ALLOW));
    assert_eq!(out[0].header("accept"), Some(ACCEPT));
    assert!(out[0].header("supported").is_some());
    assert!(out[0].to().unwrap().tag().is_some());
}

#[test]
fn refusals_420_501_483_482_405_505() {
    let (_, out) = answer_to(&opts("INVITE", "Require: 100rel, timer\n"));
    assert_eq!(out[0].status(), Some(420));
    assert_eq!(out[0].header("unsupported"), Some("100rel, timer"));
    let (_, out) = answer_to(&opts("FROBNICATE", ""));
    assert_eq!(out[0].status(), Some(501));
    assert_eq!(out[0].header("allow"), Some(ALLOW));
    let (_, out) = answer_to(&opts("INVITE", "").replace("Max-Forwards: 70", "Max-Forwards: 0"));
    assert_eq!(out[0].status(), Some(483));
    let (_, out) = answer_to(&opts("OPTIONS", "").replace("Max-Forwards: 70", "Max-Forwards: 0"));
    assert_eq!(out[0].status(), Some(200), "OPTIONS with Max-Forwards 0 is for us (§11)");
    let (_, out) = answer_to(&opts("INVITE", "Contact: *\n"));
    assert_eq!(out[0].status(), Some(400));
    let (_, out) = answer_to(&opts("SUBSCRIBE", ""));
    assert_eq!(out[0].status(), Some(405));
    let (ep, out) = answer_to(&opts("BYE", "").replace("SIP/2.0\nVia", "SIP/3.0\nVia"));
    assert_eq!(out[0].status(), Some(505));
    assert_eq!(ep.counters().refused, 1);
    // Our own branch coming back is a loop.
    let t0 = Instant::now();
    let mut ep = endpoint(t0, "127.0.0.1:5060", "127.0.0.1:5070", 9, TrunkConfig::default());
    ep.invite(t0, 0, "1", "2", None).unwrap();
    let mine = ep.poll_transmit().unwrap();
    ep.handle_input(t0, Transport::Udp, addr("127.0.0.1:5070"), &mine.bytes);
    let resp = Message::parse(&ep.poll_transmit().unwrap().bytes).unwrap();
    assert_eq!(resp.status(), Some(482));
}

#[test]
fn malformed_gets_400_and_costs_nothing_else() {
    // No Call-ID: answerable; the next call works.
    let bad = opts("INVITE", "").replace("Call-ID: o1\n", "");
    let t0 = Instant::now();
    let mut ep = endpoint(t0, "127.0.0.1:5060", "127.0.0.1:5070", 9, TrunkConfig::default());
    ep.handle_input(t0, Transport::Udp, addr("127.0.0.1:5070"), &wire(&bad));
    // The 400 copies what the request had; without a Call-ID it cannot carry one.
    let r = ep.poll_transmit().unwrap();
    assert!(r.bytes.starts_with(b"SIP/2.0 400 Bad Request"), "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(ep.poll_event(), None);
    assert_eq!(ep.counters().bad_requests, 1);
    ep.handle_input(t0, Transport::Udp, addr("127.0.0.1:5070"), b"\x00\xffgarbage");
    assert_eq!(ep.counters().garbage, 1);
    assert!(ep.poll_transmit().is_none());
    ep.handle_input(t0, Transport::Udp, addr("127.0.0.1:5070"), &wire(&opts("INVITE", "")));
    assert!(matches!(ep.poll_event(), Some(SipEvent::IncomingCall { .. })));
    assert_eq!(ep.poll_timeout(), Some(t0 + Duration::from_millis(200)));
}

#[test]
fn rport_answered_to_source_port() {
    let t0 = Instant::now();
    let mut ep = endpoint(t0, "127.0.0.1:5060", "127.0.0.1:5070", 9, TrunkConfig::default());
    let req = opts("OPTIONS", "").replace("branch=z9hG4bK-o1", "branch=z9hG4bK-o1;rport");
    ep.handle_input(t0, Transport::Udp, addr("127.0.0.1:40000"), &wire(&req));
    let t = ep.poll_transmit().unwrap();
    assert_eq!(t.dst, addr("127.0.0.1:40000"), "RFC 3581: back to the source port");
    let via = Message::parse(&t.bytes).unwrap().vias().remove(0);
    assert_eq!(via.rport(), Some(Some(40000)));
    assert_eq!(via.received(), Some("127.0.0.1"));
    // Without rport: to the Via port.
    ep.handle_input(t0, Transport::Udp, addr("127.0.0.1:40000"), &wire(&opts("OPTIONS", "").replace("o1", "o2")));
    assert_eq!(ep.poll_transmit().unwrap().dst, addr("127.0.0.1:5070"));
}

/// sipp 3.6.1's `uac` scenario: INVITE, then ACK and BYE with our To tag.
pub(super) const SIPP_INVITE: &str = "INVITE sip:1234@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-4242-1-0\nFrom: sipp <sip:sipp@127.0.0.1:5070>;tag=4242SIPpTag001\nTo: 1234 <sip:1234@127.0.0.1:5060>\nCall-ID: 1-4242@127.0.0.1\nCSeq: 1 INVITE\nContact: sip:sipp@127.0.0.1:5070\nMax-Forwards: 70\nSubject: Performance Test\nContent-Type: application/sdp\nContent-Length:   {CL}\n\nv=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
const SIPP_ACK: &str = "ACK sip:1234@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-4242-1-5\nFrom: sipp <sip:sipp@127.0.0.1:5070>;tag=4242SIPpTag001\nTo: 1234 <sip:1234@127.0.0.1:5060>;tag={TAG}\nCall-ID: 1-4242@127.0.0.1\nCSeq: 1 ACK\nContact: sip:sipp@127.0.0.1:5070\nMax-Forwards: 70\nSubject: Performance Test\nContent-Length: 0\n\n";
const SIPP_BYE: &str = "BYE sip:1234@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-4242-1-7\nFrom: sipp <sip:sipp@127.0.0.1:5070>;tag=4242SIPpTag001\nTo: 1234 <sip:1234@127.0.0.1:5060>;tag={TAG}\nCall-ID: 1-4242@127.0.0.1\nCSeq: 2 BYE\nContact: sip:sipp@127.0.0.1:5070\nMax-Forwards: 70\nSubject: Performance Test\nContent-Length: 0\n\n";

#[test]
fn sipp_uac_call() {
    let (mut ep, out) = answer_to(SIPP_INVITE);
    assert!(out.is_empty(), "100 Trying waits 200 ms for the TU");
    let t0 = Instant::now();
    let Some(SipEvent::IncomingCall { handle, from_display, offer, .. }) = ep.poll_event() else { panic!() };
    assert_eq!(from_display.as_deref(), Some("sipp"));
    let offer = offer.unwrap();
    let local = local_media("127.0.0.1", 7000, 5);
    let (ans, neg) = offer_answer::answer(&offer, &CodecPrefs::default(), &local).unwrap();
    assert_eq!(neg.remote, Some(addr("127.0.0.1:6000")));
    ep.answer(t0, handle, Some(&ans));
    let ok = Message::parse(&ep.poll_transmit().unwrap().bytes).unwrap();
    let src = addr("127.0.0.1:5070");
    ep.handle_input(t0, Transport::Udp, src, &wire(SIPP_INVITE));
    assert_eq!(ep.poll_event(), None, "a late copy of the INVITE is no new call");
    assert_eq!(Message::parse(&ep.poll_transmit().unwrap().bytes).unwrap(), ok, "it gets the 200 again");
    assert_eq!(ok.status(), Some(200));
    assert_eq!(ok.header("contact"), Some("<sip:1234@127.0.0.1:5060>"));
    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    ep.handle_input(t0, Transport::Udp, src, &wire(&SIPP_ACK.replace("{TAG}", &tag)));
    ep.handle_timeout(t0 + Duration::from_secs(1));
    assert!(ep.poll_transmit().is_none(), "the ACK stopped the 2xx retransmission");
    // The INVITE again once acknowledged: nothing to resend, no 100 Trying, no new call.
    ep.handle_input(t0, Transport::Udp, src, &wire(SIPP_INVITE));
    assert_eq!(ep.poll_event(), None);
    ep.handle_timeout(t0 + Duration::from_secs(2));
    assert!(ep.poll_transmit().is_none());
    ep.handle_input(t0, Transport::Udp, src, &wire(&SIPP_BYE.replace("{TAG}", &tag)));
    let r = Message::parse(&ep.poll_transmit().unwrap().bytes).unwrap();
    assert_eq!((r.status(), r.cseq().unwrap().to_string()), (Some(200), "2 BYE".to_owned()));
    assert!(matches!(ep.poll_event(), Some(SipEvent::Ended { status: None, cause: 16, by_remote: true, .. })));
    // sipp's BYE again (its timer E): the transaction answers, no 481, no second Ended.
    ep.handle_input(t0, Transport::Udp, src, &wire(&SIPP_BYE.replace("{TAG}", &tag)));
    assert_eq!(Message::parse(&ep.poll_transmit().unwrap().bytes).unwrap().status(), Some(200));
    assert_eq!(ep.poll_event(), None);
}

/// baresip 1.0.0: rport, a Contact with a user part that is not the From user.
const BARESIP_INVITE: &str = "INVITE sip:1234@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK0c8a1e5d4b7f2a39;rport\nContact: <sip:5678-0x55bb34d7c1a0@127.0.0.1:5070>\nMax-Forwards: 70\nTo: <sip:1234@127.0.0.1:5060>\nFrom: <sip:5678@127.0.0.1>;tag=63c2d9a0f1b847e5\nCall-ID: 7e4f3a2b1c0d9e8f\nCSeq: 24816 INVITE\nSupported: replaces,norefersub\nAllow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,REFER\nUser-Agent: baresip v1.0.0 (x86_64/linux)\nContent-Length: 0\n\n";

#[test]
fn baresip_call_then_we_hang_up_to_its_contact() {
    let (mut ep, _) = answer_to(BARESIP_INVITE);
    let t0 = Instant::now();
    let Some(SipEvent::IncomingCall { handle, from_user, .. }) = ep.poll_event() else { panic!() };
    assert_eq!(from_user.as_deref(), Some("5678"));
    ep.answer(t0, handle, None);
    let ok = Message::parse(&ep.poll_transmit().unwrap().bytes).unwrap();
    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    let ack = format!("ACK sip:1234@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK77;rport\nMax-Forwards: 70\nTo: <sip:1234@127.0.0.1:5060>;tag={tag}\nFrom: <sip:5678@127.0.0.1>;tag=63c2d9a0f1b847e5\nCall-ID: 7e4f3a2b1c0d9e8f\nCSeq: 24816 ACK\nContent-Length: 0\n\n");
    ep.handle_input(t0, Transport::Udp, addr("127.0.0.1:5070"), &wire(&ack));
    ep.hangup(t0, handle, Some(16));
    let bye = ep.poll_transmit().unwrap();
    assert_eq!(bye.dst, addr("127.0.0.1:5070"));
    let bye = Message::parse(&bye.bytes).unwrap();
    assert!(bye.to_string().starts_with("BYE sip:5678-0x55bb34d7c1a0@127.0.0.1:5070 "), "{bye}");
    assert_eq!(bye.cseq().unwrap().seq, 1);
    assert_eq!(bye.q850_reason().unwrap().q850_cause(), Some(16));
}
