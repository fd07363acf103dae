//! The procedures of the established states, MULTIPLE_FRAME_ESTABLISHED and TIMER_RECOVERY
//! (Q.921 §5.6, with §5.8.2 and §5.8.5): I frames received and sent, the window, acknowledgement
//! and the S frames. The table's arms in [`DataLink::handle`] call these, and the frames of every
//! call reach them directly through `handle_i`, `handle_s` and `handle_data_request`.

use std::time::Instant;

use super::{ack_bit, seq_inc, seq_sub, DataLink, LinkEvent, LinkState, Outputs, SFrame};
use crate::isdn::q921::frame::SFunction;
use crate::isdn::q921::MdlError;

impl DataLink {
    /// A received I frame: [`handle`](Self::handle) for a `LinkEvent::I`, with the arm of the
    /// established states (the frames of every call) reached without the table's dispatch.
    #[inline]
    pub(crate) fn handle_i(&mut self, now: Instant, ns: u8, nr: u8, p: bool, info: &[u8], out: &mut Outputs) {
        let before = self.state;
        if matches!(before, LinkState::MultipleFrameEstablished | LinkState::TimerRecovery) {
            self.i_frame(now, ns, nr, p, info, out);
            self.after_input(now, before, out);
        } else {
            self.handle(now, LinkEvent::I { ns, nr, p, info }, out);
        }
    }

    /// A received S frame: [`handle`](Self::handle) for a `LinkEvent::S`, the established
    /// states' arm reached directly as in [`handle_i`](Self::handle_i).
    #[inline(always)]
    pub(crate) fn handle_s(&mut self, now: Instant, frame: SFrame, out: &mut Outputs) {
        let before = self.state;
        if matches!(before, LinkState::MultipleFrameEstablished | LinkState::TimerRecovery) {
            self.s_frame(now, frame, out);
            self.after_input(now, before, out);
        } else {
            self.handle(now, LinkEvent::S(frame), out);
        }
    }

    /// Whether DL-DATA-requests are queued (§5.6.1: established, or being established).
    #[inline]
    pub(crate) fn takes_data(&self) -> bool {
        use LinkState as S;
        matches!(
            self.state,
            S::EstablishAwaitingTei | S::AwaitingEstablishment | S::MultipleFrameEstablished | S::TimerRecovery
        )
    }

    /// DL-DATA-request in a state that [takes data](Self::takes_data), which the entity checks
    /// (§5.6.1): the message is queued, and sent while the window allows. It changes no state,
    /// so it does not pass the table. When the link is established, the peer not busy, the
    /// window open and no frame waits (every call's messages), it goes at once, as the
    /// general sending loop would send it: the same frame, written from the request into the I
    /// queue and the transmit queue, without the loop's checks.
    #[inline]
    pub(crate) fn handle_data_request(&mut self, now: Instant, data: &[u8], out: &mut Outputs) {
        if !self.i_queue.waiting()
            && self.state == LinkState::MultipleFrameEstablished
            && !self.peer_busy
            && seq_sub(self.vs, self.va) < self.params.k
        {
            self.i_queue.push_sent(data);
            out.send_parts(&self.i_header(), data);
            self.i_frame_sent(now, out);
        } else {
            self.i_queue.push(data);
            self.transmit_i_frames(now, out);
        }
    }

    /// I frame in MULTIPLE_FRAME_ESTABLISHED or TIMER_RECOVERY (§5.6.2, §5.8.5 N201, §5.8.2).
    #[inline(always)]
    pub(super) fn i_frame(&mut self, now: Instant, ns: u8, nr: u8, p: bool, info: &[u8], out: &mut Outputs) {
        if info.len() > self.params.n201 {
            self.mdl_error(out, MdlError::O);
            self.reestablish(now, out);
        } else {
            self.receive_i(ns, p, info, out);
            if !self.nr_valid(nr) {
                self.nr_error(now, out);
            } else if self.state == LinkState::TimerRecovery || self.peer_busy {
                self.ack_to(nr);
            } else {
                self.ack_and_time(now, nr);
            }
        }
    }

    /// RR, RNR or REJ in MULTIPLE_FRAME_ESTABLISHED (§5.6.3, §5.6.4, §5.6.6) or TIMER_RECOVERY
    /// (§5.6.7).
    #[inline(always)]
    pub(super) fn s_frame(&mut self, now: Instant, frame: SFrame, out: &mut Outputs) {
        let SFrame { function, nr, command, pf } = frame;
        let recovery = self.state == LinkState::TimerRecovery;
        self.peer_busy = function == SFunction::Rnr;
        if command && pf {
            self.enquiry_response(out);
        } else if !command && pf && !recovery {
            self.mdl_error(out, MdlError::A);
        }
        if !self.nr_valid(nr) {
            return self.nr_error(now, out);
        }
        if recovery {
            self.ack_to(nr);
            if !command && pf {
                // The answer to our enquiry: resume with what the peer has not got.
                if function == SFunction::Rnr {
                    self.t200 = Some(now);
                } else {
                    self.t200 = None;
                    self.t203 = Some(now);
                }
                self.vs = self.va;
                self.i_queue.rewind();
                self.state = LinkState::MultipleFrameEstablished;
            }
            return;
        }
        match function {
            SFunction::Rr => self.ack_and_time(now, nr),
            SFunction::Rej => {
                self.ack_to(nr);
                self.t200 = None;
                self.t203 = Some(now);
                self.vs = self.va;
                self.i_queue.rewind();
            }
            SFunction::Rnr => {
                self.ack_to(nr);
                self.t203 = None;
                self.t200 = Some(now);
            }
        }
    }

    /// I-frame reception (§5.6.2, §5.6.4 sequence error, §5.6.5 own busy).
    #[inline(always)]
    fn receive_i(&mut self, ns: u8, p: bool, info: &[u8], out: &mut Outputs) {
        if self.own_busy {
            if p {
                self.enquiry_response(out);
            }
        } else if ns == self.vr {
            self.vr = seq_inc(self.vr);
            self.reject_exception = false;
            out.indicate(self.tei, false, info);
            if p {
                self.enquiry_response(out);
            } else {
                // Acknowledged by the next I frame we send, or by an RR at the drain (§5.6.2.1).
                self.owe_ack(out);
            }
        } else if self.reject_exception {
            if p {
                self.enquiry_response(out);
            }
        } else {
            self.reject_exception = true;
            self.send_s(out, SFunction::Rej, false, p);
            self.ack_pending = false;
        }
    }

    /// Whether V(A) ≤ N(R) ≤ V(S) (§5.8.2). N(R) = V(S), which acknowledges everything sent (or
    /// nothing outstanding), is nearly every frame's and answered first.
    #[inline(always)]
    fn nr_valid(&self, nr: u8) -> bool {
        nr == self.vs || seq_sub(nr, self.va) <= seq_sub(self.vs, self.va)
    }

    /// N(R) sequence error recovery (§5.8.2, MDL-ERROR J).
    #[cold]
    fn nr_error(&mut self, now: Instant, out: &mut Outputs) {
        self.mdl_error(out, MdlError::J);
        self.reestablish(now, out);
    }

    /// Acknowledges up to N(R), minding T200 and T203 as §5.6.3.2 says.
    #[inline(always)]
    fn ack_and_time(&mut self, now: Instant, nr: u8) {
        if nr == self.vs {
            self.ack_all();
            self.t200 = None;
            self.t203 = Some(now);
        } else if nr != self.va {
            self.ack_to(nr);
            self.t200 = Some(now);
        }
    }

    /// V(A) := V(S): N(R) acknowledges every frame sent (or none was outstanding).
    #[inline(always)]
    fn ack_all(&mut self) {
        self.i_queue.pop_sent(usize::from(seq_sub(self.vs, self.va)));
        self.va = self.vs;
    }

    /// V(A) := N(R), dropping the acknowledged frames from the queue.
    #[inline(always)]
    fn ack_to(&mut self, nr: u8) {
        for _ in 0..seq_sub(nr, self.va) {
            if !self.i_queue.pop_front() {
                break;
            }
        }
        self.va = nr;
    }

    /// Sends queued I frames while the window is open (§5.6.1).
    #[inline(always)]
    pub(super) fn transmit_i_frames(&mut self, now: Instant, out: &mut Outputs) {
        // Checked here, inline, because after most inputs nothing waits beyond the window.
        if self.i_queue.waiting() && self.state == LinkState::MultipleFrameEstablished && !self.peer_busy {
            self.send_i_frames(now, out);
        }
    }

    /// Sends the frames waiting beyond V(S) while the window allows.
    fn send_i_frames(&mut self, now: Instant, out: &mut Outputs) {
        while seq_sub(self.vs, self.va) < self.params.k && self.i_queue.waiting() {
            self.send_next_i_frame(now, out);
        }
    }

    /// Sends the frame with N(S) = V(S) from the I queue.
    #[inline(always)]
    fn send_next_i_frame(&mut self, now: Instant, out: &mut Outputs) {
        out.send_parts(&self.i_header(), self.i_queue.take_next());
        self.i_frame_sent(now, out);
    }

    /// The address and control field of the I frame with N(S) = V(S), sent now: its N(R) is V(R).
    #[inline(always)]
    fn i_header(&self) -> [u8; 4] {
        let [a0, a1] = self.address(true).octets();
        [a0, a1, self.vs << 1, self.vr << 1]
    }

    /// After the I frame with N(S) = V(S) went into the transmit queue: V(S) moves on, and as its
    /// N(R) acknowledged what was received, no RR is owed any more.
    #[inline(always)]
    fn i_frame_sent(&mut self, now: Instant, out: &mut Outputs) {
        self.vs = seq_inc(self.vs);
        self.ack_pending = false;
        out.acks_owed &= !ack_bit(self.id);
        if self.t200.is_none() {
            self.t203 = None;
            self.t200 = Some(now);
        }
    }
}
