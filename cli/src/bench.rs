//! `dqc bench`: the benchmark, each phase in its own process for honest peak memory.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::{Args, Parser};
use dqc_local::bench::{self, PhaseResult};

use crate::Fatal;

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Rows of the loan fact to generate; several sizes, comma-separated, run one after the
    /// other, each in its own folder under --dir.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000_000u64, 10_000_000])]
    rows: Vec<u64>,
    /// Working directory for the generated lakes and outputs (kept afterwards).
    #[arg(long, default_value = "target/dqc-bench")]
    dir: PathBuf,
    /// Run one phase and print its result as JSON (used by the orchestrating process).
    #[arg(long, hide = true)]
    phase: Option<String>,
}

/// The `test` phase: `dqc test` as a user runs it, parsed from its command line, in this process
/// (so its wall time and peak memory are the command's). Its summary goes to stdout before the
/// phase's JSON line.
fn test_phase(dir: &Path) -> Result<PhaseResult, Fatal> {
    let args = std::iter::once("dqc".to_string()).chain(bench::test_command(dir));
    let cli = crate::Cli::try_parse_from(args).map_err(|e| Fatal(e.to_string()))?;
    let crate::Command::Test(test) = cli.command else {
        return Err(Fatal("the benchmark's test command did not parse as `dqc test`".to_string()));
    };
    let started = Instant::now();
    crate::local::test(test, false)?;
    let seconds = started.elapsed().as_secs_f64();
    let results = dir.join("artifacts").join("results").join("loan_fact").join("2024-06-01.json");
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(&results)?)?;
    let violations: u64 =
        record["rules"].as_array().into_iter().flatten().filter_map(|r| r["violations"].as_u64()).sum();
    Ok(PhaseResult {
        phase: bench::TEST_PHASE.to_string(),
        seconds,
        peak_rss_mib: bench::peak_rss_mib(),
        checksum: format!(
            "{} rows, {violations} violations, {}",
            record["row_count"],
            if record["passed"] == true { "passed" } else { "failed" }
        ),
    })
}

pub(crate) fn bench(args: BenchArgs) -> Result<ExitCode, Fatal> {
    if let Some(phase) = &args.phase {
        let result = if phase == bench::TEST_PHASE {
            test_phase(&args.dir)?
        } else {
            bench::run_phase(&args.dir, phase).map_err(|e| Fatal(e.to_string()))?
        };
        outln!("{}", serde_json::to_string(&result)?);
        return Ok(ExitCode::SUCCESS);
    }
    let exe = std::env::current_exe()?;
    for &rows in &args.rows {
        let dir = args.dir.join(rows.to_string());
        errln!("generating {rows} rows in {} ...", dir.display());
        let _ = std::fs::remove_dir_all(&dir);
        bench::generate(&dir, rows).map_err(|e| Fatal(e.to_string()))?;
        let mut results: Vec<PhaseResult> = Vec::new();
        for phase in bench::PHASES {
            errln!("running {phase} ...");
            let out = Command::new(&exe)
                .args(["bench", "--dir"])
                .arg(&dir)
                .args(["--rows", &rows.to_string(), "--phase", phase])
                .output()?;
            // The last line is the phase's result (`dqc test` prints its summary before it).
            let stdout = String::from_utf8_lossy(&out.stdout);
            let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
            if !out.status.success() {
                errln!("  {phase} not measured: {}", String::from_utf8_lossy(&out.stderr).trim());
                continue;
            }
            let r: PhaseResult = serde_json::from_str(last)?;
            errln!("  {:.2} s, {:.0} MiB peak ({})", r.seconds, r.peak_rss_mib, r.checksum);
            results.push(r);
        }
        out!("{}\n", bench::report(&results, rows));
    }
    Ok(ExitCode::SUCCESS)
}
