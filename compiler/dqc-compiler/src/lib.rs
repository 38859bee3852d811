//! The dqc compiler: one entry point per stage, over in-memory sources. Pure: no IO, no clock,
//! no environment; the CLI and the activities read and write files.
//!
//! ```text
//! text --parse--> AST --check--> IR (Project) --export--> seed JSON
//!       \--format--> canonical text
//! seed JSON --import--> contract text (then parse/check as above)
//! ```
//!
//! Every stage walks expressions recursively; the parser bounds their depth
//! ([`dqc_syntax::MAX_EXPR_DEPTH`], diagnostic E0003) so that the deepest accepted contract
//! needs under 4 MiB of stack in a debug build (a main thread has 8 MiB; give a worker thread
//! that calls the compiler at least that much).

pub use dqc_codegen as codegen;
pub use dqc_diagnostics as diagnostics;
use dqc_diagnostics::{Diagnostic, FileId};
pub use dqc_ir as ir;
use dqc_ir::Project;
pub use dqc_syntax as syntax;

/// One input text and the name it is reported under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// A path or another name for messages.
    pub name: String,
    /// The text.
    pub text: String,
}

impl Source {
    /// A source from a name and a text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source { name: name.into(), text: text.into() }
    }

    /// Catalog snapshots are JSON files; everything else is contract text.
    pub fn is_catalog_snapshot(&self) -> bool {
        self.name.ends_with(".json")
    }
}

/// The result of checking a project.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The IR; complete only when `diagnostics` holds no error.
    pub project: Project,
    /// Every problem found, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// True when at least one diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses and checks a project. Sources are identified in diagnostics by their index
/// ([`FileId`]); names ending in `.json` are catalog snapshots, the rest contract text.
pub fn check(sources: &[Source]) -> Checked {
    let mut diagnostics = Vec::new();
    let mut parsed = Vec::new();
    let mut snapshots = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        let file = FileId(u32::try_from(i).unwrap_or(u32::MAX));
        if s.is_catalog_snapshot() {
            snapshots.push(dqc_semantics::Snapshot { file, text: &s.text });
            continue;
        }
        match dqc_syntax::parse(&s.text, file) {
            Ok(ast) => parsed.push((file, s.text.as_str(), ast)),
            Err(d) => diagnostics.push(d),
        }
    }
    let files: Vec<dqc_semantics::ParsedFile<'_>> =
        parsed.iter().map(|(file, source, ast)| dqc_semantics::ParsedFile { file: *file, source, ast }).collect();
    let (project, more) = dqc_semantics::check_project(&files, &snapshots);
    diagnostics.extend(more);
    dqc_diagnostics::sort(&mut diagnostics);
    Checked { project, diagnostics }
}

/// Formats contract text canonically. Fails with the syntax error when it does not parse.
pub fn format(text: &str) -> Result<String, Diagnostic> {
    let ast = dqc_syntax::parse(text, FileId(0))?;
    Ok(dqc_syntax::format_file(&ast, text))
}

/// The JSON Schema of the IR.
pub fn ir_json_schema() -> serde_json::Value {
    dqc_ir::json_schema()
}

/// Serializes the IR as pretty JSON with a trailing newline.
pub fn ir_json(project: &Project) -> String {
    let mut text = serde_json::to_string_pretty(project).unwrap_or_default();
    text.push('\n');
    text
}

/// Imports the seed's LLM output shape (`data_quality`, `tests`) into contract text.
pub fn import_seed(text: &str, file: FileId) -> (Option<String>, Vec<Diagnostic>) {
    dqc_seed::import(text, file)
}

/// Exports a checked project in the seed's shapes, one object per contract.
pub fn export_seed(project: &Project) -> serde_json::Value {
    dqc_seed::export(project)
}

pub use dqc_codegen::{OutputFile, Target};

/// Compiles a checked project into the files of the requested targets, sorted by path.
/// The project must have no errors (see [`check`]).
pub fn compile(project: &Project, targets: &[Target]) -> Vec<OutputFile> {
    use dqc_codegen::sql::{self, Athena, DuckDb};
    let mut files = Vec::new();
    let exported = dqc_seed::export(project);
    let seed: Vec<serde_json::Value> = exported.as_array().cloned().unwrap_or_default();
    for (i, contract) in project.contracts.iter().enumerate() {
        let stem = dqc_codegen::file_stem(project, contract);
        let athena = sql::suite(&Athena, project, contract, false);
        for target in targets {
            match target {
                Target::Athena | Target::Duckdb => {
                    let dialect: &dyn sql::Dialect = if *target == Target::Athena { &Athena } else { &DuckDb };
                    let name = dialect.name();
                    let full = sql::suite(dialect, project, contract, false);
                    files.push(text(format!("sql/{name}/{stem}.sql"), sql::render(&full)));
                    files.push(json_file(
                        format!("sql/{name}/{stem}.suite.json"),
                        &serde_json::to_value(&full).unwrap_or_default(),
                    ));
                    if !contract.partitions.is_empty() {
                        let part = sql::suite(dialect, project, contract, true);
                        files.push(text(format!("sql/{name}/{stem}.partition.sql"), sql::render(&part)));
                        files.push(json_file(
                            format!("sql/{name}/{stem}.partition.suite.json"),
                            &serde_json::to_value(&part).unwrap_or_default(),
                        ));
                    }
                }
                Target::Pyspark => files
                    .push(text(format!("pyspark/{stem}_preload.py"), dqc_codegen::pyspark::module(project, contract))),
                Target::Mermaid => {
                    files.push(text(format!("docs/{stem}.mmd"), dqc_codegen::mermaid::diagram(project, contract)))
                }
                Target::Markdown => files
                    .push(text(format!("docs/{stem}.md"), dqc_codegen::markdown::document(project, contract, &athena))),
                Target::Json => {
                    let entry = seed.get(i).cloned().unwrap_or(serde_json::Value::Null);
                    let contract_json = entry.get("data_quality").cloned().unwrap_or(serde_json::Value::Null);
                    files.push(json_file(format!("contracts/{stem}.json"), &contract_json));
                    files.push(json_file(format!("tests/{stem}.json"), &tests_json(&entry, &athena)));
                }
            }
        }
    }
    if targets.contains(&Target::Json) {
        files.push(text("ir.json".to_string(), ir_json(project)));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn text(path: String, mut contents: String) -> OutputFile {
    if !contents.ends_with('\n') {
        contents.push('\n');
    }
    OutputFile { path, contents }
}

fn json_file(path: String, value: &serde_json::Value) -> OutputFile {
    text(path, serde_json::to_string_pretty(value).unwrap_or_default())
}

/// The seed's `tests` entries, each with the Athena SQL that counts the rule's violations.
fn tests_json(entry: &serde_json::Value, suite: &dqc_codegen::sql::Suite) -> serde_json::Value {
    let mut tests = entry.get("tests").and_then(|t| t.as_array()).cloned().unwrap_or_default();
    for t in &mut tests {
        let id = t.get("rule_id").and_then(|v| v.as_str()).unwrap_or("").to_string();
        let count = suite
            .queries
            .iter()
            .find(|q| q.kind == dqc_codegen::sql::QueryKind::RuleCount && q.rule_ids.first() == Some(&id));
        if let (Some(obj), Some(q)) = (t.as_object_mut(), count) {
            obj.insert("sql".to_string(), serde_json::Value::String(q.sql.clone()));
        }
    }
    serde_json::Value::Array(tests)
}
