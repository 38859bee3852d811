//! Bounded property tests: random and mutated contracts and JSON never make the parser,
//! checker, formatter, importer or renderer panic, and whatever parses formats into text that
//! parses again to the same contracts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use dqc_compiler::diagnostics::FileId;
use dqc_compiler::Source;
use dqc_tests::{case_sources, cases};
use proptest::prelude::*;

/// Tokens that often appear in contracts, so random input reaches deep into the grammar.
const TOKENS: &[&str] = &[
    "contract ",
    "db.t ",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    "columns ",
    "rules ",
    "not null ",
    "unique ",
    "in ",
    "between ",
    "and ",
    "or ",
    "check ",
    "where ",
    "severity warn ",
    "stage pre_load ",
    "because 'x' ",
    "x ",
    "y ",
    "bigint",
    "string",
    "decimal(12, 2)",
    "date '2024-01-01'",
    "'a'",
    "1",
    "-1.5",
    "1e9",
    ">= ",
    "< ",
    "matches '^a+$' ",
    "references db.t (x) ",
    "freshness x within 1 hours ",
    "row_count ",
    "within 20% of average over 7 days ",
    "length(x) ",
    "case when x then 1 else 2 end ",
    "cast(x as int) ",
    "lower(x) ",
    "-- c\n",
    "\n",
    " ",
    "\"q\"\"i\" ",
    "at least 99% ",
    "keep first by x desc ",
    "||",
    "%",
    "é",
    "\u{0}",
    "'",
    "\"",
];

fn ok_inputs() -> Vec<String> {
    cases("ok").iter().flat_map(|d| case_sources(d)).filter(|s| !s.is_catalog_snapshot()).map(|s| s.text).collect()
}

fn exercise(text: &str) {
    let sources = vec![Source::new("fuzz.dqc", text.to_string())];
    let checked = dqc_compiler::check(&sources);
    // Rendering must cope with every span the checker produces.
    let _ = dqc_cli::render::human(&checked.diagnostics, &sources, false);
    let _ = dqc_cli::render::json(&checked.diagnostics, &sources);
    if let Ok(formatted) = dqc_compiler::format(text) {
        let again = dqc_compiler::format(&formatted);
        assert_eq!(again.as_deref(), Ok(formatted.as_str()), "formatting is not idempotent for {text:?}");
        let re = dqc_compiler::check(&[Source::new("fuzz.dqc", formatted.clone())]);
        let hashes = |c: &dqc_compiler::Checked| c.project.contracts.iter().map(|c| c.hash.clone()).collect::<Vec<_>>();
        assert_eq!(hashes(&re), hashes(&checked), "formatting changed meaning:\n{text}\n---\n{formatted}");
    }
}

fn mutate(base: &str, cut: (usize, usize), insert: &str, at: usize) -> String {
    let chars: Vec<char> = base.chars().collect();
    let n = chars.len().max(1);
    let (a, b) = (cut.0 % n, cut.1 % n);
    let (lo, hi) = (a.min(b), a.max(b).min(a.min(b) + 12));
    let mut out: Vec<char> = chars.iter().take(lo).chain(chars.iter().skip(hi)).copied().collect();
    let at = at % (out.len() + 1);
    out.splice(at..at, insert.chars());
    out.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_token_soup_never_panics(tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..60)) {
        exercise(&tokens.concat());
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        exercise(&text);
        let _ = dqc_compiler::import_seed(&text, FileId(0));
    }

    #[test]
    fn random_regexes_never_panic(pattern in "\\PC{0,24}") {
        let literal = pattern.replace('\'', "''");
        exercise(&format!("contract t {{ columns {{ s string }} rules {{ s matches '{literal}' }} }}"));
    }

    #[test]
    fn mutated_contracts_never_panic(
        pick in any::<usize>(),
        cut in (any::<usize>(), any::<usize>()),
        insert in proptest::sample::select(TOKENS),
        at in any::<usize>(),
    ) {
        let inputs = ok_inputs();
        let base = &inputs[pick % inputs.len()];
        exercise(&mutate(base, cut, insert, at));
    }

    #[test]
    fn mutated_seed_json_never_panics(
        cut in (any::<usize>(), any::<usize>()),
        insert in proptest::sample::select(&["{", "}", "[", "]", ",", ":", "\"type\"", "\"not_null\"", "null", "1", "\"x\"", "```"][..]),
        at in any::<usize>(),
    ) {
        let base = include_str!("../../golden/ok/seed_llm_output/input.json");
        let text = mutate(base, cut, insert, at);
        let (contract, diagnostics) = dqc_compiler::import_seed(&text, FileId(0));
        let _ = dqc_cli::render::human(&diagnostics, &[Source::new("fuzz.json", text.clone())], false);
        if let Some(c) = contract {
            exercise(&c);
        }
    }
}

/// Long flat chains of operators, with runs of prefix operators and parentheses mixed in:
/// the shapes that used to overflow the stack. Accepted ones go through every stage; the
/// others get E0003. Run on a thread with a main thread's stack (the stages need up to 4 MiB
/// in a debug build at the deepest accepted expression).
fn flat_chain(ops: &[&str], prefixes: usize, parens: usize) -> String {
    // A well-typed expression: `- - (((x))) + 1 * 2 ... > 0 and x > 3 or ...`, behind `not`s.
    let mut number = format!("{}{}x{}", "- ".repeat(prefixes % 600), "(".repeat(parens), ")".repeat(parens));
    let mut logic = String::new();
    for (i, op) in ops.iter().enumerate() {
        match *op {
            "or" | "and" => logic.push_str(&format!(" {op} x > {i}")),
            _ => number.push_str(&format!(" {op} {}", i % 7 + 1)),
        }
    }
    let expr = format!("{}{number} > 0{logic}", "not ".repeat(prefixes / 2));
    format!("contract db.t {{ columns {{ x bigint }} rules {{ check {expr} }} }}")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn long_flat_chains_check_or_fail_cleanly(
        ops in proptest::collection::vec(proptest::sample::select(&["or", "and", "+", "-", "*"][..]), 20..800),
        prefixes in 0usize..700,
        parens in 0usize..400,
    ) {
        let text = flat_chain(&ops, prefixes, parens);
        let outcome = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || {
                let sources = [Source::new("chain.dqc", text.clone())];
                let checked = dqc_compiler::check(&sources);
                let _ = dqc_compiler::format(&text);
                let _ = dqc_cli::render::human(&checked.diagnostics, &sources, false);
                if !checked.has_errors() {
                    let _ = dqc_compiler::compile(&checked.project, dqc_compiler::Target::ALL);
                }
                checked.diagnostics.iter().map(|d| d.code.as_str().to_string()).collect::<Vec<_>>()
            })
            .unwrap()
            .join();
        let codes = outcome.map_err(|_| TestCaseError::fail("a stage panicked"))?;
        prop_assert!(codes.iter().all(|c| c == "E0003" || c.starts_with('W')), "{codes:?}");
    }
}
