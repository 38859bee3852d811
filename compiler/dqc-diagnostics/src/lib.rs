//! Diagnostics as data.
//!
//! Every stage of the compiler reports problems as [`Diagnostic`] values: a stable [`Code`],
//! a severity, a lowercase message, a primary [`Label`] with a [`Span`], secondary labels and
//! optional help. Nothing here renders; the CLI renders at the edge (colour on a terminal,
//! plain text in goldens, JSON for machines).
//!
//! The catalog of codes, with a long explanation per code for `dqc explain`, lives in [`codes`].

pub mod codes;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use codes::Code;

/// Identifies one source text in a compilation (an index into the caller's list of sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub struct FileId(pub u32);

/// A byte range in one source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub struct Span {
    /// The source text the range belongs to.
    pub file: FileId,
    /// Byte offset of the first character.
    pub start: u32,
    /// Byte offset one past the last character.
    pub end: u32,
}

impl Span {
    /// A span over `start..end` in `file`; offsets beyond `u32::MAX` saturate.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { file, start: clamp(start), end: clamp(end.max(start)) }
    }

    /// The smallest span covering both `self` and `other` (which must share a file).
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// The byte range, for slicing the source text.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input is wrong; nothing is produced from it.
    Error,
    /// The input is valid but probably not what was meant.
    Warning,
}

/// A span with a short message to print under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there; may be empty.
    pub message: String,
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnostic {
    /// Stable code, such as `E0101`.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// Lowercase, no final period, user input in backticks.
    pub message: String,
    /// The main location.
    pub primary: Label,
    /// Further locations that explain the problem.
    pub labels: Vec<Label>,
    /// A suggestion for a fix.
    pub help: Option<String>,
    /// Further facts.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the severity the catalog gives `code`.
    pub fn new(code: Code, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary: Label { span, message: String::new() },
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Sets the message printed under the primary span.
    pub fn with_primary_label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into() });
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file, position, then code, so output order never depends on the order
/// in which checks ran.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| (a.primary.span, a.code, &a.message).cmp(&(b.primary.span, b.code, &b.message)));
}

/// Suggests the candidate closest to `name`, if one is close enough to be a plausible typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(&lower, &candidate.to_ascii_lowercase());
        if score >= 0.8 && best.is_none_or(|(s, c)| score > s || (score == s && candidate < c)) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let cands = ["payment_date", "emi_amount", "status"];
        assert_eq!(did_you_mean("paymnt_date", cands), Some("payment_date"));
        assert_eq!(did_you_mean("EMI_AMOUNT", cands), Some("emi_amount"));
        assert_eq!(did_you_mean("zzz", cands), None);
    }

    #[test]
    fn span_join_and_range() {
        let a = Span::new(FileId(0), 3, 5);
        let b = Span::new(FileId(0), 10, 12);
        assert_eq!(a.to(b).range(), 3..12);
    }
}
