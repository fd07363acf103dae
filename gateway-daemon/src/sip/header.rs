//! Typed SIP header values (RFC 3261 §20, RFC 3581, RFC 3326): Via, name-addr (From, To,
//! Contact, Route), CSeq, Reason, authentication parameters, and the list and name helpers.
//!
//! A message keeps every header as text; these types are read from that text on demand, so
//! an unknown or unusual header never stops a message from being forwarded or serialised.

use std::fmt;

use super::uri::{param, parse_host_port, parse_params, write_params, Host, Params, Uri, UriError};

/// What was wrong with one header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    Empty,
    Uri(UriError),
    /// A quoted string or `<` without its end.
    Unbalanced,
    /// The value does not have the header's shape; the text says which part.
    Malformed(&'static str),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Empty => write!(f, "empty value"),
            HeaderError::Uri(e) => write!(f, "URI: {e}"),
            HeaderError::Unbalanced => write!(f, "unbalanced quote or angle bracket"),
            HeaderError::Malformed(what) => f.write_str(what),
        }
    }
}

impl From<UriError> for HeaderError {
    fn from(e: UriError) -> Self {
        HeaderError::Uri(e)
    }
}

/// Long and compact header names (RFC 3261 §7.3.3 and the registry). Lookups use the long
/// form in lower case.
const COMPACT: &[(&str, &str)] = &[
    ("a", "accept-contact"),
    ("b", "referred-by"),
    ("c", "content-type"),
    ("d", "request-disposition"),
    ("e", "content-encoding"),
    ("f", "from"),
    ("i", "call-id"),
    ("j", "reject-contact"),
    ("k", "supported"),
    ("l", "content-length"),
    ("m", "contact"),
    ("n", "identity-info"),
    ("o", "event"),
    ("r", "refer-to"),
    ("s", "subject"),
    ("t", "to"),
    ("u", "allow-events"),
    ("v", "via"),
    ("x", "session-expires"),
    ("y", "identity"),
];

/// The lower-case long form of a header name: `v` and `VIA` both give `via`.
pub fn canonical_name(name: &str) -> String {
    if name.len() == 1 {
        if let Some((_, long)) = COMPACT.iter().find(|(c, _)| c.eq_ignore_ascii_case(name)) {
            return (*long).to_owned();
        }
    }
    name.to_ascii_lowercase()
}

/// Headers whose value may be a comma-separated list (§7.3.1). Authentication headers are not:
/// their commas separate parameters of one challenge.
pub fn is_list_header(canonical: &str) -> bool {
    matches!(
        canonical,
        "via"
            | "contact"
            | "route"
            | "record-route"
            | "allow"
            | "supported"
            | "require"
            | "unsupported"
            | "proxy-require"
            | "reason"
            | "accept"
            | "accept-encoding"
            | "accept-language"
            | "content-encoding"
            | "allow-events"
            | "in-reply-to"
            | "warning"
            | "path"
            | "service-route"
    )
}

/// RFC 3261 token characters.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Splits a header value at commas that are outside quotes and angle brackets.
pub fn split_list(value: &str) -> Result<Vec<&str>, HeaderError> {
    let mut out = Vec::new();
    let (mut quoted, mut angle, mut escape) = (false, false, false);
    let mut start = 0;
    for (i, c) in value.char_indices() {
        if escape {
            escape = false;
            continue;
        }
        match c {
            '\\' if quoted => escape = true,
            '"' if !angle => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                out.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted || angle {
        return Err(HeaderError::Unbalanced);
    }
    out.push(value[start..].trim());
    // Empty elements (`a,,b`) are allowed by the list grammar's LWS rules; drop them.
    out.retain(|s| !s.is_empty());
    Ok(out)
}

/// A SIP method; extension methods keep their text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Info,
    Prack,
    Update,
    Refer,
    Subscribe,
    Notify,
    Message,
    Other(String),
}

impl Method {
    /// Parses a method token (case-sensitive, as §7.1 says). `None` if not a token.
    pub fn parse(s: &str) -> Option<Method> {
        if !is_token(s) {
            return None;
        }
        Some(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "PRACK" => Method::Prack,
            "UPDATE" => Method::Update,
            "REFER" => Method::Refer,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "MESSAGE" => Method::Message,
            other => Method::Other(other.to_owned()),
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Prack => "PRACK",
            Method::Update => "UPDATE",
            Method::Refer => "REFER",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Message => "MESSAGE",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...;received=..;rport=..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `SIP/2.0` as written.
    pub protocol: String,
    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`... as written.
    pub transport: String,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    pub fn parse(s: &str) -> Result<Via, HeaderError> {
        let s = s.trim();
        // sent-protocol is three tokens joined by `/` with optional LWS around the slashes.
        let mut parts = s.splitn(3, '/');
        let name = parts.next().unwrap_or("").trim();
        let version = parts.next().ok_or(HeaderError::Malformed("missing protocol version"))?.trim();
        let rest = parts.next().ok_or(HeaderError::Malformed("missing transport"))?.trim_start();
        let t_end = rest.find(|c: char| c.is_whitespace()).ok_or(HeaderError::Malformed("missing sent-by"))?;
        let transport = &rest[..t_end];
        if !is_token(name) || !is_token(version) || !is_token(transport) {
            return Err(HeaderError::Malformed("bad sent-protocol"));
        }
        let rest = rest[t_end..].trim_start();
        let (sent_by, params) = match rest.split_once(';') {
            Some((h, p)) => (h.trim(), parse_params(p)),
            None => (rest.trim(), Vec::new()),
        };
        if sent_by.is_empty() {
            return Err(HeaderError::Malformed("missing sent-by"));
        }
        let (host, port) = parse_host_port(sent_by)?;
        if params.iter().any(|(n, v)| !is_token(n) || v.as_deref().is_some_and(str::is_empty)) {
            return Err(HeaderError::Malformed("bad Via parameter"));
        }
        if let Some(Some(r)) = param(&params, "received") {
            // RFC 3261 writes an IPv6 `received` without brackets; accept both forms.
            if r.parse::<std::net::IpAddr>().is_err() {
                Host::parse(r).map_err(|_| HeaderError::Malformed("bad received address"))?;
            }
        }
        match param(&params, "rport") {
            Some(Some(p)) if p.parse::<u16>().is_err() => return Err(HeaderError::Malformed("bad rport")),
            _ => {}
        }
        Ok(Via { protocol: format!("{name}/{version}"), transport: transport.to_owned(), host, port, params })
    }

    pub fn branch(&self) -> Option<&str> {
        param(&self.params, "branch").flatten()
    }

    /// The `received` parameter a server added (§18.2.1).
    pub fn received(&self) -> Option<&str> {
        param(&self.params, "received").flatten()
    }

    /// `None`: no rport; `Some(None)`: the client asks for it (RFC 3581); `Some(Some(p))`: filled.
    pub fn rport(&self) -> Option<Option<u16>> {
        param(&self.params, "rport").map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// Whether the branch carries the RFC 3261 magic cookie.
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }

    /// Sets or replaces a parameter (used to add `received` and fill `rport`).
    pub fn set_param(&mut self, name: &str, value: Option<String>) {
        match self.params.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(p) => p.1 = value,
            None => self.params.push((name.to_owned(), value)),
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} {}", self.protocol, self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write_params(f, &self.params)
    }
}

/// `[display-name] <uri> ;params` or `addr-spec ;params` (From, To, Contact, Route...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name as written (a quoted string keeps its quotes).
    pub display: Option<String>,
    pub uri: Uri,
    /// Whether the URI was in angle brackets; a bare addr-spec's `;` parameters belong to the
    /// header, not the URI (§20.10).
    pub angle: bool,
    pub params: Params,
}

impl NameAddr {
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr { display: None, uri, angle: true, params: Vec::new() }
    }

    pub fn parse(s: &str) -> Result<NameAddr, HeaderError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(HeaderError::Empty);
        }
        let (display, after_display) = if s.starts_with('"') {
            let end = quoted_end(s).ok_or(HeaderError::Unbalanced)?;
            (Some(s[..end].to_owned()), s[end..].trim_start())
        } else if let Some(lt) = s.find('<') {
            let d = s[..lt].trim();
            if !d.is_empty() && !d.split_whitespace().all(is_token) {
                return Err(HeaderError::Malformed("bad display name"));
            }
            (if d.is_empty() { None } else { Some(d.to_owned()) }, &s[lt..])
        } else {
            (None, s)
        };
        if let Some(inner) = after_display.strip_prefix('<') {
            let gt = inner.find('>').ok_or(HeaderError::Unbalanced)?;
            let uri = Uri::parse(&inner[..gt])?;
            let rest = inner[gt + 1..].trim_start();
            let params = match rest {
                "" => Vec::new(),
                r => parse_params(r.strip_prefix(';').ok_or(HeaderError::Malformed("text after '>'"))?),
            };
            check_params(&params)?;
            Ok(NameAddr { display, uri, angle: true, params })
        } else if display.is_some() {
            Err(HeaderError::Malformed("display name without <uri>"))
        } else {
            let (uri, params) = match after_display.split_once(';') {
                Some((u, p)) => (u.trim(), parse_params(p)),
                None => (after_display, Vec::new()),
            };
            // §20: a URI holding a comma, question mark or semicolon must be in angle
            // brackets; the semicolon case already went to the header's parameters.
            if uri.contains(['?', ',']) {
                return Err(HeaderError::Malformed("URI with '?' or ',' outside angle brackets"));
            }
            check_params(&params)?;
            Ok(NameAddr { display: None, uri: Uri::parse(uri)?, angle: false, params })
        }
    }

    pub fn tag(&self) -> Option<&str> {
        param(&self.params, "tag").flatten()
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        param(&self.params, name)
    }

    /// Adds a `tag` (a UAS does this to To in its responses).
    pub fn set_tag(&mut self, tag: &str) {
        self.params.retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        self.params.push(("tag".to_owned(), Some(tag.to_owned())));
    }
}

fn check_params(params: &Params) -> Result<(), HeaderError> {
    for (n, v) in params {
        if !is_token(n) {
            return Err(HeaderError::Malformed("bad parameter name"));
        }
        if let Some(v) = v {
            let ok = is_token(v) || (v.starts_with('"') && quoted_end(v) == Some(v.len())) || v.starts_with('[');
            if !ok {
                return Err(HeaderError::Malformed("bad parameter value"));
            }
        }
    }
    Ok(())
}

/// The byte index just past the closing quote of the quoted string `s` starts with.
fn quoted_end(s: &str) -> Option<usize> {
    let mut escape = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escape => escape = false,
            '\\' => escape = true,
            '"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Removes the quotes and backslash escapes of a quoted string; other text is returned as is.
pub fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut escape = false;
            for c in inner.chars() {
                if !escape && c == '\\' {
                    escape = true;
                } else {
                    out.push(c);
                    escape = false;
                }
            }
            out
        }
        None => s.to_owned(),
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "{d} ")?;
        }
        if self.angle {
            write!(f, "<{}>", self.uri)?;
        } else {
            write!(f, "{}", self.uri)?;
        }
        write_params(f, &self.params)
    }
}

/// The Contact header: `*` (REGISTER removing every binding) or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contacts {
    Star,
    List(Vec<NameAddr>),
}

impl Contacts {
    pub fn parse(s: &str) -> Result<Contacts, HeaderError> {
        if s.trim() == "*" {
            return Ok(Contacts::Star);
        }
        split_list(s)?.into_iter().map(NameAddr::parse).collect::<Result<_, _>>().map(Contacts::List)
    }
}

/// `CSeq: 1 INVITE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(s: &str) -> Result<CSeq, HeaderError> {
        let mut it = s.split_whitespace();
        let n = it.next().ok_or(HeaderError::Empty)?;
        let m = it.next().ok_or(HeaderError::Malformed("missing method"))?;
        if it.next().is_some() {
            return Err(HeaderError::Malformed("text after the method"));
        }
        // §8.1.1.5: the sequence number must be below 2**31.
        let seq = match n.parse::<u32>() {
            Ok(v) if n.bytes().all(|b| b.is_ascii_digit()) && v < 1 << 31 => v,
            _ => return Err(HeaderError::Malformed("sequence number not below 2^31")),
        };
        let method = Method::parse(m).ok_or(HeaderError::Malformed("bad method"))?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// A decimal header value such as Content-Length or Max-Forwards, refusing signs and overflow.
pub fn parse_decimal(s: &str, max: u32) -> Result<u32, HeaderError> {
    let s = s.trim();
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HeaderError::Malformed("not a decimal number"));
    }
    match s.parse::<u64>() {
        Ok(v) if v <= u64::from(max) => u32::try_from(v).map_err(|_| HeaderError::Malformed("number too large")),
        _ => Err(HeaderError::Malformed("number too large")),
    }
}

/// `Reason: Q.850;cause=16;text="Normal call clearing"` (RFC 3326).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// `Q.850` or `SIP`.
    pub protocol: String,
    pub cause: Option<u16>,
    /// The text without its quotes.
    pub text: Option<String>,
    pub params: Params,
}

impl Reason {
    /// A Q.850 reason for a cause value, with its text.
    pub fn q850(cause: u8, text: Option<&str>) -> Reason {
        Reason {
            protocol: "Q.850".to_owned(),
            cause: Some(u16::from(cause)),
            text: text.map(str::to_owned),
            params: Vec::new(),
        }
    }

    pub fn parse(s: &str) -> Result<Reason, HeaderError> {
        let (proto, rest) = match s.split_once(';') {
            Some((p, r)) => (p.trim(), r),
            None => (s.trim(), ""),
        };
        if !is_token(proto) {
            return Err(HeaderError::Malformed("bad protocol"));
        }
        let mut r = Reason { protocol: proto.to_owned(), cause: None, text: None, params: Vec::new() };
        for (n, v) in parse_params_quoted(rest)? {
            if n.eq_ignore_ascii_case("cause") {
                let v = v.ok_or(HeaderError::Malformed("cause without value"))?;
                r.cause = Some(v.parse().map_err(|_| HeaderError::Malformed("bad cause"))?);
            } else if n.eq_ignore_ascii_case("text") {
                r.text = v.map(|v| unquote(&v));
            } else {
                r.params.push((n, v));
            }
        }
        Ok(r)
    }

    /// The Q.850 cause if this is a Q.850 reason with a cause in range.
    pub fn q850_cause(&self) -> Option<u8> {
        if self.protocol.eq_ignore_ascii_case("Q.850") {
            self.cause.and_then(|c| u8::try_from(c).ok()).filter(|c| *c <= 127)
        } else {
            None
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.protocol)?;
        if let Some(c) = self.cause {
            write!(f, ";cause={c}")?;
        }
        if let Some(t) = &self.text {
            write!(f, ";text=\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))?;
        }
        write_params(f, &self.params)
    }
}

/// Splits `a=b;c="x;y"` honouring quoted strings.
fn parse_params_quoted(s: &str) -> Result<Params, HeaderError> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.trim().is_empty() {
        let mut end = rest.len();
        let mut i = 0;
        while i < rest.len() {
            let c = rest.as_bytes()[i];
            if c == b'"' {
                i += quoted_end(&rest[i..]).ok_or(HeaderError::Unbalanced)?;
                continue;
            }
            if c == b';' {
                end = i;
                break;
            }
            i += 1;
        }
        let p = rest[..end].trim();
        if !p.is_empty() {
            match p.split_once('=') {
                Some((n, v)) => out.push((n.trim().to_owned(), Some(v.trim().to_owned()))),
                None => out.push((p.to_owned(), None)),
            }
        }
        rest = if end < rest.len() { &rest[end + 1..] } else { "" };
    }
    Ok(out)
}

/// WWW-Authenticate, Proxy-Authenticate, Authorization, Proxy-Authorization: a scheme and
/// comma-separated `name=value` parameters (values unquoted here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParams {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl AuthParams {
    pub fn parse(s: &str) -> Result<AuthParams, HeaderError> {
        let s = s.trim();
        let (scheme, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
        if !is_token(scheme) {
            return Err(HeaderError::Malformed("bad auth scheme"));
        }
        let mut params = Vec::new();
        for item in split_list(rest)? {
            let (n, v) = item.split_once('=').ok_or(HeaderError::Malformed("auth parameter without '='"))?;
            let (n, v) = (n.trim(), v.trim());
            if !is_token(n) {
                return Err(HeaderError::Malformed("bad auth parameter name"));
            }
            if v.starts_with('"') && quoted_end(v) != Some(v.len()) {
                return Err(HeaderError::Unbalanced);
            }
            params.push((n.to_owned(), unquote(v)));
        }
        Ok(AuthParams { scheme: scheme.to_owned(), params })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for AuthParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        for (i, (n, v)) in self.params.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            // algorithm, qop (in credentials), nc and stale are tokens; the rest are quoted.
            if matches!(n.to_ascii_lowercase().as_str(), "algorithm" | "nc" | "stale")
                || (n.eq_ignore_ascii_case("qop") && is_token(v))
            {
                write!(f, "{sep}{n}={v}")?;
            } else {
                write!(f, "{sep}{n}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via() {
        let v = Via::parse("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport;received=192.0.2.1").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.branch(), Some("z9hG4bK776asdhds"));
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), Some("192.0.2.1"));
        assert!(v.is_rfc3261_branch());
        let w = Via::parse("SIP / 2.0 / TCP [2001:db8::9]:5061 ; branch=z9hG4bKx ; rport=5070").unwrap();
        assert_eq!(w.rport(), Some(Some(5070)));
        assert_eq!(w.to_string(), "SIP/2.0/TCP [2001:db8::9]:5061;branch=z9hG4bKx;rport=5070");
        assert!(Via::parse("SIP/2.0/UDP").is_err());
        assert!(Via::parse("SIP/2.0/UDP host;rport=x").is_err());
        assert!(Via::parse("SIP/2.0/UDP host;received=not an address").is_err());
        assert_eq!(Via::parse("SIP/2.0/UDP [::1];received=2001:db8::2").unwrap().received(), Some("2001:db8::2"));
    }

    #[test]
    fn name_addr() {
        let a = NameAddr::parse("\"Alice \\\"A\\\"\" <sip:alice@atlanta.com;transport=tcp>;tag=1928301774").unwrap();
        assert_eq!(a.display.as_deref(), Some("\"Alice \\\"A\\\"\""));
        assert_eq!(unquote(a.display.as_deref().unwrap()), "Alice \"A\"");
        assert_eq!(a.tag(), Some("1928301774"));
        assert_eq!(a.uri.as_sip().unwrap().param("transport"), Some(Some("tcp")));
        let b = NameAddr::parse("sip:bob@biloxi.com;tag=a6c85cf").unwrap();
        assert!(!b.angle);
        assert_eq!(b.tag(), Some("a6c85cf"));
        assert!(b.uri.as_sip().unwrap().params.is_empty());
        let c = NameAddr::parse("Bob Smith <sip:bob@biloxi.com>").unwrap();
        assert_eq!(c.display.as_deref(), Some("Bob Smith"));
        assert_eq!(c.to_string(), "Bob Smith <sip:bob@biloxi.com>");
        assert_eq!(NameAddr::parse("<sip:x@y"), Err(HeaderError::Unbalanced));
        assert_eq!(NameAddr::parse("\"x <sip:x@y>"), Err(HeaderError::Unbalanced));
        assert!(NameAddr::parse("\"x\" sip:x@y").is_err());
    }

    #[test]
    fn contacts_and_lists() {
        assert_eq!(Contacts::parse(" * "), Ok(Contacts::Star));
        let Contacts::List(l) = Contacts::parse("<sip:a@b>;expires=60, \"x,y\" <sip:c@d;lr>;q=0.5").unwrap() else {
            panic!()
        };
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].param("q"), Some(Some("0.5")));
        assert_eq!(split_list("INVITE, ACK,,BYE").unwrap(), vec!["INVITE", "ACK", "BYE"]);
        assert_eq!(canonical_name("v"), "via");
        assert_eq!(canonical_name("Call-ID"), "call-id");
        assert_eq!(canonical_name("I"), "call-id");
    }

    #[test]
    fn cseq_and_numbers() {
        assert_eq!(CSeq::parse("1 INVITE").unwrap(), CSeq { seq: 1, method: Method::Invite });
        assert!(CSeq::parse("2147483648 INVITE").is_err());
        assert!(CSeq::parse("-1 INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
        assert!(CSeq::parse("1 INVITE x").is_err());
        assert_eq!(parse_decimal("70", 255), Ok(70));
        assert!(parse_decimal("300", 255).is_err());
        assert!(parse_decimal("-5", u32::MAX).is_err());
        assert!(parse_decimal("99999999999999999999", u32::MAX).is_err());
    }

    #[test]
    fn reason() {
        let r = Reason::parse("Q.850 ;cause=16 ;text=\"Terminated; by user\"").unwrap();
        assert_eq!(r.q850_cause(), Some(16));
        assert_eq!(r.text.as_deref(), Some("Terminated; by user"));
        let built = Reason::q850(17, Some("User busy"));
        assert_eq!(built.to_string(), "Q.850;cause=17;text=\"User busy\"");
        assert_eq!(Reason::parse(&built.to_string()).unwrap(), built);
        assert_eq!(Reason::parse("SIP;cause=200").unwrap().q850_cause(), None);
        assert!(Reason::parse("Q.850;cause=x").is_err());
    }

    #[test]
    fn auth() {
        let a = AuthParams::parse("Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth,auth-int\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5").unwrap();
        assert_eq!(a.scheme, "Digest");
        assert_eq!(a.get("realm"), Some("atlanta.com"));
        assert_eq!(a.get("qop"), Some("auth,auth-int"));
        assert_eq!(a.get("opaque"), Some(""));
        assert_eq!(a.get("algorithm"), Some("MD5"));
        assert_eq!(AuthParams::parse(&a.to_string()).unwrap(), a);
        assert!(AuthParams::parse("Digest realm=\"x").is_err());
    }
}
