//! A lake folder: `<lake>/<database>/<table>/` holding Parquet or CSV files, possibly under
//! Hive-style `key=value` partition folders.

use std::path::{Path, PathBuf};

use dqc_activities::Error;

/// The file format of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// `*.parquet` files.
    Parquet,
    /// `*.csv` files with a header line.
    Csv,
}

/// One table found in the lake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeTable {
    /// The database folder.
    pub database: String,
    /// The table folder.
    pub table: String,
    /// The table folder's path.
    pub path: PathBuf,
    /// The format of its files.
    pub format: TableFormat,
    /// Whether files sit under `key=value` folders.
    pub hive_partitioned: bool,
}

impl LakeTable {
    /// The glob DuckDB reads the table's files with.
    pub fn glob(&self) -> String {
        let ext = match self.format {
            TableFormat::Parquet => "parquet",
            TableFormat::Csv => "csv",
        };
        format!("{}/**/*.{ext}", self.path.display())
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Finds every table of a lake folder, sorted by database and table.
pub fn discover(lake: &Path) -> Result<Vec<LakeTable>, Error> {
    let read = |p: &Path| {
        std::fs::read_dir(p).map_err(|e| Error::fatal(format!("cannot read lake folder {}: {e}", p.display())))
    };
    let mut tables = Vec::new();
    // Hidden folders (`.name`) are work in progress, such as a table being loaded.
    let visible = |p: &PathBuf| p.is_dir() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
    let mut dbs: Vec<PathBuf> = read(lake)?.flatten().map(|e| e.path()).filter(visible).collect();
    dbs.sort();
    for db in dbs {
        let mut tbls: Vec<PathBuf> = read(&db)?.flatten().map(|e| e.path()).filter(visible).collect();
        tbls.sort();
        for t in tbls {
            let mut all = Vec::new();
            files(&t, &mut all);
            let has = |ext: &str| all.iter().any(|f| f.extension().is_some_and(|e| e == ext));
            let format = if has("parquet") {
                TableFormat::Parquet
            } else if has("csv") {
                TableFormat::Csv
            } else {
                continue;
            };
            let hive_partitioned = std::fs::read_dir(&t)
                .map(|rd| rd.flatten().any(|e| e.path().is_dir() && e.file_name().to_string_lossy().contains('=')))
                .unwrap_or(false);
            let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            tables.push(LakeTable { database: name(&db), table: name(&t), path: t.clone(), format, hive_partitioned });
        }
    }
    Ok(tables)
}
