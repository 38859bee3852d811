//! The offline drafter: a contract for a table from its data alone, deterministic (the same
//! data gives a byte-identical draft), with the evidence of every rule in its `because`.
//!
//! The heuristics are Deequ's constraint suggestion rules (`Rules.DEFAULT` and part of
//! `EXTENDED`), with its thresholds, plus keys found in the data:
//!
//! | rule | drafted when | as |
//! |---|---|---|
//! | CompleteIfComplete | no NULL in the column | `not null c` |
//! | RetainCompleteness | 20% < completeness < 100% | `not null c at least P%`, P the lower bound of the 95% Wald interval |
//! | UniqueIfApproximatelyUnique | complete, not a measure (float, double, decimal), and distinct = rows (exact counts) or within 8% (approximate counts, then confirmed with a query) | `unique c` |
//! | RetainType | always | the column's type |
//! | CategoricalRange | a text or integer column with at most 20 distinct values, at most 10% of them seen once | `c in (...)` |
//! | NonNegativeNumbers | the minimum is >= 0 (> 0 when it is positive) | `c >= 0` / `c > 0` |
//! | HasMin/HasMax (EXTENDED) | a number column that is not a key | `c between min and max severity warn` |
//! | HasMinLength | the shortest text is not empty | `length(c) >= 1` |
//! | known shape | every value of a text column that is not categorical is an e-mail address, or every one a UUID | `c matches '...'` |
//! | composite key | no single column is unique; the first pair of complete columns that is | `unique (a, b)` |
//! | foreign key | a column named as the unique, complete key of another table, all of whose values are in it | `c references db.t (c)` |
//! | freshness | a complete timestamp (else date) column with rows on every day of at least 7 days: a daily load | `freshness c within 26 hours` |
//! | row-count anomaly | 7 earlier row counts in `stats-history/`, none (nor today's) more than 25% from their average | `row_count within B% of average over 7 days severity warn`, B twice the largest deviation (at least 10%, rounded up to 5%) |
//!
//! With the analysis of the job that writes the table, its hints add rules, each checked
//! against the data first: a grain (dedup window, `dropDuplicates`, aggregation) becomes
//! `unique (...)` and a `coalesce`/`IS NOT NULL` becomes `not null`, with the script's line as
//! evidence (and, where today's data disagrees, how many rows do: the job is the
//! specification); a join key adds its line to the foreign key the data gave, or a comment of
//! the draft says why there is none.
//!
//! The draft is formatted and checked with the compiler before it is returned: a draft that
//! does not check is an error, never a half-written contract.

use dqc_compiler::Source;
use serde::Serialize;
use serde_json::Value;

use crate::ports::{Error, QueryEngine};
use crate::profile::{self, count, Class, ColumnStats, Profile, SchemaColumn};

/// Most distinct values a categorical column may have.
pub const CATEGORICAL_MAX_DISTINCT: u64 = 20;
/// Fewest rows a table needs before value sets, keys and ranges are drafted from it.
pub const MIN_ROWS: u64 = 20;
/// Shapes of text a column keeps when every value has one: what it is, and its pattern
/// (anchored; written without backslashes, so it reads the same in every engine's dialect).
pub const PATTERNS: [(&str, &str); 2] = [
    ("an e-mail address", "^[^@ ]+@[^@ ]+[.][^@ ]+$"),
    ("a UUID", "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
];
/// Days with rows, in a row, before a daily freshness rule is drafted.
pub const FRESHNESS_MIN_DAYS: u64 = 7;
/// The history a row-count anomaly rule is drafted from, and its window.
pub const ANOMALY_WINDOW_DAYS: u32 = 7;
/// Column pairs tried as a composite key when no single column is unique.
pub const MAX_KEY_PAIRS: usize = 10;

/// What to draft.
#[derive(Debug, Clone)]
pub struct DraftOptions<'a> {
    /// Database of the table.
    pub database: &'a str,
    /// The table.
    pub table: &'a str,
    /// Other tables (`(database, table)`) whose keys the table's columns may reference.
    pub parents: &'a [(String, String)],
    /// The analysis of the ETL job that writes the table (`dqc analyze`), with the script's
    /// name for the evidence: its grain, not-null and foreign-key hints become rules where the
    /// data agrees.
    pub job: Option<(&'a str, &'a dqc_etl::JobAnalysis)>,
    /// The table's row counts of earlier runs, oldest first (`stats-history/`): with a week of
    /// them, a row-count anomaly rule is drafted.
    pub history: &'a [u64],
}

/// One drafted rule and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftedRule {
    /// The rule as written in the contract (without its `because`).
    pub rule: String,
    /// The evidence.
    pub because: String,
}

/// A drafted contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    /// The formatted contract text; it passes `dqc check`.
    pub text: String,
    /// The rules and their evidence, in contract order.
    pub rules: Vec<DraftedRule>,
    /// The profile the draft is based on.
    #[serde(skip)]
    pub profile: Profile,
}

fn ident(name: &str) -> String {
    dqc_compiler::syntax::quote_ident(name)
}

fn string(text: &str) -> String {
    dqc_compiler::syntax::quote_string(text)
}

fn number(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if s.parse::<f64>().is_ok_and(f64::is_finite) => Some(s.clone()),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    number(v)?.parse().ok()
}

/// The lower bound of the 95% Wald interval of a proportion `p` over `n` trials, as a percent
/// rounded down to two decimals.
fn wald_lower_percent(p: f64, n: u64) -> f64 {
    let n = n as f64;
    let lower = (p - 1.96 * (p * (1.0 - p) / n).sqrt()).max(0.0);
    (lower * 10_000.0).floor() / 100.0
}

struct Drafter<'a> {
    engine: &'a dyn QueryEngine,
    table: String,
    profile: &'a Profile,
    rules: Vec<DraftedRule>,
}

impl Drafter<'_> {
    fn add(&mut self, rule: String, because: String) {
        self.rules.push(DraftedRule { rule, because });
    }

    fn stats(&self, c: &SchemaColumn) -> Option<&ColumnStats> {
        self.profile.column_stats.get(&c.name)
    }

    fn complete(&self, c: &SchemaColumn) -> bool {
        self.profile.row_count > 0 && self.stats(c).is_some_and(|s| s.null_count == 0)
    }

    fn unique(&self, c: &SchemaColumn) -> bool {
        let rows = self.profile.row_count;
        let Some(distinct) = self.stats(c).and_then(|s| s.distinct_count) else { return false };
        if !self.complete(c) || rows < MIN_ROWS || matches!(profile::class(&c.engine_type), Class::Boolean) {
            return false;
        }
        // Measures (money, amounts) are unique by chance, not by design.
        if c.ty == "double" || c.ty == "float" || c.ty.starts_with("decimal") {
            return false;
        }
        if self.profile.profile_method.distinct_count == "exact" {
            distinct == rows
        } else {
            (1.0 - distinct as f64 / rows as f64).abs() <= 0.08
        }
    }

    fn query(&self, sql: &str) -> Result<crate::Rows, Error> {
        self.engine.query(sql, &[])
    }

    fn completeness(&mut self, c: &SchemaColumn) {
        let rows = self.profile.row_count;
        let Some(s) = self.stats(c) else { return };
        let nulls = s.null_count;
        if rows == 0 {
            return;
        }
        if nulls == 0 {
            self.add(format!("not null {}", ident(&c.name)), format!("profile: no NULL in {rows} rows"));
            return;
        }
        let p = (rows - nulls) as f64 / rows as f64;
        if p > 0.2 && rows >= MIN_ROWS {
            let bound = wald_lower_percent(p, rows);
            if bound > 0.0 {
                self.add(
                    format!("not null {} at least {bound}%", ident(&c.name)),
                    format!(
                        "profile: {nulls} NULL in {rows} rows ({:.2}% complete); {bound}% is the 95% lower bound",
                        p * 100.0
                    ),
                );
            }
        }
    }

    fn categorical(&mut self, c: &SchemaColumn) -> Result<bool, Error> {
        let class = profile::class(&c.engine_type);
        let integer = matches!(c.ty.as_str(), "tinyint" | "smallint" | "int" | "bigint");
        let Some(distinct) = self.stats(c).and_then(|s| s.distinct_count) else { return Ok(false) };
        if !(class == Class::Text || integer) || distinct == 0 || distinct > CATEGORICAL_MAX_DISTINCT {
            return Ok(false);
        }
        let non_null = self.profile.row_count - self.stats(c).map_or(0, |s| s.null_count);
        if non_null < MIN_ROWS {
            return Ok(false);
        }
        let d = self.engine.dialect();
        let x = d.quote_ident(&c.name);
        let rows = self.query(&format!(
            "SELECT CAST({x} AS VARCHAR) AS v, COUNT(*) AS n FROM {} WHERE {x} IS NOT NULL GROUP BY {x} ORDER BY 1",
            self.table
        ))?;
        let values: Vec<(String, u64)> =
            rows.rows.iter().filter_map(|r| Some((r.first()?.as_str()?.to_string(), count(r.get(1))))).collect();
        if values.is_empty() || u64::try_from(values.len()).unwrap_or(u64::MAX) > CATEGORICAL_MAX_DISTINCT {
            return Ok(false);
        }
        let singletons = values.iter().filter(|(_, n)| *n == 1).count();
        if singletons * 10 > values.len() {
            return Ok(false);
        }
        let shown: Vec<String> = values.iter().map(|(v, _)| if integer { v.clone() } else { string(v) }).collect();
        let least = values.iter().map(|(_, n)| *n).min().unwrap_or(0);
        self.add(
            format!("{} in ({})", ident(&c.name), shown.join(", ")),
            format!("profile: {} distinct values in {non_null} rows, each seen at least {least} times", values.len()),
        );
        Ok(true)
    }

    fn numbers(&mut self, c: &SchemaColumn, key: bool) {
        if profile::class(&c.engine_type) != Class::Number {
            return;
        }
        let Some(s) = self.stats(c) else { return };
        let (Some(min), Some(max)) = (s.min.as_ref().and_then(number), s.max.as_ref().and_then(number)) else {
            return;
        };
        let (Some(lo), Some(_)) = (s.min.as_ref().and_then(as_f64), s.max.as_ref().and_then(as_f64)) else { return };
        let name = ident(&c.name);
        if lo > 0.0 {
            self.add(format!("{name} > 0"), format!("profile: min = {min}"));
        } else if lo == 0.0 {
            self.add(format!("{name} >= 0"), format!("profile: min = {min}"));
        }
        if !key && self.profile.row_count >= MIN_ROWS && min != max {
            self.add(
                format!("{name} between {min} and {max} severity warn"),
                format!("profile: values from {min} to {max}"),
            );
        }
    }

    fn lengths(&mut self, c: &SchemaColumn) {
        if profile::class(&c.engine_type) != Class::Text || self.profile.row_count < MIN_ROWS {
            return;
        }
        let Some(s) = self.stats(c) else { return };
        if s.min_length.as_ref().and_then(as_f64).is_some_and(|m| m >= 1.0) {
            self.add(format!("length({}) >= 1", ident(&c.name)), "profile: no empty value".to_string());
        }
    }

    /// A text column all of whose values have one of the known shapes ([`PATTERNS`]) keeps it.
    fn pattern(&mut self, c: &SchemaColumn) -> Result<(), Error> {
        if profile::class(&c.engine_type) != Class::Text {
            return Ok(());
        }
        let present = self.profile.row_count - self.stats(c).map_or(0, |s| s.null_count);
        if present < MIN_ROWS {
            return Ok(());
        }
        let d = self.engine.dialect();
        let x = d.quote_ident(&c.name);
        for (shape, pattern) in PATTERNS {
            let matching = d.count_if(&format!("COALESCE({}, FALSE)", d.regex_contains(&x, pattern)));
            let r = self.query(&format!("SELECT {matching} AS shaped FROM {}", self.table))?;
            if count(r.first("shaped")) == present {
                self.add(
                    format!("{} matches {}", ident(&c.name), string(pattern)),
                    format!("data: all {present} values have the shape of {shape}"),
                );
                return Ok(());
            }
        }
        Ok(())
    }

    /// The first pair of complete columns whose values are unique together.
    fn composite_key(&mut self) -> Result<Option<(String, String)>, Error> {
        let rows = self.profile.row_count;
        if rows < MIN_ROWS {
            return Ok(None);
        }
        let mut candidates: Vec<&SchemaColumn> = self
            .profile
            .schema
            .iter()
            // Measures and event times make almost any pair unique; keys are ids and dates.
            .filter(|c| {
                self.complete(c)
                    && !matches!(c.ty.as_str(), "double" | "float" | "boolean" | "timestamp" | "timestamptz")
            })
            .filter(|c| profile::class(&c.engine_type) != Class::Nested)
            .collect();
        // Most distinct first: the likeliest key parts.
        candidates.sort_by_key(|c| std::cmp::Reverse(self.stats(c).and_then(|s| s.distinct_count).unwrap_or(0)));
        let d = self.engine.dialect();
        let mut tried = 0;
        for (i, a) in candidates.iter().enumerate() {
            for b in candidates.iter().skip(i + 1) {
                if tried == MAX_KEY_PAIRS {
                    return Ok(None);
                }
                tried += 1;
                let (x, y) = (d.quote_ident(&a.name), d.quote_ident(&b.name));
                let r = self.query(&format!(
                    "SELECT COUNT(*) AS n FROM (SELECT {x}, {y} FROM {} GROUP BY {x}, {y} HAVING COUNT(*) > 1) AS d",
                    self.table
                ))?;
                if count(r.first("n")) == 0 {
                    return Ok(Some((a.name.clone(), b.name.clone())));
                }
            }
        }
        Ok(None)
    }

    fn foreign_key(&mut self, c: &SchemaColumn, parents: &[(String, String)]) -> Result<(), Error> {
        let d = self.engine.dialect();
        let x = d.quote_ident(&c.name);
        for (db, t) in parents {
            let parent = format!("{}.{}", d.quote_ident(db), d.quote_ident(t));
            let Some(columns) = self.parent_columns(db, t)? else { continue };
            let Some(p) = columns.iter().find(|p| p.name.eq_ignore_ascii_case(&c.name)) else { continue };
            if p.ty != c.ty {
                continue;
            }
            let y = d.quote_ident(&p.name);
            let key = self.query(&format!(
                "SELECT COUNT(*) AS n, COUNT({y}) AS present, COUNT(DISTINCT {y}) AS distinct_values FROM {parent}"
            ))?;
            let n = count(key.first("n"));
            if n == 0 || count(key.first("present")) != n || count(key.first("distinct_values")) != n {
                continue;
            }
            let orphans = self.query(&format!(
                "SELECT COUNT(*) AS orphans, COUNT(c.{x}) AS checked FROM (SELECT {x} FROM {}) AS c \
                 LEFT JOIN (SELECT {y} AS k FROM {parent}) AS p ON c.{x} = p.k WHERE c.{x} IS NOT NULL AND p.k IS NULL",
                self.table
            ))?;
            if count(orphans.first("orphans")) == 0 {
                let checked = self.profile.row_count - self.stats(c).map_or(0, |s| s.null_count);
                self.add(
                    format!("{} references {}.{} ({})", ident(&c.name), ident(db), ident(t), ident(&p.name)),
                    format!("data: all {checked} values are keys of {db}.{t} ({} rows, {} unique)", n, p.name),
                );
                return Ok(());
            }
        }
        Ok(())
    }

    /// Rows sharing a value of `columns` with another row.
    fn duplicate_keys(&self, columns: &[String]) -> Result<u64, Error> {
        let d = self.engine.dialect();
        let keys: Vec<String> = columns.iter().map(|c| d.quote_ident(c)).collect();
        let r = self.query(&format!(
            "SELECT COUNT(*) AS n FROM (SELECT {k} FROM {} GROUP BY {k} HAVING COUNT(*) > 1) AS d",
            self.table,
            k = keys.join(", ")
        ))?;
        Ok(count(r.first("n")))
    }

    /// Adds the job's evidence to a rule the data already gave; false when there is none.
    fn add_evidence(&mut self, rule: &str, evidence: &str) -> bool {
        match self.rules.iter_mut().find(|r| r.rule == rule) {
            Some(r) => {
                r.because = format!("{evidence}; {}", r.because);
                true
            }
            None => false,
        }
    }

    /// The job's hints about this table, as rules where the data agrees; the others as notes.
    fn job_hints(
        &mut self,
        script: &str,
        job: &dqc_etl::JobAnalysis,
        table: &str,
        notes: &mut Vec<String>,
    ) -> Result<(), Error> {
        let names: Vec<&str> = self.profile.schema.iter().map(|c| c.name.as_str()).collect();
        let known = |c: &String| names.iter().any(|n| n.eq_ignore_ascii_case(c));
        let ours = |t: &str| {
            let t = t.trim_end_matches('/');
            let last = t.rsplit(['/', '.']).next().unwrap_or(t);
            last.eq_ignore_ascii_case(table)
        };
        for h in job.hints.iter().filter(|h| ours(&h.table) && !h.columns.is_empty() && h.columns.iter().all(known)) {
            let at = format!("{script}:{}", h.location.line);
            let cols: Vec<String> = h.columns.iter().map(|c| ident(c)).collect();
            match h.kind {
                dqc_etl::HintKind::Grain => {
                    let rule = if cols.len() == 1 {
                        format!("unique {}", cols.join(""))
                    } else {
                        format!("unique ({})", cols.join(", "))
                    };
                    let evidence = format!("job: {} at {at}", h.evidence);
                    if self.add_evidence(&rule, &evidence) {
                        continue;
                    }
                    // The job is the specification: a key that repeats today is a finding, said so.
                    match self.duplicate_keys(&h.columns)? {
                        0 => self.add(rule, evidence),
                        n => self.add(rule, format!("{evidence}; data: {n} key(s) repeat today")),
                    }
                }
                dqc_etl::HintKind::NotNull => {
                    let [column] = h.columns.as_slice() else { continue };
                    let Some(c) = self.profile.schema.iter().find(|c| c.name.eq_ignore_ascii_case(column)) else {
                        continue;
                    };
                    let rule = format!("not null {}", ident(&c.name));
                    let evidence = format!("job: {} at {at}", h.evidence);
                    if self.add_evidence(&rule, &evidence) {
                        continue;
                    }
                    let nulls = self.stats(c).map_or(0, |s| s.null_count);
                    if nulls == 0 {
                        self.add(rule, evidence);
                    } else {
                        self.add(rule, format!("{evidence}; data: {nulls} NULL today"));
                    }
                }
                dqc_etl::HintKind::ForeignKey => {
                    let [column] = h.columns.as_slice() else { continue };
                    // The data decided foreign keys already; the job adds its evidence to one.
                    let prefix = format!("{} references", ident(column));
                    match self.rules.iter_mut().find(|r| r.rule.starts_with(&prefix)) {
                        Some(r) => r.because = format!("job: join on {column} at {at}; {}", r.because),
                        None => notes.push(format!(
                            "{at} joins on {column} ({}), but not every value is a key of a table in the lake: not drafted",
                            h.detail
                        )),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Freshness from the data's days: a complete timestamp (else date) column with rows on
    /// every day of a span of at least a week is loaded daily, so its newest value is due within
    /// a day, plus two hours' grace.
    fn freshness(&mut self) -> Result<(), Error> {
        if self.profile.row_count < MIN_ROWS {
            return Ok(());
        }
        let mut candidates: Vec<&SchemaColumn> = self
            .profile
            .schema
            .iter()
            .filter(|c| matches!(c.ty.as_str(), "timestamp" | "timestamptz" | "date") && self.complete(c))
            .collect();
        candidates.sort_by_key(|c| c.ty == "date");
        let d = self.engine.dialect();
        for c in candidates {
            let x = d.quote_ident(&c.name);
            let r = self.query(&format!(
                "SELECT COUNT(DISTINCT CAST({x} AS DATE)) AS days, CAST(MIN(CAST({x} AS DATE)) AS VARCHAR) AS first_day, \
                 CAST(MAX(CAST({x} AS DATE)) AS VARCHAR) AS last_day FROM {}",
                self.table
            ))?;
            let day = |k: &str| r.first(k).and_then(Value::as_str).and_then(|v| v.parse::<jiff::civil::Date>().ok());
            let (days, Some(first), Some(last)) = (count(r.first("days")), day("first_day"), day("last_day")) else {
                continue;
            };
            let span = first.until(last).ok().map(|s| i64::from(s.get_days()) + 1);
            if days >= FRESHNESS_MIN_DAYS && span == i64::try_from(days).ok() {
                self.add(
                    format!("freshness {} within 26 hours", ident(&c.name)),
                    format!(
                        "data: rows on each of the {days} days from {first} to {last}, a daily load; 2 hours of grace"
                    ),
                );
                return Ok(());
            }
        }
        Ok(())
    }

    /// A row-count anomaly rule from a week of history: today's count and each of the last
    /// seven must lie within the band, which is twice the largest deviation from their average
    /// (at least 10%, rounded up to 5%); a history that moves by more than 25% is too
    /// irregular for a rule.
    fn row_count_anomaly(&mut self, history: &[u64]) {
        let window = ANOMALY_WINDOW_DAYS as usize;
        if history.len() < window {
            return;
        }
        let points = &history[history.len() - window..];
        let mean = points.iter().map(|n| *n as f64).sum::<f64>() / window as f64;
        if mean <= 0.0 {
            return;
        }
        let today = self.profile.row_count;
        let largest = points
            .iter()
            .chain(std::iter::once(&today))
            .map(|n| ((*n as f64 - mean).abs() / mean) * 100.0)
            .fold(0.0_f64, f64::max);
        if largest > 25.0 {
            return;
        }
        let band = ((2.0 * largest / 5.0).ceil() * 5.0).max(10.0);
        let (lo, hi) = (points.iter().min().copied().unwrap_or(0), points.iter().max().copied().unwrap_or(0));
        self.add(
            format!("row_count within {band}% of average over {ANOMALY_WINDOW_DAYS} days severity warn"),
            format!(
                "history: the last {window} row counts run from {lo} to {hi} (average {mean:.0}), today {today}; at most {largest:.1}% from the average, and the band is twice that"
            ),
        );
    }

    fn parent_columns(&self, db: &str, t: &str) -> Result<Option<Vec<SchemaColumn>>, Error> {
        let rows = self.engine.query(
            &profile::schema_sql(),
            &[crate::ports::Param::Text(db.to_string()), crate::ports::Param::Text(t.to_string())],
        )?;
        let columns = profile::schema_from(&rows);
        Ok((!columns.is_empty()).then_some(columns))
    }
}

/// Drafts a contract for `database.table` from its data.
pub fn draft(engine: &dyn QueryEngine, o: &DraftOptions<'_>) -> Result<Draft, Error> {
    let p = profile::profile(engine, o.database, o.table)?;
    let d = engine.dialect();
    let table = format!("{}.{}", d.quote_ident(o.database), d.quote_ident(o.table));
    let mut drafter = Drafter { engine, table, profile: &p, rules: Vec::new() };
    let columns: Vec<&SchemaColumn> =
        p.schema.iter().filter(|c| dqc_semantics::types::engine_type(&c.engine_type).is_some()).collect();
    let mut keys: Vec<String> = Vec::new();
    for c in columns.iter().filter(|c| drafter.unique(c)) {
        // Approximate distinct counts (large tables) are confirmed exactly before a key is drafted.
        if p.profile_method.distinct_count == "exact" || drafter.duplicate_keys(std::slice::from_ref(&c.name))? == 0 {
            keys.push(c.name.clone());
        }
    }
    for c in &columns {
        drafter.completeness(c);
    }
    for c in &columns {
        if keys.contains(&c.name) {
            drafter.add(
                format!("unique {}", ident(&c.name)),
                format!(
                    "profile: {} distinct values in {} rows ({} count)",
                    drafter.stats(c).and_then(|s| s.distinct_count).unwrap_or(0),
                    p.row_count,
                    p.profile_method.distinct_count
                ),
            );
        }
    }
    if keys.is_empty() {
        if let Some((a, b)) = drafter.composite_key()? {
            drafter.add(
                format!("unique ({}, {})", ident(&a), ident(&b)),
                format!("data: no two of the {} rows share ({a}, {b}), and no single column is unique", p.row_count),
            );
        }
    }
    for c in &columns {
        let key = keys.contains(&c.name);
        if !key {
            drafter.foreign_key(c, o.parents)?;
        }
        let categorical = !key && drafter.categorical(c)?;
        if !categorical {
            drafter.numbers(c, key);
            drafter.lengths(c);
            drafter.pattern(c)?;
        }
    }
    let mut notes: Vec<String> = p
        .schema
        .iter()
        .filter(|c| dqc_semantics::types::engine_type(&c.engine_type).is_none())
        .map(|c| format!("column {} is {} in the data, which no contract type holds: left out (the table will not match until it is cast)", c.name, c.engine_type))
        .collect();
    drafter.freshness()?;
    drafter.row_count_anomaly(o.history);
    if let Some((script, job)) = o.job {
        drafter.job_hints(script, job, o.table, &mut notes)?;
    }
    let rules = drafter.rules;
    let mut text = format!(
        "-- Drafted offline by dqc from the data of {}.{} ({} rows). Review every rule before approving it.\n",
        o.database, o.table, p.row_count
    );
    for note in &notes {
        text.push_str(&format!("-- {}\n", note.replace('\n', " ")));
    }
    text.push_str(&format!("contract {}.{} {{\n  columns {{\n", ident(o.database), ident(o.table)));
    for c in &columns {
        text.push_str(&format!("    {} {},\n", ident(&c.name), c.ty));
    }
    text.push_str("  }\n");
    if !rules.is_empty() {
        text.push_str("  rules {\n");
        for r in &rules {
            text.push_str(&format!("    {} because {}\n", r.rule, string(&r.because)));
        }
        text.push_str("  }\n");
    }
    text.push_str("}\n");
    let text =
        dqc_compiler::format(&text).map_err(|d| Error::fatal(format!("the draft does not parse: {}", d.message)))?;
    Ok(Draft { text, rules, profile: p })
}

/// Checks a draft together with the contracts it references (`others`): the diagnostics'
/// messages, empty when it checks.
pub fn check_draft(draft: &str, others: &[Source]) -> Vec<String> {
    let mut sources = others.to_vec();
    sources.push(Source::new("draft.dqc", draft.to_string()));
    let checked = dqc_compiler::check(&sources);
    checked.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.message.clone()).collect()
}

/// The row counts of the table's earlier runs, oldest first, from `stats-history/` of
/// `store`: under the folder its published contract's artifacts use (`known`, the published
/// contracts), else under the table's own name, else `database.table`.
pub fn row_count_history(
    store: &dyn crate::ports::ArtifactStore,
    database: &str,
    table: &str,
    known: &[Source],
) -> Result<Vec<u64>, Error> {
    let checked = dqc_compiler::check(known);
    let published = checked
        .project
        .contracts
        .iter()
        .find(|c| c.table.table == table && c.table.database.as_deref() == Some(database));
    let mut keys: Vec<String> =
        published.map(|c| dqc_compiler::codegen::file_stem(&checked.project, c)).into_iter().collect();
    let plain = dqc_compiler::codegen::safe_name(table);
    keys.push(plain.clone());
    keys.push(format!("{}.{plain}", dqc_compiler::codegen::safe_name(database)));
    for key in keys {
        let history = crate::test_run::row_count_history(store, &key, "9999-12-31")?;
        if !history.is_empty() {
            return Ok(history);
        }
    }
    Ok(Vec::new())
}
