//! Rendering diagnostics at the edge: rustc-style text (coloured on a terminal, plain in
//! goldens and pipes) or JSON for machines.

use annotate_snippets::{Level, Renderer, Snippet};
use dqc_compiler::diagnostics::{Diagnostic, FileId, Severity, Span};
use dqc_compiler::Source;
use serde::Serialize;

/// Renders diagnostics as text. `color` selects ANSI styling.
pub fn human(diagnostics: &[Diagnostic], sources: &[Source], color: bool) -> String {
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&one(d, sources, &renderer));
        out.push_str("\n\n");
    }
    out
}

fn source(sources: &[Source], file: FileId) -> Option<&Source> {
    sources.get(file.0 as usize)
}

/// Clamps a span to the text and to character boundaries.
fn clamp(span: Span, text: &str) -> std::ops::Range<usize> {
    let mut start = (span.start as usize).min(text.len());
    let mut end = (span.end as usize).min(text.len()).max(start);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

fn one(d: &Diagnostic, sources: &[Source], renderer: &Renderer) -> String {
    let level = match d.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let code = d.code.as_str();
    let mut message = level.title(&d.message).id(code);
    // One snippet per file, primary file first.
    let mut files: Vec<FileId> = vec![d.primary.span.file];
    for l in &d.labels {
        if !files.contains(&l.span.file) {
            files.push(l.span.file);
        }
    }
    for file in files {
        let Some(src) = source(sources, file) else { continue };
        let mut snippet = Snippet::source(&src.text).origin(&src.name).fold(true);
        if d.primary.span.file == file {
            snippet = snippet.annotation(level.span(clamp(d.primary.span, &src.text)).label(&d.primary.message));
        }
        for l in d.labels.iter().filter(|l| l.span.file == file) {
            // Secondary labels: `-` underline and no level prefix, as rustc prints them.
            snippet = snippet.annotation(Level::Warning.span(clamp(l.span, &src.text)).label(&l.message));
        }
        message = message.snippet(snippet);
    }
    for note in &d.notes {
        message = message.footer(Level::Note.title(note));
    }
    if let Some(help) = &d.help {
        message = message.footer(Level::Help.title(help));
    }
    renderer.render(message).to_string()
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    file: &'a str,
    start: u32,
    end: u32,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    title: &'a str,
    message: &'a str,
    primary: JsonLocation<'a>,
    labels: Vec<JsonLocation<'a>>,
    help: Option<&'a str>,
    notes: &'a [String],
}

fn location<'a>(span: Span, message: &'a str, sources: &'a [Source]) -> JsonLocation<'a> {
    let (name, text) = source(sources, span.file).map(|s| (s.name.as_str(), s.text.as_str())).unwrap_or(("", ""));
    let (line, column) = line_col(text, span.start as usize);
    let (end_line, end_column) = line_col(text, span.end as usize);
    JsonLocation { file: name, start: span.start, end: span.end, line, column, end_line, end_column, message }
}

/// Renders diagnostics as a JSON array, one object per diagnostic, with line and column.
pub fn json(diagnostics: &[Diagnostic], sources: &[Source]) -> String {
    let items: Vec<JsonDiagnostic<'_>> = diagnostics
        .iter()
        .map(|d| JsonDiagnostic {
            code: d.code.as_str(),
            severity: d.severity,
            title: d.code.title(),
            message: &d.message,
            primary: location(d.primary.span, &d.primary.message, sources),
            labels: d.labels.iter().map(|l| location(l.span, &l.message, sources)).collect(),
            help: d.help.as_deref(),
            notes: &d.notes,
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}

/// One line: `N error(s), M warning(s)`.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}
