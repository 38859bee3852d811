//! IR expressions and values as SQL text, through a dialect.
//!
//! Every sub-expression is parenthesized where precedence could matter, so the printed SQL
//! means exactly the IR tree on every engine.

use dqc_ir::{BinaryOp, CmpOp, Expr, ExprKind, Function, Type, UnaryOp, Value};

use super::dialect::Dialect;

/// A value as a typed SQL literal.
pub fn value(d: &dyn Dialect, v: &Value) -> String {
    match v {
        Value::Number(n) => n.clone(),
        Value::String(s) => d.string_literal(s),
        Value::Bool(true) => "TRUE".to_string(),
        Value::Bool(false) => "FALSE".to_string(),
        Value::Date(s) => format!("DATE {}", d.string_literal(s)),
        Value::Timestamp(s) => format!("TIMESTAMP {}", d.string_literal(s)),
        Value::Null => "NULL".to_string(),
    }
}

/// A value compared with a column of type `ty`: decimal literals compared with floating-point
/// columns are written as doubles, so every engine compares in the same domain.
pub fn value_for(d: &dyn Dialect, v: &Value, ty: &Type) -> String {
    match (v, ty) {
        (Value::Number(n), Type::Float | Type::Double) => format!("CAST({n} AS DOUBLE)"),
        (Value::Date(s), Type::Timestamp) => format!("TIMESTAMP {}", d.string_literal(&format!("{s} 00:00:00"))),
        _ => value(d, v),
    }
}

/// An expression as SQL.
pub fn expr(d: &dyn Dialect, e: &Expr) -> String {
    match &e.kind {
        ExprKind::Column { name } => d.quote_ident(name),
        ExprKind::Literal { value: v } => value(d, v),
        ExprKind::Unary { op: UnaryOp::Not, operand } => format!("(NOT {})", expr(d, operand)),
        ExprKind::Unary { op: UnaryOp::Neg, operand } => format!("(- {})", expr(d, operand)),
        ExprKind::Binary { op, left, right } => binary(d, *op, left, right),
        ExprKind::IsNull { operand, negated } => {
            format!("({} IS {}NULL)", expr(d, operand), if *negated { "NOT " } else { "" })
        }
        ExprKind::InList { operand, list, negated } => {
            let items: Vec<String> = list.iter().map(|i| expr(d, i)).collect();
            format!("({} {}IN ({}))", expr(d, operand), if *negated { "NOT " } else { "" }, items.join(", "))
        }
        ExprKind::Like { operand, pattern, negated } => {
            let like = d.like(&expr(d, operand), pattern);
            if *negated {
                format!("(NOT ({like}))")
            } else {
                format!("({like})")
            }
        }
        ExprKind::Between { operand, low, high, negated } => format!(
            "({} {}BETWEEN {} AND {})",
            expr(d, operand),
            if *negated { "NOT " } else { "" },
            expr(d, low),
            expr(d, high)
        ),
        ExprKind::Case { operand, whens, otherwise } => {
            let mut s = "(CASE".to_string();
            if let Some(o) = operand {
                s.push_str(&format!(" {}", expr(d, o)));
            }
            for w in whens {
                s.push_str(&format!(" WHEN {} THEN {}", expr(d, &w.condition), expr(d, &w.result)));
            }
            if let Some(o) = otherwise {
                s.push_str(&format!(" ELSE {}", expr(d, o)));
            }
            s.push_str(" END)");
            s
        }
        ExprKind::Cast { operand, to } => cast(d, operand, to),
        ExprKind::Call { function, args } => call(d, *function, args),
    }
}

fn binary(d: &dyn Dialect, op: BinaryOp, left: &Expr, right: &Expr) -> String {
    let (l, r) = (expr(d, left), expr(d, right));
    match op {
        // Division is in double on every engine (Trino would truncate integer division), and
        // by zero it is NULL everywhere (Spark's reading; DuckDB and Trino would give inf/NaN).
        BinaryOp::Div => format!("(CAST({l} AS DOUBLE) / NULLIF(CAST({r} AS DOUBLE), 0))"),
        BinaryOp::Or => format!("({l} OR {r})"),
        BinaryOp::And => format!("({l} AND {r})"),
        BinaryOp::Cmp(c) => format!("({l} {} {r})", cmp(c)),
        BinaryOp::Concat => format!("({l} || {r})"),
        BinaryOp::Add => format!("({l} + {r})"),
        BinaryOp::Sub => format!("({l} - {r})"),
        BinaryOp::Mul => format!("({l} * {r})"),
        // A remainder by zero is NULL everywhere (DuckDB would fail or give NaN).
        BinaryOp::Mod => format!("({l} % NULLIF({r}, 0))"),
    }
}

/// The SQL spelling of a comparison.
pub fn cmp(c: CmpOp) -> &'static str {
    c.as_sql()
}

/// A cast with one meaning everywhere: a value that does not convert is NULL, and a
/// fractional number cast to an integer is rounded half away from zero (engines' own casts
/// truncate, round half to even or round half up).
fn cast(d: &dyn Dialect, operand: &Expr, to: &Type) -> String {
    let inner = expr(d, operand);
    let fractional = operand.ty.as_ref().is_some_and(|t| t.is_numeric() && !t.is_integer());
    let inner = if to.is_integer() && fractional { format!("round({inner})") } else { inner };
    d.try_cast(&inner, &d.cast_type(to))
}

fn call(d: &dyn Dialect, f: Function, args: &[Expr]) -> String {
    let a: Vec<String> = args.iter().map(|x| expr(d, x)).collect();
    let arg = |i: usize| a.get(i).cloned().unwrap_or_else(|| "NULL".to_string());
    let unit = || match args.first().map(|x| &x.kind) {
        Some(ExprKind::Literal { value: Value::String(u) }) => u.clone(),
        _ => "day".to_string(),
    };
    match f {
        Function::Length => d.char_length(&arg(0)),
        Function::DateTrunc => d.date_trunc(&unit(), &arg(1)),
        Function::DateDiff => d.days_between(&arg(1), &arg(2)),
        // Engines disagree on a start below 1; it gives NULL everywhere.
        Function::Substr => {
            let rest: Vec<String> = a.iter().skip(1).cloned().collect();
            format!("(CASE WHEN {} >= 1 THEN substr({}, {}) END)", arg(1), arg(0), rest.join(", "))
        }
        Function::Floor | Function::Ceil => {
            let is_float =
                args.first().and_then(|x| x.ty.as_ref()).is_some_and(|t| matches!(t, Type::Float | Type::Double));
            d.floor_ceil(f.name(), &arg(0), is_float)
        }
        Function::Greatest | Function::Least if !d.greatest_propagates_null() => {
            // Trino's meaning: NULL when any argument is NULL.
            let any_null: Vec<String> = a.iter().map(|x| format!("{x} IS NULL")).collect();
            format!("(CASE WHEN {} THEN NULL ELSE {}({}) END)", any_null.join(" OR "), f.name(), a.join(", "))
        }
        _ => format!("{}({})", f.name(), a.join(", ")),
    }
}
