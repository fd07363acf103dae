//! `chan_dahdi.conf` and `dahdi-channels.conf` read with Asterisk `chan_dahdi`'s meaning
//! (reference/dahdi.md §4).
//!
//! Inside `[channels]` the options form one template, changed top to bottom; each
//! `channel => LIST` creates those channels with the template as it is at that line. Other
//! sections (not `general`, `trunkgroups`, `globals`) start from the final `[channels]` template,
//! take all their own keys and create the channels of their last `dahdichan =`. `#include`
//! reads another file in place, relative to the including file, through a caller-supplied
//! loader (so this module does no I/O and the fuzz target can feed it anything).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{scan_int, Diagnostics, Loc};

/// How deep `#include`s may nest; Asterisk has no limit but a loop must end somewhere.
const MAX_INCLUDE_DEPTH: usize = 16;
/// How many files `#include`s may read in all. Without it, a file that includes a relative path
/// with a folder in it twice reads 2^16 files before the depth stops it (each level's path is new).
const MAX_INCLUDED_FILES: usize = 64;

/// A value and where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set<T> {
    pub value: T,
    pub at: Loc,
}

/// chan_dahdi's `overlapdial`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    No,
    Incoming,
    Outgoing,
    Both,
}

/// The template: every option the import maps, plus the others with their lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    /// Lower case, one of chan_dahdi's names.
    pub signalling: Option<Set<String>>,
    pub switchtype: Option<Set<String>>,
    pub groups: Option<Set<Vec<u8>>>,
    pub context: Option<Set<String>>,
    pub overlapdial: Option<Set<Overlap>>,
    /// `true` for `ignore`.
    pub layer1_ignore: Option<Set<bool>>,
    /// `keep_up`, `leave_down` or empty (the stack's default).
    pub layer2_persistence: Option<Set<String>>,
    /// Taps: 0 for `no`, 128 for `yes`; and the `,name=value` parameters after it.
    pub echocancel: Option<Set<(u16, String)>>,
    /// `pritimer => NAME,MS` lines: the timer's name (lower case) to its value, the last line of
    /// each name (chan_dahdi keeps one value per timer). Names libpri does not know are kept
    /// too, for the import to report.
    pub pritimers: BTreeMap<String, Set<u32>>,
    /// `tonezone`: the DAHDI tone zone its number names; `tonezone = -1` (chan_dahdi's "do not
    /// set one") clears it.
    pub tonezone: Option<Set<&'static str>>,
    /// Every other key (lower case) with its value, the last setting of each.
    pub other: BTreeMap<String, Set<String>>,
}

/// One channel as chan_dahdi would create it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The `channel =>` (or `dahdichan =`) line that created it.
    pub at: Loc,
    pub template: Template,
}

/// What a chan_dahdi.conf (with its includes) creates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChanDahdi {
    /// DAHDI channel number to its settings; a channel created twice keeps the last.
    pub channels: BTreeMap<u32, Channel>,
    /// Channels created more than once: the channel and the earlier line.
    pub redefined: Vec<(u32, Loc)>,
    /// `channel => pseudo` lines.
    pub pseudo: Vec<Loc>,
    /// Keys of `[general]` and `[trunkgroups]`, which the import does not map.
    pub general: Vec<(String, Set<String>)>,
    /// Files read, in order (the file itself first).
    pub files: Vec<String>,
    /// Section headers with template options, `#exec` and unknown directives: line and text.
    pub ignored: Vec<(Loc, String)>,
}

/// Reads an included file: its display name and text, or why it could not.
pub type Loader<'a> = dyn FnMut(&Path) -> Result<(String, String), String> + 'a;

/// A parsed line.
enum Item {
    Section(String),
    Var(String, String),
}

struct Parser<'l, 'a> {
    out: ChanDahdi,
    diags: Diagnostics,
    loader: &'l mut Loader<'a>,
    /// The file names of the include chain, outermost first, to refuse loops.
    stack: Vec<PathBuf>,
    /// How many files `#include`s have read so far.
    included: usize,
    /// Every variable in order, with the section it is in.
    items: Vec<(String, String, String, Loc)>,
    section: Option<String>,
}

/// Whether Asterisk's `ast_true` holds.
fn is_true(v: &str) -> bool {
    ["yes", "true", "y", "t", "1", "on"].iter().any(|t| t.eq_ignore_ascii_case(v))
}

/// Whether Asterisk's `ast_false` holds.
fn is_false(v: &str) -> bool {
    ["no", "false", "n", "f", "0", "off"].iter().any(|t| t.eq_ignore_ascii_case(v))
}

/// chan_dahdi's signalling names (radio variants included).
const SIGNALLING: &[&str] = &[
    "pri_cpe",
    "pri_net",
    "bri_cpe",
    "bri_net",
    "bri_cpe_ptmp",
    "bri_net_ptmp",
    "fxs_ls",
    "fxs_gs",
    "fxs_ks",
    "fxo_ls",
    "fxo_gs",
    "fxo_ks",
    "em",
    "em_e1",
    "em_w",
    "featd",
    "featdmf",
    "featdmf_ta",
    "featb",
    "fgccama",
    "fgccamamf",
    "e911",
    "sf",
    "sf_w",
    "sf_featd",
    "sf_featdmf",
    "sf_featb",
    "ss7",
    "mfcr2",
    "auto",
];

const SWITCHTYPES: &[&str] = &["national", "ni1", "dms100", "4ess", "5ess", "euroisdn", "qsig"];

/// DAHDI's tone zones by the number chan_dahdi's `tonezone` gives (libtonezone's zone numbers:
/// `us-old` is 12, not last as in spangate's list).
pub(crate) const TONE_ZONE_NUMBERS: [&str; 46] = [
    "us", "au", "fr", "nl", "uk", "fi", "es", "jp", "no", "at", "nz", "it", "us-old", "gr", "tw", "cl", "se", "be",
    "sg", "il", "br", "hu", "lt", "pl", "za", "pt", "ee", "mx", "in", "de", "ch", "dk", "cz", "cn", "ar", "my", "th",
    "bg", "ve", "ph", "ru", "tr", "pa", "mo", "cr", "ae",
];

/// The timer names `pritimer` accepts, lower case (libpri's `pri_timer2idx`): Q.921's counts
/// and timers, Q.931's timers and the supplementary services' timers.
#[rustfmt::skip]
pub(crate) const PRI_TIMERS: &[&str] = &[
    "n200", "n201", "n202", "k", "t200", "t201", "t202", "t203",
    "t300", "t301", "t302", "t303", "t304", "t305", "t306", "t307", "t308", "t309", "t310", "t312", "t313", "t314",
    "t316", "n316", "t317", "t318", "t319", "t320", "t321", "t322",
    "t-hold", "t-retrieve", "t-response", "t-status", "t-activate", "t-deactivate", "t-interrogate", "t-retention",
    "t-ccbs1", "t-ccbs2", "t-ccbs3", "t-ccbs4", "t-ccbs5", "t-ccbs6", "t-ccnr2", "t-ccnr5", "t-ccnr6",
    "cc-t1", "ccbs-t2", "ccnr-t2", "cc-t3",
];

/// Strips a `;` comment (but not `\;`) and the `;-- --;` block comments, tracking whether a
/// block comment is still open at the end of the line.
fn strip_comments(line: &str, in_block: &mut bool) -> String {
    let mut out = String::new();
    let mut rest = line;
    loop {
        if *in_block {
            match rest.find("--;") {
                Some(i) => {
                    rest = &rest[i + 3..];
                    *in_block = false;
                }
                None => return out,
            }
        }
        let mut cut = None;
        let bytes = rest.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b';' && (i == 0 || bytes[i - 1] != b'\\') {
                cut = Some(i);
                break;
            }
        }
        match cut {
            None => {
                out.push_str(&rest.replace("\\;", ";"));
                return out;
            }
            Some(i) => {
                out.push_str(&rest[..i].replace("\\;", ";"));
                if rest[i..].starts_with(";--") {
                    *in_block = true;
                    rest = &rest[i + 3..];
                } else {
                    return out;
                }
            }
        }
    }
}

impl Parser<'_, '_> {
    fn file(&mut self, name: &str, text: &str) {
        self.out.files.push(name.to_string());
        let mut in_block = false;
        for (i, raw) in text.lines().enumerate() {
            let at = Loc::new(name, i + 1);
            let line = strip_comments(raw, &mut in_block);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(d) = line.strip_prefix('#') {
                self.directive(name, d, &at);
                continue;
            }
            match parse_line(line) {
                Ok(Item::Section(s)) => {
                    if let Some(close) = line.find(']') {
                        let opts = line[close + 1..].trim();
                        if !opts.is_empty() {
                            self.out.ignored.push((at.clone(), format!("section options `{opts}` of [{s}]")));
                        }
                    }
                    self.section = Some(s.to_ascii_lowercase());
                }
                Ok(Item::Var(k, v)) => match &self.section {
                    Some(s) => self.items.push((s.clone(), k.to_ascii_lowercase(), v, at)),
                    None => self.diags.push(at, "parse error: No category context for this line"),
                },
                Err(m) => self.diags.push(at, m),
            }
        }
    }

    fn directive(&mut self, name: &str, d: &str, at: &Loc) {
        let (word, arg) = d.split_once(|c: char| c.is_whitespace()).unwrap_or((d, ""));
        let word = word.to_ascii_lowercase();
        if word != "include" && word != "tryinclude" {
            self.out.ignored.push((at.clone(), format!("directive `#{word}`")));
            return;
        }
        let arg = arg.trim();
        let target = arg
            .strip_prefix('"')
            .and_then(|a| a.strip_suffix('"'))
            .or_else(|| arg.strip_prefix('<').and_then(|a| a.strip_suffix('>')))
            .unwrap_or(arg);
        if target.is_empty() {
            self.diags.push(at.clone(), format!("#{word} needs a file name"));
            return;
        }
        let here = Path::new(name).parent().unwrap_or(Path::new(""));
        let path = here.join(target);
        if self.stack.iter().any(|p| p == &path) {
            self.diags.push(at.clone(), format!("#include loop: {} includes itself", path.display()));
            return;
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            self.diags.push(at.clone(), format!("#{word} {target}: includes nest more than {MAX_INCLUDE_DEPTH} deep"));
            return;
        }
        if self.included >= MAX_INCLUDED_FILES {
            self.diags
                .push(at.clone(), format!("#{word} {target}: more than {MAX_INCLUDED_FILES} files included in all"));
            return;
        }
        match (self.loader)(&path) {
            Ok((inc_name, text)) => {
                self.included += 1;
                self.stack.push(path);
                self.file(&inc_name, &text);
                self.stack.pop();
            }
            Err(e) if word == "tryinclude" => {
                self.out.ignored.push((at.clone(), format!("#tryinclude {target}: {e}")));
            }
            Err(e) => self.diags.push(at.clone(), format!("cannot #include {target}: {e}")),
        }
    }

    /// Applies one option (not a channel list) to the template `t`.
    fn apply(&mut self, t: &mut Template, key: &str, value: &str, at: &Loc) {
        fn set<T>(value: T, at: &Loc) -> Set<T> {
            Set { value, at: at.clone() }
        }
        let lower = value.to_ascii_lowercase();
        match key {
            "signalling" | "signaling" => {
                let known =
                    SIGNALLING.contains(&lower.as_str()) || ["_rx", "_tx", "_txrx"].iter().any(|s| lower.ends_with(s));
                if known {
                    t.signalling = Some(set(lower, at));
                } else {
                    self.diags.push(at.clone(), format!("Unknown signalling method '{value}'"));
                }
            }
            "switchtype" => {
                if SWITCHTYPES.contains(&lower.as_str()) {
                    t.switchtype = Some(set(lower, at));
                } else {
                    self.diags.push(at.clone(), format!("Unknown switchtype '{value}'"));
                }
            }
            "group" => {
                // chan_dahdi keeps the groups when the value is empty.
                if value.is_empty() {
                    return;
                }
                if let Some(g) = self.groups(value, at) {
                    t.groups = Some(set(g, at));
                }
            }
            "context" => t.context = Some(set(value.to_string(), at)),
            "overlapdial" => {
                let o = match lower.as_str() {
                    "incoming" => Overlap::Incoming,
                    "outgoing" => Overlap::Outgoing,
                    "both" => Overlap::Both,
                    v if is_true(v) => Overlap::Both,
                    v if is_false(v) => Overlap::No,
                    _ => {
                        let m = format!("Unknown overlapdial '{value}' (yes, both, incoming, outgoing or no)");
                        self.diags.push(at.clone(), m);
                        return;
                    }
                };
                t.overlapdial = Some(set(o, at));
            }
            "layer1_presence" => match lower.as_str() {
                "required" => t.layer1_ignore = Some(set(false, at)),
                "ignore" => t.layer1_ignore = Some(set(true, at)),
                _ => self.diags.push(at.clone(), format!("Unknown layer1_presence '{value}' (required or ignore)")),
            },
            "layer2_persistence" => match lower.as_str() {
                "" | "keep_up" | "leave_down" => t.layer2_persistence = Some(set(lower, at)),
                _ => {
                    self.diags.push(at.clone(), format!("Unknown layer2_persistence '{value}' (keep_up or leave_down)"))
                }
            },
            "echocancel" => {
                let (first, params) = value.split_once(',').unwrap_or((value, ""));
                let first = first.trim();
                let taps = if is_true(first) {
                    128
                } else if is_false(first) || first.is_empty() {
                    0
                } else {
                    match scan_int(first).and_then(|n| u16::try_from(n).ok()) {
                        Some(n) if n.is_power_of_two() && (32..=1024).contains(&n) => n,
                        _ => {
                            let m = format!("Invalid echocancel parameter value '{value}' (yes, no, or taps 32 to 1024, a power of two)");
                            self.diags.push(at.clone(), m);
                            return;
                        }
                    }
                };
                t.echocancel = Some(set((taps, params.trim().to_string()), at));
            }
            "pritimer" => match value.split_once(',') {
                Some((name, ms)) if !name.trim().is_empty() => match scan_int(ms).and_then(|n| u32::try_from(n).ok()) {
                    Some(ms) => {
                        t.pritimers.insert(name.trim().to_ascii_lowercase(), set(ms, at));
                    }
                    None => self.diags.push(
                        at.clone(),
                        format!("'{}' is not a valid value for ISDN timer '{}'", ms.trim(), name.trim()),
                    ),
                },
                _ => self.diags.push(
                    at.clone(),
                    format!(
                        "'{value}' is not a valid ISDN timer configuration string (TIMER,MILLISECONDS, e.g. t309,6000)"
                    ),
                ),
            },
            "tonezone" => match scan_int(value) {
                Some(-1) => t.tonezone = None,
                n => match n.and_then(|n| usize::try_from(n).ok()).and_then(|n| TONE_ZONE_NUMBERS.get(n)) {
                    Some(z) => t.tonezone = Some(set(*z, at)),
                    None => {
                        let m = format!(
                            "Invalid tonezone '{value}' (a DAHDI tone zone number, 0 to {}: 0 is us, 29 de; -1 for none)",
                            TONE_ZONE_NUMBERS.len() - 1
                        );
                        self.diags.push(at.clone(), m);
                    }
                },
            },
            _ => {
                t.other.insert(key.to_string(), set(value.to_string(), at));
            }
        }
    }

    /// Asterisk's `ast_get_group`: `1,3-5`, each 0..=63.
    fn groups(&mut self, value: &str, at: &Loc) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for item in value.split(',') {
            let item = item.trim();
            let (a, b) = item.split_once('-').unwrap_or((item, item));
            let (Some(a), Some(b)) = (scan_int(a), scan_int(b)) else {
                self.diags.push(at.clone(), format!("Invalid group '{item}' (groups are numbers 0 to 63)"));
                return None;
            };
            let (lo, hi) = (a.min(b), a.max(b));
            if lo < 0 || hi > 63 {
                self.diags.push(at.clone(), format!("Invalid group '{item}' (groups are numbers 0 to 63)"));
                return None;
            }
            out.extend((lo..=hi).filter_map(|g| u8::try_from(g).ok()));
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }

    /// chan_dahdi's channel list: `N`, `A-B` (either order), `pseudo`, comma separated.
    fn channels(&mut self, value: &str, at: &Loc, t: &Template) {
        for item in value.split(',') {
            let item = item.trim();
            if item.eq_ignore_ascii_case("pseudo") {
                self.out.pseudo.push(at.clone());
                continue;
            }
            let (a, b) = match item.split_once('-') {
                Some((a, b)) => (scan_int(a), scan_int(b)),
                None => (scan_int(item), scan_int(item)),
            };
            let (Some(a), Some(b)) = (a, b) else {
                self.diags.push(at.clone(), format!("Syntax error parsing '{value}' at '{item}'"));
                return;
            };
            let (lo, hi) = (a.min(b), a.max(b));
            if lo < 1 || hi > 1023 {
                self.diags.push(at.clone(), format!("Channel {item} is out of range (1 to 1023) in '{value}'"));
                return;
            }
            for c in lo..=hi {
                let Ok(c) = u32::try_from(c) else { continue };
                let ch = Channel { at: at.clone(), template: t.clone() };
                if let Some(old) = self.out.channels.insert(c, ch) {
                    self.out.redefined.push((c, old.at));
                }
            }
        }
    }

    /// Runs chan_dahdi's semantics over the collected variables.
    fn run(&mut self) {
        let items = std::mem::take(&mut self.items);
        let mut t = Template::default();
        for (_, key, value, at) in items.iter().filter(|i| i.0 == "channels") {
            match key.as_str() {
                "channel" | "channels" => {
                    let snapshot = t.clone();
                    self.channels(value, at, &snapshot);
                }
                _ => self.apply(&mut t, key, value, at),
            }
        }
        // Other sections, each in file order of first appearance.
        let mut names: Vec<&str> = Vec::new();
        for (s, ..) in &items {
            if !["channels", "general", "trunkgroups", "globals"].contains(&s.as_str()) && !names.contains(&s.as_str())
            {
                names.push(s);
            }
        }
        for (_, key, value, at) in items.iter().filter(|i| i.0 == "general" || i.0 == "trunkgroups") {
            self.out.general.push((key.clone(), Set { value: value.clone(), at: at.clone() }));
        }
        for name in names {
            let mut st = t.clone();
            let mut chans: Option<(String, Loc)> = None;
            for (_, key, value, at) in items.iter().filter(|i| i.0 == name) {
                match key.as_str() {
                    "dahdichan" => chans = Some((value.clone(), at.clone())),
                    "channel" | "channels" => {
                        self.out.ignored.push((at.clone(), format!("`{key}` in [{name}] (use dahdichan there)")));
                    }
                    _ => self.apply(&mut st, key, value, at),
                }
            }
            if let Some((v, at)) = chans {
                self.channels(&v, &at, &st);
            }
        }
    }
}

/// One non-directive line: a section header or a variable.
fn parse_line(line: &str) -> Result<Item, String> {
    if let Some(rest) = line.strip_prefix('[') {
        return match rest.find(']') {
            Some(i) => Ok(Item::Section(rest[..i].trim().to_string())),
            None => Err("parse error: no closing ']'".to_string()),
        };
    }
    let Some(eq) = line.find('=') else {
        return Err(format!("No '=' (equal sign) in line: `{line}`"));
    };
    let key = line[..eq].trim();
    let mut value = &line[eq + 1..];
    if let Some(v) = value.strip_prefix('>') {
        value = v;
    }
    if key.is_empty() {
        return Err("a variable needs a name before '='".to_string());
    }
    Ok(Item::Var(key.to_string(), value.trim().to_string()))
}

/// Parses chan_dahdi.conf `text` (named `file`), reading `#include`s through `loader`.
/// `start_in_channels` treats the file as if it were inside `[channels]`, as
/// dahdi-channels.conf is when chan_dahdi.conf includes it.
pub fn parse(
    file: &str,
    text: &str,
    start_in_channels: bool,
    loader: &mut Loader<'_>,
) -> Result<ChanDahdi, Diagnostics> {
    let mut p = Parser {
        out: ChanDahdi::default(),
        diags: Diagnostics::default(),
        loader,
        stack: vec![PathBuf::from(file)],
        included: 0,
        items: Vec::new(),
        section: start_in_channels.then(|| "channels".to_string()),
    };
    p.file(file, text);
    p.run();
    // Report in reading order: file by file as read, line by line, whichever pass found it.
    let files = p.out.files.clone();
    p.diags.0.sort_by_key(|e| (files.iter().position(|f| *f == e.at.file), e.at.line));
    if p.diags.is_empty() {
        Ok(p.out)
    } else {
        Err(p.diags)
    }
}

/// A loader that finds nothing: for files parsed on their own.
pub fn no_includes(path: &Path) -> Result<(String, String), String> {
    Err(format!("{}: includes are not read here", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(text: &str) -> Result<ChanDahdi, Diagnostics> {
        parse("c.conf", text, false, &mut no_includes)
    }

    #[test]
    fn template_is_taken_at_each_channel_line() {
        let c = parse_one(
            "[channels]\ngroup=0,11\ncontext=a\nsignalling=pri_cpe\nchannel => 1-2\ncontext=b\nchannel = 3\n",
        )
        .unwrap();
        assert_eq!(c.channels[&1].template.context.as_ref().unwrap().value, "a");
        assert_eq!(c.channels[&3].template.context.as_ref().unwrap().value, "b");
        assert_eq!(c.channels[&3].template.groups.as_ref().unwrap().value, vec![0, 11]);
        assert_eq!(c.channels[&3].at.line, 7);
    }

    #[test]
    fn includes_resolve_relative_and_loops_stop() {
        let mut load = |p: &Path| -> Result<(String, String), String> {
            match p.to_str() {
                Some("/etc/asterisk/dahdi-channels.conf") => {
                    Ok((p.display().to_string(), "signalling=bri_cpe\nchannel => 1-2\n#include loop.conf\n".into()))
                }
                Some("/etc/asterisk/loop.conf") => Ok((p.display().to_string(), "#include loop.conf\n".into())),
                _ => Err("no such file".into()),
            }
        };
        let e = parse("/etc/asterisk/chan_dahdi.conf", "[channels]\n#include dahdi-channels.conf\n", false, &mut load)
            .unwrap_err();
        assert_eq!(e.to_string(), "/etc/asterisk/loop.conf:1: #include loop: /etc/asterisk/loop.conf includes itself");
    }

    /// Found by the fuzz target: every level's path is new, so only the depth would stop it, after
    /// 2^16 files.
    #[test]
    fn includes_that_fan_out_stop_at_the_file_budget() {
        let mut reads = 0;
        let mut load = |p: &Path| -> Result<(String, String), String> {
            reads += 1;
            Ok((p.display().to_string(), "#include sub/x.conf\n#include sub/x.conf\n".into()))
        };
        let e = parse("/etc/asterisk/chan_dahdi.conf", "#include sub/x.conf\n", false, &mut load).unwrap_err();
        assert_eq!(reads, MAX_INCLUDED_FILES);
        // Depth first: the first 15 levels' second includes reach the depth, the rest the budget.
        let (deep, budget) = e.iter().map(ToString::to_string).fold((0, 0), |(d, b), m| {
            (d + usize::from(m.ends_with("more than 16 deep")), b + usize::from(m.ends_with("files included in all")))
        });
        assert!(deep > 0 && budget > 0 && deep + budget == e.iter().count() && deep + budget < 200, "{e}");
    }

    #[test]
    fn includes_nest_at_most_16_deep() {
        let mut load = |p: &Path| -> Result<(String, String), String> {
            Ok((p.display().to_string(), "#include sub/x.conf\n".into()))
        };
        let e = parse("/etc/asterisk/chan_dahdi.conf", "#include sub/x.conf\n", false, &mut load).unwrap_err();
        assert_eq!(e.iter().count(), 1, "{e}");
        assert!(e.to_string().ends_with("#include sub/x.conf: includes nest more than 16 deep"), "{e}");
    }

    #[test]
    fn errors_are_all_reported() {
        let e =
            parse_one("x=1\n[channels]\nsignalling=bogus\nswitchtype=foo\ngroup=64\nchannel => 1,x\nnovalue\n[bad\n")
                .unwrap_err();
        let lines: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            vec![
                "c.conf:1: parse error: No category context for this line",
                "c.conf:3: Unknown signalling method 'bogus'",
                "c.conf:4: Unknown switchtype 'foo'",
                "c.conf:5: Invalid group '64' (groups are numbers 0 to 63)",
                "c.conf:6: Syntax error parsing '1,x' at 'x'",
                "c.conf:7: No '=' (equal sign) in line: `novalue`",
                "c.conf:8: parse error: no closing ']'",
            ]
        );
    }

    #[test]
    fn other_sections_use_dahdichan_and_the_final_template() {
        let c = parse_one("[channels]\ncontext=a\n[phone]\ndahdichan=5\nsignalling=fxo_ks\n[channels]\ncontext=z\n")
            .unwrap();
        let t = &c.channels[&5].template;
        assert_eq!(t.context.as_ref().unwrap().value, "z");
        assert_eq!(t.signalling.as_ref().unwrap().value, "fxo_ks");
    }

    #[test]
    fn comments_and_echocancel() {
        let c =
            parse_one("[channels] ; x\n;-- block\nchannel => 9\n--;\necho\\;x=1\nechocancel=yes,param=1\nchannel=>1\n")
                .unwrap();
        assert!(!c.channels.contains_key(&9));
        assert_eq!(c.channels[&1].template.echocancel.as_ref().unwrap().value, (128, "param=1".to_string()));
        assert!(c.channels[&1].template.other.contains_key("echo;x"));
    }
}
