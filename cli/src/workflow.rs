//! `dqc workflow`: runs the state machines of `statemachines/` on one machine.
//!
//! Task states call the activities in process (`dqc-profile`, `dqc-run-suite`, ... over the
//! lake folder, the artifact folder and the metadata folder), SNS messages go to the local
//! notifier, and `.waitForTaskToken` tasks wait on the token store that `send-success` and
//! `send-failure` answer. Executions live under `--home` with their history, so an execution
//! that stopped (waiting on a token, or killed) continues with `resume`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use dqc_activities::handlers::{self, Services, FUNCTIONS};
use dqc_local::{DuckEngine, FileNotifier, FolderMetadata, FolderStore, LakeCatalog};
use dqc_workflow::execution::{Home, Report, Start};
use dqc_workflow::runner::Outcome;
use dqc_workflow::{Activities, CallInfo, Clock, Failure, RealClock, SkipClock};
use serde_json::{json, Value};

use crate::{files, Fatal};

/// The workflow commands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per process")]
pub enum WorkflowCommand {
    /// Run a state machine (Amazon States Language JSON) on this machine.
    ///
    /// Lambda tasks call the dqc activities in process (dqc-profile, dqc-summarize,
    /// dqc-context, dqc-draft, dqc-compile, dqc-request-approval, dqc-publish,
    /// dqc-list-contracts, dqc-run-suite) over --lake, --artifacts and --metadata; SNS
    /// messages go to <home>/notifications.jsonl and the console. When the execution reaches a
    /// `.waitForTaskToken` task it stops (exit 3) and prints the token: answer it with
    /// `dqc workflow send-success|send-failure`, then `dqc workflow resume NAME`.
    ///
    /// Exit status: 0 succeeded, 1 failed or timed out, 2 usage or IO error, 3 waiting on a
    /// task token. The execution's output is printed on stdout as JSON.
    Run(RunArgs),
    /// Check a state machine without running it: the States Language rules, and that every
    /// resource and Lambda function it names can run here. Problems name the state and field.
    Validate(ValidateArgs),
    /// Continue an execution from its history: completed tasks are not run again.
    Resume(ResumeArgs),
    /// Answer a waiting task token with success (SendTaskSuccess).
    SendSuccess(SendSuccessArgs),
    /// Answer a waiting task token with failure (SendTaskFailure).
    SendFailure(SendFailureArgs),
    /// Tell a waiting task it is still being worked on (SendTaskHeartbeat).
    SendHeartbeat(TokenArgs),
    /// List the executions under --home with their status, and the task tokens waiting.
    List(HomeArgs),
    /// Print an execution's history (the events of GetExecutionHistory, one JSON per line).
    History(HistoryArgs),
    /// Print a state machine as a Mermaid flowchart.
    Diagram(DiagramArgs),
    /// The workflows end to end on the example lake: onboard a table (stopping at the
    /// approval step), approve it, resume, then run the nightly post-load workflow.
    Demo(DemoArgs),
}

/// Where executions and task tokens are kept.
#[derive(Debug, Clone, Args)]
pub struct HomeArgs {
    /// The workflow home: executions/, tokens/ and notifications.jsonl.
    #[arg(long, default_value = "out/workflow")]
    home: PathBuf,
}

/// The local adapters the activities use.
#[derive(Debug, Clone, Args, Default)]
pub struct EnvArgs {
    /// The lake folder (`<lake>/<database>/<table>/`) [default: <home>/lake].
    #[arg(long)]
    lake: Option<PathBuf>,
    /// The artifact folder, laid out as the artifact bucket [default: <home>/artifacts].
    #[arg(long)]
    artifacts: Option<PathBuf>,
    /// The metadata folder, the local stand-in for the metadata table [default: <home>/metadata].
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// The run time activities measure freshness against, 'YYYY-MM-DD HH:MM:SS' UTC
    /// [default: the time of each call].
    #[arg(long)]
    run_time: Option<String>,
    /// The approval service's base URL (`dqc approvals serve`): approvers get signed links to
    /// a review page instead of `dqc workflow send-success` commands. Needs --approval-keys.
    #[arg(long, requires = "approval_keys")]
    approval_url: Option<String>,
    /// The keyring approval links are signed with (`dqc approvals keygen`).
    #[arg(long, requires = "approval_url")]
    approval_keys: Option<PathBuf>,
    /// Who drafts in the onboarding workflow's drafting step: `offline` (the data's
    /// heuristics) or an LLM (`openai`, `gemini`, `bedrock`; needs --draft-model), whose rules
    /// are checked and sent back with the diagnostics, the offline rules standing in for any
    /// that never compile. API keys come from the environment (OPENAI_API_KEY, GEMINI_API_KEY);
    /// Bedrock signs with the AWS credentials chain.
    #[arg(long, value_enum, default_value_t = crate::local::DraftProvider::Offline)]
    draft_provider: crate::local::DraftProvider,
    /// The drafting model, for the LLM providers.
    #[arg(long)]
    draft_model: Option<String>,
    /// The LLM's API base URL [default: the provider's public endpoint].
    #[arg(long)]
    draft_endpoint: Option<String>,
    /// The environment variable holding the LLM's API key.
    #[arg(long)]
    draft_api_key_env: Option<String>,
    /// Answers asked of the LLM per drafting step before the offline rules stand in.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    draft_attempts: u32,
}

/// Arguments of `dqc workflow run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The state machine, `<name>.asl.json`; its name is the file name without `.asl.json`.
    machine: PathBuf,
    /// The execution input, a JSON file (`-` for standard input) [default: {}].
    #[arg(long)]
    input: Option<PathBuf>,
    /// Values of the `${...}` placeholders, a JSON object [default:
    /// substitutions.local.json beside the state machine, when it uses placeholders].
    #[arg(long)]
    substitutions: Option<PathBuf>,
    /// The execution name [default: the machine's name and the start time].
    #[arg(long)]
    name: Option<String>,
    /// Seeds States.MathRandom, States.UUID and retry jitter [default: the execution name].
    #[arg(long)]
    seed: Option<String>,
    /// A mock configuration in the format of Step Functions Local's MockConfigFile.
    #[arg(long, requires = "test_case")]
    mock_config: Option<PathBuf>,
    /// The test case of the mock configuration to run.
    #[arg(long, requires = "mock_config")]
    test_case: Option<String>,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    home: HomeArgs,
    #[command(flatten)]
    env: EnvArgs,
}

/// How to treat time.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Wait for task tokens to be answered (polling the token store) instead of stopping.
    #[arg(long)]
    wait: bool,
    /// Wait states and retry intervals take no time (the clock jumps forward instead).
    #[arg(long)]
    no_wait: bool,
}

/// Arguments of `dqc workflow validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The state machines.
    #[arg(required = true)]
    machines: Vec<PathBuf>,
    /// Values of the `${...}` placeholders [default: substitutions.local.json beside each].
    #[arg(long)]
    substitutions: Option<PathBuf>,
}

/// Arguments of `dqc workflow resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The execution name.
    name: String,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    home: HomeArgs,
}

/// A task token.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The task token.
    token: String,
    #[command(flatten)]
    home: HomeArgs,
}

/// Arguments of `dqc workflow send-success`.
#[derive(Debug, Args)]
pub struct SendSuccessArgs {
    /// The task token.
    token: String,
    /// The task's output, JSON [default: {}].
    #[arg(long)]
    output: Option<String>,
    #[command(flatten)]
    home: HomeArgs,
}

/// Arguments of `dqc workflow send-failure`.
#[derive(Debug, Args)]
pub struct SendFailureArgs {
    /// The task token.
    token: String,
    /// The error name the state machine's Catch matches.
    #[arg(long, default_value = "States.TaskFailed")]
    error: String,
    /// Why.
    #[arg(long, default_value = "")]
    cause: String,
    #[command(flatten)]
    home: HomeArgs,
}

/// Arguments of `dqc workflow history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The execution name.
    name: String,
    #[command(flatten)]
    home: HomeArgs,
}

/// Arguments of `dqc workflow diagram`.
#[derive(Debug, Args)]
pub struct DiagramArgs {
    /// The state machine.
    machine: PathBuf,
}

/// Arguments of `dqc workflow demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Base rows of the example fact table (at least 1).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    rows: u64,
    /// The demo folder (replaced when an earlier demo wrote it; any other non-empty folder is refused).
    #[arg(long, default_value = "out/workflow-demo")]
    out: PathBuf,
}

/// The local twins of the AWS services the state machines call.
#[derive(Debug, Clone)]
pub struct LocalActivities {
    lake: PathBuf,
    artifacts: PathBuf,
    metadata: PathBuf,
    notifications: PathBuf,
    /// Athena query results by query execution id (`<id>.json`).
    queries: PathBuf,
    run_time: Option<String>,
    approval_url: Option<String>,
    approval_keys: Option<PathBuf>,
    /// The drafting step's LLM, when one drafts.
    drafting: Option<dqc_llm::Settings>,
}

impl LocalActivities {
    fn new(home: &Path, env: &EnvArgs) -> Self {
        LocalActivities {
            lake: env.lake.clone().unwrap_or_else(|| home.join("lake")),
            artifacts: env.artifacts.clone().unwrap_or_else(|| home.join("artifacts")),
            metadata: env.metadata.clone().unwrap_or_else(|| home.join("metadata")),
            notifications: home.join("notifications.jsonl"),
            queries: home.join("athena"),
            run_time: env.run_time.clone(),
            approval_url: env.approval_url.clone(),
            approval_keys: env.approval_keys.clone(),
            drafting: env.draft_provider.kind().map(|kind| dqc_llm::Settings {
                kind,
                model: env.draft_model.clone().unwrap_or_default(),
                endpoint: env.draft_endpoint.clone(),
                api_key_env: env.draft_api_key_env.clone(),
                attempts: env.draft_attempts,
                policy: dqc_llm::RetryPolicy::default(),
            }),
        }
    }

    fn record(&self) -> Value {
        json!({
            "lake": self.lake,
            "artifacts": self.artifacts,
            "metadata": self.metadata,
            "notifications": self.notifications,
            "queries": self.queries,
            "run_time": self.run_time,
            "approval_url": self.approval_url,
            "approval_keys": self.approval_keys,
            "drafting": self.drafting.as_ref().map(|d| json!({
                "provider": d.kind.name(),
                "model": d.model,
                "endpoint": d.endpoint,
                "api_key_env": d.api_key_env,
                "attempts": d.attempts,
            })),
        })
    }

    fn from_record(v: &Value, home: &Path) -> Self {
        let path = |k: &str, d: &str| v[k].as_str().map_or_else(|| home.join(d), PathBuf::from);
        LocalActivities {
            lake: path("lake", "lake"),
            artifacts: path("artifacts", "artifacts"),
            metadata: path("metadata", "metadata"),
            notifications: path("notifications", "notifications.jsonl"),
            queries: path("queries", "athena"),
            run_time: v["run_time"].as_str().map(str::to_owned),
            approval_url: v["approval_url"].as_str().map(str::to_owned),
            approval_keys: v["approval_keys"].as_str().map(PathBuf::from),
            drafting: v["drafting"]["provider"].as_str().and_then(dqc_llm::Kind::parse).map(|kind| {
                let d = &v["drafting"];
                dqc_llm::Settings {
                    kind,
                    model: d["model"].as_str().unwrap_or_default().to_owned(),
                    endpoint: d["endpoint"].as_str().map(str::to_owned),
                    api_key_env: d["api_key_env"].as_str().map(str::to_owned),
                    attempts: d["attempts"].as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(3),
                    policy: dqc_llm::RetryPolicy::default(),
                }
            }),
        }
    }

    /// The approval links' signer, when an approval service is configured.
    fn signer(&self) -> Result<Option<dqc_activities::approval::LinkSigner>, dqc_activities::Error> {
        let (Some(url), Some(keys)) = (&self.approval_url, &self.approval_keys) else { return Ok(None) };
        let text = std::fs::read_to_string(keys).map_err(|e| {
            dqc_activities::Error::fatal(format!("cannot read the approval keyring {}: {e}", keys.display()))
        })?;
        let keyring = dqc_activities::approval::Keyring::from_json(&text)?;
        Ok(Some(dqc_activities::approval::LinkSigner { base_url: url.clone(), keyring, ttl_seconds: 7 * 24 * 3600 }))
    }

    fn notifier(&self) -> FileNotifier {
        FileNotifier::new(&self.notifications)
    }
}

fn failure(e: dqc_activities::Error) -> Failure {
    Failure::new(e.kind.as_str(), e.message)
}

impl Activities for LocalActivities {
    fn has_function(&self, name: &str) -> bool {
        FUNCTIONS.contains(&name)
    }

    fn invoke(&self, function: &str, payload: Value, _call: &CallInfo<'_>) -> Result<Value, Failure> {
        let now = self.run_time.clone().unwrap_or_else(|| {
            jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%d %H:%M:%S").to_string()
        });
        let engine = DuckEngine::over_lake(&self.lake).map_err(failure)?;
        if function == "dqc-run-suite" {
            if let Some(t) = payload.get("table").and_then(Value::as_str) {
                engine.read_csv_once(t).map_err(failure)?;
            }
        }
        let catalog = LakeCatalog::new(&self.lake, &engine);
        let store = FolderStore::new(&self.artifacts);
        let metadata = FolderMetadata::new(&self.metadata);
        let notifier = self.notifier();
        let signer = self.signer().map_err(failure)?;
        let drafter = match &self.drafting {
            Some(settings) if function == "dqc-draft" => Some(
                dqc_llm::LoopDrafter::owned(settings).map_err(|e| failure(dqc_activities::Error::fatal(e.message)))?,
            ),
            _ => None,
        };
        let services = Services {
            catalog: &catalog,
            engine: &engine,
            store: &store,
            metadata: &metadata,
            notifier: &notifier,
            approvals: signer.as_ref(),
            drafter: drafter.as_ref().map(|d| d as &dyn dqc_activities::ports::Drafter),
        };
        handlers::handle(function, &payload, &services, &now).map_err(failure)
    }

    fn publish(&self, topic_arn: &str, subject: Option<&str>, message: &str) -> Result<String, Failure> {
        self.notifier().send(topic_arn, subject.unwrap_or_default(), message).map_err(failure)?;
        let n = std::fs::read_to_string(&self.notifications).map_or(0, |t| t.lines().count());
        Ok(format!("local-{n}"))
    }

    fn has_athena(&self) -> bool {
        true
    }

    /// Runs the query on DuckDB over the lake; Athena's execution parameters (SQL literals:
    /// `'text'`, numbers, `true`, `false`) are bound to the `?` placeholders, never spliced.
    fn athena_start_query(&self, params: &Value) -> Result<Value, Failure> {
        let bad = |m: String| Failure::new("DqcNonRetryable", m);
        let sql = params
            .get("QueryString")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("startQueryExecution needs `QueryString`".into()))?;
        let mut values = Vec::new();
        for p in params.get("ExecutionParameters").and_then(Value::as_array).into_iter().flatten() {
            let literal = p
                .as_str()
                .ok_or_else(|| bad(format!("an execution parameter must be a string (an SQL literal), not {p}")))?;
            values.push(dqc_activities::ports::Param::Text(athena_literal(literal).map_err(bad)?));
        }
        let engine = DuckEngine::over_lake(&self.lake).map_err(failure)?;
        let started = jiff::Timestamp::now();
        let rows = dqc_activities::QueryEngine::query(&engine, sql, &values).map_err(failure)?;
        let finished = jiff::Timestamp::now();
        static QUERIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = QUERIES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let id = format!("local-{}-{}-{n}", started.as_nanosecond(), std::process::id());
        std::fs::create_dir_all(&self.queries).map_err(|e| bad(format!("{}: {e}", self.queries.display())))?;
        let path = self.queries.join(format!("{id}.json"));
        let stored = json!({"columns": rows.columns, "rows": rows.rows});
        dqc_workflow::tokens::write_atomic(&path, stored.to_string().as_bytes())
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        Ok(json!({"QueryExecution": {
            "QueryExecutionId": id,
            "Query": sql,
            "StatementType": "DML",
            "QueryExecutionContext": params.get("QueryExecutionContext").cloned().unwrap_or(json!({})),
            "WorkGroup": params.get("WorkGroup").cloned().unwrap_or(json!("primary")),
            "ExecutionParameters": params.get("ExecutionParameters").cloned().unwrap_or(json!([])),
            "Status": {"State": "SUCCEEDED", "SubmissionDateTime": started.to_string(), "CompletionDateTime": finished.to_string()},
            "Statistics": {"DataScannedInBytes": 0, "EngineExecutionTimeInMillis": finished.duration_since(started).as_millis()},
        }}))
    }

    /// The stored result of a query, as Athena returns it: strings in `VarCharValue`, the
    /// header row first, NULL as an empty datum.
    fn athena_query_results(&self, params: &Value) -> Result<Value, Failure> {
        let id = params.get("QueryExecutionId").and_then(Value::as_str).unwrap_or_default();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Failure::new("DqcNonRetryable", format!("`{id}` is not a query execution id")));
        }
        let path = self.queries.join(format!("{id}.json"));
        let stored: Value = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| Failure::new("DqcNonRetryable", format!("no query execution `{id}`")))?;
        let columns: Vec<String> =
            stored["columns"].as_array().into_iter().flatten().filter_map(|c| c.as_str().map(str::to_owned)).collect();
        let rows = stored["rows"].as_array().cloned().unwrap_or_default();
        let first = rows.first().and_then(Value::as_array);
        let info: Vec<Value> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let ty = match first.and_then(|r| r.get(i)) {
                    Some(Value::Bool(_)) => "boolean",
                    Some(Value::Number(n)) if n.is_f64() => "double",
                    Some(Value::Number(_)) => "bigint",
                    _ => "varchar",
                };
                json!({"Name": c, "Label": c, "Type": ty})
            })
            .collect();
        let datum = |v: &Value| match v {
            Value::Null => json!({}),
            Value::String(s) => json!({"VarCharValue": s}),
            other => json!({"VarCharValue": other.to_string()}),
        };
        let mut out = vec![json!({"Data": columns.iter().map(|c| json!({"VarCharValue": c})).collect::<Vec<_>>()})];
        for r in &rows {
            out.push(json!({"Data": r.as_array().into_iter().flatten().map(datum).collect::<Vec<_>>()}));
        }
        Ok(json!({"ResultSet": {"ResultSetMetadata": {"ColumnInfo": info}, "Rows": out}, "UpdateCount": 0}))
    }
}

/// An Athena execution parameter (an SQL literal) as the text bound to its placeholder.
fn athena_literal(literal: &str) -> Result<String, String> {
    let t = literal.trim();
    if let Some(inner) = t.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        if inner.replace("''", "").contains('\'') {
            return Err(format!("the execution parameter {literal} has an unescaped quote"));
        }
        return Ok(inner.replace("''", "'"));
    }
    if t.parse::<f64>().is_ok() || t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
        return Ok(t.to_owned());
    }
    Err(format!("the execution parameter {literal} is not a quoted string, a number or a boolean"))
}

/// Reads a JSON file (`-` for standard input).
fn read_json(path: &Path) -> Result<Value, Fatal> {
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        s
    } else {
        files::read_text(path)?
    };
    serde_json::from_str(&text).map_err(|e| Fatal(format!("{}: not JSON: {e}", path.display())))
}

/// The machine's name: its file name without `.asl.json` (or `.json`).
fn machine_name(path: &Path) -> String {
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("machine");
    file.strip_suffix(".asl.json").or_else(|| file.strip_suffix(".json")).unwrap_or(file).to_owned()
}

/// The definition with its placeholders filled.
fn load_definition(path: &Path, substitutions: Option<&Path>) -> Result<Value, Fatal> {
    let raw = read_json(path)?;
    substituted(&raw, path, substitutions)
}

fn substituted(raw: &Value, path: &Path, substitutions: Option<&Path>) -> Result<Value, Fatal> {
    let needed = dqc_workflow::definition::placeholders(raw);
    if needed.is_empty() {
        return Ok(raw.clone());
    }
    let beside = path.parent().unwrap_or(Path::new(".")).join("substitutions.local.json");
    let file = substitutions.map_or(beside, Path::to_path_buf);
    if !file.exists() {
        return Err(Fatal(format!(
            "{} uses placeholders ({}) and {} does not exist; pass --substitutions",
            path.display(),
            needed.iter().map(|n| format!("${{{n}}}")).collect::<Vec<_>>().join(", "),
            file.display()
        )));
    }
    let values = substitution_values(&read_json(&file)?, &file)?;
    dqc_workflow::definition::substitute(raw, &values)
        .map_err(|e| Fatal(format!("{}: {e} ({})", path.display(), file.display())))
}

fn substitution_values(v: &Value, file: &Path) -> Result<BTreeMap<String, String>, Fatal> {
    let o = v
        .as_object()
        .ok_or_else(|| Fatal(format!("{}: substitutions are a JSON object of strings", file.display())))?;
    o.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_owned())),
            None => Err(Fatal(format!("{}: the substitution `{k}` must be a string", file.display()))),
        })
        .collect()
}

/// Dispatches `dqc workflow ...`.
pub fn run(cmd: WorkflowCommand) -> Result<ExitCode, Fatal> {
    match cmd {
        WorkflowCommand::Run(a) => run_machine(a),
        WorkflowCommand::Validate(a) => validate(a),
        WorkflowCommand::Resume(a) => resume(a),
        WorkflowCommand::SendSuccess(a) => {
            let output: Value = match &a.output {
                Some(text) => serde_json::from_str(text).map_err(|e| Fatal(format!("--output is not JSON: {e}")))?,
                None => json!({}),
            };
            Home::open(&a.home.home)?.tokens()?.send_success(&a.token, &output)?;
            errln!("answered {} with success; continue the execution with `dqc workflow resume`", a.token);
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCommand::SendFailure(a) => {
            Home::open(&a.home.home)?.tokens()?.send_failure(&a.token, &a.error, &a.cause)?;
            errln!("answered {} with failure {}; continue the execution with `dqc workflow resume`", a.token, a.error);
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCommand::SendHeartbeat(a) => {
            Home::open(&a.home.home)?.tokens()?.send_heartbeat(&a.token, jiff::Timestamp::now())?;
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCommand::List(a) => list(&a),
        WorkflowCommand::History(a) => {
            let path = a.home.home.join("executions").join(&a.name).join("history.jsonl");
            Home::open(&a.home.home)?.describe(&a.name)?;
            out!("{}", files::read_text(&path)?);
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCommand::Diagram(a) => {
            let raw = read_json(&a.machine)?;
            let machine = dqc_workflow::definition::parse(&raw, &|_| Ok(())).map_err(|p| problems(&a.machine, &p))?;
            out!("{}", dqc_workflow::mermaid::render(&machine));
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCommand::Demo(a) => demo(&a),
    }
}

fn problems(path: &Path, p: &[dqc_workflow::definition::Invalid]) -> Fatal {
    Fatal(format!(
        "{} is not a valid state machine:\n{}",
        path.display(),
        p.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
    ))
}

fn validate(a: ValidateArgs) -> Result<ExitCode, Fatal> {
    let local = LocalActivities::new(Path::new("."), &EnvArgs::default());
    let mut bad = 0;
    for path in &a.machines {
        let def = load_definition(path, a.substitutions.as_deref())?;
        match dqc_workflow::runner::validate(&def, &local) {
            Ok(m) => errln!("{}: valid ({} states at the top level)", path.display(), m.states.len()),
            Err(p) => {
                bad += 1;
                errln!("{}", problems(path, &p).0);
            }
        }
    }
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn clock(w: &WaitArgs) -> Box<dyn Clock> {
    if w.no_wait {
        Box::new(SkipClock::default())
    } else {
        Box::new(RealClock)
    }
}

fn run_machine(a: RunArgs) -> Result<ExitCode, Fatal> {
    if let (Some(kind), None) = (a.env.draft_provider.kind(), &a.env.draft_model) {
        return Err(Fatal(format!("--draft-provider {} needs --draft-model", kind.name())));
    }
    let name = machine_name(&a.machine);
    let definition = load_definition(&a.machine, a.substitutions.as_deref())?;
    let input = match &a.input {
        Some(p) => read_json(p)?,
        None => json!({}),
    };
    let mock = match (&a.mock_config, &a.test_case) {
        (Some(p), Some(case)) => Some((read_json(p)?, case.clone())),
        _ => None,
    };
    let home = Home::open(&a.home.home)?;
    let local = LocalActivities::new(&a.home.home, &a.env);
    let start =
        Start { machine: name, definition, input, name: a.name, seed: a.seed, mock, environment: local.record() };
    let report = home.start(start, Arc::new(local), clock(&a.wait).as_ref(), a.wait.wait)?;
    Ok(finish(&report))
}

fn resume(a: ResumeArgs) -> Result<ExitCode, Fatal> {
    let home = Home::open(&a.home.home)?;
    let record = home.describe(&a.name)?;
    let local = LocalActivities::from_record(&record["environment"], &a.home.home);
    let report = home.resume(&a.name, Arc::new(local), clock(&a.wait).as_ref(), a.wait.wait)?;
    Ok(finish(&report))
}

/// Prints how an execution stopped; the exit status says it too.
fn finish(report: &Report) -> ExitCode {
    errln!("execution {}: {} (history: {})", report.name, report.status(), report.history.display());
    match &report.outcome {
        Outcome::Succeeded(v) => {
            outln!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Outcome::Failed(f) => {
            errln!("  error: {}", f.error);
            errln!("  cause: {}", f.cause);
            ExitCode::from(1)
        }
        Outcome::Waiting(w) => {
            for t in w {
                errln!("  state {} waits on task token {}", t.state, t.token);
            }
            errln!(
                "  answer with `dqc workflow send-success TOKEN --output JSON` (or send-failure), then `dqc workflow resume {}`",
                report.name
            );
            ExitCode::from(3)
        }
    }
}

fn list(h: &HomeArgs) -> Result<ExitCode, Fatal> {
    let home = Home::open(&h.home)?;
    let dir = h.home.join("executions");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir)?.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    names.sort();
    for n in names {
        if let Ok(r) = home.describe(&n) {
            outln!(
                "{n}\t{}\t{}\t{}",
                r["status"].as_str().unwrap_or("?"),
                r["stateMachine"].as_str().unwrap_or("?"),
                r["startDate"].as_str().unwrap_or("?")
            );
        }
    }
    for t in home.tokens()?.pending() {
        outln!(
            "token\t{}\t{}\t{}",
            t["token"].as_str().unwrap_or("?"),
            t["execution"].as_str().unwrap_or("?"),
            t["state"].as_str().unwrap_or("?")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The state machines, built in so the demo runs from any directory.
const ONBOARD: &str = include_str!("../../statemachines/onboard.asl.json");
const NIGHTLY: &str = include_str!("../../statemachines/nightly.asl.json");
const SUBSTITUTIONS: &str = include_str!("../../statemachines/substitutions.local.json");

fn demo(a: &DemoArgs) -> Result<ExitCode, Fatal> {
    crate::local::fresh_demo_folder(&a.out)?;
    let (lake_dir, artifacts) = (a.out.join("lake"), a.out.join("artifacts"));
    errln!("1/6 the example loans lake, {} rows, into {}", a.rows, lake_dir.display());
    let lake =
        dqc_local::generate_example(&lake_dir, dqc_local::ExampleOptions { rows: a.rows, seed: 42, defects: true })
            .map_err(|e| Fatal(e.message))?;
    let env = EnvArgs {
        lake: Some(lake_dir.clone()),
        artifacts: Some(artifacts.clone()),
        metadata: None,
        run_time: Some(lake.as_of.clone()),
        ..EnvArgs::default()
    };
    let local = LocalActivities::new(&a.out, &env);

    errln!("2/6 publish the dimension contracts (approved earlier): analytics_db.dim_customer, analytics_db.dim_loan");
    let store = FolderStore::new(&artifacts);
    let metadata = FolderMetadata::new(a.out.join("metadata"));
    let sources: Vec<dqc_compiler::Source> = crate::local::EXAMPLE_CONTRACTS
        .iter()
        .filter(|(n, _)| n.starts_with("dim_"))
        .map(|(n, t)| dqc_compiler::Source::new(*n, *t))
        .collect();
    let checked = dqc_compiler::check(&sources);
    for (name, text) in crate::local::EXAMPLE_CONTRACTS.iter().filter(|(n, _)| n.starts_with("dim_")) {
        let table = format!("analytics_db.{}", name.trim_end_matches(".dqc"));
        handlers::publish_contract(&store, &metadata, &checked.project, &table).map_err(|e| Fatal(e.message))?;
        dqc_activities::ArtifactStore::put(&store, &format!("sources/{table}.dqc"), text.as_bytes())
            .map_err(|e| Fatal(e.message))?;
    }

    let subs = substitution_values(
        &serde_json::from_str(SUBSTITUTIONS)?,
        Path::new("statemachines/substitutions.local.json"),
    )?;
    let onboard = dqc_workflow::definition::substitute(&serde_json::from_str(ONBOARD)?, &subs)?;
    let nightly = dqc_workflow::definition::substitute(&serde_json::from_str(NIGHTLY)?, &subs)?;
    let home = Home::open(&a.out)?;
    let activities: Arc<dyn Activities> = Arc::new(local.clone());

    errln!("3/6 onboard analytics_db.loan_repayment_fact (statemachines/onboard.asl.json): profile, context, offline draft, compile, ask for approval");
    let input = json!({"table": "analytics_db.loan_repayment_fact", "script_key": null, "draft_key": null, "approvers": ["data-eng-team@example.com"]});
    let start = Start {
        machine: "onboard".into(),
        definition: onboard,
        input,
        name: Some("onboard-loan-repayment-fact".into()),
        seed: None,
        mock: None,
        environment: local.record(),
    };
    let report = home.start(start, Arc::clone(&activities), &RealClock, false)?;
    let Outcome::Waiting(waiting) = &report.outcome else {
        finish(&report);
        return Err(Fatal("the onboarding workflow did not stop at the approval step".into()));
    };
    let token = waiting.first().map(|w| w.token.clone()).unwrap_or_default();
    errln!("    waiting for approval at {} (token {token})", waiting.first().map(|w| w.state.as_str()).unwrap_or("?"));

    errln!("4/6 approve: dqc workflow send-success {token} --output '{{\"decision\": \"approved\", ...}}'");
    let decision = json!({"decision": "approved", "approver": "data-eng-team@example.com", "decided_at": lake.as_of});
    home.tokens()?.send_success(&token, &decision)?;

    errln!("5/6 resume the onboarding: publish the approved version, notify");
    let report = home.resume(&report.name, Arc::clone(&activities), &RealClock, false)?;
    let Outcome::Succeeded(onboarded) = &report.outcome else {
        finish(&report);
        return Err(Fatal("the onboarding workflow did not succeed after the approval".into()));
    };
    errln!(
        "    published {}",
        onboarded.pointer("/published/contract_key").and_then(Value::as_str).unwrap_or("the contract")
    );

    let date: String = lake.as_of.chars().take(10).collect();
    errln!("6/6 nightly post-load run for {date} (statemachines/nightly.asl.json): every published contract, one Map item per table");
    let start = Start {
        machine: "nightly".into(),
        definition: nightly,
        input: json!({"date": date}),
        name: Some(format!("nightly-{date}")),
        seed: None,
        mock: None,
        environment: local.record(),
    };
    let report = home.start(start, activities, &RealClock, false)?;
    let code = finish(&report);
    outln!("\nworkflow demo: executions, history and tokens in {}", a.out.join("executions").display());
    outln!("  notifications: {}", a.out.join("notifications.jsonl").display());
    outln!("  results:       {}", artifacts.join("results").display());
    Ok(code)
}
