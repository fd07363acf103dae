//! Call routing: which `[[route]]` takes a call, how it rewrites the numbers, where the call goes,
//! and which B-channel it gets there. Pure logic over the validated config: no I/O, no clock.
//!
//! # Choosing a route
//!
//! Routes are tried in file order. A route *takes* a call when its `from` names the call's source
//! (a span, a group the span is in, a trunk, or `any`), its `calling` (if any) matches the whole
//! calling number, and its `called` matches the called number. With overlap receiving the called
//! number may still grow, so [`Router::route`] is asked again on every digit:
//!
//! | digits so far | `complete` | Decision |
//! |---|---|---|
//! | some route could match a longer number (a prefix, a pattern ending in `.`, a fixed pattern not yet full) | no | `NeedMore`: wait for digits, sending complete or T302 |
//! | otherwise, a route matches | any | `Match` with the first such route |
//! | no route matches, some route takes calls from this source | any | `NoMatch`, cause 1 (unallocated number) |
//! | no route takes calls from this source at all | any | `NoMatch`, cause 3 (no route to destination) |
//!
//! `complete` is true for en-bloc calls, after Sending Complete and once T302 has run out (the
//! caller's timer, Q.931 §5.2.4); a pattern ending in `!` never waits, as in Asterisk.
//!
//! # Falling over
//!
//! When the destination refuses with congestion (Q.850 34 no circuit, 44 requested circuit not
//! available, or SIP 503), [`Router::next`] gives the next route that takes the same call;
//! [`is_fall_over_cause`] and [`is_fall_over_status`] say which refusals qualify.
//!
//! # Hunting a channel
//!
//! A route to a span or group hunts a B-channel with chan_dahdi's orders (`g` lowest first, `G`
//! highest first, `r`/`R` round robin up/down after the channel taken last), see [`hunt`].

mod hunt;
#[cfg(test)]
mod tests;

pub use hunt::{ChannelRef, Hunter};
pub use provisioning::HuntMode;

use provisioning::{Config, Endpoint, Fit, Route};

/// Q.850 cause 1: unallocated (unassigned) number.
pub const CAUSE_UNALLOCATED: u8 = 1;
/// Q.850 cause 3: no route to destination.
pub const CAUSE_NO_ROUTE: u8 = 3;

/// Where a call comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An ISDN (or analog) span of the board, by number.
    Span(u32),
    /// A SIP trunk, by name.
    Trunk(String),
}

/// Presentation of the calling number (Q.931 octet 3a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Presentation {
    #[default]
    Allowed,
    Restricted,
    NotAvailable,
}

/// What the router needs to know about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    pub source: Source,
    /// The called number's digits so far.
    pub called: String,
    /// Type of number and numbering plan of the called number, as Q.931 codes.
    pub called_ton: u8,
    pub called_npi: u8,
    /// The calling number, when there is one.
    pub calling: Option<String>,
    pub calling_ton: u8,
    pub calling_npi: u8,
    pub calling_presentation: Presentation,
}

impl CallRequest {
    /// A call from `source` to `called` with unknown type and plan, and no calling number.
    pub fn new(source: Source, called: &str) -> CallRequest {
        CallRequest {
            source,
            called: called.to_string(),
            called_ton: 0,
            called_npi: 0,
            calling: None,
            calling_ton: 0,
            calling_npi: 0,
            calling_presentation: Presentation::Allowed,
        }
    }

    /// The same call with a calling number.
    pub fn calling(mut self, number: &str) -> CallRequest {
        self.calling = Some(number.to_string());
        self
    }
}

/// Where a route sends a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Trunk(String),
    Span { span: u32, hunt: HuntMode },
    Group { group: u8, hunt: HuntMode },
}

/// A route that takes the call, and the call as it leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The route's index in the config (for [`Router::next`]).
    pub route: usize,
    pub name: String,
    pub destination: Destination,
    pub called: String,
    pub called_ton: u8,
    pub called_npi: u8,
    pub calling: Option<String>,
    pub calling_ton: u8,
    pub calling_npi: u8,
    pub calling_presentation: Presentation,
}

/// The router's answer for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Match(Match),
    /// Overlap receiving: a route could still match once more digits come.
    NeedMore,
    /// No route takes the call: refuse it with this Q.850 cause.
    NoMatch {
        cause: u8,
    },
}

/// Whether a Q.850 cause from the destination sends the call on to the next route.
pub fn is_fall_over_cause(cause: u8) -> bool {
    matches!(cause, 34 | 44)
}

/// Whether a SIP final status from a trunk sends the call on to the next route.
pub fn is_fall_over_status(status: u16) -> bool {
    status == 503
}

/// The routes of one config, and the channel-hunting state of its spans and groups.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<Route>,
    /// The groups each span is in, by span number.
    groups: Vec<(u32, Vec<u8>)>,
    hunter: Hunter,
}

impl Router {
    pub fn new(cfg: &Config) -> Router {
        Router {
            routes: cfg.routes.clone(),
            groups: cfg.board.spans.iter().map(|s| (s.number, s.groups.clone())).collect(),
            hunter: Hunter::new(cfg),
        }
    }

    /// Whether any route takes calls from `source` (the daemon hands such spans' calls to the
    /// switch instead of their `incoming` policy).
    pub fn routes_from(&self, source: &Source) -> bool {
        self.routes.iter().any(|r| self.source_matches(r, source))
    }

    fn source_matches(&self, r: &Route, source: &Source) -> bool {
        r.from.iter().any(|e| match (e, source) {
            (Endpoint::Any, _) => true,
            (Endpoint::Span(n), Source::Span(s)) => n == s,
            (Endpoint::Group(g), Source::Span(s)) => self.groups.iter().any(|(n, gs)| n == s && gs.contains(g)),
            (Endpoint::Trunk(t), Source::Trunk(s)) => t == s,
            _ => false,
        })
    }

    /// Whether route `r` takes calls of this source and calling number (the called number aside).
    fn takes(&self, r: &Route, req: &CallRequest) -> bool {
        self.source_matches(r, &req.source)
            && match (&r.calling, &req.calling) {
                (None, _) => true,
                (Some(m), Some(n)) => m.matches(n),
                (Some(m), None) => m.matches(""),
            }
    }

    /// The route for `req`, as the table in the module documentation says.
    pub fn route(&self, req: &CallRequest, complete: bool) -> Decision {
        let mut first = None;
        let mut wait = false;
        let mut any_source = false;
        for (i, r) in self.routes.iter().enumerate() {
            if !self.source_matches(r, &req.source) {
                continue;
            }
            any_source = true;
            if !self.takes(r, req) {
                continue;
            }
            match r.called.fit(&req.called) {
                Fit::Full { more } => {
                    first = first.or(Some(i));
                    wait |= more;
                }
                Fit::Partial => wait = true,
                Fit::No => {}
            }
        }
        if wait && !complete {
            return Decision::NeedMore;
        }
        match first {
            Some(i) => Decision::Match(self.rewrite(i, req)),
            None if any_source => Decision::NoMatch { cause: CAUSE_UNALLOCATED },
            None => Decision::NoMatch { cause: CAUSE_NO_ROUTE },
        }
    }

    /// The first route after route `after` that takes the (complete) call: the fall-over when
    /// the destination of route `after` was congested.
    pub fn next(&self, req: &CallRequest, after: usize) -> Option<Match> {
        (after.saturating_add(1)..self.routes.len())
            .find(|&i| self.takes(&self.routes[i], req) && self.routes[i].called.matches(&req.called))
            .map(|i| self.rewrite(i, req))
    }

    /// Applies route `i`'s rewriting to `req`.
    fn rewrite(&self, i: usize, req: &CallRequest) -> Match {
        let r = &self.routes[i];
        let cut = |s: &str, n: u32| -> String { s.chars().skip(usize::try_from(n).unwrap_or(usize::MAX)).collect() };
        let called = format!("{}{}", r.prepend, cut(&req.called, r.strip));
        let calling = match (&r.calling_set, &req.calling) {
            (Some(set), _) => Some(set.clone()),
            (None, Some(n)) => Some(format!("{}{}", r.calling_prepend, cut(n, r.calling_strip))),
            (None, None) => None,
        };
        let destination = match &r.to {
            Endpoint::Trunk(t) => Destination::Trunk(t.clone()),
            Endpoint::Span(n) => Destination::Span { span: *n, hunt: r.hunt },
            Endpoint::Group(g) => Destination::Group { group: *g, hunt: r.hunt },
            // Validation never lets `any` be a destination; an empty trunk name fails at the SIP layer.
            Endpoint::Any => Destination::Trunk(String::new()),
        };
        Match {
            route: i,
            name: r.name.clone(),
            destination,
            called,
            called_ton: r.called_ton.map_or(req.called_ton, |t| t.code()),
            called_npi: r.called_npi.map_or(req.called_npi, |n| n.code()),
            calling,
            calling_ton: r.calling_ton.map_or(req.calling_ton, |t| t.code()),
            calling_npi: r.calling_npi.map_or(req.calling_npi, |n| n.code()),
            calling_presentation: if r.calling_hide { Presentation::Restricted } else { req.calling_presentation },
        }
    }

    /// Picks a free B-channel of a span or group destination (see [`Hunter::hunt`]); `None` for
    /// a trunk or when every channel is busy.
    pub fn hunt(&mut self, to: &Destination, busy: &dyn Fn(ChannelRef) -> bool) -> Option<ChannelRef> {
        match to {
            Destination::Span { span, hunt } => self.hunter.hunt(&Endpoint::Span(*span), busy, *hunt),
            Destination::Group { group, hunt } => self.hunter.hunt(&Endpoint::Group(*group), busy, *hunt),
            Destination::Trunk(_) => None,
        }
    }

    /// The routes, in order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}
