//! The real `dahdi_cfg -t -vv` (Debian package `dahdi`) as the oracle of our system.conf files:
//! every exported file is accepted and its channel map is the one our config describes, and on
//! bad files dahdi_cfg and our parser report the same errors on the same lines.
//!
//! dahdi_cfg opens /dev/dahdi/ctl before reading its file even with -t; `tests/c/devnull_shim.c`,
//! preloaded, turns that open into one of /dev/null (reference/dahdi.md §1.1). A missing
//! dahdi_cfg or gcc fails the test, naming the package.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use dahdi_driver::conf::system_conf::{ChanLaw, Sig};
use dahdi_driver::conf::{export, export::channel_bases, import, system_conf, Input};
use hal::SpanKind;
use provisioning::{Config, EchoMode, Signalling};

#[path = "common/synthetic.rs"]
mod synthetic;

const DAHDI_CFG: &str = "/usr/sbin/dahdi_cfg";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dahdi_cfg_oracle");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Builds the shim once per test run.
fn shim() -> &'static Path {
    static SHIM: OnceLock<PathBuf> = OnceLock::new();
    SHIM.get_or_init(|| {
        let out = tmp().join("devnull_shim.so");
        let src = manifest().join("tests/c/devnull_shim.c");
        let st = Command::new("gcc")
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&out)
            .arg(&src)
            .arg("-ldl")
            .status()
            .unwrap_or_else(|e| panic!("cannot run gcc (install the Debian package `gcc`): {e}"));
        assert!(st.success(), "gcc failed on {}", src.display());
        out
    })
}

/// Runs `dahdi_cfg -t [-vv] -c file`: exit code, stdout, stderr.
fn dahdi_cfg(file: &Path, verbose: bool) -> (i32, String, String) {
    assert!(
        Path::new(DAHDI_CFG).exists(),
        "{DAHDI_CFG} is missing: install the Debian package `dahdi` (cargo xtask deps does)"
    );
    let mut cmd = Command::new(DAHDI_CFG);
    cmd.arg("-t");
    if verbose {
        cmd.arg("-vv");
    }
    let out = cmd.arg("-c").arg(file).env("LD_PRELOAD", shim()).output().expect("run dahdi_cfg");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One channel of the -vv map: label, law, echo canceller.
type MapEntry = (String, String, String);

/// Parses `Channel NN: <label> (<law>) (Echo Canceler: X) (Slaves: NN)` lines.
fn channel_map(stdout: &str) -> BTreeMap<u32, MapEntry> {
    let mut map = BTreeMap::new();
    for l in stdout.lines() {
        let Some(rest) = l.strip_prefix("Channel ") else { continue };
        let Some((num, rest)) = rest.split_once(": ") else { continue };
        let (label, rest) = rest.split_once(" (").expect("label");
        let (law, rest) = rest.split_once(") (Echo Canceler: ").expect("law");
        let (ec, _) = rest.split_once(')').expect("echo canceller");
        map.insert(num.parse().expect("channel number"), (label.to_string(), law.to_string(), ec.to_string()));
    }
    map
}

/// The map our config should give.
fn expected_map(cfg: &Config) -> BTreeMap<u32, MapEntry> {
    let mut map = BTreeMap::new();
    for (s, base) in cfg.board.spans.iter().zip(channel_bases(cfg)) {
        let law = if s.hal.law == hal::Law::Mulaw { "Mu-law" } else { "A-law" };
        let ec = if s.echo.mode == EchoMode::Software { "oslec" } else { "none" };
        let abs = |c: u8| base + u32::from(c) - 1;
        if !s.hal.kind.is_digital() {
            let label = match s.signalling {
                Signalling::FxoKs => "FXO Kewlstart",
                Signalling::FxoLs => "FXO Loopstart",
                Signalling::FxoGs => "FXO Groundstart",
                Signalling::FxsKs => "FXS Kewlstart",
                Signalling::FxsLs => "FXS Loopstart",
                _ => "FXS Groundstart",
            };
            map.insert(base, (label.into(), law.into(), ec.into()));
            continue;
        }
        for c in &s.hal.bchans {
            let label = if s.signalling == Signalling::Cas { "CAS / User" } else { "Clear channel" };
            map.insert(abs(*c), (label.into(), law.into(), ec.into()));
        }
        if let Some(d) = s.hal.dchan.filter(|_| s.signalling.is_isdn()) {
            let label = if s.hal.kind == SpanKind::Bri { "Hardware assisted D-channel" } else { "D-channel" };
            map.insert(abs(d), (label.into(), law.into(), "none".into()));
        }
    }
    map
}

fn check_export(name: &str, cfg: &Config) {
    let (sys, _) = export(cfg);
    let file = tmp().join(format!("{name}.system.conf"));
    std::fs::write(&file, &sys).unwrap();
    let (rc, out, err) = dahdi_cfg(&file, true);
    assert_eq!(rc, 0, "{name}: dahdi_cfg refused our system.conf:\n{err}\n{sys}");
    let expected = expected_map(cfg);
    assert_eq!(channel_map(&out), expected, "{name}: channel map\n{out}");
    let spans = cfg.board.spans.iter().filter(|s| s.hal.kind.is_digital()).count();
    assert_eq!(out.lines().filter(|l| l.starts_with("SPAN ")).count(), spans, "{name}\n{out}");
    assert!(out.contains(&format!("\n{} channels to configure.", expected.len())), "{name}\n{out}");
}

#[test]
fn every_exported_board_is_accepted_with_our_channel_map() {
    for board in ["te205p", "te420", "b410p", "tdm410p", "tc400b"] {
        let path = manifest().join("../board-configs").join(format!("{board}.toml"));
        let cfg = provisioning::load_file(&path).unwrap_or_else(|d| panic!("{d}"));
        check_export(board, &cfg);
    }
}

#[test]
fn every_synthetic_config_is_accepted_with_our_channel_map() {
    for (i, text) in synthetic::SYNTHETIC.iter().enumerate() {
        let cfg = provisioning::parse_str("synthetic.toml", text).unwrap_or_else(|d| panic!("{d}"));
        check_export(&format!("synthetic-{i}"), &cfg);
    }
}

#[test]
fn every_xivo_example_is_accepted_as_given_and_as_exported() {
    let root = manifest().join("tests/fixtures/xivo");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    assert!(dirs.len() >= 6, "the XiVO fixtures are missing");
    for d in dirs {
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        let (rc, _, err) = dahdi_cfg(&d.join("system.conf"), false);
        assert_eq!(rc, 0, "{name}: the reference's own system.conf: {err}");
        let read = |f: &str| Input::read(&d.join(f)).unwrap();
        let cd = d.join("chan_dahdi.conf").exists().then(|| read("chan_dahdi.conf"));
        let md = d.join("modules").exists().then(|| read("modules"));
        let (toml, _) = import(&read("system.conf"), &read("dahdi-channels.conf"), cd.as_ref(), md.as_ref()).unwrap();
        let cfg = provisioning::parse_str("imported.toml", &toml).unwrap();
        check_export(&format!("xivo-{name}"), &cfg);
    }
}

/// `line N: message` lines of dahdi_cfg's stderr.
fn oracle_errors(stderr: &str) -> Vec<(usize, String)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("line "))
        .filter_map(|l| l.split_once(": "))
        .map(|(n, m)| (n.parse().expect("line number"), m.to_string()))
        .collect()
}

#[test]
fn bad_files_give_the_same_errors_on_the_same_lines() {
    let root = manifest().join("tests/fixtures/errors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 4, "the error fixtures are missing");
    for f in files {
        let (rc, _, err) = dahdi_cfg(&f, false);
        assert_eq!(rc, 1, "{}: dahdi_cfg accepted it", f.display());
        let theirs = oracle_errors(&err);
        let ours: Vec<(usize, String)> = match system_conf::parse("x", &std::fs::read(&f).unwrap()) {
            Ok(_) => panic!("{}: our parser accepted it", f.display()),
            Err(d) => d.iter().map(|e| (e.at.line, e.message.clone())).collect(),
        };
        let lines = |v: &[(usize, String)]| v.iter().map(|e| e.0).collect::<Vec<_>>();
        assert_eq!(lines(&ours), lines(&theirs), "{}: error lines differ\n{err}", f.display());
        assert_eq!(ours, theirs, "{}: error messages differ", f.display());
        assert!(err.contains(&format!("\n{} error(s) detected", theirs.len())), "{err}");
    }
}

/// A channel line of the -vv map with its slaves: label, law, echo canceller, slaves.
type FullEntry = (String, String, String, Vec<u32>);

fn full_map(stdout: &str) -> BTreeMap<u32, FullEntry> {
    let mut map = BTreeMap::new();
    for (ch, (label, law, ec)) in channel_map(stdout) {
        let line = stdout.lines().find(|l| l.starts_with(&format!("Channel {ch:02}: "))).unwrap();
        let slaves = line
            .split_once("(Slaves: ")
            .map(|(_, r)| r.trim_end_matches(')').split(' ').map(|n| n.parse().unwrap()).collect())
            .unwrap_or_default();
        map.insert(ch, (label, law, ec, slaves));
    }
    map
}

/// `SPAN N: FRAMING/CODING Build-out: TEXT` lines as (span, framing, coding, build-out).
fn span_lines(stdout: &str) -> Vec<(i64, String, String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("SPAN "))
        .map(|l| {
            let (n, rest) = l.split_once(": ").unwrap();
            let (fc, lbo) = rest.split_once(" Build-out: ").unwrap();
            let (f, c) = fc.split_once('/').unwrap();
            (n.parse().unwrap(), f.trim().to_string(), c.trim().to_string(), lbo.to_string())
        })
        .collect()
}

const LBO: [&str; 8] = [
    "0 db (CSU)/0-133 feet (DSX-1)",
    "133-266 feet (DSX-1)",
    "266-399 feet (DSX-1)",
    "399-533 feet (DSX-1)",
    "533-655 feet (DSX-1)",
    "-7.5db (CSU)",
    "-15db (CSU)",
    "-22.5db (CSU)",
];

#[test]
fn our_parser_reads_valid_files_as_dahdi_cfg_does() {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(manifest().join("tests/fixtures/valid")).unwrap().map(|e| e.unwrap().path()).collect();
    files.extend(
        ["bri-ptp", "pri-fr", "pbx-gateway", "fxs-port"]
            .map(|d| manifest().join("tests/fixtures/xivo").join(d).join("system.conf")),
    );
    files.sort();
    assert!(files.len() >= 6);
    for f in files {
        let (rc, out, err) = dahdi_cfg(&f, true);
        assert_eq!(rc, 0, "{}: {err}", f.display());
        let conf =
            system_conf::parse("f", &std::fs::read(&f).unwrap()).unwrap_or_else(|d| panic!("{}: {d}", f.display()));
        let mut ours = BTreeMap::new();
        for (ch, c) in &conf.channels {
            let slave = matches!(c.sig, Sig::Bundle(_)) && c.master != *ch;
            if c.sig == Sig::Unused || matches!(c.sig, Sig::Dacs { .. }) || slave {
                continue;
            }
            let law = match conf.laws.get(ch).map(|l| l.0) {
                Some(ChanLaw::Alaw) => "A-law",
                Some(ChanLaw::Mulaw) => "Mu-law",
                _ => "Default",
            };
            let ec = conf.echocan.get(ch).map_or("none", |e| e.0.as_str());
            let slaves: Vec<u32> = conf.channels.iter().filter(|(_, y)| y.master == *ch).map(|(n, _)| *n).collect();
            ours.insert(*ch, (c.sig.label().to_string(), law.to_string(), ec.to_string(), slaves));
        }
        assert_eq!(ours, full_map(&out), "{}: channel map\n{out}", f.display());
        let count = conf.channels.values().filter(|c| c.sig != Sig::Unused).count();
        assert!(out.contains(&format!("\n{count} channels to configure.")), "{}: count {count}\n{out}", f.display());
        // DACS pairs, which the map prints as `Channel NN DACS to MM`.
        for (ch, c) in &conf.channels {
            if let Sig::Dacs { peer, .. } = c.sig {
                let shown = out
                    .lines()
                    .any(|l| l.starts_with(&format!("Channel {ch:02} ")) && l.ends_with(&format!(" to {peer:02}")));
                assert!(shown, "{}: DACS {ch} to {peer}\n{out}", f.display());
            }
        }
        let spans: Vec<(i64, String, String, String)> = conf
            .spans
            .iter()
            .map(|s| (s.span, s.framing.to_uppercase(), s.coding.to_uppercase(), LBO[usize::from(s.lbo)].to_string()))
            .collect();
        assert_eq!(spans, span_lines(&out), "{}: span lines", f.display());
    }
}
