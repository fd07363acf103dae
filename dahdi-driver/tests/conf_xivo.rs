//! Every DAHDI set-up of reference/xivo-examples.md imports into a spangate config that
//! provisioning accepts, checked span by span and field by field.

use std::path::{Path, PathBuf};

use dahdi_driver::conf::{import, Input, Notice};
use hal::{Framing, Law, LineCoding, SpanKind, Termination};
use provisioning::{Config, EchoMode, Layer1Presence, Layer2Persistence, OverlapDial, Signalling, SwitchType};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xivo").join(name)
}

/// Imports fixture `name` (its chan_dahdi.conf and modules when present) and parses the result.
fn import_fixture(name: &str, with_modules: bool) -> (Config, String, Vec<Notice>) {
    let d = dir(name);
    let read = |f: &str| Input::read(&d.join(f)).unwrap();
    let chan_dahdi = d.join("chan_dahdi.conf").exists().then(|| read("chan_dahdi.conf"));
    let modules = (with_modules && d.join("modules").exists()).then(|| read("modules"));
    let (toml, notices) =
        import(&read("system.conf"), &read("dahdi-channels.conf"), chan_dahdi.as_ref(), modules.as_ref())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    let cfg = provisioning::parse_str("imported.toml", &toml).unwrap_or_else(|e| panic!("{name}: {e}\n{toml}"));
    (cfg, toml, notices)
}

fn e1_bchans() -> Vec<u8> {
    (1..=31).filter(|c| *c != 16).collect()
}

#[test]
fn french_bri_point_to_point() {
    let (cfg, toml, _) = import_fixture("bri-ptp", true);
    assert_eq!((cfg.board.model.as_str(), cfg.board.kernel_module.as_deref()), ("b410p", Some("wcb4xxp")), "{toml}");
    assert_eq!(cfg.board.spans.len(), 1);
    let s = &cfg.board.spans[0];
    assert_eq!(s.number, 1);
    assert_eq!(s.hal.kind, SpanKind::Bri);
    assert_eq!((s.hal.framing, s.hal.coding, s.hal.crc4), (Framing::Ccs, LineCoding::Ami, false));
    assert_eq!((s.hal.timing, s.hal.lbo, s.hal.termination, s.hal.law), (1, 0, Termination::Te, Law::Alaw));
    assert_eq!((s.hal.bchans.clone(), s.hal.dchan), (vec![1, 2], Some(3)));
    assert_eq!(s.signalling, Signalling::BriCpe);
    assert_eq!(s.switchtype, SwitchType::EuroIsdn);
    assert_eq!(s.overlapdial, OverlapDial::No);
    assert_eq!(s.layer1_presence, Layer1Presence::Required);
    assert_eq!(s.layer2_persistence, Layer2Persistence::Default);
    assert_eq!(s.groups, vec![0, 11]);
    assert_eq!(s.context, "from-extern");
    // mg2 attached, no chan_dahdi.conf: spangate's software canceller with chan_dahdi's 128 taps.
    assert_eq!((s.echo.mode, s.echo.taps), (EchoMode::Software, 128));
    assert!(cfg.routes.is_empty());
}

#[test]
fn french_bri_ptmp_layers_left_down() {
    let (cfg, toml, notices) = import_fixture("bri-ptmp-leave-down", true);
    let s = &cfg.board.spans[0];
    assert_eq!(s.signalling, Signalling::BriCpePtmp, "{toml}");
    assert_eq!(s.layer1_presence, Layer1Presence::Ignore);
    assert_eq!(s.layer2_persistence, Layer2Persistence::LeaveDown);
    assert_eq!(
        (s.hal.termination, s.groups.clone(), s.context.as_str()),
        (Termination::Te, vec![0, 11], "from-extern")
    );
    assert_eq!((s.echo.mode, s.echo.taps), (EchoMode::Software, 128));
    // The module option from the modules file reaches the board.
    assert_eq!(cfg.board.module_options, vec![("persistentlayer1".to_string(), "0".to_string())]);
    // usecallerid has no spangate meaning and is reported with its line.
    assert!(notices.iter().any(|n| n.to_string().contains("chan_dahdi.conf:5: `usecallerid = yes`")), "{notices:?}");
}

#[test]
fn french_bri_ptmp_layers_kept_up() {
    let (cfg, _, _) = import_fixture("bri-ptmp-keep-up", true);
    let s = &cfg.board.spans[0];
    assert_eq!(s.signalling, Signalling::BriCpePtmp);
    assert_eq!(s.layer1_presence, Layer1Presence::Required);
    assert_eq!(s.layer2_persistence, Layer2Persistence::KeepUp);
    assert!(cfg.board.module_options.is_empty());
}

#[test]
fn french_pri_line() {
    let (cfg, toml, _) = import_fixture("pri-fr", true);
    assert_eq!((cfg.board.model.as_str(), cfg.board.kernel_module.as_deref()), ("te205p", Some("wct4xxp")), "{toml}");
    let s = &cfg.board.spans[0];
    assert_eq!(s.hal.kind, SpanKind::E1);
    // "In France crc4 is usually removed": the span line has none.
    assert_eq!((s.hal.framing, s.hal.coding, s.hal.crc4), (Framing::Ccs, LineCoding::Hdb3, false));
    assert_eq!((s.hal.timing, s.hal.termination, s.hal.law), (1, Termination::Te, Law::Alaw));
    assert_eq!((s.hal.bchans.clone(), s.hal.dchan), (e1_bchans(), Some(16)));
    assert_eq!((s.signalling, s.switchtype), (Signalling::PriCpe, SwitchType::EuroIsdn));
    assert_eq!((s.groups.clone(), s.context.as_str()), (vec![0, 11], "from-extern"));
    assert_eq!(s.echo.mode, EchoMode::Software);
}

#[test]
fn four_span_gateway_in_front_of_a_pbx() {
    let (cfg, toml, _) = import_fixture("pbx-gateway", true);
    assert_eq!(cfg.board.model, "te420", "{toml}");
    let spans = &cfg.board.spans;
    assert_eq!(spans.iter().map(|s| s.number).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let expect = [
        (1, Termination::Te, Signalling::PriCpe, vec![0, 11], "from-extern", OverlapDial::No),
        (2, Termination::Te, Signalling::PriCpe, vec![0, 12], "from-extern", OverlapDial::No),
        (0, Termination::Nt, Signalling::PriNet, vec![2, 13], "from-pabx", OverlapDial::Incoming),
        (0, Termination::Nt, Signalling::PriNet, vec![2, 14], "from-pabx", OverlapDial::Incoming),
    ];
    for (s, (timing, term, sig, groups, ctx, overlap)) in spans.iter().zip(expect) {
        assert_eq!(s.hal.kind, SpanKind::E1);
        assert_eq!((s.hal.framing, s.hal.coding, s.hal.crc4), (Framing::Ccs, LineCoding::Hdb3, false));
        // DAHDI channels 32-62 are span 2's 1-31, and so on: every span is 1-15,17-31 + 16.
        assert_eq!((s.hal.bchans.clone(), s.hal.dchan), (e1_bchans(), Some(16)), "span {}", s.number);
        assert_eq!((s.hal.timing, s.hal.termination, s.signalling), (timing, term, sig), "span {}", s.number);
        assert_eq!((s.groups.clone(), s.context.as_str(), s.overlapdial), (groups, ctx, overlap));
        assert_eq!(s.switchtype, SwitchType::EuroIsdn);
        assert_eq!(s.echo.mode, EchoMode::Software);
    }
    // XiVO's routing: provider side (group 0) to the PBX side (group 2) and back.
    let routes: Vec<(String, String)> = cfg.routes.iter().map(|r| (r.from[0].to_string(), r.to.to_string())).collect();
    let routes: Vec<(&str, &str)> = routes.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    assert_eq!(routes, vec![("group:0", "group:2"), ("group:2", "group:0")]);
}

#[test]
fn analog_fxs_port() {
    let (cfg, toml, notices) = import_fixture("fxs-port", true);
    assert_eq!(
        (cfg.board.model.as_str(), cfg.board.kernel_module.as_deref()),
        ("dahdi-generic", Some("wctdm")),
        "{toml}"
    );
    assert_eq!(cfg.board.spans.len(), 1);
    let s = &cfg.board.spans[0];
    assert_eq!((s.number, s.hal.kind, s.signalling), (1, SpanKind::Fxs, Signalling::FxoKs));
    assert_eq!((s.hal.timing, s.hal.law, s.hal.bchans.clone(), s.hal.dchan), (0, Law::Alaw, vec![1], None));
    assert_eq!((s.groups.clone(), s.context.as_str()), (vec![5], "default"));
    assert_eq!(s.echo.mode, EchoMode::Software);
    let text: Vec<String> = notices.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|n| n.contains("DAHDI channel 32 (FXS port) becomes span 1")), "{text:?}");
    assert!(text.iter().any(|n| n.contains("dahdi-channels.conf:3: `callerid = \"Channel 32\" <4032>`")), "{text:?}");
    assert!(text.iter().any(|n| n.contains("dahdi-channels.conf:4: `mailbox = 4032`")), "{text:?}");
}

#[test]
fn without_a_modules_file_the_driver_is_guessed_and_said() {
    let (cfg, _, notices) = import_fixture("pri-fr", false);
    assert_eq!((cfg.board.model.as_str(), cfg.board.kernel_module.as_deref()), ("te205p", Some("wct4xxp")));
    assert!(notices.iter().any(|n| n.message.contains("is a guess")));
    let (cfg, _, _) = import_fixture("bri-ptp", false);
    assert_eq!(cfg.board.spans[0].hal.kind, SpanKind::Bri, "hardhdlc on the third channel makes ccs/ami a BRI span");
}
