//! Verdicts of a post-load run, over a scripted engine that answers each query by name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use std::cell::RefCell;

use dqc_activities::post_load::{run, RunOptions, Status};
use dqc_activities::{Error, QueryEngine, Rows};
use dqc_compiler::codegen::sql::{self, Athena, Dialect, DuckDb, Suite};
use dqc_compiler::Source;

struct Scripted {
    suite: Suite,
    answers: Vec<(&'static str, Rows)>,
    asked: RefCell<Vec<String>>,
}

impl QueryEngine for Scripted {
    fn dialect(&self) -> &dyn Dialect {
        &DuckDb
    }

    fn query(&self, sql: &str, _params: &[dqc_activities::ports::Param]) -> Result<Rows, Error> {
        let q = self.suite.queries.iter().find(|q| q.sql == sql).expect("a suite query");
        self.asked.borrow_mut().push(q.name.clone());
        Ok(self.answers.iter().find(|(n, _)| *n == q.name).map(|(_, r)| r.clone()).unwrap_or_default())
    }
}

fn rows(cols: &[&str], values: &[i64]) -> Rows {
    Rows {
        columns: cols.iter().map(|c| c.to_string()).collect(),
        rows: vec![values.iter().map(|v| serde_json::json!(v)).collect()],
    }
}

fn suite_on(d: &dyn Dialect) -> Suite {
    let text = "contract db.t {
      columns { id bigint not null, email string, amount double }
      rules {
        not null email at least 90%
        amount >= 0 severity warn
        unique id
        row_count within 20% of average over 7 days
      }
    }";
    let checked = dqc_compiler::check(&[Source::new("t.dqc", text)]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    sql::suite(d, &checked.project, &checked.project.contracts[0], false)
}

fn suite() -> Suite {
    suite_on(&DuckDb)
}

/// The row-level answers: one fused row scan (Athena), or the row count and a query per rule
/// (DuckDB), with the same figures.
fn row_answers(fused: bool) -> Vec<(&'static str, Rows)> {
    if fused {
        return vec![(
            "row_scan",
            rows(
                &[
                    "row_count",
                    "not_null_id__violations",
                    "not_null_email__violations",
                    "not_null_email__checked",
                    "min_amount__violations",
                ],
                &[100, 0, 8, 100, 3],
            ),
        )];
    }
    // DuckDB: a row rule's count query also returns its sample, and the uniqueness check its
    // duplicate keys, each row carrying the counts.
    let mut min_amount = rows(&["min_amount__violations"], &[3]);
    min_amount.columns.push("min_amount__sample".to_string());
    min_amount.rows[0].push(serde_json::json!([{"id": 7, "amount": -1}]));
    vec![
        ("row_scan", rows(&["row_count"], &[100])),
        ("row__not_null_id", rows(&["not_null_id__violations"], &[0])),
        ("row__not_null_email", rows(&["not_null_email__violations", "not_null_email__checked"], &[8, 100])),
        ("row__min_amount", min_amount),
        (
            "duplicates__unique_id",
            rows(&["id", "rows", "duplicate_keys", "rows_involved", "unique_id__violations"], &[1, 3, 2, 5, 5]),
        ),
    ]
}

#[test]
fn thresholds_severities_and_history_decide_the_verdicts() {
    for (d, fused) in [(&Athena as &dyn Dialect, true), (&DuckDb, false)] {
        verdicts(&suite_on(d), row_answers(fused));
    }
}

fn verdicts(suite: &Suite, row_answers: Vec<(&'static str, Rows)>) {
    let suite = suite.clone();
    let engine = Scripted {
        answers: [
            row_answers,
            vec![
                (
                    "duplicates__unique_id",
                    rows(&["duplicate_keys", "rows_involved", "unique_id__violations"], &[2, 5, 5]),
                ),
                ("sample__min_amount", rows(&["id", "amount"], &[7, -1])),
                ("sample__unique_id", rows(&["id", "rows"], &[1, 3])),
            ],
        ]
        .concat(),
        suite: suite.clone(),
        asked: RefCell::new(vec![]),
    };
    let options = RunOptions { row_count_history: vec![100, 100, 100, 140], ..RunOptions::default() };
    let result = run(&engine, &suite, &options).unwrap();
    let status = |id: &str| result.rules.iter().find(|r| r.rule_id == id).unwrap().status;
    assert_eq!(result.row_count, 100);
    assert_eq!(status("not_null_id"), Status::Pass);
    // 92% of rows have an email: at least 90% passes.
    assert_eq!(status("not_null_email"), Status::Pass);
    assert_eq!(status("min_amount"), Status::Warn);
    assert_eq!(status("unique_id"), Status::Fail);
    // Mean of the history is 110; 20% of it is 22, so 100 is inside the band.
    assert_eq!(status("row_count_anomaly"), Status::Pass);
    assert!(!result.passed);
    let unique = result.rules.iter().find(|r| r.rule_id == "unique_id").unwrap();
    let json = |v: &serde_json::Map<String, serde_json::Value>| serde_json::Value::Object(v.clone());
    assert_eq!(json(&unique.details), serde_json::json!({"duplicate_keys": 2, "rows_involved": 5}));
    assert_eq!(unique.sample.iter().map(json).collect::<Vec<_>>(), [serde_json::json!({"id": 1, "rows": 3})]);
    let min_amount = result.rules.iter().find(|r| r.rule_id == "min_amount").unwrap();
    assert_eq!(min_amount.sample.iter().map(json).collect::<Vec<_>>(), [serde_json::json!({"id": 7, "amount": -1})]);
    let asked = engine.asked.borrow();
    // Athena samples failing rules with queries of their own; DuckDB's checks returned them.
    let sampled = asked.iter().filter(|n| n.starts_with("sample__")).count();
    assert_eq!(sampled, if suite.dialect == "athena" { 2 } else { 0 }, "{asked:?}");
    assert!(!asked.contains(&"sample__not_null_email".to_string()), "passing rules are not sampled");
    let ids: Vec<&str> = result.rules.iter().map(|r| r.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["not_null_id", "not_null_email", "min_amount", "unique_id", "row_count_anomaly"]);
}

#[test]
fn short_history_leaves_anomalies_unevaluated() {
    let suite = suite();
    let engine = Scripted {
        answers: vec![("row_scan", rows(&["row_count"], &[10]))],
        suite: suite.clone(),
        asked: RefCell::new(vec![]),
    };
    let result = run(&engine, &suite, &RunOptions { row_count_history: vec![5], ..RunOptions::default() }).unwrap();
    let anomaly = result.rules.iter().find(|r| r.rule_id == "row_count_anomaly").unwrap();
    assert_eq!(anomaly.status, Status::NotEvaluated);
    assert!(result.passed);
}
