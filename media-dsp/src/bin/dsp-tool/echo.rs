//! `dsp-tool echo`: runs the line echo canceller over a recorded Rin/Sin pair and prints ERLE.

use std::ffi::OsString;

use media_dsp::echo::{Config, EchoCanceller, BLOCK, MAX_TAPS};
use media_dsp::g711::{self, Law};

use crate::args::{self, Error, Options};

pub const USAGE: &str = "  \
dsp-tool echo --rin RIN.raw --sin SIN.raw --out SOUT.raw [--taps N] [--nlp on|off] [--format s16le|alaw|ulaw]
      cancel the echo of RIN (what was sent to the line) in SIN (what came back), 8 kHz mono;
      SOUT has SIN's format; prints the ERLE of every second (Sin over Sout power, NLP included)
";

const OPTIONS: &[&str] = &["--rin", "--sin", "--out", "--taps", "--nlp", "--format"];

/// How the samples are stored in the files.
#[derive(Clone, Copy)]
enum Format {
    S16le,
    G711(Law),
}

fn decode(format: Format, bytes: &[u8], path: &std::path::Path) -> Result<Vec<i16>, Error> {
    match format {
        Format::S16le => {
            if bytes.len() % 2 != 0 {
                return Err(Error::Failed(format!(
                    "{}: {} bytes is not a whole number of 16-bit samples (s16le)",
                    path.display(),
                    bytes.len()
                )));
            }
            Ok(bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect())
        }
        Format::G711(law) => {
            let mut out = vec![0i16; bytes.len()];
            g711::decode_into(law, bytes, &mut out);
            Ok(out)
        }
    }
}

fn encode(format: Format, samples: &[i16]) -> Vec<u8> {
    match format {
        Format::S16le => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
        Format::G711(law) => {
            let mut out = vec![0u8; samples.len()];
            g711::encode_into(law, samples, &mut out);
            out
        }
    }
}

fn power(x: &[i16]) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "sample counts")]
    let n = x.len().max(1) as f64;
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / n
}

pub fn run(args: &[OsString]) -> Result<(), Error> {
    if args.first().and_then(|a| a.to_str()).is_some_and(|a| matches!(a, "-h" | "--help")) {
        print!("usage:\n{USAGE}");
        return Ok(());
    }
    let opts = Options::parse(args, OPTIONS)?;
    let format = match opts.choice("--format", &["s16le", "alaw", "ulaw"])? {
        None | Some("s16le") => Format::S16le,
        Some("alaw") => Format::G711(Law::Alaw),
        Some(_) => Format::G711(Law::Mulaw),
    };
    let nlp = !matches!(opts.choice("--nlp", &["on", "off"])?, Some("off"));
    let taps = match opts.get("--taps") {
        None => MAX_TAPS,
        Some(t) => match t.to_str().and_then(|t| t.parse::<usize>().ok()) {
            Some(n) if (16..=MAX_TAPS).contains(&n) => n,
            _ => return Err(Error::Usage(format!("--taps must be a number from 16 to {MAX_TAPS}, not {t:?}"))),
        },
    };
    let (rin_path, sin_path, out_path) = (opts.path("--rin")?, opts.path("--sin")?, opts.path("--out")?);
    let rin = decode(format, &args::read(&rin_path)?, &rin_path)?;
    let sin = decode(format, &args::read(&sin_path)?, &sin_path)?;
    if rin.len() != sin.len() {
        return Err(Error::Failed(format!(
            "{} has {} samples but {} has {}: the pair must be the same length",
            rin_path.display(),
            rin.len(),
            sin_path.display(),
            sin.len()
        )));
    }
    let mut ec = EchoCanceller::new(Config { taps, nlp, ..Config::default() });
    // The canceller works on whole 8-sample blocks: pad the last one with silence, then trim.
    let padded = rin.len().div_ceil(BLOCK) * BLOCK;
    let (mut r, mut out) = (rin.clone(), sin.clone());
    r.resize(padded, 0);
    out.resize(padded, 0);
    println!(
        "second  ERLE dB  (taps {}, NLP {}, kernel {:?})",
        ec.config().taps,
        if nlp { "on" } else { "off" },
        ec.kernel()
    );
    for (second, (o, r)) in out.chunks_mut(8000).zip(r.chunks(8000)).enumerate() {
        for (ob, rb) in o.chunks_exact_mut(BLOCK).zip(r.chunks_exact(BLOCK)) {
            ec.process(ob, rb);
        }
        let start = second * 8000;
        let end = (start + o.len()).min(sin.len());
        if end > start {
            let erle = 10.0 * (power(&sin[start..end]) / power(&o[..end - start]).max(1e-9)).log10();
            println!("{:>6}  {erle:>7.1}", second + 1);
        }
    }
    out.truncate(sin.len());
    args::write(&out_path, &encode(format, &out))
}
