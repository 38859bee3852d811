//! Spark's `spark.read` and `df.write` builders.

use crate::columns::col_of;
use crate::dataframe::FILE_FORMATS;
use crate::findings::WriteTarget;
use crate::interp::{short, CallArgs, Interp, Reader, Value, Writer};
use crate::model::TableKind;
use crate::schema::FrameKind;

impl<'a> Interp<'a> {
    /// Methods of `spark.read`.
    pub(crate) fn reader_method(&mut self, mut r: Reader, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        match name {
            "format" => r.format = args.str_arg(0, "source"),
            "option" => {
                if let (Some(k), Some(v)) = (args.str_arg(0, "key"), args.pos.get(1)) {
                    r.options.push((k, v.detached()));
                }
            }
            "options" => r.options.extend(args.kw.iter().map(|(k, v)| (k.clone(), v.detached()))),
            "schema" => {}
            "table" => return self.spark_table(args.name_arg(0, "tableName"), "spark.read.table", args.loc),
            "jdbc" => {
                let table = args.name_arg(1, "table").unwrap_or_default();
                return self.read_table(
                    FrameKind::Data,
                    &format!("jdbc:{table}"),
                    TableKind::Jdbc,
                    "spark.read.jdbc",
                    Some("jdbc".into()),
                    args.loc,
                );
            }
            "load" => return self.reader_load(&r, args),
            f if FILE_FORMATS.contains(&f) => {
                let paths = args.pos.first().and_then(Value::as_str_list).unwrap_or_default();
                return self.read_paths(paths, &format!("spark.read.{f}"), Some(f.to_owned()), args);
            }
            _ => return Value::Unknown,
        }
        Value::Reader(r)
    }

    fn reader_load(&mut self, r: &Reader, args: &CallArgs<'a>) -> Value<'a> {
        let opt = |k: &str| {
            r.options.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).and_then(|(_, v)| v.as_str().map(str::to_owned))
        };
        let format = args.str_arg(1, "format").or_else(|| r.format.clone());
        if format.as_deref() == Some("jdbc") {
            let table = opt("dbtable").unwrap_or_else(|| "${?dbtable}".to_owned());
            return self.read_table(
                FrameKind::Data,
                &format!("jdbc:{table}"),
                TableKind::Jdbc,
                "spark.read.load",
                format,
                args.loc,
            );
        }
        let paths = args
            .get(0, "path")
            .and_then(Value::as_str_list)
            .or_else(|| opt("path").map(|p| vec![p]))
            .unwrap_or_default();
        self.read_paths(paths, "spark.read.load", format, args)
    }

    fn read_paths(&mut self, paths: Vec<String>, api: &str, format: Option<String>, args: &CallArgs<'a>) -> Value<'a> {
        if paths.is_empty() {
            self.unresolved(
                "dynamic-name",
                format!("the path read by `{}` is not known statically", short(args.text)),
                args.loc,
            );
            return Value::Unknown;
        }
        let targets = paths.into_iter().map(|p| (p, TableKind::Path)).collect();
        self.read_many(FrameKind::Data, targets, api, format, args)
    }

    /// Methods of `df.write` and `df.writeTo(...)`.
    pub(crate) fn writer_method(&mut self, mut w: Writer, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        match name {
            "mode" => w.mode = args.str_arg(0, "saveMode"),
            "format" | "using" => w.format = args.str_arg(0, "source"),
            "option" => {
                if let (Some(k), Some(v)) = (args.str_arg(0, "key"), args.pos.get(1)) {
                    w.options.push((k, v.detached()));
                }
            }
            "options" => w.options.extend(args.kw.iter().map(|(k, v)| (k.clone(), v.detached()))),
            "partitionBy" | "partitionedBy" => {
                w.partition_keys = args.flat_pos().iter().filter_map(|v| col_of(v).map(|c| c.output_name())).collect()
            }
            "bucketBy" | "sortBy" | "tableProperty" => {}
            _ => return self.writer_terminal(w, name, args),
        }
        Value::Writer(w)
    }

    fn writer_terminal(&mut self, mut w: Writer, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let opt = |k: &str| {
            w.options.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).and_then(|(_, v)| v.as_str().map(str::to_owned))
        };
        if let Some(m) = args.kw("mode").and_then(Value::as_str) {
            w.mode = Some(m.to_owned());
        }
        if let Some(p) = args.kw("partitionBy").and_then(Value::as_str_list) {
            w.partition_keys = p;
        }
        let api = format!("write.{name}");
        let (target, kind) = match name {
            "saveAsTable" => (args.name_arg(0, "name"), TableKind::Catalog),
            "insertInto" => {
                if args.get(1, "overwrite") == Some(&Value::Bool(true)) {
                    w.mode = Some("overwrite".into());
                }
                (args.name_arg(0, "tableName"), TableKind::Catalog)
            }
            "jdbc" => (args.name_arg(1, "table").map(|t| format!("jdbc:{t}")), TableKind::Jdbc),
            "save" if w.format.as_deref() == Some("jdbc") => {
                (Some(format!("jdbc:{}", opt("dbtable").unwrap_or_else(|| "${?dbtable}".into()))), TableKind::Jdbc)
            }
            "save" => (args.name_arg(0, "path").or_else(|| opt("path")), TableKind::Path),
            f if FILE_FORMATS.contains(&f) => {
                w.format = Some(f.to_owned());
                (args.name_arg(0, "path"), TableKind::Path)
            }
            "append" | "overwrite" | "overwritePartitions" | "create" | "createOrReplace" | "replace"
                if w.table.is_some() =>
            {
                w.mode = Some(name.to_owned());
                (w.table.clone(), TableKind::Catalog)
            }
            _ => return Value::Unknown,
        };
        let target = target.unwrap_or_else(|| "${?target}".to_owned());
        let t = WriteTarget {
            target,
            kind,
            api: api.clone(),
            format: w.format.clone(),
            mode: w.mode.clone(),
            partition_keys: w.partition_keys.clone(),
        };
        let frame = w.frame.map_or(Value::Unknown, Value::Frame);
        self.write_frame(&frame, t, args.loc, &api);
        Value::None
    }
}
