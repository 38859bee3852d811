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

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use dqc_llm::bedrock::Bedrock;
use dqc_llm::drafting::{draft, LoopOptions};
use dqc_llm::gemini::Gemini;
use dqc_llm::openai::OpenAi;
use dqc_llm::provider::parse_retry_after;
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

/// A Bedrock provider on the loopback server, with fixed temporary credentials.
fn bedrock(server: &Server) -> Bedrock {
    Bedrock {
        endpoint: server.url.clone(),
        region: "eu-west-1".into(),
        model: "anthropic.claude-test-v1:0".into(),
        credentials: SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST",
            "secret",
            Some("session-token".into()),
            None,
            "test",
        )),
        max_tokens: 4096,
        policy: policy(),
        client: reqwest::Client::new(),
    }
}

/// A Converse answer calling the draft tool with `input` (JSON text).
fn converse(input: &str) -> Reply {
    let input: Value = serde_json::from_str(input).unwrap();
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "tooluse_1", "name": "contract_draft", "input": input}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 120, "outputTokens": 40, "totalTokens": 160}
    });
    Reply::Respond(200, vec![], body.to_string())
}

fn header<'r>(r: &'r Request, name: &str) -> &'r str {
    r.headers.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

#[tokio::test]
async fn bedrock_speaks_converse_signed_with_sigv4_and_retries_with_the_diagnostics() {
    let unknown = answer_with(json!({"type": "check", "expression": "amount > 0", "because": "a guess"}));
    let throttled = Reply::Respond(
        429,
        vec![("retry-after".into(), "Thu, 01 Jan 1970 00:00:00 GMT".into())],
        "{\"message\":\"Too many requests\"}".into(),
    );
    let server = Server::start(vec![throttled, converse(&unknown), converse(&answer("status"))]);
    let d = draft(&bedrock(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert!(!d.fell_back, "{}", d.text);
    assert_eq!(d.attempts.len(), 2, "{:?}", d.attempts);
    assert_eq!(d.attempts[0].requests, 2, "the throttled request was retried");
    assert_eq!((d.prompt_tokens, d.completion_tokens), (240, 80));
    assert!(
        d.text.starts_with("-- Drafted by bedrock model anthropic.claude-test-v1:0 with prompt draft-v1"),
        "{}",
        d.text
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let r = &requests[1];
    assert_eq!(r.path, "/model/anthropic.claude-test-v1%3A0/converse");
    let auth = header(r, "authorization");
    let date = header(r, "x-amz-date");
    assert_eq!(date.len(), 16, "{date}");
    assert!(
        auth.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/{}/eu-west-1/bedrock/aws4_request, SignedHeaders=",
            &date[..8]
        )),
        "{auth}"
    );
    let signed = auth.split("SignedHeaders=").nth(1).unwrap().split(',').next().unwrap();
    for h in ["content-type", "host", "x-amz-date", "x-amz-security-token"] {
        assert!(signed.split(';').any(|s| s == h), "{h} is signed: {auth}");
    }
    let signature = auth.rsplit("Signature=").next().unwrap();
    assert!(signature.len() == 64 && signature.chars().all(|c| c.is_ascii_hexdigit()), "{auth}");
    assert_eq!(header(r, "x-amz-security-token"), "session-token");
    assert_ne!(header(&requests[2], "authorization"), auth, "each request is signed for its own body");
    assert_eq!(r.body["system"][0]["text"], dqc_llm::drafting::PROMPT);
    assert_eq!(r.body["inferenceConfig"]["temperature"], 0);
    assert_eq!(r.body["toolConfig"]["toolChoice"]["tool"]["name"], "contract_draft");
    let spec = &r.body["toolConfig"]["tools"][0]["toolSpec"];
    assert_eq!(spec["name"], "contract_draft");
    assert!(spec["inputSchema"]["json"]["properties"]["data_quality"].is_object(), "{spec}");
    assert_eq!(r.body["messages"][0]["role"], "user");
    assert!(r.body["messages"][0]["content"][0]["text"].as_str().unwrap().contains("\"table_name\": \"orders\""));
    let second = &requests[2].body["messages"];
    assert_eq!(second.as_array().unwrap().len(), 3, "{second}");
    assert_eq!(second[1]["role"], "assistant");
    let earlier: Value = serde_json::from_str(second[1]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(earlier, serde_json::from_str::<Value>(&unknown).unwrap(), "the model's own answer goes back as text");
    let feedback = second[2]["content"][0]["text"].as_str().unwrap();
    assert!(feedback.contains("unknown column `amount`"), "{feedback}");
}

#[tokio::test]
async fn bedrock_access_denied_is_a_clear_error_and_not_retried() {
    let denied = Reply::Respond(403, vec![], "{\"message\":\"not authorized to invoke this model\"}".into());
    let server = Server::start(vec![denied]);
    let err = draft(&bedrock(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap_err();
    assert!(err.message.contains("bedrock: HTTP 403") && err.message.contains("not authorized"), "{}", err.message);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now: jiff::Timestamp = "2026-12-05T10:00:00Z".parse().unwrap();
    assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
    assert_eq!(parse_retry_after("Sat, 05 Dec 2026 10:00:30 GMT", now), Some(Duration::from_secs(30)));
    assert_eq!(parse_retry_after("Sat, 05 Dec 2026 09:00:00 GMT", now), Some(Duration::ZERO), "a past date");
    assert_eq!(parse_retry_after("soon", now), None);
}

/// The offline draft of the per-rule fallback test: rules on both columns.
fn offline_with_rules() -> Result<String, String> {
    Ok("contract sales.orders {\n  columns {\n    id bigint,\n    status string,\n  }\n\n  rules {\n    not null id because 'profile: no NULL in 10 rows'\n    unique id because 'profile: 10 distinct in 10 rows'\n    status in ('NEW', 'SHIPPED') because 'profile: 2 values'\n  }\n}\n".to_string())
}

#[tokio::test]
async fn rules_that_never_compile_are_left_out_and_the_offline_rules_on_their_columns_stand_in() {
    // The regex on a bigint never type-checks; the other two rules do.
    let wrong = answer_with(json!({"type": "regex", "pattern": "^[0-9]+$", "because": "a guess"}));
    let server = Server::start(vec![chat(&wrong), chat(&wrong), chat(&wrong)]);
    let d = draft(&openai(&server), &context(), &known(), offline_with_rules, LoopOptions { max_attempts: 3 })
        .await
        .unwrap();
    assert!(!d.fell_back, "{}", d.text);
    assert_eq!(d.left_out.len(), 1, "{:?}", d.left_out);
    assert!(d.left_out[0].contains("matches"), "{:?}", d.left_out);
    assert_eq!(d.stand_ins, vec!["not null id because 'profile: no NULL in 10 rows'".to_string()], "{}", d.text);
    assert!(d.text.contains("1 rule(s) of the last answer never compiled and are left out"), "{}", d.text);
    assert!(d.text.contains("-- offline stand-in for a rule of the answer that never compiled:"), "{}", d.text);
    assert!(
        d.text.contains("unique id because 'profile: 10 distinct in 10 rows'"),
        "the answer's rule is kept: {}",
        d.text
    );
    assert!(d.text.contains("status in ('NEW', 'SHIPPED')"), "{}", d.text);
    assert!(!d.text.lines().any(|l| !l.trim_start().starts_with("--") && l.contains("matches")), "{}", d.text);
    let checked = dqc_compiler::check(&[dqc_compiler::Source::new("d.dqc", d.text.clone())]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
}

#[tokio::test]
async fn a_rule_the_importer_cannot_read_gets_stand_ins_on_its_column() {
    let unreadable = {
        let mut a: Value = serde_json::from_str(&answer("status")).unwrap();
        a["data_quality"]["columns"]["status"]["rules"] = json!([{"type": "telepathy", "because": "a guess"}]);
        a.to_string()
    };
    let server = Server::start(vec![chat(&unreadable)]);
    let d = draft(&openai(&server), &context(), &known(), offline_with_rules, LoopOptions { max_attempts: 1 })
        .await
        .unwrap();
    assert!(!d.fell_back, "{}", d.text);
    assert!(d.left_out[0].starts_with("E0903"), "{:?}", d.left_out);
    assert_eq!(d.stand_ins, vec!["status in ('NEW', 'SHIPPED') because 'profile: 2 values'".to_string()], "{}", d.text);
}

#[tokio::test]
async fn an_answer_whose_columns_are_wrong_is_not_salvaged() {
    let mut other: Value = serde_json::from_str(&answer("status")).unwrap();
    other["data_quality"]["columns"]["invented"] = json!({"type": "string", "nullable": true, "rules": []});
    let server = Server::start(vec![chat(&other.to_string())]);
    let d = draft(&openai(&server), &context(), &known(), offline_with_rules, LoopOptions { max_attempts: 1 })
        .await
        .unwrap();
    assert!(d.fell_back && d.left_out.is_empty(), "{}", d.text);
    assert!(d.text.contains("this is the offline draft"), "{}", d.text);
}

/// The three wire formats, for the cases every provider goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    OpenAi,
    Gemini,
    Bedrock,
}

impl Wire {
    const ALL: [Wire; 3] = [Wire::OpenAi, Wire::Gemini, Wire::Bedrock];

    /// A 200 answer carrying `text` in this wire's shape (Bedrock: a tool call when the text
    /// is a JSON object, else plain text, as a model that ignored the tool answers).
    fn answer(self, text: &str) -> Reply {
        match self {
            Wire::OpenAi => chat(text),
            Wire::Gemini => generate(text),
            Wire::Bedrock => match serde_json::from_str::<Value>(text) {
                Ok(v) if v.is_object() => converse(text),
                _ => Reply::Respond(
                    200,
                    vec![],
                    json!({"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": "end_turn"})
                        .to_string(),
                ),
            },
        }
    }

    fn provider(self, server: &Server) -> Box<dyn dqc_llm::Provider> {
        match self {
            Wire::OpenAi => Box::new(openai(server)),
            Wire::Gemini => Box::new(gemini(server)),
            Wire::Bedrock => Box::new(bedrock(server)),
        }
    }

    /// The text of the last turn of a request: the feedback on a retry.
    fn last_turn(self, body: &Value) -> String {
        let text = match self {
            Wire::OpenAi => body["messages"].as_array().and_then(|m| m.last()).map(|m| m["content"].clone()),
            Wire::Gemini => body["contents"].as_array().and_then(|m| m.last()).map(|m| m["parts"][0]["text"].clone()),
            Wire::Bedrock => {
                body["messages"].as_array().and_then(|m| m.last()).map(|m| m["content"][0]["text"].clone())
            }
        };
        text.and_then(|t| t.as_str().map(str::to_string)).unwrap_or_default()
    }
}

/// One scripted case: the server's replies, and what the loop must do with them.
struct Case {
    name: &'static str,
    replies: fn(Wire) -> Vec<Reply>,
    check: fn(Wire, &Result<dqc_llm::LlmDraft, dqc_llm::ProviderError>, &[Request]) -> String,
}

fn outcome(d: &Result<dqc_llm::LlmDraft, dqc_llm::ProviderError>) -> String {
    match d {
        Ok(d) if d.fell_back => format!("offline draft after {} attempt(s)", d.attempts.len()),
        Ok(d) if !d.left_out.is_empty() => {
            format!("{} rule(s) left out, {} stand-in(s)", d.left_out.len(), d.stand_ins.len())
        }
        Ok(d) => format!(
            "compiled at attempt {} ({} request(s))",
            d.attempts.len(),
            d.attempts.iter().map(|a| a.requests).sum::<u32>()
        ),
        Err(e) => format!("error: {}", e.message.chars().take(60).collect::<String>()),
    }
}

#[tokio::test]
async fn every_provider_goes_through_the_scripted_cases() {
    let cases = [
        Case {
            name: "a good answer",
            replies: |w| vec![w.answer(&answer("status"))],
            check: |_, d, r| {
                let d = d.as_ref().unwrap();
                assert!(!d.fell_back && d.attempts.len() == 1 && r.len() == 1, "{:?}", d.attempts);
                assert!(d.text.contains("status in ('NEW', 'SHIPPED')"), "{}", d.text);
                outcome(&Ok(d.clone()))
            },
        },
        Case {
            name: "JSON in prose and fences",
            replies: |w| vec![w.answer(&format!("Here it is:\n```json\n{}\n```\nDone.", answer("status")))],
            check: |_, d, _| {
                assert_eq!(d.as_ref().unwrap().attempts.len(), 1);
                outcome(d)
            },
        },
        Case {
            name: "truncated JSON",
            replies: |w| {
                let full = answer("status");
                vec![w.answer(&full[..full.len() / 2]), w.answer(&full)]
            },
            check: |w, d, r| {
                assert_eq!(d.as_ref().unwrap().attempts.len(), 2);
                assert!(w.last_turn(&r[1].body).contains("E0901"), "{}", w.last_turn(&r[1].body));
                outcome(d)
            },
        },
        Case {
            name: "wrong types",
            replies: |w| {
                let wrong = answer_with(json!({"type": "regex", "pattern": "^[0-9]+$", "because": "a guess"}));
                vec![w.answer(&wrong), w.answer(&answer("status"))]
            },
            check: |w, d, r| {
                assert_eq!(d.as_ref().unwrap().attempts.len(), 2);
                assert!(
                    w.last_turn(&r[1].body).contains("does not apply to column `id`"),
                    "{}",
                    w.last_turn(&r[1].body)
                );
                outcome(d)
            },
        },
        Case {
            name: "unknown columns",
            replies: |w| {
                let unknown = answer_with(json!({"type": "check", "expression": "amount > 0", "because": "a guess"}));
                vec![w.answer(&unknown), w.answer(&answer("status"))]
            },
            check: |w, d, r| {
                assert_eq!(d.as_ref().unwrap().attempts.len(), 2);
                assert!(w.last_turn(&r[1].body).contains("unknown column `amount`"), "{}", w.last_turn(&r[1].body));
                outcome(d)
            },
        },
        Case {
            name: "never compiles (a rule)",
            replies: |w| {
                let wrong = answer_with(json!({"type": "regex", "pattern": "^[0-9]+$", "because": "a guess"}));
                vec![w.answer(&wrong), w.answer(&wrong), w.answer(&wrong)]
            },
            check: |_, d, r| {
                let d = d.as_ref().unwrap();
                assert!(!d.fell_back && d.left_out.len() == 1 && d.stand_ins.len() == 1 && r.len() == 3, "{}", d.text);
                outcome(&Ok(d.clone()))
            },
        },
        Case {
            name: "never compiles (no JSON)",
            replies: |w| vec![w.answer("I cannot"), w.answer("I cannot"), w.answer("I cannot")],
            check: |_, d, _| {
                let d = d.as_ref().unwrap();
                assert!(d.fell_back && d.text.contains("this is the offline draft"), "{}", d.text);
                outcome(&Ok(d.clone()))
            },
        },
        Case {
            name: "429 then success",
            replies: |w| {
                vec![
                    Reply::Respond(429, vec![("retry-after".into(), "0".into())], "{}".into()),
                    w.answer(&answer("status")),
                ]
            },
            check: |_, d, r| {
                assert_eq!((d.as_ref().unwrap().attempts[0].requests, r.len()), (2, 2));
                outcome(d)
            },
        },
        Case {
            name: "500s until the retries run out",
            replies: |_| (0..6).map(|_| Reply::Respond(500, vec![], "{\"error\":\"boom\"}".into())).collect(),
            check: |_, d, r| {
                let e = d.as_ref().unwrap_err();
                assert!(
                    e.message.contains("gave up after 4 request(s)") && e.message.contains("HTTP 500"),
                    "{}",
                    e.message
                );
                assert_eq!(r.len(), 4);
                outcome(d)
            },
        },
        Case {
            name: "a hanging connection",
            replies: |w| vec![Reply::Hang, w.answer(&answer("status"))],
            check: |_, d, _| {
                assert_eq!(d.as_ref().unwrap().attempts[0].requests, 2);
                outcome(d)
            },
        },
    ];
    let mut table = String::from("| case | openai | gemini | bedrock |\n|---|---|---|---|\n");
    for case in &cases {
        let mut row = format!("| {} |", case.name);
        for wire in Wire::ALL {
            let server = Server::start((case.replies)(wire));
            let provider = wire.provider(&server);
            let d = draft(provider.as_ref(), &context(), &known(), offline_with_rules, LoopOptions { max_attempts: 3 })
                .await;
            let said = (case.check)(wire, &d, &server.requests());
            row.push_str(&format!(" {said} |"));
        }
        table.push_str(&row);
        table.push('\n');
    }
    eprintln!("{table}");
}

#[tokio::test]
async fn what_the_importer_approximates_is_said_in_the_draft() {
    let mut a: Value = serde_json::from_str(&answer("status")).unwrap();
    a["data_quality"]["columns"]["status"]["rules"] =
        json!([{"type": "allowed_values", "values": [1, 2], "because": "codes"}]);
    let server = Server::start(vec![chat(&a.to_string())]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert_eq!(d.attempts.len(), 1, "{:?}", d.attempts);
    let said: Vec<&str> = d.text.lines().filter(|l| l.starts_with("-- the importer: W0904")).collect();
    assert_eq!(said.len(), 2, "{}", d.text);
    assert!(said.iter().all(|l| l.contains("written as a string: column `status` is `string`")), "{said:?}");
    assert!(d.text.contains("status in ('1', '2')"), "{}", d.text);
}

#[tokio::test]
async fn an_approximated_rule_the_checker_refuses_goes_back_instead_of_vanishing() {
    // Numeric bounds on a text column are read as strings; the checker refuses a string range.
    let mut a: Value = serde_json::from_str(&answer("status")).unwrap();
    a["data_quality"]["columns"]["status"]["rules"] =
        json!([{"type": "range", "min": 0, "max": 10, "because": "a guess"}]);
    let server = Server::start(vec![chat(&a.to_string()), chat(&answer("status"))]);
    let d = draft(&openai(&server), &context(), &known(), offline, LoopOptions::default()).await.unwrap();
    assert_eq!(d.attempts.len(), 2, "{:?}", d.attempts);
    let feedback = server.requests()[1].body["messages"][3]["content"].as_str().unwrap().to_string();
    assert!(feedback.contains("a range rule does not apply to column `status`"), "{feedback}");
}
