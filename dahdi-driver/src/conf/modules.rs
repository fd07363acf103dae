//! `/etc/dahdi/modules` (one kernel module per line, as `dahdi_genconf modules` writes it), also
//! accepting modprobe's `options MODULE name=value ...` lines so that a module's options from
//! `/etc/modprobe.d/*.conf` can be given in the same file.

use super::{Diagnostics, Loc};

/// What the file lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Modules {
    /// Module names in file order, each with its line.
    pub modules: Vec<(String, Loc)>,
    /// `options` lines: module, option name, value, line.
    pub options: Vec<(String, String, String, Loc)>,
    /// modprobe lines that mean nothing for a spangate config (`alias`, `blacklist`, ...).
    pub ignored: Vec<(String, Loc)>,
}

fn module_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Parses the modules file `text`, named `file`.
pub fn parse(file: &str, text: &str) -> Result<Modules, Diagnostics> {
    let mut out = Modules::default();
    let mut diags = Diagnostics::default();
    for (i, raw) in text.lines().enumerate() {
        let at = Loc::new(file, i + 1);
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        match first {
            "options" => {
                let Some(module) = words.next().filter(|m| module_name(m)) else {
                    diags.push(at, "`options` needs a module name: options MODULE name=value ...");
                    continue;
                };
                for w in words {
                    match w.split_once('=') {
                        Some((k, v)) if !k.is_empty() => {
                            out.options.push((module.replace('-', "_"), k.to_string(), v.to_string(), at.clone()));
                        }
                        _ => diags.push(at.clone(), format!("module option `{w}` is not name=value")),
                    }
                }
            }
            "alias" | "blacklist" | "install" | "remove" | "softdep" => out.ignored.push((line.to_string(), at)),
            m if module_name(m) => {
                if let Some(extra) = words.next() {
                    diags.push(at, format!("one module per line: `{extra}` follows `{m}`"));
                } else {
                    // modprobe treats - and _ alike; DAHDI's drivers are spelled with _.
                    out.modules.push((m.replace('-', "_"), at));
                }
            }
            m => diags.push(at, format!("`{m}` is not a kernel module name")),
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_and_options() {
        let m = parse("modules", "# Digium\nwct4xxp\n\nwcb4xxp # BRI\noptions wcb4xxp persistentlayer1=0 debug=1\n")
            .unwrap();
        assert_eq!(m.modules.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), vec!["wct4xxp", "wcb4xxp"]);
        assert_eq!(m.options.len(), 2);
        assert_eq!((m.options[0].1.as_str(), m.options[0].2.as_str()), ("persistentlayer1", "0"));
    }

    #[test]
    fn bad_lines_are_all_reported() {
        let e = parse("modules", "wct4xxp extra\nw/x\noptions\noptions m nothing\n").unwrap_err();
        assert_eq!(e.len(), 4);
        assert_eq!(e.0[0].to_string(), "modules:1: one module per line: `extra` follows `wct4xxp`");
    }
}
