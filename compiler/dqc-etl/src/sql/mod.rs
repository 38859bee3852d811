//! SQL inside the script (`spark.sql(...)`, string filters, `selectExpr`,
//! `F.expr`), parsed with `sqlparser` and traced column by column.

mod convert;
mod mask;
mod query;

use std::collections::BTreeMap;

use sqlparser::ast::{Statement, TableObject};
use sqlparser::dialect::{DatabricksDialect, Dialect, GenericDialect, HiveDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::expr::{ColExpr, FrameId};
use crate::findings::WriteTarget;
use crate::interp::{Interp, Value};
use crate::model::{Location, TableKind};
use crate::schema::{Frame, FrameKind};

pub(crate) use convert::object_name;
use convert::Converter;
use mask::Masks;

/// Dialects tried in order: Spark SQL is closest to Databricks, then Hive.
fn dialects() -> [Box<dyn Dialect>; 3] {
    [Box::new(DatabricksDialect {}), Box::new(HiveDialect {}), Box::new(GenericDialect {})]
}

/// Parses SQL statements with the first dialect that accepts them.
fn parse_statements(sql: &str) -> Result<Vec<Statement>, String> {
    let mut first_err = None;
    for d in dialects() {
        match Parser::parse_sql(d.as_ref(), sql) {
            Ok(s) => return Ok(s),
            Err(e) => {
                first_err.get_or_insert(e.to_string());
            }
        }
    }
    Err(first_err.unwrap_or_default())
}

/// Parses one expression or select item that must use the whole input.
fn parse_whole<T>(
    sql: &str,
    f: impl Fn(&mut Parser<'_>) -> Result<T, sqlparser::parser::ParserError>,
) -> Result<T, String> {
    let mut first_err = None;
    for d in dialects() {
        let attempt = Parser::new(d.as_ref()).try_with_sql(sql).and_then(|mut p| {
            let v = f(&mut p)?;
            match p.peek_token().token {
                Token::EOF => Ok(v),
                t => Err(sqlparser::parser::ParserError::ParserError(format!("unexpected `{t}` after the expression"))),
            }
        });
        match attempt {
            Ok(v) => return Ok(v),
            Err(e) => {
                first_err.get_or_insert(e.to_string());
            }
        }
    }
    Err(first_err.unwrap_or_default())
}

/// State while analysing one SQL text.
pub(crate) struct SqlCtx {
    pub masks: Masks,
    pub loc: Location,
    /// CTE scopes, innermost last, by lower-cased name.
    pub ctes: Vec<BTreeMap<String, FrameId>>,
}

impl<'a> Interp<'a> {
    /// A SQL condition string (`df.filter("...")`, `push_down_predicate`).
    pub(crate) fn sql_condition(&mut self, text: &str, loc: Location) -> Option<ColExpr> {
        self.sql_expr(text, loc)
    }

    /// A SQL expression string (`F.expr("...")`).
    pub(crate) fn sql_expr(&mut self, text: &str, loc: Location) -> Option<ColExpr> {
        let (masked, masks) = Masks::mask(text);
        match parse_whole(&masked, |p| p.parse_expr()) {
            Ok(e) => {
                let mut cv = Converter { masks: &masks, subqueries: vec![] };
                Some(cv.convert(&e))
            }
            Err(msg) => {
                self.unresolved("sql-parse", format!("SQL expression `{text}` could not be parsed: {msg}"), loc);
                None
            }
        }
    }

    /// A `selectExpr` item such as `"amount * 100 AS cents"`.
    pub(crate) fn sql_select_item(&mut self, text: &str, loc: Location) -> Option<ColExpr> {
        let (masked, masks) = Masks::mask(text);
        match parse_whole(&masked, |p| p.parse_select_item()) {
            Ok(item) => {
                let mut cv = Converter { masks: &masks, subqueries: vec![] };
                query::select_item(&mut cv, &item)
            }
            Err(msg) => {
                self.unresolved("sql-parse", format!("SQL expression `{text}` could not be parsed: {msg}"), loc);
                None
            }
        }
    }

    /// `spark.sql(text)`: runs every statement; returns the last result.
    pub(crate) fn run_sql(&mut self, text: &str, loc: Location) -> Value<'a> {
        let (masked, masks) = Masks::mask(text);
        let stmts = match parse_statements(&masked) {
            Ok(s) => s,
            Err(msg) => {
                self.unresolved("sql-parse", format!("SQL could not be parsed: {msg}"), loc);
                return Value::Unknown;
            }
        };
        let mut cx = SqlCtx { masks, loc, ctes: vec![] };
        let mut last = Value::None;
        for st in &stmts {
            last = self.sql_statement(st, &mut cx);
        }
        last
    }

    fn sql_statement(&mut self, st: &Statement, cx: &mut SqlCtx) -> Value<'a> {
        let loc = cx.loc;
        match st {
            Statement::Query(q) => Value::Frame(self.sql_query(q, cx)),
            Statement::Insert(ins) => {
                let TableObject::TableName(name) = &ins.table else {
                    return self.sql_unsupported(st, loc);
                };
                let Some(src) = &ins.source else {
                    return self.sql_unsupported(st, loc);
                };
                let mut id = self.sql_query(src, cx);
                if !ins.columns.is_empty() {
                    let names: Vec<String> = ins.columns.iter().map(|c| object_name(c, &cx.masks)).collect();
                    id = self.rename_positionally(id, &names, loc);
                }
                let mode = if ins.overwrite { "overwrite" } else { "append" };
                let target = object_name(name, &cx.masks);
                self.sql_write(id, target, "spark.sql INSERT", Some(mode), loc);
                Value::None
            }
            Statement::CreateTable(ct) => match &ct.query {
                Some(q) => {
                    let id = self.sql_query(q, cx);
                    self.sql_write(id, object_name(&ct.name, &cx.masks), "spark.sql CREATE TABLE AS SELECT", None, loc);
                    Value::None
                }
                None => Value::None,
            },
            Statement::CreateView(cv) => {
                let id = self.sql_query(&cv.query, cx);
                let name = object_name(&cv.name, &cx.masks);
                if cv.temporary {
                    self.views.insert(name.to_ascii_lowercase(), id);
                } else {
                    self.sql_write(id, name, "spark.sql CREATE VIEW", None, loc);
                }
                Value::None
            }
            Statement::Merge(m) => {
                let source = self.sql_relation(&m.source, cx);
                let tables = self.frame(source).tables;
                let Some(target) = query::relation_name(&m.table, &cx.masks) else {
                    return self.sql_unsupported(st, loc);
                };
                self.unresolved(
                    "sql-statement",
                    format!("MERGE INTO `{target}`: column lineage of MERGE clauses is not traced"),
                    loc,
                );
                let f = Frame::opaque(FrameKind::Data, tables, "MERGE clauses are not traced".into());
                let id = self.add_frame(f);
                self.sql_write(id, target, "spark.sql MERGE", Some("merge"), loc);
                Value::None
            }
            _ => self.sql_unsupported(st, loc),
        }
    }

    fn sql_unsupported(&mut self, st: &Statement, loc: Location) -> Value<'a> {
        let text: String = st.to_string().chars().take(60).collect();
        self.unresolved("sql-statement", format!("SQL statement `{text}` is not analysed for lineage"), loc);
        Value::None
    }

    fn sql_write(&mut self, id: FrameId, target: String, api: &str, mode: Option<&str>, loc: Location) {
        let t = WriteTarget {
            target,
            kind: TableKind::Catalog,
            api: api.to_owned(),
            format: None,
            mode: mode.map(str::to_owned),
            partition_keys: vec![],
        };
        self.write_frame(&Value::Frame(id), t, loc, api);
    }

    /// Renames the known columns of `id` in order; unknown columns are flagged.
    pub(crate) fn rename_positionally(&mut self, id: FrameId, names: &[String], loc: Location) -> FrameId {
        let mut f = self.frame(id);
        if !f.schema.open.is_empty() || f.schema.columns.len() != names.len() {
            self.unresolved(
                "column",
                format!("column list ({}) cannot be matched to the query's columns", names.join(", ")),
                loc,
            );
            return id;
        }
        for (c, n) in f.schema.columns.iter_mut().zip(names) {
            c.name = n.clone();
        }
        self.add_frame(f)
    }
}
