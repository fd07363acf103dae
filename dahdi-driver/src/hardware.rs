//! Card detection from sysfs, as `dahdi_hardware` does it, plus what each card needs to run: its
//! kernel module, ports, firmware files and the module options that matter.
//!
//! PCI cards are matched on `vendor:device/subvendor:subdevice`, then `vendor:device/subvendor`,
//! then `vendor:device` (the subsystem ids tell Digium's generations and the Cologne clones apart);
//! USB devices on `idVendor:idProduct`. The card list prints in `dahdi_hardware`'s format, USB
//! devices first, PCI devices by bus address, so the two tools can be compared line for line.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// What kind of ports a card has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ports {
    /// E1/T1/J1 spans (PRI or CAS).
    Digital(u8),
    /// ISDN BRI S/T ports, each TE or NT.
    Bri(u8),
    /// Analog module slots (FXS or FXO modules).
    Analog(u8),
    /// A transcoder: no spans.
    Transcoder,
    /// Something DAHDI knows but spangate does not drive (radio, GSM...).
    Other,
}

impl std::fmt::Display for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ports::Digital(n) => write!(f, "{n} x E1/T1"),
            Ports::Bri(n) => write!(f, "{n} x BRI (S/T, TE or NT)"),
            Ports::Analog(n) => write!(f, "{n} analog module slot(s) (FXS or FXO)"),
            Ports::Transcoder => f.write_str("transcoder (no spans)"),
            Ports::Other => f.write_str("not driven by spangate"),
        }
    }
}

/// One entry of the id table.
#[derive(Debug)]
pub struct Model {
    pub vendor: u16,
    pub device: u16,
    /// Subsystem vendor, when the match needs it.
    pub subvendor: Option<u16>,
    /// Subsystem device, when the match needs it (only with `subvendor`).
    pub subdevice: Option<u16>,
    pub module: &'static str,
    pub name: &'static str,
    pub ports: Ports,
}

const fn m(
    vendor: u16,
    device: u16,
    sub: Option<(u16, Option<u16>)>,
    module: &'static str,
    name: &'static str,
    ports: Ports,
) -> Model {
    let (subvendor, subdevice) = match sub {
        Some((v, d)) => (Some(v), d),
        None => (None, None),
    };
    Model { vendor, device, subvendor, subdevice, module, name, ports }
}

use Ports::{Analog, Bri, Digital, Other, Transcoder};

const D161: u16 = 0xd161;
const E159: u16 = 0xe159;
const CCD: u16 = 0x1397;

/// PCI ids of the cards DAHDI drives (reference/dahdi.md §5).
pub const PCI_MODELS: &[Model] = &[
    m(0x10ee, 0x0314, None, "wct4xxp", "Wildcard TE410P/TE405P (1st Gen)", Digital(4)),
    m(D161, 0x1420, None, "wct4xxp", "Wildcard TE420 (5th Gen)", Digital(4)),
    m(D161, 0x1410, None, "wct4xxp", "Wildcard TE410P (5th Gen)", Digital(4)),
    m(D161, 0x1405, None, "wct4xxp", "Wildcard TE405P (5th Gen)", Digital(4)),
    m(D161, 0x0420, Some((0x0004, None)), "wct4xxp", "Wildcard TE420 (4th Gen)", Digital(4)),
    m(D161, 0x0410, Some((0x0004, None)), "wct4xxp", "Wildcard TE410P (4th Gen)", Digital(4)),
    m(D161, 0x0405, Some((0x0004, None)), "wct4xxp", "Wildcard TE405P (4th Gen)", Digital(4)),
    m(D161, 0x0410, Some((0x0003, None)), "wct4xxp", "Wildcard TE410P (3rd Gen)", Digital(4)),
    m(D161, 0x0405, Some((0x0003, None)), "wct4xxp", "Wildcard TE405P (3rd Gen)", Digital(4)),
    m(D161, 0x0410, None, "wct4xxp", "Wildcard TE410P (2nd Gen)", Digital(4)),
    m(D161, 0x0405, None, "wct4xxp", "Wildcard TE405P (2nd Gen)", Digital(4)),
    m(D161, 0x1220, None, "wct4xxp", "Wildcard TE220 (5th Gen)", Digital(2)),
    m(D161, 0x1205, None, "wct4xxp", "Wildcard TE205P (5th Gen)", Digital(2)),
    m(D161, 0x1210, None, "wct4xxp", "Wildcard TE210P (5th Gen)", Digital(2)),
    m(D161, 0x0220, Some((0x0004, None)), "wct4xxp", "Wildcard TE220 (4th Gen)", Digital(2)),
    m(D161, 0x0205, Some((0x0004, None)), "wct4xxp", "Wildcard TE205P (4th Gen)", Digital(2)),
    m(D161, 0x0210, Some((0x0004, None)), "wct4xxp", "Wildcard TE210P (4th Gen)", Digital(2)),
    m(D161, 0x0205, Some((0x0003, None)), "wct4xxp", "Wildcard TE205P (3rd Gen)", Digital(2)),
    m(D161, 0x0210, Some((0x0003, None)), "wct4xxp", "Wildcard TE210P (3rd Gen)", Digital(2)),
    m(D161, 0x0205, None, "wct4xxp", "Wildcard TE205P ", Digital(2)),
    m(D161, 0x0210, None, "wct4xxp", "Wildcard TE210P ", Digital(2)),
    m(D161, 0x1820, None, "wct4xxp", "Wildcard TE820 (5th Gen)", Digital(8)),
    m(D161, 0x2400, None, "wctdm24xxp", "Wildcard TDM2400P", Analog(24)),
    m(D161, 0x0800, None, "wctdm24xxp", "Wildcard TDM800P", Analog(8)),
    m(D161, 0x8002, None, "wctdm24xxp", "Wildcard AEX800", Analog(8)),
    m(D161, 0x8003, None, "wctdm24xxp", "Wildcard AEX2400", Analog(24)),
    m(D161, 0x8005, None, "wctdm24xxp", "Wildcard TDM410P", Analog(4)),
    m(D161, 0x8006, None, "wctdm24xxp", "Wildcard AEX410P", Analog(4)),
    m(D161, 0x8007, None, "wctdm24xxp", "HA8-0000", Analog(8)),
    m(D161, 0x8008, None, "wctdm24xxp", "HB8-0000", Analog(8)),
    m(E159, 0x0001, Some((0xe16b, None)), "pciradio", "PCIRADIO", Other),
    m(E159, 0x0001, Some((0x8084, None)), "wcfxo", "Wildcard X101P clone", Analog(1)),
    m(E159, 0x0001, Some((0x8085, None)), "wcfxo", "Wildcard X101P", Analog(1)),
    m(E159, 0x0001, Some((0x8086, None)), "wcfxo", "Wildcard X101P clone", Analog(1)),
    m(E159, 0x0001, Some((0x8087, None)), "wcfxo", "Wildcard X101P clone", Analog(1)),
    m(0x1057, 0x5608, None, "wcfxo", "Wildcard X100P", Analog(1)),
    m(E159, 0x0001, Some((0x6159, None)), "wct1xxp", "Digium Wildcard T100P T1/PRI or E100P E1/PRA Board", Digital(1)),
    m(E159, 0x0001, Some((0xa159, None)), "wctdm", "Wildcard S400P Prototype", Analog(4)),
    m(E159, 0x0001, Some((0xe159, None)), "wctdm", "Wildcard S400P Prototype", Analog(4)),
    m(E159, 0x0001, Some((0xb100, None)), "wctdm", "Wildcard TDM400P REV E/F", Analog(4)),
    m(E159, 0x0001, Some((0xb1d9, None)), "wctdm", "Wildcard TDM400P REV I", Analog(4)),
    m(E159, 0x0001, Some((0xb118, None)), "wctdm", "Wildcard TDM400P REV I", Analog(4)),
    m(E159, 0x0001, Some((0xb119, None)), "wctdm", "Wildcard TDM400P REV I", Analog(4)),
    m(E159, 0x0001, Some((0xa9fd, None)), "wctdm", "Wildcard TDM400P REV H", Analog(4)),
    m(E159, 0x0001, Some((0xa8fd, None)), "wctdm", "Wildcard TDM400P REV H", Analog(4)),
    m(E159, 0x0001, Some((0xa800, None)), "wctdm", "Wildcard TDM400P REV H", Analog(4)),
    m(E159, 0x0001, Some((0xa801, None)), "wctdm", "Wildcard TDM400P REV H", Analog(4)),
    m(E159, 0x0001, Some((0xa908, None)), "wctdm", "Wildcard TDM400P REV H", Analog(4)),
    m(E159, 0x0001, Some((0xa901, None)), "wctdm", "Wildcard TDM400P REV H", Analog(4)),
    m(E159, 0x0001, Some((0x71fe, None)), "wcte11xp", "Digium Wildcard TE110P T1/E1 Board", Digital(1)),
    m(E159, 0x0001, Some((0x79fe, None)), "wcte11xp", "Digium Wildcard TE110P T1/E1 Board", Digital(1)),
    m(E159, 0x0001, Some((0x795e, None)), "wcte11xp", "Digium Wildcard TE110P T1/E1 Board", Digital(1)),
    m(E159, 0x0001, Some((0x79de, None)), "wcte11xp", "Digium Wildcard TE110P T1/E1 Board", Digital(1)),
    m(E159, 0x0001, Some((0x797e, None)), "wcte11xp", "Digium Wildcard TE110P T1/E1 Board", Digital(1)),
    m(D161, 0x0120, None, "wcte12xp", "Wildcard TE12xP", Digital(1)),
    m(D161, 0x8000, None, "wcte12xp", "Wildcard TE121", Digital(1)),
    m(D161, 0x8001, None, "wcte12xp", "Wildcard TE122", Digital(1)),
    m(D161, 0x800a, None, "wcte13xp", "Wildcard TE131/TE133", Digital(1)),
    m(D161, 0x800b, None, "wcte13xp", "Wildcard TE132/TE134", Digital(1)),
    m(D161, 0x800c, None, "wcaxx", "Digium A8A", Analog(8)),
    m(D161, 0x800d, None, "wcaxx", "Digium A8B", Analog(8)),
    m(D161, 0x800f, None, "wcaxx", "Digium A4A", Analog(4)),
    m(D161, 0x8010, None, "wcaxx", "Digium A4B", Analog(4)),
    m(D161, 0x800e, None, "wcte43x", "Wildcard TE435/235", Digital(4)),
    m(D161, 0x8013, None, "wcte43x", "Wildcard TE436/236", Digital(4)),
    m(D161, 0xb410, None, "wcb4xxp", "Digium Wildcard B410P", Bri(4)),
    m(D161, 0x8014, None, "wcb4xxp", "Digium Wildcard B433", Bri(4)),
    m(D161, 0x8015, None, "wcb4xxp", "Digium Wildcard B434", Bri(4)),
    m(D161, 0x8016, None, "wcb4xxp", "Digium Wildcard B233", Bri(2)),
    m(D161, 0x8017, None, "wcb4xxp", "Digium Wildcard B234", Bri(2)),
    m(0x10b5, 0x9030, None, "tor2", "PLX 9030", Digital(4)),
    m(0x10b5, 0x3001, None, "tor2", "PLX Development Board", Digital(4)),
    m(0x10b5, 0xd00d, None, "tor2", "Tormenta 2 Quad T1/PRI or E1/PRA", Digital(4)),
    m(0x10b5, 0x4000, None, "tor2", "Tormenta 2 Quad T1/E1 (non-Digium clone)", Digital(4)),
    m(D161, 0x3400, None, "wctc4xxp", "Wildcard TC400P", Transcoder),
    m(D161, 0x8004, None, "wctc4xxp", "Wildcard TCE400P", Transcoder),
    m(CCD, 0x08b4, Some((CCD, Some(0xb540))), "wcb4xxp", "Swyx 4xS0 SX2 QuadBri", Bri(4)),
    m(CCD, 0x08b4, Some((CCD, Some(0xb556))), "wcb4xxp", "Junghanns DuoBRI ISDN card", Bri(2)),
    m(CCD, 0x08b4, Some((CCD, Some(0xb520))), "wcb4xxp", "Junghanns QuadBRI ISDN card", Bri(4)),
    m(CCD, 0x08b4, Some((CCD, Some(0xb550))), "wcb4xxp", "Junghanns QuadBRI ISDN card", Bri(4)),
    m(CCD, 0x08b4, Some((CCD, Some(0xb752))), "wcb4xxp", "Junghanns QuadBRI ISDN PCI-E card", Bri(4)),
    m(CCD, 0x16b8, Some((CCD, Some(0xb552))), "wcb4xxp", "Junghanns OctoBRI ISDN card", Bri(8)),
    m(CCD, 0x16b8, Some((CCD, Some(0xb55b))), "wcb4xxp", "Junghanns OctoBRI ISDN card", Bri(8)),
    m(CCD, 0x08b4, Some((CCD, Some(0xe884))), "wcb4xxp", "OpenVox B200P", Bri(2)),
    m(CCD, 0x08b4, Some((CCD, Some(0xe888))), "wcb4xxp", "OpenVox B400P", Bri(4)),
    m(CCD, 0x16b8, Some((CCD, Some(0xe998))), "wcb4xxp", "OpenVox B800P", Bri(8)),
    m(CCD, 0x08b4, Some((CCD, Some(0xb566))), "wcb4xxp", "BeroNet BN2S0", Bri(2)),
    m(CCD, 0x08b4, Some((CCD, Some(0xb560))), "wcb4xxp", "BeroNet BN4S0", Bri(4)),
    m(CCD, 0x08b4, Some((CCD, Some(0xb762))), "wcb4xxp", "BeroNet BN4S0 PCI-E card", Bri(4)),
    m(CCD, 0x16b8, Some((CCD, Some(0xb562))), "wcb4xxp", "BeroNet BN8S0", Bri(8)),
    m(CCD, 0x08b4, None, "qozap", "Generic Cologne ISDN card", Bri(4)),
    m(CCD, 0x16b8, None, "qozap", "Generic OctoBRI ISDN card", Bri(8)),
    m(CCD, 0x30b1, None, "cwain", "HFC-E1 ISDN E1 card", Digital(1)),
    m(CCD, 0x2bd0, None, "zaphfc", "HFC-S ISDN BRI card", Bri(1)),
    m(0x1043, 0x0675, None, "zaphfc", "ASUSTeK Computer Inc. ISDNLink P-IN100-ST-D", Bri(1)),
    m(CCD, 0xf001, None, "ztgsm", "HFC-GSM Cologne Chips GSM", Other),
];

/// USB ids (reference/dahdi.md §5, USB.pm).
pub const USB_MODELS: &[Model] = &[
    m(0x06e6, 0x831c, None, "wcusb", "Wildcard S100U USB FXS Interface", Analog(1)),
    m(0x06e6, 0x831e, None, "wcusb2", "Wildcard S110U USB FXS Interface", Analog(1)),
    m(0x06e6, 0xb210, None, "wc_usb_phone", "Wildcard Phone Test driver", Other),
    m(0xe4e4, 0x1130, None, "xpp_usb", "Astribank-8/16 no-firmware", Other),
    m(0xe4e4, 0x1131, None, "xpp_usb", "Astribank-8/16 USB-firmware", Other),
    m(0xe4e4, 0x1132, None, "xpp_usb", "Astribank-8/16 FPGA-firmware", Other),
    m(0xe4e4, 0x1140, None, "xpp_usb", "Astribank-BRI no-firmware", Other),
    m(0xe4e4, 0x1141, None, "xpp_usb", "Astribank-BRI USB-firmware", Other),
    m(0xe4e4, 0x1142, None, "xpp_usb", "Astribank-BRI FPGA-firmware", Other),
    m(0xe4e4, 0x1150, None, "xpp_usb", "Astribank-multi no-firmware", Other),
    m(0xe4e4, 0x1151, None, "xpp_usb", "Astribank-multi USB-firmware", Other),
    m(0xe4e4, 0x1152, None, "xpp_usb", "Astribank-multi FPGA-firmware", Other),
    m(0xe4e4, 0x1160, None, "xpp_usb", "Astribank-modular no-firmware", Other),
    m(0xe4e4, 0x1161, None, "xpp_usb", "Astribank-modular USB-firmware", Other),
    m(0xe4e4, 0x1162, None, "xpp_usb", "Astribank-modular FPGA-firmware", Other),
    m(0xe4e4, 0x1163, None, "xpp_usb", "Astribank-TwinStar monitor", Other),
    m(0xe4e4, 0x1164, None, "xpp_usb", "Astribank-EEPROM burner", Other),
    m(0x10c4, 0x8461, None, "wanpipe", "Sangoma WANPIPE USB-FXO Device", Analog(1)),
];

/// A detected card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// `pci:0000:03:00.0` or `usb:001/002`.
    pub location: String,
    pub vendor: u16,
    pub device: u16,
    pub model: &'static Model,
    /// The driver bound to the device right now, if any.
    pub loaded: Option<String>,
}

impl PartialEq for Model {
    fn eq(&self, other: &Model) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Model {}

/// Finds the table entry for a PCI device the way `Dahdi::Hardware::PCI` does.
pub fn match_pci(vendor: u16, device: u16, subvendor: u16, subdevice: u16) -> Option<&'static Model> {
    let exact = |m: &&Model| m.vendor == vendor && m.device == device;
    PCI_MODELS
        .iter()
        .filter(exact)
        .find(|m| m.subvendor == Some(subvendor) && m.subdevice == Some(subdevice))
        .or_else(|| PCI_MODELS.iter().filter(exact).find(|m| m.subvendor == Some(subvendor) && m.subdevice.is_none()))
        .or_else(|| PCI_MODELS.iter().filter(exact).find(|m| m.subvendor.is_none()))
}

fn read_hex(path: &Path) -> Option<u16> {
    let s = fs::read_to_string(path).ok()?;
    u16::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok()
}

fn link_name(path: &Path) -> Option<String> {
    fs::read_link(path).ok()?.file_name().map(|n| n.to_string_lossy().into_owned())
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    v.sort();
    v
}

/// Which module drives each PCI device: `bus/pci/drivers/<drv>/<bdf>`, named after the driver's
/// `module` link when it has one.
fn pci_bindings(sysfs: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for drv in sorted_entries(&sysfs.join("bus/pci/drivers")) {
        let Some(drv_name) = drv.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        let module = link_name(&drv.join("module")).unwrap_or(drv_name);
        for entry in sorted_entries(&drv) {
            let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.starts_with(|c: char| c.is_ascii_digit()) {
                out.push((name, module.clone()));
            }
        }
    }
    out
}

/// Every known card under `sysfs` (normally `/sys`): USB devices first, then PCI by address.
pub fn scan(sysfs: &Path) -> Vec<Card> {
    let mut cards = Vec::new();
    for dev in sorted_entries(&sysfs.join("bus/usb/devices")) {
        let Some(sys_name) = dev.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        let Some((bus, _)) = sys_name.split_once('-') else { continue };
        let (Some(vendor), Some(device)) = (read_hex(&dev.join("idVendor")), read_hex(&dev.join("idProduct"))) else {
            continue;
        };
        let Some(model) = USB_MODELS.iter().find(|m| m.vendor == vendor && m.device == device) else { continue };
        let (Ok(busnum), Some(devnum)) = (
            bus.parse::<u32>(),
            fs::read_to_string(dev.join("devnum")).ok().and_then(|s| s.trim().parse::<u32>().ok()),
        ) else {
            continue;
        };
        let loaded = link_name(&dev.join(format!("{sys_name}:1.0/driver")));
        cards.push(Card { location: format!("usb:{busnum:03}/{devnum:03}"), vendor, device, model, loaded });
    }
    let bindings = pci_bindings(sysfs);
    let mut pci = Vec::new();
    for dev in sorted_entries(&sysfs.join("bus/pci/devices")) {
        let Some(bdf) = dev.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        let ids = ["vendor", "device", "subsystem_vendor", "subsystem_device"].map(|f| read_hex(&dev.join(f)));
        let [Some(v), Some(d), Some(sv), Some(sd)] = ids else { continue };
        let Some(model) = match_pci(v, d, sv, sd) else { continue };
        let loaded = bindings.iter().find(|(b, _)| *b == bdf).map(|(_, m)| m.clone());
        pci.push(Card { location: format!("pci:{bdf}"), vendor: v, device: d, model, loaded });
    }
    pci.sort_by(|a, b| a.location.cmp(&b.location));
    cards.extend(pci);
    cards
}

impl Card {
    /// The line `dahdi_hardware` prints for this card.
    pub fn dahdi_hardware_line(&self) -> String {
        let driver = format!("{}{}", self.model.module, if self.loaded.is_some() { "+" } else { "-" });
        format!("{:<20} {:<12} {:04x}:{:04x} {}", self.location, driver, self.vendor, self.device, self.model.name)
    }

    /// Firmware files the card's driver may ask for, with why.
    pub fn firmware(&self) -> Vec<(&'static str, &'static str)> {
        match (self.model.module, self.model.ports) {
            ("wct4xxp", Digital(2)) => {
                vec![("dahdi-fw-oct6114-064.bin", "VPM450M/VPMOCT064 echo canceller, if fitted")]
            }
            ("wct4xxp", Digital(4)) => {
                vec![("dahdi-fw-oct6114-128.bin", "VPM450M/VPMOCT128 echo canceller, if fitted")]
            }
            ("wct4xxp", Digital(8)) => vec![
                ("dahdi-fw-te820.bin", "the TE820's own firmware"),
                ("dahdi-fw-oct6114-256.bin", "VPMOCT256 echo canceller, if fitted"),
            ],
            ("wcte43x", _) => vec![("dahdi-fw-te435.bin", "the card's own firmware")],
            ("wcte12xp" | "wctdm24xxp", _) => vec![("dahdi-fw-vpmoct032.bin", "VPMOCT032 echo canceller, if fitted")],
            ("wctc4xxp", _) => vec![("dahdi-fw-tc400m.bin", "the transcoder DSP image")],
            _ => Vec::new(),
        }
    }

    /// Module options that matter for this card, with why.
    pub fn options(&self) -> Vec<(&'static str, &'static str)> {
        match self.model.module {
            "wct4xxp" | "wcte12xp" => vec![
                ("default_linemode=e1", "E1 lines: the default follows the jumpers (auto)"),
                ("vpmsupport=1", "use the on-board echo canceller (default 1)"),
            ],
            "wcte13xp" | "wcte43x" => vec![("default_linemode=e1", "E1 lines: the default is t1")],
            "wctdm24xxp" | "wcaxx" | "wctdm" => vec![
                ("opermode=FRANCE", "FXO modules: the line's country profile (default FCC), case-sensitive"),
                ("fastringer=1", "FXS modules: 25 Hz ringing, as European phones expect"),
                ("boostringer=1", "FXS modules: 89 V peak ringing for long lines or many bells"),
            ],
            "wcb4xxp" => {
                vec![("persistentlayer1=0", "BRI TE on point-to-multipoint lines that drop layer 1 when idle")]
            }
            "wctc4xxp" => vec![("mode=any", "g729 (120 channels), g723.1 or any (92)")],
            _ => Vec::new(),
        }
    }
}

/// The kernel modules to load for `cards`, in first-seen order, as `/etc/dahdi/modules` lists them.
pub fn modules(cards: &[Card]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for c in cards {
        if !out.contains(&c.model.module) {
            out.push(c.model.module);
        }
    }
    out
}

/// The `/etc/dahdi/modules` file for `cards`.
pub fn modules_file(cards: &[Card]) -> String {
    let mut s = String::from("# Kernel modules for the DAHDI cards in this machine, written by `spangate hardware`.\n");
    for m in modules(cards) {
        let _ = writeln!(s, "{m}");
    }
    s
}

/// The full report of `spangate hardware`: the `dahdi_hardware` list, then per card what it
/// needs, then machine-wide advice.
pub fn report(cards: &[Card]) -> String {
    let mut s = String::new();
    if cards.is_empty() {
        s.push_str("no DAHDI card found\n");
        return s;
    }
    for c in cards {
        let _ = writeln!(s, "{}", c.dahdi_hardware_line());
    }
    s.push('\n');
    for c in cards {
        let _ = writeln!(s, "{} {}: {}", c.location, c.model.name.trim_end(), c.model.ports);
        let _ = writeln!(
            s,
            "    module: {}{}",
            c.model.module,
            match &c.loaded {
                Some(l) if l == c.model.module => " (loaded)".to_string(),
                Some(l) => format!(" (but bound to {l})"),
                None => " (not loaded)".to_string(),
            }
        );
        for (f, why) in c.firmware() {
            let _ = writeln!(s, "    firmware: {f} ({why})");
        }
        for (o, why) in c.options() {
            let _ = writeln!(s, "    option: {} {o} ({why})", c.model.module);
        }
    }
    let pri = cards.iter().filter(|c| matches!(c.model.ports, Digital(_))).count();
    if pri > 1 {
        let _ = writeln!(
            s,
            "\n{pri} E1/T1 cards: with a timing cable between them set `options <module> timingcable=1` on each"
        );
    }
    let _ = writeln!(s, "\nmodules to load (/etc/dahdi/modules): {}", modules(cards).join(" "));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_prefers_the_most_specific_id() {
        assert_eq!(match_pci(D161, 0x0205, 0x0004, 0x1234).map(|m| m.name), Some("Wildcard TE205P (4th Gen)"));
        assert_eq!(match_pci(D161, 0x0205, 0x0005, 0x0000).map(|m| m.name), Some("Wildcard TE205P "));
        assert_eq!(match_pci(CCD, 0x08b4, CCD, 0xb560).map(|m| m.name), Some("BeroNet BN4S0"));
        assert_eq!(match_pci(CCD, 0x08b4, CCD, 0x0001).map(|m| m.module), Some("qozap"));
        assert_eq!(match_pci(E159, 0x0001, 0x0000, 0x0000), None, "no generic e159:0001 entry");
        assert_eq!(match_pci(0x8086, 0x100e, 0, 0), None);
    }

    #[test]
    fn the_table_has_no_duplicate_keys() {
        for (i, a) in PCI_MODELS.iter().enumerate() {
            for b in &PCI_MODELS[i + 1..] {
                let same =
                    (a.vendor, a.device, a.subvendor, a.subdevice) == (b.vendor, b.device, b.subvendor, b.subdevice);
                assert!(!same, "{} and {} share an id", a.name, b.name);
            }
        }
    }
}
