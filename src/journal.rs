//! The results folder: the only module that touches it.
//!
//! # Format
//!
//! `results/<name>/` holds three files:
//!
//! * `manifest.toml` — written once when the search starts and replaced
//!   (write to a temporary file, then rename) when it ends:
//!   `format` (1), `hpsearch_version`, `root_hash` (64 hex digits),
//!   `search_file` (absolute), `budget`, `started` / `finished` (UTC, RFC 3339),
//!   `host`, `[[data]]` entries (`path`, `sha256`), for a command its
//!   `[[inputs]]` (`path` as written, content hash) and `[search]`, the
//!   resolved search in canonical form (defaults filled in) — exactly what
//!   the root hash is computed from.
//! * `trials.csv` — append-only, one row per finished trial in trial order:
//!   `trial,seed,status,value,<parameters in name order>,fold_0..fold_<k-1>,[<columns>,extra,]error,check`.
//!   `status` is `ok`, `failed` or (a command past its time-out)
//!   `timeout`; `value` is the objective value (the mean of the fold scores
//!   for a model; empty when not ok); a command objective adds its declared
//!   result `columns` and `extra` (its other result keys as JSON); floats are written
//!   in shortest round-trip form, so parsing them gives the same bits;
//!   `error` says why a trial failed (empty otherwise); `check` is 16 hex
//!   digits of SHA-256 over the previous row's check (the root hash for the
//!   first row) and this row's fields joined by 0x1f, a chain that makes a
//!   changed, deleted or inserted row an error naming its line. Rows are
//!   written in trial order whatever the thread count, and flushed to disk
//!   (fsync) before later rows are written; several rows may share one
//!   flush. A torn last line (no newline) is a row a crash cut short: it
//!   was never committed, and resuming drops it.
//! * `timings.csv` — `trial,seconds,thread`: wall time per trial and the
//!   worker that ran it. Real but not reproducible, so kept apart.
//! * `folds.csv` — for model searches: the header `fold`, then one line per
//!   data row holding its held-out fold (0 to k-1), on the line the row has
//!   in the data file (data row `r`, counted from 0, on line `r + 2`),
//!   written once when the search starts. Every trial is scored on these
//!   folds; scikit-learn's
//!   `PredefinedSplit(pandas.read_csv("folds.csv")["fold"])` reproduces
//!   them. Folders written before this format hold `row,line,fold` lines
//!   (the same fold, with the row and line written out); they resume as
//!   they are.
//!
//! * `search.toml` — the search file as it was when the search started, so
//!   `hpsearch replay` needs nothing but this folder and the data.
//! * `trials/<index>/` — for a command objective, each trial's own folder:
//!   its working files, `params.json`, and the tails of its output
//!   (`stdout.log`, `stderr.log`). A trial that never committed has its
//!   folder emptied when it reruns.
//! * `lock` — empty; `hpsearch run` holds an OS lock on it while writing,
//!   which the kernel releases when the process ends, however it ends.
//!
//! Nothing here is ever deleted or rewritten in place by a later run; a
//! file hpsearch did not write is refused.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Direction, Search};
use crate::objective::{Evaluation, Status};
use crate::seed::hex;
use crate::value::{fmt_f64, Params};
use sha2::{Digest, Sha256};

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
    /// A command objective's inputs (`path` as written in the search file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<DataEntry>,
    pub search: toml::Value,
}

/// A data file (or input) a search read, with its content hash.
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
    /// The extra columns (a command's result keys), as written.
    pub extra: Vec<String>,
    pub error: String,
}

/// The column layout of `trials.csv` for a search.
#[derive(Clone, Debug, PartialEq)]
pub struct Columns {
    pub params: Vec<String>,
    pub n_folds: usize,
    /// Columns after the fold scores (a command's result columns).
    pub extra: Vec<String>,
}

impl Columns {
    pub fn new(search: &Search, n_folds: usize) -> Columns {
        let extra = search
            .command()
            .map(|c| crate::objective::command::result_columns(&c.columns))
            .unwrap_or_default();
        Columns {
            params: search.space.names().iter().map(|s| s.to_string()).collect(),
            n_folds,
            extra,
        }
    }

    fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = ["trial", "seed", "status", "value"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        h.extend(self.params.iter().cloned());
        h.extend((0..self.n_folds).map(|k| format!("fold_{k}")));
        h.extend(self.extra.iter().cloned());
        h.push("error".into());
        h.push("check".into());
        h
    }
}

/// What `open` found.
pub enum Opened {
    /// A new search: write into this journal from trial 0.
    New(Box<Journal>),
    /// The same search, interrupted: check its rows, then [`Unfinished::resume`].
    Unfinished(Box<Unfinished>),
    /// The same search, already finished: these are its rows.
    Finished(Vec<Row>),
}

/// An interrupted search, locked for this process but not yet written to.
pub struct Unfinished {
    dir: PathBuf,
    lock: File,
    manifest: Manifest,
    columns: Columns,
    /// The committed rows, in trial order.
    pub rows: Vec<Row>,
    trials_len: u64,
    chain: String,
}

/// An open results folder, appending rows.
pub struct Journal {
    dir: PathBuf,
    /// Held (OS lock) while the journal is open; a crash releases it.
    _lock: File,
    trials: File,
    timings: File,
    manifest: Manifest,
    columns: Columns,
    /// The `check` of the last row written (the root hash before any row).
    chain: String,
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

/// The folder of the trials' own folders (`trials/<index>/`), for
/// objectives that need one (a command's working files and output tails).
pub const TRIALS_DIR: &str = "trials";

/// Make a fresh, empty folder for trial `index` of the results folder
/// `dir` and return its absolute path. A folder left there by a trial that never
/// committed (a crash, Ctrl-C) is emptied first, once no process is left
/// working in it ([`crate::interrupt::kill_holders`]): a rerun starts as
/// the first run did.
pub fn fresh_trial_dir(dir: &Path, index: u64) -> Result<PathBuf, JournalError> {
    // Absolute: the program runs in another folder than hpsearch.
    let path =
        std::path::absolute(dir.join(TRIALS_DIR).join(index.to_string())).map_err(io_err(dir))?;
    if path.exists() {
        // A program an earlier, killed run left working in this folder
        // would write into the new trial's: kill it before clearing.
        crate::interrupt::kill_holders(&path);
        fs::remove_dir_all(&path).map_err(io_err(&path))?;
    }
    fs::create_dir_all(&path).map_err(io_err(&path))?;
    Ok(path)
}

/// Names hpsearch writes in a results folder (`.tmp` files are the
/// temporaries of [`write_atomic`]); anything else is refused.
const OWN_FILES: &[&str] = &[
    "manifest.toml",
    "trials.csv",
    "timings.csv",
    "folds.csv",
    "search.toml",
    "lock",
    TRIALS_DIR,
    "manifest.tmp",
    "trials.tmp",
    "timings.tmp",
    "folds.tmp",
    "search.tmp",
];

/// Open `dir` for `search`: create it when new; report it finished when it
/// already holds this search's whole budget, or unfinished (locked, nothing
/// written yet) when it holds less; refuse anything else with a message
/// saying how to proceed.
pub fn open(
    dir: &Path,
    search: &Search,
    columns: &Columns,
    folds: Option<&[usize]>,
) -> Result<Opened, JournalError> {
    let manifest_path = dir.join("manifest.toml");
    if !manifest_path.exists() {
        return create(dir, search, columns, folds).map(|j| Opened::New(Box::new(j)));
    }
    let manifest = read_manifest(dir)?;
    let root = search.root().hex();
    if manifest.root_hash != root {
        return Err(JournalError::Refused {
            path: dir.to_path_buf(),
            message: format!(
                "holds a different search (root hash {} here, {} for {}): {}. \
                 Run with --out DIR to write elsewhere, or move the folder away to start over",
                short(&manifest.root_hash),
                short(&root),
                search.file.display(),
                what_changed(&manifest, search)
            ),
        });
    }
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let name = entry.map_err(io_err(dir))?.file_name();
        let name = name.to_string_lossy();
        if !OWN_FILES.contains(&name.as_ref()) {
            return Err(JournalError::Damaged {
                path: dir.join(name.as_ref()),
                message: "is not a file hpsearch writes; move it out of the results folder".into(),
            });
        }
    }
    if let Some(folds) = folds {
        let path = dir.join("folds.csv");
        if !folds_match(&path, folds)? {
            return Err(JournalError::Damaged {
                path,
                message: "does not match the folds this search cuts from its seed and data".into(),
            });
        }
    }
    let log = read_log(&dir.join("trials.csv"), columns, &root)?;
    let budget = search.budget();
    let n = log.rows.len() as u64;
    if n == budget {
        return Ok(Opened::Finished(log.rows));
    }
    if n > budget {
        return Err(JournalError::Refused {
            path: dir.to_path_buf(),
            message: format!(
                "already holds {n} trials, more than this search's budget of {budget}; \
                 raise `trials` to at least {n} to extend it, or use --out DIR"
            ),
        });
    }
    let lock = take_lock(dir)?;
    Ok(Opened::Unfinished(Box::new(Unfinished {
        dir: dir.to_path_buf(),
        lock,
        manifest,
        columns: columns.clone(),
        rows: log.rows,
        trials_len: log.complete_len,
        chain: log.chain,
    })))
}

impl Unfinished {
    /// Continue the search with `budget` trials: drop a torn last line (a
    /// row a crash cut short, never committed), record the budget in the
    /// manifest and open the journal for appending.
    pub fn resume(self, budget: u64) -> Result<Journal, JournalError> {
        let trials_path = self.dir.join("trials.csv");
        let trials = OpenOptions::new()
            .append(true)
            .open(&trials_path)
            .map_err(io_err(&trials_path))?;
        trials
            .set_len(self.trials_len)
            .map_err(io_err(&trials_path))?;
        let timings_path = self.dir.join("timings.csv");
        let timing_bytes = fs::read(&timings_path).map_err(io_err(&timings_path))?;
        let timings = OpenOptions::new()
            .append(true)
            .open(&timings_path)
            .map_err(io_err(&timings_path))?;
        let whole = timing_bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        timings
            .set_len(whole as u64)
            .map_err(io_err(&timings_path))?;
        let mut manifest = self.manifest;
        manifest.budget = budget;
        manifest.finished = None;
        write_manifest(&self.dir, &manifest)?;
        Ok(Journal {
            dir: self.dir,
            _lock: self.lock,
            trials,
            timings,
            manifest,
            columns: self.columns,
            chain: self.chain,
            buf: Vec::new(),
            timing_buf: Vec::new(),
        })
    }
}

/// Read a results folder's manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest, JournalError> {
    let path = dir.join("manifest.toml");
    let text = fs::read_to_string(&path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            JournalError::Refused {
                path: dir.to_path_buf(),
                message: "is not an hpsearch results folder (no manifest.toml)".into(),
            }
        } else {
            JournalError::Io {
                path: path.clone(),
                source: e,
            }
        }
    })?;
    toml::from_str(&text).map_err(|e| JournalError::Damaged {
        path,
        message: format!("not a readable hpsearch manifest: {e}"),
    })
}

/// Why a search's root hash differs from a folder's: the inputs that
/// changed, when a command's inputs did, else the general reasons.
fn what_changed(manifest: &Manifest, search: &Search) -> String {
    let now = search.command().map(|c| c.inputs.as_slice()).unwrap_or(&[]);
    let changed: Vec<String> = manifest
        .inputs
        .iter()
        .filter_map(|was| {
            let is = now.iter().find(|i| i.name == was.path);
            match is {
                Some(i) if i.sha256 == was.sha256 => None,
                Some(i) => Some(format!(
                    "input {} changed (sha256 {} then, {} now)",
                    was.path,
                    short(&was.sha256),
                    short(&i.sha256)
                )),
                None => Some(format!("input {} is no longer listed", was.path)),
            }
        })
        .collect();
    if changed.is_empty() {
        "the space, data, inputs or settings changed".into()
    } else {
        changed.join("; ")
    }
}

/// Take the folder's lock: an OS file lock, so a crashed run never leaves
/// it stuck.
fn take_lock(dir: &Path) -> Result<File, JournalError> {
    let path = dir.join("lock");
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => Err(JournalError::Refused {
            path: dir.to_path_buf(),
            message: "another hpsearch process is writing this folder; wait for it to end (or stop it) and run again".into(),
        }),
        Err(fs::TryLockError::Error(e)) => Err(JournalError::Io { path, source: e }),
    }
}

/// `folds.csv`: the header `fold`, then the fold of data row `r` on line
/// `r + 2`, the line the row has in the data file.
fn folds_text(folds: &[usize]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(5 + 2 * folds.len());
    text.push_str("fold\n");
    for fold in folds {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{fold}");
    }
    text
}

/// Whether the `folds.csv` at `path` holds exactly `folds`, in the format
/// of [`folds_text`] or the first format's `row,line,fold` (folders written
/// before the change still resume). Read a line at a time, never whole.
fn folds_match(path: &Path, folds: &[usize]) -> Result<bool, JournalError> {
    use io::BufRead;
    use std::fmt::Write as _;
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = io::BufReader::new(file);
    let mut line = Vec::new();
    let mut next = |line: &mut Vec<u8>| -> Result<bool, JournalError> {
        line.clear();
        reader.read_until(b'\n', line).map_err(io_err(path))?;
        Ok(!line.is_empty())
    };
    next(&mut line)?;
    let first_format = match line.as_slice() {
        b"fold\n" => false,
        b"row,line,fold\n" => true,
        _ => return Ok(false),
    };
    let mut expected = String::new();
    for (row, fold) in folds.iter().enumerate() {
        expected.clear();
        // Writing to a String cannot fail.
        let _ = if first_format {
            writeln!(expected, "{row},{},{fold}", row + 2)
        } else {
            writeln!(expected, "{fold}")
        };
        if !next(&mut line)? || line != expected.as_bytes() {
            return Ok(false);
        }
    }
    Ok(!next(&mut line)?)
}

/// Start a new results folder.
fn create(
    dir: &Path,
    search: &Search,
    columns: &Columns,
    folds: Option<&[usize]>,
) -> Result<Journal, JournalError> {
    let manifest_path = dir.join("manifest.toml");
    // A folder without a manifest is new, or one whose creation a crash cut
    // short (only our own files, no row committed: the manifest is written
    // last); anything else is not ours.
    if dir.exists() {
        for entry in fs::read_dir(dir).map_err(io_err(dir))? {
            let name = entry.map_err(io_err(dir))?.file_name();
            if !OWN_FILES.contains(&name.to_string_lossy().as_ref()) {
                return Err(JournalError::Refused {
                    path: dir.to_path_buf(),
                    message: "exists and is not an hpsearch results folder (no manifest.toml); choose another --out".into(),
                });
            }
        }
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let lock = take_lock(dir)?;
    if manifest_path.exists() {
        // Another process finished creating it while we looked.
        return Err(JournalError::Refused {
            path: dir.to_path_buf(),
            message: "was just created by another hpsearch process; run again".into(),
        });
    }
    let root = search.root().hex();
    let manifest = Manifest {
        format: FORMAT,
        hpsearch_version: env!("CARGO_PKG_VERSION").to_string(),
        root_hash: root.clone(),
        search_file: std::path::absolute(&search.file)
            .unwrap_or_else(|_| search.file.clone())
            .display()
            .to_string(),
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
        inputs: search
            .command()
            .map(|c| {
                c.inputs
                    .iter()
                    .map(|i| DataEntry {
                        path: i.name.clone(),
                        sha256: i.sha256.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        search: toml::Value::try_from(search.canonical()).map_err(|e| JournalError::Damaged {
            path: manifest_path.clone(),
            message: format!("cannot encode the resolved search: {e}"),
        })?,
    };
    // The data files first, the manifest last: a folder with a manifest
    // always has its CSV files.
    let trials_path = dir.join("trials.csv");
    write_atomic(&trials_path, &csv_line(&columns.header()))?;
    let timings_path = dir.join("timings.csv");
    write_atomic(&timings_path, b"trial,seconds,thread\n")?;
    if let Some(folds) = folds {
        write_atomic(&dir.join("folds.csv"), folds_text(folds).as_bytes())?;
    }
    write_atomic(&dir.join("search.toml"), search.text.as_bytes())?;
    write_manifest(dir, &manifest)?;
    let trials = OpenOptions::new()
        .append(true)
        .open(&trials_path)
        .map_err(io_err(&trials_path))?;
    let timings = OpenOptions::new()
        .append(true)
        .open(&timings_path)
        .map_err(io_err(&timings_path))?;
    Ok(Journal {
        dir: dir.to_path_buf(),
        _lock: lock,
        trials,
        timings,
        manifest,
        columns: columns.clone(),
        chain: root,
        buf: Vec::new(),
        timing_buf: Vec::new(),
    })
}

impl Journal {
    /// The results folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

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
        for k in 0..self.columns.extra.len() {
            fields.push(c.eval.extra.get(k).cloned().unwrap_or_default());
        }
        fields.push(c.eval.error.clone().unwrap_or_default());
        let check = chain_next(&self.chain, &fields);
        fields.push(check.clone());
        self.chain = check;
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

/// The best trial: the best value by the search's direction, the earliest
/// trial among equals; failed trials never win.
pub fn best_row(direction: Direction, rows: &[Row]) -> Option<&Row> {
    let mut best: Option<&Row> = None;
    for r in rows {
        let Some(v) = r.value.filter(|_| r.status == Status::Ok) else {
            continue;
        };
        if best.is_none_or(|b| b.value.is_some_and(|bv| direction.better(v, bv))) {
            best = Some(r);
        }
    }
    best
}

/// The `check` of a row: the first 16 hex digits of SHA-256 over the
/// previous row's check (the root hash for the first row) and this row's
/// fields. A chain: a changed, deleted or inserted row breaks it from there.
fn chain_next(prev: &str, fields: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    for f in fields {
        h.update([0x1f]);
        h.update(f.as_bytes());
    }
    hex(&h.finalize()[..8])
}

/// `trials.csv` as read back.
struct Log {
    rows: Vec<Row>,
    /// Bytes up to the end of the last complete line.
    complete_len: u64,
    /// The last row's check (the root hash when there is none).
    chain: String,
}

/// Read `trials.csv` of the search with root hash `root`.
pub fn read_rows(path: &Path, columns: &Columns, root: &str) -> Result<Vec<Row>, JournalError> {
    read_log(path, columns, root).map(|l| l.rows)
}

/// Read `trials.csv`: check the header, parse and verify every complete
/// row against its check, and leave out a torn last line (one without its
/// newline), which only a crash leaves.
fn read_log(path: &Path, columns: &Columns, root: &str) -> Result<Log, JournalError> {
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
    let mut chain = root.to_string();
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
        let fields: Vec<String> = (0..want.len() - 1).map(|k| field(k).to_string()).collect();
        let check = chain_next(&chain, &fields);
        if check != field(want.len() - 1) {
            return Err(damaged(
                line,
                "the row does not match its check: it, or a row before it, was changed or deleted after it was written".into(),
            ));
        }
        chain = check;
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
            (Status::Failed | Status::Timeout, "") => None,
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
            extra: (0..columns.extra.len())
                .map(|k| field(4 + np + columns.n_folds + k).to_string())
                .collect(),
            error: field(want.len() - 2).to_string(),
        });
    }
    Ok(Log {
        rows,
        complete_len: complete.len() as u64,
        chain,
    })
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
    fn torn_last_line_is_dropped_and_damage_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("trials.csv");
        let cols = Columns {
            params: vec!["x".into()],
            n_folds: 0,
            extra: Vec::new(),
        };
        let row = |prev: &str, f: &[&str]| {
            let fields: Vec<String> = f.iter().map(|s| s.to_string()).collect();
            let c = chain_next(prev, &fields);
            (format!("{},{c}\n", f.join(",")), c)
        };
        let (r0, c0) = row("root", &["0", "5", "ok", "1.5", "2", ""]);
        let (r1, _) = row(&c0, &["1", "6", "ok", "1", "1", ""]);
        let head = "trial,seed,status,value,x,error,check\n";
        fs::write(&p, format!("{head}{r0}{}", &r1[..9])).unwrap();
        let rows = read_rows(&p, &cols, "root").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].value, Some(1.5));
        fs::write(&p, format!("{head}{r0}{r1}")).unwrap();
        assert_eq!(read_rows(&p, &cols, "root").unwrap().len(), 2);
        // Another root: the first row's check fails.
        let e = read_rows(&p, &cols, "other").unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        // A changed value.
        fs::write(&p, format!("{head}{}{r1}", r0.replace("1.5", "1.6"))).unwrap();
        let e = read_rows(&p, &cols, "root").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("check"), "{e}");
        // A deleted row.
        fs::write(&p, format!("{head}{r1}")).unwrap();
        let e = read_rows(&p, &cols, "root").unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
