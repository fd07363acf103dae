//! The event loop's side of [`Legs`]: ISDN legs on the call controls of the board's spans, media
//! joined by the media thread's cross-connect.

use std::collections::HashMap;
use std::time::Instant;

use hal::sim::SimDChannel;
use log::warn;
use media_dsp::ring::Producer;

use super::{LegRef, Legs};
use crate::isdn::dchan::DchanStack;
use crate::isdn::{CallId, Q931Error};
use crate::media::{Endpoint, MediaCmd};

/// What the switch may act on for one notice: borrowed from the event loop's fields.
pub struct DaemonLegs<'a> {
    pub now: Instant,
    /// Span number by board node, for our own spans.
    pub span_of_node: &'a HashMap<usize, u32>,
    pub stacks: &'a mut [(usize, DchanStack<SimDChannel>)],
    pub cmds: &'a mut Producer<MediaCmd>,
    /// Echo statistics by channel, dropped when a call's media are split.
    pub echo: &'a mut HashMap<(usize, u8), media_dsp::echo::Stats>,
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
    fn stack(&mut self, node: usize) -> Option<&mut DchanStack<SimDChannel>> {
        self.stacks.iter_mut().find(|(n, _)| *n == node).map(|(_, s)| s)
    }

    fn on_call(
        &mut self,
        leg: LegRef,
        what: &str,
        f: impl FnOnce(&mut crate::isdn::calls::CallControl, Instant, CallId) -> Result<(), Q931Error>,
    ) {
        let now = self.now;
        let Some(stack) = self.stack(leg.node) else { return };
        if let Err(e) = stack.with_calls(now, |c| f(c, now, leg.call)) {
            warn!("switch: {what} on {}: {e}", leg.call);
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
        match stack.with_calls(now, |c| c.place_on(now, called, calling, true, channel)) {
            Ok(call) => Ok(LegRef { node, call }),
            Err(e) => {
                warn!("switch: SETUP on span {span}: {e}");
                Err(refusal_cause(&e))
            }
        }
    }

    fn place_sip(&mut self, trunk: &str, _called: &str, _calling: &str) -> Result<LegRef, u8> {
        warn!("switch: trunk {trunk}: SIP calls are not wired into the daemon yet");
        // Service or option not implemented, unspecified.
        Err(79)
    }

    fn proceeding(&mut self, leg: LegRef) {
        self.on_call(leg, "CALL PROCEEDING", |c, now, call| c.proceeding(now, call));
    }

    fn alerting(&mut self, leg: LegRef) {
        self.on_call(leg, "ALERTING", |c, now, call| c.alerting(now, call));
    }

    fn progress(&mut self, leg: LegRef) {
        self.on_call(leg, "PROGRESS", |c, now, call| c.progress(now, call));
    }

    fn connect(&mut self, leg: LegRef) {
        self.on_call(leg, "CONNECT", |c, now, call| c.answer(now, call));
    }

    fn hangup(&mut self, leg: LegRef, cause: u8) {
        self.on_call(leg, "DISCONNECT", |c, now, call| c.hangup(now, call, cause));
    }

    fn busy(&self, span: u32, channel: u8) -> bool {
        let Some(node) = self.span_of_node.iter().find(|(_, &s)| s == span).map(|(&n, _)| n) else { return true };
        self.stacks.iter().find(|(n, _)| *n == node).is_none_or(|(_, s)| s.calls().busy_channels().contains(&channel))
    }

    fn channel(&self, leg: LegRef) -> Option<Endpoint> {
        let stack = self.stacks.iter().find(|(n, _)| *n == leg.node).map(|(_, s)| s)?;
        stack.calls().channel_of(leg.call).map(|ts| Endpoint { node: leg.node, ts })
    }

    fn join(&mut self, a: Endpoint, b: Endpoint) {
        if self.cmds.push(MediaCmd::Connect { a, b }).is_err() {
            warn!("switch: media thread busy: {a:?} and {b:?} not joined");
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
