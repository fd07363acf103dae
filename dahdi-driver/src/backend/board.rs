//! `hal::Board` and `hal::Span` over the kernel's spans: our span N is DAHDI span N, configured as
//! `dahdi_cfg` would, its status read from `DAHDI_SPANSTAT` and `/proc/dahdi/N` on each call.

use std::sync::Arc;

use hal::{BoardInfo, Capabilities, ErrorKind, HalError, SpanConfig, SpanStatus};

use super::{ChanPlace, Control, SpanInfo};

/// What a span can do, from what the kernel reports: BRI spans (`TE`/`NT` span type) frame HDLC
/// in hardware and switch role; digital spans (line compatibility bits set) can loop back; a
/// hardware echo canceller shows on `/proc/dahdi/N` as `(EC: VPM...)` on its channels.
pub fn capabilities(info: &SpanInfo, proc_text: &str) -> Capabilities {
    let bri = info.spantype == "TE" || info.spantype == "NT";
    Capabilities {
        hardware_echo_canceller: proc_text.contains("(EC: VPM"),
        hardware_hdlc: bri,
        nt_mode: bri,
        loopback: info.linecompat > 0,
        fault_injection: false,
        transcoder: false,
    }
}

/// One kernel span under our config.
pub struct DahdiSpan {
    ctl: Arc<Control>,
    number: u32,
    config: SpanConfig,
    map: Vec<ChanPlace>,
}

impl DahdiSpan {
    fn spanno(&self) -> i32 {
        i32::try_from(self.number).unwrap_or(i32::MAX)
    }

    /// The kernel channel number at 1-based position `pos` of this span.
    pub fn channo(&self, pos: u8) -> Option<i32> {
        self.map.iter().find(|p| p.spanno == self.spanno() && p.chanpos == i32::from(pos)).map(|p| p.channo)
    }

    /// `DAHDI_SPANSTAT` of this span, decoded.
    pub fn info(&self) -> Result<SpanInfo, HalError> {
        self.ctl.span_info(self.spanno()).map_err(|e| io_err(format!("DAHDI_SPANSTAT span {}", self.number), e))
    }

    /// `/proc/dahdi/N` as the kernel prints it (empty if unreadable).
    pub fn proc_text(&self) -> String {
        std::fs::read_to_string(format!("/proc/dahdi/{}", self.number)).unwrap_or_default()
    }
}

fn io_err(op: String, e: std::io::Error) -> HalError {
    HalError { kind: ErrorKind::Io, op, source: Some(e) }
}

impl hal::Span for DahdiSpan {
    fn number(&self) -> u32 {
        self.number
    }

    fn config(&self) -> &SpanConfig {
        &self.config
    }

    fn configure(&mut self, config: &SpanConfig) -> Result<(), HalError> {
        self.ctl
            .apply_span(self.spanno(), config, &self.map)
            .map_err(|e| io_err(format!("configure DAHDI span {}", self.number), e))?;
        self.config = config.clone();
        Ok(())
    }

    /// An unreadable span reads as red and not running, which is what it is to its users. Nothing
    /// here allocates: the media thread reads it every report period.
    fn status(&self) -> SpanStatus {
        match self.ctl.span_status(self.spanno()) {
            Ok(s) => s,
            Err(_) => {
                let mut s = SpanStatus::default();
                s.alarms.red = true;
                s
            }
        }
    }

    fn capabilities(&self) -> Capabilities {
        self.info().map(|i| capabilities(&i, &self.proc_text())).unwrap_or_default()
    }
}

/// The kernel's spans that our config names, configured and started.
pub struct DahdiBoard {
    model: String,
    spans: Vec<DahdiSpan>,
}

impl DahdiBoard {
    /// Opens the control device and applies `spans` (our number = the kernel's span number) in
    /// `dahdi_cfg`'s order: SPANCONFIG, CHANCONFIG of every channel, STARTUP.
    pub fn configure(model: &str, spans: &[(u32, SpanConfig)]) -> Result<DahdiBoard, HalError> {
        let ctl = Arc::new(Control::open().map_err(|e| io_err(format!("open {}", crate::CTL_DEVICE), e))?);
        let map = ctl.channel_map();
        let mut out = Vec::new();
        for (number, config) in spans {
            if !map.iter().any(|p| i64::from(p.spanno) == i64::from(*number)) {
                return Err(HalError::new(ErrorKind::NoSuchSpan, format!("DAHDI has no span {number}")));
            }
            let mut span =
                DahdiSpan { ctl: Arc::clone(&ctl), number: *number, config: config.clone(), map: map.clone() };
            hal::Span::configure(&mut span, config)?;
            out.push(span);
        }
        Ok(DahdiBoard { model: model.to_owned(), spans: out })
    }

    /// The configured span with that number.
    pub fn dahdi_span(&self, number: u32) -> Option<&DahdiSpan> {
        self.spans.iter().find(|s| s.number == number)
    }
}

impl hal::Board for DahdiBoard {
    fn info(&self) -> BoardInfo {
        let mut caps = Capabilities::default();
        for s in &self.spans {
            let c = hal::Span::capabilities(s);
            caps.hardware_echo_canceller |= c.hardware_echo_canceller;
            caps.hardware_hdlc |= c.hardware_hdlc;
            caps.nt_mode |= c.nt_mode;
            caps.loopback |= c.loopback;
        }
        BoardInfo { model: self.model.clone(), backend: "dahdi", capabilities: caps }
    }

    fn span_count(&self) -> usize {
        self.spans.len()
    }

    fn span(&self, number: u32) -> Option<&dyn hal::Span> {
        self.dahdi_span(number).map(|s| s as &dyn hal::Span)
    }
}
