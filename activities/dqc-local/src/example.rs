//! The example loans lake: a seeded, deterministic generator with documented defects.
//!
//! `generate(lake, options)` writes four tables under `lake`:
//!
//! | table | format | rows |
//! |---|---|---|
//! | `analytics_db/dim_customer/data.parquet` | Parquet | `C = N / 50 + 20` |
//! | `analytics_db/dim_loan/data.parquet` | Parquet | `L = N / 20 + 20` |
//! | `analytics_db/loan_repayment_fact/payment_date=YYYY-MM-DD/*.parquet` | Parquet, Hive partitions | `N` + duplicates |
//! | `raw_db/raw_payments/payments.csv` | CSV (landing zone) | `N` lines + duplicates |
//!
//! Every value comes from DuckDB SQL over `range(N)` with `hash(i, seed, ...)` as the
//! pseudo-random source, on one thread, so the same `N` and seed give byte-identical files.
//! Defects sit at fixed *slots*: row `i` of a table with modulus `k` has slot `i % k`, and
//! each defect owns one slot, so its count is `count(n, k, slot) = ceil((n - slot) / k)`
//! (0 when `n <= slot`). `examples/loans/README.md` lists them; [`ExampleLake::defects`]
//! holds the exact counts for one `N`, also written to `<lake>/_defects.json`.

use std::io::Write;
use std::path::Path;

use dqc_activities::Error;
use serde::Serialize;

use crate::engine::{path_literal, DuckEngine};
use crate::preload::PreloadReport;
use crate::value::date_from_days;

/// Days from 1970-01-01 to 2024-01-01, the first payment date.
const FIRST_DAY: i64 = 19_723;

/// Generator inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExampleOptions {
    /// Base rows of the fact (and of `raw_payments`).
    pub rows: u64,
    /// Seed of the pseudo-random values.
    pub seed: u64,
    /// Whether to inject the documented defects; without them, every table meets its
    /// contract but for freshness (the draft quality test drafts from such a lake).
    pub defects: bool,
}

/// One injected defect and how many violations it causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Defect {
    /// `database.table`.
    pub table: String,
    /// The contract rule that catches it (for `raw_payments`, the pre-load reason).
    pub rule_id: String,
    /// What was injected.
    pub description: String,
    /// How the count follows from the row counts.
    pub formula: String,
    /// Exact number of violations the rule reports (rows, or 1 for table-level rules).
    pub count: u64,
}

/// What the generator wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExampleLake {
    /// `N`.
    pub rows: u64,
    /// The seed.
    pub seed: u64,
    /// Rows of `dim_customer`.
    pub customers: u64,
    /// Rows of `dim_loan`.
    pub loans: u64,
    /// Rows of `loan_repayment_fact` (`N` plus duplicated grain rows).
    pub fact_rows: u64,
    /// Data lines of `raw_payments.csv` (`N` plus duplicated payments), header excluded.
    pub raw_lines: u64,
    /// The first payment date.
    pub first_date: String,
    /// The last payment date (the newest partition).
    pub last_date: String,
    /// The run time the lake is checked at: two days after the newest partition, 06:00
    /// (the two latest daily partitions are missing: stale data).
    pub as_of: String,
    /// Every injected defect with its exact count.
    pub defects: Vec<Defect>,
}

/// Rows `i` in `0..n` with `i % k == slot`.
pub fn slot_count(n: u64, k: u64, slot: u64) -> u64 {
    if n > slot {
        (n - slot - 1) / k + 1
    } else {
        0
    }
}

impl ExampleLake {
    /// The layout and exact defect counts for `options`, without writing anything.
    pub fn plan(options: ExampleOptions) -> ExampleLake {
        let n = options.rows;
        let (c, l) = (n / 50 + 20, n / 20 + 20);
        let days = n.div_ceil(l).max(1);
        let last = FIRST_DAY + i64::try_from(days).unwrap_or(0) - 1;
        let fact = |rule: &str, slot: u64, what: &str| Defect {
            table: "analytics_db.loan_repayment_fact".into(),
            rule_id: rule.into(),
            description: what.into(),
            formula: format!("count(N, 1000, {slot})"),
            count: slot_count(n, 1000, slot),
        };
        let dim = |table: &str, rows: u64, sym: &str, rule: &str, slot: u64, what: &str| Defect {
            table: format!("analytics_db.{table}"),
            rule_id: rule.into(),
            description: what.into(),
            formula: format!("count({sym}, 100, {slot})"),
            count: slot_count(rows, 100, slot),
        };
        let raw = |rule: &str, slot: u64, what: &str| Defect {
            table: "raw_db.raw_payments".into(),
            rule_id: rule.into(),
            description: what.into(),
            formula: format!("count(N, 1000, {slot})"),
            count: slot_count(n, 1000, slot),
        };
        let dup_raw = if options.defects { slot_count(n, 1000, 996) } else { 0 };
        let mut defects = vec![
            dim("dim_customer", c, "C", "length_name", 97, "empty name"),
            dim("dim_customer", c, "C", "regex_email", 98, "email without @ (warn)"),
            dim("dim_customer", c, "C", "allowed_values_segment", 99, "segment 'UNKNOWN'"),
            dim("dim_loan", l, "L", "min_principal", 98, "principal 0"),
            dim("dim_loan", l, "L", "allowed_values_product", 99, "product 'GOLD' (warn)"),
            fact("not_null_customer_id", 996, "NULL customer_id"),
            fact("fk_loan_id_dim_loan", 998, "orphan loan_id (L9xxxxxxx, not in dim_loan)"),
            fact("fk_customer_id_dim_customer", 999, "orphan customer_id (C9xxxxxxx, not in dim_customer)"),
            fact("min_emi_amount", 997, "negative emi_amount"),
            fact("emi_soft", 993, "emi_amount above 20000 (warn)"),
            fact("allowed_values_status", 994, "status 'REFUNDED'"),
            fact("unique_loan_id_payment_date", 995, "duplicated grain row (one extra, older copy)"),
            Defect {
                table: "analytics_db.loan_repayment_fact".into(),
                rule_id: "freshness_created_at".into(),
                description: "stale: the two newest daily partitions are missing at as_of".into(),
                formula: "1".into(),
                count: 1,
            },
            raw("malformed:too_few_fields", 989, "line with 5 of 7 fields"),
            raw("malformed:too_many_fields", 990, "line with 8 fields"),
            raw("cast:emi_amount", 991, "emi_amount 'abc' (not a number)"),
            raw("cast:payment_date", 992, "payment_date '2024-02-30' (not a date)"),
            // A value that does not cast is NULL to the rules, as in a Glue job that reads the
            // file with the contract's schema; its row is quarantined for the cast either way.
            raw("not_null_payment_date", 992, "payment_date that does not cast (NULL to the rules)"),
            Defect {
                table: "raw_db.raw_payments".into(),
                rule_id: "not_null_emi_amount".into(),
                description: "empty emi_amount, and emi_amount that does not cast (within the 99% threshold)".into(),
                formula: "count(N, 1000, 993) + count(N, 1000, 991)".into(),
                count: slot_count(n, 1000, 993) + slot_count(n, 1000, 991),
            },
            raw("min_emi_amount", 994, "negative emi_amount"),
            raw("allowed_values_payment_status", 995, "payment_status 'UNKNOWN'"),
            Defect {
                table: "raw_db.raw_payments".into(),
                rule_id: "unique_payment_id".into(),
                description: "payment line delivered twice (both copies flagged)".into(),
                formula: "2 * count(N, 1000, 996)".into(),
                count: 2 * dup_raw,
            },
            raw("check_payment_date_ingest_date_46620d60", 997, "payment_date after ingest_date"),
        ];
        if !options.defects {
            defects.retain(|d| d.rule_id == "freshness_created_at");
        }
        ExampleLake {
            rows: n,
            seed: options.seed,
            customers: c,
            loans: l,
            fact_rows: n + if options.defects { slot_count(n, 1000, 995) } else { 0 },
            raw_lines: n + dup_raw,
            first_date: date_from_days(FIRST_DAY),
            last_date: date_from_days(last),
            as_of: format!("{} 06:00:00", date_from_days(last + 2)),
            defects,
        }
    }

    /// The count of one defect, by table and rule.
    pub fn count(&self, table: &str, rule_id: &str) -> Option<u64> {
        self.defects.iter().find(|d| d.table == table && d.rule_id == rule_id).map(|d| d.count)
    }

    /// How a pre-load split of `raw_db/raw_payments/payments.csv` differs from the documented
    /// defects: every line read, the malformed lines rejected, the documented cast failures
    /// and rule violations and nothing else, and the row invariant. Empty when it agrees.
    pub fn preload_mismatches(&self, report: &PreloadReport) -> Vec<String> {
        const RAW: &str = "raw_db.raw_payments";
        let documented = |id: &str| self.count(RAW, id).unwrap_or(0);
        let mut out = Vec::new();
        let mut expect = |what: String, documented: u64, reported: u64| {
            if documented != reported {
                out.push(format!("{RAW} {what}: documented {documented}, reported {reported}"));
            }
        };
        expect("input lines".into(), self.raw_lines, report.rows_in);
        let malformed = documented("malformed:too_few_fields") + documented("malformed:too_many_fields");
        expect("unreadable lines".into(), malformed, report.rows_rejected);
        for d in self.defects.iter().filter(|d| d.table == RAW) {
            if let Some(column) = d.rule_id.strip_prefix("cast:") {
                let reported = report.cast_failures.iter().find(|c| c.column == column).map_or(0, |c| c.rows);
                expect(format!("values of {column} that do not cast"), d.count, reported);
            }
        }
        for c in &report.cast_failures {
            if self.count(RAW, &format!("cast:{}", c.column)).is_none() {
                expect(format!("values of {} that do not cast", c.column), 0, c.rows);
            }
        }
        for r in &report.rules {
            expect(r.rule_id.clone(), documented(&r.rule_id), r.violations);
        }
        if !report.invariant_holds {
            out.push(format!(
                "{RAW}: valid {} + quarantined {} + rejected {} is not the {} rows read",
                report.rows_valid, report.rows_quarantined, report.rows_rejected, report.rows_in
            ));
        }
        out
    }
}

/// The defect slot of row `i` among `k`, or a slot no defect owns when defects are off.
fn slot(k: u64, defects: bool) -> String {
    if defects {
        format!("i % {k}")
    } else {
        "-1".to_string()
    }
}

fn customers_sql(c: u64, seed: u64, defects: bool) -> String {
    let s = slot(100, defects);
    format!(
        "SELECT 'C' || lpad(CAST(i AS VARCHAR), 8, '0') AS customer_id,
  CASE WHEN {s} = 97 THEN '' ELSE 'Customer ' || CAST(i AS VARCHAR) END AS name,
  'customer' || CAST(i AS VARCHAR) || CASE WHEN {s} = 98 THEN '.example.com' ELSE '@example.com' END AS email,
  CASE WHEN {s} = 99 THEN 'UNKNOWN'
       ELSE ['RETAIL', 'SME', 'CORPORATE'][1 + CAST(hash(i, {seed}, 'segment') % 3 AS INTEGER)] END AS segment
FROM range({c}) t(i) ORDER BY i"
    )
}

fn loans_sql(l: u64, c: u64, seed: u64, defects: bool) -> String {
    let s = slot(100, defects);
    format!(
        "SELECT 'L' || lpad(CAST(i AS VARCHAR), 8, '0') AS loan_id,
  'C' || lpad(CAST(hash(i, {seed}, 'customer') % {c} AS VARCHAR), 8, '0') AS customer_id,
  CAST(CASE WHEN {s} = 98 THEN 0 ELSE 10000 + (hash(i, {seed}, 'principal') % 49000000) / 100.0 END
       AS DECIMAL(12, 2)) AS principal,
  CAST(12 * (1 + hash(i, {seed}, 'tenure') % 30) AS INTEGER) AS tenure,
  CASE WHEN {s} = 99 THEN 'GOLD'
       ELSE ['HOME', 'AUTO', 'PERSONAL'][1 + CAST(hash(i, {seed}, 'product') % 3 AS INTEGER)] END AS product
FROM range({l}) t(i) ORDER BY i"
    )
}

/// The base rows shared by the fact and the raw payments: loan `i % L`, day `i / L`.
fn base_sql(n: u64, l: u64, c: u64, seed: u64, defects: bool) -> String {
    format!(
        "SELECT i, {s} AS slot, i % {l} AS l,
  DATE '{first}' + CAST(i // {l} AS INTEGER) AS day,
  'C' || lpad(CAST(hash(i % {l}, {seed}, 'customer') % {c} AS VARCHAR), 8, '0') AS customer,
  500 + (hash(i, {seed}, 'emi') % 1950000) / 100.0 AS emi,
  CASE WHEN hash(i, {seed}, 'status') % 100 < 88 THEN 'SUCCESS'
       WHEN hash(i, {seed}, 'status') % 100 < 96 THEN 'FAILED' ELSE 'PENDING' END AS st,
  3600 + hash(i, {seed}, 'created') % 7200 AS secs
FROM range({n}) t(i)",
        first = date_from_days(FIRST_DAY),
        s = slot(1000, defects)
    )
}

fn fact_sql(base: &str) -> String {
    format!(
        "WITH base AS ({base}),
rows AS (
  SELECT i, slot,
    CASE WHEN slot = 998 THEN 'L' || CAST(90000000 + i // 1000 AS VARCHAR)
         ELSE 'L' || lpad(CAST(l AS VARCHAR), 8, '0') END AS loan_id,
    CASE WHEN slot = 996 THEN NULL
         WHEN slot = 999 THEN 'C' || CAST(90000000 + i // 1000 AS VARCHAR)
         ELSE customer END AS customer_id,
    day AS payment_date,
    CASE WHEN slot = 997 THEN -emi WHEN slot = 993 THEN emi + 25000 ELSE emi END AS emi_amount,
    CASE WHEN slot = 994 THEN 'REFUNDED' ELSE st END AS status,
    CAST(day AS TIMESTAMP) + to_seconds(CAST(secs AS BIGINT)) AS created_at
  FROM base
)
SELECT loan_id, customer_id, payment_date, emi_amount, status, created_at FROM (
  SELECT *, 0 AS copy FROM rows
  UNION ALL
  SELECT i, slot, loan_id, customer_id, payment_date, emi_amount, status, created_at - INTERVAL 1 HOUR, 1
  FROM rows WHERE slot = 995
) ORDER BY payment_date, i, copy"
    )
}

fn raw_sql(base: &str) -> String {
    format!(
        "WITH base AS ({base}),
lines AS (
  SELECT i, slot, 0 AS copy,
    'P' || lpad(CAST(i AS VARCHAR), 10, '0') AS payment_id,
    'L' || lpad(CAST(l AS VARCHAR), 8, '0') AS loan_id,
    customer AS customer_id,
    CASE WHEN slot = 992 THEN '2024-02-30' WHEN slot = 997 THEN CAST(day + 2 AS VARCHAR)
         ELSE CAST(day AS VARCHAR) END AS payment_date,
    CASE WHEN slot = 991 THEN 'abc' WHEN slot = 993 THEN '' WHEN slot = 994 THEN CAST(-emi AS VARCHAR)
         ELSE CAST(emi AS VARCHAR) END AS emi_amount,
    CASE WHEN slot = 995 THEN 'UNKNOWN' ELSE st END AS payment_status,
    CAST(day + 1 AS VARCHAR) AS ingest_date
  FROM base
)
SELECT CASE
  WHEN slot = 989 THEN concat_ws(',', payment_id, loan_id, customer_id, payment_date, emi_amount)
  WHEN slot = 990 THEN concat_ws(',', payment_id, loan_id, customer_id, payment_date, emi_amount,
                                 payment_status, ingest_date, 'EXTRA')
  ELSE concat_ws(',', payment_id, loan_id, customer_id, payment_date, emi_amount, payment_status, ingest_date)
  END AS line
FROM (
  SELECT * FROM lines
  UNION ALL
  SELECT i, slot, 1, payment_id, loan_id, customer_id, payment_date, emi_amount, payment_status, ingest_date
  FROM lines WHERE slot = 996
) ORDER BY i, copy"
    )
}

fn io(e: std::io::Error, what: &Path) -> Error {
    Error::fatal(format!("{}: {e}", what.display()))
}

/// Generates the example lake under `lake` (replacing the four table folders) and writes
/// `<lake>/_defects.json`.
pub fn generate(lake: &Path, options: ExampleOptions) -> Result<ExampleLake, Error> {
    let plan = ExampleLake::plan(options);
    let (n, c, l, seed) = (plan.rows, plan.customers, plan.loans, options.seed);
    let engine = DuckEngine::in_memory()?;
    // One thread: row order and file contents do not depend on scheduling.
    engine.execute("SET threads = 1; SET preserve_insertion_order = true;")?;
    for dir in ["analytics_db/dim_customer", "analytics_db/dim_loan", "analytics_db/loan_repayment_fact"] {
        let path = lake.join(dir);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(|e| io(e, &path))?;
        }
        std::fs::create_dir_all(&path).map_err(|e| io(e, &path))?;
    }
    let file = |rel: &str| path_literal(&lake.join(rel).to_string_lossy());
    engine.execute(&format!(
        "COPY ({}) TO {} (FORMAT parquet);",
        customers_sql(c, seed, options.defects),
        file("analytics_db/dim_customer/data.parquet")
    ))?;
    engine.execute(&format!(
        "COPY ({}) TO {} (FORMAT parquet);",
        loans_sql(l, c, seed, options.defects),
        file("analytics_db/dim_loan/data.parquet")
    ))?;
    let base = base_sql(n, l, c, seed, options.defects);
    engine.execute(&format!(
        "COPY ({}) TO {} (FORMAT parquet, PARTITION_BY (payment_date), OVERWRITE_OR_IGNORE);",
        fact_sql(&base),
        file("analytics_db/loan_repayment_fact")
    ))?;
    let raw_dir = lake.join("raw_db/raw_payments");
    std::fs::create_dir_all(&raw_dir).map_err(|e| io(e, &raw_dir))?;
    let raw_path = raw_dir.join("payments.csv");
    let tmp = raw_dir.join(".payments.csv.tmp");
    {
        let f = std::fs::File::create(&tmp).map_err(|e| io(e, &tmp))?;
        let mut w = std::io::BufWriter::new(f);
        w.write_all(b"payment_id,loan_id,customer_id,payment_date,emi_amount,payment_status,ingest_date\n")
            .map_err(|e| io(e, &tmp))?;
        engine.for_each_text(&raw_sql(&base), |line| {
            w.write_all(line.as_bytes()).and_then(|()| w.write_all(b"\n")).map_err(|e| io(e, &tmp))
        })?;
        w.flush().map_err(|e| io(e, &tmp))?;
    }
    std::fs::rename(&tmp, &raw_path).map_err(|e| io(e, &raw_path))?;
    let mut json = serde_json::to_string_pretty(&plan).map_err(|e| Error::fatal(e.to_string()))?;
    json.push('\n');
    let defects = lake.join("_defects.json");
    std::fs::write(&defects, json).map_err(|e| io(e, &defects))?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_counts() {
        assert_eq!(slot_count(5000, 1000, 999), 5);
        assert_eq!(slot_count(999, 1000, 999), 0);
        assert_eq!(slot_count(1000, 1000, 999), 1);
        assert_eq!(slot_count(1500, 1000, 200), 2);
        let plan = ExampleLake::plan(ExampleOptions { rows: 5000, seed: 42, defects: true });
        assert_eq!((plan.customers, plan.loans, plan.fact_rows), (120, 270, 5005));
        assert_eq!(plan.last_date, "2024-01-19");
        assert_eq!(plan.as_of, "2024-01-21 06:00:00");
    }
}
