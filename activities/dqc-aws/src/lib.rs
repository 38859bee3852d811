//! The AWS adapters of the ports: the Glue Data Catalog ([`GlueCatalog`]), Athena
//! ([`AthenaEngine`]), S3 ([`S3Store`]), DynamoDB ([`DynamoMetadata`]) and SNS ([`SnsNotifier`]).
//!
//! The ports stay synchronous: an activity is a short sequence of calls, and the same code runs
//! on the embedded engine. Each adapter blocks on the SDK's futures through an [`Exec`]: its own
//! runtime in the CLI, or the Lambda runtime's handle from a blocking thread.
//!
//! Region, credentials and `AWS_ENDPOINT_URL` come from the standard AWS configuration chain.
//! Retries are the SDK's own (standard mode: exponential backoff with jitter, a bounded number
//! of attempts) with bounded timeouts; what is left after them is mapped to the stable error
//! names: throttling, 5xx, timeouts and dropped connections are `DqcRetryable`, everything else
//! (missing objects, access denied, invalid SQL) `DqcNonRetryable`, naming the object.

mod athena;
mod dynamodb;
mod glue;
mod s3;
mod sfn;
mod sns;

use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use dqc_activities::Error;

pub use athena::{athena_literal, athena_value, AthenaEngine, AthenaOptions};
pub use dynamodb::DynamoMetadata;
pub use glue::GlueCatalog;
pub use s3::S3Store;
pub use sfn::SfnTaskTokens;
pub use sns::SnsNotifier;

/// Where the adapters run their futures.
#[derive(Debug, Clone)]
pub enum Exec {
    /// A handle to a runtime owned elsewhere (the Lambda runtime's), used from a blocking thread.
    Handle(tokio::runtime::Handle),
    /// A runtime of the adapters' own (the CLI).
    Owned(std::sync::Arc<tokio::runtime::Runtime>),
}

impl Exec {
    /// A small runtime of its own.
    pub fn owned() -> Result<Exec, Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::fatal(format!("cannot start the async runtime: {e}")))?;
        Ok(Exec::Owned(std::sync::Arc::new(rt)))
    }

    /// Runs a future to completion. Must not be called from inside an async task.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        match self {
            Exec::Handle(h) => h.block_on(f),
            Exec::Owned(rt) => rt.block_on(f),
        }
    }
}

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct Connect {
    /// An endpoint for every service (an emulator); `AWS_ENDPOINT_URL` works too.
    pub endpoint_url: Option<String>,
    /// The region [default: the configuration chain's].
    pub region: Option<String>,
    /// Attempts per call, the first included [default: 4].
    pub max_attempts: Option<u32>,
    /// The longest a call may take, retries included [default: 60 s].
    pub operation_timeout: Option<Duration>,
    /// The longest one attempt may take [default: 20 s].
    pub attempt_timeout: Option<Duration>,
    /// Static keys (an emulator's) instead of the credentials chain.
    pub static_keys: Option<(String, String)>,
}

/// The loaded configuration, shared by the adapters' clients.
#[derive(Debug, Clone)]
pub struct Aws {
    pub exec: Exec,
    pub config: SdkConfig,
    /// Whether S3 is addressed by path (emulators), not by virtual host.
    pub path_style: bool,
}

impl Aws {
    /// Loads the configuration chain (environment, profile, container and instance credentials).
    pub fn connect(exec: Exec, c: &Connect) -> Aws {
        let config = exec.block_on(load(c));
        Aws { exec, path_style: path_style(c), config }
    }

    /// The same from inside an async context (the Lambda runtime): the adapters will block on
    /// `handle` from blocking threads.
    pub async fn connect_async(handle: tokio::runtime::Handle, c: &Connect) -> Aws {
        let config = load(c).await;
        Aws { exec: Exec::Handle(handle), path_style: path_style(c), config }
    }
}

fn path_style(c: &Connect) -> bool {
    c.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some()
}

async fn load(c: &Connect) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(c.max_attempts.unwrap_or(4))
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(5));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(c.attempt_timeout.unwrap_or(Duration::from_secs(20)))
        .operation_timeout(c.operation_timeout.unwrap_or(Duration::from_secs(60)))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry).timeout_config(timeouts);
    if let Some(url) = &c.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(r) = &c.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some((id, secret)) = &c.static_keys {
        loader =
            loader.credentials_provider(aws_sdk_s3::config::Credentials::new(id, secret, None, None, "dqc-static"));
    }
    loader.load().await
}

/// Maps an SDK error to a stable error name, naming what was being done.
pub fn sdk_error<E, R>(what: &str, e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match e {
        SdkError::TimeoutError(_) => Error::retryable(format!("{what}: timed out")),
        SdkError::DispatchFailure(d) => Error::retryable(format!("{what}: the request could not be sent ({d:?})")),
        SdkError::ResponseError(_) => Error::retryable(format!("{what}: the answer could not be read")),
        SdkError::ServiceError(s) => {
            let err = s.err();
            let code = err.code().unwrap_or("Unknown");
            let message = err.message().unwrap_or_default();
            let status = s.raw().status_code();
            let text = format!("{what}: {code} (HTTP {status}): {message}");
            if status >= 500 || status == 429 || throttling(code) {
                Error::retryable(text)
            } else {
                Error::fatal(text)
            }
        }
        other => Error::fatal(format!("{what}: {}", aws_smithy_types::error::display::DisplayErrorContext(other))),
    }
}

/// The HTTP status of a raw response.
pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Error codes AWS services use for throttling.
pub fn throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "TransactionInProgressException"
            | "RequestLimitExceeded"
            | "BandwidthLimitExceeded"
            | "LimitExceededException"
            | "RequestThrottled"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "EC2ThrottledException"
    )
}
