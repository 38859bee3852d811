//! The events the activities take and the answers they give, as Rust types: the handlers read
//! and write JSON through them, and their JSON Schemas ([`schemas`]) document each function for
//! the state machines and for anyone invoking a function by hand.
//!
//! Fields the workflow carries along for later steps are allowed beside these (an event is not
//! refused for a field it does not use); missing fields and fields of the wrong type are refused
//! with `DqcNonRetryable`, naming the field.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `dqc-profile`: profile a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProfileEvent {
    /// The table, `database.table`.
    pub table: String,
}

/// The answer of `dqc-profile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProfileAnswer {
    pub table: String,
    /// The artifact key of the profile (`onboarding/<table>/profile.json`).
    pub profile_key: String,
    pub row_count: u64,
}

/// `dqc-summarize`: summarize the Glue job script that writes the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SummarizeEvent {
    pub table: String,
    /// The artifact key of the script; absent or `null` when no job is known.
    #[serde(default)]
    pub script_key: Option<String>,
}

/// The answer of `dqc-summarize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SummarizeAnswer {
    pub table: String,
    /// The artifact key of the job summary (`null` without a script).
    pub summary_key: Option<String>,
}

/// `dqc-context`: build the drafting context from the profile and the job summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContextEvent {
    pub table: String,
    pub profile_key: String,
    #[serde(default)]
    pub summary_key: Option<String>,
}

/// The answer of `dqc-context`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContextAnswer {
    pub table: String,
    pub context_key: String,
}

/// `dqc-draft`: draft a contract, or take one already in the artifact store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DraftEvent {
    pub table: String,
    #[serde(default)]
    pub context_key: Option<String>,
    /// A draft imported into the artifact store: used as it is.
    #[serde(default)]
    pub draft_key: Option<String>,
    /// The compiler's diagnostics of the previous attempt (`null` on the first).
    #[serde(default)]
    pub diagnostics: Option<Vec<String>>,
    /// The attempt's number, from 1.
    #[serde(default)]
    pub attempt: Option<u64>,
}

/// The answer of `dqc-draft`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DraftAnswer {
    pub table: String,
    pub draft_key: String,
}

/// `dqc-compile`: check a draft with the published contracts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CompileEvent {
    pub table: String,
    pub draft_key: String,
}

/// The answer of `dqc-compile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CompileAnswer {
    pub table: String,
    pub draft_key: String,
    /// Whether the draft checks.
    pub ok: bool,
    /// The contract's content hash when it checks.
    pub contract_hash: Option<String>,
    /// The errors, each with its code and line.
    pub diagnostics: Vec<String>,
}

/// `dqc-request-approval`: record an approval request and notify the approvers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestApprovalEvent {
    pub table: String,
    pub draft_key: String,
    pub contract_hash: String,
    /// The Step Functions task token; kept in the metadata store, never sent to approvers.
    pub task_token: String,
    /// The workflow's execution.
    #[serde(default)]
    pub execution: Option<String>,
    /// Who asked for the approval [default: the onboarding workflow].
    #[serde(default)]
    pub requester: Option<String>,
    /// Who may decide (`null`: nobody named).
    #[serde(default)]
    pub approvers: Option<Vec<String>>,
}

/// The answer of `dqc-request-approval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestApprovalAnswer {
    /// The approval record's sort key (`approval#<hash>`).
    pub approval_id: String,
}

/// `dqc-publish`: publish an approved draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PublishEvent {
    pub table: String,
    pub draft_key: String,
    /// The hash that was approved: a draft that changed since is not published.
    pub contract_hash: String,
    /// The decision, as the approval step returned it; kept in the approval record.
    #[serde(default)]
    pub approval: Option<Value>,
}

/// The answer of `dqc-publish`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PublishAnswer {
    pub table: String,
    /// The published version: the contract's hash.
    pub version: String,
    /// The artifact key of the version (`contracts/<table>/<hash>.json`).
    pub contract_key: String,
}

/// `dqc-list-contracts`: takes any object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ListContractsEvent {}

/// The answer of `dqc-list-contracts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ListContractsAnswer {
    /// Every published contract's table, `database.table`.
    pub tables: Vec<String>,
}

/// `dqc-run-suite`: run a table's post-load suite and file its results and stats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunSuiteEvent {
    pub table: String,
    /// The date the records are filed under, `YYYY-MM-DD`.
    pub date: String,
    /// The time freshness is measured against, `YYYY-MM-DD HH:MM:SS` UTC [default: now].
    #[serde(default)]
    pub run_time: Option<String>,
}

/// A failed or warned rule of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailedRule {
    pub id: String,
    /// `error` or `warn`.
    pub severity: String,
    pub violations: u64,
}

/// The answer of `dqc-run-suite` when the run passes. A failed error-severity rule is the
/// error `DqcContractViolation` instead, naming the failing rules and the results record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunSuiteAnswer {
    pub table: String,
    pub date: String,
    pub passed: bool,
    pub row_count: u64,
    pub failed_rules: Vec<FailedRule>,
    pub results_key: String,
    /// `null` when the schema check stopped the run.
    pub stats_key: Option<String>,
}

/// An error answer, as Lambda returns it and the state machines `Retry` and `Catch` on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorAnswer {
    /// `DqcRetryable`, `DqcNonRetryable` or `DqcContractViolation`.
    pub error_type: String,
    pub error_message: String,
}

fn pair<I: JsonSchema, O: JsonSchema>(function: &str) -> Value {
    serde_json::json!({
        "function": function,
        "input": schemars::schema_for!(I),
        "output": schemars::schema_for!(O),
        "error": schemars::schema_for!(ErrorAnswer),
    })
}

/// Each function's input, output and error schemas, by function name.
pub fn schemas() -> BTreeMap<&'static str, Value> {
    BTreeMap::from([
        ("dqc-profile", pair::<ProfileEvent, ProfileAnswer>("dqc-profile")),
        ("dqc-summarize", pair::<SummarizeEvent, SummarizeAnswer>("dqc-summarize")),
        ("dqc-context", pair::<ContextEvent, ContextAnswer>("dqc-context")),
        ("dqc-draft", pair::<DraftEvent, DraftAnswer>("dqc-draft")),
        ("dqc-compile", pair::<CompileEvent, CompileAnswer>("dqc-compile")),
        ("dqc-request-approval", pair::<RequestApprovalEvent, RequestApprovalAnswer>("dqc-request-approval")),
        ("dqc-publish", pair::<PublishEvent, PublishAnswer>("dqc-publish")),
        ("dqc-list-contracts", pair::<ListContractsEvent, ListContractsAnswer>("dqc-list-contracts")),
        ("dqc-run-suite", pair::<RunSuiteEvent, RunSuiteAnswer>("dqc-run-suite")),
    ])
}
