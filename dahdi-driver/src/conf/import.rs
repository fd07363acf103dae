//! `import`: a DAHDI + chan_dahdi set-up (system.conf, dahdi-channels.conf, optionally
//! chan_dahdi.conf and /etc/dahdi/modules) turned into one spangate config file.
//!
//! How DAHDI's numbers become spangate's: DAHDI numbers channels across the whole system, spangate
//! per span. Digital spans (`span=` lines) are laid out in span-number order, each taking its
//! kind's channel count (E1 31, T1 24, BRI 3) from channel 1 on, as DAHDI numbers them on one
//! card; a span's channel lines must fall in its block (dahdi_cfg ties them to the `span=` line
//! above them, and so do we when they do not). Each analog channel (`fxoks=`, `fxsks=`, ...)
//! becomes a span of its own, numbered after the digital spans in channel order, because
//! spangate gives every analog port its own span. chan_dahdi settings are per channel; spangate's
//! are per span, taken from the span's first bearer channel, with a notice when its other
//! channels disagree. Whatever has no spangate equivalent is reported as a [`Notice`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hal::{SpanKind, Termination};

use super::chan_dahdi::{self, ChanDahdi, Overlap, Template};
use super::modules::{self, Modules};
use super::system_conf::{self, ChanLaw, Sig, SpanLine, Start, SystemConf};
use super::{format_chanlist, ConfError, Diagnostics, Loc, Notice};

mod write;
use write::write_toml;

/// One input file: the name used in messages (and to resolve `#include`s) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub text: String,
}

impl Input {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Input {
        Input { name: name.into(), text: text.into() }
    }

    /// Reads `path`; the error says which file could not be read.
    pub fn read(path: &Path) -> Result<Input, Diagnostics> {
        let name = path.display().to_string();
        match std::fs::read(path) {
            Ok(b) => Ok(Input { name, text: String::from_utf8_lossy(&b).into_owned() }),
            Err(e) => {
                Err(Diagnostics(vec![ConfError { at: Loc::new(&name, 1), message: format!("cannot read: {e}") }]))
            }
        }
    }
}

/// Card drivers of BRI cards: a `ccs,ami` span on one of them is BRI, not E1.
const BRI_MODULES: &[&str] = &["wcb4xxp", "qozap", "zaphfc", "xpp_usb", "wctdm24xxp"];
/// Spangate's tone zones (the same list dahdi_cfg's `defaultzone` accepts).
use super::system_conf::TONE_ZONES;
/// DAHDI card drivers spangate's config accepts as `kernel_module` (one list, in provisioning).
use provisioning::KERNEL_MODULES as CARD_MODULES;

/// What the import decided for one spangate span, before it is written out.
#[derive(Debug, Clone)]
struct SpanOut {
    number: u32,
    kind: SpanKind,
    /// Where it came from, for the TOML comment.
    origin: String,
    framing: Option<&'static str>,
    coding: Option<&'static str>,
    crc4: bool,
    timing: u8,
    lbo: u8,
    termination: Option<Termination>,
    law: &'static str,
    bchans: Vec<u32>,
    dchan: Option<u32>,
    signalling: Option<String>,
    switchtype: Option<String>,
    overlapdial: Option<&'static str>,
    layer1: Option<&'static str>,
    layer2: Option<&'static str>,
    groups: Vec<u8>,
    context: String,
    /// Where `context` was set, for notices.
    context_at: Option<Loc>,
    echo: (&'static str, u16),
    /// Q.931 timers set by `pritimer` (provisioning's key and the value), other than defaults.
    timers: Vec<(&'static str, u32)>,
    /// The tone zone chan_dahdi's `tonezone` sets, if any.
    tonezone: Option<&'static str>,
}

struct Importer {
    notices: Vec<Notice>,
}

impl Importer {
    fn note(&mut self, at: Option<&Loc>, m: impl Into<String>) {
        self.notices.push(Notice { at: at.cloned(), message: m.into() });
    }
}

/// The parsed inputs.
struct Parsed {
    sys: SystemConf,
    chans: ChanDahdi,
    modules: Option<Modules>,
}

fn parse_all(
    system_conf: &Input,
    channels_conf: &Input,
    chan_dahdi: Option<&Input>,
    modules: Option<&Input>,
    imp: &mut Importer,
) -> Result<Parsed, Diagnostics> {
    let mut diags = Diagnostics::default();
    let sys = system_conf::parse(&system_conf.name, system_conf.text.as_bytes()).map_err(|d| diags.0.extend(d.0)).ok();
    let chans_name = Path::new(&channels_conf.name).file_name().map(|f| f.to_os_string());
    let mut loader = |p: &Path| -> Result<(String, String), String> {
        // The dahdi-channels.conf given on the command line stands for any include of that name,
        // so the files need not sit in /etc/asterisk to be imported.
        if p == Path::new(&channels_conf.name) || (chans_name.is_some() && p.file_name() == chans_name.as_deref()) {
            return Ok((channels_conf.name.clone(), channels_conf.text.clone()));
        }
        std::fs::read(p)
            .map(|b| (p.display().to_string(), String::from_utf8_lossy(&b).into_owned()))
            .map_err(|e| e.to_string())
    };
    let chans = match chan_dahdi {
        None => chan_dahdi::parse(&channels_conf.name, &channels_conf.text, true, &mut loader),
        Some(cd) => match chan_dahdi::parse(&cd.name, &cd.text, false, &mut loader) {
            Ok(c) if !c.files.contains(&channels_conf.name) => {
                imp.note(
                    None,
                    format!(
                        "{} does not #include {}: read it at the end of [channels], where XiVO includes it",
                        cd.name, channels_conf.name
                    ),
                );
                let text = format!("{}\n[channels]\n#include \"{}\"\n", cd.text, channels_conf.name);
                chan_dahdi::parse(&cd.name, &text, false, &mut loader)
            }
            other => other,
        },
    }
    .map_err(|d| diags.0.extend(d.0))
    .ok();
    let modules = match modules {
        Some(m) => modules::parse(&m.name, &m.text).map(Some).map_err(|d| diags.0.extend(d.0)).ok().flatten(),
        None => None,
    };
    match (sys, chans) {
        (Some(sys), Some(chans)) if diags.is_empty() => Ok(Parsed { sys, chans, modules }),
        _ => Err(diags),
    }
}

/// Turns a DAHDI set-up into a spangate config: the TOML text (which passes
/// `provisioning::parse_str`) and what could not be carried over.
pub fn import(
    system_conf: &Input,
    channels_conf: &Input,
    chan_dahdi: Option<&Input>,
    modules: Option<&Input>,
) -> Result<(String, Vec<Notice>), Diagnostics> {
    let mut imp = Importer { notices: Vec::new() };
    let parsed = parse_all(system_conf, channels_conf, chan_dahdi, modules, &mut imp)?;
    let mut spans = layout(&parsed, &mut imp)?;
    spans.sort_by_key(|s| s.number);
    let board = board(&parsed, &spans, &mut imp);
    let routes = routes(&spans, &mut imp);
    general_notices(&parsed, &mut imp);
    let mut options = board.options.clone();
    // Module options go through spangate's own rules; one it refuses is dropped with a notice
    // rather than failing the whole import.
    loop {
        let text = write_toml(&board, &options, &spans, &routes, &system_conf.name);
        match provisioning::parse_str("imported.toml", &text) {
            Ok(_) => return Ok((text, imp.notices)),
            Err(d) => {
                let bad: Vec<String> = d
                    .iter()
                    .filter_map(|x| x.field.strip_prefix("board.module_options.").map(ToString::to_string))
                    .collect();
                if bad.is_empty() || options.is_empty() {
                    let msg = d.iter().map(|x| format!("{}: {}", x.field, x.message)).collect::<Vec<_>>().join("; ");
                    return Err(Diagnostics(vec![ConfError {
                        at: Loc::new(&system_conf.name, 1),
                        message: format!("the set-up cannot be expressed as a spangate config: {msg}"),
                    }]));
                }
                for (m, k, v, at) in options.iter().filter(|o| bad.contains(&o.1)) {
                    let why = d.iter().find(|x| x.field.ends_with(k.as_str())).map(|x| x.message.clone());
                    imp.note(Some(at), format!("options {m} {k}={v} dropped: {}", why.unwrap_or_default()));
                }
                options.retain(|o| !bad.contains(&o.1));
            }
        }
    }
}

/// The spans: digital ones from `span=` lines, analog ones from FXS/FXO channels.
fn layout(p: &Parsed, imp: &mut Importer) -> Result<Vec<SpanOut>, Diagnostics> {
    let sys = &p.sys;
    let mut diags = Diagnostics::default();
    // The last span line of each number wins, as it does when dahdi_cfg applies them in order.
    let mut lines: BTreeMap<i64, &SpanLine> = BTreeMap::new();
    for s in &sys.spans {
        if let Some(old) = lines.insert(s.span, s) {
            imp.note(
                Some(&s.at),
                format!("span {} is configured twice (also at line {}): the last one is used", s.span, old.at.line),
            );
        }
        if !(1..=128).contains(&s.span) {
            diags.push(s.at.clone(), format!("span {}: spangate numbers spans 1 to 128", s.span));
        }
    }
    for (at, driver, addr, n, _) in &sys.dynamic {
        imp.note(Some(at), format!("dynamic span {driver},{addr} ({n} channels) has no spangate equivalent"));
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let module_names: Vec<&str> = p.modules.iter().flat_map(|m| m.modules.iter().map(|x| x.0.as_str())).collect();
    let bri_module = module_names.iter().any(|m| BRI_MODULES.contains(m));
    // dahdi_cfg's own rule: a digital channel line belongs to the span line above it.
    let owner = |line: usize| -> Option<i64> {
        sys.spans.iter().filter(|s| s.at.line <= line).max_by_key(|s| s.at.line).map(|s| s.span)
    };
    let mut out = Vec::new();
    let mut claimed: BTreeSet<u32> = BTreeSet::new();
    let mut base: u32 = 1;
    for (&number, line) in &lines {
        let kind = span_kind(line, base, sys, bri_module);
        let count = kind_channels(kind);
        let mine: Vec<u32> = sys
            .channels
            .iter()
            .filter(|(_, c)| c.sig.is_digital() && owner(c.at.line) == Some(number))
            .map(|(n, _)| *n)
            .collect();
        if let Some(&first) = mine.first() {
            if first < base || mine.iter().any(|c| *c >= base + count) {
                imp.note(
                    Some(&line.at),
                    format!(
                        "span {number}: its channels ({}) are not DAHDI channels {base}-{} as a {kind} span after the spans before it would have; channel {first} is taken as its first channel",
                        format_chanlist(mine.iter().copied()),
                        base + count - 1
                    ),
                );
                base = first;
            }
        }
        let block: Vec<u32> = (base..base + count).collect();
        claimed.extend(block.iter().copied());
        out.push(digital_span(p, imp, number, kind, line, &block));
        base += count;
    }
    // Analog ports, and channels nothing claimed.
    let mut next = u32::try_from(lines.keys().max().copied().unwrap_or(0)).unwrap_or(0) + 1;
    for (&ch, c) in &sys.channels {
        if claimed.contains(&ch) {
            continue;
        }
        let (kind, sig) = match c.sig {
            Sig::Fxo(s) => (SpanKind::Fxs, start_name("fxo", s)),
            Sig::Fxs(s) => (SpanKind::Fxo, start_name("fxs", s)),
            other => {
                imp.note(Some(&c.at), format!("channel {ch} ({}) belongs to no span: not imported", other.label()));
                continue;
            }
        };
        imp.note(Some(&c.at), format!("DAHDI channel {ch} ({} port) becomes span {next}", kind));
        out.push(analog_span(p, imp, next, kind, ch, &sig));
        next += 1;
        claimed.insert(ch);
    }
    for (ch, c) in &p.chans.channels {
        if !sys.channels.contains_key(ch) {
            imp.note(Some(&c.at), format!("channel {ch} is not configured in {}: ignored", sys.file));
        }
    }
    if out.is_empty() {
        let at = Loc::new(&sys.file, 1);
        return Err(Diagnostics(vec![ConfError { at, message: "no span and no analog channel to import".into() }]));
    }
    Ok(out)
}

fn start_name(prefix: &str, s: Start) -> String {
    let suffix = match s {
        Start::Loop => "ls",
        Start::Ground => "gs",
        Start::Kewl => "ks",
    };
    format!("{prefix}_{suffix}")
}

fn kind_channels(kind: SpanKind) -> u32 {
    match kind {
        SpanKind::E1 => 31,
        SpanKind::T1 => 24,
        SpanKind::Bri => 3,
        SpanKind::Fxs | SpanKind::Fxo => 1,
    }
}

/// E1, T1 or BRI from the span line; `ccs,ami` is BRI on a BRI card, when the span says nt/te/term,
/// or when its third channel is the D-channel.
fn span_kind(s: &SpanLine, base: u32, sys: &SystemConf, bri_module: bool) -> SpanKind {
    match (s.framing.as_str(), s.coding.as_str()) {
        ("esf" | "d4", _) | (_, "b8zs") => SpanKind::T1,
        (_, "hdb3") | ("cas", _) => SpanKind::E1,
        _ => {
            let third_is_d = sys.channels.get(&(base + 2)).is_some_and(|c| matches!(c.sig, Sig::HardHdlc | Sig::Dchan));
            if bri_module || s.nt.is_some() || s.term || third_is_d {
                SpanKind::Bri
            } else {
                SpanKind::E1
            }
        }
    }
}

/// The chan_dahdi template of the first of `chans` it creates, noting channels that differ.
fn template_of<'a>(p: &'a Parsed, imp: &mut Importer, number: u32, chans: &[u32], at: &Loc) -> Option<&'a Template> {
    let mut found: Option<(u32, &Template)> = None;
    let mut missing = Vec::new();
    for c in chans {
        match (p.chans.channels.get(c), found) {
            (Some(ch), None) => found = Some((*c, &ch.template)),
            (Some(ch), Some((first, t))) => {
                if !same_mapping(t, &ch.template) {
                    imp.note(
                        Some(&ch.at),
                        format!("span {number}: channel {c} is set up unlike channel {first}; spangate sets a whole span alike and uses channel {first}'s settings"),
                    );
                }
            }
            (None, _) => missing.push(*c),
        }
    }
    if found.is_none() {
        imp.note(
            Some(at),
            format!(
                "span {number}: none of its channels ({}) is created in chan_dahdi: spangate's defaults are used",
                format_chanlist(chans.iter().copied())
            ),
        );
    } else if !missing.is_empty() {
        imp.note(
            Some(at),
            format!(
                "span {number}: channels {} are not created in chan_dahdi; spangate uses them like the others",
                format_chanlist(missing)
            ),
        );
    }
    found.map(|f| f.1)
}

/// Whether two templates give the same spangate span settings.
fn same_mapping(a: &Template, b: &Template) -> bool {
    fn v<T: Clone>(s: &Option<chan_dahdi::Set<T>>) -> Option<T> {
        s.as_ref().map(|x| x.value.clone())
    }
    v(&a.signalling) == v(&b.signalling)
        && v(&a.switchtype) == v(&b.switchtype)
        && v(&a.groups) == v(&b.groups)
        && v(&a.context) == v(&b.context)
        && v(&a.overlapdial) == v(&b.overlapdial)
        && v(&a.layer1_ignore) == v(&b.layer1_ignore)
        && v(&a.layer2_persistence) == v(&b.layer2_persistence)
        && v(&a.echocancel) == v(&b.echocancel)
        && v(&a.tonezone) == v(&b.tonezone)
        && a.pritimers.iter().map(|(n, s)| (n, s.value)).eq(b.pritimers.iter().map(|(n, s)| (n, s.value)))
}

fn law_of(sys: &SystemConf, imp: &mut Importer, number: u32, chans: &[u32], kind: SpanKind) -> &'static str {
    let default = if kind == SpanKind::T1 { "mulaw" } else { "alaw" };
    let name = |l: ChanLaw| match l {
        ChanLaw::Alaw => "alaw",
        ChanLaw::Mulaw => "mulaw",
        ChanLaw::Default => default,
    };
    let laws: BTreeSet<&'static str> = chans.iter().map(|c| sys.laws.get(c).map_or(default, |l| name(l.0))).collect();
    let first = chans.first().map_or(default, |c| sys.laws.get(c).map_or(default, |l| name(l.0)));
    if laws.len() > 1 {
        let at = chans.iter().find_map(|c| sys.laws.get(c).map(|l| l.1.clone()));
        imp.note(
            at.as_ref(),
            format!("span {number}: its channels use different laws; spangate uses {first} for the whole span"),
        );
    }
    first
}

/// The echo setting: a software canceller attached in system.conf is spangate's software
/// canceller; chan_dahdi's `echocancel` without one attached is the card's (the VPM).
fn echo_of(
    sys: &SystemConf,
    imp: &mut Importer,
    number: u32,
    chans: &[u32],
    t: Option<&Template>,
) -> (&'static str, u16) {
    let attached = chans.iter().find_map(|c| sys.echocan.get(c));
    let ec = t.and_then(|t| t.echocancel.as_ref());
    if let Some(e) = ec.filter(|e| !e.value.1.is_empty()) {
        imp.note(Some(&e.at), format!("span {number}: echo canceller parameters `{}` are not mapped", e.value.1));
    }
    match (attached, ec) {
        (Some((name, at)), Some(e)) if e.value.0 == 0 => {
            imp.note(
                Some(at),
                format!(
                    "span {number}: {name} is attached but chan_dahdi turns echo cancelling off ({}): echo off",
                    e.at
                ),
            );
            ("off", 128)
        }
        (Some((name, at)), Some(e)) => {
            imp.note(
                Some(at),
                format!("span {number}: DAHDI's {name} canceller is replaced by spangate's own (software)"),
            );
            ("software", e.value.0)
        }
        (Some((name, at)), None) => {
            imp.note(Some(at), format!("span {number}: {name} is attached but chan_dahdi sets no echocancel; taken as echocancel = yes (128 taps, spangate's software canceller)"));
            ("software", 128)
        }
        (None, Some(e)) if e.value.0 > 0 => ("hardware", e.value.0),
        _ => ("off", 128),
    }
}

fn digital_span(
    p: &Parsed,
    imp: &mut Importer,
    number_i: i64,
    kind: SpanKind,
    line: &SpanLine,
    block: &[u32],
) -> SpanOut {
    let sys = &p.sys;
    let number = u32::try_from(number_i).unwrap_or(1);
    let base = block.first().copied().unwrap_or(1);
    let rel = |c: u32| c - base + 1;
    let mut bchans = Vec::new();
    let mut dchan = None;
    let mut cas = false;
    for c in block {
        let Some(cs) = sys.channels.get(c) else { continue };
        match cs.sig {
            Sig::Bchan | Sig::Bundle(system_conf::Bundle::Clear) => bchans.push(*c),
            Sig::Cas(_) => {
                cas = true;
                bchans.push(*c);
            }
            Sig::Dchan | Sig::HardHdlc if dchan.is_none() => dchan = Some(*c),
            Sig::Em | Sig::EmE1 => {
                imp.note(
                    Some(&cs.at),
                    format!("span {number}: channel {c} is E&M (robbed bit): imported as a clear channel"),
                );
                bchans.push(*c);
            }
            other => imp.note(Some(&cs.at), format!("span {number}: channel {c} ({}) is not mapped", other.label())),
        }
    }
    let t = template_of(p, imp, number, &bchans, &line.at);
    let (framing, coding, crc4) = match kind {
        SpanKind::T1 => {
            let f = if line.framing == "d4" { "d4" } else { "esf" };
            if !["esf", "d4"].contains(&line.framing.as_str()) {
                imp.note(
                    Some(&line.at),
                    format!("span {number}: framing {} does not fit a T1: esf used", line.framing),
                );
            }
            (f, if line.coding == "ami" { "ami" } else { "b8zs" }, false)
        }
        SpanKind::E1 => (
            if line.framing == "cas" { "cas" } else { "ccs" },
            if line.coding == "ami" { "ami" } else { "hdb3" },
            line.crc4,
        ),
        _ => ("ccs", "ami", false),
    };
    if line.crc4 && kind != SpanKind::E1 {
        imp.note(Some(&line.at), format!("span {number}: crc4 only applies to E1 spans: dropped"));
    }
    if line.yellow {
        imp.note(
            Some(&line.at),
            format!(
                "span {number}: `yellow` (send a yellow alarm while no channel is open) has no spangate equivalent"
            ),
        );
    }
    if line.term {
        imp.note(
            Some(&line.at),
            format!("span {number}: `term` (BRI line termination) is set by the card's jumpers for spangate"),
        );
    }
    let mut lbo = line.lbo;
    if lbo != 0 && kind != SpanKind::T1 {
        imp.note(Some(&line.at), format!("span {number}: line build-out {lbo} only applies to T1: 0 used"));
        lbo = 0;
    }
    let sig = t.and_then(|t| t.signalling.as_ref());
    let signalling = match (t, sig) {
        (_, Some(s)) => map_signalling(imp, number, kind, cas, &s.value, &s.at),
        // No channel of the span in chan_dahdi: Asterisk runs nothing on it. With CAS bits or
        // without a D-channel that is spangate's cas or none (what export writes for them);
        // with a D-channel, spangate's ISDN default is the likely intent.
        (None, None) if cas => Some("cas".to_string()),
        (None, None) if dchan.is_none() => Some("none".to_string()),
        _ => None,
    };
    let isdn = signalling.as_deref().is_some_and(|s| s.starts_with("pri_") || s.starts_with("bri_"))
        || (signalling.is_none() && !cas && dchan.is_some());
    if !isdn && dchan.is_some() {
        let at = dchan.and_then(|d| sys.channels.get(&d)).map(|c| c.at.clone());
        imp.note(at.as_ref(), format!("span {number}: the D-channel is not used without ISDN signalling"));
    }
    if isdn && dchan.is_none() {
        imp.note(
            Some(&line.at),
            format!("span {number}: ISDN signalling but no dchan/hardhdlc line: spangate uses its default D-channel"),
        );
    }
    let mut termination = None;
    if let Some(nt) = line.nt.filter(|_| kind == SpanKind::Bri) {
        let side = if nt { Termination::Nt } else { Termination::Te };
        let sig_side =
            signalling.as_deref().map(|s| if s.contains("_net") { Termination::Nt } else { Termination::Te });
        if sig_side.is_some_and(|s| s != side) {
            imp.note(
                Some(&line.at),
                format!(
                    "span {number}: `{}` on the span line disagrees with signalling {}: the signalling's side is used",
                    side.as_str(),
                    signalling.as_deref().unwrap_or("")
                ),
            );
        } else {
            termination = Some(side);
        }
    }
    let isdn_opts = isdn_options(imp, number, t, isdn);
    let all: Vec<u32> = bchans.iter().copied().chain(dchan).collect();
    SpanOut {
        number,
        kind,
        origin: format!("{} ({})", line_text(line), line.at),
        framing: Some(framing),
        coding: Some(coding),
        crc4,
        timing: line.timing,
        lbo,
        termination,
        law: law_of(sys, imp, number, &all, kind),
        bchans: bchans.iter().map(|c| rel(*c)).collect(),
        dchan: if isdn { dchan.map(rel) } else { None },
        echo: echo_of(sys, imp, number, &bchans, t),
        signalling,
        switchtype: isdn_opts.switchtype,
        overlapdial: isdn_opts.overlapdial,
        layer1: isdn_opts.layer1,
        layer2: isdn_opts.layer2,
        timers: isdn_opts.timers,
        tonezone: t.and_then(|t| t.tonezone.as_ref()).map(|z| z.value),
        groups: t.and_then(|t| t.groups.as_ref()).map(|g| g.value.clone()).unwrap_or_default(),
        context: t.and_then(|t| t.context.as_ref()).map_or_else(|| "default".to_string(), |c| c.value.clone()),
        context_at: t.and_then(|t| t.context.as_ref()).map(|c| c.at.clone()),
    }
}

/// A span's ISDN settings from its chan_dahdi template (all unset on other spans).
#[derive(Default)]
struct IsdnOpts {
    switchtype: Option<String>,
    overlapdial: Option<&'static str>,
    layer1: Option<&'static str>,
    layer2: Option<&'static str>,
    timers: Vec<(&'static str, u32)>,
}

fn isdn_options(imp: &mut Importer, number: u32, t: Option<&Template>, isdn: bool) -> IsdnOpts {
    let Some(t) = t else { return IsdnOpts::default() };
    if !isdn {
        let timers = t.pritimers.values().map(|s| ("pritimer", Some(&s.at)));
        for (k, at) in [
            ("switchtype", t.switchtype.as_ref().map(|s| &s.at)),
            ("overlapdial", t.overlapdial.as_ref().map(|s| &s.at)),
            ("layer1_presence", t.layer1_ignore.as_ref().map(|s| &s.at)),
            ("layer2_persistence", t.layer2_persistence.as_ref().map(|s| &s.at)),
        ]
        .into_iter()
        .chain(timers)
        {
            if let Some(at) = at {
                imp.note(Some(at), format!("span {number}: {k} only applies to ISDN spans: ignored"));
            }
        }
        return IsdnOpts::default();
    }
    let overlapdial = t.overlapdial.as_ref().map(|o| match o.value {
        Overlap::No => "no",
        Overlap::Incoming => "incoming",
        Overlap::Outgoing => "outgoing",
        Overlap::Both => "both",
    });
    let layer1 = t.layer1_ignore.as_ref().map(|l| if l.value { "ignore" } else { "required" });
    let layer2 = t.layer2_persistence.as_ref().map(|l| match l.value.as_str() {
        "keep_up" => "keep_up",
        "leave_down" => "leave_down",
        _ => "default",
    });
    IsdnOpts {
        switchtype: t.switchtype.as_ref().map(|s| s.value.clone()),
        overlapdial,
        layer1,
        layer2,
        timers: timers_of(imp, number, t),
    }
}

/// The Q.931 timers of chan_dahdi's `pritimer` lines that spangate's `timers` holds. A value
/// equal to Q.931's default is the same as no setting and is left out (so that the export, which
/// writes the default to undo an earlier span's setting, reads back as it was).
fn timers_of(imp: &mut Importer, number: u32, t: &Template) -> Vec<(&'static str, u32)> {
    use provisioning::IsdnTimers;
    let mut out = Vec::new();
    for (name, s) in &t.pritimers {
        let ms = s.value;
        let slot = IsdnTimers::KEYS.iter().position(|k| k.strip_suffix("_ms") == Some(name.as_str()));
        match slot {
            Some(i) if ms == IsdnTimers::DEFAULT_MS[i] => {}
            Some(i) if (IsdnTimers::MIN_MS..=IsdnTimers::MAX_MS).contains(&ms) => out.push((IsdnTimers::KEYS[i], ms)),
            Some(_) => imp.note(
                Some(&s.at),
                format!(
                    "span {number}: pritimer {name} = {ms} ms is outside the {} to {} ms spangate accepts: Q.931's default is kept",
                    IsdnTimers::MIN_MS,
                    IsdnTimers::MAX_MS
                ),
            ),
            None if chan_dahdi::PRI_TIMERS.contains(&name.as_str()) => {
                let settable: Vec<&str> = IsdnTimers::KEYS.iter().filter_map(|k| k.strip_suffix("_ms")).collect();
                imp.note(
                    Some(&s.at),
                    format!(
                        "span {number}: pritimer {name} is not one spangate sets ({} are): its default is kept",
                        settable.join(", ")
                    ),
                );
            }
            None => imp.note(
                Some(&s.at),
                format!("span {number}: pritimer {name} is not an ISDN timer libpri knows: ignored, as chan_dahdi does"),
            ),
        }
    }
    out
}

/// chan_dahdi's signalling on a span of `kind` to spangate's, or `None` for its default.
fn map_signalling(imp: &mut Importer, number: u32, kind: SpanKind, cas: bool, s: &str, at: &Loc) -> Option<String> {
    let pri = kind == SpanKind::E1 || kind == SpanKind::T1;
    match s {
        "pri_cpe" | "pri_net" if pri => Some(s.to_string()),
        "bri_cpe" | "bri_net" | "bri_cpe_ptmp" | "bri_net_ptmp" if kind == SpanKind::Bri => Some(s.to_string()),
        "pri_cpe" | "pri_net" if kind == SpanKind::Bri => {
            let b = s.replace("pri_", "bri_");
            imp.note(Some(at), format!("span {number}: {s} on a BRI span is taken as {b}"));
            Some(b)
        }
        "bri_cpe" | "bri_net" | "bri_cpe_ptmp" | "bri_net_ptmp" => {
            let side = if s.contains("_net") { "pri_net" } else { "pri_cpe" };
            imp.note(Some(at), format!("span {number}: {s} on a {kind} span is taken as {side}"));
            Some(side.to_string())
        }
        _ if kind == SpanKind::E1 && cas => {
            imp.note(
                Some(at),
                format!("span {number}: {s} over E1 CAS is imported as signalling cas; spangate runs its own CAS"),
            );
            Some("cas".to_string())
        }
        "auto" => {
            imp.note(Some(at), format!("span {number}: signalling auto: spangate picks its default for the span"));
            None
        }
        _ => {
            imp.note(
                Some(at),
                format!("span {number}: signalling {s} is not supported by spangate: signalling none (clear channels)"),
            );
            Some("none".to_string())
        }
    }
}

fn analog_span(p: &Parsed, imp: &mut Importer, number: u32, kind: SpanKind, ch: u32, port_sig: &str) -> SpanOut {
    let sys = &p.sys;
    let c = &sys.channels[&ch];
    let t = template_of(p, imp, number, &[ch], &c.at);
    let signalling = match t.and_then(|t| t.signalling.as_ref()) {
        Some(s) if s.value == port_sig => Some(port_sig.to_string()),
        Some(s) => {
            imp.note(
                Some(&s.at),
                format!(
                    "span {number}: signalling {} does not fit channel {ch} ({}): {port_sig} used",
                    s.value,
                    c.sig.label()
                ),
            );
            Some(port_sig.to_string())
        }
        None => Some(port_sig.to_string()),
    };
    // Only for its notices: ISDN options set on an analog channel are reported as ignored.
    let _ = isdn_options(imp, number, t, false);
    SpanOut {
        number,
        kind,
        origin: format!("DAHDI channel {ch}, {} ({})", c.sig.label(), c.at),
        framing: None,
        coding: None,
        crc4: false,
        timing: 0,
        lbo: 0,
        termination: None,
        law: law_of(sys, imp, number, &[ch], kind),
        bchans: vec![1],
        dchan: None,
        echo: echo_of(sys, imp, number, &[ch], t),
        signalling,
        switchtype: None,
        overlapdial: None,
        layer1: None,
        layer2: None,
        timers: Vec::new(),
        tonezone: t.and_then(|t| t.tonezone.as_ref()).map(|z| z.value),
        groups: t.and_then(|t| t.groups.as_ref()).map(|g| g.value.clone()).unwrap_or_default(),
        context: t.and_then(|t| t.context.as_ref()).map_or_else(|| "default".to_string(), |c| c.value.clone()),
        context_at: t.and_then(|t| t.context.as_ref()).map(|c| c.at.clone()),
    }
}

fn line_text(s: &SpanLine) -> String {
    let mut t = format!("span={},{},{},{},{}", s.span, s.timing, s.lbo, s.framing, s.coding);
    if s.crc4 {
        t.push_str(",crc4");
    }
    t
}

/// The board section.
struct BoardOut {
    model: String,
    module: String,
    tonezone: String,
    options: Vec<(String, String, String, Loc)>,
}

fn board(p: &Parsed, spans: &[SpanOut], imp: &mut Importer) -> BoardOut {
    let kinds: BTreeSet<&str> = spans.iter().map(|s| s.kind.as_str()).collect();
    let isdn_pri = kinds.contains("e1") || kinds.contains("t1");
    let guess = if isdn_pri {
        "wct4xxp"
    } else if kinds.contains("bri") {
        "wcb4xxp"
    } else {
        "wctdm24xxp"
    };
    let listed: Vec<&(String, Loc)> =
        p.modules.iter().flat_map(|m| m.modules.iter()).filter(|m| CARD_MODULES.contains(&m.0.as_str())).collect();
    let module = match listed.as_slice() {
        [] => {
            if let Some(m) = &p.modules {
                for (name, at) in &m.modules {
                    imp.note(Some(at), format!("module {name} is not a DAHDI card driver spangate knows"));
                }
            }
            imp.note(None, format!("no card driver given (--modules): kernel_module = \"{guess}\" is a guess from the span kinds; check it"));
            guess.to_string()
        }
        [one] => one.0.clone(),
        [first, rest @ ..] => {
            for (name, at) in rest {
                imp.note(
                    Some(at),
                    format!("a spangate config describes one board: module {name} is left out ({} is used)", first.0),
                );
            }
            first.0.clone()
        }
    };
    let n = spans.len();
    let all = |k: &[SpanKind]| spans.iter().all(|s| k.contains(&s.kind));
    let model = match module.as_str() {
        "wct4xxp" if n <= 2 && all(&[SpanKind::E1, SpanKind::T1]) => "te205p",
        "wct4xxp" if n <= 4 && all(&[SpanKind::E1, SpanKind::T1]) => "te420",
        "wcb4xxp" if n <= 4 && all(&[SpanKind::Bri]) => "b410p",
        "wctdm24xxp" if n <= 4 && all(&[SpanKind::Fxs, SpanKind::Fxo]) => "tdm410p",
        _ => "dahdi-generic",
    };
    if model == "dahdi-generic" {
        imp.note(None, format!("no shipped board fits {n} span(s) on {module}: model \"dahdi-generic\""));
    }
    let options: Vec<(String, String, String, Loc)> =
        p.modules.iter().flat_map(|m| m.options.iter()).filter(|o| o.0 == module).cloned().collect();
    for (m, k, v, at) in p.modules.iter().flat_map(|m| m.options.iter()) {
        if *m != module {
            imp.note(Some(at), format!("options {m} {k}={v}: not the board's driver ({module}), left out"));
        }
    }
    let sys = &p.sys;
    let tonezone = match (&sys.defaultzone, sys.loadzones.first()) {
        (_, None) => {
            if let Some((z, at)) = &sys.defaultzone {
                imp.note(
                    Some(at),
                    format!(
                        "defaultzone={z} without any loadzone: dahdi_cfg then loads and uses `us`, so does spangate"
                    ),
                );
            }
            "us".to_string()
        }
        (Some((z, _)), Some(_)) => z.clone(),
        (None, Some((z, _))) if TONE_ZONES.contains(&z.as_str()) => z.clone(),
        (None, Some((z, at))) => {
            imp.note(Some(at), format!("tone zone `{z}` is not one spangate knows: us used"));
            "us".to_string()
        }
    };
    for (z, at) in sys.loadzones.iter().skip(1) {
        imp.note(Some(at), format!("loadzone={z}: spangate uses one tone zone per board ({tonezone})"));
    }
    BoardOut { model: model.to_string(), module, tonezone, options }
}

/// Routes between the two sides of a gateway in front of a PBX: user-side ISDN spans face the
/// provider, network-side spans the PBX; calls cross from one side to the other.
fn routes(spans: &[SpanOut], imp: &mut Importer) -> Vec<(String, String, String)> {
    let side = |net: bool| -> Vec<&SpanOut> {
        spans
            .iter()
            .filter(|s| {
                s.signalling
                    .as_deref()
                    .is_some_and(|x| (x.starts_with("pri_") || x.starts_with("bri_")) && x.contains("_net") == net)
            })
            .collect()
    };
    let (provider, pbx) = (side(false), side(true));
    let mut contexts: BTreeMap<&str, (Vec<u32>, Option<&Loc>)> = BTreeMap::new();
    for s in spans {
        let e = contexts.entry(s.context.as_str()).or_default();
        e.0.push(s.number);
        e.1 = e.1.or(s.context_at.as_ref());
    }
    if provider.is_empty() || pbx.is_empty() {
        for (ctx, (nums, at)) in &contexts {
            imp.note(*at, format!("context `{ctx}` (spans {}) is an Asterisk dialplan context: spangate cannot read the dialplan, so no [[route]] is made for it; add routes (e.g. to a SIP trunk) for these spans", format_chanlist(nums.iter().copied())));
        }
        return Vec::new();
    }
    let endpoint = |mine: &[&SpanOut], other: &[&SpanOut]| -> String {
        let common: Option<u8> = (0..=63u8)
            .find(|g| mine.iter().all(|s| s.groups.contains(g)) && !other.iter().any(|s| s.groups.contains(g)));
        match (common, mine) {
            (Some(g), _) => format!("group:{g}"),
            (None, [one]) => format!("span:{}", one.number),
            (None, many) => format!("span:{}", many[0].number),
        }
    };
    let (a, b) = (endpoint(&provider, &pbx), endpoint(&pbx, &provider));
    imp.note(None, format!(
        "contexts {} are Asterisk dialplan contexts: spangate routes every call from the provider side ({a}) to the PBX side ({b}) and back; add routes with `called` prefixes or patterns to be selective",
        contexts.keys().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
    ));
    vec![("to-pbx".into(), a.clone(), b.clone()), ("to-provider".into(), b, a)]
}

/// Notices for what chan_dahdi and system.conf set that spangate does not map.
fn general_notices(p: &Parsed, imp: &mut Importer) {
    let mut seen: BTreeSet<Loc> = BTreeSet::new();
    for c in p.chans.channels.values() {
        for (k, s) in &c.template.other {
            if seen.insert(s.at.clone()) {
                imp.note(Some(&s.at), format!("`{k} = {}` has no spangate equivalent", s.value));
            }
        }
    }
    for (k, s) in &p.chans.general {
        imp.note(Some(&s.at), format!("[general] `{k} = {}` is not mapped", s.value));
    }
    for (c, at) in &p.chans.redefined {
        imp.note(Some(at), format!("channel {c} is created again later; the later settings are used"));
    }
    for at in &p.chans.pseudo {
        imp.note(Some(at), "pseudo channels are not needed by spangate");
    }
    for (at, what) in &p.chans.ignored {
        imp.note(Some(at), format!("{what} is not supported: ignored"));
    }
    if let Some(m) = &p.modules {
        for (what, at) in &m.ignored {
            imp.note(Some(at), format!("`{what}` is not mapped"));
        }
    }
    for (c, at) in &p.sys.hdlc56k {
        imp.note(Some(at), format!("56k HDLC on channel {c} is not mapped"));
    }
    for (k, at) in &p.sys.radio {
        imp.note(Some(at), format!("`{k}` (pciradio) is not mapped"));
    }
}
