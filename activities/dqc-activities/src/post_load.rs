//! The post-load run: execute a compiled suite, turn counts into verdicts, collect samples.

use std::collections::BTreeMap;
use std::time::Instant;

use dqc_codegen::sql::{Query, QueryKind, Suite};
use serde::Serialize;

use crate::ports::{Error, Param, QueryEngine};

/// How a rule came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No violation, or within the allowed ratio.
    Pass,
    /// A warn-severity rule was violated.
    Warn,
    /// An error-severity rule was violated.
    Fail,
    /// The rule needs data the run does not have (row-count history too short).
    NotEvaluated,
}

/// One rule's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleResult {
    /// Rule id.
    pub rule_id: String,
    /// Rule type.
    #[serde(rename = "type")]
    pub kind: String,
    /// What the rule requires.
    pub description: String,
    /// `error` or `warn`.
    pub severity: String,
    /// `pre_load` or `post_load`.
    pub stage: String,
    /// The verdict.
    pub status: Status,
    /// Violating rows (or 1/0 for table-level verdicts such as freshness and row counts).
    pub violations: u64,
    /// Rows the rule checked, when it has a filter or a pass ratio.
    pub checked: Option<u64>,
    /// The minimum pass percentage, when the rule has one.
    pub threshold_percent: Option<String>,
    /// Extra figures of set-based queries (duplicate keys, newest value, lag).
    pub details: serde_json::Map<String, serde_json::Value>,
    /// Up to 20 failing rows or keys, for failing rules.
    pub sample: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The query that produced the count.
    pub query: String,
    /// Milliseconds spent in that query (shared by every rule of the row scan).
    pub duration_ms: u64,
}

/// Inputs of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The run time, `YYYY-MM-DD HH:MM:SS`, against which freshness is measured.
    pub run_time: String,
    /// Values of the partition columns, in order, for partition-restricted suites.
    pub partition_values: Vec<String>,
    /// Earlier row counts, oldest first, for row-count anomaly rules.
    pub row_count_history: Vec<u64>,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResult {
    /// `database.table`.
    pub table: String,
    /// Contract hash the suite was compiled from.
    pub contract_hash: String,
    /// Rows in the table (or partition).
    pub row_count: u64,
    /// One result per rule, in contract order.
    pub rules: Vec<RuleResult>,
    /// False when any error-severity rule failed.
    pub passed: bool,
}

/// The values of a query's parameters. Partition parameters come as whole sets in the
/// contract's partition order (a query that reads the table twice has two sets), so the
/// `k`-th one is the value of partition `k mod n`.
fn params(q: &Query, options: &RunOptions) -> Vec<Param> {
    let values = &options.partition_values;
    let mut k = 0;
    q.params
        .iter()
        .map(|p| match p.name.as_str() {
            "run_time" => Param::Text(options.run_time.clone()),
            _ => {
                let v = values.get(k % values.len().max(1)).cloned().unwrap_or_default();
                k += 1;
                Param::Text(v)
            }
        })
        .collect()
}

fn count(v: Option<&serde_json::Value>) -> u64 {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)).unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Runs every check of the suite, then samples for failing rules.
pub fn run(engine: &dyn QueryEngine, suite: &Suite, options: &RunOptions) -> Result<RunResult, Error> {
    let mut results: Vec<RuleResult> = Vec::new();
    // Samples that came with a check (duplicate keys, missing keys, failing rows), by rule id.
    let mut samples: BTreeMap<String, Vec<serde_json::Map<String, serde_json::Value>>> = BTreeMap::new();
    let mut row_count = 0;
    for q in suite.checks() {
        let started = Instant::now();
        let rows = engine.query(&q.sql, &params(q, options))?;
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if q.kind == QueryKind::RowScan {
            row_count = count(rows.first("row_count"));
        }
        // A query that returns failing keys, each row carrying the counts: no row is no failure.
        let sampled = !q.sample_columns.is_empty();
        for id in &q.rule_ids {
            let Some(info) = suite.rules.iter().find(|r| &r.id == id) else { continue };
            let violations = count(rows.first(&format!("{id}__violations")));
            let checked = rows.first(&format!("{id}__checked")).map(|v| count(Some(v)));
            let mut details = serde_json::Map::new();
            // An aggregate rule's value, as the engine computed it.
            if let Some(v) = rows.first(&format!("{id}__value")) {
                details.insert("value".to_string(), v.clone());
            }
            for (i, col) in rows.columns.iter().enumerate() {
                if col.contains("__") || q.kind == QueryKind::RowScan || q.sample_columns.contains(col) {
                    continue;
                }
                match rows.rows.first().and_then(|r| r.get(i)) {
                    Some(v) if sampled => details.insert(col.clone(), serde_json::json!(count(Some(v)))),
                    Some(v) => details.insert(col.clone(), v.clone()),
                    None if sampled => details.insert(col.clone(), serde_json::json!(0)),
                    None => None,
                };
            }
            // A row-level rule's sample, collected by its count query.
            if let Some(serde_json::Value::Array(items)) = rows.first(&format!("{id}__sample")) {
                let records = items.iter().filter_map(|v| v.as_object().cloned()).collect();
                samples.insert(id.clone(), records);
            }
            if sampled {
                let keep = |o: serde_json::Map<String, serde_json::Value>| {
                    o.into_iter().filter(|(k, _)| q.sample_columns.contains(k)).collect()
                };
                samples.insert(id.clone(), rows.objects().into_iter().map(keep).collect());
            }
            results.push(RuleResult {
                rule_id: id.clone(),
                kind: info.kind.clone(),
                description: info.description.clone(),
                severity: info.severity.clone(),
                stage: info.stage.clone(),
                status: Status::Pass,
                violations,
                checked,
                threshold_percent: None,
                details,
                sample: Vec::new(),
                query: q.name.clone(),
                duration_ms: ms,
            });
        }
    }
    for r in &mut results {
        r.status = verdict(r, row_count, suite);
    }
    for h in &suite.history_rules {
        if let Some(info) = suite.rules.iter().find(|r| r.id == h.rule_id) {
            results.push(anomaly_result(info, row_count, &options.row_count_history));
        }
    }
    for r in results.iter_mut().filter(|r| matches!(r.status, Status::Fail | Status::Warn)) {
        if let Some(sample) = samples.remove(&r.rule_id) {
            r.sample = sample;
            continue;
        }
        let sample_name = format!("sample__{}", r.rule_id);
        if let Some(q) = suite.queries.iter().find(|q| q.name == sample_name) {
            r.sample = engine.query(&q.sql, &params(q, options))?.objects();
        }
    }
    // Contract order, whatever the query order.
    results.sort_by_key(|r| suite.rules.iter().position(|i| i.id == r.rule_id).unwrap_or(usize::MAX));
    let passed = !results.iter().any(|r| r.status == Status::Fail);
    Ok(RunResult {
        table: suite.table.clone(),
        contract_hash: suite.contract_hash.clone(),
        row_count,
        rules: results,
        passed,
    })
}

/// Pass when nothing is violated or the pass ratio is met; otherwise by severity.
fn verdict(r: &mut RuleResult, row_count: u64, suite: &Suite) -> Status {
    let threshold = suite_threshold(suite, &r.rule_id);
    r.threshold_percent = threshold.clone();
    if r.violations == 0 {
        return Status::Pass;
    }
    if let Some(t) = threshold.and_then(|t| t.parse::<f64>().ok()) {
        let checked = r.checked.unwrap_or(row_count);
        let passing = checked.saturating_sub(r.violations) as f64;
        if checked == 0 || passing * 100.0 >= t * checked as f64 {
            return Status::Pass;
        }
    }
    if r.severity == "warn" {
        Status::Warn
    } else {
        Status::Fail
    }
}

fn suite_threshold(suite: &Suite, id: &str) -> Option<String> {
    suite.rules.iter().find(|r| r.id == id).and_then(|r| r.min_pass_percent.clone())
}

/// Row-count anomaly against the rolling mean of the history (the last `window` points).
fn anomaly_result(info: &dqc_codegen::sql::RuleInfo, row_count: u64, history: &[u64]) -> RuleResult {
    let mut details = serde_json::Map::new();
    let window = info.anomaly.as_ref().map(|a| a.window_days as usize).unwrap_or(7);
    let points: Vec<f64> = history.iter().rev().take(window).map(|v| *v as f64).collect();
    let status = match (&info.anomaly, points.len()) {
        (Some(a), n) if n >= 2 => {
            let mean = points.iter().sum::<f64>() / n as f64;
            let var = points.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
            let half_band = match (&a.percent, &a.k) {
                (Some(p), _) => mean * p.parse::<f64>().unwrap_or(0.0) / 100.0,
                (None, Some(k)) => var.sqrt() * k.parse::<f64>().unwrap_or(0.0),
                (None, None) => 0.0,
            };
            details.insert("expected_low".into(), serde_json::json!(mean - half_band));
            details.insert("expected_high".into(), serde_json::json!(mean + half_band));
            details.insert("training_points".into(), serde_json::json!(n));
            let outside = (row_count as f64 - mean).abs() > half_band;
            match (outside, info.severity.as_str()) {
                (false, _) => Status::Pass,
                (true, "warn") => Status::Warn,
                (true, _) => Status::Fail,
            }
        }
        (_, n) => {
            details.insert("reason".into(), serde_json::json!(format!("{n} day(s) of history; at least 2 are needed")));
            Status::NotEvaluated
        }
    };
    RuleResult {
        rule_id: info.id.clone(),
        kind: info.kind.clone(),
        description: info.description.clone(),
        severity: info.severity.clone(),
        stage: info.stage.clone(),
        status,
        violations: u64::from(matches!(status, Status::Fail | Status::Warn)),
        checked: None,
        threshold_percent: None,
        details,
        sample: Vec::new(),
        query: "history".to_string(),
        duration_ms: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_that_reads_the_partition_twice_gets_its_values_twice() {
        let param = |name: &str| dqc_codegen::sql::Param { name: name.to_string(), ty: "DATE".to_string() };
        let q = Query {
            name: "foreign_key__fk".to_string(),
            kind: QueryKind::ForeignKey,
            rule_ids: vec![],
            sql: String::new(),
            params: vec![
                param("partition:day"),
                param("partition:region"),
                param("partition:day"),
                param("partition:region"),
            ],
            sample_columns: vec![],
        };
        let options = RunOptions {
            run_time: "2024-01-02 00:00:00".to_string(),
            partition_values: vec!["2024-01-01".to_string(), "EU".to_string()],
            row_count_history: vec![],
        };
        let got: Vec<String> = params(&q, &options).into_iter().map(|Param::Text(t)| t).collect();
        assert_eq!(got, ["2024-01-01", "EU", "2024-01-01", "EU"]);
    }
}
