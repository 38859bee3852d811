//! The conformance table: cases taken from the States Language specification and the AWS
//! documentation of each state and field, run against the local runner.
//!
//! Each file in `tests/conformance/` holds `{"cases": [...]}`; a case is
//!
//! ```json
//! {"name": "...", "source": "where the expected behaviour is documented",
//!  "definition": {...}, "input": {...},
//!  "functions": {"fn": [{"return": v} | {"throw": {"error": "E", "cause": "C"}} | {"echo": true}
//!                       | {"sendSuccess": v} | {"sendFailure": {"error": "E", "cause": "C"}} | {"sleep": s, "return": v}]},
//!  "mockConfig": {...}, "testCase": "name",
//!  "expect": {"output": v} | {"error": "E", "cause": "substring"} | {"invalid": "substring"},
//!  "calls": {"fn": n}, "sleeps": [seconds, ...], "published": [{"topic", "subject", "message"}],
//!  "events": ["TaskScheduled", ...]}
//! ```
//!
//! Functions answer in call order (the last answer repeats); `echo` returns the event;
//! `sendSuccess`/`sendFailure` answer the task token the function was given (`{"return": v}`
//! leaves it unanswered: the task then times out). The clock is manual: waits and retry
//! intervals are recorded in `sleeps` instead of taking time, and each look at an unanswered
//! token moves it on by a second, so `TimeoutSeconds` and `HeartbeatSeconds` expire.

#![allow(clippy::expect_used, clippy::panic, reason = "a test harness: a broken fixture stops it")]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use dqc_workflow::journal::Journal;
use dqc_workflow::mock::MockCase;
use dqc_workflow::runner::{validate, ExecutionInfo, Outcome, Runner};
use dqc_workflow::tokens::TokenStore;
use dqc_workflow::{Activities, CallInfo, Clock, Failure};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{json, Value};

struct ManualClock {
    now: Mutex<jiff::Timestamp>,
    sleeps: Mutex<Vec<f64>>,
}

impl Clock for ManualClock {
    fn now(&self) -> jiff::Timestamp {
        *self.now.lock().expect("clock")
    }

    fn sleep(&self, seconds: f64) {
        if seconds <= 0.0 {
            return;
        }
        self.sleeps.lock().expect("clock").push((seconds * 1000.0).round() / 1000.0);
        let mut now = self.now.lock().expect("clock");
        *now += jiff::SignedDuration::from_millis((seconds * 1000.0) as i64);
    }

    /// Waiting on a task token nobody answers moves time on by a second a look.
    fn poll_pause(&self) {
        let mut now = self.now.lock().expect("clock");
        *now += jiff::SignedDuration::from_secs(1);
    }
}

struct Scripted {
    answers: BTreeMap<String, Vec<Value>>,
    calls: Mutex<BTreeMap<String, usize>>,
    published: Mutex<Vec<Value>>,
    tokens: TokenStore,
}

impl Activities for Scripted {
    fn has_function(&self, name: &str) -> bool {
        self.answers.contains_key(name)
    }

    fn invoke(&self, function: &str, payload: Value, call: &CallInfo<'_>) -> Result<Value, Failure> {
        let n = {
            let mut calls = self.calls.lock().expect("calls");
            let c = calls.entry(function.to_owned()).or_insert(0);
            *c += 1;
            *c - 1
        };
        let answers = &self.answers[function];
        let a = answers.get(n).or(answers.last()).cloned().unwrap_or(json!({"echo": true}));
        if let Some(s) = a.get("sleep").and_then(Value::as_f64) {
            std::thread::sleep(std::time::Duration::from_secs_f64(s));
        }
        if a.get("echo").is_some() {
            return Ok(payload);
        }
        if let Some(v) = a.get("sendSuccess") {
            let token = call.token.expect("a token task");
            self.tokens.send_success(token, v).map_err(|e| Failure::new("Test", e.to_string()))?;
            return Ok(json!({}));
        }
        if let Some(f) = a.get("sendFailure") {
            let token = call.token.expect("a token task");
            self.tokens
                .send_failure(token, f["error"].as_str().unwrap_or_default(), f["cause"].as_str().unwrap_or_default())
                .map_err(|e| Failure::new("Test", e.to_string()))?;
            return Ok(json!({}));
        }
        if let Some(t) = a.get("throw") {
            return Err(Failure::new(t["error"].as_str().unwrap_or_default(), t["cause"].as_str().unwrap_or_default()));
        }
        Ok(a.get("return").cloned().unwrap_or(Value::Null))
    }

    fn publish(&self, topic_arn: &str, subject: Option<&str>, message: &str) -> Result<String, Failure> {
        let mut p = self.published.lock().expect("published");
        p.push(json!({"topic": topic_arn, "subject": subject, "message": message}));
        Ok(format!("message-{}", p.len()))
    }
}

fn run_case(case: &Value, scratch: &Path) -> Result<(), Failed> {
    let name = case["name"].as_str().unwrap_or("case");
    let mut answers = BTreeMap::new();
    if let Some(f) = case["functions"].as_object() {
        for (k, v) in f {
            answers.insert(k.clone(), v.as_array().cloned().unwrap_or_default());
        }
    }
    let dir = scratch.join(name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    let _ = std::fs::remove_dir_all(&dir);
    let tokens = TokenStore::open(&dir).map_err(|e| e.to_string())?;
    let scripted = Arc::new(Scripted {
        answers,
        calls: Mutex::new(BTreeMap::new()),
        published: Mutex::new(Vec::new()),
        tokens: tokens.clone(),
    });
    let expect = &case["expect"];
    let machine = match validate(&case["definition"], scripted.as_ref()) {
        Ok(m) => m,
        Err(problems) => {
            let text = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            return match expect["invalid"].as_str() {
                Some(want) if text.contains(want) => Ok(()),
                Some(want) => Err(format!("expected a validation problem containing {want:?}, got:\n{text}").into()),
                None => Err(format!("the definition was refused:\n{text}").into()),
            };
        }
    };
    if let Some(want) = expect["invalid"].as_str() {
        return Err(format!("expected the definition to be refused with {want:?}, but it validated").into());
    }
    let mocks = match case.get("mockConfig") {
        Some(config) => Some(
            MockCase::load(config, "Conformance", case["testCase"].as_str().unwrap_or_default())
                .map_err(Failed::from)?,
        ),
        None => None,
    };
    let start: jiff::Timestamp = "2026-12-05T10:00:00Z".parse().map_err(|e: jiff::Error| e.to_string())?;
    let clock = ManualClock { now: Mutex::new(start), sleeps: Mutex::new(Vec::new()) };
    let info = ExecutionInfo {
        arn: "arn:aws:states:local:000000000000:execution:Conformance:run".into(),
        name: "run".into(),
        machine_name: "Conformance".into(),
        machine_arn: "arn:aws:states:local:000000000000:stateMachine:Conformance".into(),
        input: case.get("input").cloned().unwrap_or(json!({})),
        start,
        seed: "conformance".into(),
    };
    let journal = Journal::memory();
    let runner = Runner::new(&machine, scripted.clone(), &clock, &journal, Some(&tokens), mocks.as_ref(), &info, true);
    let outcome = runner.run();
    match (&outcome, expect.get("output"), expect["error"].as_str()) {
        (Outcome::Succeeded(v), Some(want), None) if v == want => {}
        (Outcome::Failed(f), None, Some(err)) if f.error == err => {
            if let Some(cause) = expect["cause"].as_str() {
                if !f.cause.contains(cause) {
                    return Err(format!(
                        "error {err} as expected, but its cause {:?} does not contain {cause:?}",
                        f.cause
                    )
                    .into());
                }
            }
        }
        _ => return Err(format!("expected {expect}, got {outcome:?}").into()),
    }
    if let Some(calls) = case["calls"].as_object() {
        let got = scripted.calls.lock().expect("calls").clone();
        for (f, n) in calls {
            let have = got.get(f).copied().unwrap_or(0);
            if Some(have as u64) != n.as_u64() {
                return Err(format!("expected {n} call(s) of {f}, got {have}").into());
            }
        }
    }
    if let Some(want) = case.get("sleeps") {
        let got = json!(clock.sleeps.lock().expect("clock").clone());
        if &got != want {
            return Err(format!("expected sleeps {want}, got {got}").into());
        }
    }
    if let Some(want) = case.get("published") {
        let got = json!(scripted.published.lock().expect("published").clone());
        if &got != want {
            return Err(format!("expected published {want}, got {got}").into());
        }
    }
    if let Some(want) = case["events"].as_array() {
        let got: Vec<Value> = journal.events().iter().map(|e| e["type"].clone()).collect();
        if &got != want {
            return Err(format!("expected events {want:?}, got {got:?}").into());
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let scratch = std::env::temp_dir().join(format!("dqc-workflow-conformance-{}", std::process::id()));
    let mut files: Vec<_> =
        std::fs::read_dir(&root).expect("tests/conformance").filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let mut trials = Vec::new();
    for file in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        let text = std::fs::read_to_string(&file).expect("read a conformance file");
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in doc["cases"].as_array().cloned().unwrap_or_default() {
            let name = format!("{stem}::{}", case["name"].as_str().unwrap_or("unnamed"));
            let scratch = scratch.join(&stem);
            trials.push(Trial::test(name, move || run_case(&case, &scratch)));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let _ = std::fs::remove_dir_all(&scratch);
    conclusion.exit();
}
