//! CSV data: loading and hashing, preprocessing fitted inside each fold,
//! cross-validation folds and metrics.
//!
//! This module owns everything between a CSV file on disk and the numbers a
//! model trains on and is scored by. It never sees strategies, threads, the
//! results folder or the search file.
//!
//! # Reading a CSV file ([`load`])
//!
//! - The first line is the header; every column needs a non-empty, unique
//!   name (names are trimmed of surrounding spaces).
//! - Every data row has exactly as many fields as the header.
//! - Cells are trimmed of surrounding spaces before they are read.
//! - A feature cell is *missing* when, after trimming, it is one of
//!   [`MISSING_MARKERS`]: the empty string, `NA`, `NaN`, `nan`, `N/A`, `null`
//!   or `?` (exactly these spellings).
//! - A cell is a *number* when it is a finite decimal number: an optional
//!   sign, digits with an optional fraction, an optional exponent (`5`,
//!   `+5`, `-0.25`, `.5`, `1e-3`). Not numbers: `inf`, `Infinity`, values
//!   beyond the range of an `f64` (`1e400`), hexadecimal (`0x1p3`), digit
//!   separators (`1_000`, `1,000`) and anything holding a control character.
//! - A feature column is [`Column::Numeric`] when every non-missing cell is
//!   a number, and [`Column::Text`] when at most half of them are. A column
//!   where **most (more than half) of the non-missing cells are numbers but
//!   some are not** is an error naming the line, the column and the first
//!   such cell: it is almost always a typo or an export glitch, and reading
//!   it as text would silently turn a numeric feature into a categorical one
//!   with a level per distinct value. Columns listed in
//!   `ReadOptions::text` (`[data] text = [...]`) are read as text
//!   whatever their cells.
//! - Data files are read only when they are regular files (symbolic links
//!   followed): a device such as `/dev/zero` or a FIFO is refused before
//!   anything is read.
//! - Data row `r` (0-based) is always on file line `r + 2` (see
//!   [`Dataset::line`]): every error names lines as an editor shows them.
//!   To keep that true, a blank line between rows and a line break inside a
//!   quoted cell are rejected with an error naming the line (blank lines at
//!   the end of the file are fine).
//! - A UTF-8 byte-order mark at the start of the file is ignored; other
//!   encodings are rejected.
//!
//! # How a file is read
//!
//! Two readers follow these rules. A *plain* file (no `"`, no carriage
//! return but in a CRLF line end, every row complete, every column read as
//! numbers holding only numbers and missing markers: what a numeric export
//! writes) is read by a fast reader: in 4 MiB batches, each cut at line
//! ends into pieces parsed on the rayon threads while the batch is hashed,
//! each number stored as soon as it is parsed. It holds the columns (8
//! bytes a numeric cell, see [`Column::Numeric`]) and a batch or two of the
//! file, never the whole file. Any other file (quoted cells, a column
//! found to be text, every file with an error) is read whole by the
//! general reader, the `csv` crate, which finds the error and names its
//! line and column. Both give the same dataset and the same hash, and
//! neither depends on the number of threads: pieces are cut where the
//! bytes say, parsed on their own and appended in file order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub mod folds;
pub mod inputs;
pub mod metrics;
mod plain;
pub mod preprocess;

/// What a model predicts.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Predict a class label from a finite set (the target's distinct values).
    Classification,
    /// Predict a real number.
    Regression,
}

impl Task {
    /// The lowercase name, as search files and artifacts write it.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

/// Errors about the data file. Each names the file and, where there is one,
/// the line (1-based, as an editor shows it) and the column.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file's content is not usable; `message` says where and what to do.
    #[error("{path}: {message}")]
    Invalid {
        /// The data file.
        path: PathBuf,
        /// What is wrong, where (line, column) and what to do.
        message: String,
    },
    /// The file could not be read at all.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The data file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Cell texts (after trimming) that mean "missing" in a feature or target
/// column. Matched exactly, case included.
pub const MISSING_MARKERS: &[&str] = &["", "NA", "NaN", "nan", "N/A", "null", "?"];

/// Whether a cell is missing: after trimming it is one of [`MISSING_MARKERS`].
pub fn is_missing(cell: &str) -> bool {
    MISSING_MARKERS.contains(&cell.trim())
}

/// At most this many distinct whole-number target values are read as classes
/// when the task is inferred (see [`load`]).
pub const MAX_INFERRED_CLASSES: usize = 20;

/// One feature column, as read from the file.
///
/// Two columns are equal when they have the same kind and cells, a missing
/// cell equal to a missing cell.
#[derive(Clone, Debug)]
pub enum Column {
    /// Numbers, one `f64` a cell, NaN where the cell is empty or a missing
    /// marker: a number read from a file is never NaN (see the module
    /// doc), and 8 bytes a cell are half of what `Option<f64>` takes.
    /// [`Column::numbers`] builds one from `Option`s, [`Column::number`]
    /// reads a cell back as one.
    Numeric(Vec<f64>),
    /// Text (categorical) values; `None` where the cell is empty.
    Text(Vec<Option<String>>),
}

impl PartialEq for Column {
    fn eq(&self, other: &Column) -> bool {
        match (self, other) {
            (Column::Numeric(a), Column::Numeric(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
            }
            (Column::Text(a), Column::Text(b)) => a == b,
            _ => false,
        }
    }
}

impl Column {
    /// A numeric column from its cells, `None` for a missing one (a NaN
    /// cell is missing too).
    pub fn numbers(cells: impl IntoIterator<Item = Option<f64>>) -> Column {
        Column::Numeric(cells.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }

    /// The number in `row`: `None` when it is missing, the column is text
    /// or `row` is past the end.
    pub fn number(&self, row: usize) -> Option<f64> {
        match self {
            Column::Numeric(v) => v.get(row).copied().filter(|x| !x.is_nan()),
            Column::Text(_) => None,
        }
    }

    /// Whether the value in `row` is missing.
    pub fn is_missing(&self, row: usize) -> bool {
        match self {
            Column::Numeric(v) => v.get(row).is_some_and(|x| x.is_nan()),
            Column::Text(v) => matches!(v.get(row), Some(None)),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The target column.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// Class indices into `labels` (sorted, so the order is the file's
    /// content, not the order of first appearance).
    Classes {
        /// The class labels, sorted; class `k` is `labels[k]`.
        labels: Vec<String>,
        /// Each row's class index.
        y: Vec<usize>,
    },
    /// Real-valued targets, one per row.
    Values(Vec<f64>),
}

impl Target {
    /// The task this target is read for.
    pub fn task(&self) -> Task {
        match self {
            Target::Classes { .. } => Task::Classification,
            Target::Values(_) => Task::Regression,
        }
    }

    /// Number of classes (0 for a regression target).
    pub fn n_classes(&self) -> usize {
        match self {
            Target::Classes { labels, .. } => labels.len(),
            Target::Values(_) => 0,
        }
    }
}

/// A loaded CSV file.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The file as given to [`load`].
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Feature columns in file order (the target column removed).
    pub feature_names: Vec<String>,
    /// One entry per feature name, same order.
    pub columns: Vec<Column>,
    /// The target column.
    pub target: Target,
    /// Number of data rows.
    pub n_rows: usize,
}

impl Dataset {
    /// The file line (1-based, as an editor shows it) of data row `row`
    /// (0-based): `row + 2`, the header being line 1. [`load`] guarantees
    /// this by rejecting blank lines between rows and multi-line cells.
    pub fn line(&self, row: usize) -> usize {
        row + 2
    }

    /// The first missing feature value as (file line, column name),
    /// scanning rows in order and, within a row, columns in file order.
    pub fn first_missing(&self) -> Option<(usize, String)> {
        // Each column scanned down (a column's cells are contiguous), the
        // earliest row kept; `min_by_key` keeps the first of equal rows,
        // the column first in file order.
        self.feature_names
            .iter()
            .zip(&self.columns)
            .filter_map(|(name, column)| {
                let row = match column {
                    Column::Numeric(v) => v.iter().position(|x| x.is_nan()),
                    Column::Text(v) => v.iter().position(Option::is_none),
                };
                row.map(|r| (r, name))
            })
            .min_by_key(|(r, _)| *r)
            .map(|(r, name)| (self.line(r), name.clone()))
    }

    /// The position of feature column `name`, if there is one.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.feature_names.iter().position(|n| n == name)
    }
}

/// Load `path` with `target` as the target column.
///
/// See the module doc for how cells, missing values and feature columns are
/// read. A target cell that is one of [`MISSING_MARKERS`] is an error naming
/// its line (the target is never imputed). `task` decides how the target is
/// read:
///
/// - `Some(Task::Classification)`: each label is the trimmed cell text. The
///   classes are sorted numerically when every label parses as a finite
///   number (ties, such as `1` and `1.0`, by text), otherwise by text
///   (byte order); `y` holds indices into that sorted list. At least two
///   classes are needed.
/// - `Some(Task::Regression)`: every target cell must be a finite number.
/// - `None` (infer): **classification** when any target cell is not a finite
///   number, or when every value is a whole number and there are at most
///   [`MAX_INFERRED_CLASSES`] (20) distinct values; **regression**
///   otherwise. So `0/1/2` labels are classes, `151.0, 75.0, ...` with more
///   than 20 distinct values is regression, and `0.5, 1.5` is regression.
///
/// `sha256` is computed on the same bytes that are parsed.
///
/// ```
/// use std::path::Path;
/// use hpsearch::data;
/// use hpsearch::objective::models::Task;
///
/// let iris = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv");
/// let ds = data::load(&iris, "target", None)?;
/// assert_eq!((ds.n_rows, ds.feature_names.len()), (150, 4));
/// // Labels 0, 1 and 2: whole numbers, few of them, so classes.
/// assert_eq!(ds.target.task(), Task::Classification);
/// assert_eq!(ds.target.n_classes(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load(path: &Path, target: &str, task: Option<Task>) -> Result<Dataset, DataError> {
    load_with(path, target, task, &ReadOptions::default())
}

/// How [`load_with`] reads a file, beyond its target and task.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ReadOptions<'a> {
    /// Feature columns read as text whatever their cells (`[data] text`).
    /// Names that are not feature columns are ignored here; the caller
    /// checks them.
    pub text: &'a [String],
    /// What set the task passed to [`load_with`] (e.g. "metric rmse is for
    /// regression"), named in errors about the target.
    pub task_from: Option<&'a str>,
}

/// [`load`], with the columns read as text and the reason for the task.
pub(crate) fn load_with(
    path: &Path,
    target: &str,
    task: Option<Task>,
    options: &ReadOptions<'_>,
) -> Result<Dataset, DataError> {
    let invalid = |message: String| DataError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    // The target's text is kept (class labels are texts), and so is that
    // of the columns read as text.
    let keep_text = |name: &str| name == target.trim() || options.text.iter().any(|t| t == name);
    let mut table = read_table(path, &keep_text)?;

    let target_index = table
        .header
        .iter()
        .position(|name| name == target.trim())
        .ok_or_else(|| {
            invalid(format!(
                "target column `{target}` is not in the header; the columns are: {}. \
                 Set the target to one of them",
                table
                    .header
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let target_name = table.header[target_index].clone();
    let n_rows = table.n_rows;

    let mut feature_names = Vec::with_capacity(table.header.len().saturating_sub(1));
    let mut columns = Vec::with_capacity(table.header.len().saturating_sub(1));
    for (j, name) in table.header.iter().enumerate() {
        if j == target_index {
            continue;
        }
        feature_names.push(name.clone());
        let as_text = options.text.contains(name);
        // Each raw column is freed as soon as it is read.
        let raw = table
            .columns
            .get_mut(j)
            .map(std::mem::take)
            .unwrap_or_default();
        let column = match raw {
            ReadColumn::Raw(raw) => read_feature(name, raw.cells(), as_text).map_err(invalid)?,
            // Only a column whose every non-missing cell is a number is read
            // as numbers (see `plain`).
            ReadColumn::Numeric(values) => Column::Numeric(values),
        };
        columns.push(column);
    }

    // Target cells, with the missing ones rejected by line.
    let target_column = match table.columns.get_mut(target_index).map(std::mem::take) {
        Some(ReadColumn::Raw(raw)) => raw,
        None => RawColumn::default(),
        // `keep_text` keeps the target's text: this is not reached.
        Some(ReadColumn::Numeric(_)) => {
            return Err(invalid(format!(
                "column `{target_name}`: the target was read as numbers, not as text; \
                 this is a bug in hpsearch, please report it"
            )))
        }
    };
    let mut cells = Vec::with_capacity(n_rows);
    for (r, cell) in target_column.cells().enumerate() {
        let cell = cell.trim();
        if is_missing(cell) {
            return Err(invalid(format!(
                "line {}: column `{target_name}`: the target value is missing ({}); \
                 every row needs a target: fill it in or delete the row",
                r + 2,
                describe_cell(cell)
            )));
        }
        cells.push(cell);
    }
    let target = read_target(&cells, &target_name, task, options.task_from).map_err(invalid)?;

    Ok(Dataset {
        path: path.to_path_buf(),
        sha256: table.sha256,
        feature_names,
        columns,
        target,
        n_rows,
    })
}

/// Load a file of feature columns only, every column read as [`load`]
/// reads features except that a mostly numeric column with a non-number is
/// text (see `load_features_as`).
pub fn load_features(path: &Path) -> Result<Dataset, DataError> {
    load_features_as(path, &[])
}

/// Load a file of feature columns only (rows to predict); the target is
/// empty. Each column named in `trained` is read with the kind it had when
/// the model was trained: a numeric column's non-missing cells must all be
/// numbers (an error names the first that is not), a text column is text
/// whatever its cells. Other columns (not used by the model) are numeric
/// when every non-missing cell is a number, text otherwise.
pub(crate) fn load_features_as(
    path: &Path,
    trained: &[(&str, Kind)],
) -> Result<Dataset, DataError> {
    let invalid = |message: String| DataError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let keep_text =
        |name: &str| trained.iter().find(|(n, _)| *n == name).map(|(_, k)| *k) == Some(Kind::Text);
    let mut table = read_table(path, &keep_text)?;
    let mut columns = Vec::with_capacity(table.header.len());
    for (j, name) in table.header.iter().enumerate() {
        let raw = match table.columns.get_mut(j).map(std::mem::take) {
            Some(ReadColumn::Raw(raw)) => raw,
            // Every non-missing cell is a number: numeric whatever the kind
            // it was trained with, but a text column's cells are kept as
            // text by `keep_text`.
            Some(ReadColumn::Numeric(values)) => {
                columns.push(Column::Numeric(values));
                continue;
            }
            None => continue,
        };
        let cells = raw.cells();
        let kind = trained.iter().find(|(n, _)| n == name).map(|(_, k)| *k);
        let column = match kind {
            Some(Kind::Text) => text_column(cells),
            Some(Kind::Numeric) => match cells
                .clone()
                .enumerate()
                .find(|(_, c)| !is_missing(c) && parse_finite(c.trim()).is_none())
            {
                Some((r, cell)) => {
                    return Err(invalid(format!(
                        "line {}, column `{name}`: {}; the column was numeric when the model \
                         was trained: fix the cell or make it missing (empty or NA)",
                        r + 2,
                        not_a_number(cell.trim())
                    )))
                }
                None => numeric_column(cells),
            },
            None => match read_feature(name, cells.clone(), false) {
                Ok(column) => column,
                Err(_) => text_column(cells),
            },
        };
        columns.push(column);
    }
    Ok(Dataset {
        path: path.to_path_buf(),
        sha256: table.sha256,
        n_rows: table.n_rows,
        feature_names: table.header,
        columns,
        target: Target::Values(Vec::new()),
    })
}

/// The kind a feature column is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Numbers (missing markers allowed).
    Numeric,
    /// Text, one-hot encoded by the preprocessing.
    Text,
}

/// SHA-256 of a file's bytes, lowercase hex; the file is read in chunks,
/// so memory does not grow with its size. Only a regular file is read.
pub fn sha256_file(path: &Path) -> Result<String, DataError> {
    use std::io::Read;
    check_regular(path)?;
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(crate::seed::hex(&hasher.finalize()))
}

/// `None` when `path` is a regular file (symbolic links followed), else
/// what it is instead ("a FIFO (named pipe)", "a character device", "a
/// folder", ...).
pub(crate) fn not_regular(path: &Path) -> std::io::Result<Option<&'static str>> {
    let meta = std::fs::metadata(path)?;
    let ft = meta.file_type();
    Ok(if ft.is_file() {
        None
    } else if ft.is_dir() {
        Some("a folder")
    } else {
        Some(special_file_kind(&ft))
    })
}

/// Refuse `path` unless it is a regular file (symbolic links followed):
/// reading `/dev/zero` would never end and opening a FIFO blocks until
/// another process writes to it.
pub(crate) fn check_regular(path: &Path) -> Result<(), DataError> {
    let kind = not_regular(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match kind {
        None => Ok(()),
        Some(what) => Err(DataError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "is {what}, not a regular file; hpsearch reads only regular files (a FIFO or \
                 a device could block or never end): save the content to a file and give \
                 its path"
            ),
        }),
    }
}

#[cfg(unix)]
fn special_file_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_file_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// The bytes of `path`, once [`check_regular`] accepts it.
pub(crate) fn read_regular(path: &Path) -> Result<Vec<u8>, DataError> {
    check_regular(path)?;
    std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// SHA-256 of `bytes`, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The raw cells of a CSV file: trimmed header names and the data rows,
/// stored column by column.
///
/// Why not a `Vec<String>` per row: a row vector and a heap string per cell
/// cost about 60 bytes a cell beyond its text, 7 times the `f64` it
/// becomes (a 200 MB file took 5.5 GB). A column keeps its cells' text end
/// to end and one end offset per cell, so the table takes about the file's
/// size plus 8 bytes a cell, and each column is freed once it is read.
struct Table {
    header: Vec<String>,
    columns: Vec<ReadColumn>,
    n_rows: usize,
    /// SHA-256 of the file's bytes, lowercase hex.
    sha256: String,
}

/// A column as a reader gives it.
enum ReadColumn {
    /// The cells' text, untrimmed.
    Raw(RawColumn),
    /// The numbers of a column whose every cell is a finite number or
    /// missing (NaN), as [`numeric_column`] reads them (`plain` only).
    Numeric(Vec<f64>),
}

impl Default for ReadColumn {
    fn default() -> ReadColumn {
        ReadColumn::Raw(RawColumn::default())
    }
}

/// Read `path` into a table: with the fast reader of plain files when it
/// can (see `plain`), otherwise with the general reader ([`parse_table`]),
/// which reads the whole file and finds its errors. `keep_text` names the
/// columns whose text the caller needs; the general reader keeps every
/// column's text.
fn read_table(path: &Path, keep_text: &dyn Fn(&str) -> bool) -> Result<Table, DataError> {
    if let Some(table) = plain::read(path, keep_text, plain::Sizes::DEFAULT)? {
        return Ok(table);
    }
    read_general(path)
}

/// Read `path` with the general reader only.
fn read_general(path: &Path) -> Result<Table, DataError> {
    let bytes = read_regular(path)?;
    let sha256 = sha256_hex(&bytes);
    let mut table = parse_table(&bytes).map_err(|message| DataError::Invalid {
        path: path.to_path_buf(),
        message,
    })?;
    table.sha256 = sha256;
    Ok(table)
}

/// One column's cells as the CSV reader gives them (untrimmed), end to end.
#[derive(Default)]
struct RawColumn {
    text: String,
    /// `ends[r]`: where row `r`'s cell ends in `text` (it starts where row
    /// `r - 1`'s ends).
    ends: Vec<usize>,
}

impl RawColumn {
    fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len());
    }

    /// Append `other`'s cells after this column's.
    fn append(&mut self, other: &RawColumn) {
        let offset = self.text.len();
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|e| e + offset));
    }

    /// Row `r`'s cell (empty past the last row).
    fn cell(&self, r: usize) -> &str {
        let start = match r {
            0 => 0,
            _ => self.ends.get(r - 1).copied().unwrap_or(0),
        };
        let end = self.ends.get(r).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or("")
    }

    /// Every cell in row order.
    fn cells(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        (0..self.ends.len()).map(|r| self.cell(r))
    }
}

/// The 1-based line of a byte offset, counted forward from the offset
/// asked before (the reader asks in increasing order, so the file is
/// scanned once; an earlier offset counts again from the start). Line `l`
/// is `1 +` the number of `\n` bytes before the offset.
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            bytes,
            at: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, byte: usize) -> usize {
        let byte = byte.min(self.bytes.len());
        if byte < self.at {
            self.at = 0;
            self.line = 1;
        }
        self.line += self.bytes[self.at..byte]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.at = byte;
        self.line
    }
}

/// Parse the CSV text; errors are messages without the path.
fn parse_table(bytes: &[u8]) -> Result<Table, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Line numbers are computed here from the bytes: the csv crate's own line
    // counter points at the end of the previous record (blank lines, CRLF).
    let mut lines = LineCounter::new(bytes);

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::StringRecord::new();
    let mut header: Option<Vec<String>> = None;
    let mut columns: Vec<ReadColumn> = Vec::new();
    let mut n_rows = 0usize;
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| csv_message(&e, &mut |b| lines.line_of(b)))?;
        if !more {
            break;
        }
        // The record starts after any blank lines the reader skipped.
        let mut start = record.position().map_or(0, |p| p.byte() as usize);
        while start < bytes.len() && (bytes[start] == b'\n' || bytes[start] == b'\r') {
            start += 1;
        }
        let line = lines.line_of(start);
        let expected_line = n_rows + if header.is_some() { 2 } else { 1 };
        if line != expected_line {
            return Err(line_shift_message(bytes, start, expected_line));
        }
        match &header {
            None => {
                let names: Vec<String> = record.iter().map(|f| f.trim().to_owned()).collect();
                check_header(&names)?;
                columns = names.iter().map(|_| ReadColumn::default()).collect();
                header = Some(names);
            }
            Some(names) => {
                if record.len() != names.len() {
                    return Err(format!(
                        "line {line}: expected {} fields as in the header, found {}; \
                         every row needs one value per column (leave a cell empty for a \
                         missing value, quote cells that contain a comma)",
                        names.len(),
                        record.len()
                    ));
                }
                for (column, field) in columns.iter_mut().zip(record.iter()) {
                    if let ReadColumn::Raw(column) = column {
                        column.push(field);
                    }
                }
                n_rows += 1;
            }
        }
    }
    let header = header.ok_or_else(|| {
        "the file is empty: it needs a header row and at least one data row".to_owned()
    })?;
    if n_rows == 0 {
        return Err(
            "no data rows: the file has a header but no rows below it; add data rows".to_owned(),
        );
    }
    Ok(Table {
        header,
        columns,
        n_rows,
        sha256: String::new(),
    })
}

fn check_header(names: &[String]) -> Result<(), String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (j, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(format!(
                "line 1: column {} has no name in the header; name every column \
                 (a leading unnamed column is often an index written by pandas' \
                 to_csv: write the file with index=False)",
                j + 1
            ));
        }
        if let Some(first) = seen.insert(name, j) {
            return Err(format!(
                "line 1: column name `{name}` appears twice in the header (columns {} and {}); \
                 rename one of them",
                first + 1,
                j + 1
            ));
        }
    }
    Ok(())
}

/// Why a record does not start on the line its row number says: either
/// blank lines come first (the first of them is line `expected`), or the
/// previous record (starting on line `expected - 1`) spans several lines.
fn line_shift_message(bytes: &[u8], start: usize, expected: usize) -> String {
    // Blank lines before the record: the bytes before `start` end in two
    // line breaks (carriage returns aside), or the file starts with them.
    let breaks = bytes[..start]
        .iter()
        .rev()
        .take_while(|b| **b == b'\n' || **b == b'\r')
        .filter(|b| **b == b'\n')
        .count();
    if breaks >= 2 || expected == 1 {
        format!(
            "line {expected}: blank line; blank lines before or between rows are not allowed \
             (hpsearch names rows by their line): delete it"
        )
    } else {
        format!(
            "line {}: a quoted cell in this row contains a line break; cells may not span \
             lines (hpsearch names rows by their line): remove the line break",
            expected - 1
        )
    }
}

fn csv_message(e: &csv::Error, line_of: &mut dyn FnMut(usize) -> usize) -> String {
    let line = e
        .position()
        .map(|p| format!("line {}: ", line_of(p.byte() as usize)));
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => format!(
            "{}the file is not valid UTF-8 text; save it as UTF-8",
            line.unwrap_or_default()
        ),
        _ => format!("{}cannot parse the CSV: {e}", line.unwrap_or_default()),
    }
}

fn describe_cell(cell: &str) -> String {
    if cell.is_empty() {
        "empty cell".to_owned()
    } else {
        format!("`{cell}`")
    }
}

/// A finite number, or `None`: what makes a cell numeric when a column's
/// kind is read (drift applies the same rule). Rust's `f64` parser accepts
/// decimal numbers (with an optional `+`/`-`), `inf`, `infinity` and `nan`;
/// of these only decimal numbers within the `f64` range are finite, so
/// this is exactly the module doc's rule for a number.
pub(crate) fn parse_finite(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Why the (trimmed, non-missing) `cell` is not a number, for an error:
/// "`inf` is not a finite number (infinity is not a value; ...)".
pub(crate) fn not_a_number(cell: &str) -> String {
    let shown = cell.escape_debug().to_string();
    let why = match cell.parse::<f64>() {
        Ok(v) if v.is_nan() => "NaN is not a value; leave the cell empty or write NA for a \
                                missing value"
            .to_owned(),
        Ok(_) if cell.to_ascii_lowercase().contains("inf") => {
            "infinity is not a value hpsearch can train on".to_owned()
        }
        Ok(_) => "it is beyond the range of a 64-bit float, about 1.8e308".to_owned(),
        Err(_) if cell.chars().any(char::is_control) => "it holds a control character".to_owned(),
        Err(_)
            if cell
                .trim_start_matches(['+', '-'])
                .get(..2)
                .is_some_and(|p| p.eq_ignore_ascii_case("0x")) =>
        {
            "hexadecimal is not read; write the number in decimal".to_owned()
        }
        Err(_) if cell.contains(['_', ',']) && cell.chars().any(|c| c.is_ascii_digit()) => {
            "digit separators (`_` or `,`) are not read; write the digits alone".to_owned()
        }
        Err(_) => return format!("`{shown}` is not a number"),
    };
    format!("`{shown}` is not a finite number ({why})")
}

fn numeric_column<'a>(cells: impl Iterator<Item = &'a str>) -> Column {
    Column::numbers(cells.map(|c| {
        if is_missing(c) {
            None
        } else {
            parse_finite(c.trim())
        }
    }))
}

fn text_column<'a>(cells: impl Iterator<Item = &'a str>) -> Column {
    Column::Text(
        cells
            .map(|c| (!is_missing(c)).then(|| c.trim().to_owned()))
            .collect(),
    )
}

/// Read feature column `name` by the module doc's rule: numeric when every
/// non-missing cell is a number, text when at most half are (or `as_text`),
/// an error naming the first non-number when most are numbers.
fn read_feature<'a>(
    name: &str,
    cells: impl Iterator<Item = &'a str> + Clone,
    as_text: bool,
) -> Result<Column, String> {
    if as_text {
        return Ok(text_column(cells));
    }
    let (mut numbers, mut others) = (0usize, 0usize);
    let mut first_other: Option<(usize, &str)> = None;
    for (r, c) in cells.clone().enumerate() {
        if is_missing(c) {
            continue;
        }
        if parse_finite(c.trim()).is_some() {
            numbers += 1;
        } else {
            others += 1;
            first_other.get_or_insert((r, c.trim()));
        }
    }
    match first_other {
        None => Ok(numeric_column(cells)),
        Some((r, cell)) if numbers > others => Err(format!(
            "line {}, column `{name}`: {}, but {numbers} of the column's {} non-missing cells \
             are numbers; fix the cell, make it missing (empty or NA), or, if the column \
             really is text, add it to [data] text = [\"{name}\"]",
            r + 2,
            not_a_number(cell),
            numbers + others
        )),
        Some(_) => Ok(text_column(cells)),
    }
}

/// Read the (trimmed, non-missing) target cells for `task`; `task_from`
/// says what set the task, for the error messages.
fn read_target(
    cells: &[&str],
    name: &str,
    task: Option<Task>,
    task_from: Option<&str>,
) -> Result<Target, String> {
    let numbers: Option<Vec<f64>> = cells.iter().map(|c| parse_finite(c)).collect();
    let first_non_number = || {
        cells
            .iter()
            .enumerate()
            .find(|(_, c)| parse_finite(c).is_none())
            .map(|(r, c)| (r, *c))
            .unwrap_or((0, ""))
    };
    let task = match (task, &numbers) {
        (Some(task), _) => task,
        (None, None) => {
            let count = cells.iter().filter(|c| parse_finite(c).is_some()).count();
            if count > cells.len() - count {
                // Mostly numbers: a stray cell, not class labels (see
                // read_feature).
                let (r, cell) = first_non_number();
                return Err(format!(
                    "line {}: column `{name}`: target {}, but {count} of the {} target cells \
                     are numbers; fix the cell, or set task = \"classification\" under \
                     [objective] if the target really is class labels",
                    r + 2,
                    not_a_number(cell),
                    cells.len()
                ));
            }
            Task::Classification
        }
        (None, Some(values)) => {
            let whole = values.iter().all(|v| v.fract() == 0.0);
            let mut distinct = values.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            if whole && distinct.len() <= MAX_INFERRED_CLASSES {
                Task::Classification
            } else {
                Task::Regression
            }
        }
    };
    match task {
        Task::Regression => match numbers {
            Some(values) => Ok(Target::Values(values)),
            None => {
                let (r, cell) = first_non_number();
                let from = task_from.map_or_else(String::new, |f| format!(" ({f})"));
                Err(format!(
                    "line {}: column `{name}`: target {}, but the task is regression{from}; \
                     fix the value, or use a classification metric/model",
                    r + 2,
                    not_a_number(cell)
                ))
            }
        },
        Task::Classification => classes(cells, name),
    }
}

fn classes(cells: &[&str], name: &str) -> Result<Target, String> {
    // The distinct labels in byte order (a set of borrowed cells: one
    // string per label, not per row).
    let mut labels: Vec<String> = cells
        .iter()
        .copied()
        .collect::<std::collections::BTreeSet<&str>>()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let numeric: Option<Vec<f64>> = labels.iter().map(|l| parse_finite(l)).collect();
    if let Some(values) = numeric {
        // Numeric labels sort by value (2 before 10), ties by text.
        let mut pairs: Vec<(f64, String)> = values.into_iter().zip(labels).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        labels = pairs.into_iter().map(|(_, l)| l).collect();
    }
    if labels.len() < 2 {
        return Err(format!(
            "column `{name}`: the target has only one class ({}); classification needs at \
             least 2 classes: check the target column",
            labels
                .first()
                .map_or_else(String::new, |l| format!("`{l}`"))
        ));
    }
    let index: BTreeMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let y = cells
        .iter()
        .map(|c| index.get(c).copied().unwrap_or(0))
        .collect();
    Ok(Target::Classes { labels, y })
}

#[cfg(test)]
mod tests;
