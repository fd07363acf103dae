//! SIP calls through the gateway with sipp as the PBX: sipp's built-in UAC calls spangate, which
//! routes the call out of span 1 to the simulated provider (which answers), and sipp hangs up;
//! a call from the simulated provider goes out on the `pbx` trunk to sipp's built-in UAS, which
//! answers, and the provider hangs up (we send BYE). Malformed and unknown requests get their
//! answers (400, 501) and the next call still works. The trunk registers to a sipp registrar that
//! challenges with 401 (`tests/peers/sipp_registrar.xml`). Audio: with sipp echoing the RTP it gets
//! (`-rtp_echo`), a tone the provider sends comes back to it through span 1, our RTP out, sipp,
//! our jitter buffer and span 1 again, within 2% in frequency and 3 dB in level.

use std::net::UdpSocket;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use spangate_tests::{alaw, free_port, linear, span, wait_udp_bound, Config, Daemon, Scratch, Span, LOCALHOST};

const T: Duration = Duration::from_secs(10);

pub(crate) fn sipp() -> Command {
    if !std::path::Path::new("/usr/bin/sipp").exists() {
        panic!("sipp is missing: install the Debian package sip-tester (or run `cargo xtask deps`)");
    }
    Command::new("/usr/bin/sipp")
}

/// sipp on 127.0.0.1:`port`, not reading stdin, its errors written to `err` in the scratch
/// directory; the caller adds the scenario, its options and the remote address.
pub(crate) fn sipp_on(scratch: &Scratch, port: u16, err: &str) -> Command {
    let mut c = sipp();
    c.args(["-nostdin", "-i", "127.0.0.1", "-p", &port.to_string(), "-trace_err", "-error_file"])
        .arg(scratch.path(err));
    c
}

/// Starts a sipp that runs beside the test (a UAS, a registrar, a caller held open); its output
/// is not read, so it goes nowhere rather than into a pipe that could fill and stall it.
pub(crate) fn spawn(sipp: &mut Command) -> Child {
    sipp.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("run sipp")
}

/// Span 1 (TE) on `line` (the simulated provider answers every call); SIP on `listen`; trunk
/// `pbx` is sipp on `sipp_port` (`trunk_keys` are more lines of it); calls from the trunk go out
/// on span 1, calls from span 1 to 2xxx go to the trunk.
pub(crate) fn config(listen: &str, line: &str, sipp_port: u16, trunk_keys: &[&str]) -> Config {
    Config::board("sim-e1x2")
        .span(Span::e1(1, line).timing(1).te().echo_off())
        .sip(listen, &[])
        .trunk("pbx", "127.0.0.1", sipp_port, &["pcma", "pcmu", "telephone-event"], trunk_keys)
        .route("pbx-out", "trunk:pbx", "span:1", &[])
        .route("to-pbx", "span:1", "trunk:pbx", &["called = \"2\""])
}

pub(crate) fn start(scratch: &Scratch) -> (Daemon, u16, u16) {
    let (sip_port, sipp_port) = (free_port(), free_port());
    let cfg = config(&format!("udp:127.0.0.1:{sip_port}"), "provider", sipp_port, &[]).write(scratch, "sip.toml");
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    (d, sip_port, sipp_port)
}

pub(crate) fn check(out: &Output, what: &str, d: &Daemon) {
    assert!(
        out.status.success(),
        "sipp {what} failed ({}):\n{}\n{}\ndaemon log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        d.log()
    );
}

pub(crate) fn far_calls(s: &Value) -> Vec<Value> {
    span(s, 1)["isdn"]["far_end"]["calls"].as_array().cloned().unwrap_or_default()
}

/// sipp's UAC: INVITE, 100/180/200, ACK, a second of call, BYE, 200.
fn uac_call(scratch: &Scratch, sip_port: u16, sipp_port: u16, called: &str) -> Output {
    sipp_on(scratch, sipp_port, "sipp_err.log")
        .args(["-sn", "uac", "-s", called, "-m", "1", "-d", "1000", "-timeout", "20s"])
        .arg(format!("127.0.0.1:{sip_port}"))
        .output()
        .expect("run sipp")
}

#[test]
fn sipp_calls_out_through_the_provider_and_hangs_up() {
    let scratch = Scratch::new("sip-uac");
    let (d, sip_port, sipp_port) = start(&scratch);
    let out = uac_call(&scratch, sip_port, sipp_port, "0601020304");
    check(&out, "uac", &d);
    let s = d.wait_for("everything cleared", T, |s| {
        s["switch"]["calls"].as_array().is_some_and(Vec::is_empty) && far_calls(s).is_empty()
    });
    assert_eq!(s["switch"]["counters"]["answered"], 1, "{}", s["switch"]);
    let cleared = span(&s, 1)["isdn"]["far_end"]["cleared"].as_array().cloned().unwrap_or_default();
    let last = cleared.last().expect("the provider saw the call");
    assert_eq!((last["called"].as_str(), last["cause"].as_u64()), (Some("0601020304"), Some(16)), "{last}");
    d.wait_log("a CDR line for the call", T, |l| l.contains("from=trunk:pbx"));
}

#[test]
fn the_provider_calls_sipp_and_hangs_up() {
    let scratch = Scratch::new("sip-uas");
    let (d, _sip_port, sipp_port) = start(&scratch);
    let mut uas =
        spawn(sipp_on(&scratch, sipp_port, "sipp_uas_err.log").args(["-sn", "uas", "-m", "1", "-timeout", "30s"]));
    wait_udp_bound(LOCALHOST, sipp_port, &mut uas, "sipp's UAS");
    let r = d.post_ok("/api/v1/spans/1/far/calls", br#"{"called":"2001","calling":"0601020304"}"#);
    let id = serde_json::from_slice::<Value>(&r.body).expect("JSON")["id"].as_u64().expect("id");
    d.wait_for("the provider's call answered by sipp", T, |s| {
        far_calls(s).iter().any(|c| c["id"] == id && c["state"] == "ACTIVE")
    });
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/hangup"), b"");
    let status = wait_exit(&mut uas, Duration::from_secs(15));
    assert!(status.is_some_and(|s| s.success()), "sipp uas: {status:?}\ndaemon log:\n{}", d.log());
    d.wait_for("everything cleared", T, |s| s["switch"]["calls"].as_array().is_some_and(Vec::is_empty));
}

pub(crate) fn wait_exit(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

/// A malformed INVITE (no Call-ID) gets 400 and an unknown method 501, each costing only itself:
/// the next call through sipp still works.
#[test]
fn malformed_and_unknown_requests_get_answers_and_cost_nothing_else() {
    let scratch = Scratch::new("sip-bad");
    let (d, sip_port, sipp_port) = start(&scratch);
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(T)).expect("timeout");
    let me = sock.local_addr().expect("addr");
    let target = format!("127.0.0.1:{sip_port}");
    let ask = |req: String| -> String {
        sock.send_to(req.as_bytes(), &target).expect("send");
        let mut buf = [0u8; 4096];
        let (n, _) = sock.recv_from(&mut buf).expect("an answer");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let no_call_id = format!(
        "INVITE sip:2000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-bad1\r\nMax-Forwards: 70\r\n\
         From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:2000@127.0.0.1>\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    );
    let got = ask(no_call_id);
    assert!(got.starts_with("SIP/2.0 400"), "{got}");
    let unknown = format!(
        "FROB sip:2000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-bad2\r\nMax-Forwards: 70\r\n\
         From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:2000@127.0.0.1>\r\nCall-ID: frob-1\r\nCSeq: 1 FROB\r\n\
         Content-Length: 0\r\n\r\n"
    );
    let got = ask(unknown);
    assert!(got.starts_with("SIP/2.0 501"), "{got}");
    sock.send_to(b"\x00\x01garbage", &target).expect("send");
    let out = uac_call(&scratch, sip_port, sipp_port, "0601020304");
    check(&out, "uac after bad requests", &d);
    let s = d.status();
    assert!(s["sip"]["bad_requests"].as_u64() >= Some(1), "{}", s["sip"]);
    assert!(s["sip"]["garbage"].as_u64() >= Some(1), "{}", s["sip"]);
}

/// `secs` of a `hz` tone at about -10 dBm0, A-law.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn tone(hz: f64, secs: f64) -> Vec<u8> {
    let n = (secs * 8000.0) as usize;
    (0..n).map(|i| alaw((5000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / 8000.0).sin()) as i16)).collect()
}

/// Frequency (from zero crossings) and RMS of the loudest 500 ms of A-law `codes`.
fn measure(codes: &[u8]) -> (f64, f64) {
    let x: Vec<f64> = codes.iter().map(|&c| f64::from(linear(c))).collect();
    spangate_tests::measure_tone(&x)
}

#[test]
fn a_tone_crosses_to_sip_and_back_through_rtp() {
    let scratch = Scratch::new("sip-rtp");
    let (d, sip_port, sipp_port) = start(&scratch);
    let media_port = free_port();
    // sipp echoes RTP only; our RTCP goes to its RTP port + 1 (RFC 3550 §11), where the test
    // listens. A port taken there costs only this check's retry with another pair.
    let (media_port, rtcp) = (0..20)
        .map(|i| if i == 0 { media_port } else { free_port() })
        .find_map(|p| UdpSocket::bind(("127.0.0.1", p + 1)).ok().map(|s| (p, s)))
        .expect("a free port pair for sipp's media");
    rtcp.set_read_timeout(Some(Duration::from_secs(1))).expect("timeout");
    let mut uac = spawn(
        sipp_on(&scratch, sipp_port, "sipp_rtp_err.log")
            .args(["-sn", "uac", "-s", "0601020304", "-m", "1", "-d", "6000", "-timeout", "30s"])
            .args(["-mp", &media_port.to_string(), "-rtp_echo"])
            .arg(format!("127.0.0.1:{sip_port}")),
    );
    let s = d.wait_for("the call answered by the provider", T, |s| far_calls(s).iter().any(|c| c["state"] == "ACTIVE"));
    let ch =
        far_calls(&s).iter().find(|c| c["state"] == "ACTIVE").and_then(|c| c["channel"].as_u64()).expect("channel");
    // The call's legs on the status: the SIP one with its codec and RTP figures, the ISDN one
    // with its span and B-channel.
    let s = d.wait_for("both legs' media on the status", T, |s| {
        s["switch"]["calls"][0]["legs"].as_array().is_some_and(|l| l.len() == 2)
            && s["switch"]["calls"][0]["legs"][0]["packets_received"].as_u64().is_some_and(|n| n > 0)
    });
    let legs = &s["switch"]["calls"][0]["legs"];
    let sip = &legs[0];
    assert_eq!(sip["kind"], "sip", "{legs}");
    // sipp's built-in UAC offers PCMU only (m=audio ... RTP/AVP 0).
    assert_eq!(sip["codec"], "PCMU", "{legs}");
    assert_eq!(sip["ptime"], 20, "{legs}");
    assert_eq!(sip["remote"], format!("127.0.0.1:{media_port}"), "{legs}");
    assert!(sip["packets_sent"].as_u64().is_some_and(|n| n > 0), "{legs}");
    assert_eq!(sip["lost"], 0, "{legs}");
    assert!(sip["jitter_ms"].as_f64().is_some(), "{legs}");
    let isdn = &legs[1];
    assert_eq!(isdn["kind"], "isdn", "{legs}");
    assert_eq!(isdn["span"], 1, "{legs}");
    assert!(isdn["channel"].as_u64().is_some_and(|c| c > 0), "{legs}");
    let path = format!("/api/v1/spans/1/far/channels/{ch}");
    let sent = tone(1000.0, 1.5);
    let got = d.capture_during(&path, 2500, || {
        d.post_ok(&format!("{path}/play"), &sent);
    });
    assert_eq!(got.status, 200, "capture: {}", got.text());
    let (hz_sent, rms_sent) = measure(&sent);
    let (hz, rms) = measure(&got.body);
    let db = 20.0 * (rms / rms_sent).log10();
    assert!(
        (hz / hz_sent - 1.0).abs() < 0.02 && db.abs() < 3.0,
        "sent {hz_sent:.1} Hz, got back {hz:.1} Hz at {db:.1} dB\n{}",
        d.log()
    );
    // A report from us: the first comes 1-3 s after the leg opened, the call lasts 6 s.
    let mut buf = [0u8; 1500];
    let report = (0..10).find_map(|_| rtcp.recv_from(&mut buf).ok().map(|(n, src)| (buf[..n].to_vec(), src)));
    let (report, src) = report.unwrap_or_else(|| panic!("no RTCP on port {}\n{}", media_port + 1, d.log()));
    assert_eq!(sip["rtcp_port"].as_u64(), Some(u64::from(src.port())), "from the leg's RTCP socket");
    assert_eq!(src.port() % 2, 1, "RTCP on an odd port (RFC 3550 §11)");
    check_rtcp_compound(&report);
    let status = wait_exit(&mut uac, Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "sipp uac: {status:?}");
}

/// Checks an RTCP compound from a sender the way RFC 3550 A.2 does: version 2, an SR first, every
/// packet's length inside the datagram and adding up to it, an SDES with a CNAME among them.
fn check_rtcp_compound(b: &[u8]) {
    assert!(b.len() >= 28 && b[0] >> 6 == 2 && b[1] == 200, "an SR first (we send RTP): {b:02x?}");
    let (mut at, mut sdes) = (0, false);
    while at < b.len() {
        assert!(at + 4 <= b.len() && b[at] >> 6 == 2, "packet at {at}: {b:02x?}");
        sdes |= b[at + 1] == 202 && b.get(at + 8) == Some(&1);
        at += 4 * (usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]])) + 1);
    }
    assert_eq!(at, b.len(), "the lengths add up to the datagram: {b:02x?}");
    assert!(sdes, "an SDES CNAME: {b:02x?}");
}

/// spangate registers its trunk to a sipp registrar that challenges with 401 (Digest, MD5, qop
/// auth): the second REGISTER carries credentials sipp verifies (`verifyauth`), and the trunk
/// shows "registered" on the status.
#[test]
fn the_trunk_registers_to_a_registrar_that_challenges_with_401() {
    let scratch = Scratch::new("sip-register");
    let (sip_port, sipp_port) = (free_port(), free_port());
    let register = "register = { user = \"gw\", password = \"secret\", expires = 120 }";
    let cfg =
        config(&format!("udp:127.0.0.1:{sip_port}"), "provider", sipp_port, &[register]).write(&scratch, "sip.toml");
    let scenario = spangate_tests::root().join("tests/peers/sipp_registrar.xml");
    let mut registrar = spawn(
        sipp_on(&scratch, sipp_port, "sipp_reg_err.log").arg("-sf").arg(&scenario).args(["-m", "1", "-timeout", "30s"]),
    );
    // Registered at the first try: a REGISTER sent before the registrar is up waits out a
    // retransmission or the backoff.
    wait_udp_bound(LOCALHOST, sipp_port, &mut registrar, "sipp's registrar");
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    let s = d.wait_for("the trunk registered", T, |s| {
        s["sip"]["trunks"][0]["registration"].as_str().is_some_and(|r| r.starts_with("registered"))
    });
    assert_eq!(s["sip"]["trunks"][0]["name"], "pbx");
    let status = wait_exit(&mut registrar, Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "sipp registrar: {status:?}\ndaemon log:\n{}", d.log());
}

/// A SIP caller gives up while the ISDN side rings: sipp sends CANCEL after the 180, gets 200 and
/// 487 and acknowledges; libpri (the provider, ringing and never answering) sees the call cleared,
/// and every leg is gone.
#[test]
fn cancel_before_answer_clears_the_ringing_isdn_leg() {
    let scratch = Scratch::new("sip-cancel");
    let (sip_port, sipp_port) = (free_port(), free_port());
    let line = format!("dchan:{}", scratch.path("d.sock").display());
    let cfg = config(&format!("udp:127.0.0.1:{sip_port}"), &line, sipp_port, &[]).write(&scratch, "cancel.toml");
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("the daemon", T, |s| s["spans"].as_array().is_some_and(|a| a.len() == 1));
    let peer =
        spangate_tests::build_c_peer("libpri_peer", &["pri"], &[("libpri", "libpri-dev"), ("-lpri", "libpri-dev")]);
    let mut cmd = Command::new(peer);
    cmd.args(["net", "pri"]).arg(scratch.path("p.sock")).arg(scratch.path("d.sock")).arg("60");
    let provider = spangate_tests::Peer::start_scripted(cmd);
    provider.wait_line("DCHAN_UP", T);
    d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    let m = provider.mark();
    let scenario = spangate_tests::root().join("tests/peers/sipp_uac_cancel.xml");
    let out = sipp_on(&scratch, sipp_port, "sipp_cancel_err.log")
        .arg("-sf")
        .arg(&scenario)
        .args(["-s", "0601020304", "-m", "1", "-timeout", "20s"])
        .arg(&sip)
        .output()
        .expect("run sipp");
    check(&out, "CANCEL scenario", &d);
    let ring = provider.wait_prefix(m, "RING ", T);
    assert!(ring.starts_with("RING called=0601020304 "), "{ring}");
    provider.wait_prefix(m, "HANGUP", T);
    d.wait_for("every leg gone", T, |s| {
        s["switch"]["calls"].as_array().is_some_and(Vec::is_empty)
            && span(s, 1)["isdn"]["calls"].as_array().is_some_and(Vec::is_empty)
    });
}

/// Another program holding the SIP port (a local Asterisk on 5060) does not stop the appliance:
/// the TDM side runs, the status has no SIP block, and the log says why.
#[test]
fn a_taken_sip_port_leaves_the_tdm_side_running() {
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let d = Daemon::start(&["--sip", &addr]);
    let s = d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    assert!(s["sip"].is_null(), "{}", s["sip"]);
    d.wait_log("why SIP is off", T, |l| l.contains("SIP disabled"));
}
