//! `dsp-tool g729 encode|decode`: s16le samples <-> 10-byte G.729A frames with media-dsp's codec.

use std::ffi::OsString;

use media_dsp::g729::{Decoder, Encoder, FRAME_BYTES, L_FRAME};

use crate::args::{self, Error, Options};

pub const USAGE: &str = "  \
dsp-tool g729 encode --in IN.raw --out OUT.g729   8 kHz s16le samples -> 10-byte frames (80 samples
      each; a partial last frame is padded with silence), bit-exact with bcg729 (VAD off)
dsp-tool g729 decode --in IN.g729 --out OUT.raw   10-byte frames -> s16le samples (80 per frame)
";

const OPTIONS: &[&str] = &["--in", "--out"];

pub fn run(args: &[OsString]) -> Result<(), Error> {
    let Some((direction, rest)) = args.split_first() else {
        return Err(Error::Usage("g729 needs encode or decode".into()));
    };
    let direction = direction.to_str().unwrap_or("");
    if matches!(direction, "-h" | "--help") {
        print!("usage:\n{USAGE}");
        return Ok(());
    }
    if direction != "decode" && direction != "encode" {
        return Err(Error::Usage(format!("g729 needs encode or decode, not {direction:?}")));
    }
    let opts = Options::parse(rest, OPTIONS)?;
    let input = opts.path("--in")?;
    let output = opts.path("--out")?;
    let bytes = args::read(&input)?;
    if direction == "encode" {
        return args::write(&output, &encode(&input, &bytes)?);
    }
    if bytes.len() % FRAME_BYTES != 0 {
        return Err(Error::Failed(format!(
            "{}: {} bytes is not a whole number of {FRAME_BYTES}-byte G.729 frames",
            input.display(),
            bytes.len()
        )));
    }
    let mut dec = Decoder::new();
    let mut out = Vec::with_capacity(bytes.len() / FRAME_BYTES * L_FRAME * 2);
    let mut pcm = [0i16; L_FRAME];
    for frame in bytes.chunks_exact(FRAME_BYTES) {
        let frame: &[u8; FRAME_BYTES] = frame.try_into().map_err(|_| Error::Failed("short frame".into()))?;
        dec.decode(Some(frame), &mut pcm);
        out.extend(pcm.iter().flat_map(|s| s.to_le_bytes()));
    }
    args::write(&output, &out)
}

fn encode(input: &std::path::Path, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    if bytes.len() % 2 != 0 {
        return Err(Error::Failed(format!(
            "{}: {} bytes is not a whole number of 16-bit samples (s16le)",
            input.display(),
            bytes.len()
        )));
    }
    let mut samples: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    // G.729 codes whole 10 ms frames: the tail is completed with silence rather than dropped.
    samples.resize(samples.len().div_ceil(L_FRAME) * L_FRAME, 0);
    let mut enc = Encoder::new();
    let mut out = Vec::with_capacity(samples.len() / L_FRAME * FRAME_BYTES);
    for frame in samples.chunks_exact(L_FRAME) {
        let frame: &[i16; L_FRAME] = frame.try_into().map_err(|_| Error::Failed("short frame".into()))?;
        out.extend_from_slice(&enc.encode(frame));
    }
    Ok(out)
}
