//! The HTTP side: tiny-http worker threads serving published snapshots and forwarding commands to
//! the event loop over a channel plus its `Waker`.
//!
//! Architecture invariant: nothing here touches signalling or media state. Reads come from the
//! latest [`Snapshot`]; writes become [`ApiCommand`]s the event loop answers.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Sender};
use hal::sim::{FaultConfig, SimCommand};
use tiny_http::{Header, Method, Request, Response, Server};

use crate::status::{self, Snapshot};

/// The latest published state, swapped whole by the event loop.
pub type Published = Arc<RwLock<Arc<Snapshot>>>;

/// Largest request body accepted (test audio: 10 s of one channel).
const MAX_BODY: usize = 80_000;
/// Longest capture a request may ask for, in ms.
const MAX_CAPTURE_MS: u32 = 10_000;
const WORKERS: usize = 4;

/// A request for the event loop.
#[derive(Debug)]
pub enum ApiCommand {
    /// A change to the simulated lines.
    Sim(SimCommand),
    /// Send companded samples on a channel of a span (or of its simulated far end).
    Play { span: u32, far: bool, ts: u8, data: Vec<u8> },
    /// Record `ms` milliseconds from a channel of a span (or of its simulated far end); with
    /// `clean` (`clean=1`), the echo canceller's output rather than the line.
    Capture { span: u32, far: bool, ts: u8, ms: u32, clean: bool },
    /// A call request on an ISDN span's call control (or on its simulated far end's).
    Call { span: u32, far: bool, op: CallOp },
    /// HA manual switchover (`POST /api/v1/ha/switchover`).
    HaSwitchover,
    /// Re-read and apply the config file (`POST /api/v1/config/reload`, as `SIGHUP`).
    ConfigReload,
    /// A config replicated by the HA master (`POST /api/v1/ha/config`), with its
    /// `X-Spangate-Hmac` tag.
    ConfigPush { body: Vec<u8>, tag: Option<String> },
    /// Test hook: stall the media thread `ms` (`POST /api/v1/test/media/stall?ms=N`); refused
    /// unless the daemon runs with `--test-hooks`.
    StallMedia { ms: u32 },
}

/// What to do with calls on an ISDN span.
#[derive(Debug, PartialEq, Eq)]
pub enum CallOp {
    /// SETUP, speech; en bloc (sending complete) unless `complete` is false.
    Place { called: String, calling: String, complete: bool },
    /// INFORMATION with more digits of an outgoing call's number (overlap sending).
    Info { id: u32, digits: String, complete: bool },
    /// CONNECT an incoming call.
    Answer(u32),
    /// DISCONNECT (or RELEASE once the peer disconnected) with a Q.850 cause.
    Hangup { id: u32, cause: u8 },
    /// RESTART of one B-channel, or of the whole interface.
    Restart { channel: Option<u8> },
}

/// The event loop's answer.
#[derive(Debug)]
pub enum ApiReply {
    /// Done; a short JSON body.
    Ok(String),
    /// Raw audio.
    Audio(Vec<u8>),
    /// Refused: HTTP status and message.
    Err(u16, String),
}

/// A command with the channel its answer goes back on.
#[derive(Debug)]
pub struct ApiRequest {
    pub cmd: ApiCommand,
    pub reply: Sender<ApiReply>,
}

/// The running HTTP server.
pub struct HttpServer {
    server: Arc<Server>,
    workers: Vec<JoinHandle<()>>,
    pub addr: SocketAddr,
}

impl HttpServer {
    /// Binds `listen` and starts the workers.
    pub fn start(
        listen: SocketAddr,
        published: Published,
        commands: Sender<ApiRequest>,
        waker: Arc<mio::Waker>,
    ) -> Result<HttpServer, String> {
        let server = Server::http(listen).map_err(|e| format!("HTTP server on {listen}: {e}"))?;
        let addr = server.server_addr().to_ip().unwrap_or(listen);
        let server = Arc::new(server);
        let mut workers = Vec::new();
        for i in 0..WORKERS {
            let (server, published, commands, waker) =
                (Arc::clone(&server), Arc::clone(&published), commands.clone(), Arc::clone(&waker));
            let h = std::thread::Builder::new()
                .name(format!("http-{i}"))
                .spawn(move || {
                    for req in server.incoming_requests() {
                        handle(req, &published, &commands, &waker);
                    }
                })
                .map_err(|e| format!("start HTTP worker: {e}"))?;
            workers.push(h);
        }
        Ok(HttpServer { server, workers, addr })
    }

    /// Stops accepting and joins the workers.
    pub fn stop(self) {
        for _ in &self.workers {
            self.server.unblock();
        }
        for w in self.workers {
            let _ = w.join();
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("static header is valid")
}

fn respond(req: Request, status: u16, content_type: &str, body: Vec<u8>) {
    let resp = Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"));
    // The client may have gone away; there is nobody to tell.
    let _ = req.respond(resp);
}

fn json_error(req: Request, status: u16, msg: &str) {
    let body = serde_json::json!({ "error": msg }).to_string();
    respond(req, status, "application/json", body.into_bytes());
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then_some(v)
    })
}

fn handle(mut req: Request, published: &Published, commands: &Sender<ApiRequest>, waker: &mio::Waker) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let method = req.method().clone();
    let snap = published.read().map(|g| Arc::clone(&g)).unwrap_or_default();
    match (&method, path) {
        (Method::Get, "/") | (Method::Get, "/index.html") => {
            respond(req, 200, "text/html; charset=utf-8", status::to_html(&snap).into_bytes());
        }
        (Method::Get, "/api/v1/status") => {
            respond(req, 200, "application/json", status::to_json(&snap).into_bytes());
        }
        (Method::Get, "/api/v1/ha") => {
            let body = crate::ha::page::probe_json(snap.ha.as_ref(), std::time::Instant::now());
            respond(req, 200, "application/json", body.into_bytes());
        }
        (Method::Get, "/metrics") => {
            respond(req, 200, "text/plain; version=0.0.4", status::to_metrics(&snap).into_bytes());
        }
        (Method::Post, p) if p.starts_with("/api/v1/") => {
            let mut body = Vec::new();
            let limited = req.as_reader().take(MAX_BODY as u64 + 1).read_to_end(&mut body);
            if limited.is_err() {
                return json_error(req, 400, "could not read the request body");
            }
            if body.len() > MAX_BODY {
                return json_error(req, 413, "request body too large");
            }
            if p == crate::ha::replica::PATH {
                let tag = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv(crate::ha::replica::HEADER))
                    .map(|h| h.value.as_str().to_string());
                return forward(req, ApiCommand::ConfigPush { body, tag }, commands, waker);
            }
            match parse_command(p, query, body) {
                Ok(cmd) => forward(req, cmd, commands, waker),
                Err((status, msg)) => json_error(req, status, &msg),
            }
        }
        (_, "/") | (_, "/api/v1/status") | (_, "/metrics") => json_error(req, 405, "method not allowed"),
        _ => json_error(req, 404, "no such resource"),
    }
}

fn forward(req: Request, cmd: ApiCommand, commands: &Sender<ApiRequest>, waker: &mio::Waker) {
    let wait = match &cmd {
        ApiCommand::Capture { ms, .. } => Duration::from_millis(u64::from(*ms) + 3000),
        _ => Duration::from_secs(3),
    };
    let (tx, rx) = bounded(1);
    if commands.send(ApiRequest { cmd, reply: tx }).is_err() || waker.wake().is_err() {
        return json_error(req, 503, "the daemon is shutting down");
    }
    match rx.recv_timeout(wait) {
        Ok(ApiReply::Ok(body)) => respond(req, 200, "application/json", body.into_bytes()),
        Ok(ApiReply::Audio(data)) => respond(req, 200, "application/octet-stream", data),
        Ok(ApiReply::Err(status, msg)) => json_error(req, status, &msg),
        Err(_) => json_error(req, 504, "the event loop did not answer in time"),
    }
}

/// A refused request: HTTP status and message.
pub type ParseError = (u16, String);

fn bad(msg: impl Into<String>) -> ParseError {
    (400, msg.into())
}

fn number<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, ParseError> {
    s.parse().map_err(|_| bad(format!("{what} must be a number, not {s:?}")))
}

/// The call routes under `/api/v1/spans/N[/far]/`: `calls` (JSON `{"called": "1234", "calling":
/// "5678"}`, `"complete": false` for overlap sending), `calls/ID/digits?d=5[&complete=1]`,
/// `calls/ID/answer`, `calls/ID/hangup?cause=16`, `restart[?channel=N]`; `None` when `rest` is
/// none of them.
fn parse_call(rest: &[&str], query: &str, body: &[u8]) -> Option<Result<CallOp, ParseError>> {
    let id = |s: &str| number::<u32>(s, "call id");
    Some(match rest {
        ["calls"] => parse_place(body),
        ["calls", n, "answer"] => id(n).map(CallOp::Answer),
        ["calls", n, "digits"] => id(n).and_then(|id| {
            let digits = query_param(query, "d").unwrap_or("");
            if digits.is_empty() || !digits_ok(digits) {
                return Err(bad("d must be up to 32 digits (0-9, * or #)"));
            }
            let complete = query_param(query, "complete").is_some_and(|c| c == "1" || c == "true");
            Ok(CallOp::Info { id, digits: digits.to_owned(), complete })
        }),
        ["calls", n, "hangup"] => id(n).and_then(|id| {
            let cause: u8 = number(query_param(query, "cause").unwrap_or("16"), "cause")?;
            if crate::isdn::calls::valid_cause(cause) {
                Ok(CallOp::Hangup { id, cause })
            } else {
                Err(bad("cause must be a Q.850 cause value within 1..=127"))
            }
        }),
        ["restart"] => match query_param(query, "channel") {
            None => Ok(CallOp::Restart { channel: None }),
            Some(c) => number(c, "channel").map(|c| CallOp::Restart { channel: Some(c) }),
        },
        _ => return None,
    })
}

fn parse_place(body: &[u8]) -> Result<CallOp, ParseError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| bad(format!("call body is not JSON: {e}")))?;
    let field = |k: &str| -> Result<String, ParseError> {
        let s = v.get(k).and_then(|x| x.as_str()).ok_or_else(|| bad(format!("call.{k} must be a string")))?;
        if !digits_ok(s) {
            return Err(bad(format!("call.{k} must be up to 32 digits (0-9, * or #)")));
        }
        Ok(s.to_owned())
    };
    let called = field("called")?;
    let complete = match v.get("complete") {
        None => true,
        Some(c) => c.as_bool().ok_or_else(|| bad("call.complete must be true or false"))?,
    };
    // In overlap sending a SETUP may carry no digit yet (Q.931 §5.1.3: the caller dials to the
    // network's dial tone); en bloc it needs the number.
    if called.is_empty() && complete {
        return Err(bad("call.called must not be empty"));
    }
    Ok(CallOp::Place { called, calling: field("calling")?, complete })
}

/// The IA5 digits a party number carries; 32 is more than any E.164 number needs.
fn digits_ok(s: &str) -> bool {
    s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
}

/// Routes: `/api/v1/sim/spans/N/{cut,reconnect,ais,fault,drift}`,
/// `/api/v1/[sim/]spans/N[/far]/channels/TS/{play,capture}` (`capture?ms=M[&clean=1]`, `clean` for
/// the echo canceller's output) and the call routes of [`parse_call`].
pub fn parse_command(path: &str, query: &str, body: Vec<u8>) -> Result<ApiCommand, ParseError> {
    let parts: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
    match parts.as_slice() {
        ["ha", "switchover"] => return Ok(ApiCommand::HaSwitchover),
        ["config", "reload"] => return Ok(ApiCommand::ConfigReload),
        ["test", "media", "stall"] => {
            return number(query_param(query, "ms").unwrap_or(""), "ms").map(|ms| ApiCommand::StallMedia { ms });
        }
        _ => {}
    }
    let parts: &[&str] = match parts.as_slice() {
        ["sim", rest @ ..] => rest,
        rest => rest,
    };
    let span = match parts {
        ["spans", n, ..] => number::<u32>(n, "span")?,
        _ => return Err((404, "no such resource".into())),
    };
    let (far, rest) = match &parts[2..] {
        ["far", rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    if let Some(op) = parse_call(rest, query, &body) {
        return op.map(|op| ApiCommand::Call { span, far, op });
    }
    match &parts[2..] {
        ["cut"] => {
            let (rx, tx) = match query_param(query, "dir").unwrap_or("both") {
                "rx" => (true, false),
                "tx" => (false, true),
                "both" => (true, true),
                other => return Err(bad(format!("dir must be rx, tx or both, not {other:?}"))),
            };
            Ok(ApiCommand::Sim(SimCommand::Cut { span, rx, tx }))
        }
        ["reconnect"] => Ok(ApiCommand::Sim(SimCommand::Reconnect { span })),
        ["ais"] => Ok(ApiCommand::Sim(SimCommand::SendAis { span, on: on_off(query)? })),
        ["loopback"] => Ok(ApiCommand::Sim(SimCommand::Loopback { span, on: on_off(query)? })),
        ["drift"] => {
            let ppm: f64 = number(query_param(query, "ppm").unwrap_or(""), "ppm")?;
            if !(-500.0..=500.0).contains(&ppm) {
                return Err(bad("ppm must be within -500..=500"));
            }
            Ok(ApiCommand::Sim(SimCommand::SetFarDrift { span, ppm }))
        }
        ["fault"] => Ok(ApiCommand::Sim(SimCommand::SetFault { span, fault: parse_fault(&body)? })),
        ["channels", ts, op] | ["far", "channels", ts, op] => {
            let far = parts[2] == "far";
            let ts: u8 = number(ts, "channel")?;
            match *op {
                "play" if body.is_empty() => Err(bad("play needs the samples as the request body")),
                "play" => Ok(ApiCommand::Play { span, far, ts, data: body }),
                "capture" => {
                    let ms: u32 = number(query_param(query, "ms").unwrap_or("100"), "ms")?;
                    if ms == 0 || ms > MAX_CAPTURE_MS {
                        return Err(bad(format!("ms must be within 1..={MAX_CAPTURE_MS}")));
                    }
                    let clean = match query_param(query, "clean").unwrap_or("0") {
                        "0" => false,
                        "1" => true,
                        other => return Err(bad(format!("clean must be 0 or 1, not {other:?}"))),
                    };
                    Ok(ApiCommand::Capture { span, far, ts, ms, clean })
                }
                _ => Err((404, "no such resource".into())),
            }
        }
        _ => Err((404, "no such resource".into())),
    }
}

/// The `on=1|0` switch of a request (default on).
fn on_off(query: &str) -> Result<bool, ParseError> {
    match query_param(query, "on").unwrap_or("1") {
        "1" | "true" | "on" => Ok(true),
        "0" | "false" | "off" => Ok(false),
        other => Err(bad(format!("on must be 1 or 0, not {other:?}"))),
    }
}

fn parse_fault(body: &[u8]) -> Result<FaultConfig, ParseError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| bad(format!("fault body is not JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| bad("fault body must be a JSON object"))?;
    let mut f = FaultConfig::default();
    for (k, val) in obj {
        let num = val.as_f64().ok_or_else(|| bad(format!("fault.{k} must be a number")))?;
        let prob = |x: f64| {
            if (0.0..=1.0).contains(&x) {
                Ok(x)
            } else {
                Err(bad(format!("fault.{k} must be within 0..=1")))
            }
        };
        let rate = |x: f64| {
            if (0.0..=1000.0).contains(&x) {
                Ok(x)
            } else {
                Err(bad(format!("fault.{k} must be within 0..=1000")))
            }
        };
        match k.as_str() {
            "seed" => f.seed = val.as_u64().ok_or_else(|| bad("fault.seed must be an unsigned integer"))?,
            "frame_loss" => f.frame_loss = prob(num)?,
            "bit_error_rate" => f.bit_error_rate = prob(num)?,
            "slips_per_s" => f.slips_per_s = rate(num)?,
            "los_bursts_per_s" => f.los_bursts_per_s = rate(num)?,
            "los_burst_ms" => {
                f.los_burst_ms = val
                    .as_u64()
                    .and_then(|x| u32::try_from(x).ok())
                    .ok_or_else(|| bad("fault.los_burst_ms must be an unsigned integer"))?;
            }
            other => return Err(bad(format!("unknown fault key {other:?}"))),
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse() {
        assert!(matches!(
            parse_command("/api/v1/sim/spans/2/cut", "dir=rx", vec![]),
            Ok(ApiCommand::Sim(SimCommand::Cut { span: 2, rx: true, tx: false }))
        ));
        assert!(matches!(
            parse_command("/api/v1/spans/1/far/channels/5/capture", "ms=40", vec![]),
            Ok(ApiCommand::Capture { span: 1, far: true, ts: 5, ms: 40, clean: false })
        ));
        assert!(matches!(
            parse_command("/api/v1/spans/1/channels/5/capture", "ms=40&clean=1", vec![]),
            Ok(ApiCommand::Capture { span: 1, far: false, ts: 5, ms: 40, clean: true })
        ));
        assert_eq!(parse_command("/api/v1/spans/1/channels/5/capture", "clean=yes", vec![]).unwrap_err().0, 400);
        assert!(matches!(
            parse_command("/api/v1/spans/1/channels/5/play", "", vec![1, 2]),
            Ok(ApiCommand::Play { span: 1, far: false, ts: 5, .. })
        ));
        assert_eq!(parse_command("/api/v1/spans/x/cut", "", vec![]).unwrap_err().0, 400);
        assert_eq!(parse_command("/api/v1/spans/1/cut", "dir=up", vec![]).unwrap_err().0, 400);
        assert_eq!(parse_command("/api/v1/nothing", "", vec![]).unwrap_err().0, 404);
        assert_eq!(parse_command("/api/v1/spans/1/channels/5/play", "", vec![]).unwrap_err().0, 400);
        assert!(matches!(parse_command("/api/v1/config/reload", "", vec![]), Ok(ApiCommand::ConfigReload)));
        assert!(matches!(
            parse_command("/api/v1/test/media/stall", "ms=3000", vec![]),
            Ok(ApiCommand::StallMedia { ms: 3000 })
        ));
        assert_eq!(parse_command("/api/v1/test/media/stall", "ms=x", vec![]).unwrap_err().0, 400);
    }

    #[test]
    fn call_routes_parse() {
        let call = |p: &str, q: &str, b: &[u8]| match parse_command(p, q, b.to_vec()) {
            Ok(ApiCommand::Call { span, far, op }) => Ok((span, far, op)),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.0),
        };
        let place = CallOp::Place { called: "1234".into(), calling: "5678".into(), complete: true };
        assert_eq!(call("/api/v1/spans/1/calls", "", br#"{"called":"1234","calling":"5678"}"#), Ok((1, false, place)));
        assert_eq!(call("/api/v1/spans/2/far/calls/7/answer", "", b""), Ok((2, true, CallOp::Answer(7))));
        assert_eq!(
            call("/api/v1/spans/1/calls/3/hangup", "cause=17", b""),
            Ok((1, false, CallOp::Hangup { id: 3, cause: 17 }))
        );
        assert_eq!(
            call("/api/v1/spans/1/calls/3/hangup", "", b""),
            Ok((1, false, CallOp::Hangup { id: 3, cause: 16 }))
        );
        assert_eq!(
            call("/api/v1/spans/1/restart", "channel=2", b""),
            Ok((1, false, CallOp::Restart { channel: Some(2) }))
        );
        assert_eq!(call("/api/v1/spans/1/far/restart", "", b""), Ok((1, true, CallOp::Restart { channel: None })));
        assert_eq!(call("/api/v1/spans/1/calls/3/hangup", "cause=0", b""), Err(400));
        assert_eq!(call("/api/v1/spans/1/calls/3/hangup", "cause=300", b""), Err(400));
        assert_eq!(call("/api/v1/spans/1/calls/x/answer", "", b""), Err(400));
        assert_eq!(call("/api/v1/spans/1/calls", "", br#"{"called":"12a4","calling":""}"#), Err(400));
        assert_eq!(call("/api/v1/spans/1/calls", "", br#"{"called":"","calling":"1"}"#), Err(400));
        assert_eq!(call("/api/v1/spans/1/calls", "", b"nope"), Err(400));
        let overlap = CallOp::Place { called: "1".into(), calling: "5678".into(), complete: false };
        let body = br#"{"called":"1","calling":"5678","complete":false}"#;
        assert_eq!(call("/api/v1/spans/1/calls", "", body), Ok((1, false, overlap)));
        // Overlap sending may start with no digit at all (the caller dials to dial tone).
        let empty = CallOp::Place { called: String::new(), calling: "5678".into(), complete: false };
        let body = br#"{"called":"","calling":"5678","complete":false}"#;
        assert_eq!(call("/api/v1/spans/1/calls", "", body), Ok((1, false, empty)));
        assert_eq!(
            call("/api/v1/spans/1/calls/4/digits", "d=23", b""),
            Ok((1, false, CallOp::Info { id: 4, digits: "23".into(), complete: false }))
        );
        assert_eq!(call("/api/v1/spans/1/calls/4/digits", "d=", b""), Err(400));
        assert_eq!(call("/api/v1/spans/1/calls/4/digits", "d=2x", b""), Err(400));
        assert_eq!(call("/api/v1/spans/1/calls/3/transfer", "", b""), Err(404));
    }

    #[test]
    fn fault_bodies_are_checked() {
        let f = parse_fault(br#"{"seed": 3, "frame_loss": 0.5, "los_burst_ms": 20}"#).unwrap();
        assert_eq!((f.seed, f.frame_loss, f.los_burst_ms), (3, 0.5, 20));
        assert!(parse_fault(br#"{"frame_loss": 2}"#).is_err());
        assert!(parse_fault(br#"{"nope": 1}"#).is_err());
        assert!(parse_fault(b"[").is_err());
    }
}
