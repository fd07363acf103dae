//! Typed, position-aware reading of a parsed TOML document: every getter reports what is wrong
//! (unknown key, wrong type, out of range) to the [`Sink`] and carries on.

use std::ops::Range;

use toml_edit::{Item, TableLike, Value};

use crate::diag::{did_you_mean, Sink};

/// Where something is in the file (byte range), when the parser knows.
pub(crate) type At = Option<Range<usize>>;

/// The outcome of reading one key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Got<T> {
    /// The key is not there.
    Absent,
    /// The key is there but its value is wrong; a diagnostic has been recorded.
    Bad,
    /// The value, and where it is.
    Ok(T, At),
}

impl<T> Got<T> {
    /// The value, if it was read.
    pub(crate) fn ok(self) -> Option<T> {
        match self {
            Got::Ok(v, _) => Some(v),
            _ => None,
        }
    }

    /// The value, if it was read, by reference.
    pub(crate) fn get(&self) -> Option<&T> {
        match self {
            Got::Ok(v, _) => Some(v),
            _ => None,
        }
    }

    /// Where the value is.
    pub(crate) fn at(&self) -> At {
        match self {
            Got::Ok(_, at) => at.clone(),
            _ => None,
        }
    }

    /// True when the key was present but wrong.
    pub(crate) fn is_bad(&self) -> bool {
        matches!(self, Got::Bad)
    }

    /// True when the key was given (right or wrong).
    pub(crate) fn present(&self) -> bool {
        !matches!(self, Got::Absent)
    }

    /// Applies `f` to the value.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Got<U> {
        match self {
            Got::Absent => Got::Absent,
            Got::Bad => Got::Bad,
            Got::Ok(v, at) => Got::Ok(f(v), at),
        }
    }
}

/// "a string", "an integer", ... for messages.
pub(crate) fn describe_item(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(v) => describe_value(v),
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
    }
}

/// "a string", "an integer", ... for messages.
pub(crate) fn describe_value(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "an inline table",
    }
}

/// A table (standard or inline) being read, with its dotted path and position.
pub(crate) struct Table<'d> {
    t: &'d dyn TableLike,
    /// The table's own position, or its parent's when it has none (implicit tables).
    pos: At,
    pub(crate) path: String,
}

impl<'d> Table<'d> {
    /// Wraps `t`, reporting every key not in `known`. `at` is the table's own position, or its
    /// parent's when the table has none (implicit tables).
    pub(crate) fn new(sink: &mut Sink<'_>, t: &'d dyn TableLike, path: String, at: At, known: &[&str]) -> Table<'d> {
        let table = Table { t, pos: at, path };
        for (k, _) in t.iter() {
            if !known.contains(&k) {
                let hint = did_you_mean(k, known.iter().copied());
                let msg = if hint.is_empty() {
                    format!("unknown key `{k}` (expected one of: {})", known.join(", "))
                } else {
                    format!("unknown key `{k}`{hint}")
                };
                sink.error(table.key_at(k), &table.field(k), msg);
            }
        }
        table
    }

    /// Wraps `t` without checking its keys (tables whose keys are free, like module options).
    pub(crate) fn open(t: &'d dyn TableLike, path: String, at: At) -> Table<'d> {
        Table { t, pos: at, path }
    }

    /// The table's own position (its header, or its parent's).
    pub(crate) fn at(&self) -> At {
        self.pos.clone()
    }

    /// The dotted path of `key` in this table.
    pub(crate) fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The item under `key`, if any.
    pub(crate) fn item(&self, key: &str) -> Option<&'d Item> {
        self.t.get(key).filter(|i| !i.is_none())
    }

    /// Whether `key` is present.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.item(key).is_some()
    }

    /// Where the key itself is written, or the table when unknown.
    pub(crate) fn key_at(&self, key: &str) -> At {
        self.t.key(key).and_then(|k| k.span()).or_else(|| self.at())
    }

    /// Where the value of `key` is, else the key, else the table.
    pub(crate) fn value_at(&self, key: &str) -> At {
        self.item(key).and_then(Item::span).or_else(|| self.key_at(key))
    }

    /// Records that `key` must be given.
    pub(crate) fn require(&self, sink: &mut Sink<'_>, key: &str) {
        if !self.has(key) {
            let what = if self.path.is_empty() { "the file".to_string() } else { format!("[{}]", self.path) };
            sink.error(self.at(), &self.field(key), format!("missing required key `{key}` in {what}"));
        }
    }

    /// Records an error about the value of `key`.
    pub(crate) fn error(&self, sink: &mut Sink<'_>, key: &str, msg: impl Into<String>) {
        sink.error(self.value_at(key), &self.field(key), msg);
    }

    fn wrong_type(&self, sink: &mut Sink<'_>, key: &str, expected: &str, item: &Item) {
        self.error(sink, key, format!("expected {expected}, found {}", describe_item(item)));
    }

    /// A string value.
    pub(crate) fn string(&self, sink: &mut Sink<'_>, key: &str) -> Got<String> {
        let Some(item) = self.item(key) else { return Got::Absent };
        match item.as_str() {
            Some(s) => Got::Ok(s.to_string(), item.span()),
            None => {
                self.wrong_type(sink, key, "a string", item);
                Got::Bad
            }
        }
    }

    /// An integer value in `lo..=hi`.
    pub(crate) fn integer(&self, sink: &mut Sink<'_>, key: &str, lo: i64, hi: i64) -> Got<i64> {
        let Some(item) = self.item(key) else { return Got::Absent };
        match item.as_integer() {
            Some(v) if (lo..=hi).contains(&v) => Got::Ok(v, item.span()),
            Some(v) => {
                self.error(sink, key, format!("{v} is out of range: must be {lo}..={hi}"));
                Got::Bad
            }
            None => {
                self.wrong_type(sink, key, "an integer", item);
                Got::Bad
            }
        }
    }

    /// A finite number (integer or float) in `lo..=hi`.
    pub(crate) fn number(&self, sink: &mut Sink<'_>, key: &str, lo: f64, hi: f64) -> Got<f64> {
        let Some(item) = self.item(key) else { return Got::Absent };
        #[allow(clippy::cast_precision_loss)] // config integers are small
        let v = item.as_float().or_else(|| item.as_integer().map(|i| i as f64));
        match v {
            Some(v) if v.is_finite() && (lo..=hi).contains(&v) => Got::Ok(v, item.span()),
            Some(v) => {
                self.error(sink, key, format!("{v} is out of range: must be {lo}..={hi}"));
                Got::Bad
            }
            None => {
                self.wrong_type(sink, key, "a number", item);
                Got::Bad
            }
        }
    }

    /// A boolean value.
    pub(crate) fn boolean(&self, sink: &mut Sink<'_>, key: &str) -> Got<bool> {
        let Some(item) = self.item(key) else { return Got::Absent };
        match item.as_bool() {
            Some(b) => Got::Ok(b, item.span()),
            None => {
                self.wrong_type(sink, key, "a boolean (true or false)", item);
                Got::Bad
            }
        }
    }

    /// A sub-table (`[a.b]` or `b = { ... }`), with its unknown keys reported.
    pub(crate) fn table(&self, sink: &mut Sink<'_>, key: &str, known: &[&str]) -> Got<Table<'d>> {
        let Some(item) = self.item(key) else { return Got::Absent };
        match item.as_table_like() {
            Some(t) => {
                let at = item.span().or_else(|| self.key_at(key));
                Got::Ok(Table::new(sink, t, self.field(key), at.clone(), known), at)
            }
            None => {
                self.wrong_type(sink, key, "a table", item);
                Got::Bad
            }
        }
    }

    /// An array of tables (`[[a.b]]` or `b = [{ ... }, ...]`): each element's table and position.
    pub(crate) fn tables(&self, sink: &mut Sink<'_>, key: &str) -> Vec<(&'d dyn TableLike, At)> {
        let Some(item) = self.item(key) else { return Vec::new() };
        if let Some(aot) = item.as_array_of_tables() {
            return aot.iter().map(|t| (t as &dyn TableLike, t.span().or_else(|| self.key_at(key)))).collect();
        }
        if let Some(arr) = item.as_array() {
            let mut out = Vec::new();
            for (i, v) in arr.iter().enumerate() {
                match v.as_inline_table() {
                    Some(t) => out.push((t as &dyn TableLike, v.span())),
                    None => sink.error(
                        v.span().or_else(|| self.value_at(key)),
                        &format!("{}[{i}]", self.field(key)),
                        format!("expected a table, found {}", describe_value(v)),
                    ),
                }
            }
            return out;
        }
        self.wrong_type(sink, key, &format!("an array of tables (`[[{}]]`)", self.field(key)), item);
        Vec::new()
    }

    /// The keys of this table, in file order.
    pub(crate) fn keys(&self) -> Vec<&'d str> {
        self.t.iter().map(|(k, _)| k).collect()
    }

    /// The raw item of `key` (for values that accept several types).
    pub(crate) fn raw(&self, key: &str) -> Option<&'d Item> {
        self.item(key)
    }
}

/// Points into a string value: the position of byte `offset` of `value` when the file spells the
/// value literally (no escapes), else the whole value.
pub(crate) fn inside(text: &str, at: &At, value: &str, offset: usize) -> At {
    let r = at.clone()?;
    let raw = text.get(r.clone())?;
    let quoted =
        |q: &str| raw.len() == value.len() + 2 * q.len() && raw.starts_with(q) && raw[q.len()..].starts_with(value);
    if quoted("\"") || quoted("'") {
        let p = r.start + 1 + offset;
        Some(p..p + 1)
    } else {
        Some(r)
    }
}
