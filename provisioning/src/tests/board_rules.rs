//! The rules above one span: simulated lines and cables, real boards (driver, firmware, module
//! options, transcoder), tone zones, HA, HTTP and logging (SIP and routes: `routes.rs`).

use hal::sim::{EchoPath, FarEndRole, LineSpec};

use super::{check, ok};
use crate::{Backend, HaRole};

#[test]
fn sim_lines() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        [board.span.sim]
        line = "provder"            #~ board.span[0].sim.line: unknown line `provder`: expected provider, pbx, phone, exchange, open, span:N, listen:/path, connect:/path or dchan:/path; did you mean `provider`?
        [[board.span]]
        span = 2
        kind = "e1"
        [board.span.sim]
        line = "listen:"            #~ board.span[1].sim.line: `listen:` needs a socket path
        [[board.span]]
        span = 3
        kind = "fxs"
        [board.span.sim]
        line = "provider"           #~ board.span[2].sim.line: a simulated provider speaks E1, T1 or BRI; an FXS port plugs into a phone
        [[board.span]]
        span = 4
        kind = "e1"
        [board.span.sim]
        line = "phone"              #~ board.span[3].sim.line: a phone plugs into an FXS port
        [[board.span]]
        span = 5
        kind = "fxs"
        [board.span.sim]
        line = "exchange"           #~ board.span[4].sim.line: an exchange line plugs into an FXO port
        [[board.span]]
        span = 6
        kind = "fxo"
        [board.span.sim]
        line = "dchan:/tmp/x"       #~ board.span[5].sim.line: dchan:/path carries a D-channel, but fxs_ks signalling has none
        [[board.span]]
        span = 7
        kind = "e1"
        [board.span.sim]
        line = "open"
        drift_ppm = 10              #~ board.span[6].sim.drift_ppm: drift_ppm only applies to a simulated far end
        [[board.span]]
        span = 8
        kind = "e1"
        [board.span.sim]
        line = "span:x"             #~ board.span[7].sim.line: `span:x`: expected span:N
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        [board.span.sim]
        line = "provider"
        drift_ppm = -12.5
        fault = { seed = 7, frame_loss = 0.01, bit_error_rate = 1e-6, slips_per_s = 2, los_bursts_per_s = 0.5, los_burst_ms = 50 }
        [[board.span]]
        span = 2
        kind = "fxo"
        [board.span.sim]
        line = "exchange"
        [[board.span]]
        span = 3
        kind = "e1"
        [board.span.sim]
        line = "dchan:/tmp/d.sock"
        [[board.span]]
        span = 4
        kind = "e1"
        "#);
    let s = &c.board.spans;
    assert_eq!(s[0].sim.as_ref().unwrap().line, LineSpec::FarEnd { role: FarEndRole::Provider, drift_ppm: -12.5 });
    let f = s[0].sim.as_ref().unwrap().fault;
    assert_eq!((f.seed, f.frame_loss, f.slips_per_s, f.los_burst_ms), (7, 0.01, 2.0, 50));
    assert_eq!(s[2].sim.as_ref().unwrap().line, LineSpec::DchanSocket("/tmp/d.sock".into()));
    // A sim span without [board.span.sim] is open.
    assert_eq!(s[3].sim.as_ref().unwrap().line, LineSpec::Open);
}

#[test]
fn sim_echo_path_only_on_far_ends_and_in_range() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        [board.span.sim]
        line = "open"
        echo_path = { delay_ms = 20, erl_db = 10 }   #~ board.span[0].sim.echo_path: echo_path is the hybrid of a simulated far end
        [[board.span]]
        span = 2
        kind = "e1"
        [board.span.sim]
        line = "provider"
        echo_path = { delay_ms = 501, erl_db = -1 }   #~ board.span[1].sim.echo_path.delay_ms: 501 is out of range #~ board.span[1].sim.echo_path.erl_db: -1 is out of range
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        [board.span.sim]
        line = "provider"
        echo_path = { delay_ms = 20, erl_db = 10.5 }
        [[board.span]]
        span = 2
        kind = "e1"
        [board.span.sim]
        line = "pbx"
        "#);
    let s = &c.board.spans;
    assert_eq!(s[0].sim.as_ref().unwrap().echo_path, Some(EchoPath { delay_ms: 20, erl_db: 10.5 }));
    assert_eq!(s[1].sim.as_ref().unwrap().echo_path, None);
}

#[test]
fn sim_fault_ranges() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        [board.span.sim]
        line = "provider"
        drift_ppm = 600             #~ board.span[0].sim.drift_ppm: 600 is out of range: must be -500..=500
        [board.span.sim.fault]
        frame_loss = 1.5            #~ board.span[0].sim.fault.frame_loss: 1.5 is out of range: must be 0..=1
        bit_error_rate = -0.1       #~ board.span[0].sim.fault.bit_error_rate: -0.1 is out of range
        slips_per_s = nan           #~ board.span[0].sim.fault.slips_per_s: NaN is out of range
        seed = -1                   #~ board.span[0].sim.fault.seed: -1 is out of range
        los_burst_ms = "50"         #~ board.span[0].sim.fault.los_burst_ms: expected an integer, found a string
        "#,
    );
}

#[test]
fn sim_cables_pair_up() {
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        [board.span.sim]
        line = "span:1"             #~ board.span[0].sim.line: span:1 is this span itself
        [[board.span]]
        span = 2
        kind = "e1"
        [board.span.sim]
        line = "span:9"             #~ board.span[1].sim.line: there is no span 9 on this board
        [[board.span]]
        span = 3
        kind = "e1"
        [board.span.sim]
        line = "span:5"
        [[board.span]]
        span = 4
        kind = "e1"
        [board.span.sim]
        line = "span:5"             #~ board.span[3].sim.line: span 5 is already cabled to span 3
        [[board.span]]
        span = 5
        kind = "e1"
        signalling = "pri_net"
        [board.span.sim]
        line = "span:3"
        [[board.span]]
        span = 6
        kind = "e1"
        [board.span.sim]
        line = "span:7"             #~ board.span[5].sim.line: span 7 is plugged into something else
        [[board.span]]
        span = 7
        kind = "e1"
        [board.span.sim]
        line = "provider"
        "#,
    );
    check(
        r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        [board.span.sim]
        line = "span:2"             #~ board.span[0].sim.line: span 1 is an E1 span and span 2 is a BRI span: they cannot be cabled together
        [[board.span]]
        span = 2
        kind = "bri"
        [board.span.sim]
        line = "span:1"
        [[board.span]]
        span = 3
        kind = "e1"
        signalling = "pri_cpe"
        [board.span.sim]
        line = "span:4"             #~ board.span[2].sim.line: span 3 (pri_cpe) and span 4 (pri_cpe) are both the user (cpe) side
        [[board.span]]
        span = 4
        kind = "e1"
        [board.span.sim]
        line = "span:3"
        [[board.span]]
        span = 5
        kind = "fxs"
        [board.span.sim]
        line = "span:6"             #~ board.span[4].sim.line: span 5 is an FXS port and span 6 is an FXS port
        [[board.span]]
        span = 6
        kind = "fxs"
        [board.span.sim]
        line = "span:5"
        "#,
    );
    let c = ok(r#"[board]
        model = "sim-a"
        [[board.span]]
        span = 1
        kind = "e1"
        signalling = "pri_cpe"
        [board.span.sim]
        line = "span:2"
        [[board.span]]
        span = 2
        kind = "e1"
        signalling = "pri_net"
        [board.span.sim]
        line = "span:1"
        [[board.span]]
        span = 3
        kind = "fxs"
        [board.span.sim]
        line = "span:4"
        [[board.span]]
        span = 4
        kind = "fxo"
        "#);
    assert_eq!(c.board.spans[1].sim.as_ref().unwrap().line, LineSpec::Span(1));
}

#[test]
fn sim_sections_need_a_sim_board() {
    check(
        r#"[board]
        model = "te205p"
        backend = "dahdi"
        kernel_module = "wct4xxp"
        [[board.span]]
        span = 1
        kind = "e1"
        [board.span.sim]            #~ board.span[0].sim: [board.span.sim] only applies to backend = "sim"
        line = "provider"
        "#,
    );
    check(
        r#"[board]
        model = "sim-a"
        kernel_module = "wct4xxp"   #~ board.kernel_module: kernel_module only applies to backend = "dahdi"
        firmware = ["dahdi-fw-oct6114-064.bin"]   #~ board.firmware: firmware only applies to backend = "dahdi"
        module_options = { vpmsupport = 1 }       #~ board.module_options: module_options only apply to backend = "dahdi"
        block_ms = 20               #~ board.block_ms: block_ms only applies to backend = "dahdi"
        "#,
    );
}

#[test]
fn the_dahdi_block_is_2_to_32_ms_and_10_by_default() {
    let dahdi = |extra: &str| {
        format!("[board]\nmodel = \"loc\"\nbackend = \"dahdi\"\nkernel_module = \"dahdi_dynamic_loc\"\n{extra}")
    };
    assert_eq!(ok(&dahdi("")).board.block_ms, 10);
    assert_eq!(ok(&dahdi("block_ms = 32\n")).board.block_ms, 32);
    check(&dahdi("block_ms = 40 #~ board.block_ms: 40 is out of range: must be 2..=32\n"));
    check(&dahdi("block_ms = 1 #~ board.block_ms: 1 is out of range: must be 2..=32\n"));
}

#[test]
fn real_boards_need_their_driver() {
    check(
        r#"[board]                     #~ board.kernel_module: backend = "dahdi" needs kernel_module, the driver of the card (wct4xxp for a te205p)
        model = "te205p"
        backend = "dahdi"
        "#,
    );
    check(
        r#"[board]
        model = "te205p"
        backend = "dahdi"
        kernel_module = "wcb4xxp"   #~ board.kernel_module: te205p is driven by wct4xxp, not wcb4xxp
        "#,
    );
    check(
        r#"[board]
        model = "my-card"
        backend = "dahdi"
        kernel_module = "wct4xx"    #~ board.kernel_module: unknown DAHDI module `wct4xx`; did you mean `wct4xxp`?
        backend2 = 1                #~ board.backend2: unknown key `backend2`; did you mean `backend`?
        "#,
    );
    check(
        r#"[board]
        model = "sim-a"
        backend = "dahd"            #~ board.backend: unknown backend `dahd`: expected one of sim, dahdi; did you mean `dahdi`?
        "#,
    );
    let c = ok("[board]\nmodel = \"te435\"\nbackend = \"dahdi\"\nkernel_module = \"wcte43x\"\n[[board.span]]\nspan = 1\nkind = \"t1\"\n");
    assert_eq!((c.board.backend, c.board.kernel_module.as_deref()), (Backend::Dahdi, Some("wcte43x")));
    assert!(c.board.spans[0].sim.is_none());
}

#[test]
fn real_boards_have_their_ports() {
    check(
        r#"[board]
        model = "te205p"
        backend = "dahdi"
        kernel_module = "wct4xxp"
        [[board.span]]
        span = 3                    #~ board.span[0].span: te205p has 2 ports: there is no span 3
        kind = "e1"
        [[board.span]]
        span = 1
        kind = "bri"                #~ board.span[1].kind: te205p ports are E1 or T1, not BRI
        "#,
    );
    check(
        r#"[board]
        model = "tc400b"
        backend = "dahdi"
        kernel_module = "wctc4xxp"
        [[board.span]]              #~ board.span[0]: tc400b is a transcoder and has no spans
        span = 1
        kind = "e1"
        "#,
    );
}

#[test]
fn firmware_is_what_the_driver_asks_for() {
    check(
        r#"[board]
        model = "te205p"
        backend = "dahdi"
        kernel_module = "wct4xxp"
        firmware = [
          "dahdi-fw-oct6114-128.bin",       #~ board.firmware[0]: te205p's driver asks for dahdi-fw-oct6114-064.bin, never for dahdi-fw-oct6114-128.bin
          "/lib/firmware/x.bin",            #~ board.firmware[1]: `/lib/firmware/x.bin` is not a firmware file name
          "dahdi-fw-oct6114-064.bin",
          "dahdi-fw-oct6114-064.bin",       #~ board.firmware[3]: `dahdi-fw-oct6114-064.bin` is listed twice
          7,                                #~ board.firmware[4]: expected a file name string, found an integer
        ]
        "#,
    );
    check(
        r#"[board]
        model = "b410p"
        backend = "dahdi"
        kernel_module = "wcb4xxp"
        firmware = ["dahdi-fw-oct6114-064.bin"]   #~ board.firmware[0]: b410p (wcb4xxp) loads no firmware
        "#,
    );
}

#[test]
fn module_options_belong_to_the_driver() {
    check(
        r#"[board]
        model = "te420"
        backend = "dahdi"
        kernel_module = "wct4xxp"
        [board.module_options]
        opermode = "FRANCE"         #~ board.module_options.opermode: wct4xxp has no option `opermode` (it is an option of wctdm, wctdm24xxp, wcaxx)
        vpmsuport = "1"             #~ board.module_options.vpmsuport: wct4xxp has no option `vpmsuport`; did you mean `vpmsupport`?
        vpmdtmfsupport = "2"        #~ board.module_options.vpmdtmfsupport: `2` is not a value of vpmdtmfsupport: use -1, 0, 1
        default_linemode = "t1"     #~ board.module_options.default_linemode: default_linemode = "t1" makes every port T1, but span(s) 1 are not
        noburst = "1"
        timingcable = 1
        [[board.span]]
        span = 1
        kind = "e1"
        "#,
    );
    check(
        r#"[board]
        model = "tdm410p"
        backend = "dahdi"
        kernel_module = "wctdm24xxp"
        module_options = { opermode = "france", companding = "ulaw", fastringer = true }   #~ board.module_options.opermode: opermode `france`: the driver compares it case-sensitively #~ board.module_options.companding: companding = "ulaw" but span(s) 1 use the other law #~ board.module_options.fastringer: expected a string or an integer, found a boolean
        [[board.span]]
        span = 1
        kind = "fxs"
        "#,
    );
    let c = ok(r#"[board]
        model = "te420"
        backend = "dahdi"
        kernel_module = "wct4xxp"
        module_options = { default_linemode = "t1", vpmsupport = 0, alarmdebounce = "2500" }
        [[board.span]]
        span = 1
        kind = "t1"
        "#);
    assert_eq!(
        c.board.module_options,
        vec![
            ("default_linemode".into(), "t1".into()),
            ("vpmsupport".into(), "0".into()),
            ("alarmdebounce".into(), "2500".into())
        ]
    );
}

#[test]
fn the_transcoder_is_a_tc400b() {
    check(
        r#"[board]
        model = "te205p"
        backend = "dahdi"
        kernel_module = "wct4xxp"
        [board.transcoder]          #~ board.transcoder: [board.transcoder] only exists on model tc400b, not te205p
        channels = 92
        "#,
    );
    check(
        r#"[board]
        model = "tc400b"
        backend = "dahdi"
        kernel_module = "wctc4xxp"
        module_options = { mode = "g729" }    #~ board.module_options.mode: mode = "g729" but [board.transcoder] says mode = "any"
        [board.transcoder]
        channels = 120              #~ board.transcoder.channels: mode any offers at most 92 channels
        mode = "any"
        "#,
    );
    check(
        r#"[board]
        model = "tc400b"
        backend = "dahdi"
        kernel_module = "wctc4xxp"
        [board.transcoder]
        channels = 0                #~ board.transcoder.channels: 0 is out of range: must be 1..=120
        mode = "g723"               #~ board.transcoder.mode: unknown mode `g723`: expected one of g729, g723.1, any; did you mean
        "#,
    );
    let c = ok("[board]\nmodel = \"tc400b\"\nbackend = \"dahdi\"\nkernel_module = \"wctc4xxp\"\n[board.transcoder]\nmode = \"g729\"\n");
    assert_eq!(c.board.transcoder, Some(crate::Transcoder { channels: 120, mode: "g729".into() }));
}

#[test]
fn tone_zones_are_dahdis() {
    check("[board]\nmodel = \"s\"\ntonezone = \"fra\" #~ board.tonezone: unknown tone zone `fra` (DAHDI knows us, fr, de, uk, ...); did you mean `fr`?\n");
    assert_eq!(ok("[board]\nmodel = \"s\"\n").board.tonezone, "us");
    assert_eq!(ok("[board]\nmodel = \"s\"\ntonezone = \"us-old\"\n").board.tonezone, "us-old");
    check("[board]\nmodel = \"\" #~ board.model: model must not be empty\n");
}

/// A span's own `tonezone` overrides the board's and is checked against the same list, with its
/// own line and field.
#[test]
fn a_span_tone_zone_overrides_the_boards() {
    let span = |n: u32| format!("[[board.span]]\nspan = {n}\nkind = \"e1\"\nsignalling = \"pri_net\"\n");
    let (one, two) = (span(1), span(2));
    let c = ok(&format!("[board]\nmodel = \"s\"\ntonezone = \"de\"\n{one}tonezone = \"fr\"\n{two}"));
    assert_eq!(c.board.tonezone, "de");
    assert_eq!(c.board.spans[0].tonezone.as_deref(), Some("fr"));
    assert_eq!(c.board.spans[1].tonezone, None, "no key: the board's zone");
    check(&format!("[board]\nmodel = \"s\"\n{one}{two}tonezone = \"frr\" #~ board.span[1].tonezone: unknown tone zone `frr` (DAHDI knows us, fr, de, uk, ...); did you mean `fr`?\n"));
}

#[test]
fn ha_http_log() {
    check(
        r#"[board]
        model = "s"
        [ha]
        role = "master"             #~ ha.role: role master needs `peer`
        key = "0123456789abcdef"
        interval_ms = 5             #~ ha.interval_ms: 5 is out of range: must be 10..=10000
        [http]
        listen = "localhost:8080"   #~ http.listen: `localhost:8080` is not an IP address and port
        enabled = "yes"             #~ http.enabled: expected a boolean
        [log]
        level = "verbose"           #~ log.level: unknown level `verbose`: expected one of error, warn, info, debug, trace
        "#,
    );
    check(
        "[board]\nmodel = \"s\"\n[ha]\nrole = \"slave\"\nkey_file = \"/k\"\npeer = \"192.0.2.2:0\" #~ ha.peer: `192.0.2.2:0` has port 0\n",
    );
    let c = ok(r#"[board]
        model = "s"
        [ha]
        role = "slave"
        peer = "192.0.2.2:5070"
        key_file = "/etc/spangate/ha.key"
        misses = 3
        [http]
        enabled = false
        listen = "0.0.0.0:0"
        [log]
        level = "debug"
        "#);
    assert_eq!((c.ha.role, c.ha.interval_ms, c.ha.misses), (HaRole::Slave, 200, 3));
    assert!(!c.http.enabled);
    assert_eq!(c.log.level, "debug");
    let d = ok("[board]\nmodel = \"s\"\n");
    assert_eq!(
        (d.http.enabled, d.http.listen.to_string(), d.log.level.as_str()),
        (true, "127.0.0.1:8080".into(), "info")
    );
    assert_eq!((d.board.name.as_str(), d.ha.role), ("s", HaRole::Disabled));
}

#[test]
fn hardware_transcoding_needs_dahdi() {
    check(
        r#"[board]
        model = "sim-e1x2"
        transcoding = "hardware"    #~ board.transcoding: transcoding = "hardware" needs backend = "dahdi"
        "#,
    );
    check(
        r#"[board]
        model = "sim-e1x2"
        transcoding = "tc400b"      #~ board.transcoding: unknown transcoding `tc400b`: expected one of software, hardware
        "#,
    );
    assert_eq!(ok("[board]\nmodel = \"sim-e1x2\"\n").board.transcoding, crate::Transcoding::Software);
    let sw = ok("[board]\nmodel = \"sim-e1x2\"\ntranscoding = \"software\"\n");
    assert_eq!(sw.board.transcoding, crate::Transcoding::Software);
    let hw = ok(
        "[board]\nmodel = \"te205p\"\nbackend = \"dahdi\"\nkernel_module = \"wct4xxp\"\ntranscoding = \"hardware\"\n",
    );
    assert_eq!(hw.board.transcoding, crate::Transcoding::Hardware);
}
