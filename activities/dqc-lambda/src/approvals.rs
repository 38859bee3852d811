//! The approval service as a Lambda function behind a function URL (or API Gateway's HTTP
//! API): the same `axum` application as `dqc approvals serve`, under `lambda_http`, with the
//! approval records in DynamoDB, the reviews in S3 and the decisions sent to Step Functions.
//!
//! Environment: `DQC_ARTIFACT_BUCKET` (and `DQC_ARTIFACT_PREFIX`), `DQC_METADATA_TABLE`,
//! `DQC_APPROVAL_KEYS` (the keyring's JSON; the template resolves it from Secrets Manager),
//! and `DQC_AWS_ENDPOINT_URL` for an emulator.

use std::sync::Arc;

use dqc_activities::approval::Keyring;
use dqc_activities::{ArtifactStore, MetadataStore, TaskTokens};
use dqc_approvals::{router, Approvals};
use dqc_aws::{Aws, Connect, DynamoMetadata, S3Store, SfnTaskTokens};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn need(name: &str) -> Result<String, String> {
    var(name).ok_or_else(|| format!("the environment variable {name} is not set"))
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let keyring = Keyring::from_json(&need("DQC_APPROVAL_KEYS")?).map_err(|e| e.message)?;
    let artifacts = format!("s3://{}/{}", need("DQC_ARTIFACT_BUCKET")?, var("DQC_ARTIFACT_PREFIX").unwrap_or_default());
    let table = need("DQC_METADATA_TABLE")?;
    let connect = Connect { endpoint_url: var("DQC_AWS_ENDPOINT_URL"), ..Connect::default() };
    let aws = Aws::connect_async(tokio::runtime::Handle::current(), &connect).await;
    let state = Arc::new(Approvals {
        metadata: Arc::new(DynamoMetadata::new(&aws, &table)) as Arc<dyn MetadataStore + Send + Sync>,
        store: Arc::new(S3Store::new(&aws, &artifacts).map_err(|e| e.message)?) as Arc<dyn ArtifactStore + Send + Sync>,
        tokens: Arc::new(SfnTaskTokens::new(&aws)) as Arc<dyn TaskTokens + Send + Sync>,
        keyring,
        clock: Arc::new(|| jiff::Timestamp::now().as_second()),
    });
    lambda_http::run(router(state)).await
}
