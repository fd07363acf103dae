//! The optional DC-blocking high-pass filters on Sin and Rin (G.168 allows them in both paths).
//!
//! A one-pole, one-zero filter with its corner near 40 Hz: it removes the DC offset and mains hum
//! an analog line can carry, which would otherwise cost the adaptive filter its dynamic range,
//! while leaving the 300–3400 Hz voice band untouched.

/// Pole of the filter; 0.97 puts the -3 dB corner at about 40 Hz at 8 kHz.
const POLE: f32 = 0.97;

/// One high-pass filter's state.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Hpf {
    x1: f32,
    y1: f32,
}

impl Hpf {
    /// Filters one sample: `y[n] = g·(x[n] - x[n-1]) + POLE·y[n-1]`, unity gain at Nyquist.
    #[inline]
    pub(crate) fn step(&mut self, x: f32) -> f32 {
        let y = (1.0 + POLE) * 0.5 * (x - self.x1) + POLE * self.y1;
        self.x1 = x;
        self.y1 = y;
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_is_removed_and_voice_passes() {
        let mut h = Hpf::default();
        let mut last = 0.0;
        for _ in 0..4000 {
            last = h.step(1000.0);
        }
        assert!(last.abs() < 1.0, "DC left: {last}");
        let mut h = Hpf::default();
        let mut peak = 0.0f32;
        for n in 0..8000 {
            #[allow(clippy::cast_precision_loss, reason = "n < 8000")]
            let x = 1000.0 * (2.0 * std::f32::consts::PI * 300.0 * n as f32 / 8000.0).sin();
            let y = h.step(x);
            if n > 4000 {
                peak = peak.max(y.abs());
            }
        }
        assert!(peak > 970.0, "300 Hz attenuated to {peak}");
    }
}
