//! The DAHDI userspace ABI (`dahdi/user.h`): ioctl numbers, the structures they carry, and the
//! constants those structures hold, declared once.
//!
//! Every number and every layout here is pinned by `tests/abi.rs` to the value a C program computes
//! from the real header (Debian package `dahdi-source`). DAHDI reuses ioctl numbers with different
//! directions and sizes (`GET_PARAMS` and `GET_PARAMS_V1`, `ECHOCANCEL` and `ECHOCANCEL_PARAMS`), so
//! the numbers are built from the structure types rather than typed in, and the test is what keeps
//! them honest. The ioctl calls themselves are in `sys::ioctl`, the crate's only unsafe code.

use core::mem::size_of;

// The ioctl calls themselves: the crate's only unsafe code, each block with its reason.
#[allow(unsafe_code)]
pub mod ioctl;

/// The ioctl type letter of DAHDI (`DAHDI_CODE`).
pub const DAHDI_CODE: u32 = 0xDA;
/// The ioctl type letter of the transcoder device (`'T'`).
pub const DAHDI_TC_CODE: u32 = b'T' as u32;

const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// Linux's generic `_IOC` encoding: direction in bits 30-31, size in 16-29, type in 8-15, number
/// in 0-7.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: usize) -> u32 {
    assert!(size < (1 << 14), "ioctl argument too large for the size field");
    assert!(nr < 256 && ty < 256);
    // The assert above keeps size within 14 bits.
    #[allow(clippy::cast_possible_truncation)]
    let size = size as u32;
    (dir << 30) | (size << 16) | (ty << 8) | nr
}

const fn io(nr: u32) -> u32 {
    ioc(IOC_NONE, DAHDI_CODE, nr, 0)
}
const fn ior<T>(nr: u32) -> u32 {
    ioc(IOC_READ, DAHDI_CODE, nr, size_of::<T>())
}
const fn iow<T>(nr: u32) -> u32 {
    ioc(IOC_WRITE, DAHDI_CODE, nr, size_of::<T>())
}
const fn iowr<T>(nr: u32) -> u32 {
    ioc(IOC_READ | IOC_WRITE, DAHDI_CODE, nr, size_of::<T>())
}

/// `struct dahdi_params`: a channel's signalling, hook state, law, name and timings.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiParams {
    pub channo: i32,
    pub spanno: i32,
    pub chanpos: i32,
    pub sigtype: i32,
    pub sigcap: i32,
    pub rxisoffhook: i32,
    pub rxbits: i32,
    pub txbits: i32,
    pub txhooksig: i32,
    pub rxhooksig: i32,
    pub curlaw: i32,
    pub idlebits: i32,
    pub name: [u8; 40],
    pub prewinktime: i32,
    pub preflashtime: i32,
    pub winktime: i32,
    pub flashtime: i32,
    pub starttime: i32,
    pub rxwinktime: i32,
    pub rxflashtime: i32,
    pub debouncetime: i32,
    pub pulsebreaktime: i32,
    pub pulsemaketime: i32,
    pub pulseaftertime: i32,
    pub chan_alarms: u32,
}

/// `struct dahdi_spaninfo` (packed in the header): a span's alarms, counters and identity.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiSpaninfo {
    pub spanno: i32,
    pub name: [u8; 20],
    pub desc: [u8; 40],
    pub alarms: i32,
    pub txlevel: i32,
    pub rxlevel: i32,
    pub bpvcount: i32,
    pub crc4count: i32,
    pub ebitcount: i32,
    pub fascount: i32,
    pub fecount: u32,
    pub cvcount: u32,
    pub becount: u32,
    pub prbs: u32,
    pub errsec: u32,
    pub irqmisses: i32,
    pub syncsrc: i32,
    pub numchans: i32,
    pub totalchans: i32,
    pub totalspans: i32,
    pub lbo: i32,
    pub lineconfig: i32,
    pub lboname: [u8; 40],
    pub location: [u8; 40],
    pub manufacturer: [u8; 40],
    pub devicetype: [u8; 40],
    pub irq: i32,
    pub linecompat: i32,
    pub spantype: [u8; 6],
}

/// The pre-2.x `struct dahdi_spaninfo_v1`, only so its reused ioctl number can be pinned; we
/// never issue it.
pub const SPANINFO_V1_SIZE: usize = 296;

/// `struct dahdi_lineconfig`: what `span=` in system.conf sets.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiLineconfig {
    pub span: i32,
    pub name: [u8; 20],
    pub lbo: i32,
    pub lineconfig: i32,
    /// Timing priority: 0 never a clock source, 1 preferred, ...
    pub sync: i32,
}

/// `struct dahdi_chanconfig`: what a channel line of system.conf sets.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiChanconfig {
    pub chan: i32,
    pub name: [u8; 40],
    pub sigtype: i32,
    pub deflaw: i32,
    pub master: i32,
    pub idlebits: i32,
    pub netdev_name: [u8; 16],
}

/// `struct dahdi_bufferinfo`: the channel's buffering policy.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiBufferinfo {
    pub txbufpolicy: i32,
    pub rxbufpolicy: i32,
    pub numbufs: i32,
    pub bufsize: i32,
    pub readbufs: i32,
    pub writebufs: i32,
}

/// `struct dahdi_dialparams`: global tone lengths.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiDialparams {
    pub mfv1_tonelen: i32,
    pub dtmf_tonelen: i32,
    pub mfr2_tonelen: i32,
    pub reserved: [i32; 3],
}

/// `struct dahdi_dialoperation`: a dial string to play.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiDialoperation {
    pub op: i32,
    pub dialstr: [u8; 256],
}

/// `struct dahdi_echocanparams`: the head of an ECHOCANCEL_PARAMS argument; `param_count`
/// [`DahdiEchocanparam`]s follow it in memory.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiEchocanparams {
    pub tap_length: u32,
    pub param_count: u32,
}

/// `struct dahdi_echocanparam`: one named echo canceller parameter.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiEchocanparam {
    pub name: [u8; 16],
    pub value: i32,
}

/// `struct dahdi_attach_echocan`: which canceller module serves a channel.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiAttachEchocan {
    pub chan: i32,
    pub echocan: [u8; 16],
}

/// `struct dahdi_versioninfo`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiVersioninfo {
    pub version: [u8; 80],
    pub echo_canceller: [u8; 80],
}

/// `struct dahdi_dynamic_span`: a dynamic span (`dynamic=` in system.conf).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiDynamicSpan {
    pub driver: [u8; 20],
    pub addr: [u8; 40],
    pub numchans: i32,
    pub timing: i32,
    pub spanno: i32,
}

/// `struct dahdi_tone_def_header`: the head of a LOADZONE argument.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiToneDefHeader {
    pub count: i32,
    pub zone: i32,
    pub ringcadence: [i32; 16],
    pub name: [u8; 40],
}

/// `struct dahdi_ring_cadence`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiRingCadence {
    pub ringcadence: [i32; 16],
}

/// `struct dahdi_maintinfo`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiMaintinfo {
    pub spanno: i32,
    pub command: i32,
}

/// `struct dahdi_transcoder_formats`: what a transcoder channel converts.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DahdiTranscoderFormats {
    pub srcfmt: u32,
    pub dstfmt: u32,
}

/// `struct dahdi_transcoder_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiTranscoderInfo {
    pub tcnum: u32,
    pub name: [u8; 80],
    pub numchannels: u32,
    // The header puts the destination formats first.
    pub dstfmts: u32,
    pub srcfmts: u32,
}

type Int = i32;

pub const DAHDI_GET_BLOCKSIZE: u32 = ior::<Int>(1);
pub const DAHDI_SET_BLOCKSIZE: u32 = iow::<Int>(1);
pub const DAHDI_FLUSH: u32 = iow::<Int>(3);
pub const DAHDI_GET_PARAMS: u32 = iowr::<DahdiParams>(5);
pub const DAHDI_GET_PARAMS_V1: u32 = ior::<DahdiParams>(5);
pub const DAHDI_SET_PARAMS: u32 = iow::<DahdiParams>(5);
pub const DAHDI_HOOK: u32 = iow::<Int>(7);
pub const DAHDI_GETEVENT: u32 = ior::<Int>(8);
pub const DAHDI_IOMUX: u32 = iowr::<Int>(9);
pub const DAHDI_SPANSTAT: u32 = iowr::<DahdiSpaninfo>(10);
pub const DAHDI_SPANSTAT_V1: u32 = ioc(IOC_READ | IOC_WRITE, DAHDI_CODE, 10, SPANINFO_V1_SIZE);
pub const DAHDI_MAINT: u32 = iow::<DahdiMaintinfo>(11);
pub const DAHDI_SPANCONFIG: u32 = iow::<DahdiLineconfig>(18);
pub const DAHDI_CHANCONFIG: u32 = iow::<DahdiChanconfig>(19);
pub const DAHDI_SETTONEZONE: u32 = iow::<Int>(22);
pub const DAHDI_DEFAULTZONE: u32 = iow::<Int>(24);
pub const DAHDI_LOADZONE: u32 = iow::<DahdiToneDefHeader>(25);
pub const DAHDI_GET_BUFINFO: u32 = ior::<DahdiBufferinfo>(27);
pub const DAHDI_SET_BUFINFO: u32 = iow::<DahdiBufferinfo>(27);
pub const DAHDI_GET_DIALPARAMS: u32 = ior::<DahdiDialparams>(29);
pub const DAHDI_SET_DIALPARAMS: u32 = iow::<DahdiDialparams>(29);
pub const DAHDI_DIAL: u32 = iow::<DahdiDialoperation>(31);
pub const DAHDI_AUDIOMODE: u32 = iow::<Int>(32);
pub const DAHDI_ECHOCANCEL: u32 = iow::<Int>(33);
pub const DAHDI_ECHOCANCEL_PARAMS: u32 = iow::<DahdiEchocanparams>(33);
pub const DAHDI_CHANNO: u32 = ior::<Int>(34);
pub const DAHDI_HDLCRAWMODE: u32 = iow::<Int>(36);
pub const DAHDI_HDLCFCSMODE: u32 = iow::<Int>(37);
pub const DAHDI_SPECIFY: u32 = iow::<Int>(38);
pub const DAHDI_SETLAW: u32 = iow::<Int>(39);
pub const DAHDI_SETLINEAR: u32 = iow::<Int>(40);
pub const DAHDI_SETCADENCE: u32 = iow::<DahdiRingCadence>(42);
pub const DAHDI_GETRXBITS: u32 = ior::<Int>(43);
pub const DAHDI_SETTXBITS: u32 = iow::<Int>(43);
pub const DAHDI_GETVERSION: u32 = ior::<DahdiVersioninfo>(57);
pub const DAHDI_ATTACH_ECHOCAN: u32 = iow::<DahdiAttachEchocan>(59);
pub const DAHDI_DYNAMIC_CREATE: u32 = iowr::<DahdiDynamicSpan>(80);
pub const DAHDI_DYNAMIC_DESTROY: u32 = iow::<DahdiDynamicSpan>(81);
pub const DAHDI_SETPOLARITY: u32 = iow::<Int>(92);
pub const DAHDI_STARTUP: u32 = iow::<Int>(99);
pub const DAHDI_SHUTDOWN: u32 = iow::<Int>(100);
pub const DAHDI_HDLC_RATE: u32 = iow::<Int>(101);
pub const DAHDI_ECHOCANCEL_FAX_MODE: u32 = iow::<Int>(102);
pub const DAHDI_BUFFER_EVENTS: u32 = iow::<Int>(105);
pub const DAHDI_TC_ALLOCATE: u32 = ioc(IOC_WRITE, DAHDI_TC_CODE, 1, size_of::<DahdiTranscoderFormats>());
pub const DAHDI_TC_GETINFO: u32 = ioc(IOC_READ | IOC_WRITE, DAHDI_TC_CODE, 2, size_of::<DahdiTranscoderInfo>());

/// An ioctl with no argument, kept so the encoder's `IOC_NONE` path is exercised by the tests.
pub const fn io_none(nr: u32) -> u32 {
    io(nr)
}

/// Every ioctl with its C name, for the ABI test and for error messages.
pub const IOCTLS: &[(&str, u32)] = &[
    ("DAHDI_GET_BLOCKSIZE", DAHDI_GET_BLOCKSIZE),
    ("DAHDI_SET_BLOCKSIZE", DAHDI_SET_BLOCKSIZE),
    ("DAHDI_FLUSH", DAHDI_FLUSH),
    ("DAHDI_GET_PARAMS", DAHDI_GET_PARAMS),
    ("DAHDI_GET_PARAMS_V1", DAHDI_GET_PARAMS_V1),
    ("DAHDI_SET_PARAMS", DAHDI_SET_PARAMS),
    ("DAHDI_HOOK", DAHDI_HOOK),
    ("DAHDI_GETEVENT", DAHDI_GETEVENT),
    ("DAHDI_IOMUX", DAHDI_IOMUX),
    ("DAHDI_SPANSTAT", DAHDI_SPANSTAT),
    ("DAHDI_SPANSTAT_V1", DAHDI_SPANSTAT_V1),
    ("DAHDI_MAINT", DAHDI_MAINT),
    ("DAHDI_SPANCONFIG", DAHDI_SPANCONFIG),
    ("DAHDI_CHANCONFIG", DAHDI_CHANCONFIG),
    ("DAHDI_SETTONEZONE", DAHDI_SETTONEZONE),
    ("DAHDI_DEFAULTZONE", DAHDI_DEFAULTZONE),
    ("DAHDI_LOADZONE", DAHDI_LOADZONE),
    ("DAHDI_GET_BUFINFO", DAHDI_GET_BUFINFO),
    ("DAHDI_SET_BUFINFO", DAHDI_SET_BUFINFO),
    ("DAHDI_GET_DIALPARAMS", DAHDI_GET_DIALPARAMS),
    ("DAHDI_SET_DIALPARAMS", DAHDI_SET_DIALPARAMS),
    ("DAHDI_DIAL", DAHDI_DIAL),
    ("DAHDI_AUDIOMODE", DAHDI_AUDIOMODE),
    ("DAHDI_ECHOCANCEL", DAHDI_ECHOCANCEL),
    ("DAHDI_ECHOCANCEL_PARAMS", DAHDI_ECHOCANCEL_PARAMS),
    ("DAHDI_CHANNO", DAHDI_CHANNO),
    ("DAHDI_HDLCRAWMODE", DAHDI_HDLCRAWMODE),
    ("DAHDI_HDLCFCSMODE", DAHDI_HDLCFCSMODE),
    ("DAHDI_SPECIFY", DAHDI_SPECIFY),
    ("DAHDI_SETLAW", DAHDI_SETLAW),
    ("DAHDI_SETLINEAR", DAHDI_SETLINEAR),
    ("DAHDI_SETCADENCE", DAHDI_SETCADENCE),
    ("DAHDI_GETRXBITS", DAHDI_GETRXBITS),
    ("DAHDI_SETTXBITS", DAHDI_SETTXBITS),
    ("DAHDI_GETVERSION", DAHDI_GETVERSION),
    ("DAHDI_ATTACH_ECHOCAN", DAHDI_ATTACH_ECHOCAN),
    ("DAHDI_DYNAMIC_CREATE", DAHDI_DYNAMIC_CREATE),
    ("DAHDI_DYNAMIC_DESTROY", DAHDI_DYNAMIC_DESTROY),
    ("DAHDI_SETPOLARITY", DAHDI_SETPOLARITY),
    ("DAHDI_STARTUP", DAHDI_STARTUP),
    ("DAHDI_SHUTDOWN", DAHDI_SHUTDOWN),
    ("DAHDI_HDLC_RATE", DAHDI_HDLC_RATE),
    ("DAHDI_ECHOCANCEL_FAX_MODE", DAHDI_ECHOCANCEL_FAX_MODE),
    ("DAHDI_BUFFER_EVENTS", DAHDI_BUFFER_EVENTS),
    ("DAHDI_TC_ALLOCATE", DAHDI_TC_ALLOCATE),
    ("DAHDI_TC_GETINFO", DAHDI_TC_GETINFO),
];

/// Signalling types (`DAHDI_SIG_*`). FXS *ports* use FXO signalling and vice versa.
pub mod sig {
    pub const NONE: i32 = 0;
    pub const FXSLS: i32 = 0x2001;
    pub const FXSGS: i32 = 0x2002;
    pub const FXSKS: i32 = 0x2004;
    pub const FXOLS: i32 = 0x1008;
    pub const FXOGS: i32 = 0x1010;
    pub const FXOKS: i32 = 0x1020;
    pub const EM: i32 = 0x40;
    pub const CLEAR: i32 = 0x80;
    pub const HDLCRAW: i32 = 0x180;
    pub const HDLCFCS: i32 = 0x380;
    pub const HDLCNET: i32 = 0x780;
    pub const SLAVE: i32 = 0x800;
    pub const SF: i32 = 0x4000;
    pub const CAS: i32 = 0x8000;
    pub const DACS: i32 = 0x10080;
    pub const EM_E1: i32 = 0x20000;
    pub const DACS_RBS: i32 = 0x50000;
    pub const HARDHDLC: i32 = 0x80080;
    pub const MTP2: i32 = 0x100380;
}

/// Span line configuration bits (`DAHDI_CONFIG_*`).
pub mod config {
    pub const TXLEVEL: i32 = 0x7;
    pub const D4: i32 = 0x10;
    pub const ESF: i32 = 0x20;
    pub const AMI: i32 = 0x40;
    pub const B8ZS: i32 = 0x80;
    pub const CCS: i32 = 0x100;
    pub const HDB3: i32 = 0x200;
    pub const CRC4: i32 = 0x400;
    pub const NTTE: i32 = 0x800;
    pub const TERM: i32 = 0x1000;
    pub const NOTOPEN: i32 = 0x10000;
}

/// Span alarm bits (`DAHDI_ALARM_*`).
pub mod alarm {
    pub const RECOVER: i32 = 0x1;
    pub const LOOPBACK: i32 = 0x2;
    pub const YELLOW: i32 = 0x4;
    pub const RED: i32 = 0x8;
    pub const BLUE: i32 = 0x10;
    pub const NOTOPEN: i32 = 0x20;
    pub const LOS: i32 = 0x100;
    pub const LFA: i32 = 0x200;
    pub const LMFA: i32 = 0x400;
}

/// Channel events (`DAHDI_EVENT_*`), as `DAHDI_GETEVENT` returns them.
pub mod event {
    pub const ONHOOK: i32 = 0x1;
    pub const RINGOFFHOOK: i32 = 0x2;
    pub const WINKFLASH: i32 = 0x3;
    pub const ALARM: i32 = 0x4;
    pub const NOALARM: i32 = 0x5;
    pub const ABORT: i32 = 0x6;
    pub const OVERRUN: i32 = 0x7;
    pub const BADFCS: i32 = 0x8;
    pub const DIALCOMPLETE: i32 = 0x9;
    pub const RINGERON: i32 = 0xA;
    pub const RINGEROFF: i32 = 0xB;
    pub const HOOKCOMPLETE: i32 = 0xC;
    pub const BITSCHANGED: i32 = 0xD;
    pub const PULSE_START: i32 = 0xE;
    pub const TIMER_EXPIRED: i32 = 0xF;
    pub const TIMER_PING: i32 = 0x10;
    pub const POLARITY: i32 = 0x11;
    pub const RINGBEGIN: i32 = 0x12;
    pub const EC_DISABLED: i32 = 0x13;
    pub const REMOVED: i32 = 0x14;
    pub const TX_CED_DETECTED: i32 = 0x17;
    pub const RX_CED_DETECTED: i32 = 0x18;
    pub const TX_CNG_DETECTED: i32 = 0x19;
    pub const RX_CNG_DETECTED: i32 = 0x1A;
    pub const EC_NLP_DISABLED: i32 = 0x1B;
    pub const EC_NLP_ENABLED: i32 = 0x1C;
    pub const READ_OVERRUN: i32 = 0x1D;
    pub const WRITE_UNDERRUN: i32 = 0x1E;
    pub const PULSEDIGIT: i32 = 0x10000;
    pub const DTMFDOWN: i32 = 0x20000;
    pub const DTMFUP: i32 = 0x40000;
}

/// Companding laws (`DAHDI_LAW_*`).
pub mod law {
    pub const DEFAULT: i32 = 0;
    pub const MULAW: i32 = 1;
    pub const ALAW: i32 = 2;
}

/// Hook states (`DAHDI_ONHOOK` ...).
pub mod hook {
    pub const ONHOOK: i32 = 0;
    pub const OFFHOOK: i32 = 1;
    pub const WINK: i32 = 2;
    pub const FLASH: i32 = 3;
    pub const START: i32 = 4;
    pub const RING: i32 = 5;
    pub const RINGOFF: i32 = 6;
}

/// Buffer policies and flush selectors.
pub mod buf {
    pub const POLICY_IMMEDIATE: i32 = 0;
    pub const POLICY_WHEN_FULL: i32 = 1;
    pub const POLICY_HALF_FULL: i32 = 2;
    pub const FLUSH_READ: i32 = 1;
    pub const FLUSH_WRITE: i32 = 2;
    pub const FLUSH_EVENT: i32 = 4;
    pub const FLUSH_ALL: i32 = 7;
}

/// Transcoder data formats (`DAHDI_FORMAT_*`), the bits of `dahdi_transcoder_info`'s `srcfmts` and
/// `dstfmts` and of `dahdi_transcoder_formats`. They live in `dahdi/kernel.h`, not `user.h` (the
/// formats come from Asterisk's), so `tests/abi.rs` pins them with a probe of their own lines.
pub mod format {
    pub const G723_1: u32 = 1 << 0;
    pub const GSM: u32 = 1 << 1;
    pub const ULAW: u32 = 1 << 2;
    pub const ALAW: u32 = 1 << 3;
    pub const G726: u32 = 1 << 4;
    pub const ADPCM: u32 = 1 << 5;
    pub const SLINEAR: u32 = 1 << 6;
    pub const LPC10: u32 = 1 << 7;
    pub const G729A: u32 = 1 << 8;
    pub const SPEEX: u32 = 1 << 9;
    pub const ILBC: u32 = 1 << 10;
    pub const MAX_AUDIO: u32 = 1 << 15;
    pub const AUDIO_MASK: u32 = (1 << 16) - 1;
}

/// Every `DAHDI_FORMAT_*` with its C name, for the ABI test's `kernel.h` probe.
pub const FORMATS: &[(&str, u32)] = &[
    ("DAHDI_FORMAT_G723_1", format::G723_1),
    ("DAHDI_FORMAT_GSM", format::GSM),
    ("DAHDI_FORMAT_ULAW", format::ULAW),
    ("DAHDI_FORMAT_ALAW", format::ALAW),
    ("DAHDI_FORMAT_G726", format::G726),
    ("DAHDI_FORMAT_ADPCM", format::ADPCM),
    ("DAHDI_FORMAT_SLINEAR", format::SLINEAR),
    ("DAHDI_FORMAT_LPC10", format::LPC10),
    ("DAHDI_FORMAT_G729A", format::G729A),
    ("DAHDI_FORMAT_SPEEX", format::SPEEX),
    ("DAHDI_FORMAT_ILBC", format::ILBC),
    ("DAHDI_FORMAT_MAX_AUDIO", format::MAX_AUDIO),
    ("DAHDI_FORMAT_AUDIO_MASK", format::AUDIO_MASK),
];

/// Limits of the kernel side.
pub mod limits {
    pub const DAHDI_MAJOR: i32 = 196;
    pub const MAX_SPANS: i32 = 128;
    pub const MAX_CHANNELS: i32 = 1024;
    pub const MAX_BLOCKSIZE: i32 = 8192;
    pub const MAX_NUM_BUFS: i32 = 32;
    pub const MAX_BUF_SPACE: i32 = 32768;
    pub const MAX_ECHOCANPARAMS: i32 = 8;
    pub const TONE_ZONE_MAX: i32 = 128;
    pub const GET_PARAMS_RETURN_MASTER: i32 = 0x4000_0000;
}

/// Every constant with its C name, for the ABI test.
pub const CONSTANTS: &[(&str, i64)] = &[
    ("DAHDI_SIG_NONE", sig::NONE as i64),
    ("DAHDI_SIG_FXSLS", sig::FXSLS as i64),
    ("DAHDI_SIG_FXSGS", sig::FXSGS as i64),
    ("DAHDI_SIG_FXSKS", sig::FXSKS as i64),
    ("DAHDI_SIG_FXOLS", sig::FXOLS as i64),
    ("DAHDI_SIG_FXOGS", sig::FXOGS as i64),
    ("DAHDI_SIG_FXOKS", sig::FXOKS as i64),
    ("DAHDI_SIG_EM", sig::EM as i64),
    ("DAHDI_SIG_CLEAR", sig::CLEAR as i64),
    ("DAHDI_SIG_HDLCRAW", sig::HDLCRAW as i64),
    ("DAHDI_SIG_HDLCFCS", sig::HDLCFCS as i64),
    ("DAHDI_SIG_HDLCNET", sig::HDLCNET as i64),
    ("DAHDI_SIG_SLAVE", sig::SLAVE as i64),
    ("DAHDI_SIG_SF", sig::SF as i64),
    ("DAHDI_SIG_CAS", sig::CAS as i64),
    ("DAHDI_SIG_DACS", sig::DACS as i64),
    ("DAHDI_SIG_EM_E1", sig::EM_E1 as i64),
    ("DAHDI_SIG_DACS_RBS", sig::DACS_RBS as i64),
    ("DAHDI_SIG_HARDHDLC", sig::HARDHDLC as i64),
    ("DAHDI_SIG_MTP2", sig::MTP2 as i64),
    ("DAHDI_CONFIG_TXLEVEL", config::TXLEVEL as i64),
    ("DAHDI_CONFIG_D4", config::D4 as i64),
    ("DAHDI_CONFIG_ESF", config::ESF as i64),
    ("DAHDI_CONFIG_AMI", config::AMI as i64),
    ("DAHDI_CONFIG_B8ZS", config::B8ZS as i64),
    ("DAHDI_CONFIG_CCS", config::CCS as i64),
    ("DAHDI_CONFIG_HDB3", config::HDB3 as i64),
    ("DAHDI_CONFIG_CRC4", config::CRC4 as i64),
    ("DAHDI_CONFIG_NTTE", config::NTTE as i64),
    ("DAHDI_CONFIG_TERM", config::TERM as i64),
    ("DAHDI_CONFIG_NOTOPEN", config::NOTOPEN as i64),
    ("DAHDI_ALARM_RECOVER", alarm::RECOVER as i64),
    ("DAHDI_ALARM_LOOPBACK", alarm::LOOPBACK as i64),
    ("DAHDI_ALARM_YELLOW", alarm::YELLOW as i64),
    ("DAHDI_ALARM_RED", alarm::RED as i64),
    ("DAHDI_ALARM_BLUE", alarm::BLUE as i64),
    ("DAHDI_ALARM_NOTOPEN", alarm::NOTOPEN as i64),
    ("DAHDI_ALARM_LOS", alarm::LOS as i64),
    ("DAHDI_ALARM_LFA", alarm::LFA as i64),
    ("DAHDI_ALARM_LMFA", alarm::LMFA as i64),
    ("DAHDI_EVENT_ONHOOK", event::ONHOOK as i64),
    ("DAHDI_EVENT_RINGOFFHOOK", event::RINGOFFHOOK as i64),
    ("DAHDI_EVENT_WINKFLASH", event::WINKFLASH as i64),
    ("DAHDI_EVENT_ALARM", event::ALARM as i64),
    ("DAHDI_EVENT_NOALARM", event::NOALARM as i64),
    ("DAHDI_EVENT_ABORT", event::ABORT as i64),
    ("DAHDI_EVENT_OVERRUN", event::OVERRUN as i64),
    ("DAHDI_EVENT_BADFCS", event::BADFCS as i64),
    ("DAHDI_EVENT_DIALCOMPLETE", event::DIALCOMPLETE as i64),
    ("DAHDI_EVENT_RINGERON", event::RINGERON as i64),
    ("DAHDI_EVENT_RINGEROFF", event::RINGEROFF as i64),
    ("DAHDI_EVENT_HOOKCOMPLETE", event::HOOKCOMPLETE as i64),
    ("DAHDI_EVENT_BITSCHANGED", event::BITSCHANGED as i64),
    ("DAHDI_EVENT_PULSE_START", event::PULSE_START as i64),
    ("DAHDI_EVENT_TIMER_EXPIRED", event::TIMER_EXPIRED as i64),
    ("DAHDI_EVENT_TIMER_PING", event::TIMER_PING as i64),
    ("DAHDI_EVENT_POLARITY", event::POLARITY as i64),
    ("DAHDI_EVENT_RINGBEGIN", event::RINGBEGIN as i64),
    ("DAHDI_EVENT_EC_DISABLED", event::EC_DISABLED as i64),
    ("DAHDI_EVENT_REMOVED", event::REMOVED as i64),
    ("DAHDI_EVENT_TX_CED_DETECTED", event::TX_CED_DETECTED as i64),
    ("DAHDI_EVENT_RX_CED_DETECTED", event::RX_CED_DETECTED as i64),
    ("DAHDI_EVENT_TX_CNG_DETECTED", event::TX_CNG_DETECTED as i64),
    ("DAHDI_EVENT_RX_CNG_DETECTED", event::RX_CNG_DETECTED as i64),
    ("DAHDI_EVENT_EC_NLP_DISABLED", event::EC_NLP_DISABLED as i64),
    ("DAHDI_EVENT_EC_NLP_ENABLED", event::EC_NLP_ENABLED as i64),
    ("DAHDI_EVENT_READ_OVERRUN", event::READ_OVERRUN as i64),
    ("DAHDI_EVENT_WRITE_UNDERRUN", event::WRITE_UNDERRUN as i64),
    ("DAHDI_EVENT_PULSEDIGIT", event::PULSEDIGIT as i64),
    ("DAHDI_EVENT_DTMFDOWN", event::DTMFDOWN as i64),
    ("DAHDI_EVENT_DTMFUP", event::DTMFUP as i64),
    ("DAHDI_LAW_DEFAULT", law::DEFAULT as i64),
    ("DAHDI_LAW_MULAW", law::MULAW as i64),
    ("DAHDI_LAW_ALAW", law::ALAW as i64),
    ("DAHDI_ONHOOK", hook::ONHOOK as i64),
    ("DAHDI_OFFHOOK", hook::OFFHOOK as i64),
    ("DAHDI_WINK", hook::WINK as i64),
    ("DAHDI_FLASH", hook::FLASH as i64),
    ("DAHDI_START", hook::START as i64),
    ("DAHDI_RING", hook::RING as i64),
    ("DAHDI_RINGOFF", hook::RINGOFF as i64),
    ("DAHDI_POLICY_IMMEDIATE", buf::POLICY_IMMEDIATE as i64),
    ("DAHDI_POLICY_WHEN_FULL", buf::POLICY_WHEN_FULL as i64),
    ("DAHDI_POLICY_HALF_FULL", buf::POLICY_HALF_FULL as i64),
    ("DAHDI_FLUSH_READ", buf::FLUSH_READ as i64),
    ("DAHDI_FLUSH_WRITE", buf::FLUSH_WRITE as i64),
    ("DAHDI_FLUSH_EVENT", buf::FLUSH_EVENT as i64),
    ("DAHDI_FLUSH_ALL", buf::FLUSH_ALL as i64),
    ("DAHDI_MAJOR", limits::DAHDI_MAJOR as i64),
    ("DAHDI_MAX_SPANS", limits::MAX_SPANS as i64),
    ("DAHDI_MAX_CHANNELS", limits::MAX_CHANNELS as i64),
    ("DAHDI_MAX_BLOCKSIZE", limits::MAX_BLOCKSIZE as i64),
    ("DAHDI_MAX_NUM_BUFS", limits::MAX_NUM_BUFS as i64),
    ("DAHDI_MAX_BUF_SPACE", limits::MAX_BUF_SPACE as i64),
    ("DAHDI_MAX_ECHOCANPARAMS", limits::MAX_ECHOCANPARAMS as i64),
    ("DAHDI_TONE_ZONE_MAX", limits::TONE_ZONE_MAX as i64),
    ("DAHDI_GET_PARAMS_RETURN_MASTER", limits::GET_PARAMS_RETURN_MASTER as i64),
];

/// `(struct name, size)` of every structure, for the ABI test.
pub const SIZES: &[(&str, usize)] = &[
    ("dahdi_params", size_of::<DahdiParams>()),
    ("dahdi_spaninfo", size_of::<DahdiSpaninfo>()),
    ("dahdi_lineconfig", size_of::<DahdiLineconfig>()),
    ("dahdi_chanconfig", size_of::<DahdiChanconfig>()),
    ("dahdi_bufferinfo", size_of::<DahdiBufferinfo>()),
    ("dahdi_dialparams", size_of::<DahdiDialparams>()),
    ("dahdi_dialoperation", size_of::<DahdiDialoperation>()),
    ("dahdi_echocanparams", size_of::<DahdiEchocanparams>()),
    ("dahdi_echocanparam", size_of::<DahdiEchocanparam>()),
    ("dahdi_attach_echocan", size_of::<DahdiAttachEchocan>()),
    ("dahdi_versioninfo", size_of::<DahdiVersioninfo>()),
    ("dahdi_dynamic_span", size_of::<DahdiDynamicSpan>()),
    ("dahdi_tone_def_header", size_of::<DahdiToneDefHeader>()),
    ("dahdi_ring_cadence", size_of::<DahdiRingCadence>()),
    ("dahdi_maintinfo", size_of::<DahdiMaintinfo>()),
    ("dahdi_transcoder_formats", size_of::<DahdiTranscoderFormats>()),
    ("dahdi_transcoder_info", size_of::<DahdiTranscoderInfo>()),
];

macro_rules! offsets {
    ($($c:literal $ty:ident { $($f:ident),* $(,)? })*) => {
        /// `(struct.field, offset)` of every field, for the ABI test.
        pub const OFFSETS: &[(&str, usize)] = &[
            $($((concat!($c, ".", stringify!($f)), core::mem::offset_of!($ty, $f)),)*)*
        ];
    };
}

offsets! {
    "dahdi_params" DahdiParams { channo, spanno, chanpos, sigtype, sigcap, rxisoffhook, rxbits, txbits,
        txhooksig, rxhooksig, curlaw, idlebits, name, prewinktime, preflashtime, winktime, flashtime,
        starttime, rxwinktime, rxflashtime, debouncetime, pulsebreaktime, pulsemaketime, pulseaftertime,
        chan_alarms }
    "dahdi_spaninfo" DahdiSpaninfo { spanno, name, desc, alarms, txlevel, rxlevel, bpvcount, crc4count,
        ebitcount, fascount, fecount, cvcount, becount, prbs, errsec, irqmisses, syncsrc, numchans,
        totalchans, totalspans, lbo, lineconfig, lboname, location, manufacturer, devicetype, irq,
        linecompat, spantype }
    "dahdi_lineconfig" DahdiLineconfig { span, name, lbo, lineconfig, sync }
    "dahdi_chanconfig" DahdiChanconfig { chan, name, sigtype, deflaw, master, idlebits, netdev_name }
    "dahdi_bufferinfo" DahdiBufferinfo { txbufpolicy, rxbufpolicy, numbufs, bufsize, readbufs, writebufs }
    "dahdi_attach_echocan" DahdiAttachEchocan { chan, echocan }
    "dahdi_echocanparam" DahdiEchocanparam { name, value }
    "dahdi_dynamic_span" DahdiDynamicSpan { driver, addr, numchans, timing, spanno }
    "dahdi_tone_def_header" DahdiToneDefHeader { count, zone, ringcadence, name }
    "dahdi_transcoder_info" DahdiTranscoderInfo { tcnum, name, numchannels, srcfmts, dstfmts }
    "dahdi_transcoder_formats" DahdiTranscoderFormats { srcfmt, dstfmt }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoder_matches_the_numbers_the_reference_lists() {
        // A few hex literals from reference/dahdi.md §2.2, so a broken encoder fails even where the
        // C oracle is not installed.
        assert_eq!(DAHDI_GET_PARAMS, 0xC088_DA05);
        assert_eq!(DAHDI_GET_PARAMS_V1, 0x8088_DA05);
        assert_eq!(DAHDI_SPANSTAT, 0xC13A_DA0A);
        assert_eq!(DAHDI_SPANSTAT_V1, 0xC128_DA0A);
        assert_eq!(DAHDI_ECHOCANCEL, 0x4004_DA21);
        assert_eq!(DAHDI_ECHOCANCEL_PARAMS, 0x4008_DA21);
        assert_eq!(DAHDI_TC_GETINFO, 0xC060_5402);
        assert_eq!(DAHDI_TC_ALLOCATE, 0x4008_5401);
        assert_eq!(io_none(1), 0x0000_DA01);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = IOCTLS.iter().map(|(n, _)| *n).chain(CONSTANTS.iter().map(|(n, _)| *n)).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
