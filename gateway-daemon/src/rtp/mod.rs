//! RTP and RTCP for the SIP legs, sans-IO: `packet` (RTP header view and `RtpRepr`), `rtcp` (SR,
//! RR, SDES, BYE, compound), `event` (RFC 4733 telephone events: payload, sender, receiver),
//! `session` (one stream: SSRC, sequence and timestamps, RFC 3550 statistics, symmetric RTP, RTCP
//! timing and round trip time) and `ports` (the RTP port range). The event loop owns the sockets
//! and the clock; the jitter buffer and concealment live in `media_dsp` on the media thread.

pub mod event;
pub mod packet;
pub mod ports;
pub mod rtcp;
pub mod session;

#[cfg(test)]
mod tests;
