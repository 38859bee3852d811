//! A plain-text rendering of analyses, for terminals and golden files.

use std::fmt::Write as _;

use crate::model::{JobAnalysis, Location, TableKind};

fn at(l: Location) -> String {
    format!("{}:{}", l.line, l.column)
}

fn kind(k: TableKind) -> &'static str {
    match k {
        TableKind::Catalog => "catalog",
        TableKind::Path => "path",
        TableKind::Jdbc => "jdbc",
        TableKind::Connection => "connection",
    }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "-".to_owned()
    } else {
        v.join(", ")
    }
}

/// Renders analyses as indented text, one block per job.
pub fn render_text(jobs: &[JobAnalysis]) -> String {
    let mut out = String::new();
    for (i, j) in jobs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_job(&mut out, j);
    }
    out
}

fn render_job(out: &mut String, j: &JobAnalysis) {
    let s = &j.summary;
    let _ = writeln!(out, "job {}", j.job_name);
    let _ = writeln!(out, "  inputs: {}", list(&s.inputs));
    let _ = writeln!(out, "  outputs: {}", list(&s.outputs));
    let _ = writeln!(out, "  grain: {}", list(&s.grain));
    render_findings(out, j);
    render_writes(out, j);
    render_notes(out, j);
}

/// Parameters, reads, joins, filters and grains.
fn render_findings(out: &mut String, j: &JobAnalysis) {
    section(out, "parameters", j.parameters.iter().map(|p| format!("{} {}", at(p.location), p.name)));
    section(
        out,
        "reads",
        j.reads.iter().map(|r| {
            let fmt = r.format.as_ref().map(|f| format!(", {f}")).unwrap_or_default();
            format!("{} {} [{}, {}{fmt}]", at(r.location), r.table, kind(r.kind), r.api)
        }),
    );
    section(
        out,
        "joins",
        j.joins.iter().map(|x| {
            let side = |t: &Option<String>, c: &[String]| format!("{}({})", t.as_deref().unwrap_or("?"), c.join(", "));
            format!(
                "{} {} {} = {}",
                at(x.location),
                x.join_type,
                side(&x.left_table, &x.left_columns),
                side(&x.right_table, &x.right_columns)
            )
        }),
    );
    section(out, "filters", j.filters.iter().map(|f| format!("{} {} [{}]", at(f.location), f.expression, f.api)));
    section(
        out,
        "grains",
        j.grains.iter().map(|g| format!("{} ({}) [{}]", at(g.location), g.columns.join(", "), g.evidence)),
    );
}

/// Hints and what could not be resolved.
fn render_notes(out: &mut String, j: &JobAnalysis) {
    section(
        out,
        "hints",
        j.hints.iter().map(|h| {
            let kind =
                serde_json::to_value(h.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            format!("{} {kind} {}({}): {}", at(h.location), h.table, h.columns.join(", "), h.detail)
        }),
    );
    section(out, "unresolved", j.unresolved.iter().map(|u| format!("{} [{}] {}", at(u.location), u.code, u.message)));
}

fn section(out: &mut String, title: &str, lines: impl Iterator<Item = String>) {
    let lines: Vec<String> = lines.collect();
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "  {title}:");
    for l in lines {
        let _ = writeln!(out, "    {l}");
    }
}

fn render_writes(out: &mut String, j: &JobAnalysis) {
    if j.writes.is_empty() {
        return;
    }
    let _ = writeln!(out, "  writes:");
    for w in &j.writes {
        let mut attrs = vec![kind(w.kind).to_owned(), w.api.clone()];
        attrs.extend(w.format.as_ref().map(|f| format!("format {f}")));
        attrs.extend(w.mode.as_ref().map(|m| format!("mode {m}")));
        if !w.partition_keys.is_empty() {
            attrs.push(format!("partitioned by {}", w.partition_keys.join(", ")));
        }
        let _ = writeln!(out, "    {} {} [{}]", at(w.location), w.target, attrs.join(", "));
        let _ = writeln!(out, "      sources: {}", list(&w.sources));
        if !w.grain.is_empty() {
            let _ = writeln!(out, "      grain: {}", w.grain.join(", "));
        }
        for c in &w.columns {
            let _ = writeln!(out, "      {} = {}", c.column, c.expression);
        }
        if !w.passthrough_from.is_empty() {
            let _ = writeln!(out, "      other columns pass through from: {}", w.passthrough_from.join(", "));
        }
        if let Some(why) = &w.columns_unknown {
            let _ = writeln!(out, "      columns unknown: {why}");
        }
    }
}
