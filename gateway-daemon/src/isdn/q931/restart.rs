//! The restart procedure (Q.931 §5.5): RESTART of one B-channel or the whole interface on the
//! global call reference, in both directions, with T316.
//!
//! Restart states as in the text: Rest 0 (null) when `pending` is empty, Rest 1 (restart
//! request) while our RESTART awaits its acknowledgement. Rest 2 (restart) lasts no longer than
//! the handling of a received RESTART, since clearing our own calls is immediate here.

use std::time::Instant;

use super::channels::ChannelStatus;
use super::entity::Q931;
use super::ie::{cause, ChannelId, ChannelSelection, Ie, RestartClass};
use super::message::{CallRef, Message, MessageType};
use super::view::MessageView;
use super::{Q931Error, Q931Event, RestartTarget, Side};
use crate::isdn::q921::frame::TEI_GROUP;

/// How many times RESTART goes out before the restart is given up (ETSI: the first try and two
/// retransmissions).
const RESTART_TRIES: u8 = 3;

/// Our RESTART awaiting RESTART ACKNOWLEDGE (Rest 1).
#[derive(Debug, Clone)]
pub(crate) struct PendingRestart {
    pub(crate) target: RestartTarget,
    pub(crate) deadline: Instant,
    tries: u8,
    message: Message,
    tei: u8,
}

impl Q931 {
    fn restart_channels(&self, target: RestartTarget) -> Vec<u8> {
        match target {
            RestartTarget::Channel(n) => vec![n],
            RestartTarget::Interface => self.channels.numbers().collect(),
        }
    }

    /// Clears every call on these channels (all calls for the whole interface) without a
    /// message: the restart tells the peer.
    fn clear_for_restart(&mut self, now: Instant, channels: &[u8], whole: bool) {
        let victims: Vec<_> = self
            .calls
            .iter()
            .filter(|c| whole || c.channel.is_some_and(|ch| channels.contains(&ch)))
            .map(|c| c.id)
            .collect();
        for call in victims {
            self.clear_internally(now, call, cause::TEMPORARY_FAILURE);
        }
    }

    /// Sends RESTART for a channel or the whole interface (§5.5.1): their calls are cleared at
    /// once and the channels stay out of use until RESTART ACKNOWLEDGE or the last T316.
    pub fn restart(&mut self, now: Instant, target: RestartTarget) -> Result<(), Q931Error> {
        if self.restart.is_some() {
            return Err(Q931Error::RestartInProgress);
        }
        if let RestartTarget::Channel(n) = target {
            if !self.channels.contains(n) {
                return Err(Q931Error::NoSuchChannel(n));
            }
        }
        let channels = self.restart_channels(target);
        self.clear_for_restart(now, &channels, target == RestartTarget::Interface);
        for &n in &channels {
            self.channels.set(n, ChannelStatus::Restarting);
        }
        let mut m = Message::new(CallRef::global(self.config.interface.cref_len()), MessageType::Restart);
        let class = match target {
            RestartTarget::Channel(n) => {
                m.ies.push(Ie::ChannelId(ChannelId::channel(self.config.interface.primary(), n, true)));
                RestartClass::Indicated
            }
            RestartTarget::Interface => RestartClass::SingleInterface,
        };
        m.ies.push(Ie::RestartIndicator(class));
        let tei = match (self.config.side, self.config.point_to_multipoint) {
            (Side::Network, true) => TEI_GROUP,
            _ => self.reply_tei(0),
        };
        self.send(tei, &m);
        let deadline = now + self.config.timers.t316;
        self.restart = Some(PendingRestart { target, deadline, tries: 1, message: m, tei });
        Ok(())
    }

    pub(crate) fn restart_timeout(&mut self, now: Instant) {
        let Some(mut r) = self.restart.take() else { return };
        if r.tries < RESTART_TRIES {
            r.tries += 1;
            r.deadline = now + self.config.timers.t316;
            self.send(r.tei, &r.message.clone());
            self.restart = Some(r);
            return;
        }
        // Given up: the channels are idle again rather than lost for good.
        for n in self.restart_channels(r.target) {
            if self.channels.status(n) == Some(ChannelStatus::Restarting) {
                self.channels.set(n, ChannelStatus::Idle);
            }
        }
        self.out.events.push_back(Q931Event::RestartFailed { target: r.target });
    }

    pub(crate) fn restart_acknowledged(&mut self, _msg: &MessageView<'_>) {
        let Some(r) = self.restart.take() else { return };
        for n in self.restart_channels(r.target) {
            if self.channels.status(n) == Some(ChannelStatus::Restarting) {
                self.channels.set(n, ChannelStatus::Idle);
            }
        }
        self.out.events.push_back(Q931Event::RestartAcknowledged { target: r.target });
    }

    /// A RESTART from the peer (§5.5.2).
    pub(crate) fn restart_received(&mut self, now: Instant, tei: u8, msg: &MessageView<'_>) {
        let to = self.reply_tei(tei);
        let status = |q: &Q931, c: u8, diag: u8| {
            let mut ca = q.cause(c);
            ca.diagnostics.push(diag);
            Message::new(CallRef { flag: !msg.call_ref.flag, ..msg.call_ref }, MessageType::Status)
                .with(Ie::Cause(ca))
                .with(Ie::CallState { coding: 0, state: 0 })
        };
        let class = msg.codeset0().find_map(|ie| match ie {
            Ie::RestartIndicator(c) => Some(Ok(c)),
            Ie::Invalid { id: super::ie::id::RESTART_INDICATOR, .. } => Some(Err(())),
            _ => None,
        });
        let class = match class {
            Some(Ok(c)) => c,
            Some(Err(())) => {
                let m = status(self, cause::INVALID_IE_CONTENTS, super::ie::id::RESTART_INDICATOR);
                self.send(to, &m);
                return;
            }
            None => {
                let m = status(self, cause::MANDATORY_IE_MISSING, super::ie::id::RESTART_INDICATOR);
                self.send(to, &m);
                return;
            }
        };
        let channels: Option<Vec<u8>> = match class {
            RestartClass::Indicated => match msg.channel_id().map(|c| c.selection) {
                Some(ChannelSelection::Channels(c))
                    if !c.is_empty() && c.iter().all(|n| self.channels.contains(*n)) =>
                {
                    Some(c.to_vec())
                }
                Some(_) => {
                    let m = status(self, cause::INVALID_IE_CONTENTS, super::ie::id::CHANNEL_ID);
                    self.send(to, &m);
                    return;
                }
                None => {
                    let m = status(self, cause::MANDATORY_IE_MISSING, super::ie::id::CHANNEL_ID);
                    self.send(to, &m);
                    return;
                }
            },
            RestartClass::SingleInterface | RestartClass::AllInterfaces => None,
        };
        let list = channels.clone().unwrap_or_else(|| self.channels.numbers().collect());
        self.clear_for_restart(now, &list, channels.is_none());
        for &n in &list {
            self.channels.set(n, ChannelStatus::Idle);
        }
        // The acknowledgement repeats the channel identification and restart indicator.
        let mut ack =
            Message::new(CallRef { flag: !msg.call_ref.flag, ..msg.call_ref }, MessageType::RestartAcknowledge);
        ack.ies.extend(msg.codeset0().filter(|ie| matches!(ie, Ie::ChannelId(_) | Ie::RestartIndicator(_))));
        self.send(to, &ack);
        self.out.events.push_back(Q931Event::RestartIndication { channels });
    }
}
