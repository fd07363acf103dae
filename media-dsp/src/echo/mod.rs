//! The G.168-class line echo canceller: 8-sample blocks in place, up to 1024 taps (128 ms).
//!
//! ```text
//! rin (far end, sent to the line) ──┬──────────────────────────────▶ (to the hybrid)
//!                                   ▼
//!                     history ─▶ background IPNLMS ──┐ promote / demote (two-path control)
//!                                 foreground filter ◀┘
//!                                   │ y (echo estimate)
//! sin (near end + echo) ─HPF─▶ (−) ─┴─▶ e ─▶ NLP (residual removed, comfort noise) ─▶ sout
//!                   tone disabler (2100 Hz + phase reversals) ─▶ bypass
//! ```
//!
//! [`EchoCanceller::process`] runs one or more 8-sample blocks: `sin` (near-end input with echo)
//! is replaced by the cancelled signal, `rin` is the far-end reference that was sent to the line.
//! It allocates nothing and takes no lock; all buffers are sized in [`EchoCanceller::new`]. The
//! vector kernel (scalar or AVX2/FMA) is chosen once there.
//!
//! How the pieces decide, per block:
//! - the background filter (IPNLMS in a pre-whitened domain, see `nlms`) adapts with a step that
//!   shrinks as its error nears the background noise (a non-parametric variable step: fast while
//!   the echo is large, quiet once converged), only while the far end is talking now, and slows to
//!   a crawl while the double-talk detector (`dtd`) holds; converged and undisturbed, it adapts at
//!   every fourth sample only (tracking), which is what makes 1000+ channels per core;
//! - the foreground takes the background's taps once the background's error has been at least 1 dB
//!   (6 dB during double talk) lower for 3 blocks and the background cancels at least 6 dB (or the
//!   foreground makes Sin louder, as when the echo path opens); a background 6 dB worse than the
//!   converged foreground for 32 blocks is reset to the foreground (divergence protection);
//! - the NLP replaces the output with comfort noise while the far end is active and nobody talks at
//!   the near end.
//!
//! Fax mode ([`EchoCanceller::set_fax_mode`]) is the tone disabler's bypass asked for by the call
//! logic when its fax detector hears CNG or CED: Sin passes untouched and nothing adapts until the
//! call ends (`reset`).

mod dtd;
mod hpf;
mod nlms;
mod nlp;
mod tone;

use crate::simd::Kernel;

/// Samples per block (1 ms at 8 kHz), the unit of the media path.
pub const BLOCK: usize = 8;
/// The longest tail: 1024 taps, 128 ms.
pub const MAX_TAPS: usize = 1024;

/// Largest adaptation step.
const MU_MAX: f32 = 0.8;
/// Smallest step while adapting at all, so the filter keeps tracking even near the noise floor.
const MU_MIN: f32 = 0.1;
/// Step while only the residual rule sees a near-end talker.
const MU_SOFT: f32 = 0.05;
/// Step while the Geigel rule sees one (louder than any echo should be).
const MU_LOUD: f32 = 0.01;
/// Far-end power (over the tail) below which the far end counts as silent: -45 dBm0.
const FAR_ACTIVE_DBM0: f32 = -45.0;
/// Long-term ERLE (dB) from which the residual double-talk rule is trusted: below it the
/// relative error still swings with the far end's spectrum.
const RESIDUAL_RULE_DB: f32 = 20.0;
/// Long-term ERLE (dB) above which the canceller calls itself converged.
const CONVERGED_DB: f32 = 12.0;

/// The power of a level in dBm0, in squared 16-bit sample units (0 dBm0 is 16 141 rms, the A-law
/// convention: a full-scale sine is +3.14 dBm0).
pub fn db_to_power(dbm0: f32) -> f32 {
    let rms = 16_141.0 * 10f32.powf(dbm0 / 20.0);
    rms * rms
}

/// A level difference in dB as a power ratio.
fn db_ratio(db: f32) -> f32 {
    10f32.powf(db / 10.0)
}

/// A power in squared sample units as dBm0.
pub fn power_to_db(power: f32) -> f32 {
    10.0 * (power.max(1e-10) / (16_141.0f32 * 16_141.0)).log10()
}

/// How a canceller is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Tail length in taps (8 kHz samples), rounded up to a multiple of 16, at most [`MAX_TAPS`].
    pub taps: usize,
    /// Non-linear processor with comfort noise.
    pub nlp: bool,
    /// DC-blocking high-pass filter on Sin.
    pub hpf_sin: bool,
    /// The same filter on Rin as the filter's reference (the Rin sent to the line is untouched).
    /// Use both or neither: on Sin alone the filter's tail becomes part of the echo path.
    pub hpf_rin: bool,
    /// The G.165 tone disabler (2100 Hz with phase reversals puts the canceller in bypass).
    pub tone_disabler: bool,
    /// Adaptation; off freezes the filters (G.168 tests freeze the H register this way).
    pub adapt: bool,
}

impl Default for Config {
    fn default() -> Self {
        // The high-pass filters go together: on Sin alone the filter's own long tail would be part
        // of the echo path the adaptive filter must learn.
        Config { taps: MAX_TAPS, nlp: true, hpf_sin: true, hpf_rin: true, tone_disabler: true, adapt: true }
    }
}

/// Per-channel statistics for the status page; a snapshot, cheap to copy.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Echo return loss, Rin over Sin, in dB (long-term, far-end-only periods).
    pub erl_db: f32,
    /// Echo return loss enhancement, Sin over the cancelled signal, in dB.
    pub erle_db: f32,
    /// Near-end speech detected during the far end (adaptation slowed to a crawl).
    pub double_talk: bool,
    /// The NLP replaced the last block with comfort noise.
    pub nlp_active: bool,
    /// The long-term ERLE reached 12 dB.
    pub converged: bool,
    /// The tone disabler holds the canceller in bypass (or fax mode does).
    pub bypassed: bool,
    /// Fax mode ([`EchoCanceller::set_fax_mode`]): bypassed until the next reset.
    pub fax_mode: bool,
    /// Comfort-noise (background) level estimate in dBm0.
    pub background_dbm0: f32,
}

/// One channel's echo canceller.
pub struct EchoCanceller {
    config: Config,
    filter: nlms::TwoPath,
    dtd: dtd::DoubleTalk,
    cng: nlp::ComfortNoise,
    tone: tone::ToneDisabler,
    hpf_sin: hpf::Hpf,
    hpf_rin: hpf::Hpf,
    /// Smoothed (about 8 ms) block powers: background error, foreground error, Sin.
    p_bg: f32,
    p_fg: f32,
    p_sin: f32,
    better_run: u32,
    worse_run: u32,
    /// Long-term powers over far-end-only blocks: Rin, Sin, foreground error, echo estimate.
    lt_rin: f32,
    lt_sin: f32,
    lt_err: f32,
    lt_y: f32,
    /// Envelope of the echo estimate's power, and the error power lightly smoothed.
    y_env: f32,
    e_fast: f32,
    /// Step for the next block.
    mu: f32,
    talk: bool,
    residual_armed: bool,
    /// Blocks processed (wrapping), for work done on alternate blocks.
    block_count: u32,
    /// Fax mode: the call logic heard a fax or modem tone (see `set_fax_mode`).
    fax: bool,
    /// The last block's error was well above the expected residual.
    disturbed: bool,
    stats: Stats,
}

impl std::fmt::Debug for EchoCanceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EchoCanceller").field("config", &self.config).field("stats", &self.stats).finish()
    }
}

impl EchoCanceller {
    /// A canceller on the fastest kernel this CPU runs.
    pub fn new(config: Config) -> Self {
        Self::with_kernel(config, Kernel::detect())
    }

    /// A canceller on a given kernel (tests compare kernels this way).
    pub fn with_kernel(mut config: Config, kernel: Kernel) -> Self {
        config.taps = config.taps.clamp(16, MAX_TAPS).div_ceil(16) * 16;
        EchoCanceller {
            filter: nlms::TwoPath::new(config.taps, kernel),
            dtd: dtd::DoubleTalk::new(config.taps / BLOCK),
            cng: nlp::ComfortNoise::new(),
            tone: tone::ToneDisabler::new(),
            hpf_sin: hpf::Hpf::default(),
            hpf_rin: hpf::Hpf::default(),
            p_bg: 0.0,
            p_fg: 0.0,
            p_sin: 0.0,
            better_run: 0,
            worse_run: 0,
            lt_rin: 0.0,
            lt_sin: 0.0,
            lt_err: 0.0,
            lt_y: 0.0,
            y_env: 0.0,
            e_fast: 0.0,
            mu: MU_MAX,
            talk: false,
            residual_armed: false,
            block_count: 0,
            fax: false,
            disturbed: false,
            stats: Stats::default(),
            config,
        }
    }

    /// The configuration in force (taps rounded).
    pub fn config(&self) -> Config {
        self.config
    }

    /// The kernel chosen at construction.
    pub fn kernel(&self) -> Kernel {
        self.filter.kernel()
    }

    /// Statistics as of the last block (the dB figures are computed here, not per block).
    pub fn stats(&self) -> Stats {
        Stats {
            erl_db: 10.0 * (self.lt_rin.max(1e-3) / self.lt_sin.max(1e-3)).log10(),
            erle_db: 10.0 * self.erle_ratio().log10(),
            background_dbm0: power_to_db(self.cng.level()),
            ..self.stats
        }
    }

    /// Long-term Sin over error power (the ERLE as a ratio).
    fn erle_ratio(&self) -> f32 {
        self.lt_sin.max(1e-3) / self.lt_err.max(1e-3)
    }

    /// Turns the NLP on or off without touching the filters.
    pub fn set_nlp(&mut self, on: bool) {
        self.config.nlp = on;
    }

    /// Freezes (false) or resumes (true) adaptation; G.168 freezes the H register this way.
    pub fn set_adapt(&mut self, on: bool) {
        self.config.adapt = on;
    }

    /// Fax mode, the G.164/G.165 tone-disabler behaviour made explicit for the call logic (a fax
    /// detector heard CNG or an answer tone): the canceller is bypassed - Sin passes untouched
    /// (no high-pass, no subtraction, NLP off, no comfort noise) and the filters are frozen, not
    /// even run - until fax mode is turned off or [`EchoCanceller::reset`] starts a new session.
    /// Unlike the in-path disabler it does not wait for phase reversals nor release on silence:
    /// a T.30 session has pauses longer than the 250 ms G.165 release, and any echo path change
    /// learned during one would have to be unlearned by the next call anyway.
    pub fn set_fax_mode(&mut self, on: bool) {
        self.fax = on;
        self.stats.fax_mode = on;
        self.stats.bypassed = on;
        if on {
            self.stats.nlp_active = false;
        }
    }

    /// Whether fax mode is on.
    pub fn fax_mode(&self) -> bool {
        self.fax
    }

    /// Forgets everything learned: taps, history, levels (G.168 "reset the H register"), and
    /// leaves fax mode.
    pub fn reset(&mut self) {
        self.fax = false;
        self.filter.reset();
        self.dtd.reset();
        self.cng.reset();
        self.tone.reset();
        self.hpf_sin = hpf::Hpf::default();
        self.hpf_rin = hpf::Hpf::default();
        (self.p_bg, self.p_fg, self.p_sin) = (0.0, 0.0, 0.0);
        (self.better_run, self.worse_run) = (0, 0);
        (self.lt_rin, self.lt_sin, self.lt_err, self.lt_y) = (0.0, 0.0, 0.0, 0.0);
        (self.y_env, self.e_fast) = (0.0, 0.0);
        self.mu = MU_MAX;
        self.talk = false;
        self.residual_armed = false;
        self.disturbed = false;
        self.stats = Stats::default();
    }

    /// Cancels the echo of `rin` in `sin`, in place, one 8-sample block at a time.
    ///
    /// # Panics
    /// If the slices differ in length or the length is not a multiple of [`BLOCK`].
    pub fn process(&mut self, sin: &mut [i16], rin: &[i16]) {
        assert!(
            sin.len() == rin.len() && sin.len() % BLOCK == 0,
            "sin ({}) and rin ({}) must be equal multiples of {BLOCK} samples",
            sin.len(),
            rin.len()
        );
        for (s, r) in sin.chunks_exact_mut(BLOCK).zip(rin.chunks_exact(BLOCK)) {
            let s: &mut [i16; BLOCK] = s.try_into().expect("chunks_exact yields whole blocks");
            let r: &[i16; BLOCK] = r.try_into().expect("chunks_exact yields whole blocks");
            self.block(s, r);
        }
    }

    fn block(&mut self, sin: &mut [i16; BLOCK], rin: &[i16; BLOCK]) {
        if self.fax {
            // Fax mode: the data call's near end untouched, nothing adapts (see `set_fax_mode`).
            return;
        }
        let mut s = [0.0f32; BLOCK];
        let mut r = *rin;
        let mut rf = [0.0f32; BLOCK];
        for i in 0..BLOCK {
            s[i] = f32::from(sin[i]);
            if self.config.hpf_sin {
                s[i] = self.hpf_sin.step(s[i]);
            }
            if self.config.hpf_rin {
                r[i] = to_i16(self.hpf_rin.step(f32::from(rin[i])));
            }
            rf[i] = f32::from(r[i]);
        }
        let bypass = self.config.tone_disabler && self.tone.block(&s, &rf);
        let mu = if self.config.adapt && !bypass { self.mu } else { 0.0 };
        // Converged and the error where a converged canceller leaves it: track, adapting at every
        // fourth sample (a quarter of the background's cost, the dominant one). Anything else
        // (converging, an echo path change, an error above the expected residual) adapts at every
        // sample. The G.168 set and the convergence targets are met with this in place.
        let tracking = self.residual_armed && !self.disturbed;
        let stride = if tracking { 4 } else { 1 };
        // While tracking, the two-path comparison runs on every second block (its powers are
        // averaged over 8 ms anyway); otherwise on every block.
        self.block_count = self.block_count.wrapping_add(1);
        let bg_error = !tracking || self.block_count % 2 == 0;
        let out = self.filter.block(&s, &r, mu, stride, bg_error);
        if bypass {
            // Transparent path for the data call: the near end untouched (not even high-passed).
            self.stats.bypassed = true;
            self.stats.nlp_active = false;
            return;
        }
        self.stats.bypassed = false;

        let ps = mean_square(&s);
        let pr = mean_square(&rf);
        let pe_fg = mean_square(&out.e_fg);
        let pe_bg = bg_error.then(|| mean_square(&out.e_bg));
        let py = mean_square(&out.y_fg);
        if self.config.adapt {
            // Frozen means the output filter does not change either (G.168's frozen H register).
            self.two_path(ps, pe_fg, pe_bg, self.talk);
        }

        // Double talk, with the residual rule once converged.
        // The echo estimate's envelope decays slowly (about 16 ms) so the tail of an echo burst, where
        // the relative error is naturally larger, is not taken for a talker.
        self.y_env = py.max(self.y_env * 0.94);
        self.e_fast += (pe_fg - self.e_fast) * 0.5;
        // Armed at 20 dB, disarmed below 10 dB: a leak of undetected double talk into the long-term
        // levels must not switch off the very rule that detects it.
        let erle = self.erle_ratio();
        if erle >= db_ratio(RESIDUAL_RULE_DB) {
            self.residual_armed = true;
        } else if erle < db_ratio(CONVERGED_DB - 2.0) {
            self.residual_armed = false;
        }
        let expected = if self.residual_armed && self.lt_y > 0.0 {
            Some((self.e_fast, self.y_env * (self.lt_err / self.lt_y).max(1e-4) + self.cng.level()))
        } else {
            None
        };
        // Geigel threshold: 6 dB above the measured echo gain, within [-3, 0] dB; -3 dB (an ERL of
        // 6 dB, what G.168 assumes of a hybrid) until the ERL is measured. At 0 dB a near end
        // talking from the start nearly as loud as the far end on a line with no echo (a digital
        // loop) was learnt as a 1 dB echo, and the NLP then muted it for the rest of the call.
        let geigel = if self.lt_rin > 0.0 { (4.0 * self.lt_sin / self.lt_rin).clamp(0.5, 1.0) } else { 0.5 };
        let verdict = self.dtd.update(ps, pr, geigel, expected);
        let far_active = verdict.rin_max > db_to_power(FAR_ACTIVE_DBM0);
        self.talk = verdict.talk;

        // Long-term levels over far-end-only blocks: ERL, ERLE, the residual ratio. Near-end
        // talk the detector misses leaks in here and would make the residual rule blind to the
        // next talk, so blocks whose error is already 6 dB above the expected residual are left
        // out, and the error level rises 16 times slower than it falls.
        let suspicious = expected.is_some_and(|(e, x)| e > 4.0 * x);
        self.disturbed = suspicious;
        if far_active && !self.talk && !suspicious {
            const LT: f32 = 1.0 / 256.0;
            self.lt_rin += (pr - self.lt_rin) * LT;
            self.lt_sin += (ps - self.lt_sin) * LT;
            let rate = if pe_fg > self.lt_err { LT / 16.0 } else { LT };
            self.lt_err += (pe_fg - self.lt_err) * rate;
            self.lt_y += (py - self.lt_y) * LT;
            self.stats.converged = self.erle_ratio() >= db_ratio(CONVERGED_DB);
        }
        // Sin teaches the background level only in a block with no echo in it: residual echo taken
        // for background would make the comfort noise itself an echo (G.168 Test 2A). No echo means
        // the far end silent over the whole tail, or, once converged, over the stretch of history
        // where the foreground holds the echo path (a far-end pause longer than the path's delay
        // plus length). The smoothing of the stored block powers spreads them by a block or two.
        let (first, last) = self.filter.span();
        let path_quiet = self.dtd.rin_max_between(first / BLOCK, last / BLOCK + 2) < db_to_power(FAR_ACTIVE_DBM0);
        let echo_free = !far_active || (self.stats.converged && !self.talk && path_quiet);
        // In an echo-free block Sin itself is the background (plus any near-end talk, which the
        // minimum skips); the cancelled signal could also hold the filter's own misprediction.
        // A far end that never pauses gives no echo-free block (G.168 Test 9); then the output of
        // a converged canceller with no near-end talk teaches the level too, but only while it is
        // stationary, which residual echo under a bursty far end is not (see `nlp`).
        let error_ok = far_active && self.stats.converged && !self.talk && !suspicious;
        self.cng.track(echo_free.then_some(ps), pe_fg, error_ok);
        self.stats.double_talk = self.talk && far_active;

        // Next block's step: non-parametric variable step against the background level.
        // Near-end talk slows the background rather than freezing it: what the detectors call
        // talk may also be an echo path change, or an echo louder than G.168's 6 dB ERL at some
        // frequencies (model D.6 returns a 500 Hz tone only 1 dB down), which the background must
        // still learn. The two-path control keeps near-end-polluted taps out of the foreground.
        // Adapt only while the far end is talking now: in the echo tail after it stops, the window
        // is mostly empty, the few taps still excited take all of each step, and a converged
        // filter wanders by several dB there (G.168 Test 4 caught it).
        self.mu = if !far_active || verdict.rin_now < db_to_power(FAR_ACTIVE_DBM0) {
            0.0
        } else {
            let ratio = (self.cng.level() / self.p_bg.max(1e-3)).sqrt();
            let mu = (1.0 - ratio).clamp(MU_MIN, MU_MAX);
            if verdict.loud_talk {
                mu.min(MU_LOUD)
            } else if self.talk {
                mu.min(MU_SOFT)
            } else {
                mu
            }
        };

        let mut e = out.e_fg;
        let nlp = self.config.nlp && far_active && !verdict.loud_talk;
        if nlp {
            self.cng.fill(&mut e);
        }
        self.stats.nlp_active = nlp;
        for (o, v) in sin.iter_mut().zip(e) {
            *o = to_i16(v);
        }
    }

    /// The two-path control: promote a better background, demote a diverged one.
    /// `talk` is the previous block's double-talk verdict: while someone talks at the near end
    /// the background may partly fit the talker, so it must be 6 dB better rather than 1 dB (an
    /// echo path change still gives it that much, a talker does not).
    /// `pe_bg` is `None` on blocks where the background's error was not computed: the control
    /// then waits for the next block that has it.
    fn two_path(&mut self, ps: f32, pe_fg: f32, pe_bg: Option<f32>, talk: bool) {
        const S: f32 = 0.125;
        self.p_fg += (pe_fg - self.p_fg) * S;
        self.p_sin += (ps - self.p_sin) * S;
        let Some(pe_bg) = pe_bg else { return };
        // Fed every block or every second block; the same 8 ms either way.
        let rate = if self.block_count % 2 == 0 && self.residual_armed && !self.disturbed { 2.0 * S } else { S };
        self.p_bg += (pe_bg - self.p_bg) * rate;
        // A foreground whose error exceeds Sin is making things worse (e.g. the echo path opened):
        // then any clearly better background is taken.
        let margin = if talk { 0.25 } else { 0.8 };
        if self.p_bg < margin * self.p_fg && (self.p_bg < 0.25 * self.p_sin || self.p_fg > self.p_sin) {
            self.better_run += 1;
            if self.better_run >= 3 {
                self.filter.promote();
                self.p_fg = self.p_bg;
                self.better_run = 0;
            }
        } else {
            self.better_run = 0;
        }
        if self.stats.converged && self.p_bg > 4.0 * self.p_fg {
            self.worse_run += 1;
            if self.worse_run >= 32 {
                self.filter.demote();
                self.p_bg = self.p_fg;
                self.worse_run = 0;
            }
        } else {
            self.worse_run = 0;
        }
    }
}

fn mean_square(x: &[f32; BLOCK]) -> f32 {
    x.iter().map(|v| v * v).sum::<f32>() / 8.0
}

/// Rounds and saturates to a 16-bit sample.
#[inline]
fn to_i16(v: f32) -> i16 {
    // Round half away from zero without libm's `roundf` call; `as` saturates (and maps NaN to 0).
    #[allow(clippy::cast_possible_truncation, reason = "saturating float-to-int conversion is the intent")]
    let s = (v + 0.5f32.copysign(v)) as i16;
    s
}
