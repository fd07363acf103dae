//! `spangate import-dahdi` / `export-dahdi` through the binary: XiVO's four-span gateway in front
//! of a PBX imports into a config `spangate check` accepts, exports back to DAHDI files that read
//! the same, and a bad system.conf gives file:line diagnostics and a non-zero exit.

use std::path::PathBuf;
use std::process::Command;

use spangate_tests::{root, spangate_bin, Scratch};

fn xivo(name: &str) -> PathBuf {
    root().join("dahdi-driver/tests/fixtures/xivo").join(name)
}

#[test]
fn xivo_gateway_imports_checks_and_exports_back() {
    let scratch = Scratch::new("dahdi-conf");
    let dir = xivo("pbx-gateway");
    let toml = scratch.path("imported.toml");
    let out = Command::new(spangate_bin())
        .arg("import-dahdi")
        .arg("--system-conf")
        .arg(dir.join("system.conf"))
        .arg("--channels-conf")
        .arg(dir.join("dahdi-channels.conf"))
        .arg("--modules")
        .arg(dir.join("modules"))
        .arg("--out")
        .arg(&toml)
        .output()
        .expect("run spangate import-dahdi");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Notices name the file and line of what they are about.
    assert!(stderr.contains("notice: ") && stderr.contains("system.conf:5: span 1: mg2 is attached"), "{stderr}");

    let check = Command::new(spangate_bin()).arg("check").arg(&toml).output().expect("run spangate check");
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stdout));
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("model = \"te420\"") && text.contains("kernel_module = \"wct4xxp\""), "{text}");
    assert_eq!(text.matches("[[board.span]]").count(), 4, "{text}");
    assert_eq!(text.matches("signalling = \"pri_net\"").count(), 2, "{text}");

    let outdir = scratch.path("dahdi");
    let exp = Command::new(spangate_bin())
        .arg("export-dahdi")
        .arg(&toml)
        .arg("--out")
        .arg(&outdir)
        .output()
        .expect("run spangate export-dahdi");
    assert_eq!(exp.status.code(), Some(0), "{}", String::from_utf8_lossy(&exp.stderr));
    let sys = std::fs::read_to_string(outdir.join("system.conf")).unwrap();
    let chans = std::fs::read_to_string(outdir.join("dahdi-channels.conf")).unwrap();
    // The same spans, channels and settings as XiVO's files (software echo is exported as oslec).
    for l in [
        "span=1,1,0,ccs,hdb3",
        "span=2,2,0,ccs,hdb3",
        "span=3,0,0,ccs,hdb3",
        "span=4,0,0,ccs,hdb3",
        "bchan=94-108,110-124",
        "dchan=109",
    ] {
        assert!(sys.lines().any(|x| x == l), "{l} missing:\n{sys}");
    }
    for l in ["channel => 63-77,79-93", "context = from-pabx", "overlapdial = incoming", "group = 2,14"] {
        assert!(chans.lines().any(|x| x == l), "{l} missing:\n{chans}");
    }
}

#[test]
fn a_bad_system_conf_gives_every_problem_and_fails() {
    let scratch = Scratch::new("dahdi-conf-bad");
    let sys = scratch.path("system.conf");
    std::fs::write(&sys, "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\nfoo=1\ndchan=16\ndchan=16\n").unwrap();
    let out = Command::new(spangate_bin())
        .arg("import-dahdi")
        .arg("--system-conf")
        .arg(&sys)
        .arg("--channels-conf")
        .arg(xivo("pri-fr/dahdi-channels.conf"))
        .output()
        .expect("run spangate import-dahdi");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("system.conf:3: Unknown keyword 'foo'"), "{stderr}");
    assert!(stderr.contains("system.conf:5: Channel 16 already configured as 'D-channel' at line 4"), "{stderr}");
}
