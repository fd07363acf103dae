//! Hand-rolled option parsing shared by the subcommands (media-dsp keeps its dependencies tiny).
//!
//! Options are `--name value` or `--name=value`; each subcommand lists the names it accepts, so an
//! unknown or repeated option is an error rather than something silently ignored.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::PathBuf;

/// What went wrong, already phrased for the one line `dsp-tool` prints.
#[derive(Debug)]
pub enum Error {
    /// A wrong command line: exit code 2.
    Usage(String),
    /// The command line was fine but the work failed (I/O, bad data): exit code 1.
    Failed(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Failed(_) => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Keep the promise of one line even if a message carries an OS error with newlines.
            Error::Usage(m) | Error::Failed(m) => f.write_str(&m.replace('\n', " ")),
        }
    }
}

/// The options given on a command line, by name (`--in`), in the order seen.
pub struct Options {
    given: Vec<(&'static str, OsString)>,
}

impl Options {
    /// Parses `args`, accepting only the names in `known`.
    pub fn parse(args: &[OsString], known: &[&'static str]) -> Result<Self, Error> {
        let mut given: Vec<(&'static str, OsString)> = Vec::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let Some(text) = arg.to_str() else {
                return Err(Error::Usage(format!("unexpected argument {arg:?}")));
            };
            let (name, inline) = match text.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(OsString::from(v))),
                _ => (text, None),
            };
            let Some(&name) = known.iter().find(|k| **k == name) else {
                return Err(if name.starts_with('-') {
                    Error::Usage(format!("unknown option {name} (accepted: {})", known.join(" ")))
                } else {
                    Error::Usage(format!("unexpected argument {name:?}"))
                });
            };
            let value = match inline {
                Some(v) => v,
                None => it.next().cloned().ok_or_else(|| Error::Usage(format!("{name} needs a value")))?,
            };
            if given.iter().any(|(n, _)| *n == name) {
                return Err(Error::Usage(format!("{name} given twice")));
            }
            given.push((name, value));
        }
        Ok(Options { given })
    }

    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.given.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_os_str())
    }

    pub fn path(&self, name: &str) -> Result<PathBuf, Error> {
        self.get(name).map(PathBuf::from).ok_or_else(|| Error::Usage(format!("missing {name}")))
    }

    /// A value that must be one of `choices`.
    pub fn choice<'a>(&self, name: &str, choices: &[&'a str]) -> Result<Option<&'a str>, Error> {
        let Some(v) = self.get(name) else { return Ok(None) };
        choices
            .iter()
            .find(|c| OsStr::new(c) == v)
            .copied()
            .map(Some)
            .ok_or_else(|| Error::Usage(format!("{name} must be one of {}, not {v:?}", choices.join("|"))))
    }
}

/// Reads a whole input file, naming it in the error.
pub fn read(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Failed(format!("cannot read {}: {e}", path.display())))
}

/// Writes a whole output file, naming it in the error.
pub fn write(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|e| Error::Failed(format!("cannot write {}: {e}", path.display())))
}
