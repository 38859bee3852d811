//! The error returned when a script is not valid Python.

use schemars::JsonSchema;
use serde::Serialize;
use std::fmt;

use crate::source::LineIndex;

/// A script that cannot be parsed as Python.
///
/// Only syntax errors are errors: everything the analyser cannot follow in a
/// valid script is reported in [`crate::JobAnalysis::unresolved`] instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ParseError {
    /// 1-based line of the error.
    pub line: u32,
    /// 1-based column of the error, in characters.
    pub column: u32,
    /// What is wrong, in lowercase words.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// Converts the Python parser's error into positions in `src`.
    pub(crate) fn from_python(src: &str, err: &rustpython_parser::ParseError) -> Self {
        let offset = usize::try_from(u32::from(err.offset)).unwrap_or(usize::MAX);
        let loc = LineIndex::new(src).location(src, offset);
        Self { line: loc.line, column: loc.column, message: describe(&err.error) }
    }
}

/// Words for the parser's error kinds, without the parser's token names.
fn describe(err: &rustpython_parser::ParseErrorType) -> String {
    use rustpython_parser::ParseErrorType as E;
    match err {
        E::Eof => "unexpected end of file".to_owned(),
        E::ExtraToken(tok) => format!("unexpected `{tok}`"),
        E::InvalidToken => "invalid token".to_owned(),
        E::UnrecognizedToken(tok, expected) => match expected {
            Some(exp) => format!("unexpected `{tok}`, expected {exp}"),
            None => format!("unexpected `{tok}`"),
        },
        E::Lexical(lex) => lowercase_first(&lex.to_string()),
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
