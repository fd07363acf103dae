//! The B-channels of one interface and who holds each: the table that RESTART resets and that
//! every cleared call gives its channel back to.
//!
//! Architecture invariant (the libpri issue #5 lesson): a channel is `Busy` only while a live call
//! names it; the owner of [`ChannelTable`] frees a call's channel on every path to the Null state.

use super::CallId;

/// What a B-channel is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelStatus {
    Idle,
    Busy(CallId),
    /// Named in a RESTART of ours that is not yet acknowledged.
    Restarting,
}

#[derive(Debug, Clone)]
pub struct ChannelTable {
    slots: Vec<(u8, ChannelStatus)>,
}

impl ChannelTable {
    pub fn new(numbers: impl IntoIterator<Item = u8>) -> ChannelTable {
        ChannelTable { slots: numbers.into_iter().map(|n| (n, ChannelStatus::Idle)).collect() }
    }

    pub fn contains(&self, n: u8) -> bool {
        self.slots.iter().any(|(c, _)| *c == n)
    }

    pub fn numbers(&self) -> impl Iterator<Item = u8> + '_ {
        self.slots.iter().map(|(n, _)| *n)
    }

    pub fn status(&self, n: u8) -> Option<ChannelStatus> {
        self.slots.iter().find(|(c, _)| *c == n).map(|(_, s)| *s)
    }

    fn slot(&mut self, n: u8) -> Option<&mut ChannelStatus> {
        self.slots.iter_mut().find(|(c, _)| *c == n).map(|(_, s)| s)
    }

    /// The lowest idle channel.
    pub fn first_idle(&self) -> Option<u8> {
        self.slots.iter().find(|(_, s)| *s == ChannelStatus::Idle).map(|(n, _)| *n)
    }

    /// Gives `n` to `call`, whatever held it (the caller has settled any conflict).
    pub fn assign(&mut self, n: u8, call: CallId) {
        if let Some(s) = self.slot(n) {
            *s = ChannelStatus::Busy(call);
        }
    }

    /// Frees `n` if `call` holds it.
    pub fn release(&mut self, n: u8, call: CallId) {
        if let Some(s) = self.slot(n) {
            if *s == ChannelStatus::Busy(call) {
                *s = ChannelStatus::Idle;
            }
        }
    }

    pub fn set(&mut self, n: u8, status: ChannelStatus) {
        if let Some(s) = self.slot(n) {
            *s = status;
        }
    }

    /// Channels held by a call.
    pub fn busy(&self) -> Vec<u8> {
        self.slots.iter().filter(|(_, s)| matches!(s, ChannelStatus::Busy(_))).map(|(n, _)| *n).collect()
    }

    /// Every channel not idle (busy or restarting).
    pub fn not_idle(&self) -> Vec<u8> {
        self.slots.iter().filter(|(_, s)| *s != ChannelStatus::Idle).map(|(n, _)| *n).collect()
    }

    pub fn holder(&self, n: u8) -> Option<CallId> {
        match self.status(n) {
            Some(ChannelStatus::Busy(c)) => Some(c),
            _ => None,
        }
    }
}
