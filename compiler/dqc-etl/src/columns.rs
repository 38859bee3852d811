//! `pyspark.sql.functions`, Column methods and window specifications,
//! translated into [`ColExpr`]s.

use crate::expr::{ColExpr, ColRef};
use crate::interp::{CallArgs, Interp, Value, WindowSpec};

/// Functions whose string arguments are all column names.
const ALL_COLUMN_ARGS: &[&str] = &[
    "coalesce",
    "greatest",
    "least",
    "concat",
    "array",
    "struct",
    "countDistinct",
    "count_distinct",
    "hash",
    "xxhash64",
    "nvl",
    "nvl2",
    "ifnull",
    "nanvl",
    "map_concat",
    "sum_distinct",
    "datediff",
    "months_between",
    "array_union",
    "array_intersect",
    "array_except",
    "arrays_zip",
    "map_from_arrays",
    "python_udf",
    "atan2",
    "pow",
    "hypot",
    "equal_null",
    "try_divide",
    "corr",
    "covar_pop",
    "covar_samp",
];

/// Functions whose first argument is a literal (a format or separator) and
/// whose later string arguments name columns.
const LITERAL_FIRST: &[&str] = &["concat_ws", "date_trunc", "format_string", "printf", "locate"];

/// Parses a column name as PySpark does: `*`, `q.*`, `q.name` or `name`.
pub(crate) fn col_name(s: &str) -> ColExpr {
    if s == "*" {
        return ColExpr::Star(None);
    }
    if let Some(q) = s.strip_suffix(".*") {
        return ColExpr::Star(Some(q.to_owned()));
    }
    let s = s.trim_matches('`');
    match s.split_once('.') {
        Some((q, n)) if !q.is_empty() && !n.is_empty() => {
            ColExpr::Col(ColRef { frame: None, qualifier: Some(q.to_owned()), name: n.to_owned() })
        }
        _ => ColExpr::col(s),
    }
}

/// A value used where a column is expected: strings are column names.
pub(crate) fn col_of(v: &Value<'_>) -> Option<ColExpr> {
    match v {
        Value::Str(s) => Some(col_name(s)),
        other => crate::interp::to_col(other),
    }
}

/// A value used where a literal or column is expected: strings are literals.
fn lit_of(v: &Value<'_>) -> Option<ColExpr> {
    crate::interp::to_col(v)
}

fn type_of(v: &Value<'_>) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.to_ascii_lowercase()),
        Value::Type(t) => Some(t.clone()),
        _ => None,
    }
}

impl<'a> Interp<'a> {
    /// Calls a function from `pyspark.sql.functions`.
    pub(crate) fn sql_function(&mut self, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let col = match name {
            "col" | "column" => args.pos.first().and_then(col_of),
            "lit" => args.pos.first().and_then(lit_of),
            "expr" => args.pos.first().and_then(Value::as_str).and_then(|s| self.sql_expr(s, args.loc)),
            "broadcast" => return args.pos.first().cloned().unwrap_or(Value::Unknown),
            // A Python UDF: its body is not analysed, but its inputs are.
            "udf" | "pandas_udf" => return Value::SqlFunc("python_udf".to_owned()),
            "when" => match (args.pos.first().and_then(col_of), args.pos.get(1).and_then(lit_of)) {
                (Some(c), Some(v)) => Some(ColExpr::Case { operand: None, branches: vec![(c, v)], otherwise: None }),
                _ => None,
            },
            "desc" | "asc" => {
                args.pos.first().and_then(col_of).map(|c| ColExpr::Sort { expr: Box::new(c), desc: name == "desc" })
            }
            _ => generic_function(name, args),
        };
        col.map_or(Value::Unknown, Value::Column)
    }

    /// Calls a Column method.
    pub(crate) fn column_method(&mut self, c: ColExpr, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let out = predicate_method(&c, name, args)
            .or_else(|| case_method(&c, name, args))
            .unwrap_or_else(|| shape_method(c, name, args));
        out.map_or(Value::Unknown, Value::Column)
    }

    /// `Window.partitionBy(...).orderBy(...)`.
    pub(crate) fn window_method(&mut self, mut w: WindowSpec, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        let cols: Vec<ColExpr> = args.flat_pos().iter().filter_map(col_of).collect();
        match name {
            "partitionBy" => w.partition = cols,
            "orderBy" => w.order = cols,
            _ => {}
        }
        Value::Window(w)
    }
}

/// Any other function: the first string argument names a column, later ones
/// are literals, except for functions that take only columns.
fn generic_function(name: &str, args: &CallArgs<'_>) -> Option<ColExpr> {
    let all_cols = ALL_COLUMN_ARGS.contains(&name);
    let skip_first = LITERAL_FIRST.contains(&name);
    let mut out = Vec::new();
    for (i, v) in args.pos.iter().enumerate() {
        let as_col = all_cols || (i == 0 && !skip_first) || (skip_first && i > 0);
        out.push(if as_col { col_of(v)? } else { lit_of(v)? });
    }
    Some(ColExpr::Func { name: name.to_owned(), args: out })
}

/// `isin`, `isNull`, `between`, `like` and friends; `None` if not one of them.
fn predicate_method(c: &ColExpr, name: &str, args: &CallArgs<'_>) -> Option<Option<ColExpr>> {
    let first = args.pos.first();
    let bx = Box::new(c.clone());
    Some(match name {
        "isin" => args.flat_pos().iter().map(lit_of).collect::<Option<Vec<_>>>().map(|list| ColExpr::InList {
            expr: bx,
            list,
            negated: false,
        }),
        "isNull" | "isNotNull" => Some(ColExpr::IsNull { expr: bx, negated: name == "isNotNull" }),
        "between" => match (first.and_then(lit_of), args.pos.get(1).and_then(lit_of)) {
            (Some(lo), Some(hi)) => {
                Some(ColExpr::Between { expr: bx, low: Box::new(lo), high: Box::new(hi), negated: false })
            }
            _ => None,
        },
        "like" | "rlike" | "ilike" => {
            first.and_then(lit_of).map(|p| ColExpr::binary(&name.to_ascii_uppercase(), c.clone(), p))
        }
        "eqNullSafe" => first.and_then(lit_of).map(|p| ColExpr::binary("<=>", c.clone(), p)),
        _ => return None,
    })
}

/// `when(...)` and `otherwise(...)` on a `CASE` built by `F.when`.
fn case_method(c: &ColExpr, name: &str, args: &CallArgs<'_>) -> Option<Option<ColExpr>> {
    let ColExpr::Case { operand, branches, otherwise } = c else {
        return matches!(name, "when" | "otherwise").then_some(None);
    };
    let first = args.pos.first();
    Some(match name {
        "when" => match (first.and_then(col_of), args.pos.get(1).and_then(lit_of)) {
            (Some(w), Some(t)) => {
                let mut branches = branches.clone();
                branches.push((w, t));
                Some(ColExpr::Case { operand: operand.clone(), branches, otherwise: otherwise.clone() })
            }
            _ => None,
        },
        "otherwise" => first.and_then(lit_of).map(|o| ColExpr::Case {
            operand: operand.clone(),
            branches: branches.clone(),
            otherwise: Some(Box::new(o)),
        }),
        _ => return None,
    })
}

/// `alias`, `cast`, `over`, sort orders and any other method as a function.
fn shape_method(c: ColExpr, name: &str, args: &CallArgs<'_>) -> Option<ColExpr> {
    let first = args.pos.first();
    match name {
        "alias" | "name" | "as_" => {
            first.and_then(Value::as_str).map(|n| ColExpr::Alias { expr: Box::new(c), name: n.to_owned() })
        }
        "cast" | "astype" => first.and_then(type_of).map(|ty| ColExpr::Cast { expr: Box::new(c), ty }),
        "over" => {
            let w = match first {
                Some(Value::Window(w)) => w.clone(),
                _ => WindowSpec::default(),
            };
            Some(ColExpr::Window { func: Box::new(c), partition: w.partition, order: w.order })
        }
        n if n.starts_with("desc") || n.starts_with("asc") => {
            Some(ColExpr::Sort { expr: Box::new(c), desc: n.starts_with("desc") })
        }
        _ => {
            let mut fargs = vec![c];
            fargs.extend(args.pos.iter().filter_map(lit_of));
            Some(ColExpr::Func { name: name.to_owned(), args: fargs })
        }
    }
}
