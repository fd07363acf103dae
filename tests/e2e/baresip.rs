//! baresip calls baresip across the TDM loop (issue #5, "Prove it"): baresip A calls spangate on
//! trunk `a`, the switch routes it out of span 1 (TE, `pri_cpe`), across the simulated cable into
//! span 2 (NT, `pri_net`), and from there to trunk `b`, a second baresip that answers by itself;
//! and the other way round, B out of span 2 (the network side places the call) into span 1 and on
//! to A. Each baresip plays its own tone from a WAV (A 600 Hz, B 1000 Hz) and records what it
//! hears (`sndfile`); in each recording the other side's tone is within 2% in frequency and 3 dB in
//! level of what was sent, for seconds on end, with no trace of its own tone. While the call is up
//! the status shows both bridges (SIP caller to its span, the other span to the SIP callee)
//! answered and both ISDN calls active; after the caller hangs up no leg is left and each bridge
//! wrote its CDR line. A second call is ended by the callee, and clears the same way from the
//! other end. Each direction's config routes only from the caller's trunk and the callee's span,
//! so the caller's span is a destination only (its calls still report to the switch).
//!
//! The spans' echo cancellers are off: a digital four-wire loop has no hybrid and so no echo, and
//! with two tones of one level meeting on a channel the canceller's NLP cannot tell the far end
//! from a 0 dB echo of the near end and mutes it (double talk at equal level; a canceller matter,
//! not the media path this test is about).
//!
//! The callee takes only PCMU while the trunks prefer PCMA: its 180 carries no SDP and its 200
//! answers PCMU, so its media can only be joined once the answer is in (joined on the 180 with a
//! guessed A-law, the tone came out garbled, 12 dB too loud); the spans are A-law, so the media
//! thread recodes.
//!
//! Both trunks are on 127.0.0.1 and differ only by port, with `b` listed first: the gateway must
//! tell its trunks apart by the INVITE's source port, not take the first one on the host.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use spangate_tests::{
    free_port, goertzel, measure_tone, read_wav, rms, sine, span, write_wav, Config, Daemon, Peer, Scratch, Span,
};

/// Generous: CI runs on a loaded 2-core machine.
const T: Duration = Duration::from_secs(30);
/// Amplitude of both tones (about -12 dBFS).
const AMPLITUDE: f64 = 8000.0;
/// Audio each side must have recorded before the call is hung up.
const RECORD_SECS: usize = 4;

fn baresip() -> Command {
    let modules = Path::new("/usr/lib/baresip/modules");
    if !Path::new("/usr/bin/baresip").exists() || !modules.join("sndfile.so").exists() {
        panic!("baresip is missing: install the Debian package baresip-core (or run `cargo xtask deps`)");
    }
    Command::new("/usr/bin/baresip")
}

/// One baresip's config directory: SIP on `sip`, the `cons` command port on `cons`, `tone.wav`
/// (`hz`) as its microphone, recordings in `rec/`.
struct Ua {
    dir: PathBuf,
    cons: u16,
}

impl Ua {
    fn new(scratch: &Scratch, name: &str, sip: u16, account: &str, hz: f64) -> Ua {
        let dir = scratch.path(name);
        std::fs::create_dir_all(dir.join("rec")).expect("create the baresip dir");
        // A tone longer than any call here: aufile hangs up when its file ends.
        write_wav(&dir.join("tone.wav"), &sine(hz, AMPLITUDE, 90.0));
        // Not sip + 1: baresip listens for SIP over TCP there too.
        let cons = loop {
            let p = free_port();
            if p != sip + 1 {
                break p;
            }
        };
        // `net_interface` keeps the SDP address on loopback; `stdio` is left out (no tty);
        // `alsa,null` is a player that plays nowhere (the recording is taken by `sndfile`). The
        // RTP ports stay clear of the daemon's default range and of the kernel's ephemeral ports.
        let config = format!(
            "sip_listen 127.0.0.1:{sip}\nnet_interface 127.0.0.1\n\
             audio_player alsa,null\naudio_alert alsa,null\naudio_source aufile,{tone}\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule alsa.so\nmodule aufile.so\n\
             module sndfile.so\nmodule cons.so\nmodule_tmp account.so\nmodule_app menu.so\n\
             cons_listen 127.0.0.1:{cons}\nsnd_path {rec}\nrtp_ports 21000-29999\n",
            tone = dir.join("tone.wav").display(),
            rec = dir.join("rec").display(),
        );
        std::fs::write(dir.join("config"), config).expect("write the baresip config");
        std::fs::write(dir.join("accounts"), format!("{account}\n")).expect("write the baresip account");
        Ua { dir, cons }
    }

    fn command(&self) -> Command {
        let mut c = baresip();
        // -t: a safety net should the test die without killing it.
        c.arg("-f").arg(&self.dir).args(["-t", "180"]);
        c
    }

    /// The recording of what this UA heard (`dump-<time>-dec.wav`), once it exists.
    fn heard(&self) -> Option<PathBuf> {
        std::fs::read_dir(self.dir.join("rec"))
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
    }

    /// A command to the running UA through its `cons` module, as typed at its prompt.
    fn send(&self, cmd: &str) {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        s.send_to(cmd.as_bytes(), ("127.0.0.1", self.cons)).expect("send to baresip's cons");
    }
}

/// One baresip: its trunk, the span its calls come in and go out on, its number and its tone.
struct Party {
    trunk: &'static str,
    span: u64,
    number: &'static str,
    hz: f64,
}

const A: Party = Party { trunk: "a", span: 1, number: "5678", hz: 600.0 };
const B: Party = Party { trunk: "b", span: 2, number: "2001", hz: 1000.0 };

/// Spans 1 and 2 cabled, trunks `b` and `a` (in that order); routes from the caller's trunk out
/// of its span, and from the callee's span to the callee's trunk, nothing else.
fn config(scratch: &Scratch, sip: u16, a: u16, b: u16, caller: &Party, callee: &Party) -> PathBuf {
    let (from_trunk, out_span, in_span, to_trunk) = (caller.trunk, caller.span, callee.span, callee.trunk);
    // No echo to cancel on a digital four-wire loop (see the test's module doc).
    Config::board("sim-e1x2")
        .board_key("description", "\"span 1 (TE) cabled to span 2 (NT); SIP trunks to two baresips\"")
        .looped_pair(Span::echo_off)
        .sip(&format!("udp:127.0.0.1:{sip}"), &[])
        .trunk("b", "127.0.0.1", b, &["pcma", "pcmu"], &[])
        .trunk("a", "127.0.0.1", a, &["pcma", "pcmu"], &[])
        .route("out", &format!("trunk:{from_trunk}"), &format!("span:{out_span}"), &[])
        .route("in", &format!("span:{in_span}"), &format!("trunk:{to_trunk}"), &[])
        .write(scratch, "baresip.toml")
}

fn isdn_calls(s: &Value, n: u64) -> Vec<Value> {
    span(s, n)["isdn"]["calls"].as_array().cloned().unwrap_or_default()
}

/// The switch's calls as (from, to, state, answered).
fn bridges(s: &Value) -> Vec<(String, String, String, bool)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    s["switch"]["calls"]
        .as_array()
        .map(|a| {
            a.iter().map(|c| (text(&c["from"]), text(&c["to"]), text(&c["state"]), c["answered"] == true)).collect()
        })
        .unwrap_or_default()
}

/// Checks the recording `heard` holds the far tone (`hz`, sent at [`AMPLITUDE`]) within 2% and
/// 3 dB, for at least 2 s of 500 ms windows, and none of the UA's own tone `own_hz`.
#[allow(clippy::cast_precision_loss)]
fn assert_hears(heard: &[i16], hz: f64, own_hz: f64, who: &str, log: &str) {
    let x: Vec<f64> = heard.iter().map(|&v| f64::from(v)).collect();
    let sent_rms = AMPLITUDE / std::f64::consts::SQRT_2;
    let (got_hz, got_rms) = measure_tone(&x);
    let db = |r: f64| 20.0 * (r / sent_rms).log10();
    let windows: Vec<f64> = x.chunks_exact(4000).map(|w| db(rms(w))).collect();
    let good = windows.iter().filter(|d| d.abs() < 3.0).count();
    let own = 20.0 * (goertzel(&x, own_hz) / AMPLITUDE).log10();
    let what = format!(
        "{who} heard {got_hz:.1} Hz at {:.1} dB (sent {hz} Hz); 500 ms levels in dB {windows:.1?}; its own \
         {own_hz} Hz at {own:.1} dB\ndaemon log:\n{log}",
        db(got_rms)
    );
    assert!((got_hz / hz - 1.0).abs() < 0.02 && db(got_rms).abs() < 3.0, "{what}");
    assert!(good >= 4, "the tone must last, not come in bursts: {what}");
    assert!(own < -40.0, "{what}");
}

#[test]
fn baresip_calls_baresip_across_the_tdm_loop() {
    call_across("baresip-te-nt", &A, &B);
}

#[test]
fn baresip_calls_baresip_the_other_way_from_the_nt_span() {
    call_across("baresip-nt-te", &B, &A);
}

fn call_across(tag: &str, caller: &Party, callee: &Party) {
    let scratch = Scratch::new(tag);
    let (sip, a_port, b_port) = (free_port(), free_port(), free_port());
    let cfg = config(&scratch, sip, a_port, b_port, caller, callee);
    let port = |p: &Party| if p.trunk == "a" { a_port } else { b_port };
    let ua_caller = Ua::new(
        &scratch,
        caller.trunk,
        port(caller),
        &format!("<sip:{}@127.0.0.1>;regint=0", caller.number),
        caller.hz,
    );
    let account = format!("<sip:{}@127.0.0.1>;regint=0;answermode=auto;audio_codecs=pcmu", callee.number);
    let ua_callee = Ua::new(&scratch, callee.trunk, port(callee), &account, callee.hz);
    let listen = format!("127.0.0.1:{sip}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("utf-8 path"), "--sip", &listen]);
    d.wait_for("layer 2 up on both spans", T, |s| {
        span(s, 1)["isdn"]["layer2_up"] == true && span(s, 2)["isdn"]["layer2_up"] == true
    });

    let to = Peer::start(ua_callee.command());
    to.wait_contains(0, "baresip is ready.", T);
    let mut dial = ua_caller.command();
    dial.args(["-e", &format!("/dial sip:{}@{listen}", callee.number)]);
    let from = Peer::start(dial);
    from.wait_contains(0, "Call established", T);
    to.wait_contains(0, "Call established", T);
    to.wait_contains(0, "Set audio encoder: PCMU", T);

    let s = both_up(&d);
    let mut got = bridges(&s);
    got.sort();
    let mut want = [
        (format!("trunk:{}", caller.trunk), format!("span:{}", caller.span)),
        (format!("span:{}", callee.span), format!("trunk:{}", callee.trunk)),
    ];
    want.sort();
    assert_eq!(
        got.iter().map(|b| (b.0.clone(), b.1.clone())).collect::<Vec<_>>(),
        want,
        "the switch's calls: the SIP caller to its span, and the other span to the SIP callee\n{}",
        s["switch"]
    );
    for n in [1, 2] {
        let c = &isdn_calls(&s, n)[0];
        let numbers = (c["called"].as_str(), c["calling"].as_str());
        assert_eq!(numbers, (Some(callee.number), Some(caller.number)), "span {n}: {c}");
    }

    // Enough audio recorded on both sides (the WAVs grow as the call goes), then the caller hangs
    // up.
    let enough = 44 + RECORD_SECS * 16_000;
    let deadline = Instant::now() + T;
    let size = |ua: &Ua| ua.heard().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
    while [&ua_caller, &ua_callee].iter().any(|ua| size(ua) < enough as u64) {
        assert!(
            Instant::now() < deadline,
            "baresip recordings stayed short: caller {} callee {} bytes\ncaller:\n{}\ncallee:\n{}",
            size(&ua_caller),
            size(&ua_callee),
            from.lines().join("\n"),
            to.lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // baresip reliably reports a call the far end closed ("session closed"), not always one it
    // ended itself.
    let m = to.mark();
    ua_caller.send("/hangup\n");
    to.wait_contains(m, "session closed", T);
    no_leg_left(&d, 2, &want);

    // The files are complete once each UA closed its call.
    let log = d.log();
    let heard = |ua: &Ua| read_wav(&ua.heard().expect("a recording"));
    assert_hears(&heard(&ua_caller), callee.hz, caller.hz, "the caller", &log);
    assert_hears(&heard(&ua_callee), caller.hz, callee.hz, "the callee", &log);

    // A second call, which the callee ends: its BYE clears the callee's span, that span's
    // DISCONNECT clears the caller's span, and that clears the caller.
    let (mf, mt) = (from.mark(), to.mark());
    ua_caller.send(&format!("/dial sip:{}@{listen}\n", callee.number));
    from.wait_contains(mf, "Call established", T);
    to.wait_contains(mt, "Call established", T);
    both_up(&d);
    let m = from.mark();
    ua_callee.send("/hangup\n");
    from.wait_contains(m, "session closed", T);
    no_leg_left(&d, 4, &want);
}

/// Waits until both bridges are answered and both ISDN calls active.
fn both_up(d: &Daemon) -> Value {
    d.wait_for("both bridges answered and both ISDN calls active", T, |s| {
        let calls = |n| isdn_calls(s, n);
        bridges(s).iter().filter(|b| b.2 == "active" && b.3).count() == 2
            && [calls(1), calls(2)].iter().all(|c| c.len() == 1 && c[0]["state"] == "ACTIVE")
    })
}

/// Waits until no bridge and no ISDN call is left, then checks the log has `cdrs` CDR lines, with
/// an answered one for each bridge of `want`.
fn no_leg_left(d: &Daemon, cdrs: usize, want: &[(String, String)]) {
    d.wait_for("no leg left", T, |s| {
        bridges(s).is_empty() && isdn_calls(s, 1).is_empty() && isdn_calls(s, 2).is_empty()
    });
    // The CDR lines come through the log's pipe, which can trail the status.
    let cdr_lines = |log: &str| log.lines().filter(|l| l.contains("cdr: call=")).count();
    let log = d.wait_log(&format!("{cdrs} CDR lines"), T, |l| cdr_lines(l) >= cdrs);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("cdr: call=")).collect();
    assert_eq!(lines.len(), cdrs, "one CDR line per bridge:\n{log}");
    for (from, to) in want {
        assert!(
            lines.iter().any(|l| l.contains(&format!("from={from} to={to}")) && l.contains("answered=true")),
            "a CDR line for {from} -> {to}:\n{log}"
        );
    }
}
