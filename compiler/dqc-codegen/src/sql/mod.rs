//! The post-load SQL suite: one generator, several dialects.
//!
//! For a contract the suite holds:
//! - one **row scan** that reads the table once and returns `row_count` and, per row-level
//!   rule, `<id>__violations` (and `<id>__checked` when the rule has a filter or a pass
//!   ratio), plus row-count bound verdicts;
//! - one query per **set-based rule**: duplicates on a key, foreign-key orphans (an anti-join
//!   written as `LEFT JOIN ... WHERE parent IS NULL`), freshness against a run-time parameter;
//! - one **sample** per rule: up to 20 failing rows (the grain and the rule's columns, or the
//!   whole row when there is no grain) or keys with their row counts. Where the dialect
//!   [`Dialect::checks_return_samples`] (DuckDB), the checks return them: a uniqueness check
//!   its duplicate keys, a foreign key its missing keys, a row-level rule's count query its
//!   failing rows (`<id>__sample`); elsewhere each is a query of its own, run for failing
//!   rules only;
//! - one **standalone count** query per rule (the seed's `tests[].sql`).
//!
//! Partition-restricted suites filter the table on each partition column with a `?` parameter
//! (Athena execution parameters, DuckDB prepared parameters); nothing user-written is spliced.

pub mod dialect;
pub mod expr;
mod java_regex;
pub mod predicates;
mod queries;

use dqc_ir::{Contract, Project};
use serde::Serialize;

pub use dialect::{Athena, Dialect, DuckDb, Spark};
pub use queries::aggregate;

/// Rows returned by sample queries.
pub const SAMPLE_LIMIT: u32 = 20;

/// What a query computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// The single scan with the row count and, where the dialect fuses them, per-rule
    /// violation counts of the row-level rules.
    RowScan,
    /// One row-level rule's violations, where the dialect does not fuse them into the row scan
    /// (and, where the dialect returns samples with checks, its failing rows in `<id>__sample`).
    RowRule,
    /// Duplicate keys of a uniqueness rule: one row of counts, or (with `sample_columns`) the
    /// duplicate keys themselves, each row carrying the counts, and no row when no key repeats.
    Duplicates,
    /// Orphan rows of a foreign key: one row of counts, or (with `sample_columns`) the missing
    /// keys themselves, each row carrying the counts, and no row when no key is missing.
    ForeignKey,
    /// Age of the newest value.
    Freshness,
    /// Failing rows or keys for diagnosis.
    Sample,
    /// One rule's violation count on its own.
    RuleCount,
}

/// A query parameter, bound in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Param {
    /// `partition:<column>` or `run_time`.
    pub name: String,
    /// The SQL type the parameter is cast to.
    #[serde(rename = "type")]
    pub ty: String,
}

/// One query of a suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Query {
    /// Stable name within the suite, such as `row_scan` or `duplicates__unique_id`.
    pub name: String,
    /// What it computes.
    pub kind: QueryKind,
    /// The rules whose results it returns.
    pub rule_ids: Vec<String>,
    /// The SQL text.
    pub sql: String,
    /// Parameters, in placeholder order.
    pub params: Vec<Param>,
    /// The columns of the failing keys it also returns, one row per key (empty for queries
    /// that return one row of counts): a uniqueness or foreign-key check that yields its
    /// sample from the same grouping.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sample_columns: Vec<String>,
}

/// Rules evaluated outside SQL (row count anomalies need stored history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRule {
    /// Rule id.
    pub rule_id: String,
}

/// A rule as the suite sees it, with its row predicate when it is row-level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Rule type, as in the IR (`not_null`, `range`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// `error` or `warn`.
    pub severity: String,
    /// `pre_load` or `post_load`.
    pub stage: String,
    /// For row-level rules: the SQL condition that is TRUE exactly for violating rows
    /// (filter included), to select, count or quarantine them.
    pub violating_row: Option<String>,
    /// A one-line statement of the rule, for reasons and reports.
    pub description: String,
    /// The minimum pass percentage, for rules with `at least N%`.
    pub min_pass_percent: Option<String>,
    /// For row count anomaly rules: the band and the window.
    pub anomaly: Option<AnomalyInfo>,
}

/// The parameters of a row count anomaly rule, for runners that hold the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnomalyInfo {
    /// Allowed deviation from the rolling mean, in percent.
    pub percent: Option<String>,
    /// Allowed deviation in standard deviations.
    pub k: Option<String>,
    /// Days in the rolling window.
    pub window_days: u32,
}

/// The post-load suite of one contract in one dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suite {
    /// `database.table`.
    pub table: String,
    /// The contract's content hash.
    pub contract_hash: String,
    /// Dialect name.
    pub dialect: String,
    /// Whether queries take partition parameters.
    pub partition_restricted: bool,
    /// Queries in execution order.
    pub queries: Vec<Query>,
    /// Rules evaluated from history instead of SQL.
    pub history_rules: Vec<HistoryRule>,
    /// Every rule, in contract order.
    pub rules: Vec<RuleInfo>,
}

impl Suite {
    /// The queries that count violations (everything but samples and standalone counts).
    pub fn checks(&self) -> impl Iterator<Item = &Query> {
        self.queries.iter().filter(|q| !matches!(q.kind, QueryKind::Sample | QueryKind::RuleCount))
    }
}

/// Builds the suite of `contract` (whose foreign keys resolve in `project`).
pub fn suite(d: &dyn Dialect, project: &Project, contract: &Contract, partition_restricted: bool) -> Suite {
    queries::build(d, project, contract, partition_restricted && !contract.partitions.is_empty())
}

/// Renders a suite as one SQL file: a header, then each query with a comment naming it,
/// its rules and its parameters, terminated by `;`.
pub fn render(suite: &Suite) -> String {
    let mut out = format!(
        "-- Post-load suite for {} ({} dialect).\n-- Contract {}.\n-- Generated by dqc; do not edit.\n",
        suite.table, suite.dialect, suite.contract_hash
    );
    for q in &suite.queries {
        out.push_str(&format!("\n-- {} ({:?})", q.name, q.kind));
        if !q.rule_ids.is_empty() {
            out.push_str(&format!("\n-- rules: {}", q.rule_ids.join(", ")));
        }
        if !q.params.is_empty() {
            let ps: Vec<String> = q.params.iter().map(|p| format!("{} {}", p.name, p.ty)).collect();
            out.push_str(&format!("\n-- params: {}", ps.join(", ")));
        }
        out.push_str(&format!("\n{};\n", q.sql));
    }
    for h in &suite.history_rules {
        out.push_str(&format!("\n-- {}: evaluated against stored row-count history, not in SQL.\n", h.rule_id));
    }
    out
}
