//! The benchmark: the 20-rule loan fact contract at N rows, measured against what the same
//! work costs when written by hand in DuckDB.
//!
//! Every phase runs in its own process (the CLI re-invokes itself), so each reports its own
//! wall time and peak resident memory. References: the bare scan (every column read once),
//! a hand-written fused plan for the same 20 rules, the fused row-level scan alone, and a
//! plain Parquet rewrite of the table.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dqc_activities::post_load::{run, RunOptions};
use dqc_activities::{Error, QueryEngine};
use dqc_codegen::sql::{suite, DuckDb};
use dqc_ir::{Contract, Project};
use serde::Serialize;

use crate::engine::{path_literal, DuckEngine};
use crate::PreloadOptions;

/// The benchmark contract (20 rules).
pub const CONTRACT: &str = include_str!("../bench/loan_fact_bench.dqc");

/// The phases, in the order they run.
pub const PHASES: &[&str] = &[
    "bare_scan",
    "rewrite",
    "fused_row_scan",
    "row_rules_apart",
    "fk_left_join",
    "fk_not_exists",
    "fused",
    "suite",
    "test",
    "preload",
    "profile",
    "csv_read",
    "csv_suite",
];

/// The phases that measure the product; the others are references written by hand.
pub const PRODUCT_PHASES: &[&str] = &["suite", "test", "preload", "profile", "csv_suite"];

/// The phase that times `dqc test` end to end; the CLI runs it (see [`test_command`]).
pub const TEST_PHASE: &str = "test";

/// The arguments of the `dqc test` command the [`TEST_PHASE`] runs over the benchmark lake in
/// `dir`: the contract, its results and stats history filed under `dir/artifacts`.
pub fn test_command(dir: &Path) -> Vec<String> {
    let path = |p: PathBuf| p.display().to_string();
    vec![
        "test".to_string(),
        "bench.loan_fact".to_string(),
        "--lake".to_string(),
        path(dir.join("lake")),
        "--contracts".to_string(),
        path(dir.join("contracts")),
        "--artifacts".to_string(),
        path(dir.join("artifacts")),
        "--date".to_string(),
        "2024-06-01".to_string(),
        "--run-time".to_string(),
        "2024-06-01 00:00:00".to_string(),
    ]
}

/// What one phase measured.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PhaseResult {
    /// Phase name.
    pub phase: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Peak resident set of the phase's process, in MiB.
    pub peak_rss_mib: f64,
    /// A figure the phase computed, to show it did the work (rows, violations).
    pub checksum: String,
}

fn fact(dir: &Path) -> PathBuf {
    dir.join("lake").join("bench").join("loan_fact").join("data.parquet")
}

/// The same fact as CSV, in a lake of its own (`csv_lake`) with the same dimensions.
fn csv_fact(dir: &Path) -> PathBuf {
    dir.join("csv_lake").join("bench").join("loan_fact").join("data.csv")
}

/// Engine settings shared by every phase, so comparisons are fair.
fn engine(dir: &Path) -> Result<DuckEngine, Error> {
    let e = DuckEngine::over_lake(&dir.join("lake"))?;
    e.execute("SET threads = 2; SET preserve_insertion_order = false;")?;
    Ok(e)
}

/// Writes the fact (`rows` rows, with a sprinkling of defects) and its two dimensions.
pub fn generate(dir: &Path, rows: u64) -> Result<(), Error> {
    for t in ["loan_fact", "dim_loan", "dim_customer"] {
        std::fs::create_dir_all(dir.join("lake").join("bench").join(t))
            .map_err(|e| Error::fatal(format!("cannot create {}: {e}", dir.display())))?;
    }
    let e = DuckEngine::in_memory()?;
    let loans = (rows / 12).max(1);
    let fact_sql = format!(
        "COPY (
           SELECT
             CASE WHEN i % 100003 = 7 THEN 'X' || CAST(i AS VARCHAR)
                  ELSE 'L' || lpad(CAST(i // 12 AS VARCHAR), 8, '0') END AS loan_id,
             'C' || lpad(CAST((i // 12) % 50000 AS VARCHAR), 7, '0') AS customer_id,
             DATE '2020-01-01' + CAST((i % 12) * 30 + (i // 12) % 30 AS INTEGER) AS payment_date,
             CASE WHEN i % 50021 = 3 THEN -1.0 ELSE 500.0 + (hash(i) % 1500000) / 100.0 END AS emi_amount,
             CASE hash(i, 1) % 3 WHEN 0 THEN 'SUCCESS' WHEN 1 THEN 'FAILED' ELSE 'PENDING' END AS status,
             TIMESTAMP '2024-01-01 00:00:00' + to_seconds(CAST(i % 86400 AS BIGINT)) AS created_at,
             CASE hash(i, 2) % 4 WHEN 0 THEN 'APP' WHEN 1 THEN 'WEB' WHEN 2 THEN 'BRANCH' ELSE 'AUTO_DEBIT' END AS channel,
             CAST(20000.0 + (hash(i // 12) % 100000) AS DOUBLE) AS principal,
             CAST(12 + hash(i // 12, 3) % 300 AS INTEGER) AS tenure_months,
             5.0 + (hash(i // 12, 4) % 2000) / 100.0 AS interest_rate,
             'Customer ' || CAST((i // 12) % 50000 AS VARCHAR) AS customer_name
           FROM range({rows}) t(i)
         ) TO {} (FORMAT parquet, ROW_GROUP_SIZE 122880)",
        path_literal(&fact(dir).display().to_string())
    );
    e.execute(&fact_sql)?;
    let dim = |name: &str, sql: String| -> Result<(), Error> {
        let path = dir.join("lake").join("bench").join(name).join("data.parquet");
        e.execute(&format!("COPY ({sql}) TO {} (FORMAT parquet)", path_literal(&path.display().to_string())))
    };
    dim("dim_loan", format!("SELECT 'L' || lpad(CAST(i AS VARCHAR), 8, '0') AS loan_id FROM range({loans}) t(i)"))?;
    dim(
        "dim_customer",
        "SELECT 'C' || lpad(CAST(i AS VARCHAR), 7, '0') AS customer_id FROM range(50000) t(i)".to_string(),
    )?;
    let contracts = dir.join("contracts");
    std::fs::create_dir_all(&contracts)
        .and_then(|()| std::fs::write(contracts.join("loan_fact_bench.dqc"), CONTRACT))
        .map_err(|e| Error::fatal(format!("cannot write the contract in {}: {e}", contracts.display())))?;
    // The CSV lake: the fact as text, the dimensions as they are.
    for t in ["loan_fact", "dim_loan", "dim_customer"] {
        std::fs::create_dir_all(dir.join("csv_lake").join("bench").join(t))
            .map_err(|e| Error::fatal(format!("cannot create {}: {e}", dir.display())))?;
    }
    e.execute(&format!(
        "COPY (SELECT * FROM read_parquet({})) TO {} (FORMAT csv, HEADER)",
        path_literal(&fact(dir).display().to_string()),
        path_literal(&csv_fact(dir).display().to_string())
    ))?;
    for t in ["dim_loan", "dim_customer"] {
        let from = dir.join("lake").join("bench").join(t).join("data.parquet");
        let to = dir.join("csv_lake").join("bench").join(t).join("data.parquet");
        std::fs::copy(&from, &to).map_err(|e| Error::fatal(format!("cannot copy {}: {e}", from.display())))?;
    }
    Ok(())
}

/// The hand-written row-level scan for the same 20 rules: what a careful engineer would write.
fn fused_row_scan_sql() -> &'static str {
    "SELECT count(*) AS n,
       count(*) FILTER (WHERE loan_id IS NULL) AS nn1,
       count(*) FILTER (WHERE customer_id IS NULL) AS nn2,
       count(*) FILTER (WHERE payment_date IS NULL) AS nn3,
       count(*) FILTER (WHERE emi_amount IS NULL) AS nn4,
       count(*) FILTER (WHERE status IS NULL) AS nn5,
       count(*) FILTER (WHERE created_at IS NULL) AS nn6,
       count(*) FILTER (WHERE status NOT IN ('SUCCESS', 'FAILED', 'PENDING')) AS av1,
       count(*) FILTER (WHERE channel NOT IN ('APP', 'WEB', 'BRANCH', 'AUTO_DEBIT')) AS av2,
       count(*) FILTER (WHERE NOT (emi_amount BETWEEN 0 AND 50000)) AS r1,
       count(*) FILTER (WHERE NOT (tenure_months BETWEEN 1 AND 360)) AS r2,
       count(*) FILTER (WHERE NOT (interest_rate > 0 AND interest_rate < 40)) AS r3,
       count(*) FILTER (WHERE NOT (payment_date BETWEEN DATE '2015-01-01' AND DATE '2035-12-31')) AS r4,
       count(*) FILTER (WHERE NOT regexp_matches(loan_id, '^L[0-9]{8}$')) AS rx,
       count(*) FILTER (WHERE NOT (length(customer_name) BETWEEN 1 AND 120)) AS len,
       count(*) FILTER (WHERE NOT (emi_amount <= principal)) AS chk,
       max(created_at) AS newest
     FROM bench.loan_fact"
}

/// The row-level rules of [`fused_row_scan_sql`], one query each: single predicates push
/// down into the Parquet reader, so this shape is measured against the fused one.
fn row_rules_apart_sql() -> Vec<String> {
    let predicates = [
        "loan_id IS NULL",
        "customer_id IS NULL",
        "payment_date IS NULL",
        "emi_amount IS NULL",
        "status IS NULL",
        "created_at IS NULL",
        "status NOT IN ('SUCCESS', 'FAILED', 'PENDING')",
        "channel NOT IN ('APP', 'WEB', 'BRANCH', 'AUTO_DEBIT')",
        "NOT (emi_amount BETWEEN 0 AND 50000)",
        "NOT (tenure_months BETWEEN 1 AND 360)",
        "NOT (interest_rate > 0 AND interest_rate < 40)",
        "NOT (payment_date BETWEEN DATE '2015-01-01' AND DATE '2035-12-31')",
        "NOT regexp_matches(loan_id, '^L[0-9]{8}$')",
        "NOT (length(customer_name) BETWEEN 1 AND 120)",
        "NOT (emi_amount <= principal)",
    ];
    let mut out: Vec<String> =
        predicates.iter().map(|p| format!("SELECT count(*) FROM bench.loan_fact WHERE {p}")).collect();
    out.push("SELECT count(*), max(created_at) FROM bench.loan_fact".to_string());
    out
}

/// The two foreign keys written as `NOT EXISTS`, the shape the suite does not use.
fn fk_not_exists_sql() -> [&'static str; 2] {
    [
        "SELECT count(*) FROM bench.loan_fact f WHERE f.loan_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM bench.dim_loan d WHERE d.loan_id = f.loan_id)",
        "SELECT count(*) FROM bench.loan_fact f WHERE f.customer_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM bench.dim_customer d WHERE d.customer_id = f.customer_id)",
    ]
}

fn fused_set_queries() -> [&'static str; 3] {
    [
        "SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM bench.loan_fact
           GROUP BY loan_id, payment_date HAVING count(*) > 1)",
        "SELECT count(*) FROM bench.loan_fact f LEFT JOIN bench.dim_loan d ON f.loan_id = d.loan_id
           WHERE d.loan_id IS NULL AND f.loan_id IS NOT NULL",
        "SELECT count(*) FROM bench.loan_fact f LEFT JOIN bench.dim_customer d ON f.customer_id = d.customer_id
           WHERE d.customer_id IS NULL AND f.customer_id IS NOT NULL",
    ]
}

/// Peak resident set of this process, from `/proc/self/status` (0 where unavailable).
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn first_value(e: &DuckEngine, sql: &str) -> Result<String, Error> {
    let rows = e.query(sql, &[])?;
    Ok(rows.rows.first().and_then(|r| r.first()).map(|v| v.to_string()).unwrap_or_default())
}

/// Runs one phase in this process.
pub fn run_phase(dir: &Path, phase: &str) -> Result<PhaseResult, Error> {
    let e = engine(dir)?;
    let started = Instant::now();
    let checksum = match phase {
        "bare_scan" => first_value(&e, "SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM bench.loan_fact")?,
        "rewrite" => {
            let out = dir.join("rewrite.parquet");
            e.execute(&format!(
                "COPY (SELECT * FROM bench.loan_fact) TO {} (FORMAT parquet)",
                path_literal(&out.display().to_string())
            ))?;
            "written".to_string()
        }
        "fused_row_scan" => first_value(&e, fused_row_scan_sql())?,
        "row_rules_apart" => {
            let sums: Result<Vec<String>, Error> = row_rules_apart_sql().iter().map(|q| first_value(&e, q)).collect();
            sums?.join(",")
        }
        "fk_left_join" => {
            let sums: Result<Vec<String>, Error> =
                fused_set_queries()[1..].iter().map(|q| first_value(&e, q)).collect();
            sums?.join(",")
        }
        "fk_not_exists" => {
            let sums: Result<Vec<String>, Error> = fk_not_exists_sql().iter().map(|q| first_value(&e, q)).collect();
            sums?.join(",")
        }
        "fused" => {
            let mut sums = vec![first_value(&e, fused_row_scan_sql())?];
            for q in fused_set_queries() {
                sums.push(first_value(&e, q)?);
            }
            sums.join(",")
        }
        "suite" => {
            let project = checked_contract()?;
            let s = suite(&DuckDb, &project, fact_contract(&project)?, false);
            let result =
                run(&e, &s, &RunOptions { run_time: "2024-06-01 00:00:00".to_string(), ..RunOptions::default() })?;
            let violations: u64 = result.rules.iter().map(|r| r.violations).sum();
            format!("{} rows, {violations} violations", result.row_count)
        }
        "preload" => {
            let project = checked_contract()?;
            let mut options = PreloadOptions::new(
                &project,
                fact_contract(&project)?,
                vec![fact(dir)],
                dir.join("valid"),
                dir.join("quarantine"),
            );
            options.lake = Some(dir.join("lake"));
            let report = crate::preload(&options)?;
            format!("{} in, {} valid, {} quarantined", report.rows_in, report.rows_valid, report.rows_quarantined)
        }
        "profile" => {
            let p = dqc_activities::profile::profile(&e, "bench", "loan_fact")?;
            format!("{} rows, {} columns", p.row_count, p.column_stats.len())
        }
        "csv_read" => first_value(
            &e,
            &format!(
                "SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM read_csv({}, header = true)",
                path_literal(&csv_fact(dir).display().to_string())
            ),
        )?,
        "csv_suite" => {
            // What `dqc test` does with a CSV table: read it once, then run the suite.
            let csv = DuckEngine::over_lake(&dir.join("csv_lake"))?;
            csv.execute("SET threads = 2; SET preserve_insertion_order = false;")?;
            csv.read_csv_once("bench.loan_fact")?;
            let project = checked_contract()?;
            let s = suite(&DuckDb, &project, fact_contract(&project)?, false);
            let result =
                run(&csv, &s, &RunOptions { run_time: "2024-06-01 00:00:00".to_string(), ..RunOptions::default() })?;
            let violations: u64 = result.rules.iter().map(|r| r.violations).sum();
            format!("{} rows, {violations} violations", result.row_count)
        }
        TEST_PHASE => return Err(Error::fatal("the `test` phase runs `dqc test`; run it from the CLI")),
        other => return Err(Error::fatal(format!("unknown benchmark phase `{other}`"))),
    };
    Ok(PhaseResult {
        phase: phase.to_string(),
        seconds: started.elapsed().as_secs_f64(),
        peak_rss_mib: peak_rss_mib(),
        checksum,
    })
}

/// Checks the benchmark contract into an IR project (the contract is part of the binary).
fn checked_contract() -> Result<Project, Error> {
    let checked = dqc_compiler::check(&[dqc_compiler::Source::new("loan_fact_bench.dqc", CONTRACT)]);
    if checked.has_errors() {
        return Err(Error::fatal("the benchmark contract does not check"));
    }
    Ok(checked.project)
}

fn fact_contract(project: &Project) -> Result<&Contract, Error> {
    project
        .contracts
        .iter()
        .find(|c| c.table.table == "loan_fact")
        .ok_or_else(|| Error::fatal("benchmark contract has no loan_fact"))
}

/// The report: the end-to-end figure first, then every phase with its ratio to the reference
/// it is judged against.
pub fn report(results: &[PhaseResult], rows: u64) -> String {
    let get = |p: &str| results.iter().find(|r| r.phase == p).map(|r| r.seconds).unwrap_or(f64::NAN);
    let (bare, rewrite, row_scan, fused) = (get("bare_scan"), get("rewrite"), get("fused_row_scan"), get("fused"));
    let mut out = format!("benchmark: {rows} rows of bench.loan_fact, 20 rules, DuckDB with 2 threads\n\n");
    // The targets of `dqc test` at this size: memory always; at 1 million rows a wall time, at
    // 10 million a ratio to the fused plan.
    let memory_target = if rows <= 1_000_000 { 512.0 } else { 1024.0 };
    let time_target = if rows <= 1_000_000 { " (target <= 1.0 s)" } else { "" };
    let ratio_target = if rows >= 10_000_000 { " (target <= 1.0x)" } else { "" };
    if let Some(t) = results.iter().find(|r| r.phase == TEST_PHASE) {
        out.push_str(&format!(
            "dqc test end to end (suite, results, stats history, samples): {:.2} s{time_target}, {:.2}x the hand-written fused plan{ratio_target}, peak {:.0} MiB (target <= {memory_target:.0} MiB)\n\n",
            t.seconds,
            t.seconds / fused,
            t.peak_rss_mib
        ));
    }
    out.push_str(&format!("{:<16} {:>9} {:>10}  {}\n", "phase", "seconds", "peak MiB", "ratio"));
    for r in results {
        let ratio = match r.phase.as_str() {
            "suite" => format!("{:.2}x the hand-written fused plan (target <= 1.0x)", r.seconds / fused),
            TEST_PHASE => format!("{:.2}x the hand-written fused plan{ratio_target}", r.seconds / fused),
            "preload" => {
                format!("{:.2}x (fused row scan + plain rewrite) (target <= 2x)", r.seconds / (row_scan + rewrite))
            }
            "profile" => format!("{:.2}x the bare scan (target <= 3x)", r.seconds / bare),
            "csv_suite" => format!(
                "{:.2}x (reading the CSV once + the Parquet suite) (target <= 1.5x)",
                r.seconds / (get("csv_read") + get("suite"))
            ),
            "csv_read" => "reference: the CSV read once".to_string(),
            "row_rules_apart" => {
                format!(
                    "{:.2}x the fused row scan (one query per rule, the DuckDB suite's shape)",
                    r.seconds / row_scan
                )
            }
            "fk_not_exists" => {
                format!("{:.2}x the LEFT JOIN anti-join (the suite's shape)", r.seconds / get("fk_left_join"))
            }
            "fused" | "fused_row_scan" | "rewrite" | "fk_left_join" => {
                format!("{:.2}x the bare scan (reference)", r.seconds / bare)
            }
            _ => "reference".to_string(),
        };
        out.push_str(&format!("{:<16} {:>9.2} {:>10.0}  {ratio}\n", r.phase, r.seconds, r.peak_rss_mib));
    }
    let peaks: Vec<String> = results
        .iter()
        .filter(|r| PRODUCT_PHASES.contains(&r.phase.as_str()))
        .map(|r| format!("{} {:.0}", r.phase, r.peak_rss_mib))
        .collect();
    out.push_str(&format!("\npeak RSS in MiB: {}\n", peaks.join(", ")));
    out
}
