//! End-to-end tests of `dsp-tool echo`: the binary run as a user would, on files in a temp dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dsp_tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsp-tool")).args(args).output().expect("run dsp-tool")
}

fn scratch(test: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("dsp_tool_echo-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Three seconds of noise and its echo (a sparse path 6 dB down behind 20 ms), as s16le files.
fn write_pair(d: &Path) -> (PathBuf, PathBuf, Vec<i16>) {
    let mut seed = 0x2468_ace1u32;
    let rin: Vec<i16> = (0..24_001)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            #[allow(clippy::cast_possible_wrap, reason = "reinterpreting random bits")]
            let v = (seed >> 16) as i16;
            v / 8
        })
        .collect();
    let sin: Vec<i16> = (0..rin.len())
        .map(|t| {
            let e = if t >= 161 { i32::from(rin[t - 160]) / 3 - i32::from(rin[t - 161]) / 5 } else { 0 };
            #[allow(clippy::cast_possible_truncation, reason = "well inside i16")]
            let v = e as i16;
            v
        })
        .collect();
    let (r, si) = (d.join("rin.raw"), d.join("sin.raw"));
    std::fs::write(&r, rin.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    std::fs::write(&si, sin.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    (r, si, sin)
}

#[test]
fn echo_cancels_a_recorded_pair_and_prints_erle_per_second() {
    let d = scratch("cancel");
    let (rin, sin, sin_samples) = write_pair(&d);
    let out = d.join("sout.raw");
    let run =
        dsp_tool(&["echo", "--rin", s(&rin), "--sin", s(&sin), "--out", s(&out), "--nlp", "off", "--taps", "256"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    // A header and one line per (started) second: 24 001 samples are 4 seconds.
    assert_eq!(stdout.lines().count(), 5, "{stdout}");
    let last: f64 = stdout.lines().nth(3).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(last > 30.0, "ERLE in the third second {last} dB\n{stdout}");
    let sout = std::fs::read(&out).unwrap();
    assert_eq!(sout.len(), sin_samples.len() * 2, "Sout has Sin's length");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn echo_reads_and_writes_g711() {
    let d = scratch("g711");
    let (rin, sin, _) = write_pair(&d);
    // Re-code the pair as A-law bytes with dsp-tool itself.
    let (ra, sa, out) = (d.join("rin.al"), d.join("sin.al"), d.join("sout.al"));
    for (i, o) in [(&rin, &ra), (&sin, &sa)] {
        let run = dsp_tool(&["g711", "encode", "--law", "alaw", "--in", s(i), "--out", s(o)]);
        assert!(run.status.success());
    }
    let run = dsp_tool(&["echo", "--rin", s(&ra), "--sin", s(&sa), "--out", s(&out), "--format", "alaw"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read(&out).unwrap().len(), 24_001, "one A-law byte per sample");
    let _ = std::fs::remove_dir_all(&d);
}

/// The run failed with `code` and exactly one line on stderr containing `needle`.
fn assert_one_line_error(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "want one line, got: {stderr:?}");
    assert!(stderr.starts_with("dsp-tool: ") && stderr.contains(needle), "stderr: {stderr:?}");
}

#[test]
fn echo_refuses_bad_input_with_one_line() {
    let d = scratch("errors");
    let (rin, sin, _) = write_pair(&d);
    let out = d.join("sout.raw");
    let short = d.join("short.raw");
    std::fs::write(&short, [0u8; 100]).unwrap();
    let odd = d.join("odd.raw");
    std::fs::write(&odd, [0u8; 101]).unwrap();
    assert_one_line_error(
        &dsp_tool(&["echo", "--rin", s(&rin), "--sin", s(&short), "--out", s(&out)]),
        1,
        "same length",
    );
    assert_one_line_error(&dsp_tool(&["echo", "--rin", s(&odd), "--sin", s(&odd), "--out", s(&out)]), 1, "16-bit");
    assert_one_line_error(
        &dsp_tool(&["echo", "--rin", s(&rin), "--sin", s(&sin), "--out", s(&out), "--tail", "5"]),
        2,
        "unknown option --tail",
    );
    assert_one_line_error(
        &dsp_tool(&["echo", "--rin", s(&rin), "--sin", s(&sin), "--out", s(&out), "--taps", "4096"]),
        2,
        "--taps",
    );
    assert_one_line_error(&dsp_tool(&["echo", "--rin", s(&rin), "--out", s(&out)]), 2, "missing --sin");
    assert!(!out.exists(), "no output written on errors");
    let _ = std::fs::remove_dir_all(&d);
}
