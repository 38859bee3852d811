//! The public, serialisable result of analysing one job script.
//!
//! Field order in these structs is the field order in the JSON output, so it
//! is part of the contract: add fields at the end of a struct.

use schemars::JsonSchema;
use serde::Serialize;

/// A 1-based line and column (in characters) in the analysed script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
pub struct Location {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, counted in Unicode scalar values.
    pub column: u32,
}

/// A column of a base table (catalog table, path or connection).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
pub struct ColumnRef {
    /// The table as reported in `inputs` (for example `raw_db.raw_payments`).
    pub table: String,
    /// The column name as written in the script.
    pub column: String,
}

/// Everything the analyser found in one script.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct JobAnalysis {
    /// The job name given by the caller.
    pub job_name: String,
    /// The job summary in the shape the contract drafter consumes.
    pub summary: JobSummary,
    /// Job arguments read with `getResolvedOptions`; values that depend on
    /// them are shown as `${name}`.
    pub parameters: Vec<Parameter>,
    /// Every read of a table, path or connection.
    pub reads: Vec<TableRead>,
    /// Every write, with column lineage for the written data.
    pub writes: Vec<TableWrite>,
    /// Every join, with its key columns resolved to tables where possible.
    pub joins: Vec<JoinFinding>,
    /// Every row filter.
    pub filters: Vec<FilterFinding>,
    /// Every statement that fixes the grain of a dataset.
    pub grains: Vec<GrainFinding>,
    /// Hints for drafting data contracts of the written tables.
    pub hints: Vec<RuleHint>,
    /// Base-table columns the job reads, for "what reads this column?" queries.
    pub columns_read: Vec<ColumnRef>,
    /// What the analyser could not resolve, stated instead of guessed.
    pub unresolved: Vec<Unresolved>,
}

/// The job summary: inputs, outputs, join keys, filters and grain.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct JobSummary {
    /// The job name.
    pub job_name: String,
    /// Distinct tables read, in order of first read.
    pub inputs: Vec<String>,
    /// The single output when the job writes exactly one target.
    pub output: Option<String>,
    /// Every distinct output, in order of first write.
    pub outputs: Vec<String>,
    /// Join keys between tables.
    pub join_keys: Vec<JoinKey>,
    /// Row filters as written, in source order.
    pub filters: Vec<String>,
    /// Grain of the single output, when the code establishes one.
    pub grain: Vec<String>,
}

/// One join in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct JoinKey {
    /// Table of the left key columns, when resolvable.
    pub left_table: Option<String>,
    /// Table of the right key columns, when resolvable.
    pub right_table: Option<String>,
    /// Key column names that are the same on both sides.
    pub columns: Vec<String>,
    /// Left key columns, pairwise with `right_columns`.
    pub left_columns: Vec<String>,
    /// Right key columns, pairwise with `left_columns`.
    pub right_columns: Vec<String>,
    /// `inner`, `left`, `right`, `full`, `left_semi`, `left_anti` or `cross`.
    pub join_type: String,
}

/// A job argument.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Parameter {
    /// Argument name as passed to `getResolvedOptions`.
    pub name: String,
    /// Where it is declared.
    pub location: Location,
}

/// How a table is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// A Glue Data Catalog table (`database.table`).
    Catalog,
    /// A storage path such as `s3://bucket/prefix/`.
    Path,
    /// A JDBC table (`jdbc:connection/table`).
    Jdbc,
    /// Another connector (`dynamodb:table`, `kafka:topic`, ...).
    Connection,
}

/// One read.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TableRead {
    /// The table, path or connection read.
    pub table: String,
    /// How it is addressed.
    pub kind: TableKind,
    /// The API that reads it, for example `create_dynamic_frame.from_catalog`.
    pub api: String,
    /// File or connector format, when stated.
    pub format: Option<String>,
    /// Where the read happens.
    pub location: Location,
}

/// One write, with the lineage of what is written.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TableWrite {
    /// The table, path or connection written.
    pub target: String,
    /// How it is addressed.
    pub kind: TableKind,
    /// The API that writes it.
    pub api: String,
    /// File or connector format, when stated.
    pub format: Option<String>,
    /// Save mode (`append`, `overwrite`, ...), when stated.
    pub mode: Option<String>,
    /// Partition columns, when stated.
    pub partition_keys: Vec<String>,
    /// Where the write happens.
    pub location: Location,
    /// Base tables whose data reaches this write.
    pub sources: Vec<String>,
    /// Columns whose lineage is known, in output order.
    pub columns: Vec<ColumnLineage>,
    /// Tables whose remaining columns pass through unchanged but are not
    /// listed, because their schema is not known to the analyser.
    pub passthrough_from: Vec<String>,
    /// Why the written columns are not known, when they are not.
    pub columns_unknown: Option<String>,
    /// Grain of the written data, in output column names.
    pub grain: Vec<String>,
}

/// Lineage of one output column.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ColumnLineage {
    /// Output column name.
    pub column: String,
    /// The expression in terms of base-table columns.
    pub expression: String,
    /// Base-table columns the expression reads.
    pub inputs: Vec<ColumnRef>,
    /// Where the column is defined, when it is defined in this script.
    pub location: Option<Location>,
}

/// One join.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct JoinFinding {
    /// Table of the left key columns, when resolvable.
    pub left_table: Option<String>,
    /// Table of the right key columns, when resolvable.
    pub right_table: Option<String>,
    /// Left key columns.
    pub left_columns: Vec<String>,
    /// Right key columns.
    pub right_columns: Vec<String>,
    /// Normalised join type.
    pub join_type: String,
    /// The join condition as written.
    pub condition: String,
    /// Where the join happens.
    pub location: Location,
}

/// One row filter.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FilterFinding {
    /// The predicate, rendered as SQL.
    pub expression: String,
    /// Base-table columns the predicate reads.
    pub columns: Vec<ColumnRef>,
    /// The API that filters, for example `where` or `push_down_predicate`.
    pub api: String,
    /// Where the filter happens.
    pub location: Location,
}

/// A statement that fixes the grain (one row per key) of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct GrainFinding {
    /// Key columns, as written.
    pub columns: Vec<String>,
    /// What establishes it: `dropDuplicates`, `row_number window`, `groupBy`, ...
    pub evidence: String,
    /// Where it is established.
    pub location: Location,
}

/// Kind of a rule hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HintKind {
    /// A cast or declared mapping gives the column a type.
    Type,
    /// A filter upstream of the write constrains the column's values.
    ValueConstraint,
    /// A `coalesce`, `fillna` or `IS NOT NULL` filter makes the column non-null.
    NotNull,
    /// A join key suggests the column references another table.
    ForeignKey,
    /// A dedup window, `dropDuplicates` or aggregation makes the columns unique.
    Grain,
}

/// A hint for a contract drafter about a written table.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RuleHint {
    /// The kind of rule suggested.
    pub kind: HintKind,
    /// The written table the hint is about.
    pub table: String,
    /// Columns of that table the hint is about.
    pub columns: Vec<String>,
    /// The suggested rule, for example `decimal(12,2)` or `status IN ('A')`.
    pub detail: String,
    /// The code that implies it.
    pub evidence: String,
    /// Where that code is.
    pub location: Location,
}

/// Something the analyser could not resolve.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Unresolved {
    /// A stable code: `dynamic-name`, `unknown-transform`, `column`,
    /// `sql-parse`, `sql-statement`, `branch`, `predicate`, `frame`, `limit`.
    pub code: String,
    /// What could not be resolved, in plain words.
    pub message: String,
    /// Where.
    pub location: Location,
}
