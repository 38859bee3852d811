//! Translation of `sqlparser` expressions into [`ColExpr`]s.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self as sql, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, ObjectNamePart, Query, WindowType,
};

use super::mask::Masks;
use crate::expr::{ColExpr, ColRef};

/// Converts SQL expressions, collecting the subqueries met on the way so the
/// caller can analyse their table reads.
pub(crate) struct Converter<'q, 'm> {
    pub masks: &'m Masks,
    pub subqueries: Vec<&'q Query>,
}

/// The dotted name, with job-argument markers restored.
pub(crate) fn object_name(name: &ObjectName, masks: &Masks) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => masks.unmask(&i.value),
            ObjectNamePart::Function(f) => masks.unmask(&f.name.value),
        })
        .collect();
    parts.join(".")
}

impl<'q> Converter<'q, '_> {
    /// Converts one expression.
    pub(crate) fn convert(&mut self, e: &'q Expr) -> ColExpr {
        let m = self.masks;
        match e {
            Expr::Identifier(i) => ColExpr::col(&m.unmask(&i.value)),
            Expr::CompoundIdentifier(parts) => compound(parts, m),
            Expr::Value(v) => ColExpr::Lit(m.unmask(&v.to_string())),
            Expr::TypedString(_) => ColExpr::Lit(m.unmask(&e.to_string())),
            Expr::Nested(inner) => self.convert(inner),
            Expr::BinaryOp { left, op, right } => {
                ColExpr::binary(&op.to_string(), self.convert(left), self.convert(right))
            }
            Expr::UnaryOp { op, expr } => ColExpr::Unary { op: op.to_string(), expr: Box::new(self.convert(expr)) },
            Expr::Cast { expr, data_type, .. } => {
                ColExpr::Cast { expr: Box::new(self.convert(expr)), ty: data_type.to_string().to_ascii_lowercase() }
            }
            Expr::Function(f) => self.function(f),
            Expr::Case { operand, conditions, else_result, .. } => ColExpr::Case {
                operand: operand.as_ref().map(|o| Box::new(self.convert(o))),
                branches: conditions.iter().map(|c| (self.convert(&c.condition), self.convert(&c.result))).collect(),
                otherwise: else_result.as_ref().map(|o| Box::new(self.convert(o))),
            },
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => {
                self.subqueries.push(q);
                ColExpr::Opaque { text: m.unmask(&e.to_string()), args: vec![] }
            }
            Expr::InSubquery { expr, subquery, .. } => {
                self.subqueries.push(subquery);
                ColExpr::Opaque { text: m.unmask(&e.to_string()), args: vec![self.convert(expr)] }
            }
            _ => self.convert_predicate(e),
        }
    }

    /// `IS NULL`, `IN`, `BETWEEN` and the `LIKE` family.
    fn convert_predicate(&mut self, e: &'q Expr) -> ColExpr {
        match e {
            Expr::IsNull(x) | Expr::IsNotNull(x) => {
                ColExpr::IsNull { expr: Box::new(self.convert(x)), negated: matches!(e, Expr::IsNotNull(_)) }
            }
            Expr::InList { expr, list, negated } => ColExpr::InList {
                expr: Box::new(self.convert(expr)),
                list: list.iter().map(|x| self.convert(x)).collect(),
                negated: *negated,
            },
            Expr::Between { expr, negated, low, high } => ColExpr::Between {
                expr: Box::new(self.convert(expr)),
                low: Box::new(self.convert(low)),
                high: Box::new(self.convert(high)),
                negated: *negated,
            },
            Expr::Like { negated, expr, pattern, .. } => self.like("LIKE", *negated, expr, pattern),
            Expr::ILike { negated, expr, pattern, .. } => self.like("ILIKE", *negated, expr, pattern),
            Expr::RLike { negated, expr, pattern, .. } => self.like("RLIKE", *negated, expr, pattern),
            _ => self.opaque(e),
        }
    }

    fn like(&mut self, op: &str, negated: bool, expr: &'q Expr, pattern: &'q Expr) -> ColExpr {
        let op = if negated { format!("NOT {op}") } else { op.to_owned() };
        ColExpr::binary(&op, self.convert(expr), self.convert(pattern))
    }

    fn function(&mut self, f: &'q sql::Function) -> ColExpr {
        let name = object_name(&f.name, self.masks);
        let mut args = Vec::new();
        if let FunctionArguments::List(list) = &f.args {
            let distinct = matches!(list.duplicate_treatment, Some(sql::DuplicateTreatment::Distinct));
            for a in &list.args {
                let arg = match a {
                    FunctionArg::Unnamed(x)
                    | FunctionArg::Named { arg: x, .. }
                    | FunctionArg::ExprNamed { arg: x, .. } => x,
                };
                let c = match arg {
                    FunctionArgExpr::Expr(x) => self.convert(x),
                    FunctionArgExpr::QualifiedWildcard(q) => ColExpr::Star(Some(object_name(q, self.masks))),
                    FunctionArgExpr::Wildcard | FunctionArgExpr::WildcardWithOptions(_) => ColExpr::Star(None),
                };
                args.push(c);
            }
            if distinct {
                args = args.into_iter().map(|a| ColExpr::Unary { op: "DISTINCT".into(), expr: Box::new(a) }).collect();
            }
        }
        let call = ColExpr::Func { name, args };
        match &f.over {
            Some(WindowType::WindowSpec(spec)) => ColExpr::Window {
                func: Box::new(call),
                partition: spec.partition_by.iter().map(|p| self.convert(p)).collect(),
                order: spec
                    .order_by
                    .iter()
                    .map(|o| ColExpr::Sort {
                        expr: Box::new(self.convert(&o.expr)),
                        desc: matches!(o.options.sort, Some(sql::OrderBySort::Desc)),
                    })
                    .collect(),
            },
            Some(WindowType::NamedWindow(_)) => {
                ColExpr::Window { func: Box::new(call), partition: vec![], order: vec![] }
            }
            None => call,
        }
    }

    /// Anything else: rendered verbatim, keeping the columns it mentions.
    fn opaque(&mut self, e: &'q Expr) -> ColExpr {
        let masks = self.masks;
        let mut args = Vec::new();
        let _ = sql::visit_expressions(e, |x: &Expr| {
            match x {
                Expr::Identifier(i) => args.push(ColExpr::col(&masks.unmask(&i.value))),
                Expr::CompoundIdentifier(parts) => args.push(compound(parts, masks)),
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        ColExpr::Opaque { text: masks.unmask(&e.to_string()), args }
    }
}

/// `a.b.c`: qualifier `a.b`, column `c`.
fn compound(parts: &[sql::Ident], m: &Masks) -> ColExpr {
    match parts.split_last() {
        Some((last, quals)) if !quals.is_empty() => ColExpr::Col(ColRef {
            frame: None,
            qualifier: Some(quals.iter().map(|q| m.unmask(&q.value)).collect::<Vec<_>>().join(".")),
            name: m.unmask(&last.value),
        }),
        Some((last, _)) => ColExpr::col(&m.unmask(&last.value)),
        None => ColExpr::Lit("NULL".into()),
    }
}
