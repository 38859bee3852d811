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
    // Everything shown, made visible first: the message borrows it all.
    let title = visible(&d.message);
    let primary_label = visible(&d.primary.message);
    let labels: Vec<(Span, String)> = d.labels.iter().map(|l| (l.span, visible(&l.message))).collect();
    let notes: Vec<String> = d.notes.iter().map(|n| visible(n)).collect();
    let help = d.help.as_deref().map(visible);
    // One snippet per file, primary file first.
    let mut files: Vec<FileId> = vec![d.primary.span.file];
    for l in &d.labels {
        if !files.contains(&l.span.file) {
            files.push(l.span.file);
        }
    }
    let shown: Vec<(FileId, Visible, String)> = files
        .into_iter()
        .filter_map(|file| source(sources, file).map(|src| (file, Visible::new(&src.text), visible(&src.name))))
        .collect();
    let mut message = level.title(&title).id(code);
    for (file, text, name) in &shown {
        let mut snippet = Snippet::source(&text.text).origin(name).fold(true);
        if d.primary.span.file == *file {
            snippet = snippet.annotation(level.span(text.range(d.primary.span)).label(&primary_label));
        }
        for (span, label) in labels.iter().filter(|(s, _)| s.file == *file) {
            // Secondary labels: `-` underline and no level prefix, as rustc prints them.
            snippet = snippet.annotation(Level::Warning.span(text.range(*span)).label(label));
        }
        message = message.snippet(snippet);
    }
    for note in &notes {
        message = message.footer(Level::Note.title(note));
    }
    if let Some(help) = &help {
        message = message.footer(Level::Help.title(help));
    }
    let rendered = renderer.render(message).to_string();
    rendered
}

/// A control character as its visible Unicode picture (ESC as `␛`, NUL as `␀`), so text from a
/// contract can never drive the terminal; newlines and tabs stay.
fn picture(c: char) -> Option<char> {
    match c {
        '\n' | '\t' => None,
        '\u{7f}' => Some('\u{2421}'),
        c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32),
        c if ('\u{80}'..='\u{9f}').contains(&c) => Some('\u{fffd}'),
        _ => None,
    }
}

/// `text` with every control character replaced by its picture.
fn visible(text: &str) -> String {
    text.chars().map(|c| picture(c).unwrap_or(c)).collect()
}

/// A source text made safe to print, with the byte offsets of the original mapped into it.
struct Visible {
    text: String,
    /// Byte offsets in the original of each replaced character, and how many bytes longer the
    /// replacement is.
    shifts: Vec<(usize, usize)>,
}

impl Visible {
    fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut shifts = Vec::new();
        for (i, c) in original.char_indices() {
            match picture(c) {
                Some(p) => {
                    shifts.push((i, p.len_utf8() - c.len_utf8()));
                    text.push(p);
                }
                None => text.push(c),
            }
        }
        Visible { text, shifts }
    }

    /// The byte range of `span` (of the original text) in the visible text.
    fn range(&self, span: Span) -> std::ops::Range<usize> {
        let map = |offset: u32| -> u32 {
            let offset = offset as usize;
            let grown: usize = self.shifts.iter().take_while(|(at, _)| *at < offset).map(|(_, by)| by).sum();
            u32::try_from(offset + grown).unwrap_or(u32::MAX)
        };
        clamp(Span { start: map(span.start), end: map(span.end), ..span }, &self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dqc_compiler::diagnostics::Code;

    #[test]
    fn control_characters_from_a_contract_never_reach_the_terminal() {
        let text = "contract db.t {\n  columns { a int }\n  rules { \u{1b}[31m\u{7}\u{0}b not null zz }\n}\n";
        let at = text.find("zz").unwrap_or(0);
        let d =
            Diagnostic::new(Code::UnknownColumn, "unknown column `\u{1b}]0;x\u{7}`", Span::new(FileId(0), at, at + 2))
                .with_primary_label("here")
                .with_help("did you mean `a\u{1b}[31m`?");
        let out = human(&[d], &[Source::new("c\u{1b}.dqc", text)], false);
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(out.contains("\u{241b}[31m\u{2407}\u{2400}b"), "{out}");
        // The underline still sits under `zz`, after the replacements on the line before.
        let line = out.lines().find(|l| l.contains("not null zz")).unwrap_or_default();
        let marks = out.lines().skip_while(|l| !l.contains("not null zz")).nth(1).unwrap_or_default();
        let column = |l: &str, what: &str| l.find(what).map(|at| l[..at].chars().count());
        assert_eq!(column(line, "zz"), column(marks, "^^"), "{out}");
    }
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
