//! First pass: reads the TOML document into drafts, checking keys, types and ranges of each value
//! on its own. Rules that relate several values are in `validate`.

use std::net::SocketAddr;

use hal::sim::{FarEndRole, FaultConfig, LineSpec};
use hal::{Framing, Law, LineCoding, SpanKind, Termination};
use toml_edit::{Item, TableLike};

use crate::chanlist;
use crate::diag::Sink;
use crate::model::IsdnTimers;
use crate::model::{
    Backend, Echo, EchoMode, Ha, Http, Layer1Presence, Layer2Persistence, Log, OverlapDial, Signalling, Sip, SwitchType,
};
use crate::reader::{describe_value, inside, At, Got, Table};
use crate::route_cfg::RouteDraft;

const TOP: &[&str] = &["board", "sip", "route", "ha", "http", "log"];
const BOARD: &[&str] = &[
    "name",
    "model",
    "backend",
    "description",
    "tonezone",
    "kernel_module",
    "block_ms",
    "firmware",
    "module_options",
    "transcoder",
    "transcoding",
    "span",
];
const TRANSCODER: &[&str] = &["channels", "mode"];
const SPAN: &[&str] = &[
    "span",
    "name",
    "kind",
    "framing",
    "coding",
    "crc4",
    "timing",
    "termination",
    "law",
    "lbo",
    "bchan",
    "dchan",
    "signalling",
    "switchtype",
    "overlapdial",
    "layer1_presence",
    "layer2_persistence",
    "timers",
    "group",
    "context",
    "echo",
    "pcap",
    "incoming",
    "tonezone",
    "sim",
];
const ECHO: &[&str] = &["mode", "taps", "nlp"];
const TIMERS: &[&str] = &IsdnTimers::KEYS;
const SIM: &[&str] = &["line", "drift_ppm", "fault", "echo_path"];
const ECHO_PATH: &[&str] = &["delay_ms", "erl_db"];
const FAULT: &[&str] = &["seed", "frame_loss", "bit_error_rate", "slips_per_s", "los_bursts_per_s", "los_burst_ms"];
const HTTP: &[&str] = &["enabled", "listen"];
const LOG: &[&str] = &["level"];

/// Log levels the daemon understands.
pub(crate) const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

/// The whole file, read but not yet cross-checked.
pub(crate) struct Draft {
    pub(crate) board: BoardDraft,
    pub(crate) spans: Vec<SpanDraft>,
    pub(crate) sip: Sip,
    pub(crate) routes: Vec<RouteDraft>,
    pub(crate) ha: Ha,
    pub(crate) http: Http,
    pub(crate) log: Log,
}

/// `[board]` without its spans.
pub(crate) struct BoardDraft {
    pub(crate) at: At,
    pub(crate) name: Got<String>,
    pub(crate) model: Got<String>,
    pub(crate) backend: Got<Backend>,
    pub(crate) description: Got<String>,
    pub(crate) tonezone: Got<String>,
    pub(crate) kernel_module: Got<String>,
    /// DAHDI kernel block, ms.
    pub(crate) block_ms: Got<i64>,
    pub(crate) firmware: Vec<(String, At)>,
    pub(crate) firmware_at: At,
    /// Name, value, where the option's key is.
    pub(crate) module_options: Vec<(String, String, At)>,
    pub(crate) module_options_at: At,
    pub(crate) transcoder: Got<TranscoderDraft>,
    pub(crate) transcoding: Got<crate::model::Transcoding>,
}

/// `[board.transcoder]`.
pub(crate) struct TranscoderDraft {
    pub(crate) channels: Got<u32>,
    pub(crate) mode: Got<String>,
}

/// One `[[board.span]]`, every key read on its own.
pub(crate) struct SpanDraft {
    pub(crate) index: usize,
    pub(crate) path: String,
    pub(crate) at: At,
    pub(crate) number: Got<u32>,
    pub(crate) name: Got<String>,
    pub(crate) kind: Got<SpanKind>,
    pub(crate) framing: Got<Framing>,
    pub(crate) coding: Got<LineCoding>,
    pub(crate) crc4: Got<bool>,
    pub(crate) timing: Got<u8>,
    pub(crate) termination: Got<Termination>,
    pub(crate) law: Got<Law>,
    pub(crate) lbo: Got<u8>,
    /// The list as written and its syntax-checked items.
    pub(crate) bchan: Got<(String, Vec<chanlist::Item>)>,
    pub(crate) dchan: Got<u8>,
    pub(crate) signalling: Got<Signalling>,
    pub(crate) switchtype: Got<SwitchType>,
    pub(crate) overlapdial: Got<OverlapDial>,
    pub(crate) layer1_presence: Got<Layer1Presence>,
    pub(crate) layer2_persistence: Got<Layer2Persistence>,
    pub(crate) timers: Got<IsdnTimers>,
    pub(crate) groups: Got<Vec<u8>>,
    pub(crate) context: Got<String>,
    pub(crate) echo: Got<Echo>,
    /// Where to capture the D-channel (a pcap file path).
    pub(crate) pcap: Got<String>,
    /// `ring`, `answer` or `reject:N`, checked in validation.
    pub(crate) incoming: Got<String>,
    /// The span's DAHDI tone zone, overriding the board's.
    pub(crate) tonezone: Got<String>,
    pub(crate) sim: Got<SimDraft>,
}

impl SpanDraft {
    /// The dotted path of one of this span's keys.
    pub(crate) fn field(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }
}

/// `[board.span.sim]`.
pub(crate) struct SimDraft {
    pub(crate) line: Got<LineSpec>,
    pub(crate) drift_ppm: Got<f64>,
    pub(crate) fault: Got<FaultConfig>,
    pub(crate) echo_path: Got<hal::sim::EchoPath>,
}

/// (name, value) pairs for [`Table::pick`].
fn pairs<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<(&'static str, T)> {
    all.iter().map(|&v| (name(v), v)).collect()
}

impl<'d> Table<'d> {
    /// One of the named values in `options`.
    pub(crate) fn pick<T: Copy>(&self, sink: &mut Sink<'_>, key: &str, options: &[(&str, T)]) -> Got<T> {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        match self.string(sink, key) {
            Got::Ok(s, at) => match options.iter().find(|(n, _)| *n == s) {
                Some((_, v)) => Got::Ok(*v, at),
                None => {
                    let hint = crate::diag::did_you_mean(&s, names.iter().copied());
                    self.error(sink, key, format!("unknown {key} `{s}`: expected one of {}{hint}", names.join(", ")));
                    Got::Bad
                }
            },
            Got::Absent => Got::Absent,
            Got::Bad => Got::Bad,
        }
    }

    /// A socket address `host:port` (an IP address, not a name).
    pub(crate) fn socket_addr(&self, sink: &mut Sink<'_>, key: &str, port_zero_ok: bool) -> Got<SocketAddr> {
        match self.string(sink, key) {
            Got::Ok(s, at) => match s.parse::<SocketAddr>() {
                Ok(a) if a.port() == 0 && !port_zero_ok => {
                    self.error(sink, key, format!("`{s}` has port 0: give the peer's real port"));
                    Got::Bad
                }
                Ok(a) => Got::Ok(a, at),
                Err(_) => {
                    self.error(sink, key, format!("`{s}` is not an IP address and port (e.g. 192.0.2.1:5060)"));
                    Got::Bad
                }
            },
            Got::Absent => Got::Absent,
            Got::Bad => Got::Bad,
        }
    }

    /// An integer that fits `u8`/`u32` after a range check.
    pub(crate) fn small<T: TryFrom<i64>>(&self, sink: &mut Sink<'_>, key: &str, lo: i64, hi: i64) -> Got<T> {
        match self.integer(sink, key, lo, hi) {
            Got::Ok(v, at) => match T::try_from(v) {
                Ok(v) => Got::Ok(v, at),
                Err(_) => Got::Bad,
            },
            Got::Absent => Got::Absent,
            Got::Bad => Got::Bad,
        }
    }
}

/// Reads the whole document.
pub(crate) fn read(sink: &mut Sink<'_>, root: &dyn TableLike) -> Draft {
    let top = Table::new(sink, root, String::new(), None, TOP);
    let (board, spans) = match top.table(sink, "board", BOARD) {
        Got::Ok(b, _) => read_board(sink, &b),
        Got::Absent => {
            sink.error(None, "board", "missing the [board] table (board.model and the spans)");
            (empty_board(), Vec::new())
        }
        Got::Bad => (empty_board(), Vec::new()),
    };
    let sip = crate::sip_cfg::read(sink, &top);
    let routes = crate::route_cfg::read(sink, &top);
    let ha = match top.table(sink, "ha", crate::ha_cfg::HA) {
        Got::Ok(t, _) => crate::ha_cfg::read_ha(sink, &t),
        _ => Ha::default(),
    };
    let http = match top.table(sink, "http", HTTP) {
        Got::Ok(t, _) => {
            let d = Http::default();
            Http {
                enabled: t.boolean(sink, "enabled").ok().unwrap_or(d.enabled),
                listen: t.socket_addr(sink, "listen", true).ok().unwrap_or(d.listen),
            }
        }
        _ => Http::default(),
    };
    let log = match top.table(sink, "log", LOG) {
        Got::Ok(t, _) => {
            let levels: Vec<(&str, &str)> = LOG_LEVELS.iter().map(|l| (*l, *l)).collect();
            Log { level: t.pick(sink, "level", &levels).ok().unwrap_or("info").to_string() }
        }
        _ => Log::default(),
    };
    Draft { board, spans, sip, routes, ha, http, log }
}

fn empty_board() -> BoardDraft {
    BoardDraft {
        at: None,
        name: Got::Absent,
        model: Got::Bad,
        backend: Got::Absent,
        description: Got::Absent,
        tonezone: Got::Absent,
        kernel_module: Got::Absent,
        block_ms: Got::Absent,
        firmware: Vec::new(),
        firmware_at: None,
        module_options: Vec::new(),
        module_options_at: None,
        transcoder: Got::Absent,
        transcoding: Got::Absent,
    }
}

fn read_board(sink: &mut Sink<'_>, b: &Table<'_>) -> (BoardDraft, Vec<SpanDraft>) {
    b.require(sink, "model");
    let backends = pairs(Backend::ALL, Backend::as_str);
    let mut firmware = Vec::new();
    if let Some(item) = b.raw("firmware") {
        match item.as_array() {
            Some(arr) => {
                for (i, v) in arr.iter().enumerate() {
                    match v.as_str() {
                        Some(s) => firmware.push((s.to_string(), v.span())),
                        None => sink.error(
                            v.span(),
                            &format!("board.firmware[{i}]"),
                            format!("expected a file name string, found {}", describe_value(v)),
                        ),
                    }
                }
            }
            None => b.error(sink, "firmware", "expected an array of file names, e.g. [\"dahdi-fw-oct6114-064.bin\"]"),
        }
    }
    let mut module_options = Vec::new();
    if let Some(item) = b.raw("module_options") {
        match item.as_table_like() {
            Some(t) => {
                let opts =
                    Table::open(t, "board.module_options".into(), item.span().or_else(|| b.key_at("module_options")));
                read_module_options(sink, &opts, &mut module_options);
            }
            None => b.error(sink, "module_options", "expected a table of option = value, e.g. { vpmsupport = \"1\" }"),
        }
    }
    let transcoder = match b.table(sink, "transcoder", TRANSCODER) {
        Got::Ok(t, at) => {
            let modes: Vec<(&str, &str)> = crate::boards::TRANSCODER_MODES.iter().map(|(m, _)| (*m, *m)).collect();
            Got::Ok(
                TranscoderDraft {
                    channels: t.small(sink, "channels", 1, 120),
                    mode: t.pick(sink, "mode", &modes).map(str::to_string),
                },
                at,
            )
        }
        Got::Absent => Got::Absent,
        Got::Bad => Got::Bad,
    };
    let draft = BoardDraft {
        at: b.at(),
        name: b.string(sink, "name"),
        model: b.string(sink, "model"),
        backend: b.pick(sink, "backend", &backends),
        description: b.string(sink, "description"),
        tonezone: b.string(sink, "tonezone"),
        kernel_module: b.string(sink, "kernel_module"),
        block_ms: b.integer(sink, "block_ms", 2, 32),
        firmware,
        firmware_at: b.value_at("firmware"),
        module_options,
        module_options_at: b.value_at("module_options"),
        transcoder,
        transcoding: b.pick(
            sink,
            "transcoding",
            &pairs(crate::model::Transcoding::ALL, crate::model::Transcoding::as_str),
        ),
    };
    let spans = b.tables(sink, "span").into_iter().enumerate().map(|(i, (t, at))| read_span(sink, i, t, at)).collect();
    (draft, spans)
}

/// Module option values are strings to the kernel; integers are taken as their decimal text.
fn read_module_options(sink: &mut Sink<'_>, opts: &Table<'_>, out: &mut Vec<(String, String, At)>) {
    for k in opts.keys() {
        let Some(item) = opts.raw(k) else { continue };
        let value = match item {
            Item::Value(v) if v.is_str() => v.as_str().map(str::to_string),
            Item::Value(v) if v.is_integer() => v.as_integer().map(|i| i.to_string()),
            _ => None,
        };
        match value {
            Some(v) => out.push((k.to_string(), v, opts.key_at(k))),
            None => opts.error(
                sink,
                k,
                format!("expected a string or an integer, found {}", crate::reader::describe_item(item)),
            ),
        }
    }
}

fn read_span(sink: &mut Sink<'_>, index: usize, t: &dyn TableLike, at: At) -> SpanDraft {
    let path = format!("board.span[{index}]");
    let s = Table::new(sink, t, path.clone(), at.clone(), SPAN);
    s.require(sink, "span");
    s.require(sink, "kind");
    let kinds = pairs(&[SpanKind::E1, SpanKind::T1, SpanKind::Bri, SpanKind::Fxs, SpanKind::Fxo], SpanKind::as_str);
    let framings = pairs(&[Framing::Ccs, Framing::Cas, Framing::D4, Framing::Esf], Framing::as_str);
    let codings = pairs(&[LineCoding::Hdb3, LineCoding::Ami, LineCoding::B8zs], LineCoding::as_str);
    let terms = pairs(&[Termination::Te, Termination::Nt], Termination::as_str);
    let laws = pairs(&[Law::Alaw, Law::Mulaw], Law::as_str);
    SpanDraft {
        index,
        path,
        at,
        number: s.small(sink, "span", 1, 128),
        name: s.string(sink, "name"),
        kind: s.pick(sink, "kind", &kinds),
        framing: s.pick(sink, "framing", &framings),
        coding: s.pick(sink, "coding", &codings),
        crc4: s.boolean(sink, "crc4"),
        timing: s.small(sink, "timing", 0, 255),
        termination: s.pick(sink, "termination", &terms),
        law: s.pick(sink, "law", &laws),
        lbo: s.small(sink, "lbo", 0, 7),
        bchan: read_chanlist(sink, &s, "bchan"),
        dchan: s.small(sink, "dchan", 1, 31),
        signalling: s.pick(sink, "signalling", &pairs(Signalling::ALL, Signalling::as_str)),
        switchtype: s.pick(sink, "switchtype", &pairs(SwitchType::ALL, SwitchType::as_str)),
        overlapdial: s.pick(sink, "overlapdial", &pairs(OverlapDial::ALL, OverlapDial::as_str)),
        layer1_presence: s.pick(sink, "layer1_presence", &pairs(Layer1Presence::ALL, Layer1Presence::as_str)),
        layer2_persistence: s.pick(
            sink,
            "layer2_persistence",
            &pairs(Layer2Persistence::ALL, Layer2Persistence::as_str),
        ),
        timers: read_timers(sink, &s),
        groups: read_groups(sink, &s),
        context: s.string(sink, "context"),
        echo: read_echo(sink, &s),
        pcap: s.string(sink, "pcap"),
        incoming: s.string(sink, "incoming"),
        tonezone: s.string(sink, "tonezone"),
        sim: match s.table(sink, "sim", SIM) {
            Got::Ok(t, at) => Got::Ok(read_sim(sink, &t), at),
            Got::Absent => Got::Absent,
            Got::Bad => Got::Bad,
        },
    }
}

/// A channel list: a string like `1-15,17-31`, or a single channel number.
fn read_chanlist(sink: &mut Sink<'_>, s: &Table<'_>, key: &str) -> Got<(String, Vec<chanlist::Item>)> {
    let Some(item) = s.raw(key) else { return Got::Absent };
    let at = item.span();
    if let Some(n) = item.as_integer() {
        return match u32::try_from(n) {
            Ok(c) => Got::Ok((n.to_string(), vec![chanlist::Item { first: c, last: c, offset: 0 }]), at),
            Err(_) => {
                s.error(sink, key, format!("channel {n} is not a channel number"));
                Got::Bad
            }
        };
    }
    let Some(text) = item.as_str() else {
        s.error(
            sink,
            key,
            format!("expected a channel list like \"1-15,17-31\", found {}", crate::reader::describe_item(item)),
        );
        return Got::Bad;
    };
    match chanlist::parse(text) {
        Ok(items) => Got::Ok((text.to_string(), items), at),
        Err(errors) => {
            for e in errors {
                sink.error(inside(sink.text(), &at, text, e.offset), &s.field(key), e.message);
            }
            Got::Bad
        }
    }
}

/// `group = 1` or `group = [1, 2]`, each 0..=63, no repeats.
fn read_groups(sink: &mut Sink<'_>, s: &Table<'_>) -> Got<Vec<u8>> {
    let Some(item) = s.raw("group") else { return Got::Absent };
    let field = s.field("group");
    let mut one = |v: &toml_edit::Value, out: &mut Vec<u8>| -> bool {
        match v.as_integer() {
            Some(g) if (0..=63).contains(&g) => {
                let g = u8::try_from(g).unwrap_or_default();
                if out.contains(&g) {
                    sink.error(v.span(), &field, format!("group {g} listed twice"));
                    return false;
                }
                out.push(g);
                true
            }
            Some(g) => {
                sink.error(v.span(), &field, format!("group {g} is out of range: must be 0..=63"));
                false
            }
            None => {
                sink.error(v.span(), &field, format!("expected a group number, found {}", describe_value(v)));
                false
            }
        }
    };
    let mut groups = Vec::new();
    let ok = match item.as_value() {
        Some(toml_edit::Value::Array(arr)) => {
            // Every element is checked, so every bad group is reported.
            let mut ok = true;
            for v in arr.iter() {
                ok &= one(v, &mut groups);
            }
            ok
        }
        Some(v) => one(v, &mut groups),
        None => {
            s.error(sink, "group", "expected a group number or an array of them");
            false
        }
    };
    if ok {
        Got::Ok(groups, item.span())
    } else {
        Got::Bad
    }
}

/// `timers = { t309_ms = 6000, ... }`: Q.931 timer values in ms, each in
/// [`IsdnTimers::MIN_MS`]..=[`IsdnTimers::MAX_MS`].
fn read_timers(sink: &mut Sink<'_>, s: &Table<'_>) -> Got<IsdnTimers> {
    let t = match s.table(sink, "timers", TIMERS) {
        Got::Ok(t, _) => t,
        Got::Absent => return Got::Absent,
        Got::Bad => return Got::Bad,
    };
    let mut timers = IsdnTimers::default();
    let mut bad = false;
    for key in IsdnTimers::KEYS {
        match t.integer(sink, key, i64::from(IsdnTimers::MIN_MS), i64::from(IsdnTimers::MAX_MS)) {
            Got::Ok(v, _) => {
                if let (Some(slot), Ok(v)) = (timers.slot(key), u32::try_from(v)) {
                    *slot = Some(v);
                }
            }
            Got::Absent => {}
            Got::Bad => bad = true,
        }
    }
    if bad {
        return Got::Bad;
    }
    Got::Ok(timers, s.value_at("timers"))
}

fn read_echo(sink: &mut Sink<'_>, s: &Table<'_>) -> Got<Echo> {
    let t = match s.table(sink, "echo", ECHO) {
        Got::Ok(t, _) => t,
        Got::Absent => return Got::Absent,
        Got::Bad => return Got::Bad,
    };
    let d = Echo::default();
    let mode = t.pick(sink, "mode", &pairs(EchoMode::ALL, EchoMode::as_str));
    let taps = match t.small::<u16>(sink, "taps", 0, 65535) {
        Got::Ok(v, at) if (32..=1024).contains(&v) && v.is_power_of_two() => Got::Ok(v, at),
        Got::Ok(v, _) => {
            t.error(sink, "taps", format!("{v} taps: must be a power of two in 32..=1024 (8 taps = 1 ms)"));
            Got::Bad
        }
        other => other,
    };
    let nlp = t.boolean(sink, "nlp");
    if mode.is_bad() || taps.is_bad() || nlp.is_bad() {
        return Got::Bad;
    }
    let echo =
        Echo { mode: mode.ok().unwrap_or(d.mode), taps: taps.ok().unwrap_or(d.taps), nlp: nlp.ok().unwrap_or(d.nlp) };
    Got::Ok(echo, s.value_at("echo"))
}

fn read_sim(sink: &mut Sink<'_>, t: &Table<'_>) -> SimDraft {
    let line = match t.string(sink, "line") {
        Got::Ok(text, at) => match parse_line(&text) {
            Ok(l) => Got::Ok(l, at),
            Err(msg) => {
                t.error(sink, "line", msg);
                Got::Bad
            }
        },
        Got::Absent => Got::Absent,
        Got::Bad => Got::Bad,
    };
    let fault = match t.table(sink, "fault", FAULT) {
        Got::Ok(f, at) => {
            let d = FaultConfig::default();
            let seed = f.small::<u64>(sink, "seed", 0, i64::MAX);
            let frame_loss = f.number(sink, "frame_loss", 0.0, 1.0);
            let ber = f.number(sink, "bit_error_rate", 0.0, 1.0);
            let slips = f.number(sink, "slips_per_s", 0.0, 1000.0);
            let los = f.number(sink, "los_bursts_per_s", 0.0, 1000.0);
            let los_ms = f.small::<u32>(sink, "los_burst_ms", 0, 60_000);
            let bad = seed.is_bad()
                || frame_loss.is_bad()
                || ber.is_bad()
                || slips.is_bad()
                || los.is_bad()
                || los_ms.is_bad();
            if bad {
                Got::Bad
            } else {
                Got::Ok(
                    FaultConfig {
                        seed: seed.ok().unwrap_or(d.seed),
                        frame_loss: frame_loss.ok().unwrap_or(d.frame_loss),
                        bit_error_rate: ber.ok().unwrap_or(d.bit_error_rate),
                        slips_per_s: slips.ok().unwrap_or(d.slips_per_s),
                        los_bursts_per_s: los.ok().unwrap_or(d.los_bursts_per_s),
                        los_burst_ms: los_ms.ok().unwrap_or(d.los_burst_ms),
                    },
                    at,
                )
            }
        }
        Got::Absent => Got::Absent,
        Got::Bad => Got::Bad,
    };
    // A hybrid at the simulated far end, so the echo canceller can be tested end to end.
    let echo_path = match t.table(sink, "echo_path", ECHO_PATH) {
        Got::Ok(e, at) => {
            let max = i64::from(hal::sim::MAX_ECHO_DELAY_MS);
            let delay = e.small::<u32>(sink, "delay_ms", 0, max);
            let erl = e.number(sink, "erl_db", 0.0, 60.0);
            match (delay, erl) {
                (Got::Ok(delay_ms, _), Got::Ok(erl_db, _)) => Got::Ok(hal::sim::EchoPath { delay_ms, erl_db }, at),
                (Got::Absent, _) => {
                    e.error(sink, "delay_ms", "an echo path needs delay_ms");
                    Got::Bad
                }
                (_, Got::Absent) => {
                    e.error(sink, "erl_db", "an echo path needs erl_db");
                    Got::Bad
                }
                _ => Got::Bad,
            }
        }
        Got::Absent => Got::Absent,
        Got::Bad => Got::Bad,
    };
    SimDraft { line, drift_ppm: t.number(sink, "drift_ppm", -500.0, 500.0), fault, echo_path }
}

/// The spellings of `[board.span.sim] line`.
pub(crate) const LINE_FORMS: &str =
    "provider, pbx, phone, exchange, open, span:N, listen:/path, connect:/path or dchan:/path";

/// Parses a `line` value. Drift is filled in later from `drift_ppm`.
pub(crate) fn parse_line(text: &str) -> Result<LineSpec, String> {
    let far = |role| Ok(LineSpec::FarEnd { role, drift_ppm: 0.0 });
    match text {
        "provider" => return far(FarEndRole::Provider),
        "pbx" => return far(FarEndRole::Pbx),
        "phone" => return far(FarEndRole::Phone),
        "exchange" => return far(FarEndRole::Exchange),
        "open" => return Ok(LineSpec::Open),
        _ => {}
    }
    let Some((kind, rest)) = text.split_once(':') else {
        let hint = crate::diag::did_you_mean(text, ["provider", "pbx", "phone", "exchange", "open"]);
        return Err(format!("unknown line `{text}`: expected {LINE_FORMS}{hint}"));
    };
    let path = || {
        if rest.is_empty() {
            Err(format!("`{text}` needs a socket path after `{kind}:`"))
        } else {
            Ok(std::path::PathBuf::from(rest))
        }
    };
    match kind {
        "span" => match rest.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(LineSpec::Span(n)),
            _ => Err(format!("`{text}`: expected span:N with N a span number of this board")),
        },
        "listen" => path().map(LineSpec::Listen),
        "connect" => path().map(LineSpec::Connect),
        "dchan" => path().map(LineSpec::DchanSocket),
        _ => {
            let hint = crate::diag::did_you_mean(kind, ["span", "listen", "connect", "dchan"]);
            Err(format!("unknown line `{text}`: expected {LINE_FORMS}{hint}"))
        }
    }
}
