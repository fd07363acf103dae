//! The event loop's side of fax on SIP legs: when the media thread reports a fax tone on a leg
//! (`MediaEvent::Fax`, `media_fax`), the leg is re-INVITEd to G.711 A-law only - the same session
//! (`o=` id kept, version + 1), PCMA plus telephone-event where the call has it - as XiVO sets
//! analog gateways to pass fax through. [`crate::sip::reinvite::MediaReinvite`] runs the request
//! (200 -> ACK, 491 glare retried per RFC 3261 §14.1, a failure keeps the call); [`SipNet`]
//! sends it through its endpoint and applies an accepted answer to the leg.
//!
//! Once per call: a leg whose fax tone was reported once ignores later reports. The state of each
//! leg's fax switch is on the status (the leg's `fax` in the call table), the counts in
//! /metrics. A failed re-INVITE is logged once, when it is given up.
//!
//! [`SipNet`]: crate::sipnet::SipNet

use std::collections::HashMap;
use std::time::Instant;

use media_dsp::fax::FaxTone;

use crate::media_fax::{FaxDetection, FaxSide};
use crate::sip::offer_answer::{LocalMedia, Negotiated};
use crate::sip::reinvite::{pcma_offer, MediaReinvite, State};
use crate::sip::sdp::{Direction, SessionDescription};
use crate::sip::ua::Handle;

/// Fax switches of all SIP legs since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FaxCounters {
    /// Fax tones reported by the media thread (one per call at most).
    pub detected: u64,
    /// re-INVITEs sent (retries after glare included).
    pub reinvites_sent: u64,
    /// 491 answers (glare), each retried after §14.1's wait.
    pub glare: u64,
    /// re-INVITEs answered 2xx with PCMA.
    pub accepted: u64,
    /// re-INVITEs given up: refused (488...), timed out, glare or a busy dialog that never cleared.
    pub failed: u64,
}

/// One leg's fax state, for the status page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FaxSnap {
    /// `CNG`, `ANS`, `/ANS`, `ANSam` or `/ANSam`.
    pub tone: &'static str,
    /// Which side the fax is on: `tdm` or `ip`.
    pub side: FaxSide,
    /// The leg's jitter buffer's fixed delay.
    pub jitter_ms: u32,
    /// The channel's echo canceller was put in fax mode (false: the channel has none).
    pub echo_fax_mode: bool,
    /// `pending`, `sent`, `glare`, `accepted PCMA` or `failed STATUS` (`failed 0`: the dialog
    /// never took a re-INVITE).
    pub reinvite: String,
    pub reinvites_sent: u8,
}

/// The name V.25/V.8 and T.30 give the tone.
pub fn tone_name(t: FaxTone) -> &'static str {
    match t {
        FaxTone::Cng => "CNG",
        FaxTone::Ans => "ANS",
        FaxTone::AnsPr => "/ANS",
        FaxTone::AnsAm => "ANSam",
        FaxTone::AnsAmPr => "/ANSam",
    }
}

struct LegFaxNet {
    detection: FaxDetection,
    reinvite: MediaReinvite,
}

/// Every SIP leg's fax switch, and the `o=` line of the last SDP we sent on each leg.
#[derive(Default)]
pub struct FaxNet {
    legs: HashMap<Handle, LegFaxNet>,
    origins: HashMap<Handle, (u64, u64)>,
    pub counters: FaxCounters,
    seed: u64,
}

/// What a final response did to a leg's re-INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent again later (glare) or not ours: nothing to do now.
    Nothing,
    /// The far end took PCMA: the leg's media is this now.
    Accepted(Negotiated),
    /// Given up, the call kept.
    Failed(u16),
}

impl FaxNet {
    pub fn new(seed: u64) -> FaxNet {
        FaxNet { seed: seed | 1, ..FaxNet::default() }
    }

    /// The `o=` session id and version of the SDP we just sent on leg `h`.
    pub fn note_origin(&mut self, h: Handle, sd: &SessionDescription) {
        self.origins.insert(h, (sd.origin.session_id, sd.origin.session_version));
    }

    /// The `o=` session id and version of the last SDP we sent on leg `h`, if any: the session
    /// every later SDP of ours on the leg continues (RFC 3264 §5, §8).
    pub fn origin(&self, h: Handle) -> Option<(u64, u64)> {
        self.origins.get(&h).copied()
    }

    /// The leg ended.
    pub fn forget(&mut self, h: Handle) {
        self.legs.remove(&h);
        self.origins.remove(&h);
    }

    /// A fax tone on leg `h` (at RTP port `port`, reached at `addr`): starts its re-INVITE, due
    /// now, unless the leg already switched. `te` and `ptime` as the call negotiated them;
    /// `owner`: we sent the call's INVITE (so generated its Call-ID, §14.1).
    #[allow(clippy::too_many_arguments)]
    pub fn detected(
        &mut self,
        now: Instant,
        h: Handle,
        d: FaxDetection,
        addr: std::net::IpAddr,
        port: u16,
        te: Option<u8>,
        ptime: u32,
        owner: bool,
    ) -> bool {
        if self.legs.contains_key(&h) {
            return false;
        }
        self.counters.detected += 1;
        // Without an SDP of ours on record (none sent yet), a fresh session id from the seed.
        let (id, version) = self.origins.get(&h).copied().unwrap_or((self.seed % 1_000_000_000, 0));
        let local =
            LocalMedia { addr, port, session_id: id, session_version: version + 1, direction: Direction::SendRecv };
        let (offer, prefs) = pcma_offer(&local, te, ptime);
        self.seed = self.seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let reinvite = MediaReinvite::new(now, offer, prefs, owner, self.seed);
        self.legs.insert(h, LegFaxNet { detection: d, reinvite });
        true
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.legs.values().filter_map(|l| l.reinvite.poll_timeout()).min()
    }

    /// The legs whose re-INVITE is due, with its offer.
    pub fn due(&self, now: Instant) -> Vec<(Handle, SessionDescription)> {
        self.legs.iter().filter_map(|(h, l)| Some((*h, l.reinvite.poll_send(now)?.clone()))).collect()
    }

    /// Whether the endpoint took leg `h`'s re-INVITE; true when this gave it up (the dialog
    /// never took one).
    pub fn sent(&mut self, now: Instant, h: Handle, taken: bool) -> bool {
        let Some(l) = self.legs.get_mut(&h) else { return false };
        l.reinvite.sent(now, taken);
        if taken {
            self.counters.reinvites_sent += 1;
        } else if matches!(l.reinvite.state(), State::Failed { .. }) {
            self.counters.failed += 1;
            return true;
        }
        false
    }

    /// A final response to a re-INVITE of leg `h` (ours or not).
    pub fn on_final(&mut self, now: Instant, h: Handle, status: u16, sdp: Option<&SessionDescription>) -> Outcome {
        let Some(l) = self.legs.get_mut(&h) else { return Outcome::Nothing };
        if *l.reinvite.state() != State::Sent {
            return Outcome::Nothing;
        }
        l.reinvite.on_final(now, status, sdp);
        match l.reinvite.state() {
            State::Glare { .. } => {
                self.counters.glare += 1;
                Outcome::Nothing
            }
            State::Accepted { negotiated } => {
                // The session's version is now the accepted offer's (a refused offer left it).
                let o = &l.reinvite.offer().origin;
                self.origins.insert(h, (o.session_id, o.session_version));
                self.counters.accepted += 1;
                Outcome::Accepted(negotiated.clone())
            }
            State::Failed { status } => {
                self.counters.failed += 1;
                Outcome::Failed(*status)
            }
            State::Pending { .. } | State::Sent => Outcome::Nothing,
        }
    }

    /// Leg `h`'s fax state, once a tone was heard on it.
    pub fn snap(&self, h: Handle) -> Option<FaxSnap> {
        let l = self.legs.get(&h)?;
        let reinvite = match l.reinvite.state() {
            State::Pending { .. } => "pending".to_owned(),
            State::Sent => "sent".to_owned(),
            State::Glare { .. } => "glare".to_owned(),
            State::Accepted { negotiated } => format!("accepted {}", negotiated.codec.encoding()),
            State::Failed { status } => format!("failed {status}"),
        };
        Some(FaxSnap {
            tone: tone_name(l.detection.tone),
            side: l.detection.side,
            jitter_ms: l.detection.jitter_ms,
            echo_fax_mode: l.detection.echo,
            reinvite,
            reinvites_sent: l.reinvite.sent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::offer_answer::{self, Codec, CodecPrefs};

    fn detection() -> FaxDetection {
        FaxDetection { tone: FaxTone::Cng, side: FaxSide::Tdm, jitter_ms: 60, echo: true }
    }

    fn ip() -> std::net::IpAddr {
        "192.0.2.1".parse().expect("ip")
    }

    /// The re-INVITE continues the SDP we sent (id kept, version + 1), once per call; a second
    /// tone is ignored; an accepted answer counts and shows on the status; a leg's end forgets it.
    #[test]
    fn one_reinvite_per_call_in_the_same_session() {
        let now = Instant::now();
        let h = Handle(7);
        let mut f = FaxNet::new(3);
        let ours = offer_answer::build_offer(
            &CodecPrefs::default(),
            &LocalMedia {
                addr: ip(),
                port: 30000,
                session_id: 4242,
                session_version: 1,
                direction: Direction::SendRecv,
            },
        );
        f.note_origin(h, &ours);
        assert!(f.detected(now, h, detection(), ip(), 30000, Some(101), 20, false));
        assert!(!f.detected(now, h, detection(), ip(), 30000, Some(101), 20, false), "once per call");
        assert_eq!(f.counters.detected, 1);
        assert_eq!(f.poll_timeout(), Some(now));
        let due = f.due(now);
        assert_eq!(due.len(), 1);
        let offer = &due[0].1;
        assert_eq!((offer.origin.session_id, offer.origin.session_version), (4242, 2));
        assert_eq!(offer.media[0].formats, ["8", "101"]);
        assert_eq!(f.snap(h).expect("snap").reinvite, "pending");
        assert!(!f.sent(now, h, true));
        assert!(f.due(now).is_empty());
        assert_eq!(f.snap(h).expect("snap").reinvite, "sent");
        let pbx = CodecPrefs { codecs: vec![Codec::Pcma], ..CodecPrefs::default() };
        let local =
            LocalMedia { addr: ip(), port: 40000, session_id: 1, session_version: 2, direction: Direction::SendRecv };
        let (answer, _) = offer_answer::answer(offer, &pbx, &local).expect("answer");
        assert_eq!(f.on_final(now, Handle(8), 200, Some(&answer)), Outcome::Nothing, "another leg");
        match f.on_final(now, h, 200, Some(&answer)) {
            Outcome::Accepted(n) => assert_eq!(n.codec, Codec::Pcma),
            o => panic!("{o:?}"),
        }
        let snap = f.snap(h).expect("snap");
        assert_eq!((snap.tone, snap.side, snap.echo_fax_mode), ("CNG", FaxSide::Tdm, true));
        assert_eq!((snap.reinvite.as_str(), snap.reinvites_sent), ("accepted PCMA", 1));
        assert_eq!(f.counters, FaxCounters { detected: 1, reinvites_sent: 1, glare: 0, accepted: 1, failed: 0 });
        f.forget(h);
        assert!(f.snap(h).is_none() && f.poll_timeout().is_none());
    }

    /// Glare is counted and retried; a 488 fails the switch (counted, call kept by the caller).
    #[test]
    fn glare_then_refusal_is_counted() {
        let now = Instant::now();
        let h = Handle(1);
        let mut f = FaxNet::new(9);
        assert!(f.detected(now, h, detection(), ip(), 30000, None, 20, true));
        assert!(!f.sent(now, h, true));
        assert_eq!(f.on_final(now, h, 491, None), Outcome::Nothing);
        assert_eq!(f.snap(h).expect("snap").reinvite, "glare");
        let at = f.poll_timeout().expect("a retry");
        assert!(at >= now + std::time::Duration::from_millis(2100), "we own the Call-ID: 2.1 s at least");
        assert!(f.due(now).is_empty() && f.due(at).len() == 1);
        assert!(!f.sent(at, h, true));
        assert_eq!(f.on_final(at, h, 488, None), Outcome::Failed(488));
        assert_eq!(f.snap(h).expect("snap").reinvite, "failed 488");
        assert_eq!(f.counters, FaxCounters { detected: 1, reinvites_sent: 2, glare: 1, accepted: 0, failed: 1 });
    }
}
