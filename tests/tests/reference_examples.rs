//! The language reference's examples check: every `sql` block of `grammar/README.md` that is a
//! contract compiles on its own (references to tables without a contract aside), or, headed
//! `-- Rejected: E...`, gives exactly the errors it names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use dqc_compiler::diagnostics::Code;
use dqc_compiler::Source;

#[test]
fn every_contract_in_the_language_reference_checks() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../grammar/README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```sql") => current = Some((n + 2, String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, body)), l) => {
                body.push_str(l);
                body.push('\n');
            }
            (None, _) => {}
        }
    }
    let contracts: Vec<&(usize, String)> =
        blocks.iter().filter(|(_, b)| b.lines().any(|l| l.trim_start().starts_with("contract "))).collect();
    assert!(contracts.len() >= 10, "{} contract examples", contracts.len());
    let mut problems = Vec::new();
    for (line, body) in contracts {
        // An example headed `-- Rejected: E0604, E0602; ...` must give exactly those errors.
        let rejected: Vec<&str> = body
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("-- Rejected: "))
            .map(|l| l.split(';').next().unwrap_or("").split(',').map(str::trim).collect())
            .unwrap_or_default();
        let checked = dqc_compiler::check(&[Source::new(format!("README.md:{line}"), body.clone())]);
        let mut errors: Vec<&str> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error() && d.code != Code::UnknownTable)
            .map(|d| d.code.as_str())
            .collect();
        errors.sort_unstable();
        errors.dedup();
        let mut want = rejected.clone();
        want.sort_unstable();
        if errors != want {
            problems.push(format!("grammar/README.md line {line}: errors {errors:?}, the example says {want:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
