//! The echo canceller in the daemon, end to end: the simulated provider's hybrid returns a delayed,
//! attenuated copy of what a channel sends; the canceller's output (`capture?clean=1`) must be at
//! least 20 dB below the raw echo on the line once converged, with its ERLE in the status.

use std::time::{Duration, Instant};

use spangate_tests::{alarm, alaw, channel_state, linear, span, Config, Daemon, Scratch, Span};

/// Generous: the alarm and status figures come from periodic reports, and CI is a loaded machine.
const T: Duration = Duration::from_secs(20);

/// Span 1 faces a provider whose hybrid returns 12 ms later at 10 dB ERL, with a 64 ms canceller;
/// span 2 (to a PBX) has the canceller off.
fn config(scratch: &Scratch) -> std::path::PathBuf {
    let provider = Span::e1(1, "provider").timing(1).set("echo", "{ mode = \"software\", taps = 512 }");
    let pbx = Span::e1(2, "pbx").set("termination", "\"nt\"").set("signalling", "\"pri_net\"");
    Config::board("sim-e1x2")
        .board_key("name", "\"echo test\"")
        .span(provider.sim("echo_path", "{ delay_ms = 12, erl_db = 10 }"))
        .span(pbx.set("echo", "{ mode = \"off\", taps = 128 }"))
        .write(scratch, "echo.toml")
}

/// A speech-like far end: AR(2)-coloured noise (poles at radius 0.9 near 500 Hz) in 150-600 ms
/// bursts with 50-300 ms pauses, about -18 dBm0 in the bursts.
// Float-to-integer conversions of values clamped or bounded just before: what is meant.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn speech_like(ms: usize, mut seed: u64) -> Vec<u8> {
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let (a1, a2) = (2.0 * 0.9 * (2.0 * std::f64::consts::PI * 500.0 / 8000.0).cos(), -0.81);
    let mut out = Vec::with_capacity(ms * 8);
    let (mut y1, mut y2) = (0.0, 0.0);
    while out.len() < ms * 8 {
        let burst = (150.0 + rnd() * 450.0) as usize * 8;
        for _ in 0..burst {
            let y = (rnd() - 0.5) * 1200.0 + a1 * y1 + a2 * y2;
            (y2, y1) = (y1, y);
            out.push(alaw(y.clamp(-32000.0, 32000.0) as i16));
        }
        let pause = (50.0 + rnd() * 250.0) as usize * 8;
        out.extend(std::iter::repeat_n(0xD5, pause));
    }
    out.truncate(ms * 8);
    out
}

/// Mean power of the A-law samples `codes[from_ms..to_ms]`, in dB relative to one LSB.
fn power_db(codes: &[u8], from_ms: usize, to_ms: usize) -> f64 {
    let s = &codes[from_ms * 8..to_ms * 8];
    let p = s.iter().map(|&c| f64::from(linear(c)).powi(2)).sum::<f64>() / s.len() as f64;
    10.0 * p.max(1e-3).log10()
}

#[test]
fn the_canceller_removes_the_far_end_hybrid_echo_and_reports_its_erle() {
    let scratch = Scratch::new("echo");
    let d = Daemon::with_config(&config(&scratch));
    d.wait_for("both spans up", T, |s| alarm(s, 1) == "OK" && alarm(s, 2) == "OK");
    let ch = "/api/v1/spans/1/channels/1";

    // A channel without a canceller has no clean output to give.
    let r = d.request("POST", "/api/v1/spans/2/channels/1/capture?ms=10&clean=1", b"");
    assert_eq!(r.status, 409, "clean capture on a span with echo off: {}", r.text());
    // An idle channel shows no canceller.
    assert!(span(&d.status(), 1)["channels"][0]["echo"].is_null(), "idle channel with echo stats");

    let play_ms = 4000;
    let cap_ms = play_ms + 200;
    let audio = speech_like(play_ms, 0x5eed);
    let (raw, clean, seen) = std::thread::scope(|scope| {
        let raw = scope.spawn(|| d.request("POST", &format!("{ch}/capture?ms={cap_ms}"), b""));
        let clean = scope.spawn(|| d.request("POST", &format!("{ch}/capture?ms={cap_ms}&clean=1"), b""));
        // Both captures running before the audio: the status shows the channel busy once the
        // first is queued to the media thread, and the second was asked for at the same instant.
        d.wait_for("the capture running", T, |s| channel_state(s, 1, 1) == "busy");
        std::thread::sleep(Duration::from_millis(100));
        d.post_ok(&format!("{ch}/play"), &audio);
        // The status of the channel near the end of the play, once the canceller had time.
        std::thread::sleep(Duration::from_millis(3000));
        let status = d.status();
        let metrics = d.get("/metrics").text();
        let raw = raw.join().expect("raw capture");
        let clean = clean.join().expect("clean capture");
        (raw, clean, (status, metrics))
    });
    assert_eq!(raw.status, 200, "raw capture: {}", raw.text());
    assert_eq!(clean.status, 200, "clean capture: {}", clean.text());
    assert_eq!((raw.body.len(), clean.body.len()), (cap_ms * 8, cap_ms * 8));

    // The echo is really there: the line returns the played audio about 10 dB down.
    let played = power_db(&audio, 2000, 3500);
    let echo = power_db(&raw.body, 2000, 3600);
    assert!(echo > played - 14.0 && echo < played - 6.0, "echo {echo:.1} dB vs played {played:.1} dB");
    // After two seconds of convergence the canceller's output is at least 20 dB below it.
    let residual = power_db(&clean.body, 2000, 3600);
    eprintln!("played {played:.1} dB, echo {echo:.1} dB, cancelled {residual:.1} dB (re 1 LSB)");
    eprintln!("status: {}", span(&seen.0, 1)["channels"][0]["echo"]);
    assert!(residual <= echo - 20.0, "cancelled output {residual:.1} dB vs echo {echo:.1} dB");

    let (status, metrics) = seen;
    let e = &span(&status, 1)["channels"][0]["echo"];
    assert_eq!(span(&status, 1)["channels"][0]["ts"], 1);
    let erle = e["erle_db"].as_f64().unwrap_or_else(|| panic!("no ERLE for channel 1: {e}"));
    assert!(erle >= 15.0 && e["converged"] == true, "echo stats after 3 s: {e}");
    assert!(metrics.contains("spangate_echo_erle_db{span=\"1\",ts=\"1\"} "), "{metrics}");

    // Once the channel is idle again its canceller stops and its figures go.
    let start = Instant::now();
    d.wait_for("channel 1 idle without echo stats", T, |s| span(s, 1)["channels"][0]["echo"].is_null());
    assert!(start.elapsed() < T);
}
