//! The I/O side of one D-channel's ISDN stack: the glue the event loop drives between a
//! `hal::DChannel`, the sans-IO [`Q921`] entity, the pcap capture and (later) layer 3.
//!
//! The event loop calls [`DchanStack::on_readable`] when the D-channel's descriptor is readable,
//! [`DchanStack::on_timeout`] once [`DchanStack::poll_timeout`] has passed, and
//! [`DchanStack::snapshot`] when it publishes. This module is the one that reads the clock for
//! pcap timestamps and writes to the D-channel and the capture file; `q921` stays sans-IO.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use hal::{DChannel, ErrorKind, MAX_HDLC_FRAME};
use log::{debug, info, warn};
use provisioning::{Signalling, SpanCfg};

use super::pcap::{Direction, PcapWriter};
use super::q921::{FrameRepr, LinkState};
use super::tap::FrameTap;
use super::{Layer2Persistence, Mode, Q921Config, Q921Event, Role, Q921};
use crate::status::{DchanCounterSnap, IsdnSnap, Layer2Snap};

/// The Q.921 parameters of a span, from its signalling and `layer2_persistence`; `None` when the
/// span does not run ISDN.
pub fn q921_config(span: &SpanCfg) -> Option<Q921Config> {
    let (role, mode) = match span.signalling {
        Signalling::PriCpe | Signalling::BriCpe => (Role::Te, Mode::PointToPoint),
        Signalling::PriNet | Signalling::BriNet => (Role::Nt, Mode::PointToPoint),
        Signalling::BriCpePtmp => (Role::Te, Mode::PointToMultipoint),
        Signalling::BriNetPtmp => (Role::Nt, Mode::PointToMultipoint),
        _ => return None,
    };
    // k = 7 on a PRI, 1 on a BRI (Q.921 §5.9.5); the persistence default is the stack's own,
    // as chan_dahdi's "default" leaves it to libpri.
    let mut cfg = if span.signalling.is_pri() { Q921Config::pri(role) } else { Q921Config::bri(role, mode) };
    match span.layer2_persistence {
        provisioning::Layer2Persistence::Default => {}
        provisioning::Layer2Persistence::KeepUp => cfg.layer2_persistence = Layer2Persistence::KeepUp,
        provisioning::Layer2Persistence::LeaveDown => cfg.layer2_persistence = Layer2Persistence::LeaveDown,
    }
    // Terminals on one bus must draw different Ri values; the span number is a fine start.
    cfg.seed = span.number.wrapping_mul(2_654_435_761) | 1;
    Some(cfg)
}

/// The configuration of the simulated far end facing `ours`: the other side, same mode, and its
/// own Ri seed.
pub fn far_end_config(ours: &Q921Config) -> Q921Config {
    Q921Config { role: ours.role.peer(), seed: ours.seed.rotate_left(16) ^ 0x5bd1_e995, ..*ours }
}

/// A capture file being written.
struct Capture {
    path: PathBuf,
    writer: PcapWriter<BufWriter<File>>,
}

/// One D-channel's stack: the channel, its Q.921 entity, the frame tap and an optional capture.
pub struct DchanStack<C: DChannel> {
    /// Shown in log lines: `span 1`, `span 1 far end`.
    label: String,
    chan: C,
    q921: Q921,
    tap: FrameTap,
    capture: Option<Capture>,
    l3_messages: u64,
    tx_dropped: u64,
}

impl<C: DChannel> DchanStack<C> {
    /// A stack on `chan`; with `pcap`, every frame is also written to that file (created or
    /// truncated now, so a bad path stops the daemon at start rather than silently later).
    pub fn new(label: String, chan: C, config: Q921Config, pcap: Option<&Path>) -> Result<DchanStack<C>, String> {
        let capture = match pcap {
            None => None,
            Some(path) => {
                let file = File::create(path).map_err(|e| format!("{label}: create pcap {}: {e}", path.display()))?;
                let writer = PcapWriter::new(BufWriter::new(file), config.role)
                    .map_err(|e| format!("{label}: write pcap header to {}: {e}", path.display()))?;
                info!("{label}: capturing the D-channel to {}", path.display());
                Some(Capture { path: path.to_path_buf(), writer })
            }
        };
        Ok(DchanStack {
            label,
            chan,
            q921: Q921::new(config),
            tap: FrameTap::default(),
            capture,
            l3_messages: 0,
            tx_dropped: 0,
        })
    }

    /// The D-channel, for registering its descriptor with the poll.
    pub fn channel(&self) -> &C {
        &self.chan
    }

    /// Brings layer 2 up as libpri does when it starts: point-to-point links always, a TE in
    /// point-to-multipoint only with `keep_up` (otherwise layer 3 asks when it has a call). An NT
    /// in point-to-multipoint waits for terminals to ask for TEIs.
    pub fn start(&mut self, now: Instant) {
        let c = *self.q921.config();
        let wanted = match (c.role, c.mode) {
            (_, Mode::PointToPoint) => true,
            (Role::Te, Mode::PointToMultipoint) => c.layer2_persistence == Layer2Persistence::KeepUp,
            (Role::Nt, Mode::PointToMultipoint) => false,
        };
        if wanted {
            if let Err(e) = self.q921.dl_establish_request(now) {
                warn!("{}: DL-ESTABLISH-request refused: {e}", self.label);
            }
        }
        self.flush(now);
    }

    /// Takes every frame waiting on the D-channel.
    pub fn on_readable(&mut self, now: Instant) {
        let mut buf = [0u8; MAX_HDLC_FRAME];
        loop {
            match self.chan.recv_frame(&mut buf) {
                Ok(Some(n)) => {
                    let frame = &buf[..n];
                    self.trace(Direction::Received, frame);
                    self.q921.handle_frame(now, frame);
                }
                Ok(None) => break,
                Err(e) => {
                    warn!("{}: D-channel: {e}", self.label);
                    break;
                }
            }
        }
        self.flush(now);
    }

    /// When [`on_timeout`](Self::on_timeout) should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.q921.poll_timeout()
    }

    /// Runs the timers due by `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        if self.q921.poll_timeout().is_some_and(|t| t <= now) {
            self.q921.handle_timeout(now);
            self.flush(now);
        }
    }

    /// Sends what the entity queued and acts on what it reported.
    fn flush(&mut self, _now: Instant) {
        while let Some(frame) = self.q921.poll_transmit() {
            self.trace(Direction::Sent, &frame);
            match self.chan.send_frame(&frame) {
                Ok(()) => {}
                // A full D-channel queue is a lost frame to Q.921, which T200 recovers.
                Err(e) if e.kind == ErrorKind::WouldBlock => self.tx_dropped += 1,
                Err(e) => {
                    self.tx_dropped += 1;
                    warn!("{}: D-channel: {e}", self.label);
                }
            }
        }
        while let Some(event) = self.q921.poll_event() {
            self.event(event);
        }
        if let Some(c) = &mut self.capture {
            // Flushed per batch so that the file is readable while the daemon runs.
            if let Err(e) = c.writer.flush() {
                warn!("{}: stopped capturing to {}: {e}", self.label, c.path.display());
                self.capture = None;
            }
        }
    }

    /// Counts, traces at debug level and captures one frame crossing the D-channel.
    fn trace(&mut self, direction: Direction, frame: &[u8]) {
        self.tap.frame(direction, frame);
        if log::log_enabled!(log::Level::Debug) {
            let arrow = if direction == Direction::Sent { ">" } else { "<" };
            let sender =
                if direction == Direction::Sent { self.q921.config().role } else { self.q921.config().role.peer() };
            match FrameRepr::parse(frame) {
                Ok(f) => debug!("{} {arrow} {}", self.label, f.trace(sender)),
                Err(e) => debug!("{} {arrow} invalid frame ({e}) {frame:02x?}", self.label),
            }
        }
        if let Some(c) = &mut self.capture {
            let ts = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
            if let Err(e) = c.writer.write_frame(ts, direction, frame) {
                warn!("{}: stopped capturing to {}: {e}", self.label, c.path.display());
                self.capture = None;
            }
        }
    }

    fn event(&mut self, event: Q921Event) {
        match event {
            Q921Event::DataIndication { tei, data } | Q921Event::UnitDataIndication { tei, data } => {
                self.layer3_indication(tei, &data);
            }
            Q921Event::MdlError { .. } => warn!("{}: {event}", self.label),
            e @ (Q921Event::EstablishIndication { .. }
            | Q921Event::EstablishConfirm { .. }
            | Q921Event::ReleaseIndication { .. }
            | Q921Event::ReleaseConfirm { .. }
            | Q921Event::TeiAssigned { .. }
            | Q921Event::TeiRemoved { .. }) => info!("{}: {e}", self.label),
        }
    }

    /// The hook where layer 3 (Q.931) will take the messages of a data link. Until it exists the
    /// messages are counted and shown at debug level.
    fn layer3_indication(&mut self, tei: Option<u8>, message: &[u8]) {
        self.l3_messages += 1;
        if log::log_enabled!(log::Level::Debug) {
            let tei = tei.map_or_else(|| "none".to_string(), |t| t.to_string());
            let hex: Vec<String> = message.iter().map(|b| format!("{b:02x}")).collect();
            debug!("{}: layer 3 message on TEI {tei}: {}", self.label, hex.join(" "));
        }
    }

    /// The stack's state for the status page; `layer1_up` comes from the span's alarms.
    pub fn snapshot(&self, layer1_up: bool) -> IsdnSnap {
        let c = self.q921.config();
        let links: Vec<Layer2Snap> = self
            .q921
            .links()
            .into_iter()
            .map(|l| Layer2Snap {
                tei: l.tei,
                state: l.state.to_string(),
                established: matches!(l.state, LinkState::MultipleFrameEstablished | LinkState::TimerRecovery),
                vs: l.vs,
                va: l.va,
                vr: l.vr,
            })
            .collect();
        let q = self.q921.counters();
        let t = self.tap.counters();
        IsdnSnap {
            role: match c.role {
                Role::Te => "TE",
                Role::Nt => "NT",
            },
            mode: match c.mode {
                Mode::PointToPoint => "PTP",
                Mode::PointToMultipoint => "PTMP",
            },
            layer1: if layer1_up { "ACTIVATED" } else { "DEACTIVATED" },
            layer2_up: links.iter().any(|l| l.established),
            links,
            counters: DchanCounterSnap {
                frames_sent: q.frames_sent,
                frames_received: q.frames_received,
                frames_discarded: q.frames_discarded,
                i_frames_sent: t.i_frames_sent,
                i_frames_received: t.i_frames_received,
                retransmissions: t.retransmissions,
                rej_sent: t.rej_sent,
                rej_received: t.rej_received,
                mdl_errors: q.mdl_errors,
                l3_messages: self.l3_messages,
                tx_dropped: self.tx_dropped,
            },
            far_end: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A D-channel of two in-memory queues, for driving two stacks against each other.
    #[derive(Default)]
    struct Queue {
        rx: std::collections::VecDeque<Vec<u8>>,
        tx: Vec<Vec<u8>>,
    }

    impl DChannel for Queue {
        fn send_frame(&mut self, frame: &[u8]) -> Result<(), hal::HalError> {
            self.tx.push(frame.to_vec());
            Ok(())
        }

        fn recv_frame(&mut self, buf: &mut [u8]) -> Result<Option<usize>, hal::HalError> {
            Ok(self.rx.pop_front().map(|f| {
                buf[..f.len()].copy_from_slice(&f);
                f.len()
            }))
        }
    }

    fn span(sig: &str, persistence: &str) -> SpanCfg {
        let kind = if sig.starts_with("bri") { "bri" } else { "e1" };
        let toml = format!(
            "[board]\nmodel = \"sim-t\"\n[[board.span]]\nspan = 3\nkind = \"{kind}\"\nsignalling = \"{sig}\"\n\
             layer2_persistence = \"{persistence}\"\n"
        );
        provisioning::parse_str("t", &toml).expect("valid").board.spans.remove(0)
    }

    #[test]
    fn signalling_maps_to_role_mode_window_and_persistence() {
        let cases = [
            ("pri_cpe", Role::Te, Mode::PointToPoint, 7),
            ("pri_net", Role::Nt, Mode::PointToPoint, 7),
            ("bri_cpe", Role::Te, Mode::PointToPoint, 1),
            ("bri_net", Role::Nt, Mode::PointToPoint, 1),
            ("bri_cpe_ptmp", Role::Te, Mode::PointToMultipoint, 1),
            ("bri_net_ptmp", Role::Nt, Mode::PointToMultipoint, 1),
        ];
        for (sig, role, mode, k) in cases {
            let c = q921_config(&span(sig, "default")).expect(sig);
            assert_eq!((c.role, c.mode, c.k), (role, mode, k), "{sig}");
            let far = far_end_config(&c);
            assert_eq!((far.role, far.mode, far.k), (role.peer(), mode, k), "{sig}");
            assert_ne!(far.seed, c.seed, "{sig}");
        }
        let c = q921_config(&span("bri_cpe_ptmp", "default")).unwrap();
        assert_eq!(c.layer2_persistence, Layer2Persistence::LeaveDown, "the stack's BRI PTMP default");
        let c = q921_config(&span("bri_cpe_ptmp", "keep_up")).unwrap();
        assert_eq!(c.layer2_persistence, Layer2Persistence::KeepUp);
        let c = q921_config(&span("pri_cpe", "leave_down")).unwrap();
        assert_eq!(c.layer2_persistence, Layer2Persistence::LeaveDown);
        let analog =
            provisioning::parse_str("t", "[board]\nmodel = \"s\"\n[[board.span]]\nspan = 1\nkind = \"fxs\"\n").unwrap();
        assert!(q921_config(&analog.board.spans[0]).is_none());
    }

    /// Moves frames between two stacks until neither sends, running timers on a virtual clock.
    fn run(a: &mut DchanStack<Queue>, b: &mut DchanStack<Queue>, mut now: Instant, until: Instant) {
        while now < until {
            for _ in 0..20 {
                let (fa, fb) = (std::mem::take(&mut a.chan.tx), std::mem::take(&mut b.chan.tx));
                if fa.is_empty() && fb.is_empty() {
                    break;
                }
                b.chan.rx.extend(fa);
                a.chan.rx.extend(fb);
                a.on_readable(now);
                b.on_readable(now);
            }
            let next = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min().unwrap_or(until);
            now = next.max(now).min(until);
            a.on_timeout(now);
            b.on_timeout(now);
        }
    }

    #[test]
    fn two_stacks_bring_layer_2_up_in_every_mode_and_capture_it() {
        let dir = std::env::temp_dir().join(format!("spangate-dchan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (sig, tei_ok) in [
            ("pri_cpe", (|t| t == 0) as fn(u8) -> bool),
            ("bri_net", |t| t == 0),
            ("bri_cpe_ptmp", |t| (64..=126).contains(&t)),
            ("bri_net_ptmp", |t| (64..=126).contains(&t)),
        ] {
            let ours = q921_config(&span(sig, "keep_up")).unwrap();
            let pcap = dir.join(format!("{sig}.pcap"));
            let mut a = DchanStack::new("ours".into(), Queue::default(), ours, Some(&pcap)).unwrap();
            let mut b = DchanStack::new("far".into(), Queue::default(), far_end_config(&ours), None).unwrap();
            let t0 = Instant::now();
            a.start(t0);
            b.start(t0);
            run(&mut a, &mut b, t0, t0 + std::time::Duration::from_secs(5));
            for (who, s) in [("ours", a.snapshot(true)), ("far", b.snapshot(true))] {
                assert!(s.layer2_up, "{sig} {who}: {s:?}");
                let l = s.links.iter().find(|l| l.established).unwrap();
                assert!(l.tei.is_some_and(tei_ok), "{sig} {who}: {s:?}");
                assert_eq!(l.state, "MULTIPLE_FRAME_ESTABLISHED");
                assert_eq!(s.counters.mdl_errors, 0, "{sig} {who}: {s:?}");
            }
            // Header and at least the SABME/UA exchange (plus TEI management in PTMP).
            let bytes = std::fs::read(&pcap).unwrap();
            assert_eq!(bytes[20..24], [177, 0, 0, 0], "{sig}");
            assert!(bytes.len() >= 24 + 2 * (16 + 16 + 3), "{sig}: {} octets", bytes.len());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bad_capture_path_is_an_error_at_start() {
        let c = q921_config(&span("pri_net", "default")).unwrap();
        let e = DchanStack::new("span 3".into(), Queue::default(), c, Some(Path::new("/nonexistent/dir/x.pcap")))
            .err()
            .expect("refused");
        assert!(e.contains("span 3: create pcap /nonexistent/dir/x.pcap"), "{e}");
    }
}
