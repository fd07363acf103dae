//! DTMF (ITU-T Q.23/Q.24) on 8-sample blocks: a receiver (`detect`) and a transmitter (`generate`).
//!
//! Levels: 0 dBm0 is the G.711 digital milliwatt. We use the A-law convention for both laws, as
//! the echo canceller does: a full-scale sine (peak 32 767) is +3.14 dBm0, so 0 dBm0 is a sine of
//! 16 141 rms (22 827 peak). mu-law's full-scale sine is +3.17 dBm0; the 0.03 dB difference is
//! below anything a DTMF receiver resolves.
//!
//! The receiver targets the figures receivers are commonly held to (AT&T/Bellcore practice,
//! datasheets; reference/dsp.md §7): accept ±1.5% and reject ±3.5% per tone on both groups, twist up
//! to 8 dB with the low group louder and 4 dB with the high group louder, accept tones of 40 ms and
//! reject 20 ms, bridge drop-outs of 10 ms, work down to -40 dBm0 per tone and at 15 dB S/N.
//! `tests/dtmf_table.rs` measures every line and prints the table.

mod detect;
mod generate;

pub use detect::{Detector, Event, EventKind};
pub use generate::{Generator, GeneratorConfig, QueueFull};

// Compile-time sine and cosine, shared with the fax tone tables.
pub(crate) use detect::{cos as const_cos, sin as const_sin};

/// Samples per block: the 1 ms chunk of the media thread (DAHDI's chunk size).
pub const BLOCK: usize = 8;

/// Sample rate of every signal here.
pub const SAMPLE_RATE: u32 = 8000;

/// The Q.23 low-group (row) frequencies in Hz.
pub const ROW_HZ: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// The Q.23 high-group (column) frequencies in Hz.
pub const COL_HZ: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// The 16 digits by (row, column) of the Q.23 keypad.
pub const KEYPAD: [[char; 4]; 4] =
    [['1', '2', '3', 'A'], ['4', '5', '6', 'B'], ['7', '8', '9', 'C'], ['*', '0', '#', 'D']];

/// The rms value of a 0 dBm0 sine in 16-bit sample units (A-law convention, see the module doc).
pub const DBM0_RMS: f64 = 16_141.0;

/// The (row, column) of a digit, or `None` for a character that is not one of the 16 (lower-case
/// `a`..`d` are accepted for convenience).
pub fn position(digit: char) -> Option<(usize, usize)> {
    let d = digit.to_ascii_uppercase();
    KEYPAD.iter().enumerate().find_map(|(r, row)| row.iter().position(|&c| c == d).map(|c| (r, c)))
}

/// The peak amplitude of a sine at `dbm0`.
pub fn dbm0_to_peak(dbm0: f64) -> f64 {
    DBM0_RMS * std::f64::consts::SQRT_2 * 10f64.powf(dbm0 / 20.0)
}

/// The mean power (squared sample units) of a sine at `dbm0`.
pub fn dbm0_to_power(dbm0: f64) -> f64 {
    DBM0_RMS * DBM0_RMS * 10f64.powf(dbm0 / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypad_positions_round_trip() {
        for (r, row) in KEYPAD.iter().enumerate() {
            for (c, &d) in row.iter().enumerate() {
                assert_eq!(position(d), Some((r, c)));
            }
        }
        assert_eq!(position('a'), Some((0, 3)));
        assert_eq!(position('x'), None);
    }

    #[test]
    #[allow(clippy::approx_constant, reason = "3.14 is G.711's full-scale level in dBm0, not pi")]
    fn full_scale_sine_is_3_14_dbm0() {
        assert!((dbm0_to_peak(3.14) - 32_767.0).abs() < 10.0);
    }
}
