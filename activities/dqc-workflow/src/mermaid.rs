//! A Mermaid flowchart of a state machine, generated from its definition (deterministic:
//! states in the order a walk from `StartAt` meets them).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

use crate::definition::{Edge, Kind, Machine};

/// The flowchart of a machine.
pub fn render(m: &Machine) -> String {
    let mut out = String::from("flowchart TD\n");
    let mut ids = Ids::default();
    let start = "start";
    let _ = writeln!(out, "  {start}((start))");
    machine(m, "s", &mut out, &mut ids, "  ");
    if let Some(id) = ids.get("s", &m.start_at) {
        let _ = writeln!(out, "  {start} --> {id}");
    }
    out
}

#[derive(Default)]
struct Ids {
    map: BTreeMap<(String, String), String>,
}

impl Ids {
    fn get(&self, scope: &str, name: &str) -> Option<String> {
        self.map.get(&(scope.to_owned(), name.to_owned())).cloned()
    }
}

fn label(s: &str) -> String {
    s.replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;")
}

/// States in walk order from `StartAt`.
fn order(m: &Machine) -> Vec<String> {
    let mut seen = Vec::new();
    let mut todo = VecDeque::from([m.start_at.clone()]);
    while let Some(n) = todo.pop_front() {
        if seen.contains(&n) {
            continue;
        }
        if let Some(s) = m.states.get(&n) {
            for (t, _) in s.kind.targets() {
                todo.push_back(t);
            }
            seen.push(n);
        }
    }
    seen
}

fn machine(m: &Machine, scope: &str, out: &mut String, ids: &mut Ids, indent: &str) {
    let names = order(m);
    for (i, n) in names.iter().enumerate() {
        ids.map.insert((scope.to_owned(), n.clone()), format!("{scope}{i}"));
    }
    for (i, n) in names.iter().enumerate() {
        let id = format!("{scope}{i}");
        let Some(s) = m.states.get(n) else { continue };
        let text = label(n);
        match &s.kind {
            Kind::Choice { .. } => {
                let _ = writeln!(out, "{indent}{id}{{\"{text}\"}}");
            }
            Kind::Succeed { .. } => {
                let _ = writeln!(out, "{indent}{id}([\"{text}\"])");
            }
            Kind::Fail { error, .. } => {
                let e = match error {
                    Some(crate::definition::FailField::Fixed(e)) => format!("<br/>{}", label(e)),
                    _ => String::new(),
                };
                let _ = writeln!(out, "{indent}{id}([\"{text}{e}\"])");
                let _ = writeln!(out, "{indent}style {id} stroke:#c00");
            }
            Kind::Task { resource, work, .. } => {
                let _ = writeln!(
                    out,
                    "{indent}{id}[\"{text}<br/><small>{}</small>\"]",
                    label(&task_target(resource, work))
                );
            }
            Kind::Wait { .. } => {
                let _ = writeln!(out, "{indent}{id}[/\"{text}\"/]");
            }
            Kind::Pass { .. } => {
                let _ = writeln!(out, "{indent}{id}[\"{text}\"]");
            }
            Kind::Parallel { branches, .. } => {
                let _ = writeln!(out, "{indent}subgraph {id}[\"{text} (Parallel)\"]");
                for (b, branch) in branches.iter().enumerate() {
                    let inner = format!("{id}b{b}x");
                    machine(branch, &inner, out, ids, &format!("{indent}  "));
                }
                let _ = writeln!(out, "{indent}end");
            }
            Kind::Map { processor, .. } => {
                let _ = writeln!(out, "{indent}subgraph {id}[\"{text} (Map, per item)\"]");
                let inner = format!("{id}x");
                machine(processor, &inner, out, ids, &format!("{indent}  "));
                let _ = writeln!(out, "{indent}end");
            }
        }
    }
    for (i, n) in names.iter().enumerate() {
        let id = format!("{scope}{i}");
        let Some(s) = m.states.get(n) else { continue };
        for (t, edge) in s.kind.targets() {
            let Some(to) = ids.get(scope, &t) else { continue };
            let _ = match edge {
                Edge::Next => writeln!(out, "{indent}{id} --> {to}"),
                Edge::Choice(rule) => writeln!(out, "{indent}{id} -->|\"{}\"| {to}", label(&rule)),
                Edge::Default => writeln!(out, "{indent}{id} -->|default| {to}"),
                Edge::Catch(errors) => writeln!(out, "{indent}{id} -.->|\"catch {}\"| {to}", label(&errors)),
            };
        }
    }
}

/// What a task calls, for its label: the Lambda function (or its placeholder), else the
/// service action.
fn task_target(resource: &str, work: &crate::definition::Work) -> String {
    let function = work.parameters.as_ref().and_then(|p| p.field("FunctionName")).flatten();
    let tail = |s: &str| s.trim_start_matches("${").trim_end_matches('}').rsplit(':').next().unwrap_or(s).to_owned();
    match function {
        Some(f) => tail(f),
        None if resource.starts_with("arn:aws:states:::") => {
            resource.trim_start_matches("arn:aws:states:::").to_owned()
        }
        None => tail(resource),
    }
}
