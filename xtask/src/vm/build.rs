//! The guest's pieces: Debian's kernel, the DAHDI modules built for it, our programs with the
//! libraries they load, and the initramfs that holds them with busybox and the `/init` script.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use super::cpio::Archive;
use crate::{root, run};

/// Debian's kernel (from `linux-image-amd64`), which is the one the modules are built for.
pub struct Kernel {
    /// `6.1.0-56-amd64`.
    pub version: String,
    pub image: PathBuf,
    pub headers: PathBuf,
}

impl Kernel {
    /// The kernel `linux-image-amd64` depends on: never the running one (the host's kernel is not
    /// Debian's and has no headers here).
    pub fn debian() -> anyhow::Result<Kernel> {
        let out = Command::new("dpkg-query")
            .args(["-W", "-f=${Depends}", "linux-image-amd64"])
            .output()
            .context("dpkg-query linux-image-amd64")?;
        let depends = String::from_utf8_lossy(&out.stdout);
        let version = kernel_version(&depends)
            .with_context(|| format!("linux-image-amd64 names no kernel package: {depends:?}"))?;
        let image = PathBuf::from(format!("/boot/vmlinuz-{version}"));
        let headers = PathBuf::from(format!("/usr/src/linux-headers-{version}"));
        for p in [&image, &headers] {
            if !p.exists() {
                bail!("{} is missing (packages linux-image-amd64 / linux-headers-amd64)", p.display());
            }
        }
        Ok(Kernel { version, image, headers })
    }
}

/// The kernel version in `linux-image-amd64`'s `Depends` ("linux-image-6.1.0-56-amd64 (= 6.1.192-2)").
fn kernel_version(depends: &str) -> Option<String> {
    depends
        .split(|c: char| c == ',' || c == '|' || c.is_whitespace())
        .find_map(|w| w.strip_prefix("linux-image-"))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The modules the guest loads, in load order (each depends only on those before it). `mg2` is the
/// software echo canceller the test attaches with `DAHDI_ATTACH_ECHOCAN`; `dahdi_transcode` makes
/// `/dev/dahdi/transcode` (no card, so no transcoder registers: the refusal path is what runs).
pub const MODULES: &[&str] = &["dahdi", "dahdi_dynamic", "dahdi_dynamic_loc", "dahdi_echocan_mg2", "dahdi_transcode"];

/// The Kbuild switches that select exactly [`MODULES`]: DAHDI's Kbuild names every driver
/// `obj-$(DAHDI_BUILD_ALL)$(CONFIG_X)`, so clearing `DAHDI_BUILD_ALL` and setting only these
/// builds five modules instead of every card driver (seconds instead of minutes).
const KBUILD_SWITCHES: &[&str] = &[
    "DAHDI_BUILD_ALL=",
    "CONFIG_DAHDI=m",
    "CONFIG_DAHDI_DYNAMIC=m",
    "CONFIG_DAHDI_DYNAMIC_LOC=m",
    "CONFIG_DAHDI_ECHOCAN_MG2=m",
    "CONFIG_DAHDI_TRANSCODE=m",
];

fn vm_dir() -> PathBuf {
    root().join("target/vm")
}

/// Builds (or reuses) the DAHDI modules for `kernel` from Debian's `dahdi-source` tarball.
pub fn dahdi_modules(kernel: &Kernel) -> anyhow::Result<Vec<PathBuf>> {
    let out_dir = vm_dir().join(&kernel.version).join("modules");
    let wanted: Vec<PathBuf> = MODULES.iter().map(|m| out_dir.join(format!("{m}.ko"))).collect();
    if wanted.iter().all(|p| p.exists()) {
        println!("vm-test: DAHDI modules for {} cached in {}", kernel.version, out_dir.display());
        return Ok(wanted);
    }
    let src = vm_dir().join("dahdi-src");
    let tree = src.join("modules/dahdi");
    if !tree.join("drivers/dahdi/Kbuild").exists() {
        fs::create_dir_all(&src)?;
        run(Command::new("tar").args(["xjf", "/usr/src/dahdi.tar.bz2", "-C"]).arg(&src))?;
    }
    let jobs = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    println!("vm-test: building {} for {} ({jobs} jobs)", MODULES.join(", "), kernel.version);
    let log = vm_dir().join("kbuild.log");
    let status = Command::new("make")
        .arg(format!("-j{jobs}"))
        .arg("-C")
        .arg(&kernel.headers)
        .arg(format!("M={}", tree.join("drivers/dahdi").display()))
        .arg(format!("DAHDI_INCLUDE={}", tree.join("include").display()))
        .args(KBUILD_SWITCHES)
        .arg("modules")
        .stdout(fs::File::create(&log)?)
        .stderr(fs::File::create(vm_dir().join("kbuild.err"))?)
        .status()
        .context("run make (package make)")?;
    if !status.success() {
        let err = fs::read_to_string(vm_dir().join("kbuild.err")).unwrap_or_default();
        let tail: Vec<&str> = err.lines().rev().take(30).collect();
        bail!("DAHDI module build failed ({status}):\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    fs::create_dir_all(&out_dir)?;
    for (m, dest) in MODULES.iter().zip(&wanted) {
        fs::copy(tree.join(format!("drivers/dahdi/{m}.ko")), dest).with_context(|| format!("{m}.ko not built"))?;
    }
    Ok(wanted)
}

/// A program for the guest: where it lives there and here.
pub struct Program {
    pub guest: String,
    pub host: PathBuf,
}

/// Builds the guest's test programs and the `spangate` binary they drive (debug profile, shared
/// with the rest of the workspace). `spangate` goes in without its debug information (binutils'
/// `strip`, there with gcc): it is most of the initramfs otherwise.
pub fn guest_programs() -> anyhow::Result<Vec<Program>> {
    run(crate::cargo().args(["build", "--quiet", "-p", "dahdi-driver", "--bin", "dahdi-vm-check"]))?;
    run(crate::cargo().args([
        "build",
        "--quiet",
        "-p",
        "gateway-daemon",
        "--example",
        "dahdi_call",
        "--example",
        "dahdi_spangate",
        "--bin",
        "spangate",
    ]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    fs::create_dir_all(vm_dir())?;
    let spangate = vm_dir().join("spangate");
    run(Command::new("strip").arg("--strip-debug").arg("-o").arg(&spangate).arg(target.join("debug/spangate")))
        .context("strip spangate (package binutils)")?;
    Ok(vec![
        Program { guest: "/bin/dahdi-vm-check".into(), host: target.join("debug/dahdi-vm-check") },
        Program { guest: "/bin/dahdi_call".into(), host: target.join("debug/examples/dahdi_call") },
        Program { guest: "/bin/spangate".into(), host: spangate },
        Program { guest: "/bin/dahdi_spangate".into(), host: target.join("debug/examples/dahdi_spangate") },
    ])
}

/// The shared libraries `ldd` says a program loads (absolute paths, the loader included).
fn libraries(program: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let out = Command::new("ldd").arg(program).output().context("run ldd")?;
    Ok(parse_ldd(&String::from_utf8_lossy(&out.stdout)))
}

fn parse_ldd(text: &str) -> Vec<PathBuf> {
    let mut libs = Vec::new();
    for line in text.lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
        let path = line.split("=>").last().unwrap_or("").split_whitespace().next().unwrap_or("");
        if path.starts_with('/') {
            libs.push(PathBuf::from(path));
        }
    }
    libs
}

/// The guest's `/init`: mount the kernel file systems, load the modules, run the test, power off.
/// A failure before the test prints the result line itself, so the host never waits for nothing.
fn init_script(modules: &[PathBuf]) -> String {
    let mark = super::RESULT_MARK;
    let mut s = String::from(
        "#!/bin/sh\n\
         /bin/busybox --install -s /bin\n\
         export PATH=/bin\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sys /sys\n\
         mount -t devtmpfs dev /dev\n\
         mkdir -p /dev/shm /run /tmp\n\
         mount -t tmpfs tmpfs /dev/shm\n\
         ifconfig lo 127.0.0.1 up\n\
         echo SPANGATE-VMTEST BOOTED\n\
         t0=$(cut -d' ' -f1 /proc/uptime)\n",
    );
    for m in modules {
        let name = m.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        // Without auto_assign_spans the dynamic spans stay unassigned and every CHANCONFIG fails.
        let args = if name == "dahdi.ko" { " auto_assign_spans=1" } else { "" };
        s.push_str(&format!(
            "insmod /lib/dahdi/{name}{args} || {{ echo \"{mark} fail insmod {name}\"; poweroff -f; }}\n"
        ));
    }
    s.push_str(&format!(
        "echo \"SPANGATE-VMTEST modules loaded at $(cut -d' ' -f1 /proc/uptime) s (boot done at $t0 s)\"\n\
         /bin/dahdi-vm-check || {{ echo \"{mark} fail dahdi-vm-check exited $?\"; dmesg | tail -40; }}\n\
         /bin/dahdi_call || {{ echo \"{mark} fail dahdi_call exited $?\"; dmesg | tail -20; }}\n\
         /bin/dahdi_spangate || {{ echo \"{mark} fail dahdi_spangate exited $?\"; dmesg | tail -20; }}\n\
         poweroff -f\n"
    ));
    s
}

/// Packs busybox, the modules, the programs and their libraries into `target/vm/initramfs.cpio`.
pub fn initramfs(_kernel: &Kernel, modules: &[PathBuf], programs: &[Program]) -> anyhow::Result<PathBuf> {
    let mut files: Vec<(String, PathBuf)> = vec![("/bin/busybox".into(), PathBuf::from("/bin/busybox"))];
    for m in modules {
        let name = m.file_name().and_then(|n| n.to_str()).context("module name")?;
        files.push((format!("/lib/dahdi/{name}"), m.clone()));
    }
    for p in programs {
        files.push((p.guest.clone(), p.host.clone()));
        for lib in libraries(&p.host)? {
            let guest = lib.to_string_lossy().into_owned();
            if !files.iter().any(|(g, _)| *g == guest) {
                files.push((guest, lib));
            }
        }
    }
    let mut dirs: BTreeSet<String> =
        ["/bin", "/dev", "/proc", "/sys", "/tmp", "/run", "/etc"].iter().map(|d| (*d).to_owned()).collect();
    for (guest, _) in &files {
        let mut p = Path::new(guest).parent();
        while let Some(d) = p.filter(|d| *d != Path::new("/")) {
            dirs.insert(d.to_string_lossy().into_owned());
            p = d.parent();
        }
    }
    let mut a = Archive::default();
    // Sorted, so a parent always comes before its children.
    for d in &dirs {
        a.dir(d);
    }
    a.symlink("/bin/sh", "busybox");
    for (guest, host) in &files {
        // Follow symlinks (the loader and libc are links on Debian): the guest gets the file.
        let data = fs::read(host).with_context(|| format!("read {}", host.display()))?;
        a.file(guest, 0o755, &data);
    }
    a.file("/init", 0o755, init_script(modules).as_bytes());
    let path = vm_dir().join("initramfs.cpio");
    let mut out = fs::File::create(&path)?;
    a.finish(&mut out)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_comes_from_the_meta_package_dependency() {
        assert_eq!(kernel_version("linux-image-6.1.0-56-amd64 (= 6.1.192-2)").as_deref(), Some("6.1.0-56-amd64"));
        assert_eq!(kernel_version("linux-image-").as_deref(), None);
        assert_eq!(kernel_version("").as_deref(), None);
    }

    #[test]
    fn ldd_output_gives_every_absolute_library_path() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                    \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f)\n\
                    \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\
                    \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        let libs = parse_ldd(text);
        assert_eq!(
            libs,
            ["/lib/x86_64-linux-gnu/libgcc_s.so.1", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]
                .map(PathBuf::from)
        );
    }

    #[test]
    fn init_loads_the_modules_in_order_and_assigns_spans() {
        let mods: Vec<PathBuf> = MODULES.iter().map(|m| PathBuf::from(format!("/x/{m}.ko"))).collect();
        let init = init_script(&mods);
        let at = |s: &str| init.find(s).unwrap_or_else(|| panic!("{s} missing from /init"));
        assert!(at("insmod /lib/dahdi/dahdi.ko auto_assign_spans=1") < at("insmod /lib/dahdi/dahdi_dynamic.ko"));
        assert!(at("insmod /lib/dahdi/dahdi_dynamic.ko") < at("insmod /lib/dahdi/dahdi_dynamic_loc.ko"));
        assert!(at("mount -t devtmpfs") < at("insmod"));
        assert!(at("/bin/dahdi-vm-check") < at("poweroff -f\n"));
        assert_eq!(init.matches("auto_assign_spans").count(), 1);
    }
}
