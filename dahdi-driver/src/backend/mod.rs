//! The DAHDI backend of the `hal` traits: span configuration as `dahdi_cfg` applies it, span status
//! from `DAHDI_SPANSTAT`, and channel I/O on `/dev/dahdi/channel` descriptors.
//!
//! Safe code only: every kernel call goes through `sys::ioctl`. The pure parts (our span settings
//! to `struct dahdi_lineconfig`, `struct dahdi_spaninfo` to our status, the channel numbering) are
//! functions tested here without a kernel; the calls themselves are tested against the real DAHDI
//! modules by `cargo xtask vm-test` (the guest runs `dahdi-vm-check`).
//!
//! Apply order, as `dahdi_cfg` does it (reference §3): dynamic spans destroyed then created,
//! `SPANCONFIG` per span, `CHANCONFIG` per channel (+ `ATTACH_ECHOCAN`), then `STARTUP` per span.

mod board;
mod channel;
pub mod procfs;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;

use hal::{Alarms, Framing, Law, LineCoding, SpanConfig, SpanCounters, SpanStatus, Termination};

use crate::sys::{self, alarm, config, ioctl, sig, DahdiChanconfig, DahdiLineconfig, DahdiSpaninfo};

pub use board::{capabilities, DahdiBoard, DahdiSpan};
pub use channel::{AudioChannel, DChannel, BLOCK, MAX_BLOCK};

/// `DAHDI_SPANCONFIG`'s line configuration bits for our span settings.
pub fn lineconfig_bits(c: &SpanConfig) -> i32 {
    let mut bits = match c.framing {
        Framing::Ccs => config::CCS,
        Framing::Cas => 0,
        Framing::D4 => config::D4,
        Framing::Esf => config::ESF,
    };
    bits |= match c.coding {
        LineCoding::Hdb3 => config::HDB3,
        LineCoding::Ami => config::AMI,
        LineCoding::B8zs => config::B8ZS,
    };
    if c.crc4 {
        bits |= config::CRC4;
    }
    if c.kind == hal::SpanKind::Bri && c.termination == Termination::Nt {
        bits |= config::NTTE;
    }
    bits
}

/// The `struct dahdi_lineconfig` for span `spanno` with our settings.
pub fn lineconfig(spanno: i32, c: &SpanConfig) -> DahdiLineconfig {
    let mut lc = <DahdiLineconfig as ioctl::Abi>::zeroed();
    lc.span = spanno;
    lc.lbo = i32::from(c.lbo);
    lc.lineconfig = lineconfig_bits(c);
    lc.sync = i32::from(c.timing);
    lc
}

/// What a channel of a span is configured as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChanRole {
    /// A bearer channel: clear audio (`bchan=`).
    Bearer,
    /// A software-HDLC D-channel with FCS (`dchan=`).
    DChannel,
    /// A card-framed D-channel (`hardhdlc=`, BRI cards).
    HardHdlc,
    /// Not used (`unused=` keeps it from being opened).
    Unused,
}

/// The `struct dahdi_chanconfig` for kernel channel `channo` in `role` with `law`.
pub fn chanconfig(channo: i32, role: ChanRole, law: Law) -> DahdiChanconfig {
    let mut cc = <DahdiChanconfig as ioctl::Abi>::zeroed();
    cc.chan = channo;
    cc.sigtype = match role {
        ChanRole::Bearer => sig::CLEAR,
        ChanRole::DChannel => sig::HDLCFCS,
        ChanRole::HardHdlc => sig::HARDHDLC,
        ChanRole::Unused => sig::NONE,
    };
    cc.deflaw = match law {
        Law::Alaw => sys::law::ALAW,
        Law::Mulaw => sys::law::MULAW,
    };
    // A channel that is not part of a bundle is its own master.
    cc.master = channo;
    cc
}

/// Counters only grow; the kernel keeps them as signed ints, a negative one is read as 0.
fn counter(v: i32) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Our span status from `DAHDI_SPANSTAT`. `running` is true once the span has configured channels
/// (the kernel has no "started" flag in this structure; `NOTOPEN` says no channel is open).
pub fn span_status(info: &DahdiSpaninfo) -> SpanStatus {
    let a = info.alarms;
    let alarms = Alarms {
        red: a & (alarm::RED | alarm::LOS | alarm::LFA | alarm::LMFA) != 0,
        yellow: a & alarm::YELLOW != 0,
        blue: a & alarm::BLUE != 0,
        loopback: a & alarm::LOOPBACK != 0,
    };
    let counters = SpanCounters {
        slips: 0,
        crc_errors: counter(info.crc4count),
        late_ticks: counter(info.irqmisses),
        ..SpanCounters::default()
    };
    let (spanno, syncsrc, numchans) = (info.spanno, info.syncsrc, info.numchans);
    SpanStatus { alarms, counters, clock_master: syncsrc == spanno && spanno > 0, running: numchans > 0 }
}

/// One span as `DAHDI_SPANSTAT` describes it, with the fixed strings decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanInfo {
    pub spanno: i32,
    pub name: String,
    pub desc: String,
    /// Raw `DAHDI_ALARM_*` bits.
    pub alarms: i32,
    pub totalchans: i32,
    pub numchans: i32,
    pub syncsrc: i32,
    pub spantype: String,
    /// Line modes the span supports (`DAHDI_CONFIG_*` bits); 0 for analog spans.
    pub linecompat: i32,
    pub status: SpanStatus,
}

impl SpanInfo {
    pub fn from_raw(info: &DahdiSpaninfo) -> SpanInfo {
        let (name, desc, spantype) = (info.name, info.desc, info.spantype);
        SpanInfo {
            spanno: info.spanno,
            name: ioctl::get_str(&name),
            desc: ioctl::get_str(&desc),
            alarms: info.alarms,
            totalchans: info.totalchans,
            numchans: info.numchans,
            syncsrc: info.syncsrc,
            spantype: ioctl::get_str(&spantype),
            linecompat: info.linecompat,
            status: span_status(info),
        }
    }
}

/// A kernel channel: its global number and where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChanPlace {
    pub channo: i32,
    pub spanno: i32,
    /// 1-based position in the span.
    pub chanpos: i32,
}

/// The control device `/dev/dahdi/ctl`: configuration and status of every span.
pub struct Control {
    file: File,
}

impl Control {
    /// Opens the control device (root or the `dahdi` group).
    pub fn open() -> io::Result<Control> {
        let file = OpenOptions::new().read(true).write(true).open(crate::CTL_DEVICE)?;
        Ok(Control { file })
    }

    /// (DAHDI version, echo canceller) as the kernel reports them.
    pub fn version(&self) -> io::Result<(String, String)> {
        ioctl::get_version(self.file.as_fd())
    }

    /// Creates a dynamic span (`dynamic=driver,addr,numchans,timing`); returns its number.
    pub fn dynamic_create(&self, driver: &str, addr: &str, numchans: i32, timing: i32) -> io::Result<i32> {
        ioctl::dynamic_create(self.file.as_fd(), driver, addr, numchans, timing)
    }

    /// Destroys a dynamic span; a span that does not exist is not an error (dahdi_cfg does the same).
    pub fn dynamic_destroy(&self, driver: &str, addr: &str) -> io::Result<()> {
        match ioctl::dynamic_destroy(self.file.as_fd(), driver, addr) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) || e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            r => r,
        }
    }

    /// `DAHDI_SPANSTAT` of span `spanno`.
    pub fn span_info(&self, spanno: i32) -> io::Result<SpanInfo> {
        ioctl::spanstat(self.file.as_fd(), spanno).map(|raw| SpanInfo::from_raw(&raw))
    }

    /// Our status of span `spanno` from `DAHDI_SPANSTAT`, without decoding its strings: no
    /// allocation, so the media thread can ask every report period.
    pub fn span_status(&self, spanno: i32) -> io::Result<SpanStatus> {
        ioctl::spanstat(self.file.as_fd(), spanno).map(|raw| span_status(&raw))
    }

    /// Every span the kernel has (SPANSTAT on 1..=MAX_SPANS until it fails).
    pub fn spans(&self) -> Vec<SpanInfo> {
        (1..sys::limits::MAX_SPANS).map_while(|n| self.span_info(n).ok()).collect()
    }

    /// Where every channel of the kernel sits (GET_PARAMS on each channel number until the span
    /// count is covered). The kernel numbers channels across spans in assignment order; that is
    /// what `/proc/dahdi` shows, and it need not start at 1 on the first span.
    pub fn channel_map(&self) -> Vec<ChanPlace> {
        let wanted: i32 = self.spans().iter().map(|s| s.totalchans).sum();
        let mut out = Vec::new();
        let mut channo = 0;
        while i32::try_from(out.len()).unwrap_or(i32::MAX) < wanted && channo < sys::limits::MAX_CHANNELS {
            if let Ok(p) = ioctl::get_params(self.file.as_fd(), channo) {
                if p.channo == channo && p.spanno > 0 {
                    out.push(ChanPlace { channo, spanno: p.spanno, chanpos: p.chanpos });
                }
            }
            channo += 1;
        }
        out
    }

    /// `DAHDI_SPANCONFIG` with our settings.
    pub fn configure_span(&self, spanno: i32, c: &SpanConfig) -> io::Result<()> {
        ioctl::spanconfig(self.file.as_fd(), lineconfig(spanno, c))
    }

    /// `DAHDI_CHANCONFIG` of one channel.
    pub fn configure_channel(&self, channo: i32, role: ChanRole, law: Law) -> io::Result<()> {
        ioctl::chanconfig(self.file.as_fd(), chanconfig(channo, role, law))
    }

    /// `DAHDI_ATTACH_ECHOCAN`: a software canceller module (`mg2`, `oslec`...) or `""` for none.
    pub fn attach_echocan(&self, channo: i32, name: &str) -> io::Result<()> {
        ioctl::attach_echocan(self.file.as_fd(), channo, name)
    }

    /// `DAHDI_STARTUP`.
    pub fn startup(&self, spanno: i32) -> io::Result<()> {
        ioctl::startup(self.file.as_fd(), spanno)
    }

    /// `DAHDI_SHUTDOWN`.
    pub fn shutdown(&self, spanno: i32) -> io::Result<()> {
        ioctl::shutdown(self.file.as_fd(), spanno)
    }

    /// Configures span `spanno` fully: SPANCONFIG, each channel by position (D-channel, bearers,
    /// the rest unused), then STARTUP. `map` comes from [`Control::channel_map`].
    pub fn apply_span(&self, spanno: i32, c: &SpanConfig, map: &[ChanPlace]) -> io::Result<()> {
        self.configure_span(spanno, c)?;
        for place in map.iter().filter(|p| p.spanno == spanno) {
            let pos = u8::try_from(place.chanpos).unwrap_or(0);
            let role = if Some(pos) == c.dchan {
                ChanRole::DChannel
            } else if c.bchans.contains(&pos) {
                ChanRole::Bearer
            } else {
                ChanRole::Unused
            };
            self.configure_channel(place.channo, role, c.law)?;
        }
        self.startup(spanno)
    }
}

#[cfg(test)]
mod tests;
