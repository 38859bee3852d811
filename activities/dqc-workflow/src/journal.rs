//! The execution history: events in the shape of Step Functions' `GetExecutionHistory`,
//! appended one JSON line at a time to `history.jsonl`, and read back to resume.
//!
//! Each event carries `dqcKey`, the place in the execution it belongs to: the state, its
//! visit number, the `Map` iteration or `Parallel` branch around it and the attempt. The
//! runner replays an execution from its start; a task whose outcome is in the history is
//! not called again, and an event already written is not written twice.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

/// The history of one execution.
#[derive(Debug)]
pub struct Journal {
    file: Option<PathBuf>,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    events: Vec<Value>,
    /// `(type, key)` of every event already in the history.
    written: BTreeSet<(String, String)>,
    /// The details of recorded events, for replay.
    recorded: BTreeMap<(String, String), (Value, String)>,
    /// Every key in the history.
    keys: BTreeSet<String>,
}

/// Reading a history file failed.
#[derive(Debug)]
pub struct ReadError(pub String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Journal {
    /// A history kept in memory only.
    pub fn memory() -> Journal {
        Journal { file: None, inner: Mutex::new(Inner::default()) }
    }

    /// A history appended to `path`, with the events already there loaded for replay. A last
    /// line cut short by a crash is dropped (its event is written again).
    pub fn open(path: &Path) -> Result<Journal, ReadError> {
        let mut inner = Inner::default();
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| ReadError(format!("{}: {e}", path.display())))?;
            let complete = text.ends_with('\n');
            let lines: Vec<&str> = text.lines().collect();
            let mut good = String::new();
            for (i, line) in lines.iter().enumerate() {
                match serde_json::from_str::<Value>(line) {
                    Ok(v) => {
                        inner.remember(&v);
                        inner.events.push(v);
                        good.push_str(line);
                        good.push('\n');
                    }
                    Err(_) if i + 1 == lines.len() && !complete => {}
                    Err(e) => return Err(ReadError(format!("{}:{}: not a history event: {e}", path.display(), i + 1))),
                }
            }
            if !complete && !text.is_empty() {
                std::fs::write(path, good).map_err(|e| ReadError(format!("{}: {e}", path.display())))?;
            }
        }
        Ok(Journal { file: Some(path.to_owned()), inner: Mutex::new(inner) })
    }

    /// Appends an event unless one of the same type and key is already there.
    pub fn emit(&self, ty: &str, key: &str, now: jiff::Timestamp, details: Option<(&str, Value)>) {
        let Ok(mut inner) = self.inner.lock() else { return };
        if !inner.written.insert((ty.to_owned(), key.to_owned())) {
            return;
        }
        let id = inner.events.len() + 1;
        let mut event = json!({
            "id": id,
            "previousEventId": id - 1,
            "timestamp": now.to_string(),
            "type": ty,
            "dqcKey": key,
        });
        if let (Some((name, d)), Some(o)) = (details, event.as_object_mut()) {
            o.insert(name.to_owned(), d);
        }
        if let Some(path) = &self.file {
            let line = format!("{event}\n");
            let written = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f: File| f.write_all(line.as_bytes()));
            if let Err(e) = written {
                // The run goes on; the history says what it could not keep.
                eprintln!("warning: could not append to {}: {e}", path.display());
            }
        }
        inner.remember(&event);
        inner.events.push(event);
    }

    /// The details and time of a recorded event of this type and key.
    pub fn recorded(&self, ty: &str, key: &str) -> Option<(Value, String)> {
        let inner = self.inner.lock().ok()?;
        inner.recorded.get(&(ty.to_owned(), key.to_owned())).cloned()
    }

    /// Whether any event's key starts with `prefix` (an attempt already begun).
    pub fn knows_prefix(&self, prefix: &str) -> bool {
        let Ok(inner) = self.inner.lock() else { return false };
        inner.keys.range(prefix.to_owned()..).next().is_some_and(|k| k.starts_with(prefix))
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Value> {
        self.inner.lock().map(|i| i.events.clone()).unwrap_or_default()
    }
}

impl Inner {
    fn remember(&mut self, event: &Value) {
        let (Some(ty), Some(key)) = (event["type"].as_str(), event["dqcKey"].as_str()) else { return };
        self.written.insert((ty.to_owned(), key.to_owned()));
        self.keys.insert(key.to_owned());
        let details = event
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")).map(|(_, v)| v.clone()))
            .unwrap_or(Value::Null);
        let at = event["timestamp"].as_str().unwrap_or_default().to_owned();
        self.recorded.insert((ty.to_owned(), key.to_owned()), (details, at));
    }
}
