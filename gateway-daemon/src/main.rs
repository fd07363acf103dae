//! `spangate`: the TDM-to-IP gateway daemon and its command-line tools.
#![forbid(unsafe_code)]

mod cli_berofos;
mod cli_ha;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use gateway_daemon::{board, daemon, logging};
use log::LevelFilter;

const USAGE: &str = "\
spangate — TDM-to-IP telephony gateway

USAGE:
    spangate [OPTIONS]                     run the built-in simulated appliance (sim-e1x2)
    spangate run --config FILE [OPTIONS]   run the board described by FILE
    spangate check FILE...                 validate config files; print every problem, apply nothing
    spangate hardware [--sysfs DIR] [--write-modules FILE]
                                           list DAHDI cards with their module, firmware and options
    spangate import-dahdi --system-conf FILE --channels-conf FILE [--chan-dahdi FILE]
                          [--modules FILE] [--out FILE]
                                           turn a DAHDI + chan_dahdi set-up into a spangate config
                                           (printed, or written to --out); notices on stderr
    spangate export-dahdi CONFIG --out DIR write DIR/system.conf and DIR/dahdi-channels.conf
    spangate berofos scan | get KEY | set KEY=VALUE | mode master|slave | kick ...
                                           control berofos relay switches (spangate berofos --help)
    spangate ha status | switchover [--url URL]
                                           high availability of a running node (spangate ha --help)

OPTIONS:
    --log-level LEVEL    error | warn | info | debug | trace (default: the config's [log] level)
    --http ADDR          serve the status page on ADDR instead of the config's [http] listen
    --sip ADDR           take SIP on ADDR (UDP, and TCP on the same port) instead of [sip] listen
    --test-hooks         accept POST /api/v1/test/media/stall?ms=N (stalls the media thread;
                         for HA tests only, never on a node in service)
    -h, --help           this text
    -V, --version        the version
";

struct Args {
    command: String,
    config: Option<PathBuf>,
    files: Vec<PathBuf>,
    log_level: Option<LevelFilter>,
    http: Option<SocketAddr>,
    sip: Option<SocketAddr>,
    test_hooks: bool,
    sysfs: Option<PathBuf>,
    write_modules: Option<PathBuf>,
    /// import-dahdi / export-dahdi: input files by role, and where to write.
    dahdi_files: DahdiFiles,
}

/// The files `import-dahdi` reads and the place either DAHDI command writes to.
#[derive(Default)]
struct DahdiFiles {
    system_conf: Option<PathBuf>,
    channels_conf: Option<PathBuf>,
    chan_dahdi: Option<PathBuf>,
    modules: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> anyhow::Result<Option<Args>> {
    let mut a = Args {
        command: "run".into(),
        config: None,
        files: Vec::new(),
        log_level: None,
        http: None,
        sip: None,
        test_hooks: false,
        sysfs: None,
        write_modules: None,
        dahdi_files: DahdiFiles::default(),
    };
    let mut first = true;
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("spangate {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--config" | "-c" => a.config = Some(PathBuf::from(value("--config")?)),
            "--log-level" => {
                let v = value("--log-level")?;
                a.log_level = Some(logging::parse_level(&v).with_context(|| format!("unknown log level {v:?}"))?);
            }
            "--http" => {
                let v = value("--http")?;
                a.http =
                    Some(v.parse().with_context(|| format!("--http: {v:?} is not an address like 127.0.0.1:8080"))?);
            }
            "--sip" => {
                let v = value("--sip")?;
                a.sip = Some(v.parse().with_context(|| format!("--sip: {v:?} is not an address like 127.0.0.1:5060"))?);
            }
            "--test-hooks" => a.test_hooks = true,
            "--sysfs" => a.sysfs = Some(PathBuf::from(value("--sysfs")?)),
            "--write-modules" => a.write_modules = Some(PathBuf::from(value("--write-modules")?)),
            "--system-conf" => a.dahdi_files.system_conf = Some(PathBuf::from(value("--system-conf")?)),
            "--channels-conf" => a.dahdi_files.channels_conf = Some(PathBuf::from(value("--channels-conf")?)),
            "--chan-dahdi" => a.dahdi_files.chan_dahdi = Some(PathBuf::from(value("--chan-dahdi")?)),
            "--modules" => a.dahdi_files.modules = Some(PathBuf::from(value("--modules")?)),
            "--out" => a.dahdi_files.out = Some(PathBuf::from(value("--out")?)),
            "run" | "check" | "hardware" | "import-dahdi" | "export-dahdi" if first => a.command = arg,
            s if s.starts_with('-') => bail!("unknown option {s:?}\n\n{USAGE}"),
            _ if a.command == "check" || a.command == "export-dahdi" => a.files.push(PathBuf::from(arg)),
            s => bail!("unexpected argument {s:?}\n\n{USAGE}"),
        }
        first = false;
    }
    Ok(Some(a))
}

fn check(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    if files.is_empty() {
        bail!("check needs at least one config file");
    }
    let mut bad = 0;
    for f in files {
        match provisioning::load_file(f) {
            Ok(cfg) => println!("{}: ok ({} span(s), board {})", f.display(), cfg.board.spans.len(), cfg.board.model),
            Err(diags) => {
                bad += 1;
                for d in &diags.0 {
                    println!("{d}");
                }
                println!("{}: {} problem(s); nothing applied", f.display(), diags.0.len());
            }
        }
    }
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn hardware(args: &Args) -> anyhow::Result<ExitCode> {
    let sysfs = args.sysfs.clone().unwrap_or_else(|| PathBuf::from("/sys"));
    let cards = dahdi_driver::hardware::scan(&sysfs);
    print!("{}", dahdi_driver::hardware::report(&cards));
    if let Some(path) = &args.write_modules {
        std::fs::write(path, dahdi_driver::hardware::modules_file(&cards))
            .with_context(|| format!("write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `spangate import-dahdi`: exit 1 with every diagnostic when an input file is bad.
fn import_dahdi(f: &DahdiFiles) -> anyhow::Result<ExitCode> {
    use dahdi_driver::conf::{import, Input};
    let (Some(sys), Some(chans)) = (&f.system_conf, &f.channels_conf) else {
        bail!("import-dahdi needs --system-conf FILE and --channels-conf FILE\n\n{USAGE}");
    };
    let read = |p: &PathBuf| Input::read(p);
    let inputs = (|| {
        Ok((
            read(sys)?,
            read(chans)?,
            f.chan_dahdi.as_ref().map(read).transpose()?,
            f.modules.as_ref().map(read).transpose()?,
        ))
    })();
    let result = inputs.and_then(|(s, c, cd, m)| import(&s, &c, cd.as_ref(), m.as_ref()));
    match result {
        Ok((toml, notices)) => {
            for n in &notices {
                eprintln!("notice: {n}");
            }
            match &f.out {
                Some(out) => {
                    std::fs::write(out, &toml).with_context(|| format!("write {}", out.display()))?;
                    eprintln!("wrote {} ({} notice(s))", out.display(), notices.len());
                }
                None => print!("{toml}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!("{} problem(s): nothing imported", diags.len());
            Ok(ExitCode::from(1))
        }
    }
}

/// `spangate export-dahdi CONFIG --out DIR`.
fn export_dahdi(files: &[PathBuf], f: &DahdiFiles) -> anyhow::Result<ExitCode> {
    let ([config], Some(dir)) = (files, &f.out) else {
        bail!("export-dahdi needs one CONFIG file and --out DIR\n\n{USAGE}");
    };
    let cfg = match provisioning::load_file(config) {
        Ok(c) => c,
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let (system_conf, channels) = dahdi_driver::conf::export(&cfg);
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    for (name, text) in [("system.conf", &system_conf), ("dahdi-channels.conf", &channels)] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let loaded = match &args.config {
        Some(path) => provisioning::load_file(path),
        None => provisioning::parse_str(board::DEFAULT_BOARD_NAME, board::DEFAULT_BOARD),
    };
    let cfg = match loaded {
        Ok(c) => c,
        Err(diags) => {
            for d in &diags.0 {
                eprintln!("{d}");
            }
            eprintln!("{} problem(s) in the config; nothing applied", diags.0.len());
            return Ok(ExitCode::from(1));
        }
    };
    let level = args.log_level.or_else(|| logging::parse_level(&cfg.log.level)).unwrap_or(LevelFilter::Info);
    logging::init(level);
    daemon::run(cfg, &daemon::RunOptions { http: args.http, sip: args.sip, test_hooks: args.test_hooks })?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    logging::init(LevelFilter::Info);
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = match argv.split_first() {
        // `berofos` has its own sub-commands and options: hand it the rest of the line.
        Some((cmd, rest)) if cmd == "berofos" => cli_berofos::main(rest),
        Some((cmd, rest)) if cmd == "ha" => cli_ha::main(rest),
        _ => parse_args(argv.into_iter()).and_then(|args| match args {
            None => Ok(ExitCode::SUCCESS),
            Some(a) if a.command == "check" => check(&a.files),
            Some(a) if a.command == "hardware" => hardware(&a),
            Some(a) if a.command == "import-dahdi" => import_dahdi(&a.dahdi_files),
            Some(a) if a.command == "export-dahdi" => export_dahdi(&a.files, &a.dahdi_files),
            Some(a) => run(&a),
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("spangate: {e:#}");
            ExitCode::from(2)
        }
    }
}
