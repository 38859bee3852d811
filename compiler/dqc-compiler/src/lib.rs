//! The dqc compiler: one entry point per stage, over in-memory sources. Pure: no IO, no clock,
//! no environment; the CLI and the activities read and write files.
//!
//! ```text
//! text --parse--> AST --check--> IR (Project) --export--> seed JSON
//!       \--format--> canonical text
//! seed JSON --import--> contract text (then parse/check as above)
//! ```

pub use dqc_diagnostics as diagnostics;
use dqc_diagnostics::{Diagnostic, FileId};
pub use dqc_ir as ir;
use dqc_ir::Project;

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
