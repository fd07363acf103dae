//! Tests of the whole crate through `parse_str`, data-driven: each case is a TOML text whose
//! expected diagnostics are written on the lines they must point at, as `#~ field: message`
//! comments (the message is matched as a prefix). A text without `#~` must be accepted.

mod board_rules;
mod robustness;
mod routes;
mod span_rules;

use std::path::{Path, PathBuf};

use crate::{parse_str, Config};

/// The expectations written in `toml`: (line, field, message prefix).
fn expected(toml: &str) -> Vec<(usize, String, String)> {
    let mut want = Vec::new();
    for (i, line) in toml.lines().enumerate() {
        for part in line.split("#~").skip(1) {
            let (field, msg) = part.split_once(':').expect("`#~ field: message`");
            want.push((i + 1, field.trim().to_string(), msg.trim().to_string()));
        }
    }
    want
}

/// Checks `toml` against the `#~` expectations written in it.
#[track_caller]
pub(crate) fn check(toml: &str) {
    let want = expected(toml);
    let got = match parse_str("t.toml", toml) {
        Ok(_) => Vec::new(),
        Err(d) => d.0,
    };
    let show = |g: &[crate::Diagnostic]| g.iter().map(|d| format!("  {d}\n")).collect::<String>();
    assert_eq!(got.len(), want.len(), "wanted {} diagnostic(s), got:\n{}", want.len(), show(&got));
    let mut got_sorted: Vec<&crate::Diagnostic> = got.iter().collect();
    got_sorted.sort_by(|a, b| (a.line, &a.field).cmp(&(b.line, &b.field)));
    let mut want_sorted = want.clone();
    want_sorted.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (g, (line, field, msg)) in got_sorted.iter().zip(&want_sorted) {
        let ok = g.line == *line && &g.field == field && g.message.starts_with(msg.as_str());
        assert!(ok, "wanted line {line} `{field}: {msg}...`, got:\n{}", show(&got));
        assert!(g.col >= 1 && !g.message.contains('\n'));
    }
}

/// Parses `toml`, which must be valid.
#[track_caller]
pub(crate) fn ok(toml: &str) -> Config {
    assert!(expected(toml).is_empty(), "ok() takes a text without expectations");
    match parse_str("t.toml", toml) {
        Ok(c) => c,
        Err(d) => panic!("unexpected diagnostics:\n{d}"),
    }
}

/// `board-configs/` at the repository root.
fn boards_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../board-configs")
}

/// Every shipped board file, sorted.
pub(crate) fn shipped_boards() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(boards_dir())
        .expect("board-configs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_shipped_board_validates() {
    let boards = shipped_boards();
    let names: Vec<&str> = boards.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["sim-e1x2", "sim-bri4", "sim-analog4", "te205p", "te420", "b410p", "tdm410p", "tc400b"] {
        assert!(names.contains(&format!("{want}.toml").as_str()), "board-configs/{want}.toml is missing");
    }
    for (name, text) in &boards {
        if let Err(d) = parse_str(name, text) {
            panic!("{name} has problems:\n{d}");
        }
    }
}

#[test]
fn load_file_reads_the_default_board_and_reports_io_errors() {
    let cfg = crate::load_file(&boards_dir().join("sim-e1x2.toml")).expect("default board");
    assert!(cfg.file.ends_with("sim-e1x2.toml"));
    let err = crate::load_file(Path::new("/nonexistent/x.toml")).unwrap_err();
    assert_eq!(err.len(), 1);
    assert!(err.to_string().starts_with("/nonexistent/x.toml:1:1: file: cannot read the config file"), "{err}");
}

#[test]
fn the_default_board_is_what_the_appliance_runs() {
    use hal::sim::{FarEndRole, LineSpec};
    use hal::{SpanKind, Termination};
    let cfg = crate::load_file(&boards_dir().join("sim-e1x2.toml")).unwrap();
    assert_eq!(cfg.board.backend, crate::Backend::Sim);
    assert_eq!(cfg.http.listen.to_string(), "127.0.0.1:8080");
    let [a, b] = &cfg.board.spans[..] else { panic!("two spans") };
    assert_eq!((a.number, a.hal.kind, a.hal.termination, a.hal.timing), (1, SpanKind::E1, Termination::Te, 1));
    assert_eq!((a.signalling, a.switchtype), (crate::Signalling::PriCpe, crate::SwitchType::EuroIsdn));
    assert_eq!(a.sim.as_ref().unwrap().line, LineSpec::FarEnd { role: FarEndRole::Provider, drift_ppm: 0.0 });
    assert_eq!(
        (b.number, b.hal.termination, b.hal.timing, b.signalling),
        (2, Termination::Nt, 0, crate::Signalling::PriNet)
    );
    assert_eq!(b.sim.as_ref().unwrap().line, LineSpec::FarEnd { role: FarEndRole::Pbx, drift_ppm: 0.0 });
    assert_eq!(a.hal.bchans.len(), 30);
    assert_eq!(a.hal.dchan, Some(16));
}

#[test]
fn five_mistakes_give_five_diagnostics_on_their_lines() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/five-mistakes.toml");
    let err = crate::load_file(&path).unwrap_err();
    let lines: Vec<usize> = err.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![12, 15, 22, 26, 34], "{err}");
    let fields: Vec<&str> = err.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "board.span[0].timming",
            "board.span[0].bchan",
            "board.span[1].timing",
            "board.span[1].dchan",
            "board.span[2].signalling"
        ]
    );
    // The repeated channel is pointed at inside the list: `bchan = "1-15,15,17-31"`, column of `15,`.
    assert_eq!(err.0[1].col, 15, "{err}");
    assert!(err.0[0].message.contains("did you mean `timing`"), "{err}");
}

#[test]
fn display_is_file_line_col_field_message() {
    let err =
        parse_str("x.toml", "[board]\nmodel = \"sim-a\"\n[[board.span]]\nspan = 1\nkind = \"e1\"\ntiming = \"one\"\n")
            .unwrap_err();
    assert_eq!(err.to_string(), "x.toml:6:10: board.span[0].timing: expected an integer, found a string");
}

#[test]
#[should_panic(expected = "wanted 0 diagnostic(s)")]
fn check_fails_on_an_unexpected_diagnostic() {
    check("[board]\nmodel = 1\n");
}

#[test]
#[should_panic(expected = "wanted line 1")]
fn check_fails_on_a_diagnostic_elsewhere() {
    check("[board] #~ board.model: expected a string\nmodel = 1\n");
}

#[test]
fn the_reference_in_the_readme_is_a_valid_config() {
    let readme = std::fs::read_to_string(boards_dir().join("README.md")).expect("board-configs/README.md");
    let start = readme.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let c = ok(block);
    assert_eq!((c.board.spans.len(), c.sip.trunks.len(), c.routes.len()), (1, 1, 1));
    // The crate documentation carries the same block.
    let lib = include_str!("../lib.rs");
    let doc: String = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    assert!(doc.contains(block), "the crate doc's reference differs from board-configs/README.md");
}
