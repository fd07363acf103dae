//! The simulated line: a G.168 echo path model behind a bulk delay, scaled to an ERL, with the
//! canceller in front of it, run segment by segment so a test can freeze, switch or open it.

use media_dsp::echo::{Config, EchoCanceller};

use super::models::{Model, MODELS};
use super::signals::{f64s, to_i16};

/// An echo path: `delay` samples of nothing, then the model scaled to `erl_db`.
#[derive(Clone)]
pub struct Path {
    pub delay: usize,
    pub h: Vec<f64>,
}

impl Path {
    /// The model scaled so that the far-end CSS comes back `erl_db` weaker: G.168's ERL is a level
    /// ratio measured with the test signal, not the taps' energy (they differ by a few dB because
    /// the models are not flat).
    pub fn new(model: &Model, erl_db: f64, delay: usize) -> Self {
        let probe = super::signals::css(&super::models::CSS_C3, 2.8, -16.0, 0x5eed);
        let (mut pin, mut pout) = (0.0, 0.0);
        for t in model.taps.len()..probe.len() {
            let e: f64 = model.taps.iter().enumerate().map(|(k, &h)| f64::from(h) * probe[t - k]).sum();
            pout += e * e;
            pin += probe[t] * probe[t];
        }
        let g = 10f64.powf(-erl_db / 20.0) * (pin / pout).sqrt();
        Path { delay, h: model.taps.iter().map(|&t| f64::from(t) * g).collect() }
    }

    /// An open path (infinite return loss, G.168 Test 5).
    pub fn open() -> Self {
        Path { delay: 0, h: vec![0.0] }
    }
}

/// The canceller on a line, with the full far-end history so the echo is continuous across
/// segments and path switches.
pub struct Line {
    pub ec: EchoCanceller,
    pub path: Path,
    rin: Vec<i16>,
    /// Everything the canceller has output so far, and its Sin and Rin, for measurements.
    pub sout: Vec<f64>,
    pub sin: Vec<f64>,
    pub rin_all: Vec<f64>,
    /// The echo alone (no near end) as it entered Sin.
    pub echo: Vec<f64>,
}

impl Line {
    pub fn new(config: Config, path: Path) -> Self {
        Line {
            ec: EchoCanceller::new(config),
            path,
            rin: Vec::new(),
            sout: Vec::new(),
            sin: Vec::new(),
            rin_all: Vec::new(),
            echo: Vec::new(),
        }
    }

    /// Samples run so far.
    pub fn now(&self) -> usize {
        self.sout.len()
    }

    /// Runs `rin` (sent to the line) with `near` (the near-end talker and noise, or empty for
    /// none) added to the echo at Sin. Lengths are rounded down to whole blocks.
    pub fn run(&mut self, rin: &[f64], near: &[f64]) {
        let n = rin.len() / 8 * 8;
        let rin16 = to_i16(&rin[..n]);
        let start = self.rin.len();
        self.rin.extend_from_slice(&rin16);
        let mut sin = Vec::with_capacity(n);
        for i in 0..n {
            let t = start + i;
            let mut e = 0.0;
            for (k, h) in self.path.h.iter().enumerate() {
                if t >= k + self.path.delay {
                    e += h * f64::from(self.rin[t - k - self.path.delay]);
                }
            }
            self.echo.push(e);
            sin.push(e + near.get(i).copied().unwrap_or(0.0));
        }
        let mut s16 = to_i16(&sin);
        self.sin.extend(f64s(&s16));
        self.ec.process(&mut s16, &rin16);
        self.sout.extend(f64s(&s16));
        self.rin_all.extend(f64s(&rin16));
    }
}

/// G.168 levels the sweep uses (LRin, dBm0).
pub const LEVELS: [f32; 3] = [-30.0, -16.0, -6.0];

/// Every (model index, level) pair with its bulk delay: the delays spread evenly from 0 to 100 ms
/// over the 24 cases, so every model meets short and long delays across the levels.
pub fn cases() -> Vec<(usize, f32, usize)> {
    let mut v = Vec::new();
    for m in 0..MODELS.len() {
        for (l, &lv) in LEVELS.iter().enumerate() {
            let idx = m * 3 + l;
            // Spread 0..=100 ms; a permutation so neighbouring models differ.
            let slot = (idx * 7) % 24;
            let delay = slot * 800 / 23;
            v.push((m, lv, delay));
        }
    }
    v
}

/// Figure 9 (NLP on): the highest allowed returned echo level for an input level.
pub fn fig9(lrin: f32) -> f64 {
    if lrin <= -10.0 {
        -65.0
    } else {
        -65.0 + f64::from(lrin + 10.0)
    }
}

/// Figure 11 (NLP off): the highest allowed residual echo level, (25/30)·LRin − 30.
pub fn fig11(lrin: f32) -> f64 {
    25.0 / 30.0 * f64::from(lrin) - 30.0
}
