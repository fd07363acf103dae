//! End-to-end tests of `dsp-tool g722`: run as a user would, on files in a temp dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use media_dsp::g722::{Decoder, Encoder, Rate};

fn dsp_tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsp-tool")).args(args).output().expect("run dsp-tool")
}

fn scratch(test: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("dsp_tool_g722-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write_pcm(path: &Path, samples: &[i16]) {
    std::fs::write(path, samples.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
}

fn read_pcm(path: &Path) -> Vec<i16> {
    std::fs::read(path).unwrap().chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

fn tone(freq: f64, rate: f64, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 / rate;
            #[allow(clippy::cast_possible_truncation)]
            let v = (10_000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()).round() as i16;
            v
        })
        .collect()
}

/// The run failed with `code` and one line on stderr containing `needle`.
fn assert_one_line_error(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "want one line, got: {stderr:?}");
    assert!(stderr.starts_with("dsp-tool: ") && stderr.contains(needle), "stderr: {stderr:?}");
}

#[test]
fn files_match_the_library_at_every_rate() {
    let d = scratch("library");
    let pcm = tone(1000.0, 16_000.0, 3200);
    let (input, codes, back) = (d.join("in.raw"), d.join("out.g722"), d.join("back.raw"));
    write_pcm(&input, &pcm);
    for (text, rate) in [("64000", Rate::Kbps64), ("56000", Rate::Kbps56), ("48000", Rate::Kbps48)] {
        let out = dsp_tool(&["g722", "encode", "--rate", text, "--in", s(&input), "--out", s(&codes)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut want = vec![0u8; pcm.len() / 2];
        Encoder::new(rate).encode(&pcm, &mut want);
        assert!(std::fs::read(&codes).unwrap() == want, "{text}: encoded file differs from the library");
        let out = dsp_tool(&["g722", "decode", &format!("--rate={text}"), "--in", s(&codes), "--out", s(&back)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut want_pcm = vec![0i16; pcm.len()];
        Decoder::new(rate).decode(&want, &mut want_pcm);
        assert_eq!(read_pcm(&back), want_pcm, "{text}: decoded file differs from the library");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn eight_khz_audio_is_resampled_both_ways() {
    let d = scratch("narrowband");
    let pcm = tone(1000.0, 8000.0, 8000);
    let (input, codes, back) = (d.join("in8k.raw"), d.join("out.g722"), d.join("back8k.raw"));
    write_pcm(&input, &pcm);
    let out = dsp_tool(&["g722", "encode", "--in-rate", "8000", "--in", s(&input), "--out", s(&codes)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // One code per 8 kHz sample: 16 kHz after resampling, two samples per code.
    assert_eq!(std::fs::read(&codes).unwrap().len(), pcm.len());
    let out = dsp_tool(&["g722", "decode", "--out-rate", "8000", "--in", s(&codes), "--out", s(&back)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let decoded = read_pcm(&back);
    assert_eq!(decoded.len(), pcm.len());
    // The tone comes back: fit a 1 kHz sinusoid (free amplitude and phase: the two resamplers and
    // the codec delay it by a fraction of a sample) and require 20 dB of it over the residual, and
    // its amplitude within 1 dB of the input's.
    let tail = &decoded[400..];
    let w = 2.0 * std::f64::consts::PI * 1000.0 / 8000.0;
    let (mut a, mut b) = (0.0, 0.0);
    for (i, &v) in tail.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let ph = w * i as f64;
        a += f64::from(v) * ph.sin();
        b += f64::from(v) * ph.cos();
    }
    #[allow(clippy::cast_precision_loss)]
    let (a, b) = (2.0 * a / tail.len() as f64, 2.0 * b / tail.len() as f64);
    let (mut signal, mut residual) = (0.0, 0.0);
    for (i, &v) in tail.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let ph = w * i as f64;
        let fit = a * ph.sin() + b * ph.cos();
        signal += fit * fit;
        residual += (f64::from(v) - fit).powi(2);
    }
    let snr = 10.0 * (signal / residual).log10();
    let level = 20.0 * ((a * a + b * b).sqrt() / 10_000.0).log10();
    assert!(snr > 20.0, "8 kHz round trip: SNR {snr:.1} dB");
    assert!(level.abs() < 1.0, "8 kHz round trip: the tone came back at {level:.2} dB");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_lengths_and_options_are_one_line_errors() {
    let d = scratch("errors");
    let (odd_bytes, odd_samples, out) = (d.join("odd_bytes.raw"), d.join("odd_samples.raw"), d.join("out"));
    std::fs::write(&odd_bytes, [1u8, 2, 3]).unwrap();
    write_pcm(&odd_samples, &[1, 2, 3]);
    let r = dsp_tool(&["g722", "encode", "--in", s(&odd_bytes), "--out", s(&out)]);
    assert_one_line_error(&r, 1, "not a whole number of 16-bit samples");
    let r = dsp_tool(&["g722", "encode", "--in", s(&odd_samples), "--out", s(&out)]);
    assert_one_line_error(&r, 1, "G.722 codes samples in pairs");
    // Three 8 kHz samples are fine: each becomes a pair.
    let r = dsp_tool(&["g722", "encode", "--in-rate", "8000", "--in", s(&odd_samples), "--out", s(&out)]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read(&out).unwrap().len(), 3);
    let r = dsp_tool(&["g722", "encode", "--rate", "32000", "--in", s(&odd_bytes), "--out", s(&out)]);
    assert_one_line_error(&r, 2, "--rate must be one of 64000|56000|48000");
    let r = dsp_tool(&["g722", "encode", "--in-rate", "11025", "--in", s(&odd_bytes), "--out", s(&out)]);
    assert_one_line_error(&r, 2, "--in-rate must be one of 8000|16000");
    let r = dsp_tool(&["g722", "decode", "--in-rate", "8000", "--in", s(&odd_bytes), "--out", s(&out)]);
    assert_one_line_error(&r, 2, "unknown option --in-rate");
    let r = dsp_tool(&["g722", "decode", "--out", s(&out)]);
    assert_one_line_error(&r, 2, "missing --in");
    let r = dsp_tool(&["g722", "transcode"]);
    assert_one_line_error(&r, 2, "g722 needs encode or decode");
    let r = dsp_tool(&["g722", "decode", "--in", s(&d.join("absent")), "--out", s(&out)]);
    assert_one_line_error(&r, 1, "cannot read");
    // Any byte is a valid code: an odd-length code file decodes.
    let r = dsp_tool(&["g722", "decode", "--in", s(&odd_bytes), "--out", s(&out)]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(read_pcm(&out).len(), 6);
    let _ = std::fs::remove_dir_all(&d);
}
