//! The queries of a suite.

use dqc_ir::{Bound, Contract, KeepPolicy, Project, Rule, RuleKind};

use super::dialect::Dialect;
use super::expr::value;
use super::predicates::{checked, violating_row};
use super::{HistoryRule, Param, Query, QueryKind, Suite, SAMPLE_LIMIT};

/// Everything a query builder needs about the table being checked.
struct Ctx<'a> {
    d: &'a dyn Dialect,
    contract: &'a Contract,
    /// `FROM` target: the table, with the partition restriction when there is one.
    table: String,
    /// `"p1" = CAST(? AS DATE) AND ...` when the suite is partition-restricted.
    partition_filter: Option<String>,
    partition_params: Vec<Param>,
}

impl Ctx<'_> {
    fn q(&self, name: &str) -> String {
        self.d.quote_ident(name)
    }

    /// `WHERE` clause joining the partition restriction with further conditions.
    fn where_clause(&self, more: &[String]) -> String {
        let mut all: Vec<String> = self.partition_filter.iter().cloned().collect();
        all.extend(more.iter().cloned());
        if all.is_empty() {
            String::new()
        } else {
            format!("\nWHERE {}", all.join("\n  AND "))
        }
    }
}

pub(super) fn build(d: &dyn Dialect, project: &Project, contract: &Contract, restricted: bool) -> Suite {
    let (partition_filter, partition_params) =
        if restricted { partition_restriction(d, contract) } else { (None, vec![]) };
    let ctx = Ctx { d, contract, table: d.table(&contract.table), partition_filter, partition_params };
    let mut queries = vec![row_scan(&ctx)];
    if !d.fuses_row_rules() {
        queries.extend(contract.rules.iter().filter_map(|r| row_rule(&ctx, r)));
    }
    let mut history_rules = Vec::new();
    for rule in &contract.rules {
        match &rule.kind {
            RuleKind::Unique { columns, keep } => queries.push(
                duplicate_keys(&ctx, rule, columns, keep.as_ref())
                    .unwrap_or_else(|| duplicates(&ctx, rule, columns, keep.as_ref())),
            ),
            RuleKind::ForeignKey { columns, table, ref_columns } => {
                let parent = project.contracts.iter().find(|c| &c.table == table).map(|c| &c.table).unwrap_or(table);
                let parent = d.table(parent);
                queries.push(
                    missing_keys(&ctx, rule, columns, &parent, ref_columns)
                        .unwrap_or_else(|| foreign_key(&ctx, rule, columns, &parent, ref_columns)),
                );
            }
            RuleKind::Freshness { column, max_age_seconds } => {
                queries.push(freshness(&ctx, rule, column, *max_age_seconds))
            }
            RuleKind::RowCountAnomaly { .. } => history_rules.push(HistoryRule { rule_id: rule.id.clone() }),
            _ => {}
        }
    }
    for rule in &contract.rules {
        queries.extend(sample(&ctx, project, rule));
    }
    for rule in &contract.rules {
        queries.extend(rule_count(&ctx, project, rule));
    }
    let rules = contract
        .rules
        .iter()
        .map(|r| super::RuleInfo {
            id: r.id.clone(),
            kind: r.kind.type_name().to_string(),
            severity: r.severity.as_str().to_string(),
            stage: r.stage.as_str().to_string(),
            violating_row: violating_row(d, contract, r),
            description: crate::describe::rule(contract, r),
            min_pass_percent: r.min_pass_percent.clone(),
            anomaly: match &r.kind {
                RuleKind::RowCountAnomaly { method, window_days } => Some(super::AnomalyInfo {
                    percent: match method {
                        dqc_ir::AnomalyMethod::PercentOfMean { percent } => Some(percent.clone()),
                        dqc_ir::AnomalyMethod::StdDevs { .. } => None,
                    },
                    k: match method {
                        dqc_ir::AnomalyMethod::StdDevs { k } => Some(k.clone()),
                        dqc_ir::AnomalyMethod::PercentOfMean { .. } => None,
                    },
                    window_days: *window_days,
                }),
                _ => None,
            },
        })
        .collect();
    Suite {
        rules,
        table: contract.table.qualified(),
        contract_hash: contract.hash.clone(),
        dialect: d.name().to_string(),
        partition_restricted: restricted,
        queries,
        history_rules,
    }
}

fn partition_restriction(d: &dyn Dialect, contract: &Contract) -> (Option<String>, Vec<Param>) {
    let mut parts = Vec::new();
    let mut params = Vec::new();
    for p in &contract.partitions {
        let ty = contract.column(p).map(|c| d.cast_type(&c.ty)).unwrap_or_else(|| "VARCHAR".to_string());
        parts.push(format!("{} = CAST({} AS {ty})", d.quote_ident(p), d.parameter()));
        params.push(Param { name: format!("partition:{p}"), ty });
    }
    (Some(parts.join(" AND ")), params)
}

/// The column alias of a rule's result in the row scan.
pub fn result_column(rule_id: &str, what: &str) -> String {
    format!("{rule_id}__{what}")
}

/// One scan: the row count, row-count bounds, and (where the dialect fuses them) every
/// row-level rule's counts.
fn row_scan(ctx: &Ctx<'_>) -> Query {
    let d = ctx.d;
    let mut cols = vec![format!("COUNT(*) AS {}", ctx.q("row_count"))];
    let mut ids = Vec::new();
    for rule in &ctx.contract.rules {
        let fused = if d.fuses_row_rules() { violating_row(d, ctx.contract, rule) } else { None };
        if let Some(cond) = fused {
            cols.push(format!("{} AS {}", d.count_if(&cond), ctx.q(&result_column(&rule.id, "violations"))));
            if rule.filter.is_some() || rule.min_pass_percent.is_some() {
                let checked_rows = match checked(d, rule) {
                    Some(f) => d.count_if(&f),
                    None => "COUNT(*)".to_string(),
                };
                cols.push(format!("{checked_rows} AS {}", ctx.q(&result_column(&rule.id, "checked"))));
            }
            ids.push(rule.id.clone());
        } else if let Some((value, fails)) = aggregate(d, ctx.contract, rule) {
            cols.push(format!("{value} AS {}", ctx.q(&result_column(&rule.id, "value"))));
            cols.push(format!(
                "CASE WHEN {fails} THEN 1 ELSE 0 END AS {}",
                ctx.q(&result_column(&rule.id, "violations"))
            ));
            ids.push(rule.id.clone());
        } else if let RuleKind::RowCount { min, max } = &rule.kind {
            cols.push(format!(
                "CASE WHEN {} THEN 1 ELSE 0 END AS {}",
                row_count_outside(d, min, max),
                ctx.q(&result_column(&rule.id, "violations"))
            ));
            ids.push(rule.id.clone());
        }
    }
    let sql = format!("SELECT\n  {}\nFROM {}{}", cols.join(",\n  "), ctx.table, ctx.where_clause(&[]));
    Query {
        name: "row_scan".to_string(),
        kind: QueryKind::RowScan,
        rule_ids: ids,
        sql,
        params: ctx.partition_params.clone(),
        sample_columns: Vec::new(),
    }
}

/// One row-level rule on its own: the violating condition (with the rule's filter) in `WHERE`,
/// where the engine can push it into the scan. Rules with a filter or a threshold also count
/// the rows they check: the filtered rows, or every row.
fn row_rule(ctx: &Ctx<'_>, rule: &Rule) -> Option<Query> {
    let d = ctx.d;
    let cond = violating_row(d, ctx.contract, rule)?;
    let violations = ctx.q(&result_column(&rule.id, "violations"));
    let sample = folded_sample(ctx, rule);
    let sql = if rule.filter.is_some() || rule.min_pass_percent.is_some() {
        let checked_rows: Vec<String> = checked(d, rule).into_iter().collect();
        let sample = sample
            .map(|agg| format!(",\n  {agg} FILTER (WHERE {cond}) AS {}", ctx.q(&result_column(&rule.id, "sample"))))
            .unwrap_or_default();
        // COALESCE: DuckDB's count_if over no rows (nothing passes the filter) is NULL.
        format!(
            "SELECT\n  COALESCE({}, 0) AS {violations},\n  COUNT(*) AS {}{sample}\nFROM {}{}",
            d.count_if(&cond),
            ctx.q(&result_column(&rule.id, "checked")),
            ctx.table,
            ctx.where_clause(&checked_rows)
        )
    } else {
        let sample = sample
            .map(|agg| format!(",\n  {agg} AS {}", ctx.q(&result_column(&rule.id, "sample"))))
            .unwrap_or_default();
        // Parenthesized: the partition restriction may precede it.
        format!(
            "SELECT COUNT(*) AS {violations}{sample}\nFROM {}{}",
            ctx.table,
            ctx.where_clause(&[format!("({cond})")])
        )
    };
    Some(Query {
        name: format!("row__{}", rule.id),
        kind: QueryKind::RowRule,
        rule_ids: vec![rule.id.clone()],
        sql,
        params: ctx.partition_params.clone(),
        sample_columns: Vec::new(),
    })
}

/// The aggregate that collects a row-level rule's sample in its own count query, where rules
/// are counted one query each and the dialect has a bounded, ordered sample aggregate
/// ([`Dialect::bounded_sample`]): the failing rows' shown columns ([`shown_columns`]), the
/// [`SAMPLE_LIMIT`] smallest records in the order of their values (column by column, NULLs
/// last), in a column `<id>__sample`. The count query reads the violating rows anyway, so a
/// failing rule needs no second scan for its sample.
fn folded_sample(ctx: &Ctx<'_>, rule: &Rule) -> Option<String> {
    if ctx.d.fuses_row_rules() || !ctx.d.checks_return_samples() {
        return None;
    }
    violating_row(ctx.d, ctx.contract, rule)?;
    let fields: Vec<(String, String)> =
        shown_columns(ctx.contract, rule).into_iter().map(|c| (ctx.d.string_literal(c), ctx.q(c))).collect();
    if fields.is_empty() {
        return None;
    }
    ctx.d.bounded_sample(&fields, SAMPLE_LIMIT)
}

/// An aggregate rule's value over the rows its filter keeps, and the condition on that value
/// under which the rule fails: no value (an empty table, only NULLs, a standard deviation of
/// one value, a ratio of nothing), NaN, or outside the bounds. `None` for other rules.
///
/// NULL is never aggregated; for `min` to `stddev` on floating-point columns NaN is not
/// either (so every engine agrees: they order NaN differently). Sums of integers are exact
/// (`DECIMAL(38, 0)`); means and standard deviations are doubles.
pub fn aggregate(d: &dyn Dialect, contract: &Contract, rule: &Rule) -> Option<(String, String)> {
    let RuleKind::Aggregate { function, column, min, max } = &rule.kind else { return None };
    let ty = contract.column(column).map(|c| c.ty.clone())?;
    let float = matches!(ty, dqc_ir::Type::Float | dqc_ir::Type::Double);
    let integer =
        matches!(ty, dqc_ir::Type::Tinyint | dqc_ir::Type::Smallint | dqc_ir::Type::Int | dqc_ir::Type::Bigint);
    let x = d.quote_ident(column);
    let filter = checked(d, rule);
    // The values aggregated: the column where the filter holds (and, for the value
    // aggregates of floats, where it is not NaN); NULL elsewhere.
    let mut keep: Vec<String> = filter.iter().cloned().collect();
    if float && function.skips_nan() {
        keep.push(format!("NOT {}", d.is_nan(&x)));
    }
    let v = if keep.is_empty() { x.clone() } else { format!("CASE WHEN {} THEN {x} END", keep.join(" AND ")) };
    let rows = match &filter {
        Some(f) => d.count_if(f),
        None => "COUNT(*)".to_string(),
    };
    use dqc_ir::Aggregate as A;
    let value = match function {
        A::Min => format!("MIN({v})"),
        A::Max => format!("MAX({v})"),
        A::Mean => format!("AVG(CAST({v} AS DOUBLE))"),
        A::Sum if integer => format!("SUM(CAST({v} AS DECIMAL(38, 0)))"),
        A::Sum => format!("SUM({v})"),
        A::Stddev => format!("STDDEV_SAMP(CAST({v} AS DOUBLE))"),
        A::DistinctCount => format!("COUNT(DISTINCT {v})"),
        A::DistinctRatio => format!("CAST(COUNT(DISTINCT {v}) AS DOUBLE) / NULLIF(COUNT({v}), 0)"),
        A::NullRatio => {
            let nulls = match &filter {
                Some(f) => d.count_if(&format!("{f} AND {x} IS NULL")),
                None => d.count_if(&format!("{x} IS NULL")),
            };
            format!("CAST({nulls} AS DOUBLE) / NULLIF({rows}, 0)")
        }
    };
    let term = format!("({value})");
    let mut fails = vec![format!("{term} IS NULL")];
    if matches!(function, A::Mean | A::Stddev) || (*function == A::Sum && float) {
        fails.push(d.is_nan(&value));
    }
    let lt = |b: &Bound| if b.inclusive { "<" } else { "<=" };
    let gt = |b: &Bound| if b.inclusive { ">" } else { ">=" };
    // min and max bounds are values of the column (an instant's bound is UTC).
    let bound = |b: &Bound| match function {
        A::Min | A::Max => super::expr::value_for(d, &b.value, &ty),
        _ => super::expr::value(d, &b.value),
    };
    if let Some(b) = min {
        fails.push(format!("{term} {} {}", lt(b), bound(b)));
    }
    if let Some(b) = max {
        fails.push(format!("{term} {} {}", gt(b), bound(b)));
    }
    Some((value, fails.join(" OR ")))
}

fn row_count_outside(d: &dyn Dialect, min: &Option<Bound>, max: &Option<Bound>) -> String {
    let mut parts = Vec::new();
    if let Some(b) = min {
        parts.push(format!("COUNT(*) {} {}", if b.inclusive { "<" } else { "<=" }, value(d, &b.value)));
    }
    if let Some(b) = max {
        parts.push(format!("COUNT(*) {} {}", if b.inclusive { ">" } else { ">=" }, value(d, &b.value)));
    }
    if parts.is_empty() {
        "FALSE".to_string()
    } else {
        parts.join(" OR ")
    }
}

/// Rows with a key (no part NULL) and the rule's filter.
fn keyed_rows(ctx: &Ctx<'_>, rule: &Rule, columns: &[String]) -> Vec<String> {
    let mut conds: Vec<String> = checked(ctx.d, rule).into_iter().collect();
    conds.extend(columns.iter().map(|c| format!("{} IS NOT NULL", ctx.q(c))));
    conds
}

/// Duplicate keys: how many keys repeat, how many rows they cover, and how many rows the
/// rule flags (all of them, or all but one per key under a `keep first` policy).
fn duplicates(ctx: &Ctx<'_>, rule: &Rule, columns: &[String], keep: Option<&KeepPolicy>) -> Query {
    let keys: Vec<String> = columns.iter().map(|c| ctx.q(c)).collect();
    let flagged = if keep.is_some() { "COALESCE(SUM(n - 1), 0)" } else { "COALESCE(SUM(n), 0)" };
    // With `at least N%`, every key group is counted, so the same grouping also gives the rows
    // checked (those with a complete key that the filter keeps).
    let sql = if rule.min_pass_percent.is_some() {
        let flagged = if keep.is_some() { "n - 1" } else { "n" };
        format!(
            "SELECT\n  COUNT(CASE WHEN n > 1 THEN 1 END) AS {},\n  COALESCE(SUM(CASE WHEN n > 1 THEN n ELSE 0 END), 0) AS {},\n  COALESCE(SUM(CASE WHEN n > 1 THEN {flagged} ELSE 0 END), 0) AS {},\n  COALESCE(SUM(n), 0) AS {}\nFROM (\n  SELECT COUNT(*) AS n\n  FROM {}{}\n  GROUP BY {}\n) AS key_groups",
            ctx.q("duplicate_keys"),
            ctx.q("rows_involved"),
            ctx.q(&result_column(&rule.id, "violations")),
            ctx.q(&result_column(&rule.id, "checked")),
            ctx.table,
            indent(&ctx.where_clause(&keyed_rows(ctx, rule, columns))),
            keys.join(", ")
        )
    } else {
        format!(
        "SELECT\n  COUNT(*) AS {},\n  COALESCE(SUM(n), 0) AS {},\n  {flagged} AS {}\nFROM (\n  SELECT COUNT(*) AS n\n  FROM {}{}\n  GROUP BY {}\n  HAVING COUNT(*) > 1\n) AS duplicate_keys",
        ctx.q("duplicate_keys"),
        ctx.q("rows_involved"),
        ctx.q(&result_column(&rule.id, "violations")),
        ctx.table,
        indent(&ctx.where_clause(&keyed_rows(ctx, rule, columns))),
        keys.join(", ")
    )
    };
    Query {
        name: format!("duplicates__{}", rule.id),
        kind: QueryKind::Duplicates,
        rule_ids: vec![rule.id.clone()],
        sql,
        params: ctx.partition_params.clone(),
        sample_columns: Vec::new(),
    }
}

/// A uniqueness check and its sample from one grouping by the key, on engines with a
/// [`Dialect::key_hash`]: the rows whose key hash repeats (found by sorting the hashes) are
/// grouped by their key, giving the duplicate keys with their row counts, most rows first, at
/// most [`SAMPLE_LIMIT`] of them, each row carrying the counts of [`duplicates`] over every
/// duplicate key (window aggregates, computed before the limit). No row when no key repeats.
/// `None` for rules with `at least N%`, which count every key group ([`duplicates`] and a
/// sample query), and on other engines.
fn duplicate_keys(ctx: &Ctx<'_>, rule: &Rule, columns: &[String], keep: Option<&KeepPolicy>) -> Option<Query> {
    let keys: Vec<String> = columns.iter().map(|c| ctx.q(c)).collect();
    let hash = ctx.d.key_hash(&keys)?;
    if !check_returns_keys(ctx, rule, columns) {
        return None;
    }
    let n = ctx.q("__dqc_rows");
    let flagged = if keep.is_some() { format!("{n} - 1") } else { n.clone() };
    let keyed = keyed_rows(ctx, rule, columns);
    // The hashes that repeat: sorted, each compared with the one before (a sort of 64-bit
    // values measured faster and steadier than a hash aggregate over as many groups as rows).
    let (h, prev) = (ctx.q("__dqc_hash"), ctx.q("__dqc_previous"));
    let repeated = format!(
        "{hash} IN (\n  SELECT {h}\n  FROM (\n    SELECT {h}, lag({h}) OVER (ORDER BY {h}) AS {prev}\n    FROM (\n      SELECT {hash} AS {h}\n      FROM {}{}\n    ) AS hashed\n  ) AS sorted\n  WHERE {h} = {prev}\n)",
        ctx.table,
        indent(&indent(&indent(&ctx.where_clause(&keyed))))
    );
    let mut conds = keyed;
    conds.push(repeated);
    let groups = format!(
        "SELECT {keys}, COUNT(*) AS {n}\nFROM {}{}\nGROUP BY {keys}\nHAVING COUNT(*) > 1",
        ctx.table,
        ctx.where_clause(&conds),
        keys = keys.join(", "),
    );
    let totals = [
        ("COUNT(*)".to_string(), ctx.q("duplicate_keys")),
        (format!("SUM({n})"), ctx.q("rows_involved")),
        (format!("SUM({flagged})"), ctx.q(&result_column(&rule.id, "violations"))),
    ];
    let (sql, sample_columns) = keys_with_totals(ctx, columns, &totals, &groups, ("key_groups", "duplicate_keys"));
    // The table is read twice: its partition values are bound twice.
    let mut params = ctx.partition_params.clone();
    params.extend(ctx.partition_params.iter().cloned());
    Some(Query {
        name: format!("duplicates__{}", rule.id),
        kind: QueryKind::Duplicates,
        rule_ids: vec![rule.id.clone()],
        sql,
        params,
        sample_columns,
    })
}

/// The failing keys of a set-based check with their row counts, most rows first, at most
/// [`SAMPLE_LIMIT`] of them, each row carrying `totals` (window aggregates over every failing
/// key, as pairs of an expression and its alias, computed before the limit), from `groups`: a
/// query of the key columns and their row count `__dqc_rows`, aliased as the first of
/// `aliases` (the whole as the second). Also the columns of a sample row: the keys and `rows`.
fn keys_with_totals(
    ctx: &Ctx<'_>,
    columns: &[String],
    totals: &[(String, String)],
    groups: &str,
    aliases: (&str, &str),
) -> (String, Vec<String>) {
    let keys: Vec<String> = columns.iter().map(|c| ctx.q(c)).collect();
    let keys = keys.join(", ");
    let n = ctx.q("__dqc_rows");
    let names: Vec<&str> = totals.iter().map(|(_, alias)| alias.as_str()).collect();
    let windows: Vec<String> = totals.iter().map(|(expr, alias)| format!("{expr} OVER () AS {alias}")).collect();
    let sql = format!(
        "SELECT {keys}, {n} AS {}, {}\nFROM (\n  SELECT {keys}, {n},\n    {}\n  FROM (\n    {}\n  ) AS {}\n) AS {}\nORDER BY {n} DESC, {keys}\nLIMIT {SAMPLE_LIMIT}",
        ctx.q("rows"),
        names.join(", "),
        windows.join(",\n    "),
        indent(&indent(groups)),
        aliases.0,
        aliases.1,
    );
    let mut sample_columns = columns.to_vec();
    sample_columns.push("rows".to_string());
    (sql, sample_columns)
}

/// Whether a set-based check on `columns` returns its failing keys with the counts: where the
/// dialect [`Dialect::checks_return_samples`], for rules without `at least N%` (those count
/// every key group) whose key names do not collide with the added columns.
fn check_returns_keys(ctx: &Ctx<'_>, rule: &Rule, columns: &[String]) -> bool {
    ctx.d.checks_return_samples() && rule.min_pass_percent.is_none() && !names_collide(columns)
}

/// Whether a key column has the name of a column the set-based checks that return their keys
/// add beside them (`rows`, the counts, the internal `__dqc_` names): such keys are checked
/// with a row of counts and sampled by a query of their own.
fn names_collide(columns: &[String]) -> bool {
    const ADDED: [&str; 4] = ["rows", "duplicate_keys", "rows_involved", "missing_keys"];
    columns.iter().any(|c| {
        let c = c.to_ascii_lowercase();
        ADDED.contains(&c.as_str()) || c.starts_with("__dqc")
    })
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n  ")
}

/// The anti-join of a foreign key, over a child subquery (filtered and keyed) and the parent.
fn orphans_from(
    ctx: &Ctx<'_>,
    rule: &Rule,
    columns: &[String],
    parent: &str,
    ref_columns: &[String],
    child_cols: &str,
) -> String {
    let child_keys: Vec<String> = columns.iter().map(|c| format!("c.{}", ctx.q(c))).collect();
    let parent_keys: Vec<String> = ref_columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} AS {}", ctx.q(c), ctx.q(&format!("__dqc_key_{i}"))))
        .collect();
    let on: Vec<String> =
        child_keys.iter().enumerate().map(|(i, k)| format!("{k} = p.{}", ctx.q(&format!("__dqc_key_{i}")))).collect();
    format!(
        "FROM (\n  SELECT {child_cols}\n  FROM {}{}\n) AS c\nLEFT JOIN (\n  SELECT {}\n  FROM {parent}\n) AS p\n  ON {}\nWHERE p.{} IS NULL",
        ctx.table,
        indent(&ctx.where_clause(&keyed_rows(ctx, rule, columns))),
        parent_keys.join(", "),
        on.join(" AND "),
        ctx.q("__dqc_key_0"),
    )
}

/// Rows whose key is missing from the parent, and how many distinct keys are missing (the
/// figure users act on: one missing dimension row often explains thousands of orphans).
fn foreign_key(ctx: &Ctx<'_>, rule: &Rule, columns: &[String], parent: &str, ref_columns: &[String]) -> Query {
    let child_cols: Vec<String> = columns.iter().map(|c| ctx.q(c)).collect();
    let keys: Vec<String> = columns.iter().map(|c| format!("c.{}", ctx.q(c))).collect();
    // With `at least N%`, the rows checked: those with a complete key that the filter keeps.
    let (checked_rows, mut params) = match rule.min_pass_percent {
        Some(_) => (
            format!(
                ",\n  (SELECT COUNT(*) FROM {}{}) AS {}",
                ctx.table,
                indent(&ctx.where_clause(&keyed_rows(ctx, rule, columns))),
                ctx.q(&result_column(&rule.id, "checked"))
            ),
            ctx.partition_params.clone(),
        ),
        None => (String::new(), Vec::new()),
    };
    let sql = format!(
        "SELECT\n  COUNT(*) AS {},\n  COALESCE(SUM(n), 0) AS {}{checked_rows}\nFROM (\n  SELECT COUNT(*) AS n\n  {}\n  GROUP BY {}\n) AS missing_keys",
        ctx.q("missing_keys"),
        ctx.q(&result_column(&rule.id, "violations")),
        indent(&orphans_from(ctx, rule, columns, parent, ref_columns, &child_cols.join(", "))),
        keys.join(", ")
    );
    params.extend(ctx.partition_params.iter().cloned());
    Query {
        name: format!("foreign_key__{}", rule.id),
        kind: QueryKind::ForeignKey,
        rule_ids: vec![rule.id.clone()],
        sql,
        params,
        sample_columns: Vec::new(),
    }
}

/// A foreign key's check and its sample from one anti-join, where the dialect
/// [`Dialect::checks_return_samples`]: the missing keys with their row counts, most rows first,
/// at most [`SAMPLE_LIMIT`] of them, each row carrying the counts of [`foreign_key`] over every
/// missing key. No row when no key is missing. `None` for rules with `at least N%` and on
/// other engines.
fn missing_keys(ctx: &Ctx<'_>, rule: &Rule, columns: &[String], parent: &str, ref_columns: &[String]) -> Option<Query> {
    if !check_returns_keys(ctx, rule, columns) {
        return None;
    }
    let child_cols: Vec<String> = columns.iter().map(|c| ctx.q(c)).collect();
    let grouped: Vec<String> = columns.iter().map(|c| format!("c.{}", ctx.q(c))).collect();
    let groups = format!(
        "SELECT {}, COUNT(*) AS {}\n{}\nGROUP BY {}",
        grouped.join(", "),
        ctx.q("__dqc_rows"),
        orphans_from(ctx, rule, columns, parent, ref_columns, &child_cols.join(", ")),
        grouped.join(", "),
    );
    let totals = [
        ("COUNT(*)".to_string(), ctx.q("missing_keys")),
        (format!("SUM({})", ctx.q("__dqc_rows")), ctx.q(&result_column(&rule.id, "violations"))),
    ];
    let (sql, sample_columns) = keys_with_totals(ctx, columns, &totals, &groups, ("missing", "missing_keys"));
    Some(Query {
        name: format!("foreign_key__{}", rule.id),
        kind: QueryKind::ForeignKey,
        rule_ids: vec![rule.id.clone()],
        sql,
        params: ctx.partition_params.clone(),
        sample_columns,
    })
}

/// The newest value, its lag behind the run time (a parameter), and the verdict.
fn freshness(ctx: &Ctx<'_>, rule: &Rule, column: &str, max_age_seconds: u64) -> Query {
    let d = ctx.d;
    // An instant is measured by its UTC wall clock, as the run time is written.
    let newest = match ctx.contract.column(column).map(|c| &c.ty) {
        Some(dqc_ir::Type::TimestampTz) => format!("MAX({})", d.utc_wall_clock(&ctx.q(column))),
        _ => format!("MAX(CAST({} AS TIMESTAMP))", ctx.q(column)),
    };
    let run_time = format!("CAST({} AS TIMESTAMP)", d.parameter());
    let lag = d.seconds_between(&newest, &run_time);
    let conds: Vec<String> = checked(d, rule).into_iter().collect();
    let sql = format!(
        "SELECT\n  {newest} AS {},\n  {lag} AS {},\n  CASE WHEN {newest} IS NULL OR {lag} > {max_age_seconds} THEN 1 ELSE 0 END AS {}\nFROM {}{}",
        ctx.q("newest"),
        ctx.q("lag_seconds"),
        ctx.q(&result_column(&rule.id, "violations")),
        ctx.table,
        ctx.where_clause(&conds),
    );
    // Placeholders in text order: the run time twice (the lag and the verdict), then the
    // partition values in the WHERE clause.
    let mut params = vec![run_param(), run_param()];
    params.extend(ctx.partition_params.iter().cloned());
    Query {
        name: format!("freshness__{}", rule.id),
        kind: QueryKind::Freshness,
        rule_ids: vec![rule.id.clone()],
        sql,
        params,
        sample_columns: Vec::new(),
    }
}

fn run_param() -> Param {
    Param { name: "run_time".to_string(), ty: "TIMESTAMP".to_string() }
}

/// Up to [`SAMPLE_LIMIT`] failing rows (row-level rules) or keys with their row counts (uniqueness, foreign keys).
fn sample(ctx: &Ctx<'_>, project: &Project, rule: &Rule) -> Option<Query> {
    let sql = match &rule.kind {
        // Where the check itself returns the duplicate keys, it needs no sample query.
        RuleKind::Unique { columns, keep } if duplicate_keys(ctx, rule, columns, keep.as_ref()).is_some() => {
            return None
        }
        RuleKind::Unique { columns, .. } => {
            let keys: Vec<String> = columns.iter().map(|c| ctx.q(c)).collect();
            format!(
                "SELECT {}, COUNT(*) AS {}\nFROM {}{}\nGROUP BY {}\nHAVING COUNT(*) > 1\nORDER BY COUNT(*) DESC, {}\nLIMIT {SAMPLE_LIMIT}",
                keys.join(", "),
                ctx.q("rows"),
                ctx.table,
                ctx.where_clause(&keyed_rows(ctx, rule, columns)),
                keys.join(", "),
                keys.join(", ")
            )
        }
        RuleKind::ForeignKey { columns, table, ref_columns } => {
            // The missing keys with their row counts, most rows first: a sample of keys, not rows.
            let parent = project.contracts.iter().find(|c| &c.table == table).map(|c| &c.table).unwrap_or(table);
            if missing_keys(ctx, rule, columns, &ctx.d.table(parent), ref_columns).is_some() {
                return None;
            }
            let child_cols: Vec<String> = columns.iter().map(|c| ctx.q(c)).collect();
            let keys: Vec<String> = columns.iter().map(|c| format!("c.{}", ctx.q(c))).collect();
            format!(
                "SELECT {}, COUNT(*) AS {}\n{}\nGROUP BY {}\nORDER BY COUNT(*) DESC, {}\nLIMIT {SAMPLE_LIMIT}",
                keys.join(", "),
                ctx.q("rows"),
                orphans_from(ctx, rule, columns, &ctx.d.table(parent), ref_columns, &child_cols.join(", ")),
                keys.join(", "),
                keys.join(", ")
            )
        }
        _ => {
            let cond = violating_row(ctx.d, ctx.contract, rule)?;
            if folded_sample(ctx, rule).is_some() {
                return None;
            }
            // The first failing rows in the order of their shown values (NULLs last), as the
            // DuckDB suite's `min_by` picks them: the same sample on every engine and run.
            let shown: Vec<String> = shown_columns(ctx.contract, rule).iter().map(|c| ctx.q(c)).collect();
            let (select, order) = if shown.is_empty() {
                ("*".to_string(), String::new())
            } else {
                let order: Vec<String> = shown.iter().map(|c| format!("{c} NULLS LAST")).collect();
                (shown.join(", "), format!("\nORDER BY {}", order.join(", ")))
            };
            format!("SELECT {select}\nFROM {}{}{order}\nLIMIT {SAMPLE_LIMIT}", ctx.table, ctx.where_clause(&[cond]))
        }
    };
    Some(Query {
        name: format!("sample__{}", rule.id),
        kind: QueryKind::Sample,
        rule_ids: vec![rule.id.clone()],
        sql,
        params: ctx.partition_params.clone(),
        sample_columns: Vec::new(),
    })
}

/// The columns a failing row's sample shows, in table order: the grain (to find the row), the
/// columns the rule constrains and those its filter reads; every column when the table has no
/// grain. Reading only these keeps a sample query from reading every column of a wide table.
fn shown_columns<'c>(contract: &'c Contract, rule: &Rule) -> Vec<&'c str> {
    // Without a grain nothing else identifies the row: show all of it.
    if contract.grain.is_empty() {
        return contract.columns.iter().map(|c| c.name.as_str()).collect();
    }
    let mut wanted: Vec<&str> = contract.grain.iter().map(String::as_str).collect();
    wanted.extend(crate::markdown::rule_columns(rule));
    if let Some(f) = &rule.filter {
        wanted.extend(f.columns());
    }
    contract
        .columns
        .iter()
        .filter(|c| wanted.iter().any(|w| w.eq_ignore_ascii_case(&c.name)))
        .map(|c| c.name.as_str())
        .collect()
}

/// One rule's violation count on its own: the `sql` of the seed's `tests` entries.
fn rule_count(ctx: &Ctx<'_>, project: &Project, rule: &Rule) -> Option<Query> {
    let d = ctx.d;
    let (sql, params) = match &rule.kind {
        RuleKind::Unique { columns, keep } => {
            let q = duplicates(ctx, rule, columns, keep.as_ref());
            (q.sql, q.params)
        }
        RuleKind::ForeignKey { columns, table, ref_columns } => {
            let parent = project.contracts.iter().find(|c| &c.table == table).map(|c| &c.table).unwrap_or(table);
            let q = foreign_key(ctx, rule, columns, &d.table(parent), ref_columns);
            (q.sql, q.params)
        }
        RuleKind::Freshness { column, max_age_seconds } => {
            let q = freshness(ctx, rule, column, *max_age_seconds);
            (q.sql, q.params)
        }
        RuleKind::RowCount { min, max } => (
            format!(
                "SELECT CASE WHEN {} THEN 1 ELSE 0 END AS {}\nFROM {}{}",
                row_count_outside(d, min, max),
                ctx.q(&result_column(&rule.id, "violations")),
                ctx.table,
                ctx.where_clause(&[])
            ),
            ctx.partition_params.clone(),
        ),
        RuleKind::RowCountAnomaly { .. } => return None,
        RuleKind::Aggregate { .. } => {
            let (value, fails) = aggregate(d, ctx.contract, rule)?;
            (
                format!(
                    "SELECT\n  {value} AS {},\n  CASE WHEN {fails} THEN 1 ELSE 0 END AS {}\nFROM {}{}",
                    ctx.q(&result_column(&rule.id, "value")),
                    ctx.q(&result_column(&rule.id, "violations")),
                    ctx.table,
                    ctx.where_clause(&[])
                ),
                ctx.partition_params.clone(),
            )
        }
        _ => {
            let cond = violating_row(d, ctx.contract, rule)?;
            (
                format!(
                    "SELECT {} AS {}\nFROM {}{}",
                    d.count_if(&cond),
                    ctx.q(&result_column(&rule.id, "violations")),
                    ctx.table,
                    ctx.where_clause(&[])
                ),
                ctx.partition_params.clone(),
            )
        }
    };
    Some(Query {
        name: format!("count__{}", rule.id),
        kind: QueryKind::RuleCount,
        rule_ids: vec![rule.id.clone()],
        sql,
        params,
        sample_columns: Vec::new(),
    })
}
