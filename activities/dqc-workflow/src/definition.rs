//! The States Language model: a state machine parsed from its JSON, every supported field
//! typed, and everything the runner does not support refused with the state and the field.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::choice::ChoiceRule;
use crate::path::{self, PathExpr, RefPath, Template};

/// A problem with a definition, found before anything runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Where: the state's name, prefixed by the names of the `Map`/`Parallel` states around it.
    pub state: Option<String>,
    /// The field, when one field is at fault.
    pub field: Option<String>,
    /// What is wrong, for people.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.state, &self.field) {
            (Some(s), Some(field)) => write!(f, "state `{s}`, field `{field}`: {}", self.message),
            (Some(s), None) => write!(f, "state `{s}`: {}", self.message),
            (None, Some(field)) => write!(f, "field `{field}`: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Invalid {}

fn invalid(state: Option<&str>, field: Option<&str>, message: impl Into<String>) -> Invalid {
    Invalid { state: state.map(str::to_owned), field: field.map(str::to_owned), message: message.into() }
}

/// A state machine, or the body of a `Parallel` branch or a `Map` iteration.
#[derive(Debug, Clone)]
pub struct Machine {
    pub comment: Option<String>,
    pub start_at: String,
    pub states: BTreeMap<String, State>,
    /// The whole execution's deadline (top level only).
    pub timeout_seconds: Option<u64>,
}

/// One state: its name and what it does.
#[derive(Debug, Clone)]
pub struct State {
    pub name: String,
    pub kind: Kind,
}

/// How a state ends: a transition or the end of its machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Next(String),
    End,
}

/// A field holding a path that may be `null` (discard) or absent (the default `$`).
#[derive(Debug, Clone, Default)]
pub enum NullablePath {
    #[default]
    Default,
    Null,
    Path(String),
}

/// The input and output fields every state but `Fail` has.
#[derive(Debug, Clone, Default)]
pub struct Io {
    pub input_path: NullablePath,
    pub output_path: NullablePath,
}

/// `Retry` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

/// `Catch` entry.
#[derive(Debug, Clone)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: NullablePath,
}

/// What the states that do work (`Task`, `Parallel`, `Map`) share.
#[derive(Debug, Clone)]
pub struct Work {
    pub io: Io,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: NullablePath,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub transition: Transition,
}

/// A number of seconds given inline or by a path.
#[derive(Debug, Clone)]
pub enum Seconds {
    Fixed(f64),
    Path(PathExpr),
}

#[derive(Debug, Clone)]
pub enum Kind {
    Pass {
        io: Io,
        parameters: Option<Template>,
        result: Option<Value>,
        result_path: NullablePath,
        transition: Transition,
    },
    Task {
        work: Work,
        resource: String,
        timeout: Option<Seconds>,
        heartbeat: Option<Seconds>,
    },
    Choice {
        io: Io,
        choices: Vec<(ChoiceRule, String)>,
        default: Option<String>,
    },
    Wait {
        io: Io,
        until: WaitFor,
        transition: Transition,
    },
    Succeed {
        io: Io,
    },
    Fail {
        error: Option<FailField>,
        cause: Option<FailField>,
    },
    Parallel {
        work: Work,
        branches: Vec<Machine>,
    },
    Map {
        work: Work,
        items_path: Option<PathExpr>,
        processor: Box<Machine>,
        max_concurrency: Option<Seconds>,
        tolerated_percentage: Option<Seconds>,
        tolerated_count: Option<Seconds>,
    },
}

/// `Fail`'s `Error`/`Cause`: a constant, a path or an intrinsic function.
#[derive(Debug, Clone)]
pub enum FailField {
    Fixed(String),
    Dynamic(path::Expr),
}

/// What a `Wait` state waits for.
#[derive(Debug, Clone)]
pub enum WaitFor {
    Seconds(Seconds),
    Timestamp(jiff::Timestamp),
    TimestampPath(PathExpr),
}

impl Kind {
    /// The `Type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "Pass",
            Kind::Task { .. } => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait { .. } => "Wait",
            Kind::Succeed { .. } => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map { .. } => "Map",
        }
    }

    /// Every state this one can move to, with a label for diagrams.
    pub fn targets(&self) -> Vec<(String, Edge)> {
        let mut out = Vec::new();
        let mut transition = |t: &Transition| {
            if let Transition::Next(n) = t {
                out.push((n.clone(), Edge::Next));
            }
        };
        match self {
            Kind::Pass { transition: t, .. } | Kind::Wait { transition: t, .. } => transition(t),
            Kind::Task { work, .. } | Kind::Parallel { work, .. } | Kind::Map { work, .. } => {
                transition(&work.transition);
                for c in &work.catch {
                    out.push((c.next.clone(), Edge::Catch(c.error_equals.join(", "))));
                }
            }
            Kind::Choice { choices, default, .. } => {
                for (rule, next) in choices {
                    out.push((next.clone(), Edge::Choice(rule.describe())));
                }
                if let Some(d) = default {
                    out.push((d.clone(), Edge::Default));
                }
            }
            Kind::Succeed { .. } | Kind::Fail { .. } => {}
        }
        out
    }
}

/// Why one state leads to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edge {
    Next,
    Choice(String),
    Default,
    Catch(String),
}

/// Fields AWS defines that the local runner refuses, and why.
const REFUSED: &[(&str, &str)] = &[
    ("QueryLanguage", "the JSONata query language is not supported by the local runner; use JSONPath"),
    ("Arguments", "`Arguments` belongs to the JSONata query language, which the local runner does not support"),
    ("Output", "`Output` belongs to the JSONata query language, which the local runner does not support"),
    ("Assign", "workflow variables (`Assign`) are not supported by the local runner"),
    ("Credentials", "cross-account task credentials are not supported by the local runner"),
    ("ItemReader", "a distributed Map reading its items from S3 is not supported by the local runner"),
    ("ResultWriter", "a distributed Map writing its results to S3 is not supported by the local runner"),
    ("ItemBatcher", "item batching (a distributed Map feature) is not supported by the local runner"),
    ("Label", "`Label` (a distributed Map feature) is not supported by the local runner"),
];

/// Parses and validates a state machine definition (already substituted).
///
/// `check_resource` says whether a `Task`'s `Resource` can run here (`Err` with the reason).
pub fn parse(json: &Value, check_resource: &dyn Fn(&str) -> Result<(), String>) -> Result<Machine, Vec<Invalid>> {
    let mut problems = Vec::new();
    let machine = parse_machine(json, &[], true, check_resource, &mut problems);
    match machine {
        Some(m) if problems.is_empty() => Ok(m),
        _ => Err(problems),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawMachine {
    #[serde(default)]
    comment: Option<String>,
    start_at: String,
    states: BTreeMap<String, Value>,
    #[serde(default)]
    timeout_seconds: Option<u64>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    processor_config: Option<ProcessorConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ProcessorConfig {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    execution_type: Option<String>,
}

fn scope_name(scope: &[String], state: &str) -> String {
    if scope.is_empty() {
        state.to_owned()
    } else {
        format!("{} > {state}", scope.join(" > "))
    }
}

fn parse_machine(
    json: &Value,
    scope: &[String],
    top: bool,
    check_resource: &dyn Fn(&str) -> Result<(), String>,
    problems: &mut Vec<Invalid>,
) -> Option<Machine> {
    let where_ = if scope.is_empty() { None } else { Some(scope.join(" > ")) };
    if let Some(obj) = json.as_object() {
        for (field, why) in REFUSED {
            if obj.contains_key(*field) {
                problems.push(invalid(where_.as_deref(), Some(field), *why));
            }
        }
    }
    let mut cleaned = json.clone();
    if let Some(obj) = cleaned.as_object_mut() {
        for (field, _) in REFUSED {
            obj.remove(*field);
        }
    }
    let raw: RawMachine = match serde_json::from_value(cleaned) {
        Ok(r) => r,
        Err(e) => {
            problems.push(invalid(where_.as_deref(), None, e.to_string()));
            return None;
        }
    };
    if raw.timeout_seconds.is_some() && !top {
        problems.push(invalid(
            where_.as_deref(),
            Some("TimeoutSeconds"),
            "only the top-level machine has an execution timeout",
        ));
    }
    if let Some(v) = &raw.version {
        if v != "1.0" {
            problems.push(invalid(
                where_.as_deref(),
                Some("Version"),
                format!("unknown States Language version `{v}` (only 1.0)"),
            ));
        }
    }
    if let Some(pc) = &raw.processor_config {
        if let Some(mode) = &pc.mode {
            if mode != "INLINE" {
                problems.push(invalid(
                    where_.as_deref(),
                    Some("ProcessorConfig.Mode"),
                    format!("`{mode}` Map processing is not supported by the local runner; only INLINE"),
                ));
            }
        }
        if pc.execution_type.is_some() {
            problems.push(invalid(
                where_.as_deref(),
                Some("ProcessorConfig.ExecutionType"),
                "only a distributed Map has an execution type",
            ));
        }
    }
    if raw.states.is_empty() {
        problems.push(invalid(where_.as_deref(), Some("States"), "a machine needs at least one state"));
    }
    let mut states = BTreeMap::new();
    for (name, body) in &raw.states {
        let full = scope_name(scope, name);
        if name.chars().count() > 80 {
            problems.push(invalid(Some(&full), None, "a state name has at most 80 characters"));
        }
        if let Some(kind) = parse_state(name, &full, body, scope, check_resource, problems) {
            states.insert(name.clone(), State { name: name.clone(), kind });
        }
    }
    if !raw.states.contains_key(&raw.start_at) {
        problems.push(invalid(where_.as_deref(), Some("StartAt"), format!("no state is named `{}`", raw.start_at)));
    }
    // Transitions stay within their machine; every state is reachable from StartAt.
    let mut reachable = BTreeSet::new();
    let mut todo = vec![raw.start_at.clone()];
    while let Some(n) = todo.pop() {
        if !reachable.insert(n.clone()) {
            continue;
        }
        if let Some(s) = states.get(&n) {
            for (t, _) in s.kind.targets() {
                if raw.states.contains_key(&t) {
                    todo.push(t);
                } else {
                    problems.push(invalid(
                        Some(&scope_name(scope, &n)),
                        None,
                        format!("moves to `{t}`, which is not a state of this machine"),
                    ));
                }
            }
        }
    }
    for name in raw.states.keys() {
        if !reachable.contains(name) && states.contains_key(name) {
            problems.push(invalid(Some(&scope_name(scope, name)), None, "no path from `StartAt` reaches this state"));
        }
    }
    Some(Machine { comment: raw.comment, start_at: raw.start_at, states, timeout_seconds: raw.timeout_seconds })
}

fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<NullablePath, D::Error> {
    Ok(match Option::<String>::deserialize(d)? {
        None => NullablePath::Null,
        Some(p) => NullablePath::Path(p),
    })
}

fn from<T: DeserializeOwned>(full: &str, body: Value, problems: &mut Vec<Invalid>) -> Option<T> {
    match serde_json::from_value(body) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(invalid(Some(full), None, e.to_string()));
            None
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawPass {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    input_path: NullablePath,
    #[serde(default, deserialize_with = "nullable")]
    output_path: NullablePath,
    #[serde(default)]
    parameters: Option<Value>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    result_path: NullablePath,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    end: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawRetrier {
    error_equals: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    interval_seconds: Option<f64>,
    #[serde(default)]
    max_attempts: Option<i64>,
    #[serde(default)]
    backoff_rate: Option<f64>,
    #[serde(default)]
    max_delay_seconds: Option<f64>,
    #[serde(default)]
    jitter_strategy: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawCatcher {
    error_equals: Vec<String>,
    next: String,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    result_path: NullablePath,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawWork {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    input_path: NullablePath,
    #[serde(default, deserialize_with = "nullable")]
    output_path: NullablePath,
    #[serde(default)]
    parameters: Option<Value>,
    #[serde(default)]
    result_selector: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    result_path: NullablePath,
    #[serde(default)]
    retry: Vec<RawRetrier>,
    #[serde(default)]
    catch: Vec<RawCatcher>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    end: Option<bool>,
    // Task
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    timeout_seconds: Option<f64>,
    #[serde(default)]
    timeout_seconds_path: Option<String>,
    #[serde(default)]
    heartbeat_seconds: Option<f64>,
    #[serde(default)]
    heartbeat_seconds_path: Option<String>,
    // Parallel
    #[serde(default)]
    branches: Option<Vec<Value>>,
    // Map
    #[serde(default)]
    items_path: Option<String>,
    #[serde(default)]
    item_selector: Option<Value>,
    #[serde(default)]
    item_processor: Option<Value>,
    #[serde(default)]
    iterator: Option<Value>,
    #[serde(default)]
    max_concurrency: Option<f64>,
    #[serde(default)]
    max_concurrency_path: Option<String>,
    #[serde(default)]
    tolerated_failure_percentage: Option<f64>,
    #[serde(default)]
    tolerated_failure_percentage_path: Option<String>,
    #[serde(default)]
    tolerated_failure_count: Option<f64>,
    #[serde(default)]
    tolerated_failure_count_path: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawChoice {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    input_path: NullablePath,
    #[serde(default, deserialize_with = "nullable")]
    output_path: NullablePath,
    choices: Vec<Value>,
    #[serde(default)]
    default: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawWait {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    input_path: NullablePath,
    #[serde(default, deserialize_with = "nullable")]
    output_path: NullablePath,
    #[serde(default)]
    seconds: Option<f64>,
    #[serde(default)]
    seconds_path: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    timestamp_path: Option<String>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    end: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawSucceed {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    input_path: NullablePath,
    #[serde(default, deserialize_with = "nullable")]
    output_path: NullablePath,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawFail {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_path: Option<String>,
    #[serde(default)]
    cause: Option<String>,
    #[serde(default)]
    cause_path: Option<String>,
}

struct Ctx<'a> {
    full: &'a str,
    problems: &'a mut Vec<Invalid>,
}

impl Ctx<'_> {
    fn bad(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(invalid(Some(self.full), Some(field), message));
    }

    fn transition(&mut self, next: Option<String>, end: Option<bool>) -> Transition {
        match (next, end) {
            (Some(n), None | Some(false)) => Transition::Next(n),
            (None, Some(true)) => Transition::End,
            (Some(_), Some(true)) => {
                self.bad("End", "a state has either `Next` or `\"End\": true`, not both");
                Transition::End
            }
            (None, _) => {
                self.bad("Next", "a state that is not terminal needs `Next` or `\"End\": true`");
                Transition::End
            }
        }
    }

    fn path_field(&mut self, field: &str, p: &NullablePath) {
        if let NullablePath::Path(s) = p {
            if let Err(e) = PathExpr::parse(s) {
                self.bad(field, e);
            }
        }
    }

    fn result_path(&mut self, field: &str, p: &NullablePath) {
        if let NullablePath::Path(s) = p {
            if let Err(e) = RefPath::parse(s) {
                self.bad(field, format!("{e} (a result path names one place: `$`, `$.a.b` or `$['a'][0]`)"));
            }
        }
    }

    fn io(&mut self, input_path: NullablePath, output_path: NullablePath) -> Io {
        self.path_field("InputPath", &input_path);
        self.path_field("OutputPath", &output_path);
        Io { input_path, output_path }
    }

    fn template(&mut self, field: &str, v: Option<Value>) -> Option<Template> {
        let v = v?;
        match Template::parse(&v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.bad(field, e);
                None
            }
        }
    }

    fn path(&mut self, field: &str, p: Option<String>) -> Option<PathExpr> {
        let p = p?;
        match PathExpr::parse(&p) {
            Ok(p) => Some(p),
            Err(e) => {
                self.bad(field, e);
                None
            }
        }
    }

    fn seconds(&mut self, field: &str, fixed: Option<f64>, path: Option<String>, min: f64) -> Option<Seconds> {
        match (fixed, path) {
            (Some(_), Some(_)) => {
                self.bad(field, format!("give `{field}` or `{field}Path`, not both"));
                None
            }
            (Some(n), None) => {
                if n < min || n.fract() != 0.0 {
                    self.bad(field, format!("must be a whole number of at least {min}"));
                }
                Some(Seconds::Fixed(n))
            }
            (None, Some(p)) => self.path(&format!("{field}Path"), Some(p)).map(Seconds::Path),
            (None, None) => None,
        }
    }

    fn errors(&mut self, field: &str, names: &[String]) {
        if names.is_empty() {
            self.bad(field, "`ErrorEquals` needs at least one error name");
        }
        if names.iter().any(|n| n == "States.ALL") && names.len() > 1 {
            self.bad(field, "`States.ALL` must appear alone in its `ErrorEquals`");
        }
    }

    fn retry(&mut self, raw: Vec<RawRetrier>) -> Vec<Retrier> {
        let n = raw.len();
        let mut out = Vec::new();
        for (i, r) in raw.into_iter().enumerate() {
            let field = format!("Retry[{i}]");
            let _ = r.comment;
            self.errors(&field, &r.error_equals);
            if r.error_equals.iter().any(|e| e == "States.ALL") && i + 1 != n {
                self.bad(&field, "a retrier on `States.ALL` must be the last one");
            }
            let interval = r.interval_seconds.unwrap_or(1.0);
            if interval < 1.0 || interval.fract() != 0.0 {
                self.bad(&format!("{field}.IntervalSeconds"), "must be a whole number of at least 1");
            }
            let attempts = r.max_attempts.unwrap_or(3);
            if !(0..=99_999_999).contains(&attempts) {
                self.bad(&format!("{field}.MaxAttempts"), "must be between 0 and 99999999");
            }
            let backoff = r.backoff_rate.unwrap_or(2.0);
            if backoff < 1.0 {
                self.bad(&format!("{field}.BackoffRate"), "must be at least 1.0");
            }
            if let Some(d) = r.max_delay_seconds {
                if !(1.0..31_622_401.0).contains(&d) || d.fract() != 0.0 {
                    self.bad(&format!("{field}.MaxDelaySeconds"), "must be a whole number between 1 and 31622400");
                }
            }
            let full_jitter = match r.jitter_strategy.as_deref() {
                None | Some("NONE") => false,
                Some("FULL") => true,
                Some(other) => {
                    self.bad(&format!("{field}.JitterStrategy"), format!("`{other}` is not FULL or NONE"));
                    false
                }
            };
            out.push(Retrier {
                error_equals: r.error_equals,
                interval_seconds: interval,
                max_attempts: u32::try_from(attempts.max(0)).unwrap_or(0),
                backoff_rate: backoff,
                max_delay_seconds: r.max_delay_seconds,
                full_jitter,
            });
        }
        out
    }

    fn catch(&mut self, raw: Vec<RawCatcher>) -> Vec<Catcher> {
        let n = raw.len();
        let mut out = Vec::new();
        for (i, c) in raw.into_iter().enumerate() {
            let field = format!("Catch[{i}]");
            let _ = c.comment;
            self.errors(&field, &c.error_equals);
            if c.error_equals.iter().any(|e| e == "States.ALL") && i + 1 != n {
                self.bad(&field, "a catcher on `States.ALL` must be the last one");
            }
            self.result_path(&format!("{field}.ResultPath"), &c.result_path);
            out.push(Catcher { error_equals: c.error_equals, next: c.next, result_path: c.result_path });
        }
        out
    }
}

fn parse_state(
    name: &str,
    full: &str,
    body: &Value,
    scope: &[String],
    check_resource: &dyn Fn(&str) -> Result<(), String>,
    problems: &mut Vec<Invalid>,
) -> Option<Kind> {
    let Some(obj) = body.as_object() else {
        problems.push(invalid(Some(full), None, "a state is a JSON object"));
        return None;
    };
    let mut refused = false;
    for (field, why) in REFUSED {
        if obj.contains_key(*field) {
            problems.push(invalid(Some(full), Some(field), *why));
            refused = true;
        }
    }
    if refused {
        return None;
    }
    let Some(ty) = obj.get("Type").and_then(Value::as_str) else {
        problems.push(invalid(
            Some(full),
            Some("Type"),
            "every state has a `Type` (Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map)",
        ));
        return None;
    };
    let mut rest = obj.clone();
    rest.remove("Type");
    let rest = Value::Object(rest);
    let mut cx = Ctx { full, problems };
    match ty {
        "Pass" => {
            let r: RawPass = from(full, rest, cx.problems)?;
            let _ = r.comment;
            let io = cx.io(r.input_path, r.output_path);
            let parameters = cx.template("Parameters", r.parameters);
            cx.result_path("ResultPath", &r.result_path);
            let transition = cx.transition(r.next, r.end);
            Some(Kind::Pass { io, parameters, result: r.result, result_path: r.result_path, transition })
        }
        "Task" | "Parallel" | "Map" => {
            let r: RawWork = from(full, rest, cx.problems)?;
            work_state(ty, name, r, scope, check_resource, &mut cx)
        }
        "Choice" => {
            let r: RawChoice = from(full, rest, cx.problems)?;
            let _ = r.comment;
            let io = cx.io(r.input_path, r.output_path);
            if r.choices.is_empty() {
                cx.bad("Choices", "a Choice state needs at least one rule");
            }
            let mut choices = Vec::new();
            for (i, c) in r.choices.iter().enumerate() {
                match ChoiceRule::parse_top(c) {
                    Ok(rule) => choices.push(rule),
                    Err(e) => cx.bad(&format!("Choices[{i}]"), e),
                }
            }
            Some(Kind::Choice { io, choices, default: r.default })
        }
        "Wait" => {
            let r: RawWait = from(full, rest, cx.problems)?;
            let _ = r.comment;
            let io = cx.io(r.input_path, r.output_path);
            let given =
                [r.seconds.is_some(), r.seconds_path.is_some(), r.timestamp.is_some(), r.timestamp_path.is_some()];
            if given.iter().filter(|g| **g).count() != 1 {
                cx.bad(
                    "Seconds",
                    "a Wait state has exactly one of `Seconds`, `SecondsPath`, `Timestamp` and `TimestampPath`",
                );
            }
            let until = if let Some(ts) = r.timestamp {
                match ts.parse::<jiff::Timestamp>() {
                    Ok(t) => WaitFor::Timestamp(t),
                    Err(e) => {
                        cx.bad("Timestamp", format!("`{ts}` is not an RFC 3339 timestamp: {e}"));
                        WaitFor::Seconds(Seconds::Fixed(0.0))
                    }
                }
            } else if let Some(p) = r.timestamp_path {
                cx.path("TimestampPath", Some(p)).map_or(WaitFor::Seconds(Seconds::Fixed(0.0)), WaitFor::TimestampPath)
            } else {
                WaitFor::Seconds(cx.seconds("Seconds", r.seconds, r.seconds_path, 0.0).unwrap_or(Seconds::Fixed(0.0)))
            };
            let transition = cx.transition(r.next, r.end);
            Some(Kind::Wait { io, until, transition })
        }
        "Succeed" => {
            let r: RawSucceed = from(full, rest, cx.problems)?;
            let _ = r.comment;
            let io = cx.io(r.input_path, r.output_path);
            Some(Kind::Succeed { io })
        }
        "Fail" => {
            let r: RawFail = from(full, rest, cx.problems)?;
            let _ = r.comment;
            let error = fail_field(&mut cx, "Error", r.error, r.error_path);
            let cause = fail_field(&mut cx, "Cause", r.cause, r.cause_path);
            Some(Kind::Fail { error, cause })
        }
        other => {
            cx.bad(
                "Type",
                format!("`{other}` is not a state type (Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map)"),
            );
            None
        }
    }
}

fn fail_field(cx: &mut Ctx<'_>, field: &str, fixed: Option<String>, path: Option<String>) -> Option<FailField> {
    match (fixed, path) {
        (Some(_), Some(_)) => {
            cx.bad(field, format!("give `{field}` or `{field}Path`, not both"));
            None
        }
        (Some(s), None) => Some(FailField::Fixed(s)),
        (None, Some(p)) => match path::Expr::parse(&p) {
            Ok(e) => Some(FailField::Dynamic(e)),
            Err(e) => {
                cx.bad(&format!("{field}Path"), e);
                None
            }
        },
        (None, None) => None,
    }
}

#[allow(clippy::too_many_lines, reason = "one arm per work state, each a list of its fields")]
fn work_state(
    ty: &str,
    name: &str,
    r: RawWork,
    scope: &[String],
    check_resource: &dyn Fn(&str) -> Result<(), String>,
    cx: &mut Ctx<'_>,
) -> Option<Kind> {
    let _ = r.comment;
    let not_here = |cx: &mut Ctx<'_>, field: &str, present: bool| {
        if present {
            cx.bad(field, format!("a {ty} state has no `{field}`"));
        }
    };
    let io = cx.io(r.input_path, r.output_path);
    let params_field = if ty == "Map" && r.item_selector.is_some() { "ItemSelector" } else { "Parameters" };
    if ty == "Map" && r.item_selector.is_some() && r.parameters.is_some() {
        cx.bad("ItemSelector", "give `ItemSelector` or the older `Parameters`, not both");
    }
    let parameters = cx.template(params_field, r.item_selector.or(r.parameters));
    let result_selector = cx.template("ResultSelector", r.result_selector);
    cx.result_path("ResultPath", &r.result_path);
    let retry = cx.retry(r.retry);
    let catch = cx.catch(r.catch);
    let transition = cx.transition(r.next, r.end);
    let work = Work { io, parameters, result_selector, result_path: r.result_path, retry, catch, transition };
    if ty != "Task" {
        not_here(cx, "Resource", r.resource.is_some());
        not_here(cx, "TimeoutSeconds", r.timeout_seconds.is_some() || r.timeout_seconds_path.is_some());
        not_here(cx, "HeartbeatSeconds", r.heartbeat_seconds.is_some() || r.heartbeat_seconds_path.is_some());
    }
    if ty != "Parallel" {
        not_here(cx, "Branches", r.branches.is_some());
    }
    if ty != "Map" {
        not_here(cx, "ItemsPath", r.items_path.is_some());
        not_here(cx, "ItemProcessor", r.item_processor.is_some() || r.iterator.is_some());
        not_here(cx, "MaxConcurrency", r.max_concurrency.is_some() || r.max_concurrency_path.is_some());
        not_here(
            cx,
            "ToleratedFailurePercentage",
            r.tolerated_failure_percentage.is_some() || r.tolerated_failure_percentage_path.is_some(),
        );
        not_here(
            cx,
            "ToleratedFailureCount",
            r.tolerated_failure_count.is_some() || r.tolerated_failure_count_path.is_some(),
        );
    }
    let mut inner = scope.to_vec();
    inner.push(name.to_owned());
    match ty {
        "Task" => {
            let Some(resource) = r.resource else {
                cx.bad("Resource", "a Task state needs a `Resource`");
                return None;
            };
            if let Err(why) = check_resource(&resource) {
                cx.bad("Resource", why);
            }
            let timeout = cx.seconds("TimeoutSeconds", r.timeout_seconds, r.timeout_seconds_path, 1.0);
            let heartbeat = cx.seconds("HeartbeatSeconds", r.heartbeat_seconds, r.heartbeat_seconds_path, 1.0);
            if let (Some(Seconds::Fixed(t)), Some(Seconds::Fixed(h))) = (&timeout, &heartbeat) {
                if h >= t {
                    cx.bad("HeartbeatSeconds", "must be smaller than `TimeoutSeconds`");
                }
            }
            Some(Kind::Task { work, resource, timeout, heartbeat })
        }
        "Parallel" => {
            let branches = r.branches.unwrap_or_default();
            if branches.is_empty() {
                cx.bad("Branches", "a Parallel state needs at least one branch");
            }
            let mut out = Vec::new();
            for (i, b) in branches.iter().enumerate() {
                let mut s = inner.clone();
                s.push(format!("Branches[{i}]"));
                if let Some(m) = parse_machine(b, &s, false, check_resource, cx.problems) {
                    out.push(m);
                }
            }
            Some(Kind::Parallel { work, branches: out })
        }
        _ => {
            if r.item_processor.is_some() && r.iterator.is_some() {
                cx.bad("ItemProcessor", "give `ItemProcessor` or the older `Iterator`, not both");
            }
            let Some(body) = r.item_processor.or(r.iterator) else {
                cx.bad("ItemProcessor", "a Map state needs an `ItemProcessor`");
                return None;
            };
            let items_path = cx.path("ItemsPath", r.items_path);
            let max_concurrency = cx.seconds("MaxConcurrency", r.max_concurrency, r.max_concurrency_path, 0.0);
            let tolerated_percentage = cx.seconds(
                "ToleratedFailurePercentage",
                r.tolerated_failure_percentage,
                r.tolerated_failure_percentage_path,
                0.0,
            );
            if let Some(Seconds::Fixed(p)) = tolerated_percentage {
                if p > 100.0 {
                    cx.bad("ToleratedFailurePercentage", "must be between 0 and 100");
                }
            }
            let tolerated_count =
                cx.seconds("ToleratedFailureCount", r.tolerated_failure_count, r.tolerated_failure_count_path, 0.0);
            let processor = parse_machine(&body, &inner, false, check_resource, cx.problems)?;
            Some(Kind::Map {
                work,
                items_path,
                processor: Box::new(processor),
                max_concurrency,
                tolerated_percentage,
                tolerated_count,
            })
        }
    }
}

/// Replaces `${Name}` in every string of a definition from `values`; an unknown name is an error.
pub fn substitute(json: &Value, values: &BTreeMap<String, String>) -> Result<Value, String> {
    Ok(match json {
        Value::String(s) => Value::String(substitute_str(s, values)?),
        Value::Array(a) => Value::Array(a.iter().map(|v| substitute(v, values)).collect::<Result<_, _>>()?),
        Value::Object(o) => {
            let mut out = serde_json::Map::new();
            for (k, v) in o {
                out.insert(k.clone(), substitute(v, values)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn substitute_str(s: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        match values.get(name) {
            Some(v) => out.push_str(v),
            None => return Err(format!("`${{{name}}}` has no value in the substitutions")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The `${Name}` placeholders a definition uses, in order of name.
pub fn placeholders(json: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect_placeholders(json, &mut out);
    out
}

fn collect_placeholders(json: &Value, out: &mut BTreeSet<String>) {
    match json {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                let after = &rest[start + 2..];
                let Some(end) = after.find('}') else { break };
                out.insert(after[..end].to_owned());
                rest = &after[end + 1..];
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_placeholders(v, out)),
        Value::Object(o) => o.values().for_each(|v| collect_placeholders(v, out)),
        _ => {}
    }
}
