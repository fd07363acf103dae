//! Fax/modem tone detection (`media_dsp::fax`) on generated CNG, ANS, /ANS, ANSam and /ANSam, and
//! on near misses (1000, 2000, 2200 Hz, wrong cadences, short tones, DTMF, speech-like signal).
//!
//! Every case prints one line of the table on stderr; the test fails on any wrong line. Signals are
//! seeded (random phases, noise) so runs repeat exactly.

use std::f64::consts::TAU;

use media_dsp::dtmf::{dbm0_to_peak, Generator, BLOCK};
use media_dsp::fax::{FaxDetector, FaxEvent, FaxTone};
use media_dsp::g711::{self, Law};

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss, reason = "53 random bits")]
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        u
    }
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

fn samples(ms: f64) -> usize {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "small positive durations")]
    let n = (ms * 8.0).round() as usize;
    n
}

/// A 2100 Hz-family answer tone: `hz`, `ms` long at `dbm0`, reversing its phase every 450 ms if
/// `reversals`, amplitude-modulated at 15 Hz by `am` (0.2 for V.8 ANSam).
fn answer(hz: f64, ms: f64, dbm0: f64, reversals: bool, am: f64, rng: &mut Rng) -> Vec<f64> {
    answer_every(hz, ms, dbm0, reversals.then_some(0.45), am, rng)
}

/// As `answer`, with the reversal period (seconds) given.
fn answer_every(hz: f64, ms: f64, dbm0: f64, reversal_s: Option<f64>, am: f64, rng: &mut Rng) -> Vec<f64> {
    let peak = dbm0_to_peak(dbm0);
    let phase0 = TAU * rng.unit();
    (0..samples(ms))
        .map(|n| {
            #[allow(clippy::cast_precision_loss, reason = "sample index")]
            let t = n as f64 / 8000.0;
            let flips = reversal_s.map_or(0.0, |p| (t / p).floor());
            let env = 1.0 + am * (TAU * 15.0 * t).sin();
            peak * env * (TAU * hz * t + phase0 + std::f64::consts::PI * flips).sin()
        })
        .collect()
}

/// `bursts` of `hz`, `on_ms` on and `off_ms` off.
fn cadence(hz: f64, on_ms: f64, off_ms: f64, bursts: usize, dbm0: f64, rng: &mut Rng) -> Vec<f64> {
    let mut s = Vec::new();
    for _ in 0..bursts {
        s.extend(answer(hz, on_ms, dbm0, false, 0.0, rng));
        s.resize(s.len() + samples(off_ms), 0.0);
    }
    s
}

/// A speech-like signal: voiced phrases (harmonics of a gliding, vibrato pitch of 90–350 Hz shaped
/// by three moving formants) with pauses. Additive synthesis keeps every harmonic below 3.8 kHz.
fn speech(seconds: usize, rng: &mut Rng) -> Vec<f64> {
    const VOWELS: [(f64, f64, f64); 6] = [
        (730.0, 1090.0, 2440.0),
        (270.0, 2290.0, 3010.0),
        (530.0, 1840.0, 2480.0),
        (570.0, 840.0, 2410.0),
        (300.0, 870.0, 2240.0),
        (390.0, 1990.0, 2550.0),
    ];
    let formant = |f: f64, c: f64, bw: f64| 1.0 / (1.0 + ((f - c) / bw).powi(2));
    let mut s = Vec::new();
    while s.len() < seconds * 8000 {
        let f0 = 90.0 + 260.0 * rng.unit();
        let len = samples(150.0 + 500.0 * rng.unit());
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "index in 0..6")]
        let (v1, v2) = (VOWELS[(rng.unit() * 6.0) as usize], VOWELS[(rng.unit() * 6.0) as usize]);
        let glide = 0.6 * rng.unit() - 0.3;
        let level = dbm0_to_peak(-30.0 + 24.0 * rng.unit()) / 4.0;
        let mut phase = 0.0;
        for n in 0..len {
            #[allow(clippy::cast_precision_loss, reason = "sample index")]
            let u = n as f64 / len as f64;
            #[allow(clippy::cast_precision_loss, reason = "sample index")]
            let t = n as f64 / 8000.0;
            let f = f0 * (1.0 + glide * u) * (1.0 + 0.02 * (TAU * 5.5 * t).sin());
            phase += TAU * f / 8000.0;
            let (f1, f2, f3) = (v1.0 + (v2.0 - v1.0) * u, v1.1 + (v2.1 - v1.1) * u, v1.2 + (v2.2 - v1.2) * u);
            let mut v = 0.0;
            let mut k = 1.0;
            while f * k < 3800.0 {
                let hz = f * k;
                let g = formant(hz, f1, 90.0) + 0.7 * formant(hz, f2, 110.0) + 0.4 * formant(hz, f3, 150.0);
                v += g / k.sqrt() * (k * phase).sin();
                k += 1.0;
            }
            s.push(level * v * (std::f64::consts::PI * u).sin());
        }
        s.resize(s.len() + samples(40.0 + 300.0 * rng.unit()), 0.0);
    }
    s
}

/// Adds white noise `snr_db` below a tone at `dbm0`, then rounds to 16 bits.
fn finish(signal: &[f64], noise: Option<(f64, f64)>, rng: &mut Rng) -> Vec<i16> {
    let sigma = noise.map_or(0.0, |(dbm0, snr)| dbm0_to_peak(dbm0 - snr) / std::f64::consts::SQRT_2);
    signal.iter().map(|&v| to_i16(v + sigma * rng.gauss())).collect()
}

fn run(signal: &[i16]) -> Vec<FaxEvent> {
    let mut d = FaxDetector::new();
    let mut out = Vec::new();
    // 100 ms of silence after the signal lets a tone that ends with it be closed.
    for b in signal.chunks(BLOCK).chain(std::iter::repeat_n(&[0i16; BLOCK][..], 100)) {
        let mut block = [0i16; BLOCK];
        block[..b.len()].copy_from_slice(b);
        d.process(&block);
        while let Some(e) = d.poll_event() {
            out.push(e);
        }
    }
    out
}

/// Runs one case, prints its line, and returns a failure message if the tones differ.
fn case(name: &str, signal: &[i16], lead: usize, want: &[FaxTone], table: &mut String) -> Option<String> {
    let events = run(signal);
    let got: Vec<FaxTone> = events.iter().map(|e| e.tone).collect();
    let ok = got == want;
    let first = events.first().map_or(String::from("-"), |e| {
        #[allow(clippy::cast_precision_loss, reason = "sample index")]
        let s = format!("{:+.0} ms", (e.at as f64 - lead as f64) / 8.0);
        s
    });
    *table += &format!("{name:<44} {:<30} start {first:>7}  {}\n", format!("{got:?}"), if ok { "ok" } else { "WRONG" });
    (!ok).then(|| format!("{name}: want {want:?}, got {events:?}"))
}

fn report(title: &str, table: &str, failures: &[String]) {
    eprintln!("\n{title}\n{table}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn answer_tones_are_classified() {
    use FaxTone::{Ans, AnsAm, AnsAmPr, AnsPr};
    let mut rng = Rng(21);
    let (mut table, mut failures) = (String::new(), Vec::new());
    let lead = 1234;
    for (hz, dbm0, noise) in [
        (2100.0, -10.0, None),
        (2112.0, -20.0, None),
        (2088.0, -20.0, None),
        (2100.0, -40.0, None),
        (2100.0, -15.0, Some(15.0)),
        (2100.0, -15.0, Some(10.0)),
    ] {
        for (kind, rev, am, want) in [
            ("ANS", false, 0.0, &[Ans][..]),
            ("/ANS", true, 0.0, &[Ans, AnsPr][..]),
            ("ANSam", false, 0.2, &[AnsAm][..]),
            ("ANSam m=0.15", false, 0.15, &[AnsAm][..]),
            ("/ANSam", true, 0.2, &[AnsAm, AnsAmPr][..]),
        ] {
            let mut s = vec![0.0; lead];
            s.extend(answer(hz, 3300.0, dbm0, rev, am, &mut rng));
            s.resize(s.len() + 800, 0.0);
            let signal = finish(&s, noise.map(|snr| (dbm0, snr)), &mut rng);
            let name = format!("{kind} {hz} Hz {dbm0} dBm0 S/N {}", noise.map_or("-".into(), |n| format!("{n} dB")));
            failures.extend(case(&name, &signal, lead, want, &mut table));
        }
    }
    // Reversals at the wrong interval do not make /ANS (G.165: 450 ± 25 ms).
    for period in [0.25, 0.7] {
        let mut s = vec![0.0; lead];
        s.extend(answer_every(2100.0, 3300.0, -10.0, Some(period), 0.0, &mut rng));
        let signal = finish(&s, None, &mut rng);
        failures.extend(case(&format!("2100 Hz reversing every {period} s"), &signal, lead, &[Ans], &mut table));
    }
    // Fax CED through G.711, both laws.
    for law in [Law::Alaw, Law::Mulaw] {
        let mut s = vec![0.0; lead];
        s.extend(answer(2100.0, 3000.0, -12.0, true, 0.0, &mut rng));
        let pcm = finish(&s, None, &mut rng);
        let mut codes = vec![0u8; pcm.len()];
        g711::encode_into(law, &pcm, &mut codes);
        let mut back = vec![0i16; pcm.len()];
        g711::decode_into(law, &codes, &mut back);
        failures.extend(case(&format!("/ANS through {law:?}"), &back, lead, &[Ans, AnsPr], &mut table));
    }
    report("Fax answer tones", &table, &failures);
}

#[test]
fn cng_is_detected_with_its_cadence() {
    let mut rng = Rng(22);
    let (mut table, mut failures) = (String::new(), Vec::new());
    let lead = 777;
    for (hz, on, dbm0) in [
        (1100.0, 500.0, -10.0),
        (1135.0, 500.0, -20.0),
        (1065.0, 500.0, -20.0),
        (1100.0, 430.0, -30.0),
        (1100.0, 570.0, -40.0),
    ] {
        let mut s = vec![0.0; lead];
        s.extend(cadence(hz, on, 3000.0, 3, dbm0, &mut rng));
        let signal = finish(&s, None, &mut rng);
        let name = format!("CNG {hz} Hz {on} ms on {dbm0} dBm0 x3");
        failures.extend(case(&name, &signal, lead, &[FaxTone::Cng; 3], &mut table));
    }
    let mut s = vec![0.0; lead];
    s.extend(cadence(1100.0, 500.0, 3000.0, 2, -20.0, &mut rng));
    let signal = finish(&s, Some((-20.0, 15.0)), &mut rng);
    failures.extend(case("CNG 1100 Hz S/N 15 dB x2", &signal, lead, &[FaxTone::Cng; 2], &mut table));
    report("Fax CNG", &table, &failures);
}

#[test]
fn near_misses_give_nothing() {
    let mut rng = Rng(23);
    let (mut table, mut failures) = (String::new(), Vec::new());
    let lead = 800;
    let mut cases: Vec<(String, Vec<f64>)> = Vec::new();
    for hz in [2000.0, 2200.0, 2060.0, 2140.0, 1000.0, 1800.0] {
        cases.push((format!("{hz} Hz 3.3 s with reversals"), answer(hz, 3300.0, -10.0, true, 0.0, &mut rng)));
    }
    for hz in [1000.0, 1200.0, 1040.0, 1160.0] {
        cases.push((format!("{hz} Hz with CNG cadence x2"), cadence(hz, 500.0, 3000.0, 2, -10.0, &mut rng)));
    }
    cases.push(("1100 Hz continuous 4 s".into(), answer(1100.0, 4000.0, -10.0, false, 0.0, &mut rng)));
    cases.push(("1100 Hz 250 ms on x2".into(), cadence(1100.0, 250.0, 3000.0, 2, -10.0, &mut rng)));
    cases.push(("1100 Hz 800 ms on x2".into(), cadence(1100.0, 800.0, 3000.0, 2, -10.0, &mut rng)));
    cases.push(("2100 Hz 300 ms".into(), answer(2100.0, 300.0, -10.0, false, 0.0, &mut rng)));
    cases.push(("2100 Hz at -50 dBm0".into(), answer(2100.0, 3300.0, -50.0, true, 0.0, &mut rng)));
    cases.push(("speech-like 60 s".into(), speech(60, &mut rng)));
    // Musical notes that land on the tones but decay as struck or plucked notes do (17 dB/s):
    // C#6 (1108.7 Hz) with its 3rd harmonic for CNG's 500 ms, C7 (2093 Hz) for 1 s.
    let note = |hz: f64, ms: f64, third: f64| -> Vec<f64> {
        (0..samples(ms))
            .map(|n| {
                #[allow(clippy::cast_precision_loss, reason = "sample index")]
                let t = n as f64 / 8000.0;
                let env = dbm0_to_peak(-12.0) * (-2.0 * t).exp();
                env * ((TAU * hz * t).sin() + third * (TAU * 3.0 * hz * t).sin())
            })
            .collect()
    };
    let mut c_sharp = note(1108.7, 500.0, 0.33);
    c_sharp.resize(c_sharp.len() + 24_000, 0.0);
    c_sharp.extend(note(1108.7, 500.0, 0.33));
    cases.push(("C#6 note 500 ms decaying x2".into(), c_sharp));
    cases.push(("C7 note 1 s decaying".into(), note(2093.0, 1000.0, 0.0)));
    // DTMF digits: no 1100 or 2100 Hz component.
    let mut g = Generator::default();
    g.push_str("0123456789*#ABCD0123456789*#ABCD").unwrap();
    let mut dtmf = Vec::new();
    while !g.is_idle() {
        let mut b = [0i16; BLOCK];
        g.fill(&mut b);
        dtmf.extend(b.iter().map(|&x| f64::from(x)));
    }
    cases.push(("32 DTMF digits".into(), dtmf));
    for (name, body) in cases {
        let mut s = vec![0.0; lead];
        s.extend(body);
        let signal = finish(&s, None, &mut rng);
        failures.extend(case(&name, &signal, lead, &[], &mut table));
    }
    report("Fax tone near misses", &table, &failures);
}
