//! ISDN signalling on the D-channel, as sans-IO state machines in the ITU-T vocabulary.
//!
//! - [`q921`]: LAPD, the data link layer (Q.921): frames, the data-link procedure per TEI, TEI
//!   management, for the user (TE) and network (NT) sides, point-to-point and
//!   point-to-multipoint.
//! - [`calls`]: layer 3 on a live D-channel: Q.931 fed by Q.921's primitives, the span's policy
//!   for incoming calls, the calls as the status shows them.
//! - [`dchan`]: the I/O glue of one D-channel's stack, driven by the event loop (the only part of
//!   `isdn` that touches a channel, a file or the clock); [`tap`] counts the frames it carries.
//! - [`q931`]: call control (Q.931, ETSI first): the message and IE codec and the user-side and
//!   network-side call state machines with their timers, RESTART and §5.8 error handling.
//! - [`pcap`]: captures of D-channel frames in link type 177 (LINUX_LAPD) for Wireshark and tshark.
//!
//! Apart from `dchan`, nothing here reads a clock or touches a socket: the event loop passes `now`
//! in, hands received frames over, and drains what to send, what to tell layer 3, and when to
//! call back.

pub mod calls;
pub mod dchan;
pub mod octets;
pub mod pcap;
pub mod q921;
pub mod q931;
pub mod tap;

pub use q921::{
    DlData, Layer2Persistence, MdlError, Mode, Q921Config, Q921Counters, Q921Event, RequestError, Role, Q921,
};
pub use q931::{CallId, Q931Config, Q931Error, Q931Event, SetupRequest, Q931};
