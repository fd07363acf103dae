//! Every call-progress tone of every zone, as generated: cadence to the millisecond, each
//! component's frequency (Goertzel peak) and level, and nothing else in the signal; and no
//! allocation per block (a counting global allocator, armed on this thread only).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use media_dsp::dtmf::{BLOCK, DBM0_RMS};
use media_dsp::tones::{zone, Progress, Tone, ToneGenerator, ZONES};

/// `ms` milliseconds of `tone`.
fn generate(tone: &Tone, ms: usize) -> Vec<i16> {
    let mut g = ToneGenerator::new(tone);
    let mut out = vec![0i16; ms * BLOCK];
    for b in out.chunks_exact_mut(BLOCK) {
        g.process(b.try_into().unwrap());
    }
    out
}

/// Hann-windowed DFT amplitude at `hz`, scaled so a sine of peak `a` on that frequency reads `a`.
fn amplitude(x: &[i16], hz: f64) -> f64 {
    let n = x.len() as f64;
    let w = std::f64::consts::TAU * hz / 8000.0;
    let (mut re, mut im, mut sum_w) = (0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let win = 0.5 - 0.5 * (std::f64::consts::TAU * (i as f64 + 0.5) / n).cos();
        re += win * f64::from(v) * (w * i as f64).cos();
        im += win * f64::from(v) * (w * i as f64).sin();
        sum_w += win;
    }
    2.0 * (re * re + im * im).sqrt() / sum_w
}

fn dbm0_of_peak(a: f64) -> f64 {
    20.0 * (a / (DBM0_RMS * std::f64::consts::SQRT_2)).log10()
}

/// Runs of on/off 1 ms blocks: (on, length in ms).
fn runs(x: &[i16]) -> Vec<(bool, u32)> {
    let mut r: Vec<(bool, u32)> = Vec::new();
    for b in x.chunks_exact(BLOCK) {
        let on = b.iter().any(|&v| v != 0);
        match r.last_mut() {
            Some((o, n)) if *o == on => *n += 1,
            _ => r.push((on, 1)),
        }
    }
    r
}

#[test]
fn table_has_the_required_zones() {
    for code in ["fr", "us", "de", "uk", "it", "es", "nl", "be", "ch", "at"] {
        assert!(zone(code).is_some(), "{code}");
    }
    assert_eq!(zone("FR").map(|z| z.code), Some("fr"));
    assert!(zone("xx").is_none());
}

#[test]
fn cadences_are_exact() {
    for z in ZONES {
        for p in Progress::ALL {
            let t = z.tone(p);
            let period = t.period_ms() as usize;
            if period == 0 {
                let x = generate(t, 3000);
                assert_eq!(runs(&x), vec![(true, 3000)], "{} {p:?}", z.code);
                continue;
            }
            // Two whole cycles, then the first segment of the third.
            let x = generate(t, 2 * period + t.cadence[0] as usize);
            let mut want: Vec<(bool, u32)> = Vec::new();
            for (i, &ms) in t.cadence.iter().cycle().take(2 * t.cadence.len() + 1).enumerate() {
                want.push((i % 2 == 0, ms));
            }
            assert_eq!(runs(&x), want, "{} {p:?}", z.code);
        }
    }
}

#[test]
fn frequencies_and_levels_match_the_table() {
    for z in ZONES {
        for p in Progress::ALL {
            let t = z.tone(p);
            // The first on segment (1 s of a continuous tone).
            let on_ms = t.cadence.first().map_or(1000, |&ms| ms as usize);
            let x = generate(t, on_ms);
            for &hz in t.components() {
                // The Goertzel peak, searched ±30 Hz in 1 Hz steps, is the nominal frequency.
                // Table frequencies are whole Hz below 1000.
                #[allow(clippy::cast_possible_truncation)]
                let nominal = hz.round() as i64;
                let peak = (nominal - 30..=nominal + 30)
                    .max_by(|&a, &b| amplitude(&x, a as f64).total_cmp(&amplitude(&x, b as f64)))
                    .unwrap();
                assert!((peak - nominal).abs() <= 1, "{} {p:?}: {hz} Hz peaks at {peak} Hz", z.code);
                let level = dbm0_of_peak(amplitude(&x, hz));
                assert!((level - t.dbm0).abs() < 0.2, "{} {p:?}: {hz} Hz at {level:.2} dBm0, want {}", z.code, t.dbm0);
            }
            // Nothing but the components: the total power is theirs.
            let power = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64;
            let want = t.components().len() as f64 * DBM0_RMS * DBM0_RMS * 10f64.powf(t.dbm0 / 10.0);
            let db = 10.0 * (power / want).log10();
            assert!(db.abs() < 0.2, "{} {p:?}: total power {db:.2} dB off", z.code);
        }
    }
}

#[test]
fn amplitude_holds_over_a_long_call() {
    // The renormalised phasors must not drift: 10 minutes of dial tone end at the start level.
    let t = zone("us").unwrap().dial;
    let mut g = ToneGenerator::new(&t);
    let mut b = [0i16; BLOCK];
    for _ in 0..600_000 {
        g.process(&mut b);
    }
    let mut tail = vec![0i16; 800 * BLOCK];
    for c in tail.chunks_exact_mut(BLOCK) {
        g.process(c.try_into().unwrap());
    }
    for &hz in t.components() {
        let level = dbm0_of_peak(amplitude(&tail, hz));
        assert!((level - t.dbm0).abs() < 0.2, "{hz} Hz at {level:.2} dBm0 after 10 min");
    }
}

struct Counting;

thread_local! {
    /// Per thread, so the harness's other test threads cannot disturb the count.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: during thread teardown the slots may be gone; such allocations are not ours.
    let _ = ARMED.try_with(|a| {
        if a.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every method forwards to `System` unchanged; the bookkeeping uses const-initialised
// `Cell`s, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's layout, which the caller guarantees valid.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout (all our allocations forward).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged; the caller guarantees `ptr`/`layout` and `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn generating_allocates_nothing() {
    let mut gens: Vec<ToneGenerator> =
        ZONES.iter().flat_map(|z| Progress::ALL.map(|p| ToneGenerator::new(z.tone(p)))).collect();
    let mut b = [0i16; BLOCK];
    ARMED.with(|a| a.set(true));
    // 12 s: every cadence wraps at least once.
    for _ in 0..12_000 {
        for g in &mut gens {
            g.process(&mut b);
        }
    }
    ARMED.with(|a| a.set(false));
    assert_eq!(COUNT.with(Cell::get), 0, "allocations while generating");
}
