//! The DAHDI ioctl calls as safe functions: one typed wrapper per request, over one checked `ioctl(2)`.
//!
//! Every request number in `sys` encodes the size of the argument it carries; [`call`] refuses a
//! call whose argument type has another size, so a wrapper cannot hand the kernel a buffer shorter
//! than the one it reads or writes. The argument types are the plain-integer `repr(C)` structures of
//! `sys` (the [`Abi`] trait marks them), which is what makes the all-zero value and the kernel's
//! writes into them sound.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::*;

/// A structure the kernel reads or writes through an ioctl pointer: only integers and byte arrays,
/// so every bit pattern (in particular all zeroes) is a valid value.
///
/// # Safety
/// Implementors must be `repr(C)` (or packed) structures of integer fields and integer arrays only.
pub unsafe trait Abi: Copy {
    /// The all-zero value, as C code gets from `memset(&x, 0, sizeof x)`.
    fn zeroed() -> Self {
        // SAFETY: the trait's contract says every field is an integer or an integer array, for
        // which all-zero bits are a valid value.
        unsafe { core::mem::zeroed() }
    }
}

// SAFETY: an `int` argument; every bit pattern is an i32. For each impl below: the structure is
// declared in `sys` as `repr(C)`/`repr(C, packed)` with integer and byte-array fields only, and
// tests/abi.rs pins its layout to the C header.
unsafe impl Abi for i32 {}
// SAFETY: see above.
unsafe impl Abi for DahdiParams {}
// SAFETY: see above.
unsafe impl Abi for DahdiSpaninfo {}
// SAFETY: see above.
unsafe impl Abi for DahdiLineconfig {}
// SAFETY: see above.
unsafe impl Abi for DahdiChanconfig {}
// SAFETY: see above.
unsafe impl Abi for DahdiBufferinfo {}
// SAFETY: see above.
unsafe impl Abi for DahdiAttachEchocan {}
// SAFETY: see above.
unsafe impl Abi for DahdiVersioninfo {}
// SAFETY: see above.
unsafe impl Abi for DahdiDynamicSpan {}
// SAFETY: see above.
unsafe impl Abi for DahdiEchocanparams {}
// SAFETY: see above.
unsafe impl Abi for DahdiEchocanparam {}
// SAFETY: see above.
unsafe impl Abi for EchocanRequest {}
// SAFETY: see above.
unsafe impl Abi for DahdiTranscoderFormats {}
// SAFETY: see above.
unsafe impl Abi for DahdiTranscoderInfo {}

/// The argument of `DAHDI_ECHOCANCEL_PARAMS`: the head, then up to `MAX_ECHOCANPARAMS` parameters
/// contiguous in memory (the kernel copies `param_count` of them from just after the head).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct EchocanRequest {
    pub head: DahdiEchocanparams,
    pub params: [DahdiEchocanparam; 8],
}

/// The argument size a request number encodes (bits 16-29).
pub const fn encoded_size(request: u32) -> usize {
    ((request >> 16) & 0x3fff) as usize
}

/// Issues `request` on `fd` with a pointer to `arg`. Fails with `EINVAL` without calling the kernel
/// when the request encodes a size other than `T`'s, except for `DAHDI_ECHOCANCEL_PARAMS`, whose
/// encoded size is only the head of its (larger) argument.
pub fn call<T: Abi>(fd: BorrowedFd<'_>, request: u32, arg: &mut T) -> io::Result<()> {
    let size = core::mem::size_of::<T>();
    let fits = encoded_size(request) == size
        || (request == DAHDI_ECHOCANCEL_PARAMS && size == core::mem::size_of::<EchocanRequest>());
    if !fits {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: `fd` is a live descriptor for the borrow's duration; `arg` is an exclusive reference
    // to a `T` of at least the size the request tells the kernel to read or write (checked above),
    // and `T: Abi` makes any bytes the kernel writes a valid `T`.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::c_ulong::from(request), core::ptr::from_mut(arg)) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// An ioctl whose argument is one `int` passed by pointer (all of DAHDI's int requests are).
pub fn call_int(fd: BorrowedFd<'_>, request: u32, value: i32) -> io::Result<i32> {
    let mut v = value;
    call(fd, request, &mut v)?;
    Ok(v)
}

/// Copies `s` into a NUL-terminated fixed C string field, truncating to leave room for the NUL.
pub fn put_str<const N: usize>(field: &mut [u8; N], s: &str) {
    *field = [0; N];
    let n = s.len().min(N.saturating_sub(1));
    field[..n].copy_from_slice(&s.as_bytes()[..n]);
}

/// Reads a fixed C string field up to its first NUL (lossy UTF-8).
pub fn get_str(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// `DAHDI_SPECIFY`: binds a `/dev/dahdi/channel` descriptor to channel `channo`.
pub fn specify(fd: BorrowedFd<'_>, channo: i32) -> io::Result<()> {
    call_int(fd, DAHDI_SPECIFY, channo).map(drop)
}

/// `DAHDI_SET_BLOCKSIZE`: bytes (samples in law mode) per read/write.
pub fn set_blocksize(fd: BorrowedFd<'_>, size: i32) -> io::Result<()> {
    call_int(fd, DAHDI_SET_BLOCKSIZE, size).map(drop)
}

/// `DAHDI_GET_PARAMS` of the descriptor's own channel (`channo` 0) or of `channo`.
pub fn get_params(fd: BorrowedFd<'_>, channo: i32) -> io::Result<DahdiParams> {
    let mut p = DahdiParams::zeroed();
    p.channo = channo;
    call(fd, DAHDI_GET_PARAMS, &mut p)?;
    Ok(p)
}

/// `DAHDI_SPANSTAT` of span `spanno` (1-based; 0 = the descriptor's channel's span).
pub fn spanstat(fd: BorrowedFd<'_>, spanno: i32) -> io::Result<DahdiSpaninfo> {
    let mut s = DahdiSpaninfo::zeroed();
    s.spanno = spanno;
    call(fd, DAHDI_SPANSTAT, &mut s)?;
    Ok(s)
}

/// `DAHDI_SPANCONFIG` (control device).
pub fn spanconfig(fd: BorrowedFd<'_>, mut lc: DahdiLineconfig) -> io::Result<()> {
    call(fd, DAHDI_SPANCONFIG, &mut lc)
}

/// `DAHDI_CHANCONFIG` (control device).
pub fn chanconfig(fd: BorrowedFd<'_>, mut cc: DahdiChanconfig) -> io::Result<()> {
    call(fd, DAHDI_CHANCONFIG, &mut cc)
}

/// `DAHDI_STARTUP` of a span (control device).
pub fn startup(fd: BorrowedFd<'_>, spanno: i32) -> io::Result<()> {
    call_int(fd, DAHDI_STARTUP, spanno).map(drop)
}

/// `DAHDI_SHUTDOWN` of a span (control device).
pub fn shutdown(fd: BorrowedFd<'_>, spanno: i32) -> io::Result<()> {
    call_int(fd, DAHDI_SHUTDOWN, spanno).map(drop)
}

/// `DAHDI_DYNAMIC_CREATE`: returns the new span's number.
pub fn dynamic_create(fd: BorrowedFd<'_>, driver: &str, addr: &str, numchans: i32, timing: i32) -> io::Result<i32> {
    let mut d = DahdiDynamicSpan::zeroed();
    put_str(&mut d.driver, driver);
    put_str(&mut d.addr, addr);
    d.numchans = numchans;
    d.timing = timing;
    call(fd, DAHDI_DYNAMIC_CREATE, &mut d)?;
    Ok(d.spanno)
}

/// `DAHDI_DYNAMIC_DESTROY` of the span with this driver and address.
pub fn dynamic_destroy(fd: BorrowedFd<'_>, driver: &str, addr: &str) -> io::Result<()> {
    let mut d = DahdiDynamicSpan::zeroed();
    put_str(&mut d.driver, driver);
    put_str(&mut d.addr, addr);
    call(fd, DAHDI_DYNAMIC_DESTROY, &mut d)
}

/// `DAHDI_HDLCFCSMODE`: the kernel adds and checks the FCS of each frame.
pub fn hdlc_fcs_mode(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    call_int(fd, DAHDI_HDLCFCSMODE, i32::from(on)).map(drop)
}

/// `DAHDI_SETLAW`.
pub fn set_law(fd: BorrowedFd<'_>, law: i32) -> io::Result<()> {
    call_int(fd, DAHDI_SETLAW, law).map(drop)
}

/// `DAHDI_SETLINEAR`: 16-bit signed linear samples instead of law bytes.
pub fn set_linear(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    call_int(fd, DAHDI_SETLINEAR, i32::from(on)).map(drop)
}

/// `DAHDI_AUDIOMODE` (clear channels only).
pub fn audio_mode(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    call_int(fd, DAHDI_AUDIOMODE, i32::from(on)).map(drop)
}

/// `DAHDI_GETEVENT`: the pending event (0 when none).
pub fn get_event(fd: BorrowedFd<'_>) -> io::Result<i32> {
    call_int(fd, DAHDI_GETEVENT, 0)
}

/// `DAHDI_FLUSH` with `buf::FLUSH_*` bits.
pub fn flush(fd: BorrowedFd<'_>, what: i32) -> io::Result<()> {
    call_int(fd, DAHDI_FLUSH, what).map(drop)
}

/// `DAHDI_GET_BUFINFO`.
pub fn get_bufinfo(fd: BorrowedFd<'_>) -> io::Result<DahdiBufferinfo> {
    let mut b = DahdiBufferinfo::default();
    call(fd, DAHDI_GET_BUFINFO, &mut b)?;
    Ok(b)
}

/// `DAHDI_SET_BUFINFO`.
pub fn set_bufinfo(fd: BorrowedFd<'_>, mut b: DahdiBufferinfo) -> io::Result<()> {
    call(fd, DAHDI_SET_BUFINFO, &mut b)
}

/// `DAHDI_ATTACH_ECHOCAN` (control device): `name` "" detaches.
pub fn attach_echocan(fd: BorrowedFd<'_>, chan: i32, name: &str) -> io::Result<()> {
    let mut a = DahdiAttachEchocan::zeroed();
    a.chan = chan;
    put_str(&mut a.echocan, name);
    call(fd, DAHDI_ATTACH_ECHOCAN, &mut a)
}

/// `DAHDI_ECHOCANCEL_PARAMS`: enables the channel's canceller with `taps` (0 disables) and up to
/// eight named parameters (extra ones are refused with `E2BIG`, as the kernel would).
pub fn echocancel_params(fd: BorrowedFd<'_>, taps: u32, params: &[(&str, i32)]) -> io::Result<()> {
    let mut r = EchocanRequest::zeroed();
    if params.len() > r.params.len() {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    r.head.tap_length = taps;
    r.head.param_count = u32::try_from(params.len()).unwrap_or(0);
    for (slot, (name, value)) in r.params.iter_mut().zip(params) {
        put_str(&mut slot.name, name);
        slot.value = *value;
    }
    call(fd, DAHDI_ECHOCANCEL_PARAMS, &mut r)
}

/// `DAHDI_GETVERSION`: (DAHDI version, echo canceller name).
pub fn get_version(fd: BorrowedFd<'_>) -> io::Result<(String, String)> {
    let mut v = DahdiVersioninfo::zeroed();
    call(fd, DAHDI_GETVERSION, &mut v)?;
    Ok((get_str(&v.version), get_str(&v.echo_canceller)))
}

/// `DAHDI_TC_GETINFO` of the `tcnum`th registered transcoder (0-based); the kernel answers
/// `ENOSYS` past the last one, which is how enumeration ends.
pub fn tc_getinfo(fd: BorrowedFd<'_>, tcnum: u32) -> io::Result<DahdiTranscoderInfo> {
    let mut i = DahdiTranscoderInfo::zeroed();
    i.tcnum = tcnum;
    call(fd, DAHDI_TC_GETINFO, &mut i)?;
    Ok(i)
}

/// `DAHDI_TC_ALLOCATE`: binds the transcode descriptor to a free channel converting `srcfmt` to
/// `dstfmt` (`ENODEV`: no transcoder does; `EBUSY`: every such channel is taken).
pub fn tc_allocate(fd: BorrowedFd<'_>, srcfmt: u32, dstfmt: u32) -> io::Result<()> {
    let mut f = DahdiTranscoderFormats { srcfmt, dstfmt };
    call(fd, DAHDI_TC_ALLOCATE, &mut f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn a_wrong_sized_argument_is_refused_before_the_kernel() {
        let f = std::fs::File::open("/dev/null").unwrap();
        // DAHDI_SPANSTAT carries a 314-byte struct; an int must not be passed to it.
        let mut small = 0i32;
        let e = call(f.as_fd(), DAHDI_SPANSTAT, &mut small).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    }

    #[test]
    fn a_right_sized_call_reaches_the_kernel() {
        // /dev/null answers every ioctl with ENOTTY: proof the call was really issued.
        let f = std::fs::File::open("/dev/null").unwrap();
        let e = spanstat(f.as_fd(), 1).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY));
    }

    #[test]
    fn c_strings_are_truncated_and_terminated() {
        let mut f = [0xffu8; 4];
        put_str(&mut f, "abcdef");
        assert_eq!(f, *b"abc\0");
        assert_eq!(get_str(&f), "abc");
        assert_eq!(get_str(b"xy"), "xy");
    }

    #[test]
    fn echocanceller_params_beyond_eight_are_refused() {
        let f = std::fs::File::open("/dev/null").unwrap();
        let many = [("x", 1); 9];
        let e = echocancel_params(f.as_fd(), 128, &many).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::E2BIG));
        assert_eq!(encoded_size(DAHDI_ECHOCANCEL_PARAMS), 8);
    }
}
