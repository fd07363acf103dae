//! Splits a SIP byte stream (TCP, TLS) into messages by Content-Length (RFC 3261 §18.3).
//!
//! Incremental: push whatever the socket gave, then take complete messages out. It never
//! panics and never grows past its limit; an error means the stream has lost its framing and
//! the connection should be closed.

use std::fmt;

use super::header::{canonical_name, parse_decimal};
use super::message::{find_header_end, skip_leading_crlf};

/// Why a stream cannot be framed any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramerError {
    /// The header part, or the whole message, is larger than the limit.
    TooLarge,
    /// A stream message must carry Content-Length (§18.3).
    NoContentLength,
    BadContentLength,
}

impl fmt::Display for FramerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramerError::TooLarge => write!(f, "message larger than the limit"),
            FramerError::NoContentLength => write!(f, "stream message without Content-Length"),
            FramerError::BadContentLength => write!(f, "bad Content-Length"),
        }
    }
}

impl std::error::Error for FramerError {}

/// The stream framer of one connection.
#[derive(Debug)]
pub struct StreamFramer {
    buf: Vec<u8>,
    max: usize,
    failed: Option<FramerError>,
}

impl StreamFramer {
    /// A framer refusing messages longer than `max` bytes.
    pub fn new(max: usize) -> StreamFramer {
        StreamFramer { buf: Vec::new(), max, failed: None }
    }

    /// Appends received bytes. The buffer never holds more than twice the limit (a message
    /// and the start of the next); pushing past that ends the stream with `TooLarge`, so
    /// call `next_message` after each read.
    pub fn push(&mut self, data: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.buf.len().saturating_add(data.len()) > self.max.saturating_mul(2) {
            self.fail(FramerError::TooLarge);
            return;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete message's bytes, `None` when more input is needed, or the error that
    /// ends this stream (returned again on every later call).
    pub fn next_message(&mut self) -> Option<Result<Vec<u8>, FramerError>> {
        if let Some(e) = &self.failed {
            return Some(Err(e.clone()));
        }
        // CRLF keep-alives between messages (RFC 5626 §3.5.1) are dropped.
        let skip = skip_leading_crlf(&self.buf);
        self.buf.drain(..skip);
        let Some((head_end, body_start)) = find_header_end(&self.buf) else {
            return if self.buf.len() > self.max { Some(Err(self.fail(FramerError::TooLarge))) } else { None };
        };
        let head = &self.buf[..head_end];
        let mut length = None;
        for line in head.split(|&b| b == b'\n').skip(1) {
            let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
            let name = String::from_utf8_lossy(&line[..colon]);
            if canonical_name(name.trim()) == "content-length" {
                let value = String::from_utf8_lossy(&line[colon + 1..]);
                match parse_decimal(value.trim(), u32::MAX).ok().and_then(|v| usize::try_from(v).ok()) {
                    Some(v) => length = Some(v),
                    None => return Some(Err(self.fail(FramerError::BadContentLength))),
                }
            }
        }
        let Some(length) = length else {
            return Some(Err(self.fail(FramerError::NoContentLength)));
        };
        let total = body_start.saturating_add(length);
        if total > self.max {
            return Some(Err(self.fail(FramerError::TooLarge)));
        }
        if self.buf.len() < total {
            return None;
        }
        let rest = self.buf.split_off(total);
        Some(Ok(std::mem::replace(&mut self.buf, rest)))
    }

    fn fail(&mut self, e: FramerError) -> FramerError {
        self.failed = Some(e.clone());
        self.buf = Vec::new();
        e
    }

    /// Bytes held waiting for the rest of a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &[u8] = b"OPTIONS sip:gw SIP/2.0\r\nl: 4\r\n\r\nbody";
    const B: &[u8] = b"BYE sip:gw SIP/2.0\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn splits_byte_by_byte() {
        let stream: Vec<u8> = [b"\r\n\r\n".as_slice(), A, B, b"\r\n", A].concat();
        let mut f = StreamFramer::new(4096);
        let mut got = Vec::new();
        for b in &stream {
            f.push(std::slice::from_ref(b));
            while let Some(m) = f.next_message() {
                got.push(m.unwrap());
            }
        }
        assert_eq!(got, vec![A.to_vec(), B.to_vec(), A.to_vec()]);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn errors_are_sticky() {
        let mut f = StreamFramer::new(4096);
        f.push(b"BYE sip:gw SIP/2.0\r\nCall-ID: x\r\n\r\n");
        assert_eq!(f.next_message(), Some(Err(FramerError::NoContentLength)));
        f.push(B);
        assert_eq!(f.next_message(), Some(Err(FramerError::NoContentLength)));
        let mut f = StreamFramer::new(4096);
        f.push(b"BYE sip:gw SIP/2.0\r\nContent-Length: -1\r\n\r\n");
        assert_eq!(f.next_message(), Some(Err(FramerError::BadContentLength)));
        let mut f = StreamFramer::new(100);
        f.push(b"BYE sip:gw SIP/2.0\r\nContent-Length: 1000\r\n\r\n");
        assert_eq!(f.next_message(), Some(Err(FramerError::TooLarge)));
        let mut f = StreamFramer::new(100);
        f.push(&[b'x'; 300]);
        assert_eq!(f.next_message(), Some(Err(FramerError::TooLarge)));
    }
}
