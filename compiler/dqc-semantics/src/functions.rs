//! Signatures of the allow-listed functions.

use dqc_diagnostics::{Code, Diagnostic, Span};
use dqc_ir::{Expr, ExprKind, Function, Type, Value};
use dqc_syntax::ast;

use crate::expr::{common_of, lower, unknown_function};
use crate::scope::Scope;

/// Units accepted by `date_trunc` and `date_diff` on every engine.
const DATE_UNITS: &[&str] = &["second", "minute", "hour", "day", "week", "month", "quarter", "year"];

/// What an argument must be.
#[derive(Clone, Copy, PartialEq)]
enum Arg {
    Str,
    Num,
    Int,
    Temporal,
    Unit,
    DayUnit,
}

impl Arg {
    fn accepts(self, e: &Expr) -> bool {
        let Some(t) = &e.ty else { return !matches!(self, Arg::Unit | Arg::DayUnit) };
        match self {
            Arg::Str => t.is_string(),
            Arg::Num => t.is_numeric(),
            Arg::Int => t.is_integer(),
            // An instant's date parts depend on a time zone that engines choose differently.
            Arg::Temporal => t.is_temporal() && *t != Type::TimestampTz,
            Arg::Unit => {
                matches!(&e.kind, ExprKind::Literal { value: Value::String(u) } if DATE_UNITS.contains(&u.as_str()))
            }
            Arg::DayUnit => matches!(&e.kind, ExprKind::Literal { value: Value::String(u) } if u == "day"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Arg::Str => "a string",
            Arg::Num => "a number",
            Arg::Int => "an integer",
            Arg::Temporal => "a date or timestamp (not a timestamptz: compare an instant, or bound it in a rule)",
            Arg::Unit => "a unit literal ('second', 'minute', 'hour', 'day', 'week', 'month', 'quarter' or 'year')",
            // Engines count other units differently (whole units against boundaries crossed).
            Arg::DayUnit => "the unit literal 'day' (the only unit all engines count alike)",
        }
    }
}

fn signature(f: Function) -> (&'static [Arg], usize) {
    use Arg::*;
    // (parameters, number of required parameters); variadic functions are handled apart.
    match f {
        Function::Lower | Function::Upper | Function::Trim | Function::Ltrim | Function::Rtrim | Function::Length => {
            (&[Str], 1)
        }
        Function::Substr => (&[Str, Int, Int], 2),
        Function::Abs | Function::Floor | Function::Ceil => (&[Num], 1),
        Function::Round => (&[Num, Int], 1),
        Function::DateTrunc => (&[Unit, Temporal], 2),
        Function::DateDiff => (&[DayUnit, Temporal, Temporal], 3),
        Function::Year | Function::Month | Function::Day => (&[Temporal], 1),
        Function::Coalesce | Function::Nullif | Function::Greatest | Function::Least => (&[], 0),
    }
}

/// Type-checks a call to an allow-listed function.
pub fn call(
    name: &ast::Ident,
    args: &[ast::Expr],
    span: Span,
    scope: &Scope<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Expr> {
    let lowered: Vec<Option<Expr>> = args.iter().map(|a| lower(a, scope, diags)).collect();
    let Some(function) = Function::lookup(&name.name) else {
        diags.push(unknown_function(name));
        return None;
    };
    let lowered: Vec<Expr> = lowered.into_iter().collect::<Option<_>>()?;
    let fname = function.name();
    let wrong = |msg: String| Diagnostic::new(Code::FunctionSignature, msg, span);
    let ty = match function {
        Function::Coalesce | Function::Greatest | Function::Least => {
            if lowered.len() < 2 {
                diags.push(wrong(format!("`{fname}` takes at least 2 arguments, found {}", lowered.len())));
                return None;
            }
            common_of(&lowered, span, fname, diags)?
        }
        Function::Nullif => {
            if lowered.len() != 2 {
                diags.push(wrong(format!("`nullif` takes 2 arguments, found {}", lowered.len())));
                return None;
            }
            common_of(&lowered, span, fname, diags)?;
            lowered.first().and_then(|a| a.ty.clone())
        }
        _ => {
            let (params, required) = signature(function);
            if lowered.len() < required || lowered.len() > params.len() {
                let expected = if required == params.len() {
                    format!("{required}")
                } else {
                    format!("{required} to {}", params.len())
                };
                diags.push(wrong(format!("`{fname}` takes {expected} argument(s), found {}", lowered.len())));
                return None;
            }
            for ((arg, param), src) in lowered.iter().zip(params).zip(args) {
                if !param.accepts(arg) {
                    diags.push(
                        Diagnostic::new(
                            Code::FunctionSignature,
                            format!("`{fname}` expects {} here", param.describe()),
                            src.span,
                        )
                        .with_primary_label(match &arg.ty {
                            Some(t) => format!("found `{t}`"),
                            None => "found `null`".to_string(),
                        }),
                    );
                    return None;
                }
            }
            result_type(function, &lowered)
        }
    };
    Some(Expr { kind: ExprKind::Call { function, args: lowered }, ty, span: Some(span) })
}

fn result_type(f: Function, args: &[Expr]) -> Option<Type> {
    let first = args.first().and_then(|a| a.ty.clone());
    match f {
        Function::Lower | Function::Upper | Function::Trim | Function::Ltrim | Function::Rtrim | Function::Substr => {
            Some(Type::String)
        }
        Function::Length | Function::DateDiff | Function::Year | Function::Month | Function::Day => Some(Type::Bigint),
        Function::DateTrunc => args.get(1).and_then(|a| a.ty.clone()),
        _ => first,
    }
}
