//! The adaptive bounded jitter buffer of one received RTP stream, owned by the media thread.
//!
//! The event loop parses RTP and hands (SSRC, sequence number, timestamp, marker, payload) to the
//! media thread, which calls [`JitterBuffer::push`] as packets come and [`JitterBuffer::pop`] once per
//! frame period (the negotiated ptime). `pop` answers with the frame whose turn it is, with
//! [`Playout::Missing`] (run packet loss concealment for one frame) or with [`Playout::Empty`]
//! (nothing to play: not started yet, or a silence; play comfort noise). Both calls take `now`, the
//! media thread's sample clock in RTP timestamp units (8 per ms for every codec we carry: G.711,
//! G.729 and, by RFC 3551's famous exception, G.722), because the buffer reads no clock.
//!
//! Every slot, and every payload byte, is allocated in [`JitterBuffer::new`]; `push` and `pop` only
//! index into those arrays, so the real-time thread never allocates or locks (tests/jitter.rs
//! proves it with a counting allocator).
//!
//! # How playout time is chosen
//! A packet with timestamp `T` arriving at `A` has the *transit* `A - T` (RFC 3550 §6.4.1; the
//! constant clock offset between the two ends cancels out of every difference below). The buffer
//! plays the frame with timestamp `play_ts` at the pop at time `now`, so every frame waits
//! `lag - transit` where `lag = now - play_ts`. With `floor` the smallest transit recently seen
//! (a windowed minimum, so a route that becomes longer is learned) and `target` the delay the
//! buffer aims for, a packet is in time when `lag >= floor + target`: `target` must cover the
//! spread of transits above the floor. The spread is tracked by a peak detector that follows a
//! larger spread at once and decays slowly (a time constant of 512 packets, about ten seconds of
//! 20 ms frames) and is clamped to the configured `[min, max]`; RFC 3550's interarrival jitter
//! `J` is computed too and reported, since it is what RTCP and the status page show.
//!
//! The buffer grows fast and shrinks slowly: when `lag` is below the goal it stretches (one
//! [`Playout::Missing`] without advancing), and it shrinks either at the start of a talkspurt
//! (marker bit after a silence: the silence is simply shortened) or by dropping one frame, at most
//! once per `shrink_interval` pops, when the lag exceeds the goal by more than one and a half
//! frames. In [`Mode::Fixed`] (fax and modem passthrough) the target is a constant, the floor is
//! frozen and a missing frame is skipped rather than stretched, so the delay never moves after the
//! first adjustment.
//!
//! # What is counted
//! Reordered packets are put in place by sequence number (extended across the 16-bit wrap);
//! duplicates, late packets (behind the frame being played) and packets beyond the capacity (the
//! oldest buffered frames are dropped to make room) are counted in [`Stats`]. A new SSRC, a
//! transit jump larger than [`RESYNC_TRANSIT`] (the sender restarted its timestamps) or two
//! consecutive packets far out of sequence (RFC 3550 Appendix A.1's restart rule) resynchronise:
//! the buffer is cleared and playout re-anchors on the new stream.

/// Sequence distance ahead of the highest packet seen beyond which a packet is a suspected
/// restart, as `MAX_DROPOUT` in RFC 3550 Appendix A.1.
pub const MAX_DROPOUT: i64 = 3000;
/// Sequence distance behind beyond which a packet is a suspected restart (`MAX_MISORDER`).
pub const MAX_MISORDER: i64 = 100;
/// A transit change this large (2 s at 8 kHz) is a timestamp jump of the sender, not jitter.
pub const RESYNC_TRANSIT: i64 = 16_000;
/// Samples of RTP clock per millisecond for every codec we carry.
pub const CLOCK_PER_MS: u32 = 8;
/// Packets per window of the transit floor's two-window minimum.
const FLOOR_WINDOW: u32 = 256;
/// Shift of the peak detector's decay: it loses 1/512 of its excess per packet.
const PEAK_DECAY_SHIFT: u32 = 9;

/// Sizes and limits, fixed at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Frame period (the ptime) in ms; `pop` is called once per frame period.
    pub frame_ms: u32,
    /// Lowest target delay in adaptive mode, in ms.
    pub min_delay_ms: u32,
    /// Highest target delay in adaptive mode, in ms.
    pub max_delay_ms: u32,
    /// Number of packet slots; a burst beyond it drops the oldest frames.
    pub slots: usize,
    /// Largest payload stored, in bytes (480 holds 60 ms of G.711).
    pub max_payload: usize,
    /// Pops between two one-frame shrinks of the delay.
    pub shrink_interval: u32,
    /// Consecutive underruns answered with `Missing` (concealment) before `Empty` (silence).
    pub plc_frames: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            frame_ms: 20,
            min_delay_ms: 20,
            max_delay_ms: 200,
            slots: 32,
            max_payload: 480,
            shrink_interval: 25,
            plc_frames: 3,
        }
    }
}

/// Adaptive (the default) or fixed delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Adaptive,
    /// A constant delay in ms, for fax and modem passthrough where any timing change hurts.
    Fixed {
        delay_ms: u32,
    },
}

/// One received packet's header fields, as the event loop parsed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub marker: bool,
}

/// What `push` did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    Stored,
    Duplicate,
    /// Behind the frame being played; dropped.
    Late,
    /// Payload larger than the slot; dropped.
    TooLong,
    /// Far out of sequence; kept aside as a possible restart, dropped.
    Suspect,
    /// Stored after clearing the buffer for a new stream.
    Resynced,
}

/// What to play for this frame period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout {
    /// The next frame: its payload is in `out[..len]`.
    Frame { seq: u16, ts: u32, marker: bool, len: usize },
    /// A frame is missing (lost, or the buffer stretches): conceal one frame.
    Missing,
    /// Nothing to play: before the start, or in a silence. Play comfort noise.
    Empty,
}

/// Counters and current values for the status page and RTCP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub received: u64,
    pub late: u64,
    /// Frames played as missing while later frames were there (lost, or skipped in fixed mode).
    pub lost: u64,
    pub duplicate: u64,
    /// Frames dropped because a burst exceeded the capacity.
    pub overflow: u64,
    pub too_long: u64,
    pub resyncs: u64,
    /// Frames inserted to grow the delay, or played as missing in an underrun.
    pub stretched: u64,
    /// Frames dropped to shrink the delay.
    pub shrunk: u64,
    /// RFC 3550 interarrival jitter, in RTP timestamp units.
    pub jitter: u32,
    /// Delay of the earliest packets from arrival to playout, in ms.
    pub current_delay_ms: u32,
    pub target_delay_ms: u32,
    pub buffered: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    used: bool,
    seq: i64,
    ts: u32,
    marker: bool,
    len: usize,
}

/// The jitter buffer. See the module documentation.
#[derive(Debug)]
pub struct JitterBuffer {
    cfg: Config,
    mode: Mode,
    slots: Vec<Slot>,
    data: Vec<u8>,
    frame_ts: u32,
    /// Whether any packet of the current stream has been accepted.
    synced: bool,
    ssrc: u32,
    /// Extended sequence number of the highest packet accepted.
    highest: i64,
    /// Extended sequence number of the next frame to play.
    next_seq: i64,
    playing: bool,
    /// Whether playout has started on this stream (a packet behind `next_seq` is then late).
    played: bool,
    /// Timestamp of the next frame to play (valid while playing).
    play_ts: u32,
    buffered: u32,
    underruns: u32,
    pops_since_shrink: u32,
    /// A far out-of-sequence packet kept as a possible restart: (seq, ssrc).
    suspect: Option<(u16, u32)>,
    /// Jitter state (RFC 3550 Appendix A.8): the last transit and the jitter scaled by 16.
    last_transit: Option<u32>,
    jitter_q4: u32,
    /// Two-window minimum of the transit.
    floor_cur: Option<u32>,
    floor_prev: Option<u32>,
    floor_count: u32,
    /// The floor frozen when fixed mode began; the goal uses it instead of the live floor.
    fixed_floor: Option<u32>,
    /// Peak of `transit - floor`, in RTP units scaled by 256 so that the slow decay does not
    /// stall on integer rounding.
    peak_q8: u64,
    target: u32,
    stats: Stats,
}

/// Signed difference `a - b` of two wrapping 32-bit clocks.
fn wdiff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

/// The smaller of two wrapping transits.
fn wmin(a: u32, b: u32) -> u32 {
    if wdiff(a, b) < 0 {
        a
    } else {
        b
    }
}

impl JitterBuffer {
    /// Allocates every slot and payload byte the buffer will ever use.
    pub fn new(cfg: Config) -> Self {
        let cfg = Config {
            frame_ms: cfg.frame_ms.max(1),
            slots: cfg.slots.max(2),
            max_delay_ms: cfg.max_delay_ms.max(cfg.min_delay_ms),
            ..cfg
        };
        let frame_ts = cfg.frame_ms * CLOCK_PER_MS;
        JitterBuffer {
            mode: Mode::Adaptive,
            slots: vec![Slot::default(); cfg.slots],
            data: vec![0; cfg.slots * cfg.max_payload],
            frame_ts,
            synced: false,
            ssrc: 0,
            highest: 0,
            next_seq: 0,
            playing: false,
            played: false,
            play_ts: 0,
            buffered: 0,
            underruns: 0,
            pops_since_shrink: 0,
            suspect: None,
            last_transit: None,
            jitter_q4: 0,
            floor_cur: None,
            floor_prev: None,
            floor_count: 0,
            fixed_floor: None,
            peak_q8: 0,
            target: cfg.min_delay_ms * CLOCK_PER_MS,
            stats: Stats::default(),
            cfg,
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Switches mode at run time (the fax detector asks for `Fixed`). The floor is frozen and the
    /// lag moves to the fixed target at the next pops, then never again.
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        self.fixed_floor = self.floor();
        self.target = match mode {
            Mode::Fixed { delay_ms } => delay_ms.min(self.cfg.slots_ms(self.frame_ts)) * CLOCK_PER_MS,
            Mode::Adaptive => self.adaptive_target(),
        };
    }

    /// Changes the frame period (a re-INVITE renegotiated the ptime; `pop` is now called once per
    /// `frame_ms`). The frames held were cut to the old period, so the stream starts anew with the
    /// next packet, as after [`JitterBuffer::reset`]; the counters and the learned target stay.
    /// Allocates nothing: it may run on the media thread.
    pub fn set_frame_ms(&mut self, frame_ms: u32) {
        let frame_ms = frame_ms.max(1);
        if frame_ms == self.cfg.frame_ms {
            return;
        }
        self.cfg.frame_ms = frame_ms;
        self.frame_ts = frame_ms * CLOCK_PER_MS;
        self.reset();
        if let Mode::Fixed { delay_ms } = self.mode {
            self.target = delay_ms.min(self.cfg.slots_ms(self.frame_ts)) * CLOCK_PER_MS;
        }
    }

    /// The counters and current values.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.jitter = self.jitter_q4 >> 4;
        s.target_delay_ms = self.target / CLOCK_PER_MS;
        s.buffered = self.buffered;
        s
    }

    /// The target delay in ms.
    pub fn target_delay_ms(&self) -> u32 {
        self.target / CLOCK_PER_MS
    }

    /// Forgets the stream (not the counters, nor the learned target) so that the next packet
    /// starts a new one.
    pub fn reset(&mut self) {
        for s in &mut self.slots {
            s.used = false;
        }
        self.synced = false;
        self.playing = false;
        self.buffered = 0;
        self.underruns = 0;
        self.suspect = None;
        self.last_transit = None;
        self.floor_cur = None;
        self.floor_prev = None;
        self.floor_count = 0;
        self.fixed_floor = None;
    }

    fn floor(&self) -> Option<u32> {
        match (self.floor_cur, self.floor_prev) {
            (Some(a), Some(b)) => Some(wmin(a, b)),
            (a, b) => a.or(b),
        }
    }

    fn adaptive_target(&self) -> u32 {
        let peak = u32::try_from(self.peak_q8 >> 8).unwrap_or(u32::MAX);
        peak.clamp(self.cfg.min_delay_ms * CLOCK_PER_MS, self.cfg.max_delay_ms * CLOCK_PER_MS)
    }

    fn index(&self, seq: i64) -> usize {
        // rem_euclid of a positive modulus is in 0..slots, so the cast cannot lose anything.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = seq.rem_euclid(self.slots.len() as i64) as usize;
        i
    }

    /// Stores one received packet. `now` is the media thread's clock in RTP timestamp units.
    pub fn push(&mut self, now: u32, pkt: Arrival, payload: &[u8]) -> Push {
        self.stats.received += 1;
        if payload.len() > self.cfg.max_payload {
            self.stats.too_long += 1;
            return Push::TooLong;
        }
        let mut resynced = false;
        if !self.synced || pkt.ssrc != self.ssrc {
            resynced = self.synced;
            self.start_stream(pkt);
        }
        let delta = i64::from(pkt.seq.wrapping_sub(self.highest_u16()) as i16);
        let ext = self.highest + delta;
        if !(-MAX_MISORDER..=MAX_DROPOUT).contains(&delta) {
            // RFC 3550 A.1: a lone packet far away is dropped; if the next one follows it, the
            // sender restarted and we follow.
            if self.suspect == Some((pkt.seq.wrapping_sub(1), pkt.ssrc)) {
                self.reset();
                self.stats.resyncs += 1;
                self.start_stream(pkt);
                return self.store(now, pkt, self.highest, payload, true);
            }
            self.suspect = Some((pkt.seq, pkt.ssrc));
            return Push::Suspect;
        }
        self.suspect = None;
        let transit = now.wrapping_sub(pkt.ts);
        if let Some(floor) = self.floor() {
            if wdiff(transit, floor).abs() > RESYNC_TRANSIT {
                self.reset();
                self.stats.resyncs += 1;
                self.start_stream(pkt);
                return self.store(now, pkt, self.highest, payload, true);
            }
        }
        self.store(now, pkt, ext, payload, resynced)
    }

    fn highest_u16(&self) -> u16 {
        // The low 16 bits of the extended number are the wire sequence number.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let s = self.highest as u16;
        s
    }

    fn start_stream(&mut self, pkt: Arrival) {
        if self.synced {
            self.reset();
            self.stats.resyncs += 1;
        }
        self.synced = true;
        self.ssrc = pkt.ssrc;
        // Extended numbers start one cycle up so that reordered packets before the first stay
        // positive.
        self.highest = (1 << 16) + i64::from(pkt.seq);
        self.next_seq = self.highest;
        self.playing = false;
        self.played = false;
    }

    fn store(&mut self, now: u32, pkt: Arrival, ext: i64, payload: &[u8], resynced: bool) -> Push {
        if ext < self.next_seq {
            if self.played {
                self.stats.late += 1;
                return Push::Late;
            }
            // Not yet playing: an earlier packet that came second is the new start, if it fits.
            if self.highest - ext >= self.slots.len() as i64 {
                self.stats.late += 1;
                return Push::Late;
            }
            self.next_seq = ext;
        }
        let i = self.index(ext);
        if self.slots[i].used && self.slots[i].seq == ext {
            self.stats.duplicate += 1;
            return Push::Duplicate;
        }
        let cap = self.slots.len() as i64;
        if ext - self.next_seq >= cap {
            // A burst beyond the capacity: drop the oldest frames to make room, then re-anchor
            // playout on what is left.
            let new_next = ext - cap + 1;
            let mut s = self.next_seq;
            let stop = new_next.min(self.next_seq + cap);
            while s < stop {
                let j = self.index(s);
                if self.slots[j].used && self.slots[j].seq == s {
                    self.slots[j].used = false;
                    self.buffered -= 1;
                    self.stats.overflow += 1;
                }
                s += 1;
            }
            self.next_seq = new_next;
            self.playing = false;
        }
        let i = self.index(ext);
        if self.slots[i].used {
            // Only a stale frame can still sit here; it is older than anything playable.
            self.buffered -= 1;
        }
        let off = i * self.cfg.max_payload;
        self.data[off..off + payload.len()].copy_from_slice(payload);
        self.slots[i] = Slot { used: true, seq: ext, ts: pkt.ts, marker: pkt.marker, len: payload.len() };
        self.buffered += 1;
        if ext > self.highest {
            self.highest = ext;
        }
        self.measure(now, pkt.ts);
        if resynced {
            Push::Resynced
        } else {
            Push::Stored
        }
    }

    /// Updates the interarrival jitter, the transit floor and the peak spread.
    fn measure(&mut self, now: u32, ts: u32) {
        let transit = now.wrapping_sub(ts);
        if let Some(last) = self.last_transit {
            // RFC 3550 A.8: J += (|D| - J) / 16, kept scaled by 16 in an integer.
            let d = u32::try_from(wdiff(transit, last).unsigned_abs()).unwrap_or(u32::MAX);
            self.jitter_q4 = self.jitter_q4.saturating_add(d).saturating_sub((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
        self.floor_cur = Some(self.floor_cur.map_or(transit, |f| wmin(f, transit)));
        self.floor_count += 1;
        if self.floor_count >= FLOOR_WINDOW {
            self.floor_prev = self.floor_cur.take();
            self.floor_count = 0;
        }
        let Some(floor) = self.floor() else { return };
        let spread = wdiff(transit, floor).unsigned_abs() << 8;
        if spread > self.peak_q8 {
            self.peak_q8 = spread;
        } else {
            self.peak_q8 -= (self.peak_q8 - spread) >> PEAK_DECAY_SHIFT;
        }
        if self.mode == Mode::Adaptive {
            self.target = self.adaptive_target();
        } else if self.fixed_floor.is_none() {
            self.fixed_floor = Some(floor);
        }
    }

    /// Plays one frame period: copies the frame due now into `out` (at least `max_payload` long
    /// to be sure to hold any frame; a shorter `out` gets the frame truncated).
    pub fn pop(&mut self, now: u32, out: &mut [u8]) -> Playout {
        let r = self.pop_inner(now, out);
        if self.playing {
            // The delay the next frame will have when it plays at the next pop.
            let next_pop = now.wrapping_add(self.frame_ts);
            let d = (self.excess(next_pop, self.play_ts) + i64::from(self.target)).max(0) / i64::from(CLOCK_PER_MS);
            self.stats.current_delay_ms = u32::try_from(d).unwrap_or(u32::MAX);
        }
        r
    }

    /// How far the lag of playing `ts` at `now` exceeds the goal `floor + target` (negative: the
    /// latest packets would come too late). All in wrapping arithmetic, since the transit holds the
    /// arbitrary offset between the two clocks.
    fn excess(&self, now: u32, ts: u32) -> i64 {
        let lag = now.wrapping_sub(ts);
        let live = if self.mode == Mode::Adaptive { self.floor() } else { self.fixed_floor };
        let floor = live.unwrap_or(lag);
        wdiff(lag, floor) - i64::from(self.target)
    }

    fn pop_inner(&mut self, now: u32, out: &mut [u8]) -> Playout {
        self.pops_since_shrink = self.pops_since_shrink.saturating_add(1);
        let fixed = matches!(self.mode, Mode::Fixed { .. });
        let frame = i64::from(self.frame_ts);
        if !self.playing {
            // Idle: anchor on the earliest buffered packet once it has waited long enough.
            let Some(seq) = self.first_buffered() else { return Playout::Empty };
            self.next_seq = seq;
            let ts = self.slots[self.index(seq)].ts;
            if self.excess(now, ts) < 0 {
                return Playout::Empty;
            }
            self.playing = true;
            self.played = true;
            self.play_ts = ts;
            self.underruns = 0;
            self.pops_since_shrink = 0;
        }
        let excess = self.excess(now, self.play_ts);
        if excess < 0 && (!fixed || -excess >= frame / 2) {
            // Grow at once: one concealed frame, playout stays where it is.
            self.stats.stretched += 1;
            return Playout::Missing;
        }
        let next_here = self.slots[self.index(self.next_seq)].used;
        if excess >= frame + frame / 2 && next_here && (fixed || self.pops_since_shrink >= self.cfg.shrink_interval) {
            self.pops_since_shrink = 0;
            self.stats.shrunk += 1;
            self.discard_next();
        }
        let i = self.index(self.next_seq);
        let slot = self.slots[i];
        if slot.used && slot.seq == self.next_seq {
            let ahead = wdiff(slot.ts, self.play_ts);
            if ahead >= frame / 2 {
                if slot.marker && !fixed {
                    // A talkspurt after a silence: re-anchor, which shortens the silence when
                    // the buffer had grown.
                    if self.excess(now, slot.ts) < 0 {
                        return Playout::Empty;
                    }
                    self.play_ts = slot.ts;
                } else if ahead > RESYNC_TRANSIT {
                    self.playing = false;
                    return Playout::Empty;
                } else {
                    // The sender skipped time: conceal it frame by frame.
                    self.play_ts = self.play_ts.wrapping_add(self.frame_ts);
                    return Playout::Missing;
                }
            }
            self.slots[i].used = false;
            self.buffered -= 1;
            self.next_seq += 1;
            self.underruns = 0;
            self.play_ts = slot.ts.wrapping_add(self.frame_ts);
            let n = slot.len.min(out.len());
            let off = i * self.cfg.max_payload;
            out[..n].copy_from_slice(&self.data[off..off + n]);
            return Playout::Frame { seq: self.seq_u16(slot.seq), ts: slot.ts, marker: slot.marker, len: n };
        }
        if self.buffered > 0 || fixed {
            // Later frames are here (or the delay is fixed): this one is lost; skip it.
            self.stats.lost += u64::from(self.buffered > 0);
            self.next_seq += 1;
            self.play_ts = self.play_ts.wrapping_add(self.frame_ts);
            self.underruns += 1;
            if self.buffered == 0 && self.underruns > self.cfg.plc_frames {
                self.playing = false;
                return Playout::Empty;
            }
            return Playout::Missing;
        }
        // Underrun in adaptive mode: the next frame may only be late, so wait for it.
        self.underruns += 1;
        self.stats.stretched += 1;
        if self.underruns > self.cfg.plc_frames {
            self.playing = false;
            return Playout::Empty;
        }
        Playout::Missing
    }

    fn seq_u16(&self, ext: i64) -> u16 {
        // The low 16 bits of the extended number are the wire sequence number.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let s = ext as u16;
        s
    }

    fn discard_next(&mut self) {
        let i = self.index(self.next_seq);
        if self.slots[i].used && self.slots[i].seq == self.next_seq {
            self.slots[i].used = false;
            self.buffered -= 1;
        }
        self.next_seq += 1;
        self.play_ts = self.play_ts.wrapping_add(self.frame_ts);
    }

    fn first_buffered(&self) -> Option<i64> {
        if self.buffered == 0 {
            return None;
        }
        (self.next_seq..=self.highest).find(|&s| {
            let slot = &self.slots[self.index(s)];
            slot.used && slot.seq == s
        })
    }
}

impl Config {
    /// The longest delay the slots can hold, in ms.
    fn slots_ms(&self, frame_ts: u32) -> u32 {
        let slots = u32::try_from(self.slots).unwrap_or(u32::MAX);
        slots.saturating_sub(1).saturating_mul(frame_ts) / CLOCK_PER_MS
    }
}
