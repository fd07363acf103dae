//! A re-INVITE we send to change a confirmed call's media - the fax switch to G.711 A-law only -
//! with RFC 3261 §14.1's glare retry, sans-IO: the caller sends through
//! [`crate::sip::ua::SipEndpoint::reinvite`] when [`MediaReinvite::poll_send`] says so, and feeds
//! back whether the endpoint took it and the final response (`SipEvent::ReinviteDone`).
//!
//! The offer ([`pcma_offer`]) is the leg's session with only PCMA (plus telephone-event where the
//! call has it): the same `o=` session id as our last SDP on the dialog and its version + 1
//! (RFC 3264 §8), the same address and port.
//!
//! | State     | Event                          | Action                                  | Next      |
//! |-----------|--------------------------------|-----------------------------------------|-----------|
//! | Pending   | due, endpoint takes it         | re-INVITE sent                          | Sent      |
//! | Pending   | due, dialog busy/not confirmed | wait `BUSY_WAIT` (at most `MAX_BUSY`)   | Pending   |
//! | Pending   | `MAX_BUSY` waits used          | give up (status 0)                      | Failed    |
//! | Sent      | 2xx with a PCMA answer         | (endpoint ACKs, §13.2.2.4)              | Accepted  |
//! | Sent      | 2xx without a usable answer    | (endpoint ACKs) keep the old media      | Failed    |
//! | Sent      | 491 (glare, §14.1)             | wait T: 2.1-4 s if we own the Call-ID, else 0-2 s, in 10 ms units | Glare |
//! | Sent      | 491 after `MAX_GLARES`         | give up                                 | Failed    |
//! | Sent      | 488 / any other final / 408    | keep the call and its media             | Failed    |
//! | Glare     | T expires                      | send again (as Pending)                 | Sent      |
//!
//! Failure never ends the call (§14.1: the session stays as it was).

use std::time::{Duration, Instant};

use super::offer_answer::{self, Codec, CodecPrefs, LocalMedia, Negotiated};
use super::sdp::SessionDescription;

/// How long to wait for a dialog that cannot take a re-INVITE yet (not confirmed, or another
/// transaction open on it), and how many times.
pub const BUSY_WAIT: Duration = Duration::from_millis(500);
pub const MAX_BUSY: u8 = 20;
/// 491s taken before giving up: glare that persists means the far end keeps changing the session.
pub const MAX_GLARES: u8 = 4;

/// Where the re-INVITE is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// To be sent at `at`.
    Pending { at: Instant },
    /// Sent; waiting for the final response.
    Sent,
    /// Refused by glare (491); sent again at `at`.
    Glare { at: Instant },
    /// 2xx with a usable answer: the new media is `Negotiated`.
    Accepted { negotiated: Negotiated },
    /// Given up, the call kept as it was: the final status (0: never sent, the dialog stayed busy).
    Failed { status: u16 },
}

/// One media re-INVITE (see the module doc).
#[derive(Debug, Clone)]
pub struct MediaReinvite {
    state: State,
    offer: SessionDescription,
    prefs: CodecPrefs,
    /// We generated the dialog's Call-ID (we sent the initial INVITE): §14.1's longer wait.
    owner: bool,
    rng: u64,
    busy: u8,
    pub glares: u8,
    /// Re-INVITEs actually sent.
    pub sent: u8,
}

/// The PCMA-only offer for a leg whose last SDP had session id `session_id` and version
/// `version`: version + 1, the same address and port, telephone-event on `te` when the call has
/// it, `ptime` as negotiated.
pub fn pcma_offer(local: &LocalMedia, te: Option<u8>, ptime: u32) -> (SessionDescription, CodecPrefs) {
    let prefs = CodecPrefs {
        codecs: vec![Codec::Pcma],
        telephone_event: te.is_some(),
        telephone_event_pt: te.unwrap_or(101),
        ptime,
    };
    (offer_answer::build_offer(&prefs, local), prefs)
}

impl MediaReinvite {
    /// A re-INVITE with `offer` (read against `prefs`), due now; `owner` as in §14.1; `seed`
    /// drives the glare wait.
    pub fn new(now: Instant, offer: SessionDescription, prefs: CodecPrefs, owner: bool, seed: u64) -> MediaReinvite {
        MediaReinvite {
            state: State::Pending { at: now },
            offer,
            prefs,
            owner,
            rng: seed | 1,
            busy: 0,
            glares: 0,
            sent: 0,
        }
    }

    /// The offer sent (the same on every retry: a refused offer does not move the version).
    pub fn offer(&self) -> &SessionDescription {
        &self.offer
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Whether it is over (accepted or given up).
    pub fn finished(&self) -> bool {
        matches!(self.state, State::Accepted { .. } | State::Failed { .. })
    }

    /// When [`MediaReinvite::poll_send`] next wants to send.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Pending { at } | State::Glare { at } => Some(at),
            _ => None,
        }
    }

    /// The offer to send now, if one is due; answer with [`MediaReinvite::sent`].
    pub fn poll_send(&self, now: Instant) -> Option<&SessionDescription> {
        self.poll_timeout().filter(|&at| at <= now).map(|_| &self.offer)
    }

    /// Whether the endpoint took the re-INVITE `poll_send` gave (false: the dialog cannot take one
    /// now; wait and try again).
    pub fn sent(&mut self, now: Instant, taken: bool) {
        if taken {
            self.sent = self.sent.saturating_add(1);
            self.state = State::Sent;
        } else if self.busy >= MAX_BUSY {
            self.state = State::Failed { status: 0 };
        } else {
            self.busy += 1;
            self.state = State::Pending { at: now + BUSY_WAIT };
        }
    }

    /// The final response to our re-INVITE (408 when it timed out) and its SDP.
    pub fn on_final(&mut self, now: Instant, status: u16, answer: Option<&SessionDescription>) {
        if self.state != State::Sent {
            return;
        }
        self.state = match status {
            200..=299 => match answer.and_then(|a| offer_answer::read_answer(&self.offer, a, &self.prefs).ok()) {
                Some(negotiated) => State::Accepted { negotiated },
                None => State::Failed { status },
            },
            491 if self.glares < MAX_GLARES => {
                self.glares += 1;
                State::Glare { at: now + self.glare_wait() }
            }
            _ => State::Failed { status },
        };
    }

    /// §14.1's T: 2.1-4 s for the Call-ID's owner, 0-2 s otherwise, in units of 10 ms.
    fn glare_wait(&mut self) -> Duration {
        // xorshift64: a wait, not a secret.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let (lo, span) = if self.owner { (210, 190) } else { (0, 200) };
        Duration::from_millis((lo + self.rng % (span + 1)) * 10)
    }
}

#[cfg(test)]
#[path = "reinvite_tests.rs"]
mod tests;
