//! The public API as the CLI uses it: errors, determinism, rendering.

// Tests fail loudly on a broken fixture or a wrong result.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "test code fails loudly")]

use dqc_etl::{analyze, json_schema, render_json, render_text, HintKind, TableKind};

#[test]
fn syntax_errors_carry_line_and_column() {
    let err = analyze("bad", "x = 1\ny = (2,\nz = 3\n").expect_err("invalid python");
    assert_eq!((err.line, err.column), (3, 3));
    assert!(err.message.starts_with("unexpected"), "{err}");
    assert_eq!(err.to_string(), format!("line 3, column 3: {}", err.message));
}

#[test]
fn empty_script_analyses_to_nothing() {
    let job = analyze("empty", "").expect("empty is valid python");
    assert!(job.summary.inputs.is_empty() && job.writes.is_empty() && job.unresolved.is_empty());
}

#[test]
fn job_arguments_are_parameters_not_guesses() {
    let src = "import sys\nfrom awsglue.utils import getResolvedOptions\nfrom pyspark.sql import SparkSession\n\
               args = getResolvedOptions(sys.argv, ['db', 'out'])\nspark = SparkSession.builder.getOrCreate()\n\
               spark.table(args['db'] + '.orders').write.parquet(args['out'])\n";
    let job = analyze("params", src).expect("valid");
    let names: Vec<&str> = job.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["db", "out"]);
    assert_eq!(job.summary.inputs, ["${db}.orders"]);
    assert_eq!(job.writes[0].target, "${out}");
    assert_eq!(job.writes[0].kind, TableKind::Path);
    assert!(job.unresolved.is_empty(), "{:?}", job.unresolved);
}

#[test]
fn variables_are_tracked_through_assignments_and_chains() {
    let src = "from pyspark.sql import SparkSession, functions as F\nspark = SparkSession.builder.getOrCreate()\n\
               src = 'raw.events'\na = spark.table(src)\nb = a\nc = b.withColumn('n', F.col('x') * 2)\n\
               w = c.write\nw.mode('append')\nw.saveAsTable('cur.events')\n";
    let job = analyze("vars", src).expect("valid");
    assert_eq!(job.summary.inputs, ["raw.events"]);
    let w = &job.writes[0];
    assert_eq!(w.mode.as_deref(), Some("append"), "builder methods mutate the writer");
    assert_eq!(w.columns[0].expression, "raw.events.x * 2");
    assert_eq!(w.columns[0].location.map(|l| (l.line, l.column)), Some((6, 7)));
}

#[test]
fn every_finding_has_a_location() {
    let src = "from pyspark.sql import SparkSession, functions as F\nspark = SparkSession.builder.getOrCreate()\n\
               df = spark.table('a.b').filter(F.col('s') == 'X').dropDuplicates(['id'])\ndf.write.saveAsTable('c.d')\n";
    let job = analyze("loc", src).expect("valid");
    assert_eq!((job.reads[0].location.line, job.reads[0].location.column), (3, 12));
    assert_eq!((job.filters[0].location.line, job.filters[0].location.column), (3, 25));
    assert_eq!((job.grains[0].location.line, job.grains[0].location.column), (3, 51));
    assert_eq!((job.writes[0].location.line, job.writes[0].location.column), (4, 10));
    assert!(job.hints.iter().any(|h| h.kind == HintKind::Grain && h.location.line == 3));
}

#[test]
fn output_is_byte_identical_across_runs() {
    let src = include_str!("../../../tests/etl/loan_repayments_etl/job.py");
    let a = analyze("loan", src).expect("valid");
    let b = analyze("loan", src).expect("valid");
    assert_eq!(render_json(std::slice::from_ref(&a)), render_json(std::slice::from_ref(&b)));
    assert_eq!(render_text(&[a]), render_text(&[b]));
}

#[test]
fn json_schema_describes_the_output() {
    let schema = json_schema();
    assert!(schema.contains("\"job_summary\"") || schema.contains("\"JobSummary\""), "{schema}");
    assert!(schema.contains("join_keys"));
}

#[test]
fn aliases_survive_projection_and_struct_fields_trace_to_their_parent() {
    let src = "from pyspark.sql import SparkSession, functions as F\nspark = SparkSession.builder.getOrCreate()\n\
               o = spark.table('s.orders').alias('o').select('o.id', 'o.address')\n\
               o.select(F.col('o.id'), F.col('address.city').alias('city')).write.saveAsTable('t.x')\n";
    let job = analyze("alias", src).expect("valid");
    assert!(job.unresolved.is_empty(), "{:?}", job.unresolved);
    let cols: Vec<(&str, &str)> =
        job.writes[0].columns.iter().map(|c| (c.column.as_str(), c.expression.as_str())).collect();
    assert_eq!(cols, [("id", "s.orders.id"), ("city", "s.orders.address.city")]);
    assert_eq!(job.writes[0].columns[1].inputs[0].column, "address");
}

#[test]
fn unknown_calls_on_datasets_are_reported() {
    let src =
        "from pyspark.sql import SparkSession\nfrom mylib import scrub\nspark = SparkSession.builder.getOrCreate()\n\
               scrub(spark.table('a.b')).write.saveAsTable('c.d')\n";
    let job = analyze("unknown", src).expect("valid");
    let codes: Vec<&str> = job.unresolved.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(codes, ["unknown-call", "frame"]);
    assert_eq!(job.summary.outputs, ["c.d"], "the write is still reported");
    assert!(job.writes[0].columns_unknown.is_some());
}
