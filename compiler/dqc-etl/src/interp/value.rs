//! The abstract values the interpreter tracks for Python expressions.

use rustpython_parser::ast;

use crate::expr::{ColExpr, FrameId};
use crate::model::Location;

/// Objects of the Glue and Spark APIs that the analyser understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    GlueContextClass,
    GlueContext,
    SparkContextClass,
    SparkContext,
    SparkSessionClass,
    SparkBuilder,
    SparkSession,
    JobClass,
    Job,
    /// `glueContext.create_dynamic_frame` (true) or `.create_data_frame` (false).
    GlueRead(bool),
    /// `glueContext.write_dynamic_frame` (true) or `.write_data_frame` (false).
    GlueWrite(bool),
    DynamicFrameClass,
    WindowClass,
    GetResolvedOptions,
}

/// State of a `spark.read` builder.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Reader {
    pub format: Option<String>,
    pub options: Vec<(String, Value<'static>)>,
}

/// State of a `df.write` builder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Writer {
    /// The dataset written, when it is a known one.
    pub frame: Option<FrameId>,
    pub format: Option<String>,
    pub mode: Option<String>,
    pub partition_keys: Vec<String>,
    pub options: Vec<(String, Value<'static>)>,
    /// `df.writeTo(table)` target, for the v2 writer.
    pub table: Option<String>,
}

/// State of a `glueContext.getSink(...)` sink.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sink {
    pub connection_type: Option<String>,
    pub path: Option<String>,
    pub partition_keys: Vec<String>,
    pub catalog: Option<(String, String)>,
    pub format: Option<String>,
}

/// A `Window.partitionBy(..).orderBy(..)` specification.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WindowSpec {
    pub partition: Vec<ColExpr>,
    pub order: Vec<ColExpr>,
}

/// The result of `df.groupBy(...)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grouped {
    pub frame: FrameId,
    pub keys: Vec<ColExpr>,
    pub location: Location,
}

/// A Python value as far as the analyser can tell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    /// Anything the analyser does not follow.
    Unknown,
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string; job arguments appear as `${name}` and unknown pieces of
    /// f-strings as `${?expr}`.
    Str(String),
    List(Vec<Value<'a>>),
    Dict(Vec<(Value<'a>, Value<'a>)>),
    /// The dictionary returned by `getResolvedOptions`.
    Args,
    /// An imported module, by dotted path.
    Module(String),
    Api(Api),
    /// A class from `awsglue.transforms`.
    Transform(String),
    /// A function from `pyspark.sql.functions`.
    SqlFunc(String),
    /// A type class from `pyspark.sql.types`.
    TypeClass(String),
    /// A Spark SQL type, such as `decimal(12,2)`.
    Type(String),
    Frame(FrameId),
    Column(ColExpr),
    Window(WindowSpec),
    Reader(Reader),
    Writer(Writer),
    Grouped(Grouped),
    Sink(Sink),
    /// `df.na`.
    Na(FrameId),
    /// The row parameter of a `Filter.apply` predicate.
    Row(FrameId),
    Function(&'a ast::StmtFunctionDef),
    Lambda(&'a ast::ExprLambda),
    /// A class defined in the script.
    Class(&'a ast::StmtClassDef),
    /// An object of a class defined in the script, by its index in the interpreter.
    Instance(usize),
    /// A method of such an object, bound to it.
    BoundMethod(usize, &'a ast::StmtFunctionDef),
    /// A `@classmethod` of a script class, bound to the class.
    ClassMethod(&'a ast::StmtClassDef, &'a ast::StmtFunctionDef),
    /// A `boto3` client or resource (its service): I/O outside Spark, reported, not followed.
    Boto3(String),
    /// An attribute fetched but not yet called.
    Method(Box<Value<'a>>, String),
}

impl<'a> Value<'a> {
    /// The string, if this is a fully known string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The strings of a string or a list of strings.
    pub(crate) fn as_str_list(&self) -> Option<Vec<String>> {
        match self {
            Value::Str(s) => Some(vec![s.clone()]),
            Value::List(items) => items.iter().map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => None,
        }
    }

    /// The dataset, if this is one.
    pub(crate) fn as_frame(&self) -> Option<FrameId> {
        match self {
            Value::Frame(id) => Some(*id),
            _ => None,
        }
    }

    /// Looks a key up in a dictionary literal.
    pub(crate) fn dict_get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Dict(items) => items.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this value is, or contains, a dataset.
    pub(crate) fn holds_frame(&self) -> bool {
        match self {
            Value::Frame(_) | Value::Writer(_) | Value::Grouped(_) | Value::Na(_) => true,
            Value::List(items) => items.iter().any(Value::holds_frame),
            Value::Dict(items) => items.iter().any(|(_, v)| v.holds_frame()),
            _ => false,
        }
    }

    /// A copy that borrows nothing from the AST (functions become unknown).
    pub(crate) fn detached(&self) -> Value<'static> {
        match self {
            Value::Unknown
            | Value::Function(_)
            | Value::Lambda(_)
            | Value::Method(..)
            | Value::Class(_)
            | Value::BoundMethod(..)
            | Value::ClassMethod(..) => Value::Unknown,
            Value::Instance(id) => Value::Instance(*id),
            Value::Boto3(s) => Value::Boto3(s.clone()),
            Value::None => Value::None,
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::Float(f) => Value::Float(*f),
            Value::Str(s) => Value::Str(s.clone()),
            Value::List(v) => Value::List(v.iter().map(Value::detached).collect()),
            Value::Dict(v) => Value::Dict(v.iter().map(|(k, x)| (k.detached(), x.detached())).collect()),
            Value::Args => Value::Args,
            Value::Module(m) => Value::Module(m.clone()),
            Value::Api(a) => Value::Api(*a),
            Value::Transform(t) => Value::Transform(t.clone()),
            Value::SqlFunc(t) => Value::SqlFunc(t.clone()),
            Value::TypeClass(t) => Value::TypeClass(t.clone()),
            Value::Type(t) => Value::Type(t.clone()),
            Value::Frame(f) => Value::Frame(*f),
            Value::Column(c) => Value::Column(c.clone()),
            Value::Window(w) => Value::Window(w.clone()),
            Value::Reader(r) => Value::Reader(r.clone()),
            Value::Writer(w) => Value::Writer(w.clone()),
            Value::Grouped(g) => Value::Grouped(g.clone()),
            Value::Sink(s) => Value::Sink(s.clone()),
            Value::Na(f) => Value::Na(*f),
            Value::Row(f) => Value::Row(*f),
        }
    }
}

/// Python-style text of a scalar, as used in f-strings and `str()`.
pub(crate) fn scalar_text(v: &Value<'_>) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
        Value::None => Some("None".to_owned()),
        _ => None,
    }
}

/// Resolves `module.name` for the modules the analyser knows.
pub(crate) fn module_member(module: &str, name: &str) -> Value<'static> {
    let path = format!("{module}.{name}");
    if is_module(&path) {
        return Value::Module(path);
    }
    match module {
        "pyspark.sql.functions" => Value::SqlFunc(name.to_owned()),
        "pyspark.sql.types" => Value::TypeClass(name.to_owned()),
        "awsglue.transforms" => Value::Transform(name.to_owned()),
        _ => class_member(module, name),
    }
}

fn class_member(module: &str, name: &str) -> Value<'static> {
    let api = match (module, name) {
        ("awsglue.utils", "getResolvedOptions") => Api::GetResolvedOptions,
        ("awsglue.context", "GlueContext") => Api::GlueContextClass,
        ("awsglue.job", "Job") => Api::JobClass,
        ("awsglue.dynamicframe" | "awsglue", "DynamicFrame") => Api::DynamicFrameClass,
        ("pyspark.context" | "pyspark", "SparkContext") => Api::SparkContextClass,
        ("pyspark.sql" | "pyspark.sql.session", "SparkSession") => Api::SparkSessionClass,
        ("pyspark.sql" | "pyspark.sql.window", "Window") => Api::WindowClass,
        _ => return Value::Unknown,
    };
    Value::Api(api)
}

/// Modules whose members the analyser resolves.
pub(crate) fn is_module(path: &str) -> bool {
    matches!(
        path,
        "sys"
            | "awsglue"
            | "awsglue.transforms"
            | "awsglue.utils"
            | "awsglue.context"
            | "awsglue.job"
            | "awsglue.dynamicframe"
            | "pyspark"
            | "pyspark.context"
            | "pyspark.sql"
            | "pyspark.sql.functions"
            | "pyspark.sql.types"
            | "pyspark.sql.window"
            | "pyspark.sql.session"
    )
}

/// Renders a `pyspark.sql.types` class instance as a Spark SQL type name.
pub(crate) fn type_name(class: &str, args: &[Value<'_>]) -> String {
    let simple = match class {
        "StringType" => "string",
        "IntegerType" => "int",
        "LongType" => "bigint",
        "ShortType" => "smallint",
        "ByteType" => "tinyint",
        "DoubleType" => "double",
        "FloatType" => "float",
        "BooleanType" => "boolean",
        "DateType" => "date",
        "TimestampType" => "timestamp",
        "TimestampNTZType" => "timestamp_ntz",
        "BinaryType" => "binary",
        "DecimalType" => {
            let nums: Vec<String> = args
                .iter()
                .filter_map(|a| match a {
                    Value::Int(i) => Some(i.to_string()),
                    _ => None,
                })
                .collect();
            return if nums.is_empty() { "decimal(10,0)".to_owned() } else { format!("decimal({})", nums.join(",")) };
        }
        other => return other.trim_end_matches("Type").to_ascii_lowercase(),
    };
    simple.to_owned()
}
