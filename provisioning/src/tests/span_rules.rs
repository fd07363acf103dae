//! The rules of one span: keys, types and ranges, line settings against the kind, signalling
//! against the port, channel lists, and the span-level ISDN keys.

use hal::{Framing, Law, LineCoding, SpanKind, Termination};

use super::{check, ok};
use crate::{EchoMode, Incoming, Layer1Presence, Signalling, SwitchType};

#[test]
fn toml_syntax_errors_carry_the_parsers_position() {
    check(
        r#"[board           #~ toml: TOML syntax error: invalid table header
model = "sim-a"
"#,
    );
    check("[board]\nmodel = \"sim-a\"\nx = = 1 #~ toml: TOML syntax error\n");
    check("[board]\nmodel = \"sim-a\"\nmodel = \"b\" #~ toml: TOML syntax error\n");
}

#[test]
fn unknown_keys_are_named_with_the_closest_known_key() {
    check(
        r#"[board]
        model = "sim-a"
        modle = "x"         #~ board.modle: unknown key `modle`; did you mean `model`?
        [[board.span]]
        span = 1
        kind = "e1"
        timming = 1         #~ board.span[0].timming: unknown key `timming`; did you mean `timing`?
        colour = "red"      #~ board.span[0].colour: unknown key `colour` (expected one of: span, name
        echo = { mode = "off", tapz = 64 }   #~ board.span[0].echo.tapz: unknown key `tapz`; did you mean `taps`?
        [board.span.sim]
        lien = "open"       #~ board.span[0].sim.lien: unknown key `lien`; did you mean `line`?
        [htp]               #~ htp: unknown key `htp`; did you mean `http`?
        "#,
    );
    ok("[board]\nmodel = \"sim-a\"\n[[board.span]]\nspan = 1\nkind = \"e1\"\ntiming = 1\n");
}

#[test]
fn wrong_types_name_what_was_expected() {
    check(
        r#"[board]
        model = 7                   #~ board.model: expected a string, found an integer
        [[board.span]]
        span = "1"                  #~ board.span[0].span: expected an integer, found a string
        kind = "e1"
        timing = "one"              #~ board.span[0].timing: expected an integer, found a string
        crc4 = "yes"                #~ board.span[0].crc4: expected a boolean
        bchan = [1, 2]              #~ board.span[0].bchan: expected a channel list
        group = "1"                 #~ board.span[0].group: expected a group number, found a string
        echo = "yes"                #~ board.span[0].echo: expected a table, found a string
        "#,
    );
    check(
        r#"board = 1                   #~ board: expected a table, found an integer
        "#,
    );
}

#[test]
fn out_of_range_values() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 0                    #~ board.span[0].span: 0 is out of range: must be 1..=128
        kind = "t1"
        timing = 256                #~ board.span[0].timing: 256 is out of range: must be 0..=255
        lbo = 8                     #~ board.span[0].lbo: 8 is out of range: must be 0..=7
        group = [1, 64]             #~ board.span[0].group: group 64 is out of range: must be 0..=63
        echo = { taps = 100 }       #~ board.span[0].echo.taps: 100 taps: must be a power of two in 32..=1024
        [[board.span]]
        span = 2
        kind = "e1"
        group = [3, 3]              #~ board.span[1].group: group 3 listed twice
        echo = { taps = 2048 }      #~ board.span[1].echo.taps: 2048 taps
        [[board.span]]
        span = 3
        kind = "e1"
        echo = { nlp = "no" }       #~ board.span[2].echo.nlp: expected a boolean (true or false)
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 128
        kind = "t1"
        timing = 255
        lbo = 7
        group = [0, 63]
        echo = { mode = "off", taps = 1024, nlp = false }
        [[board.span]]
        span = 2
        kind = "e1"
        "#);
    let s = &c.board.spans[0];
    assert_eq!((s.number, s.hal.timing, s.hal.lbo, s.groups.clone()), (128, 255, 7, vec![0, 63]));
    assert_eq!((s.echo.mode, s.echo.taps, s.echo.nlp), (EchoMode::Off, 1024, false));
    assert!(c.board.spans[1].echo.nlp, "the NLP is on unless turned off");
}

#[test]
fn missing_required_keys() {
    check(
        r#"[board]                     #~ board.model: missing required key `model` in [board]
        [[board.span]]              #~ board.span[0].span: missing required key `span` #~ board.span[0].kind: missing required key `kind`
        name = "x"
        "#,
    );
    check("[log] #~ board: missing the [board] table\nlevel = \"info\"\n");
}

#[test]
fn defaults_follow_the_kind() {
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        [[board.span]]
        span = 2
        kind = "t1"
        termination = "nt"
        [[board.span]]
        span = 3
        kind = "bri"
        [[board.span]]
        span = 4
        kind = "fxs"
        [[board.span]]
        span = 5
        kind = "fxo"
        [[board.span]]
        span = 6
        kind = "e1"
        framing = "cas"
        "#);
    let s = &c.board.spans;
    assert_eq!(
        (s[0].hal.framing, s[0].hal.coding, s[0].hal.crc4, s[0].hal.law),
        (Framing::Ccs, LineCoding::Hdb3, true, Law::Alaw)
    );
    assert_eq!(
        (s[0].signalling, s[0].switchtype, s[0].hal.dchan),
        (Signalling::PriCpe, SwitchType::EuroIsdn, Some(16))
    );
    assert_eq!(s[0].hal.bchans, (1..=31).filter(|c| *c != 16).collect::<Vec<u8>>());
    assert_eq!((s[1].hal.framing, s[1].hal.coding, s[1].hal.law), (Framing::Esf, LineCoding::B8zs, Law::Mulaw));
    assert_eq!(
        (s[1].signalling, s[1].switchtype, s[1].hal.dchan),
        (Signalling::PriNet, SwitchType::National, Some(24))
    );
    assert_eq!(
        (s[2].signalling, s[2].hal.dchan, s[2].hal.bchans.clone()),
        (Signalling::BriCpePtmp, Some(3), vec![1, 2])
    );
    assert_eq!((s[3].signalling, s[3].hal.dchan, s[3].hal.bchans.clone()), (Signalling::FxoKs, None, vec![1]));
    assert_eq!(s[4].signalling, Signalling::FxsKs);
    assert_eq!((s[5].signalling, s[5].hal.dchan, s[5].hal.bchans.len()), (Signalling::Cas, None, 30));
    assert_eq!((s[0].name.as_str(), s[0].context.as_str()), ("span 1", "default"));
    assert_eq!((s[0].echo.mode, s[0].echo.taps), (EchoMode::Software, 128));
    assert_eq!(s[0].layer1_presence, Layer1Presence::Required);
    // Signalling alone decides the termination.
    let c = ok("[board]\nmodel = \"sim-a\"\n[[board.span]]\nspan = 1\nkind = \"bri\"\nsignalling = \"bri_net\"\n");
    assert_eq!(c.board.spans[0].hal.termination, Termination::Nt);
}

#[test]
fn framing_coding_crc4_lbo_must_fit_the_kind() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        coding = "b8zs"         #~ board.span[0].coding: coding b8zs does not fit an E1 span: use hdb3 or ami
        lbo = 3                 #~ board.span[0].lbo: lbo (line build-out) applies to T1 only
        [[board.span]]
        span = 2
        kind = "t1"
        coding = "hdb3"         #~ board.span[1].coding: coding hdb3 does not fit a T1 span: use b8zs or ami
        crc4 = true             #~ board.span[1].crc4: crc4 is an E1 option
        [[board.span]]
        span = 3
        kind = "e1"
        framing = "esf"         #~ board.span[2].framing: framing esf does not fit an E1 span: use ccs or cas
        [[board.span]]
        span = 4
        kind = "t1"
        framing = "cas"         #~ board.span[3].framing: framing cas does not fit a T1 span: use esf or d4
        [[board.span]]
        span = 5
        kind = "fxs"
        framing = "ccs"         #~ board.span[4].framing: framing does not apply to an FXS port
        coding = "ami"          #~ board.span[4].coding: coding does not apply to an FXS port
        termination = "nt"      #~ board.span[4].termination: termination nt does not apply to an FXS port
        timing = 1              #~ board.span[4].timing: an FXS port is never a clock source
        [[board.span]]
        span = 6
        kind = "bri"
        coding = "hdb3"         #~ board.span[5].coding: coding hdb3 does not fit a BRI span: use ami
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "t1"
        framing = "d4"
        coding = "ami"
        crc4 = false
        lbo = 5
        [[board.span]]
        span = 2
        kind = "e1"
        coding = "ami"
        crc4 = false
        lbo = 0
        [[board.span]]
        span = 3
        kind = "fxo"
        termination = "te"
        "#);
    let s = &c.board.spans;
    assert_eq!((s[0].hal.framing, s[0].hal.coding, s[0].hal.lbo), (Framing::D4, LineCoding::Ami, 5));
    assert_eq!((s[1].hal.coding, s[1].hal.crc4), (LineCoding::Ami, false));
}

#[test]
fn signalling_must_fit_the_port() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "bri"
        signalling = "pri_cpe"      #~ board.span[0].signalling: pri_cpe needs an E1 or T1 span; this span is BRI: use bri_cpe_ptmp
        [[board.span]]
        span = 2
        kind = "e1"
        signalling = "bri_net"      #~ board.span[1].signalling: bri_net needs a BRI span; this span is E1: use pri_net
        [[board.span]]
        span = 3
        kind = "fxo"
        signalling = "fxo_ks"       #~ board.span[2].signalling: fxo_ks runs on FXS ports
        [[board.span]]
        span = 4
        kind = "fxs"
        signalling = "fxs_ls"       #~ board.span[3].signalling: fxs_ls runs on FXO ports
        [[board.span]]
        span = 5
        kind = "t1"
        signalling = "cas"          #~ board.span[4].signalling: cas (E1 channel-associated signalling) needs an E1 span
        [[board.span]]
        span = 6
        kind = "fxs"
        signalling = "pri_net"      #~ board.span[5].signalling: pri_net needs an E1 or T1 span, not an FXS port
        [[board.span]]
        span = 7
        kind = "e1"
        signalling = "pri_cp"       #~ board.span[6].signalling: unknown signalling `pri_cp`: expected one of
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "bri"
        signalling = "bri_cpe"
        [[board.span]]
        span = 2
        kind = "t1"
        signalling = "pri_cpe"
        [[board.span]]
        span = 3
        kind = "fxo"
        signalling = "fxs_gs"
        [[board.span]]
        span = 4
        kind = "e1"
        signalling = "none"
        "#);
    assert_eq!(c.board.spans[3].hal.dchan, None);
}

#[test]
fn cas_and_the_d_channel() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        framing = "ccs"             #~ board.span[0].framing: cas signalling needs framing = "cas"
        signalling = "cas"
        [[board.span]]
        span = 2
        kind = "e1"
        framing = "cas"
        signalling = "pri_cpe"      #~ board.span[1].signalling: pri_cpe needs a D-channel, but an E1 with framing cas has none
        [[board.span]]
        span = 3
        kind = "e1"
        signalling = "cas"
        bchan = "1-31"              #~ board.span[2].bchan: timeslot 16 carries the signalling of an E1 with framing cas
        [[board.span]]
        span = 4
        kind = "fxs"
        dchan = 1                   #~ board.span[3].dchan: dchan only applies to ISDN signalling
        [[board.span]]
        span = 5
        kind = "bri"
        dchan = 2                   #~ board.span[4].dchan: the BRI D-channel is channel 3
        [[board.span]]
        span = 6
        kind = "t1"
        dchan = 30                  #~ board.span[5].dchan: channel 30 is outside 1..=24, the channels of a T1 span
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        framing = "cas"
        signalling = "cas"
        bchan = "1-15,17-31"
        [[board.span]]
        span = 2
        kind = "e1"
        dchan = 1
        bchan = "2-31"
        "#);
    assert_eq!((c.board.spans[1].hal.dchan, c.board.spans[1].hal.bchans.len()), (Some(1), 30));
}

#[test]
fn termination_must_match_the_isdn_side() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        termination = "te"          #~ board.span[0].termination: termination te is the user side but signalling pri_net is not
        signalling = "pri_net"
        [[board.span]]
        span = 2
        kind = "bri"
        termination = "nt"          #~ board.span[1].termination: termination nt is the network side but signalling bri_cpe_ptmp is not
        signalling = "bri_cpe_ptmp"
        "#,
    );
    ok("[board]\nmodel = \"sim-a\"\n[[board.span]]\nspan = 1\nkind = \"e1\"\ntermination = \"nt\"\nsignalling = \"pri_net\"\n");
}

#[test]
fn channel_lists() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        bchan = "1-15,,17-x"        #~ board.span[0].bchan: empty item #~ board.span[0].bchan: `x` in `17-x` is not a channel number
        [[board.span]]
        span = 2
        kind = "t1"
        bchan = "1-25"              #~ board.span[1].bchan: channel 25 is outside 1..=24, the channels of a T1 span
        [[board.span]]
        span = 3
        kind = "e1"
        bchan = "0-15"              #~ board.span[2].bchan: channel 0 is outside 1..=31, the channels of an E1 span (TS0 carries the E1 framing)
        [[board.span]]
        span = 4
        kind = "e1"
        bchan = "1-10,5-8,17-31"    #~ board.span[3].bchan: channels 5-8 listed twice
        [[board.span]]
        span = 5
        kind = "e1"
        bchan = "1-31"              #~ board.span[4].bchan: channel 16 is the D-channel and cannot also be a B-channel
        [[board.span]]
        span = 6
        kind = "bri"
        bchan = "1-2"
        dchan = 3
        [[board.span]]
        span = 7
        kind = "bri"
        bchan = "1-4"               #~ board.span[6].bchan: channel 4 is outside 1..=3, the channels of a BRI span
        [[board.span]]
        span = 8
        kind = "fxo"
        bchan = 2                   #~ board.span[7].bchan: channel 2 is outside 1..=1, the channels of an FXO port
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        bchan = "1-5"
        [[board.span]]
        span = 2
        kind = "fxs"
        bchan = 1
        "#);
    assert_eq!(c.board.spans[0].hal.bchans, vec![1, 2, 3, 4, 5]);
    // The column points at the offending item inside the string.
    let e =
        crate::parse_str("t", "[board]\nmodel = \"s\"\n[[board.span]]\nspan = 1\nkind = \"e1\"\nbchan = \"1-5,40\"\n")
            .unwrap_err();
    assert_eq!((e.0[0].line, e.0[0].col), (6, 14), "{e}");
}

#[test]
fn isdn_keys_need_isdn_signalling() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "fxs"
        switchtype = "euroisdn"     #~ board.span[0].switchtype: switchtype only applies to ISDN signalling, not fxo_ks
        layer1_presence = "ignore"  #~ board.span[0].layer1_presence: layer1_presence only applies to ISDN
        [[board.span]]
        span = 2
        kind = "e1"
        switchtype = "eurosidn"     #~ board.span[1].switchtype: unknown switchtype `eurosidn`: expected one of euroisdn, national, ni1, dms100, 4ess, 5ess, qsig; did you mean `euroisdn`?
        context = ""                #~ board.span[1].context: context must not be empty
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "bri"
        switchtype = "qsig"
        overlapdial = "both"
        layer1_presence = "ignore"
        layer2_persistence = "keep_up"
        "#);
    assert_eq!(c.board.spans[0].switchtype, SwitchType::Qsig);
}

#[test]
fn spans_have_unique_numbers_and_clock_priorities() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        timing = 1
        [[board.span]]
        span = 1                    #~ board.span[1].span: span 1 is defined twice (also board.span[0])
        kind = "e1"
        timing = 1                  #~ board.span[1].timing: timing priority 1 is also span 1's
        [[board.span]]
        span = 3
        kind = "e1"
        timing = 0
        [[board.span]]
        span = 4
        kind = "e1"
        timing = 0
        "#,
    );
    let c = ok("[board]\nmodel = \"s\"\n[[board.span]]\nspan = 2\nkind = \"e1\"\ntiming = 2\n[[board.span]]\nspan = 1\nkind = \"t1\"\ntiming = 1\n");
    assert_eq!(c.board.spans.iter().map(|s| s.number).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(c.board.spans[1].hal.kind, SpanKind::T1);
}

#[test]
fn spans_may_be_written_as_inline_tables() {
    let c = ok("[board]\nmodel = \"s\"\nspan = [{ span = 1, kind = \"e1\" }, { span = 2, kind = \"bri\" }]\n");
    assert_eq!(c.board.spans.len(), 2);
    check("[board]\nmodel = \"s\"\nspan = [1] #~ board.span[0]: expected a table, found an integer\n");
    check("[board]\nmodel = \"s\"\nspan = 1 #~ board.span: expected an array of tables\n");
}

#[test]
fn pcap_names_one_file_per_isdn_span() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "fxs"
        pcap = "/tmp/a.pcap"        #~ board.span[0].pcap: pcap only applies to ISDN signalling, not fxo_ks
        [[board.span]]
        span = 2
        kind = "e1"
        pcap = ""                   #~ board.span[1].pcap: pcap must name a file
        [[board.span]]
        span = 3
        kind = "e1"
        pcap = "/tmp/d.pcap"
        [[board.span]]
        span = 4
        kind = "e1"
        pcap = "/tmp/d.pcap"        #~ board.span[3].pcap: pcap file /tmp/d.pcap is also board.span[2]'s
        [[board.span]]
        span = 5
        kind = "bri"
        pcap = 5                    #~ board.span[4].pcap: expected a string, found an integer
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "bri"
        pcap = "/var/tmp/bri.pcap"
        [[board.span]]
        span = 2
        kind = "e1"
        "#);
    assert_eq!(c.board.spans[0].pcap.as_deref(), Some(std::path::Path::new("/var/tmp/bri.pcap")));
    assert_eq!(c.board.spans[1].pcap, None, "no capture unless asked");
}

#[test]
fn incoming_says_ring_answer_or_reject_with_a_cause() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "fxs"
        incoming = "answer"         #~ board.span[0].incoming: incoming only applies to ISDN signalling
        [[board.span]]
        span = 2
        kind = "e1"
        incoming = "reject:0"       #~ board.span[1].incoming: the cause in `reject:0` must be a Q.850 cause value 1..=127
        [[board.span]]
        span = 3
        kind = "e1"
        incoming = "reject:x"       #~ board.span[2].incoming: the cause in `reject:x` must be
        [[board.span]]
        span = 4
        kind = "e1"
        incoming = "pickup"         #~ board.span[3].incoming: unknown incoming `pickup`: expected ring, answer or reject:CAUSE
        [[board.span]]
        span = 5
        kind = "bri"
        incoming = 17               #~ board.span[4].incoming: expected a string, found an integer
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        incoming = "reject:17"
        [[board.span]]
        span = 2
        kind = "e1"
        incoming = "answer"
        [[board.span]]
        span = 3
        kind = "bri"
        "#);
    let got: Vec<Incoming> = c.board.spans.iter().map(|s| s.incoming).collect();
    assert_eq!(got, vec![Incoming::Reject(17), Incoming::Answer, Incoming::Ring]);
    assert_eq!(Incoming::Reject(17).to_string(), "reject:17");
}

#[test]
fn isdn_timers_are_set_per_span_in_range_and_only_on_isdn_spans() {
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        signalling = "pri_cpe"
        timers = { t309_ms = 6000, t303_ms = 100 }
        [[board.span]]
        span = 2
        kind = "e1"
        signalling = "pri_net"
        [board.span.timers]
        t316_ms = 3600000
        "#);
    let t = &c.board.spans[0].timers;
    assert_eq!((t.t309_ms, t.t303_ms, t.t301_ms, t.t316_ms), (Some(6000), Some(100), None, None));
    assert_eq!(c.board.spans[1].timers.t316_ms, Some(3_600_000));
    assert_eq!(c.board.spans[1].timers.t309_ms, None);
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        signalling = "pri_cpe"
        [board.span.timers]
        t309_ms = 99                #~ board.span[0].timers.t309_ms: 99 is out of range: must be 100..=3600000
        t308_ms = 3600001           #~ board.span[0].timers.t308_ms: 3600001 is out of range: must be 100..=3600000
        t3090_ms = 5                #~ board.span[0].timers.t3090_ms: unknown key `t3090_ms`; did you mean `t309_ms`?
        t302_ms = "15s"             #~ board.span[0].timers.t302_ms: expected an integer
        [[board.span]]
        span = 2
        kind = "fxs"
        timers = { t309_ms = 6000 } #~ board.span[1].timers: timers only applies to ISDN
        "#,
    );
}
