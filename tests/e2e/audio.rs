//! Audio written into a B-channel arrives bit-exact on the far side of a cable: between two spans of
//! one process, and between two `spangate` processes over a cable socket.

use std::time::Duration;

use spangate_tests::{alarm, bit_exact, pattern, Config, Daemon, Mismatch, Scratch, Span};

/// Generous: the alarm and status figures come from periodic reports, and CI is a loaded machine.
const T: Duration = Duration::from_secs(20);

fn slips(d: &Daemon) -> u64 {
    d.status()["spans"].as_array().map_or(0, |a| a.iter().map(|s| s["counters"]["slips"].as_u64().unwrap_or(0)).sum())
}

/// Captures on `(to, to_path)` while playing `audio` on `(from, from_path)`; whether the whole of
/// `audio` arrived unchanged and in one piece.
fn try_play_and_capture(
    from: &Daemon,
    from_path: &str,
    to: &Daemon,
    to_path: &str,
    audio: &[u8],
) -> Result<(), Mismatch> {
    // A second after the audio: a play request slowed by a loaded machine still ends inside it.
    let ms = audio.len() / 8 + 1000;
    let got = to.capture_during(to_path, ms, || {
        from.post_ok(&format!("{from_path}/play"), audio);
    });
    assert_eq!(got.status, 200, "capture: {}", got.text());
    assert_eq!(got.body.len(), ms * 8);
    bit_exact(&got.body, audio)
}

/// The audio must arrive bit-exact. A controlled slip (counted by the spans, e.g. when a loaded
/// machine starves a cross-process cable's elastic store) legitimately repeats a frame, so a
/// mismatch is retried only when the slip counters moved; so is a capture that provably started
/// late (on a far end's channel the status cannot show the capture running before the play). Any
/// other mismatch fails.
fn play_and_capture(from: &Daemon, from_path: &str, to: &Daemon, to_path: &str, audio: &[u8]) {
    for attempt in 1..=3 {
        let before = slips(from) + slips(to);
        match try_play_and_capture(from, from_path, to, to_path, audio) {
            Ok(()) => return,
            Err(e) => {
                let slipped = slips(from) + slips(to) - before;
                let late = matches!(e, Mismatch::LateStart { .. });
                assert!((slipped > 0 || late) && attempt < 3, "attempt {attempt}: {e:?} (slips during it: {slipped})");
                eprintln!("attempt {attempt}: {e:?} after {slipped} slip(s); retrying");
            }
        }
    }
}

#[test]
fn bit_exact_across_a_cable_in_one_process() {
    let scratch = Scratch::new("audio-local");
    let d = Daemon::with_config(&crate::looped_e1_pair(&scratch));
    d.wait_for("both spans up", T, |s| alarm(s, 1) == "OK" && alarm(s, 2) == "OK");
    let audio = pattern(1600, 7);
    play_and_capture(&d, "/api/v1/spans/1/channels/5", &d, "/api/v1/spans/2/channels/5", &audio);
    let back = pattern(800, 8);
    play_and_capture(&d, "/api/v1/spans/2/channels/31", &d, "/api/v1/spans/1/channels/31", &back);
}

#[test]
fn bit_exact_to_the_simulated_provider() {
    let d = Daemon::start(&[]);
    d.wait_for("both spans up", T, |s| alarm(s, 1) == "OK" && alarm(s, 2) == "OK");
    let audio = pattern(800, 9);
    play_and_capture(&d, "/api/v1/spans/1/channels/1", &d, "/api/v1/sim/spans/1/far/channels/1", &audio);
}

#[test]
fn bit_exact_between_two_processes() {
    let scratch = Scratch::new("audio-2p");
    let sock = scratch.path("cable.sock");
    let line = |role: &str| format!("{role}:{}", sock.display());
    let board = |role: &str| Config::board("sim-e1x2").board_key("name", &format!("\"{role}\""));
    let a_cfg = board("listen").span(Span::e1(1, &line("listen")).timing(0).nt()).write(&scratch, "a.toml");
    let b_cfg = board("connect").span(Span::e1(1, &line("connect")).timing(1).te()).write(&scratch, "b.toml");
    let a = Daemon::with_config(&a_cfg);
    a.wait_for("listener started", T, |s| s["spans"].as_array().is_some_and(|x| x.len() == 1));
    let b = Daemon::with_config(&b_cfg);
    a.wait_for("A up", T, |s| alarm(s, 1) == "OK");
    b.wait_for("B up", T, |s| alarm(s, 1) == "OK");
    let audio = pattern(1600, 11);
    play_and_capture(&a, "/api/v1/spans/1/channels/3", &b, "/api/v1/spans/1/channels/3", &audio);
    let back = pattern(1600, 12);
    play_and_capture(&b, "/api/v1/spans/1/channels/30", &a, "/api/v1/spans/1/channels/30", &back);

    // The peer process going away is a loss of signal.
    drop(b);
    a.wait_for("A RED after B exits", T, |s| alarm(s, 1) == "RED");
}
