//! Turning a validated config into a running board, and describing the board for the status page.

use hal::sim::{LineSpec, SimSpanSpec, World, WorldOptions};
use hal::HalError;
use provisioning::{Backend, Config, SpanCfg};

use crate::dahdi_media::DahdiMedia;
use crate::media_board::MediaBoard;

/// The built-in appliance: two E1 spans, one to a simulated provider and one to a simulated PBX.
pub const DEFAULT_BOARD: &str = include_str!("../../board-configs/sim-e1x2.toml");
/// The name the built-in config is reported under.
pub const DEFAULT_BOARD_NAME: &str = "<built-in sim-e1x2>";

/// How long a line condition must last before an alarm is raised or cleared on simulated spans.
/// Real framers debounce for 0.5-2.5 s; the simulation keeps it short so tests run fast, while
/// still filtering single lost frames.
pub const SIM_ALARM_DEBOUNCE_MS: u32 = 100;

/// Why a board could not be brought up.
#[derive(Debug)]
pub enum BoardError {
    /// The DAHDI kernel modules are not loaded (no `/dev/dahdi/ctl`).
    NoDahdi,
    Hal(HalError),
}

impl std::fmt::Display for BoardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BoardError::NoDahdi => write!(
                f,
                "board.backend = \"dahdi\" but {} does not exist: load the DAHDI modules (modprobe dahdi and \
                 the card's driver, see `spangate hardware`) or use a sim board",
                dahdi_driver::CTL_DEVICE
            ),
            BoardError::Hal(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BoardError {}

/// The board `cfg` describes: the simulated world (`backend = "sim"`) or the DAHDI kernel spans
/// configured and opened (`backend = "dahdi"`).
pub fn build(cfg: &Config) -> Result<MediaBoard, BoardError> {
    if cfg.board.backend == Backend::Dahdi {
        if !dahdi_driver::dahdi_present() {
            return Err(BoardError::NoDahdi);
        }
        return DahdiMedia::open(cfg).map(|d| MediaBoard::Dahdi(Box::new(d))).map_err(BoardError::Hal);
    }
    build_sim(cfg).map(MediaBoard::Sim)
}

/// The simulated world for a `backend = "sim"` config.
pub fn build_sim(cfg: &Config) -> Result<World, BoardError> {
    let specs: Vec<SimSpanSpec> = cfg
        .board
        .spans
        .iter()
        .map(|s| SimSpanSpec {
            number: s.number,
            name: s.name.clone(),
            config: s.hal.clone(),
            line: s.sim.as_ref().map_or(LineSpec::Open, |x| x.line.clone()),
            fault: s.sim.as_ref().map(|x| x.fault).unwrap_or_default(),
        })
        .collect();
    let opts = WorldOptions { model: cfg.board.model.clone(), alarm_debounce_ms: SIM_ALARM_DEBOUNCE_MS };
    let mut world = World::new(&opts, &specs).map_err(BoardError::Hal)?;
    for s in &cfg.board.spans {
        if let Some(path) = s.sim.as_ref().and_then(|x| x.echo_path) {
            world.set_echo_path(s.number, path).map_err(BoardError::Hal)?;
        }
    }
    Ok(world)
}

/// What a span is plugged into, as the config spells it.
pub fn line_text(span: &SpanCfg) -> String {
    match span.sim.as_ref().map(|s| &s.line) {
        None => "DAHDI line".into(),
        Some(LineSpec::Open) => "open (nothing plugged in)".into(),
        Some(LineSpec::FarEnd { role, drift_ppm }) if *drift_ppm != 0.0 => {
            format!("simulated {} ({drift_ppm:+} ppm)", role.as_str())
        }
        Some(LineSpec::FarEnd { role, .. }) => format!("simulated {}", role.as_str()),
        Some(LineSpec::Span(n)) => format!("cable to span {n}"),
        Some(LineSpec::Listen(p)) => format!("cable socket (listening) {}", p.display()),
        Some(LineSpec::Connect(p)) => format!("cable socket (connecting) {}", p.display()),
        Some(LineSpec::DchanSocket(p)) => format!("D-channel socket {}", p.display()),
    }
}
