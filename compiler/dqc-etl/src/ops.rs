//! Dataset operations shared by the DataFrame, DynamicFrame and SQL front
//! ends: reads, writes, column resolution, filters, joins and grains.

use crate::expr::{ColExpr, FrameId};
use crate::findings::{JoinRec, WriteTarget};
use crate::interp::{short, CallArgs, Interp, Value};
use crate::model::{GrainFinding, JoinFinding, Location, TableKind, TableRead};
use crate::schema::{ColumnInfo, Frame, FrameKind, GrainRec, Schema};

/// How two datasets are joined.
#[derive(Debug, Clone)]
pub(crate) enum JoinOn {
    /// Same-named key columns (`on="id"`, `USING (id)`, Glue `Join` keys).
    Using(Vec<String>),
    /// Pairs of left and right key columns as written.
    Pairs(Vec<(ColExpr, ColExpr)>),
    /// A general condition (`a.id == b.id`, `ON ...`).
    Cond(ColExpr),
    /// No condition: a cross join.
    Cross,
}

/// Normalises a Spark join type name.
pub(crate) fn join_type(how: &str) -> String {
    match how.to_ascii_lowercase().replace('_', "").as_str() {
        "left" | "leftouter" => "left",
        "right" | "rightouter" => "right",
        "full" | "outer" | "fullouter" => "full",
        "semi" | "leftsemi" => "left_semi",
        "anti" | "leftanti" => "left_anti",
        "cross" => "cross",
        _ => "inner",
    }
    .to_owned()
}

impl Interp<'_> {
    /// A read of one or more paths or tables as a single dataset.
    pub(crate) fn read_many(
        &mut self,
        kind: FrameKind,
        targets: Vec<(String, TableKind)>,
        api: &str,
        format: Option<String>,
        args: &CallArgs<'_>,
    ) -> Value<'static> {
        let mut ids = Vec::new();
        for (t, tk) in &targets {
            if let Some(id) = self.read_table(kind, t, *tk, api, format.clone(), args.loc).as_frame() {
                ids.push(id);
            }
        }
        match ids.as_slice() {
            [] => {
                self.unresolved(
                    "dynamic-name",
                    format!("the source of `{}` is not known statically", short(args.text)),
                    args.loc,
                );
                Value::Unknown
            }
            [one] => Value::Frame(*one),
            many => {
                let tables: Vec<String> = targets.into_iter().map(|(t, _)| t).collect();
                let mut f = Frame::opaque(kind, tables, String::new());
                f.schema = Schema {
                    open: many.iter().flat_map(|id| self.frame(*id).schema.open).collect(),
                    open_union: Some("union".to_owned()),
                    ..Schema::default()
                };
                Value::Frame(self.add_frame(f))
            }
        }
    }

    /// Records a read and returns the dataset it produces.
    pub(crate) fn read_table(
        &mut self,
        kind: FrameKind,
        table: &str,
        tkind: TableKind,
        api: &str,
        format: Option<String>,
        loc: Location,
    ) -> Value<'static> {
        self.check_name(table, "table", loc);
        self.rec.reads.push(TableRead {
            table: table.to_owned(),
            kind: tkind,
            api: api.to_owned(),
            format,
            location: loc,
        });
        let known = self.opts.schemas.get(table).map(Vec::as_slice);
        let id = self.add_frame(Frame::base(kind, table, known));
        Value::Frame(id)
    }

    /// Records a write of a dataset value.
    pub(crate) fn write_frame(&mut self, v: &Value<'_>, target: WriteTarget, loc: Location, what: &str) {
        self.check_name(&target.target, "target", loc);
        match v.as_frame() {
            Some(id) => {
                let f = self.frame(id);
                self.rec.write(&f, target, loc);
            }
            None => {
                self.unresolved(
                    "frame",
                    format!(
                        "{what} writes `{}` from a value that is not a known dataset; its lineage is unknown",
                        target.target
                    ),
                    loc,
                );
                let f = Frame::opaque(FrameKind::Data, vec![], "the written value is not a known dataset".into());
                self.rec.write(&f, target, loc);
            }
        }
    }

    /// Flags names built from values the analyser cannot know.
    pub(crate) fn check_name(&mut self, name: &str, what: &str, loc: Location) {
        if name.contains("${?") {
            self.unresolved(
                "dynamic-name",
                format!("{what} name `{name}` is built from values not known statically"),
                loc,
            );
        }
    }

    /// Resolves every column reference in `e` against `schema`.
    pub(crate) fn resolve_with(&mut self, schema: &Schema, e: &ColExpr, loc: Location) -> ColExpr {
        let mut errors = Vec::new();
        let out = e.substitute(&mut |r| {
            let res = match r.frame.and_then(|f| self.frames.get(f)) {
                Some(f) => f.schema.resolve(None, &r.name),
                None => schema.resolve(r.qualifier.as_deref(), &r.name),
            };
            res.unwrap_or_else(|msg| {
                errors.push(msg);
                ColExpr::Col(r.clone())
            })
        });
        for msg in errors {
            self.unresolved("column", msg, loc);
        }
        self.rec.reads_columns(&out);
        out
    }

    /// Resolves `e` against dataset `id`.
    pub(crate) fn resolve(&mut self, id: FrameId, e: &ColExpr, loc: Location) -> ColExpr {
        let schema = self.frame(id).schema;
        self.resolve_with(&schema, e, loc)
    }

    /// A new dataset made from a copy of `id` changed by `f`.
    pub(crate) fn derive(&mut self, id: FrameId, f: impl FnOnce(&mut Frame)) -> Value<'static> {
        let mut frame = self.frame(id);
        f(&mut frame);
        Value::Frame(self.add_frame(frame))
    }

    /// A column definition resolved against dataset `id`.
    pub(crate) fn column_info(&mut self, id: FrameId, name: &str, e: &ColExpr, loc: Location) -> ColumnInfo {
        let expr = self.resolve(id, e.unaliased(), loc);
        ColumnInfo { name: name.to_owned(), qualifiers: vec![], expr, data_type: None, location: Some(loc) }
    }

    /// Applies a filter; a `row_number() = 1` conjunct sets the grain instead.
    pub(crate) fn filter(&mut self, id: FrameId, cond: &ColExpr, api: &str, loc: Location) -> Value<'static> {
        let resolved = self.resolve(id, cond, loc);
        let mut frame = self.frame(id);
        let mut kept_written = Vec::new();
        for (written, res) in cond.conjuncts().into_iter().zip(resolved.conjuncts()) {
            // A Python UDF's body is not analysed: its condition is no constraint to draft from.
            if written.render().contains("python_udf(") {
                self.unresolved(
                    "predicate",
                    format!(
                        "the filter `{}` calls a Python UDF, whose body is not analysed; its rows are kept unconstrained",
                        written.render()
                    ),
                    loc,
                );
                continue;
            }
            match res.first_row_filter() {
                Some(keys) => {
                    let names = key_names(&frame, keys);
                    self.set_grain(&mut frame, keys.to_vec(), names, "row_number window", loc);
                }
                None => kept_written.push((written.clone(), res.clone())),
            }
        }
        let written = kept_written.iter().map(|(w, _)| w.clone()).reduce(|a, b| ColExpr::binary("AND", a, b));
        let res = kept_written.into_iter().map(|(_, r)| r).reduce(|a, b| ColExpr::binary("AND", a, b));
        if let (Some(w), Some(r)) = (written, res) {
            let fid = self.rec.filter(&w, &r, api, loc);
            frame.filters.push(fid);
        }
        Value::Frame(self.add_frame(frame))
    }

    /// Gives `frame` a grain and records the finding.
    pub(crate) fn set_grain(
        &mut self,
        frame: &mut Frame,
        keys: Vec<ColExpr>,
        names: Vec<String>,
        evidence: &str,
        loc: Location,
    ) {
        self.rec.grains.push(GrainFinding { columns: names.clone(), evidence: evidence.to_owned(), location: loc });
        frame.grain = Some(GrainRec { keys, names, evidence: evidence.to_owned(), location: loc });
    }

    /// Joins two datasets and records the join.
    pub(crate) fn join(
        &mut self,
        l: FrameId,
        r: FrameId,
        on: &JoinOn,
        how: &str,
        condition: &str,
        loc: Location,
    ) -> FrameId {
        let how = join_type(how);
        let left = self.frame(l);
        let right = self.frame(r);
        let (pairs, using) = self.key_pairs(&left, &right, on, loc);
        let mut schema = if matches!(how.as_str(), "left_semi" | "left_anti") {
            left.schema.clone()
        } else {
            left.schema.joined(&right.schema, &using)
        };
        for (i, key) in using.iter().enumerate() {
            let Some((lk, rk)) = pairs.get(i) else {
                continue;
            };
            let expr = match how.as_str() {
                "right" => rk.clone(),
                "full" => ColExpr::Func { name: "coalesce".into(), args: vec![lk.clone(), rk.clone()] },
                _ => lk.clone(),
            };
            schema.columns.retain(|c| !c.name.eq_ignore_ascii_case(key));
            let quals = left.schema.known(key).map(|c| c.qualifiers.clone()).unwrap_or_default();
            schema.columns.insert(
                i.min(schema.columns.len()),
                ColumnInfo { name: key.clone(), qualifiers: quals, expr, data_type: None, location: None },
            );
        }
        let jid = self.record_join(&left, &right, pairs.clone(), &how, condition, loc);
        let frame = joined_frame(left, right, schema, &pairs, &how, jid);
        self.add_frame(frame)
    }

    /// Key pairs in base terms, and the `using` key names if any.
    fn key_pairs(
        &mut self,
        left: &Frame,
        right: &Frame,
        on: &JoinOn,
        loc: Location,
    ) -> (Vec<(ColExpr, ColExpr)>, Vec<String>) {
        match on {
            JoinOn::Using(keys) => {
                let pairs = keys
                    .iter()
                    .map(|k| {
                        let c = ColExpr::col(k);
                        (self.resolve_with(&left.schema, &c, loc), self.resolve_with(&right.schema, &c, loc))
                    })
                    .collect();
                (pairs, keys.clone())
            }
            JoinOn::Pairs(written) => {
                let pairs = written
                    .iter()
                    .map(|(a, b)| (self.resolve_with(&left.schema, a, loc), self.resolve_with(&right.schema, b, loc)))
                    .collect();
                (pairs, vec![])
            }
            JoinOn::Cond(cond) => (self.cond_pairs(left, right, cond, loc), vec![]),
            JoinOn::Cross => (vec![], vec![]),
        }
    }

    /// Equality conjuncts of a join condition, oriented left = right.
    fn cond_pairs(&mut self, left: &Frame, right: &Frame, cond: &ColExpr, loc: Location) -> Vec<(ColExpr, ColExpr)> {
        let scope = left.schema.joined(&right.schema, &[]);
        let mut out = Vec::new();
        for c in cond.conjuncts() {
            let ColExpr::Binary { op, left: a, right: b } = c else {
                continue;
            };
            if op != "=" || a.refs().is_empty() || b.refs().is_empty() {
                let _ = self.resolve_with(&scope, c, loc);
                continue;
            }
            let ra = self.resolve_with(&scope, a, loc);
            let rb = self.resolve_with(&scope, b, loc);
            let a_left = side_of(&ra, left, right);
            let b_left = side_of(&rb, left, right);
            if b_left == Some(true) && a_left == Some(false) {
                out.push((rb, ra));
            } else {
                out.push((ra, rb));
            }
        }
        out
    }

    fn record_join(
        &mut self,
        left: &Frame,
        right: &Frame,
        pairs: Vec<(ColExpr, ColExpr)>,
        how: &str,
        condition: &str,
        loc: Location,
    ) -> usize {
        let table_of = |e: &ColExpr, f: &Frame| match e {
            ColExpr::Base(b) => Some(b.table.clone()),
            _ => match f.tables.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            },
        };
        let name_of = |e: &ColExpr| match e {
            ColExpr::Base(b) => b.column.clone(),
            other => other.render(),
        };
        let left_table = pairs.first().map_or_else(|| single(left), |(l, _)| table_of(l, left));
        let right_table = pairs.first().map_or_else(|| single(right), |(_, r)| table_of(r, right));
        if left_table.is_none() || right_table.is_none() {
            self.unresolved(
                "join",
                format!("the tables on each side of the join `{condition}` cannot be told apart"),
                loc,
            );
        }
        self.rec.joins.push(JoinRec {
            out: JoinFinding {
                left_table,
                right_table,
                left_columns: pairs.iter().map(|(l, _)| name_of(l)).collect(),
                right_columns: pairs.iter().map(|(_, r)| name_of(r)).collect(),
                join_type: how.to_owned(),
                condition: condition.to_owned(),
                location: loc,
            },
            pairs,
        });
        self.rec.joins.len() - 1
    }
}

/// Names of grain keys: the dataset's column carrying each key, else the
/// key's own name.
pub(crate) fn key_names(frame: &Frame, keys: &[ColExpr]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            let k = match k {
                ColExpr::Sort { expr, .. } => expr,
                other => other,
            };
            frame.schema.columns.iter().find(|c| c.expr == *k).map_or_else(|| k.output_name(), |c| c.name.clone())
        })
        .collect()
}

fn single(f: &Frame) -> Option<String> {
    match f.tables.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// Whether a resolved key reads the left (true) or right (false) input.
fn side_of(e: &ColExpr, left: &Frame, right: &Frame) -> Option<bool> {
    let refs = e.base_refs();
    let first = refs.iter().next()?;
    let in_left = left.tables.contains(&first.table);
    let in_right = right.tables.contains(&first.table);
    match (in_left, in_right) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

fn joined_frame(
    left: Frame,
    right: Frame,
    schema: Schema,
    pairs: &[(ColExpr, ColExpr)],
    how: &str,
    jid: usize,
) -> Frame {
    let mut tables = left.tables.clone();
    for t in &right.tables {
        if !tables.contains(t) {
            tables.push(t.clone());
        }
    }
    // Filters on the optional side of an outer join do not hold afterwards.
    let filters = match how {
        "inner" | "cross" => left.filters.iter().chain(&right.filters).copied().collect(),
        "left" | "left_semi" | "left_anti" => left.filters.clone(),
        "right" => right.filters.clone(),
        _ => vec![],
    };
    let mut joins: Vec<usize> = left.joins.iter().chain(&right.joins).copied().collect();
    joins.push(jid);
    // A join keeps the left grain only when it cannot duplicate left rows:
    // semi/anti joins, or keys that are the right side's own grain.
    let right_keys: Vec<&ColExpr> = pairs.iter().map(|(_, r)| r).collect();
    let right_unique =
        right.grain.as_ref().is_some_and(|g| !g.keys.is_empty() && g.keys.iter().all(|k| right_keys.contains(&k)));
    let grain = match how {
        "left_semi" | "left_anti" => left.grain.clone(),
        "inner" | "left" if right_unique => left.grain.clone(),
        _ => None,
    };
    Frame { kind: left.kind, schema, tables, filters, joins, grain }
}
