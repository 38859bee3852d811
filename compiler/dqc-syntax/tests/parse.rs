//! Parser tests: our AST (never pest's tree), spans, precedence, and friendly errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use dqc_diagnostics::FileId;
use dqc_syntax::ast::*;
use dqc_syntax::{expr_text, parse, parse_expr};

fn expr(src: &str) -> Expr {
    parse_expr(src, FileId(0)).expect("parses")
}

/// Prints an expression fully parenthesized, to show the tree the parser built.
fn tree(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Binary(op, l, r) => format!("({} {:?} {})", tree(l), op, tree(r)),
        ExprKind::Unary(op, x) => format!("({op:?} {})", tree(x)),
        ExprKind::Paren(x) => tree(x),
        ExprKind::IsNull { expr, negated } => format!("({} is{} null)", tree(expr), if *negated { " not" } else { "" }),
        ExprKind::Between { expr, low, high, .. } => format!("({} between {} {})", tree(expr), tree(low), tree(high)),
        _ => expr_text(e),
    }
}

#[test]
fn precedence_follows_sql() {
    assert_eq!(tree(&expr("a or b and c")), "(a Or (b And c))");
    assert_eq!(tree(&expr("not a = b")), "(Not (a Cmp(Eq) b))");
    assert_eq!(tree(&expr("a + b * c - d")), "((a Add (b Mul c)) Sub d)");
    assert_eq!(tree(&expr("a || b = c")), "((a Concat b) Cmp(Eq) c)");
    assert_eq!(tree(&expr("-a * b")), "((Neg a) Mul b)");
    assert_eq!(tree(&expr("x between 1 and 2 and y is not null")), "((x between 1 2) And (y is not null))");
}

#[test]
fn keywords_are_case_insensitive_but_names_keep_case() {
    let file = parse("CONTRACT Db.Orders { Columns { Id BIGINT NOT NULL } RULES { Id > 0 SEVERITY WARN } }", FileId(0))
        .unwrap();
    let c = &file.contracts[0];
    assert_eq!(c.name.table.name, "Orders");
    let ItemKind::Columns(cols) = &c.items[0].kind else { panic!("columns") };
    assert_eq!(cols.entries[0].name.name, "Id");
    assert_eq!(cols.entries[0].ty.kind, TypeExprKind::Named("bigint".into()));
}

#[test]
fn spans_are_tight() {
    let src = "contract t {\n  rules {\n    a > 0   -- note\n\n    b in ('x')\n  }\n}\n";
    let file = parse(src, FileId(0)).unwrap();
    let ItemKind::Rules(rules) = &file.contracts[0].items[0].kind else { panic!("rules") };
    let texts: Vec<&str> = rules.entries.iter().map(|r| &src[r.span.range()]).collect();
    assert_eq!(texts, vec!["a > 0", "b in ('x')"]);
    assert_eq!(file.comments.len(), 1);
    assert_eq!(&src[file.comments[0].span.range()], "-- note");
}

#[test]
fn quoted_names_and_strings_unescape() {
    let file = parse("contract \"a\"\"b\" { columns { \"in\" string comment 'it''s' } }", FileId(0)).unwrap();
    assert_eq!(file.contracts[0].name.table.name, "a\"b");
    let ItemKind::Columns(cols) = &file.contracts[0].items[0].kind else { panic!("columns") };
    assert_eq!(cols.entries[0].name.name, "in");
    let [ColumnAttr::Comment(comment)] = cols.entries[0].attrs.as_slice() else { panic!("one comment") };
    assert_eq!(comment.value, "it's");
}

#[test]
fn syntax_errors_name_what_was_expected() {
    let err = parse("contract t { columns { a } }", FileId(0)).unwrap_err();
    assert_eq!(err.code.as_str(), "E0001");
    assert_eq!(err.message, "expected a column type, found `}`");
    let err = parse("contract t { rules { a > } }", FileId(0)).unwrap_err();
    assert_eq!(err.message, "expected a literal or a name, found `}`");
    assert_eq!(err.primary.span.start, 25);
    let err = parse("contract t { owner \"x\" }", FileId(0)).unwrap_err();
    assert_eq!(err.help.as_deref(), Some("strings use single quotes ('text'); double quotes are for names"));
    assert!(!err.message.contains("kw_") && !err.message.contains("Rule"));
}

#[test]
fn reserved_words_need_quotes() {
    assert!(parse("contract t { columns { in int } }", FileId(0)).is_err());
    assert!(parse("contract t { columns { \"in\" int, income int } }", FileId(0)).is_ok());
}
