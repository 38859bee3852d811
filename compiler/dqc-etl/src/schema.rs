//! Datasets as the analyser sees them: which columns are known, what they
//! are computed from, and which base tables pass other columns through.

use std::collections::BTreeSet;

use crate::expr::ColExpr;
use crate::model::{ColumnRef, Location};

/// Whether a dataset is a Glue DynamicFrame or a Spark DataFrame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    Dynamic,
    Data,
}

/// The grain a dataset has been given by a dedup or an aggregation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GrainRec {
    /// Key expressions in base-table terms.
    pub keys: Vec<ColExpr>,
    /// Key names as written.
    pub names: Vec<String>,
    /// What establishes it.
    pub evidence: String,
    /// Where it is established.
    pub location: Location,
}

/// One dataset value in the script.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub kind: FrameKind,
    pub schema: Schema,
    /// Base tables whose rows reach this dataset, in order of first use.
    pub tables: Vec<String>,
    /// Filters (indices into the recorder) that every row satisfies.
    pub filters: Vec<usize>,
    /// Joins (indices into the recorder) this dataset went through.
    pub joins: Vec<usize>,
    pub grain: Option<GrainRec>,
}

impl Frame {
    /// A dataset read from one base table.
    pub(crate) fn base(kind: FrameKind, table: &str, known: Option<&[String]>) -> Self {
        let quals = default_qualifiers(table);
        let schema = match known {
            Some(cols) => Schema {
                columns: cols
                    .iter()
                    .map(|c| ColumnInfo {
                        name: c.clone(),
                        qualifiers: quals.clone(),
                        expr: ColExpr::Base(ColumnRef { table: table.to_owned(), column: c.clone() }),
                        data_type: None,
                        location: None,
                    })
                    .collect(),
                ..Schema::default()
            },
            None => {
                Schema { open: vec![OpenSource { table: table.to_owned(), qualifiers: quals }], ..Schema::default() }
            }
        };
        Frame { kind, schema, tables: vec![table.to_owned()], filters: vec![], joins: vec![], grain: None }
    }

    /// A dataset whose columns cannot be known, derived from `tables`.
    pub(crate) fn opaque(kind: FrameKind, tables: Vec<String>, reason: String) -> Self {
        Frame {
            kind,
            schema: Schema { opaque: Some(reason), ..Schema::default() },
            tables,
            filters: vec![],
            joins: vec![],
            grain: None,
        }
    }
}

/// The qualifiers a table can be referred to by: its full and short names.
pub(crate) fn default_qualifiers(table: &str) -> Vec<String> {
    let mut q = vec![table.to_owned()];
    if let Some((_, short)) = table.rsplit_once('.') {
        if !short.is_empty() && !table.contains('/') {
            q.push(short.to_owned());
        }
    }
    q
}

/// A column whose definition is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnInfo {
    pub name: String,
    /// Aliases the column can be qualified with.
    pub qualifiers: Vec<String>,
    /// Definition in base-table terms.
    pub expr: ColExpr,
    /// A declared type (ApplyMapping, ResolveChoice), if any.
    pub data_type: Option<String>,
    /// Where it was defined, if in this script.
    pub location: Option<Location>,
}

/// A base table whose columns are not listed but pass through by name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpenSource {
    pub table: String,
    pub qualifiers: Vec<String>,
}

/// The columns of a dataset.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Schema {
    /// Columns with known definitions, in output order.
    pub columns: Vec<ColumnInfo>,
    /// Tables whose unlisted columns pass through.
    pub open: Vec<OpenSource>,
    /// Set when a step that is not understood makes the columns unknowable.
    pub opaque: Option<String>,
    /// Set for unions (`union`) and branch merges (`either`): an unlisted
    /// name reads that column from every open table.
    pub open_union: Option<String>,
    /// Names removed from the open tables (`drop`, `DropFields`).
    pub dropped: BTreeSet<String>,
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn has_qualifier(quals: &[String], q: &str) -> bool {
    quals.iter().any(|x| same(x, q))
}

impl Schema {
    /// Finds the known column called `name`.
    pub(crate) fn known(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| same(&c.name, name))
    }

    /// The qualifiers of the column a reference names, so a projection keeps
    /// them (`df.alias("o").select("o.id")` can still be called `o.id`).
    pub(crate) fn qualifiers_of(&self, qualifier: Option<&str>, name: &str) -> Vec<String> {
        let matches = |quals: &[String]| qualifier.is_none_or(|q| has_qualifier(quals, q));
        if let Some(c) = self.columns.iter().find(|c| same(&c.name, name) && matches(&c.qualifiers)) {
            return c.qualifiers.clone();
        }
        let open: Vec<&OpenSource> = self.open.iter().filter(|o| matches(&o.qualifiers)).collect();
        match open.as_slice() {
            [one] => one.qualifiers.clone(),
            _ => vec![],
        }
    }

    /// Resolves a reference to its definition in base-table terms.
    pub(crate) fn resolve(&self, qualifier: Option<&str>, name: &str) -> Result<ColExpr, String> {
        if let Some(reason) = &self.opaque {
            return Err(format!("column `{name}` cannot be traced: {reason}"));
        }
        match qualifier {
            Some(q) => self.resolve_qualified(q, name),
            None => self.resolve_plain(name),
        }
    }

    fn resolve_qualified(&self, q: &str, name: &str) -> Result<ColExpr, String> {
        if let Some(c) = self.columns.iter().find(|c| same(&c.name, name) && has_qualifier(&c.qualifiers, q)) {
            return Ok(c.expr.clone());
        }
        if let Some(o) = self.open.iter().find(|o| has_qualifier(&o.qualifiers, q)) {
            return Ok(base(&o.table, name));
        }
        if self.columns.iter().any(|c| has_qualifier(&c.qualifiers, q)) {
            return Err(format!("column `{q}.{name}` is not among the known columns"));
        }
        // A qualifier that names no alias is a struct column: `address.city`.
        match self.resolve_plain(q) {
            Ok(parent) => Ok(ColExpr::Opaque { text: format!("{}.{name}", parent.render()), args: vec![parent] }),
            Err(_) => Err(format!("column `{q}.{name}` does not match any alias or column in scope")),
        }
    }

    fn resolve_plain(&self, name: &str) -> Result<ColExpr, String> {
        let hits: Vec<&ColumnInfo> = self.columns.iter().filter(|c| same(&c.name, name)).collect();
        if let Some(first) = hits.first() {
            if hits.iter().all(|h| h.expr == first.expr) {
                return Ok(first.expr.clone());
            }
            return Err(format!("column `{name}` is ambiguous: it is defined by more than one input"));
        }
        if self.dropped.iter().any(|d| same(d, name)) {
            return Err(format!("column `{name}` was dropped earlier"));
        }
        match self.open.as_slice() {
            [] => Err(format!("column `{name}` is not among the known columns")),
            [one] => Ok(base(&one.table, name)),
            many if self.open_union.is_some() => Ok(ColExpr::Func {
                name: self.open_union.clone().unwrap_or_default(),
                args: many.iter().map(|o| base(&o.table, name)).collect(),
            }),
            many => Err(format!(
                "column `{name}` may come from any of {}; the analyser does not know their schemas",
                many.iter().map(|o| format!("`{}`", o.table)).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// The same columns, now qualified only by `quals`.
    pub(crate) fn requalified(&self, quals: &[String]) -> Schema {
        let mut s = self.clone();
        for c in &mut s.columns {
            c.qualifiers = quals.to_vec();
        }
        for o in &mut s.open {
            o.qualifiers = quals.to_vec();
        }
        s
    }

    /// The columns of a join of `self` and `right`; `using` keys appear once.
    pub(crate) fn joined(&self, right: &Schema, using: &[String]) -> Schema {
        let mut s = self.clone();
        for c in &right.columns {
            if using.iter().any(|u| same(u, &c.name)) {
                continue;
            }
            s.columns.push(c.clone());
        }
        s.open.extend(right.open.iter().cloned());
        s.dropped.extend(right.dropped.iter().cloned());
        s.opaque = s.opaque.or_else(|| right.opaque.clone());
        s
    }

    /// Adds or replaces a known column.
    pub(crate) fn set_column(&mut self, info: ColumnInfo) {
        self.dropped.remove(&info.name);
        match self.columns.iter_mut().find(|c| same(&c.name, &info.name)) {
            Some(existing) => {
                let quals = existing.qualifiers.clone();
                *existing = ColumnInfo { qualifiers: quals, ..info };
            }
            None => self.columns.push(info),
        }
    }

    /// Removes a column by name.
    pub(crate) fn drop_column(&mut self, name: &str) {
        self.columns.retain(|c| !same(&c.name, name));
        if !self.open.is_empty() {
            self.dropped.insert(name.to_owned());
        }
    }

    /// Renames a column; an unlisted column of a single open table becomes
    /// listed under its new name.
    pub(crate) fn rename(&mut self, old: &str, new: &str, location: Location) -> Result<(), String> {
        if let Some(c) = self.columns.iter_mut().find(|c| same(&c.name, old)) {
            c.name = new.to_owned();
            return Ok(());
        }
        let expr = self.resolve_plain(old)?;
        self.dropped.insert(old.to_owned());
        self.columns.push(ColumnInfo {
            name: new.to_owned(),
            qualifiers: vec![],
            expr,
            data_type: None,
            location: Some(location),
        });
        Ok(())
    }
}

/// A base-table column.
pub(crate) fn base(table: &str, column: &str) -> ColExpr {
    ColExpr::Base(ColumnRef { table: table.to_owned(), column: column.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_open_table_resolves_and_two_are_ambiguous() {
        let a = Frame::base(FrameKind::Data, "db.a", None).schema;
        let b = Frame::base(FrameKind::Data, "db.b", None).schema;
        assert_eq!(a.resolve(None, "x"), Ok(base("db.a", "x")));
        let j = a.joined(&b, &[]);
        assert!(j.resolve(None, "x").is_err());
        assert_eq!(j.resolve(Some("b"), "x"), Ok(base("db.b", "x")));
    }

    #[test]
    fn dropped_columns_do_not_resolve() {
        let mut a = Frame::base(FrameKind::Data, "db.a", None).schema;
        a.drop_column("x");
        assert!(a.resolve(None, "x").is_err());
        assert!(a.resolve(None, "y").is_ok());
    }
}
