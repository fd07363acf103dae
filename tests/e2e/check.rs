//! `spangate check`: every shipped board validates; a config with five mistakes gets five
//! diagnostics with file, line and field, a non-zero exit, and nothing is applied.

use std::process::Command;

use spangate_tests::{root, spangate_bin};

/// Lines of the fixture marked `# MISTAKE` are the ones the diagnostics must point at.
fn marked_lines(text: &str) -> Vec<usize> {
    text.lines().enumerate().filter(|(_, l)| l.contains("# MISTAKE")).map(|(i, _)| i + 1).collect()
}

#[test]
fn five_mistakes_give_five_diagnostics() {
    let fixture = root().join("tests/fixtures/five-mistakes.toml");
    let text = std::fs::read_to_string(&fixture).expect("fixture");
    let expected = marked_lines(&text);
    assert_eq!(expected.len(), 5, "the fixture marks five mistakes");
    let out = Command::new(spangate_bin()).arg("check").arg(&fixture).output().expect("run spangate check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "exit code; output:\n{stdout}");
    let diags: Vec<&str> =
        stdout.lines().filter(|l| l.contains("five-mistakes.toml:")).filter(|l| !l.contains("problem(s)")).collect();
    assert_eq!(diags.len(), 5, "diagnostics:\n{stdout}");
    let mut lines: Vec<usize> = diags
        .iter()
        .map(|d| {
            // path:line:col: field: message
            let after = d.split("five-mistakes.toml:").nth(1).expect("file name");
            let mut parts = after.splitn(4, ':');
            let line: usize = parts.next().and_then(|x| x.parse().ok()).expect("line number");
            let col: usize = parts.next().and_then(|x| x.parse().ok()).expect("column");
            assert!(col >= 1, "{d}");
            let field = parts.next().expect("field").trim();
            assert!(!field.is_empty(), "no field in {d}");
            line
        })
        .collect();
    lines.sort_unstable();
    assert_eq!(lines, expected, "diagnostics:\n{stdout}");
}

#[test]
fn a_bad_config_is_not_run() {
    let fixture = root().join("tests/fixtures/five-mistakes.toml");
    let out = Command::new(spangate_bin())
        .args(["run", "--config"])
        .arg(&fixture)
        .args(["--http", "127.0.0.1:1"])
        .output()
        .expect("run spangate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nothing applied"), "{stderr}");
    assert!(!stderr.contains("status page on"), "it must not start serving: {stderr}");
}

#[test]
fn every_shipped_board_passes_check() {
    let mut boards: Vec<_> = std::fs::read_dir(root().join("board-configs"))
        .expect("board-configs")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    boards.sort();
    let names: Vec<String> = boards.iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    for want in ["sim-e1x2", "sim-bri4", "sim-analog4", "te205p", "te420", "b410p", "tdm410p", "tc400b"] {
        assert!(names.iter().any(|n| n == want), "board-configs/{want}.toml is missing");
    }
    let out = Command::new(spangate_bin()).arg("check").args(&boards).output().expect("run spangate check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.ends_with(")") && l.contains(": ok (")).count(), boards.len(), "{stdout}");
}
