//! SIP over TCP (RFC 3261 §18) with sipp as the PBX: sipp's UAC calls over one TCP connection
//! (`-t t1`) through the simulated provider and hangs up, every answer coming back on sipp's own
//! connection; the provider calls sipp's UAS over a connection we open because the trunk says
//! `transport = "tcp"` (Via `SIP/2.0/TCP`); and broken streams (garbage, a request without
//! Content-Length) close only their own connection, the latter after its 400, while a keep-alive
//! ping gets its pong and the next call still works.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use spangate_tests::{wait_tcp_listening, Daemon, Scratch, LOCALHOST};

use crate::sip::{check, config, far_calls, sipp_on, spawn, start, wait_exit};

const T: Duration = Duration::from_secs(10);

/// sipp's UAC over TCP: INVITE, 100/180/200, ACK, a second of call, BYE, 200; every message
/// traced to `sipp_tcp_uac_messages.log`.
fn tcp_uac(scratch: &Scratch, sip_port: u16, sipp_port: u16, called: &str) -> Output {
    sipp_on(scratch, sipp_port, "sipp_tcp_err.log")
        .args(["-sn", "uac", "-t", "t1", "-s", called, "-m", "1", "-d", "1000", "-timeout", "20s"])
        .args(["-trace_msg", "-message_file"])
        .arg(scratch.path("sipp_tcp_uac_messages.log"))
        .arg(format!("127.0.0.1:{sip_port}"))
        .output()
        .expect("run sipp")
}

fn tcp(s: &Value, counter: &str) -> u64 {
    s["sip"]["tcp"]["counters"][counter]
        .as_u64()
        .unwrap_or_else(|| panic!("no sip.tcp.counters.{counter}: {}", s["sip"]))
}

#[test]
fn sipp_calls_over_tcp_through_the_provider_and_hangs_up() {
    let scratch = Scratch::new("sip-tcp-uac");
    let (d, sip_port, sipp_port) = start(&scratch);
    let s = d.status();
    assert_eq!(s["sip"]["tcp"]["listen"], format!("tcp:127.0.0.1:{sip_port}"), "{}", s["sip"]);
    let out = tcp_uac(&scratch, sip_port, sipp_port, "0601020304");
    check(&out, "uac over tcp", &d);
    let s = d.wait_for("everything cleared", T, |s| {
        s["switch"]["calls"].as_array().is_some_and(Vec::is_empty) && far_calls(s).is_empty()
    });
    assert_eq!(s["switch"]["counters"]["answered"], 1, "{}", s["switch"]);
    let cleared = spangate_tests::span(&s, 1)["isdn"]["far_end"]["cleared"].as_array().cloned().unwrap_or_default();
    let last = cleared.last().expect("the provider saw the call");
    assert_eq!((last["called"].as_str(), last["cause"].as_u64()), (Some("0601020304"), Some(16)), "{last}");
    // sipp's connection carried everything: we accepted it and opened none of our own.
    assert_eq!((tcp(&s, "accepted"), tcp(&s, "opened")), (1, 0), "{}", s["sip"]);
    let trace = std::fs::read_to_string(scratch.path("sipp_tcp_uac_messages.log")).expect("sipp's message trace");
    assert!(trace.contains("SIP/2.0 200 OK"), "sipp got our 200 on its connection:\n{trace}");
    assert!(trace.contains("SIP/2.0/TCP"), "{trace}");
}

#[test]
fn the_provider_calls_sipp_over_a_tcp_trunk() {
    let scratch = Scratch::new("sip-tcp-uas");
    let (sip_port, sipp_port) = (spangate_tests::free_port(), spangate_tests::free_port());
    // A tcp trunk needs TCP in [sip] listen: the bare address takes both transports.
    let cfg = config(&format!("127.0.0.1:{sip_port}"), "provider", sipp_port, &["transport = \"tcp\""])
        .write(&scratch, "sip.toml");
    let mut uas = spawn(
        sipp_on(&scratch, sipp_port, "sipp_uas_err.log")
            .args(["-sn", "uas", "-t", "t1", "-m", "1", "-timeout", "30s", "-trace_msg", "-message_file"])
            .arg(scratch.path("sipp_uas_messages.log")),
    );
    wait_tcp_listening(LOCALHOST, sipp_port, &mut uas, "sipp's UAS");
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on span 1", T, |s| spangate_tests::span(s, 1)["isdn"]["layer2_up"] == true);
    let r = d.post_ok("/api/v1/spans/1/far/calls", br#"{"called":"2001","calling":"0601020304"}"#);
    let id = serde_json::from_slice::<Value>(&r.body).expect("JSON")["id"].as_u64().expect("id");
    d.wait_for("the provider's call answered by sipp", T, |s| {
        far_calls(s).iter().any(|c| c["id"] == id && c["state"] == "ACTIVE")
    });
    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/hangup"), b"");
    let status = wait_exit(&mut uas, Duration::from_secs(15));
    assert!(status.is_some_and(|s| s.success()), "sipp uas: {status:?}\ndaemon log:\n{}", d.log());
    let s = d.wait_for("everything cleared", T, |s| s["switch"]["calls"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(tcp(&s, "opened"), 1, "one connection to the trunk, for INVITE, ACK and BYE: {}", s["sip"]);
    let trace = std::fs::read_to_string(scratch.path("sipp_uas_messages.log")).expect("sipp's message trace");
    assert!(trace.contains("INVITE sip:2001@127.0.0.1"), "{trace}");
    assert!(trace.contains("Via: SIP/2.0/TCP 127.0.0.1:"), "our Via names TCP:\n{trace}");
    assert!(trace.contains("BYE sip:"), "our BYE reached sipp:\n{trace}");
}

/// Reads from `c` until the daemon closes the connection (or 10 s pass: then the test fails).
fn read_to_close(c: &mut TcpStream) -> String {
    c.set_read_timeout(Some(T)).expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the daemon did not close the connection: {e}; got {:?}", String::from_utf8_lossy(&got)),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn broken_streams_close_only_their_connection_and_the_next_call_works() {
    let scratch = Scratch::new("sip-tcp-bad");
    let (d, sip_port, sipp_port) = start(&scratch);
    let target = format!("127.0.0.1:{sip_port}");
    // A connection that stays open and quiet through it all, answered when it pings.
    let mut keep = TcpStream::connect(&target).expect("connect");
    keep.set_read_timeout(Some(T)).expect("timeout");

    let mut garbage = TcpStream::connect(&target).expect("connect");
    garbage.write_all(b"\x00\x01garbage\r\n\r\n").expect("write");
    assert_eq!(read_to_close(&mut garbage), "", "garbage is not answered, only its connection closed");

    let mut no_length = TcpStream::connect(&target).expect("connect");
    let me = no_length.local_addr().expect("addr");
    let request = format!(
        "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP {me};branch=z9hG4bK-nocl\r\nMax-Forwards: 70\r\n\
         From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:gw@127.0.0.1>\r\nCall-ID: nocl-1\r\nCSeq: 1 OPTIONS\r\n\r\n"
    );
    no_length.write_all(request.as_bytes()).expect("write");
    let got = read_to_close(&mut no_length);
    assert!(got.starts_with("SIP/2.0 400 "), "a 400 before the close (RFC 3261 §18.3): {got:?}");
    assert!(got.contains("Call-ID: nocl-1"), "{got}");

    keep.write_all(b"\r\n\r\n").expect("ping");
    let mut pong = [0u8; 2];
    keep.read_exact(&mut pong).expect("a pong on the quiet connection, which is still open");
    assert_eq!(&pong, b"\r\n");

    let out = tcp_uac(&scratch, sip_port, sipp_port, "0601020304");
    check(&out, "uac over tcp after broken streams", &d);
    let s = d.wait_for("the call cleared", T, |s| {
        s["switch"]["counters"]["answered"] == 1 && s["switch"]["calls"].as_array().is_some_and(Vec::is_empty)
    });
    assert_eq!((tcp(&s, "malformed"), tcp(&s, "pings")), (2, 1), "{}", s["sip"]);
    assert!(s["sip"]["garbage"].as_u64() >= Some(1), "{}", s["sip"]);
    assert!(s["sip"]["bad_requests"].as_u64() >= Some(1), "{}", s["sip"]);
    assert!(s["sip"]["tcp"]["connections"].as_u64() >= Some(1), "the quiet connection is still open: {}", s["sip"]);
}

/// A TCP trunk nobody listens on: the connect is refused and the call fails at once as a 503
/// (RFC 3261 §8.1.3.1), which routing takes as congestion: with no other route the provider hears
/// cause 34. Without the transport error it would wait for timer B (32 s, 408, cause 102).
#[test]
fn a_refused_tcp_connection_fails_the_call_as_a_503() {
    let scratch = Scratch::new("sip-tcp-refused");
    let (sip_port, nobody) = (spangate_tests::free_port(), spangate_tests::free_port());
    let cfg = config(&format!("127.0.0.1:{sip_port}"), "provider", nobody, &["transport = \"tcp\""])
        .write(&scratch, "sip.toml");
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on span 1", T, |s| spangate_tests::span(s, 1)["isdn"]["layer2_up"] == true);
    d.post_ok("/api/v1/spans/1/far/calls", br#"{"called":"2001","calling":"0601020304"}"#);
    let s = d.wait_for("the provider's call cleared", Duration::from_secs(20), |s| {
        spangate_tests::span(s, 1)["isdn"]["far_end"]["cleared"].as_array().is_some_and(|c| !c.is_empty())
    });
    let cleared = spangate_tests::span(&s, 1)["isdn"]["far_end"]["cleared"][0].clone();
    assert_eq!(cleared["cause"], 34, "{cleared}\n{}", d.log());
    let s = d.wait_for("the failure counted", T, |s| s["sip"]["tcp"]["counters"]["failed"].as_u64() >= Some(1));
    assert_eq!(tcp(&s, "opened"), 1, "{}", s["sip"]);
}
