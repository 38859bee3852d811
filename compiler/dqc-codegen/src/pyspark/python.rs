//! Python source literals.
//!
//! Every value that comes from a contract (names, descriptions, SQL text holding user literals)
//! reaches the generated module through these functions, never spliced raw. The output is
//! ASCII-only: anything outside printable ASCII is written as an escape, so the module means
//! the same under any source encoding and cannot hide control or bidirectional characters.

use std::fmt::Write as _;

/// A Python `str` literal, in double quotes, that evaluates to exactly `value`.
pub fn str_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            _ => {
                let code = u32::from(c);
                // Writing to a String cannot fail.
                let _ = if code <= 0xff {
                    write!(out, "\\x{code:02x}")
                } else if code <= 0xffff {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
        }
    }
    out.push('"');
    out
}

/// `None`, or the string literal.
pub fn optional_str(value: Option<&str>) -> String {
    value.map_or_else(|| "None".to_string(), str_literal)
}

/// `True` or `False`.
pub fn bool_literal(value: bool) -> String {
    if value { "True" } else { "False" }.to_string()
}

/// A tuple of string literals: `()`, `("a",)` or `("a", "b")`.
pub fn str_tuple<S: AsRef<str>>(values: &[S]) -> String {
    let items: Vec<String> = values.iter().map(|v| str_literal(v.as_ref())).collect();
    match items.len() {
        0 => "()".to_string(),
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}

/// The text itself when it can appear in a docstring or comment as is (ASCII letters, digits
/// and `_.-`), so that user-written names never need escaping there.
pub fn plain(text: &str) -> Option<&str> {
    let ok = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    ok.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ascii_is_kept() {
        assert_eq!(str_literal("abc DEF 123 _-.,;:!?'"), "\"abc DEF 123 _-.,;:!?'\"");
        assert_eq!(str_literal(""), "\"\"");
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(str_literal(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(str_literal(r"a\b"), r#""a\\b""#);
        assert_eq!(str_literal(r"\"), r#""\\""#);
        assert_eq!(str_literal(r#"\""#), r#""\\\"""#);
        // A Spark SQL literal with its own escapes survives as text.
        assert_eq!(str_literal(r"'it\'s' RLIKE '^\\d+$'"), r#""'it\\'s' RLIKE '^\\\\d+$'""#);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(str_literal("a\nb\rc\td"), r#""a\nb\rc\td""#);
        assert_eq!(str_literal("\u{0}\u{7}\u{b}\u{1b}\u{7f}"), r#""\x00\x07\x0b\x1b\x7f""#);
    }

    #[test]
    fn non_ascii_is_escaped_by_code_point() {
        assert_eq!(str_literal("naïve"), r#""na\xefve""#);
        assert_eq!(str_literal("日本"), r#""\u65e5\u672c""#);
        assert_eq!(str_literal("😀"), r#""\U0001f600""#);
        // Bidirectional overrides and line separators cannot hide in the source.
        assert_eq!(str_literal("\u{202e}\u{2028}\u{85}"), r#""\u202e\u2028\x85""#);
    }

    #[test]
    fn output_is_printable_ascii() {
        let nasty = "\"'\\\n\r\t\u{0}é日😀\u{202e}`{}%";
        let lit = str_literal(nasty);
        assert!(lit.chars().all(|c| (' '..='~').contains(&c)), "{lit}");
    }

    #[test]
    fn tuples_and_options() {
        assert_eq!(str_tuple::<&str>(&[]), "()");
        assert_eq!(str_tuple(&["a"]), "(\"a\",)");
        assert_eq!(str_tuple(&["a", "b\"c"]), "(\"a\", \"b\\\"c\")");
        assert_eq!(optional_str(None), "None");
        assert_eq!(optional_str(Some("x")), "\"x\"");
        assert_eq!(bool_literal(true), "True");
        assert_eq!(bool_literal(false), "False");
    }

    #[test]
    fn plain_names_only() {
        assert_eq!(plain("sales.orders"), Some("sales.orders"));
        assert_eq!(plain("odd-db.x_1"), Some("odd-db.x_1"));
        assert_eq!(plain("weird col"), None);
        assert_eq!(plain("a\"\"\"b"), None);
        assert_eq!(plain(""), None);
    }
}
