//! The query engine on Athena: `StartQueryExecution` with every value in
//! `ExecutionParameters` (never spliced into the SQL), polling with capped exponential backoff,
//! `StopQueryExecution` past the deadline, and paginated `GetQueryResults` converted to typed
//! values from the result metadata.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use dqc_activities::ports::{Param, Rows};
use dqc_activities::{Error, QueryEngine};
use dqc_codegen::sql::Dialect;
use serde_json::{json, Value};

use crate::{sdk_error, Aws, Exec};

/// Where and how queries run.
#[derive(Debug, Clone)]
pub struct AthenaOptions {
    /// The work group.
    pub work_group: String,
    /// Where Athena writes results (`s3://...`) [default: the work group's setting].
    pub output_location: Option<String>,
    /// The database unqualified names resolve in.
    pub database: Option<String>,
    /// The first wait between two looks at a running query; it doubles up to `max_poll`.
    pub first_poll: Duration,
    pub max_poll: Duration,
    /// A query running longer is stopped (`StopQueryExecution`) and the call fails as retryable.
    pub deadline: Duration,
}

impl Default for AthenaOptions {
    fn default() -> Self {
        AthenaOptions {
            work_group: "primary".into(),
            output_location: None,
            database: None,
            first_poll: Duration::from_millis(200),
            max_poll: Duration::from_secs(5),
            deadline: Duration::from_secs(30 * 60),
        }
    }
}

/// Runs SQL on Athena.
#[derive(Debug)]
pub struct AthenaEngine {
    exec: Exec,
    client: aws_sdk_athena::Client,
    pub options: AthenaOptions,
    scanned: AtomicU64,
}

/// A text parameter as the SQL literal Athena's `ExecutionParameters` take: `'it''s'`.
pub fn athena_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// One value of a result row, typed by its column's Athena type: numbers as numbers (NaN and
/// the infinities as the strings `NaN`, `Infinity`, `-Infinity`, as the embedded engine gives
/// them), booleans as booleans, decimals, dates, timestamps and text as strings; an absent
/// datum is NULL, an empty one the empty string. An array of numbers (Athena writes
/// `[1.5, 2.0, null]`, as `approx_percentile` answers) is a JSON array; other arrays, whose
/// text elements Athena does not quote, stay the text Athena wrote.
pub fn athena_value(ty: &str, datum: Option<&str>) -> Value {
    let Some(text) = datum else { return Value::Null };
    let ty = ty.to_ascii_lowercase();
    match ty.as_str() {
        t if t == "array" || t.starts_with("array(") || t.starts_with("array<") => {
            number_array(text).map_or_else(|| json!(text), Value::Array)
        }
        "tinyint" | "smallint" | "integer" | "int" | "bigint" => {
            text.parse::<i64>().map_or_else(|_| json!(text), |n| json!(n))
        }
        "double" | "float" | "real" => match text.parse::<f64>() {
            Ok(f) if f.is_finite() => json!(f),
            Ok(f) if f.is_nan() => json!("NaN"),
            Ok(f) if f > 0.0 => json!("Infinity"),
            Ok(_) => json!("-Infinity"),
            Err(_) => json!(text),
        },
        "boolean" => match text {
            "true" => json!(true),
            "false" => json!(false),
            other => json!(other),
        },
        _ => json!(text),
    }
}

/// The elements of an Athena array of numbers (`[1.5, 2.0, null]`), or `None` when any element
/// is not a number or `null`.
fn number_array(text: &str) -> Option<Vec<Value>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?.trim();
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner
        .split(',')
        .map(|e| match e.trim() {
            "null" => Some(Value::Null),
            n => athena_value("double", Some(n)).is_number().then(|| athena_value("double", Some(n))),
        })
        .collect()
}

impl AthenaEngine {
    pub fn new(aws: &Aws, options: AthenaOptions) -> AthenaEngine {
        AthenaEngine {
            exec: aws.exec.clone(),
            client: aws_sdk_athena::Client::new(&aws.config),
            options,
            scanned: AtomicU64::new(0),
        }
    }

    async fn run(&self, sql: &str, params: &[Param]) -> Result<Rows, Error> {
        let o = &self.options;
        let mut start = self.client.start_query_execution().query_string(sql).work_group(&o.work_group);
        if !params.is_empty() {
            start =
                start.set_execution_parameters(Some(params.iter().map(|Param::Text(t)| athena_literal(t)).collect()));
        }
        if let Some(db) = &o.database {
            start = start.query_execution_context(QueryExecutionContext::builder().database(db).build());
        }
        if let Some(out) = &o.output_location {
            start = start.result_configuration(ResultConfiguration::builder().output_location(out).build());
        }
        let started = start.send().await.map_err(|e| sdk_error("starting an Athena query", &e))?;
        let id = started.query_execution_id().unwrap_or_default().to_owned();
        let began = Instant::now();
        let mut wait = o.first_poll;
        loop {
            let out = self
                .client
                .get_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(|e| sdk_error(&format!("polling Athena query {id}"), &e))?;
            let execution = out.query_execution();
            let status = execution.and_then(|q| q.status());
            if let Some(bytes) = execution.and_then(|q| q.statistics()).and_then(|s| s.data_scanned_in_bytes()) {
                if matches!(
                    status.and_then(|s| s.state()),
                    Some(QueryExecutionState::Succeeded | QueryExecutionState::Failed)
                ) {
                    self.scanned.fetch_add(u64::try_from(bytes).unwrap_or(0), Ordering::Relaxed);
                }
            }
            match status.and_then(|s| s.state()) {
                Some(QueryExecutionState::Succeeded) => break,
                Some(QueryExecutionState::Failed) => {
                    let reason = status.and_then(|s| s.state_change_reason()).unwrap_or("no reason given");
                    let error = status.and_then(|s| s.athena_error());
                    // Athena's error category 1 is a system error, 2 a user error (SQL, permissions).
                    let retryable = error.is_some_and(|e| e.retryable() || e.error_category() == Some(1));
                    let text = format!("Athena query {id} failed: {reason}");
                    return Err(if retryable { Error::retryable(text) } else { Error::fatal(text) });
                }
                Some(QueryExecutionState::Cancelled) => {
                    return Err(Error::fatal(format!("Athena query {id} was cancelled")))
                }
                _ => {}
            }
            if began.elapsed() >= o.deadline {
                let _ = self.client.stop_query_execution().query_execution_id(&id).send().await;
                return Err(Error::retryable(format!(
                    "Athena query {id} ran longer than {} s and was stopped",
                    o.deadline.as_secs()
                )));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(o.max_poll);
        }
        let mut pages = self.client.get_query_results().query_execution_id(&id).into_paginator().send();
        let mut columns: Vec<(String, String)> = Vec::new();
        let mut rows = Vec::new();
        let mut first = true;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&format!("reading the results of Athena query {id}"), &e))?;
            let Some(set) = page.result_set() else { continue };
            if columns.is_empty() {
                if let Some(meta) = set.result_set_metadata() {
                    columns = meta.column_info().iter().map(|c| (c.name().to_owned(), c.r#type().to_owned())).collect();
                }
            }
            for (i, row) in set.rows().iter().enumerate() {
                let data = row.data();
                // The first row of a SELECT's first page repeats the column names.
                if first
                    && i == 0
                    && data.len() == columns.len()
                    && data.iter().zip(&columns).all(|(d, (n, _))| d.var_char_value() == Some(n))
                {
                    continue;
                }
                rows.push(data.iter().zip(&columns).map(|(d, (_, ty))| athena_value(ty, d.var_char_value())).collect());
            }
            first = false;
        }
        Ok(Rows { columns: columns.into_iter().map(|(n, _)| n).collect(), rows })
    }
}

impl QueryEngine for AthenaEngine {
    fn dialect(&self) -> &dyn Dialect {
        &dqc_codegen::sql::Athena
    }

    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, Error> {
        self.exec.block_on(self.run(sql, params))
    }

    /// Bytes scanned by every query so far, from each query's statistics: what the runs cost.
    fn bytes_scanned(&self) -> Option<u64> {
        Some(self.scanned.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::athena_value;
    use serde_json::json;

    #[test]
    fn values_are_typed_by_their_column() {
        assert_eq!(athena_value("bigint", Some("-7")), json!(-7));
        assert_eq!(athena_value("double", Some("NaN")), json!("NaN"));
        assert_eq!(athena_value("double", Some("-Infinity")), json!("-Infinity"));
        assert_eq!(athena_value("varchar", Some("")), json!(""));
        assert_eq!(athena_value("varchar", None), json!(null));
        assert_eq!(athena_value("boolean", Some("false")), json!(false));
        assert_eq!(athena_value("decimal", Some("12.50")), json!("12.50"));
    }

    #[test]
    fn arrays_of_numbers_are_arrays_and_other_arrays_stay_text() {
        assert_eq!(athena_value("array", Some("[1.5, 2.0E3, null]")), json!([1.5, 2000.0, null]));
        assert_eq!(athena_value("array", Some("[]")), json!([]));
        assert_eq!(athena_value("array", Some("[a, b, c]")), json!("[a, b, c]"));
        assert_eq!(athena_value("array", Some("[1.0, NaN]")), json!("[1.0, NaN]"));
    }
}
