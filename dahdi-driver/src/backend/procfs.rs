//! `/proc/dahdi/N` as the kernel prints it (`dahdi_seq_show` in dahdi-base.c), parsed into
//! [`ProcSpan`]: the span's alarm words, line configuration, error counters, IRQ misses, timing
//! slips, and every channel's signalling, open state and echo canceller.
//!
//! The format (reference/dahdi.md §6.1): a header line `Span N: NAME "DESC"` (the `Span N: NAME `
//! part is left out when the span has no name) followed by ` (MASTER)`, the line configuration
//! (`CCS/HDB3/CRC4`), alarm words each followed by a space, and `ClockSource `; then one
//! `\tLABEL: N` line per non-zero counter, a blank line, and one `\t%4d NAME SIG FLAGS...` line per
//! channel. The parser reads what it recognises, keeps unknown words, and never panics on any
//! input (fuzz target `proc_span`).

/// Alarm words the kernel prints (`fill_alarm_string`), in its order.
pub const ALARM_WORDS: &[&str] = &["BLUE", "YELLOW", "RED", "LOOP", "RECOVERING", "NOTOPEN"];

/// One span's page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcSpan {
    /// The number on the header line; `None` when the span has no name (the kernel then prints
    /// no `Span N:` part).
    pub number: Option<u32>,
    pub name: String,
    pub desc: String,
    /// `(MASTER)`: the span is DAHDI's timing master.
    pub master: bool,
    /// `CCS/HDB3/CRC4`, `ESF/B8ZS`...; empty when the span is not configured.
    pub lineconfig: String,
    /// The alarm words (`RED`, `YELLOW`, ...) in the kernel's order; empty means no alarm.
    pub alarms: Vec<String>,
    /// `ClockSource`: the span is where DAHDI takes its timing from.
    pub clock_source: bool,
    pub bpv: u64,
    pub crc4_errors: u64,
    pub ebit_errors: u64,
    pub fas_errors: u64,
    pub irq_misses: u64,
    pub timing_slips: u64,
    pub channels: Vec<ProcChannel>,
}

/// One channel line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcChannel {
    /// The kernel's global channel number.
    pub channo: u32,
    pub name: String,
    /// The signalling word (`Clear`, `HDLCFCS`, `Hardware-assisted HDLC`, `Reserved`...); empty
    /// when the channel has none.
    pub sig: String,
    /// `(In use)`: some program has the channel open.
    pub in_use: bool,
    /// The channel's own alarm words.
    pub alarms: Vec<String>,
    /// `(EC: NAME - ACTIVE|INACTIVE)`: the canceller attached and whether it runs now.
    pub echo: Option<(String, bool)>,
}

fn counter(v: &str) -> u64 {
    // The kernel prints a signed int; a negative one would be a wrapped counter, shown as 0.
    v.trim().parse::<u64>().unwrap_or(0)
}

/// Splits off the text of `(EC: NAME - STATE)` and returns (text without it, canceller).
fn take_echo(rest: &str) -> (String, Option<(String, bool)>) {
    let Some(start) = rest.find("(EC: ") else { return (rest.to_owned(), None) };
    let inner_start = start + "(EC: ".len();
    let Some(len) = rest[inner_start..].find(')') else { return (rest.to_owned(), None) };
    let inner = &rest[inner_start..inner_start + len];
    let (name, state) = match inner.rfind(" - ") {
        Some(i) => (&inner[..i], &inner[i + 3..]),
        None => (inner, ""),
    };
    let without = format!("{}{}", &rest[..start], &rest[inner_start + len + 1..]);
    (without, Some((name.to_owned(), state == "ACTIVE")))
}

fn parse_channel(line: &str) -> Option<ProcChannel> {
    let line = line.trim_start();
    let (num, rest) = line.split_once(' ').unwrap_or((line, ""));
    let channo = num.parse::<u32>().ok()?;
    let (name, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let (rest, echo) = take_echo(rest);
    let in_use = rest.contains("(In use)");
    let rest = rest.replace("(In use)", " ").replace("(no pcm)", " ");
    let mut sig = Vec::new();
    let mut alarms = Vec::new();
    for w in rest.split_whitespace() {
        if ALARM_WORDS.contains(&w) {
            alarms.push(w.to_owned());
        } else if w != "Master" {
            sig.push(w);
        }
    }
    Some(ProcChannel { channo, name: name.to_owned(), sig: sig.join(" "), in_use, alarms, echo })
}

fn parse_header(line: &str, out: &mut ProcSpan) {
    let mut rest = line;
    if let Some(after) = rest.strip_prefix("Span ") {
        let (num, tail) = after.split_once(": ").unwrap_or((after, ""));
        out.number = num.trim().parse().ok();
        let (name, tail) = tail.split_once(' ').unwrap_or((tail, ""));
        out.name = name.to_owned();
        rest = tail;
    }
    // The description is quoted and may itself hold spaces (and, in theory, quotes): it runs to
    // the last quote before the words the kernel appends, none of which holds a quote.
    if let Some(open) = rest.find('"') {
        let after_open = &rest[open + 1..];
        let close = after_open.rfind('"').unwrap_or(after_open.len());
        out.desc = after_open[..close].to_owned();
        rest = after_open.get(close + 1..).unwrap_or("");
    }
    for w in rest.split_whitespace() {
        match w {
            "(MASTER)" => out.master = true,
            "ClockSource" => out.clock_source = true,
            _ if ALARM_WORDS.contains(&w) => out.alarms.push(w.to_owned()),
            _ if out.lineconfig.is_empty() => out.lineconfig = w.to_owned(),
            _ => {}
        }
    }
}

/// Parses the text of `/proc/dahdi/N`. Whatever it does not recognise is skipped.
pub fn parse(text: &str) -> ProcSpan {
    let mut out = ProcSpan::default();
    let mut lines = text.lines();
    if let Some(first) = lines.next() {
        parse_header(first, &mut out);
    }
    for line in lines {
        let body = line.trim();
        if body.is_empty() {
            continue;
        }
        if body.starts_with(|c: char| c.is_ascii_digit()) {
            if let Some(c) = parse_channel(body) {
                out.channels.push(c);
            }
            continue;
        }
        let Some((label, value)) = body.split_once(':') else { continue };
        let slot = match label {
            "BPV count" => &mut out.bpv,
            "CRC4 error count" => &mut out.crc4_errors,
            "E-bit error count" => &mut out.ebit_errors,
            "FAS error count" => &mut out.fas_errors,
            "IRQ misses" => &mut out.irq_misses,
            "Timing slips" => &mut out.timing_slips,
            _ => continue,
        };
        *slot = counter(value);
    }
    out
}

/// Reads and parses `/proc/dahdi/N`.
pub fn read(spanno: u32) -> std::io::Result<ProcSpan> {
    std::fs::read_to_string(format!("/proc/dahdi/{spanno}")).map(|t| parse(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A looped `dahdi_dynamic_loc` span with an open D-channel and one open bearer, written from
    /// the kernel's format code (every word followed by one space); vm-test reads the real one.
    const LOC: &str = "Span 3: DYN/loc/3:0 \"Dynamic 'loc' span at '3:0'\" CCS/HDB3 \n\n\
        \t  63 DYN/loc/3:0/1 Clear (In use) \n\
        \t  64 DYN/loc/3:0/2 Clear \n\
        \t  78 DYN/loc/3:0/16 HDLCFCS (In use) \n\
        \t  93 DYN/loc/3:0/31 Reserved \n";

    #[test]
    fn a_configured_loc_span_with_open_channels() {
        let s = parse(LOC);
        assert_eq!(s.number, Some(3));
        assert_eq!(s.name, "DYN/loc/3:0");
        assert_eq!(s.desc, "Dynamic 'loc' span at '3:0'");
        assert_eq!(s.lineconfig, "CCS/HDB3");
        assert!(s.alarms.is_empty() && !s.master && !s.clock_source);
        assert_eq!(s.channels.len(), 4);
        assert_eq!((s.channels[0].channo, s.channels[0].sig.as_str(), s.channels[0].in_use), (63, "Clear", true));
        assert_eq!((s.channels[1].channo, s.channels[1].in_use), (64, false));
        assert_eq!((s.channels[2].sig.as_str(), s.channels[2].in_use), ("HDLCFCS", true));
        assert_eq!(s.channels[3].sig, "Reserved");
    }

    /// The reference's example (built from the kernel's format code) plus every counter line.
    #[test]
    fn master_alarms_counters_and_the_echo_canceller() {
        let text = "Span 1: TE2/0/1 \"T2XXP (PCI) Card 0 Span 1\" (MASTER) CCS/HDB3/CRC4 YELLOW RED ClockSource \n\
            \tBPV count: 12\n\tCRC4 error count: 3\n\tE-bit error count: 4\n\tFAS error count: 5\n\
            \tIRQ misses: 7\n\tTiming slips: 2\n\n\
            \t   1 TE2/0/1/1 Clear (In use) (EC: VPMOCT064 - INACTIVE) \n\
            \t   2 TE2/0/1/2 Clear (In use) RED (EC: VPMOCT064 - ACTIVE) \n\
            \t  16 TE2/0/1/16 Hardware-assisted HDLC (In use) \n";
        let s = parse(text);
        assert_eq!((s.number, s.master, s.clock_source), (Some(1), true, true));
        assert_eq!(s.desc, "T2XXP (PCI) Card 0 Span 1");
        assert_eq!(s.lineconfig, "CCS/HDB3/CRC4");
        assert_eq!(s.alarms, ["YELLOW", "RED"]);
        assert_eq!((s.bpv, s.crc4_errors, s.ebit_errors, s.fas_errors), (12, 3, 4, 5));
        assert_eq!((s.irq_misses, s.timing_slips), (7, 2));
        assert_eq!(s.channels[0].echo, Some(("VPMOCT064".to_owned(), false)));
        assert_eq!(s.channels[1].echo, Some(("VPMOCT064".to_owned(), true)));
        assert_eq!(s.channels[1].alarms, ["RED"]);
        assert_eq!(s.channels[1].sig, "Clear");
        assert_eq!((s.channels[2].sig.as_str(), s.channels[2].echo.is_none()), ("Hardware-assisted HDLC", true));
    }

    #[test]
    fn a_span_without_a_name_and_an_unconfigured_one() {
        let s = parse("\"\" NOTOPEN \n\n\t   5 X/1 \n");
        assert_eq!((s.number, s.name.as_str(), s.desc.as_str()), (None, "", ""));
        assert_eq!(s.alarms, ["NOTOPEN"]);
        assert_eq!(s.lineconfig, "");
        assert_eq!((s.channels[0].channo, s.channels[0].sig.as_str()), (5, ""));
    }

    #[test]
    fn garbage_never_panics() {
        for t in
            ["", "Span", "Span x: ", "\"", "Span 1: a \"", "\t9", "\t 9 n (EC: ", "\t1 a (EC: x)", "IRQ misses: -4"]
        {
            let _ = parse(t);
        }
        assert_eq!(parse("\n\tIRQ misses: -4\n").irq_misses, 0);
    }
}
