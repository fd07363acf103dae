//! Fuzz target: the bnfos.conf reader. Any text parses or is refused with line-numbered
//! problems and no panic; a file that parses is written and read back to the same devices.
#![no_main]

use gateway_daemon::berofos::conf::BnfosConf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match BnfosConf::parse(&text) {
        Ok(conf) => {
            let back = BnfosConf::parse(&conf.write()).expect("our own output reads back");
            let key = |c: &BnfosConf| {
                c.sections
                    .iter()
                    .map(|s| (s.name.clone(), s.mac, s.host, s.login.clone(), s.http_port, s.udp_port))
                    .collect::<Vec<_>>()
            };
            assert_eq!(key(&back), key(&conf));
        }
        Err(diags) => {
            assert!(!diags.is_empty());
            let lines = text.split('\n').count();
            assert!(diags.iter().all(|d| d.line >= 1 && d.line <= lines), "{diags:?}");
        }
    }
});
