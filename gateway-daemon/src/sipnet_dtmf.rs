//! The event loop's DTMF on one SIP leg: what the trunk's `dtmf` option asks for, RFC 4733
//! telephone-events sent for the digits the media thread found in band (`rtp::event::EventSender`)
//! and received ones turned into digits for the media thread to play (`rtp::event::EventReceiver`,
//! which drops retransmitted end packets by timestamp and reports a digit whose start was lost),
//! and SIP INFO `application/dtmf-relay` as the other out-of-band carrier.
//!
//! | `dtmf`    | TDM -> SIP                                   | SIP -> TDM                         |
//! |-----------|----------------------------------------------|------------------------------------|
//! | `rfc4733` | events on telephone-event's payload type, tone muted in the audio; in band when the far end did not negotiate telephone-event | events played in band |
//! | `info`    | one INFO per digit when it ends (Signal, Duration), tone muted | INFO digits played in band |
//! | `inband`  | the audio as it is (no receiver, no delay)   | the audio as it is                 |
//!
//! Received events and INFO digits are played whatever the option says: a far end that sends them
//! means them. Timing needs no timer of its own: update and end packets are due every 50 ms, and the
//! leg's audio frames (every ptime, 10 to 60 ms) are what drives [`LegDtmfNet::poll_packet`].

use std::time::Instant;

use provisioning::Dtmf;

use crate::media::MediaCmd;
use crate::media_dtmf::DtmfEdge;
use crate::rtp::event::{DigitEvent, EventPacket, EventPayload, EventReceiver, EventSender};

/// The volume our events carry: -10 dBm0, the level of the tones themselves.
const VOLUME: u8 = 10;

/// The RFC 4733 event code of a DTMF digit (§3.2), `None` for anything else.
pub fn event_code(digit: char) -> Option<u8> {
    Some(match digit.to_ascii_uppercase() {
        d @ '0'..='9' => u8::try_from(u32::from(d) - u32::from('0')).ok()?,
        '*' => 10,
        '#' => 11,
        d @ 'A'..='D' => 12 + u8::try_from(u32::from(d) - u32::from('A')).ok()?,
        _ => return None,
    })
}

/// One SIP leg's DTMF state.
#[derive(Debug)]
pub struct LegDtmfNet {
    pub mode: Dtmf,
    /// telephone-event's negotiated payload type.
    pub te_pt: Option<u8>,
    /// What the media thread was last told about its receiver.
    pub detect: bool,
    sender: EventSender,
    receiver: EventReceiver,
    /// Events sent, received packets, digits received (for the log and tests).
    pub sent: u32,
    pub received: u32,
}

impl LegDtmfNet {
    pub fn new(mode: Dtmf) -> LegDtmfNet {
        LegDtmfNet {
            mode,
            te_pt: None,
            detect: false,
            sender: EventSender::new(),
            receiver: EventReceiver::new(),
            sent: 0,
            received: 0,
        }
    }

    /// Whether digits on the TDM side must be found and sent out of band.
    pub fn wants_detect(&self) -> bool {
        match self.mode {
            Dtmf::Rfc4733 => self.te_pt.is_some(),
            Dtmf::Info => true,
            Dtmf::Inband => false,
        }
    }

    /// A digit edge from the media thread; `next_ts` is the RTP timestamp of the next audio frame
    /// (the one being built when the edge was found). Returns a digit and its duration in ms to
    /// send as INFO.
    pub fn on_edge(&mut self, now: Instant, next_ts: u32, digit: char, edge: DtmfEdge) -> Option<(char, u32)> {
        match (self.mode, edge) {
            (Dtmf::Rfc4733, DtmfEdge::Start { offset }) if self.te_pt.is_some() => {
                let code = event_code(digit)?;
                let ts = next_ts.wrapping_add(u32::try_from(offset).unwrap_or(0));
                self.sender.start(now, ts, code, VOLUME);
                self.sent += 1;
                None
            }
            (Dtmf::Rfc4733, DtmfEdge::End { .. }) => {
                self.sender.stop(now);
                None
            }
            (Dtmf::Info, DtmfEdge::End { duration }) => {
                self.sent += 1;
                Some((digit, duration / 8))
            }
            _ => None,
        }
    }

    /// The next telephone-event packet due at `now`.
    pub fn poll_packet(&mut self, now: Instant) -> Option<EventPacket> {
        if self.sender.poll_timeout().is_some_and(|t| t <= now) {
            self.sender.handle_timeout(now);
        }
        self.sender.poll_transmit()
    }

    /// A received telephone-event packet: the digits' starts and ends for the media thread.
    pub fn on_packet(&mut self, now: Instant, id: u32, ts: u32, payload: &[u8], out: &mut Vec<MediaCmd>) {
        let Some(p) = EventPayload::parse(payload) else { return };
        self.received += 1;
        self.receiver.handle_packet(now, ts, p);
        self.drain(id, out);
    }

    /// Ends a received event whose packets stopped (RFC 4733 §2.5.2.2).
    pub fn on_timeout(&mut self, now: Instant, id: u32, out: &mut Vec<MediaCmd>) {
        if self.receiver.poll_timeout().is_some_and(|t| t <= now) {
            self.receiver.handle_timeout(now);
            self.drain(id, out);
        }
    }

    fn drain(&mut self, id: u32, out: &mut Vec<MediaCmd>) {
        while let Some(e) = self.receiver.poll_event() {
            // Events above 15 (flash, tones) are not DTMF digits: not played.
            let (event, end) = match e {
                DigitEvent::Start { event } => (event, None),
                DigitEvent::End { event, duration } => (event, Some(u32::try_from(duration).unwrap_or(u32::MAX))),
            };
            if event <= 15 {
                out.push(MediaCmd::DtmfPlay { id, digit: crate::rtp::event::event_char(event), end });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn plays(out: &[MediaCmd]) -> Vec<(char, Option<u32>)> {
        out.iter()
            .filter_map(|c| match c {
                MediaCmd::DtmfPlay { digit, end, .. } => Some((*digit, *end)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_digit_has_its_event_code_and_back() {
        for (code, d) in "0123456789*#ABCD".chars().enumerate() {
            let c = event_code(d).expect("a digit");
            assert_eq!(usize::from(c), code);
            assert_eq!(crate::rtp::event::event_char(c), d);
        }
        assert_eq!(event_code('x'), None);
        assert_eq!(event_code('a'), Some(12));
    }

    #[test]
    fn an_edge_pair_becomes_start_updates_and_three_ends_with_the_offset_timestamp() {
        let t0 = Instant::now();
        let mut d = LegDtmfNet::new(Dtmf::Rfc4733);
        d.te_pt = Some(101);
        assert!(d.wants_detect());
        assert_eq!(d.on_edge(t0, 1000, '#', DtmfEdge::Start { offset: 40 }), None);
        let mut got = Vec::new();
        let mut now = t0;
        while now < t0 + Duration::from_millis(400) {
            if now >= t0 + Duration::from_millis(120)
                && d.sender.busy()
                && !got.iter().any(|p: &EventPacket| p.payload.end)
            {
                d.on_edge(now, 0, '#', DtmfEdge::End { duration: 960 });
            }
            while let Some(p) = d.poll_packet(now) {
                got.push(p);
            }
            now += Duration::from_millis(20);
        }
        assert!(got[0].marker && got[0].payload.duration == 0, "{got:?}");
        assert!(got.iter().all(|p| p.timestamp == 1040 && p.payload.event == 11));
        assert_eq!(got.iter().filter(|p| p.marker).count(), 1);
        let ends: Vec<_> = got.iter().filter(|p| p.payload.end).collect();
        assert_eq!(ends.len(), 3, "{got:?}");
        assert!(ends.iter().all(|p| p.payload.duration == ends[0].payload.duration));
        assert!((900..=1000).contains(&ends[0].payload.duration), "{ends:?}");
        // The update every 50 ms (due at 50, sent with the 60 ms frame) before the end at 120 ms.
        assert!(got.iter().any(|p| !p.marker && !p.payload.end && p.payload.duration == 480), "{got:?}");
    }

    #[test]
    fn without_telephone_event_nothing_is_detected_or_sent() {
        let mut d = LegDtmfNet::new(Dtmf::Rfc4733);
        assert!(!d.wants_detect());
        d.on_edge(Instant::now(), 0, '1', DtmfEdge::Start { offset: 0 });
        assert_eq!(d.poll_packet(Instant::now()), None);
        assert!(!LegDtmfNet::new(Dtmf::Inband).wants_detect());
    }

    #[test]
    fn info_mode_sends_one_digit_per_end_with_its_duration_in_ms() {
        let mut d = LegDtmfNet::new(Dtmf::Info);
        assert!(d.wants_detect());
        let now = Instant::now();
        assert_eq!(d.on_edge(now, 0, '5', DtmfEdge::Start { offset: 0 }), None);
        assert_eq!(d.on_edge(now, 0, '5', DtmfEdge::End { duration: 800 }), Some(('5', 100)));
        assert_eq!(d.poll_packet(now), None);
    }

    #[test]
    fn received_events_are_played_once_whatever_the_retransmissions_and_losses() {
        let now = Instant::now();
        let mut d = LegDtmfNet::new(Dtmf::Rfc4733);
        let mut out = Vec::new();
        let pkt = |e: u8, end: bool, dur: u16| EventPayload { event: e, end, volume: 10, duration: dur }.to_bytes();
        // '1': start, update, three end packets.
        d.on_packet(now, 7, 100, &pkt(1, false, 0), &mut out);
        d.on_packet(now, 7, 100, &pkt(1, false, 400), &mut out);
        for _ in 0..3 {
            d.on_packet(now, 7, 100, &pkt(1, true, 800), &mut out);
        }
        // 'D': its start and updates lost, only end packets.
        for _ in 0..3 {
            d.on_packet(now, 7, 2000, &pkt(15, true, 640), &mut out);
        }
        // '1' again: a new timestamp is a new digit, whose end packets are all lost; then '#'.
        d.on_packet(now, 7, 4000, &pkt(1, false, 0), &mut out);
        d.on_packet(now, 7, 6000, &pkt(11, false, 0), &mut out);
        // Flash (16) is not played; garbage is ignored.
        d.on_packet(now, 7, 8000, &pkt(16, true, 800), &mut out);
        d.on_packet(now, 7, 9000, &[1, 2], &mut out);
        d.on_timeout(now + Duration::from_secs(2), 7, &mut out);
        assert_eq!(
            plays(&out),
            vec![
                ('1', None),
                ('1', Some(800)),
                ('D', None),
                ('D', Some(640)),
                ('1', None),
                ('1', Some(0)),
                ('#', None),
                ('#', Some(0)),
            ]
        );
    }
}
