//! Column expressions: the one representation that DataFrame code, Glue
//! transforms and SQL are all translated into before lineage is computed.

use std::collections::BTreeSet;

use crate::model::ColumnRef;

/// Index of a dataset (DataFrame or DynamicFrame) in the interpreter's arena.
pub(crate) type FrameId = usize;

/// A column reference as written, before it is resolved against a dataset.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColRef {
    /// The dataset the reference is bound to (`df["x"]`, `df.x`), if any.
    pub frame: Option<FrameId>,
    /// A qualifier such as an alias (`p.x`), if any.
    pub qualifier: Option<String>,
    /// The column name.
    pub name: String,
}

/// A column expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ColExpr {
    /// A reference not yet resolved (or not resolvable).
    Col(ColRef),
    /// A resolved column of a base table.
    Base(ColumnRef),
    /// `*` or `q.*`.
    Star(Option<String>),
    /// A literal, already rendered as SQL (`'A'`, `10`, `NULL`).
    Lit(String),
    /// A function call.
    Func { name: String, args: Vec<ColExpr> },
    /// A cast to a Spark SQL type name.
    Cast { expr: Box<ColExpr>, ty: String },
    /// A binary operator, including comparisons, `AND`, `OR` and `LIKE`.
    Binary { op: String, left: Box<ColExpr>, right: Box<ColExpr> },
    /// `NOT x` or `-x`.
    Unary { op: String, expr: Box<ColExpr> },
    /// `x IS [NOT] NULL`.
    IsNull { expr: Box<ColExpr>, negated: bool },
    /// `x [NOT] IN (...)`.
    InList { expr: Box<ColExpr>, list: Vec<ColExpr>, negated: bool },
    /// `x [NOT] BETWEEN low AND high`.
    Between { expr: Box<ColExpr>, low: Box<ColExpr>, high: Box<ColExpr>, negated: bool },
    /// `CASE [operand] WHEN .. THEN .. ELSE .. END`.
    Case { operand: Option<Box<ColExpr>>, branches: Vec<(ColExpr, ColExpr)>, otherwise: Option<Box<ColExpr>> },
    /// A window function call.
    Window { func: Box<ColExpr>, partition: Vec<ColExpr>, order: Vec<ColExpr> },
    /// An ordering key in a window.
    Sort { expr: Box<ColExpr>, desc: bool },
    /// An explicit output name.
    Alias { expr: Box<ColExpr>, name: String },
    /// Something rendered verbatim; `args` keeps the columns it reads.
    Opaque { text: String, args: Vec<ColExpr> },
}

/// Largest expression kept after substitution; larger ones are summarised so
/// that deeply nested `withColumn` chains cannot blow up the output.
pub(crate) const MAX_NODES: usize = 400;

impl ColExpr {
    /// An unqualified column reference.
    pub(crate) fn col(name: &str) -> Self {
        ColExpr::Col(ColRef { frame: None, qualifier: None, name: name.to_owned() })
    }

    /// A string literal, quoted for SQL.
    pub(crate) fn str_lit(s: &str) -> Self {
        ColExpr::Lit(format!("'{}'", s.replace('\'', "''")))
    }

    /// A binary operator node.
    pub(crate) fn binary(op: &str, left: ColExpr, right: ColExpr) -> Self {
        ColExpr::Binary { op: op.to_owned(), left: Box::new(left), right: Box::new(right) }
    }

    /// `CAST(e AS ty)`, without stacking a cast to the type `e` already has.
    pub(crate) fn cast(e: ColExpr, ty: &str) -> Self {
        if matches!(&e, ColExpr::Cast { ty: inner, .. } if inner.eq_ignore_ascii_case(ty)) {
            return e;
        }
        ColExpr::Cast { expr: Box::new(e), ty: ty.to_owned() }
    }

    /// Removes any alias wrappers.
    pub(crate) fn unaliased(&self) -> &ColExpr {
        match self {
            ColExpr::Alias { expr, .. } => expr.unaliased(),
            other => other,
        }
    }

    /// The column name Spark would give this expression.
    pub(crate) fn output_name(&self) -> String {
        match self {
            ColExpr::Alias { name, .. } => name.clone(),
            ColExpr::Col(r) => r.name.clone(),
            ColExpr::Base(b) => b.column.clone(),
            ColExpr::Cast { expr, .. } => expr.output_name(),
            other => other.render(),
        }
    }

    /// Children of this node, in order.
    fn children(&self) -> Vec<&ColExpr> {
        match self {
            ColExpr::Col(_) | ColExpr::Base(_) | ColExpr::Star(_) | ColExpr::Lit(_) => vec![],
            ColExpr::Func { args, .. } | ColExpr::Opaque { args, .. } => args.iter().collect(),
            ColExpr::Cast { expr, .. }
            | ColExpr::Unary { expr, .. }
            | ColExpr::IsNull { expr, .. }
            | ColExpr::Sort { expr, .. }
            | ColExpr::Alias { expr, .. } => vec![expr],
            ColExpr::Binary { left, right, .. } => vec![left, right],
            ColExpr::InList { expr, list, .. } => std::iter::once(&**expr).chain(list).collect(),
            ColExpr::Between { expr, low, high, .. } => vec![expr, low, high],
            ColExpr::Case { operand, branches, otherwise } => operand
                .iter()
                .map(|b| &**b)
                .chain(branches.iter().flat_map(|(w, t)| [w, t]))
                .chain(otherwise.iter().map(|b| &**b))
                .collect(),
            ColExpr::Window { func, partition, order } => {
                std::iter::once(&**func).chain(partition).chain(order).collect()
            }
        }
    }

    /// Number of nodes in the tree.
    pub(crate) fn size(&self) -> usize {
        1 + self.children().iter().map(|c| c.size()).sum::<usize>()
    }

    /// Unresolved references, in order of appearance.
    pub(crate) fn refs(&self) -> Vec<&ColRef> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let ColExpr::Col(r) = e {
                out.push(r);
            }
        });
        out
    }

    /// Base-table columns read, sorted and de-duplicated.
    pub(crate) fn base_refs(&self) -> BTreeSet<ColumnRef> {
        let mut out = BTreeSet::new();
        self.walk(&mut |e| {
            if let ColExpr::Base(b) = e {
                out.insert(b.clone());
            }
        });
        out
    }

    /// Calls `f` on every node, parents before children.
    pub(crate) fn walk<'e>(&'e self, f: &mut dyn FnMut(&'e ColExpr)) {
        f(self);
        for c in self.children() {
            c.walk(f);
        }
    }

    /// Replaces every [`ColExpr::Col`] with what `f` returns for it.
    pub(crate) fn substitute(&self, f: &mut dyn FnMut(&ColRef) -> ColExpr) -> ColExpr {
        let out = self.rewrite(&mut |e| match e {
            ColExpr::Col(r) => Some(f(r)),
            _ => None,
        });
        if out.size() > MAX_NODES {
            let inputs = out.base_refs().into_iter().map(ColExpr::Base).collect();
            return ColExpr::Opaque { text: format!("<expression of {} nodes>", out.size()), args: inputs };
        }
        out
    }

    /// Rebuilds the tree, replacing each node for which `f` returns a value.
    pub(crate) fn rewrite(&self, f: &mut dyn FnMut(&ColExpr) -> Option<ColExpr>) -> ColExpr {
        if let Some(done) = f(self) {
            return done;
        }
        type F<'x> = &'x mut dyn FnMut(&ColExpr) -> Option<ColExpr>;
        let bx = |e: &ColExpr, f: F<'_>| Box::new(e.rewrite(f));
        let all = |v: &[ColExpr], f: F<'_>| v.iter().map(|e| e.rewrite(f)).collect::<Vec<_>>();
        match self {
            ColExpr::Col(_) | ColExpr::Base(_) | ColExpr::Star(_) | ColExpr::Lit(_) => self.clone(),
            ColExpr::Func { name, args } => ColExpr::Func { name: name.clone(), args: all(args, f) },
            ColExpr::Opaque { text, args } => ColExpr::Opaque { text: text.clone(), args: all(args, f) },
            ColExpr::Cast { expr, ty } => ColExpr::Cast { expr: bx(expr, f), ty: ty.clone() },
            ColExpr::Binary { op, left, right } => {
                ColExpr::Binary { op: op.clone(), left: bx(left, f), right: bx(right, f) }
            }
            ColExpr::Unary { op, expr } => ColExpr::Unary { op: op.clone(), expr: bx(expr, f) },
            ColExpr::IsNull { expr, negated } => ColExpr::IsNull { expr: bx(expr, f), negated: *negated },
            ColExpr::InList { expr, list, negated } => {
                ColExpr::InList { expr: bx(expr, f), list: all(list, f), negated: *negated }
            }
            ColExpr::Between { expr, low, high, negated } => {
                ColExpr::Between { expr: bx(expr, f), low: bx(low, f), high: bx(high, f), negated: *negated }
            }
            ColExpr::Case { operand, branches, otherwise } => ColExpr::Case {
                operand: operand.as_ref().map(|o| bx(o, f)),
                branches: branches.iter().map(|(w, t)| (w.rewrite(f), t.rewrite(f))).collect(),
                otherwise: otherwise.as_ref().map(|o| bx(o, f)),
            },
            ColExpr::Window { func, partition, order } => {
                ColExpr::Window { func: bx(func, f), partition: all(partition, f), order: all(order, f) }
            }
            ColExpr::Sort { expr, desc } => ColExpr::Sort { expr: bx(expr, f), desc: *desc },
            ColExpr::Alias { expr, name } => ColExpr::Alias { expr: bx(expr, f), name: name.clone() },
        }
    }

    /// Splits a predicate into its `AND`-ed parts.
    pub(crate) fn conjuncts(&self) -> Vec<&ColExpr> {
        match self {
            ColExpr::Binary { op, left, right } if op == "AND" => {
                let mut v = left.conjuncts();
                v.extend(right.conjuncts());
                v
            }
            other => vec![other],
        }
    }

    /// If this is a `row_number()`/`rank()`/`dense_rank()` window, its
    /// partition keys.
    pub(crate) fn dedup_partition(&self) -> Option<&[ColExpr]> {
        match self.unaliased() {
            ColExpr::Window { func, partition, .. } if !partition.is_empty() => match &**func {
                ColExpr::Func { name, .. }
                    if matches!(name.to_ascii_lowercase().as_str(), "row_number" | "rank" | "dense_rank") =>
                {
                    Some(partition)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// If this predicate keeps the first row of a dedup window
    /// (`rn = 1`, `rn <= 1`, `rn < 2`), that window's partition keys.
    pub(crate) fn first_row_filter(&self) -> Option<&[ColExpr]> {
        let ColExpr::Binary { op, left, right } = self else {
            return None;
        };
        let lit = match &**right {
            ColExpr::Lit(l) => l.as_str(),
            _ => return None,
        };
        let keeps_first = matches!((op.as_str(), lit), ("=", "1") | ("<=", "1") | ("<", "2"));
        if keeps_first {
            left.dedup_partition()
        } else {
            None
        }
    }

    /// Renders the expression as Spark SQL.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, 0);
        out
    }

    fn render_into(&self, out: &mut String, parent_prec: u8) {
        let prec = self.precedence();
        let paren = prec < parent_prec;
        if paren {
            out.push('(');
        }
        self.render_node(out, prec);
        if paren {
            out.push(')');
        }
    }

    fn render_node(&self, out: &mut String, prec: u8) {
        match self {
            ColExpr::Col(r) => {
                if let Some(q) = &r.qualifier {
                    out.push_str(q);
                    out.push('.');
                }
                out.push_str(&r.name);
            }
            ColExpr::Base(b) => {
                out.push_str(&b.table);
                out.push('.');
                out.push_str(&b.column);
            }
            ColExpr::Star(q) => match q {
                Some(q) => {
                    out.push_str(q);
                    out.push_str(".*");
                }
                None => out.push('*'),
            },
            ColExpr::Lit(l) => out.push_str(l),
            ColExpr::Opaque { text, .. } => out.push_str(text),
            ColExpr::Func { name, args } => {
                out.push_str(name);
                render_list(out, args);
            }
            ColExpr::Cast { expr, ty } => {
                out.push_str("CAST(");
                expr.render_into(out, 0);
                out.push_str(" AS ");
                out.push_str(ty);
                out.push(')');
            }
            ColExpr::Binary { .. }
            | ColExpr::Unary { .. }
            | ColExpr::IsNull { .. }
            | ColExpr::InList { .. }
            | ColExpr::Between { .. } => self.render_operator(out, prec),
            ColExpr::Case { .. } => self.render_case(out),
            ColExpr::Window { .. } => self.render_window(out),
            ColExpr::Sort { expr, desc } => {
                expr.render_into(out, 0);
                if *desc {
                    out.push_str(" DESC");
                }
            }
            ColExpr::Alias { expr, name } => {
                expr.render_into(out, 0);
                out.push_str(" AS ");
                out.push_str(name);
            }
        }
    }

    fn render_operator(&self, out: &mut String, prec: u8) {
        match self {
            ColExpr::Binary { op, left, right } => {
                left.render_into(out, prec);
                out.push(' ');
                out.push_str(op);
                out.push(' ');
                right.render_into(out, prec + 1);
            }
            ColExpr::Unary { op, expr } => {
                out.push_str(op);
                if op.chars().all(char::is_alphabetic) {
                    out.push(' ');
                }
                expr.render_into(out, prec);
            }
            ColExpr::IsNull { expr, negated } => {
                expr.render_into(out, prec + 1);
                out.push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            ColExpr::InList { expr, list, negated } => {
                expr.render_into(out, prec + 1);
                out.push_str(if *negated { " NOT IN " } else { " IN " });
                render_list(out, list);
            }
            ColExpr::Between { expr, low, high, negated } => {
                expr.render_into(out, prec + 1);
                out.push_str(if *negated { " NOT BETWEEN " } else { " BETWEEN " });
                low.render_into(out, prec + 1);
                out.push_str(" AND ");
                high.render_into(out, prec + 1);
            }
            _ => {}
        }
    }

    fn render_case(&self, out: &mut String) {
        let ColExpr::Case { operand, branches, otherwise } = self else {
            return;
        };
        out.push_str("CASE");
        if let Some(o) = operand {
            out.push(' ');
            o.render_into(out, 0);
        }
        for (w, t) in branches {
            out.push_str(" WHEN ");
            w.render_into(out, 0);
            out.push_str(" THEN ");
            t.render_into(out, 0);
        }
        if let Some(o) = otherwise {
            out.push_str(" ELSE ");
            o.render_into(out, 0);
        }
        out.push_str(" END");
    }

    fn render_window(&self, out: &mut String) {
        let ColExpr::Window { func, partition, order } = self else {
            return;
        };
        func.render_into(out, 0);
        out.push_str(" OVER (");
        let mut sep = "";
        if !partition.is_empty() {
            out.push_str("PARTITION BY ");
            render_joined(out, partition);
            sep = " ";
        }
        if !order.is_empty() {
            out.push_str(sep);
            out.push_str("ORDER BY ");
            render_joined(out, order);
        }
        out.push(')');
    }

    /// Binding strength used to decide where parentheses are needed.
    fn precedence(&self) -> u8 {
        match self {
            ColExpr::Binary { op, .. } => match op.as_str() {
                "OR" => 1,
                "AND" => 2,
                "+" | "-" | "||" => 5,
                "*" | "/" | "%" => 6,
                _ => 4,
            },
            ColExpr::Unary { op, .. } if op == "NOT" => 3,
            ColExpr::IsNull { .. } | ColExpr::InList { .. } | ColExpr::Between { .. } => 4,
            ColExpr::Alias { .. } => 0,
            _ => 9,
        }
    }
}

fn render_list(out: &mut String, items: &[ColExpr]) {
    out.push('(');
    render_joined(out, items);
    out.push(')');
}

fn render_joined(out: &mut String, items: &[ColExpr]) {
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        a.render_into(out, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_minimal_parentheses() {
        let a = ColExpr::binary("=", ColExpr::col("a"), ColExpr::Lit("1".into()));
        let b = ColExpr::binary("=", ColExpr::col("b"), ColExpr::str_lit("it's"));
        let or = ColExpr::binary("OR", a.clone(), b);
        let and = ColExpr::binary("AND", or, a);
        assert_eq!(and.render(), "(a = 1 OR b = 'it''s') AND a = 1");
    }

    #[test]
    fn detects_first_row_filters() {
        let w = ColExpr::Window {
            func: Box::new(ColExpr::Func { name: "row_number".into(), args: vec![] }),
            partition: vec![ColExpr::col("id")],
            order: vec![],
        };
        let keep = ColExpr::binary("=", w.clone(), ColExpr::Lit("1".into()));
        assert_eq!(keep.first_row_filter().map(<[_]>::len), Some(1));
        let other = ColExpr::binary("=", w, ColExpr::Lit("2".into()));
        assert!(other.first_row_filter().is_none());
    }
}
