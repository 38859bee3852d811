//! The lineage graph across jobs: tables, jobs and columns as nodes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use schemars::JsonSchema;
use serde::Serialize;

use crate::model::{ColumnRef, JobAnalysis};

/// A node of the lineage graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GraphNode {
    /// A table, path or connection.
    Table {
        /// Its name as reported by the analysis.
        name: String,
    },
    /// A job.
    Job {
        /// The job name.
        name: String,
    },
    /// A column of a table.
    Column {
        /// The column.
        #[serde(flatten)]
        column: ColumnRef,
    },
}

/// Lineage of tables and columns across jobs.
///
/// Edges run in the direction data flows: table to the job that reads it,
/// job to the table it writes, column to the job that reads it, and input
/// column to the output column computed from it.
#[derive(Debug, Clone, Default)]
pub struct LineageGraph {
    graph: DiGraph<GraphNode, ()>,
    index: BTreeMap<GraphNode, NodeIndex>,
}

fn table(name: &str) -> GraphNode {
    GraphNode::Table { name: name.to_owned() }
}

fn job(name: &str) -> GraphNode {
    GraphNode::Job { name: name.to_owned() }
}

fn column(c: &ColumnRef) -> GraphNode {
    GraphNode::Column { column: c.clone() }
}

impl LineageGraph {
    /// Builds the graph from analyses.
    pub(crate) fn build(jobs: &[JobAnalysis]) -> Self {
        let mut g = LineageGraph::default();
        for j in jobs {
            let jn = job(&j.job_name);
            g.node(&jn);
            for r in &j.reads {
                g.edge(&table(&r.table), &jn);
            }
            for c in &j.columns_read {
                g.edge(&column(c), &jn);
            }
            for w in &j.writes {
                let out = table(&w.target);
                g.edge(&jn, &out);
                for c in &w.columns {
                    let oc = column(&ColumnRef { table: w.target.clone(), column: c.column.clone() });
                    for i in &c.inputs {
                        g.edge(&column(i), &oc);
                    }
                }
            }
        }
        g
    }

    fn node(&mut self, n: &GraphNode) -> NodeIndex {
        if let Some(i) = self.index.get(n) {
            return *i;
        }
        let i = self.graph.add_node(n.clone());
        self.index.insert(n.clone(), i);
        i
    }

    fn edge(&mut self, from: &GraphNode, to: &GraphNode) {
        let (a, b) = (self.node(from), self.node(to));
        if self.graph.find_edge(a, b).is_none() {
            self.graph.add_edge(a, b, ());
        }
    }

    fn find(&self, n: &GraphNode) -> Option<NodeIndex> {
        self.index.get(n).copied().or_else(|| {
            let lower = |n: &GraphNode| format!("{n:?}").to_ascii_lowercase();
            let want = lower(n);
            self.index.iter().find(|(k, _)| lower(k) == want).map(|(_, v)| *v)
        })
    }

    fn neighbours(&self, n: &GraphNode, dir: Direction) -> BTreeSet<GraphNode> {
        let Some(i) = self.find(n) else {
            return BTreeSet::new();
        };
        self.graph.neighbors_directed(i, dir).filter_map(|x| self.graph.node_weight(x).cloned()).collect()
    }

    /// Every node reachable from `start` in `dir`, through nodes accepted by `through`.
    fn reachable(
        &self,
        start: &GraphNode,
        dir: Direction,
        through: impl Fn(&GraphNode) -> bool,
    ) -> BTreeSet<GraphNode> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<GraphNode> = VecDeque::from([start.clone()]);
        while let Some(n) = queue.pop_front() {
            for m in self.neighbours(&n, dir) {
                if through(&m) && seen.insert(m.clone()) {
                    queue.push_back(m);
                }
            }
        }
        seen
    }

    /// All nodes, sorted.
    pub fn nodes(&self) -> Vec<GraphNode> {
        self.index.keys().cloned().collect()
    }

    /// Table and job edges (no column nodes), sorted.
    pub fn table_edges(&self) -> Vec<(GraphNode, GraphNode)> {
        let mut out: Vec<(GraphNode, GraphNode)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .filter_map(|(a, b)| Some((self.graph.node_weight(a)?.clone(), self.graph.node_weight(b)?.clone())))
            .filter(|(a, b)| !matches!(a, GraphNode::Column { .. }) && !matches!(b, GraphNode::Column { .. }))
            .collect();
        out.sort();
        out
    }

    /// Jobs that read `table`, or only those that read `table.column`.
    pub fn readers_of(&self, table_name: &str, column_name: Option<&str>) -> Vec<String> {
        let start = match column_name {
            Some(c) => column(&ColumnRef { table: table_name.to_owned(), column: c.to_owned() }),
            None => table(table_name),
        };
        names(self.neighbours(&start, Direction::Outgoing), true)
    }

    /// Jobs that write `table`.
    pub fn writers_of(&self, table_name: &str) -> Vec<String> {
        names(self.neighbours(&table(table_name), Direction::Incoming), true)
    }

    /// Tables whose data comes, through any chain of jobs, from `table`.
    pub fn downstream_tables(&self, table_name: &str) -> Vec<String> {
        let through = |n: &GraphNode| !matches!(n, GraphNode::Column { .. });
        names(self.reachable(&table(table_name), Direction::Outgoing, through), false)
    }

    /// Tables that `table` is computed from, through any chain of jobs.
    pub fn upstream_tables(&self, table_name: &str) -> Vec<String> {
        let through = |n: &GraphNode| !matches!(n, GraphNode::Column { .. });
        names(self.reachable(&table(table_name), Direction::Incoming, through), false)
    }

    /// Columns computed, directly or transitively, from `table.column`.
    pub fn downstream_columns(&self, table_name: &str, column_name: &str) -> Vec<ColumnRef> {
        let start = column(&ColumnRef { table: table_name.to_owned(), column: column_name.to_owned() });
        columns(self.reachable(&start, Direction::Outgoing, |n| matches!(n, GraphNode::Column { .. })))
    }

    /// Columns that `table.column` is computed from, directly or transitively.
    pub fn upstream_columns(&self, table_name: &str, column_name: &str) -> Vec<ColumnRef> {
        let start = column(&ColumnRef { table: table_name.to_owned(), column: column_name.to_owned() });
        columns(self.reachable(&start, Direction::Incoming, |n| matches!(n, GraphNode::Column { .. })))
    }
}

fn names(nodes: BTreeSet<GraphNode>, jobs: bool) -> Vec<String> {
    nodes
        .into_iter()
        .filter_map(|n| match n {
            GraphNode::Job { name } if jobs => Some(name),
            GraphNode::Table { name } if !jobs => Some(name),
            _ => None,
        })
        .collect()
}

fn columns(nodes: BTreeSet<GraphNode>) -> Vec<ColumnRef> {
    nodes
        .into_iter()
        .filter_map(|n| match n {
            GraphNode::Column { column } => Some(column),
            _ => None,
        })
        .collect()
}
