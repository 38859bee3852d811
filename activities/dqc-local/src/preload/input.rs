//! Reading the input files into the raw table: CSV with every column as text and malformed
//! lines kept aside, or Parquet as typed; columns matched to the contract by name.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use dqc_activities::Error;
use dqc_ir::Contract;
use duckdb::Connection;

use super::plan::{lit, q, raw_column, RAW};

/// The table of lines the CSV reader rejected: `file`, `line`, `raw_line`, `error`.
pub(super) const REJECTED: &str = "__dq_rejected";

/// The format of an input file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Csv,
    Parquet,
}

fn format_of(path: &Path) -> Result<Format, Error> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if name.ends_with(".csv") {
        Ok(Format::Csv)
    } else if name.ends_with(".parquet") || name.ends_with(".pq") {
        Ok(Format::Parquet)
    } else {
        Err(Error::fatal(format!(
            "input {} is neither CSV (.csv) nor Parquet (.parquet, .pq): cannot tell how to read it",
            path.display()
        )))
    }
}

/// Fails, naming every missing input, when any input is not a readable file.
pub(super) fn check_files(inputs: &[PathBuf]) -> Result<Vec<Format>, Error> {
    if inputs.is_empty() {
        return Err(Error::fatal("no input files given"));
    }
    let missing: Vec<String> = inputs.iter().filter(|p| !p.is_file()).map(|p| p.display().to_string()).collect();
    if !missing.is_empty() {
        return Err(Error::fatal(format!("input file(s) not found: {}", missing.join(", "))));
    }
    inputs.iter().map(|p| format_of(p)).collect()
}

/// Splits one CSV header line into names (double-quote quoting, `""` for a quote).
fn split_header(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out.into_iter().map(|f| f.trim().to_string()).collect()
}

fn csv_header(path: &Path) -> Result<Vec<String>, Error> {
    let io = |e: std::io::Error| Error::fatal(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io)?;
    let mut line = String::new();
    // A header longer than 1 MiB is not a header.
    BufReader::new(file).take(1 << 20).read_line(&mut line).map_err(io)?;
    let line = line.trim_start_matches('\u{feff}').trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Err(Error::fatal(format!(
            "input {} is empty: expected a header line naming the columns",
            path.display()
        )));
    }
    Ok(split_header(line))
}

fn parquet_columns(conn: &Connection, path: &Path) -> Result<Vec<String>, Error> {
    let sql = format!("DESCRIBE SELECT * FROM read_parquet({})", lit(&path.display().to_string()));
    let fail = |e: duckdb::Error| Error::fatal(format!("cannot read Parquet file {}: {e}", path.display()));
    let mut stmt = conn.prepare(&sql).map_err(fail)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(fail)?;
    rows.collect::<Result<Vec<String>, _>>().map_err(fail)
}

/// For each contract column, the file's spelling of it; fails naming missing, extra and
/// repeated columns.
fn match_columns(path: &Path, contract: &Contract, found: &[String]) -> Result<Vec<String>, Error> {
    let mut problems = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut repeated = Vec::new();
    for f in found {
        if seen.iter().any(|s| s.eq_ignore_ascii_case(f)) {
            repeated.push(f.clone());
        }
        seen.push(f.clone());
    }
    let missing: Vec<&str> = contract
        .columns
        .iter()
        .filter(|c| !found.iter().any(|f| f.eq_ignore_ascii_case(&c.name)))
        .map(|c| c.name.as_str())
        .collect();
    let extra: Vec<&str> = found
        .iter()
        .filter(|f| !contract.columns.iter().any(|c| c.name.eq_ignore_ascii_case(f)))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        problems.push(format!("missing column(s) {}", missing.join(", ")));
    }
    if !extra.is_empty() {
        problems.push(format!("extra column(s) {}", extra.join(", ")));
    }
    if !repeated.is_empty() {
        problems.push(format!("repeated column(s) {}", repeated.join(", ")));
    }
    if !problems.is_empty() {
        return Err(Error::fatal(format!(
            "input {} does not match the contract of {}: {}",
            path.display(),
            contract.table.qualified(),
            problems.join("; ")
        )));
    }
    Ok(contract
        .columns
        .iter()
        .map(|c| found.iter().find(|f| f.eq_ignore_ascii_case(&c.name)).cloned().unwrap_or_else(|| c.name.clone()))
        .collect())
}

fn exec(conn: &Connection, sql: &str, what: &str) -> Result<(), Error> {
    crate::engine::traced(sql, || conn.execute_batch(sql)).map_err(|e| Error::fatal(format!("{what}: {e}")))
}

/// The `SELECT` list placing a file's columns under their raw names.
fn raw_select(file_index: usize, position: &str, spelled: &[String]) -> String {
    let mut cols = vec![format!("{file_index} AS __dq_file"), format!("{position} AS __dq_row")];
    cols.extend(spelled.iter().enumerate().map(|(i, s)| format!("{} AS {}", q(s), q(&raw_column(i)))));
    cols.join(", ")
}

fn csv_reader(path: &Path, header: &[String], i: usize) -> String {
    let columns: Vec<String> = header.iter().map(|h| format!("{}: 'VARCHAR'", lit(h))).collect();
    format!(
        "read_csv({}, header = true, auto_detect = false, columns = {{{}}}, delim = ',', quote = '\"', escape = '\"', \
         allow_quoted_nulls = false, store_rejects = true, rejects_table = '__dq_rejects_{i}', \
         rejects_scan = '__dq_rejects_scan_{i}')",
        lit(&path.display().to_string()),
        columns.join(", ")
    )
}

/// Loads every input into the raw table (and CSV rejects into [`REJECTED`]); returns the rows
/// read into the raw table and the rejected lines.
pub(super) fn load(conn: &Connection, contract: &Contract, inputs: &[PathBuf]) -> Result<(u64, u64), Error> {
    let formats = check_files(inputs)?;
    let raw_cols: Vec<String> = (0..contract.columns.len()).map(|i| format!("{} VARCHAR", q(&raw_column(i)))).collect();
    exec(
        conn,
        &format!("CREATE OR REPLACE TABLE {REJECTED} (file VARCHAR, line BIGINT, raw_line VARCHAR, error VARCHAR);"),
        "cannot create the rejects table",
    )?;
    let mut parquet_selects = Vec::new();
    let mut created = false;
    for (i, (path, format)) in inputs.iter().zip(&formats).enumerate() {
        match format {
            Format::Csv => {
                let header = csv_header(path)?;
                let spelled = match_columns(path, contract, &header)?;
                if !created {
                    exec(
                        conn,
                        &format!(
                            "CREATE OR REPLACE TABLE {RAW} (__dq_file INTEGER, __dq_row BIGINT, {});",
                            raw_cols.join(", ")
                        ),
                        "cannot create the raw table",
                    )?;
                    created = true;
                }
                let read = format!(
                    "INSERT INTO {RAW} SELECT {} FROM {};",
                    raw_select(i, "row_number() OVER ()", &spelled),
                    csv_reader(path, &header, i)
                );
                exec(conn, &read, &format!("cannot read CSV file {}", path.display()))?;
                let rejects = format!(
                    "INSERT INTO {REJECTED} SELECT {}, line, first(csv_line ORDER BY byte_position), \
                     first(error_message ORDER BY byte_position) FROM __dq_rejects_{i} GROUP BY line;",
                    lit(&path.display().to_string())
                );
                exec(conn, &rejects, &format!("cannot collect rejected lines of {}", path.display()))?;
            }
            Format::Parquet => {
                let found = parquet_columns(conn, path)?;
                let spelled = match_columns(path, contract, &found)?;
                parquet_selects.push(format!(
                    "SELECT {} FROM read_parquet({}, file_row_number = true)",
                    raw_select(i, "file_row_number", &spelled),
                    lit(&path.display().to_string())
                ));
            }
        }
    }
    if !parquet_selects.is_empty() {
        if created {
            // Mixed inputs: CSV values are text, so Parquet values join them as text.
            for s in &parquet_selects {
                exec(conn, &format!("INSERT INTO {RAW} BY NAME {s};"), "cannot read Parquet input")?;
            }
            // Back in input order (file, then position), which the outputs keep.
            exec(
                conn,
                &format!("CREATE OR REPLACE TABLE {RAW} AS SELECT * FROM {RAW} ORDER BY __dq_file, __dq_row;"),
                "cannot order the inputs",
            )?;
        } else if let [only] = parquet_selects.as_slice() {
            // One Parquet file is read where it lies, by each scan of the split, in file order.
            exec(conn, &format!("CREATE OR REPLACE VIEW {RAW} AS {only};"), "cannot read Parquet input")?;
        } else {
            let union = parquet_selects.join("\nUNION ALL BY NAME\n");
            exec(
                conn,
                &format!("CREATE OR REPLACE TABLE {RAW} AS {union}\nORDER BY __dq_file, __dq_row;"),
                "cannot read Parquet input",
            )?;
        }
    }
    let count = |sql: &str| -> Result<u64, Error> {
        let n: i64 =
            conn.query_row(sql, [], |r| r.get(0)).map_err(|e| Error::fatal(format!("cannot count input rows: {e}")))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok((count(&format!("SELECT count(*) FROM {RAW}"))?, count(&format!("SELECT count(*) FROM {REJECTED}"))?))
}

#[cfg(test)]
mod tests {
    use super::split_header;

    #[test]
    fn headers_split_on_unquoted_commas() {
        assert_eq!(split_header("a, \"b,c\" ,\"d\"\"e\""), vec!["a", "b,c", "d\"e"]);
    }
}
