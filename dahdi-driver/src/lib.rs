//! The Linux DAHDI backend of the `hal` traits (Step 5).
//!
//! This crate will hold the DAHDI userspace ABI (`sys`, the only unsafe code in it), span and
//! channel configuration as `dahdi_cfg` applies it, channel I/O and events, DAHDI config
//! import/export and hardware detection. Until Step 5 it names the device nodes the backend
//! will open and declares the kernel ABI (`sys`), pinned by a test to the real `dahdi/user.h`.
// Unsafe code is allowed only in `sys`, where the ioctl calls will live; everywhere else it is an
// error.
#![deny(unsafe_code)]

pub mod backend;
pub mod conf;
pub mod hardware;
pub mod sys;

/// The control device: span configuration, channel configuration, span status.
pub const CTL_DEVICE: &str = "/dev/dahdi/ctl";
/// The channel device, bound to a channel number with `DAHDI_SPECIFY`.
pub const CHANNEL_DEVICE: &str = "/dev/dahdi/channel";

/// Whether a DAHDI kernel is present on this host (its control device exists).
pub fn dahdi_present() -> bool {
    std::path::Path::new(CTL_DEVICE).exists()
}
