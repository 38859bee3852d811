//! The notifier on SNS: one message per notification on a topic.

use dqc_activities::handlers::Notifier;
use dqc_activities::Error;

use crate::{sdk_error, Aws, Exec};

/// Publishes to one SNS topic.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    exec: Exec,
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(aws: &Aws, topic_arn: &str) -> SnsNotifier {
        SnsNotifier {
            exec: aws.exec.clone(),
            client: aws_sdk_sns::Client::new(&aws.config),
            topic_arn: topic_arn.to_owned(),
        }
    }

    /// Publishes a message; returns its id.
    pub fn publish(&self, subject: &str, message: &str) -> Result<String, Error> {
        // SNS subjects are at most 100 characters of one line.
        let subject: String = subject.lines().next().unwrap_or_default().chars().take(100).collect();
        let request = self.client.publish().topic_arn(&self.topic_arn).subject(subject).message(message);
        let out = self
            .exec
            .block_on(request.send())
            .map_err(|e| sdk_error(&format!("publishing to {}", self.topic_arn), &e))?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }
}

impl Notifier for SnsNotifier {
    fn notify(&self, subject: &str, message: &str) -> Result<(), Error> {
        self.publish(subject, message).map(|_| ())
    }
}
