//! Clock source selection: the healthy span with the lowest non-zero timing priority is master;
//! losing it moves the clock to the next one, and back when it returns.

use std::time::Duration;

use spangate_tests::{Config, Daemon, Scratch, Span};

/// Generous: the alarm and status figures come from periodic reports, and CI is a loaded machine.
const T: Duration = Duration::from_secs(20);

#[test]
fn losing_the_clock_master_moves_the_clock() {
    let scratch = Scratch::new("clock");
    let mut cfg = Config::board("sim-e1x2").board_key("name", "\"clock test\"");
    for (n, timing, line) in [(1, 1, "provider"), (2, 2, "provider"), (3, 0, "pbx")] {
        let span = Span::e1(n, line).timing(timing);
        cfg = cfg.span(if line == "pbx" { span.nt() } else { span.te() });
    }
    let path = cfg.write(&scratch, "clock.toml");
    let d = Daemon::with_config(&path);
    d.wait_for("span 1 master", T, |s| s["clock_source_span"] == 1);
    d.post_ok("/api/v1/sim/spans/1/cut?dir=both", b"");
    let s = d.wait_for("span 2 master", T, |s| s["clock_source_span"] == 2);
    assert_eq!(s["clock_source"], "span 2");
    assert_eq!(s["spans"][1]["clock_master"], true);
    assert_eq!(s["spans"][0]["clock_master"], false);
    d.post_ok("/api/v1/sim/spans/2/cut?dir=rx", b"");
    d.wait_for("internal clock", T, |s| s["clock_source_span"].is_null() && s["clock_source"] == "internal");
    d.post_ok("/api/v1/sim/spans/1/reconnect", b"");
    d.wait_for("span 1 master again", T, |s| s["clock_source_span"] == 1);
    let m = d.get("/metrics").text();
    assert!(m.contains("spangate_clock_source_span 1\n"), "{m}");
}
