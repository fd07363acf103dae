//! The published state of the appliance: one immutable snapshot the HTTP side renders as a page,
//! as JSON and as Prometheus metrics.
//!
//! The event loop builds a new [`Snapshot`] a few times a second and swaps it in; readers clone an
//! `Arc` and never see a half-updated state or touch signalling state.

use std::fmt::Write as _;

use serde::Serialize;

/// Everything the status page, the JSON API and the metrics show.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Snapshot {
    pub version: &'static str,
    pub board: BoardSnap,
    pub uptime_s: u64,
    /// `"internal"` or `"span N"`.
    pub clock_source: String,
    pub clock_source_span: Option<u32>,
    pub media: MediaSnap,
    pub spans: Vec<SpanSnap>,
    /// Calls through the gateway (one per incoming leg routed somewhere).
    pub switch: SwitchSnap,
    /// High availability; `None` with `[ha] role = "disabled"`.
    pub ha: Option<crate::ha::runtime::HaSnap>,
    /// The config's revision and its replication between HA nodes.
    pub config: Option<crate::config_state::ConfigSnap>,
    /// The SIP side, when `[sip] listen` is set.
    pub sip: Option<SipSnap>,
}

/// The SIP side: where it listens, its trunks, what it refused.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SipSnap {
    /// `udp:ADDR`.
    pub listen: String,
    /// SIP over TCP, when it listens.
    pub tcp: Option<SipTcpSnap>,
    pub trunks: Vec<crate::sipnet::TrunkSnap>,
    /// Datagrams too broken to answer, malformed requests answered 400, requests refused (482,
    /// 483, 501, 420...), responses matching nothing, retransmissions.
    pub garbage: u64,
    pub bad_requests: u64,
    pub refused: u64,
    pub stray_responses: u64,
    pub retransmissions: u64,
    /// RTCP of all SIP legs, and RTP packets lost on the way to us.
    pub rtcp: crate::sipnet_rtcp::RtcpCounters,
    /// Fax tones heard on SIP legs and their re-INVITEs to PCMA.
    pub fax: crate::sipnet_fax::FaxCounters,
}

/// SIP over TCP: where it listens, the open connections and what happened to connections.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SipTcpSnap {
    /// `tcp:ADDR`.
    pub listen: String,
    pub connections: usize,
    pub counters: crate::sipnet_tcp::TcpCounters,
}

/// The switch: calls through the gateway and its counters.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SwitchSnap {
    pub calls: Vec<crate::switch::BridgeSnap>,
    pub counters: crate::switch::SwitchCounters,
}

/// Facts about the board.
#[derive(Debug, Clone, Serialize, Default)]
pub struct BoardSnap {
    pub name: String,
    pub model: String,
    pub backend: String,
    pub description: String,
    pub config_file: String,
}

/// The media thread's timing.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct MediaSnap {
    pub ticks: u64,
    /// Deadlines missed because the thread woke a millisecond or more late.
    pub late_ticks: u64,
    pub lateness_p50_us: u32,
    pub lateness_p99_us: u32,
    pub lateness_max_us: u32,
    /// Fraction of wall time the media thread spent working rather than sleeping.
    pub load: f32,
}

/// One span.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SpanSnap {
    pub span: u32,
    pub name: String,
    pub kind: String,
    pub termination: String,
    pub framing: String,
    pub coding: String,
    pub crc4: bool,
    pub timing: u8,
    pub law: String,
    pub signalling: String,
    pub switchtype: String,
    /// What the line is plugged into (`provider`, `span:2`, `listen:/path`...).
    pub line: String,
    /// `"OK"` or the alarms, `"RED"`, `"YELLOW"`, `"BLUE/YELLOW"`...
    pub alarm_text: String,
    pub alarms: AlarmSnap,
    pub up: bool,
    pub clock_master: bool,
    pub counters: CounterSnap,
    pub sim: Option<SimSnap>,
    /// The ISDN stack of the span's D-channel; `None` when the span's signalling is not ISDN.
    pub isdn: Option<IsdnSnap>,
    pub channels: Vec<ChannelSnap>,
    /// What the DAHDI kernel shows for the span (`/proc/dahdi/N`); `None` on sim boards.
    pub kernel: Option<crate::status_kernel::KernelSnap>,
}

/// The ISDN signalling of one D-channel.
#[derive(Debug, Clone, Serialize, Default)]
pub struct IsdnSnap {
    /// `"TE"` (user side) or `"NT"` (network side).
    pub role: &'static str,
    /// `"PTP"` or `"PTMP"`.
    pub mode: &'static str,
    /// Layer 1 as layer 2 sees it: `"ACTIVATED"` while the span has no alarm, else `"DEACTIVATED"`.
    pub layer1: &'static str,
    /// True while at least one data link is in multiple-frame operation.
    pub layer2_up: bool,
    /// One data link per TEI (on the NT in point-to-multipoint, one per assigned TEI).
    pub links: Vec<Layer2Snap>,
    pub counters: DchanCounterSnap,
    /// The calls Q.931 holds now.
    pub calls: Vec<CallSnap>,
    /// The last calls that ended (newest last, a few kept), with the cause they ended with.
    pub cleared: Vec<ClearedCallSnap>,
    /// The stack of the simulated far end on this span's line, when there is one.
    pub far_end: Option<Box<IsdnSnap>>,
}

/// One Q.931 call.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CallSnap {
    /// The daemon's name for the call (`/api/v1/spans/N/calls/ID/...`); never reused.
    pub id: u32,
    /// The call reference value on the wire (reused once the call is gone).
    pub call_reference: u16,
    /// The call state as Q.931 §2 names it (`CALL_DELIVERED`, `ACTIVE`...), and its number.
    pub state: &'static str,
    pub state_number: u8,
    /// The B-channel (timeslot) the call holds.
    pub channel: Option<u8>,
    pub called: String,
    pub calling: String,
    /// `"outgoing"` (placed by us) or `"incoming"`.
    pub direction: &'static str,
    /// The data link the call runs on (127 while a broadcast SETUP awaits its answer).
    pub tei: u8,
}

/// A call that ended.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ClearedCallSnap {
    pub id: u32,
    pub called: String,
    pub calling: String,
    pub direction: &'static str,
    /// Whether it reached ACTIVE.
    pub connected: bool,
    /// The Q.850 cause value it ended with, when one was given.
    pub cause: Option<u8>,
}

/// One data link (Q.921 Annex B state and variables).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Layer2Snap {
    /// `None` for a TE that holds no TEI yet.
    pub tei: Option<u8>,
    /// The state as Q.921 names it: `TEI_ASSIGNED`, `MULTIPLE_FRAME_ESTABLISHED`...
    pub state: String,
    /// Multiple-frame operation (MULTIPLE_FRAME_ESTABLISHED or TIMER_RECOVERY).
    pub established: bool,
    pub vs: u8,
    pub va: u8,
    pub vr: u8,
}

/// D-channel counters of the Q.921 entity and of the tap beside it.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct DchanCounterSnap {
    pub frames_sent: u64,
    pub frames_received: u64,
    /// Invalid frames discarded unseen (too short, bad address).
    pub frames_discarded: u64,
    pub i_frames_sent: u64,
    pub i_frames_received: u64,
    pub retransmissions: u64,
    pub rej_sent: u64,
    pub rej_received: u64,
    pub mdl_errors: u64,
    /// Layer 3 messages handed up (DL-DATA and DL-UNIT-DATA indications).
    pub l3_messages: u64,
    /// Frames the D-channel refused (its queue full); Q.921 recovers them by retransmission.
    pub tx_dropped: u64,
}

/// Alarm bits.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq)]
pub struct AlarmSnap {
    pub red: bool,
    pub yellow: bool,
    pub blue: bool,
    pub loopback: bool,
}

/// Span counters.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct CounterSnap {
    pub slips: u64,
    pub crc_errors: u64,
    pub fcs_errors: u64,
    pub hdlc_aborts: u64,
    pub hdlc_overruns: u64,
    pub late_ticks: u64,
    pub hdlc_tx_frames: u64,
    pub hdlc_rx_frames: u64,
}

/// Line facts of a simulated span.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct SimSnap {
    pub signal: bool,
    pub rx_cut: bool,
    pub tx_cut: bool,
    pub sending_ais: bool,
    pub loopback: bool,
}

/// One timeslot of the channel grid.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelSnap {
    pub ts: u8,
    /// `"B"` bearer, `"D"` D-channel.
    pub role: &'static str,
    /// `"idle"`, `"busy"`, `"alarm"`.
    pub state: &'static str,
    /// The echo canceller of a busy channel that has one (`null` otherwise).
    pub echo: Option<EchoSnap>,
}

/// An echo canceller's figures (`media_dsp::echo::Stats`), dB rounded to a tenth.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct EchoSnap {
    pub erl_db: f32,
    pub erle_db: f32,
    pub double_talk: bool,
    pub nlp_active: bool,
    pub converged: bool,
    /// The tone disabler holds the canceller off (fax or modem answer tone), or fax mode does.
    pub bypassed: bool,
    /// Fax mode: the call heard a fax tone; bypassed until the call ends.
    pub fax_mode: bool,
}

impl From<&media_dsp::echo::Stats> for EchoSnap {
    fn from(s: &media_dsp::echo::Stats) -> EchoSnap {
        // Before any far-end speech the long-term powers are empty and the ratios meaningless.
        let tenth = |v: f32| if v.is_finite() { (v * 10.0).round() / 10.0 } else { 0.0 };
        EchoSnap {
            erl_db: tenth(s.erl_db),
            erle_db: tenth(s.erle_db),
            double_talk: s.double_talk,
            nlp_active: s.nlp_active,
            converged: s.converged,
            bypassed: s.bypassed,
            fax_mode: s.fax_mode,
        }
    }
}

impl Snapshot {
    /// Spans in use: no alarm at all.
    pub fn spans_up(&self) -> usize {
        self.spans.iter().filter(|s| s.up).count()
    }
}

/// The JSON document of `GET /api/v1/status`.
pub fn to_json(s: &Snapshot) -> String {
    serde_json::to_string_pretty(s).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn alarm_class(s: &SpanSnap) -> &'static str {
    if s.alarms.red {
        "red"
    } else if s.alarms.blue {
        "blue"
    } else if s.alarms.yellow {
        "yellow"
    } else if s.alarms.loopback {
        "loop"
    } else {
        "ok"
    }
}

fn uptime_text(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// The calls through the gateway, one row each.
fn switch_table(h: &mut String, sw: &SwitchSnap) {
    let c = sw.counters;
    let _ = write!(
        h,
        r#"<h2 style="font-size:1.1em;margin-top:1em">Calls through the gateway: {n}</h2>
<p class="sub">offered {o} · routed {r} · answered {a} · no route {nr} · fall-overs {f} · failed {fl}</p>
"#,
        n = sw.calls.len(),
        o = c.offered,
        r = c.routed,
        a = c.answered,
        nr = c.no_route,
        f = c.fall_overs,
        fl = c.failed,
    );
    if sw.calls.is_empty() {
        return;
    }
    h.push_str("<table class=\"kv\" id=\"switch-calls\"><tr><td>call</td><td>state</td><td>from</td><td>to</td><td>calling</td><td>called</td><td>duration</td><td>media</td></tr>\n");
    for b in &sw.calls {
        let _ = writeln!(
            h,
            r#"<tr data-bridge="{id}"><td>{id}</td><td>{state}</td><td>{from}</td><td>{to}</td><td>{calling}</td><td>{called}</td><td>{secs} s</td><td>{media}</td></tr>"#,
            id = b.id,
            state = b.state,
            from = esc(&b.from),
            to = esc(&b.to),
            calling = esc(&b.calling),
            called = esc(&b.called),
            secs = b.seconds,
            media = b.legs.iter().map(leg_media_text).collect::<Vec<_>>().join("<br>"),
        );
    }
    h.push_str("</table>\n");
}

/// One leg's media in the call table: what we measure, then what the far end reports (RTCP).
fn leg_media_text(l: &crate::sipnet_rtcp::LegMedia) -> String {
    use crate::sipnet_rtcp::LegMedia;
    match l {
        LegMedia::Sip(m) => {
            let mut t = format!(
                "SIP {} {} ms to {} · rx {} tx {} · loss {:.1} % ({}) · jitter {:.1} ms",
                m.codec,
                m.ptime,
                esc(m.remote.as_deref().unwrap_or("-")),
                m.packets_received,
                m.packets_sent,
                m.loss_percent,
                m.lost,
                m.jitter_ms
            );
            if let (Some(loss), Some(jitter)) = (m.far_loss_percent, m.far_jitter_ms) {
                let _ = write!(t, " · far end: loss {loss:.1} % jitter {jitter:.1} ms");
            }
            if let Some(rtt) = m.rtt_ms {
                let _ = write!(t, " · RTT {rtt:.0} ms");
            }
            if let Some(f) = &m.fax {
                let side = match f.side {
                    crate::media_fax::FaxSide::Tdm => "TDM",
                    crate::media_fax::FaxSide::Ip => "SIP",
                };
                let ec = if f.echo_fax_mode { "echo canceller in fax mode" } else { "no echo canceller" };
                let _ = write!(
                    t,
                    " · fax {} on the {side} side: {ec}, jitter buffer fixed {} ms, re-INVITE {}",
                    f.tone, f.jitter_ms, f.reinvite
                );
            }
            t
        }
        LegMedia::Isdn { span, channel, erle_db } => {
            let ch = channel.map_or_else(|| "-".to_owned(), |c| c.to_string());
            let erle = erle_db.map_or_else(|| "no echo canceller".to_owned(), |e| format!("ERLE {e:.1} dB"));
            format!("span {span} B{ch} · {erle}")
        }
    }
}

/// The status page of `GET /`: readable at a glance, refreshing itself every two seconds.
pub fn to_html(s: &Snapshot) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let title = format!("spangate — {}", esc(&s.board.name));
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5em;background:#f6f7f9;color:#1d2330}}
h1{{font-size:1.4em;margin:0 0 .2em}} .sub{{color:#5b6474;margin-bottom:1em}}
.facts span{{display:inline-block;margin-right:1.6em}} .facts b{{font-weight:600}}
.spans{{display:flex;flex-wrap:wrap;gap:1em;margin-top:1em}}
.span{{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:.8em 1em;min-width:22em;border-top:8px solid #999}}
.span.ok{{border-top-color:#2e9d4f}} .span.red{{border-top-color:#d93025}} .span.yellow{{border-top-color:#f2b600}}
.span.blue{{border-top-color:#1a73e8}} .span.loop{{border-top-color:#8e44ad}}
.span h2{{font-size:1.1em;margin:0 0 .3em}} .badge{{font-weight:700;padding:.1em .5em;border-radius:4px;color:#fff}}
.badge.ok{{background:#2e9d4f}} .badge.red{{background:#d93025}} .badge.yellow{{background:#f2b600;color:#222}}
.badge.blue{{background:#1a73e8}} .badge.loop{{background:#8e44ad}}
.clock{{font-size:.8em;background:#1d2330;color:#fff;padding:.1em .4em;border-radius:4px;margin-left:.4em}}
table.kv td{{padding:0 .8em 0 0;font-size:.9em}} table.kv td:first-child{{color:#5b6474}}
.grid{{display:grid;grid-template-columns:repeat(16,1.6em);gap:2px;margin-top:.5em}}
.ch{{font-size:.65em;text-align:center;line-height:1.9em;border-radius:3px;color:#fff}}
.ch.idle{{background:#9aa5b1}} .ch.busy{{background:#2e9d4f}} .ch.alarm{{background:#d93025}} .ch.d{{background:#1d2330}}
.legend span{{margin-right:1em;font-size:.8em}}
.isdn{{font-size:.85em;margin-top:.4em;padding:.3em .5em;background:#eef1f5;border-radius:4px}}
.l2.up{{color:#2e9d4f;font-weight:600}} .l2.down{{color:#d93025;font-weight:600}}
</style></head><body>
<h1>{title}</h1>
<div class="sub">{desc}</div>
<div class="facts"><span>Model <b>{model}</b></span><span>Backend <b>{backend}</b></span>
<span>Clock source <b id="clock-source">{clock}</b></span><span>Spans up <b>{up}/{n}</b></span>
<span>Uptime <b>{uptime}</b></span><span>Version <b>{version}</b></span>
<span>Tick p99 <b>{p99} µs</b></span><span>Late ticks <b>{late}</b></span></div>
<div class="spans">
"#,
        desc = esc(&s.board.description),
        model = esc(&s.board.model),
        backend = esc(&s.board.backend),
        clock = esc(&s.clock_source),
        up = s.spans_up(),
        n = s.spans.len(),
        uptime = uptime_text(s.uptime_s),
        version = s.version,
        p99 = s.media.lateness_p99_us,
        late = s.media.late_ticks,
    );
    for sp in &s.spans {
        let class = alarm_class(sp);
        let clock = if sp.clock_master { r#"<span class="clock">CLOCK</span>"# } else { "" };
        let _ = write!(
            h,
            r#"<div class="span {class}" id="span-{n}" data-alarm="{alarm}">
<h2>Span {n}: {name} <span class="badge {class}">{alarm}</span>{clock}</h2>
<table class="kv">
<tr><td>Line</td><td>{kind} {term} · {framing}/{coding}{crc} · {law} · timing {timing}</td></tr>
<tr><td>Signalling</td><td>{sig} · {sw}</td></tr>
<tr><td>Plugged into</td><td>{line}</td></tr>
<tr><td>Slips / CRC errors</td><td>{slips} / {crcs}</td></tr>
<tr><td>HDLC rx / tx / FCS / aborts</td><td>{rx} / {tx} / {fcs} / {aborts}</td></tr>
<tr><td>Late ticks</td><td>{late}</td></tr>
</table>
"#,
            n = sp.span,
            name = esc(&sp.name),
            alarm = esc(&sp.alarm_text),
            kind = esc(&sp.kind),
            term = esc(&sp.termination.to_uppercase()),
            framing = esc(&sp.framing.to_uppercase()),
            coding = esc(&sp.coding.to_uppercase()),
            crc = if sp.crc4 { "/CRC4" } else { "" },
            law = esc(&sp.law),
            timing = sp.timing,
            sig = esc(&sp.signalling),
            sw = esc(&sp.switchtype),
            line = esc(&sp.line),
            slips = sp.counters.slips,
            crcs = sp.counters.crc_errors,
            rx = sp.counters.hdlc_rx_frames,
            tx = sp.counters.hdlc_tx_frames,
            fcs = sp.counters.fcs_errors,
            aborts = sp.counters.hdlc_aborts,
            late = sp.counters.late_ticks,
        );
        if let Some(k) = &sp.kernel {
            crate::status_kernel::html(&mut h, sp.span, k);
        }
        if let Some(isdn) = &sp.isdn {
            isdn_html(&mut h, sp.span, isdn);
        }
        h.push_str(r#"<div class="grid">"#);
        for ch in &sp.channels {
            let cls = if ch.role == "D" { "d" } else { ch.state };
            let label = if ch.role == "D" { "D".to_string() } else { ch.ts.to_string() };
            let echo = ch.echo.map_or(String::new(), |e| {
                format!(
                    "; echo canceller: ERLE {:.1} dB, ERL {:.1} dB{}{}{}",
                    e.erle_db,
                    e.erl_db,
                    if e.converged { ", converged" } else { ", converging" },
                    if e.double_talk { ", double talk" } else { "" },
                    match (e.fax_mode, e.bypassed) {
                        (true, _) => ", fax mode (bypassed)",
                        (false, true) => ", bypassed (tone)",
                        (false, false) => "",
                    }
                )
            });
            let _ = write!(
                h,
                r#"<div class="ch {cls}" title="timeslot {ts}: {role} {state}{echo}">{label}</div>"#,
                ts = ch.ts,
                role = ch.role,
                state = ch.state
            );
        }
        h.push_str("</div></div>\n");
    }
    h.push_str("</div>\n");
    switch_table(&mut h, &s.switch);
    crate::ha::page::html(&mut h, s.ha.as_ref());
    crate::config_state::html(&mut h, s.config.as_ref());
    h.push_str(
        r#"<p class="legend"><span style="color:#9aa5b1">■ idle</span><span style="color:#2e9d4f">■ busy</span><span style="color:#d93025">■ alarm</span><span>■ D-channel</span>
· <a href="/api/v1/status">JSON</a> · <a href="/metrics">metrics</a></p>
</body></html>
"#,
    );
    h
}

/// The ISDN block of a span card: layer 1, each data link with its TEI and state, and the
/// D-channel counters an operator checks first when a line misbehaves.
fn isdn_html(h: &mut String, span: u32, i: &IsdnSnap) {
    let _ = write!(
        h,
        r#"<div class="isdn" id="isdn-{span}" data-layer2="{l2}"><b>ISDN</b> {role} {mode} · layer 1 {l1}<br>"#,
        l2 = if i.layer2_up { "up" } else { "down" },
        role = i.role,
        mode = i.mode,
        l1 = i.layer1,
    );
    if i.links.is_empty() {
        h.push_str("layer 2: no TEI assigned<br>");
    }
    for l in &i.links {
        let tei = l.tei.map_or_else(|| "none".to_string(), |t| t.to_string());
        let class = if l.established { "up" } else { "down" };
        let _ = write!(h, r#"TEI {tei}: <span class="l2 {class}">{}</span><br>"#, esc(&l.state));
    }
    let c = &i.counters;
    let _ = writeln!(
        h,
        "I frames tx/rx {}/{} · retransmitted {} · REJ tx/rx {}/{} · MDL errors {}</div>",
        c.i_frames_sent, c.i_frames_received, c.retransmissions, c.rej_sent, c.rej_received, c.mdl_errors
    );
    for c in &i.calls {
        let chan = c.channel.map_or_else(|| "-".to_string(), |n| n.to_string());
        let _ = writeln!(
            h,
            r#"<div class="call" data-call="{id}">call {id} {dir} {calling} &rarr; {called} · B {chan} · {state}</div>"#,
            id = c.id,
            dir = c.direction,
            calling = esc(&c.calling),
            called = esc(&c.called),
            state = c.state,
        );
    }
}

/// Prometheus text exposition of `GET /metrics`.
pub fn to_metrics(s: &Snapshot) -> String {
    let mut m = String::with_capacity(8 * 1024);
    let mut family = |name: &str, kind: &str, help: &str, rows: &mut dyn Iterator<Item = (String, String)>| {
        let _ = writeln!(m, "# HELP {name} {help}");
        let _ = writeln!(m, "# TYPE {name} {kind}");
        for (labels, value) in rows {
            if labels.is_empty() {
                let _ = writeln!(m, "{name} {value}");
            } else {
                let _ = writeln!(m, "{name}{{{labels}}} {value}");
            }
        }
    };
    let span_label = |sp: &SpanSnap| format!("span=\"{}\",name=\"{}\"", sp.span, sp.name.replace('"', "'"));
    family(
        "spangate_build_info",
        "gauge",
        "Version of the running daemon.",
        &mut std::iter::once((format!("version=\"{}\",model=\"{}\"", s.version, s.board.model), "1".into())),
    );
    family(
        "spangate_uptime_seconds",
        "gauge",
        "Seconds since the daemon started.",
        &mut std::iter::once((String::new(), s.uptime_s.to_string())),
    );
    family(
        "spangate_span_up",
        "gauge",
        "1 when the span has no alarm.",
        &mut s.spans.iter().map(|sp| (span_label(sp), u8::from(sp.up).to_string())),
    );
    family(
        "spangate_span_alarm",
        "gauge",
        "1 while the span is in this alarm.",
        &mut s.spans.iter().flat_map(|sp| {
            [
                ("red", sp.alarms.red),
                ("yellow", sp.alarms.yellow),
                ("blue", sp.alarms.blue),
                ("loopback", sp.alarms.loopback),
            ]
            .into_iter()
            .map(move |(a, on)| (format!("{},alarm=\"{a}\"", span_label(sp)), u8::from(on).to_string()))
        }),
    );
    family(
        "spangate_span_clock_master",
        "gauge",
        "1 for the span the board takes its clock from.",
        &mut s.spans.iter().map(|sp| (span_label(sp), u8::from(sp.clock_master).to_string())),
    );
    type Counter = (&'static str, &'static str, fn(&CounterSnap) -> u64);
    let counters: [Counter; 6] = [
        ("spangate_span_slips_total", "Controlled slips.", |c| c.slips),
        ("spangate_span_crc_errors_total", "CRC-4/CRC-6 errors.", |c| c.crc_errors),
        ("spangate_span_fcs_errors_total", "D-channel frames with a bad FCS.", |c| c.fcs_errors),
        ("spangate_span_hdlc_aborts_total", "D-channel frames aborted or too long.", |c| c.hdlc_aborts),
        ("spangate_span_late_ticks_total", "Ticks missed because the host woke too late.", |c| c.late_ticks),
        ("spangate_span_hdlc_rx_frames_total", "D-channel frames received.", |c| c.hdlc_rx_frames),
    ];
    for (name, help, get) in counters {
        family(name, "counter", help, &mut s.spans.iter().map(|sp| (span_label(sp), get(&sp.counters).to_string())));
    }
    family(
        "spangate_span_channels_in_use",
        "gauge",
        "Bearer channels busy.",
        &mut s.spans.iter().map(|sp| {
            let busy = sp.channels.iter().filter(|c| c.state == "busy").count();
            (span_label(sp), busy.to_string())
        }),
    );
    family(
        "spangate_span_channels",
        "gauge",
        "Bearer channels configured.",
        &mut s.spans.iter().map(|sp| {
            let n = sp.channels.iter().filter(|c| c.role == "B").count();
            (span_label(sp), n.to_string())
        }),
    );
    let echo = || {
        s.spans.iter().flat_map(move |sp| {
            sp.channels.iter().filter_map(move |c| c.echo.map(|e| (format!("span=\"{}\",ts=\"{}\"", sp.span, c.ts), e)))
        })
    };
    family(
        "spangate_echo_erle_db",
        "gauge",
        "Echo return loss enhancement of the canceller of each busy channel, in dB.",
        &mut echo().map(|(l, e)| (l, format!("{:.1}", e.erle_db))),
    );
    family(
        "spangate_echo_erl_db",
        "gauge",
        "Echo return loss seen by the canceller of each busy channel, in dB.",
        &mut echo().map(|(l, e)| (l, format!("{:.1}", e.erl_db))),
    );
    let isdn = || s.spans.iter().filter_map(|sp| sp.isdn.as_ref().map(|i| (sp, i)));
    family(
        "spangate_isdn_layer1_up",
        "gauge",
        "1 while layer 1 under the span's D-channel is activated.",
        &mut isdn().map(|(sp, i)| (span_label(sp), u8::from(i.layer1 == "ACTIVATED").to_string())),
    );
    family(
        "spangate_isdn_layer2_up",
        "gauge",
        "1 while the data link of this TEI is in multiple-frame operation.",
        &mut isdn().flat_map(|(sp, i)| {
            i.links.iter().map(move |l| {
                let tei = l.tei.map_or_else(|| "none".to_string(), |t| t.to_string());
                (format!("{},tei=\"{tei}\"", span_label(sp)), u8::from(l.established).to_string())
            })
        }),
    );
    family(
        "spangate_isdn_calls",
        "gauge",
        "Q.931 calls in progress on the span's D-channel.",
        &mut isdn().map(|(sp, i)| (span_label(sp), i.calls.len().to_string())),
    );
    type Dcounter = (&'static str, &'static str, fn(&DchanCounterSnap) -> u64);
    let dcounters: [Dcounter; 10] = [
        ("spangate_isdn_frames_sent_total", "Q.921 frames sent.", |c| c.frames_sent),
        ("spangate_isdn_frames_received_total", "Q.921 frames received.", |c| c.frames_received),
        ("spangate_isdn_frames_discarded_total", "Invalid Q.921 frames discarded.", |c| c.frames_discarded),
        ("spangate_isdn_i_frames_sent_total", "I frames sent.", |c| c.i_frames_sent),
        ("spangate_isdn_i_frames_received_total", "I frames received.", |c| c.i_frames_received),
        ("spangate_isdn_retransmissions_total", "I frames sent again.", |c| c.retransmissions),
        ("spangate_isdn_rej_sent_total", "REJ frames sent.", |c| c.rej_sent),
        ("spangate_isdn_rej_received_total", "REJ frames received.", |c| c.rej_received),
        ("spangate_isdn_mdl_errors_total", "MDL-ERROR indications.", |c| c.mdl_errors),
        ("spangate_isdn_l3_messages_total", "Layer 3 messages received.", |c| c.l3_messages),
    ];
    for (name, help, get) in dcounters {
        family(name, "counter", help, &mut isdn().map(|(sp, i)| (span_label(sp), get(&i.counters).to_string())));
    }
    family(
        "spangate_switch_calls",
        "gauge",
        "Calls through the gateway now.",
        &mut std::iter::once((String::new(), s.switch.calls.len().to_string())),
    );
    type Scounter = (&'static str, &'static str, fn(&crate::switch::SwitchCounters) -> u64);
    let scounters: [Scounter; 4] = [
        ("spangate_switch_offered_total", "Incoming calls offered to the switch.", |c| c.offered),
        ("spangate_switch_answered_total", "Calls through the gateway answered.", |c| c.answered),
        ("spangate_switch_no_route_total", "Calls refused because no route matched.", |c| c.no_route),
        ("spangate_switch_fall_overs_total", "Outgoing legs retried on the next route.", |c| c.fall_overs),
    ];
    for (name, help, get) in scounters {
        family(name, "counter", help, &mut std::iter::once((String::new(), get(&s.switch.counters).to_string())));
    }
    if let Some(sip) = &s.sip {
        type Rcounter = (&'static str, &'static str, fn(&crate::sipnet_rtcp::RtcpCounters) -> u64);
        let rcounters: [Rcounter; 4] = [
            ("spangate_rtcp_sent_total", "RTCP compound packets sent on SIP legs.", |c| c.rtcp_sent),
            ("spangate_rtcp_received_total", "RTCP compound packets received on SIP legs.", |c| c.rtcp_received),
            ("spangate_rtcp_malformed_total", "Received RTCP packets that failed to parse.", |c| c.rtcp_malformed),
            ("spangate_rtp_lost_total", "RTP packets lost on the way to us (RFC 3550 A.3).", |c| c.rtp_lost),
        ];
        for (name, help, get) in rcounters {
            family(name, "counter", help, &mut std::iter::once((String::new(), get(&sip.rtcp).to_string())));
        }
        type Fcounter = (&'static str, &'static str, fn(&crate::sipnet_fax::FaxCounters) -> u64);
        let fcounters: [Fcounter; 5] = [
            ("spangate_fax_detected_total", "Fax tones heard on SIP legs' calls (one per call).", |c| c.detected),
            ("spangate_fax_reinvites_sent_total", "re-INVITEs to PCMA sent for fax, retries included.", |c| {
                c.reinvites_sent
            }),
            ("spangate_fax_reinvite_glare_total", "Fax re-INVITEs answered 491 (glare) and retried.", |c| c.glare),
            ("spangate_fax_reinvite_accepted_total", "Fax re-INVITEs accepted with PCMA.", |c| c.accepted),
            ("spangate_fax_reinvite_failed_total", "Fax re-INVITEs given up (the call kept).", |c| c.failed),
        ];
        for (name, help, get) in fcounters {
            family(name, "counter", help, &mut std::iter::once((String::new(), get(&sip.fax).to_string())));
        }
        // A process-wide count the event loop keeps where it builds legs (no per-leg snapshot needed).
        family(
            "spangate_g729_tc400b_fallbacks_total",
            "counter",
            "G.729 legs coded in software because the TC400B had no channel (transcoding = \"hardware\").",
            &mut std::iter::once((String::new(), crate::media_codec::hw_fallbacks().to_string())),
        );
        family(
            "spangate_g729_tc400b_errors_total",
            "counter",
            "TC400B frame writes or reads that failed, frames it refused and output dropped for want of room, all legs.",
            &mut std::iter::once((String::new(), crate::media_codec::hw_errors().to_string())),
        );
    }
    family(
        "spangate_clock_source_span",
        "gauge",
        "Span number the board takes its clock from; 0 for the internal oscillator.",
        &mut std::iter::once((String::new(), s.clock_source_span.unwrap_or(0).to_string())),
    );
    family(
        "spangate_media_ticks_total",
        "counter",
        "Media thread ticks run.",
        &mut std::iter::once((String::new(), s.media.ticks.to_string())),
    );
    family(
        "spangate_media_late_ticks_total",
        "counter",
        "Media deadlines missed.",
        &mut std::iter::once((String::new(), s.media.late_ticks.to_string())),
    );
    family(
        "spangate_media_tick_lateness_seconds",
        "gauge",
        "Wake-up lateness of the media thread since start.",
        &mut [("0.5", s.media.lateness_p50_us), ("0.99", s.media.lateness_p99_us), ("1", s.media.lateness_max_us)]
            .into_iter()
            .map(|(q, us)| (format!("quantile=\"{q}\""), format!("{:.6}", f64::from(us) / 1e6))),
    );
    let kernel = s.spans.iter().filter_map(|sp| sp.kernel.as_ref().map(|k| (span_label(sp), k)));
    if kernel.clone().next().is_some() {
        for (name, help, rows) in crate::status_kernel::metric_rows(kernel) {
            let kind = if name.ends_with("_total") { "counter" } else { "gauge" };
            family(name, kind, help, &mut rows.into_iter());
        }
    }
    crate::ha::page::metrics(&mut m, s.ha.as_ref());
    crate::config_state::metrics(&mut m, s.config.as_ref());
    m
}

#[cfg(test)]
mod tests;
