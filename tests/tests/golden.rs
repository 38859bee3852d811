//! Golden tests: one named test per case in `golden/ok` and `golden/err`, plus tidy and
//! coverage checks. `UPDATE_EXPECT=1 cargo test -p dqc-tests --test golden` re-blesses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use std::collections::BTreeSet;
use std::path::Path;

use dqc_compiler::diagnostics::{Code, FileId};
use dqc_compiler::Source;
use dqc_tests::{case_sources, cases, expect_file, relative, render};
use libtest_mimic::{Arguments, Failed, Trial};

/// Expected files an ok case may have.
const OK_OUTPUTS: &[&str] = &["check.txt", "ir.json", "export.json", "imported.dqc", "compile"];
/// Expected files an err case may have.
const ERR_OUTPUTS: &[&str] = &["diagnostics.txt"];

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for dir in cases("ok") {
        let name = format!("ok::{}", dir.file_name().and_then(|n| n.to_str()).unwrap_or("?"));
        trials.push(Trial::test(name, move || ok_case(&dir)));
    }
    for dir in cases("err") {
        let name = format!("err::{}", dir.file_name().and_then(|n| n.to_str()).unwrap_or("?"));
        trials.push(Trial::test(name, move || err_case(&dir)));
    }
    trials.push(Trial::test("tidy::no_orphaned_expected_files", tidy));
    trials.push(Trial::test("tidy::enough_cases", enough_cases));
    trials.push(Trial::test("coverage::every_code_has_an_err_case", coverage));
    libtest_mimic::run(&args, trials).exit();
}

fn fail(message: impl Into<String>) -> Failed {
    Failed::from(message.into())
}

/// Imports `input.json` when the case has one, giving the contract text it becomes.
/// An imported case: the JSON source, the import diagnostics, and the contract text.
type Imported = (Source, Vec<dqc_compiler::diagnostics::Diagnostic>, Option<String>);

fn imported(dir: &Path) -> Result<Option<Imported>, Failed> {
    let path = dir.join("input.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    let source = Source::new(relative(&path), text);
    let (contract, diags) = dqc_compiler::import_seed(&source.text, FileId(0));
    Ok(Some((source, diags, contract)))
}

fn ok_case(dir: &Path) -> Result<(), Failed> {
    let expected = dir.join("expected");
    let mut sources = case_sources(dir);
    let mut problems = Vec::new();
    if let Some((json, diags, contract)) = imported(dir)? {
        if !diags.iter().all(|d| !d.is_error()) {
            return Err(fail(format!("import failed:\n{}", render(&diags, &[json]))));
        }
        let contract = contract.ok_or_else(|| fail("import produced nothing"))?;
        problems.extend(expect_file(&expected.join("imported.dqc"), &contract).err());
        sources.insert(0, Source::new(format!("{} (imported)", json.name), contract));
    }
    if sources.is_empty() {
        return Err(fail("case has no input"));
    }
    let checked = dqc_compiler::check(&sources);
    let rendered = render(&checked.diagnostics, &sources);
    if checked.has_errors() {
        return Err(fail(format!("ok case has errors:\n{rendered}")));
    }
    problems.extend(expect_file(&expected.join("check.txt"), &rendered).err());
    problems.extend(expect_file(&expected.join("ir.json"), &dqc_compiler::ir_json(&checked.project)).err());
    let export = dqc_compiler::export_seed(&checked.project);
    let export_text = format!("{}\n", serde_json::to_string_pretty(&export).unwrap_or_default());
    problems.extend(expect_file(&expected.join("export.json"), &export_text).err());
    problems.extend(compiled(&expected.join("compile"), &checked.project));
    problems.extend(formatting(&sources, &checked).err());
    problems.extend(round_trip(&export_text, &checked).err());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(problems.join("\n")))
    }
}

/// Every backend's output matches `expected/compile/<path>`, and nothing else is there.
fn compiled(dir: &Path, project: &dqc_compiler::ir::Project) -> Vec<String> {
    let outputs = dqc_compiler::compile(project, dqc_compiler::Target::ALL);
    let mut problems: Vec<String> =
        outputs.iter().filter_map(|f| expect_file(&dir.join(&f.path), &f.contents).err()).collect();
    let produced: BTreeSet<String> = outputs.iter().map(|f| f.path.clone()).collect();
    for file in files_under(dir) {
        let rel = file.strip_prefix(dir).map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
        if !produced.contains(&rel) {
            if dqc_tests::blessing() {
                let _ = std::fs::remove_file(&file);
            } else {
                problems.push(format!("{} is not produced by any backend (orphaned expected file)", relative(&file)));
            }
        }
    }
    problems
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Inputs are canonical, formatting is idempotent, and formatting keeps every hash.
fn formatting(sources: &[Source], checked: &dqc_compiler::Checked) -> Result<(), String> {
    let mut formatted = Vec::new();
    for s in sources {
        if s.is_catalog_snapshot() {
            formatted.push(s.clone());
            continue;
        }
        let once = dqc_compiler::format(&s.text).map_err(|d| format!("{}: {}", s.name, d.message))?;
        let twice = dqc_compiler::format(&once).map_err(|d| format!("{} (formatted): {}", s.name, d.message))?;
        if once != twice {
            return Err(format!("{}: formatting is not idempotent", s.name));
        }
        if once != s.text && !s.name.ends_with("(imported)") {
            return Err(format!("{} is not in canonical form; run `dqc fmt {}`", s.name, s.name));
        }
        formatted.push(Source::new(s.name.clone(), once));
    }
    let again = dqc_compiler::check(&formatted);
    let hashes = |p: &dqc_compiler::ir::Project| p.contracts.iter().map(|c| c.hash.clone()).collect::<Vec<_>>();
    if hashes(&again.project) != hashes(&checked.project) {
        return Err("formatting changed a contract hash".to_string());
    }
    Ok(())
}

/// Export, import the export, check it: every contract keeps its hash.
fn round_trip(export_text: &str, checked: &dqc_compiler::Checked) -> Result<(), String> {
    let (contract, diags) = dqc_compiler::import_seed(export_text, FileId(0));
    let json = Source::new("export.json", export_text);
    if diags.iter().any(|d| d.is_error()) {
        return Err(format!("re-importing the export failed:\n{}", render(&diags, &[json])));
    }
    let text = contract.ok_or("re-importing the export produced nothing")?;
    let source = Source::new("reimported.dqc", text);
    let again = dqc_compiler::check(std::slice::from_ref(&source));
    if again.has_errors() {
        return Err(format!("re-imported contract has errors:\n{}", render(&again.diagnostics, &[source])));
    }
    let pairs = |p: &dqc_compiler::ir::Project| {
        p.contracts.iter().map(|c| (c.table.qualified(), c.hash.clone())).collect::<BTreeSet<_>>()
    };
    if pairs(&again.project) != pairs(&checked.project) {
        return Err(format!(
            "round trip changed contracts: {:?} became {:?}\n{}",
            pairs(&checked.project),
            pairs(&again.project),
            source.text
        ));
    }
    Ok(())
}

fn err_case(dir: &Path) -> Result<(), Failed> {
    let expected = dir.join("expected").join("diagnostics.txt");
    let (diagnostics, rendered) = match imported(dir)? {
        Some((json, diags, contract)) if diags.iter().any(|d| d.is_error()) || contract.is_none() => {
            let r = render(&diags, &[json]);
            (diags, r)
        }
        Some((json, import_diags, Some(contract))) => {
            // Import warnings point into the JSON, checker diagnostics into the generated text.
            let mut sources = vec![Source::new(format!("{} (imported)", json.name), contract)];
            sources.extend(case_sources(dir));
            let checked = dqc_compiler::check(&sources);
            let mut r = String::new();
            if !import_diags.is_empty() {
                r.push_str(&render(&import_diags, &[json]));
                r.push('\n');
            }
            r.push_str(&render(&checked.diagnostics, &sources));
            let mut all = import_diags;
            all.extend(checked.diagnostics);
            (all, r)
        }
        _ => {
            let sources = case_sources(dir);
            if sources.is_empty() {
                return Err(fail("case has no input"));
            }
            let checked = dqc_compiler::check(&sources);
            let r = render(&checked.diagnostics, &sources);
            (checked.diagnostics, r)
        }
    };
    if !diagnostics.iter().any(|d| d.is_error()) {
        return Err(fail(format!("err case produced no error:\n{rendered}")));
    }
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if let Some(code) = name.split('_').next().and_then(Code::parse) {
        if !diagnostics.iter().any(|d| d.code == code) {
            return Err(fail(format!("case is named after {code} but does not produce it:\n{rendered}")));
        }
    } else {
        return Err(fail("err case names start with the code they produce, such as `e0101_...`"));
    }
    expect_file(&expected, &rendered).map_err(fail)
}

fn tidy() -> Result<(), Failed> {
    let mut orphans = Vec::new();
    for (kind, allowed) in [("ok", OK_OUTPUTS), ("err", ERR_OUTPUTS)] {
        for dir in cases(kind) {
            let has_json = dir.join("input.json").exists();
            for entry in std::fs::read_dir(dir.join("expected")).into_iter().flatten().flatten() {
                let file = entry.file_name().to_string_lossy().to_string();
                let known = allowed.contains(&file.as_str()) && (file != "imported.dqc" || has_json);
                if !known {
                    orphans.push(relative(&entry.path()));
                }
            }
            if !dir.join("expected").exists() {
                orphans.push(format!("{} has no expected/ folder", relative(&dir)));
            }
        }
    }
    if orphans.is_empty() {
        Ok(())
    } else {
        Err(fail(format!("orphaned or unknown expected files:\n{}", orphans.join("\n"))))
    }
}

fn enough_cases() -> Result<(), Failed> {
    let (ok, err) = (cases("ok").len(), cases("err").len());
    if ok >= 30 && err >= 30 {
        Ok(())
    } else {
        Err(fail(format!("need at least 30 ok and 30 err cases, have {ok} and {err}")))
    }
}

fn coverage() -> Result<(), Failed> {
    let mut seen = BTreeSet::new();
    for dir in cases("err") {
        let text = std::fs::read_to_string(dir.join("expected").join("diagnostics.txt")).unwrap_or_default();
        for code in Code::ALL {
            if text.contains(&format!("[{}]", code.as_str())) {
                seen.insert(*code);
            }
        }
    }
    let missing: Vec<&str> = Code::ALL.iter().filter(|c| !seen.contains(c)).map(|c| c.as_str()).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(fail(format!("codes without an err case: {}", missing.join(", "))))
    }
}
