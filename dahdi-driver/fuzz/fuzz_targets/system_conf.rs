//! Fuzz target: the system.conf parser. Any bytes give a config or diagnostics with 1-based line
//! numbers and one-line messages, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(d) = dahdi_driver::conf::system_conf::parse("fuzz.conf", data) {
        assert!(!d.is_empty());
        for e in &d {
            assert!(e.at.line >= 1 && !e.message.contains('\n'));
        }
    }
});
