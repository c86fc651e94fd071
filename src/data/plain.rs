//! The fast reader of *plain* CSV files: streamed in batches, each batch cut
//! at line ends into pieces parsed on the rayon threads, hashed while it is
//! parsed, numeric columns stored as numbers straight away.
//!
//! A file is plain when it has no `"` byte, no carriage return except just
//! before a line feed (or at the end of the file), is valid UTF-8, has a
//! header and at least one data row, no blank line before the last row,
//! as many fields on every row as in the header, and every non-missing cell
//! of a column read as numbers is a finite number. Those are the files a
//! numeric export writes, and on them this reader gives exactly what the
//! general reader (`parse_table` and the column rules of the module doc)
//! gives. On any other file it says so (`Ok(None)`) and the caller reads
//! the file again with the general reader, which finds the error, with its
//! line and column, or reads the quoted or text cells: so errors and
//! results never depend on which reader ran.
//!
//! This module owns nothing else: no column kinds beyond "all numbers", no
//! target rules, no error messages about cells.
//!
//! Why the result does not depend on the thread count: where a batch is cut
//! into pieces depends only on the bytes and on [`Sizes`], each piece is
//! parsed on its own, and the pieces are collected by index and appended
//! in file order; a cell's value depends only on its text.

use std::io::Read;
use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::{check_header, is_missing, parse_finite, DataError, RawColumn, ReadColumn, Table};

/// How much is read and parsed at a time. The result does not depend on
/// it; tests make it tiny to cut pieces everywhere.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sizes {
    /// Bytes read from the file at a time (a line longer than this is read
    /// whole).
    pub batch: usize,
    /// A batch is cut into pieces of about this many bytes, at line ends.
    pub piece: usize,
}

impl Sizes {
    /// 4 MiB batches of 128 KiB pieces: a batch keeps every thread busy,
    /// and the memory beyond the columns stays a few batches.
    pub const DEFAULT: Sizes = Sizes {
        batch: 4 << 20,
        piece: 128 << 10,
    };
}

/// Read `path` if it is plain (see the module doc): `Ok(None)` when it is
/// not, and the general reader must read it. Columns whose name `keep_text`
/// accepts are kept as their cells' text ([`ReadColumn::Raw`]), the others
/// as numbers ([`ReadColumn::Numeric`]).
pub(super) fn read(
    path: &Path,
    keep_text: &dyn Fn(&str) -> bool,
    sizes: Sizes,
) -> Result<Option<Table>, DataError> {
    super::check_regular(path)?;
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let batch = sizes.batch.max(1);
    let mut hasher = Sha256::new();
    let mut state: Option<Reading> = None;
    // `buf[..hashed]` has been hashed; the rest is hashed as it is parsed.
    let mut buf: Vec<u8> = Vec::new();
    // The buffer the next batch is read into, reused: freeing one a batch
    // would make the allocator serve the growing columns from its heap
    // instead of their own mappings, and they would take more memory.
    let mut spare: Vec<u8> = Vec::new();
    let mut hashed = 0;
    let mut at_eof = fill(&mut file, &mut buf, batch).map_err(io)?;
    loop {
        // Until the header is read, `buf` holds the file from its start.
        let mut begin = match state {
            None if buf.starts_with(b"\xEF\xBB\xBF") => 3,
            _ => 0,
        };
        // Parse up to the last line end (everything at the end of the file).
        let end = if at_eof {
            buf.len()
        } else {
            match buf.iter().rposition(|&b| b == b'\n') {
                Some(p) if p >= begin => p + 1,
                _ => {
                    // No whole line yet: read on.
                    at_eof = fill(&mut file, &mut buf, batch).map_err(io)?;
                    continue;
                }
            }
        };
        if state.is_none() {
            let Some((reading, after)) = Reading::start(&buf[begin..end], keep_text) else {
                return Ok(None);
            };
            state = Some(reading);
            begin += after;
        }
        let Some(reading) = state.as_mut() else {
            return Ok(None);
        };
        let (new, chunk, carry) = (&buf[hashed..], &buf[begin..end], &buf[end..]);
        let text = &reading.text;
        let file = &mut file;
        let mut next = std::mem::take(&mut spare);
        // The next batch is read (after the unfinished last line) while
        // this one is hashed and parsed.
        let (read_next, ((), pieces)) = rayon::join(
            || -> std::io::Result<Option<(Vec<u8>, bool)>> {
                if at_eof {
                    return Ok(None);
                }
                next.clear();
                next.extend_from_slice(carry);
                let eof = fill(file, &mut next, batch)?;
                Ok(Some((next, eof)))
            },
            || {
                rayon::join(
                    || hasher.update(new),
                    || {
                        cut(chunk, sizes.piece)
                            .par_iter()
                            .map(|piece| parse_piece(piece, text))
                            .collect::<Vec<_>>()
                    },
                )
            },
        );
        if !reading.append(pieces) {
            return Ok(None);
        }
        match read_next.map_err(io)? {
            None => break,
            Some((next, eof)) => {
                hashed = buf.len() - end;
                spare = std::mem::replace(&mut buf, next);
                at_eof = eof;
            }
        }
    }
    let Some(reading) = state else {
        return Ok(None);
    };
    if reading.n_rows == 0 {
        return Ok(None);
    }
    let columns = reading
        .columns
        .into_iter()
        .map(|c| match c {
            ReadColumn::Numeric(mut v) => {
                v.shrink_to_fit();
                ReadColumn::Numeric(v)
            }
            raw => raw,
        })
        .collect();
    Ok(Some(Table {
        header: reading.header,
        columns,
        n_rows: reading.n_rows,
        sha256: crate::seed::hex(&hasher.finalize()),
    }))
}

/// Append up to `batch` bytes of `file` to `buf`; whether the file ended.
fn fill(file: &mut std::fs::File, buf: &mut Vec<u8>, batch: usize) -> std::io::Result<bool> {
    let n = file.take(batch as u64).read_to_end(buf)?;
    Ok(n < batch)
}

/// What has been read so far.
struct Reading {
    header: Vec<String>,
    /// Per column: kept as text.
    text: Vec<bool>,
    columns: Vec<ReadColumn>,
    n_rows: usize,
    /// A blank line was read: only blank lines may follow.
    blank: bool,
}

impl Reading {
    /// Read the header from the first line of `bytes`; the header and how
    /// many bytes it took, or `None` when the file is not plain or the
    /// header has an error (the general reader reports it).
    fn start(bytes: &[u8], keep_text: &dyn Fn(&str) -> bool) -> Option<(Reading, usize)> {
        let (line, after) = match bytes.iter().position(|&b| b == b'\n') {
            Some(p) => (&bytes[..p], p + 1),
            None => (bytes, bytes.len()),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.contains(&b'"') || line.contains(&b'\r') {
            return None;
        }
        let line = std::str::from_utf8(line).ok()?;
        let header: Vec<String> = line.split(',').map(|f| f.trim().to_owned()).collect();
        check_header(&header).ok()?;
        let text: Vec<bool> = header.iter().map(|name| keep_text(name)).collect();
        let columns = text
            .iter()
            .map(|&t| match t {
                true => ReadColumn::Raw(RawColumn::default()),
                false => ReadColumn::Numeric(Vec::new()),
            })
            .collect();
        Some((
            Reading {
                header,
                text,
                columns,
                n_rows: 0,
                blank: false,
            },
            after,
        ))
    }

    /// Append a batch's parsed pieces, in file order; `false` when one is
    /// not plain (`None`) or a row follows a blank line.
    fn append(&mut self, pieces: Vec<Option<Piece>>) -> bool {
        let mut parts = Vec::with_capacity(pieces.len());
        for piece in pieces {
            let Some(piece) = piece else {
                return false;
            };
            if self.blank && piece.rows > 0 {
                return false;
            }
            self.blank |= piece.blank;
            self.n_rows += piece.rows;
            parts.push(piece.columns);
        }
        // Each column takes its parts in file order, columns on the rayon
        // threads: the copies, and the fresh pages they fill, are shared out.
        self.columns.par_iter_mut().enumerate().all(|(j, column)| {
            parts.iter().all(|part| match (&mut *column, part.get(j)) {
                (ReadColumn::Numeric(all), Some(ReadColumn::Numeric(part))) => {
                    all.extend_from_slice(part);
                    true
                }
                (ReadColumn::Raw(all), Some(ReadColumn::Raw(part))) => {
                    all.append(part);
                    true
                }
                _ => false,
            })
        })
    }
}

/// Cut `bytes` into pieces of about `size` bytes, each ending at a line
/// end (the last one where `bytes` ends).
fn cut(bytes: &[u8], size: usize) -> Vec<&[u8]> {
    let size = size.max(1);
    let mut pieces = Vec::with_capacity(bytes.len() / size + 1);
    let mut rest = bytes;
    while !rest.is_empty() {
        let at = match rest
            .get(size..)
            .and_then(|r| r.iter().position(|&b| b == b'\n'))
        {
            Some(p) => size + p + 1,
            None => rest.len(),
        };
        let (piece, after) = rest.split_at(at);
        pieces.push(piece);
        rest = after;
    }
    pieces
}

/// One piece's rows, column by column.
struct Piece {
    rows: usize,
    columns: Vec<ReadColumn>,
    /// The piece has a blank line after its last row.
    blank: bool,
}

/// The comma-separated fields of a line (`str::split(',')` without its
/// per-field search set-up: cells are short).
struct Fields<'a> {
    line: &'a str,
    /// Where the next field starts; past the end when there is none.
    at: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.line.as_bytes();
        let start = self.at;
        if start > bytes.len() {
            return None;
        }
        let mut end = start;
        while end < bytes.len() && bytes[end] != b',' {
            end += 1;
        }
        self.at = end + 1;
        // A comma is ASCII, so both ends are character boundaries.
        self.line.get(start..end)
    }
}

/// `cell.trim()`, without decoding characters when the cell starts and
/// ends with a printable ASCII character (which is not white space).
fn trim(cell: &str) -> &str {
    let bytes = cell.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => cell,
        _ => cell.trim(),
    }
}

/// Parse whole lines; `None` when they are not plain.
fn parse_piece(bytes: &[u8], text: &[bool]) -> Option<Piece> {
    if bytes.contains(&b'"') {
        return None;
    }
    let carriage_returns = bytes.contains(&b'\r');
    let lines = std::str::from_utf8(bytes).ok()?;
    let mut columns: Vec<ReadColumn> = text
        .iter()
        .map(|&t| match t {
            true => ReadColumn::Raw(RawColumn::default()),
            false => ReadColumn::Numeric(Vec::with_capacity(bytes.len() / 8 / text.len().max(1))),
        })
        .collect();
    let (mut rows, mut blank) = (0usize, false);
    for line in lines.split_terminator('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            blank = true;
            continue;
        }
        if blank || (carriage_returns && line.contains('\r')) {
            return None;
        }
        let mut fields = Fields { line, at: 0 };
        for column in columns.iter_mut() {
            let cell = fields.next()?;
            match column {
                ReadColumn::Raw(raw) => raw.push(cell),
                ReadColumn::Numeric(values) => {
                    // The same rule as `numeric_column`: a missing marker is
                    // never a finite number, so the order of the checks does
                    // not matter.
                    let trimmed = trim(cell);
                    match parse_finite(trimmed) {
                        Some(v) => values.push(v),
                        None if is_missing(trimmed) => values.push(f64::NAN),
                        None => return None,
                    }
                }
            }
        }
        if fields.next().is_some() {
            return None;
        }
        rows += 1;
    }
    Some(Piece {
        rows,
        columns,
        blank,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{load, numeric_column, read_general, Column, Task};
    use super::*;

    #[test]
    fn trim_is_str_trim() {
        for s in [" 1 ", "1", "\u{a0}1\u{a0}", "a b", "", " "] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn fields_split_at_every_comma() {
        for line in ["", "a", ",", "a,b", ",a,,b,", " é ,ü,"] {
            let fields: Vec<&str> = Fields { line, at: 0 }.collect();
            assert_eq!(fields, line.split(',').collect::<Vec<_>>(), "{line:?}");
        }
    }

    #[test]
    fn cut_ends_every_piece_at_a_line_end() {
        let text = b"a,b\n1,2\n3,4\n5,6";
        for size in 1..text.len() + 2 {
            let pieces = cut(text, size);
            assert_eq!(pieces.concat(), text.to_vec(), "size {size}");
            for p in &pieces[..pieces.len() - 1] {
                assert_eq!(p.last(), Some(&b'\n'), "size {size}");
            }
        }
        assert!(cut(b"", 4).is_empty());
    }

    fn tiny(batch: usize, piece: usize) -> Sizes {
        Sizes { batch, piece }
    }

    fn file(dir: &tempfile::TempDir, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join("d.csv");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A column's cells as the general reader's rules read them as numbers:
    /// bit patterns, `None` for a missing cell.
    fn bits(column: &ReadColumn) -> Vec<Option<u64>> {
        let column = match column {
            ReadColumn::Numeric(v) => Column::Numeric(v.clone()),
            ReadColumn::Raw(raw) => numeric_column(raw.cells()),
        };
        match column {
            Column::Numeric(v) => v
                .iter()
                .map(|x| (!x.is_nan()).then_some(x.to_bits()))
                .collect(),
            Column::Text(_) => unreachable!(),
        }
    }

    fn texts(column: &ReadColumn) -> Vec<String> {
        match column {
            ReadColumn::Raw(raw) => raw.cells().map(str::to_owned).collect(),
            ReadColumn::Numeric(_) => panic!("expected text"),
        }
    }

    /// Read `bytes` with the plain reader at several batch and piece sizes
    /// and thread counts; every reading must equal the general reader's
    /// (the same cells, numbers to the bit, and hash). `None` when the
    /// plain reader passes the file on (every time, whatever the sizes).
    fn plain_equals_general(bytes: &[u8]) -> Option<Table> {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, bytes);
        let keep = |name: &str| name == "y";
        let general = read_general(&path);
        let mut seen: Option<bool> = None;
        let mut last = None;
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for sizes in [
                tiny(1, 1),
                tiny(3, 2),
                tiny(7, 5),
                tiny(64, 1),
                tiny(64, 16),
                Sizes::DEFAULT,
            ] {
                let plain = pool.install(|| read(&path, &keep, sizes)).unwrap();
                assert_eq!(
                    *seen.get_or_insert(plain.is_some()),
                    plain.is_some(),
                    "{sizes:?} {threads} threads"
                );
                let Some(plain) = plain else { continue };
                let general = general.as_ref().expect("a plain file reads");
                assert_eq!(plain.header, general.header);
                assert_eq!(plain.n_rows, general.n_rows, "{sizes:?}");
                assert_eq!(plain.sha256, general.sha256);
                for (j, (p, g)) in plain.columns.iter().zip(&general.columns).enumerate() {
                    if general.header[j] == "y" {
                        assert_eq!(texts(p), texts(g), "{sizes:?}");
                    } else {
                        assert_eq!(bits(p), bits(g), "column {j} {sizes:?}");
                    }
                }
                last = Some(plain);
            }
        }
        last
    }

    #[test]
    fn plain_files_read_as_the_general_reader_reads_them() {
        let cases: &[&[u8]] = &[
            b"a,b,y\n1,2,0\n3,4,1\n",
            // No line feed after the last row.
            b"a,b,y\n1,2,0\n3,4,1",
            // CRLF, and a carriage return closing the last row.
            b"a,b,y\r\n1,2,0\r\n3,4,1\r\n",
            b"a,b,y\r\n1,2,0\r\n3,4,1\r",
            // A byte-order mark, trailing blank lines.
            b"\xEF\xBB\xBFa,b,y\n1,2,0\n3,4,1\n\n\r\n\n",
            // Missing markers, spaces, signs, exponents, negative zero.
            b" a , b ,y\n 1.5 ,NA,0\n,?,1\n-0, +2e-3 ,0\nnan,null,1\n.5,N/A,2\nNaN,  ,x\n",
            // A long line among short ones.
            b"a,y\n1,0\n2.000000000000000000000000000000000000000001,1\n3,0\n",
        ];
        for case in cases {
            let table = plain_equals_general(case);
            assert!(table.is_some(), "{}", String::from_utf8_lossy(case));
        }
        let t = plain_equals_general(b"a,b,y\r\n1,NA,0\r\n3,4,1").unwrap();
        assert_eq!(t.n_rows, 2);
        assert_eq!(bits(&t.columns[1]), vec![None, Some(4f64.to_bits())]);
    }

    #[test]
    fn other_files_are_passed_on_to_the_general_reader() {
        let cases: &[&[u8]] = &[
            b"",
            b"\xEF\xBB\xBF",
            b"a,y\n",
            b"a,y",
            b"\na,y\n1,0\n",
            // A blank line between rows, however the file is cut.
            b"a,y\n1,0\n\n2,1\n",
            b"a,y\r\n1,0\r\n\r\n2,1\r\n",
            // Quotes: a quoted comma, a line break inside a quoted cell
            // (a piece may end inside it).
            b"a,b,y\n1,\"2,5\",0\n3,4,1\n",
            b"a,y\n\"1\n2\",0\n3,1\n",
            // A carriage return alone ends a record for the csv reader.
            b"a,y\n1,0\r2,1\n",
            b"a,y\n1\r,0\n",
            // Ragged rows, a non-number, a bad header, invalid UTF-8.
            b"a,b,y\n1,2,0\n3,4\n",
            b"a,b,y\n1,2,0\n3,4,1,5\n",
            b"a,b,y\n1,2,0\n3,x,1\n",
            b"a,b,y\n1,2,0\n3,inf,1\n",
            b"a,a,y\n1,2,0\n",
            b",a,y\n1,2,0\n",
            b"a,y\n1,0\ncaf\xe9,1\n",
            b"a\xe9,y\n1,0\n",
        ];
        for case in cases {
            assert!(
                plain_equals_general(case).is_none(),
                "{}",
                String::from_utf8_lossy(case)
            );
        }
    }

    #[test]
    fn the_result_does_not_depend_on_sizes_or_threads() {
        // Deterministic cells of every kind the plain reader takes.
        let mut text = String::from("x0,x1,x2,y\n");
        let mut state = 12345u64;
        for r in 0..400 {
            for j in 0..3 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let v = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let cell = match (state >> 3) % 11 {
                    0 => String::new(),
                    1 => "NA".to_owned(),
                    2 => format!(" {v:e} "),
                    3 => format!("{}", (v * 1000.0).round()),
                    _ => format!("{v}"),
                };
                text.push_str(&cell);
                text.push(',');
                let _ = j;
            }
            text.push_str(if r % 3 == 0 { "a" } else { "b" });
            text.push_str(if r % 7 == 0 { "\r\n" } else { "\n" });
        }
        let t = plain_equals_general(text.as_bytes()).expect("plain");
        assert_eq!(t.n_rows, 400);
    }

    /// A file of `rows` rows `i,i/2,class`, `bad` put in place of row
    /// `bad_row`'s second cell.
    fn big_file(rows: usize, bad_row: usize, bad: &str) -> String {
        let mut text = String::from("a,b,y\n");
        for r in 0..rows {
            if r == bad_row {
                text.push_str(&format!("{r},{bad},{}\n", r % 2));
            } else {
                text.push_str(&format!("{r},{},{}\n", r as f64 / 2.0, r % 2));
            }
        }
        text
    }

    #[test]
    fn a_bad_cell_in_a_later_piece_or_batch_names_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        // About 20 MB: several batches of many pieces; the bad cell is in the
        // last batch.
        let rows = 1_000_000;
        let path = file(&dir, big_file(rows, rows - 10, "1,5").as_bytes());
        let e = load(&path, "y", None).unwrap_err().to_string();
        assert!(
            e.contains(&format!("line {}: expected 3 fields", rows - 10 + 2)),
            "{e}"
        );
        let path = file(&dir, big_file(rows, rows - 10, "x").as_bytes());
        let e = load(&path, "y", None).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "line {}, column `b`: `x` is not a number, but 999999 of the column's \
                 1000000 non-missing cells are numbers",
                rows - 10 + 2
            )),
            "{e}"
        );
        // Second piece of the first batch.
        let path = file(&dir, big_file(30_000, 20_000, "1e999").as_bytes());
        let e = load(&path, "y", None).unwrap_err().to_string();
        assert!(
            e.contains("line 20002, column `b`: `1e999` is not a finite number"),
            "{e}"
        );
        // Without the bad cell it loads, the same as the general reader.
        let text = big_file(rows, rows, "");
        let path = file(&dir, text.as_bytes());
        let ds = load(&path, "y", Some(Task::Classification)).unwrap();
        assert_eq!(ds.n_rows, rows);
        assert_eq!(ds.sha256, super::super::sha256_hex(text.as_bytes()));
        let general = read_general(&path).unwrap();
        let Column::Numeric(b) = &ds.columns[1] else {
            panic!("numeric")
        };
        assert_eq!(
            b.iter()
                .map(|x| (!x.is_nan()).then_some(x.to_bits()))
                .collect::<Vec<_>>(),
            bits(&general.columns[1])
        );
    }
}
