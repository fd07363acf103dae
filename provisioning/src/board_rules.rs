//! Board-level rules: backend, kernel module, firmware, module options, transcoder, tone zone,
//! the ports of real boards. Routes are checked in `route_cfg`.

use hal::SpanKind;

use crate::boards;
use crate::diag::{did_you_mean, Sink};
use crate::model::{Backend, SpanCfg};
use crate::parse::{Draft, SpanDraft};
use crate::reader::Got;

/// Rules of the board: backend, driver, firmware, module options, transcoder, tone zone.
pub(crate) fn board_rules(sink: &mut Sink<'_>, draft: &Draft, spans: &[(&SpanDraft, Option<&SpanCfg>)]) {
    let b = &draft.board;
    let backend = b.backend.get().copied().or(if b.backend.is_bad() { None } else { Some(Backend::Sim) });
    if let Got::Ok(m, at) = &b.model {
        if m.trim().is_empty() {
            sink.error(at.clone(), "board.model", "model must not be empty");
        }
    }
    if let Got::Ok(z, at) = &b.tonezone {
        if !boards::TONEZONES.contains(&z.as_str()) {
            let hint = did_you_mean(z, boards::TONEZONES.iter().copied());
            sink.error(
                at.clone(),
                "board.tonezone",
                format!("unknown tone zone `{z}` (DAHDI knows us, fr, de, uk, ...){hint}"),
            );
        }
    }
    let model = match (backend, b.model.get()) {
        (Some(Backend::Dahdi), Some(m)) => boards::model(m),
        _ => None,
    };
    if let (Got::Ok(t, at), Some(m)) = (&b.transcoder, b.model.get()) {
        if m != "tc400b" {
            sink.error(
                at.clone(),
                "board.transcoder",
                format!("[board.transcoder] only exists on model tc400b, not {m}"),
            );
        }
        if let (Got::Ok(ch, cat), Some(mode)) = (&t.channels, t.mode.get()) {
            let max = boards::TRANSCODER_MODES.iter().find(|(n, _)| n == mode).map_or(120, |(_, c)| *c);
            if *ch > max {
                sink.error(
                    cat.clone(),
                    "board.transcoder.channels",
                    format!("mode {mode} offers at most {max} channels"),
                );
            }
        }
    }
    match backend {
        Some(Backend::Sim) => {
            if let Got::Ok(_, at) = &b.kernel_module {
                sink.error(at.clone(), "board.kernel_module", "kernel_module only applies to backend = \"dahdi\"");
            }
            if let Got::Ok(_, at) = &b.block_ms {
                sink.error(at.clone(), "board.block_ms", "block_ms only applies to backend = \"dahdi\"");
            }
            if let Got::Ok(crate::model::Transcoding::Hardware, at) = &b.transcoding {
                sink.error(
                    at.clone(),
                    "board.transcoding",
                    "transcoding = \"hardware\" needs backend = \"dahdi\" (a TC400B behind /dev/dahdi/transcode); \
                     the simulated board transcodes in software",
                );
            }
            if !b.firmware.is_empty() {
                sink.error(b.firmware_at.clone(), "board.firmware", "firmware only applies to backend = \"dahdi\"");
            }
            if !b.module_options.is_empty() {
                sink.error(
                    b.module_options_at.clone(),
                    "board.module_options",
                    "module_options only apply to backend = \"dahdi\"",
                );
            }
        }
        Some(Backend::Dahdi) => dahdi_rules(sink, draft, model, spans),
        None => {}
    }
    if let Some(m) = model {
        for (d, cfg) in spans {
            if m.ports == 0 {
                sink.error(d.at.clone(), &d.path, format!("{} is a transcoder and has no spans", m.name));
                continue;
            }
            if let Got::Ok(n, at) = &d.number {
                if *n > m.ports {
                    sink.error(
                        at.clone(),
                        &d.field("span"),
                        format!("{} has {} ports: there is no span {n}", m.name, m.ports),
                    );
                }
            }
            if let Some(c) = cfg {
                if !m.kinds.contains(&c.hal.kind) {
                    let kinds: Vec<String> = m.kinds.iter().map(ToString::to_string).collect();
                    let msg = format!("{} ports are {}, not {}", m.name, kinds.join(" or "), c.hal.kind);
                    sink.error(d.kind.at(), &d.field("kind"), msg);
                }
            }
        }
    }
}

/// Rules of a real board: its driver, firmware and module options.
fn dahdi_rules(
    sink: &mut Sink<'_>,
    draft: &Draft,
    model: Option<&boards::Model>,
    spans: &[(&SpanDraft, Option<&SpanCfg>)],
) {
    let b = &draft.board;
    let module = match &b.kernel_module {
        Got::Absent => {
            let eg = model.map_or("wct4xxp".to_string(), |m| format!("{} for a {}", m.module, m.name));
            sink.error(
                b.at.clone(),
                "board.kernel_module",
                format!("backend = \"dahdi\" needs kernel_module, the driver of the card ({eg})"),
            );
            None
        }
        Got::Bad => None,
        Got::Ok(k, at) if !boards::MODULES.contains(&k.as_str()) => {
            let hint = did_you_mean(k, boards::MODULES.iter().copied());
            sink.error(at.clone(), "board.kernel_module", format!("unknown DAHDI module `{k}`{hint}"));
            None
        }
        Got::Ok(k, at) => {
            if let Some(m) = model.filter(|m| m.module != k) {
                sink.error(at.clone(), "board.kernel_module", format!("{} is driven by {}, not {k}", m.name, m.module));
            }
            Some(k.as_str())
        }
    };
    for (i, (f, at)) in b.firmware.iter().enumerate() {
        let field = format!("board.firmware[{i}]");
        if f.is_empty() || f.contains('/') || !f.ends_with(".bin") {
            sink.error(
                at.clone(),
                &field,
                format!("`{f}` is not a firmware file name (dahdi-fw-NAME.bin, no directory)"),
            );
        } else if b.firmware[..i].iter().any(|(g, _)| g == f) {
            sink.error(at.clone(), &field, format!("`{f}` is listed twice"));
        } else if let Some(m) = model {
            if m.firmware.is_empty() {
                sink.error(at.clone(), &field, format!("{} ({}) loads no firmware", m.name, m.module));
            } else if !m.firmware.contains(&f.as_str()) {
                sink.error(
                    at.clone(),
                    &field,
                    format!("{}'s driver asks for {}, never for {f}", m.name, m.firmware.join(" or ")),
                );
            }
        }
    }
    let Some(module) = module else { return };
    for (name, value, at) in &b.module_options {
        let field = format!("board.module_options.{name}");
        let Some(opt) = boards::module_option(name) else {
            let mine = boards::MODULE_OPTIONS.iter().filter(|o| o.modules.is_empty() || o.modules.contains(&module));
            if let Some(c) = crate::diag::closest(name, mine.map(|o| o.name)) {
                sink.error(at.clone(), &field, format!("{module} has no option `{name}`; did you mean `{c}`?"));
            }
            continue;
        };
        if !opt.modules.is_empty() && !opt.modules.contains(&module) {
            let m = format!("{module} has no option `{name}` (it is an option of {})", opt.modules.join(", "));
            sink.error(at.clone(), &field, m);
            continue;
        }
        match opt.values {
            boards::Values::OneOf(vals) if !vals.contains(&value.as_str()) => {
                sink.error(at.clone(), &field, format!("`{value}` is not a value of {name}: use {}", vals.join(", ")));
            }
            boards::Values::Country
                if value.is_empty()
                    || !value
                        .bytes()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_' || c == b'-') =>
            {
                let m = format!("opermode `{value}`: the driver compares it case-sensitively, write it in capitals (FCC, TBR21, FRANCE, ...)");
                sink.error(at.clone(), &field, m);
            }
            _ => {}
        }
        cross_option(sink, draft, spans, name, value, at, &field);
    }
}

/// Module options that must agree with the spans or the transcoder.
fn cross_option(
    sink: &mut Sink<'_>,
    draft: &Draft,
    spans: &[(&SpanDraft, Option<&SpanCfg>)],
    name: &str,
    value: &str,
    at: &crate::reader::At,
    field: &str,
) {
    let cfgs = || spans.iter().filter_map(|(_, c)| *c);
    match name {
        "default_linemode" if value == "e1" || value == "t1" || value == "j1" => {
            let want = if value == "e1" { SpanKind::E1 } else { SpanKind::T1 };
            let off: Vec<String> = cfgs()
                .filter(|c| c.hal.kind.is_digital() && c.hal.kind != want)
                .map(|c| c.number.to_string())
                .collect();
            if !off.is_empty() {
                let m = format!(
                    "default_linemode = \"{value}\" makes every port {want}, but span(s) {} are not",
                    off.join(", ")
                );
                sink.error(at.clone(), field, m);
            }
        }
        "companding" if value == "alaw" || value == "ulaw" => {
            let want = if value == "alaw" { hal::Law::Alaw } else { hal::Law::Mulaw };
            let off: Vec<String> = cfgs().filter(|c| c.hal.law != want).map(|c| c.number.to_string()).collect();
            if !off.is_empty() {
                let m =
                    format!("companding = \"{value}\" but span(s) {} use the other law (their `law`)", off.join(", "));
                sink.error(at.clone(), field, m);
            }
        }
        "mode" => {
            if let Got::Ok(t, _) = &draft.board.transcoder {
                if let Some(m) = t.mode.get().filter(|m| m.as_str() != value) {
                    sink.error(
                        at.clone(),
                        field,
                        format!("mode = \"{value}\" but [board.transcoder] says mode = \"{m}\""),
                    );
                }
            }
        }
        _ => {}
    }
}
