//! The interpreter: runs a validated [`Machine`] state by state.
//!
//! Input and output go through AWS's pipeline in AWS's order: `InputPath`, `Parameters`
//! (or `ItemSelector`), the task, `ResultSelector`, `ResultPath`, `OutputPath`. Errors are
//! matched by `Retry` (per-retrier attempt counts, backoff, `MaxDelaySeconds`, full jitter)
//! and then `Catch`; `States.Runtime` ends the execution whatever the clauses say.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use serde_json::{json, Value};
use sha2::Digest as _;

use crate::definition::{FailField, Kind, Machine, NullablePath, Seconds, State, Transition, WaitFor, Work};
use crate::intrinsics::Env;
use crate::journal::Journal;
use crate::mock::{MockCase, Response};
use crate::path::{PathExpr, RefPath};
use crate::resources::call_resource;
pub use crate::resources::{function_name, validate, Resource};
use crate::tokens::{TokenState, TokenStore};
use crate::{Activities, CallInfo, Clock, Failure};

/// The largest state input or output Step Functions accepts (256 KiB).
pub const MAX_PAYLOAD: usize = 262_144;

/// Inline `Map` iterations run at most this many at a time when `MaxConcurrency` is 0.
pub const MAX_MAP_THREADS: usize = 40;

/// Who and what an execution is.
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    pub arn: String,
    pub name: String,
    pub machine_name: String,
    pub machine_arn: String,
    pub input: Value,
    pub start: jiff::Timestamp,
    pub seed: String,
}

/// How an execution ended, or why it stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded(Value),
    Failed(Failure),
    /// Every branch still running waits on a task token.
    Waiting(Vec<Waiting>),
}

/// A task waiting on its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub token: String,
    pub state: String,
}

enum Fault {
    Fail(Failure),
    Pause(Vec<Waiting>),
}

impl From<Failure> for Fault {
    fn from(f: Failure) -> Self {
        Fault::Fail(f)
    }
}

/// Runs one execution.
pub struct Runner<'a> {
    pub machine: &'a Machine,
    pub activities: Arc<dyn Activities>,
    pub clock: &'a dyn Clock,
    pub journal: &'a Journal,
    pub tokens: Option<&'a TokenStore>,
    pub mocks: Option<&'a MockCase>,
    pub execution: &'a ExecutionInfo,
    /// Wait on task tokens (polling the store) instead of stopping with [`Outcome::Waiting`].
    pub block_on_tokens: bool,
    invocations: Mutex<BTreeMap<String, u32>>,
}

impl std::fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").field("execution", &self.execution.arn).finish_non_exhaustive()
    }
}

fn next_of(t: &Transition) -> Option<String> {
    match t {
        Transition::Next(n) => Some(n.clone()),
        Transition::End => None,
    }
}

/// Whether an `ErrorEquals` list matches an error name.
pub fn error_matches(names: &[String], error: &str) -> bool {
    // `States.Timeout` also names a missed heartbeat; `States.TaskFailed` matches every error
    // but the timeouts, as on AWS.
    let timeout = error == "States.Timeout" || error == "States.HeartbeatTimeout";
    names.iter().any(|n| {
        n == error || n == "States.ALL" || (n == "States.Timeout" && timeout) || (n == "States.TaskFailed" && !timeout)
    })
}

impl<'a> Runner<'a> {
    #[allow(clippy::too_many_arguments, reason = "the parts of an execution, each borrowed from its owner")]
    pub fn new(
        machine: &'a Machine,
        activities: Arc<dyn Activities>,
        clock: &'a dyn Clock,
        journal: &'a Journal,
        tokens: Option<&'a TokenStore>,
        mocks: Option<&'a MockCase>,
        execution: &'a ExecutionInfo,
        block_on_tokens: bool,
    ) -> Self {
        Runner {
            machine,
            activities,
            clock,
            journal,
            tokens,
            mocks,
            execution,
            block_on_tokens,
            invocations: Mutex::new(BTreeMap::new()),
        }
    }

    /// Runs (or replays and continues) the execution.
    pub fn run(&self) -> Outcome {
        let e = self.execution;
        self.journal.emit(
            "ExecutionStarted",
            "",
            e.start,
            Some((
                "executionStartedEventDetails",
                json!({"input": e.input.to_string(), "roleArn": "arn:aws:iam::000000000000:role/dqc-local-runner"}),
            )),
        );
        match self.machine_run(self.machine, e.input.clone(), "") {
            Ok(output) => {
                self.journal.emit(
                    "ExecutionSucceeded",
                    "",
                    self.clock.now(),
                    Some(("executionSucceededEventDetails", json!({"output": output.to_string()}))),
                );
                Outcome::Succeeded(output)
            }
            Err(Fault::Fail(f)) => {
                let ty = if f.error == "States.Timeout" && self.past_deadline() {
                    "ExecutionTimedOut"
                } else {
                    "ExecutionFailed"
                };
                let details = if ty == "ExecutionTimedOut" {
                    "executionTimedOutEventDetails"
                } else {
                    "executionFailedEventDetails"
                };
                self.journal.emit(
                    ty,
                    "",
                    self.clock.now(),
                    Some((details, json!({"error": f.error, "cause": f.cause}))),
                );
                Outcome::Failed(f)
            }
            Err(Fault::Pause(w)) => Outcome::Waiting(w),
        }
    }

    fn execution_deadline(&self) -> Option<jiff::Timestamp> {
        let t = self.machine.timeout_seconds?;
        Some(
            self.execution.start
                + jiff::SignedDuration::from_secs(i64::try_from(t).unwrap_or(i64::MAX / 2_000_000_000)),
        )
    }

    fn past_deadline(&self) -> bool {
        self.execution_deadline().is_some_and(|end| self.clock.now() >= end)
    }

    fn context(&self, state: &str, retry: u32, token: Option<&str>, item: Option<(usize, &Value)>) -> Value {
        let e = self.execution;
        let mut ctx = json!({
            "Execution": {
                "Id": e.arn,
                "Input": e.input,
                "Name": e.name,
                "RoleArn": "arn:aws:iam::000000000000:role/dqc-local-runner",
                "StartTime": e.start.to_string(),
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": e.machine_arn, "Name": e.machine_name},
            "State": {"EnteredTime": self.clock.now().to_string(), "Name": state, "RetryCount": retry},
        });
        if let Some(t) = token {
            ctx["Task"] = json!({"Token": t});
        }
        if let Some((i, v)) = item {
            ctx["Map"] = json!({"Item": {"Index": i, "Value": v}});
        }
        ctx
    }

    fn env_seed(&self, key: &str) -> String {
        format!("{}/{key}", self.execution.seed)
    }

    fn select(&self, p: &NullablePath, v: &Value, field: &str) -> Result<Value, Failure> {
        match p {
            NullablePath::Default => Ok(v.clone()),
            NullablePath::Null => Ok(json!({})),
            NullablePath::Path(s) => {
                let path = PathExpr::parse(s).map_err(|e| Failure::new("States.Runtime", e))?;
                path.select(v, &self.context("", 0, None, None)).ok_or_else(|| {
                    Failure::new(
                        "States.Runtime",
                        format!("Invalid path '{s}' : No results for path: {s} (in the field '{field}')"),
                    )
                })
            }
        }
    }

    fn put_result(&self, p: &NullablePath, raw: &Value, result: Value) -> Result<Value, Failure> {
        match p {
            NullablePath::Default => Ok(result),
            NullablePath::Null => Ok(raw.clone()),
            NullablePath::Path(s) => {
                let r = RefPath::parse(s).map_err(|e| Failure::new("States.Runtime", e))?;
                r.set(raw.clone(), result).map_err(|e| {
                    Failure::new(
                        "States.ResultPathMatchFailure",
                        format!("Unable to apply ResultPath '{s}' to the state's input: {e}"),
                    )
                })
            }
        }
    }

    fn seconds(&self, s: &Seconds, input: &Value, field: &str) -> Result<f64, Failure> {
        match s {
            Seconds::Fixed(n) => Ok(*n),
            Seconds::Path(p) => {
                let v = p.select(input, &self.context("", 0, None, None)).ok_or_else(|| {
                    Failure::new(
                        "States.Runtime",
                        format!("Invalid path '{}' : the field '{field}Path' found nothing", p.text),
                    )
                })?;
                // Seconds, counts and concurrency are whole numbers; a percentage need not be.
                let whole = field != "ToleratedFailurePercentage";
                v.as_f64().filter(|n| *n >= 0.0 && (!whole || n.fract() == 0.0)).ok_or_else(|| {
                    let what = if whole { "a non-negative integer" } else { "a non-negative number" };
                    Failure::new(
                        "States.Runtime",
                        format!("the field '{field}Path' ('{}') must select {what}, not {v}", p.text),
                    )
                })
            }
        }
    }

    fn machine_run(&self, m: &Machine, mut input: Value, prefix: &str) -> Result<Value, Fault> {
        let mut name = m.start_at.clone();
        let mut visits: BTreeMap<String, u32> = BTreeMap::new();
        loop {
            if self.past_deadline() {
                return Err(Failure::new(
                    "States.Timeout",
                    "The execution ran longer than the state machine's TimeoutSeconds",
                )
                .into());
            }
            let Some(state) = m.states.get(&name) else {
                return Err(Failure::new("States.Runtime", format!("no state is named `{name}`")).into());
            };
            let visit = visits.entry(name.clone()).or_insert(0);
            *visit += 1;
            let key = format!("{prefix}{name}#{visit}");
            let ty = state.kind.type_name();
            self.journal.emit(
                &format!("{ty}StateEntered"),
                &key,
                self.clock.now(),
                Some(("stateEnteredEventDetails", json!({"name": name, "input": input.to_string()}))),
            );
            let (output, next) = self.state(state, &input, &key)?;
            let text = output.to_string();
            if text.len() > MAX_PAYLOAD {
                return Err(Failure::new(
                    "States.DataLimitExceeded",
                    format!("The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit ({} > {MAX_PAYLOAD})", text.len()),
                )
                .into());
            }
            self.journal.emit(
                &format!("{ty}StateExited"),
                &key,
                self.clock.now(),
                Some(("stateExitedEventDetails", json!({"name": name, "output": text}))),
            );
            match next {
                Some(n) => {
                    name = n;
                    input = output;
                }
                None => return Ok(output),
            }
        }
    }

    fn state(&self, state: &State, raw: &Value, key: &str) -> Result<(Value, Option<String>), Fault> {
        let name = &state.name;
        match &state.kind {
            Kind::Pass { io, parameters, result, result_path, transition } => {
                let effective = self.select(&io.input_path, raw, "InputPath")?;
                let value = match (result, parameters) {
                    (Some(r), _) => r.clone(),
                    (None, Some(t)) => {
                        t.render(&effective, &self.context(name, 0, None, None), &Env::new(&self.env_seed(key)))?
                    }
                    (None, None) => effective,
                };
                let combined = self.put_result(result_path, raw, value)?;
                Ok((self.select(&io.output_path, &combined, "OutputPath")?, next_of(transition)))
            }
            Kind::Choice { io, choices, default } => {
                let effective = self.select(&io.input_path, raw, "InputPath")?;
                let ctx = self.context(name, 0, None, None);
                let mut chosen = None;
                for (rule, next) in choices {
                    if rule.eval(&effective, &ctx)? {
                        chosen = Some(next.clone());
                        break;
                    }
                }
                let next = match chosen.or_else(|| default.clone()) {
                    Some(n) => n,
                    None => {
                        return Err(Failure::new(
                            "States.NoChoiceMatched",
                            format!("No Choice Rules matched in the state '{name}' and it has no Default"),
                        )
                        .into())
                    }
                };
                Ok((self.select(&io.output_path, &effective, "OutputPath")?, Some(next)))
            }
            Kind::Wait { io, until, transition } => {
                let effective = self.select(&io.input_path, raw, "InputPath")?;
                if self.journal.recorded("WaitStateExited", key).is_none() {
                    let entered = self
                        .journal
                        .recorded("WaitStateEntered", key)
                        .and_then(|(_, at)| at.parse::<jiff::Timestamp>().ok())
                        .unwrap_or_else(|| self.clock.now());
                    let deadline = match until {
                        WaitFor::Seconds(s) => {
                            let secs = self.seconds(s, &effective, "Seconds")?;
                            entered + jiff::SignedDuration::from_millis((secs * 1000.0) as i64)
                        }
                        WaitFor::Timestamp(t) => *t,
                        WaitFor::TimestampPath(p) => {
                            let v = p.select(&effective, &self.context(name, 0, None, None));
                            v.as_ref()
                                .and_then(Value::as_str)
                                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                                .ok_or_else(|| {
                                    Failure::new(
                                        "States.Runtime",
                                        format!(
                                            "Invalid path '{}': the TimestampPath must select an RFC 3339 timestamp",
                                            p.text
                                        ),
                                    )
                                })?
                        }
                    };
                    let left = deadline.duration_since(self.clock.now()).as_secs_f64();
                    // The execution's own deadline ends a wait early, as on AWS.
                    if let Some(end) = self.execution_deadline() {
                        let until_end = end.duration_since(self.clock.now()).as_secs_f64();
                        if until_end < left {
                            self.clock.sleep(until_end);
                            return Err(Failure::new(
                                "States.Timeout",
                                "The execution ran longer than the state machine's TimeoutSeconds",
                            )
                            .into());
                        }
                    }
                    self.clock.sleep(left);
                }
                Ok((self.select(&io.output_path, &effective, "OutputPath")?, next_of(transition)))
            }
            Kind::Succeed { io } => {
                let effective = self.select(&io.input_path, raw, "InputPath")?;
                Ok((self.select(&io.output_path, &effective, "OutputPath")?, None))
            }
            Kind::Fail { error, cause } => {
                let ctx = self.context(name, 0, None, None);
                let env = Env::new(key);
                let field = |f: &Option<FailField>, which: &str| -> Result<String, Failure> {
                    Ok(match f {
                        None => String::new(),
                        Some(FailField::Fixed(s)) => s.clone(),
                        Some(FailField::Dynamic(e)) => {
                            match e.eval(raw, &ctx, &env, "States.Runtime", &format!("{which}Path"))? {
                                Value::String(s) => s,
                                other => other.to_string(),
                            }
                        }
                    })
                };
                let f = Failure::new(field(error, "Error")?, field(cause, "Cause")?);
                Err(f.into())
            }
            Kind::Task { work, resource, timeout, heartbeat } => {
                self.work(name, work, raw, key, &|attempt, akey, effective| {
                    self.task(name, work, resource, timeout.as_ref(), heartbeat.as_ref(), attempt, akey, effective)
                })
            }
            Kind::Parallel { work, branches } => self.work(name, work, raw, key, &|attempt, akey, effective| {
                let ctx = self.context(name, attempt, None, None);
                let input = match &work.parameters {
                    Some(t) => t.render(effective, &ctx, &Env::new(&self.env_seed(akey)))?,
                    None => effective.clone(),
                };
                self.parallel(branches, &input, akey)
            }),
            Kind::Map { work, items_path, processor, max_concurrency, tolerated_percentage, tolerated_count } => self
                .work(name, work, raw, key, &|attempt, akey, effective| {
                    let ctx = self.context(name, attempt, None, None);
                    let items = match items_path {
                        Some(p) => p.select(effective, &ctx).ok_or_else(|| {
                            Failure::new(
                                "States.Runtime",
                                format!("Invalid path '{}' : the ItemsPath found nothing in the input", p.text),
                            )
                        })?,
                        None => effective.clone(),
                    };
                    let Value::Array(items) = items else {
                        return Err(Failure::new(
                            "States.Runtime",
                            format!("The ItemsPath of the Map state '{name}' must select an array"),
                        )
                        .into());
                    };
                    let concurrency = match max_concurrency {
                        Some(s) => self.seconds(s, effective, "MaxConcurrency")? as usize,
                        None => 0,
                    };
                    let tolerance = (
                        tolerated_percentage
                            .as_ref()
                            .map(|s| self.seconds(s, effective, "ToleratedFailurePercentage"))
                            .transpose()?,
                        tolerated_count
                            .as_ref()
                            .map(|s| self.seconds(s, effective, "ToleratedFailureCount"))
                            .transpose()?,
                    );
                    self.map(name, work, processor, effective, &items, concurrency, tolerance, attempt, akey)
                }),
        }
    }

    /// Retry and Catch around the attempts of a Task, Parallel or Map state.
    fn work(
        &self,
        name: &str,
        work: &Work,
        raw: &Value,
        key: &str,
        attempt_fn: &dyn Fn(u32, &str, &Value) -> Result<Value, Fault>,
    ) -> Result<(Value, Option<String>), Fault> {
        let mut used = vec![0u32; work.retry.len()];
        let mut attempt = 0u32;
        loop {
            let akey = format!("{key}@{attempt}");
            let result =
                self.select(&work.io.input_path, raw, "InputPath").map_err(Fault::Fail).and_then(|effective| {
                    let result = attempt_fn(attempt, &akey, &effective)?;
                    match &work.result_selector {
                        Some(t) => Ok(t.render(
                            &result,
                            &self.context(name, attempt, None, None),
                            &Env::new(&self.env_seed(&akey)),
                        )?),
                        None => Ok(result),
                    }
                });
            let f = match result {
                Ok(selected) => {
                    let combined = self.put_result(&work.result_path, raw, selected)?;
                    return Ok((
                        self.select(&work.io.output_path, &combined, "OutputPath")?,
                        next_of(&work.transition),
                    ));
                }
                Err(Fault::Pause(w)) => return Err(Fault::Pause(w)),
                Err(Fault::Fail(f)) => f,
            };
            if f.is_terminal() {
                return Err(f.into());
            }
            if let Some(i) = work.retry.iter().position(|r| error_matches(&r.error_equals, &f.error)) {
                let r = &work.retry[i];
                if used[i] < r.max_attempts {
                    let mut delay = r.interval_seconds * r.backoff_rate.powi(used[i] as i32);
                    if let Some(max) = r.max_delay_seconds {
                        delay = delay.min(max);
                    }
                    if r.full_jitter {
                        delay *= self.unit_random(&akey);
                    }
                    used[i] += 1;
                    attempt += 1;
                    if !self.journal.knows_prefix(&format!("{key}@{attempt}")) {
                        self.clock.sleep(delay);
                    }
                    continue;
                }
            }
            if let Some(c) = work.catch.iter().find(|c| error_matches(&c.error_equals, &f.error)) {
                let out = self.put_result(&c.result_path, raw, f.output())?;
                return Ok((out, Some(c.next.clone())));
            }
            return Err(f.into());
        }
    }

    fn unit_random(&self, key: &str) -> f64 {
        let mut h = sha2::Sha256::new();
        h.update(self.execution.seed.as_bytes());
        h.update(b"/jitter/");
        h.update(key.as_bytes());
        let d = h.finalize();
        let mut w = [0u8; 8];
        w.copy_from_slice(&d[..8]);
        (u64::from_le_bytes(w) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn token_for(&self, akey: &str) -> String {
        let mut h = sha2::Sha256::new();
        h.update(self.execution.arn.as_bytes());
        h.update([0]);
        h.update(akey.as_bytes());
        let d = h.finalize();
        d.iter().take(24).map(|b| format!("{b:02x}")).collect()
    }

    #[allow(clippy::too_many_arguments, reason = "a task attempt needs its state's fields and its place")]
    #[allow(clippy::too_many_lines, reason = "replay, mocks, the call and the token wait read best in order")]
    fn task(
        &self,
        name: &str,
        work: &Work,
        resource: &str,
        timeout: Option<&Seconds>,
        heartbeat: Option<&Seconds>,
        attempt: u32,
        akey: &str,
        effective: &Value,
    ) -> Result<Value, Fault> {
        let res = Resource::parse(resource).map_err(|e| Failure::new("States.Runtime", e))?;
        let token = res.waits().then(|| self.token_for(akey));
        let ctx = self.context(name, attempt, token.as_deref(), None);
        let params = match &work.parameters {
            Some(t) => t.render(effective, &ctx, &Env::new(&self.env_seed(akey)))?,
            None => effective.clone(),
        };
        let timeout = timeout.map(|s| self.seconds(s, effective, "TimeoutSeconds")).transpose()?;
        let heartbeat = heartbeat.map(|s| self.seconds(s, effective, "HeartbeatSeconds")).transpose()?;
        // A plain Lambda function ARN records `LambdaFunction*` events, as on AWS.
        let prefix = if matches!(res, Resource::Function(_)) { "LambdaFunction" } else { "Task" };
        let ev = |kind: &str| format!("{prefix}{kind}");
        let details = |kind: &str| {
            let mut name = ev(kind);
            if let Some(first) = name.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            format!("{name}EventDetails")
        };
        let invocation = {
            let mut inv =
                self.invocations.lock().map_err(|_| Failure::new("States.Runtime", "a runner thread panicked"))?;
            let n = inv.entry(name.to_owned()).or_insert(0);
            *n += 1;
            *n - 1
        };
        // Replay: a task whose outcome is in the history is not called again.
        if let Some((d, _)) = self.journal.recorded(&ev("Succeeded"), akey) {
            return Ok(serde_json::from_str(d["output"].as_str().unwrap_or("null")).unwrap_or(Value::Null));
        }
        for ty in [ev("Failed"), ev("TimedOut")] {
            if let Some((d, _)) = self.journal.recorded(&ty, akey) {
                return Err(Failure::new(
                    d["error"].as_str().unwrap_or_default(),
                    d["cause"].as_str().unwrap_or_default(),
                )
                .into());
            }
        }
        let now = self.clock.now();
        let mut scheduled = json!({"resourceType": res.type_name(), "resource": resource, "region": "local", "parameters": params.to_string()});
        if let Some(t) = timeout {
            scheduled["timeoutInSeconds"] = json!(t);
        }
        if let Some(h) = heartbeat {
            scheduled["heartbeatInSeconds"] = json!(h);
        }
        self.journal.emit(&ev("Scheduled"), akey, now, Some((&details("Scheduled"), scheduled)));
        self.journal.emit(
            &ev("Started"),
            akey,
            now,
            Some((&details("Started"), json!({"resourceType": res.type_name(), "resource": resource}))),
        );
        let succeeded = |v: Value| {
            self.journal.emit(
                &ev("Succeeded"),
                akey,
                self.clock.now(),
                Some((
                    &details("Succeeded"),
                    json!({"resourceType": res.type_name(), "resource": resource, "output": v.to_string()}),
                )),
            );
            Ok(v)
        };
        let failed = |f: Failure, ty: &str| -> Result<Value, Fault> {
            let (ty, dname) = if ty == "TaskTimedOut" {
                (ev("TimedOut"), details("TimedOut"))
            } else {
                (ev("Failed"), details("Failed"))
            };
            self.journal.emit(
                &ty,
                akey,
                self.clock.now(),
                Some((
                    &dname,
                    json!({"resourceType": res.type_name(), "resource": resource, "error": f.error, "cause": f.cause}),
                )),
            );
            Err(f.into())
        };
        if let Some(response) = self.mocks.and_then(|m| m.response(name, invocation)) {
            return match response {
                Response::Return(v) => succeeded(v),
                Response::Throw(f) => failed(f, "TaskFailed"),
            };
        }
        let token_text = token.clone();
        let info = CallInfo { execution: &self.execution.arn, state: name, attempt, token: token_text.as_deref() };
        let Some(token) = token else {
            return match self.call(&res, params, &info, timeout) {
                Ok(v) => succeeded(v),
                Err(f) if f.error == "States.Timeout" => failed(f, "TaskTimedOut"),
                Err(f) => failed(f, "TaskFailed"),
            };
        };
        let Some(store) = self.tokens else {
            return failed(
                Failure::new("States.Runtime", "this run has no task-token store for `.waitForTaskToken` tasks"),
                "TaskFailed",
            );
        };
        if self.journal.recorded("TaskSubmitted", akey).is_none() {
            let record = json!({
                "token": token,
                "execution": self.execution.name,
                "executionArn": self.execution.arn,
                "state": name,
                "submitted": now.to_string(),
                "timeoutSeconds": timeout,
                "heartbeatSeconds": heartbeat,
            });
            if let Err(e) = store.register(&token, &record) {
                return failed(Failure::new("States.Runtime", e.to_string()), "TaskFailed");
            }
            match self.call(&res, params, &info, None) {
                Ok(v) => self.journal.emit(
                    "TaskSubmitted",
                    akey,
                    self.clock.now(),
                    Some((
                        "taskSubmittedEventDetails",
                        json!({"resourceType": res.type_name(), "resource": resource, "output": v.to_string()}),
                    )),
                ),
                Err(f) => {
                    let _ = store.send_failure(&token, &f.error, &f.cause);
                    return failed(f, "TaskFailed");
                }
            }
        }
        let submitted = self
            .journal
            .recorded("TaskSubmitted", akey)
            .and_then(|(_, at)| at.parse::<jiff::Timestamp>().ok())
            .unwrap_or(now);
        loop {
            match store.state(&token) {
                Ok(TokenState::Succeeded(v)) => return succeeded(v),
                Ok(TokenState::Failed(f)) => return failed(f, "TaskFailed"),
                Ok(TokenState::Pending) => {}
                Err(e) => return failed(Failure::new("States.Runtime", e.to_string()), "TaskFailed"),
            }
            let now = self.clock.now();
            let after =
                |from: jiff::Timestamp, secs: f64| from + jiff::SignedDuration::from_millis((secs * 1000.0) as i64);
            if let Some(t) = timeout {
                if now >= after(submitted, t) {
                    let _ = store.send_failure(&token, "States.Timeout", "the task was not answered in time");
                    return failed(
                        Failure::new("States.Timeout", format!("no answer to the task token within {t} seconds")),
                        "TaskTimedOut",
                    );
                }
            }
            if let Some(h) = heartbeat {
                let last = store.last_heartbeat(&token).map_or(submitted, |b| b.max(submitted));
                if now >= after(last, h) {
                    let _ = store.send_failure(&token, "States.HeartbeatTimeout", "no heartbeat in time");
                    return failed(
                        Failure::new(
                            "States.HeartbeatTimeout",
                            format!("no heartbeat for the task token within {h} seconds"),
                        ),
                        "TaskTimedOut",
                    );
                }
            }
            if !self.block_on_tokens {
                return Err(Fault::Pause(vec![Waiting { token, state: name.to_owned() }]));
            }
            self.clock.poll_pause();
        }
    }

    /// Calls a resource, on a thread of its own when the task has a timeout.
    fn call(&self, res: &Resource, params: Value, info: &CallInfo<'_>, timeout: Option<f64>) -> Result<Value, Failure> {
        let Some(limit) = timeout else {
            return call_resource(self.activities.as_ref(), res, params, info);
        };
        let (tx, rx) = mpsc::channel();
        let activities = Arc::clone(&self.activities);
        let (res, execution, state, token) =
            (res.clone(), info.execution.to_owned(), info.state.to_owned(), info.token.map(str::to_owned));
        let attempt = info.attempt;
        std::thread::spawn(move || {
            let info = CallInfo { execution: &execution, state: &state, attempt, token: token.as_deref() };
            let _ = tx.send(call_resource(activities.as_ref(), &res, params, &info));
        });
        match rx.recv_timeout(std::time::Duration::from_secs_f64(limit)) {
            Ok(r) => r,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(Failure::new("States.Timeout", format!("the task did not finish within {limit} seconds")))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(Failure::new("States.TaskFailed", "the task's thread ended without an answer"))
            }
        }
    }

    fn parallel(&self, branches: &[Machine], input: &Value, akey: &str) -> Result<Value, Fault> {
        let now = self.clock.now();
        self.journal.emit("ParallelStateStarted", akey, now, None);
        let results: Vec<Result<Value, Fault>> = std::thread::scope(|s| {
            let handles: Vec<_> = branches
                .iter()
                .enumerate()
                .map(|(i, b)| s.spawn(move || self.machine_run(b, input.clone(), &format!("{akey}/branch{i}/"))))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Failure::new("States.Runtime", "a branch's thread panicked").into()))
                })
                .collect()
        });
        let out = gather(results, None);
        let ty = if out.is_ok() { "ParallelStateSucceeded" } else { "ParallelStateFailed" };
        if !matches!(out, Err(Fault::Pause(_))) {
            self.journal.emit(ty, akey, self.clock.now(), None);
        }
        out
    }

    #[allow(clippy::too_many_arguments, reason = "a Map attempt needs its state's fields and its place")]
    fn map(
        &self,
        name: &str,
        work: &Work,
        processor: &Machine,
        effective: &Value,
        items: &[Value],
        concurrency: usize,
        tolerance: (Option<f64>, Option<f64>),
        attempt: u32,
        akey: &str,
    ) -> Result<Value, Fault> {
        self.journal.emit(
            "MapStateStarted",
            akey,
            self.clock.now(),
            Some(("mapStateStartedEventDetails", json!({"length": items.len()}))),
        );
        let n = items.len();
        let tolerant = tolerance.0.is_some() || tolerance.1.is_some();
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let slots: Mutex<Vec<Option<Result<Value, Fault>>>> = Mutex::new((0..n).map(|_| None).collect());
        let workers = if concurrency == 0 { MAX_MAP_THREADS } else { concurrency }.min(n).max(1);
        let run_item = |i: usize| -> Result<Value, Fault> {
            let ikey = format!("{akey}/{i}");
            self.journal.emit(
                "MapIterationStarted",
                &ikey,
                self.clock.now(),
                Some(("mapIterationStartedEventDetails", json!({"name": name, "index": i}))),
            );
            let input = match &work.parameters {
                Some(t) => t.render(
                    effective,
                    &self.context(name, attempt, None, Some((i, &items[i]))),
                    &Env::new(&self.env_seed(&ikey)),
                )?,
                None => items[i].clone(),
            };
            let r = self.machine_run(processor, input, &format!("{ikey}/"));
            let ty = match &r {
                Ok(_) => Some("MapIterationSucceeded"),
                Err(Fault::Fail(_)) => Some("MapIterationFailed"),
                Err(Fault::Pause(_)) => None,
            };
            if let Some(ty) = ty {
                self.journal.emit(
                    ty,
                    &ikey,
                    self.clock.now(),
                    Some(("mapIterationEventDetails", json!({"name": name, "index": i}))),
                );
            }
            r
        };
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let r = run_item(i);
                    if matches!(r, Err(Fault::Fail(_))) && !tolerant {
                        stop.store(true, Ordering::SeqCst);
                    }
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(r);
                    }
                });
            }
        });
        let slots = slots.into_inner().unwrap_or_default();
        let results: Vec<Result<Value, Fault>> = slots.into_iter().flatten().collect();
        let out = gather(results, tolerant.then_some(tolerance));
        let ty = if out.is_ok() { "MapStateSucceeded" } else { "MapStateFailed" };
        if !matches!(out, Err(Fault::Pause(_))) {
            self.journal.emit(ty, akey, self.clock.now(), None);
        }
        out
    }
}

/// The results of branches or iterations in order: the first failure (by position) fails
/// the whole unless a tolerance allows it; otherwise any waiting branch makes it wait.
fn gather(results: Vec<Result<Value, Fault>>, tolerance: Option<(Option<f64>, Option<f64>)>) -> Result<Value, Fault> {
    let total = results.len();
    let mut out = Vec::with_capacity(total);
    let mut waiting = Vec::new();
    let mut failures: Vec<Failure> = Vec::new();
    for r in results {
        match r {
            Ok(v) => out.push(v),
            Err(Fault::Pause(w)) => waiting.extend(w),
            Err(Fault::Fail(f)) => {
                out.push(f.output());
                failures.push(f);
            }
        }
    }
    if let Some(first) = failures.first() {
        if first.is_terminal() {
            return Err(first.clone().into());
        }
        match tolerance {
            None => return Err(first.clone().into()),
            Some((pct, count)) => {
                let over_count = count.is_some_and(|c| failures.len() as f64 > c);
                let over_pct = pct.is_some_and(|p| failures.len() as f64 * 100.0 / total.max(1) as f64 > p);
                if over_count || over_pct {
                    return Err(Failure::new(
                        "States.ExceedToleratedFailureThreshold",
                        format!(
                            "{} of {total} iterations failed, more than the Map tolerates; the first: {first}",
                            failures.len()
                        ),
                    )
                    .into());
                }
            }
        }
    }
    if !waiting.is_empty() {
        return Err(Fault::Pause(waiting));
    }
    Ok(Value::Array(out))
}
