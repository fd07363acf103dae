//! Typed errors of HAL operations.

use std::fmt;
use std::io;

/// The class of a HAL failure, so callers can react without matching on text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The span or channel does not exist on this board.
    NoSuchSpan,
    /// The operation is not supported by this span or backend (see `Capabilities`).
    Unsupported,
    /// The settings are not valid for this span.
    InvalidConfig,
    /// The frame does not fit (too long or empty).
    BadFrame,
    /// A queue is full; try again on the next tick.
    WouldBlock,
    /// The line is down (no peer on a cable socket).
    Disconnected,
    /// The operating system refused.
    Io,
}

/// A failed HAL operation: what was being done and why it failed.
#[derive(Debug)]
pub struct HalError {
    pub kind: ErrorKind,
    /// The operation, in a few words ("connect cable socket /run/x").
    pub op: String,
    pub source: Option<io::Error>,
}

impl HalError {
    /// An error of `kind` while doing `op`.
    pub fn new(kind: ErrorKind, op: impl Into<String>) -> HalError {
        HalError { kind, op: op.into(), source: None }
    }

    /// An operating-system error while doing `op`.
    pub fn io(op: impl Into<String>, source: io::Error) -> HalError {
        HalError { kind: ErrorKind::Io, op: op.into(), source: Some(source) }
    }
}

impl fmt::Display for HalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(e) => write!(f, "{}: {e}", self.op),
            None => write!(f, "{}: {:?}", self.op, self.kind),
        }
    }
}

impl std::error::Error for HalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}
