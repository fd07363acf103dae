//! spangate's configuration: the board file model and its validation, every problem at once.
//!
//! [`load_file`] and [`parse_str`] read a TOML board file and either return a [`Config`] that
//! passed every rule, or [`Diagnostics`]: every problem found, sorted by position, each as
//! `file:line:col: field: message` (field is a dotted path such as `board.span[1].dchan`, where
//! `[N]` is the 0-based index in the array). Nothing is partially applied: one problem anywhere
//! means no config.
//!
//! Architecture invariant: this crate does no I/O beyond reading the one file in [`load_file`].
//!
//! # The file format
//!
//! Every key is optional unless marked *required*; defaults are shown where they matter. The same
//! reference, with the shipped boards, is in `board-configs/README.md`.
//!
//! ```toml
//! [board]
//! name = "sim-e1x2"          # free text shown on the status page (default: the model)
//! model = "sim-e1x2"         # required. Real boards: te205p | te420 | b410p | tdm410p | tc400b;
//!                            # simulated boards: any name (sim-e1x2, sim-bri4, sim-analog4, ...)
//! backend = "sim"            # sim | dahdi (default sim)
//! description = "Two simulated E1 spans"
//! tonezone = "fr"            # a DAHDI tone zone (us, fr, de, uk, ...; reference/dahdi.md §3); default us
//! # Real boards only (backend = "dahdi"), where kernel_module is required:
//! # kernel_module = "wct4xxp"                                        # the DAHDI driver of the card
//! # block_ms = 10                                                    # DAHDI kernel block in ms, 2..=32 (the media period)
//! # firmware = ["dahdi-fw-oct6114-064.bin"]                          # only files that driver asks for
//! # module_options = { default_linemode = "e1", vpmsupport = "1" }   # or [board.module_options]
//! # transcoding = "software"                                         # software | hardware: G.729 legs on a TC400B
//!                                                                    # (/dev/dahdi/transcode; start refused without one)
//!
//! # [board.transcoder]       # model tc400b only
//! # channels = 92            # 1..=120; at most 92 unless mode = "g729" (default: the mode's maximum)
//! # mode = "any"             # g729 | g723.1 | any; must agree with module_options.mode
//!
//! [[board.span]]
//! span = 1                   # required, 1..=128, unique; on a real board at most its port count
//! name = "provider"          # default "span N"
//! kind = "e1"                # required: e1 | t1 | bri | fxs | fxo
//! framing = "ccs"            # E1: ccs | cas; T1: esf | d4; BRI: ccs; not on analog ports
//! coding = "hdb3"            # E1: hdb3 | ami; T1: b8zs | ami; BRI: ami; not on analog ports
//! crc4 = true                # E1 only (default true on E1)
//! timing = 1                 # clock source priority 0..=255, 0 = never; unique when not 0; 0 on analog
//! termination = "te"         # te | nt; default nt with *_net signalling, else te; analog ports: te
//! law = "alaw"               # alaw | mulaw (default mulaw on T1, else alaw)
//! lbo = 0                    # line build-out 0..=7, non-zero on T1 only
//! bchan = "1-15,17-31"       # N or A-B items, comma separated, inside the kind's channels
//!                            # (E1 1-31, T1 1-24, BRI 1-3, analog 1), no repeats, not the D-channel;
//!                            # default: all of them but the D-channel (and TS16 on E1 CAS)
//! dchan = 16                 # ISDN only; default 16 (E1), 24 (T1), 3 (BRI, where it is always 3)
//! signalling = "pri_cpe"     # pri_cpe | pri_net (E1/T1); bri_cpe | bri_net | bri_cpe_ptmp |
//!                            # bri_net_ptmp (BRI); fxo_ks | fxo_ls | fxo_gs (FXS ports);
//!                            # fxs_ks | fxs_ls | fxs_gs (FXO ports); cas (E1 with framing cas); none.
//!                            # Default: what dahdi_genconf picks (pri_cpe on an E1 TE span, ...).
//!                            # *_cpe needs termination te, *_net termination nt.
//! switchtype = "euroisdn"    # ISDN only: euroisdn | national | ni1 | dms100 | 4ess | 5ess | qsig
//!                            # (default national on T1, else euroisdn)
//! overlapdial = "no"         # ISDN only: no | incoming | outgoing | both
//! layer1_presence = "required"     # ISDN only: required | ignore
//! layer2_persistence = "keep_up"   # ISDN only: default | keep_up | leave_down
//! incoming = "ring"          # ISDN only, until routing: ring | answer | reject:CAUSE (1..=127)
//! tonezone = "fr"            # call-progress tones played on this span (default: the board's)
//! group = [0, 11]            # an integer or an array of them, each 0..=63
//! context = "from-provider"  # default "default"
//! echo = { mode = "software", taps = 128 }   # mode off | software | hardware;
//!                                            # taps a power of two in 32..=1024 (8 taps = 1 ms);
//!                                            # nlp = false turns the non-linear processor off
//!                                            # (default on)
//! timers = { t309_ms = 6000 }  # ISDN only: Q.931 timers in ms (chan_dahdi's pritimer), each
//!                            # 100..=3600000: t301_ms t302_ms t303_ms t305_ms t308_ms t309_ms
//!                            # t310_ms t313_ms t316_ms; unset ones keep Q.931's defaults
//!
//! [board.span.sim]           # backend = "sim" only; a simulated span without it is "open"
//! line = "provider"          # provider | pbx (E1/T1/BRI) | phone (FXS) | exchange (FXO) | open
//!                            # | span:N (another span of this board, which names this one back)
//!                            # | listen:/path | connect:/path (a span in another process)
//!                            # | dchan:/path (the D-channel only, in libpri's framing)
//! drift_ppm = 0.0            # -500..=500; provider, pbx, phone and exchange lines only
//! echo_path = { delay_ms = 20, erl_db = 10 }  # the far end's hybrid returns this echo (delay
//!                            # 0..=500 ms, ERL 0..=60 dB); provider, pbx, phone, exchange only
//!
//! [board.span.sim.fault]     # or fault = { ... } in [board.span.sim]; all default to 0
//! seed = 1                   # 0..=2^63-1
//! frame_loss = 0.0           # probability 0..=1
//! bit_error_rate = 0.0       # probability 0..=1
//! slips_per_s = 0.0          # 0..=1000
//! los_bursts_per_s = 0.0     # 0..=1000
//! los_burst_ms = 50          # 0..=60000
//!
//! [sip]                      # no SIP at all without listen
//! listen = "0.0.0.0:5060"    # "ADDR:PORT" (UDP and TCP), "udp:ADDR:PORT", "tcp:ADDR:PORT", or an array
//! rtp_ports = "10000-20000"  # RTP on even ports, RTCP on the next; from 1024 up, starting even
//! user_agent = "spangate"    # the User-Agent and Server headers
//! ptime = 20                 # ms, 10..=120 in steps of 10; a trunk may say otherwise
//! dtmf = "rfc4733"           # rfc4733 | info | inband; a trunk may say otherwise
//! jitter_buffer = { min_ms = 20, max_ms = 200 }  # adaptive; or { fixed_ms = 60 }; 0..=1000 ms
//!
//! [[sip.trunk]]
//! name = "pbx"               # required, unique, no spaces or ':'
//! host = "192.0.2.10"        # required: an IP address, or a host name resolved (A/AAAA) at start
//! port = 5060                # 1..=65535 (default 5060)
//! transport = "udp"          # udp | tcp (default udp); tcp needs TCP in [sip] listen
//! codecs = ["pcma", "pcmu", "telephone-event"]   # in preference order: pcma | pcmu | g722 | g729 |
//!                            # telephone-event (the default is this list)
//! # ptime = 20               # default: [sip] ptime
//! # dtmf = "rfc4733"         # default: [sip] dtmf
//! # ringback = "none"        # none: 180, the phone rings itself | local: 183 with our SDP and the
//! #                          # zone's ringback in the RTP, when the ISDN callee alerts without tones
//! # register = { user = "gw", password = "secret", domain = "pbx.example.net", expires = 3600 }
//! #                          # register to the peer; domain defaults to host, expires 60..=86400
//! # auth = { realm = "spangate", user = "pbx", password = "secret" }   # the peer must authenticate
//! trust = ["192.0.2.10"]     # addresses or networks ("198.51.100.0/24") taken without authentication
//! keepalive_secs = 0         # OPTIONS every N s marks the trunk up or down; 0 = off (0..=3600)
//! # max_calls = 30           # simultaneous calls, 1..=100000; default no limit
//!
//! [[route]]                  # tried in file order: the first that matches takes the call
//! name = "in"                # unique; default "route N"
//! from = "span:1"            # span:N | group:N | trunk:NAME | any, or an array of them (default any)
//! called = ""                # a prefix ("0033"; "" matches every number) or an Asterisk pattern:
//!                            # "_0[1-9]XXXXXXXX", "_00." (X 0-9, Z 1-9, N 2-9, [1-5,7], . one or
//!                            # more, ! zero or more and route at once)
//! # calling = "_06."         # the calling number must match this prefix or pattern
//! strip = 0                  # leading digits removed from the called number, 0..=32
//! prepend = ""               # digits put in front after stripping
//! # called_ton = "national"  # unknown | international | national | network_specific |
//!                            # subscriber | abbreviated (default: as received)
//! # called_npi = "isdn"      # unknown | isdn | data | telex | national | private (default: as received)
//! # calling_strip = 0        # the same for the calling number: calling_strip, calling_prepend,
//! # calling_prepend = ""     # calling_ton, calling_npi,
//! # calling_set = "0147200000"   # or replace it (not with calling_strip/calling_prepend)
//! calling_hide = false       # true: presentation restricted
//! to = "trunk:pbx"           # required: span:N | group:N | trunk:NAME; must exist
//! # hunt = "g"               # spans and groups: g lowest first | G highest first |
//!                            # r round robin up | R round robin down (default g)
//!
//! [ha]
//! role = "disabled"          # disabled | master | slave; master and slave need peer
//! # peer = "192.0.2.2:5070"  # the other appliance, an IP address and a non-zero port
//! interval_ms = 200          # heartbeat period, 10..=10000
//! misses = 5                 # heartbeats missed before failover, 1..=100
//!
//! [http]
//! enabled = true
//! listen = "127.0.0.1:8080"  # an IP address and port; port 0 picks a free one
//!
//! [log]
//! level = "info"             # error | warn | info | debug | trace
//! ```
//!
//! An ISDN span may also say `pcap = "/var/tmp/span1.pcap"` in its `[[board.span]]` table: the
//! daemon then writes the span's D-channel, both directions, to that file as a pcap of link type
//! 177 (LINUX_LAPD) for Wireshark and tshark. Each span needs its own file.
//!
//! Until call routing exists, an ISDN span's `incoming` key says what happens to an incoming call:
//! `"ring"` (the default: CALL PROCEEDING, ALERTING, then wait), `"answer"` (connect at once) or
//! `"reject:N"` (clear with Q.850 cause N, 1..=127). The simulated provider or PBX facing a span
//! always answers.
//!
//! # The rules
//!
//! Beyond keys, types and ranges: framing, coding, CRC-4, LBO and termination must fit the span's
//! kind; the signalling must fit the port (`pri_*` on E1/T1, `bri_*` on BRI, `fxo_*` on FXS
//! ports, `fxs_*` on FXO ports, `cas` on E1 with framing cas), its side must match the
//! termination when both are given, and ISDN needs a D-channel; channel lists must parse, stay in
//! the kind's channel range, name no channel twice and not include the D-channel; span numbers and
//! non-zero timing priorities are unique; simulated cables (`span:N`) must name an existing other
//! span that names this one back (or is open), of a kind that fits, with opposite ISDN sides; a
//! `dahdi` board needs its kernel module, gets only the firmware its driver asks for and only its
//! driver's module options; routes may only name spans, groups and trunks that exist.
#![forbid(unsafe_code)]

mod board_rules;
mod boards;
mod chanlist;
mod diag;
mod ha_cfg;
mod model;
mod parse;
mod pattern;
mod reader;
pub mod replica;
mod route_cfg;
mod sip_cfg;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use boards::{MODULES as KERNEL_MODULES, TONEZONES as TONE_ZONES};
pub use diag::{Diagnostic, Diagnostics};
pub use ha_cfg::http_url_addr;
pub use model::IsdnTimers;
pub use model::{
    Backend, Board, Config, Echo, EchoMode, Ha, HaBerofos, HaRole, HaScenario, Http, Incoming, Layer1Presence,
    Layer2Persistence, Log, OverlapDial, Route, Signalling, SimSpan, Sip, SpanCfg, SwitchType, Transcoder, Transcoding,
    Trunk, UnknownName,
};
pub use model::{
    Codec, Dtmf, Endpoint, HuntMode, InboundAuth, IpNet, JitterBuffer, Npi, Register, Ringback, SipListen, Ton,
    Transport,
};
pub use pattern::{Fit, NumberMatch, PatternError};

/// Reads and checks the config file at `path`. A file that cannot be read gives one diagnostic.
pub fn load_file(path: &Path) -> Result<Config, Diagnostics> {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => parse_str(&name, &text),
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes());
                let mut sink = diag::Sink::new(&name, &text);
                sink.error(Some(offset..offset + 1), "file", "the file is not valid UTF-8 text");
                Err(sink.finish())
            }
        },
        Err(e) => Err(Diagnostics(vec![Diagnostic {
            file: name,
            line: 1,
            col: 1,
            field: "file".into(),
            message: format!("cannot read the config file: {e}"),
        }])),
    }
}

/// Checks config `text`, reporting problems under the name `file_name`.
pub fn parse_str(file_name: &str, text: &str) -> Result<Config, Diagnostics> {
    let mut sink = diag::Sink::new(file_name, text);
    let doc = match toml_edit::ImDocument::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            sink.error(e.span(), "toml", format!("TOML syntax error: {}", e.message()));
            return Err(sink.finish());
        }
    };
    let draft = parse::read(&mut sink, doc.as_table());
    match validate::finish(&mut sink, file_name, draft) {
        Some(cfg) if !sink.has_errors() => Ok(cfg),
        _ => {
            let d = sink.finish();
            if d.is_empty() {
                // Every path that refuses a config reports why; this is a guard, not a rule.
                Err(Diagnostics(vec![Diagnostic {
                    file: file_name.to_string(),
                    line: 1,
                    col: 1,
                    field: "board".into(),
                    message: "the config is incomplete".into(),
                }]))
            } else {
                Err(d)
            }
        }
    }
}
