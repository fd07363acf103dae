//! `dsp-tool`: runs media-dsp's kernels over raw 8 kHz files, so anyone can try them on recordings.
//!
//! One module per subcommand; each exposes `USAGE` and `run(args)`. Adding a kernel is one module
//! and one line in `dispatch`. Errors print as one line on stderr; usage errors exit with 2, other
//! failures (unreadable files, bad file lengths) with 1.

mod args;
mod dtmf;
mod echo;
mod g711;
mod g722;
mod g729;

use std::process::ExitCode;

use args::Error;

fn usage() -> String {
    format!("usage:\n{}", [dtmf::USAGE, echo::USAGE, g711::USAGE, g722::USAGE, g729::USAGE].join(""))
}

fn dispatch(command: &str, rest: &[std::ffi::OsString]) -> Result<(), Error> {
    match command {
        "dtmf" => dtmf::run(rest),
        "echo" => echo::run(rest),
        "g711" => g711::run(rest),
        "g722" => g722::run(rest),
        "g729" => g729::run(rest),
        "-h" | "--help" | "help" => {
            print!("{}", usage());
            Ok(())
        }
        other => Err(Error::Usage(format!("unknown command {other:?} (try dsp-tool --help)"))),
    }
}

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let result = match argv.first() {
        None => Err(Error::Usage("missing command (try dsp-tool --help)".into())),
        Some(first) => match first.to_str() {
            Some(command) => dispatch(command, &argv[1..]),
            None => Err(Error::Usage(format!("unknown command {first:?} (try dsp-tool --help)"))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dsp-tool: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
