//! Scenario tests of the simulated backend on virtual time: cables, D-channels, alarms, clocking,
//! slips, the fault injector, the cross-process cable and the libpri-style D-channel socket.
//!
//! Every test drives a [`World`] with `tick`/`run_ticks` and never sleeps, except where a real
//! socket has to be given a moment (the cross-process cable's connecting end).

use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Socket, Type};

use super::frame::{crc4, live_len, LineFrame, WIRE_MAX};
use super::{FarEndRole, FaultConfig, LineSpec, SimCommand, SimDChannel, SimSpanSpec, World, WorldOptions};
use crate::{
    Board, Chunk, Clock, DChannel, ErrorKind, Law, SpanConfig, SpanKind, SpanStatus, SyncSource, CHUNK, MAX_HDLC_FRAME,
};

use SpanKind::{Bri, Fxo, Fxs, E1, T1};

/// The alarm debounce most tests use, short so that they run fast.
const DEB: u32 = 10;

// ---------------------------------------------------------------------------------------------
// Helpers

fn spec(number: u32, kind: SpanKind, line: LineSpec) -> SimSpanSpec {
    SimSpanSpec {
        number,
        name: format!("span {number}"),
        config: SpanConfig::defaults(kind),
        line,
        fault: FaultConfig::default(),
    }
}

fn timed(mut s: SimSpanSpec, timing: u8) -> SimSpanSpec {
    s.config.timing = timing;
    s
}

fn faulty(mut s: SimSpanSpec, fault: FaultConfig) -> SimSpanSpec {
    s.fault = fault;
    s
}

fn far(role: FarEndRole, drift_ppm: f64) -> LineSpec {
    LineSpec::FarEnd { role, drift_ppm }
}

fn provider(drift_ppm: f64) -> LineSpec {
    far(FarEndRole::Provider, drift_ppm)
}

/// Two spans of `kind` cabled to each other in process.
fn pair(kind: SpanKind) -> [SimSpanSpec; 2] {
    [spec(1, kind, LineSpec::Span(2)), spec(2, kind, LineSpec::Span(1))]
}

fn world(debounce_ms: u32, specs: &[SimSpanSpec]) -> World {
    let opts = WorldOptions { alarm_debounce_ms: debounce_ms, ..WorldOptions::default() };
    match World::new(&opts, specs) {
        Ok(w) => w,
        Err(e) => panic!("build world: {e}"),
    }
}

fn idx(w: &World, number: u32) -> usize {
    w.span_index(number).unwrap_or_else(|| panic!("span {number} is on the board"))
}

fn status(w: &World, number: u32) -> SpanStatus {
    w.span_at(idx(w, number)).status()
}

/// The span's alarms as the status page shows them: "OK", "RED", "YELLOW", "BLUE", ...
fn alarms(w: &World, number: u32) -> String {
    status(w, number).alarms.to_string()
}

fn dchannel(w: &mut World, index: usize) -> SimDChannel {
    w.take_dchannel(index).unwrap_or_else(|| panic!("node {index} has a D-channel to take"))
}

/// xorshift64*: a varied, reproducible signal that no code path produces by accident.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn chunk(&mut self) -> Chunk {
        self.next().to_le_bytes()
    }
}

/// The one delay, in ticks, at which the first `ms` chunks of `sent` come back in `got`. Fails
/// unless exactly one delay up to `max` fits, which proves both that the data is bit-exact and
/// that the delay stayed constant for the whole run.
fn delay(sent: &[Chunk], got: &[Chunk], ms: usize, max: usize) -> usize {
    assert!(sent.len() >= ms && got.len() >= ms + max, "record {ms} + {max} ticks");
    let fits: Vec<usize> = (0..=max).filter(|&d| sent[..ms] == got[d..d + ms]).collect();
    assert!(
        fits.len() == 1,
        "{} delays up to {max} fit ({fits:?}); sent {:02x?}.. got {:02x?}..",
        fits.len(),
        &sent[..3],
        &got[..max + 3]
    );
    fits[0]
}

/// Sends `ms` ticks of noise on channel `ch` from node `a` to node `b` and back at once; returns
/// the delay of each direction.
fn audio_both_ways(w: &mut World, a: usize, b: usize, ch: u8, ms: usize) -> (usize, usize) {
    const MAX_DELAY: usize = 8;
    let (mut rng_a, mut rng_b) = (Prng(0x0123_4567_89AB_CDEF), Prng(0xFEDC_BA98_7654_3211));
    let (mut sent_ab, mut got_ab, mut sent_ba, mut got_ba) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ms + MAX_DELAY {
        let (ca, cb) = (rng_a.chunk(), rng_b.chunk());
        w.write_chunk(a, ch, &ca);
        w.write_chunk(b, ch, &cb);
        w.tick();
        sent_ab.push(ca);
        sent_ba.push(cb);
        got_ab.push(w.read_chunk(b, ch));
        got_ba.push(w.read_chunk(a, ch));
    }
    (delay(&sent_ab, &got_ab, ms, MAX_DELAY), delay(&sent_ba, &got_ba, ms, MAX_DELAY))
}

/// A Q.921 I-frame of `len` octets (SAPI 0, TEI 0, N(S) = `ns`) holding a Q.931-looking message.
fn q921(ns: u8, len: usize) -> Vec<u8> {
    assert!((3..=MAX_HDLC_FRAME).contains(&len));
    let mut f = vec![0x00, 0x01, ns << 1, 0x00, 0x08, 0x02, 0x00, ns, 0x05];
    // The filler includes flag and abort look-alikes so bit stuffing is exercised.
    f.extend((0..len.saturating_sub(f.len())).map(|i| [0x7E, 0xFF, 0x3F, ns, 0xA1][i % 5]));
    f.truncate(len);
    f
}

/// Queues `frames` on `tx` (as fast as the socket takes them) and ticks until as many frames have
/// arrived on `rx` or `max_ticks` have passed. Returns each arrival with the tick it came in,
/// counted from the call.
fn exchange(
    w: &mut World,
    tx: &mut SimDChannel,
    rx: &mut SimDChannel,
    frames: &[Vec<u8>],
    max_ticks: u64,
) -> Vec<(u64, Vec<u8>)> {
    let mut queue: VecDeque<&Vec<u8>> = frames.iter().collect();
    let mut got = Vec::new();
    let mut buf = [0u8; MAX_HDLC_FRAME + 8];
    let start = w.ticks();
    while got.len() < frames.len() && w.ticks() - start < max_ticks {
        while let Some(f) = queue.front() {
            match tx.send_frame(f) {
                Ok(()) => {
                    queue.pop_front();
                }
                Err(e) if e.kind == ErrorKind::WouldBlock => break,
                Err(e) => panic!("send frame: {e}"),
            }
        }
        w.tick();
        while let Some(n) = rx.recv_frame(&mut buf).expect("receive frame") {
            got.push((w.ticks() - start, buf[..n].to_vec()));
        }
    }
    got
}

/// A directory for socket files, unique to the process and test, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("spangate-hal-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Bearer channels over an in-process cable

#[test]
fn cabled_spans_carry_audio_bit_exact_and_idle_elsewhere() {
    // kind, channel to carry the noise on, idle code of the law
    let cases = [(E1, 5, 0xD5), (T1, 5, 0xFF), (Bri, 1, 0xD5)];
    for (kind, ch, idle) in cases {
        let mut w = world(DEB, &pair(kind));
        w.run_ticks(3 * u64::from(DEB));
        assert_eq!((alarms(&w, 1), alarms(&w, 2)), ("OK".into(), "OK".into()), "{kind}");
        let (a, b) = (idx(&w, 1), idx(&w, 2));
        let (ab, ba) = audio_both_ways(&mut w, a, b, ch, 200);
        assert!(ab <= 2 && ba <= 2, "{kind}: delays {ab} and {ba} ticks");
        assert_eq!(ab, ba, "{kind}: a cable is symmetric");

        let cfg = w.span_at(a).config().clone();
        assert_eq!(cfg.law.idle_code(), idle);
        for other in cfg.bchans.iter().copied().filter(|&c| c != ch) {
            for node in [a, b] {
                assert_eq!(w.read_chunk(node, other), [idle; CHUNK], "{kind} node {node} ch {other}");
            }
        }
        // With no frame ever sent, the D-channel carries flags.
        let d = cfg.dchan.expect("digital spans have a D-channel");
        let n = kind.dchan_octets_per_ms();
        assert_eq!(w.read_chunk(b, d)[..n], [0x7E; CHUNK][..n], "{kind} D-channel idles on flags");
        for s in [1, 2] {
            let c = status(&w, s).counters;
            assert_eq!((c.slips, c.crc_errors, c.fcs_errors), (0, 0, 0), "{kind} span {s}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. D-channel over an in-process cable

#[test]
fn dchannel_frames_cross_at_the_line_rate_in_order() {
    // kind, length of a single frame, the ticks it may take to arrive
    let cases = [(E1, 40, 5..=8), (T1, 40, 5..=8), (Bri, 20, 11..=15)];
    for (kind, len, took) in cases {
        let mut w = world(DEB, &pair(kind));
        let (a, b) = (idx(&w, 1), idx(&w, 2));
        let (mut da, mut db) = (dchannel(&mut w, a), dchannel(&mut w, b));
        assert_eq!((da.span(), db.span()), (1, 2));
        w.run_ticks(3 * u64::from(DEB));

        let one = q921(0, len);
        let got = exchange(&mut w, &mut da, &mut db, std::slice::from_ref(&one), 50);
        assert_eq!(got.len(), 1, "{kind}: the frame arrives");
        assert_eq!(got[0].1, one, "{kind}: intact");
        assert!(took.contains(&got[0].0), "{kind}: {len} octets took {} ticks", got[0].0);

        // A burst, both directions in turn, lengths from the shortest to the longest frame.
        let burst: Vec<Vec<u8>> =
            (0..50u8).map(|i| q921(i, [3, 4, 40, 130, MAX_HDLC_FRAME][usize::from(i) % 5])).collect();
        let line_octets: usize = burst.iter().map(|f| f.len() + 3).sum();
        let rate = kind.dchan_octets_per_ms();
        for (from, to) in [(1, 2), (2, 1)] {
            let (tx, rx) = if from == 1 { (&mut da, &mut db) } else { (&mut db, &mut da) };
            let got = exchange(&mut w, tx, rx, &burst, 20_000);
            let frames: Vec<&Vec<u8>> = got.iter().map(|(_, f)| f).collect();
            assert!(
                frames.iter().copied().eq(burst.iter()),
                "{kind} {from}->{to}: {} of 50 frames arrived, in order and intact?",
                frames.len()
            );
            let ticks = got.last().map_or(0, |g| g.0);
            // No faster than the line rate, and no slower than it plus stuffing (at most one bit in
            // six) and the rest of the tick in which each frame ends.
            let (lo, hi) = (line_octets / rate, line_octets * 6 / 5 / rate + 50 + 5);
            assert!(
                (lo..=hi).contains(&usize::try_from(ticks).expect("ticks fit")),
                "{kind} {from}->{to}: 50 frames took {ticks} ticks, expected {lo}..={hi}"
            );
        }
        let (s1, s2) = (status(&w, 1).counters, status(&w, 2).counters);
        assert_eq!((s1.hdlc_tx_frames, s2.hdlc_rx_frames), (51, 51), "{kind} 1->2");
        assert_eq!((s2.hdlc_tx_frames, s1.hdlc_rx_frames), (50, 50), "{kind} 2->1");
        for c in [s1, s2] {
            assert_eq!((c.fcs_errors, c.hdlc_aborts, c.hdlc_overruns), (0, 0, 0), "{kind}");
        }
    }
}

#[test]
fn dchannel_rejects_frames_that_cannot_be_sent() {
    let mut w = world(DEB, &pair(E1));
    let mut d = dchannel(&mut w, 0);
    for bad in [vec![], vec![0; MAX_HDLC_FRAME + 1]] {
        let e = d.send_frame(&bad).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::BadFrame, "{}-octet frame", bad.len());
    }
    assert!(w.take_dchannel(0).is_none(), "a D-channel is taken only once");
    let mut analog = world(DEB, &[spec(1, Fxs, far(FarEndRole::Phone, 0.0))]);
    assert!(analog.take_dchannel(0).is_none(), "an analog span has no D-channel");
}

// ---------------------------------------------------------------------------------------------
// 3. Alarms

/// One step of an alarm script: a command (or none), the ticks to run after it, the alarms of
/// spans 1 and 2 then ("*": any), and what the step shows.
type AlarmStep = (Option<SimCommand>, u32, [&'static str; 2], &'static str);

fn alarm_script(d: u32) -> Vec<AlarmStep> {
    use SimCommand::{Cut, Reconnect, SendAis};
    vec![
        (None, 3 * d, ["OK", "OK"], "both ends come up"),
        // Cutting the direction toward span 2: span 2 loses signal, raises RED after the
        // debounce, sends RAI, and span 1 shows YELLOW one debounce later.
        (Some(Cut { span: 2, rx: true, tx: false }), d - 1, ["OK", "OK"], "LOS not yet debounced"),
        (None, 1, ["OK", "RED"], "RED after exactly the debounce"),
        (None, d - 1, ["OK", "RED"], "RAI not yet debounced"),
        (None, 1, ["YELLOW", "RED"], "the far end of a RED span is YELLOW"),
        (Some(Reconnect { span: 2 }), d - 1, ["YELLOW", "RED"], "recovery is debounced too"),
        (None, 1, ["YELLOW", "OK"], "RED clears after the debounce"),
        (None, d - 1, ["YELLOW", "OK"], "YELLOW clears a debounce later"),
        (None, 1, ["OK", "OK"], "all clear"),
        // The whole cable pulled: both ends RED, and RED hides YELLOW.
        (Some(Cut { span: 1, rx: true, tx: true }), 3 * d, ["RED", "RED"], "cable pulled"),
        (Some(Reconnect { span: 1 }), 3 * d, ["OK", "OK"], "cable back"),
        // Only span 1's transmit direction cut: the same as span 2's receive direction.
        (Some(Cut { span: 1, rx: false, tx: true }), 3 * d, ["YELLOW", "RED"], "tx cut"),
        (Some(Reconnect { span: 1 }), 3 * d, ["OK", "OK"], "tx back"),
        // AIS from span 1: span 2 is BLUE (not RED: there is a signal, all ones).
        (Some(SendAis { span: 1, on: true }), d - 1, ["OK", "OK"], "AIS not yet debounced"),
        (None, 1, ["*", "BLUE"], "AIS is BLUE"),
        (None, 3 * d, ["*", "BLUE"], "and stays BLUE"),
        (Some(SendAis { span: 1, on: false }), 3 * d, ["OK", "OK"], "AIS off"),
    ]
}

fn run_alarm_script(opts: &WorldOptions) {
    let d = opts.alarm_debounce_ms;
    let mut w = World::new(opts, &pair(E1)).expect("build world");
    for (step, (cmd, ticks, expect, what)) in alarm_script(d).into_iter().enumerate() {
        if let Some(cmd) = cmd {
            w.apply(cmd).expect("command on a board span");
        }
        w.run_ticks(u64::from(ticks));
        let got = [alarms(&w, 1), alarms(&w, 2)];
        for (want, got) in expect.iter().zip(&got) {
            assert!(*want == "*" || want == got, "debounce {d} step {step} ({what}): want {expect:?}, got {got:?}");
        }
    }
    // A line that comes back only briefly does not clear the alarm (the debounce restarts).
    w.apply(SimCommand::Cut { span: 2, rx: true, tx: false }).expect("cut");
    w.run_ticks(u64::from(d) * 2);
    for _ in 0..5 {
        w.apply(SimCommand::Reconnect { span: 2 }).expect("reconnect");
        w.run_ticks(u64::from(d) - 1);
        w.apply(SimCommand::Cut { span: 2, rx: true, tx: false }).expect("cut");
        w.run_ticks(1);
        assert_eq!(alarms(&w, 2), "RED", "debounce {d}: a flapping line stays RED");
    }
}

#[test]
fn alarms_follow_cuts_and_ais_after_the_debounce() {
    run_alarm_script(&WorldOptions { alarm_debounce_ms: DEB, ..WorldOptions::default() });
}

#[test]
fn alarms_with_the_default_debounce() {
    let opts = WorldOptions::default();
    assert_eq!(opts.alarm_debounce_ms, 100);
    run_alarm_script(&opts);
}

#[test]
fn lines_come_up_or_stay_red() {
    // kind, line, alarms after a while, whether a signal arrives
    let cases = [
        (E1, LineSpec::Open, "RED", false),
        (E1, provider(0.0), "OK", true),
        (T1, far(FarEndRole::Pbx, 0.0), "OK", true),
        (Bri, far(FarEndRole::Provider, 10.0), "OK", true),
        (Fxs, far(FarEndRole::Phone, 0.0), "OK", true),
        (Fxs, LineSpec::Open, "RED", false),
        (Fxo, far(FarEndRole::Exchange, 0.0), "OK", true),
    ];
    for (kind, line, want, signal) in cases {
        let mut w = world(DEB, &[spec(1, kind, line.clone())]);
        w.run_ticks(u64::from(DEB) - 1);
        assert_eq!(alarms(&w, 1), "RED", "{kind} on {line:?}: out of alignment until the debounce");
        w.run_ticks(3 * u64::from(DEB));
        assert_eq!(alarms(&w, 1), want, "{kind} on {line:?}");
        assert_eq!(w.sim_status(0).signal, signal, "{kind} on {line:?}");
        assert!(status(&w, 1).running);
        if let Some(f) = w.far_end_index(1) {
            assert_eq!(w.span_at(f).status().alarms.to_string(), "OK", "{kind} far end");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Clocking

fn assert_master(w: &World, want: SyncSource, what: &str) {
    assert_eq!(w.sync_source(), want, "{what}");
    for n in 1..=u32::try_from(w.span_count()).expect("few spans") {
        let master = status(w, n).clock_master;
        assert_eq!(master, want == SyncSource::Span(n), "{what}: span {n} clock_master");
    }
}

#[test]
fn clock_master_is_the_healthy_span_with_the_best_priority() {
    use SimCommand::{Cut, Reconnect};
    let d = DEB;
    let specs = [
        timed(spec(1, E1, provider(0.0)), 1),
        timed(spec(2, E1, provider(0.0)), 2),
        timed(spec(3, E1, provider(0.0)), 0),
    ];
    let mut w = world(d, &specs);
    assert_master(&w, SyncSource::Internal, "before the first tick");
    let pulled = |span| Cut { span, rx: true, tx: true };
    let steps: [(Option<SimCommand>, u32, SyncSource, &str); 7] = [
        (None, 3 * d, SyncSource::Span(1), "priority 1 wins"),
        (Some(pulled(1)), d, SyncSource::Span(2), "span 1 lost: priority 2"),
        (Some(pulled(2)), d, SyncSource::Internal, "both lost: span 3 (timing 0) never times"),
        (Some(Reconnect { span: 1 }), d - 1, SyncSource::Internal, "not while span 1 is RED"),
        (None, 2, SyncSource::Span(1), "span 1 back once its alarm clears"),
        (Some(Reconnect { span: 2 }), 3 * d, SyncSource::Span(1), "priority, not recency"),
        (Some(pulled(1)), 3 * d, SyncSource::Span(2), "and span 2 again"),
    ];
    for (cmd, ticks, want, what) in steps {
        if let Some(cmd) = cmd {
            w.apply(cmd).expect("command");
        }
        w.run_ticks(u64::from(ticks));
        assert_master(&w, want, what);
    }
}

#[test]
#[allow(clippy::type_complexity)]
fn clock_priority_table() {
    // timings of spans 1..=3, spans cut, or sent AIS to, expected source
    let cases: [(&[u8; 3], &[u32], &[u32], SyncSource); 8] = [
        (&[1, 2, 0], &[], &[], SyncSource::Span(1)),
        (&[2, 1, 0], &[], &[], SyncSource::Span(2)),
        (&[0, 0, 1], &[], &[], SyncSource::Span(3)),
        (&[0, 0, 0], &[], &[], SyncSource::Internal),
        (&[3, 3, 3], &[], &[], SyncSource::Span(1)),
        (&[1, 2, 3], &[1, 2], &[], SyncSource::Span(3)),
        (&[1, 2, 0], &[1, 2], &[], SyncSource::Internal),
        // Span 1 is cabled to span 2 below; AIS toward span 1 makes it BLUE, unfit to time.
        (&[1, 2, 0], &[], &[2], SyncSource::Span(2)),
    ];
    for (timings, cut, ais, want) in cases {
        let specs = [
            timed(spec(1, E1, LineSpec::Span(2)), timings[0]),
            timed(spec(2, E1, LineSpec::Span(1)), timings[1]),
            timed(spec(3, E1, provider(0.0)), timings[2]),
        ];
        let mut w = world(DEB, &specs);
        w.run_ticks(3 * u64::from(DEB));
        for &span in cut {
            // Only the receive direction: the span loses its clock, its far end keeps it.
            w.apply(SimCommand::Cut { span, rx: true, tx: false }).expect("cut");
        }
        for &span in ais {
            w.apply(SimCommand::SendAis { span, on: true }).expect("ais");
        }
        w.run_ticks(3 * u64::from(DEB));
        assert_master(&w, want, &format!("timings {timings:?}, cut {cut:?}, AIS from {ais:?}"));
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Slips from clock drift

#[test]
fn drifting_far_end_slips_unless_it_is_the_clock() {
    const TWENTY_S: u64 = 20_000;
    let specs = [
        timed(spec(1, E1, provider(0.0)), 1),
        timed(spec(2, E1, provider(50.0)), 2),
        spec(3, E1, far(FarEndRole::Pbx, 0.0)),
    ];
    let mut w = world(DEB, &specs);
    let slips = |w: &World| [1, 2, 3].map(|n| status(w, n).counters.slips);

    // 50 ppm for 20 s is 1 ms of phase: eight 125 us frames.
    w.run_ticks(TWENTY_S);
    assert_eq!(w.sync_source(), SyncSource::Span(1));
    let s = slips(&w);
    assert!((7..=9).contains(&s[1]), "span 2 at +50 ppm slipped {} times", s[1]);
    assert_eq!((s[0], s[2]), (0, 0), "the master and a loop-timed PBX do not slip");
    assert!(["OK", "OK", "OK"] == [1, 2, 3].map(|n| alarms(&w, n)), "slips are not alarms");

    // Half the drift the other way: four slips.
    w.apply(SimCommand::SetFarDrift { span: 2, ppm: -25.0 }).expect("set drift");
    w.run_ticks(TWENTY_S);
    let t = slips(&w);
    assert!((3..=5).contains(&(t[1] - s[1])), "span 2 at -25 ppm: {} more slips", t[1] - s[1]);
    assert_eq!((t[0], t[2]), (0, 0));

    // With span 1 gone, the board takes its clock from span 2, which stops slipping.
    w.apply(SimCommand::Cut { span: 1, rx: true, tx: true }).expect("cut");
    w.run_ticks(TWENTY_S);
    assert_eq!(w.sync_source(), SyncSource::Span(2));
    let u = slips(&w);
    assert_eq!(u[1], t[1], "the clock master does not slip against itself");
    assert_eq!(u[2], 0, "a loop-timed PBX follows the board's clock wherever it comes from");

    // A drift command needs a simulated far end.
    let mut cabled = world(DEB, &pair(E1));
    let e = cabled.apply(SimCommand::SetFarDrift { span: 1, ppm: 1.0 }).expect_err("no far end");
    assert_eq!(e.kind, ErrorKind::Unsupported);
}

#[test]
fn loop_timed_pbx_given_a_drift_of_its_own_slips() {
    let specs = [timed(spec(1, E1, provider(0.0)), 1), spec(2, T1, far(FarEndRole::Pbx, -100.0))];
    let mut w = world(DEB, &specs);
    w.run_ticks(5_000);
    // 100 ppm for 5 s is 500 us: four frames.
    let slips = status(&w, 2).counters.slips;
    assert!((3..=5).contains(&slips), "PBX at -100 ppm: {slips} slips");
}

// ---------------------------------------------------------------------------------------------
// 6. The fault injector

fn noisy(seed: u64) -> FaultConfig {
    FaultConfig { seed, bit_error_rate: 1e-4, ..FaultConfig::default() }
}

#[test]
fn bit_errors_show_as_crc_errors_on_the_faulty_span_only() {
    let [s1, s2] = pair(E1);
    let mut w = world(DEB, &[s1, faulty(s2, noisy(1))]);
    assert!(w.span_at(idx(&w, 2)).config().crc4);
    w.run_ticks(1_000);
    let (c1, c2) = (status(&w, 1).counters, status(&w, 2).counters);
    assert_eq!(c1.crc_errors, 0, "the clean direction");
    // 2048 bits a frame at 1e-4: about 18% of frames hit, nearly all caught by CRC-4.
    assert!((100..=260).contains(&c2.crc_errors), "{} CRC errors in 1000 frames", c2.crc_errors);
    assert_eq!((alarms(&w, 1), alarms(&w, 2)), ("OK".into(), "OK".into()));

    // Without CRC-4 nothing is checked.
    let [mut s1, mut s2] = pair(E1);
    s1.config.crc4 = false;
    s2.config.crc4 = false;
    let mut w = world(DEB, &[s1, faulty(s2, noisy(1))]);
    w.run_ticks(1_000);
    assert_eq!(status(&w, 2).counters.crc_errors, 0);

    // SetFault swaps the injector at run time.
    let mut w = world(DEB, &pair(E1));
    w.run_ticks(500);
    assert_eq!(status(&w, 1).counters.crc_errors, 0);
    w.apply(SimCommand::SetFault { span: 1, fault: noisy(5) }).expect("set fault");
    w.run_ticks(500);
    let hit = status(&w, 1).counters.crc_errors;
    assert!(hit > 0);
    w.apply(SimCommand::SetFault { span: 1, fault: FaultConfig::default() }).expect("clear");
    w.run_ticks(500);
    assert_eq!(status(&w, 1).counters.crc_errors, hit, "a clean line again");
}

/// Sends 200 40-octet frames from span 1 to span 2 (whose receive path has `fault`); returns the
/// frames that arrived and both spans' status.
fn frames_through(fault: FaultConfig) -> (Vec<Vec<u8>>, Vec<Vec<u8>>, [SpanStatus; 2]) {
    let [s1, s2] = pair(E1);
    let mut w = world(DEB, &[s1, faulty(s2, fault)]);
    let (mut da, mut db) = (dchannel(&mut w, 0), dchannel(&mut w, 1));
    let sent: Vec<Vec<u8>> = (0..200u8).map(|i| q921(i % 128, 40)).collect();
    let got = exchange(&mut w, &mut da, &mut db, &sent, 2_000);
    let got = got.into_iter().map(|(_, f)| f).collect();
    (sent, got, [status(&w, 1), status(&w, 2)])
}

#[test]
fn bit_errors_lose_dchannel_frames_but_never_corrupt_them() {
    let (sent, got, [_, s2]) = frames_through(noisy(3));
    let c = s2.counters;
    assert!(c.fcs_errors > 0, "{c:?}");
    assert!(got.len() < sent.len() && got.len() > sent.len() * 3 / 4, "{} of 200 arrived", got.len());
    assert_eq!(usize::try_from(c.hdlc_rx_frames), Ok(got.len()));
    // Every frame delivered is one that was sent, in order: an errored frame is dropped, not passed
    // up damaged.
    let mut at = 0;
    for f in &got {
        let i = sent[at..].iter().position(|s| s == f).expect("a delivered frame was sent");
        at += i + 1;
    }
}

#[test]
fn total_frame_loss_is_red() {
    let [s1, s2] = pair(E1);
    let lossy = FaultConfig { seed: 9, frame_loss: 1.0, ..FaultConfig::default() };
    let mut w = world(DEB, &[s1, faulty(s2, lossy)]);
    w.run_ticks(3 * u64::from(DEB));
    assert_eq!((alarms(&w, 1), alarms(&w, 2)), ("YELLOW".into(), "RED".into()));
    assert!(!w.sim_status(1).signal);
}

#[test]
fn the_same_seed_gives_the_same_counters() {
    let rough = |seed| FaultConfig {
        seed,
        bit_error_rate: 2e-4,
        frame_loss: 0.002,
        slips_per_s: 20.0,
        los_bursts_per_s: 0.5,
        los_burst_ms: 3,
    };
    let (_, got_a, st_a) = frames_through(rough(11));
    let (_, got_b, st_b) = frames_through(rough(11));
    let (_, _, st_c) = frames_through(rough(12));
    assert_eq!(st_a, st_b, "same seed");
    assert_eq!(got_a, got_b, "same seed, same frames through");
    assert_ne!(st_a[1].counters, st_c[1].counters, "another seed");
    let c = st_a[1].counters;
    assert!(c.slips > 0 && c.crc_errors > 0 && c.fcs_errors > 0, "{c:?}");
    assert_ne!(got_a.len(), 0);
}

// ---------------------------------------------------------------------------------------------
// 7. The cross-process cable

fn clear_with_signal(w: &World) -> bool {
    alarms(w, 1) == "OK" && w.sim_status(0).signal
}

#[test]
fn cable_between_two_worlds_carries_a_whole_span() {
    let dir = TempDir::new("cable");
    let path = dir.path("cable.sock");
    let mut a = world(DEB, &[spec(1, E1, LineSpec::Listen(path.clone()))]);
    let mut b = world(DEB, &[spec(1, E1, LineSpec::Connect(path.clone()))]);

    // The connecting end retries every 100 ms of wall time; give it up to 2 s.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut good = 0;
    while good < 3 * DEB {
        assert!(Instant::now() < deadline, "the cable did not come up: A {} B {}", alarms(&a, 1), alarms(&b, 1));
        a.tick();
        b.tick();
        if clear_with_signal(&a) && clear_with_signal(&b) {
            good += 1;
        } else {
            good = 0;
            if !b.sim_status(0).signal {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    // Audio both ways, ticking the worlds alternately as two processes would.
    const MS: usize = 200;
    const MAX_DELAY: usize = 12;
    let (mut rng_a, mut rng_b) = (Prng(7), Prng(8));
    let (mut sent_ab, mut got_ab, mut sent_ba, mut got_ba) = (vec![], vec![], vec![], vec![]);
    for _ in 0..MS + MAX_DELAY {
        let (ca, cb) = (rng_a.chunk(), rng_b.chunk());
        a.write_chunk(0, 5, &ca);
        b.write_chunk(0, 5, &cb);
        a.tick();
        b.tick();
        sent_ab.push(ca);
        sent_ba.push(cb);
        got_ab.push(b.read_chunk(0, 5));
        got_ba.push(a.read_chunk(0, 5));
    }
    let ab = delay(&sent_ab, &got_ab, MS, MAX_DELAY);
    let ba = delay(&sent_ba, &got_ba, MS, MAX_DELAY);
    // The receiving end's elastic store holds a few frames (it primes with four) before it
    // delivers, so the delay is a few ticks, and it stays put while both sides tick in step.
    assert!((1..=5).contains(&ab) && (1..=5).contains(&ba), "delays {ab} and {ba} ticks");
    for w in [&a, &b] {
        let c = status(w, 1).counters;
        assert_eq!((c.slips, c.crc_errors), (0, 0), "{c:?}");
        assert_eq!(w.read_chunk(0, 1), [0xD5; CHUNK], "idle elsewhere");
    }

    // The D-channel crosses too.
    let (mut da, mut db) = (dchannel(&mut a, 0), dchannel(&mut b, 0));
    da.send_frame(&q921(1, 30)).expect("send");
    let mut buf = [0u8; MAX_HDLC_FRAME];
    let mut arrived = None;
    for _ in 0..40 {
        a.tick();
        b.tick();
        if let Some(n) = db.recv_frame(&mut buf).expect("recv") {
            arrived = Some(buf[..n].to_vec());
            break;
        }
    }
    assert_eq!(arrived, Some(q921(1, 30)));

    // The peer process goes away: loss of signal, RED after the debounce.
    drop(b);
    a.run_ticks(u64::from(DEB) - 1);
    assert_eq!(alarms(&a, 1), "OK", "not before the debounce");
    a.run_ticks(2);
    assert_eq!(alarms(&a, 1), "RED");
    assert_eq!(a.sync_source(), SyncSource::Internal);
}

#[test]
fn cable_takes_a_raw_peer_and_shrugs_off_garbage() {
    let dir = TempDir::new("rawpeer");
    let path = dir.path("cable.sock");
    let mut a = world(DEB, &[spec(1, E1, LineSpec::Listen(path.clone()))]);
    let peer = Socket::new(Domain::UNIX, Type::SEQPACKET, None).expect("socket");
    peer.connect(&SockAddr::unix(&path).expect("address")).expect("connect");
    peer.set_nonblocking(true).expect("nonblocking");

    let live = live_len(E1);
    let mut frame = LineFrame::default();
    frame.payload[CHUNK..live].fill(Law::Alaw.idle_code());
    let mut wire = [0u8; WIRE_MAX];
    let mut junk_ok = 0;
    let mut send_junk = |peer: &Socket| {
        let mut long = [0u8; WIRE_MAX + 40];
        long[..3].copy_from_slice(b"SG\x01");
        for junk in [&b"x"[..], b"SG\x01", b"XX\x01\0\0\0\0\0\0\0", b"SG\x09\0\0\0\0\0\0\0", &long] {
            if peer.send(junk).is_ok() {
                junk_ok += 1;
            }
        }
    };
    send_junk(&peer);

    let mut rng = Prng(99);
    let (mut sent, mut got, mut from_a) = (vec![], vec![], vec![]);
    let mut seen = LineFrame::default();
    let mut rx = [0u8; WIRE_MAX];
    for t in 0..400u32 {
        let c = rng.chunk();
        *frame.chunk_mut(5) = c;
        frame.payload[0] = crc4(&frame.payload[CHUNK..live]);
        let n = frame.encode(t, live, &mut wire);
        peer.send(&wire[..n]).expect("send a frame");
        if t == 200 {
            send_junk(&peer);
        }
        a.write_chunk(0, 7, &[t.to_le_bytes()[0]; CHUNK]);
        a.tick();
        sent.push(c);
        got.push(a.read_chunk(0, 5));
        while let Ok(n) = (&peer).read(&mut rx) {
            seen.decode(&rx[..n]).expect("A sends well-formed frames");
            from_a.push(seen.chunk(7)[0]);
        }
    }
    assert_eq!(junk_ok, 10, "the junk was sent");
    assert_eq!(alarms(&a, 1), "OK");
    let c = status(&a, 1).counters;
    assert_eq!((c.crc_errors, c.slips), (0, 0), "{c:?}");
    // The peer's frames arrive in A after a fixed delay, garbage or not; A's frames reach the peer
    // in order.
    delay(&sent, &got, 350, 12);
    assert!(from_a.len() >= 390, "{} frames from A", from_a.len());
    assert!(from_a.windows(2).all(|p| p[1] == p[0].wrapping_add(1)), "A's frames in order");
}

// ---------------------------------------------------------------------------------------------
// 8. The D-channel-only socket line (libpri framing)

#[test]
fn dchannel_socket_speaks_libpri_framing() {
    for kind in [E1, Bri] {
        let dir = TempDir::new(&format!("dchan-{}", kind.as_str()));
        let line = dir.path("dchan.sock");
        let peer_path = dir.path("peer.sock");
        let mut w = world(DEB, &[spec(1, kind, LineSpec::DchanSocket(line.clone()))]);
        let mut d = dchannel(&mut w, 0);
        let peer = UnixDatagram::bind(&peer_path).expect("bind peer");
        peer.set_nonblocking(true).expect("nonblocking");
        w.run_ticks(3 * u64::from(DEB));
        assert_eq!(alarms(&w, 1), "OK", "{kind}: layer 1 is always up");

        let mut buf = [0u8; MAX_HDLC_FRAME + 8];
        let mut to_span = |w: &mut World, d: &mut SimDChannel, datagram: &[u8]| {
            peer.send_to(datagram, &line).expect("peer sends");
            for _ in 0..200 {
                w.tick();
                if let Some(n) = d.recv_frame(&mut buf).expect("recv") {
                    return Some(buf[..n].to_vec());
                }
            }
            None
        };

        // Peer to span: the two dummy FCS octets are stripped.
        let sabme = [0x00, 0x01, 0x7F];
        assert_eq!(to_span(&mut w, &mut d, &[&sabme[..], &[0, 0]].concat()), Some(sabme.to_vec()));

        // Span to peer: the reply goes to the last sender, with two octets appended.
        let ua = q921(0, 24);
        d.send_frame(&ua).expect("send");
        let mut reply = None;
        for _ in 0..200 {
            w.tick();
            let mut b = [0u8; MAX_HDLC_FRAME + 8];
            if let Ok((n, _)) = peer.recv_from(&mut b) {
                reply = Some(b[..n].to_vec());
                break;
            }
        }
        let reply = reply.unwrap_or_else(|| panic!("{kind}: no reply reached the peer"));
        assert_eq!(reply.len(), ua.len() + 2, "{kind}");
        assert_eq!(reply[..ua.len()], ua[..], "{kind}");

        // Datagrams too short or too long to be a frame plus FCS are dropped without harm.
        for bad in [vec![0x7E, 0x00], vec![1, 2, 3, 4], vec![0x55; MAX_HDLC_FRAME + 3]] {
            assert_eq!(to_span(&mut w, &mut d, &bad), None, "{kind}: {}-octet datagram", bad.len());
        }
        // And the line still works afterwards.
        let info = q921(2, 60);
        assert_eq!(to_span(&mut w, &mut d, &[&info[..], &[0xAB, 0xCD]].concat()), Some(info));

        assert_eq!(alarms(&w, 1), "OK");
        let c = status(&w, 1).counters;
        assert_eq!((c.hdlc_rx_frames, c.hdlc_tx_frames), (2, 1), "{kind}: {c:?}");
        assert_eq!((c.fcs_errors, c.hdlc_aborts), (0, 0), "{kind}");
        assert_eq!(w.read_chunk(0, 1), [Law::Alaw.idle_code(); CHUNK], "{kind}: bearers idle");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. The board

#[test]
fn board_lists_its_own_spans() {
    let specs = [
        timed(spec(3, E1, provider(0.0)), 1),
        spec(1, E1, LineSpec::Span(2)),
        spec(2, E1, LineSpec::Span(1)),
        spec(4, Fxs, far(FarEndRole::Phone, 0.0)),
    ];
    let opts = WorldOptions { model: "sim-test".into(), ..WorldOptions::default() };
    let w = World::new(&opts, &specs).expect("build world");
    let info = w.info();
    assert_eq!((info.backend, info.model.as_str()), ("sim", "sim-test"));
    assert!(info.capabilities.fault_injection);
    assert_eq!(w.span_count(), 4, "far ends are not board spans");
    assert_eq!(w.node_count(), 6);
    for n in 1..=4 {
        let s = w.span(n).unwrap_or_else(|| panic!("span {n}"));
        assert_eq!(s.number(), n);
        assert_eq!(w.span_index(n), usize::try_from(n - 1).ok(), "sorted by number");
    }
    assert!(w.span(0).is_none() && w.span(5).is_none());
    assert_eq!(w.span(4).map(|s| s.config().kind), Some(Fxs));
    assert_eq!(w.span(3).map(|s| s.config().timing), Some(1));
    assert!(w.span(1).is_some_and(|s| s.capabilities().fault_injection));

    let f = w.far_end_index(3).expect("span 3 has a far end");
    assert_eq!(w.far_end_role(f), Some(FarEndRole::Provider));
    assert_eq!(w.span_at(f).config().timing, 0, "a far end never gives the board timing");
    assert_eq!(w.span_at(f).config().termination, crate::Termination::Nt, "the far end is the network");
    assert_eq!(w.far_end_index(1), None, "span 1 is cabled to span 2");
    assert_eq!(w.far_end_role(0), None);
}

#[test]
fn world_rejects_impossible_boards() {
    let dir = TempDir::new("reject");
    let cases: [(&str, Vec<SimSpanSpec>, ErrorKind); 6] = [
        (
            "span defined twice",
            vec![spec(1, E1, LineSpec::Open), spec(1, T1, LineSpec::Open)],
            ErrorKind::InvalidConfig,
        ),
        ("cable to a missing span", vec![spec(1, E1, LineSpec::Span(2))], ErrorKind::NoSuchSpan),
        ("cable to itself", vec![spec(1, E1, LineSpec::Span(1))], ErrorKind::InvalidConfig),
        (
            "cable to a span on a far end",
            vec![spec(1, E1, LineSpec::Span(2)), spec(2, E1, provider(0.0))],
            ErrorKind::InvalidConfig,
        ),
        (
            "two cables into one span",
            vec![spec(1, E1, LineSpec::Span(2)), spec(2, E1, LineSpec::Open), spec(3, E1, LineSpec::Span(2))],
            ErrorKind::InvalidConfig,
        ),
        (
            "D-channel socket on an analog span",
            vec![spec(1, Fxs, LineSpec::DchanSocket(dir.path("x.sock")))],
            ErrorKind::InvalidConfig,
        ),
    ];
    for (what, specs, kind) in cases {
        match World::new(&WorldOptions::default(), &specs) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => assert_eq!(e.kind, kind, "{what}: {e}"),
        }
    }
    // Commands on spans that are not there.
    let mut w = world(DEB, &pair(E1));
    let e = w.apply(SimCommand::Cut { span: 9, rx: true, tx: true }).expect_err("no span 9");
    assert_eq!(e.kind, ErrorKind::NoSuchSpan);
}

#[test]
fn open_end_may_be_named_by_the_other_span() {
    // `Span(2)` on span 1 with span 2 left `Open` is one cable, seen from one end.
    let specs = [spec(1, E1, LineSpec::Span(2)), spec(2, E1, LineSpec::Open)];
    let mut w = world(DEB, &specs);
    w.run_ticks(3 * u64::from(DEB));
    assert_eq!((alarms(&w, 1), alarms(&w, 2)), ("OK".into(), "OK".into()));
    let (ab, ba) = audio_both_ways(&mut w, 0, 1, 9, 50);
    assert_eq!(ab, ba);
}

// ---------------------------------------------------------------------------------------------
// 10. Analog

#[test]
fn analog_ports_carry_audio_on_channel_1() {
    for (kind, role) in [(Fxs, FarEndRole::Phone), (Fxo, FarEndRole::Exchange)] {
        let mut w = world(DEB, &[spec(1, kind, far(role, 0.0))]);
        w.run_ticks(3 * u64::from(DEB));
        assert_eq!(alarms(&w, 1), "OK", "{kind}");
        let (a, f) = (idx(&w, 1), w.far_end_index(1).expect("far end"));
        assert_eq!(w.far_end_role(f), Some(role));
        let (ab, ba) = audio_both_ways(&mut w, a, f, 1, 200);
        assert!(ab <= 2 && ba <= 2, "{kind}: {ab} {ba}");
        assert_eq!(w.span_at(a).config().dchan, None);
        w.apply(SimCommand::Cut { span: 1, rx: true, tx: false }).expect("cut");
        w.run_ticks(3 * u64::from(DEB));
        assert_eq!(alarms(&w, 1), "RED", "{kind}: an analog line has no YELLOW, but loses signal");
    }
}

// ---------------------------------------------------------------------------------------------
// Loopback

#[test]
fn a_looped_span_hears_itself_and_its_far_end_loses_signal() {
    let mut w = world(DEB, &pair(E1));
    w.run_ticks(3 * u64::from(DEB));
    assert_eq!((alarms(&w, 1), alarms(&w, 2)), ("OK".into(), "OK".into()));
    w.apply(SimCommand::Loopback { span: 1, on: true }).expect("loopback");
    assert_eq!(alarms(&w, 1), "LOOP", "the loopback alarm is immediate");
    let (i1, mut rng) = (idx(&w, 1), Prng(5));
    let mut heard = Vec::new();
    let mut sent = Vec::new();
    for _ in 0..50 {
        let c = rng.chunk();
        w.write_chunk(i1, 7, &c);
        sent.push(c);
        w.tick();
        heard.push(w.read_chunk(i1, 7));
    }
    assert_eq!(heard, sent, "span 1 hears its own channel 7 in the same tick");
    w.run_ticks(3 * u64::from(DEB));
    assert!(alarms(&w, 2).contains("RED"), "span 2 lost its signal: {}", alarms(&w, 2));
    assert!(alarms(&w, 1).contains("LOOP"));
    assert_eq!(w.sync_source(), SyncSource::Internal, "a looped span cannot be the clock source");
    w.apply(SimCommand::Loopback { span: 1, on: false }).expect("loopback off");
    w.run_ticks(3 * u64::from(DEB));
    assert_eq!((alarms(&w, 1), alarms(&w, 2)), ("OK".into(), "OK".into()));
}
