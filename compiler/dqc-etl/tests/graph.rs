//! The cross-job lineage graph and its queries.

// Tests fail loudly on a broken fixture or a wrong result.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "test code fails loudly")]

use std::fs;
use std::path::PathBuf;

use dqc_etl::{analyze, build_graph, render_mermaid, ColumnRef, JobAnalysis};

fn corpus_job(name: &str) -> JobAnalysis {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/etl")).join(name).join("job.py");
    let src = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    analyze(name, &src).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn loan_jobs() -> Vec<JobAnalysis> {
    ["build_dim_loan", "helper_functions", "loan_repayments_etl", "loan_monthly_summary", "writes_nothing"]
        .into_iter()
        .map(corpus_job)
        .collect()
}

fn col(t: &str, c: &str) -> ColumnRef {
    ColumnRef { table: t.to_owned(), column: c.to_owned() }
}

#[test]
fn what_reads_dim_loan_loan_id() {
    let g = build_graph(&loan_jobs());
    assert_eq!(g.readers_of("ref_db.dim_loan", Some("loan_id")), ["loan_repayments_etl"]);
    // The row-count check reads the table but not that column.
    assert_eq!(g.readers_of("ref_db.dim_loan", None), ["loan_repayments_etl", "writes_nothing"]);
    assert_eq!(g.writers_of("ref_db.dim_loan"), ["build_dim_loan"]);
}

#[test]
fn table_lineage_is_transitive_across_jobs() {
    let g = build_graph(&loan_jobs());
    assert_eq!(
        g.downstream_tables("jdbc:core-banking/lending.loans"),
        ["analytics_db.loan_monthly_summary", "analytics_db.loan_repayment_fact", "ref_db.dim_loan"]
    );
    assert_eq!(
        g.upstream_tables("analytics_db.loan_monthly_summary"),
        [
            "analytics_db.loan_repayment_fact",
            "crm_raw.customers",
            "jdbc:core-banking/lending.loans",
            "raw_db.raw_payments",
            "ref_db.dim_customer",
            "ref_db.dim_loan"
        ]
    );
}

#[test]
fn column_lineage_is_transitive_across_jobs() {
    let g = build_graph(&loan_jobs());
    assert_eq!(
        g.downstream_columns("raw_db.raw_payments", "amount"),
        [
            col("analytics_db.loan_monthly_summary", "paid_amount"),
            col("analytics_db.loan_repayment_fact", "emi_amount")
        ]
    );
    assert_eq!(
        g.upstream_columns("analytics_db.loan_repayment_fact", "customer_id"),
        [col("jdbc:core-banking/lending.loans", "borrower_id"), col("ref_db.dim_loan", "customer_id")]
    );
}

#[test]
fn unknown_nodes_give_empty_answers() {
    let g = build_graph(&loan_jobs());
    assert!(g.readers_of("nope.nothing", None).is_empty());
    assert!(g.downstream_columns("nope", "x").is_empty());
}

#[test]
fn mermaid_output_is_stable_and_quotes_labels() {
    let mut jobs = loan_jobs();
    let first = render_mermaid(&build_graph(&jobs));
    jobs.reverse();
    assert_eq!(first, render_mermaid(&build_graph(&jobs)), "order of jobs must not matter");
    assert!(first.starts_with("flowchart LR\n"));
    assert!(first.contains("[(\"jdbc:core-banking/lending.loans\")]"));
    let odd = analyze("quo\"te<job>", "spark.table('a\"b#c').write.saveAsTable('x')").unwrap_or_else(|e| panic!("{e}"));
    let m = render_mermaid(&build_graph(&[odd]));
    assert!(m.contains("[[\"quo#quot;te#lt;job#gt;\"]]"), "{m}");
    assert!(!m.contains("a\"b"), "{m}");
}
