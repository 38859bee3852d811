//! Backends: from the IR to files.
//!
//! ```text
//! IR (Project) ──▶ sql::Suite per contract and dialect ──▶ athena/*.sql, duckdb/*.sql, tests/<table>.json
//!              ──▶ pyspark module                        ──▶ pyspark/<table>_preload.py
//!              ──▶ mermaid, markdown                     ──▶ docs/<table>.mmd, docs/<table>.md
//!              ──▶ seed JSON                             ──▶ contracts/<table>.json
//! ```
//!
//! Backends see only the IR (never the syntax tree), do no IO and read no clock: every
//! function here maps values to values, and the same IR always gives byte-identical files.

pub mod describe;
pub mod markdown;
pub mod mermaid;
pub mod pyspark;
pub mod sql;
pub mod targets;

pub use targets::{file_stem, safe_name, Target};

use serde::Serialize;

/// One generated file: a path relative to the output directory, and its contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputFile {
    /// Relative path with `/` separators.
    pub path: String,
    /// Contents; text files end with a newline.
    pub contents: String,
}
