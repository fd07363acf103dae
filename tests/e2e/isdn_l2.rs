//! Layer 2 (Q.921) against libpri: spangate with one span whose D-channel is a `dchan:` socket,
//! and `tests/peers/libpri_peer.c` on the other end, for PRI, BRI point-to-point and BRI
//! point-to-multipoint, with us as TE and libpri as NT and the other way round. Both sides must
//! report the data link up (the peer prints DCHAN_UP; our status shows the link in multiple-frame
//! operation with the right TEI), and the span's pcap must decode in tshark with no malformed
//! packet.

use std::process::Command;
use std::time::Duration;

use spangate_tests::{build_c_peer, span, tshark_decode, Daemon, Peer, Scratch};

const T: Duration = Duration::from_secs(10);

/// The libpri peer, built once per run; the test fails naming libpri-dev when it cannot be.
fn libpri_peer() -> std::path::PathBuf {
    build_c_peer("libpri_peer", &["pri"], &[("libpri", "libpri-dev"), ("-lpri", "libpri-dev")])
}

/// Our span's signalling against libpri's role and mode; `ptmp` decides which TEIs are right.
fn layer2_comes_up(signalling: &str, kind: &str, peer_role: &str, peer_mode: &str) {
    let peer_bin = libpri_peer();
    let scratch = Scratch::new(&format!("isdn-l2-{signalling}"));
    let sock = scratch.path("d.sock");
    let pcap = scratch.path("d.pcap");
    // keep_up: a TE in point-to-multipoint would otherwise wait for a call to ask for its TEI.
    let cfg = format!(
        r#"[board]
model = "sim-libpri"
backend = "sim"
[[board.span]]
span = 1
kind = "{kind}"
signalling = "{signalling}"
layer2_persistence = "keep_up"
pcap = "{pcap}"
[board.span.sim]
line = "dchan:{sock}"
"#,
        pcap = pcap.display(),
        sock = sock.display()
    );
    let cfg_path = scratch.path("libpri.toml");
    std::fs::write(&cfg_path, cfg).expect("write config");
    let d = Daemon::with_config(&cfg_path);
    // The D-channel socket is bound before the HTTP side starts.
    d.wait_for("the daemon", T, |s| s["spans"].as_array().is_some_and(|a| a.len() == 1));

    let mut cmd = Command::new(&peer_bin);
    cmd.args([peer_role, peer_mode]).arg(scratch.path("peer.sock")).arg(&sock).arg("60");
    let peer = Peer::start(cmd);
    peer.wait_line("DCHAN_UP", T);

    let ptmp = peer_mode == "bri-ptmp";
    let what = format!("{signalling}: layer 2 up against libpri {peer_role} {peer_mode}");
    // Layer 1 is reported by the media thread every 100 ms after a 100 ms debounce, while libpri
    // can bring layer 2 up within a few milliseconds: wait for both rather than race the report.
    let s = d.wait_for(&what, T, |s| {
        span(s, 1)["isdn"]["layer1"] == "ACTIVATED"
            && span(s, 1)["isdn"]["links"].as_array().is_some_and(|links| {
                links.iter().any(|l| l["state"] == "MULTIPLE_FRAME_ESTABLISHED" && l["established"] == true)
            })
    });
    let isdn = &span(&s, 1)["isdn"];
    assert_eq!(isdn["role"], if signalling.contains("cpe") { "TE" } else { "NT" }, "{isdn:#}");
    assert_eq!(isdn["mode"], if ptmp { "PTMP" } else { "PTP" }, "{isdn:#}");
    assert_eq!(isdn["layer1"], "ACTIVATED", "{isdn:#}");
    assert_eq!(isdn["layer2_up"], true, "{isdn:#}");
    let link = isdn["links"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["established"] == true))
        .expect("an established link");
    let tei = link["tei"].as_u64().expect("a TEI");
    if ptmp {
        assert!((64..=126).contains(&tei), "{signalling}: an automatic TEI, got {tei}: {isdn:#}");
    } else {
        assert_eq!(tei, 0, "{signalling}: point-to-point uses TEI 0: {isdn:#}");
    }
    assert_eq!(isdn["counters"]["mdl_errors"], 0, "{isdn:#}\nlog:\n{}", d.log());
    let m = d.get("/metrics").text();
    let up = format!("spangate_isdn_layer2_up{{span=\"1\",name=\"span 1\",tei=\"{tei}\"}} 1");
    assert!(m.lines().any(|l| l == up), "metrics lack {up}:\n{m}");
    assert!(!peer.lines().iter().any(|l| l == "DCHAN_DOWN"), "libpri saw the link drop: {:?}", peer.lines());

    let (status, _) = d.terminate();
    assert!(status.success(), "exit status {status:?}");
    drop(peer);
    let summary = tshark_decode(&pcap);
    for needle in ["func=SABME", "func=UA"] {
        assert!(summary.contains(needle), "{signalling}: the capture lacks {needle}:\n{summary}");
    }
    if ptmp {
        assert!(summary.contains("Identity Assigned"), "{signalling}: no TEI assignment captured:\n{summary}");
    }
}

#[test]
fn pri_layer2_with_libpri_both_ways() {
    layer2_comes_up("pri_cpe", "e1", "net", "pri");
    layer2_comes_up("pri_net", "e1", "cpe", "pri");
}

#[test]
fn bri_ptp_layer2_with_libpri_both_ways() {
    layer2_comes_up("bri_cpe", "bri", "net", "bri-ptp");
    layer2_comes_up("bri_net", "bri", "cpe", "bri-ptp");
}

#[test]
fn bri_ptmp_layer2_and_tei_assignment_with_libpri_both_ways() {
    layer2_comes_up("bri_cpe_ptmp", "bri", "net", "bri-ptmp");
    layer2_comes_up("bri_net_ptmp", "bri", "cpe", "bri-ptmp");
}

/// The built-in board runs Q.921 on both spans against its simulated provider (NT) and PBX (TE):
/// both data links and both far ends reach multiple-frame operation, and the page and the metrics
/// say so.
#[test]
fn default_board_has_layer2_up_on_both_spans() {
    let d = Daemon::start(&[]);
    let established = |i: &serde_json::Value| {
        i["links"]
            .as_array()
            .is_some_and(|l| l.len() == 1 && l[0]["tei"] == 0 && l[0]["state"] == "MULTIPLE_FRAME_ESTABLISHED")
    };
    let s = d.wait_for("layer 2 up on both spans and their far ends", T, |s| {
        [1, 2].iter().all(|&n| established(&span(s, n)["isdn"]) && established(&span(s, n)["isdn"]["far_end"]))
    });
    assert_eq!(span(&s, 1)["isdn"]["role"], "TE", "span 1 faces the provider's network side");
    assert_eq!(span(&s, 1)["isdn"]["far_end"]["role"], "NT");
    assert_eq!(span(&s, 2)["isdn"]["role"], "NT", "span 2 is the network side of the PBX");
    assert_eq!(span(&s, 2)["isdn"]["far_end"]["role"], "TE");
    let html = d.get("/").text();
    for n in [1, 2] {
        let block = format!(r#"id="isdn-{n}" data-layer2="up""#);
        assert!(html.contains(&block), "page lacks {block}:\n{html}");
    }
    assert!(html.contains(r#"TEI 0: <span class="l2 up">MULTIPLE_FRAME_ESTABLISHED</span>"#), "{html}");
    let m = d.get("/metrics").text();
    for line in [
        r#"spangate_isdn_layer2_up{span="1",name="provider",tei="0"} 1"#,
        r#"spangate_isdn_layer2_up{span="2",name="pbx",tei="0"} 1"#,
        r#"spangate_isdn_mdl_errors_total{span="1",name="provider"} 0"#,
    ] {
        assert!(m.lines().any(|l| l == line), "metrics lack {line}:\n{m}");
    }
}

/// A pulled cable takes layer 1 down, and with `layer1_presence = "required"` (the default) the
/// span alarm reaches Q.921 as PH-DEACTIVATE-indication: both data links are released with layer
/// 1, not by their timers (no MDL-ERROR, where T203 and the T200 enquiries would take about 13 s
/// and count errors), and nothing is sent while the line is dead. With keep_up the links come back
/// by themselves once the cable is back. `layer1_presence = "ignore"` has its own test in
/// `isdn_faults`.
#[test]
fn layer2_follows_a_pulled_cable_and_comes_back() {
    let scratch = Scratch::new("isdn-l2-cut");
    let d = Daemon::with_config(&crate::looped_e1_pair(&scratch));
    let up = |s: &serde_json::Value, n: u64| span(s, n)["isdn"]["layer2_up"] == true;
    let down = |s: &serde_json::Value, n: u64| span(s, n)["isdn"]["layer1"] == "DEACTIVATED" && !up(s, n);
    d.wait_for("layer 1 and layer 2 up on the looped pair", T, |s| {
        [1, 2].iter().all(|&n| span(s, n)["isdn"]["layer1"] == "ACTIVATED" && up(s, n))
    });

    d.post_ok("/api/v1/sim/spans/1/cut?dir=both", b"");
    let s = d.wait_for("layer 1 and layer 2 down on both spans", T, |s| down(s, 1) && down(s, 2));
    let sent = |s: &serde_json::Value, n: u64| span(s, n)["isdn"]["counters"]["frames_sent"].as_u64();
    let before = [sent(&s, 1), sent(&s, 2)];
    for n in [1, 2] {
        let isdn = &span(&s, n)["isdn"];
        assert_eq!(isdn["counters"]["mdl_errors"], 0, "span {n}: released by layer 1, not by timers: {isdn:#}");
    }
    // Three T200s of dead line: a keep_up link would have sent three SABMEs by now.
    std::thread::sleep(Duration::from_secs(3));
    let s = d.status();
    assert_eq!([sent(&s, 1), sent(&s, 2)], before, "frames sent while layer 1 was down: {s:#}");

    d.post_ok("/api/v1/sim/spans/1/reconnect", b"");
    d.wait_for("layer 2 back up", T, |s| up(s, 1) && up(s, 2));
    let m = d.get("/metrics").text();
    assert!(m.lines().any(|l| l == r#"spangate_isdn_layer2_up{span="2",name="span 2",tei="0"} 1"#), "{m}");
}
