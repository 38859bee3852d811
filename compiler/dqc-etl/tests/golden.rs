//! Golden tests over the corpus in `tests/etl/`: one named test per case,
//! plus the cross-job Mermaid graph and a tidy check.
//!
//! Each case is a directory holding `job.py` and its expected outputs,
//! `expected.json` (the JSON rendering) and `expected.txt` (the text
//! rendering). Cases named `err_*` must fail to parse; every other case must
//! parse. Run with `UPDATE_EXPECT=1` to re-bless the expected files.

// Tests fail loudly on a broken fixture or a wrong result.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "test code fails loudly")]

use std::fs;
use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};

/// Files a case directory may hold.
const CASE_FILES: &[&str] = &["job.py", "expected.json", "expected.txt"];
/// Files the corpus root may hold besides case directories.
const ROOT_FILES: &[&str] = &["lineage.mmd", "README.md"];

fn corpus() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/etl"))
}

fn updating() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

/// Case directories that hold a `job.py`, sorted by name.
fn cases() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = fs::read_dir(corpus())
        .map(|rd| {
            rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join("job.py").is_file()).collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| Some((p.file_name()?.to_str()?.to_owned(), p)))
        .collect();
    out.sort();
    out
}

/// Compares `actual` with the file at `path`, or writes it when re-blessing.
fn check(path: &Path, actual: &str) -> Result<(), Failed> {
    if updating() {
        fs::write(path, actual).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        return Ok(());
    }
    let expected = fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}\nrun with UPDATE_EXPECT=1 to create it", path.display()))?;
    if expected == actual {
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(&expected, actual);
    let shown = diff.unified_diff().context_radius(3).header("expected", "actual").to_string();
    Err(format!("{} does not match (run with UPDATE_EXPECT=1 to re-bless):\n{shown}", path.display()).into())
}

fn run_case(name: &str, dir: &Path) -> Result<(), Failed> {
    let src = fs::read_to_string(dir.join("job.py")).map_err(|e| e.to_string())?;
    let (json, text) = match dqc_etl::analyze(name, &src) {
        Ok(job) => {
            if name.starts_with("err_") {
                return Err(format!("case `{name}` is an error case but the script parsed").into());
            }
            (dqc_etl::render_json(std::slice::from_ref(&job)), dqc_etl::render_text(std::slice::from_ref(&job)))
        }
        Err(err) => {
            if !name.starts_with("err_") {
                return Err(format!("case `{name}` failed to parse: {err}").into());
            }
            let json = serde_json::to_string_pretty(&serde_json::json!({ "error": err })).map_err(|e| e.to_string())?;
            (json + "\n", format!("error: {err}\n"))
        }
    };
    check(&dir.join("expected.json"), &json)?;
    check(&dir.join("expected.txt"), &text)
}

fn lineage_graph() -> Result<(), Failed> {
    let mut jobs = Vec::new();
    for (name, dir) in cases() {
        let src = fs::read_to_string(dir.join("job.py")).map_err(|e| e.to_string())?;
        if let Ok(job) = dqc_etl::analyze(&name, &src) {
            jobs.push(job);
        }
    }
    let graph = dqc_etl::build_graph(&jobs);
    check(&corpus().join("lineage.mmd"), &dqc_etl::render_mermaid(&graph))
}

/// Fails on expected files without an input and on stray files.
fn tidy() -> Result<(), Failed> {
    let mut problems = Vec::new();
    let entries = fs::read_dir(corpus()).map_err(|e| e.to_string())?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !path.join("job.py").is_file() {
                problems.push(format!("{name}/ has no job.py"));
            }
            for f in fs::read_dir(&path).map_err(|e| e.to_string())?.filter_map(Result::ok) {
                let fname = f.file_name().to_string_lossy().into_owned();
                if !CASE_FILES.contains(&fname.as_str()) {
                    problems.push(format!("{name}/{fname} is not a case file"));
                }
            }
        } else if !ROOT_FILES.contains(&name.as_str()) {
            problems.push(format!("{name} is not a case directory"));
        }
    }
    problems.sort();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("corpus is not tidy:\n  {}", problems.join("\n  ")).into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = cases()
        .into_iter()
        .map(|(name, dir)| Trial::test(format!("etl::{name}"), move || run_case(&name, &dir)))
        .collect();
    trials.push(Trial::test("corpus::lineage_graph", lineage_graph));
    trials.push(Trial::test("corpus::tidy", tidy));
    trials.push(Trial::test("corpus::has_at_least_30_cases", || {
        let n = cases().len();
        if n >= 30 {
            Ok(())
        } else {
            Err(format!("the corpus has {n} cases; at least 30 are required").into())
        }
    }));
    libtest_mimic::run(&args, trials).exit();
}
