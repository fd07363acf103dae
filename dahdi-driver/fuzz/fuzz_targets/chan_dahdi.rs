//! Fuzz target: the chan_dahdi.conf parser, with an `#include` of any name answering the same text
//! again (the loop guard must end it), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut loader = |p: &std::path::Path| Ok((p.display().to_string(), text.to_string()));
    for start in [false, true] {
        if let Err(d) = dahdi_driver::conf::chan_dahdi::parse("/etc/asterisk/chan_dahdi.conf", text, start, &mut loader)
        {
            assert!(!d.is_empty());
            assert!(d.iter().all(|e| e.at.line >= 1));
        }
    }
});
