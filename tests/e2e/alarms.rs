//! Alarms as on a real line: a cut direction gives RED at its receiver and YELLOW at the far end,
//! a pulled cable RED at both ends, AIS gives BLUE, a loopback LOOP; the page and the metrics follow.

use std::time::Duration;

use spangate_tests::{alarm, Daemon, Scratch};

/// Generous: the alarm and status figures come from periodic reports, and CI is a loaded machine.
const T: Duration = Duration::from_secs(20);

fn metric(d: &Daemon, line: &str) -> bool {
    d.get("/metrics").text().lines().any(|l| l == line)
}

#[test]
fn cut_pull_ais_and_reconnect() {
    let scratch = Scratch::new("alarms");
    let d = Daemon::with_config(&crate::looped_e1_pair(&scratch));
    d.wait_for("both spans up", T, |s| alarm(s, 1) == "OK" && alarm(s, 2) == "OK");

    // One direction: the receiver of span 2 loses signal.
    d.post_ok("/api/v1/sim/spans/2/cut?dir=rx", b"");
    d.wait_for("span 2 RED, span 1 YELLOW", T, |s| alarm(s, 2) == "RED" && alarm(s, 1) == "YELLOW");
    let html = d.get("/").text();
    assert!(html.contains(r#"id="span-2" data-alarm="RED""#), "{html}");
    assert!(html.contains(r#"id="span-1" data-alarm="YELLOW""#), "{html}");
    assert!(metric(&d, r#"spangate_span_alarm{span="2",name="span 2",alarm="red"} 1"#));
    assert!(metric(&d, r#"spangate_span_alarm{span="1",name="span 1",alarm="yellow"} 1"#));
    assert!(metric(&d, r#"spangate_span_up{span="1",name="span 1"} 0"#));

    // The whole cable: both receivers lose signal; neither can see the other's RAI.
    d.post_ok("/api/v1/sim/spans/1/cut?dir=both", b"");
    d.wait_for("both RED", T, |s| alarm(s, 1) == "RED" && alarm(s, 2) == "RED");
    assert!(metric(&d, r#"spangate_span_alarm{span="1",name="span 1",alarm="red"} 1"#));

    d.post_ok("/api/v1/sim/spans/1/reconnect", b"");
    d.post_ok("/api/v1/sim/spans/2/reconnect", b"");
    d.wait_for("both clear", T, |s| alarm(s, 1) == "OK" && alarm(s, 2) == "OK");
    assert!(metric(&d, r#"spangate_span_up{span="2",name="span 2"} 1"#));

    d.post_ok("/api/v1/sim/spans/1/ais?on=1", b"");
    d.wait_for("span 2 BLUE", T, |s| alarm(s, 2) == "BLUE");
    d.post_ok("/api/v1/sim/spans/1/ais?on=0", b"");
    d.wait_for("clear after AIS", T, |s| alarm(s, 1) == "OK" && alarm(s, 2) == "OK");

    d.post_ok("/api/v1/sim/spans/1/loopback?on=1", b"");
    d.wait_for("span 1 LOOP, span 2 RED", T, |s| alarm(s, 1) == "LOOP" && alarm(s, 2) == "RED");
    assert!(metric(&d, r#"spangate_span_alarm{span="1",name="span 1",alarm="loopback"} 1"#));
    d.post_ok("/api/v1/sim/spans/1/loopback?on=0", b"");
    d.wait_for("clear after loopback", T, |s| alarm(s, 1) == "OK" && alarm(s, 2) == "OK");
}
