//! Collects findings while a script is interpreted and assembles the
//! [`JobAnalysis`] at the end.

use std::collections::BTreeSet;

use crate::expr::ColExpr;
use crate::hints::write_hints;
use crate::model::{
    ColumnLineage, ColumnRef, FilterFinding, GrainFinding, JobAnalysis, JobSummary, JoinFinding, JoinKey, Location,
    Parameter, RuleHint, TableKind, TableRead, TableWrite, Unresolved,
};
use crate::schema::Frame;

/// A join, with its key pairs in base-table terms.
#[derive(Debug, Clone)]
pub(crate) struct JoinRec {
    pub out: JoinFinding,
    pub pairs: Vec<(ColExpr, ColExpr)>,
}

/// A filter, with its conjuncts in base-table terms.
#[derive(Debug, Clone)]
pub(crate) struct FilterRec {
    pub out: FilterFinding,
    pub conjuncts: Vec<ColExpr>,
}

/// Where and how a dataset is written.
#[derive(Debug, Clone)]
pub(crate) struct WriteTarget {
    pub target: String,
    pub kind: TableKind,
    pub api: String,
    pub format: Option<String>,
    pub mode: Option<String>,
    pub partition_keys: Vec<String>,
}

/// Everything found so far.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    pub parameters: Vec<Parameter>,
    pub reads: Vec<TableRead>,
    pub writes: Vec<TableWrite>,
    pub joins: Vec<JoinRec>,
    pub filters: Vec<FilterRec>,
    pub grains: Vec<GrainFinding>,
    pub hints: Vec<RuleHint>,
    pub columns_read: BTreeSet<ColumnRef>,
    pub unresolved: Vec<Unresolved>,
}

impl Recorder {
    /// Notes something that could not be resolved.
    pub(crate) fn unresolved(&mut self, code: &str, message: String, location: Location) {
        let u = Unresolved { code: code.to_owned(), message, location };
        if !self.unresolved.contains(&u) {
            self.unresolved.push(u);
        }
    }

    /// Notes a job argument.
    pub(crate) fn parameter(&mut self, name: &str, location: Location) {
        if !self.parameters.iter().any(|p| p.name == name) {
            self.parameters.push(Parameter { name: name.to_owned(), location });
        }
    }

    /// Notes the base columns an expression reads.
    pub(crate) fn reads_columns(&mut self, e: &ColExpr) {
        self.columns_read.extend(e.base_refs());
    }

    /// Records a filter and returns its index.
    pub(crate) fn filter(&mut self, written: &ColExpr, resolved: &ColExpr, api: &str, location: Location) -> usize {
        self.reads_columns(resolved);
        self.filters.push(FilterRec {
            out: FilterFinding {
                expression: written.render(),
                columns: resolved.base_refs().into_iter().collect(),
                api: api.to_owned(),
                location,
            },
            conjuncts: resolved.conjuncts().into_iter().cloned().collect(),
        });
        self.filters.len() - 1
    }

    /// Records a write of `frame` and the hints it implies.
    pub(crate) fn write(&mut self, frame: &Frame, t: WriteTarget, location: Location) {
        let s = &frame.schema;
        let columns = s
            .columns
            .iter()
            .map(|c| ColumnLineage {
                column: c.name.clone(),
                expression: c.expr.render(),
                inputs: c.expr.base_refs().into_iter().collect(),
                location: c.location,
            })
            .collect();
        for c in &s.columns {
            self.reads_columns(&c.expr);
        }
        let mut passthrough: Vec<String> = Vec::new();
        for o in &s.open {
            if !passthrough.contains(&o.table) {
                passthrough.push(o.table.clone());
            }
        }
        let grain = frame.grain.as_ref().map(|g| crate::hints::grain_names(frame, g)).unwrap_or_default();
        let hints = write_hints(frame, &t.target, self);
        self.hints.extend(hints);
        self.writes.push(TableWrite {
            target: t.target,
            kind: t.kind,
            api: t.api,
            format: t.format,
            mode: t.mode,
            partition_keys: t.partition_keys,
            location,
            sources: frame.tables.clone(),
            columns,
            passthrough_from: passthrough,
            columns_unknown: s.opaque.clone(),
            grain,
        });
    }

    /// Assembles the final analysis, sorted by source location.
    pub(crate) fn finish(mut self, job_name: &str) -> JobAnalysis {
        self.reads.sort_by_key(|r| r.location);
        self.writes.sort_by_key(|w| w.location);
        self.joins.sort_by_key(|j| j.out.location);
        self.filters.sort_by_key(|f| f.out.location);
        self.grains.sort_by_key(|g| g.location);
        self.hints.sort_by_key(|h| (h.location, h.kind));
        self.unresolved.sort_by_key(|u| u.location);
        let summary = summarize(job_name, &self);
        JobAnalysis {
            job_name: job_name.to_owned(),
            summary,
            parameters: self.parameters,
            reads: self.reads,
            writes: self.writes,
            joins: self.joins.into_iter().map(|j| j.out).collect(),
            filters: self.filters.into_iter().map(|f| f.out).collect(),
            grains: self.grains,
            hints: self.hints,
            columns_read: self.columns_read.into_iter().collect(),
            unresolved: self.unresolved,
        }
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

fn summarize(job_name: &str, rec: &Recorder) -> JobSummary {
    let mut inputs = Vec::new();
    for r in &rec.reads {
        push_unique(&mut inputs, &r.table);
    }
    let mut outputs = Vec::new();
    for w in &rec.writes {
        push_unique(&mut outputs, &w.target);
    }
    let output = match outputs.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    };
    let grain = match (&output, rec.writes.as_slice()) {
        (Some(_), writes) => writes.last().map(|w| w.grain.clone()).unwrap_or_default(),
        _ => vec![],
    };
    let mut filters = Vec::new();
    for f in &rec.filters {
        push_unique(&mut filters, &f.out.expression);
    }
    let join_keys = rec.joins.iter().map(|j| join_key(&j.out)).collect();
    JobSummary { job_name: job_name.to_owned(), inputs, output, outputs, join_keys, filters, grain }
}

fn join_key(j: &JoinFinding) -> JoinKey {
    let columns = j
        .left_columns
        .iter()
        .zip(&j.right_columns)
        .filter(|(l, r)| l.eq_ignore_ascii_case(r))
        .map(|(l, _)| l.clone())
        .collect();
    JoinKey {
        left_table: j.left_table.clone(),
        right_table: j.right_table.clone(),
        columns,
        left_columns: j.left_columns.clone(),
        right_columns: j.right_columns.clone(),
        join_type: j.join_type.clone(),
    }
}
