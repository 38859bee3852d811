//! Rule objects in JSON (column `rules`, `table_level_checks`, `tests`) to rule lines.
//!
//! Every rule type the seed shape and common LLM variants use maps to one contract rule; the
//! column a rule sits under is its subject. Values are written as literals of the subject
//! column's type. Each line is parsed on its own before it is kept, so a rule that cannot be
//! written is reported at its JSON object instead of breaking the whole contract.

use std::collections::BTreeSet;

use dqc_diagnostics::{did_you_mean, Code, Diagnostic, Span};
use dqc_syntax::{quote_ident, quote_string};
use jsonc_parser::ast::Value;

use crate::import::{ident_list, ColumnDecl};
use crate::json::{Node, Reader};
use crate::prose;
use crate::types::Class;
use crate::values::canonical_decimal;
use dqc_semantics::slug;

/// Every rule `type` the importer reads.
const KNOWN_TYPES: &[&str] = &[
    "not_null",
    "unique",
    "grain_uniqueness",
    "allowed_values",
    "accepted_values",
    "min",
    "max",
    "range",
    "range_soft",
    "length",
    "min_length",
    "max_length",
    "compare",
    "regex",
    "pattern",
    "foreign_key",
    "freshness",
    "row_count",
    "aggregate",
    "row_count_anomaly",
    "check",
    "check_constraint",
];

/// What a rule object can see.
#[derive(Debug)]
pub(crate) struct RuleCx<'c> {
    /// The columns declared so far.
    pub columns: &'c [ColumnDecl],
    /// The column the rule is listed under; `None` for table-level checks.
    pub column: Option<&'c ColumnDecl>,
    /// The contract's grain.
    pub grain: &'c [String],
}

/// A rule read from JSON.
#[derive(Debug)]
pub(crate) struct Converted {
    /// The rule line, `id: body modifiers`.
    pub line: String,
    /// The id the rule will have (explicit, or derived as the checker would).
    pub ids: Vec<String>,
    /// Columns the rule uses as keys, which must be declared (name, where, field).
    pub keys: Vec<(String, Span, &'static str)>,
}

/// A rule body and what goes with it.
#[derive(Debug, Default)]
struct Body {
    text: String,
    /// The id the checker derives for this body, when it is simple to know.
    derived: Option<String>,
    /// `range_soft`: severity warn unless the object says otherwise.
    soft: bool,
    keys: Vec<(String, Span, &'static str)>,
}

impl Body {
    fn new(text: String, derived: Option<String>) -> Self {
        Body { text, derived, ..Body::default() }
    }
}

/// A column a value is compared with: how to write literals for it.
#[derive(Debug, Clone)]
struct Target {
    name: String,
    ty: String,
    class: Class,
}

impl Target {
    fn of(cx: &RuleCx<'_>, name: &str) -> Self {
        match cx.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
            Some(c) => Target { name: c.name.clone(), ty: c.ty.text.clone(), class: c.ty.class },
            None => Target { name: name.to_string(), ty: "unknown".to_string(), class: Class::Other },
        }
    }

    /// `row_count` and `length(...)` bounds: whole numbers.
    fn count(name: &str) -> Self {
        Target { name: name.to_string(), ty: "a count".to_string(), class: Class::Number }
    }
}

/// Reads one rule object; `None` when it is skipped or could not be read (and reported).
pub(crate) fn convert(r: &mut Reader<'_>, node: &Node<'_>, cx: &RuleCx<'_>) -> Option<Converted> {
    if !matches!(node.value, Value::Object(_)) {
        r.wrong_kind(node, "a rule object");
        return None;
    }
    let type_node = r.require(node, "type")?;
    let written = r.string(&type_node)?;
    let kind = written.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    if !KNOWN_TYPES.contains(&kind.as_str()) {
        unknown_type(r, &type_node, &written);
        return None;
    }
    // `nullable: false` already says it, and more strictly than any variant of the rule.
    if let Some(col) = cx.column.filter(|c| c.not_null && kind == "not_null") {
        if !is_plain(node) {
            let msg = format!("column `{}` is not nullable, so this `not_null` rule is dropped", col.name);
            let span = r.anchor(node);
            let d = Diagnostic::new(Code::ImportApproximation, msg, span)
                .with_primary_label("implied by `nullable: false`")
                .with_help("to relax the check, make the column nullable and keep this rule");
            r.diags.push(d);
        }
        return None;
    }
    let before = r.diags.len();
    let body = body(r, node, &kind, cx);
    let id = rule_id(r, node);
    let mods = modifiers(r, node, body.as_ref().is_some_and(|b| b.soft));
    let (body, mods) = (body?, mods?);
    if r.diags.get(before..).unwrap_or_default().iter().any(Diagnostic::is_error) {
        return None;
    }
    let prefix = id.as_ref().map(|i| format!("{i}: ")).unwrap_or_default();
    let line = format!("{prefix}{}{mods}", body.text);
    check_line(r, node, &line)?;
    let ids = id.or(body.derived).into_iter().collect();
    Some(Converted { line, ids, keys: body.keys })
}

/// E0903 with the closest known type.
fn unknown_type(r: &mut Reader<'_>, node: &Node<'_>, written: &str) {
    let mut d = Diagnostic::new(Code::UnknownRuleType, format!("unknown rule type `{written}`"), r.value_span(node))
        .with_primary_label("not a rule type dqc knows");
    d = match did_you_mean(written.trim(), KNOWN_TYPES.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("see `dqc explain E0903` for the rule types dqc reads"),
    };
    r.diags.push(d);
}

/// A rule object with nothing but its type (and at most the default severity).
fn is_plain(node: &Node<'_>) -> bool {
    let extra = ["id", "name", "where", "stage", "min_pass_percent", "because"];
    let default_severity =
        node.get("severity").is_none_or(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case("error")));
    extra.iter().all(|f| node.get(f).is_none()) && default_severity
}

/// Parses a rule line on its own, so a rule that cannot be written is reported at its JSON.
fn check_line(r: &mut Reader<'_>, node: &Node<'_>, line: &str) -> Option<()> {
    let probe = format!("contract t {{\n  rules {{\n    {line}\n  }}\n}}\n");
    match dqc_syntax::parse(&probe, r.file) {
        Ok(_) => Some(()),
        Err(e) => {
            let d = Diagnostic::new(
                Code::UnexpectedJsonShape,
                "this rule cannot be written in the contract language",
                r.anchor(node),
            )
            .with_primary_label("in this rule")
            .with_note(format!("`{line}`: {}", e.message));
            r.diags.push(d);
            None
        }
    }
}

fn body(r: &mut Reader<'_>, node: &Node<'_>, kind: &str, cx: &RuleCx<'_>) -> Option<Body> {
    match kind {
        "not_null" => {
            let col = subject(r, node, cx)?;
            Some(Body::new(format!("not null {}", quote_ident(&col)), Some(format!("not_null_{}", slug(&col)))))
        }
        "unique" | "grain_uniqueness" => unique(r, node, kind, cx),
        "allowed_values" | "accepted_values" => allowed(r, node, cx),
        "min" | "max" | "range" | "range_soft" => {
            let col = subject(r, node, cx)?;
            let target = Target::of(cx, &col);
            let mut b = bounded(r, node, kind, &quote_ident(&col), &target)?;
            b.derived = b.derived.map(|prefix| format!("{prefix}_{}", slug(&col)));
            b.soft = kind == "range_soft";
            Some(b)
        }
        "length" | "min_length" | "max_length" => {
            let col = subject(r, node, cx)?;
            let mut b = bounded(r, node, kind, &format!("length({})", quote_ident(&col)), &Target::count("length"))?;
            b.derived = Some(format!("length_{}", slug(&col)));
            Some(b)
        }
        "row_count" => {
            let mut b = bounded(r, node, kind, "row_count", &Target::count("row_count"))?;
            b.derived = Some("row_count".to_string());
            Some(b)
        }
        "aggregate" => {
            let (name, name_node) = required_string(r, node, &["function", "aggregate"])?;
            let Some(f) = dqc_ir::Aggregate::parse(&name.trim().to_ascii_lowercase()) else {
                let known: Vec<&str> = dqc_ir::Aggregate::ALL.iter().map(|a| a.as_str()).collect();
                r.shape(
                    &name_node,
                    format!("unknown aggregate `{name}`"),
                    format!("expected one of {}", known.join(", ")),
                );
                return None;
            };
            let col = subject(r, node, cx)?;
            // min and max are values of the column; the other aggregates are numbers.
            let target = match f {
                dqc_ir::Aggregate::Min | dqc_ir::Aggregate::Max => Target::of(cx, &col),
                _ => Target { name: f.as_str().to_string(), ty: "a number".to_string(), class: Class::Number },
            };
            let subject_text = format!("{}({})", f.as_str(), quote_ident(&col));
            let mut b = bounded(r, node, "range", &subject_text, &target)?;
            b.derived = Some(format!("{}_of_{}", f.as_str(), slug(&col)));
            Some(b)
        }
        "compare" => compare(r, node, cx),
        "regex" | "pattern" => {
            let col = subject(r, node, cx)?;
            let (pattern, _) = required_string(r, node, &["pattern", "regex", "value"])?;
            let text = format!("{} matches {}", quote_ident(&col), quote_string(&pattern));
            Some(Body::new(text, Some(format!("regex_{}", slug(&col)))))
        }
        "foreign_key" => foreign_key(r, node, cx),
        "freshness" => freshness(r, node, cx),
        "row_count_anomaly" => prose::anomaly(r, node).map(|t| Body::new(t, Some("row_count_anomaly".to_string()))),
        _ => {
            let expr_node = required(r, node, &["expression", "expr", "condition"])?;
            let expr = expression(r, &expr_node)?;
            Some(Body::new(format!("check {expr}"), None))
        }
    }
}

/// The column a rule is about: the one it is listed under, or its `column` field.
fn subject(r: &mut Reader<'_>, node: &Node<'_>, cx: &RuleCx<'_>) -> Option<String> {
    if let Some(c) = cx.column {
        return Some(c.name.clone());
    }
    if let Some(cols) = node.get("columns") {
        if let Value::Array(a) = cols.value {
            if let [Value::StringLit(s)] = a.elements.as_slice() {
                return Some(s.value.to_string());
            }
        }
    }
    let (name, name_node) = required_string(r, node, &["column"])?;
    if name.is_empty() {
        r.shape(&name_node, format!("{} is an empty column name", name_node.shown_path()), "empty name");
        return None;
    }
    Some(name)
}

/// The first field present among `names`, or E0902 naming the first.
fn required<'j>(r: &mut Reader<'_>, node: &Node<'j>, names: &[&str]) -> Option<Node<'j>> {
    match node.get_any(names) {
        Some(found) => Some(found),
        None => r.require(node, names.first().copied().unwrap_or_default()),
    }
}

fn required_string<'j>(r: &mut Reader<'_>, node: &Node<'j>, names: &[&str]) -> Option<(String, Node<'j>)> {
    let found = required(r, node, names)?;
    r.string(&found).map(|s| (s, found))
}

/// Column names from `fields`; for a rule under a column, that column.
fn columns_of(r: &mut Reader<'_>, node: &Node<'_>, cx: &RuleCx<'_>, fields: &[&str]) -> Option<Vec<(String, Span)>> {
    if let Some(c) = cx.column {
        return Some(vec![(c.name.clone(), r.anchor(node))]);
    }
    let field = required(r, node, fields)?;
    let items = match field.value {
        Value::StringLit(_) => vec![field.clone()],
        Value::Array(a) if !a.elements.is_empty() => field.elements(),
        _ => {
            r.wrong_kind(&field, "a non-empty array of column names");
            return None;
        }
    };
    let mut out = Vec::new();
    for item in &items {
        let name = r.string(item)?;
        if name.is_empty() {
            r.shape(item, format!("{} is an empty column name", item.shown_path()), "empty name");
            return None;
        }
        out.push((name, r.value_span(item)));
    }
    Some(out)
}

fn names_of(cols: &[(String, Span)]) -> Vec<String> {
    cols.iter().map(|(n, _)| n.clone()).collect()
}

/// `unique c`, `unique (a, b)` or the grain, with an optional `keep` policy.
fn unique(r: &mut Reader<'_>, node: &Node<'_>, kind: &str, cx: &RuleCx<'_>) -> Option<Body> {
    let cols = if kind == "grain_uniqueness" && node.get_any(&["grain", "columns"]).is_none() && !cx.grain.is_empty() {
        let span = r.anchor(node);
        cx.grain.iter().map(|g| (g.clone(), span)).collect()
    } else if kind == "grain_uniqueness" {
        columns_of(r, node, &RuleCx { column: None, ..*cx }, &["grain", "columns"])?
    } else {
        columns_of(r, node, cx, &["columns", "column"])?
    };
    let names = names_of(&cols);
    let columns = match names.as_slice() {
        [one] => quote_ident(one),
        many => ident_list(many),
    };
    let keep = match node.get("keep") {
        Some(k) => keep(r, &k)?,
        None => String::new(),
    };
    let derived = format!("unique_{}", names.iter().map(|n| slug(n)).collect::<Vec<_>>().join("_"));
    let mut b = Body::new(format!("unique {columns}{keep}"), Some(derived));
    if kind == "grain_uniqueness" {
        b.keys = cols.into_iter().map(|(n, s)| (n, s, "grain_uniqueness")).collect();
    }
    Some(b)
}

/// `{"order_by": c, "descending": bool}` as ` keep first by c [desc]`.
fn keep(r: &mut Reader<'_>, node: &Node<'_>) -> Option<String> {
    if !matches!(node.value, Value::Object(_)) {
        r.wrong_kind(node, "an object with `order_by`");
        return None;
    }
    let (by, _) = required_string(r, node, &["order_by"])?;
    let desc = r.opt_bool(node, "descending").unwrap_or(false);
    Some(format!(" keep first by {}{}", quote_ident(&by), if desc { " desc" } else { "" }))
}

/// `c in (v, ...)`; JSON `null` among the values is dropped (nullability is `nullable`).
fn allowed(r: &mut Reader<'_>, node: &Node<'_>, cx: &RuleCx<'_>) -> Option<Body> {
    let col = subject(r, node, cx)?;
    let target = Target::of(cx, &col);
    let field = required(r, node, &["values", "allowed_values", "accepted_values"])?;
    if !matches!(field.value, Value::Array(_)) {
        r.wrong_kind(&field, "an array of values");
        return None;
    }
    let mut values = Vec::new();
    for element in field.elements() {
        if matches!(element.value, Value::NullKeyword(_)) {
            let span = r.value_span(&element);
            r.approximation(span, "`null` dropped from the allowed values", "nullability is declared by `nullable`");
            continue;
        }
        values.push(literal(r, &element, &target)?);
    }
    if values.is_empty() {
        r.shape(&field, format!("{} lists no values", field.shown_path()), "expected at least one value");
        return None;
    }
    let text = format!("{} in ({})", quote_ident(&col), values.join(", "));
    Some(Body::new(text, Some(format!("allowed_values_{}", slug(&col)))))
}

/// Range-like rules: `min`, `max`, `range`, `range_soft`, `length`, `min_length`,
/// `max_length`, `row_count`. The derived id is the prefix the checker uses.
fn bounded(r: &mut Reader<'_>, node: &Node<'_>, kind: &str, subject: &str, target: &Target) -> Option<Body> {
    let (min_names, max_names): (&[&str], &[&str]) = match kind {
        "min" => (&["value", "min"], &[]),
        "max" => (&[], &["value", "max"]),
        "min_length" => (&["value", "min", "min_length", "length"], &[]),
        "max_length" => (&[], &["value", "max", "max_length", "length"]),
        _ => (&["min"], &["max"]),
    };
    let before = r.diags.len();
    let lo = node.get_any(min_names).and_then(|n| literal(r, &n, target));
    let hi = node.get_any(max_names).and_then(|n| literal(r, &n, target));
    let strict = |r: &mut Reader<'_>, flag: &str| r.opt_bool(node, flag).unwrap_or(false);
    let lo_strict = strict(r, "min_exclusive") || (kind == "min" && strict(r, "exclusive"));
    let hi_strict = strict(r, "max_exclusive") || (kind == "max" && strict(r, "exclusive"));
    if r.failed_since(before) {
        return None;
    }
    let lt = |s: bool| if s { "<" } else { "<=" };
    let (text, prefix) = match (lo, hi) {
        (Some(lo), Some(hi)) if !lo_strict && !hi_strict => (format!("{subject} between {lo} and {hi}"), "range"),
        (Some(lo), Some(hi)) => (format!("{lo} {} {subject} {} {hi}", lt(lo_strict), lt(hi_strict)), "range"),
        (Some(lo), None) => (format!("{subject} {} {lo}", if lo_strict { ">" } else { ">=" }), "min"),
        (None, Some(hi)) => (format!("{subject} {} {hi}", lt(hi_strict)), "max"),
        (None, None) => {
            let wanted: Vec<String> = min_names.iter().chain(max_names).map(|n| format!("`{n}`")).collect();
            let msg = format!("{} needs {}", node.shown_path(), wanted.join(" or "));
            let span = r.anchor(node);
            r.diags.push(Diagnostic::new(Code::UnexpectedJsonShape, msg, span).with_primary_label("no bound given"));
            return None;
        }
    };
    Some(Body::new(text, Some(prefix.to_string())))
}

/// `c op other_column` or `c op value`.
fn compare(r: &mut Reader<'_>, node: &Node<'_>, cx: &RuleCx<'_>) -> Option<Body> {
    let left = subject(r, node, cx)?;
    let (op_text, op_node) = required_string(r, node, &["op", "operator"])?;
    let op = match op_text.trim() {
        "=" | "==" => "=",
        "!=" | "<>" => "!=",
        op @ ("<" | "<=" | ">" | ">=") => op,
        _ => {
            r.shape(&op_node, format!("unknown comparison `{op_text}`"), "expected =, !=, <, <=, > or >=");
            return None;
        }
    };
    // Under a column, `column` names the other side; at table level, `column` is the subject.
    let other = if cx.column.is_some() { node.get_any(&["column", "other_column"]) } else { node.get("other_column") };
    let right = match (other, node.get("value")) {
        (Some(o), _) => quote_ident(&r.string(&o)?),
        (None, Some(v)) => literal(r, &v, &Target::of(cx, &left))?,
        (None, None) => {
            r.require(node, "value");
            return None;
        }
    };
    Some(Body::new(format!("{} {op} {right}", quote_ident(&left)), None))
}

/// `c references db.t (rc)` or `(a, b) references t (x, y)`.
fn foreign_key(r: &mut Reader<'_>, node: &Node<'_>, cx: &RuleCx<'_>) -> Option<Body> {
    let local = names_of(&columns_of(r, node, cx, &["columns", "column"])?);
    let (table, table_node) = required_string(r, node, &["ref_table", "references"])?;
    let parts: Vec<&str> = table.split('.').collect();
    let (table_text, table_slug) = match parts.as_slice() {
        [t] if !t.is_empty() => (quote_ident(t), slug(t)),
        [db, t] if !db.is_empty() && !t.is_empty() => (format!("{}.{}", quote_ident(db), quote_ident(t)), slug(t)),
        _ => {
            r.shape(&table_node, format!("`{table}` is not a table name"), "expected `table` or `database.table`");
            return None;
        }
    };
    let refs = match node.get_any(&["ref_columns", "ref_column"]) {
        Some(field) => match field.value {
            Value::StringLit(s) => vec![s.value.to_string()],
            Value::Array(_) => field.elements().iter().map(|e| r.string(e)).collect::<Option<Vec<_>>>()?,
            _ => {
                r.wrong_kind(&field, "a column name or an array of them");
                return None;
            }
        },
        None => {
            let span = r.anchor(node);
            r.approximation(
                span,
                "no `ref_column` given; assumed the referenced columns have the same names",
                "assumed",
            );
            local.clone()
        }
    };
    let columns = match local.as_slice() {
        [one] => quote_ident(one),
        many => ident_list(many),
    };
    let text = format!("{columns} references {table_text} {}", ident_list(&refs));
    let derived = format!("fk_{}_{table_slug}", local.iter().map(|n| slug(n)).collect::<Vec<_>>().join("_"));
    Some(Body::new(text, Some(derived)))
}

/// `freshness c within N unit`, from `max_age: "26 hours"` or `max_age_<unit>: N`.
fn freshness(r: &mut Reader<'_>, node: &Node<'_>, cx: &RuleCx<'_>) -> Option<Body> {
    let col = subject(r, node, cx)?;
    let numeric = [("max_age_minutes", "minutes"), ("max_age_hours", "hours"), ("max_age_days", "days")];
    let within = match numeric.iter().find(|(f, _)| node.get(f).is_some()) {
        Some((field, unit)) => match r.opt_count(node, field)? {
            0 => {
                let zero = node.get(field).unwrap_or_else(|| node.clone());
                r.shape(&zero, "a maximum age of zero can never be met", "expected a positive number");
                return None;
            }
            n => format!("{n} {unit}"),
        },
        None => {
            let (text, age_node) = required_string(r, node, &["max_age"])?;
            match prose::duration(&text) {
                Some(d) => d,
                None => {
                    let msg = format!("`{text}` is not a duration");
                    r.shape(&age_node, msg, "expected `N minutes`, `N hours` or `N days`");
                    return None;
                }
            }
        }
    };
    Some(Body::new(
        format!("freshness {} within {within}", quote_ident(&col)),
        Some(format!("freshness_{}", slug(&col))),
    ))
}

/// A value as a literal of the target column's type.
fn literal(r: &mut Reader<'_>, node: &Node<'_>, target: &Target) -> Option<String> {
    let expected = match target.class {
        Class::Number => "a number",
        Class::Boolean => "`true` or `false`",
        Class::Date | Class::Timestamp => "a date or timestamp string",
        Class::Text | Class::Other => "a string or number",
    };
    let mismatch = |r: &mut Reader<'_>| {
        let msg = format!("{} must be {expected}: column `{}` is `{}`", node.shown_path(), target.name, target.ty);
        r.shape(node, msg, format!("expected {expected}"));
        None
    };
    match (node.value, target.class) {
        (Value::NumberLit(n), Class::Number | Class::Other) => match canonical_decimal(n.value) {
            Some(c) => Some(c),
            None => mismatch(r),
        },
        (Value::NumberLit(n), Class::Text) => {
            let span = r.value_span(node);
            let msg = format!("number `{}` written as a string: column `{}` is `{}`", n.value, target.name, target.ty);
            r.approximation(span, msg, "read as a string");
            Some(quote_string(n.value))
        }
        (Value::StringLit(s), Class::Number) => match canonical_decimal(&s.value) {
            Some(c) => Some(c),
            None => mismatch(r),
        },
        (Value::StringLit(s), Class::Boolean) => match s.value.trim().to_ascii_lowercase().as_str() {
            b @ ("true" | "false") => Some(b.to_string()),
            _ => mismatch(r),
        },
        (Value::StringLit(s), Class::Date | Class::Timestamp) => {
            let text = s.value.trim();
            let keyword = if text.contains([' ', 'T']) { "timestamp" } else { "date" };
            Some(format!("{keyword} {}", quote_string(text)))
        }
        (Value::StringLit(s), Class::Text | Class::Other) => Some(quote_string(&s.value)),
        (Value::BooleanLit(b), Class::Boolean | Class::Other) => Some(b.value.to_string()),
        _ => mismatch(r),
    }
}

/// An expression from JSON, checked for syntax and printed canonically (without comments,
/// which would swallow the rest of the generated line). Syntax errors point into the JSON
/// string.
pub(crate) fn expression(r: &mut Reader<'_>, node: &Node<'_>) -> Option<String> {
    let text = r.string(node)?;
    match dqc_syntax::parse_expr(&text, r.file) {
        Ok(e) => Some(dqc_syntax::expr_text(&e)),
        Err(mut d) => {
            let map = |r: &Reader<'_>, s: Span| r.string_span(node, s.start as usize, s.end as usize);
            d.primary.span = map(r, d.primary.span);
            for label in &mut d.labels {
                label.span = map(r, label.span);
            }
            r.diags.push(d.with_note(format!("in the expression of {}", node.shown_path())));
            None
        }
    }
}

/// An explicit id: `id`, else `name`. Ids are single words; others are turned into one.
fn rule_id(r: &mut Reader<'_>, node: &Node<'_>) -> Option<String> {
    let (written, id_node) = r.opt_string(node, &["id", "name"])?;
    word_id(r, &written, &id_node)
}

fn word_id(r: &mut Reader<'_>, written: &str, node: &Node<'_>) -> Option<String> {
    if is_word(written) {
        return Some(written.to_string());
    }
    let mut id = to_word(written);
    if id.starts_with(|c: char| c.is_ascii_digit()) {
        id = format!("r_{id}");
    }
    if id.is_empty() {
        return None;
    }
    let span = r.value_span(node);
    r.approximation(span, format!("rule id `{written}` written as `{id}`"), "ids are single words");
    Some(id)
}

/// The modifiers of a rule object, as text after the body. `None` when one is invalid.
fn modifiers(r: &mut Reader<'_>, node: &Node<'_>, soft: bool) -> Option<String> {
    let before = r.diags.len();
    let mut out = String::new();
    if let Some(w) = node.get_any(&["where", "filter"]) {
        if let Some(e) = expression(r, &w) {
            out.push_str(&format!(" where {e}"));
        }
    }
    let warn = match r.opt_string(node, &["severity"]) {
        Some((s, n)) => severity(r, &s, &n) == Some("warn"),
        None => soft,
    };
    if warn {
        out.push_str(" severity warn");
    }
    if let Some((s, n)) = r.opt_string(node, &["stage"]) {
        if let Some(stage) = stage(r, &s, &n) {
            out.push_str(&format!(" stage {stage}"));
        }
    }
    if let Some(p) = node.get("min_pass_percent") {
        let text = match p.value {
            Value::NumberLit(n) => canonical_decimal(n.value),
            Value::StringLit(s) => canonical_decimal(s.value.trim_end_matches('%')),
            _ => None,
        };
        match text {
            Some(t) => out.push_str(&format!(" at least {t}%")),
            None => r.wrong_kind(&p, "a percentage"),
        }
    }
    if let Some((because, _)) = r.opt_string(node, &["because"]) {
        out.push_str(&format!(" because {}", quote_string(&because)));
    }
    (!r.diags.iter().skip(before).any(Diagnostic::is_error)).then_some(out)
}

/// `error` or `warn`; common LLM words are mapped with a warning.
fn severity(r: &mut Reader<'_>, written: &str, node: &Node<'_>) -> Option<&'static str> {
    let lower = written.trim().to_ascii_lowercase();
    let (mapped, exact) = match lower.as_str() {
        "error" => ("error", true),
        "warn" | "warning" => ("warn", true),
        "critical" | "high" | "fail" | "blocking" => ("error", false),
        "medium" | "low" | "info" => ("warn", false),
        _ => {
            let mut d =
                Diagnostic::new(Code::UnexpectedJsonShape, format!("unknown severity `{written}`"), r.value_span(node))
                    .with_primary_label("expected `error` or `warn`");
            if let Some(s) = did_you_mean(&lower, ["error", "warn"]) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            r.diags.push(d);
            return None;
        }
    };
    if !exact {
        let span = r.value_span(node);
        r.approximation(span, format!("severity `{written}` read as `{mapped}`"), "dqc has error and warn");
    }
    Some(mapped)
}

/// `pre_load` or `post_load` (also written `pre-load`, `preload`).
fn stage(r: &mut Reader<'_>, written: &str, node: &Node<'_>) -> Option<&'static str> {
    let lower = written.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    match lower.as_str() {
        "pre_load" | "preload" => Some("pre_load"),
        "post_load" | "postload" => Some("post_load"),
        _ => {
            let mut d =
                Diagnostic::new(Code::UnexpectedJsonShape, format!("unknown stage `{written}`"), r.value_span(node))
                    .with_primary_label("expected `pre_load` or `post_load`");
            if let Some(s) = did_you_mean(&lower, ["pre_load", "post_load"]) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            r.diags.push(d);
            None
        }
    }
}

/// One `tests` entry: skipped when it restates an imported rule, a `check` rule when it has
/// a boolean `rule` expression, reported when it only has SQL.
pub(crate) fn test(r: &mut Reader<'_>, node: &Node<'_>, ids: &BTreeSet<String>) -> Option<String> {
    if !matches!(node.value, Value::Object(_)) {
        r.wrong_kind(node, "a test object");
        return None;
    }
    let known =
        ["rule_id", "name"].iter().any(|f| node.get(f).and_then(|n| n.as_str().map(|s| ids.contains(s))) == Some(true));
    if known {
        return None;
    }
    let name = r.opt_string(node, &["name"]);
    let shown =
        name.as_ref().map(|(n, _)| format!("test `{n}`")).unwrap_or_else(|| format!("test {}", node.shown_path()));
    let anchor = name.as_ref().map(|(_, n)| r.value_span(n)).unwrap_or_else(|| r.anchor(node));
    let Some(rule) = node.get("rule") else {
        let (msg, label) = if node.get("sql").is_some() {
            (format!("{shown} has only SQL and is not imported"), "dqc generates SQL from rules")
        } else {
            (format!("{shown} has no `rule` and is not imported"), "nothing to import")
        };
        r.diags.push(
            Diagnostic::new(Code::ImportApproximation, msg, anchor)
                .with_primary_label(label)
                .with_help("express the test as a rule in `data_quality`"),
        );
        return None;
    };
    let before = r.diags.len();
    let expr = expression(r, &rule);
    let id = name.and_then(|(n, id_node)| word_id(r, &n, &id_node));
    let mods = modifiers(r, node, false);
    let (expr, mods) = (expr?, mods?);
    if r.diags.iter().skip(before).any(Diagnostic::is_error) {
        return None;
    }
    let prefix = id.map(|i| format!("{i}: ")).unwrap_or_default();
    let line = format!("{prefix}check {expr}{mods}");
    check_line(r, node, &line)?;
    Some(line)
}

/// A name in the contract language: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_word(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Free text as a word: lowercase, each run of other characters as one `_` (for layers and
/// ids that LLMs write as phrases).
pub(crate) fn to_word(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()).collect();
    parts.join("_")
}
