//! The answer the providers are asked for: the seed's output shape (`data_quality`, `tests`,
//! `docs_markdown`) as Rust types, so its JSON Schema is generated, not written by hand. The
//! answer itself is read by the importer (`dqc import`), which is tolerant of what models do
//! around the JSON; these types only describe what is asked for.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One drafted contract.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DraftAnswer {
    /// The contract.
    pub data_quality: DataQuality,
    /// Tests to run, post-load or pre-load.
    #[serde(default)]
    pub tests: Vec<TestSpec>,
    /// Documentation of the table, in Markdown.
    #[serde(default)]
    pub docs_markdown: Option<String>,
}

/// The contract of one table.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DataQuality {
    /// The table's name.
    pub table_name: String,
    /// The owning team.
    #[serde(default)]
    pub owner: Option<String>,
    /// What one row is.
    #[serde(default)]
    pub description: Option<String>,
    /// The columns that identify a row.
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// When new data is due.
    #[serde(default)]
    pub freshness: Option<Freshness>,
    /// Every column of the schema, by name.
    pub columns: BTreeMap<String, ColumnSpec>,
    /// Rules on the whole table.
    #[serde(default)]
    pub table_level_checks: Vec<TableCheck>,
}

/// A delivery schedule.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Freshness {
    /// `daily` or `hourly`.
    pub frequency: String,
    /// The hour (UTC) by which data is due.
    #[serde(default)]
    pub sla_hour_utc: Option<u8>,
}

/// One column.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ColumnSpec {
    /// The type, as in the schema.
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Rules on the column's values.
    #[serde(default)]
    pub rules: Vec<ColumnRule>,
}

/// Kinds of column rules.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleType {
    /// No NULL.
    NotNull,
    /// No repeated value.
    Unique,
    /// Only the listed `values`.
    AllowedValues,
    /// At least `value`.
    Min,
    /// At most `value`.
    Max,
    /// Between `min` and `max`.
    Range,
    /// Between `min` and `max`, as a warning.
    RangeSoft,
    /// At least `value` characters.
    MinLength,
    /// At most `value` characters.
    MaxLength,
    /// Matches `pattern` (RE2).
    Regex,
    /// A key of `ref_table`'s `ref_column`.
    ForeignKey,
    /// The SQL `expression` holds.
    Check,
}

/// One rule on a column.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ColumnRule {
    /// The kind of rule.
    #[serde(rename = "type")]
    pub kind: RuleType,
    /// The bound of `min`, `max`, `min_length`, `max_length`.
    #[serde(default)]
    pub value: Option<f64>,
    /// The lower bound of `range` and `range_soft`.
    #[serde(default)]
    pub min: Option<f64>,
    /// The upper bound of `range` and `range_soft`.
    #[serde(default)]
    pub max: Option<f64>,
    /// The values of `allowed_values`.
    #[serde(default)]
    pub values: Option<Vec<serde_json::Value>>,
    /// The pattern of `regex`.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The referenced table of `foreign_key` (`database.table` or `table`).
    #[serde(default)]
    pub ref_table: Option<String>,
    /// The referenced column of `foreign_key`.
    #[serde(default)]
    pub ref_column: Option<String>,
    /// The expression of `check`.
    #[serde(default)]
    pub expression: Option<String>,
    /// The evidence: the statistic or the code that justifies the rule.
    pub because: String,
}

/// A rule on the whole table.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TableCheck {
    /// `grain_uniqueness` or `row_count_anomaly`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The key of `grain_uniqueness`.
    #[serde(default)]
    pub grain: Vec<String>,
    /// What the check requires, in words.
    #[serde(default)]
    pub description: Option<String>,
    /// The evidence.
    #[serde(default)]
    pub because: Option<String>,
}

/// A concrete test.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TestSpec {
    /// Its name.
    pub name: String,
    /// What it checks.
    #[serde(default)]
    pub description: Option<String>,
    /// SQL returning violations, for post-load tests.
    #[serde(default)]
    pub sql: Option<String>,
    /// A row condition, for pre-load tests.
    #[serde(default)]
    pub rule: Option<String>,
    /// `pre_load` or `post_load`.
    #[serde(default)]
    pub stage: Option<String>,
}

/// The JSON Schema of [`DraftAnswer`], with every subschema inlined (providers such as Gemini
/// do not follow references).
pub fn answer_schema() -> serde_json::Value {
    let settings = schemars::generate::SchemaSettings::draft07().with(|s| s.inline_subschemas = true);
    let schema = settings.into_generator().into_root_schema_for::<DraftAnswer>();
    let mut value = serde_json::to_value(&schema).unwrap_or(serde_json::Value::Null);
    if let Some(o) = value.as_object_mut() {
        o.remove("$schema");
        o.remove("definitions");
        o.remove("$defs");
    }
    value
}
