//! A passive tap on one D-channel that counts what the status page shows beyond the entity's own
//! counters: I frames each way, REJ frames each way, and retransmitted I frames.
//!
//! It looks only at the frames crossing the D-channel (as smoltcp's `Tracer` wraps a device), so
//! the Q.921 machine keeps its single job. Like the machine it is sans-IO: the glue hands it each
//! frame with its direction.

use super::pcap::Direction;
use super::q921::{Control, FrameRepr, SFunction, UFunction};

/// What the tap has counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TapCounters {
    pub i_frames_sent: u64,
    pub i_frames_received: u64,
    /// I frames we sent again: an N(S) sent before since the data link was last (re)established.
    pub retransmissions: u64,
    pub rej_sent: u64,
    pub rej_received: u64,
}

/// Counts frames as they cross the D-channel.
#[derive(Debug, Clone)]
pub struct FrameTap {
    counters: TapCounters,
    /// Per TEI, the N(S) of the next I frame that would be new. It is only an estimate of our
    /// V(S) from the outside, so it is re-synchronised whenever the link is reset.
    next_ns: [u8; 128],
}

impl Default for FrameTap {
    fn default() -> FrameTap {
        FrameTap { counters: TapCounters::default(), next_ns: [0; 128] }
    }
}

impl FrameTap {
    pub fn counters(&self) -> TapCounters {
        self.counters
    }

    /// One frame (without FCS) that crossed the D-channel in `direction`, seen from our side.
    pub fn frame(&mut self, direction: Direction, octets: &[u8]) {
        // Frames that do not parse are the entity's business (it counts them as discarded).
        let Ok(frame) = FrameRepr::parse(octets) else { return };
        let tei = usize::from(frame.address.tei & 0x7f);
        match (direction, frame.control) {
            (Direction::Sent, Control::I { ns, .. }) => {
                self.counters.i_frames_sent += 1;
                if ns == self.next_ns[tei] {
                    self.next_ns[tei] = (ns + 1) & 0x7f;
                } else {
                    self.counters.retransmissions += 1;
                }
            }
            (Direction::Received, Control::I { .. }) => self.counters.i_frames_received += 1,
            (Direction::Sent, Control::S { function: SFunction::Rej, .. }) => self.counters.rej_sent += 1,
            (Direction::Received, Control::S { function: SFunction::Rej, .. }) => self.counters.rej_received += 1,
            // SABME and its UA reset V(S) to 0 on both sides (Q.921 §5.5.1.2), whoever asked.
            (_, Control::U { function: UFunction::Sabme | UFunction::Ua, .. }) => self.next_ns[tei] = 0,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // TE frames on TEI 0 (user commands have C/R = 0): SABME, I ns=0, I ns=1, I ns=0 again
    // (after a REJ), REJ nr=1.
    const SABME: [u8; 3] = [0x00, 0x01, 0x7f];
    const UA_FROM_NT: [u8; 3] = [0x00, 0x01, 0x73];
    const REJ_NR1: [u8; 4] = [0x00, 0x01, 0x09, 0x02];

    fn i_frame(ns: u8) -> [u8; 5] {
        [0x00, 0x01, ns << 1, 0x00, 0x08]
    }

    #[test]
    fn counts_i_frames_rej_and_retransmissions() {
        let mut tap = FrameTap::default();
        tap.frame(Direction::Sent, &SABME);
        tap.frame(Direction::Received, &UA_FROM_NT);
        tap.frame(Direction::Sent, &i_frame(0));
        tap.frame(Direction::Sent, &i_frame(1));
        tap.frame(Direction::Received, &REJ_NR1);
        tap.frame(Direction::Sent, &i_frame(1));
        tap.frame(Direction::Sent, &i_frame(2));
        tap.frame(Direction::Received, &i_frame(0));
        tap.frame(Direction::Sent, &REJ_NR1);
        tap.frame(Direction::Sent, &[0x01]); // garbage is ignored
        let c = tap.counters();
        assert_eq!((c.i_frames_sent, c.i_frames_received), (4, 1), "{c:?}");
        assert_eq!(c.retransmissions, 1, "{c:?}");
        assert_eq!((c.rej_sent, c.rej_received), (1, 1), "{c:?}");
    }

    #[test]
    fn a_link_reset_is_not_a_retransmission() {
        let mut tap = FrameTap::default();
        for ns in 0..3 {
            tap.frame(Direction::Sent, &i_frame(ns));
        }
        // The peer re-establishes: V(S) starts again at 0.
        tap.frame(Direction::Received, &SABME);
        tap.frame(Direction::Sent, &i_frame(0));
        assert_eq!(tap.counters().retransmissions, 0);
        // Sequence numbers wrap at 128 without counting.
        for ns in 1..=127 {
            tap.frame(Direction::Sent, &i_frame(ns));
        }
        tap.frame(Direction::Sent, &i_frame(0));
        assert_eq!(tap.counters().retransmissions, 0);
        assert_eq!(tap.counters().i_frames_sent, 3 + 1 + 127 + 1);
    }
}
