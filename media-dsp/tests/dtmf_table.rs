//! Characterisation of the DTMF receiver against the receiver table of reference/dsp.md §7.
//!
//! Every requirement line is swept with random block alignment, random tone phases and a seeded
//! PRNG, the measured table is printed on stderr (visible with or without `--nocapture` when the
//! test fails, and always with `--nocapture`), and the test fails on any line that is missed.
//! Lines we cannot meet yet would be listed in `NOT_YET_MET`: they are printed with their measured
//! value instead of failing, and the test fails if one of them starts passing (so the list cannot
//! go stale). It is empty today.
//!
//! Conventions: levels in dBm0 per tone (0 dBm0 = 16 141 rms, see `media_dsp::dtmf`); "twist" is
//! the level difference between the two tones, the louder at -10 dBm0; S/N is each tone's power
//! over the power of full-band (0–4 kHz) white Gaussian noise, the same definition reference/dsp.md
//! used to measure spandsp. A trial is "detected" when the detector reports exactly one digit, the
//! right one; "rejected" when it reports none.
//!
//! The talk-off source (`talk_off` module below) is synthetic: no licensed talk-off tape is
//! available. It alternates speech-like segments (a glottal-pulse source with a per-talker pitch of
//! 85–400 Hz (a fifth of the phrases sung: 0.3–1.5 s syllables with a steady pitch), 5–6 Hz vibrato, jitter, rising and falling pitch glides over each syllable, shaped by
//! three formant resonators moving between vowel targets, unvoiced noise bursts through a high
//! resonator, pauses) with music-like segments (notes from 130 Hz to 2 kHz with 3–8 harmonics, single
//! notes and two- or three-note chords, vibrato, attack/decay envelopes), at -30 to -6 dBm0 with a
//! -60 dBm0 noise floor.

use media_dsp::dtmf::{
    dbm0_to_peak, Detector, Event, EventKind, Generator, GeneratorConfig, BLOCK, COL_HZ, KEYPAD, ROW_HZ,
};
use media_dsp::g711::{self, Law};

use std::f64::consts::TAU;

// ---- deterministic randomness ---------------------------------------------------------------

/// SplitMix64: tiny, seedable, good enough for test signals.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss, reason = "53 random bits")]
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        u
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn below(&mut self, n: usize) -> usize {
        #[allow(clippy::cast_possible_truncation, reason = "n is small")]
        let i = (self.next_u64() % n as u64) as usize;
        i
    }
    /// Standard normal (Box–Muller).
    fn gauss(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        (-2.0 * u1.ln()).sqrt() * (TAU * self.unit()).cos()
    }
}

fn to_i16(v: f64) -> i16 {
    #[allow(clippy::cast_possible_truncation, reason = "clamped to the i16 range first")]
    let s = v.round().clamp(-32_768.0, 32_767.0) as i16;
    s
}

fn ms(m: f64) -> usize {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "small positive durations")]
    let n = (m * 8.0).round() as usize;
    n
}

// ---- trials ---------------------------------------------------------------------------------

/// One tone burst of a digit: row and column frequency factors (1.0 = nominal), levels in dBm0,
/// and the on/off pattern in samples (`segments` alternate tone, gap, tone, ...).
#[derive(Clone)]
struct Burst {
    row: usize,
    col: usize,
    row_factor: f64,
    col_factor: f64,
    row_dbm0: f64,
    col_dbm0: f64,
    segments: Vec<usize>,
    /// Per-tone S/N in dB of white noise over the whole trial, if any.
    snr_db: Option<f64>,
}

impl Burst {
    fn new(row: usize, col: usize) -> Self {
        Burst {
            row,
            col,
            row_factor: 1.0,
            col_factor: 1.0,
            row_dbm0: -10.0,
            col_dbm0: -10.0,
            segments: vec![ms(60.0)],
            snr_db: None,
        }
    }

    /// The signal: random lead-in (so the tone lands anywhere in a detector block), the burst with
    /// random starting phases (continuous across drop-outs), 300 ms of tail.
    fn render(&self, rng: &mut Rng) -> Vec<i16> {
        let lead = 800 + rng.below(104 * 3);
        let mut s = vec![0f64; lead];
        let (wr, wc) =
            (TAU * ROW_HZ[self.row] * self.row_factor / 8000.0, TAU * COL_HZ[self.col] * self.col_factor / 8000.0);
        let (ar, ac) = (dbm0_to_peak(self.row_dbm0), dbm0_to_peak(self.col_dbm0));
        let (pr, pc) = (rng.range(0.0, TAU), rng.range(0.0, TAU));
        let mut n = 0f64;
        for (i, &len) in self.segments.iter().enumerate() {
            for _ in 0..len {
                let on = i % 2 == 0;
                s.push(if on { ar * (wr * n + pr).sin() + ac * (wc * n + pc).sin() } else { 0.0 });
                n += 1.0;
            }
        }
        s.resize(s.len() + ms(300.0), 0.0);
        if let Some(snr) = self.snr_db {
            let p_tone = dbm0_to_peak(self.row_dbm0.min(self.col_dbm0)).powi(2) / 2.0;
            let sigma = (p_tone / 10f64.powf(snr / 10.0)).sqrt();
            for v in &mut s {
                *v += sigma * rng.gauss();
            }
        }
        s.into_iter().map(to_i16).collect()
    }
}

fn detect(signal: &[i16]) -> Vec<Event> {
    let mut d = Detector::new();
    let mut out = Vec::new();
    for b in signal.chunks(BLOCK) {
        let mut block = [0i16; BLOCK];
        block[..b.len()].copy_from_slice(b);
        d.process(&block);
        while let Some(e) = d.poll_event() {
            out.push(e);
        }
    }
    out
}

fn starts(events: &[Event]) -> Vec<char> {
    events.iter().filter(|e| e.kind == EventKind::Start).map(|e| e.digit).collect()
}

/// What a requirement line expects of each trial.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    /// Exactly one digit, the right one, every time.
    Detect,
    /// No digit at all, every time.
    Reject,
    /// Exactly two digits, both right (a pause that must split), every time.
    Split,
    /// Measured and printed only: the requirement says nothing here.
    Info,
}

struct Line {
    group: &'static str,
    condition: String,
    want: Want,
    trials: usize,
    /// Trials that came out as `want` says (for `Info`: trials with exactly one right digit).
    good: usize,
}

impl Line {
    fn met(&self) -> bool {
        self.want == Want::Info || self.good == self.trials
    }
}

/// Runs `trials` random bursts made by `make` (which gets the trial index) and scores them.
fn measure(
    group: &'static str,
    condition: String,
    want: Want,
    trials: usize,
    seed: u64,
    make: impl Fn(usize) -> Burst,
) -> Line {
    let mut rng = Rng(seed);
    let mut good = 0;
    for t in 0..trials {
        let b = make(t);
        let digit = KEYPAD[b.row][b.col];
        let got = starts(&detect(&b.render(&mut rng)));
        let ok = match want {
            Want::Detect | Want::Info => got == [digit],
            Want::Reject => got.is_empty(),
            Want::Split => got == [digit, digit],
        };
        good += usize::from(ok);
    }
    Line { group, condition, want, trials, good }
}

/// Lines that are known not to be met yet, by `group` and `condition`. Empty: every line is met.
const NOT_YET_MET: &[(&str, &str)] = &[];

fn report(lines: &[Line]) {
    let mut text = String::from(
        "\nDTMF receiver table (reference/dsp.md §7), measured: trials that came out as wanted \
         ((info) lines: trials detected as exactly the right digit)\n",
    );
    text += &format!("{:<12} {:<34} {:<8} {:>9}  {}\n", "line", "condition", "want", "measured", "verdict");
    let mut failed = Vec::new();
    let mut not_yet = Vec::new();
    let mut stale = Vec::new();
    for l in lines {
        let want = match l.want {
            Want::Detect => "detect",
            Want::Reject => "reject",
            Want::Split => "two",
            Want::Info => "(info)",
        };
        let listed = NOT_YET_MET.iter().any(|(g, c)| *g == l.group && *c == l.condition);
        let verdict = match (l.met(), listed) {
            (true, false) => "ok",
            (true, true) => {
                stale.push(format!("{} {}", l.group, l.condition));
                "ok (listed as NOT_YET_MET: remove it)"
            }
            (false, true) => {
                not_yet.push(format!("{} {}: {}/{}", l.group, l.condition, l.good, l.trials));
                "NOT_YET_MET"
            }
            (false, false) => {
                failed.push(format!("{} {}: {}/{}", l.group, l.condition, l.good, l.trials));
                "MISSED"
            }
        };
        let measured = format!("{}/{}", l.good, l.trials);
        text += &format!("{:<12} {:<34} {:<8} {:>9}  {}\n", l.group, l.condition, want, measured, verdict);
    }
    if !not_yet.is_empty() {
        text += &format!("NOT_YET_MET ({}):\n  {}\n", not_yet.len(), not_yet.join("\n  "));
    }
    eprintln!("{text}");
    assert!(failed.is_empty(), "missed requirement lines:\n  {}", failed.join("\n  "));
    assert!(stale.is_empty(), "NOT_YET_MET lines that now pass: {stale:?}");
}

/// A PRNG seed from a small non-negative sweep value.
fn seed(x: f64) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "sweep values are small and >= 0")]
    let s = x.round() as u64;
    s
}

/// Cycles through the 16 digits.
fn digit(t: usize) -> (usize, usize) {
    ((t / 4) % 4, t % 4)
}

const TRIALS: usize = 64;

#[test]
fn frequency_deviation_both_groups() {
    let mut lines = Vec::new();
    for (group, high) in [("freq low", false), ("freq high", true)] {
        for pct in [-5.0, -4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0] {
            let f64_abs: f64 = f64::abs(pct);
            let want = if f64_abs <= 1.5 {
                Want::Detect
            } else if f64_abs >= 3.5 {
                Want::Reject
            } else {
                Want::Info
            };
            let seed = 100 + u64::from(high) * 1000 + seed(pct * 10.0 + 100.0);
            lines.push(measure(group, format!("{pct:+.1}%"), want, TRIALS, seed, |t| {
                let (r, c) = digit(t);
                let mut b = Burst::new(r, c);
                if high {
                    b.col_factor = 1.0 + pct / 100.0;
                } else {
                    b.row_factor = 1.0 + pct / 100.0;
                }
                b
            }));
        }
    }
    report(&lines);
}

#[test]
fn twist_both_ways() {
    let mut lines = Vec::new();
    for (group, low_louder, accept) in [("twist norm", true, 8.0), ("twist rev", false, 4.0)] {
        for db in [0.0, 2.0, 4.0, 6.0, 8.0, 9.0, 10.0, 11.0, 12.0, 14.0] {
            if !low_louder && db == 0.0 {
                continue;
            }
            let want = if db <= accept {
                Want::Detect
            } else if db >= 11.0 {
                Want::Reject
            } else {
                Want::Info
            };
            lines.push(measure(
                group,
                format!("{db:.0} dB"),
                want,
                TRIALS,
                300 + seed(db) + u64::from(low_louder) * 50,
                |t| {
                    let (r, c) = digit(t);
                    let mut b = Burst::new(r, c);
                    if low_louder {
                        b.col_dbm0 = -10.0 - db;
                    } else {
                        b.row_dbm0 = -10.0 - db;
                    }
                    b
                },
            ));
        }
    }
    report(&lines);
}

#[test]
fn tone_duration() {
    let mut lines = Vec::new();
    for d in [10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 60.0] {
        let want = if d <= 20.0 {
            Want::Reject
        } else if d >= 40.0 {
            Want::Detect
        } else {
            Want::Info
        };
        lines.push(measure("duration", format!("{d:.0} ms"), want, TRIALS, 500 + seed(d), |t| {
            let (r, c) = digit(t);
            let mut b = Burst::new(r, c);
            b.segments = vec![ms(d)];
            b
        }));
    }
    report(&lines);
}

#[test]
fn drop_outs_and_pauses() {
    let mut lines = Vec::new();
    for g in [5.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0, 40.0, 50.0] {
        let want = if g <= 10.0 {
            Want::Detect
        } else if g >= 40.0 {
            Want::Split
        } else {
            Want::Info
        };
        let (group, cond) = if g >= 40.0 {
            ("pause", format!("{g:.0} ms between 2 x 60 ms"))
        } else {
            ("drop-out", format!("{g:.0} ms in 2 x 60 ms"))
        };
        lines.push(measure(group, cond, want, TRIALS, 700 + seed(g), |t| {
            let (r, c) = digit(t);
            let mut b = Burst::new(r, c);
            b.segments = vec![ms(60.0), ms(g), ms(60.0)];
            b
        }));
    }
    report(&lines);
}

#[test]
fn level_and_dynamic_range() {
    let mut lines = Vec::new();
    for l in [-3.0, -10.0, -20.0, -30.0, -35.0, -38.0, -40.0, -42.0, -45.0, -50.0] {
        // The requirement is sensitivity to -40 dBm0 per tone; below it is measured only (spandsp's
        // threshold is -42, so tones at -45 and under should be gone).
        let want = if l >= -40.0 {
            Want::Detect
        } else if l <= -45.0 {
            Want::Reject
        } else {
            Want::Info
        };
        lines.push(measure("level", format!("{l:.0} dBm0 per tone"), want, TRIALS, 900 + seed(-l), |t| {
            let (r, c) = digit(t);
            let mut b = Burst::new(r, c);
            b.row_dbm0 = l;
            b.col_dbm0 = l;
            b
        }));
    }
    report(&lines);
}

#[test]
fn signal_to_noise() {
    let mut lines = Vec::new();
    for snr in [6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0] {
        let want = if snr >= 15.0 { Want::Detect } else { Want::Info };
        lines.push(measure("S/N", format!("{snr:.0} dB per tone, white"), want, TRIALS, 1100 + seed(snr), |t| {
            let (r, c) = digit(t);
            let mut b = Burst::new(r, c);
            b.snr_db = Some(snr);
            b
        }));
    }
    // The same at the sensitivity edge and with twist at once.
    lines.push(measure("S/N", "15 dB, -30 dBm0, 4 dB rev twist".into(), Want::Detect, TRIALS, 1200, |t| {
        let (r, c) = digit(t);
        let mut b = Burst::new(r, c);
        b.col_dbm0 = -30.0;
        b.row_dbm0 = -34.0;
        b.snr_db = Some(15.0);
        b
    }));
    // Every limit at once: both tones 1.5% off (opposite ways), 4 dB reverse twist, 15 dB S/N.
    for (sign, seed) in [(1.0, 1202), (-1.0, 1203)] {
        lines.push(measure(
            "S/N",
            format!("15 dB, {sign:+.0}x(1.5%, -1.5%), 4 dB rev"),
            Want::Detect,
            TRIALS,
            seed,
            |t| {
                let (r, c) = digit(t);
                let mut b = Burst::new(r, c);
                b.row_factor = 1.0 + sign * 0.015;
                b.col_factor = 1.0 - sign * 0.015;
                b.row_dbm0 = -14.0;
                b.snr_db = Some(15.0);
                b
            },
        ));
    }
    lines.push(measure("S/N", "15 dB, 8 dB normal twist".into(), Want::Detect, TRIALS, 1201, |t| {
        let (r, c) = digit(t);
        let mut b = Burst::new(r, c);
        b.col_dbm0 = -18.0;
        b.snr_db = Some(15.0);
        b
    }));
    report(&lines);
}

// ---- talk-off ---------------------------------------------------------------------------------

mod talk_off {
    //! The synthetic speech-and-music source (see the file doc).
    use super::{dbm0_to_peak, Rng, TAU};

    /// Vowel formant targets (F1, F2, F3 in Hz), roughly those of adult speakers.
    const VOWELS: [(f64, f64, f64); 10] = [
        (730.0, 1090.0, 2440.0),
        (270.0, 2290.0, 3010.0),
        (530.0, 1840.0, 2480.0),
        (660.0, 1720.0, 2410.0),
        (570.0, 840.0, 2410.0),
        (440.0, 1020.0, 2240.0),
        (300.0, 870.0, 2240.0),
        (640.0, 1190.0, 2390.0),
        (490.0, 1350.0, 1690.0),
        (390.0, 1990.0, 2550.0),
    ];

    /// A two-pole resonator at `hz` with bandwidth `bw`, unity gain at its peak (roughly).
    #[derive(Default, Clone, Copy)]
    struct Resonator {
        y1: f64,
        y2: f64,
    }

    impl Resonator {
        fn step(&mut self, x: f64, hz: f64, bw: f64) -> f64 {
            let r = (-std::f64::consts::PI * bw / 8000.0).exp();
            let a1 = 2.0 * r * (TAU * hz / 8000.0).cos();
            let a2 = -r * r;
            let y = (1.0 - r) * x + a1 * self.y1 + a2 * self.y2;
            self.y2 = self.y1;
            self.y1 = y;
            y
        }
    }

    /// Normalises `seg` to `dbm0` rms and appends it.
    fn append(out: &mut Vec<f64>, seg: &[f64], dbm0: f64) {
        let p = seg.iter().map(|v| v * v).sum::<f64>() / seg.len().max(1) as f64;
        if p <= 0.0 {
            out.extend_from_slice(seg);
            return;
        }
        let g = dbm0_to_peak(dbm0) / (2.0 * p).sqrt();
        out.extend(seg.iter().map(|v| v * g));
    }

    /// One talker's phrase: several syllables with pauses.
    fn speech(rng: &mut Rng, out: &mut Vec<f64>) {
        // Men, women and children; a fifth of the phrases are sung (long, steady syllables).
        let base_f0 = rng.range(85.0, 400.0);
        let sung = rng.below(5) == 0;
        let vib_hz = rng.range(5.0, 6.0);
        let vib_depth = rng.range(0.005, 0.03);
        let level = rng.range(-30.0, -6.0);
        let syllables = 3 + rng.below(8);
        let mut seg = Vec::new();
        let (mut r1, mut r2, mut r3) = (Resonator::default(), Resonator::default(), Resonator::default());
        let mut phase = 0.0f64;
        let mut prev_pulse = 0.0;
        let mut t_total = 0.0;
        let mut v_from = VOWELS[rng.below(VOWELS.len())];
        for _ in 0..syllables {
            let v_to = VOWELS[rng.below(VOWELS.len())];
            let len = if sung { super::ms(rng.range(300.0, 1500.0)) } else { super::ms(rng.range(90.0, 420.0)) };
            let glide = if sung { rng.range(-0.03, 0.03) } else { rng.range(-0.35, 0.35) };
            let unvoiced = rng.below(5) == 0;
            let noise_hz = rng.range(2500.0, 3600.0);
            for i in 0..len {
                let u = i as f64 / len as f64;
                let t = t_total / 8000.0;
                t_total += 1.0;
                // Formants move from one vowel to the next over the first 60% of the syllable.
                let k = (u / 0.6).min(1.0);
                let f = |a: f64, b: f64| a + (b - a) * k;
                let (f1, f2, f3) = (f(v_from.0, v_to.0), f(v_from.1, v_to.1), f(v_from.2, v_to.2));
                let env = (std::f64::consts::PI * u).sin().powf(0.6);
                let x = if unvoiced {
                    let n = rng.gauss();
                    r3.step(n, noise_hz, 600.0) * 0.5
                } else {
                    let f0 = base_f0
                        * (1.0 + glide * (u - 0.3))
                        * (1.0 + vib_depth * (TAU * vib_hz * t).sin())
                        * (1.0 + 0.01 * rng.gauss());
                    phase += f0 / 8000.0;
                    if phase >= 1.0 {
                        phase -= 1.0;
                    }
                    // A Rosenberg-like glottal pulse, differentiated (lip radiation).
                    let g = if phase < 0.4 {
                        0.5 * (1.0 - (std::f64::consts::PI * phase / 0.4).cos())
                    } else if phase < 0.56 {
                        (std::f64::consts::PI * (phase - 0.4) / 0.32).cos()
                    } else {
                        0.0
                    };
                    let d = g - prev_pulse;
                    prev_pulse = g;
                    let y = r1.step(d, f1, 80.0);
                    let y = r2.step(y, f2, 100.0) + 0.5 * y;
                    r3.step(y, f3, 140.0) + 0.5 * y
                };
                seg.push(x * env);
            }
            v_from = v_to;
            // Pause between syllables (sometimes none).
            let gap = super::ms(rng.range(0.0, 250.0));
            seg.extend(std::iter::repeat_n(0.0, gap));
            t_total += gap as f64;
        }
        append(out, &seg, level);
    }

    /// A run of notes: single notes or chords of harmonic-rich tones.
    fn music(rng: &mut Rng, out: &mut Vec<f64>) {
        let level = rng.range(-28.0, -8.0);
        let notes = 2 + rng.below(10);
        let mut seg = Vec::new();
        for _ in 0..notes {
            let voices = 1 + rng.below(3);
            let len = super::ms(rng.range(100.0, 800.0));
            let mut parts = Vec::new();
            for _ in 0..voices {
                // MIDI 48 (130.8 Hz) to 96 (2093 Hz), equal temperament, A4 = 440 Hz.
                let midi = 48 + rng.below(49);
                let f = 440.0 * 2f64.powf((midi as f64 - 69.0) / 12.0);
                let harmonics = 3 + rng.below(6);
                let odd_only = rng.below(3) == 0;
                let vib = if rng.below(2) == 0 { rng.range(0.002, 0.01) } else { 0.0 };
                parts.push((f, harmonics, odd_only, vib, rng.range(0.0, TAU)));
            }
            let attack = rng.range(5.0, 60.0) * 8.0;
            let decay = rng.range(0.5, 4.0);
            for i in 0..len {
                let t = i as f64 / 8000.0;
                let env = (i as f64 / attack).min(1.0) * (-decay * t).exp();
                let mut v = 0.0;
                for &(f, h, odd, vib, ph) in &parts {
                    let inst = f * (1.0 + vib * (TAU * 5.5 * t).sin());
                    for k in 1..=h {
                        if odd && k % 2 == 0 {
                            continue;
                        }
                        let hz = inst * k as f64;
                        if hz < 3900.0 {
                            v += (TAU * hz * t + ph * k as f64).sin() / k as f64;
                        }
                    }
                }
                seg.push(v * env);
            }
        }
        append(out, &seg, level);
    }

    /// At least `seconds` of the mixed source, 16-bit, with the sample ranges of the music segments
    /// (to say where a false hit came from).
    pub fn source(seed: u64, seconds: usize) -> (Vec<i16>, Vec<std::ops::Range<usize>>) {
        let mut rng = Rng(seed);
        let mut s = Vec::with_capacity(seconds * 8000 + 80_000);
        let mut music_at = Vec::new();
        while s.len() < seconds * 8000 {
            if rng.below(10) < 7 {
                speech(&mut rng, &mut s);
            } else {
                let start = s.len();
                music(&mut rng, &mut s);
                music_at.push(start..s.len());
            }
            let gap = super::ms(rng.range(50.0, 600.0));
            s.extend(std::iter::repeat_n(0.0, gap));
        }
        let floor = dbm0_to_peak(-60.0) / std::f64::consts::SQRT_2;
        (s.into_iter().map(|v| super::to_i16(v + floor * rng.gauss())).collect(), music_at)
    }
}

/// Three independent 10-minute runs (30 minutes in all): no false digit is allowed.
#[test]
fn talk_off_on_thirty_minutes_of_speech_and_music() {
    let mut text = String::from("\nDTMF talk-off on synthetic speech + music (see the file doc)\n");
    let mut total = 0;
    for seed in [0x07a1_c0ff, 0x5eed_0002, 0x5eed_0003] {
        let (signal, music_at) = talk_off::source(seed, 600);
        let events = detect(&signal);
        let hits: Vec<&Event> = events.iter().filter(|e| e.kind == EventKind::Start).collect();
        total += hits.len();
        text += &format!("  seed {seed:#x}: {} s, {} false digit(s)\n", signal.len() / 8000, hits.len());
        for e in hits.iter().take(20) {
            #[allow(clippy::cast_possible_truncation, reason = "sample indexes of a 10 minute signal")]
            let music = music_at.iter().any(|r| r.contains(&(e.at as usize)));
            #[allow(clippy::cast_precision_loss, reason = "sample indexes of a 10 minute signal")]
            let t = e.at as f64 / 8000.0;
            text += &format!("    '{}' at {t:.3} s ({})\n", e.digit, if music { "music" } else { "speech" });
        }
    }
    text += &format!("  total: {total} false digit(s) in 1800 s (want 0)\n");
    eprintln!("{text}");
    assert_eq!(total, 0, "talk-off: false digits (see the list above)");
}

// ---- round trips ------------------------------------------------------------------------------

/// Sends `digits` with `config` through `law` (if any) and returns what the detector reports.
fn round_trip(digits: &str, config: GeneratorConfig, law: Option<Law>) -> Vec<Event> {
    let mut g = Generator::new(config);
    g.push_str(digits).unwrap();
    let mut d = Detector::new();
    let mut events = Vec::new();
    // Run until the generator is idle plus 200 ms for the detector to report the last end.
    let mut tail = 200;
    while tail > 0 {
        let mut b = [0i16; BLOCK];
        g.fill(&mut b);
        if let Some(law) = law {
            let mut codes = [0u8; BLOCK];
            g711::encode_chunk(law, &b, &mut codes);
            g711::decode_chunk(law, &codes, &mut b);
        }
        d.process(&b);
        while let Some(e) = d.poll_event() {
            events.push(e);
        }
        if g.is_idle() {
            tail -= 1;
        }
    }
    events
}

fn check_round_trip(digits: &str, config: GeneratorConfig, law: Option<Law>) {
    let events = round_trip(digits, config, law);
    let got: String = starts(&events).into_iter().collect();
    assert_eq!(got, digits, "{law:?} {config:?}: {events:?}");
    // Every start is followed by its end, and the edges sit within a block (13 ms) of the sent ones.
    let period = u64::from(config.on_ms + config.off_ms) * 8;
    for (i, pair) in events.chunks(2).enumerate() {
        let [s, e] = pair else { panic!("unpaired events: {events:?}") };
        assert_eq!((s.kind, e.kind, s.digit), (EventKind::Start, EventKind::End, e.digit), "{events:?}");
        let (t0, t1) = (i as u64 * period, i as u64 * period + u64::from(config.on_ms) * 8);
        assert!(s.at.abs_diff(t0) <= 104 && e.at.abs_diff(t1) <= 104, "digit {i}: {s:?} {e:?} vs {t0}..{t1}");
    }
}

#[test]
fn generator_to_detector_all_sixteen_digits() {
    check_round_trip("123A456B789C*0#D", GeneratorConfig::default(), None);
    // The tightest timing the receiver table promises: 40 ms on, 40 ms off.
    check_round_trip(
        "1123A4556B789C*00#DD",
        GeneratorConfig { on_ms: 40, off_ms: 40, ..GeneratorConfig::default() },
        None,
    );
    // Quiet and loud senders.
    check_round_trip(
        "0123456789*#ABCD",
        GeneratorConfig { low_dbm0: -35.0, high_dbm0: -33.0, ..GeneratorConfig::default() },
        None,
    );
    check_round_trip(
        "0123456789*#ABCD",
        GeneratorConfig { low_dbm0: -4.0, high_dbm0: -4.0, ..GeneratorConfig::default() },
        None,
    );
}

#[test]
fn generator_to_detector_through_g711() {
    for law in [Law::Alaw, Law::Mulaw] {
        check_round_trip("123A456B789C*0#D", GeneratorConfig::default(), Some(law));
        check_round_trip(
            "1123A4556B789C*00#DD",
            GeneratorConfig { on_ms: 40, off_ms: 40, ..GeneratorConfig::default() },
            Some(law),
        );
        // At -38 dBm0 the tones use only a few G.711 segments: quantisation noise is at its worst.
        check_round_trip(
            "0123456789*#ABCD",
            GeneratorConfig { low_dbm0: -38.0, high_dbm0: -38.0, ..GeneratorConfig::default() },
            Some(law),
        );
    }
}
