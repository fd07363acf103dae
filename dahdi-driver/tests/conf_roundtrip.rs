//! `import(export(x)) == x` for every shipped real board with spans.
//!
//! What "==" means: the board files are loaded with `provisioning::load_file`, exported to
//! system.conf + dahdi-channels.conf, imported back (with a modules file naming the board's
//! kernel module, as `/etc/dahdi/modules` would) and parsed with `provisioning::parse_str`. Then
//! `board.model`, `board.kernel_module` and `board.tonezone` are equal, and the spans are equal in
//! number and order and, span by span, equal as `provisioning::SpanCfg` values in every field but
//! `name` (DAHDI's files have no place for a span name; the import names spans `span N`) and
//! `sim` (`None` on both sides for a DAHDI board): number, all of `hal::SpanConfig` (kind,
//! framing, coding, crc4, timing, termination, law, lbo, dchan, bchans), signalling, switchtype,
//! overlapdial, layer1_presence, layer2_persistence, groups, context and echo (mode and taps).
//! Not compared: firmware, module options, description, routes, SIP, HA, HTTP and log settings,
//! which system.conf and chan_dahdi.conf do not carry.
//!
//! The synthetic configs of `common/synthetic.rs` are compared the same way except for the model
//! (the import picks it from the driver and span count) and one thing DAHDI cannot carry: a span
//! with signalling `none` has no channel in chan_dahdi (Asterisk runs nothing on clear channels),
//! so its groups and context come back empty and `default`.

use std::path::Path;

use dahdi_driver::conf::{export, import, Input};
use provisioning::{Config, SpanCfg};

#[path = "common/synthetic.rs"]
mod synthetic;
use synthetic::SYNTHETIC;

const BOARDS: &[&str] = &["te205p", "te420", "b410p", "tdm410p"];

fn load(board: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../board-configs").join(format!("{board}.toml"));
    provisioning::load_file(&path).unwrap_or_else(|d| panic!("{board}: {d}"))
}

fn comparable(s: &SpanCfg) -> SpanCfg {
    SpanCfg { name: String::new(), sim: None, ..s.clone() }
}

fn round_trip(cfg: &Config) -> Config {
    let (sys, chans) = export(cfg);
    let modules = Input::new("modules", format!("{}\n", cfg.board.kernel_module.as_deref().unwrap_or("")));
    let (toml, _) = import(
        &Input::new("system.conf", sys.clone()),
        &Input::new("dahdi-channels.conf", chans.clone()),
        None,
        Some(&modules),
    )
    .unwrap_or_else(|d| panic!("{}: {d}\n{sys}\n{chans}", cfg.file));
    provisioning::parse_str("imported.toml", &toml).unwrap_or_else(|d| panic!("{d}\n{toml}"))
}

#[test]
fn every_shipped_board_survives_export_and_import() {
    for board in BOARDS {
        let x = load(board);
        let y = round_trip(&x);
        assert_eq!(y.board.model, x.board.model, "{board}");
        assert_eq!(y.board.kernel_module, x.board.kernel_module, "{board}");
        assert_eq!(y.board.tonezone, x.board.tonezone, "{board}");
        assert_eq!(y.board.spans.len(), x.board.spans.len(), "{board}");
        for (a, b) in x.board.spans.iter().zip(&y.board.spans) {
            assert_eq!(comparable(b), comparable(a), "{board} span {}", a.number);
        }
    }
}

#[test]
fn a_round_trip_is_a_fixed_point() {
    // Exporting the imported config gives the same files again.
    for board in BOARDS {
        let x = load(board);
        let y = round_trip(&x);
        let (s1, c1) = export(&x);
        let (s2, c2) = export(&y);
        let body =
            |t: &str| t.lines().filter(|l| !l.starts_with('#') && !l.starts_with(';')).collect::<Vec<_>>().join("\n");
        assert_eq!(body(&s2), body(&s1), "{board}");
        assert_eq!(body(&c2), body(&c1), "{board}");
    }
}

#[test]
fn the_transcoder_exports_no_spans() {
    let x = load("tc400b");
    let (sys, chans) = export(&x);
    assert!(!sys.lines().any(|l| l.starts_with("span=")), "{sys}");
    assert!(!chans.contains("channel =>"), "{chans}");
}

#[test]
fn synthetic_configs_survive_export_and_import() {
    for (i, text) in SYNTHETIC.iter().enumerate() {
        let x = provisioning::parse_str(&format!("synthetic-{i}.toml"), text).unwrap_or_else(|d| panic!("{d}"));
        let y = round_trip(&x);
        assert_eq!(y.board.tonezone, x.board.tonezone, "synthetic {i}");
        assert_eq!(y.board.kernel_module, x.board.kernel_module, "synthetic {i}");
        assert_eq!(y.board.spans.len(), x.board.spans.len(), "synthetic {i}");
        for (a, b) in x.board.spans.iter().zip(&y.board.spans) {
            let mut a = comparable(a);
            if a.signalling == provisioning::Signalling::None {
                a.groups.clear();
                a.context = "default".into();
            }
            assert_eq!(comparable(b), a, "synthetic {i} span {}", a.number);
        }
    }
}

#[test]
fn a_timer_one_span_sets_is_undone_for_the_next() {
    // chan_dahdi carries `pritimer` on to the channels after it, so the span after one that sets
    // T309 and T303 gets Q.931's defaults written back; every span names its tone zone.
    let x = provisioning::parse_str("synthetic-0.toml", SYNTHETIC[0]).unwrap_or_else(|d| panic!("{d}"));
    let (_, chans) = export(&x);
    let lines: Vec<&str> = chans
        .lines()
        .filter(|l| l.starts_with("pritimer") || l.starts_with("tonezone") || l.starts_with(";"))
        .collect();
    let span = |n: u32| {
        let from = lines.iter().position(|l| l.starts_with(&format!("; Span {n}:"))).unwrap();
        lines[from + 1..].iter().take_while(|l| !l.starts_with(';')).copied().collect::<Vec<&str>>()
    };
    assert_eq!(span(1), ["pritimer => t303,2500", "pritimer => t309,6000", "tonezone = 0"], "{chans}");
    assert_eq!(span(2), ["pritimer => t303,4000", "pritimer => t309,90000", "tonezone = 29"], "{chans}");
    assert_eq!(span(3), ["tonezone = 29"], "{chans}");
}
