//! `dsp-tool g729 decode` end to end: frames in, 80 samples per frame out, bad lengths refused.

use std::process::Command;

const TOOL: &str = env!("CARGO_BIN_EXE_dsp-tool");

#[test]
fn decode_writes_80_samples_per_frame_and_refuses_partial_frames() {
    let dir = std::env::temp_dir().join(format!("g729_dsp_tool.{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let frames: Vec<u8> = (0..30u32)
        .flat_map(|n| [0xf1, 0x7b, 0x9d, 0x7b, 0xa6, 0xc2, 0xd7, 0x6a, 0x3c, u8::try_from(n).unwrap_or(0)])
        .collect();
    let input = dir.join("in.g729");
    let output = dir.join("out.raw");
    std::fs::write(&input, &frames).expect("write frames");
    let st = Command::new(TOOL).args(["g729", "decode", "--in"]).arg(&input).arg("--out").arg(&output).status();
    assert!(st.expect("run dsp-tool").success(), "dsp-tool g729 decode failed");
    let pcm = std::fs::read(&output).expect("read output");
    assert_eq!(pcm.len(), 30 * 160, "80 s16le samples per frame");
    assert!(pcm.iter().any(|&b| b != 0), "speech frames decoded to pure silence");

    std::fs::write(&input, &frames[..25]).expect("write partial");
    let out = Command::new(TOOL).args(["g729", "decode", "--in"]).arg(&input).arg("--out").arg(&output).output();
    let out = out.expect("run dsp-tool");
    assert_eq!(out.status.code(), Some(1), "a partial frame must be a failure, not a usage error");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("10-byte"),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
