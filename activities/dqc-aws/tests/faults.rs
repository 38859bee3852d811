//! The AWS adapters under faults: a proxy on loopback in front of the emulator answers with
//! throttling errors, 500s, slow answers and dropped connections on a fixed schedule. Every
//! call either succeeds after the SDK's retries or fails with the right error name, and no
//! artifact or item is left half-written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

mod support;

use std::time::{Duration, Instant};

use dqc_activities::{ArtifactStore, ErrorKind, MetadataStore};
use dqc_aws::{DynamoMetadata, S3Store};
use serde_json::json;
use support::{aws, aws_with, create_bucket, create_metadata_table, moto, proxy, unique, Fault};

const SLOW_DOWN: Fault = Fault::Answer(
    503,
    "application/xml",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
);
const INTERNAL: Fault = Fault::Answer(
    500,
    "application/xml",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>boom</Message></Error>",
);
const THROTTLED: Fault = Fault::Answer(
    400,
    "application/x-amz-json-1.0",
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\",\"message\":\"Rate of requests exceeds the allowed throughput.\"}",
);
const DENIED: Fault = Fault::Answer(
    403,
    "application/xml",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
);

/// A bucket on the emulator, and a direct store on it to check what was really written.
fn bucket() -> (String, S3Store) {
    let aws = aws(&moto().url, 1);
    let name = unique("faults");
    create_bucket(&aws, &name);
    let direct = S3Store::new(&aws, &format!("s3://{name}/p")).unwrap();
    (name, direct)
}

#[test]
fn s3_throttling_and_500s_are_retried_and_the_object_is_whole() {
    let (name, direct) = bucket();
    let p = proxy(&moto().url, vec![SLOW_DOWN, INTERNAL, Fault::Drop]);
    let store = S3Store::new(&aws(&p.url, 4), &format!("s3://{name}/p")).unwrap();
    let body: Vec<u8> = (0..200_000u32).flat_map(u32::to_le_bytes).collect();
    store.put("results/t/2024-01-01.json", &body).unwrap();
    assert_eq!(p.seen.lock().unwrap().len(), 4, "three faults, then the write: {:?}", p.seen.lock().unwrap());
    assert_eq!(direct.get("results/t/2024-01-01.json").unwrap().unwrap(), body);
}

#[test]
fn s3_throttling_past_the_retries_is_retryable_and_writes_nothing() {
    let (name, direct) = bucket();
    let p = proxy(&moto().url, vec![SLOW_DOWN; 10]);
    let store = S3Store::new(&aws(&p.url, 3), &format!("s3://{name}/p")).unwrap();
    let e = store.put("results/t/x.json", b"{}").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Retryable, "{e}");
    assert!(e.message.contains("SlowDown") && e.message.contains(&format!("s3://{name}/p/results/t/x.json")), "{e}");
    assert_eq!(p.seen.lock().unwrap().len(), 3, "bounded: three attempts");
    assert_eq!(direct.get("results/t/x.json").unwrap(), None, "nothing half-written");
}

#[test]
fn access_denied_is_not_retried() {
    let (name, _) = bucket();
    let p = proxy(&moto().url, vec![DENIED; 5]);
    let store = S3Store::new(&aws(&p.url, 4), &format!("s3://{name}/p")).unwrap();
    let e = store.get("contracts/t.json").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NonRetryable, "{e}");
    assert!(e.message.contains("AccessDenied") && e.message.contains("contracts/t.json"), "{e}");
    assert_eq!(p.seen.lock().unwrap().len(), 1, "one attempt");
}

#[test]
fn a_conditional_write_under_faults_still_writes_once() {
    let (name, direct) = bucket();
    let p = proxy(&moto().url, vec![INTERNAL, Fault::Forward, SLOW_DOWN, Fault::Forward]);
    let store = S3Store::new(&aws(&p.url, 4), &format!("s3://{name}/p")).unwrap();
    assert!(store.put_if_absent("contracts/t/v1.json", b"first").unwrap());
    assert!(!store.put_if_absent("contracts/t/v1.json", b"second").unwrap());
    assert_eq!(direct.get("contracts/t/v1.json").unwrap().as_deref(), Some(&b"first"[..]));
}

#[test]
fn slow_answers_time_out_and_are_retried_within_the_bound() {
    let (name, direct) = bucket();
    let p = proxy(&moto().url, vec![Fault::Delay(Duration::from_secs(3))]);
    let store = S3Store::new(&aws_with(&p.url, 3, Duration::from_millis(800)), &format!("s3://{name}/p")).unwrap();
    let started = Instant::now();
    store.put("k.json", b"{}").unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "the slow attempt was abandoned: {:?}", started.elapsed());
    assert_eq!(direct.get("k.json").unwrap().as_deref(), Some(&b"{}"[..]));

    let p = proxy(&moto().url, vec![Fault::Delay(Duration::from_secs(3)); 5]);
    let store = S3Store::new(&aws_with(&p.url, 2, Duration::from_millis(500)), &format!("s3://{name}/p")).unwrap();
    let e = store.get("k.json").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Retryable, "{e}");
}

#[test]
fn dynamodb_throttling_is_retried_then_reported() {
    let table = unique("faults-metadata");
    create_metadata_table(&aws(&moto().url, 1), &table);
    let p = proxy(&moto().url, vec![THROTTLED, Fault::Drop, Fault::Forward]);
    let m = DynamoMetadata::new(&aws(&p.url, 4), &table);
    assert!(m.put_if_absent("table#db.t", "run#2024-01-01", &json!({"passed": true})).unwrap());
    let direct = DynamoMetadata::new(&aws(&moto().url, 1), &table);
    assert_eq!(direct.get("table#db.t", "run#2024-01-01").unwrap(), Some(json!({"passed": true})));

    let p = proxy(&moto().url, vec![THROTTLED; 10]);
    let m = DynamoMetadata::new(&aws(&p.url, 3), &table);
    let e = m.put("table#db.t", "run#2024-01-02", &json!({})).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Retryable, "{e}");
    assert!(e.message.contains("ThrottlingException") && e.message.contains("run#2024-01-02"), "{e}");
    assert_eq!(direct.get("table#db.t", "run#2024-01-02").unwrap(), None, "nothing written");
}
