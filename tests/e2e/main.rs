//! End-to-end tests: each starts the real `spangate` binary and checks it from the outside, over
//! HTTP, through its exit code, or in a real browser. One test binary, one module per area.

mod alarms;
mod audio;
mod baresip;
mod browser;
mod check;
mod clock;
mod dahdi_conf;
mod dtmf;
mod echo;
mod ha;
mod ha_replication;
mod hardware;
mod isdn_calls;
mod isdn_faults;
mod isdn_l2;
mod load;
mod sip;
mod sip_isdn;
mod sip_tcp;
mod status;
mod switch;

use std::path::PathBuf;

use spangate_tests::Scratch;

/// Two E1 spans of the same board cabled to each other, so both ends of the cable are visible.
pub fn looped_e1_pair(scratch: &Scratch) -> PathBuf {
    let cfg = r#"
[board]
name = "looped pair"
model = "sim-e1x2"
backend = "sim"
description = "span 1 (TE) cabled to span 2 (NT) in one process"

[[board.span]]
span = 1
kind = "e1"
timing = 1
termination = "te"
signalling = "pri_cpe"
switchtype = "euroisdn"
[board.span.sim]
line = "span:2"

[[board.span]]
span = 2
kind = "e1"
timing = 0
termination = "nt"
signalling = "pri_net"
switchtype = "euroisdn"
[board.span.sim]
line = "span:1"
"#;
    let p = scratch.path("looped.toml");
    std::fs::write(&p, cfg).expect("write config");
    p
}
