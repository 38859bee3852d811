//! Loading the valid rows of a pre-load split into a lake folder: the step a Glue job takes
//! after `split`, done locally.

use std::path::Path;

use dqc_activities::{Error, QueryEngine};
use dqc_codegen::sql::{Dialect, DuckDb};
use dqc_ir::Contract;

use crate::engine::{path_literal, DuckEngine};

/// Writes the rows of `valid` (a Parquet file the split wrote) to `<lake>/<database>/<table>/`
/// as Parquet, in Hive-style folders of the contract's partition columns, with the split's
/// `_dq_warnings` column left out. The table folder is written beside (a hidden folder the
/// lake's discovery skips) and renamed into place; an old table is moved aside first and put
/// back if the new one cannot take its place. Returns the rows loaded.
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
    if let Err(e) = engine.execute(&format!("COPY (SELECT {} FROM {source}) TO {target};", columns.join(", "))) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    swap_in(&tmp, &folder)?;
    let loaded = path_literal(&format!("{}/**/*.parquet", folder.display()));
    let rows = engine.query(&format!("SELECT count(*) FROM read_parquet({loaded})"), &[])?;
    Ok(rows.rows.first().and_then(|r| r.first()).and_then(serde_json::Value::as_u64).unwrap_or(0))
}

/// Moves `new` to `folder`, keeping the old `folder` until the new one is in place.
fn swap_in(new: &Path, folder: &Path) -> Result<(), Error> {
    let name = folder.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let old = folder.with_file_name(format!(".{name}.replaced-{}", std::process::id()));
    let had_old = folder.exists();
    if had_old {
        std::fs::rename(folder, &old)
            .map_err(|e| Error::fatal(format!("cannot move {} aside: {e}", folder.display())))?;
    }
    if let Err(e) = std::fs::rename(new, folder) {
        if had_old {
            let _ = std::fs::rename(&old, folder);
        }
        let _ = std::fs::remove_dir_all(new);
        return Err(Error::fatal(format!("cannot move the loaded rows into {}: {e}", folder.display())));
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}
