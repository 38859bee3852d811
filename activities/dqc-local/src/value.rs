//! DuckDB values as JSON.

use duckdb::types::{TimeUnit, Value};
use serde_json::{json, Value as Json};

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian).
pub fn date_from_days(days: i64) -> String {
    // Howard Hinnant's civil-from-days algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

fn timestamp(unit: TimeUnit, v: i64) -> String {
    let micros: i128 = match unit {
        TimeUnit::Second => i128::from(v) * 1_000_000,
        TimeUnit::Millisecond => i128::from(v) * 1_000,
        TimeUnit::Microsecond => i128::from(v),
        TimeUnit::Nanosecond => i128::from(v) / 1_000,
    };
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    let (h, m, s, us) = (rest / 3_600_000_000, rest / 60_000_000 % 60, rest / 1_000_000 % 60, rest % 1_000_000);
    let date = date_from_days(i64::try_from(days).unwrap_or(0));
    if us == 0 {
        format!("{date} {h:02}:{m:02}:{s:02}")
    } else {
        format!("{date} {h:02}:{m:02}:{s:02}.{us:06}")
    }
}

fn float(f: f64) -> Json {
    if f.is_finite() {
        json!(f)
    } else if f.is_nan() {
        json!("NaN")
    } else if f > 0.0 {
        json!("Infinity")
    } else {
        json!("-Infinity")
    }
}

/// Converts one value; non-finite floats become the strings `NaN`, `Infinity`, `-Infinity`.
pub fn to_json(v: Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => json!(b),
        Value::TinyInt(i) => json!(i),
        Value::SmallInt(i) => json!(i),
        Value::Int(i) => json!(i),
        Value::BigInt(i) => json!(i),
        Value::HugeInt(i) => i64::try_from(i).map(|i| json!(i)).unwrap_or_else(|_| json!(i.to_string())),
        Value::UHugeInt(i) => u64::try_from(i).map(|i| json!(i)).unwrap_or_else(|_| json!(i.to_string())),
        Value::UTinyInt(i) => json!(i),
        Value::USmallInt(i) => json!(i),
        Value::UInt(i) => json!(i),
        Value::UBigInt(i) => json!(i),
        Value::Float(f) => float(f64::from(f)),
        Value::Double(f) => float(f),
        Value::Decimal(d) => json!(d.to_string()),
        Value::Timestamp(unit, v) => json!(timestamp(unit, v)),
        Value::Text(s) | Value::Enum(s) => json!(s),
        Value::Blob(b) | Value::Geometry(b) => json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        Value::Date32(d) => json!(date_from_days(i64::from(d))),
        Value::List(items) | Value::Array(items) => Json::Array(items.into_iter().map(to_json).collect()),
        Value::Struct(fields) => Json::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v.clone()))).collect()),
        Value::Union(inner) => to_json(*inner),
        other => json!(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_days() {
        assert_eq!(date_from_days(0), "1970-01-01");
        assert_eq!(date_from_days(19_782), "2024-02-29");
        assert_eq!(date_from_days(-1), "1969-12-31");
        assert_eq!(timestamp(TimeUnit::Microsecond, 1_500_000), "1970-01-01 00:00:01.500000");
    }
}
