//! SIP messages (RFC 3261 §7, §20, §25): parse one datagram into a [`Message`], serialise it
//! back, and a one-line trace `Display`.
//!
//! Headers are kept as text in their order with the name as written (compact forms stay
//! compact), so serialising gives back what came in apart from folding and the whitespace
//! around each colon.
//! Parsing checks the start line, every header line, and the typed value of the headers the
//! stack cannot work without (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length,
//! Contact). A request whose header lines are sound but one of those values is not, or whose
//! request line is only badly spaced, comes back inside the error ([`ParseError::answerable`])
//! so the stack can send 400 (§21.4.1) instead of dropping it. A version other than SIP/2.0
//! parses, for the stack to answer 505.

use std::fmt;

use super::header::{
    canonical_name, is_list_header, is_token, parse_decimal, split_list, AuthParams, CSeq, Contacts, HeaderError,
    Method, NameAddr, Reason, Via,
};
use super::uri::{Uri, UriError};

/// One header line: the name as written, its value with folding undone, and the lower-case
/// long name used for lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    name: String,
    pub value: String,
    key: String,
}

impl Header {
    pub fn new(name: &str, value: &str) -> Header {
        Header { name: name.to_owned(), value: value.to_owned(), key: canonical_name(name) }
    }

    /// The name as written (`v`, `VIA`, `Via`...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lower-case long form of the name (`v` gives `via`).
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// What identifies a transaction (see [`Message::transaction_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    pub branch: String,
    pub sent_by: String,
    pub method: Method,
}

/// The first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: Method, uri: Uri, version: String },
    Response { version: String, code: u16, reason: String },
}

/// A parsed or built SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

/// What was wrong with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Nothing but line ends.
    Empty,
    /// The start line and headers are not UTF-8 text.
    NotUtf8,
    /// No empty line ends the headers.
    NoEndOfHeaders,
    /// The start line is neither a request line nor a status line; the text says why.
    BadStartLine(&'static str),
    BadRequestUri(UriError),
    /// A header line without a colon or with a name that is not a token.
    BadHeaderLine,
    /// A header the message must carry is missing.
    MissingHeader(&'static str),
    /// The same single-valued header appears twice (Call-ID, CSeq, From, To...).
    DuplicateHeader(&'static str),
    BadHeaderValue {
        header: String,
        error: HeaderError,
    },
    /// CSeq names another method than the request line.
    CseqMethodMismatch,
    /// Content-Length says more bytes than the datagram holds.
    ContentLengthTooLarge {
        declared: u32,
        available: usize,
    },
}

/// A refused message: what, where (the 1-based line of the header part, 0 for the body or the
/// whole), and the request itself when it can still be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ErrorKind,
    pub line: usize,
    answerable: Option<Box<Message>>,
}

impl ParseError {
    fn new(kind: ErrorKind, line: usize) -> ParseError {
        ParseError { kind, line, answerable: None }
    }

    /// The request as far as it parsed, when its header lines are sound and its request line
    /// could be read (leniently, if it was the request line that was wrong): the stack answers
    /// it with 400 using its Via, From, To, Call-ID and CSeq. `None` for responses and for
    /// anything too broken to answer.
    pub fn answerable(&self) -> Option<&Message> {
        self.answerable.as_deref()
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Empty => write!(f, "empty message"),
            ErrorKind::NotUtf8 => write!(f, "header part is not UTF-8"),
            ErrorKind::NoEndOfHeaders => write!(f, "no empty line after the headers"),
            ErrorKind::BadStartLine(why) => write!(f, "bad start line: {why}"),
            ErrorKind::BadRequestUri(e) => write!(f, "bad Request-URI: {e}"),
            ErrorKind::BadHeaderLine => write!(f, "bad header line"),
            ErrorKind::MissingHeader(h) => write!(f, "missing {h} header"),
            ErrorKind::DuplicateHeader(h) => write!(f, "more than one {h} header"),
            ErrorKind::BadHeaderValue { header, error } => write!(f, "bad {header} header: {error}"),
            ErrorKind::CseqMethodMismatch => write!(f, "CSeq method differs from the request method"),
            ErrorKind::ContentLengthTooLarge { declared, available } => {
                write!(f, "Content-Length {declared} but only {available} body bytes")
            }
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.kind)
        } else {
            write!(f, "{}", self.kind)
        }
    }
}

impl std::error::Error for ParseError {}

/// Finds the end of the header part: the index of the empty line's first byte and the index
/// where the body starts. Bare LF line ends are accepted as many stacks send them.
pub(crate) fn find_header_end(data: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(off) = data[i..].iter().position(|&b| b == b'\n') {
        let nl = i + off;
        match data.get(nl + 1) {
            Some(b'\n') => return Some((nl + 1, nl + 2)),
            Some(b'\r') if data.get(nl + 2) == Some(&b'\n') => return Some((nl + 1, nl + 3)),
            _ => i = nl + 1,
        }
    }
    None
}

/// Leading CRLFs before a message are ignored (§7.5; keep-alives on streams).
pub(crate) fn skip_leading_crlf(data: &[u8]) -> usize {
    data.iter().take_while(|&&b| b == b'\r' || b == b'\n').count()
}

/// Headers that may appear once at most (§20 and §7.3.1: they are not lists).
const SINGLE: &[(&str, &str)] = &[
    ("call-id", "Call-ID"),
    ("cseq", "CSeq"),
    ("from", "From"),
    ("to", "To"),
    ("max-forwards", "Max-Forwards"),
    ("content-length", "Content-Length"),
    ("content-type", "Content-Type"),
];

impl Message {
    /// Parses one whole message, as a UDP datagram carries it (§18.3: bytes past
    /// Content-Length are dropped; without Content-Length the body is the rest).
    pub fn parse(data: &[u8]) -> Result<Message, ParseError> {
        let data = &data[skip_leading_crlf(data)..];
        if data.is_empty() {
            return Err(ParseError::new(ErrorKind::Empty, 0));
        }
        let (head_end, body_start) = find_header_end(data).ok_or(ParseError::new(ErrorKind::NoEndOfHeaders, 0))?;
        let head = std::str::from_utf8(&data[..head_end]).map_err(|_| ParseError::new(ErrorKind::NotUtf8, 0))?;
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        // The last split piece is the empty text after the final line end.
        let start_text = lines.next().unwrap_or("");
        // A request line broken only in its spacing or by angle brackets around the URI
        // (RFC 4475 §3.1.2.7-10) is still read leniently, so that the request can be
        // answered with 400 rather than dropped; the strict error is what is reported.
        let (start, start_error) = match parse_start_line(start_text) {
            Ok(s) => (s, None),
            Err(k) => match lenient_request_line(start_text) {
                Some(s) => (s, Some(k)),
                None => return Err(ParseError::new(k, 1)),
            },
        };

        let mut headers: Vec<Header> = Vec::new();
        let mut header_lines: Vec<usize> = Vec::new();
        for (i, line) in lines.enumerate() {
            let lineno = i + 2;
            if line.is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                // Folding (§7.3.1): a continuation line joins the previous value with one space.
                let last = headers.last_mut().ok_or(ParseError::new(ErrorKind::BadHeaderLine, lineno))?;
                let more = line.trim();
                if !more.is_empty() {
                    if !last.value.is_empty() {
                        last.value.push(' ');
                    }
                    last.value.push_str(more);
                }
                continue;
            }
            let (name, value) = line.split_once(':').ok_or(ParseError::new(ErrorKind::BadHeaderLine, lineno))?;
            // The name may be followed by whitespace before the colon (HCOLON).
            let name = name.trim_end_matches([' ', '\t']);
            if !is_token(name) {
                return Err(ParseError::new(ErrorKind::BadHeaderLine, lineno));
            }
            headers.push(Header::new(name, value.trim()));
            header_lines.push(lineno);
        }

        let available = data.len() - body_start;
        let mut msg = Message { start, headers, body: Vec::new() };
        let is_request = matches!(msg.start, StartLine::Request { .. });
        let fail = |msg: Message, kind: ErrorKind, line: usize| ParseError {
            kind,
            line,
            answerable: if is_request { Some(Box::new(msg)) } else { None },
        };
        if let Some(kind) = start_error {
            msg.body = data[body_start..].to_vec();
            return Err(fail(msg, kind, 1));
        }
        let body_len = match msg.validate(&header_lines) {
            Ok(Some(cl)) if usize::try_from(cl).map_or(true, |cl| cl > available) => {
                let line = msg.headers.iter().position(|h| h.key == "content-length").map_or(0, |i| header_lines[i]);
                msg.body = data[body_start..].to_vec();
                return Err(fail(msg, ErrorKind::ContentLengthTooLarge { declared: cl, available }, line));
            }
            Ok(Some(cl)) => usize::try_from(cl).unwrap_or(available),
            Ok(None) => available,
            Err((kind, line)) => {
                msg.body = data[body_start..].to_vec();
                return Err(fail(msg, kind, line));
            }
        };
        msg.body = data[body_start..body_start + body_len].to_vec();
        Ok(msg)
    }

    /// Checks the typed values the stack relies on. Returns Content-Length when present.
    fn validate(&self, lines: &[usize]) -> Result<Option<u32>, (ErrorKind, usize)> {
        let line_of = |key: &str| self.headers.iter().position(|h| h.key == key).map_or(0, |i| lines[i]);
        let bad = |h: &Header, i: usize, error: HeaderError| {
            (ErrorKind::BadHeaderValue { header: h.name.clone(), error }, lines[i])
        };
        for (key, name) in SINGLE {
            if self.headers.iter().filter(|h| h.key == *key).count() > 1 {
                let second =
                    self.headers.iter().enumerate().filter(|(_, h)| h.key == *key).nth(1).map_or(0, |(i, _)| lines[i]);
                return Err((ErrorKind::DuplicateHeader(name), second));
            }
        }
        for (key, name) in [("via", "Via"), ("from", "From"), ("to", "To"), ("call-id", "Call-ID"), ("cseq", "CSeq")] {
            if !self.headers.iter().any(|h| h.key == key) {
                return Err((ErrorKind::MissingHeader(name), 0));
            }
        }
        let mut content_length = None;
        for (i, h) in self.headers.iter().enumerate() {
            let r: Result<(), HeaderError> = match h.key.as_str() {
                "via" => split_list(&h.value)
                    .and_then(|l| if l.is_empty() { Err(HeaderError::Empty) } else { Ok(l) })
                    .and_then(|l| l.into_iter().try_for_each(|v| Via::parse(v).map(drop))),
                "from" | "to" => NameAddr::parse(&h.value).map(drop),
                "call-id" => {
                    // callid = word ["@" word]: no whitespace, not empty.
                    if h.value.is_empty() || h.value.contains(char::is_whitespace) {
                        Err(HeaderError::Malformed("Call-ID must be one word"))
                    } else {
                        Ok(())
                    }
                }
                "cseq" => CSeq::parse(&h.value).map(drop),
                "max-forwards" => parse_decimal(&h.value, 255).map(drop),
                "content-length" => parse_decimal(&h.value, u32::MAX).map(|v| content_length = Some(v)),
                "contact" => Contacts::parse(&h.value).map(drop),
                "route" | "record-route" => {
                    split_list(&h.value).and_then(|l| l.into_iter().try_for_each(|v| NameAddr::parse(v).map(drop)))
                }
                "expires" => parse_decimal(&h.value, u32::MAX).map(drop),
                "retry-after" => parse_decimal(h.value.split([';', '(', ' ']).next().unwrap_or(""), u32::MAX).map(drop),
                "content-type" => {
                    let mt = h.value.split(';').next().unwrap_or("");
                    match mt.split_once('/') {
                        Some((t, s)) if is_token(t.trim()) && is_token(s.trim()) => Ok(()),
                        _ => Err(HeaderError::Malformed("not a media type")),
                    }
                }
                _ => Ok(()),
            };
            r.map_err(|e| bad(h, i, e))?;
        }
        if let StartLine::Request { method, uri, .. } = &self.start {
            // RFC 4475 §3.1.2.11: URI headers are for building a request, never in one.
            if uri.as_sip().is_some_and(|u| !u.headers.is_empty()) {
                return Err((ErrorKind::BadStartLine("Request-URI with headers"), 1));
            }
            let cseq = self.cseq().ok_or((ErrorKind::MissingHeader("CSeq"), 0))?;
            if cseq.method != *method {
                return Err((ErrorKind::CseqMethodMismatch, line_of("cseq")));
            }
        }
        Ok(content_length)
    }

    /// A request with no headers yet.
    pub fn request(method: Method, uri: Uri) -> Message {
        Message {
            start: StartLine::Request { method, uri, version: "SIP/2.0".to_owned() },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response to `req` (§8.2.6.2): its Via headers, From, To, Call-ID and CSeq copied in
    /// order. The caller adds a To tag when the response creates or belongs to a dialog.
    pub fn response_to(req: &Message, code: u16, reason: &str) -> Message {
        let headers = req
            .headers
            .iter()
            .filter(|h| matches!(h.key.as_str(), "via" | "from" | "to" | "call-id" | "cseq"))
            .cloned()
            .collect();
        Message {
            start: StartLine::Response { version: "SIP/2.0".to_owned(), code, reason: reason.to_owned() },
            headers,
            body: Vec::new(),
        }
    }

    /// Appends a header.
    pub fn push_header(&mut self, name: &str, value: impl fmt::Display) {
        self.headers.push(Header::new(name, &value.to_string()));
    }

    /// Replaces every header with this name (in any form) by one, at the first one's place.
    pub fn set_header(&mut self, name: &str, value: impl fmt::Display) {
        let key = canonical_name(name);
        let new = Header::new(name, &value.to_string());
        match self.headers.iter().position(|h| h.key == key) {
            Some(i) => {
                self.headers[i] = new;
                let mut j = 0;
                self.headers.retain(|h| {
                    j += 1;
                    j - 1 == i || h.key != key
                });
            }
            None => self.headers.push(new),
        }
    }

    /// Sets the body with its Content-Type, and Content-Length to match.
    pub fn set_body(&mut self, content_type: &str, body: Vec<u8>) {
        self.set_header("Content-Type", content_type);
        self.body = body;
        self.set_header("Content-Length", self.body.len());
    }

    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// Every header with this name (long or compact, any case), in order.
    pub fn headers_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Header> + 'a {
        let key = canonical_name(name);
        self.headers.iter().filter(move |h| h.key == key)
    }

    /// The first header value with this name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers_named(name).next().map(|h| h.value.as_str())
    }

    /// Every element of a list header across repeated lines (`Allow: A, B` + `Allow: C`).
    /// Elements of a value that fails to split are skipped.
    pub fn header_list(&self, name: &str) -> Vec<&str> {
        let key = canonical_name(name);
        let list = is_list_header(&key);
        self.headers
            .iter()
            .filter(|h| h.key == key)
            .flat_map(|h| if list { split_list(&h.value).unwrap_or_default() } else { vec![h.value.as_str()] })
            .collect()
    }

    pub fn call_id(&self) -> Option<&str> {
        self.header("call-id")
    }

    pub fn cseq(&self) -> Option<CSeq> {
        self.header("cseq").and_then(|v| CSeq::parse(v).ok())
    }

    pub fn from(&self) -> Option<NameAddr> {
        self.header("from").and_then(|v| NameAddr::parse(v).ok())
    }

    pub fn to(&self) -> Option<NameAddr> {
        self.header("to").and_then(|v| NameAddr::parse(v).ok())
    }

    /// Every Via value, topmost first.
    pub fn vias(&self) -> Vec<Via> {
        self.header_list("via").into_iter().filter_map(|v| Via::parse(v).ok()).collect()
    }

    /// The Contact header(s): `*` or every contact across repeated lines.
    pub fn contacts(&self) -> Option<Contacts> {
        let values: Vec<&str> = self.headers_named("contact").map(|h| h.value.as_str()).collect();
        if values.is_empty() {
            return None;
        }
        if values.len() == 1 {
            return Contacts::parse(values[0]).ok();
        }
        let mut all = Vec::new();
        for v in values {
            match Contacts::parse(v).ok()? {
                Contacts::List(l) => all.extend(l),
                // `*` together with other contacts is invalid (§10.2.2).
                Contacts::Star => return None,
            }
        }
        Some(Contacts::List(all))
    }

    /// Route or Record-Route entries in order.
    pub fn routes(&self, name: &str) -> Vec<NameAddr> {
        self.header_list(name).into_iter().filter_map(|v| NameAddr::parse(v).ok()).collect()
    }

    pub fn max_forwards(&self) -> Option<u32> {
        self.header("max-forwards").and_then(|v| parse_decimal(v, 255).ok())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// Option tags of Require, Supported, Unsupported or Proxy-Require.
    pub fn option_tags(&self, name: &str) -> Vec<&str> {
        self.header_list(name)
    }

    /// The first Q.850 Reason (RFC 3326), if any.
    pub fn q850_reason(&self) -> Option<Reason> {
        self.header_list("reason").into_iter().filter_map(|v| Reason::parse(v).ok()).find(|r| r.q850_cause().is_some())
    }

    /// Authentication headers (WWW-Authenticate, Authorization, Proxy-*) parsed into parameters.
    pub fn auth(&self, name: &str) -> Vec<AuthParams> {
        self.headers_named(name).filter_map(|h| AuthParams::parse(&h.value).ok()).collect()
    }

    /// The key that matches a message to its transaction (§17.1.3, §17.2.3): the top Via's
    /// branch and sent-by and the CSeq method, ACK and CANCEL counted as their own methods
    /// (the stack matches an ACK to its INVITE transaction through the branch and INVITE).
    /// `None` without an RFC 3261 branch (`z9hG4bK`): RFC 2543 peers need the older rules.
    pub fn transaction_key(&self) -> Option<TransactionKey> {
        let via = self.vias().into_iter().next()?;
        if !via.is_rfc3261_branch() {
            return None;
        }
        let sent_by = match via.port {
            Some(p) => format!("{}:{p}", via.host),
            None => via.host.to_string(),
        };
        Some(TransactionKey {
            // The branch compares case-sensitively as written; sent-by as a host compares
            // case-insensitively, so it is lowered.
            branch: via.branch().unwrap_or_default().to_owned(),
            sent_by: sent_by.to_ascii_lowercase(),
            method: self.cseq()?.method,
        })
    }

    /// Serialises the message. Content-Length is written as the headers hold it; `set_body`
    /// keeps it right for built messages.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        self.write_to(&mut out);
        out
    }

    pub fn write_to(&self, out: &mut Vec<u8>) {
        match &self.start {
            StartLine::Request { method, uri, version } => {
                out.extend_from_slice(format!("{method} {uri} {version}\r\n").as_bytes());
            }
            StartLine::Response { version, code, reason } => {
                out.extend_from_slice(format!("{version} {code} {reason}\r\n").as_bytes());
            }
        }
        for h in &self.headers {
            out.extend_from_slice(h.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(h.value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }
}

fn parse_start_line(line: &str) -> Result<StartLine, ErrorKind> {
    // Exactly one SP between the three elements (§7.1, RFC 4475 §3.1.2.11 lets us refuse more).
    let mut parts = line.splitn(3, ' ');
    let (a, b, c) = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        // A status line without the SP before an empty reason phrase: tolerated.
        (Some(a), Some(b), None) if is_sip_version(a) => (a, b, ""),
        _ => return Err(ErrorKind::BadStartLine("fewer than three elements")),
    };
    if is_sip_version(a) {
        if b.len() != 3 || !b.bytes().all(|x| x.is_ascii_digit()) {
            return Err(ErrorKind::BadStartLine("status code is not three digits"));
        }
        let code: u16 = b.parse().map_err(|_| ErrorKind::BadStartLine("bad status code"))?;
        if !(100..=699).contains(&code) {
            return Err(ErrorKind::BadStartLine("status code outside 100-699"));
        }
        if c.chars().any(|ch| ch.is_control() && ch != '\t') {
            return Err(ErrorKind::BadStartLine("control character in reason phrase"));
        }
        return Ok(StartLine::Response { version: a.to_owned(), code, reason: c.to_owned() });
    }
    let method = Method::parse(a).ok_or(ErrorKind::BadStartLine("method is not a token"))?;
    if b.is_empty() {
        return Err(ErrorKind::BadStartLine("empty Request-URI"));
    }
    if !is_sip_version(c) {
        return Err(ErrorKind::BadStartLine("no SIP version at the end"));
    }
    let uri = Uri::parse(b).map_err(ErrorKind::BadRequestUri)?;
    Ok(StartLine::Request { method, uri, version: c.to_owned() })
}

/// The request line read with any whitespace between elements, the URI's pieces joined and
/// angle brackets dropped; `None` unless that gives a method, a URI and a SIP version.
fn lenient_request_line(line: &str) -> Option<StartLine> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    let (first, rest) = parts.split_first()?;
    let (last, middle) = rest.split_last()?;
    if middle.is_empty() || !is_sip_version(last) {
        return None;
    }
    let method = Method::parse(first)?;
    let joined = middle.concat();
    let inner = joined.strip_prefix('<').and_then(|u| u.strip_suffix('>')).unwrap_or(&joined);
    let uri = Uri::parse(inner).ok()?;
    Some(StartLine::Request { method, uri, version: (*last).to_owned() })
}

/// `SIP/1*DIGIT.1*DIGIT`, case-insensitive. Versions other than 2.0 parse so that the stack
/// can answer 505 (RFC 4475 §3.1.2.16).
fn is_sip_version(s: &str) -> bool {
    s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
        && s[4..].split_once('.').is_some_and(|(maj, min)| {
            !maj.is_empty()
                && !min.is_empty()
                && maj.bytes().all(|b| b.is_ascii_digit())
                && min.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The trace line: `INVITE sip:1234@gw;transport=udp cseq=1 INVITE call-id=...` or
/// `200 OK cseq=1 INVITE call-id=...`, plus the body length when there is one.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.start {
            StartLine::Request { method, uri, .. } => write!(f, "{method} {uri}")?,
            StartLine::Response { code, reason, .. } => write!(f, "{code} {reason}")?,
        }
        if let Some(c) = self.header("cseq") {
            write!(f, " cseq={c}")?;
        }
        if let Some(c) = self.call_id() {
            write!(f, " call-id={c}")?;
        }
        if !self.body.is_empty() {
            write!(f, " body={}B", self.body.len())?;
        }
        Ok(())
    }
}
