//! Fuzz target: the config parser and validator. Any text gives a config or diagnostics that are
//! well formed (1-based positions, one line each, a field), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(d) = provisioning::parse_str("fuzz.toml", text) {
        assert!(!d.is_empty());
        for x in &d {
            assert!(x.line >= 1 && x.col >= 1 && !x.field.is_empty());
            assert!(!x.message.contains('\n'));
        }
    }
});
