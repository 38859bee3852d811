//! Rule hints for a contract drafter, derived from the code that produced a
//! written dataset: casts imply types, upstream filters imply value
//! constraints, join keys imply foreign keys, dedups imply the grain and
//! `coalesce` implies not-null.

use crate::expr::ColExpr;
use crate::findings::Recorder;
use crate::model::{ColumnRef, HintKind, Location, RuleHint};
use crate::schema::{Frame, GrainRec};

/// The output column whose definition is exactly `e`, if any. A column of
/// an open table that passes through unlisted keeps its own name.
fn output_of<'f>(frame: &'f Frame, e: &'f ColExpr) -> Option<&'f str> {
    let s = &frame.schema;
    if let Some(c) = s.columns.iter().find(|c| c.expr.unaliased() == e.unaliased()) {
        return Some(c.name.as_str());
    }
    let ColExpr::Base(r) = e else { return None };
    let passes = s.opaque.is_none()
        && s.open.iter().any(|o| o.table == r.table)
        && !s.dropped.iter().any(|d| d.eq_ignore_ascii_case(&r.column))
        && s.known(&r.column).is_none();
    passes.then_some(r.column.as_str())
}

/// Grain keys in output column names where the output carries them
/// unchanged, otherwise as written.
pub(crate) fn grain_names(frame: &Frame, g: &GrainRec) -> Vec<String> {
    g.keys.iter().zip(&g.names).map(|(k, n)| output_of(frame, k).map_or_else(|| n.clone(), str::to_owned)).collect()
}

fn hint(
    kind: HintKind,
    table: &str,
    columns: Vec<String>,
    detail: String,
    evidence: String,
    location: Location,
) -> RuleHint {
    RuleHint { kind, table: table.to_owned(), columns, detail, evidence, location }
}

/// All hints for writing `frame` to `table`.
pub(crate) fn write_hints(frame: &Frame, table: &str, rec: &Recorder) -> Vec<RuleHint> {
    let mut out = column_hints(frame, table);
    out.extend(filter_hints(frame, table, rec));
    out.extend(join_hints(frame, table, rec));
    if let Some(g) = &frame.grain {
        let names = grain_names(frame, g);
        let detail = format!("unique ({})", names.join(", "));
        out.push(hint(HintKind::Grain, table, names, detail, g.evidence.clone(), g.location));
    }
    let mut seen = Vec::new();
    out.retain(|h| {
        let key = (h.kind, h.columns.clone(), h.detail.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    out
}

fn column_hints(frame: &Frame, table: &str) -> Vec<RuleHint> {
    let mut out = Vec::new();
    for c in &frame.schema.columns {
        let Some(loc) = c.location else { continue };
        let expr = c.expr.unaliased();
        let ty = match expr {
            ColExpr::Cast { ty, .. } => Some(ty.clone()),
            _ => c.data_type.clone(),
        };
        if let Some(ty) = ty {
            out.push(hint(HintKind::Type, table, vec![c.name.clone()], ty, expr.render(), loc));
        }
        if is_not_null_default(expr) {
            let detail = format!("{} IS NOT NULL", c.name);
            out.push(hint(HintKind::NotNull, table, vec![c.name.clone()], detail, expr.render(), loc));
        }
    }
    out
}

/// `coalesce(x, <literal>)` and friends never yield NULL.
fn is_not_null_default(e: &ColExpr) -> bool {
    let e = match e {
        ColExpr::Cast { expr, .. } => expr.unaliased(),
        other => other,
    };
    match e {
        ColExpr::Func { name, args } => {
            let lname = name.to_ascii_lowercase();
            matches!(lname.as_str(), "coalesce" | "nvl" | "ifnull")
                && matches!(args.last(), Some(ColExpr::Lit(l)) if !l.eq_ignore_ascii_case("null"))
        }
        _ => false,
    }
}

fn filter_hints(frame: &Frame, table: &str, rec: &Recorder) -> Vec<RuleHint> {
    let mut out = Vec::new();
    for fid in &frame.filters {
        let Some(f) = rec.filters.get(*fid) else {
            continue;
        };
        for conj in &f.conjuncts {
            let mut has_window = false;
            conj.walk(&mut |e| has_window |= matches!(e, ColExpr::Window { .. }));
            if has_window || conj.base_refs().is_empty() {
                continue;
            }
            let kind = match conj {
                ColExpr::IsNull { negated: true, .. } => HintKind::NotNull,
                _ => HintKind::ValueConstraint,
            };
            for (name, detail) in constrained_outputs(frame, conj) {
                out.push(hint(kind, table, vec![name], detail, f.out.expression.clone(), f.out.location));
            }
        }
    }
    out
}

/// Output columns a predicate constrains, with the predicate restated in
/// terms of each: the column's whole definition must occur in the
/// predicate and account for every base column it reads.
fn constrained_outputs(frame: &Frame, conj: &ColExpr) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in &frame.schema.columns {
        let def = c.expr.unaliased();
        if def.base_refs().is_empty() {
            continue;
        }
        let restated = conj.rewrite(&mut |n| (n == def).then(|| ColExpr::col(&c.name)));
        if restated.base_refs().is_empty() {
            out.push((c.name.clone(), restated.render()));
        }
    }
    if out.is_empty() {
        let refs = conj.base_refs();
        if let [r] = refs.iter().collect::<Vec<_>>()[..] {
            let base = ColExpr::Base(r.clone());
            if let Some(name) = output_of(frame, &base) {
                out.push((name.to_owned(), rename_base(conj, r, name).render()));
            }
        }
    }
    out
}

/// Replaces the base column `r` by the output column `name`.
fn rename_base(e: &ColExpr, r: &ColumnRef, name: &str) -> ColExpr {
    e.rewrite(&mut |n| match n {
        ColExpr::Base(b) if b == r => Some(ColExpr::col(name)),
        _ => None,
    })
}

fn join_hints(frame: &Frame, table: &str, rec: &Recorder) -> Vec<RuleHint> {
    let mut out = Vec::new();
    for jid in &frame.joins {
        let Some(j) = rec.joins.get(*jid) else {
            continue;
        };
        for (l, r) in &j.pairs {
            if l == r {
                continue;
            }
            let Some(name) = output_of(frame, l) else {
                continue;
            };
            let detail = format!("candidate foreign key to {}", r.render());
            out.push(hint(
                HintKind::ForeignKey,
                table,
                vec![name.to_owned()],
                detail,
                j.out.condition.clone(),
                j.out.location,
            ));
        }
    }
    out
}
