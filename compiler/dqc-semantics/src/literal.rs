//! Literals: canonical numbers, calendar-checked dates and timestamps, and typing literals
//! against column types.

use dqc_diagnostics::{Code, Diagnostic, Span};
use dqc_ir::{Type, Value};
use dqc_syntax::ast::{Literal, LiteralKind};

/// Canonical decimal form of a number literal: no exponent, no leading zeros, no trailing
/// fractional zeros, no `-0`. `None` when the exponent is absurdly large.
pub fn canonical_number(raw: &str) -> Option<String> {
    let (negative, body) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
        None => (body, 0),
    };
    if exponent.abs() > 400 {
        return None;
    }
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{int_part}{frac_part}");
    // Position of the decimal point within `digits`.
    let mut point = i64::try_from(int_part.len()).ok()? + exponent;
    if point < 0 {
        digits = format!("{}{digits}", "0".repeat(usize::try_from(-point).ok()?));
        point = 0;
    }
    let point = usize::try_from(point).ok()?;
    if point > digits.len() {
        digits.push_str(&"0".repeat(point - digits.len()));
    }
    let (i, f) = digits.split_at(point);
    let i = i.trim_start_matches('0');
    let f = f.trim_end_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let mut out = String::new();
    if negative && !(i == "0" && f.is_empty()) {
        out.push('-');
    }
    out.push_str(i);
    if !f.is_empty() {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

/// Approximate value of a canonical number, for ordering checks.
pub fn number_value(canonical: &str) -> f64 {
    canonical.parse().unwrap_or(f64::NAN)
}

/// Digits before and after the point of a canonical number.
fn digit_counts(canonical: &str) -> (usize, usize) {
    let body = canonical.trim_start_matches('-');
    let (i, f) = body.split_once('.').unwrap_or((body, ""));
    let i = if i == "0" { 0 } else { i.len() };
    (i, f.len())
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Validates `YYYY-MM-DD` against the calendar.
pub fn valid_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return false };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Validates and normalizes `YYYY-MM-DD[ T]HH:MM[:SS[.fraction]]` to `YYYY-MM-DD HH:MM:SS[.fraction]`.
pub fn normalize_timestamp(text: &str) -> Option<String> {
    let (date, time) = text.split_once([' ', 'T'])?;
    if !valid_date(date) {
        return None;
    }
    let (hms, frac) = match time.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (time, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (*h, *m, "00"),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let field = |t: &str, max: u32| t.len() == 2 && t.parse::<u32>().is_ok_and(|v| v <= max);
    if !(field(h, 23) && field(m, 59) && field(s, 59)) {
        return None;
    }
    match frac {
        Some(f) if f.is_empty() || f.len() > 9 || !f.chars().all(|c| c.is_ascii_digit()) => None,
        Some(f) => Some(format!("{date} {h}:{m}:{s}.{f}")),
        None => Some(format!("{date} {h}:{m}:{s}")),
    }
}

/// Turns a literal into a value without a target type; reports malformed dates and numbers.
pub fn lower_literal(lit: &Literal, diags: &mut Vec<Diagnostic>) -> Option<Value> {
    let bad =
        |what: &str, text: &str| Diagnostic::new(Code::InvalidLiteral, format!("invalid {what} `{text}`"), lit.span);
    match &lit.kind {
        LiteralKind::Number(raw) => match canonical_number(raw) {
            Some(n) if n.parse::<f64>().is_ok_and(f64::is_infinite) => {
                diags.push(
                    bad("number", raw)
                        .with_primary_label("beyond the range of a double (about 1.8e308)")
                        .with_help("no engine can compare with this number; use a smaller bound"),
                );
                None
            }
            Some(n) => Some(Value::Number(n)),
            None => {
                diags.push(bad("number", raw).with_primary_label("too large to represent"));
                None
            }
        },
        LiteralKind::String(s) => Some(Value::String(s.clone())),
        LiteralKind::Bool(b) => Some(Value::Bool(*b)),
        LiteralKind::Null => Some(Value::Null),
        LiteralKind::Date(d) => {
            if valid_date(d) {
                Some(Value::Date(d.clone()))
            } else {
                diags.push(bad("date", d).with_help("dates are written `date 'YYYY-MM-DD'` and must exist"));
                None
            }
        }
        LiteralKind::Timestamp(t) => match normalize_timestamp(t) {
            Some(ts) => Some(Value::Timestamp(ts)),
            None => {
                diags.push(
                    bad("timestamp", t).with_help("timestamps are written `timestamp 'YYYY-MM-DD HH:MM:SS[.fff]'`"),
                );
                None
            }
        },
    }
}

/// A short name of a value's kind, for messages.
pub fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Bool(_) => "a boolean",
        Value::Date(_) => "a date",
        Value::Timestamp(_) => "a timestamp",
        Value::Null => "null",
    }
}

/// Checks that `value` can be compared with a column of type `ty` (E0202), and, when `exact`
/// (allowed values), that it can be a value of the type (E0207).
pub fn check_value_for_type(
    value: Value,
    ty: &Type,
    column: &str,
    span: Span,
    exact: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let compatible = match &value {
        Value::Number(_) => ty.is_numeric(),
        Value::String(_) => ty.is_string(),
        Value::Bool(_) => *ty == Type::Boolean,
        Value::Date(_) => ty.is_temporal(),
        Value::Timestamp(_) => matches!(ty, Type::Timestamp | Type::TimestampTz),
        Value::Null => false,
    };
    if !compatible {
        let mut d = Diagnostic::new(
            Code::LiteralTypeMismatch,
            format!("{} cannot be compared with column `{column}` of type `{ty}`", value_kind(&value)),
            span,
        )
        .with_primary_label(format!("expected {}", expected_literal(ty)));
        if value == Value::Null {
            d = d.with_help("use `not null` rules or `is null` in a check expression for NULL");
        }
        diags.push(d);
        return None;
    }
    if let Some(reason) = out_of_range(&value, ty, exact) {
        diags.push(
            Diagnostic::new(
                Code::LiteralOutOfRange,
                format!("{} is not a possible value of column `{column}` of type `{ty}`", show(&value)),
                span,
            )
            .with_primary_label(reason),
        );
        return None;
    }
    Some(value)
}

fn show(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) => format!("'{s}'"),
        other => format!("`{other:?}`"),
    }
}

fn expected_literal(ty: &Type) -> &'static str {
    if ty.is_numeric() {
        "a number"
    } else if ty.is_string() {
        "a string in single quotes"
    } else if *ty == Type::Date {
        "a date literal such as `date '2024-01-31'`"
    } else if *ty == Type::Timestamp {
        "a timestamp literal such as `timestamp '2024-01-31 06:00:00'`"
    } else if *ty == Type::TimestampTz {
        "a timestamp literal in UTC such as `timestamp '2024-01-31 06:00:00'`"
    } else if *ty == Type::Boolean {
        "`true` or `false`"
    } else {
        "no literal: rules on arrays and structs are limited to `not null`"
    }
}

fn out_of_range(value: &Value, ty: &Type, exact: bool) -> Option<String> {
    match (value, ty) {
        (Value::Number(n), t) if t.is_integer() => {
            let (lo, hi) = t.integer_range()?;
            let (_, frac) = digit_counts(n);
            if exact && frac > 0 {
                return Some(format!("`{t}` holds whole numbers only"));
            }
            let whole = n.split('.').next().unwrap_or("0").parse::<i128>().ok();
            match whole {
                Some(v) if v >= lo && v <= hi => None,
                _ => Some(format!("`{t}` holds {lo}..={hi}")),
            }
        }
        (Value::Number(n), Type::Decimal { precision, scale }) => {
            let (int_digits, frac_digits) = digit_counts(n);
            let max_int = precision.saturating_sub(*scale) as usize;
            if int_digits > max_int {
                Some(format!("`{ty}` holds at most {max_int} digits before the point"))
            } else if exact && frac_digits > *scale as usize {
                Some(format!("`{ty}` holds at most {scale} digits after the point"))
            } else {
                None
            }
        }
        (Value::String(s), Type::Varchar { length }) | (Value::String(s), Type::Char { length })
            if exact && s.chars().count() > *length as usize =>
        {
            Some(format!("{} characters do not fit `{ty}`", s.chars().count()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numbers() {
        assert_eq!(canonical_number("20000.0").as_deref(), Some("20000"));
        assert_eq!(canonical_number("007.50").as_deref(), Some("7.5"));
        assert_eq!(canonical_number("-0.0").as_deref(), Some("0"));
        assert_eq!(canonical_number("1e3").as_deref(), Some("1000"));
        assert_eq!(canonical_number("1.5E-2").as_deref(), Some("0.015"));
        assert_eq!(canonical_number("-12e-1").as_deref(), Some("-1.2"));
        assert_eq!(canonical_number("1e999"), None);
    }

    #[test]
    fn dates_and_timestamps() {
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2023-02-29"));
        assert!(!valid_date("2024-13-01"));
        assert_eq!(normalize_timestamp("2024-01-01T06:00").as_deref(), Some("2024-01-01 06:00:00"));
        assert_eq!(normalize_timestamp("2024-01-01 23:59:59.123").as_deref(), Some("2024-01-01 23:59:59.123"));
        assert_eq!(normalize_timestamp("2024-01-01 24:00:00"), None);
    }
}
