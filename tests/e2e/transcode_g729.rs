//! Transcoding G.729A <-> G.722 in one call (issue #8, "Prove it": "A call negotiated G.729 on one
//! SIP leg and G.722 on the other carries a tone each way with the frequency within 2% and no
//! gaps"). Side A calls on trunk `a` offering only G.729 (`annexb=no`), the switch routes it out
//! of span 1, over the simulated cable into span 2 and on to trunk `b`, where side B answers with
//! only G.722. A sends a 600 Hz tone in G.729A, B a 1000 Hz tone in G.722 (16 kHz audio); each
//! side decodes what the gateway sends it.
//!
//! The peers: sipp does the SIP of both sides (scenarios written here, whose SDP names this test's
//! own RTP sockets) and the test is both RTP endpoints, encoding and decoding with `media_dsp`'s
//! G.729A and G.722 (each checked bit-exact against bcg729 and spandsp by media-dsp's tests), as
//! no packaged SIP peer speaks G.729 (Debian's baresip has no g729 module; sipp only replays
//! pcaps and records nothing).
//!
//! "No gap": over 2 s of each side's received stream, every 20 ms packet is there (consecutive
//! sequence numbers, timestamps 160 apart) and every 20 ms of its decoded audio holds the far tone
//! within 6 dB of the level sent.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media_dsp::{g711, g722, g729};
use spangate_tests::{free_port, goertzel, scenario, span, wait_udp_bound, Config, Daemon, Scratch, LOCALHOST};

const T: Duration = Duration::from_secs(30);
const AMPLITUDE: f64 = 8000.0;
const A_HZ: f64 = 600.0;
const B_HZ: f64 = 1000.0;
/// Payload types: G.729 and G.722 are static (RFC 3551).
const PT_G729: u8 = 18;
const PT_G722: u8 = 9;
const PT_PCMA: u8 = 8;
/// How long the caller stays in the call: the audio needs about 5 s.
const CALL_MS: u64 = 12_000;

fn sipp() -> Command {
    if !std::path::Path::new("/usr/bin/sipp").exists() {
        panic!("sipp is missing: install the Debian package sip-tester (or run `cargo xtask deps`)");
    }
    Command::new("/usr/bin/sipp")
}

fn config(scratch: &Scratch, sip_port: u16, a_port: u16, b_port: u16) -> std::path::PathBuf {
    Config::board("sim-e1x2")
        .looped_pair(|s| s)
        .sip(&format!("udp:127.0.0.1:{sip_port}"), &[])
        .trunk("a", "127.0.0.1", a_port, &["g729", "pcma"], &[])
        .trunk("b", "127.0.0.1", b_port, &["g722", "pcma"], &[])
        .route("a-out", "trunk:a", "span:1", &[])
        .route("to-b", "span:2", "trunk:b", &[])
        .write(scratch, "g729.toml")
}

fn sdp(rtp_port: u16, pt: u8, version: u32) -> String {
    let codec = match pt {
        PT_G729 => "G729/8000\r\na=fmtp:18 annexb=no",
        PT_PCMA => "PCMA/8000",
        _ => "G722/8000",
    };
    format!(
        "v=0\r\no=- 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP {pt}\r\n\
         a=rtpmap:{pt} {codec}\r\na=ptime:20\r\n"
    )
}

/// A caller offering only G.729 on `rtp_port`; it hangs up after `CALL_MS`. With `reinvite`, 3 s
/// into the call it re-INVITEs with PCMA only, as a phone switching codec would.
fn uac_scenario(rtp_port: u16, reinvite: bool) -> String {
    let mut middle = String::new();
    if reinvite {
        middle += "  <pause milliseconds=\"3000\" />\n";
        middle += &scenario::in_dialog("INVITE", 2, Some("application/sdp"), &sdp(rtp_port, PT_PCMA, 2));
        middle += r#"  <recv response="100" optional="true" />
  <recv response="200">
    <action>
      <ereg regexp="o=[^\r\n]*" search_in="body" assign_to="origin2" />
      <log message="REANSWER [$origin2]" />
    </action>
  </recv>
"#;
        middle += &scenario::ack(2);
    }
    middle += &format!("  <pause milliseconds=\"{CALL_MS}\" />\n");
    scenario::caller("g729 caller", &sdp(rtp_port, PT_G729, 1), &middle, 3)
}

/// An answerer taking only G.722 on `rtp_port`; it waits for the BYE.
fn uas_scenario(rtp_port: u16) -> String {
    scenario::answerer("g722 answerer", &sdp(rtp_port, PT_G722, 1), false, "")
}

/// One RTP packet as received.
#[derive(Debug, Clone)]
struct Pkt {
    pt: u8,
    seq: u16,
    ts: u32,
    payload: Vec<u8>,
}

fn parse(b: &[u8]) -> Option<Pkt> {
    if b.len() < 12 || b[0] >> 6 != 2 {
        return None;
    }
    let start = 12 + 4 * usize::from(b[0] & 0x0f);
    Some(Pkt {
        pt: b[1] & 0x7f,
        seq: u16::from_be_bytes([b[2], b[3]]),
        ts: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        payload: b.get(start..)?.to_vec(),
    })
}

/// One side's RTP: its socket, what arrived, where the gateway sends from, and a sender thread
/// that sends `packets` every 20 ms (absolute deadlines, so a late wake-up is caught up) once the
/// gateway's address is known.
struct Side {
    sock: UdpSocket,
    /// The RTCP port above `sock`, held so that no other test's endpoint can bind it.
    _rtcp: UdpSocket,
    got: Arc<Mutex<Vec<Pkt>>>,
    from: Arc<Mutex<Option<SocketAddr>>>,
    stop: Arc<AtomicBool>,
}

impl Side {
    fn new() -> Side {
        let (sock, rtcp) = spangate_tests::rtp_pair();
        sock.set_read_timeout(Some(Duration::from_millis(50))).expect("timeout");
        let got: Arc<Mutex<Vec<Pkt>>> = Arc::default();
        let from: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (g, f, s) = (Arc::clone(&got), Arc::clone(&from), Arc::clone(&stop));
        let rx = sock.try_clone().expect("clone socket");
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !s.load(Ordering::Relaxed) {
                if let Ok((n, src)) = rx.recv_from(&mut buf) {
                    *f.lock().expect("lock") = Some(src);
                    if let Some(p) = parse(&buf[..n]) {
                        g.lock().expect("lock").push(p);
                    }
                }
            }
        });
        Side { sock, _rtcp: rtcp, got, from, stop }
    }

    fn port(&self) -> u16 {
        self.sock.local_addr().expect("addr").port()
    }

    fn gateway(&self) -> Option<SocketAddr> {
        *self.from.lock().expect("lock")
    }

    fn packets(&self) -> Vec<Pkt> {
        self.got.lock().expect("lock").clone()
    }

    /// Starts sending `payloads` (one per 20 ms) of type `pt` to the gateway; with `then`, from
    /// the first packet of its type the gateway sends (it took a re-INVITE to that codec), the
    /// same timeline's packets from `then` instead.
    fn start_sending(&self, pt: u8, payloads: Vec<Vec<u8>>, then: Option<(u8, Vec<Vec<u8>>)>) {
        let tx = self.sock.try_clone().expect("clone socket");
        let (from, stop, got) = (Arc::clone(&self.from), Arc::clone(&self.stop), Arc::clone(&self.got));
        std::thread::spawn(move || {
            let to = loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                if let Some(a) = *from.lock().expect("lock") {
                    break a;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            let start = Instant::now();
            for (k, payload) in payloads.iter().enumerate() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let k32 = u32::try_from(k).expect("short stream");
                let due = start + Duration::from_millis(20 * u64::from(k32));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let switched = then.as_ref().filter(|(pt2, _)| got.lock().expect("lock").iter().any(|p| p.pt == *pt2));
                let (pt, payload) = match switched {
                    Some((pt2, other)) => (*pt2, &other[k]),
                    None => (pt, payload),
                };
                let mut b = vec![0x80, if k == 0 { 0x80 } else { 0 } | pt];
                b.extend_from_slice(&u16::try_from(k % 65_536).expect("16 bits").to_be_bytes());
                b.extend_from_slice(&(k32 * 160).to_be_bytes());
                b.extend_from_slice(&0x5eed_0729u32.to_be_bytes());
                b.extend_from_slice(payload);
                let _ = tx.send_to(&b, to);
            }
        });
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Sample `i` of a `hz` sine at `rate`.
#[allow(clippy::cast_possible_truncation)]
fn sine(hz: f64, rate: f64, i: usize) -> i16 {
    let t = f64::from(u32::try_from(i).expect("short signal")) / rate;
    (AMPLITUDE * (std::f64::consts::TAU * hz * t).sin()).round() as i16
}

/// `n` 20 ms G.729A payloads (two frames each) of A's tone.
fn g729_stream(n: usize) -> Vec<Vec<u8>> {
    let mut enc = g729::Encoder::new();
    (0..n)
        .map(|k| {
            let mut p = Vec::with_capacity(20);
            for f in 0..2 {
                let pcm: [i16; 80] = std::array::from_fn(|i| sine(A_HZ, 8000.0, k * 160 + f * 80 + i));
                p.extend_from_slice(&enc.encode(&pcm));
            }
            p
        })
        .collect()
}

/// `n` 20 ms G.722 payloads of B's tone (16 kHz audio, as a wideband phone sends).
fn g722_stream(n: usize) -> Vec<Vec<u8>> {
    let mut enc = g722::Encoder::new(g722::Rate::Kbps64);
    (0..n)
        .map(|k| {
            let pcm: Vec<i16> = (0..320).map(|i| sine(B_HZ, 16_000.0, k * 320 + i)).collect();
            let mut p = vec![0u8; 160];
            assert_eq!(enc.encode(&pcm, &mut p), 160);
            p
        })
        .collect()
}

/// The packets of type `pt` in arrival order, and where in them the first run of `want` begins
/// whose packets came in order with consecutive sequence numbers and timestamps 160 apart, after
/// the first second (the jitter buffers' start-up); panics, saying where the stream broke, when
/// there is none.
fn contiguous(packets: &[Pkt], pt: u8, want: usize, who: &str) -> (Vec<Pkt>, usize) {
    contiguous_after(packets, pt, want, 50, who)
}

/// As [`contiguous`], from the `skip`th packet of type `pt` on.
fn contiguous_after(packets: &[Pkt], pt: u8, want: usize, skip: usize, who: &str) -> (Vec<Pkt>, usize) {
    let media: Vec<Pkt> = packets.iter().filter(|p| p.pt == pt).cloned().collect();
    let mut start = skip;
    let mut breaks = Vec::new();
    for i in skip + 1..media.len() {
        let (last, p) = (&media[i - 1], &media[i]);
        if p.seq != last.seq.wrapping_add(1) || p.ts != last.ts.wrapping_add(160) {
            breaks.push((last.seq, last.ts, p.seq, p.ts, p.payload.len()));
            start = i;
        }
        if i + 1 - start == want {
            return (media, start);
        }
    }
    let types: Vec<u8> = packets.iter().map(|p| p.pt).take(10).collect();
    panic!(
        "{who}: no {want} packets in a row of type {pt} ({} received, first types {types:?}); breaks (seq, ts -> \
         seq, ts, len): {breaks:?}",
        packets.len()
    );
}

/// Checks 8 kHz `audio` holds the tone `hz` within 2% (zero crossings) and, in every 20 ms,
/// within 6 dB of the level sent.
#[allow(clippy::cast_precision_loss)]
fn assert_tone_without_gaps(audio: &[i16], hz: f64, who: &str, log: &str) {
    let x: Vec<f64> = audio.iter().map(|&v| f64::from(v)).collect();
    let crossings = x.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
    let got = crossings as f64 / 2.0 / (x.len() as f64 / 8000.0);
    let blocks: Vec<f64> = x.chunks_exact(160).map(|b| 20.0 * (goertzel(b, hz) / AMPLITUDE).log10()).collect();
    let what = format!("{who}: {got:.1} Hz (sent {hz} Hz); 20 ms tone levels in dB {blocks:.1?}\ndaemon log:\n{log}");
    assert!((got / hz - 1.0).abs() < 0.02, "{what}");
    assert!(blocks.iter().all(|&l| l > -6.0 && l < 6.0), "a gap or a broken level: {what}");
}

/// The gateway and sipp on both sides.
struct Call {
    scratch: Scratch,
    d: Daemon,
    sipp: Vec<Child>,
}

impl Call {
    fn context(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.scratch.path(n)).unwrap_or_default();
        format!(
            "sipp A:\n{}{}\nsipp B:\n{}{}\ndaemon log:\n{}",
            read("a_out.txt"),
            read("a_err.log"),
            read("b_out.txt"),
            read("b_err.log"),
            self.d.log()
        )
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        for c in &mut self.sipp {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_sipp(scratch: &Scratch, args: &[&str], out: &str) -> Child {
    let file = std::fs::File::create(scratch.path(out)).expect("sipp output file");
    sipp().args(args).stdin(Stdio::null()).stdout(file).stderr(Stdio::null()).spawn().expect("run sipp")
}

/// Starts the gateway, sipp B answering in G.722 and sipp A calling in G.729 (re-INVITing to PCMA
/// 3 s in with `reinvite`), and waits until the gateway's RTP reaches both sides.
fn start_call(name: &str, reinvite: bool) -> (Call, Side, Side) {
    let scratch = Scratch::new(name);
    let (sip_port, a_port, b_port) = (free_port(), free_port(), free_port());
    let (a, b) = (Side::new(), Side::new());
    let cfg = config(&scratch, sip_port, a_port, b_port);
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on both spans", T, |s| {
        span(s, 1)["isdn"]["layer2_up"] == true && span(s, 2)["isdn"]["layer2_up"] == true
    });
    let (uac, uas) = (scratch.path("uac.xml"), scratch.path("uas.xml"));
    std::fs::write(&uac, uac_scenario(a.port(), reinvite)).expect("write scenario");
    std::fs::write(&uas, uas_scenario(b.port())).expect("write scenario");
    let (a_err, b_err) = (scratch.path("a_err.log"), scratch.path("b_err.log"));
    let (bp, ap) = (b_port.to_string(), a_port.to_string());
    let common = ["-m", "1", "-timeout", "60s", "-nostdin", "-i", "127.0.0.1", "-trace_err", "-error_file"];
    let mut args_b = vec!["-sf", uas.to_str().expect("path"), "-p", &bp];
    args_b.extend_from_slice(&common);
    args_b.push(b_err.to_str().expect("path"));
    let mut sipp_b = spawn_sipp(&scratch, &args_b, "b_out.txt");
    wait_udp_bound(LOCALHOST, b_port, &mut sipp_b, "sipp B");
    let a_log = scratch.path("a_log.txt");
    let mut args_a = vec!["-sf", uac.to_str().expect("path"), "-s", "5000", "-p", &ap];
    args_a.extend_from_slice(&["-trace_logs", "-log_file", a_log.to_str().expect("path")]);
    args_a.extend_from_slice(&common);
    args_a.extend_from_slice(&[a_err.to_str().expect("path"), &sip]);
    let sipp_a = spawn_sipp(&scratch, &args_a, "a_out.txt");
    let call = Call { scratch, d, sipp: vec![sipp_a, sipp_b] };
    let deadline = Instant::now() + T;
    while a.gateway().is_none() || b.gateway().is_none() {
        assert!(Instant::now() < deadline, "no RTP from the gateway at A or B\n{}", call.context());
        std::thread::sleep(Duration::from_millis(20));
    }
    (call, a, b)
}

/// The codecs of the SIP legs on the status.
fn sip_codecs(s: &serde_json::Value) -> Vec<String> {
    let mut legs: Vec<String> = s["switch"]["calls"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["legs"].as_array().cloned().unwrap_or_default())
        .filter(|l| l["kind"] == "sip")
        .map(|l| l["codec"].as_str().unwrap_or_default().to_owned())
        .collect();
    legs.sort();
    legs
}

/// Waits until `side` has received `n` packets of type `pt`.
fn wait_packets(side: &Side, pt: u8, n: usize, who: &str, call: &Call) {
    let deadline = Instant::now() + T;
    while side.packets().iter().filter(|p| p.pt == pt).count() < n {
        assert!(Instant::now() < deadline, "{who}: fewer than {n} packets of type {pt}\n{}", call.context());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A's 2 s of G.729A (or PCMA) and B's 2 s of G.722 from `from_a`, `from_b` (packet indexes among
/// each side's packets of that type), decoded from each stream's first packet as a phone would.
fn decode(at_a: &[Pkt], a_pt: u8, at_b: &[Pkt]) -> (Vec<i16>, Vec<i16>) {
    let mut dec = g729::Decoder::new();
    let mut heard_a = Vec::new();
    for p in at_a {
        if a_pt == PT_PCMA {
            heard_a.extend(p.payload.iter().map(|&c| g711::Law::Alaw.decode(c)));
            continue;
        }
        for f in p.payload.chunks_exact(10) {
            let mut pcm = [0i16; 80];
            dec.decode(Some(f.try_into().expect("10 octets")), &mut pcm);
            heard_a.extend_from_slice(&pcm);
        }
    }
    let mut dec = g722::Decoder::new(g722::Rate::Kbps64);
    let mut heard_b = Vec::new();
    for p in at_b {
        let mut wide = [0i16; 320];
        assert_eq!(dec.decode(&p.payload, &mut wide), 320);
        // The tones are far below 4 kHz: every other 16 kHz sample is the 8 kHz signal.
        heard_b.extend(wide.iter().step_by(2));
    }
    (heard_a, heard_b)
}

/// 100 packets (2 s) of 160 samples from packet `from`.
fn run(x: &[i16], from: usize) -> Vec<i16> {
    x[from * 160..(from + 100) * 160].to_vec()
}

#[test]
fn g729_leg_to_g722_leg_across_the_tdm_loop_carries_a_tone_each_way_without_gaps() {
    let (call, a, b) = start_call("transcode-g729", false);
    // 10 s of audio each way: more than the wait below needs, less than the call lasts.
    a.start_sending(PT_G729, g729_stream(500), None);
    b.start_sending(PT_G722, g722_stream(500), None);
    let s = call
        .d
        .wait_for("both bridges up with their SIP legs in G729 and G722", T, |s| sip_codecs(s) == ["G722", "G729"]);
    // 50 packets (1 s) of start-up, then 100 in a row (2 s) at each side.
    wait_packets(&a, PT_G729, 200, "A", &call);
    wait_packets(&b, PT_G722, 200, "B", &call);
    let log = format!("{}\n{}", s["switch"], call.d.log());
    let (at_a, from_a) = contiguous(&a.packets(), PT_G729, 100, "A (G.729)");
    let (at_b, from_b) = contiguous(&b.packets(), PT_G722, 100, "B (G.722)");
    assert!(at_a.iter().all(|p| p.payload.len() == 20), "20 ms of G.729A is 20 octets");
    assert!(at_b.iter().all(|p| p.payload.len() == 160), "20 ms of G.722 is 160 octets");
    let (heard_a, heard_b) = decode(&at_a, PT_G729, &at_b);
    assert_tone_without_gaps(&run(&heard_a, from_a), B_HZ, "A hears B through G.722 -> A-law -> G.729A", &log);
    assert_tone_without_gaps(&run(&heard_b, from_b), A_HZ, "B hears A through G.729A -> A-law -> G.722", &log);
}

/// A re-INVITE that changes a leg's codec (G.729 -> PCMA) re-attaches the media codec: the
/// gateway answers PCMA, its packets to A turn PCMA carrying B's tone without gaps, B still
/// hears A (now sent in PCMA) in G.722, and the status shows the leg's new codec.
#[test]
fn a_reinvite_to_pcma_switches_the_legs_media_codec() {
    let (call, a, b) = start_call("transcode-reinvite", true);
    let pcma: Vec<Vec<u8>> =
        (0..500).map(|k| (0..160).map(|i| g711::Law::Alaw.encode(sine(A_HZ, 8000.0, k * 160 + i))).collect()).collect();
    a.start_sending(PT_G729, g729_stream(500), Some((PT_PCMA, pcma)));
    b.start_sending(PT_G722, g722_stream(500), None);
    call.d.wait_for("SIP legs in G729 and G722", T, |s| sip_codecs(s) == ["G722", "G729"]);
    let s = call.d.wait_for("A's leg switched to PCMA by the re-INVITE", T, |s| sip_codecs(s) == ["G722", "PCMA"]);
    // B's packets from now on carry A's tone as sent in PCMA (after its switch).
    let b_before = b.packets().iter().filter(|p| p.pt == PT_G722).count();
    wait_packets(&a, PT_PCMA, 200, "A", &call);
    wait_packets(&b, PT_G722, b_before + 200, "B", &call);
    let log = format!("{}\n{}", s["switch"], call.d.log());
    let (at_a, from_a) = contiguous(&a.packets(), PT_PCMA, 100, "A (PCMA after the re-INVITE)");
    let (at_b, from_b) = contiguous_after(&b.packets(), PT_G722, 100, b_before + 50, "B (G.722)");
    assert!(at_a.iter().all(|p| p.payload.len() == 160), "20 ms of PCMA is 160 octets");
    let (heard_a, heard_b) = decode(&at_a, PT_PCMA, &at_b);
    assert_tone_without_gaps(&run(&heard_a, from_a), B_HZ, "A hears B through G.722 -> A-law -> PCMA", &log);
    assert_tone_without_gaps(&run(&heard_b, from_b), A_HZ, "B hears A through PCMA -> A-law -> G.722", &log);
    // Every packet carries its own type's payload, also right at the switch (a frame encoded in
    // G.729A just before the new codec reached the media thread must not go out as PCMA), and
    // the stream runs on: consecutive sequence numbers, timestamps in whole 20 ms steps.
    let all = a.packets();
    let bad: Vec<(u8, usize)> = all
        .iter()
        .filter(|p| !matches!((p.pt, p.payload.len()), (PT_G729, 20) | (PT_PCMA, 160)))
        .map(|p| (p.pt, p.payload.len()))
        .collect();
    assert!(bad.is_empty(), "packets at A with a payload not of their type (type, octets): {bad:?}");
    let k = all.iter().position(|p| p.pt == PT_PCMA).expect("PCMA packets");
    let (last, first) = (&all[k - 1], &all[k]);
    assert_eq!(first.seq, last.seq.wrapping_add(1), "sequence across the switch");
    assert_eq!(first.ts.wrapping_sub(last.ts) % 160, 0, "timestamps across the switch: {} then {}", last.ts, first.ts);
    // Our answer to the re-INVITE continues the session of our first answer (RFC 3264 §8): the
    // same `o=` session id, the version one up. sipp logs both `o=` lines it received.
    let origins = |log: &str, tag: &str| -> Option<(String, u64)> {
        let line = log.lines().find_map(|l| l.split(&format!("{tag} o=")).nth(1))?;
        let f: Vec<&str> = line.split_whitespace().collect();
        Some((f.get(1)?.to_string(), f.get(2)?.parse().ok()?))
    };
    let deadline = Instant::now() + T + Duration::from_millis(CALL_MS);
    let (first, again) = loop {
        let log = std::fs::read_to_string(call.scratch.path("a_log.txt")).unwrap_or_default();
        if let (Some(x), Some(y)) = (origins(&log, "ANSWER"), origins(&log, "REANSWER")) {
            break (x, y);
        }
        assert!(Instant::now() < deadline, "sipp A logged no answer origins: {log}\n{}", call.context());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (&again.0, again.1),
        (&first.0, first.1 + 1),
        "o= of our answers: first {first:?}, to the re-INVITE {again:?}"
    );
}
