//! Fuzz target: the media re-INVITE machine (`sip::reinvite`) under any order of sends, refusals,
//! final responses (any status, with the bytes as an answer SDP or none) and time steps. Nothing
//! may panic; a finished machine never wants to send again; a glare wait stays within RFC 3261
//! §14.1's 4 s; it sends at most `MAX_GLARES + 1` times.
#![no_main]

use std::time::{Duration, Instant};

use gateway_daemon::sip::offer_answer::LocalMedia;
use gateway_daemon::sip::reinvite::{pcma_offer, MediaReinvite, State, MAX_GLARES};
use gateway_daemon::sip::sdp::{Direction, SessionDescription};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let local = LocalMedia {
        addr: "192.0.2.1".parse().expect("ip"),
        port: 30000,
        session_id: 1,
        session_version: 2,
        direction: Direction::SendRecv,
    };
    let (offer, prefs) = pcma_offer(&local, Some(101), 20);
    let owner = data.first().is_some_and(|b| b & 1 == 1);
    let mut r = MediaReinvite::new(t0, offer, prefs, owner, u64::try_from(data.len()).unwrap_or(0));
    let mut now = t0;
    let mut rest = data.get(1..).unwrap_or_default();
    while let [op, a, b, tail @ ..] = rest {
        rest = tail;
        now += Duration::from_millis(u64::from(*a) * 20);
        match op % 4 {
            0 => {
                if r.poll_send(now).is_some() {
                    r.sent(now, b & 1 == 1);
                }
            }
            1 => {
                let status = 100 + u16::from(*a) * 3 + u16::from(*b);
                let n = usize::from(*b).min(tail.len());
                let sdp = SessionDescription::parse(&tail[..n]).ok();
                r.on_final(now, status, sdp.as_ref());
                rest = &tail[n..];
            }
            2 => r.on_final(now, 491, None),
            _ => {
                if let State::Glare { at } = r.state() {
                    assert!(*at <= now + Duration::from_secs(4), "glare wait beyond 4 s");
                }
            }
        }
        if r.finished() {
            assert!(r.poll_timeout().is_none() && r.poll_send(now + Duration::from_secs(3600)).is_none());
        }
        assert!(r.sent <= MAX_GLARES + 1, "sent {} times", r.sent);
    }
});
