//! Writes the import's decisions as spangate config TOML, with a comment on each span naming
//! the DAHDI line it came from.

use hal::SpanKind;

use super::{BoardOut, SpanOut};
use crate::conf::{format_chanlist, Loc};

/// A TOML basic string.
pub(crate) fn toml_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

pub(super) fn write_toml(
    b: &BoardOut,
    options: &[(String, String, String, Loc)],
    spans: &[SpanOut],
    routes: &[(String, String, String)],
    source: &str,
) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let _ = writeln!(t, "# Imported from a DAHDI set-up by `spangate import-dahdi` ({source}).");
    let _ = writeln!(t, "# Check the notices it printed: they list what could not be carried over.\n");
    let _ = writeln!(t, "[board]");
    let _ = writeln!(t, "name = {}", toml_str(&format!("imported {}", b.model)));
    let _ = writeln!(t, "model = {}", toml_str(&b.model));
    let _ = writeln!(t, "backend = \"dahdi\"");
    let _ = writeln!(t, "description = {}", toml_str(&format!("imported from {source}")));
    let _ = writeln!(t, "tonezone = {}", toml_str(&b.tonezone));
    let _ = writeln!(t, "kernel_module = {}", toml_str(&b.module));
    if !options.is_empty() {
        let _ = writeln!(t, "\n[board.module_options]");
        for (_, k, v, at) in options {
            let key = if k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
                k.clone()
            } else {
                toml_str(k)
            };
            let _ = writeln!(t, "{key} = {}    # {at}", toml_str(v));
        }
    }
    for s in spans {
        let _ = writeln!(t, "\n# {}", s.origin.replace('\n', " "));
        let _ = writeln!(t, "[[board.span]]");
        let _ = writeln!(t, "span = {}", s.number);
        let _ = writeln!(t, "name = {}", toml_str(&format!("span {}", s.number)));
        let _ = writeln!(t, "kind = \"{}\"", s.kind.as_str());
        if let (Some(f), Some(c)) = (s.framing, s.coding) {
            let _ = writeln!(t, "framing = \"{f}\"\ncoding = \"{c}\"");
        }
        if s.kind == SpanKind::E1 {
            let _ = writeln!(t, "crc4 = {}", s.crc4);
        }
        let _ = writeln!(t, "timing = {}", s.timing);
        if let Some(term) = s.termination {
            let _ = writeln!(t, "termination = \"{}\"", term.as_str());
        }
        let _ = writeln!(t, "law = \"{}\"", s.law);
        if s.kind == SpanKind::T1 {
            let _ = writeln!(t, "lbo = {}", s.lbo);
        }
        if s.kind.is_digital() && !s.bchans.is_empty() {
            let _ = writeln!(t, "bchan = {}", toml_str(&format_chanlist(s.bchans.iter().copied())));
        }
        if let Some(d) = s.dchan {
            let _ = writeln!(t, "dchan = {d}");
        }
        if let Some(sig) = &s.signalling {
            let _ = writeln!(t, "signalling = {}", toml_str(sig));
        }
        if let Some(st) = &s.switchtype {
            let _ = writeln!(t, "switchtype = {}", toml_str(st));
        }
        for (k, v) in [("overlapdial", s.overlapdial), ("layer1_presence", s.layer1), ("layer2_persistence", s.layer2)]
        {
            if let Some(v) = v {
                let _ = writeln!(t, "{k} = \"{v}\"");
            }
        }
        let groups: Vec<String> = s.groups.iter().map(ToString::to_string).collect();
        let _ = writeln!(t, "group = [{}]", groups.join(", "));
        let _ = writeln!(t, "context = {}", toml_str(&s.context));
        let _ = writeln!(t, "echo = {{ mode = \"{}\", taps = {} }}", s.echo.0, s.echo.1);
        if let Some(z) = s.tonezone.filter(|z| *z != b.tonezone) {
            let _ = writeln!(t, "tonezone = {}", toml_str(z));
        }
        if !s.timers.is_empty() {
            let set: Vec<String> = s.timers.iter().map(|(k, ms)| format!("{k} = {ms}")).collect();
            let _ = writeln!(t, "timers = {{ {} }}", set.join(", "));
        }
    }
    for (name, from, to) in routes {
        let _ = writeln!(t, "\n[[route]]\nname = {}\nfrom = {}\nto = {}", toml_str(name), toml_str(from), toml_str(to));
    }
    t
}
