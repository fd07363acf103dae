//! Boots the guest in QEMU and reads its serial console until the result line or a deadline.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::build::Kernel;
use super::RESULT_MARK;
use crate::root;

/// How long a guest may take from start to its first `/init` line before the accelerator is
/// judged broken (TCG boots in 5-15 s on our machines).
const BOOT_DEADLINE: Duration = Duration::from_secs(60);
/// How long the whole guest run may take.
const RUN_DEADLINE: Duration = Duration::from_secs(300);
const BOOTED_MARK: &str = "SPANGATE-VMTEST BOOTED";

/// What a boot gave.
pub struct Outcome {
    /// `kvm` or `tcg`.
    pub accel: &'static str,
    /// The guest's result lines, in order (one per guest program, plus one per crash).
    pub results: Vec<String>,
    pub console: PathBuf,
}

enum Run {
    /// The guest never reached `/init` (the accelerator does not work here).
    NotBooted,
    Done(Vec<String>),
}

fn verdict_file() -> PathBuf {
    root().join("target/vm/kvm-verdict")
}

/// KVM is tried when `/dev/kvm` opens read-write and no earlier run found it broken.
fn kvm_worth_trying() -> bool {
    let opens = fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_ok();
    let broken = fs::read_to_string(verdict_file()).is_ok_and(|v| v.trim() == "broken");
    opens && !broken
}

/// Boots with KVM when it works, else with TCG.
pub fn boot(kernel: &Kernel, initramfs: &Path) -> anyhow::Result<Outcome> {
    let console = root().join("target/vm/console.log");
    if kvm_worth_trying() {
        // A KVM guest that works is up in a few seconds; one that hangs never prints.
        match run_once(kernel, initramfs, true, &console, Duration::from_secs(20))? {
            Run::Done(results) => return Ok(Outcome { accel: "kvm", results, console }),
            Run::NotBooted => {
                println!("vm-test: /dev/kvm is there but the guest hangs under KVM; using TCG from now on");
                fs::write(verdict_file(), "broken\n")?;
            }
        }
    }
    match run_once(kernel, initramfs, false, &console, BOOT_DEADLINE)? {
        Run::Done(results) => Ok(Outcome { accel: "tcg", results, console }),
        Run::NotBooted => anyhow::bail!("the guest did not boot under TCG; console in {}", console.display()),
    }
}

fn run_once(kernel: &Kernel, initramfs: &Path, kvm: bool, log: &Path, boot: Duration) -> anyhow::Result<Run> {
    let mut cmd = Command::new("qemu-system-x86_64");
    if kvm {
        cmd.arg("-enable-kvm");
    }
    cmd.args(["-m", "1024", "-smp", "2", "-nodefaults", "-nographic", "-serial", "stdio", "-no-reboot"])
        .arg("-kernel")
        .arg(&kernel.image)
        .arg("-initrd")
        .arg(initramfs)
        .args(["-append", "console=ttyS0 panic=-1 quiet loglevel=4"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("start qemu-system-x86_64 (package qemu-system-x86)")?;
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().context("qemu stdout")?;
    let stderr = child.stderr.take().context("qemu stderr")?;
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx2.send(format!("qemu: {line}"));
        }
    });
    let mut out = fs::File::create(log)?;
    let started = Instant::now();
    let mut booted = false;
    let mut results = Vec::new();
    loop {
        let deadline = if booted { RUN_DEADLINE } else { boot };
        let Some(left) = deadline.checked_sub(started.elapsed()) else { break };
        match rx.recv_timeout(left) {
            Ok(line) => {
                // The serial console carries terminal escapes and CRs from the firmware.
                let line = line.replace('\r', "");
                writeln!(out, "{line}")?;
                if line.contains(BOOTED_MARK) {
                    booted = true;
                    println!("vm-test: guest booted after {:.1} s", started.elapsed().as_secs_f64());
                } else if line.starts_with("SPANGATE-VMTEST") || line.starts_with("VMCHECK") {
                    println!("vm-test: guest: {line}");
                }
                if let Some(at) = line.find(RESULT_MARK) {
                    results.push(line[at..].to_owned());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // The guest powers itself off after the result; this only ends a guest that hung.
    if child.try_wait()?.is_none() {
        let _ = child.kill();
    }
    let _ = child.wait();
    if !booted {
        return Ok(Run::NotBooted);
    }
    if results.is_empty() {
        let text = fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(25).collect();
        println!("vm-test: no result line; console tail:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    Ok(Run::Done(results))
}
