//! ISDN faults against libpri (`tests/peers/libpri_peer.c`): a layer 2 loss that outlasts T309
//! (the call cleared with cause #27 as Q.931 §5.8.9 prescribes, on both sides), layer 1 loss told
//! to layer 2 or not (`layer1_presence = "required" | "ignore"`), `layer2_persistence =
//! "leave_down"` bringing the data link up only for a call, and TEI removal in
//! point-to-multipoint both ways (the network removes a TEI, the terminal asks again).

use std::time::Duration;

use serde_json::Value;
use spangate_tests::{span, tshark_decode, Daemon, Scratch};

use crate::isdn_calls::{
    calls, config, place, q931_decoded, start, start_peer, wait_cleared, wait_cleared_within, wait_log, wait_state,
};

const T: Duration = Duration::from_secs(10);

/// Every B-channel of span 1 idle and no call left.
fn all_idle(s: &Value) -> bool {
    calls(s).is_empty()
        && span(s, 1)["channels"]
            .as_array()
            .is_some_and(|c| c.iter().filter(|c| c["role"] == "B").all(|c| c["state"] == "idle"))
}

fn counter(s: &Value, name: &str) -> u64 {
    span(s, 1)["isdn"]["counters"][name].as_u64().unwrap_or_else(|| panic!("counter {name}: {s:#}"))
}

/// The TEI of span 1's established data link, once there is one.
fn established_tei(d: &Daemon, what: &str, within: Duration) -> u64 {
    let tei = |s: &Value| {
        span(s, 1)["isdn"]["links"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["established"] == true).and_then(|l| l["tei"].as_u64()))
    };
    let s = d.wait_for(what, within, |s| tei(s).is_some());
    tei(&s).expect("an established link")
}

/// A layer 2 loss that outlasts T309 (libpri's line cut both ways and left cut): libpri's T309
/// (6 s) and then ours expire, and each side clears the call with cause #27, destination out of
/// order (Q.931 §5.8.9), frees its B-channel, and takes a new call once the line is back. Our
/// T309 is set to libpri's 6 s with the span's `timers` (Q.931's default is 90 s), which this
/// test also checks: at the default the call would still be up when the wait below ends.
#[test]
fn pri_layer2_loss_beyond_t309_clears_the_call_with_cause_27() {
    let scratch = Scratch::new("isdn-t309-expiry");
    let (d, p) = start(&scratch, ("pri_cpe", "e1", "ring", "timers = { t309_ms = 6000 }"), ("net", "pri"));
    p.send("onring answer");
    let m = p.mark();
    let id = place(&d);
    wait_state(&d, id, "ACTIVE");
    p.send("mute");
    // T203 (10 s), N200 enquiries and N200 SABMEs at T200 (1 s) find the far end gone; then T309.
    d.wait_for("our data link down", Duration::from_secs(30), |s| span(s, 1)["isdn"]["layer2_up"] == false);
    let s = d.status();
    assert_eq!(calls(&s).first().map(|c| c["state"].clone()), Some("ACTIVE".into()), "T309 keeps the call: {s:#}");
    let hangup = p.wait_prefix(m, "HANGUP", Duration::from_secs(40));
    assert_eq!(hangup, "HANGUP cause=27", "libpri's T309 expiry: {:?}", p.lines());
    // Our link went down before libpri's T309 ran out, so ours (6 s) is due within seconds; 60 s
    // leaves a loaded machine room and is still short of the 90 s default.
    assert_eq!(wait_cleared_within(&d, id, Duration::from_secs(60)), Some(27), "our T309 expiry");
    let s = d.wait_for("every B-channel idle", T, all_idle);
    assert_eq!(span(&s, 1)["isdn"]["cleared"][0]["connected"], true, "{s:#}");

    p.send("unmute");
    d.wait_for("our data link back", Duration::from_secs(20), |s| span(s, 1)["isdn"]["layer2_up"] == true);
    let m = p.mark();
    let id = place(&d);
    assert!(p.wait_prefix(m, "RING ", T).starts_with("RING called=1234 calling=5678 chan=1 "), "{:?}", p.lines());
    wait_state(&d, id, "ACTIVE");
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    assert_eq!(wait_cleared(&d, id), Some(16));
    assert!(!p.lines().iter().any(|l| l.starts_with("ERROR")), "{:?}", p.lines());
}

/// `layer1_presence = "required"` (the default) on a PRI facing libpri: the span's line is cut,
/// the RED alarm reaches Q.921 as PH-DEACTIVATE-indication and the data link is released at
/// once (no MDL-ERROR: no timer found it), nothing is sent on the dead line, a new call is
/// refused at once while the active one waits T309; with the line back the link returns
/// (keep_up) and the active call is still there and clears normally.
#[test]
fn layer1_required_takes_layer2_down_with_the_span_alarm() {
    let scratch = Scratch::new("isdn-l1-required");
    let (d, p) = start(&scratch, ("pri_cpe", "e1", "ring", ""), ("net", "pri"));
    d.wait_for("layer 1 reported", T, |s| span(s, 1)["isdn"]["layer1"] == "ACTIVATED");
    p.send("onring answer");
    let id = place(&d);
    wait_state(&d, id, "ACTIVE");

    d.post_ok("/api/v1/sim/spans/1/cut?dir=both", b"");
    let s = d.wait_for("layer 1 and layer 2 down", T, |s| {
        span(s, 1)["isdn"]["layer1"] == "DEACTIVATED" && span(s, 1)["isdn"]["layer2_up"] == false
    });
    assert_eq!(counter(&s, "mdl_errors"), 0, "released by layer 1, not by Q.921's timers: {s:#}");
    assert_eq!(calls(&s).first().map(|c| c["state"].clone()), Some("ACTIVE".into()), "T309 keeps the call: {s:#}");
    let sent = counter(&s, "frames_sent");

    // A call placed now cannot get a data link: refused at once, not after T303.
    let m = p.mark();
    let refused = place(&d);
    let s = d.wait_for("the new call refused", T, |s| {
        span(s, 1)["isdn"]["cleared"].as_array().is_some_and(|c| c.iter().any(|c| c["id"] == refused))
    });
    let cleared = span(&s, 1)["isdn"]["cleared"].as_array().cloned().unwrap_or_default();
    let c = cleared.iter().find(|c| c["id"] == refused).expect("the refused call");
    assert_eq!((c["connected"].as_bool(), c["cause"].as_u64()), (Some(false), Some(41)), "{c}");
    // Three T200s of dead line: with layer 1 not told, keep_up would have sent SABMEs by now.
    std::thread::sleep(Duration::from_secs(3));
    let s = d.status();
    assert_eq!(counter(&s, "frames_sent"), sent, "frames sent while layer 1 was down: {s:#}");

    d.post_ok("/api/v1/sim/spans/1/reconnect", b"");
    d.wait_for("layer 1 and layer 2 back", T, |s| {
        span(s, 1)["isdn"]["layer1"] == "ACTIVATED" && span(s, 1)["isdn"]["layer2_up"] == true
    });
    wait_state(&d, id, "ACTIVE");
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    p.wait_prefix(m, "HANGUP_REQ cause=16", T);
    assert_eq!(wait_cleared(&d, id), Some(16));
    assert!(!p.lines().iter().skip(m).any(|l| l.starts_with("RING")), "the refused call reached libpri");
    d.wait_for("every B-channel idle", T, all_idle);
}

/// `layer1_presence = "ignore"`: the same cut is not told to layer 2, which keeps sending
/// (enquiries, then SABMEs with keep_up) until its own timers give up (MDL-ERRORs counted), and
/// comes back up by itself once the line is back.
#[test]
fn layer1_ignore_leaves_layer2_to_its_timers() {
    let scratch = Scratch::new("isdn-l1-ignore");
    let (d, p) = start(&scratch, ("pri_cpe", "e1", "ring", r#"layer1_presence = "ignore""#), ("net", "pri"));
    d.post_ok("/api/v1/sim/spans/1/cut?dir=both", b"");
    let s = d.wait_for("layer 1 deactivated", T, |s| span(s, 1)["isdn"]["layer1"] == "DEACTIVATED");
    let sent = counter(&s, "frames_sent");
    let s = d.wait_for("layer 2 down by its timers", Duration::from_secs(30), |s| {
        span(s, 1)["isdn"]["layer2_up"] == false && counter(s, "mdl_errors") > 0
    });
    let sent_when_down = counter(&s, "frames_sent");
    assert!(sent_when_down > sent, "layer 2 kept polling the dead line: {s:#}");
    d.wait_for("layer 2 still trying (SABME every T200)", T, |s| counter(s, "frames_sent") >= sent_when_down + 2);
    d.post_ok("/api/v1/sim/spans/1/reconnect", b"");
    d.wait_for("layer 2 back", T, |s| span(s, 1)["isdn"]["layer2_up"] == true);
    drop(p);
}

/// `layer2_persistence = "leave_down"` on a terminal of a bus facing libpri's network side: no
/// TEI is asked for and no data link set up while idle; a call asks for both, goes through and
/// clears.
#[test]
fn leave_down_brings_layer2_up_only_for_a_call() {
    let scratch = Scratch::new("isdn-leave-down");
    let cfg = config(&scratch, "bri_cpe_ptmp", "bri", "ring", r#"layer2_persistence = "leave_down""#);
    let d = Daemon::with_config(&cfg);
    d.wait_for("the daemon", T, |s| s["spans"].as_array().is_some_and(|a| a.len() == 1));
    let p = start_peer(&scratch, ("net", "bri-ptmp"), 120);
    p.wait_line("DCHAN_UP", T);
    d.wait_for("layer 1 reported", T, |s| span(s, 1)["isdn"]["layer1"] == "ACTIVATED");
    // Idle for longer than T203 and a TEI request's T202: a keep_up terminal would be up by now.
    std::thread::sleep(Duration::from_secs(3));
    let s = d.status();
    let isdn = &span(&s, 1)["isdn"];
    assert_eq!(isdn["layer2_up"], false, "{isdn:#}");
    assert!(isdn["links"].as_array().is_some_and(|l| l.iter().all(|l| l["tei"].is_null())), "no TEI yet: {isdn:#}");
    assert_eq!(counter(&s, "frames_sent"), 0, "nothing sent while idle: {isdn:#}");

    p.send("onring answer");
    let m = p.mark();
    let id = place(&d);
    assert!(p.wait_prefix(m, "RING ", T).starts_with("RING called=1234 calling=5678 "), "{:?}", p.lines());
    wait_state(&d, id, "ACTIVE");
    let tei = established_tei(&d, "the data link up for the call", T);
    assert!((64..=126).contains(&tei), "an automatic TEI: {tei}");
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    assert_eq!(wait_cleared(&d, id), Some(16));
}

/// Point-to-multipoint, libpri as the network side: it restarts and, having no TEI on its
/// books, sends Identity remove to every terminal (Ai = 127). Our terminal gives its TEI up
/// (MDL-REMOVE), asks again, gets one, brings its data link back (keep_up) and calls through.
#[test]
fn bri_ptmp_network_removes_our_tei_and_we_ask_again() {
    let scratch = Scratch::new("isdn-tei-removed");
    let (d, p) = start(&scratch, ("bri_cpe_ptmp", "bri", "ring", ""), ("net", "bri-ptmp"));
    let tei = established_tei(&d, "our data link up", T);
    drop(p);
    let p = start_peer(&scratch, ("net", "bri-ptmp"), 120);
    wait_log(&d, &format!("MDL-REMOVE tei={tei}"), T);
    wait_log(&d, "MDL-ASSIGN", T);
    let again = established_tei(&d, "our data link up again", Duration::from_secs(20));
    assert!((64..=126).contains(&again), "{again}");
    p.send("onring answer");
    let m = p.mark();
    let id = place(&d);
    p.wait_prefix(m, "RING ", T);
    wait_state(&d, id, "ACTIVE");
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    assert_eq!(wait_cleared(&d, id), Some(16));

    let (status, _) = d.terminate();
    assert!(status.success(), "exit status {status:?}");
    drop(p);
    let pcap = scratch.path("d.pcap");
    let summary = tshark_decode(&pcap);
    assert!(tei_messages(&pcap, 6, 127) > 0, "libpri's Identity remove to every terminal:\n{summary}");
    let remove = summary.find("Identity Remove").unwrap_or_else(|| panic!("no Identity remove:\n{summary}"));
    let request = summary[remove..].find("Identity Request");
    assert!(request.is_some(), "no Identity request after the removal:\n{summary}");
}

/// Point-to-multipoint, we are the network side: our daemon restarts under libpri's terminal,
/// which still uses its old TEI. The new daemon does not know it and removes it (Identity remove
/// for that TEI, Q.921 §5.3.4.1); libpri asks again, gets a TEI, and a call goes through.
#[test]
fn bri_ptmp_we_remove_an_unknown_tei_and_libpri_asks_again() {
    let scratch = Scratch::new("isdn-tei-remove");
    let (d, p) = start(&scratch, ("bri_net_ptmp", "bri", "ring", ""), ("cpe", "bri-ptmp"));
    let old = established_tei(&d, "libpri's data link up", T);
    let (status, _) = d.terminate();
    assert!(status.success(), "exit status {status:?}");
    // The same configuration again: a new socket at the same path and a new capture.
    let d = Daemon::with_config(&scratch.path("calls.toml"));
    // libpri's next frame on its old TEI (at the latest its T203 poll, 10 s) is answered with
    // Identity remove (no data link exists for it, so only the capture shows the removal).
    established_tei(&d, "libpri's data link up again", Duration::from_secs(40));
    p.send("onring answer");
    let m = p.mark();
    let id = place(&d);
    p.wait_prefix(m, "RING ", T);
    wait_state(&d, id, "ACTIVE");
    d.post_ok(&format!("/api/v1/spans/1/calls/{id}/hangup"), b"");
    assert_eq!(wait_cleared(&d, id), Some(16));
    assert!(!p.lines().iter().any(|l| l.starts_with("ERROR")), "{:?}", p.lines());

    let (status, _) = d.terminate();
    assert!(status.success(), "exit status {status:?}");
    drop(p);
    let pcap = scratch.path("d.pcap");
    let summary = tshark_decode(&pcap);
    // Our removal names the old TEI (Ai), and the terminal's new request follows it.
    let removal = summary.lines().position(|l| l.contains("Identity Remove"));
    let removal = removal.unwrap_or_else(|| panic!("we sent no Identity remove:\n{summary}"));
    assert!(
        summary.lines().skip(removal).any(|l| l.contains("Identity Request")),
        "libpri did not ask again after the removal:\n{summary}"
    );
    assert!(tei_messages(&pcap, 6, old) > 0, "no Identity remove for TEI {old}:\n{summary}");
    // The decoder saw Q.931 too: the call's SETUP went out after the new assignment.
    assert!(q931_decoded(&pcap).iter().any(|m| m.message_type == 0x05), "{summary}");
}

/// How many TEI management messages of type `message` (6 = Identity remove) with this Ai (the
/// TEI it is about) the capture holds, as tshark decodes them.
fn tei_messages(pcap: &std::path::Path, message: u8, ai: u64) -> usize {
    let filter = format!("tei.msg == {message} && tei.action == {ai}");
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-Y", &filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("run tshark (Debian package tshark)");
    assert!(out.status.success(), "tshark -Y {filter}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().count()
}
