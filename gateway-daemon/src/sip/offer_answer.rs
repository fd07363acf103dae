//! SDP offer/answer (RFC 3264) for one audio stream: build our offer from a trunk's codec
//! preference, answer an offer, and read the answer to our offer.
//!
//! Codec choice when answering: the first codec in **our** preference order that the offer
//! also has, like chan_sip's default; a trunk's order is what the operator configured, and it
//! decides whether we transcode. The answer carries only that codec (plus telephone-event when
//! both sides have it), with the offerer's payload type numbers: a dynamic telephone-event type
//! (96, 101...) is echoed back as offered (§6.1).
//!
//! Direction answered (§6.1): sendonly → recvonly, recvonly → sendonly, inactive → inactive,
//! sendrecv → sendrecv. Old-style hold, `c=0.0.0.0` (§8.4), is read as the offerer not wanting
//! our media: we answer recvonly and send nothing. Nothing in common gives [`NoMatch`], which
//! the caller turns into 488 Not Acceptable Here.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use super::sdp::{Attribute, Connection, Direction, Media, Origin, SessionDescription};

/// The audio codecs we offer and accept, each as a trunk's `codecs` lists them; the media thread
/// transcodes each to the span's G.711 (`media_codec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Pcmu,
    Pcma,
    G722,
    G729,
}

impl Codec {
    /// The static payload type (RFC 3551).
    pub fn static_pt(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
            Codec::G722 => 9,
            Codec::G729 => 18,
        }
    }

    /// The rtpmap encoding name.
    pub fn encoding(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
            Codec::G729 => "G729",
        }
    }

    /// The RTP clock (G.722's is 8000 by RFC 3551's historical error).
    pub fn clock_rate(self) -> u32 {
        8000
    }

    /// Which codec a payload type stands for in `m`: by rtpmap name when given, else by the
    /// static number.
    fn of(m: &Media, pt: u8) -> Option<Codec> {
        let all = [Codec::Pcmu, Codec::Pcma, Codec::G722, Codec::G729];
        match m.rtpmap(pt) {
            Some(map) => all
                .into_iter()
                .find(|c| map.encoding.eq_ignore_ascii_case(c.encoding()) && map.clock_rate == c.clock_rate()),
            None => all.into_iter().find(|c| c.static_pt() == pt),
        }
    }
}

/// A trunk's media settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecPrefs {
    /// In preference order; must not be empty.
    pub codecs: Vec<Codec>,
    /// Offer and accept RFC 4733 telephone-event.
    pub telephone_event: bool,
    /// The payload type we offer telephone-event on.
    pub telephone_event_pt: u8,
    /// Packet time in milliseconds (20 by default).
    pub ptime: u32,
}

impl Default for CodecPrefs {
    fn default() -> Self {
        CodecPrefs { codecs: vec![Codec::Pcma, Codec::Pcmu], telephone_event: true, telephone_event_pt: 101, ptime: 20 }
    }
}

/// Our side of a session: where we receive RTP, and the o= line's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    pub addr: IpAddr,
    pub port: u16,
    pub session_id: u64,
    pub session_version: u64,
    /// What we want to do: sendrecv, or sendonly to put the far end on hold.
    pub direction: Direction,
}

/// What a negotiation settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub codec: Codec,
    /// The payload type to send and expect for the codec.
    pub pt: u8,
    /// telephone-event's payload type, when both sides have it.
    pub telephone_event: Option<u8>,
    /// Where to send RTP; `None` when the far end gave no usable address (port 0, 0.0.0.0).
    pub remote: Option<SocketAddr>,
    /// Our direction: whether we send and receive.
    pub direction: Direction,
    pub ptime: u32,
}

/// Nothing acceptable in the offer or answer: answer 488 (or end the call for an answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoMatch {
    /// No audio stream with an RTP/AVP profile.
    NoAudio,
    /// An audio stream, but no codec we have in common.
    NoCommonCodec,
}

impl fmt::Display for NoMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoMatch::NoAudio => write!(f, "no RTP/AVP audio stream"),
            NoMatch::NoCommonCodec => write!(f, "no codec in common"),
        }
    }
}

impl std::error::Error for NoMatch {}

fn skeleton(local: &LocalMedia) -> SessionDescription {
    SessionDescription {
        origin: Origin {
            username: "spangate".to_owned(),
            session_id: local.session_id,
            session_version: local.session_version,
            net_type: "IN".to_owned(),
            addr_type: if local.addr.is_ipv4() { "IP4" } else { "IP6" }.to_owned(),
            address: local.addr.to_string(),
        },
        session_name: "spangate".to_owned(),
        connection: Some(Connection::ip(local.addr)),
        times: vec![(0, 0)],
        attributes: Vec::new(),
        other: Vec::new(),
        media: Vec::new(),
    }
}

fn audio_media(port: u16, formats: Vec<String>) -> Media {
    Media {
        media: "audio".to_owned(),
        port,
        port_count: None,
        proto: "RTP/AVP".to_owned(),
        formats,
        connection: None,
        attributes: Vec::new(),
        other: Vec::new(),
    }
}

fn push_codec_attrs(m: &mut Media, codec: Codec, pt: u8) {
    m.attributes.push(Attribute::new("rtpmap", Some(format!("{pt} {}/{}", codec.encoding(), codec.clock_rate()))));
    if codec == Codec::G729 {
        // We implement G.729A without Annex B (no silence suppression): say so (RFC 4856), in
        // the offer and in every answer, whatever the offer said - an offer without the
        // parameter means annexb=yes, and a peer that reads our answer's `annexb=no` sends no
        // SID frames, as Asterisk and phones do.
        m.attributes.push(Attribute::new("fmtp", Some(format!("{pt} annexb=no"))));
    }
}

fn push_te_attrs(m: &mut Media, pt: u8) {
    m.attributes.push(Attribute::new("rtpmap", Some(format!("{pt} telephone-event/8000"))));
    // The 16 DTMF events and flash (RFC 4733 §3.2), the set phones and PBXs offer; a received
    // flash is accepted and not played (it is a hook signal, not a tone).
    m.attributes.push(Attribute::new("fmtp", Some(format!("{pt} 0-16"))));
}

/// Builds our offer: every preferred codec in order, then telephone-event.
pub fn build_offer(prefs: &CodecPrefs, local: &LocalMedia) -> SessionDescription {
    let mut sd = skeleton(local);
    let mut formats: Vec<String> = prefs.codecs.iter().map(|c| c.static_pt().to_string()).collect();
    if prefs.telephone_event {
        formats.push(prefs.telephone_event_pt.to_string());
    }
    let mut m = audio_media(local.port, formats);
    for c in &prefs.codecs {
        push_codec_attrs(&mut m, *c, c.static_pt());
    }
    if prefs.telephone_event {
        push_te_attrs(&mut m, prefs.telephone_event_pt);
    }
    m.attributes.push(Attribute::new("ptime", Some(prefs.ptime.to_string())));
    m.attributes.push(Attribute::new(local.direction.as_str(), None));
    sd.media.push(m);
    sd
}

fn is_audio_rtp(m: &Media) -> bool {
    m.media == "audio" && m.port != 0 && m.proto.eq_ignore_ascii_case("RTP/AVP")
}

fn telephone_event_pt(m: &Media) -> Option<u8> {
    m.payload_types().into_iter().find(|pt| {
        m.rtpmap(*pt).is_some_and(|r| r.encoding.eq_ignore_ascii_case("telephone-event") && r.clock_rate == 8000)
    })
}

fn remote_of(sd: &SessionDescription, m: &Media) -> Option<SocketAddr> {
    let c = sd.connection_for(m)?;
    if c.is_hold() || m.port == 0 {
        return None;
    }
    c.ip_addr().map(|ip| SocketAddr::new(ip, m.port))
}

/// Answers an offer (RFC 3264 §6). The answer has one m-line per offered one; streams we do
/// not take are refused with port 0 (§6), and we take the first audio stream that matches.
pub fn answer(
    offer: &SessionDescription,
    prefs: &CodecPrefs,
    local: &LocalMedia,
) -> Result<(SessionDescription, Negotiated), NoMatch> {
    let mut sd = skeleton(local);
    let mut chosen: Option<Negotiated> = None;
    let mut saw_audio = false;
    for m in &offer.media {
        if chosen.is_some() || !is_audio_rtp(m) {
            let mut refused = audio_media(0, m.formats.clone());
            refused.media.clone_from(&m.media);
            refused.proto.clone_from(&m.proto);
            sd.media.push(refused);
            continue;
        }
        saw_audio = true;
        let offered = m.payload_types();
        let pick = prefs
            .codecs
            .iter()
            .find_map(|c| offered.iter().copied().find(|pt| Codec::of(m, *pt) == Some(*c)).map(|pt| (*c, pt)));
        let Some((codec, pt)) = pick else {
            sd.media.push(audio_media(0, m.formats.clone()));
            continue;
        };
        let te = if prefs.telephone_event { telephone_event_pt(m) } else { None };
        let old_hold = offer.connection_for(m).is_some_and(Connection::is_hold);
        let offered_dir = if old_hold { Direction::SendOnly } else { offer.direction_of(m) };
        let dir = answer_direction(offered_dir, local.direction);
        let ptime = m.ptime().unwrap_or(prefs.ptime);
        let mut formats = vec![pt.to_string()];
        formats.extend(te.map(|t| t.to_string()));
        let mut am = audio_media(local.port, formats);
        push_codec_attrs(&mut am, codec, pt);
        if let Some(t) = te {
            push_te_attrs(&mut am, t);
        }
        am.attributes.push(Attribute::new("ptime", Some(ptime.to_string())));
        am.attributes.push(Attribute::new(dir.as_str(), None));
        sd.media.push(am);
        chosen =
            Some(Negotiated { codec, pt, telephone_event: te, remote: remote_of(offer, m), direction: dir, ptime });
    }
    match chosen {
        Some(n) => Ok((sd, n)),
        None if saw_audio => Err(NoMatch::NoCommonCodec),
        None => Err(NoMatch::NoAudio),
    }
}

/// The direction of our answer: the offer's reversed, narrowed by what we want ourselves.
fn answer_direction(offered: Direction, ours: Direction) -> Direction {
    let (they_send, they_recv) = match offered {
        Direction::SendRecv => (true, true),
        Direction::SendOnly => (true, false),
        Direction::RecvOnly => (false, true),
        Direction::Inactive => (false, false),
    };
    let (we_send, we_recv) = match ours {
        Direction::SendRecv => (true, true),
        Direction::SendOnly => (true, false),
        Direction::RecvOnly => (false, true),
        Direction::Inactive => (false, false),
    };
    match (we_send && they_recv, we_recv && they_send) {
        (true, true) => Direction::SendRecv,
        (true, false) => Direction::SendOnly,
        (false, true) => Direction::RecvOnly,
        (false, false) => Direction::Inactive,
    }
}

/// Reads the answer to an offer we built (§5.1, §6.1): the answerer picks; we accept the
/// first codec of the answer that we offered.
pub fn read_answer(
    our_offer: &SessionDescription,
    answer: &SessionDescription,
    prefs: &CodecPrefs,
) -> Result<Negotiated, NoMatch> {
    let (ours, theirs) = our_offer
        .media
        .iter()
        .zip(&answer.media)
        .find(|(o, a)| is_audio_rtp(o) && is_audio_rtp(a))
        .ok_or(NoMatch::NoAudio)?;
    let offered: Vec<Codec> = ours.payload_types().into_iter().filter_map(|pt| Codec::of(ours, pt)).collect();
    let (codec, pt) = theirs
        .payload_types()
        .into_iter()
        .find_map(|pt| Codec::of(theirs, pt).filter(|c| offered.contains(c)).map(|c| (c, pt)))
        .ok_or(NoMatch::NoCommonCodec)?;
    let te =
        if prefs.telephone_event && telephone_event_pt(ours).is_some() { telephone_event_pt(theirs) } else { None };
    let old_hold = answer.connection_for(theirs).is_some_and(Connection::is_hold);
    let their_dir = if old_hold { Direction::SendOnly } else { answer.direction_of(theirs) };
    Ok(Negotiated {
        codec,
        pt,
        telephone_event: te,
        remote: remote_of(answer, theirs),
        direction: their_dir.reversed(),
        ptime: theirs.ptime().unwrap_or(prefs.ptime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(dir: Direction) -> LocalMedia {
        LocalMedia {
            addr: "192.0.2.10".parse().unwrap(),
            port: 30000,
            session_id: 1,
            session_version: 1,
            direction: dir,
        }
    }

    fn offer(formats: &str, extra: &str) -> SessionDescription {
        let text = format!("v=0\r\no=- 5 5 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 4000 RTP/AVP {formats}\r\n{extra}");
        SessionDescription::parse(text.as_bytes()).unwrap()
    }

    fn prefs(codecs: &[Codec]) -> CodecPrefs {
        CodecPrefs { codecs: codecs.to_vec(), ..CodecPrefs::default() }
    }

    #[test]
    fn our_order_wins() {
        let both = offer("0 8", "");
        let (_, n) = answer(&both, &prefs(&[Codec::Pcma, Codec::Pcmu]), &local(Direction::SendRecv)).unwrap();
        assert_eq!((n.codec, n.pt), (Codec::Pcma, 8));
        let (_, n) = answer(&both, &prefs(&[Codec::Pcmu, Codec::Pcma]), &local(Direction::SendRecv)).unwrap();
        assert_eq!((n.codec, n.pt), (Codec::Pcmu, 0));
        let rev = offer("8 0", "");
        let (a, n) = answer(&rev, &prefs(&[Codec::Pcmu, Codec::Pcma]), &local(Direction::SendRecv)).unwrap();
        assert_eq!(n.codec, Codec::Pcmu);
        assert_eq!(a.media[0].formats, vec!["0"]);
        assert_eq!(n.remote, Some("198.51.100.7:4000".parse().unwrap()));
    }

    #[test]
    fn single_codec_offers() {
        for (f, c) in [("8", Codec::Pcma), ("0", Codec::Pcmu)] {
            let (_, n) = answer(&offer(f, ""), &CodecPrefs::default(), &local(Direction::SendRecv)).unwrap();
            assert_eq!(n.codec, c);
        }
        assert_eq!(
            answer(&offer("8", ""), &prefs(&[Codec::Pcmu]), &local(Direction::SendRecv)),
            Err(NoMatch::NoCommonCodec)
        );
        assert_eq!(
            answer(&offer("18 9", ""), &CodecPrefs::default(), &local(Direction::SendRecv)),
            Err(NoMatch::NoCommonCodec)
        );
    }

    #[test]
    fn telephone_event_keeps_offered_pt() {
        for pt in [101u8, 96] {
            let o = offer(&format!("8 {pt}"), &format!("a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"));
            let (a, n) = answer(&o, &CodecPrefs::default(), &local(Direction::SendRecv)).unwrap();
            assert_eq!(n.telephone_event, Some(pt));
            assert_eq!(a.media[0].formats, vec!["8".to_owned(), pt.to_string()]);
            assert_eq!(a.media[0].fmtp(pt), Some("0-16"));
        }
        let no_te = CodecPrefs { telephone_event: false, ..CodecPrefs::default() };
        let o = offer("8 101", "a=rtpmap:101 telephone-event/8000\r\n");
        assert_eq!(answer(&o, &no_te, &local(Direction::SendRecv)).unwrap().1.telephone_event, None);
    }

    #[test]
    fn dynamic_pt_for_a_static_codec() {
        let o = offer("97", "a=rtpmap:97 PCMA/8000\r\n");
        let (_, n) = answer(&o, &CodecPrefs::default(), &local(Direction::SendRecv)).unwrap();
        assert_eq!((n.codec, n.pt), (Codec::Pcma, 97));
    }

    #[test]
    fn hold_directions() {
        for (attr, want) in [
            ("a=sendonly\r\n", Direction::RecvOnly),
            ("a=recvonly\r\n", Direction::SendOnly),
            ("a=inactive\r\n", Direction::Inactive),
            ("a=sendrecv\r\n", Direction::SendRecv),
            ("", Direction::SendRecv),
        ] {
            let (a, n) = answer(&offer("8", attr), &CodecPrefs::default(), &local(Direction::SendRecv)).unwrap();
            assert_eq!(n.direction, want, "{attr}");
            assert_eq!(a.direction_of(&a.media[0]), want);
        }
        // Old-style hold: c=0.0.0.0 means "do not send to me".
        let text =
            "v=0\r\no=- 5 6 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n";
        let (_, n) = answer(
            &SessionDescription::parse(text.as_bytes()).unwrap(),
            &CodecPrefs::default(),
            &local(Direction::SendRecv),
        )
        .unwrap();
        assert_eq!(n.direction, Direction::RecvOnly);
        assert_eq!(n.remote, None);
        // We hold them while they offer sendrecv.
        let (_, n) = answer(&offer("8", ""), &CodecPrefs::default(), &local(Direction::SendOnly)).unwrap();
        assert_eq!(n.direction, Direction::SendOnly);
    }

    #[test]
    fn streams_refused_with_port_zero() {
        let text = "v=0\r\no=- 5 5 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=video 5000 RTP/AVP 31\r\nm=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 8\r\n";
        let (a, n) = answer(
            &SessionDescription::parse(text.as_bytes()).unwrap(),
            &CodecPrefs::default(),
            &local(Direction::SendRecv),
        )
        .unwrap();
        assert_eq!(a.media.len(), 3);
        assert_eq!((a.media[0].port, a.media[0].media.as_str()), (0, "video"));
        assert_eq!(a.media[1].port, 30000);
        assert_eq!(a.media[2].port, 0);
        assert_eq!(n.codec, Codec::Pcmu);
        let video_only = "v=0\r\no=- 5 5 IN IP4 198.51.100.7\r\ns=-\r\nt=0 0\r\nm=video 5000 RTP/AVP 31\r\n";
        assert_eq!(
            answer(
                &SessionDescription::parse(video_only.as_bytes()).unwrap(),
                &CodecPrefs::default(),
                &local(Direction::SendRecv)
            ),
            Err(NoMatch::NoAudio)
        );
    }

    #[test]
    fn g722_and_g729_offered_in_the_trunk_order_and_answered_without_annex_b() {
        let p = prefs(&[Codec::G722, Codec::G729, Codec::Pcma]);
        let text = build_offer(&p, &local(Direction::SendRecv)).to_text();
        assert!(text.contains("m=audio 30000 RTP/AVP 9 18 8 101\r\n"), "{text}");
        assert!(text.contains("a=rtpmap:9 G722/8000\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n"), "{text}");
        // A phone offering G.729 with Annex B (or saying nothing, which means yes) gets annexb=no.
        for extra in ["a=fmtp:18 annexb=yes\r\n", ""] {
            let (a, n) = answer(&offer("18 0", extra), &p, &local(Direction::SendRecv)).unwrap();
            assert_eq!((n.codec, n.pt), (Codec::G729, 18));
            assert_eq!(a.media[0].fmtp(18), Some("annexb=no"), "{extra:?}");
        }
        // Our order decides: G.722 before G.729 before PCMA, whatever the offer's order.
        let (_, n) = answer(&offer("8 18 9", ""), &p, &local(Direction::SendRecv)).unwrap();
        assert_eq!((n.codec, n.pt), (Codec::G722, 9));
        let (_, n) = answer(&offer("8 18", ""), &p, &local(Direction::SendRecv)).unwrap();
        assert_eq!(n.codec, Codec::G729);
        // G.722 by a dynamic type with its rtpmap.
        let (_, n) = answer(&offer("100", "a=rtpmap:100 G722/8000\r\n"), &p, &local(Direction::SendRecv)).unwrap();
        assert_eq!((n.codec, n.pt), (Codec::G722, 100));
        // A trunk without G.729 refuses an offer of G.729 alone.
        let g711 = prefs(&[Codec::Pcma, Codec::G722]);
        assert_eq!(answer(&offer("18", ""), &g711, &local(Direction::SendRecv)), Err(NoMatch::NoCommonCodec));
    }

    #[test]
    fn offer_and_read_answer() {
        let p = CodecPrefs::default();
        let o = build_offer(&p, &local(Direction::SendRecv));
        let text = o.to_text();
        assert!(text.contains("m=audio 30000 RTP/AVP 8 0 101\r\n"), "{text}");
        assert!(text.contains("a=fmtp:101 0-16\r\n"));
        assert!(text.contains("a=ptime:20\r\na=sendrecv\r\n"));
        let o = SessionDescription::parse(text.as_bytes()).unwrap();
        // The far end answers with its own choice: PCMU and telephone-event, on hold.
        let ans = "v=0\r\no=- 9 9 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 7078 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n";
        let n = read_answer(&o, &SessionDescription::parse(ans.as_bytes()).unwrap(), &p).unwrap();
        assert_eq!((n.codec, n.pt, n.telephone_event), (Codec::Pcmu, 0, Some(101)));
        assert_eq!(n.direction, Direction::RecvOnly);
        assert_eq!(n.remote, Some("203.0.113.5:7078".parse().unwrap()));
        let bad =
            "v=0\r\no=- 9 9 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 7078 RTP/AVP 18\r\n";
        assert_eq!(
            read_answer(&o, &SessionDescription::parse(bad.as_bytes()).unwrap(), &p),
            Err(NoMatch::NoCommonCodec)
        );
        // Our answer to our own offer round-trips through the reader.
        let (a, n1) = answer(&o, &p, &local(Direction::SendRecv)).unwrap();
        let n2 = read_answer(&o, &a, &p).unwrap();
        assert_eq!((n1.codec, n1.pt, n1.telephone_event), (n2.codec, n2.pt, n2.telephone_event));
    }
}
