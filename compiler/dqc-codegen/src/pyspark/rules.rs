//! The `RULES` entries: one Python dict per pre-load rule.

use dqc_ir::{Contract, KeepPolicy, Project, Rule, RuleKind, Severity, Stage};

use super::python::{bool_literal, optional_str, str_literal, str_tuple};
use crate::sql::predicates::{checked, violating_row};
use crate::sql::Spark;

/// How `split` applies a rule.
enum Shape<'a> {
    /// A Spark SQL condition, TRUE exactly for violating rows.
    Row { violating_row: String },
    /// Duplicates on a key, with the declared policy.
    Unique { columns: &'a [String], keep: Option<&'a KeepPolicy> },
    /// Misses against a reference DataFrame.
    ForeignKey { columns: &'a [String], reference: String, ref_columns: &'a [String] },
}

/// Whether the generated module applies a rule: every pre-load rule it can decide on one batch.
pub(super) fn applies(rule: &Rule) -> bool {
    rule.stage == Stage::PreLoad
        && (rule.is_row_level() || matches!(rule.kind, RuleKind::Unique { .. } | RuleKind::ForeignKey { .. }))
}

fn shape<'a>(project: &Project, contract: &Contract, rule: &'a Rule) -> Option<Shape<'a>> {
    match &rule.kind {
        RuleKind::Unique { columns, keep } => Some(Shape::Unique { columns, keep: keep.as_ref() }),
        RuleKind::ForeignKey { columns, table, ref_columns } => {
            // The referenced contract's spelling of its name, as the SQL suites use.
            let parent = project.contracts.iter().find(|c| &c.table == table).map_or(table, |c| &c.table);
            Some(Shape::ForeignKey { columns, reference: parent.qualified(), ref_columns })
        }
        _ => violating_row(&Spark, contract, rule).map(|violating_row| Shape::Row { violating_row }),
    }
}

/// `(numerator, denominator)` of a canonical decimal percentage such as `99.5`, so the module
/// compares pass rates exactly, in integers.
pub(super) fn ratio(percent: &str) -> Option<(u128, u128)> {
    let (whole, fraction) = percent.split_once('.').unwrap_or((percent, ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 30 {
        return None;
    }
    let numerator = digits.parse::<u128>().ok()?;
    let denominator = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    Some((numerator, denominator))
}

/// Why a violating row is flagged, in plain English.
fn reason(contract: &Contract, rule: &Rule) -> String {
    let mut text = crate::describe::rule(contract, rule);
    if let RuleKind::Unique { keep: Some(keep), .. } = &rule.kind {
        let order = if keep.descending { " desc" } else { "" };
        text.push_str(&format!("; the first row by {}{order} is kept", keep.order_by));
    }
    text
}

/// The dict literal of one rule, indented for the `RULES` tuple, or `None` when the module
/// does not apply the rule.
pub(super) fn entry(project: &Project, contract: &Contract, rule: &Rule) -> Option<String> {
    if !applies(rule) {
        return None;
    }
    let shape = shape(project, contract, rule)?;
    let threshold = rule.min_pass_percent.as_deref();
    let min_pass = match threshold.map(|p| ratio(p).unwrap_or((100, 1))) {
        Some((n, d)) => format!("({n}, {d})"),
        None => "None".to_string(),
    };
    let mut fields: Vec<(&str, String)> = vec![
        ("rule_id", str_literal(&rule.id)),
        ("rule_name", str_literal(rule.kind.type_name())),
        ("severity", str_literal(rule.severity.as_str())),
        ("stage", str_literal(rule.stage.as_str())),
        ("error_reason", str_literal(&reason(contract, rule))),
        ("quarantine", bool_literal(rule.severity == Severity::Error && threshold.is_none())),
        ("min_pass_percent", optional_str(threshold)),
        ("min_pass", min_pass),
        ("checked", optional_str(checked(&Spark, rule).as_deref())),
    ];
    match shape {
        Shape::Row { violating_row } => {
            fields.push(("kind", str_literal("row")));
            fields.push(("violating_row", str_literal(&violating_row)));
        }
        Shape::Unique { columns, keep } => {
            fields.push(("kind", str_literal("unique")));
            fields.push(("columns", str_tuple(columns)));
            let keep = match keep {
                Some(k) => format!(
                    "{{\"order_by\": {}, \"descending\": {}}}",
                    str_literal(&k.order_by),
                    bool_literal(k.descending)
                ),
                None => "None".to_string(),
            };
            fields.push(("keep", keep));
        }
        Shape::ForeignKey { columns, reference, ref_columns } => {
            fields.push(("kind", str_literal("foreign_key")));
            fields.push(("columns", str_tuple(columns)));
            fields.push(("reference", str_literal(&reference)));
            fields.push(("ref_columns", str_tuple(ref_columns)));
        }
    }
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("        \"{k}\": {v},\n")).collect();
    Some(format!("    {{\n{}    }},\n", body.concat()))
}

/// The ids of the rules the module leaves to the post-load suite.
pub(super) fn skipped(contract: &Contract) -> Vec<&str> {
    contract.rules.iter().filter(|r| !applies(r) && !is_batch_aggregate(r)).map(|r| r.id.as_str()).collect()
}

/// A pre-load aggregate rule: `split` computes it over the whole batch and reports it in its
/// metrics; no row is quarantined for it.
fn is_batch_aggregate(rule: &Rule) -> bool {
    rule.stage == Stage::PreLoad && matches!(rule.kind, RuleKind::Aggregate { .. })
}

/// The dict literals of the `AGGREGATES` tuple: each pre-load aggregate rule with its value and
/// its failing condition in Spark SQL.
pub(super) fn aggregate_entries(contract: &Contract) -> Vec<String> {
    contract
        .rules
        .iter()
        .filter(|r| is_batch_aggregate(r))
        .filter_map(|rule| {
            let (value, fails) = crate::sql::aggregate(&Spark, contract, rule)?;
            let fields = [
                ("rule_id", str_literal(&rule.id)),
                ("severity", str_literal(rule.severity.as_str())),
                ("description", str_literal(&reason(contract, rule))),
                ("value", str_literal(&value)),
                ("fails", str_literal(&fails)),
            ];
            let body: Vec<String> = fields.iter().map(|(k, v)| format!("        \"{k}\": {v},\n")).collect();
            Some(format!("    {{\n{}    }},\n", body.concat()))
        })
        .collect()
}

/// The tables `split` needs as references (pre-load foreign keys), in rule order, once each.
pub(super) fn references(project: &Project, contract: &Contract) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rule in contract.rules.iter().filter(|r| applies(r)) {
        if let Some(Shape::ForeignKey { reference, .. }) = shape(project, contract, rule) {
            if !out.iter().any(|r| r.eq_ignore_ascii_case(&reference)) {
                out.push(reference);
            }
        }
    }
    out
}
