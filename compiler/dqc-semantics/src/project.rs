//! Cross-contract resolution: the table index, foreign keys, and the dependency graph.

use dqc_diagnostics::{did_you_mean, Code, Diagnostic, Span};
use dqc_ir::{Column, RuleKind, TableRef, Type};
use dqc_syntax::ast;
use petgraph::graph::DiGraph;

use crate::rules::RuleCtx;

/// One contract as seen from other contracts.
#[derive(Debug)]
pub struct IndexEntry<'a> {
    /// Its table.
    pub table: TableRef,
    /// Its columns.
    pub columns: &'a [Column],
}

/// Every contract of the project, by position.
#[derive(Debug)]
pub struct TableIndex<'a> {
    /// Entries in project order.
    pub entries: Vec<IndexEntry<'a>>,
}

impl TableIndex<'_> {
    /// Finds the contracts a written table name can mean.
    fn lookup(&self, name: &ast::TableName) -> Vec<usize> {
        let table = &name.table.name;
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.table.table.eq_ignore_ascii_case(table)
                    && match (&name.database, &e.table.database) {
                        (Some(db), Some(edb)) => db.name.eq_ignore_ascii_case(edb),
                        (Some(_), None) => false,
                        (None, _) => true,
                    }
            })
            .map(|(i, _)| i)
            .collect()
    }
}

fn written(name: &ast::TableName) -> String {
    match &name.database {
        Some(db) => format!("{}.{}", db.name, name.table.name),
        None => name.table.name.clone(),
    }
}

/// Lowers `cols references table (ref_cols)`.
pub fn lower_foreign_key(
    columns: &[ast::Ident],
    table: &ast::TableName,
    ref_columns: &[ast::Ident],
    ctx: &RuleCtx<'_>,
    reference: &mut Option<(usize, Span)>,
    diags: &mut Vec<Diagnostic>,
) -> Option<RuleKind> {
    let local: Vec<Option<&Column>> = columns.iter().map(|c| ctx.scope.resolve(c, diags)).collect();
    let matches = ctx.index.lookup(table);
    let target = match matches.as_slice() {
        [one] => *one,
        [] => {
            let mut d = Diagnostic::new(
                Code::UnknownTable,
                format!("no contract describes table `{}`", written(table)),
                table.span,
            )
            .with_primary_label("referenced here");
            let names: Vec<String> = ctx.index.entries.iter().map(|e| e.table.qualified()).collect();
            let shorts: Vec<&str> = ctx.index.entries.iter().map(|e| e.table.table.as_str()).collect();
            if let Some(s) = did_you_mean(&table.table.name, shorts.iter().copied()) {
                let full = names.iter().find(|n| n.ends_with(s)).cloned().unwrap_or_else(|| s.to_string());
                d = d.with_help(format!("did you mean `{full}`?"));
            } else {
                d = d.with_help("add the referenced table's contract to the project");
            }
            diags.push(d);
            return None;
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .filter_map(|i| ctx.index.entries.get(*i))
                .map(|e| format!("`{}`", e.table.qualified()))
                .collect();
            diags.push(
                Diagnostic::new(Code::UnknownTable, format!("table `{}` is ambiguous", written(table)), table.span)
                    .with_help(format!("qualify it with its database: {}", names.join(" or "))),
            );
            return None;
        }
    };
    let entry = ctx.index.entries.get(target)?;
    if columns.len() != ref_columns.len() {
        diags.push(
            Diagnostic::new(
                Code::ForeignKeyArity,
                format!("{} column(s) reference {} column(s)", columns.len(), ref_columns.len()),
                table.span,
            )
            .with_help("list as many referenced columns as referencing ones"),
        );
        return None;
    }
    let mut ok = local.iter().all(Option::is_some);
    let mut ref_names = Vec::new();
    for (i, rc) in ref_columns.iter().enumerate() {
        let Some(target_col) = entry.columns.iter().find(|c| c.name.eq_ignore_ascii_case(&rc.name)) else {
            let mut d = Diagnostic::new(
                Code::ForeignKeyColumnNotFound,
                format!("table `{}` has no column `{}`", entry.table.qualified(), rc.name),
                rc.span,
            )
            .with_primary_label("not declared in the referenced contract");
            if let Some(s) = did_you_mean(&rc.name, entry.columns.iter().map(|c| c.name.as_str())) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
            ok = false;
            continue;
        };
        ref_names.push(target_col.name.clone());
        if let Some(Some(local_col)) = local.get(i) {
            if !fk_compatible(&local_col.ty, &target_col.ty) {
                let span = columns.get(i).map(|c| c.span).unwrap_or(table.span);
                diags.push(
                    Diagnostic::new(
                        Code::ForeignKeyTypeMismatch,
                        format!(
                            "`{}` ({}) cannot reference `{}.{}` ({})",
                            local_col.name, local_col.ty, entry.table.table, target_col.name, target_col.ty
                        ),
                        span,
                    )
                    .with_primary_label(format!("`{}`", local_col.ty))
                    .with_label(rc.span, format!("`{}`", target_col.ty))
                    .with_help(if local_col.ty == target_col.ty {
                        "floating-point keys cannot be matched exactly; use integer or decimal keys"
                    } else {
                        "keys must both be strings, integers or decimals, or both dates or timestamps"
                    }),
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    *reference = Some((target, table.span));
    Some(RuleKind::ForeignKey {
        columns: local.iter().flatten().map(|c| c.name.clone()).collect(),
        table: entry.table.clone(),
        ref_columns: ref_names,
    })
}

/// Key types that can be joined for an orphan check.
fn fk_compatible(a: &Type, b: &Type) -> bool {
    (a.is_string() && b.is_string())
        || (a.is_integer() && b.is_integer())
        || (matches!(a, Type::Decimal { .. }) && (b.is_integer() || matches!(b, Type::Decimal { .. })))
        || (a.is_integer() && matches!(b, Type::Decimal { .. }))
        || (a == b && !a.is_complex() && !matches!(a, Type::Float | Type::Double))
}

/// A foreign-key edge between contracts.
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    /// Referencing contract.
    pub from: usize,
    /// Referenced contract.
    pub to: usize,
    /// The table name in the foreign key.
    pub span: Span,
}

/// Builds the dependency graph, reports cycles (E0403) and returns a load order (referenced
/// contracts first, ties broken by `names`).
pub fn dependency_order(names: &[String], edges: &[Edge], diags: &mut Vec<Diagnostic>) -> Vec<usize> {
    let mut graph: DiGraph<usize, Span> = DiGraph::new();
    let nodes: Vec<_> = (0..names.len()).map(|i| graph.add_node(i)).collect();
    for e in edges.iter().filter(|e| e.from != e.to) {
        if let (Some(a), Some(b)) = (nodes.get(e.from), nodes.get(e.to)) {
            graph.add_edge(*a, *b, e.span);
        }
    }
    for scc in petgraph::algo::tarjan_scc(&graph) {
        if scc.len() < 2 {
            continue;
        }
        let members: Vec<usize> = scc.iter().filter_map(|n| graph.node_weight(*n).copied()).collect();
        let mut cycle_edges: Vec<&Edge> =
            edges.iter().filter(|e| e.from != e.to && members.contains(&e.from) && members.contains(&e.to)).collect();
        cycle_edges.sort_by_key(|e| e.span);
        let mut tables: Vec<&str> = members.iter().filter_map(|m| names.get(*m)).map(String::as_str).collect();
        tables.sort_unstable();
        if let Some((first, rest)) = cycle_edges.split_first() {
            let mut d = Diagnostic::new(
                Code::DependencyCycle,
                format!(
                    "foreign keys form a cycle between {}",
                    tables.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
                ),
                first.span,
            )
            .with_primary_label("this reference is part of the cycle")
            .with_help("remove one of the references, or check it with a `check` rule instead");
            for e in rest {
                d = d.with_label(e.span, "and this one");
            }
            diags.push(d);
        }
    }
    // Kahn's algorithm with a sorted ready set gives a deterministic order; nodes on cycles
    // are appended by name at the end.
    let mut indegree = vec![0usize; names.len()];
    for e in edges.iter().filter(|e| e.from != e.to) {
        if let Some(d) = indegree.get_mut(e.from) {
            *d += 1;
        }
    }
    let mut order = Vec::new();
    let mut done = vec![false; names.len()];
    loop {
        let mut ready: Vec<usize> = (0..names.len()).filter(|i| !done[*i] && indegree[*i] == 0).collect();
        ready.sort_by(|a, b| names[*a].cmp(&names[*b]));
        let Some(next) = ready.first().copied() else { break };
        done[next] = true;
        order.push(next);
        for e in edges.iter().filter(|e| e.to == next && e.from != e.to) {
            if let Some(d) = indegree.get_mut(e.from) {
                *d = d.saturating_sub(1);
            }
        }
    }
    let mut rest: Vec<usize> = (0..names.len()).filter(|i| !done[*i]).collect();
    rest.sort_by(|a, b| names[*a].cmp(&names[*b]));
    order.extend(rest);
    order
}
