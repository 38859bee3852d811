//! The line accounting of a CSV input, done on the bytes before DuckDB reads them.
//!
//! DuckDB's CSV reader is fast, but what it does with a malformed line is not an accounting
//! anyone can check: one unterminated quote can swallow the rest of the file into a single
//! rejected "line", and rejected text comes back altered (cut, invalid UTF-8 replaced). So every
//! CSV input is first split here, physical line by physical line, into records (RFC 4180: a
//! quoted field may span lines) and set-aside lines, byte-exact:
//!
//! - a record whose field count matches the header, whose quotes are well formed and whose bytes
//!   are UTF-8 goes to DuckDB;
//! - a blank line is counted and skipped;
//! - anything else is set aside with its exact bytes and a reason. A malformed record that spans
//!   several lines (an unterminated quote, say) sets aside only its first line, and reading
//!   starts again on the next line, so one bad quote costs one line, not the rest of the file.
//!
//! When nothing is set aside, DuckDB reads the file where it lies; otherwise it reads a copy of
//! the header and the records. Either way every physical line after the header is in exactly one
//! of: a record, a set-aside line, a blank line; [`Scan`] carries the counts that prove it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use dqc_activities::Error;

/// The largest record (all its lines) passed on: a longer one is set aside, and a quoted field
/// running longer is treated as an unterminated quote. DuckDB's CSV reader refuses records
/// over its `max_line_size` (2 MiB by default, and its buffers grow with it), so this stays
/// below that.
pub(super) const MAX_RECORD_BYTES: usize = 1 << 20;

/// A line (or a multi-line record) set aside, with its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SetAside {
    /// 1-based physical line number of its first line in the file (the header is line 1).
    pub line: u64,
    /// How many physical lines it spans.
    pub lines: u64,
    /// The bytes, line terminators included, exactly as in the file.
    pub bytes: Vec<u8>,
    /// Why it was set aside.
    pub reason: String,
}

/// The accounting of one CSV file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Scan {
    /// Physical lines after the header.
    pub lines: u64,
    /// Records passed on to DuckDB.
    pub records: u64,
    /// Physical lines those records span.
    pub record_lines: u64,
    /// Blank lines skipped.
    pub blank: u64,
    /// Lines set aside (their physical lines).
    pub set_aside_lines: u64,
    /// Entries set aside.
    pub set_aside: u64,
    /// Records whose line ending differs from the header's (`\r\n` against `\n`): DuckDB
    /// takes the ending from the header and refuses the others, so they are read from a copy
    /// with the header's ending.
    pub uneven_endings: u64,
}

impl Scan {
    /// Every physical line is in exactly one place.
    pub fn accounted(&self) -> bool {
        self.lines == self.record_lines + self.blank + self.set_aside_lines
    }
}

/// Where a scan sends what it finds.
pub(super) trait Sink {
    /// A well-formed record's bytes (with its line terminator, if any).
    fn record(&mut self, bytes: &[u8]) -> Result<(), Error>;
    /// A set-aside line or record.
    fn set_aside(&mut self, entry: SetAside) -> Result<(), Error>;
}

/// Physical lines, from pending ones pushed back and then from the file.
struct Lines<R> {
    reader: R,
    pending: VecDeque<(u64, Vec<u8>)>,
    /// Lines read from the file so far (the header included).
    read: u64,
}

impl<R: BufRead> Lines<R> {
    fn next(&mut self, io: &impl Fn(std::io::Error) -> Error) -> Result<Option<(u64, Vec<u8>)>, Error> {
        if let Some(line) = self.pending.pop_front() {
            return Ok(Some(line));
        }
        let mut buf = Vec::new();
        if self.reader.read_until(b'\n', &mut buf).map_err(io)? == 0 {
            return Ok(None);
        }
        self.read += 1;
        Ok(Some((self.read, buf)))
    }
}

/// Where the parser is within a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// The outcome of parsing a record's lines so far.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// Complete, with this many fields.
    Fields(usize),
    /// Ends inside a quoted field: the next line belongs to it.
    OpenQuote,
    /// Malformed, why.
    Bad(&'static str),
}

/// An RFC 4180 record parser (`,` and `"`) fed one physical line at a time, so a record of many
/// lines is parsed in one pass over its bytes.
#[derive(Debug)]
struct Parser {
    state: State,
    fields: usize,
}

impl Parser {
    fn new() -> Self {
        Parser { state: State::FieldStart, fields: 1 }
    }

    /// Feeds one physical line (with its terminator, if any).
    fn feed(&mut self, line: &[u8]) -> Parsed {
        // Most lines start a record and hold no quote and no carriage return but the last:
        // their fields are the commas plus one, counted without the state machine.
        if self.state == State::FieldStart && self.fields == 1 && memchr::memchr(b'"', line).is_none() {
            let body = content(line);
            if memchr::memchr(b'\r', body).is_none() {
                self.fields += memchr::memchr_iter(b',', body).count();
                self.state = State::Unquoted;
                return Parsed::Fields(self.fields);
            }
        }
        let mut i = 0;
        while let Some(&b) = line.get(i) {
            let end = b == b'\n' || (b == b'\r' && line.get(i + 1..) == Some(&b"\n"[..]));
            self.state = match (self.state, b) {
                (State::Quoted, b'"') => State::QuoteInQuoted,
                (State::Quoted, _) => State::Quoted,
                (State::QuoteInQuoted, b'"') => State::Quoted,
                (_, _) if end => return Parsed::Fields(self.fields),
                (State::QuoteInQuoted | State::FieldStart | State::Unquoted, b',') => {
                    self.fields += 1;
                    State::FieldStart
                }
                (State::QuoteInQuoted, _) => return Parsed::Bad("text after the closing quote of a field"),
                (State::FieldStart, b'"') => State::Quoted,
                (State::Unquoted, b'"') => return Parsed::Bad("a quote inside an unquoted field"),
                (State::FieldStart | State::Unquoted, b'\r') if line.get(i + 1).is_some() => {
                    return Parsed::Bad("a carriage return inside an unquoted field")
                }
                (State::FieldStart | State::Unquoted, _) => State::Unquoted,
            };
            i += 1;
        }
        if self.state == State::Quoted {
            Parsed::OpenQuote
        } else {
            Parsed::Fields(self.fields)
        }
    }
}

/// Parses a whole record (for tests and single lines).
#[cfg(test)]
fn parse(bytes: &[u8]) -> Parsed {
    Parser::new().feed(bytes)
}

/// `bytes` without one trailing `\n` or `\r\n`.
pub(super) fn content(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// Scans a CSV file whose header has `width` columns, sending records and set-aside lines to
/// `sink`. The header (line 1) is not sent.
pub(super) fn scan(
    path: &Path,
    width: usize,
    sink: &mut impl Sink,
    progress: &dyn crate::Progress,
) -> Result<Scan, Error> {
    let io = |e: std::io::Error| Error::fatal(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io)?;
    let mut lines = Lines { reader: BufReader::with_capacity(1 << 20, file), pending: VecDeque::new(), read: 0 };
    let mut scan = Scan::default();
    // The header, and the line ending DuckDB will expect of every record.
    let Some((_, header)) = lines.next(&io)? else {
        return Ok(scan);
    };
    let crlf = header.ends_with(b"\r\n");
    // The physical lines of the record being read, its size, and the parser over them.
    let mut parts: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut size = 0usize;
    let mut parser = Parser::new();
    let (mut unreported, mut counted) = (0u64, 1u64);
    loop {
        let Some((number, line)) = lines.next(&io)? else {
            if parts.is_empty() {
                break;
            }
            // The file ended inside a quoted field.
            set_aside_first(&mut parts, &mut lines, &mut scan, sink, "a quoted field that never closes")?;
            (size, parser) = (0, Parser::new());
            continue;
        };
        // Lines pushed back and read again were counted the first time.
        if number > counted {
            counted = number;
            unreported += line.len() as u64;
        }
        if unreported >= 1 << 20 {
            progress.advance(unreported);
            unreported = 0;
        }
        if parts.is_empty() && content(&line).is_empty() {
            scan.blank += 1;
            continue;
        }
        let parsed = parser.feed(&line);
        size += line.len();
        parts.push((number, line));
        let outcome = match parsed {
            Parsed::OpenQuote if size <= MAX_RECORD_BYTES => continue,
            Parsed::OpenQuote => {
                Err("a quoted field longer than 1 MiB (taken as a quote that never closes)".to_string())
            }
            Parsed::Fields(_) if size > MAX_RECORD_BYTES => Err("a record longer than 1 MiB".to_string()),
            Parsed::Bad(why) => Err(why.to_string()),
            Parsed::Fields(n) if n != width && parts.len() > 1 => {
                Err("a quoted field opened on this line closes in a record of the wrong width".to_string())
            }
            Parsed::Fields(n) if n != width => Err(format!("{n} field(s) where the header has {width}")),
            Parsed::Fields(_) => Ok(()),
        };
        match outcome {
            Err(why) if parts.len() > 1 => set_aside_first(&mut parts, &mut lines, &mut scan, sink, &why)?,
            Err(why) => set_aside_all(&mut parts, &mut scan, sink, why)?,
            Ok(()) => {
                let record: Vec<u8> = if parts.len() == 1 {
                    parts.pop().map(|(_, b)| b).unwrap_or_default()
                } else {
                    parts.iter().flat_map(|(_, b)| b.iter().copied()).collect()
                };
                if let Err(e) = std::str::from_utf8(&record) {
                    let why = format!("not UTF-8 text (invalid byte at offset {} of the line)", e.valid_up_to());
                    if parts.is_empty() {
                        parts.push((number, record));
                    }
                    set_aside_all(&mut parts, &mut scan, sink, why)?;
                } else {
                    let ends_crlf = record.ends_with(b"\r\n");
                    if record.ends_with(b"\n") && ends_crlf != crlf {
                        scan.uneven_endings += 1;
                    }
                    sink.record(&record)?;
                    scan.records += 1;
                    scan.record_lines += parts.len().max(1) as u64;
                    parts.clear();
                }
            }
        }
        (size, parser) = (0, Parser::new());
    }
    progress.advance(unreported);
    scan.lines = lines.read.saturating_sub(1);
    Ok(scan)
}

/// Sets aside the whole record.
fn set_aside_all(
    parts: &mut Vec<(u64, Vec<u8>)>,
    scan: &mut Scan,
    sink: &mut impl Sink,
    reason: String,
) -> Result<(), Error> {
    let line = parts.first().map_or(0, |(n, _)| *n);
    let lines = parts.len() as u64;
    let bytes: Vec<u8> = parts.drain(..).flat_map(|(_, b)| b).collect();
    scan.set_aside += 1;
    scan.set_aside_lines += lines;
    sink.set_aside(SetAside { line, lines, bytes, reason })
}

/// Sets aside the record's first line and pushes the others back to be read again.
fn set_aside_first<R>(
    parts: &mut Vec<(u64, Vec<u8>)>,
    lines: &mut Lines<R>,
    scan: &mut Scan,
    sink: &mut impl Sink,
    reason: &str,
) -> Result<(), Error> {
    let mut drained = parts.drain(..);
    let Some((line, bytes)) = drained.next() else { return Ok(()) };
    let rest: Vec<(u64, Vec<u8>)> = drained.collect();
    for part in rest.into_iter().rev() {
        lines.pending.push_front(part);
    }
    scan.set_aside += 1;
    scan.set_aside_lines += 1;
    sink.set_aside(SetAside { line, lines: 1, bytes, reason: reason.to_string() })
}

/// Collects set-aside lines in memory (tests).
#[cfg(test)]
#[derive(Debug, Default)]
pub(super) struct Collect {
    /// Everything set aside, in file order.
    pub set_aside: Vec<SetAside>,
}

#[cfg(test)]
impl Sink for Collect {
    fn record(&mut self, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }
    fn set_aside(&mut self, entry: SetAside) -> Result<(), Error> {
        self.set_aside.push(entry);
        Ok(())
    }
}

/// Writes the header and the records to a copy (the second pass, when anything was set aside
/// or line endings differ), every record ending as the header does.
pub(super) struct Copy<W: Write> {
    out: W,
    what: String,
    ending: &'static [u8],
}

impl<W: Write> Copy<W> {
    /// A copy writing to `out`, starting with the header line.
    pub fn new(mut out: W, header: &[u8], what: String) -> Result<Self, Error> {
        let ending: &'static [u8] = if header.ends_with(b"\r\n") { b"\r\n" } else { b"\n" };
        out.write_all(content(header))
            .and_then(|()| out.write_all(ending))
            .map_err(|e| Error::fatal(format!("{what}: {e}")))?;
        Ok(Copy { out, what, ending })
    }

    /// Flushes the copy.
    pub fn finish(mut self) -> Result<(), Error> {
        self.out.flush().map_err(|e| Error::fatal(format!("{}: {e}", self.what)))
    }
}

impl<W: Write> Sink for Copy<W> {
    fn record(&mut self, bytes: &[u8]) -> Result<(), Error> {
        // The record's own line breaks inside quoted fields are its content; only its final
        // ending is the header's.
        self.out
            .write_all(content(bytes))
            .and_then(|()| self.out.write_all(self.ending))
            .map_err(|e| Error::fatal(format!("{}: {e}", self.what)))
    }
    fn set_aside(&mut self, _: SetAside) -> Result<(), Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code fails loudly")]

    use super::*;

    fn run(text: &[u8]) -> (Scan, Vec<SetAside>, Vec<u8>) {
        let dir = std::env::temp_dir().join(format!("dqc-lines-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.csv");
        std::fs::write(&path, text).unwrap();
        let mut collect = Collect::default();
        let scan = scan(&path, 3, &mut collect, &crate::Silent).unwrap();
        let mut copy_bytes = Vec::new();
        let mut copy = Copy::new(&mut copy_bytes, b"a,b,c\n", "copy".into()).unwrap();
        let again = super::scan(&path, 3, &mut copy, &crate::Silent).unwrap();
        copy.finish().unwrap();
        assert_eq!(scan, again);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(scan.accounted(), "{scan:?}");
        (scan, collect.set_aside, copy_bytes)
    }

    #[test]
    fn an_unterminated_quote_costs_one_line() {
        let mut text = b"a,b,c\n1,2,3\n4,\"5,6\n".to_vec();
        for i in 0..1000 {
            text.extend_from_slice(format!("{i},x,y\n").as_bytes());
        }
        let (scan, aside, copy) = run(&text);
        assert_eq!((scan.lines, scan.records, scan.set_aside_lines), (1002, 1001, 1));
        assert_eq!(aside[0].line, 3);
        assert_eq!(aside[0].bytes, b"4,\"5,6\n");
        assert!(copy.ends_with(b"999,x,y\n"));
    }

    #[test]
    fn quoted_fields_may_span_lines() {
        let (scan, aside, copy) = run(b"a,b,c\n1,\"two\nlines\",3\r\n4,5,6");
        assert_eq!((scan.lines, scan.records, scan.record_lines), (3, 2, 3));
        assert!(aside.is_empty());
        assert_eq!(copy, b"a,b,c\n1,\"two\nlines\",3\n4,5,6\n");
        assert_eq!(scan.uneven_endings, 1, "the \\r\\n record differs from the header's \\n");
    }

    #[test]
    fn bad_lines_are_set_aside_byte_exact() {
        let (scan, aside, _) = run(b"a,b,c\n1,2\n\xff,2,3\n1,x\"y,3\n\"a\"b,2,3\n\n  \n1,2,3\n");
        assert_eq!((scan.lines, scan.records, scan.blank, scan.set_aside_lines), (7, 1, 1, 5));
        let got: Vec<(u64, &[u8])> = aside.iter().map(|a| (a.line, a.bytes.as_slice())).collect();
        assert_eq!(
            got,
            vec![
                (2, &b"1,2\n"[..]),
                (3, &b"\xff,2,3\n"[..]),
                (4, &b"1,x\"y,3\n"[..]),
                (5, &b"\"a\"b,2,3\n"[..]),
                (7, &b"  \n"[..])
            ]
        );
        assert_eq!(aside[0].reason, "2 field(s) where the header has 3");
    }

    #[test]
    fn records_beyond_the_readers_limit_are_set_aside() {
        let long = "x".repeat(MAX_RECORD_BYTES + 1);
        let (scan, aside, copy) = run(format!("a,b,c\n1,{long},3\n4,5,6\n").as_bytes());
        assert_eq!((scan.records, scan.set_aside_lines), (1, 1));
        assert_eq!(aside[0].reason, "a record longer than 1 MiB");
        assert_eq!(copy, b"a,b,c\n4,5,6\n");
    }

    #[test]
    fn parse_follows_rfc_4180() {
        assert_eq!(parse(b"a,\"b,\"\"c\",d"), Parsed::Fields(3));
        assert_eq!(parse(b"\"open"), Parsed::OpenQuote);
        assert_eq!(parse(b""), Parsed::Fields(1));
        assert_eq!(parse(b"a\rb,c"), Parsed::Bad("a carriage return inside an unquoted field"));
        assert_eq!(parse(b"a,b\r\n"), Parsed::Fields(2));
    }
}
