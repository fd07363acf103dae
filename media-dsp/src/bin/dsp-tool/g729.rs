//! `dsp-tool g729 decode`: 10-byte G.729A frames -> s16le samples with media-dsp's decoder.

use std::ffi::OsString;

use media_dsp::g729::{Decoder, FRAME_BYTES, L_FRAME};

use crate::args::{self, Error, Options};

pub const USAGE: &str = "  \
dsp-tool g729 decode --in IN.g729 --out OUT.raw   10-byte frames -> s16le samples (80 per frame)
";

const OPTIONS: &[&str] = &["--in", "--out"];

pub fn run(args: &[OsString]) -> Result<(), Error> {
    let Some((direction, rest)) = args.split_first() else {
        return Err(Error::Usage("g729 needs decode".into()));
    };
    let direction = direction.to_str().unwrap_or("");
    if matches!(direction, "-h" | "--help") {
        print!("usage:\n{USAGE}");
        return Ok(());
    }
    if direction == "encode" {
        // Said plainly rather than hidden: the encoder is not written yet.
        return Err(Error::Usage("g729 encode is not available yet (only decode)".into()));
    }
    if direction != "decode" {
        return Err(Error::Usage(format!("g729 needs decode, not {direction:?}")));
    }
    let opts = Options::parse(rest, OPTIONS)?;
    let input = opts.path("--in")?;
    let output = opts.path("--out")?;
    let bytes = args::read(&input)?;
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
