//! Channel descriptors: a bearer channel's 8-sample audio chunks and a D-channel's HDLC frames,
//! each on its own non-blocking `/dev/dahdi/channel` descriptor bound with `DAHDI_SPECIFY`.
//!
//! A read that the kernel answers with `-ELAST` means an event is waiting (alarm, bad FCS, abort,
//! overrun): it is fetched with `DAHDI_GETEVENT`, counted, kept for [`AudioChannel::take_events`]
//! / [`DChannel::take_events`], and the read is retried once.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

use hal::{Chunk, ErrorKind, HalError, Law, CHUNK, MAX_HDLC_FRAME};

use crate::sys::{self, event, ioctl};

/// DAHDI's "an event is waiting" errno (`ELAST` in `dahdi/user.h`, not a Linux errno).
pub const ELAST: i32 = 500;
/// Reads one `recv_frame` tries before it answers `None` (runts and event bursts are skipped).
const RECV_TRIES: usize = 32;
/// Bytes the kernel appends (read) or overwrites (write) for the HDLC FCS.
const FCS_LEN: usize = 2;
/// At most this many events are kept between two `take_events` calls; older ones are dropped.
const EVENT_QUEUE: usize = 64;

fn open_channel(channo: i32) -> io::Result<File> {
    let file = OpenOptions::new().read(true).write(true).custom_flags(libc::O_NONBLOCK).open(crate::CHANNEL_DEVICE)?;
    ioctl::specify(file.as_fd(), channo)?;
    Ok(file)
}

fn io_error(op: String, e: io::Error) -> HalError {
    let kind = if e.kind() == io::ErrorKind::WouldBlock { ErrorKind::WouldBlock } else { ErrorKind::Io };
    HalError { kind, op, source: Some(e) }
}

/// Events fetched after `-ELAST`, with the counters the status page shows. The queue is
/// allocated once, at its full size, so recording never allocates (the media thread records).
#[derive(Debug)]
pub struct EventLog {
    queue: VecDeque<i32>,
    pub bad_fcs: u64,
    pub aborts: u64,
    pub overruns: u64,
    pub alarms: u64,
}

impl Default for EventLog {
    fn default() -> EventLog {
        EventLog { queue: VecDeque::with_capacity(EVENT_QUEUE), bad_fcs: 0, aborts: 0, overruns: 0, alarms: 0 }
    }
}

impl EventLog {
    /// Records one `DAHDI_EVENT_*` value.
    pub fn record(&mut self, ev: i32) {
        match ev {
            event::BADFCS => self.bad_fcs += 1,
            event::ABORT => self.aborts += 1,
            event::OVERRUN | event::READ_OVERRUN => self.overruns += 1,
            event::ALARM => self.alarms += 1,
            _ => {}
        }
        if self.queue.len() == EVENT_QUEUE {
            self.queue.pop_front();
        }
        self.queue.push_back(ev);
    }

    /// Drains the kept events, oldest first.
    pub fn take(&mut self) -> Vec<i32> {
        self.queue.drain(..).collect()
    }
}

/// Events fetched in one read before giving up with `Interrupted` (the caller may read again).
const EVENTS_PER_READ: usize = 8;

/// Reads once; on `-ELAST` fetches the event and reads again, up to [`EVENTS_PER_READ`] times.
fn read_with_events(file: &mut File, events: &mut EventLog, buf: &mut [u8]) -> io::Result<usize> {
    for _ in 0..EVENTS_PER_READ {
        match file.read(buf) {
            Err(e) if e.raw_os_error() == Some(ELAST) => {
                let ev = ioctl::get_event(file.as_fd())?;
                events.record(ev);
            }
            r => return r,
        }
    }
    Err(io::Error::from(io::ErrorKind::Interrupted))
}

/// The kernel's smallest block: `DAHDI_SET_BLOCKSIZE` refuses less than 16 bytes (`EINVAL`), so
/// one read or write carries two of our 8-sample chunks (2 ms).
pub const BLOCK: usize = 16;
/// The largest block [`AudioChannel::set_buffers`] accepts (the buffers are fixed arrays).
pub const MAX_BLOCK: usize = 256;

/// A bearer channel in audio mode, law-coded. The kernel moves [`BLOCK`]-byte blocks; the hal
/// traits move [`CHUNK`]s, so each direction keeps one block and hands out or fills its halves.
pub struct AudioChannel {
    file: File,
    channo: i32,
    timeslot: u8,
    /// Bytes per kernel read/write (`BLOCK` unless [`AudioChannel::set_buffers`] changed it).
    block: usize,
    rx: [u8; MAX_BLOCK],
    /// Bytes of `rx` already handed out (`block` = empty).
    rx_pos: usize,
    tx: [u8; MAX_BLOCK],
    tx_len: usize,
    pub events: EventLog,
}

impl AudioChannel {
    /// Opens kernel channel `channo` (at `timeslot` in its span): block size [`CHUNK`], `law`.
    pub fn open(channo: i32, timeslot: u8, law: Law) -> io::Result<AudioChannel> {
        let file = open_channel(channo)?;
        ioctl::set_blocksize(file.as_fd(), i32::try_from(BLOCK).unwrap_or(16))?;
        // A clear channel opens in raw (non-audio) mode; SETLINEAR and the echo canceller need
        // audio mode (EINVAL otherwise), as chan_dahdi sets it.
        ioctl::audio_mode(file.as_fd(), true)?;
        ioctl::set_linear(file.as_fd(), false)?;
        ioctl::set_law(file.as_fd(), if law == Law::Alaw { sys::law::ALAW } else { sys::law::MULAW })?;
        Ok(AudioChannel {
            file,
            channo,
            timeslot,
            block: BLOCK,
            rx: [0; MAX_BLOCK],
            rx_pos: BLOCK,
            tx: [0; MAX_BLOCK],
            tx_len: 0,
            events: EventLog::default(),
        })
    }

    /// The kernel's channel number.
    pub fn channo(&self) -> i32 {
        self.channo
    }

    /// Sets the kernel's buffering: `numbufs` buffers of `block` bytes (a multiple of [`CHUNK`]
    /// from [`BLOCK`] to [`MAX_BLOCK`]). More buffering rides out late wake-ups at the cost of
    /// latency; the media thread keeps the default. Pending partial blocks are dropped.
    pub fn set_buffers(&mut self, numbufs: i32, block: usize) -> io::Result<()> {
        if !(BLOCK..=MAX_BLOCK).contains(&block) || block % CHUNK != 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let mut b = ioctl::get_bufinfo(self.file.as_fd())?;
        b.numbufs = numbufs;
        b.bufsize = i32::try_from(block).unwrap_or(16);
        ioctl::set_bufinfo(self.file.as_fd(), b)?;
        self.block = block;
        self.rx_pos = block;
        self.tx_len = 0;
        Ok(())
    }

    /// Enables the attached canceller with `taps` (0 disables), as chan_dahdi does per call.
    pub fn echo_cancel(&mut self, taps: u32) -> io::Result<()> {
        ioctl::echocancel_params(self.file.as_fd(), taps, &[])
    }

    /// Events seen since the last call.
    pub fn take_events(&mut self) -> Vec<i32> {
        self.events.take()
    }
}

impl hal::Channel for AudioChannel {
    fn timeslot(&self) -> u8 {
        self.timeslot
    }

    fn read_chunk(&mut self, out: &mut Chunk) -> Result<(), HalError> {
        self.read_chunk_io(out).map_err(|e| io_error(format!("read channel {}", self.channo), e))
    }

    /// Accepts the chunk unless a full block is still waiting for the kernel (then `WouldBlock`,
    /// and the chunk is not taken); a block is written as soon as two chunks fill it.
    fn write_chunk(&mut self, chunk: &Chunk) -> Result<(), HalError> {
        self.write_chunk_io(chunk).map_err(|e| io_error(format!("write channel {}", self.channo), e))
    }
}

impl AudioChannel {
    /// [`hal::Channel::read_chunk`] without building a `HalError`: an `io::Error` made from an
    /// errno or a kind does not allocate, so the media thread can call this.
    pub fn read_chunk_io(&mut self, out: &mut Chunk) -> io::Result<()> {
        if self.rx_pos >= self.block {
            let block = self.block;
            match read_with_events(&mut self.file, &mut self.events, &mut self.rx[..block]) {
                Ok(n) if n == block => self.rx_pos = 0,
                // The kernel hands out whole blocks; a short one would be its bug.
                Ok(_) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                Err(e) => return Err(e),
            }
        }
        out.copy_from_slice(&self.rx[self.rx_pos..self.rx_pos + CHUNK]);
        self.rx_pos += CHUNK;
        Ok(())
    }

    /// [`hal::Channel::write_chunk`] without building a `HalError` (no allocation).
    pub fn write_chunk_io(&mut self, chunk: &Chunk) -> io::Result<()> {
        if self.tx_len == self.block {
            self.flush_tx()?;
        }
        self.tx[self.tx_len..self.tx_len + CHUNK].copy_from_slice(chunk);
        self.tx_len += CHUNK;
        if self.tx_len == self.block {
            match self.flush_tx() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                r => r?,
            }
        }
        Ok(())
    }

    /// Whether the last block read still holds a chunk not handed out (the next
    /// [`AudioChannel::read_chunk_io`] then needs no kernel read).
    pub fn rx_buffered(&self) -> bool {
        self.rx_pos < self.block
    }

    /// Throws away what the kernel buffered in both directions (`DAHDI_FLUSH`) and our partial
    /// blocks, for a channel taken back into use after it was left alone.
    pub fn flush(&mut self) -> io::Result<()> {
        self.rx_pos = self.block;
        self.tx_len = 0;
        ioctl::flush(self.file.as_fd(), sys::buf::FLUSH_READ | sys::buf::FLUSH_WRITE)
    }

    fn flush_tx(&mut self) -> io::Result<()> {
        // The kernel takes a whole block or nothing (EAGAIN); a short count would be a bug there.
        match self.file.write(&self.tx[..self.block]) {
            Ok(n) if n != self.block => Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(_) => {
                self.tx_len = 0;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

impl AsFd for AudioChannel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl AsRawFd for AudioChannel {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// The event loop registers the descriptor with mio: it is readable when a frame is waiting.
impl AsRawFd for DChannel {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// A D-channel in HDLC-with-FCS mode: the kernel frames, adds and checks the FCS.
pub struct DChannel {
    file: File,
    channo: i32,
    buf: [u8; MAX_HDLC_FRAME + FCS_LEN],
    pub events: EventLog,
    pub tx_frames: u64,
    pub rx_frames: u64,
    /// Frames shorter than their FCS (the empty frame each side sends at open).
    pub runts: u64,
}

impl DChannel {
    /// Opens kernel channel `channo`, configured `dchan` (SIG_HDLCFCS), with FCS mode on.
    pub fn open(channo: i32) -> io::Result<DChannel> {
        let file = open_channel(channo)?;
        // A `dchan` channel is HDLC with FCS already; a clear channel used as a D-channel (the
        // only kind DAHDI_HDLCFCSMODE accepts, else EINVAL) is switched here.
        if ioctl::get_params(file.as_fd(), 0)?.sigtype == sys::sig::CLEAR {
            ioctl::hdlc_fcs_mode(file.as_fd(), true)?;
        }
        // libpri's buffering: 16 buffers of 1024 bytes, read as soon as a frame ends.
        let mut b = ioctl::get_bufinfo(file.as_fd())?;
        b.txbufpolicy = sys::buf::POLICY_IMMEDIATE;
        b.rxbufpolicy = sys::buf::POLICY_IMMEDIATE;
        b.numbufs = 16;
        b.bufsize = 1024;
        ioctl::set_bufinfo(file.as_fd(), b)?;
        // An idle HDLC transmitter sends idle code, not flags, and the kernel sends a flag only
        // after a frame: the first real frame would have no opening flag and be lost. An empty
        // frame (just the FCS) puts a flag on the line; the far end drops it as too short.
        let mut file = file;
        file.write_all(&[0; FCS_LEN])?;
        Ok(DChannel {
            file,
            channo,
            buf: [0; MAX_HDLC_FRAME + FCS_LEN],
            events: EventLog::default(),
            tx_frames: 0,
            rx_frames: 0,
            runts: 0,
        })
    }

    /// The kernel's channel number.
    pub fn channo(&self) -> i32 {
        self.channo
    }

    /// Events seen since the last call.
    pub fn take_events(&mut self) -> Vec<i32> {
        self.events.take()
    }

    /// The kernel's buffer state (`readbufs`/`writebufs` say how many are full).
    pub fn bufinfo(&self) -> io::Result<sys::DahdiBufferinfo> {
        ioctl::get_bufinfo(self.file.as_fd())
    }
}

impl hal::DChannel for DChannel {
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), HalError> {
        if frame.is_empty() || frame.len() > MAX_HDLC_FRAME {
            return Err(HalError::new(ErrorKind::BadFrame, format!("send {} bytes on D-channel", frame.len())));
        }
        // The kernel overwrites the last two bytes of what is written with the FCS.
        let n = frame.len();
        self.buf[..n].copy_from_slice(frame);
        self.buf[n..n + FCS_LEN].fill(0);
        match self.file.write(&self.buf[..n + FCS_LEN]) {
            // A frame is written whole (it fits one kernel buffer) or not at all.
            Ok(w) if w != n + FCS_LEN => Err(HalError::new(
                ErrorKind::Io,
                format!("write D-channel {}: {w} of {} bytes", self.channo, n + FCS_LEN),
            )),
            Ok(_) => {
                self.tx_frames += 1;
                Ok(())
            }
            Err(e) => Err(io_error(format!("write D-channel {}", self.channo), e)),
        }
    }

    /// `None` only once the kernel has nothing left: a runt (the far end's opening empty frame)
    /// or a read cut short by events is skipped and the next one read, because the event loop
    /// polls edge-triggered and would not hear about frames left behind.
    fn recv_frame(&mut self, out: &mut [u8]) -> Result<Option<usize>, HalError> {
        for _ in 0..RECV_TRIES {
            match read_with_events(&mut self.file, &mut self.events, &mut self.buf) {
                Ok(n) if n > FCS_LEN => {
                    let len = n - FCS_LEN;
                    if len > out.len() {
                        return Err(HalError::new(ErrorKind::BadFrame, format!("{len}-byte frame on {}", self.channo)));
                    }
                    out[..len].copy_from_slice(&self.buf[..len]);
                    self.rx_frames += 1;
                    return Ok(Some(len));
                }
                Ok(0) => return Ok(None),
                Ok(_) => self.runts += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(format!("read D-channel {}", self.channo), e)),
            }
        }
        Ok(None)
    }
}
