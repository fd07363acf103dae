//! B-channel hunting in a span or a trunk group, in chan_dahdi's four orders.
//!
//! A group's channels are its spans' B-channels in span order, each span's in channel order:
//! chan_dahdi's order of DAHDI channel numbers, which run span after span. `g` takes the first
//! free channel from the bottom, `G` from the top; `r` starts just above the channel the group
//! (or span) gave out last and wraps round, `R` just below it, so calls spread over the
//! channels. The round-robin position is kept per span and per group, shared by `r` and `R` as
//! chan_dahdi shares it, and moves only when a channel is actually given out.

use std::collections::HashMap;

use provisioning::{Config, Endpoint, HuntMode};

/// One B-channel of the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelRef {
    pub span: u32,
    /// The channel (timeslot) number in its span, 1-based.
    pub channel: u8,
}

/// The channels of every span and group, and where each round robin stands.
#[derive(Debug, Clone, Default)]
pub struct Hunter {
    channels: HashMap<Endpoint, Vec<ChannelRef>>,
    /// Index (in the target's channel list) of the channel given out last.
    last: HashMap<Endpoint, usize>,
}

impl Hunter {
    pub fn new(cfg: &Config) -> Hunter {
        let mut spans: Vec<_> = cfg.board.spans.iter().collect();
        spans.sort_by_key(|s| s.number);
        let mut channels: HashMap<Endpoint, Vec<ChannelRef>> = HashMap::new();
        for s in spans {
            let mut mine: Vec<ChannelRef> =
                s.hal.bchans.iter().map(|&channel| ChannelRef { span: s.number, channel }).collect();
            mine.sort();
            for g in &s.groups {
                channels.entry(Endpoint::Group(*g)).or_default().extend(mine.iter().copied());
            }
            channels.insert(Endpoint::Span(s.number), mine);
        }
        Hunter { channels, last: HashMap::new() }
    }

    /// The channels of a span or group, in hunting order for `g`.
    pub fn channels(&self, target: &Endpoint) -> &[ChannelRef] {
        self.channels.get(target).map_or(&[], Vec::as_slice)
    }

    /// A free channel of `target` (a span or group) in `mode`'s order, or `None` when every one
    /// is busy (the caller refuses with cause 34) or the target has none.
    pub fn hunt(&mut self, target: &Endpoint, busy: &dyn Fn(ChannelRef) -> bool, mode: HuntMode) -> Option<ChannelRef> {
        let list = self.channels.get(target)?;
        let n = list.len();
        if n == 0 {
            return None;
        }
        let last = self.last.get(target).copied();
        // The order of indices to try.
        let order: Box<dyn Iterator<Item = usize>> = match mode {
            HuntMode::Lowest => Box::new(0..n),
            HuntMode::Highest => Box::new((0..n).rev()),
            HuntMode::RoundRobinUp => {
                let start = last.map_or(0, |l| (l + 1) % n);
                Box::new((0..n).map(move |k| (start + k) % n))
            }
            HuntMode::RoundRobinDown => {
                let start = last.map_or(n - 1, |l| (l + n - 1) % n);
                Box::new((0..n).map(move |k| (start + n - k) % n))
            }
        };
        let mut found = None;
        for i in order {
            if !busy(list[i]) {
                found = Some(i);
                break;
            }
        }
        let i = found?;
        if matches!(mode, HuntMode::RoundRobinUp | HuntMode::RoundRobinDown) {
            self.last.insert(target.clone(), i);
        }
        Some(list[i])
    }
}
