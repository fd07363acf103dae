//! The little HTTP/1.x the berofos speaks, as pure functions: request heads (read by the
//! simulator), responses (read by the client), emitted both ways. Parsing never panics.

use std::fmt;

/// The largest request or response head either side reads.
pub const MAX_HEAD: usize = 8 * 1024;

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The head has no blank line yet (or is over `MAX_HEAD`).
    Incomplete,
    TooLarge,
    BadStartLine(String),
    BadHeader(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Incomplete => f.write_str("incomplete HTTP head"),
            HttpError::TooLarge => write!(f, "HTTP head over {MAX_HEAD} bytes"),
            HttpError::BadStartLine(l) => write!(f, "bad HTTP start line {l:?}"),
            HttpError::BadHeader(l) => write!(f, "bad HTTP header line {l:?}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// Where the head ends (the index just past the blank line), if it is complete.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
}

fn parse_headers<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Vec<(String, String)>, HttpError> {
    let mut headers = Vec::new();
    for line in lines {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let (name, value) =
            line.split_once(':').ok_or_else(|| HttpError::BadHeader(line.chars().take(80).collect()))?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(HttpError::BadHeader(line.chars().take(80).collect()));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(headers)
}

/// A request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Reads a complete head (through the blank line).
    pub fn parse(buf: &[u8]) -> Result<Request, HttpError> {
        let end =
            head_end(buf).ok_or(if buf.len() > MAX_HEAD { HttpError::TooLarge } else { HttpError::Incomplete })?;
        let text = std::str::from_utf8(&buf[..end]).map_err(|_| HttpError::BadStartLine("non-UTF-8 head".into()))?;
        let mut lines = text.split('\n');
        let start = lines.next().unwrap_or("").trim_end_matches('\r');
        let mut parts = start.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(HttpError::BadStartLine(start.chars().take(80).collect()));
        };
        if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
            return Err(HttpError::BadStartLine(start.chars().take(80).collect()));
        }
        Ok(Request { method: method.to_owned(), target: target.to_owned(), headers: parse_headers(lines)? })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The path and the decoded query pairs of the target.
    pub fn path_and_query(&self) -> (&str, Vec<(String, String)>) {
        split_target(&self.target)
    }
}

/// The first header called `name` (lower-case).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// `/path?a=1&b=x%20y` into the path and decoded pairs (a key without `=` has an empty value).
pub fn split_target(target: &str) -> (&str, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (super::vars::url_unescape(k), super::vars::url_unescape(v))
        })
        .collect();
    (path, pairs)
}

/// A response, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response { status, headers: vec![("content-type".into(), content_type.into())], body: body.into() }
    }

    pub fn with_header(mut self, name: &str, value: String) -> Response {
        self.headers.push((name.to_ascii_lowercase(), value));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Every value of a repeated header (several `WWW-Authenticate` challenges).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Reads a response that the server finished by closing the connection; a Content-Length
    /// shorter than what arrived cuts the body, a longer one is an incomplete response.
    pub fn parse(buf: &[u8]) -> Result<Response, HttpError> {
        let end = head_end(buf).ok_or(HttpError::Incomplete)?;
        let text = std::str::from_utf8(&buf[..end]).map_err(|_| HttpError::BadStartLine("non-UTF-8 head".into()))?;
        let mut lines = text.split('\n');
        let start = lines.next().unwrap_or("").trim_end_matches('\r');
        let mut parts = start.splitn(3, ' ');
        let status = match (parts.next(), parts.next()) {
            (Some(v), Some(code)) if v.starts_with("HTTP/1.") && code.len() == 3 => code.parse::<u16>().ok(),
            _ => None,
        }
        .ok_or_else(|| HttpError::BadStartLine(start.chars().take(80).collect()))?;
        let headers = parse_headers(lines)?;
        let mut body = buf[end..].to_vec();
        if let Some(len) = header(&headers, "content-length").and_then(|l| l.parse::<usize>().ok()) {
            if len > body.len() {
                return Err(HttpError::Incomplete);
            }
            body.truncate(len);
        }
        Ok(Response { status, headers, body })
    }

    /// The bytes on the wire (HTTP/1.0, the connection closes after it).
    pub fn emit(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let mut out = format!("HTTP/1.0 {} {reason}\r\n", self.status);
        for (n, v) in &self.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", self.body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trip() {
        let r =
            Request::parse(b"GET /?cmd=2&wintv=30&mto=a%40b HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eA==\r\n\r\n")
                .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.header("authorization"), Some("Basic eA=="));
        let (path, q) = r.path_and_query();
        assert_eq!(path, "/");
        assert_eq!(q, vec![("cmd".into(), "2".into()), ("wintv".into(), "30".into()), ("mto".into(), "a@b".into())]);
        assert_eq!(Request::parse(b"GET / HTTP/1.1\r\n"), Err(HttpError::Incomplete));
        assert!(matches!(Request::parse(b"GARBAGE\r\n\r\n"), Err(HttpError::BadStartLine(_))));
        assert!(matches!(Request::parse(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), Err(HttpError::BadHeader(_))));
    }

    #[test]
    fn response_round_trip() {
        let r = Response::new(401, "text/plain", "no").with_header("WWW-Authenticate", "Basic realm=\"x\"".into());
        let back = Response::parse(&r.emit()).unwrap();
        assert_eq!(back.status, 401);
        assert_eq!(back.body, b"no");
        assert_eq!(back.headers_named("www-authenticate").count(), 1);
        assert_eq!(Response::parse(b"HTTP/1.0 200 OK\r\ncontent-length: 9\r\n\r\nshort"), Err(HttpError::Incomplete));
        assert!(Response::parse(b"ICY 200 OK\r\n\r\n").is_err());
    }
}
