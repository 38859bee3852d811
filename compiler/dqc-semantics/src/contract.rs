//! Lowering of contract properties and columns (the first pass, before rules).

use dqc_diagnostics::{Code, Diagnostic, Span};
use dqc_ir::{Column, Contract, Frequency, Sla, TableRef};
use dqc_syntax::ast::{self, ColumnAttr, ItemKind};

use crate::rules::keyword;
use crate::scope::unknown_column;
use crate::types::lower_type;

/// A contract after the first pass: properties and columns lowered, rules not yet.
#[derive(Debug)]
pub struct Draft<'a> {
    /// The syntax.
    pub ast: &'a ast::Contract,
    /// The source text of that file.
    pub source: &'a str,
    /// The IR being built (rules empty, hash empty).
    pub ir: Contract,
    /// The `not null` attribute span of each non-nullable column, by column index.
    pub not_null_spans: Vec<Option<Span>>,
}

/// Lowers a contract's properties and columns.
pub fn lower_header<'a>(c: &'a ast::Contract, source: &'a str, diags: &mut Vec<Diagnostic>) -> Draft<'a> {
    let table =
        TableRef { database: c.name.database.as_ref().map(|d| d.name.clone()), table: c.name.table.name.clone() };
    let mut ir = Contract {
        table,
        owner: None,
        description: None,
        layer: None,
        location: None,
        partitions: Vec::new(),
        grain: Vec::new(),
        sla: None,
        columns: Vec::new(),
        rules: Vec::new(),
        hash: String::new(),
        span: Some(c.span),
    };
    let mut seen: Vec<(&'static str, Span)> = Vec::new();
    let mut not_null_spans = Vec::new();
    for item in &c.items {
        let word = property_word(&item.kind);
        if let Some((_, first)) = seen.iter().find(|(w, _)| *w == word) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateProperty,
                    format!("`{word}` is given twice in this contract"),
                    item.span,
                )
                .with_primary_label("second one")
                .with_label(*first, "first given here")
                .with_help(if matches!(item.kind, ItemKind::Columns(_) | ItemKind::Rules(_)) {
                    "merge the two blocks into one"
                } else {
                    "keep one of them"
                }),
            );
            continue;
        }
        seen.push((word, item.span));
        match &item.kind {
            ItemKind::Owner(s) => ir.owner = non_empty(s, "owner", diags),
            ItemKind::Description(s) => ir.description = Some(s.value.clone()),
            ItemKind::Layer(l) => ir.layer = Some(l.name.to_ascii_lowercase()),
            ItemKind::Location(s) => ir.location = non_empty(s, "location", diags),
            ItemKind::Sla(sla) => ir.sla = lower_sla(sla, diags),
            ItemKind::Columns(block) => {
                for col in &block.entries {
                    lower_column(col, &mut ir.columns, &mut not_null_spans, &ir.table, diags);
                }
            }
            ItemKind::PartitionedBy(_) | ItemKind::Grain(_) | ItemKind::Rules(_) => {}
        }
    }
    // Partitions and grain refer to columns, which may be declared after them.
    for item in &c.items {
        match &item.kind {
            ItemKind::PartitionedBy(cols) => ir.partitions = resolve_list(cols, &ir, diags),
            ItemKind::Grain(cols) => ir.grain = resolve_list(cols, &ir, diags),
            _ => {}
        }
    }
    Draft { ast: c, source, ir, not_null_spans }
}

fn property_word(kind: &ItemKind) -> &'static str {
    match kind {
        ItemKind::Owner(_) => "owner",
        ItemKind::Description(_) => "description",
        ItemKind::Layer(_) => "layer",
        ItemKind::Location(_) => "location",
        ItemKind::PartitionedBy(_) => "partitioned by",
        ItemKind::Grain(_) => "grain",
        ItemKind::Sla(_) => "sla",
        ItemKind::Columns(_) => "columns",
        ItemKind::Rules(_) => "rules",
    }
}

fn non_empty(s: &ast::Str, what: &str, diags: &mut Vec<Diagnostic>) -> Option<String> {
    if s.value.trim().is_empty() {
        diags.push(Diagnostic::new(Code::InvalidPropertyValue, format!("`{what}` is empty"), s.span));
        return None;
    }
    Some(s.value.clone())
}

fn lower_sla(sla: &ast::Sla, diags: &mut Vec<Diagnostic>) -> Option<Sla> {
    let allowed = [("hourly", 0), ("daily", 1), ("weekly", 2), ("monthly", 3)];
    let frequency = match keyword(&sla.frequency, &allowed, "sla frequency", diags)? {
        0 => Frequency::Hourly,
        1 => Frequency::Daily,
        2 => Frequency::Weekly,
        _ => Frequency::Monthly,
    };
    let by_utc = match &sla.by {
        Some(t) => {
            let (h, m) = t.value.split_once(':')?;
            match (h.parse::<u32>(), m.parse::<u32>()) {
                (Ok(h), Ok(m)) if h < 24 && m < 60 => Some(format!("{h:02}:{m:02}")),
                _ => {
                    diags.push(
                        Diagnostic::new(
                            Code::InvalidPropertyValue,
                            format!("`{}` is not a time of day", t.value),
                            t.span,
                        )
                        .with_primary_label("expected 00:00 to 23:59"),
                    );
                    return None;
                }
            }
        }
        None => None,
    };
    Some(Sla { frequency, by_utc })
}

fn lower_column(
    col: &ast::Column,
    columns: &mut Vec<Column>,
    not_null_spans: &mut Vec<Option<Span>>,
    table: &TableRef,
    diags: &mut Vec<Diagnostic>,
) {
    if let Some(first) = columns.iter().find(|c| c.name.eq_ignore_ascii_case(&col.name.name)) {
        diags.push(
            Diagnostic::new(
                Code::DuplicateColumn,
                format!("column `{}` is declared twice in `{}`", col.name.name, table.qualified()),
                col.name.span,
            )
            .with_primary_label("second declaration")
            .with_label(first.span.unwrap_or(col.span), "first declared here"),
        );
        return;
    }
    let Some(ty) = lower_type(&col.ty, diags) else { return };
    let mut nullable = true;
    let mut not_null_span = None;
    let mut pii = false;
    let mut description = None;
    for attr in &col.attrs {
        match attr {
            ColumnAttr::NotNull(s) => {
                nullable = false;
                not_null_span = Some(*s);
            }
            ColumnAttr::Null(_) => {
                // The last of `not null` and `null` wins, as in DDL.
                nullable = true;
                not_null_span = None;
            }
            ColumnAttr::Pii(_) => pii = true,
            ColumnAttr::Comment(s) => description = Some(s.value.clone()),
        }
    }
    columns.push(Column { name: col.name.name.clone(), ty, nullable, pii, description, span: Some(col.span) });
    not_null_spans.push(not_null_span);
}

fn resolve_list(cols: &[ast::Ident], ir: &Contract, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut out = Vec::new();
    for id in cols {
        match ir.column(&id.name) {
            Some(c) => out.push(c.name.clone()),
            None => diags.push(unknown_column(id, &ir.table.qualified(), &ir.columns)),
        }
    }
    out
}
