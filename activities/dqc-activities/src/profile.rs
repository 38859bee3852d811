//! Profiling: the row count and per-column statistics of a table, shaped as the context JSON
//! that contract drafting reads (`table_name`, `database`, `schema`, `row_count`, `column_stats`).
//!
//! Queries, in order:
//! 1. the schema from `information_schema.columns` (Athena and DuckDB both have it);
//! 2. the row count, and each column's NULL count, minimum and maximum too when the engine
//!    answers them from metadata without reading the data (DuckDB over one Parquet file:
//!    [`extremes_sql`], [`QueryEngine::answers_from_metadata`]);
//! 3. **one scan** with every other per-column aggregate: distinct count, mean and standard
//!    deviation of numbers, percentiles p5/p25/p50/p75/p95, string length min/max/mean
//!    ([`distribution_sql`]; where the extremes would need a read of their own, and on Athena,
//!    which bills each query by the data it reads, this scan also computes them: [`stats_sql`]). Above
//!    [`APPROXIMATE_ABOVE_ROWS`] rows the distinct count and percentiles are approximate, and
//!    the output says so: distinct counts by HyperLogLog, percentiles on
//!    DuckDB as exact percentiles of a sample of about [`PERCENTILE_SAMPLE_ROWS`] rows chosen
//!    by a hash of the whole row (deterministic: DuckDB's sketch quantiles differ from run to
//!    run under several threads), on Athena by `approx_percentile`;
//! 4. the top [`TOP_K`] values with counts, for columns with at most
//!    [`TOP_VALUES_MAX_DISTINCT`] distinct values (a key column's top values all have count 1
//!    and cost a full hash aggregate), in one more scan grouping by each column apart.
//!
//! The drift statistics ([`Depth::Drift`], what `stats-history/` records) leave out the
//! standard deviation, the string lengths and the top values.
//!
//! The SQL builders and [`shape`] are pure; [`profile`] runs them on a [`QueryEngine`].

use std::collections::BTreeMap;

use dqc_codegen::sql::Dialect;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ports::{Error, Param, QueryEngine, Rows};

/// Above this many rows, distinct counts and percentiles are approximate.
pub const APPROXIMATE_ABOVE_ROWS: u64 = 1_000_000;
/// About how many rows the percentiles of a large table are computed from.
pub const PERCENTILE_SAMPLE_ROWS: u64 = 200_000;
/// How many top values are reported per column.
pub const TOP_K: usize = 5;
/// Top values are computed for columns with at most this many distinct values.
pub const TOP_VALUES_MAX_DISTINCT: u64 = 10_000;
/// Decimal places of means and standard deviations, so reruns give identical records.
pub const FLOAT_DIGITS: u32 = 6;
/// The percentiles reported, as fractions.
pub const PERCENTILES: [(&str, &str); 5] =
    [("p5", "0.05"), ("p25", "0.25"), ("p50", "0.5"), ("p75", "0.75"), ("p95", "0.95")];

/// A column as the engine's catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaColumn {
    /// Column name.
    pub name: String,
    /// The type in contract spelling (`string`, `bigint`, `decimal(12,2)`, ...).
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether the engine allows NULL.
    pub nullable: bool,
    /// The engine's own type name.
    #[serde(skip)]
    pub engine_type: String,
}

/// What statistics a column gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Integers, floats, decimals.
    Number,
    /// Strings.
    Text,
    /// Dates, times, timestamps.
    Temporal,
    /// Booleans.
    Boolean,
    /// Arrays, structs, maps: nulls only.
    Nested,
}

/// The class of an engine type name.
pub fn class(engine_type: &str) -> Class {
    let t = engine_type.to_ascii_uppercase();
    let starts = |ps: &[&str]| ps.iter().any(|p| t.starts_with(p));
    if t.contains('[') || t.contains('<') || starts(&["STRUCT", "MAP", "UNION", "ARRAY", "ROW", "LIST", "INTERVAL"]) {
        Class::Nested
    } else if starts(&["TINYINT", "SMALLINT", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER"])
        || starts(&["UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "NUMERIC"])
    {
        Class::Number
    } else if starts(&["VARCHAR", "CHAR", "STRING", "TEXT"]) {
        Class::Text
    } else if starts(&["DATE", "TIME"]) {
        Class::Temporal
    } else if starts(&["BOOL"]) {
        Class::Boolean
    } else {
        Class::Nested
    }
}

/// An engine type in contract spelling, or the engine's own name (lowercased) when no
/// contract type holds it exactly (`hugeint`, `time`).
pub fn contract_type(engine_type: &str) -> String {
    dqc_semantics::types::engine_type(engine_type).map_or_else(|| engine_type.to_ascii_lowercase(), |t| t.to_string())
}

/// One of the top values of a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopValue {
    /// The value, as text.
    pub value: Value,
    /// Rows holding it.
    pub count: u64,
}

/// The statistics of one column; absent entries do not apply to its type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    /// NULL rows.
    pub null_count: u64,
    /// NULL rows as a fraction of all rows (0 for an empty table).
    pub null_fraction: f64,
    /// NULL rows in percent, as in the seed's context JSON.
    pub null_pct: f64,
    /// Distinct non-NULL values (approximate above the threshold).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct_count: Option<u64>,
    /// Smallest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<Value>,
    /// Largest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<Value>,
    /// Mean of a number column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<Value>,
    /// Sample standard deviation of a number column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stddev: Option<Value>,
    /// Percentiles of a number column, keyed `p5` .. `p95`.
    #[serde(flatten)]
    pub percentiles: BTreeMap<String, Value>,
    /// Shortest string, in characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<Value>,
    /// Longest string, in characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<Value>,
    /// Mean string length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_length: Option<Value>,
    /// The most frequent non-NULL values, most frequent first (ties by value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_values: Option<Vec<TopValue>>,
}

/// How the statistics were computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Method {
    /// `exact`, or `approximate` above the row threshold.
    pub distinct_count: String,
    /// `exact`, or `approximate`: on DuckDB above the row threshold (a hash sample of the rows),
    /// on Athena always (`approx_percentile`).
    pub percentiles: String,
    /// The threshold.
    pub approximate_above_rows: u64,
    /// Top values per column.
    pub top_k: usize,
    /// Columns with more distinct values get no top values.
    pub top_values_max_distinct: u64,
}

/// The profile of a table, in the shape of the seed's context JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Table name.
    pub table_name: String,
    /// Database (schema) name.
    pub database: String,
    /// Columns in table order.
    pub schema: Vec<SchemaColumn>,
    /// Rows.
    pub row_count: u64,
    /// Statistics by column name.
    pub column_stats: BTreeMap<String, ColumnStats>,
    /// How they were computed.
    pub profile_method: Method,
}

/// The schema query; parameters: database, table.
pub fn schema_sql() -> String {
    "SELECT column_name, data_type, is_nullable\nFROM information_schema.columns\nWHERE table_schema = ? AND table_name = ?\nORDER BY ordinal_position".to_string()
}

/// Reads the schema rows of [`schema_sql`].
pub fn schema_from(rows: &Rows) -> Vec<SchemaColumn> {
    rows.objects()
        .into_iter()
        .map(|o| {
            let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let engine_type = text("data_type");
            SchemaColumn {
                name: text("column_name"),
                ty: contract_type(&engine_type),
                nullable: !text("is_nullable").eq_ignore_ascii_case("NO"),
                engine_type,
            }
        })
        .collect()
}

/// The row count query.
pub fn row_count_sql(table: &str) -> String {
    format!("SELECT COUNT(*) AS row_count FROM {table}")
}

fn alias(i: usize, what: &str) -> String {
    format!("c{i}_{what}")
}

/// Whether the dialect estimates percentiles over every row at any size (Athena's
/// `approx_percentile`), rather than computing them exactly, of a sample above the threshold.
fn estimates_percentiles(d: &dyn Dialect) -> bool {
    d.name() == "athena"
}

/// The row filter of the percentile sample of a table of `rows` rows, when percentiles are
/// sampled (DuckDB above [`APPROXIMATE_ABOVE_ROWS`]).
fn percentile_sample(d: &dyn Dialect, rows: u64) -> Option<String> {
    (!estimates_percentiles(d) && rows > APPROXIMATE_ABOVE_ROWS)
        .then(|| format!("hash(*COLUMNS(*)) % {} = 0", (rows / PERCENTILE_SAMPLE_ROWS).max(2)))
}

/// The percentile aggregate of `v` at `fractions`, over the rows `sample` picks (all rows when
/// `None`); Athena estimates them over every row.
fn percentiles(d: &dyn Dialect, v: &str, fractions: &str, sample: Option<&str>) -> String {
    if estimates_percentiles(d) {
        return format!("approx_percentile({v}, ARRAY[{fractions}])");
    }
    match sample {
        Some(sample) => format!("quantile_cont({v}, [{fractions}]) FILTER (WHERE {sample})"),
        None => format!("quantile_cont({v}, [{fractions}])"),
    }
}

/// Whether the hash sample holds about the expected share of the rows (within 5%; a fair
/// sample of 200,000 is within 0.5% far beyond any doubt). Rows repeated whole share a hash and
/// land in the sample together or not at all, which shows as a sample far off its size.
fn sample_is_fair(rows: u64, sampled: u64) -> bool {
    let expected = rows as f64 / (rows / PERCENTILE_SAMPLE_ROWS).max(2) as f64;
    (sampled as f64 - expected).abs() <= expected * 0.05
}

/// Exact percentiles of the number columns: the fallback when the hash sample is not fair.
pub fn exact_percentiles_sql(d: &dyn Dialect, table: &str, columns: &[SchemaColumn]) -> Option<String> {
    let fractions: Vec<&str> = PERCENTILES.iter().map(|(_, f)| *f).collect();
    let cols: Vec<String> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| class(&c.engine_type) == Class::Number)
        .map(|(i, c)| {
            let v = format!("CAST({} AS DOUBLE)", d.quote_ident(&c.name));
            format!("quantile_cont({v}, [{}]) AS {}", fractions.join(", "), alias(i, "percentiles"))
        })
        .collect();
    (!cols.is_empty()).then(|| format!("SELECT\n  {}\nFROM {table}", cols.join(",\n  ")))
}

/// Which statistics a profile computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Everything: what `dqc profile` and contract drafting read.
    Full,
    /// What drift analysis reads from `stats-history/`, recorded by every post-load test: the
    /// row count, and per column the NULL count, the distinct count (an estimate above
    /// [`APPROXIMATE_ABOVE_ROWS`]), the minimum and maximum, and for number columns the mean
    /// and the percentiles (the shifts of level and shape that drift methods compare, such as
    /// the change of a mean against its history, or a population stability index over the
    /// percentile bins). Left out: string lengths and top values, evidence for drafting rules
    /// that cost a pass over every text column and a grouping per column, and the standard
    /// deviation, the most expensive aggregate of the scan (measured: a quarter of it).
    Drift,
}

/// The aggregates of column `i`: the counts and extremes (NULL count, minimum, maximum), then
/// the rest (distinct count, moments, percentiles, string lengths) for a table of `rows` rows.
/// `sample` is the condition that picks the rows percentiles are computed from, if any.
fn column_aggregates(
    d: &dyn Dialect,
    i: usize,
    c: &SchemaColumn,
    rows: u64,
    depth: Depth,
    sample: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let approx_distinct = if d.name() == "athena" { "approx_distinct" } else { "approx_count_distinct" };
    let x = d.quote_ident(&c.name);
    let class = class(&c.engine_type);
    let mut extremes = vec![format!("COUNT(*) - COUNT({x}) AS {}", alias(i, "nulls"))];
    let mut rest = Vec::new();
    if class == Class::Nested {
        return (extremes, rest);
    }
    if class != Class::Boolean {
        extremes.push(format!("MIN({x}) AS {}", alias(i, "min")));
        extremes.push(format!("MAX({x}) AS {}", alias(i, "max")));
    }
    let distinct =
        if rows > APPROXIMATE_ABOVE_ROWS { format!("{approx_distinct}({x})") } else { format!("COUNT(DISTINCT {x})") };
    rest.push(format!("{distinct} AS {}", alias(i, "distinct")));
    if class == Class::Number {
        let v = format!("CAST({x} AS DOUBLE)");
        // Rounded: parallel partial sums make the last bits depend on scheduling.
        rest.push(format!("ROUND(AVG({v}), {FLOAT_DIGITS}) AS {}", alias(i, "mean")));
        if depth == Depth::Full {
            rest.push(format!("ROUND(STDDEV_SAMP({v}), {FLOAT_DIGITS}) AS {}", alias(i, "stddev")));
        }
        let fractions: Vec<&str> = PERCENTILES.iter().map(|(_, f)| *f).collect();
        let p = percentiles(d, &v, &fractions.join(", "), sample);
        rest.push(format!("{p} AS {}", alias(i, "percentiles")));
    }
    if class == Class::Text && depth == Depth::Full {
        let len = d.char_length(&x);
        rest.push(format!("MIN({len}) AS {}", alias(i, "min_length")));
        rest.push(format!("MAX({len}) AS {}", alias(i, "max_length")));
        rest.push(format!("AVG({len}) AS {}", alias(i, "mean_length")));
    }
    (extremes, rest)
}

/// The one-scan statistics query over `table` (already quoted), a table of `rows` rows, with
/// every statistic of `depth`: distinct counts and percentiles are approximate above
/// [`APPROXIMATE_ABOVE_ROWS`].
pub fn stats_sql(d: &dyn Dialect, table: &str, columns: &[SchemaColumn], rows: u64, depth: Depth) -> String {
    let sample = percentile_sample(d, rows);
    let mut cols = vec!["COUNT(*) AS row_count".to_string()];
    if let Some(sample) = &sample {
        cols.push(format!("COUNT(*) FILTER (WHERE {sample}) AS percentile_sample_rows"));
    }
    for (i, c) in columns.iter().enumerate() {
        let (extremes, rest) = column_aggregates(d, i, c, rows, depth, sample.as_deref());
        cols.extend(extremes);
        cols.extend(rest);
    }
    format!("SELECT\n  {}\nFROM {table}", cols.join(",\n  "))
}

/// The row count and each column's NULL count, minimum and maximum: on DuckDB answered from
/// Parquet footers and table statistics where they are exact, so it costs next to nothing.
pub fn extremes_sql(d: &dyn Dialect, table: &str, columns: &[SchemaColumn]) -> String {
    let mut cols = vec!["COUNT(*) AS row_count".to_string()];
    for (i, c) in columns.iter().enumerate() {
        cols.extend(column_aggregates(d, i, c, 0, Depth::Drift, None).0);
    }
    format!("SELECT\n  {}\nFROM {table}", cols.join(",\n  "))
}

/// The statistics [`extremes_sql`] leaves out, in one scan of a table of `rows` rows. The
/// percentile sample's condition is computed once per row, in a subquery.
pub fn distribution_sql(d: &dyn Dialect, table: &str, columns: &[SchemaColumn], rows: u64, depth: Depth) -> String {
    let sample = percentile_sample(d, rows);
    let flag = d.quote_ident("__dqc_sampled");
    let mut cols = Vec::new();
    if sample.is_some() {
        cols.push(format!("COUNT(*) FILTER (WHERE {flag}) AS percentile_sample_rows"));
    }
    for (i, c) in columns.iter().enumerate() {
        cols.extend(column_aggregates(d, i, c, rows, depth, sample.as_ref().map(|_| flag.as_str())).1);
    }
    if cols.is_empty() {
        cols.push("COUNT(*) AS row_count".to_string());
    }
    let from = match &sample {
        Some(s) => format!("(SELECT *, {s} AS {flag} FROM {table}) AS sampled"),
        None => table.to_string(),
    };
    format!("SELECT\n  {}\nFROM {from}", cols.join(",\n  "))
}

/// The top-values query for the columns at `indexes`, or `None` when there are none: one scan
/// grouping by each column apart (`GROUPING SETS`), then the [`TOP_K`] most frequent non-NULL
/// values of each, ties broken by value.
pub fn top_values_sql(d: &dyn Dialect, table: &str, columns: &[SchemaColumn], indexes: &[usize]) -> Option<String> {
    let picked: Vec<(usize, String)> =
        indexes.iter().filter_map(|&i| columns.get(i).map(|c| (i, d.quote_ident(&c.name)))).collect();
    if picked.is_empty() {
        return None;
    }
    let text = |i: usize| format!("__dqc_v{i}");
    let values: Vec<String> = picked.iter().map(|(i, x)| format!("CAST({x} AS VARCHAR) AS {}", text(*i))).collect();
    let which: Vec<String> = picked.iter().map(|(i, _)| format!("WHEN GROUPING({}) = 0 THEN {i}", text(*i))).collect();
    let value: Vec<String> =
        picked.iter().map(|(i, _)| format!("WHEN GROUPING({v}) = 0 THEN {v}", v = text(*i))).collect();
    let sets: Vec<String> = picked.iter().map(|(i, _)| format!("({})", text(*i))).collect();
    Some(format!(
        "SELECT column_index, value, n FROM (\n  SELECT column_index, value, n,\n    row_number() OVER (PARTITION BY column_index ORDER BY n DESC, value) AS rank\n  FROM (\n    SELECT CASE {} END AS column_index, CASE {} END AS value, COUNT(*) AS n\n    FROM (SELECT {} FROM {table})\n    GROUP BY GROUPING SETS ({})\n  )\n  WHERE value IS NOT NULL\n)\nWHERE rank <= {TOP_K}\nORDER BY column_index, n DESC, value",
        which.join(" "),
        value.join(" "),
        values.join(", "),
        sets.join(", ")
    ))
}

pub(crate) fn count(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)).unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

fn present(v: Option<&Value>) -> Option<Value> {
    v.filter(|v| !v.is_null()).cloned()
}

/// Shapes the statistics row (and the top-values rows) into column statistics.
pub fn shape(columns: &[SchemaColumn], stats: &Rows, top: &Rows) -> (u64, BTreeMap<String, ColumnStats>) {
    let row_count = count(stats.first("row_count"));
    let mut out = BTreeMap::new();
    for (i, c) in columns.iter().enumerate() {
        let get = |what: &str| stats.first(&alias(i, what));
        let null_count = count(get("nulls"));
        let null_fraction = if row_count == 0 { 0.0 } else { null_count as f64 / row_count as f64 };
        let mut s = ColumnStats {
            null_count,
            null_fraction,
            null_pct: (null_fraction * 1e6).round() / 1e4,
            distinct_count: get("distinct").map(|v| count(Some(v))),
            min: present(get("min")),
            max: present(get("max")),
            mean: present(get("mean")),
            stddev: present(get("stddev")),
            min_length: present(get("min_length")),
            max_length: present(get("max_length")),
            mean_length: present(get("mean_length")),
            ..ColumnStats::default()
        };
        if let Some(Value::Array(ps)) = get("percentiles") {
            for ((name, _), v) in PERCENTILES.iter().zip(ps) {
                s.percentiles.insert((*name).to_string(), v.clone());
            }
        }
        let mine: Vec<TopValue> = top
            .objects()
            .into_iter()
            .filter(|o| count(o.get("column_index")) == i as u64)
            .map(|o| TopValue { value: o.get("value").cloned().unwrap_or(Value::Null), count: count(o.get("n")) })
            .collect();
        if !mine.is_empty() {
            s.top_values = Some(mine);
        }
        out.insert(c.name.clone(), s);
    }
    (row_count, out)
}

/// The columns that get top values: not nested, few enough distinct values.
pub fn top_value_columns(columns: &[SchemaColumn], stats: &Rows) -> Vec<usize> {
    (0..columns.len())
        .filter(|&i| {
            let distinct = stats.first(&alias(i, "distinct")).map(|v| count(Some(v)));
            distinct.is_some_and(|n| n > 0 && n <= TOP_VALUES_MAX_DISTINCT)
        })
        .collect()
}

/// Reads a table's schema; a missing table is an error naming it.
pub fn schema(engine: &dyn QueryEngine, database: &str, table: &str) -> Result<Vec<SchemaColumn>, Error> {
    let rows = engine.query(&schema_sql(), &[Param::Text(database.to_string()), Param::Text(table.to_string())])?;
    let columns = schema_from(&rows);
    if columns.is_empty() {
        return Err(Error::fatal(format!("table {database}.{table} not found")));
    }
    Ok(columns)
}

/// Profiles `database.table` with every statistic ([`Depth::Full`]).
pub fn profile(engine: &dyn QueryEngine, database: &str, table: &str) -> Result<Profile, Error> {
    profile_with(engine, database, table, Depth::Full)
}

/// One row of `b`'s columns appended to `a`'s one row.
fn beside(mut a: Rows, b: Rows) -> Rows {
    a.columns.extend(b.columns);
    match (a.rows.first_mut(), b.rows.into_iter().next()) {
        (Some(row), Some(more)) => row.extend(more),
        (None, Some(more)) => a.rows.push(more),
        _ => {}
    }
    a
}

/// Profiles `database.table` with the statistics of `depth`.
pub fn profile_with(engine: &dyn QueryEngine, database: &str, table: &str, depth: Depth) -> Result<Profile, Error> {
    let d = engine.dialect();
    let columns = schema(engine, database, table)?;
    let quoted = format!("{}.{}", d.quote_ident(database), d.quote_ident(table));
    let extremes = extremes_sql(d, &quoted, &columns);
    // Apart only where the engine answers them from metadata (DuckDB over one Parquet file);
    // Athena bills every query by the data it reads and reads it for these too.
    let (rows, mut stats) = if engine.answers_from_metadata(&extremes) {
        let extremes = engine.query(&extremes, &[])?;
        let rows = count(extremes.first("row_count"));
        let rest = engine.query(&distribution_sql(d, &quoted, &columns, rows, depth), &[])?;
        (rows, beside(extremes, rest))
    } else {
        // One scan with everything: the extremes would cost a read of the data of their own.
        let rows = count(engine.query(&row_count_sql(&quoted), &[])?.first("row_count"));
        (rows, engine.query(&stats_sql(d, &quoted, &columns, rows, depth), &[])?)
    };
    let approximate = rows > APPROXIMATE_ABOVE_ROWS;
    let sampled = count(stats.first("percentile_sample_rows"));
    let mut percentiles_how = if approximate || estimates_percentiles(d) { "approximate" } else { "exact" };
    if stats.first("percentile_sample_rows").is_some() && !sample_is_fair(rows, sampled) {
        if let Some(sql) = exact_percentiles_sql(d, &quoted, &columns) {
            let exact = engine.query(&sql, &[])?;
            for (j, name) in exact.columns.iter().enumerate() {
                let value = exact.rows.first().and_then(|r| r.get(j)).cloned().unwrap_or(Value::Null);
                if let Some(k) = stats.columns.iter().position(|c| c == name) {
                    if let Some(cell) = stats.rows.first_mut().and_then(|row| row.get_mut(k)) {
                        *cell = value;
                    }
                }
            }
            percentiles_how = "exact";
        }
    }
    let top_columns = if depth == Depth::Full { top_value_columns(&columns, &stats) } else { Vec::new() };
    let top = match top_values_sql(d, &quoted, &columns, &top_columns) {
        Some(sql) => engine.query(&sql, &[])?,
        None => Rows::default(),
    };
    let (row_count, column_stats) = shape(&columns, &stats, &top);
    let how = if approximate { "approximate" } else { "exact" };
    Ok(Profile {
        table_name: table.to_string(),
        database: database.to_string(),
        schema: columns,
        row_count,
        column_stats,
        profile_method: Method {
            distinct_count: how.to_string(),
            percentiles: percentiles_how.to_string(),
            approximate_above_rows: APPROXIMATE_ABOVE_ROWS,
            top_k: TOP_K,
            top_values_max_distinct: TOP_VALUES_MAX_DISTINCT,
        },
    })
}

/// A readable rendering of a profile.
pub fn render_text(p: &Profile) -> String {
    let mut out = format!(
        "{}.{}: {} row(s), {} column(s); distinct counts and percentiles {}\n",
        p.database,
        p.table_name,
        p.row_count,
        p.schema.len(),
        p.profile_method.distinct_count
    );
    let show = |v: &Option<Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "-".to_string());
    for c in &p.schema {
        let Some(s) = p.column_stats.get(&c.name) else { continue };
        out.push_str(&format!(
            "\n{} {}{}\n  nulls {} ({:.2}%), distinct {}, min {}, max {}\n",
            c.name,
            c.ty,
            if c.nullable { "" } else { " not null" },
            s.null_count,
            s.null_pct,
            s.distinct_count.map(|n| n.to_string()).unwrap_or_else(|| "-".to_string()),
            show(&s.min),
            show(&s.max)
        ));
        if s.mean.is_some() {
            let ps: Vec<String> = PERCENTILES
                .iter()
                .map(|(n, _)| format!("{n} {}", s.percentiles.get(*n).map(Value::to_string).unwrap_or_default()))
                .collect();
            out.push_str(&format!("  mean {}, stddev {}, {}\n", show(&s.mean), show(&s.stddev), ps.join(", ")));
        }
        if s.min_length.is_some() {
            out.push_str(&format!(
                "  length min {}, max {}, mean {}\n",
                show(&s.min_length),
                show(&s.max_length),
                show(&s.mean_length)
            ));
        }
        if let Some(top) = &s.top_values {
            let vs: Vec<String> = top.iter().map(|t| format!("{} x{}", t.value, t.count)).collect();
            out.push_str(&format!("  top {}\n", vs.join(", ")));
        }
    }
    out
}
