//! DuckDB values as JSON.

use duckdb::types::{TimeUnit, Value};
use serde_json::{json, Value as Json};

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian); out of the calendar's range
/// (years -9999 to 9999), the day number itself.
pub fn date_from_days(days: i64) -> String {
    jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(days))
        .map_or_else(|_| format!("day {days}"), |d| d.to_string())
}

fn timestamp(unit: TimeUnit, v: i64) -> String {
    let micros: i128 = match unit {
        TimeUnit::Second => i128::from(v) * 1_000_000,
        TimeUnit::Millisecond => i128::from(v) * 1_000,
        TimeUnit::Microsecond => i128::from(v),
        TimeUnit::Nanosecond => i128::from(v) / 1_000,
    };
    let Some(ts) = i64::try_from(micros).ok().and_then(|us| jiff::Timestamp::from_microsecond(us).ok()) else {
        return format!("{micros} microseconds after 1970-01-01");
    };
    let at = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    if at.subsec_nanosecond() == 0 {
        at.strftime("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        at.strftime("%Y-%m-%d %H:%M:%S%.6f").to_string()
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
        // Widening a REAL to a double shows its binary noise (12.65858 becomes
        // 12.658579999999999); the shortest decimal that reads back to the same REAL does not.
        Value::Float(f) => float(f.to_string().parse::<f64>().unwrap_or(f64::from(f))),
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
        assert_eq!(to_json(Value::Float(12.65858)), json!(12.65858));
        assert_eq!(to_json(Value::Double(0.1 + 0.2)), json!(0.30000000000000004));
        assert_eq!(timestamp(TimeUnit::Microsecond, 1_500_000), "1970-01-01 00:00:01.500000");
    }
}
