//! Helpers shared by the integration tests: checking contract text into IR.

use dqc_diagnostics::{Diagnostic, FileId};
use dqc_ir::Project;

/// Parses and checks contract texts as one project; panics on a syntax error.
pub fn check(sources: &[&str]) -> (Project, Vec<Diagnostic>) {
    let asts: Vec<_> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let file = FileId(u32::try_from(i).unwrap());
            dqc_syntax::parse(s, file).unwrap_or_else(|d| panic!("syntax error {d:?} in:\n{s}"))
        })
        .collect();
    let files: Vec<dqc_semantics::ParsedFile<'_>> = sources
        .iter()
        .zip(&asts)
        .enumerate()
        .map(|(i, (source, ast))| dqc_semantics::ParsedFile { file: FileId(u32::try_from(i).unwrap()), source, ast })
        .collect();
    dqc_semantics::check_project(&files, &[])
}

/// Checks contract texts that must have no errors.
pub fn check_ok(sources: &[&str]) -> Project {
    let (project, diags) = check(sources);
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "errors: {errors:#?}\nin:\n{}", sources.join("\n"));
    project
}

/// Imports JSON that must import without errors.
pub fn import_ok(json: &str) -> (String, Vec<Diagnostic>) {
    let (text, diags) = dqc_seed::import(json, FileId(0));
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "errors: {errors:#?}");
    (text.expect("imported text"), diags)
}
