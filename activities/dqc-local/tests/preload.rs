//! The pre-load split on adversarial inputs, with exact accounting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use std::path::{Path, PathBuf};

use dqc_activities::post_load::{run, RunOptions};
use dqc_activities::QueryEngine;
use dqc_codegen::sql::{suite, DuckDb};
use dqc_compiler::ir::{Contract, Project};
use dqc_compiler::Source;
use dqc_local::preload::PreloadReport;
use dqc_local::{preload, DuckEngine, PreloadOptions};
use serde_json::{json, Value};

const CONTRACTS: &str = "
contract raw_db.payments {
  columns {
    id      string not null,
    txn_ref string,
    loan_id string,
    amount  double,
    status  string,
    note    string,
    version int,
  }
  rules {
    dup_id: unique id keep first by version desc stage pre_load
    dup_ref: unique txn_ref stage pre_load
    fk_loan: loan_id references lake_db.loans (loan_id) stage pre_load
    amount_nonneg: amount >= 0
    status_ok: status in ('OK', 'LATE')
    note_short: length(note) <= 50 severity warn
  }
}

contract raw_db.payments_rows {
  columns {
    id      string not null,
    txn_ref string,
    loan_id string,
    amount  double,
    status  string,
    note    string,
    version int,
  }
  rules {
    amount_nonneg: amount >= 0
    status_ok: status in ('OK', 'LATE')
    note_short: length(note) <= 50 severity warn
  }
}

contract lake_db.loans {
  columns {
    loan_id string not null,
  }
}
";

/// Line numbers count the header as line 1; each data line says what becomes of it.
fn fixture_csv() -> String {
    let long = "x".repeat(100_000);
    let lines = [
        "id,txn_ref,loan_id,amount,status,note,version".to_string(),
        "r1,t1,L1,10.5,OK,plain,1".to_string(),    // 2 valid
        "r2,t2,L1,NaN,OK,nan,1".to_string(),       // 3 amount_nonneg
        "r3,t3,L1,inf,OK,,1".to_string(),          // 4 valid, NULL note
        "r4,t4,L2,-inf,LATE,\"\",1".to_string(),   // 5 amount_nonneg
        "r5,t5,L1,abc,OK,badcast,1".to_string(),   // 6 cast_amount
        "r6,t6,L1,,OK,nullamount,1".to_string(),   // 7 valid
        ",t7,L1,1,OK,nullid,1".to_string(),        // 8 not_null_id
        "r8,t8,L1,1,OK,日本語 é ✓,1".to_string(),  // 9 valid
        format!("r9,t9,L1,2,OK,{long},1"),         // 10 valid, warned
        "r10,t10,L1,3,BAD,status,1".to_string(),   // 11 status_ok
        "r11,t11,L9,3,OK,orphan,1".to_string(),    // 12 fk_loan
        "r12,t12,,3,OK,nullloan,1".to_string(),    // 13 valid
        "d1,t13,L1,1,OK,dupv1,1".to_string(),      // 14 dup_id
        "d1,t14,L1,1,OK,dupv2,2".to_string(),      // 15 valid (kept)
        "d1,t15,L1,1,OK,dupv1b,1".to_string(),     // 16 dup_id
        "e1,tx,L1,1,OK,refdup,1".to_string(),      // 17 dup_ref
        "e2,tx,L1,1,OK,refdup,1".to_string(),      // 18 dup_ref
        "n1,,L1,1,OK,nullref,1".to_string(),       // 19 valid
        "n2,,L1,1,OK,nullref,1".to_string(),       // 20 valid
        "v1,t21,L1,1,OK,badversion,x".to_string(), // 21 cast_version
        "w1,t22,L2,1,LATE,this note is definitely longer than fifty characters!!,1".to_string(), // 22 warned
        "m1,t23,L1,1,OK".to_string(),              // 23 rejected
        "m2,t24,L1,1,OK,x,1,extra".to_string(),    // 24 rejected
        "s1,t25,L1,\"\",OK,emptyamount,1".to_string(), // 25 cast_amount
        "u1,t26,L1,1,OK,\"unterminated,1".to_string(), // 26 rejected
    ];
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("dqc-preload-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn project() -> Project {
    let checked = dqc_compiler::check(&[Source::new("payments.dqc", CONTRACTS)]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.project
}

fn payments(project: &Project) -> &Contract {
    project.contracts.iter().find(|c| c.table.table == "payments").unwrap()
}

fn path_sql(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "''"))
}

/// A lake with `lake_db.loans` holding L1 and L2.
fn lake(root: &Path) -> PathBuf {
    let lake = root.join("lake");
    let table = lake.join("lake_db").join("loans");
    std::fs::create_dir_all(&table).unwrap();
    let engine = DuckEngine::in_memory().unwrap();
    let file = table.join("part-0.parquet");
    engine
        .execute(&format!(
            "COPY (SELECT * FROM (VALUES ('L1'), ('L2')) AS t(loan_id)) TO {} (FORMAT parquet)",
            path_sql(&file)
        ))
        .unwrap();
    lake
}

fn split(dir: &Dir, project: &Project, inputs: Vec<PathBuf>, with_lake: bool) -> PreloadReport {
    let mut o = PreloadOptions::new(project, payments(project), inputs, dir.0.join("valid"), dir.0.join("quarantine"));
    o.lake = with_lake.then(|| lake(&dir.0));
    o.artifacts = Some(dir.0.join("artifacts"));
    o.run_id = Some("run-1".to_string());
    preload(&o).unwrap()
}

fn query(sql: &str) -> Vec<serde_json::Map<String, Value>> {
    DuckEngine::in_memory().unwrap().query(sql, &[]).unwrap().objects()
}

fn violations(report: &PreloadReport, id: &str) -> u64 {
    report.rules.iter().find(|r| r.rule_id == id).map(|r| r.violations).unwrap()
}

fn csv_fixture(dir: &Dir) -> PathBuf {
    let input = dir.0.join("payments.csv");
    std::fs::write(&input, fixture_csv()).unwrap();
    input
}

#[test]
fn csv_split_accounts_for_every_line() {
    let dir = Dir::new("csv");
    let project = project();
    let report = split(&dir, &project, vec![csv_fixture(&dir)], true);
    assert_eq!(
        (report.rows_in, report.rows_valid, report.rows_quarantined, report.rows_rejected),
        (25, 10, 12, 3),
        "{}",
        report.render_text()
    );
    assert!(report.invariant_holds);
    let expected = [
        ("not_null_id", 1),
        ("dup_id", 2),
        ("dup_ref", 2),
        ("fk_loan", 1),
        ("amount_nonneg", 2),
        ("status_ok", 1),
        ("note_short", 2),
    ];
    for (id, n) in expected {
        assert_eq!(violations(&report, id), n, "{id}");
    }
    let casts: Vec<(&str, u64)> = report.cast_failures.iter().map(|c| (c.column.as_str(), c.rows)).collect();
    assert!(casts.contains(&("amount", 2)) && casts.contains(&("version", 1)), "{casts:?}");
    assert!(report.skipped.is_empty());

    // Quarantined rows keep the values as read, with the reasons.
    let q = query(&format!(
        "SELECT id, amount, note, _dq_errors, _dq_contract_hash FROM read_parquet({}) ORDER BY note",
        path_sql(&report.outputs.quarantined)
    ));
    let row = |note: &str| q.iter().find(|r| r["note"] == json!(note)).unwrap().clone();
    assert_eq!(
        row("badcast")["_dq_errors"],
        json!([{"rule_id": "cast_amount", "rule_name": "cast", "severity": "error", "stage": "pre_load",
                "error_reason": "value 'abc' of column amount does not cast to DOUBLE"}])
    );
    assert_eq!(row("badcast")["amount"], json!("abc"));
    assert_eq!(
        row("emptyamount")["_dq_errors"][0]["error_reason"],
        json!("value '' of column amount does not cast to DOUBLE")
    );
    assert_eq!(
        row("badversion")["_dq_errors"][0]["error_reason"],
        json!("value 'x' of column version does not cast to INTEGER")
    );
    assert_eq!(
        row("orphan")["_dq_errors"][0]["error_reason"],
        json!("(loan_id) must exist in lake_db.loans (loan_id): missing key L9")
    );
    assert_eq!(row("nullid")["_dq_errors"][0]["rule_id"], json!("not_null_id"));
    assert_eq!(row("nan")["_dq_errors"][0]["rule_id"], json!("amount_nonneg"));
    assert_eq!(row("")["_dq_errors"][0]["rule_id"], json!("amount_nonneg"));
    assert_eq!(row("status")["_dq_errors"][0]["rule_id"], json!("status_ok"));
    assert_eq!(row("nullid")["_dq_contract_hash"], json!(payments(&project).hash));
    let dup_notes: Vec<&Value> =
        q.iter().filter(|r| r["_dq_errors"][0]["rule_id"] == json!("dup_id")).map(|r| &r["note"]).collect();
    assert_eq!(dup_notes, vec![&json!("dupv1"), &json!("dupv1b")]);
    assert_eq!(
        row("dupv1")["_dq_errors"][0]["error_reason"],
        json!("(id) must be unique; the first row by version desc is kept")
    );
    assert_eq!(q.iter().filter(|r| r["_dq_errors"][0]["rule_id"] == json!("dup_ref")).count(), 2);

    // Valid rows are typed; warn rules tag without quarantining.
    let v = query(&format!(
        "SELECT id, amount, length(note) AS len, note, len(_dq_warnings) AS warnings, _dq_warnings, \
         typeof(amount) AS ty, isinf(amount) AS inf FROM read_parquet({}) ORDER BY id",
        path_sql(&report.outputs.valid)
    ));
    let ids: Vec<&str> = v.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["d1", "n1", "n2", "r1", "r12", "r3", "r6", "r8", "r9", "w1"]);
    let by_id = |id: &str| v.iter().find(|r| r["id"] == json!(id)).unwrap().clone();
    assert_eq!(by_id("r9")["len"], json!(100_000));
    assert_eq!(by_id("r9")["_dq_warnings"][0]["rule_id"], json!("note_short"));
    assert_eq!(by_id("w1")["warnings"], json!(1));
    assert_eq!(by_id("r1")["warnings"], json!(0));
    assert_eq!(by_id("r8")["note"], json!("日本語 é ✓"));
    assert_eq!((by_id("r3")["ty"].clone(), by_id("r3")["inf"].clone()), (json!("DOUBLE"), json!(true)));
    assert_eq!(by_id("r6")["amount"], Value::Null);
    assert_eq!(by_id("d1")["note"], json!("dupv2"));

    // Malformed lines, with their line numbers and the raw text.
    let r = query(&format!(
        "SELECT line, raw_line, _dq_errors[1].error_reason AS reason FROM read_parquet({}) ORDER BY line",
        path_sql(&report.outputs.rejected_lines)
    ));
    let lines: Vec<&Value> = r.iter().map(|x| &x["line"]).collect();
    assert_eq!(lines, vec![&json!(23), &json!(24), &json!(26)]);
    assert_eq!(r[0]["raw_line"], json!("m1,t23,L1,1,OK"));
    assert!(r.iter().all(|x| x["reason"].as_str().is_some_and(|s| s.starts_with("malformed line"))), "{r:?}");

    // Metrics are written where the artifact layout says.
    let metrics = dir.0.join("artifacts/quarantine/payments/run-1/metrics.json");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(metrics).unwrap()).unwrap();
    assert_eq!((m["rows_in"].clone(), m["invariant_holds"].clone()), (json!(25), json!(true)));
}

#[test]
fn quarantine_decisions_agree_with_the_post_load_suite() {
    let dir = Dir::new("agree");
    let project = project();
    let contract = payments(&project);
    let report = split(&dir, &project, vec![csv_fixture(&dir)], true);
    // The same data the split saw: every row read, typed as the contract declares.
    let engine = DuckEngine::over_lake(&dir.0.join("lake")).unwrap();
    let casts: Vec<String> = contract
        .columns
        .iter()
        .map(|c| {
            format!("TRY_CAST(\"{0}\" AS {1}) AS \"{0}\"", c.name, dqc_codegen::sql::Dialect::cast_type(&DuckDb, &c.ty))
        })
        .collect();
    engine
        .execute(&format!(
            "CREATE SCHEMA raw_db; CREATE VIEW raw_db.payments AS \
             SELECT * EXCLUDE (_dq_warnings) FROM read_parquet({}) \
             UNION ALL BY NAME SELECT {} FROM read_parquet({});",
            path_sql(&report.outputs.valid),
            casts.join(", "),
            path_sql(&report.outputs.quarantined)
        ))
        .unwrap();
    let s = suite(&DuckDb, &project, contract, false);
    let result = run(&engine, &s, &RunOptions::default()).unwrap();
    assert_eq!(result.row_count, report.rows_valid + report.rows_quarantined);
    for r in &report.rules {
        let post = result.rules.iter().find(|p| p.rule_id == r.rule_id).unwrap();
        assert_eq!(post.violations, r.violations, "{}", r.rule_id);
    }
}

#[test]
fn foreign_keys_without_a_lake_are_skipped_and_reported() {
    let dir = Dir::new("nolake");
    let project = project();
    let report = split(&dir, &project, vec![csv_fixture(&dir)], false);
    assert_eq!(report.skipped.iter().map(|s| s.rule_id.as_str()).collect::<Vec<_>>(), vec!["fk_loan"]);
    assert_eq!((report.rows_valid, report.rows_quarantined, report.rows_rejected), (11, 11, 3));
    assert!(report.render_text().contains("skipped fk_loan"));
}

#[test]
fn parquet_input_is_split_with_its_types() {
    let dir = Dir::new("parquet");
    let project = project();
    let input = dir.0.join("payments.parquet");
    DuckEngine::in_memory()
        .unwrap()
        .execute(&format!(
            "COPY (SELECT * FROM (VALUES \
               ('a', 't1', 'L1', 1.0::DOUBLE, 'OK', 'n', 1::BIGINT), \
               ('b', 't2', 'L1', 'NaN'::DOUBLE, 'OK', 'n', 1), \
               ('c', 't3', 'L1', 2.0, 'OK', 'n', 5000000000), \
               ('a', 't4', 'L2', 3.0, 'LATE', 'n', 2), \
               (NULL, 't5', 'L1', 3.0, 'OK', 'n', 2)) \
             AS t(id, txn_ref, loan_id, amount, status, note, version)) TO {} (FORMAT parquet)",
            path_sql(&input)
        ))
        .unwrap();
    let report = split(&dir, &project, vec![input], true);
    // b: NaN; c: version overflows INTEGER; first a: not the latest version; NULL id.
    assert_eq!((report.rows_in, report.rows_valid, report.rows_quarantined, report.rows_rejected), (5, 1, 4, 0));
    assert!(report.invariant_holds);
    let q = query(&format!(
        "SELECT id, _dq_errors[1].error_reason AS reason FROM read_parquet({}) WHERE id = 'c'",
        path_sql(&report.outputs.quarantined)
    ));
    assert_eq!(q[0]["reason"], json!("value '5000000000' of column version does not cast to INTEGER"));
}

#[test]
fn missing_inputs_are_named() {
    let dir = Dir::new("missing");
    let project = project();
    let inputs = vec![dir.0.join("nope.csv"), dir.0.join("gone.parquet")];
    let o = PreloadOptions::new(&project, payments(&project), inputs, dir.0.join("v"), dir.0.join("q"));
    let err = preload(&o).unwrap_err();
    assert!(err.message.contains("nope.csv") && err.message.contains("gone.parquet"), "{}", err.message);
    assert!(!dir.0.join("v").exists());
}

#[test]
fn inputs_whose_columns_disagree_are_refused_with_the_columns_named() {
    let dir = Dir::new("schema");
    let project = project();
    let input = dir.0.join("bad.csv");
    std::fs::write(&input, "id,txn_ref,loan,amount,status,note,version,extra\nr1,t1,L1,1,OK,n,1,x\n").unwrap();
    let o = PreloadOptions::new(&project, payments(&project), vec![input], dir.0.join("v"), dir.0.join("q"));
    let err = preload(&o).unwrap_err();
    assert!(err.message.contains("bad.csv"), "{}", err.message);
    assert!(err.message.contains("missing column(s) loan_id"), "{}", err.message);
    assert!(err.message.contains("extra column(s) loan, extra"), "{}", err.message);
}

#[test]
fn splits_are_byte_identical_and_in_input_order() {
    // Several row groups, read by two threads: the row-level view (one Parquet input) and the
    // sorted table (uniqueness and a foreign key) both write in input order.
    let dir = Dir::new("order");
    let project = project();
    let input = dir.0.join("payments.parquet");
    DuckEngine::in_memory()
        .unwrap()
        .execute(&format!(
            "COPY (SELECT 'P' || lpad(CAST(i AS VARCHAR), 7, '0') AS id, CAST(i % 1000 AS VARCHAR) AS txn_ref, \
               'L1' AS loan_id, CASE WHEN i % 997 = 0 THEN -1.0 ELSE i / 10.0 END AS amount, \
               CASE WHEN i % 991 = 0 THEN 'LOST' ELSE 'OK' END AS status, 'n' AS note, CAST(i % 7 AS BIGINT) AS version \
             FROM range(400000) t(i)) TO {} (FORMAT parquet, ROW_GROUP_SIZE 50000)",
            path_sql(&input)
        ))
        .unwrap();
    let row_level = PreloadOptions::new(&project, row_level_contract(&project), vec![input.clone()], "", "");
    let set_based = PreloadOptions::new(&project, payments(&project), vec![input], "", "");
    for (name, template) in [("row", row_level), ("set", set_based)] {
        let mut bytes = Vec::new();
        for run in ["a", "b"] {
            let mut o = template.clone();
            o.valid_dir = dir.0.join(name).join(run).join("valid");
            o.quarantine_dir = dir.0.join(name).join(run).join("quarantine");
            o.lake = Some(lake(&dir.0));
            let report = preload(&o).unwrap();
            assert!(report.invariant_holds, "{name}");
            assert!(report.rows_quarantined > 0, "{name}");
            let read = |p: &Path| std::fs::read(p).unwrap();
            bytes.push((read(&report.outputs.valid), read(&report.outputs.quarantined)));
            for output in [&report.outputs.valid, &report.outputs.quarantined] {
                let out_of_order = query(&format!(
                    "SELECT count(*) AS n FROM (SELECT id < lag(id) OVER (ORDER BY file_row_number) AS back \
                     FROM read_parquet({}, file_row_number = true)) WHERE back",
                    path_sql(output)
                ));
                assert_eq!(out_of_order[0]["n"], json!(0), "{name}: {} is in input order", output.display());
            }
        }
        assert!(bytes[0] == bytes[1], "{name}: two splits of the same input differ");
    }
}

/// The payments contract with its row-level rules only.
fn row_level_contract(project: &Project) -> &Contract {
    project.contracts.iter().find(|c| c.table.table == "payments_rows").unwrap()
}

#[test]
fn valid_rows_load_into_the_lake_and_a_reload_replaces_them() {
    let dir = Dir::new("load");
    let project = project();
    let report = split(&dir, &project, vec![csv_fixture(&dir)], true);
    let lake = dir.0.join("loaded");
    let contract = payments(&project);
    for _ in 0..2 {
        let loaded = dqc_local::load_valid(&report.outputs.valid, &lake, contract).unwrap();
        assert_eq!(loaded, report.rows_valid);
    }
    let table = lake.join("raw_db").join("payments");
    let files: Vec<_> = std::fs::read_dir(&table).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(files, ["data.parquet"], "one file, no leftovers of the first load");
    let file = path_sql(&table.join("data.parquet"));
    assert_eq!(query(&format!("SELECT count(*) AS n FROM read_parquet({file})"))[0]["n"], json!(report.rows_valid));
    let columns: Vec<Value> = query(&format!("DESCRIBE SELECT * FROM read_parquet({file})"))
        .iter()
        .map(|r| r["column_name"].clone())
        .collect();
    let declared: Vec<Value> = contract.columns.iter().map(|c| json!(c.name)).collect();
    assert_eq!(columns, declared, "the contract's columns, without the split's _dq_warnings");
}

#[test]
fn an_output_that_would_replace_an_input_is_refused() {
    let dir = Dir::new("overwrite");
    let project = project();
    let input = dir.0.join("payments.parquet");
    DuckEngine::in_memory()
        .unwrap()
        .execute(&format!(
            "COPY (SELECT 'a' AS id, 't' AS txn_ref, 'L1' AS loan_id, 1.0 AS amount, 'OK' AS status, 'n' AS note, \
             1 AS version) TO {} (FORMAT parquet)",
            path_sql(&input)
        ))
        .unwrap();
    let before = std::fs::read(&input).unwrap();
    let o = PreloadOptions::new(&project, payments(&project), vec![input.clone()], &dir.0, dir.0.join("q"));
    let err = preload(&o).unwrap_err();
    assert!(err.message.contains("is one of the inputs"), "{}", err.message);
    assert_eq!(std::fs::read(&input).unwrap(), before, "the input is untouched");
}

/// Writes `bytes` as a CSV input of the row-level contract.
fn rows_input(dir: &Dir, bytes: &[u8]) -> PathBuf {
    let input = dir.0.join("payments_rows.csv");
    std::fs::write(&input, bytes).unwrap();
    input
}

fn split_rows(dir: &Dir, project: &Project, input: PathBuf) -> PreloadReport {
    let o = PreloadOptions::new(
        project,
        row_level_contract(project),
        vec![input],
        dir.0.join("valid"),
        dir.0.join("quarantine"),
    );
    preload(&o).unwrap()
}

#[test]
fn one_unterminated_quote_costs_one_line_and_every_line_is_accounted_for() {
    let dir = Dir::new("unterminated");
    let project = project();
    let n = 20_000;
    let mut text = b"id,txn_ref,loan_id,amount,status,note,version\n".to_vec();
    for i in 0..n {
        let line = match i {
            7 => "bad,t,L1,1,OK,\"never closed,1\n".to_string(),
            9 => "wide,t,L1,1,OK,x,1,extra\n".to_string(),
            _ => format!("r{i},t{i},L1,{i},OK,note {i},1\n"),
        };
        text.extend_from_slice(line.as_bytes());
    }
    // Invalid UTF-8 and a control character, kept byte-exact.
    text.extend_from_slice(b"latin,t,L1,1,OK,caf\xe9,1\n");
    text.extend_from_slice(b"\n");
    let report = split_rows(&dir, &project, rows_input(&dir, &text));
    assert_eq!(report.lines_in, Some(n + 2));
    assert_eq!(report.blank_lines, 1);
    assert_eq!((report.rows_in, report.rows_valid, report.rows_rejected), (n + 1, n - 2, 3));
    assert!(report.invariant_holds, "{}", report.render_text());
    let r = query(&format!(
        "SELECT line, lines, raw_line, raw_bytes, error FROM read_parquet({}) ORDER BY line",
        path_sql(&report.outputs.rejected_lines)
    ));
    let lines: Vec<&Value> = r.iter().map(|x| &x["line"]).collect();
    assert_eq!(lines, vec![&json!(9), &json!(11), &json!(n + 2)]);
    assert!(r[0]["error"].as_str().unwrap().contains("never closes"), "{:?}", r[0]);
    // The exact bytes, terminator included, read back from the Parquet file.
    let bytes: Vec<u8> = DuckEngine::in_memory()
        .unwrap()
        .query(
            &format!(
                "SELECT to_hex(raw_bytes) AS hex FROM read_parquet({}) WHERE line = {}",
                path_sql(&report.outputs.rejected_lines),
                n + 2
            ),
            &[],
        )
        .unwrap()
        .objects()[0]["hex"]
        .as_str()
        .map(|h| (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect())
        .unwrap();
    assert_eq!(bytes, b"latin,t,L1,1,OK,caf\xe9,1\n");
}

#[test]
fn a_header_only_csv_is_zero_rows_not_an_error() {
    let dir = Dir::new("header-only");
    let project = project();
    let report = split_rows(&dir, &project, rows_input(&dir, b"id,txn_ref,loan_id,amount,status,note,version\n"));
    assert_eq!((report.rows_in, report.rows_valid, report.lines_in), (0, 0, Some(0)));
    assert!(report.invariant_holds);
}

#[test]
fn the_same_folder_for_valid_and_quarantined_rows_is_refused() {
    let dir = Dir::new("same-folder");
    let project = project();
    let input = rows_input(&dir, b"id,txn_ref,loan_id,amount,status,note,version\nr,t,L1,1,OK,n,1\n");
    let o =
        PreloadOptions::new(&project, row_level_contract(&project), vec![input], dir.0.join("out"), dir.0.join("out"));
    let err = preload(&o).unwrap_err();
    assert!(err.message.contains("give --valid and --quarantine different folders"), "{}", err.message);
    assert!(!dir.0.join("out").exists(), "nothing is written");
}

#[test]
fn values_are_converted_exactly_or_quarantined_as_cast_failures() {
    let dir = Dir::new("exact-casts");
    let checked = dqc_compiler::check(&[Source::new(
        "t.dqc",
        "contract raw_db.casts {\n  columns {\n    id string not null,\n    ts timestamp,\n    d date,\n    x double,\n    n bigint,\n  }\n}\n",
    )]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let project = checked.project;
    let contract = &project.contracts[0];
    let input = dir.0.join("casts.csv");
    std::fs::write(
        &input,
        "id,ts,d,x,n\n\
         offset,2024-01-01 10:00:00+05:00,2024-01-01,1.5,1\n\
         zulu,2024-01-01T10:00:00Z,2024-01-01 00:00:00,inf,2\n\
         negative,2024-01-01 10:00:00-03:30,2024-01-01,-Infinity,3\n\
         plain,2024-01-01 10:00:00,2024-01-01,2,4\n\
         cut_date,2024-01-01 10:00:00,2024-01-01 10:00:00,2,5\n\
         huge,2024-01-01 10:00:00,2024-01-01,1e400,6\n\
         underscore,2024-01-01 10:00:00,2024-01-01,1_0,1_000\n\
         named_zone,2024-01-01 10:00:00 Europe/Paris,2024-01-01,1,7\n\
         abbreviated_zone,2024-01-01 10:00:00 EST,2024-01-01,1,8\n\
         utc_suffix,2024-01-01 10:00:00 UTC,2024-01-01,1,9\n\
         fraction,2024-01-01 10:00:00,2024-01-01,1,1.5\n\
         hex,2024-01-01 10:00:00,2024-01-01,1,0x1F\n",
    )
    .unwrap();
    let o = PreloadOptions::new(&project, contract, vec![input], dir.0.join("valid"), dir.0.join("quarantine"));
    let report = preload(&o).unwrap();
    assert!(report.invariant_holds);
    let valid = query(&format!(
        "SELECT id, CAST(ts AS VARCHAR) AS ts, CAST(d AS VARCHAR) AS d, CAST(x AS VARCHAR) AS x FROM read_parquet({}) ORDER BY id",
        path_sql(&report.outputs.valid)
    ));
    let shown: Vec<String> = valid
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["id"].as_str().unwrap(),
                r["ts"].as_str().unwrap(),
                r["d"].as_str().unwrap(),
                r["x"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            "negative 2024-01-01 13:30:00 2024-01-01 -inf",
            "offset 2024-01-01 05:00:00 2024-01-01 1.5",
            "plain 2024-01-01 10:00:00 2024-01-01 2.0",
            "utc_suffix 2024-01-01 10:00:00 2024-01-01 1.0",
            "zulu 2024-01-01 10:00:00 2024-01-01 inf",
        ]
    );
    let quarantined = query(&format!(
        "SELECT id, list_transform(_dq_errors, lambda e: e.rule_id) AS rules FROM read_parquet({}) ORDER BY id",
        path_sql(&report.outputs.quarantined)
    ));
    let got: Vec<String> =
        quarantined.iter().map(|r| format!("{} {}", r["id"].as_str().unwrap(), r["rules"])).collect();
    assert_eq!(
        got,
        vec![
            "abbreviated_zone [\"cast_ts\"]".to_string(),
            "cut_date [\"cast_d\"]".to_string(),
            "fraction [\"cast_n\"]".to_string(),
            "hex [\"cast_n\"]".to_string(),
            "huge [\"cast_x\"]".to_string(),
            "named_zone [\"cast_ts\"]".to_string(),
            "underscore [\"cast_x\",\"cast_n\"]".to_string(),
        ]
    );
}

#[test]
fn an_overflow_in_one_row_flags_that_row_and_the_batch_goes_on() {
    let dir = Dir::new("overflow");
    let checked = dqc_compiler::check(&[Source::new(
        "t.dqc",
        "contract raw_db.counters {\n  columns {\n    id string not null,\n    b bigint,\n  }\n  rules {\n    grows: check b + 1 > b\n  }\n}\n",
    )]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let project = checked.project;
    let input = dir.0.join("counters.csv");
    std::fs::write(&input, "id,b\nsmall,1\nmax,9223372036854775807\nnull,\n").unwrap();
    let o = PreloadOptions::new(&project, &project.contracts[0], vec![input], dir.0.join("valid"), dir.0.join("q"));
    let report = preload(&o).unwrap();
    assert_eq!((report.rows_valid, report.rows_quarantined), (2, 1));
    let q = query(&format!(
        "SELECT id, _dq_errors[1].rule_id AS rule FROM read_parquet({})",
        path_sql(&report.outputs.quarantined)
    ));
    assert_eq!((q[0]["id"].clone(), q[0]["rule"].clone()), (json!("max"), json!("grows")));
}

#[test]
fn mixed_line_endings_are_read_with_the_headers_ending() {
    let project = project();
    let header = "id,txn_ref,loan_id,amount,status,note,version";
    // A CRLF file with one LF line; a CRLF file with a bad line and no final line break; an
    // LF file with a CRLF line.
    let inputs = [
        format!("{header}\r\nr1,t,L1,1,OK,a,1\r\nr2,t,L1,1,OK,b,1\nr3,t,L1,1,OK,c,1\r\n"),
        format!("{header}\r\nr1,t,L1,1,OK,a,1\r\nbad line\r\nr3,t,L1,1,OK,c,1"),
        format!("{header}\nr1,t,L1,1,OK,a,1\r\nr2,t,L1,1,OK,\"two\r\nlines\",1\n"),
    ];
    for (i, text) in inputs.iter().enumerate() {
        let dir = Dir::new(&format!("endings-{i}"));
        let report = split_rows(&dir, &project, rows_input(&dir, text.as_bytes()));
        assert!(report.invariant_holds, "input {i}: {}", report.render_text());
        let lines = text.matches('\n').count() as u64 + u64::from(!text.ends_with('\n'));
        assert_eq!(report.lines_in, Some(lines - 1), "input {i}");
        assert_eq!(report.rows_valid + report.rows_quarantined + report.rows_rejected, report.rows_in, "input {i}");
    }
    // The quoted line break is content, kept as written.
    let dir = Dir::new("endings-content");
    let report = split_rows(&dir, &project, rows_input(&dir, inputs[2].as_bytes()));
    let r = query(&format!("SELECT note FROM read_parquet({}) WHERE id = 'r2'", path_sql(&report.outputs.valid)));
    assert_eq!(r[0]["note"], json!("two\r\nlines"));
}

#[test]
fn a_file_of_carriage_returns_alone_is_refused_with_why() {
    let dir = Dir::new("cr-only");
    let project = project();
    let input = rows_input(&dir, b"id,txn_ref,loan_id,amount,status,note,version\rr1,t,L1,1,OK,a,1\r");
    let o = PreloadOptions::new(&project, row_level_contract(&project), vec![input], dir.0.join("v"), dir.0.join("q"));
    let err = preload(&o).unwrap_err();
    assert!(err.message.contains("carriage return alone"), "{}", err.message);
}
