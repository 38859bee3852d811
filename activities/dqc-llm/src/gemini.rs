//! Google Gemini: `POST {base}/models/{model}:generateContent` with the answer's JSON Schema as
//! `generationConfig.responseJsonSchema`, the key in `x-goog-api-key`.

use serde_json::{json, Value};

use crate::openai::short;
use crate::provider::{post_json, Completion, CompletionFuture, Message, Provider, ProviderError, RetryPolicy, Role};

/// A Gemini endpoint.
#[derive(Debug, Clone)]
pub struct Gemini {
    /// The API base, such as `https://generativelanguage.googleapis.com/v1beta`.
    pub base_url: String,
    /// The model, such as `gemini-2.5-flash`.
    pub model: String,
    /// The API key.
    pub api_key: Option<String>,
    /// Timeouts and retries.
    pub policy: RetryPolicy,
    /// The HTTP client.
    pub client: reqwest::Client,
}

impl Gemini {
    /// The request body for `messages`: system messages become the system instruction, the
    /// model's earlier answers the `model` turns.
    pub fn body(&self, messages: &[Message], schema: &Value) -> Value {
        let system: Vec<Value> =
            messages.iter().filter(|m| m.role == Role::System).map(|m| json!({"text": m.content})).collect();
        let contents: Vec<Value> = messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| {
                let role = if m.role == Role::Assistant { "model" } else { "user" };
                json!({"role": role, "parts": [{"text": m.content}]})
            })
            .collect();
        json!({
            "systemInstruction": {"parts": system},
            "contents": contents,
            "generationConfig": {
                "temperature": 0,
                "responseMimeType": "application/json",
                "responseJsonSchema": schema
            }
        })
    }
}

impl Provider for Gemini {
    fn name(&self) -> &str {
        "gemini"
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn complete<'a>(&'a self, messages: &'a [Message], schema: &'a Value) -> CompletionFuture<'a> {
        Box::pin(async move {
            let url = format!("{}/models/{}:generateContent", self.base_url.trim_end_matches('/'), self.model);
            let headers: Vec<(&str, String)> = self.api_key.iter().map(|k| ("x-goog-api-key", k.clone())).collect();
            let (answer, requests) =
                post_json(&self.client, "gemini", &url, &headers, &self.body(messages, schema), &self.policy).await?;
            if answer.pointer("/candidates/0").is_none() {
                return Err(ProviderError {
                    message: format!("gemini: the answer has no candidates: {}", short(&answer)),
                });
            }
            // A blocked or truncated answer (no parts) is an answer that does not compile.
            let text: String = answer
                .pointer("/candidates/0/content/parts")
                .and_then(Value::as_array)
                .map(|parts| parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect())
                .unwrap_or_default();
            let tokens = |k: &str| answer.pointer(&format!("/usageMetadata/{k}")).and_then(Value::as_u64).unwrap_or(0);
            Ok(Completion {
                text,
                prompt_tokens: tokens("promptTokenCount"),
                completion_tokens: tokens("candidatesTokenCount"),
                requests,
            })
        })
    }
}
