//! RFC 4733 telephone events: the 4-octet payload, a sender and a receiver, sans-IO.
//!
//! Sender (RFC 4733 §2.5.1), one event at a time, timing in RTP timestamp units of the 8 kHz clock:
//!
//! | State   | Event            | Action                                                        | Next    |
//! |---------|------------------|---------------------------------------------------------------|---------|
//! | Idle    | start            | packet with M set, timestamp = event start, duration 0        | Sending |
//! | Sending | timeout (50 ms)  | update packet, same timestamp, duration so far (§2.5.1.2)      | Sending |
//! | Sending | duration > 65535 | packet with 0xFFFF, new segment at ts + 0xFFFF, no M (§2.5.1.3) | Sending |
//! | Sending | stop             | end packet (E set) with the final duration                    | Ending  |
//! | Ending  | timeout          | the same end packet again, three in all (§2.5.1.4)            | Ending / Idle |
//!
//! A start while an event is under way ends that one first. The receiver (§2.5.2) reports each
//! event's start and end exactly once, whatever the retransmissions and losses: an event is known
//! by its timestamp; a packet with a timestamp already ended is a retransmission; a new timestamp
//! ends an event whose end packets were all lost; a long event's next segment (same event,
//! timestamp + 65535, M clear) continues it; and silence longer than `RECEIVE_TIMEOUT` ends it.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// Interval between update packets, and between the three end packets.
pub const UPDATE_INTERVAL: Duration = Duration::from_millis(50);
/// RTP timestamp units per ms.
const CLOCK_PER_MS: u32 = 8;
/// An event with no packet for this long is over even without an end packet.
pub const RECEIVE_TIMEOUT: Duration = Duration::from_millis(1000);

/// The telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    /// 0-9, 10 = *, 11 = #, 12-15 = A-D, 16 = flash (§3.2).
    pub event: u8,
    pub end: bool,
    /// Power level as -dBm0, 0-63.
    pub volume: u8,
    pub duration: u16,
}

impl EventPayload {
    /// Parses the first 4 octets (a payload may carry more events by RFC 4733 §2.5.1.5's
    /// redundancy; the first is the current one).
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b = b.get(..4)?;
        Some(EventPayload {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    pub fn to_bytes(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [self.event, if self.end { 0x80 } else { 0 } | (self.volume & 0x3f), d[0], d[1]]
    }
}

/// The DTMF character of an event code.
pub fn event_char(event: u8) -> char {
    match event {
        0..=9 => char::from(b'0' + event),
        10 => '*',
        11 => '#',
        12..=15 => char::from(b'A' + event - 12),
        16 => '!',
        _ => '?',
    }
}

impl fmt::Display for EventPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EVENT {} ({}) vol=-{} dur={}", self.event, event_char(self.event), self.volume, self.duration)?;
        if self.end {
            write!(f, " E")?;
        }
        Ok(())
    }
}

/// A packet the sender wants sent: the RTP marker and timestamp, and the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    pub marker: bool,
    pub timestamp: u32,
    pub payload: EventPayload,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SendState {
    Idle,
    Sending { started: Instant },
    Ending { left: u8 },
}

/// The RFC 4733 sender of one stream.
#[derive(Debug)]
pub struct EventSender {
    state: SendState,
    event: u8,
    volume: u8,
    /// Timestamp of the current segment (the event start, or where a long event's segment began).
    segment_ts: u32,
    /// Duration, in timestamp units, covered by earlier segments of a long event.
    earlier: u64,
    final_duration: u16,
    next: Option<Instant>,
    out: VecDeque<EventPacket>,
}

impl Default for EventSender {
    fn default() -> Self {
        Self::new()
    }
}

impl EventSender {
    pub fn new() -> Self {
        EventSender {
            state: SendState::Idle,
            event: 0,
            volume: 10,
            segment_ts: 0,
            earlier: 0,
            final_duration: 0,
            next: None,
            out: VecDeque::new(),
        }
    }

    /// Whether an event (or its end packets) is still being sent.
    pub fn busy(&self) -> bool {
        self.state != SendState::Idle
    }

    /// Starts `event` at `now`, whose RTP timestamp is `ts`, at `volume` (-dBm0).
    pub fn start(&mut self, now: Instant, ts: u32, event: u8, volume: u8) {
        if let SendState::Sending { .. } = self.state {
            self.stop(now);
        }
        // Flush any end packets still due: the new event must not wait behind them.
        while let SendState::Ending { .. } = self.state {
            self.handle_timeout(self.next.unwrap_or(now));
        }
        self.state = SendState::Sending { started: now };
        self.event = event;
        self.volume = volume & 0x3f;
        self.segment_ts = ts;
        self.earlier = 0;
        self.push(true, false, 0);
        self.next = Some(now + UPDATE_INTERVAL);
    }

    /// Ends the event at `now`: the first of the three end packets goes out at once.
    pub fn stop(&mut self, now: Instant) {
        let SendState::Sending { started } = self.state else { return };
        let total = elapsed_ts(started, now);
        self.segment(total);
        self.final_duration = u16::try_from(total - self.earlier).unwrap_or(u16::MAX);
        self.push(false, true, self.final_duration);
        self.state = SendState::Ending { left: 2 };
        self.next = Some(now + UPDATE_INTERVAL);
    }

    /// Moves to a new segment for every whole 0xFFFF of duration (RFC 4733 §2.5.1.3).
    fn segment(&mut self, total: u64) {
        while total - self.earlier > u64::from(u16::MAX) {
            self.push(false, false, u16::MAX);
            self.earlier += u64::from(u16::MAX);
            self.segment_ts = self.segment_ts.wrapping_add(u32::from(u16::MAX));
        }
    }

    fn push(&mut self, marker: bool, end: bool, duration: u16) {
        self.out.push_back(EventPacket {
            marker,
            timestamp: self.segment_ts,
            payload: EventPayload { event: self.event, end, volume: self.volume, duration },
        });
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(due) = self.next else { return };
        if now < due {
            return;
        }
        match self.state {
            SendState::Idle => self.next = None,
            SendState::Sending { started } => {
                let total = elapsed_ts(started, now);
                self.segment(total);
                let d = u16::try_from(total - self.earlier).unwrap_or(u16::MAX);
                self.push(false, false, d);
                self.next = Some(now + UPDATE_INTERVAL);
            }
            SendState::Ending { left } => {
                self.push(false, true, self.final_duration);
                if left <= 1 {
                    self.state = SendState::Idle;
                    self.next = None;
                } else {
                    self.state = SendState::Ending { left: left - 1 };
                    self.next = Some(now + UPDATE_INTERVAL);
                }
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }

    pub fn poll_transmit(&mut self) -> Option<EventPacket> {
        self.out.pop_front()
    }
}

fn elapsed_ts(from: Instant, to: Instant) -> u64 {
    let us = u64::try_from(to.saturating_duration_since(from).as_micros()).unwrap_or(u64::MAX);
    us.saturating_mul(u64::from(CLOCK_PER_MS)) / 1000
}

/// What the receiver reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitEvent {
    Start {
        event: u8,
    },
    /// The event ended; `duration` in timestamp units (summed over a long event's segments).
    End {
        event: u8,
        duration: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Current {
    event: u8,
    /// Timestamp of the event's first segment and of the segment being received.
    first_ts: u32,
    segment_ts: u32,
    earlier: u64,
    duration: u16,
    last_packet: Instant,
}

/// The RFC 4733 receiver of one stream.
#[derive(Debug, Default)]
pub struct EventReceiver {
    current: Option<Current>,
    /// The timestamp the last ended event's end packets carry, so their retransmissions are ignored.
    ended: Option<u32>,
    out: VecDeque<DigitEvent>,
}

impl EventReceiver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one telephone-event packet's timestamp and payload.
    pub fn handle_packet(&mut self, now: Instant, ts: u32, p: EventPayload) {
        if let Some(mut c) = self.current {
            let continues =
                p.event == c.event && (ts == c.segment_ts || ts == c.segment_ts.wrapping_add(u32::from(u16::MAX)));
            if continues {
                if ts != c.segment_ts {
                    c.earlier += u64::from(u16::MAX);
                    c.segment_ts = ts;
                    c.duration = 0;
                }
                c.duration = c.duration.max(p.duration);
                c.last_packet = now;
                self.current = Some(c);
                if p.end {
                    self.finish();
                }
                return;
            }
            if ts == c.first_ts || self.is_older_segment(c, ts) {
                // A stray from an earlier segment of this same event.
                return;
            }
            // A new event while this one never saw its end: all its end packets were lost.
            self.finish();
        }
        if self.ended == Some(ts) {
            return;
        }
        self.out.push_back(DigitEvent::Start { event: p.event });
        self.current = Some(Current {
            event: p.event,
            first_ts: ts,
            segment_ts: ts,
            earlier: 0,
            duration: p.duration,
            last_packet: now,
        });
        if p.end {
            self.finish();
        }
    }

    fn is_older_segment(&self, c: Current, ts: u32) -> bool {
        let back = c.segment_ts.wrapping_sub(ts);
        back != 0 && u64::from(back) <= c.earlier && u64::from(back) % u64::from(u16::MAX) == 0
    }

    fn finish(&mut self) {
        if let Some(c) = self.current.take() {
            self.out.push_back(DigitEvent::End { event: c.event, duration: c.earlier + u64::from(c.duration) });
            self.ended = Some(c.segment_ts);
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(c) = self.current {
            if now >= c.last_packet + RECEIVE_TIMEOUT {
                self.finish();
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.current.map(|c| c.last_packet + RECEIVE_TIMEOUT)
    }

    pub fn poll_event(&mut self) -> Option<DigitEvent> {
        self.out.pop_front()
    }
}
