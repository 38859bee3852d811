//! Row count anomaly rules and durations, which LLMs often describe in words
//! ("should not deviate by more than 20% from a 7-day rolling average").

use dqc_diagnostics::{Code, Diagnostic};
use jsonc_parser::ast::Value;

use crate::json::{Node, Reader};
use crate::values::canonical_decimal;

/// What a sentence says about an anomaly band and window.
#[derive(Debug, Default, PartialEq, Eq)]
struct Described {
    /// `20%` or `3 stddev`.
    band: Option<String>,
    /// The rolling window in days.
    days: Option<u64>,
}

/// A `row_count_anomaly` rule body. The structured fields (`method`, `percent` or `k`,
/// `window_days`) are exact; what they leave out is read from the prose `rule` (or
/// `description`), then defaulted to 20% and 7 days, with a W0904 saying what was assumed.
pub(crate) fn anomaly(r: &mut Reader<'_>, node: &Node<'_>) -> Option<String> {
    let before = r.diags.len();
    let percent = number_field(r, node, &["percent", "threshold_percent"]);
    let k = number_field(r, node, &["k", "std_devs"]);
    let window = node.get("window_days").and_then(|w| match r.opt_count(node, "window_days") {
        Some(0) => {
            r.shape(&w, "the anomaly window must be at least one day", "zero days");
            None
        }
        days => days,
    });
    let band = band(r, node, percent, k);
    if r.failed_since(before) {
        return None;
    }
    if let (Some(band), Some(days)) = (&band, window) {
        return Some(text(band, days));
    }
    let prose_node = node.get_any(&["rule", "description"]);
    let described = prose_node.as_ref().and_then(Node::as_str).map(describe).unwrap_or_default();
    let mut notes = Vec::new();
    let band = band.or(described.band).unwrap_or_else(|| {
        notes.push("no band was given; assumed 20%");
        "20%".to_string()
    });
    let days = window.or(described.days).unwrap_or_else(|| {
        notes.push("no window was given; assumed 7 days");
        7
    });
    let text = text(&band, days);
    let (span, label) = match &prose_node {
        Some(p) => (r.value_span(p), "read from this description"),
        None => (r.anchor(node), "incomplete anomaly rule"),
    };
    let mut d = Diagnostic::new(Code::ImportApproximation, format!("row count anomaly read as `{text}`"), span)
        .with_primary_label(label)
        .with_help("give `method`, `percent` (or `k`) and `window_days` to say it exactly");
    for note in notes {
        d = d.with_note(note);
    }
    r.diags.push(d);
    Some(text)
}

fn text(band: &str, days: u64) -> String {
    let unit = if days == 1 { "day" } else { "days" };
    format!("row_count within {band} of average over {days} {unit}")
}

/// The band from `method` and its parameter; `None` when none is given.
fn band(r: &mut Reader<'_>, node: &Node<'_>, percent: Option<String>, k: Option<String>) -> Option<String> {
    let method = r.opt_string(node, &["method"]);
    let name = method.as_ref().map(|(m, _)| m.trim().to_ascii_lowercase());
    let band = match (name.as_deref(), percent, k) {
        (Some("std_devs" | "stddev" | "std_dev"), _, Some(k)) | (None, None, Some(k)) => format!("{k} stddev"),
        (Some("percent_of_mean" | "percent"), Some(p), _) | (None, Some(p), _) => format!("{p}%"),
        (None, None, None) => return None,
        (Some(m @ ("std_devs" | "stddev" | "std_dev" | "percent_of_mean" | "percent")), ..) => {
            let field = if m.starts_with("percent") { "percent" } else { "k" };
            r.require(node, field);
            return None;
        }
        (Some(_), ..) => {
            if let Some((m, n)) = &method {
                r.shape(n, format!("unknown anomaly method `{m}`"), "expected `percent_of_mean` or `std_devs`");
            }
            return None;
        }
    };
    Some(band)
}

/// A positive number field (a JSON number or a numeric string, `%` allowed).
fn number_field(r: &mut Reader<'_>, node: &Node<'_>, names: &[&str]) -> Option<String> {
    let field = node.get_any(names)?;
    let text = match field.value {
        Value::NumberLit(n) => canonical_decimal(n.value),
        Value::StringLit(s) => canonical_decimal(s.value.trim().trim_end_matches('%')),
        _ => None,
    };
    match text {
        Some(t) if !t.starts_with('-') && t != "0" => Some(t),
        _ => {
            r.wrong_kind(&field, "a positive number");
            None
        }
    }
}

/// Reads a percentage or a number of standard deviations, and a window in days or weeks.
fn describe(text: &str) -> Described {
    let lower = text.to_lowercase();
    let mut out = Described::default();
    let mut rest = lower.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let tail = rest.get(start..).unwrap_or_default();
        let len = number_len(tail);
        let number = tail.get(..len).unwrap_or_default();
        rest = tail.get(len..).unwrap_or_default();
        let after = rest.trim_start_matches([' ', '-']);
        let Some(value) = canonical_decimal(number) else { continue };
        if out.band.is_none() && (after.starts_with('%') || after.starts_with("percent")) {
            out.band = Some(format!("{value}%"));
        } else if out.band.is_none() && ["standard dev", "std", "sigma", "σ"].iter().any(|w| after.starts_with(w)) {
            out.band = Some(format!("{value} stddev"));
        } else if out.days.is_none() && after.starts_with("day") {
            out.days = value.parse().ok().filter(|d| *d > 0);
        } else if out.days.is_none() && after.starts_with("week") {
            out.days = value.parse::<u64>().ok().and_then(|w| w.checked_mul(7)).filter(|d| *d > 0);
        }
    }
    out
}

/// The length of the decimal number at the start of `text` (digits, optionally `.digits`).
fn number_len(text: &str) -> usize {
    let int = text.bytes().take_while(u8::is_ascii_digit).count();
    let rest = text.as_bytes().get(int..).unwrap_or_default();
    match rest {
        [b'.', next, ..] if next.is_ascii_digit() => {
            int + 1 + rest.iter().skip(1).take_while(|b| b.is_ascii_digit()).count()
        }
        _ => int,
    }
}

/// A duration such as `26 hours`, `30min` or `2 weeks`, in the units the contract language
/// has (minutes, hours, days).
pub(crate) fn duration(text: &str) -> Option<String> {
    let text = text.trim().to_ascii_lowercase();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let amount = text.get(..digits)?.parse::<u64>().ok().filter(|n| *n > 0)?;
    let unit = text.get(digits..)?.trim();
    let (amount, unit) = match unit {
        "m" | "min" | "mins" | "minute" | "minutes" => (amount, "minute"),
        "h" | "hr" | "hrs" | "hour" | "hours" => (amount, "hour"),
        "d" | "day" | "days" => (amount, "day"),
        "w" | "week" | "weeks" => (amount.checked_mul(7)?, "day"),
        _ => return None,
    };
    Some(if amount == 1 { format!("1 {unit}") } else { format!("{amount} {unit}s") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(band: &str, days: u64) -> Described {
        Described { band: Some(band.to_string()), days: Some(days) }
    }

    #[test]
    fn reads_the_seed_sentence() {
        let seed = "Row count should not deviate by more than 20% from a 7-day rolling average.";
        assert_eq!(describe(seed), described("20%", 7));
    }

    #[test]
    fn reads_other_phrasings() {
        assert_eq!(describe("within 3 standard deviations of the 2 week mean"), described("3 stddev", 14));
        assert_eq!(describe("±12.5 percent vs 30 days"), described("12.5%", 30));
        assert_eq!(describe("Alert on big swings"), Described::default());
        assert_eq!(describe("over 14 days"), Described { band: None, days: Some(14) });
    }

    #[test]
    fn durations() {
        assert_eq!(duration("26 hours").as_deref(), Some("26 hours"));
        assert_eq!(duration("1 Day").as_deref(), Some("1 day"));
        assert_eq!(duration("30min").as_deref(), Some("30 minutes"));
        assert_eq!(duration("2 weeks").as_deref(), Some("14 days"));
        assert_eq!(duration("0 hours"), None);
        assert_eq!(duration("soon"), None);
        assert_eq!(duration("5 fortnights"), None);
    }
}
