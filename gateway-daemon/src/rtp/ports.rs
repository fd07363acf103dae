//! The RTP port allocator: an even RTP port per stream with RTCP on the next odd one, from a
//! configurable range, round robin, and a quarantine after release so that late packets of an
//! ended call never reach the next call on the same port.

use std::fmt;
use std::time::{Duration, Instant};

/// Why no port pair could be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortError {
    /// The range holds no even port whose odd neighbour is in the range too.
    EmptyRange { first: u16, last: u16 },
    /// Every pair is in use or in quarantine.
    Exhausted { pairs: usize },
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortError::EmptyRange { first, last } => write!(f, "RTP port range {first}-{last} holds no even/odd pair"),
            PortError::Exhausted { pairs } => write!(f, "all {pairs} RTP port pairs are in use or in quarantine"),
        }
    }
}

impl std::error::Error for PortError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pair {
    Free,
    InUse,
    /// Released; usable again from this instant.
    Quarantine(Instant),
}

/// Hands out RTP/RTCP port pairs.
#[derive(Debug)]
pub struct PortAllocator {
    base: u16,
    pairs: Vec<Pair>,
    next: usize,
    quarantine: Duration,
}

impl PortAllocator {
    /// `first..=last` as configured (e.g. 10000-20000); `quarantine` is how long a released pair
    /// rests before reuse.
    pub fn new(first: u16, last: u16, quarantine: Duration) -> Result<Self, PortError> {
        let base = first.saturating_add(first % 2);
        if base == u16::MAX || last <= base {
            return Err(PortError::EmptyRange { first, last });
        }
        let n = usize::from((last - base).div_ceil(2));
        Ok(PortAllocator { base, pairs: vec![Pair::Free; n], next: 0, quarantine })
    }

    /// Number of pairs in the range.
    pub fn capacity(&self) -> usize {
        self.pairs.len()
    }

    /// Pairs in use now (not counting those in quarantine).
    pub fn in_use(&self) -> usize {
        self.pairs.iter().filter(|p| **p == Pair::InUse).count()
    }

    /// The next free pair, round robin from the last one handed out: returns the RTP port (even);
    /// RTCP is that plus one.
    pub fn allocate(&mut self, now: Instant) -> Result<u16, PortError> {
        let n = self.pairs.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            let free = match self.pairs[i] {
                Pair::Free => true,
                Pair::InUse => false,
                Pair::Quarantine(until) => now >= until,
            };
            if free {
                self.pairs[i] = Pair::InUse;
                self.next = (i + 1) % n;
                return Ok(self.port(i));
            }
        }
        Err(PortError::Exhausted { pairs: n })
    }

    /// Gives back the pair of `rtp_port`; unknown or already free ports are ignored.
    pub fn release(&mut self, now: Instant, rtp_port: u16) {
        let Some(off) = rtp_port.checked_sub(self.base) else { return };
        if off % 2 != 0 {
            return;
        }
        if let Some(p) = self.pairs.get_mut(usize::from(off / 2)) {
            if *p == Pair::InUse {
                *p = Pair::Quarantine(now + self.quarantine);
            }
        }
    }

    fn port(&self, i: usize) -> u16 {
        // i < pairs.len() <= (last - base + 1) / 2, so base + 2i <= last fits in u16.
        self.base + u16::try_from(2 * i).unwrap_or(0)
    }
}
