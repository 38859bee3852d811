//! The counts of a pre-load split: per rule and per cast column, the outputs, the invariant.

use std::path::PathBuf;

use dqc_codegen::sql::{Dialect, DuckDb};
use dqc_ir::Contract;
use serde::Serialize;

use super::plan::{cast_columns, cast_rule_id, Applied};

/// One applied rule's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    /// Rule id.
    pub rule_id: String,
    /// Rule type (`not_null`, `unique`, ...).
    pub rule_name: String,
    /// `error` or `warn`.
    pub severity: String,
    /// `quarantine` or `tag`.
    pub action: String,
    /// Rows violating the rule (among the rows read).
    pub violations: u64,
    /// Rows the rule checked, for rules with a `where` filter.
    pub checked: Option<u64>,
    /// The minimum pass percentage, for rules with `at least N%`.
    pub min_pass_percent: Option<String>,
    /// For threshold rules: whether the batch meets the threshold.
    pub passed: Option<bool>,
}

/// Values of one column that did not cast to its declared type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CastCount {
    /// The id used in `_dq_errors` (`cast_<column>`).
    pub rule_id: String,
    /// Column.
    pub column: String,
    /// The declared type, as cast.
    #[serde(rename = "type")]
    pub ty: String,
    /// Rows whose value did not cast.
    pub rows: u64,
}

/// A pre-load aggregate rule over the batch (no row is quarantined for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AggregateOutcome {
    /// Rule id.
    pub rule_id: String,
    /// `error` or `warn`.
    pub severity: String,
    /// The aggregate's value as text, or `None` when there was nothing to aggregate.
    pub value: Option<String>,
    /// Whether the value is within the rule's bounds.
    pub passed: bool,
}

/// A pre-load rule the split did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedRule {
    /// Rule id.
    pub rule_id: String,
    /// Why.
    pub reason: String,
}

/// Where the outputs are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outputs {
    /// Valid rows.
    pub valid: PathBuf,
    /// Quarantined rows.
    pub quarantined: PathBuf,
    /// CSV lines that could not be read.
    pub rejected_lines: PathBuf,
    /// The metrics file, when an artifact folder was given.
    pub metrics: Option<PathBuf>,
}

/// The result of a split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreloadReport {
    /// `database.table`.
    pub table: String,
    /// The contract's content hash.
    pub contract_hash: String,
    /// The run id of the metrics path.
    pub run_id: String,
    /// Rows in the inputs: rows read plus rejected lines.
    pub rows_in: u64,
    /// Physical lines after the header of the CSV inputs, counted from the files themselves
    /// (a quoted field may span lines, so a row can be several lines); absent without CSV input.
    pub lines_in: Option<u64>,
    /// Blank CSV lines, skipped and counted.
    pub blank_lines: u64,
    /// Rows written to the valid output.
    pub rows_valid: u64,
    /// Rows written to the quarantine output.
    pub rows_quarantined: u64,
    /// Lines written to the rejected-lines output.
    pub rows_rejected: u64,
    /// `rows_valid + rows_quarantined + rows_rejected == rows_in`, and every CSV line after the
    /// header is in a row, a rejected line or a blank line.
    pub invariant_holds: bool,
    /// Applied rules, in contract order.
    pub rules: Vec<RuleCount>,
    /// Cast failures per column, in column order.
    pub cast_failures: Vec<CastCount>,
    /// Pre-load rules not applied, with why.
    pub skipped: Vec<SkippedRule>,
    /// Pre-load aggregate rules, computed over the batch, in contract order.
    pub aggregates: Vec<AggregateOutcome>,
    /// Output files.
    pub outputs: Outputs,
}

/// What [`build`] assembles a report from.
pub(super) struct Parts<'a> {
    pub contract: &'a Contract,
    pub applied: &'a [Applied<'a>],
    pub skipped: Vec<SkippedRule>,
    pub aggregates: Vec<AggregateOutcome>,
    /// The row of [`super::plan::counts`].
    pub counts: &'a [u64],
    pub loaded: super::input::Loaded,
    /// Rows written: valid, quarantined, rejected.
    pub written: (u64, u64, u64),
    pub run_id: String,
    pub outputs: Outputs,
}

/// Whether `(checked - violations) / checked >= percent / 100`, exactly.
fn meets(percent: &str, checked: u64, violations: u64) -> bool {
    let (whole, fraction) = percent.split_once('.').unwrap_or((percent, ""));
    let digits = format!("{whole}{fraction}");
    let (Ok(numerator), Ok(scale)) = (digits.parse::<u128>(), u32::try_from(fraction.len())) else { return false };
    let Some(denominator) = 10u128.checked_pow(scale) else { return false };
    let passed = u128::from(checked.saturating_sub(violations));
    passed * 100 * denominator >= numerator * u128::from(checked)
}

pub(super) fn build(p: Parts<'_>) -> PreloadReport {
    let mut figures = p.counts.iter().copied().skip(2);
    let mut next = || figures.next().unwrap_or(0);
    let cast_failures = cast_columns(p.contract)
        .into_iter()
        .filter_map(|i| p.contract.columns.get(i))
        .map(|c| CastCount {
            rule_id: cast_rule_id(&c.name),
            column: c.name.clone(),
            ty: DuckDb.cast_type(&c.ty),
            rows: next(),
        })
        .collect();
    let rules = p
        .applied
        .iter()
        .map(|a| {
            let violations = next();
            let checked = a.rule.filter.as_ref().map(|_| next());
            let threshold = a.rule.min_pass_percent.clone();
            let total = p.counts.first().copied().unwrap_or(0);
            let passed = threshold.as_deref().map(|t| meets(t, checked.unwrap_or(total), violations));
            RuleCount {
                rule_id: a.rule.id.clone(),
                rule_name: a.rule.kind.type_name().to_string(),
                severity: a.rule.severity.as_str().to_string(),
                action: if a.quarantines { "quarantine" } else { "tag" }.to_string(),
                violations,
                checked,
                min_pass_percent: threshold,
                passed,
            }
        })
        .collect();
    let (rows_valid, rows_quarantined, rows_rejected) = p.written;
    PreloadReport {
        table: p.contract.table.qualified(),
        contract_hash: p.contract.hash.clone(),
        run_id: p.run_id,
        rows_in: p.loaded.rows + p.loaded.rejected,
        lines_in: p.loaded.lines,
        blank_lines: p.loaded.blank,
        rows_valid,
        rows_quarantined,
        rows_rejected,
        invariant_holds: p.loaded.accounted
            && rows_valid + rows_quarantined + rows_rejected == p.loaded.rows + p.loaded.rejected,
        rules,
        cast_failures,
        skipped: p.skipped,
        aggregates: p.aggregates,
        outputs: p.outputs,
    }
}

impl PreloadReport {
    /// A readable summary: counts, per-rule figures, skipped rules, the invariant.
    pub fn render_text(&self) -> String {
        let mut out = format!("pre-load split of {} (contract {})\n", self.table, self.contract_hash);
        out.push_str(&format!("  input rows      {:>10}\n", self.rows_in));
        if let Some(lines) = self.lines_in {
            out.push_str(&format!("  input lines     {:>10}  (after the header; {} blank)\n", lines, self.blank_lines));
        }
        out.push_str(&format!("  valid           {:>10}  {}\n", self.rows_valid, self.outputs.valid.display()));
        out.push_str(&format!(
            "  quarantined     {:>10}  {}\n",
            self.rows_quarantined,
            self.outputs.quarantined.display()
        ));
        out.push_str(&format!(
            "  rejected lines  {:>10}  {}\n",
            self.rows_rejected,
            self.outputs.rejected_lines.display()
        ));
        let width =
            self.rules.iter().map(|r| r.rule_id.len()).chain(self.cast_failures.iter().map(|c| c.rule_id.len()));
        let width = width.max().unwrap_or(4).max(4);
        out.push_str(&format!("\n  {:<width$}  {:<8}  {:<10}  {:>10}\n", "rule", "severity", "action", "violations"));
        for c in self.cast_failures.iter().filter(|c| c.rows > 0) {
            out.push_str(&format!("  {:<width$}  {:<8}  {:<10}  {:>10}\n", c.rule_id, "error", "quarantine", c.rows));
        }
        for r in &self.rules {
            let mut line =
                format!("  {:<width$}  {:<8}  {:<10}  {:>10}", r.rule_id, r.severity, r.action, r.violations);
            if let (Some(t), Some(passed)) = (&r.min_pass_percent, r.passed) {
                line.push_str(&format!("  (at least {t}%: {})", if passed { "met" } else { "NOT met" }));
            }
            out.push_str(&line);
            out.push('\n');
        }
        for a in &self.aggregates {
            out.push_str(&format!(
                "  aggregate {} ({}): {} over the batch, {}\n",
                a.rule_id,
                a.severity,
                a.value.as_deref().unwrap_or("no value"),
                if a.passed { "within bounds" } else { "OUT of bounds" }
            ));
        }
        for s in &self.skipped {
            out.push_str(&format!("  skipped {}: {}\n", s.rule_id, s.reason));
        }
        out.push_str(&format!(
            "\n  invariant: {} valid + {} quarantined + {} rejected = {} of {} input rows: {}\n",
            self.rows_valid,
            self.rows_quarantined,
            self.rows_rejected,
            self.rows_valid + self.rows_quarantined + self.rows_rejected,
            self.rows_in,
            if self.invariant_holds { "holds" } else { "BROKEN" }
        ));
        if let Some(m) = &self.outputs.metrics {
            out.push_str(&format!("  metrics: {}\n", m.display()));
        }
        out
    }
}
