//! Activities: the work of the product (post-load runs, profiling, pre-load splits) written
//! once against small ports, with adapters for the embedded default (`dqc-local`: a lake
//! folder, DuckDB, a local artifact folder) and, later, AWS (Glue, Athena, S3, DynamoDB).
//!
//! Errors carry one of a small closed set of stable names ([`ErrorKind`]) that workflow
//! engines match for retries.

pub mod approval;
pub mod context;
pub mod draft;
pub mod events;
pub mod handlers;
pub mod ports;
pub mod post_load;
pub mod profile;
pub mod test_run;

pub use ports::{ArtifactStore, Catalog, CatalogTable, Error, ErrorKind, MetadataStore, QueryEngine, Rows, TaskTokens};
