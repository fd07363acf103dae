//! SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966 minimal): parse, emit, compare (§19.1.4).
//!
//! Parts are kept as written (still %-escaped) so a URI serialises back byte for byte; the
//! comparison and the `*_unescaped` accessors undo the escaping where the RFC says to.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a URI was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriError {
    /// No `scheme:` in front.
    NoScheme,
    /// A character no URI may hold (space, control, `<`, `>`, `"`).
    BadChar(char),
    /// The host part is empty or malformed.
    BadHost,
    /// The port is not a number from 0 to 65535.
    BadPort,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// A tel URI without a number.
    EmptyNumber,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriError::NoScheme => write!(f, "no scheme"),
            UriError::BadChar(c) => write!(f, "character {c:?} not allowed in a URI"),
            UriError::BadHost => write!(f, "bad host"),
            UriError::BadPort => write!(f, "bad port"),
            UriError::BadEscape => write!(f, "bad %-escape"),
            UriError::EmptyNumber => write!(f, "tel URI without a number"),
        }
    }
}

/// A host: a domain name (kept as written), an IPv4 or an IPv6 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Host {
    /// Parses a host as found in a URI, a Via sent-by or a `received` parameter.
    pub fn parse(s: &str) -> Result<Host, UriError> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or(UriError::BadHost)?;
            return inner.parse().map(Host::V6).map_err(|_| UriError::BadHost);
        }
        if s.is_empty() {
            return Err(UriError::BadHost);
        }
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            // Four dotted numbers is an address; anything else made of digits and dots is not a
            // valid host name either (the last label of a domain must start with a letter).
            return s.parse().map(Host::V4).map_err(|_| UriError::BadHost);
        }
        let ok = s.split('.').enumerate().all(|(i, label)| {
            // A trailing dot (fully qualified name) leaves one empty last label.
            (label.is_empty() && i > 0 && s.ends_with('.'))
                || (!label.is_empty()
                    // `_` is not in the RFC 3261 grammar but container and Windows host
                    // names carry it; refusing them would refuse whole calls.
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    && !label.starts_with('-')
                    && !label.ends_with('-'))
        });
        if ok {
            Ok(Host::Name(s.to_owned()))
        } else {
            Err(UriError::BadHost)
        }
    }

    /// Hosts compare case-insensitively (§19.1.4).
    pub fn eq_ignore_case(&self, other: &Host) -> bool {
        match (self, other) {
            (Host::Name(a), Host::Name(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// `;name[=value]` parameters in order, as written.
pub type Params = Vec<(String, Option<String>)>;

/// Finds a parameter by case-insensitive name. `Some(None)` is a parameter without a value.
pub fn param<'a>(params: &'a Params, name: &str) -> Option<Option<&'a str>> {
    params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_deref())
}

/// Splits `;a=b;c` (the leading `;` already removed) into parameters.
pub(crate) fn parse_params(s: &str) -> Params {
    s.split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (n.trim().to_owned(), Some(v.trim().to_owned())),
            None => (p.trim().to_owned(), None),
        })
        .collect()
}

pub(crate) fn write_params(f: &mut fmt::Formatter<'_>, params: &Params) -> fmt::Result {
    for (n, v) in params {
        match v {
            Some(v) => write!(f, ";{n}={v}")?,
            None => write!(f, ";{n}")?,
        }
    }
    Ok(())
}

/// A `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    pub secure: bool,
    /// The user part, still %-escaped.
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
    /// `?name=value&...` headers, still escaped.
    pub headers: Vec<(String, String)>,
}

impl SipUri {
    /// A plain `sip:user@host` URI.
    pub fn new(user: Option<&str>, host: Host) -> SipUri {
        SipUri {
            secure: false,
            user: user.map(str::to_owned),
            password: None,
            host,
            port: None,
            params: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// The user part with %-escapes undone.
    pub fn user_unescaped(&self) -> Option<String> {
        self.user.as_deref().map(|u| unescape(u).unwrap_or_else(|_| u.to_owned()))
    }

    /// A URI parameter by name (`transport`, `lr`, `user`...).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        param(&self.params, name)
    }

    fn parse_rest(secure: bool, rest: &str) -> Result<SipUri, UriError> {
        let (userinfo, hostpart) = match rest.find('@') {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => match ui.split_once(':') {
                Some((u, p)) => (Some(u), Some(p)),
                None => (Some(ui), None),
            },
        };
        for part in [user, password].into_iter().flatten() {
            unescape(part)?;
        }
        let (hostpart, headers) = match hostpart.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (hostpart, None),
        };
        let (hostport, params) = match hostpart.split_once(';') {
            Some((h, p)) => (h, parse_params(p)),
            None => (hostpart, Vec::new()),
        };
        for (n, v) in &params {
            unescape(n)?;
            if let Some(v) = v {
                unescape(v)?;
            }
        }
        let (host, port) = split_host_port(hostport)?;
        let headers = match headers {
            None => Vec::new(),
            Some(q) => q
                .split('&')
                .filter(|h| !h.is_empty())
                .map(|h| {
                    let (n, v) = h.split_once('=').unwrap_or((h, ""));
                    unescape(n)?;
                    unescape(v)?;
                    Ok((n.to_owned(), v.to_owned()))
                })
                .collect::<Result<_, UriError>>()?,
        };
        Ok(SipUri {
            secure,
            user: user.map(str::to_owned),
            password: password.map(str::to_owned),
            host,
            port,
            params,
            headers,
        })
    }

    /// URI equivalence of RFC 3261 §19.1.4: scheme, user and password exactly (after
    /// unescaping), host case-insensitively, the same port; `user`, `ttl`, `method`, `maddr`
    /// and `transport` must agree when either side has them, other parameters only when both
    /// do; headers must all match.
    pub fn equivalent(&self, other: &SipUri) -> bool {
        let un = |s: &Option<String>| s.as_deref().map(|s| unescape(s).unwrap_or_else(|_| s.to_owned()));
        if self.secure != other.secure
            || un(&self.user) != un(&other.user)
            || un(&self.password) != un(&other.password)
            || !self.host.eq_ignore_case(&other.host)
            || self.port != other.port
        {
            return false;
        }
        let pval =
            |u: &SipUri, n: &str| u.param(n).map(|v| v.map(|v| unescape(v).unwrap_or_default().to_ascii_lowercase()));
        for n in ["user", "ttl", "method", "maddr", "transport"] {
            if pval(self, n) != pval(other, n) {
                return false;
            }
        }
        for (n, _) in &self.params {
            if other.param(n).is_some() && pval(self, n) != pval(other, n) {
                return false;
            }
        }
        let hdrs = |u: &SipUri| {
            let mut v: Vec<(String, String)> =
                u.headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), unescape(v).unwrap_or_default())).collect();
            v.sort();
            v
        };
        hdrs(self) == hdrs(other)
    }
}

fn split_host_port(s: &str) -> Result<(Host, Option<u16>), UriError> {
    let (host, port) = if s.starts_with('[') {
        match s.find(']') {
            Some(i) => match &s[i + 1..] {
                "" => (&s[..=i], None),
                p => (&s[..=i], Some(p.strip_prefix(':').ok_or(UriError::BadPort)?)),
            },
            None => return Err(UriError::BadHost),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse().map_err(|_| UriError::BadPort)?)
        }
        Some(_) => return Err(UriError::BadPort),
    };
    Ok((Host::parse(host)?, port))
}

/// Splits `host[:port]` (used by Via's sent-by too).
pub fn parse_host_port(s: &str) -> Result<(Host, Option<u16>), UriError> {
    split_host_port(s)
}

/// Undoes %-escaping. Refuses a `%` without two hex digits and escapes that are not UTF-8.
pub fn unescape(s: &str) -> Result<String, UriError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            match (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
                (Some(h), Some(l)) => {
                    // Two hex digits are at most 255: the narrowing cannot lose anything.
                    out.push(u8::try_from(h * 16 + l).unwrap_or(0));
                    i += 3;
                }
                _ => return Err(UriError::BadEscape),
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UriError::BadEscape)
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write_params(f, &self.params)?;
        for (i, (n, v)) in self.headers.iter().enumerate() {
            write!(f, "{}{n}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// A `tel:` URI (RFC 3966), kept minimal: the number and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri {
    pub number: String,
    pub params: Params,
}

impl TelUri {
    /// The digits of the number with visual separators (`-`, `.`, `(`, `)`) removed.
    pub fn digits(&self) -> String {
        self.number.chars().filter(|c| !matches!(c, '-' | '.' | '(' | ')')).collect()
    }
}

/// Any URI a SIP message may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    Sip(SipUri),
    Tel(TelUri),
    /// Another scheme (`mailto:`, `http:`...), kept as written: a proxy answers 416 to it.
    Other {
        scheme: String,
        rest: String,
    },
}

impl Uri {
    /// Parses a URI. Parameters belong to the URI here; in a bare addr-spec header value the
    /// caller splits header parameters off first.
    pub fn parse(s: &str) -> Result<Uri, UriError> {
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"')) {
            return Err(UriError::BadChar(c));
        }
        let (scheme, rest) = s.split_once(':').ok_or(UriError::NoScheme)?;
        let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(UriError::NoScheme);
        }
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_rest(false, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_rest(true, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            let (number, params) = match rest.split_once(';') {
                Some((n, p)) => (n, parse_params(p)),
                None => (rest, Vec::new()),
            };
            if number.is_empty() {
                return Err(UriError::EmptyNumber);
            }
            Ok(Uri::Tel(TelUri { number: number.to_owned(), params }))
        } else {
            Ok(Uri::Other { scheme: scheme.to_owned(), rest: rest.to_owned() })
        }
    }

    /// The SIP URI inside, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The user part of a SIP URI or the number of a tel URI: what a gateway routes on.
    pub fn user(&self) -> Option<String> {
        match self {
            Uri::Sip(u) => u.user_unescaped(),
            Uri::Tel(t) => Some(t.digits()),
            Uri::Other { .. } => None,
        }
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => write!(f, "{u}"),
            Uri::Tel(t) => {
                write!(f, "tel:{}", t.number)?;
                write_params(f, &t.params)
            }
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri {
        match Uri::parse(s).unwrap() {
            Uri::Sip(u) => u,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parts() {
        let u = sip("sip:1234:pw@gw.example.com:5061;transport=udp;lr?subject=x&priority=urgent");
        assert_eq!(u.user.as_deref(), Some("1234"));
        assert_eq!(u.password.as_deref(), Some("pw"));
        assert_eq!(u.host, Host::Name("gw.example.com".into()));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.param("transport"), Some(Some("udp")));
        assert_eq!(u.param("lr"), Some(None));
        assert_eq!(u.headers.len(), 2);
        let v6 = sip("sips:[2001:db8::10]:5070");
        assert!(v6.secure);
        assert_eq!(v6.host, Host::V6("2001:db8::10".parse().unwrap()));
        assert_eq!(sip("sip:10.0.0.1").host, Host::V4(Ipv4Addr::new(10, 0, 0, 1)));
        let tel = sip("sip:+1-212-555-1212:1234@gateway.com;user=phone");
        assert_eq!(tel.password.as_deref(), Some("1234"));
        assert_eq!(
            sip("sip:sip%3Auser%40example.com@example.net").user_unescaped().as_deref(),
            Some("sip:user@example.com")
        );
    }

    #[test]
    fn round_trip() {
        for s in [
            "sip:1234@gw;transport=udp",
            "sips:alice:secret@[::1]:5061;maddr=239.255.255.1;ttl=15?to=bob",
            "sip:%61lice@atlanta.com;transport=TCP",
            "tel:+358-555-1234567;postd=pp22",
            "mailto:bob@example.com",
            "sip:example.com.",
        ] {
            let u = Uri::parse(s).unwrap();
            assert_eq!(u.to_string(), s);
            assert_eq!(Uri::parse(&u.to_string()).unwrap(), u);
        }
    }

    #[test]
    fn refused() {
        assert_eq!(Uri::parse("sip:user@example.com lr"), Err(UriError::BadChar(' ')));
        assert_eq!(Uri::parse("nocolon"), Err(UriError::NoScheme));
        assert_eq!(Uri::parse("sip:user@host:99999"), Err(UriError::BadPort));
        assert_eq!(Uri::parse("sip:user@host:5a"), Err(UriError::BadPort));
        assert_eq!(Uri::parse("sip:us%zzer@host"), Err(UriError::BadEscape));
        assert_eq!(Uri::parse("sip:user@"), Err(UriError::BadHost));
        assert_eq!(Uri::parse("sip:user@[::1"), Err(UriError::BadHost));
        assert_eq!(Uri::parse("sip:user@256.1.1.1"), Err(UriError::BadHost));
        assert_eq!(Uri::parse("sip:user@ex!ample.com"), Err(UriError::BadHost));
        assert!(Uri::parse("sip:user@my_host.local").is_ok());
        assert_eq!(Uri::parse("tel:"), Err(UriError::EmptyNumber));
    }

    #[test]
    fn comparison_rfc3261_19_1_4() {
        // Equivalent pairs from §19.1.4.
        let eq = [
            ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
            ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5"),
            (
                "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
            ),
            (
                "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
            ),
        ];
        for (a, b) in eq {
            assert!(sip(a).equivalent(&sip(b)), "{a} ~ {b}");
            assert!(sip(b).equivalent(&sip(a)), "{b} ~ {a}");
        }
        let ne = [
            ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
            ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
            ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
        ];
        for (a, b) in ne {
            assert!(!sip(a).equivalent(&sip(b)), "{a} !~ {b}");
        }
    }
}
