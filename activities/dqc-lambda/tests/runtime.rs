//! The `bootstrap` binary as Lambda runs it: started against a loopback implementation of the
//! Lambda Runtime API (next invocation, response, error), with the AWS services on the moto
//! emulator. Good events get the activity's answer; bad events (missing fields, an unknown
//! table) and AWS faults get `{errorType, errorMessage}` with the stable error names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

#[path = "../../dqc-aws/tests/support/athena_on_duckdb.rs"]
mod athena_on_duckdb;
#[path = "../../../cli/tests/support/mod.rs"]
mod llm;
#[path = "../../dqc-aws/tests/support/mod.rs"]
mod support;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{aws, create_bucket, create_metadata_table, moto, proxy, unique, Fault};

/// What the function answered for one event.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Response(Value),
    Error(Value),
}

/// A loopback Runtime API serving `events` in turn; returns the answers, in order.
fn invoke(activity: &str, endpoint: &str, env: &[(&str, &str)], events: Vec<Value>) -> Vec<Answer> {
    invoke_binary(env!("CARGO_BIN_EXE_bootstrap"), activity, endpoint, env, events)
}

/// The same for any of the package's binaries.
fn invoke_binary(
    binary: &str,
    activity: &str,
    endpoint: &str,
    env: &[(&str, &str)],
    events: Vec<Value>,
) -> Vec<Answer> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap().to_string();
    let total = events.len();
    let queue = Arc::new(Mutex::new(events.into_iter().enumerate().collect::<VecDeque<_>>()));
    let answers: Arc<Mutex<Vec<(usize, Answer)>>> = Arc::new(Mutex::new(Vec::new()));
    {
        let (queue, answers) = (Arc::clone(&queue), Arc::clone(&answers));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (queue, answers) = (Arc::clone(&queue), Arc::clone(&answers));
                std::thread::spawn(move || runtime_api(conn, &queue, &answers));
            }
        });
    }
    let mut child = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", activity)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("DQC_AWS_ENDPOINT_URL", endpoint)
        .env("DQC_ACTIVITY", activity)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while answers.lock().unwrap().len() < total {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("bootstrap exited ({status}) after {} of {total} answers: {err}", answers.lock().unwrap().len());
        }
        assert!(started.elapsed() < Duration::from_secs(60), "bootstrap did not answer every event in time");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut got = answers.lock().unwrap().clone();
    got.sort_by_key(|(i, _)| *i);
    got.into_iter().map(|(_, a)| a).collect()
}

fn runtime_api(conn: TcpStream, queue: &Mutex<VecDeque<(usize, Value)>>, answers: &Mutex<Vec<(usize, Answer)>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
        if path.ends_with("/invocation/next") {
            // Wait for an event; the last caller waits until the test ends.
            let next = loop {
                if let Some(e) = queue.lock().unwrap().pop_front() {
                    break e;
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            let (id, event) = next;
            let body = event.to_string();
            let deadline =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 60_000;
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-{id}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:f\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-0-0\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        } else {
            let id: usize = path
                .split("/invocation/req-")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let answer = if path.ends_with("/error") { Answer::Error(value) } else { Answer::Response(value) };
            answers.lock().unwrap().push((id, answer));
            write!(conn, "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{{}}").unwrap();
        }
    }
}

/// A bucket, a metadata table and a topic on the emulator, with the environment naming them.
struct Stack {
    bucket: String,
    table: String,
    topic: String,
}

fn stack() -> Stack {
    let aws = aws(&moto().url, 2);
    let bucket = unique("lambda-artifacts");
    let s3 = create_bucket(&aws, &bucket);
    let table = unique("lambda-metadata");
    create_metadata_table(&aws, &table);
    let glue = aws_sdk_glue::Client::new(&aws.config);
    let database = aws_sdk_glue::types::DatabaseInput::builder().name("shop").build().unwrap();
    // Several tests seed the same database: the second creation is refused, and that is fine.
    let _ = aws.exec.block_on(glue.create_database().database_input(database).send());
    let sns = aws_sdk_sns::Client::new(&aws.config);
    let topic = aws
        .exec
        .block_on(sns.create_topic().name(unique("dqc-notifications")).send())
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let put = |key: &str, text: &str| {
        aws.exec
            .block_on(s3.put_object().bucket(&bucket).key(key).body(text.as_bytes().to_vec().into()).send())
            .unwrap();
    };
    put("sources/shop.customers.dqc", CUSTOMERS);
    put("drafts/shop.orders.dqc", ORDERS);
    put("drafts/broken.dqc", "contract shop.orders { columns { id bigint not null } rules { idd > 0 } }");
    put("scripts/orders_job.py", JOB);
    Stack { bucket, table, topic }
}

const CUSTOMERS: &str = "contract shop.customers {\n  columns {\n    customer_id string not null,\n  }\n  rules {\n    unique (customer_id)\n  }\n}\n";
const ORDERS: &str = "contract shop.orders {\n  columns {\n    order_id bigint not null,\n    customer_id string not null,\n  }\n  rules {\n    customer_id references shop.customers (customer_id)\n    order_id > 0\n  }\n}\n";
const JOB: &str = "from pyspark.sql import SparkSession\nspark = SparkSession.builder.getOrCreate()\n\
                   orders = spark.read.parquet('s3://lake/raw/orders/')\n\
                   orders.filter('order_id > 0').dropDuplicates(['order_id']).write.mode('overwrite').saveAsTable('shop.orders')\n";

fn env(s: &Stack) -> Vec<(&'static str, String)> {
    vec![
        ("DQC_ARTIFACT_BUCKET", s.bucket.clone()),
        ("DQC_METADATA_TABLE", s.table.clone()),
        ("DQC_NOTIFICATION_TOPIC_ARN", s.topic.clone()),
        ("DQC_GLUE_DATABASES", "shop".into()),
        ("DQC_ATHENA_WORKGROUP", "primary".into()),
    ]
}

fn error_type(a: &Answer) -> (&str, &str) {
    match a {
        Answer::Error(v) => {
            (v["errorType"].as_str().unwrap_or_default(), v["errorMessage"].as_str().unwrap_or_default())
        }
        Answer::Response(v) => panic!("expected an error, got {v}"),
    }
}

fn call(activity: &str, endpoint: &str, s: &Stack, events: Vec<Value>) -> Vec<Answer> {
    let env = env(s);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    invoke(activity, endpoint, &pairs, events)
}

#[test]
fn every_activity_refuses_an_event_without_its_fields() {
    let s = stack();
    let schemas = dqc_activities::events::schemas();
    for activity in [
        "dqc-profile",
        "dqc-summarize",
        "dqc-context",
        "dqc-draft",
        "dqc-compile",
        "dqc-request-approval",
        "dqc-publish",
        "dqc-run-suite",
    ] {
        // Every field its input schema requires, with a table not written database.table.
        let mut bad_table = serde_json::Map::new();
        for field in schemas[activity]["input"]["required"].as_array().unwrap() {
            bad_table.insert(field.as_str().unwrap().to_owned(), json!("2024-01-01"));
        }
        bad_table.insert("table".into(), json!("no-dot"));
        let events = vec![json!({}), json!({"table": 42}), Value::Object(bad_table)];
        let answers = call(activity, &moto().url, &s, events);
        let (ty, message) = error_type(&answers[0]);
        assert_eq!(ty, "DqcNonRetryable", "{activity}: {message}");
        assert!(message.contains("missing field `table`"), "{activity}: {message}");
        let (ty, message) = error_type(&answers[1]);
        assert_eq!(ty, "DqcNonRetryable", "{activity}: {message}");
        assert!(message.contains("invalid type: integer `42`, expected a string"), "{activity}: {message}");
        let (ty, message) = error_type(&answers[2]);
        assert_eq!(ty, "DqcNonRetryable", "{activity}: {message}");
        assert!(message.contains("database.table"), "{activity}: {message}");
    }
}

#[test]
fn good_events_get_the_activitys_answer() {
    let s = stack();
    let url = &moto().url;
    let answers = call("dqc-list-contracts", url, &s, vec![json!({})]);
    assert_eq!(answers, [Answer::Response(json!({"tables": ["shop.customers"]}))]);

    let answers = call(
        "dqc-summarize",
        url,
        &s,
        vec![
            json!({"table": "shop.orders", "script_key": "scripts/orders_job.py"}),
            json!({"table": "shop.orders", "script_key": null}),
        ],
    );
    assert_eq!(
        answers[0],
        Answer::Response(json!({"table": "shop.orders", "summary_key": "onboarding/shop.orders/summary.json"}))
    );
    assert_eq!(answers[1], Answer::Response(json!({"table": "shop.orders", "summary_key": null})));

    let answers = call(
        "dqc-compile",
        url,
        &s,
        vec![
            json!({"table": "shop.orders", "draft_key": "drafts/shop.orders.dqc"}),
            json!({"table": "shop.orders", "draft_key": "drafts/broken.dqc"}),
        ],
    );
    let Answer::Response(ok) = &answers[0] else { panic!("{answers:?}") };
    assert_eq!(ok["ok"], true, "{ok}");
    let hash = ok["contract_hash"].as_str().unwrap().to_owned();
    let Answer::Response(bad) = &answers[1] else { panic!("{answers:?}") };
    assert_eq!(bad["ok"], false, "{bad}");
    assert!(bad["diagnostics"][0].as_str().unwrap().contains("idd"), "{bad}");

    let answers = call(
        "dqc-request-approval",
        url,
        &s,
        vec![
            json!({"table": "shop.orders", "draft_key": "drafts/shop.orders.dqc", "contract_hash": hash, "task_token": "token-1", "execution": "exec-1", "approvers": ["owner@example.com"]}),
        ],
    );
    assert_eq!(answers, [Answer::Response(json!({"approval_id": format!("approval#{hash}")}))]);

    let answers = call(
        "dqc-publish",
        url,
        &s,
        vec![
            json!({"table": "shop.orders", "draft_key": "drafts/shop.orders.dqc", "contract_hash": hash, "approval": {"decision": "approved"}}),
            json!({"table": "shop.orders", "draft_key": "drafts/shop.orders.dqc", "contract_hash": "sha256:other", "approval": {"decision": "approved"}}),
        ],
    );
    let Answer::Response(published) = &answers[0] else { panic!("{answers:?}") };
    let key = published["contract_key"].as_str().unwrap();
    let aws = aws(url, 1);
    let store = dqc_aws::S3Store::new(&aws, &format!("s3://{}", s.bucket)).unwrap();
    assert!(dqc_activities::ArtifactStore::get(&store, key).unwrap().is_some(), "{key}");
    let (ty, message) = error_type(&answers[1]);
    assert_eq!(ty, "DqcNonRetryable");
    assert!(message.contains("changed after its approval"), "{message}");
}

#[test]
fn an_unknown_table_and_aws_faults_get_the_stable_error_names() {
    let s = stack();
    let answers = call("dqc-profile", &moto().url, &s, vec![json!({"table": "shop.missing"})]);
    let (ty, message) = error_type(&answers[0]);
    assert_eq!(ty, "DqcNonRetryable");
    assert!(message.contains("shop.missing") && message.contains("not in the catalog"), "{message}");

    let slow_down = Fault::Answer(
        503,
        "application/xml",
        "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
    );
    let p = proxy(&moto().url, vec![slow_down; 20]);
    let answers = call("dqc-list-contracts", &p.url, &s, vec![json!({})]);
    let (ty, message) = error_type(&answers[0]);
    assert_eq!(ty, "DqcRetryable", "{message}");
    assert!(message.contains("SlowDown"), "{message}");
}

/// The orders and customers of the `shop` lake: order 4 is negative and order 3's customer is
/// unknown, so the suite fails two rules.
fn shop_lake(dir: &std::path::Path) {
    for (table, text) in
        [("orders", "order_id,customer_id\n1,C1\n2,C2\n3,C9\n-4,C1\n"), ("customers", "customer_id\nC1\nC2\n")]
    {
        let folder = dir.join("shop").join(table);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("{table}.csv")), text).unwrap();
    }
}

#[test]
fn the_activities_that_query_athena_answer_good_events() {
    use athena_on_duckdb::{as_athena, AthenaOnDuckDb};
    use dqc_activities::{ArtifactStore, Catalog};
    let url = &moto().url;
    let s = stack();
    let aws = aws(url, 2);
    let dir = std::env::temp_dir().join(format!("dqc-lambda-athena-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lake = dir.join("lake");
    shop_lake(&lake);
    let store = dqc_aws::S3Store::new(&aws, &format!("s3://{}", s.bucket)).unwrap();
    store.put("sources/shop.orders.dqc", ORDERS.as_bytes()).unwrap();

    // The tables in Glue, as the lake describes them.
    let engine = AthenaOnDuckDb::over(&lake);
    let lake_catalog = dqc_local::LakeCatalog::new(&lake, &engine.inner);
    let glue = aws_sdk_glue::Client::new(&aws.config);
    for name in ["orders", "customers"] {
        let definition = lake_catalog.table("shop", name).unwrap().unwrap();
        let columns = definition
            .columns
            .iter()
            .map(|c| aws_sdk_glue::types::Column::builder().name(&c.name).r#type(&c.ty).build().unwrap());
        let sd = aws_sdk_glue::types::StorageDescriptor::builder().set_columns(Some(columns.collect())).build();
        let input = aws_sdk_glue::types::TableInput::builder().name(name).storage_descriptor(sd).build().unwrap();
        let _ = aws.exec.block_on(glue.create_table().database_name("shop").table_input(input).send());
    }

    // What each activity answers in process, over the same objects, with Athena's answers
    // computed on the embedded engine.
    let here = dqc_local::FolderStore::new(dir.join("artifacts"));
    for key in ["sources/shop.customers.dqc", "sources/shop.orders.dqc"] {
        here.put(key, &store.get(key).unwrap().unwrap()).unwrap();
    }
    let index = dqc_local::FolderMetadata::new(dir.join("metadata"));
    let mut notes = dqc_local::FileNotifier::new(dir.join("notifications.log"));
    notes.echo = false;
    // The drafting step with an LLM: the same answer for the run in process and for the
    // function (an OpenAI-compatible loopback endpoint, each answering once).
    let answer = llm::chat(&json!({"data_quality": {"table_name": "shop.orders", "columns": {
        "order_id": {"type": "bigint", "nullable": false, "rules": [{"type": "unique", "because": "profile: 4 distinct in 4 rows"}]},
        "customer_id": {"type": "string", "nullable": false, "rules": []}
    }}}));
    let (here_llm, _) = llm::loopback_llm(vec![answer.clone()]);
    let (lambda_llm, lambda_seen) = llm::loopback_llm(vec![answer]);
    let settings = |endpoint: &str| dqc_llm::Settings {
        kind: dqc_llm::Kind::OpenAi,
        model: "local-model".into(),
        endpoint: Some(format!("{endpoint}/v1")),
        api_key_env: None,
        attempts: 2,
        policy: dqc_llm::RetryPolicy::default(),
    };
    let drafter = dqc_llm::LoopDrafter::owned(&settings(&here_llm)).unwrap();
    let calls = [
        ("dqc-profile", json!({"table": "shop.orders"}), false),
        ("dqc-draft", json!({"table": "shop.orders", "attempt": 1}), false),
        (
            "dqc-run-suite",
            json!({"table": "shop.orders", "date": "2024-03-01", "run_time": "2024-03-01 06:00:00"}),
            false,
        ),
        (
            "dqc-draft",
            json!({"table": "shop.orders", "attempt": 2, "diagnostics": ["E0101: an earlier mistake"]}),
            true,
        ),
    ];
    let now = "2024-03-01 06:00:00";
    let expected: Vec<Answer> = calls
        .iter()
        .map(|(activity, event, with_llm)| {
            let services = dqc_activities::handlers::Services {
                catalog: &lake_catalog,
                engine: &engine,
                store: &here,
                metadata: &index,
                notifier: &notes,
                approvals: None,
                drafter: with_llm.then_some(&drafter as &dyn dqc_activities::ports::Drafter),
            };
            match dqc_activities::handlers::handle(activity, event, &services, now) {
                Ok(v) => Answer::Response(v),
                Err(e) => Answer::Error(json!({"errorType": e.kind.as_str(), "errorMessage": e.message})),
            }
        })
        .collect();
    let answers: Vec<serde_json::Value> = engine.seen.take().iter().map(|(_, _, rows)| as_athena(rows)).collect();
    assert!(answers.len() > 6, "{} queries", answers.len());
    support::inject_athena_results(url, Value::Array(answers));

    // The same events through the Runtime API: the same answers, and the same artifacts.
    for ((activity, event, with_llm), expected) in calls.iter().zip(&expected) {
        let got = if *with_llm {
            let mut env = env(&s);
            env.extend([
                ("DQC_LLM_PROVIDER", "openai".to_string()),
                ("DQC_LLM_MODEL", "local-model".to_string()),
                ("DQC_LLM_ENDPOINT", format!("{lambda_llm}/v1")),
                ("DQC_LLM_ATTEMPTS", "2".to_string()),
            ]);
            let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            invoke(activity, url, &pairs, vec![event.clone()])
        } else {
            call(activity, url, &s, vec![event.clone()])
        };
        assert_eq!(&got[0], expected, "{activity}");
    }
    let asked = lambda_seen.lock().unwrap()[0].json();
    assert_eq!(asked["model"], "local-model");
    let request = asked["messages"][1]["content"].as_str().unwrap();
    assert!(
        request.contains("\"table_name\": \"orders\"") && request.contains("- E0101: an earlier mistake"),
        "{request}"
    );
    let drafted = String::from_utf8(store.get("onboarding/shop.orders/draft-2.dqc").unwrap().unwrap()).unwrap();
    assert!(drafted.starts_with("-- Drafted by openai model local-model"), "{drafted}");
    assert!(drafted.contains("unique order_id because 'profile: 4 distinct in 4 rows'"), "{drafted}");
    assert_eq!(Some(drafted.into_bytes()), here.get("onboarding/shop.orders/draft-2.dqc").unwrap());
    let Answer::Response(profile) = &expected[0] else { panic!("{expected:?}") };
    assert_eq!(profile["row_count"], 4, "{profile}");
    let Answer::Error(failed) = &expected[2] else { panic!("the suite fails: {expected:?}") };
    assert_eq!(failed["errorType"], "DqcContractViolation", "{failed}");
    for key in ["onboarding/shop.orders/profile.json", "onboarding/shop.orders/draft-1.dqc"] {
        assert_eq!(store.get(key).unwrap(), here.get(key).unwrap(), "{key}");
    }
    let results = store.list("results/").unwrap();
    assert_eq!(results, here.list("results/").unwrap());
    assert_eq!(results.len(), 1, "{results:?}");
}

/// A function URL request (the HTTP API's payload 2.0) for `method path?query`.
fn url_event(method: &str, path: &str, query: &str) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"host": "approvals.lambda-url.us-east-1.on.aws", "user-agent": "dqc-test"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "approvals", "domainName": "approvals.lambda-url.us-east-1.on.aws",
            "domainPrefix": "approvals", "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "05/Dec/2026:18:00:00 +0000", "timeEpoch": 1_796_000_000_000_i64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "dqc-test"}
        },
        "isBase64Encoded": false
    })
}

#[test]
fn the_approval_service_answers_function_url_requests() {
    use dqc_activities::approval::{Keyring, LinkSigner};
    use dqc_activities::{ArtifactStore, MetadataStore};
    let url = &moto().url;
    let s = stack();
    let aws = aws(url, 2);
    let keyring = Keyring::generate("k1").unwrap();
    let hash = "sha256:00ff";
    let metadata = dqc_aws::DynamoMetadata::new(&aws, &s.table);
    let store = dqc_aws::S3Store::new(&aws, &format!("s3://{}", s.bucket)).unwrap();
    let review = json!({"table": "shop.orders", "contract_hash": hash, "previous_hash": null,
        "source": "contract shop.orders { columns { order_id bigint } }\n", "previous_source": null, "diff": "",
        "rules": [], "backtest_rows": 4, "backtest_run_time": "2024-03-01 06:00:00",
        "diagram": "erDiagram\n  ORDERS { bigint order_id }\n", "tests_sql": "SELECT 1"});
    store.put("onboarding/shop.orders/review-00ff.json", review.to_string().as_bytes()).unwrap();
    let now = jiff::Timestamp::now().as_second();
    metadata
        .put(
            "table#shop.orders",
            &format!("approval#{hash}"),
            &json!({"status": "pending", "approvers": ["ann@example.com"],
            "task_token": "token-1", "deadline": now + 3600, "review_key": "onboarding/shop.orders/review-00ff.json"}),
        )
        .unwrap();
    let signer = LinkSigner { base_url: String::new(), keyring: keyring.clone(), ttl_seconds: 3600 };
    let link = signer.link("shop.orders", hash, "ann@example.com", now);
    let (path, query) = link.split_once('?').unwrap();
    let forged = query.replacen("ann%40example.com", "bob%40example.com", 1);
    let keys = serde_json::to_string(&keyring).unwrap();
    let env = [
        ("DQC_ARTIFACT_BUCKET", s.bucket.as_str()),
        ("DQC_METADATA_TABLE", s.table.as_str()),
        ("DQC_APPROVAL_KEYS", keys.as_str()),
    ];
    let answers = invoke_binary(
        env!("CARGO_BIN_EXE_approvals"),
        "dqc-approvals",
        url,
        &env,
        vec![
            url_event("GET", path, query),
            url_event("GET", path, &forged),
            url_event("GET", &format!("{path}/decision"), query),
        ],
    );
    let Answer::Response(page) = &answers[0] else { panic!("{answers:?}") };
    assert_eq!(page["statusCode"], 200, "{page}");
    let body = page["body"].as_str().unwrap();
    assert!(
        body.contains("Approve the contract for <code>shop.orders</code>") && body.contains("id=\"approve\""),
        "{body}"
    );
    let cookies = page["cookies"].to_string();
    assert!(cookies.contains("dqc_csrf=") && cookies.contains("HttpOnly"), "{page}");
    let Answer::Response(refused) = &answers[1] else { panic!("{answers:?}") };
    assert_eq!(refused["statusCode"], 403, "{refused}");
    assert!(refused["body"].as_str().unwrap().contains("signature does not match"));
    let Answer::Response(by_get) = &answers[2] else { panic!("{answers:?}") };
    assert_eq!(by_get["statusCode"], 405, "{by_get}");
    let audits = metadata.query(dqc_approvals::AUDIT_PK, "").unwrap();
    let reasons: Vec<&str> = audits.iter().filter_map(|(_, a)| a["reason"].as_str()).collect();
    assert!(reasons.contains(&"bad_signature") && reasons.contains(&"get_on_decision"), "{audits:?}");
    assert_eq!(metadata.get("table#shop.orders", &format!("approval#{hash}")).unwrap().unwrap()["status"], "pending");
}
