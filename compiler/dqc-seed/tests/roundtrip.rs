//! Import of the seed's example, and export -> import round trips over rich contracts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

mod common;

use std::collections::BTreeMap;

use common::{check_ok, import_ok};
use dqc_diagnostics::{Code, FileId};
use dqc_ir::{AnomalyMethod, Bound, Measure, Project, RuleKind, Stage, Value};

const SEED: &str = include_str!("fixtures/seed_3_2.json");

/// The table the seed's foreign key points at; the project needs it to resolve.
const DIM_LOAN: &str =
    "contract dim_loan { grain (loan_id) columns { loan_id string not null } rules { unique loan_id } }";

const SEED_CONTRACT: &str = "\
contract loan_repayment_fact {
  owner 'data-eng-team'
  description 'Fact table with one row per loan repayment.'
  grain (loan_id, payment_date)
  sla daily by 06:00 utc

  columns {
    loan_id      string not null,
    emi_amount   double not null,
    status       string not null,
    payment_date date   not null,
  }

  rules {
    loan_id references dim_loan (loan_id)
    emi_amount >= 0
    emi_amount between 0 and 20000 severity warn
    status in ('SUCCESS', 'FAILED', 'PENDING')
    unique (loan_id, payment_date)
    row_count within 20% of average over 7 days
    preload_emi_amount_non_negative: check emi_amount >= 0 stage pre_load
  }
}
";

#[test]
fn seed_example_imports_into_a_valid_contract() {
    let (text, diags) = import_ok(SEED);
    assert_eq!(text, SEED_CONTRACT);
    let project = check_ok(&[&text, DIM_LOAN]);
    let fact = project.contracts.iter().find(|c| c.table.table == "loan_repayment_fact").unwrap();
    assert_eq!(fact.grain, ["loan_id", "payment_date"]);
    assert_eq!(fact.sla.as_ref().and_then(|s| s.by_utc.as_deref()), Some("06:00"));
    let rule = |id: &str| fact.rules.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no rule {id}"));
    assert!(rule("not_null_loan_id").implicit);
    assert!(matches!(
        &rule("min_emi_amount").kind,
        RuleKind::Range { column, measure: Measure::Value, min: Some(Bound { value: Value::Number(n), inclusive: true }), max: None }
            if column == "emi_amount" && n == "0"
    ));
    assert_eq!(rule("range_emi_amount").severity, dqc_ir::Severity::Warn);
    assert!(matches!(
        &rule("row_count_anomaly").kind,
        RuleKind::RowCountAnomaly { method: AnomalyMethod::PercentOfMean { percent }, window_days: 7 } if percent == "20"
    ));
    let pre = rule("preload_emi_amount_non_negative");
    assert!(matches!(pre.kind, RuleKind::Check { .. }));
    assert_eq!((pre.stage, pre.stage_inferred), (Stage::PreLoad, false));
    assert!(
        matches!(&rule("fk_loan_id_dim_loan").kind, RuleKind::ForeignKey { table, .. } if table.table == "dim_loan")
    );

    // What was approximated or dropped is said, at the JSON that said it.
    let warned: Vec<(Code, &str)> = diags.iter().map(|d| (d.code, &SEED[d.primary.span.range()])).collect();
    assert_eq!(
        warned,
        [
            (Code::ImportApproximation, "\"payment_date\""),
            (
                Code::ImportApproximation,
                "\"Row count should not deviate by more than 20% from a 7-day rolling average.\""
            ),
            (Code::ImportApproximation, "\"pk_uniqueness_loan_id_payment_date\""),
            (Code::ImportApproximation, "\"docs_markdown\""),
        ]
    );
}

#[test]
fn seed_example_inside_fences_and_prose_imports_the_same() {
    let wrapped = format!(
        "Here is the contract you asked for:\n\n```json\n{SEED}\n```\n\nLet me know [if] anything should change."
    );
    let (text, diags) = import_ok(&wrapped);
    assert_eq!(text, SEED_CONTRACT);
    let offset = wrapped.find('{').unwrap();
    let plain = dqc_seed::import(SEED, FileId(0)).1;
    let shifted: Vec<_> =
        plain.iter().map(|d| (d.primary.span.start as usize + offset, d.primary.span.end as usize + offset)).collect();
    let spans: Vec<_> = diags.iter().map(|d| (d.primary.span.start as usize, d.primary.span.end as usize)).collect();
    assert_eq!(spans, shifted);
}

/// Contracts covering every rule kind and modifier, quoted names, decimals, dates,
/// timestamps, arrays, structs, partitions and slas.
const RICH: &[&str] = &[
    r#"
contract analytics_db.loan_repayment_fact {
  owner 'data-eng-team'
  description 'One row per EMI; it''s the fact table.'
  layer curated
  location 's3://bucket/loan_repayment_fact/'
  partitioned by (payment_date)
  grain (loan_id, payment_date)
  sla daily by 06:00 utc
  columns {
    loan_id      string         not null comment 'Loan identifier',
    customer_id  string         not null pii,
    payment_date date           not null,
    emi_amount   decimal(12, 2) not null,
    penalty      double,
    status       varchar(10)    not null,
    created_at   timestamp      not null,
    updated_at   timestamp,
    "due date"   date,
    "in"         string,
    is_late      boolean,
    tags         array<string>,
    address      struct<city: string, "zip code": int>,
    code         char(3),
    seq          bigint,
    ratio        float,
  }
  rules {
    loan_id references analytics_db.dim_loan (loan_id)
    fk_cust: customer_id references dim_customer (customer_id) severity warn
    emi_amount >= 0 stage pre_load because 'profile: min = 500.0'
    emi_soft: emi_amount between 0.01 and 20000.5 severity warn
    penalty > -1.5 where status = 'LATE'
    0 < penalty <= 100 at least 99.5%
    status in ('SUCCESS', 'FAILED', 'PENDING', 'LATE')
    status_ne: status != 'VOID'
    length(code) = 3
    length(status) between 1 and 10
    code matches '^[A-Z]{3}$'
    updated_at >= created_at
    "due date" >= date '2020-01-01'
    created_at < timestamp '2100-01-01 00:00:00'
    is_late in (true, false)
    "in" = 'x' severity warn
    ratio between 0 and 1e2
    unique (loan_id, payment_date) keep first by created_at desc
    unique seq keep first by created_at
    freshness created_at within 26 hours
    row_count within 20% of average over 7 days
    row_count >= 1
    rc_band: 10 <= row_count < 1000000
    anomaly_sd: row_count within 2.5 stddev of average over 2 weeks
    check emi_amount * 2 + coalesce(penalty, 0) > 0 and (status = 'A' or not is_late)
    late_check: check case when is_late then penalty is not null else true end where created_at >= timestamp '2024-01-01 00:00' severity warn stage post_load
    check "due date" between date '2020-01-01' and payment_date or "due date" is null
    check lower(trim(status)) like 'su%' or status not in ('X', 'Y') or -penalty < -(emi_amount - 1)
    check cast(seq as varchar(20)) || code <> 'x' and (seq - (seq - 1)) % 2 = 1
    check not (is_late or penalty > 0) or (1 = 1) = true
    not null penalty where status = 'LATE'
    nn_upd: not null updated_at severity warn
  }
}
"#,
    r#"
contract analytics_db.dim_loan {
  owner 'data-eng-team'
  grain (loan_id)
  sla weekly by 23:59 utc
  columns {
    loan_id   string         not null,
    principal decimal(12, 2) not null,
    opened_on date,
  }
  rules {
    unique loan_id
    principal > 0
    freshness opened_on within 3 days
    row_count between 1 and 5000000
  }
}

contract analytics_db.dim_customer {
  grain (customer_id)
  columns {
    customer_id string not null,
    email       string pii,
    region      string,
    country     string,
  }
  rules {
    unique customer_id
    email matches '^[^@]+@[^@]+$' severity warn
    (region, country) references analytics_db.geo (region, country)
    unique (email, region)
  }
}

contract analytics_db.geo {
  layer reference
  grain (region, country)
  columns {
    region  string not null,
    country string not null,
  }
  rules {
    unique (region, country)
  }
}
"#,
    r#"
contract "raw-zone"."events log" {
  layer raw
  sla hourly
  partitioned by ("event day", "Hour")
  columns {
    "event day" date not null,
    "Hour"      int  not null,
    "select"    string,
    "not"       bigint,
    payload     struct<"a b": array<struct<x: int>>, c: decimal(5, 1)>,
    "row_count" int,
  }
  rules {
    "select" matches 'it''s'
    "not" between -5 and 5
    row_count < 100
    "row_count" in (1, 2)
    check "not" is not null or "select" like '%''%'
    freshness "event day" within 90 minutes
  }
}
"#,
];

fn hashes(project: &Project) -> BTreeMap<String, String> {
    project.contracts.iter().map(|c| (c.table.qualified(), c.hash.clone())).collect()
}

fn round_trip(sources: &[&str]) {
    let original = check_ok(sources);
    let exported = dqc_seed::export(&original);
    let json = serde_json::to_string_pretty(&exported).unwrap();
    let (imported, diags) = import_ok(&json);
    assert!(diags.is_empty(), "an export imports exactly, but: {diags:#?}");
    let again = check_ok(&[&imported]);
    assert_eq!(hashes(&again), hashes(&original), "imported:\n{imported}\nfrom:\n{json}");
    assert_eq!(dqc_seed::export(&again), exported, "export is a fixed point");
}

#[test]
fn rich_contracts_round_trip_through_the_seed_shape() {
    round_trip(RICH);
}

#[test]
fn each_rich_contract_round_trips_alone() {
    // The first references contracts of the second; the second and third stand alone.
    round_trip(&RICH[1..2]);
    round_trip(&RICH[2..]);
}

#[test]
fn golden_style_contract_round_trips() {
    round_trip(&[SEED_CONTRACT, DIM_LOAN]);
}

#[test]
fn printed_contracts_check_to_the_same_ir() {
    let original = check_ok(RICH);
    let printed: Vec<String> = original.contracts.iter().map(dqc_seed::printer::contract_text).collect();
    let sources: Vec<&str> = printed.iter().map(String::as_str).collect();
    let again = check_ok(&sources);
    assert_eq!(hashes(&again), hashes(&original), "printed:\n{}", printed.join("\n"));
}

#[test]
fn export_has_the_seed_shape() {
    let project = check_ok(&[SEED_CONTRACT, DIM_LOAN]);
    let exported = dqc_seed::export(&project);
    let fact =
        exported.as_array().unwrap().iter().find(|c| c["data_quality"]["table_name"] == "loan_repayment_fact").unwrap();
    let dq = &fact["data_quality"];
    assert_eq!(dq["primary_key"], serde_json::json!(["loan_id", "payment_date"]));
    assert_eq!(
        dq["freshness"],
        serde_json::json!({ "frequency": "daily", "sla_hour_utc": 6, "sla_time_utc": "06:00" })
    );
    assert_eq!(dq["column_order"], serde_json::json!(["loan_id", "emi_amount", "status", "payment_date"]));
    assert_eq!(
        dq["columns"]["status"],
        serde_json::json!({
            "type": "string", "nullable": false, "pii": false,
            "rules": [{ "type": "allowed_values", "values": ["SUCCESS", "FAILED", "PENDING"], "id": "allowed_values_status", "severity": "error" }]
        })
    );
    assert_eq!(
        dq["columns"]["emi_amount"]["rules"][1],
        serde_json::json!({ "type": "range", "min": 0, "max": 20000, "id": "range_emi_amount", "severity": "warn" })
    );
    assert_eq!(
        dq["table_level_checks"][0],
        serde_json::json!({ "type": "grain_uniqueness", "grain": ["loan_id", "payment_date"], "id": "unique_loan_id_payment_date", "severity": "error" })
    );
    assert_eq!(
        dq["table_level_checks"][1]["rule"],
        "Row count should not deviate by more than 20% from a 7-day rolling average."
    );
    assert_eq!(
        dq["table_level_checks"][2],
        serde_json::json!({ "type": "check", "expression": "emi_amount >= 0", "id": "preload_emi_amount_non_negative", "severity": "error", "stage": "pre_load" })
    );
    let tests = fact["tests"].as_array().unwrap();
    let ids: Vec<&str> = tests.iter().map(|t| t["rule_id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "not_null_loan_id",
            "fk_loan_id_dim_loan",
            "not_null_emi_amount",
            "min_emi_amount",
            "range_emi_amount",
            "not_null_status",
            "allowed_values_status",
            "not_null_payment_date",
            "unique_loan_id_payment_date",
            "row_count_anomaly",
            "preload_emi_amount_non_negative",
        ]
    );
    assert_eq!(
        tests[4],
        serde_json::json!({
            "name": "range_emi_amount", "rule_id": "range_emi_amount", "stage": "pre_load", "severity": "warn",
            "rule": "emi_amount between 0 and 20000 severity warn",
            "description": "emi_amount must be at least 0 and at most 20000."
        })
    );
    assert_eq!(tests[1]["rule"], "loan_id references dim_loan (loan_id)");
}

#[test]
fn exported_test_rules_are_contract_rules() {
    let project = check_ok(RICH);
    for contract in dqc_seed::export(&project).as_array().unwrap() {
        for test in contract["tests"].as_array().unwrap() {
            let rule = test["rule"].as_str().unwrap();
            let probe = format!("contract t {{ rules {{ {rule} }} }}");
            assert!(dqc_syntax::parse(&probe, FileId(0)).is_ok(), "{rule}");
        }
    }
}

#[test]
fn numbers_that_json_cannot_hold_exactly_travel_as_strings() {
    let source = "contract t { columns { x decimal(38, 20) } rules { x between 0.12345678901234567890 and 123456789012345678.5 } }";
    let project = check_ok(&[source]);
    let exported = dqc_seed::export(&project);
    let rule = &exported[0]["data_quality"]["columns"]["x"]["rules"][0];
    assert_eq!(rule["min"], "0.1234567890123456789");
    assert_eq!(rule["max"], "123456789012345678.5");
    round_trip(&[source]);
}
