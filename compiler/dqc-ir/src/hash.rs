//! Content hashes: SHA-256 over a canonical serialization.
//!
//! The canonical form is the contract's JSON with object keys sorted, spans removed, rules
//! sorted by id (ids are unique, and rule order has no meaning) and the hash field itself
//! removed. Comments and formatting never reach the IR, so reformatting a contract does not
//! change its hash; changing any rule, type or property does.

use sha2::{Digest, Sha256};

use crate::Contract;

/// Computes `sha256:<hex>` for a contract, ignoring its spans and current hash.
pub fn content_hash(contract: &Contract) -> String {
    let mut value = serde_json::to_value(contract).unwrap_or(serde_json::Value::Null);
    strip(&mut value);
    if let serde_json::Value::Object(map) = &mut value {
        map.remove("hash");
        if let Some(serde_json::Value::Array(rules)) = map.get_mut("rules") {
            rules.sort_by(|a, b| a.get("id").map(|v| v.to_string()).cmp(&b.get("id").map(|v| v.to_string())));
        }
    }
    // serde_json's Map is a BTreeMap (the preserve_order feature is off), so keys are sorted.
    let canonical = value.to_string();
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A value's JSON without its spans: what it means, whatever its position in the source.
pub fn meaning<T: serde::Serialize>(value: &T) -> serde_json::Value {
    let mut v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    strip(&mut v);
    v
}

/// Removes every `span` key, recursively.
fn strip(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("span");
            map.values_mut().for_each(strip);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

/// The first 8 hex digits of the SHA-256 of `text`; used for ids derived from expressions.
pub fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}
