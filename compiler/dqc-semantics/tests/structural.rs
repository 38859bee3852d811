//! Structural assertions on diagnostics: code, message and the exact underlined text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use dqc_diagnostics::{Code, Diagnostic, FileId};
use dqc_semantics::{check_project, ParsedFile};

fn check(src: &str) -> (dqc_ir::Project, Vec<Diagnostic>) {
    let ast = dqc_syntax::parse(src, FileId(0)).expect("parses");
    check_project(&[ParsedFile { file: FileId(0), source: src, ast: &ast }], &[])
}

/// (code, message, underlined text) of every diagnostic.
fn problems(src: &str) -> Vec<(Code, String, String)> {
    check(src).1.into_iter().map(|d| (d.code, d.message.clone(), src[d.primary.span.range()].to_string())).collect()
}

const HEAD: &str = "contract db.t {\n  columns {\n    id bigint not null,\n    name varchar(5),\n    amount decimal(6, 2),\n    d date,\n    ts timestamp,\n    flag boolean,\n  }\n  rules {\n";

fn with_rules(rules: &str) -> String {
    format!("{HEAD}{rules}\n  }}\n}}\n")
}

#[test]
fn unknown_column_points_at_the_name_and_suggests() {
    let src = with_rules("    not null nme");
    let d = check(&src).1;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, Code::UnknownColumn);
    assert_eq!(&src[d[0].primary.span.range()], "nme");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `name`?"));
}

#[test]
fn regex_errors_point_inside_the_pattern() {
    let p = problems(&with_rules("    name matches 'ab(?=c)'\n    name matches 'a{2,1}'"));
    assert_eq!(p[0].0, Code::NonPortableRegex);
    assert_eq!(p[0].2, "(?=");
    assert_eq!(p[1].0, Code::InvalidRegex);
    assert_eq!(p[1].2, "a{2,1}".get(1..).unwrap());
}

#[test]
fn literal_fit_is_checked_against_the_column_type() {
    let p = problems(&with_rules("    name in ('abcdef')\n    amount in (1.234)\n    amount <= 99999"));
    let codes: Vec<Code> = p.iter().map(|x| x.0).collect();
    assert_eq!(codes, vec![Code::LiteralOutOfRange, Code::LiteralOutOfRange, Code::LiteralOutOfRange]);
    assert_eq!(p[0].2, "'abcdef'");
    assert_eq!(p[2].2, "99999");
}

#[test]
fn dates_compare_with_timestamps_but_not_with_numbers() {
    assert!(problems(&with_rules("    ts >= date '2024-01-01'\n    d < date '2030-01-01'")).is_empty());
    let p = problems(&with_rules("    d > 5"));
    assert_eq!(p[0].0, Code::LiteralTypeMismatch);
    assert_eq!(p[0].1, "a number cannot be compared with column `d` of type `date`");
}

#[test]
fn stages_are_inferred_and_checked() {
    let (project, diags) = check(&with_rules("    amount > 0\n    unique id\n    row_count >= 1"));
    assert!(diags.is_empty(), "{diags:?}");
    let stages: Vec<(&str, &str, bool)> =
        project.contracts[0].rules.iter().map(|r| (r.id.as_str(), r.stage.as_str(), r.stage_inferred)).collect();
    assert_eq!(
        stages,
        vec![
            ("not_null_id", "pre_load", true),
            ("min_amount", "pre_load", true),
            ("unique_id", "post_load", true),
            ("min_row_count", "post_load", true)
        ]
    );
    let p = problems(&with_rules("    row_count >= 1 stage pre_load"));
    assert_eq!((p[0].0, p[0].2.as_str()), (Code::CannotRunPreLoad, "stage pre_load"));
}

#[test]
fn expression_types_flow_through_functions_and_case() {
    assert!(problems(&with_rules("    check case when flag then length(name) else 0 end <= 5")).is_empty());
    let p = problems(&with_rules("    check case when flag then name else 0 end = 'x'"));
    assert_eq!(p[0].0, Code::ExpressionTypeError);
    assert!(p[0].1.contains("`case` results mix"), "{}", p[0].1);
}

#[test]
fn null_literals_are_rejected_in_value_rules() {
    let p = problems(&with_rules("    name in ('a', null)"));
    assert_eq!(p[0].0, Code::LiteralTypeMismatch);
    assert_eq!(p[0].2, "null");
}

#[test]
fn hash_ignores_formatting_comments_and_rule_order() {
    let a = with_rules("    amount > 0\n    unique id");
    let b = "-- reordered, reformatted\nCONTRACT db.t { COLUMNS { id BIGINT NOT NULL, name VARCHAR(5), amount DECIMAL(6,2), d DATE, ts TIMESTAMP, flag BOOLEAN }\nRULES { UNIQUE id amount>0 } }";
    let (pa, da) = check(&a);
    let (pb, db) = check(b);
    assert!(da.is_empty() && db.is_empty());
    assert_eq!(pa.contracts[0].hash, pb.contracts[0].hash);
    let (pc, _) = check(&with_rules("    amount > 1\n    unique id"));
    assert_ne!(pa.contracts[0].hash, pc.contracts[0].hash);
}

#[test]
fn check_ids_are_stable_under_reordering() {
    let (p1, _) = check(&with_rules("    check amount > 0\n    check name != 'x'"));
    let (p2, _) = check(&with_rules("    check name != 'x'\n    check amount > 0"));
    let ids = |p: &dqc_ir::Project| {
        let mut v: Vec<String> = p.contracts[0].rules.iter().map(|r| r.id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&p1), ids(&p2));
    // Readable by their columns, unique by the expression's hash.
    let hashed = |i: &str, prefix: &str| {
        i.strip_prefix(prefix).is_some_and(|h| h.len() == 8 && h.chars().all(|c| c.is_ascii_hexdigit()))
    };
    assert!(ids(&p1).iter().all(|i| i == "not_null_id" || hashed(i, "check_amount_") || hashed(i, "check_name_")));
}
