//! The providers and the drafting loop against loopback servers that speak each wire format
//! and answer from scripts: good answers, answers wrapped in prose, truncated and wrong
//! answers (the retry carries the diagnostics), answers that never compile (the offline
//! fallback), 429 then success, 500s until the deadline, and a hanging connection. Every
//! request is recorded and checked. Servers listen on 127.0.0.1 only; every test is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dqc_llm::drafting::{draft, LoopOptions};
use dqc_llm::gemini::Gemini;
use dqc_llm::openai::OpenAi;
use dqc_llm::RetryPolicy;
use serde_json::{json, Value};

/// What the server does with one request.
#[derive(Debug, Clone)]
enum Reply {
    /// Answers with a status, extra headers and a body.
    Respond(u16, Vec<(String, String)>, String),
    /// Reads the request and never answers (until the client gives up).
    Hang,
}

/// A recorded request: path, headers (lowercase names) and JSON body.
#[derive(Debug, Clone)]
struct Request {
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

/// A loopback HTTP server answering `script` in order (then 500s).
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn start(script: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            let mut script = script.into_iter();
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    let h = h.trim_end().to_string();
                    if h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let length: usize =
                    headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                log.lock().unwrap().push(Request { path, headers, body });
                match script.next().unwrap_or(Reply::Respond(500, vec![], "script over".into())) {
                    Reply::Hang => held.push(stream),
                    Reply::Respond(status, extra, text) => {
                        let mut head = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                            text.len()
                        );
                        for (k, v) in extra {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = stream.write_all(head.as_bytes());
                        let _ = stream.write_all(text.as_bytes());
                    }
                }
            }
        });
        Server { url, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        request_timeout: Duration::from_millis(500),
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_requests: 4,
        deadline: Duration::from_secs(3),
    }
}

fn openai(server: &Server) -> OpenAi {
    OpenAi {
        base_url: format!("{}/v1", server.url),
        model: "test-model".into(),
        api_key: Some("test-key".into()),
        policy: policy(),
        client: reqwest::Client::new(),
    }
}

fn gemini(server: &Server) -> Gemini {
    Gemini {
        base_url: format!("{}/v1beta", server.url),
        model: "gemini-test".into(),
        api_key: Some("g-key".into()),
        policy: policy(),
        client: reqwest::Client::new(),
    }
}

fn context() -> Value {
    json!({
        "table_name": "orders",
        "database": "sales",
        "schema": [{"name": "id", "type": "bigint", "nullable": false}, {"name": "status", "type": "string", "nullable": true}],
        "row_count": 10,
        "column_stats": {"status": {"null_pct": 0.0, "distinct_count": 2}}
    })
}

/// An answer in the seed's shape; `status_column` lets an answer name a column that is not there.
fn answer(status_column: &str) -> String {
    json!({
        "data_quality": {
            "table_name": "sales.orders",
            "columns": {
                "id": {"type": "bigint", "nullable": false, "rules": [{"type": "unique", "because": "profile: 10 distinct in 10 rows"}]},
                status_column: {"type": "string", "nullable": true, "rules": [
                    {"type": "allowed_values", "values": ["NEW", "SHIPPED"], "because": "profile: 2 values"}
                ]}
            }
        }
    })
    .to_string()
}

fn chat(content: &str) -> Reply {
    let body = json!({
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20}
    });
    Reply::Respond(200, vec![], body.to_string())
}

fn generate(text: &str) -> Reply {
    let body = json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}],
        "usageMetadata": {"promptTokenCount": 90, "candidatesTokenCount": 30}
    });
    Reply::Respond(200, vec![], body.to_string())
}

fn offline() -> Result<String, String> {
    Ok("contract sales.orders {\n  columns {\n    id bigint,\n  }\n}\n".to_string())
}

/// Contracts the draft is checked with (none: foreign keys would name tables without one).
fn known() -> Vec<dqc_compiler::Source> {
    Vec::new()
}

#[tokio::test]
async fn a_good_answer_compiles_at_once_and_the_request_is_the_wire_format() {
    let server = Server::start(vec![chat(&answer("status"))]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert!(!d.fell_back);
    assert_eq!(d.attempts.len(), 1);
    assert_eq!((d.prompt_tokens, d.completion_tokens), (100, 20));
    assert!(d.text.contains("unique id because 'profile: 10 distinct in 10 rows'"), "{}", d.text);
    assert!(d.text.starts_with("-- Drafted by openai model test-model with prompt draft-v1 (sha256:"), "{}", d.text);
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert!(r.headers.contains(&("authorization".into(), "Bearer test-key".into())));
    assert_eq!(r.body["model"], "test-model");
    assert_eq!(r.body["response_format"]["type"], "json_schema");
    let schema = &r.body["response_format"]["json_schema"]["schema"];
    assert!(schema["properties"]["data_quality"]["properties"]["columns"].is_object(), "{schema}");
    assert!(!schema.to_string().contains("$ref"), "subschemas are inlined");
    assert_eq!(r.body["messages"][0]["role"], "system");
    assert_eq!(r.body["messages"][0]["content"], dqc_llm::drafting::PROMPT);
    assert!(r.body["messages"][1]["content"].as_str().unwrap().contains("\"table_name\": \"orders\""));
}

#[tokio::test]
async fn json_in_prose_and_fences_is_read() {
    let wrapped = format!("Here is the contract:\n```json\n{}\n```\nHope it helps.", answer("status"));
    let server = Server::start(vec![chat(&wrapped)]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert_eq!((d.attempts.len(), d.fell_back), (1, false), "{:?}", d.attempts);
}

#[tokio::test]
async fn a_truncated_answer_goes_back_with_the_diagnostic_and_the_second_compiles() {
    let full = answer("status");
    let server = Server::start(vec![chat(&full[..full.len() / 2]), chat(&full)]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert_eq!(d.attempts.len(), 2);
    assert!(d.attempts[0].outcome.contains("E0901"), "{:?}", d.attempts);
    let second = &server.requests()[1].body["messages"];
    assert_eq!(second.as_array().unwrap().len(), 4, "system, user, the first answer, the feedback");
    assert_eq!(second[2]["role"], "assistant");
    assert!(second[3]["content"].as_str().unwrap().contains("could not be read as the JSON object"), "{second}");
}

/// An answer with one extra rule on `id`.
fn answer_with(rule: Value) -> String {
    let mut a: Value = serde_json::from_str(&answer("status")).unwrap();
    a["data_quality"]["columns"]["id"]["rules"].as_array_mut().unwrap().push(rule);
    a.to_string()
}

#[tokio::test]
async fn wrong_types_go_back_with_the_compilers_words() {
    // A regex on a bigint column does not type-check.
    let wrong = answer_with(json!({"type": "regex", "pattern": "^[0-9]+$", "because": "a guess"}));
    let server = Server::start(vec![chat(&wrong), chat(&answer("status"))]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert_eq!(d.attempts.len(), 2, "{:?}", d.attempts);
    let feedback = server.requests()[1].body["messages"][3]["content"].as_str().unwrap().to_string();
    assert!(feedback.contains("does not compile") && feedback.contains("error[E0"), "{feedback}");
}

#[tokio::test]
async fn an_answer_that_never_compiles_falls_back_to_the_offline_draft_and_says_so() {
    let bad = "no json at all".to_string();
    let server = Server::start(vec![chat(&bad), chat(&bad), chat(&bad)]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions { max_attempts: 3 }).await.unwrap();
    assert!(d.fell_back);
    assert_eq!(d.attempts.len(), 3);
    assert!(
        d.text.contains("did not compile in 3 attempt(s)") && d.text.contains("this is the offline draft"),
        "{}",
        d.text
    );
    assert!(d.text.contains("contract sales.orders"), "{}", d.text);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    let limited = Reply::Respond(429, vec![("retry-after".into(), "0".into())], "{\"error\":\"slow down\"}".into());
    let server = Server::start(vec![limited, chat(&answer("status"))]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert_eq!(d.attempts[0].requests, 2);
    assert!(!d.fell_back);
}

#[tokio::test]
async fn server_errors_until_the_deadline_are_a_clear_error_not_a_draft() {
    let fail = || Reply::Respond(500, vec![], "{\"error\":\"boom\"}".into());
    let server = Server::start(vec![fail(), fail(), fail(), fail(), fail()]);
    let err = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap_err();
    assert!(
        err.message.contains("openai: gave up after 4 request(s)") && err.message.contains("HTTP 500"),
        "{}",
        err.message
    );
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_hanging_connection_times_out_and_is_retried() {
    let server = Server::start(vec![Reply::Hang, chat(&answer("status"))]);
    let started = std::time::Instant::now();
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert_eq!(d.attempts[0].requests, 2);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let server = Server::start(vec![Reply::Respond(401, vec![], "{\"error\":\"bad key\"}".into())]);
    let err = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap_err();
    assert!(err.message.contains("HTTP 401"), "{}", err.message);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn gemini_speaks_generate_content_and_retries_unknown_columns_with_model_turns() {
    // The first answer checks a column the table does not have.
    let unknown = answer_with(json!({"type": "check", "expression": "amount > 0", "because": "a guess"}));
    let server = Server::start(vec![generate(&unknown), generate(&answer("status"))]);
    let d = draft(&gemini(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert!(!d.fell_back);
    assert_eq!(d.attempts.len(), 2, "{:?}", d.attempts);
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1beta/models/gemini-test:generateContent");
    assert!(r.headers.contains(&("x-goog-api-key".into(), "g-key".into())));
    assert_eq!(r.body["generationConfig"]["responseMimeType"], "application/json");
    assert!(r.body["generationConfig"]["responseJsonSchema"]["properties"]["data_quality"].is_object());
    assert_eq!(r.body["systemInstruction"]["parts"][0]["text"], dqc_llm::drafting::PROMPT);
    assert_eq!(r.body["contents"][0]["role"], "user");
    let second = &server.requests()[1].body["contents"];
    assert_eq!(second[1]["role"], "model");
    let feedback = second[2]["parts"][0]["text"].as_str().unwrap();
    assert!(feedback.contains("unknown column `amount`"), "{feedback}");
    assert_eq!((d.prompt_tokens, d.completion_tokens), (180, 60));
}

#[tokio::test]
async fn a_contract_for_another_table_or_with_invented_columns_goes_back() {
    let mut other: Value = serde_json::from_str(&answer("status")).unwrap();
    other["data_quality"]["table_name"] = json!("orders");
    other["data_quality"]["columns"]["invented"] = json!({"type": "string", "nullable": true, "rules": []});
    let server = Server::start(vec![chat(&other.to_string()), chat(&answer("status"))]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert_eq!(d.attempts.len(), 2, "{:?}", d.attempts);
    let feedback = server.requests()[1].body["messages"][3]["content"].as_str().unwrap().to_string();
    assert!(feedback.contains("does not describe this table"), "{feedback}");
    assert!(feedback.contains("the table is `sales.orders`"), "{feedback}");
    assert!(feedback.contains("column `invented` is not in the table's schema"), "{feedback}");
}

#[tokio::test]
async fn a_refusal_is_an_answer_that_does_not_compile_not_the_end() {
    let refusal = Reply::Respond(
        200,
        vec![],
        json!({"choices": [{"message": {"role": "assistant", "content": null, "refusal": "I cannot help"}}]})
            .to_string(),
    );
    let server = Server::start(vec![refusal, chat(&answer("status"))]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert_eq!((d.attempts.len(), d.fell_back), (2, false), "{:?}", d.attempts);
}
