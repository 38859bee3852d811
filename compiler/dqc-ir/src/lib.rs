//! The intermediate representation of data contracts.
//!
//! The IR is what every backend consumes: names are resolved (foreign keys point at a
//! contract that exists, columns exist), every type is concrete, every rule has a stable id, a
//! severity and a stage, and literals are typed values. Spans are kept as `Option<Span>` so
//! backends can still point at the source; they are excluded from equality-relevant output
//! such as the [content hash](hash::content_hash).
//!
//! The IR is serializable (`serde`) and has a JSON Schema ([`json_schema`]).

pub mod expr;
pub mod hash;
mod types;

use dqc_diagnostics::Span;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use expr::{BinaryOp, Expr, ExprKind, Function, UnaryOp, When};
pub use types::{Field, Type};

/// Version of the IR's serialized shape; bumped on incompatible changes.
pub const IR_VERSION: u32 = 1;

/// A checked project: every contract of a directory of contract files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Project {
    /// Shape version, [`IR_VERSION`].
    pub ir_version: u32,
    /// Contracts sorted by qualified table name.
    pub contracts: Vec<Contract>,
    /// Qualified table names in dependency order: referenced tables before referencing ones.
    pub load_order: Vec<String>,
}

/// A table identity: `database.table`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct TableRef {
    /// The Glue catalog database, when the contract names one.
    pub database: Option<String>,
    /// The table name.
    pub table: String,
}

impl TableRef {
    /// `database.table`, or `table` when no database is known.
    pub fn qualified(&self) -> String {
        match &self.database {
            Some(db) => format!("{db}.{}", self.table),
            None => self.table.clone(),
        }
    }
}

/// The data contract of one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Contract {
    /// Which table.
    pub table: TableRef,
    /// Team or person responsible.
    pub owner: Option<String>,
    /// What the table holds.
    pub description: Option<String>,
    /// Lake layer, lowercase (raw, staging, curated, ...).
    pub layer: Option<String>,
    /// Storage location, such as an S3 prefix.
    pub location: Option<String>,
    /// Partition columns, in order.
    pub partitions: Vec<String>,
    /// The grain (primary key) columns, in order.
    pub grain: Vec<String>,
    /// When fresh data is due.
    pub sla: Option<Sla>,
    /// Columns in declaration order.
    pub columns: Vec<Column>,
    /// Rules in declaration order (implicit not-null rules at their column's position).
    pub rules: Vec<Rule>,
    /// `sha256:<hex>` over the canonical serialization, ignoring spans and formatting.
    pub hash: String,
    /// The contract's declaration.
    pub span: Option<Span>,
}

impl Contract {
    /// Finds a column by name, ignoring case as the catalog does.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// Delivery schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Sla {
    /// How often new data arrives.
    pub frequency: Frequency,
    /// Latest arrival time of day in UTC, `HH:MM`.
    pub by_utc: Option<String>,
}

/// Delivery frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Every hour.
    Hourly,
    /// Every day.
    Daily,
    /// Every week.
    Weekly,
    /// Every month.
    Monthly,
}

impl Frequency {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Hourly => "hourly",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        }
    }
}

/// A column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Column {
    /// Name as declared.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub ty: Type,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Whether the column holds personal data.
    pub pii: bool,
    /// Free-text description.
    pub description: Option<String>,
    /// The declaration.
    pub span: Option<Span>,
}

/// Error fails a run and quarantines rows; warn only reports and tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Fails the run; pre-load, quarantines the row.
    Error,
    /// Reported; pre-load, the row is tagged but loaded.
    Warn,
}

/// Where a rule is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// On each incoming batch before it is written (and verified again post-load).
    PreLoad,
    /// On the curated table after the load.
    PostLoad,
}

impl Stage {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::PreLoad => "pre_load",
            Stage::PostLoad => "post_load",
        }
    }
}

impl Severity {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
        }
    }
}

/// One rule of a contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rule {
    /// Stable id, unique within the contract.
    pub id: String,
    /// What the rule requires.
    pub kind: RuleKind,
    /// Error or warn.
    pub severity: Severity,
    /// Pre-load or post-load.
    pub stage: Stage,
    /// True when the stage was inferred rather than written.
    pub stage_inferred: bool,
    /// Only rows for which this holds are checked.
    pub filter: Option<Expr>,
    /// The rule passes when at least this percentage of checked rows satisfy it
    /// (a canonical decimal, such as `99.5`); absent means every row must.
    pub min_pass_percent: Option<String>,
    /// Provenance: the statistic or code location that justifies the rule.
    pub because: Option<String>,
    /// True for the not-null rules implied by `not null` column declarations.
    pub implicit: bool,
    /// The rule (or, when implicit, the column's `not null`).
    pub span: Option<Span>,
}

impl Rule {
    /// Row-level rules are decided row by row; the others need the whole table or batch.
    pub fn is_row_level(&self) -> bool {
        self.kind.is_row_level()
    }
}

/// A bound of a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Bound {
    /// The bound.
    pub value: Value,
    /// Whether the bound itself is allowed.
    pub inclusive: bool,
}

/// What a range constrains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The column's value.
    Value,
    /// The number of characters (code points) of a string column.
    Length,
}

/// A column aggregate, bounded by an aggregate rule. NULLs are never aggregated; NaN is not
/// aggregated by the value aggregates (`min` to `stddev`) and counts as a value for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
    /// The arithmetic mean, as a double.
    Mean,
    /// The sum.
    Sum,
    /// The sample standard deviation (n - 1), as a double.
    Stddev,
    /// The number of distinct values.
    DistinctCount,
    /// Distinct values over values (rows with a value).
    DistinctRatio,
    /// Rows without a value over rows.
    NullRatio,
}

impl Aggregate {
    /// Every aggregate.
    pub const ALL: [Aggregate; 8] = [
        Aggregate::Min,
        Aggregate::Max,
        Aggregate::Mean,
        Aggregate::Sum,
        Aggregate::Stddev,
        Aggregate::DistinctCount,
        Aggregate::DistinctRatio,
        Aggregate::NullRatio,
    ];

    /// The name written in contracts.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Min => "min",
            Aggregate::Max => "max",
            Aggregate::Mean => "mean",
            Aggregate::Sum => "sum",
            Aggregate::Stddev => "stddev",
            Aggregate::DistinctCount => "distinct_count",
            Aggregate::DistinctRatio => "distinct_ratio",
            Aggregate::NullRatio => "null_ratio",
        }
    }

    /// The aggregate a contract names (lower-case).
    pub fn parse(name: &str) -> Option<Aggregate> {
        Aggregate::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether NaN and NULL are left out of it (the value aggregates).
    pub fn skips_nan(self) -> bool {
        matches!(self, Aggregate::Min | Aggregate::Max | Aggregate::Mean | Aggregate::Sum | Aggregate::Stddev)
    }
}

/// How a uniqueness rule picks the row to keep among duplicates, pre-load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KeepPolicy {
    /// Keep the first row ordered by this column; quarantine the rest.
    pub order_by: String,
    /// Order descending (keep the latest).
    pub descending: bool,
}

/// Row count anomaly method, evaluated against stored history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum AnomalyMethod {
    /// Fail when the count deviates from the rolling mean by more than `percent`.
    PercentOfMean {
        /// Canonical decimal.
        percent: String,
    },
    /// Fail when the count deviates from the rolling mean by more than `k` standard deviations.
    StdDevs {
        /// Canonical decimal.
        k: String,
    },
}

/// Right-hand side of a comparison rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operand {
    /// Another column of the same row.
    Column {
        /// Column name.
        name: String,
    },
    /// A constant.
    Value {
        /// The value.
        value: Value,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The SQL spelling.
    pub fn as_sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// What a rule requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RuleKind {
    /// The column is not NULL.
    NotNull {
        /// Column.
        column: String,
    },
    /// No two rows share the same values of `columns`.
    Unique {
        /// Columns.
        columns: Vec<String>,
        /// Pre-load duplicate policy; absent means every duplicate is quarantined.
        keep: Option<KeepPolicy>,
    },
    /// The column holds one of `values`.
    AllowedValues {
        /// Column.
        column: String,
        /// Allowed values.
        values: Vec<Value>,
    },
    /// The column's value or length lies within bounds.
    Range {
        /// Column.
        column: String,
        /// Value or length.
        measure: Measure,
        /// Lower bound.
        min: Option<Bound>,
        /// Upper bound.
        max: Option<Bound>,
    },
    /// `column op operand`.
    Compare {
        /// Left column.
        column: String,
        /// Operator.
        op: CmpOp,
        /// Right side.
        right: Operand,
    },
    /// The column matches a regular expression (portable subset), anywhere in the value
    /// unless anchored.
    Regex {
        /// Column.
        column: String,
        /// Pattern.
        pattern: String,
    },
    /// Every non-NULL value of `columns` exists in the referenced table's `ref_columns`.
    ForeignKey {
        /// Referencing columns.
        columns: Vec<String>,
        /// Referenced table.
        table: TableRef,
        /// Referenced columns.
        ref_columns: Vec<String>,
    },
    /// The newest value of the column is at most `max_age_seconds` old at run time.
    Freshness {
        /// A date or timestamp column.
        column: String,
        /// Maximum age.
        max_age_seconds: u64,
    },
    /// The table's row count lies within bounds.
    RowCount {
        /// Lower bound.
        min: Option<Bound>,
        /// Upper bound.
        max: Option<Bound>,
    },
    /// An aggregate of a column (over the rows the rule's filter keeps) lies within bounds;
    /// an aggregate of no value fails.
    Aggregate {
        /// What is aggregated.
        function: Aggregate,
        /// The column.
        column: String,
        /// Lower bound.
        min: Option<Bound>,
        /// Upper bound.
        max: Option<Bound>,
    },
    /// The row count stays within a band around its rolling history.
    RowCountAnomaly {
        /// Band.
        method: AnomalyMethod,
        /// Days of history in the rolling window.
        window_days: u32,
    },
    /// A row-level boolean expression.
    Check {
        /// The expression; typed boolean.
        expr: Expr,
    },
}

impl RuleKind {
    /// Row-level rules are decided row by row.
    pub fn is_row_level(&self) -> bool {
        matches!(
            self,
            RuleKind::NotNull { .. }
                | RuleKind::AllowedValues { .. }
                | RuleKind::Range { .. }
                | RuleKind::Compare { .. }
                | RuleKind::Regex { .. }
                | RuleKind::Check { .. }
        )
    }

    /// The rule type name used in JSON exports and ids.
    pub fn type_name(&self) -> &'static str {
        match self {
            RuleKind::NotNull { .. } => "not_null",
            RuleKind::Unique { .. } => "unique",
            RuleKind::AllowedValues { .. } => "allowed_values",
            RuleKind::Range { .. } => "range",
            RuleKind::Compare { .. } => "compare",
            RuleKind::Regex { .. } => "regex",
            RuleKind::ForeignKey { .. } => "foreign_key",
            RuleKind::Freshness { .. } => "freshness",
            RuleKind::RowCount { .. } => "row_count",
            RuleKind::Aggregate { .. } => "aggregate",
            RuleKind::RowCountAnomaly { .. } => "row_count_anomaly",
            RuleKind::Check { .. } => "check",
        }
    }
}

/// A typed constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// A number as a canonical decimal string (no exponent, no superfluous zeros).
    Number(String),
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// A date, `YYYY-MM-DD`.
    Date(String),
    /// A timestamp, `YYYY-MM-DD HH:MM:SS[.fraction]`.
    Timestamp(String),
    /// NULL.
    Null,
}

/// The JSON Schema of the serialized [`Project`].
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Project)).unwrap_or(serde_json::Value::Null)
}
