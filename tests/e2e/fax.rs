//! Fax through the gateway: a fax tone on the TDM side of a TDM <-> SIP call switches the call to
//! fax mode. Span 1 (TE, software echo canceller) faces the simulated provider; trunk `pbx` is
//! sipp, offered and answering PCMU first. The tone is played on the provider's end of the
//! B-channel (`/api/v1/spans/1/far/channels/N/play`), so it arrives on our span as a real fax's
//! would.
//! - CNG from an ISDN caller: the provider calls a DID routed to sipp's UAS
//!   (`tests/peers/sipp_uas_fax.xml`), which answers PCMU; 0.5 s of 1100 Hz on the provider's side
//!   makes spangate re-INVITE sipp with PCMA alone (sipp's regular expressions check the SDP),
//!   in the same session (`o=` id kept, version + 1, compared from sipp's log); sipp answers 200
//!   PCMA. The status shows the leg's fax state (CNG on the TDM side, re-INVITE accepted, codec
//!   now PCMA, jitter buffer fixed) and the B-channel's canceller in fax mode; /metrics counts it.
//!   The media switches with the answer: the RTP we send (to the test's own socket, which sipp's
//!   SDP names) goes from payload type 0 to 8, and CNG's next burst arrives in it as A-law.
//! - CED from the answering side: sipp's UAC (`tests/peers/sipp_uac_fax.xml`) calls out to the
//!   provider, which answers and sends 2100 Hz; the same re-INVITE reaches the UAC.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use spangate_tests::{alaw, free_port, linear, span, Daemon, Scratch};

use crate::sip::{far_calls, sipp, wait_exit};

const T: Duration = Duration::from_secs(20);

fn config(scratch: &Scratch, sip_port: u16, sipp_port: u16) -> PathBuf {
    let cfg = format!(
        r#"[board]
model = "sim-e1x2"
backend = "sim"
[[board.span]]
span = 1
kind = "e1"
timing = 1
termination = "te"
signalling = "pri_cpe"
echo = {{ mode = "software", taps = 256 }}
[board.span.sim]
line = "provider"
[sip]
listen = "udp:127.0.0.1:{sip_port}"
[[sip.trunk]]
name = "pbx"
host = "127.0.0.1"
port = {sipp_port}
codecs = ["pcmu", "pcma", "telephone-event"]
[[route]]
name = "pbx-out"
from = "trunk:pbx"
to = "span:1"
[[route]]
name = "to-pbx"
from = "span:1"
called = "2"
to = "trunk:pbx"
"#
    );
    let p = scratch.path("fax.toml");
    std::fs::write(&p, cfg).expect("write config");
    p
}

fn scenario(name: &str) -> PathBuf {
    spangate_tests::root().join("tests/peers").join(name)
}

/// `secs` of `hz` at about -10 dBm0, A-law.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
fn tone(hz: f64, secs: f64) -> Vec<u8> {
    let n = (secs * 8000.0) as usize;
    (0..n).map(|i| alaw((5000.0 * (std::f64::consts::TAU * hz * i as f64 / 8000.0).sin()) as i16)).collect()
}

/// T.30 CNG: 0.5 s of 1100 Hz and its 3 s pause, twice.
fn cng() -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..2 {
        v.extend(tone(1100.0, 0.5));
        v.extend(std::iter::repeat_n(0xD5u8, 24_000));
    }
    v
}

/// RTP packets received, as (payload type, payload).
type Packets = Arc<Mutex<Vec<(u8, Vec<u8>)>>>;

/// Every RTP packet arriving on `sock`, until `stop`.
fn rtp_sink(sock: UdpSocket, stop: Arc<AtomicBool>) -> (Packets, std::thread::JoinHandle<()>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = Arc::clone(&got);
    sock.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
    let h = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            if let Ok(n) = sock.recv(&mut buf) {
                if n > 12 && buf[0] >> 6 == 2 {
                    let cc = usize::from(buf[0] & 0x0f);
                    let at = (12 + 4 * cc).min(n);
                    g.lock().expect("lock").push((buf[1] & 0x7f, buf[at..n].to_vec()));
                }
            }
        }
    });
    (got, h)
}

/// The first tone burst in `codes` (A-law) at least 400 ms long: frequency (zero crossings) and
/// RMS of 300 ms from 50 ms after it starts, or `None` before a whole burst is there. (The tail of
/// an earlier burst can be there too: it is too short.)
#[allow(clippy::cast_precision_loss)]
fn burst(codes: &[u8]) -> Option<(f64, f64)> {
    let x: Vec<f64> = codes.iter().map(|&c| f64::from(linear(c))).collect();
    let loud = |from: usize| x.get(from..from + 80).is_some_and(|w| spangate_tests::rms(w) > 2500.0);
    let start = (0..x.len()).step_by(80).find(|&s| (0..5).all(|k| loud(s + k * 80 * 8)))?;
    let seg = x.get(start + 400..start + 2800)?;
    let crossings = seg.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
    Some((crossings as f64 / 2.0 / 0.3, spangate_tests::rms(seg)))
}

/// sipp running `scenario` with its log and message trace in `scratch`.
fn start_sipp(scratch: &Scratch, tag: &str, args: &[&str]) -> Child {
    sipp()
        .args(args)
        .args(["-m", "1", "-timeout", "60s", "-nostdin", "-i", "127.0.0.1", "-trace_err", "-error_file"])
        .arg(scratch.path(&format!("{tag}_err.log")))
        .args(["-trace_logs", "-log_file"])
        .arg(scratch.path(&format!("{tag}_logs.log")))
        .args(["-trace_msg", "-message_file"])
        .arg(scratch.path(&format!("{tag}_messages.log")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sipp")
}

/// Whether UDP `port` of 127.0.0.1 is bound (read from /proc/net/udp, without sending anything).
fn udp_bound(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).any(|l| l.split_whitespace().nth(1) == Some(local.as_str()))
}

/// Everything sipp wrote, for a failure message.
fn sipp_files(scratch: &Scratch, tag: &str) -> String {
    ["err", "logs", "messages"]
        .iter()
        .map(|k| {
            let p = scratch.path(&format!("{tag}_{k}.log"));
            format!("--- {}\n{}", p.display(), std::fs::read_to_string(&p).unwrap_or_default())
        })
        .collect()
}

/// The `o=` session id and version sipp logged after `label`.
fn logged_origin(scratch: &Scratch, tag: &str, label: &str) -> (u64, u64) {
    let log = std::fs::read_to_string(scratch.path(&format!("{tag}_logs.log"))).unwrap_or_default();
    let line = log.lines().find_map(|l| l.strip_prefix(&format!("{label} o="))).unwrap_or_else(|| {
        panic!("sipp logged no {label} o= line:\n{}", sipp_files(scratch, tag));
    });
    let mut it = line.split_whitespace().map(|v| v.parse::<u64>().expect("a number"));
    (it.next().expect("id"), it.next().expect("version"))
}

/// The SIP leg of the call on the status (incoming legs come first: it may be either).
fn sip_leg(s: &Value) -> Value {
    let legs = s["switch"]["calls"][0]["legs"].as_array().cloned().unwrap_or_default();
    legs.into_iter().find(|l| l["kind"] == "sip").unwrap_or(Value::Null)
}

/// The call's SIP leg on the status once its fax re-INVITE is settled.
fn wait_fax_settled(d: &Daemon) -> Value {
    let s = d.wait_for("the fax re-INVITE settled", T, |s| {
        let f = &sip_leg(s)["fax"];
        f["reinvite"].as_str().is_some_and(|r| r.starts_with("accepted") || r.starts_with("failed"))
    });
    sip_leg(&s)
}

/// The B-channel `ch` of span 1 with its canceller's figures, once they show fax mode (the
/// canceller reports every 100 ms, after the signalling).
fn wait_echo_fax_mode(d: &Daemon, ch: u64) -> Value {
    let s = d.wait_for("the canceller in fax mode", T, |s| {
        span(s, 1)["channels"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["ts"] == ch && c["echo"]["fax_mode"] == true))
    });
    span(&s, 1)["channels"].as_array().and_then(|c| c.iter().find(|c| c["ts"] == ch).cloned()).expect("channel")
}

fn check_leg(leg: &Value, tone: &str, d: &Daemon) {
    let f = &leg["fax"];
    assert_eq!(f["tone"], tone, "{leg}\n{}", d.log());
    assert_eq!(f["side"], "tdm", "{leg}");
    assert_eq!(f["reinvite"], "accepted PCMA", "{leg}\n{}", d.log());
    assert_eq!(f["reinvites_sent"], 1, "{leg}");
    assert_eq!(f["echo_fax_mode"], true, "{leg}");
    assert!(f["jitter_ms"].as_u64().is_some_and(|ms| ms >= 60), "{leg}");
    assert_eq!(leg["codec"], "PCMA", "the leg's media follows the accepted answer: {leg}");
}

fn check_metrics(d: &Daemon) {
    let m = d.get("/metrics").text();
    for line in ["spangate_fax_detected_total 1\n", "spangate_fax_reinvite_accepted_total 1\n"] {
        assert!(m.contains(line), "{line:?} missing:\n{m}");
    }
}

#[test]
fn cng_from_an_isdn_caller_reinvites_the_sip_leg_to_pcma() {
    let scratch = Scratch::new("fax-cng");
    let (sip_port, sipp_port, media_port) = (free_port(), free_port(), free_port());
    let (rtp, _rtcp) = spangate_tests::rtp_pair();
    let rtp_port = rtp.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let (packets, sink) = rtp_sink(rtp, Arc::clone(&stop));
    let cfg = config(&scratch, sip_port, sipp_port);
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &format!("127.0.0.1:{sip_port}")]);
    d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    let sf = scenario("sipp_uas_fax.xml");
    let mut uas = start_sipp(
        &scratch,
        "uas",
        &[
            "-sf",
            sf.to_str().expect("path"),
            "-p",
            &sipp_port.to_string(),
            "-mp",
            &media_port.to_string(),
            "-set",
            "rtp",
            &rtp_port.to_string(),
        ],
    );
    let until = Instant::now() + T;
    while !udp_bound(sipp_port) {
        assert!(Instant::now() < until, "sipp's UAS never bound UDP port {sipp_port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = d.post_ok("/api/v1/spans/1/far/calls", br#"{"called":"2001","calling":"0601020304"}"#);
    let id = serde_json::from_slice::<Value>(&r.body).expect("JSON")["id"].as_u64().expect("id");
    let s = d.wait_for("the provider's call answered by sipp", T, |s| {
        far_calls(s).iter().any(|c| c["id"] == id && c["state"] == "ACTIVE")
    });
    let ch = far_calls(&s).iter().find(|c| c["id"] == id).and_then(|c| c["channel"].as_u64()).expect("channel");
    let s = d.wait_for("the SIP leg in PCMU", T, |s| sip_leg(s)["codec"] == "PCMU");
    assert!(sip_leg(&s)["fax"].is_null(), "no fax before the tone: {}", s["switch"]);

    d.post_ok(&format!("/api/v1/spans/1/far/channels/{ch}/play"), &cng());
    let leg = wait_fax_settled(&d);
    check_leg(&leg, "CNG", &d);
    let chan = wait_echo_fax_mode(&d, ch);
    assert_eq!(chan["echo"]["bypassed"], true, "{chan}");
    let page = d.get("/").text();
    assert!(page.contains("fax CNG on the TDM side: echo canceller in fax mode"), "{page}");
    check_metrics(&d);

    // The media followed the answer: PCMU (0) packets first, then PCMA (8) ones that carry CNG's
    // second burst (3.5 s after the first) as A-law.
    let until = Instant::now() + T;
    let pcma = loop {
        let got = packets.lock().expect("lock").clone();
        let pcma: Vec<u8> = got.iter().filter(|p| p.0 == 8).flat_map(|p| p.1.clone()).collect();
        if burst(&pcma).is_some() {
            assert!(got.first().is_some_and(|p| p.0 == 0), "the call started in PCMU");
            let first8 = got.iter().position(|p| p.0 == 8).expect("a PCMA packet");
            assert!(got[first8..].iter().all(|p| p.0 == 8 || p.0 == 101), "PCMU after the switch");
            break pcma;
        }
        assert!(Instant::now() < until, "no CNG in PCMA RTP after the switch ({} packets)\n{}", got.len(), d.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    let (hz, rms) = burst(&pcma).expect("a burst");
    assert!((hz / 1100.0 - 1.0).abs() < 0.02 && rms > 1000.0, "CNG in the PCMA stream: {hz:.1} Hz, rms {rms:.0}");
    stop.store(true, Ordering::Relaxed);
    let _ = sink.join();

    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/hangup"), b"");
    let status = wait_exit(&mut uas, T);
    assert!(status.is_some_and(|s| s.success()), "sipp uas: {status:?}\n{}\n{}", sipp_files(&scratch, "uas"), d.log());
    let (id1, v1) = logged_origin(&scratch, "uas", "INVITE");
    let (id2, v2) = logged_origin(&scratch, "uas", "REINVITE");
    assert_eq!((id2, v2), (id1, v1 + 1), "the re-INVITE continues the INVITE's session");
    d.wait_for("everything cleared", T, |s| s["switch"]["calls"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn ced_from_the_answering_fax_reinvites_the_calling_pbx_to_pcma() {
    let scratch = Scratch::new("fax-ced");
    let (sip_port, sipp_port, media_port) = (free_port(), free_port(), free_port());
    let cfg = config(&scratch, sip_port, sipp_port);
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    let sf = scenario("sipp_uac_fax.xml");
    let mut uac = start_sipp(
        &scratch,
        "uac",
        &[
            "-sf",
            sf.to_str().expect("path"),
            "-s",
            "0140551234",
            "-p",
            &sipp_port.to_string(),
            "-mp",
            &media_port.to_string(),
            &sip,
        ],
    );
    let s = d.wait_for("the provider answered", T, |s| far_calls(s).iter().any(|c| c["state"] == "ACTIVE"));
    let call = far_calls(&s).into_iter().find(|c| c["state"] == "ACTIVE").expect("call");
    let (id, ch) = (call["id"].as_u64().expect("id"), call["channel"].as_u64().expect("channel"));
    let s = d.wait_for("the SIP leg in PCMU", T, |s| sip_leg(s)["codec"] == "PCMU");
    assert!(sip_leg(&s)["fax"].is_null(), "no fax before the tone: {}", s["switch"]);

    // CED: 2100 Hz for 3 s (T.30), after 0.2 s of silence.
    let mut ced = vec![0xD5u8; 1600];
    ced.extend(tone(2100.0, 3.0));
    d.post_ok(&format!("/api/v1/spans/1/far/channels/{ch}/play"), &ced);
    let leg = wait_fax_settled(&d);
    check_leg(&leg, "ANS", &d);
    wait_echo_fax_mode(&d, ch);
    check_metrics(&d);

    d.post_ok(&format!("/api/v1/spans/1/far/calls/{id}/hangup"), b"");
    let status = wait_exit(&mut uac, T);
    assert!(status.is_some_and(|s| s.success()), "sipp uac: {status:?}\n{}\n{}", sipp_files(&scratch, "uac"), d.log());
    let (id1, v1) = logged_origin(&scratch, "uac", "ANSWER");
    let (id2, v2) = logged_origin(&scratch, "uac", "REINVITE");
    assert_eq!((id2, v2), (id1, v1 + 1), "the re-INVITE continues our answer's session");
}
