//! Athena's answers for the tests, computed on the embedded engine: the queries an activity
//! sends to Athena, run over a lake folder by DuckDB (Trino's functions shimmed by macros), each
//! recorded with its answer in order, to queue in the emulator's Athena as the results of the
//! same queries sent by the AWS adapter.

#![allow(dead_code, reason = "each test binary uses part of the support")]

use std::path::Path;

/// Athena's answers, computed on the embedded engine: Athena's SQL (Trino's functions shimmed
/// by DuckDB macros) run over the lake, each query and its answer recorded in order.
pub struct AthenaOnDuckDb {
    pub inner: dqc_local::DuckEngine,
    pub seen: std::cell::RefCell<Vec<(String, Vec<String>, dqc_activities::Rows)>>,
}

impl AthenaOnDuckDb {
    pub fn over(lake: &Path) -> AthenaOnDuckDb {
        let inner = dqc_local::DuckEngine::over_lake(lake).unwrap();
        inner
            .execute(
                "CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p);\n\
                 CREATE MACRO is_nan(x) AS isnan(x);\n\
                 CREATE MACRO approx_distinct(x) AS count(DISTINCT x);\n\
                 CREATE MACRO approx_percentile(x, fs) AS quantile_cont(x, fs);",
            )
            .unwrap();
        AthenaOnDuckDb { inner, seen: std::cell::RefCell::default() }
    }
}

impl dqc_activities::QueryEngine for AthenaOnDuckDb {
    fn dialect(&self) -> &dyn dqc_codegen::sql::Dialect {
        &dqc_codegen::sql::Athena
    }

    fn query(
        &self,
        sql: &str,
        params: &[dqc_activities::ports::Param],
    ) -> Result<dqc_activities::Rows, dqc_activities::Error> {
        let rows = self.inner.query(sql, params)?;
        let params = params.iter().map(|dqc_activities::ports::Param::Text(t)| t.clone()).collect();
        self.seen.borrow_mut().push((sql.to_owned(), params, rows.clone()));
        Ok(rows)
    }
}

/// A result set as Athena answers it (every datum a string, typed by the result metadata), to
/// queue in moto: what Athena would return for the same query over the same data.
pub fn as_athena(rows: &dqc_activities::Rows) -> serde_json::Value {
    use serde_json::{json, Value};
    let ty = |i: usize| {
        let mut kinds = rows.rows.iter().map(|r| match &r[i] {
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_f64() => "double",
            Value::Number(_) => "bigint",
            Value::Array(_) => "array",
            _ => "varchar",
        });
        let first = kinds.next().unwrap_or("varchar");
        // A column of whole numbers and fractions is a double column.
        if kinds.any(|k| k != first) && first == "bigint" {
            "double"
        } else {
            first
        }
    };
    let datum = |v: &Value| match v {
        Value::Null => json!({}),
        Value::String(s) => json!({"VarCharValue": s}),
        Value::Array(items) => {
            let items: Vec<String> =
                items.iter().map(|i| if i.is_null() { "null".into() } else { i.to_string() }).collect();
            json!({"VarCharValue": format!("[{}]", items.join(", "))})
        }
        other => json!({"VarCharValue": other.to_string()}),
    };
    let header: Vec<Value> = rows.columns.iter().map(|c| json!({"VarCharValue": c})).collect();
    let mut data = vec![json!({"Data": header})];
    data.extend(rows.rows.iter().map(|r| json!({"Data": r.iter().map(datum).collect::<Vec<_>>()})));
    let info: Vec<Value> = rows
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"Name": c, "Label": c, "Type": ty(i), "Nullable": "UNKNOWN", "CaseSensitive": true}))
        .collect();
    json!({"rows": data, "column_info": info})
}
