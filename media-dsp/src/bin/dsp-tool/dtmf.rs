//! `dsp-tool dtmf`: runs the DTMF receiver over a recording and prints each digit with its times.

use std::ffi::OsString;

use media_dsp::dtmf::{Detector, EventKind, BLOCK};
use media_dsp::g711::{self, Law};

use crate::args::{self, Error, Options};

pub const USAGE: &str = "  \
dsp-tool dtmf --in IN.raw [--format s16le|alaw|ulaw]
      detect DTMF digits in IN (8 kHz mono, s16le by default); prints one line per digit:
      the digit, its start and its end in seconds from the start of the file
";

const OPTIONS: &[&str] = &["--in", "--format"];

/// Silence fed after the file so that a digit still sounding at its end is closed: the receiver
/// needs three 13 ms blocks without a digit to end it.
const TAIL_SAMPLES: usize = 400;

pub fn run(args: &[OsString]) -> Result<(), Error> {
    if args.first().and_then(|a| a.to_str()).is_some_and(|a| matches!(a, "-h" | "--help")) {
        print!("usage:\n{USAGE}");
        return Ok(());
    }
    let opts = Options::parse(args, OPTIONS)?;
    let law = match opts.choice("--format", &["s16le", "alaw", "ulaw"])? {
        None | Some("s16le") => None,
        Some("alaw") => Some(Law::Alaw),
        Some(_) => Some(Law::Mulaw),
    };
    let path = opts.path("--in")?;
    let bytes = args::read(&path)?;
    let samples: Vec<i16> = match law {
        None => {
            if bytes.len() % 2 != 0 {
                return Err(Error::Failed(format!(
                    "{}: {} bytes is not a whole number of 16-bit samples (s16le)",
                    path.display(),
                    bytes.len()
                )));
            }
            bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
        }
        Some(law) => {
            let mut out = vec![0i16; bytes.len()];
            g711::decode_into(law, &bytes, &mut out);
            out
        }
    };
    let mut detector = Detector::new();
    let mut open: Option<(char, u64)> = None;
    let mut count = 0usize;
    println!("digit  start_s  end_s");
    let padded = samples.iter().copied().chain(std::iter::repeat_n(0, TAIL_SAMPLES)).collect::<Vec<i16>>();
    for chunk in padded.chunks(BLOCK) {
        let mut block = [0i16; BLOCK];
        block[..chunk.len()].copy_from_slice(chunk);
        detector.process(&block);
        while let Some(e) = detector.poll_event() {
            match e.kind {
                EventKind::Start => open = Some((e.digit, e.at)),
                EventKind::End => {
                    // The receiver always closes the digit it opened, so `open` holds it.
                    let start = open.take().map_or(e.at, |(_, at)| at);
                    println!("{:<5}  {:>7.3}  {:>5.3}", e.digit, seconds(start), seconds(e.at));
                    count += 1;
                }
            }
        }
    }
    #[allow(clippy::cast_precision_loss, reason = "sample counts")]
    let duration = samples.len() as f64 / 8000.0;
    eprintln!("{count} digit(s) in {duration:.3} s");
    Ok(())
}

fn seconds(at: u64) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "sample indexes of a recording")]
    let s = at as f64 / 8000.0;
    s
}
