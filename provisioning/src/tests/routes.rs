//! `[sip]`, `[[sip.trunk]]` and `[[route]]`: keys, values, patterns and what routes refer to,
//! every problem reported at once with its position.

use super::{check, ok};
use crate::{Codec, Dtmf, Endpoint, HuntMode, IpNet, JitterBuffer, Npi, Ringback, SipListen, Ton, Transport};

#[test]
fn sip_section() {
    check(
        r#"[board]
        model = "s"
        [sip]
        listen = ["0.0.0.0:99999", "udp:127.0.0.1:5060", "127.0.0.1:5060", 5]  #~ sip.listen: `0.0.0.0:99999` is not [udp:|tcp:]ADDRESS:PORT #~ sip.listen: udp 127.0.0.1:5060 is listed twice #~ sip.listen: expected an address string, found an integer
        rtp_ports = "10001-20000"   #~ sip.rtp_ports: `10001-20000` starts on an odd port
        user_agent = ""             #~ sip.user_agent: the user agent must be non-empty
        ptime = 25                  #~ sip.ptime: 25 ms: the packet time must be a multiple of 10 ms
        dtmf = "rfc2833"            #~ sip.dtmf: unknown dtmf `rfc2833`: expected one of rfc4733, info, inband
        jitter_buffer = { min_ms = 100, max_ms = 50 }   #~ sip.jitter_buffer.max_ms: max_ms 50 is below min_ms 100
        jitter = 1                  #~ sip.jitter: unknown key `jitter`
        "#,
    );
    check(
        r#"[board]
        model = "s"
        [sip]
        rtp_ports = "900-2000"      #~ sip.rtp_ports: `900-2000` starts below 1024
        jitter_buffer = { fixed_ms = 60, min_ms = 20 }  #~ sip.jitter_buffer.fixed_ms: a fixed buffer has one depth
        "#,
    );
    check("[board]\nmodel = \"s\"\n[sip]\nrtp_ports = \"20000-10000\" #~ sip.rtp_ports: `20000-10000`: the range must go up\n");
    check("[board]\nmodel = \"s\"\n[sip]\nrtp_ports = \"all\" #~ sip.rtp_ports: `all` is not a port range\n");
    let c = ok(r#"[board]
        model = "s"
        [sip]
        listen = ["127.0.0.1:5060", "tcp:[::1]:5070"]
        rtp_ports = "16384-16483"
        user_agent = "spangate-test"
        ptime = 30
        dtmf = "info"
        jitter_buffer = { fixed_ms = 60 }
        "#);
    let tcp = Transport::Tcp;
    let l = |transport, a: &str| SipListen { transport, addr: a.parse().unwrap() };
    assert_eq!(c.sip.listen, [l(Transport::Udp, "127.0.0.1:5060"), l(tcp, "127.0.0.1:5060"), l(tcp, "[::1]:5070")]);
    assert_eq!((c.sip.rtp_ports, c.sip.user_agent.as_str(), c.sip.ptime), ((16384, 16483), "spangate-test", 30));
    assert_eq!((c.sip.dtmf, c.sip.jitter_buffer), (Dtmf::Info, JitterBuffer::Fixed { ms: 60 }));
    // Defaults.
    let d = ok("[board]\nmodel = \"s\"\n[sip]\n").sip;
    assert!(d.listen.is_empty());
    assert_eq!((d.rtp_ports, d.ptime, d.dtmf), ((10000, 20000), 20, Dtmf::Rfc4733));
    assert_eq!(d.jitter_buffer, JitterBuffer::Adaptive { min_ms: 20, max_ms: 200 });
}

#[test]
fn sip_trunks() {
    check(
        r#"[board]
        model = "s"
        [[sip.trunk]]
        name = "pbx"
        host = "192.0.2.10"
        port = 0                    #~ sip.trunk[0].port: 0 is out of range: must be 1..=65535
        transport = "tls"           #~ sip.trunk[0].transport: unknown transport `tls`: expected one of udp, tcp
        codecs = ["pcma", "opus", "pcma"]   #~ sip.trunk[0].codecs: unknown codec `opus` #~ sip.trunk[0].codecs: codec `pcma` listed twice
        register = { user = "gw", expire = 60 }   #~ sip.trunk[0].register.password: missing required key `password` #~ sip.trunk[0].register.expire: unknown key `expire`; did you mean `expires`?
        auth = { realm = "spangate", user = "pbx" }   #~ sip.trunk[0].auth.password: missing required key
        trust = ["192.0.2.10", "198.51.100.1/24", "2001:db8::/129", "pbx"]  #~ sip.trunk[0].trust: `198.51.100.1/24` has host bits set past /24; did you mean `198.51.100.0/24`? #~ sip.trunk[0].trust: `2001:db8::/129`: the prefix length must be 0..=128 #~ sip.trunk[0].trust: `pbx` is not an IP address or network
        keepalive_secs = -1         #~ sip.trunk[0].keepalive_secs: -1 is out of range: must be 0..=3600
        max_calls = 0               #~ sip.trunk[0].max_calls: 0 is out of range
        ptime = 5                   #~ sip.trunk[0].ptime: 5 is out of range: must be 10..=120
        ringback = "early"          #~ sip.trunk[0].ringback: unknown ringback `early`: expected one of none, local
        [[sip.trunk]]
        name = "pbx"                #~ sip.trunk[1].name: trunk `pbx` is defined twice
        host = "192.0.2.11"
        codecs = ["telephone-event"]    #~ sip.trunk[1].codecs: telephone-event carries only DTMF
        [[sip.trunk]]               #~ sip.trunk[2].name: missing required key `name` #~ sip.trunk[2].host: missing required key `host`
        port = 5060
        [[sip.trunk]]
        name = "a b"                #~ sip.trunk[3].name: trunk name `a b` must be a non-empty word
        host = ""                   #~ sip.trunk[3].host: `` is not a host name or address
        codecs = []                 #~ sip.trunk[3].codecs: a trunk needs at least one codec
        "#,
    );
    check(
        r#"[board]
        model = "s"
        [sip]
        listen = "udp:127.0.0.1:5060"
        [[sip.trunk]]
        name = "pbx"
        host = "192.0.2.10"
        transport = "tcp"           #~ sip.trunk[0].transport: a tcp trunk needs TCP in [sip] listen
        "#,
    );
    let c = ok(r#"[board]
        model = "s"
        [sip]
        listen = "0.0.0.0:5060"
        ptime = 40
        dtmf = "inband"
        [[sip.trunk]]
        name = "pbx"
        host = "pbx.example.net"
        port = 5080
        transport = "tcp"
        codecs = ["g722", "g729", "pcma", "telephone-event"]
        dtmf = "rfc4733"
        ringback = "local"
        register = { user = "gw", password = "s3cret" }
        auth = { realm = "spangate", user = "pbx", password = "pw" }
        trust = ["192.0.2.10", "198.51.100.0/24", "2001:db8::/32"]
        keepalive_secs = 30
        max_calls = 60
        [[sip.trunk]]
        name = "provider"
        host = "192.0.2.20"
        "#);
    let t = &c.sip.trunks[0];
    assert_eq!((t.port, t.transport, t.ptime, t.dtmf), (5080, Transport::Tcp, 40, Dtmf::Rfc4733));
    assert_eq!(t.codecs, [Codec::G722, Codec::G729, Codec::Pcma, Codec::TelephoneEvent]);
    assert_eq!((t.ringback, c.sip.trunks[1].ringback), (Ringback::Local, Ringback::None), "none by default");
    let r = t.register.as_ref().expect("register");
    assert_eq!(
        (r.user.as_str(), r.password.as_str(), r.domain.as_str(), r.expires),
        ("gw", "s3cret", "pbx.example.net", 3600)
    );
    assert_eq!(t.auth.as_ref().map(|a| a.realm.as_str()), Some("spangate"));
    assert_eq!((t.keepalive_secs, t.max_calls), (30, Some(60)));
    assert!(t.trust[1].contains("198.51.100.77".parse().unwrap()));
    assert!(!t.trust[1].contains("198.51.101.1".parse().unwrap()));
    assert!(t.trust[0].contains("192.0.2.10".parse().unwrap()) && !t.trust[0].contains("192.0.2.11".parse().unwrap()));
    assert!(
        t.trust[2].contains("2001:db8:1::5".parse().unwrap()) && !t.trust[2].contains("192.0.2.10".parse().unwrap())
    );
    // A trunk without its own ptime and dtmf takes [sip]'s; the default codecs are G.711 A and mu.
    let p = &c.sip.trunks[1];
    assert_eq!(
        (p.port, p.transport, p.ptime, p.dtmf, p.keepalive_secs, p.max_calls),
        (5060, Transport::Udp, 40, Dtmf::Inband, 0, None)
    );
    assert_eq!(p.codecs, [Codec::Pcma, Codec::Pcmu, Codec::TelephoneEvent]);
    assert!(p.register.is_none() && p.auth.is_none() && p.trust.is_empty());
    assert_eq!(IpNet::parse("0.0.0.0/0").map(|n| n.contains("203.0.113.9".parse().unwrap())), Ok(true));
}

const SPANS: &str = r#"[board]
        model = "s"
        [[board.span]]
        span = 1
        kind = "e1"
        group = [0]
        [[sip.trunk]]
        name = "pbx"
        host = "192.0.2.10"
"#;

#[test]
fn routes_name_what_exists() {
    check(&format!(
        r#"{SPANS}
        [[route]]
        name = "a"
        from = "span:2"             #~ route[0].from: there is no span 2 on this board
        to = "trunk:pxb"            #~ route[0].to: there is no trunk `pxb` in [[sip.trunk]]; did you mean `pbx`?
        [[route]]
        name = "a"                  #~ route[1].name: route `a` is defined twice
        from = "group:1"            #~ route[1].from: no span is in group 1
        to = "any"                  #~ route[1].to: `any`: expected span:N, group:N or trunk:NAME
        [[route]]
        from = ["trunk:pbx", "span:1"]
        to = "span:1"               #~ route[2].to: the route sends calls from span:1 back to it
        called = "01a"              #~ route[2].called: `01a`: `a` is not dialable
        strip = 40                  #~ route[2].strip: 40 is out of range: must be 0..=32
        [[route]]                   #~ route[3].to: missing required key `to`
        called_prefix = "0"         #~ route[3].called_prefix: unknown key `called_prefix`
        "#
    ));
}

#[test]
fn route_values() {
    check(&format!(
        r#"{SPANS}
        [[route]]
        from = ["span:1", "span:1", "any", 7, "trunk"]  #~ route[0].from: `any` already takes every source #~ route[0].from: span:1 is listed twice #~ route[0].from: expected a source string, found an integer #~ route[0].from: `trunk`: expected span:N, group:N, trunk:NAME or any
        called = "_0[1-9XXXXXXXX"   #~ route[0].called: `_0[1-9XXXXXXXX`: a `[..]` set holds only digits
        calling = "_00.1"           #~ route[0].calling: `_00.1`: `.` must be the last
        prepend = "0x"              #~ route[0].prepend: `0x` has `x`
        called_ton = "intl"         #~ route[0].called_ton: unknown called_ton `intl`
        called_npi = "e164"         #~ route[0].called_npi: unknown called_npi `e164`
        calling_hide = "yes"        #~ route[0].calling_hide: expected a boolean
        to = "trunk:pbx"
        hunt = "g"                  #~ route[0].hunt: hunt picks a channel of a span or group
        [[route]]
        from = []                   #~ route[1].from: an empty list takes no calls
        calling_set = "12"
        calling_strip = 1           #~ route[1].calling_strip: calling_set replaces the number
        to = "group:0"
        hunt = "x"                  #~ route[1].hunt: unknown hunt `x`: expected one of g, G, r, R
        [[route]]
        calling_set = ""            #~ route[2].calling_set: an empty calling number
        to = "span:1"
        "#
    ));
    // The column of a pattern error points at the bad character.
    let text = format!("{SPANS}[[route]]\ncalled = \"_0Y\"\nto = \"span:1\"\n");
    let d = crate::parse_str("t.toml", &text).unwrap_err();
    assert_eq!((d.0.len(), d.0[0].col), (1, 13), "{d}");
}

#[test]
fn routes_as_the_router_sees_them() {
    let c = ok(&format!(
        r#"{SPANS}
        [[route]]
        from = ["group:0", "trunk:pbx"]
        called = "_0[1-9]XXXXXXXX"
        calling = "06"
        strip = 1
        prepend = "+33"
        called_ton = "international"
        called_npi = "isdn"
        calling_prepend = "0"
        calling_strip = 2
        calling_ton = "national"
        calling_npi = "private"
        calling_hide = true
        to = "span:1"
        hunt = "R"
        [[route]]
        name = "out"
        to = "trunk:pbx"
        "#
    ));
    let r = &c.routes[0];
    assert_eq!(r.name, "route 1");
    assert_eq!(r.from, [Endpoint::Group(0), Endpoint::Trunk("pbx".into())]);
    assert_eq!((r.called.as_str(), r.called.is_pattern()), ("_0[1-9]XXXXXXXX", true));
    assert_eq!(r.calling.as_ref().map(|m| m.as_str()), Some("06"));
    assert_eq!(
        (r.strip, r.prepend.as_str(), r.called_ton, r.called_npi),
        (1, "+33", Some(Ton::International), Some(Npi::Isdn))
    );
    assert_eq!((r.calling_strip, r.calling_prepend.as_str(), r.calling_set.as_deref()), (2, "0", None));
    assert_eq!((r.calling_ton, r.calling_npi, r.calling_hide), (Some(Ton::National), Some(Npi::Private), true));
    assert_eq!((r.to.clone(), r.hunt), (Endpoint::Span(1), HuntMode::RoundRobinDown));
    let o = &c.routes[1];
    assert_eq!((o.name.as_str(), o.from.as_slice(), o.called.as_str()), ("out", &[Endpoint::Any][..], ""));
    assert_eq!(
        (o.to.clone(), o.hunt, o.called_ton, o.calling.is_none()),
        (Endpoint::Trunk("pbx".into()), HuntMode::Lowest, None, true)
    );
}
