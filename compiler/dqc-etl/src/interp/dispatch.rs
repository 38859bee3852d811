//! Calls: which handler a call on a value goes to.

use rustpython_parser::ast;

use super::value::{module_member, type_name, Api, Value};
use super::{CallArgs, Interp};
use crate::schema::FrameKind;

impl<'a> Interp<'a> {
    /// Calls a value that is not a method of a receiver.
    pub(crate) fn call_value(&mut self, f: Value<'a>, args: &CallArgs<'a>) -> Value<'a> {
        match f {
            Value::Function(def) => self.call_function(def, args),
            Value::Class(class) => self.instantiate(class, args),
            Value::BoundMethod(id, def) => self.call_function(def, &args.with_receiver(Value::Instance(id))),
            Value::ClassMethod(class, def) => self.call_function(def, &args.with_receiver(Value::Class(class))),
            Value::Lambda(l) => self.call_lambda(l, args),
            Value::Api(Api::GetResolvedOptions) => self.resolved_options(args),
            Value::Api(Api::GlueContextClass) => Value::Api(Api::GlueContext),
            Value::Api(Api::SparkContextClass) => Value::Api(Api::SparkContext),
            Value::Api(Api::JobClass) => Value::Api(Api::Job),
            Value::SqlFunc(name) => self.sql_function(&name, args),
            Value::TypeClass(name) => Value::Type(type_name(&name, &args.pos)),
            Value::Method(recv, name) => self.call_method(*recv, &name, args),
            _ => self.unknown_call(args),
        }
    }

    /// Calls `recv.name(args)`.
    pub(crate) fn call_method(&mut self, recv: Value<'a>, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        match recv {
            Value::Api(api) => self.api_method(api, name, args),
            Value::Transform(t) if name == "apply" => self.glue_transform(&t, args),
            Value::Frame(id) => match self.frame(id).kind {
                FrameKind::Dynamic => self.dynamic_frame_method(id, name, args),
                FrameKind::Data => self.data_frame_method(id, name, args),
            },
            Value::Reader(r) => self.reader_method(r, name, args),
            Value::Writer(w) => self.writer_method(w, name, args),
            Value::Grouped(g) => self.grouped_method(&g, name, args),
            Value::Na(id) => self.na_method(id, name, args),
            Value::Sink(s) => self.sink_method(s, name, args),
            Value::Column(c) => self.column_method(c, name, args),
            Value::Window(w) => self.window_method(w, name, args),
            // `boto3.client("s3")`, `boto3.resource(...)`, `boto3.Session()`.
            Value::Module(m) if m == "boto3" || m.starts_with("boto3.") => match name {
                "client" | "resource" => Value::Boto3(boto3_service(args)),
                _ => Value::Boto3("session".to_owned()),
            },
            Value::Module(m) => {
                let f = module_member(&m, name);
                self.call_value(f, args)
            }
            Value::Instance(id) => {
                let f = self.instance_attr(id, name);
                self.call_value(f, args)
            }
            Value::Class(class) => {
                let f = self.class_attr(class, name);
                self.call_value(f, args)
            }
            Value::Boto3(service) => self.boto3_call(&service, name, args),
            Value::Str(s) => self.str_method(&s, name, args),
            Value::Dict(items) => dict_method(items, name, args),
            Value::Args if name == "get" => match args.pos.first().and_then(Value::as_str) {
                Some(k) => Value::Str(format!("${{{k}}}")),
                None => Value::Unknown,
            },
            Value::Unknown if name == "writeTo" => Value::Writer(super::Writer {
                frame: None,
                format: None,
                mode: None,
                partition_keys: vec![],
                options: vec![],
                table: args.name_arg(0, "table"),
            }),
            _ => self.unknown_call(args),
        }
    }

    /// A call on a `boto3` client: I/O the analyser does not follow (listing objects, reading
    /// a query from S3, reading partitions), reported where it is made; what it returns is
    /// unknown.
    fn boto3_call(&mut self, service: &str, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        if service == "session" && matches!(name, "client" | "resource") {
            return Value::Boto3(boto3_service(args));
        }
        let text = short(args.text);
        self.unresolved(
            "boto3",
            format!("`{text}` ({service} through boto3) reads or writes outside Spark; it is not followed, and what it returns is unknown"),
            args.loc,
        );
        Value::Unknown
    }

    /// A call the analyser does not model; flagged when data flows into it.
    fn unknown_call(&mut self, args: &CallArgs<'a>) -> Value<'a> {
        if args.holds_frame() {
            let text = short(args.text);
            self.unresolved(
                "unknown-call",
                format!("call `{text}` receives a dataset but is not understood; what it returns is unknown"),
                args.loc,
            );
        }
        Value::Unknown
    }

    fn api_method(&mut self, api: Api, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        match api {
            Api::GlueContext => self.glue_context_method(name, args),
            Api::GlueRead(dynamic) => self.glue_read(dynamic, name, args),
            Api::GlueWrite(_) => self.glue_write(name, args),
            Api::SparkSession => self.spark_method(name, args),
            Api::SparkBuilder if name == "getOrCreate" => Value::Api(Api::SparkSession),
            Api::SparkBuilder => Value::Api(Api::SparkBuilder),
            Api::SparkContextClass | Api::SparkContext if name == "getOrCreate" => Value::Api(Api::SparkContext),
            Api::DynamicFrameClass if name == "fromDF" => self.dynamic_from_df(args),
            Api::WindowClass => self.window_method(Default::default(), name, args),
            _ => self.unknown_call(args),
        }
    }

    /// `getResolvedOptions(sys.argv, [...])`: the listed names are job arguments.
    fn resolved_options(&mut self, args: &CallArgs<'a>) -> Value<'a> {
        match args.get(1, "options").and_then(Value::as_str_list) {
            Some(names) => {
                for n in names {
                    self.rec.parameter(&n, args.loc);
                }
            }
            None => self.unresolved(
                "parameter",
                "the argument names passed to `getResolvedOptions` are not a literal list".to_owned(),
                args.loc,
            ),
        }
        Value::Args
    }

    /// Calls a lambda: its parameters are bound positionally.
    pub(crate) fn call_lambda(&mut self, l: &'a ast::ExprLambda, args: &CallArgs<'a>) -> Value<'a> {
        let mut scope = std::collections::BTreeMap::new();
        for (i, p) in l.args.args.iter().enumerate() {
            let v = args.pos.get(i).cloned().unwrap_or(Value::Unknown);
            scope.insert(p.def.arg.as_str().to_owned(), v);
        }
        self.scopes.push(scope);
        let v = self.eval(&l.body);
        self.scopes.pop();
        v
    }
}

/// The service a `boto3` client is made for.
fn boto3_service(args: &CallArgs<'_>) -> String {
    args.get(0, "service_name").and_then(Value::as_str).unwrap_or("an AWS service").to_owned()
}

fn dict_method<'a>(items: Vec<(Value<'a>, Value<'a>)>, name: &str, args: &CallArgs<'a>) -> Value<'a> {
    match name {
        "items" => Value::List(items.into_iter().map(|(k, v)| Value::List(vec![k, v])).collect()),
        "keys" => Value::List(items.into_iter().map(|(k, _)| k).collect()),
        "values" => Value::List(items.into_iter().map(|(_, v)| v).collect()),
        "get" => {
            let key = args.pos.first().and_then(Value::as_str);
            let hit = items.iter().find(|(k, _)| k.as_str().is_some() && k.as_str() == key);
            hit.map(|(_, v)| v.clone()).or_else(|| args.pos.get(1).cloned()).unwrap_or(Value::None)
        }
        _ => Value::Unknown,
    }
}

/// The first line of a call's text, shortened for messages.
pub(crate) fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let mut s: String = line.chars().take(80).collect();
    if s.len() < text.len() {
        s.push_str("...");
    }
    s
}
