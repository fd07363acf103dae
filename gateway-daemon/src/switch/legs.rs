//! The event loop's side of [`Legs`]: ISDN legs on the call controls of the board's spans, SIP
//! legs on the [`SipNet`], media joined by the media thread's cross-connect.

use std::collections::HashMap;
use std::time::Instant;

use log::warn;
use media_dsp::ring::Producer;

use media_dsp::tones::{Progress, Zone};

use super::{LegRef, Legs};
use crate::isdn::dchan::DchanStack;
use crate::isdn::{CallId, Q931Error};
use crate::media::{Endpoint, MediaCmd};
use crate::sipnet::SipNet;

/// What the switch may act on for one notice: borrowed from the event loop's fields.
pub struct DaemonLegs<'a> {
    pub now: Instant,
    /// Span number by board node, for our own spans.
    pub span_of_node: &'a HashMap<usize, u32>,
    pub stacks: &'a mut [(usize, DchanStack<crate::media_board::BoardDChannel>)],
    pub cmds: &'a mut Producer<MediaCmd>,
    /// Echo statistics by channel, dropped when a call's media are split.
    pub echo: &'a mut HashMap<(usize, u8), media_dsp::echo::Stats>,
    /// The SIP side, when the config has `[sip] listen`.
    pub sip: Option<&'a mut SipNet>,
    /// SIP legs we answered (a hang-up is then a BYE, not a refusal).
    pub sip_answered: &'a mut std::collections::HashSet<crate::sip::ua::Handle>,
    /// The call-progress tones of each span's zone, by board node (`tone_zones`).
    pub tones: &'a HashMap<usize, &'static Zone>,
}

/// Each span's tone zone by board node: the span's `tonezone`, else the board's. A zone DAHDI
/// knows but `media_dsp::tones` has no table for plays no tone (said once, at start).
pub fn tone_zones(
    cfg: &provisioning::Config,
    node_of_span: impl Fn(u32) -> Option<usize>,
) -> HashMap<usize, &'static Zone> {
    let mut zones = HashMap::new();
    for s in &cfg.board.spans {
        let code = s.tonezone.as_deref().unwrap_or(&cfg.board.tonezone);
        let Some(node) = node_of_span(s.number) else { continue };
        match media_dsp::tones::zone(code) {
            Some(z) => {
                zones.insert(node, z);
            }
            None => warn!("span {}: no call-progress tones for tone zone {code}: the gateway plays none", s.number),
        }
    }
    zones
}

/// The Q.850 cause for a SETUP our own call control refused.
fn refusal_cause(e: &Q931Error) -> u8 {
    match e {
        // No idle B-channel: another route may have one.
        Q931Error::NoChannelAvailable => 34,
        // The hunted channel was taken meanwhile: requested circuit/channel not available.
        Q931Error::ChannelBusy(_) | Q931Error::NoSuchChannel(_) => 44,
        // No call reference or a RESTART under way: temporary failure.
        _ => 41,
    }
}

impl DaemonLegs<'_> {
    fn stack(&mut self, node: usize) -> Option<&mut DchanStack<crate::media_board::BoardDChannel>> {
        self.stacks.iter_mut().find(|(n, _)| *n == node).map(|(_, s)| s)
    }

    fn on_call(
        &mut self,
        leg: LegRef,
        what: &str,
        f: impl FnOnce(&mut crate::isdn::calls::CallControl, Instant, CallId) -> Result<(), Q931Error>,
    ) {
        let LegRef::Isdn { node, call } = leg else { return };
        let now = self.now;
        let Some(stack) = self.stack(node) else { return };
        if let Err(e) = stack.with_calls(now, |c| f(c, now, call)) {
            warn!("switch: {what} on {call}: {e}");
        }
    }
}

impl Legs for DaemonLegs<'_> {
    fn span_number(&self, node: usize) -> Option<u32> {
        self.span_of_node.get(&node).copied()
    }

    fn place_isdn(&mut self, span: u32, channel: Option<u8>, called: &str, calling: &str) -> Result<LegRef, u8> {
        let node = self.span_of_node.iter().find(|(_, &s)| s == span).map(|(&n, _)| n).ok_or(34u8)?;
        let now = self.now;
        let stack = self.stack(node).ok_or(34u8)?;
        // The span may only be a destination (no route from it): the switch still needs to
        // hear this call's progress.
        let placed = stack.with_calls(now, |c| {
            let call = c.place_on(now, called, calling, true, channel)?;
            c.report_to_switch(call);
            Ok(call)
        });
        match placed {
            Ok(call) => Ok(LegRef::Isdn { node, call }),
            Err(e) => {
                warn!("switch: SETUP on span {span}: {e}");
                Err(refusal_cause(&e))
            }
        }
    }

    fn place_sip(&mut self, trunk: &str, called: &str, calling: &str) -> Result<LegRef, u8> {
        match self.sip.as_deref_mut() {
            Some(sip) => sip.invite(self.now, trunk, called, calling),
            None => {
                warn!("switch: trunk {trunk}: no [sip] listen address, so no SIP calls");
                // No circuit available: the next route (a TDM one) may take the call.
                Err(34)
            }
        }
    }

    fn proceeding(&mut self, leg: LegRef) {
        // SIP: the endpoint's 100 Trying already told the caller the call is taken.
        self.on_call(leg, "CALL PROCEEDING", |c, now, call| c.proceeding(now, call));
    }

    fn alerting(&mut self, leg: LegRef, inband: bool) {
        if let (LegRef::Sip(h), Some(sip)) = (leg, self.sip.as_deref_mut()) {
            sip.progress(self.now, h, false);
        }
        if inband {
            self.on_call(leg, "ALERTING", |c, now, call| c.alerting_inband(now, call));
        } else {
            self.on_call(leg, "ALERTING", |c, now, call| c.alerting(now, call));
        }
    }

    fn progress(&mut self, leg: LegRef) {
        if let (LegRef::Sip(h), Some(sip)) = (leg, self.sip.as_deref_mut()) {
            sip.progress(self.now, h, true);
        }
        self.on_call(leg, "PROGRESS", |c, now, call| c.progress(now, call));
    }

    fn local_ringback(&self, leg: LegRef) -> bool {
        let LegRef::Sip(h) = leg else { return false };
        self.sip.as_deref().is_some_and(|s| s.local_ringback(h))
    }

    fn rtp_tone(&mut self, sip: crate::sip::ua::Handle, at: Endpoint, tone: Option<Progress>) -> bool {
        let Some(id) = self.sip.as_deref().and_then(|s| s.rtp_id(sip)) else { return false };
        let tone = match tone {
            Some(p) => match self.tones.get(&at.node) {
                Some(zone) => Some(zone.tone(p)),
                None => return false,
            },
            None => None,
        };
        if self.cmds.push(MediaCmd::RtpTone { id, tone }).is_err() {
            warn!("switch: media thread busy: tone in RTP leg {id} not changed");
            return false;
        }
        true
    }

    fn connect(&mut self, leg: LegRef) {
        if let (LegRef::Sip(h), Some(sip)) = (leg, self.sip.as_deref_mut()) {
            sip.answer(self.now, h);
            self.sip_answered.insert(h);
        }
        self.on_call(leg, "CONNECT", |c, now, call| c.answer(now, call));
    }

    fn hangup(&mut self, leg: LegRef, cause: u8) {
        if let (LegRef::Sip(h), Some(sip)) = (leg, self.sip.as_deref_mut()) {
            let answered = self.sip_answered.remove(&h);
            sip.hangup(self.now, h, cause, answered);
        }
        self.on_call(leg, "DISCONNECT", |c, now, call| c.hangup(now, call, cause));
    }

    fn network_side(&self, leg: LegRef) -> bool {
        let LegRef::Isdn { node, .. } = leg else { return false };
        self.stacks.iter().find(|(n, _)| *n == node).is_some_and(|(_, s)| s.calls().network_side())
    }

    fn hangup_inband(&mut self, leg: LegRef, cause: u8) -> bool {
        let LegRef::Isdn { node, call } = leg else { return false };
        let now = self.now;
        let Some(stack) = self.stack(node) else { return false };
        match stack.with_calls(now, |c| c.hangup_inband(now, call, cause)) {
            Ok(()) => true,
            Err(e) => {
                warn!("switch: DISCONNECT with in-band tone on {call}: {e}");
                false
            }
        }
    }

    fn tone(&mut self, at: Endpoint, tone: Option<Progress>) -> bool {
        let tone = match tone {
            Some(p) => match self.tones.get(&at.node) {
                Some(zone) => Some(zone.tone(p)),
                None => return false,
            },
            None => None,
        };
        if self.cmds.push(MediaCmd::Tone { ep: at, tone }).is_err() {
            warn!("switch: media thread busy: tone on {at:?} not changed");
            return false;
        }
        true
    }

    fn busy(&self, span: u32, channel: u8) -> bool {
        let Some(node) = self.span_of_node.iter().find(|(_, &s)| s == span).map(|(&n, _)| n) else { return true };
        self.stacks.iter().find(|(n, _)| *n == node).is_none_or(|(_, s)| s.calls().channel_busy(channel))
    }

    fn channel(&self, leg: LegRef) -> Option<Endpoint> {
        // A SIP leg's media is RTP, not a bearer channel (the RTP path joins it).
        let LegRef::Isdn { node, call } = leg else { return None };
        let stack = self.stacks.iter().find(|(n, _)| *n == node).map(|(_, s)| s)?;
        stack.calls().channel_of(call).map(|ts| Endpoint { node, ts })
    }

    fn join(&mut self, a: Endpoint, b: Endpoint) {
        if self.cmds.push(MediaCmd::Connect { a, b }).is_err() {
            warn!("switch: media thread busy: {a:?} and {b:?} not joined");
        }
    }

    fn join_rtp(&mut self, a: Endpoint, sip: crate::sip::ua::Handle) -> bool {
        let Some(net) = self.sip.as_deref_mut() else { return false };
        // Joined with a guessed codec, the audio would be garbled once the answer names another.
        if !net.media_known(sip) {
            return false;
        }
        let Some((id, codec, frame_ms)) = net.attach(sip) else { return false };
        let cfg = media_dsp::jitter::Config { frame_ms: u32::from(frame_ms), ..media_dsp::jitter::Config::default() };
        let jb = Box::new(media_dsp::jitter::JitterBuffer::new(cfg));
        // The codec's state is allocated here (on the card when the board transcodes), lent like
        // the jitter buffer.
        let codec = Box::new(net.leg_codec(id, codec));
        if self.cmds.push(MediaCmd::RtpAttach { id, ep: a, codec, frame_ms, jb }).is_err() {
            warn!("switch: media thread busy: {a:?} not joined to RTP");
        }
        true
    }

    fn split_rtp(&mut self, sip: crate::sip::ua::Handle) {
        let Some(id) = self.sip.as_deref_mut().and_then(|n| n.detached(sip)) else { return };
        if self.cmds.push(MediaCmd::RtpDetach { id }).is_err() {
            warn!("switch: media thread busy: RTP leg {id} not detached");
        }
    }

    fn split(&mut self, a: Endpoint, b: Endpoint) {
        for e in [a, b] {
            self.echo.remove(&(e.node, e.ts));
        }
        if self.cmds.push(MediaCmd::Disconnect { a, b }).is_err() {
            warn!("switch: media thread busy: {a:?} and {b:?} not split");
        }
    }
}
