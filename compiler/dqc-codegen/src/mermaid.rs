//! Mermaid diagrams: `docs/<table>.mmd`, one `flowchart LR` per contract.
//!
//! ```text
//!  referencing tables ──FK cols──▶ ┌──────────────┐ ──FK cols──▶ referenced tables
//!  pre_load rules ──gates load──▶  │ the contract │ ──after load──▶ post_load rules
//!                                  └──────┬───────┘
//!                                         ┆ partitions, grain, SLA
//! ```
//!
//! Rules are grouped in a subgraph per stage, then per kind (in order of first appearance),
//! one node per rule with its id, severity and [statement](crate::describe::rule); severities
//! are also `error` / `warn` class definitions.
//!
//! Safety: node and subgraph ids are generated from indexes and fixed keywords, never from user
//! text, and every label is written with the quoted `["..."]` syntax, its text passed through
//! [`escape`], which keeps only characters Mermaid cannot misread and writes every other one as
//! a Mermaid entity (`#quot;`, `#35;`, ...). Label lines never hold a raw `:` or `;`, so no
//! label can be mistaken for a `style` or `classDef` statement. The output reads no clock and
//! depends only on the IR, so it is deterministic.

use dqc_ir::{Contract, Project, Rule, RuleKind, Severity, Stage, TableRef};

use crate::describe;

/// Class definitions, one per node role and rule severity.
const CLASS_DEFS: &[(&str, &str)] = &[
    ("focus", "fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px,color:#0b1f4d"),
    ("tbl", "fill:#f3f4f6,stroke:#6b7280,color:#111827"),
    ("keys", "fill:#ecfdf5,stroke:#047857,color:#064e3b"),
    ("error", "fill:#fee2e2,stroke:#b91c1c,color:#7f1d1d"),
    ("warn", "fill:#fef3c7,stroke:#b45309,color:#78350f"),
];

/// The node id of the contract's own table.
pub const FOCUS_ID: &str = "tbl0";

/// The diagram of one contract, ending with a newline.
pub fn diagram(project: &Project, contract: &Contract) -> String {
    let mut w = Writer::default();
    w.header(contract);
    w.focus(contract);
    w.keys(contract);
    w.references(project, contract);
    w.referenced_by(project, contract);
    w.rules(contract);
    w.classes();
    w.out
}

/// Escapes text for a quoted Mermaid label.
///
/// ASCII letters, digits, space and `_ . , - / ' = + ? !` are kept; `"`, `<`, `>` and `&` become
/// `#quot;`, `#lt;`, `#gt;` and `#amp;`; control characters (newlines, tabs) become a space;
/// every other character, including `#`, `;`, `:`, brackets, pipes, `$`, `%`, backticks and all
/// non-ASCII characters, becomes its decimal code point entity, such as `#35;`.
///
/// Mermaid decodes entities before it looks for KaTeX (`$$...$$`) and Font Awesome icons
/// (`fa:fa-name`), so a zero-width space (`#8203;`) is added between two dollars and after a
/// colon that starts `:fa-`: such text is shown as written, never as math or an icon.
pub fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let rest = &chars[i + 1..];
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | ' ' | '_' | '.' | ',' | '-' | '/' | '\'' | '=' | '+' | '?' | '!' => {
                out.push(c)
            }
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '$' if rest.first() == Some(&'$') => out.push_str("#36;#8203;"),
            ':' if rest.starts_with(&['f', 'a', '-']) => out.push_str("#58;#8203;"),
            c if c.is_control() => out.push(' '),
            c => out.push_str(&format!("#{};", u32::from(c))),
        }
    }
    out
}

/// A quoted label from lines of plain text: each line escaped, joined with `<br/>`.
pub fn label<S: AsRef<str>>(lines: &[S]) -> String {
    let escaped: Vec<String> = lines.iter().map(|l| escape(l.as_ref())).collect();
    format!("[\"{}\"]", escaped.join("<br/>"))
}

/// The CSS class of a severity.
pub fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warn => "warn",
    }
}

/// Two table identities name the same table (ignoring ASCII case, as the catalog does).
pub(crate) fn same_table(a: &TableRef, b: &TableRef) -> bool {
    a.qualified().eq_ignore_ascii_case(&b.qualified())
}

/// The foreign keys of a contract: (referencing columns, table, referenced columns).
pub(crate) fn foreign_keys(contract: &Contract) -> impl Iterator<Item = (&[String], &TableRef, &[String])> {
    contract.rules.iter().filter_map(|r| match &r.kind {
        RuleKind::ForeignKey { columns, table, ref_columns } => Some((&columns[..], table, &ref_columns[..])),
        _ => None,
    })
}

/// An edge label naming the key columns: `a` when both sides agree, else `a, b → x, y`.
fn key_label(columns: &[String], ref_columns: &[String]) -> String {
    let (from, to) = (columns.join(", "), ref_columns.join(", "));
    if from == to {
        from
    } else {
        format!("{from} → {to}")
    }
}

/// Builds the diagram text; tables get ids `tbl0` (the contract), `tbl1`, ... in order of appearance.
#[derive(Debug, Default)]
struct Writer {
    out: String,
    /// Qualified names (lowercase) of the table nodes, indexed by their id number.
    tables: Vec<String>,
    /// `(class, node id)` assignments, written at the end.
    classes: Vec<(&'static str, String)>,
}

impl Writer {
    fn line(&mut self, indent: usize, text: &str) {
        self.out.push_str(&"  ".repeat(indent));
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn header(&mut self, contract: &Contract) {
        let hash: String = contract.hash.chars().filter(|c| c.is_ascii_alphanumeric() || *c == ':').collect();
        self.line(0, "flowchart LR");
        self.line(1, "%% Generated by dqc from the contract; do not edit.");
        self.line(1, &format!("%% contract {hash}"));
        for (name, style) in CLASS_DEFS {
            self.line(1, &format!("classDef {name} {style}"));
        }
    }

    /// The id of a table's node, and whether it was just created.
    fn table_id(&mut self, table: &TableRef) -> (String, bool) {
        let key = table.qualified().to_ascii_lowercase();
        match self.tables.iter().position(|t| *t == key) {
            Some(i) => (format!("tbl{i}"), false),
            None => {
                self.tables.push(key);
                (format!("tbl{}", self.tables.len() - 1), true)
            }
        }
    }

    fn focus(&mut self, contract: &Contract) {
        let (id, _) = self.table_id(&contract.table);
        let mut lines = vec![contract.table.qualified()];
        let mut about = Vec::new();
        if let Some(layer) = &contract.layer {
            about.push(format!("layer {layer}"));
        }
        if let Some(owner) = &contract.owner {
            about.push(format!("owner {owner}"));
        }
        if !about.is_empty() {
            lines.push(about.join(" · "));
        }
        lines.push(format!("{} columns · {} rules", contract.columns.len(), contract.rules.len()));
        self.line(1, &format!("{id}{}", label(&lines)));
        self.classes.push(("focus", id));
    }

    /// Partitions, grain and SLA, in a node attached to the table.
    fn keys(&mut self, contract: &Contract) {
        let mut lines = Vec::new();
        if !contract.partitions.is_empty() {
            lines.push(format!("partitioned by {}", contract.partitions.join(", ")));
        }
        if !contract.grain.is_empty() {
            lines.push(format!("grain {}", contract.grain.join(", ")));
        }
        if let Some(sla) = &contract.sla {
            let by = sla.by_utc.as_ref().map(|t| format!(" by {t} UTC")).unwrap_or_default();
            lines.push(format!("SLA {}{by}", sla.frequency.as_str()));
        }
        if lines.is_empty() {
            return;
        }
        self.line(1, &format!("keys{}", label(&lines)));
        self.line(1, &format!("{FOCUS_ID} -.- keys"));
        self.classes.push(("keys", "keys".to_string()));
    }

    /// Tables this contract references, with one edge per foreign key (child → parent).
    fn references(&mut self, project: &Project, contract: &Contract) {
        let mut edges = Vec::new();
        let mut nodes = Vec::new();
        for (columns, table, ref_columns) in foreign_keys(contract) {
            let (id, new) = self.table_id(table);
            if new {
                nodes.push(format!("{id}{}", label(&table_lines(project, table))));
                self.classes.push(("tbl", id.clone()));
            }
            edges.push(format!("{FOCUS_ID} -->|\"{}\"| {id}", escape(&key_label(columns, ref_columns))));
        }
        self.group("references", "References by foreign key", &nodes);
        for e in edges {
            self.line(1, &e);
        }
    }

    /// Other contracts of the project whose foreign keys point at this one (parent ← child).
    fn referenced_by(&mut self, project: &Project, contract: &Contract) {
        let mut edges = Vec::new();
        let mut nodes = Vec::new();
        for other in project.contracts.iter().filter(|c| !same_table(&c.table, &contract.table)) {
            for (columns, table, ref_columns) in foreign_keys(other) {
                if !same_table(table, &contract.table) {
                    continue;
                }
                let (id, new) = self.table_id(&other.table);
                if new {
                    nodes.push(format!("{id}{}", label(&table_lines(project, &other.table))));
                    self.classes.push(("tbl", id.clone()));
                }
                edges.push(format!("{id} -->|\"{}\"| {FOCUS_ID}", escape(&key_label(columns, ref_columns))));
            }
        }
        self.group("referenced_by", "Referenced by", &nodes);
        for e in edges {
            self.line(1, &e);
        }
    }

    /// A subgraph holding already-labelled node lines; nothing when there are none.
    fn group(&mut self, id: &str, title: &str, nodes: &[String]) {
        if nodes.is_empty() {
            return;
        }
        self.line(1, &format!("subgraph {id}{}", label(&[title])));
        for n in nodes {
            self.line(2, n);
        }
        self.line(1, "end");
    }

    /// One subgraph per stage, nested subgraphs per rule kind, one node per rule.
    fn rules(&mut self, contract: &Contract) {
        for stage in [Stage::PreLoad, Stage::PostLoad] {
            let rules: Vec<(usize, &Rule)> =
                contract.rules.iter().enumerate().filter(|(_, r)| r.stage == stage).collect();
            if rules.is_empty() {
                continue;
            }
            let sid = format!("stage_{}", stage.as_str());
            self.line(1, &format!("subgraph {sid}{}", label(&[stage_title(stage)])));
            self.line(2, "direction TB");
            let mut kinds: Vec<&'static str> = Vec::new();
            for (_, r) in &rules {
                if !kinds.contains(&r.kind.type_name()) {
                    kinds.push(r.kind.type_name());
                }
            }
            for kind in kinds {
                self.line(2, &format!("subgraph {sid}__{kind}{}", label(&[kind])));
                for (i, r) in rules.iter().filter(|(_, r)| r.kind.type_name() == kind) {
                    self.rule_node(contract, *i, r);
                }
                self.line(2, "end");
            }
            self.line(1, "end");
            match stage {
                Stage::PreLoad => self.line(1, &format!("{sid} -->|\"{}\"| {FOCUS_ID}", escape("gate each batch"))),
                Stage::PostLoad => self.line(1, &format!("{FOCUS_ID} -->|\"{}\"| {sid}", escape("verify after load"))),
            }
        }
        for (i, r) in contract.rules.iter().enumerate() {
            self.classes.push((severity_class(r.severity), format!("rule{i}")));
        }
    }

    fn rule_node(&mut self, contract: &Contract, index: usize, r: &Rule) {
        let id = format!("rule{index}");
        // A check's statement is its expression (`describe::rule`).
        let lines = vec![r.id.clone(), format!("{} · {}", r.severity.as_str(), describe::rule(contract, r))];
        self.line(3, &format!("{id}{}", label(&lines)));
    }

    /// `class a,b name` lines, one per class that has nodes, in class definition order.
    fn classes(&mut self) {
        for (name, _) in CLASS_DEFS {
            let ids: Vec<&str> = self.classes.iter().filter(|(c, _)| c == name).map(|(_, id)| id.as_str()).collect();
            if !ids.is_empty() {
                let text = format!("class {} {name}", ids.join(","));
                self.line(1, &text);
            }
        }
    }
}

/// The title of a stage's subgraph.
fn stage_title(stage: Stage) -> String {
    match stage {
        Stage::PreLoad => "pre_load rules, on each incoming batch".to_string(),
        Stage::PostLoad => "post_load rules, on the loaded table".to_string(),
    }
}

/// The label lines of a related table: its name, and its layer when the project has its contract.
fn table_lines(project: &Project, table: &TableRef) -> Vec<String> {
    let mut lines = vec![table.qualified()];
    let layer = project.contracts.iter().find(|c| same_table(&c.table, table)).and_then(|c| c.layer.as_ref());
    if let Some(layer) = layer {
        lines.push(format!("layer {layer}"));
    }
    lines
}
