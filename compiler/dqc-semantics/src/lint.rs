//! Contradictions and redundancy between the rules of one contract.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use dqc_diagnostics::{Code, Diagnostic, Span};
use dqc_ir::{Bound, Contract, Measure, Rule, RuleKind, Value};

use crate::literal::number_value;

/// Orders two values of the same kind; dates compare with timestamps at midnight.
pub fn cmp_values(a: &Value, b: &Value) -> Option<Ordering> {
    let temporal = |v: &Value| match v {
        Value::Date(d) => Some(format!("{d} 00:00:00")),
        Value::Timestamp(t) => Some(t.clone()),
        _ => None,
    };
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_value(x).partial_cmp(&number_value(y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => Some(temporal(a)?.cmp(&temporal(b)?)),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Number(n) => n.clone(),
        Value::String(s) => format!("'{s}'"),
        Value::Date(d) => format!("date '{d}'"),
        Value::Timestamp(t) => format!("timestamp '{t}'"),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
    }
}

/// True when no value lies between the bounds.
fn empty(min: &Option<Bound>, max: &Option<Bound>) -> bool {
    let (Some(lo), Some(hi)) = (min, max) else { return false };
    match cmp_values(&lo.value, &hi.value) {
        Some(Ordering::Greater) => true,
        Some(Ordering::Equal) => !(lo.inclusive && hi.inclusive),
        _ => false,
    }
}

/// True when `v` lies within the bounds.
fn within(v: &Value, min: &Option<Bound>, max: &Option<Bound>) -> bool {
    let lo_ok = min.as_ref().is_none_or(|b| match cmp_values(v, &b.value) {
        Some(Ordering::Greater) => true,
        Some(Ordering::Equal) => b.inclusive,
        Some(Ordering::Less) => false,
        None => true,
    });
    let hi_ok = max.as_ref().is_none_or(|b| match cmp_values(v, &b.value) {
        Some(Ordering::Less) => true,
        Some(Ordering::Equal) => b.inclusive,
        Some(Ordering::Greater) => false,
        None => true,
    });
    lo_ok && hi_ok
}

/// The tighter of two lower (or upper) bounds.
fn tighter(a: &Option<Bound>, b: &Option<Bound>, lower: bool) -> Option<Bound> {
    match (a, b) {
        (None, x) | (x, None) => x.clone(),
        (Some(x), Some(y)) => {
            let ord = cmp_values(&x.value, &y.value)?;
            let pick_x = match ord {
                Ordering::Equal => !x.inclusive,
                Ordering::Greater => lower,
                Ordering::Less => !lower,
            };
            Some(if pick_x { x.clone() } else { y.clone() })
        }
    }
}

/// True when range a's bounds lie within range b's (a implies b).
fn implies(a: (&Option<Bound>, &Option<Bound>), b: (&Option<Bound>, &Option<Bound>)) -> bool {
    let lo = match (a.0, b.0) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(x), Some(y)) => match cmp_values(&x.value, &y.value) {
            Some(Ordering::Greater) => true,
            Some(Ordering::Equal) => y.inclusive || !x.inclusive,
            _ => false,
        },
    };
    let hi = match (a.1, b.1) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(x), Some(y)) => match cmp_values(&x.value, &y.value) {
            Some(Ordering::Less) => true,
            Some(Ordering::Equal) => y.inclusive || !x.inclusive,
            _ => false,
        },
    };
    lo && hi
}

fn span(r: &Rule) -> Span {
    r.span.unwrap_or_default()
}

/// A rule that applies to every row (no filter, no tolerance).
fn unconditional(r: &Rule) -> bool {
    r.filter.is_none() && r.min_pass_percent.is_none()
}

/// Reports empty ranges (E0601) and returns the rules that remain.
pub fn empty_ranges(rules: Vec<Rule>, diags: &mut Vec<Diagnostic>) -> Vec<Rule> {
    rules
        .into_iter()
        .filter(|r| {
            let (min, max) = match &r.kind {
                RuleKind::Range { min, max, .. }
                | RuleKind::RowCount { min, max }
                | RuleKind::Aggregate { min, max, .. } => (min, max),
                _ => return true,
            };
            if empty(min, max) {
                let (lo, hi) = (min.as_ref().map(|b| show(&b.value)), max.as_ref().map(|b| show(&b.value)));
                diags.push(
                    Diagnostic::new(
                        Code::EmptyRange,
                        format!("range from {} to {} is empty", lo.unwrap_or_default(), hi.unwrap_or_default()),
                        span(r),
                    )
                    .with_primary_label("no value satisfies this")
                    .with_help("swap the bounds, or make equal bounds inclusive"),
                );
                return false;
            }
            true
        })
        .collect()
}

/// Reports rules that contradict each other (E0602, E0604) or say nothing new (W0701),
/// and nullable grain columns (W0702).
pub fn lint_contract(contract: &Contract, diags: &mut Vec<Diagnostic>) {
    let rules = &contract.rules;
    // Repeats: each rule's meaning is serialized once, and a repeat is reported against the
    // first rule with that meaning (linear, however many rules there are).
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    let mut distinct = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        match first.entry(meaning_key(r)) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(i);
                distinct.push(r);
            }
            std::collections::btree_map::Entry::Occupied(e) => {
                let a = rules.get(*e.get()).unwrap_or(r);
                diags.push(
                    Diagnostic::new(Code::RedundantRule, "rule repeats an earlier rule", span(r))
                        .with_primary_label("same as the earlier rule")
                        .with_label(span(a), "earlier rule"),
                );
            }
        }
    }
    // Only rules about the same subject can contradict or imply each other: group them, and
    // compare within groups.
    let mut groups: BTreeMap<Option<&str>, Vec<&Rule>> = BTreeMap::new();
    for r in distinct.into_iter().filter(|r| unconditional(r)) {
        let subject = match &r.kind {
            RuleKind::Range { column, .. } | RuleKind::AllowedValues { column, .. } => Some(column.as_str()),
            RuleKind::RowCount { .. } => None,
            _ => continue,
        };
        groups.entry(subject).or_default().push(r);
    }
    for group in groups.values() {
        lint_group(group, diags);
    }
    for g in &contract.grain {
        if let Some(col) = contract.column(g).filter(|c| c.nullable) {
            let covered = rules
                .iter()
                .any(|r| matches!(&r.kind, RuleKind::NotNull { column } if column == &col.name) && unconditional(r));
            if !covered {
                diags.push(
                    Diagnostic::new(
                        Code::NullableGrainColumn,
                        format!("grain column `{}` is nullable", col.name),
                        col.span.unwrap_or_default(),
                    )
                    .with_primary_label("declared without `not null`")
                    .with_help("declare it `not null`; NULL keys escape uniqueness checks"),
                );
            }
        }
    }
}

/// True when two rules require the same thing of the same rows (ids and provenance aside).
pub fn same_rule(a: &Rule, b: &Rule) -> bool {
    a.severity == b.severity
        && a.stage == b.stage
        && a.min_pass_percent == b.min_pass_percent
        && dqc_ir::hash::meaning(&a.kind) == dqc_ir::hash::meaning(&b.kind)
        && dqc_ir::hash::meaning(&a.filter) == dqc_ir::hash::meaning(&b.filter)
}

/// The meaning of a rule as one string: two rules with the same key require the same thing of
/// the same rows (see [`same_rule`]).
fn meaning_key(r: &Rule) -> String {
    let parts =
        (&r.severity, &r.stage, &r.min_pass_percent, dqc_ir::hash::meaning(&r.kind), dqc_ir::hash::meaning(&r.filter));
    serde_json::to_string(&parts).unwrap_or_default()
}

/// How many earlier rules of the same subject each rule is compared with. Contradictions are
/// found whatever the distance (each rule is also compared with the earlier rules holding the
/// tightest bounds); implication between rules further apart than this is not reported.
const WINDOW: usize = 64;

/// Warnings of one kind reported for one subject before the rest are summed up in one line.
const MAX_WARNINGS_PER_SUBJECT: usize = 20;

/// What a range constrains: a column's values or lengths (`None`: the row count).
type Subject<'a> = (Option<&'a str>, Measure);

/// Contradictions and redundancy among the unconditional rules of one subject, in rule order.
fn lint_group(group: &[&Rule], diags: &mut Vec<Diagnostic>) {
    let mut lint = GroupLint::default();
    // The earlier rules with the tightest lower and upper bound of each measure.
    // (A group has one subject, so at most a few measures: a list is enough.)
    let mut tightest: Vec<(Subject<'_>, (usize, usize))> = Vec::new();
    for (j, b) in group.iter().enumerate() {
        let mut partners: Vec<usize> = (j.saturating_sub(WINDOW)..j).collect();
        if let Some((k, lo, hi)) = range_of(&b.kind) {
            if let Some((_, at)) = tightest.iter_mut().find(|(key, _)| *key == k) {
                let (lo_at, hi_at) = *at;
                partners.extend([lo_at, hi_at]);
                let lo_rule = group.get(lo_at).and_then(|r| range_of(&r.kind));
                let hi_rule = group.get(hi_at).and_then(|r| range_of(&r.kind));
                let keep_lo = lo_rule.map(|(_, l, _)| tighter(l, lo, true)) != Some(lo.clone());
                let keep_hi = hi_rule.map(|(_, _, h)| tighter(h, hi, false)) != Some(hi.clone());
                *at = (if keep_lo { lo_at } else { j }, if keep_hi { hi_at } else { j });
            } else {
                tightest.push((k, (j, j)));
            }
        }
        partners.sort_unstable();
        partners.dedup();
        for i in partners {
            if let Some(a) = group.get(i) {
                lint.pair(a, b, diags);
            }
        }
    }
    lint.summarize(group, diags);
}

/// Counts of what one group reported, to cap repeated warnings.
#[derive(Default)]
struct GroupLint {
    redundant: usize,
    /// Rules already reported as redundant: each once.
    reported: std::collections::BTreeSet<String>,
}

impl GroupLint {
    fn redundant(&mut self, wide: &Rule, narrow: &Rule, diags: &mut Vec<Diagnostic>) {
        if !self.reported.insert(wide.id.clone()) {
            return;
        }
        self.redundant += 1;
        if self.redundant <= MAX_WARNINGS_PER_SUBJECT {
            redundant(wide, narrow, diags);
        }
    }

    fn summarize(&self, group: &[&Rule], diags: &mut Vec<Diagnostic>) {
        if self.redundant > MAX_WARNINGS_PER_SUBJECT {
            let more = self.redundant - MAX_WARNINGS_PER_SUBJECT;
            let at = group.last().map(|r| span(r)).unwrap_or_default();
            diags.push(
                Diagnostic::new(
                    Code::RedundantRule,
                    format!("{more} more rule(s) on the same subject are implied by narrower rules"),
                    at,
                )
                .with_primary_label("the last of them ends here")
                .with_note(format!("only the first {MAX_WARNINGS_PER_SUBJECT} are listed one by one")),
            );
        }
    }

    fn pair(&mut self, a: &Rule, b: &Rule, diags: &mut Vec<Diagnostic>) {
        if let (Some((k1, lo1, hi1)), Some((k2, lo2, hi2))) = (range_of(&a.kind), range_of(&b.kind)) {
            if k1 == k2 {
                let c1 = k1.0.unwrap_or("row count");
                let lo = tighter(lo1, lo2, true);
                let hi = tighter(hi1, hi2, false);
                if empty(&lo, &hi) {
                    diags.push(
                        Diagnostic::new(
                            Code::ContradictoryRules,
                            format!("no value of `{c1}` satisfies both rules"),
                            span(b),
                        )
                        .with_primary_label("contradicts the earlier rule")
                        .with_label(span(a), "earlier rule"),
                    );
                } else if a.severity == b.severity && a.stage == b.stage {
                    if implies((lo1, hi1), (lo2, hi2)) {
                        self.redundant(b, a, diags);
                    } else if implies((lo2, hi2), (lo1, hi1)) {
                        self.redundant(a, b, diags);
                    }
                }
            }
            return;
        }
        match (&a.kind, &b.kind) {
            (
                RuleKind::AllowedValues { column, values },
                RuleKind::Range { column: c2, measure: Measure::Value, min, max },
            )
            | (
                RuleKind::Range { column: c2, measure: Measure::Value, min, max },
                RuleKind::AllowedValues { column, values },
            ) if column == c2 => {
                let (allowed_rule, range_rule) =
                    if matches!(a.kind, RuleKind::AllowedValues { .. }) { (a, b) } else { (b, a) };
                let outside: Vec<String> = values.iter().filter(|v| !within(v, min, max)).map(show).collect();
                if !outside.is_empty() {
                    diags.push(
                        Diagnostic::new(
                            Code::AllowedValuesOutsideRange,
                            format!(
                                "allowed value(s) {} of `{column}` lie outside the declared range",
                                outside.join(", ")
                            ),
                            span(allowed_rule),
                        )
                        .with_primary_label("allowed here")
                        .with_label(span(range_rule), "but excluded by this range"),
                    );
                }
            }
            _ => {}
        }
    }
}

/// The bounds of a range-like rule, keyed by what they constrain (`None` is the row count).
#[allow(clippy::type_complexity, reason = "a private helper returning borrowed parts")]
fn range_of(kind: &RuleKind) -> Option<((Option<&str>, Measure), &Option<Bound>, &Option<Bound>)> {
    match kind {
        RuleKind::Range { column, measure, min, max } => Some(((Some(column.as_str()), *measure), min, max)),
        RuleKind::RowCount { min, max } => Some(((None, Measure::Value), min, max)),
        _ => None,
    }
}

fn redundant(wide: &Rule, narrow: &Rule, diags: &mut Vec<Diagnostic>) {
    diags.push(
        Diagnostic::new(
            Code::RedundantRule,
            format!("rule `{}` is implied by rule `{}`", wide.id, narrow.id),
            span(wide),
        )
        .with_primary_label("always holds when the narrower rule holds")
        .with_label(span(narrow), "narrower rule"),
    );
}
