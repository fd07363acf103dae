//! SIP and SDP, sans-IO: the message layer (parse, serialise, typed headers, URIs, the stream
//! framer), SDP with offer/answer, and the Q.850 ⇄ SIP status mapping. No sockets, no clock.
//!
//! # Why our own parser
//! The grammar a trunking gateway needs is small (RFC 3261 §25 for the start line and some
//! twenty headers, RFC 4566 for audio SDP), and we want things the available crates do not
//! all give together: parsing that never panics on any bytes (fuzzed), errors that say what
//! and on which line, a request that is broken but answerable told apart from garbage (so the
//! stack sends 400 as §21.4.1 asks and "a malformed SIP message never costs more than its own
//! transaction"), compact header forms and folding, headers kept in order and serialised back
//! as received, and no heavy dependency tree in the daemon. The tests hold it to the RFC 4475
//! torture messages and to what sipp and baresip send.
//!
//! # Layers
//! - [`uri`]: sip/sips/tel URIs, escaping, §19.1.4 comparison.
//! - [`header`]: typed values read from header text (Via, name-addr, CSeq, Reason, auth).
//! - [`message`]: [`Message`] parse/serialise; a parse failure is a [`ParseError`].
//! - [`framer`]: splits a TCP byte stream by Content-Length.
//! - [`sdp`]: session descriptions; [`offer_answer`]: RFC 3264 codec and direction choice.
//! - [`q850`]: cause ⇄ status tables (RFC 3398) and the Reason header helpers.
//! - [`digest`]: Digest authentication (MD5, SHA-256), client and server side.
//! - [`transaction`]: the four RFC 3261 §17 transaction machines, timers A-K, matching keys.
//! - [`dialog`]: §12 dialog state, in-dialog requests with loose routing, INFO DTMF bodies.
//! - [`reinvite`]: a media re-INVITE we send (fax: PCMA only), with §14.1's glare retry.
//! - [`ua`]: `SipEndpoint`, the user agent over every trunk: request checks, calls (CANCEL,
//!   BYE, re-INVITE, glare, 2xx retransmission), digest both ways, registration, keepalive.

pub mod dialog;
pub mod digest;
pub mod framer;
pub mod header;
pub mod message;
pub mod offer_answer;
pub mod q850;
pub mod reinvite;
pub mod sdp;
pub mod transaction;
pub mod ua;
pub mod uri;

pub use framer::{FramerError, StreamFramer};
pub use header::{AuthParams, CSeq, Contacts, Method, NameAddr, Reason, Via};
pub use message::{ErrorKind, Header, Message, ParseError, StartLine, TransactionKey};
pub use uri::{Host, SipUri, TelUri, Uri};

#[cfg(test)]
mod tests;
