//! The post-load test of one table with its records in the artifact store:
//! `results/<table>/<date>.json` and `stats-history/<table>/<date>.json`.
//!
//! The stats record holds the statistics drift analysis compares ([`profile::Depth::Drift`]):
//! the row count, and per column the NULL count, the distinct count, the minimum and maximum,
//! and for numbers the mean and percentiles.
//!
//! Before the run, the table's schema is compared with the contract (a missing column or an
//! incompatible type is an error naming them), and the row counts of earlier dates are read
//! from `stats-history/<table>/` as the history of row-count anomaly rules. Records are
//! replaced whole, so re-running a date is idempotent; `duration_ms` is the only field that
//! differs between two runs over the same data.

use dqc_codegen::sql::Suite;
use dqc_ir::Contract;
use dqc_semantics::types::{agrees, engine_type};
use serde::Serialize;
use serde_json::{json, Value};

use crate::ports::{ArtifactStore, Catalog, Error, MetadataStore, QueryEngine};
use crate::post_load::{run, RuleResult, RunOptions, RunResult, Status};
use crate::profile::{self, Profile};

/// What to test and when.
#[derive(Debug, Clone)]
pub struct TestJob<'a> {
    /// The contract of the table.
    pub contract: &'a Contract,
    /// Its compiled suite (whole table).
    pub suite: &'a Suite,
    /// The artifact key of the table (`loan_repayment_fact`, see `dqc_codegen::file_stem`).
    pub key: &'a str,
    /// The date the records are filed under, `YYYY-MM-DD`.
    pub date: &'a str,
    /// The run time, `YYYY-MM-DD HH:MM:SS`.
    pub run_time: &'a str,
}

/// The outcome of a test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The verdicts.
    pub run: RunResult,
    /// The profile recorded as stats history (none when the schema check stopped the run).
    pub profile: Option<Profile>,
    /// Key of the results record.
    pub results_key: String,
    /// Key of the stats record (none when the schema check stopped the run).
    pub stats_key: Option<String>,
}

/// Every disagreement between the table's columns and the contract's, one line each: the same
/// rule as `dqc check` against a catalog snapshot (`dqc_semantics::types::agrees`).
pub fn schema_problems(contract: &Contract, columns: &[profile::SchemaColumn]) -> Vec<String> {
    let mut problems = Vec::new();
    for c in &contract.columns {
        match columns.iter().find(|s| s.name.eq_ignore_ascii_case(&c.name)) {
            None => problems.push(format!("column `{}` is missing", c.name)),
            Some(s) => match engine_type(&s.engine_type) {
                found if agrees(&c.ty, found.as_ref()) => {}
                Some(found) => problems.push(format!(
                    "column `{}` is {} ({found}) in the data, the contract declares {}",
                    c.name, s.engine_type, c.ty
                )),
                None => problems.push(format!(
                    "column `{}` is {} in the data, which no contract type holds exactly (the contract declares {})",
                    c.name, s.engine_type, c.ty
                )),
            },
        }
    }
    problems
}

/// Compares the table's columns with the contract's; every disagreement in one error.
pub fn check_schema(contract: &Contract, columns: &[profile::SchemaColumn]) -> Result<(), Error> {
    let problems = schema_problems(contract, columns);
    if problems.is_empty() {
        return Ok(());
    }
    let found: Vec<String> = columns.iter().map(|s| format!("{} {}", s.name, s.engine_type)).collect();
    Err(Error::fatal(format!(
        "the data of {} disagrees with its contract: {} (columns found: {})",
        contract.table.qualified(),
        problems.join("; "),
        found.join(", ")
    )))
}

/// The verdict of a run whose table disagrees with its contract: one failed `schema` rule,
/// and the suite not run (its queries assume the declared columns and types).
fn schema_failure(contract: &Contract, problems: &[String]) -> RunResult {
    let rule = RuleResult {
        rule_id: "schema".to_string(),
        kind: "schema".to_string(),
        description: format!("the table's columns and types are those of the contract: {}", problems.join("; ")),
        severity: "error".to_string(),
        stage: "post_load".to_string(),
        status: Status::Fail,
        violations: problems.len() as u64,
        checked: None,
        threshold_percent: None,
        details: serde_json::Map::from_iter([(
            "problems".to_string(),
            Value::Array(problems.iter().cloned().map(Value::String).collect()),
        )]),
        sample: Vec::new(),
        query: String::new(),
        duration_ms: 0,
    };
    RunResult {
        table: contract.table.qualified(),
        contract_hash: contract.hash.clone(),
        row_count: 0,
        rules: vec![rule],
        passed: false,
    }
}

/// Row counts of the dates before `date`, oldest first, from `stats-history/<key>/`.
pub fn row_count_history(store: &dyn ArtifactStore, key: &str, date: &str) -> Result<Vec<u64>, Error> {
    let prefix = format!("stats-history/{key}/");
    let mut out = Vec::new();
    for k in store.list(&prefix)? {
        let Some(day) = k.strip_prefix(&prefix).and_then(|n| n.strip_suffix(".json")) else { continue };
        if day.contains('/') || day >= date {
            continue;
        }
        let Some(bytes) = store.get(&k)? else { continue };
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| Error::fatal(format!("{k}: {e}")))?;
        if let Some(n) = v.get("row_count").and_then(Value::as_u64) {
            out.push(n);
        }
    }
    Ok(out)
}

/// The results record: the run, each rule with the SQL of its query, and the run's context.
pub fn results_record(run: &RunResult, suite: &Suite, job: &TestJob<'_>) -> Value {
    let rules: Vec<Value> = run
        .rules
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            let sql = suite.queries.iter().find(|q| q.name == r.query).map(|q| q.sql.clone());
            if let Some(obj) = v.as_object_mut() {
                obj.insert("sql".into(), sql.map(Value::String).unwrap_or(Value::Null));
            }
            v
        })
        .collect();
    let count = |s: Status| run.rules.iter().filter(|r| r.status == s).count();
    json!({
        "table": run.table,
        "date": job.date,
        "run_time": job.run_time,
        "contract_hash": run.contract_hash,
        "row_count": run.row_count,
        "passed": run.passed,
        "summary": {
            "pass": count(Status::Pass),
            "warn": count(Status::Warn),
            "fail": count(Status::Fail),
            "not_evaluated": count(Status::NotEvaluated),
        },
        "rules": rules,
    })
}

fn pretty<T: Serialize>(v: &T) -> Result<Vec<u8>, Error> {
    let mut text = serde_json::to_string_pretty(v).map_err(|e| Error::fatal(e.to_string()))?;
    text.push('\n');
    Ok(text.into_bytes())
}

/// The ports a test runs against.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    /// Where the table's definition comes from.
    pub catalog: &'a dyn Catalog,
    /// Runs the suite and the profile.
    pub engine: &'a dyn QueryEngine,
    /// Receives the results and stats records.
    pub store: &'a dyn ArtifactStore,
    /// Receives the run's index item.
    pub metadata: &'a dyn MetadataStore,
}

impl std::fmt::Debug for Ports<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// The partition key of a table's items in the metadata store.
pub fn table_pk(qualified: &str) -> String {
    format!("table#{qualified}")
}

/// Checks the catalog's schema against the contract, runs the suite, profiles the table, files
/// both records, and indexes the run in the metadata store (`table#<db.table>`, `run#<date>`).
pub fn test_table(ports: &Ports<'_>, job: &TestJob<'_>) -> Result<TestOutcome, Error> {
    let (engine, store) = (ports.engine, ports.store);
    let database = job.contract.table.database.clone().unwrap_or_default();
    let table = job.contract.table.table.clone();
    let qualified = job.contract.table.qualified();
    let definition = ports
        .catalog
        .table(&database, &table)?
        .ok_or_else(|| Error::fatal(format!("table {qualified} is not in the catalog")))?;
    let problems = schema_problems(job.contract, &definition.columns);
    if !problems.is_empty() {
        return file_schema_failure(ports, job, &schema_failure(job.contract, &problems));
    }
    let history = row_count_history(store, job.key, job.date)?;
    let options =
        RunOptions { run_time: job.run_time.to_string(), row_count_history: history, ..RunOptions::default() };
    let scanned_before = engine.bytes_scanned();
    let run = run(engine, job.suite, &options)?;
    let profile = profile::profile_with(engine, &database, &table, profile::Depth::Drift)?;
    let results_key = format!("results/{}/{}.json", job.key, job.date);
    let stats_key = format!("stats-history/{}/{}.json", job.key, job.date);
    let mut record = results_record(&run, job.suite, job);
    // What the run cost where the engine bills by data scanned (Athena).
    if let (Some(before), Some(after)) = (scanned_before, engine.bytes_scanned()) {
        record["bytes_scanned"] = json!(after.saturating_sub(before));
    }
    store.put(&results_key, &pretty(&record)?)?;
    let stats = json!({
        "table": run.table,
        "date": job.date,
        "run_time": job.run_time,
        "contract_hash": run.contract_hash,
        "row_count": profile.row_count,
        "profile": profile,
    });
    store.put(&stats_key, &pretty(&stats)?)?;
    let count = |s: Status| run.rules.iter().filter(|r| r.status == s).count();
    let item = json!({
        "table": qualified,
        "date": job.date,
        "run_time": job.run_time,
        "contract_hash": run.contract_hash,
        "passed": run.passed,
        "row_count": run.row_count,
        "failed": count(Status::Fail),
        "warned": count(Status::Warn),
        "results_key": results_key,
        "stats_key": stats_key,
    });
    ports.metadata.put(&table_pk(&qualified), &format!("run#{}", job.date), &item)?;
    Ok(TestOutcome { run, profile: Some(profile), results_key, stats_key: Some(stats_key) })
}

/// Files the results of a run stopped by a schema disagreement (no stats: the table was not
/// profiled) and indexes it as failed.
fn file_schema_failure(ports: &Ports<'_>, job: &TestJob<'_>, run: &RunResult) -> Result<TestOutcome, Error> {
    let results_key = format!("results/{}/{}.json", job.key, job.date);
    ports.store.put(&results_key, &pretty(&results_record(run, job.suite, job))?)?;
    let item = json!({
        "table": run.table,
        "date": job.date,
        "run_time": job.run_time,
        "contract_hash": run.contract_hash,
        "passed": false,
        "row_count": 0,
        "failed": 1,
        "warned": 0,
        "results_key": results_key,
        "stats_key": Value::Null,
    });
    ports.metadata.put(&table_pk(&run.table), &format!("run#{}", job.date), &item)?;
    Ok(TestOutcome { run: run.clone(), profile: None, results_key, stats_key: None })
}

/// A readable summary table of a run: rule, status, violations, severity.
pub fn render_summary(run: &RunResult) -> String {
    let width = run.rules.iter().map(|r| r.rule_id.len()).max().unwrap_or(4).max(4);
    let mut out = format!("{}: {} row(s)\n", run.table, run.row_count);
    out.push_str(&format!("  {:<width$}  {:<13}  {:>10}  severity\n", "rule", "status", "violations"));
    for r in &run.rules {
        let status = match r.status {
            Status::Pass => "pass",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::NotEvaluated => "not evaluated",
        };
        out.push_str(&format!("  {:<width$}  {:<13}  {:>10}  {}\n", r.rule_id, status, r.violations, r.severity));
    }
    let failed = run.rules.iter().filter(|r| r.status == Status::Fail).count();
    let warned = run.rules.iter().filter(|r| r.status == Status::Warn).count();
    out.push_str(&format!(
        "  {}: {failed} failed, {warned} warned, {} rule(s)\n",
        if run.passed { "PASSED" } else { "FAILED" },
        run.rules.len()
    ));
    out
}
