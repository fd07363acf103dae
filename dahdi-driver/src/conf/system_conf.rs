//! `/etc/dahdi/system.conf` read exactly as `dahdi_cfg` 3.1.0 reads it (reference/dahdi.md §3).
//!
//! The quirks are kept on purpose, because a file we accept must be a file `dahdi_cfg` accepts
//! and our line numbers must be its line numbers: lines are read in 255-byte pieces (a longer
//! line counts as several), everything from the first `#` is dropped, a line left with only
//! white space is a syntax error (a truly empty line or a `#` in column 0 is fine), numbers are
//! read with C's `%d` (`5abc` is 5), and a problem does not stop the parse.

use std::collections::BTreeMap;

use super::{scan_int, Diagnostics, Loc};

/// The highest channel number DAHDI allows (`DAHDI_MAX_CHANNELS - 1`).
pub const MAX_CHANNEL: u32 = 1023;

/// `fgets` with dahdi_cfg's 256-byte buffer returns at most this many bytes per call.
const READ_CHUNK: usize = 255;

/// One `span=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanLine {
    pub at: Loc,
    /// As written: dahdi_cfg does not range-check it.
    pub span: i64,
    pub timing: u8,
    pub lbo: u8,
    /// `d4`, `esf`, `cas` or `ccs`, lower case.
    pub framing: String,
    /// `ami`, `b8zs` or `hdb3`, lower case.
    pub coding: String,
    pub crc4: bool,
    pub yellow: bool,
    /// `Some(true)` for `nt`, `Some(false)` for `te` (the last one wins), `None` when absent.
    pub nt: Option<bool>,
    pub term: bool,
}

/// What a channel line assigns to a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sig {
    /// `bchan` / `indclear`: a clear bearer channel.
    Bchan,
    /// `clear`, `rawhdlc`, `fcshdlc`, `nethdlc`: a bundle; the first channel of the line is master.
    Bundle(Bundle),
    /// `dchan`: software HDLC with FCS.
    Dchan,
    /// `hardhdlc`: the card frames HDLC.
    HardHdlc,
    Mtp2,
    /// `fxsls`, `fxsgs`, `fxsks`: FXS signalling (for FXO ports).
    Fxs(Start),
    /// `fxols`, `fxogs`, `fxoks`: FXO signalling (for FXS ports).
    Fxo(Start),
    /// `e&m`
    Em,
    /// `e&me1`
    EmE1,
    /// `cas` or `user` with its idle bits (ABCD, A in bit 3).
    Cas(u8),
    /// `dacs` (false) or `dacsrbs` (true), cross-connected to the channel given.
    Dacs {
        rbs: bool,
        peer: u32,
    },
    /// `unused`
    Unused,
}

/// The kind of a bundle line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bundle {
    Clear,
    RawHdlc,
    FcsHdlc,
    NetHdlc,
}

/// Loop start, ground start or kewl start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Start {
    Loop,
    Ground,
    Kewl,
}

impl Sig {
    /// The name `dahdi_cfg` prints for it (its channel map and its "already configured" error).
    pub fn label(self) -> &'static str {
        match self {
            Sig::Bchan | Sig::Bundle(Bundle::Clear) => "Clear channel",
            Sig::Bundle(Bundle::RawHdlc) => "Raw HDLC",
            Sig::Bundle(Bundle::FcsHdlc) => "HDLC with FCS check",
            Sig::Bundle(Bundle::NetHdlc) => "Network HDLC",
            Sig::Dchan => "D-channel",
            Sig::HardHdlc => "Hardware assisted D-channel",
            Sig::Mtp2 => "MTP2",
            Sig::Fxs(Start::Loop) => "FXS Loopstart",
            Sig::Fxs(Start::Ground) => "FXS Groundstart",
            Sig::Fxs(Start::Kewl) => "FXS Kewlstart",
            Sig::Fxo(Start::Loop) => "FXO Loopstart",
            Sig::Fxo(Start::Ground) => "FXO Groundstart",
            Sig::Fxo(Start::Kewl) => "FXO Kewlstart",
            Sig::Em => "E & M",
            Sig::EmE1 => "E & M E1",
            Sig::Cas(_) => "CAS / User",
            Sig::Dacs { rbs: false, .. } => "DACS",
            Sig::Dacs { rbs: true, .. } => "DACS w/RBS",
            Sig::Unused => "Unused",
        }
    }

    /// Whether the channel is a digital span's (dahdi_cfg ties these to the last `span=` line).
    pub fn is_digital(self) -> bool {
        !matches!(self, Sig::Fxs(_) | Sig::Fxo(_) | Sig::Em | Sig::EmE1 | Sig::Unused)
    }
}

/// A channel's signalling and the line that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChanSig {
    pub sig: Sig,
    pub at: Loc,
    /// For bundles: the master channel (the first of its line); otherwise the channel itself.
    pub master: u32,
}

/// A channel's companding law (`alaw`, `mulaw`, `deflaw`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChanLaw {
    Default,
    Mulaw,
    Alaw,
}

/// Everything a system.conf says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemConf {
    pub file: String,
    pub spans: Vec<SpanLine>,
    /// `dynamic=` lines: driver, address, channels, timing.
    pub dynamic: Vec<(Loc, String, String, u32, u32)>,
    /// Channel number to its signalling.
    pub channels: BTreeMap<u32, ChanSig>,
    /// Channel number to its law (the last line naming it wins).
    pub laws: BTreeMap<u32, (ChanLaw, Loc)>,
    /// Channel number to the software echo canceller attached to it (may be empty).
    pub echocan: BTreeMap<u32, (String, Loc)>,
    /// `loadzone=` values in file order.
    pub loadzones: Vec<(String, Loc)>,
    /// The last `defaultzone=`.
    pub defaultzone: Option<(String, Loc)>,
    /// Channels set to 56 kbit/s HDLC.
    pub hdlc56k: BTreeMap<u32, Loc>,
    /// Accepted lines with no meaning outside pciradio (ctcss, txgain, ...): keyword and line.
    pub radio: Vec<(String, Loc)>,
}

/// DAHDI's tone zones (reference/dahdi.md §3): what `defaultzone` accepts.
pub use provisioning::TONE_ZONES;

const RADIO: &[&str] = &[
    "ctcss",
    "dcsrx",
    "rxdcs",
    "tx",
    "debouncetime",
    "bursttime",
    "exttone",
    "invertcor",
    "corthresh",
    "rxgain",
    "txgain",
    "deemp",
    "preemp",
    "channel",
    "channels",
];

/// dahdi_cfg's white space: every byte below 0x21.
fn ws(c: char) -> bool {
    u32::from(c) < 0x21
}

fn trim(s: &str) -> &str {
    s.trim_matches(ws)
}

/// dahdi_cfg's `parseargs`: split at `sep`; white space after a separator is skipped and every
/// piece but the first is trimmed; a separator at the very end ends the list; more than `max`
/// pieces is `None`.
fn parse_args(input: &str, sep: char, max: usize) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = input;
    let mut first = true;
    loop {
        let (piece, tail) = match rest.find(sep) {
            Some(i) => (&rest[..i], Some(&rest[i + sep.len_utf8()..])),
            None => (rest, None),
        };
        if out.len() >= max && !first {
            return None;
        }
        out.push(if first { piece.to_string() } else { trim(piece).to_string() });
        first = false;
        match tail {
            None => return Some(out),
            Some(t) => {
                let t = t.trim_start_matches(ws);
                if t.is_empty() {
                    return Some(out);
                }
                rest = t;
            }
        }
    }
}

/// The parser's state: what is read so far and the problems found.
struct Parser {
    conf: SystemConf,
    diags: Diagnostics,
    at: Loc,
}

impl Parser {
    fn error(&mut self, msg: impl Into<String>) {
        self.diags.push(self.at.clone(), msg);
    }

    /// dahdi_cfg's `apply_channels`: a channel list to channel numbers, or the first error.
    fn chanlist(&mut self, list: &str) -> Option<Vec<u32>> {
        let Some(items) = parse_args(list, ',', 1024) else {
            self.error("Too many arguments...  Max is 1024");
            return None;
        };
        let mut chans = Vec::new();
        for item in &items {
            if item.contains('-') {
                let range = match parse_args(item, '-', 2) {
                    Some(r) if r.len() == 2 => r,
                    _ => {
                        self.error(format!("Syntax error in range '{item}'.  Should be <val1>-<val2>."));
                        return None;
                    }
                };
                let start = match scan_int(&range[0]) {
                    None => {
                        self.error(format!(
                            "Syntax error.  Start of range '{item}' should be a number from 1 to {MAX_CHANNEL}"
                        ));
                        return None;
                    }
                    Some(s) if !(1..=i64::from(MAX_CHANNEL)).contains(&s) => {
                        self.error(format!("Start of range '{item}' must be between 1 and {MAX_CHANNEL} (not '{s}')"));
                        return None;
                    }
                    Some(s) => s,
                };
                let end = match scan_int(&range[1]) {
                    None => {
                        self.error(format!(
                            "Syntax error.  End of range '{item}' should be a number from 1 to {MAX_CHANNEL}"
                        ));
                        return None;
                    }
                    Some(e) if !(1..=i64::from(MAX_CHANNEL)).contains(&e) => {
                        self.error(format!("end of range '{item}' must be between 1 and {MAX_CHANNEL} (not '{e}')"));
                        return None;
                    }
                    Some(e) => e,
                };
                if start > end {
                    self.error(format!("Range '{item}' should start before it ends"));
                    return None;
                }
                // Both ends are within 1..=1023 here, so the conversion cannot fail.
                chans.extend((start..=end).filter_map(|c| u32::try_from(c).ok()));
            } else {
                match scan_int(item) {
                    None => {
                        self.error(format!(
                            "Syntax error.  Channel should be a number from 1 to {MAX_CHANNEL}, not '{item}'"
                        ));
                        return None;
                    }
                    Some(c) if !(1..=i64::from(MAX_CHANNEL)).contains(&c) => {
                        self.error(format!("Channel must be between 1 and {MAX_CHANNEL} (not '{c}')"));
                        return None;
                    }
                    Some(c) => chans.extend(u32::try_from(c).ok()),
                }
            }
        }
        chans.sort_unstable();
        chans.dedup();
        Some(chans)
    }

    fn span(&mut self, value: &str) {
        let args = match parse_args(value, ',', 9) {
            Some(a) if (5..=9).contains(&a.len()) => a,
            _ => {
                self.error(
                    "Incorrect number of arguments to 'span' (should be <spanno>,<timing>,<lbo>,<framing>,<coding>[, crc4 | yellow [, yellow]])",
                );
                return;
            }
        };
        let Some(span) = scan_int(&args[0]) else {
            self.error(format!("Span number should be a valid span number, not '{}'", args[0]));
            return;
        };
        let timing = match scan_int(&args[1]).and_then(|t| u8::try_from(t).ok()) {
            Some(t) => t,
            None => {
                self.error(format!("Timing should be a number from 0 to 255, not '{}'", args[1]));
                return;
            }
        };
        let lbo = match scan_int(&args[2]) {
            None => {
                self.error(format!(
                    "Line build-out (LBO) should be a number from 0 to 7 (usually 0) not '{}'",
                    args[2]
                ));
                return;
            }
            Some(l) => match u8::try_from(l) {
                Ok(l) if l <= 7 => l,
                _ => {
                    self.error(format!("Line build-out should be in the range 0 to 7, not {l}"));
                    return;
                }
            },
        };
        let framing = args[3].to_ascii_lowercase();
        if !["d4", "esf", "cas", "ccs"].contains(&framing.as_str()) {
            self.error(format!(
                "Framing(T1)/Signalling(E1) must be one of 'd4', 'esf', 'cas' or 'ccs', not '{}'",
                args[3]
            ));
            return;
        }
        let coding = args[4].to_ascii_lowercase();
        if !["ami", "b8zs", "hdb3"].contains(&coding.as_str()) {
            self.error(format!("Coding must be one of 'ami', 'b8zs' or 'hdb3', not '{}'", args[4]));
            return;
        }
        let mut line = SpanLine {
            at: self.at.clone(),
            span,
            timing,
            lbo,
            framing,
            coding,
            crc4: false,
            yellow: false,
            nt: None,
            term: false,
        };
        for opt in &args[5..] {
            match opt.to_ascii_lowercase().as_str() {
                "yellow" => line.yellow = true,
                "crc4" => line.crc4 = true,
                "nt" => line.nt = Some(true),
                "te" => line.nt = Some(false),
                "term" => line.term = true,
                _ => {
                    self.error(format!(
                        "Remaining arguments may be any of: 'yellow', 'crc4', 'nt', 'te', 'term', not '{opt}'"
                    ));
                    return;
                }
            }
        }
        self.conf.spans.push(line);
    }

    fn dynamic(&mut self, value: &str) {
        let args = match parse_args(value, ',', 4) {
            Some(a) if a.len() == 4 => a,
            _ => {
                self.error(
                    "Incorrect number of arguments to 'dynamic' (should be <driver>,<address>,<num channels>, <timing>)",
                );
                return;
            }
        };
        let chans = match scan_int(&args[2]).and_then(|c| u32::try_from(c).ok()) {
            Some(c) if c >= 1 => c,
            _ => {
                self.error(format!("Invalid number of channels '{}', should be a number > 0.", args[2]));
                return;
            }
        };
        let Some(timing) = scan_int(&args[3]).and_then(|t| u32::try_from(t).ok()) else {
            self.error(format!("Invalid timing '{}', should be a number > 0.", args[3]));
            return;
        };
        self.conf.dynamic.push((self.at.clone(), args[0].clone(), args[1].clone(), chans, timing));
    }

    fn chanconfig(&mut self, key: &str, value: &str) {
        // dahdi_cfg splits with strtok(":"): leading colons are skipped when looking for the
        // first piece, but the channel list handed on still starts where the value starts.
        let lead = value.len() - value.trim_start_matches(':').len();
        let (list, suffix) = match value[lead..].find(':') {
            Some(i) => {
                let rest = &value[lead + i + 1..];
                let rest = rest.trim_start_matches(':');
                let tok = rest.split(':').next().unwrap_or("");
                (&value[..lead + i], if tok.is_empty() { None } else { Some(tok) })
            }
            None => (value, None),
        };
        let dacs_peer = if key == "dacs" || key == "dacsrbs" {
            match suffix.and_then(scan_int).and_then(|p| u32::try_from(p).ok()).filter(|p| *p >= 1) {
                Some(p) => Some(p),
                None => {
                    self.error("DACS requires a starting channel in the form ':x' where x is the channel");
                    return;
                }
            }
        } else {
            None
        };
        let Some(chans) = self.chanlist(list) else { return };
        let idle = if key == "cas" || key == "user" {
            match suffix.map(str::as_bytes) {
                Some(&[a, b, c, d, ..]) if [a, b, c, d].iter().all(|x| *x == b'0' || *x == b'1') => {
                    Some([a, b, c, d].iter().fold(0u8, |acc, x| (acc << 1) | (x - b'0')))
                }
                _ => {
                    self.error(
                        "CAS Signalling requires idle definition in the form ':xxxx' at the end of the channel definition, where xxxx represent the a, b, c, and d bits",
                    );
                    return;
                }
            }
        } else {
            None
        };
        let mut master = None;
        let mut peer = dacs_peer;
        for x in chans {
            if let Some(prev) = self.conf.channels.get(&x) {
                let m = format!("Channel {x} already configured as '{}' at line {}", prev.sig.label(), prev.at.line);
                self.error(m);
                continue;
            }
            let sig = match key {
                "e&m" => Sig::Em,
                "e&me1" => Sig::EmE1,
                "fxsls" => Sig::Fxs(Start::Loop),
                "fxsgs" => Sig::Fxs(Start::Ground),
                "fxsks" => Sig::Fxs(Start::Kewl),
                "fxols" => Sig::Fxo(Start::Loop),
                "fxogs" => Sig::Fxo(Start::Ground),
                "fxoks" => Sig::Fxo(Start::Kewl),
                "cas" | "user" => Sig::Cas(idle.unwrap_or(0)),
                "dacs" | "dacsrbs" => {
                    let p = peer.unwrap_or(1);
                    if let Some(prev) = self.conf.channels.get(&p) {
                        let m = format!(
                            "DACS Destination channel {p} already configured as '{}' at line {}",
                            prev.sig.label(),
                            prev.at.line
                        );
                        self.error(m);
                        continue;
                    }
                    let rbs = key == "dacsrbs";
                    self.conf
                        .channels
                        .insert(p, ChanSig { sig: Sig::Dacs { rbs, peer: x }, at: self.at.clone(), master: p });
                    peer = Some(p + 1);
                    Sig::Dacs { rbs, peer: p }
                }
                "unused" => Sig::Unused,
                "bchan" | "indclear" => Sig::Bchan,
                "clear" => Sig::Bundle(Bundle::Clear),
                "rawhdlc" => Sig::Bundle(Bundle::RawHdlc),
                "fcshdlc" => Sig::Bundle(Bundle::FcsHdlc),
                "nethdlc" => Sig::Bundle(Bundle::NetHdlc),
                "dchan" => Sig::Dchan,
                "hardhdlc" => Sig::HardHdlc,
                _ => Sig::Mtp2,
            };
            let m = if matches!(sig, Sig::Bundle(_)) { *master.get_or_insert(x) } else { x };
            self.conf.channels.insert(x, ChanSig { sig, at: self.at.clone(), master: m });
        }
    }

    fn law(&mut self, key: &str, value: &str) {
        let Some(chans) = self.chanlist(value) else { return };
        let law = match key {
            "alaw" => ChanLaw::Alaw,
            "mulaw" => ChanLaw::Mulaw,
            _ => ChanLaw::Default,
        };
        for c in chans {
            self.conf.laws.insert(c, (law, self.at.clone()));
        }
    }

    fn echocanceller(&mut self, value: &str) {
        // strtok(","): empty pieces vanish, the first piece left is the canceller's name.
        let mut pieces = value.split(',').filter(|p| !p.is_empty());
        let Some(name) = pieces.next() else { return };
        let mut all = Vec::new();
        for list in pieces {
            let Some(chans) = self.chanlist(list) else { return };
            all.extend(chans);
        }
        // dahdi_cfg copies the name into a 40-byte field (39 characters and a NUL).
        let name: String = name.chars().take(39).collect();
        for c in all {
            self.conf.echocan.insert(c, (name.clone(), self.at.clone()));
        }
    }

    fn line(&mut self, key: &str, value: &str) {
        match key {
            "span" => self.span(value),
            "dynamic" => self.dynamic(value),
            "loadzone" => {
                if self.conf.loadzones.len() >= 128 {
                    self.error("Too many tone zones specified");
                } else {
                    // Copied into a 10-byte field.
                    let z: String = value.chars().take(9).collect();
                    self.conf.loadzones.push((z, self.at.clone()));
                }
            }
            "defaultzone" => {
                if TONE_ZONES.contains(&value) {
                    self.conf.defaultzone = Some((value.to_string(), self.at.clone()));
                } else {
                    self.error(format!("No such tone zone known: {value}"));
                }
            }
            "e&m" | "e&me1" | "fxsls" | "fxsgs" | "fxsks" | "fxols" | "fxogs" | "fxoks" | "rawhdlc" | "nethdlc"
            | "fcshdlc" | "hardhdlc" | "mtp2" | "dchan" | "bchan" | "indclear" | "clear" | "unused" | "cas"
            | "dacs" | "dacsrbs" | "user" => self.chanconfig(key, value),
            "alaw" | "mulaw" | "deflaw" => self.law(key, value),
            "echocanceller" => self.echocanceller(value),
            "56k" => {
                if let Some(chans) = self.chanlist(value) {
                    for c in chans {
                        self.conf.hdlc56k.insert(c, self.at.clone());
                    }
                }
            }
            k if RADIO.contains(&k) => self.conf.radio.push((k.to_string(), self.at.clone())),
            _ => unreachable!("keywords are checked by the caller"),
        }
    }
}

/// Whether dahdi_cfg knows `key` (already lower case).
fn known(key: &str) -> bool {
    matches!(
        key,
        "span"
            | "dynamic"
            | "loadzone"
            | "defaultzone"
            | "e&m"
            | "e&me1"
            | "fxsls"
            | "fxsgs"
            | "fxsks"
            | "fxols"
            | "fxogs"
            | "fxoks"
            | "rawhdlc"
            | "nethdlc"
            | "fcshdlc"
            | "hardhdlc"
            | "mtp2"
            | "dchan"
            | "bchan"
            | "indclear"
            | "clear"
            | "unused"
            | "cas"
            | "dacs"
            | "dacsrbs"
            | "user"
            | "alaw"
            | "mulaw"
            | "deflaw"
            | "echocanceller"
            | "56k"
    ) || RADIO.contains(&key)
}

/// The pieces `fgets` with a 256-byte buffer returns, each with its dahdi_cfg line number.
fn chunks(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    let mut n = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let rest = &text[pos..];
        let max = rest.len().min(READ_CHUNK);
        let len = rest[..max].iter().position(|b| *b == b'\n').map_or(max, |i| i + 1);
        pos += len;
        n += 1;
        Some((n, &rest[..len]))
    })
}

/// Parses system.conf `text`, reporting problems under the name `file`.
pub fn parse(file: &str, text: &[u8]) -> Result<SystemConf, Diagnostics> {
    let mut p = Parser {
        conf: SystemConf { file: file.to_string(), ..SystemConf::default() },
        diags: Diagnostics::default(),
        at: Loc::new(file, 0),
    };
    for (lineno, raw) in chunks(text) {
        // C strings end at the first NUL, comments at the first '#'.
        let raw = raw.split(|b| *b == 0).next().unwrap_or(&[]);
        let raw = raw.split(|b| *b == b'#').next().unwrap_or(&[]);
        if raw.is_empty() || raw == b"\n" {
            continue;
        }
        let line = String::from_utf8_lossy(raw);
        p.at = Loc::new(file, lineno);
        let Some((key, value)) = line.split_once('=') else {
            p.error("Syntax error. Should be <keyword>=<value>");
            continue;
        };
        let (key, value) = (trim(key), trim(value));
        if key.is_empty() || value.is_empty() {
            p.error("Syntax error. Should be <keyword>=<value>");
            continue;
        }
        let lower = key.to_ascii_lowercase();
        if !known(&lower) {
            p.error(format!("Unknown keyword '{key}'"));
            continue;
        }
        p.line(&lower, value);
    }
    if p.diags.is_empty() {
        Ok(p.conf)
    } else {
        Err(p.diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> SystemConf {
        parse("s.conf", text.as_bytes()).unwrap_or_else(|d| panic!("{d}"))
    }

    fn errs(text: &str) -> Vec<String> {
        parse("s.conf", text.as_bytes()).expect_err("should fail").iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reads_an_e1_span() {
        let c = ok("span=1,1,0,ccs,hdb3,crc4\nbchan=1-15,17-31\ndchan=16\nechocanceller=mg2,1-15,17-31\nalaw=1-31\n\
                    loadzone=fr\ndefaultzone=fr\n");
        assert_eq!(c.spans.len(), 1);
        let s = &c.spans[0];
        assert_eq!(
            (s.span, s.timing, s.lbo, s.framing.as_str(), s.coding.as_str(), s.crc4),
            (1, 1, 0, "ccs", "hdb3", true)
        );
        assert_eq!(c.channels.len(), 31);
        assert_eq!(c.channels[&16].sig, Sig::Dchan);
        assert_eq!(c.echocan[&1].0, "mg2");
        assert!(!c.echocan.contains_key(&16));
        assert_eq!(c.laws[&31].0, ChanLaw::Alaw);
        assert_eq!(c.defaultzone.as_ref().map(|z| z.0.as_str()), Some("fr"));
    }

    #[test]
    fn line_quirks_match_dahdi_cfg() {
        // A blank line and a '#' in column 0 are fine; white space alone is a syntax error.
        assert_eq!(
            errs("\n# c\n   \nspan=1,1,0,ccs,hdb3\n  # x\n\r\n"),
            vec![
                "s.conf:3: Syntax error. Should be <keyword>=<value>",
                "s.conf:5: Syntax error. Should be <keyword>=<value>",
                "s.conf:6: Syntax error. Should be <keyword>=<value>",
            ]
        );
        // A 300-byte line is read as two lines (the second, white space only, is an error), so
        // the next line is line 3; checked against dahdi_cfg 3.1.0.
        let long = format!("bchan=1{}\nfoo=1\n", " ".repeat(299));
        assert_eq!(
            errs(&long),
            vec!["s.conf:2: Syntax error. Should be <keyword>=<value>", "s.conf:3: Unknown keyword 'foo'",]
        );
    }

    #[test]
    fn reports_every_error() {
        let e = errs(
            "span=1,300,0,ccs,hdb3\nspan=x,1,0,ccs,hdb3\nspan=1,1,9,ccs,hdb3\nspan=1,1,0,foo,hdb3\n\
                      span=1,1,0,ccs,foo\nspan=1,1,0,ccs,hdb3,bogus\nspan=1,1\nbchan=15-1\nbchan=0\nbchan=abc\n\
                      bchan=-3\nbchan=1-x\nbchan=1-2-3\nbchan=10\nbchan=10\ncas=1\ndacs=1\ndefaultzone=xx\nfoo=1\n",
        );
        assert_eq!(e, vec![
            "s.conf:1: Timing should be a number from 0 to 255, not '300'",
            "s.conf:2: Span number should be a valid span number, not 'x'",
            "s.conf:3: Line build-out should be in the range 0 to 7, not 9",
            "s.conf:4: Framing(T1)/Signalling(E1) must be one of 'd4', 'esf', 'cas' or 'ccs', not 'foo'",
            "s.conf:5: Coding must be one of 'ami', 'b8zs' or 'hdb3', not 'foo'",
            "s.conf:6: Remaining arguments may be any of: 'yellow', 'crc4', 'nt', 'te', 'term', not 'bogus'",
            "s.conf:7: Incorrect number of arguments to 'span' (should be <spanno>,<timing>,<lbo>,<framing>,<coding>[, crc4 | yellow [, yellow]])",
            "s.conf:8: Range '15-1' should start before it ends",
            "s.conf:9: Channel must be between 1 and 1023 (not '0')",
            "s.conf:10: Syntax error.  Channel should be a number from 1 to 1023, not 'abc'",
            "s.conf:11: Syntax error.  Start of range '-3' should be a number from 1 to 1023",
            "s.conf:12: Syntax error.  End of range '1-x' should be a number from 1 to 1023",
            "s.conf:13: Syntax error in range '1-2-3'.  Should be <val1>-<val2>.",
            "s.conf:15: Channel 10 already configured as 'Clear channel' at line 14",
            "s.conf:16: CAS Signalling requires idle definition in the form ':xxxx' at the end of the channel definition, where xxxx represent the a, b, c, and d bits",
            "s.conf:17: DACS requires a starting channel in the form ':x' where x is the channel",
            "s.conf:18: No such tone zone known: xx",
            "s.conf:19: Unknown keyword 'foo'",
        ]);
    }

    #[test]
    fn channel_lists_tolerate_what_dahdi_cfg_tolerates() {
        let c = ok("bchan=1 2\nbchan=5abc,\ndchan= 7 - 8\n");
        assert_eq!(c.channels.keys().copied().collect::<Vec<_>>(), vec![1, 5, 7, 8]);
        assert_eq!(
            errs("bchan=1,,3\n"),
            vec!["s.conf:1: Syntax error.  Channel should be a number from 1 to 1023, not ''"]
        );
    }

    #[test]
    fn bundles_and_cas() {
        let c = ok("clear=1-3\ncas=4-5:1101\nfxoks=6\n");
        assert_eq!(c.channels[&3].master, 1);
        assert_eq!(c.channels[&4].sig, Sig::Cas(0b1101));
        assert_eq!(c.channels[&6].sig, Sig::Fxo(Start::Kewl));
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for t in [&b"\xff\xfe=\x00"[..], b"=", b"span=,,,,", b"cas=:", b"dacs=::", b"echocanceller=,", b"x\0y=1"] {
            let _ = parse("s.conf", t);
        }
    }
}
