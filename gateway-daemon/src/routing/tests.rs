//! Routing tests, data-driven: a config as TOML, then calls and the decision each must get, as
//! one compact line (`route-name destination called` / `more` / `no:CAUSE`).

use super::*;

/// Two E1 spans (provider: group 0; PBX: group 2) and a SIP trunk, then `routes`.
fn config(routes: &str) -> Config {
    let text = format!(
        r#"[board]
model = "sim-test"
[[board.span]]
span = 1
kind = "e1"
signalling = "pri_cpe"
group = [0, 11]
[[board.span]]
span = 2
kind = "e1"
signalling = "pri_net"
timing = 0
group = [2, 12]
[[sip.trunk]]
name = "pbx"
host = "192.0.2.10"
[[sip.trunk]]
name = "backup"
host = "192.0.2.11"
{routes}"#
    );
    match provisioning::parse_str("t.toml", &text) {
        Ok(c) => c,
        Err(d) => panic!("config refused:\n{d}"),
    }
}

fn source(s: &str) -> Source {
    match s.split_once(':') {
        Some(("span", n)) => Source::Span(n.parse().expect("span number")),
        Some(("trunk", t)) => Source::Trunk(t.to_string()),
        _ => panic!("bad source {s}"),
    }
}

fn dest(d: &Destination) -> String {
    match d {
        Destination::Trunk(t) => format!("trunk:{t}"),
        Destination::Span { span, hunt } => format!("span:{span}/{hunt}"),
        Destination::Group { group, hunt } => format!("group:{group}/{hunt}"),
    }
}

fn show(d: &Decision) -> String {
    match d {
        Decision::Match(m) => format!("{} {} {}", m.name, dest(&m.destination), m.called),
        Decision::NeedMore => "more".into(),
        Decision::NoMatch { cause } => format!("no:{cause}"),
    }
}

/// Each case: source, called number, complete?, expected decision.
#[track_caller]
fn check(routes: &str, cases: &[(&str, &str, bool, &str)]) {
    let router = Router::new(&config(routes));
    for (src, called, complete, want) in cases {
        let got = show(&router.route(&CallRequest::new(source(src), called), *complete));
        assert_eq!(got, *want, "call from {src} to `{called}` (complete: {complete})");
    }
}

#[test]
fn patterns_and_overlap() {
    let routes = r#"
[[route]]
name = "mobile"
from = "span:2"
called = "_0[67]XXXXXXXX"
to = "span:1"
[[route]]
name = "intl"
from = "span:2"
called = "_00."
to = "group:0"
[[route]]
name = "short"
from = "span:2"
called = "_1X!"
to = "trunk:pbx"
[[route]]
name = "rest"
from = "span:2"
called = "_0ZXXXXXXXX"
to = "trunk:backup"
"#;
    check(
        routes,
        &[
            // Fixed-length patterns route as soon as the last digit is in.
            ("span:2", "0612345678", false, "mobile span:1/g 0612345678"),
            ("span:2", "061234567", false, "more"),
            ("span:2", "06123456789", false, "no:1"),
            ("span:2", "0", false, "more"),
            ("span:2", "", false, "more"),
            // `.` waits: more digits could follow, until sending complete or T302.
            ("span:2", "00", false, "more"),
            ("span:2", "0044", false, "more"),
            ("span:2", "0044", true, "intl group:0/g 0044"),
            ("span:2", "00", true, "no:1"),
            // `!` routes at once.
            ("span:2", "1", false, "more"),
            ("span:2", "15", false, "short trunk:pbx 15"),
            ("span:2", "155", false, "short trunk:pbx 155"),
            // The first matching route wins; later ones are fall-overs.
            ("span:2", "0712345678", true, "mobile span:1/g 0712345678"),
            ("span:2", "0112345678", false, "rest trunk:backup 0112345678"),
            // Nothing can ever match: refused at once, without waiting for T302.
            ("span:2", "9", false, "no:1"),
            ("span:2", "*", false, "no:1"),
            // No route takes calls from span 1 at all.
            ("span:1", "0612345678", true, "no:3"),
            ("trunk:pbx", "0612345678", true, "no:3"),
        ],
    );
}

#[test]
fn prefixes_sources_and_calling() {
    let routes = r#"
[[route]]
name = "vip"
from = ["trunk:pbx", "trunk:backup"]
calling = "_1XX"
to = "span:1"
hunt = "G"
[[route]]
name = "did"
from = "group:11"
called = "0147"
to = "trunk:pbx"
[[route]]
name = "all"
from = "any"
to = "group:0"
"#;
    check(
        routes,
        &[
            ("span:1", "0147001234", true, "did trunk:pbx 0147001234"),
            // A prefix is open-ended: with overlap it waits, whichever route it would be.
            ("span:1", "0147001234", false, "more"),
            ("span:1", "0148", true, "all group:0/g 0148"),
            ("trunk:pbx", "0148", true, "all group:0/g 0148"),
        ],
    );
    let router = Router::new(&config(routes));
    let req = CallRequest::new(Source::Trunk("backup".into()), "33").calling("123");
    assert_eq!(show(&router.route(&req, true)), "vip span:1/G 33");
    // A calling number that does not fit, or none, skips the route.
    let req = CallRequest::new(Source::Trunk("backup".into()), "33").calling("1234");
    assert_eq!(show(&router.route(&req, true)), "all group:0/g 33");
    let req = CallRequest::new(Source::Trunk("backup".into()), "33");
    assert_eq!(show(&router.route(&req, true)), "all group:0/g 33");
    // group:11 is span 1's, not span 2's.
    assert_eq!(show(&router.route(&CallRequest::new(Source::Span(2), "0147"), true)), "all group:0/g 0147");
    assert!(router.routes_from(&Source::Span(2)));
}

#[test]
fn rewriting() {
    let routes = r#"
[[route]]
name = "in"
from = "span:1"
called = "_0147XXXXXX"
strip = 4
prepend = "8"
called_ton = "subscriber"
called_npi = "private"
calling_strip = 1
calling_prepend = "+33"
calling_ton = "international"
calling_npi = "isdn"
to = "span:2"
[[route]]
name = "out"
from = "span:2"
calling_set = "0147000000"
calling_hide = true
to = "span:1"
[[route]]
name = "long-strip"
from = "trunk:pbx"
strip = 20
to = "span:1"
"#;
    let router = Router::new(&config(routes));
    let mut req = CallRequest::new(Source::Span(1), "0147001234").calling("0611223344");
    req.called_ton = 2;
    req.called_npi = 1;
    req.calling_ton = 2;
    let Decision::Match(m) = router.route(&req, true) else { panic!("no match") };
    assert_eq!((m.route, m.called.as_str(), m.called_ton, m.called_npi), (0, "8001234", 4, 9));
    assert_eq!((m.calling.as_deref(), m.calling_ton, m.calling_npi), (Some("+33611223344"), 1, 1));
    assert_eq!(m.calling_presentation, Presentation::Allowed);

    let mut req = CallRequest::new(Source::Span(2), "0612345678").calling("201");
    req.called_ton = 2;
    req.calling_presentation = Presentation::Allowed;
    let Decision::Match(m) = router.route(&req, true) else { panic!("no match") };
    // Nothing said about type and plan: they pass through as received.
    assert_eq!((m.called.as_str(), m.called_ton, m.called_npi), ("0612345678", 2, 0));
    assert_eq!((m.calling.as_deref(), m.calling_presentation), (Some("0147000000"), Presentation::Restricted));
    // calling_set also gives a number to a call that came without one.
    let Decision::Match(m) = router.route(&CallRequest::new(Source::Span(2), "1"), true) else { panic!() };
    assert_eq!(m.calling.as_deref(), Some("0147000000"));

    // Stripping more than there is leaves an empty number, never a panic.
    let Decision::Match(m) = router.route(&CallRequest::new(Source::Trunk("pbx".into()), "123"), true) else {
        panic!()
    };
    assert_eq!((m.called.as_str(), m.calling), ("", None));
}

#[test]
fn fall_over_goes_down_the_matching_routes() {
    let routes = r#"
[[route]]
name = "first"
from = "span:1"
called = "_01XXXXXXXX"
to = "trunk:pbx"
[[route]]
name = "not-this-number"
from = "span:1"
called = "_02XXXXXXXX"
to = "trunk:backup"
[[route]]
name = "not-this-source"
from = "span:2"
to = "trunk:backup"
[[route]]
name = "second"
from = "group:0"
called = "01"
strip = 2
to = "trunk:backup"
[[route]]
name = "last"
from = "any"
to = "span:2"
"#;
    let router = Router::new(&config(routes));
    let req = CallRequest::new(Source::Span(1), "0123456789");
    let Decision::Match(m) = router.route(&req, true) else { panic!() };
    let mut chain = vec![(m.name.clone(), m.called.clone())];
    let mut at = m.route;
    while let Some(m) = router.next(&req, at) {
        chain.push((m.name.clone(), m.called.clone()));
        at = m.route;
    }
    let chain: Vec<(&str, &str)> = chain.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(chain, [("first", "0123456789"), ("second", "23456789"), ("last", "0123456789")]);
    assert!(router.next(&req, usize::MAX).is_none());
    assert!(is_fall_over_cause(34) && is_fall_over_cause(44) && !is_fall_over_cause(17) && !is_fall_over_cause(1));
    assert!(is_fall_over_status(503) && !is_fall_over_status(486) && !is_fall_over_status(404));
}

/// Hunts `n` times in `mode` with the channels in `busy` taken; each pick becomes busy only if
/// `hold` (a call that stays up).
fn hunts(target: Destination, busy: &[(u32, u8)], n: usize, hold: bool) -> Vec<String> {
    let mut router = Router::new(&config(""));
    let mut taken: Vec<ChannelRef> = busy.iter().map(|&(span, channel)| ChannelRef { span, channel }).collect();
    let mut out = Vec::new();
    for _ in 0..n {
        let t = taken.clone();
        match router.hunt(&target, &|c| t.contains(&c)) {
            Some(c) => {
                out.push(format!("{}.{}", c.span, c.channel));
                if hold {
                    taken.push(c);
                }
            }
            None => out.push("none".into()),
        }
    }
    out
}

#[test]
fn hunting_orders() {
    let span = |hunt| Destination::Span { span: 1, hunt };
    let group = |group, hunt| Destination::Group { group, hunt };
    // g: lowest free first, skipping busy ones (16 is the D-channel, never a B-channel).
    assert_eq!(hunts(span(HuntMode::Lowest), &[(1, 1), (1, 3)], 3, true), ["1.2", "1.4", "1.5"]);
    assert_eq!(hunts(span(HuntMode::Lowest), &[], 3, false), ["1.1", "1.1", "1.1"]);
    assert_eq!(hunts(span(HuntMode::Lowest), &(1..=14).map(|c| (1, c)).collect::<Vec<_>>(), 2, true), ["1.15", "1.17"]);
    // G: highest free first.
    assert_eq!(hunts(span(HuntMode::Highest), &[(1, 31)], 3, true), ["1.30", "1.29", "1.28"]);
    // r: round robin up, even when the previous call has already gone; wraps round.
    assert_eq!(hunts(span(HuntMode::RoundRobinUp), &[(1, 2)], 3, false), ["1.1", "1.3", "1.4"]);
    // R: round robin down from the top.
    assert_eq!(hunts(span(HuntMode::RoundRobinDown), &[(1, 30)], 3, false), ["1.31", "1.29", "1.28"]);
    // A group spans its spans in span order: group 0 is span 1 only, group 11 too; add none.
    assert_eq!(hunts(group(0, HuntMode::Highest), &[], 1, true), ["1.31"]);
    // Every channel busy: nothing, and the caller refuses with 34.
    let all: Vec<(u32, u8)> = (1..=31).filter(|c| *c != 16).map(|c| (2, c)).collect();
    assert_eq!(hunts(group(2, HuntMode::Lowest), &all, 1, true), ["none"]);
    assert_eq!(hunts(Destination::Trunk("pbx".into()), &[], 1, true), ["none"]);
}

#[test]
fn round_robin_wraps_and_spans_several_spans() {
    // Two spans in one group with short channel lists, so the wrap is visible.
    let text = r#"[board]
model = "sim-test"
[[board.span]]
span = 3
kind = "bri"
group = [5]
[[board.span]]
span = 1
kind = "bri"
group = [5]
"#;
    let cfg = provisioning::parse_str("t.toml", text).expect("valid");
    let mut router = Router::new(&cfg);
    let up = Destination::Group { group: 5, hunt: HuntMode::RoundRobinUp };
    let down = Destination::Group { group: 5, hunt: HuntMode::RoundRobinDown };
    let mut picks = Vec::new();
    for _ in 0..5 {
        let c = router.hunt(&up, &|c| c == ChannelRef { span: 3, channel: 1 }).expect("free");
        picks.push(format!("{}.{}", c.span, c.channel));
    }
    // Span 1 before span 3, whatever the file order; 3.1 busy is skipped; then it wraps.
    assert_eq!(picks, ["1.1", "1.2", "3.2", "1.1", "1.2"]);
    // r and R share the position, as in chan_dahdi: down from 1.2 is 1.1, then wraps to 3.2.
    let c = router.hunt(&down, &|_| false).expect("free");
    assert_eq!((c.span, c.channel), (1, 1));
    let c = router.hunt(&down, &|_| false).expect("free");
    assert_eq!((c.span, c.channel), (3, 2));
}

/// xivo-examples.md §3: four E1 spans, two to the provider (groups 0 and 11/12), two to the PBX
/// (groups 2 and 13/14, overlap receiving); numbers still on the PBX go to it, everything the
/// PBX dials goes out to the provider. Here the PBX keeps the DIDs 0147 20 xx xx, takes them as
/// four-digit extensions, and its calls out go with the company's main number when the extension
/// is withheld.
#[test]
fn gateway_in_front_of_a_legacy_pbx() {
    let mut text = String::from(
        r#"[board]
model = "te420"
backend = "dahdi"
kernel_module = "wct4xxp"
"#,
    );
    for (span, timing, sig, groups) in [
        (1, 1, "pri_cpe", "[0, 11]"),
        (2, 2, "pri_cpe", "[0, 12]"),
        (3, 0, "pri_net", "[2, 13]"),
        (4, 0, "pri_net", "[2, 14]"),
    ] {
        let overlap = if sig == "pri_net" { "overlapdial = \"incoming\"\n" } else { "" };
        text += &format!(
            "[[board.span]]\nspan = {span}\nkind = \"e1\"\ntiming = {timing}\nsignalling = \"{sig}\"\ngroup = {groups}\n{overlap}"
        );
    }
    text += r#"
[[route]]
name = "dids-to-pbx"
from = "group:0"
called = "_014720XXXX"
strip = 6
called_ton = "subscriber"
to = "group:2"
hunt = "r"
[[route]]
name = "emergency"
from = "group:2"
called = "_1[578]!"
to = "group:0"
[[route]]
name = "pbx-out"
from = "group:2"
called = "_0."
calling_prepend = "014720"
calling_ton = "national"
to = "group:0"
[[route]]
name = "pbx-out-backup"
from = "group:2"
called = "_0."
calling_set = "0147200000"
to = "span:2"
hunt = "G"
"#;
    let cfg = provisioning::parse_str("xivo.toml", &text).unwrap_or_else(|d| panic!("{d}"));
    let mut router = Router::new(&cfg);

    // The provider sends en bloc: a DID reaches the PBX as its extension.
    let did = CallRequest::new(Source::Span(1), "0147201234").calling("0611223344");
    let Decision::Match(m) = router.route(&did, true) else { panic!("DID not routed") };
    assert_eq!((m.name.as_str(), m.called.as_str(), m.called_ton), ("dids-to-pbx", "1234", 4));
    assert_eq!(m.calling.as_deref(), Some("0611223344"));
    // Both provider spans are group 0.
    assert_eq!(
        show(&router.route(&CallRequest::new(Source::Span(2), "0147209999"), true)),
        "dids-to-pbx group:2/r 9999"
    );
    // A number the PBX does not have is unallocated.
    assert_eq!(show(&router.route(&CallRequest::new(Source::Span(1), "0147301234"), true)), "no:1");
    // Round robin over the PBX spans' 60 channels: 3.1, 3.2, ... then on to span 4 after 3.31.
    let picks: Vec<ChannelRef> = (0..32).filter_map(|_| router.hunt(&m.destination, &|_| false)).collect();
    assert_eq!((picks[0], picks[1]), (ChannelRef { span: 3, channel: 1 }, ChannelRef { span: 3, channel: 2 }));
    assert_eq!(
        (picks[29], picks[30], picks[31]),
        (ChannelRef { span: 3, channel: 31 }, ChannelRef { span: 4, channel: 1 }, ChannelRef { span: 4, channel: 2 })
    );

    // The PBX dials digit by digit (overlapdial = incoming): the router waits, then routes.
    let from_pbx = |called: &str| CallRequest::new(Source::Span(3), called).calling("1234");
    assert_eq!(show(&router.route(&from_pbx("1"), false)), "more");
    assert_eq!(show(&router.route(&from_pbx("18"), false)), "emergency group:0/g 18");
    assert_eq!(show(&router.route(&from_pbx("0"), false)), "more");
    assert_eq!(show(&router.route(&from_pbx("06123"), false)), "more");
    // T302 expires (or Sending Complete): the number is complete.
    let Decision::Match(m) = router.route(&from_pbx("0612345678"), true) else { panic!("PBX call not routed") };
    assert_eq!((m.name.as_str(), m.calling.as_deref(), m.calling_ton), ("pbx-out", Some("0147201234"), 2));
    // The provider's group is congested (cause 34): the backup route uses span 2 only, from the top.
    assert!(is_fall_over_cause(34));
    let b = router.next(&from_pbx("0612345678"), m.route).expect("a backup route");
    assert_eq!((b.name.as_str(), b.calling.as_deref()), ("pbx-out-backup", Some("0147200000")));
    assert_eq!(router.hunt(&b.destination, &|_| false), Some(ChannelRef { span: 2, channel: 31 }));
    assert!(router.next(&from_pbx("0612345678"), b.route).is_none());
    // Digits the PBX cannot send anywhere are refused early, without waiting for T302.
    assert_eq!(show(&router.route(&from_pbx("9"), false)), "no:1");
}

/// The embedded default board (board-configs/sim-e1x2.toml): moved DIDs to the SIP PBX, with
/// the legacy PBX as the fall-over; everything else between the provider and the legacy PBX.
#[test]
fn the_default_board_routes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../board-configs/sim-e1x2.toml");
    let cfg = provisioning::load_file(std::path::Path::new(path)).unwrap_or_else(|d| panic!("{d}"));
    let router = Router::new(&cfg);
    let did = CallRequest::new(Source::Span(1), "0147201234");
    assert_eq!(show(&router.route(&did, true)), "dids-to-ip-pbx trunk:pbx 1234");
    let Decision::Match(m) = router.route(&did, true) else { panic!() };
    assert_eq!(router.next(&did, m.route).map(|m| (m.name, m.called)), Some(("provider-to-pbx".into(), did.called)));
    assert_eq!(show(&router.route(&CallRequest::new(Source::Span(1), "1234"), true)), "provider-to-pbx span:2/g 1234");
    assert_eq!(show(&router.route(&CallRequest::new(Source::Span(2), "0601020304"), false)), "more");
    assert_eq!(
        show(&router.route(&CallRequest::new(Source::Span(2), "0601020304"), true)),
        "pbx-to-provider span:1/g 0601020304"
    );
    let sip = CallRequest::new(Source::Trunk("pbx".into()), "0601020304");
    assert_eq!(show(&router.route(&sip, true)), "pbx-to-provider span:1/g 0601020304");
    assert!(router.routes_from(&Source::Span(1)) && router.routes_from(&Source::Span(2)));
    assert!(!router.routes_from(&Source::Trunk("other".into())));
}

/// The same XiVO set-up imported from its DAHDI files (`spangate import-dahdi`): the imported
/// routes carry every call across, provider group 0 to PBX group 2 and back, hunting lowest first.
#[test]
fn imported_xivo_gateway_routes_across() {
    use dahdi_driver::conf::{import, Input};
    let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dahdi-driver/tests/fixtures/xivo/pbx-gateway");
    let read = |f: &str| Input::read(&d.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let modules = read("modules");
    let (toml, _) = import(&read("system.conf"), &read("dahdi-channels.conf"), None, Some(&modules))
        .unwrap_or_else(|e| panic!("{e}"));
    let cfg = provisioning::parse_str("imported.toml", &toml).unwrap_or_else(|d| panic!("{d}\n{toml}"));
    let mut router = Router::new(&cfg);
    for (span, to, first) in
        [(1, "group:2/g", (3, 1)), (2, "group:2/g", (3, 1)), (3, "group:0/g", (1, 1)), (4, "group:0/g", (1, 1))]
    {
        let d = router.route(&CallRequest::new(Source::Span(span), "0147201234"), true);
        let Decision::Match(m) = &d else { panic!("span {span}: {}", show(&d)) };
        assert_eq!(dest(&m.destination), to, "span {span}");
        let c = router.hunt(&m.destination, &|_| false).expect("a free channel");
        assert_eq!((c.span, c.channel), first, "span {span}");
    }
    // Span 3 busy: the PBX group goes on with span 4.
    let Decision::Match(m) = router.route(&CallRequest::new(Source::Span(1), "1"), true) else { panic!() };
    assert_eq!(router.hunt(&m.destination, &|c| c.span == 3), Some(ChannelRef { span: 4, channel: 1 }));
}
