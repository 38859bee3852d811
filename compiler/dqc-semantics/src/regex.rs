//! Regex validation: syntax (with the position inside the pattern) and portability across
//! Java (Spark `rlike`), Trino (Athena `regexp_like`) and RE2 (DuckDB `regexp_matches`).

use dqc_diagnostics::{Code, Diagnostic, Span};

/// Checks a pattern; `span` covers the quoted literal, whose content starts one byte later.
pub fn check_pattern(pattern: &str, span: Span, source_text: Option<&str>, diags: &mut Vec<Diagnostic>) -> bool {
    if let Some((offset, len, feature)) = non_portable(pattern) {
        diags.push(
            Diagnostic::new(
                Code::NonPortableRegex,
                format!("regex uses {feature}, which Spark, Athena and DuckDB do not treat alike"),
                inner_span(span, pattern, source_text, offset, len),
            )
            .with_primary_label("not portable")
            .with_help("see `dqc explain E0302` for the portable subset"),
        );
        return false;
    }
    if let Err(e) = regex_syntax::ParserBuilder::new().build().parse(pattern) {
        let (offset, len, message) = match &e {
            regex_syntax::Error::Parse(p) => {
                (p.span().start.offset, p.span().end.offset.saturating_sub(p.span().start.offset), p.kind().to_string())
            }
            regex_syntax::Error::Translate(t) => {
                (t.span().start.offset, t.span().end.offset.saturating_sub(t.span().start.offset), t.kind().to_string())
            }
            _ => (0, pattern.len(), e.to_string()),
        };
        diags.push(
            Diagnostic::new(
                Code::InvalidRegex,
                format!("invalid regex: {message}"),
                inner_span(span, pattern, source_text, offset, len),
            )
            .with_primary_label(message),
        );
        return false;
    }
    true
}

/// Maps an offset in the unescaped pattern to a span in the source literal. When the literal
/// contains doubled quotes, offsets shift; then the whole literal is marked.
fn inner_span(span: Span, pattern: &str, source_text: Option<&str>, offset: usize, len: usize) -> Span {
    let literal = source_text.and_then(|s| s.get(span.range()));
    let exact = literal.is_some_and(|l| l.len() == pattern.len() + 2);
    if !exact {
        return span;
    }
    let start = span.start as usize + 1 + offset;
    Span::new(span.file, start, start + len.max(1))
}

/// Finds the first non-portable construct: (byte offset, length, description).
pub fn non_portable(pattern: &str) -> Option<(usize, usize, &'static str)> {
    let bytes = pattern.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < bytes.len() {
        // Only ASCII starts a construct; inside a multi-byte character `rest` is empty.
        let rest = pattern.get(i..).unwrap_or("");
        let b = bytes[i];
        if b == b'\\' {
            let next = bytes.get(i + 1).copied().unwrap_or(b'\\');
            let found = match next {
                b'1'..=b'9' => Some("a backreference"),
                b'k' => Some("a named backreference"),
                b'Z' | b'G' => Some("a `\\Z` or `\\G` anchor"),
                b'h' | b'H' | b'R' | b'X' => Some("a Java-only escape"),
                b'p' | b'P' => Some("a Unicode class escape"),
                b'u' => Some("a `\\u` escape (RE2 has no `\\u`; write `\\x{..}`)"),
                b'0' => Some("an octal escape"),
                b'e' | b'c' => Some("a Java-only escape"),
                b'b' | b'B' => Some("a word boundary (Java and RE2 disagree next to non-ASCII letters)"),
                _ => None,
            };
            if let Some(f) = found {
                return Some((i, 2, f));
            }
            i += 2;
            continue;
        }
        if in_class {
            if b == b']' {
                in_class = false;
            } else if rest.starts_with("[:") || rest.starts_with("&&") {
                return Some((i, 2, "a class operation or POSIX class"));
            }
            i += 1;
            continue;
        }
        match b {
            b'[' => {
                in_class = true;
                // A `]` right after `[` or `[^` is a literal in every engine.
                if rest.starts_with("[]") {
                    i += 1;
                } else if rest.starts_with("[^]") {
                    i += 2;
                }
            }
            b'(' if rest.starts_with("(?") => {
                for (prefix, what) in [
                    ("(?=", "lookahead"),
                    ("(?!", "negative lookahead"),
                    ("(?<=", "lookbehind"),
                    ("(?<!", "negative lookbehind"),
                    ("(?>", "an atomic group"),
                ] {
                    if rest.starts_with(prefix) {
                        return Some((i, prefix.len(), what));
                    }
                }
                let flags_end = rest.find([')', ':']).unwrap_or(rest.len());
                let flags = rest.get(2..flags_end).unwrap_or("");
                if flags.starts_with("P<") || flags.starts_with("P=") || flags.starts_with("P>") {
                    return Some((i, 3, "a `(?P<name>` group (Java has only `(?<name>`)"));
                }
                let is_group_name = flags.starts_with('<');
                if !is_group_name && !flags.is_empty() && flags != "i" {
                    return Some((i, flags_end + 1, "inline flags other than `(?i)`"));
                }
            }
            b'*' | b'+' | b'?' | b'}' if bytes.get(i + 1) == Some(&b'+') => {
                return Some((i, 2, "a possessive quantifier"));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_and_not() {
        assert_eq!(non_portable("^L[0-9]{8}$"), None);
        assert_eq!(non_portable("^[A-Z]+(?:-[A-Z]+)*$"), None);
        assert_eq!(non_portable("(?i)^abc$"), None);
        assert_eq!(non_portable("(a)\\1").map(|f| f.2), Some("a backreference"));
        assert_eq!(non_portable("foo(?=bar)").map(|f| f.0), Some(3));
        assert_eq!(non_portable("a++").map(|f| f.2), Some("a possessive quantifier"));
        assert_eq!(non_portable("[a\\]+]").map(|f| f.2), None);
        assert_eq!(non_portable("(?s).*").map(|f| f.2), Some("inline flags other than `(?i)`"));
        assert!(non_portable("(?P<y>\\d{4})").is_some());
        assert!(non_portable("\\u0041").is_some());
        assert_eq!(non_portable("(?<y>\\d{4})"), None);
        assert_eq!(non_portable("(?i)^é$"), None);
        assert_eq!(non_portable("日本\\d"), None);
        assert!(non_portable("\\bword").is_some());
    }
}
