//! The task-token store: what `.waitForTaskToken` tasks wait on, in a folder.
//!
//! `<token>.json` is written when a task hands out its token; `<token>.outcome.json` when
//! someone answers (`SendTaskSuccess`/`SendTaskFailure`). The outcome is created with a hard
//! link from a complete temporary file, so it appears whole and only the first answer wins;
//! `<token>.heartbeat` holds the time of the last `SendTaskHeartbeat`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::Failure;

/// A task-token folder.
#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
}

/// Where a token stands.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenState {
    Pending,
    Succeeded(Value),
    Failed(Failure),
}

/// Why an answer was refused.
#[derive(Debug)]
pub enum TokenError {
    /// No task handed out this token (AWS: `TaskDoesNotExist`).
    Unknown(String),
    /// The token was answered already (AWS: `TaskTimedOut`).
    AlreadyAnswered(String),
    Io(String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Unknown(t) => write!(f, "no task is waiting on the task token `{t}` (TaskDoesNotExist)"),
            TokenError::AlreadyAnswered(t) => {
                write!(f, "the task token `{t}` was already answered; the first answer stands (TaskTimedOut)")
            }
            TokenError::Io(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for TokenError {}

fn io_err(path: &Path, e: &io::Error) -> TokenError {
    TokenError::Io(format!("{}: {e}", path.display()))
}

impl TokenStore {
    /// The store in `dir` (created when missing).
    pub fn open(dir: &Path) -> io::Result<TokenStore> {
        fs::create_dir_all(dir)?;
        Ok(TokenStore { dir: dir.to_owned() })
    }

    fn file(&self, token: &str, suffix: &str) -> Result<PathBuf, TokenError> {
        if token.is_empty()
            || token.len() > 1024
            || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(TokenError::Unknown(token.to_owned()));
        }
        Ok(self.dir.join(format!("{token}{suffix}")))
    }

    /// Records that a task is waiting on `token` (idempotent).
    pub fn register(&self, token: &str, record: &Value) -> Result<(), TokenError> {
        let path = self.file(token, ".json")?;
        if path.exists() {
            return Ok(());
        }
        write_atomic(&path, &serde_json::to_vec_pretty(record).unwrap_or_default()).map_err(|e| io_err(&path, &e))
    }

    /// The task record of a token.
    pub fn record(&self, token: &str) -> Result<Value, TokenError> {
        let path = self.file(token, ".json")?;
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| TokenError::Io(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(TokenError::Unknown(token.to_owned())),
            Err(e) => Err(io_err(&path, &e)),
        }
    }

    /// Where a token stands.
    pub fn state(&self, token: &str) -> Result<TokenState, TokenError> {
        self.record(token)?;
        let path = self.file(token, ".outcome.json")?;
        let outcome: Value = match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| TokenError::Io(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(TokenState::Pending),
            Err(e) => return Err(io_err(&path, &e)),
        };
        Ok(match outcome["status"].as_str() {
            Some("SUCCEEDED") => TokenState::Succeeded(outcome["output"].clone()),
            _ => TokenState::Failed(Failure::new(
                outcome["error"].as_str().unwrap_or_default(),
                outcome["cause"].as_str().unwrap_or_default(),
            )),
        })
    }

    fn answer(&self, token: &str, outcome: &Value) -> Result<(), TokenError> {
        self.record(token)?;
        let path = self.file(token, ".outcome.json")?;
        let tmp = self.file(token, &format!(".outcome.{}.tmp", std::process::id()))?;
        fs::write(&tmp, serde_json::to_vec_pretty(outcome).unwrap_or_default()).map_err(|e| io_err(&tmp, &e))?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(TokenError::AlreadyAnswered(token.to_owned())),
            Err(e) => Err(io_err(&path, &e)),
        }
    }

    /// `SendTaskSuccess`: the waiting task succeeds with `output`.
    pub fn send_success(&self, token: &str, output: &Value) -> Result<(), TokenError> {
        self.answer(token, &json!({"status": "SUCCEEDED", "output": output}))
    }

    /// `SendTaskFailure`: the waiting task fails with this error and cause.
    pub fn send_failure(&self, token: &str, error: &str, cause: &str) -> Result<(), TokenError> {
        self.answer(token, &json!({"status": "FAILED", "error": error, "cause": cause}))
    }

    /// `SendTaskHeartbeat`: the task is still being worked on.
    pub fn send_heartbeat(&self, token: &str, now: jiff::Timestamp) -> Result<(), TokenError> {
        if self.state(token)? != TokenState::Pending {
            return Err(TokenError::AlreadyAnswered(token.to_owned()));
        }
        let path = self.file(token, ".heartbeat")?;
        write_atomic(&path, now.to_string().as_bytes()).map_err(|e| io_err(&path, &e))
    }

    /// The time of the last heartbeat, if any.
    pub fn last_heartbeat(&self, token: &str) -> Option<jiff::Timestamp> {
        let path = self.file(token, ".heartbeat").ok()?;
        fs::read_to_string(path).ok()?.trim().parse().ok()
    }

    /// The records of the tokens nobody has answered yet, by token.
    pub fn pending(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(&self.dir) else { return out };
        let mut names: Vec<String> = entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
        names.sort();
        for name in names {
            let Some(token) = name.strip_suffix(".json").filter(|t| !t.contains('.')) else { continue };
            if let (Ok(TokenState::Pending), Ok(record)) = (self.state(token), self.record(token)) {
                out.push(record);
            }
        }
        out
    }
}

/// Writes a file whole or not at all (a temporary file renamed over it).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)
}
