//! The `dqc` command-line interface: reads files, calls the compiler, renders results.
//!
//! All IO of the compiler happens here. Exit codes: 0 clean (warnings allowed), 1 diagnostics
//! with errors (or files that `fmt --check` would change), 2 usage or IO errors.

/// `println!` that ends the process quietly when stdout is a closed pipe (`dqc ... | head -1`).
macro_rules! outln {
    () => { $crate::write_or_exit(&mut std::io::stdout().lock(), format_args!("\n"), false) };
    ($($t:tt)*) => { $crate::write_or_exit(&mut std::io::stdout().lock(), format_args!("{}\n", format_args!($($t)*)), false) };
}
/// `print!` that ends the process quietly when stdout is a closed pipe.
macro_rules! out {
    ($($t:tt)*) => { $crate::write_or_exit(&mut std::io::stdout().lock(), format_args!($($t)*), false) };
}
/// `eprintln!` that ends the process quietly when stderr is a closed pipe (`dqc ... 2>&1 | head -1`).
macro_rules! errln {
    () => { $crate::write_or_exit(&mut std::io::stderr().lock(), format_args!("\n"), true) };
    ($($t:tt)*) => { $crate::write_or_exit(&mut std::io::stderr().lock(), format_args!("{}\n", format_args!($($t)*)), true) };
}

mod approvals;
mod bench;
pub mod files;
mod local;
mod preload;
mod progress;
pub mod render;
mod tables;
mod workflow;

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dqc_compiler::diagnostics::{Code, Diagnostic};
use dqc_compiler::Source;

/// `dqc --version`: the version, and how this binary was built (which DuckDB, whether with AWS).
const LONG_VERSION: &str = match (dqc_local::BUNDLED_DUCKDB, cfg!(feature = "aws")) {
    (true, true) => concat!(env!("CARGO_PKG_VERSION"), " (DuckDB compiled from source; with the AWS adapters)"),
    (true, false) => concat!(env!("CARGO_PKG_VERSION"), " (DuckDB compiled from source; without the AWS adapters)"),
    (false, true) => {
        concat!(env!("CARGO_PKG_VERSION"), " (DuckDB linked from a prebuilt library; with the AWS adapters)")
    }
    (false, false) => {
        concat!(env!("CARGO_PKG_VERSION"), " (DuckDB linked from a prebuilt library; without the AWS adapters)")
    }
};

/// DE Copilot: data contracts for AWS data lakes, checked, compiled and enforced.
///
/// Contracts are written in the dqc contract language (`*.dqc` files); a directory of contract
/// files is one project. Catalog snapshots (`*.catalog.json`, the JSON of a Glue GetTable
/// response) next to them are compared with the contracts. See `grammar/README.md` for the
/// language reference and `dqc explain CODE` for any diagnostic.
#[derive(Debug, Parser)]
#[command(name = "dqc", version, long_version = LONG_VERSION, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check contracts: syntax, names, types, regexes, references, contradictions, catalog drift.
    ///
    /// Reports every problem with its code, location and a suggested fix. Exits 1 when any
    /// error is found; warnings alone exit 0.
    Check(CheckArgs),
    /// Format contracts in the canonical style, in place (comments are kept).
    ///
    /// With `--check`, changes nothing and exits 1 if any file is not formatted. `-` formats
    /// standard input to standard output.
    Fmt(FmtArgs),
    /// Print the checked intermediate representation (IR) as JSON.
    Ir(IrArgs),
    /// Convert LLM output in the seed JSON shape (`data_quality`, `tests`) into contract text.
    ///
    /// Markdown fences and prose around the JSON are tolerated. Problems point into the JSON.
    /// The result is also checked; its diagnostics point into the generated contract.
    Import(ImportArgs),
    /// Compile contracts into SQL suites, PySpark pre-load modules, docs, diagrams and JSON.
    ///
    /// Writes the artifact layout: `contracts/<table>.json`, `tests/<table>.json`,
    /// `docs/<table>.md`, `docs/<table>.mmd`, `sql/<athena|duckdb>/<table>.sql` (and
    /// `<table>.partition.sql` for partitioned tables), `pyspark/<table>_preload.py`, `ir.json`.
    /// Output is byte-identical for the same contracts, whatever the order of the inputs.
    Compile(CompileArgs),
    /// Export checked contracts in another format.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Explain a diagnostic code, such as `dqc explain E0101`.
    Explain(ExplainArgs),
    /// Benchmark the 20-rule loan fact suite, pre-load split and profile against hand-written DuckDB.
    ///
    /// Generates N rows (default 10 million), runs each phase in its own process, and prints
    /// wall time, peak memory and ratios to the references: the bare scan, a hand-written fused
    /// plan for the same rules, and a plain Parquet rewrite.
    Bench(bench::BenchArgs),
    /// Analyze Glue PySpark job scripts: inputs, outputs, joins, filters, grain, lineage, rule hints.
    ///
    /// Scripts are parsed, never run. Values that come from job arguments are reported as
    /// parameters, and anything the analyzer cannot resolve is listed as unresolved rather than
    /// guessed. Several scripts together form one lineage graph (`--format mermaid`).
    Analyze(AnalyzeArgs),
    /// Generate an example lake with documented defects.
    #[command(subcommand)]
    Example(local::ExampleCommand),
    /// Profile a table of a lake folder: per-column nulls, distinct counts, min/max, mean and
    /// standard deviation, percentiles, top values, string lengths, and the row count.
    ///
    /// `--format json` prints the profile context JSON (`table_name`, `database`, `schema`,
    /// `row_count`, `column_stats`) that contract drafting reads. Distinct counts and
    /// percentiles are approximate above 1,000,000 rows, and the output says so.
    Profile(local::ProfileArgs),
    /// Draft a contract for a table of a lake folder from its data, with the evidence of every
    /// rule in its `because`.
    ///
    /// The offline provider applies Deequ's constraint suggestion heuristics (complete columns
    /// are not null, nearly complete ones keep their completeness, unique columns stay unique,
    /// small value sets become allowed values, non-negative numbers stay non-negative) plus keys
    /// and foreign keys found in the data (a column named as another table's unique key, all of
    /// whose values are in it). Deterministic: the same data gives the same draft. With
    /// `--provider openai` (any OpenAI-compatible endpoint: OpenAI, Ollama, vLLM), `gemini` or
    /// `bedrock` (the Converse API, signed with the AWS credentials chain), an LLM drafts from
    /// the same context (`--context` prints it); an answer that does not compile goes back to it
    /// with the compiler's diagnostics, at most `--attempts` times. Then the rules of its last
    /// answer that never compiled are left out and the offline draft's rules on the same columns
    /// stand in for them (or, when the rest does not compile either, the whole offline draft is
    /// printed), saying so. The draft is checked before it is printed, and its header records
    /// how it was made; review it before approving it. `dqc workflow run --draft-provider ...`
    /// drafts the same way in the onboarding workflow.
    Draft(local::DraftArgs),
    /// Run the post-load suite of a table's contract on a lake folder and file the results.
    ///
    /// Writes `results/<table>/<date>.json` and `stats-history/<table>/<date>.json` under
    /// `--artifacts` (earlier dates' stats are the row-count history of anomaly rules), prints
    /// a summary table, and exits 1 when an error-severity rule fails.
    Test(local::TestArgs),
    /// The whole check cycle on the example loans lake: generate, profile, draft, compile, pre-load
    /// split, load, post-load test, report.
    Demo(local::DemoArgs),
    /// Split input files (CSV or Parquet) by a contract's pre-load rules into valid and
    /// quarantined Parquet.
    ///
    /// Quarantined rows keep the input columns and add `_dq_errors`, `_dq_warnings` and
    /// `_dq_contract_hash`, as the PySpark splitter does. Every physical line of a CSV input is
    /// accounted for before DuckDB reads it: lines that are not a well-formed record of the
    /// header's width, or not UTF-8, go to `<table>.rejected_lines.parquet` with their line
    /// number, their exact bytes (`raw_bytes`) and why; an unterminated quote costs one line;
    /// blank lines are counted. Values are converted exactly or quarantined as cast failures
    /// (a timestamp with an offset becomes UTC). Prints per-rule counts and checks valid +
    /// quarantined + rejected = input rows, and that every line is accounted for (exit 1 when
    /// not; quarantined rows alone exit 0).
    Preload(preload::PreloadArgs),
    /// Run the workflows (Amazon States Language state machines) on this machine: run,
    /// validate, resume, answer task tokens, list, history, diagram, demo.
    #[command(subcommand)]
    Workflow(workflow::WorkflowCommand),
    /// The approval service: review pages behind signed, expiring links, whose decisions answer
    /// the onboarding workflow's task token; and its signing keys.
    #[command(subcommand)]
    Approvals(approvals::ApprovalsCommand),
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    /// Python job scripts; each job is named after its file.
    #[arg(required = true)]
    scripts: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Text)]
    format: AnalyzeFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AnalyzeFormat {
    /// A readable report per job.
    Text,
    /// An array of job analyses (the job summary has the seed's `job_summary` shape).
    Json,
    /// The lineage graph of all scripts as a Mermaid flowchart.
    Mermaid,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Contract files, catalog snapshots (`*.catalog.json`) or directories [default: .].
    /// Each directory is one project; the files named directly form another.
    paths: Vec<PathBuf>,
    /// Output format for diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// rustc-style text on standard error.
    Human,
    /// A JSON array on standard output.
    Json,
}

#[derive(Debug, Args)]
struct FmtArgs {
    /// Contract files or directories [default: .]; `-` for standard input.
    paths: Vec<PathBuf>,
    /// Report files that are not formatted instead of rewriting them.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, Args)]
struct IrArgs {
    /// Contract files, catalog snapshots or directories [default: .]
    paths: Vec<PathBuf>,
    /// Print the JSON Schema of the IR instead.
    #[arg(long)]
    schema: bool,
}

#[derive(Debug, Args)]
struct CompileArgs {
    /// Contract files or directories [default: .]; they are compiled as one project.
    paths: Vec<PathBuf>,
    /// What to generate; repeat or separate with commas.
    #[arg(long, short, value_enum, value_delimiter = ',', default_value = "all")]
    target: Vec<TargetArg>,
    /// The output directory (created if needed; files are replaced atomically).
    #[arg(long, short)]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TargetArg {
    /// Athena (Trino) SQL suites.
    Athena,
    /// DuckDB SQL suites.
    Duckdb,
    /// PySpark pre-load modules.
    Pyspark,
    /// Mermaid diagrams.
    Mermaid,
    /// Markdown documentation.
    Markdown,
    /// Seed-compatible contract and test JSON, and the IR.
    Json,
    /// Everything.
    All,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The JSON file (`-` for standard input).
    input: PathBuf,
    /// Write the contract here instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// The seed JSON shape: an array of `{ "data_quality": ..., "tests": [...] }`, one per contract.
    Json(ExportJsonArgs),
}

#[derive(Debug, Args)]
struct ExportJsonArgs {
    /// Contract files or directories [default: .]
    paths: Vec<PathBuf>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// The code, such as E0101.
    #[arg(required_unless_present = "list")]
    code: Option<String>,
    /// List every code with its title.
    #[arg(long)]
    list: bool,
}

/// A failure that is not a diagnostic: usage or IO. Exits 2.
#[derive(Debug)]
pub struct Fatal(pub String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

/// Runs the CLI with process arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let result = match cli.command {
        Command::Check(a) => check(a, color),
        Command::Fmt(a) => fmt(a, color),
        Command::Ir(a) => ir(a, color),
        Command::Import(a) => import(a, color),
        Command::Export(ExportCommand::Json(a)) => export_json(a, color),
        Command::Compile(a) => compile(a, color),
        Command::Explain(a) => explain(a),
        Command::Bench(a) => bench::bench(a),
        Command::Analyze(a) => analyze(a),
        Command::Example(c) => local::example(c),
        Command::Profile(a) => local::profile(a),
        Command::Draft(a) => local::draft(a),
        Command::Test(a) => local::test(a, color),
        Command::Demo(a) => local::demo(a, color),
        Command::Preload(a) => preload::run(a, color),
        Command::Workflow(c) => workflow::run(c),
        Command::Approvals(c) => approvals::run(c),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(message)) => {
            errln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Exit status when the reader of our output went away: what a process killed by SIGPIPE reports
/// (128 + 13), as `yes | head -1` does, so `set -o pipefail` scripts see the truncation.
const BROKEN_PIPE_EXIT: i32 = 141;

/// Writes to stdout or stderr. A closed pipe ends the process at once and quietly (everything
/// dqc writes to files is atomic, so nothing is left half-written); any other write error on
/// stdout is reported on stderr with exit 2, as an IO error.
#[doc(hidden)]
pub fn write_or_exit(w: &mut impl Write, args: std::fmt::Arguments<'_>, is_stderr: bool) {
    let result = w.write_fmt(args).and_then(|()| w.flush());
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(BROKEN_PIPE_EXIT),
        Err(_) if is_stderr => {}
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write the output: {e}");
            std::process::exit(2);
        }
    }
}

fn exit(errors: bool) -> ExitCode {
    if errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn eprint_diagnostics(diagnostics: &[Diagnostic], sources: &[Source], color: bool) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(render::human(diagnostics, sources, color).as_bytes());
}

/// Loads and checks every project named by `paths`, printing diagnostics.
fn load_and_check(paths: &[PathBuf], color: bool) -> Result<Vec<dqc_compiler::Checked>, Fatal> {
    let mut out = Vec::new();
    for sources in files::load_projects(paths)? {
        let checked = check_sources(&sources)?;
        eprint_diagnostics(&checked.diagnostics, &sources, color);
        out.push(checked);
    }
    Ok(out)
}

fn check_sources(sources: &[Source]) -> Result<dqc_compiler::Checked, Fatal> {
    if sources.iter().all(Source::is_catalog_snapshot) {
        return Err(Fatal("no contract files (*.dqc) found".to_string()));
    }
    Ok(dqc_compiler::check(sources))
}

fn check(args: CheckArgs, color: bool) -> Result<ExitCode, Fatal> {
    let mut all = Vec::new();
    let mut json_items: Vec<serde_json::Value> = Vec::new();
    let (mut contracts, mut files) = (0, 0);
    for sources in files::load_projects(&args.paths)? {
        let checked = check_sources(&sources)?;
        match args.format {
            Format::Json => {
                let rendered: serde_json::Value = serde_json::from_str(&render::json(&checked.diagnostics, &sources))?;
                json_items.extend(rendered.as_array().cloned().unwrap_or_default());
            }
            Format::Human => eprint_diagnostics(&checked.diagnostics, &sources, color),
        }
        contracts += checked.project.contracts.len();
        files += sources.iter().filter(|s| !s.is_catalog_snapshot()).count();
        all.extend(checked.diagnostics);
    }
    match args.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&json_items)?),
        Format::Human => errln!("checked {contracts} contract(s) in {files} file(s): {}", render::summary(&all)),
    }
    Ok(exit(all.iter().any(Diagnostic::is_error)))
}

fn fmt(args: FmtArgs, color: bool) -> Result<ExitCode, Fatal> {
    if args.paths.len() == 1 && args.paths.first().is_some_and(|p| p.as_os_str() == "-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        let text = files::utf8(bytes, "<stdin>")?;
        return match dqc_compiler::format(&text) {
            Ok(out) => {
                out!("{out}");
                Ok(ExitCode::SUCCESS)
            }
            Err(d) => {
                eprint_diagnostics(&[d], &[Source::new("<stdin>", text)], color);
                Ok(ExitCode::from(1))
            }
        };
    }
    let sources: Vec<Source> = files::load(&args.paths)?.into_iter().filter(|s| !s.is_catalog_snapshot()).collect();
    let mut failed = false;
    let mut unformatted = 0;
    for source in &sources {
        match dqc_compiler::format(&source.text) {
            Err(d) => {
                eprint_diagnostics(&[d], std::slice::from_ref(source), color);
                failed = true;
            }
            Ok(out) if out != source.text => {
                unformatted += 1;
                if args.check {
                    outln!("would reformat {}", source.name);
                } else {
                    files::write_atomic(std::path::Path::new(&source.name), &out)?;
                    outln!("formatted {}", source.name);
                }
            }
            Ok(_) => {}
        }
    }
    if args.check && unformatted > 0 {
        errln!("{unformatted} file(s) would be reformatted; run `dqc fmt` to fix");
    }
    Ok(exit(failed || (args.check && unformatted > 0)))
}

fn ir(args: IrArgs, color: bool) -> Result<ExitCode, Fatal> {
    if args.schema {
        outln!("{}", serde_json::to_string_pretty(&dqc_compiler::ir_json_schema())?);
        return Ok(ExitCode::SUCCESS);
    }
    let checked = load_and_check(&args.paths, color)?;
    if checked.iter().any(dqc_compiler::Checked::has_errors) {
        return Ok(ExitCode::from(1));
    }
    match checked.as_slice() {
        [one] => out!("{}", dqc_compiler::ir_json(&one.project)),
        many => {
            let projects: Vec<&dqc_compiler::ir::Project> = many.iter().map(|c| &c.project).collect();
            outln!("{}", serde_json::to_string_pretty(&projects)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn import(args: ImportArgs, color: bool) -> Result<ExitCode, Fatal> {
    let (name, text) = if args.input.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        ("<stdin>".to_string(), files::utf8(bytes, "<stdin>")?)
    } else {
        (args.input.display().to_string(), files::read_text(&args.input)?)
    };
    let json_source = Source::new(name.clone(), text);
    let (contract, diagnostics) = dqc_compiler::import_seed(&json_source.text, dqc_compiler::diagnostics::FileId(0));
    eprint_diagnostics(&diagnostics, std::slice::from_ref(&json_source), color);
    let mut errors = diagnostics.iter().any(Diagnostic::is_error);
    let Some(contract) = contract else { return Ok(ExitCode::from(1)) };
    // The generated contract is checked too, so a drafted contract that does not typecheck is
    // caught here, with diagnostics pointing into the generated text.
    let generated = Source::new(format!("{name} (imported contract)"), contract.clone());
    let checked = dqc_compiler::check(std::slice::from_ref(&generated));
    eprint_diagnostics(&checked.diagnostics, std::slice::from_ref(&generated), color);
    errors |= checked.has_errors();
    match args.out {
        Some(path) => files::write_atomic(&path, &contract)?,
        None => out!("{contract}"),
    }
    Ok(exit(errors))
}

fn export_json(args: ExportJsonArgs, color: bool) -> Result<ExitCode, Fatal> {
    let checked = load_and_check(&args.paths, color)?;
    if checked.iter().any(dqc_compiler::Checked::has_errors) {
        return Ok(ExitCode::from(1));
    }
    let mut items = Vec::new();
    for c in &checked {
        match dqc_compiler::export_seed(&c.project) {
            serde_json::Value::Array(a) => items.extend(a),
            other => items.push(other),
        }
    }
    let mut text = serde_json::to_string_pretty(&items)?;
    text.push('\n');
    match args.out {
        Some(path) => files::write_atomic(&path, &text)?,
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn explain(args: ExplainArgs) -> Result<ExitCode, Fatal> {
    if args.list {
        for code in Code::ALL {
            outln!("{code}  {}", code.title());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let text = args.code.unwrap_or_default();
    let Some(code) = Code::parse(&text) else {
        return Err(Fatal(format!("unknown code `{text}`; `dqc explain --list` shows every code")));
    };
    let kind = if code.severity() == dqc_compiler::diagnostics::Severity::Error { "error" } else { "warning" };
    outln!("{code} ({kind}): {}\n\n{}", code.title(), code.explanation());
    Ok(ExitCode::SUCCESS)
}

fn analyze(args: AnalyzeArgs) -> Result<ExitCode, Fatal> {
    let mut jobs = Vec::new();
    let mut failed = false;
    for path in &args.scripts {
        let text = files::read_text(path)?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("job");
        match dqc_etl::analyze(name, &text) {
            Ok(job) => jobs.push(job),
            Err(e) => {
                errln!("error: {}:{}:{}: {}", path.display(), e.line, e.column, e.message);
                failed = true;
            }
        }
    }
    let out = match args.format {
        AnalyzeFormat::Text => dqc_etl::render_text(&jobs),
        AnalyzeFormat::Json => dqc_etl::render_json(&jobs),
        AnalyzeFormat::Mermaid => dqc_etl::render_mermaid(&dqc_etl::build_graph(&jobs)),
    };
    out!("{out}");
    if !out.ends_with('\n') {
        outln!();
    }
    Ok(exit(failed))
}

fn compile(args: CompileArgs, color: bool) -> Result<ExitCode, Fatal> {
    use dqc_compiler::Target;
    let sources = files::load(&args.paths)?;
    let checked = check_sources(&sources)?;
    eprint_diagnostics(&checked.diagnostics, &sources, color);
    if checked.has_errors() {
        errln!("not compiled: {}", render::summary(&checked.diagnostics));
        return Ok(ExitCode::from(1));
    }
    let mut targets: Vec<Target> = Vec::new();
    for t in &args.target {
        let add: &[Target] = match t {
            TargetArg::Athena => &[Target::Athena],
            TargetArg::Duckdb => &[Target::Duckdb],
            TargetArg::Pyspark => &[Target::Pyspark],
            TargetArg::Mermaid => &[Target::Mermaid],
            TargetArg::Markdown => &[Target::Markdown],
            TargetArg::Json => &[Target::Json],
            TargetArg::All => Target::ALL,
        };
        targets.extend(add);
    }
    targets.sort();
    targets.dedup();
    let outputs = dqc_compiler::compile(&checked.project, &targets);
    for f in &outputs {
        files::write_atomic(&args.out.join(&f.path), &f.contents)?;
    }
    errln!(
        "compiled {} contract(s) into {} file(s) in {}",
        checked.project.contracts.len(),
        outputs.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
