//! `dqc bench`: the benchmark, each phase in its own process for honest peak memory.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::Args;
use dqc_local::bench::{self, PhaseResult};

use crate::Fatal;

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Rows of the loan fact to generate.
    #[arg(long, default_value_t = 10_000_000)]
    rows: u64,
    /// Working directory for the generated lake and outputs (kept afterwards).
    #[arg(long, default_value = "target/dqc-bench")]
    dir: PathBuf,
    /// Run one phase and print its result as JSON (used by the orchestrating process).
    #[arg(long, hide = true)]
    phase: Option<String>,
}

pub(crate) fn bench(args: BenchArgs) -> Result<ExitCode, Fatal> {
    if let Some(phase) = &args.phase {
        let result = bench::run_phase(&args.dir, phase).map_err(|e| Fatal(e.to_string()))?;
        outln!("{}", serde_json::to_string(&result)?);
        return Ok(ExitCode::SUCCESS);
    }
    errln!("generating {} rows in {} ...", args.rows, args.dir.display());
    let _ = std::fs::remove_dir_all(&args.dir);
    bench::generate(&args.dir, args.rows).map_err(|e| Fatal(e.to_string()))?;
    let exe = std::env::current_exe()?;
    let mut results: Vec<PhaseResult> = Vec::new();
    for phase in bench::PHASES {
        errln!("running {phase} ...");
        let out = Command::new(&exe)
            .args(["bench", "--dir"])
            .arg(&args.dir)
            .args(["--rows", &args.rows.to_string(), "--phase", phase])
            .output()?;
        if !out.status.success() {
            errln!("  {phase} not measured: {}", String::from_utf8_lossy(&out.stderr).trim());
            continue;
        }
        let r: PhaseResult = serde_json::from_slice(&out.stdout)?;
        errln!("  {:.2} s, {:.0} MiB peak ({})", r.seconds, r.peak_rss_mib, r.checksum);
        results.push(r);
    }
    out!("{}", bench::report(&results, args.rows));
    Ok(ExitCode::SUCCESS)
}
