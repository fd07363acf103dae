//! ISDN signalling on the D-channel, as sans-IO state machines in the ITU-T vocabulary.
//!
//! - [`q921`]: LAPD, the data link layer (Q.921): frames, the data-link procedure per TEI, TEI
//!   management, for the user (TE) and network (NT) sides, point-to-point and
//!   point-to-multipoint.
//! - [`pcap`]: captures of D-channel frames in link type 177 (LINUX_LAPD) for Wireshark and tshark.
//!
//! Nothing here reads a clock or touches a socket: the event loop passes `now` in, hands received
//! frames over, and drains what to send, what to tell layer 3, and when to call back.

pub mod pcap;
pub mod q921;

pub use q921::{Layer2Persistence, MdlError, Mode, Q921Config, Q921Counters, Q921Event, RequestError, Role, Q921};
