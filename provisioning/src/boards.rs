//! What spangate knows about real boards, their kernel modules, module options and firmware,
//! and DAHDI's tone zones (facts from reference/dahdi.md §3, §5, §6.3 and the drivers' sources).

use hal::SpanKind;

/// A real board spangate ships a config for.
#[derive(Debug)]
pub(crate) struct Model {
    /// The board id in `board.model`.
    pub(crate) name: &'static str,
    /// The DAHDI kernel module that drives it.
    pub(crate) module: &'static str,
    /// Ports (spans) on the card.
    pub(crate) ports: u32,
    /// Span kinds its ports can be.
    pub(crate) kinds: &'static [SpanKind],
    /// Firmware files its driver may request for it.
    pub(crate) firmware: &'static [&'static str],
}

/// The real boards. Firmware: `wct4xxp` asks for `dahdi-fw-oct6114-NNN.bin` where NNN is the
/// echo canceller's capacity, which must equal 32 x spans (the driver disables a VPMOCT128 on a
/// two-span card), so a TE205P takes the -064 image and a TE420 the -128 one;
/// `dahdi-fw-te820.bin` is only for the eight-span TE820. `wctdm24xxp` loads
/// `dahdi-fw-vpmoct032.bin` into a VPMOCT032 module; `wctc4xxp` loads `dahdi-fw-tc400m.bin`;
/// `wcb4xxp` loads none.
pub(crate) const MODELS: &[Model] = &[
    Model {
        name: "te205p",
        module: "wct4xxp",
        ports: 2,
        kinds: &[SpanKind::E1, SpanKind::T1],
        firmware: &["dahdi-fw-oct6114-064.bin"],
    },
    Model {
        name: "te420",
        module: "wct4xxp",
        ports: 4,
        kinds: &[SpanKind::E1, SpanKind::T1],
        firmware: &["dahdi-fw-oct6114-128.bin"],
    },
    Model { name: "b410p", module: "wcb4xxp", ports: 4, kinds: &[SpanKind::Bri], firmware: &[] },
    Model {
        name: "tdm410p",
        module: "wctdm24xxp",
        ports: 4,
        kinds: &[SpanKind::Fxs, SpanKind::Fxo],
        firmware: &["dahdi-fw-vpmoct032.bin"],
    },
    Model { name: "tc400b", module: "wctc4xxp", ports: 0, kinds: &[], firmware: &["dahdi-fw-tc400m.bin"] },
];

/// The real board called `name`.
pub(crate) fn model(name: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.name == name)
}

/// Kernel modules of DAHDI cards (reference/dahdi.md §5).
pub const MODULES: &[&str] = &[
    "wct4xxp",
    "wcte12xp",
    "wcte13xp",
    "wcte43x",
    "wcb4xxp",
    "wctdm24xxp",
    "wcaxx",
    "wctc4xxp",
    "wctdm",
    "wcfxo",
    "wct1xxp",
    "wcte11xp",
    "pciradio",
    "tor2",
    "opvxa1200",
    "ystdm8xx",
    "ap400",
    "r1t1",
    "rxt1",
    "r4fxo",
    "rcbfx",
    "wanpipe",
    "xpp_usb",
    "wcusb",
    "qozap",
    "cwain",
    "zaphfc",
    // No card: looped local spans for testing on the real DAHDI kernel (vm-test).
    "dahdi_dynamic_loc",
];

const T1E1: &[&str] = &["wct4xxp", "wcte12xp", "wcte13xp", "wcte43x"];
const ANALOG: &[&str] = &["wctdm", "wctdm24xxp", "wcaxx"];
const ALL: &[&str] = &[];

/// What values a module option takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Values {
    /// Exactly one of these (case-insensitive for the driver, but we insist on this spelling).
    OneOf(&'static [&'static str]),
    /// An upper-case country name (the drivers compare case-sensitively).
    Country,
    /// Whatever the driver accepts; not checked.
    Any,
}

/// A module option: its name, the modules that have it (empty = all), its values.
pub(crate) struct ModuleOption {
    pub(crate) name: &'static str,
    pub(crate) modules: &'static [&'static str],
    pub(crate) values: Values,
}

const BOOL: Values = Values::OneOf(&["0", "1"]);

/// Module options from reference/dahdi.md §6.3 (and `wct4xxp`'s source for its extra ones).
pub(crate) const MODULE_OPTIONS: &[ModuleOption] = &[
    ModuleOption { name: "default_linemode", modules: T1E1, values: Values::OneOf(&["auto", "e1", "t1", "j1"]) },
    ModuleOption { name: "timingcable", modules: &["wct4xxp", "wcte43x", "wctdm24xxp"], values: BOOL },
    ModuleOption {
        name: "vpmsupport",
        modules: &["wct4xxp", "wcte12xp", "wcte13xp", "wcte43x", "wctdm24xxp", "wcaxx", "wcb4xxp"],
        values: BOOL,
    },
    ModuleOption { name: "vpmdtmfsupport", modules: &["wct4xxp"], values: Values::OneOf(&["-1", "0", "1"]) },
    ModuleOption { name: "opermode", modules: ANALOG, values: Values::Country },
    ModuleOption { name: "fastringer", modules: ANALOG, values: BOOL },
    ModuleOption { name: "boostringer", modules: ANALOG, values: BOOL },
    ModuleOption { name: "lowpower", modules: ANALOG, values: BOOL },
    ModuleOption { name: "fxshonormode", modules: ANALOG, values: BOOL },
    ModuleOption { name: "reversepolarity", modules: ANALOG, values: BOOL },
    ModuleOption { name: "fastpickup", modules: ANALOG, values: Values::Any },
    ModuleOption { name: "battdebounce", modules: ANALOG, values: Values::Any },
    ModuleOption { name: "battalarm", modules: ANALOG, values: Values::Any },
    ModuleOption { name: "battthresh", modules: ANALOG, values: Values::Any },
    ModuleOption {
        name: "companding",
        modules: &["wctdm24xxp", "wcaxx", "wcb4xxp"],
        values: Values::OneOf(&["auto", "alaw", "ulaw"]),
    },
    ModuleOption { name: "persistentlayer1", modules: &["wcb4xxp"], values: BOOL },
    ModuleOption { name: "bri_persistentlayer1", modules: &["wctdm24xxp"], values: BOOL },
    ModuleOption { name: "teignorered", modules: &["wcb4xxp"], values: BOOL },
    ModuleOption {
        name: "alarmdebounce",
        modules: &["wcb4xxp", "wct4xxp", "wcte12xp", "wcte13xp", "wcte43x"],
        values: Values::Any,
    },
    ModuleOption { name: "losalarmdebounce", modules: T1E1, values: Values::Any },
    ModuleOption { name: "aisalarmdebounce", modules: T1E1, values: Values::Any },
    ModuleOption { name: "yelalarmdebounce", modules: T1E1, values: Values::Any },
    ModuleOption { name: "mode", modules: &["wctc4xxp"], values: Values::OneOf(&["g729", "g723.1", "any"]) },
    ModuleOption { name: "debug", modules: ALL, values: Values::Any },
];

/// The option called `name`, if spangate knows it.
pub(crate) fn module_option(name: &str) -> Option<&'static ModuleOption> {
    MODULE_OPTIONS.iter().find(|o| o.name == name)
}

/// DAHDI's tone zones (reference/dahdi.md §3).
pub const TONEZONES: &[&str] = &[
    "us", "au", "fr", "nl", "uk", "fi", "es", "jp", "no", "at", "nz", "it", "gr", "tw", "cl", "se", "be", "sg", "il",
    "br", "hu", "lt", "pl", "za", "pt", "ee", "mx", "in", "de", "ch", "dk", "cz", "cn", "ar", "my", "th", "bg", "ve",
    "ph", "ru", "tr", "pa", "mo", "cr", "ae", "us-old",
];

/// The TC400B's modes and the channels its firmware offers in each (the driver takes the smaller
/// of the G.729 and G.723.1 counts for `any`).
pub(crate) const TRANSCODER_MODES: &[(&str, u32)] = &[("g729", 120), ("g723.1", 92), ("any", 92)];
