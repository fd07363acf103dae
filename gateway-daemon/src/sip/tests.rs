//! Message-level tests: RFC 4475 torture messages, what sipp and baresip send, round trips,
//! and no panic on truncations, mutations and random bytes.
//!
//! The messages are written with `\n` line ends in the source; [`wire`] turns them into CRLF
//! and fills `{CL}` with the body length, so each test states its bytes readably.

use super::header::Method;
use super::message::{ErrorKind, Message, StartLine};
use super::sdp::SessionDescription;
use super::uri::{Host, Uri};
use super::{Contacts, StreamFramer};

/// CRLF line ends; `{CL}` becomes the length of the body after the first empty line.
fn wire(text: &str) -> Vec<u8> {
    let crlf = text.replace('\n', "\r\n");
    let body_len = crlf.find("\r\n\r\n").map_or(0, |i| crlf.len() - i - 4);
    crlf.replace("{CL}", &body_len.to_string()).into_bytes()
}

const SDP_4475: &str = "v=0\no=mhandley 29739 7272939 IN IP4 192.0.2.3\ns=-\nc=IN IP4 192.0.2.4\nt=0 0\nm=audio 49217 RTP/AVP 0 12\nm=video 3227 RTP/AVP 31\na=rtpmap:31 LPC\n";

/// RFC 4475 §3.1.1.1 "wsinv": odd whitespace, folding, compact forms, case, unknown headers.
fn wsinv() -> Vec<u8> {
    let head = "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\nTO :\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\nfrom   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\n  ;\n  tag = 98asjd8\nMaX-fOrWaRdS: 0068\nCall-ID: wsinv.ndaksdj@192.0.2.1\nContent-Length   : {CL}\ncseq: 0009\n  INVITE\nVia  : SIP  /   2.0\n /UDP\n    192.0.2.2;branch=390skdjuw\ns :\nNewFangledHeader:   newfangled value\n continued newfangled value\nUnknownHeaderWithUnusualValue: ;;,,;;,;\nContent-Type: application/sdp\nRoute:\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\nv:  SIP  / 2.0  / TCP     spindle.example.com   ;\n  branch  =   z9hG4bK9ikj8  ,\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\n z9hG4bK30239\nm:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\n      newvalue ;\n  secondparam ; q = 0.33\n\n";
    wire(&format!("{head}{SDP_4475}"))
}

/// RFC 4475 §3.1.1.2 "intmeth": every token character in method, branch and Call-ID.
const INTMETH: &str = "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\nVia: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\nTo: \"BEL:\\\u{7} NUL:\\\u{0} DEL:\\\u{7f}\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>\nFrom: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\u{440}\u{430}\u{431}\u{43e}\u{442}\u{430}\u{44e}\u{449}\u{438}\u{439}\";tag=_token~1'+`*%!-.\nCall-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\nCSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\nMax-Forwards: 255\nextensionHeader-!.%*+_`'~:\u{feff}\u{1f600}\nContent-Length: 0\n\n";

/// RFC 4475 §3.1.1.3 "esc01": escapes in URIs.
const ESC01: &str = "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\nTo: sip:%75se%72@example.com\nFrom: <sip:I%20have%20spaces@example.net>;tag=938\nMax-Forwards: 87\ni: esc01.239409asdfakjkn23onasd0-3234\nCSeq: 234234 INVITE\nVia: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw\nC: application/sdp\nContact:\n  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>\nContent-Length: 0\n\n";

/// RFC 4475 §3.1.1.4 "escnull": %00 in URIs.
const ESCNULL: &str = "REGISTER sip:example.com SIP/2.0\nTo: sip:null-%00-null@example.com\nFrom: sip:null-%00-null@example.com;tag=839923423\nMax-Forwards: 70\nCall-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd\nCSeq: 14398234 REGISTER\nVia: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw\nContact: <sip:%00@host5.example.com>\nContact: <sip:%00%00@host5.example.com>\nL:0\n\n";

/// RFC 4475 §3.1.1.5 "esc02": an escaped method is an extension method, not REGISTER.
const ESC02: &str = "RE%47IST%45R sip:registrar.example.com SIP/2.0\nTo: \"%Z%45\" <sip:resource@example.com>\nFrom: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23\nCall-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf\nVia: SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK209%fzsnel234\nCSeq: 29344 RE%47IST%45R\nMax-Forwards: 70\nContact: <sip:alias1@host1.example.com>\nC%6Fntact: <sip:alias2@host2.example.com>\nContact: <sip:alias3@host3.example.com>\nl: 0\n\n";

/// RFC 4475 §3.1.1.6 "lwsdisp": no space between display name and `<`.
const LWSDISP: &str = "OPTIONS sip:user@example.com SIP/2.0\nTo: sip:user@example.com\nFrom: caller<sip:caller@example.com>;tag=323\nMax-Forwards: 70\nCall-ID: lwsdisp.1234abcd@funky.example.com\nCSeq: 60 OPTIONS\nVia: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw\nl: 0\n\n";

/// RFC 4475 §3.1.1.8 "dblreq": two requests in one datagram; the second is dropped (§18.3).
const DBLREQ: &str = "REGISTER sip:example.com SIP/2.0\nTo: sip:j.user@example.com\nFrom: sip:j.user@example.com;tag=43251j3j324\nMax-Forwards: 8\nI: dblreq.0ha0isndaksdj99sdfafnl3lk233412\nContact: sip:j.user@host.example.com\nCSeq: 8 REGISTER\nVia: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492\nContent-Length: 0\n\nINVITE sip:joe@example.com SIP/2.0\nt: sip:joe@example.com\nFrom: sip:caller@example.net;tag=141334\nMax-Forwards: 8\nCall-ID: dblreq.0ha0isnda977644900765@192.0.2.15\nCSeq: 8 INVITE\nVia: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234\nContent-Length: 0\n\n";

/// RFC 4475 §3.1.1.9 "semiuri": a semicolon in the user part.
const SEMIURI: &str = "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\nTo: sip:j_user@example.com\nFrom: sip:caller@example.org;tag=33242\nMax-Forwards: 3\nCall-ID: semiuri.0ha0isndaksdj\nCSeq: 8 OPTIONS\nAccept: application/sdp, application/pkcs7-mime,\n        multipart/mixed, multipart/signed,\n        message/sip, message/sipfrag\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw\nl: 0\n\n";

/// RFC 4475 §3.1.1.10 "transports": Via with several transports, one unknown.
const TRANSPORTS: &str = "OPTIONS sip:user@example.com SIP/2.0\nTo: sip:user@example.com\nFrom: <sip:caller@example.com>;tag=323\nMax-Forwards: 70\nCall-ID:  transports.kijh4akdnaqjkwendsasfdj\nAccept: application/sdp\nCSeq: 60 OPTIONS\nVia: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw\nVia: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf\nVia: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj\nVia: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en\nVia: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee\nl: 0\n\n";

/// RFC 4475 §3.1.1.12 "unreason": a UTF-8 reason phrase.
const UNREASON: &str = "SIP/2.0 200 = 2**3 * 5**2 \u{43d}\u{43e} \u{441}\u{442}\u{43e} \u{434}\u{435}\u{432}\u{44f}\u{43d}\u{43e}\u{441}\u{442}\u{43e} \u{434}\u{435}\u{432}\u{44f}\u{442}\u{44c} - \u{43f}\u{440}\u{43e}\u{441}\u{442}\u{43e}\u{435}\nVia: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923\nCall-ID: unreason.1234ksdfak3j2erwedfsASdf\nCSeq: 35 INVITE\nFrom: sip:user@example.com;tag=11141343\nTo: sip:user@example.edu;tag=2229\nContent-Length: 0\nContact: <sip:user@host198.example.com>\n\n";

/// RFC 4475 §3.1.1.13 "noreason": an empty reason phrase.
const NOREASON: &str = "SIP/2.0 100 \nVia: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\nCall-ID: noreason.asndj203insdf99223ndf\nCSeq: 35 INVITE\nFrom: <sip:user@example.com>;tag=39ansfi3\nTo: <sip:user@example.edu>;tag=902jndnke3\nContent-Length: 0\nContact: <sip:user@host105.example.com>\n\n";

/// RFC 4475 §3.3.1 "unkscm" (a scheme we don't know parses; the stack answers 416) and
/// §3.1.2.16 "badvers" (SIP/7.0 parses; the stack answers 505).
const UNKSCM: &str = "OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0\nTo: sip:user@example.com\nFrom: sip:caller@example.net;tag=384\nMax-Forwards: 3\nCall-ID: unkscm.nasdfasser0q239nwsdfasdkl34\nCSeq: 3923423 OPTIONS\nVia: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234\nContent-Length: 0\n\n";
const BADVERS: &str = "OPTIONS sip:t.watson@example.org SIP/7.0\nVia:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\nMax-Forwards:     70\nFrom:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\nTo:      T. Watson <sip:t.watson@example.org>\nCall-ID: badvers.31417@c.example.com\nCSeq:    1 OPTIONS\nl: 0\n\n";

/// sipp 3.6.1's built-in `uac` scenario: INVITE, then ACK and BYE; and `uas`'s 200.
const SIPP_INVITE: &str = "INVITE sip:1234@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-4242-1-0\nFrom: sipp <sip:sipp@127.0.0.1:5070>;tag=4242SIPpTag001\nTo: 1234 <sip:1234@127.0.0.1:5060>\nCall-ID: 1-4242@127.0.0.1\nCSeq: 1 INVITE\nContact: sip:sipp@127.0.0.1:5070\nMax-Forwards: 70\nSubject: Performance Test\nContent-Type: application/sdp\nContent-Length:   {CL}\n\nv=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
const SIPP_200: &str = "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-4242-1-0\nFrom: sipp <sip:sipp@127.0.0.1:5070>;tag=4242SIPpTag001\nTo: 1234 <sip:1234@127.0.0.1:5060>;tag=4243SIPpTag011\nCall-ID: 1-4242@127.0.0.1\nCSeq: 1 INVITE\nContact: <sip:127.0.0.1:5060;transport=UDP>\nContent-Type: application/sdp\nContent-Length:   {CL}\n\nv=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
const SIPP_ACK: &str = "ACK sip:127.0.0.1:5060;transport=UDP SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-4242-1-5\nFrom: sipp <sip:sipp@127.0.0.1:5070>;tag=4242SIPpTag001\nTo: 1234 <sip:1234@127.0.0.1:5060>;tag=4243SIPpTag011\nCall-ID: 1-4242@127.0.0.1\nCSeq: 1 ACK\nContact: sip:sipp@127.0.0.1:5070\nMax-Forwards: 70\nSubject: Performance Test\nContent-Length: 0\n\n";
const SIPP_BYE: &str = "BYE sip:127.0.0.1:5060;transport=UDP SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-4242-1-7\nFrom: sipp <sip:sipp@127.0.0.1:5070>;tag=4242SIPpTag001\nTo: 1234 <sip:1234@127.0.0.1:5060>;tag=4243SIPpTag011\nCall-ID: 1-4242@127.0.0.1\nCSeq: 2 BYE\nContact: sip:sipp@127.0.0.1:5070\nMax-Forwards: 70\nSubject: Performance Test\nContent-Length: 0\n\n";

/// baresip 1.0.0 calling `sip:1234@127.0.0.1:5060` with PCMU, PCMA and telephone-event.
fn baresip_invite() -> Vec<u8> {
    let head = "INVITE sip:1234@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK0c8a1e5d4b7f2a39;rport\nContact: <sip:5678-0x55bb34d7c1a0@127.0.0.1:5070>\nMax-Forwards: 70\nTo: <sip:1234@127.0.0.1:5060>\nFrom: <sip:5678@127.0.0.1>;tag=63c2d9a0f1b847e5\nCall-ID: 7e4f3a2b1c0d9e8f\nCSeq: 24816 INVITE\nSupported: replaces,norefersub\nAllow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,REFER\nUser-Agent: baresip v1.0.0 (x86_64/linux)\nContent-Type: application/sdp\nContent-Length: {CL}\n\n";
    let mut text = head.replace('\n', "\r\n");
    text.push_str(super::sdp::tests::BARESIP_OFFER);
    let len = super::sdp::tests::BARESIP_OFFER.len();
    text.replace("{CL}", &len.to_string()).into_bytes()
}

/// Every message above that must parse.
fn valid() -> Vec<Vec<u8>> {
    let mut v = vec![wsinv(), baresip_invite()];
    for t in [
        INTMETH,
        ESC01,
        ESCNULL,
        ESC02,
        LWSDISP,
        DBLREQ,
        SEMIURI,
        TRANSPORTS,
        UNREASON,
        NOREASON,
        UNKSCM,
        BADVERS,
        SIPP_INVITE,
        SIPP_200,
        SIPP_ACK,
        SIPP_BYE,
    ] {
        v.push(wire(t));
    }
    v
}

/// RFC 4475 §3.1.2 messages that must be refused, each with what we expect, and whether the
/// stack can still answer it with 400.
fn invalid() -> Vec<(&'static str, Vec<u8>, ErrorKind, bool)> {
    let base = |first: &str, extra: &str| {
        wire(&format!("{first}\nTo: sip:j.user@example.com\nFrom: sip:caller@example.net;tag=93334\nMax-Forwards: 10\nCall-ID: torture.1@192.0.2.2\nCSeq: 8 INVITE\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKkdjuw\n{extra}\n"))
    };
    let bad = |h: &str| ErrorKind::BadHeaderValue { header: h.to_owned(), error: super::header::HeaderError::Empty };
    vec![
        ("badinv01", base("INVITE sip:user@example.com SIP/2.0", "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\nContent-Length: 0\n"), bad("Via"), true),
        ("clerr", base("INVITE sip:user@example.com SIP/2.0", "Content-Length: 9999\n\nv=0\n"), ErrorKind::ContentLengthTooLarge { declared: 9999, available: 7 }, true),
        ("ncl", base("INVITE sip:user@example.com SIP/2.0", "Content-Length: -999\n"), bad("Content-Length"), true),
        ("scalar02", base("REGISTER sip:example.com SIP/2.0", "CSeq: 36893488147419103232 REGISTER\nl: 0\n"), ErrorKind::DuplicateHeader("CSeq"), true),
        ("scalar02b", wire("REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw\nTo: <sip:user@example.com>\nFrom: <sip:other@example.net>;tag=3293940\nCall-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\nMax-Forwards: 300\nExpires: 1844674407370955161600\nContact: <sip:user@host129.example.com>;expires=280297596632815\nCSeq: 36893488147419103232 REGISTER\nContent-Length: 0\n\n"), bad("Max-Forwards"), true),
        ("scalarlg", wire("SIP/2.0 503 Service Unavailable\nVia: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129\nTo: <sip:other@example.net>\nFrom: <sip:user@example.com>;tag=2easdjfejw\nCSeq: 9292394834772304023312 OPTIONS\nCall-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r\nRetry-After: 949302838503028349304023988\nWarning: 1812 overture \"In Progress\"\nContent-Length: 0\n\n"), bad("CSeq"), false),
        ("quotbal", base("INVITE sip:user@example.com SIP/2.0", "Contact: \"Mr J. User <sip:j.user@host.example.com>\nl: 0\n"), bad("Contact"), true),
        ("ltgtruri", base("INVITE <sip:user@example.com> SIP/2.0", "l: 0\n"), ErrorKind::BadRequestUri(super::uri::UriError::BadChar('<')), true),
        ("lwsruri", base("INVITE sip:user@example.com; lr SIP/2.0", "l: 0\n"), ErrorKind::BadStartLine("no SIP version at the end"), true),
        ("lwsstart", base("INVITE  sip:user@example.com  SIP/2.0", "l: 0\n"), ErrorKind::BadStartLine("empty Request-URI"), true),
        ("trws", base("OPTIONS sip:remote-target@example.com SIP/2.0  ", "l: 0\n"), ErrorKind::BadStartLine("no SIP version at the end"), true),
        ("escruri", base("INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0", "l: 0\n"), ErrorKind::BadStartLine("Request-URI with headers"), true),
        ("regbadct", base("REGISTER sip:example.com SIP/2.0", "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\nl: 0\n"), bad("Contact"), true),
        ("badaspec", wire("OPTIONS sip:user@example.org SIP/2.0\nVia: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234\nMax-Forwards: 70\nFrom: \"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423\nTo: \"Watson, Thomas\" < sip:t.watson@example.org >\nCall-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3\nAccept: application/sdp\nCSeq: 3923239 OPTIONS\nl: 0\n\n"), bad("To"), true),
        ("baddn", wire("OPTIONS sip:t.watson@example.org SIP/2.0\nVia:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw\nMax-Forwards:      70\nFrom:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43\nTo:      Watson, Thomas <sip:t.watson@example.org>\nCall-ID: baddn.31415@c.example.com\nAccept: application/sdp\nCSeq:    3923239 OPTIONS\nl: 0\n\n"), bad("From"), true),
        ("mismatch01", base("OPTIONS sip:user@example.com SIP/2.0", "l: 0\n"), ErrorKind::CseqMethodMismatch, true),
        ("mismatch02", wire("NEWMETHOD sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\nFrom: sip:caller@example.net;tag=34525\nMax-Forwards: 6\nCall-ID: mismatch02.dj0234sxdfl3\nCSeq: 8 INVITE\nContact: <sip:caller@host.example.net>\nVia: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw\nContent-Type: application/sdp\nl: 0\n\n"), ErrorKind::CseqMethodMismatch, true),
        ("bigcode", wire("SIP/2.0 4294967301 better not break the receiver\nVia: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\nCall-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i\nCSeq: 353494 INVITE\nFrom: <sip:user@example.com>;tag=39ansfi3\nTo: <sip:user@example.edu>;tag=902jndnke3\nContent-Length: 0\nContact: <sip:user@host105.example.com>\n\n"), ErrorKind::BadStartLine("status code is not three digits"), false),
        ("insuf", wire("INVITE sip:user@example.com SIP/2.0\nCSeq: 193942 INVITE\nVia: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\nContent-Type: application/sdp\nl: 0\n\n"), ErrorKind::MissingHeader("From"), true),
        ("multi01", base("INVITE sip:user@company.com SIP/2.0", "Call-ID: multi01.98asdh@192.0.2.2\nl: 0\n"), ErrorKind::DuplicateHeader("Call-ID"), true),
        ("nohdrend", b"INVITE sip:user@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n".to_vec(), ErrorKind::NoEndOfHeaders, false),
        ("nocolon", base("INVITE sip:user@example.com SIP/2.0", "Content-Length 0\n"), ErrorKind::BadHeaderLine, false),
    ]
}

#[test]
fn valid_messages_parse_and_round_trip() {
    for (i, m) in valid().iter().enumerate() {
        let msg = Message::parse(m).unwrap_or_else(|e| panic!("message {i}: {e}\n{}", String::from_utf8_lossy(m)));
        let again = Message::parse(&msg.to_bytes()).unwrap();
        assert_eq!(again, msg, "message {i}");
        assert_eq!(again.to_bytes(), msg.to_bytes());
    }
}

#[test]
fn invalid_messages_are_refused_with_the_reason() {
    for (name, bytes, kind, answerable) in invalid() {
        let e = Message::parse(&bytes).expect_err(name);
        match (&e.kind, &kind) {
            // Which header value error it is does not matter here, only which header.
            (ErrorKind::BadHeaderValue { header: a, .. }, ErrorKind::BadHeaderValue { header: b, .. }) => {
                assert_eq!(a, b, "{name}: {e}")
            }
            _ => assert_eq!(e.kind, kind, "{name}: {e}"),
        }
        assert_eq!(e.answerable().is_some(), answerable, "{name}: {e}");
        if let Some(req) = e.answerable() {
            // The leniently read Request-URI is the one the message meant.
            if let StartLine::Request { uri, .. } = &req.start {
                assert!(uri.as_sip().is_some(), "{name}");
            }
            // What the stack does with it: a 400 carrying the request's identifying headers.
            let resp = Message::response_to(req, 400, "Bad Request");
            assert_eq!(resp.status(), Some(400));
            let again = Message::to_bytes(&resp);
            assert!(again.starts_with(b"SIP/2.0 400 Bad Request\r\n"), "{name}");
        }
    }
}

#[test]
fn error_positions_and_text() {
    let e = Message::parse(&wire("INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: x\nCSeq: one INVITE\n\n")).unwrap_err();
    assert_eq!(e.line, 6);
    assert_eq!(e.to_string(), "line 6: bad CSeq header: sequence number not below 2^31");
    let e = Message::parse(b"").unwrap_err();
    assert_eq!(e.to_string(), "empty message");
    let e = Message::parse(&[b'I', 0xff, b'\n', b'\n']).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotUtf8);
}

#[test]
fn wsinv_reads_right() {
    let m = Message::parse(&wsinv()).unwrap();
    assert_eq!(m.call_id(), Some("wsinv.ndaksdj@192.0.2.1"));
    assert_eq!(m.cseq().unwrap().seq, 9);
    assert_eq!(m.max_forwards(), Some(68));
    assert_eq!(m.to().unwrap().tag(), Some("1918181833n"));
    assert_eq!(m.from().unwrap().tag(), Some("98asjd8"));
    let vias = m.vias();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].branch(), Some("390skdjuw"));
    assert_eq!(vias[1].transport, "TCP");
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(m.header("NewFangledHeader"), Some("newfangled value continued newfangled value"));
    assert_eq!(m.header("subject"), Some(""));
    let Some(Contacts::List(c)) = m.contacts() else { panic!() };
    assert_eq!(c[0].param("q"), Some(Some("0.33")));
    assert_eq!(m.routes("route").len(), 1);
    let sdp = SessionDescription::parse(&m.body).unwrap();
    assert_eq!(sdp.media.len(), 2);
    // The unknown header keeps its place among the others.
    let names: Vec<&str> = m.headers.iter().map(|h| h.name()).collect();
    assert_eq!(names[9], "UnknownHeaderWithUnusualValue");
}

#[test]
fn odd_but_valid_messages_read_right() {
    let m = Message::parse(&wire(INTMETH)).unwrap();
    assert_eq!(m.method(), Some(&Method::Other("!interesting-Method0123456789_*+`.%indeed'~".into())));
    let StartLine::Request { uri: Uri::Sip(u), .. } = &m.start else { panic!() };
    assert_eq!(u.password.as_deref(), Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"));
    assert_eq!(m.header("extensionHeader-!.%*+_`'~"), Some("\u{feff}\u{1f600}"));

    let m = Message::parse(&wire(ESC01)).unwrap();
    let StartLine::Request { uri, .. } = &m.start else { panic!() };
    assert_eq!(uri.user().as_deref(), Some("sips:user@example.com"));
    assert_eq!(m.to().unwrap().uri.user().as_deref(), Some("user"));
    assert_eq!(m.content_type(), Some("application/sdp"));

    let m = Message::parse(&wire(ESCNULL)).unwrap();
    let Some(Contacts::List(c)) = m.contacts() else { panic!() };
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].uri.user().as_deref(), Some("\0\0"));

    let m = Message::parse(&wire(ESC02)).unwrap();
    assert_eq!(m.method(), Some(&Method::Other("RE%47IST%45R".into())));
    assert_eq!(m.headers_named("contact").count(), 2, "C%6Fntact is another header");

    let m = Message::parse(&wire(DBLREQ)).unwrap();
    assert_eq!(m.method(), Some(&Method::Register));
    assert!(m.body.is_empty());

    let m = Message::parse(&wire(SEMIURI)).unwrap();
    let StartLine::Request { uri, .. } = &m.start else { panic!() };
    assert_eq!(uri.user().as_deref(), Some("user;par=u@example.net"));
    assert_eq!(uri.as_sip().unwrap().host, Host::Name("example.com".into()));
    assert_eq!(m.header_list("accept").len(), 6);

    let m = Message::parse(&wire(TRANSPORTS)).unwrap();
    let t: Vec<String> = m.vias().into_iter().map(|v| v.transport).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);

    let m = Message::parse(&wire(UNREASON)).unwrap();
    assert_eq!(m.status(), Some(200));
    let m = Message::parse(&wire(NOREASON)).unwrap();
    assert_eq!(m.start, StartLine::Response { version: "SIP/2.0".into(), code: 100, reason: String::new() });

    let m = Message::parse(&wire(UNKSCM)).unwrap();
    assert!(matches!(&m.start, StartLine::Request { uri: Uri::Other { .. }, .. }));
    let m = Message::parse(&wire(BADVERS)).unwrap();
    assert!(matches!(&m.start, StartLine::Request { version, .. } if version == "SIP/7.0"));
}

#[test]
fn sipp_and_baresip() {
    let inv = Message::parse(&wire(SIPP_INVITE)).unwrap();
    assert_eq!(inv.to_string(), "INVITE sip:1234@127.0.0.1:5060 cseq=1 INVITE call-id=1-4242@127.0.0.1 body=129B");
    assert_eq!(inv.from().unwrap().display.as_deref(), Some("sipp"));
    let Some(Contacts::List(c)) = inv.contacts() else { panic!() };
    assert!(!c[0].angle);
    let ok = Message::parse(&wire(SIPP_200)).unwrap();
    assert_eq!(ok.to_string(), "200 OK cseq=1 INVITE call-id=1-4242@127.0.0.1 body=129B");
    assert_eq!(ok.to().unwrap().tag(), Some("4243SIPpTag011"));
    let ack = Message::parse(&wire(SIPP_ACK)).unwrap();
    assert_eq!(ack.method(), Some(&Method::Ack));
    let bye = Message::parse(&wire(SIPP_BYE)).unwrap();
    assert_eq!(bye.cseq().unwrap().seq, 2);

    let b = Message::parse(&baresip_invite()).unwrap();
    assert_eq!(b.vias()[0].rport(), Some(None));
    assert_eq!(b.header_list("allow").len(), 10);
    assert_eq!(b.option_tags("supported"), vec!["replaces", "norefersub"]);
    let sdp = SessionDescription::parse(&b.body).unwrap();
    assert_eq!(sdp.media[0].payload_types(), vec![0, 8, 101]);
}

#[test]
fn build_a_request_and_its_response() {
    let uri = Uri::parse("sip:1234@gw;transport=udp").unwrap();
    let mut inv = Message::request(Method::Invite, uri);
    inv.push_header("Via", "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKabc;rport");
    inv.push_header("Max-Forwards", 70);
    inv.push_header("From", "<sip:5678@192.0.2.10>;tag=f1");
    inv.push_header("To", "<sip:1234@gw>");
    inv.push_header("Call-ID", "c1@192.0.2.10");
    inv.push_header("CSeq", "1 INVITE");
    inv.set_body("application/sdp", b"v=0\r\n".to_vec());
    assert_eq!(inv.to_string(), "INVITE sip:1234@gw;transport=udp cseq=1 INVITE call-id=c1@192.0.2.10 body=5B");
    let parsed = Message::parse(&inv.to_bytes()).unwrap();
    assert_eq!(parsed, inv);
    let mut ringing = Message::response_to(&parsed, 180, "Ringing");
    let mut to = ringing.to().unwrap();
    to.set_tag("t9");
    ringing.set_header("To", &to);
    ringing.push_header("Content-Length", 0);
    let r = Message::parse(&ringing.to_bytes()).unwrap();
    assert_eq!(r.to().unwrap().tag(), Some("t9"));
    assert_eq!(r.vias()[0].branch(), Some("z9hG4bKabc"));
    assert_eq!(r.to_string(), "180 Ringing cseq=1 INVITE call-id=c1@192.0.2.10");
    // The response belongs to the request's transaction.
    assert_eq!(r.transaction_key(), parsed.transaction_key());
    assert_eq!(r.transaction_key().unwrap().sent_by, "192.0.2.10:5060");
    // sipp's ACK for a 200 is a new transaction; RFC 4475's wsinv has a pre-3261 branch.
    let inv = Message::parse(&wire(SIPP_INVITE)).unwrap().transaction_key().unwrap();
    let ack = Message::parse(&wire(SIPP_ACK)).unwrap().transaction_key().unwrap();
    assert_ne!(inv.branch, ack.branch);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(Message::parse(&wsinv()).unwrap().transaction_key(), None);
}

/// A tiny deterministic generator, so the property tests need no dependency and repeat.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Whatever parses must serialise to something that parses to the same message.
fn check_any(data: &[u8]) {
    if let Ok(m) = Message::parse(data) {
        let _ = m.to_string();
        let again = Message::parse(&m.to_bytes())
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&m.to_bytes())));
        assert_eq!(again, m);
        let _ = (m.vias(), m.contacts(), m.from(), m.to(), m.q850_reason(), m.auth("authorization"));
        if let Ok(sdp) = SessionDescription::parse(&m.body) {
            let _ = SessionDescription::parse(&sdp.to_bytes()).unwrap();
        }
    }
    let mut f = StreamFramer::new(4096);
    f.push(data);
    while let Some(Ok(_)) = f.next_message() {}
}

#[test]
fn never_panics_on_truncations() {
    let mut all = valid();
    all.extend(invalid().into_iter().map(|(_, b, _, _)| b));
    for m in &all {
        for n in 0..=m.len() {
            check_any(&m[..n]);
        }
    }
}

#[test]
fn never_panics_on_mutations_and_random_bytes() {
    let mut rng = XorShift(0x5eed_2026_1123);
    let all = valid();
    let alphabet = b" \t\r\n:;,<>\"\\%@=?/[]*0123456789abcSIPv";
    for round in 0..3000 {
        let mut m = all[round % all.len()].clone();
        for _ in 0..1 + rng.below(6) {
            let i = rng.below(m.len());
            match rng.below(3) {
                0 => m[i] = alphabet[rng.below(alphabet.len())],
                1 => {
                    m.remove(i);
                }
                _ => m.insert(i, alphabet[rng.below(alphabet.len())]),
            }
        }
        check_any(&m);
    }
    for _ in 0..2000 {
        let len = rng.below(300);
        let v: Vec<u8> = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        check_any(&v);
        let raw: Vec<u8> = (0..len).map(|_| rng.next().to_le_bytes()[0]).collect();
        check_any(&raw);
    }
}

/// What parses as SDP emits text that parses again and is stable from then on (line order
/// is normalised once), and answering it never panics.
fn check_sdp(data: &[u8]) {
    use super::offer_answer::{answer, CodecPrefs, LocalMedia};
    use super::sdp::Direction;
    let Ok(sd) = SessionDescription::parse(data) else { return };
    let _ = sd.to_string();
    let once = SessionDescription::parse(&sd.to_bytes()).unwrap();
    assert_eq!(SessionDescription::parse(&once.to_bytes()).unwrap(), once);
    let local = LocalMedia {
        addr: "192.0.2.1".parse().unwrap(),
        port: 30000,
        session_id: 1,
        session_version: 1,
        direction: Direction::SendRecv,
    };
    if let Ok((ans, _)) = answer(&sd, &CodecPrefs::default(), &local) {
        SessionDescription::parse(&ans.to_bytes()).unwrap();
    }
}

#[test]
fn sdp_never_panics_and_round_trips() {
    let mut rng = XorShift(0xd1ce);
    let seeds = [super::sdp::tests::BARESIP_OFFER.as_bytes().to_vec(), wire(SDP_4475)];
    let alphabet = b" \r\n=:/0123456789abcimotvsrz-.";
    for seed in &seeds {
        for n in 0..=seed.len() {
            check_sdp(&seed[..n]);
        }
    }
    for round in 0..4000 {
        let mut m = seeds[round % 2].clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(m.len());
            match rng.below(3) {
                0 => m[i] = alphabet[rng.below(alphabet.len())],
                1 => {
                    m.remove(i);
                }
                _ => m.insert(i, alphabet[rng.below(alphabet.len())]),
            }
        }
        check_sdp(&m);
    }
}

#[test]
fn framer_splits_a_stream_of_real_messages() {
    let msgs = [wire(SIPP_INVITE), wire(SIPP_ACK), baresip_invite(), wire(SIPP_BYE)];
    let stream: Vec<u8> = msgs.concat();
    let mut rng = XorShift(7);
    let mut f = StreamFramer::new(65536);
    let mut got = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let n = (1 + rng.below(200)).min(stream.len() - at);
        f.push(&stream[at..at + n]);
        at += n;
        while let Some(m) = f.next_message() {
            got.push(m.unwrap());
        }
    }
    assert_eq!(got, msgs);
    for m in &got {
        Message::parse(m).unwrap();
    }
}

#[test]
fn fuzz_seeds_are_what_they_claim() {
    for seed in [
        include_bytes!("../../fuzz/corpus/sip_message/invite_sdp").as_slice(),
        include_bytes!("../../fuzz/corpus/sip_message/ok_compact"),
        include_bytes!("../../fuzz/corpus/sip_message/register_auth"),
        include_bytes!("../../fuzz/corpus/sip_message/bye_reason_tcp"),
        include_bytes!("../../fuzz/corpus/sip_message/folded"),
    ] {
        let m = Message::parse(seed).unwrap();
        if !m.body.is_empty() {
            SessionDescription::parse(&m.body).unwrap();
        }
    }
    let reg = Message::parse(include_bytes!("../../fuzz/corpus/sip_message/register_auth")).unwrap();
    assert_eq!(reg.auth("authorization")[0].get("username"), Some("5678"));
    assert_eq!(
        Message::parse(include_bytes!("../../fuzz/corpus/sip_message/bye_reason_tcp"))
            .unwrap()
            .q850_reason()
            .unwrap()
            .q850_cause(),
        Some(16)
    );
    assert!(Message::parse(include_bytes!("../../fuzz/corpus/sip_message/malformed")).is_err());
    for seed in [
        include_bytes!("../../fuzz/corpus/sdp/baresip_offer").as_slice(),
        include_bytes!("../../fuzz/corpus/sdp/hold_oldstyle"),
    ] {
        SessionDescription::parse(seed).unwrap();
    }
    let stream = include_bytes!("../../fuzz/corpus/sip_tcp_framer/pipelined");
    let mut f = StreamFramer::new(4096);
    f.push(&stream[1..]);
    let mut n = 0;
    while let Some(m) = f.next_message() {
        Message::parse(&m.unwrap()).unwrap();
        n += 1;
    }
    assert_eq!(n, 3);
}
