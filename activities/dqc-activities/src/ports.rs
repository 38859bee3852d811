//! Ports: the small interfaces activities need from the outside world.

use serde::Serialize;

/// The stable error names that Step Functions Retry/Catch clauses match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorKind {
    /// Worth retrying: throttling, timeouts, a busy engine.
    Retryable,
    /// Retrying will not help: bad input, missing table, SQL the engine rejects.
    NonRetryable,
    /// The data violates its contract (an error-severity rule failed).
    ContractViolation,
}

impl ErrorKind {
    /// The name as Step Functions sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Retryable => "DqcRetryable",
            ErrorKind::NonRetryable => "DqcNonRetryable",
            ErrorKind::ContractViolation => "DqcContractViolation",
        }
    }
}

/// An activity error: a stable kind and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// For retry decisions.
    pub kind: ErrorKind,
    /// What went wrong, with the object involved.
    pub message: String,
}

impl Error {
    /// A non-retryable error.
    pub fn fatal(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::NonRetryable, message: message.into() }
    }

    /// A retryable error.
    pub fn retryable(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Retryable, message: message.into() }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

/// A query parameter value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Param {
    /// Bound as text and cast by the query (`CAST(? AS DATE)`).
    Text(String),
}

/// A result set: column names and rows of JSON values (numbers, strings, booleans, null).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rows {
    /// Column names in order.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl Rows {
    /// The value of `column` in the first row.
    pub fn first(&self, column: &str) -> Option<&serde_json::Value> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.rows.first()?.get(i)
    }

    /// Rows as JSON objects keyed by column name.
    pub fn objects(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.rows.iter().map(|r| self.columns.iter().cloned().zip(r.iter().cloned()).collect()).collect()
    }
}

/// Runs SQL in the engine's dialect.
pub trait QueryEngine {
    /// The dialect the engine speaks.
    fn dialect(&self) -> &dyn dqc_codegen::sql::Dialect;
    /// Runs one query with positional parameters.
    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, Error>;
    /// Bytes scanned by every query so far, where the engine bills by them (Athena); `None`
    /// for engines that do not.
    fn bytes_scanned(&self) -> Option<u64> {
        None
    }
    /// Whether the engine answers `sql` from metadata (file footers, table statistics) without
    /// reading any table data, so it costs next to nothing. `false` when the engine cannot tell.
    fn answers_from_metadata(&self, _sql: &str) -> bool {
        false
    }
}

/// Stores artifacts under keys with the layout of the artifact bucket
/// (`contracts/<table>.json`, `results/<table>/<date>.json`, ...).
pub trait ArtifactStore {
    /// Writes atomically: readers see the old or the new contents, never a mix.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), Error>;
    /// Reads, or `None` when the key does not exist.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    /// Keys under a prefix, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, Error>;
    /// Writes only when the key does not exist yet (immutable, content-addressed objects).
    /// Returns false when it already existed.
    fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<bool, Error>;
}

/// A table as a catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogTable {
    /// Database.
    pub database: String,
    /// Table.
    pub table: String,
    /// Data columns, then partition columns, in catalog order.
    pub columns: Vec<crate::profile::SchemaColumn>,
    /// The partition columns' names.
    pub partition_keys: Vec<String>,
    /// Where the data lives (`s3://...` or a local folder), when the catalog says.
    pub location: Option<String>,
}

/// Reads table definitions: Glue Data Catalog on AWS, a lake folder locally.
pub trait Catalog {
    /// Every table, as `database.table`, sorted.
    fn tables(&self) -> Result<Vec<String>, Error>;
    /// One table's definition, or `None` when the catalog does not have it.
    fn table(&self, database: &str, table: &str) -> Result<Option<CatalogTable>, Error>;
}

/// Small records addressed by a partition key and a sort key (a DynamoDB table on AWS): which
/// contract version is current, what each run found.
pub trait MetadataStore {
    /// Writes an item, replacing the one with the same keys; readers never see a partial item.
    fn put(&self, pk: &str, sk: &str, item: &serde_json::Value) -> Result<(), Error>;
    /// Reads an item, or `None` when there is none.
    fn get(&self, pk: &str, sk: &str) -> Result<Option<serde_json::Value>, Error>;
    /// The items of a partition whose sort key starts with `sk_prefix`, sorted by sort key.
    fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<(String, serde_json::Value)>, Error>;
    /// Writes an item only when none has these keys yet (a decision or a run record is written
    /// once); false when one existed. Two writers racing: exactly one gets true.
    fn put_if_absent(&self, pk: &str, sk: &str, item: &serde_json::Value) -> Result<bool, Error>;
}

/// Answers the task tokens of waiting workflow steps: Step Functions on AWS
/// (`SendTaskSuccess`, `SendTaskFailure`), the local runner's token store on one machine.
pub trait TaskTokens {
    /// Completes the waiting step with `output`.
    fn send_success(&self, token: &str, output: &serde_json::Value) -> Result<(), Error>;
    /// Fails the waiting step with `error` and `cause`.
    fn send_failure(&self, token: &str, error: &str, cause: &str) -> Result<(), Error>;
}

/// What an LLM drafter is given for one draft.
#[derive(Debug, Clone, Copy)]
pub struct DraftRequest<'a> {
    /// The drafting context (the seed's context shape).
    pub context: &'a serde_json::Value,
    /// The published contracts the draft is checked with (its foreign keys' targets).
    pub known: &'a [dqc_compiler::Source],
    /// The offline draft: where the LLM's rules never compile, it stands in.
    pub offline: &'a str,
    /// The compiler's words on the previous attempt's draft, checked with the published
    /// contracts (empty on the first attempt).
    pub feedback: &'a [String],
}

/// Drafts a contract with an LLM (the `dqc-llm` loop: ask, check, send the diagnostics back,
/// fall back to the offline draft). Its answer is the contract text headed by its provenance.
pub trait Drafter: Send + Sync {
    /// The provider and model, as a draft's provenance names them.
    fn describe(&self) -> String;
    /// One draft. A provider that keeps failing is an error, never a half-written draft.
    fn draft(&self, request: DraftRequest<'_>) -> Result<String, Error>;
}
