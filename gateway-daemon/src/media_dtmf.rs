//! DTMF across the TDM/SIP boundary, on the media thread: the in-band receiver on a SIP leg's
//! TDM side with the tone removed from the RTP audio ([`DtmfTx`]), and the in-band sender that
//! plays digits received as RFC 4733 events or SIP INFO towards TDM ([`DtmfPlayer`]).
//!
//! # TDM -> SIP: detection and muting
//! The receiver (`media_dsp::dtmf::Detector`) works on 13 ms blocks and reports a digit's start
//! two blocks after the first block the tone fills, so up to three blocks (312 samples) after the
//! tone really began; its start time is the first sample of that full block, so the tone began up
//! to one block earlier. To keep every sample of the tone out of the RTP audio, the audio towards
//! RTP goes through a delay line of [`DELAY`] samples (40 ms, more than those 312), and an output
//! sample is replaced by silence when its input time falls in a muted window: from one block before
//! the reported start to one block after the reported end (the end is the sample after the last
//! full block holding the digit, and the tone may last up to one block more). While the digit is
//! still under way the window stays open, so the tail is muted even though the end is reported
//! three blocks late. The cost is 40 ms of added latency on that direction, paid only on legs where
//! digits are sent out of band (`dtmf = "rfc4733"` with telephone-event negotiated, or `"info"`).
//! A digit that begins while the leg's own player sends one towards TDM (or in the 40 ms pause
//! after it) is taken for that tone's echo: muted, not reported.
//!
//! Each edge goes to the event loop as a [`DtmfEdge`]: a start carries the offset in samples of the
//! muted window's first sample from the first sample of the RTP frame being built, so the RFC 4733
//! event timestamp is that frame's timestamp plus the offset (RFC 4733 §2.5.1.1: the event's
//! timestamp is the instant the tone began); an end carries the estimated duration.
//!
//! # SIP -> TDM: playing
//! | State | Event                 | Action                                          | Next  |
//! |-------|-----------------------|-------------------------------------------------|-------|
//! | Idle  | start(d)              | tone d replaces the RTP audio                   | Tone  |
//! | Tone  | end(d, duration)      | keep the tone until max(duration, 40 ms)        | Tone  |
//! | Tone  | played >= that length | silence of the RTP audio kept for 40 ms         | Gap   |
//! | Tone  | start(other) / end(other) | queued (a digit may start before the gap ends) | Tone  |
//! | Gap   | 40 ms elapsed         | the next queued digit, if any                   | Tone / Idle |
//!
//! The tones are the Q.23 pair at the levels of `media_dsp::dtmf::GeneratorConfig::default()`
//! (-10 dBm0 low group, -8 dBm0 high group). The 40 ms minimum of tone and of pause is what every
//! receiver must accept (reference/dsp.md §7), so a short event or two events back to back still
//! come out as digits a PBX recognises. Nothing here allocates; every buffer is a fixed array.

use hal::CHUNK;
use media_dsp::dtmf::{self, Detector, EventKind, GeneratorConfig};

/// Delay of the audio towards RTP while detecting (samples, 40 ms).
pub const DELAY: usize = 320;
/// The detector's block, the uncertainty of its edge times (samples).
const GUARD: u64 = 104;
/// Shortest tone and shortest pause played towards TDM (samples, 40 ms).
pub const MIN_TONE: u32 = 320;
const MIN_GAP: u32 = 320;
/// Digits that can wait behind the one being played: a whole dial string sent in one burst (INFO
/// requests, or events bunched by the network) is played in full.
const QUEUE: usize = 32;

/// A digit edge seen on the TDM side, for the event loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfEdge {
    /// The digit began `offset` samples after the first sample of the RTP frame being built.
    Start { offset: i32 },
    /// The digit ended after about `duration` samples.
    End { duration: u32 },
}

/// The TDM side's receiver of one leg, with the delay line that keeps the tone out of RTP.
#[derive(Debug, Clone)]
pub struct DtmfTx {
    det: Detector,
    /// Linear samples waiting to go out, as a ring; `pos` is the oldest.
    line: [i16; DELAY],
    pos: usize,
    /// Muted input-time windows `[from, until)`; `until` is `u64::MAX` while the digit lasts, and
    /// an unused window is empty.
    windows: [(u64, u64); 2],
    /// Input time of the current digit's reported start.
    start_at: u64,
    pending: [Option<(char, DtmfEdge)>; 2],
    /// Set while this leg's own player sends a digit towards TDM: a digit that starts then is
    /// taken for that tone's echo from the line (a hybrid returns it a few dB down, more than the
    /// canceller removes right after a call starts) and is muted but not reported, start or end.
    pub echo_guard: bool,
    /// The digit under way was started under the guard.
    guarded: bool,
}

impl Default for DtmfTx {
    fn default() -> Self {
        Self::new()
    }
}

impl DtmfTx {
    /// A receiver whose delay line starts full of silence.
    pub fn new() -> DtmfTx {
        DtmfTx {
            det: Detector::new(),
            line: [0; DELAY],
            pos: 0,
            windows: [(0, 0); 2],
            start_at: 0,
            pending: [None; 2],
            echo_guard: false,
            guarded: false,
        }
    }

    /// Takes one chunk received from TDM (linear, decoded once by the leg), runs the detector on
    /// it and replaces it by the delayed, muted audio; `frame_pos` is how many samples of the RTP
    /// frame being built come before this chunk.
    pub fn process(&mut self, pcm: &mut [i16; CHUNK], frame_pos: usize) {
        let t0 = self.det.samples();
        self.det.process(pcm);
        while let Some(e) = self.det.poll_event() {
            match e.kind {
                EventKind::Start => {
                    let from = e.at.saturating_sub(GUARD);
                    // Reuse the window that closes first: the other may still be the digit that
                    // just ended, whose tail is not out of the delay line yet.
                    let slot = usize::from(self.windows[1].1 < self.windows[0].1);
                    self.windows[slot] = (from, u64::MAX);
                    self.start_at = e.at;
                    let frame_start = i128::from(t0) - i128::try_from(frame_pos).unwrap_or(0);
                    let offset = i128::from(from) + DELAY as i128 - frame_start;
                    let offset = i32::try_from(offset.max(0)).unwrap_or(i32::MAX);
                    self.guarded = self.echo_guard;
                    if !self.guarded {
                        self.push(e.digit, DtmfEdge::Start { offset });
                    }
                }
                EventKind::End => {
                    for w in &mut self.windows {
                        if w.1 == u64::MAX {
                            w.1 = e.at + GUARD;
                        }
                    }
                    // The reported edges are whole blocks inside the tone: add one block.
                    let d = e.at.saturating_sub(self.start_at) + GUARD;
                    if !self.guarded {
                        self.push(e.digit, DtmfEdge::End { duration: u32::try_from(d).unwrap_or(u32::MAX) });
                    }
                    self.guarded = false;
                }
            }
        }
        for (k, o) in pcm.iter_mut().enumerate() {
            let delayed = self.line[self.pos];
            self.line[self.pos] = *o;
            self.pos = (self.pos + 1) % DELAY;
            // Input time of the sample going out now.
            let at = (t0 + k as u64).checked_sub(DELAY as u64);
            let muted = at.is_some_and(|i| self.windows.iter().any(|&(f, u)| i >= f && i < u));
            *o = if muted { 0 } else { delayed };
        }
    }

    fn push(&mut self, digit: char, edge: DtmfEdge) {
        let e = Some((digit, edge));
        if self.pending[0].is_none() {
            self.pending[0] = e;
        } else if self.pending[1].is_none() {
            self.pending[1] = e;
        } else {
            // Nobody drained: keep the newest edges.
            self.pending[0] = self.pending[1].take();
            self.pending[1] = e;
        }
    }

    /// The next edge to report, oldest first.
    pub fn poll(&mut self) -> Option<(char, DtmfEdge)> {
        let e = self.pending[0].take();
        self.pending[0] = self.pending[1].take();
        e
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PlayState {
    Idle,
    /// Playing `digit`: angular steps and peaks of its two tones, samples played, and the length
    /// to reach once the end is known.
    Tone {
        digit: char,
        tones: [(f64, f64); 2],
        n: u32,
        until: Option<u32>,
    },
    /// The pause after a digit: samples left.
    Gap {
        left: u32,
    },
}

/// The in-band sender of one leg towards TDM.
#[derive(Debug, Clone)]
pub struct DtmfPlayer {
    state: PlayState,
    queue: [(char, Option<u32>); QUEUE],
    head: usize,
    len: usize,
    /// Digits dropped because the queue was full or the character is not a DTMF digit.
    pub dropped: u32,
}

impl Default for DtmfPlayer {
    fn default() -> Self {
        Self::new()
    }
}

fn tones(digit: char) -> Option<[(f64, f64); 2]> {
    let (r, c) = dtmf::position(digit)?;
    let cfg = GeneratorConfig::default();
    let step = |hz: f64| std::f64::consts::TAU * hz / f64::from(dtmf::SAMPLE_RATE);
    Some([
        (step(dtmf::ROW_HZ[r]), dtmf::dbm0_to_peak(cfg.low_dbm0)),
        (step(dtmf::COL_HZ[c]), dtmf::dbm0_to_peak(cfg.high_dbm0)),
    ])
}

impl DtmfPlayer {
    pub fn new() -> DtmfPlayer {
        DtmfPlayer { state: PlayState::Idle, queue: [('0', None); QUEUE], head: 0, len: 0, dropped: 0 }
    }

    /// Whether a tone or its pause is being played, or digits wait.
    pub fn busy(&self) -> bool {
        self.state != PlayState::Idle || self.len > 0
    }

    /// The far end began `digit`.
    pub fn start(&mut self, digit: char) {
        if self.state == PlayState::Idle && self.len == 0 {
            match tones(digit) {
                Some(t) => self.state = PlayState::Tone { digit, tones: t, n: 0, until: None },
                None => self.dropped += 1,
            }
            return;
        }
        if self.len == QUEUE || tones(digit).is_none() {
            self.dropped += 1;
            return;
        }
        self.queue[(self.head + self.len) % QUEUE] = (digit, None);
        self.len += 1;
    }

    /// The far end ended `digit` after `duration` samples: the tone lasts that long, at least 40 ms.
    pub fn end(&mut self, digit: char, duration: u32) {
        let length = duration.max(MIN_TONE);
        if let PlayState::Tone { digit: d, until: until @ None, .. } = &mut self.state {
            if *d == digit {
                *until = Some(length);
                return;
            }
        }
        // The oldest queued start of this digit still open.
        for k in 0..self.len {
            let q = &mut self.queue[(self.head + k) % QUEUE];
            if q.0 == digit && q.1.is_none() {
                q.1 = Some(length);
                return;
            }
        }
    }

    /// Replaces `pcm` (the RTP audio for TDM) with the tone while one is played; whether it did.
    pub fn fill(&mut self, pcm: &mut [i16; CHUNK]) -> bool {
        let mut replaced = false;
        for s in pcm.iter_mut() {
            match &mut self.state {
                PlayState::Idle => {}
                PlayState::Tone { tones: [(w1, a1), (w2, a2)], n, until, .. } => {
                    let x = f64::from(*n);
                    let v = *a1 * (*w1 * x).sin() + *a2 * (*w2 * x).sin();
                    #[allow(clippy::cast_possible_truncation, reason = "clamped to the i16 range first")]
                    let v = v.round().clamp(-32_768.0, 32_767.0) as i16;
                    *s = v;
                    replaced = true;
                    *n += 1;
                    if until.is_some_and(|u| *n >= u) {
                        self.state = PlayState::Gap { left: MIN_GAP };
                    }
                }
                PlayState::Gap { left } => {
                    *left -= 1;
                    if *left == 0 {
                        self.next();
                    }
                }
            }
        }
        replaced
    }

    fn next(&mut self) {
        self.state = PlayState::Idle;
        if self.len == 0 {
            return;
        }
        let (digit, until) = self.queue[self.head];
        self.head = (self.head + 1) % QUEUE;
        self.len -= 1;
        if let Some(t) = tones(digit) {
            self.state = PlayState::Tone { digit, tones: t, n: 0, until };
        }
    }
}

/// A leg's DTMF pieces: the receiver runs only while `detect` is set (digits go out of band).
#[derive(Debug, Clone)]
pub struct LegDtmf {
    pub detect: bool,
    pub tx: DtmfTx,
    pub player: DtmfPlayer,
}

impl Default for LegDtmf {
    fn default() -> Self {
        Self::new()
    }
}

impl LegDtmf {
    pub fn new() -> LegDtmf {
        LegDtmf { detect: false, tx: DtmfTx::new(), player: DtmfPlayer::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use media_dsp::dtmf::Generator;

    /// Feeds `signal` through a receiver; the output (linear) and the edges with the chunk index.
    fn run_tx(signal: &[i16]) -> (Vec<i16>, Vec<(usize, char, DtmfEdge)>) {
        let mut tx = DtmfTx::new();
        let (mut out, mut edges) = (Vec::new(), Vec::new());
        for (k, c) in signal.chunks_exact(CHUNK).enumerate() {
            let mut pcm: [i16; CHUNK] = c.try_into().expect("chunk");
            tx.process(&mut pcm, (k * CHUNK) % 160);
            while let Some((d, e)) = tx.poll() {
                edges.push((k, d, e));
            }
            out.extend_from_slice(&pcm);
        }
        (out, edges)
    }

    fn energy(x: &[i16]) -> f64 {
        x.iter().map(|&s| f64::from(s) * f64::from(s)).sum()
    }

    /// `lead` ms of a 400 Hz sine, then digits of `on` ms with `off` ms pauses, then 200 ms of sine.
    fn speech_and_digits(digits: &str, on: u32, off: u32, lead: usize) -> (Vec<i16>, Vec<(usize, usize)>) {
        let sine = |n: usize| {
            (0..n)
                .map(|i| {
                    #[allow(clippy::cast_possible_truncation, reason = "small amplitude")]
                    let v = (3000.0 * (std::f64::consts::TAU * 400.0 * i as f64 / 8000.0).sin()) as i16;
                    v
                })
                .collect::<Vec<i16>>()
        };
        let mut x = sine(lead * 8);
        let mut spans = Vec::new();
        let mut g = Generator::new(GeneratorConfig { on_ms: on, off_ms: off, ..GeneratorConfig::default() });
        g.push_str(digits).expect("queue");
        let from = x.len();
        while !g.is_idle() {
            let mut b = [0i16; CHUNK];
            g.fill(&mut b);
            x.extend_from_slice(&b);
        }
        for k in 0..digits.len() {
            let s = from + k * (on + off) as usize * 8;
            spans.push((s, s + on as usize * 8));
        }
        x.extend(sine(200 * 8));
        (x, spans)
    }

    #[test]
    fn every_digit_is_reported_once_in_order_and_muted_in_the_delayed_audio() {
        let digits = "123A456B789C*0#D";
        let (x, spans) = speech_and_digits(digits, 70, 70, 100);
        let (out, edges) = run_tx(&x);
        let starts: String = edges.iter().filter(|e| matches!(e.2, DtmfEdge::Start { .. })).map(|e| e.1).collect();
        let ends: String = edges.iter().filter(|e| matches!(e.2, DtmfEdge::End { .. })).map(|e| e.1).collect();
        assert_eq!((starts.as_str(), ends.as_str()), (digits, digits), "{edges:?}");
        // The output is the input 40 ms later; every tone sample is silenced there.
        for &(s, e) in &spans {
            let leaked = energy(&out[s + DELAY..e + DELAY]);
            // Muted means silent; one tone sample alone is ~10^7.
            assert!(leaked == 0.0, "tone at {s}..{e} leaked energy {leaked}");
        }
        // The speech before and after is passed through, delayed, untouched.
        let before = &out[DELAY..DELAY + 700];
        assert_eq!(before, &x[..700]);
        let last = spans.last().expect("digits").1;
        let after = last + 200;
        assert_eq!(out[after + DELAY..after + DELAY + 400], x[after..after + 400]);
        // Durations within two blocks of the 70 ms sent.
        for e in &edges {
            if let DtmfEdge::End { duration } = e.2 {
                assert!((560 - 208..=560 + 208).contains(&duration), "{e:?}");
            }
        }
    }

    #[test]
    fn the_start_offset_points_at_the_tone_in_the_outgoing_frames() {
        let (x, spans) = speech_and_digits("5", 100, 100, 100);
        let (_, edges) = run_tx(&x);
        let &(k, _, DtmfEdge::Start { offset }) = edges.first().expect("an edge") else { panic!("{edges:?}") };
        // The frame being built at chunk k started at output time (k*8 - (k*8 % 160)); the tone
        // leaves the delay line at its input time + DELAY.
        let frame_start = (k * CHUNK) - (k * CHUNK) % 160;
        let tone_out = spans[0].0 + DELAY;
        let at = frame_start + usize::try_from(offset).expect("positive");
        assert!(at <= tone_out && tone_out - at <= 2 * 104, "muted from {at}, tone at {tone_out}");
    }

    #[test]
    fn speech_alone_reports_nothing_and_is_only_delayed() {
        let (x, _) = speech_and_digits("", 70, 70, 500);
        let (out, edges) = run_tx(&x);
        assert!(edges.is_empty());
        let n = x.len() - DELAY;
        assert_eq!(out[DELAY..], x[..n]);
    }

    #[test]
    fn a_digit_starting_while_our_own_tone_plays_is_muted_but_not_reported() {
        let (x, spans) = speech_and_digits("9#", 100, 100, 100);
        let mut tx = DtmfTx::new();
        let (mut out, mut edges) = (Vec::new(), Vec::new());
        for (k, c) in x.chunks_exact(CHUNK).enumerate() {
            // The player is busy during the first digit only (its echo), not the second.
            tx.echo_guard = k * CHUNK < spans[0].1 + 200;
            let mut pcm: [i16; CHUNK] = c.try_into().expect("chunk");
            tx.process(&mut pcm, 0);
            while let Some((d, e)) = tx.poll() {
                edges.push((d, e));
            }
            out.extend_from_slice(&pcm);
        }
        let digits: String = edges.iter().map(|e| e.0).collect();
        assert_eq!(digits, "##", "only the second digit, start and end: {edges:?}");
        let (s, e) = spans[0];
        assert!(energy(&out[s + DELAY..e + DELAY]) == 0.0, "the echo is muted too");
    }

    fn play(p: &mut DtmfPlayer, ms: usize) -> Vec<i16> {
        let mut out = Vec::new();
        for _ in 0..ms {
            let mut b = [7i16; CHUNK];
            p.fill(&mut b);
            out.extend_from_slice(&b);
        }
        out
    }

    fn detect(x: &[i16]) -> Vec<(char, u64, u64)> {
        let mut d = Detector::new();
        let mut got = Vec::new();
        let mut start = 0;
        for c in x.chunks_exact(CHUNK) {
            d.process(c.try_into().expect("chunk"));
            while let Some(e) = d.poll_event() {
                match e.kind {
                    EventKind::Start => start = e.at,
                    EventKind::End => got.push((e.digit, start, e.at)),
                }
            }
        }
        got
    }

    #[test]
    fn played_digits_last_the_event_duration_and_are_detected() {
        let mut p = DtmfPlayer::new();
        p.start('7');
        let mut x = play(&mut p, 50);
        p.end('7', 120 * 8);
        x.extend(play(&mut p, 200));
        assert!(!p.busy());
        // The tone covers exactly 120 ms, then the RTP audio (7s) comes back.
        let tone = x.iter().position(|&s| s == 7).expect("audio after the tone");
        assert_eq!(tone, 120 * 8);
        let got = detect(&x);
        assert_eq!(got.iter().map(|g| g.0).collect::<String>(), "7");
    }

    #[test]
    fn a_short_event_plays_40_ms_and_back_to_back_events_get_a_pause() {
        let mut p = DtmfPlayer::new();
        // An end-only event (its start packets lost) of 10 ms, then at once three more digits.
        p.start('1');
        p.end('1', 80);
        for d in ['2', '2', 'D'] {
            p.start(d);
            p.end(d, 80);
        }
        let x = play(&mut p, 600);
        assert!(!p.busy());
        let got = detect(&x);
        assert_eq!(got.iter().map(|g| g.0).collect::<String>(), "122D", "{got:?}");
        // First tone: 40 ms exactly, then 40 ms of the RTP audio.
        assert_eq!(x[..320].iter().filter(|&&s| s == 7).count(), 0);
        assert!(x[320..640].iter().all(|&s| s == 7));
    }

    #[test]
    fn a_digit_queued_while_one_plays_keeps_its_own_duration() {
        let mut p = DtmfPlayer::new();
        p.start('3');
        p.start('4');
        p.end('4', 200 * 8);
        p.end('3', 50 * 8);
        let x = play(&mut p, 400);
        let audio: Vec<usize> = x.iter().enumerate().filter(|(_, &s)| s == 7).map(|(i, _)| i).collect();
        // 3 for 50 ms, a 40 ms pause, 4 for 200 ms, then audio.
        assert_eq!(audio.first(), Some(&(50 * 8)));
        assert_eq!(audio.get(320), Some(&(290 * 8)));
        assert_eq!(detect(&x).iter().map(|g| g.0).collect::<String>(), "34");
    }

    #[test]
    fn bad_digits_and_overflow_are_counted_not_played() {
        let mut p = DtmfPlayer::new();
        p.start('x');
        assert!(!p.busy());
        p.start('1');
        for _ in 0..QUEUE + 3 {
            p.start('2');
        }
        assert_eq!(p.dropped, 4);
    }
}
