//! The catalog of a lake folder: a table's definition comes from a Glue `GetTable` response
//! saved as `<lake>/<database>/<table>.catalog.json` when there is one, and otherwise from the
//! files themselves (the columns DuckDB reads, the `key=value` partition folders).

use std::path::{Path, PathBuf};

use dqc_activities::profile::{self, SchemaColumn};
use dqc_activities::{Catalog, CatalogTable, Error};
use serde::Deserialize;

use crate::engine::DuckEngine;
use crate::lake::discover;

/// The catalog of a lake folder, reading files through a [`DuckEngine`] opened over it.
#[derive(Debug)]
pub struct LakeCatalog<'e> {
    lake: PathBuf,
    engine: &'e DuckEngine,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetTable {
    table: GlueTable,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GlueTable {
    name: String,
    database_name: String,
    storage_descriptor: StorageDescriptor,
    #[serde(default)]
    partition_keys: Vec<GlueColumn>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StorageDescriptor {
    columns: Vec<GlueColumn>,
    #[serde(default)]
    location: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GlueColumn {
    name: String,
    #[serde(rename = "Type")]
    ty: String,
}

fn column(name: &str, engine_type: &str) -> SchemaColumn {
    SchemaColumn {
        name: name.to_string(),
        ty: profile::contract_type(engine_type),
        nullable: true,
        engine_type: engine_type.to_string(),
    }
}

/// The partition keys of a table folder, outermost first, from its first `key=value` folders.
fn partition_keys(dir: &Path) -> Vec<String> {
    let mut keys = Vec::new();
    let mut at = dir.to_path_buf();
    loop {
        let Ok(entries) = std::fs::read_dir(&at) else { break };
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        let Some(next) = dirs.into_iter().find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains('=')))
        else {
            break;
        };
        let name = next.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        keys.push(name.split('=').next().unwrap_or_default().to_string());
        at = next;
    }
    keys
}

impl<'e> LakeCatalog<'e> {
    /// The catalog of `lake`; `engine` must have been opened over the same folder.
    pub fn new(lake: impl Into<PathBuf>, engine: &'e DuckEngine) -> Self {
        LakeCatalog { lake: lake.into(), engine }
    }

    fn snapshot_path(&self, database: &str, table: &str) -> PathBuf {
        self.lake.join(database).join(format!("{table}.catalog.json"))
    }

    fn read_snapshot(path: &Path, database: &str, table: &str) -> Result<CatalogTable, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::fatal(format!("{}: {e}", path.display())))?;
        let parsed: GetTable = serde_json::from_str(&text).map_err(|e| {
            Error::fatal(format!("{}:{}:{}: not a Glue GetTable response: {e}", path.display(), e.line(), e.column()))
        })?;
        let t = parsed.table;
        if !t.name.eq_ignore_ascii_case(table) || !t.database_name.eq_ignore_ascii_case(database) {
            return Err(Error::fatal(format!(
                "{}: describes {}.{}, not {database}.{table}",
                path.display(),
                t.database_name,
                t.name
            )));
        }
        let all = t.storage_descriptor.columns.iter().chain(&t.partition_keys);
        Ok(CatalogTable {
            database: database.to_string(),
            table: table.to_string(),
            columns: all.map(|c| column(&c.name, &c.ty)).collect(),
            partition_keys: t.partition_keys.iter().map(|c| c.name.clone()).collect(),
            location: t.storage_descriptor.location,
        })
    }
}

impl Catalog for LakeCatalog<'_> {
    fn tables(&self) -> Result<Vec<String>, Error> {
        let mut names: Vec<String> =
            discover(&self.lake)?.iter().map(|t| format!("{}.{}", t.database, t.table)).collect();
        for db in std::fs::read_dir(&self.lake).into_iter().flatten().flatten().filter(|e| e.path().is_dir()) {
            for f in std::fs::read_dir(db.path()).into_iter().flatten().flatten() {
                let name = f.file_name().to_string_lossy().to_string();
                if let Some(table) = name.strip_suffix(".catalog.json") {
                    names.push(format!("{}.{table}", db.file_name().to_string_lossy()));
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn table(&self, database: &str, table: &str) -> Result<Option<CatalogTable>, Error> {
        let snapshot = self.snapshot_path(database, table);
        if snapshot.is_file() {
            return Self::read_snapshot(&snapshot, database, table).map(Some);
        }
        let Some(found) = discover(&self.lake)?.into_iter().find(|t| t.database == database && t.table == table) else {
            return Ok(None);
        };
        if let Some(why) = self.engine.unreadable(&format!("{database}.{table}")) {
            return Err(Error::fatal(format!("table {database}.{table} cannot be read: {why}")));
        }
        Ok(Some(CatalogTable {
            database: database.to_string(),
            table: table.to_string(),
            columns: profile::schema(self.engine, database, table)?,
            partition_keys: partition_keys(&found.path),
            location: Some(found.path.display().to_string()),
        }))
    }
}
