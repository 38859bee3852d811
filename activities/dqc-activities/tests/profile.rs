//! Profile SQL and result shaping, over a scripted engine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use std::cell::RefCell;

use dqc_activities::ports::Param;
use dqc_activities::profile::{self, profile, render_text};
use dqc_activities::{Error, QueryEngine, Rows};
use dqc_compiler::codegen::sql::{Dialect, DuckDb};
use serde_json::{json, Value};

struct Scripted {
    row_count: i64,
    asked: RefCell<Vec<String>>,
}

fn rows(cols: &[&str], values: Vec<Vec<Value>>) -> Rows {
    Rows { columns: cols.iter().map(|c| c.to_string()).collect(), rows: values }
}

impl QueryEngine for Scripted {
    fn dialect(&self) -> &dyn Dialect {
        &DuckDb
    }

    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, Error> {
        self.asked.borrow_mut().push(sql.to_string());
        if sql.contains("information_schema") {
            if params.get(1) == Some(&Param::Text("missing".into())) {
                return Ok(Rows::default());
            }
            return Ok(rows(
                &["column_name", "data_type", "is_nullable"],
                vec![
                    vec![json!("id"), json!("VARCHAR"), json!("YES")],
                    vec![json!("amount"), json!("DOUBLE"), json!("NO")],
                    vec![json!("tags"), json!("VARCHAR[]"), json!("YES")],
                ],
            ));
        }
        if sql.starts_with("SELECT COUNT(*) AS row_count FROM") {
            return Ok(rows(&["row_count"], vec![vec![json!(self.row_count)]]));
        }
        if sql.contains("column_index") {
            return Ok(rows(
                &["column_index", "value", "n"],
                vec![vec![json!(1), json!("10.0"), json!(3)], vec![json!(1), json!("20.0"), json!(1)]],
            ));
        }
        Ok(rows(
            &[
                "row_count",
                "c0_nulls",
                "c0_distinct",
                "c0_min",
                "c0_max",
                "c0_min_length",
                "c0_max_length",
                "c0_mean_length",
                "c1_nulls",
                "c1_distinct",
                "c1_min",
                "c1_max",
                "c1_mean",
                "c1_stddev",
                "c1_percentiles",
                "c2_nulls",
            ],
            vec![vec![
                json!(self.row_count),
                json!(1),
                json!(self.row_count - 1),
                json!("a"),
                json!("z"),
                json!(1),
                json!(3),
                json!(2.0),
                json!(0),
                json!(2),
                json!(10.0),
                json!(20.0),
                json!(12.5),
                json!(5.0),
                json!([10.0, 10.0, 10.0, 12.5, 20.0]),
                json!(self.row_count),
            ]],
        ))
    }
}

#[test]
fn one_scan_sql_has_every_statistic_and_no_stats_for_nested_columns() {
    let columns = profile::schema_from(&rows(
        &["column_name", "data_type", "is_nullable"],
        vec![
            vec![json!("id"), json!("VARCHAR"), json!("YES")],
            vec![json!("amount"), json!("DECIMAL(12,2)"), json!("NO")],
            vec![json!("tags"), json!("INTEGER[]"), json!("YES")],
        ],
    ));
    assert_eq!(columns[1].ty, "decimal(12,2)");
    assert!(!columns[1].nullable);
    let exact = profile::stats_sql(&DuckDb, "\"db\".\"t\"", &columns, 1_000, profile::Depth::Full);
    for part in [
        "COUNT(DISTINCT \"id\") AS c0_distinct",
        "MIN(length(\"id\")) AS c0_min_length",
        "quantile_cont(CAST(\"amount\" AS DOUBLE), [0.05, 0.25, 0.5, 0.75, 0.95]) AS c1_percentiles",
        "ROUND(STDDEV_SAMP(CAST(\"amount\" AS DOUBLE)), 6) AS c1_stddev",
        "COUNT(*) - COUNT(\"tags\") AS c2_nulls",
    ] {
        assert!(exact.contains(part), "{part} missing from\n{exact}");
    }
    assert!(!exact.contains("c2_distinct"));
    assert_eq!(exact.matches("FROM").count(), 1, "one scan");
    let approx = profile::stats_sql(&DuckDb, "\"db\".\"t\"", &columns, 10_000_000, profile::Depth::Full);
    assert!(approx.contains("approx_count_distinct(\"id\")"));
    // Percentiles of a deterministic sample of about 200,000 rows: 1 in 50 of 10 million.
    assert!(approx.contains(
        "quantile_cont(CAST(\"amount\" AS DOUBLE), [0.05, 0.25, 0.5, 0.75, 0.95]) FILTER (WHERE hash(*COLUMNS(*)) % 50 = 0)"
    ));
    let top = profile::top_values_sql(&DuckDb, "\"db\".\"t\"", &columns, &[0]).unwrap();
    assert!(top.contains("WHERE rank <= 5") && top.contains("ORDER BY n DESC, value"), "{top}");
    assert_eq!(top.matches("FROM \"db\".\"t\"").count(), 1, "one scan: {top}");
    assert!(profile::top_values_sql(&DuckDb, "t", &columns, &[]).is_none());
}

#[test]
fn results_are_shaped_as_the_seed_context_json() {
    let engine = Scripted { row_count: 4, asked: RefCell::new(vec![]) };
    let p = profile(&engine, "db", "t").unwrap();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["table_name"], "t");
    assert_eq!(v["database"], "db");
    assert_eq!(v["row_count"], 4);
    assert_eq!(v["schema"][1], json!({"name": "amount", "type": "double", "nullable": false}));
    let amount = &v["column_stats"]["amount"];
    assert_eq!(amount["p95"], 20.0);
    assert_eq!(amount["mean"], 12.5);
    assert_eq!(amount["top_values"], json!([{"value": "10.0", "count": 3}, {"value": "20.0", "count": 1}]));
    assert_eq!(v["column_stats"]["id"]["null_fraction"], 0.25);
    assert_eq!(v["column_stats"]["id"]["null_pct"], 25.0);
    assert_eq!(v["column_stats"]["tags"]["null_fraction"], 1.0);
    assert!(v["column_stats"]["tags"].get("distinct_count").is_none());
    assert_eq!(v["profile_method"]["distinct_count"], "exact");
    // Schema, row count, the scan, top values (only `amount` and `id` have few distinct values).
    assert_eq!(engine.asked.borrow().len(), 4);
    assert!(render_text(&p).contains("db.t: 4 row(s), 3 column(s)"));
}

#[test]
fn large_tables_are_profiled_approximately_and_say_so() {
    let engine = Scripted { row_count: 2_000_000, asked: RefCell::new(vec![]) };
    let p = profile(&engine, "db", "t").unwrap();
    assert_eq!(p.profile_method.distinct_count, "approximate");
    assert!(engine.asked.borrow()[2].contains("approx_count_distinct"));
}

#[test]
fn a_missing_table_is_an_error_naming_it() {
    let engine = Scripted { row_count: 0, asked: RefCell::new(vec![]) };
    let e = profile(&engine, "db", "missing").unwrap_err();
    assert!(e.message.contains("db.missing"), "{}", e.message);
}

#[test]
fn an_empty_table_has_zero_fractions() {
    let engine = Scripted { row_count: 0, asked: RefCell::new(vec![]) };
    let p = profile(&engine, "db", "t").unwrap();
    assert_eq!(p.row_count, 0);
    assert_eq!(p.column_stats["tags"].null_fraction, 0.0);
}
