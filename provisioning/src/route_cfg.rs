//! The `[[route]]` tables: the model of a routing rule (what it matches, how it rewrites the
//! numbers, where it sends the call and how it hunts a channel there), its reader, and the rules
//! that check routes against the spans, groups and trunks they name.

use std::fmt;
use std::str::FromStr;

use crate::diag::{did_you_mean, Sink};
use crate::model::{names, SpanCfg, UnknownName};
use crate::parse::SpanDraft;
use crate::pattern::NumberMatch;
use crate::reader::{describe_value, inside, At, Got, Table};

const ROUTE: &[&str] = &[
    "name",
    "from",
    "called",
    "calling",
    "strip",
    "prepend",
    "called_ton",
    "called_npi",
    "calling_strip",
    "calling_prepend",
    "calling_set",
    "calling_ton",
    "calling_npi",
    "calling_hide",
    "to",
    "hunt",
];

/// A routing rule. Routes are tried in file order; the first that matches takes the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub name: String,
    /// Where calls must come from (any of these); `[Any]` unless set.
    pub from: Vec<Endpoint>,
    /// The called number's prefix or pattern (the empty prefix matches every number).
    pub called: NumberMatch,
    /// The calling number's prefix or pattern, when the route cares.
    pub calling: Option<NumberMatch>,
    /// Leading characters removed from the called number.
    pub strip: u32,
    /// Digits put in front of the called number after stripping.
    pub prepend: String,
    /// The called number's type of number and numbering plan; `None` keeps what came in.
    pub called_ton: Option<Ton>,
    pub called_npi: Option<Npi>,
    /// The same rewriting for the calling number.
    pub calling_strip: u32,
    pub calling_prepend: String,
    /// Replaces the calling number (before `calling_strip` and `calling_prepend`, which may not
    /// be given with it).
    pub calling_set: Option<String>,
    pub calling_ton: Option<Ton>,
    pub calling_npi: Option<Npi>,
    /// Presentation restricted on the outgoing call.
    pub calling_hide: bool,
    /// Where the call goes: never `Any`.
    pub to: Endpoint,
    /// How a channel is picked when `to` is a span or a group.
    pub hunt: HuntMode,
}

/// Where a route takes calls from or sends them to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Any,
    Span(u32),
    /// chan_dahdi's trunk group (0..=63): every span whose `group` names it.
    Group(u8),
    /// A `[[sip.trunk]]` by name.
    Trunk(String),
}

impl Endpoint {
    /// Parses `span:N`, `group:N`, `trunk:NAME`, and `any` when `any_ok`.
    pub fn parse(text: &str, any_ok: bool) -> Result<Endpoint, String> {
        let forms = if any_ok { "span:N, group:N, trunk:NAME or any" } else { "span:N, group:N or trunk:NAME" };
        if text == "any" && any_ok {
            return Ok(Endpoint::Any);
        }
        let bad = || format!("`{text}`: expected {forms}");
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        match kind {
            "span" => rest.parse::<u32>().ok().filter(|n| (1..=128).contains(n)).map(Endpoint::Span).ok_or_else(bad),
            "group" => rest.parse::<u8>().ok().filter(|g| *g <= 63).map(Endpoint::Group).ok_or_else(bad),
            "trunk" if !rest.is_empty() => Ok(Endpoint::Trunk(rest.to_string())),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Any => f.write_str("any"),
            Endpoint::Span(n) => write!(f, "span:{n}"),
            Endpoint::Group(g) => write!(f, "group:{g}"),
            Endpoint::Trunk(t) => write!(f, "trunk:{t}"),
        }
    }
}

names!(
    /// chan_dahdi's channel hunting order in a span or group (`dahdi/g0`, `dahdi/R2`, ...).
    #[derive(Default)]
    HuntMode {
        /// `g`: the first free channel, lowest first.
        #[default]
        Lowest = "g",
        /// `G`: the first free channel, highest first.
        Highest = "G",
        /// `r`: round robin upwards, starting after the channel taken last.
        RoundRobinUp = "r",
        /// `R`: round robin downwards, starting below the channel taken last.
        RoundRobinDown = "R",
    }
);

names!(
    /// Type of number (Q.931 §4.5.10 octet 3 bits 7-5).
    Ton {
        Unknown = "unknown",
        International = "international",
        National = "national",
        NetworkSpecific = "network_specific",
        Subscriber = "subscriber",
        Abbreviated = "abbreviated",
    }
);

impl Ton {
    /// The Q.931 code.
    pub const fn code(self) -> u8 {
        match self {
            Ton::Unknown => 0,
            Ton::International => 1,
            Ton::National => 2,
            Ton::NetworkSpecific => 3,
            Ton::Subscriber => 4,
            Ton::Abbreviated => 6,
        }
    }
}

names!(
    /// Numbering plan identification (Q.931 §4.5.10 octet 3 bits 4-1).
    Npi {
        Unknown = "unknown",
        /// ISDN/telephony, E.164.
        Isdn = "isdn",
        /// X.121.
        Data = "data",
        /// F.69.
        Telex = "telex",
        National = "national",
        Private = "private",
    }
);

impl Npi {
    /// The Q.931 code.
    pub const fn code(self) -> u8 {
        match self {
            Npi::Unknown => 0,
            Npi::Isdn => 1,
            Npi::Data => 3,
            Npi::Telex => 4,
            Npi::National => 8,
            Npi::Private => 9,
        }
    }
}

/// One `[[route]]`, with where its ends are written for the cross-checks.
pub(crate) struct RouteDraft {
    pub(crate) index: usize,
    pub(crate) route: Route,
    pub(crate) name_at: At,
    pub(crate) from: Vec<(Endpoint, At)>,
    pub(crate) to: Got<Endpoint>,
    pub(crate) hunt_at: Option<At>,
}

fn pairs<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<(&'static str, T)> {
    all.iter().map(|&v| (name(v), v)).collect()
}

/// Reads every `[[route]]`.
pub(crate) fn read(sink: &mut Sink<'_>, top: &Table<'_>) -> Vec<RouteDraft> {
    top.tables(sink, "route").into_iter().enumerate().map(|(i, (t, at))| read_route(sink, i, t, at)).collect()
}

fn read_route(sink: &mut Sink<'_>, index: usize, t: &dyn toml_edit::TableLike, at: At) -> RouteDraft {
    let r = Table::new(sink, t, format!("route[{index}]"), at, ROUTE);
    r.require(sink, "to");
    let from = read_from(sink, &r);
    let to = match r.string(sink, "to") {
        Got::Ok(s, at) => match Endpoint::parse(&s, false) {
            Ok(e) => Got::Ok(e, at),
            Err(m) => {
                r.error(sink, "to", m);
                Got::Bad
            }
        },
        other => other.map(|_| Endpoint::Any),
    };
    let called = read_match(sink, &r, "called").unwrap_or_else(NumberMatch::any);
    let calling = read_match(sink, &r, "calling");
    let calling_set = r.string(sink, "calling_set").ok();
    if let Some(s) = &calling_set {
        if s.is_empty() {
            r.error(sink, "calling_set", "an empty calling number: use calling_hide = true to withhold it");
        }
        digits(sink, &r, "calling_set", s);
        for k in ["calling_strip", "calling_prepend"] {
            if r.has(k) {
                r.error(sink, k, "calling_set replaces the number: it cannot be stripped or prefixed as well");
            }
        }
    }
    let text = |sink: &mut Sink<'_>, key: &str| {
        let v = r.string(sink, key).ok().unwrap_or_default();
        digits(sink, &r, key, &v);
        v
    };
    let prepend = text(sink, "prepend");
    let calling_prepend = text(sink, "calling_prepend");
    let count = |sink: &mut Sink<'_>, key: &str| {
        r.integer(sink, key, 0, 32).ok().and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
    };
    let (strip, calling_strip) = (count(sink, "strip"), count(sink, "calling_strip"));
    let tons = pairs(Ton::ALL, Ton::as_str);
    let npis = pairs(Npi::ALL, Npi::as_str);
    let hunt = r.pick(sink, "hunt", &pairs(HuntMode::ALL, HuntMode::as_str));
    let name = r.string(sink, "name");
    if let Got::Ok(n, _) = &name {
        if n.trim().is_empty() {
            r.error(sink, "name", "a route name must not be empty");
        }
    }
    let route = Route {
        name: name.get().cloned().unwrap_or_else(|| format!("route {}", index + 1)),
        from: if from.is_empty() { vec![Endpoint::Any] } else { from.iter().map(|(e, _)| e.clone()).collect() },
        called,
        calling,
        strip,
        prepend,
        called_ton: r.pick(sink, "called_ton", &tons).ok(),
        called_npi: r.pick(sink, "called_npi", &npis).ok(),
        calling_strip,
        calling_prepend,
        calling_set,
        calling_ton: r.pick(sink, "calling_ton", &tons).ok(),
        calling_npi: r.pick(sink, "calling_npi", &npis).ok(),
        calling_hide: r.boolean(sink, "calling_hide").ok().unwrap_or(false),
        to: to.get().cloned().unwrap_or(Endpoint::Any),
        hunt: hunt.get().copied().unwrap_or_default(),
    };
    RouteDraft {
        index,
        route,
        name_at: name.at().or_else(|| r.at()),
        from,
        to,
        hunt_at: hunt.present().then(|| r.value_at("hunt")),
    }
}

/// Reports any character of `v` that cannot be dialled.
fn digits(sink: &mut Sink<'_>, r: &Table<'_>, key: &str, v: &str) {
    if let Some((i, bad)) = v.char_indices().find(|(_, c)| !(c.is_ascii_digit() || "*#+".contains(*c))) {
        let at = inside(sink.text(), &r.value_at(key), v, i);
        sink.error(at, &r.field(key), format!("`{v}` has `{bad}`: only digits, *, # and + are dialable"));
    }
}

/// `called`/`calling`: a prefix or a `_` pattern, errors pointing inside the string.
fn read_match(sink: &mut Sink<'_>, r: &Table<'_>, key: &str) -> Option<NumberMatch> {
    let Got::Ok(s, at) = r.string(sink, key) else { return None };
    match NumberMatch::parse(&s) {
        Ok(m) => Some(m),
        Err(e) => {
            let pos = inside(sink.text(), &at, &s, e.offset.min(s.len().saturating_sub(1)));
            sink.error(pos, &r.field(key), format!("`{s}`: {}", e.message));
            None
        }
    }
}

/// `from = "span:1"` or `from = ["span:1", "trunk:pbx"]`; nothing given means `any`.
fn read_from(sink: &mut Sink<'_>, r: &Table<'_>) -> Vec<(Endpoint, At)> {
    let Some(item) = r.raw("from") else { return Vec::new() };
    let field = r.field("from");
    let values: Vec<&toml_edit::Value> = match item.as_value() {
        Some(toml_edit::Value::Array(a)) if a.is_empty() => {
            r.error(sink, "from", "an empty list takes no calls: leave `from` out to take calls from anywhere");
            return Vec::new();
        }
        Some(toml_edit::Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => {
            r.error(sink, "from", "expected a source like \"span:1\" or an array of them");
            return Vec::new();
        }
    };
    let mut out: Vec<(Endpoint, At)> = Vec::new();
    for v in values {
        match v.as_str().map(|s| (s, Endpoint::parse(s, true))) {
            Some((_, Ok(e))) if out.iter().any(|(x, _)| *x == e) => {
                sink.error(v.span(), &field, format!("{e} is listed twice"));
            }
            Some((_, Ok(e))) => out.push((e, v.span())),
            Some((_, Err(m))) => sink.error(v.span(), &field, m),
            None => sink.error(v.span(), &field, format!("expected a source string, found {}", describe_value(v))),
        }
    }
    if out.len() > 1 && out.iter().any(|(e, _)| *e == Endpoint::Any) {
        sink.error(r.value_at("from"), &field, "`any` already takes every source: list it alone");
    }
    out
}

/// Checks routes against what exists: spans, groups (from the spans' `group`), trunks; names
/// unique; a hunting order only where there are channels to hunt; no call sent back where it came from.
pub(crate) fn rules(
    sink: &mut Sink<'_>,
    routes: &[RouteDraft],
    spans: &[(&SpanDraft, Option<&SpanCfg>)],
    trunks: &[&str],
) {
    let numbers: Vec<u32> = spans.iter().filter_map(|(d, _)| d.number.get().copied()).collect();
    let groups: Vec<u8> = spans.iter().filter_map(|(_, c)| *c).flat_map(|c| c.groups.iter().copied()).collect();
    for (i, r) in routes.iter().enumerate() {
        let path = |key: &str| format!("route[{}].{key}", r.index);
        if routes[..i].iter().any(|o| o.route.name == r.route.name) {
            sink.error(r.name_at.clone(), &path("name"), format!("route `{}` is defined twice", r.route.name));
        }
        let exists = |e: &Endpoint| match e {
            Endpoint::Span(n) if !numbers.contains(n) => Some(format!("there is no span {n} on this board")),
            Endpoint::Group(g) if !groups.contains(g) => Some(format!("no span is in group {g}")),
            Endpoint::Trunk(t) if !trunks.contains(&t.as_str()) => {
                let hint = did_you_mean(t, trunks.iter().copied());
                Some(format!("there is no trunk `{t}` in [[sip.trunk]]{hint}"))
            }
            _ => None,
        };
        for (e, at) in &r.from {
            if let Some(m) = exists(e) {
                sink.error(at.clone(), &path("from"), m);
            }
        }
        if let Got::Ok(to, at) = &r.to {
            if let Some(m) = exists(to) {
                sink.error(at.clone(), &path("to"), m);
            }
            if r.from.iter().any(|(f, _)| f == to) {
                sink.error(at.clone(), &path("to"), format!("the route sends calls from {to} back to it"));
            }
            if let (Endpoint::Trunk(_), Some(hat)) = (to, &r.hunt_at) {
                sink.error(hat.clone(), &path("hunt"), "hunt picks a channel of a span or group; a trunk has none");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_round_trip() {
        for s in ["any", "span:1", "group:0", "group:63", "trunk:pbx"] {
            assert_eq!(Endpoint::parse(s, true).map(|e| e.to_string()), Ok(s.to_string()));
        }
        for s in ["span:0", "span:129", "group:64", "trunk:", "pbx", "span:x", ""] {
            assert!(Endpoint::parse(s, true).is_err(), "{s}");
        }
        assert!(Endpoint::parse("any", false).is_err());
    }

    #[test]
    fn codes_are_q931s() {
        assert_eq!(Ton::ALL.iter().map(|t| t.code()).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 6]);
        assert_eq!(Npi::ALL.iter().map(|n| n.code()).collect::<Vec<_>>(), [0, 1, 3, 4, 8, 9]);
        assert_eq!("R".parse::<HuntMode>(), Ok(HuntMode::RoundRobinDown));
        assert!("x".parse::<HuntMode>().is_err());
    }
}
