//! SQL generation: quoting, escaping, parameters and suite shape, over real contracts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use dqc_compiler::codegen::sql::{self, Athena, Dialect, DuckDb, QueryKind, Spark};
use dqc_compiler::Source;
use dqc_tests::{case_sources, cases};

fn project(text: &str) -> dqc_compiler::ir::Project {
    let checked = dqc_compiler::check(&[Source::new("t.dqc", text)]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.project
}

const NASTY: &str = r#"contract "we""ird db"."ta-ble" {
  partitioned by ("day")
  columns {
    id bigint not null,
    "we""ird" string,
    "day" date not null,
    note string,
  }
  rules {
    "we""ird" in ('it''s', 'back\slash')
    note matches '^\d+\\$'
    check note like '50\%' or note is null
    unique id where "we""ird" != 'x'
  }
}
"#;

#[test]
fn identifiers_are_quoted_and_literals_escaped_in_every_dialect() {
    let p = project(NASTY);
    let c = &p.contracts[0];
    let athena = sql::render(&sql::suite(&Athena, &p, c, false));
    assert!(athena.contains(r#"FROM "we""ird db"."ta-ble""#), "{athena}");
    assert!(athena.contains(r#""we""ird" NOT IN ('it''s', 'back\slash')"#), "{athena}");
    assert!(athena.contains(r#"regexp_like("note", '^\d+\\$')"#), "{athena}");
    let spark = sql::suite(&Spark, &p, c, false);
    let row_scan = &spark.queries[0].sql;
    assert!(row_scan.contains(r#"`we"ird` NOT IN ('it\'s', 'back\\slash')"#), "{row_scan}");
    // Java reads `$` before a final newline as the end; `\z` is RE2's `$`.
    assert!(row_scan.contains(r#"`note` RLIKE '^\\d+\\\\\\z'"#), "{row_scan}");
    // Spark's LIKE escapes with `\`, so a literal backslash is doubled once more.
    assert!(row_scan.contains(r#"LIKE '50\\\\%'"#), "{row_scan}");
}

/// Counts `?` outside string literals and quoted identifiers (of any of the three dialects).
fn placeholders(sql: &str) -> usize {
    let mut count = 0;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some('\'') if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => quote = Some(c),
            None if c == '?' => count += 1,
            None => {}
        }
    }
    count
}

#[test]
fn placeholders_match_declared_parameters_everywhere() {
    let dialects: [&dyn Dialect; 3] = [&Athena, &DuckDb, &Spark];
    let mut checked_queries = 0;
    for dir in cases("ok") {
        let sources = case_sources(&dir);
        if sources.is_empty() {
            continue;
        }
        let checked = dqc_compiler::check(&sources);
        for c in &checked.project.contracts {
            for d in dialects {
                for restricted in [false, true] {
                    let suite = sql::suite(d, &checked.project, c, restricted);
                    for q in &suite.queries {
                        let placeholders = placeholders(&q.sql);
                        assert_eq!(placeholders, q.params.len(), "{} {}:\n{}", dir.display(), q.name, q.sql);
                        checked_queries += 1;
                    }
                }
            }
        }
    }
    assert!(checked_queries > 500, "only {checked_queries} queries checked");
}

#[test]
fn one_scan_counts_every_row_level_rule() {
    let text =
        std::fs::read_to_string(dqc_tests::root().join("examples/loans/contracts/loan_repayment_fact.dqc")).unwrap();
    let dims = std::fs::read_to_string(dqc_tests::root().join("examples/loans/contracts/dim_loan.dqc")).unwrap();
    let cust = std::fs::read_to_string(dqc_tests::root().join("examples/loans/contracts/dim_customer.dqc")).unwrap();
    let checked =
        dqc_compiler::check(&[Source::new("a.dqc", text), Source::new("b.dqc", dims), Source::new("c.dqc", cust)]);
    let fact = checked.project.contracts.iter().find(|c| c.table.table == "loan_repayment_fact").unwrap();
    let row_level: Vec<&str> = fact.rules.iter().filter(|r| r.is_row_level()).map(|r| r.id.as_str()).collect();
    let set_based = [QueryKind::ForeignKey, QueryKind::ForeignKey, QueryKind::Duplicates, QueryKind::Freshness];

    // Athena: one scan counts every row-level rule.
    let suite = sql::suite(&Athena, &checked.project, fact, false);
    let scans: Vec<_> = suite.queries.iter().filter(|q| q.kind == QueryKind::RowScan).collect();
    assert_eq!(scans.len(), 1);
    for id in &row_level {
        assert!(scans[0].sql.contains(&format!("\"{id}__violations\"")), "{id} missing from the scan");
    }
    let kinds: Vec<QueryKind> = suite.checks().map(|q| q.kind).collect();
    assert_eq!(kinds, [&[QueryKind::RowScan][..], &set_based].concat());
    assert_eq!(suite.history_rules.len(), 1);

    // DuckDB: the row scan counts rows, and each row-level rule is a query of its own.
    let suite = sql::suite(&DuckDb, &checked.project, fact, false);
    let kinds: Vec<QueryKind> = suite.checks().map(|q| q.kind).collect();
    let rules = vec![QueryKind::RowRule; row_level.len()];
    assert_eq!(kinds, [&[QueryKind::RowScan][..], &rules, &set_based].concat());
    for (id, q) in row_level.iter().zip(suite.checks().filter(|q| q.kind == QueryKind::RowRule)) {
        assert_eq!(q.rule_ids, [id.to_string()]);
        assert!(q.sql.starts_with(&format!("SELECT COUNT(*) AS \"{id}__violations\",\n  min_by({{")), "{}", q.sql);
        assert!(q.sql.contains("\nWHERE ("), "{}", q.sql);
    }
    for id in &row_level {
        assert!(!suite.queries[0].sql.contains(&format!("\"{id}__violations\"")), "{id} is counted twice");
    }
    let partitioned = sql::suite(&DuckDb, &checked.project, fact, true);
    assert!(partitioned.queries[0].sql.contains(r#""payment_date" = CAST(? AS DATE)"#));
    assert_eq!(partitioned.queries[0].params[0].name, "partition:payment_date");
}

#[test]
fn a_uniqueness_check_returns_its_duplicate_keys_and_samples_show_the_key_and_the_rules_columns() {
    let p = project(
        "contract db.t {\n  grain (id)\n  partitioned by (day)\n  columns { id bigint, day date, code string, note string, amount double }\n  rules {\n    unique (code, day)\n    unique (note) at least 90%\n    amount > 0 where code = 'A'\n  }\n}\n",
    );
    let c = &p.contracts[0];
    // DuckDB: one query per uniqueness rule yields the counts and the duplicate keys; the rows
    // whose key hash repeats are grouped by their key, so there is no sample query.
    let suite = sql::suite(&DuckDb, &p, c, true);
    let unique = suite.queries.iter().find(|q| q.name == "duplicates__unique_code_day").unwrap();
    assert_eq!(unique.sample_columns, ["code", "day", "rows"]);
    assert!(unique.sql.contains("hash(\"code\", \"day\") IN (\n"), "{}", unique.sql);
    assert!(unique.sql.ends_with("LIMIT 20"), "{}", unique.sql);
    assert_eq!(unique.sql.matches("FROM \"db\".\"t\"").count(), 2, "{}", unique.sql);
    assert_eq!(unique.sql.matches("CAST(? AS DATE)").count(), unique.params.len(), "{}", unique.sql);
    assert_eq!(unique.params.len(), 2, "the partition value, for each read of the table");
    assert!(!suite.queries.iter().any(|q| q.name == "sample__unique_code_day"));
    // With `at least N%` every key group is counted: one row of counts and a sample query.
    let ratio = suite.queries.iter().find(|q| q.name == "duplicates__unique_note").unwrap();
    assert!(ratio.sample_columns.is_empty() && ratio.sql.contains("unique_note__checked"), "{}", ratio.sql);
    assert!(suite.queries.iter().any(|q| q.name == "sample__unique_note"));
    // Athena: one row of counts, and the sample query only runs when the rule fails.
    let athena = sql::suite(&Athena, &p, c, true);
    let unique = athena.queries.iter().find(|q| q.name == "duplicates__unique_code_day").unwrap();
    assert!(unique.sample_columns.is_empty() && !unique.sql.contains("LIMIT"), "{}", unique.sql);
    assert!(athena.queries.iter().any(|q| q.name == "sample__unique_code_day"));
    // A failing row's sample: the grain, the rule's columns and its filter's, in table order;
    // on DuckDB collected by the rule's count query (the first 20 in their order), on Athena
    // by a query of its own.
    let sample = athena.queries.iter().find(|q| q.kind == QueryKind::Sample && q.name.contains("amount")).unwrap();
    assert!(sample.sql.starts_with("SELECT \"id\", \"code\", \"amount\"\nFROM "), "{}", sample.sql);
    assert!(sample.sql.ends_with("LIMIT 20"), "{}", sample.sql);
    assert!(!suite.queries.iter().any(|q| q.kind == QueryKind::Sample && q.name.contains("amount")));
    let count = suite.queries.iter().find(|q| q.kind == QueryKind::RowRule && q.name.contains("amount")).unwrap();
    let record = "{'id': \"id\", 'code': \"code\", 'amount': \"amount\"}";
    assert!(count.sql.contains(&format!("min_by({record}, {record}, 20) FILTER (WHERE ")), "{}", count.sql);
}
