//! The SQL of a pre-load split, over the raw table the inputs were loaded into.
//!
//! The raw table holds `__dq_file`, `__dq_row` (the input position) and `__dq_raw_<i>`, the
//! value of the contract's i-th column as read. One statement builds the flagged table: the
//! typed columns (`TRY_CAST` to the declared types), one flag per cast and per applied rule,
//! and `__dq_quarantine`. Outputs and counts are then plain scans of the flagged table.

use dqc_codegen::sql::predicates::checked;
use dqc_codegen::sql::{Dialect, DuckDb};
use dqc_ir::{Contract, KeepPolicy, Rule, Type};

/// The table the inputs are loaded into.
pub(super) const RAW: &str = "__dq_raw";
/// The table with typed columns and flags.
pub(super) const FLAGGED: &str = "__dq_flagged";
/// The type of `_dq_errors` and `_dq_warnings`.
pub(super) const ISSUE_TYPE: &str =
    "STRUCT(rule_id VARCHAR, rule_name VARCHAR, severity VARCHAR, stage VARCHAR, error_reason VARCHAR)[]";

pub(super) fn q(name: &str) -> String {
    DuckDb.quote_ident(name)
}

pub(super) fn lit(value: &str) -> String {
    DuckDb.string_literal(value)
}

/// The raw column of the contract's i-th column.
pub(super) fn raw_column(i: usize) -> String {
    format!("__dq_raw_{i}")
}

/// How an applied rule decides which rows violate it.
#[derive(Debug)]
pub(super) enum Check<'a> {
    /// A row-level condition, TRUE exactly for violating rows.
    Row { condition: String },
    /// Duplicates on a key, with the declared policy.
    Unique { columns: &'a [String], keep: Option<&'a KeepPolicy> },
    /// Keys missing from a parent relation (a `read_parquet`/`read_csv` call).
    ForeignKey { columns: &'a [String], parent: String, ref_columns: &'a [String] },
}

/// A pre-load rule as the split applies it.
#[derive(Debug)]
pub(super) struct Applied<'a> {
    pub rule: &'a Rule,
    pub check: Check<'a>,
    /// Error severity without an `at least N%` threshold: violating rows are quarantined.
    pub quarantines: bool,
    /// The plain-English reason put on flagged rows.
    pub reason: String,
}

/// Whether a column's values are cast (complex types are carried as read).
fn casts(ty: &Type) -> bool {
    !ty.is_complex()
}

fn cast_flag(i: usize) -> String {
    format!("__dq_cast_{i}")
}

fn rule_flag(j: usize) -> String {
    format!("__dq_rule_{j}")
}

fn checked_column(j: usize) -> String {
    format!("__dq_checked_{j}")
}

/// Rows the rule checks whose key has no NULL part: NULL keys are never duplicates or misses.
fn keyed(rule: &Rule, columns: &[String], prefix: &str) -> String {
    let mut parts: Vec<String> = checked(&DuckDb, rule).into_iter().collect();
    parts.extend(columns.iter().map(|c| format!("{prefix}{} IS NOT NULL", q(c))));
    if parts.is_empty() {
        "TRUE".to_string()
    } else {
        parts.join(" AND ")
    }
}

fn flag_expr(j: usize, a: &Applied<'_>) -> String {
    match &a.check {
        Check::Row { condition } => format!("COALESCE({condition}, FALSE)"),
        Check::Unique { columns, keep } => {
            let k = keyed(a.rule, columns, "t.");
            let mut partition = vec![format!("({k})")];
            partition.extend(columns.iter().map(|c| format!("t.{}", q(c))));
            let window = match keep {
                None => format!("count(*) OVER (PARTITION BY {}) > 1", partition.join(", ")),
                Some(keep) => format!(
                    "row_number() OVER (PARTITION BY {} ORDER BY t.{} {} NULLS LAST, t.__dq_file, t.__dq_row) > 1",
                    partition.join(", "),
                    q(&keep.order_by),
                    if keep.descending { "DESC" } else { "ASC" }
                ),
            };
            format!("CASE WHEN {k} THEN {window} ELSE FALSE END")
        }
        Check::ForeignKey { columns, .. } => {
            format!("(COALESCE({}, FALSE) AND {}.__dq_hit IS NULL)", keyed(a.rule, columns, "t."), q(&fk_alias(j)))
        }
    }
}

fn fk_alias(j: usize) -> String {
    format!("__dq_fk_{j}")
}

fn fk_join(contract: &Contract, j: usize, columns: &[String], parent: &str, ref_columns: &[String]) -> String {
    let alias = q(&fk_alias(j));
    let keys: Vec<String> = ref_columns
        .iter()
        .zip(columns)
        .enumerate()
        .map(|(i, (r, c))| {
            let ty = contract.column(c).map_or_else(|| "VARCHAR".to_string(), |col| DuckDb.cast_type(&col.ty));
            format!("TRY_CAST(p.{} AS {ty}) AS __dq_k{i}", q(r))
        })
        .collect();
    let not_null: Vec<String> = (0..keys.len()).map(|i| format!("__dq_k{i} IS NOT NULL")).collect();
    let on: Vec<String> = columns.iter().enumerate().map(|(i, c)| format!("t.{} = {alias}.__dq_k{i}", q(c))).collect();
    format!(
        "\nLEFT JOIN (\n  SELECT DISTINCT *, TRUE AS __dq_hit FROM (SELECT {} FROM {parent} AS p)\n  WHERE {}\n) AS {alias} ON {}",
        keys.join(", "),
        not_null.join(" AND "),
        on.join(" AND ")
    )
}

/// The typed value of a text column, exactly or not at all (NULL, which flags a cast failure):
///
/// - a timestamp with an offset (`2024-01-01 10:00:00+05:00`, `...Z`) is converted to UTC, not
///   stripped of its offset; one with a named zone is a cast failure;
/// - a date column takes a date, or a timestamp at midnight; any other time of day would be cut;
/// - integers are digits only (`1.5`, `0x1F`, `1e3` do not cast), and numbers with `_` digit
///   separators (`1_000`) do not cast, as in Spark and Athena;
/// - a finite number too large for the type (`1e400`) does not become infinity; `inf` does.
fn cast_text(raw: &str, ty: &dqc_ir::Type) -> String {
    use dqc_ir::Type;
    let target = DuckDb.cast_type(ty);
    let plain = format!("TRY_CAST({raw} AS {target})");
    match ty {
        // Through TIMESTAMPTZ, which applies any offset (`+05:00`, `-0330`, `Z`) to give UTC;
        // without one the value is read as UTC. A named zone (`Europe/Paris`) does not cast:
        // the bundled engine has no time zone database, so it is a cast failure, not a shift,
        // and a DuckDB library with one (ICU) is held to the same.
        Type::Timestamp => format!(
            "CASE WHEN NOT ({}) THEN CAST(TRY_CAST({raw} AS TIMESTAMPTZ) AS TIMESTAMP) END",
            names_a_zone(raw)
        ),
        Type::TimestampTz => format!("CASE WHEN NOT ({}) THEN {plain} END", names_a_zone(raw)),
        Type::Date => format!(
            "CASE WHEN TRY_CAST({raw} AS TIMESTAMP) = CAST({plain} AS TIMESTAMP) THEN {plain} END"
        ),
        // Digits only: DuckDB would round `1.5`, read `0x1F` as hex and `1e3` as 1000.
        Type::Tinyint | Type::Smallint | Type::Int | Type::Bigint => {
            format!("CASE WHEN regexp_matches({raw}, '^\\s*[+-]?[0-9]+\\s*$') THEN {plain} END")
        }
        Type::Decimal { .. } => format!("CASE WHEN NOT contains({raw}, '_') THEN {plain} END"),
        Type::Float | Type::Double => format!(
            "CASE WHEN contains({raw}, '_') THEN NULL WHEN isinf({plain}) AND NOT regexp_matches(lower(trim({raw})), '^[+-]?inf(inity)?$') THEN NULL ELSE {plain} END"
        ),
        _ => plain,
    }
}

/// Whether a timestamp's text ends in a time zone's name (`… Europe/Paris`, `… EST`) rather
/// than an offset, `Z` or `UTC`. DuckDB without ICU fails to cast such a value; with ICU (a
/// prebuilt library may have it) it would read the zone, so this keeps both builds alike.
fn names_a_zone(raw: &str) -> String {
    format!(
        "regexp_matches({raw}, '[0-9.]\\s*[A-Za-z][A-Za-z0-9_/+-]*\\s*$') \
         AND NOT regexp_matches({raw}, '[0-9.]\\s*(?i:z|utc)\\s*$')"
    )
}

/// The statement that creates the flagged table. `raw_text`: the raw columns are text (CSV
/// input), cast with [`cast_text`]; otherwise they are typed already (Parquet).
pub(super) fn flagged(contract: &Contract, applied: &[Applied<'_>], raw_text: bool) -> String {
    let mut typed = vec!["__dq_file".to_string(), "__dq_row".to_string()];
    for (i, col) in contract.columns.iter().enumerate() {
        typed.push(q(&raw_column(i)));
        let value = if casts(&col.ty) && raw_text {
            cast_text(&q(&raw_column(i)), &col.ty)
        } else if casts(&col.ty) {
            format!("TRY_CAST({} AS {})", q(&raw_column(i)), DuckDb.cast_type(&col.ty))
        } else {
            q(&raw_column(i))
        };
        typed.push(format!("{value} AS {}", q(&col.name)));
    }
    let mut flags = Vec::new();
    let mut quarantine = Vec::new();
    for (i, col) in contract.columns.iter().enumerate().filter(|(_, c)| casts(&c.ty)) {
        flags.push(format!("(t.{} IS NOT NULL AND t.{} IS NULL) AS {}", q(&raw_column(i)), q(&col.name), cast_flag(i)));
        quarantine.push(cast_flag(i));
    }
    let mut joins = String::new();
    for (j, a) in applied.iter().enumerate() {
        flags.push(format!("{} AS {}", flag_expr(j, a), rule_flag(j)));
        if let Some(f) = checked(&DuckDb, a.rule) {
            flags.push(format!("{f} AS {}", checked_column(j)));
        }
        if a.quarantines {
            quarantine.push(rule_flag(j));
        }
        if let Check::ForeignKey { columns, parent, ref_columns } = &a.check {
            joins.push_str(&fk_join(contract, j, columns, parent, ref_columns));
        }
    }
    let flag_list = if flags.is_empty() { String::new() } else { format!(",\n  {}", flags.join(",\n  ")) };
    let quarantine = if quarantine.is_empty() { "FALSE".to_string() } else { quarantine.join(" OR ") };
    // Row-level flags are a view: each output is one streaming scan of the input, in input
    // order. Windows (uniqueness) and joins (foreign keys) do not keep the order, so their
    // flags are computed once into a table sorted back into input order.
    let set_based = applied.iter().any(|a| !matches!(a.check, Check::Row { .. }));
    let (kind, order) = if set_based { ("TABLE", "\nORDER BY __dq_file, __dq_row") } else { ("VIEW", "") };
    format!(
        "CREATE OR REPLACE {kind} {FLAGGED} AS\nSELECT *, ({quarantine}) AS __dq_quarantine FROM (\nSELECT t.*{flag_list}\nFROM (\n  SELECT {}\n  FROM {RAW}\n) AS t{joins}\n){order}",
        typed.join(", ")
    )
}

fn issue(rule_id: &str, rule_name: &str, severity: &str, stage: &str, reason_sql: &str) -> String {
    format!(
        "{{'rule_id': {}, 'rule_name': {}, 'severity': {}, 'stage': {}, 'error_reason': {reason_sql}}}",
        lit(rule_id),
        lit(rule_name),
        lit(severity),
        lit(stage)
    )
}

fn issue_list(items: &[(String, String)]) -> String {
    if items.is_empty() {
        return format!("CAST([] AS {ISSUE_TYPE})");
    }
    let cases: Vec<String> = items.iter().map(|(flag, s)| format!("CASE WHEN {flag} THEN {s} END")).collect();
    format!("CAST(list_filter([{}], lambda e: e IS NOT NULL) AS {ISSUE_TYPE})", cases.join(", "))
}

/// The id under which cast failures of a column are reported.
pub(super) fn cast_rule_id(column: &str) -> String {
    format!("cast_{column}")
}

/// `value 'x' of column c does not cast to T`, with long values shortened.
fn cast_reason(i: usize, column: &str, ty: &str) -> String {
    let v = format!("CAST({} AS VARCHAR)", q(&raw_column(i)));
    format!(
        "'value ''' || CASE WHEN length({v}) > 100 THEN left({v}, 100) || '...' ELSE {v} END || {}",
        lit(&format!("' of column {column} does not cast to {ty}"))
    )
}

fn errors(contract: &Contract, applied: &[Applied<'_>]) -> String {
    let mut items = Vec::new();
    for (i, col) in contract.columns.iter().enumerate().filter(|(_, c)| casts(&c.ty)) {
        let ty = DuckDb.cast_type(&col.ty);
        let reason = cast_reason(i, &col.name, &ty);
        items.push((cast_flag(i), issue(&cast_rule_id(&col.name), "cast", "error", "pre_load", &reason)));
    }
    items.extend(applied.iter().enumerate().filter(|(_, a)| a.quarantines).map(|(j, a)| (rule_flag(j), rule_issue(a))));
    issue_list(&items)
}

fn rule_issue(a: &Applied<'_>) -> String {
    let reason = match &a.check {
        // The key that is missing, so a reader knows which parent row to look for (the
        // PySpark splitter words it the same way).
        Check::ForeignKey { columns, .. } => {
            let keys: Vec<String> = columns.iter().map(|c| format!("CAST({} AS VARCHAR)", q(c))).collect();
            format!("{} || concat_ws(', ', {})", lit(&format!("{}: missing key ", a.reason)), keys.join(", "))
        }
        _ => lit(&a.reason),
    };
    issue(&a.rule.id, a.rule.kind.type_name(), a.rule.severity.as_str(), a.rule.stage.as_str(), &reason)
}

fn warnings(applied: &[Applied<'_>]) -> String {
    let items: Vec<(String, String)> = applied
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.quarantines)
        .map(|(j, a)| (rule_flag(j), rule_issue(a)))
        .collect();
    issue_list(&items)
}

/// Valid rows: the typed columns and `_dq_warnings`, in input order (the flagged relation's
/// order, which DuckDB keeps through a filter and a projection).
pub(super) fn valid(contract: &Contract, applied: &[Applied<'_>]) -> String {
    let cols: Vec<String> = contract.columns.iter().map(|c| q(&c.name)).collect();
    format!(
        "SELECT {}, {} AS \"_dq_warnings\"\nFROM {FLAGGED}\nWHERE NOT __dq_quarantine",
        cols.join(", "),
        warnings(applied)
    )
}

/// Quarantined rows: the columns as read, `_dq_errors`, `_dq_warnings`, `_dq_contract_hash`,
/// in input order.
pub(super) fn quarantined(contract: &Contract, applied: &[Applied<'_>]) -> String {
    let cols: Vec<String> =
        contract.columns.iter().enumerate().map(|(i, c)| format!("{} AS {}", q(&raw_column(i)), q(&c.name))).collect();
    format!(
        "SELECT {}, {} AS \"_dq_errors\", {} AS \"_dq_warnings\", {} AS \"_dq_contract_hash\"\nFROM {FLAGGED}\nWHERE __dq_quarantine",
        cols.join(", "),
        errors(contract, applied),
        warnings(applied),
        lit(&contract.hash)
    )
}

/// Lines the CSV reader rejected, with the same reason columns.
pub(super) fn rejected(contract: &Contract) -> String {
    let reason = "'malformed line: ' || error";
    format!(
        "SELECT file, line, lines, raw_line, raw_bytes, error, [{}]::{ISSUE_TYPE} AS \"_dq_errors\", CAST([] AS {ISSUE_TYPE}) AS \"_dq_warnings\", {} AS \"_dq_contract_hash\"\nFROM {}\nORDER BY file, line",
        issue("malformed_line", "read", "error", "pre_load", reason),
        lit(&contract.hash),
        super::input::REJECTED
    )
}

/// One row of counts, and its width: rows, quarantined rows, then per cast column and per applied rule its
/// flagged rows (and checked rows for rules with a filter).
pub(super) fn counts(contract: &Contract, applied: &[Applied<'_>]) -> (String, usize) {
    let mut cols = vec!["count(*)".to_string(), "count_if(__dq_quarantine)".to_string()];
    for (i, _) in contract.columns.iter().enumerate().filter(|(_, c)| casts(&c.ty)) {
        cols.push(format!("count_if({})", cast_flag(i)));
    }
    for (j, a) in applied.iter().enumerate() {
        cols.push(format!("count_if({})", rule_flag(j)));
        if a.rule.filter.is_some() {
            cols.push(format!("count_if({})", checked_column(j)));
        }
    }
    (format!("SELECT {} FROM {FLAGGED}", cols.join(", ")), cols.len())
}

/// The indexes of the columns whose values are cast.
pub(super) fn cast_columns(contract: &Contract) -> Vec<usize> {
    contract.columns.iter().enumerate().filter(|(_, c)| casts(&c.ty)).map(|(i, _)| i).collect()
}
