//! `cargo xtask bench isdn`, our side: a TE and an NT of a PRI (Q.921 + Q.931, ETSI, E1), back to
//! back in one process on virtual time, placing and clearing calls as fast as the CPU allows.
//!
//! One cycle is the whole life of a call placed by the user side, as `isdn_peer.c` drives libpri:
//! SETUP → CALL PROCEEDING → ALERTING → CONNECT → CONNECT ACK → DISCONNECT → RELEASE → RELEASE
//! COMPLETE, each in a Q.921 I frame, acknowledged by the N(R) of the I frame answering it (the
//! last one, which nothing answers, by an RR: nine frames). Frames go straight from one entity's
//! `poll_transmit` to the other's `handle_frame` (no FCS, no I/O), one virtual millisecond per
//! hop, and the layers are glued as the daemon glues them (DL-DATA both ways, the received
//! message lent by `handle_frame`, DL-ESTABLISH / DL-RELEASE as data link events, layer 3's
//! answer passed down before the frames are taken, timers from `poll_timeout`).
//!
//! It runs 1000 untimed cycles, then cycles until at least `SECS` (argument, default 1) seconds of
//! process CPU time have passed, and prints one line:
//! `isdn CYCLES_PER_CPU_SECOND FRAMES_PER_CYCLE CHECKSUM`, the checksum being FNV-1a over every
//! frame of the untimed cycles (the same on every run: the work is deterministic).

use std::time::{Duration, Instant};

use gateway_daemon::isdn::q931::{ie::cause, Side};
use gateway_daemon::isdn::{Q921Config, Q921Event, Q931Config, Q931Event, Role, SetupRequest, Q921, Q931};
use nix::time::{clock_gettime, ClockId};

/// Process CPU time in seconds.
fn cpu_seconds() -> f64 {
    let t = clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID).expect("CLOCK_PROCESS_CPUTIME_ID");
    #[allow(clippy::cast_precision_loss)]
    let s = t.tv_sec() as f64 + t.tv_nsec() as f64 * 1e-9;
    s
}

/// One side of the D-channel: layer 2 and layer 3.
struct Node {
    l2: Q921,
    l3: Q931,
    established: bool,
    /// The call of the current cycle has been released on this side.
    released: bool,
}

impl Node {
    fn new(role: Role, side: Side) -> Node {
        Node {
            l2: Q921::new(Q921Config::pri(role)),
            l3: Q931::new(Q931Config::pri(side)),
            established: false,
            released: false,
        }
    }
}

/// The frames one side sent during one virtual millisecond, delivered together at its end: their
/// octets one after another, and where each ends. Emptied on delivery, so it stops growing after
/// the first call.
#[derive(Default)]
struct Wire {
    octets: Vec<u8>,
    ends: Vec<usize>,
}

struct Bench {
    nodes: [Node; 2],
    now: Instant,
    /// What each side sent (indexed like `nodes`).
    wire: [Wire; 2],
    frames: u64,
    checksum: u64,
    /// Whether frames go into the checksum (the untimed cycles only).
    summing: bool,
}

/// Node 0 is the network side (NT), node 1 the user side (TE), which places the calls.
const NT: usize = 0;
const TE: usize = 1;

impl Bench {
    fn new() -> Bench {
        Bench {
            nodes: [Node::new(Role::Nt, Side::Network), Node::new(Role::Te, Side::User)],
            now: Instant::now(),
            wire: [Wire::default(), Wire::default()],
            frames: 0,
            checksum: 0xcbf2_9ce4_8422_2325,
            summing: true,
        }
    }

    /// Layer 3 payloads to layer 2, layer 2 frames onto the wire, layer 2 primitives to layer 3,
    /// layer 3 events to the scripted gateway; true when anything moved.
    fn service<const I: usize>(&mut self) -> bool {
        let now = self.now;
        let mut busy = false;
        let node = &mut self.nodes[I];
        while let Some(e) = node.l2.poll_event() {
            busy = true;
            match e {
                Q921Event::DataIndication { tei: Some(t), data }
                | Q921Event::UnitDataIndication { tei: Some(t), data } => node.l3.handle_dl_data(now, t, &data),
                Q921Event::EstablishIndication { tei: Some(t) } | Q921Event::EstablishConfirm { tei: Some(t) } => {
                    node.established = true;
                    node.l3.handle_dl_established(now, t);
                }
                Q921Event::ReleaseIndication { tei: Some(t) } | Q921Event::ReleaseConfirm { tei: Some(t) } => {
                    node.established = false;
                    node.l3.handle_dl_released(now, t);
                }
                _ => {}
            }
        }
        while let Some(e) = node.l3.poll_event() {
            busy = true;
            let l3 = &mut node.l3;
            let done = match e {
                // The network side answers at once: CALL PROCEEDING, ALERTING, CONNECT.
                Q931Event::IncomingSetup { call, .. } => {
                    l3.proceeding(now, call).and_then(|()| l3.alerting(now, call)).and_then(|()| l3.connect(now, call))
                }
                // The caller hangs up once connected; the network side releases on DISCONNECT.
                Q931Event::Connected { call } if I == TE => l3.disconnect(now, call, cause::NORMAL_CLEARING),
                Q931Event::Disconnected { call, .. } => l3.release(now, call, cause::NORMAL_CLEARING),
                Q931Event::Released { .. } => {
                    node.released = true;
                    Ok(())
                }
                _ => Ok(()),
            };
            done.expect("the scripted call follows the state table");
        }
        while let Some((tei, data)) = node.l3.poll_transmit() {
            busy = true;
            let sent =
                if I == NT { node.l2.dl_data_request_tei(now, tei, data) } else { node.l2.dl_data_request(now, data) };
            sent.expect("the PRI data link is up");
        }
        let wire = &mut self.wire[I];
        while let Some(octets) = node.l2.poll_transmit() {
            busy = true;
            self.frames += 1;
            if self.summing {
                for &b in octets {
                    self.checksum = (self.checksum ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                }
            }
            wire.octets.extend_from_slice(octets);
            wire.ends.push(wire.octets.len());
        }
        busy
    }

    /// Hands every frame side `FROM` put on the wire to the other side, whose layer 2 lends a
    /// received message straight to its layer 3 (as the daemon's `on_readable` does); true when
    /// there was any.
    fn deliver<const FROM: usize>(&mut self) -> bool {
        let now = self.now;
        let wire = &mut self.wire[FROM];
        let node = &mut self.nodes[1 - FROM];
        let mut start = 0;
        for &end in &wire.ends {
            if let Some(d) = node.l2.handle_frame(now, &wire.octets[start..end]) {
                node.l3.handle_dl_data(now, d.tei, d.data);
            }
            start = end;
        }
        let any = !wire.ends.is_empty();
        wire.ends.clear();
        wire.octets.clear();
        any
    }

    /// Runs the timers that are due on both sides; true when any was.
    fn run_timers(&mut self) -> bool {
        let now = self.now;
        let mut ran = false;
        for node in &mut self.nodes {
            if node.l2.poll_timeout().is_some_and(|t| t <= now) {
                node.l2.handle_timeout(now);
                ran = true;
            }
            if node.l3.poll_timeout().is_some_and(|t| t <= now) {
                node.l3.handle_timeout(now);
                ran = true;
            }
        }
        ran
    }

    /// Delivers what is on the wire and services both sides until everything is quiet, one
    /// virtual millisecond per round; then runs the timers that are due (none is during a
    /// call cycle) and goes on while they produce anything, as `isdn_peer.c`'s `settle` runs
    /// libpri's scheduler once the line is quiet.
    fn settle(&mut self) {
        loop {
            loop {
                let busy = self.service::<NT>() | self.service::<TE>();
                self.now += Duration::from_millis(1);
                // The network side's frames first, as they were sent first.
                if !(self.deliver::<NT>() | self.deliver::<TE>() | busy) {
                    break;
                }
            }
            if !self.run_timers() {
                return;
            }
        }
    }

    /// Brings the data link up (both sides send SABME on a PRI kept up).
    fn start(&mut self) {
        let now = self.now;
        // Already on its way up on a point-to-point link kept up: an error just means that.
        let _ = self.nodes[TE].l2.dl_establish_request(now);
        for _ in 0..3000 {
            self.settle();
            if self.nodes.iter().all(|n| n.established) {
                return;
            }
            self.now += Duration::from_millis(1);
            let _ = self.service::<NT>() | self.service::<TE>();
        }
        panic!("the PRI data link did not come up");
    }

    /// One call, placed by the user side and cleared by it.
    fn cycle(&mut self) {
        for n in &mut self.nodes {
            n.released = false;
        }
        let now = self.now;
        self.nodes[TE].l3.setup(now, SetupRequest::speech("1234", "5678")).expect("an idle B-channel");
        self.settle();
        assert!(self.nodes.iter().all(|n| n.released && n.l3.calls().is_empty()), "a cycle did not finish");
    }
}

fn main() {
    let secs: f64 = std::env::args().nth(1).map_or(1.0, |s| s.parse().expect("SECS must be a number"));
    let mut b = Bench::new();
    b.start();
    let warm_up = 1000u64;
    let before = b.frames;
    for _ in 0..warm_up {
        b.cycle();
    }
    #[allow(clippy::cast_precision_loss)]
    let frames_per_cycle = (b.frames - before) as f64 / warm_up as f64;
    b.summing = false;
    let t0 = cpu_seconds();
    let mut cycles = 0u64;
    let elapsed = loop {
        for _ in 0..1000 {
            b.cycle();
        }
        cycles += 1000;
        let e = cpu_seconds() - t0;
        if e >= secs {
            break e;
        }
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = cycles as f64 / elapsed;
    println!("isdn {rate:.1} {frames_per_cycle:.3} {}", b.checksum);
}
