//! SQL dialects as capabilities with defaults.
//!
//! The generator asks the dialect how to spell things; it never asks which dialect it is.
//! The defaults are ANSI/Trino; DuckDB and Spark SQL override only where they differ.

use dqc_ir::{TableRef, Type};

/// How one SQL engine spells the constructs the generator needs.
pub trait Dialect: std::fmt::Debug {
    /// A short name used in file names and suites (`athena`, `duckdb`, `spark`).
    fn name(&self) -> &'static str;

    /// A quoted identifier.
    fn quote_ident(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    /// A string literal. Standard SQL doubles quotes and gives backslashes no meaning.
    fn string_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    /// The table, qualified by its database when it has one.
    fn table(&self, t: &TableRef) -> String {
        match &t.database {
            Some(db) => format!("{}.{}", self.quote_ident(db), self.quote_ident(&t.table)),
            None => self.quote_ident(&t.table),
        }
    }

    /// True when `subject` contains a match of the regex literal anywhere (search semantics).
    fn regex_contains(&self, subject: &str, pattern: &str) -> String {
        format!("regexp_like({subject}, {})", self.string_literal(pattern))
    }

    /// True when a floating-point value is NaN.
    fn is_nan(&self, expr: &str) -> String {
        format!("is_nan({expr})")
    }

    /// `subject LIKE pattern` with `%` and `_` as the only wildcards and no escape character.
    fn like(&self, subject: &str, pattern: &str) -> String {
        format!("{subject} LIKE {}", self.string_literal(pattern))
    }

    /// Counts the rows for which a never-NULL condition holds.
    fn count_if(&self, condition: &str) -> String {
        format!("count_if({condition})")
    }

    /// The number of characters (code points) of a string.
    fn char_length(&self, expr: &str) -> String {
        format!("length({expr})")
    }

    /// Whole days from date `a` to date `b`.
    fn days_between(&self, a: &str, b: &str) -> String {
        format!("date_diff('day', CAST({a} AS DATE), CAST({b} AS DATE))")
    }

    /// Whole seconds from timestamp `a` to timestamp `b`.
    fn seconds_between(&self, a: &str, b: &str) -> String {
        format!("date_diff('second', {a}, {b})")
    }

    /// `date_trunc` with a unit literal.
    fn date_trunc(&self, unit: &str, expr: &str) -> String {
        format!("date_trunc({}, {expr})", self.string_literal(unit))
    }

    /// Whether `greatest`/`least` return NULL when an argument is NULL (Trino does; DuckDB and
    /// Spark skip NULLs, so the generator wraps them to get Trino's meaning everywhere).
    fn greatest_propagates_null(&self) -> bool {
        true
    }

    /// Whether the suite counts every row-level rule in one scan (`count_if` per rule), or
    /// each rule in a query of its own with the violating condition in `WHERE`. One scan is
    /// what Athena bills least for; DuckDB over local Parquet pushes a lone predicate into
    /// the reader and skips row groups by their statistics, which measured about twice as
    /// fast as the fused scan (see the benchmark in the README).
    fn fuses_row_rules(&self) -> bool {
        true
    }

    /// A 64-bit hash of the values `exprs`, where the suite finds duplicate keys in two steps:
    /// sort the hashes of the keys to find those that repeat (fixed-width values, cheaper than
    /// grouping by the key itself), then group by the key only the rows whose hash repeats,
    /// which is exact and also yields the sample of duplicate keys. `None` where one grouping
    /// by the key and a sample query on failure cost less (Athena bills every read of the
    /// table).
    fn key_hash(&self, _exprs: &[String]) -> Option<String> {
        None
    }

    /// Whether set-based checks (duplicate keys, missing foreign keys) return their failing
    /// keys with the counts, most rows first and bounded, so a failing rule needs no second
    /// grouping or anti-join for its sample. Measured on DuckDB; the Athena suite keeps one row
    /// of counts per check and samples only failing rules.
    fn checks_return_samples(&self) -> bool {
        false
    }

    /// An aggregate that keeps the `limit` smallest records of the named `fields` (pairs of a
    /// string literal naming the field and the quoted column), compared field by field with
    /// NULLs last, as a list in that order, in bounded memory: what `ORDER BY` the fields
    /// `LIMIT limit` returns. `None` where the dialect has none.
    fn bounded_sample(&self, _fields: &[(String, String)], _limit: u32) -> Option<String> {
        None
    }

    /// A cast that yields NULL instead of failing when the value does not convert.
    fn try_cast(&self, expr: &str, ty: &str) -> String {
        format!("TRY_CAST({expr} AS {ty})")
    }

    /// `l op r` (`op` is `+`, `-` or `*`) on integers or decimals, NULL where the result
    /// overflows its type instead of failing the whole query (DuckDB and Trino fail; Spark
    /// wraps integers around by itself).
    fn try_arithmetic(&self, op: &str, l: &str, r: &str) -> String {
        format!("TRY({l} {op} {r})")
    }

    /// `floor`/`ceil`, keeping the argument's type (Spark returns a bigint for doubles, which
    /// turns NaN into 0).
    fn floor_ceil(&self, name: &str, arg: &str, _is_float: bool) -> String {
        format!("{name}({arg})")
    }

    /// An instant written in UTC (`YYYY-MM-DD HH:MM:SS[.f]`), as a timestamp with time zone.
    fn instant_literal(&self, utc: &str) -> String {
        format!("CAST({} AS TIMESTAMP WITH TIME ZONE)", self.string_literal(&format!("{utc}+00:00")))
    }

    /// A timestamp with time zone as the timestamp of its UTC wall clock.
    fn utc_wall_clock(&self, expr: &str) -> String {
        format!("CAST({expr} AS TIMESTAMP)")
    }

    /// A query parameter placeholder.
    fn parameter(&self) -> &'static str {
        "?"
    }

    /// The type name used in `CAST`.
    fn cast_type(&self, t: &Type) -> String {
        match t {
            Type::String | Type::Varchar { .. } | Type::Char { .. } => "VARCHAR".to_string(),
            Type::Tinyint => "TINYINT".to_string(),
            Type::Smallint => "SMALLINT".to_string(),
            Type::Int => "INTEGER".to_string(),
            Type::Bigint => "BIGINT".to_string(),
            Type::Float => "REAL".to_string(),
            Type::Double => "DOUBLE".to_string(),
            Type::Decimal { precision, scale } => format!("DECIMAL({precision}, {scale})"),
            Type::Boolean => "BOOLEAN".to_string(),
            Type::Date => "DATE".to_string(),
            Type::Timestamp => "TIMESTAMP".to_string(),
            Type::TimestampTz => "TIMESTAMP WITH TIME ZONE".to_string(),
            Type::Array { .. } | Type::Struct { .. } => "VARCHAR".to_string(),
        }
    }
}

/// Athena engine v3 (Trino).
#[derive(Debug, Clone, Copy, Default)]
pub struct Athena;

impl Dialect for Athena {
    fn name(&self) -> &'static str {
        "athena"
    }

    fn instant_literal(&self, utc: &str) -> String {
        format!("TIMESTAMP {}", self.string_literal(&format!("{utc} UTC")))
    }

    /// Trino keeps a value's own zone when it drops it; the UTC wall clock needs the zone first.
    fn utc_wall_clock(&self, expr: &str) -> String {
        format!("CAST({expr} AT TIME ZONE 'UTC' AS TIMESTAMP)")
    }
}

/// DuckDB, the embedded engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct DuckDb;

impl Dialect for DuckDb {
    fn name(&self) -> &'static str {
        "duckdb"
    }

    fn regex_contains(&self, subject: &str, pattern: &str) -> String {
        format!("regexp_matches({subject}, {})", self.string_literal(pattern))
    }

    fn is_nan(&self, expr: &str) -> String {
        format!("isnan({expr})")
    }

    fn greatest_propagates_null(&self) -> bool {
        false
    }

    fn fuses_row_rules(&self) -> bool {
        false
    }

    fn key_hash(&self, exprs: &[String]) -> Option<String> {
        Some(format!("hash({})", exprs.join(", ")))
    }

    fn checks_return_samples(&self) -> bool {
        true
    }

    fn bounded_sample(&self, fields: &[(String, String)], limit: u32) -> Option<String> {
        let record: Vec<String> = fields.iter().map(|(name, column)| format!("{name}: {column}")).collect();
        let record = format!("{{{}}}", record.join(", "));
        Some(format!("min_by({record}, {record}, {limit})"))
    }
}

/// Spark SQL, for expressions embedded in the PySpark module.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spark;

impl Dialect for Spark {
    fn name(&self) -> &'static str {
        "spark"
    }

    fn quote_ident(&self, name: &str) -> String {
        format!("`{}`", name.replace('`', "``"))
    }

    /// Spark SQL string literals process backslash escapes, so backslashes are doubled and
    /// quotes escaped with a backslash. Spark substitutes `${name}` in SQL text before parsing
    /// it (`spark.sql.variable.substitute`, on by default), so `$` before `{` is written as the
    /// escape `\u0024`, which the literal turns back into `$` after substitution is over.
    fn string_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'").replace("${", "\\u0024{"))
    }

    /// Java reads a few portable constructs differently from RE2; the pattern is rewritten
    /// to RE2's meaning first (`sql/java_regex.rs`).
    fn regex_contains(&self, subject: &str, pattern: &str) -> String {
        format!("{subject} RLIKE {}", self.string_literal(&super::java_regex::to_java(pattern)))
    }

    fn is_nan(&self, expr: &str) -> String {
        format!("isnan({expr})")
    }

    /// Spark's LIKE treats `\` as an escape character by default; doubling it keeps it literal.
    fn like(&self, subject: &str, pattern: &str) -> String {
        format!("{subject} LIKE {}", self.string_literal(&pattern.replace('\\', "\\\\")))
    }

    fn days_between(&self, a: &str, b: &str) -> String {
        format!("datediff(CAST({b} AS DATE), CAST({a} AS DATE))")
    }

    fn seconds_between(&self, a: &str, b: &str) -> String {
        format!("(unix_timestamp({b}) - unix_timestamp({a}))")
    }

    fn date_trunc(&self, unit: &str, expr: &str) -> String {
        format!("CAST(date_trunc({}, {expr}) AS TIMESTAMP)", self.string_literal(unit))
    }

    fn greatest_propagates_null(&self) -> bool {
        false
    }

    /// Spark's cast is already NULL on failure outside ANSI mode (Glue's default).
    fn try_cast(&self, expr: &str, ty: &str) -> String {
        format!("CAST({expr} AS {ty})")
    }

    fn try_arithmetic(&self, op: &str, l: &str, r: &str) -> String {
        let f = match op {
            "+" => "try_add",
            "-" => "try_subtract",
            _ => "try_multiply",
        };
        format!("{f}({l}, {r})")
    }

    fn floor_ceil(&self, name: &str, arg: &str, is_float: bool) -> String {
        if is_float {
            format!("(CASE WHEN isnan({arg}) THEN {arg} ELSE CAST({name}({arg}) AS DOUBLE) END)")
        } else {
            format!("{name}({arg})")
        }
    }

    fn cast_type(&self, t: &Type) -> String {
        match t {
            Type::String | Type::Varchar { .. } | Type::Char { .. } => "STRING".to_string(),
            Type::Int => "INT".to_string(),
            Type::Float => "FLOAT".to_string(),
            // Spark's TIMESTAMP is an instant (shown in the session time zone).
            Type::TimestampTz => "TIMESTAMP".to_string(),
            other => Athena.cast_type(other),
        }
    }

    fn instant_literal(&self, utc: &str) -> String {
        format!("TIMESTAMP {}", self.string_literal(&format!("{utc}Z")))
    }
}

#[cfg(test)]
mod tests {
    use super::{Dialect, Spark};

    #[test]
    fn spark_literals_survive_variable_substitution() {
        // Spark replaces `${name}` in SQL text before parsing; the literal must not contain it.
        assert_eq!(Spark.string_literal("${x}"), r"'\u0024{x}'");
        assert_eq!(Spark.string_literal(r"\${x}"), r"'\\\u0024{x}'");
        assert_eq!(Spark.string_literal("a$b {c}"), "'a$b {c}'");
    }
}
