//! The spangate daemon as a library: the event loop, the media thread, the HTTP side and the
//! glue from a validated config to a running board. `main.rs` only parses the command line.
#![forbid(unsafe_code)]

pub mod berofos;
pub mod board;
pub mod config_state;
pub mod daemon;
pub mod dahdi_media;
pub mod ha;
pub mod http;
pub mod isdn;
pub mod logging;
pub mod media;
pub mod media_board;
pub mod media_codec;
pub mod media_dtmf;
pub mod media_fax;
pub mod media_rtp;
pub mod media_tones;
pub mod routing;
pub mod rtp;
pub mod sip;
pub mod sipnet;
pub mod sipnet_dtmf;
pub mod sipnet_fax;
pub mod sipnet_rtcp;
pub mod sipnet_tcp;
pub mod status;
pub mod status_kernel;
pub mod switch;
