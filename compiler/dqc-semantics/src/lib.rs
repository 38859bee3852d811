//! Semantic analysis: from parsed contract files to a checked [`dqc_ir::Project`].
//!
//! ```text
//! ast::SourceFile* --pass 1: properties, columns--> drafts
//!                  --pass 2: rules, foreign keys--> IR contracts
//!                  --lints: contradictions, redundancy--> diagnostics
//!                  --graph: cycles, load order--> Project
//! ```
//!
//! Every stage collects problems and continues, so one run reports everything it can. A rule
//! with an error is left out of the IR; the project is usable only when no error was reported.

mod catalog;
mod contract;
mod expr;
mod functions;
mod lint;
pub mod literal;
mod project;
mod regex;
mod rules;
mod scope;
pub mod types;

use dqc_diagnostics::{Code, Diagnostic, FileId};
use dqc_ir::{Contract, Project, Rule, RuleKind, Severity, Stage, IR_VERSION};
use dqc_syntax::ast::{self, ItemKind, RuleBody};

pub use catalog::Snapshot;
pub use regex::non_portable;
pub use rules::{derive_id, slug};

/// One parsed file of a project.
#[derive(Debug, Clone, Copy)]
pub struct ParsedFile<'a> {
    /// Its id in the caller's source list.
    pub file: FileId,
    /// Its text.
    pub source: &'a str,
    /// Its syntax tree.
    pub ast: &'a ast::SourceFile,
}

/// Checks a project: every contract of every file, and the references between them.
pub fn check_project(files: &[ParsedFile<'_>], snapshots: &[Snapshot<'_>]) -> (Project, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut drafts = Vec::new();
    for f in files {
        for c in &f.ast.contracts {
            drafts.push(contract::lower_header(c, f.source, &mut diags));
        }
    }
    report_duplicate_contracts(&drafts, &mut diags);
    let index = project::TableIndex {
        entries: drafts
            .iter()
            .map(|d| project::IndexEntry { table: d.ir.table.clone(), columns: &d.ir.columns })
            .collect(),
    };
    let mut edges = Vec::new();
    let mut all_rules = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let (rules, refs) = lower_rules(d, &index, &mut diags);
        edges.extend(refs.into_iter().map(|(to, span)| project::Edge { from: i, to, span }));
        all_rules.push(rules);
    }
    drop(index);
    let mut contracts: Vec<Contract> = Vec::new();
    for (d, rules) in drafts.into_iter().zip(all_rules) {
        let mut c = d.ir;
        c.rules = lint::empty_ranges(rules, &mut diags);
        lint::lint_contract(&c, &mut diags);
        c.hash = dqc_ir::hash::content_hash(&c);
        contracts.push(c);
    }
    let names: Vec<String> = contracts.iter().map(|c| c.table.qualified()).collect();
    let order = project::dependency_order(&names, &edges, &mut diags);
    let load_order = order.iter().filter_map(|i| names.get(*i).cloned()).collect();
    catalog::check_catalog(&contracts, snapshots, &mut diags);
    contracts.sort_by_key(|c| c.table.qualified());
    dqc_diagnostics::sort(&mut diags);
    (Project { ir_version: IR_VERSION, contracts, load_order }, diags)
}

fn report_duplicate_contracts(drafts: &[contract::Draft<'_>], diags: &mut Vec<Diagnostic>) {
    for (i, d) in drafts.iter().enumerate() {
        let earlier = drafts.iter().take(i).find(|e| {
            e.ir.table.table.eq_ignore_ascii_case(&d.ir.table.table)
                && match (&e.ir.table.database, &d.ir.table.database) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => true,
                }
        });
        if let Some(e) = earlier {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateContract,
                    format!("table `{}` already has a contract", d.ir.table.qualified()),
                    d.ast.name.span,
                )
                .with_primary_label("second contract")
                .with_label(e.ast.name.span, "first contract"),
            );
        }
    }
}

/// Lowers the rules of one contract, adding the implicit not-null rules of its columns.
fn lower_rules(
    d: &contract::Draft<'_>,
    index: &project::TableIndex<'_>,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Rule>, Vec<(usize, dqc_diagnostics::Span)>) {
    let table = d.ir.table.qualified();
    let ctx = rules::RuleCtx { scope: scope::Scope { columns: &d.ir.columns, table: &table }, index, source: d.source };
    let ast_rules: Vec<&ast::Rule> = d
        .ast
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Rules(b) => Some(b.entries.iter()),
            _ => None,
        })
        .take(1)
        .flatten()
        .collect();
    let mut out: Vec<Rule> = Vec::new();
    let mut refs = Vec::new();
    // Implicit rules come first, in column order. The declaration is the stricter statement,
    // so an explicit not-null rule on a declared column is redundant and cannot weaken it.
    let declared = |name: &str| {
        d.ir.columns.iter().zip(&d.not_null_spans).find(|(c, nn)| nn.is_some() && c.name.eq_ignore_ascii_case(name))
    };
    for (col, nn) in d.ir.columns.iter().zip(&d.not_null_spans) {
        let Some(span) = nn else { continue };
        out.push(Rule {
            id: format!("not_null_{}", rules::slug(&col.name)),
            kind: RuleKind::NotNull { column: col.name.clone() },
            severity: Severity::Error,
            stage: Stage::PreLoad,
            stage_inferred: true,
            filter: None,
            min_pass_percent: None,
            because: None,
            implicit: true,
            span: Some(*span),
        });
    }
    // Rule ids taken so far, for duplicate detection in one lookup per rule.
    let mut ids: std::collections::BTreeMap<String, usize> =
        out.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
    for r in ast_rules {
        if let RuleBody::NotNull(c) = &r.body {
            if let Some((col, Some(span))) = declared(&c.name) {
                diags.push(
                    Diagnostic::new(
                        Code::RedundantRule,
                        format!("column `{}` is already declared `not null`", col.name),
                        r.span,
                    )
                    .with_primary_label("implied by the declaration")
                    .with_label(*span, "declared here")
                    .with_help("to relax the check, remove `not null` from the column and keep this rule"),
                );
                continue;
            }
        }
        let Some(lowered) = rules::lower_rule(r, &ctx, diags) else { continue };
        if let Some(first) = ids.get(&lowered.rule.id).and_then(|&i| out.get(i)) {
            if r.id.is_none() && lint::same_rule(first, &lowered.rule) {
                diags.push(
                    Diagnostic::new(Code::RedundantRule, "rule repeats an earlier rule", r.span)
                        .with_primary_label("same as the earlier rule")
                        .with_label(first.span.unwrap_or_default(), "earlier rule"),
                );
                continue;
            }
            let mut diag =
                Diagnostic::new(Code::DuplicateRuleId, format!("rule id `{}` is used twice", lowered.rule.id), r.span)
                    .with_primary_label("second rule with this id")
                    .with_label(first.span.unwrap_or_default(), "first rule with this id");
            if r.id.is_none() {
                diag = diag.with_help(format!("give this rule its own id: `{}_2: ...`", lowered.rule.id));
            }
            diags.push(diag);
            continue;
        }
        if let Some(reference) = lowered.reference {
            refs.push(reference);
        }
        ids.insert(lowered.rule.id.clone(), out.len());
        out.push(lowered.rule);
    }
    (out, refs)
}

/// Checks a single expression against a contract's columns (used by importers and tools).
pub fn check_expression(expr: &ast::Expr, contract: &Contract) -> Result<dqc_ir::Expr, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let table = contract.table.qualified();
    let scope = scope::Scope { columns: &contract.columns, table: &table };
    match expr::check_condition(expr, &scope, "a check", &mut diags) {
        Some(e) if diags.is_empty() => Ok(e),
        _ => Err(diags),
    }
}
