//! Plain-English statements of rules, for quarantine reasons, reports and docs.

use dqc_ir::{AnomalyMethod, Bound, Contract, Measure, Operand, Rule, RuleKind, Value};

fn value(v: &Value) -> String {
    match v {
        Value::Number(n) => n.clone(),
        Value::String(s) => format!("'{s}'"),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.clone(),
        Value::Timestamp(t) => t.clone(),
        Value::Null => "null".to_string(),
    }
}

fn bounds(subject: &str, min: &Option<Bound>, max: &Option<Bound>) -> String {
    let lo =
        min.as_ref().map(|b| format!("{} {}", if b.inclusive { "at least" } else { "greater than" }, value(&b.value)));
    let hi = max.as_ref().map(|b| format!("{} {}", if b.inclusive { "at most" } else { "less than" }, value(&b.value)));
    match (lo, hi) {
        (Some(l), Some(h)) => format!("{subject} must be {l} and {h}"),
        (Some(x), None) | (None, Some(x)) => format!("{subject} must be {x}"),
        (None, None) => format!("{subject} is unconstrained"),
    }
}

fn duration(seconds: u64) -> String {
    for (unit, size) in [("day", 86_400), ("hour", 3_600), ("minute", 60)] {
        if seconds.is_multiple_of(size) {
            let n = seconds / size;
            return format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        }
    }
    format!("{seconds} seconds")
}

/// A sentence stating what the rule requires.
pub fn rule(_contract: &Contract, r: &Rule) -> String {
    let mut text = match &r.kind {
        RuleKind::NotNull { column } => format!("{column} must not be null"),
        RuleKind::Unique { columns, .. } => format!("({}) must be unique", columns.join(", ")),
        RuleKind::AllowedValues { column, values } => {
            let vs: Vec<String> = values.iter().map(value).collect();
            format!("{column} must be one of {}", vs.join(", "))
        }
        RuleKind::Range { column, measure: Measure::Value, min, max } => bounds(column, min, max),
        RuleKind::Range { column, measure: Measure::Length, min, max } => {
            bounds(&format!("length of {column}"), min, max)
        }
        RuleKind::Compare { column, op, right } => {
            let rhs = match right {
                Operand::Column { name } => name.clone(),
                Operand::Value { value: v } => value(v),
            };
            format!("{column} must be {} {rhs}", op.as_sql())
        }
        RuleKind::Regex { column, pattern } => format!("{column} must match /{pattern}/"),
        RuleKind::ForeignKey { columns, table, ref_columns } => {
            format!("({}) must exist in {} ({})", columns.join(", "), table.qualified(), ref_columns.join(", "))
        }
        RuleKind::Freshness { column, max_age_seconds } => {
            format!("the newest {column} must be at most {} old", duration(*max_age_seconds))
        }
        RuleKind::RowCount { min, max } => bounds("the row count", min, max),
        RuleKind::Aggregate { function, column, min, max } => {
            bounds(&format!("{}({column})", function.as_str()), min, max)
        }
        RuleKind::RowCountAnomaly { method, window_days } => match method {
            AnomalyMethod::PercentOfMean { percent } => {
                format!("the row count must stay within {percent}% of its {window_days}-day average")
            }
            AnomalyMethod::StdDevs { k } => {
                format!("the row count must stay within {k} standard deviations of its {window_days}-day average")
            }
        },
        RuleKind::Check { expr } => format!("{} must hold", dqc_seed::printer::expr_text(expr)),
    };
    if r.filter.is_some() {
        text.push_str(" (where the rule's filter holds)");
    }
    if let Some(p) = &r.min_pass_percent {
        text.push_str(&format!(", for at least {p}% of rows"));
    }
    text
}
