//! Row-level violation predicates: SQL conditions that are TRUE exactly when a row violates a
//! rule, and never NULL.
//!
//! The null semantics, shared by every backend: a row violates a rule only when the rule is
//! decidably false for it. NULL counts only against not-null rules. NaN satisfies no range or
//! comparison (engines disagree on how NaN orders, so it is excluded explicitly). A `where`
//! filter that is NULL leaves the row unchecked.

use dqc_ir::{Bound, Contract, Measure, Operand, Rule, RuleKind, Type};

use super::dialect::Dialect;
use super::expr::{cmp, expr, value_for};

fn is_float(t: &Type) -> bool {
    matches!(t, Type::Float | Type::Double)
}

fn column_type<'a>(c: &'a Contract, name: &str) -> Option<&'a Type> {
    c.column(name).map(|col| &col.ty)
}

/// `lo <= x <= hi` with the bounds' inclusivity, or `None` when unbounded on both sides.
fn within(subject: &str, min: &Option<Bound>, max: &Option<Bound>, d: &dyn Dialect, ty: &Type) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(b) = min {
        parts.push(format!("{subject} {} {}", if b.inclusive { ">=" } else { ">" }, value_for(d, &b.value, ty)));
    }
    if let Some(b) = max {
        parts.push(format!("{subject} {} {}", if b.inclusive { "<=" } else { "<" }, value_for(d, &b.value, ty)));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// The condition under which a row violates a row-level rule, ignoring its filter; `None`
/// for rules that are not row-level.
pub fn violation(d: &dyn Dialect, contract: &Contract, rule: &Rule) -> Option<String> {
    let q = |name: &str| d.quote_ident(name);
    Some(match &rule.kind {
        RuleKind::NotNull { column } => format!("{} IS NULL", q(column)),
        RuleKind::AllowedValues { column, values } => {
            let ty = column_type(contract, column)?;
            let list: Vec<String> = values.iter().map(|v| value_for(d, v, ty)).collect();
            let nan = if is_float(ty) { format!("{} OR ", d.is_nan(&q(column))) } else { String::new() };
            format!("{c} IS NOT NULL AND ({nan}{c} NOT IN ({}))", list.join(", "), c = q(column))
        }
        RuleKind::Range { column, measure, min, max } => {
            let ty = column_type(contract, column)?;
            let (subject, subject_ty) = match measure {
                Measure::Value => (q(column), ty.clone()),
                Measure::Length => (d.char_length(&q(column)), Type::Bigint),
            };
            let inside = within(&subject, min, max, d, &subject_ty)?;
            let nan = if is_float(&subject_ty) { format!("{} OR ", d.is_nan(&q(column))) } else { String::new() };
            format!("{} IS NOT NULL AND ({nan}NOT ({inside}))", q(column))
        }
        RuleKind::Compare { column, op, right } => {
            let ty = column_type(contract, column)?;
            match right {
                Operand::Value { value } => {
                    let nan = if is_float(ty) { format!("{} OR ", d.is_nan(&q(column))) } else { String::new() };
                    format!(
                        "{c} IS NOT NULL AND ({nan}NOT ({c} {} {}))",
                        cmp(*op),
                        value_for(d, value, ty),
                        c = q(column)
                    )
                }
                Operand::Column { name } => {
                    let other = column_type(contract, name)?;
                    let mut nan = Vec::new();
                    if is_float(ty) {
                        nan.push(d.is_nan(&q(column)));
                    }
                    if is_float(other) {
                        nan.push(d.is_nan(&q(name)));
                    }
                    nan.push(format!("NOT ({} {} {})", q(column), cmp(*op), q(name)));
                    format!("{} IS NOT NULL AND {} IS NOT NULL AND ({})", q(column), q(name), nan.join(" OR "))
                }
            }
        }
        RuleKind::Regex { column, pattern } => {
            format!("{} IS NOT NULL AND NOT {}", q(column), d.regex_contains(&q(column), pattern))
        }
        // A row whose check is undecided because an integer operation overflowed is flagged:
        // the overflow is the finding (on every engine; none fails the whole query over it).
        RuleKind::Check { expr: e } => {
            let cond = expr(d, e);
            match super::expr::overflows(d, e).as_slice() {
                [] => format!("NOT COALESCE({cond}, TRUE)"),
                flags => format!("(NOT COALESCE({cond}, TRUE) OR ({cond} IS NULL AND ({})))", flags.join(" OR ")),
            }
        }
        _ => return None,
    })
}

/// The condition that selects the rows a rule checks: its filter, NULL counting as false.
pub fn checked(d: &dyn Dialect, rule: &Rule) -> Option<String> {
    rule.filter.as_ref().map(|f| format!("COALESCE({}, FALSE)", expr(d, f)))
}

/// The full per-row condition: checked and violating.
pub fn violating_row(d: &dyn Dialect, contract: &Contract, rule: &Rule) -> Option<String> {
    let v = violation(d, contract, rule)?;
    Some(match checked(d, rule) {
        Some(f) => format!("{f} AND ({v})"),
        None => v,
    })
}
