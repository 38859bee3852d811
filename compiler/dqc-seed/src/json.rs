//! Reading JSON with positions.
//!
//! LLM output is JSON wrapped in prose or Markdown fences. [`parse_document`] finds the JSON in
//! the text, parses it with `jsonc-parser` (which keeps byte ranges and tolerates comments and
//! trailing commas) and reports problems with spans into the original text. [`Reader`] walks the
//! parsed value by field name, tracking the JSON path of every node (`data_quality.columns.id`)
//! so shape errors can name the field and point at it.

use dqc_diagnostics::{Code, Diagnostic, FileId, Span};
use jsonc_parser::ast::Value;
use jsonc_parser::common::{Range, Ranged};
use jsonc_parser::{CollectOptions, ParseOptions};

/// A parsed JSON document and where its text starts in the original input.
pub(crate) struct Document<'a> {
    /// The root value; its ranges are relative to `offset`.
    pub value: Value<'a>,
    /// Byte offset of the parsed slice within the original text.
    pub offset: usize,
}

/// Finds the JSON in `text` and parses it, or reports E0901 at the failing position.
///
/// Every bracketed region is a candidate, in order; the first that parses to an object (or an
/// array of objects) wins. Prose can hold brackets too (`see [1]`), so when nothing wins, the
/// longest candidate decides: its value, or where it failed to parse.
pub(crate) fn parse_document(text: &str, file: FileId) -> Result<Document<'_>, Diagnostic> {
    let mut error: Option<(usize, Diagnostic)> = None;
    let mut fallback: Option<(usize, Document<'_>)> = None;
    let mut pos = search_start(text);
    while let Some(start) = next_open_bracket(text, pos) {
        let (end, too_deep) = balanced_end(text, start);
        let slice = text.get(start..end).unwrap_or_default();
        let len = end - start;
        if let Some(at) = too_deep {
            // The parser and every walk over its tree recurse once per level: refuse before parsing.
            if error.as_ref().is_none_or(|(l, _)| len > *l) {
                let d = Diagnostic::new(
                    Code::InvalidJson,
                    format!("invalid JSON: nested more than {MAX_JSON_DEPTH} levels deep"),
                    Span::new(file, at, at + 1),
                )
                .with_primary_label("this bracket is one level too deep")
                .with_help("the seed shape nests a few levels; this input is not a contract");
                error = Some((len, d));
            }
            pos = end.max(start + 1);
            continue;
        }
        match jsonc_parser::parse_to_ast(slice, &CollectOptions::default(), &ParseOptions::default()) {
            Ok(result) => {
                if let Some(value) = result.value {
                    let doc = Document { value, offset: start };
                    if looks_like_output(&doc.value) {
                        return Ok(doc);
                    }
                    if fallback.as_ref().is_none_or(|(l, _)| len > *l) {
                        fallback = Some((len, doc));
                    }
                }
            }
            Err(e) if error.as_ref().is_none_or(|(l, _)| len > *l) => {
                let range = e.range();
                let message = lowercase_first(&e.kind().to_string());
                let span = error_span(text, file, start + range.start, start + range.end);
                let d = Diagnostic::new(Code::InvalidJson, format!("invalid JSON: {message}"), span)
                    .with_primary_label("the JSON stops making sense here");
                error = Some((len, d));
            }
            Err(_) => {}
        }
        pos = end.max(start + 1);
    }
    match (fallback, error) {
        (Some((parsed, _)), Some((failed, d))) if failed > parsed => Err(d),
        (Some((_, doc)), _) => Ok(doc),
        (None, Some((_, d))) => Err(d),
        (None, None) => Err(no_json(text, file)),
    }
}

/// The span of a parse error without the whitespace the parser's range may include.
fn error_span(text: &str, file: FileId, start: usize, end: usize) -> Span {
    let covered = text.get(start..end).unwrap_or_default();
    let trimmed = covered.trim_end().len();
    Span::new(file, start, if trimmed == 0 { end } else { start + trimmed })
}

/// E0901 for a text without any `{` or `[`.
fn no_json(text: &str, file: FileId) -> Diagnostic {
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len().max(start);
    Diagnostic::new(Code::InvalidJson, "no JSON object found", Span::new(file, start, end))
        .with_primary_label("expected a JSON object here")
        .with_help("the input must contain a JSON object with a `data_quality` field")
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An object, or an array of objects: the shapes the importer reads. Prose such as `see [1]`
/// before the real JSON parses too, so such candidates are only a fallback.
fn looks_like_output(value: &Value<'_>) -> bool {
    match value {
        Value::Object(_) => true,
        Value::Array(a) => !a.elements.is_empty() && a.elements.iter().all(|e| matches!(e, Value::Object(_))),
        _ => false,
    }
}

/// Where to look for the JSON: after an opening Markdown fence when one comes before the
/// first bracket (a fence later on may be inside a JSON string, such as `docs_markdown`).
fn search_start(text: &str) -> usize {
    let first_bracket = next_open_bracket(text, 0).unwrap_or(text.len());
    match text.find("```") {
        Some(fence) if fence < first_bracket => {
            text.get(fence..).and_then(|rest| rest.find('\n')).map_or(text.len(), |nl| fence + nl + 1)
        }
        _ => 0,
    }
}

fn next_open_bracket(text: &str, from: usize) -> Option<usize> {
    let rest = text.as_bytes().get(from..)?;
    rest.iter().position(|b| matches!(b, b'{' | b'[')).map(|i| from + i)
}

/// The deepest nesting of objects and arrays the importer parses. The seed shape needs about
/// six levels; the JSON parser recurses once per level, so deeper input is refused unparsed.
pub(crate) const MAX_JSON_DEPTH: usize = 128;

/// The end of the bracketed value starting at `start`: just past the bracket that closes it,
/// skipping strings and comments; the end of the text when it never closes (the parser then
/// reports where it broke off). Also the position of the first bracket deeper than
/// [`MAX_JSON_DEPTH`], if any.
fn balanced_end(text: &str, start: usize) -> (usize, Option<usize>) {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut too_deep = None;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' | b'\'' => i = skip_string(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = bytes.get(i..).and_then(|r| r.iter().position(|c| *c == b'\n')).map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find_from(bytes, i + 2, b"*/").map_or(bytes.len(), |n| n + 1);
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH && too_deep.is_none() {
                    too_deep = Some(i);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return (i + 1, too_deep);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (bytes.len(), too_deep)
}

/// The index of the closing quote of the string opening at `open` (or the last byte).
fn skip_string(bytes: &[u8], open: usize) -> usize {
    let quote = bytes.get(open).copied();
    let mut i = open + 1;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' {
            i += 2;
            continue;
        }
        if Some(b) == quote {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| from + i)
}

/// A JSON value with the path that leads to it.
#[derive(Debug, Clone)]
pub(crate) struct Node<'j> {
    /// The value.
    pub value: &'j Value<'j>,
    /// The JSON path, such as `data_quality.columns.status.rules[1]`; empty for the root.
    pub path: String,
    /// The key that names this value in its object.
    pub key: Option<Range>,
}

impl<'j> Node<'j> {
    /// The root of a document.
    pub fn root(value: &'j Value<'j>) -> Self {
        Node { value, path: String::new(), key: None }
    }

    /// The path of a field of this node.
    fn child_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// A field, when this is an object that has it (`null` counts as absent).
    pub fn get(&self, name: &str) -> Option<Node<'j>> {
        let Value::Object(obj) = self.value else { return None };
        let prop = obj.properties.iter().find(|p| p.name.as_str() == name)?;
        if matches!(prop.value, Value::NullKeyword(_)) {
            return None;
        }
        Some(Node { value: &prop.value, path: self.child_path(name), key: Some(prop.name.range()) })
    }

    /// The first field present among `names` (a name and its aliases).
    pub fn get_any(&self, names: &[&str]) -> Option<Node<'j>> {
        names.iter().find_map(|n| self.get(n))
    }

    /// The fields of an object in written order.
    pub fn entries(&self) -> Vec<(String, Node<'j>)> {
        let Value::Object(obj) = self.value else { return Vec::new() };
        obj.properties
            .iter()
            .map(|p| {
                let name = p.name.as_str().to_string();
                let node = Node { value: &p.value, path: self.child_path(&name), key: Some(p.name.range()) };
                (name, node)
            })
            .collect()
    }

    /// The elements of an array.
    pub fn elements(&self) -> Vec<Node<'j>> {
        let Value::Array(arr) = self.value else { return Vec::new() };
        arr.elements
            .iter()
            .enumerate()
            .map(|(i, v)| Node { value: v, path: format!("{}[{i}]", self.path), key: None })
            .collect()
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&'j str> {
        match self.value {
            Value::StringLit(s) => Some(s.value.as_ref()),
            _ => None,
        }
    }

    /// The path as printed in messages.
    pub fn shown_path(&self) -> String {
        if self.path.is_empty() {
            "the top-level value".to_string()
        } else {
            format!("`{}`", self.path)
        }
    }
}

/// What kind of JSON value, for messages.
pub(crate) fn kind_name(value: &Value<'_>) -> &'static str {
    match value {
        Value::StringLit(_) => "a string",
        Value::NumberLit(_) => "a number",
        Value::BooleanLit(_) => "a boolean",
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        Value::NullKeyword(_) => "null",
    }
}

/// Collects diagnostics while reading a document, turning JSON ranges into spans.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    /// The file diagnostics point into.
    pub file: FileId,
    /// The whole input text.
    pub source: &'a str,
    /// Where the parsed JSON starts in `source`.
    pub offset: usize,
    /// What was found so far.
    pub diags: Vec<Diagnostic>,
}

impl Reader<'_> {
    /// A span over a JSON range.
    pub fn span(&self, range: Range) -> Span {
        Span::new(self.file, self.offset + range.start, self.offset + range.end)
    }

    /// The span of a node's value.
    pub fn value_span(&self, node: &Node<'_>) -> Span {
        self.span(node.value.range())
    }

    /// Whether an error was reported since the diagnostics numbered `before` (warnings, such
    /// as an approximation, do not stop what is being read).
    pub fn failed_since(&self, before: usize) -> bool {
        self.diags.get(before..).is_some_and(|new| new.iter().any(Diagnostic::is_error))
    }

    /// Where to point when something is missing from `node`: its key, or its first character.
    pub fn anchor(&self, node: &Node<'_>) -> Span {
        match node.key {
            Some(key) => self.span(key),
            None => {
                let start = node.value.range().start;
                self.span(Range::new(start, start + 1))
            }
        }
    }

    /// Reports E0902 at a node's value.
    pub fn shape(&mut self, node: &Node<'_>, message: impl Into<String>, label: impl Into<String>) {
        let d = Diagnostic::new(Code::UnexpectedJsonShape, message, self.value_span(node)).with_primary_label(label);
        self.diags.push(d);
    }

    /// Reports E0902 for a value of the wrong kind.
    pub fn wrong_kind(&mut self, node: &Node<'_>, expected: &str) {
        let found = kind_name(node.value);
        self.shape(
            node,
            format!("{} must be {expected}, found {found}", node.shown_path()),
            format!("expected {expected}"),
        );
    }

    /// Reports W0904 at a span.
    pub fn approximation(&mut self, span: Span, message: impl Into<String>, label: impl Into<String>) {
        self.diags.push(Diagnostic::new(Code::ImportApproximation, message, span).with_primary_label(label));
    }

    /// A required field, or E0902 naming it.
    pub fn require<'j>(&mut self, node: &Node<'j>, name: &str) -> Option<Node<'j>> {
        if let Some(found) = node.get(name) {
            return Some(found);
        }
        let path = node.child_path(name);
        let d = Diagnostic::new(Code::UnexpectedJsonShape, format!("missing `{path}`"), self.anchor(node))
            .with_primary_label(format!("this object has no `{name}`"));
        self.diags.push(d);
        None
    }

    /// The string value of a node, or E0902.
    pub fn string(&mut self, node: &Node<'_>) -> Option<String> {
        match node.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.wrong_kind(node, "a string");
                None
            }
        }
    }

    /// An optional string field (under any of `names`).
    pub fn opt_string<'j>(&mut self, node: &Node<'j>, names: &[&str]) -> Option<(String, Node<'j>)> {
        let field = node.get_any(names)?;
        self.string(&field).map(|s| (s, field))
    }

    /// An optional boolean field.
    pub fn opt_bool(&mut self, node: &Node<'_>, name: &str) -> Option<bool> {
        let field = node.get(name)?;
        match field.value {
            Value::BooleanLit(b) => Some(b.value),
            _ => {
                self.wrong_kind(&field, "`true` or `false`");
                None
            }
        }
    }

    /// An optional array field.
    pub fn opt_array<'j>(&mut self, node: &Node<'j>, names: &[&str]) -> Option<(Vec<Node<'j>>, Node<'j>)> {
        let field = node.get_any(names)?;
        match field.value {
            Value::Array(_) => Some((field.elements(), field)),
            _ => {
                self.wrong_kind(&field, "an array");
                None
            }
        }
    }

    /// A non-negative whole number field, from a JSON number or a numeric string.
    pub fn opt_count(&mut self, node: &Node<'_>, name: &str) -> Option<u64> {
        let field = node.get(name)?;
        let text = match field.value {
            Value::NumberLit(n) => n.value,
            Value::StringLit(s) => s.value.as_ref(),
            _ => "",
        };
        match crate::values::canonical_decimal(text).and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => Some(n),
            None => {
                self.wrong_kind(&field, "a whole number");
                None
            }
        }
    }

    /// A span inside a string node: `start..end` are byte offsets into its unescaped value.
    pub fn string_span(&self, node: &Node<'_>, start: usize, end: usize) -> Span {
        let range = node.value.range();
        let raw = self.source.get(self.offset + range.start..self.offset + range.end).unwrap_or_default();
        let map = |offset: usize| range.start + raw_offset(raw, offset);
        self.span(Range::new(map(start), map(end)))
    }
}

/// The byte offset in a quoted JSON string literal (`raw`, quotes included) of the unescaped
/// value's byte `offset`.
fn raw_offset(raw: &str, offset: usize) -> usize {
    let mut decoded = 0usize;
    let mut chars = raw.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if decoded >= offset {
            return i;
        }
        if c != '\\' {
            if chars.peek().is_none() {
                // The closing quote.
                return i;
            }
            decoded += c.len_utf8();
            continue;
        }
        match chars.next() {
            Some((_, 'u')) => {
                let hex: String = (0..4).filter_map(|_| chars.next().map(|(_, h)| h)).collect();
                let unit = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                decoded += if (0xD800..0xDC00).contains(&unit) {
                    // A surrogate pair: skip the second `\uXXXX`; together they make 4 bytes.
                    for _ in 0..6 {
                        chars.next();
                    }
                    4
                } else {
                    char::from_u32(unit).map_or(3, char::len_utf8)
                };
            }
            Some(_) => decoded += 1,
            None => return i,
        }
    }
    raw.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(text: &str) -> (usize, usize) {
        let doc = parse_document(text, FileId(0)).unwrap();
        (doc.offset, doc.offset + doc.value.range().end)
    }

    #[test]
    fn finds_json_inside_fences_and_prose() {
        let text = "Sure! Here it is:\n```json\n{\"a\": [1, {\"b\": \"}\"}]}\n```\nHope [this] helps.";
        let (start, end) = located(text);
        assert_eq!(&text[start..end], "{\"a\": [1, {\"b\": \"}\"}]}");
    }

    #[test]
    fn skips_bracketed_prose_before_the_json() {
        let text = "Output [draft]: {\"x\": 1} // done";
        let (start, end) = located(text);
        assert_eq!(&text[start..end], "{\"x\": 1}");
    }

    #[test]
    fn reports_the_failing_position_in_the_original_text() {
        let text = "prose {\"a\": 1,, \"b\": 2}";
        let d = parse_document(text, FileId(3)).err().unwrap();
        assert_eq!(d.code, Code::InvalidJson);
        assert_eq!(d.primary.span.file, FileId(3));
        assert_eq!(&text[d.primary.span.range()], ",");
        assert_eq!(d.primary.span.start, 14);
    }

    #[test]
    fn reports_the_json_not_the_bracketed_prose_before_it() {
        let text = "Draft [1]: {\"a\": [1, 2,, 3]} (see [notes])";
        let d = parse_document(text, FileId(0)).err().unwrap();
        assert_eq!(d.primary.span.start as usize, text.find(",,").unwrap() + 1);
    }

    #[test]
    fn text_without_json_is_reported() {
        let d = parse_document("  nothing here  ", FileId(0)).err().unwrap();
        assert_eq!(d.code, Code::InvalidJson);
        assert_eq!(d.primary.span.range(), 2..14);
    }

    #[test]
    fn maps_unescaped_offsets_to_raw_offsets() {
        let raw = r#""a\"b\u00e9c""#;
        assert_eq!(raw_offset(raw, 0), 1);
        assert_eq!(raw_offset(raw, 1), 2);
        assert_eq!(raw_offset(raw, 2), 4);
        assert_eq!(raw_offset(raw, 3), 5);
        // `é` is two bytes once unescaped, six when escaped.
        assert_eq!(raw_offset(raw, 5), 11);
        assert_eq!(raw_offset(raw, 6), 12);
    }
}
