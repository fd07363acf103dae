//! The validated configuration: what the daemon applies once every check has passed.
//!
//! Every enum here has `as_str` (the spelling the config file uses, chan_dahdi's where there is
//! one) and `FromStr` accepting exactly that spelling, so import/export and the status page agree
//! with the file.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

pub use crate::route_cfg::{Endpoint, HuntMode, Npi, Route, Ton};
pub use crate::sip_cfg::{
    Codec, Dtmf, InboundAuth, IpNet, JitterBuffer, Register, Ringback, Sip, SipListen, Transport, Trunk,
};

/// A whole spangate configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it came from, as given to [`crate::load_file`] or [`crate::parse_str`].
    pub file: String,
    pub board: Board,
    pub sip: Sip,
    pub routes: Vec<Route>,
    pub ha: Ha,
    pub http: Http,
    pub log: Log,
}

/// The telephony board and its spans.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    /// Free text shown on the status page (defaults to the model).
    pub name: String,
    /// The board id: `te205p`, `b410p`, ... for real boards; any `sim-...` name for simulated ones.
    pub model: String,
    pub backend: Backend,
    pub description: String,
    /// The DAHDI tone zone (`loadzone`/`defaultzone`), `us` unless set.
    pub tonezone: String,
    /// The kernel module driving a real board.
    pub kernel_module: Option<String>,
    /// The DAHDI kernel block in ms (2..=32, default 10): the media thread wakes once per block and
    /// reads and writes it on every channel in use. Larger rides out a loaded machine (an emulated
    /// one in vm-test) at the cost of latency; it also sets the transmit cushion (3 blocks).
    pub block_ms: u8,
    /// Firmware files the module requests (under /lib/firmware).
    pub firmware: Vec<String>,
    /// `options <module> name=value` lines, in file order.
    pub module_options: Vec<(String, String)>,
    /// The transcoder of a TC400B.
    pub transcoder: Option<Transcoder>,
    /// Who converts G.729 legs: spangate's own codec, or a TC400B through DAHDI's transcoder
    /// interface (`transcoding = "hardware"`, DAHDI boards only; checked at start).
    pub transcoding: Transcoding,
    /// Spans in file order.
    pub spans: Vec<SpanCfg>,
}

/// The TC400B transcoder's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcoder {
    /// Transcoding channels the firmware offers in this mode.
    pub channels: u32,
    /// The `wctc4xxp` `mode` option: `g729`, `g723.1` or `any`.
    pub mode: String,
}

/// One span: its line settings (handed to the HAL as they are) and its signalling.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanCfg {
    /// Span number on the board, 1-based.
    pub number: u32,
    /// Name shown on the status page (`span N` unless set).
    pub name: String,
    pub hal: hal::SpanConfig,
    pub signalling: Signalling,
    pub switchtype: SwitchType,
    pub overlapdial: OverlapDial,
    pub layer1_presence: Layer1Presence,
    pub layer2_persistence: Layer2Persistence,
    /// Q.931 timers set for this span (`timers = { t309_ms = 6000 }`), chan_dahdi's `pritimer`.
    pub timers: IsdnTimers,
    /// Trunk groups (0..=63) the span's channels belong to.
    pub groups: Vec<u8>,
    /// Where incoming calls go (chan_dahdi's `context`).
    pub context: String,
    pub echo: Echo,
    /// Where the D-channel is captured, as a pcap file of link type 177 (ISDN spans only).
    pub pcap: Option<std::path::PathBuf>,
    /// What the daemon does with an incoming ISDN call until routing exists (tests and bring-up).
    pub incoming: Incoming,
    /// The DAHDI tone zone of the call-progress tones played on this span (dial, ringback, busy,
    /// congestion); `None` takes the board's `tonezone`.
    pub tonezone: Option<String>,
    /// The simulated line, on `backend = "sim"` boards (always present there: `open` by default).
    pub sim: Option<SimSpan>,
}

/// Q.931 timer values of an ISDN span in milliseconds (chan_dahdi's `pritimer`); `None` keeps
/// the protocol's default (Q.931 Tables 9-1 and 9-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsdnTimers {
    pub t301_ms: Option<u32>,
    pub t302_ms: Option<u32>,
    pub t303_ms: Option<u32>,
    pub t305_ms: Option<u32>,
    pub t308_ms: Option<u32>,
    pub t309_ms: Option<u32>,
    pub t310_ms: Option<u32>,
    pub t313_ms: Option<u32>,
    pub t316_ms: Option<u32>,
}

impl IsdnTimers {
    /// The keys of `timers`, in the order of the fields.
    pub const KEYS: [&'static str; 9] =
        ["t301_ms", "t302_ms", "t303_ms", "t305_ms", "t308_ms", "t309_ms", "t310_ms", "t313_ms", "t316_ms"];
    /// The shortest and longest value accepted: a timer under 100 ms would fire before a frame
    /// crosses a loaded D-channel, and none of Q.931's runs longer than an hour.
    pub const MIN_MS: u32 = 100;
    pub const MAX_MS: u32 = 3_600_000;
    /// Q.931's defaults (Tables 9-1 and 9-2), what the stack runs for a timer not set, in the
    /// order of `KEYS`. gateway-daemon's `q931::Timers::default()` holds the same values (a test
    /// there checks they agree); the DAHDI export writes them to undo a timer an earlier span set.
    pub const DEFAULT_MS: [u32; 9] = [180_000, 15_000, 4_000, 30_000, 4_000, 90_000, 30_000, 4_000, 120_000];

    /// The values, in the order of `KEYS`.
    pub fn values(&self) -> [Option<u32>; 9] {
        [
            self.t301_ms,
            self.t302_ms,
            self.t303_ms,
            self.t305_ms,
            self.t308_ms,
            self.t309_ms,
            self.t310_ms,
            self.t313_ms,
            self.t316_ms,
        ]
    }

    /// The field a key names.
    pub fn slot(&mut self, key: &str) -> Option<&mut Option<u32>> {
        Some(match key {
            "t301_ms" => &mut self.t301_ms,
            "t302_ms" => &mut self.t302_ms,
            "t303_ms" => &mut self.t303_ms,
            "t305_ms" => &mut self.t305_ms,
            "t308_ms" => &mut self.t308_ms,
            "t309_ms" => &mut self.t309_ms,
            "t310_ms" => &mut self.t310_ms,
            "t313_ms" => &mut self.t313_ms,
            "t316_ms" => &mut self.t316_ms,
            _ => return None,
        })
    }
}

/// What a simulated span is plugged into and how bad its line is.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSpan {
    pub line: hal::sim::LineSpec,
    pub fault: hal::sim::FaultConfig,
    /// The echo the simulated far end returns (`echo_path = { delay_ms, erl_db }`); far ends only.
    pub echo_path: Option<hal::sim::EchoPath>,
}

/// Line echo cancellation on a span's bearer channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo {
    pub mode: EchoMode,
    /// Tail length in taps (8 taps = 1 ms), a power of two in 32..=1024.
    pub taps: u16,
    /// The non-linear processor (residual echo suppression with comfort noise); off leaves the
    /// linear canceller alone, for data or for a line where the NLP clips speech (`nlp = false`).
    pub nlp: bool,
}

impl Default for Echo {
    fn default() -> Echo {
        // chan_dahdi's `echocancel = yes`.
        Echo { mode: EchoMode::Software, taps: 128, nlp: true }
    }
}

/// High availability with a peer appliance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ha {
    pub role: HaRole,
    /// This node's name in logs and on the status page.
    pub node: String,
    /// The peer's heartbeat socket.
    pub peer: Option<SocketAddr>,
    /// Our heartbeat socket.
    pub listen: SocketAddr,
    /// The shared HMAC key, or the file holding it (read by the daemon at start).
    pub key: Option<String>,
    pub key_file: Option<String>,
    /// Heartbeat period.
    pub interval_ms: u32,
    /// Heartbeats missed before the peer is declared dead.
    pub misses: u32,
    /// How long the master must be healthy before it takes the lines back.
    pub hold_secs: u32,
    /// The peer's HTTP API (`http://IP:PORT`): the second path asked before taking the lines.
    pub peer_http: Option<String>,
    /// Kick the berofos watchdog while healthy.
    pub watchdog: bool,
    /// The berofos switches that move the lines, moved as one.
    pub berofos: Vec<HaBerofos>,
}

/// One `[[ha.berofos]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaBerofos {
    /// HTTP address.
    pub address: SocketAddr,
    /// GBL4 (UDP) address.
    pub udp: SocketAddr,
    /// User and password for HTTP authentication.
    pub login: Option<(String, String)>,
    pub scenario: HaScenario,
}

/// The berofos wiring (reference/berofos.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaScenario {
    /// Two nodes: provider on A, master on B, slave on D.
    Fallback,
    /// One node in front of a PBX: provider A, node B, node's PBX side C, PBX D.
    Bypass,
}

impl Default for Ha {
    fn default() -> Ha {
        Ha {
            role: HaRole::Disabled,
            node: "disabled".into(),
            peer: None,
            listen: SocketAddr::from(([0, 0, 0, 0], 5405)),
            key: None,
            key_file: None,
            interval_ms: 200,
            misses: 5,
            hold_secs: 10,
            peer_http: None,
            watchdog: false,
            berofos: Vec::new(),
        }
    }
}

/// The status page and JSON API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http {
    pub enabled: bool,
    pub listen: SocketAddr,
}

impl Default for Http {
    fn default() -> Http {
        Http { enabled: true, listen: SocketAddr::from(([127, 0, 0, 1], 8080)) }
    }
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
}

impl Default for Log {
    fn default() -> Log {
        Log { level: "info".into() }
    }
}

/// The error of parsing one of this module's names: the text that matched none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name `{}`", self.0)
    }
}

impl std::error::Error for UnknownName {}

/// Declares a config-file enum with its spellings, `as_str`, `ALL`, `Display` and `FromStr`.
macro_rules! names {
    ($(#[$m:meta])* $ty:ident { $($(#[$vm:meta])* $var:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty { $($(#[$vm])* $var,)+ }

        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$var,)+];

            /// The spelling used in config files.
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$var => $s,)+ }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<$ty, UnknownName> {
                match s {
                    $($s => Ok($ty::$var),)+
                    _ => Err(UnknownName(s.to_string())),
                }
            }
        }
    };
}

/// Lets the route and SIP modules declare their names the same way.
pub(crate) use names;

names!(
    /// chan_dahdi's `signalling`, limited to what spangate runs.
    Signalling {
        /// ISDN PRI, user side.
        PriCpe = "pri_cpe",
        /// ISDN PRI, network side.
        PriNet = "pri_net",
        /// ISDN BRI point-to-point, user side.
        BriCpe = "bri_cpe",
        /// ISDN BRI point-to-point, network side.
        BriNet = "bri_net",
        /// ISDN BRI point-to-multipoint, user side (TEI assigned by the network).
        BriCpePtmp = "bri_cpe_ptmp",
        /// ISDN BRI point-to-multipoint, network side.
        BriNetPtmp = "bri_net_ptmp",
        /// FXO kewlstart: for FXS ports (named after the far end, as DAHDI does).
        FxoKs = "fxo_ks",
        /// FXO loopstart, for FXS ports.
        FxoLs = "fxo_ls",
        /// FXO groundstart, for FXS ports.
        FxoGs = "fxo_gs",
        /// FXS kewlstart: for FXO ports.
        FxsKs = "fxs_ks",
        /// FXS loopstart, for FXO ports.
        FxsLs = "fxs_ls",
        /// FXS groundstart, for FXO ports.
        FxsGs = "fxs_gs",
        /// E1 channel-associated signalling (TS16 multiframe).
        Cas = "cas",
        /// No signalling: clear channels only.
        None = "none",
    }
);

impl Signalling {
    /// ISDN signalling, run over a D-channel.
    pub const fn is_isdn(self) -> bool {
        self.is_pri() || self.is_bri()
    }

    /// `pri_cpe` or `pri_net`.
    pub const fn is_pri(self) -> bool {
        matches!(self, Signalling::PriCpe | Signalling::PriNet)
    }

    /// One of the `bri_*` variants.
    pub const fn is_bri(self) -> bool {
        matches!(self, Signalling::BriCpe | Signalling::BriNet | Signalling::BriCpePtmp | Signalling::BriNetPtmp)
    }

    /// The network side of ISDN (`pri_net`, `bri_net*`).
    pub const fn is_network_side(self) -> bool {
        matches!(self, Signalling::PriNet | Signalling::BriNet | Signalling::BriNetPtmp)
    }

    /// The user side of ISDN (`pri_cpe`, `bri_cpe*`).
    pub const fn is_user_side(self) -> bool {
        matches!(self, Signalling::PriCpe | Signalling::BriCpe | Signalling::BriCpePtmp)
    }

    /// BRI point-to-multipoint.
    pub const fn is_ptmp(self) -> bool {
        matches!(self, Signalling::BriCpePtmp | Signalling::BriNetPtmp)
    }

    /// `fxo_*`: runs on an FXS port.
    pub const fn is_fxo(self) -> bool {
        matches!(self, Signalling::FxoKs | Signalling::FxoLs | Signalling::FxoGs)
    }

    /// `fxs_*`: runs on an FXO port.
    pub const fn is_fxs(self) -> bool {
        matches!(self, Signalling::FxsKs | Signalling::FxsLs | Signalling::FxsGs)
    }
}

names!(
    /// chan_dahdi's `switchtype`: the ISDN protocol variant.
    SwitchType {
        /// ETSI EN 300 403 (Europe).
        EuroIsdn = "euroisdn",
        /// National ISDN 2 (chan_dahdi's default).
        National = "national",
        Ni1 = "ni1",
        Dms100 = "dms100",
        Att4ess = "4ess",
        Lucent5e = "5ess",
        Qsig = "qsig",
    }
);

names!(
    /// chan_dahdi's `overlapdial`: which directions send the number digit by digit.
    OverlapDial {
        No = "no",
        Incoming = "incoming",
        Outgoing = "outgoing",
        Both = "both",
    }
);

/// The `incoming` span key: how an incoming ISDN call is answered while there is no routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Incoming {
    /// `"ring"`: CALL PROCEEDING and ALERTING, then wait (the caller hears ringing).
    #[default]
    Ring,
    /// `"answer"`: CALL PROCEEDING, ALERTING and CONNECT at once.
    Answer,
    /// `"reject:N"`: refused with Q.850 cause N (1..=127).
    Reject(u8),
}

impl Incoming {
    /// Reads `ring`, `answer` or `reject:N`; the error says what is accepted.
    pub fn parse(s: &str) -> Result<Incoming, String> {
        match s {
            "ring" => Ok(Incoming::Ring),
            "answer" => Ok(Incoming::Answer),
            _ => match s.strip_prefix("reject:").map(str::parse::<u8>) {
                Some(Ok(n)) if (1..=127).contains(&n) => Ok(Incoming::Reject(n)),
                Some(_) => Err(format!("the cause in `{s}` must be a Q.850 cause value 1..=127")),
                None => Err(format!("unknown incoming `{s}`: expected ring, answer or reject:CAUSE")),
            },
        }
    }
}

impl std::fmt::Display for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Incoming::Ring => f.write_str("ring"),
            Incoming::Answer => f.write_str("answer"),
            Incoming::Reject(n) => write!(f, "reject:{n}"),
        }
    }
}

names!(
    /// chan_dahdi's `layer1_presence`.
    Layer1Presence {
        /// Calls need layer 1 up (span alarms block calls).
        Required = "required",
        /// Ignore span alarms (BRI PTMP lines that drop layer 1 when idle).
        Ignore = "ignore",
    }
);

names!(
    /// chan_dahdi's `layer2_persistence`.
    Layer2Persistence {
        /// The stack's default (libpri: leave down).
        Default = "default",
        /// Keep the data link up even without calls.
        KeepUp = "keep_up",
        /// Let the data link go down when idle.
        LeaveDown = "leave_down",
    }
);

names!(
    /// Where echo is cancelled.
    EchoMode {
        Off = "off",
        /// spangate's own canceller on the host.
        Software = "software",
        /// The card's echo canceller module (VPM).
        Hardware = "hardware",
    }
);

names!(
    /// Who transcodes G.729 (`[board] transcoding`).
    Transcoding {
        /// spangate's own G.729A codec in the media thread (the default).
        Software = "software",
        /// A TC400B's DSPs through `/dev/dahdi/transcode`.
        Hardware = "hardware",
    }
);

names!(
    /// What drives the board.
    Backend {
        /// The simulated backend of `hal::sim`.
        Sim = "sim",
        /// A real card through the Linux DAHDI drivers.
        Dahdi = "dahdi",
    }
);

names!(
    /// The high-availability role.
    HaRole {
        Disabled = "disabled",
        Master = "master",
        Slave = "slave",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Signalling::ALL {
            assert_eq!(s.as_str().parse::<Signalling>(), Ok(*s));
        }
        for s in SwitchType::ALL {
            assert_eq!(s.as_str().parse::<SwitchType>(), Ok(*s));
        }
        assert_eq!("4ess".parse::<SwitchType>(), Ok(SwitchType::Att4ess));
        assert_eq!("dahdi".parse::<Backend>(), Ok(Backend::Dahdi));
        assert!("PRI_CPE".parse::<Signalling>().is_err());
    }
}
