//! Reading the input files into the raw table: CSV with every column as text and malformed
//! lines kept aside, or Parquet as typed; columns matched to the contract by name.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use dqc_activities::Error;
use dqc_ir::Contract;
use duckdb::Connection;

use super::lines::{self, SetAside};
use super::plan::{lit, q, raw_column, RAW};

/// The table of CSV lines set aside: `file`, `line` (1-based, the header is line 1), `lines`
/// (physical lines spanned), `raw_line` (the text; invalid UTF-8 shown as U+FFFD),
/// `raw_bytes` (the exact bytes, terminator included) and `error`.
pub(super) const REJECTED: &str = "__dq_rejected";

/// What [`load`] read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Loaded {
    /// Rows in the raw table.
    pub rows: u64,
    /// Entries set aside (rejected lines).
    pub rejected: u64,
    /// Physical lines after the headers of the CSV inputs; `None` without CSV inputs.
    pub lines: Option<u64>,
    /// Blank lines skipped.
    pub blank: u64,
    /// Whether every CSV line is in a record, a rejected entry or a blank line, and DuckDB read
    /// exactly the records the line scan passed on.
    pub accounted: bool,
    /// The raw columns are text (some input was CSV), not typed.
    pub raw_text: bool,
}

/// Appends set-aside lines to [`REJECTED`].
struct RejectSink<'c> {
    appender: duckdb::Appender<'c>,
    file: String,
}

impl lines::Sink for RejectSink<'_> {
    fn record(&mut self, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }
    fn set_aside(&mut self, e: SetAside) -> Result<(), Error> {
        let text = String::from_utf8_lossy(lines::content(&e.bytes)).into_owned();
        let line = i64::try_from(e.line).unwrap_or(i64::MAX);
        let spanned = i64::try_from(e.lines).unwrap_or(i64::MAX);
        self.appender
            .append_row(duckdb::params![self.file, line, spanned, text, e.bytes, e.reason])
            .map_err(|err| Error::fatal(format!("cannot keep a rejected line of {}: {err}", self.file)))
    }
}

/// Scans one CSV input (see [`lines`]): rejected lines go to [`REJECTED`], and when anything
/// is set aside or skipped, the records are copied into `scratch` for DuckDB to read. Returns the
/// file DuckDB reads and the scan.
fn scan_csv(
    conn: &Connection,
    path: &Path,
    width: usize,
    scratch: &Path,
    i: usize,
    progress: &dyn crate::Progress,
) -> Result<(PathBuf, lines::Scan), Error> {
    let appender = conn.appender(REJECTED).map_err(|e| Error::fatal(format!("cannot open the rejects table: {e}")))?;
    let mut sink = RejectSink { appender, file: path.display().to_string() };
    let scan = lines::scan(path, width, &mut sink, progress)?;
    sink.appender
        .flush()
        .map_err(|e| Error::fatal(format!("cannot keep the rejected lines of {}: {e}", path.display())))?;
    drop(sink);
    if scan.set_aside == 0 && scan.blank == 0 && scan.uneven_endings == 0 {
        return Ok((path.to_path_buf(), scan));
    }
    let copy_path = scratch.join(format!("input-{i}.csv"));
    let what = format!("cannot write the readable lines of {} to {}", path.display(), copy_path.display());
    let io = |e: std::io::Error| Error::fatal(format!("{what}: {e}"));
    let header = {
        let file =
            std::fs::File::open(path).map_err(|e| Error::fatal(format!("cannot read {}: {e}", path.display())))?;
        let mut line = Vec::new();
        BufReader::new(file).read_until(b'\n', &mut line).map_err(io)?;
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        line
    };
    let out = std::io::BufWriter::new(std::fs::File::create(&copy_path).map_err(io)?);
    let mut copy = lines::Copy::new(out, &header, what.clone())?;
    progress.phase(
        &format!("copying the readable lines of {}", path.display()),
        std::fs::metadata(path).map(|m| m.len()).ok(),
    );
    let again = lines::scan(path, width, &mut copy, progress)?;
    copy.finish()?;
    if again != scan {
        return Err(Error::fatal(format!("{} changed while it was being read", path.display())));
    }
    Ok((copy_path, scan))
}

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
    if !line.ends_with('\n') && std::fs::metadata(path).is_ok_and(|m| m.len() > 1 << 20) {
        return Err(Error::fatal(format!(
            "input {}: the first line is longer than 1 MiB, so it is not a header (are lines ended by a carriage return alone?)",
            path.display()
        )));
    }
    let line = line.trim_start_matches('\u{feff}').trim_end_matches(['\r', '\n']);
    if line.contains('\r') {
        return Err(Error::fatal(format!(
            "input {}: lines end with a carriage return alone (old Mac style); convert them to \\n or \\r\\n",
            path.display()
        )));
    }
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
    // Column names here are positional: the header's own spelling may repeat after trimming.
    let columns: Vec<String> =
        (0..header.len()).map(|c| format!("{}: 'VARCHAR'", lit(&format!("__dq_c{c}")))).collect();
    format!(
        "read_csv({}, header = true, auto_detect = false, columns = {{{}}}, delim = ',', quote = '\"', escape = '\"', \
         allow_quoted_nulls = false, max_line_size = {}, store_rejects = true, rejects_table = '__dq_rejects_{i}', \
         rejects_scan = '__dq_rejects_scan_{i}')",
        lit(&path.display().to_string()),
        columns.join(", "),
        2 << 20
    )
}

/// Loads every input into the raw table (and rejected CSV lines into [`REJECTED`]).
pub(super) fn load(
    conn: &Connection,
    contract: &Contract,
    inputs: &[PathBuf],
    scratch: &Path,
    progress: &dyn crate::Progress,
) -> Result<Loaded, Error> {
    let formats = check_files(inputs)?;
    let raw_cols: Vec<String> = (0..contract.columns.len()).map(|i| format!("{} VARCHAR", q(&raw_column(i)))).collect();
    exec(
        conn,
        &format!(
            "CREATE OR REPLACE TABLE {REJECTED} (file VARCHAR, line BIGINT, lines BIGINT, raw_line VARCHAR, \
             raw_bytes BLOB, error VARCHAR);"
        ),
        "cannot create the rejects table",
    )?;
    let mut loaded = Loaded { accounted: true, ..Loaded::default() };
    let mut parquet_selects = Vec::new();
    let mut created = false;
    for (i, (path, format)) in inputs.iter().zip(&formats).enumerate() {
        match format {
            Format::Csv => {
                let header = csv_header(path)?;
                let spelled = match_columns(path, contract, &header)?;
                let size = std::fs::metadata(path).map(|m| m.len()).ok();
                progress.phase(&format!("checking the lines of {}", path.display()), size);
                let (source, scan) = scan_csv(conn, path, header.len(), scratch, i, progress)?;
                progress.phase(&format!("reading {}", path.display()), None);
                *loaded.lines.get_or_insert(0) += scan.lines;
                loaded.blank += scan.blank;
                loaded.accounted &= scan.accounted();
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
                let positional: Vec<String> = spelled
                    .iter()
                    .map(|s| format!("__dq_c{}", header.iter().position(|h| h == s).unwrap_or(0)))
                    .collect();
                let before = count(conn, &format!("SELECT count(*) FROM {RAW}"))?;
                let read = format!(
                    "INSERT INTO {RAW} SELECT {} FROM {};",
                    raw_select(i, "row_number() OVER ()", &positional),
                    csv_reader(&source, &header, i)
                );
                exec(conn, &read, &format!("cannot read CSV file {}", path.display()))?;
                let read_rows = count(conn, &format!("SELECT count(*) FROM {RAW}"))? - before;
                // The line scan passed DuckDB only well-formed records: it must read them all.
                let refused = count(conn, &format!("SELECT count(*) FROM __dq_rejects_{i}"))?;
                if refused > 0 || read_rows != scan.records {
                    let first: String = conn
                        .query_row(
                            &format!("SELECT coalesce(any_value(line::VARCHAR || ': ' || error_message), '') FROM __dq_rejects_{i}"),
                            [],
                            |r| r.get(0),
                        )
                        .unwrap_or_default();
                    return Err(Error::fatal(format!(
                        "CSV file {}: the reader took {read_rows} of the {} well-formed records and refused {refused} \
                         ({first}); nothing was written",
                        path.display(),
                        scan.records
                    )));
                }
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
    if !created && parquet_selects.is_empty() {
        return Err(Error::fatal("no input files given"));
    }
    loaded.raw_text = created;
    loaded.rows = count(conn, &format!("SELECT count(*) FROM {RAW}"))?;
    loaded.rejected = count(conn, &format!("SELECT count(*) FROM {REJECTED}"))?;
    Ok(loaded)
}

fn count(conn: &Connection, sql: &str) -> Result<u64, Error> {
    let n: i64 =
        conn.query_row(sql, [], |r| r.get(0)).map_err(|e| Error::fatal(format!("cannot count input rows: {e}")))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::split_header;

    #[test]
    fn headers_split_on_unquoted_commas() {
        assert_eq!(split_header("a, \"b,c\" ,\"d\"\"e\""), vec!["a", "b,c", "d\"e"]);
    }
}
