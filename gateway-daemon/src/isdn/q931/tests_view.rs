//! The receive path's [`MessageView`] against [`Message`]: on captured, mutated and random
//! octets, the view must answer every question as the parsed message does, and its §5.8.6 /
//! §5.8.7 check must be the one made on the parsed message's element list (kept here as the
//! reference it replaced). The element validators and shortcuts are held against the decoders.

use super::ie::{self, id, Ie};
use super::tests::bytes;
use super::tests_wire::{Rng, CAPTURES};
use super::view::{ChannelChoice, Check, MessageView};
use super::*;

/// The §5.8.6 / §5.8.7 check as it was made on a parsed `Message` before the view.
fn reference_check(msg: &Message) -> Check {
    for &m in msg.msg_type.mandatory() {
        match msg.codeset0().find(|ie| ie.id() == m) {
            None if msg.trailing.first() == Some(&m) => return Check::MandatoryInvalid(m),
            None => return Check::MandatoryMissing(m),
            Some(Ie::Invalid { .. }) => return Check::MandatoryInvalid(m),
            Some(_) => {}
        }
    }
    let mut result = Check::Ok;
    for ie in msg.codeset0() {
        match ie {
            Ie::Invalid { id, .. } => return Check::OptionalInvalid(*id),
            Ie::Raw { codeset: 0, id: i, .. } if !id::known(*i) => {
                if i & 0xf0 == 0 {
                    return Check::MandatoryMissing(*i);
                }
                if result == Check::Ok {
                    result = Check::Unrecognized(*i);
                }
            }
            _ => {}
        }
    }
    if let Some(&t) = msg.trailing.first() {
        return Check::OptionalInvalid(t);
    }
    result
}

fn same_answers(raw: &[u8]) {
    let parsed = Message::parse(raw);
    let view = MessageView::parse(raw);
    let (msg, view) = match (parsed, view) {
        (Ok(m), Ok(v)) => (m, v),
        (Err(a), Err(b)) => return assert_eq!(a, b, "{raw:02x?}"),
        (a, b) => panic!("{raw:02x?}: {a:?} / {b:?}"),
    };
    let ctx = format!("{raw:02x?} = {msg}");
    assert_eq!(view.to_message(), msg, "{ctx}");
    assert_eq!((view.call_ref, view.msg_type), (msg.call_ref, msg.msg_type), "{ctx}");
    assert_eq!(view.octets(), raw, "{ctx}");
    assert_eq!(view.check(), reference_check(&msg), "{ctx}");
    assert_eq!(view.cause().as_ref(), msg.cause(), "{ctx}");
    assert_eq!(view.cause_value(), msg.cause().map(|c| c.value), "{ctx}");
    assert_eq!(view.channel_id().as_ref(), msg.channel_id(), "{ctx}");
    assert_eq!(view.first_channel(), msg.channel_id().and_then(ChannelId::first_channel), "{ctx}");
    let choice = msg.channel_id().map(|c| ChannelChoice {
        no_channel: c.selection == ChannelSelection::NoChannel,
        first: c.first_channel(),
        exclusive: c.exclusive,
    });
    assert_eq!(view.channel_choice(), choice, "{ctx}");
    assert_eq!(view.called().as_ref(), msg.called(), "{ctx}");
    assert_eq!(view.calling().as_ref(), msg.calling(), "{ctx}");
    let bearer = msg.codeset0().find_map(|ie| if let Ie::BearerCapability(b) = ie { Some(b) } else { None });
    assert_eq!(view.bearer().as_ref(), bearer, "{ctx}");
    assert_eq!(view.call_state(), msg.call_state(), "{ctx}");
    assert_eq!(view.sending_complete(), msg.sending_complete(), "{ctx}");
    let keypad = msg.codeset0().find_map(|ie| if let Ie::Keypad(k) = ie { Some(k.as_slice()) } else { None });
    assert_eq!(view.keypad(), keypad, "{ctx}");
    let progress: Vec<_> =
        msg.codeset0().filter_map(|ie| if let Ie::Progress(p) = ie { Some(*p) } else { None }).collect();
    assert_eq!(view.progress().collect::<Vec<_>>(), progress, "{ctx}");
    assert_eq!(view.codeset0().collect::<Vec<_>>(), msg.codeset0().cloned().collect::<Vec<_>>(), "{ctx}");
    for i in [
        id::BEARER_CAPABILITY,
        id::CAUSE,
        id::CHANNEL_ID,
        id::NOTIFICATION,
        id::DISPLAY,
        0x01,
        0x7f,
        id::SENDING_COMPLETE,
    ] {
        assert_eq!(view.has(i), msg.has(i), "{ctx} has {i:#04x}");
    }
    assert_eq!(view.to_string(), msg.to_string());
}

#[test]
fn the_view_answers_as_the_parsed_message_on_captured_mutated_and_random_octets() {
    let mut rng = Rng(0x51f1_5e4d_0bad_cafe);
    // Element identifiers the check and the accessors care about, to draw often.
    const IDS: [u8; 16] =
        [0x04, 0x08, 0x14, 0x18, 0x1e, 0x27, 0x2c, 0x28, 0x29, 0x6c, 0x70, 0x79, 0x4c, 0x74, 0x01, 0x3a];
    for round in 0..60_000 {
        let mut raw = match round % 3 {
            0 => bytes(CAPTURES[round / 3 % CAPTURES.len()].0),
            1 => {
                // A header, then elements of the interesting kinds with random contents.
                let mut v = vec![0x08, 2, rng.byte(), rng.byte(), rng.byte() & 0x7f];
                for _ in 0..(rng.byte() % 6) {
                    match rng.byte() % 8 {
                        0 => v.push(0x90 | rng.byte() & 0x0f),
                        1 => v.push(0xa1),
                        _ => {
                            v.push(IDS[usize::from(rng.byte()) % IDS.len()]);
                            let len = rng.byte() % 6;
                            v.push(len);
                            v.extend((0..len).map(|_| rng.byte()));
                        }
                    }
                }
                v
            }
            _ => rng.message(4),
        };
        rng.mutate(&mut raw);
        if rng.byte() % 8 == 0 {
            raw.truncate(usize::from(rng.byte()) % (raw.len() + 1));
        }
        same_answers(&raw);
    }
}

#[test]
fn long_messages_are_read_alike() {
    // Elements placed beyond 255 octets: longer than an I frame, but the parser takes anything.
    let mut raw = bytes("08 02 00 01 45");
    for _ in 0..300 {
        raw.extend_from_slice(&[0x28, 0x01, 0x41]);
    }
    raw.extend_from_slice(&bytes("08 02 81 90 18 03 a9 83 85 1e 02 82 88"));
    same_answers(&raw);
    raw.extend_from_slice(&bytes("08 01"));
    same_answers(&raw);
}

/// Contents of every length up to 2 octets, and random longer ones from octets the codings
/// care about.
fn contents(rng: &mut Rng) -> impl Iterator<Item = Vec<u8>> + '_ {
    let short = (0..=0xffffu32).flat_map(|n| {
        let [_, _, a, b] = n.to_be_bytes();
        let mut v = vec![vec![a, b]];
        if b == 0 {
            v.push(vec![a]);
            if a == 0 {
                v.push(Vec::new());
            }
        }
        v
    });
    const OCTETS: [u8; 12] = [0x00, 0x01, 0x03, 0x18, 0x21, 0x3f, 0x7f, 0x80, 0x81, 0x83, 0xa9, 0xe9];
    let long = (0..40_000).map(move |_| {
        let len = 3 + usize::from(rng.byte() % 8);
        (0..len)
            .map(|_| if rng.byte() % 2 == 0 { OCTETS[usize::from(rng.byte()) % OCTETS.len()] } else { rng.byte() })
            .collect()
    });
    short.chain(long)
}

#[test]
fn element_validators_agree_with_the_decoders() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let typed = [
        id::BEARER_CAPABILITY,
        id::CHANNEL_ID,
        id::CALLING_NUMBER,
        id::CALLED_NUMBER,
        id::CONNECTED_NUMBER,
        id::REDIRECTING_NUMBER,
        id::CAUSE,
        id::PROGRESS,
        id::CALL_STATE,
        id::RESTART_INDICATOR,
        id::DISPLAY,
        id::KEYPAD,
        id::DATE_TIME,
        id::FACILITY,
    ];
    for d in contents(&mut rng) {
        for i in typed {
            let decoded = Ie::parse_variable(0, i, &d);
            let valid = !matches!(decoded, Ie::Invalid { .. });
            assert_eq!(ie::valid_contents(i, &d), valid, "{i:#04x} {d:02x?}: {decoded}");
            if let Ie::ChannelId(c) = decoded {
                assert_eq!(ie::first_channel_of(&d), c.first_channel(), "{d:02x?}");
            }
        }
    }
}

#[test]
fn a_view_fits_in_48_octets() {
    // The receive path builds one per message: a cache line with room to spare.
    assert!(std::mem::size_of::<MessageView<'_>>() <= 48, "{}", std::mem::size_of::<MessageView<'_>>());
}

#[test]
fn channel_choice_reads_the_selection_the_channel_and_the_exclusive_bit() {
    let choice = |hex: &str| MessageView::parse(&bytes(hex)).unwrap().channel_choice();
    let chosen = |no_channel, first, exclusive| Some(ChannelChoice { no_channel, first, exclusive });
    // Primary rate, B5 exclusive and preferred; no channel; any channel.
    assert_eq!(choice("08 02 00 01 05 18 03 a9 83 85"), chosen(false, Some(5), true));
    assert_eq!(choice("08 02 00 01 05 18 03 a1 83 85"), chosen(false, Some(5), false));
    assert_eq!(choice("08 02 00 01 05 18 01 a8"), chosen(true, None, true));
    assert_eq!(choice("08 02 00 01 05 18 01 a3"), chosen(false, None, false));
    // Basic rate, B2 exclusive.
    assert_eq!(choice("08 01 01 05 18 01 8a"), chosen(false, Some(2), true));
    // Channel numbers without the last one's extension bit: invalid, so not read; none at all.
    assert_eq!(choice("08 02 00 01 05 18 03 a9 83 05"), None);
    assert_eq!(choice("08 02 00 01 05"), None);
}

#[test]
fn cause_value_is_octet_4_after_octet_3_or_3a() {
    let value = |hex: &str| MessageView::parse(&bytes(hex)).unwrap().cause_value();
    assert_eq!(value("08 02 00 01 45 08 02 80 90"), Some(16));
    assert_eq!(value("08 02 00 01 45 08 03 00 81 90"), Some(16));
    assert_eq!(value("08 02 00 01 45 08 04 82 9f 88 01"), Some(31));
    // Octet 4 without its extension bit, or missing: invalid, so not read; no cause at all.
    assert_eq!(value("08 02 00 01 45 08 02 80 10"), None);
    assert_eq!(value("08 02 00 01 45 08 01 80"), None);
    assert_eq!(value("08 02 00 01 45"), None);
}

#[test]
fn an_event_fits_in_32_octets() {
    // Queued and polled for every step of every call (ARCHITECTURE.md names the size).
    assert!(std::mem::size_of::<Q931Event>() <= 32, "{}", std::mem::size_of::<Q931Event>());
}
