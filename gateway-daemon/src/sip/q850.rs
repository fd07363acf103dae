//! Q.850 cause ⇄ SIP status mapping (RFC 3398 §7.2.4.1 and §8.2.6.1) as data, and the
//! `Reason: Q.850;cause=N` header (RFC 3326) built from and read into causes.

use super::header::Reason;
use super::message::Message;

/// Q.850 cause → SIP status, RFC 3398 §7.2.4.1. Cause 16 (normal clearing) is absent: it is
/// a BYE or CANCEL, not a status.
pub const CAUSE_TO_STATUS: &[(u8, u16)] = &[
    (1, 404),
    (2, 404),
    (3, 404),
    (17, 486),
    (18, 408),
    (19, 480),
    (20, 480),
    (21, 403),
    (22, 410),
    (23, 410),
    (26, 404),
    (27, 502),
    (28, 484),
    (29, 501),
    (31, 480),
    (34, 503),
    (38, 503),
    (41, 503),
    (42, 503),
    (47, 503),
    (55, 403),
    (57, 403),
    (58, 503),
    (65, 488),
    (70, 488),
    (79, 501),
    (87, 403),
    (88, 503),
    (102, 504),
    (111, 500),
    (127, 500),
];

/// SIP status → Q.850 cause, RFC 3398 §8.2.6.1. 487 (the caller cancelled) is not in the RFC
/// table; we clear with 16 as the call simply ended. 488 and 606 are "by Warning header" in
/// the RFC; without one we use 65 (bearer capability not implemented), the inverse of 65 → 488.
pub const STATUS_TO_CAUSE: &[(u16, u8)] = &[
    (400, 41),
    (401, 21),
    (402, 21),
    (403, 21),
    (404, 1),
    (405, 63),
    (406, 79),
    (407, 21),
    (408, 102),
    (410, 22),
    (413, 127),
    (414, 127),
    (415, 79),
    (416, 127),
    (420, 127),
    (421, 127),
    (423, 127),
    (480, 18),
    (481, 41),
    (482, 25),
    (483, 25),
    (484, 28),
    (485, 1),
    (486, 17),
    (487, 16),
    (488, 65),
    (500, 41),
    (501, 79),
    (502, 38),
    (503, 41),
    (504, 102),
    (505, 127),
    (513, 127),
    (600, 17),
    (603, 21),
    (604, 1),
    (606, 65),
];

/// The SIP status to answer an INVITE with when the TDM side clears with `cause`. `None` for
/// normal clearing (16), which is not a failure. Causes the table lacks map by their Q.850
/// class: normal events 480, resource unavailable 503, service not available 503, not
/// implemented 501, invalid message and protocol error 500, interworking 500.
pub fn status_for_cause(cause: u8) -> Option<u16> {
    if cause == 16 {
        return None;
    }
    if let Some((_, s)) = CAUSE_TO_STATUS.iter().find(|(c, _)| *c == cause) {
        return Some(*s);
    }
    Some(match cause {
        0..=31 => 480,
        32..=63 => 503,
        64..=79 => 501,
        _ => 500,
    })
}

/// The Q.850 cause to clear the TDM side with for a final SIP failure `status`. A status the
/// table lacks is treated as the x00 of its class (RFC 3261 §8.1.3.2).
pub fn cause_for_status(status: u16) -> u8 {
    let find = |s: u16| STATUS_TO_CAUSE.iter().find(|(x, _)| *x == s).map(|(_, c)| *c);
    find(status).or_else(|| find(status / 100 * 100)).unwrap_or(127)
}

/// The cause to use for a failed call: the Q.850 Reason of the response when it carries one
/// (RFC 3326, the far gateway's own cause is more precise than the table), else the table.
pub fn cause_of_response(resp: &Message) -> Option<u8> {
    let status = resp.status()?;
    Some(resp.q850_reason().and_then(|r| r.q850_cause()).unwrap_or_else(|| cause_for_status(status)))
}

/// Q.850 cause texts for the Reason header's `text` parameter.
pub fn cause_text(cause: u8) -> Option<&'static str> {
    Some(match cause {
        1 => "Unallocated number",
        2 => "No route to specified transit network",
        3 => "No route to destination",
        16 => "Normal call clearing",
        17 => "User busy",
        18 => "No user responding",
        19 => "No answer from user",
        20 => "Subscriber absent",
        21 => "Call rejected",
        22 => "Number changed",
        27 => "Destination out of order",
        28 => "Invalid number format",
        29 => "Facility rejected",
        31 => "Normal, unspecified",
        34 => "No circuit/channel available",
        38 => "Network out of order",
        41 => "Temporary failure",
        42 => "Switching equipment congestion",
        44 => "Requested circuit/channel not available",
        47 => "Resource unavailable, unspecified",
        58 => "Bearer capability not presently available",
        65 => "Bearer capability not implemented",
        79 => "Service or option not implemented, unspecified",
        88 => "Incompatible destination",
        102 => "Recovery on timer expiry",
        111 => "Protocol error, unspecified",
        127 => "Interworking, unspecified",
        _ => return None,
    })
}

/// The `Reason` header value for a cause: `Q.850;cause=17;text="User busy"`.
pub fn reason_for_cause(cause: u8) -> Reason {
    Reason::q850(cause, cause_text(cause))
}

/// Adds `Reason: Q.850;cause=N` to a BYE, CANCEL or failure response.
pub fn add_reason(msg: &mut Message, cause: u8) {
    msg.push_header("Reason", reason_for_cause(cause));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_well_formed() {
        for w in CAUSE_TO_STATUS.windows(2) {
            assert!(w[0].0 < w[1].0, "sorted, no duplicates");
        }
        for w in STATUS_TO_CAUSE.windows(2) {
            assert!(w[0].0 < w[1].0, "sorted, no duplicates");
        }
        assert!(CAUSE_TO_STATUS.iter().all(|(c, s)| *c <= 127 && (400..700).contains(s)));
        assert!(STATUS_TO_CAUSE.iter().all(|(s, c)| *c <= 127 && (400..700).contains(s)));
    }

    #[test]
    fn both_ways() {
        assert_eq!(status_for_cause(17), Some(486));
        assert_eq!(status_for_cause(1), Some(404));
        assert_eq!(status_for_cause(34), Some(503));
        assert_eq!(status_for_cause(16), None);
        assert_eq!(status_for_cause(44), Some(503), "class default");
        assert_eq!(status_for_cause(100), Some(500), "class default");
        assert_eq!(cause_for_status(486), 17);
        assert_eq!(cause_for_status(404), 1);
        assert_eq!(cause_for_status(503), 41);
        assert_eq!(cause_for_status(488), 65);
        assert_eq!(cause_for_status(499), 41, "x00 of its class");
        assert_eq!(cause_for_status(699), 17);
        // The causes routing falls over on (34, 44) come back as 503, and 503 as 41, which
        // is itself a congestion-class cause: fall-over works in both directions.
        assert_eq!(cause_for_status(status_for_cause(34).unwrap()), 41);
        // A round trip through the main call-failure causes keeps their meaning.
        for c in [1u8, 17, 28] {
            assert_eq!(cause_for_status(status_for_cause(c).unwrap()), c);
        }
    }

    #[test]
    fn reason_header() {
        let req = Message::parse(b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nReason: SIP;cause=600, Q.850;cause=34;text=\"No circuit\"\r\n\r\n").unwrap();
        assert_eq!(cause_of_response(&req), Some(34), "the Reason wins over the table");
        let mut bye = Message::response_to(&req, 486, "Busy Here");
        assert_eq!(cause_of_response(&bye), Some(17));
        add_reason(&mut bye, 17);
        assert_eq!(bye.header("reason"), Some("Q.850;cause=17;text=\"User busy\""));
        assert_eq!(bye.q850_reason().unwrap().q850_cause(), Some(17));
    }
}
