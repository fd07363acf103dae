//! A builder for the TOML configs the end-to-end tests start `spangate` on: a simulated board with
//! its spans, SIP trunks to the peers, and routes. Each test names only what it is about; the
//! builder writes the keys in the order a person would, and nothing the test did not ask for
//! (defaults stay defaults, so a test still runs on exactly the config it states).

use std::path::PathBuf;

use crate::Scratch;

/// One `[[board.span]]` of a simulated board.
#[derive(Debug, Clone)]
pub struct Span {
    n: u32,
    keys: Vec<(String, String)>,
    sim: Vec<(String, String)>,
}

impl Span {
    /// E1 span `n` plugged into the simulated `line` (`provider`, `pbx`, `span:N`, `dchan:PATH`,
    /// `listen:PATH`, `connect:PATH`).
    pub fn e1(n: u32, line: &str) -> Span {
        Span { n, keys: vec![("kind".into(), "\"e1\"".into())], sim: vec![("line".into(), format!("\"{line}\""))] }
    }

    /// The user side of the line: TE termination, `pri_cpe` signalling.
    #[must_use]
    pub fn te(self) -> Span {
        self.set("termination", "\"te\"").set("signalling", "\"pri_cpe\"")
    }

    /// The network side: NT termination, `pri_net` signalling.
    #[must_use]
    pub fn nt(self) -> Span {
        self.set("termination", "\"nt\"").set("signalling", "\"pri_net\"")
    }

    /// Clock source priority (0: never the clock source).
    #[must_use]
    pub fn timing(self, t: u8) -> Span {
        self.set("timing", &t.to_string())
    }

    /// No echo canceller (digital loops have no hybrid, and audio compared bit for bit must not
    /// pass through one).
    #[must_use]
    pub fn echo_off(self) -> Span {
        self.set("echo", "{ mode = \"off\" }")
    }

    /// Any key of the span, `value` written as TOML; a key set twice keeps the last value.
    #[must_use]
    pub fn set(mut self, key: &str, value: &str) -> Span {
        put(&mut self.keys, key, value);
        self
    }

    /// A key of the span's `[board.span.sim]` table.
    #[must_use]
    pub fn sim(mut self, key: &str, value: &str) -> Span {
        put(&mut self.sim, key, value);
        self
    }

    fn toml(&self) -> String {
        let mut out = format!("[[board.span]]\nspan = {}\n", self.n);
        for (k, v) in &self.keys {
            out += &format!("{k} = {v}\n");
        }
        out += "[board.span.sim]\n";
        for (k, v) in &self.sim {
            out += &format!("{k} = {v}\n");
        }
        out
    }
}

fn put(keys: &mut Vec<(String, String)>, key: &str, value: &str) {
    match keys.iter_mut().find(|(k, _)| k == key) {
        Some(kv) => kv.1 = value.to_string(),
        None => keys.push((key.to_string(), value.to_string())),
    }
}

/// A config file under construction: `[board]` first, then spans, SIP, trunks and routes in the
/// order they are added.
#[derive(Debug, Clone)]
pub struct Config {
    board: Vec<(String, String)>,
    spans: Vec<Span>,
    rest: String,
}

impl Config {
    /// A simulated board of `model` (`sim-e1x2` is the built-in one).
    pub fn board(model: &str) -> Config {
        let board = vec![("model".into(), format!("\"{model}\"")), ("backend".into(), "\"sim\"".into())];
        Config { board, spans: Vec::new(), rest: String::new() }
    }

    /// Any other key of `[board]` (`name`, `description`, `block_ms`), `value` written as TOML.
    #[must_use]
    pub fn board_key(mut self, key: &str, value: &str) -> Config {
        put(&mut self.board, key, value);
        self
    }

    #[must_use]
    pub fn span(mut self, span: Span) -> Config {
        self.spans.push(span);
        self
    }

    /// Spans 1 (TE, the clock source) and 2 (NT) cabled to each other in one process, each
    /// finished by `each` (echo off, a group...).
    #[must_use]
    pub fn looped_pair(self, each: impl Fn(Span) -> Span) -> Config {
        self.span(each(Span::e1(1, "span:2").timing(1).te())).span(each(Span::e1(2, "span:1").timing(0).nt()))
    }

    /// The span numbered `n`, to change it after a shortcut such as [`Config::looped_pair`] added it.
    #[must_use]
    pub fn with_span(mut self, n: u32, change: impl FnOnce(Span) -> Span) -> Config {
        let at = self.spans.iter().position(|s| s.n == n).unwrap_or_else(|| panic!("no span {n} in the config"));
        let span = self.spans.remove(at);
        self.spans.insert(at, change(span));
        self
    }

    /// `[sip]` listening on `listen` (`udp:127.0.0.1:5060`, or a bare address for UDP and TCP);
    /// `keys` are more lines of the table (`dtmf = "rfc4733"`).
    #[must_use]
    pub fn sip(self, listen: &str, keys: &[&str]) -> Config {
        self.table("[sip]", &[&format!("listen = \"{listen}\"")], keys)
    }

    /// A `[[sip.trunk]]` to `host:port` offering `codecs`; `keys` are more lines of it
    /// (`dtmf = "info"`, `transport = "tcp"`, `register = {...}`).
    #[must_use]
    pub fn trunk(self, name: &str, host: &str, port: u16, codecs: &[&str], keys: &[&str]) -> Config {
        let codecs = codecs.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        let head = [
            format!("name = \"{name}\""),
            format!("host = \"{host}\""),
            format!("port = {port}"),
            format!("codecs = [{codecs}]"),
        ];
        self.table("[[sip.trunk]]", &head.iter().map(String::as_str).collect::<Vec<_>>(), keys)
    }

    /// A `[[route]]` from `from` to `to`; `keys` are its matches and rewriting (`called = "2"`,
    /// `strip = 6`, `hunt = "r"`).
    #[must_use]
    pub fn route(self, name: &str, from: &str, to: &str, keys: &[&str]) -> Config {
        let head = [format!("name = \"{name}\""), format!("from = \"{from}\""), format!("to = \"{to}\"")];
        self.table("[[route]]", &head.iter().map(String::as_str).collect::<Vec<_>>(), keys)
    }

    /// TOML written as it is after what is there (`[ha]`, `[log]`...).
    #[must_use]
    pub fn raw(mut self, toml: &str) -> Config {
        self.rest += toml;
        if !self.rest.ends_with('\n') {
            self.rest.push('\n');
        }
        self
    }

    fn table(self, header: &str, head: &[&str], keys: &[&str]) -> Config {
        let mut t = format!("{header}\n");
        for line in head.iter().chain(keys) {
            t += line;
            t.push('\n');
        }
        self.raw(&t)
    }

    /// The whole file.
    pub fn text(&self) -> String {
        let mut out = String::from("[board]\n");
        for (k, v) in &self.board {
            out += &format!("{k} = {v}\n");
        }
        for s in &self.spans {
            out += &s.toml();
        }
        out + &self.rest
    }

    /// Writes the file as `name` in the test's scratch directory.
    pub fn write(&self, scratch: &Scratch, name: &str) -> PathBuf {
        let p = scratch.path(name);
        std::fs::write(&p, self.text()).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_looped_pair_with_a_trunk_and_a_route_reads_as_written_by_hand() {
        let c = Config::board("sim-e1x2")
            .board_key("name", "\"pair\"")
            .looped_pair(Span::echo_off)
            .with_span(2, |s| s.set("group", "2"))
            .sip("udp:127.0.0.1:5062", &["dtmf = \"rfc4733\""])
            .trunk("pbx", "127.0.0.1", 5070, &["pcma", "telephone-event"], &["dtmf = \"info\""])
            .route("in", "trunk:pbx", "span:1", &["called = \"2\""]);
        let want = "[board]\nmodel = \"sim-e1x2\"\nbackend = \"sim\"\nname = \"pair\"\n\
            [[board.span]]\nspan = 1\nkind = \"e1\"\ntiming = 1\ntermination = \"te\"\nsignalling = \"pri_cpe\"\n\
            echo = { mode = \"off\" }\n[board.span.sim]\nline = \"span:2\"\n\
            [[board.span]]\nspan = 2\nkind = \"e1\"\ntiming = 0\ntermination = \"nt\"\nsignalling = \"pri_net\"\n\
            echo = { mode = \"off\" }\ngroup = 2\n[board.span.sim]\nline = \"span:1\"\n\
            [sip]\nlisten = \"udp:127.0.0.1:5062\"\ndtmf = \"rfc4733\"\n\
            [[sip.trunk]]\nname = \"pbx\"\nhost = \"127.0.0.1\"\nport = 5070\ncodecs = [\"pcma\", \"telephone-event\"]\n\
            dtmf = \"info\"\n\
            [[route]]\nname = \"in\"\nfrom = \"trunk:pbx\"\nto = \"span:1\"\ncalled = \"2\"\n";
        assert_eq!(c.text(), want);
    }

    #[test]
    fn a_key_set_twice_keeps_the_last_value() {
        let s = Span::e1(1, "provider").te().set("signalling", "\"bri_cpe\"").sim("line", "\"pbx\"");
        let text = Config::board("sim-bri4").span(s).text();
        assert!(text.contains("signalling = \"bri_cpe\"\n") && !text.contains("pri_cpe"), "{text}");
        assert!(text.contains("line = \"pbx\"\n") && !text.contains("provider"), "{text}");
    }
}
