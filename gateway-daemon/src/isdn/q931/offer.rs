//! A broadcast SETUP on a point-to-multipoint bus, network side (Q.931 §5.2.3.2, §5.2.5.1): the
//! call is offered to every terminal until one of them sends CONNECT.
//!
//! While the call's TEI is 127, answers come from any terminal. SETUP ACKNOWLEDGE, CALL
//! PROCEEDING, ALERTING and PROGRESS move the call on (a terminal lagging behind another is not
//! an error) and put the terminal on the `offered` list, which then receives what the network
//! sends (INFORMATION, DISCONNECT ...). A refusal (RELEASE COMPLETE, RELEASE, DISCONNECT) takes
//! the terminal off the list and keeps its cause: if nobody is left once T303 no longer runs, the
//! call ends with that cause; while T303 runs, another terminal may still answer. CONNECT gives
//! the call to its sender; every other terminal on the list is cleared with RELEASE #26
//! (non-selected user clearing).

use std::time::Instant;

use super::call::Input;
use super::entity::Q931;
use super::ie::{cause, Ie};
use super::message::{Message, MessageType};
use super::timers::Timer;
use super::view::MessageView;
use crate::isdn::q921::frame::TEI_GROUP;

impl Q931 {
    /// A message from terminal `tei` for our broadcast call `i`.
    pub(crate) fn offered_message(&mut self, now: Instant, i: usize, tei: u8, msg: &MessageView<'_>) {
        if tei == TEI_GROUP {
            return;
        }
        let cref = self.calls[i].call_ref();
        match msg.msg_type {
            MessageType::Connect => {
                let call = &mut self.calls[i];
                let others: Vec<u8> = call.offered.drain(..).filter(|t| *t != tei).collect();
                call.tei = tei;
                let release = Message::new(cref, MessageType::Release)
                    .with(Ie::Cause(self.cause(cause::NON_SELECTED_USER_CLEARING)));
                for t in others {
                    self.send(t, &release);
                }
                self.call_message(now, i, msg);
            }
            MessageType::ReleaseComplete | MessageType::Release | MessageType::Disconnect => {
                let call = &mut self.calls[i];
                call.offered.retain(|t| *t != tei);
                if let Some(c) = msg.cause_value() {
                    call.offer_cause = Some(c);
                }
                let answer = match msg.msg_type {
                    MessageType::Release => Some(Message::new(cref, MessageType::ReleaseComplete)),
                    MessageType::Disconnect => Some(
                        Message::new(cref, MessageType::Release).with(Ie::Cause(self.cause(cause::NORMAL_CLEARING))),
                    ),
                    _ => None,
                };
                if let Some(m) = answer {
                    self.send(tei, &m);
                }
                self.end_offer_if_nobody_left(now, i);
            }
            MessageType::StatusEnquiry => {
                let m = self.calls[i].status(cause::RESPONSE_TO_STATUS_ENQUIRY, self.config.side, None);
                self.send(tei, &m);
            }
            MessageType::Status | MessageType::Setup | MessageType::Unknown(_) => {}
            _ => {
                if !self.calls[i].offered.contains(&tei) {
                    self.calls[i].offered.push(tei);
                }
                self.take_answered_channel(i, msg);
                // An answer that another terminal's answer already overtook changes nothing.
                let _ = self.drive(now, i, Input::Message { msg, error: None });
            }
        }
    }

    /// Ends a broadcast call that every answering terminal refused, once T303 no longer waits
    /// for others.
    fn end_offer_if_nobody_left(&mut self, now: Instant, i: usize) {
        let call = &self.calls[i];
        if !call.offered.is_empty() || call.timers.running(Timer::T303) {
            return;
        }
        // Every terminal that answered has been answered in turn, so the call ends without a
        // further message, with the refusal as its cause.
        let refusal = self.calls[i].offer_cause.take().unwrap_or(cause::NO_USER_RESPONDING);
        let _ = self.drive(now, i, Input::PeerNull(Some(refusal)));
    }

    /// A terminal's data link is gone: it no longer answers any broadcast call.
    pub(crate) fn offered_link_lost(&mut self, now: Instant, tei: u8) {
        let ids: Vec<_> =
            self.calls.iter().filter(|c| c.tei == TEI_GROUP && c.offered.contains(&tei)).map(|c| c.id).collect();
        for id in ids {
            if let Some(i) = self.calls.iter().position(|c| c.id == id) {
                self.calls[i].offered.retain(|t| *t != tei);
                self.end_offer_if_nobody_left(now, i);
            }
        }
    }
}
