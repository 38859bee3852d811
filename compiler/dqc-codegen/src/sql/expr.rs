//! IR expressions and values as SQL text, through a dialect.
//!
//! Every sub-expression is parenthesized where precedence could matter, so the printed SQL
//! means exactly the IR tree on every engine.

use dqc_ir::{BinaryOp, CmpOp, Expr, ExprKind, Function, Type, UnaryOp, Value};

use super::dialect::Dialect;

/// A number literal: as written when DECIMAL(38) holds it on every engine, otherwise in
/// exponent notation, which every engine reads as a DOUBLE (`1e300`, not 301 digits that no
/// engine's exact numeric type can hold).
pub fn number(n: &str) -> String {
    let digits = n.bytes().filter(u8::is_ascii_digit).count();
    match n.parse::<f64>() {
        Ok(f) if digits > 38 && f.is_finite() => format!("{f:e}"),
        _ => n.to_string(),
    }
}

/// A value as a typed SQL literal.
pub fn value(d: &dyn Dialect, v: &Value) -> String {
    match v {
        Value::Number(n) => number(n),
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
        (Value::Number(n), Type::Float | Type::Double) => format!("CAST({} AS DOUBLE)", number(n)),
        (Value::Date(s), Type::Timestamp) => format!("TIMESTAMP {}", d.string_literal(&format!("{s} 00:00:00"))),
        // Against an instant, a written timestamp or date is UTC.
        (Value::Timestamp(s), Type::TimestampTz) => d.instant_literal(s),
        (Value::Date(s), Type::TimestampTz) => d.instant_literal(&format!("{s} 00:00:00")),
        _ => value(d, v),
    }
}

/// An expression as SQL.
pub fn expr(d: &dyn Dialect, e: &Expr) -> String {
    match &e.kind {
        ExprKind::Column { name } => d.quote_ident(name),
        ExprKind::Literal { value: v } => value(d, v),
        ExprKind::Unary { op: UnaryOp::Not, operand } => format!("(NOT {})", expr(d, operand)),
        ExprKind::Unary { op: UnaryOp::Neg, operand } if neg_is_arithmetic(operand) => {
            let (zero, x) = widened(d, "0", &expr(d, operand), e.ty.as_ref());
            d.try_arithmetic("-", &zero, &x)
        }
        ExprKind::Unary { op: UnaryOp::Neg, operand } => format!("(- {})", expr(d, operand)),
        ExprKind::Binary { op, left, right } => binary(d, *op, left, right, e.ty.as_ref()),
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

/// Both operands in the result's integer type: engines compute `tinyint + 1` in the narrow
/// type (DuckDB) or widen it (Spark, Trino), and overflow where the others do not.
fn widened(d: &dyn Dialect, l: &str, r: &str, ty: Option<&Type>) -> (String, String) {
    match ty.filter(|t| t.is_integer()) {
        Some(t) => {
            let t = d.cast_type(t);
            (format!("CAST({l} AS {t})"), format!("CAST({r} AS {t})"))
        }
        None => (l.to_string(), r.to_string()),
    }
}

fn binary(d: &dyn Dialect, op: BinaryOp, left: &Expr, right: &Expr, ty: Option<&Type>) -> String {
    let (l, r) = (expr(d, left), expr(d, right));
    match op {
        // Division is in double on every engine (Trino would truncate integer division), and
        // by zero it is NULL everywhere (Spark's reading; DuckDB and Trino would give inf/NaN).
        BinaryOp::Div => format!("(CAST({l} AS DOUBLE) / NULLIF(CAST({r} AS DOUBLE), 0))"),
        BinaryOp::Or => format!("({l} OR {r})"),
        BinaryOp::And => format!("({l} AND {r})"),
        BinaryOp::Cmp(c) => format!("({l} {} {r})", cmp(c)),
        BinaryOp::Concat => format!("({l} || {r})"),
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul if exact(left) && exact(right) => {
            let (l, r) = widened(d, &l, &r, ty);
            d.try_arithmetic(arithmetic_op(op), &l, &r)
        }
        BinaryOp::Add => format!("({l} + {r})"),
        BinaryOp::Sub => format!("({l} - {r})"),
        BinaryOp::Mul => format!("({l} * {r})"),
        // A remainder by zero is NULL everywhere (DuckDB would fail or give NaN).
        BinaryOp::Mod => format!("({l} % NULLIF({r}, 0))"),
    }
}

/// Whether an expression is an integer or a decimal: its arithmetic can overflow.
fn exact(e: &Expr) -> bool {
    e.ty.as_ref().is_some_and(|t| t.is_integer() || matches!(t, Type::Decimal { .. }))
}

fn arithmetic_op(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        _ => "*",
    }
}

/// Whether `e` is an integer or decimal `+`, `-`, `*` or negation, written with
/// [`Dialect::try_arithmetic`].
fn is_arithmetic(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Binary { op: BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, left, right } => {
            exact(left) && exact(right)
        }
        ExprKind::Unary { op: UnaryOp::Neg, operand } => neg_is_arithmetic(operand),
        _ => false,
    }
}

/// A negated literal is a constant, not an operation.
fn neg_is_arithmetic(operand: &Expr) -> bool {
    exact(operand) && !matches!(operand.kind, ExprKind::Literal { .. })
}

/// The conditions under which integer or decimal arithmetic in `e` overflowed: for each
/// maximal arithmetic subtree, its operands are not NULL but its value is (the operations give
/// NULL on overflow and NULL only on overflow or a NULL operand). `CASE` arms are left out,
/// since an arm that is not taken may overflow without mattering, and so are the arguments of
/// `coalesce` and `nullif` and the operand of `is null`.
pub fn overflows(d: &dyn Dialect, e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    collect_overflows(d, e, &mut out);
    out
}

fn collect_overflows(d: &dyn Dialect, e: &Expr, out: &mut Vec<String>) {
    // Where a NULL is chosen or tested (`case`, `coalesce`, `nullif`, `is null`), an overflow
    // beneath does not make the check undecided by itself.
    if matches!(
        e.kind,
        ExprKind::Case { .. }
            | ExprKind::IsNull { .. }
            | ExprKind::Call { function: Function::Coalesce | Function::Nullif, .. }
    ) {
        return;
    }
    if !is_arithmetic(e) {
        for child in e.children() {
            collect_overflows(d, child, out);
        }
        return;
    }
    let mut operands = Vec::new();
    arithmetic_operands(e, &mut operands);
    let mut conds: Vec<String> = operands
        .iter()
        .filter(|o| !matches!(&o.kind, ExprKind::Literal { value } if *value != Value::Null))
        .map(|o| format!("{} IS NOT NULL", expr(d, o)))
        .collect();
    conds.push(format!("{} IS NULL", expr(d, e)));
    out.push(format!("({})", conds.join(" AND ")));
    for o in operands {
        collect_overflows(d, o, out);
    }
}

/// The operands at the leaves of an arithmetic subtree.
fn arithmetic_operands<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    if is_arithmetic(e) {
        for child in e.children() {
            arithmetic_operands(child, out);
        }
    } else {
        out.push(e);
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
    let inner = match operand.ty.as_ref() {
        Some(Type::Float | Type::Double) if to.is_integer() => round_double(d, &inner, Digits::Fixed(0)),
        _ if to.is_integer() && fractional => format!("round({inner})"),
        _ => inner,
    };
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
        Function::Floor | Function::Ceil => d.floor_ceil(f.name(), &arg(0), is_floating(args.first())),
        // Case mapping of ASCII letters only: engines map other letters differently
        // (`upper('ß')` is 'SS' on Spark, 'ẞ' on DuckDB and 'ß' on Trino).
        Function::Upper => format!("translate({}, {}, {})", arg(0), d.string_literal(LOWER), d.string_literal(UPPER)),
        Function::Lower => format!("translate({}, {}, {})", arg(0), d.string_literal(UPPER), d.string_literal(LOWER)),
        Function::Round if is_floating(args.first()) => {
            let digits = match args.get(1) {
                None => Digits::Fixed(0),
                Some(e) => integer_literal(e).map_or_else(|| Digits::Computed(expr(d, e)), Digits::Fixed),
            };
            round_double(d, &arg(0), digits)
        }
        Function::Greatest | Function::Least if !d.greatest_propagates_null() => {
            // Trino's meaning: NULL when any argument is NULL.
            let any_null: Vec<String> = a.iter().map(|x| format!("{x} IS NULL")).collect();
            format!("(CASE WHEN {} THEN NULL ELSE {}({}) END)", any_null.join(" OR "), f.name(), a.join(", "))
        }
        _ => format!("{}({})", f.name(), a.join(", ")),
    }
}

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Below this magnitude a double can have a fractional part (2^52).
const FRACTIONAL_LIMIT: &str = "4503599627370496E0";

fn is_floating(e: Option<&Expr>) -> bool {
    e.and_then(|x| x.ty.as_ref()).is_some_and(|t| matches!(t, Type::Float | Type::Double))
}

/// An integer literal, possibly negated.
fn integer_literal(e: &Expr) -> Option<i32> {
    match &e.kind {
        ExprKind::Literal { value: Value::Number(n) } => n.parse().ok(),
        ExprKind::Unary { op: UnaryOp::Neg, operand } => integer_literal(operand).and_then(i32::checked_neg),
        _ => None,
    }
}

/// The number of decimal places a double is rounded to.
enum Digits {
    Fixed(i32),
    Computed(String),
}

/// `round` of a double with one meaning everywhere: the double scaled by a power of ten
/// (one IEEE multiplication or division, exact for the power itself) is rounded half away
/// from zero, then scaled back. NaN, infinities and doubles too large to have a fraction are
/// returned unchanged. Engines' own `round` differs at halves: Spark rounds the shortest
/// decimal representation (`round(1.005, 2)` = 1.01), DuckDB and Trino the binary value (1.0).
fn round_double(d: &dyn Dialect, x: &str, digits: Digits) -> String {
    let (scale, unscale) = match digits {
        Digits::Fixed(0) => (String::new(), String::new()),
        Digits::Fixed(n) if n > 0 => (format!(" * 1E{n}"), format!(" / 1E{n}")),
        Digits::Fixed(n) => (format!(" / 1E{}", n.unsigned_abs()), format!(" * 1E{}", n.unsigned_abs())),
        Digits::Computed(n) => (format!(" * power(10E0, {n})"), format!(" / power(10E0, {n})")),
    };
    let scaled = format!("(abs({x}){scale})");
    format!(
        "(CASE WHEN {nan} OR {scaled} >= {FRACTIONAL_LIMIT} THEN {x} \
         ELSE sign({x}) * (floor({scaled}) + CASE WHEN {scaled} - floor({scaled}) >= 0.5E0 THEN 1 ELSE 0 END){unscale} END)",
        nan = d.is_nan(x),
    )
}
