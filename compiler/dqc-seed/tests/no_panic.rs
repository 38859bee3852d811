//! The importer never panics, its spans stay inside the input, and whatever text it returns
//! parses: over random strings, mutations of the seed's example, and random rule objects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use dqc_diagnostics::FileId;
use proptest::prelude::*;

const SEED: &str = include_str!("fixtures/seed_3_2.json");

fn assert_sane(text: &str) {
    let (out, diags) = dqc_seed::import(text, FileId(0));
    for d in &diags {
        for span in std::iter::once(d.primary.span).chain(d.labels.iter().map(|l| l.span)) {
            let (start, end) = (span.start as usize, span.end as usize);
            assert!(start <= end && end <= text.len(), "{span:?} outside {} bytes: {d:#?}", text.len());
            assert!(text.is_char_boundary(start) && text.is_char_boundary(end), "{span:?} splits a character");
        }
    }
    match out {
        Some(contract) => {
            assert!(dqc_syntax::parse(&contract, FileId(0)).is_ok(), "unparsable import:\n{contract}\nfrom:\n{text}")
        }
        None => assert!(diags.iter().any(|d| d.is_error()), "no text and no error for:\n{text}"),
    }
}

/// Pieces of JSON and of the contract language, to splice into the seed.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "true",
    "-",
    "1e999",
    "0.5",
    "\\",
    "\\u00e9",
    "'",
    "--",
    "//",
    "/*",
    "```",
    "\"type\": \"range\"",
    "\"min\": \"x\"",
    "\"values\": [1, \"a\", null]",
    "\"nullable\": 3",
    "é",
    "\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, len: usize, text: String },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let text = prop_oneof![proptest::sample::select(TOKENS).prop_map(str::to_string), ".{0,6}"];
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), text.clone()).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), 1usize..12, text).prop_map(|(at, len, text)| Mutation::Replace { at, len, text }),
    ]
}

fn apply(chars: &mut Vec<char>, m: &Mutation) {
    let clamp = |at: usize, n: usize| at % (n + 1);
    match m {
        Mutation::Delete { at, len } => {
            let at = clamp(*at, chars.len());
            let end = (at + len).min(chars.len());
            chars.drain(at..end);
        }
        Mutation::Insert { at, text } => {
            let at = clamp(*at, chars.len());
            chars.splice(at..at, text.chars());
        }
        Mutation::Replace { at, len, text } => {
            let at = clamp(*at, chars.len());
            let end = (at + len).min(chars.len());
            chars.splice(at..end, text.chars());
        }
    }
}

const RULE_TYPES: &[&str] = &[
    "not_null",
    "unique",
    "grain_uniqueness",
    "allowed_values",
    "accepted_values",
    "min",
    "max",
    "range",
    "range_soft",
    "length",
    "min_length",
    "max_length",
    "compare",
    "regex",
    "pattern",
    "foreign_key",
    "freshness",
    "row_count",
    "row_count_anomaly",
    "check",
    "check_constraint",
    "bogus",
];

const FIELDS: &[&str] = &[
    "value",
    "values",
    "min",
    "max",
    "min_exclusive",
    "op",
    "column",
    "columns",
    "pattern",
    "ref_table",
    "ref_column",
    "max_age",
    "method",
    "percent",
    "k",
    "window_days",
    "rule",
    "expression",
    "where",
    "severity",
    "stage",
    "id",
    "because",
    "min_pass_percent",
    "keep",
    "grain",
];

const TYPES: &[&str] =
    &["string", "int", "double", "decimal(5,2)", "date", "timestamp", "boolean", "array<int>", "geo"];

/// Random JSON values, nested a little.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e6f64..1e6).prop_map(serde_json::Value::from),
        "[a-z0-9 '\"%:.<>=()_-]{0,12}".prop_map(serde_json::Value::from),
        proptest::sample::select(&["a > 0", "2024-01-01", "26 hours", ">=", "db.t", "pre_load", "warn", "20%"][..])
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(proptest::sample::select(FIELDS).prop_map(str::to_string), inner, 0..3)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn rule_object() -> impl Strategy<Value = serde_json::Value> {
    (
        proptest::sample::select(RULE_TYPES),
        proptest::collection::btree_map(proptest::sample::select(FIELDS).prop_map(str::to_string), json_value(), 0..5),
    )
        .prop_map(|(ty, fields)| {
            let mut obj: serde_json::Map<String, serde_json::Value> = fields.into_iter().collect();
            obj.insert("type".into(), ty.into());
            serde_json::Value::Object(obj)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(256) })]

    #[test]
    fn random_text(text in any::<String>()) {
        assert_sane(&text);
    }

    #[test]
    fn random_json_like_text(text in "[{}\\[\\]\",:a-z0-9 .\\\\-]{0,120}") {
        assert_sane(&text);
    }

    #[test]
    fn mutated_seed(mutations in proptest::collection::vec(mutation(), 1..6)) {
        let mut chars: Vec<char> = SEED.chars().collect();
        for m in &mutations {
            apply(&mut chars, m);
        }
        assert_sane(&chars.into_iter().collect::<String>());
    }

    #[test]
    fn random_rules(
        column in "[a-zA-Z_ \"'-]{1,8}",
        ty in proptest::sample::select(TYPES),
        nullable in any::<bool>(),
        column_rules in proptest::collection::vec(rule_object(), 0..4),
        table_rules in proptest::collection::vec(rule_object(), 0..4),
    ) {
        let json = serde_json::json!({
            "data_quality": {
                "table_name": "db.t",
                "primary_key": [column.clone()],
                "columns": { column: { "type": ty, "nullable": nullable, "rules": column_rules } },
                "table_level_checks": table_rules,
            },
        });
        assert_sane(&json.to_string());
    }
}
