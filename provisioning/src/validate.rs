//! Second pass: the rules that relate several values (a span's kind and its framing, signalling
//! and channels; spans with each other; the board with its driver; routes with what they name).
//! Each rule reports and carries on; the config is built only when nothing was reported.

use std::collections::HashMap;

use hal::sim::{FarEndRole, FaultConfig, LineSpec};
use hal::{Framing, LineCoding, SpanConfig, SpanKind, Termination};

use crate::board_rules::board_rules;
use crate::boards;
use crate::chanlist;
use crate::diag::Sink;
use crate::model::{Backend, Board, Config, Signalling, SimSpan, SpanCfg, SwitchType, Transcoder};
use crate::parse::{Draft, SimDraft, SpanDraft};
use crate::reader::{inside, Got};

/// "an E1 span", "an FXS port", ... for messages.
fn what(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::E1 => "an E1 span",
        SpanKind::T1 => "a T1 span",
        SpanKind::Bri => "a BRI span",
        SpanKind::Fxs => "an FXS port",
        SpanKind::Fxo => "an FXO port",
    }
}

/// The signalling a span runs when the file does not say: what `dahdi_genconf` would pick.
fn default_signalling(kind: SpanKind, term: Termination, framing: Option<Framing>) -> Signalling {
    let nt = term == Termination::Nt;
    match kind {
        SpanKind::E1 if framing == Some(Framing::Cas) => Signalling::Cas,
        SpanKind::E1 | SpanKind::T1 if nt => Signalling::PriNet,
        SpanKind::E1 | SpanKind::T1 => Signalling::PriCpe,
        SpanKind::Bri if nt => Signalling::BriNetPtmp,
        SpanKind::Bri => Signalling::BriCpePtmp,
        SpanKind::Fxs => Signalling::FxoKs,
        SpanKind::Fxo => Signalling::FxsKs,
    }
}

/// Whether `sig` can run on a span of `kind`, and if not, why.
fn signalling_fits(sig: Signalling, kind: SpanKind) -> Result<(), String> {
    let s = sig.as_str();
    let side = |cpe: &str, net: &str| if sig.is_network_side() { net.to_string() } else { cpe.to_string() };
    match sig {
        _ if sig.is_pri() && matches!(kind, SpanKind::E1 | SpanKind::T1) => Ok(()),
        _ if sig.is_pri() && kind == SpanKind::Bri => {
            Err(format!("{s} needs an E1 or T1 span; this span is BRI: use {}", side("bri_cpe_ptmp", "bri_net_ptmp")))
        }
        _ if sig.is_pri() => Err(format!("{s} needs an E1 or T1 span, not {}", what(kind))),
        _ if sig.is_bri() && kind == SpanKind::Bri => Ok(()),
        _ if sig.is_bri() && kind.is_digital() => {
            Err(format!("{s} needs a BRI span; this span is {}: use {}", kind, side("pri_cpe", "pri_net")))
        }
        _ if sig.is_bri() => Err(format!("{s} needs a BRI span, not {}", what(kind))),
        _ if sig.is_fxo() && kind == SpanKind::Fxs => Ok(()),
        _ if sig.is_fxs() && kind == SpanKind::Fxo => Ok(()),
        _ if sig.is_fxo() && kind == SpanKind::Fxo => Err(format!(
            "{s} runs on FXS ports (DAHDI names signalling after the far end); this is an FXO port: use {}",
            s.replace("fxo_", "fxs_")
        )),
        _ if sig.is_fxs() && kind == SpanKind::Fxs => Err(format!(
            "{s} runs on FXO ports (DAHDI names signalling after the far end); this is an FXS port: use {}",
            s.replace("fxs_", "fxo_")
        )),
        _ if sig.is_fxo() || sig.is_fxs() => Err(format!("{s} is analog signalling; this span is {}", what(kind))),
        Signalling::Cas if kind == SpanKind::E1 => Ok(()),
        Signalling::Cas => Err(format!("cas (E1 channel-associated signalling) needs an E1 span, not {}", what(kind))),
        _ => Ok(()),
    }
}

/// The framings and line codes a kind takes.
fn line_options(kind: SpanKind) -> (&'static [Framing], &'static [LineCoding]) {
    match kind {
        SpanKind::E1 => (&[Framing::Ccs, Framing::Cas], &[LineCoding::Hdb3, LineCoding::Ami]),
        SpanKind::T1 => (&[Framing::Esf, Framing::D4], &[LineCoding::B8zs, LineCoding::Ami]),
        SpanKind::Bri => (&[Framing::Ccs], &[LineCoding::Ami]),
        SpanKind::Fxs | SpanKind::Fxo => (&[], &[]),
    }
}

fn or_list<T>(items: &[T], name: impl Fn(&T) -> &'static str) -> String {
    let v: Vec<&str> = items.iter().map(name).collect();
    match v.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_string(),
        None => String::new(),
    }
}

/// Checks one span on its own and builds its settings; `None` when its kind is unknown.
fn span(sink: &mut Sink<'_>, d: &SpanDraft, backend: Option<Backend>) -> Option<SpanCfg> {
    let kind = *d.kind.get()?;
    let field = |k: &str| d.field(k);
    let mut hal = SpanConfig::defaults(kind);
    let analog = !kind.is_digital();

    // Termination and signalling default from each other, so `signalling = "pri_net"` alone is NT.
    let sig_given = d.signalling.get().copied();
    let term_given = d.termination.get().copied();
    if analog && term_given == Some(Termination::Nt) {
        sink.error(
            d.termination.at(),
            &field("termination"),
            format!("termination nt does not apply to {}", what(kind)),
        );
    }
    let termination = term_given.unwrap_or(match sig_given {
        Some(s) if s.is_network_side() => Termination::Nt,
        _ => Termination::Te,
    });
    let (framings, codings) = line_options(kind);
    let framing_given = d.framing.get().copied().filter(|f| framings.contains(f));
    let signalling = sig_given.unwrap_or_else(|| default_signalling(kind, termination, framing_given));
    let sig_ok = !d.signalling.is_bad();

    if let Got::Ok(f, at) = &d.framing {
        if analog {
            sink.error(at.clone(), &field("framing"), format!("framing does not apply to {}", what(kind)));
        } else if !framings.contains(f) {
            let m = format!(
                "framing {} does not fit {}: use {}",
                f.as_str(),
                what(kind),
                or_list(framings, |f| f.as_str())
            );
            sink.error(at.clone(), &field("framing"), m);
        }
    }
    hal.framing = match framing_given {
        Some(f) => f,
        None if kind == SpanKind::E1 && signalling == Signalling::Cas => Framing::Cas,
        None => hal.framing,
    };
    if let Got::Ok(c, at) = &d.coding {
        if analog {
            sink.error(at.clone(), &field("coding"), format!("coding does not apply to {}", what(kind)));
        } else if !codings.contains(c) {
            let m =
                format!("coding {} does not fit {}: use {}", c.as_str(), what(kind), or_list(codings, |c| c.as_str()));
            sink.error(at.clone(), &field("coding"), m);
        } else {
            hal.coding = *c;
        }
    }
    match &d.crc4 {
        Got::Ok(true, at) if kind != SpanKind::E1 => {
            sink.error(at.clone(), &field("crc4"), format!("crc4 is an E1 option; this span is {}", what(kind)));
        }
        Got::Ok(v, _) => hal.crc4 = *v && kind == SpanKind::E1,
        _ => {}
    }
    if let Got::Ok(t, at) = &d.timing {
        if analog && *t != 0 {
            sink.error(
                at.clone(),
                &field("timing"),
                format!("{} is never a clock source: timing must be 0", what(kind)),
            );
        }
        hal.timing = *t;
    }
    if let Got::Ok(l, at) = &d.lbo {
        if kind != SpanKind::T1 && *l != 0 {
            sink.error(
                at.clone(),
                &field("lbo"),
                format!("lbo (line build-out) applies to T1 only; use 0 on {}", what(kind)),
            );
        }
        hal.lbo = *l;
    }
    if let Some(l) = d.law.get() {
        hal.law = *l;
    }
    hal.termination = if analog { Termination::Te } else { termination };

    // Signalling against the span.
    let fits = signalling_fits(signalling, kind);
    if let (Err(m), true) = (&fits, sig_ok) {
        sink.error(d.signalling.at(), &field("signalling"), m.clone());
    }
    let fits = fits.is_ok() && sig_ok;
    if fits && kind == SpanKind::E1 {
        if signalling == Signalling::Cas && hal.framing != Framing::Cas && !d.framing.is_bad() {
            sink.error(d.framing.at(), &field("framing"), "cas signalling needs framing = \"cas\"");
        }
        if signalling.is_pri() && hal.framing == Framing::Cas && !d.framing.is_bad() {
            let (k, at) =
                if sig_given.is_some() { ("signalling", d.signalling.at()) } else { ("framing", d.framing.at()) };
            let m = format!(
                "{} needs a D-channel, but an E1 with framing cas has none (TS16 carries CAS): use framing = \"ccs\"",
                signalling.as_str()
            );
            sink.error(at, &field(k), m);
        }
    }
    if fits && !analog {
        if let (Some(s), Some(t)) = (sig_given, term_given) {
            let want = if s.is_network_side() {
                Some(Termination::Nt)
            } else if s.is_user_side() {
                Some(Termination::Te)
            } else {
                None
            };
            if want.is_some_and(|w| w != t) {
                let side = if t == Termination::Nt { "network" } else { "user" };
                let m = format!(
                    "termination {} is the {side} side but signalling {} is not: use termination = \"{}\" \
                     (DAHDI would allow the mismatch, but it is nearly always a mistake)",
                    t.as_str(),
                    s.as_str(),
                    want.map_or("", |w| w.as_str())
                );
                sink.error(d.termination.at(), &field("termination"), m);
            }
        }
    }

    // The D-channel and the B-channels.
    let (lo, hi) = kind.channel_range();
    let mut dchan_bad = d.dchan.is_bad();
    let dchan = match &d.dchan {
        Got::Ok(c, at) => {
            let m = if !signalling.is_isdn() {
                Some(format!(
                    "dchan only applies to ISDN signalling (pri_*, bri_*); {} has no D-channel",
                    signalling.as_str()
                ))
            } else if *c < lo || *c > hi {
                Some(format!("channel {c} is outside {lo}..={hi}, the channels of {}", what(kind)))
            } else if kind == SpanKind::Bri && *c != 3 {
                Some("the BRI D-channel is channel 3".to_string())
            } else {
                None
            };
            if let Some(m) = m {
                if sig_ok {
                    sink.error(at.clone(), &field("dchan"), m);
                }
                dchan_bad = true;
                None
            } else {
                Some(*c)
            }
        }
        _ if signalling.is_isdn() => kind.default_dchan(),
        _ => None,
    };
    let cas_ts16 = kind == SpanKind::E1 && hal.framing == Framing::Cas;
    match &d.bchan {
        Got::Ok((text, items), at) => {
            let (chans, errors) = chanlist::resolve(items, lo, hi, what(kind));
            let clean = errors.is_empty();
            for e in errors {
                sink.error(inside(sink.text(), at, text, e.offset), &field("bchan"), e.message);
            }
            if clean && !dchan_bad {
                if let Some(dc) = dchan.filter(|c| chans.contains(c)) {
                    let (k, at) = if d.dchan.present() {
                        ("dchan", d.dchan.at())
                    } else {
                        // Point at the list item that holds the D-channel.
                        let item = items.iter().find(|it| (it.first..=it.last).contains(&u32::from(dc)));
                        ("bchan", inside(sink.text(), at, text, item.map_or(0, |it| it.offset)))
                    };
                    sink.error(
                        at,
                        &field(k),
                        format!("channel {dc} is the D-channel and cannot also be a B-channel (bchan)"),
                    );
                }
            }
            if clean && cas_ts16 && chans.contains(&16) && !d.framing.is_bad() {
                let m = "timeslot 16 carries the signalling of an E1 with framing cas; it cannot be a B-channel";
                sink.error(at.clone(), &field("bchan"), m);
            }
            hal.bchans = chans;
        }
        _ => hal.bchans = (lo..=hi).filter(|c| Some(*c) != dchan && !(cas_ts16 && *c == 16)).collect(),
    }
    hal.dchan = dchan;

    // Keys that only mean something to an ISDN stack.
    if sig_ok && !signalling.is_isdn() {
        for (key, present, at) in [
            ("switchtype", d.switchtype.present(), d.switchtype.at()),
            ("overlapdial", d.overlapdial.present(), d.overlapdial.at()),
            ("layer1_presence", d.layer1_presence.present(), d.layer1_presence.at()),
            ("layer2_persistence", d.layer2_persistence.present(), d.layer2_persistence.at()),
            ("timers", d.timers.present(), d.timers.at()),
            ("pcap", d.pcap.present(), d.pcap.at()),
            ("incoming", d.incoming.present(), d.incoming.at()),
        ] {
            if present && at.is_some() {
                sink.error(
                    at,
                    &field(key),
                    format!("{key} only applies to ISDN signalling, not {}", signalling.as_str()),
                );
            }
        }
    }
    if let Got::Ok(c, at) = &d.context {
        if c.trim().is_empty() {
            sink.error(
                at.clone(),
                &field("context"),
                "context must not be empty (chan_dahdi's default is \"default\")",
            );
        }
    }

    if let Got::Ok(p, at) = &d.pcap {
        if p.trim().is_empty() || p.ends_with('/') {
            sink.error(
                at.clone(),
                &field("pcap"),
                "pcap must name a file (the D-channel capture), not be empty or a directory",
            );
        }
    }

    let mut incoming = crate::model::Incoming::default();
    if let Got::Ok(v, at) = &d.incoming {
        match crate::model::Incoming::parse(v) {
            Ok(i) => incoming = i,
            Err(m) => sink.error(at.clone(), &field("incoming"), m),
        }
    }

    let sim = match (backend, &d.sim) {
        (Some(Backend::Dahdi), Got::Ok(_, at)) => {
            sink.error(
                at.clone(),
                &field("sim"),
                "[board.span.sim] only applies to backend = \"sim\"; this board is dahdi",
            );
            None
        }
        (Some(Backend::Dahdi), _) | (_, Got::Bad) => None,
        (_, Got::Ok(s, _)) => Some(sim_span(sink, d, s, kind, signalling)),
        (_, Got::Absent) => Some(SimSpan { line: LineSpec::Open, fault: FaultConfig::default(), echo_path: None }),
    };
    let number = d.number.get().copied().unwrap_or(u32::try_from(d.index + 1).unwrap_or(u32::MAX));
    Some(SpanCfg {
        number,
        name: d.name.get().cloned().unwrap_or_else(|| format!("span {number}")),
        hal,
        signalling,
        switchtype: d.switchtype.get().copied().unwrap_or(if kind == SpanKind::T1 {
            SwitchType::National
        } else {
            SwitchType::EuroIsdn
        }),
        overlapdial: d.overlapdial.get().copied().unwrap_or(crate::model::OverlapDial::No),
        layer1_presence: d.layer1_presence.get().copied().unwrap_or(crate::model::Layer1Presence::Required),
        layer2_persistence: d.layer2_persistence.get().copied().unwrap_or(crate::model::Layer2Persistence::Default),
        timers: d.timers.get().copied().unwrap_or_default(),
        groups: d.groups.get().cloned().unwrap_or_default(),
        context: d.context.get().cloned().unwrap_or_else(|| "default".into()),
        echo: d.echo.get().copied().unwrap_or_default(),
        pcap: d.pcap.get().filter(|_| signalling.is_isdn()).map(std::path::PathBuf::from),
        incoming,
        tonezone: span_tonezone(sink, d),
        sim,
    })
}

/// The span's `tonezone`, one of DAHDI's zones like the board's.
fn span_tonezone(sink: &mut Sink<'_>, d: &SpanDraft) -> Option<String> {
    let Got::Ok(z, at) = &d.tonezone else { return None };
    if !boards::TONEZONES.contains(&z.as_str()) {
        let hint = crate::diag::did_you_mean(z, boards::TONEZONES.iter().copied());
        let m = format!("unknown tone zone `{z}` (DAHDI knows us, fr, de, uk, ...){hint}");
        sink.error(at.clone(), &d.field("tonezone"), m);
        return None;
    }
    Some(z.clone())
}

/// A simulated span's line against the span it belongs to.
fn sim_span(sink: &mut Sink<'_>, d: &SpanDraft, s: &SimDraft, kind: SpanKind, sig: Signalling) -> SimSpan {
    let field = |k: &str| d.field(&format!("sim.{k}"));
    let mut line = s.line.get().cloned().unwrap_or(LineSpec::Open);
    let line_at = s.line.at();
    match &mut line {
        LineSpec::FarEnd { role, drift_ppm } => {
            let ok = match role {
                FarEndRole::Provider | FarEndRole::Pbx => kind.is_digital(),
                FarEndRole::Phone => kind == SpanKind::Fxs,
                FarEndRole::Exchange => kind == SpanKind::Fxo,
            };
            if !ok {
                let m = match role {
                    FarEndRole::Provider | FarEndRole::Pbx => format!(
                        "a simulated {} speaks E1, T1 or BRI; {} plugs into {}",
                        role.as_str(),
                        what(kind),
                        if kind == SpanKind::Fxs {
                            "a phone (line = \"phone\")"
                        } else {
                            "an exchange (line = \"exchange\")"
                        }
                    ),
                    FarEndRole::Phone => format!("a phone plugs into an FXS port; this span is {}", what(kind)),
                    FarEndRole::Exchange => {
                        format!("an exchange line plugs into an FXO port; this span is {}", what(kind))
                    }
                };
                sink.error(line_at.clone(), &field("line"), m);
            }
            if let Some(v) = s.drift_ppm.get() {
                *drift_ppm = *v;
            }
        }
        other => {
            if let (Got::Ok(_, at), true) = (&s.drift_ppm, s.line.get().is_some()) {
                let m = "drift_ppm only applies to a simulated far end (provider, pbx, phone, exchange); \
                         across a cable the clock comes from the other span";
                sink.error(at.clone(), &field("drift_ppm"), m);
            }
            if matches!(other, LineSpec::DchanSocket(_)) && !sig.is_isdn() {
                let m = format!("dchan:/path carries a D-channel, but {} signalling has none", sig.as_str());
                sink.error(line_at.clone(), &field("line"), m);
            }
        }
    }
    let echo_path = s.echo_path.get().copied();
    if let (Got::Ok(_, at), false) = (&s.echo_path, matches!(line, LineSpec::FarEnd { .. })) {
        let m = "echo_path is the hybrid of a simulated far end (provider, pbx, phone, exchange); \
                 across a cable or socket the echo comes from the other side";
        sink.error(at.clone(), &field("echo_path"), m);
    }
    SimSpan { line, fault: s.fault.get().copied().unwrap_or_default(), echo_path }
}

/// Rules between spans: unique numbers and clock priorities, and cables that pair up.
fn across_spans(sink: &mut Sink<'_>, spans: &[(&SpanDraft, Option<&SpanCfg>)]) {
    let mut numbers: HashMap<u32, usize> = HashMap::new();
    let mut timings: HashMap<u8, u32> = HashMap::new();
    let mut captures: HashMap<&str, usize> = HashMap::new();
    for (d, cfg) in spans {
        // Two spans writing one capture file would interleave two pcap streams into garbage.
        if let Got::Ok(p, at) = &d.pcap {
            match captures.get(p.as_str()) {
                Some(i) => sink.error(
                    at.clone(),
                    &d.field("pcap"),
                    format!("pcap file {p} is also board.span[{i}]'s: each span needs its own capture file"),
                ),
                None => {
                    captures.insert(p.as_str(), d.index);
                }
            }
        }
        if let Got::Ok(n, at) = &d.number {
            match numbers.get(n) {
                Some(i) => sink.error(
                    at.clone(),
                    &d.field("span"),
                    format!("span {n} is defined twice (also board.span[{i}])"),
                ),
                None => {
                    numbers.insert(*n, d.index);
                }
            }
        }
        if let (Got::Ok(t, at), Some(c)) = (&d.timing, cfg) {
            if *t != 0 {
                match timings.get(t) {
                    Some(other) => sink.error(
                        at.clone(),
                        &d.field("timing"),
                        format!("timing priority {t} is also span {other}'s: each clock source needs its own priority"),
                    ),
                    None => {
                        timings.insert(*t, c.number);
                    }
                }
            }
        }
    }
    // Cables between spans of this board.
    let by_number: HashMap<u32, (&SpanDraft, &SpanCfg)> =
        spans.iter().filter_map(|(d, c)| Some((*d.number.get()?, (*d, (*c)?)))).collect();
    let mut claimed: HashMap<u32, u32> = HashMap::new();
    for (d, cfg) in spans {
        let (Some(cfg), Got::Ok(n, _)) = (cfg, &d.number) else { continue };
        let Some(LineSpec::Span(m)) = cfg.sim.as_ref().map(|s| &s.line) else { continue };
        let Got::Ok(sim, _) = &d.sim else { continue };
        let at = sim.line.at();
        let field = d.field("sim.line");
        if m == n {
            sink.error(at, &field, format!("span:{m} is this span itself; cable it to another span"));
            continue;
        }
        let Some((td, tc)) = by_number.get(m) else {
            sink.error(at, &field, format!("there is no span {m} on this board"));
            continue;
        };
        if let Some(prev) = claimed.get(m) {
            sink.error(at, &field, format!("span {m} is already cabled to span {prev}"));
            continue;
        }
        claimed.insert(*m, *n);
        let back = tc.sim.as_ref().map(|s| &s.line);
        match back {
            Some(LineSpec::Span(k)) if k == n => {}
            Some(LineSpec::Open) | None if !td.sim.get().is_some_and(|s| s.line.present()) => {}
            Some(LineSpec::Span(k)) => {
                sink.error(
                    at,
                    &field,
                    format!("span {m} is cabled to span {k}; both ends of a cable must name each other"),
                );
                continue;
            }
            _ => {
                let m2 = format!("span {m} is plugged into something else; both ends of a cable must name each other");
                sink.error(at, &field, m2);
                continue;
            }
        }
        // Check the pair once, from its lower-numbered end.
        let pointing_back = matches!(back, Some(LineSpec::Span(k)) if k == n);
        if pointing_back && n > m {
            continue;
        }
        let (a, b) = (cfg.hal.kind, tc.hal.kind);
        let kinds_fit = if a.is_digital() {
            a == b
        } else {
            matches!((a, b), (SpanKind::Fxs, SpanKind::Fxo) | (SpanKind::Fxo, SpanKind::Fxs))
        };
        if !kinds_fit {
            sink.error(
                at,
                &field,
                format!("span {n} is {} and span {m} is {}: they cannot be cabled together", what(a), what(b)),
            );
        } else if cfg.signalling.is_isdn() && tc.signalling.is_isdn() {
            let both = |f: fn(Signalling) -> bool| f(cfg.signalling) && f(tc.signalling);
            if both(Signalling::is_user_side) || both(Signalling::is_network_side) {
                let side = if cfg.signalling.is_user_side() { "user (cpe)" } else { "network (net)" };
                let m2 = format!(
                    "span {n} ({}) and span {m} ({}) are both the {side} side: one end of an ISDN cable must be the other side",
                    cfg.signalling.as_str(),
                    tc.signalling.as_str()
                );
                sink.error(at, &field, m2);
            }
        }
    }
}

/// Runs every cross-value rule and builds the config when nothing at all was reported.
pub(crate) fn finish(sink: &mut Sink<'_>, file: &str, draft: Draft) -> Option<Config> {
    let backend =
        draft.board.backend.get().copied().or(if draft.board.backend.is_bad() { None } else { Some(Backend::Sim) });
    let cfgs: Vec<Option<SpanCfg>> = draft.spans.iter().map(|d| span(sink, d, backend)).collect();
    let pairs: Vec<(&SpanDraft, Option<&SpanCfg>)> = draft.spans.iter().zip(cfgs.iter().map(Option::as_ref)).collect();
    across_spans(sink, &pairs);
    board_rules(sink, &draft, &pairs);
    crate::route_cfg::rules(sink, &draft.routes, &pairs, &crate::sip_cfg::trunk_names(&draft.sip));
    if sink.has_errors() {
        return None;
    }
    let b = draft.board;
    let model = b.model.ok()?;
    let board = Board {
        name: b.name.ok().unwrap_or_else(|| model.clone()),
        model,
        backend: backend?,
        description: b.description.ok().unwrap_or_default(),
        tonezone: b.tonezone.ok().unwrap_or_else(|| "us".into()),
        kernel_module: b.kernel_module.ok(),
        block_ms: b.block_ms.ok().and_then(|v| u8::try_from(v).ok()).unwrap_or(10),
        firmware: b.firmware.into_iter().map(|(f, _)| f).collect(),
        module_options: b.module_options.into_iter().map(|(k, v, _)| (k, v)).collect(),
        transcoder: b.transcoder.ok().map(|t| {
            let mode = t.mode.ok().unwrap_or_else(|| "any".into());
            let max = boards::TRANSCODER_MODES.iter().find(|(n, _)| *n == mode).map_or(92, |(_, c)| *c);
            Transcoder { channels: t.channels.ok().unwrap_or(max), mode }
        }),
        transcoding: b.transcoding.ok().unwrap_or(crate::model::Transcoding::Software),
        spans: cfgs.into_iter().collect::<Option<Vec<_>>>()?,
    };
    Some(Config {
        file: file.to_string(),
        board,
        sip: draft.sip,
        routes: draft.routes.into_iter().map(|r| r.route).collect(),
        ha: draft.ha,
        http: draft.http,
        log: draft.log,
    })
}
