//! The system packages the tests need, installed with apt-get when missing.
//!
//! Each package is listed with the test that needs it. A test whose peer is missing fails and names
//! the package; this step is what makes that never happen in CI.

use std::process::Command;

use anyhow::{bail, Context};

/// (Debian package, file that proves it is installed, who needs it).
pub const PACKAGES: &[(&str, &str, &str)] = &[
    (
        "chromium",
        "/usr/bin/chromium",
        "tests/e2e/browser.rs: the status page is loaded in headless Chromium and screenshotted",
    ),
    ("gcc", "/usr/bin/gcc", "media-dsp/tests/g711_spandsp.rs and cargo xtask bench dsp: build the spandsp C programs"),
    (
        "libspandsp-dev",
        "/usr/include/spandsp/g711.h",
        "media-dsp/tests/g711_spandsp.rs: G.711 oracle; cargo xtask bench dsp: the peer",
    ),
    (
        "tshark",
        "/usr/bin/tshark",
        "gateway-daemon/src/isdn/pcap.rs: our LAPD/Q.931 captures must decode in tshark without a malformed packet",
    ),
    (
        "libpri-dev",
        "/usr/include/libpri.h",
        "tests/e2e/isdn_l2.rs: tests/peers/libpri_peer.c, libpri as the far end of our Q.921 (PRI, BRI PTP and PTMP)",
    ),
    (
        "libbcg729-dev",
        "/usr/include/bcg729/decoder.h",
        "media-dsp/tests/g729_bcg729.rs, g729_encoder.rs: tests/c/g729_oracle.c, bcg729 as the G.729A oracle (own process, never linked); cargo xtask bench dsp: the G.729A peer",
    ),
    ("sip-tester", "/usr/bin/sipp", "tests/e2e/sip.rs: sipp as the SIP peer (PBX or provider) of calls through the gateway"),
    (
        "baresip-core",
        "/usr/lib/baresip/modules/sndfile.so",
        "tests/e2e/baresip.rs: two baresips (WAV tone in, sndfile recording out) calling each other across the TDM loop",
    ),
    ("dahdi-source", "/usr/include/dahdi/user.h", "dahdi-driver/tests/abi.rs: the DAHDI ABI is pinned to the real user.h"),
    (
        "dahdi",
        "/usr/sbin/dahdi_cfg",
        "dahdi-driver/tests/dahdi_cfg_oracle.rs (exports checked by dahdi_cfg -t) and tests/e2e/hardware.rs (dahdi_hardware cross-check)",
    ),
];

/// What `cargo xtask vm-test` needs on top (see xtask/src/vm): Debian's kernel and its headers (the
/// DAHDI modules are built for that kernel, never the host's), DAHDI's kernel source, the build
/// tools for it, QEMU and a static busybox for the guest.
pub const VM_PACKAGES: &[(&str, &str, &str)] = &[
    ("linux-image-amd64", "/usr/share/doc/linux-image-amd64", "vm-test: the guest kernel"),
    ("linux-headers-amd64", "/usr/share/doc/linux-headers-amd64", "vm-test: Kbuild for the DAHDI modules"),
    ("dahdi-source", "/usr/src/dahdi.tar.bz2", "vm-test: the DAHDI kernel source"),
    ("make", "/usr/bin/make", "vm-test: Kbuild"),
    ("gcc", "/usr/bin/gcc", "vm-test: Kbuild"),
    ("bzip2", "/bin/bzip2", "vm-test: unpacks /usr/src/dahdi.tar.bz2"),
    ("qemu-system-x86", "/usr/bin/qemu-system-x86_64", "vm-test: runs the guest"),
    ("busybox-static", "/bin/busybox", "vm-test: the guest's shell and tools"),
];

fn installed(pkg: &str, file: &str) -> bool {
    if !std::path::Path::new(file).exists() {
        return false;
    }
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Installs every missing package in one apt-get run.
pub fn ensure() -> anyhow::Result<()> {
    ensure_list(PACKAGES)
}

/// Installs every missing package of `list` in one apt-get run.
pub fn ensure_list(list: &[(&str, &str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> = list.iter().filter(|(p, f, _)| !installed(p, f)).map(|(p, _, _)| *p).collect();
    if missing.is_empty() {
        println!("xtask: test peers present: {}", list.iter().map(|p| p.0).collect::<Vec<_>>().join(", "));
        return Ok(());
    }
    println!("xtask: installing missing test peers: {}", missing.join(" "));
    let sudo = if is_root() { None } else { Some("sudo") };
    let apt = |args: &[&str]| -> anyhow::Result<()> {
        let mut cmd = match sudo {
            Some(s) => {
                let mut c = Command::new(s);
                c.arg("apt-get");
                c
            }
            None => Command::new("apt-get"),
        };
        let status = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("run apt-get (is this a Debian machine?)")?;
        if !status.success() {
            bail!("apt-get {} failed: {status}", args.join(" "));
        }
        Ok(())
    };
    apt(&["update", "-qq"])?;
    // Wait for the dpkg lock rather than fail when another apt run is finishing.
    let mut args = vec!["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args)?;
    for (p, f, why) in list {
        if !installed(p, f) {
            bail!("package {p} is still missing after apt-get ({f} absent); needed by {why}");
        }
    }
    Ok(())
}
