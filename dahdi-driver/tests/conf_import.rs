//! The import's choices and notices on set-ups beyond XiVO's: what it cannot map is said with
//! its file and line, bad input in any file gives every problem, and odd layouts still map.

use dahdi_driver::conf::{import, Input};
use provisioning::{Config, EchoMode, Signalling};

fn run(sys: &str, chans: &str, chan_dahdi: Option<&str>) -> Result<(Config, Vec<String>), Vec<String>> {
    let cd = chan_dahdi.map(|t| Input::new("/etc/asterisk/chan_dahdi.conf", t));
    match import(
        &Input::new("system.conf", sys),
        &Input::new("/etc/asterisk/dahdi-channels.conf", chans),
        cd.as_ref(),
        None,
    ) {
        Ok((toml, notices)) => {
            let cfg = provisioning::parse_str("i.toml", &toml).unwrap_or_else(|d| panic!("{d}\n{toml}"));
            Ok((cfg, notices.iter().map(ToString::to_string).collect()))
        }
        Err(d) => Err(d.iter().map(ToString::to_string).collect()),
    }
}

#[test]
fn unmapped_settings_are_noticed_by_file_and_line() {
    let sys = "span=1,1,0,esf,b8zs,yellow\nbchan=1-23\ndchan=24\n56k=24\nmulaw=1-24\nloadzone=us\nloadzone=fr\n";
    let chans = "signalling=pri_cpe\nswitchtype=national\nimmediate=yes\nchannel => 1-23\nchannel => 40\n";
    let (cfg, notes) = run(sys, chans, None).unwrap();
    let s = &cfg.board.spans[0];
    assert_eq!((s.hal.kind, s.hal.law, s.hal.dchan), (hal::SpanKind::T1, hal::Law::Mulaw, Some(24)));
    assert_eq!(cfg.board.tonezone, "us");
    for expected in [
        "system.conf:1: span 1: `yellow`",
        "system.conf:4: 56k HDLC on channel 24",
        "system.conf:7: loadzone=fr: spangate uses one tone zone per board",
        "dahdi-channels.conf:3: `immediate = yes` has no spangate equivalent",
        "dahdi-channels.conf:5: channel 40 is not configured in system.conf",
    ] {
        assert!(notes.iter().any(|n| n.contains(expected)), "{expected} not in {notes:#?}");
    }
    // No echocanceller and no echocancel: echo off.
    assert_eq!(s.echo.mode, EchoMode::Off);
}

#[test]
fn chan_dahdi_echocancel_alone_means_the_cards_canceller() {
    let sys = "span=1,1,0,ccs,hdb3,crc4\nbchan=1-15,17-31\ndchan=16\n";
    let (cfg, _) = run(sys, "signalling=pri_net\nechocancel=256\nchannel => 1-15,17-31\n", None).unwrap();
    let s = &cfg.board.spans[0];
    assert_eq!(
        (s.echo.mode, s.echo.taps, s.hal.crc4, s.signalling),
        (EchoMode::Hardware, 256, true, Signalling::PriNet)
    );
    assert_eq!(s.hal.termination, hal::Termination::Nt);
}

#[test]
fn a_chan_dahdi_conf_without_the_include_still_reads_the_channels() {
    let sys = "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\ndchan=16\n";
    let cd = "[channels]\ncontext=from-pstn\nswitchtype=qsig\n";
    let (cfg, notes) = run(sys, "signalling=pri_cpe\nchannel => 1-15,17-31\n", Some(cd)).unwrap();
    let s = &cfg.board.spans[0];
    assert_eq!((s.context.as_str(), s.switchtype), ("from-pstn", provisioning::SwitchType::Qsig));
    assert!(notes.iter().any(|n| n.contains("does not #include")), "{notes:?}");
}

#[test]
fn channels_that_disagree_within_a_span_are_noticed() {
    let sys = "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\ndchan=16\n";
    let chans = "signalling=pri_cpe\ncontext=a\nchannel => 1-15\ncontext=b\nchannel => 17-31\n";
    let (cfg, notes) = run(sys, chans, None).unwrap();
    assert_eq!(cfg.board.spans[0].context, "a");
    assert!(
        notes.iter().any(|n| n.contains("dahdi-channels.conf:5: span 1: channel 17 is set up unlike channel 1")),
        "{notes:?}"
    );
}

#[test]
fn every_bad_line_of_every_file_is_reported() {
    let e = run("span=1,1,0,ccs,hdb3\nfoo=1\n", "signalling=pri_cpe\nswitchtype=bogus\nchannel => 1-x\n", None)
        .unwrap_err();
    assert_eq!(
        e,
        vec![
            "system.conf:2: Unknown keyword 'foo'",
            "/etc/asterisk/dahdi-channels.conf:2: Unknown switchtype 'bogus'",
            "/etc/asterisk/dahdi-channels.conf:3: Syntax error parsing '1-x' at '1-x'",
        ]
    );
}

#[test]
fn unsupported_signalling_and_spans_out_of_range() {
    let sys = "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\ndchan=16\n";
    let (cfg, notes) = run(sys, "signalling=ss7\nchannel => 1-15,17-31\n", None).unwrap();
    assert_eq!(cfg.board.spans[0].signalling, Signalling::None);
    assert_eq!(cfg.board.spans[0].hal.dchan, None);
    assert!(notes.iter().any(|n| n.contains("signalling ss7 is not supported")), "{notes:?}");
    let e = run("span=200,1,0,ccs,hdb3\n", "", None).unwrap_err();
    assert_eq!(e, vec!["system.conf:1: span 200: spangate numbers spans 1 to 128"]);
}

#[test]
fn an_fxo_port_and_a_loop_of_includes() {
    let (cfg, _) = run(
        "fxsks=1\nechocanceller=oslec,1\n",
        "signalling=fxs_ks\ngroup=0\ncontext=from-pstn\nechocancel=yes\nchannel => 1\n",
        None,
    )
    .unwrap();
    let s = &cfg.board.spans[0];
    assert_eq!((s.hal.kind, s.signalling, s.echo.mode), (hal::SpanKind::Fxo, Signalling::FxsKs, EchoMode::Software));
    assert_eq!(cfg.board.model, "tdm410p");
    // chan_dahdi.conf includes a file that includes chan_dahdi.conf: reported, not followed forever.
    let dir = std::env::temp_dir().join(format!("spangate-conf-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("extra.conf"), "#include chan_dahdi.conf\n").unwrap();
    let cd_path = dir.join("chan_dahdi.conf");
    std::fs::write(&cd_path, "[channels]\n#include extra.conf\n").unwrap();
    let cd = Input::read(&cd_path).unwrap();
    let e = import(
        &Input::new("system.conf", "fxsks=1\n"),
        &Input::new("dahdi-channels.conf", "channel => 1\n"),
        Some(&cd),
        None,
    )
    .unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(e.iter().any(|x| x.to_string().contains("extra.conf:1: #include loop")), "{e}");
}

#[test]
fn pritimer_and_tonezone_map_to_the_spans_timers_and_tone_zone() {
    let sys = "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\ndchan=16\nspan=2,0,0,ccs,hdb3\nbchan=32-46,48-62\ndchan=47\nloadzone=fr\ndefaultzone=fr\n";
    let chans = "signalling=pri_cpe\ntonezone=29\npritimer => t309,5000\npritimer => T309,6000\npritimer => t303,50\n\
                 pritimer => t200,1000\npritimer => t399,5\npritimer => t316,120000\nchannel => 1-15,17-31\n\
                 tonezone=-1\npritimer => t309,90000\nchannel => 32-46,48-62\n";
    let (cfg, notes) = run(sys, chans, None).unwrap();
    let (a, b) = (&cfg.board.spans[0], &cfg.board.spans[1]);
    // The last line of a name wins; T316 at its default is no setting.
    assert_eq!((a.timers.t309_ms, a.timers.t303_ms, a.timers.t316_ms), (Some(6000), None, None));
    assert_eq!(a.tonezone.as_deref(), Some("de"));
    // tonezone = -1: the channels take DAHDI's default zone, the board's.
    assert_eq!((b.timers, b.tonezone.as_deref()), (provisioning::IsdnTimers::default(), None));
    assert_eq!(cfg.board.tonezone, "fr");
    for expected in [
        "dahdi-channels.conf:5: span 1: pritimer t303 = 50 ms is outside the 100 to 3600000 ms",
        "dahdi-channels.conf:6: span 1: pritimer t200 is not one spangate sets",
        "dahdi-channels.conf:7: span 1: pritimer t399 is not an ISDN timer libpri knows",
    ] {
        assert!(notes.iter().any(|n| n.contains(expected)), "{expected} not in {notes:#?}");
    }
    assert!(!notes.iter().any(|n| n.contains("no spangate equivalent")), "{notes:#?}");
}

#[test]
fn bad_pritimer_and_tonezone_values_are_errors_with_their_lines() {
    let sys = "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\ndchan=16\n";
    let chans = "signalling=pri_cpe\npritimer => t309\npritimer => t309,soon\ntonezone=de\ntonezone=46\nchannel => 1-15,17-31\n";
    let e = run(sys, chans, None).unwrap_err();
    assert_eq!(
        e,
        vec![
            "/etc/asterisk/dahdi-channels.conf:2: 't309' is not a valid ISDN timer configuration string (TIMER,MILLISECONDS, e.g. t309,6000)",
            "/etc/asterisk/dahdi-channels.conf:3: 'soon' is not a valid value for ISDN timer 't309'",
            "/etc/asterisk/dahdi-channels.conf:4: Invalid tonezone 'de' (a DAHDI tone zone number, 0 to 45: 0 is us, 29 de; -1 for none)",
            "/etc/asterisk/dahdi-channels.conf:5: Invalid tonezone '46' (a DAHDI tone zone number, 0 to 45: 0 is us, 29 de; -1 for none)",
        ]
    );
}

#[test]
fn a_span_whose_channels_differ_in_pritimer_is_noticed() {
    let sys = "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\ndchan=16\n";
    let chans = "signalling=pri_cpe\npritimer => t309,6000\nchannel => 1-15\npritimer => t309,7000\nchannel => 17-31\n";
    let (cfg, notes) = run(sys, chans, None).unwrap();
    assert_eq!(cfg.board.spans[0].timers.t309_ms, Some(6000));
    assert!(notes.iter().any(|n| n.contains("channel 17 is set up unlike channel 1")), "{notes:#?}");
}
