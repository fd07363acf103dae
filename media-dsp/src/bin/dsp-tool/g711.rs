//! `dsp-tool g711 encode|decode`: s16le <-> A-law/mu-law codes with media-dsp's G.711.

use std::ffi::OsString;

use media_dsp::g711::{self, Law};

use crate::args::{self, Error, Options};

pub const USAGE: &str = "  \
dsp-tool g711 encode --law alaw|ulaw --in IN.raw --out OUT.raw   s16le samples -> one code per byte
  dsp-tool g711 decode --law alaw|ulaw --in IN.raw --out OUT.raw   codes -> s16le samples
";

const OPTIONS: &[&str] = &["--law", "--in", "--out"];

pub fn run(args: &[OsString]) -> Result<(), Error> {
    let Some((direction, rest)) = args.split_first() else {
        return Err(Error::Usage("g711 needs encode or decode".into()));
    };
    let direction = direction.to_str().unwrap_or("");
    if matches!(direction, "-h" | "--help") {
        print!("usage:\n{USAGE}");
        return Ok(());
    }
    if !matches!(direction, "encode" | "decode") {
        return Err(Error::Usage(format!("g711 needs encode or decode, not {direction:?}")));
    }
    let opts = Options::parse(rest, OPTIONS)?;
    let law = match opts.choice("--law", &["alaw", "ulaw"])? {
        Some("alaw") => Law::Alaw,
        Some(_) => Law::Mulaw,
        None => return Err(Error::Usage("missing --law alaw|ulaw".into())),
    };
    let input = opts.path("--in")?;
    let output = opts.path("--out")?;
    let bytes = args::read(&input)?;
    let out = if direction == "encode" {
        if bytes.len() % 2 != 0 {
            return Err(Error::Failed(format!(
                "{}: {} bytes is not a whole number of 16-bit samples (s16le)",
                input.display(),
                bytes.len()
            )));
        }
        let samples: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        let mut codes = vec![0u8; samples.len()];
        g711::encode_into(law, &samples, &mut codes);
        codes
    } else {
        let mut samples = vec![0i16; bytes.len()];
        g711::decode_into(law, &bytes, &mut samples);
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    };
    args::write(&output, &out)
}
