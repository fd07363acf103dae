//! The switch's dial plan over the config's `[[route]]` rules: [`crate::routing::Router`] picks
//! the route and rewrites the numbers, and, for a span or group destination, hunts the
//! B-channel. A destination with no free channel is congested: the next route that takes the
//! call is tried at once, as when the far end answers with cause 34.

use provisioning::Config;

use super::{Decision, Destination, Dialplan};
use crate::routing::{self, CallRequest, ChannelRef, Router, Source};

/// The config's routes with their hunting state.
#[derive(Debug, Clone)]
pub struct ConfigPlan {
    router: Router,
}

impl ConfigPlan {
    pub fn new(cfg: &Config) -> ConfigPlan {
        ConfigPlan { router: Router::new(cfg) }
    }

    /// Whether any rule takes calls from span `span` (the span's calls then go to the switch).
    pub fn routes_from(&self, span: u32) -> bool {
        self.router.routes_from(&Source::Span(span))
    }
}

impl Dialplan for ConfigPlan {
    fn route(
        &mut self,
        from: &Source,
        called: &str,
        calling: &str,
        complete: bool,
        after: Option<usize>,
        busy: &dyn Fn(u32, u8) -> bool,
    ) -> Decision {
        let mut req = CallRequest::new(from.clone(), called);
        if !calling.is_empty() {
            req = req.calling(calling);
        }
        let mut m = match after {
            None => match self.router.route(&req, complete) {
                routing::Decision::Match(m) => m,
                routing::Decision::NeedMore => return Decision::NeedMore,
                routing::Decision::NoMatch { cause } => return Decision::NoMatch { cause },
            },
            Some(i) => match self.router.next(&req, i) {
                Some(m) => m,
                None => return Decision::Exhausted,
            },
        };
        loop {
            let to = match &m.destination {
                routing::Destination::Trunk(t) => Some(Destination::Trunk(t.clone())),
                d => self
                    .router
                    .hunt(d, &|c: ChannelRef| busy(c.span, c.channel))
                    .map(|c| Destination::Span { span: c.span, channel: Some(c.channel) }),
            };
            if let Some(to) = to {
                // A call never goes back out of the span it came in on.
                let back = matches!((&to, from), (Destination::Span { span, .. }, Source::Span(f)) if span == f);
                if !back {
                    let calling = m.calling.clone().unwrap_or_default();
                    return Decision::Route { index: m.route, to, called: m.called, calling };
                }
            }
            match self.router.next(&req, m.route) {
                Some(next) => m = next,
                None => return Decision::Exhausted,
            }
        }
    }
}
