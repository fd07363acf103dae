//! SIP dialogs (RFC 3261 §12): the state two user agents share for one call (Call-ID, tags,
//! URIs, remote target, route set, CSeq numbers), requests built inside it with loose routing
//! (§12.2.1.1, §16.12), and the DTMF bodies of INFO requests.
//!
//! A dialog is created by the UAC from a 1xx with a To tag (early) or a 2xx (confirmed),
//! §12.1.2, and by the UAS from the INVITE it answers, §12.1.1. Target refresh (re-INVITE and
//! its 2xx) replaces the remote target; the route set is fixed at creation (§12.2.1.2).
//!
//! | State | Event | Action | Next |
//! |---|---|---|---|
//! | - | 1xx with To tag (UAC) / 1xx sent (UAS) | create from Record-Route, Contact | Early |
//! | -, Early | 2xx | create or update the remote target | Confirmed |
//! | Early | 300-699 | - | Terminated |
//! | Confirmed | request, CSeq lower than remote CSeq | answer 500 (§12.2.2) | Confirmed |
//! | Confirmed | BYE | answer 200 | Terminated |

use std::net::{IpAddr, SocketAddr};

use super::header::{Contacts, Method, NameAddr};
use super::message::Message;
use super::uri::{Host, Uri};

/// Dialog states (§12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    Early,
    Confirmed,
    Terminated,
}

/// The dialog state of one side (§12.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub state: DialogState,
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    /// Our URI (From of our requests) with its display name, without the tag.
    pub local_uri: NameAddr,
    pub remote_uri: NameAddr,
    pub remote_target: Uri,
    /// Route set in the order our requests carry it.
    pub route_set: Vec<NameAddr>,
    pub local_cseq: u32,
    pub remote_cseq: Option<u32>,
}

fn first_contact(msg: &Message) -> Option<Uri> {
    match msg.contacts()? {
        Contacts::List(l) => l.into_iter().next().map(|c| c.uri),
        Contacts::Star => None,
    }
}

fn without_tag(mut n: NameAddr) -> NameAddr {
    n.params.retain(|(k, _)| !k.eq_ignore_ascii_case("tag"));
    n
}

impl Dialog {
    /// The UAC side from our request and a 1xx-with-tag or 2xx response (§12.1.2): the route set
    /// is the Record-Route in reverse, the remote target the response's Contact.
    pub fn uac(request: &Message, response: &Message) -> Option<Dialog> {
        let to = response.to()?;
        let from = request.from()?;
        let code = response.status()?;
        let mut route_set = response.routes("record-route");
        route_set.reverse();
        let remote_target = first_contact(response).or_else(|| Some(to.uri.clone()))?;
        Some(Dialog {
            state: if code < 200 { DialogState::Early } else { DialogState::Confirmed },
            call_id: request.call_id()?.to_owned(),
            local_tag: from.tag()?.to_owned(),
            remote_tag: to.tag()?.to_owned(),
            local_uri: without_tag(from),
            remote_uri: without_tag(to),
            remote_target,
            route_set,
            local_cseq: request.cseq()?.seq,
            remote_cseq: None,
        })
    }

    /// The UAS side from the request it answers with `local_tag` (§12.1.1): the route set is the
    /// Record-Route as received, the remote target the request's Contact.
    pub fn uas(request: &Message, local_tag: &str) -> Option<Dialog> {
        let from = request.from()?;
        let to = request.to()?;
        Some(Dialog {
            state: DialogState::Early,
            call_id: request.call_id()?.to_owned(),
            local_tag: local_tag.to_owned(),
            remote_tag: from.tag().unwrap_or_default().to_owned(),
            local_uri: without_tag(to),
            remote_uri: without_tag(from.clone()),
            remote_target: first_contact(request).unwrap_or(from.uri),
            route_set: request.routes("record-route"),
            local_cseq: 0,
            remote_cseq: request.cseq().map(|c| c.seq),
        })
    }

    /// A target refresh (re-INVITE or its 2xx) carrying a Contact replaces the remote target.
    pub fn refresh_target(&mut self, msg: &Message) {
        if let Some(t) = first_contact(msg) {
            self.remote_target = t;
        }
    }

    /// Checks a request's CSeq against the remote sequence (§12.2.2): `false` when it is lower
    /// than one already seen (the caller answers 500); otherwise records it.
    pub fn accept_remote_cseq(&mut self, req: &Message) -> bool {
        let Some(seq) = req.cseq().map(|c| c.seq) else { return false };
        if req.method() == Some(&Method::Ack) {
            return true;
        }
        match self.remote_cseq {
            Some(r) if seq < r => false,
            _ => {
                self.remote_cseq = Some(seq);
                true
            }
        }
    }

    /// A request inside the dialog (§12.2.1.1) with the next local CSeq (ACK for 2xx takes the
    /// INVITE's number: pass `Some(seq)`). With a loose-routing first route the Request-URI is
    /// the remote target and the routes go in Route; with a strict router the first route becomes
    /// the Request-URI and the remote target goes last (§12.2.1.1, §16.12.1.2).
    pub fn request(&mut self, method: Method, seq: Option<u32>) -> Message {
        let seq = seq.unwrap_or_else(|| {
            self.local_cseq = self.local_cseq.wrapping_add(1);
            self.local_cseq
        });
        let loose = self.route_set.first().is_none_or(|r| r.uri.as_sip().is_some_and(|u| u.param("lr").is_some()));
        let (uri, routes): (Uri, Vec<String>) = if loose {
            (self.remote_target.clone(), self.route_set.iter().map(ToString::to_string).collect())
        } else {
            let mut routes: Vec<String> = self.route_set[1..].iter().map(ToString::to_string).collect();
            routes.push(format!("<{}>", self.remote_target));
            (self.route_set[0].uri.clone(), routes)
        };
        let mut m = Message::request(method.clone(), uri);
        for r in routes {
            m.push_header("Route", r);
        }
        let mut from = self.local_uri.clone();
        from.set_tag(&self.local_tag);
        let mut to = self.remote_uri.clone();
        if !self.remote_tag.is_empty() {
            to.set_tag(&self.remote_tag);
        }
        m.push_header("From", from);
        m.push_header("To", to);
        m.push_header("Call-ID", &self.call_id);
        m.push_header("CSeq", format!("{seq} {method}"));
        m
    }

    /// Where a request inside the dialog goes: the host of the first route or of the remote
    /// target when it is an IP literal (no DNS here), else `fallback` (the trunk's address).
    pub fn next_hop(&self, fallback: SocketAddr) -> SocketAddr {
        let uri = self.route_set.first().map_or(&self.remote_target, |r| &r.uri);
        uri_addr(uri).unwrap_or(fallback)
    }
}

/// The socket address of a SIP URI with an IP literal host (port 5060 by default).
pub fn uri_addr(uri: &Uri) -> Option<SocketAddr> {
    let u = uri.as_sip()?;
    let ip: IpAddr = match &u.host {
        Host::V4(a) => (*a).into(),
        Host::V6(a) => (*a).into(),
        Host::Name(_) => return None,
    };
    Some(SocketAddr::new(ip, u.port.unwrap_or(5060)))
}

/// One DTMF digit carried by an INFO request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoDigit {
    /// `0-9`, `*`, `#`, `A-D`, or `!` for a flash (event 16).
    pub digit: char,
    pub duration_ms: u32,
}

/// The event numbers of RFC 4733 §3.2 as digits.
fn digit_of_event(n: u32) -> Option<char> {
    match n {
        0..=9 => char::from_digit(n, 10),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => char::from_u32(u32::from(b'A') + n - 12),
        16 => Some('!'),
        _ => None,
    }
}

fn normalise_digit(s: &str) -> Option<char> {
    let s = s.trim();
    let mut chars = s.chars();
    let c = chars.next()?;
    if chars.next().is_none() {
        let c = c.to_ascii_uppercase();
        return matches!(c, '0'..='9' | '*' | '#' | 'A'..='D' | '!').then_some(c);
    }
    digit_of_event(s.parse().ok()?)
}

/// Reads an INFO body: `application/dtmf-relay` (`Signal=5\r\nDuration=160`, as Cisco and
/// Asterisk send it) or `application/dtmf` (the bare digit or event number). `None` for other
/// types or a body without a digit. A missing duration reads as 250 ms, Asterisk's default.
pub fn parse_info_dtmf(content_type: &str, body: &[u8]) -> Option<InfoDigit> {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let text = std::str::from_utf8(body).ok()?;
    if ct.eq_ignore_ascii_case("application/dtmf-relay") {
        let mut digit = None;
        let mut duration_ms = 250;
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else { continue };
            match k.trim().to_ascii_lowercase().as_str() {
                "signal" => digit = normalise_digit(v),
                "duration" => duration_ms = v.trim().parse().ok().filter(|d| *d <= 60_000).unwrap_or(250),
                _ => {}
            }
        }
        digit.map(|digit| InfoDigit { digit, duration_ms })
    } else if ct.eq_ignore_ascii_case("application/dtmf") {
        normalise_digit(text).map(|digit| InfoDigit { digit, duration_ms: 250 })
    } else {
        None
    }
}

/// The `application/dtmf-relay` body for a digit.
pub fn dtmf_relay_body(d: InfoDigit) -> String {
    format!("Signal={}\r\nDuration={}\r\n", d.digit, d.duration_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> Message {
        let text = "INVITE sip:1000@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\nRecord-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\nFrom: \"Al\" <sip:al@192.0.2.9>;tag=ft\r\nTo: <sip:1000@192.0.2.1>\r\nCall-ID: cid\r\nCSeq: 7 INVITE\r\nContact: <sip:al@192.0.2.9:5070>;expires=60\r\nContent-Length: 0\r\n\r\n";
        Message::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn uas_dialog_keeps_record_route_order_and_contact_target() {
        let mut d = Dialog::uas(&invite(), "lt").unwrap();
        assert_eq!(d.remote_tag, "ft");
        assert_eq!(d.remote_cseq, Some(7));
        assert_eq!(d.remote_target.to_string(), "sip:al@192.0.2.9:5070");
        let bye = d.request(Method::Bye, None);
        assert_eq!(bye.to_string().split_whitespace().nth(1), Some("sip:al@192.0.2.9:5070"));
        let routes: Vec<String> = bye.routes("route").iter().map(|r| r.uri.to_string()).collect();
        assert_eq!(routes, ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]);
        assert_eq!(bye.from().unwrap().tag(), Some("lt"));
        assert_eq!(bye.to().unwrap().tag(), Some("ft"));
        assert_eq!(bye.cseq().unwrap().seq, 1);
    }

    #[test]
    fn uac_dialog_reverses_record_route_and_strict_router_rewrites() {
        let req = invite();
        let text = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\nRecord-Route: <sip:192.0.2.50>, <sip:192.0.2.51;lr>\r\nFrom: \"Al\" <sip:al@192.0.2.9>;tag=ft\r\nTo: <sip:1000@192.0.2.1>;tag=tt\r\nCall-ID: cid\r\nCSeq: 7 INVITE\r\nContact: <sip:1000@192.0.2.1:5080>\r\nContent-Length: 0\r\n\r\n";
        let resp = Message::parse(text.as_bytes()).unwrap();
        let mut d = Dialog::uac(&req, &resp).unwrap();
        assert_eq!(d.state, DialogState::Confirmed);
        assert_eq!(d.route_set[0].uri.to_string(), "sip:192.0.2.51;lr");
        assert_eq!(d.next_hop("203.0.113.1:5060".parse().unwrap()), "192.0.2.51:5060".parse().unwrap());
        d.route_set.reverse();
        let bye = d.request(Method::Bye, None);
        assert!(bye.to_string().starts_with("BYE sip:192.0.2.50 "), "strict router is the Request-URI");
        let last = bye.routes("route").pop().unwrap();
        assert_eq!(last.uri.to_string(), "sip:1000@192.0.2.1:5080");
        assert_eq!(bye.cseq().unwrap().seq, 8);
    }

    #[test]
    fn lower_remote_cseq_is_refused() {
        let mut d = Dialog::uas(&invite(), "lt").unwrap();
        let mut m = invite();
        m.set_header("CSeq", "6 BYE");
        assert!(!d.accept_remote_cseq(&m));
        m.set_header("CSeq", "8 BYE");
        assert!(d.accept_remote_cseq(&m));
    }

    #[test]
    fn info_bodies() {
        let d = parse_info_dtmf("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n").unwrap();
        assert_eq!(d, InfoDigit { digit: '5', duration_ms: 160 });
        assert_eq!(parse_info_dtmf("application/dtmf-relay", b"Signal= *\nDuration=100").unwrap().digit, '*');
        assert_eq!(parse_info_dtmf("application/dtmf-relay", b"Signal=11\r\n").unwrap().digit, '#');
        assert_eq!(parse_info_dtmf("application/dtmf", b"9").unwrap().digit, '9');
        assert_eq!(parse_info_dtmf("application/dtmf", b"12").unwrap().digit, 'A');
        assert_eq!(parse_info_dtmf("application/dtmf", b"x"), None);
        assert_eq!(parse_info_dtmf("text/plain", b"Signal=5"), None);
        assert_eq!(parse_info_dtmf("application/dtmf-relay", b"Duration=5"), None);
        let body = dtmf_relay_body(InfoDigit { digit: '#', duration_ms: 100 });
        assert_eq!(parse_info_dtmf("application/dtmf-relay", body.as_bytes()).unwrap().digit, '#');
    }
}
