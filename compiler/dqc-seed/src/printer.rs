//! Prints IR back as contract-language text.
//!
//! The output parses, and checks, to the same IR: expressions get exactly the parentheses the
//! grammar's precedence needs (the IR does not keep the ones the author wrote), names are
//! quoted only when they must be, and numbers are the IR's canonical decimals.

use dqc_ir::{
    AnomalyMethod, BinaryOp, Bound, CmpOp, Contract, Expr, ExprKind, KeepPolicy, Measure, Operand, Rule, RuleKind,
    Severity, TableRef, Type, UnaryOp, Value,
};
use dqc_syntax::{quote_ident, quote_string};

/// A whole contract, in the layout the formatter would give it (minus column alignment).
pub fn contract_text(c: &Contract) -> String {
    let mut out = format!("contract {} {{\n", table_text(&c.table));
    let mut prop = |text: String| out.push_str(&format!("  {text}\n"));
    if let Some(owner) = &c.owner {
        prop(format!("owner {}", quote_string(owner)));
    }
    if let Some(description) = &c.description {
        prop(format!("description {}", quote_string(description)));
    }
    if let Some(layer) = &c.layer {
        prop(format!("layer {layer}"));
    }
    if let Some(location) = &c.location {
        prop(format!("location {}", quote_string(location)));
    }
    if !c.partitions.is_empty() {
        prop(format!("partitioned by {}", name_list(&c.partitions)));
    }
    if !c.grain.is_empty() {
        prop(format!("grain {}", name_list(&c.grain)));
    }
    if let Some(sla) = &c.sla {
        let by = sla.by_utc.as_ref().map(|t| format!(" by {t} utc")).unwrap_or_default();
        prop(format!("sla {}{by}", sla.frequency.as_str()));
    }
    out.push_str("\n  columns {\n");
    for col in &c.columns {
        let mut line = format!("    {} {}", quote_ident(&col.name), type_text(&col.ty));
        if !col.nullable {
            line.push_str(" not null");
        }
        if col.pii {
            line.push_str(" pii");
        }
        if let Some(d) = &col.description {
            line.push_str(&format!(" comment {}", quote_string(d)));
        }
        out.push_str(&line);
        out.push_str(",\n");
    }
    out.push_str("  }\n");
    let explicit: Vec<&Rule> = c.rules.iter().filter(|r| !r.implicit).collect();
    if !explicit.is_empty() {
        out.push_str("\n  rules {\n");
        for r in explicit {
            out.push_str(&format!("    {}: {}\n", r.id, rule_text(r)));
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// A rule without its id: the body followed by the modifiers that differ from the defaults.
pub fn rule_text(r: &Rule) -> String {
    let mut text = body_text(&r.kind);
    if let Some(filter) = &r.filter {
        text.push_str(&format!(" where {}", expr_text(filter)));
    }
    if r.severity == Severity::Warn {
        text.push_str(" severity warn");
    }
    if !r.stage_inferred {
        text.push_str(&format!(" stage {}", r.stage.as_str()));
    }
    if let Some(p) = &r.min_pass_percent {
        text.push_str(&format!(" at least {p}%"));
    }
    if let Some(because) = &r.because {
        text.push_str(&format!(" because {}", quote_string(because)));
    }
    text
}

/// What a rule requires, as written in a `rules` block.
pub fn body_text(kind: &RuleKind) -> String {
    match kind {
        RuleKind::NotNull { column } => format!("not null {}", quote_ident(column)),
        RuleKind::Unique { columns, keep } => format!("unique {}{}", columns_text(columns), keep_text(keep.as_ref())),
        RuleKind::AllowedValues { column, values } => {
            let values: Vec<String> = values.iter().map(value_text).collect();
            format!("{} in ({})", quote_ident(column), values.join(", "))
        }
        RuleKind::Range { column, measure, min, max } => {
            let subject = match measure {
                Measure::Value => quote_ident(column),
                Measure::Length => format!("length({})", quote_ident(column)),
            };
            bounds_text(&subject, min.as_ref(), max.as_ref())
        }
        RuleKind::Compare { column, op, right } => {
            let right = match right {
                Operand::Column { name } => quote_ident(name),
                Operand::Value { value } => value_text(value),
            };
            format!("{} {} {right}", quote_ident(column), cmp_text(*op))
        }
        RuleKind::Regex { column, pattern } => format!("{} matches {}", quote_ident(column), quote_string(pattern)),
        RuleKind::ForeignKey { columns, table, ref_columns } => {
            format!("{} references {} {}", columns_text(columns), table_text(table), name_list(ref_columns))
        }
        RuleKind::Freshness { column, max_age_seconds } => {
            format!("freshness {} within {}", quote_ident(column), duration_text(*max_age_seconds))
        }
        RuleKind::RowCount { min, max } => bounds_text("row_count", min.as_ref(), max.as_ref()),
        RuleKind::Aggregate { function, column, min, max } => {
            bounds_text(&format!("{}({})", function.as_str(), quote_ident(column)), min.as_ref(), max.as_ref())
        }
        RuleKind::RowCountAnomaly { method, window_days } => {
            let band = match method {
                AnomalyMethod::PercentOfMean { percent } => format!("{percent}%"),
                AnomalyMethod::StdDevs { k } => format!("{k} stddev"),
            };
            format!("row_count within {band} of average over {}", plural(u64::from(*window_days), "day"))
        }
        RuleKind::Check { expr } => format!("check {}", expr_text(expr)),
    }
}

fn keep_text(keep: Option<&KeepPolicy>) -> String {
    match keep {
        Some(k) => format!(" keep first by {}{}", quote_ident(&k.order_by), if k.descending { " desc" } else { "" }),
        None => String::new(),
    }
}

/// `subject between a and b`, `a < subject <= b`, `subject >= a` or `subject < b`.
fn bounds_text(subject: &str, min: Option<&Bound>, max: Option<&Bound>) -> String {
    let lt = |b: &Bound| if b.inclusive { "<=" } else { "<" };
    match (min, max) {
        (Some(lo), Some(hi)) if lo.inclusive && hi.inclusive => {
            format!("{subject} between {} and {}", value_text(&lo.value), value_text(&hi.value))
        }
        (Some(lo), Some(hi)) => {
            format!("{} {} {subject} {} {}", value_text(&lo.value), lt(lo), lt(hi), value_text(&hi.value))
        }
        (Some(lo), None) => format!("{subject} {} {}", if lo.inclusive { ">=" } else { ">" }, value_text(&lo.value)),
        (None, Some(hi)) => format!("{subject} {} {}", lt(hi), value_text(&hi.value)),
        // Only hand-built IR has a range without bounds; it constrains nothing.
        (None, None) => "check true".to_string(),
    }
}

/// A duration in the largest unit that divides it exactly (minutes at least).
pub fn duration_text(seconds: u64) -> String {
    let (days, hours) = (seconds / 86_400, seconds / 3_600);
    if days * 86_400 == seconds {
        plural(days, "day")
    } else if hours * 3_600 == seconds {
        plural(hours, "hour")
    } else {
        plural(seconds.div_ceil(60), "minute")
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// `db.table` with each part quoted when needed.
pub fn table_text(t: &TableRef) -> String {
    match &t.database {
        Some(db) => format!("{}.{}", quote_ident(db), quote_ident(&t.table)),
        None => quote_ident(&t.table),
    }
}

/// `(a, b)`.
fn name_list(names: &[String]) -> String {
    let names: Vec<String> = names.iter().map(|n| quote_ident(n)).collect();
    format!("({})", names.join(", "))
}

/// One column bare, several in parentheses.
fn columns_text(columns: &[String]) -> String {
    match columns {
        [one] => quote_ident(one),
        many => name_list(many),
    }
}

/// The contract-language spelling of a comparison.
pub fn cmp_text(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// A literal.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.clone(),
        Value::String(s) => quote_string(s),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => format!("date {}", quote_string(d)),
        Value::Timestamp(t) => format!("timestamp {}", quote_string(t)),
        Value::Null => "null".to_string(),
    }
}

/// A type in contract-language syntax (`decimal(12, 2)`, `struct<a: int>`).
pub fn type_text(t: &Type) -> String {
    match t {
        Type::Varchar { length } => format!("varchar({length})"),
        Type::Char { length } => format!("char({length})"),
        Type::Decimal { precision, scale } => format!("decimal({precision}, {scale})"),
        Type::Array { element } => format!("array<{}>", type_text(element)),
        Type::Struct { fields } => {
            let fields: Vec<String> =
                fields.iter().map(|f| format!("{}: {}", quote_ident(&f.name), type_text(&f.ty))).collect();
            format!("struct<{}>", fields.join(", "))
        }
        other => other.to_string(),
    }
}

/// Binding strength of an expression's outermost operator, following the grammar's Pratt
/// table (lowest first): or, and, not, comparisons, postfix is/in/like/between, `||`, `+ -`,
/// `* / %`, unary minus; then atoms.
fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => match op {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Cmp(_) => 4,
            BinaryOp::Concat => 6,
            BinaryOp::Add | BinaryOp::Sub => 7,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 8,
        },
        ExprKind::Unary { op: UnaryOp::Not, .. } => 3,
        ExprKind::IsNull { .. } | ExprKind::InList { .. } | ExprKind::Like { .. } | ExprKind::Between { .. } => 5,
        ExprKind::Unary { op: UnaryOp::Neg, .. } => 9,
        // A negative number reads back as a negation.
        ExprKind::Literal { value: Value::Number(n) } if n.starts_with('-') => 9,
        _ => 10,
    }
}

/// An operand, parenthesized when it binds less tightly than `min`.
fn operand(e: &Expr, min: u8) -> String {
    let text = expr_text(e);
    if precedence(e) < min {
        format!("({text})")
    } else {
        text
    }
}

fn not(negated: bool) -> &'static str {
    if negated {
        "not "
    } else {
        ""
    }
}

/// An expression with the parentheses its structure needs and no others.
pub fn expr_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Column { name } => quote_ident(name),
        ExprKind::Literal { value } => value_text(value),
        ExprKind::Unary { op: UnaryOp::Not, operand: inner } => format!("not {}", operand(inner, 3)),
        ExprKind::Unary { op: UnaryOp::Neg, operand: inner } => {
            let text = operand(inner, 9);
            // `--` would start a comment.
            if text.starts_with('-') {
                format!("- {text}")
            } else {
                format!("-{text}")
            }
        }
        ExprKind::Binary { op, left, right } => {
            let p = precedence(e);
            // Operators associate to the left, so an equal-precedence right operand needs parentheses.
            format!("{} {} {}", operand(left, p), binary_text(*op), operand(right, p + 1))
        }
        ExprKind::IsNull { operand: inner, negated } => format!("{} is {}null", operand(inner, 5), not(*negated)),
        ExprKind::InList { operand: inner, list, negated } => {
            let items: Vec<String> = list.iter().map(expr_text).collect();
            format!("{} {}in ({})", operand(inner, 5), not(*negated), items.join(", "))
        }
        ExprKind::Like { operand: inner, pattern, negated } => {
            format!("{} {}like {}", operand(inner, 5), not(*negated), quote_string(pattern))
        }
        // The bounds of `between` are single operands in the grammar (a prefix and an atom).
        ExprKind::Between { operand: inner, low, high, negated } => {
            format!("{} {}between {} and {}", operand(inner, 5), not(*negated), operand(low, 9), operand(high, 9))
        }
        ExprKind::Case { operand: subject, whens, otherwise } => {
            let mut text = "case".to_string();
            if let Some(s) = subject {
                text.push_str(&format!(" {}", expr_text(s)));
            }
            for w in whens {
                text.push_str(&format!(" when {} then {}", expr_text(&w.condition), expr_text(&w.result)));
            }
            if let Some(o) = otherwise {
                text.push_str(&format!(" else {}", expr_text(o)));
            }
            text.push_str(" end");
            text
        }
        ExprKind::Cast { operand: inner, to } => format!("cast({} as {})", expr_text(inner), type_text(to)),
        ExprKind::Call { function, args } => {
            let args: Vec<String> = args.iter().map(expr_text).collect();
            format!("{}({})", function.name(), args.join(", "))
        }
    }
}

fn binary_text(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Or => "or",
        BinaryOp::And => "and",
        BinaryOp::Cmp(c) => cmp_text(c),
        BinaryOp::Concat => "||",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str) -> Expr {
        Expr { kind: ExprKind::Column { name: name.to_string() }, ty: None, span: None }
    }

    fn num(n: &str) -> Expr {
        Expr { kind: ExprKind::Literal { value: Value::Number(n.to_string()) }, ty: None, span: None }
    }

    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        Expr { kind: ExprKind::Binary { op, left: Box::new(l), right: Box::new(r) }, ty: None, span: None }
    }

    fn un(op: UnaryOp, e: Expr) -> Expr {
        Expr { kind: ExprKind::Unary { op, operand: Box::new(e) }, ty: None, span: None }
    }

    #[test]
    fn parenthesizes_by_precedence_only() {
        let sum = bin(BinaryOp::Add, col("a"), col("b"));
        assert_eq!(expr_text(&bin(BinaryOp::Mul, sum.clone(), col("c"))), "(a + b) * c");
        assert_eq!(expr_text(&bin(BinaryOp::Add, col("c"), bin(BinaryOp::Mul, col("a"), col("b")))), "c + a * b");
        assert_eq!(expr_text(&bin(BinaryOp::Sub, col("a"), sum.clone())), "a - (a + b)");
        assert_eq!(expr_text(&bin(BinaryOp::Sub, sum, col("c"))), "a + b - c");
        let or = bin(BinaryOp::Or, col("x"), col("y"));
        assert_eq!(expr_text(&bin(BinaryOp::And, or.clone(), col("z"))), "(x or y) and z");
        assert_eq!(expr_text(&un(UnaryOp::Not, or)), "not (x or y)");
        let cmp = bin(BinaryOp::Cmp(CmpOp::Ge), col("a"), num("0"));
        assert_eq!(expr_text(&un(UnaryOp::Not, cmp)), "not a >= 0");
        assert_eq!(expr_text(&un(UnaryOp::Neg, un(UnaryOp::Neg, col("a")))), "- -a");
        assert_eq!(expr_text(&un(UnaryOp::Neg, bin(BinaryOp::Mul, col("a"), col("b")))), "-(a * b)");
    }

    #[test]
    fn postfix_operands_and_between_bounds() {
        let cmp = bin(BinaryOp::Cmp(CmpOp::Eq), col("a"), col("b"));
        let is_null =
            |e: Expr| Expr { kind: ExprKind::IsNull { operand: Box::new(e), negated: true }, ty: None, span: None };
        assert_eq!(expr_text(&is_null(cmp)), "(a = b) is not null");
        assert_eq!(expr_text(&is_null(bin(BinaryOp::Concat, col("a"), col("b")))), "a || b is not null");
        let between = Expr {
            kind: ExprKind::Between {
                operand: Box::new(col("x")),
                low: Box::new(bin(BinaryOp::Add, col("a"), num("1"))),
                high: Box::new(un(UnaryOp::Neg, col("b"))),
                negated: false,
            },
            ty: None,
            span: None,
        };
        assert_eq!(expr_text(&between), "x between (a + 1) and -b");
    }

    #[test]
    fn quotes_names_and_prints_types() {
        assert_eq!(expr_text(&col("order")), "order");
        assert_eq!(expr_text(&col("in")), "\"in\"");
        assert_eq!(expr_text(&col("my col")), "\"my col\"");
        let t = Type::Struct {
            fields: vec![
                dqc_ir::Field { name: "a b".into(), ty: Type::Decimal { precision: 12, scale: 2 } },
                dqc_ir::Field { name: "c".into(), ty: Type::Array { element: Box::new(Type::String) } },
            ],
        };
        assert_eq!(type_text(&t), "struct<\"a b\": decimal(12, 2), c: array<string>>");
        assert_eq!(duration_text(26 * 3600), "26 hours");
        assert_eq!(duration_text(86_400), "1 day");
        assert_eq!(duration_text(90 * 60), "90 minutes");
    }
}
