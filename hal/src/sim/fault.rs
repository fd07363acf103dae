//! A seeded fault injector that wraps any simulated span's receive path.
//!
//! Faults are drawn from a small deterministic PRNG (xorshift64*) so a failing run can be
//! replayed from its seed. The injector acts on the line frame before the receiver sees it, which is
//! where copper would hurt: a lost frame looks like a short loss of signal, a bit error corrupts
//! whatever timeslot it lands in (the CRC and the HDLC FCS notice), a slip repeats or drops a frame.

use super::frame::LineFrame;

/// How often each fault happens. All rates default to zero (a clean line).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultConfig {
    /// Seed of the PRNG; the same seed gives the same faults.
    pub seed: u64,
    /// Probability that a 1 ms frame is lost entirely (0.0..=1.0).
    pub frame_loss: f64,
    /// Probability that any one bit of the payload is flipped (0.0..=1.0).
    pub bit_error_rate: f64,
    /// Controlled slips per second, on top of those from clock drift.
    pub slips_per_s: f64,
    /// Loss-of-signal bursts per second.
    pub los_bursts_per_s: f64,
    /// Length of each loss-of-signal burst in milliseconds.
    pub los_burst_ms: u32,
}

impl FaultConfig {
    /// Whether any fault is configured.
    pub fn is_active(&self) -> bool {
        self.frame_loss > 0.0
            || self.bit_error_rate > 0.0
            || self.slips_per_s > 0.0
            || (self.los_bursts_per_s > 0.0 && self.los_burst_ms > 0)
    }
}

/// What the injector did to one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Injected {
    /// The frame is gone: the receiver sees no signal this millisecond.
    pub lost: bool,
    /// A slip must be applied to this frame.
    pub slip: bool,
    /// Bits flipped in the payload.
    pub bit_errors: u32,
}

/// The injector's running state.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    config: FaultConfig,
    rng: u64,
    los_left_ms: u32,
}

impl FaultInjector {
    /// An injector for `config`.
    pub fn new(config: FaultConfig) -> FaultInjector {
        FaultInjector {
            config,
            // xorshift must not start at zero.
            rng: config.seed ^ 0x9E37_79B9_7F4A_7C15,
            los_left_ms: 0,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A uniform draw in [0, 1).
    fn unit(&mut self) -> f64 {
        // 53 random mantissa bits.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Applies one millisecond of faults to `frame`, whose first `payload_len` octets are live.
    pub fn apply(&mut self, frame: &mut LineFrame, payload_len: usize) -> Injected {
        let mut out = Injected::default();
        let c = self.config;
        if self.los_left_ms > 0 {
            self.los_left_ms -= 1;
            out.lost = true;
            return out;
        }
        if c.los_bursts_per_s > 0.0 && c.los_burst_ms > 0 && self.unit() < c.los_bursts_per_s / 1000.0 {
            self.los_left_ms = c.los_burst_ms - 1;
            out.lost = true;
            return out;
        }
        if c.frame_loss > 0.0 && self.unit() < c.frame_loss {
            out.lost = true;
            return out;
        }
        if c.slips_per_s > 0.0 && self.unit() < c.slips_per_s / 1000.0 {
            out.slip = true;
        }
        if c.bit_error_rate > 0.0 && payload_len > 0 {
            // The number of errors in n bits is binomial; draw it one bit position at a time with
            // geometric gaps so a low rate costs one draw per frame, not one per bit.
            let bits = payload_len * 8;
            let p = c.bit_error_rate.min(1.0);
            let mut pos = 0usize;
            loop {
                let gap = if p >= 1.0 {
                    0
                } else {
                    let u = self.unit().max(f64::MIN_POSITIVE);
                    // Saturating float-to-int: a huge gap simply ends the frame.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let g = (u.ln() / (1.0 - p).ln()).floor() as usize;
                    g
                };
                pos = pos.saturating_add(gap);
                if pos >= bits {
                    break;
                }
                frame.payload[pos / 8] ^= 1 << (pos % 8);
                out.bit_errors += 1;
                pos += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: FaultConfig, ms: usize) -> (usize, usize, u32) {
        let mut inj = FaultInjector::new(config);
        let mut lost = 0;
        let mut slips = 0;
        let mut bits = 0;
        for _ in 0..ms {
            let mut f = LineFrame::default();
            let r = inj.apply(&mut f, 256);
            lost += usize::from(r.lost);
            slips += usize::from(r.slip);
            bits += r.bit_errors;
        }
        (lost, slips, bits)
    }

    #[test]
    fn clean_line_injects_nothing() {
        assert_eq!(run(FaultConfig::default(), 10_000), (0, 0, 0));
    }

    #[test]
    fn same_seed_same_faults_other_seed_other_faults() {
        let c = FaultConfig {
            seed: 42,
            frame_loss: 0.01,
            bit_error_rate: 1e-4,
            slips_per_s: 5.0,
            ..FaultConfig::default()
        };
        let a = run(c, 20_000);
        assert_eq!(a, run(c, 20_000));
        assert_ne!(a, run(FaultConfig { seed: 43, ..c }, 20_000));
    }

    #[test]
    fn rates_are_roughly_honoured() {
        let c = FaultConfig {
            seed: 7,
            frame_loss: 0.01,
            bit_error_rate: 1e-4,
            slips_per_s: 10.0,
            ..FaultConfig::default()
        };
        let (lost, slips, bits) = run(c, 100_000);
        // 1000 expected losses, ~990 expected slips (10/s over the 99 s of frames not lost),
        // ~20 000 expected bit errors (2048 bits x 1e-4 x 99 000 frames).
        assert!((800..1200).contains(&lost), "lost {lost}");
        assert!((850..1150).contains(&slips), "slips {slips}");
        assert!((17_000..23_500).contains(&bits), "bit errors {bits}");
    }

    #[test]
    fn los_bursts_last_their_length() {
        let c = FaultConfig { seed: 1, los_bursts_per_s: 2.0, los_burst_ms: 50, ..FaultConfig::default() };
        let mut inj = FaultInjector::new(c);
        let mut run_len = 0;
        let mut runs = Vec::new();
        for _ in 0..20_000 {
            let mut f = LineFrame::default();
            if inj.apply(&mut f, 256).lost {
                run_len += 1;
            } else if run_len > 0 {
                runs.push(run_len);
                run_len = 0;
            }
        }
        assert!(!runs.is_empty());
        assert!(runs.iter().all(|r| r % 50 == 0), "{runs:?}");
    }
}
