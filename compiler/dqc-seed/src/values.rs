//! Numbers and values in JSON: canonical decimals, and which JSON number a decimal becomes.

/// The canonical decimal form of a number written in JSON or in a numeric string: no
/// exponent, no leading zeros, no trailing fractional zeros, no `-0` (the form the IR keeps).
/// `None` when the text is not a number, or its exponent is absurdly large.
pub(crate) fn canonical_decimal(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (negative, body) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw.strip_prefix('+').unwrap_or(raw)),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (body.get(..i)?, body.get(i + 1..)?.parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part) || exponent.abs() > 400
    {
        return None;
    }
    let mut digits = format!("{int_part}{frac_part}");
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

/// A canonical decimal as JSON: a number when the JSON number reads back as exactly the same
/// decimal, otherwise a string, so no digit is lost to floating point.
pub(crate) fn number_json(canonical: &str) -> serde_json::Value {
    if !canonical.contains('.') {
        if let Ok(i) = canonical.parse::<i64>() {
            return i.into();
        }
        if let Ok(u) = canonical.parse::<u64>() {
            return u.into();
        }
    }
    let exact = canonical
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .filter(|n| canonical_decimal(&n.to_string()).as_deref() == Some(canonical));
    match exact {
        Some(n) => serde_json::Value::Number(n),
        None => serde_json::Value::String(canonical.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_decimals() {
        assert_eq!(canonical_decimal("20000.0").as_deref(), Some("20000"));
        assert_eq!(canonical_decimal(" 007.50 ").as_deref(), Some("7.5"));
        assert_eq!(canonical_decimal("-0.0").as_deref(), Some("0"));
        assert_eq!(canonical_decimal("1e3").as_deref(), Some("1000"));
        assert_eq!(canonical_decimal("1.5E-2").as_deref(), Some("0.015"));
        assert_eq!(canonical_decimal("+4").as_deref(), Some("4"));
        assert_eq!(canonical_decimal(".5").as_deref(), Some("0.5"));
        assert_eq!(canonical_decimal("1e999"), None);
        assert_eq!(canonical_decimal("12a"), None);
        assert_eq!(canonical_decimal("."), None);
        assert_eq!(canonical_decimal(""), None);
    }

    #[test]
    fn numbers_stay_exact_in_json() {
        assert_eq!(number_json("20000"), serde_json::json!(20000));
        assert_eq!(number_json("0.1"), serde_json::json!(0.1));
        assert_eq!(number_json("-12.5"), serde_json::json!(-12.5));
        assert_eq!(number_json("12345678901234567890123"), serde_json::json!("12345678901234567890123"));
        assert_eq!(number_json("0.12345678901234567890123"), serde_json::json!("0.12345678901234567890123"));
    }
}
