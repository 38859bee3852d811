//! Any OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI, Ollama, vLLM, ...):
//! `POST {base}/chat/completions` with the answer's JSON Schema as `response_format`.

use serde_json::{json, Value};

use crate::provider::{post_json, Completion, CompletionFuture, Message, Provider, ProviderError, RetryPolicy, Role};

/// An OpenAI-compatible endpoint.
#[derive(Debug, Clone)]
pub struct OpenAi {
    /// The API base, such as `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// The model.
    pub model: String,
    /// The bearer token, if the endpoint needs one.
    pub api_key: Option<String>,
    /// Timeouts and retries.
    pub policy: RetryPolicy,
    /// The HTTP client.
    pub client: reqwest::Client,
}

impl OpenAi {
    /// The request body for `messages`.
    pub fn body(&self, messages: &[Message], schema: &Value) -> Value {
        let messages: Vec<Value> = messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                json!({"role": role, "content": m.content})
            })
            .collect();
        json!({
            "model": self.model,
            "temperature": 0,
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "contract_draft", "schema": schema, "strict": false}
            }
        })
    }
}

impl Provider for OpenAi {
    fn name(&self) -> &str {
        "openai"
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn complete<'a>(&'a self, messages: &'a [Message], schema: &'a Value) -> CompletionFuture<'a> {
        Box::pin(async move {
            let url = format!("{}/chat/completions", self.base_url.trim_end_matches('/'));
            let headers: Vec<(&str, String)> =
                self.api_key.iter().map(|k| ("authorization", format!("Bearer {k}"))).collect();
            let (answer, requests) =
                post_json(&self.client, "openai", &url, &headers, &self.body(messages, schema), &self.policy).await?;
            let message = answer.pointer("/choices/0/message").ok_or_else(|| ProviderError {
                message: format!("openai: the answer has no choices[0].message: {}", short(&answer)),
            })?;
            // A refusal or an empty answer is an answer that does not compile: the loop sends
            // it back, and falls back to the offline draft if it never does.
            let text = message
                .get("content")
                .and_then(Value::as_str)
                .or_else(|| message.get("refusal").and_then(Value::as_str))
                .unwrap_or_default()
                .to_string();
            let tokens = |k: &str| answer.pointer(&format!("/usage/{k}")).and_then(Value::as_u64).unwrap_or(0);
            Ok(Completion {
                text,
                prompt_tokens: tokens("prompt_tokens"),
                completion_tokens: tokens("completion_tokens"),
                requests,
            })
        })
    }
}

pub(crate) fn short(v: &Value) -> String {
    let text = v.to_string();
    text.chars().take(200).collect()
}
