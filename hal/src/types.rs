//! Plain values shared by every backend: span kinds and settings, alarms, counters, capabilities.

use std::fmt;
use std::time::Duration;

/// What kind of line a span terminates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// 2.048 Mbit/s, 32 timeslots: TS0 framing, TS16 the D-channel in CCS.
    E1,
    /// 1.544 Mbit/s, 24 channels: channel 24 the D-channel in PRI.
    T1,
    /// ISDN basic rate: 2 B-channels and a 16 kbit/s D-channel.
    Bri,
    /// An analog port that feeds a phone (it provides battery and ring).
    Fxs,
    /// An analog port that connects to an exchange line.
    Fxo,
}

impl SpanKind {
    /// Timeslots carried per frame, counting TS0 on E1.
    pub const fn timeslots(self) -> usize {
        match self {
            SpanKind::E1 => 32,
            SpanKind::T1 => 24,
            SpanKind::Bri => 3,
            SpanKind::Fxs | SpanKind::Fxo => 1,
        }
    }

    /// The bearer channel numbers a span of this kind can carry (1-based).
    pub const fn channel_range(self) -> (u8, u8) {
        match self {
            SpanKind::E1 => (1, 31),
            SpanKind::T1 => (1, 24),
            SpanKind::Bri => (1, 3),
            SpanKind::Fxs | SpanKind::Fxo => (1, 1),
        }
    }

    /// The channel that carries the D-channel in common-channel signalling.
    pub const fn default_dchan(self) -> Option<u8> {
        match self {
            SpanKind::E1 => Some(16),
            SpanKind::T1 => Some(24),
            SpanKind::Bri => Some(3),
            SpanKind::Fxs | SpanKind::Fxo => None,
        }
    }

    /// Octets of D-channel bit stream per millisecond (64 kbit/s on PRI, 16 kbit/s on BRI).
    pub const fn dchan_octets_per_ms(self) -> usize {
        match self {
            SpanKind::E1 | SpanKind::T1 => 8,
            SpanKind::Bri => 2,
            SpanKind::Fxs | SpanKind::Fxo => 0,
        }
    }

    /// True for E1, T1 and BRI.
    pub const fn is_digital(self) -> bool {
        matches!(self, SpanKind::E1 | SpanKind::T1 | SpanKind::Bri)
    }

    /// The lower-case name used in config files.
    pub const fn as_str(self) -> &'static str {
        match self {
            SpanKind::E1 => "e1",
            SpanKind::T1 => "t1",
            SpanKind::Bri => "bri",
            SpanKind::Fxs => "fxs",
            SpanKind::Fxo => "fxo",
        }
    }
}

impl fmt::Display for SpanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpanKind::E1 => "E1",
            SpanKind::T1 => "T1",
            SpanKind::Bri => "BRI",
            SpanKind::Fxs => "FXS",
            SpanKind::Fxo => "FXO",
        })
    }
}

/// Frame format (T1) or signalling mode (E1), as `system.conf` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// Common-channel signalling (E1 PRI, BRI).
    Ccs,
    /// Channel-associated signalling (E1 with TS16 multiframe).
    Cas,
    /// T1 superframe.
    D4,
    /// T1 extended superframe.
    Esf,
}

impl Framing {
    /// The `system.conf` keyword.
    pub const fn as_str(self) -> &'static str {
        match self {
            Framing::Ccs => "ccs",
            Framing::Cas => "cas",
            Framing::D4 => "d4",
            Framing::Esf => "esf",
        }
    }
}

/// Line code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineCoding {
    Hdb3,
    Ami,
    B8zs,
}

impl LineCoding {
    /// The `system.conf` keyword.
    pub const fn as_str(self) -> &'static str {
        match self {
            LineCoding::Hdb3 => "hdb3",
            LineCoding::Ami => "ami",
            LineCoding::B8zs => "b8zs",
        }
    }
}

/// Which end of the line this span plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Termination {
    /// Terminal equipment: takes the line from the network (user side).
    Te,
    /// Network termination: provides the line (network side).
    Nt,
}

impl Termination {
    /// The lower-case name used in config files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Termination::Te => "te",
            Termination::Nt => "nt",
        }
    }
}

/// G.711 companding law of the bearer channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    Alaw,
    Mulaw,
}

impl Law {
    /// The code an idle channel carries (positive zero with the line's inversion).
    pub const fn idle_code(self) -> u8 {
        match self {
            Law::Alaw => 0xD5,
            Law::Mulaw => 0xFF,
        }
    }

    /// The lower-case name used in config files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Law::Alaw => "alaw",
            Law::Mulaw => "mulaw",
        }
    }
}

/// Everything a line interface needs to know to come up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanConfig {
    pub kind: SpanKind,
    pub framing: Framing,
    pub coding: LineCoding,
    pub crc4: bool,
    /// Clock source priority: 0 never, 1 preferred, 2 next, ...
    pub timing: u8,
    pub termination: Termination,
    pub law: Law,
    /// Line build-out, 0..=7 (T1 only; 0 elsewhere).
    pub lbo: u8,
    /// The D-channel's channel number, if the span runs common-channel signalling.
    pub dchan: Option<u8>,
    /// Bearer channel numbers in use (1-based).
    pub bchans: Vec<u8>,
}

impl SpanConfig {
    /// The usual settings for a span of `kind`: CCS with HDB3 and CRC-4 on E1, ESF/B8ZS on T1, and
    /// every bearer channel in use.
    pub fn defaults(kind: SpanKind) -> SpanConfig {
        let (framing, coding, crc4) = match kind {
            SpanKind::E1 => (Framing::Ccs, LineCoding::Hdb3, true),
            SpanKind::T1 => (Framing::Esf, LineCoding::B8zs, false),
            SpanKind::Bri => (Framing::Ccs, LineCoding::Ami, false),
            SpanKind::Fxs | SpanKind::Fxo => (Framing::Ccs, LineCoding::Ami, false),
        };
        let dchan = kind.default_dchan();
        let (lo, hi) = kind.channel_range();
        let bchans = (lo..=hi).filter(|c| Some(*c) != dchan).collect();
        SpanConfig {
            kind,
            framing,
            coding,
            crc4,
            timing: 0,
            termination: Termination::Te,
            law: if kind == SpanKind::T1 { Law::Mulaw } else { Law::Alaw },
            lbo: 0,
            dchan,
            bchans,
        }
    }
}

/// The alarm state of a span, as DAHDI reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Alarms {
    /// Loss of signal or of frame alignment at our receiver.
    pub red: bool,
    /// The far end reports it cannot see us (remote alarm indication).
    pub yellow: bool,
    /// The far end sends all ones (alarm indication signal): something upstream failed.
    pub blue: bool,
    /// The span is looped back.
    pub loopback: bool,
}

impl Alarms {
    /// No alarm at all.
    pub const fn is_clear(&self) -> bool {
        !(self.red || self.yellow || self.blue || self.loopback)
    }

    /// Whether the received signal is good enough to recover a clock from.
    pub const fn can_time(&self) -> bool {
        !(self.red || self.blue || self.loopback)
    }
}

impl fmt::Display for Alarms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clear() {
            return f.write_str("OK");
        }
        let mut sep = "";
        for (on, name) in [(self.blue, "BLUE"), (self.yellow, "YELLOW"), (self.red, "RED"), (self.loopback, "LOOP")] {
            if on {
                write!(f, "{sep}{name}")?;
                sep = "/";
            }
        }
        Ok(())
    }
}

/// Error counters of a span, monotonically increasing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanCounters {
    /// Controlled slips: a frame repeated or dropped because the far end runs on another clock.
    pub slips: u64,
    /// CRC-4 (E1) or CRC-6 (T1 ESF) multiframe errors.
    pub crc_errors: u64,
    /// D-channel frames received with a bad FCS.
    pub fcs_errors: u64,
    /// D-channel frames ended by an abort sequence or too long to be valid.
    pub hdlc_aborts: u64,
    /// D-channel frames dropped because no one read them in time.
    pub hdlc_overruns: u64,
    /// Ticks the span missed because the host woke too late (DAHDI's "IRQ misses").
    pub late_ticks: u64,
    /// D-channel frames sent and received.
    pub hdlc_tx_frames: u64,
    pub hdlc_rx_frames: u64,
}

/// Where the board takes its timing from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncSource {
    /// The board's own oscillator: no healthy span may be a clock source.
    Internal,
    /// Recovered from this span's received signal.
    Span(u32),
}

impl fmt::Display for SyncSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncSource::Internal => f.write_str("internal"),
            SyncSource::Span(n) => write!(f, "span {n}"),
        }
    }
}

/// A span's state at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanStatus {
    pub alarms: Alarms,
    pub counters: SpanCounters,
    /// Whether the board currently takes its clock from this span.
    pub clock_master: bool,
    /// Whether the span has been started.
    pub running: bool,
}

/// What a span or board can do, so callers ask instead of trying.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The card cancels echo itself (a VPM module).
    pub hardware_echo_canceller: bool,
    /// The card frames HDLC itself (`hardhdlc`), instead of the host doing it.
    pub hardware_hdlc: bool,
    /// The span may be switched between TE and NT.
    pub nt_mode: bool,
    /// The span's line can be put in loopback.
    pub loopback: bool,
    /// Faults can be injected (simulated spans only).
    pub fault_injection: bool,
    /// The board transcodes (TC400B).
    pub transcoder: bool,
}

/// What one wake-up of the clock looked like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// Ticks since the clock started.
    pub seq: u64,
    /// How long after the tick's deadline the thread woke.
    pub lateness: Duration,
    /// Whole ticks missed because the wake-up came too late.
    pub missed: u32,
}

/// Static facts about a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardInfo {
    /// The board model as the config names it (`sim-e1x2`, `te205p`, ...).
    pub model: String,
    /// The backend driving it: `sim` or `dahdi`.
    pub backend: &'static str,
    pub capabilities: Capabilities,
}
