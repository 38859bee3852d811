//! Portable regexes rewritten for Java (Spark's `RLIKE`) so that they mean what RE2 (DuckDB)
//! means by them.
//!
//! The checker accepts a subset that every engine parses alike (see `dqc explain E0302`). A few
//! constructs in that subset still match different text in Java, and are rewritten here:
//!
//! | construct         | RE2 meaning                        | Java spelling emitted        |
//! |-------------------|------------------------------------|------------------------------|
//! | `.`               | any character but `\n`             | `[^\n]`                      |
//! | `$`               | end of text only                   | `\z`                         |
//! | `\s`              | `[\t\n\f\r ]` (no `\v`)            | `[\t\n\f\r ]`                |
//! | `\S`              | anything else                      | explicit code-point ranges   |
//! | `\v`              | the vertical tab only              | `\x0B`                       |
//! | `(?i)`, `(?i:`    | Unicode simple case folding        | `(?iu)`, `(?iu:`             |
//! | `[` inside `[..]` | a literal bracket                  | `\[` (Java would nest)       |
//! | `]` first in `[..]` | a literal bracket                | `\]`                         |
//!
//! Text inside `\Q...\E` is literal in both and copied unchanged.

/// Characters `\s` matches in RE2, as they are written inside a Java class.
const SPACE_CLASS_BODY: &str = "\\t\\n\\f\\r ";
/// Everything `\S` matches in RE2 (all code points but `\t \n \f \r` and space), as class ranges.
const NON_SPACE_CLASS_BODY: &str = "\\x00-\\x08\\x0B\\x0E-\\x1F\\x21-\\x{10FFFF}";

/// Rewrites a checked, portable pattern into a Java pattern with RE2's meaning.
pub fn to_java(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    // True right after `[` or `[^`, where a `]` is a literal.
    let mut class_start = false;
    while let Some(c) = chars.next() {
        let at_class_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                match next {
                    'Q' => {
                        out.push_str("\\Q");
                        copy_quoted(&mut chars, &mut out);
                    }
                    's' if in_class => out.push_str(SPACE_CLASS_BODY),
                    's' => {
                        out.push('[');
                        out.push_str(SPACE_CLASS_BODY);
                        out.push(']');
                    }
                    'S' if in_class => out.push_str(NON_SPACE_CLASS_BODY),
                    'S' => {
                        out.push('[');
                        out.push_str(NON_SPACE_CLASS_BODY);
                        out.push(']');
                    }
                    'v' => out.push_str("\\x0B"),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            _ if in_class => match c {
                ']' if at_class_start => out.push_str("\\]"),
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '[' => out.push_str("\\["),
                '^' if at_class_start && out.ends_with('[') => {
                    out.push('^');
                    class_start = true;
                }
                other => out.push(other),
            },
            '[' => {
                in_class = true;
                class_start = true;
                out.push('[');
            }
            '.' => out.push_str("[^\\n]"),
            '$' => out.push_str("\\z"),
            '(' if chars.peek() == Some(&'?') => {
                out.push('(');
                if let Some(q) = chars.next() {
                    out.push(q);
                }
                // Only `i` is accepted as an inline flag; Java needs `u` to fold beyond ASCII.
                if chars.peek() == Some(&'i') {
                    chars.next();
                    out.push_str("iu");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Copies the rest of a `\Q...\E` quote, the closing `\E` included.
fn copy_quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '\\' && chars.peek() == Some(&'E') {
            out.push('E');
            chars.next();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::to_java;

    #[test]
    fn rewrites_the_constructs_java_reads_differently() {
        assert_eq!(to_java("^a.b$"), "^a[^\\n]b\\z");
        assert_eq!(to_java("(?i)^k$"), "(?iu)^k\\z");
        assert_eq!(to_java("(?i:ab)c"), "(?iu:ab)c");
        assert_eq!(to_java("^\\s+$"), "^[\\t\\n\\f\\r ]+\\z");
        assert_eq!(to_java("^\\S+$"), "^[\\x00-\\x08\\x0B\\x0E-\\x1F\\x21-\\x{10FFFF}]+\\z");
        assert_eq!(to_java("[\\sx]"), "[\\t\\n\\f\\r x]");
        assert_eq!(to_java("a\\vb"), "a\\x0Bb");
    }

    #[test]
    fn leaves_literals_and_classes_alone() {
        assert_eq!(to_java("^L[0-9]{8}$"), "^L[0-9]{8}\\z");
        assert_eq!(to_java("[.$]\\.\\$"), "[.$]\\.\\$");
        assert_eq!(to_java("[]a]"), "[\\]a]");
        assert_eq!(to_java("[^]a]"), "[^\\]a]");
        assert_eq!(to_java("[a[b]"), "[a\\[b]");
        assert_eq!(to_java("\\Q.$\\E."), "\\Q.$\\E[^\\n]");
        assert_eq!(to_java("(?<y>\\d{4})"), "(?<y>\\d{4})");
        assert_eq!(to_java("(?:x)"), "(?:x)");
        assert_eq!(to_java("日本\\d"), "日本\\d");
    }
}
