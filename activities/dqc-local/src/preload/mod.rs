//! The pre-load split: applies a contract's `pre_load` rules to input files (CSV or Parquet)
//! and writes the valid rows and the quarantined rows as Parquet, with the reason columns of
//! the generated PySpark splitter (`_dq_errors`, `_dq_warnings`, `_dq_contract_hash`).
//!
//! DuckDB does the work and streams, and no row passes through Rust: a single Parquet input is
//! read where it lies; CSV (and several inputs) are loaded into an in-memory database that
//! spills to a temporary folder under `memory_limit`. Row-level flags are a view, so the counts
//! and each output are one streaming scan; uniqueness and foreign keys are computed once into
//! a table. Every output is a `COPY (SELECT ...) TO`, in input order, so the same input gives
//! byte-identical outputs.
//!
//! - Every input row lands in exactly one output: valid, quarantined, or (CSV lines that are not
//!   a well-formed record of the header's width, or not UTF-8) rejected lines, byte-exact. CSV
//!   inputs are accounted line by line from their bytes before DuckDB reads them (`lines.rs`):
//!   the invariant holds only when every physical line after the header is in a row written, a
//!   rejected line or a counted blank line, and the rows written add up to the rows read.
//! - CSV values are read as text and cast to the declared types with `TRY_CAST`; a non-NULL
//!   value that does not cast quarantines its row (`cast_<column>`).
//! - Error rules without an `at least N%` threshold quarantine; warn and threshold rules tag
//!   (`_dq_warnings`). Rules see NULL for a value that did not cast.
//! - Uniqueness: every row of a duplicated key, or all but the first by the `keep first by`
//!   order (ties by input position); NULL keys are never duplicates.
//! - Foreign keys look keys up in the referenced table of a lake folder; without a lake they
//!   are skipped and reported.

mod input;
mod lines;
mod plan;
mod report;

use std::path::{Path, PathBuf};

use dqc_activities::{ArtifactStore, Error};
use dqc_codegen::sql::predicates::violating_row;
use dqc_codegen::sql::DuckDb;
use dqc_ir::{Contract, Project, RuleKind, Severity, Stage};
use duckdb::Connection;

use crate::engine::traced;
use crate::lake::{LakeTable, TableFormat};
use crate::FolderStore;
use plan::{lit, Applied, Check};
pub use report::{CastCount, Outputs, PreloadReport, RuleCount, SkippedRule};

/// What to split and where to write.
#[derive(Debug, Clone)]
pub struct PreloadOptions<'a> {
    /// The checked project (foreign keys resolve in it).
    pub project: &'a Project,
    /// The contract whose pre-load rules apply.
    pub contract: &'a Contract,
    /// CSV (`.csv`, with a header line) or Parquet (`.parquet`) files.
    pub inputs: Vec<PathBuf>,
    /// Folder for `<table>.parquet` with the valid rows.
    pub valid_dir: PathBuf,
    /// Folder for `<table>.parquet` (quarantined rows) and `<table>.rejected_lines.parquet`.
    pub quarantine_dir: PathBuf,
    /// A lake folder (`<lake>/<database>/<table>/`) holding the tables foreign keys reference.
    pub lake: Option<PathBuf>,
    /// An artifact folder: `quarantine/<table>/<run id>/metrics.json` is written there.
    pub artifacts: Option<PathBuf>,
    /// The run id in the metrics path; today's UTC date when absent.
    pub run_id: Option<String>,
    /// DuckDB's memory limit, such as `512MB`; the process peaks at about 1.5 times it.
    pub memory_limit: String,
    /// DuckDB's worker threads.
    pub threads: u32,
    /// Where progress goes (silent by default).
    pub progress: &'a dyn crate::Progress,
}

impl<'a> PreloadOptions<'a> {
    /// Options with defaults: no lake, no artifacts, a 512 MB memory limit, 2 threads.
    pub fn new(
        project: &'a Project,
        contract: &'a Contract,
        inputs: Vec<PathBuf>,
        valid_dir: impl Into<PathBuf>,
        quarantine_dir: impl Into<PathBuf>,
    ) -> Self {
        PreloadOptions {
            project,
            contract,
            inputs,
            valid_dir: valid_dir.into(),
            quarantine_dir: quarantine_dir.into(),
            lake: None,
            artifacts: None,
            run_id: None,
            memory_limit: "512MB".to_string(),
            threads: 2,
            progress: &crate::Silent,
        }
    }
}

fn duck(what: &str) -> impl Fn(duckdb::Error) -> Error + '_ {
    move |e| Error::fatal(format!("{what}: {e}"))
}

/// A scratch folder DuckDB spills to, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self, Error> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("dqc-preload-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::fatal(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Today's date (UTC), the default run id.
fn today() -> String {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
}

fn reader(t: &LakeTable) -> String {
    match t.format {
        TableFormat::Parquet => format!("read_parquet({}, hive_partitioning = {})", lit(&t.glob()), t.hive_partitioned),
        TableFormat::Csv => {
            format!("read_csv({}, header = true, hive_partitioning = {})", lit(&t.glob()), t.hive_partitioned)
        }
    }
}

/// The rule's reason text, as the PySpark splitter words it.
fn reason(contract: &Contract, rule: &dqc_ir::Rule) -> String {
    let mut text = dqc_codegen::describe::rule(contract, rule);
    if let RuleKind::Unique { keep: Some(keep), .. } = &rule.kind {
        let order = if keep.descending { " desc" } else { "" };
        text.push_str(&format!("; the first row by {}{order} is kept", keep.order_by));
    }
    text
}

/// The pre-load rules the split applies, and those it skips with why.
fn select_rules<'a>(
    contract: &'a Contract,
    lake: Option<&Path>,
) -> Result<(Vec<Applied<'a>>, Vec<SkippedRule>), Error> {
    let mut applied = Vec::new();
    let mut skipped = Vec::new();
    let mut tables: Option<Vec<LakeTable>> = None;
    for rule in contract.rules.iter().filter(|r| r.stage == Stage::PreLoad) {
        let check = match &rule.kind {
            RuleKind::Unique { columns, keep } => Check::Unique { columns, keep: keep.as_ref() },
            RuleKind::ForeignKey { columns, table, ref_columns } => {
                let Some(lake) = lake else {
                    skipped.push(SkippedRule {
                        rule_id: rule.id.clone(),
                        reason: format!("foreign key to {} needs the referenced table: pass a lake", table.qualified()),
                    });
                    continue;
                };
                if tables.is_none() {
                    tables = Some(crate::lake::discover(lake)?);
                }
                let found = tables.iter().flatten().find(|t| {
                    t.table.eq_ignore_ascii_case(&table.table)
                        && table.database.as_ref().is_none_or(|d| d.eq_ignore_ascii_case(&t.database))
                });
                let Some(parent) = found else {
                    return Err(Error::fatal(format!(
                        "foreign key {} references {}, which is not in the lake {} (expected {}/{}/{}/ with Parquet or CSV files)",
                        rule.id,
                        table.qualified(),
                        lake.display(),
                        lake.display(),
                        table.database.as_deref().unwrap_or("<database>"),
                        table.table
                    )));
                };
                Check::ForeignKey { columns, parent: reader(parent), ref_columns }
            }
            _ => match violating_row(&DuckDb, contract, rule) {
                Some(condition) => Check::Row { condition },
                // Aggregates are computed over the batch after the split.
                None if matches!(rule.kind, RuleKind::Aggregate { .. }) => continue,
                None => {
                    skipped.push(SkippedRule {
                        rule_id: rule.id.clone(),
                        reason: "a table-level rule, checked post-load".to_string(),
                    });
                    continue;
                }
            },
        };
        let quarantines = rule.severity == Severity::Error && rule.min_pass_percent.is_none();
        applied.push(Applied { rule, check, quarantines, reason: reason(contract, rule) });
    }
    Ok((applied, skipped))
}

/// The contract's pre-load aggregate rules over the batch (its rows as cast), as the PySpark
/// module reports them in its metrics: the same SQL as the post-load suite's.
fn batch_aggregates(conn: &Connection, contract: &Contract) -> Result<Vec<report::AggregateOutcome>, Error> {
    let rules: Vec<(&dqc_ir::Rule, String, String)> = contract
        .rules
        .iter()
        .filter(|r| r.stage == Stage::PreLoad)
        .filter_map(|r| dqc_codegen::sql::aggregate(&DuckDb, contract, r).map(|(value, fails)| (r, value, fails)))
        .collect();
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    // One scan of the batch for all of them.
    let cols: Vec<String> = rules
        .iter()
        .map(|(_, value, fails)| format!("CAST({value} AS VARCHAR), CASE WHEN {fails} THEN 1 ELSE 0 END"))
        .collect();
    let sql = format!("SELECT {} FROM {}", cols.join(", "), plan::FLAGGED);
    let row: Vec<(Option<String>, i64)> = traced(&sql, || {
        conn.query_row(&sql, [], |row| (0..rules.len()).map(|i| Ok((row.get(2 * i)?, row.get(2 * i + 1)?))).collect())
    })
    .map_err(duck("cannot compute the aggregate rules"))?;
    Ok(rules
        .iter()
        .zip(row)
        .map(|((rule, _, _), (value, failed))| report::AggregateOutcome {
            rule_id: rule.id.clone(),
            severity: rule.severity.as_str().to_string(),
            value,
            passed: failed == 0,
        })
        .collect())
}

fn copy(conn: &Connection, select: &str, path: &Path) -> Result<u64, Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::fatal(format!("cannot create {}: {e}", dir.display())))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out.parquet");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let what = format!("cannot write {}", path.display());
    let sql = format!("COPY (\n{select}\n) TO {} (FORMAT parquet);", lit(&tmp.display().to_string()));
    traced(&sql, || conn.execute_batch(&sql)).map_err(duck(&what))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::fatal(format!("{what}: {e}")))?;
    // The rows actually written, read back from the file's metadata.
    let n: i64 = conn
        .query_row(&format!("SELECT count(*) FROM read_parquet({})", lit(&path.display().to_string())), [], |r| {
            r.get(0)
        })
        .map_err(duck(&what))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Fails when an output would replace one of the inputs (a single Parquet input is read again
/// by each output's scan, so it must stay where it is until the split is done).
fn refuse_overwriting_inputs(inputs: &[PathBuf], outputs: &Outputs) -> Result<(), Error> {
    let canonical = |p: &Path| -> Option<PathBuf> {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
    };
    // A folder that does not exist yet is compared by its absolute path.
    let resolved = |p: &Path| -> PathBuf {
        canonical(p).unwrap_or_else(|| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
    };
    if resolved(&outputs.valid) == resolved(&outputs.quarantined) {
        return Err(Error::fatal(format!(
            "the valid and the quarantined rows would both be written to {}: give --valid and --quarantine different folders",
            outputs.valid.display()
        )));
    }
    let inputs: Vec<PathBuf> = inputs.iter().filter_map(|p| std::fs::canonicalize(p).ok()).collect();
    for out in [&outputs.valid, &outputs.quarantined, &outputs.rejected_lines] {
        if canonical(out).is_some_and(|c| inputs.contains(&c)) {
            return Err(Error::fatal(format!(
                "output {} is one of the inputs: choose other --valid/--quarantine folders",
                out.display()
            )));
        }
    }
    Ok(())
}

fn reserved(contract: &Contract) -> Result<(), Error> {
    let clashes: Vec<&str> = contract
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| n.to_ascii_lowercase().starts_with("_dq_") || n.to_ascii_lowercase().starts_with("__dq_"))
        .collect();
    if clashes.is_empty() {
        Ok(())
    } else {
        Err(Error::fatal(format!("columns whose names the pre-load split reserves: {}", clashes.join(", "))))
    }
}

/// Splits the inputs by the contract's pre-load rules, writes the outputs (and metrics, when
/// an artifact folder is given) and reports the counts. Fails on missing inputs, inputs
/// whose columns disagree with the contract, a foreign key's table missing from the lake,
/// or IO and engine errors; a broken invariant is reported, not an error.
pub fn preload(o: &PreloadOptions<'_>) -> Result<PreloadReport, Error> {
    let contract = o.contract;
    reserved(contract)?;
    input::check_files(&o.inputs)?;
    let run_id = o.run_id.clone().unwrap_or_else(today);
    if run_id.is_empty() || run_id.contains(['/', '\\']) || run_id.starts_with('.') {
        return Err(Error::fatal(format!("invalid run id `{run_id}`")));
    }
    let stem = dqc_codegen::file_stem(o.project, contract);
    let outputs = Outputs {
        valid: o.valid_dir.join(format!("{stem}.parquet")),
        quarantined: o.quarantine_dir.join(format!("{stem}.parquet")),
        rejected_lines: o.quarantine_dir.join(format!("{stem}.rejected_lines.parquet")),
        metrics: None,
    };
    refuse_overwriting_inputs(&o.inputs, &outputs)?;
    let (applied, skipped) = select_rules(contract, o.lake.as_deref())?;
    let scratch = Scratch::new()?;
    let conn = crate::engine::connect().map_err(duck("cannot start DuckDB"))?;
    conn.execute_batch(&format!(
        "SET memory_limit = {}; SET threads = {}; SET temp_directory = {}; SET preserve_insertion_order = true;",
        lit(&o.memory_limit),
        o.threads.max(1),
        lit(&scratch.0.display().to_string())
    ))
    .map_err(duck("cannot configure DuckDB"))?;
    let loaded = input::load(&conn, contract, &o.inputs, &scratch.0, o.progress)?;
    o.progress.phase("applying the pre-load rules", None);
    let flagged = plan::flagged(contract, &applied, loaded.raw_text);
    traced(&flagged, || conn.execute_batch(&flagged)).map_err(duck("cannot apply the pre-load rules"))?;
    let (counts_sql, width) = plan::counts(contract, &applied);
    let counts: Vec<u64> = conn
        .query_row(&counts_sql, [], |row| {
            // Over no rows at all (a header-only CSV), the counts are NULL: zero.
            (0..width)
                .map(|i| row.get::<_, Option<i64>>(i).map(|v| v.map_or(0, |v| u64::try_from(v).unwrap_or(0))))
                .collect()
        })
        .map_err(duck("cannot count violations"))?;
    let aggregates = batch_aggregates(&conn, contract)?;
    o.progress.phase("writing the valid rows", None);
    let valid = copy(&conn, &plan::valid(contract, &applied), &outputs.valid)?;
    o.progress.phase("writing the quarantined rows", None);
    let quarantined = copy(&conn, &plan::quarantined(contract, &applied), &outputs.quarantined)?;
    let rejected = copy(&conn, &plan::rejected(contract), &outputs.rejected_lines)?;
    o.progress.finish();
    let mut report = report::build(report::Parts {
        contract,
        applied: &applied,
        skipped,
        aggregates,
        counts: &counts,
        loaded,
        written: (valid, quarantined, rejected),
        run_id: run_id.clone(),
        outputs,
    });
    if let Some(dir) = &o.artifacts {
        let key = format!("quarantine/{stem}/{run_id}/metrics.json");
        let mut text = serde_json::to_string_pretty(&report).map_err(|e| Error::fatal(e.to_string()))?;
        text.push('\n');
        FolderStore::new(dir.clone()).put(&key, text.as_bytes())?;
        report.outputs.metrics = Some(dir.join(&key));
    }
    Ok(report)
}
