//! The default appliance comes up, reports over JSON, HTML and metrics, and stops on SIGTERM.

use std::time::Duration;

use spangate_tests::{alarm, Daemon};

#[test]
fn default_run_has_two_spans_up_within_3_s() {
    let d = Daemon::start(&[]);
    let started = d.started();
    let s = d.wait_for("two spans up", Duration::from_secs(3), |s| {
        s["spans"].as_array().is_some_and(|a| a.len() == 2 && a.iter().all(|x| x["up"] == true))
    });
    assert!(started.elapsed() <= Duration::from_secs(3));
    assert_eq!(alarm(&s, 1), "OK");
    assert_eq!(alarm(&s, 2), "OK");
    assert_eq!(s["board"]["model"], "sim-e1x2");
    assert_eq!(s["clock_source_span"], 1, "span 1 (timing 1) is the clock master: {s:#}");
    let span1 = &s["spans"][0];
    assert_eq!(span1["channels"].as_array().map(Vec::len), Some(31), "30 B + 1 D on E1");
}

#[test]
fn page_and_metrics_show_both_spans() {
    let d = Daemon::start(&[]);
    d.wait_for("two spans up", Duration::from_secs(20), |s| {
        s["spans"].as_array().is_some_and(|a| a.iter().all(|x| x["up"] == true))
    });
    let page = d.get("/");
    assert_eq!(page.status, 200);
    let html = page.text();
    for needle in [r#"id="span-1" data-alarm="OK""#, r#"id="span-2" data-alarm="OK""#, "http-equiv=\"refresh\""] {
        assert!(html.contains(needle), "page lacks {needle}:\n{html}");
    }
    let m = d.get("/metrics").text();
    for needle in [
        "spangate_span_up{span=\"1\",name=\"provider\"} 1",
        "spangate_span_up{span=\"2\",name=\"pbx\"} 1",
        "spangate_clock_source_span 1",
        "# TYPE spangate_span_slips_total counter",
    ] {
        assert!(m.contains(needle), "metrics lack {needle}:\n{m}");
    }
}

#[test]
fn bad_requests_get_clear_answers_and_the_daemon_lives_on() {
    let d = Daemon::start(&[]);
    d.wait_for("started", Duration::from_secs(20), |s| s["spans"].as_array().is_some_and(|a| !a.is_empty()));
    let cases: [(&str, &str, &[u8], u16); 6] = [
        ("GET", "/nope", b"", 404),
        ("POST", "/api/v1/sim/spans/9/cut", b"", 404),
        ("POST", "/api/v1/sim/spans/x/cut", b"", 400),
        ("POST", "/api/v1/sim/spans/1/cut?dir=sideways", b"", 400),
        ("POST", "/api/v1/spans/1/channels/16/play", b"abc", 400),
        ("POST", "/api/v1/sim/spans/1/fault", b"{not json", 400),
    ];
    for (method, path, body, want) in cases {
        let r = d.request(method, path, body);
        assert_eq!(r.status, want, "{method} {path}: {}", r.text());
        assert!(r.text().contains("\"error\""), "{method} {path}: {}", r.text());
    }
    assert_eq!(d.get("/api/v1/status").status, 200, "still serving after bad requests");
}

#[test]
fn sigterm_stops_cleanly_within_1_s() {
    let d = Daemon::start(&[]);
    d.wait_for("started", Duration::from_secs(20), |s| s["media"]["ticks"].as_u64().is_some_and(|t| t > 0));
    let (status, took) = d.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
}
