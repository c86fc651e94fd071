//! The results folder: the only module that touches it.
//!
//! # Format
//!
//! `results/<name>/` holds three files:
//!
//! * `manifest.toml` — written once when the search starts and replaced
//!   (write to a temporary file, then rename) when it ends:
//!   `format` (1), `hpsearch_version`, `root_hash` (64 hex digits),
//!   `search_file`, `budget`, `started` / `finished` (UTC, RFC 3339),
//!   `host`, `[[data]]` entries (`path`, `sha256`) and `[search]`, the
//!   resolved search in canonical form (defaults filled in) — exactly what
//!   the root hash is computed from.
//! * `trials.csv` — append-only, one row per finished trial in trial order:
//!   `trial,seed,status,value,<parameters in name order>,fold_0..fold_<k-1>,error`.
//!   `status` is `ok` or `failed`; `value` is the objective value (the mean
//!   of the fold scores for a model; empty when failed); floats are written
//!   in shortest round-trip form, so parsing them gives the same bits;
//!   `error` says why a trial failed (empty otherwise). Rows are written in
//!   trial order whatever the thread count, and flushed to disk (fsync)
//!   before later rows are written; several rows may share one flush.
//! * `timings.csv` — `trial,seconds,thread`: wall time per trial and the
//!   worker that ran it. Real but not reproducible, so kept apart.
//! * `folds.csv` — for model searches: `row,line,fold`, the held-out fold
//!   of every data row (`row` counts data rows from 0, `line` is the line
//!   of the CSV file), written once when the search starts. Every trial is
//!   scored on these folds; scikit-learn's `PredefinedSplit(fold)`
//!   reproduces them.
//!
//! Nothing here is ever deleted or rewritten in place by a later run.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Search;
use crate::objective::{Evaluation, Status};
use crate::value::{fmt_f64, Params};

/// Version of the results-folder format.
pub const FORMAT: u32 = 1;

/// Problems with a results folder.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    /// The folder holds another search, or something else entirely.
    #[error("{path}: {message}")]
    Refused { path: PathBuf, message: String },
    /// A file in the folder is damaged.
    #[error("{path}: {message}")]
    Damaged { path: PathBuf, message: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `manifest.toml`; see the module doc.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub hpsearch_version: String,
    pub root_hash: String,
    pub search_file: String,
    pub budget: u64,
    pub started: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    pub host: String,
    #[serde(default)]
    pub data: Vec<DataEntry>,
    pub search: toml::Value,
}

/// A data file a search read.
#[derive(Debug, Serialize, Deserialize)]
pub struct DataEntry {
    pub path: String,
    pub sha256: String,
}

/// One row of `trials.csv`, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub trial: u64,
    pub seed: u64,
    pub status: Status,
    /// `None` for a failed trial.
    pub value: Option<f64>,
    /// Parameter values as written, in column order.
    pub params: Vec<(String, String)>,
    pub folds: Vec<f64>,
    pub error: String,
}

/// The column layout of `trials.csv` for a search.
#[derive(Clone, Debug, PartialEq)]
pub struct Columns {
    pub params: Vec<String>,
    pub n_folds: usize,
}

impl Columns {
    pub fn new(search: &Search, n_folds: usize) -> Columns {
        Columns {
            params: search.space.names().iter().map(|s| s.to_string()).collect(),
            n_folds,
        }
    }

    fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = ["trial", "seed", "status", "value"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        h.extend(self.params.iter().cloned());
        h.extend((0..self.n_folds).map(|k| format!("fold_{k}")));
        h.push("error".into());
        h
    }
}

/// What `open` found.
pub enum Opened {
    /// A new search: write into this journal from trial 0.
    New(Box<Journal>),
    /// The same search, already finished: these are its rows.
    Finished(Vec<Row>),
}

/// An open results folder, appending rows.
pub struct Journal {
    dir: PathBuf,
    trials: File,
    timings: File,
    manifest: Manifest,
    columns: Columns,
    buf: Vec<u8>,
    timing_buf: Vec<u8>,
}

/// A finished trial, ready to be committed.
#[derive(Clone, Debug)]
pub struct Committed<'a> {
    pub trial: u64,
    pub seed: u64,
    pub params: &'a Params,
    pub eval: &'a Evaluation,
    pub seconds: f64,
    pub thread: usize,
}

/// Open `dir` for `search`: create it when new; report it finished when it
/// already holds this search's whole budget; refuse anything else with a
/// message saying how to proceed. Nothing is written unless the result is
/// `Opened::New`.
pub fn open(
    dir: &Path,
    search: &Search,
    columns: &Columns,
    folds: Option<&[usize]>,
) -> Result<Opened, JournalError> {
    let manifest_path = dir.join("manifest.toml");
    if manifest_path.exists() {
        let text = fs::read_to_string(&manifest_path).map_err(io_err(&manifest_path))?;
        let old: Manifest = toml::from_str(&text).map_err(|e| JournalError::Damaged {
            path: manifest_path.clone(),
            message: format!("not a readable hpsearch manifest: {e}"),
        })?;
        let root = search.root().hex();
        if old.root_hash != root {
            return Err(JournalError::Refused {
                path: dir.to_path_buf(),
                message: format!(
                    "holds a different search (root hash {} here, {} for {}): the space, data or settings changed. \
                     Run with --out DIR to write elsewhere, or move the folder away to start over",
                    short(&old.root_hash),
                    short(&root),
                    search.file.display()
                ),
            });
        }
        let rows = read_rows(&dir.join("trials.csv"), columns)?;
        let budget = search.budget();
        if rows.len() as u64 >= budget {
            return Ok(Opened::Finished(rows));
        }
        return Err(JournalError::Refused {
            path: dir.to_path_buf(),
            message: format!(
                "this search is unfinished ({} of {budget} trials recorded); this version of hpsearch cannot resume it yet. \
                 Run with --out DIR to start a fresh copy",
                rows.len()
            ),
        });
    }
    if dir.exists() {
        let mut entries = fs::read_dir(dir).map_err(io_err(dir))?;
        if entries.next().is_some() {
            return Err(JournalError::Refused {
                path: dir.to_path_buf(),
                message: "exists and is not an hpsearch results folder (no manifest.toml); choose another --out".into(),
            });
        }
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let manifest = Manifest {
        format: FORMAT,
        hpsearch_version: env!("CARGO_PKG_VERSION").to_string(),
        root_hash: search.root().hex(),
        search_file: search.file.display().to_string(),
        budget: search.budget(),
        started: utc_now(),
        finished: None,
        host: host(),
        data: search
            .data
            .iter()
            .map(|d| DataEntry {
                path: d.path.display().to_string(),
                sha256: d.sha256.clone(),
            })
            .collect(),
        search: toml::Value::try_from(search.canonical()).map_err(|e| JournalError::Damaged {
            path: manifest_path.clone(),
            message: format!("cannot encode the resolved search: {e}"),
        })?,
    };
    // The header files first, the manifest last: a folder with a manifest
    // always has both CSV files.
    let trials_path = dir.join("trials.csv");
    write_atomic(&trials_path, &csv_line(&columns.header()))?;
    let timings_path = dir.join("timings.csv");
    write_atomic(&timings_path, b"trial,seconds,thread\n")?;
    if let Some(folds) = folds {
        let mut text = String::from("row,line,fold\n");
        for (row, fold) in folds.iter().enumerate() {
            text.push_str(&format!("{row},{},{fold}\n", row + 2));
        }
        write_atomic(&dir.join("folds.csv"), text.as_bytes())?;
    }
    write_manifest(dir, &manifest)?;
    let trials = OpenOptions::new()
        .append(true)
        .open(&trials_path)
        .map_err(io_err(&trials_path))?;
    let timings = OpenOptions::new()
        .append(true)
        .open(&timings_path)
        .map_err(io_err(&timings_path))?;
    Ok(Opened::New(Box::new(Journal {
        dir: dir.to_path_buf(),
        trials,
        timings,
        manifest,
        columns: columns.clone(),
        buf: Vec::new(),
        timing_buf: Vec::new(),
    })))
}

impl Journal {
    /// Queue a trial's row; it reaches the disk at the next [`Journal::sync`].
    pub fn append(&mut self, c: &Committed<'_>) {
        let mut fields = vec![
            c.trial.to_string(),
            c.seed.to_string(),
            c.eval.status.name().to_string(),
            if c.eval.status == Status::Ok {
                fmt_f64(c.eval.value)
            } else {
                String::new()
            },
        ];
        fields.extend(c.params.values().map(|v| v.to_string()));
        fields.extend(c.eval.folds.iter().map(|&f| fmt_f64(f)));
        for _ in c.eval.folds.len()..self.columns.n_folds {
            fields.push(String::new());
        }
        fields.push(c.eval.error.clone().unwrap_or_default());
        self.buf.extend_from_slice(&csv_line(&fields));
        self.timing_buf
            .extend_from_slice(format!("{},{:.6},{}\n", c.trial, c.seconds, c.thread).as_bytes());
    }

    /// Write queued rows and flush them to disk.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let path = self.dir.join("trials.csv");
        self.trials.write_all(&self.buf).map_err(io_err(&path))?;
        self.trials.sync_data().map_err(io_err(&path))?;
        self.buf.clear();
        let tpath = self.dir.join("timings.csv");
        self.timings
            .write_all(&self.timing_buf)
            .map_err(io_err(&tpath))?;
        self.timing_buf.clear();
        Ok(())
    }

    /// Record the end of the search in the manifest.
    pub fn finish(mut self) -> Result<(), JournalError> {
        self.sync()?;
        self.manifest.finished = Some(utc_now());
        write_manifest(&self.dir, &self.manifest)
    }
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), JournalError> {
    let path = dir.join("manifest.toml");
    let body = toml::to_string(m).map_err(|e| JournalError::Damaged {
        path: path.clone(),
        message: format!("cannot encode the manifest: {e}"),
    })?;
    let text = format!(
        "# hpsearch results manifest (format {FORMAT}); written by hpsearch; do not edit.\n\
         # The [search] table is the resolved search the root hash is computed from.\n{body}"
    );
    write_atomic(&path, text.as_bytes())
}

/// Write a whole file by writing a temporary file beside it, flushing it
/// and renaming it over the target, so a crash leaves the old or the new
/// file, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(parent) = path.parent() {
        // Make the rename itself durable; not every platform can open a folder.
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn csv_line(fields: &[String]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(fields);
    w.into_inner().unwrap_or_default()
}

/// Read `trials.csv`: check the header, parse every complete row, and drop
/// a torn last line (one without its newline), which only a crash leaves.
pub fn read_rows(path: &Path, columns: &Columns) -> Result<Vec<Row>, JournalError> {
    let bytes = fs::read(path).map_err(io_err(path))?;
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(i) => &bytes[..=i],
        None => &bytes[..0],
    };
    let damaged = |line: u64, message: String| JournalError::Damaged {
        path: path.to_path_buf(),
        message: format!("line {line}: {message}"),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(complete);
    let mut records = rdr.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        _ => return Err(damaged(1, "missing the header row".into())),
    };
    let want = columns.header();
    if header.iter().ne(want.iter().map(|s| s.as_str())) {
        return Err(damaged(
            1,
            format!(
                "header does not match this search (expected {})",
                want.join(",")
            ),
        ));
    }
    let np = columns.params.len();
    let mut rows = Vec::new();
    for (i, rec) in records.enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| damaged(line, e.to_string()))?;
        if rec.len() != want.len() {
            return Err(damaged(
                line,
                format!("{} fields, expected {}", rec.len(), want.len()),
            ));
        }
        let field = |k: usize| rec.get(k).unwrap_or("");
        let trial: u64 = field(0)
            .parse()
            .map_err(|_| damaged(line, format!("bad trial number {:?}", field(0))))?;
        if trial != i as u64 {
            return Err(damaged(
                line,
                format!("trial {trial} where {i} was expected"),
            ));
        }
        let seed: u64 = field(1)
            .parse()
            .map_err(|_| damaged(line, format!("bad seed {:?}", field(1))))?;
        let status = Status::parse(field(2))
            .ok_or_else(|| damaged(line, format!("bad status {:?}", field(2))))?;
        let value = match (status, field(3)) {
            (Status::Failed, "") => None,
            (_, v) => Some(
                v.parse::<f64>()
                    .map_err(|_| damaged(line, format!("bad value {v:?}")))?,
            ),
        };
        let params = (0..np)
            .map(|k| (columns.params[k].clone(), field(4 + k).to_string()))
            .collect();
        let mut folds = Vec::with_capacity(columns.n_folds);
        for k in 0..columns.n_folds {
            let f = field(4 + np + k);
            if f.is_empty() {
                continue;
            }
            folds.push(
                f.parse::<f64>()
                    .map_err(|_| damaged(line, format!("bad fold score {f:?}")))?,
            );
        }
        rows.push(Row {
            trial,
            seed,
            status,
            value,
            params,
            folds,
            error: field(want.len() - 1).to_string(),
        });
    }
    Ok(rows)
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn host() -> String {
    fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`; for the manifest only.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_format_shape() {
        let s = utc_now();
        assert_eq!(s.len(), 20);
        assert!(s.starts_with("20") && s.ends_with('Z'));
    }

    #[test]
    fn csv_line_quotes_commas() {
        let l = csv_line(&["a,b".into(), "c".into()]);
        assert_eq!(l, b"\"a,b\",c\n");
    }

    #[test]
    fn torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("trials.csv");
        let cols = Columns {
            params: vec!["x".into()],
            n_folds: 0,
        };
        fs::write(&p, "trial,seed,status,value,x,error\n0,5,ok,1.5,2,\n1,6,o").unwrap();
        let rows = read_rows(&p, &cols).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].value, Some(1.5));
        fs::write(
            &p,
            "trial,seed,status,value,x,error\n0,5,ok,1.5,2,\n2,6,ok,1,1,\n",
        )
        .unwrap();
        let e = read_rows(&p, &cols).unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
    }
}
