//! Lowering of rules: resolving columns, typing literals, choosing ids, severities and stages.

use dqc_diagnostics::{did_you_mean, Code, Diagnostic, Span};
use dqc_ir::{
    Aggregate, AnomalyMethod, Bound, Column, KeepPolicy, Measure, Operand, Rule, RuleKind, Severity, Stage, Value,
};
use dqc_syntax::ast::{self, AnomalyBand, CmpOp, Literal, Modifier, RuleBody, Subject};

use crate::expr::{check_condition, cmp_op};
use crate::literal::{check_value_for_type, lower_literal, number_value};
use crate::project::TableIndex;
use crate::regex::check_pattern;
use crate::scope::Scope;

/// What rule lowering needs to know about its surroundings.
#[derive(Debug)]
pub struct RuleCtx<'a> {
    /// Columns of the contract.
    pub scope: Scope<'a>,
    /// Every contract of the project, for foreign keys.
    pub index: &'a TableIndex<'a>,
    /// The source text of the file, for spans inside string literals.
    pub source: &'a str,
}

/// A lowered rule, with the span of its target table when it is a foreign key.
#[derive(Debug)]
pub struct LoweredRule {
    /// The rule.
    pub rule: Rule,
    /// For foreign keys: the index of the referenced contract and the span of its name.
    pub reference: Option<(usize, Span)>,
}

/// Lowers one rule, reporting every problem found.
pub fn lower_rule(r: &ast::Rule, ctx: &RuleCtx<'_>, diags: &mut Vec<Diagnostic>) -> Option<LoweredRule> {
    let before = diags.len();
    let mut reference = None;
    let kind = lower_body(&r.body, ctx, &mut reference, diags);
    let mods = lower_modifiers(&r.modifiers, ctx, diags);
    let kind = kind?;
    let mods = mods?;
    if diags[before..].iter().any(Diagnostic::is_error) {
        return None;
    }
    let stage_inferred = mods.stage.is_none();
    let stage =
        mods.stage.map(|(s, _)| s).unwrap_or(if kind.is_row_level() { Stage::PreLoad } else { Stage::PostLoad });
    if let Some((Stage::PreLoad, span)) = mods.stage {
        if matches!(kind, RuleKind::Freshness { .. } | RuleKind::RowCount { .. } | RuleKind::RowCountAnomaly { .. }) {
            diags.push(
                Diagnostic::new(
                    Code::CannotRunPreLoad,
                    format!("{} rule cannot run pre-load", article(&kind.type_name().replace('_', " "))),
                    span,
                )
                .with_primary_label("needs the whole table after the load")
                .with_label(r.span, "this rule")
                .with_help("remove `stage pre_load`; table-level rules run post-load"),
            );
            return None;
        }
    }
    if let Some((_, span)) = &mods.min_pass_percent {
        // A key's ratio (uniqueness, referential integrity) is judged on the table, post-load.
        let keyed = matches!(kind, RuleKind::Unique { .. } | RuleKind::ForeignKey { .. });
        if keyed && matches!(mods.stage, Some((Stage::PreLoad, _))) {
            diags.push(
                Diagnostic::new(
                    Code::ModifierNotApplicable,
                    format!("`at least` on {} rule is judged post-load", article(&kind.type_name().replace('_', " "))),
                    *span,
                )
                .with_primary_label("a pre-load batch is not the table")
                .with_help("remove `stage pre_load`, or `at least` to quarantine every violating row"),
            );
            return None;
        }
        if !kind.is_row_level() && !keyed {
            diags.push(
                Diagnostic::new(
                    Code::ModifierNotApplicable,
                    format!("`at least` does not apply to {} rule", article(&kind.type_name().replace('_', " "))),
                    *span,
                )
                .with_primary_label("only row-level, uniqueness and foreign-key rules have a pass ratio"),
            );
            return None;
        }
    }
    if let (RuleKind::RowCountAnomaly { .. }, Some(f)) = (&kind, &mods.filter) {
        diags.push(
            Diagnostic::new(
                Code::ModifierNotApplicable,
                "`where` does not apply to a row count anomaly rule",
                f.span.unwrap_or(r.span),
            )
            .with_primary_label("the anomaly is measured on the whole table"),
        );
        return None;
    }
    // `at least N% of non-null` counts only rows whose value is present: exactly a filter on
    // the subject being not NULL (a NULL value never violates these rules), joined to any
    // `where` filter, so every backend gives it the same meaning with nothing new to emit.
    let mut filter = mods.filter;
    if mods.of_non_null {
        let subject = match &kind {
            RuleKind::Range { column, .. }
            | RuleKind::AllowedValues { column, .. }
            | RuleKind::Regex { column, .. }
            | RuleKind::Compare { column, .. } => Some(column.clone()),
            _ => None,
        };
        let Some(column) = subject else {
            let span = mods.min_pass_percent.as_ref().map_or(r.span, |(_, s)| *s);
            diags.push(
                Diagnostic::new(
                    Code::ModifierNotApplicable,
                    format!("`of non-null` does not apply to {} rule", article(&kind.type_name().replace('_', " "))),
                    span,
                )
                .with_primary_label("needs a rule on one column's values")
                .with_help("write a `where` filter to choose the rows the ratio counts"),
            );
            return None;
        };
        let ty = ctx.scope.columns.iter().find(|c| c.name == column).map(|c| c.ty.clone());
        let present = dqc_ir::Expr {
            kind: dqc_ir::ExprKind::IsNull {
                operand: Box::new(dqc_ir::Expr { kind: dqc_ir::ExprKind::Column { name: column }, ty, span: None }),
                negated: true,
            },
            ty: Some(dqc_ir::Type::Boolean),
            span: None,
        };
        filter = Some(match filter {
            Some(f) => dqc_ir::Expr {
                kind: dqc_ir::ExprKind::Binary {
                    op: dqc_ir::BinaryOp::And,
                    left: Box::new(f),
                    right: Box::new(present),
                },
                ty: Some(dqc_ir::Type::Boolean),
                span: None,
            },
            None => present,
        });
    }
    let id = match &r.id {
        Some(id) => id.name.clone(),
        None => derive_id(&kind),
    };
    let rule = Rule {
        id,
        kind,
        severity: mods.severity.unwrap_or(Severity::Error),
        stage,
        stage_inferred,
        filter,
        min_pass_percent: mods.min_pass_percent.map(|(p, _)| p),
        because: mods.because,
        implicit: false,
        span: Some(r.span),
    };
    Some(LoweredRule { rule, reference })
}

#[derive(Default)]
struct Mods {
    filter: Option<dqc_ir::Expr>,
    severity: Option<Severity>,
    stage: Option<(Stage, Span)>,
    min_pass_percent: Option<(String, Span)>,
    /// `of non-null`: the pass ratio counts only rows whose subject is not NULL.
    of_non_null: bool,
    because: Option<String>,
}

fn lower_modifiers(mods: &[Modifier], ctx: &RuleCtx<'_>, diags: &mut Vec<Diagnostic>) -> Option<Mods> {
    let mut out = Mods::default();
    let mut seen: Vec<(&'static str, Span)> = Vec::new();
    let mut ok = true;
    for m in mods {
        let word = match m {
            Modifier::Where(..) => "where",
            Modifier::Severity(..) => "severity",
            Modifier::Stage(..) => "stage",
            Modifier::AtLeast(..) => "at least",
            Modifier::Because(..) => "because",
        };
        if let Some((_, first)) = seen.iter().find(|(w, _)| *w == word) {
            diags.push(
                Diagnostic::new(Code::DuplicateProperty, format!("`{word}` is given twice for this rule"), m.span())
                    .with_label(*first, "first given here"),
            );
            ok = false;
            continue;
        }
        seen.push((word, m.span()));
        match m {
            Modifier::Where(e, _) => match check_condition(e, &ctx.scope, "a `where` filter", diags) {
                Some(f) => out.filter = Some(f),
                None => ok = false,
            },
            Modifier::Severity(w, _) => {
                match keyword(w, &[("error", 0), ("warn", 1), ("warning", 1)], "severity", diags) {
                    Some(0) => out.severity = Some(Severity::Error),
                    Some(_) => out.severity = Some(Severity::Warn),
                    None => ok = false,
                }
            }
            Modifier::Stage(w, span) => match keyword(w, &[("pre_load", 0), ("post_load", 1)], "stage", diags) {
                Some(0) => out.stage = Some((Stage::PreLoad, *span)),
                Some(_) => out.stage = Some((Stage::PostLoad, *span)),
                None => ok = false,
            },
            Modifier::AtLeast(lit, non_null, span) => match percentage(lit, diags) {
                Some(p) => {
                    out.min_pass_percent = Some((p, *span));
                    out.of_non_null = *non_null;
                }
                None => ok = false,
            },
            Modifier::Because(s, _) => out.because = Some(s.value.clone()),
        }
    }
    ok.then_some(out)
}

/// Matches a keyword-like word against its allowed spellings (E0109 otherwise).
pub fn keyword(word: &ast::Ident, allowed: &[(&str, u8)], what: &str, diags: &mut Vec<Diagnostic>) -> Option<u8> {
    let lower = word.name.to_ascii_lowercase();
    if let Some((_, v)) = allowed.iter().find(|(w, _)| *w == lower) {
        return Some(*v);
    }
    let names: Vec<&str> = allowed.iter().map(|(w, _)| *w).collect();
    let mut d = Diagnostic::new(Code::InvalidPropertyValue, format!("unknown {what} `{}`", word.name), word.span)
        .with_primary_label(format!("expected {}", names.join(", ")));
    if let Some(s) = did_you_mean(&word.name, names.iter().copied()) {
        d = d.with_help(format!("did you mean `{s}`?"));
    }
    diags.push(d);
    None
}

/// A percentage in (0, 100], as a canonical decimal.
fn percentage(lit: &Literal, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let Some(Value::Number(n)) = lower_literal(lit, diags) else { return None };
    let v = number_value(&n);
    if !(v > 0.0 && v <= 100.0) {
        diags.push(
            Diagnostic::new(Code::InvalidThreshold, format!("percentage `{n}%` is outside (0%, 100%]"), lit.span)
                .with_primary_label("no row set can meet this"),
        );
        return None;
    }
    Some(n)
}

fn lower_body(
    body: &RuleBody,
    ctx: &RuleCtx<'_>,
    reference: &mut Option<(usize, Span)>,
    diags: &mut Vec<Diagnostic>,
) -> Option<RuleKind> {
    let scope = &ctx.scope;
    match body {
        RuleBody::NotNull(c) => Some(RuleKind::NotNull { column: scope.resolve(c, diags)?.name.clone() }),
        RuleBody::Unique { columns, keep } => {
            let cols = resolve_all(&columns.columns, ctx, diags);
            let keep = match keep {
                Some(k) => {
                    Some(KeepPolicy { order_by: scope.resolve(&k.by, diags)?.name.clone(), descending: k.descending })
                }
                None => None,
            };
            let cols = cols?;
            for (col, ident) in cols.iter().zip(&columns.columns) {
                if col.ty.is_complex() {
                    diags.push(mismatch("unique", col, ident.span));
                    return None;
                }
            }
            Some(RuleKind::Unique { columns: cols.iter().map(|c| c.name.clone()).collect(), keep })
        }
        RuleBody::Freshness { column, within } => {
            let col = scope.resolve(column, diags);
            let secs = duration_seconds(within, &[("minute", 60), ("hour", 3600), ("day", 86400)], diags);
            let col = col?;
            if !col.ty.is_temporal() {
                diags.push(
                    mismatch("freshness", col, column.span).with_help("freshness needs a date or timestamp column"),
                );
                return None;
            }
            Some(RuleKind::Freshness { column: col.name.clone(), max_age_seconds: secs? })
        }
        RuleBody::Anomaly { band, window } => {
            let days = duration_seconds(window, &[("day", 1), ("week", 7)], diags);
            let method = match band {
                AnomalyBand::Percent(p) => percentage(p, diags).map(|percent| AnomalyMethod::PercentOfMean { percent }),
                AnomalyBand::StdDev(k) => match lower_literal(k, diags) {
                    Some(Value::Number(n)) if number_value(&n) > 0.0 => Some(AnomalyMethod::StdDevs { k: n }),
                    Some(_) => {
                        diags.push(Diagnostic::new(
                            Code::InvalidThreshold,
                            "the number of standard deviations must be positive",
                            k.span,
                        ));
                        None
                    }
                    None => None,
                },
            };
            let window_days = u32::try_from(days?).ok()?;
            Some(RuleKind::RowCountAnomaly { method: method?, window_days })
        }
        RuleBody::Check(e) => Some(RuleKind::Check { expr: check_condition(e, scope, "a check", diags)? }),
        RuleBody::ForeignKey { columns, table, ref_columns } => {
            crate::project::lower_foreign_key(&columns.columns, table, ref_columns, ctx, reference, diags)
        }
        RuleBody::Regex { subject, pattern } => {
            let col = value_subject(subject, "regex", ctx, diags)?;
            if !col.ty.is_string() {
                diags.push(mismatch("regex", col, subject.span()).with_help("regexes apply to string columns"));
                return None;
            }
            check_pattern(&pattern.value, pattern.span, Some(ctx.source), diags)
                .then(|| RuleKind::Regex { column: col.name.clone(), pattern: pattern.value.clone() })
        }
        RuleBody::Allowed { subject, values } => {
            let col = value_subject(subject, "allowed values", ctx, diags)?;
            if col.ty.is_complex() {
                diags.push(mismatch("allowed values", col, subject.span()));
                return None;
            }
            let mut out = Vec::new();
            for lit in values {
                let v = lower_literal(lit, diags)
                    .and_then(|v| check_value_for_type(v, &col.ty, &col.name, lit.span, true, diags));
                out.extend(v);
            }
            (out.len() == values.len()).then(|| RuleKind::AllowedValues { column: col.name.clone(), values: out })
        }
        RuleBody::Between { subject, low, high } => range(subject, Some((low, true)), Some((high, true)), ctx, diags),
        RuleBody::Chain { low, low_op, subject, high_op, high } => {
            range(subject, Some((low, *low_op == CmpOp::Le)), Some((high, *high_op == CmpOp::Le)), ctx, diags)
        }
        RuleBody::Compare { subject, op, rhs } => compare(subject, *op, rhs, ctx, diags),
    }
}

fn compare(
    subject: &Subject,
    op: CmpOp,
    rhs: &ast::Operand,
    ctx: &RuleCtx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<RuleKind> {
    match (rhs, op) {
        (ast::Operand::Literal(l), CmpOp::Lt | CmpOp::Le) => {
            range(subject, None, Some((l, op == CmpOp::Le)), ctx, diags)
        }
        (ast::Operand::Literal(l), CmpOp::Gt | CmpOp::Ge) => {
            range(subject, Some((l, op == CmpOp::Ge)), None, ctx, diags)
        }
        (ast::Operand::Literal(l), CmpOp::Eq) if !matches!(subject, Subject::Column(_)) => {
            range(subject, Some((l, true)), Some((l, true)), ctx, diags)
        }
        (ast::Operand::Literal(l), _) => {
            let col = value_subject(subject, "comparison", ctx, diags)?;
            if col.ty.is_complex() {
                diags.push(mismatch("comparison", col, subject.span()));
                return None;
            }
            // `=` and `!=` compare with one exact value, so it must be a possible value of the column.
            let v = lower_literal(l, diags)
                .and_then(|v| check_value_for_type(v, &col.ty, &col.name, l.span, true, diags))?;
            Some(RuleKind::Compare { column: col.name.clone(), op: cmp_op(op), right: Operand::Value { value: v } })
        }
        (ast::Operand::Column(other), _) => {
            let left = value_subject(subject, "comparison", ctx, diags);
            let right = ctx.scope.resolve(other, diags);
            let (left, right) = (left?, right?);
            if !left.ty.comparable_with(&right.ty) || left.ty.is_complex() {
                diags.push(
                    Diagnostic::new(
                        Code::RuleTypeMismatch,
                        format!("cannot compare `{}` ({}) with `{}` ({})", left.name, left.ty, right.name, right.ty),
                        subject.span().to(other.span),
                    )
                    .with_label(subject.span(), format!("`{}`", left.ty))
                    .with_label(other.span, format!("`{}`", right.ty)),
                );
                return None;
            }
            Some(RuleKind::Compare {
                column: left.name.clone(),
                op: cmp_op(op),
                right: Operand::Column { name: right.name.clone() },
            })
        }
    }
}

/// A range rule on a value, a length or the row count.
fn range(
    subject: &Subject,
    low: Option<(&Literal, bool)>,
    high: Option<(&Literal, bool)>,
    ctx: &RuleCtx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<RuleKind> {
    let counted = |lit: &Literal, what: &str, diags: &mut Vec<Diagnostic>| -> Option<Value> {
        match lower_literal(lit, diags)? {
            Value::Number(n) if !n.starts_with('-') && !n.contains('.') => Some(Value::Number(n)),
            other => {
                diags.push(
                    Diagnostic::new(
                        Code::LiteralTypeMismatch,
                        format!("{what} bounds are whole numbers >= 0"),
                        lit.span,
                    )
                    .with_primary_label(format!("found {}", crate::literal::value_kind(&other))),
                );
                None
            }
        }
    };
    let bound = |b: Option<(&Literal, bool)>, diags: &mut Vec<Diagnostic>| -> Option<Option<Bound>> {
        let Some((lit, inclusive)) = b else { return Some(None) };
        let value = match subject {
            Subject::RowCount(_) => counted(lit, "row count", diags)?,
            Subject::Length(..) => counted(lit, "length", diags)?,
            Subject::Aggregate { function, column, .. } => {
                let col = ctx.scope.find(&column.name)?;
                aggregate_bound(Aggregate::parse(function)?, col, lit, diags)?
            }
            Subject::Column(id) => {
                let col = ctx.scope.find(&id.name)?;
                let v = lower_literal(lit, diags)?;
                check_value_for_type(v, &col.ty, &col.name, lit.span, false, diags)?
            }
        };
        Some(Some(Bound { value, inclusive }))
    };
    match subject {
        Subject::RowCount(_) => {
            let (min, max) = (bound(low, diags), bound(high, diags));
            Some(RuleKind::RowCount { min: min?, max: max? })
        }
        Subject::Aggregate { function, column, span } => {
            let col = ctx.scope.resolve(column, diags)?;
            let Some(f) = Aggregate::parse(function) else {
                diags.push(Diagnostic::new(Code::RuleTypeMismatch, format!("unknown aggregate `{function}`"), *span));
                return None;
            };
            let fits = match f {
                Aggregate::Min | Aggregate::Max => col.ty.is_numeric() || col.ty.is_temporal(),
                Aggregate::Mean | Aggregate::Sum | Aggregate::Stddev => col.ty.is_numeric(),
                Aggregate::DistinctCount | Aggregate::DistinctRatio => !col.ty.is_complex(),
                Aggregate::NullRatio => true,
            };
            if !fits {
                let help = match f {
                    Aggregate::Min | Aggregate::Max => "min and max apply to numbers, dates and timestamps",
                    Aggregate::Mean | Aggregate::Sum | Aggregate::Stddev => "mean, sum and stddev apply to numbers",
                    _ => "distinct counts apply to columns of scalar values",
                };
                diags.push(mismatch(f.as_str(), col, column.span).with_help(help));
                return None;
            }
            let (min, max) = (bound(low, diags), bound(high, diags));
            Some(RuleKind::Aggregate { function: f, column: col.name.clone(), min: min?, max: max? })
        }
        Subject::Length(id, span) => {
            let col = ctx.scope.resolve(id, diags)?;
            if !col.ty.is_string() {
                diags.push(mismatch("length", col, *span).with_help("length bounds apply to string columns"));
                return None;
            }
            let (min, max) = (bound(low, diags), bound(high, diags));
            Some(RuleKind::Range { column: col.name.clone(), measure: Measure::Length, min: min?, max: max? })
        }
        Subject::Column(id) => {
            let col = ctx.scope.resolve(id, diags)?;
            if !(col.ty.is_numeric() || col.ty.is_temporal()) {
                let help = if col.ty.is_string() {
                    "string ranges depend on collation; use `length(...)`, allowed values or a regex"
                } else {
                    "ranges apply to numbers, dates and timestamps"
                };
                diags.push(mismatch("range", col, id.span).with_help(help));
                return None;
            }
            let (min, max) = (bound(low, diags), bound(high, diags));
            Some(RuleKind::Range { column: col.name.clone(), measure: Measure::Value, min: min?, max: max? })
        }
    }
}

/// A bound of an aggregate rule: a value of the column for `min` and `max`, a number for
/// `mean`, `sum` and `stddev`, a whole number for `distinct_count`, a ratio from 0 to 1 for the
/// ratios.
fn aggregate_bound(f: Aggregate, col: &Column, lit: &Literal, diags: &mut Vec<Diagnostic>) -> Option<Value> {
    let v = lower_literal(lit, diags)?;
    let wrong = |diags: &mut Vec<Diagnostic>, what: &str, v: &Value| {
        diags.push(
            Diagnostic::new(Code::LiteralTypeMismatch, format!("{} bounds are {what}", f.as_str()), lit.span)
                .with_primary_label(format!("found {}", crate::literal::value_kind(v))),
        );
        None
    };
    match f {
        Aggregate::Min | Aggregate::Max => check_value_for_type(v, &col.ty, &col.name, lit.span, false, diags),
        Aggregate::Mean | Aggregate::Sum | Aggregate::Stddev => match &v {
            Value::Number(_) => Some(v),
            _ => wrong(diags, "numbers", &v),
        },
        Aggregate::DistinctCount => match &v {
            Value::Number(n) if !n.starts_with('-') && !n.contains('.') => Some(v),
            _ => wrong(diags, "whole numbers >= 0", &v),
        },
        Aggregate::DistinctRatio | Aggregate::NullRatio => match &v {
            Value::Number(n) if n.parse::<f64>().is_ok_and(|x| (0.0..=1.0).contains(&x)) => Some(v),
            _ => wrong(diags, "ratios from 0 to 1", &v),
        },
    }
}

/// The column of a value rule; `row_count` and `length(...)` are not allowed here.
fn value_subject<'a>(
    subject: &Subject,
    what: &str,
    ctx: &RuleCtx<'a>,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'a Column> {
    match subject {
        Subject::Column(id) => ctx.scope.resolve(id, diags),
        other => {
            let help = match other {
                Subject::Aggregate { .. } => {
                    "bound an aggregate with `>`, `>=`, `<`, `<=`, `=` or `between` and a value"
                }
                _ => "write the condition as `check ...` instead",
            };
            diags.push(
                Diagnostic::new(
                    Code::RuleTypeMismatch,
                    format!("{} rule needs a column here", article(what)),
                    other.span(),
                )
                .with_primary_label("not a column")
                .with_help(help),
            );
            None
        }
    }
}

fn resolve_all<'a>(ids: &[ast::Ident], ctx: &RuleCtx<'a>, diags: &mut Vec<Diagnostic>) -> Option<Vec<&'a Column>> {
    let cols: Vec<Option<&Column>> = ids.iter().map(|i| ctx.scope.resolve(i, diags)).collect();
    cols.into_iter().collect()
}

/// `a range`, `an allowed values`: the indefinite article and the word.
fn article(word: &str) -> String {
    // By sound: "a unique rule" (a "you" sound), "an allowed values rule".
    let vowel = word.chars().next().is_some_and(|c| "aeiou".contains(c)) && !word.starts_with("uni");
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// E0201 for a rule on a column whose type it cannot apply to.
pub fn mismatch(rule: &str, col: &Column, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::RuleTypeMismatch,
        format!("{} rule does not apply to column `{}` of type `{}`", article(rule), col.name, col.ty),
        span,
    )
    .with_primary_label(format!("`{}`", col.ty))
}

/// Converts a written duration to a count of base units (E0109 for unknown units, E0603 for 0).
fn duration_seconds(d: &ast::Duration, units: &[(&str, u64)], diags: &mut Vec<Diagnostic>) -> Option<u64> {
    let unit = d.unit.name.to_ascii_lowercase();
    let singular = unit.strip_suffix('s').unwrap_or(&unit);
    let Some((_, factor)) = units.iter().find(|(u, _)| *u == singular) else {
        let names: Vec<String> = units.iter().map(|(u, _)| format!("{u}s")).collect();
        let mut diag =
            Diagnostic::new(Code::InvalidPropertyValue, format!("unknown time unit `{}`", d.unit.name), d.unit.span)
                .with_primary_label(format!("expected {}", names.join(", ")));
        if let Some(s) = did_you_mean(&unit, names.iter().map(String::as_str)) {
            diag = diag.with_help(format!("did you mean `{s}`?"));
        }
        diags.push(diag);
        return None;
    };
    let amount = d.amount.0.parse::<u64>().ok().and_then(|a| a.checked_mul(*factor));
    match amount {
        Some(0) => {
            diags.push(Diagnostic::new(Code::InvalidThreshold, "a duration of zero can never be met", d.span));
            None
        }
        Some(a) => Some(a),
        None => {
            diags.push(Diagnostic::new(
                Code::InvalidLiteral,
                format!("duration `{}` is too large", d.amount.0),
                d.amount.1,
            ));
            None
        }
    }
}

/// Lowercase, `[a-z0-9_]` only, for derived ids. Names with other characters also get a
/// short hash of the original, so distinct names never share a slug.
pub fn slug(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let trimmed = s.trim_matches('_');
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && !trimmed.is_empty() {
        trimmed.to_string()
    } else if trimmed.is_empty() {
        format!("c{}", dqc_ir::hash::short_hash(name))
    } else {
        format!("{trimmed}_{}", dqc_ir::hash::short_hash(name).get(..4).unwrap_or(""))
    }
}

/// The id of a rule written without one: kind and columns, so it stays the same when rules
/// are reordered.
pub fn derive_id(kind: &RuleKind) -> String {
    let join = |cols: &[String]| cols.iter().map(|c| slug(c)).collect::<Vec<_>>().join("_");
    match kind {
        RuleKind::NotNull { column } => format!("not_null_{}", slug(column)),
        RuleKind::Unique { columns, .. } => format!("unique_{}", join(columns)),
        RuleKind::AllowedValues { column, .. } => format!("allowed_values_{}", slug(column)),
        RuleKind::Range { column, measure, min, max } => {
            let prefix = match (measure, min.is_some(), max.is_some()) {
                (Measure::Length, true, false) => "min_length",
                (Measure::Length, false, true) => "max_length",
                (Measure::Length, _, _) => "length",
                (Measure::Value, true, false) => "min",
                (Measure::Value, false, true) => "max",
                _ => "range",
            };
            format!("{prefix}_{}", slug(column))
        }
        RuleKind::Compare { column, op, right } => {
            let rhs = match right {
                Operand::Column { name } => slug(name),
                Operand::Value { value } => {
                    let text = match value {
                        Value::Number(n) => n.replace('-', "minus_"),
                        Value::String(t) | Value::Date(t) | Value::Timestamp(t) => t.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".to_string(),
                    };
                    let simple: String = text
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
                        .collect();
                    let slugged: String = simple.trim_matches('_').chars().take(24).collect();
                    if slugged.is_empty() {
                        "value".to_string()
                    } else {
                        slugged
                    }
                }
            };
            let op = match op {
                dqc_ir::CmpOp::Eq => "eq",
                dqc_ir::CmpOp::Ne => "ne",
                dqc_ir::CmpOp::Lt => "lt",
                dqc_ir::CmpOp::Le => "le",
                dqc_ir::CmpOp::Gt => "gt",
                dqc_ir::CmpOp::Ge => "ge",
            };
            format!("{}_{op}_{rhs}", slug(column))
        }
        RuleKind::Regex { column, .. } => format!("regex_{}", slug(column)),
        RuleKind::ForeignKey { columns, table, .. } => format!("fk_{}_{}", join(columns), slug(&table.table)),
        RuleKind::Freshness { column, .. } => format!("freshness_{}", slug(column)),
        RuleKind::RowCount { min, max } => match (min.is_some(), max.is_some()) {
            (true, false) => "min_row_count".to_string(),
            (false, true) => "max_row_count".to_string(),
            _ => "row_count".to_string(),
        },
        RuleKind::Aggregate { function, column, .. } => format!("{}_of_{}", function.as_str(), slug(column)),
        RuleKind::RowCountAnomaly { .. } => "row_count_anomaly".to_string(),
        RuleKind::Check { expr } => {
            // Readable by the columns it reads (at most three), unique by the expression's hash.
            let canonical = serde_json::to_string(&dqc_ir::hash::meaning(expr)).unwrap_or_default();
            let hash = dqc_ir::hash::short_hash(&canonical);
            let columns: Vec<String> = expr.columns().into_iter().take(3).map(slug).collect();
            if columns.is_empty() {
                format!("check_{hash}")
            } else {
                format!("check_{}_{hash}", columns.join("_"))
            }
        }
    }
}
