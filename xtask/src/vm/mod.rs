//! `cargo xtask vm-test`: the DAHDI kernel modules, Debian's kernel and our binaries in a QEMU guest.
//!
//! There are no telephony cards on our machines, but DAHDI's kernel code runs without hardware:
//! `dahdi_dynamic_loc` makes local spans that loop into each other. This command proves our code
//! against that real kernel code: it installs Debian's kernel, headers, DAHDI source, QEMU and a
//! static busybox (apt-get, once), builds only the DAHDI modules the test needs for *Debian's*
//! kernel (never the host's: the host kernel is not Debian's and never loads them), packs an
//! initramfs with the modules, busybox and our test programs, boots it, and reads a result line per program
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

use anyhow::bail;

/// The line the guest prints once, with `pass` or `fail` and what it measured.
pub const RESULT_MARK: &str = "SPANGATE-VMTEST RESULT";
/// The guest runs `dahdi-vm-check` (the backend), `dahdi_call` (a PRI call over it) and
/// `dahdi_spangate` (the `spangate` binary on `backend = "dahdi"`, driven over its HTTP API).
const GUEST_PROGRAMS: usize = 3;

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
    for r in &outcome.results {
        println!("vm-test: {r}");
    }
    // Every guest program prints one result line; a crash adds a `fail` line of its own.
    let passed = outcome.results.iter().filter(|r| r.starts_with(&format!("{RESULT_MARK} pass"))).count();
    if passed != GUEST_PROGRAMS || outcome.results.len() != GUEST_PROGRAMS {
        bail!(
            "the guest test failed: {passed} of {GUEST_PROGRAMS} programs passed; console in {}",
            outcome.console.display()
        );
    }
    Ok(())
}
