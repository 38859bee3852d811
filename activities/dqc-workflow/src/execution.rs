//! Executions on disk: a home folder with `executions/<name>/` (the execution's record and
//! its history) and `tokens/` (the task-token store).
//!
//! An execution keeps its own copy of the substituted definition, its input, its seed and
//! its mock test case, so `resume` runs exactly what `start` began, whatever happened to the
//! files since. One runner at a time holds an execution (a lock file with its process id).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::journal::Journal;
use crate::mock::MockCase;
use crate::runner::{validate, ExecutionInfo, Outcome, Runner};
use crate::tokens::{write_atomic, TokenStore};
use crate::{Activities, Clock};

/// The workflow home folder.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Start {
    /// The state machine's name (the file stem of `<name>.asl.json`).
    pub machine: String,
    /// The definition with its `${...}` substitutions applied.
    pub definition: Value,
    pub input: Value,
    /// The execution name; made from the machine name and the time when absent.
    pub name: Option<String>,
    /// Seeds `States.MathRandom`, `States.UUID` and retry jitter; the name when absent.
    pub seed: Option<String>,
    /// A mock configuration and the test case to use from it.
    pub mock: Option<(Value, String)>,
    /// Kept with the execution for whoever resumes it (the local adapters' folders).
    pub environment: Value,
}

/// How a call ended.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: String,
    pub arn: String,
    pub outcome: Outcome,
    pub history: PathBuf,
}

impl Report {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `WAITING`.
    pub fn status(&self) -> &'static str {
        match &self.outcome {
            Outcome::Succeeded(_) => "SUCCEEDED",
            Outcome::Failed(f) if f.error == "States.Timeout" => "TIMED_OUT",
            Outcome::Failed(_) => "FAILED",
            Outcome::Waiting(_) => "WAITING",
        }
    }
}

fn err(path: &Path, e: impl std::fmt::Display) -> String {
    format!("{}: {e}", path.display())
}

/// Names of executions and state machines: what Step Functions allows (no path separators).
fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= 80
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name != "."
        && name != "..";
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid {what} name: 1 to 80 letters, digits, `-`, `_` or `.`"))
    }
}

struct Lock(PathBuf);

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn lock(dir: &Path) -> Result<Lock, String> {
    let path = dir.join("lock");
    for _ in 0..2 {
        match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                use std::io::Write as _;
                let _ = write!(f, "{}", std::process::id());
                return Ok(Lock(path));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let pid = fs::read_to_string(&path).unwrap_or_default();
                let alive = !pid.trim().is_empty() && Path::new("/proc").join(pid.trim()).exists();
                if alive {
                    return Err(format!(
                        "the execution is being run by process {} (remove {} if that is wrong)",
                        pid.trim(),
                        path.display()
                    ));
                }
                let _ = fs::remove_file(&path);
            }
            Err(e) => return Err(err(&path, e)),
        }
    }
    Err(format!("could not take {}", path.display()))
}

impl Home {
    pub fn open(root: &Path) -> Result<Home, String> {
        fs::create_dir_all(root.join("executions")).map_err(|e| err(root, e))?;
        fs::create_dir_all(root.join("tokens")).map_err(|e| err(root, e))?;
        Ok(Home { root: root.to_owned() })
    }

    /// The task-token store.
    pub fn tokens(&self) -> Result<TokenStore, String> {
        TokenStore::open(&self.root.join("tokens")).map_err(|e| err(&self.root, e))
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root.join("executions").join(name)
    }

    /// Starts an execution and runs it until it ends or waits on a task token.
    pub fn start(
        &self,
        start: Start,
        activities: Arc<dyn Activities>,
        clock: &dyn Clock,
        block_on_tokens: bool,
    ) -> Result<Report, String> {
        check_name("state machine", &start.machine)?;
        let machine = validate(&start.definition, activities.as_ref())
            .map_err(|problems| problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))?;
        if let Some((config, case)) = &start.mock {
            MockCase::load(config, &start.machine, case)?;
        }
        let now = clock.now();
        let name = match start.name {
            Some(n) => n,
            None => {
                let stamp = now.strftime("%Y%m%dT%H%M%S%.3fZ").to_string().replace('.', "");
                let mut n = format!("{}-{stamp}", start.machine);
                let mut i = 1;
                while self.dir(&n).exists() {
                    i += 1;
                    n = format!("{}-{stamp}-{i}", start.machine);
                }
                n
            }
        };
        check_name("execution", &name)?;
        let dir = self.dir(&name);
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(format!(
                "an execution named `{name}` exists already (ExecutionAlreadyExists); resume it or pick another name"
            ))
            }
            Err(e) => return Err(err(&dir, e)),
        }
        let record = json!({
            "name": name,
            "executionArn": format!("arn:aws:states:local:000000000000:execution:{}:{name}", start.machine),
            "stateMachine": start.machine,
            "stateMachineArn": format!("arn:aws:states:local:000000000000:stateMachine:{}", start.machine),
            "startDate": now.to_string(),
            "seed": start.seed.clone().unwrap_or_else(|| name.clone()),
            "input": start.input,
            "definition": start.definition,
            "mock": start.mock.as_ref().map(|(config, case)| json!({"config": config, "testCase": case})),
            "environment": start.environment,
            "status": "RUNNING",
        });
        let path = dir.join("execution.json");
        write_atomic(&path, &pretty(&record)).map_err(|e| err(&path, e))?;
        drop(machine);
        self.resume(&name, activities, clock, block_on_tokens)
    }

    /// Runs an execution from its history: completed tasks are not called again.
    pub fn resume(
        &self,
        name: &str,
        activities: Arc<dyn Activities>,
        clock: &dyn Clock,
        block_on_tokens: bool,
    ) -> Result<Report, String> {
        check_name("execution", name)?;
        let dir = self.dir(name);
        let path = dir.join("execution.json");
        let text = fs::read(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                format!("no execution named `{name}` in {} (ExecutionDoesNotExist)", self.root.display())
            } else {
                err(&path, e)
            }
        })?;
        let mut record: Value = serde_json::from_slice(&text).map_err(|e| err(&path, e))?;
        match record["status"].as_str() {
            Some("RUNNING" | "WAITING") => {}
            Some(done) => return Err(format!("the execution `{name}` has ended ({done}); start a new one")),
            None => return Err(err(&path, "no status")),
        }
        let _lock = lock(&dir)?;
        let machine = validate(&record["definition"], activities.as_ref())
            .map_err(|problems| problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))?;
        let machine_name = record["stateMachine"].as_str().unwrap_or_default().to_owned();
        let mocks = match record["mock"].as_object() {
            Some(m) => Some(MockCase::load(&m["config"], &machine_name, m["testCase"].as_str().unwrap_or_default())?),
            None => None,
        };
        let info = ExecutionInfo {
            arn: record["executionArn"].as_str().unwrap_or_default().to_owned(),
            name: name.to_owned(),
            machine_name,
            machine_arn: record["stateMachineArn"].as_str().unwrap_or_default().to_owned(),
            input: record["input"].clone(),
            start: record["startDate"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| clock.now()),
            seed: record["seed"].as_str().unwrap_or(name).to_owned(),
        };
        let history = dir.join("history.jsonl");
        let journal = Journal::open(&history).map_err(|e| e.0)?;
        let tokens = self.tokens()?;
        let runner =
            Runner::new(&machine, activities, clock, &journal, Some(&tokens), mocks.as_ref(), &info, block_on_tokens);
        let outcome = runner.run();
        let report = Report { name: name.to_owned(), arn: info.arn.clone(), outcome, history };
        record["status"] = json!(report.status());
        match &report.outcome {
            Outcome::Succeeded(v) => record["output"] = v.clone(),
            Outcome::Failed(f) => {
                record["error"] = json!(f.error);
                record["cause"] = json!(f.cause);
            }
            Outcome::Waiting(w) => {
                record["waitingOn"] =
                    json!(w.iter().map(|w| json!({"state": w.state, "taskToken": w.token})).collect::<Vec<_>>());
            }
        }
        if !matches!(report.outcome, Outcome::Waiting(_)) {
            record["stopDate"] = json!(clock.now().to_string());
            if let Some(o) = record.as_object_mut() {
                o.remove("waitingOn");
            }
        }
        write_atomic(&path, &pretty(&record)).map_err(|e| err(&path, e))?;
        Ok(report)
    }

    /// The record of an execution (`execution.json`).
    pub fn describe(&self, name: &str) -> Result<Value, String> {
        check_name("execution", name)?;
        let path = self.dir(name).join("execution.json");
        let text = fs::read(&path).map_err(|e| err(&path, e))?;
        serde_json::from_slice(&text).map_err(|e| err(&path, e))
    }
}

fn pretty(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}
