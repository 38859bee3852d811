//! Static analysis of AWS Glue PySpark job scripts.
//!
//! The analyser parses a script with a Python parser, follows variables
//! through assignments, method chains and the script's own functions, and
//! understands the Glue DynamicFrame API, the Spark DataFrame API and the SQL
//! passed to `spark.sql` (parsed with `sqlparser`). From that it produces:
//!
//! - a job summary (inputs, outputs, join keys, filters, grain) in the shape
//!   the contract drafter consumes;
//! - column lineage of every write, in terms of base-table columns;
//! - rule hints for contract drafting, each pointing at the code that
//!   implies it;
//! - a list of what it could not resolve, stated instead of guessed.
//!
//! Several analyses combine into a cross-job [`LineageGraph`].
//!
//! # What is followed, and the limits
//!
//! - The script's own functions and classes: calls are followed with their arguments (8 calls
//!   deep), objects of the script's classes keep the attributes `__init__` and the
//!   methods set, and methods and static methods are called like functions.
//! - Conditions not known statically (`if full_load:`): both branches are analysed and
//!   reported as `branch`; a branch that returns early leaves the rest of the function to the
//!   other branch, so writes after an early `return` are found, and a function that returns
//!   different datasets on different paths returns their union ("either").
//! - `spark.sql`: CTEs, temp views (`createOrReplaceTempView` of a dataset is that dataset,
//!   never a catalog table), subqueries, unions, window de-duplication; a comma join
//!   (`FROM a, b WHERE a.k = b.k`) is the inner equi-join on the `WHERE` equalities that relate
//!   its two sides.
//! - `Filter.apply` and `DataFrame.filter` lambdas: comparisons and `and`/`or`/`not` on the row's
//!   fields are understood; anything else in a lambda (`re.match`, calls) is
//!   reported as `predicate` and the rows are kept unconstrained. A filter that calls a
//!   Python UDF is reported the same way: the UDF's body is not analysed.
//! - I/O through `boto3` (listing objects, reading a query or a config from S3, reading
//!   partitions from Glue) is reported as `boto3` at the call, never followed: what such a
//!   call returns is unknown, and so are the names and queries built from it.
//! - Not followed, and reported where data flows into them: loops over values not known
//!   statically (the body runs once with unknown values), comprehensions (what they iterate
//!   over is evaluated, their elements are unknown), recursion past the call depth, imports
//!   of other modules of the job (their functions are unknown), `exec`/`eval`, and class
//!   inheritance (a method found only in a base class is unknown).
//!
//! The crate is pure: it reads no files, clock or environment, and the same
//! input always gives byte-identical output.
//!
//! ```
//! let script = r#"
//! from awsglue.context import GlueContext
//! from pyspark.context import SparkContext
//! glue = GlueContext(SparkContext())
//! df = glue.create_dynamic_frame.from_catalog(database="raw", table_name="payments").toDF()
//! df.filter("status = 'SUCCESS'").write.saveAsTable("curated.payments")
//! "#;
//! let job = dqc_etl::analyze("payments_job", script).unwrap();
//! assert_eq!(job.summary.inputs, vec!["raw.payments"]);
//! assert_eq!(job.summary.output.as_deref(), Some("curated.payments"));
//! assert_eq!(job.summary.filters, vec!["status = 'SUCCESS'"]);
//! ```

mod columns;
mod dataframe;
mod error;
mod expr;
mod findings;
mod glue;
mod graph;
mod hints;
mod interp;
mod model;
mod ops;
mod render;
mod schema;
mod source;
mod spark_io;
mod sql;

use std::collections::BTreeMap;

use rustpython_parser::{ast, Parse};

pub use error::ParseError;
pub use graph::{GraphNode, LineageGraph};
pub use model::{
    ColumnLineage, ColumnRef, FilterFinding, GrainFinding, HintKind, JobAnalysis, JobSummary, JoinFinding, JoinKey,
    Location, Parameter, RuleHint, TableKind, TableRead, TableWrite, Unresolved,
};
pub use render::{render_json, render_mermaid, render_text};

/// What the caller knows beyond the script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// Column names of tables, by the name the script reads them with (for
    /// example from the Glue Data Catalog). With a schema, `SELECT *` and
    /// other pass-through columns are listed one by one.
    pub schemas: BTreeMap<String, Vec<String>>,
}

/// Analyses one Glue job script.
///
/// # Errors
///
/// Returns a [`ParseError`] with the line and column when `source` is not
/// valid Python. Everything else the analyser cannot follow is reported in
/// [`JobAnalysis::unresolved`].
pub fn analyze(job_name: &str, source: &str) -> Result<JobAnalysis, ParseError> {
    analyze_with(job_name, source, &AnalyzeOptions::default())
}

/// Analyses one Glue job script with known table schemas.
///
/// # Errors
///
/// Returns a [`ParseError`] when `source` is not valid Python.
pub fn analyze_with(job_name: &str, source: &str, options: &AnalyzeOptions) -> Result<JobAnalysis, ParseError> {
    let suite = ast::Suite::parse(source, "<job>").map_err(|e| ParseError::from_python(source, &e))?;
    let mut interp = interp::Interp::new(source, options);
    interp.run(&suite);
    Ok(interp.rec.finish(job_name))
}

/// Analyses a SQL script (one or more statements, such as an Athena CTAS or
/// `INSERT INTO ... SELECT`) as a job. Statements that cannot be parsed are
/// reported in [`JobAnalysis::unresolved`].
pub fn analyze_sql(job_name: &str, sql: &str, options: &AnalyzeOptions) -> JobAnalysis {
    let mut interp = interp::Interp::new(sql, options);
    let _ = interp.run_sql(sql, Location { line: 1, column: 1 });
    interp.rec.finish(job_name)
}

/// Combines analyses into one lineage graph of tables, jobs and columns.
pub fn build_graph(jobs: &[JobAnalysis]) -> LineageGraph {
    LineageGraph::build(jobs)
}

/// The JSON Schema of the output of [`render_json`].
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Vec<JobAnalysis>);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
