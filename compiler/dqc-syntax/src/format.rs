//! The canonical formatter: prints an AST back as text, keeping every comment.
//!
//! Canonical form: lowercase keywords, two-space indentation, one property, column or rule per
//! line, column names and types aligned, a comma after every column, strings in single quotes,
//! names quoted only when they must be, at most one blank line where the author left one.
//! Comments stay before the item they preceded, or at the end of its line; a comment inside a
//! multi-line property, column or rule moves before it. Formatting is idempotent.

use crate::ast::*;

/// Formats a parsed file. `source` must be the text `file` was parsed from.
pub fn format_file(file: &SourceFile, source: &str) -> String {
    let mut p = Printer {
        source,
        comments: &file.comments,
        next_comment: 0,
        last_end: 0,
        out: String::new(),
        open_block: false,
    };
    for (i, contract) in file.contracts.iter().enumerate() {
        p.leading(contract.span.start, 0, i == 0);
        p.contract(contract);
    }
    p.flush_rest(0);
    if !p.out.ends_with('\n') && !p.out.is_empty() {
        p.out.push('\n');
    }
    p.out
}

/// Quotes a name with double quotes when it is not a plain, unreserved identifier.
pub fn quote_ident(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name));
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Writes a string literal in single quotes, doubling embedded quotes.
pub fn quote_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Must match `reserved` in grammar/contract.pest.
const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "like",
    "between",
    "case",
    "when",
    "then",
    "else",
    "end",
    "true",
    "false",
    "cast",
    "as",
    "where",
    "matches",
    "references",
    "row_count",
];

struct Printer<'a> {
    source: &'a str,
    comments: &'a [Comment],
    next_comment: usize,
    last_end: u32,
    out: String,
    /// True right after a line that opened a block, where no blank line belongs.
    open_block: bool,
}

impl Printer<'_> {
    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str("  ");
        }
    }

    /// A blank line may be printed: not at the start of output or of a block, and not twice.
    fn can_open_blank(&self) -> bool {
        !self.out.is_empty() && !self.open_block && !self.out.ends_with("\n\n")
    }

    /// True when the author left a blank line between the last printed thing and `start`.
    fn blank_line_before(&self, start: u32) -> bool {
        let gap = self.source.get(self.last_end as usize..start as usize).unwrap_or("");
        gap.matches('\n').count() >= 2
    }

    /// Prints the comments that come before `start`, and a blank line where the author had one.
    /// Comments inside a one-line item (`upto` is its end) move before it; for blocks, `upto`
    /// is the block's start so the comments inside stay inside.
    fn leading_upto(&mut self, start: u32, upto: u32, level: usize, first_in_block: bool) {
        // A blank line the author left before the item, decided before comments move.
        let mut item_blank = self.blank_line_before(start);
        while let Some(c) = self.comments.get(self.next_comment).filter(|c| c.span.start < upto.max(start)) {
            let inside = c.span.start > start;
            let blank = if inside { std::mem::take(&mut item_blank) } else { self.blank_line_before(c.span.start) };
            if blank && self.can_open_blank() {
                self.out.push('\n');
            }
            self.indent(level);
            self.out.push_str(&format!("--{}\n", c.text));
            self.last_end = c.span.end;
            self.next_comment += 1;
            self.open_block = false;
        }
        let blank = item_blank && self.blank_line_before(start) && self.can_open_blank();
        if blank || (!first_in_block && level == 0 && !self.out.is_empty() && !self.out.ends_with("\n\n")) {
            self.out.push('\n');
        }
    }

    fn leading(&mut self, start: u32, level: usize, first_in_block: bool) {
        self.leading_upto(start, start, level, first_in_block);
    }

    /// Appends a comment that starts on the same source line as `end` to the current line.
    fn trailing(&mut self, end: u32) {
        if let Some(c) = self.comments.get(self.next_comment) {
            let gap = self.source.get(end as usize..c.span.start as usize).unwrap_or("\n");
            if c.span.start >= end && gap.trim_matches([' ', '\t', ',', '\r']).is_empty() {
                self.out.push_str(&format!(" --{}", c.text));
                self.last_end = c.span.end;
                self.next_comment += 1;
                return;
            }
        }
        self.last_end = self.last_end.max(end);
    }

    /// Prints the comments left before a closing brace at `close`.
    fn before_close(&mut self, close: u32, level: usize) {
        while let Some(c) = self.comments.get(self.next_comment).filter(|c| c.span.start < close) {
            if self.blank_line_before(c.span.start) && self.can_open_blank() {
                self.out.push('\n');
            }
            self.indent(level);
            self.out.push_str(&format!("--{}\n", c.text));
            self.last_end = c.span.end;
            self.next_comment += 1;
            self.open_block = false;
        }
        self.last_end = close;
    }

    fn flush_rest(&mut self, level: usize) {
        self.before_close(u32::MAX, level);
    }

    fn contract(&mut self, c: &Contract) {
        self.out.push_str(&format!("contract {} {{", table_name(&c.name)));
        let brace = self.source.get(c.name.span.end as usize..).and_then(|r| r.find('{')).unwrap_or(0);
        self.trailing(c.name.span.end + u32::try_from(brace + 1).unwrap_or(0));
        self.out.push('\n');
        self.open_block = true;
        self.last_end = c.name.span.end;
        for item in &c.items {
            self.item(item);
        }
        self.before_close(c.close.start, 1);
        self.out.push_str("}\n");
        self.open_block = false;
        self.trailing(c.close.end);
    }

    fn item(&mut self, item: &Item) {
        let is_block = matches!(item.kind, ItemKind::Columns(_) | ItemKind::Rules(_));
        if is_block && !self.open_block && !self.out.ends_with("\n\n") {
            // Blocks, with the comments before them, are always set off by a blank line.
            self.out.push('\n');
        }
        let upto = if is_block { item.span.start } else { item.span.end };
        self.leading_upto(item.span.start, upto, 1, true);
        self.indent(1);
        match &item.kind {
            ItemKind::Owner(s) => self.line(format!("owner {}", quote_string(&s.value)), item.span.end),
            ItemKind::Description(s) => self.line(format!("description {}", quote_string(&s.value)), item.span.end),
            ItemKind::Layer(l) => self.line(format!("layer {}", l.name.to_ascii_lowercase()), item.span.end),
            ItemKind::Location(s) => self.line(format!("location {}", quote_string(&s.value)), item.span.end),
            ItemKind::PartitionedBy(cols) => self.line(format!("partitioned by {}", ident_list(cols)), item.span.end),
            ItemKind::Grain(cols) => self.line(format!("grain {}", ident_list(cols)), item.span.end),
            ItemKind::Sla(sla) => {
                let mut text = format!("sla {}", sla.frequency.name.to_ascii_lowercase());
                if let Some(by) = &sla.by {
                    text.push_str(&format!(" by {} utc", time_of_day(&by.value)));
                }
                self.line(text, item.span.end);
            }
            ItemKind::Columns(block) => self.columns(block),
            ItemKind::Rules(block) => self.rules(block),
        }
    }

    fn line(&mut self, text: String, end: u32) {
        self.open_block = false;
        self.out.push_str(&text);
        self.trailing(end);
        self.out.push('\n');
    }

    fn columns(&mut self, block: &Block<Column>) {
        self.out.push_str("columns {\n");
        self.open_block = true;
        let names: Vec<String> = block.entries.iter().map(|c| quote_ident(&c.name.name)).collect();
        let types: Vec<String> = block.entries.iter().map(|c| type_expr(&c.ty)).collect();
        let name_w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let type_w = types.iter().map(|t| t.chars().count()).max().unwrap_or(0);
        for ((col, name), ty) in block.entries.iter().zip(&names).zip(&types) {
            self.leading_upto(col.span.start, col.span.end, 2, false);
            self.indent(2);
            let attrs = column_attrs(&col.attrs);
            let mut text = format!("{name:<name_w$} {ty}");
            if !attrs.is_empty() {
                text = format!("{name:<name_w$} {ty:<type_w$} {attrs}");
            }
            text.push(',');
            self.open_block = false;
            self.out.push_str(&text);
            self.trailing(col.span.end);
            self.out.push('\n');
        }
        self.before_close(block.close.start, 2);
        self.indent(1);
        self.out.push('}');
        self.open_block = false;
        self.trailing(block.close.end);
        self.out.push('\n');
    }

    fn rules(&mut self, block: &Block<Rule>) {
        self.out.push_str("rules {\n");
        self.open_block = true;
        for rule in &block.entries {
            self.leading_upto(rule.span.start, rule.span.end, 2, false);
            self.indent(2);
            let text = rule_text(rule);
            self.open_block = false;
            self.out.push_str(&text);
            self.trailing(rule.span.end);
            self.out.push('\n');
        }
        self.before_close(block.close.start, 2);
        self.indent(1);
        self.out.push('}');
        self.open_block = false;
        self.trailing(block.close.end);
        self.out.push('\n');
    }
}

/// `6:00` becomes `06:00`.
fn time_of_day(text: &str) -> String {
    match text.split_once(':') {
        Some((h, m)) if h.len() == 1 => format!("0{h}:{m}"),
        _ => text.to_string(),
    }
}

fn table_name(t: &TableName) -> String {
    match &t.database {
        Some(db) => format!("{}.{}", quote_ident(&db.name), quote_ident(&t.table.name)),
        None => quote_ident(&t.table.name),
    }
}

fn ident_list(ids: &[Ident]) -> String {
    let names: Vec<String> = ids.iter().map(|i| quote_ident(&i.name)).collect();
    format!("({})", names.join(", "))
}

fn column_attrs(attrs: &[ColumnAttr]) -> String {
    let parts: Vec<String> = attrs
        .iter()
        .map(|a| match a {
            ColumnAttr::NotNull(_) => "not null".to_string(),
            ColumnAttr::Null(_) => "null".to_string(),
            ColumnAttr::Pii(_) => "pii".to_string(),
            ColumnAttr::Comment(s) => format!("comment {}", quote_string(&s.value)),
        })
        .collect();
    parts.join(" ")
}

/// Prints a type in canonical form.
pub(crate) fn type_expr(t: &TypeExpr) -> String {
    match &t.kind {
        TypeExprKind::Named(n) => n.clone(),
        TypeExprKind::Param(n, ps) => {
            let ps: Vec<&str> = ps.iter().map(|(p, _)| p.as_str()).collect();
            format!("{n}({})", ps.join(", "))
        }
        TypeExprKind::Array(inner) => format!("array<{}>", type_expr(inner)),
        TypeExprKind::Struct(fields) => {
            let fs: Vec<String> =
                fields.iter().map(|(n, t)| format!("{}: {}", quote_ident(&n.name), type_expr(t))).collect();
            format!("struct<{}>", fs.join(", "))
        }
    }
}

fn rule_text(rule: &Rule) -> String {
    let mut text = String::new();
    if let Some(id) = &rule.id {
        text.push_str(&format!("{}: ", id.name));
    }
    text.push_str(&body_text(&rule.body));
    for m in &rule.modifiers {
        text.push(' ');
        text.push_str(&match m {
            Modifier::Where(e, _) => format!("where {}", expr_text(e)),
            Modifier::Severity(s, _) => match s.name.to_ascii_lowercase().as_str() {
                "warning" => "severity warn".to_string(),
                other => format!("severity {other}"),
            },
            Modifier::Stage(s, _) => format!("stage {}", s.name.to_ascii_lowercase()),
            Modifier::AtLeast(l, non_null, _) => {
                format!("at least {}%{}", literal_text(l), if *non_null { " of non-null" } else { "" })
            }
            Modifier::Because(s, _) => format!("because {}", quote_string(&s.value)),
        });
    }
    text
}

fn columns_ref(c: &ColumnsRef) -> String {
    match c.columns.as_slice() {
        [one] if !c.parenthesized => quote_ident(&one.name),
        cols => ident_list(cols),
    }
}

fn subject(s: &Subject) -> String {
    match s {
        Subject::Column(c) => quote_ident(&c.name),
        Subject::Length(c, _) => format!("length({})", quote_ident(&c.name)),
        Subject::RowCount(_) => "row_count".to_string(),
        Subject::Aggregate { function, column, .. } => format!("{function}({})", quote_ident(&column.name)),
    }
}

fn duration(d: &Duration) -> String {
    format!("{} {}", d.amount.0, d.unit.name.to_ascii_lowercase())
}

fn body_text(body: &RuleBody) -> String {
    match body {
        RuleBody::NotNull(c) => format!("not null {}", quote_ident(&c.name)),
        RuleBody::Unique { columns, keep } => {
            let mut t = format!("unique {}", columns_ref(columns));
            if let Some(k) = keep {
                t.push_str(&format!(" keep first by {}", quote_ident(&k.by.name)));
                if k.explicit_direction {
                    t.push_str(if k.descending { " desc" } else { " asc" });
                }
            }
            t
        }
        RuleBody::Freshness { column, within } => {
            format!("freshness {} within {}", quote_ident(&column.name), duration(within))
        }
        RuleBody::Anomaly { band, window } => {
            let band = match band {
                AnomalyBand::Percent(l) => format!("{}%", literal_text(l)),
                AnomalyBand::StdDev(l) => format!("{} stddev", literal_text(l)),
            };
            format!("row_count within {band} of average over {}", duration(window))
        }
        RuleBody::Check(e) => format!("check {}", expr_text(e)),
        RuleBody::ForeignKey { columns, table, ref_columns } => {
            format!("{} references {} {}", columns_ref(columns), table_name(table), ident_list(ref_columns))
        }
        RuleBody::Regex { subject: s, pattern } => format!("{} matches {}", subject(s), quote_string(&pattern.value)),
        RuleBody::Allowed { subject: s, values } => {
            let vs: Vec<String> = values.iter().map(literal_text).collect();
            format!("{} in ({})", subject(s), vs.join(", "))
        }
        RuleBody::Between { subject: s, low, high } => {
            format!("{} between {} and {}", subject(s), literal_text(low), literal_text(high))
        }
        RuleBody::Chain { low, low_op, subject: s, high_op, high } => format!(
            "{} {} {} {} {}",
            literal_text(low),
            low_op.as_str(),
            subject(s),
            high_op.as_str(),
            literal_text(high)
        ),
        RuleBody::Compare { subject: s, op, rhs } => {
            let rhs = match rhs {
                Operand::Literal(l) => literal_text(l),
                Operand::Column(c) => quote_ident(&c.name),
            };
            format!("{} {} {rhs}", subject(s), op.as_str())
        }
    }
}

/// Prints a literal in canonical form.
pub(crate) fn literal_text(l: &Literal) -> String {
    match &l.kind {
        LiteralKind::Number(n) => n.clone(),
        LiteralKind::String(s) => quote_string(s),
        LiteralKind::Bool(b) => b.to_string(),
        LiteralKind::Null => "null".to_string(),
        LiteralKind::Date(d) => format!("date {}", quote_string(d)),
        LiteralKind::Timestamp(t) => format!("timestamp {}", quote_string(t)),
    }
}

/// Prints an expression, keeping the parentheses the author wrote.
pub fn expr_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Column(c) => quote_ident(&c.name),
        ExprKind::Literal(l) => literal_text(l),
        ExprKind::Paren(inner) => format!("({})", expr_text(inner)),
        ExprKind::Unary(UnOp::Not, inner) => format!("not {}", expr_text(inner)),
        ExprKind::Unary(UnOp::Neg, inner) => {
            // `--` would start a comment, so a negated negative is printed with a space.
            let text = expr_text(inner);
            if text.starts_with('-') {
                format!("- {text}")
            } else {
                format!("-{text}")
            }
        }
        ExprKind::Binary(op, l, r) => format!("{} {} {}", expr_text(l), bin_op(*op), expr_text(r)),
        ExprKind::IsNull { expr, negated } => {
            format!("{} is {}null", expr_text(expr), if *negated { "not " } else { "" })
        }
        ExprKind::InList { expr, list, negated } => {
            let items: Vec<String> = list.iter().map(expr_text).collect();
            format!("{} {}in ({})", expr_text(expr), not(*negated), items.join(", "))
        }
        ExprKind::Like { expr, pattern, negated } => {
            format!("{} {}like {}", expr_text(expr), not(*negated), quote_string(&pattern.value))
        }
        ExprKind::Between { expr, low, high, negated } => {
            format!("{} {}between {} and {}", expr_text(expr), not(*negated), expr_text(low), expr_text(high))
        }
        ExprKind::Case { operand, whens, otherwise } => {
            let mut t = "case".to_string();
            if let Some(o) = operand {
                t.push_str(&format!(" {}", expr_text(o)));
            }
            for (w, th) in whens {
                t.push_str(&format!(" when {} then {}", expr_text(w), expr_text(th)));
            }
            if let Some(o) = otherwise {
                t.push_str(&format!(" else {}", expr_text(o)));
            }
            t.push_str(" end");
            t
        }
        ExprKind::Cast(inner, ty) => format!("cast({} as {})", expr_text(inner), type_expr(ty)),
        ExprKind::Call(name, args) => {
            let args: Vec<String> = args.iter().map(expr_text).collect();
            format!("{}({})", name.name.to_ascii_lowercase(), args.join(", "))
        }
    }
}

fn not(negated: bool) -> &'static str {
    if negated {
        "not "
    } else {
        ""
    }
}

fn bin_op(op: BinOp) -> &'static str {
    match op {
        BinOp::Or => "or",
        BinOp::And => "and",
        BinOp::Cmp(c) => c.as_str(),
        BinOp::Concat => "||",
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
    }
}
