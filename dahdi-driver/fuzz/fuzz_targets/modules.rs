//! Fuzz target: the /etc/dahdi/modules parser, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(d) = dahdi_driver::conf::modules::parse("modules", text) {
        assert!(!d.is_empty());
    }
});
