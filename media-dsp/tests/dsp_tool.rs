//! End-to-end tests of the `dsp-tool` binary: it is run as a user would, on files in a temp dir.

use std::path::PathBuf;
use std::process::{Command, Output};

use media_dsp::g711::Law;

fn dsp_tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsp-tool")).args(args).output().expect("run dsp-tool")
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("dsp_tool-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The run failed with `code` and exactly one line on stderr containing `needle`.
fn assert_one_line_error(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "want one line, got: {stderr:?}");
    assert!(stderr.starts_with("dsp-tool: ") && stderr.contains(needle), "stderr: {stderr:?}");
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn encode_then_decode_round_trips_through_files() {
    let d = scratch("round-trip");
    // Every 16-bit value once, so the tool sees the whole input range.
    let samples: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    let pcm: Vec<u8> = samples.iter().flat_map(|x| x.to_le_bytes()).collect();
    let (input, codes, back) = (d.join("in.raw"), d.join("codes.raw"), d.join("back.raw"));
    std::fs::write(&input, &pcm).unwrap();
    for (name, law) in [("alaw", Law::Alaw), ("ulaw", Law::Mulaw)] {
        let out = dsp_tool(&["g711", "encode", "--law", name, "--in", s(&input), "--out", s(&codes)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let coded = std::fs::read(&codes).unwrap();
        let want: Vec<u8> = samples.iter().map(|&x| law.encode(x)).collect();
        assert!(coded == want, "{name}: encoded file differs from the library");
        // The --name=value form works too.
        let out = dsp_tool(&["g711", "decode", &format!("--law={name}"), "--in", s(&codes), "--out", s(&back)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let decoded: Vec<i16> =
            std::fs::read(&back).unwrap().chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        assert_eq!(decoded.len(), samples.len());
        for (x, y) in samples.iter().zip(&decoded) {
            assert_eq!(*y, law.decode(law.encode(*x)), "{name}: sample {x}");
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn odd_length_s16le_input_is_a_one_line_error() {
    let d = scratch("odd");
    let input = d.join("odd.raw");
    std::fs::write(&input, [1u8, 2, 3]).unwrap();
    let out = dsp_tool(&["g711", "encode", "--law", "alaw", "--in", s(&input), "--out", s(&d.join("o.raw"))]);
    assert_one_line_error(&out, 1, "3 bytes is not a whole number of 16-bit samples");
    assert!(!d.join("o.raw").exists(), "no output is written on error");
}

#[test]
fn unreadable_input_is_a_one_line_error() {
    let d = scratch("missing");
    let missing = d.join("nope.raw");
    let out = dsp_tool(&["g711", "decode", "--law", "ulaw", "--in", s(&missing), "--out", s(&d.join("o.raw"))]);
    assert_one_line_error(&out, 1, "cannot read");
}

#[test]
fn command_line_mistakes_are_one_line_usage_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["g711", "encode", "--law", "alaw", "--in", "a", "--out", "b", "--gain", "3"], "unknown option --gain"),
        (&["g711", "encode", "--law", "xlaw", "--in", "a", "--out", "b"], "--law must be one of alaw|ulaw"),
        (&["g711", "encode", "--in", "a", "--out", "b"], "missing --law"),
        (&["g711", "decode", "--law", "alaw", "--in"], "--in needs a value"),
        (&["g711", "transcode"], "g711 needs encode or decode"),
        (&["reverb"], "unknown command"),
        (&[], "missing command"),
    ];
    for (args, needle) in cases {
        assert_one_line_error(&dsp_tool(args), 2, needle);
    }
}

#[test]
fn help_lists_the_g711_commands() {
    let out = dsp_tool(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dsp-tool g711 encode") && text.contains("dsp-tool g711 decode"), "{text}");
}
