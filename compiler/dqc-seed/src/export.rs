//! Export: a checked project in the seed's shape, one `{data_quality, tests}` object per
//! contract, extended so that importing it gives back the same contract.
//!
//! JSON objects here have sorted keys (serde_json's map is ordered by key), so the column
//! declaration order, which the content hash depends on, travels in `column_order`.

use dqc_ir::{
    AnomalyMethod, Bound, Column, Contract, KeepPolicy, Measure, Operand, Project, Rule, RuleKind, Sla, Value,
};
use serde_json::{json, Map, Value as Json};

use crate::printer;
use crate::types::glue_type;
use crate::values::number_json;

/// See [`crate::export`].
pub(crate) fn export(project: &Project) -> Json {
    Json::Array(project.contracts.iter().map(contract).collect())
}

fn contract(c: &Contract) -> Json {
    json!({ "data_quality": data_quality(c), "tests": tests(c) })
}

fn data_quality(c: &Contract) -> Json {
    let mut dq = Map::new();
    dq.insert("table_name".into(), c.table.table.clone().into());
    let optional = [
        ("database", &c.table.database),
        ("owner", &c.owner),
        ("description", &c.description),
        ("layer", &c.layer),
        ("location", &c.location),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            dq.insert(key.into(), v.clone().into());
        }
    }
    if !c.partitions.is_empty() {
        dq.insert("partitioned_by".into(), c.partitions.clone().into());
    }
    if !c.grain.is_empty() {
        dq.insert("primary_key".into(), c.grain.clone().into());
    }
    if let Some(sla) = &c.sla {
        dq.insert("freshness".into(), freshness(sla));
    }
    let columns: Map<String, Json> = c.columns.iter().map(|col| (col.name.clone(), column(col, c))).collect();
    dq.insert("columns".into(), Json::Object(columns));
    let order: Vec<Json> = c.columns.iter().map(|col| col.name.clone().into()).collect();
    dq.insert("column_order".into(), Json::Array(order));
    let table: Vec<Json> =
        c.rules.iter().filter(|r| !r.implicit && column_of(r, c).is_none()).map(|r| rule(r, c)).collect();
    dq.insert("table_level_checks".into(), Json::Array(table));
    Json::Object(dq)
}

/// The seed's `freshness`: frequency, and the deadline as an hour and as `HH:MM`.
fn freshness(sla: &Sla) -> Json {
    let mut out = Map::new();
    out.insert("frequency".into(), sla.frequency.as_str().into());
    if let Some(by) = &sla.by_utc {
        let hour = by.split(':').next().and_then(|h| h.parse::<u32>().ok());
        if let Some(h) = hour {
            out.insert("sla_hour_utc".into(), h.into());
        }
        out.insert("sla_time_utc".into(), by.clone().into());
    }
    Json::Object(out)
}

fn column(col: &Column, c: &Contract) -> Json {
    let mut out = Map::new();
    out.insert("type".into(), glue_type(&col.ty).into());
    out.insert("nullable".into(), col.nullable.into());
    out.insert("pii".into(), col.pii.into());
    if let Some(d) = &col.description {
        out.insert("description".into(), d.clone().into());
    }
    let rules: Vec<Json> = c
        .rules
        .iter()
        .filter(|r| !r.implicit && column_of(r, c) == Some(col.name.as_str()))
        .map(|r| rule(r, c))
        .collect();
    out.insert("rules".into(), Json::Array(rules));
    Json::Object(out)
}

/// The column a rule is listed under: rules about one column's values; `None` for
/// table-level rules. A uniqueness rule over the grain is the table's `grain_uniqueness`.
fn column_of<'r>(r: &'r Rule, c: &Contract) -> Option<&'r str> {
    match &r.kind {
        RuleKind::NotNull { column }
        | RuleKind::AllowedValues { column, .. }
        | RuleKind::Range { column, .. }
        | RuleKind::Compare { column, .. }
        | RuleKind::Regex { column, .. } => Some(column),
        RuleKind::Unique { columns, .. } if *columns != c.grain => single(columns),
        RuleKind::ForeignKey { columns, ref_columns, .. } if ref_columns.len() == 1 => single(columns),
        _ => None,
    }
}

fn single(columns: &[String]) -> Option<&str> {
    match columns {
        [one] => Some(one),
        _ => None,
    }
}

/// A rule object: its kind's fields plus id, severity and the modifiers that are set.
fn rule(r: &Rule, c: &Contract) -> Json {
    let mut out = Map::new();
    let on_column = column_of(r, c).is_some();
    kind_fields(&r.kind, on_column, &c.grain, &mut out);
    out.insert("id".into(), r.id.clone().into());
    out.insert("severity".into(), r.severity.as_str().into());
    if !r.stage_inferred {
        out.insert("stage".into(), r.stage.as_str().into());
    }
    if let Some(f) = &r.filter {
        out.insert("where".into(), printer::expr_text(f).into());
    }
    if let Some(p) = &r.min_pass_percent {
        out.insert("min_pass_percent".into(), number_json(p));
    }
    if let Some(b) = &r.because {
        out.insert("because".into(), b.clone().into());
    }
    Json::Object(out)
}

fn kind_fields(kind: &RuleKind, on_column: bool, grain: &[String], out: &mut Map<String, Json>) {
    let mut put = |key: &str, value: Json| {
        out.insert(key.to_string(), value);
    };
    match kind {
        RuleKind::NotNull { .. } => put("type", "not_null".into()),
        RuleKind::Unique { columns, keep } => {
            match (on_column, columns == grain) {
                (true, _) => put("type", "unique".into()),
                (false, true) => {
                    put("type", "grain_uniqueness".into());
                    put("grain", columns.clone().into());
                }
                (false, false) => {
                    put("type", "unique".into());
                    put("columns", columns.clone().into());
                }
            }
            if let Some(k) = keep {
                put("keep", keep_json(k));
            }
        }
        RuleKind::AllowedValues { values, .. } => {
            put("type", "allowed_values".into());
            put("values", values.iter().map(value_json).collect());
        }
        RuleKind::Range { measure, min, max, .. } => {
            put("type", if *measure == Measure::Length { "length" } else { "range" }.into());
            bounds(min.as_ref(), max.as_ref(), &mut put);
        }
        RuleKind::Compare { op, right, .. } => {
            put("type", "compare".into());
            put("op", printer::cmp_text(*op).into());
            match right {
                Operand::Column { name } => put("column", name.clone().into()),
                Operand::Value { value } => put("value", value_json(value)),
            }
        }
        RuleKind::Regex { pattern, .. } => {
            put("type", "regex".into());
            put("pattern", pattern.clone().into());
        }
        RuleKind::ForeignKey { columns, table, ref_columns } => {
            put("type", "foreign_key".into());
            put("ref_table", table.qualified().into());
            match (on_column, ref_columns.as_slice()) {
                (true, [one]) => put("ref_column", one.clone().into()),
                _ => {
                    put("columns", columns.clone().into());
                    put("ref_columns", ref_columns.clone().into());
                }
            }
        }
        RuleKind::Freshness { column, max_age_seconds } => {
            put("type", "freshness".into());
            put("column", column.clone().into());
            put("max_age", printer::duration_text(*max_age_seconds).into());
        }
        RuleKind::RowCount { min, max } => {
            put("type", "row_count".into());
            bounds(min.as_ref(), max.as_ref(), &mut put);
        }
        RuleKind::Aggregate { function, column, min, max } => {
            put("type", "aggregate".into());
            put("function", function.as_str().into());
            put("column", column.clone().into());
            bounds(min.as_ref(), max.as_ref(), &mut put);
        }
        RuleKind::RowCountAnomaly { method, window_days } => {
            put("type", "row_count_anomaly".into());
            match method {
                AnomalyMethod::PercentOfMean { percent } => {
                    put("method", "percent_of_mean".into());
                    put("percent", number_json(percent));
                }
                AnomalyMethod::StdDevs { k } => {
                    put("method", "std_devs".into());
                    put("k", number_json(k));
                }
            }
            put("window_days", (*window_days).into());
            put("rule", anomaly_prose(method, *window_days).into());
        }
        RuleKind::Check { expr } => {
            put("type", "check".into());
            put("expression", printer::expr_text(expr).into());
        }
    }
}

/// `min`, `max`, and `min_exclusive` / `max_exclusive` only when exclusive.
fn bounds(min: Option<&Bound>, max: Option<&Bound>, put: &mut impl FnMut(&str, Json)) {
    for (key, bound) in [("min", min), ("max", max)] {
        if let Some(b) = bound {
            put(key, value_json(&b.value));
            if !b.inclusive {
                put(&format!("{key}_exclusive"), true.into());
            }
        }
    }
}

fn keep_json(k: &KeepPolicy) -> Json {
    json!({ "order_by": k.order_by, "descending": k.descending })
}

/// A value as JSON: dates and timestamps as strings (the column type says which they are).
fn value_json(v: &Value) -> Json {
    match v {
        Value::Number(n) => number_json(n),
        Value::String(s) | Value::Date(s) | Value::Timestamp(s) => s.clone().into(),
        Value::Bool(b) => (*b).into(),
        Value::Null => Json::Null,
    }
}

fn anomaly_prose(method: &AnomalyMethod, window_days: u32) -> String {
    let band = match method {
        AnomalyMethod::PercentOfMean { percent } => format!("{percent}%"),
        AnomalyMethod::StdDevs { k } => format!("{k} standard deviations"),
    };
    format!("Row count should not deviate by more than {band} from a {window_days}-day rolling average.")
}

/// One test per rule, implicit ones included: per column its not-null and value rules, then
/// the table-level rules, matching the order of `data_quality`.
fn tests(c: &Contract) -> Json {
    let mut ordered: Vec<&Rule> = Vec::new();
    for col in &c.columns {
        let implicit = c
            .rules
            .iter()
            .filter(|r| r.implicit && matches!(&r.kind, RuleKind::NotNull { column } if *column == col.name));
        ordered.extend(implicit);
        ordered.extend(c.rules.iter().filter(|r| !r.implicit && column_of(r, c) == Some(col.name.as_str())));
    }
    let rest: Vec<&Rule> = c.rules.iter().filter(|r| !ordered.iter().any(|o| std::ptr::eq(*o, *r))).collect();
    ordered.extend(rest);
    Json::Array(ordered.into_iter().map(test).collect())
}

fn test(r: &Rule) -> Json {
    json!({
        "name": r.id,
        "rule_id": r.id,
        "description": describe(r),
        "stage": r.stage.as_str(),
        "severity": r.severity.as_str(),
        "rule": printer::rule_text(r),
    })
}

/// An English sentence saying what the rule requires.
fn describe(r: &Rule) -> String {
    let mut text = requirement(&r.kind);
    if let Some(f) = &r.filter {
        text.push_str(&format!(" (only rows where {})", printer::expr_text(f)));
    }
    text.push('.');
    if let Some(p) = &r.min_pass_percent {
        text.push_str(&format!(" At least {p}% of rows must pass."));
    }
    text
}

fn requirement(kind: &RuleKind) -> String {
    match kind {
        RuleKind::NotNull { column } => format!("{column} must not be null"),
        RuleKind::Unique { columns, .. } => match columns.as_slice() {
            [one] => format!("{one} must be unique"),
            many => format!("No two rows may share ({})", many.join(", ")),
        },
        RuleKind::AllowedValues { column, values } => {
            let values: Vec<String> = values.iter().map(printer::value_text).collect();
            format!("{column} must be one of {}", values.join(", "))
        }
        RuleKind::Range { column, measure, min, max } => {
            let subject = match measure {
                Measure::Value => column.clone(),
                Measure::Length => format!("The length of {column}"),
            };
            format!("{subject} must be {}", bounds_prose(min.as_ref(), max.as_ref()))
        }
        RuleKind::Compare { column, op, right } => {
            let right = match right {
                Operand::Column { name } => name.clone(),
                Operand::Value { value } => printer::value_text(value),
            };
            format!("{column} must be {} {right}", op_prose(*op))
        }
        RuleKind::Regex { column, pattern } => format!("{column} must match the pattern {pattern}"),
        RuleKind::ForeignKey { columns, table, ref_columns } => match (columns.as_slice(), ref_columns.as_slice()) {
            ([c], [rc]) => format!("Every {c} must exist in {}.{rc}", table.qualified()),
            _ => format!(
                "Every ({}) must exist in {} ({})",
                columns.join(", "),
                table.qualified(),
                ref_columns.join(", ")
            ),
        },
        RuleKind::Freshness { column, max_age_seconds } => {
            format!("The newest {column} must be at most {} old", printer::duration_text(*max_age_seconds))
        }
        RuleKind::RowCount { min, max } => {
            format!("The row count must be {}", bounds_prose(min.as_ref(), max.as_ref()))
        }
        RuleKind::Aggregate { function, column, min, max } => {
            format!(
                "The {} of {column} must be {}",
                aggregate_prose(*function),
                bounds_prose(min.as_ref(), max.as_ref())
            )
        }
        RuleKind::RowCountAnomaly { method, window_days } => {
            let prose = anomaly_prose(method, *window_days);
            prose.trim_end_matches('.').to_string()
        }
        RuleKind::Check { expr } => format!("Every row must satisfy {}", printer::expr_text(expr)),
    }
}

fn bounds_prose(min: Option<&Bound>, max: Option<&Bound>) -> String {
    let lo = min.map(|b| {
        format!("{} {}", if b.inclusive { "at least" } else { "greater than" }, printer::value_text(&b.value))
    });
    let hi =
        max.map(|b| format!("{} {}", if b.inclusive { "at most" } else { "less than" }, printer::value_text(&b.value)));
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!("{lo} and {hi}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => "anything".to_string(),
    }
}

fn op_prose(op: dqc_ir::CmpOp) -> &'static str {
    match op {
        dqc_ir::CmpOp::Eq => "equal to",
        dqc_ir::CmpOp::Ne => "different from",
        dqc_ir::CmpOp::Lt => "less than",
        dqc_ir::CmpOp::Le => "at most",
        dqc_ir::CmpOp::Gt => "greater than",
        dqc_ir::CmpOp::Ge => "at least",
    }
}

/// An aggregate in words.
pub(crate) fn aggregate_prose(f: dqc_ir::Aggregate) -> &'static str {
    match f {
        dqc_ir::Aggregate::Min => "smallest value",
        dqc_ir::Aggregate::Max => "largest value",
        dqc_ir::Aggregate::Mean => "mean",
        dqc_ir::Aggregate::Sum => "sum",
        dqc_ir::Aggregate::Stddev => "standard deviation",
        dqc_ir::Aggregate::DistinctCount => "number of distinct values",
        dqc_ir::Aggregate::DistinctRatio => "ratio of distinct values to values",
        dqc_ir::Aggregate::NullRatio => "ratio of NULLs to rows",
    }
}
