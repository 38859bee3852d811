//! Drift between contracts and catalog snapshots (Glue `GetTable` response JSON).

use dqc_diagnostics::{Code, Diagnostic, FileId, Span};
use dqc_ir::{Contract, Type};
use serde::Deserialize;

use crate::types::parse_glue_type;

#[derive(Debug, Deserialize)]
struct GetTable {
    #[serde(rename = "Table")]
    table: GlueTable,
}

#[derive(Debug, Deserialize)]
struct GlueTable {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "DatabaseName")]
    database: Option<String>,
    #[serde(rename = "StorageDescriptor")]
    storage: Storage,
    #[serde(rename = "PartitionKeys", default)]
    partition_keys: Vec<GlueColumn>,
}

#[derive(Debug, Deserialize)]
struct Storage {
    #[serde(rename = "Columns")]
    columns: Vec<GlueColumn>,
}

#[derive(Debug, Deserialize)]
struct GlueColumn {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Type")]
    ty: String,
}

/// A catalog snapshot: one file holding a Glue `GetTable` response.
#[derive(Debug)]
pub struct Snapshot<'a> {
    /// Which file.
    pub file: FileId,
    /// Its text.
    pub text: &'a str,
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// Compares every snapshot with the contract of the same table.
pub fn check_catalog(contracts: &[Contract], snapshots: &[Snapshot<'_>], diags: &mut Vec<Diagnostic>) {
    for snap in snapshots {
        let parsed: GetTable = match serde_json::from_str(snap.text) {
            Ok(t) => t,
            Err(e) => {
                let at = offset_of(snap.text, e.line(), e.column());
                diags.push(
                    Diagnostic::new(
                        Code::InvalidCatalogSnapshot,
                        format!("not a Glue GetTable response: {e}"),
                        Span::new(snap.file, at, at + 1),
                    )
                    .with_help("save the output of `aws glue get-table --database-name DB --name TABLE`"),
                );
                continue;
            }
        };
        let t = &parsed.table;
        let contract = contracts.iter().find(|c| {
            c.table.table.eq_ignore_ascii_case(&t.name)
                && match (&c.table.database, &t.database) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => true,
                }
        });
        let Some(contract) = contract else {
            let whole = Span::new(snap.file, 0, snap.text.len().min(1));
            diags.push(Diagnostic::new(
                Code::CatalogWithoutContract,
                format!("no contract describes catalog table `{}`", qualified(t)),
                whole,
            ));
            continue;
        };
        drift(contract, t, snap, diags);
    }
}

fn qualified(t: &GlueTable) -> String {
    match &t.database {
        Some(db) => format!("{db}.{}", t.name),
        None => t.name.clone(),
    }
}

/// Span of the first occurrence of `"name"` in the snapshot, to point at the catalog's column.
fn find_in(snap: &Snapshot<'_>, name: &str) -> Span {
    let needle = format!("\"{name}\"");
    match snap.text.find(&needle) {
        Some(i) => Span::new(snap.file, i, i + needle.len()),
        None => Span::new(snap.file, 0, 1.min(snap.text.len())),
    }
}

/// The `contract` keyword of a contract, to point at it without underlining all of it.
fn head(contract: &Contract) -> Span {
    let s = contract.span.unwrap_or_default();
    Span { end: s.end.min(s.start + 8), ..s }
}

fn drift(contract: &Contract, t: &GlueTable, snap: &Snapshot<'_>, diags: &mut Vec<Diagnostic>) {
    let table = qualified(t);
    let catalog: Vec<&GlueColumn> = t.storage.columns.iter().chain(&t.partition_keys).collect();
    for col in &contract.columns {
        let span = col.span.unwrap_or_default();
        match catalog.iter().find(|g| g.name.eq_ignore_ascii_case(&col.name)) {
            None => diags.push(
                Diagnostic::new(
                    Code::CatalogColumnMissing,
                    format!("column `{}` is not in the catalog table `{table}`", col.name),
                    span,
                )
                .with_primary_label("declared here")
                .with_help("add the column to the table, or remove it from the contract"),
            ),
            Some(g) => {
                let catalog_type: Option<Type> = parse_glue_type(&g.ty);
                if !crate::types::agrees(&col.ty, catalog_type.as_ref()) {
                    diags.push(
                        Diagnostic::new(
                            Code::CatalogTypeMismatch,
                            format!(
                                "column `{}` is `{}` in the contract but `{}` in the catalog",
                                col.name, col.ty, g.ty
                            ),
                            span,
                        )
                        .with_primary_label(format!("contract says `{}`", col.ty))
                        .with_label(find_in(snap, &g.name), format!("catalog says `{}`", g.ty)),
                    );
                }
            }
        }
    }
    for g in &catalog {
        if contract.column(&g.name).is_none() {
            diags.push(
                Diagnostic::new(
                    Code::CatalogExtraColumn,
                    format!("catalog column `{}` of `{table}` is not in the contract", g.name),
                    find_in(snap, &g.name),
                )
                .with_label(head(contract), "contract declared here")
                .with_help(match parse_glue_type(&g.ty) {
                    Some(t) => format!("declare `{} {t}` in the contract's columns", g.name),
                    None => {
                        format!("catalog type `{}` has no contract equivalent yet; the column cannot be declared", g.ty)
                    }
                }),
            );
        }
    }
    let keys: Vec<String> = t.partition_keys.iter().map(|k| k.name.to_ascii_lowercase()).collect();
    let declared: Vec<String> = contract.partitions.iter().map(|p| p.to_ascii_lowercase()).collect();
    if keys != declared {
        diags.push(
            Diagnostic::new(
                Code::CatalogPartitionMismatch,
                format!(
                    "partition keys are ({}) in the contract but ({}) in the catalog",
                    declared.join(", "),
                    keys.join(", ")
                ),
                head(contract),
            )
            .with_label(find_in(snap, "PartitionKeys"), "catalog partition keys"),
        );
    }
}
