//! Q.931 calls against libpri: spangate with one ISDN span on a `dchan:` socket and
//! `tests/peers/libpri_peer.c` driven by its stdin script on the other end, for PRI, BRI
//! point-to-point and BRI point-to-multipoint, with us as TE and libpri as NT and the other way
//! round. Calls go both ways (called 1234, calling 5678), reach ALERTING and CONNECT and are
//! cleared from either side; libpri refuses calls with causes 17 and 1 and we see those causes;
//! libpri restarts a B-channel and gets RESTART ACKNOWLEDGE (point-to-point only); every B-channel of ours is idle at the
//! end; the capture decodes in tshark with the Q.931 message types the calls must have used.
//! Overlap dialling digit by digit both ways (PRI, BRI-PTP) and a layer 2 loss during an active
//! call survived within T309 (PRI, BRI-PTP) have their own tests.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use spangate_tests::{build_c_peer, span, tshark_decode, Daemon, Peer, Scratch};

const T: Duration = Duration::from_secs(10);

pub(crate) fn libpri_peer() -> std::path::PathBuf {
    build_c_peer("libpri_peer", &["pri"], &[("libpri", "libpri-dev"), ("-lpri", "libpri-dev")])
}

/// Our span 1 on a `dchan:` socket, captured to `d.pcap`; `keep_up` unless `extra` sets
/// `layer2_persistence`.
pub(crate) fn config(
    scratch: &Scratch,
    signalling: &str,
    kind: &str,
    incoming: &str,
    extra: &str,
) -> std::path::PathBuf {
    let persistence = if extra.contains("layer2_persistence") { "" } else { "layer2_persistence = \"keep_up\"" };
    let cfg = format!(
        r#"[board]
model = "sim-libpri"
backend = "sim"
[[board.span]]
span = 1
kind = "{kind}"
signalling = "{signalling}"
{persistence}
incoming = "{incoming}"
pcap = "{pcap}"
{extra}
[board.span.sim]
line = "dchan:{sock}"
"#,
        pcap = scratch.path("d.pcap").display(),
        sock = scratch.path("d.sock").display()
    );
    let path = scratch.path("calls.toml");
    std::fs::write(&path, cfg).expect("write config");
    path
}

/// The daemon and the libpri peer with layer 2 up between them; `extra` adds span keys.
pub(crate) fn start(
    scratch: &Scratch,
    (signalling, kind, incoming, extra): (&str, &str, &str, &str),
    peer: (&str, &str),
) -> (Daemon, Peer) {
    let d = Daemon::with_config(&config(scratch, signalling, kind, incoming, extra));
    d.wait_for("the daemon", T, |s| s["spans"].as_array().is_some_and(|a| a.len() == 1));
    let p = start_peer(scratch, peer, 120);
    p.wait_line("DCHAN_UP", T);
    d.wait_for("layer 2 up", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    (d, p)
}

/// The libpri peer (`role`, `mode`) on the daemon's socket of `scratch`, for `seconds`.
pub(crate) fn start_peer(scratch: &Scratch, (role, mode): (&str, &str), seconds: u32) -> Peer {
    let mut cmd = Command::new(libpri_peer());
    cmd.args([role, mode]).arg(scratch.path("peer.sock")).arg(scratch.path("d.sock")).arg(seconds.to_string());
    Peer::start_scripted(cmd)
}

pub(crate) fn calls(s: &Value) -> Vec<Value> {
    span(s, 1)["isdn"]["calls"].as_array().cloned().unwrap_or_default()
}

/// Waits until our call `id` is in `state`.
pub(crate) fn wait_state(d: &Daemon, id: u64, state: &str) -> Value {
    wait_state_within(d, id, state, T)
}

pub(crate) fn wait_state_within(d: &Daemon, id: u64, state: &str, within: Duration) -> Value {
    let found = d.wait_for(&format!("call {id} in {state}"), within, |s| {
        calls(s).iter().any(|c| c["id"] == id && c["state"] == state)
    });
    calls(&found).into_iter().find(|c| c["id"] == id).expect("the call")
}

/// Waits until no call is left and returns the cause the last ended call had.
pub(crate) fn wait_cleared(d: &Daemon, id: u64) -> Option<u64> {
    wait_cleared_within(d, id, T)
}

pub(crate) fn wait_cleared_within(d: &Daemon, id: u64, within: Duration) -> Option<u64> {
    let s = d.wait_for(&format!("call {id} cleared"), within, |s| {
        calls(s).is_empty() && span(s, 1)["isdn"]["cleared"].as_array().is_some_and(|c| c.iter().any(|c| c["id"] == id))
    });
    let cleared = span(&s, 1)["isdn"]["cleared"].as_array().cloned().unwrap_or_default();
    cleared.iter().find(|c| c["id"] == id).and_then(|c| c["cause"].as_u64())
}

/// Waits until the daemon's log has a line containing `needle`.
pub(crate) fn wait_log(d: &Daemon, needle: &str, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    while !d.log().contains(needle) {
        assert!(std::time::Instant::now() < deadline, "no log line with {needle:?} within {within:?}:\n{}", d.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn place(d: &Daemon) -> u64 {
    let r = d.post_ok("/api/v1/spans/1/calls", br#"{"called":"1234","calling":"5678"}"#);
    let v: Value = serde_json::from_slice(&r.body).expect("JSON");
    v["id"].as_u64().expect("a call id")
}

/// The Q.931 message types in a capture, as tshark decodes them.
pub(crate) fn q931_types(pcap: &std::path::Path) -> BTreeSet<u8> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-Y", "q931", "-T", "fields", "-e", "q931.message_type"])
        .output()
        .expect("run tshark (Debian package tshark)");
    String::from_utf8_lossy(&out.stdout)
        .split([',', '\n'])
        .filter_map(|t| {
            let t = t.trim();
            t.strip_prefix("0x").map_or_else(|| t.parse().ok(), |h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// One Q.931 message of a capture as tshark decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// Sent from the user side to the network side (tshark's `lapd.direction` 0).
    pub to_network: bool,
    pub message_type: u8,
    /// The call reference flag: set in messages from the side that did not originate the call.
    pub flag: bool,
    pub cref: u16,
    pub called: String,
    pub calling: String,
    pub cause: Option<u8>,
}

/// Every Q.931 message of a capture, decoded by tshark, in capture order.
pub(crate) fn q931_decoded(pcap: &std::path::Path) -> Vec<Decoded> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-Y", "q931", "-T", "fields", "-E", "separator=|", "-e", "lapd.direction", "-e", "q931.message_type"])
        .args(["-e", "q931.call_ref_flag", "-e", "q931.call_ref", "-e", "q931.called_party_number.digits"])
        .args(["-e", "q931.calling_party_number.digits", "-e", "q931.cause_value"])
        .output()
        .expect("run tshark (Debian package tshark)");
    let hex = |t: &str| u16::from_str_radix(t.trim().trim_start_matches("0x"), 16).ok();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            let first = |i: usize| f.get(i).map_or("", |v| v.split(',').next().unwrap_or("")).to_string();
            Some(Decoded {
                to_network: first(0) == "0",
                message_type: u8::try_from(hex(&first(1))?).ok()?,
                flag: matches!(first(2).as_str(), "1" | "True"),
                cref: hex(&first(3)).unwrap_or(0),
                called: first(4),
                calling: first(5),
                cause: first(6).parse().ok(),
            })
        })
        .collect()
}

/// The Q.931 messages our side sent (`user`: we are the user side), in capture order.
pub(crate) fn q931_sent(pcap: &std::path::Path, user: bool) -> Vec<Decoded> {
    q931_decoded(pcap).into_iter().filter(|m| m.to_network == user).collect()
}

/// Every call scenario on one mode: `signalling` is ours, `peer` libpri's role and mode.
fn calls_with_libpri(signalling: &str, kind: &str, peer: (&str, &str)) {
    let scratch = Scratch::new(&format!("isdn-calls-{signalling}"));
    let (d, p) = start(&scratch, (signalling, kind, "ring", ""), peer);
    let user = signalling.contains("cpe");
    // Our state once the far end alerts an outgoing call, and once we alert an incoming one.
    let (delivered, received) =
        if user { ("CALL_DELIVERED", "CALL_RECEIVED") } else { ("CALL_RECEIVED", "CALL_DELIVERED") };

    // 1. We call; libpri rings, answers; we clear.
    let m = p.mark();
    let id = place(&d);
    let ring = p.wait_prefix(m, "RING ", T);
    assert!(ring.starts_with("RING called=1234 calling=5678 chan=1 "), "{signalling}: {ring}");
    let c = wait_state(&d, id, delivered);
    assert_eq!(
        (c["called"].as_str(), c["calling"].as_str(), c["direction"].as_str()),
        (Some("1234"), Some("5678"), Some("outgoing"))
    );
    assert_eq!(c["channel"], 1, "{c}");
    let cref_out = c["call_reference"].as_u64().and_then(|v| u16::try_from(v).ok()).expect("a call reference");
    let s = d.status();
    let b1 = span(&s, 1)["channels"].as_array().and_then(|c| c.iter().find(|c| c["ts"] == 1).cloned());
    assert_eq!(b1.map(|c| c["state"].clone()), Some("busy".into()), "the grid shows the call's channel");
    p.send("answer");
    wait_state(&d, id, "ACTIVE");
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup?cause=16"), b"");
    p.wait_prefix(m, "HANGUP_REQ cause=16", T);
    assert_eq!(wait_cleared(&d, id), Some(16), "{signalling}");
    p.wait_prefix(m, "HANGUP_ACK", T);

    // 2. libpri calls; we ring; we answer through the API; libpri clears.
    let m = p.mark();
    p.send("call 1234 5678");
    let s = d.wait_for("an incoming call", T, |s| calls(s).iter().any(|c| c["state"] == received));
    let c = calls(&s).into_iter().next().expect("a call");
    assert_eq!(
        (c["called"].as_str(), c["calling"].as_str(), c["direction"].as_str()),
        (Some("1234"), Some("5678"), Some("incoming")),
        "{signalling}"
    );
    let id = c["id"].as_u64().expect("id");
    let cref_in = c["call_reference"].as_u64().and_then(|v| u16::try_from(v).ok()).expect("a call reference");
    p.wait_prefix(m, "RINGING", T);
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/answer"), b"");
    p.wait_prefix(m, "ANSWER", T);
    wait_state(&d, id, "ACTIVE");
    p.send("hangup 16");
    assert_eq!(wait_cleared(&d, id), Some(16), "{signalling}");
    p.wait_prefix(m, "HANGUP cause=16", T);

    // 3. libpri refuses our calls with causes 17 and 1.
    for cause in [17, 1] {
        p.send(&format!("onring reject {cause}"));
        let m = p.mark();
        let id = place(&d);
        p.wait_prefix(m, "RING ", T);
        assert_eq!(wait_cleared(&d, id), Some(cause), "{signalling}: refused with {cause}");
    }
    p.send("onring alert");

    // 4. RESTART of B1 from libpri is acknowledged. Not on a bus: libpri's NT cannot send
    // RESTART on the broadcast TEI ("NT PTMP cannot create call record"), and ETSI leaves the
    // restart procedures to point-to-point configurations.
    let ptmp = peer.1 == "bri-ptmp";
    if !ptmp {
        let m = p.mark();
        p.send("restart 1");
        let ack = p.wait_prefix(m, "RESTART_ACK", T);
        assert_eq!(ack, "RESTART_ACK chan=1", "{signalling}");
        // And ours of B2, which libpri acknowledges.
        let m = p.mark();
        d.post_ok("/api/v1/spans/1/restart?channel=2", b"");
        assert_eq!(p.wait_prefix(m, "RESTART", T), "RESTART chan=2", "{signalling}");
    }

    // Every B-channel idle, no call left.
    let s = d.wait_for("every B-channel idle", T, |s| {
        calls(s).is_empty()
            && span(s, 1)["channels"]
                .as_array()
                .is_some_and(|c| c.iter().filter(|c| c["role"] == "B").all(|c| c["state"] == "idle"))
    });
    assert_eq!(span(&s, 1)["isdn"]["counters"]["mdl_errors"], 0, "{signalling}: {s:#}");
    assert!(!p.lines().iter().any(|l| l.starts_with("ERROR")), "{:?}", p.lines());

    let (status, _) = d.terminate();
    assert!(status.success(), "exit status {status:?}");
    drop(p);
    let pcap = scratch.path("d.pcap");
    tshark_decode(&pcap);
    let types = q931_types(&pcap);
    // SETUP, CALL PROCEEDING, ALERTING, CONNECT, CONNECT ACK, DISCONNECT, RELEASE, RELEASE
    // COMPLETE, RESTART, RESTART ACKNOWLEDGE.
    let restart: &[u8] = if ptmp { &[] } else { &[0x46, 0x4e] };
    for &t in [0x05, 0x02, 0x01, 0x07, 0x0f, 0x45, 0x4d, 0x5a].iter().chain(restart) {
        assert!(types.contains(&t), "{signalling}: no Q.931 message type {t:#04x} in the capture: {types:02x?}");
    }
    // What we sent carries the call references and numbers we meant: our SETUP of call 1 with
    // 1234/5678 and our DISCONNECT #16 under our reference (flag 0), our answers to libpri's
    // call 2 under its reference (flag 1).
    let sent = q931_sent(&pcap, user);
    let ours = |flag: bool, cref: u16| sent.iter().filter(move |m| m.flag == flag && m.cref == cref);
    let setups: Vec<_> = ours(false, cref_out).filter(|m| m.message_type == 0x05).collect();
    assert_eq!(setups.len(), 1, "{signalling}: one SETUP with reference {cref_out}: {sent:#?}");
    assert_eq!((setups[0].called.as_str(), setups[0].calling.as_str()), ("1234", "5678"), "{signalling}");
    assert!(
        ours(false, cref_out).any(|m| m.message_type == 0x45 && m.cause == Some(16)),
        "{signalling}: no DISCONNECT #16 for reference {cref_out}: {sent:#?}"
    );
    let answers: BTreeSet<u8> = ours(true, cref_in).map(|m| m.message_type).collect();
    for t in [0x01, 0x07] {
        assert!(answers.contains(&t), "{signalling}: no {t:#04x} for libpri's reference {cref_in}: {sent:#?}");
    }
    assert!(
        !sent.iter().any(|m| m.message_type == 0x05 && m.flag),
        "{signalling}: a SETUP with the flag of the called side: {sent:#?}"
    );
}

#[test]
fn pri_calls_with_libpri_both_ways() {
    calls_with_libpri("pri_cpe", "e1", ("net", "pri"));
    calls_with_libpri("pri_net", "e1", ("cpe", "pri"));
}

#[test]
fn bri_ptp_calls_with_libpri_both_ways() {
    calls_with_libpri("bri_cpe", "bri", ("net", "bri-ptp"));
    calls_with_libpri("bri_net", "bri", ("cpe", "bri-ptp"));
}

#[test]
fn bri_ptmp_calls_with_libpri_both_ways() {
    calls_with_libpri("bri_cpe_ptmp", "bri", ("net", "bri-ptmp"));
    calls_with_libpri("bri_net_ptmp", "bri", ("cpe", "bri-ptmp"));
}

/// A span set to `incoming = "reject:N"` refuses libpri's calls with that cause.
#[test]
fn our_refusals_reach_libpri_with_their_cause() {
    for (signalling, kind, peer, cause) in [
        ("pri_cpe", "e1", ("net", "pri"), 17),
        ("pri_net", "e1", ("cpe", "pri"), 1),
        ("bri_cpe", "bri", ("net", "bri-ptp"), 1),
        ("bri_net", "bri", ("cpe", "bri-ptp"), 17),
        ("bri_cpe_ptmp", "bri", ("net", "bri-ptmp"), 17),
        ("bri_net_ptmp", "bri", ("cpe", "bri-ptmp"), 1),
    ] {
        let scratch = Scratch::new(&format!("isdn-reject-{signalling}"));
        let (d, p) = start(&scratch, (signalling, kind, &format!("reject:{cause}"), ""), peer);
        let m = p.mark();
        p.send("call 1234 5678");
        let hangup = p.wait_prefix(m, "HANGUP", T);
        assert_eq!(hangup, format!("HANGUP cause={cause}"), "{signalling}: {:?}", p.lines());
        let s = d.wait_for("the refused call in the history", T, |s| {
            span(s, 1)["isdn"]["cleared"].as_array().is_some_and(|c| !c.is_empty())
        });
        assert_eq!(span(&s, 1)["isdn"]["cleared"][0]["cause"], cause, "{s:#}");
        assert!(calls(&s).is_empty());
        let (status, _) = d.terminate();
        assert!(status.success(), "exit status {status:?}");
        drop(p);
        // Our refusal on the wire: a clearing message for libpri's call (flag 1) with the cause.
        let pcap = scratch.path("d.pcap");
        tshark_decode(&pcap);
        let sent = q931_sent(&pcap, signalling.contains("cpe"));
        let refusal = sent.iter().find(|m| m.flag && [0x45, 0x4d, 0x5a].contains(&m.message_type));
        let refusal = refusal.unwrap_or_else(|| panic!("{signalling}: no clearing message sent: {sent:#?}"));
        assert_eq!(refusal.cause, Some(cause), "{signalling}: {sent:#?}");
    }
}

/// The built-in board: a call placed on span 1 is answered by the simulated provider and shows
/// ACTIVE on both ends, its channel busy in the grid; cleared, everything is idle again.
#[test]
fn default_board_call_is_answered_by_the_simulated_provider() {
    let d = Daemon::start(&[]);
    d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    let id = place(&d);
    let c = wait_state(&d, id, "ACTIVE");
    let ch = c["channel"].as_u64().expect("a channel");
    let s = d.wait_for("the far end active too", T, |s| {
        span(s, 1)["isdn"]["far_end"]["calls"].as_array().is_some_and(|c| c.iter().any(|c| c["state"] == "ACTIVE"))
    });
    let grid = span(&s, 1)["channels"].as_array().cloned().unwrap_or_default();
    assert!(grid.iter().any(|c| c["ts"] == ch && c["state"] == "busy"), "{grid:?}");
    assert!(d.get("/").text().contains(&format!(r#"data-call="{id}""#)));
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    assert_eq!(wait_cleared(&d, id), Some(16));
    let r = d.request("POST", &format!("/api/v1/spans/1/calls/{id}/answer"), b"");
    assert_eq!(r.status, 404, "{}", r.text());
}

/// Overlap dialling digit by digit with `overlapdial = "both"`: our SETUP carries "1" and no
/// sending complete, libpri answers SETUP ACKNOWLEDGE and gets 2, 3, 4 as INFORMATION; then
/// libpri's SETUP carries "1", we answer SETUP ACKNOWLEDGE, take 2, 3, 4 and, with no dial plan
/// yet, offer the call as 1234 once T302 runs out. T302 is set to 5 s with the span's `timers`
/// (Q.931's default is 15 s, which this test would otherwise wait out four times); libpri sends the
/// three digits back to back, so 5 s still leaves a wide margin on a loaded machine.
fn overlap_with_libpri(signalling: &str, kind: &str, peer: (&str, &str)) {
    let scratch = Scratch::new(&format!("isdn-overlap-{signalling}"));
    let (d, p) =
        start(&scratch, (signalling, kind, "ring", "overlapdial = \"both\"\ntimers = { t302_ms = 5000 }"), peer);
    let user = signalling.contains("cpe");
    let (sending, receiving) =
        if user { ("OVERLAP_SENDING", "OVERLAP_RECEIVING") } else { ("OVERLAP_RECEIVING", "OVERLAP_SENDING") };

    p.send("onring overlap");
    p.send("overlapdial");
    let m = p.mark();
    let r = d.post_ok("/api/v1/spans/1/calls", br#"{"called":"1","calling":"5678","complete":false}"#);
    let id = serde_json::from_slice::<Value>(&r.body).expect("JSON")["id"].as_u64().expect("id");
    let ring = p.wait_prefix(m, "RING ", T);
    assert!(ring.starts_with("RING called=1 calling=5678 ") && ring.ends_with("complete=0"), "{ring}");
    wait_state(&d, id, sending);
    for digit in ["2", "3", "4"] {
        d.post_ok(&format!("/api/v1/spans/1/calls/{id}/digits?d={digit}"), b"");
        p.wait_prefix(m, &format!("INFO_RECEIVED digits={digit}"), T);
    }
    p.send("alert");
    let c = wait_state(&d, id, if user { "CALL_DELIVERED" } else { "CALL_RECEIVED" });
    assert_eq!(c["called"], "1234", "{c}");
    p.send("answer");
    wait_state(&d, id, "ACTIVE");
    p.send("hangup 16");
    assert_eq!(wait_cleared(&d, id), Some(16), "{signalling}");

    p.send("onring alert");
    let m = p.mark();
    p.send("ocall 1 5678");
    p.wait_prefix(m, "SETUP_ACK", T);
    let s = d.wait_for("an incoming call in overlap", T, |s| calls(s).iter().any(|c| c["state"] == receiving));
    let id = calls(&s)[0]["id"].as_u64().expect("id");
    for digit in ["2", "3", "4"] {
        p.send(&format!("digit {digit}"));
    }
    d.wait_for("digits 2, 3, 4 taken", T, |s| calls(s).iter().any(|c| c["id"] == id && c["called"] == "1234"));
    let c = wait_state_within(&d, id, if user { "CALL_RECEIVED" } else { "CALL_DELIVERED" }, Duration::from_secs(25));
    assert_eq!((c["called"].as_str(), c["calling"].as_str()), (Some("1234"), Some("5678")), "{c}");
    p.wait_prefix(m, "RINGING", T);
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    assert_eq!(wait_cleared(&d, id), Some(16), "{signalling}");
    assert!(!p.lines().iter().any(|l| l.starts_with("ERROR")), "{:?}", p.lines());

    let (status, _) = d.terminate();
    assert!(status.success(), "exit status {status:?}");
    drop(p);
    let pcap = scratch.path("d.pcap");
    tshark_decode(&pcap);
    let types = q931_types(&pcap);
    // SETUP ACKNOWLEDGE and INFORMATION.
    for t in [0x0d, 0x7b] {
        assert!(types.contains(&t), "{signalling}: no Q.931 message type {t:#04x} in the capture: {types:02x?}");
    }
}

#[test]
fn pri_overlap_dialling_with_libpri_both_ways() {
    overlap_with_libpri("pri_cpe", "e1", ("net", "pri"));
    overlap_with_libpri("pri_net", "e1", ("cpe", "pri"));
}

#[test]
fn bri_ptp_overlap_dialling_with_libpri_both_ways() {
    overlap_with_libpri("bri_cpe", "bri", ("net", "bri-ptp"));
    overlap_with_libpri("bri_net", "bri", ("cpe", "bri-ptp"));
}

/// A layer 2 loss during an active call (libpri's side of the line cut both ways until our data
/// link is released, then put back): T309 keeps the call on both sides, the data link comes back, the
/// STATUS exchange (cause 31, state ACTIVE) finds the call still there, and it clears normally.
fn layer2_loss_within_t309(signalling: &str, kind: &str, peer: (&str, &str)) {
    let scratch = Scratch::new(&format!("isdn-t309-{signalling}"));
    let (d, p) = start(&scratch, (signalling, kind, "ring", ""), peer);
    p.send("onring answer");
    let m = p.mark();
    let id = place(&d);
    wait_state(&d, id, "ACTIVE");
    p.send("mute");
    // T203 (10 s) and then N200 polls at T200 (1 s) find the far end gone.
    d.wait_for("our data link down", Duration::from_secs(25), |s| span(s, 1)["isdn"]["layer2_up"] == false);
    let s = d.status();
    assert_eq!(calls(&s).first().map(|c| c["state"].clone()), Some("ACTIVE".into()), "T309 keeps the call: {s:#}");
    // Our re-establishment (N200 SABMEs at T200) runs out, so that DL-RELEASE reaches Q.931 and
    // T309 runs (libpri's T309 is 6 s, ours 90 s): wait for it rather than for a fixed time.
    wait_log(&d, "DL-RELEASE-indication", Duration::from_secs(20));
    let s = d.status();
    assert_eq!(calls(&s).first().map(|c| c["state"].clone()), Some("ACTIVE".into()), "T309 keeps the call: {s:#}");
    p.send("unmute");
    d.wait_for("our data link back", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    p.wait_prefix(m, "DCHAN_UP", T);
    std::thread::sleep(Duration::from_millis(500));
    wait_state(&d, id, "ACTIVE");
    assert!(!p.lines().iter().skip(m).any(|l| l.starts_with("HANGUP")), "libpri cleared the call: {:?}", p.lines());
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    p.wait_prefix(m, "HANGUP_REQ cause=16", T);
    assert_eq!(wait_cleared(&d, id), Some(16), "{signalling}");
    let (status, _) = d.terminate();
    assert!(status.success(), "exit status {status:?}");
    drop(p);
    let pcap = scratch.path("d.pcap");
    let summary = tshark_decode(&pcap);
    // STATUS after the data link came back.
    let types = q931_types(&pcap);
    assert!(types.contains(&0x7d), "{signalling}: no STATUS in the capture: {types:02x?}\n{summary}");
}

#[test]
fn pri_layer2_loss_during_a_call_is_survived_within_t309() {
    layer2_loss_within_t309("pri_cpe", "e1", ("net", "pri"));
}

#[test]
fn bri_ptp_layer2_loss_during_a_call_is_survived_within_t309() {
    layer2_loss_within_t309("bri_net", "bri", ("cpe", "bri-ptp"));
}

/// libpri issue #5: on a BRI point-to-multipoint NT, the line is lost while a call clears. Our
/// DISCONNECT is never acknowledged, the data link is released, and the call and its B-channel
/// are freed (cause 41 or the clearing's own) instead of staying busy.
#[test]
fn bri_ptmp_nt_line_lost_while_clearing_leaves_every_b_channel_idle() {
    let scratch = Scratch::new("isdn-libpri5");
    let (d, p) = start(&scratch, ("bri_net_ptmp", "bri", "ring", ""), ("cpe", "bri-ptmp"));
    p.send("onring answer");
    let id = place(&d);
    wait_state(&d, id, "ACTIVE");
    p.send("mute");
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    let within = Duration::from_secs(40);
    let s = d.wait_for("the call gone and every B-channel idle", within, |s| {
        calls(s).is_empty()
            && span(s, 1)["channels"]
                .as_array()
                .is_some_and(|c| c.iter().filter(|c| c["role"] == "B").all(|c| c["state"] == "idle"))
    });
    let cleared = &span(&s, 1)["isdn"]["cleared"];
    assert_eq!(cleared[0]["id"], id, "{s:#}");
    assert!(cleared[0]["cause"].is_u64(), "{s:#}");
    // The line comes back: the terminal gets a new TEI and its data link; libpri still holds the
    // old call and asks with STATUS, which our RELEASE COMPLETE (#101) ends.
    p.send("unmute");
    d.wait_for("the bus back", Duration::from_secs(20), |s| span(s, 1)["isdn"]["layer2_up"] == true);
    let m = p.mark();
    let id = place(&d);
    p.wait_prefix(m, "RING ", Duration::from_secs(20));
    wait_state(&d, id, "ACTIVE");
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    assert_eq!(wait_cleared(&d, id), Some(16));
}
