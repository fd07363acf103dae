//! Splits a SIP byte stream (TCP, TLS) into messages by Content-Length (RFC 3261 §18.3).
//!
//! Incremental: push whatever the socket gave, then take complete messages out. It never
//! panics and never grows past its limit; an error means the stream has lost its framing and
//! the connection should be closed. Between messages it counts RFC 5626 §3.5.1 keep-alive
//! pings (a double CRLF), which the connection answers with a single CRLF pong, and it keeps
//! the header part of a message that came without Content-Length so that it can still be
//! answered with 400 before the connection is closed (§18.3).

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
    /// Line ends seen in a row between messages: two make a ping.
    blank_lines: u8,
    pings: u32,
    /// The header part of the message that ended the stream without Content-Length.
    rejected: Option<Vec<u8>>,
}

impl StreamFramer {
    /// A framer refusing messages longer than `max` bytes.
    pub fn new(max: usize) -> StreamFramer {
        StreamFramer { buf: Vec::new(), max, failed: None, blank_lines: 0, pings: 0, rejected: None }
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
        // CRLF keep-alives between messages (RFC 5626 §3.5.1) are dropped; each double CRLF
        // is a ping to answer. Counting line feeds keeps a ping split across reads whole.
        let skip = skip_leading_crlf(&self.buf);
        for &b in &self.buf[..skip] {
            if b == b'\n' {
                self.blank_lines += 1;
                if self.blank_lines == 2 {
                    self.blank_lines = 0;
                    self.pings = self.pings.saturating_add(1);
                }
            }
        }
        self.buf.drain(..skip);
        if !self.buf.is_empty() {
            // A message has started: a lone CRLF before it was only padding.
            self.blank_lines = 0;
        }
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
            let head = self.buf[..body_start].to_vec();
            let e = self.fail(FramerError::NoContentLength);
            self.rejected = Some(head);
            return Some(Err(e));
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

    /// How many keep-alive pings (double CRLF between messages) arrived since the last call;
    /// each wants a CRLF pong (RFC 5626 §3.5.1).
    pub fn take_pings(&mut self) -> u32 {
        std::mem::take(&mut self.pings)
    }

    /// The header part of the message that had no Content-Length, once, to answer it with 400.
    pub fn take_rejected(&mut self) -> Option<Vec<u8>> {
        self.rejected.take()
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
        // The leading double CRLF is one ping; the lone CRLF between B and A is padding.
        assert_eq!(f.take_pings(), 1);
        assert_eq!(f.take_pings(), 0);
    }

    #[test]
    fn pings_are_counted_however_they_are_cut() {
        for cut in 1..8 {
            let stream: Vec<u8> = [b"\r\n\r\n\r\n\r\n".as_slice(), B, b"\r\n\r\n", b"\r\n"].concat();
            let mut f = StreamFramer::new(4096);
            let mut messages = 0;
            for piece in stream.chunks(cut) {
                f.push(piece);
                while let Some(m) = f.next_message() {
                    assert_eq!(m.unwrap(), B);
                    messages += 1;
                }
            }
            // Two pings before B, one after it; the trailing lone CRLF is half a ping.
            assert_eq!((messages, f.take_pings()), (1, 3), "cut {cut}");
        }
    }

    #[test]
    fn a_message_without_content_length_is_kept_for_its_400() {
        let mut f = StreamFramer::new(4096);
        f.push(b"OPTIONS sip:gw SIP/2.0\r\nCall-ID: x\r\n\r\ntrailing");
        assert_eq!(f.next_message(), Some(Err(FramerError::NoContentLength)));
        assert_eq!(f.take_rejected().as_deref(), Some(b"OPTIONS sip:gw SIP/2.0\r\nCall-ID: x\r\n\r\n".as_slice()));
        assert_eq!(f.take_rejected(), None);
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
