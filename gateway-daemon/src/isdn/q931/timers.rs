//! The Q.931 layer 3 timers (§9, Tables 9-1 and 9-2) as data: names, default values and the
//! per-call set of running deadlines.

use std::fmt;
use std::time::{Duration, Instant};

/// The call control timers this stack runs, ordered by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// The per-call timers, in order.
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
}

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

/// The running per-call timers, as deadlines: one slot for the timer of the call's state and
/// one for T309.
///
/// Q.931 ties every call timer but T309 to the states it runs in (Tables 9-1 and 9-2) and stops
/// the timers of a state when the call leaves it, so a call runs at most one of them at a time;
/// T309 runs beside it, across states, while the data link is down (§5.8.9). The state table
/// stops a state's timer before it starts the next state's (every arm does, or restarts the same
/// timer), and a debug build asserts it on every start, which the unit and end-to-end suites run
/// through; a release build lets the newer timer win. Two slots instead of one per timer keep the
/// call record small. Timers that Q.931 runs beside a state timer in any state (T322 after STATUS
/// ENQUIRY, T312 beside T303/T310 on a broadcast SETUP) are not implemented; adding one needs a
/// slot of its own here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimerSet {
    /// The running timer of the call's state and its deadline.
    state: Option<(Timer, Instant)>,
    t309: Option<Instant>,
}

impl TimerSet {
    /// Starts `timer`, or restarts it with a new deadline. A state timer needs the state timer
    /// before it stopped (see [`TimerSet`]); T309 runs beside it; T316 is the entity's, never a
    /// call's, and is ignored.
    #[inline]
    pub fn start(&mut self, timer: Timer, at: Instant) {
        match timer {
            Timer::T309 => self.t309 = Some(at),
            Timer::T316 => {}
            _ => {
                debug_assert!(
                    self.state.is_none_or(|(t, _)| t == timer),
                    "{timer} started while {:?} runs: the state table must stop it first",
                    self.state
                );
                self.state = Some((timer, at));
            }
        }
    }

    #[inline]
    pub fn stop(&mut self, timer: Timer) {
        match timer {
            Timer::T309 => self.t309 = None,
            _ if self.running(timer) => self.state = None,
            _ => {}
        }
    }

    /// Stops every timer except T309, which outlives state changes while the link is down.
    #[inline]
    pub fn stop_all_but_t309(&mut self) {
        self.state = None;
    }

    #[inline]
    pub fn running(&self, timer: Timer) -> bool {
        match timer {
            Timer::T309 => self.t309.is_some(),
            _ => self.state.is_some_and(|(t, _)| t == timer),
        }
    }

    pub fn next(&self) -> Option<Instant> {
        match (self.state, self.t309) {
            (Some((_, d)), Some(t309)) => Some(d.min(t309)),
            (Some((_, d)), None) => Some(d),
            (None, t309) => t309,
        }
    }

    /// The earliest timer due at `now`, stopped as it is returned (of two due at the same
    /// instant, the lower numbered).
    pub fn expire(&mut self, now: Instant) -> Option<Timer> {
        let state = self.state.filter(|&(_, d)| d <= now);
        let t309 = self.t309.filter(|&d| d <= now);
        let state_first = match (state, t309) {
            (Some((timer, d)), Some(t309)) => d < t309 || (d == t309 && timer < Timer::T309),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if state_first {
            self.state.take().map(|(timer, _)| timer)
        } else {
            self.t309 = None;
            Some(Timer::T309)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_timers_are_listed_in_order_without_t316() {
        assert!(Timer::CALL.windows(2).all(|w| w[0] < w[1]), "{:?}", Timer::CALL);
        assert!(!Timer::CALL.contains(&Timer::T316));
    }

    #[test]
    fn stop_all_but_t309_keeps_t309_only() {
        let now = Instant::now();
        for t in Timer::CALL.into_iter().filter(|&t| t != Timer::T309) {
            let mut set = TimerSet::default();
            set.start(t, now + Duration::from_secs(1));
            set.start(Timer::T309, now + Duration::from_secs(7));
            assert!(set.running(t) && set.running(Timer::T309), "{t}");
            set.stop_all_but_t309();
            for u in Timer::CALL {
                assert_eq!(set.running(u), u == Timer::T309, "{t} {u}");
            }
            assert_eq!(set.next(), Some(now + Duration::from_secs(7)));
            set.stop_all_but_t309();
            assert!(set.running(Timer::T309));
        }
    }

    /// The guard of the one-state-timer rule: every debug test run (unit and end-to-end) checks
    /// each start against it.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "the state table must stop it first")]
    fn a_second_state_timer_without_a_stop_is_caught() {
        let now = Instant::now();
        let mut set = TimerSet::default();
        set.start(Timer::T303, now);
        set.start(Timer::T310, now);
    }

    #[test]
    fn a_state_timer_restarts_and_starts_again_after_a_stop() {
        let now = Instant::now();
        let s = Duration::from_secs;
        for first in Timer::CALL.into_iter().filter(|&t| t != Timer::T309) {
            for second in Timer::CALL.into_iter().filter(|&t| t != Timer::T309) {
                let mut set = TimerSet::default();
                set.start(first, now + s(1));
                set.start(first, now + s(2));
                assert_eq!(set.next(), Some(now + s(2)), "{first} restarted");
                set.stop(first);
                set.start(second, now + s(30));
                assert!(set.running(second), "{first} then {second}");
                assert_eq!(set.expire(now + s(100)), Some(second), "{first} then {second}");
                assert_eq!(set.expire(now + s(100)), None, "{first} then {second}");
            }
        }
    }

    #[test]
    fn a_state_timer_and_t309_run_side_by_side_and_expire_earliest_first() {
        let now = Instant::now();
        let s = Duration::from_secs;
        let mut set = TimerSet::default();
        assert_eq!((set.next(), set.expire(now + s(100))), (None, None));
        set.start(Timer::T305, now + s(30));
        set.start(Timer::T309, now + s(90));
        // Stopping a timer that does not run leaves the others alone.
        set.stop(Timer::T303);
        assert!(set.running(Timer::T305) && !set.running(Timer::T303) && !set.running(Timer::T316));
        assert_eq!(set.next(), Some(now + s(30)));
        assert_eq!(set.expire(now + s(29)), None);
        assert_eq!(set.expire(now + s(100)), Some(Timer::T305));
        assert_eq!(set.expire(now + s(100)), Some(Timer::T309));
        assert_eq!(set.expire(now + s(100)), None);
        // Due at the same instant: the lower numbered first.
        set.start(Timer::T308, now + s(4));
        set.start(Timer::T309, now + s(4));
        assert_eq!(set.expire(now + s(4)), Some(Timer::T308));
        set.start(Timer::T310, now + s(4));
        assert_eq!(set.expire(now + s(4)), Some(Timer::T309));
        assert_eq!(set.expire(now + s(4)), Some(Timer::T310));
        // T316 is the entity's, never a call's.
        set.start(Timer::T316, now);
        assert_eq!(set, TimerSet::default());
        // A state timer started again gets its new deadline.
        set.start(Timer::T303, now + s(4));
        set.start(Timer::T303, now + s(8));
        assert_eq!(set.next(), Some(now + s(8)));
        set.stop(Timer::T303);
        assert_eq!(set.next(), None);
    }
}
