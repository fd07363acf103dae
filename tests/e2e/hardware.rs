//! `spangate hardware` on a fake sysfs tree lists the same cards as DAHDI's own `dahdi_hardware`
//! (Debian package `dahdi`) does for that tree, and writes the modules file.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use spangate_tests::{spangate_bin, Scratch};

const DAHDI_HARDWARE: &str = "/usr/sbin/dahdi_hardware";

/// A PCI device at `bdf` with its ids, optionally bound to `driver` (whose module is `module`).
fn pci(top: &Path, bdf: &str, ids: [&str; 4], driver: Option<(&str, &str)>) {
    let dev = top.join("sys/devices/pci0000:00").join(bdf);
    std::fs::create_dir_all(&dev).unwrap();
    for (file, id) in ["vendor", "device", "subsystem_vendor", "subsystem_device"].iter().zip(ids) {
        std::fs::write(dev.join(file), format!("0x{id}\n")).unwrap();
    }
    let devices = top.join("sys/bus/pci/devices");
    std::fs::create_dir_all(&devices).unwrap();
    symlink(format!("../../../devices/pci0000:00/{bdf}"), devices.join(bdf)).unwrap();
    if let Some((drv, module)) = driver {
        let d = top.join("sys/bus/pci/drivers").join(drv);
        std::fs::create_dir_all(&d).unwrap();
        symlink(format!("../../../../devices/pci0000:00/{bdf}"), d.join(bdf)).unwrap();
        std::fs::create_dir_all(top.join("sys/module").join(module)).unwrap();
        if !d.join("module").exists() {
            symlink(format!("../../../../module/{module}"), d.join("module")).unwrap();
        }
    }
}

fn usb(top: &Path, name: &str, ids: [&str; 2], devnum: u32, driver: Option<&str>) {
    let dev = top.join("sys/bus/usb/devices").join(name);
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("idVendor"), format!("{}\n", ids[0])).unwrap();
    std::fs::write(dev.join("idProduct"), format!("{}\n", ids[1])).unwrap();
    std::fs::write(dev.join("devnum"), format!("{devnum}\n")).unwrap();
    if let Some(drv) = driver {
        let iface = dev.join(format!("{name}:1.0"));
        std::fs::create_dir_all(&iface).unwrap();
        let d = top.join("sys/bus/usb/drivers").join(drv);
        std::fs::create_dir_all(&d).unwrap();
        symlink(&d, iface.join("driver")).unwrap();
    }
}

#[test]
fn card_list_matches_dahdi_hardware_on_a_fake_sysfs() {
    assert!(
        Path::new(DAHDI_HARDWARE).exists(),
        "{DAHDI_HARDWARE} is missing: install the Debian package `dahdi` (cargo xtask test does it)"
    );
    let scratch = Scratch::new("hardware");
    let top = scratch.path("root");
    pci(&top, "0000:03:00.0", ["d161", "1205", "d161", "1205"], Some(("wct4xxp", "wct4xxp")));
    pci(&top, "0000:04:00.0", ["d161", "0420", "0004", "0000"], Some(("wct4xxp", "wct4xxp")));
    pci(&top, "0000:05:00.0", ["d161", "b410", "d161", "b410"], None);
    pci(&top, "0000:06:00.0", ["d161", "8005", "d161", "8005"], Some(("wctdm24xxp", "wctdm24xxp")));
    pci(&top, "0000:07:00.0", ["1397", "08b4", "1397", "b560"], None);
    pci(&top, "0000:08:00.0", ["d161", "3400", "d161", "3400"], None);
    pci(&top, "0000:01:00.0", ["8086", "100e", "8086", "001e"], Some(("e1000", "e1000")));
    usb(&top, "1-1", ["e4e4", "1152"], 2, Some("xpp_usb"));
    usb(&top, "2-3", ["046d", "c52b"], 5, None);

    let theirs = Command::new(DAHDI_HARDWARE).env("DAHDI_VIRT_TOP", &top).output().expect("run dahdi_hardware");
    assert!(theirs.status.success(), "dahdi_hardware: {}", String::from_utf8_lossy(&theirs.stderr));
    let theirs = String::from_utf8_lossy(&theirs.stdout).into_owned();
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(theirs.len(), 7, "dahdi_hardware saw the six DAHDI PCI cards and the Astribank:\n{theirs:#?}");

    let modules = scratch.path("modules");
    let ours = Command::new(spangate_bin())
        .args(["hardware", "--sysfs"])
        .arg(top.join("sys"))
        .arg("--write-modules")
        .arg(&modules)
        .output()
        .expect("run spangate hardware");
    let report = String::from_utf8_lossy(&ours.stdout).into_owned();
    assert!(ours.status.success(), "{report}\n{}", String::from_utf8_lossy(&ours.stderr));
    let ours: Vec<&str> = report.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(ours, theirs, "full report:\n{report}");

    for needle in [
        "firmware: dahdi-fw-oct6114-064.bin",
        "firmware: dahdi-fw-oct6114-128.bin",
        "firmware: dahdi-fw-tc400m.bin",
        "option: wct4xxp default_linemode=e1",
        "option: wctdm24xxp opermode=",
        "option: wctdm24xxp fastringer=1",
        "timingcable=1",
        "4 x BRI",
    ] {
        assert!(report.contains(needle), "report lacks {needle:?}:\n{report}");
    }
    let list = std::fs::read_to_string(&modules).expect("modules file written");
    let mods: Vec<&str> = list.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(mods, ["xpp_usb", "wct4xxp", "wcb4xxp", "wctdm24xxp", "wctc4xxp"]);
}
