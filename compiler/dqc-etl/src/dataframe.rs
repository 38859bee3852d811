//! The Spark DataFrame API: `spark.sql`, `spark.table`, DataFrame methods,
//! `groupBy().agg()` and `df.na`.

use crate::columns::col_of;
use crate::expr::{ColExpr, FrameId};
use crate::interp::{short, CallArgs, Grouped, Interp, Value, Writer};
use crate::model::{Location, TableKind};
use crate::ops::JoinOn;
use crate::schema::{ColumnInfo, Frame, FrameKind, Schema};

/// File formats that `spark.read.<format>(path)` and `df.write.<format>(path)` name.
pub(crate) const FILE_FORMATS: &[&str] = &["parquet", "csv", "json", "orc", "text", "avro"];

impl<'a> Interp<'a> {
    /// Methods of the Spark session.
    pub(crate) fn spark_method(&mut self, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        match name {
            "sql" => match args.pos.first() {
                Some(Value::Str(q)) => {
                    let loc = self.origin_of(q).unwrap_or(args.loc);
                    self.run_sql(&q.clone(), loc)
                }
                _ => {
                    self.unresolved(
                        "sql-parse",
                        format!("the query of `{}` is not a string known statically", short(args.text)),
                        args.loc,
                    );
                    Value::Unknown
                }
            },
            "table" => self.spark_table(args.name_arg(0, "tableName"), "spark.table", args.loc),
            "createDataFrame" | "range" => {
                let f = Frame::opaque(FrameKind::Data, vec![], format!("the data is built in the script by `{name}`"));
                Value::Frame(self.add_frame(f))
            }
            _ => Value::Unknown,
        }
    }

    /// `spark.table(name)`: a temp view if one has that name, else a catalog table.
    pub(crate) fn spark_table(&mut self, name: Option<String>, api: &str, loc: Location) -> Value<'a> {
        let Some(name) = name else {
            return Value::Unknown;
        };
        if let Some(id) = self.views.get(&name.to_ascii_lowercase()) {
            return Value::Frame(*id);
        }
        self.read_table(FrameKind::Data, &name, TableKind::Catalog, api, None, loc)
    }

    /// Methods of a DataFrame.
    pub(crate) fn data_frame_method(&mut self, id: FrameId, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        if let Some(v) = self.df_column_step(id, name, args) {
            return v;
        }
        if let Some(v) = self.df_row_step(id, name, args) {
            return v;
        }
        self.df_other_step(id, name, args)
    }

    /// Methods that change the columns.
    fn df_column_step(&mut self, id: FrameId, name: &str, args: &CallArgs<'a>) -> Option<Value<'a>> {
        let loc = args.loc;
        Some(match name {
            "alias" | "as" => match args.str_arg(0, "alias") {
                Some(q) => self.derive(id, |f| f.schema = f.schema.requalified(&[q])),
                None => Value::Frame(id),
            },
            "select" => {
                let items: Vec<ColExpr> = args.flat_pos().iter().filter_map(col_of).collect();
                self.project(id, &items, loc)
            }
            "selectExpr" => {
                let items: Vec<ColExpr> = args
                    .flat_pos()
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(|s| self.sql_select_item(s, loc))
                    .collect();
                self.project(id, &items, loc)
            }
            "withColumn" => match (args.str_arg(0, "colName"), args.get(1, "col").and_then(col_of)) {
                (Some(n), Some(c)) => self.with_column(id, &n, &c, loc),
                _ => self.opaque_step(id, "withColumn with a name or expression not known statically", loc),
            },
            "withColumns" => self.with_columns(id, args.get(0, "colsMap"), loc),
            "withColumnRenamed" => self.rename_field(id, args.str_arg(0, "existing"), args.str_arg(1, "new"), loc),
            "drop" => {
                let names: Vec<String> =
                    args.flat_pos().iter().filter_map(|v| col_of(v).map(|c| c.output_name())).collect();
                self.derive(id, |f| names.iter().for_each(|n| f.schema.drop_column(n)))
            }
            "toDF" => self.rename_all(id, args, loc),
            _ => return None,
        })
    }

    /// Methods that change or combine the rows.
    fn df_row_step(&mut self, id: FrameId, name: &str, args: &CallArgs<'a>) -> Option<Value<'a>> {
        let loc = args.loc;
        Some(match name {
            "filter" | "where" => self.df_filter(id, args.get(0, "condition"), name, loc),
            "join" => self.df_join(id, args),
            "crossJoin" => match args.pos.first().and_then(Value::as_frame) {
                Some(other) => Value::Frame(self.join(id, other, &JoinOn::Cross, "cross", "", loc)),
                None => self.opaque_step(id, "crossJoin with a dataset not known statically", loc),
            },
            "union" | "unionAll" | "unionByName" => self.union(id, args.pos.first(), name == "unionByName", loc),
            "dropDuplicates" | "drop_duplicates" | "distinct" => self.dedup(id, args.get(0, "subset"), name, loc),
            "groupBy" | "groupby" => {
                let keys = args.flat_pos().iter().filter_map(col_of).collect();
                Value::Grouped(Grouped { frame: id, keys, location: loc })
            }
            "agg" => self.grouped_method(&Grouped { frame: id, keys: vec![], location: loc }, "agg", args),
            "fillna" => self.na_method(id, "fill", args),
            "dropna" => self.na_method(id, "drop", args),
            _ => return None,
        })
    }

    /// Views, writers, pass-through methods and actions.
    fn df_other_step(&mut self, id: FrameId, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let loc = args.loc;
        match name {
            "createOrReplaceTempView"
            | "createTempView"
            | "registerTempTable"
            | "createGlobalTempView"
            | "createOrReplaceGlobalTempView" => {
                if let Some(n) = args.name_arg(0, "name") {
                    let key = if name.contains("Global") { format!("global_temp.{n}") } else { n };
                    self.views.insert(key.to_ascii_lowercase(), id);
                }
                Value::None
            }
            "writeTo" => Value::Writer(Writer {
                frame: Some(id),
                format: None,
                mode: None,
                partition_keys: vec![],
                options: vec![],
                table: args.name_arg(0, "table"),
            }),
            "transform" => match args.pos.first().cloned() {
                Some(f) => {
                    let mut inner = args.clone();
                    inner.pos = vec![Value::Frame(id)];
                    self.call_value(f, &inner)
                }
                None => Value::Unknown,
            },
            "cache"
            | "persist"
            | "unpersist"
            | "repartition"
            | "coalesce"
            | "orderBy"
            | "sort"
            | "sortWithinPartitions"
            | "limit"
            | "hint"
            | "checkpoint"
            | "localCheckpoint"
            | "repartitionByRange" => Value::Frame(id),
            "count" | "show" | "collect" | "take" | "first" | "head" | "printSchema" | "explain" | "isEmpty"
            | "toPandas" | "describe" | "summary" | "foreach" | "foreachPartition" => Value::Unknown,
            _ => self.opaque_step(id, &format!("DataFrame method `{name}` is not modelled"), loc),
        }
    }

    /// `select(...)`: the listed expressions; `*` keeps what is there.
    pub(crate) fn project(&mut self, id: FrameId, items: &[ColExpr], loc: Location) -> Value<'a> {
        let src = self.frame(id).schema;
        let mut out = Schema::default();
        for item in items {
            match item {
                ColExpr::Star(q) => {
                    let keep =
                        |quals: &[String]| q.as_ref().is_none_or(|q| quals.iter().any(|x| x.eq_ignore_ascii_case(q)));
                    out.columns.extend(src.columns.iter().filter(|c| keep(&c.qualifiers)).cloned());
                    out.open.extend(src.open.iter().filter(|o| keep(&o.qualifiers)).cloned());
                    out.dropped.extend(src.dropped.iter().cloned());
                    out.opaque = out.opaque.or_else(|| src.opaque.clone());
                    out.open_union = out.open_union.or_else(|| src.open_union.clone());
                }
                e => {
                    let existing = match e {
                        ColExpr::Col(r) if r.qualifier.is_none() && r.frame.is_none_or(|f| f == id) => {
                            src.known(&r.name).cloned()
                        }
                        _ => None,
                    };
                    let info = match (existing, e) {
                        (Some(c), _) => c,
                        (None, ColExpr::Col(r)) if r.frame.is_none_or(|f| f == id) => {
                            let mut info = self.column_info(id, &r.name, e, loc);
                            info.qualifiers = src.qualifiers_of(r.qualifier.as_deref(), &r.name);
                            info
                        }
                        (None, _) => self.column_info(id, &e.output_name(), e, loc),
                    };
                    out.columns.push(info);
                }
            }
        }
        let cols = out.columns.clone();
        if out.open.is_empty() && out.opaque.is_none() {
            return self.with_columns_only(id, cols);
        }
        self.derive(id, |f| f.schema = out)
    }

    fn with_column(&mut self, id: FrameId, name: &str, c: &ColExpr, loc: Location) -> Value<'a> {
        let info = self.column_info(id, name, c, loc);
        self.derive(id, |f| f.schema.set_column(info))
    }

    fn with_columns(&mut self, id: FrameId, map: Option<&Value<'a>>, loc: Location) -> Value<'a> {
        let Some(Value::Dict(items)) = map else {
            return self.opaque_step(id, "withColumns with a mapping not known statically", loc);
        };
        let mut f = self.frame(id);
        for (k, v) in items {
            if let (Some(n), Some(c)) = (k.as_str(), col_of(v)) {
                let info = self.column_info(id, n, &c, loc);
                f.schema.set_column(info);
            }
        }
        Value::Frame(self.add_frame(f))
    }

    fn df_filter(&mut self, id: FrameId, cond: Option<&Value<'a>>, api: &str, loc: Location) -> Value<'a> {
        let c = match cond {
            Some(Value::Str(s)) => self.sql_condition(s, loc),
            Some(Value::Column(c)) => Some(c.clone()),
            _ => None,
        };
        match c {
            Some(c) => self.filter(id, &c, api, loc),
            None => {
                self.unresolved(
                    "predicate",
                    format!("the condition of `{api}` is not known statically; its rows are kept unconstrained"),
                    loc,
                );
                Value::Frame(id)
            }
        }
    }

    fn df_join(&mut self, id: FrameId, args: &CallArgs<'a>) -> Value<'a> {
        let loc = args.loc;
        let Some(other) = args.get(0, "other").and_then(Value::as_frame) else {
            return self.opaque_step(id, "join with a dataset not known statically", loc);
        };
        let how = args.str_arg(2, "how").unwrap_or_else(|| "inner".to_owned());
        let on = match args.get(1, "on") {
            None | Some(Value::None) => JoinOn::Cross,
            Some(Value::Str(s)) => JoinOn::Using(vec![s.clone()]),
            Some(Value::Column(c)) => JoinOn::Cond(c.clone()),
            Some(Value::List(items)) if items.iter().all(|v| v.as_str().is_some()) => {
                JoinOn::Using(items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            }
            Some(Value::List(items)) => match items
                .iter()
                .map(|v| match v {
                    Value::Column(c) => Some(c.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .and_then(|cs| cs.into_iter().reduce(|a, b| ColExpr::binary("AND", a, b)))
            {
                Some(c) => JoinOn::Cond(c),
                None => return self.opaque_step(id, "join with keys not known statically", loc),
            },
            Some(_) => return self.opaque_step(id, "join with keys not known statically", loc),
        };
        let how = if matches!(on, JoinOn::Cross) && args.get(2, "how").is_none() { "cross".to_owned() } else { how };
        let cond = args.text_of(1, "on");
        Value::Frame(self.join(id, other, &on, &how, cond, loc))
    }

    /// `union`, `unionAll` and `unionByName` (also SQL `UNION`).
    pub(crate) fn union(&mut self, id: FrameId, other: Option<&Value<'a>>, by_name: bool, loc: Location) -> Value<'a> {
        self.combine(id, other, by_name, "union", loc)
    }

    /// Rows of either dataset, column by column: `label` is `union`, or
    /// `either` for a variable assigned differently in two branches.
    pub(crate) fn combine(
        &mut self,
        id: FrameId,
        other: Option<&Value<'a>>,
        by_name: bool,
        label: &str,
        loc: Location,
    ) -> Value<'a> {
        let Some(other) = other.and_then(Value::as_frame) else {
            return self.opaque_step(id, "union with a dataset not known statically", loc);
        };
        let (l, r) = (self.frame(id), self.frame(other));
        let right_closed = r.schema.open.is_empty() && r.schema.opaque.is_none();
        let mut cols = Vec::new();
        for (i, c) in l.schema.columns.iter().enumerate() {
            let rexpr = if by_name {
                r.schema.resolve(None, &c.name).ok()
            } else if right_closed {
                r.schema.columns.get(i).map(|x| x.expr.clone())
            } else {
                None
            };
            let expr = match rexpr {
                Some(re) if re == c.expr => re,
                Some(re) => ColExpr::Func { name: label.into(), args: vec![c.expr.clone(), re] },
                None => {
                    self.unresolved(
                        "column",
                        format!("column `{}` of the {label} cannot be matched in the second dataset", c.name),
                        loc,
                    );
                    c.expr.clone()
                }
            };
            cols.push(ColumnInfo { expr, ..c.clone() });
        }
        let mut tables = l.tables.clone();
        tables.extend(r.tables.iter().filter(|t| !l.tables.contains(t)).cloned());
        let schema = Schema {
            columns: cols,
            open: l.schema.open.iter().chain(&r.schema.open).cloned().collect(),
            opaque: l.schema.opaque.or(r.schema.opaque),
            open_union: Some(label.to_owned()),
            dropped: l.schema.dropped,
        };
        let frame = Frame {
            kind: l.kind,
            schema,
            tables,
            filters: l.filters.iter().filter(|f| r.filters.contains(f)).copied().collect(),
            joins: l.joins.iter().chain(&r.joins).copied().collect(),
            grain: None,
        };
        Value::Frame(self.add_frame(frame))
    }

    fn dedup(&mut self, id: FrameId, subset: Option<&Value<'a>>, api: &str, loc: Location) -> Value<'a> {
        let mut f = self.frame(id);
        let names = match subset.and_then(Value::as_str_list) {
            Some(n) => n,
            None if f.schema.open.is_empty() && f.schema.opaque.is_none() => {
                f.schema.columns.iter().map(|c| c.name.clone()).collect()
            }
            None => {
                self.unresolved(
                    "grain",
                    format!("`{api}` on every column: the columns are not all known, so the grain is not stated"),
                    loc,
                );
                return Value::Frame(id);
            }
        };
        let keys = names.iter().map(|n| self.resolve(id, &ColExpr::col(n), loc)).collect();
        self.set_grain(&mut f, keys, names, api, loc);
        Value::Frame(self.add_frame(f))
    }

    fn rename_all(&mut self, id: FrameId, args: &CallArgs<'a>, loc: Location) -> Value<'a> {
        let names: Vec<String> = args.flat_pos().iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        if names.is_empty() {
            return Value::Frame(id);
        }
        let f = self.frame(id);
        if !f.schema.open.is_empty() || f.schema.columns.len() != names.len() {
            return self.opaque_step(id, "toDF renaming columns that are not all known", loc);
        }
        self.derive(id, |f| {
            for (c, n) in f.schema.columns.iter_mut().zip(names) {
                c.name = n;
            }
        })
    }

    /// `groupBy(...).agg(...)`, `.count()`, `.sum(...)` and friends.
    pub(crate) fn grouped_method(&mut self, g: &Grouped, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let id = g.frame;
        let mut items: Vec<ColExpr> = g.keys.clone();
        match name {
            "agg" => match args.pos.first() {
                Some(Value::Dict(map)) => {
                    items.extend(map.iter().filter_map(|(k, v)| match (k.as_str(), v.as_str()) {
                        (Some(c), Some(f)) => Some(ColExpr::Func { name: f.to_owned(), args: vec![ColExpr::col(c)] }),
                        _ => None,
                    }))
                }
                _ => items.extend(args.flat_pos().iter().filter_map(col_of)),
            },
            "count" => items.push(ColExpr::Alias {
                expr: Box::new(ColExpr::Func { name: "count".into(), args: vec![ColExpr::Lit("1".into())] }),
                name: "count".into(),
            }),
            "sum" | "avg" | "mean" | "min" | "max" => items.extend(
                args.flat_pos()
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(|c| ColExpr::Func { name: name.to_owned(), args: vec![ColExpr::col(c)] }),
            ),
            _ => return self.opaque_step(id, &format!("grouped method `{name}` is not modelled"), args.loc),
        }
        let out = self.project(id, &items, args.loc);
        let Some(out_id) = out.as_frame() else {
            return out;
        };
        let mut f = self.frame(out_id);
        f.grain = None;
        if !g.keys.is_empty() {
            let n = g.keys.len();
            let keys = f.schema.columns.iter().take(n).map(|c| c.expr.clone()).collect();
            let names = g.keys.iter().map(ColExpr::output_name).collect();
            self.set_grain(&mut f, keys, names, "groupBy", g.location);
        }
        Value::Frame(self.add_frame(f))
    }

    /// `df.na.fill / drop` and `df.fillna / dropna`.
    pub(crate) fn na_method(&mut self, id: FrameId, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let loc = args.loc;
        match name {
            "fill" => {
                let value = args.get(0, "value").cloned().unwrap_or(Value::Unknown);
                let subset = args.get(1, "subset").and_then(Value::as_str_list);
                let pairs: Vec<(String, Value<'a>)> = match (&value, subset) {
                    (Value::Dict(items), _) => {
                        items.iter().filter_map(|(k, v)| k.as_str().map(|k| (k.to_owned(), v.clone()))).collect()
                    }
                    (v, Some(cols)) => cols.into_iter().map(|c| (c, v.clone())).collect(),
                    (_, None) => {
                        self.unresolved("fillna", "`fillna` without a subset fills columns by type; which columns change is not known statically".to_owned(), loc);
                        return Value::Frame(id);
                    }
                };
                let mut f = self.frame(id);
                for (c, v) in pairs {
                    let Some(lit) = crate::interp::to_col(&v) else {
                        continue;
                    };
                    let e = ColExpr::Func { name: "coalesce".into(), args: vec![ColExpr::col(&c), lit] };
                    let info = self.column_info(id, &c, &e, loc);
                    f.schema.set_column(info);
                }
                Value::Frame(self.add_frame(f))
            }
            "drop" => {
                let how_all = args.str_arg(0, "how").as_deref() == Some("all");
                let Some(cols) = args.get(2, "subset").and_then(Value::as_str_list) else {
                    self.unresolved("dropna", "`dropna` without a subset checks every column; which columns are constrained is not known statically".to_owned(), loc);
                    return Value::Frame(id);
                };
                let op = if how_all { "OR" } else { "AND" };
                let cond = cols
                    .iter()
                    .map(|c| ColExpr::IsNull { expr: Box::new(ColExpr::col(c)), negated: true })
                    .reduce(|a, b| ColExpr::binary(op, a, b));
                match cond {
                    Some(c) => self.filter(id, &c, "dropna", loc),
                    None => Value::Frame(id),
                }
            }
            _ => self.opaque_step(id, &format!("`na.{name}` is not modelled"), loc),
        }
    }
}
