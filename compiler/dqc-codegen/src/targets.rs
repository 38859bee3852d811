//! Compilation targets and the output layout.
//!
//! The layout mirrors the artifact store (seed section 6): `contracts/<table>.json`,
//! `tests/<table>.json`, `docs/<table>.md` and `docs/<table>.mmd`, plus `sql/<dialect>/<table>.sql`
//! (and `<table>.partition.sql` for partitioned tables) and `pyspark/<table>_preload.py`.

use dqc_ir::{Contract, Project};

/// What `dqc compile` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Athena (Trino) SQL suites.
    Athena,
    /// DuckDB SQL suites.
    Duckdb,
    /// PySpark pre-load modules for Glue jobs.
    Pyspark,
    /// Mermaid diagrams.
    Mermaid,
    /// Markdown documentation.
    Markdown,
    /// Seed-compatible contract and test JSON, and the IR.
    Json,
}

impl Target {
    /// Every target, in output order.
    pub const ALL: &'static [Target] =
        &[Target::Athena, Target::Duckdb, Target::Pyspark, Target::Mermaid, Target::Markdown, Target::Json];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Athena => "athena",
            Target::Duckdb => "duckdb",
            Target::Pyspark => "pyspark",
            Target::Mermaid => "mermaid",
            Target::Markdown => "markdown",
            Target::Json => "json",
        }
    }

    /// Looks a target up by name.
    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.iter().copied().find(|t| t.name().eq_ignore_ascii_case(name))
    }
}

/// The file stem of a contract's outputs: the table name, made safe for file systems, and
/// qualified by the database when two contracts of the project share a table name.
pub fn file_stem(project: &Project, contract: &Contract) -> String {
    let safe = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
    };
    let shared =
        project.contracts.iter().filter(|c| c.table.table.eq_ignore_ascii_case(&contract.table.table)).count() > 1;
    match (&contract.table.database, shared) {
        (Some(db), true) => format!("{}.{}", safe(db), safe(&contract.table.table)),
        _ => safe(&contract.table.table),
    }
}
