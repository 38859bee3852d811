//! How `check` scales with the size of a contract: `cargo bench -p dqc-compiler --bench check_scale`.
//!
//! Prints the time to check contracts of 1,000 and 10,000 rules of three shapes, and the ratio
//! between the two sizes: near 10 means linear, near 100 quadratic. Target: every shape at
//! 10,000 rules under 2 s.

use std::time::{Duration, Instant};

use dqc_compiler::Source;

fn contract(columns: &str, rules: &str) -> String {
    format!("contract db.t {{\n  columns {{\n{columns}  }}\n  rules {{\n{rules}  }}\n}}\n")
}

/// Check rules over 100 columns.
fn checks(n: usize) -> String {
    let columns: String = (0..100).map(|i| format!("    c{i} bigint,\n")).collect();
    let rules: String = (0..n).map(|i| format!("    check c{} + {i} > c{}\n", i % 100, (i + 1) % 100)).collect();
    contract(&columns, &rules)
}

/// One range on each of `n` columns.
fn columns(n: usize) -> String {
    let columns: String = (0..n).map(|i| format!("    c{i} bigint,\n")).collect();
    let rules: String = (0..n).map(|i| format!("    c{i} between 0 and {}\n", i + 10)).collect();
    contract(&columns, &rules)
}

/// `n` ranges on one column, each implied by the first.
fn redundant(n: usize) -> String {
    let rules: String = (0..n).map(|i| format!("    r{i}: c1 between 0 and {}\n", i + 10)).collect();
    contract("    c1 bigint,\n", &rules)
}

/// Builds a contract of `n` rules.
type Shape = fn(usize) -> String;

fn time(text: &str) -> (Duration, usize) {
    let sources = [Source::new("bench.dqc", text.to_string())];
    let start = Instant::now();
    let checked = dqc_compiler::check(&sources);
    (start.elapsed(), checked.diagnostics.len())
}

fn main() {
    println!("{:<34} {:>10} {:>10} {:>8} {:>12}", "shape", "1k rules", "10k rules", "ratio", "diagnostics");
    let shapes: [(&str, Shape); 3] = [
        ("check rules over 100 columns", checks),
        ("a range on each column", columns),
        ("ranges implied by the first", redundant),
    ];
    for (name, make) in shapes {
        let (small, _) = time(&make(1_000));
        let (large, diagnostics) = time(&make(10_000));
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-9);
        println!(
            "{name:<34} {:>9.3}s {:>9.3}s {ratio:>7.1}x {diagnostics:>12}{}",
            small.as_secs_f64(),
            large.as_secs_f64(),
            if large > Duration::from_secs(2) { "  (over the 2 s target)" } else { "" }
        );
    }
}
