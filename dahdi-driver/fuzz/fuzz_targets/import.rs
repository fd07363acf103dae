//! Fuzz target: the whole import. The input is split at the first NUL into system.conf and
//! dahdi-channels.conf; whatever it gives must be diagnostics or TOML that provisioning accepts.
#![no_main]

use dahdi_driver::conf::{import, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (sys, chans) = text.split_once('\0').unwrap_or((text, ""));
    let sys = Input::new("system.conf", sys);
    let chans = Input::new("dahdi-channels.conf", chans);
    if let Ok((toml, _)) = import(&sys, &chans, None, None) {
        assert!(provisioning::parse_str("imported.toml", &toml).is_ok(), "{toml}");
    }
});
