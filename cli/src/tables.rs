//! Where the commands find their tables and keep their records: the embedded default (a lake
//! folder read by DuckDB, artifact and metadata folders) or AWS (the Glue Data Catalog, Athena,
//! S3 and DynamoDB, configured by the standard AWS chain: environment, profile, SSO, container
//! and instance credentials; `AWS_REGION`, `AWS_ENDPOINT_URL`).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use dqc_activities::{ArtifactStore, Catalog, MetadataStore, QueryEngine};
#[cfg(feature = "aws")]
pub use dqc_aws::Aws;
#[cfg(feature = "aws")]
use dqc_aws::{AthenaEngine, AthenaOptions, GlueCatalog};
use dqc_local::{DuckEngine, FolderMetadata, FolderStore, LakeCatalog};

use crate::Fatal;

/// Without the AWS adapters there is no connection to have: [`connect`] refuses to make one.
#[cfg(not(feature = "aws"))]
#[derive(Debug)]
pub enum Aws {}

/// What a command that needs AWS says in a build without the AWS adapters.
#[cfg(not(feature = "aws"))]
const NO_AWS: &str = "this dqc was built without the AWS adapters (Glue, Athena, S3, DynamoDB): the quick \
    build of scripts/dqc leaves them out; `DQC_BUILD=full scripts/dqc ...` or `cargo run -p dqc-cli -- ...` \
    has them (the first such build compiles DuckDB, about half an hour on two cores)";

/// Where a table's definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogKind {
    /// The lake folder's own layout (`<lake>/<database>/<table>/`).
    Lake,
    /// The AWS Glue Data Catalog.
    Glue,
}

/// What runs the queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// The embedded DuckDB engine over the lake folder.
    Duckdb,
    /// Amazon Athena, over the tables of the Glue Data Catalog.
    Athena,
}

/// Where the tables are: a lake folder (the default), or Glue and Athena.
#[derive(Debug, Args)]
pub struct TablesArgs {
    /// The lake folder (`<lake>/<database>/<table>/`, Parquet or CSV), read by the embedded
    /// engine. Not used with `--engine athena`.
    #[arg(long)]
    lake: Option<PathBuf>,
    /// Where table definitions come from [default: `glue` with `--engine athena`, else `lake`].
    #[arg(long, value_enum)]
    catalog: Option<CatalogKind>,
    /// What runs the queries.
    #[arg(long, value_enum, default_value_t = EngineKind::Duckdb)]
    engine: EngineKind,
    /// The Athena work group (`--engine athena`).
    #[arg(long, default_value = "primary")]
    workgroup: String,
    /// Where Athena writes query results, `s3://bucket/prefix/` (`--engine athena`)
    /// [default: the work group's setting].
    #[arg(long)]
    athena_output: Option<String>,
    /// Stop an Athena query running longer than this many seconds (`StopQueryExecution`).
    #[arg(long, default_value_t = 1800)]
    athena_deadline: u64,
}

impl TablesArgs {
    /// Whether these tables need an AWS connection.
    fn on_aws(&self) -> bool {
        self.engine == EngineKind::Athena
    }
}

/// The catalog and the engine over the tables.
pub enum Tables {
    /// A lake folder and the embedded engine over it.
    Lake { lake: PathBuf, engine: DuckEngine },
    /// The Glue Data Catalog and Athena.
    #[cfg(feature = "aws")]
    Aws { catalog: GlueCatalog, engine: AthenaEngine },
}

impl Tables {
    /// Opens the tables `a` names and makes sure `table` (`database.table`) is among them.
    pub fn open(a: &TablesArgs, aws: Option<&Aws>, table: &str) -> Result<Tables, Fatal> {
        let catalog = a.catalog.unwrap_or(if a.on_aws() { CatalogKind::Glue } else { CatalogKind::Lake });
        match (a.engine, catalog, &a.lake, aws) {
            (EngineKind::Duckdb, CatalogKind::Lake, Some(lake), _) => {
                Ok(Tables::Lake { lake: lake.clone(), engine: open_lake(lake, table)? })
            }
            (EngineKind::Duckdb, CatalogKind::Lake, None, _) => {
                Err(Fatal("say where the tables are: --lake FOLDER, or --engine athena (Glue and Athena)".into()))
            }
            (EngineKind::Duckdb, CatalogKind::Glue, ..) => {
                Err(Fatal("the embedded engine reads a lake folder: --catalog glue goes with --engine athena".into()))
            }
            (EngineKind::Athena, CatalogKind::Lake, ..) => Err(Fatal(
                "Athena reads the tables of the Glue Data Catalog: --engine athena goes with --catalog glue".into(),
            )),
            (EngineKind::Athena, CatalogKind::Glue, Some(_), _) => Err(Fatal(
                "--lake is read by the embedded engine; with --engine athena the tables come from Glue".into(),
            )),
            (EngineKind::Athena, CatalogKind::Glue, None, None) => {
                Err(Fatal("internal: Athena without an AWS connection".into()))
            }
            (EngineKind::Athena, CatalogKind::Glue, None, Some(aws)) => open_athena(a, aws, table),
        }
    }

    /// The engine's SQL dialect, for compiling the suite.
    pub fn dialect(&self) -> &dyn dqc_compiler::codegen::sql::Dialect {
        match self {
            Tables::Lake { engine, .. } => engine.dialect(),
            #[cfg(feature = "aws")]
            Tables::Aws { engine, .. } => engine.dialect(),
        }
    }

    /// Runs `work` over the catalog and the engine, with progress on stderr named `label`.
    pub fn run<T>(&self, label: &str, work: impl FnOnce(&dyn Catalog, &dyn QueryEngine) -> T) -> T {
        let bar = crate::progress::Bar::stderr();
        match self {
            Tables::Lake { lake, engine } => {
                let catalog = LakeCatalog::new(lake, engine);
                engine.with_progress(label, &bar, |e| work(&catalog, e))
            }
            #[cfg(feature = "aws")]
            Tables::Aws { catalog, engine } => {
                dqc_local::Progress::phase(&bar, label, None);
                work(catalog, engine)
            }
        }
    }

    /// The embedded engine, when the tables are a lake folder.
    pub fn duck(&self) -> Option<&DuckEngine> {
        match self {
            Tables::Lake { engine, .. } => Some(engine),
            #[cfg(feature = "aws")]
            Tables::Aws { .. } => None,
        }
    }
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tables::Lake { lake, .. } => f.debug_struct("Lake").field("lake", lake).finish_non_exhaustive(),
            #[cfg(feature = "aws")]
            Tables::Aws { engine, .. } => {
                f.debug_struct("Aws").field("athena", &engine.options).finish_non_exhaustive()
            }
        }
    }
}

/// Opens `table` in the Glue Data Catalog, queried by Athena.
#[cfg(feature = "aws")]
fn open_athena(a: &TablesArgs, aws: &Aws, table: &str) -> Result<Tables, Fatal> {
    let (database, name) = split_table(table)?;
    let glue = GlueCatalog::new(aws);
    if glue.table(database, name).map_err(fatal)?.is_none() {
        return Err(Fatal(format!("table {table} is not in the Glue Data Catalog")));
    }
    let options = AthenaOptions {
        work_group: a.workgroup.clone(),
        output_location: a.athena_output.clone(),
        database: Some(database.to_owned()),
        deadline: std::time::Duration::from_secs(a.athena_deadline),
        ..AthenaOptions::default()
    };
    Ok(Tables::Aws { catalog: glue, engine: AthenaEngine::new(aws, options) })
}

#[cfg(not(feature = "aws"))]
fn open_athena(_: &TablesArgs, aws: &Aws, _: &str) -> Result<Tables, Fatal> {
    match *aws {}
}

pub(crate) fn fatal(e: dqc_activities::Error) -> Fatal {
    Fatal(e.message)
}

pub(crate) fn split_table(name: &str) -> Result<(&str, &str), Fatal> {
    name.split_once('.')
        .filter(|(d, t)| !d.is_empty() && !t.is_empty())
        .ok_or_else(|| Fatal(format!("table `{name}` must be written database.table")))
}

/// Opens the lake and makes sure `database.table` is in it and readable.
pub(crate) fn open_lake(lake: &Path, table: &str) -> Result<DuckEngine, Fatal> {
    let engine = DuckEngine::over_lake(lake).map_err(fatal)?;
    if let Some(why) = engine.unreadable(table) {
        return Err(Fatal(format!("table {table} in {} cannot be read: {why}", lake.display())));
    }
    let tables = dqc_local::discover(lake).map_err(fatal)?;
    let names: Vec<String> = tables.iter().map(|t| format!("{}.{}", t.database, t.table)).collect();
    if !names.iter().any(|n| n == table) {
        let known = if names.is_empty() { "none".to_string() } else { names.join(", ") };
        return Err(Fatal(format!("table {table} not found in lake {} (tables: {known})", lake.display())));
    }
    Ok(engine)
}

/// An AWS connection when any of `needs` holds, from the standard configuration chain.
pub fn connect(needs: bool) -> Result<Option<Aws>, Fatal> {
    if !needs {
        return Ok(None);
    }
    #[cfg(feature = "aws")]
    {
        let exec = dqc_aws::Exec::owned().map_err(fatal)?;
        Ok(Some(Aws::connect(exec, &dqc_aws::Connect::default())))
    }
    #[cfg(not(feature = "aws"))]
    Err(Fatal(NO_AWS.to_string()))
}

/// Whether an artifact location is in S3.
pub fn is_s3(location: &str) -> bool {
    location.starts_with("s3://")
}

/// Whether a metadata location is a DynamoDB table.
pub fn is_dynamodb(location: &str) -> bool {
    location.starts_with("dynamodb:")
}

/// The artifact store `location` names: a folder, or `s3://bucket/prefix`.
pub fn artifact_store(location: &str, aws: Option<&Aws>) -> Result<Box<dyn ArtifactStore>, Fatal> {
    match aws {
        Some(aws) if is_s3(location) => s3_store(aws, location),
        None if is_s3(location) => Err(Fatal("internal: S3 without an AWS connection".into())),
        _ => Ok(Box::new(FolderStore::new(location))),
    }
}

/// The metadata store `location` names (a folder, or `dynamodb:TABLE`); without one, the
/// folder `_metadata` beside local artifacts.
pub fn metadata_store(
    location: Option<&str>,
    artifacts: &str,
    aws: Option<&Aws>,
) -> Result<Box<dyn MetadataStore>, Fatal> {
    match (location, aws) {
        (Some(m), Some(aws)) if is_dynamodb(m) => {
            let table = m.trim_start_matches("dynamodb:");
            if table.is_empty() {
                return Err(Fatal("--metadata dynamodb:TABLE needs the table's name".into()));
            }
            dynamo_metadata(aws, table)
        }
        (Some(m), None) if is_dynamodb(m) => Err(Fatal("internal: DynamoDB without an AWS connection".into())),
        (Some(m), _) => Ok(Box::new(FolderMetadata::new(m))),
        (None, _) if is_s3(artifacts) => {
            Err(Fatal("with s3:// artifacts, say where runs are indexed: --metadata dynamodb:TABLE or a folder".into()))
        }
        (None, _) => Ok(Box::new(FolderMetadata::new(Path::new(artifacts).join("_metadata")))),
    }
}

#[cfg(feature = "aws")]
fn s3_store(aws: &Aws, location: &str) -> Result<Box<dyn ArtifactStore>, Fatal> {
    Ok(Box::new(dqc_aws::S3Store::new(aws, location).map_err(fatal)?))
}

#[cfg(not(feature = "aws"))]
fn s3_store(aws: &Aws, _: &str) -> Result<Box<dyn ArtifactStore>, Fatal> {
    match *aws {}
}

#[cfg(feature = "aws")]
fn dynamo_metadata(aws: &Aws, table: &str) -> Result<Box<dyn MetadataStore>, Fatal> {
    Ok(Box::new(dqc_aws::DynamoMetadata::new(aws, table)))
}

#[cfg(not(feature = "aws"))]
fn dynamo_metadata(aws: &Aws, _: &str) -> Result<Box<dyn MetadataStore>, Fatal> {
    match *aws {}
}

/// Whether `a`, `artifacts` or `metadata` need an AWS connection.
pub fn needs_aws(a: Option<&TablesArgs>, artifacts: Option<&str>, metadata: Option<&str>) -> bool {
    a.is_some_and(TablesArgs::on_aws) || artifacts.is_some_and(is_s3) || metadata.is_some_and(is_dynamodb)
}
