//! `dqc test`, `dqc profile` and `dqc preload` on AWS (the moto emulator on loopback, reached
//! through `AWS_ENDPOINT_URL`): artifacts in S3, the run index in DynamoDB, tables in Glue and
//! queries on Athena, filing the same records as a local run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

#[path = "../../activities/dqc-aws/tests/support/athena_on_duckdb.rs"]
mod athena_on_duckdb;
#[path = "../../activities/dqc-aws/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use athena_on_duckdb::{as_athena, AthenaOnDuckDb};
use dqc_activities::{ArtifactStore, MetadataStore};
use support::{aws, create_bucket, create_metadata_table, inject_athena_results, moto, unique};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn dqc(args: &[&str], endpoint: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dqc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

/// A record without its wall-clock timings (`duration_ms`), which differ between any two runs.
fn without_timings(bytes: &[u8]) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.remove("duration_ms");
                o.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    strip(&mut v);
    v
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

#[test]
fn dqc_test_files_the_same_records_in_s3_and_dynamodb_as_locally() {
    let url = &moto().url;
    let dir = std::env::temp_dir().join(format!("dqc-cli-aws-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lake = dir.join("lake");
    let out = dqc(&["example", "loans", "--rows", "2000", "--out", lake.to_str().unwrap()], url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let aws = aws(url, 2);
    let bucket = unique("dqc-cli");
    create_bucket(&aws, &bucket);
    let table = unique("dqc-cli-metadata");
    create_metadata_table(&aws, &table);
    let common = [
        "--lake",
        lake.to_str().unwrap(),
        "--contracts",
        "examples/loans/contracts",
        "--date",
        "2024-01-22",
        "--run-time",
        "2024-01-22 06:00:00",
    ];
    let artifacts = format!("s3://{bucket}/dqc");
    let metadata = format!("dynamodb:{table}");
    let mut args = vec!["test", "analytics_db.dim_loan"];
    args.extend(common);
    args.extend(["--artifacts", &artifacts, "--metadata", &metadata]);
    let on_aws = dqc(&args, url);
    assert_eq!(on_aws.status.code(), Some(1), "dim_loan has injected defects: {}", text(&on_aws.stderr));
    assert!(
        text(&on_aws.stderr).contains(&format!("wrote {artifacts}/results/dim_loan/2024-01-22.json")),
        "{}",
        text(&on_aws.stderr)
    );

    let local_artifacts = dir.join("artifacts");
    let mut args = vec!["test", "analytics_db.dim_loan"];
    args.extend(common);
    args.extend(["--artifacts", local_artifacts.to_str().unwrap()]);
    let local = dqc(&args, url);
    assert_eq!(local.status.code(), Some(1), "{}", text(&local.stderr));
    assert_eq!(text(&on_aws.stdout), text(&local.stdout), "the same summary");

    let store = dqc_aws::S3Store::new(&aws, &artifacts).unwrap();
    for key in ["results/dim_loan/2024-01-22.json", "stats-history/dim_loan/2024-01-22.json", "contracts/dim_loan.json"]
    {
        let remote = store.get(key).unwrap().unwrap_or_else(|| panic!("{key} is not in S3"));
        let here = std::fs::read(local_artifacts.join(key)).unwrap();
        assert_eq!(without_timings(&remote), without_timings(&here), "{key}");
    }
    let index = dqc_aws::DynamoMetadata::new(&aws, &table);
    let runs = index.query("table#analytics_db.dim_loan", "run#").unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(index.get("table#analytics_db.dim_loan", "contract#current").unwrap().is_some());

    let missing = dqc(
        &[
            "test",
            "analytics_db.dim_loan",
            "--lake",
            lake.to_str().unwrap(),
            "--contracts",
            "examples/loans/contracts",
            "--artifacts",
            &artifacts,
        ],
        url,
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("--metadata dynamodb:TABLE"), "{}", text(&missing.stderr));
}

/// A record without wall-clock timings and the bytes scanned (only Athena bills by them).
fn comparable(bytes: &[u8]) -> serde_json::Value {
    let mut v = without_timings(bytes);
    if let Some(o) = v.as_object_mut() {
        o.remove("bytes_scanned");
    }
    v
}

/// The same, without what depends on the engine's dialect: each rule's SQL and the name of the
/// query that checked it (Athena checks the row rules in one scan, DuckDB one query each).
fn dialect_free(bytes: &[u8]) -> serde_json::Value {
    let mut v = comparable(bytes);
    for rule in v.get_mut("rules").and_then(|r| r.as_array_mut()).into_iter().flatten() {
        if let Some(o) = rule.as_object_mut() {
            o.remove("sql");
            o.remove("query");
        }
    }
    // How percentiles were computed depends on the engine: Athena always estimates them.
    if let Some(method) = v.pointer_mut("/profile/profile_method").and_then(|m| m.as_object_mut()) {
        method.remove("percentiles");
    }
    v
}

#[test]
fn dqc_test_on_glue_and_athena_files_the_local_runs_records_in_s3() {
    use aws_sdk_glue::types::{Column, DatabaseInput, StorageDescriptor, TableInput};
    use dqc_activities::Catalog;
    let url = &moto().url;
    let dir = std::env::temp_dir().join(format!("dqc-cli-athena-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lake = dir.join("lake");
    let out = dqc(&["example", "loans", "--rows", "1500", "--out", lake.to_str().unwrap()], url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (date, run_time) = ("2024-01-22", "2024-01-22 06:00:00");
    let qualified = "analytics_db.loan_repayment_fact";
    let when = ["--date", date, "--run-time", run_time];

    // The local run, on the embedded engine.
    let local_artifacts = dir.join("local");
    let mut args = vec!["test", qualified, "--lake", lake.to_str().unwrap(), "--contracts", "examples/loans/contracts"];
    args.extend(["--artifacts", local_artifacts.to_str().unwrap()]);
    args.extend(when);
    let local = dqc(&args, url);
    assert_eq!(local.status.code(), Some(1), "the example fact table has injected defects: {}", text(&local.stderr));

    // What Athena answers to each query of the same run: Athena's SQL over the same data.
    let sources = dqc_cli::files::load(&[root().join("examples/loans/contracts")]).unwrap();
    let checked = dqc_compiler::check(&sources);
    assert!(!checked.has_errors());
    let contract = checked.project.contracts.iter().find(|c| c.table.qualified() == qualified).unwrap();
    let athena_on_duckdb = AthenaOnDuckDb::over(&lake);
    let suite =
        dqc_compiler::codegen::sql::suite(&dqc_compiler::codegen::sql::Athena, &checked.project, contract, false);
    let key = dqc_compiler::codegen::file_stem(&checked.project, contract);
    let scratch = dqc_local::FolderStore::new(dir.join("answers"));
    let scratch_index = dqc_local::FolderMetadata::new(dir.join("answers/_metadata"));
    let lake_catalog = dqc_local::LakeCatalog::new(&lake, &athena_on_duckdb.inner);
    let ports = dqc_activities::test_run::Ports {
        catalog: &lake_catalog,
        engine: &athena_on_duckdb,
        store: &scratch,
        metadata: &scratch_index,
    };
    let job = dqc_activities::test_run::TestJob { contract, suite: &suite, key: &key, date, run_time };
    let answered = dqc_activities::test_run::test_table(&ports, &job).unwrap();
    let seen = athena_on_duckdb.seen.take();
    assert!(seen.len() > 5, "{} queries", seen.len());

    // Glue: the table as the lake's catalog describes it, partition key apart.
    let aws = aws(url, 2);
    let definition = lake_catalog.table("analytics_db", "loan_repayment_fact").unwrap().unwrap();
    let glue = aws_sdk_glue::Client::new(&aws.config);
    let col =
        |c: &dqc_activities::profile::SchemaColumn| Column::builder().name(&c.name).r#type(&c.ty).build().unwrap();
    let (parts, data): (Vec<_>, Vec<_>) =
        definition.columns.iter().partition(|c| definition.partition_keys.contains(&c.name));
    let _ = aws.exec.block_on(
        glue.create_database().database_input(DatabaseInput::builder().name("analytics_db").build().unwrap()).send(),
    );
    let sd = StorageDescriptor::builder()
        .set_columns(Some(data.into_iter().map(col).collect()))
        .location("s3://lake/analytics_db/loan_repayment_fact/")
        .build();
    let input = TableInput::builder()
        .name("loan_repayment_fact")
        .storage_descriptor(sd)
        .set_partition_keys(Some(parts.into_iter().map(col).collect()))
        .build()
        .unwrap();
    aws.exec.block_on(glue.create_table().database_name("analytics_db").table_input(input).send()).unwrap();

    // Athena: those answers queued in order; a work group of the test's own.
    let athena = aws_sdk_athena::Client::new(&aws.config);
    let work_group = unique("dqc-wg");
    aws.exec.block_on(athena.create_work_group().name(&work_group).send()).unwrap();
    inject_athena_results(url, serde_json::Value::Array(seen.iter().map(|(_, _, rows)| as_athena(rows)).collect()));

    let bucket = unique("dqc-athena");
    create_bucket(&aws, &bucket);
    let table = unique("dqc-athena-metadata");
    create_metadata_table(&aws, &table);
    let artifacts = format!("s3://{bucket}/dqc");
    let metadata = format!("dynamodb:{table}");
    let output = format!("s3://{bucket}/athena-results/");
    let mut args = vec!["test", qualified, "--engine", "athena", "--workgroup", &work_group];
    args.extend(["--athena-output", &output, "--contracts", "examples/loans/contracts"]);
    args.extend(["--artifacts", &artifacts, "--metadata", &metadata]);
    args.extend(when);
    let run = dqc(&args, url);
    assert_eq!(run.status.code(), Some(1), "the defects fail the run: {}", text(&run.stderr));
    assert_eq!(text(&run.stdout), text(&local.stdout), "the same verdicts as the local run");
    assert_eq!(text(&run.stdout), dqc_activities::test_run::render_summary(&answered.run));

    // The records: those Athena's answers make, and but for the SQL those of the local run.
    let store = dqc_aws::S3Store::new(&aws, &artifacts).unwrap();
    for key in [&answered.results_key, answered.stats_key.as_ref().unwrap()] {
        let remote = store.get(key).unwrap().unwrap_or_else(|| panic!("{key} is not in S3"));
        let expected = dqc_activities::ArtifactStore::get(&scratch, key).unwrap().unwrap();
        assert_eq!(comparable(&remote), comparable(&expected), "{key}");
        let local = std::fs::read(local_artifacts.join(key)).unwrap();
        assert_eq!(dialect_free(&remote), dialect_free(&local), "{key}");
    }
    let stats: serde_json::Value =
        serde_json::from_slice(&store.get(answered.stats_key.as_ref().unwrap()).unwrap().unwrap()).unwrap();
    assert_eq!(stats["profile"]["profile_method"]["percentiles"], "approximate", "{stats}");
    let results: serde_json::Value =
        serde_json::from_slice(&store.get(&answered.results_key).unwrap().unwrap()).unwrap();
    assert_eq!(results["bytes_scanned"], 0, "moto's statistics say 0 bytes: {results}");
    let index = dqc_aws::DynamoMetadata::new(&aws, &table);
    assert_eq!(index.query(&format!("table#{qualified}"), "run#").unwrap().len(), 1);
    assert!(index.get(&format!("table#{qualified}"), "contract#current").unwrap().is_some());

    // The requests: exactly the queries of the run, in Athena's dialect, every value an
    // execution parameter, in the work group, writing to the output location.
    let pages = athena.list_query_executions().work_group(&work_group).max_results(50).into_paginator().send();
    let pages = aws.exec.block_on(pages.collect::<Result<Vec<_>, _>>()).unwrap();
    let ids: Vec<String> = pages.iter().flat_map(|p| p.query_execution_ids().to_vec()).collect();
    let mut sent = Vec::new();
    for id in ids {
        let q = aws.exec.block_on(athena.get_query_execution().query_execution_id(id).send()).unwrap();
        let q = q.query_execution().unwrap().clone();
        assert_eq!(q.work_group(), Some(work_group.as_str()));
        let location = q.result_configuration().and_then(|r| r.output_location()).unwrap_or_default();
        assert!(location.starts_with(&output), "{location}");
        sent.push((q.query().unwrap_or_default().to_owned(), q.execution_parameters().to_vec()));
    }
    let mut expected: Vec<(String, Vec<String>)> = seen
        .iter()
        .map(|(sql, params, _)| (sql.clone(), params.iter().map(|t| dqc_aws::athena_literal(t)).collect()))
        .collect();
    sent.sort();
    expected.sort();
    assert_eq!(sent, expected);
    for query in &suite.queries {
        if !query.name.starts_with("sample__") && !query.name.starts_with("count__") {
            assert!(sent.iter().any(|(sql, _)| *sql == query.sql), "{} was not sent", query.name);
        }
    }

    // `dqc profile` over Glue and Athena answers with the profile the local engine gives.
    let local_profile = dqc(&["profile", qualified, "--lake", lake.to_str().unwrap(), "--format", "json"], url);
    assert_eq!(local_profile.status.code(), Some(0), "{}", text(&local_profile.stderr));
    dqc_activities::profile::profile(&athena_on_duckdb, "analytics_db", "loan_repayment_fact").unwrap();
    let answers = athena_on_duckdb.seen.take().iter().map(|(_, _, rows)| as_athena(rows)).collect();
    inject_athena_results(url, serde_json::Value::Array(answers));
    let remote_profile =
        dqc(&["profile", qualified, "--engine", "athena", "--workgroup", &work_group, "--format", "json"], url);
    assert_eq!(remote_profile.status.code(), Some(0), "{}", text(&remote_profile.stderr));
    let mut remote: serde_json::Value = serde_json::from_slice(&remote_profile.stdout).unwrap();
    let local: serde_json::Value = serde_json::from_slice(&local_profile.stdout).unwrap();
    // Athena's percentiles are `approx_percentile`'s estimates at any size, and say so; at this
    // size the embedded engine's are exact. The values agree here because the emulated Athena's
    // answers come from DuckDB, where `approx_percentile` is `quantile_cont`.
    assert_eq!(remote["profile_method"]["percentiles"], "approximate");
    assert_eq!(local["profile_method"]["percentiles"], "exact");
    remote["profile_method"]["percentiles"] = local["profile_method"]["percentiles"].clone();
    assert_eq!(remote, local);

    // Mistakes get a clear word: an unknown table, and the engine without its catalog.
    let missing = dqc(&["profile", "analytics_db.nope", "--engine", "athena"], url);
    assert_eq!(missing.status.code(), Some(2));
    let said = text(&missing.stderr);
    assert!(said.contains("analytics_db.nope is not in the Glue Data Catalog"), "{said}");
    let mixed = dqc(&["profile", qualified, "--engine", "athena", "--catalog", "lake"], url);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(text(&mixed.stderr).contains("--engine athena goes with --catalog glue"), "{}", text(&mixed.stderr));
}

#[test]
fn dqc_preload_takes_its_contract_from_the_published_ones_in_s3() {
    let url = &moto().url;
    let aws = aws(url, 2);
    let bucket = unique("dqc-published");
    let s3 = create_bucket(&aws, &bucket);
    let contract = std::fs::read(root().join("examples/loans/contracts/raw_payments.dqc")).unwrap();
    aws.exec
        .block_on(
            s3.put_object().bucket(&bucket).key("dqc/sources/raw_db.raw_payments.dqc").body(contract.into()).send(),
        )
        .unwrap();
    let dir = std::env::temp_dir().join(format!("dqc-cli-preload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lake = dir.join("lake");
    let out = dqc(&["example", "loans", "--rows", "2000", "--out", lake.to_str().unwrap()], url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let input = lake.join("raw_db/raw_payments/payments.csv");
    let split = |published: &str, valid: &str| {
        dqc(
            &[
                "preload",
                "--published",
                published,
                "--table",
                "raw_db.raw_payments",
                "--input",
                input.to_str().unwrap(),
                "--valid",
                dir.join(valid).to_str().unwrap(),
                "--quarantine",
                dir.join(format!("{valid}-quarantine")).to_str().unwrap(),
                "--format",
                "json",
            ],
            url,
        )
    };
    let remote = split(&format!("s3://{bucket}/dqc"), "remote");
    assert_eq!(remote.status.code(), Some(0), "{}", text(&remote.stderr));
    let local = dqc(
        &[
            "preload",
            "--contract",
            "examples/loans/contracts/raw_payments.dqc",
            "--input",
            input.to_str().unwrap(),
            "--valid",
            dir.join("local").to_str().unwrap(),
            "--quarantine",
            dir.join("local-quarantine").to_str().unwrap(),
            "--format",
            "json",
        ],
        url,
    );
    assert_eq!(local.status.code(), Some(0), "{}", text(&local.stderr));
    let counts = |o: &Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (v["rows_in"].clone(), v["rows_valid"].clone(), v["rows_quarantined"].clone(), v["rows_rejected"].clone())
    };
    assert_eq!(counts(&remote), counts(&local));
    assert!(counts(&local).2.as_u64().unwrap() > 0, "the example has quarantined rows");

    let empty = split(&format!("s3://{bucket}/nothing-here"), "empty");
    assert_eq!(empty.status.code(), Some(2));
    assert!(text(&empty.stderr).contains("no published contracts in s3://"), "{}", text(&empty.stderr));
}
