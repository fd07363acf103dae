//! Call-progress tones end to end: the simulated PBX on span 1 (we are the network, `pri_net`)
//! calls out through the `callee` SIP trunk to sipp, which rings without early media (180 without
//! SDP). The PBX's B-channel then carries our ringback in the span's zone (`tonezone = "fr"` on
//! the span, over the board's `de`: 440 Hz, 1.5 s on / 3.5 s off, where de would be 425 Hz, 1 s /
//! 4 s) until the caller gives up (sipp gets CANCEL). A callee answering 486 gets the caller
//! DISCONNECT with progress indicator #8 and the busy tone (fr: 440 Hz, 0.5 s / 0.5 s) until it
//! hangs up. Peers: sipp (`sip-tester`), scenarios `tests/peers/sipp_uas_ring_*.xml`.
//!
//! Where the called ISDN side alerts without progress indicator #1/#8 (spans 2 and 3 cabled to
//! each other, span 3 ringing), the caller hears our ringback as well: a PBX on its B-channel
//! (ALERTING #8), and a SIP caller on a `ringback = "local"` trunk in its RTP, after a 183 with
//! our SDP.

use std::net::UdpSocket;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use spangate_tests::{free_port, linear, root, span, wait_udp_bound, Daemon, Scratch};

use crate::sip::{sipp, wait_exit};

const T: Duration = Duration::from_secs(20);

/// Span 1 (NT) facing a simulated PBX, calls from it to the `callee` trunk at `sipp_port`;
/// `span_keys` and `route_keys` are added to the span and the route.
fn config(scratch: &Scratch, sip_port: u16, sipp_port: u16, span_keys: &str, route_keys: &str) -> std::path::PathBuf {
    let cfg = format!(
        r#"[board]
model = "sim-e1x2"
backend = "sim"
tonezone = "de"
[[board.span]]
span = 1
kind = "e1"
timing = 0
termination = "nt"
signalling = "pri_net"
tonezone = "fr"
echo = {{ mode = "off" }}
{span_keys}
[board.span.sim]
line = "pbx"
[sip]
listen = "udp:127.0.0.1:{sip_port}"
[[sip.trunk]]
name = "callee"
host = "127.0.0.1"
port = {sipp_port}
codecs = ["pcma"]
[[route]]
name = "out"
from = "span:1"
to = "trunk:callee"
{route_keys}
"#
    );
    let p = scratch.path("tones.toml");
    std::fs::write(&p, cfg).expect("write config");
    p
}

/// sipp as the callee, playing `scenario` once.
fn callee(scratch: &Scratch, sipp_port: u16, scenario: &str) -> Child {
    let mut child = sipp()
        .arg("-sf")
        .arg(root().join("tests/peers").join(scenario))
        .args(["-m", "1", "-timeout", "60s", "-nostdin", "-i", "127.0.0.1"])
        .args(["-p", &sipp_port.to_string(), "-trace_err", "-error_file"])
        .arg(scratch.path(&format!("{scenario}.err")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sipp");
    wait_udp_bound(std::net::Ipv4Addr::LOCALHOST, sipp_port, &mut child, "sipp");
    child
}

fn far_calls(s: &Value) -> Vec<Value> {
    span(s, 1)["isdn"]["far_end"]["calls"].as_array().cloned().unwrap_or_default()
}

/// The PBX places a call; its id and B-channel once it is in `state`.
fn pbx_call_until(d: &Daemon, state: &str) -> (u64, u64) {
    pbx_dial_until(d, br#"{"called":"2001","calling":"4001"}"#, state)
}

/// The PBX places the call `body` describes; its id and B-channel once it is in `state`.
fn pbx_dial_until(d: &Daemon, body: &[u8], state: &str) -> (u64, u64) {
    let r = d.post_ok("/api/v1/spans/1/far/calls", body);
    let id = serde_json::from_slice::<Value>(&r.body).expect("JSON")["id"].as_u64().expect("id");
    let s = d.wait_for(&format!("the PBX's call in {state}"), T, |s| {
        far_calls(s).iter().any(|c| c["id"] == id && c["state"] == state)
    });
    let call = far_calls(&s).into_iter().find(|c| c["id"] == id).expect("call");
    (id, call["channel"].as_u64().expect("channel"))
}

/// `ms` of what the PBX hears on channel `ch`, linear.
fn hear(d: &Daemon, ch: u64, ms: u32) -> Vec<f64> {
    let r = d.request("POST", &format!("/api/v1/spans/1/far/channels/{ch}/capture?ms={ms}"), b"");
    assert_eq!(r.status, 200, "capture: {}", r.text());
    r.body.iter().map(|&c| f64::from(linear(c))).collect()
}

/// The audio cut into 10 ms blocks, tone or silence, and the lengths in ms of the runs of each:
/// (on, ms) in order. The first and last runs are cut by the capture's edges.
fn cadence(x: &[f64]) -> Vec<(bool, u32)> {
    let mut runs: Vec<(bool, u32)> = Vec::new();
    for block in x.chunks_exact(80) {
        let on = spangate_tests::rms(block) > 300.0;
        match runs.last_mut() {
            Some((o, ms)) if *o == on => *ms += 10,
            _ => runs.push((on, 10)),
        }
    }
    runs
}

/// The frequency of the tone in its longest burst in `x`, from the first to the last upward zero
/// crossing (the burst's edges, cut to 10 ms blocks, stay out of it).
fn frequency(x: &[f64]) -> f64 {
    let runs = cadence(x);
    let mut at = 0;
    let mut best = (0, 0);
    for &(on, ms) in &runs {
        let len = ms as usize * 8;
        if on && len > best.1 - best.0 {
            best = (at, at + len);
        }
        at += len;
    }
    let burst = &x[best.0..best.1];
    let ups: Vec<usize> = (1..burst.len()).filter(|&i| burst[i - 1] < 0.0 && burst[i] >= 0.0).collect();
    let (Some(first), Some(last)) = (ups.first(), ups.last()) else { return 0.0 };
    let cycles = ups.len() - 1;
    #[allow(clippy::cast_precision_loss)]
    let hz = cycles as f64 * 8000.0 / (last - first) as f64;
    hz
}

/// Checks the runs between the capture's edges against `on_ms`/`off_ms` (±30 ms), and that at
/// least `min_on` whole tone runs and one whole silence were heard.
fn assert_cadence(what: &str, runs: &[(bool, u32)], on_ms: u32, off_ms: u32, min_on: usize) {
    let inner = &runs[1..runs.len().saturating_sub(1).max(1)];
    for &(on, ms) in inner {
        let want = if on { on_ms } else { off_ms };
        assert!(ms.abs_diff(want) <= 30, "{what}: a {} run of {ms} ms, wanted {want}: {runs:?}", on_name(on));
    }
    assert!(inner.iter().filter(|r| r.0).count() >= min_on, "{what}: too few tone bursts: {runs:?}");
    assert!(inner.iter().any(|r| !r.0), "{what}: no whole silence: {runs:?}");
}

fn on_name(on: bool) -> &'static str {
    if on {
        "tone"
    } else {
        "silence"
    }
}

#[test]
fn ringback_while_a_sip_callee_rings_and_busy_on_486() {
    let scratch = Scratch::new("tones");
    let (sip_port, sipp_port) = (free_port(), free_port());
    let cfg = config(&scratch, sip_port, sipp_port, "", "");
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);

    // Ringing without early media: our ringback, fr's, for as long as the callee rings.
    let mut uas = callee(&scratch, sipp_port, "sipp_uas_ring_cancel.xml");
    let (id, ch) = pbx_call_until(&d, "CALL_DELIVERED");
    let heard = hear(&d, ch, 10_000);
    let runs = cadence(&heard);
    let hz = frequency(&heard);
    eprintln!("ringback: {hz:.1} Hz, runs (tone?, ms) {runs:?}");
    assert_cadence("ringback", &runs, 1500, 3500, 1);
    assert!((hz - 440.0).abs() < 440.0 * 0.01, "ringback at {hz:.1} Hz, wanted fr's 440 (de's is 425)");
    // The caller gives up: sipp sees CANCEL, and the tone stops with the call.
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/hangup"), b"");
    let status = wait_exit(&mut uas, T);
    assert!(status.is_some_and(|s| s.success()), "sipp (cancel): {status:?}\ndaemon log:\n{}", d.log());
    d.wait_for("the call cleared", T, |s| {
        far_calls(s).is_empty() && s["switch"]["calls"].as_array().is_some_and(Vec::is_empty)
    });
    let after = hear(&d, ch, 500);
    assert!(spangate_tests::rms(&after) < 50.0, "the channel is quiet once the call is gone");

    // Busy: DISCONNECT with progress #8 keeps the PBX on the line, hearing fr's busy tone.
    let mut uas = callee(&scratch, sipp_port, "sipp_uas_ring_busy.xml");
    let (id, ch) = pbx_call_until(&d, "DISCONNECT_INDICATION");
    let status = wait_exit(&mut uas, T);
    assert!(status.is_some_and(|s| s.success()), "sipp (486): {status:?}\ndaemon log:\n{}", d.log());
    let heard = hear(&d, ch, 3000);
    let hz = frequency(&heard);
    eprintln!("busy: {hz:.1} Hz, runs (tone?, ms) {:?}", cadence(&heard));
    assert_cadence("busy", &cadence(&heard), 500, 500, 2);
    assert!((hz - 440.0).abs() < 440.0 * 0.01, "busy at {hz:.1} Hz, wanted 440");
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/hangup"), b"");
    let s = d.wait_for("the busy call cleared", T, |s| {
        far_calls(s).is_empty() && s["switch"]["calls"].as_array().is_some_and(Vec::is_empty)
    });
    let cleared = span(&s, 1)["isdn"]["far_end"]["cleared"].as_array().cloned().unwrap_or_default();
    assert_eq!(cleared.last().and_then(|c| c["cause"].as_u64()), Some(17), "user busy: {cleared:?}");
    assert!(spangate_tests::rms(&hear(&d, ch, 500)) < 50.0, "no tone after the release");
}

/// Overlap receiving where we are the network: a SETUP with no digit gets SETUP ACKNOWLEDGE and
/// the zone's dial tone (fr: 440 Hz, continuous) until the first digit; a number no route can
/// take then gets DISCONNECT with progress #8 and the congestion tone (fr: 0.25 s / 0.25 s).
#[test]
fn dial_tone_until_the_first_digit_then_congestion_for_a_wrong_number() {
    let scratch = Scratch::new("tones-dial");
    let (sip_port, sipp_port) = (free_port(), free_port());
    let cfg = config(&scratch, sip_port, sipp_port, r#"overlapdial = "incoming""#, r#"called = "2001""#);
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);

    let (id, ch) = pbx_dial_until(&d, br#"{"called":"","calling":"4001","complete":false}"#, "OVERLAP_SENDING");
    let heard = hear(&d, ch, 2000);
    let runs = cadence(&heard);
    let hz = frequency(&heard);
    eprintln!("dial tone: {hz:.1} Hz, runs (tone?, ms) {runs:?}");
    assert_eq!(runs, [(true, 2000)], "a continuous dial tone");
    assert!((hz - 440.0).abs() < 440.0 * 0.01, "dial tone at {hz:.1} Hz, wanted 440");

    // The first digit stops it (within the time the digit takes to arrive); the number can
    // still grow, so the call waits in silence.
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/digits?d=2"), b"");
    let runs = cadence(&hear(&d, ch, 1000));
    eprintln!("after the first digit: {runs:?}");
    let tail = runs.last().expect("runs");
    assert!(!tail.0 && tail.1 >= 700, "the dial tone stops at the first digit: {runs:?}");
    assert!(runs.len() <= 2, "and stays off: {runs:?}");

    // 29... fits no route: congestion after DISCONNECT with progress #8.
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/digits?d=9"), b"");
    d.wait_for("the PBX's call disconnected", T, |s| {
        far_calls(s).iter().any(|c| c["id"] == id && c["state"] == "DISCONNECT_INDICATION")
    });
    let heard = hear(&d, ch, 2000);
    eprintln!("congestion: runs (tone?, ms) {:?}", cadence(&heard));
    assert_cadence("congestion", &cadence(&heard), 250, 250, 3);
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/hangup"), b"");
    let s = d.wait_for("the call cleared", T, |s| {
        far_calls(s).is_empty() && s["switch"]["calls"].as_array().is_some_and(Vec::is_empty)
    });
    let cleared = span(&s, 1)["isdn"]["far_end"]["cleared"].as_array().cloned().unwrap_or_default();
    assert_eq!(cleared.last().and_then(|c| c["cause"].as_u64()), Some(1), "unallocated number: {cleared:?}");
    assert!(spangate_tests::rms(&hear(&d, ch, 500)) < 50.0, "no tone after the release");
}

/// Span 1 (NT) faces the simulated PBX; spans 2 (TE) and 3 (NT) are cabled to each other, and
/// span 3, with no route from it, answers what arrives with ALERTING without a progress
/// indicator and waits (`incoming = "ring"`): a called side that plays no ringback of its own.
/// Calls from the PBX and from the `caller` trunk (`ringback = "local"`, at `caller_port`) go
/// out of span 2.
fn loop_config(scratch: &Scratch, sip_port: u16, caller_port: u16) -> std::path::PathBuf {
    use spangate_tests::{Config, Span};
    Config::board("sim-e1x4")
        .board_key("tonezone", "\"fr\"")
        .span(Span::e1(1, "pbx").timing(0).nt().echo_off())
        .span(Span::e1(2, "span:3").timing(1).te().echo_off())
        .span(Span::e1(3, "span:2").timing(0).nt().echo_off())
        .sip(&format!("udp:127.0.0.1:{sip_port}"), &[])
        .trunk("caller", "127.0.0.1", caller_port, &["pcma"], &["ringback = \"local\""])
        .route("pbx-out", "span:1", "span:2", &[])
        .route("sip-out", "trunk:caller", "span:2", &[])
        .write(scratch, "tones-loop.toml")
}

/// ISDN to ISDN: the called span alerts without progress #1/#8, so the PBX gets ALERTING #8
/// and hears our ringback (fr: 440 Hz, 1.5 s / 3.5 s) on its B-channel until it gives up.
#[test]
fn ringback_to_an_isdn_caller_when_the_isdn_callee_rings_without_tones() {
    let scratch = Scratch::new("tones-isdn");
    let (sip_port, caller_port) = (free_port(), free_port());
    let cfg = loop_config(&scratch, sip_port, caller_port);
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on spans 1-3", T, |s| (1..=3).all(|n| span(s, n)["isdn"]["layer2_up"] == true));
    let (id, ch) = pbx_call_until(&d, "CALL_DELIVERED");
    let heard = hear(&d, ch, 7000);
    let runs = cadence(&heard);
    let hz = frequency(&heard);
    eprintln!("ringback (isdn): {hz:.1} Hz, runs (tone?, ms) {runs:?}");
    assert_cadence("ringback", &runs, 1500, 3500, 1);
    assert!((hz - 440.0).abs() < 440.0 * 0.01, "ringback at {hz:.1} Hz, wanted fr's 440");
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/hangup"), b"");
    d.wait_for("the call cleared", T, |s| {
        far_calls(s).is_empty() && s["switch"]["calls"].as_array().is_some_and(Vec::is_empty)
    });
    assert!(spangate_tests::rms(&hear(&d, ch, 500)) < 50.0, "no tone after the release");
}

/// Reads SIP responses on `sock` until one whose status line starts `SIP/2.0 {code}`, failing on
/// `fail` (a 180 where a 183 was wanted) or after `T`; its text.
fn response(sock: &UdpSocket, code: u16, fail: &[u16], d: &Daemon) -> String {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < T {
        let Ok(n) = sock.recv(&mut buf) else { continue };
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let got: u16 = text.get(8..11).and_then(|c| c.parse().ok()).unwrap_or(0);
        if got == code {
            return text;
        }
        assert!(!fail.contains(&got), "wanted {code}, got:\n{text}\ndaemon log:\n{}", d.log());
    }
    panic!("no {code} within {T:?}\ndaemon log:\n{}", d.log());
}

/// A SIP caller on a `ringback = "local"` trunk to an ISDN callee that alerts without tones:
/// the gateway answers 183 with its SDP (not 180) and sends the zone's ringback (fr: 440 Hz,
/// 1.5 s / 3.5 s) in the RTP until the caller's CANCEL. The test is the SIP caller (a few
/// lines of UDP, so it can read the 183's body) and the RTP endpoint.
#[test]
fn ringback_in_the_rtp_to_a_sip_caller_on_a_local_ringback_trunk() {
    let scratch = Scratch::new("tones-sip");
    let (sip_port, caller_port) = (free_port(), free_port());
    let cfg = loop_config(&scratch, sip_port, caller_port);
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on spans 2-3", T, |s| (2..=3).all(|n| span(s, n)["isdn"]["layer2_up"] == true));
    let sock = UdpSocket::bind(("127.0.0.1", caller_port)).expect("bind SIP");
    sock.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
    sock.connect(("127.0.0.1", sip_port)).expect("connect");
    let (rtp, _rtcp) = spangate_tests::rtp_pair();
    rtp.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
    let rtp_port = rtp.local_addr().expect("addr").port();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 8\r\n\
         a=rtpmap:8 PCMA/8000\r\n"
    );
    let head = |method: &str, cseq: &str| {
        format!(
            "{method} sip:2000@127.0.0.1:{sip_port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{caller_port};branch=z9hG4bK-ringback-1\r\n\
             From: <sip:4001@127.0.0.1:{caller_port}>;tag=a1\r\nTo: <sip:2000@127.0.0.1:{sip_port}>\r\n\
             Call-ID: ringback-1@127.0.0.1\r\nCSeq: {cseq}\r\nContact: <sip:4001@127.0.0.1:{caller_port}>\r\nMax-Forwards: 70\r\n"
        )
    };
    let invite = format!(
        "{}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        head("INVITE", "1 INVITE"),
        sdp.len()
    );
    sock.send(invite.as_bytes()).expect("send INVITE");
    let progress = response(&sock, 183, &[180, 200, 404, 480, 486, 500, 503], &d);
    assert!(
        progress.contains("application/sdp") && progress.contains("m=audio "),
        "the 183 carries our SDP:\n{progress}"
    );

    // 7 s of RTP (350 packets of 20 ms), decoded.
    let mut heard = Vec::new();
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    while heard.len() < 7 * 8000 {
        assert!(start.elapsed() < Duration::from_secs(30), "only {} samples of RTP in 30 s", heard.len());
        let Ok(n) = rtp.recv(&mut buf) else { continue };
        if n > 12 && buf[1] & 0x7f == 8 {
            heard.extend(buf[12..n].iter().map(|&c| f64::from(linear(c))));
        }
    }
    let runs = cadence(&heard);
    let hz = frequency(&heard);
    eprintln!("ringback (rtp): {hz:.1} Hz, runs (tone?, ms) {runs:?}");
    assert_cadence("ringback in the RTP", &runs, 1500, 3500, 1);
    assert!((hz - 440.0).abs() < 440.0 * 0.01, "ringback at {hz:.1} Hz, wanted fr's 440");

    // The caller gives up: CANCEL, 200, 487 (ACKed), and the call is gone on both spans.
    sock.send(format!("{}Content-Length: 0\r\n\r\n", head("CANCEL", "1 CANCEL")).as_bytes()).expect("send CANCEL");
    response(&sock, 487, &[], &d);
    sock.send(format!("{}Content-Length: 0\r\n\r\n", head("ACK", "1 ACK")).as_bytes()).expect("send ACK");
    d.wait_for("the call cleared", T, |s| {
        s["switch"]["calls"].as_array().is_some_and(Vec::is_empty)
            && (2..=3).all(|n| span(s, n)["isdn"]["calls"].as_array().is_some_and(Vec::is_empty))
    });
}
