//! The I/O side of one D-channel's ISDN stack: the glue the event loop drives between a
//! `hal::DChannel`, the sans-IO [`Q921`] entity, the pcap capture and layer 3 ([`CallControl`]
//! around the span's `Q931`).
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

use super::calls::CallControl;
use super::pcap::{Direction, PcapWriter};
use super::q921::{FrameRepr, LinkState};
use super::tap::FrameTap;
use super::{Layer2Persistence, Mode, Q921Config, Q921Event, Q931Config, Role, Q921};
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

/// What sees every frame crossing the channel: the tap, the debug trace and the capture.
struct Watch {
    tap: FrameTap,
    capture: Option<Capture>,
}

impl Watch {
    /// Counts, traces at debug level and captures one frame; `ours` is our side's role.
    fn frame(&mut self, label: &str, ours: Role, direction: Direction, frame: &[u8]) {
        self.tap.frame(direction, frame);
        if log::log_enabled!(log::Level::Debug) {
            let arrow = if direction == Direction::Sent { ">" } else { "<" };
            let sender = if direction == Direction::Sent { ours } else { ours.peer() };
            match FrameRepr::parse(frame) {
                Ok(f) => debug!("{label} {arrow} {}", f.trace(sender)),
                Err(e) => debug!("{label} {arrow} invalid frame ({e}) {frame:02x?}"),
            }
        }
        if let Some(c) = &mut self.capture {
            let ts = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
            if let Err(e) = c.writer.write_frame(ts, direction, frame) {
                warn!("{label}: stopped capturing to {}: {e}", c.path.display());
                self.capture = None;
            }
        }
    }
}

/// One D-channel's stack: the channel, its Q.921 entity, call control on top, the frame tap and
/// an optional capture.
pub struct DchanStack<C: DChannel> {
    /// Shown in log lines: `span 1`, `span 1 far end`.
    label: String,
    chan: C,
    q921: Q921,
    calls: CallControl,
    watch: Watch,
    l3_messages: u64,
    tx_dropped: u64,
    /// chan_dahdi's `layer1_presence = required`: span alarms reach Q.921 as PH-DEACTIVATE /
    /// PH-ACTIVATE. With `ignore` they do not, and layer 2 relies on its own timers.
    layer1_required: bool,
}

impl<C: DChannel> DchanStack<C> {
    /// A stack on `chan` with call control `l3` answering incoming calls as `incoming` says; with
    /// `pcap`, every frame is also written to that file (created or truncated now, so a bad path
    /// stops the daemon at start rather than silently later).
    pub fn new(
        label: String,
        chan: C,
        config: Q921Config,
        l3: Q931Config,
        incoming: provisioning::Incoming,
        pcap: Option<&Path>,
    ) -> Result<DchanStack<C>, String> {
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
            calls: CallControl::new(label.clone(), l3, incoming),
            label,
            chan,
            q921: Q921::new(config),
            watch: Watch { tap: FrameTap::default(), capture },
            l3_messages: 0,
            tx_dropped: 0,
            layer1_required: true,
        })
    }

    /// Whether span alarms are told to layer 2 (`required`, the default) or not (`ignore`).
    pub fn set_layer1_presence(&mut self, presence: provisioning::Layer1Presence) {
        self.layer1_required = presence == provisioning::Layer1Presence::Required;
    }

    /// Layer 1 as the span's alarms say (`active` = no alarm). With `layer1_presence =
    /// "required"` a change becomes PH-DEACTIVATE- or PH-ACTIVATE-indication: the data links are
    /// released at once (active calls wait T309, others are cleared, new ones refused) and come
    /// back with `keep_up` when the alarm clears. With `ignore` nothing is told.
    pub fn set_layer1(&mut self, now: Instant, active: bool) {
        if !self.layer1_required || self.q921.layer1_active() == active {
            return;
        }
        if active {
            info!("{}: layer 1 activated: PH-ACTIVATE-indication to layer 2", self.label);
            self.q921.ph_activate_indication(now);
        } else {
            warn!("{}: layer 1 deactivated: PH-DEACTIVATE-indication to layer 2", self.label);
            self.q921.ph_deactivate_indication(now);
        }
        self.flush(now);
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
                    self.watch.frame(&self.label, self.q921.config().role, Direction::Received, frame);
                    // Layer 3 takes the message from the frame, before the events it queued.
                    if let Some(data) = self.q921.handle_frame(now, frame) {
                        self.calls.dl_data(now, data);
                        self.layer3_indication(Some(data.tei), data.data);
                    }
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

    /// When [`on_timeout`](Self::on_timeout) should next run: the nearer of the Q.921 and Q.931
    /// timers.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.q921.poll_timeout(), self.calls.poll_timeout()].into_iter().flatten().min()
    }

    /// Runs the timers due by `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        let (l2, l3) = (due(self.q921.poll_timeout()), due(self.calls.poll_timeout()));
        if l2 {
            self.q921.handle_timeout(now);
        }
        if l3 {
            self.calls.handle_timeout(now);
        }
        if l2 || l3 {
            self.flush(now);
        }
    }

    /// Runs `f` on the call control (an API request: place, answer, hang up, restart), then
    /// sends what it queued.
    pub fn with_calls<R>(&mut self, now: Instant, f: impl FnOnce(&mut CallControl) -> R) -> R {
        let r = f(&mut self.calls);
        self.flush(now);
        r
    }

    /// The next notice of the call control for the switch (routed spans).
    pub fn poll_notice(&mut self) -> Option<super::calls::CallNotice> {
        self.calls.poll_notice()
    }

    /// The call control, for reading.
    pub fn calls(&self) -> &CallControl {
        &self.calls
    }

    /// Sends what the entities queued and acts on what they reported, until both are quiet:
    /// a Q.931 answer may need a data link first, and a data link event may wake Q.931.
    ///
    /// Each round hands Q.921's events to layer 3 and layer 3's messages down to Q.921 before it
    /// takes Q.921's frames: a received I frame is then acknowledged by the N(R) of the I frame
    /// that answers it, and by an RR only when nothing answers (Q.921 §5.6.2.1).
    fn flush(&mut self, now: Instant) {
        loop {
            let mut moved = self.layer2_events(now);
            moved |= self.calls.pump(now, &mut self.q921);
            moved |= self.send_frames();
            if !moved {
                break;
            }
        }
        if let Some(c) = &mut self.watch.capture {
            // Flushed per batch so that the file is readable while the daemon runs.
            if let Err(e) = c.writer.flush() {
                warn!("{}: stopped capturing to {}: {e}", self.label, c.path.display());
                self.watch.capture = None;
            }
        }
    }

    /// Hands Q.921's events on; true when there was any.
    fn layer2_events(&mut self, now: Instant) -> bool {
        let mut moved = false;
        while let Some(event) = self.q921.poll_event() {
            moved = true;
            self.event(now, event);
        }
        moved
    }

    /// Sends Q.921's frames; true when there was any.
    fn send_frames(&mut self) -> bool {
        let mut moved = false;
        let ours = self.q921.config().role;
        while let Some(frame) = self.q921.poll_transmit() {
            moved = true;
            self.watch.frame(&self.label, ours, Direction::Sent, frame);
            match self.chan.send_frame(frame) {
                Ok(()) => {}
                // A full D-channel queue is a lost frame to Q.921, which T200 recovers.
                Err(e) if e.kind == ErrorKind::WouldBlock => self.tx_dropped += 1,
                Err(e) => {
                    self.tx_dropped += 1;
                    warn!("{}: D-channel: {e}", self.label);
                }
            }
        }
        moved
    }

    fn event(&mut self, now: Instant, event: Q921Event) {
        self.calls.dl_event(now, &event);
        match event {
            Q921Event::DataIndication { tei, data } | Q921Event::UnitDataIndication { tei, data } => {
                self.layer3_indication(tei, &data);
            }
            Q921Event::MdlError { .. } => warn!("{}: {event}", self.label),
            e @ (Q921Event::EstablishIndication { .. }
            | Q921Event::EstablishConfirm { .. }
            | Q921Event::IFramesDiscarded { .. }
            | Q921Event::ReleaseIndication { .. }
            | Q921Event::ReleaseConfirm { .. }
            | Q921Event::TeiAssigned { .. }
            | Q921Event::TeiRemoved { .. }) => info!("{}: {e}", self.label),
        }
    }

    /// Counts the messages handed to layer 3 and shows them at debug level.
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
        let t = self.watch.tap.counters();
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
            calls: self.calls.calls(),
            cleared: self.calls.cleared(),
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
    use crate::isdn::calls::{far_end_q931_config, q931_config};
    use crate::isdn::CallId;
    use provisioning::Incoming;

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

    /// Our stack on `s`.
    fn stack(label: &str, s: &SpanCfg, incoming: Incoming, pcap: Option<&Path>) -> DchanStack<Queue> {
        let (l2, l3) = (q921_config(s).unwrap(), q931_config(s).unwrap());
        DchanStack::new(label.into(), Queue::default(), l2, l3, incoming, pcap).unwrap()
    }

    /// The simulated far end facing `ours` on span `s`, answering every call.
    fn far(ours: &DchanStack<Queue>, s: &SpanCfg) -> DchanStack<Queue> {
        let l3 = far_end_q931_config(&q931_config(s).unwrap());
        let l2 = far_end_config(ours.q921.config());
        DchanStack::new("far".into(), Queue::default(), l2, l3, Incoming::Answer, None).unwrap()
    }

    /// Our stack on `s` and its simulated far end, started, one virtual second later (layer 2
    /// up), and that time.
    fn pair(s: &SpanCfg, incoming: Incoming) -> (DchanStack<Queue>, DchanStack<Queue>, Instant) {
        let mut a = stack("ours", s, incoming, None);
        let mut b = far(&a, s);
        let t0 = Instant::now();
        a.start(t0);
        b.start(t0);
        let now = t0 + std::time::Duration::from_secs(1);
        run(&mut a, &mut b, t0, now);
        (a, b, now)
    }

    /// Moves frames between two stacks until neither sends, running timers on a virtual clock.
    fn run(a: &mut DchanStack<Queue>, b: &mut DchanStack<Queue>, now: Instant, until: Instant) {
        run_traced(a, b, now, until);
    }

    /// `run`, returning a trace of the frames moved: `a> I ns=0 nr=0 SETUP`, `b> RR sapi=0 ...`.
    fn run_traced(
        a: &mut DchanStack<Queue>,
        b: &mut DchanStack<Queue>,
        mut now: Instant,
        until: Instant,
    ) -> Vec<String> {
        let mut trace = Vec::new();
        let mut note = |who: &str, sender: Role, frame: &[u8]| {
            let f = FrameRepr::parse(frame).expect("a valid frame");
            trace.push(match f.control {
                crate::isdn::q921::Control::I { ns, nr, .. } => {
                    let message = crate::isdn::q931::view::MessageView::parse(f.info).map(|m| m.msg_type.to_string());
                    format!("{who}> I ns={ns} nr={nr} {}", message.unwrap_or_default())
                }
                _ => format!("{who}> {}", f.trace(sender)),
            });
        };
        while now < until {
            for _ in 0..20 {
                let (fa, fb) = (std::mem::take(&mut a.chan.tx), std::mem::take(&mut b.chan.tx));
                if fa.is_empty() && fb.is_empty() {
                    break;
                }
                fa.iter().for_each(|f| note("a", a.q921.config().role, f));
                fb.iter().for_each(|f| note("b", b.q921.config().role, f));
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
        trace
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
            let pcap = dir.join(format!("{sig}.pcap"));
            let mut a = stack("ours", &span(sig, "keep_up"), Incoming::Ring, Some(&pcap));
            let mut b = far(&a, &span(sig, "keep_up"));
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

    /// Span alarms reach layer 2 only with `layer1_presence = "required"`: the data link drops
    /// at once and nothing is sent until the alarm clears; with `ignore` the link stays up until
    /// its own timers find the dead line.
    #[test]
    fn span_alarms_reach_layer_2_only_when_layer_1_is_required() {
        for (presence, required) in
            [(provisioning::Layer1Presence::Required, true), (provisioning::Layer1Presence::Ignore, false)]
        {
            let (mut a, mut b, t1) = pair(&span("pri_cpe", "keep_up"), Incoming::Ring);
            a.set_layer1_presence(presence);
            assert!(a.snapshot(true).layer2_up, "{presence:?}");
            a.chan.tx.clear();
            a.set_layer1(t1, false);
            assert_eq!(a.snapshot(false).layer2_up, !required, "{presence:?}");
            assert_eq!(a.snapshot(false).counters.mdl_errors, 0, "{presence:?}");
            // Fifteen seconds of dead line (nothing delivered), past T203: timers run, frames are lost.
            let mut now = t1;
            let t2 = t1 + std::time::Duration::from_secs(15);
            while let Some(t) = a.poll_timeout().filter(|&t| t <= t2) {
                now = t.max(now);
                a.on_timeout(now);
            }
            assert_eq!(a.chan.tx.is_empty(), required, "{presence:?}: {} frames sent", a.chan.tx.len());
            a.chan.tx.clear();
            b.chan.rx.clear();
            a.set_layer1(t2, true);
            run(&mut a, &mut b, t2, t2 + std::time::Duration::from_secs(30));
            assert!(a.snapshot(true).layer2_up, "{presence:?}: back up once layer 1 is");
        }
    }

    /// A span's `timers` reach our Q.931 (the others keep their defaults); the simulated far end
    /// keeps Q.931's defaults.
    #[test]
    fn span_timers_set_our_q931_timers_only() {
        use crate::isdn::q931::Timers;
        use std::time::Duration;
        let toml = "[board]\nmodel = \"sim-t\"\n[[board.span]]\nspan = 3\nkind = \"e1\"\nsignalling = \"pri_cpe\"\n\
                    timers = { t309_ms = 6000, t303_ms = 2500 }\n";
        let s = provisioning::parse_str("t", toml).expect("valid").board.spans.remove(0);
        let ours = q931_config(&s).unwrap();
        let d = Timers::default();
        assert_eq!(ours.timers, Timers { t309: Duration::from_secs(6), t303: Duration::from_millis(2500), ..d });
        assert_eq!(far_end_q931_config(&ours).timers, d);
        assert_eq!(q931_config(&span("pri_cpe", "default")).unwrap().timers, d);
    }

    #[test]
    fn a_bad_capture_path_is_an_error_at_start() {
        let c = q921_config(&span("pri_net", "default")).unwrap();
        let l3 = q931_config(&span("pri_net", "default")).unwrap();
        let pcap = Some(Path::new("/nonexistent/dir/x.pcap"));
        let e = DchanStack::new("span 3".into(), Queue::default(), c, l3, Incoming::Ring, pcap).err().expect("refused");
        assert!(e.contains("span 3: create pcap /nonexistent/dir/x.pcap"), "{e}");
    }

    /// One call placed by our user side and cleared by it: layer 3's answer reaches layer 2
    /// before the frames are taken, so each I frame is acknowledged by the N(R) of the I frame
    /// answering it, and by an RR only when nothing answers (§5.6.2.1): CONNECT ACKNOWLEDGE (the
    /// call then rests until hung up) and RELEASE COMPLETE.
    #[test]
    fn the_answer_carries_the_acknowledgement() {
        let (mut a, mut b, now) = pair(&span("pri_cpe", "default"), Incoming::Ring);
        let id = a.with_calls(now, |c| c.place(now, "1234", "5678", true)).unwrap();
        let later = now + std::time::Duration::from_secs(1);
        let mut trace = run_traced(&mut a, &mut b, now, later);
        a.with_calls(later, |c| c.hangup(later, id, 16)).unwrap();
        trace.extend(run_traced(&mut a, &mut b, later, later + std::time::Duration::from_secs(1)));
        assert_eq!(
            trace,
            [
                "a> I ns=0 nr=0 SETUP",
                "b> I ns=0 nr=1 CALL PROCEEDING",
                "b> I ns=1 nr=1 ALERTING",
                "b> I ns=2 nr=1 CONNECT",
                "a> I ns=1 nr=3 CONNECT ACKNOWLEDGE",
                "b> RR sapi=0 tei=0 R nr=2 f=0",
                "a> I ns=2 nr=3 DISCONNECT",
                "b> I ns=3 nr=3 RELEASE",
                "a> I ns=3 nr=4 RELEASE COMPLETE",
                "b> RR sapi=0 tei=0 R nr=4 f=0",
            ]
        );
    }

    /// Calls over two live stacks in every mode: ours places a call the far end answers at once,
    /// the far end places one ours rings with and then answers through the API path, each side
    /// clears one, and a refusal carries its cause; no channel stays busy.
    #[test]
    fn calls_cross_two_stacks_in_every_mode() {
        for sig in ["pri_cpe", "pri_net", "bri_cpe", "bri_net", "bri_cpe_ptmp", "bri_net_ptmp"] {
            let s = span(sig, "default");
            let (mut a, mut b, mut now) = pair(&s, Incoming::Ring);
            let step = |a: &mut DchanStack<Queue>, b: &mut DchanStack<Queue>, now: &mut Instant| {
                let next = *now + std::time::Duration::from_secs(1);
                run(a, b, *now, next);
                *now = next;
            };

            let id = a.with_calls(now, |c| c.place(now, "1234", "5678", true)).expect(sig);
            step(&mut a, &mut b, &mut now);
            let calls = a.snapshot(true).calls;
            assert_eq!(calls.len(), 1, "{sig}: {calls:?}");
            assert_eq!((calls[0].state, calls[0].direction), ("ACTIVE", "outgoing"), "{sig}");
            assert_eq!((calls[0].called.as_str(), calls[0].calling.as_str()), ("1234", "5678"), "{sig}");
            assert_eq!(a.calls().busy_channels(), vec![1], "{sig}");
            let far_calls = b.snapshot(true).calls;
            assert_eq!((far_calls[0].state, far_calls[0].direction), ("ACTIVE", "incoming"), "{sig}");
            a.with_calls(now, |c| c.hangup(now, id, 16)).expect(sig);
            step(&mut a, &mut b, &mut now);
            assert!(a.snapshot(true).calls.is_empty() && b.snapshot(true).calls.is_empty(), "{sig}");
            assert_eq!(a.snapshot(true).cleared.last().map(|c| (c.connected, c.cause)), Some((true, Some(16))));

            // The far end calls us: we ring; answered through the API, then the far end clears.
            let far_id = b.with_calls(now, |c| c.place(now, "1234", "5678", true)).expect(sig);
            step(&mut a, &mut b, &mut now);
            let calls = a.snapshot(true).calls;
            let want = if sig.contains("cpe") { "CALL_RECEIVED" } else { "CALL_DELIVERED" };
            assert_eq!((calls[0].state, calls[0].direction), (want, "incoming"), "{sig}: {calls:?}");
            let ours = CallId(calls[0].id);
            a.with_calls(now, |c| c.answer(now, ours)).expect(sig);
            step(&mut a, &mut b, &mut now);
            assert_eq!(a.snapshot(true).calls[0].state, "ACTIVE", "{sig}");
            b.with_calls(now, |c| c.hangup(now, far_id, 16)).expect(sig);
            step(&mut a, &mut b, &mut now);
            assert!(a.snapshot(true).calls.is_empty(), "{sig}");
            assert!(a.calls().busy_channels().is_empty() && b.calls().busy_channels().is_empty(), "{sig}");

            // Refused by a span set to reject:17.
            let mut r = stack("ours", &s, Incoming::Reject(17), None);
            let mut f = far(&r, &s);
            r.start(now);
            f.start(now);
            step(&mut r, &mut f, &mut now);
            f.with_calls(now, |c| c.place(now, "1234", "5678", true)).expect(sig);
            // A broadcast SETUP on a bus waits out T303 for other terminals (§5.2.3.2).
            run(&mut r, &mut f, now, now + std::time::Duration::from_secs(10));
            let cleared = f.snapshot(true).cleared;
            assert_eq!(cleared.last().map(|c| (c.connected, c.cause)), Some((false, Some(17))), "{sig}");
        }
    }
}
