//! Pins every ioctl number, constant, structure size and field offset of `dahdi_driver::sys` to
//! what a C program computes from the real `/usr/include/dahdi/user.h` (Debian `dahdi-source`).
//!
//! The C program is generated from our own tables, so every name we declare must exist in the
//! header (or the probe fails to compile) and every value must match.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use dahdi_driver::sys::{CONSTANTS, IOCTLS, OFFSETS, SIZES};

const HEADER: &str = "/usr/include/dahdi/user.h";

fn probe_source() -> String {
    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <sys/ioctl.h>\n#include <dahdi/user.h>\n\
         int main(void) {\n",
    );
    for (name, _) in IOCTLS {
        let _ = writeln!(c, "  printf(\"ioctl {name} %lu\\n\", (unsigned long)({name}));");
    }
    for (name, _) in CONSTANTS {
        let _ = writeln!(c, "  printf(\"const {name} %lld\\n\", (long long)({name}));");
    }
    for (name, _) in SIZES {
        let _ = writeln!(c, "  printf(\"size {name} %zu\\n\", sizeof(struct {name}));");
    }
    for (path, _) in OFFSETS {
        let (st, field) = path.split_once('.').expect("struct.field");
        let _ = writeln!(c, "  printf(\"offset {path} %zu\\n\", offsetof(struct {st}, {field}));");
    }
    c.push_str("  return 0;\n}\n");
    c
}

fn run_probe() -> HashMap<String, i128> {
    assert!(
        Path::new(HEADER).exists(),
        "{HEADER} is missing: install the Debian package `dahdi-source` (cargo xtask test does it)"
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dahdi-abi");
    std::fs::create_dir_all(&dir).expect("probe dir");
    let src = dir.join("probe.c");
    let bin = dir.join("probe");
    std::fs::write(&src, probe_source()).expect("write probe");
    let cc = Command::new("gcc")
        .arg("-Wall")
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run gcc ({e}): install the Debian package `gcc`"));
    assert!(cc.status.success(), "the probe did not compile:\n{}", String::from_utf8_lossy(&cc.stderr));
    let out = Command::new(&bin).output().expect("run probe");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut it = l.splitn(3, ' ');
            let kind = it.next().expect("kind");
            let name = it.next().expect("name");
            let value: i128 = it.next().expect("value").parse().expect("number");
            (format!("{kind} {name}"), value)
        })
        .collect()
}

#[test]
fn every_declaration_matches_the_real_header() {
    let c = run_probe();
    let mut wrong = Vec::new();
    let mut check = |key: String, ours: i128| match c.get(&key) {
        Some(&theirs) if theirs == ours => {}
        Some(&theirs) => wrong.push(format!("{key}: ours {ours:#x}, user.h {theirs:#x}")),
        None => wrong.push(format!("{key}: not printed by the probe")),
    };
    for (name, v) in IOCTLS {
        check(format!("ioctl {name}"), i128::from(*v));
    }
    for (name, v) in CONSTANTS {
        check(format!("const {name}"), i128::from(*v));
    }
    for (name, v) in SIZES {
        check(format!("size {name}"), i128::try_from(*v).expect("size"));
    }
    for (path, v) in OFFSETS {
        check(format!("offset {path}"), i128::try_from(*v).expect("offset"));
    }
    assert!(wrong.is_empty(), "ABI mismatches:\n{}", wrong.join("\n"));
    assert_eq!(c.len(), IOCTLS.len() + CONSTANTS.len() + SIZES.len() + OFFSETS.len());
}

/// The transcoder formats are defined in `dahdi/kernel.h`, which needs the kernel's own headers
/// to compile; the probe takes only its `#define DAHDI_FORMAT_*` lines (they are plain shifts) and
/// lets gcc compute each value, so the numbers still come from the real header, not from us.
#[test]
fn transcoder_formats_match_kernel_h() {
    const KERNEL_H: &str = "/usr/include/dahdi/kernel.h";
    let text = std::fs::read_to_string(KERNEL_H).unwrap_or_else(|e| {
        panic!("{KERNEL_H}: {e}: install the Debian package `dahdi-source` (cargo xtask test does it)")
    });
    let defines: Vec<&str> = text.lines().filter(|l| l.starts_with("#define DAHDI_FORMAT_")).collect();
    let mut c = String::from("#include <stdio.h>\n");
    for d in &defines {
        c.push_str(d);
        c.push('\n');
    }
    c.push_str("int main(void) {\n");
    for (name, _) in dahdi_driver::sys::FORMATS {
        let _ = writeln!(c, "  printf(\"{name} %lu\\n\", (unsigned long)({name}));");
    }
    c.push_str("  return 0;\n}\n");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dahdi-abi-formats");
    std::fs::create_dir_all(&dir).expect("probe dir");
    let (src, bin) = (dir.join("formats.c"), dir.join("formats"));
    std::fs::write(&src, c).expect("write probe");
    let cc = Command::new("gcc")
        .arg("-Wall")
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run gcc ({e}): install the Debian package `gcc`"));
    assert!(cc.status.success(), "the formats probe did not compile:\n{}", String::from_utf8_lossy(&cc.stderr));
    let out = Command::new(&bin).output().expect("run probe");
    let printed: HashMap<String, u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(n, v)| (n.to_string(), v.parse().expect("number"))))
        .collect();
    assert_eq!(printed.len(), dahdi_driver::sys::FORMATS.len());
    for (name, ours) in dahdi_driver::sys::FORMATS {
        assert_eq!(printed.get(*name), Some(&u64::from(*ours)), "{name}");
    }
    // Every format the header defines is declared here too, so a new codec bit is noticed.
    assert_eq!(defines.len(), dahdi_driver::sys::FORMATS.len(), "kernel.h defines {defines:#?}");
}
