//! Loading the valid rows of a pre-load split into a lake folder: the step a Glue job takes
//! after `split`, done locally.

use std::path::Path;

use dqc_activities::{Error, QueryEngine};
use dqc_codegen::sql::{Dialect, DuckDb};
use dqc_ir::Contract;

use crate::engine::{path_literal, DuckEngine};

/// Writes the rows of `valid` (a Parquet file the split wrote) to `<lake>/<database>/<table>/`
/// as Parquet, in Hive-style folders of the contract's partition columns, with the split's
/// `_dq_warnings` column left out. The table folder is written beside and renamed into place,
/// so readers see the old table or the new one. Returns the rows loaded.
pub fn load_valid(valid: &Path, lake: &Path, contract: &Contract) -> Result<u64, Error> {
    let database = contract.table.database.as_deref().unwrap_or("default");
    let folder = lake.join(database).join(&contract.table.table);
    let parent = folder.parent().unwrap_or(lake);
    std::fs::create_dir_all(parent).map_err(|e| Error::fatal(format!("cannot create {}: {e}", parent.display())))?;
    let tmp = parent.join(format!(".{}.loading-{}", contract.table.table, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let columns: Vec<String> = contract.columns.iter().map(|c| DuckDb.quote_ident(&c.name)).collect();
    let partitions: Vec<String> = contract.partitions.iter().map(|p| DuckDb.quote_ident(p)).collect();
    let target = if partitions.is_empty() {
        std::fs::create_dir_all(&tmp).map_err(|e| Error::fatal(format!("cannot create {}: {e}", tmp.display())))?;
        format!("{} (FORMAT parquet)", path_literal(&tmp.join("data.parquet").display().to_string()))
    } else {
        format!(
            "{} (FORMAT parquet, PARTITION_BY ({}))",
            path_literal(&tmp.display().to_string()),
            partitions.join(", ")
        )
    };
    let engine = DuckEngine::in_memory()?;
    let source = format!("read_parquet({})", path_literal(&valid.display().to_string()));
    engine.execute(&format!("COPY (SELECT {} FROM {source}) TO {target};", columns.join(", ")))?;
    if folder.exists() {
        std::fs::remove_dir_all(&folder)
            .map_err(|e| Error::fatal(format!("cannot replace {}: {e}", folder.display())))?;
    }
    std::fs::rename(&tmp, &folder)
        .map_err(|e| Error::fatal(format!("cannot move {} into place: {e}", folder.display())))?;
    let loaded = path_literal(&format!("{}/**/*.parquet", folder.display()));
    let rows = engine.query(&format!("SELECT count(*) FROM read_parquet({loaded})"), &[])?;
    Ok(rows.rows.first().and_then(|r| r.first()).and_then(serde_json::Value::as_u64).unwrap_or(0))
}
