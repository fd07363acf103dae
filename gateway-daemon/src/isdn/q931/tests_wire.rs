//! Message and element codec tests: libpri's captured octets, traces, round trips and inputs
//! that must not panic.

use super::ie::{id, ChannelSelection, DateTime, IeError};
use super::tests::{bytes, hex};
use super::*;

/// Octets captured from libpri 1.6.0 (reference/test-peers.md §1) and libpri-style messages.
pub(crate) const CAPTURES: &[(&str, &str)] = &[
    (
        "08 02 00 01 05 04 03 80 90 a3 18 03 a9 83 81 6c 06 00 80 35 36 37 38 70 05 80 31 32 33 34 a1",
        "SETUP cref=1 (orig) bearer=speech/alaw chan=1 excl calling=5678 (unknown/unknown, allowed, user-not-screened) \
         called=1234 (unknown/unknown) complete",
    ),
    ("08 02 80 01 02 18 03 a9 83 81", "CALL PROCEEDING cref=1 (dest) chan=1 excl"),
    ("08 02 00 01 0f", "CONNECT ACKNOWLEDGE cref=1 (orig)"),
    ("08 02 00 01 45 08 02 81 90", "DISCONNECT cref=1 (orig) cause=16 (normal clearing)"),
    ("08 02 80 01 4d 08 02 81 90", "RELEASE cref=1 (dest) cause=16 (normal clearing)"),
    ("08 02 00 01 5a", "RELEASE COMPLETE cref=1 (orig)"),
    (
        "08 01 01 05 04 03 80 90 a3 18 01 89 70 05 80 31 32 33 34 a1",
        "SETUP cref=1 (orig) bearer=speech/alaw chan=1 excl called=1234 (unknown/unknown) complete",
    ),
    ("08 01 81 07 18 01 89 29 05 1a 0b 17 11 2a", "CONNECT cref=1 (dest) chan=1 excl date=26-11-23 17:42"),
    ("08 02 00 00 46 18 03 a9 83 85 79 01 80", "RESTART cref=global chan=5 excl restart=Indicated"),
    ("08 02 80 00 4e 79 01 86", "RESTART ACKNOWLEDGE cref=global (dest) restart=SingleInterface"),
    ("08 01 82 7d 08 02 80 e5 14 01 0a", "STATUS cref=2 (dest) cause=101 (message not compatible with call state) state=10"),
    ("08 01 02 7b 70 02 80 35", "INFORMATION cref=2 (orig) called=5 (unknown/unknown)"),
    ("08 01 02 01 1e 02 82 88", "ALERTING cref=2 (orig) progress=8"),
    ("08 01 02 62 1c 03 91 a1 00", "FACILITY cref=2 (orig) ie1c=[91, a1, 00]"),
    ("08 01 02 07 9e 01 01 03 7d 02 91 81", "CONNECT cref=2 (orig) shift(non-locking)=6 ie6/01=[03] ie7d=[91, 81]"),
    ("08 01 02 07 95 7a 01 00 28 01 41", "CONNECT cref=2 (orig) shift=5 ie5/7a=[00] ie5/28=[41]"),
    (
        "08 01 02 05 04 03 80 90 a3 28 04 4a 6f 68 6e 4c 03 21 a3 39 74 04 21 03 8f 37",
        "SETUP cref=2 (orig) bearer=speech/alaw display=\"John\" connected=9 (national/isdn, restricted, network) \
         redirecting=7 (national/isdn, allowed, network, reason=15)",
    ),
];

#[test]
fn captures_parse_into_the_expected_trace_and_emit_byte_identical() {
    for (octets, trace) in CAPTURES {
        let raw = bytes(octets);
        let msg = Message::parse(&raw).unwrap_or_else(|e| panic!("{octets}: {e}"));
        assert_eq!(msg.to_string(), *trace, "{octets}");
        assert_eq!(hex(&msg.to_bytes()), *octets);
    }
}

#[test]
fn setup_elements_are_typed() {
    let msg = Message::parse(&bytes(CAPTURES[0].0)).unwrap();
    assert_eq!(msg.call_ref, CallRef { len: 2, value: 1, flag: false });
    assert_eq!(msg.msg_type, MessageType::Setup);
    let cid = msg.channel_id().unwrap();
    assert!(cid.primary && cid.exclusive && !cid.d_channel);
    assert_eq!(cid.selection, ChannelSelection::Channels(vec![1].into()));
    let calling = msg.calling().unwrap();
    assert_eq!((calling.ton, calling.plan, calling.presentation), (0, 0, Some((0, 0))));
    assert_eq!(msg.called().unwrap().digits, "1234");
    assert!(msg.sending_complete());
    assert!(
        matches!(&msg.ies[0], Ie::BearerCapability(b) if *b == BearerCapability::speech(BearerCapability::LAYER1_ALAW))
    );
}

#[test]
fn channel_identification_forms() {
    let parse = |o: &str| match Ie::parse_variable(0, id::CHANNEL_ID, &bytes(o)) {
        Ie::ChannelId(c) => Ok(c),
        Ie::Invalid { error, .. } => Err(error),
        other => panic!("{other:?}"),
    };
    // BRI: B2 preferred, any channel, no channel, D-channel indicated.
    assert_eq!(parse("82").unwrap().selection, ChannelSelection::Channels(vec![2].into()));
    assert!(!parse("82").unwrap().exclusive);
    assert_eq!(parse("83").unwrap().selection, ChannelSelection::Any);
    assert_eq!(parse("80").unwrap().selection, ChannelSelection::NoChannel);
    assert!(parse("8c").unwrap().d_channel);
    // PRI: several channels, any channel, a slot map kept raw, a reserved selection.
    assert_eq!(parse("a9 83 01 82").unwrap().selection, ChannelSelection::Channels(vec![1, 2].into()));
    assert_eq!(parse("a3").unwrap().selection, ChannelSelection::Any);
    assert_eq!(parse("a9 93 ff ff").unwrap().selection, ChannelSelection::Other(bytes("93 ff ff")));
    assert_eq!(parse("aa 83 81"), Err(IeError::BadValue));
    assert_eq!(parse("a9"), Err(IeError::TooShort));
    // An interface identifier octet.
    let c = parse("e9 81 83 85").unwrap();
    assert_eq!((c.interface_id.clone(), c.first_channel()), (Some(vec![0x81]), Some(5)));
    for o in ["82", "83", "80", "8c", "a9 83 01 82", "a3", "a9 93 ff ff", "e9 81 83 85"] {
        let mut out = Vec::new();
        Ie::ChannelId(parse(o).unwrap()).emit(&mut out);
        assert_eq!(hex(&out[2..]), o);
    }
}

#[test]
fn cause_with_recommendation_and_diagnostics_round_trips() {
    let c = Ie::parse_variable(0, id::CAUSE, &bytes("02 80 e2 04"));
    let Ie::Cause(cause) = &c else { panic!("{c:?}") };
    assert_eq!(
        (cause.location, cause.recommendation, cause.value, cause.diagnostics.clone()),
        (2, Some(0), 98, vec![4])
    );
    let mut out = Vec::new();
    c.emit(&mut out);
    assert_eq!(hex(&out), "08 04 02 80 e2 04");
    assert!(matches!(Ie::parse_variable(0, id::CAUSE, &bytes("81")), Ie::Invalid { error: IeError::TooShort, .. }));
}

#[test]
fn bad_element_contents_are_kept_as_invalid() {
    for (ie, data) in [
        (id::CALLED_NUMBER, "00 31"),  // called number has no octet 3a
        (id::CALLING_NUMBER, "80 b1"), // digit with bit 8 set
        (id::BEARER_CAPABILITY, "80"), // octet 4 missing
        (id::PROGRESS, "82"),          // description missing
        (id::RESTART_INDICATOR, "81"), // reserved class
        (id::DATE_TIME, "1a 0b"),      // day missing
        (id::CALL_STATE, ""),          // empty
    ] {
        let parsed = Ie::parse_variable(0, ie, &bytes(data));
        assert!(matches!(parsed, Ie::Invalid { .. }), "{ie:#x} {data}: {parsed:?}");
        let mut out = Vec::new();
        parsed.emit(&mut out);
        assert_eq!(hex(&out[2..]), data);
    }
}

#[test]
fn date_time_positional_octets() {
    let d = DateTime { year: 26, month: 11, day: 23, hour: Some(17), minute: None, second: None };
    let mut out = Vec::new();
    Ie::DateTime(d).emit(&mut out);
    assert_eq!(hex(&out), "29 04 1a 0b 17 11");
}

#[test]
fn header_errors_are_the_ones_to_ignore() {
    assert_eq!(Message::parse(&[]), Err(ParseError::TooShort));
    assert_eq!(Message::parse(&[0x08, 0x02, 0x00]), Err(ParseError::TooShort));
    assert_eq!(Message::parse(&[0x41, 0x01, 0x01, 0x05]), Err(ParseError::ProtocolDiscriminator(0x41)));
    assert_eq!(Message::parse(&[0x08, 0x03, 0, 0, 1, 0x05]), Err(ParseError::CallReferenceLength(3)));
    // A dummy call reference and an unknown message type still parse.
    assert_eq!(Message::parse(&[0x08, 0x00, 0x62]).unwrap().call_ref.len, 0);
    assert_eq!(Message::parse(&[0x08, 0x01, 0x01, 0x33]).unwrap().msg_type, MessageType::Unknown(0x33));
}

#[test]
fn a_truncated_last_element_is_kept_verbatim() {
    let raw = bytes("08 01 01 45 08 05 81");
    let msg = Message::parse(&raw).unwrap();
    assert_eq!(msg.trailing, bytes("08 05 81"));
    assert_eq!(msg.to_bytes(), raw);
}

/// A small deterministic generator (xorshift), so that the test needs no dependency.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }

    /// Up to 40 random octets after the protocol discriminator and a call reference length
    /// below `cref_lens` (some of them lengths the header refuses).
    pub(crate) fn message(&mut self, cref_lens: u8) -> Vec<u8> {
        let len = usize::from(self.byte() % 40);
        let mut v = vec![0x08, self.byte() % cref_lens];
        v.extend((0..len).map(|_| self.byte()));
        v
    }

    /// Overwrites up to three octets of `raw` at random.
    pub(crate) fn mutate(&mut self, raw: &mut [u8]) {
        for _ in 0..(self.byte() % 4) {
            if raw.is_empty() {
                break;
            }
            let i = usize::try_from(self.next() % raw.len() as u64).unwrap_or(0);
            raw[i] = self.byte();
        }
    }
}

/// Parse never panics, and emit(parse(x)) parses to the same message: random octets, and
/// mutations of the captures.
#[test]
fn random_and_mutated_inputs_round_trip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..20_000 {
        let mut raw = if round % 2 == 0 { bytes(CAPTURES[round / 2 % CAPTURES.len()].0) } else { rng.message(3) };
        rng.mutate(&mut raw);
        if let Ok(msg) = Message::parse(&raw) {
            let _ = msg.to_string();
            let again = Message::parse(&msg.to_bytes()).expect("emitted message parses");
            assert_eq!(again, msg, "{}", hex(&raw));
        }
    }
}
