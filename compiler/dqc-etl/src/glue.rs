//! The Glue DynamicFrame API: catalog and connector reads and writes, sinks,
//! and the `awsglue.transforms` classes and their DynamicFrame methods.

use crate::expr::{ColExpr, FrameId};
use crate::findings::WriteTarget;
use crate::interp::{short, CallArgs, Interp, Sink, Value};
use crate::model::{Location, TableKind};
use crate::ops::JoinOn;
use crate::schema::{ColumnInfo, Frame, FrameKind, Schema};

/// `database.table`, or the table alone when no database is given.
pub(crate) fn catalog_name(db: Option<String>, table: &str) -> String {
    match db {
        Some(db) if !db.is_empty() => format!("{db}.{table}"),
        _ => table.to_owned(),
    }
}

/// Names of what a connector reads or writes, from its options.
fn connection_targets(ctype: &str, opts: &Value<'_>, reading: bool) -> Vec<(String, TableKind)> {
    let get = |k: &str| opts.dict_get(k).and_then(Value::as_str).map(str::to_owned);
    let ct = ctype.to_ascii_lowercase();
    match ct.as_str() {
        "s3" => {
            let key = if reading { "paths" } else { "path" };
            let paths = opts.dict_get(key).and_then(Value::as_str_list).unwrap_or_default();
            paths.into_iter().map(|p| (p, TableKind::Path)).collect()
        }
        "dynamodb" => {
            let key = if reading { "dynamodb.input.tableName" } else { "dynamodb.output.tableName" };
            get(key)
                .or_else(|| get("tableName"))
                .map(|t| vec![(format!("dynamodb:{t}"), TableKind::Connection)])
                .unwrap_or_default()
        }
        "kafka" => get("topicName").map(|t| vec![(format!("kafka:{t}"), TableKind::Connection)]).unwrap_or_default(),
        "kinesis" => {
            get("streamName").map(|t| vec![(format!("kinesis:{t}"), TableKind::Connection)]).unwrap_or_default()
        }
        _ => {
            let Some(table) = get("dbtable") else {
                return vec![];
            };
            let prefix = get("connectionName").map(|c| format!("{c}/")).unwrap_or_default();
            vec![(format!("jdbc:{prefix}{table}"), TableKind::Jdbc)]
        }
    }
}

impl<'a> Interp<'a> {
    /// Methods of `glueContext` itself.
    pub(crate) fn glue_context_method(&mut self, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        match name {
            "create_dynamic_frame_from_catalog" => self.glue_read(true, "from_catalog", args),
            "create_dynamic_frame_from_options" => self.glue_read(true, "from_options", args),
            "create_data_frame_from_catalog" => self.glue_read(false, "from_catalog", args),
            "create_data_frame_from_options" => self.glue_read(false, "from_options", args),
            "write_dynamic_frame_from_catalog" => self.glue_write("from_catalog", args),
            "write_dynamic_frame_from_options" => self.glue_write("from_options", args),
            "write_dynamic_frame_from_jdbc_conf" => self.glue_write("from_jdbc_conf", args),
            "getSink" => Value::Sink(Sink {
                connection_type: args.kw("connection_type").and_then(Value::as_str).map(str::to_owned),
                path: args.kw("path").and_then(Value::as_str).map(str::to_owned),
                partition_keys: args.kw("partitionKeys").and_then(Value::as_str_list).unwrap_or_default(),
                catalog: None,
                format: None,
            }),
            _ => Value::Unknown,
        }
    }

    /// `create_dynamic_frame.from_catalog / from_options` and the
    /// `create_data_frame` equivalents.
    pub(crate) fn glue_read(&mut self, dynamic: bool, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let kind = if dynamic { FrameKind::Dynamic } else { FrameKind::Data };
        let api_root = if dynamic { "create_dynamic_frame" } else { "create_data_frame" };
        let api = format!("{api_root}.{name}");
        match name {
            "from_catalog" => {
                let db = args.name_arg(0, "database").or_else(|| args.name_arg(0, "name_space"));
                let Some(table) = args.name_arg(1, "table_name") else {
                    self.unresolved("dynamic-name", format!("`{}` names no table", short(args.text)), args.loc);
                    return Value::Unknown;
                };
                let name = catalog_name(db, &table);
                let v = self.read_table(kind, &name, TableKind::Catalog, &api, None, args.loc);
                self.pushdown_filters(v, args)
            }
            "from_options" => {
                let ctype = args.str_arg(0, "connection_type").unwrap_or_default();
                let opts = args.get(1, "connection_options").cloned().unwrap_or(Value::None);
                let format = args.str_arg(2, "format");
                let targets = connection_targets(&ctype, &opts, true);
                self.read_many(kind, targets, &api, format, args)
            }
            _ => self.unknown_glue(name, args),
        }
    }

    fn unknown_glue(&mut self, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        self.unresolved("unknown-call", format!("Glue call `{name}` is not modelled"), args.loc);
        Value::Unknown
    }

    /// `push_down_predicate` and `catalogPartitionPredicate` are filters.
    fn pushdown_filters(&mut self, v: Value<'a>, args: &CallArgs<'a>) -> Value<'a> {
        let mut v = v;
        let extra = args.kw("additional_options").and_then(|o| o.dict_get("catalogPartitionPredicate")).cloned();
        for (api, pred) in
            [("push_down_predicate", args.kw("push_down_predicate").cloned()), ("catalogPartitionPredicate", extra)]
        {
            let (Some(id), Some(p)) = (v.as_frame(), pred) else {
                continue;
            };
            match p.as_str().map(|s| self.sql_condition(s, args.loc)) {
                Some(Some(cond)) => v = self.filter(id, &cond, api, args.loc),
                _ => {
                    self.unresolved("predicate", format!("`{api}` is not a SQL string the analyser can read"), args.loc)
                }
            }
        }
        v
    }

    /// `write_dynamic_frame.from_catalog / from_options / from_jdbc_conf`.
    pub(crate) fn glue_write(&mut self, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let frame = args.get(0, "frame").cloned().unwrap_or(Value::Unknown);
        let api = format!("write_dynamic_frame.{name}");
        let mut t = WriteTarget {
            target: String::new(),
            kind: TableKind::Catalog,
            api: api.clone(),
            format: None,
            mode: None,
            partition_keys: vec![],
        };
        match name {
            "from_catalog" => {
                let db = args.name_arg(1, "database").or_else(|| args.name_arg(1, "name_space"));
                let table = args.name_arg(2, "table_name").unwrap_or_else(|| "${?table}".to_owned());
                t.target = catalog_name(db, &table);
                let extra = args.kw("additional_options");
                t.partition_keys =
                    extra.and_then(|o| o.dict_get("partitionKeys")).and_then(Value::as_str_list).unwrap_or_default();
            }
            "from_options" => {
                let ctype = args.str_arg(1, "connection_type").unwrap_or_default();
                let opts = args.get(2, "connection_options").cloned().unwrap_or(Value::None);
                t.format = args.str_arg(3, "format");
                t.partition_keys = opts.dict_get("partitionKeys").and_then(Value::as_str_list).unwrap_or_default();
                match connection_targets(&ctype, &opts, false).into_iter().next() {
                    Some((name, kind)) => (t.target, t.kind) = (name, kind),
                    None => {
                        (t.target, t.kind) =
                            (format!("${{?{}}}", args.text_of(2, "connection_options")), TableKind::Connection)
                    }
                }
            }
            "from_jdbc_conf" => {
                let conn = args.name_arg(1, "catalog_connection").unwrap_or_default();
                let opts = args.get(2, "connection_options").cloned().unwrap_or(Value::None);
                let table = opts.dict_get("dbtable").and_then(Value::as_str).unwrap_or("${?dbtable}");
                let db = opts.dict_get("database").and_then(Value::as_str).map(str::to_owned);
                t.target = format!("jdbc:{conn}/{}", catalog_name(db, table));
                t.kind = TableKind::Jdbc;
            }
            _ => return self.unknown_glue(name, args),
        }
        self.write_frame(&frame, t, args.loc, &api);
        Value::None
    }

    /// Methods of a `glueContext.getSink(...)` sink.
    pub(crate) fn sink_method(&mut self, mut s: Sink, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        match name {
            "setCatalogInfo" => {
                let db = args.name_arg(0, "catalogDatabase").unwrap_or_default();
                let table = args.name_arg(1, "catalogTableName").unwrap_or_default();
                s.catalog = Some((db, table));
                Value::Sink(s)
            }
            "setFormat" => {
                s.format = args.str_arg(0, "format");
                Value::Sink(s)
            }
            "writeFrame" => {
                let frame = args.get(0, "dynamic_frame").cloned().unwrap_or(Value::Unknown);
                let (target, kind) = match (&s.catalog, &s.path) {
                    (Some((db, t)), _) => (catalog_name(Some(db.clone()), t), TableKind::Catalog),
                    (None, Some(p)) => (p.clone(), TableKind::Path),
                    (None, None) => ("${?sink}".to_owned(), TableKind::Connection),
                };
                let t = WriteTarget {
                    target,
                    kind,
                    api: "getSink.writeFrame".to_owned(),
                    format: s.format.clone(),
                    mode: None,
                    partition_keys: s.partition_keys.clone(),
                };
                self.write_frame(&frame, t, args.loc, "getSink.writeFrame");
                Value::None
            }
            _ => Value::Sink(s),
        }
    }

    /// `DynamicFrame.fromDF(df, glueContext, name)`.
    pub(crate) fn dynamic_from_df(&mut self, args: &CallArgs<'a>) -> Value<'a> {
        match args.get(0, "dataframe").and_then(Value::as_frame) {
            Some(id) => self.derive(id, |f| f.kind = FrameKind::Dynamic),
            None => Value::Unknown,
        }
    }

    /// `Transform.apply(frame=..., ...)` for the `awsglue.transforms` classes.
    pub(crate) fn glue_transform(&mut self, t: &str, args: &CallArgs<'a>) -> Value<'a> {
        let frame_arg = if t == "Join" { args.get(0, "frame1") } else { args.get(0, "frame") };
        let Some(id) = frame_arg.and_then(Value::as_frame) else {
            self.unresolved("frame", format!("`{t}.apply` is given a value that is not a known dataset"), args.loc);
            return Value::Unknown;
        };
        let loc = args.loc;
        match t {
            "ApplyMapping" => self.apply_mapping(id, args.get(1, "mappings"), loc),
            "Filter" => self.glue_filter(id, args.get(1, "f"), &format!("{t}.apply"), loc),
            "Join" => {
                let other = args.get(1, "frame2").and_then(Value::as_frame);
                let k1 = args.get(2, "keys1").and_then(Value::as_str_list);
                let k2 = args.get(3, "keys2").and_then(Value::as_str_list);
                self.glue_join(id, other, k1, k2, args)
            }
            "SelectFields" => self.select_names(id, args.get(1, "paths"), loc),
            "DropFields" => self.drop_names(id, args.get(1, "paths"), loc),
            "RenameField" => self.rename_field(id, args.str_arg(1, "old_name"), args.str_arg(2, "new_name"), loc),
            "ResolveChoice" => self.resolve_choice(id, args.get(1, "specs"), loc),
            "DropNullFields" | "Spigot" => Value::Frame(id),
            _ => self.opaque_step(id, &format!("Glue transform `{t}` is not modelled"), loc),
        }
    }

    /// Methods of a DynamicFrame.
    pub(crate) fn dynamic_frame_method(&mut self, id: FrameId, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let loc = args.loc;
        match name {
            "toDF" => self.derive(id, |f| f.kind = FrameKind::Data),
            "apply_mapping" => self.apply_mapping(id, args.get(0, "mappings"), loc),
            "select_fields" => self.select_names(id, args.get(0, "paths"), loc),
            "drop_fields" => self.drop_names(id, args.get(0, "paths"), loc),
            "rename_field" => self.rename_field(id, args.str_arg(0, "oldName"), args.str_arg(1, "newName"), loc),
            "resolveChoice" => self.resolve_choice(id, args.get(0, "specs"), loc),
            "filter" => self.glue_filter(id, args.get(0, "f"), "DynamicFrame.filter", loc),
            "join" => {
                let k1 = args.get(0, "paths1").and_then(Value::as_str_list);
                let k2 = args.get(1, "paths2").and_then(Value::as_str_list);
                let other = args.get(2, "frame2").and_then(Value::as_frame);
                self.glue_join(id, other, k1, k2, args)
            }
            "repartition" | "coalesce" | "spigot" | "assertErrorThreshold" => Value::Frame(id),
            "count" | "show" | "printSchema" | "schema" | "toJSON" | "errorsCount" | "stageErrorsCount" => {
                Value::Unknown
            }
            _ => self.opaque_step(id, &format!("DynamicFrame method `{name}` is not modelled"), loc),
        }
    }

    /// A step that is not modelled: rows still come from the same tables,
    /// but nothing is known about the columns afterwards.
    pub(crate) fn opaque_step(&mut self, id: FrameId, what: &str, loc: Location) -> Value<'a> {
        self.unresolved("unknown-transform", format!("{what}; column lineage after it is unknown"), loc);
        let f = self.frame(id);
        let mut out = Frame::opaque(f.kind, f.tables.clone(), format!("{what} (line {})", loc.line));
        out.filters = f.filters;
        out.joins = f.joins;
        Value::Frame(self.add_frame(out))
    }

    fn glue_join(
        &mut self,
        id: FrameId,
        other: Option<FrameId>,
        k1: Option<Vec<String>>,
        k2: Option<Vec<String>>,
        args: &CallArgs<'a>,
    ) -> Value<'a> {
        let (Some(other), Some(k1), Some(k2)) = (other, k1, k2) else {
            self.unresolved(
                "join",
                format!("the datasets or keys of `{}` are not known statically", short(args.text)),
                args.loc,
            );
            return Value::Unknown;
        };
        let pairs: Vec<(ColExpr, ColExpr)> =
            k1.iter().zip(&k2).map(|(a, b)| (ColExpr::col(a), ColExpr::col(b))).collect();
        let cond = k1.iter().zip(&k2).map(|(a, b)| format!("{a} = {b}")).collect::<Vec<_>>().join(" AND ");
        Value::Frame(self.join(id, other, &JoinOn::Pairs(pairs), "inner", &cond, args.loc))
    }

    /// `Filter.apply(frame, f=lambda row: ...)`: the predicate is evaluated
    /// with `row` bound to the dataset's columns.
    fn glue_filter(&mut self, id: FrameId, f: Option<&Value<'a>>, api: &str, loc: Location) -> Value<'a> {
        let args = CallArgs { pos: vec![Value::Row(id)], kw: vec![], pos_text: vec![], kw_text: vec![], loc, text: "" };
        let cond = match f {
            Some(Value::Lambda(l)) => self.call_lambda(l, &args),
            Some(Value::Function(def)) => self.call_function(def, &args),
            _ => Value::Unknown,
        };
        match cond {
            Value::Column(c) => self.filter(id, &c, api, loc),
            _ => {
                self.unresolved(
                    "predicate",
                    format!("the predicate of `{api}` is not understood; its rows are kept unconstrained"),
                    loc,
                );
                Value::Frame(id)
            }
        }
    }

    /// `ApplyMapping`: only mapped columns survive, cast where types change.
    fn apply_mapping(&mut self, id: FrameId, mappings: Option<&Value<'a>>, loc: Location) -> Value<'a> {
        let rows: Option<Vec<Vec<String>>> = match mappings {
            Some(Value::List(items)) => items.iter().map(|m| m.as_str_list().filter(|v| v.len() == 4)).collect(),
            _ => None,
        };
        let Some(rows) = rows else {
            return self.opaque_step(id, "ApplyMapping with mappings that are not a literal list", loc);
        };
        let mut cols = Vec::new();
        for r in &rows {
            let (src, src_ty, dst, dst_ty) = (&r[0], &r[1], &r[2], &r[3]);
            let mut info = self.column_info(id, dst, &ColExpr::col(src), loc);
            if !src_ty.eq_ignore_ascii_case(dst_ty) {
                info.expr = ColExpr::cast(info.expr, dst_ty);
            }
            info.data_type = Some(dst_ty.clone());
            cols.push(info);
        }
        self.with_columns_only(id, cols)
    }

    /// `SelectFields` / `select_fields`.
    fn select_names(&mut self, id: FrameId, paths: Option<&Value<'a>>, loc: Location) -> Value<'a> {
        let Some(names) = paths.and_then(Value::as_str_list) else {
            return self.opaque_step(id, "SelectFields with paths that are not a literal list", loc);
        };
        let schema = self.frame(id).schema;
        let cols = names
            .iter()
            .map(|n| match schema.known(n) {
                Some(c) => c.clone(),
                None => self.column_info(id, n, &ColExpr::col(n), loc),
            })
            .collect();
        self.with_columns_only(id, cols)
    }

    /// A dataset with exactly `cols`; the grain survives if its keys do.
    pub(crate) fn with_columns_only(&mut self, id: FrameId, cols: Vec<ColumnInfo>) -> Value<'a> {
        self.derive(id, |f| {
            f.schema = Schema { columns: cols, ..Schema::default() };
            let keep =
                f.grain.as_ref().is_some_and(|g| g.keys.iter().all(|k| f.schema.columns.iter().any(|c| c.expr == *k)));
            if !keep {
                f.grain = None;
            }
        })
    }

    /// `DropFields` / `drop_fields`.
    fn drop_names(&mut self, id: FrameId, paths: Option<&Value<'a>>, loc: Location) -> Value<'a> {
        let Some(names) = paths.and_then(Value::as_str_list) else {
            return self.opaque_step(id, "DropFields with paths that are not a literal list", loc);
        };
        self.derive(id, |f| {
            for n in &names {
                f.schema.drop_column(n);
            }
        })
    }

    /// `RenameField` / `rename_field` (also used for `withColumnRenamed`).
    pub(crate) fn rename_field(
        &mut self,
        id: FrameId,
        old: Option<String>,
        new: Option<String>,
        loc: Location,
    ) -> Value<'a> {
        let (Some(old), Some(new)) = (old, new) else {
            return self.opaque_step(id, "a rename with names that are not literals", loc);
        };
        let mut f = self.frame(id);
        if let Err(msg) = f.schema.rename(&old, &new, loc) {
            self.unresolved("column", msg, loc);
        }
        Value::Frame(self.add_frame(f))
    }

    /// `ResolveChoice` with `specs=[("col", "cast:type")]`.
    fn resolve_choice(&mut self, id: FrameId, specs: Option<&Value<'a>>, loc: Location) -> Value<'a> {
        let Some(Value::List(items)) = specs else {
            return Value::Frame(id);
        };
        let mut f = self.frame(id);
        for spec in items {
            let Some(pair) = spec.as_str_list().filter(|p| p.len() == 2) else {
                continue;
            };
            let Some(ty) = pair[1].strip_prefix("cast:").or_else(|| pair[1].strip_prefix("project:")) else {
                continue;
            };
            let mut info = self.column_info(id, &pair[0], &ColExpr::col(&pair[0]), loc);
            info.expr = ColExpr::cast(info.expr, ty);
            info.data_type = Some(ty.to_owned());
            f.schema.set_column(info);
        }
        Value::Frame(self.add_frame(f))
    }
}
