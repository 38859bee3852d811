//! The drafting context: what a drafter (a person, the offline heuristics or an LLM) is told
//! about a table, in the seed's context shape (`table_name`, `database`, `layer`, `purpose`,
//! `schema`, `constraints`, `row_count`, `column_stats`, `job_summary`).
//!
//! Large tables are summarized, not pasted: the context has a size budget, and what was left
//! out to meet it is listed under `omitted`, so a reader knows what it was not told.

use dqc_ir::Contract;
use serde_json::{json, Map, Value};

use crate::profile::Profile;

/// The default budget of a context, in bytes of compact JSON.
pub const DEFAULT_BUDGET_BYTES: usize = 24 * 1024;
/// Longest text value kept whole in statistics (`min`, `max`, top values).
const MAX_TEXT: usize = 64;

/// What goes into a context besides the profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextInputs<'a> {
    /// The table's current contract, if it has one: its layer, purpose and rules (as constraints).
    pub existing: Option<&'a Contract>,
    /// The summary of the job that writes the table (`dqc analyze`), in the seed's shape.
    pub job_summary: Option<&'a Value>,
    /// Size budget in bytes of compact JSON; 0 means [`DEFAULT_BUDGET_BYTES`].
    pub budget_bytes: usize,
}

fn short(v: &Value) -> Value {
    match v {
        Value::String(s) if s.chars().count() > MAX_TEXT => {
            Value::String(format!("{}...", s.chars().take(MAX_TEXT).collect::<String>()))
        }
        other => other.clone(),
    }
}

fn size(v: &Value) -> usize {
    serde_json::to_string(v).map_or(usize::MAX, |s| s.len())
}

/// The statistics of one column as the seed shows them: NULL share, range, distinct count,
/// p95, top values; `full` adds the other percentiles, the mean and lengths.
fn column_stats(s: &crate::profile::ColumnStats, full: bool, top: usize) -> Value {
    let mut m = Map::new();
    m.insert("null_pct".into(), json!(s.null_pct));
    for (k, v) in [("min", &s.min), ("max", &s.max)] {
        if let Some(v) = v {
            m.insert(k.into(), short(v));
        }
    }
    if let Some(d) = s.distinct_count {
        m.insert("distinct_count".into(), json!(d));
    }
    if let Some(p95) = s.percentiles.get("p95") {
        m.insert("p95".into(), p95.clone());
    }
    if full {
        for (k, v) in &s.percentiles {
            if k != "p95" {
                m.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in [("mean", &s.mean), ("min_length", &s.min_length), ("max_length", &s.max_length)] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone());
            }
        }
    }
    if let Some(values) = &s.top_values {
        let shown: Vec<Value> =
            values.iter().take(top).map(|t| json!({"value": short(&t.value), "count": t.count})).collect();
        if !shown.is_empty() {
            m.insert("top_values".into(), Value::Array(shown));
        }
    }
    Value::Object(m)
}

/// Assembles the context of a profiled table, within its budget.
pub fn context(profile: &Profile, inputs: &ContextInputs<'_>) -> Value {
    let budget = if inputs.budget_bytes == 0 { DEFAULT_BUDGET_BYTES } else { inputs.budget_bytes };
    let schema: Vec<Value> =
        profile.schema.iter().map(|c| json!({"name": c.name, "type": c.ty, "nullable": c.nullable})).collect();
    let constraints: Vec<Value> = inputs
        .existing
        .map(|c| {
            c.rules
                .iter()
                .map(|r| {
                    json!({
                        "name": r.id,
                        "type": r.kind.type_name(),
                        "expression": dqc_codegen::describe::rule(c, r),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert("table_name".into(), json!(profile.table_name));
    out.insert("database".into(), json!(profile.database));
    if let Some(c) = inputs.existing {
        if let Some(layer) = &c.layer {
            out.insert("layer".into(), json!(layer));
        }
        if let Some(purpose) = &c.description {
            out.insert("purpose".into(), json!(purpose));
        }
    }
    out.insert("schema".into(), Value::Array(schema));
    out.insert("constraints".into(), Value::Array(constraints));
    out.insert("row_count".into(), json!(profile.row_count));
    if let Some(job) = inputs.job_summary {
        out.insert("job_summary".into(), job.clone());
    }
    // Richest first; then fewer details; then statistics of fewer columns, in schema order.
    let names: Vec<&String> = profile.schema.iter().map(|c| &c.name).collect();
    let stats_of = |columns: usize, full: bool, top: usize| -> Value {
        let mut m = Map::new();
        for name in names.iter().take(columns) {
            if let Some(s) = profile.column_stats.get(*name) {
                m.insert((*name).clone(), column_stats(s, full, top));
            }
        }
        Value::Object(m)
    };
    let mut omitted: Vec<String> = Vec::new();
    let with = |stats: Value, omitted: &[String]| -> Value {
        let mut o = out.clone();
        o.insert("column_stats".into(), stats);
        if !omitted.is_empty() {
            o.insert("omitted".into(), json!({"budget_bytes": budget, "left_out": omitted}));
        }
        Value::Object(o)
    };
    let full = with(stats_of(names.len(), true, 5), &omitted);
    if size(&full) <= budget {
        return full;
    }
    omitted.push("percentiles other than p95, means and string lengths".to_string());
    omitted.push("top values beyond the 3 most frequent".to_string());
    let lean = with(stats_of(names.len(), false, 3), &omitted);
    if size(&lean) <= budget {
        return lean;
    }
    // Fewer columns' statistics, as many as fit (at least none), the others named.
    let left_out = |kept: usize| -> String {
        let left: Vec<&str> = names.iter().skip(kept).map(|n| n.as_str()).collect();
        let shown: Vec<&str> = left.iter().take(20).copied().collect();
        let more =
            if left.len() > shown.len() { format!(" and {} more", left.len() - shown.len()) } else { String::new() };
        format!("column_stats of {} of {} columns: {}{more}", left.len(), names.len(), shown.join(", "))
    };
    let attempt = |kept: usize| -> Value {
        let mut note = omitted.clone();
        note.push(left_out(kept));
        with(stats_of(kept, false, 3), &note)
    };
    let (mut lo, mut hi) = (0, names.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if size(&attempt(mid)) <= budget {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let result = attempt(lo);
    if size(&result) <= budget {
        return result;
    }
    // The schema is always given whole, even when it alone is over the budget: say so.
    let mut note = omitted.clone();
    note.push(left_out(0));
    note.push(format!("nothing more: the schema alone is over the budget of {budget} bytes"));
    with(stats_of(0, false, 3), &note)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code fails loudly")]

    use std::collections::BTreeMap;

    use super::*;
    use crate::profile::{ColumnStats, Method, SchemaColumn, TopValue};

    fn profile(columns: usize) -> Profile {
        let schema: Vec<SchemaColumn> = (0..columns)
            .map(|i| SchemaColumn {
                name: format!("c{i}"),
                ty: "string".into(),
                nullable: true,
                engine_type: "VARCHAR".into(),
            })
            .collect();
        let stats: BTreeMap<String, ColumnStats> = schema
            .iter()
            .map(|c| {
                let s = ColumnStats {
                    null_count: 1,
                    null_fraction: 0.1,
                    null_pct: 10.0,
                    distinct_count: Some(3),
                    min: Some(json!("a".repeat(200))),
                    max: Some(json!("z")),
                    top_values: Some(
                        (0..5).map(|k| TopValue { value: json!(format!("v{k}")), count: 5 - k }).collect(),
                    ),
                    ..ColumnStats::default()
                };
                (c.name.clone(), s)
            })
            .collect();
        Profile {
            table_name: "t".into(),
            database: "db".into(),
            schema,
            row_count: 10,
            column_stats: stats,
            profile_method: Method {
                distinct_count: "exact".into(),
                percentiles: "exact".into(),
                approximate_above_rows: 1,
                top_k: 5,
                top_values_max_distinct: 10,
            },
        }
    }

    #[test]
    fn a_small_table_is_pasted_whole_in_the_seed_shape() {
        let c = context(&profile(3), &ContextInputs::default());
        for key in ["table_name", "database", "schema", "constraints", "row_count", "column_stats"] {
            assert!(c.get(key).is_some(), "{key}: {c}");
        }
        assert_eq!(c["column_stats"]["c0"]["top_values"].as_array().unwrap().len(), 5);
        assert!(c["column_stats"]["c0"]["min"].as_str().unwrap().ends_with("..."), "long text is shortened");
        assert!(c.get("omitted").is_none());
    }

    #[test]
    fn a_wide_table_is_summarized_within_the_budget_and_says_what_it_left_out() {
        let budget = DEFAULT_BUDGET_BYTES;
        let c = context(&profile(400), &ContextInputs { budget_bytes: budget, ..ContextInputs::default() });
        assert!(size(&c) <= budget, "{} > {budget}", size(&c));
        let left_out = c["omitted"]["left_out"].as_array().unwrap();
        let last = left_out.last().unwrap().as_str().unwrap();
        assert!(last.starts_with("column_stats of "), "{last}");
        assert!(last.contains("and ") && last.contains(" more"), "{last}");
        assert_eq!(c["schema"].as_array().unwrap().len(), 400, "the schema is never cut");
        let kept = c["column_stats"].as_object().unwrap().len();
        assert!(kept > 0 && kept < 400, "{kept}");
        // A schema over the budget by itself is kept whole, and the context says so.
        let tiny = context(&profile(400), &ContextInputs { budget_bytes: 1024, ..ContextInputs::default() });
        assert_eq!(tiny["column_stats"].as_object().unwrap().len(), 0);
        assert!(tiny["omitted"]["left_out"].to_string().contains("the schema alone is over the budget"), "{tiny}");
    }
}
