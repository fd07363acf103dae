//! Transcoding in calls (issue #8 item 7, "Prove it"): a call negotiated G.722 on one SIP leg and
//! G.711 mu-law on the other, across the TDM loop, carries a tone each way within 2% in frequency
//! and with no gap. baresip A (Debian `baresip-core`, its `g722` module, G.722 only) calls
//! spangate on trunk `a` (which prefers G.722); the switch routes it out of span 1 (TE), over the
//! simulated cable into span 2 (NT), and on to trunk `b`, a second baresip that takes only PCMU
//! and answers by itself. The spans are A-law, so the media thread transcodes G.722 <-> A-law on
//! A's leg and mu-law <-> A-law on B's. Each baresip plays its own tone (A 600 Hz, B 1000 Hz) and
//! records what it hears (`sndfile`; A's recording is 16 kHz, as G.722 decodes); the status shows
//! each SIP leg's negotiated codec while the call is up.
//!
//! "No gap": over the middle 2 s of each recording (past the start-up of both jitter buffers,
//! before the hang-up), every 20 ms block holds the far tone within 6 dB of the level sent, so not
//! one packet's worth of audio went missing or came out as silence or noise.
//!
//! The spans' echo cancellers are off, as in `baresip.rs` (a digital four-wire loop has no echo,
//! and two tones of one level look like double talk at 0 dB to an NLP).

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use spangate_tests::{free_port, goertzel, measure_tone, span, Daemon, Peer, Scratch};

/// Generous: CI runs on a loaded 2-core machine.
const T: Duration = Duration::from_secs(30);
/// Amplitude of both tones (about -12 dBFS).
const AMPLITUDE: f64 = 8000.0;
/// Audio each side must have recorded before the call is hung up.
const RECORD_SECS: usize = 5;
const A_HZ: f64 = 600.0;
const B_HZ: f64 = 1000.0;

fn baresip(modules: &[&str]) -> Command {
    let dir = Path::new("/usr/lib/baresip/modules");
    if !Path::new("/usr/bin/baresip").exists() || modules.iter().any(|m| !dir.join(m).exists()) {
        panic!(
            "baresip or one of its modules {modules:?} is missing: install the Debian package baresip-core \
             (or run `cargo xtask deps`)"
        );
    }
    Command::new("/usr/bin/baresip")
}

/// One baresip: SIP on `sip`, `cons` command port, `codec_module` (g711.so or g722.so) its only
/// codec, `tone.wav` (`hz`) as its microphone, recordings in `rec/`.
struct Ua {
    dir: PathBuf,
    cons: u16,
    modules: [&'static str; 5],
}

impl Ua {
    fn new(scratch: &Scratch, name: &str, sip: u16, account: &str, hz: f64, codec_module: &'static str) -> Ua {
        let dir = scratch.path(name);
        std::fs::create_dir_all(dir.join("rec")).expect("create the baresip dir");
        // A tone longer than any call here: aufile hangs up when its file ends. aufile wants the
        // codec's own rate: 16 kHz for G.722.
        let rate = if codec_module == "g722.so" { 16_000 } else { 8_000 };
        write_wav_at(&dir.join("tone.wav"), &sine_at(hz, rate, 90), rate);
        let cons = loop {
            let p = free_port();
            if p != sip + 1 {
                break p;
            }
        };
        let modules = [codec_module, "alsa.so", "aufile.so", "sndfile.so", "cons.so"];
        let loads: String = modules.iter().map(|m| format!("module {m}\n")).collect();
        let config = format!(
            "sip_listen 127.0.0.1:{sip}\nnet_interface 127.0.0.1\n\
             audio_player alsa,null\naudio_alert alsa,null\naudio_source aufile,{tone}\n\
             module_path /usr/lib/baresip/modules\n{loads}module_tmp account.so\nmodule_app menu.so\n\
             cons_listen 127.0.0.1:{cons}\nsnd_path {rec}\nrtp_ports 21000-29999\n",
            tone = dir.join("tone.wav").display(),
            rec = dir.join("rec").display(),
        );
        std::fs::write(dir.join("config"), config).expect("write the baresip config");
        std::fs::write(dir.join("accounts"), format!("{account}\n")).expect("write the baresip account");
        Ua { dir, cons, modules }
    }

    fn command(&self) -> Command {
        let mut c = baresip(&self.modules);
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

    fn send(&self, cmd: &str) {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        s.send_to(cmd.as_bytes(), ("127.0.0.1", self.cons)).expect("send to baresip's cons");
    }
}

/// `secs` of a `hz` sine of amplitude [`AMPLITUDE`] at `rate`.
#[allow(clippy::cast_possible_truncation)]
fn sine_at(hz: f64, rate: u32, secs: u32) -> Vec<i16> {
    (0..rate * secs)
        .map(|i| (AMPLITUDE * (std::f64::consts::TAU * hz * f64::from(i) / f64::from(rate)).sin()).round() as i16)
        .collect()
}

/// Writes mono 16-bit PCM at `rate` as a WAV file.
fn write_wav_at(path: &Path, samples: &[i16], rate: u32) {
    let data = u32::try_from(samples.len() * 2).expect("a WAV under 4 GiB");
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    // PCM, 1 channel, the rate, 2 bytes a second per sample, 2-byte frames, 16 bits.
    for (v, n) in [(16u32, 4), (1, 2), (1, 2), (rate, 4), (2 * rate, 4), (2, 2), (16, 2)] {
        b.extend_from_slice(&v.to_le_bytes()[..n]);
    }
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The samples of a mono 16-bit PCM WAV at 8 or 16 kHz, as 8 kHz (a 16 kHz file keeps every
/// other sample: the tones here are far below 4 kHz), and its rate.
fn read_wav_8k(path: &Path) -> (Vec<i16>, u32) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE", "{} is not a WAV file", path.display());
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let mut at = 12;
    let mut format = None;
    while at + 8 <= b.len() {
        let (id, size) = (&b[at..at + 4], usize::try_from(u32_at(at + 4)).expect("32-bit size"));
        let body = at + 8;
        if id == b"fmt " && body + 16 <= b.len() {
            format = Some((u16_at(body), u16_at(body + 2), u32_at(body + 4), u16_at(body + 14)));
        } else if id == b"data" {
            let Some((1, 1, rate @ (8000 | 16000), 16)) = format else {
                panic!(
                    "{}: (format, channels, rate, bits) {format:?}, expected PCM mono 8/16 kHz 16-bit",
                    path.display()
                )
            };
            let end = if size == 0 || body + size > b.len() { b.len() } else { body + size };
            let all: Vec<i16> = b[body..end].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
            let step = if rate == 16000 { 2 } else { 1 };
            return (all.into_iter().step_by(step).collect(), rate);
        }
        at = body + size + size % 2;
    }
    panic!("{}: no data chunk", path.display());
}

fn config(scratch: &Scratch, sip: u16, a: u16, b: u16) -> PathBuf {
    let cfg = format!(
        r#"[board]
model = "sim-e1x2"
backend = "sim"
description = "span 1 (TE) cabled to span 2 (NT); trunk a speaks G.722, trunk b G.711"

[[board.span]]
span = 1
kind = "e1"
timing = 1
termination = "te"
signalling = "pri_cpe"
switchtype = "euroisdn"
echo = {{ mode = "off" }}
[board.span.sim]
line = "span:2"

[[board.span]]
span = 2
kind = "e1"
timing = 0
termination = "nt"
signalling = "pri_net"
switchtype = "euroisdn"
echo = {{ mode = "off" }}
[board.span.sim]
line = "span:1"

[sip]
listen = "udp:127.0.0.1:{sip}"

[[sip.trunk]]
name = "a"
host = "127.0.0.1"
port = {a}
codecs = ["g722", "pcma", "pcmu"]

[[sip.trunk]]
name = "b"
host = "127.0.0.1"
port = {b}
codecs = ["pcma", "pcmu"]

[[route]]
name = "out"
from = "trunk:a"
to = "span:1"

[[route]]
name = "in"
from = "span:2"
to = "trunk:b"
"#
    );
    let p = scratch.path("transcode.toml");
    std::fs::write(&p, cfg).expect("write config");
    p
}

/// The codecs of the SIP legs of every call on the status.
fn sip_codecs(s: &Value) -> Vec<String> {
    let mut out: Vec<String> = s["switch"]["calls"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["legs"].as_array().cloned().unwrap_or_default())
        .filter(|l| l["kind"] == "sip")
        .map(|l| l["codec"].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

/// Checks `heard` (8 kHz) holds the far tone `hz` within 2% and 3 dB, and that over its middle
/// 2 s every 20 ms block holds it within 6 dB of the level sent (no gap).
#[allow(clippy::cast_precision_loss)]
fn assert_hears_without_gaps(heard: &[i16], hz: f64, who: &str, log: &str) {
    let x: Vec<f64> = heard.iter().map(|&v| f64::from(v)).collect();
    let sent_rms = AMPLITUDE / std::f64::consts::SQRT_2;
    let db = |r: f64| 20.0 * (r / sent_rms).log10();
    let (got_hz, got_rms) = measure_tone(&x);
    let what = format!("{who} heard {got_hz:.1} Hz at {:.1} dB (sent {hz} Hz)\ndaemon log:\n{log}", db(got_rms));
    assert!((got_hz / hz - 1.0).abs() < 0.02 && db(got_rms).abs() < 3.0, "{what}");
    // The middle 2 s of what was recorded while the call was up.
    assert!(x.len() >= 8000 * RECORD_SECS, "{who}: only {} samples recorded", x.len());
    let mid = x.len() / 2;
    let middle = &x[mid - 8000..mid + 8000];
    // Each 20 ms block holds a whole number of periods of both tones, so Goertzel reads the
    // tone's amplitude in it exactly.
    let blocks: Vec<f64> = middle.chunks_exact(160).map(|b| 20.0 * (goertzel(b, hz) / AMPLITUDE).log10()).collect();
    let low: Vec<(usize, f64)> =
        blocks.iter().enumerate().filter(|(_, &l)| l < -6.0).map(|(i, &l)| (i * 20, l)).collect();
    assert!(
        low.is_empty(),
        "{who}: 20 ms blocks more than 6 dB below the tone sent (ms into the middle 2 s, dB): {low:.1?}; all \
         blocks {blocks:.1?}\n{what}"
    );
}

#[test]
fn g722_leg_to_g711_leg_across_the_tdm_loop_carries_a_tone_each_way_without_gaps() {
    let scratch = Scratch::new("transcode-g722");
    let (sip, a_port, b_port) = (free_port(), free_port(), free_port());
    let cfg = config(&scratch, sip, a_port, b_port);
    let ua_a = Ua::new(&scratch, "a", a_port, "<sip:5678@127.0.0.1>;regint=0;audio_codecs=g722", A_HZ, "g722.so");
    let account_b = "<sip:2001@127.0.0.1>;regint=0;answermode=auto;audio_codecs=pcmu";
    let ua_b = Ua::new(&scratch, "b", b_port, account_b, B_HZ, "g711.so");
    let listen = format!("127.0.0.1:{sip}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("utf-8 path"), "--sip", &listen]);
    d.wait_for("layer 2 up on both spans", T, |s| {
        span(s, 1)["isdn"]["layer2_up"] == true && span(s, 2)["isdn"]["layer2_up"] == true
    });

    let to = Peer::start(ua_b.command());
    to.wait_contains(0, "baresip is ready.", T);
    let mut dial = ua_a.command();
    dial.args(["-e", &format!("/dial sip:2001@{listen}")]);
    let from = Peer::start(dial);
    from.wait_contains(0, "Call established", T);
    to.wait_contains(0, "Call established", T);
    from.wait_contains(0, "Set audio encoder: G722", T);
    to.wait_contains(0, "Set audio encoder: PCMU", T);

    // Both bridges up, each SIP leg on the status with the codec it negotiated.
    let s = d.wait_for("both bridges answered, SIP legs G722 and PCMU", T, |s| {
        let answered = s["switch"]["calls"]
            .as_array()
            .is_some_and(|c| c.len() == 2 && c.iter().all(|c| c["state"] == "active" && c["answered"] == true));
        answered && sip_codecs(s) == ["G722", "PCMU"]
    });
    let page = d.get("/").text();
    assert!(page.contains("SIP G722 20 ms") && page.contains("SIP PCMU 20 ms"), "{}\n{page}", s["switch"]);

    // Enough audio recorded on both sides, then A hangs up. A's recording is 16 kHz (2 bytes a
    // sample), B's 8 kHz.
    let deadline = Instant::now() + T;
    let size = |ua: &Ua| ua.heard().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
    let enough = |ua: &Ua, rate: u64| size(ua) >= 44 + 2 * rate * RECORD_SECS as u64;
    while !(enough(&ua_a, 16_000) && enough(&ua_b, 8_000)) {
        assert!(
            Instant::now() < deadline,
            "baresip recordings stayed short: A {} B {} bytes\nA:\n{}\nB:\n{}",
            size(&ua_a),
            size(&ua_b),
            from.lines().join("\n"),
            to.lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let m = to.mark();
    ua_a.send("/hangup\n");
    to.wait_contains(m, "session closed", T);
    d.wait_for("no call left", T, |s| s["switch"]["calls"].as_array().is_none_or(Vec::is_empty));

    let log = d.log();
    let (heard_a, rate_a) = read_wav_8k(&ua_a.heard().expect("A's recording"));
    let (heard_b, rate_b) = read_wav_8k(&ua_b.heard().expect("B's recording"));
    assert_eq!((rate_a, rate_b), (16_000, 8_000), "A decodes G.722 (16 kHz), B G.711 (8 kHz)");
    assert_hears_without_gaps(&heard_a, B_HZ, "A (G.722)", &log);
    assert_hears_without_gaps(&heard_b, A_HZ, "B (PCMU)", &log);
    // Each hears no trace of its own tone (the media path does not loop a leg back on itself).
    for (heard, own, who) in [(&heard_a, A_HZ, "A"), (&heard_b, B_HZ, "B")] {
        let x: Vec<f64> = heard.iter().map(|&v| f64::from(v)).collect();
        let own_db = 20.0 * (goertzel(&x, own) / AMPLITUDE).log10();
        assert!(own_db < -40.0, "{who} hears its own tone at {own_db:.1} dB");
    }
}
