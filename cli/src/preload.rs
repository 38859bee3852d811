//! `dqc preload`: the pre-load split of input files by a contract's pre-load rules.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use dqc_compiler::diagnostics::FileId;
use dqc_compiler::Source;

use crate::{files, Fatal};

/// Arguments of `dqc preload`.
#[derive(Debug, Args)]
pub struct PreloadArgs {
    /// The contract file of the table the inputs belong to.
    #[arg(long, required_unless_present = "published")]
    contract: Option<PathBuf>,
    /// Take the contract from the published ones instead: the artifact store the onboarding
    /// workflow publishes to (`sources/*.dqc`), a folder or `s3://bucket/prefix` (AWS
    /// configuration from the standard chain). Needs `--table`.
    #[arg(long, conflicts_with_all = ["contract", "contracts"], requires = "table")]
    published: Option<String>,
    /// Directories of further contracts (the tables foreign keys reference); repeatable.
    #[arg(long)]
    contracts: Vec<PathBuf>,
    /// The table, when the contract file defines several (`database.table` or `table`).
    #[arg(long)]
    table: Option<String>,
    /// Input files: CSV with a header line (`.csv`) or Parquet (`.parquet`).
    #[arg(long, required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Output folder for the valid rows (`<table>.parquet`).
    #[arg(long)]
    valid: PathBuf,
    /// Output folder for the quarantined rows (`<table>.parquet`) and the malformed CSV lines
    /// (`<table>.rejected_lines.parquet`).
    #[arg(long)]
    quarantine: PathBuf,
    /// A lake folder (`<lake>/<database>/<table>/`) with the tables foreign keys reference;
    /// without it, pre-load foreign keys are skipped and reported.
    #[arg(long)]
    lake: Option<PathBuf>,
    /// An artifact folder: writes `quarantine/<table>/<run id>/metrics.json` there.
    #[arg(long)]
    artifacts: Option<PathBuf>,
    /// The run id in the metrics path [default: today's UTC date].
    #[arg(long)]
    run_id: Option<String>,
    /// DuckDB's memory limit; larger inputs spill to a temporary folder. The process peaks at
    /// about 1.5 times it (10 million CSV lines, 1 GB: 738 MiB at the default).
    #[arg(long, default_value = "512MB")]
    memory_limit: String,
    /// DuckDB's worker threads.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Output format of the counts.
    #[arg(long, value_enum, default_value_t = PreloadFormat::Text)]
    format: PreloadFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PreloadFormat {
    /// A readable summary.
    Text,
    /// The report as JSON (the metrics file's contents).
    Json,
}

fn same_file(a: &Path, b: &str) -> bool {
    let b = Path::new(b);
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Runs the split. Exit codes: 0 when every input row is accounted for (quarantined rows are
/// a normal outcome), 1 when the contracts have errors or the invariant does not hold, 2 for
/// usage and IO errors (missing inputs, columns that disagree with the contract).
pub fn run(args: PreloadArgs, color: bool) -> Result<ExitCode, Fatal> {
    let (sources, from) = contracts(&args)?;
    let checked = dqc_compiler::check(&sources);
    crate::eprint_diagnostics(&checked.diagnostics, &sources, color);
    if checked.has_errors() {
        errln!("not split: the contracts have errors");
        return Ok(ExitCode::from(1));
    }
    let file = args
        .contract
        .as_ref()
        .and_then(|contract| sources.iter().position(|s| same_file(contract, &s.name)))
        .and_then(|i| u32::try_from(i).ok())
        .map(FileId);
    let defined: Vec<&dqc_compiler::ir::Contract> = checked
        .project
        .contracts
        .iter()
        .filter(|c| args.published.is_some() || c.span.as_ref().is_some_and(|s| Some(s.file) == file))
        .filter(|c| {
            args.table
                .as_ref()
                .is_none_or(|t| t.eq_ignore_ascii_case(&c.table.qualified()) || t.eq_ignore_ascii_case(&c.table.table))
        })
        .collect();
    let contract = match defined.as_slice() {
        [one] => *one,
        [] => {
            return Err(Fatal(format!(
                "{from} defines no contract{}",
                args.table.as_ref().map(|t| format!(" for {t}")).unwrap_or_default()
            )))
        }
        many => {
            let names: Vec<String> = many.iter().map(|c| c.table.qualified()).collect();
            return Err(Fatal(format!(
                "{from} defines several contracts ({}); pick one with --table",
                names.join(", ")
            )));
        }
    };
    let mut options =
        dqc_local::PreloadOptions::new(&checked.project, contract, args.input, args.valid, args.quarantine);
    options.lake = args.lake;
    options.artifacts = args.artifacts;
    options.run_id = args.run_id;
    options.memory_limit = args.memory_limit;
    options.threads = args.threads;
    let bar = crate::progress::Bar::stderr();
    options.progress = &bar;
    let report = dqc_local::preload(&options).map_err(|e| Fatal(e.message))?;
    drop(bar);
    match args.format {
        PreloadFormat::Text => out!("{}", report.render_text()),
        PreloadFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
    }
    if report.invariant_holds {
        Ok(ExitCode::SUCCESS)
    } else {
        errln!("error: the rows written do not add up to the rows read");
        Ok(ExitCode::from(1))
    }
}

/// The sources to check and where the contract comes from (for messages): the contract file
/// and `--contracts`, or every published contract of `--published`.
fn contracts(args: &PreloadArgs) -> Result<(Vec<Source>, String), Fatal> {
    if let Some(location) = &args.published {
        let aws = crate::tables::connect(crate::tables::is_s3(location))?;
        let store = crate::tables::artifact_store(location, aws.as_ref())?;
        let sources = dqc_activities::handlers::published(store.as_ref(), "").map_err(crate::tables::fatal)?;
        if sources.is_empty() {
            return Err(Fatal(format!("no published contracts in {location} (sources/*.dqc)")));
        }
        return Ok((sources, format!("the published contracts of {location}")));
    }
    let Some(contract) = &args.contract else {
        return Err(Fatal("say which contract: --contract or --published".into()));
    };
    if !contract.is_file() {
        return Err(Fatal(format!("contract file not found: {}", contract.display())));
    }
    let mut paths = vec![contract.clone()];
    paths.extend(args.contracts.iter().cloned());
    Ok((files::load(&paths)?, contract.display().to_string()))
}
