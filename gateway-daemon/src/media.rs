//! The media thread: every millisecond it moves one 8-sample chunk per channel between the board and
//! the DSP chain, and runs the simulated lines.
//!
//! The board is a [`MediaBoard`]: the simulated `World` (its own 1 ms clock) or the DAHDI kernel
//! spans (paced by the kernel's blocks, `dahdi_media`); this loop is the same for both.
//!
//! Architecture invariant: nothing here allocates, locks or logs once the loop runs. The thread
//! talks to the event loop only through two SPSC rings and the loop's `Waker`. Buffers for test
//! audio (play/capture) are allocated by the event loop, lent to this thread through the command
//! ring and handed back through the event ring, so they are freed on the event loop's side.
//!
//! Echo cancellation: every bearer channel of a span with `echo.mode = "software"` owns an
//! [`EchoCanceller`] with the span's tail, allocated by [`echo_plan`] before the loop starts. It
//! runs only while the channel is busy (a play or capture on it today, a call later), as a
//! gateway cancels only on active calls: the reference (rin) is the chunk written to the span,
//! the near-end input (sin) the chunk received, both G.711-decoded with the span's law. The
//! cancelled audio, re-encoded, is what the IP side gets; a `clean` capture takes it. Each active
//! channel's `Stats` go to the event loop with every report.
//!
//! Fax: each SIP leg's fax watch (`media_fax::LegFax`, beside the leg in `fax`) listens to both
//! directions; on a fax tone it puts the channel's canceller in fax mode and the leg's jitter
//! buffer at a fixed delay itself, and reports `MediaEvent::Fax` for the re-INVITE to PCMA.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hal::sim::{SimCommand, SimSpanStatus};
use hal::{SpanStatus, SyncSource, CHUNK};
use media_dsp::echo::{self, EchoCanceller, Stats};
use media_dsp::g711;
use media_dsp::jitter::JitterBuffer;
use media_dsp::ring::{Consumer, Producer};

use crate::media_board::MediaBoard;
use crate::media_codec::LegCodec;
use crate::media_fax::{FaxDetection, LegFax};
use crate::media_rtp::{Frame, Incoming, RtpLeg};
use crate::media_tones::TonePlayers;

/// Ticks between two status reports to the event loop.
pub const REPORT_EVERY: u64 = 100;
/// Missed ticks that are run back to back to catch up; beyond this they are skipped.
const CATCH_UP: u32 = 100;
/// Concurrent play or capture operations.
const SLOTS: usize = 16;
/// Lateness histogram: 10 µs buckets up to 5 ms, then one overflow bucket.
const BUCKET_US: u32 = 10;
const BUCKETS: usize = 501;

/// A request from the event loop.
// RTP frames travel inline: boxing them would allocate per packet on one side of the ring and
// free on the other, and the media thread must do neither. The rings are allocated once.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum MediaCmd {
    /// A line change on the simulated board.
    Sim(SimCommand),
    /// Test hook (`spangate run --test-hooks` only): the thread sleeps `ms` milliseconds, as a
    /// media thread stuck in a driver would, so that HA's health check can be proven end to end.
    /// Unused, it costs one match arm: no allocation, no lock.
    Stall { ms: u32 },
    /// Send `buf` (companded samples) on channel `ts` of the span at `node`, 8 per tick.
    Play { id: u64, node: usize, ts: u8, buf: Box<[u8]> },
    /// Fill `buf` with what arrives on channel `ts` of the span at `node`; with `clean`, with
    /// the echo canceller's output instead (the channel must have one).
    Capture { id: u64, node: usize, ts: u8, buf: Box<[u8]>, clean: bool },
    /// Join two bearer channels for a call between two TDM legs: from the next tick, what
    /// arrives on each (echo-cancelled where the channel has a canceller, converted between the
    /// spans' laws) is sent on the other.
    Connect { a: Endpoint, b: Endpoint },
    /// Undo a `Connect` of the same pair (in either order); both channels go back to idle.
    Disconnect { a: Endpoint, b: Endpoint },
    /// Join a bearer channel to SIP leg `id`'s RTP: `codec` (`media_codec`) both ways, `frame_ms`
    /// per packet, received packets played through `jb` (both lent; they come back in
    /// `RtpDetached`).
    RtpAttach { id: u32, ep: Endpoint, codec: Box<LegCodec>, frame_ms: u16, jb: Box<JitterBuffer> },
    /// SIP leg `id`'s payload changed (a re-INVITE): from the next tick it uses `codec` (lent)
    /// with `frame_ms` per packet; the old codec comes back in `RtpCodecFreed` (and `codec` itself
    /// when the leg is not attached).
    RtpCodec { id: u32, codec: Box<LegCodec>, frame_ms: u16 },
    /// Undo `RtpAttach`; the channel goes back to idle.
    RtpDetach { id: u32 },
    /// A packet received for leg `id`.
    RtpIn { id: u32, packet: Incoming },
    /// Run (or stop) the in-band DTMF receiver on leg `id`'s TDM side, muting digits in its RTP
    /// audio (`media_dtmf`): the digits go out of band.
    DtmfDetect { id: u32, on: bool },
    /// Play `digit` in band towards leg `id`'s channel: its start (`end: None`), or its end after
    /// `end` samples.
    DtmfPlay { id: u32, digit: char, end: Option<u32> },
    /// Send a call-progress tone on a bearer channel instead of what feeds it, or stop (`None`);
    /// `media_tones`.
    Tone { ep: Endpoint, tone: Option<&'static media_dsp::tones::Tone> },
    /// Send a call-progress tone in leg `id`'s RTP instead of its channel's audio, or stop
    /// (`None`); `media_rtp`.
    RtpTone { id: u32, tone: Option<&'static media_dsp::tones::Tone> },
}

/// A bearer channel of the board: the span at `node`, timeslot `ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub node: usize,
    pub ts: u8,
}

/// Cross-connections the thread holds at once: more than every bearer channel of the largest
/// board (8 E1 = 240 channels) can pair up, allocated before the loop.
pub const MAX_CROSS_CONNECTS: usize = 256;

/// A report to the event loop.
// As for `MediaCmd`: frames inline, no allocation per packet.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum MediaEvent {
    /// The state of the span at `node`.
    Span { node: usize, status: SpanStatus, sim: SimSpanStatus },
    /// The thread's own timing and the board clock.
    Timing(Timing),
    /// A play finished; the buffer comes back to be freed by the event loop.
    Played { id: u64, buf: Box<[u8]> },
    /// A capture is full.
    Captured { id: u64, buf: Box<[u8]> },
    /// A simulated-line command failed (unknown span...).
    Rejected { cmd: SimCommand },
    /// A `Connect` was refused: the table is full, or a channel is already connected.
    ConnectRefused { a: Endpoint, b: Endpoint },
    /// A frame for SIP leg `id` to send (the event loop adds the RTP header).
    RtpOut { id: u32, frame: Frame },
    /// Leg `id` is detached (or was refused); its jitter buffer and codec come back to be freed.
    RtpDetached { id: u32, jb: Box<JitterBuffer>, codec: Box<LegCodec> },
    /// A codec `RtpCodec` replaced (or one it could not place) comes back to be freed.
    RtpCodecFreed { id: u32, codec: Box<LegCodec> },
    /// An in-band digit's edge on SIP leg `id`'s TDM side.
    Dtmf { id: u32, digit: char, edge: crate::media_dtmf::DtmfEdge },
    /// The echo canceller of an active channel, with every report.
    Echo { node: usize, ts: u8, stats: Stats },
    /// SIP leg `id`'s fax watch heard a fax tone and switched the leg to fax mode (`media_fax`).
    Fax { id: u32, detection: FaxDetection },
}

/// Timing figures of the media thread, cumulative since start except `load`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    pub ticks: u64,
    pub late_ticks: u64,
    pub p50_us: u32,
    pub p99_us: u32,
    pub max_us: u32,
    /// Share of the last report period spent working.
    pub load: f32,
    pub sync: Option<u32>,
}

struct Slot {
    id: u64,
    node: usize,
    ts: u8,
    pos: usize,
    buf: Box<[u8]>,
    capture: bool,
    /// Capture the canceller's output rather than the line.
    clean: bool,
    /// The channel's canceller (index into `MediaThread::echo`), if it has one.
    echo: Option<usize>,
}

/// A bearer channel that gets an echo canceller: the span at `node`, timeslot `ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoChannel {
    pub node: usize,
    pub ts: u8,
    pub law: hal::Law,
    pub taps: usize,
    /// The span's `echo.nlp`.
    pub nlp: bool,
}

/// The channels of every span with `echo.mode = "software"`: each bearer channel of the board's
/// own spans (a simulated far end is the other side of the line, not ours to clean).
pub fn echo_plan(cfg: &provisioning::Config, world: &MediaBoard) -> Vec<EchoChannel> {
    let mut plan = Vec::new();
    for s in &cfg.board.spans {
        if s.echo.mode != provisioning::EchoMode::Software {
            continue;
        }
        let Some(node) = world.span_index(s.number) else { continue };
        for &ts in &s.hal.bchans {
            plan.push(EchoChannel { node, ts, law: s.hal.law, taps: usize::from(s.echo.taps), nlp: s.echo.nlp });
        }
    }
    plan
}

/// Two channels joined by a call, with what each side last sent toward the other.
struct CrossConnect {
    a: Endpoint,
    b: Endpoint,
    law_a: hal::Law,
    law_b: hal::Law,
    /// The channels' cancellers (indexes into `MediaThread::echo`), if they have one.
    echo_a: Option<usize>,
    echo_b: Option<usize>,
}

fn dsp_law(law: hal::Law) -> g711::Law {
    match law {
        hal::Law::Alaw => g711::Law::Alaw,
        hal::Law::Mulaw => g711::Law::Mulaw,
    }
}

/// One channel's canceller and the chunks around it.
struct ChanEcho {
    node: usize,
    ts: u8,
    law: g711::Law,
    ec: EchoCanceller,
    /// Play and capture operations on the channel: the canceller runs while any is active.
    users: u8,
    /// What was written to the span for this channel (the canceller's reference).
    tx: [u8; CHUNK],
    /// The last tick's cancelled chunk, re-encoded, and as it came out of the canceller (a SIP
    /// leg takes it linear, so it is not decoded again).
    clean: [u8; CHUNK],
    clean_pcm: [i16; CHUNK],
}

impl ChanEcho {
    fn new(c: EchoChannel) -> ChanEcho {
        let law = dsp_law(c.law);
        let ec = EchoCanceller::new(echo::Config { taps: c.taps, nlp: c.nlp, ..echo::Config::default() });
        let idle = c.law.idle_code();
        ChanEcho {
            node: c.node,
            ts: c.ts,
            law,
            ec,
            users: 0,
            tx: [idle; CHUNK],
            clean: [idle; CHUNK],
            clean_pcm: [0; CHUNK],
        }
    }

    /// One tick: `rx` arrived while `self.tx` left.
    fn process(&mut self, rx: &[u8; CHUNK]) {
        let (mut sin, mut rin) = ([0i16; CHUNK], [0i16; CHUNK]);
        g711::decode_chunk(self.law, rx, &mut sin);
        g711::decode_chunk(self.law, &self.tx, &mut rin);
        self.ec.process(&mut sin, &rin);
        g711::encode_chunk(self.law, &sin, &mut self.clean);
        self.clean_pcm = sin;
    }
}

/// Asks for SCHED_FIFO so compiler jobs or a busy HTTP client cannot delay the 1 ms tick, as
/// DAHDI's own timing runs in interrupt context. Runs once, before the loop (so logging is fine).
/// Without the privilege the thread keeps normal priority and says so.
fn realtime_priority() {
    use thread_priority::{
        set_thread_priority_and_policy, thread_native_id, RealtimeThreadSchedulePolicy, ThreadPriority,
        ThreadSchedulePolicy,
    };
    let policy = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
    let prio = ThreadPriority::Crossplatform(MEDIA_RT_PRIORITY.try_into().expect("priority within 0..=99"));
    match set_thread_priority_and_policy(thread_native_id(), prio, policy) {
        Ok(()) => log::info!("media thread runs SCHED_FIFO priority {MEDIA_RT_PRIORITY}"),
        Err(e) => log::info!("media thread runs at normal priority (SCHED_FIFO refused: {e:?})"),
    }
}

/// Real-time priority of the media thread: above ordinary work, below the kernel's own threads.
const MEDIA_RT_PRIORITY: u8 = 40;

/// Everything the media thread owns.
pub struct MediaThread {
    world: MediaBoard,
    cmds: Consumer<MediaCmd>,
    events: Producer<MediaEvent>,
    waker: Arc<mio::Waker>,
    stop: Arc<AtomicBool>,
    slots: [Option<Slot>; SLOTS],
    hist: [u64; BUCKETS],
    max_us: u32,
    late_ticks: u64,
    busy: Duration,
    window_start: Instant,
    nodes: usize,
    ours: usize,
    /// One canceller per channel of `echo_plan`, allocated before the loop.
    echo: Vec<ChanEcho>,
    /// Channels joined by calls; capacity `MAX_CROSS_CONNECTS`, reserved before the loop.
    cross: Vec<CrossConnect>,
    /// Channels joined to SIP legs' RTP; capacity `MAX_CROSS_CONNECTS`, reserved before the loop.
    rtp: Vec<RtpLeg>,
    /// Call-progress tones, written over whatever else feeds their channels.
    tones: TonePlayers,
    /// Each RTP leg's fax watch, at the leg's index in `rtp` (pushed and removed with it).
    fax: Vec<LegFax>,
}

impl MediaThread {
    /// Prepares the thread's state; `run` is called on the thread itself.
    pub fn new(
        world: MediaBoard,
        cmds: Consumer<MediaCmd>,
        events: Producer<MediaEvent>,
        waker: Arc<mio::Waker>,
        stop: Arc<AtomicBool>,
        echo: &[EchoChannel],
    ) -> MediaThread {
        let nodes = world.node_count();
        let ours = world.span_count();
        MediaThread {
            world,
            cmds,
            events,
            waker,
            stop,
            slots: Default::default(),
            hist: [0; BUCKETS],
            max_us: 0,
            late_ticks: 0,
            busy: Duration::ZERO,
            window_start: Instant::now(),
            nodes,
            ours,
            echo: echo.iter().map(|&c| ChanEcho::new(c)).collect(),
            cross: Vec::with_capacity(MAX_CROSS_CONNECTS),
            rtp: Vec::with_capacity(MAX_CROSS_CONNECTS),
            tones: TonePlayers::new(),
            fax: Vec::with_capacity(MAX_CROSS_CONNECTS),
        }
    }

    /// Runs until the stop flag is raised.
    pub fn run(mut self) {
        // The default 50 µs timer slack would add straight to every tick's lateness; 1 µs lets the
        // kernel wake us at the deadline. Failure only costs precision.
        let _ = nix::sys::prctl::set_timerslack(1_000);
        realtime_priority();
        // Relaxed is enough for the stop flag: it carries no data, and the join that follows
        // synchronises everything else.
        while !self.stop.load(Ordering::Relaxed) {
            let tick = match self.world.wait_tick() {
                Ok(t) => t,
                Err(_) => break,
            };
            let started = Instant::now();
            self.record_lateness(tick.lateness);
            if tick.missed > 0 {
                self.late_ticks += u64::from(tick.missed);
                self.world.note_missed_ticks(u64::from(tick.missed));
            }
            for _ in 0..=tick.missed.min(CATCH_UP) {
                self.one_tick();
            }
            if self.world.ticks() % REPORT_EVERY == 0 {
                self.report();
            }
            self.busy += started.elapsed();
        }
    }

    fn record_lateness(&mut self, lateness: Duration) {
        let us = u32::try_from(lateness.as_micros()).unwrap_or(u32::MAX);
        self.max_us = self.max_us.max(us);
        let b = usize::try_from(us / BUCKET_US).unwrap_or(BUCKETS - 1).min(BUCKETS - 1);
        self.hist[b] += 1;
    }

    fn percentile(&self, q: f64) -> u32 {
        let total: u64 = self.hist.iter().sum();
        if total == 0 {
            return 0;
        }
        // The rank fits easily: total is a tick count.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let rank = ((total as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.hist.iter().enumerate() {
            seen += n;
            if seen >= rank.max(1) {
                // Upper edge of the bucket: a conservative figure.
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                return if (i as usize) == BUCKETS - 1 { self.max_us } else { (i + 1) * BUCKET_US };
            }
        }
        self.max_us
    }

    fn one_tick(&mut self) {
        for _ in 0..32 {
            match self.cmds.pop() {
                Some(cmd) => self.command(cmd),
                None => break,
            }
        }
        for slot in self.slots.iter_mut().flatten() {
            if slot.capture || slot.pos >= slot.buf.len() {
                continue;
            }
            let mut chunk = [self.world.law(slot.node).idle_code(); CHUNK];
            let n = (slot.buf.len() - slot.pos).min(CHUNK);
            chunk[..n].copy_from_slice(&slot.buf[slot.pos..slot.pos + n]);
            slot.pos += n;
            // The event loop checked the channel before lending the buffer.
            self.world.write_chunk(slot.node, slot.ts, &chunk);
            if let Some(i) = slot.echo {
                self.echo[i].tx = chunk;
            }
        }
        self.forward_cross_connects();
        for (leg, fax) in self.rtp.iter_mut().zip(&mut self.fax) {
            let chunk = leg.next_chunk();
            fax.to_tdm = chunk;
            self.world.write_chunk(leg.node, leg.ts, &chunk);
            if let Some(i) = leg.echo {
                self.echo[i].tx = chunk;
            }
        }
        let (world, echo) = (&mut self.world, &mut self.echo);
        self.tones.tick(|ep, ec, chunk| {
            world.write_chunk(ep.node, ep.ts, chunk);
            if let Some(i) = ec {
                echo[i].tx = *chunk;
            }
        });
        self.world.tick();
        for e in self.echo.iter_mut().filter(|e| e.users > 0) {
            let rx = self.world.read_chunk(e.node, e.ts);
            e.process(&rx);
        }
        // One wake-up per tick for everything the legs produced, not one system call per frame.
        let mut produced = false;
        for leg in &mut self.rtp {
            // Linear once: the canceller's own output, or the line decoded here.
            let rx = match leg.echo {
                Some(i) => self.echo[i].clean_pcm,
                None => {
                    let mut pcm = [0i16; CHUNK];
                    g711::decode_chunk(leg.span_law, &self.world.read_chunk(leg.node, leg.ts), &mut pcm);
                    pcm
                }
            };
            let frame = leg.take_chunk(&rx);
            // A digit's start goes out before the frame it begins in, as its timestamp says.
            while let Some((digit, edge)) = leg.dtmf.tx.poll() {
                produced |= self.events.push(MediaEvent::Dtmf { id: leg.id, digit, edge }).is_ok();
            }
            if let Some(frame) = frame {
                // A full event ring drops the frame, as a congested network would.
                produced |= self.events.push(MediaEvent::RtpOut { id: leg.id, frame }).is_ok();
            }
        }
        produced |= self.watch_fax();
        if produced {
            let _ = self.waker.wake();
        }
        for slot in self.slots.iter_mut().flatten() {
            if !slot.capture || slot.pos >= slot.buf.len() {
                continue;
            }
            let chunk = match slot.echo {
                Some(i) if slot.clean => self.echo[i].clean,
                _ => self.world.read_chunk(slot.node, slot.ts),
            };
            let n = (slot.buf.len() - slot.pos).min(CHUNK);
            slot.buf[slot.pos..slot.pos + n].copy_from_slice(&chunk[..n]);
            slot.pos += n;
        }
        self.finish_slots();
    }

    /// Runs each RTP leg's fax watch on this tick's audio both ways (`media_fax`): on a tone the
    /// leg's canceller and jitter buffer go to fax mode here, and the event loop is told (now, or
    /// at a later tick if the event ring is full). Whether an event was pushed.
    fn watch_fax(&mut self) -> bool {
        let mut produced = false;
        for (leg, fax) in self.rtp.iter_mut().zip(&mut self.fax) {
            let rx = match leg.echo {
                Some(i) => self.echo[i].clean,
                None => self.world.read_chunk(leg.node, leg.ts),
            };
            let law = dsp_law(self.world.law(leg.node));
            let ec = leg.echo.map(|i| &mut self.echo[i].ec);
            let _ = fax.tick(law, &rx, &mut leg.jb, ec);
            if let Some(detection) = fax.unreported() {
                if self.events.push(MediaEvent::Fax { id: leg.id, detection }).is_ok() {
                    fax.reported();
                    produced = true;
                }
            }
        }
        produced
    }

    /// Sends on each joined channel what its partner received last tick: the canceller's output
    /// where the partner has one (so the far party never hears its own echo), the line
    /// otherwise. A canceller's reference is what is sent on its own channel.
    fn forward_cross_connects(&mut self) {
        for x in &self.cross {
            let heard = |world: &MediaBoard, echo: &[ChanEcho], at: Endpoint, ec: Option<usize>| match ec {
                Some(i) => echo[i].clean,
                None => world.read_chunk(at.node, at.ts),
            };
            let (law_a, law_b) = (dsp_law(x.law_a), dsp_law(x.law_b));
            let from_b = g711::transcode_chunk(law_b, law_a, &heard(&self.world, &self.echo, x.b, x.echo_b));
            let from_a = g711::transcode_chunk(law_a, law_b, &heard(&self.world, &self.echo, x.a, x.echo_a));
            self.world.write_chunk(x.a.node, x.a.ts, &from_b);
            self.world.write_chunk(x.b.node, x.b.ts, &from_a);
            if let Some(i) = x.echo_a {
                self.echo[i].tx = from_b;
            }
            if let Some(i) = x.echo_b {
                self.echo[i].tx = from_a;
            }
        }
    }

    fn connect(&mut self, a: Endpoint, b: Endpoint) {
        let joined = |e: Endpoint| self.cross.iter().any(|x| x.a == e || x.b == e);
        let valid = |e: Endpoint| e.node < self.nodes;
        if self.cross.len() == self.cross.capacity() || joined(a) || joined(b) || a == b || !valid(a) || !valid(b) {
            let _ = self.events.push(MediaEvent::ConnectRefused { a, b });
            let _ = self.waker.wake();
            return;
        }
        let echo_of = |e: Endpoint| self.echo.iter().position(|c| c.node == e.node && c.ts == e.ts);
        let (echo_a, echo_b) = (echo_of(a), echo_of(b));
        for i in [echo_a, echo_b].into_iter().flatten() {
            // A call is a new session for the canceller, as in `start`.
            if self.echo[i].users == 0 {
                self.echo[i].ec.reset();
            }
            self.echo[i].users += 1;
        }
        let law = |e: Endpoint| self.world.law(e.node);
        let (law_a, law_b) = (law(a), law(b));
        // Within the capacity reserved in `new`: no allocation.
        self.cross.push(CrossConnect { a, b, law_a, law_b, echo_a, echo_b });
    }

    fn disconnect(&mut self, a: Endpoint, b: Endpoint) {
        let Some(i) = self.cross.iter().position(|x| (x.a, x.b) == (a, b) || (x.a, x.b) == (b, a)) else { return };
        let x = self.cross.swap_remove(i);
        for (e, ec) in [(x.a, x.echo_a), (x.b, x.echo_b)] {
            let idle = [self.world.law(e.node).idle_code(); CHUNK];
            self.world.write_chunk(e.node, e.ts, &idle);
            if let Some(i) = ec {
                self.echo[i].tx = idle;
                self.echo[i].users -= 1;
            }
        }
    }

    fn finish_slots(&mut self) {
        for i in 0..SLOTS {
            let done = matches!(&self.slots[i], Some(s) if s.pos >= s.buf.len());
            if !done || self.events.free() == 0 {
                continue;
            }
            let Some(slot) = self.slots[i].take() else { continue };
            if !slot.capture {
                let idle = [self.world.law(slot.node).idle_code(); CHUNK];
                self.world.write_chunk(slot.node, slot.ts, &idle);
                if let Some(e) = slot.echo {
                    self.echo[e].tx = idle;
                }
            }
            if let Some(e) = slot.echo {
                self.echo[e].users -= 1;
            }
            let ev = if slot.capture {
                MediaEvent::Captured { id: slot.id, buf: slot.buf }
            } else {
                MediaEvent::Played { id: slot.id, buf: slot.buf }
            };
            // free() > 0 was checked and this thread is the only producer, so this succeeds.
            let _ = self.events.push(ev);
            let _ = self.waker.wake();
        }
    }

    fn command(&mut self, cmd: MediaCmd) {
        match cmd {
            // A sleep neither allocates nor locks; the event loop only sends this with test hooks on.
            MediaCmd::Stall { ms } => std::thread::sleep(Duration::from_millis(u64::from(ms))),
            MediaCmd::Sim(c) => {
                if self.world.apply(c).is_err() {
                    let _ = self.events.push(MediaEvent::Rejected { cmd: c });
                    let _ = self.waker.wake();
                }
            }
            MediaCmd::Play { id, node, buf, .. } | MediaCmd::Capture { id, node, buf, .. } if node >= self.nodes => {
                // The event loop validated the target; a bad one is handed straight back.
                let _ = self.events.push(MediaEvent::Played { id, buf });
            }
            MediaCmd::Play { id, node, ts, buf } => {
                self.start(Slot { id, node, ts, pos: 0, buf, capture: false, clean: false, echo: None });
            }
            MediaCmd::Capture { id, node, ts, buf, clean } => {
                self.start(Slot { id, node, ts, pos: 0, buf, capture: true, clean, echo: None });
            }
            MediaCmd::Connect { a, b } => self.connect(a, b),
            MediaCmd::Disconnect { a, b } => self.disconnect(a, b),
            MediaCmd::RtpAttach { id, ep, codec, frame_ms, jb } => {
                let joined = self.cross.iter().any(|x| x.a == ep || x.b == ep)
                    || self.rtp.iter().any(|l| l.id == id || (l.node, l.ts) == (ep.node, ep.ts));
                if joined || ep.node >= self.nodes || self.rtp.len() == self.rtp.capacity() {
                    let _ = self.events.push(MediaEvent::RtpDetached { id, jb, codec });
                    let _ = self.waker.wake();
                    return;
                }
                let span_law = dsp_law(self.world.law(ep.node));
                let mut leg = RtpLeg::new(id, ep.node, ep.ts, span_law, codec, frame_ms, jb);
                leg.echo = self.echo.iter().position(|c| c.node == ep.node && c.ts == ep.ts);
                if let Some(i) = leg.echo {
                    if self.echo[i].users == 0 {
                        self.echo[i].ec.reset();
                    }
                    self.echo[i].users += 1;
                }
                // Within the capacity reserved in `new`: no allocation.
                self.rtp.push(leg);
                self.fax.push(LegFax::new(span_law.encode(0)));
            }
            MediaCmd::RtpDetach { id } => {
                let Some(i) = self.rtp.iter().position(|l| l.id == id) else { return };
                let leg = self.rtp.swap_remove(i);
                self.fax.swap_remove(i);
                let idle = [self.world.law(leg.node).idle_code(); CHUNK];
                self.world.write_chunk(leg.node, leg.ts, &idle);
                if let Some(e) = leg.echo {
                    self.echo[e].tx = idle;
                    self.echo[e].users -= 1;
                }
                let _ = self.events.push(MediaEvent::RtpDetached { id, jb: leg.jb, codec: leg.codec });
                let _ = self.waker.wake();
            }
            MediaCmd::RtpCodec { id, codec, frame_ms } => {
                let old = match self.rtp.iter_mut().find(|l| l.id == id) {
                    Some(leg) => leg.replace_codec(codec, frame_ms),
                    None => codec,
                };
                let _ = self.events.push(MediaEvent::RtpCodecFreed { id, codec: old });
                let _ = self.waker.wake();
            }
            MediaCmd::RtpIn { id, packet } => {
                if let Some(leg) = self.rtp.iter_mut().find(|l| l.id == id) {
                    leg.receive(&packet);
                }
            }
            MediaCmd::DtmfDetect { id, on } => {
                if let Some(leg) = self.rtp.iter_mut().find(|l| l.id == id) {
                    leg.dtmf.detect = on;
                }
            }
            MediaCmd::Tone { ep, tone } if ep.node < self.nodes => {
                let law = dsp_law(self.world.law(ep.node));
                let ec = self.echo.iter().position(|c| c.node == ep.node && c.ts == ep.ts);
                if self.tones.set(ep, law, ec, tone) {
                    // Quiet again; a cross-connect or RTP leg on the channel writes over this.
                    let idle = [self.world.law(ep.node).idle_code(); CHUNK];
                    self.world.write_chunk(ep.node, ep.ts, &idle);
                    if let Some(i) = ec {
                        self.echo[i].tx = idle;
                    }
                }
            }
            MediaCmd::Tone { .. } => {}
            MediaCmd::RtpTone { id, tone } => {
                if let Some(leg) = self.rtp.iter_mut().find(|l| l.id == id) {
                    leg.tone = tone.map(media_dsp::tones::ToneGenerator::new);
                }
            }
            MediaCmd::DtmfPlay { id, digit, end } => {
                if let Some(leg) = self.rtp.iter_mut().find(|l| l.id == id) {
                    match end {
                        None => leg.dtmf.player.start(digit),
                        Some(samples) => leg.dtmf.player.end(digit, samples),
                    }
                }
            }
        }
    }

    fn start(&mut self, mut slot: Slot) {
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(free) => {
                slot.echo = self.echo.iter().position(|e| e.node == slot.node && e.ts == slot.ts);
                if let Some(e) = slot.echo.map(|i| &mut self.echo[i]) {
                    // A channel taken into use starts a new session: nothing learned on the last
                    // one (another call, another echo path) carries over.
                    if e.users == 0 {
                        e.ec.reset();
                    }
                    e.users += 1;
                }
                *free = Some(slot);
            }
            None => {
                // No free slot: give it back at once as finished-with-nothing-done.
                let ev = if slot.capture {
                    MediaEvent::Captured { id: slot.id, buf: slot.buf }
                } else {
                    MediaEvent::Played { id: slot.id, buf: slot.buf }
                };
                let _ = self.events.push(ev);
            }
        }
    }

    fn report(&mut self) {
        let active = self.echo.iter().filter(|e| e.users > 0).count();
        if self.events.free() < self.ours + 1 + active {
            return;
        }
        for node in 0..self.ours {
            let (status, sim) = self.world.status(node);
            let _ = self.events.push(MediaEvent::Span { node, status, sim });
        }
        let now = Instant::now();
        let window = now - self.window_start;
        // A share between 0 and 1: f32 is plenty.
        #[allow(clippy::cast_possible_truncation)]
        let load = if window.is_zero() { 0.0 } else { (self.busy.as_secs_f64() / window.as_secs_f64()) as f32 };
        self.window_start = now;
        self.busy = Duration::ZERO;
        let sync = match self.world.sync_source() {
            SyncSource::Internal => None,
            SyncSource::Span(n) => Some(n),
        };
        let timing = Timing {
            ticks: self.world.ticks(),
            late_ticks: self.late_ticks,
            p50_us: self.percentile(0.5),
            p99_us: self.percentile(0.99),
            max_us: self.max_us,
            load,
            sync,
        };
        let _ = self.events.push(MediaEvent::Timing(timing));
        for e in self.echo.iter().filter(|e| e.users > 0) {
            let _ = self.events.push(MediaEvent::Echo { node: e.node, ts: e.ts, stats: e.ec.stats() });
        }
        let _ = self.waker.wake();
    }
}
