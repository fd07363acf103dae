//! The DAHDI transcoder interface (`/dev/dahdi/transcode`, a TC400B's `wctc4xxp` behind it): list the
//! transcoders, allocate a channel for one direction, push and pull frames without blocking.
//!
//! How the kernel side works (`dahdi_transcode.ko`, loaded on the first open of the node): every
//! open of `/dev/dahdi/transcode` is one future channel. `DAHDI_TC_GETINFO` with `tcnum` 0, 1, ...
//! describes each registered transcoder until it answers `ENOSYS`; a TC400B registers two, "DTE
//! Encoder" (ulaw/alaw -> G.729A/G.723.1) and "DTE Decoder" (the reverse). `DAHDI_TC_ALLOCATE`
//! binds the descriptor to a free channel of a transcoder offering the pair (`ENODEV` when none
//! does, `EBUSY` when all its channels are taken) and takes the descriptor's `O_NONBLOCK` at that
//! moment, so we open non-blocking. From then on a `write` is one input frame and a `read` returns
//! whatever converted frames are ready (`EAGAIN` when none yet): the card works asynchronously,
//! so output trails input by a frame or two. Closing the descriptor frees the channel.
//!
//! [`G729Pair`] is the piece the media thread holds for a G.729 leg: an encoder and a decoder
//! channel, with [`G729Pair::encode`] and [`G729Pair::decode`] that never allocate, block or log
//! (errors are a `Copy` value carrying the errno).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;

use crate::sys::{self, format, ioctl};

/// The transcoder device node.
pub const TRANSCODE_DEVICE: &str = "/dev/dahdi/transcode";

/// A codec the DAHDI transcoder interface names (`DAHDI_FORMAT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    G723_1,
    Gsm,
    Ulaw,
    Alaw,
    G726,
    Adpcm,
    Slinear,
    Lpc10,
    G729A,
    Speex,
    Ilbc,
}

impl Format {
    /// Every format, in bit order.
    pub const ALL: [Format; 11] = [
        Format::G723_1,
        Format::Gsm,
        Format::Ulaw,
        Format::Alaw,
        Format::G726,
        Format::Adpcm,
        Format::Slinear,
        Format::Lpc10,
        Format::G729A,
        Format::Speex,
        Format::Ilbc,
    ];

    /// The format's bit in `srcfmts`/`dstfmts`.
    pub const fn bit(self) -> u32 {
        match self {
            Format::G723_1 => format::G723_1,
            Format::Gsm => format::GSM,
            Format::Ulaw => format::ULAW,
            Format::Alaw => format::ALAW,
            Format::G726 => format::G726,
            Format::Adpcm => format::ADPCM,
            Format::Slinear => format::SLINEAR,
            Format::Lpc10 => format::LPC10,
            Format::G729A => format::G729A,
            Format::Speex => format::SPEEX,
            Format::Ilbc => format::ILBC,
        }
    }

    /// The codec's usual name (Asterisk's, which DAHDI's formats come from).
    pub const fn name(self) -> &'static str {
        match self {
            Format::G723_1 => "g723.1",
            Format::Gsm => "gsm",
            Format::Ulaw => "ulaw",
            Format::Alaw => "alaw",
            Format::G726 => "g726",
            Format::Adpcm => "adpcm",
            Format::Slinear => "slin",
            Format::Lpc10 => "lpc10",
            Format::G729A => "g729a",
            Format::Speex => "speex",
            Format::Ilbc => "ilbc",
        }
    }

    /// The G.711 format of a line law.
    pub const fn of_law(law: hal::Law) -> Format {
        match law {
            hal::Law::Alaw => Format::Alaw,
            hal::Law::Mulaw => Format::Ulaw,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of formats as the kernel reports it (a bitmask), unknown bits kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Formats(pub u32);

impl Formats {
    pub fn contains(self, f: Format) -> bool {
        self.0 & f.bit() != 0
    }

    /// The known formats in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Format> {
        Format::ALL.into_iter().filter(move |f| self.contains(*f))
    }

    /// Bits no [`Format`] names (a newer kernel's codec).
    pub fn unknown(self) -> u32 {
        Format::ALL.iter().fold(self.0, |bits, f| bits & !f.bit())
    }
}

impl fmt::Display for Formats {
    /// `ulaw, alaw`, `none`, or with unknown bits `g729a, 0x8000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for x in self.iter() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            f.write_str(x.name())?;
        }
        if self.unknown() != 0 {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{:#x}", self.unknown())?;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// One registered transcoder, as `DAHDI_TC_GETINFO` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscoderInfo {
    /// Its `tcnum` (registration order).
    pub index: u32,
    pub name: String,
    pub channels: u32,
    /// What it takes in.
    pub src: Formats,
    /// What it puts out.
    pub dst: Formats,
}

impl TranscoderInfo {
    fn from_sys(i: &sys::DahdiTranscoderInfo) -> TranscoderInfo {
        TranscoderInfo {
            index: i.tcnum,
            name: ioctl::get_str(&i.name),
            channels: i.numchannels,
            src: Formats(i.srcfmts),
            dst: Formats(i.dstfmts),
        }
    }

    /// Whether it converts `from` into `to` (the test `DAHDI_TC_ALLOCATE` makes).
    pub fn converts(&self, from: Format, to: Format) -> bool {
        self.src.contains(from) && self.dst.contains(to)
    }
}

impl fmt::Display for TranscoderInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "transcoder {} \"{}\": {} channels, {} -> {}",
            self.index, self.name, self.channels, self.src, self.dst
        )
    }
}

/// Whether the transcoders, taken together, turn `law` into G.729A and G.729A back into `law`
/// (a TC400B does it with two: its encoder and its decoder).
pub fn g729_both_ways(list: &[TranscoderInfo], law: hal::Law) -> bool {
    let pcm = Format::of_law(law);
    list.iter().any(|t| t.converts(pcm, Format::G729A)) && list.iter().any(|t| t.converts(Format::G729A, pcm))
}

/// What went wrong setting up the transcoder interface.
#[derive(Debug)]
pub enum TranscoderError {
    /// `/dev/dahdi/transcode` would not open (no DAHDI, or `dahdi_transcode` not loadable).
    Open(io::Error),
    /// An ioctl failed in a way the operation does not explain.
    Ioctl { op: &'static str, source: io::Error },
    /// No transcoder converts `from` into `to` (`ENODEV`).
    Unsupported { from: Format, to: Format },
    /// Every channel converting `from` into `to` is taken (`EBUSY`).
    Busy { from: Format, to: Format },
    /// The transcoders present cannot do G.729 both ways for this law.
    NoG729 { law: Format, found: Vec<TranscoderInfo> },
}

impl fmt::Display for TranscoderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TranscoderError::Open(e) => {
                write!(f, "open {TRANSCODE_DEVICE}: {e} (is DAHDI loaded, with its dahdi_transcode module?)")
            }
            TranscoderError::Ioctl { op, source } => write!(f, "{op} on {TRANSCODE_DEVICE}: {source}"),
            TranscoderError::Unsupported { from, to } => {
                write!(f, "no DAHDI transcoder converts {from} to {to}")
            }
            TranscoderError::Busy { from, to } => {
                write!(f, "every DAHDI transcoder channel converting {from} to {to} is in use")
            }
            TranscoderError::NoG729 { law, found } => {
                write!(f, "no hardware transcoder offers G.729 both ways ({law} <-> g729a): ")?;
                if found.is_empty() {
                    f.write_str("DAHDI has no transcoder registered (is a TC400B fitted and wctc4xxp loaded?)")
                } else {
                    let list: Vec<String> = found.iter().map(ToString::to_string).collect();
                    write!(f, "DAHDI has {}", list.join("; "))
                }
            }
        }
    }
}

impl std::error::Error for TranscoderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TranscoderError::Open(e) | TranscoderError::Ioctl { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

fn open_device() -> Result<File, TranscoderError> {
    // Non-blocking from the start: DAHDI_TC_ALLOCATE copies the descriptor's O_NONBLOCK into the
    // channel, and the media thread must never wait on the card.
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(TRANSCODE_DEVICE)
        .map_err(TranscoderError::Open)
}

/// Every transcoder DAHDI has registered (none without a card).
pub fn list() -> Result<Vec<TranscoderInfo>, TranscoderError> {
    let dev = open_device()?;
    list_on(&dev)
}

/// [`list`] over an already open transcode descriptor.
pub fn list_on(dev: &File) -> Result<Vec<TranscoderInfo>, TranscoderError> {
    let mut out = Vec::new();
    // The kernel holds at most a few per card; the bound only guards against a kernel that never
    // says ENOSYS.
    for tcnum in 0..256 {
        match ioctl::tc_getinfo(dev.as_fd(), tcnum) {
            Ok(i) => out.push(TranscoderInfo::from_sys(&i)),
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => break,
            Err(e) => return Err(TranscoderError::Ioctl { op: "DAHDI_TC_GETINFO", source: e }),
        }
    }
    Ok(out)
}

/// Lists the transcoders and fails with [`TranscoderError::NoG729`] unless they convert `law` to
/// G.729A and back: the check `transcoding = "hardware"` makes at start.
pub fn require_g729(law: hal::Law) -> Result<Vec<TranscoderInfo>, TranscoderError> {
    let found = list()?;
    if g729_both_ways(&found, law) {
        Ok(found)
    } else {
        Err(TranscoderError::NoG729 { law: Format::of_law(law), found })
    }
}

/// A failed frame operation: `Copy` and allocation-free, so the media thread can count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameError {
    /// `"write"` or `"read"`.
    pub op: &'static str,
    pub errno: i32,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transcoder {}: {}", self.op, io::Error::from_raw_os_error(self.errno))
    }
}

impl std::error::Error for FrameError {}

fn frame_err(op: &'static str, e: &io::Error) -> FrameError {
    FrameError { op, errno: e.raw_os_error().unwrap_or(libc::EIO) }
}

/// One allocated transcoder channel, converting `from` into `to`; closing it (drop) frees it.
#[derive(Debug)]
pub struct TranscoderChannel {
    dev: File,
    from: Format,
    to: Format,
}

impl TranscoderChannel {
    /// Opens the device and allocates a channel converting `from` into `to`.
    pub fn allocate(from: Format, to: Format) -> Result<TranscoderChannel, TranscoderError> {
        let dev = open_device()?;
        match ioctl::tc_allocate(dev.as_fd(), from.bit(), to.bit()) {
            Ok(()) => Ok(TranscoderChannel { dev, from, to }),
            Err(e) => Err(match e.raw_os_error() {
                Some(libc::ENODEV) => TranscoderError::Unsupported { from, to },
                Some(libc::EBUSY) => TranscoderError::Busy { from, to },
                _ => TranscoderError::Ioctl { op: "DAHDI_TC_ALLOCATE", source: e },
            }),
        }
    }

    pub fn from(&self) -> Format {
        self.from
    }

    pub fn to(&self) -> Format {
        self.to
    }

    /// Hands one input frame to the card: `Ok(false)` when it cannot take it now (`EAGAIN`, the
    /// frame is not queued), an error for anything else (`EINVAL`: a size the codec refuses).
    pub fn write_frame(&mut self, frame: &[u8]) -> Result<bool, FrameError> {
        match self.dev.write(frame) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(frame_err("write", &e)),
        }
    }

    /// Takes the converted frames that are ready into `out`: `Ok(0)` when none is yet.
    pub fn read_frames(&mut self, out: &mut [u8]) -> Result<usize, FrameError> {
        match self.dev.read(out) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(frame_err("read", &e)),
        }
    }
}

/// What a [`G729Pair`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transcoded {
    /// Whether the card took the input frame (false: it was busy and the frame is dropped).
    pub accepted: bool,
    /// Bytes of output written to `out` (0 while the card has nothing ready yet).
    pub out_len: usize,
}

/// A G.729 leg on the card: one channel encoding the line law into G.729A and one decoding it
/// back. Made off the media thread (it opens files); `encode`/`decode` are then safe there: each
/// is one non-blocking `write(2)` and one `read(2)` into the caller's buffer, nothing allocated.
#[derive(Debug)]
pub struct G729Pair {
    encoder: TranscoderChannel,
    decoder: TranscoderChannel,
}

impl G729Pair {
    /// G.729A frames are 10 bytes per 10 ms, the law 80 bytes.
    pub const G729_FRAME: usize = 10;
    pub const LAW_FRAME: usize = 80;

    /// Allocates both channels for `law`.
    pub fn open(law: hal::Law) -> Result<G729Pair, TranscoderError> {
        let pcm = Format::of_law(law);
        let encoder = TranscoderChannel::allocate(pcm, Format::G729A)?;
        let decoder = TranscoderChannel::allocate(Format::G729A, pcm)?;
        Ok(G729Pair { encoder, decoder })
    }

    /// A pair over two already open, non-blocking descriptors that behave like allocated channels
    /// (one write is one input frame, one read takes the ready output): what tests and a fake card
    /// use (a `UnixDatagram` pair keeps frame boundaries as the kernel does).
    pub fn from_files(law: hal::Law, encoder: File, decoder: File) -> G729Pair {
        let pcm = Format::of_law(law);
        G729Pair {
            encoder: TranscoderChannel { dev: encoder, from: pcm, to: Format::G729A },
            decoder: TranscoderChannel { dev: decoder, from: Format::G729A, to: pcm },
        }
    }

    /// Sends `pcm` (law bytes, whole 10 ms frames) to the encoder and takes the G.729A frames
    /// that are ready into `out` (size it for a few frames: the card may hand back several).
    pub fn encode(&mut self, pcm: &[u8], out: &mut [u8]) -> Result<Transcoded, FrameError> {
        let accepted = pcm.is_empty() || self.encoder.write_frame(pcm)?;
        Ok(Transcoded { accepted, out_len: self.encoder.read_frames(out)? })
    }

    /// Sends a G.729A payload (whole 10-byte frames) to the decoder and takes the law samples
    /// that are ready into `out`.
    pub fn decode(&mut self, g729: &[u8], out: &mut [u8]) -> Result<Transcoded, FrameError> {
        let accepted = g729.is_empty() || self.decoder.write_frame(g729)?;
        Ok(Transcoded { accepted, out_len: self.decoder.read_frames(out)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(index: u32, name: &str, src: u32, dst: u32) -> TranscoderInfo {
        TranscoderInfo { index, name: name.into(), channels: 92, src: Formats(src), dst: Formats(dst) }
    }

    /// The two transcoders a TC400B registers in mode "any" (wctc4xxp's DTE Encoder/Decoder).
    fn tc400b() -> Vec<TranscoderInfo> {
        let law = format::ULAW | format::ALAW;
        let complex = format::G729A | format::G723_1;
        vec![tc(0, "DTE Encoder", law, complex), tc(1, "DTE Decoder", complex, law)]
    }

    #[test]
    fn bitmasks_decode_to_codec_names() {
        assert_eq!(Formats(format::ULAW | format::ALAW).to_string(), "ulaw, alaw");
        assert_eq!(Formats(format::G729A | format::G723_1).to_string(), "g723.1, g729a");
        assert_eq!(Formats(0).to_string(), "none");
        assert_eq!(Formats(format::G729A | 0x8000).to_string(), "g729a, 0x8000");
        assert_eq!(Formats(0x10_0000).to_string(), "0x100000");
        assert_eq!(Formats(format::SLINEAR).iter().collect::<Vec<_>>(), [Format::Slinear]);
        // Every format is its own bit and every bit the kernel defines below ILBC has a name.
        let all = Format::ALL.iter().fold(0, |m, f| {
            assert_eq!(m & f.bit(), 0, "{f} shares a bit");
            m | f.bit()
        });
        assert_eq!(all, (1 << 11) - 1);
        assert_eq!(Formats(all).unknown(), 0);
    }

    #[test]
    fn a_transcoder_reads_like_the_kernel_says() {
        let s = TranscoderInfo::from_sys(&sys::DahdiTranscoderInfo {
            tcnum: 1,
            name: {
                let mut n = [0u8; 80];
                n[..11].copy_from_slice(b"DTE Decoder");
                n
            },
            numchannels: 120,
            dstfmts: format::ULAW,
            srcfmts: format::G729A,
        });
        assert_eq!(s.to_string(), "transcoder 1 \"DTE Decoder\": 120 channels, g729a -> ulaw");
        assert!(s.converts(Format::G729A, Format::Ulaw));
        assert!(!s.converts(Format::Ulaw, Format::G729A));
    }

    #[test]
    fn g729_both_ways_needs_an_encoder_and_a_decoder_for_the_law() {
        assert!(g729_both_ways(&tc400b(), hal::Law::Alaw));
        assert!(g729_both_ways(&tc400b(), hal::Law::Mulaw));
        assert!(!g729_both_ways(&[], hal::Law::Alaw));
        // Only the encoder half.
        assert!(!g729_both_ways(&tc400b()[..1], hal::Law::Alaw));
        // mode = "g723.1": no G.729 at all.
        let g723 = vec![tc(0, "e", format::ULAW, format::G723_1), tc(1, "d", format::G723_1, format::ULAW)];
        assert!(!g729_both_ways(&g723, hal::Law::Mulaw));
        // A card that only does mu-law cannot serve an A-law line.
        let ulaw = vec![tc(0, "e", format::ULAW, format::G729A), tc(1, "d", format::G729A, format::ULAW)];
        assert!(g729_both_ways(&ulaw, hal::Law::Mulaw));
        assert!(!g729_both_ways(&ulaw, hal::Law::Alaw));
    }

    #[test]
    fn the_refusal_says_what_was_found() {
        let none = TranscoderError::NoG729 { law: Format::Alaw, found: Vec::new() }.to_string();
        assert!(none.starts_with("no hardware transcoder offers G.729 both ways (alaw <-> g729a)"), "{none}");
        assert!(none.contains("no transcoder registered"), "{none}");
        let g723 = TranscoderError::NoG729 {
            law: Format::Alaw,
            found: vec![tc(0, "DTE Encoder", format::ALAW, format::G723_1)],
        }
        .to_string();
        assert!(g723.ends_with("DAHDI has transcoder 0 \"DTE Encoder\": 92 channels, alaw -> g723.1"), "{g723}");
    }

    #[test]
    fn a_tc400b_is_recognised_by_its_pci_id() {
        // The TC400B is the TC400P board with the TC400M module; wctc4xxp binds it at d161:3400
        // (its desc says "tc400b"), which `spangate hardware` maps to a transcoder with no spans.
        let m = crate::hardware::match_pci(0xd161, 0x3400, 0xd161, 0x3400).expect("TC400B");
        assert_eq!(m.module, "wctc4xxp");
        assert!(matches!(m.ports, crate::hardware::Ports::Transcoder), "{}", m.ports);
    }

    #[test]
    fn the_device_opens_or_fails_clearly() {
        if std::path::Path::new(TRANSCODE_DEVICE).exists() {
            // A host with DAHDI loaded: enumeration must work (the VM test checks the counts).
            list().expect("DAHDI_TC_GETINFO on a present device");
        } else {
            let e = list().unwrap_err();
            assert!(matches!(e, TranscoderError::Open(_)));
            assert!(e.to_string().starts_with("open /dev/dahdi/transcode: "), "{e}");
            let e = G729Pair::open(hal::Law::Alaw).unwrap_err();
            assert!(matches!(e, TranscoderError::Open(_)), "{e}");
        }
    }

    #[test]
    fn frame_calls_on_a_non_transcoder_fd_report_the_errno() {
        // /dev/null refuses the allocate ioctl (ENOTTY), which is neither ENODEV nor EBUSY.
        let f = std::fs::File::open("/dev/null").unwrap();
        let e = ioctl::tc_allocate(f.as_fd(), format::ULAW, format::G729A).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY));
        let e = ioctl::tc_getinfo(f.as_fd(), 0).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY));
        // A read-only descriptor refuses a write with EBADF, which must come back as an error.
        let mut ch = TranscoderChannel { dev: f, from: Format::Ulaw, to: Format::G729A };
        assert_eq!(ch.write_frame(&[0; 80]), Err(FrameError { op: "write", errno: libc::EBADF }));
        assert_eq!(ch.read_frames(&mut [0; 10]), Ok(0));
        assert_eq!(
            FrameError { op: "read", errno: libc::EAGAIN }.to_string().split(':').next(),
            Some("transcoder read")
        );
    }
}
