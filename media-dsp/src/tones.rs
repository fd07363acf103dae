//! Call-progress tones per country (dial, ringback, busy, congestion) on 8-sample blocks.
//!
//! The zone table follows DAHDI's tone zones (`zonedata.c` in dahdi-tools; zone codes as in
//! `system.conf`'s `loadzone`), whose frequencies and cadences come from ITU-T E.180 Supplement 2
//! ("Various tones used in national networks", the ITU's `tones-0203` list) and, for the UK, BT
//! SIN 350. Each entry below was checked against that table; where DAHDI notes that the country
//! gives no congestion tone (France), we keep DAHDI's choice and say so.
//!
//! Levels: E.180 Supplement 2 lists frequencies and cadences only. For North America the AT&T
//! Precise Tone Plan fixes the levels per component (dial -13, audible ringing -19, busy and reorder
//! -24 dBm0); elsewhere we send -10 dBm0 per component, the level DAHDI's libtonezone uses for
//! every zone (`LEVEL` in `tonezone.c`), so a gateway replacing DAHDI sounds the same.
//!
//! The generator runs two phasor oscillators (a complex multiply per sample, renormalised every
//! block so rounding cannot make the amplitude drift) and steps through the cadence in samples. No
//! allocation, no lock: the cadences are `'static` slices.

use crate::dtmf::{BLOCK, DBM0_RMS, SAMPLE_RATE};

/// The four call-progress tones a gateway plays where the far side gives no in-band progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Dial,
    Ringback,
    Busy,
    Congestion,
}

impl Progress {
    pub const ALL: [Progress; 4] = [Progress::Dial, Progress::Ringback, Progress::Busy, Progress::Congestion];
}

/// One tone: up to two frequencies summed, each at `dbm0`, switched on and off by `cadence`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tone {
    /// Component frequencies in Hz; a second component of 0 means a single tone.
    pub hz: [f64; 2],
    /// Level of each component in dBm0.
    pub dbm0: f64,
    /// Alternating on and off durations in ms, starting with on, repeated; empty is continuous.
    pub cadence: &'static [u32],
}

impl Tone {
    /// The components actually present.
    pub fn components(&self) -> &[f64] {
        if self.hz[1] > 0.0 {
            &self.hz
        } else {
            &self.hz[..1]
        }
    }

    /// One cadence cycle in ms (0 for a continuous tone).
    pub fn period_ms(&self) -> u32 {
        self.cadence.iter().sum()
    }
}

/// A country's tones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zone {
    /// DAHDI's zone code (`loadzone = fr`).
    pub code: &'static str,
    pub country: &'static str,
    pub dial: Tone,
    pub ringback: Tone,
    pub busy: Tone,
    pub congestion: Tone,
}

impl Zone {
    pub fn tone(&self, p: Progress) -> &Tone {
        match p {
            Progress::Dial => &self.dial,
            Progress::Ringback => &self.ringback,
            Progress::Busy => &self.busy,
            Progress::Congestion => &self.congestion,
        }
    }
}

/// Per-component level outside North America (see the module doc).
const EU: f64 = -10.0;

const fn one(hz: f64, cadence: &'static [u32]) -> Tone {
    Tone { hz: [hz, 0.0], dbm0: EU, cadence }
}

const fn two(a: f64, b: f64, dbm0: f64, cadence: &'static [u32]) -> Tone {
    Tone { hz: [a, b], dbm0, cadence }
}

/// The zones, in DAHDI's order (its zone numbers: us 0, fr 2, nl 3, uk 4, es 6, at 9, it 11,
/// be 17, de 29, ch 30).
pub static ZONES: &[Zone] = &[
    Zone {
        code: "us",
        country: "United States / North America",
        dial: two(350.0, 440.0, -13.0, &[]),
        ringback: two(440.0, 480.0, -19.0, &[2000, 4000]),
        busy: two(480.0, 620.0, -24.0, &[500, 500]),
        congestion: two(480.0, 620.0, -24.0, &[250, 250]),
    },
    Zone {
        code: "fr",
        country: "France",
        dial: one(440.0, &[]),
        ringback: one(440.0, &[1500, 3500]),
        busy: one(440.0, &[500, 500]),
        // E.180 Supplement 2 gives France no congestion tone; DAHDI's 250/250 is kept.
        congestion: one(440.0, &[250, 250]),
    },
    Zone {
        code: "nl",
        country: "Netherlands",
        dial: one(425.0, &[]),
        ringback: one(425.0, &[1000, 4000]),
        busy: one(425.0, &[500, 500]),
        congestion: one(425.0, &[250, 250]),
    },
    Zone {
        code: "uk",
        country: "United Kingdom",
        dial: two(350.0, 440.0, EU, &[]),
        ringback: two(400.0, 450.0, EU, &[400, 200, 400, 2000]),
        busy: one(400.0, &[375, 375]),
        congestion: one(400.0, &[400, 350, 225, 525]),
    },
    Zone {
        code: "es",
        country: "Spain",
        dial: one(425.0, &[]),
        ringback: one(425.0, &[1500, 3000]),
        busy: one(425.0, &[200, 200]),
        congestion: one(425.0, &[200, 200, 200, 200, 200, 600]),
    },
    Zone {
        code: "at",
        country: "Austria",
        dial: one(420.0, &[]),
        ringback: one(420.0, &[1000, 5000]),
        busy: one(420.0, &[400, 400]),
        congestion: one(420.0, &[200, 200]),
    },
    Zone {
        code: "it",
        country: "Italy",
        dial: one(425.0, &[200, 200, 600, 1000]),
        ringback: one(425.0, &[1000, 4000]),
        busy: one(425.0, &[500, 500]),
        congestion: one(425.0, &[200, 200]),
    },
    Zone {
        code: "be",
        country: "Belgium",
        dial: one(425.0, &[]),
        ringback: one(425.0, &[1000, 3000]),
        busy: one(425.0, &[500, 500]),
        congestion: one(425.0, &[167, 167]),
    },
    Zone {
        code: "de",
        country: "Germany",
        dial: one(425.0, &[]),
        ringback: one(425.0, &[1000, 4000]),
        busy: one(425.0, &[480, 480]),
        congestion: one(425.0, &[240, 240]),
    },
    Zone {
        code: "ch",
        country: "Switzerland",
        dial: one(425.0, &[]),
        ringback: one(425.0, &[1000, 4000]),
        busy: one(425.0, &[500, 500]),
        congestion: one(425.0, &[200, 200]),
    },
];

/// The zone with DAHDI code `code` (case-insensitive).
pub fn zone(code: &str) -> Option<&'static Zone> {
    ZONES.iter().find(|z| z.code.eq_ignore_ascii_case(code))
}

/// A call-progress tone generator for one channel.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    /// Per component: the phasor (re, im) and its per-sample rotation (cos, sin).
    osc: [(f64, f64, f64, f64); 2],
    /// Peak amplitude per component in sample units (0 for an absent component).
    amp: [f64; 2],
    cadence: &'static [u32],
    /// Cadence segment (even: on, odd: off) and samples left in it.
    seg: usize,
    left: u32,
}

impl ToneGenerator {
    pub fn new(tone: &Tone) -> Self {
        let mut osc = [(1.0, 0.0, 1.0, 0.0); 2];
        let mut amp = [0.0; 2];
        for (i, &hz) in tone.components().iter().enumerate() {
            let w = std::f64::consts::TAU * hz / f64::from(SAMPLE_RATE);
            osc[i] = (1.0, 0.0, w.cos(), w.sin());
            amp[i] = DBM0_RMS * std::f64::consts::SQRT_2 * 10f64.powf(tone.dbm0 / 20.0);
        }
        let left = tone.cadence.first().map_or(0, |&ms| ms * SAMPLE_RATE / 1000);
        ToneGenerator { osc, amp, cadence: tone.cadence, seg: 0, left }
    }

    /// Writes the next 1 ms block.
    pub fn process(&mut self, out: &mut [i16; BLOCK]) {
        for o in out.iter_mut() {
            let mut v = 0.0;
            for ((re, im, c, s), a) in self.osc.iter_mut().zip(self.amp) {
                v += a * *im;
                let r = *re * *c - *im * *s;
                *im = *re * *s + *im * *c;
                *re = r;
            }
            let on = self.cadence.is_empty() || self.seg % 2 == 0;
            // Clamped to the i16 range first, so the conversion is exact.
            #[allow(clippy::cast_possible_truncation)]
            let x = if on { v.round().clamp(-32768.0, 32767.0) as i16 } else { 0 };
            *o = x;
            if !self.cadence.is_empty() {
                self.left -= 1;
                if self.left == 0 {
                    self.seg = (self.seg + 1) % self.cadence.len();
                    self.left = self.cadence[self.seg] * SAMPLE_RATE / 1000;
                }
            }
        }
        // Keeps |phasor| at 1: the first-order correction of 1/sqrt(|z|²) suffices, as the error
        // after one block is ~1e-15.
        for (re, im, _, _) in &mut self.osc {
            let k = 1.5 - 0.5 * (*re * *re + *im * *im);
            *re *= k;
            *im *= k;
        }
    }
}
