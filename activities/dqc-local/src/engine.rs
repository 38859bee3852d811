//! DuckDB as the query engine.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dqc_activities::ports::Param;
use dqc_activities::{Error, QueryEngine, Rows};
use dqc_codegen::sql::{Dialect, DuckDb};
use duckdb::Connection;

use crate::lake::{LakeTable, TableFormat};
use crate::value::to_json;

/// An in-process DuckDB database.
pub struct DuckEngine {
    conn: Connection,
    /// Lake tables that could not be registered, by `database.table`, with the reason.
    unreadable: BTreeMap<String, String>,
    /// The reader of each CSV table registered, by `database.table`.
    csv_readers: BTreeMap<String, String>,
}

impl std::fmt::Debug for DuckEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DuckEngine")
    }
}

/// Runs `f`, the execution of `sql`; with `DQC_TRACE_SQL` set in the environment, prints the
/// statement and its wall time on standard error.
pub(crate) fn traced<T>(sql: &str, f: impl FnOnce() -> T) -> T {
    if std::env::var_os("DQC_TRACE_SQL").is_none() {
        return f();
    }
    let started = std::time::Instant::now();
    let out = f();
    eprintln!("-- {:.3} s\n{}\n", started.elapsed().as_secs_f64(), sql.trim());
    out
}

fn engine_error(e: duckdb::Error) -> Error {
    Error::fatal(format!("duckdb: {e}"))
}

/// A path as a DuckDB string literal.
pub fn path_literal(p: &str) -> String {
    DuckDb.string_literal(p)
}

impl DuckEngine {
    /// The operators of the plan DuckDB chose for `sql` (`EXPLAIN (FORMAT json)`), one per
    /// line in tree order, each indented two spaces per level below the root.
    pub fn plan(&self, sql: &str) -> Result<Vec<String>, Error> {
        fn walk(node: &serde_json::Value, depth: usize, out: &mut Vec<String>) {
            if let Some(name) = node["name"].as_str() {
                out.push(format!("{}{}", "  ".repeat(depth), name.trim()));
            }
            for child in node["children"].as_array().into_iter().flatten() {
                walk(child, depth + 1, out);
            }
        }
        let rows = self.query_now(&format!("EXPLAIN (FORMAT json) {sql}"), &[])?;
        let mut out = Vec::new();
        for text in rows.rows.iter().filter_map(|r| r.last().and_then(|v| v.as_str())) {
            let roots: serde_json::Value =
                serde_json::from_str(text).map_err(|e| Error::fatal(format!("an unreadable plan: {e}")))?;
            for root in roots.as_array().into_iter().flatten() {
                walk(root, 0, &mut out);
            }
        }
        Ok(out)
    }

    /// An empty in-memory database.
    pub fn in_memory() -> Result<Self, Error> {
        Ok(DuckEngine {
            conn: connect().map_err(engine_error)?,
            unreadable: BTreeMap::new(),
            csv_readers: BTreeMap::new(),
        })
    }

    /// Runs statements that return nothing.
    pub fn execute(&self, sql: &str) -> Result<(), Error> {
        traced(sql, || self.conn.execute_batch(sql)).map_err(engine_error)
    }

    /// Registers lake tables as views `"<database>"."<table>"` over their files. A table whose
    /// files cannot be read is left out and remembered (see [`DuckEngine::unreadable`]).
    pub fn register(&mut self, tables: &[LakeTable]) -> Result<(), Error> {
        for t in tables {
            let reader = match t.format {
                TableFormat::Parquet => {
                    format!("read_parquet({}, hive_partitioning = {})", path_literal(&t.glob()), t.hive_partitioned)
                }
                TableFormat::Csv => format!(
                    "read_csv({}, header = true, hive_partitioning = {})",
                    path_literal(&t.glob()),
                    t.hive_partitioned
                ),
            };
            let registered = self.execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {db};\nCREATE OR REPLACE VIEW {db}.{tbl} AS SELECT * FROM {reader};",
                db = DuckDb.quote_ident(&t.database),
                tbl = DuckDb.quote_ident(&t.table),
            ));
            match registered {
                Err(e) => {
                    self.unreadable.insert(format!("{}.{}", t.database, t.table), e.message);
                }
                Ok(()) if t.format == TableFormat::Csv => {
                    self.csv_readers.insert(format!("{}.{}", t.database, t.table), reader);
                }
                Ok(()) => {}
            }
        }
        Ok(())
    }

    /// Reads a CSV table once into an in-memory table in place of its view, so a suite of
    /// many queries parses the text once rather than once per query (Parquet is cheap to read
    /// again and stays where it is). Returns whether the table was CSV.
    pub fn read_csv_once(&self, qualified: &str) -> Result<bool, Error> {
        let Some(reader) = self.csv_readers.get(qualified) else { return Ok(false) };
        let Some((database, table)) = qualified.split_once('.') else { return Ok(false) };
        let name = format!("{}.{}", DuckDb.quote_ident(database), DuckDb.quote_ident(table));
        self.execute(&format!("DROP VIEW IF EXISTS {name};\nCREATE TABLE {name} AS SELECT * FROM {reader};"))?;
        Ok(true)
    }

    /// Why a lake table could not be registered, if it could not.
    pub fn unreadable(&self, qualified: &str) -> Option<&str> {
        self.unreadable.get(qualified).map(String::as_str)
    }

    /// Runs a query whose first column is text and hands each value to `f`, streaming.
    pub fn for_each_text(&self, sql: &str, mut f: impl FnMut(&str) -> Result<(), Error>) -> Result<(), Error> {
        let mut stmt = self.conn.prepare(sql).map_err(engine_error)?;
        let mut rows = stmt.query([]).map_err(engine_error)?;
        while let Some(row) = rows.next().map_err(engine_error)? {
            let text: Option<String> = row.get(0).map_err(engine_error)?;
            f(text.as_deref().unwrap_or(""))?;
        }
        Ok(())
    }

    /// Runs `work` while a thread reports DuckDB's query progress (a percentage of the running
    /// query, polled every 100 ms) to `progress` as a phase named `label` out of 100.
    pub fn with_progress<T>(&self, label: &str, progress: &dyn crate::Progress, work: impl FnOnce(&Self) -> T) -> T {
        if self.conn.set_query_progress_tracking(true).is_err() {
            return work(self);
        }
        progress.percent_phase(label);
        let handle = self.conn.progress_handle();
        let done = AtomicBool::new(false);
        let stop = &done;
        let out = std::thread::scope(|s| {
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    if let Some(pct) = handle.query_progress().percentage() {
                        // Each query of the work starts again from 0; the bar shows the current one.
                        progress.set(pct.clamp(0.0, 100.0) as u64);
                    }
                }
            });
            let out = work(self);
            done.store(true, Ordering::Relaxed);
            out
        });
        progress.finish();
        let _ = self.conn.set_query_progress_tracking(false);
        out
    }

    /// Opens an in-memory database with every table of `lake` registered.
    pub fn over_lake(lake: &Path) -> Result<Self, Error> {
        let mut engine = Self::in_memory()?;
        engine.register(&crate::lake::discover(lake)?)?;
        Ok(engine)
    }

    /// Runs a query and collects its rows as JSON values.
    fn query_now(&self, sql: &str, params: &[Param]) -> Result<Rows, Error> {
        let mut stmt = self.conn.prepare(sql).map_err(engine_error)?;
        let values: Vec<String> = params.iter().map(|Param::Text(t)| t.clone()).collect();
        let mut rows = stmt.query(duckdb::params_from_iter(values.iter())).map_err(engine_error)?;
        let mut out = Vec::new();
        let mut width = 0;
        while let Some(row) = rows.next().map_err(engine_error)? {
            if width == 0 {
                width = row.as_ref().column_count();
            }
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(to_json(row.get::<_, duckdb::types::Value>(i).map_err(engine_error)?));
            }
            out.push(values);
        }
        drop(rows);
        let columns = stmt.column_names();
        Ok(Rows { columns, rows: out })
    }
}

/// The operators of a DuckDB plan (`EXPLAIN (FORMAT json)`) that produce rows without reading
/// a table: constants, and aggregates the optimizer answered from statistics.
const NO_DATA_OPERATORS: [&str; 5] =
    ["COLUMN_DATA_SCAN", "DUMMY_SCAN", "EMPTY_RESULT", "PROJECTION", "UNGROUPED_AGGREGATE_FROM_STATISTICS"];

impl QueryEngine for DuckEngine {
    fn dialect(&self) -> &dyn Dialect {
        &DuckDb
    }

    fn answers_from_metadata(&self, sql: &str) -> bool {
        let Ok(plan) = self.plan(sql) else { return false };
        !plan.is_empty() && plan.iter().all(|op| NO_DATA_OPERATORS.contains(&op.trim()))
    }

    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, Error> {
        traced(sql, || self.query_now(sql, params))
    }
}

/// An in-memory DuckDB connection that behaves alike whichever DuckDB library is linked. The
/// bundled build has Parquet and no other extension, so no time zone database; a prebuilt
/// library (`scripts/dqc`) may have ICU and JSON built in. Nothing is installed or loaded on
/// demand (that would reach the network), and where ICU is present the session's time zone is
/// UTC, which is what the bundled build assumes.
pub(crate) fn connect() -> duckdb::Result<Connection> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch("SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;")?;
    let zones: bool =
        conn.query_row("SELECT count(*) > 0 FROM duckdb_settings() WHERE name = 'TimeZone'", [], |r| r.get(0))?;
    if zones {
        conn.execute_batch("SET TimeZone = 'UTC';")?;
    }
    Ok(conn)
}
