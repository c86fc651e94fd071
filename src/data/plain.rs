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
//! A piece is read in one pass a line: each numeric cell is parsed where it
//! starts, by `fast_float2` (correctly rounded, as std's parser is), and
//! taken when the number fills the cell; any other cell is cut out and read
//! by the module's rules (trimmed, std's parser, the missing markers). The
//! tests check that the two agree on every cell, value and verdict.
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
/// per-field search set-up: cells are short). The tests check the fused
/// scan of [`parse_piece`] against it.
#[cfg(test)]
struct Fields<'a> {
    line: &'a str,
    /// Where the next field starts; past the end when there is none.
    at: usize,
}

#[cfg(test)]
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

/// The number at the start of `bytes` when it is a whole cell: a finite
/// number in the grammar of `str::parse::<f64>`, followed by the end of
/// `bytes` or a comma. Its value and its length; `None` sends the cell to
/// [`slow_cell`], which decides by the module's rules (so `None` is always
/// safe).
///
/// Why this is exactly `parse_finite` on such a cell: the bytes it takes are
/// an optional sign, digits with at most one `.`, and an exponent with
/// digits (an `e` without digits is not taken, and then the next byte is not
/// a comma); that is a number in std's grammar too, with no space to trim,
/// and both parsers round correctly, so the value is the same to the bit.
/// `inf` and `nan` are taken by the crate but are not finite. The unit
/// tests compare the two on every edge form and on many random cells.
#[inline]
fn fast_cell(bytes: &[u8]) -> Option<(f64, usize)> {
    let (v, n) = fast_float2::parse_partial::<f64, _>(bytes).ok()?;
    match bytes.get(n) {
        None | Some(b',') if n > 0 && v.is_finite() => Some((v, n)),
        _ => None,
    }
}

/// A cell the fast path did not take: `Some(value)` (NaN when missing) by
/// the module's rules, `None` when the piece is not plain (a quote, a
/// carriage return, invalid UTF-8 or a cell that is not a number).
fn slow_cell(cell: &[u8]) -> Option<f64> {
    let cell = plain_text(cell)?;
    // The same rule as `numeric_column`: a missing marker is never a finite
    // number, so the order of the checks does not matter.
    let trimmed = trim(cell);
    match parse_finite(trimmed) {
        Some(v) => Some(v),
        None if is_missing(trimmed) => Some(f64::NAN),
        None => None,
    }
}

/// A cell's bytes as text, `None` when they hold a quote or a carriage
/// return or are not UTF-8 (every byte of a piece is in a cell, a comma or
/// a line end, and UTF-8 is valid across ASCII bytes, so checking each cell
/// checks the piece).
fn plain_text(cell: &[u8]) -> Option<&str> {
    if cell.iter().any(|&b| b == b'"' || b == b'\r') {
        return None;
    }
    std::str::from_utf8(cell).ok()
}

/// Where the cell starting at `at` ends: the next comma, or the end.
#[inline]
fn cell_end(line: &[u8], at: usize) -> usize {
    line[at..]
        .iter()
        .position(|&b| b == b',')
        .map_or(line.len(), |p| at + p)
}

/// Parse whole lines; `None` when they are not plain.
///
/// One pass a line: each numeric cell is parsed where it starts
/// ([`fast_cell`]), and only a cell it does not take is cut out and read
/// by the general rules ([`slow_cell`]).
fn parse_piece(bytes: &[u8], text: &[bool]) -> Option<Piece> {
    // Room for the rows, guessed from the first line's length (a column
    // grows past it when lines get shorter): a guess too large would only
    // touch more memory.
    let first = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |p| p + 1);
    let rows_guess = bytes.len() / first.max(1) + bytes.len() / first.max(1) / 8 + 4;
    let mut columns: Vec<ReadColumn> = text
        .iter()
        .map(|&t| match t {
            true => ReadColumn::Raw(RawColumn::default()),
            false => ReadColumn::Numeric(Vec::with_capacity(rows_guess)),
        })
        .collect();
    let (mut rows, mut blank) = (0usize, false);
    let mut rest = bytes;
    while !rest.is_empty() {
        let (line, after) = match memchr::memchr(b'\n', rest) {
            Some(p) => (&rest[..p], &rest[p + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = after;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            blank = true;
            continue;
        }
        if blank {
            return None;
        }
        // `at`: where the next cell starts; past the end when there is none.
        let mut at = 0;
        for column in columns.iter_mut() {
            if at > line.len() {
                return None;
            }
            let end = match column {
                ReadColumn::Numeric(values) => match fast_cell(&line[at..]) {
                    Some((v, n)) => {
                        values.push(v);
                        at + n
                    }
                    None => {
                        let end = cell_end(line, at);
                        values.push(slow_cell(&line[at..end])?);
                        end
                    }
                },
                ReadColumn::Raw(raw) => {
                    let end = cell_end(line, at);
                    raw.push(plain_text(&line[at..end])?);
                    end
                }
            };
            at = end + 1;
        }
        if at <= line.len() {
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

    /// The reader before the fused scan: whole-piece checks, lines split,
    /// cells split by [`Fields`], trimmed and parsed by std. The fused
    /// [`parse_piece`] must give exactly what it gives.
    fn parse_piece_reference(bytes: &[u8], text: &[bool]) -> Option<Piece> {
        if bytes.contains(&b'"') {
            return None;
        }
        let lines = std::str::from_utf8(bytes).ok()?;
        let mut columns: Vec<ReadColumn> = text
            .iter()
            .map(|&t| match t {
                true => ReadColumn::Raw(RawColumn::default()),
                false => ReadColumn::Numeric(Vec::new()),
            })
            .collect();
        let (mut rows, mut blank) = (0usize, false);
        for line in lines.split_terminator('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                blank = true;
                continue;
            }
            if blank || line.contains('\r') {
                return None;
            }
            let mut fields = Fields { line, at: 0 };
            for column in columns.iter_mut() {
                let cell = fields.next()?;
                match column {
                    ReadColumn::Raw(raw) => raw.push(cell),
                    ReadColumn::Numeric(values) => {
                        let trimmed = cell.trim();
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

    /// A piece as comparable data: rows, blank, and per column the bits of
    /// the numbers or the texts.
    type Seen = (usize, bool, Vec<Result<Vec<u64>, Vec<String>>>);

    fn seen(piece: Option<Piece>) -> Option<Seen> {
        let piece = piece?;
        let columns = piece
            .columns
            .iter()
            .map(|c| match c {
                ReadColumn::Numeric(v) => Ok(v.iter().map(|x| x.to_bits()).collect()),
                ReadColumn::Raw(raw) => Err(raw.cells().map(str::to_owned).collect()),
            })
            .collect();
        Some((piece.rows, piece.blank, columns))
    }

    /// What std (and so the general reader) makes of a numeric cell:
    /// `Some(bits)` of the number, of NaN when missing, `None` when the
    /// cell is not a number.
    fn std_cell(cell: &str) -> Option<u64> {
        let trimmed = cell.trim();
        match parse_finite(trimmed) {
            Some(v) => Some(v.to_bits()),
            None if is_missing(trimmed) => Some(f64::NAN.to_bits()),
            None => None,
        }
    }

    /// Check `fast_cell` on `cell` followed by each kind of byte that may
    /// follow it in a line: when it takes a cell, it takes the whole cell
    /// (up to the first comma) and std reads the same bits from it. Whether
    /// it took `cell` itself.
    fn fast_agrees(cell: &str) -> bool {
        let mut taken = false;
        for after in ["", ",", ",1", " ", "\r", "x", "e", ".", "5", "\"", "\u{a0}"] {
            let line = format!("{cell}{after}");
            let Some((v, n)) = fast_cell(line.as_bytes()) else {
                continue;
            };
            let whole = line.split(',').next().unwrap_or("");
            assert_eq!(n, whole.len(), "{line:?}: took {n} bytes");
            assert_eq!(Some(v.to_bits()), std_cell(whole), "{line:?}: {v:e}");
            taken |= after.is_empty() || after.starts_with(',');
        }
        taken
    }

    #[test]
    fn fast_cells_are_std_numbers_on_every_edge_form() {
        let numbers = [
            "1",
            "1.",
            ".5",
            "+5",
            "-5",
            "1e-3",
            "1E3",
            "1e+3",
            "-0",
            "+0",
            "0.0",
            "-.5",
            "+.5",
            "1.e5",
            "00",
            "007.50",
            "1e0005",
            "4.9e-324",
            "2.5e-324",
            "2.4e-324",
            "1e-400",
            "-1e-400",
            "1.7976931348623157e308",
            "-1.7976931348623157e308",
            "9007199254740993",
            "0.1000000000000000055511151231257827021181583404541015625",
            "12345678901234567890123456789",
            "0.6063589385597401",
            "-0.10406085712885926",
            "123456789012345678901234567890e-30",
            "1e22",
            "1e23",
            "8.98846567431158e307",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
        ];
        for cell in numbers {
            assert!(std_cell(cell).is_some(), "{cell:?} is a number");
            assert!(fast_agrees(cell), "{cell:?} is taken by the fast path");
        }
        let others = [
            "",
            ".",
            "+",
            "-",
            "e",
            "e5",
            ".e5",
            "-.e1",
            "1e",
            "1e+",
            "1e-",
            "1e+-3",
            "+-1",
            "--1",
            "1..2",
            "1.2.3",
            "inf",
            "-inf",
            "+inf",
            "Infinity",
            "infinity",
            "INF",
            "nan",
            "NaN",
            "-nan",
            "+NaN",
            "NA",
            "N/A",
            "null",
            "?",
            "1e400",
            "-1e400",
            "1.7976931348623159e308",
            "0x1p3",
            "0x10",
            "1_000",
            " 1",
            "1 ",
            "\t1",
            "1\u{a0}",
            "\u{a0}1",
            "1f",
            "1d",
            "٣",
            "１",
            "1e5.5",
            "1,000",
            "\"1\"",
        ];
        for cell in others {
            // Not taken, or taken only as std takes it (e.g. "1" of "1,000").
            fast_agrees(cell);
            if !cell.contains(',') {
                let line = format!("{cell},");
                let took = fast_cell(line.as_bytes());
                match std_cell(cell) {
                    Some(bits) if !f64::from_bits(bits).is_nan() => {}
                    _ => assert!(took.is_none(), "{cell:?} must go to the slow path"),
                }
            }
        }
    }

    /// A small deterministic generator (a 64-bit LCG, upper bits).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 16
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
            of[self.below(of.len() as u64) as usize]
        }
    }

    /// A random cell: ASCII soup, a decimal of 1 to 25 digits with a wide
    /// exponent, or an `f64` of random bits as Rust writes it.
    fn random_cell(g: &mut Lcg) -> String {
        match g.below(4) {
            0 => {
                let soup = b"0123456789.eE+-infatyINFATYx_ \t?";
                (0..g.below(8))
                    .map(|_| char::from(soup[g.below(soup.len() as u64) as usize]))
                    .collect()
            }
            1 | 2 => {
                let mut s = g.pick(&["", "", "-", "+"]).to_owned();
                let digits = 1 + g.below(25) as usize;
                let dot = g.below(digits as u64 + 2) as usize;
                for i in 0..digits {
                    if i == dot {
                        s.push('.');
                    }
                    let first = if g.below(4) == 0 { b'0' } else { b'1' };
                    let d = if i == 0 {
                        first + g.below(u64::from(10 - (first - b'0'))) as u8
                    } else {
                        b'0' + g.below(10) as u8
                    };
                    s.push(char::from(d));
                }
                if dot == digits && g.below(2) == 0 {
                    s.push('.');
                }
                if g.below(2) == 0 {
                    let e = g.below(700) as i64 - 350;
                    s.push_str(g.pick(&["e", "E"]));
                    s.push_str(&match (e < 0, g.below(2)) {
                        (false, 0) => format!("+{e}"),
                        _ => format!("{e}"),
                    });
                }
                s
            }
            _ => {
                let v = f64::from_bits(g.next() << 16 ^ g.next());
                match g.below(3) {
                    0 => format!("{v:?}"),
                    1 => format!("{v:e}"),
                    _ => format!("{}", v as f32),
                }
            }
        }
    }

    #[test]
    fn fast_cells_agree_with_std_on_random_cells() {
        let mut g = Lcg(20261206);
        let (mut taken, mut numbers) = (0, 0);
        for _ in 0..300_000 {
            let cell = random_cell(&mut g);
            if std_cell(&cell).is_some_and(|b| !f64::from_bits(b).is_nan()) {
                numbers += 1;
            }
            taken += usize::from(fast_agrees(&cell));
        }
        // The fast path takes the numbers (not only a few of them).
        assert!(
            numbers > 150_000 && taken >= numbers * 99 / 100,
            "{taken} of {numbers}"
        );
    }

    #[test]
    fn the_fused_scan_reads_pieces_as_the_reference_reads_them() {
        let mut g = Lcg(7);
        let text = [false, true, false];
        let mut plain = 0;
        for case in 0..20_000 {
            let mut piece = Vec::new();
            for _ in 0..g.below(5) {
                let fields = match g.below(10) {
                    0 => g.below(5),
                    _ => 3,
                };
                for j in 0..fields {
                    if j > 0 {
                        piece.push(b',');
                    }
                    match g.below(20) {
                        0 => {
                            piece.extend_from_slice(g.pick(&["\"", "\r", "\u{a0}", " "]).as_bytes())
                        }
                        1 => piece.push(0xE9),
                        2 => piece.extend_from_slice(b"\xC3\xA9"),
                        _ => {}
                    }
                    piece.extend_from_slice(random_cell(&mut g).as_bytes());
                }
                piece.extend_from_slice(
                    g.pick(&["\n", "\n", "\n", "\r\n", "\n\n", "\r", ""])
                        .as_bytes(),
                );
            }
            let reference = seen(parse_piece_reference(&piece, &text));
            plain += usize::from(reference.is_some());
            assert_eq!(
                seen(parse_piece(&piece, &text)),
                reference,
                "case {case}: {:?}",
                String::from_utf8_lossy(&piece)
            );
        }
        assert!(plain > 2_000, "{plain} plain pieces");
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
