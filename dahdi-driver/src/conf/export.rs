//! `export`: a spangate config written back as DAHDI's `system.conf` and `dahdi-channels.conf`,
//! laid out as `dahdi_genconf` writes them, so `dahdi_cfg -t` accepts the first and Asterisk
//! (or `import`) reads the second.
//!
//! Channel numbers: spans are laid out in span order from DAHDI channel 1, each taking its kind's
//! channel count (E1 31, T1 24, BRI 3, an analog port 1), the numbering [`super::import`] reads
//! back. Echo: `software` attaches DAHDI's `oslec` in system.conf and sets `echocancel`;
//! `hardware` only sets `echocancel` (chan_dahdi then uses the card's canceller); `off` sets
//! `echocancel = no`. chan_dahdi keeps every option until it is set again, so each span's block
//! sets every option the import reads: `tonezone` (the span's or the board's zone, by DAHDI's
//! number) on every span, and on ISDN spans a `pritimer` line for each timer the span sets and,
//! with Q.931's default, for each an earlier span set and this one does not.

use std::fmt::Write as _;

use hal::SpanKind;
use provisioning::{Config, EchoMode, Signalling, SpanCfg};

use super::chan_dahdi::TONE_ZONE_NUMBERS;
use super::format_chanlist;

/// DAHDI channels a span of `kind` takes.
pub fn span_channels(kind: SpanKind) -> u32 {
    match kind {
        SpanKind::E1 => 31,
        SpanKind::T1 => 24,
        SpanKind::Bri => 3,
        SpanKind::Fxs | SpanKind::Fxo => 1,
    }
}

/// The first DAHDI channel of each span, in the config's span order.
pub fn channel_bases(cfg: &Config) -> Vec<u32> {
    let mut spans: Vec<&SpanCfg> = cfg.board.spans.iter().collect();
    spans.sort_by_key(|s| s.number);
    let mut base = 1;
    let mut out = Vec::new();
    for s in spans {
        out.push((s.number, base));
        base += span_channels(s.hal.kind);
    }
    cfg.board.spans.iter().map(|s| out.iter().find(|(n, _)| *n == s.number).map_or(1, |(_, b)| *b)).collect()
}

/// The system.conf channel keyword of an analog port's signalling.
fn analog_keyword(sig: Signalling, kind: SpanKind) -> &'static str {
    match sig {
        Signalling::FxoKs => "fxoks",
        Signalling::FxoLs => "fxols",
        Signalling::FxoGs => "fxogs",
        Signalling::FxsKs => "fxsks",
        Signalling::FxsLs => "fxsls",
        Signalling::FxsGs => "fxsgs",
        // Validation keeps analog signalling on analog ports; this is the port's usual one.
        _ if kind == SpanKind::Fxo => "fxsks",
        _ => "fxoks",
    }
}

/// Writes `cfg` as (system.conf, dahdi-channels.conf).
pub fn export(cfg: &Config) -> (String, String) {
    let mut sys = String::new();
    let mut chans = String::new();
    let b = &cfg.board;
    let module = b.kernel_module.as_deref().unwrap_or("?");
    let _ =
        writeln!(sys, "# DAHDI system.conf written by `spangate export-dahdi` from {}", cfg.file.replace('\n', " "));
    let _ = writeln!(sys, "# Board: {} ({}, driver {module})", b.name.replace('\n', " "), b.model.replace('\n', " "));
    let _ = writeln!(
        chans,
        "; dahdi-channels.conf written by `spangate export-dahdi` from {}",
        cfg.file.replace('\n', " ")
    );
    let _ = writeln!(chans, "; #include it inside [channels] of chan_dahdi.conf.");
    let bases = channel_bases(cfg);
    // The Q.931 timers an earlier span's `pritimer` lines set, which chan_dahdi would carry on.
    let mut timers_set = [false; 9];
    let mut order: Vec<(usize, &SpanCfg)> = b.spans.iter().enumerate().collect();
    order.sort_by_key(|(_, s)| s.number);
    for (i, s) in order {
        let base = bases[i];
        let h = &s.hal;
        let abs = |c: u8| base + u32::from(c) - 1;
        let bchans: Vec<u32> = h.bchans.iter().map(|c| abs(*c)).collect();
        let dchan = h.dchan.filter(|_| s.signalling.is_isdn()).map(abs);
        let name = s.name.replace('\n', " ");
        let _ = writeln!(sys, "\n# Span {}: {name}", s.number);
        let _ = writeln!(chans, "\n; Span {}: {name}", s.number);
        if h.kind.is_digital() {
            let mut line =
                format!("span={},{},{},{},{}", s.number, h.timing, h.lbo, h.framing.as_str(), h.coding.as_str());
            if h.crc4 && h.kind == SpanKind::E1 {
                line.push_str(",crc4");
            }
            let _ = writeln!(sys, "{line}");
            if h.kind == SpanKind::Bri {
                let _ = writeln!(sys, "# termtype: {}", h.termination.as_str());
            }
            if !bchans.is_empty() {
                if s.signalling == Signalling::Cas {
                    // Idle bits 1101, dahdi_genconf's r2_idle_bits default.
                    let _ = writeln!(sys, "cas={}:1101", format_chanlist(bchans.iter().copied()));
                } else {
                    let _ = writeln!(sys, "bchan={}", format_chanlist(bchans.iter().copied()));
                }
            }
            if let Some(d) = dchan {
                // BRI cards frame the D-channel in hardware (wcb4xxp requires hardhdlc).
                let kw = if h.kind == SpanKind::Bri { "hardhdlc" } else { "dchan" };
                let _ = writeln!(sys, "{kw}={d}");
            }
        } else {
            let _ = writeln!(sys, "{}={}", analog_keyword(s.signalling, h.kind), base);
        }
        if s.echo.mode == EchoMode::Software && !bchans.is_empty() {
            let _ = writeln!(sys, "echocanceller=oslec,{}", format_chanlist(bchans.iter().copied()));
        }
        let all: Vec<u32> = bchans.iter().copied().chain(dchan).collect();
        if !all.is_empty() {
            let law = if h.law == hal::Law::Mulaw { "mulaw" } else { "alaw" };
            let _ = writeln!(sys, "{law}={}", format_chanlist(all));
        }

        // chan_dahdi: every option the import reads, so nothing leaks from the span before.
        let sig = match s.signalling {
            Signalling::Cas => "em_e1",
            Signalling::None => "auto", // never read back: no channel line follows
            other => other.as_str(),
        };
        let _ = writeln!(chans, "signalling = {sig}");
        if s.signalling.is_isdn() {
            let _ = writeln!(chans, "switchtype = {}", s.switchtype.as_str());
            let _ = writeln!(chans, "overlapdial = {}", s.overlapdial.as_str());
            let _ = writeln!(chans, "layer1_presence = {}", s.layer1_presence.as_str());
            let l2 = match s.layer2_persistence {
                provisioning::Layer2Persistence::Default => "",
                other => other.as_str(),
            };
            let _ = writeln!(chans, "layer2_persistence = {l2}");
            let keys = provisioning::IsdnTimers::KEYS;
            let defaults = provisioning::IsdnTimers::DEFAULT_MS;
            for (i, ms) in s.timers.values().into_iter().enumerate() {
                let name = keys[i].trim_end_matches("_ms");
                match ms {
                    Some(ms) => {
                        let _ = writeln!(chans, "pritimer => {name},{ms}");
                        timers_set[i] = true;
                    }
                    None if timers_set[i] => {
                        let _ = writeln!(chans, "pritimer => {name},{}", defaults[i]);
                        timers_set[i] = false;
                    }
                    None => {}
                }
            }
        }
        if !s.groups.is_empty() {
            let g: Vec<String> = s.groups.iter().map(ToString::to_string).collect();
            let _ = writeln!(chans, "group = {}", g.join(","));
        }
        let _ = writeln!(chans, "context = {}", s.context.replace(['\n', ';'], " "));
        let zone = s.tonezone.as_deref().unwrap_or(&b.tonezone);
        if let Some(n) = TONE_ZONE_NUMBERS.iter().position(|z| *z == zone) {
            let _ = writeln!(chans, "tonezone = {n}");
        }
        match s.echo.mode {
            EchoMode::Off => {
                let _ = writeln!(chans, "echocancel = no");
            }
            _ => {
                let _ = writeln!(chans, "echocancel = {}", s.echo.taps);
            }
        }
        if s.signalling == Signalling::None {
            // Clear channels: nothing in Asterisk runs on them, so chan_dahdi creates none.
            let _ =
                writeln!(chans, "; clear channels {}: not used by chan_dahdi", format_chanlist(bchans.iter().copied()));
        } else if !bchans.is_empty() {
            let _ = writeln!(chans, "channel => {}", format_chanlist(bchans.iter().copied()));
        }
    }
    let _ = writeln!(sys, "\n# Global data");
    let _ = writeln!(sys, "loadzone={}", b.tonezone);
    let _ = writeln!(sys, "defaultzone={}", b.tonezone);
    (sys, chans)
}
