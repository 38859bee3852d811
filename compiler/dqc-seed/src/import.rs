//! Import: the seed's LLM output (`data_quality`, `tests`, `docs_markdown`) to contract text.
//!
//! The importer writes contract-language text and lets `dqc-syntax` parse and format it, so
//! the result is canonical. Everything read from JSON is checked here first, with diagnostics
//! pointing into the JSON: the generated text is not something the user wrote, so nothing
//! should have to point into it. A rule that cannot be read is dropped and reported; the rest
//! of the contract is still written.

use std::collections::BTreeSet;

use dqc_diagnostics::{did_you_mean, Code, Diagnostic, FileId, Span};
use dqc_syntax::{quote_ident, quote_string};
use jsonc_parser::ast::Value;

use crate::json::{self, Node, Reader};
use crate::rules::{self, Converted, RuleCx};
use crate::types::{parse_type, ColumnType};

/// A column as imported.
#[derive(Debug, Clone)]
pub(crate) struct ColumnDecl {
    /// The name as written in JSON.
    pub name: String,
    /// The type.
    pub ty: ColumnType,
    /// Declared `not null`.
    pub not_null: bool,
    /// Declared `pii`.
    pub pii: bool,
    /// The description.
    pub comment: Option<String>,
}

impl ColumnDecl {
    /// The declaration line, without the separating comma.
    fn text(&self) -> String {
        let mut line = format!("{} {}", quote_ident(&self.name), self.ty.text);
        if self.not_null {
            line.push_str(" not null");
        }
        if self.pii {
            line.push_str(" pii");
        }
        if let Some(c) = &self.comment {
            line.push_str(&format!(" comment {}", quote_string(c)));
        }
        line
    }
}

/// One contract being assembled.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    /// `db.table`, quoted as needed.
    table: String,
    /// Property lines (owner, description, ...), in canonical order.
    props: Vec<String>,
    /// The grain, for `grain_uniqueness` rules that do not list it.
    grain: Vec<String>,
    /// Columns in JSON order.
    columns: Vec<ColumnDecl>,
    /// Column names that key lists use and that must be declared (name, where it was used).
    keys: Vec<(String, Span, &'static str)>,
    /// Rule lines.
    rules: Vec<String>,
    /// Every id a rule of this contract has (explicit or derived), to match `tests` entries.
    ids: BTreeSet<String>,
}

impl Draft {
    fn text(&self) -> String {
        let mut out = format!("contract {} {{\n", self.table);
        for p in &self.props {
            out.push_str(&format!("  {p}\n"));
        }
        out.push_str("  columns {\n");
        for c in &self.columns {
            out.push_str(&format!("    {},\n", c.text()));
        }
        out.push_str("  }\n");
        if !self.rules.is_empty() {
            out.push_str("  rules {\n");
            for r in &self.rules {
                out.push_str(&format!("    {r}\n"));
            }
            out.push_str("  }\n");
        }
        out.push_str("}\n");
        out
    }

    fn column(&self, name: &str) -> Option<&ColumnDecl> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    fn add(&mut self, converted: Converted) {
        self.ids.extend(converted.ids);
        self.keys.extend(converted.keys);
        self.rules.push(converted.line);
    }
}

/// Imports LLM output: see [`crate::import`].
pub(crate) fn import(text: &str, file: FileId) -> (Option<String>, Vec<Diagnostic>) {
    let doc = match json::parse_document(text, file) {
        Ok(doc) => doc,
        Err(d) => return (None, vec![d]),
    };
    let mut r = Reader { file, source: text, offset: doc.offset, diags: Vec::new() };
    let root = Node::root(&doc.value);
    let objects = match doc.value {
        Value::Object(_) => vec![root.clone()],
        Value::Array(_) => root.elements(),
        _ => {
            r.wrong_kind(&root, "an object");
            Vec::new()
        }
    };
    if objects.is_empty() && matches!(doc.value, Value::Array(_)) {
        r.shape(&root, "the top-level array is empty", "expected one object per contract");
    }
    let texts: Vec<String> = objects.iter().filter_map(|o| contract(&mut r, o)).collect();
    let output = if texts.is_empty() { None } else { finish(&mut r, &root, &texts.join("\n")) };
    let mut diags = r.diags;
    dqc_diagnostics::sort(&mut diags);
    (output, diags)
}

/// Parses and formats the generated text. Every piece was validated on its own, so a failure
/// here is a bug; it is still reported rather than returned as broken text.
fn finish(r: &mut Reader<'_>, root: &Node<'_>, source: &str) -> Option<String> {
    match dqc_syntax::parse(source, r.file) {
        Ok(ast) => Some(dqc_syntax::format_file(&ast, source)),
        Err(e) => {
            let d = Diagnostic::new(
                Code::UnexpectedJsonShape,
                "the imported contract could not be written",
                r.anchor(root),
            )
            .with_note(format!("the generated text does not parse: {}", e.message))
            .with_note("this is a bug in dqc; please report it with the input");
            r.diags.push(d);
            None
        }
    }
}

/// One element of the output: a `data_quality` object with its `tests`.
fn contract(r: &mut Reader<'_>, obj: &Node<'_>) -> Option<String> {
    if !matches!(obj.value, Value::Object(_)) {
        r.wrong_kind(obj, "an object with a `data_quality` field");
        return None;
    }
    // A bare contract object (no `data_quality` wrapper) is read as the contract itself.
    let dq = match obj.get("data_quality") {
        Some(dq) => dq,
        None if obj.get("table_name").is_some() => obj.clone(),
        None => {
            r.require(obj, "data_quality");
            return None;
        }
    };
    if !matches!(dq.value, Value::Object(_)) {
        r.wrong_kind(&dq, "an object");
        return None;
    }
    let mut draft = Draft::default();
    header(r, &dq, &mut draft)?;
    columns(r, &dq, &mut draft);
    if let Some((checks, _)) = r.opt_array(&dq, &["table_level_checks", "table_checks"]) {
        for check in &checks {
            let cx = RuleCx { columns: &draft.columns, column: None, grain: &draft.grain };
            if let Some(converted) = rules::convert(r, check, &cx) {
                draft.add(converted);
            }
        }
    }
    declare_key_columns(r, &mut draft);
    for c in draft.columns.iter().filter(|c| c.not_null) {
        draft.ids.insert(format!("not_null_{}", dqc_semantics::slug(&c.name)));
    }
    if let Some((tests, _)) = r.opt_array(obj, &["tests"]) {
        for test in &tests {
            if let Some(line) = rules::test(r, test, &draft.ids) {
                draft.rules.push(line);
            }
        }
    }
    if let Some(docs) = obj.get("docs_markdown") {
        let span = r.anchor(&docs);
        r.approximation(span, "`docs_markdown` is not imported", "documentation has no place in a contract");
    }
    Some(draft.text())
}

/// The table name and the contract properties.
fn header(r: &mut Reader<'_>, dq: &Node<'_>, draft: &mut Draft) -> Option<()> {
    draft.table = table_name(r, dq)?;
    for key in ["owner", "description", "layer", "location"] {
        let Some((value, node)) = r.opt_string(dq, &[key]) else { continue };
        if value.trim().is_empty() {
            // LLMs write "" for "unknown".
            continue;
        }
        if key == "layer" {
            layer_prop(r, &value, &node, draft);
        } else {
            draft.props.push(format!("{key} {}", quote_string(&value)));
        }
    }
    if let Some(parts) = name_list(r, dq, &["partitioned_by", "partition_keys"]) {
        draft.keys.extend(parts.iter().map(|(n, s)| (n.clone(), *s, "partitioned_by")));
        let names: Vec<String> = parts.into_iter().map(|(n, _)| n).collect();
        draft.props.push(format!("partitioned by {}", ident_list(&names)));
    }
    if let Some(grain) = name_list(r, dq, &["primary_key", "grain"]) {
        draft.keys.extend(grain.iter().map(|(n, s)| (n.clone(), *s, "primary_key")));
        draft.grain = grain.into_iter().map(|(n, _)| n).collect();
        draft.props.push(format!("grain {}", ident_list(&draft.grain)));
    }
    if let Some(sla) = sla(r, dq) {
        draft.props.push(sla);
    }
    Some(())
}

/// `table_name` (possibly `db.table`) and `database`, as a contract name.
fn table_name(r: &mut Reader<'_>, dq: &Node<'_>) -> Option<String> {
    let node = r.require(dq, "table_name")?;
    let written = r.string(&node)?;
    let (db, table) = match written.split_once('.') {
        Some((db, table)) => (Some(db.to_string()), table.to_string()),
        None => (None, written.clone()),
    };
    if table.is_empty() || table.contains('.') || db.as_deref() == Some("") {
        r.shape(&node, format!("`{}` must be `table` or `database.table`", node.path), "not a table name");
        return None;
    }
    let database = match (db, r.opt_string(dq, &["database"])) {
        (Some(a), Some((b, db_node))) if !a.eq_ignore_ascii_case(&b) => {
            let msg = format!("`table_name` says database `{a}` but `database` says `{b}`");
            r.diags.push(
                Diagnostic::new(Code::UnexpectedJsonShape, msg, r.value_span(&db_node))
                    .with_primary_label("conflicting database")
                    .with_label(r.value_span(&node), "database given here too"),
            );
            return None;
        }
        (Some(a), _) => Some(a),
        (None, Some((b, _))) if !b.is_empty() => Some(b),
        (None, _) => None,
    };
    Some(match database {
        Some(db) => format!("{}.{}", quote_ident(&db), quote_ident(&table)),
        None => quote_ident(&table),
    })
}

/// `layer`: a single word in the contract language.
fn layer_prop(r: &mut Reader<'_>, layer: &str, node: &Node<'_>, draft: &mut Draft) {
    if rules::is_word(layer) {
        draft.props.push(format!("layer {}", layer.to_ascii_lowercase()));
        return;
    }
    let word = rules::to_word(layer);
    if word.is_empty() || !rules::is_word(&word) {
        r.shape(node, format!("layer `{layer}` is not a word"), "expected a name such as `curated`");
        return;
    }
    let span = r.value_span(node);
    r.approximation(span, format!("layer `{layer}` written as `{word}`"), "a layer is a single word");
    draft.props.push(format!("layer {word}"));
}

/// A list of column names with where each was written.
fn name_list(r: &mut Reader<'_>, node: &Node<'_>, names: &[&str]) -> Option<Vec<(String, Span)>> {
    let field = node.get_any(names)?;
    let items = match field.value {
        Value::StringLit(_) => vec![field.clone()],
        Value::Array(_) => field.elements(),
        _ => {
            r.wrong_kind(&field, "an array of column names");
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
    (!out.is_empty()).then_some(out)
}

/// `(a, b)`.
pub(crate) fn ident_list(names: &[String]) -> String {
    let names: Vec<String> = names.iter().map(|n| quote_ident(n)).collect();
    format!("({})", names.join(", "))
}

const FREQUENCIES: &[&str] = &["hourly", "daily", "weekly", "monthly"];

/// The seed's `freshness` object (`frequency`, `sla_hour_utc`, `sla_time_utc`) as an `sla`.
fn sla(r: &mut Reader<'_>, dq: &Node<'_>) -> Option<String> {
    let node = dq.get_any(&["freshness", "sla"])?;
    if !matches!(node.value, Value::Object(_)) {
        r.wrong_kind(&node, "an object");
        return None;
    }
    let before = r.diags.len();
    let frequency = r.opt_string(&node, &["frequency"]).and_then(|(f, n)| frequency(r, &f, &n));
    let time = match node.get_any(&["sla_time_utc", "sla_hour_utc"]) {
        Some(t) => Some(time_of_day(r, &t)?),
        None => None,
    };
    if r.failed_since(before) {
        return None;
    }
    let by = time.map(|t| format!(" by {t} utc")).unwrap_or_default();
    match frequency {
        Some(f) => Some(format!("sla {f}{by}")),
        None if !by.is_empty() => {
            let span = r.anchor(&node);
            r.approximation(span, "the sla has no `frequency`; assumed `daily`", "no frequency given");
            Some(format!("sla daily{by}"))
        }
        None => {
            let span = r.anchor(&node);
            r.approximation(span, "the sla has neither a frequency nor a time; not imported", "nothing to import");
            None
        }
    }
}

fn frequency(r: &mut Reader<'_>, written: &str, node: &Node<'_>) -> Option<String> {
    let lower = written.trim().to_ascii_lowercase();
    if FREQUENCIES.contains(&lower.as_str()) {
        return Some(lower);
    }
    let mut d =
        Diagnostic::new(Code::UnexpectedJsonShape, format!("unknown sla frequency `{written}`"), r.value_span(node))
            .with_primary_label("expected hourly, daily, weekly or monthly");
    if let Some(s) = did_you_mean(&lower, FREQUENCIES.iter().copied()) {
        d = d.with_help(format!("did you mean `{s}`?"));
    }
    r.diags.push(d);
    None
}

/// An hour (`6`, `"6"`) or a time of day (`"06:30"`) as `HH:MM`.
fn time_of_day(r: &mut Reader<'_>, node: &Node<'_>) -> Option<String> {
    let text = match node.value {
        Value::NumberLit(n) => n.value.to_string(),
        Value::StringLit(s) => s.value.trim().to_string(),
        _ => String::new(),
    };
    let (h, m) = text.split_once(':').unwrap_or((&text, "0"));
    let valid = |s: &str, max: u32| {
        (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u32>().is_ok_and(|v| v <= max)
    };
    if valid(h, 23) && valid(m, 59) {
        let (h, m) = (h.parse::<u32>().unwrap_or(0), m.parse::<u32>().unwrap_or(0));
        return Some(format!("{h:02}:{m:02}"));
    }
    r.shape(node, format!("{} must be an hour 0-23 or a time `HH:MM` in UTC", node.shown_path()), "not a time of day");
    None
}

/// `columns`: an object keyed by column name (the seed's shape) or an array of objects with
/// a `name` (the shape of the context sent to the LLM). Rules under each column are read
/// right after it.
fn columns(r: &mut Reader<'_>, dq: &Node<'_>, draft: &mut Draft) {
    let Some(node) = r.require(dq, "columns") else { return };
    let entries: Vec<(String, Node<'_>)> = match node.value {
        Value::Object(_) => node.entries(),
        Value::Array(_) => {
            let mut out = Vec::new();
            for element in node.elements() {
                if let Some(name) = r.require(&element, "name").and_then(|n| r.string(&n)) {
                    out.push((name, element));
                }
            }
            out
        }
        _ => {
            r.wrong_kind(&node, "an object keyed by column name");
            return;
        }
    };
    for (name, col) in in_declared_order(r, dq, entries) {
        column(r, name, &col, draft);
    }
}

/// Orders columns by `column_order` when present: JSON object keys are sorted by most
/// serializers, including the one writing exports, so the declaration order travels there.
fn in_declared_order<'j>(
    r: &mut Reader<'_>,
    dq: &Node<'_>,
    mut entries: Vec<(String, Node<'j>)>,
) -> Vec<(String, Node<'j>)> {
    let Some(order) = name_list(r, dq, &["column_order"]) else { return entries };
    let position = |name: &str| order.iter().position(|(n, _)| n == name).unwrap_or(order.len());
    entries.sort_by_key(|(name, _)| position(name));
    entries
}

fn column(r: &mut Reader<'_>, name: String, node: &Node<'_>, draft: &mut Draft) {
    if !matches!(node.value, Value::Object(_)) {
        r.wrong_kind(node, "an object with a `type`");
        return;
    }
    if name.is_empty() {
        let span = r.anchor(node);
        r.diags.push(
            Diagnostic::new(Code::UnexpectedJsonShape, "a column name is empty", span).with_primary_label("empty name"),
        );
        return;
    }
    if draft.column(&name).is_some() {
        let span = r.anchor(node);
        let d = Diagnostic::new(Code::UnexpectedJsonShape, format!("column `{name}` is listed twice"), span)
            .with_primary_label("second listing");
        r.diags.push(d);
        return;
    }
    let Some(ty_node) = r.require(node, "type") else { return };
    let Some(ty_text) = r.string(&ty_node) else { return };
    let ty = match parse_type(&ty_text) {
        Ok(ty) => ty,
        Err(reason) => {
            let msg = format!("column type `{ty_text}` cannot be written in a contract: {reason}");
            r.shape(&ty_node, msg, "unsupported type");
            return;
        }
    };
    let nullable = r.opt_bool(node, "nullable").unwrap_or(true);
    let pii = r.opt_bool(node, "pii").unwrap_or(false);
    let comment = r.opt_string(node, &["description", "comment"]).map(|(c, _)| c).filter(|c| !c.is_empty());
    draft.columns.push(ColumnDecl { name, ty, not_null: !nullable, pii, comment });
    let Some((rule_nodes, _)) = r.opt_array(node, &["rules"]) else { return };
    for rule in &rule_nodes {
        let cx = RuleCx { columns: &draft.columns, column: draft.columns.last(), grain: &draft.grain };
        if let Some(converted) = rules::convert(r, rule, &cx) {
            draft.add(converted);
        }
    }
}

/// Declares the columns that the grain, the partitions or a uniqueness rule name but that
/// `columns` lacks (LLMs often omit them), guessing the type from the name.
fn declare_key_columns(r: &mut Reader<'_>, draft: &mut Draft) {
    let keys = std::mem::take(&mut draft.keys);
    for (name, span, field) in keys {
        if draft.column(&name).is_some() {
            continue;
        }
        let not_null = draft.grain.iter().any(|g| g.eq_ignore_ascii_case(&name));
        let ty = guess_type(&name);
        let decl = ColumnDecl { name: name.clone(), ty, not_null, pii: false, comment: None };
        let shown = decl.text();
        let msg = format!("column `{name}` is used in `{field}` but not declared; declared as `{shown}`");
        r.diags.push(
            Diagnostic::new(Code::ImportApproximation, msg, span)
                .with_primary_label("not among the columns")
                .with_note("the type is guessed from the column name; check it"),
        );
        draft.columns.push(decl);
    }
}

fn guess_type(name: &str) -> ColumnType {
    let lower = name.to_ascii_lowercase();
    let text = if lower == "date" || lower.ends_with("_date") || lower.ends_with("_day") || lower == "dt" {
        "date"
    } else if lower.ends_with("_at")
        || lower.ends_with("_ts")
        || lower.ends_with("_time")
        || lower.contains("timestamp")
    {
        "timestamp"
    } else {
        "string"
    };
    parse_type(text).unwrap_or(ColumnType { text: text.to_string(), class: crate::types::Class::Other })
}
