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
///
/// The mapping is injective, so two contracts never write the same file: ASCII letters, digits,
/// `_` and `-` are kept, and every other byte of the UTF-8 name is written `%XX` (so `"a b"` is
/// `a%20b`, distinct from `a_b`); the `.` between database and table is never part of an
/// escaped name. A qualified table named `partition`, `suite` or `rejected_lines` has its first
/// letter escaped, so that `db.partition.sql` cannot be the partition suite (nor
/// `db.rejected_lines.parquet` the pre-load rejects) of a table named `db`.
pub fn file_stem(project: &Project, contract: &Contract) -> String {
    let shared =
        project.contracts.iter().filter(|c| c.table.table.eq_ignore_ascii_case(&contract.table.table)).count() > 1;
    match (&contract.table.database, shared) {
        (Some(db), true) => {
            let table = safe_name(&contract.table.table);
            let table = if ["partition", "suite", "rejected_lines"].iter().any(|w| table.eq_ignore_ascii_case(w)) {
                let mut bytes = table.bytes();
                let first = bytes.next().map(|b| format!("%{b:02X}")).unwrap_or_default();
                first + table.get(1..).unwrap_or_default()
            } else {
                table
            };
            format!("{}.{table}", safe_name(db))
        }
        _ => safe_name(&contract.table.table),
    }
}

/// A name with every byte outside `[A-Za-z0-9_-]` percent-encoded.
pub fn safe_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn names_that_used_to_collide_stay_apart() {
        let names = ["a b", "a_b", "a-b", "a%20b", "a.b", "é", "e", "_", "%"];
        let stems: std::collections::BTreeSet<String> = names.iter().map(|n| safe_name(n)).collect();
        assert_eq!(stems.len(), names.len(), "{stems:?}");
        assert_eq!(safe_name("loan_repayment_fact"), "loan_repayment_fact");
        assert_eq!(safe_name("a b"), "a%20b");
        assert_eq!(safe_name("é"), "%C3%A9");
    }
}
