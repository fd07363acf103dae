//! What a simulated span is plugged into.

use std::path::PathBuf;

/// The far side of a simulated span's line.
#[derive(Debug, Clone, PartialEq)]
pub enum LineSpec {
    /// Nothing plugged in: permanent loss of signal (RED).
    Open,
    /// A simulated far end living in the same world: the provider's exchange (`provider`), a legacy
    /// PBX (`pbx`), an analog phone (`phone`) or an analog exchange line (`exchange`). It runs on
    /// its own clock, `drift_ppm` away from nominal.
    FarEnd { role: FarEndRole, drift_ppm: f64 },
    /// A cable to another of this board's spans, by span number.
    Span(u32),
    /// A cable to a span in another process: this end listens on a `SOCK_SEQPACKET` socket.
    Listen(PathBuf),
    /// A cable to a span in another process: this end connects to a listening one.
    Connect(PathBuf),
    /// Only the D-channel, on a Unix datagram socket bound at this path, in libpri's framing: one
    /// datagram is one Q.921 frame plus 2 dummy FCS octets. Replies go to the last sender. Layer 1
    /// is always up; the bearer channels carry idle code.
    DchanSocket(PathBuf),
}

/// Who the simulated far end is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FarEndRole {
    Provider,
    Pbx,
    Phone,
    Exchange,
}

impl FarEndRole {
    /// The name used in config files and on the status page.
    pub const fn as_str(self) -> &'static str {
        match self {
            FarEndRole::Provider => "provider",
            FarEndRole::Pbx => "pbx",
            FarEndRole::Phone => "phone",
            FarEndRole::Exchange => "exchange",
        }
    }
}
