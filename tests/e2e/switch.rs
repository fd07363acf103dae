//! Calls routed between TDM spans (the "gateway in front of a legacy PBX" set-up) with no SIP
//! involved: a call from the simulated provider on span 1 goes out on span 2 to the simulated
//! PBX, with the called number rewritten by the route, and the other way; both parties hear each
//! other through the media thread's cross-connect; clearing from either side clears both legs,
//! and a number no route takes is refused with cause 1. With libpri on both ends: libpri as the
//! provider calls through us to a second libpri as the PBX.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use spangate_tests::{bit_exact, build_c_peer, pattern, span, Config, Daemon, Mismatch, Peer, Scratch, Span};

const T: Duration = Duration::from_secs(10);

/// Spans 1 (TE, to the provider) and 2 (NT, to the PBX) facing simulated far ends that answer
/// every call, echo cancellers off so audio can be compared bit for bit, and routes that turn the
/// provider's 0140xxxxxx into the PBX's 4-digit extensions and prefix the PBX's calls with 0.
fn pbx_in_front(scratch: &Scratch) -> std::path::PathBuf {
    Config::board("sim-e1x2")
        .board_key("name", "\"pbx in front\"")
        .span(Span::e1(1, "provider").timing(1).te().echo_off())
        .span(Span::e1(2, "pbx").timing(0).nt().echo_off())
        .route("did-to-pbx", "span:1", "span:2", &["called = \"014055\"", "strip = 6"])
        .route("pbx-out", "span:2", "span:1", &["prepend = \"0\""])
        .write(scratch, "pbx-in-front.toml")
}

fn far_calls(s: &Value, n: u64) -> Vec<Value> {
    span(s, n)["isdn"]["far_end"]["calls"].as_array().cloned().unwrap_or_default()
}

fn our_calls(s: &Value, n: u64) -> Vec<Value> {
    span(s, n)["isdn"]["calls"].as_array().cloned().unwrap_or_default()
}

fn bridges(s: &Value) -> Vec<Value> {
    s["switch"]["calls"].as_array().cloned().unwrap_or_default()
}

/// Places a call on the simulated far end of span `n`; its call id there.
fn far_place(d: &Daemon, n: u64, called: &str, calling: &str) -> u64 {
    let body = format!(r#"{{"called":"{called}","calling":"{calling}"}}"#);
    let r = d.post_ok(&format!("/api/v1/spans/{n}/far/calls"), body.as_bytes());
    serde_json::from_slice::<Value>(&r.body).expect("JSON")["id"].as_u64().expect("id")
}

/// Plays `audio` on `from` and checks it arrives unchanged on `to`, both `/api/v1/...` channel paths.
/// A far end's capture cannot be seen starting, so one that provably started after the play (the
/// rest of the audio arrived unchanged) is tried again; any other mismatch fails.
fn hears(d: &Daemon, from: &str, to: &str, audio: &[u8]) {
    let ms = audio.len() / 8 + 1000;
    for attempt in 1..=3 {
        let got = d.capture_during(to, ms, || {
            d.post_ok(&format!("{from}/play"), audio);
        });
        assert_eq!(got.status, 200, "capture: {}", got.text());
        match bit_exact(&got.body, audio) {
            Ok(()) => return,
            Err(Mismatch::LateStart { from: at }) if attempt < 3 => {
                eprintln!("attempt {attempt}: the capture on {to} started {at} samples into the play; again");
            }
            Err(e) => panic!("audio from {from} to {to}: {e:?}"),
        }
    }
}

#[test]
fn provider_call_reaches_the_pbx_rewritten_with_media_both_ways() {
    let scratch = Scratch::new("switch-pbx-in-front");
    let d = Daemon::with_config(&pbx_in_front(&scratch));
    d.wait_for("layer 2 up on both spans", T, |s| {
        span(s, 1)["isdn"]["layer2_up"] == true && span(s, 2)["isdn"]["layer2_up"] == true
    });
    let id = far_place(&d, 1, "0140551234", "0601020304");
    let s = d.wait_for("the provider's call answered through the PBX", T, |s| {
        far_calls(s, 1).iter().any(|c| c["id"] == id && c["state"] == "ACTIVE")
            && far_calls(s, 2).iter().any(|c| c["state"] == "ACTIVE")
    });
    let pbx = far_calls(&s, 2).into_iter().find(|c| c["state"] == "ACTIVE").expect("PBX call");
    assert_eq!((pbx["called"].as_str(), pbx["calling"].as_str()), (Some("1234"), Some("0601020304")), "{pbx}");
    let b = bridges(&s);
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!((b[0]["state"].as_str(), b[0]["to"].as_str()), (Some("active"), Some("span:2")), "{b:?}");
    assert!(d.get("/").text().contains(r#"id="switch-calls""#));

    let ch1 = far_calls(&s, 1).into_iter().find(|c| c["id"] == id).expect("call")["channel"].as_u64().expect("ch");
    let ch2 = pbx["channel"].as_u64().expect("channel");
    let provider = format!("/api/v1/spans/1/far/channels/{ch1}");
    let pbx_side = format!("/api/v1/spans/2/far/channels/{ch2}");
    hears(&d, &provider, &pbx_side, &pattern(1600, 21));
    hears(&d, &pbx_side, &provider, &pattern(1600, 22));

    // The provider hangs up: both legs clear with its cause, every channel idle again.
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/hangup"), b"");
    let s = d.wait_for("both legs cleared", T, |s| {
        our_calls(s, 1).is_empty() && our_calls(s, 2).is_empty() && far_calls(s, 2).is_empty() && bridges(s).is_empty()
    });
    let cleared = span(&s, 2)["isdn"]["cleared"].as_array().cloned().unwrap_or_default();
    assert_eq!(cleared.last().map(|c| c["cause"].clone()), Some(Value::from(16)), "{cleared:?}");
    assert_eq!(s["switch"]["counters"]["answered"], 1);
    d.wait_log("a CDR line", T, |l| l.contains("cdr"));
}

#[test]
fn pbx_calls_out_and_the_callee_clears() {
    let scratch = Scratch::new("switch-pbx-out");
    let d = Daemon::with_config(&pbx_in_front(&scratch));
    d.wait_for("layer 2 up on both spans", T, |s| {
        span(s, 1)["isdn"]["layer2_up"] == true && span(s, 2)["isdn"]["layer2_up"] == true
    });
    let id = far_place(&d, 2, "601020304", "1234");
    let s = d.wait_for("the PBX's call answered by the provider", T, |s| {
        far_calls(s, 2).iter().any(|c| c["id"] == id && c["state"] == "ACTIVE")
            && far_calls(s, 1).iter().any(|c| c["state"] == "ACTIVE")
    });
    let out = far_calls(&s, 1).into_iter().find(|c| c["state"] == "ACTIVE").expect("provider call");
    assert_eq!(out["called"], "0601020304", "{out}");
    let pid = out["id"].as_u64().expect("id");
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{pid}/hangup"), b"");
    d.wait_for("both legs cleared", T, |s| {
        our_calls(s, 1).is_empty() && our_calls(s, 2).is_empty() && far_calls(s, 2).is_empty() && bridges(s).is_empty()
    });
}

#[test]
fn a_number_no_route_takes_is_refused_with_cause_1() {
    let scratch = Scratch::new("switch-no-route");
    let d = Daemon::with_config(&pbx_in_front(&scratch));
    d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    far_place(&d, 1, "0899123456", "0601020304");
    let s = d.wait_for("the call refused", T, |s| {
        span(s, 1)["isdn"]["far_end"]["cleared"].as_array().is_some_and(|c| !c.is_empty()) && bridges(s).is_empty()
    });
    let cleared = span(&s, 1)["isdn"]["far_end"]["cleared"].as_array().cloned().unwrap_or_default();
    assert_eq!(cleared[0]["cause"], 1, "{cleared:?}");
    assert_eq!(s["switch"]["counters"]["no_route"], 1);
    assert!(far_calls(&s, 2).is_empty(), "nothing went to the PBX");
}

fn libpri_peer() -> std::path::PathBuf {
    build_c_peer("libpri_peer", &["pri"], &[("libpri", "libpri-dev"), ("-lpri", "libpri-dev")])
}

/// libpri as the provider (network side, facing our TE span 1) calls 0140551234; the route
/// takes it to span 2 as 1234, where a second libpri is the PBX (user side); the PBX rings, then
/// answers, then hangs up, and each step reaches the provider.
#[test]
fn libpri_provider_through_us_to_libpri_pbx() {
    let scratch = Scratch::new("switch-libpri");
    let dchan = |n: &str| format!("dchan:{}", scratch.path(n).display());
    let keep_up = |s: Span| s.echo_off().set("layer2_persistence", "\"keep_up\"");
    let path = Config::board("sim-libpri")
        .span(keep_up(Span::e1(1, &dchan("d1.sock")).set("signalling", "\"pri_cpe\"")))
        .span(keep_up(Span::e1(2, &dchan("d2.sock")).nt().timing(0)))
        .route("did-to-pbx", "span:1", "span:2", &["called = \"014055\"", "strip = 6"])
        .route("pbx-out", "span:2", "span:1", &["prepend = \"0\""])
        .write(&scratch, "libpri-switch.toml");
    let d = Daemon::with_config(&path);
    d.wait_for("the daemon", T, |s| s["spans"].as_array().is_some_and(|a| a.len() == 2));
    let start = |role: &str, own: &str, theirs: &str| {
        let mut cmd = Command::new(libpri_peer());
        cmd.args([role, "pri"]).arg(scratch.path(own)).arg(scratch.path(theirs)).arg("120");
        let p = Peer::start_scripted(cmd);
        p.wait_line("DCHAN_UP", T);
        p
    };
    let provider = start("net", "p1.sock", "d1.sock");
    let pbx = start("cpe", "p2.sock", "d2.sock");
    pbx.send("onring alert");
    // Both links settled on our side too: a SABME of ours sent before a peer was listening is
    // only repeated after T200, and layer 2 resets the link then (Q.921 §5.5.1.3).
    d.wait_for("layer 2 up on both spans", T, |s| {
        span(s, 1)["isdn"]["layer2_up"] == true && span(s, 2)["isdn"]["layer2_up"] == true
    });

    let m = pbx.mark();
    let pm = provider.mark();
    provider.send("call 0140551234 0601020304 5");
    let ring = pbx.wait_prefix(m, "RING ", T);
    assert!(ring.starts_with("RING called=1234 calling=0601020304 "), "{ring}");
    provider.wait_prefix(pm, "PROCEEDING", T);
    provider.wait_prefix(pm, "RINGING", T);
    pbx.send("answer");
    provider.wait_prefix(pm, "ANSWER", T);
    let s = d.wait_for("the bridge active", T, |s| bridges(s).iter().any(|b| b["state"] == "active"));
    assert_eq!(our_calls(&s, 1)[0]["channel"], 5, "the provider's exclusive channel");

    pbx.send("hangup 16");
    let hang = provider.wait_prefix(pm, "HANGUP", T);
    assert!(hang.contains("cause=16"), "{hang}");
    d.wait_for("every leg gone", T, |s| {
        our_calls(s, 1).is_empty() && our_calls(s, 2).is_empty() && bridges(s).is_empty()
    });

    // And the other way, refused by the provider as busy: the PBX hears cause 17.
    let m = pbx.mark();
    provider.send("onring reject 17");
    pbx.send("call 601020304 1234");
    let hang = pbx.wait_prefix(m, "HANGUP", T);
    assert!(hang.contains("cause=17"), "{hang}");
    d.wait_for("every leg gone", T, |s| {
        our_calls(s, 1).is_empty() && our_calls(s, 2).is_empty() && bridges(s).is_empty()
    });
}
