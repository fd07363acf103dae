//! The DTMF transmitter: queued digits as Q.23 tone pairs at set levels, durations and pauses,
//! written into 8-sample blocks without allocation.
//!
//! Default levels: -10 dBm0 for the low-group tone and -8 dBm0 for the high-group tone. Q.23 fixes
//! the frequencies and Q.24 defers the levels to national specifications; those agree on a send
//! level around -10 dBm0 per tone with the high group 1–4 dB above the low one (pre-emphasis for
//! the line's high-frequency loss; UK SIN 351: -7 to -13 dBm per tone, high 1–4 dB above low). We
//! take 2 dB, the middle of that range. Default timing is 70 ms on and 70 ms off: above the 40 ms
//! minimum of tone and pause that receivers must accept, and about 7 digits per second, inside the
//! 10 per second limit.

use super::{dbm0_to_peak, position, BLOCK, COL_HZ, ROW_HZ, SAMPLE_RATE};

/// How digits are sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneratorConfig {
    /// Level of the low-group (row) tone in dBm0.
    pub low_dbm0: f64,
    /// Level of the high-group (column) tone in dBm0.
    pub high_dbm0: f64,
    /// Tone duration per digit in milliseconds.
    pub on_ms: u32,
    /// Silence after each digit in milliseconds.
    pub off_ms: u32,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig { low_dbm0: -10.0, high_dbm0: -8.0, on_ms: 70, off_ms: 70 }
    }
}

/// The digit queue is full, or the character is not a DTMF digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

impl std::fmt::Display for QueueFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DTMF queue full or not a DTMF digit")
    }
}

impl std::error::Error for QueueFull {}

/// Digits that can wait to be sent.
const QUEUE: usize = 64;

/// A DTMF sender for one channel.
#[derive(Debug, Clone)]
pub struct Generator {
    config: GeneratorConfig,
    /// Queued (row, column) pairs, as a ring.
    queue: [(u8, u8); QUEUE],
    head: usize,
    len: usize,
    /// The digit being sent: angular steps (rad/sample) and peak amplitudes of its two tones.
    tones: Option<[(f64, f64); 2]>,
    /// Sample index within the current digit's on + off period.
    n: u32,
    on: u32,
    period: u32,
}

impl Default for Generator {
    fn default() -> Self {
        Self::new(GeneratorConfig::default())
    }
}

impl Generator {
    pub fn new(config: GeneratorConfig) -> Self {
        let on = config.on_ms * (SAMPLE_RATE / 1000);
        let period = on + config.off_ms * (SAMPLE_RATE / 1000);
        Generator { config, queue: [(0, 0); QUEUE], head: 0, len: 0, tones: None, n: 0, on, period }
    }

    pub fn config(&self) -> GeneratorConfig {
        self.config
    }

    /// Queues one digit (`0-9 * # A-D`, lower-case accepted).
    pub fn push(&mut self, digit: char) -> Result<(), QueueFull> {
        let (r, c) = position(digit).ok_or(QueueFull)?;
        if self.len == QUEUE {
            return Err(QueueFull);
        }
        #[allow(clippy::cast_possible_truncation, reason = "keypad positions are < 4")]
        let pos = (r as u8, c as u8);
        self.queue[(self.head + self.len) % QUEUE] = pos;
        self.len += 1;
        Ok(())
    }

    /// Queues every digit of `digits`; stops at the first that does not fit.
    pub fn push_str(&mut self, digits: &str) -> Result<(), QueueFull> {
        digits.chars().try_for_each(|d| self.push(d))
    }

    /// Nothing queued and nothing being sent.
    pub fn is_idle(&self) -> bool {
        self.tones.is_none() && self.len == 0
    }

    /// Writes the next 1 ms of signal (silence when idle).
    pub fn fill(&mut self, out: &mut [i16; BLOCK]) {
        for s in out.iter_mut() {
            if self.tones.is_none() && !self.start_next() {
                *s = 0;
                continue;
            }
            let [(w1, a1), (w2, a2)] = self.tones.unwrap_or_default();
            let v = if self.n < self.on {
                let n = f64::from(self.n);
                a1 * (w1 * n).sin() + a2 * (w2 * n).sin()
            } else {
                0.0
            };
            #[allow(clippy::cast_possible_truncation, reason = "clamped to the i16 range first")]
            let v = v.round().clamp(-32_768.0, 32_767.0) as i16;
            *s = v;
            self.n += 1;
            if self.n >= self.period {
                self.tones = None;
            }
        }
    }

    fn start_next(&mut self) -> bool {
        if self.len == 0 || self.period == 0 {
            return false;
        }
        let (r, c) = self.queue[self.head];
        self.head = (self.head + 1) % QUEUE;
        self.len -= 1;
        let step = |hz: f64| std::f64::consts::TAU * hz / f64::from(SAMPLE_RATE);
        self.tones = Some([
            (step(ROW_HZ[usize::from(r)]), dbm0_to_peak(self.config.low_dbm0)),
            (step(COL_HZ[usize::from(c)]), dbm0_to_peak(self.config.high_dbm0)),
        ]);
        self.n = 0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_digit_has_the_configured_shape_and_level() {
        let mut g = Generator::new(GeneratorConfig { low_dbm0: -10.0, high_dbm0: -10.0, on_ms: 40, off_ms: 20 });
        g.push('5').unwrap();
        let mut s = Vec::new();
        for _ in 0..80 {
            let mut b = [0i16; BLOCK];
            g.fill(&mut b);
            s.extend_from_slice(&b);
        }
        assert!(g.is_idle());
        assert!(s[320..].iter().all(|&x| x == 0));
        let p: f64 = s[..320].iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / 320.0;
        // Two tones at -10 dBm0 each: -6.99 dBm0 in total.
        let want = 2.0 * super::super::dbm0_to_power(-10.0);
        assert!((10.0 * (p / want).log10()).abs() < 0.1, "{p} vs {want}");
    }

    #[test]
    fn bad_digits_and_a_full_queue_are_refused() {
        let mut g = Generator::default();
        assert_eq!(g.push('x'), Err(QueueFull));
        for _ in 0..QUEUE {
            g.push('1').unwrap();
        }
        assert_eq!(g.push('1'), Err(QueueFull));
    }
}
