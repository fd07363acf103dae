//! The Q.931 layer 3 timers (§9, Tables 9-1 and 9-2) as data: names, default values and the
//! per-call set of running deadlines.

use std::fmt;
use std::time::{Duration, Instant};

/// The call control timers this stack runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Network: ALERTING received, waiting for CONNECT (N7).
    T301,
    /// Overlap receiving: waiting for the next INFORMATION (N2 / U25).
    T302,
    /// SETUP sent, waiting for any answer (U1 / N6).
    T303,
    /// DISCONNECT sent, waiting for RELEASE or DISCONNECT (U11 / N12).
    T305,
    /// Network: DISCONNECT with progress indicator #8 sent, in-band tones playing, waiting for
    /// RELEASE (N12, §5.3.4.1).
    T306,
    /// RELEASE sent, waiting for RELEASE COMPLETE (U19 / N19).
    T308,
    /// Data link lost with the call active: waiting for it to return (§5.8.9).
    T309,
    /// CALL PROCEEDING received, waiting for ALERTING, CONNECT or DISCONNECT (U3 / N9).
    T310,
    /// User: CONNECT sent, waiting for CONNECT ACKNOWLEDGE (U8).
    T313,
    /// RESTART sent, waiting for RESTART ACKNOWLEDGE (Rest 1).
    T316,
}

impl Timer {
    /// The per-call timers, in a fixed order that indexes [`TimerSet`].
    pub const CALL: [Timer; 9] = [
        Timer::T301,
        Timer::T302,
        Timer::T303,
        Timer::T305,
        Timer::T306,
        Timer::T308,
        Timer::T309,
        Timer::T310,
        Timer::T313,
    ];

    /// The timer's place in [`Timer::CALL`] (`None` for T316, which is not a call's).
    #[inline]
    fn index(self) -> Option<usize> {
        match self {
            Timer::T301 => Some(0),
            Timer::T302 => Some(1),
            Timer::T303 => Some(2),
            Timer::T305 => Some(3),
            Timer::T306 => Some(4),
            Timer::T308 => Some(5),
            Timer::T309 => Some(T309),
            Timer::T310 => Some(7),
            Timer::T313 => Some(8),
            Timer::T316 => None,
        }
    }
}

/// T309's place in [`Timer::CALL`].
const T309: usize = 6;

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The timer values of one D-channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub t301: Duration,
    pub t302: Duration,
    pub t303: Duration,
    pub t305: Duration,
    pub t306: Duration,
    pub t308: Duration,
    pub t309: Duration,
    pub t310: Duration,
    pub t313: Duration,
    pub t316: Duration,
}

impl Default for Timers {
    /// The default values of Q.931 Tables 9-1 and 9-2 (T310 at its lower bound, which is what
    /// ETSI EN 300 403 uses; libpri runs T309 at 6 s instead of 90 s).
    fn default() -> Timers {
        Timers {
            t301: Duration::from_secs(180),
            t302: Duration::from_secs(15),
            t303: Duration::from_secs(4),
            t305: Duration::from_secs(30),
            t306: Duration::from_secs(30),
            t308: Duration::from_secs(4),
            t309: Duration::from_secs(90),
            t310: Duration::from_secs(30),
            t313: Duration::from_secs(4),
            t316: Duration::from_secs(120),
        }
    }
}

impl Timers {
    pub fn value(&self, timer: Timer) -> Duration {
        match timer {
            Timer::T301 => self.t301,
            Timer::T302 => self.t302,
            Timer::T303 => self.t303,
            Timer::T305 => self.t305,
            Timer::T306 => self.t306,
            Timer::T308 => self.t308,
            Timer::T309 => self.t309,
            Timer::T310 => self.t310,
            Timer::T313 => self.t313,
            Timer::T316 => self.t316,
        }
    }
}

/// The running per-call timers, as deadlines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimerSet {
    deadlines: [Option<Instant>; 9],
}

impl TimerSet {
    #[inline]
    pub fn start(&mut self, timer: Timer, at: Instant) {
        if let Some(i) = timer.index() {
            self.deadlines[i] = Some(at);
        }
    }

    #[inline]
    pub fn stop(&mut self, timer: Timer) {
        if let Some(i) = timer.index() {
            self.deadlines[i] = None;
        }
    }

    /// Stops every timer except T309, which outlives state changes while the link is down.
    pub fn stop_all_but_t309(&mut self) {
        let t309 = self.deadlines[T309];
        self.deadlines = [None; Timer::CALL.len()];
        self.deadlines[T309] = t309;
    }

    #[inline]
    pub fn running(&self, timer: Timer) -> bool {
        timer.index().is_some_and(|i| self.deadlines[i].is_some())
    }

    pub fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// The earliest timer due at `now`, stopped as it is returned.
    pub fn expire(&mut self, now: Instant) -> Option<Timer> {
        let (i, _) = self
            .deadlines
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.map(|d| (i, d)))
            .filter(|(_, d)| *d <= now)
            .min_by_key(|(_, d)| *d)?;
        self.deadlines[i] = None;
        Some(Timer::CALL[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_timers_are_indexed_in_their_listed_order() {
        for (i, t) in Timer::CALL.into_iter().enumerate() {
            assert_eq!(t.index(), Some(i), "{t}");
        }
        assert_eq!(Timer::T316.index(), None);
    }

    #[test]
    fn stop_all_but_t309_keeps_t309_only() {
        let now = Instant::now();
        let mut set = TimerSet::default();
        for (i, t) in Timer::CALL.into_iter().enumerate() {
            set.start(t, now + Duration::from_secs(u64::try_from(i).unwrap_or(0) + 1));
        }
        set.stop_all_but_t309();
        for t in Timer::CALL {
            assert_eq!(set.running(t), t == Timer::T309, "{t}");
        }
        assert_eq!(set.next(), Some(now + Duration::from_secs(7)));
        set.stop_all_but_t309();
        assert!(set.running(Timer::T309));
    }
}
