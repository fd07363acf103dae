//! The Linux DAHDI backend of the `hal` traits (Step 5).
//!
//! The DAHDI userspace ABI (`sys`, with `sys::ioctl` the only unsafe code in the crate), the
//! backend of the hal traits over it (`backend`: span and channel configuration as `dahdi_cfg`
//! applies it, channel I/O and events, span status), DAHDI config import/export (`conf`),
//! hardware detection (`hardware`) and the TC400B's transcoder interface (`transcoder`). The
//! backend runs against the real kernel modules in `cargo xtask vm-test`.
// Unsafe code is allowed only in `sys`, where the ioctl calls will live; everywhere else it is an
// error.
#![deny(unsafe_code)]

pub mod backend;
pub mod conf;
pub mod hardware;
pub mod sys;
pub mod transcoder;

/// The control device: span configuration, channel configuration, span status.
pub const CTL_DEVICE: &str = "/dev/dahdi/ctl";
/// The channel device, bound to a channel number with `DAHDI_SPECIFY`.
pub const CHANNEL_DEVICE: &str = "/dev/dahdi/channel";

/// Whether a DAHDI kernel is present on this host (its control device exists).
pub fn dahdi_present() -> bool {
    std::path::Path::new(CTL_DEVICE).exists()
}
