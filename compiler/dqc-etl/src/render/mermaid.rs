//! The lineage graph as a Mermaid flowchart.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::graph::{GraphNode, LineageGraph};

/// Escapes a label for a double-quoted Mermaid node label.
fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Renders tables and jobs with their read and write edges. Node ids are
/// generated (`t0`, `j0`, ...) in sorted order, so any table name is safe
/// and the output is stable.
pub fn render_mermaid(graph: &LineageGraph) -> String {
    let mut ids: BTreeMap<GraphNode, String> = BTreeMap::new();
    let mut out = String::from("flowchart LR\n");
    let (mut t, mut j) = (0, 0);
    for n in graph.nodes() {
        let line = match &n {
            GraphNode::Table { name } => {
                let id = format!("t{t}");
                t += 1;
                let l = format!("  {id}[(\"{}\")]\n", label(name));
                ids.insert(n.clone(), id);
                l
            }
            GraphNode::Job { name } => {
                let id = format!("j{j}");
                j += 1;
                let l = format!("  {id}[[\"{}\"]]\n", label(name));
                ids.insert(n.clone(), id);
                l
            }
            GraphNode::Column { .. } => continue,
        };
        out.push_str(&line);
    }
    for (a, b) in graph.table_edges() {
        if let (Some(x), Some(y)) = (ids.get(&a), ids.get(&b)) {
            let _ = writeln!(out, "  {x} --> {y}");
        }
    }
    out
}
