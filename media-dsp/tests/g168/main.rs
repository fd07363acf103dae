//! The ITU-T G.168 test set for the line echo canceller, plus its convergence targets.
//!
//! Every test runs the eight G.168 echo path models (Annex D, `models.rs`) at LRin −30, −16 and
//! −6 dBm0, ERL 6 dB, with bulk delays spread from 0 to 100 ms (`harness::cases`). Each test's
//! name and failure message state the criterion; a failure lists every missed case with its
//! measured value. `NOT_APPLICABLE` lists what is deliberately not run and why; `NOT_YET_PASSING`
//! lists cases that fail today, with the measured value, and is empty when all pass.
//!
//! The criteria follow reference/dsp.md §6 (taken from two public G.168 harnesses, not from the
//! Recommendation itself): Figure 9 (NLP on) and Figure 11 (NLP off) are in `harness`.
//! Levels are measured through the G.168 §6.4.1.2.1 band-pass: means over a window, or the
//! highest 35 ms average ("peak") where a test says "every moment". Where the harnesses leave a
//! parameter open, the choice made is stated on the test: 3B's near-end levels (LRin and
//! LRin - 15 dB), 3C's phase lengths, Test 4's "within 5 dB of before" (MuTap's reading; the same
//! stimulus before and after), Test 5's loss after 1 s, Test 7's tones, Test 9's far end (Hoth
//! at -10 dBm0 as the harnesses do, plus 9css with a CSS far end). The ERL of 6 dB is set on the
//! far-end CSS, not on the taps' energy (the models are not flat; see `harness::Path::new`).
//! Signals are linear 16-bit (no G.711 companding in the loop).
//!
//! Run with `cargo test -p media-dsp --test g168 -- --nocapture` to see the margin table.

mod harness;
mod models;
mod signals;

use harness::{cases, fig11, fig9, Line, Path};
use media_dsp::echo::Config;
use models::{CSS_C1, CSS_C3, MODELS, TEST6_TONES};
use signals::{css, hoth, level, ms, peak_level, speech_like, tones, white};

/// G.168 tests deliberately not implemented, with the reason.
pub const NOT_APPLICABLE: &[(&str, &str)] = &[
    ("1", "Test 1 (steady-state residual with the H register frozen after convergence) is covered by 2B's Figure 11 check at 10 s and by the frozen checks of 2C, 3A, 3B, 4 and 6."),
    ("8", "Test 8 (non-linear echo paths / PCM offsets) is out of the scope the issue names."),
    ("10-15", "Tests 10-15 (fax/data, tandem, multiple reflections, speech-based) are out of the scope the issue names; spandsp and OSLEC stub them too."),
];

/// Cases measured failing today: (test, model or "*" for all, LRin or NaN for all, measured,
/// reason). A listed case still runs and prints its margin; it just does not fail the test.
pub const NOT_YET_PASSING: &[(&str, &str, f32, &str, &str)] = &[];

/// The two tables name real tests and give reasons, so neither can hide a case silently.
#[test]
fn the_exception_tables_name_tests_and_give_reasons() {
    const RUN: &[&str] = &["2A", "2A(b)", "2B", "2C", "3A", "3B", "3C", "4", "5", "6", "7", "9", "9css"];
    for (test, reason) in NOT_APPLICABLE {
        assert!(!RUN.contains(test) && reason.len() > 20, "NOT_APPLICABLE {test}");
    }
    for (test, model, _, measured, reason) in NOT_YET_PASSING {
        assert!(RUN.contains(test), "NOT_YET_PASSING names unknown test {test}");
        assert!(*model == "*" || MODELS.iter().any(|m| m.name == *model), "unknown model {model}");
        assert!(!measured.is_empty() && reason.len() > 20, "NOT_YET_PASSING {test} needs its measurement and reason");
    }
}

/// Standard ERL of the tests.
const ERL: f64 = 6.0;

fn cfg(nlp: bool) -> Config {
    Config { nlp, ..Config::default() }
}

/// One case's outcome: the margin (dB, positive = passed by that much) and what was measured.
struct Outcome {
    margin: f64,
    detail: String,
}

/// Runs `f` for every model, level and delay; prints a margin table; fails listing every miss
/// that is not in `NOT_YET_PASSING`.
fn sweep(test: &str, criterion: &str, f: impl Fn(usize, f32, usize) -> Outcome + Sync) {
    let all = cases();
    let results: Vec<(usize, f32, usize, Outcome)> = std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = all
            .chunks(12)
            .map(|chunk| s.spawn(move || chunk.iter().map(|&(m, l, d)| (m, l, d, f(m, l, d))).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("case thread")).collect()
    });
    let mut misses = Vec::new();
    let mut worst = f64::INFINITY;
    eprintln!("G.168 test {test}: {criterion}");
    for (m, l, d, o) in &results {
        let name = MODELS[*m].name;
        eprintln!(
            "  {name} LRin {l:>5} dBm0 delay {:>5.1} ms: margin {:>6.1} dB  ({})",
            *d as f64 / 8.0,
            o.margin,
            o.detail
        );
        worst = worst.min(o.margin);
        let listed = NOT_YET_PASSING
            .iter()
            .any(|(t, mm, ll, _, _)| *t == test && (*mm == "*" || *mm == name) && (ll.is_nan() || *ll == *l));
        if o.margin < 0.0 && !listed {
            misses.push(format!("{name} at LRin {l} dBm0 (delay {} samples): {}", d, o.detail));
        }
    }
    eprintln!("  worst margin {worst:.1} dB");
    for (_, mm, ll, measured, reason) in NOT_YET_PASSING.iter().filter(|e| e.0 == test) {
        eprintln!("  NOT YET PASSING ({mm} at {ll}): {measured}; {reason}");
    }
    assert!(misses.is_empty(), "G.168 test {test} ({criterion}) missed:\n{}", misses.join("\n"));
}

fn line(model: usize, lrin: f32, delay: usize, nlp: bool) -> Line {
    let _ = lrin;
    Line::new(cfg(nlp), Path::new(&MODELS[model], ERL, delay))
}

fn far(seconds: f64, lrin: f32, seed: u64) -> Vec<f64> {
    css(&CSS_C3, seconds, lrin, seed)
}

fn near(seconds: f64, dbm0: f32, seed: u64) -> Vec<f64> {
    css(&CSS_C1, seconds, dbm0, seed)
}

/// Test 2A: NLP on. Combined loss ≥ 6 dB in the first 50 ms, ≥ 20 dB in every 50 ms window after,
/// and after 1 s the returned echo never (35 ms peak) exceeds Figure 9.
#[test]
fn test_2a_convergence_nlp_on_loss_6db_at_50ms_20db_after_and_sout_below_fig9_after_1s() {
    sweep("2A", "loss >= 6 dB in 0-50 ms, >= 20 dB per 50 ms after; peak Sout <= Fig. 9 after 1 s", |m, l, d| {
        let mut ln = line(m, l, d, true);
        ln.run(&far(10.0, l, 1), &[]);
        let first = f64::from(l) - level(&ln.sout, 0, ms(50));
        let mut after = f64::INFINITY;
        for w in (ms(50)..ms(10_000)).step_by(ms(50)) {
            after = after.min(f64::from(l) - level(&ln.sout, w, w + ms(50)));
        }
        let peak = peak_level(&ln.sout, ms(1000), ms(10_000));
        let margin = (first - 6.0).min(after - 20.0).min(fig9(l) - peak);
        Outcome {
            margin,
            detail: format!(
                "loss 0-50ms {first:.1} dB, min loss after {after:.1} dB, peak Sout {peak:.1} dBm0 vs {:.0}",
                fig9(l)
            ),
        }
    });
}

/// Test 2A(b): converge 5 s on the case's model, then switch abruptly to the next model (same ERL
/// and delay); from the switch, NLP on: combined loss ≥ 6 dB in the first 50 ms, ≥ 20 dB in every
/// 50 ms window after, and after 1 s the returned echo never exceeds Figure 9.
#[test]
fn test_2a_b_after_an_abrupt_echo_path_change_same_criteria_as_2a() {
    sweep(
        "2A(b)",
        "after a model switch: loss >= 6 dB in 0-50 ms, >= 20 dB per 50 ms after; peak Sout <= Fig. 9 after 1 s",
        |m, l, d| {
            let mut ln = line(m, l, d, true);
            let rin = far(12.0, l, 21);
            ln.run(&rin[..ms(5000)], &[]);
            ln.path = Path::new(&MODELS[(m + 1) % MODELS.len()], ERL, d);
            let t = ln.now();
            ln.run(&rin[ms(5000)..], &[]);
            let first = f64::from(l) - level(&ln.sout, t, t + ms(50));
            let mut after = f64::INFINITY;
            for w in (t + ms(50)..t + ms(7000)).step_by(ms(50)) {
                after = after.min(f64::from(l) - level(&ln.sout, w, w + ms(50)));
            }
            let peak = peak_level(&ln.sout, t + ms(1000), t + ms(7000));
            let margin = (first - 6.0).min(after - 20.0).min(fig9(l) - peak);
            Outcome {
                margin,
                detail: format!(
                    "loss 0-50ms {first:.1} dB, min loss after {after:.1} dB, peak Sout {peak:.1} dBm0 vs {:.0}",
                    fig9(l)
                ),
            }
        },
    );
}

/// Test 2B: NLP off. Combined loss ≥ 20 dB in every 50 ms window from 1 s, and the residual at
/// 10 s within Figure 11.
#[test]
fn test_2b_convergence_nlp_off_loss_20db_from_1s_and_lres_below_fig11_at_10s() {
    sweep("2B", "loss >= 20 dB per 50 ms window from 1 s; LRES(10 s) <= Fig. 11", |m, l, d| {
        let mut ln = line(m, l, d, false);
        ln.run(&far(11.0, l, 2), &[]);
        let mut after = f64::INFINITY;
        for w in (ms(1000)..ms(11_000)).step_by(ms(50)) {
            after = after.min(f64::from(l) - level(&ln.sout, w, w + ms(50)));
        }
        let lres = level(&ln.sout, ms(10_000), ms(11_000));
        let margin = (after - 20.0).min(fig11(l) - lres);
        Outcome { margin, detail: format!("min loss from 1 s {after:.1} dB, LRES {lres:.1} dBm0 vs {:.1}", fig11(l)) }
    });
}

/// Convergence on white noise (-16 dBm0, model D.2, 50 ms bulk delay, ERL 6 dB, near-end noise
/// -65 dBm0, NLP off): ERLE over the 250 ms ending at 1 s ≥ 20 dB and at 2 s ≥ 30 dB.
#[test]
fn convergence_white_noise_erle_20db_at_1s_30db_at_2s() {
    for (m, model) in MODELS.iter().enumerate() {
        let mut ln = Line::new(cfg(false), Path::new(model, ERL, 400));
        let rin = white(3.0, -16.0, 7 + m as u64);
        let noise = white(3.0, -65.0, 99);
        ln.run(&rin, &noise);
        let erle = |t: usize| level(&ln.sin, t - ms(250), t) - level(&ln.sout, t - ms(250), t);
        let (e1, e2) = (erle(ms(1000)), erle(ms(2000)));
        eprintln!("white noise {}: ERLE {e1:.1} dB at 1 s, {e2:.1} dB at 2 s", model.name);
        assert!(
            e1 >= 20.0 && e2 >= 30.0,
            "{}: ERLE {e1:.1} dB at 1 s (need 20), {e2:.1} dB at 2 s (need 30)",
            model.name
        );
    }
}

/// Convergence on the bursty, coloured speech-like far end of reference/dsp.md §1 (gaps count in
/// the window): ERLE over the 500 ms ending at 2 s ≥ 20 dB.
#[test]
fn convergence_speech_like_erle_20db_by_2s() {
    for (m, model) in MODELS.iter().enumerate() {
        let mut ln = Line::new(cfg(false), Path::new(model, ERL, 400));
        let rin = speech_like(3.0, 11 + m as u64);
        let noise = white(3.0, -65.0, 98);
        ln.run(&rin, &noise);
        let e2 = level(&ln.sin, ms(1500), ms(2000)) - level(&ln.sout, ms(1500), ms(2000));
        eprintln!("speech-like {}: ERLE {e2:.1} dB over 1.5-2 s", model.name);
        assert!(e2 >= 20.0, "{}: ERLE {e2:.1} dB over 1.5-2 s (need 20)", model.name);
    }
}

/// Test 2C: Hoth noise at Sgen = min(LRin - 15, -30) dBm0 during 1 s of adaptation (NLP off),
/// then the H register frozen and the noise removed: the returned echo is at most the noise level.
#[test]
fn test_2c_convergence_in_noise_frozen_residual_at_most_the_noise_level() {
    sweep("2C", "after 1 s of adaptation in Hoth noise, frozen residual echo <= Sgen", |m, l, d| {
        let sgen = (l - 15.0).min(-30.0);
        let mut ln = line(m, l, d, false);
        let rin = far(3.0, l, 3);
        ln.run(&rin[..ms(1000)], &hoth(1.0, sgen, 4));
        ln.ec.set_adapt(false);
        ln.run(&rin[ms(1000)..], &[]);
        let ret = level(&ln.sout, ms(1100), ms(3000));
        let margin = f64::from(sgen) - ret;
        Outcome { margin, detail: format!("residual {ret:.1} dBm0 vs Sgen {sgen:.0} dBm0") }
    });
}

/// Test 3A: near-end CSS 15 dB below LRin during 5 s of adaptation (NLP off); frozen, with the
/// near end removed, the residual echo is at most the near-end level.
#[test]
fn test_3a_double_talk_low_near_end_still_converges_residual_below_sgen() {
    sweep("3A", "converge 5 s with Sgen = LRin - 15 dB, frozen residual <= Sgen", |m, l, d| {
        let sgen = l - 15.0;
        let mut ln = line(m, l, d, false);
        let rin = far(7.0, l, 5);
        ln.run(&rin[..ms(5000)], &near(5.0, sgen, 6));
        ln.ec.set_adapt(false);
        ln.run(&rin[ms(5000)..], &[]);
        let ret = level(&ln.sout, ms(5100), ms(7000));
        Outcome { margin: f64::from(sgen) - ret, detail: format!("residual {ret:.1} dBm0 vs Sgen {sgen:.0} dBm0") }
    });
}

/// Test 3B: converge 3 s, then 5 s of double talk (near-end CSS at LRin for (a), LRin - 15 dB for
/// (b)), NLP off; frozen, with the near end removed, LRES <= Figure 11 + 10 dB (a) / + 3 dB (b).
#[test]
fn test_3b_double_talk_no_divergence_lres_below_fig11_plus_10db_a_plus_3db_b() {
    sweep(
        "3B",
        "after 5 s double talk, frozen LRES <= Fig. 11 + 10 dB (Sgen = LRin) and + 3 dB (Sgen = LRin - 15)",
        |m, l, d| {
            let mut margin = f64::INFINITY;
            let mut detail = String::new();
            for (tag, sgen, allow) in [("a", l, 10.0), ("b", l - 15.0, 3.0)] {
                let mut ln = line(m, l, d, false);
                let rin = far(10.0, l, 7);
                ln.run(&rin[..ms(3000)], &[]);
                ln.run(&rin[ms(3000)..ms(8000)], &near(5.0, sgen, 8));
                ln.ec.set_adapt(false);
                ln.run(&rin[ms(8000)..], &[]);
                let lres = level(&ln.sout, ms(8100), ms(10_000));
                let lim = fig11(l) + allow;
                margin = margin.min(lim - lres);
                detail += &format!("{tag}: LRES {lres:.1} vs {lim:.1} dBm0; ");
            }
            Outcome { margin, detail }
        },
    );
}

/// Test 3C: a simulated conversation with the NLP on: converge 3 s, then twice 5.6 s of double
/// talk (near-end CSS at LRin) followed by 5.6 s of far end alone. In each far-end-alone phase the
/// returned echo (35 ms peak) stays below the near-end level during its first 1.4 s and within
/// Figure 9 + 5 dB (the peak allowance of the harnesses) afterwards.
#[test]
fn test_3c_conversation_echo_below_sgen_after_double_talk_and_fig9_later() {
    sweep("3C", "after double talk ends: peak Sout <= Sgen for 1.4 s, <= Fig. 9 + 5 dB after", |m, l, d| {
        let mut ln = line(m, l, d, true);
        let rin = far(3.0 + 4.0 * 5.6, l, 9);
        let p = ms(5600);
        ln.run(&rin[..ms(3000)], &[]);
        let mut margin = f64::INFINITY;
        let mut detail = String::new();
        for k in 0..2 {
            let t0 = ms(3000) + 2 * k * p;
            ln.run(&rin[t0..t0 + p], &near(5.6, l, 10 + k as u64));
            ln.run(&rin[t0 + p..t0 + 2 * p], &[]);
            let early = peak_level(&ln.sout, t0 + p, t0 + p + ms(1400));
            let late = peak_level(&ln.sout, t0 + p + ms(1400), t0 + 2 * p);
            margin = margin.min(f64::from(l) - early).min(fig9(l) + 5.0 - late);
            detail += &format!("phase {k}: {early:.1} / {late:.1} dBm0; ");
        }
        Outcome { margin, detail }
    });
}

/// Test 4: converge 3 s (NLP off), then 2 minutes of silence in both directions with adaptation
/// on, then frozen: the residual echo has degraded by at most 5 dB (no leakage of the H register).
#[test]
fn test_4_leak_after_2_minutes_of_silence_residual_degrades_at_most_5db() {
    sweep("4", "frozen residual after 2 min of silence within 5 dB of before", |m, l, d| {
        let mut ln = line(m, l, d, false);
        let rin = far(8.0, l, 12);
        ln.run(&rin[..ms(3000)], &[]);
        ln.ec.set_adapt(false);
        ln.run(&rin[ms(3000)..ms(5000)], &[]);
        let before = level(&ln.sout, ms(3100), ms(5000));
        ln.ec.set_adapt(std::env::var("T4FREEZE").is_err());
        ln.run(&vec![0.0; ms(120_000)], &[]);
        ln.ec.set_adapt(false);
        let t = ln.now();
        // The same stimulus as before the silence, so only the filter can differ.
        ln.run(&rin[ms(3000)..ms(5000)], &[]);
        let after = level(&ln.sout, t + ms(100), t + ms(2000));
        Outcome { margin: before + 5.0 - after, detail: format!("residual {before:.1} -> {after:.1} dBm0") }
    });
}

/// Test 5: converge 3 s, then the echo path is opened (infinite return loss) with adaptation on and
/// the NLP off: no phantom echo, Sout at least 20 dB below LRin in every 50 ms window from 1 s after
/// the opening.
#[test]
fn test_5_infinite_return_loss_no_phantom_echo_loss_20db() {
    sweep("5", "after the path opens, Sout >= 20 dB below LRin per 50 ms window from 1 s", |m, l, d| {
        let mut ln = line(m, l, d, false);
        let rin = far(8.0, l, 13);
        ln.run(&rin[..ms(3000)], &[]);
        ln.path = Path::open();
        ln.run(&rin[ms(3000)..], &[]);
        let mut worst = f64::NEG_INFINITY;
        for w in (ms(4000)..ms(8000)).step_by(ms(50)) {
            worst = worst.max(level(&ln.sout, w, w + ms(50)));
        }
        Outcome { margin: f64::from(l) - 20.0 - worst, detail: format!("loudest 50 ms window {worst:.1} dBm0") }
    });
}

/// Test 6: converge 3 s on CSS, then the G.168 §6.4.2.7 tones and tone pairs, 5 s each, with
/// adaptation on (NLP off); then frozen, the CSS residual stays within Figure 11 + 10 dB.
#[test]
fn test_6_narrowband_signals_no_divergence_lres_below_fig11_plus_10db() {
    sweep("6", "after 40 s of tones, frozen CSS LRES <= Fig. 11 + 10 dB", |m, l, d| {
        let mut ln = line(m, l, d, false);
        let rin = far(5.0, l, 14);
        ln.run(&rin[..ms(3000)], &[]);
        for (f1, f2) in TEST6_TONES {
            let lv = if f2 > 0.0 { l - 3.0 } else { l };
            ln.run(&tones(5.0, f1, f2, lv), &[]);
        }
        ln.ec.set_adapt(false);
        let t = ln.now();
        ln.run(&rin[ms(3000)..], &[]);
        let lres = level(&ln.sout, t + ms(100), t + ms(2000));
        let lim = fig11(l) + 10.0;
        Outcome { margin: lim - lres, detail: format!("LRES {lres:.1} vs {lim:.1} dBm0") }
    });
}

/// Test 7: a tone (1004 Hz; 500 Hz and 2000 Hz on alternate models) into a reset canceller for
/// 2 minutes (NLP off): from 10 s on, every 50 ms window of the residual stays within
/// 0.83 * LRin - 30 dB.
#[test]
fn test_7_stability_tone_for_2_minutes_residual_below_0_83_lrin_minus_30db() {
    sweep("7", "tone for 120 s: residual <= 0.83 LRin - 30 dB per 50 ms window from 10 s", |m, l, d| {
        let f = [1004.0, 500.0, 2000.0][m % 3];
        let mut ln = line(m, l, d, false);
        ln.run(&tones(120.0, f, 0.0, l), &[]);
        let lim = 0.83 * f64::from(l) - 30.0;
        let mut worst = f64::NEG_INFINITY;
        for w in (ms(10_000)..ms(120_000)).step_by(ms(50)) {
            worst = worst.max(level(&ln.sout, w, w + ms(50)));
        }
        Outcome { margin: lim - worst, detail: format!("{f} Hz: loudest window {worst:.1} vs {lim:.1} dBm0") }
    });
}

/// Runs Test 9's three background phases under `far_end`; returns (margin, detail).
fn comfort_noise_phases(ln: &mut Line, far_end: &[f64]) -> Outcome {
    let mut margin = f64::INFINITY;
    let mut detail = String::new();
    for (k, bg) in [-45.0f32, -55.0, -45.0].into_iter().enumerate() {
        let t0 = ms(10_000) * k;
        let noise = hoth(10.0, bg, 16 + k as u64);
        ln.run(&far_end[t0..t0 + ms(10_000)], &noise);
        let got = level(&ln.sout, t0 + ms(5000), t0 + ms(10_000));
        let want = level(&noise, ms(5000), ms(10_000));
        margin = margin.min(2.0 - (got - want).abs());
        detail += &format!("{bg}: {got:.1} vs {want:.1}; ");
    }
    Outcome { margin, detail }
}

/// Test 9: comfort noise as the harnesses run it: near-end Hoth noise at -45, then -55 ("adjust
/// down"), then -45 dBm0 ("adjust up"), 10 s each, under a continuous far-end Hoth noise at
/// -10 dBm0 (so LRin does not apply; the three rows differ by bulk delay), NLP on: over the last
/// 5 s of each phase, Sout matches the near-end noise level within ±2 dB.
#[test]
fn test_9_comfort_noise_level_within_2db_of_background_down_and_up() {
    sweep(
        "9",
        "Sout level over the last 5 s of each phase within 2 dB of the Hoth background (Rin Hoth -10 dBm0)",
        |m, _l, d| {
            let mut ln = line(m, -10.0, d, true);
            comfort_noise_phases(&mut ln, &hoth(30.0, -10.0, 15))
        },
    );
}

/// Test 9 with a speech-like far end: the same phases under far-end CSS at -10 dBm0, whose pauses
/// let the canceller see the background between echoes (where the pause outlasts the bulk delay).
#[test]
fn test_9css_comfort_noise_under_css_far_end_within_2db() {
    sweep(
        "9css",
        "Sout level over the last 5 s of each phase within 2 dB of the Hoth background (Rin CSS -10 dBm0)",
        |m, _l, d| {
            let mut ln = line(m, -10.0, d, true);
            comfort_noise_phases(&mut ln, &far(30.0, -10.0, 15))
        },
    );
}
