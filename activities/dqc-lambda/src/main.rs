//! The dqc activities as AWS Lambda functions (`provided.al2023`): one `bootstrap` binary,
//! the activity chosen by `DQC_ACTIVITY` (`dqc-profile`, ..., `dqc-run-suite`).
//!
//! The handler runs the activity over the AWS adapters: the Glue Data Catalog (the databases of
//! `DQC_GLUE_DATABASES`), Athena (`DQC_ATHENA_WORKGROUP`, `DQC_ATHENA_OUTPUT`), S3
//! (`DQC_ARTIFACT_BUCKET`, under `DQC_ARTIFACT_PREFIX`), DynamoDB (`DQC_METADATA_TABLE`) and
//! SNS (`DQC_NOTIFICATION_TOPIC_ARN`); the drafting function drafts with an LLM when
//! `DQC_LLM_PROVIDER` is set (`dqc_llm::Settings::from_env`). Errors leave as `{errorType, errorMessage}` with the
//! stable names (`DqcRetryable`, `DqcNonRetryable`, `DqcContractViolation`) that the state
//! machines' `Retry` and `Catch` match.

use std::sync::Arc;

use dqc_activities::handlers::{self, Notifier, Services, FUNCTIONS};
use dqc_aws::{AthenaEngine, AthenaOptions, Aws, Connect, DynamoMetadata, GlueCatalog, S3Store, SnsNotifier};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

/// What the function works on, from its environment.
#[derive(Debug, Clone)]
struct Settings {
    activity: String,
    artifacts: String,
    metadata_table: String,
    work_group: String,
    athena_output: Option<String>,
    databases: Option<Vec<String>>,
    topic_arn: Option<String>,
    /// Approval links: the service's URL and the keyring (`DQC_APPROVAL_URL`,
    /// `DQC_APPROVAL_KEYS`, the keyring's JSON, resolved from Secrets Manager by the template).
    approvals: Option<dqc_activities::approval::LinkSigner>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Settings {
    fn from_env() -> Result<Settings, String> {
        let need = |name: &str| var(name).ok_or_else(|| format!("the environment variable {name} is not set"));
        let activity = need("DQC_ACTIVITY")?;
        if !FUNCTIONS.contains(&activity.as_str()) {
            return Err(format!("DQC_ACTIVITY `{activity}` is not an activity ({})", FUNCTIONS.join(", ")));
        }
        let bucket = need("DQC_ARTIFACT_BUCKET")?;
        let prefix = var("DQC_ARTIFACT_PREFIX").unwrap_or_default();
        Ok(Settings {
            activity,
            artifacts: format!("s3://{bucket}/{prefix}"),
            metadata_table: need("DQC_METADATA_TABLE")?,
            work_group: var("DQC_ATHENA_WORKGROUP").unwrap_or_else(|| "primary".into()),
            athena_output: var("DQC_ATHENA_OUTPUT"),
            databases: var("DQC_GLUE_DATABASES")
                .map(|d| d.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()),
            topic_arn: var("DQC_NOTIFICATION_TOPIC_ARN"),
            approvals: match (var("DQC_APPROVAL_URL"), var("DQC_APPROVAL_KEYS")) {
                (Some(base_url), Some(keys)) => Some(dqc_activities::approval::LinkSigner {
                    base_url,
                    keyring: dqc_activities::approval::Keyring::from_json(&keys).map_err(|e| e.message)?,
                    ttl_seconds: 7 * 24 * 3600,
                }),
                _ => None,
            },
        })
    }
}

/// A notifier for functions that have no topic: they must not notify.
struct NoTopic;

impl Notifier for NoTopic {
    fn notify(&self, subject: &str, _message: &str) -> Result<(), dqc_activities::Error> {
        Err(dqc_activities::Error::fatal(format!(
            "no notification topic is configured (DQC_NOTIFICATION_TOPIC_ARN) to send `{subject}`"
        )))
    }
}

fn diagnostic(e: dqc_activities::Error) -> Diagnostic {
    Diagnostic { error_type: e.kind.as_str().to_owned(), error_message: e.message }
}

/// Runs one activity call on a blocking thread (the adapters block on the SDK's futures).
fn run(
    settings: &Settings,
    aws: &Aws,
    drafter: Option<&dqc_llm::LoopDrafter>,
    event: &Value,
) -> Result<Value, dqc_activities::Error> {
    let store = S3Store::new(aws, &settings.artifacts)?;
    let metadata = DynamoMetadata::new(aws, &settings.metadata_table);
    let mut catalog = GlueCatalog::new(aws);
    catalog.databases.clone_from(&settings.databases);
    let options = AthenaOptions {
        work_group: settings.work_group.clone(),
        output_location: settings.athena_output.clone(),
        ..AthenaOptions::default()
    };
    let engine = AthenaEngine::new(aws, options);
    let sns = settings.topic_arn.as_deref().map(|t| SnsNotifier::new(aws, t));
    let notifier: &dyn Notifier = match &sns {
        Some(n) => n,
        None => &NoTopic,
    };
    let services = Services {
        catalog: &catalog,
        engine: &engine,
        store: &store,
        metadata: &metadata,
        notifier,
        approvals: settings.approvals.as_ref(),
        drafter: drafter.map(|d| d as &dyn dqc_activities::ports::Drafter),
    };
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%d %H:%M:%S").to_string();
    handlers::handle(&settings.activity, event, &services, &now)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let settings = Arc::new(Settings::from_env()?);
    let connect = Connect { endpoint_url: var("DQC_AWS_ENDPOINT_URL"), ..Connect::default() };
    let aws = Arc::new(Aws::connect_async(tokio::runtime::Handle::current(), &connect).await);
    // The drafting function's LLM (DQC_LLM_PROVIDER and the rest); offline when unset.
    let drafter = match dqc_llm::Settings::from_env(var)? {
        Some(llm) => {
            let provider = llm.provider().await.map_err(|e| e.message)?;
            let options = dqc_llm::LoopOptions { max_attempts: llm.attempts };
            Some(dqc_llm::LoopDrafter::new(provider, options, tokio::runtime::Handle::current()))
        }
        None => None,
    };
    let drafter = Arc::new(drafter);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (settings, aws, drafter) = (Arc::clone(&settings), Arc::clone(&aws), Arc::clone(&drafter));
        async move {
            let payload = event.payload;
            match tokio::task::spawn_blocking(move || run(&settings, &aws, drafter.as_ref().as_ref(), &payload)).await {
                Ok(result) => result.map_err(diagnostic),
                Err(e) => Err(Diagnostic {
                    error_type: "DqcRetryable".into(),
                    error_message: format!("the activity's thread failed: {e}"),
                }),
            }
        }
    }))
    .await
}
