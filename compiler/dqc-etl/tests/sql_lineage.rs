//! Column lineage of SQL statements, asserted structurally.

// Tests fail loudly on a broken fixture or a wrong result.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "test code fails loudly")]

use std::collections::BTreeMap;

use dqc_etl::{analyze_sql, AnalyzeOptions, ColumnLineage, JobAnalysis};

fn run(sql: &str) -> JobAnalysis {
    analyze_sql("sql", sql, &AnalyzeOptions::default())
}

/// `(expression, ["table.column", ...])` of output column `name` of write `w`.
fn lineage(job: &JobAnalysis, w: usize, name: &str) -> (String, Vec<String>) {
    let col: &ColumnLineage = job.writes[w]
        .columns
        .iter()
        .find(|c| c.column == name)
        .unwrap_or_else(|| panic!("no column `{name}` in {:#?}", job.writes[w].columns));
    let inputs = col.inputs.iter().map(|r| format!("{}.{}", r.table, r.column)).collect();
    (col.expression.clone(), inputs)
}

fn names(job: &JobAnalysis, w: usize) -> Vec<&str> {
    job.writes[w].columns.iter().map(|c| c.column.as_str()).collect()
}

#[test]
fn aliases_and_expressions_trace_to_base_columns() {
    let job = run("INSERT INTO mart.t SELECT p.id AS payment_id, p.amount * fx.rate AS amount_eur, upper(p.cur) cur \
                   FROM raw.payments p JOIN ref.fx fx ON p.cur = fx.currency");
    assert_eq!(names(&job, 0), ["payment_id", "amount_eur", "cur"]);
    assert_eq!(lineage(&job, 0, "payment_id"), ("raw.payments.id".into(), vec!["raw.payments.id".into()]));
    assert_eq!(
        lineage(&job, 0, "amount_eur"),
        ("raw.payments.amount * ref.fx.rate".into(), vec!["raw.payments.amount".into(), "ref.fx.rate".into()])
    );
    assert_eq!(lineage(&job, 0, "cur").1, vec!["raw.payments.cur".to_owned()]);
    let j = &job.joins[0];
    assert_eq!((j.left_table.as_deref(), j.right_table.as_deref()), (Some("raw.payments"), Some("ref.fx")));
    assert_eq!(
        (j.left_columns.clone(), j.right_columns.clone()),
        (vec!["cur".to_owned()], vec!["currency".to_owned()])
    );
    assert_eq!(job.summary.inputs, ["raw.payments", "ref.fx"]);
    assert_eq!(job.summary.output.as_deref(), Some("mart.t"));
}

#[test]
fn ctes_are_followed_through_to_their_sources() {
    let job = run("CREATE TABLE mart.c AS WITH a AS (SELECT id, CAST(v AS INT) AS v FROM raw.x), \
                   b AS (SELECT id, v + 1 AS w FROM a) SELECT id, w FROM b");
    assert_eq!(lineage(&job, 0, "w"), ("CAST(raw.x.v AS int) + 1".into(), vec!["raw.x.v".into()]));
    assert_eq!(job.summary.inputs, ["raw.x"], "CTE names are not inputs");
}

#[test]
fn cte_column_lists_rename_positionally() {
    let job =
        run("INSERT INTO m.t WITH c (k, total) AS (SELECT id, SUM(amt) FROM raw.s GROUP BY id) SELECT k, total FROM c");
    assert_eq!(lineage(&job, 0, "total"), ("SUM(raw.s.amt)".into(), vec!["raw.s.amt".into()]));
    assert_eq!(job.writes[0].grain, ["k"]);
}

#[test]
fn select_star_expands_when_the_schema_is_known() {
    let mut schemas = BTreeMap::new();
    schemas.insert("raw.users".to_owned(), vec!["id".to_owned(), "email".to_owned()]);
    let opts = AnalyzeOptions { schemas };
    let known = analyze_sql("sql", "INSERT INTO m.u SELECT * FROM raw.users", &opts);
    assert_eq!(names(&known, 0), ["id", "email"]);
    assert!(known.writes[0].passthrough_from.is_empty());
    let unknown = run("INSERT INTO m.u SELECT * FROM raw.users");
    assert!(unknown.writes[0].columns.is_empty());
    assert_eq!(unknown.writes[0].passthrough_from, ["raw.users"]);
}

#[test]
fn qualified_star_only_takes_that_relation() {
    let mut schemas = BTreeMap::new();
    schemas.insert("a.l".to_owned(), vec!["id".to_owned(), "x".to_owned()]);
    schemas.insert("a.r".to_owned(), vec!["id".to_owned(), "y".to_owned()]);
    let job = analyze_sql(
        "sql",
        "INSERT INTO m.t SELECT r.*, l.x FROM a.l l JOIN a.r r ON l.id = r.id",
        &AnalyzeOptions { schemas },
    );
    assert_eq!(names(&job, 0), ["id", "y", "x"]);
    assert_eq!(lineage(&job, 0, "id").1, vec!["a.r.id".to_owned()]);
}

#[test]
fn unions_combine_inputs_per_position() {
    let job = run("INSERT INTO m.t SELECT a AS k FROM s.one UNION ALL SELECT b FROM s.two");
    assert_eq!(lineage(&job, 0, "k"), ("union(s.one.a, s.two.b)".into(), vec!["s.one.a".into(), "s.two.b".into()]));
}

#[test]
fn ambiguous_columns_are_reported_not_guessed() {
    let job = run("INSERT INTO m.t SELECT amount FROM s.a JOIN s.b ON s.a.id = s.b.id");
    assert!(lineage(&job, 0, "amount").1.is_empty());
    assert!(
        job.unresolved.iter().any(|u| u.code == "column" && u.message.contains("`amount` may come from any of")),
        "{:#?}",
        job.unresolved
    );
}

#[test]
fn row_number_dedup_sets_the_grain() {
    let job = run("INSERT INTO m.t SELECT id, d, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id, d ORDER BY ts DESC) AS rn \
                   FROM raw.e) x WHERE rn = 1");
    assert_eq!(job.writes[0].grain, ["id", "d"]);
    assert_eq!(job.grains[0].evidence, "row_number window");
    assert!(job.filters.is_empty(), "the dedup predicate is not a value filter");
}

#[test]
fn where_filters_become_value_constraints_on_the_output() {
    let job = run("INSERT INTO m.t SELECT status, amount FROM raw.p WHERE status IN ('A', 'B') AND amount >= 0");
    assert_eq!(job.summary.filters, ["status IN ('A', 'B') AND amount >= 0"]);
    let details: Vec<&str> = job.hints.iter().map(|h| h.detail.as_str()).collect();
    assert!(details.contains(&"status IN ('A', 'B')"), "{details:?}");
    assert!(details.contains(&"amount >= 0"), "{details:?}");
}

#[test]
fn casts_and_coalesce_become_hints() {
    let job = run("INSERT INTO m.t SELECT CAST(a AS DECIMAL(10,2)) AS a, COALESCE(b, 0) AS b FROM raw.p");
    let h: Vec<(String, String)> = job.hints.iter().map(|h| (format!("{:?}", h.kind), h.detail.clone())).collect();
    assert!(h.contains(&("Type".into(), "decimal(10,2)".into())), "{h:?}");
    assert!(h.contains(&("NotNull".into(), "b IS NOT NULL".into())), "{h:?}");
}

#[test]
fn join_keys_become_foreign_key_candidates() {
    let job =
        run("INSERT INTO m.f SELECT p.loan_id, p.amt FROM raw.p p LEFT JOIN ref.dim_loan l ON p.loan_id = l.loan_id");
    let fk = job.hints.iter().find(|h| h.detail.contains("foreign key")).expect("a foreign key hint");
    assert_eq!(fk.columns, ["loan_id"]);
    assert_eq!(fk.detail, "candidate foreign key to ref.dim_loan.loan_id");
    assert_eq!(job.joins[0].join_type, "left");
}

#[test]
fn subqueries_in_expressions_are_inputs() {
    let job = run("INSERT INTO m.t SELECT id FROM raw.a WHERE id IN (SELECT a_id FROM raw.b)");
    assert_eq!(job.summary.inputs, ["raw.a", "raw.b"]);
}

#[test]
fn unparseable_sql_is_unresolved_not_an_error() {
    let job = run("SELEC nothing");
    assert!(job.writes.is_empty());
    assert_eq!(job.unresolved[0].code, "sql-parse");
}
