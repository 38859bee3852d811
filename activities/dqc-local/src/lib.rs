//! Local adapters for the embedded default: no cloud, no network.
//!
//! - [`DuckEngine`]: DuckDB in-process as the query engine, with the tables of a lake folder
//!   registered as views (`<lake>/<database>/<table>/`, Parquet or CSV, Hive-style
//!   `key=value` partition folders).
//! - [`LakeCatalog`]: table definitions from a saved Glue `GetTable` response or from the files.
//! - [`FolderStore`]: a local folder with the layout of the artifact bucket; atomic writes.
//! - [`FolderMetadata`]: a local folder standing in for the metadata table (one JSON file per item).
//! - [`example`]: the seeded example loans lake with documented defects.
//! - [`preload()`]: the pre-load split of input files into valid and quarantined Parquet, and
//!   [`load_valid`]: its valid rows into a lake folder.

pub mod bench;
mod catalog;
mod engine;
pub mod example;
mod lake;
mod load;
mod metadata;
mod notifier;
pub mod preload;
mod progress;
mod store;
mod value;

pub use catalog::LakeCatalog;

/// Whether DuckDB was compiled from the crate's bundled sources (the `bundled` feature), rather
/// than linked from a prebuilt library (`DUCKDB_LIB_DIR`, as `scripts/dqc` sets up).
pub const BUNDLED_DUCKDB: bool = cfg!(feature = "bundled");
pub use engine::{path_literal, DuckEngine};
pub use example::{generate as generate_example, ExampleLake, ExampleOptions};
pub use lake::{discover, LakeTable, TableFormat};
pub use load::load_valid;
pub use metadata::FolderMetadata;
pub use notifier::FileNotifier;
pub use preload::{preload, PreloadOptions, PreloadReport};
pub use progress::{Progress, Silent};
pub use store::FolderStore;
pub use value::date_from_days;
