//! Fuzz target: berofos HTTP text. `config.txt` and HTTP messages parse or are refused without
//! a panic; group writes are built for every variable; the simulated device answers any request
//! head with a response that parses.
#![no_main]

use std::time::Instant;

use gateway_daemon::berofos::httpmsg::{Request, Response};
use gateway_daemon::berofos::sim::{AuthScheme, Device, SimConfig};
use gateway_daemon::berofos::{auth, vars};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(conf) = vars::ConfigTxt::parse(&text) {
        let _ = conf.known();
        for v in vars::VARS {
            let params = conf.group_write(v, "1");
            if let Some(cmd) = v.cmd {
                let _ = vars::write_path(cmd, &params);
            }
        }
    }
    let _ = vars::url_unescape(&text);
    let _ = auth::Challenge::parse(&text);
    let _ = auth::base64_decode(&text);
    if let Ok(r) = Request::parse(data) {
        let _ = r.path_and_query();
    }
    let _ = Response::parse(data);
    let now = Instant::now();
    for auth in [None, Some(AuthScheme::Basic), Some(AuthScheme::Digest)] {
        let cfg = SimConfig { pwd: auth.is_some(), auth: auth.unwrap_or(AuthScheme::Basic), ..SimConfig::default() };
        let mut device = Device::new(cfg, now);
        let out = device.handle_http(now, data).expect("a powered device answers");
        assert!(Response::parse(&out).is_ok());
    }
});
