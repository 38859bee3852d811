//! Import and export of the seed's JSON shapes: what an LLM is asked to return for a table
//! (`data_quality`, `tests`, `docs_markdown`), and the same shape generated from checked
//! contracts.
//!
//! ```text
//! LLM output --import--> contract text (canonical, then checked like any contract)
//! Project (IR) --export--> [{ "data_quality": {...}, "tests": [...] }, ...]
//! ```
//!
//! Export is lossless: importing an export gives back contracts with the same content hash.
//! Import is forgiving about what LLMs produce (Markdown fences, prose around the JSON,
//! comments, trailing commas, common rule-type aliases) and precise about what it cannot
//! read: every diagnostic points into the JSON text.

mod export;
mod import;
mod json;
pub mod printer;
mod prose;
mod rules;
mod types;
mod values;

use dqc_diagnostics::{Diagnostic, FileId};
use dqc_ir::Project;

/// Imports LLM output into contract text.
///
/// `text` is one JSON object in the seed's shape, or an array of them (one contract each),
/// possibly inside a Markdown code fence or surrounded by prose. Diagnostics point into
/// `text` as file `file`: E0901 for invalid JSON, E0902 for a missing or mistyped field,
/// E0903 for an unknown rule type, W0904 where the import approximates or drops something.
///
/// The contract text is canonical (formatted). It is `None` when nothing could be imported;
/// otherwise a rule or column that could not be read is left out and reported, so the text
/// is only complete when no error was reported. It is not checked: the caller checks it
/// like any contract, together with the contracts its foreign keys reference.
pub fn import(text: &str, file: FileId) -> (Option<String>, Vec<Diagnostic>) {
    import::import(text, file)
}

/// Exports a checked project: a JSON array with one `{ "data_quality", "tests" }` object per
/// contract, in project order.
///
/// `data_quality` has the table's properties, its columns (keyed by name, with their order
/// in `column_order`) with the rules about each column's values, and `table_level_checks`.
/// `tests` has one entry per rule with its contract-language text and an English
/// description. Importing the result gives back the same contracts.
pub fn export(project: &Project) -> serde_json::Value {
    export::export(project)
}
