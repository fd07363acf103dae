//! DTMF across the TDM/SIP boundary: a call from SIP side A goes out of span 1 (TE), across the
//! simulated cable into span 2 (NT) and back out to SIP side B. All 16 digits sent by A as RFC 4733
//! events are played in band on span 1, found by span 2's receiver and arrive at B as RFC 4733
//! events, in order, none doubled or lost; then the same from B to A. The audio each side gets
//! while the other sends digits carries no tone (the tones are muted out of the RTP stream).
//! With `dtmf = "info"` on A's trunk, A's digits go as SIP INFO `application/dtmf-relay` (each
//! answered 200) and still reach B as RFC 4733; B's events come back to A as 16 INFOs, in order.
//!
//! The peers: sipp does the SIP of both sides (a UAC for A, a UAS for B, from scenarios written
//! here, whose SDP names this test's own RTP sockets), and the test itself is both RTP endpoints.
//! That is because no packaged peer both sends and reports all 16 events: sipp plays RFC 4733 only
//! from pcap files (`dtmf_2833_<digit>.pcap`, one call per file, no A-D) and never reports the
//! events it receives, and baresip's ctrl interface sends digits but logs received events only in
//! its own words and not their timestamps, which is what tells a retransmission from a repeated
//! digit. Our sockets see every packet: marker, timestamp, end bit, duration.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spangate_tests::{free_port, linear, scenario, span, wait_udp_bound, Config, Daemon, Scratch, LOCALHOST};

use crate::sip::sipp;

const T: Duration = Duration::from_secs(20);
const DIGITS: &str = "0123456789*#ABCD";
/// The telephone-event payload type both SDPs use.
const TE: u8 = 101;
/// How long the caller stays in the call before its BYE: far more than the digits need.
const CALL_MS: u64 = 30_000;

/// Trunk `a` carries digits as `a_dtmf` says, trunk `b` as RFC 4733.
fn config(scratch: &Scratch, sip_port: u16, a_port: u16, b_port: u16, a_dtmf: &str) -> std::path::PathBuf {
    Config::board("sim-e1x2")
        .looped_pair(|s| s)
        .sip(&format!("udp:127.0.0.1:{sip_port}"), &["dtmf = \"rfc4733\""])
        .trunk("a", "127.0.0.1", a_port, &["pcma", "telephone-event"], &[&format!("dtmf = \"{a_dtmf}\"")])
        .trunk("b", "127.0.0.1", b_port, &["pcma", "telephone-event"], &[])
        .route("a-out", "trunk:a", "span:1", &[])
        .route("to-b", "span:2", "trunk:b", &[])
        .write(scratch, "dtmf.toml")
}

fn sdp(rtp_port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 8 {TE}\r\n\
         a=rtpmap:8 PCMA/8000\r\na=rtpmap:{TE} telephone-event/8000\r\na=fmtp:{TE} 0-16\r\n"
    )
}

/// A caller whose SDP names `rtp_port`; it hangs up after `CALL_MS`. With `info`, instead of
/// waiting it sends the 16 digits as INFO `application/dtmf-relay` (each must get 200), then takes
/// 16 INFOs from the gateway, answers each 200 and logs its `Signal`, and hangs up.
fn uac_scenario(rtp_port: u16, info: bool) -> String {
    let middle = if info {
        let mut m = String::new();
        for (k, d) in DIGITS.chars().enumerate() {
            let body = format!("Signal={d}\nDuration=100\n");
            m += &scenario::in_dialog("INFO", k + 2, Some("application/dtmf-relay"), &body);
            m += "  <recv response=\"200\" />\n  <pause milliseconds=\"200\" />\n";
        }
        for _ in DIGITS.chars() {
            m += r#"  <recv request="INFO">
    <action>
      <ereg regexp="Signal=([0-9A-D*#])" search_in="body" check_it="true" assign_to="all,sig" />
      <log message="INFO DIGIT [$sig]" />
    </action>
  </recv>
"#;
            m += scenario::ok_to_last();
        }
        m
    } else {
        format!("  <pause milliseconds=\"{CALL_MS}\" />\n")
    };
    scenario::caller("dtmf caller", &sdp(rtp_port), &middle, DIGITS.len() + 2)
}

/// An answerer whose SDP names `rtp_port`; it waits for the BYE.
fn uas_scenario(rtp_port: u16) -> String {
    scenario::answerer("dtmf answerer", &sdp(rtp_port), true, "")
}

/// One RTP packet as received.
#[derive(Debug, Clone)]
struct Pkt {
    pt: u8,
    marker: bool,
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
        marker: b[1] & 0x80 != 0,
        ts: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        payload: b.get(start..)?.to_vec(),
    })
}

/// One side's RTP: the socket its SDP names, what arrived, and where the gateway sends from.
struct Side {
    sock: UdpSocket,
    /// The RTCP port above `sock`, held so that no other test's endpoint can bind it.
    _rtcp: UdpSocket,
    got: Arc<Mutex<Vec<Pkt>>>,
    from: Arc<Mutex<Option<SocketAddr>>>,
    stop: Arc<AtomicBool>,
    seq: u16,
    ts: u32,
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
        Side { sock, _rtcp: rtcp, got, from, stop, seq: 1, ts: 1000 }
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

    fn send(&mut self, pt: u8, marker: bool, ts: u32, payload: &[u8]) {
        let mut b = vec![0x80, if marker { 0x80 } else { 0 } | pt];
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&ts.to_be_bytes());
        b.extend_from_slice(&0x5eed_0001u32.to_be_bytes());
        b.extend_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        let to = self.gateway().expect("the gateway's RTP address");
        self.sock.send_to(&b, to).expect("send RTP");
    }

    /// 20 ms of A-law silence, as a phone keeps sending between digits.
    fn silence(&mut self) {
        let ts = self.ts;
        self.send(8, false, ts, &[0xd5; 160]);
        self.ts = self.ts.wrapping_add(160);
        std::thread::sleep(Duration::from_millis(20));
    }

    /// One digit as RFC 4733 events (§2.5.1): a start with the marker, updates every 20 ms for
    /// 100 ms, three end packets, all with the timestamp of the start; then 100 ms of silence.
    fn digit(&mut self, d: char) {
        let code = u8::try_from(DIGITS.find(d).expect("a digit")).expect("small");
        let ts = self.ts;
        for k in 0..=5u16 {
            let [hi, lo] = (k * 160).to_be_bytes();
            self.send(TE, k == 0, ts, &[code, 10, hi, lo]);
            std::thread::sleep(Duration::from_millis(20));
        }
        for _ in 0..3 {
            self.send(TE, false, ts, &[code, 0x80 | 10, 0x03, 0x20]);
        }
        self.ts = self.ts.wrapping_add(800);
        for _ in 0..5 {
            self.silence();
        }
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The digits in `packets`' telephone-events: one per event timestamp, in order of arrival;
/// panics on an event without an end packet or with more than one marker.
fn events(packets: &[Pkt]) -> String {
    let mut order: Vec<u32> = Vec::new();
    for p in packets.iter().filter(|p| p.pt == TE) {
        if !order.contains(&p.ts) {
            order.push(p.ts);
        }
    }
    let mut out = String::new();
    for ts in order {
        let ev: Vec<&Pkt> = packets.iter().filter(|p| p.pt == TE && p.ts == ts).collect();
        let code = ev[0].payload.first().copied().unwrap_or(255);
        assert!(ev.iter().all(|p| p.payload.first() == Some(&code)), "one event per timestamp: {ev:?}");
        let ends = ev.iter().filter(|p| p.payload.get(1).is_some_and(|b| b & 0x80 != 0)).count();
        assert!(ends >= 1, "event {code} at {ts} has no end packet: {ev:?}");
        assert!(ev.iter().filter(|p| p.marker).count() <= 1, "one marker per event: {ev:?}");
        out.push(DIGITS.chars().nth(usize::from(code)).unwrap_or('?'));
    }
    out
}

/// How many telephone-events in `packets` have ended, to wait on while more may be under way.
fn ended(packets: &[Pkt]) -> usize {
    let mut ts: Vec<u32> = packets
        .iter()
        .filter(|p| p.pt == TE && p.payload.get(1).is_some_and(|b| b & 0x80 != 0))
        .map(|p| p.ts)
        .collect();
    ts.sort_unstable();
    ts.dedup();
    ts.len()
}

/// The loudest 20 ms of the A-law audio received, in rms sample units.
fn loudest_frame(packets: &[Pkt]) -> f64 {
    packets
        .iter()
        .filter(|p| p.pt == 8)
        .map(|p| {
            let e: f64 = p.payload.iter().map(|&c| f64::from(linear(c)).powi(2)).sum();
            (e / f64::from(u32::try_from(p.payload.len().max(1)).unwrap_or(u32::MAX))).sqrt()
        })
        .fold(0.0, f64::max)
}

fn wait_until(what: &str, limit: Duration, call: &Call, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        if Instant::now() > deadline {
            panic!("{what}: not within {limit:?}\n{}", call.context());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends all 16 digits from `from` as RFC 4733 and waits until `to` got 16 events.
fn cross(from: &mut Side, to: &Side, call: &Call, what: &str) -> String {
    let before = to.packets().len();
    for c in DIGITS.chars() {
        from.digit(c);
    }
    let got = || events(&to.packets()[before..]);
    // The last digit's end packets come up to 150 ms after its end; waiting for all 16 events and
    // then a little longer shows any doubled one too.
    wait_until(&format!("{what}: 16 events"), T, call, || ended(&to.packets()[before..]) >= DIGITS.len());
    std::thread::sleep(Duration::from_millis(500));
    got()
}

/// The gateway and sipp on both sides, in a call across the loop.
struct Call {
    scratch: Scratch,
    d: Daemon,
    sipp_a: Child,
    sipp_b: Child,
}

impl Call {
    /// What the peers and the gateway said, for a failure message.
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

    /// Waits for sipp A to end (its BYE answered) and says whether it succeeded.
    fn caller_done(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.sipp_a.try_wait() {
                return st.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        for c in [&mut self.sipp_a, &mut self.sipp_b] {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_sipp(scratch: &Scratch, args: &[&str], out: &str) -> Child {
    let file = std::fs::File::create(scratch.path(out)).expect("sipp output file");
    sipp().args(args).stdin(Stdio::null()).stdout(file).stderr(Stdio::null()).spawn().expect("run sipp")
}

/// Starts the gateway (trunk `a` with `a_dtmf`), sipp B answering and sipp A calling, and waits
/// until both bridges are up and the gateway's RTP reaches both sides (the test's sockets).
fn call(name: &str, a_dtmf: &str) -> (Call, Side, Side) {
    let scratch = Scratch::new(name);
    let (sip_port, a_port, b_port) = (free_port(), free_port(), free_port());
    let (a, b) = (Side::new(), Side::new());
    let cfg = config(&scratch, sip_port, a_port, b_port, a_dtmf);
    let sip = format!("127.0.0.1:{sip_port}");
    let d = Daemon::start(&["run", "--config", cfg.to_str().expect("path"), "--sip", &sip]);
    d.wait_for("layer 2 up on both spans", T, |s| {
        span(s, 1)["isdn"]["layer2_up"] == true && span(s, 2)["isdn"]["layer2_up"] == true
    });
    let (uac, uas) = (scratch.path("uac.xml"), scratch.path("uas.xml"));
    std::fs::write(&uac, uac_scenario(a.port(), a_dtmf == "info")).expect("write scenario");
    std::fs::write(&uas, uas_scenario(b.port())).expect("write scenario");
    let (a_err, b_err, a_log) = (scratch.path("a_err.log"), scratch.path("b_err.log"), scratch.path("a_log.txt"));
    let (bp, ap) = (b_port.to_string(), a_port.to_string());
    let mut sipp_b = spawn_sipp(
        &scratch,
        &[
            "-sf",
            uas.to_str().expect("path"),
            "-m",
            "1",
            "-timeout",
            "60s",
            "-nostdin",
            "-i",
            "127.0.0.1",
            "-p",
            &bp,
            "-trace_err",
            "-error_file",
            b_err.to_str().expect("path"),
        ],
        "b_out.txt",
    );
    // B answers from its first INVITE: one sent before it is up would wait out a retransmission.
    wait_udp_bound(LOCALHOST, b_port, &mut sipp_b, "sipp B");
    let sipp_a = spawn_sipp(
        &scratch,
        &[
            "-sf",
            uac.to_str().expect("path"),
            "-s",
            "5000",
            "-m",
            "1",
            "-timeout",
            "60s",
            "-nostdin",
            "-i",
            "127.0.0.1",
            "-p",
            &ap,
            "-trace_err",
            "-error_file",
            a_err.to_str().expect("path"),
            "-trace_logs",
            "-log_file",
            a_log.to_str().expect("path"),
            &sip,
        ],
        "a_out.txt",
    );
    let call = Call { scratch, d, sipp_a, sipp_b };
    wait_until("the gateway's RTP at A and at B", T, &call, || a.gateway().is_some() && b.gateway().is_some());
    call.d.wait_for("both bridges up", T, |s| {
        s["switch"]["calls"].as_array().is_some_and(|c| c.len() == 2 && c.iter().all(|c| c["state"] == "active"))
    });
    (call, a, b)
}

#[test]
fn all_16_digits_cross_the_tdm_loop_in_band_both_ways() {
    let (call, mut a, mut b) = call("dtmf", "rfc4733");
    let a_to_b = cross(&mut a, &b, &call, "A to B");
    assert_eq!(a_to_b, DIGITS, "events B received from A's digits\n{}", call.context());
    let b_to_a = cross(&mut b, &a, &call, "B to A");
    assert_eq!(b_to_a, DIGITS, "events A received from B's digits\n{}", call.context());
    // The tones went in band across the cable and were muted out of the audio on the way back to
    // SIP: every 20 ms frame each side got is near silence (a tone would be ~7000 rms).
    for (side, name) in [(&a, "A"), (&b, "B")] {
        let loud = loudest_frame(&side.packets());
        assert!(loud < 200.0, "side {name} got audio of {loud:.0} rms: a tone leaked past the mute");
    }
    assert!(b.packets().iter().filter(|p| p.pt == 8).count() > 100, "B got the audio stream too");
}

/// Side A's trunk says `dtmf = "info"`: its 16 INFO digits (each answered 200) are played in band
/// on span 1 and arrive at B as RFC 4733 events; B's 16 events come back to A as 16 INFOs.
#[test]
fn info_digits_cross_to_rfc4733_and_come_back_as_info() {
    let (mut call, a, mut b) = call("dtmf-info", "info");
    // sipp A sends its INFOs as soon as the call is up.
    let got = || events(&b.packets());
    wait_until("A's 16 INFO digits at B as events", T, &call, || ended(&b.packets()) >= DIGITS.len());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(got(), DIGITS, "events B received from A's INFO digits\n{}", call.context());
    for c in DIGITS.chars() {
        b.digit(c);
    }
    assert!(call.caller_done(T), "sipp A did not get its 16 INFOs and end the call\n{}", call.context());
    let log = std::fs::read_to_string(call.scratch.path("a_log.txt")).unwrap_or_default();
    let infos: String =
        log.lines().filter_map(|l| l.split("INFO DIGIT ").nth(1)).flat_map(|d| d.trim().chars().next()).collect();
    assert_eq!(infos, DIGITS, "INFO digits A received\n{}", call.context());
    assert!(loudest_frame(&a.packets()) < 200.0 && loudest_frame(&b.packets()) < 200.0, "a tone leaked into the audio");
    assert!(!a.packets().iter().any(|p| p.pt == TE), "no telephone-event towards an INFO trunk");
}
