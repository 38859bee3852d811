//! Inputs at and past the compiler's limits: every stage (parse, lower, check, format, import,
//! export, every backend) handles the deepest accepted expression, and anything deeper gets one
//! clean diagnostic instead of exhausting the stack. Long flat chains are covered, not only
//! nesting: a chain of `or` terms is as deep a tree as the same number of parentheses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use dqc_compiler::diagnostics::{Code, FileId};
use dqc_compiler::{Source, Target};

const MAX: usize = 256;

fn contract(check: &str) -> String {
    format!(
        "contract sales.orders {{\n  columns {{\n    id bigint not null,\n    code int,\n    flag boolean,\n  }}\n  rules {{\n    check {check}\n  }}\n}}\n"
    )
}

/// The expression shapes that build deep trees, each at `n` levels or so.
fn shapes(n: usize) -> Vec<(&'static str, String)> {
    vec![
        ("or chain", (0..n).map(|i| format!("code = {i}")).collect::<Vec<_>>().join(" or ")),
        ("and chain", (0..n).map(|i| format!("code != {i}")).collect::<Vec<_>>().join(" and ")),
        ("sum", format!("{} > 0", (0..n).map(|i| format!("{}", i + 1)).collect::<Vec<_>>().join(" + "))),
        ("leading not", format!("{}flag", "not ".repeat(n))),
        ("leading minus", format!("{}code < 0", "- ".repeat(n))),
        ("parentheses", format!("{}flag{}", "(".repeat(n), ")".repeat(n))),
        ("nested calls", format!("{}code{} > 0", "abs(".repeat(n), ")".repeat(n))),
    ]
}

/// Runs every stage on a checked project; none may crash.
fn every_stage(text: &str) -> dqc_compiler::Checked {
    let sources = [Source::new("deep.dqc", text.to_string())];
    let checked = dqc_compiler::check(&sources);
    let _ = dqc_compiler::format(text);
    if !checked.has_errors() {
        let files = dqc_compiler::compile(&checked.project, Target::ALL);
        assert!(!files.is_empty());
        let exported = dqc_compiler::export_seed(&checked.project);
        let json = serde_json::to_string(&exported).unwrap();
        let (imported, diagnostics) = dqc_compiler::import_seed(&json, FileId(0));
        assert!(imported.is_some(), "export then import of a deep contract failed: {diagnostics:?}");
    }
    checked
}

fn codes(checked: &dqc_compiler::Checked) -> Vec<Code> {
    checked.diagnostics.iter().map(|d| d.code).collect()
}

/// The stages recurse once or twice per level; give the thread the stack a CLI main thread has.
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(8 << 20).spawn(f).unwrap().join().unwrap();
}

#[test]
fn the_deepest_accepted_expressions_pass_every_stage() {
    on_big_stack(|| {
        // Shallow enough for every shape: each counts at most two levels per step, plus the comparison.
        for (name, check) in shapes(MAX / 2 - 4) {
            let checked = every_stage(&contract(&check));
            assert!(!checked.has_errors(), "{name}: {:?}", checked.diagnostics);
        }
    });
}

#[test]
fn deeper_expressions_get_one_diagnostic_not_a_crash() {
    on_big_stack(|| {
        for n in [MAX + 1, 700, 1_000, 5_000] {
            for (name, check) in shapes(n) {
                let checked = every_stage(&contract(&check));
                assert!(checked.has_errors(), "{name} at {n} was accepted");
                let found = codes(&checked);
                // 5,000 nested parentheses or calls stop in the grammar's own stack guard, same code.
                assert!(found == [Code::ExpressionTooDeep], "{name} at {n}: {:?}", checked.diagnostics);
            }
        }
    });
}

#[test]
fn the_limit_is_on_tree_depth_not_on_length() {
    on_big_stack(|| {
        // 2,000 terms, but a shallow tree: `in` lists are one level.
        let list = (0..2_000).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
        let checked = every_stage(&contract(&format!("code in ({list})")));
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        // 255 levels pass, 257 do not, whatever the shape.
        let chain = |n: usize| (0..n).map(|i| format!("{}", i + 1)).collect::<Vec<_>>().join(" + ");
        let ok = every_stage(&contract(&format!("{} > 0", chain(MAX - 2))));
        assert!(!ok.has_errors(), "{:?}", ok.diagnostics);
        let deep = every_stage(&contract(&format!("{} > 0", chain(MAX))));
        assert_eq!(codes(&deep), [Code::ExpressionTooDeep]);
    });
}

#[test]
fn deeply_nested_json_is_refused_before_parsing() {
    on_big_stack(|| {
        for n in [200, 30_000] {
            let json = format!("{}{}", "[".repeat(n), "]".repeat(n));
            let (text, diagnostics) = dqc_compiler::import_seed(&json, FileId(0));
            assert!(text.is_none());
            assert_eq!(diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::InvalidJson], "{diagnostics:?}");
            assert!(diagnostics[0].message.contains("nested more than 128 levels"), "{}", diagnostics[0].message);
        }
    });
}

#[test]
fn an_imported_check_of_800_ors_is_a_diagnostic() {
    on_big_stack(|| {
        // The export of a contract with a small check, its expression then swapped for the chain.
        let checked = every_stage(&contract("code = -1"));
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let exported = serde_json::to_string(&dqc_compiler::export_seed(&checked.project)).unwrap();
        assert!(exported.contains("code = -1"), "{exported}");
        let check = (0..800).map(|i| format!("code = {i}")).collect::<Vec<_>>().join(" or ");
        let json = exported.replace("code = -1", &check);
        let (_, diagnostics) = dqc_compiler::import_seed(&json, FileId(0));
        assert!(diagnostics.iter().any(|d| d.code == Code::ExpressionTooDeep), "{diagnostics:?}");
    });
}

#[test]
fn numbers_beyond_a_double_are_refused_and_large_ones_are_written_as_doubles() {
    let contract = |bound: &str| {
        format!("contract sales.orders {{\n  columns {{\n    id bigint not null,\n    x double,\n  }}\n  rules {{\n    x < {bound}\n    check x * 2 < {bound}\n  }}\n}}\n")
    };
    let refused = dqc_compiler::check(&[Source::new("c.dqc", contract("1e399"))]);
    assert_eq!(codes(&refused), [Code::InvalidLiteral, Code::InvalidLiteral], "{:?}", refused.diagnostics);
    let accepted = dqc_compiler::check(&[Source::new("c.dqc", contract("1e300"))]);
    assert!(!accepted.has_errors(), "{:?}", accepted.diagnostics);
    for file in dqc_compiler::compile(&accepted.project, &[Target::Duckdb, Target::Athena]) {
        if file.path.ends_with(".sql") {
            assert!(!file.contents.contains(&"0".repeat(39)), "{} spells out 1e300: {}", file.path, file.contents);
        }
    }
    let sql = dqc_compiler::compile(&accepted.project, &[Target::Duckdb]);
    assert!(sql.iter().any(|f| f.contents.contains("1e300")));
}
