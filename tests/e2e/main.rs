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
mod fax;
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
mod tones;
mod transcode;
mod transcode_g729;

use std::path::PathBuf;

use spangate_tests::{Config, Scratch};

/// Two E1 spans of the same board cabled to each other, so both ends of the cable are visible.
pub fn looped_e1_pair(scratch: &Scratch) -> PathBuf {
    Config::board("sim-e1x2")
        .board_key("name", "\"looped pair\"")
        .board_key("description", "\"span 1 (TE) cabled to span 2 (NT) in one process\"")
        .looped_pair(|s| s)
        .write(scratch, "looped.toml")
}
