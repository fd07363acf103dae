//! TEI management (Q.921 §5.3): the user side that asks for a TEI and the network side that
//! assigns, checks and removes them.
//!
//! Both are sans-IO like the data links: they queue TEI management frames (UI on SAPI 63, TEI 127)
//! in `Outputs` and tell the entity what to do to its links through the returned actions.
//! Randomness (the reference number Ri) comes from a seeded generator so tests are repeatable.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::frame::{TeiMessage, TeiMessageType, TEI_GROUP};
use super::link::Outputs;
use super::Role;

/// The automatic TEI range a network assigns from (Q.921 §5.3.1).
pub const AUTOMATIC_TEIS: std::ops::RangeInclusive<u8> = 64..=126;

/// What the user-side TEI procedure asks the entity to do to its data link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserAction {
    None,
    /// MDL-ASSIGN-request with this TEI.
    Assign(u8),
    /// MDL-REMOVE-request: the TEI is gone.
    Remove,
    /// MDL-ERROR-response: no TEI could be obtained.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserState {
    Idle,
    /// An Identity request with this Ri is outstanding; `tries` requests were sent.
    Requesting {
        ri: u16,
        tries: u8,
    },
    /// An Identity verify is outstanding (§5.3.5.2).
    Verifying {
        tries: u8,
    },
}

/// A small xorshift generator: Ri only has to differ between TEs that ask at the same time.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u32);

impl Rng {
    pub(crate) fn new(seed: u32) -> Rng {
        Rng(if seed == 0 { 0x2545_f491 } else { seed })
    }

    pub(crate) fn next_u16(&mut self) -> u16 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        let [a, b, _, _] = x.to_be_bytes();
        u16::from_be_bytes([a, b])
    }
}

/// The user (TE) side of automatic TEI assignment, check and removal.
#[derive(Debug)]
pub(crate) struct TeiUser {
    state: UserState,
    t202_deadline: Option<Instant>,
    t202: Duration,
    n202: u8,
    rng: Rng,
}

impl TeiUser {
    pub(crate) fn new(t202: Duration, n202: u8, seed: u32) -> TeiUser {
        TeiUser { state: UserState::Idle, t202_deadline: None, t202, n202, rng: Rng::new(seed) }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.t202_deadline
    }

    /// MDL-ASSIGN-indication: starts the assignment procedure unless it is already running
    /// (§5.3.2.1).
    pub(crate) fn request(&mut self, now: Instant, out: &mut Outputs) {
        if !matches!(self.state, UserState::Requesting { .. }) {
            self.send_request(now, 1, out);
        }
    }

    fn send_request(&mut self, now: Instant, tries: u8, out: &mut Outputs) {
        let ri = self.rng.next_u16();
        self.state = UserState::Requesting { ri, tries };
        out.send(&TeiMessage::new(TeiMessageType::IdentityRequest, ri, TEI_GROUP).to_frame(Role::Te));
        self.t202_deadline = Some(now + self.t202);
    }

    /// Asks the network to confirm our TEI after an error that hints at a duplicate (§5.3.5.2).
    pub(crate) fn verify(&mut self, now: Instant, tei: u8, out: &mut Outputs) {
        if self.state == UserState::Idle {
            self.send_verify(now, tei, 1, out);
        }
    }

    fn send_verify(&mut self, now: Instant, tei: u8, tries: u8, out: &mut Outputs) {
        self.state = UserState::Verifying { tries };
        out.send(&TeiMessage::new(TeiMessageType::IdentityVerify, 0, tei).to_frame(Role::Te));
        self.t202_deadline = Some(now + self.t202);
    }

    /// A TEI management message from the network; `tei` is the TEI the link holds now.
    pub(crate) fn handle_message(&mut self, msg: &TeiMessage<'_>, tei: Option<u8>, out: &mut Outputs) -> UserAction {
        let ours = |ai: u8| ai == TEI_GROUP || Some(ai) == tei;
        match (self.state, msg.kind) {
            (UserState::Requesting { ri, .. }, TeiMessageType::IdentityAssigned)
                if msg.ri == ri && AUTOMATIC_TEIS.contains(&msg.ai) =>
            {
                self.state = UserState::Idle;
                self.t202_deadline = None;
                UserAction::Assign(msg.ai)
            }
            (_, TeiMessageType::IdentityAssigned) if tei.is_some() && Some(msg.ai) == tei => {
                // Our TEI given to another Ri means two TEs may hold it (§5.3.4.1). The network's
                // identity check finds such duplicates; answering its check is all we need to do.
                UserAction::None
            }
            (UserState::Requesting { ri, .. }, TeiMessageType::IdentityDenied) if msg.ri == ri => {
                // Denied: T202 keeps running and the next request goes out when it expires.
                UserAction::None
            }
            (_, TeiMessageType::IdentityCheckRequest) if tei.is_some() && ours(msg.ai) => {
                if matches!(self.state, UserState::Verifying { .. }) {
                    self.state = UserState::Idle;
                    self.t202_deadline = None;
                }
                let ri = self.rng.next_u16();
                let Some(tei) = tei else { return UserAction::None };
                out.send(&TeiMessage::new(TeiMessageType::IdentityCheckResponse, ri, tei).to_frame(Role::Te));
                UserAction::None
            }
            (_, TeiMessageType::IdentityRemove) if tei.is_some() && ours(msg.ai) => {
                if matches!(self.state, UserState::Verifying { .. }) {
                    self.state = UserState::Idle;
                    self.t202_deadline = None;
                }
                UserAction::Remove
            }
            _ => UserAction::None,
        }
    }

    /// T202 expiry: retransmit, or give up after N202 tries (§5.3.2.1, §5.3.5.2).
    pub(crate) fn handle_timeout(&mut self, now: Instant, tei: Option<u8>, out: &mut Outputs) -> UserAction {
        if self.t202_deadline.is_none_or(|t| t > now) {
            return UserAction::None;
        }
        self.t202_deadline = None;
        match self.state {
            UserState::Requesting { tries, .. } if tries < self.n202 => {
                self.send_request(now, tries + 1, out);
                UserAction::None
            }
            UserState::Requesting { .. } => {
                self.state = UserState::Idle;
                UserAction::Failed
            }
            UserState::Verifying { tries } => match tei {
                Some(tei) if tries < 2 => {
                    self.send_verify(now, tei, tries + 1, out);
                    UserAction::None
                }
                // No check request after two verifies: the network no longer knows our TEI.
                _ => {
                    self.state = UserState::Idle;
                    UserAction::Remove
                }
            },
            UserState::Idle => UserAction::None,
        }
    }
}

/// What the network-side TEI procedure asks the entity to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NetworkAction {
    /// Create a data link for this newly assigned TEI.
    Assign(u8),
    /// Drop the data link of this TEI.
    Remove(u8),
}

/// One identity check in progress (§5.3.5.1).
#[derive(Debug, Clone, Copy)]
struct Check {
    deadline: Instant,
    sent: u8,
    responses: u8,
}

/// The network (NT) side: the assigner of automatic TEIs.
#[derive(Debug)]
pub(crate) struct TeiAssigner {
    in_use: [bool; 128],
    /// Where the search for a free TEI starts, so that a TEI just removed is not handed out
    /// again at once to a different terminal.
    next: u8,
    checks: BTreeMap<u8, Check>,
    t201: Duration,
}

impl TeiAssigner {
    pub(crate) fn new(t201: Duration) -> TeiAssigner {
        TeiAssigner { in_use: [false; 128], next: *AUTOMATIC_TEIS.start(), checks: BTreeMap::new(), t201 }
    }

    pub(crate) fn in_use(&self, tei: u8) -> bool {
        self.in_use.get(usize::from(tei)).copied().unwrap_or(false)
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.checks.values().map(|c| c.deadline).min()
    }

    fn free_tei(&self, wanted: u8) -> Option<u8> {
        if AUTOMATIC_TEIS.contains(&wanted) && !self.in_use(wanted) {
            return Some(wanted);
        }
        let span = AUTOMATIC_TEIS.end() - AUTOMATIC_TEIS.start() + 1;
        (0..span)
            .map(|i| AUTOMATIC_TEIS.start() + (self.next - AUTOMATIC_TEIS.start() + i) % span)
            .find(|&t| !self.in_use(t))
    }

    fn set(&mut self, tei: u8, used: bool) {
        if let Some(slot) = self.in_use.get_mut(usize::from(tei)) {
            *slot = used;
        }
    }

    /// A TEI management message from a user.
    pub(crate) fn handle_message(
        &mut self,
        now: Instant,
        msg: &TeiMessage<'_>,
        out: &mut Outputs,
        actions: &mut Vec<NetworkAction>,
    ) {
        match msg.kind {
            TeiMessageType::IdentityRequest => match self.free_tei(msg.ai) {
                Some(tei) => {
                    self.set(tei, true);
                    self.next = if tei == *AUTOMATIC_TEIS.end() { *AUTOMATIC_TEIS.start() } else { tei + 1 };
                    out.send(&TeiMessage::new(TeiMessageType::IdentityAssigned, msg.ri, tei).to_frame(Role::Nt));
                    actions.push(NetworkAction::Assign(tei));
                }
                None => {
                    out.send(&TeiMessage::new(TeiMessageType::IdentityDenied, msg.ri, TEI_GROUP).to_frame(Role::Nt))
                }
            },
            TeiMessageType::IdentityCheckResponse => {
                for ai in msg.ais() {
                    if let Some(check) = self.checks.get_mut(&ai) {
                        check.responses = check.responses.saturating_add(1);
                    } else if !self.in_use(ai) && AUTOMATIC_TEIS.contains(&ai) {
                        // A terminal holds a TEI we never gave or already took back.
                        self.send_remove(ai, out);
                    }
                }
            }
            TeiMessageType::IdentityVerify => {
                if self.in_use(msg.ai) {
                    self.check(now, msg.ai, out);
                } else if AUTOMATIC_TEIS.contains(&msg.ai) {
                    self.send_remove(msg.ai, out);
                }
            }
            _ => {}
        }
    }

    /// Starts the identity check procedure for one TEI (§5.3.5.1).
    pub(crate) fn check(&mut self, now: Instant, tei: u8, out: &mut Outputs) {
        if self.checks.contains_key(&tei) || !self.in_use(tei) {
            return;
        }
        self.send_check(tei, out);
        self.checks.insert(tei, Check { deadline: now + self.t201, sent: 1, responses: 0 });
    }

    fn send_check(&self, tei: u8, out: &mut Outputs) {
        out.send(&TeiMessage::new(TeiMessageType::IdentityCheckRequest, 0, tei).to_frame(Role::Nt));
    }

    /// Takes a TEI back (§5.3.4.1). The message is not acknowledged, so it goes out twice: a lost
    /// remove would leave a terminal holding a TEI we may give to another.
    pub(crate) fn remove(&mut self, tei: u8, out: &mut Outputs, actions: &mut Vec<NetworkAction>) {
        self.checks.remove(&tei);
        if self.in_use(tei) {
            self.set(tei, false);
            actions.push(NetworkAction::Remove(tei));
        }
        self.send_remove(tei, out);
    }

    fn send_remove(&self, tei: u8, out: &mut Outputs) {
        let frame = TeiMessage::new(TeiMessageType::IdentityRemove, 0, tei).to_frame(Role::Nt);
        out.send(&frame);
        out.send(&frame);
    }

    /// T201 expiries: a TEI answered once is in use; silence twice, or two answers, removes it.
    pub(crate) fn handle_timeout(&mut self, now: Instant, out: &mut Outputs, actions: &mut Vec<NetworkAction>) {
        let due: Vec<u8> = self.checks.iter().filter(|(_, c)| c.deadline <= now).map(|(t, _)| *t).collect();
        for tei in due {
            let Some(check) = self.checks.get(&tei).copied() else { continue };
            match check.responses {
                1 => {
                    self.checks.remove(&tei);
                }
                0 if check.sent < 2 => {
                    self.send_check(tei, out);
                    self.checks.insert(tei, Check { deadline: now + self.t201, sent: check.sent + 1, responses: 0 });
                }
                _ => self.remove(tei, out, actions),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigner_hands_out_distinct_teis_and_denies_when_full() {
        let now = Instant::now();
        let mut a = TeiAssigner::new(Duration::from_secs(1));
        let mut out = Outputs::default();
        let mut actions = Vec::new();
        for i in 0..63u16 {
            a.handle_message(now, &TeiMessage::new(TeiMessageType::IdentityRequest, i, 127), &mut out, &mut actions);
        }
        let teis: Vec<u8> =
            actions.iter().map(|a| if let NetworkAction::Assign(t) = a { *t } else { 0 }).collect::<Vec<_>>();
        assert_eq!(teis, (64..=126).collect::<Vec<u8>>());
        out.transmit.clear();
        a.handle_message(now, &TeiMessage::new(TeiMessageType::IdentityRequest, 99, 127), &mut out, &mut actions);
        let denied = out.transmit.pop().unwrap().1.to_vec();
        assert_eq!(denied, [0xfe, 0xff, 0x03, 0x0f, 0x00, 99, 0x03, 0xff]);
    }

    #[test]
    fn two_answers_to_a_check_mean_a_duplicate_and_remove_the_tei() {
        let t0 = Instant::now();
        let mut a = TeiAssigner::new(Duration::from_secs(1));
        let mut out = Outputs::default();
        let mut actions = Vec::new();
        a.handle_message(t0, &TeiMessage::new(TeiMessageType::IdentityRequest, 1, 127), &mut out, &mut actions);
        assert_eq!(actions, [NetworkAction::Assign(64)]);
        actions.clear();
        a.check(t0, 64, &mut out);
        for ri in [10, 11] {
            a.handle_message(
                t0,
                &TeiMessage::new(TeiMessageType::IdentityCheckResponse, ri, 64),
                &mut out,
                &mut actions,
            );
        }
        a.handle_timeout(t0 + Duration::from_secs(1), &mut out, &mut actions);
        assert_eq!(actions, [NetworkAction::Remove(64)]);
        assert!(!a.in_use(64));
        // One answer means the TEI is in use.
        actions.clear();
        a.handle_message(t0, &TeiMessage::new(TeiMessageType::IdentityRequest, 2, 127), &mut out, &mut actions);
        let NetworkAction::Assign(tei) = actions[0] else { panic!("{actions:?}") };
        actions.clear();
        a.check(t0, tei, &mut out);
        a.handle_message(t0, &TeiMessage::new(TeiMessageType::IdentityCheckResponse, 3, tei), &mut out, &mut actions);
        a.handle_timeout(t0 + Duration::from_secs(1), &mut out, &mut actions);
        assert!(actions.is_empty() && a.in_use(tei) && a.poll_timeout().is_none());
    }

    #[test]
    fn user_retries_with_a_new_ri_then_gives_up_after_n202() {
        let t0 = Instant::now();
        let mut u = TeiUser::new(Duration::from_secs(2), 3, 7);
        let mut out = Outputs::default();
        u.request(t0, &mut out);
        let mut now = t0;
        let mut ris = Vec::new();
        for _ in 0..3 {
            let frame = out.transmit.pop().unwrap().1.to_vec();
            assert_eq!(frame[..4], [0xfc, 0xff, 0x03, 0x0f]);
            assert_eq!(frame[6..], [0x01, 0xff]);
            ris.push(u16::from_be_bytes([frame[4], frame[5]]));
            now += Duration::from_secs(2);
            let action = u.handle_timeout(now, None, &mut out);
            assert_eq!(action == UserAction::Failed, ris.len() == 3);
        }
        assert!(out.transmit.is_empty());
        ris.dedup();
        assert_eq!(ris.len(), 3, "each request has its own Ri");
    }
}
