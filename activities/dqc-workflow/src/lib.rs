//! The local workflow engine: runs Amazon States Language state machines on one machine.
//!
//! The same state-machine JSON that Step Functions runs on AWS runs here: [`definition`]
//! parses and validates it (refusing, by state and field, what the runner does not support),
//! [`runner`] executes it with the JSONPath input/output pipeline, intrinsic functions,
//! `Retry`/`Catch`, timeouts, `Parallel` and inline `Map`; task resources go to
//! [`Activities`] (Lambda functions in process, SNS to a notifier). Every event is appended
//! to a durable history ([`journal`]); an interrupted execution resumes from it without
//! running a completed task twice. `.waitForTaskToken` tasks wait on a [`tokens`] store that
//! `dqc workflow send-success|send-failure` completes. [`mock`] reads AWS's Step Functions
//! Local mock configuration, so state machines can be tested offline.

pub mod choice;
pub mod definition;
pub mod execution;
pub mod intrinsics;
pub mod journal;
pub mod mermaid;
pub mod mock;
pub mod path;
pub mod resources;
pub mod runner;
pub mod tokens;

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::Value;

/// An error as the States Language sees it: a name that `Retry`/`Catch` match, and a cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    pub cause: String,
}

impl Failure {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Failure { error: error.into(), cause: cause.into() }
    }

    /// The error output a `Catch` hands on: `{"Error", "Cause"}`.
    pub fn output(&self) -> Value {
        serde_json::json!({"Error": self.error, "Cause": self.cause})
    }

    /// Errors no `Retry` or `Catch` handles: the execution fails.
    pub fn is_terminal(&self) -> bool {
        self.error == "States.Runtime" || self.error == "States.DataLimitExceeded"
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

/// Where a task call comes from, for the activity that serves it.
#[derive(Debug, Clone)]
pub struct CallInfo<'a> {
    pub execution: &'a str,
    pub state: &'a str,
    /// 0 for the first attempt, then one more per retry.
    pub attempt: u32,
    /// The task token of a `.waitForTaskToken` task.
    pub token: Option<&'a str>,
}

/// What task states call: the local twins of the AWS services a state machine uses.
pub trait Activities: Send + Sync {
    /// Whether a Lambda function of this name exists here.
    fn has_function(&self, name: &str) -> bool;
    /// Invokes a Lambda function with its event; errors carry the function's `errorType`.
    fn invoke(&self, function: &str, payload: Value, call: &CallInfo<'_>) -> Result<Value, Failure>;
    /// SNS `Publish`: returns the message id.
    fn publish(&self, topic_arn: &str, subject: Option<&str>, message: &str) -> Result<String, Failure>;
    /// Whether Athena's `startQueryExecution` and `getQueryResults` run here.
    fn has_athena(&self) -> bool {
        false
    }
    /// Athena `StartQueryExecution` (run to completion) with the task's parameters: answers
    /// `{"QueryExecution": {...}}` as the `.sync` integration does.
    fn athena_start_query(&self, params: &Value) -> Result<Value, Failure> {
        let _ = params;
        Err(Failure::new("States.Runtime", "Athena is not available to this runner"))
    }
    /// Athena `GetQueryResults`: answers `{"ResultSet": {...}}`.
    fn athena_query_results(&self, params: &Value) -> Result<Value, Failure> {
        let _ = params;
        Err(Failure::new("States.Runtime", "Athena is not available to this runner"))
    }
}

/// Time as the runner sees it: waits and retry intervals go through here.
pub trait Clock: Send + Sync {
    fn now(&self) -> jiff::Timestamp;
    fn sleep(&self, seconds: f64);
    /// The pause between two looks at the task-token store while waiting on a token.
    fn poll_pause(&self) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The wall clock.
#[derive(Debug, Default)]
pub struct RealClock;

impl Clock for RealClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }

    fn sleep(&self, seconds: f64) {
        if seconds > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(seconds.min(1.0e9)));
        }
    }
}

/// A clock whose sleeps take no time: time jumps forward instead (for tests and
/// `--no-wait`). `now` stays monotonic with real time plus every skipped sleep.
#[derive(Debug, Default)]
pub struct SkipClock {
    skipped_ms: AtomicI64,
}

impl Clock for SkipClock {
    fn now(&self) -> jiff::Timestamp {
        let skipped = jiff::SignedDuration::from_millis(self.skipped_ms.load(Ordering::SeqCst));
        jiff::Timestamp::now().checked_add(skipped).unwrap_or(jiff::Timestamp::MAX)
    }

    fn sleep(&self, seconds: f64) {
        if seconds > 0.0 {
            self.skipped_ms.fetch_add((seconds * 1000.0).min(1.0e15) as i64, Ordering::SeqCst);
        }
    }
}
