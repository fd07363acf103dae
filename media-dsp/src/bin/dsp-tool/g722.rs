//! `dsp-tool g722 encode|decode`: s16le audio <-> G.722 codes (one per byte) with media-dsp's G.722.

use std::ffi::OsString;

use media_dsp::g722::{Decoder, Encoder, Rate};
use media_dsp::resample::{Downsampler, Upsampler};

use crate::args::{self, Error, Options};

pub const USAGE: &str = "  \
dsp-tool g722 encode --in IN.raw --out OUT.g722 [--rate 64000|56000|48000] [--in-rate 8000|16000]
      s16le samples (16 kHz, or 8 kHz resampled to 16 kHz) -> one code per byte (RFC 3551 order)
  dsp-tool g722 decode --in IN.g722 --out OUT.raw [--rate 64000|56000|48000] [--out-rate 8000|16000]
      codes -> s16le samples at 16 kHz (or resampled to 8 kHz)
";

const ENCODE_OPTIONS: &[&str] = &["--in", "--out", "--rate", "--in-rate"];
const DECODE_OPTIONS: &[&str] = &["--in", "--out", "--rate", "--out-rate"];

pub fn run(args: &[OsString]) -> Result<(), Error> {
    let Some((direction, rest)) = args.split_first() else {
        return Err(Error::Usage("g722 needs encode or decode".into()));
    };
    let direction = direction.to_str().unwrap_or("");
    if matches!(direction, "-h" | "--help") {
        print!("usage:\n{USAGE}");
        return Ok(());
    }
    let encode = match direction {
        "encode" => true,
        "decode" => false,
        other => return Err(Error::Usage(format!("g722 needs encode or decode, not {other:?}"))),
    };
    let opts = Options::parse(rest, if encode { ENCODE_OPTIONS } else { DECODE_OPTIONS })?;
    let rate = match opts.choice("--rate", &["64000", "56000", "48000"])? {
        Some("56000") => Rate::Kbps56,
        Some("48000") => Rate::Kbps48,
        _ => Rate::Kbps64,
    };
    let audio_option = if encode { "--in-rate" } else { "--out-rate" };
    let narrowband = opts.choice(audio_option, &["8000", "16000"])? == Some("8000");
    let input = opts.path("--in")?;
    let output = opts.path("--out")?;
    let bytes = args::read(&input)?;
    let out = if encode {
        if bytes.len() % 2 != 0 {
            return Err(Error::Failed(format!(
                "{}: {} bytes is not a whole number of 16-bit samples (s16le)",
                input.display(),
                bytes.len()
            )));
        }
        let mut samples: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        if narrowband {
            let mut wide = vec![0i16; 2 * samples.len()];
            Upsampler::new().process_into(&samples, &mut wide);
            samples = wide;
        } else if samples.len() % 2 != 0 {
            return Err(Error::Failed(format!(
                "{}: {} samples at 16 kHz is odd, but G.722 codes samples in pairs \
                 (use --in-rate 8000 for 8 kHz audio)",
                input.display(),
                samples.len()
            )));
        }
        let mut codes = vec![0u8; samples.len() / 2];
        let n = Encoder::new(rate).encode(&samples, &mut codes);
        codes.truncate(n);
        codes
    } else {
        let mut samples = vec![0i16; 2 * bytes.len()];
        let n = Decoder::new(rate).decode(&bytes, &mut samples);
        samples.truncate(n);
        if narrowband {
            let mut narrow = vec![0i16; samples.len() / 2];
            Downsampler::new().process_into(&samples, &mut narrow);
            samples = narrow;
        }
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    };
    args::write(&output, &out)
}
