//! A loopback LLM endpoint for the CLI tests: it answers scripted bodies, one per request, on
//! 127.0.0.1 and records each request (its head and body).

#![allow(dead_code, reason = "each test binary uses part of it")]

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request line and headers, as sent.
    pub head: String,
    /// The body.
    pub body: String,
}

impl Seen {
    /// The value of header `name` (case-insensitive), or "".
    pub fn header(&self, name: &str) -> String {
        self.head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// Serves `answers` (200 JSON bodies) to one request each; the base URL and the requests.
pub fn loopback_llm(answers: Vec<String>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (stream, answer) in listener.incoming().zip(answers) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut head, mut length) = (String::new(), 0);
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock().unwrap().push(Seen { head, body: String::from_utf8_lossy(&body).to_string() });
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, seen)
}

/// A chat-completions answer whose content is `contract`.
pub fn chat(contract: &serde_json::Value) -> String {
    serde_json::json!({
        "choices": [{"message": {"role": "assistant", "content": contract.to_string()}}],
        "usage": {"prompt_tokens": 321, "completion_tokens": 54}
    })
    .to_string()
}

/// A dim_customer draft in the seed's shape; `segment_rule` is the rule on `segment`.
pub fn dim_customer(segment_rule: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "data_quality": {
            "table_name": "analytics_db.dim_customer",
            "columns": {
                "customer_id": {"type": "string", "nullable": false, "rules": [{"type": "unique", "because": "profile: unique"}]},
                "name": {"type": "string", "nullable": true, "rules": []},
                "email": {"type": "string", "nullable": true, "rules": [{"type": "regex", "pattern": "^[^@]+@[^@]+$", "because": "profile: emails"}]},
                "segment": {"type": "string", "nullable": true, "rules": [segment_rule]}
            }
        }
    })
}
