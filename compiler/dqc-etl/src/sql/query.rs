//! Column lineage through SQL queries: CTEs, derived tables, joins, `*`
//! expansion, `UNION`, `WHERE`/`HAVING`/`QUALIFY`, `GROUP BY` and dedup
//! windows.

use std::collections::BTreeMap;

use sqlparser::ast::{
    Distinct, GroupByExpr, JoinConstraint, JoinOperator, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, SetOperator, SetQuantifier, TableFactor, TableWithJoins,
};

use super::convert::{object_name, Converter};
use super::mask::Masks;
use super::SqlCtx;
use crate::expr::{ColExpr, FrameId};
use crate::interp::Interp;
use crate::model::TableKind;
use crate::ops::JoinOn;
use crate::schema::{default_qualifiers, Frame, FrameKind};

/// The expression a select item produces, with its alias.
pub(crate) fn select_item<'q>(cv: &mut Converter<'q, '_>, item: &'q SelectItem) -> Option<ColExpr> {
    Some(match item {
        SelectItem::UnnamedExpr(e) => {
            let c = cv.convert(e);
            match c {
                ColExpr::Col(_) => c,
                other => ColExpr::Alias { name: cv.masks.unmask(&e.to_string()), expr: Box::new(other) },
            }
        }
        SelectItem::ExprWithAlias { expr, alias } => {
            ColExpr::Alias { expr: Box::new(cv.convert(expr)), name: cv.masks.unmask(&alias.value) }
        }
        SelectItem::ExprWithAliases { expr, .. } => cv.convert(expr),
        SelectItem::Wildcard(_) => ColExpr::Star(None),
        SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), _) => {
            ColExpr::Star(Some(object_name(n, cv.masks)))
        }
        SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::Expr(_), _) => return None,
    })
}

/// The table a `MERGE` target names.
pub(crate) fn relation_name(tf: &TableFactor, masks: &Masks) -> Option<String> {
    match tf {
        TableFactor::Table { name, .. } => Some(object_name(name, masks)),
        _ => None,
    }
}

fn join_parts(op: &JoinOperator) -> (&'static str, Option<&JoinConstraint>) {
    match op {
        JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::StraightJoin(c) => ("inner", Some(c)),
        JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("left", Some(c)),
        JoinOperator::Right(c) | JoinOperator::RightOuter(c) => ("right", Some(c)),
        JoinOperator::FullOuter(c) => ("full", Some(c)),
        JoinOperator::CrossJoin(c) => ("cross", Some(c)),
        JoinOperator::Semi(c) | JoinOperator::LeftSemi(c) => ("left_semi", Some(c)),
        JoinOperator::Anti(c) | JoinOperator::LeftAnti(c) => ("left_anti", Some(c)),
        JoinOperator::RightSemi(c) | JoinOperator::RightAnti(c) => ("right", Some(c)),
        _ => ("inner", None),
    }
}

impl Interp<'_> {
    /// Analyses a query and returns the dataset it produces.
    pub(crate) fn sql_query(&mut self, q: &Query, cx: &mut SqlCtx) -> FrameId {
        let scoped = q.with.is_some();
        if let Some(with) = &q.with {
            cx.ctes.push(BTreeMap::new());
            for cte in &with.cte_tables {
                let mut id = self.sql_query(&cte.query, cx);
                if !cte.alias.columns.is_empty() {
                    let names: Vec<String> = cte.alias.columns.iter().map(|c| cx.masks.unmask(&c.name.value)).collect();
                    id = self.rename_positionally(id, &names, cx.loc);
                }
                let name = cx.masks.unmask(&cte.alias.name.value).to_ascii_lowercase();
                if let Some(scope) = cx.ctes.last_mut() {
                    scope.insert(name, id);
                }
            }
        }
        let id = self.sql_set_expr(&q.body, cx);
        if scoped {
            cx.ctes.pop();
        }
        id
    }

    fn sql_set_expr(&mut self, body: &SetExpr, cx: &mut SqlCtx) -> FrameId {
        match body {
            SetExpr::Select(s) => self.sql_select(s, cx),
            SetExpr::Query(q) => self.sql_query(q, cx),
            SetExpr::SetOperation { left, op, set_quantifier, right } => {
                let l = self.sql_set_expr(left, cx);
                let r = self.sql_set_expr(right, cx);
                match op {
                    SetOperator::Union => {
                        let by_name = matches!(
                            set_quantifier,
                            SetQuantifier::ByName | SetQuantifier::AllByName | SetQuantifier::DistinctByName
                        );
                        let v = self.union(l, Some(&crate::interp::Value::Frame(r)), by_name, cx.loc);
                        v.as_frame().unwrap_or(l)
                    }
                    // Rows of INTERSECT and EXCEPT come from the left input.
                    _ => {
                        let extra = self.frame(r).tables;
                        let mut f = self.frame(l);
                        for t in extra {
                            if !f.tables.contains(&t) {
                                f.tables.push(t);
                            }
                        }
                        self.add_frame(f)
                    }
                }
            }
            SetExpr::Values(_) => {
                self.add_frame(Frame::opaque(FrameKind::Data, vec![], "the rows are a VALUES list".into()))
            }
            other => {
                let text: String = other.to_string().chars().take(60).collect();
                self.unresolved("sql-statement", format!("query part `{text}` is not analysed"), cx.loc);
                self.add_frame(Frame::opaque(FrameKind::Data, vec![], "the query is not analysed".into()))
            }
        }
    }

    /// The relations of `FROM`, joined. `keys` are the `a = b` conjuncts of the query's
    /// `WHERE`: a comma join (`FROM a, b WHERE a.k = b.k`) is the inner equi-join on those that
    /// relate its two sides, not a cross join plus a filter.
    fn sql_from(&mut self, from: &[TableWithJoins], keys: &mut [(ColExpr, bool)], cx: &mut SqlCtx) -> FrameId {
        let mut scope: Option<FrameId> = None;
        for twj in from {
            let mut cur = self.sql_relation(&twj.relation, cx);
            for j in &twj.joins {
                let right = self.sql_relation(&j.relation, cx);
                let (how, constraint) = join_parts(&j.join_operator);
                let (on, text) = match constraint {
                    Some(JoinConstraint::On(e)) => {
                        let mut cv = Converter { masks: &cx.masks, subqueries: vec![] };
                        (JoinOn::Cond(cv.convert(e)), cx.masks.unmask(&e.to_string()))
                    }
                    Some(JoinConstraint::Using(names)) => {
                        let keys: Vec<String> = names.iter().map(|n| object_name(n, &cx.masks)).collect();
                        let text = format!("USING ({})", keys.join(", "));
                        (JoinOn::Using(keys), text)
                    }
                    Some(JoinConstraint::Natural) => {
                        self.unresolved(
                            "join",
                            "NATURAL JOIN keys depend on column names that are not known statically".into(),
                            cx.loc,
                        );
                        (JoinOn::Cross, "NATURAL".to_owned())
                    }
                    _ => (JoinOn::Cross, String::new()),
                };
                cur = self.join(cur, right, &on, how, &text, cx.loc);
            }
            scope = Some(match scope {
                None => cur,
                Some(prev) => {
                    let (left, right) = (self.frame(prev).schema, self.frame(cur).schema);
                    let mut joining = Vec::new();
                    for (k, used) in keys.iter_mut().filter(|(k, used)| !*used && relates(k, &left, &right)) {
                        *used = true;
                        joining.push(k.clone());
                    }
                    match joining.into_iter().reduce(|a, b| ColExpr::binary("AND", a, b)) {
                        Some(cond) => {
                            let text = cond.render();
                            self.join(prev, cur, &JoinOn::Cond(cond), "inner", &text, cx.loc)
                        }
                        None => self.join(prev, cur, &JoinOn::Cross, "cross", "", cx.loc),
                    }
                }
            });
        }
        scope.unwrap_or_else(|| self.add_frame(Frame::opaque(FrameKind::Data, vec![], String::new())))
    }

    /// A table, CTE, temp view or derived table in `FROM`.
    pub(crate) fn sql_relation(&mut self, tf: &TableFactor, cx: &mut SqlCtx) -> FrameId {
        match tf {
            TableFactor::Table { name, alias, .. } => {
                let full = object_name(name, &cx.masks);
                let key = full.to_ascii_lowercase();
                let named =
                    cx.ctes.iter().rev().find_map(|s| s.get(&key).copied()).or_else(|| self.views.get(&key).copied());
                let id = match named {
                    Some(id) => id,
                    None => {
                        let v = self.read_table(FrameKind::Data, &full, TableKind::Catalog, "spark.sql", None, cx.loc);
                        v.as_frame().unwrap_or_default()
                    }
                };
                let quals = match alias {
                    Some(a) => vec![cx.masks.unmask(&a.name.value)],
                    None if named.is_some() => vec![full.clone()],
                    None => default_qualifiers(&full),
                };
                let v = self.derive(id, |f| f.schema = f.schema.requalified(&quals));
                let id = v.as_frame().unwrap_or(id);
                match alias {
                    Some(a) if !a.columns.is_empty() => {
                        let names: Vec<String> = a.columns.iter().map(|c| cx.masks.unmask(&c.name.value)).collect();
                        self.rename_positionally(id, &names, cx.loc)
                    }
                    _ => id,
                }
            }
            TableFactor::Derived { subquery, alias, .. } => {
                let id = self.sql_query(subquery, cx);
                let quals: Vec<String> = alias.iter().map(|a| cx.masks.unmask(&a.name.value)).collect();
                let v = self.derive(id, |f| f.schema = f.schema.requalified(&quals));
                v.as_frame().unwrap_or(id)
            }
            TableFactor::NestedJoin { table_with_joins, .. } => {
                self.sql_from(std::slice::from_ref(table_with_joins), &mut [], cx)
            }
            other => {
                let text: String = other.to_string().chars().take(60).collect();
                self.unresolved("sql-statement", format!("table expression `{text}` is not analysed"), cx.loc);
                self.add_frame(Frame::opaque(FrameKind::Data, vec![], "a table expression is not analysed".into()))
            }
        }
    }

    /// Reads made by subqueries inside expressions.
    fn sql_subqueries(&mut self, qs: Vec<&Query>, cx: &mut SqlCtx) {
        for q in qs {
            let _ = self.sql_query(q, cx);
        }
    }

    fn sql_select(&mut self, s: &Select, cx: &mut SqlCtx) -> FrameId {
        let loc = cx.loc;
        // Column equalities of WHERE join the relations of a comma-separated FROM.
        let mut keys: Vec<(ColExpr, bool)> = match (&s.selection, s.from.len()) {
            (Some(w), 2..) => {
                let mut cv = Converter { masks: &cx.masks, subqueries: vec![] };
                let all = cv.convert(w);
                all.conjuncts().into_iter().filter(|c| is_column_equality(c)).map(|c| (c.clone(), false)).collect()
            }
            _ => Vec::new(),
        };
        let mut id = self.sql_from(&s.from, &mut keys, cx);
        let joined: Vec<ColExpr> = keys.into_iter().filter(|(_, used)| *used).map(|(k, _)| k).collect();
        let masks = std::mem::take(&mut cx.masks);
        let mut cv = Converter { masks: &masks, subqueries: vec![] };
        // What joined the comma join is not a filter as well.
        let selection = s.selection.as_ref().map(|w| cv.convert(w)).and_then(|w| {
            w.conjuncts()
                .into_iter()
                .filter(|c| !joined.contains(c))
                .cloned()
                .reduce(|a, b| ColExpr::binary("AND", a, b))
        });
        let items: Vec<ColExpr> = s.projection.iter().filter_map(|i| select_item(&mut cv, i)).collect();
        let groups: Vec<ColExpr> = match &s.group_by {
            GroupByExpr::Expressions(exprs, _) => exprs.iter().map(|e| cv.convert(e)).collect(),
            GroupByExpr::All(_) => vec![],
        };
        let having = s.having.as_ref().map(|h| cv.convert(h));
        let qualify = s.qualify.as_ref().map(|q| cv.convert(q));
        let subqueries = std::mem::take(&mut cv.subqueries);
        cx.masks = masks;
        self.sql_subqueries(subqueries, cx);
        if let Some(cond) = selection {
            id = self.filter(id, &cond, "WHERE", loc).as_frame().unwrap_or(id);
        }
        let input = id;
        let out = self.project(input, &items, loc).as_frame().unwrap_or(input);
        let mut out_frame = self.frame(out);
        out_frame.grain = self
            .frame(input)
            .grain
            .filter(|g| g.keys.iter().all(|k| out_frame.schema.columns.iter().any(|c| c.expr == *k)));
        if !groups.is_empty() {
            let groups: Vec<ColExpr> = groups.iter().map(|g| ordinal(g, &items).unwrap_or_else(|| g.clone())).collect();
            let keys = groups.iter().map(|g| self.resolve(input, g.unaliased(), loc)).collect();
            let names = groups.iter().map(ColExpr::output_name).collect();
            self.set_grain(&mut out_frame, keys, names, "GROUP BY", loc);
        } else if matches!(s.distinct, Some(Distinct::Distinct)) && out_frame.schema.open.is_empty() {
            let keys = out_frame.schema.columns.iter().map(|c| c.expr.clone()).collect();
            let names = out_frame.schema.columns.iter().map(|c| c.name.clone()).collect();
            self.set_grain(&mut out_frame, keys, names, "SELECT DISTINCT", loc);
        }
        let mut out = self.add_frame(out_frame);
        for (cond, api) in [(having, "HAVING"), (qualify, "QUALIFY")] {
            if let Some(c) = cond {
                out = self.filter_in_scope(out, input, &c, api, loc);
            }
        }
        out
    }

    /// A filter on `out` whose references may name `out`'s columns or the
    /// columns of the query's input.
    fn filter_in_scope(
        &mut self,
        out: FrameId,
        input: FrameId,
        cond: &ColExpr,
        api: &str,
        loc: crate::model::Location,
    ) -> FrameId {
        let out_schema = self.frame(out).schema;
        let in_schema = self.frame(input).schema;
        let resolvable = |r: &crate::expr::ColRef| out_schema.resolve(r.qualifier.as_deref(), &r.name).is_ok();
        let use_out = cond.refs().iter().all(|r| resolvable(r));
        let scope = if use_out { out_schema.clone() } else { in_schema.joined(&out_schema, &[]) };
        let resolved = self.resolve_with(&scope, cond, loc);
        let mut f = self.frame(out);
        match resolved.first_row_filter() {
            Some(keys) => {
                let names = crate::ops::key_names(&f, keys);
                self.set_grain(&mut f, keys.to_vec(), names, "row_number window", loc);
            }
            None => {
                let fid = self.rec.filter(cond, &resolved, api, loc);
                f.filters.push(fid);
            }
        }
        self.add_frame(f)
    }
}

/// `GROUP BY 1` refers to the first select item.
fn ordinal(g: &ColExpr, items: &[ColExpr]) -> Option<ColExpr> {
    let ColExpr::Lit(n) = g else { return None };
    let idx: usize = n.parse().ok()?;
    items.get(idx.checked_sub(1)?).cloned()
}

/// `a = b` between two column references.
fn is_column_equality(c: &ColExpr) -> bool {
    matches!(c, ColExpr::Binary { op, left, right } if op == "=" && matches!(**left, ColExpr::Col(_)) && matches!(**right, ColExpr::Col(_)))
}

/// Whether an equality's sides are a column of `left` and a column of `right`, one each.
fn relates(c: &ColExpr, left: &crate::schema::Schema, right: &crate::schema::Schema) -> bool {
    let ColExpr::Binary { left: a, right: b, .. } = c else { return false };
    let (ColExpr::Col(a), ColExpr::Col(b)) = (&**a, &**b) else { return false };
    // A qualifier must name an alias of that side (not a struct column of it).
    let found = |s: &crate::schema::Schema, r: &crate::expr::ColRef| match r.qualifier.as_deref() {
        Some(q) => !s.qualifiers_of(Some(q), &r.name).is_empty(),
        None => s.resolve(None, &r.name).is_ok(),
    };
    (found(left, a) && found(right, b) && !found(left, b) && !found(right, a))
        || (found(left, b) && found(right, a) && !found(left, a) && !found(right, b))
}
