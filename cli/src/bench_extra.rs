//! Benchmark phases that run other modules: the pre-load split and profiling.

use std::path::Path;

use dqc_activities::Error;
use dqc_local::bench::CONTRACT;
use dqc_local::{DuckEngine, PreloadOptions};

/// Runs `phase` over the benchmark lake in `dir`, returning a checksum.
pub(crate) fn run(phase: &str, dir: &Path) -> Result<String, Error> {
    match phase {
        "preload" => {
            let checked = dqc_compiler::check(&[dqc_compiler::Source::new("loan_fact_bench.dqc", CONTRACT)]);
            let contract = checked
                .project
                .contracts
                .iter()
                .find(|c| c.table.table == "loan_fact")
                .ok_or_else(|| Error::fatal("benchmark contract has no loan_fact"))?;
            let input = dir.join("lake").join("bench").join("loan_fact").join("data.parquet");
            let mut options =
                PreloadOptions::new(&checked.project, contract, vec![input], dir.join("valid"), dir.join("quarantine"));
            options.lake = Some(dir.join("lake"));
            let report = dqc_local::preload(&options)?;
            Ok(format!("{} in, {} valid, {} quarantined", report.rows_in, report.rows_valid, report.rows_quarantined))
        }
        "profile" => {
            let engine = DuckEngine::over_lake(&dir.join("lake"))?;
            engine.execute("SET threads = 2;")?;
            let p = dqc_activities::profile::profile(&engine, "bench", "loan_fact")?;
            Ok(format!("{} rows, {} columns", p.row_count, p.column_stats.len()))
        }
        other => Err(Error::fatal(format!("unknown benchmark phase `{other}`"))),
    }
}
