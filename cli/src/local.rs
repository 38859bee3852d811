//! Commands over a local lake folder (`<lake>/<database>/<table>/`): `example`, `profile`,
//! `test`, and `demo`, the whole check cycle on the example lake.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use dqc_activities::post_load::Status;
use dqc_activities::test_run::{render_summary, test_table, Ports, TestJob, TestOutcome};
use dqc_activities::{ArtifactStore, MetadataStore};
use dqc_compiler::ir::{Contract, Project};
use dqc_compiler::{Checked, Source, Target};
use dqc_local::{DuckEngine, ExampleOptions, FolderMetadata, FolderStore};

use crate::tables::{self, fatal, open_lake, split_table, Tables, TablesArgs};
use crate::{eprint_diagnostics, files, Fatal};

/// Example data sets.
#[derive(Debug, Subcommand)]
pub enum ExampleCommand {
    /// The loans lake: dim_customer, dim_loan, loan_repayment_fact (Parquet, partitioned by
    /// payment_date) and raw_payments (CSV landing zone), with documented defects.
    ///
    /// Deterministic: the same --rows and --seed give byte-identical files. The exact defect
    /// counts are written to `<out>/_defects.json` (see examples/loans/README.md).
    Loans(ExampleLoansArgs),
}

/// Arguments of `dqc example loans`.
#[derive(Debug, Args)]
pub struct ExampleLoansArgs {
    /// Base rows of the fact table (at least 1).
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    rows: u64,
    /// The lake folder to write.
    #[arg(long)]
    out: PathBuf,
    /// Seed of the pseudo-random values.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Arguments of `dqc profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The table, `database.table`.
    table: String,
    #[command(flatten)]
    tables: TablesArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ProfileFormat::Text)]
    format: ProfileFormat,
}

/// Output formats of `dqc profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileFormat {
    /// Readable text.
    Text,
    /// The profile context JSON (`schema`, `row_count`, `column_stats`, ...).
    Json,
}

/// Arguments of `dqc draft`.
#[derive(Debug, Args)]
pub struct DraftArgs {
    /// The table to draft a contract for, `database.table`.
    table: String,
    /// The lake folder; the other tables in it are the candidate targets of foreign keys.
    #[arg(long)]
    lake: PathBuf,
    /// Where the rules come from: `offline` (Deequ's suggestion heuristics over the data,
    /// deterministic, no network), or an LLM (`openai`, `gemini`, `bedrock`; needs `--model`;
    /// the API key in the environment, or for Bedrock the AWS region and credentials chain),
    /// checked by the compiler; the offline rules stand in for any that never compile.
    #[arg(long, value_enum, default_value_t = DraftProvider::Offline)]
    provider: DraftProvider,
    /// The Glue job script that writes the table: its grain, not-null and join hints
    /// (`dqc analyze`) become rules where the data agrees, with the script's line as evidence.
    #[arg(long)]
    script: Option<PathBuf>,
    /// The artifact folder of earlier `dqc test` runs of the table: with 7 or more row counts
    /// in its `stats-history/<table>/` (or `stats-history/<database>.<table>/`), a row-count
    /// anomaly rule is drafted.
    #[arg(long)]
    history: Option<PathBuf>,
    /// The model, for the LLM providers.
    #[arg(long)]
    model: Option<String>,
    /// The API base URL [default: https://api.openai.com/v1 for openai,
    /// https://generativelanguage.googleapis.com/v1beta for gemini, and for bedrock
    /// AWS_ENDPOINT_URL_BEDROCK_RUNTIME or https://bedrock-runtime.<region>.amazonaws.com].
    #[arg(long)]
    endpoint: Option<String>,
    /// The environment variable holding the API key [default: OPENAI_API_KEY, GEMINI_API_KEY].
    #[arg(long)]
    api_key_env: Option<String>,
    /// Answers asked of the LLM before falling back to the offline draft; each answer that
    /// does not compile goes back to it with the compiler's diagnostics.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    attempts: u32,
    /// Print the drafting context instead (the profile, the job summary and what was left out
    /// to keep it within its size budget), as JSON in the seed's context shape.
    #[arg(long)]
    context: bool,
    /// Write the contract to this file instead of standard output (refused if it exists).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Drafting providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DraftProvider {
    /// Deterministic heuristics over the profile and the data.
    #[default]
    Offline,
    /// Any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM, ...).
    Openai,
    /// Google Gemini (`generateContent`).
    Gemini,
    /// Amazon Bedrock (the Converse API; region and credentials from the AWS chain).
    Bedrock,
}

impl DraftProvider {
    /// The LLM provider; `None` for offline.
    pub fn kind(self) -> Option<dqc_llm::Kind> {
        match self {
            DraftProvider::Offline => None,
            DraftProvider::Openai => Some(dqc_llm::Kind::OpenAi),
            DraftProvider::Gemini => Some(dqc_llm::Kind::Gemini),
            DraftProvider::Bedrock => Some(dqc_llm::Kind::Bedrock),
        }
    }
}

/// Arguments of `dqc test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The table, `database.table`.
    table: String,
    #[command(flatten)]
    tables: TablesArgs,
    /// The contracts (a directory or files), checked as one project.
    #[arg(long)]
    contracts: PathBuf,
    /// Where the artifacts go (`results/`, `stats-history/`, `contracts/`, ...): a folder, or
    /// `s3://bucket/prefix` (region, credentials and `AWS_ENDPOINT_URL` from the standard AWS
    /// configuration chain).
    #[arg(long)]
    artifacts: String,
    /// Where each run is indexed (`table#<db.table>`, `run#<date>`) with the current contract
    /// version: a folder (the local stand-in for the metadata table), or `dynamodb:TABLE`
    /// (a table keyed `pk`, `sk`) [default: `<artifacts>/_metadata`; required with s3://].
    #[arg(long)]
    metadata: Option<String>,
    /// The date the results are filed under [default: the run time's date].
    #[arg(long)]
    date: Option<String>,
    /// The run time freshness is measured against, 'YYYY-MM-DD HH:MM:SS' UTC [default: now].
    #[arg(long)]
    run_time: Option<String>,
}

/// Arguments of `dqc demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Base rows of the example fact table (at least 1).
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    rows: u64,
    /// Where the lake and the artifacts go. A folder an earlier demo wrote is replaced; any
    /// other non-empty folder is refused.
    #[arg(long, default_value = "out/demo")]
    out: PathBuf,
}

/// `dqc example loans`.
pub fn example(cmd: ExampleCommand) -> Result<ExitCode, Fatal> {
    let ExampleCommand::Loans(a) = cmd;
    let lake = dqc_local::generate_example(&a.out, ExampleOptions { rows: a.rows, seed: a.seed, defects: true })
        .map_err(fatal)?;
    errln!(
        "wrote the loans lake to {} ({} fact rows, {} loans, {} customers, {} raw lines); defects in {}",
        a.out.display(),
        lake.fact_rows,
        lake.loans,
        lake.customers,
        lake.raw_lines,
        a.out.join("_defects.json").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `dqc draft`: drafts the contract, checks it, and prints it with the evidence of each rule.
pub fn draft(a: DraftArgs) -> Result<ExitCode, Fatal> {
    let (database, table) = split_table(&a.table)?;
    if let Some(out) = a.out.as_ref().filter(|o| o.exists()) {
        return Err(Fatal(format!("{} exists: the draft never replaces a file", out.display())));
    }
    let engine = open_lake(&a.lake, &a.table)?;
    let parents: Vec<(String, String)> = dqc_local::discover(&a.lake)
        .map_err(fatal)?
        .into_iter()
        .filter(|t| !(t.database == database && t.table == table))
        .map(|t| (t.database, t.table))
        .collect();
    let job = match &a.script {
        Some(path) => {
            let source = files::read_text(path)?;
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("job").to_string();
            let analysis = dqc_etl::analyze(&name, &source).map_err(|e| Fatal(format!("{}: {}", path.display(), e)))?;
            let shown = path.file_name().and_then(|s| s.to_str()).unwrap_or("job.py").to_string();
            Some((shown, analysis))
        }
        None => None,
    };
    if a.context {
        let p = engine
            .with_progress("profiling", &crate::progress::Bar::stderr(), |e| {
                dqc_activities::profile::profile(e, database, table)
            })
            .map_err(fatal)?;
        let summary = job.as_ref().map(|(_, j)| serde_json::to_value(&j.summary)).transpose()?;
        let inputs = dqc_activities::context::ContextInputs { job_summary: summary.as_ref(), ..Default::default() };
        outln!("{}", serde_json::to_string_pretty(&dqc_activities::context::context(&p, &inputs))?);
        return Ok(ExitCode::SUCCESS);
    }
    let history = match &a.history {
        Some(folder) => {
            if !folder.is_dir() {
                return Err(Fatal(format!("--history {}: not a folder", folder.display())));
            }
            let store = dqc_local::FolderStore::new(folder);
            dqc_activities::draft::row_count_history(&store, database, table, &[]).map_err(fatal)?
        }
        None => Vec::new(),
    };
    let options = dqc_activities::draft::DraftOptions {
        database,
        table,
        parents: &parents,
        job: job.as_ref().map(|(n, j)| (n.as_str(), j)),
        history: &history,
    };
    let drafted = engine
        .with_progress("drafting", &crate::progress::Bar::stderr(), |e| dqc_activities::draft::draft(e, &options))
        .map_err(fatal)?;
    if a.provider != DraftProvider::Offline {
        return draft_with_llm(&a, &engine, database, table, job.as_ref().map(|(_, j)| j), &drafted);
    }
    // The draft checks on its own but for foreign keys to tables without contracts yet.
    let checked = dqc_compiler::check(&[Source::new(format!("{table}.dqc"), drafted.text.clone())]);
    let errors: Vec<&dqc_compiler::diagnostics::Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && d.code != dqc_compiler::diagnostics::Code::UnknownTable)
        .collect();
    if !errors.is_empty() {
        let shown: Vec<String> = errors.iter().map(|d| d.message.clone()).collect();
        return Err(Fatal(format!("the draft does not check ({}); please report it", shown.join("; "))));
    }
    errln!(
        "drafted {} rule(s) for {} from {} rows (offline):",
        drafted.rules.len(),
        a.table,
        drafted.profile.row_count
    );
    for r in &drafted.rules {
        errln!("  {:<60} {}", r.rule, r.because);
    }
    let referenced: Vec<&str> = checked
        .diagnostics
        .iter()
        .filter(|d| d.code == dqc_compiler::diagnostics::Code::UnknownTable)
        .map(|d| d.message.as_str())
        .collect();
    if !referenced.is_empty() {
        errln!(
            "note: check the draft together with the contracts of the tables it references ({})",
            referenced.join("; ")
        );
    }
    emit_draft(a.out.as_deref(), &drafted.text)
}

/// `dqc draft --provider openai|gemini`: the LLM loop, with the offline draft as its fallback.
fn draft_with_llm(
    a: &DraftArgs,
    engine: &DuckEngine,
    database: &str,
    table: &str,
    job: Option<&dqc_etl::JobAnalysis>,
    offline: &dqc_activities::draft::Draft,
) -> Result<ExitCode, Fatal> {
    let Some(kind) = a.provider.kind() else { return Err(Fatal("internal: offline is not an LLM".into())) };
    let model = a.model.clone().ok_or_else(|| Fatal(format!("--provider {} needs --model", kind.name())))?;
    let settings = dqc_llm::Settings {
        kind,
        model,
        endpoint: a.endpoint.clone(),
        api_key_env: a.api_key_env.clone(),
        attempts: a.attempts,
        policy: dqc_llm::RetryPolicy::default(),
    };
    let profile = &offline.profile;
    let _ = engine;
    let summary = job.map(|j| serde_json::to_value(&j.summary)).transpose()?;
    let inputs = dqc_activities::context::ContextInputs { job_summary: summary.as_ref(), ..Default::default() };
    let context = dqc_activities::context::context(profile, &inputs);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Fatal(format!("cannot start the async runtime: {e}")))?;
    let offline_text = offline.text.clone();
    let provider = runtime.block_on(settings.provider()).map_err(|e| Fatal(e.message))?;
    let drafted = runtime
        .block_on(dqc_llm::draft(
            provider.as_ref(),
            &context,
            &[],
            move || Ok(offline_text),
            dqc_llm::LoopOptions { max_attempts: a.attempts },
        ))
        .map_err(|e| Fatal(e.message))?;
    errln!(
        "{} model {} ({} of {}.{}): {} attempt(s), {} prompt and {} answer tokens{}",
        drafted.provider,
        drafted.model,
        drafted.prompt,
        database,
        table,
        drafted.attempts.len(),
        drafted.prompt_tokens,
        drafted.completion_tokens,
        if drafted.fell_back { "; no answer compiled: the offline draft is printed" } else { "" }
    );
    for attempt in &drafted.attempts {
        errln!("  attempt {} ({} request(s)): {}", attempt.number, attempt.requests, attempt.outcome);
    }
    for rule in &drafted.left_out {
        errln!("  left out (never compiled): {rule}");
    }
    for rule in &drafted.stand_ins {
        errln!("  offline stand-in: {rule}");
    }
    emit_draft(a.out.as_deref(), &drafted.text)
}

/// Writes a draft to `out` (atomically) or prints it.
fn emit_draft(out: Option<&Path>, text: &str) -> Result<ExitCode, Fatal> {
    match out {
        Some(path) => {
            files::write_atomic(path, text)?;
            errln!("wrote {}", path.display());
        }
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `dqc profile`.
pub fn profile(a: ProfileArgs) -> Result<ExitCode, Fatal> {
    let (database, table) = split_table(&a.table)?;
    let aws = tables::connect(tables::needs_aws(Some(&a.tables), None, None))?;
    let tables = Tables::open(&a.tables, aws.as_ref(), &a.table)?;
    let p = tables.run("profiling", |_, e| dqc_activities::profile::profile(e, database, table)).map_err(fatal)?;
    match a.format {
        ProfileFormat::Json => outln!("{}", serde_json::to_string_pretty(&p)?),
        ProfileFormat::Text => out!("{}", dqc_activities::profile::render_text(&p)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The run time and the date, validated as real calendar values (`2024-13-45` is refused).
fn when(date: Option<String>, run_time: Option<String>) -> Result<(String, String), Fatal> {
    let run_time = match run_time {
        Some(text) => jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", &text).map_err(|e| {
            Fatal(format!("--run-time `{text}` is not a time of the form 'YYYY-MM-DD HH:MM:SS' (UTC): {e}"))
        })?,
        None => jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).datetime(),
    };
    let date = match date {
        Some(text) => jiff::civil::Date::strptime("%Y-%m-%d", &text)
            .map_err(|e| Fatal(format!("--date `{text}` is not a date of the form YYYY-MM-DD: {e}")))?,
        None => run_time.date(),
    };
    Ok((run_time.strftime("%Y-%m-%d %H:%M:%S").to_string(), date.strftime("%Y-%m-%d").to_string()))
}

/// Checks a project, printing diagnostics; `None` when it has errors.
fn check_project(sources: &[Source], color: bool) -> Option<Checked> {
    let checked = dqc_compiler::check(sources);
    eprint_diagnostics(&checked.diagnostics, sources, color);
    (!checked.has_errors()).then_some(checked)
}

fn find<'p>(project: &'p Project, table: &str) -> Result<&'p Contract, Fatal> {
    project.contracts.iter().find(|c| c.table.qualified() == table).ok_or_else(|| {
        let known: Vec<String> = project.contracts.iter().map(|c| c.table.qualified()).collect();
        Fatal(format!("no contract for {table} (contracts: {})", known.join(", ")))
    })
}

/// The adapters of a run: the tables, the artifact and metadata stores.
struct Local<'a> {
    tables: &'a Tables,
    store: &'a dyn ArtifactStore,
    metadata: &'a dyn MetadataStore,
}

/// Writes the compiled artifacts of `contracts` into the store: everything `dqc compile`
/// writes for them, and each contract version under `contracts/<table>/<hash>.json`, once;
/// the metadata item `contract#current` of each table names its current version.
fn publish(local: &Local<'_>, project: &Project, only: Option<&Contract>) -> Result<usize, Fatal> {
    let mut written = 0;
    for c in &project.contracts {
        if only.is_some_and(|o| o.table != c.table) {
            continue;
        }
        let table = c.table.qualified();
        let (_, n) =
            dqc_activities::handlers::publish_contract(local.store, local.metadata, project, &table).map_err(fatal)?;
        written += n;
    }
    if only.is_none() {
        let outputs = dqc_compiler::compile(project, Target::ALL);
        if let Some(ir) = outputs.iter().find(|f| f.path == "ir.json") {
            local.store.put(&ir.path, ir.contents.as_bytes()).map_err(fatal)?;
        }
    }
    Ok(written)
}

/// Runs the post-load test of one contract and prints its summary.
fn run_test(
    local: &Local<'_>,
    project: &Project,
    contract: &Contract,
    date: &str,
    run_time: &str,
) -> Result<TestOutcome, Fatal> {
    let suite = dqc_compiler::codegen::sql::suite(local.tables.dialect(), project, contract, false);
    let key = dqc_compiler::codegen::file_stem(project, contract);
    let job = TestJob { contract, suite: &suite, key: &key, date, run_time };
    let label = format!("testing {}", contract.table.qualified());
    let (store, metadata) = (local.store, local.metadata);
    local
        .tables
        .run(&label, |catalog, engine| test_table(&Ports { catalog, engine, store, metadata }, &job))
        .map_err(fatal)
}

/// `dqc test`.
pub fn test(a: TestArgs, color: bool) -> Result<ExitCode, Fatal> {
    let (run_time, date) = when(a.date, a.run_time)?;
    split_table(&a.table)?;
    let sources = files::load(std::slice::from_ref(&a.contracts))?;
    let Some(checked) = check_project(&sources, color) else {
        errln!("not tested: the contracts have errors");
        return Ok(ExitCode::from(1));
    };
    let contract = find(&checked.project, &a.table)?;
    let aws = tables::connect(tables::needs_aws(Some(&a.tables), Some(&a.artifacts), a.metadata.as_deref()))?;
    let tables = Tables::open(&a.tables, aws.as_ref(), &a.table)?;
    if let Some(engine) = tables.duck() {
        // A CSV table is parsed once for the whole suite, not once per query.
        engine.read_csv_once(&a.table).map_err(fatal)?;
    }
    let store = tables::artifact_store(&a.artifacts, aws.as_ref())?;
    let metadata = tables::metadata_store(a.metadata.as_deref(), &a.artifacts, aws.as_ref())?;
    let local = Local { tables: &tables, store: store.as_ref(), metadata: metadata.as_ref() };
    publish(&local, &checked.project, Some(contract))?;
    let outcome = run_test(&local, &checked.project, contract, &date, &run_time)?;
    out!("{}", render_summary(&outcome.run));
    let at = |key: &str| format!("{}/{key}", a.artifacts.trim_end_matches('/'));
    match &outcome.stats_key {
        Some(stats) => errln!("wrote {} and {}", at(&outcome.results_key), at(stats)),
        None => {
            errln!("the table disagrees with its contract: the suite did not run; wrote {}", at(&outcome.results_key))
        }
    }
    Ok(if outcome.run.passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The example contracts, built in so the demo runs from any directory.
pub(crate) const EXAMPLE_CONTRACTS: [(&str, &str); 4] = [
    ("dim_customer.dqc", include_str!("../../examples/loans/contracts/dim_customer.dqc")),
    ("dim_loan.dqc", include_str!("../../examples/loans/contracts/dim_loan.dqc")),
    ("loan_repayment_fact.dqc", include_str!("../../examples/loans/contracts/loan_repayment_fact.dqc")),
    ("raw_payments.dqc", include_str!("../../examples/loans/contracts/raw_payments.dqc")),
];

/// The file that marks a folder as written by `dqc demo`.
const DEMO_MARKER: &str = ".dqc-demo";

/// Empties `out` for a new demo run: only when it is empty or an earlier demo wrote it.
pub(crate) fn fresh_demo_folder(out: &Path) -> Result<(), Fatal> {
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries.count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(Fatal(format!("cannot read {}: {e}", out.display()))),
    };
    if entries > 0 {
        if !out.join(DEMO_MARKER).is_file() {
            return Err(Fatal(format!(
                "{} is not empty and was not written by `dqc demo`; pass an empty or new folder with --out",
                out.display()
            )));
        }
        std::fs::remove_dir_all(out).map_err(|e| Fatal(format!("cannot clear {}: {e}", out.display())))?;
    }
    std::fs::create_dir_all(out).map_err(|e| Fatal(format!("cannot create {}: {e}", out.display())))?;
    std::fs::write(out.join(DEMO_MARKER), "written by `dqc demo`; the next demo run replaces this folder\n")
        .map_err(|e| Fatal(format!("cannot write in {}: {e}", out.display())))
}

/// `dqc demo`: generate, profile, compile, pre-load split, load, post-load test, report.
pub fn demo(a: DemoArgs, color: bool) -> Result<ExitCode, Fatal> {
    let started = std::time::Instant::now();
    fresh_demo_folder(&a.out)?;
    let (lake_dir, artifacts, contracts_dir) = (a.out.join("lake"), a.out.join("artifacts"), a.out.join("contracts"));
    errln!("1/7 generate: the example loans lake, {} rows, into {}", a.rows, lake_dir.display());
    let lake = dqc_local::generate_example(&lake_dir, ExampleOptions { rows: a.rows, seed: 42, defects: true })
        .map_err(fatal)?;
    let engine = DuckEngine::over_lake(&lake_dir).map_err(fatal)?;

    errln!("2/7 profile: analytics_db.loan_repayment_fact");
    let p = engine
        .with_progress("profiling", &crate::progress::Bar::stderr(), |e| {
            dqc_activities::profile::profile(e, "analytics_db", "loan_repayment_fact")
        })
        .map_err(fatal)?;
    let profile_path = a.out.join("profile.loan_repayment_fact.json");
    files::write_atomic(&profile_path, &format!("{}\n", serde_json::to_string_pretty(&p)?))?;
    errln!("    {} rows profiled; context JSON in {}", p.row_count, profile_path.display());

    errln!("3/7 draft: an offline draft of analytics_db.loan_repayment_fact from its data");
    let parents: Vec<(String, String)> =
        ["dim_customer", "dim_loan"].iter().map(|t| ("analytics_db".to_string(), (*t).to_string())).collect();
    let options = dqc_activities::draft::DraftOptions {
        database: "analytics_db",
        table: "loan_repayment_fact",
        parents: &parents,
        job: None,
        history: &[],
    };
    let drafted = dqc_activities::draft::draft(&engine, &options).map_err(fatal)?;
    let draft_path = a.out.join("drafts/loan_repayment_fact.dqc");
    files::write_atomic(&draft_path, &drafted.text)?;
    errln!(
        "    {} rules with their evidence in {} (drafted from the defective data, so it accepts some defects: review before approving)",
        drafted.rules.len(),
        draft_path.display()
    );

    errln!("4/7 compile: the example contracts into {}", artifacts.display());
    let mut sources = Vec::new();
    for (name, text) in EXAMPLE_CONTRACTS {
        let path = contracts_dir.join(name);
        files::write_atomic(&path, text)?;
        sources.push(Source::new(path.display().to_string(), text));
    }
    let Some(checked) = check_project(&sources, color) else { return Ok(ExitCode::from(1)) };
    let store = FolderStore::new(&artifacts);
    let metadata = FolderMetadata::new(a.out.join("metadata"));
    let tables = Tables::Lake { lake: lake_dir.clone(), engine };
    let local = Local { tables: &tables, store: &store, metadata: &metadata };
    let written = publish(&local, &checked.project, None)?;
    errln!("    {} contract(s), {written} file(s)", checked.project.contracts.len());

    // Pre-load step: split the landing-zone CSV of raw_payments into valid and quarantined rows.
    errln!("5/7 pre-load split: raw_db.raw_payments");
    let raw = find(&checked.project, "raw_db.raw_payments")?;
    let mut options = dqc_local::PreloadOptions::new(
        &checked.project,
        raw,
        vec![lake_dir.join("raw_db/raw_payments/payments.csv")],
        a.out.join("staging/raw_payments"),
        artifacts.join("quarantine/raw_payments"),
    );
    options.lake = Some(lake_dir.clone());
    options.artifacts = Some(artifacts.clone());
    let bar = crate::progress::Bar::stderr();
    options.progress = &bar;
    options.run_id = Some(lake.as_of.chars().take(10).collect());
    let split = dqc_local::preload(&options).map_err(|e| Fatal(format!("pre-load split failed: {}", e.message)))?;
    errln!(
        "    {} in: {} valid, {} quarantined, {} unreadable lines; invariant {}",
        split.rows_in,
        split.rows_valid,
        split.rows_quarantined,
        split.rows_rejected,
        if split.invariant_holds { "holds" } else { "BROKEN" }
    );
    let mut mismatches = lake.preload_mismatches(&split);

    let loaded_lake = a.out.join("loaded");
    errln!("6/7 load: the valid rows of raw_db.raw_payments into {}", loaded_lake.display());
    let loaded = dqc_local::load_valid(&split.outputs.valid, &loaded_lake, raw).map_err(fatal)?;
    errln!("    {loaded} rows, partitioned by ingest_date; the analytics_db tables are the lake's own");
    if loaded != split.rows_valid {
        mismatches.push(format!("raw_db.raw_payments: {} valid rows, {loaded} loaded", split.rows_valid));
    }
    let date: String = lake.as_of.chars().take(10).collect();
    errln!("7/7 post-load test at {} (the example lake's as-of time)", lake.as_of);
    for contract in checked.project.contracts.iter().filter(|c| c.table.database.as_deref() == Some("analytics_db")) {
        let outcome = run_test(&local, &checked.project, contract, &date, &lake.as_of)?;
        outln!();
        out!("{}", render_summary(&outcome.run));
        for d in lake.defects.iter().filter(|d| d.table == outcome.run.table) {
            let got = outcome.run.rules.iter().find(|r| r.rule_id == d.rule_id).map(|r| r.violations);
            if got != Some(d.count) {
                mismatches.push(format!("{} {}: documented {}, reported {got:?}", d.table, d.rule_id, d.count));
            }
        }
        let unexpected = outcome.run.rules.iter().filter(|r| matches!(r.status, Status::Fail | Status::Warn));
        for r in unexpected {
            if !lake.defects.iter().any(|d| d.table == outcome.run.table && d.rule_id == r.rule_id) {
                mismatches.push(format!("{} {}: flagged but not an injected defect", outcome.run.table, r.rule_id));
            }
        }
    }
    // The loaded rows are what the split let through: they pass their contract post-load.
    let loaded_engine = DuckEngine::over_lake(&loaded_lake).map_err(fatal)?;
    let loaded_tables = Tables::Lake { lake: loaded_lake.clone(), engine: loaded_engine };
    let loaded_local = Local { tables: &loaded_tables, store: &store, metadata: &metadata };
    let outcome = run_test(&loaded_local, &checked.project, raw, &date, &lake.as_of)?;
    outln!();
    out!("{}", render_summary(&outcome.run));
    if !outcome.run.passed || outcome.run.row_count != loaded {
        mismatches.push(format!(
            "raw_db.raw_payments as loaded: {} rows, passed {} (expected {loaded} rows, passed)",
            outcome.run.row_count, outcome.run.passed
        ));
    }
    outln!("\nreport ({:.1} s)", started.elapsed().as_secs_f64());
    outln!("  lake:        {} (defects and their counts in _defects.json)", lake_dir.display());
    outln!("  profile:     {}", profile_path.display());
    outln!(
        "  artifacts:   {} (contracts/, tests/, docs/, sql/, pyspark/, results/, stats-history/)",
        artifacts.display()
    );
    outln!("  staging:     {} (valid pre-load rows)", a.out.join("staging").display());
    outln!("  loaded:      {} (the valid rows, loaded as raw_db.raw_payments)", loaded_lake.display());
    outln!("  metadata:    {} (current contract versions, one item per run)", a.out.join("metadata").display());
    outln!(
        "  quarantine:  {} (quarantined rows with reasons, unreadable lines)",
        artifacts.join("quarantine").display()
    );
    if mismatches.is_empty() {
        outln!("  every injected defect was caught with its documented count");
        Ok(ExitCode::SUCCESS)
    } else {
        for m in &mismatches {
            outln!("  MISMATCH {m}");
        }
        Ok(ExitCode::from(1))
    }
}
