//! Task tokens on Step Functions: `SendTaskSuccess` and `SendTaskFailure`, the approval
//! service's answer to the onboarding workflow's waiting approval step.

use dqc_activities::{Error, TaskTokens};
use serde_json::Value;

use crate::{sdk_error, Aws, Exec};

/// Answers task tokens of the state machines the caller's role may answer.
#[derive(Debug, Clone)]
pub struct SfnTaskTokens {
    exec: Exec,
    client: aws_sdk_sfn::Client,
}

impl SfnTaskTokens {
    pub fn new(aws: &Aws) -> SfnTaskTokens {
        SfnTaskTokens { exec: aws.exec.clone(), client: aws_sdk_sfn::Client::new(&aws.config) }
    }
}

/// Step Functions limits an error name to 256 characters and a cause to 32,768.
fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

impl TaskTokens for SfnTaskTokens {
    /// An unknown, answered or timed-out token (`InvalidToken`, `TaskDoesNotExist`,
    /// `TaskTimedOut`) is `DqcNonRetryable`; throttling and 5xx are `DqcRetryable`.
    fn send_success(&self, token: &str, output: &Value) -> Result<(), Error> {
        let request = self.client.send_task_success().task_token(token).output(output.to_string());
        self.exec.block_on(request.send()).map_err(|e| sdk_error("answering the workflow's task token", &e))?;
        Ok(())
    }

    fn send_failure(&self, token: &str, error: &str, cause: &str) -> Result<(), Error> {
        let request =
            self.client.send_task_failure().task_token(token).error(clip(error, 256)).cause(clip(cause, 32_768));
        self.exec.block_on(request.send()).map_err(|e| sdk_error("answering the workflow's task token", &e))?;
        Ok(())
    }
}
