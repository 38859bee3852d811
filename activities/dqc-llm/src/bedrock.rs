//! Amazon Bedrock: the Converse API (`POST {endpoint}/model/{modelId}/converse`), signed with
//! SigV4 from the AWS SDK's credentials chain (environment, profile, SSO, container and
//! instance roles). The answer's JSON Schema is the input schema of one tool the model must
//! call (`toolChoice`), which is how Converse asks for structured output.

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use serde_json::{json, Value};

use crate::openai::short;
use crate::provider::{post_signed, Completion, CompletionFuture, Message, Provider, ProviderError, RetryPolicy, Role};

/// The tool whose input is the draft.
pub const TOOL: &str = "contract_draft";

/// The signing name of Bedrock's runtime endpoints.
const SERVICE: &str = "bedrock";

/// A Bedrock runtime endpoint.
#[derive(Debug, Clone)]
pub struct Bedrock {
    /// The endpoint, such as `https://bedrock-runtime.us-east-1.amazonaws.com`.
    pub endpoint: String,
    /// The region requests are signed for.
    pub region: String,
    /// The model or inference profile id (an ARN works too).
    pub model: String,
    /// Where credentials come from; asked again for every answer, so refreshed credentials
    /// (roles, SSO) are used as they rotate.
    pub credentials: SharedCredentialsProvider,
    /// Longest answer, in tokens.
    pub max_tokens: u32,
    /// Timeouts and retries.
    pub policy: RetryPolicy,
    /// The HTTP client.
    pub client: reqwest::Client,
}

impl Bedrock {
    /// A provider for `model` with the region and credentials of the standard AWS
    /// configuration chain. The endpoint is `endpoint`, else `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`
    /// or `AWS_ENDPOINT_URL`, else the region's public endpoint.
    pub async fn from_environment(
        model: String,
        endpoint: Option<String>,
        policy: RetryPolicy,
        client: reqwest::Client,
    ) -> Result<Bedrock, ProviderError> {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| ProviderError {
            message: "bedrock: no AWS region: set AWS_REGION or a region in the AWS profile".to_string(),
        })?;
        let credentials = config.credentials_provider().ok_or_else(|| ProviderError {
            message: "bedrock: no AWS credentials provider is configured".to_string(),
        })?;
        let endpoint = endpoint
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_BEDROCK_RUNTIME").ok().filter(|e| !e.is_empty()))
            .or_else(|| config.endpoint_url().map(str::to_string))
            .unwrap_or_else(|| format!("https://bedrock-runtime.{region}.amazonaws.com"));
        Ok(Bedrock { endpoint, region, model, credentials, max_tokens: 8192, policy, client })
    }

    /// The Converse request for `messages`: system messages become `system`, the model's
    /// earlier answers `assistant` turns (as text, so no tool result is owed), and the schema
    /// the input of the one tool the model is made to call.
    pub fn body(&self, messages: &[Message], schema: &Value) -> Value {
        let system: Vec<Value> =
            messages.iter().filter(|m| m.role == Role::System).map(|m| json!({"text": m.content})).collect();
        let turns: Vec<Value> = messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| {
                let role = if m.role == Role::Assistant { "assistant" } else { "user" };
                json!({"role": role, "content": [{"text": m.content}]})
            })
            .collect();
        json!({
            "system": system,
            "messages": turns,
            "inferenceConfig": {"temperature": 0, "maxTokens": self.max_tokens},
            "toolConfig": {
                "tools": [{"toolSpec": {
                    "name": TOOL,
                    "description": "Submit the drafted data contract of the table.",
                    "inputSchema": {"json": schema}
                }}],
                "toolChoice": {"tool": {"name": TOOL}}
            }
        })
    }

    /// The Converse URL: the model id is one path segment, percent-encoded (ids carry `:`,
    /// ARNs `/`).
    pub fn url(&self) -> String {
        let segment: String = self
            .model
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("{}/model/{segment}/converse", self.endpoint.trim_end_matches('/'))
    }
}

/// The SigV4 headers (`authorization`, `x-amz-date`, and `x-amz-security-token` with
/// temporary credentials) of a POST of `body` to `url`.
pub fn sigv4_headers(
    credentials: &Credentials,
    region: &str,
    url: &str,
    body: &[u8],
    time: std::time::SystemTime,
) -> Result<Vec<(String, String)>, ProviderError> {
    let failed =
        |e: &dyn std::fmt::Display| ProviderError { message: format!("bedrock: cannot sign the request: {e}") };
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let headers = [("content-type", "application/json")];
    let request =
        SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body)).map_err(|e| failed(&e))?;
    let (instructions, _) = sign(request, &params).map_err(|e| failed(&e))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

impl Provider for Bedrock {
    fn name(&self) -> &str {
        "bedrock"
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn complete<'a>(&'a self, messages: &'a [Message], schema: &'a Value) -> CompletionFuture<'a> {
        Box::pin(async move {
            let credentials = self.credentials.provide_credentials().await.map_err(|e| ProviderError {
                message: format!("bedrock: no AWS credentials from the credentials chain: {e}"),
            })?;
            let url = self.url();
            let signer =
                |body: &[u8]| sigv4_headers(&credentials, &self.region, &url, body, std::time::SystemTime::now());
            let (answer, requests) =
                post_signed(&self.client, "bedrock", &url, &signer, &self.body(messages, schema), &self.policy).await?;
            let content =
                answer.pointer("/output/message/content").and_then(Value::as_array).ok_or_else(|| ProviderError {
                    message: format!("bedrock: the answer has no output.message.content: {}", short(&answer)),
                })?;
            // The tool's input is the draft; a model that answered in text instead is read as
            // text (the importer finds JSON in prose). An empty answer goes back like any
            // answer that does not compile.
            let text = content
                .iter()
                .find_map(|c| c.pointer("/toolUse/input").map(Value::to_string))
                .unwrap_or_else(|| content.iter().filter_map(|c| c.get("text").and_then(Value::as_str)).collect());
            let tokens = |k: &str| answer.pointer(&format!("/usage/{k}")).and_then(Value::as_u64).unwrap_or(0);
            Ok(Completion {
                text,
                prompt_tokens: tokens("inputTokens"),
                completion_tokens: tokens("outputTokens"),
                requests,
            })
        })
    }
}
