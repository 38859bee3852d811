//! Malformed and approximate input: the right codes, with spans pointing into the JSON.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use dqc_diagnostics::{Code, Diagnostic, FileId};

fn import(json: &str) -> (Option<String>, Vec<Diagnostic>) {
    dqc_seed::import(json, FileId(7))
}

/// The only diagnostic, which must have `code`.
fn only(json: &str, code: Code) -> (Option<String>, Diagnostic) {
    let (text, diags) = import(json);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = diags.into_iter().next().unwrap();
    assert_eq!(d.code, code, "{d:#?}");
    assert_eq!(d.primary.span.file, FileId(7));
    (text, d)
}

/// The byte range of the `n`th (0-based) occurrence of `needle`.
fn nth(json: &str, needle: &str, n: usize) -> std::ops::Range<usize> {
    let start = json.match_indices(needle).nth(n).unwrap_or_else(|| panic!("no {needle}")).0;
    start..start + needle.len()
}

fn column_rules(rules: &str) -> String {
    format!(
        r#"{{"data_quality": {{"table_name": "t", "columns": {{"status": {{"type": "string", "rules": [{rules}]}}}}}}}}"#
    )
}

#[test]
fn invalid_json_points_at_the_failing_token() {
    let json = r#"{"data_quality": {"table_name": "t",, "columns": {}}}"#;
    let (text, d) = only(json, Code::InvalidJson);
    assert_eq!(text, None);
    assert_eq!(d.primary.span.range(), 36..37);
    assert_eq!(&json[d.primary.span.range()], ",");
    assert!(d.message.starts_with("invalid JSON: "), "{}", d.message);
}

#[test]
fn truncated_json_is_invalid() {
    let json = "```json\n{\"data_quality\": {\"table_name\": \"t\", \"columns\": {\n```";
    let (text, d) = only(json, Code::InvalidJson);
    assert_eq!(text, None);
    assert!(d.primary.span.start as usize >= json.find('{').unwrap());
    assert!(d.primary.span.end as usize <= json.len());
}

#[test]
fn text_without_json_is_invalid() {
    let (text, d) = only("I could not generate a contract.", Code::InvalidJson);
    assert_eq!(text, None);
    assert_eq!(d.primary.span.range(), 0..32);
}

#[test]
fn missing_table_name_points_at_the_object_key() {
    let json = r#"{"data_quality": {"columns": {}}}"#;
    let (text, d) = only(json, Code::UnexpectedJsonShape);
    assert_eq!(text, None);
    assert_eq!(d.message, "missing `data_quality.table_name`");
    assert_eq!(d.primary.span.range(), 1..15);
    assert_eq!(&json[d.primary.span.range()], "\"data_quality\"");
}

#[test]
fn missing_data_quality_points_at_the_root() {
    let json = r#"  {"tests": []}"#;
    let (_, d) = only(json, Code::UnexpectedJsonShape);
    assert_eq!(d.message, "missing `data_quality`");
    assert_eq!(d.primary.span.range(), 2..3);
}

#[test]
fn unknown_rule_type_suggests_the_closest() {
    let json = column_rules(r#"{"type": "not_nul"}, {"type": "allowed_values", "values": ["A"]}"#);
    let (text, d) = only(&json, Code::UnknownRuleType);
    assert_eq!(d.primary.span.range(), nth(&json, "\"not_nul\"", 0));
    assert_eq!(d.help.as_deref(), Some("did you mean `not_null`?"));
    // The rest of the contract is still imported.
    let text = text.unwrap();
    assert!(text.contains("status in ('A')"), "{text}");
    assert!(!text.contains("not null"), "{text}");
}

#[test]
fn unknown_rule_type_without_a_close_match() {
    let json = column_rules(r#"{"type": "entropy_bounds"}"#);
    let (_, d) = only(&json, Code::UnknownRuleType);
    assert_eq!(d.primary.span.range(), nth(&json, "\"entropy_bounds\"", 0));
    assert!(d.help.unwrap().contains("dqc explain E0903"));
}

#[test]
fn values_that_are_not_an_array_name_their_path() {
    let json = column_rules(r#"{"type": "not_null"}, {"type": "allowed_values", "values": "A,B"}"#);
    let (text, d) = only(&json, Code::UnexpectedJsonShape);
    assert_eq!(d.message, "`data_quality.columns.status.rules[1].values` must be an array of values, found a string");
    assert_eq!(d.primary.span.range(), nth(&json, "\"A,B\"", 0));
    assert!(text.unwrap().contains("not null status"));
}

#[test]
fn fenced_json_with_prose_keeps_offsets_in_the_original_text() {
    let json = "Sure! Here is the JSON [v2]:\n```json\n{\n  \"data_quality\": {\n    \"table_name\": \"db.t\",\n    \"columns\": {\"amount\": {\"type\": \"double\", \"rules\": [{\"type\": \"rnage\", \"min\": 0}]}}\n  }\n}\n```\nLet me know if you need changes.";
    let (text, d) = only(json, Code::UnknownRuleType);
    assert_eq!(d.primary.span.range(), nth(json, "\"rnage\"", 0));
    assert_eq!(d.primary.span.start, 149);
    assert_eq!(d.help.as_deref(), Some("did you mean `range`?"));
    assert_eq!(text.unwrap(), "contract db.t {\n  columns {\n    amount double,\n  }\n}\n");
}

#[test]
fn expression_syntax_errors_point_into_the_json_string() {
    // The escaped quote and `\u00e9` shift raw offsets; the span must still land on `)`.
    let json = column_rules(r#"{"type": "check", "expression": "status = 'caf\u00e9' and \"x\" = (1 +)"}"#);
    let (_, d) = only(&json, Code::SyntaxError);
    let close = json.find("+)").unwrap() + 1;
    assert_eq!(d.primary.span.start as usize, close, "{d:#?}");
    assert_eq!(&json[d.primary.span.start as usize..=d.primary.span.start as usize], ")");
}

#[test]
fn wrong_kinds_are_reported_where_they_are() {
    let json = r#"{"data_quality": {"table_name": "t", "columns": {"id": {"type": "int", "nullable": "no"}}}}"#;
    let (_, d) = only(json, Code::UnexpectedJsonShape);
    assert_eq!(d.message, "`data_quality.columns.id.nullable` must be `true` or `false`, found a string");
    assert_eq!(d.primary.span.range(), nth(json, "\"no\"", 0));
}

#[test]
fn literals_must_fit_the_column_type() {
    let json = r#"{"data_quality": {"table_name": "t", "columns": {"amount": {"type": "decimal(10,2)", "rules": [{"type": "min", "value": "zero"}]}}}}"#;
    let (_, d) = only(json, Code::UnexpectedJsonShape);
    assert!(d.message.contains("must be a number: column `amount` is `decimal(10, 2)`"), "{}", d.message);
    assert_eq!(d.primary.span.range(), nth(json, "\"zero\"", 0));
}

#[test]
fn types_the_language_cannot_write_are_reported() {
    let json = r#"{"data_quality": {"table_name": "t", "columns": {"m": {"type": "map<string,int>"}, "id": {"type": "bigint"}}}}"#;
    let (text, d) = only(json, Code::UnexpectedJsonShape);
    assert_eq!(d.primary.span.range(), nth(json, "\"map<string,int>\"", 0));
    assert_eq!(text.unwrap(), "contract t {\n  columns {\n    id bigint,\n  }\n}\n");
}

#[test]
fn conflicting_databases_are_reported() {
    let json = r#"{"data_quality": {"table_name": "a.t", "database": "b", "columns": {}}}"#;
    let (text, d) = only(json, Code::UnexpectedJsonShape);
    assert_eq!(text, None);
    assert_eq!(d.primary.span.range(), nth(json, "\"b\"", 0));
    assert_eq!(d.labels[0].span.range(), nth(json, "\"a.t\"", 0));
}

#[test]
fn non_objects_in_a_top_level_array_are_reported() {
    let json = r#"[{"data_quality": {"table_name": "a", "columns": {}}}, 42]"#;
    let (text, d) = only(json, Code::UnexpectedJsonShape);
    assert_eq!(d.message, "`[1]` must be an object with a `data_quality` field, found a number");
    assert_eq!(d.primary.span.range(), nth(json, "42", 0));
    assert_eq!(text.unwrap(), "contract a {\n  columns {\n  }\n}\n");
}

#[test]
fn tests_with_only_sql_are_reported_and_others_converted() {
    let json = r#"{
      "data_quality": {"table_name": "t", "columns": {"amount": {"type": "double", "nullable": false}}},
      "tests": [
        {"name": "not_null_amount", "sql": "SELECT 1"},
        {"name": "big_rows", "sql": "SELECT COUNT(*) FROM t WHERE amount > 1e9"},
        {"name": "positive amount", "rule": "amount > 0", "stage": "pre-load", "severity": "warning"},
        {"description": "no rule at all"}
      ]
    }"#;
    let (text, diags) = import(json);
    let found: Vec<(Code, &str)> = diags.iter().map(|d| (d.code, &json[d.primary.span.range()])).collect();
    assert_eq!(
        found,
        [
            (Code::ImportApproximation, "\"big_rows\""),
            (Code::ImportApproximation, "\"positive amount\""),
            (Code::ImportApproximation, "{"),
        ]
    );
    assert!(diags[0].message.contains("has only SQL"));
    assert!(diags[1].message.contains("written as `positive_amount`"));
    let text = text.unwrap();
    assert!(text.contains("    positive_amount: check amount > 0 severity warn stage pre_load\n"), "{text}");
}

#[test]
fn aliases_llms_use_are_read() {
    let json = r#"{"data_quality": {
      "table_name": "sales.orders", "layer": "Gold Layer", "partition_keys": ["order_date"],
      "freshness": {"sla_hour_utc": "7"},
      "columns": [
        {"name": "order_id", "type": "BIGINT", "nullable": false, "rules": [{"type": "unique"}]},
        {"name": "order_date", "type": "date", "rules": [{"type": "min", "value": "2020-01-01"}]},
        {"name": "code", "type": "varchar(8)", "rules": [
          {"type": "pattern", "pattern": "^[A-Z]+$"}, {"type": "min_length", "value": 2},
          {"type": "max_length", "value": 8, "severity": "high"},
          {"type": "accepted_values", "values": ["AB", null, "CD"]}]},
        {"name": "paid", "type": "boolean", "rules": [{"type": "accepted_values", "values": ["true"]}]},
        {"name": "created_at", "type": "timestamp"}
      ],
      "table_level_checks": [
        {"type": "freshness", "column": "created_at", "max_age": "2 days"},
        {"type": "check_constraint", "expression": "code <> 'ZZ' -- never ZZ", "where": "paid"},
        {"type": "row_count_anomaly", "method": "std_devs", "k": 3},
        {"type": "compare", "column": "order_id", "op": "<>", "value": 0, "id": "id-nonzero"}
      ]
    }}"#;
    let (text, diags) = import(json);
    let text = text.unwrap();
    let expected = "\
contract sales.orders {
  layer gold_layer
  partitioned by (order_date)
  sla daily by 07:00 utc

  columns {
    order_id   bigint     not null,
    order_date date,
    code       varchar(8),
    paid       boolean,
    created_at timestamp,
  }

  rules {
    unique order_id
    order_date >= date '2020-01-01'
    code matches '^[A-Z]+$'
    length(code) >= 2
    length(code) <= 8
    code in ('AB', 'CD')
    paid in (true)
    freshness created_at within 2 days
    check code != 'ZZ' where paid
    row_count within 3 stddev of average over 7 days
    id_nonzero: order_id != 0
  }
}
";
    assert_eq!(text, expected);
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "layer `Gold Layer` written as `gold_layer`",
            "the sla has no `frequency`; assumed `daily`",
            "severity `high` read as `error`",
            "`null` dropped from the allowed values",
            "row count anomaly read as `row_count within 3 stddev of average over 7 days`",
            "rule id `id-nonzero` written as `id_nonzero`",
        ]
    );
    assert!(diags.iter().all(|d| d.code == Code::ImportApproximation));
}

#[test]
fn not_null_rules_under_non_nullable_columns_are_not_repeated() {
    let json = r#"{"data_quality": {"table_name": "t", "columns": {"id": {"type": "int", "nullable": false, "rules": [
        {"type": "not_null"}, {"type": "not_null", "severity": "error"}, {"type": "not_null", "where": "id > 0"}]}}}}"#;
    let (text, d) = only(json, Code::ImportApproximation);
    assert_eq!(d.message, "column `id` is not nullable, so this `not_null` rule is dropped");
    assert_eq!(d.primary.span.range(), nth(json, "{", 6).start..nth(json, "{", 6).start + 1);
    assert_eq!(text.unwrap(), "contract t {\n  columns {\n    id int not null,\n  }\n}\n");
}

#[test]
fn an_approximated_rule_is_kept_not_dropped() {
    // Numbers as bounds of a text column are read as strings, with a warning each: the rule
    // stays (it used to vanish behind the warnings).
    let json = column_rules(r#"{"type": "range", "min": 0, "max": 10}"#);
    let (text, diags) = import(&json);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(diags.iter().all(|d| d.code == Code::ImportApproximation), "{diags:#?}");
    let text = text.unwrap();
    assert!(text.contains("status between '0' and '10'"), "{text}");
}
