//! Fuzz target: the /proc/dahdi/N parser, never a panic, and every channel line it keeps has a
//! number.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let span = dahdi_driver::backend::procfs::parse(&text);
    assert!(span.channels.len() <= text.lines().count());
});
