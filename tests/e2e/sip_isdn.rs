//! libpri as the provider on span 1 and sipp as the PBX behind a SIP trunk, with the numbers
//! rewritten by the routes both ways: the provider's 0140551234 from 0601020304 reaches sipp as
//! `INVITE sip:1234@...` from `+33601020304` (read in sipp's message trace), and sipp's call to
//! 612345678 reaches libpri as called 0612345678 from 0140551000 (libpri prints its SETUP).

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use spangate_tests::{build_c_peer, span, wait_udp_bound, Config, Daemon, Peer, Scratch, Span, LOCALHOST};

use crate::sip::{check, sipp_on, spawn, wait_exit};

const T: Duration = Duration::from_secs(10);

/// The first SIP message in a sipp `-trace_msg` file whose start line begins with `start`.
fn traced(trace: &str, start: &str) -> Option<String> {
    let at = trace.find(&format!("\n{start}"))?;
    let msg = &trace[at + 1..];
    let end = msg.find("\n\n").unwrap_or(msg.len());
    Some(msg[..end].to_owned())
}

#[test]
fn libpri_provider_and_sipp_pbx_get_the_rewritten_numbers_both_ways() {
    let scratch = Scratch::new("sip-libpri");
    let (sip_port, sipp_port) = (spangate_tests::free_port(), spangate_tests::free_port());
    let line = format!("dchan:{}", scratch.path("d.sock").display());
    let path = Config::board("sim-libpri")
        .span(Span::e1(1, &line).set("signalling", "\"pri_cpe\"").set("layer2_persistence", "\"keep_up\"").echo_off())
        .sip(&format!("udp:127.0.0.1:{sip_port}"), &[])
        .trunk("pbx", "127.0.0.1", sipp_port, &["pcma", "pcmu"], &[])
        .route(
            "did-to-pbx",
            "span:1",
            "trunk:pbx",
            &["called = \"014055\"", "strip = 6", "calling_strip = 1", "calling_prepend = \"+33\""],
        )
        .route("pbx-out", "trunk:pbx", "span:1", &["prepend = \"0\"", "calling_set = \"0140551000\""])
        .write(&scratch, "sip-libpri.toml");
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", path.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("the daemon", T, |s| s["spans"].as_array().is_some_and(|a| a.len() == 1));
    let peer = build_c_peer("libpri_peer", &["pri"], &[("libpri", "libpri-dev"), ("-lpri", "libpri-dev")]);
    let mut cmd = Command::new(peer);
    cmd.args(["net", "pri"]).arg(scratch.path("p.sock")).arg(scratch.path("d.sock")).arg("120");
    let provider = Peer::start_scripted(cmd);
    provider.wait_line("DCHAN_UP", T);
    d.wait_for("layer 2 up on span 1", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);

    // The provider calls a DID: sipp's UAS answers, the provider hangs up.
    let mut uas = spawn(
        sipp_on(&scratch, sipp_port, "sipp_uas_err.log")
            .args(["-sn", "uas", "-m", "1", "-timeout", "30s", "-trace_msg", "-message_file"])
            .arg(scratch.path("sipp_uas_messages.log")),
    );
    wait_udp_bound(LOCALHOST, sipp_port, &mut uas, "sipp's UAS");
    let m = provider.mark();
    provider.send("call 0140551234 0601020304 5");
    provider.wait_prefix(m, "ANSWER", T);
    provider.send("hangup 16");
    provider.wait_prefix(m, "HANGUP", T);
    let status = wait_exit(&mut uas, Duration::from_secs(15));
    assert!(status.is_some_and(|s| s.success()), "sipp uas: {status:?}\ndaemon log:\n{}", d.log());
    let trace = std::fs::read_to_string(scratch.path("sipp_uas_messages.log")).expect("sipp's message trace");
    let invite = traced(&trace, "INVITE ").unwrap_or_else(|| panic!("no INVITE in sipp's trace:\n{trace}"));
    assert!(invite.starts_with("INVITE sip:1234@"), "the called number stripped of 014055:\n{invite}");
    let from = invite.lines().find(|l| l.starts_with("From:")).unwrap_or_default();
    assert!(from.contains("sip:+33601020304@"), "the calling number rewritten to +33:\n{invite}");
    d.wait_for("every leg gone", T, |s| {
        s["switch"]["calls"].as_array().is_some_and(Vec::is_empty)
            && span(s, 1)["isdn"]["calls"].as_array().is_some_and(Vec::is_empty)
    });

    // sipp's UAC calls out through the provider, which answers; sipp hangs up.
    provider.send("onring answer");
    let m = provider.mark();
    let out = sipp_on(&scratch, sipp_port, "sipp_uac_err.log")
        .args(["-sn", "uac", "-s", "612345678", "-m", "1", "-d", "1000", "-timeout", "20s"])
        .arg(&sip)
        .output()
        .expect("run sipp");
    check(&out, "uac out through libpri", &d);
    let ring = provider.wait_prefix(m, "RING ", T);
    assert!(ring.starts_with("RING called=0612345678 calling=0140551000 "), "{ring}");
    provider.wait_prefix(m, "HANGUP", T);
    let s: Value = d.wait_for("every leg gone", T, |s| {
        s["switch"]["calls"].as_array().is_some_and(Vec::is_empty)
            && span(s, 1)["isdn"]["calls"].as_array().is_some_and(Vec::is_empty)
    });
    assert_eq!(s["switch"]["counters"]["answered"], 2, "{}", s["switch"]);
}
