//! `cargo xtask vm-test`: the DAHDI kernel modules, Debian's kernel and our binaries in a QEMU guest.
//!
//! There are no telephony cards on our machines, but DAHDI's kernel code runs without hardware:
//! `dahdi_dynamic_loc` makes local spans that loop into each other. This command proves our code
//! against that real kernel code: it installs Debian's kernel, headers, DAHDI source, QEMU and a
//! static busybox (apt-get, once), builds only the DAHDI modules the test needs for *Debian's*
//! kernel (never the host's: the host kernel is not Debian's and never loads them), packs an
//! initramfs with the modules, busybox and our test program, boots it, and reads one result line
//! from the serial console.
//!
//! Phases and where their products are cached (all under `target/vm/`):
//!
//! | phase | product | reused when |
//! |---|---|---|
//! | packages | apt-get install of [`crate::deps::VM_PACKAGES`] | installed |
//! | modules | `target/vm/<kernel>/modules/*.ko` | the `.ko` files exist |
//! | binaries | `cargo build` of the guest program | cargo's own cache |
//! | initramfs | `target/vm/initramfs.cpio` | rebuilt every run (a second) |
//! | boot | `target/vm/console.log` | never: this is the test |
//!
//! KVM is used when `/dev/kvm` opens and a first boot proves it works; some nested hosts give a
//! `/dev/kvm` on which the guest hangs right after the BIOS, so that verdict is cached in
//! `target/vm/kvm-verdict` and software emulation (TCG) is used instead.

mod build;
mod cpio;
mod qemu;

use std::time::Instant;

use anyhow::{bail, Context};

/// The line the guest prints once, with `pass` or `fail` and what it measured.
pub const RESULT_MARK: &str = "SPANGATE-VMTEST RESULT";

/// Runs the whole chain and fails unless the guest reports `pass`.
pub fn main(_args: &[String]) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut phases: Vec<(&str, f64)> = Vec::new();
    let mut phase = |name: &'static str, t: Instant| {
        let secs = t.elapsed().as_secs_f64();
        println!("vm-test: phase {name} took {secs:.1} s");
        phases.push((name, secs));
    };

    let t = Instant::now();
    crate::deps::ensure_list(crate::deps::VM_PACKAGES)?;
    phase("packages", t);

    let t = Instant::now();
    let kernel = build::Kernel::debian()?;
    let modules = build::dahdi_modules(&kernel)?;
    phase("modules", t);

    let t = Instant::now();
    let programs = build::guest_programs()?;
    phase("binaries", t);

    let t = Instant::now();
    let initramfs = build::initramfs(&kernel, &modules, &programs)?;
    phase("initramfs", t);

    let t = Instant::now();
    let outcome = qemu::boot(&kernel, &initramfs)?;
    phase("boot+test", t);

    for (name, secs) in &phases {
        println!("vm-test: {name:<10} {secs:7.1} s");
    }
    println!("vm-test: total      {:7.1} s (accelerator: {})", started.elapsed().as_secs_f64(), outcome.accel);
    let result = outcome.result.context("the guest printed no result line")?;
    println!("vm-test: {result}");
    if !result.starts_with(&format!("{RESULT_MARK} pass")) {
        bail!("the guest test failed; console in {}", outcome.console.display());
    }
    Ok(())
}
