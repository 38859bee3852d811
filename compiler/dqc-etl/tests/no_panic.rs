//! Bounded property tests: no input, however broken, makes the analyser or
//! its renderers panic, and the output is deterministic.

// Tests fail loudly on a broken fixture or a wrong result.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "test code fails loudly")]

use std::fs;
use std::path::PathBuf;

use proptest::prelude::*;

fn corpus_scripts() -> Vec<String> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/etl"));
    let mut out: Vec<(PathBuf, String)> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path().join("job.py"))
                .filter_map(|p| fs::read_to_string(&p).ok().map(|s| (p, s)))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.into_iter().map(|(_, s)| s).collect()
}

/// Applies `(position, delete, insert)` edits at character boundaries.
fn mutate(src: &str, edits: &[(usize, usize, String)]) -> String {
    let mut chars: Vec<char> = src.chars().collect();
    for (pos, del, ins) in edits {
        let at = if chars.is_empty() { 0 } else { pos % (chars.len() + 1) };
        let end = (at + del).min(chars.len());
        chars.splice(at..end, ins.chars());
    }
    chars.into_iter().collect()
}

/// Analyses `src` and renders the result every way; panics propagate.
fn exercise(src: &str) {
    match dqc_etl::analyze("fuzz", src) {
        Ok(job) => {
            let jobs = [job];
            let json = dqc_etl::render_json(&jobs);
            assert!(json.starts_with('['));
            let _ = dqc_etl::render_text(&jobs);
            let _ = dqc_etl::render_mermaid(&dqc_etl::build_graph(&jobs));
            // Same input, same output.
            let again = dqc_etl::analyze("fuzz", src).map(|j| dqc_etl::render_json(&[j]));
            assert_eq!(again.ok().as_deref(), Some(json.as_str()));
        }
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "error position must be 1-based: {e}");
            assert!(!e.message.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_corpus_scripts_never_panic(
        pick in 0usize..1000,
        edits in proptest::collection::vec((0usize..20_000, 0usize..30, "[ -~\n\t]{0,12}"), 1..8),
    ) {
        let scripts = corpus_scripts();
        prop_assume!(!scripts.is_empty());
        let src = &scripts[pick % scripts.len()];
        exercise(&mutate(src, &edits));
    }

    /// Small identifier-like edits keep most scripts valid Python, so the
    /// analyser itself (not only the parser) sees odd but parseable input.
    #[test]
    fn lightly_edited_corpus_scripts_never_panic(
        pick in 0usize..1000,
        edits in proptest::collection::vec((0usize..20_000, 0usize..4, "[a-z_ ]{0,6}"), 1..6),
    ) {
        let scripts = corpus_scripts();
        prop_assume!(!scripts.is_empty());
        let src = &scripts[pick % scripts.len()];
        exercise(&mutate(src, &edits));
    }

    #[test]
    fn random_python_like_text_never_panics(src in "[a-zA-Z_0-9 ()\\[\\]{}.,:=+*/%<>!&|~'\"\n\t#\\\\-]{0,400}") {
        exercise(&src);
    }

    #[test]
    fn random_unicode_never_panics(src in "\\PC{0,200}") {
        exercise(&src);
    }

    #[test]
    fn random_sql_never_panics(sql in "[a-zA-Z_0-9 (),.*=<>'\n]{0,200}") {
        let src = format!("from pyspark.sql import SparkSession\nspark = SparkSession.builder.getOrCreate()\nspark.sql(\"\"\"{}\"\"\").write.saveAsTable(\"x.y\")\n", sql.replace('"', ""));
        exercise(&src);
        let _ = dqc_etl::render_json(&[dqc_etl::analyze_sql("sql", &sql, &Default::default())]);
    }
}

#[test]
fn pathological_nesting_is_bounded() {
    let deep_parens = format!("x = {}1{}\n", "(".repeat(5_000), ")".repeat(5_000));
    exercise(&deep_parens);
    let mut deep_ifs = String::new();
    for i in 0..300 {
        deep_ifs.push_str(&" ".repeat(i));
        deep_ifs.push_str("if a:\n");
    }
    deep_ifs.push_str(&" ".repeat(300));
    deep_ifs.push_str("pass\n");
    exercise(&deep_ifs);
    let loops = "xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]\nfor a in xs:\n for b in xs:\n  for c in xs:\n   for d in xs:\n    for e in xs:\n     y = a\n";
    let job = dqc_etl::analyze("loops", loops).expect("valid python");
    assert!(job.unresolved.iter().any(|u| u.code == "limit"), "{:?}", job.unresolved);
    let doubling = "s = 'ab'\n".to_owned() + &"s = s + s\n".repeat(40);
    exercise(&doubling);
    let chain = "from pyspark.sql import functions as F\nc = F.col('a')\n".to_owned() + &"c = c + 1\n".repeat(2_000);
    exercise(&chain);
}
