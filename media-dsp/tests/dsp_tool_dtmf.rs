//! End-to-end tests of `dsp-tool dtmf`: digits written to files in each format, read back by the tool.

use std::path::PathBuf;
use std::process::{Command, Output};

use media_dsp::dtmf::{Generator, GeneratorConfig, BLOCK};
use media_dsp::g711::{self, Law};

fn dsp_tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsp-tool")).args(args).output().expect("run dsp-tool")
}

fn scratch(test: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("dsp_tool_dtmf-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// 100 ms of silence, then `digits` at 60 ms on / 60 ms off.
fn signal(digits: &str) -> Vec<i16> {
    let mut g = Generator::new(GeneratorConfig { on_ms: 60, off_ms: 60, ..GeneratorConfig::default() });
    g.push_str(digits).unwrap();
    let mut s = vec![0i16; 800];
    while !g.is_idle() {
        let mut b = [0i16; BLOCK];
        g.fill(&mut b);
        s.extend_from_slice(&b);
    }
    s
}

/// Parses the tool's output into (digit, start, end) rows.
fn rows(out: &Output) -> Vec<(char, f64, f64)> {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("digit  start_s  end_s"), "{text}");
    lines
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 3, "{l:?}");
            (f[0].chars().next().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect()
}

#[test]
fn prints_every_digit_with_its_times_in_each_format() {
    let d = scratch("formats");
    let digits = "0123456789*#ABCD";
    let pcm = signal(digits);
    for format in ["s16le", "alaw", "ulaw"] {
        let bytes: Vec<u8> = match format {
            "s16le" => pcm.iter().flat_map(|x| x.to_le_bytes()).collect(),
            law => {
                let law = if law == "alaw" { Law::Alaw } else { Law::Mulaw };
                let mut codes = vec![0u8; pcm.len()];
                g711::encode_into(law, &pcm, &mut codes);
                codes
            }
        };
        let path = d.join(format!("in.{format}"));
        std::fs::write(&path, bytes).unwrap();
        let mut args = vec!["dtmf", "--in", path.to_str().unwrap()];
        if format != "s16le" {
            args.extend(["--format", format]);
        }
        let out = dsp_tool(&args);
        assert!(out.status.success(), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let rows = rows(&out);
        let got: String = rows.iter().map(|r| r.0).collect();
        assert_eq!(got, digits, "{format}");
        for (i, &(_, start, end)) in rows.iter().enumerate() {
            // Sent: 0.100 + 0.120 i to 0.160 + 0.120 i; the receiver is within one 13 ms block.
            #[allow(clippy::cast_precision_loss)]
            let t0 = 0.1 + 0.12 * i as f64;
            assert!((start - t0).abs() <= 0.014 && (end - (t0 + 0.06)).abs() <= 0.014, "{format} {i}: {start} {end}");
        }
        assert!(String::from_utf8_lossy(&out.stderr).contains("16 digit(s)"), "{format}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_digit_sounding_at_the_end_of_the_file_is_closed() {
    let d = scratch("tail");
    let mut pcm = signal("7");
    pcm.truncate(800 + 400); // cut inside the tone: 50 ms of it
    let path = d.join("cut.raw");
    std::fs::write(&path, pcm.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    let out = dsp_tool(&["dtmf", "--in", path.to_str().unwrap()]);
    assert!(out.status.success());
    let rows = rows(&out);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, '7');
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn mistakes_are_one_line_errors() {
    let d = scratch("errors");
    let odd = d.join("odd.raw");
    std::fs::write(&odd, [1u8, 2, 3]).unwrap();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["dtmf", "--in", odd.to_str().unwrap()], 1, "not a whole number of 16-bit samples"),
        (vec!["dtmf", "--in", "/nonexistent/x.raw"], 1, "cannot read"),
        (vec!["dtmf"], 2, "missing --in"),
        (vec!["dtmf", "--in", "x", "--format", "wav"], 2, "--format must be one of"),
        (vec!["dtmf", "--in", "x", "--law", "alaw"], 2, "unknown option --law"),
    ];
    for (args, code, needle) in cases {
        let out = dsp_tool(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr:?}");
        assert!(stderr.starts_with("dsp-tool: ") && stderr.contains(needle), "{args:?}: {stderr:?}");
    }
    let help = dsp_tool(&["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("dsp-tool dtmf --in"));
    let _ = std::fs::remove_dir_all(&d);
}
