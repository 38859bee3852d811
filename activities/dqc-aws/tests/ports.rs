//! One conformance suite for the ports, written once against the traits and run against the
//! local adapters (a folder, DuckDB, a lake with a catalog snapshot) and the AWS adapters (S3,
//! DynamoDB, Glue, Athena on the moto emulator): round trips, pagination past one page,
//! writers racing for a write-once key, missing objects, typed query results with NULL, NaN
//! and unicode, and error kinds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use dqc_activities::ports::Param;
use dqc_activities::{ArtifactStore, Catalog, ErrorKind, MetadataStore, QueryEngine};
use dqc_aws::{AthenaEngine, AthenaOptions, DynamoMetadata, GlueCatalog, S3Store};
use serde_json::{json, Value};
use support::{aws, create_bucket, create_metadata_table, inject_athena_results, moto, unique};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dqc-aws-ports-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---- the suites, written once ----

fn store_suite<S: ArtifactStore + Sync>(store: &S) {
    assert_eq!(store.get("missing/key.json").unwrap(), None, "a missing key is None, not an error");
    let bytes: Vec<u8> = (0..=255u8).chain("Ünïcødé ✓".bytes()).collect();
    store.put("a/binary.bin", &bytes).unwrap();
    assert_eq!(store.get("a/binary.bin").unwrap().as_deref(), Some(&bytes[..]), "bytes round-trip exactly");
    store.put("a/binary.bin", b"second").unwrap();
    assert_eq!(store.get("a/binary.bin").unwrap().as_deref(), Some(&b"second"[..]), "put replaces");
    let mut want = BTreeSet::new();
    for i in 0..23 {
        let key = format!("results/t/{i:03}.json");
        store.put(&key, format!("{{\"i\": {i}}}").as_bytes()).unwrap();
        want.insert(key);
    }
    store.put("results-other/x.json", b"{}").unwrap();
    let listed = store.list("results/").unwrap();
    assert_eq!(listed, want.iter().cloned().collect::<Vec<_>>(), "every key under the prefix, sorted, past one page");
    assert!(store.put_if_absent("contracts/t/v1.json", b"first").unwrap());
    assert!(!store.put_if_absent("contracts/t/v1.json", b"second").unwrap(), "a version is never overwritten");
    assert_eq!(store.get("contracts/t/v1.json").unwrap().as_deref(), Some(&b"first"[..]));
    // Eight writers race for one key: exactly one wins, and its bytes are what is stored.
    let wins: Vec<(usize, bool)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    (i, store.put_if_absent("contracts/t/raced.json", format!("writer {i}").as_bytes()).unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<usize> = wins.iter().filter(|(_, won)| *won).map(|(i, _)| *i).collect();
    assert_eq!(winners.len(), 1, "{wins:?}");
    assert_eq!(store.get("contracts/t/raced.json").unwrap().unwrap(), format!("writer {}", winners[0]).into_bytes());
}

fn metadata_suite<M: MetadataStore + Sync>(m: &M) {
    assert_eq!(m.get("table#db.t", "run#2024-01-01").unwrap(), None);
    let item = json!({"passed": true, "counts": [1, 2.5, null], "note": "Ünïcødé ✓"});
    m.put("table#db.t", "run#2024-01-01", &item).unwrap();
    assert_eq!(m.get("table#db.t", "run#2024-01-01").unwrap(), Some(item));
    m.put("table#db.t", "run#2024-01-01", &json!({"passed": false})).unwrap();
    assert_eq!(m.get("table#db.t", "run#2024-01-01").unwrap(), Some(json!({"passed": false})), "put replaces");
    for i in 2..=24 {
        m.put("table#db.t", &format!("run#2024-01-{i:02}"), &json!({"day": i})).unwrap();
    }
    m.put("table#db.t", "contract#current", &json!({"hash": "h"})).unwrap();
    m.put("table#db.other", "run#2024-01-05", &json!({})).unwrap();
    let runs = m.query("table#db.t", "run#").unwrap();
    assert_eq!(runs.len(), 24, "every run, past one page, and nothing else");
    assert!(runs.windows(2).all(|w| w[0].0 < w[1].0), "sorted by sort key");
    assert_eq!(runs[23], ("run#2024-01-24".to_owned(), json!({"day": 24})));
    assert!(m.query("table#db.none", "").unwrap().is_empty());
    assert!(m.put_if_absent("table#db.t", "approval#h", &json!({"decision": "approved"})).unwrap());
    assert!(!m.put_if_absent("table#db.t", "approval#h", &json!({"decision": "rejected"})).unwrap());
    assert_eq!(
        m.get("table#db.t", "approval#h").unwrap(),
        Some(json!({"decision": "approved"})),
        "the first decision stands"
    );
    let wins: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| s.spawn(move || m.put_if_absent("table#db.t", "decision#race", &json!({"writer": i})).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{wins:?}");
}

/// The table both catalogs are seeded with, as a Glue `GetTable` answer.
fn orders_table() -> Value {
    json!({"Table": {
        "Name": "orders",
        "DatabaseName": "sales_db",
        "StorageDescriptor": {
            "Columns": [
                {"Name": "order_id", "Type": "bigint"},
                {"Name": "amount", "Type": "decimal(12,2)"},
                {"Name": "note", "Type": "string"},
                {"Name": "tags", "Type": "array<string>"}
            ],
            "Location": "s3://lake/sales_db/orders/"
        },
        "PartitionKeys": [{"Name": "order_date", "Type": "date"}]
    }})
}

fn catalog_suite(c: &dyn Catalog) {
    assert!(c.tables().unwrap().contains(&"sales_db.orders".to_owned()), "{:?}", c.tables());
    assert_eq!(c.table("sales_db", "missing").unwrap(), None, "a missing table is None, not an error");
    let t = c.table("sales_db", "orders").unwrap().unwrap();
    let columns: Vec<(&str, &str)> = t.columns.iter().map(|c| (c.name.as_str(), c.ty.as_str())).collect();
    assert_eq!(
        columns,
        [
            ("order_id", "bigint"),
            ("amount", "decimal(12,2)"),
            ("note", "string"),
            ("tags", "array<string>"),
            ("order_date", "date")
        ]
    );
    assert_eq!(t.partition_keys, ["order_date"]);
    assert_eq!(t.location.as_deref(), Some("s3://lake/sales_db/orders/"));
}

/// One row with every kind of value; the parameter is bound, never spliced.
const TYPED_SQL: &str =
    "SELECT CAST(? AS BIGINT) AS n, CAST('NaN' AS DOUBLE) AS nan, 2.5 AS d, CAST(NULL AS VARCHAR) AS missing, \
                         '' AS empty, ? AS text, TRUE AS flag";

fn typed_params() -> Vec<Param> {
    vec![Param::Text("42".into()), Param::Text("Ünïcødé ✓ it's".into())]
}

fn engine_suite(e: &dyn QueryEngine) {
    let rows = e.query(TYPED_SQL, &typed_params()).unwrap();
    assert_eq!(rows.columns, ["n", "nan", "d", "missing", "empty", "text", "flag"]);
    // `2.5` is a decimal literal on both engines: decimals come back as exact text.
    assert_eq!(
        rows.rows,
        vec![vec![json!(42), json!("NaN"), json!("2.5"), Value::Null, json!(""), json!("Ünïcødé ✓ it's"), json!(true)]]
    );
}

// ---- the local adapters ----

#[test]
fn local_folder_store() {
    store_suite(&dqc_local::FolderStore::new(scratch("store")));
}

#[test]
fn local_folder_metadata() {
    metadata_suite(&dqc_local::FolderMetadata::new(scratch("metadata")));
}

#[test]
fn local_lake_catalog() {
    let lake = scratch("lake");
    std::fs::create_dir_all(lake.join("sales_db")).unwrap();
    std::fs::write(lake.join("sales_db/orders.catalog.json"), orders_table().to_string()).unwrap();
    let engine = dqc_local::DuckEngine::over_lake(&lake).unwrap();
    catalog_suite(&dqc_local::LakeCatalog::new(&lake, &engine));
}

#[test]
fn local_duckdb_engine() {
    let lake = scratch("engine");
    engine_suite(&dqc_local::DuckEngine::over_lake(&lake).unwrap());
}

// ---- the AWS adapters on the emulator ----

#[test]
fn s3_store() {
    let aws = aws(&moto().url, 3);
    let bucket = unique("artifacts");
    let client = create_bucket(&aws, &bucket);
    let mut store = S3Store::new(&aws, &format!("s3://{bucket}/team/dqc")).unwrap();
    store.page_size = 7;
    store_suite(&store);
    let raw = aws.exec.block_on(client.get_object().bucket(&bucket).key("team/dqc/contracts/t/v1.json").send());
    assert!(raw.is_ok(), "keys live under the prefix");
    let missing = S3Store::new(&aws, &format!("s3://{}/x", unique("no-such-bucket"))).unwrap();
    let e = missing.put("k", b"v").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NonRetryable, "{e}");
    assert!(e.message.contains("NoSuchBucket") && e.message.contains("s3://"), "{e}");
}

#[test]
fn dynamodb_metadata() {
    let aws = aws(&moto().url, 3);
    let table = unique("dqc-metadata");
    create_metadata_table(&aws, &table);
    let mut m = DynamoMetadata::new(&aws, &table);
    m.page_size = 5;
    metadata_suite(&m);
    let missing = DynamoMetadata::new(&aws, "no-such-table");
    let e = missing.get("a", "b").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NonRetryable, "{e}");
    assert!(e.message.contains("ResourceNotFoundException") && e.message.contains("no-such-table"), "{e}");
}

/// Seeds Glue with the `orders` table and two partitions.
fn seed_glue(aws: &dqc_aws::Aws) {
    use aws_sdk_glue::types::{Column, DatabaseInput, PartitionInput, StorageDescriptor, TableInput};
    let client = aws_sdk_glue::Client::new(&aws.config);
    let col = |n: &str, t: &str| Column::builder().name(n).r#type(t).build().unwrap();
    let _ = aws.exec.block_on(
        client.create_database().database_input(DatabaseInput::builder().name("sales_db").build().unwrap()).send(),
    );
    let sd = StorageDescriptor::builder()
        .columns(col("order_id", "bigint"))
        .columns(col("amount", "decimal(12,2)"))
        .columns(col("note", "string"))
        .columns(col("tags", "array<string>"))
        .location("s3://lake/sales_db/orders/")
        .build();
    let table = TableInput::builder()
        .name("orders")
        .storage_descriptor(sd)
        .partition_keys(col("order_date", "date"))
        .build()
        .unwrap();
    let _ = aws.exec.block_on(client.create_table().database_name("sales_db").table_input(table).send());
    for day in ["2024-01-02", "2024-01-01"] {
        let p = PartitionInput::builder().values(day).build();
        let _ = aws.exec.block_on(
            client.create_partition().database_name("sales_db").table_name("orders").partition_input(p).send(),
        );
    }
}

#[test]
fn glue_catalog() {
    let aws = aws(&moto().url, 3);
    seed_glue(&aws);
    let glue = GlueCatalog::new(&aws);
    catalog_suite(&glue);
    assert_eq!(
        glue.partitions("sales_db", "orders").unwrap(),
        vec![vec!["2024-01-01".to_owned()], vec!["2024-01-02".to_owned()]]
    );
    let e = glue.partitions("sales_db", "missing").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NonRetryable, "{e}");
    assert!(e.message.contains("sales_db.missing"), "{e}");
}

fn typed_results() -> Value {
    let info =
        |n: &str, t: &str| json!({"Name": n, "Label": n, "Type": t, "Nullable": "UNKNOWN", "CaseSensitive": true});
    let cell = |v: &str| json!({"VarCharValue": v});
    let names = ["n", "nan", "d", "missing", "empty", "text", "flag"];
    json!([{
        "rows": [
            {"Data": names.iter().map(|n| cell(n)).collect::<Vec<_>>()},
            {"Data": [cell("42"), cell("NaN"), cell("2.5"), {}, cell(""), cell("Ünïcødé ✓ it's"), cell("true")]}
        ],
        "column_info": [info("n", "bigint"), info("nan", "double"), info("d", "decimal"), info("missing", "varchar"), info("empty", "varchar"), info("text", "varchar"), info("flag", "boolean")]
    }])
}

#[test]
fn athena_engine() {
    let url = &moto().url;
    let aws = aws(url, 3);
    let work_group = unique("wg");
    let client = aws_sdk_athena::Client::new(&aws.config);
    aws.exec.block_on(client.create_work_group().name(&work_group).send()).unwrap();
    inject_athena_results(url, typed_results());
    let options = AthenaOptions {
        work_group: work_group.clone(),
        output_location: Some("s3://athena-results/dqc/".into()),
        database: Some("sales_db".into()),
        ..AthenaOptions::default()
    };
    let engine = AthenaEngine::new(&aws, options);
    engine_suite(&engine);
    assert_eq!(
        engine.bytes_scanned(),
        Some(0),
        "the emulator's statistics report 0 bytes scanned; the engine adds them up"
    );
    // The exact request: the SQL as written, every value a parameter, the work group and
    // the output location.
    let ids = aws.exec.block_on(client.list_query_executions().work_group(&work_group).send()).unwrap();
    let id = ids.query_execution_ids().first().cloned().expect("one query");
    let q = aws.exec.block_on(client.get_query_execution().query_execution_id(id).send()).unwrap();
    let q = q.query_execution().unwrap();
    assert_eq!(q.query(), Some(TYPED_SQL));
    assert_eq!(q.execution_parameters(), ["'42'", "'Ünïcødé ✓ it''s'"]);
    assert_eq!(q.work_group(), Some(work_group.as_str()));
    let output = q.result_configuration().and_then(|r| r.output_location()).unwrap_or_default();
    assert!(output.starts_with("s3://athena-results/dqc/"), "{output}");
    assert_eq!(q.query_execution_context().and_then(|c| c.database()), Some("sales_db"));
}
