//! Providers behind one trait, and the HTTP discipline they share: timeouts, retries of 429,
//! 5xx, timeouts and dropped connections with backoff (honouring `Retry-After`), and a total
//! deadline after which a provider that keeps failing is a clear error.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions.
    System,
    /// The drafting request and compiler feedback.
    User,
    /// An earlier answer of the model.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: String,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The text of the answer.
    pub text: String,
    /// Tokens of the prompt, as the provider counts them.
    pub prompt_tokens: u64,
    /// Tokens of the answer.
    pub completion_tokens: u64,
    /// HTTP requests made for this answer (retries included).
    pub requests: u32,
}

/// Why a provider gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// What happened, naming the provider and the last status or error.
    pub message: String,
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The future of a completion.
pub type CompletionFuture<'a> = Pin<Box<dyn Future<Output = Result<Completion, ProviderError>> + Send + 'a>>;

/// An LLM that answers a conversation with JSON in the shape of `schema`.
pub trait Provider: Send + Sync {
    /// The provider's name, as recorded in a draft's provenance (`openai`, `gemini`).
    fn name(&self) -> &str;
    /// The model asked.
    fn model(&self) -> &str;
    /// Asks for one answer.
    fn complete<'a>(&'a self, messages: &'a [Message], schema: &'a Value) -> CompletionFuture<'a>;
}

/// Timeouts and retries of provider requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Longest wait for one response.
    pub request_timeout: Duration,
    /// First delay between tries; it doubles each time.
    pub base_delay: Duration,
    /// Longest delay between tries (and longest `Retry-After` honoured).
    pub max_delay: Duration,
    /// Most requests for one answer.
    pub max_requests: u32,
    /// Longest time for one answer, retries included.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            request_timeout: Duration::from_secs(120),
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_requests: 6,
            deadline: Duration::from_secs(300),
        }
    }
}

/// Posts `body` to `url` until a 2xx answer, following `policy`; returns the JSON answer and
/// the number of requests made.
pub(crate) async fn post_json(
    client: &reqwest::Client,
    provider: &str,
    url: &str,
    headers: &[(&str, String)],
    body: &Value,
    policy: &RetryPolicy,
) -> Result<(Value, u32), ProviderError> {
    post_signed(
        client,
        provider,
        url,
        &|_| Ok(headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()),
        body,
        policy,
    )
    .await
}

/// Headers computed for each request from the exact bytes of its body (a signature).
pub(crate) type Signer<'a> = &'a (dyn Fn(&[u8]) -> Result<Vec<(String, String)>, ProviderError> + Sync);

/// [`post_json`] with headers computed for each request by `sign` (each retry is signed anew,
/// so a signature never outlives its clock skew window).
pub(crate) async fn post_signed(
    client: &reqwest::Client,
    provider: &str,
    url: &str,
    sign: Signer<'_>,
    body: &Value,
    policy: &RetryPolicy,
) -> Result<(Value, u32), ProviderError> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| ProviderError { message: format!("{provider}: the request could not be written: {e}") })?;
    let started = Instant::now();
    let mut delay = policy.base_delay;
    let mut requests = 0;
    loop {
        requests += 1;
        // No request outlives the deadline.
        let left = policy.deadline.saturating_sub(started.elapsed()).max(Duration::from_millis(1));
        let mut request = client
            .post(url)
            .timeout(policy.request_timeout.min(left))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes.clone());
        for (name, value) in sign(&bytes)? {
            request = request.header(name, value);
        }
        let (failure, retry_after) = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
                match response.text().await {
                    Err(e) => (format!("HTTP {status}, but the body could not be read: {e}"), None),
                    Ok(text) if status.is_success() => {
                        return serde_json::from_str(&text).map(|v| (v, requests)).map_err(|e| ProviderError {
                            message: format!("{provider}: the answer is not JSON ({e}): {}", excerpt(&text)),
                        });
                    }
                    Ok(text) if status.as_u16() != 429 && !status.is_server_error() => {
                        return Err(ProviderError {
                            message: format!("{provider}: HTTP {status}: {}", excerpt(&text)),
                        });
                    }
                    Ok(text) => (format!("HTTP {status}: {}", excerpt(&text)), retry_after),
                }
            }
            Err(e) if e.is_timeout() => (format!("no answer within {:?}", policy.request_timeout.min(left)), None),
            Err(e) => (format!("request failed: {e}"), None),
        };
        let wait = retry_after.unwrap_or(delay).min(policy.max_delay);
        if requests >= policy.max_requests || started.elapsed() + wait > policy.deadline {
            return Err(ProviderError {
                message: format!(
                    "{provider}: gave up after {requests} request(s) in {:.1} s; last: {failure}",
                    started.elapsed().as_secs_f64()
                ),
            });
        }
        tokio::time::sleep(wait).await;
        delay = (delay * 2).min(policy.max_delay);
    }
}

/// The wait a `Retry-After` value asks for: delay-seconds, or an HTTP date (RFC 9110,
/// section 10.2.3) measured from `now`; a date in the past asks for no wait.
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.as_millisecond().saturating_sub(now.as_millisecond());
    Some(Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
}

/// The start of a response body, for error messages.
fn excerpt(text: &str) -> String {
    let short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        format!("{short}...")
    } else {
        short
    }
}
