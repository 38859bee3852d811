//! Task resources: which ARNs the local runner can call, how each integration's parameters
//! and answers are shaped (Lambda, SNS, Athena), and the validation of a definition against
//! the activities at hand.

use serde_json::{json, Value};

use crate::definition::{Kind, Machine};
use crate::{Activities, CallInfo, Failure};

/// What a `Task` state's `Resource` calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A Lambda function ARN: the effective input is the event, the function's answer the result.
    Function(String),
    /// `arn:aws:states:::lambda:invoke`: `Parameters` has `FunctionName` and `Payload`.
    LambdaInvoke {
        wait: bool,
    },
    /// `arn:aws:states:::sns:publish`.
    SnsPublish {
        wait: bool,
    },
    /// `arn:aws:states:::athena:startQueryExecution` (with `.sync`, the runner's only mode:
    /// the query runs to completion) and `arn:aws:states:::athena:getQueryResults`.
    AthenaStart,
    AthenaResults,
}

impl Resource {
    pub fn parse(arn: &str) -> Result<Resource, String> {
        if let Some(rest) = arn.strip_prefix("arn:aws:states:::") {
            return match rest {
                "lambda:invoke" => Ok(Resource::LambdaInvoke { wait: false }),
                "lambda:invoke.waitForTaskToken" => Ok(Resource::LambdaInvoke { wait: true }),
                "sns:publish" => Ok(Resource::SnsPublish { wait: false }),
                "sns:publish.waitForTaskToken" => Ok(Resource::SnsPublish { wait: true }),
                "athena:startQueryExecution.sync" | "athena:startQueryExecution" => Ok(Resource::AthenaStart),
                "athena:getQueryResults" => Ok(Resource::AthenaResults),
                other => Err(format!(
                    "the service integration `{other}` is not supported by the local runner \
                     (it runs lambda:invoke, lambda:invoke.waitForTaskToken, sns:publish, \
                     athena:startQueryExecution.sync, athena:getQueryResults and Lambda function ARNs)"
                )),
            };
        }
        if arn.starts_with("arn:aws:lambda:") {
            return function_name(arn)
                .map(Resource::Function)
                .ok_or_else(|| format!("`{arn}` is not a Lambda function ARN"));
        }
        if arn.contains(":activity:") {
            return Err(format!(
                "`{arn}` is a Step Functions activity; activity workers are not supported by the local runner"
            ));
        }
        Err(format!("`{arn}` is not a resource the local runner knows (a Lambda function ARN or arn:aws:states:::SERVICE:ACTION)"))
    }

    pub(crate) fn waits(&self) -> bool {
        matches!(self, Resource::LambdaInvoke { wait: true } | Resource::SnsPublish { wait: true })
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Resource::Function(_) | Resource::LambdaInvoke { .. } => "lambda",
            Resource::SnsPublish { .. } => "sns",
            Resource::AthenaStart | Resource::AthenaResults => "athena",
        }
    }
}

/// The function name in a Lambda function ARN (or a bare name), without a version or alias.
pub fn function_name(arn: &str) -> Option<String> {
    if !arn.starts_with("arn:") {
        return (!arn.is_empty() && !arn.contains(':')).then(|| arn.to_owned());
    }
    let parts: Vec<&str> = arn.split(':').collect();
    (parts.len() >= 7 && parts[2] == "lambda" && parts[5] == "function" && !parts[6].is_empty())
        .then(|| parts[6].to_owned())
}

fn lambda_failure(f: Failure) -> Failure {
    if f.error.starts_with("States.") {
        return f;
    }
    let cause = json!({"errorMessage": f.cause, "errorType": f.error}).to_string();
    Failure::new(f.error, cause)
}

pub(crate) fn call_resource(
    activities: &dyn Activities,
    res: &Resource,
    params: Value,
    info: &CallInfo<'_>,
) -> Result<Value, Failure> {
    match res {
        Resource::Function(f) => activities.invoke(f, params, info).map_err(lambda_failure),
        Resource::LambdaInvoke { .. } => {
            let target = params.get("FunctionName").and_then(Value::as_str).unwrap_or_default();
            let Some(function) = function_name(target) else {
                return Err(Failure::new(
                    "States.Runtime",
                    format!("`FunctionName` must name a Lambda function, not `{target}`"),
                ));
            };
            if !activities.has_function(&function) {
                return Err(Failure::new("Lambda.ResourceNotFoundException", format!("Function not found: {target}")));
            }
            let payload = params.get("Payload").cloned().unwrap_or_else(|| json!({}));
            let out = activities.invoke(&function, payload, info).map_err(lambda_failure)?;
            Ok(json!({
                "ExecutedVersion": "$LATEST",
                "Payload": out,
                "SdkHttpMetadata": {"HttpStatusCode": 200},
                "SdkResponseMetadata": {},
                "StatusCode": 200,
            }))
        }
        Resource::SnsPublish { .. } => {
            let topic = params
                .get("TopicArn")
                .and_then(Value::as_str)
                .ok_or_else(|| Failure::new("States.Runtime", "sns:publish needs `TopicArn`"))?;
            let message = match params.get("Message") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(Failure::new("States.Runtime", "sns:publish needs `Message`")),
            };
            let subject = params.get("Subject").and_then(Value::as_str);
            let id = activities.publish(topic, subject, &message)?;
            Ok(json!({"MessageId": id, "SdkHttpMetadata": {"HttpStatusCode": 200}, "SdkResponseMetadata": {}}))
        }
        Resource::AthenaStart => activities.athena_start_query(&params),
        Resource::AthenaResults => activities.athena_query_results(&params),
    }
}

/// Validates a definition for this runner: the States Language rules, and every resource
/// and Lambda function a task names exists here.
pub fn validate(json: &Value, activities: &dyn Activities) -> Result<Machine, Vec<crate::definition::Invalid>> {
    let check = |arn: &str| -> Result<(), String> {
        match Resource::parse(arn)? {
            Resource::Function(f) if !activities.has_function(&f) => {
                Err(format!("no Lambda function `{f}` is known to the local runner"))
            }
            _ => Ok(()),
        }
    };
    let machine = crate::definition::parse(json, &check)?;
    let mut problems = Vec::new();
    check_function_names(&machine, &[], activities, &mut problems);
    if problems.is_empty() {
        Ok(machine)
    } else {
        Err(problems)
    }
}

fn check_function_names(
    m: &Machine,
    scope: &[String],
    activities: &dyn Activities,
    problems: &mut Vec<crate::definition::Invalid>,
) {
    for s in m.states.values() {
        let mut inner = scope.to_vec();
        inner.push(s.name.clone());
        match &s.kind {
            Kind::Task { work, resource, .. }
                if matches!(Resource::parse(resource), Ok(Resource::LambdaInvoke { .. })) =>
            {
                let static_name = work.parameters.as_ref().and_then(|p| p.field("FunctionName"));
                let problem = match static_name {
                    None => Some("lambda:invoke needs `FunctionName` in `Parameters`".to_owned()),
                    Some(None) => None,
                    Some(Some(f)) => match function_name(f) {
                        Some(n) if activities.has_function(&n) => None,
                        Some(n) => Some(format!("no Lambda function `{n}` is known to the local runner")),
                        None => Some(format!("`{f}` is not a Lambda function name or ARN")),
                    },
                };
                if let Some(message) = problem {
                    problems.push(crate::definition::Invalid {
                        state: Some(inner.join(" > ")),
                        field: Some("Parameters.FunctionName".into()),
                        message,
                    });
                }
            }
            Kind::Parallel { branches, .. } => {
                for (i, b) in branches.iter().enumerate() {
                    let mut s2 = inner.clone();
                    s2.push(format!("Branches[{i}]"));
                    check_function_names(b, &s2, activities, problems);
                }
            }
            Kind::Map { processor, .. } => check_function_names(processor, &inner, activities, problems),
            _ => {}
        }
    }
}
