//! Type checking of check expressions and `where` filters, lowering them into IR expressions.

use dqc_diagnostics::{did_you_mean, Code, Diagnostic, Span};
use dqc_ir::{BinaryOp, CmpOp, Expr, ExprKind, Function, Type, UnaryOp, Value, When};
use dqc_syntax::ast::{self, BinOp, ExprKind as A, UnOp};

use crate::literal::lower_literal;
use crate::scope::Scope;
use crate::types::lower_type;

/// Checks an expression that must be boolean (a check or a filter).
pub fn check_condition(e: &ast::Expr, scope: &Scope<'_>, what: &str, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
    let lowered = lower(e, scope, diags)?;
    match &lowered.ty {
        Some(Type::Boolean) => Some(lowered),
        None => {
            diags.push(
                Diagnostic::new(Code::NonBooleanCondition, format!("{what} is always `null`"), e.span)
                    .with_primary_label("never true or false")
                    .with_help("a condition that is always NULL never fails and never passes"),
            );
            None
        }
        Some(other) => {
            diags.push(
                Diagnostic::new(Code::NonBooleanCondition, format!("{what} must be boolean, found `{other}`"), e.span)
                    .with_primary_label("not a condition")
                    .with_help("compare the value, for example `... > 0` or `... is not null`"),
            );
            None
        }
    }
}

fn node(kind: ExprKind, ty: Option<Type>, span: Span) -> Expr {
    Expr { kind, ty, span: Some(span) }
}

fn type_error(message: String, span: Span) -> Diagnostic {
    Diagnostic::new(Code::ExpressionTypeError, message, span)
}

fn show(ty: &Option<Type>) -> String {
    match ty {
        Some(t) => format!("`{t}`"),
        None => "`null`".to_string(),
    }
}

/// The type of a number literal: bigint when whole, decimal otherwise.
fn number_type(n: &str) -> Type {
    match n.trim_start_matches('-').split_once('.') {
        None => Type::Bigint,
        Some((i, f)) => {
            let scale = u32::try_from(f.len()).unwrap_or(38).min(38);
            let int_digits = u32::try_from(i.trim_start_matches('0').len()).unwrap_or(38);
            Type::Decimal { precision: (int_digits + scale).clamp(1, 38), scale }
        }
    }
}

fn literal_type(v: &Value) -> Option<Type> {
    match v {
        Value::Number(n) => Some(number_type(n)),
        Value::String(_) => Some(Type::String),
        Value::Bool(_) => Some(Type::Boolean),
        Value::Date(_) => Some(Type::Date),
        Value::Timestamp(_) => Some(Type::Timestamp),
        Value::Null => None,
    }
}

/// An integer or decimal type as (precision, scale); floats have none.
fn as_decimal(t: &Type) -> Option<(u32, u32)> {
    match t {
        Type::Tinyint => Some((3, 0)),
        Type::Smallint => Some((5, 0)),
        Type::Int => Some((10, 0)),
        Type::Bigint => Some((19, 0)),
        Type::Decimal { precision, scale } => Some((*precision, *scale)),
        _ => None,
    }
}

/// The type of `a op b` for numeric operands. Division is always `double`, because Trino
/// divides integers with truncation and Spark and DuckDB do not; backends cast operands so
/// every engine computes the same quotient.
fn arithmetic(op: BinOp, a: &Type, b: &Type) -> Type {
    if matches!(op, BinOp::Div) {
        return Type::Double;
    }
    let (Some((p1, s1)), Some((p2, s2))) = (as_decimal(a), as_decimal(b)) else { return Type::Double };
    if a.is_integer() && b.is_integer() {
        return widest_int(a, b);
    }
    let (precision, scale) = match op {
        BinOp::Mul => (p1 + p2, s1 + s2),
        BinOp::Mod => (p1.max(p2), s1.max(s2)),
        _ => {
            let scale = s1.max(s2);
            ((p1 - s1).max(p2 - s2) + scale + 1, scale)
        }
    };
    Type::Decimal { precision: precision.min(38), scale: scale.min(38) }
}

fn widest_int(a: &Type, b: &Type) -> Type {
    let rank = |t: &Type| match t {
        Type::Tinyint => 0,
        Type::Smallint => 1,
        Type::Int => 2,
        _ => 3,
    };
    if rank(a) >= rank(b) {
        a.clone()
    } else {
        b.clone()
    }
}

/// The type two numeric operands widen to when they must share one (case results, coalesce).
fn numeric_result(a: &Type, b: &Type) -> Type {
    match (as_decimal(a), as_decimal(b)) {
        (Some(_), Some(_)) if a.is_integer() && b.is_integer() => widest_int(a, b),
        (Some((p1, s1)), Some((p2, s2))) => {
            let scale = s1.max(s2);
            Type::Decimal { precision: ((p1 - s1).max(p2 - s2) + scale).min(38), scale }
        }
        _ => Type::Double,
    }
}

/// The common type of values that must be comparable (case results, coalesce arguments).
fn common_type(types: &[Option<Type>]) -> Result<Option<Type>, (Option<Type>, Option<Type>)> {
    let mut acc: Option<Type> = None;
    for t in types.iter().flatten() {
        acc = match acc {
            None => Some(t.clone()),
            Some(a) if a == *t => Some(a),
            Some(a) if a.is_numeric() && t.is_numeric() => Some(numeric_result(&a, t)),
            Some(a) if a.is_string() && t.is_string() => Some(Type::String),
            Some(a) if a.is_temporal() && t.is_temporal() => Some(Type::Timestamp),
            Some(a) => return Err((Some(a), Some(t.clone()))),
        };
    }
    Ok(acc)
}

fn comparable(a: &Option<Type>, b: &Option<Type>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.comparable_with(b),
        _ => true,
    }
}

/// Lowers and type-checks an expression, collecting every problem.
pub fn lower(e: &ast::Expr, scope: &Scope<'_>, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
    match &e.kind {
        A::Paren(inner) => lower(inner, scope, diags),
        A::Column(id) => {
            let (name, ty) = scope.type_of(id, diags)?;
            Some(node(ExprKind::Column { name: name.to_string() }, Some(ty.clone()), e.span))
        }
        A::Literal(lit) => {
            let value = lower_literal(lit, diags)?;
            let ty = literal_type(&value);
            Some(node(ExprKind::Literal { value }, ty, e.span))
        }
        A::Unary(op, inner) => unary(*op, inner, e.span, scope, diags),
        A::Binary(op, l, r) => binary(*op, l, r, e.span, scope, diags),
        A::IsNull { expr, negated } => {
            let operand = lower(expr, scope, diags)?;
            Some(node(ExprKind::IsNull { operand: Box::new(operand), negated: *negated }, Some(Type::Boolean), e.span))
        }
        A::InList { expr, list, negated } => {
            let operand = lower(expr, scope, diags);
            let items: Vec<Option<Expr>> = list.iter().map(|i| lower(i, scope, diags)).collect();
            let operand = operand?;
            let mut out = Vec::new();
            for (item, src) in items.into_iter().zip(list) {
                let item = item?;
                if !comparable(&operand.ty, &item.ty) {
                    diags.push(type_error(
                        format!("cannot compare {} with {} in `in` list", show(&operand.ty), show(&item.ty)),
                        src.span,
                    ));
                    return None;
                }
                out.push(item);
            }
            let kind = ExprKind::InList { operand: Box::new(operand), list: out, negated: *negated };
            Some(node(kind, Some(Type::Boolean), e.span))
        }
        A::Like { expr, pattern, negated } => {
            let operand = lower(expr, scope, diags)?;
            if !operand.ty.as_ref().is_none_or(Type::is_string) {
                diags.push(type_error(format!("`like` needs a string, found {}", show(&operand.ty)), expr.span));
                return None;
            }
            let kind = ExprKind::Like { operand: Box::new(operand), pattern: pattern.value.clone(), negated: *negated };
            Some(node(kind, Some(Type::Boolean), e.span))
        }
        A::Between { expr, low, high, negated } => {
            let (o, l, h) = (lower(expr, scope, diags), lower(low, scope, diags), lower(high, scope, diags));
            let (o, l, h) = (o?, l?, h?);
            for (b, src) in [(&l, low), (&h, high)] {
                if !comparable(&o.ty, &b.ty) {
                    diags.push(type_error(format!("cannot compare {} with {}", show(&o.ty), show(&b.ty)), src.span));
                    return None;
                }
            }
            let kind =
                ExprKind::Between { operand: Box::new(o), low: Box::new(l), high: Box::new(h), negated: *negated };
            Some(node(kind, Some(Type::Boolean), e.span))
        }
        A::Case { operand, whens, otherwise } => {
            case(operand.as_deref(), whens, otherwise.as_deref(), e.span, scope, diags)
        }
        A::Cast(inner, ty) => {
            let operand = lower(inner, scope, diags);
            let to = lower_type(ty, diags)?;
            let operand = operand?;
            if let Some(from) = &operand.ty {
                if !castable(from, &to) {
                    let help = if *from == Type::TimestampTz || to == Type::TimestampTz {
                        "an instant converts by a time zone that engines choose differently; compare instants with each other or bound them in a rule"
                    } else {
                        "casts convert between numbers, strings, booleans and numbers, and dates and timestamps"
                    };
                    diags.push(type_error(format!("cannot cast `{from}` to `{to}`"), e.span).with_help(help));
                    return None;
                }
            }
            Some(node(ExprKind::Cast { operand: Box::new(operand), to: to.clone() }, Some(to), e.span))
        }
        A::Call(name, args) => crate::functions::call(name, args, e.span, scope, diags),
    }
}

/// Casts that mean the same on Athena, DuckDB and Spark.
fn castable(from: &Type, to: &Type) -> bool {
    if from.is_complex() || to.is_complex() {
        return false;
    }
    from == to
        || from.is_string()
        || to.is_string()
        || (from.is_numeric() && to.is_numeric())
        // An instant casts to a date or timestamp by a time zone engines choose differently.
        || (from.is_temporal() && to.is_temporal() && *from != Type::TimestampTz && *to != Type::TimestampTz)
        || (*from == Type::Boolean && to.is_numeric())
        || (from.is_numeric() && *to == Type::Boolean)
}

fn unary(op: UnOp, inner: &ast::Expr, span: Span, scope: &Scope<'_>, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
    let operand = lower(inner, scope, diags)?;
    let (ok, ty, op_ir, need) = match op {
        UnOp::Not => {
            (operand.ty.as_ref().is_none_or(|t| *t == Type::Boolean), Some(Type::Boolean), UnaryOp::Not, "a boolean")
        }
        UnOp::Neg => (operand.ty.as_ref().is_none_or(Type::is_numeric), operand.ty.clone(), UnaryOp::Neg, "a number"),
    };
    if !ok {
        let word = if op == UnOp::Not { "not" } else { "-" };
        diags.push(type_error(format!("`{word}` needs {need}, found {}", show(&operand.ty)), inner.span));
        return None;
    }
    Some(node(ExprKind::Unary { op: op_ir, operand: Box::new(operand) }, ty, span))
}

fn binary(
    op: BinOp,
    l: &ast::Expr,
    r: &ast::Expr,
    span: Span,
    scope: &Scope<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Expr> {
    let (left, right) = (lower(l, scope, diags), lower(r, scope, diags));
    let (left, right) = (left?, right?);
    let (lt, rt) = (&left.ty, &right.ty);
    let (op_ir, ty, ok, need) = match op {
        BinOp::Or | BinOp::And => {
            let is_bool = |t: &Option<Type>| t.as_ref().is_none_or(|t| *t == Type::Boolean);
            let op_ir = if op == BinOp::Or { BinaryOp::Or } else { BinaryOp::And };
            (op_ir, Some(Type::Boolean), is_bool(lt) && is_bool(rt), "booleans")
        }
        BinOp::Cmp(c) => {
            let is_null = |e: &Expr| matches!(e.kind, ExprKind::Literal { value: Value::Null });
            if is_null(&left) || is_null(&right) {
                diags.push(
                    type_error("comparison with `null` is never true".to_string(), span)
                        .with_help("use `is null` or `is not null`"),
                );
                return None;
            }
            (BinaryOp::Cmp(cmp(c)), Some(Type::Boolean), comparable(lt, rt), "comparable values")
        }
        BinOp::Concat => {
            let is_str = |t: &Option<Type>| t.as_ref().is_none_or(Type::is_string);
            (BinaryOp::Concat, Some(Type::String), is_str(lt) && is_str(rt), "strings")
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            let is_num = |t: &Option<Type>| t.as_ref().is_none_or(Type::is_numeric);
            let ty = match (lt, rt) {
                (Some(a), Some(b)) => Some(arithmetic(op, a, b)),
                (Some(a), None) | (None, Some(a)) => Some(a.clone()),
                (None, None) => None,
            };
            let op_ir = match op {
                BinOp::Add => BinaryOp::Add,
                BinOp::Sub => BinaryOp::Sub,
                BinOp::Mul => BinaryOp::Mul,
                BinOp::Div => BinaryOp::Div,
                _ => BinaryOp::Mod,
            };
            (op_ir, ty, is_num(lt) && is_num(rt), "numbers")
        }
    };
    if !ok {
        diags.push(
            type_error(format!("`{}` needs {need}, found {} and {}", op_symbol(op), show(lt), show(rt)), span)
                .with_label(l.span, show(lt))
                .with_label(r.span, show(rt))
                .with_help("convert one side explicitly with `cast(x as type)`"),
        );
        return None;
    }
    Some(node(ExprKind::Binary { op: op_ir, left: Box::new(left), right: Box::new(right) }, ty, span))
}

fn case(
    operand: Option<&ast::Expr>,
    whens: &[(ast::Expr, ast::Expr)],
    otherwise: Option<&ast::Expr>,
    span: Span,
    scope: &Scope<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Expr> {
    let operand = match operand {
        Some(o) => Some(lower(o, scope, diags)?),
        None => None,
    };
    let mut arms = Vec::new();
    let mut failed = false;
    for (cond, result) in whens {
        let (c, r) = (lower(cond, scope, diags), lower(result, scope, diags));
        let (Some(c), Some(r)) = (c, r) else {
            failed = true;
            continue;
        };
        let cond_ok = match &operand {
            Some(o) => comparable(&o.ty, &c.ty),
            None => c.ty.as_ref().is_none_or(|t| *t == Type::Boolean),
        };
        if !cond_ok {
            diags.push(type_error(format!("`when` condition has type {}", show(&c.ty)), cond.span));
            failed = true;
        }
        arms.push(When { condition: c, result: r });
    }
    let otherwise = match otherwise {
        Some(o) => Some(Box::new(lower(o, scope, diags)?)),
        None => None,
    };
    if failed {
        return None;
    }
    let mut types: Vec<Option<Type>> = arms.iter().map(|a| a.result.ty.clone()).collect();
    types.extend(otherwise.iter().map(|o| o.ty.clone()));
    let ty = match common_type(&types) {
        Ok(t) => t,
        Err((a, b)) => {
            diags.push(type_error(format!("`case` results mix {} and {}", show(&a), show(&b)), span));
            return None;
        }
    };
    let kind = ExprKind::Case { operand: operand.map(Box::new), whens: arms, otherwise };
    Some(node(kind, ty, span))
}

/// Resolves the common type of function arguments (coalesce, greatest, least).
pub fn common_of(args: &[Expr], span: Span, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Option<Type>> {
    let types: Vec<Option<Type>> = args.iter().map(|a| a.ty.clone()).collect();
    match common_type(&types) {
        Ok(t) => Some(t),
        Err((a, b)) => {
            diags.push(Diagnostic::new(
                Code::FunctionSignature,
                format!("arguments of `{name}` mix {} and {}", show(&a), show(&b)),
                span,
            ));
            None
        }
    }
}

/// Suggests an allow-listed function for an unknown name.
pub fn unknown_function(name: &ast::Ident) -> Diagnostic {
    let mut d = Diagnostic::new(Code::UnknownFunction, format!("unknown function `{}`", name.name), name.span)
        .with_primary_label("not in the portable function set");
    // An aggregate inside a row-level check: the rule form says it.
    if let Some(f) = dqc_ir::Aggregate::parse(&name.name.to_ascii_lowercase()) {
        return d.with_help(format!(
            "checks are decided row by row; bound an aggregate as a rule of its own, such as `{}(column) between 1 and 10`",
            f.as_str()
        ));
    }
    if let Some(s) = did_you_mean(&name.name, Function::ALL.iter().map(|f| f.name())) {
        d = d.with_help(format!("did you mean `{s}`?"));
    } else {
        d = d.with_help("see `dqc explain E0103` for the functions that mean the same on every engine");
    }
    d
}

fn cmp(c: ast::CmpOp) -> CmpOp {
    match c {
        ast::CmpOp::Eq => CmpOp::Eq,
        ast::CmpOp::Ne => CmpOp::Ne,
        ast::CmpOp::Lt => CmpOp::Lt,
        ast::CmpOp::Le => CmpOp::Le,
        ast::CmpOp::Gt => CmpOp::Gt,
        ast::CmpOp::Ge => CmpOp::Ge,
    }
}

/// Converts a syntax comparison operator to the IR one.
pub fn cmp_op(c: ast::CmpOp) -> CmpOp {
    cmp(c)
}

fn op_symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Or => "or",
        BinOp::And => "and",
        BinOp::Cmp(c) => c.as_str(),
        BinOp::Concat => "||",
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
    }
}
