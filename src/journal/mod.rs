//! The results folder: the only module that writes its files (a command
//! trial's `trials/<i>/` folder, made here, is the trial's working
//! directory; see design.md, "Who writes into a results folder").
//!
//! # Format
//!
//! `results/<name>/` holds these files and folders:
//!
//! * `manifest.toml` — written first when the search starts, then replaced
//!   (a uniquely named temporary file, then a rename) after every durable
//!   flush of the journal and when the search ends: `check` (SHA-256 over
//!   every line below its own: an edited manifest is refused), `format`
//!   (2), `hpsearch_version`, `root_hash` (64 hex digits), `search_file`
//!   (absolute), `budget`, `rows` and `last_check` (how many rows
//!   `trials.csv` held at the last flush and the last one's `check`: the
//!   journal may hold more rows than this, after a crash between its flush
//!   and this record, never fewer), `started` / `finished` (UTC, RFC 3339),
//!   `host`, `[[data]]` entries (`path`, `sha256`), for a command its
//!   `[[inputs]]` (`path` as written, content hash) and `[search]`, the
//!   resolved search in canonical form (defaults filled in) — exactly what
//!   the root hash is computed from (`run` compares it with the search
//!   file's). Format 1 (earlier versions) had no `check`, `rows` or
//!   `last_check`: such a manifest is still read, its journal taken as it
//!   is, and written back in the current format.
//! * `trials.csv` — append-only, one row per finished trial in trial order:
//!   `trial,seed,status,value,<parameters in name order>,fold_0..fold_<k-1>,[<columns>,extra,][steps,]error,check`.
//!   A parameter's cell is empty when the trial left it inactive (a
//!   conditional parameter, `when`, or one its sub-grid of a list of grids
//!   does not name).
//!   `status` is `ok`, `failed`, (a command past its time-out)
//!   `timeout` or (stopped by the pruner) `pruned`; `value` is the
//!   objective value (the mean of the fold scores for a model; for a
//!   pruned trial its last intermediate value; empty when failed); with a
//!   pruner, `steps` holds the trial's intermediate values as compact
//!   JSON `[[step,value],…]` (values in shortest round-trip form), read
//!   back on resume for the pruner; a command or an external objective
//!   adds its declared result `columns` and `extra` (its other result
//!   keys as JSON; empty cells for a closure returning a plain value);
//!   floats are written
//!   in shortest round-trip form, so parsing them gives the same bits;
//!   `error` says why a trial failed (empty otherwise), and for a pruned
//!   trial at which step it stopped (`pruned at step N`); `check` is 16 hex
//!   digits of SHA-256 over the previous row's check (the root hash for the
//!   first row) and this row's fields joined by 0x1f, a chain that makes a
//!   changed, deleted or inserted row an error naming its line, and with
//!   the manifest's `rows` and `last_check`, a journal cut short at a row
//!   boundary. Rows are written in trial order whatever the thread count
//!   by a background writer that flushes (fdatasync) whatever rows are
//!   queued, several at a time (a group commit), so the next proposal never
//!   waits on the disk; a crash can lose only rows that resuming recomputes
//!   identically. A torn last line (no newline) is a row a crash cut
//!   short: it was never committed, and resuming drops it (the only time
//!   hpsearch shortens a file).
//! * `timings.csv` — `trial,seconds,thread`: wall time per trial and the
//!   worker that ran it. Real but not reproducible, so kept apart; written
//!   and flushed with the journal, its errors stop the run as the
//!   journal's do. A trial that ran again after a crash may be listed
//!   twice (the later entry is the run that committed).
//! * `folds.csv` — for model searches: the header `fold`, then one line per
//!   data row holding its held-out fold (0 to k-1, or -1 for a row no fold
//!   holds out: a time series' first rows, a holdout's training rows), on
//!   the line the row has in the data file (data row `r`, counted from 0,
//!   on line `r + 2`), written once when the search starts. With
//!   `[cv] kind = "repeated"` the header is `repeat_0,repeat_1,…` and each
//!   line holds the row's fold in each repeat (numbered on over repeats). Every trial is scored on these
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
//! * `.hpsearch-tmp-*` — a temporary file of [`write_atomic`] that a crash
//!   left behind; the next `run` removes it.
//!
//! Nothing here is ever deleted or rewritten in place by a later run; a
//! file hpsearch did not write is refused. A folder whose manifest is
//! missing is refused unless it holds no trial (a creation a crash cut
//! short), and a journal shorter than its manifest records is refused,
//! naming the missing trials.
//!
//! # Example
//!
//! ```
//! # // Hidden set-up: run a 6-trial random search on Branin into `dir`
//! # // (what `hpsearch run` does).
//! # let tmp = tempfile::tempdir()?;
//! # let dir = tmp.path().join("branin");
//! # let text = r#"
//! # [search]
//! # strategy = "random"
//! # trials = 6
//! # seed = 0
//! # [objective]
//! # function = "branin"
//! # [space]
//! # x0 = { type = "float", low = -5.0, high = 10.0 }
//! # x1 = { type = "float", low = 0.0, high = 15.0 }
//! # "#;
//! # let engine = hpsearch::engine::Search::from_toml(text, tmp.path().join("branin.toml"))?;
//! # let options = hpsearch::engine::RunOptions { threads: Some(2), ..Default::default() };
//! # engine.run(&dir, options)?;
//! # let search = engine.spec();
//! use hpsearch::journal::{self, Columns};
//!
//! // `dir` is a results folder; `search` its search, resolved.
//! let manifest = journal::read_manifest(&dir)?;
//! assert_eq!(manifest.rows, 6);
//! // A function has no folds: no `fold_<k>` columns.
//! let columns = Columns::new(&search, 0);
//! let rows = journal::read_committed(&dir, &columns, &manifest)?;
//! assert_eq!(rows.len(), 6);
//! let best = journal::best_row(search.direction, &rows).ok_or("no trial succeeded")?;
//! println!("best trial {}: {:?} with {:?}", best.trial, best.value, best.params);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::config::{Direction, Search};
use crate::data::folds::{FoldsOf, NO_FOLD};
use crate::objective::{Evaluation, Status};
use crate::seed::hex;
use crate::value::{fmt_f64, Params};
use sha2::{Digest, Sha256};

/// Version of the results-folder format (2: the manifest's `check`,
/// `rows` and `last_check`).
pub const FORMAT: u32 = 2;

/// How the temporary files of [`write_atomic`] begin; a results folder
/// accepts (and `run` removes) files so named.
pub(crate) const TMP_PREFIX: &str = ".hpsearch-tmp-";

/// Problems with a results folder.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file of the folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The folder holds another search, or something else entirely.
    #[error("{path}: {message}")]
    Refused {
        /// The folder or file refused.
        path: PathBuf,
        /// Why, and what to do.
        message: String,
    },
    /// A file in the folder is damaged.
    #[error("{path}: {message}")]
    Damaged {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong, naming the line where there is one.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `manifest.toml`; see the module doc.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// The results-folder format ([`FORMAT`] when written by this version).
    pub format: u32,
    /// The hpsearch version that started the search.
    pub hpsearch_version: String,
    /// The search's root hash, 64 hex digits.
    pub root_hash: String,
    /// The search file's absolute path when the search started.
    pub search_file: String,
    /// How many trials the search runs.
    pub budget: u64,
    /// Rows `trials.csv` held at the last durable flush; it may hold more
    /// (a crash between the flush and this record), never fewer.
    pub rows: u64,
    /// The `check` of row `rows - 1` (the root hash when `rows` is 0).
    pub last_check: String,
    /// When the search started (UTC, RFC 3339).
    pub started: String,
    /// When the search finished (UTC, RFC 3339); `None` while it is unfinished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    /// The host name of the machine that started the search.
    pub host: String,
    /// The data files the search read (empty for a function).
    #[serde(default)]
    pub data: Vec<DataEntry>,
    /// A command objective's inputs (`path` as written in the search file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<DataEntry>,
    /// The resolved search in canonical form: what the root hash is computed
    /// from.
    pub search: toml::Value,
}

/// A data file (or input) a search read, with its content hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataEntry {
    /// The path: a data file's as the search resolved it (against the
    /// search file's folder), a command's input's as written in the search
    /// file.
    pub path: String,
    /// SHA-256 of its bytes (of a folder input: of its file list, see
    /// [`crate::data::inputs`]), 64 lowercase hex digits.
    pub sha256: String,
}

/// One row of `trials.csv`, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The trial's index, from 0.
    pub trial: u64,
    /// The trial's seed (derived from the root hash and the index).
    pub seed: u64,
    /// `ok`, `failed`, `timeout` or `pruned`.
    pub status: Status,
    /// `None` for a failed trial.
    pub value: Option<f64>,
    /// Parameter values as written, in column order.
    pub params: Vec<(String, String)>,
    /// The fold scores, in fold order (empty without folds).
    pub folds: Vec<f64>,
    /// The extra columns (a command's result keys), as written.
    pub extra: Vec<String>,
    /// The intermediate values `(step, value)` (the `steps` column, with
    /// a pruner; empty otherwise).
    pub steps: Vec<(u64, f64)>,
    /// Why the trial failed, or where it was pruned; empty otherwise.
    pub error: String,
}

/// The column layout of `trials.csv` for a search.
#[derive(Clone, Debug, PartialEq)]
pub struct Columns {
    /// The parameter names, in name order.
    pub params: Vec<String>,
    /// How many `fold_<k>` columns there are.
    pub n_folds: usize,
    /// Columns after the fold scores (the result columns of a command or
    /// an external objective).
    pub extra: Vec<String>,
    /// Whether there is a `steps` column (a search with a pruner).
    pub steps: bool,
}

impl Columns {
    /// The layout for `search` with `n_folds` fold-score columns.
    pub fn new(search: &Search, n_folds: usize) -> Columns {
        // Why an external objective has the command's layout: a Python
        // function returning a result map keeps its other keys, and the
        // file is the one the same search run by a command writes.
        let extra = search
            .result_columns()
            .map(crate::objective::command::result_columns)
            .unwrap_or_default();
        Columns {
            params: search.space.names().iter().map(|s| s.to_string()).collect(),
            n_folds,
            extra,
            steps: search.pruner.is_some(),
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
        if self.steps {
            h.push(STEPS_COLUMN.into());
        }
        h.push("error".into());
        h.push("check".into());
        h
    }
}

/// The column of a pruned search's intermediate values.
pub(crate) const STEPS_COLUMN: &str = "steps";

/// Intermediate values as the `steps` column holds them: compact JSON
/// `[[step,value],…]`, values in shortest round-trip form.
pub(crate) fn steps_text(steps: &[(u64, f64)]) -> String {
    let parts: Vec<String> = steps
        .iter()
        .map(|&(s, v)| format!("[{s},{}]", fmt_f64(v)))
        .collect();
    format!("[{}]", parts.join(","))
}

/// Read [`steps_text`] back (parsed by hand, so every value has the bits
/// it was written with).
pub(crate) fn parse_steps(text: &str) -> Option<Vec<(u64, f64)>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    if inner.is_empty() {
        return Some(Vec::new());
    }
    let inner = inner.strip_prefix('[')?.strip_suffix(']')?;
    inner
        .split("],[")
        .map(|pair| {
            let (s, v) = pair.split_once(',')?;
            let v: f64 = v.parse().ok()?;
            v.is_finite().then_some(())?;
            Some((s.parse().ok()?, v))
        })
        .collect()
}

/// What `open` found.
pub(crate) enum Opened {
    /// A new search: write into this journal from trial 0.
    New(Box<Journal>),
    /// The same search, interrupted: check its rows, then [`Unfinished::resume`].
    Unfinished(Box<Unfinished>),
    /// The same search, already finished: these are its rows.
    Finished(Vec<Row>),
}

/// An interrupted search, locked for this process but not yet written to.
pub(crate) struct Unfinished {
    dir: PathBuf,
    lock: File,
    manifest: Manifest,
    columns: Columns,
    /// The committed rows, in trial order (the caller may take them).
    pub rows: Vec<Row>,
    /// How many rows `trials.csv` holds.
    n_rows: u64,
    /// Bytes of `trials.csv` and where its last complete line ends.
    trials_len: u64,
    trials_complete: u64,
    chain: String,
}

/// An open results folder, appending rows.
///
/// Rows are formatted here, on the coordinator's thread, and handed to a
/// background writer ([`Journal::commit`]) that appends and flushes them;
/// [`Journal::sync`] waits until every handed row is on disk.
pub(crate) struct Journal {
    dir: PathBuf,
    /// Held (OS lock) while the journal is open; a crash releases it.
    _lock: File,
    manifest: Manifest,
    columns: Columns,
    /// The `check` of the last row appended (the root hash before any row).
    chain: String,
    /// Rows appended so far (recorded and new).
    rows: u64,
    buf: Vec<u8>,
    timing_buf: Vec<u8>,
    writer: Writer,
}

/// A finished trial, ready to be committed.
#[derive(Clone, Debug)]
pub(crate) struct Committed<'a> {
    /// The trial's index.
    pub trial: u64,
    /// The trial's seed.
    pub seed: u64,
    /// The parameters it ran with.
    pub params: &'a Params,
    /// What the objective gave.
    pub eval: &'a Evaluation,
    /// Wall time of the trial, in seconds (`timings.csv` only, never the
    /// journal).
    pub seconds: f64,
    /// The worker that ran it (`timings.csv` only).
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

/// Names hpsearch writes in a results folder (and the temporaries of
/// [`write_atomic`], named [`TMP_PREFIX`]`*`); anything else is refused.
const OWN_FILES: &[&str] = &[
    "manifest.toml",
    "trials.csv",
    "timings.csv",
    "folds.csv",
    "search.toml",
    "lock",
    TRIALS_DIR,
];

fn is_own(name: &str) -> bool {
    OWN_FILES.contains(&name) || name.starts_with(TMP_PREFIX)
}

/// Open `dir` for `search`: create it when new; report it finished when it
/// already holds this search's whole budget, or unfinished (locked, nothing
/// written yet) when it holds less; refuse anything else with a message
/// saying how to proceed.
pub(crate) fn open(
    dir: &Path,
    search: &Search,
    columns: &Columns,
    folds: Option<FoldsOf<'_>>,
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
    verify_search(dir, &manifest, search)?;
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let name = entry.map_err(io_err(dir))?.file_name();
        let name = name.to_string_lossy();
        if !is_own(&name) {
            return Err(JournalError::Damaged {
                path: dir.join(name.as_ref()),
                message: "is not a file hpsearch writes; move it out of the results folder".into(),
            });
        }
    }
    // Why the manifest is written first: a crash before the CSV files
    // exist leaves a manifest that records no row; creating what is
    // missing then replaces nothing.
    let mut lock = None;
    if manifest.rows == 0 {
        let missing = missing_files(dir, folds.is_some());
        if !missing.is_empty() {
            lock = Some(take_lock(dir)?);
            write_files(dir, search, columns, folds, &missing)?;
        }
    }
    for (name, needed) in [
        ("trials.csv", true),
        ("timings.csv", true),
        ("search.toml", true),
        ("folds.csv", folds.is_some()),
    ] {
        if needed && !dir.join(name).exists() {
            return Err(JournalError::Damaged {
                path: dir.join(name),
                message: format!(
                    "is missing, and the manifest records {} committed trials; restore it from a \
                     backup, or move the folder away (or run with --out DIR) to start over",
                    manifest.rows
                ),
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
    let log = read_recorded(dir, columns, &manifest)?;
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
    let lock = match lock {
        Some(l) => l,
        None => take_lock(dir)?,
    };
    Ok(Opened::Unfinished(Box::new(Unfinished {
        dir: dir.to_path_buf(),
        lock,
        manifest,
        columns: columns.clone(),
        n_rows: log.rows.len() as u64,
        rows: log.rows,
        trials_len: log.len,
        trials_complete: log.complete_len,
        chain: log.chain,
    })))
}

/// Drop the torn tail of `file` (`len` bytes, whole lines up to
/// `complete`), and only when there is one: an append-only file
/// (`chattr +a`) refuses any truncation, even to its own length.
fn drop_torn_tail(file: &File, path: &Path, len: u64, complete: u64) -> Result<(), JournalError> {
    if len > complete {
        file.set_len(complete).map_err(io_err(path))?;
    }
    Ok(())
}

/// The length of `path` and where its last complete line ends.
fn line_lengths(path: &Path) -> Result<(u64, u64), JournalError> {
    let len = fs::metadata(path).map_err(io_err(path))?.len();
    if len == 0 {
        return Ok((0, 0));
    }
    let mut f = File::open(path).map_err(io_err(path))?;
    // Why read backwards in blocks: timings.csv can be large and is only
    // ever torn in its last line.
    let mut end = len;
    let mut block = vec![0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start)).map_err(io_err(path))?;
        f.read_exact(&mut block[..n]).map_err(io_err(path))?;
        if let Some(i) = block[..n].iter().rposition(|&b| b == b'\n') {
            return Ok((len, start + i as u64 + 1));
        }
        end = start;
    }
    Ok((len, 0))
}

impl Unfinished {
    /// Continue the search with `budget` trials: drop a torn last line (a
    /// row a crash cut short, never committed), record the budget and what
    /// the journal holds in the manifest, and start the journal's writer.
    pub fn resume(self, budget: u64) -> Result<Journal, JournalError> {
        remove_temporaries(&self.dir);
        let trials_path = self.dir.join("trials.csv");
        let trials = OpenOptions::new()
            .append(true)
            .open(&trials_path)
            .map_err(io_err(&trials_path))?;
        drop_torn_tail(&trials, &trials_path, self.trials_len, self.trials_complete)?;
        let timings_path = self.dir.join("timings.csv");
        let (timings_len, timings_complete) = line_lengths(&timings_path)?;
        let timings = OpenOptions::new()
            .append(true)
            .open(&timings_path)
            .map_err(io_err(&timings_path))?;
        drop_torn_tail(&timings, &timings_path, timings_len, timings_complete)?;
        let rows = self.n_rows;
        let mut manifest = self.manifest;
        manifest.budget = budget;
        manifest.finished = None;
        manifest.rows = rows;
        manifest.last_check = self.chain.clone();
        write_manifest(&self.dir, &manifest)?;
        let writer = Writer::start(
            &self.dir,
            trials,
            timings,
            self.trials_complete,
            timings_complete,
            manifest.clone(),
        )?;
        Ok(Journal {
            dir: self.dir,
            _lock: self.lock,
            manifest,
            columns: self.columns,
            chain: self.chain,
            rows,
            buf: Vec::new(),
            timing_buf: Vec::new(),
            writer,
        })
    }
}

/// Remove the temporaries a crash left in the results folder `dir`; only
/// the holder of its lock may. Best effort: one left behind is harmless.
fn remove_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// The first line of a manifest's text that is its own: the comments
/// before it are not covered by the check.
const CHECK_KEY: &str = "check = \"";

/// Read a results folder's manifest, refusing one that was edited (its
/// `check` does not match its text) or that another format wrote.
pub fn read_manifest(dir: &Path) -> Result<Manifest, JournalError> {
    let path = dir.join("manifest.toml");
    let text = fs::read_to_string(&path).map_err(|e| {
        if e.kind() != io::ErrorKind::NotFound {
            return JournalError::Io {
                path: path.clone(),
                source: e,
            };
        }
        let message = match journal_rows(dir) {
            Some(n) if n > 0 => format!(
                "manifest.toml is missing, but trials.csv holds {n} trials: hpsearch cannot \
                 check them without it. Restore manifest.toml from a backup, or move the \
                 folder away to start over"
            ),
            _ => "is not an hpsearch results folder (no manifest.toml)".into(),
        };
        JournalError::Refused {
            path: dir.to_path_buf(),
            message,
        }
    })?;
    let damaged = |message: String| JournalError::Damaged {
        path: path.clone(),
        message,
    };
    let Some((check, body)) = split_check(&text) else {
        return read_format_1(dir, &text).ok_or_else(|| {
            damaged(format!(
                "has no `check` line: it was not written by hpsearch (results format \
                 {FORMAT}, or format 1 without a check), or it was edited. Run the search \
                 again into a new folder (--out DIR)"
            ))
        });
    };
    if check != body_check(body) {
        return Err(damaged(
            "was edited after hpsearch wrote it (its check does not match its text; a \
             setting such as the seed or the budget was changed). Undo the edit or restore \
             the file from a backup: hpsearch never reads an edited manifest"
                .into(),
        ));
    }
    let m: Manifest = toml::from_str(body)
        .map_err(|e| damaged(format!("not a readable hpsearch manifest: {e}")))?;
    if m.format != FORMAT {
        return Err(damaged(format!(
            "results format {} where this hpsearch reads format {FORMAT}; use the hpsearch \
             version {} that wrote it",
            m.format, m.hpsearch_version
        )));
    }
    Ok(m)
}

/// A manifest of results format 1 (before the manifest recorded its rows
/// and carried a check), so that folders written by earlier versions still
/// show, replay, export and resume. What its journal held is taken from
/// `trials.csv` as it is now (a cut made before this version read it
/// cannot be told apart); the next write upgrades it to the current format.
fn read_format_1(dir: &Path, text: &str) -> Option<Manifest> {
    #[derive(Deserialize)]
    struct Format1 {
        format: u32,
        hpsearch_version: String,
        root_hash: String,
        search_file: String,
        budget: u64,
        started: String,
        #[serde(default)]
        finished: Option<String>,
        host: String,
        #[serde(default)]
        data: Vec<DataEntry>,
        #[serde(default)]
        inputs: Vec<DataEntry>,
        search: toml::Value,
    }
    let old: Format1 = toml::from_str(text).ok()?;
    if old.format != 1 {
        return None;
    }
    // Rows as `read_log` counts them: complete CSV records after the
    // header (a quoted error may span lines), the last one's check.
    let (mut rows, mut last_check) = (0u64, old.root_hash.clone());
    if let Ok(bytes) = fs::read(dir.join("trials.csv")) {
        let complete = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(i) => &bytes[..=i],
            None => &bytes[..0],
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(complete);
        for rec in rdr.records() {
            let rec = rec.ok()?;
            rows += 1;
            last_check = rec.get(rec.len().saturating_sub(1))?.to_string();
        }
    }
    Some(Manifest {
        // Held, and written back, in the current format.
        format: FORMAT,
        hpsearch_version: old.hpsearch_version,
        root_hash: old.root_hash,
        search_file: old.search_file,
        budget: old.budget,
        rows,
        last_check,
        started: old.started,
        finished: old.finished,
        host: old.host,
        data: old.data,
        inputs: old.inputs,
        search: old.search,
    })
}

/// The `check` a manifest's text records and the text it covers.
fn split_check(text: &str) -> Option<(&str, &str)> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let next = at + line.len();
        if let Some(rest) = line.strip_prefix(CHECK_KEY) {
            let check = rest.trim_end().strip_suffix('"')?;
            return Some((check, &text[next..]));
        }
        if !line.starts_with('#') {
            return None;
        }
        at = next;
    }
    None
}

/// SHA-256 over a manifest's body, as hex.
fn body_check(body: &str) -> String {
    hex(&Sha256::digest(body.as_bytes()))
}

/// Trials (complete lines after the header) in `dir/trials.csv`, if it
/// can be read: for naming what a folder without a manifest holds.
fn journal_rows(dir: &Path) -> Option<u64> {
    let bytes = fs::read(dir.join("trials.csv")).ok()?;
    Some(
        bytes
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            .saturating_sub(1) as u64,
    )
}

/// Check that a manifest's `[search]` is the canonical form of `search`,
/// whose root hash it records: a `[search]` edited along with its check
/// would otherwise pass for this search.
fn verify_search(dir: &Path, manifest: &Manifest, search: &Search) -> Result<(), JournalError> {
    let path = dir.join("manifest.toml");
    let ours = toml::Value::try_from(search.canonical()).map_err(|e| JournalError::Damaged {
        path: path.clone(),
        message: format!("cannot encode the resolved search: {e}"),
    })?;
    let diffs = search_diffs(&manifest.search, &ours);
    if diffs.is_empty() {
        return Ok(());
    }
    Err(JournalError::Damaged {
        path,
        message: format!(
            "[search] does not match the root hash it records ({}): it was edited. Undo the \
             edit or restore the file from a backup",
            diffs.join("; ")
        ),
    })
}

/// The keys whose values differ between a recorded `[search]` table and
/// another, as `key: then → now`, in key order; at most 10 and a count.
fn search_diffs(then: &toml::Value, now: &toml::Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_values("", then, now, &mut out);
    if out.len() > 10 {
        let more = out.len() - 10;
        out.truncate(10);
        out.push(format!("and {more} more"));
    }
    out
}

fn diff_values(key: &str, then: &toml::Value, now: &toml::Value, out: &mut Vec<String>) {
    match (then, now) {
        (toml::Value::Table(a), toml::Value::Table(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let sub = if key.is_empty() {
                    // Why: the search file names these `[search]` keys.
                    match k.as_str() {
                        "seed" | "strategy" | "format" => format!("search.{k}"),
                        "window" => "search.parallel".into(),
                        _ => k.clone(),
                    }
                } else {
                    format!("{key}.{k}")
                };
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => diff_values(&sub, x, y, out),
                    (Some(x), None) => out.push(format!("{sub}: {} → (none)", shown(x))),
                    (None, Some(y)) => out.push(format!("{sub}: (none) → {}", shown(y))),
                    (None, None) => {}
                }
            }
        }
        _ if then != now => out.push(format!("{key}: {} → {}", shown(then), shown(now))),
        _ => {}
    }
}

/// A TOML value, short: hashes cut to 12 digits, long values elided.
fn shown(v: &toml::Value) -> String {
    let text = match v {
        toml::Value::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("{}…", &s[..12])
        }
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => fmt_f64(*f),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Why a search's root hash differs from a folder's: the keys of the
/// resolved search that differ and the command inputs that changed.
fn what_changed(manifest: &Manifest, search: &Search) -> String {
    let now = search.command().map(|c| c.inputs.as_slice()).unwrap_or(&[]);
    let mut changed: Vec<String> = manifest
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
    let mut keys = match toml::Value::try_from(search.canonical()) {
        Ok(ours) => {
            // The inputs are named above, with their paths.
            let strip = |v: &toml::Value| {
                let mut v = v.clone();
                if let Some(o) = v.get_mut("objective").and_then(|o| o.as_table_mut()) {
                    o.remove("inputs");
                }
                v
            };
            search_diffs(&strip(&manifest.search), &strip(&ours))
        }
        Err(_) => Vec::new(),
    };
    if let Some(i) = keys.iter().position(|k| k.starts_with("data.sha256:")) {
        let path = manifest.data.first().map_or("the data file", |d| &d.path);
        keys[i] = format!("{path} changed ({})", keys[i]);
    }
    changed.extend(keys);
    if changed.is_empty() {
        format!(
            "the resolved searches are the same; the folder was written by hpsearch {}, which \
             hashes them differently",
            manifest.hpsearch_version
        )
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

// `FoldsOf` belongs to `data::folds` (the objective makes it, the journal
// writes it); its `folds.csv` lines are written here.
impl FoldsOf<'_> {
    /// The header line.
    fn header(&self) -> String {
        if self.width == 1 {
            "fold\n".to_string()
        } else {
            let names: Vec<String> = (0..self.width).map(|r| format!("repeat_{r}")).collect();
            names.join(",") + "\n"
        }
    }

    /// The line of one row's folds.
    fn line(&self, row: &[usize], out: &mut String) {
        use std::fmt::Write as _;
        for (j, &f) in row.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            // Writing to a String cannot fail.
            let _ = if f == NO_FOLD {
                write!(out, "-1")
            } else {
                write!(out, "{f}")
            };
        }
        out.push('\n');
    }

    fn rows(&self) -> std::slice::Chunks<'_, usize> {
        self.folds.chunks(self.width.max(1))
    }
}

/// `folds.csv`: the header `fold`, then the fold of data row `r` on line
/// `r + 2`, the line the row has in the data file (`-1`: in no fold); with
/// repeats, the header `repeat_0,repeat_1,…` and one fold per repeat.
fn folds_text(folds: FoldsOf<'_>) -> String {
    let mut text = folds.header();
    text.reserve(2 * folds.folds.len());
    for row in folds.rows() {
        folds.line(row, &mut text);
    }
    text
}

/// Whether the `folds.csv` at `path` holds exactly `folds`, in the format
/// of [`folds_text`] or the first format's `row,line,fold` (folders written
/// before the change still resume). Read a line at a time, never whole.
fn folds_match(path: &Path, folds: FoldsOf<'_>) -> Result<bool, JournalError> {
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
        b"row,line,fold\n" if folds.width == 1 => true,
        h if h == folds.header().as_bytes() => false,
        _ => return Ok(false),
    };
    let mut expected = String::new();
    for (row, fold) in folds.rows().enumerate() {
        expected.clear();
        if first_format {
            // Writing to a String cannot fail.
            let _ = writeln!(expected, "{row},{},{}", row + 2, fold[0]);
        } else {
            folds.line(fold, &mut expected);
        }
        if !next(&mut line)? || line != expected.as_bytes() {
            return Ok(false);
        }
    }
    Ok(!next(&mut line)?)
}

/// The files a new folder gets after its manifest, in the order written.
const CREATED: &[&str] = &["trials.csv", "timings.csv", "folds.csv", "search.toml"];

/// Which of [`CREATED`] are missing from `dir`.
fn missing_files(dir: &Path, has_folds: bool) -> Vec<&'static str> {
    CREATED
        .iter()
        .copied()
        .filter(|&n| (has_folds || n != "folds.csv") && !dir.join(n).exists())
        .collect()
}

/// Write the files `names` of a new folder (none may exist: nothing is
/// replaced).
fn write_files(
    dir: &Path,
    search: &Search,
    columns: &Columns,
    folds: Option<FoldsOf<'_>>,
    names: &[&str],
) -> Result<(), JournalError> {
    for &name in names {
        let bytes = match (name, folds) {
            ("trials.csv", _) => csv_line(&columns.header()),
            ("timings.csv", _) => b"trial,seconds,thread\n".to_vec(),
            ("folds.csv", Some(f)) => folds_text(f).into_bytes(),
            ("search.toml", _) => search.text.as_bytes().to_vec(),
            _ => continue,
        };
        write_atomic(&dir.join(name), &bytes)?;
    }
    Ok(())
}

/// Start a new results folder, or start again one whose creation a crash
/// cut short (no manifest and no trial: nothing to lose). A folder without
/// a manifest that holds trials, or files hpsearch does not write, is
/// refused: hpsearch never replaces what it did not just create.
fn create(
    dir: &Path,
    search: &Search,
    columns: &Columns,
    folds: Option<FoldsOf<'_>>,
) -> Result<Journal, JournalError> {
    let manifest_path = dir.join("manifest.toml");
    let refuse_if_holding = |dir: &Path| -> Result<(), JournalError> {
        if !dir.exists() {
            return Ok(());
        }
        for entry in fs::read_dir(dir).map_err(io_err(dir))? {
            let name = entry.map_err(io_err(dir))?.file_name();
            if !is_own(&name.to_string_lossy()) {
                return Err(JournalError::Refused {
                    path: dir.to_path_buf(),
                    message: "exists and is not an hpsearch results folder (no manifest.toml); choose another --out".into(),
                });
            }
        }
        let trials = journal_rows(dir).unwrap_or(0);
        let timings = fs::read(dir.join("timings.csv"))
            .map(|b| b.iter().filter(|&&c| c == b'\n').count().saturating_sub(1))
            .unwrap_or(0);
        let trial_dirs = fs::read_dir(dir.join(TRIALS_DIR)).map_or(0, |d| d.count());
        if trials > 0 || timings > 0 || trial_dirs > 0 {
            let what = if trials > 0 {
                format!("trials.csv holds {trials} trials")
            } else if timings > 0 {
                format!("timings.csv holds {timings} rows")
            } else {
                format!("{TRIALS_DIR}/ holds {trial_dirs} trial folders")
            };
            return Err(JournalError::Refused {
                path: dir.to_path_buf(),
                message: format!(
                    "manifest.toml is missing, but {what}: hpsearch cannot check them without \
                     it and will not replace them. Restore manifest.toml from a backup, or move \
                     the folder away (or run with --out DIR) to start a new search"
                ),
            });
        }
        Ok(())
    };
    refuse_if_holding(dir)?;
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let lock = take_lock(dir)?;
    if manifest_path.exists() {
        // Another process finished creating it while we looked.
        return Err(JournalError::Refused {
            path: dir.to_path_buf(),
            message: "was just created by another hpsearch process; run again".into(),
        });
    }
    // Under the lock, look again: nothing may have changed since.
    refuse_if_holding(dir)?;
    remove_temporaries(dir);
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
        rows: 0,
        last_check: root.clone(),
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
    // The manifest first: from then on the folder is recognisably this
    // search's, and a crash before the CSV files exist leaves a manifest
    // recording no row, which the next run completes. The files a cut
    // creation left (headers only, no trial) are replaced: they hold
    // nothing.
    write_manifest(dir, &manifest)?;
    write_files(dir, search, columns, folds, CREATED)?;
    let trials_path = dir.join("trials.csv");
    let timings_path = dir.join("timings.csv");
    let trials = OpenOptions::new()
        .append(true)
        .open(&trials_path)
        .map_err(io_err(&trials_path))?;
    let timings = OpenOptions::new()
        .append(true)
        .open(&timings_path)
        .map_err(io_err(&timings_path))?;
    let trials_len = trials.metadata().map_err(io_err(&trials_path))?.len();
    let timings_len = timings.metadata().map_err(io_err(&timings_path))?.len();
    let writer = Writer::start(
        dir,
        trials,
        timings,
        trials_len,
        timings_len,
        manifest.clone(),
    )?;
    Ok(Journal {
        dir: dir.to_path_buf(),
        _lock: lock,
        manifest,
        columns: columns.clone(),
        chain: root,
        rows: 0,
        buf: Vec::new(),
        timing_buf: Vec::new(),
        writer,
    })
}

impl Journal {
    /// The results folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Queue a trial's row; [`Journal::commit`] hands it to the writer.
    pub fn append(&mut self, c: &Committed<'_>) {
        let mut fields = vec![
            c.trial.to_string(),
            c.seed.to_string(),
            c.eval.status.name().to_string(),
            if matches!(c.eval.status, Status::Ok | Status::Pruned) {
                fmt_f64(c.eval.value)
            } else {
                String::new()
            },
        ];
        if c.params.len() == self.columns.params.len() {
            fields.extend(c.params.values().map(|v| v.to_string()));
        } else {
            // By column, so an inactive parameter (a conditional one, or
            // one its sub-grid does not name: absent from `params`) is an
            // empty cell.
            fields.extend(self.columns.params.iter().map(|name| {
                c.params
                    .get(name)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            }));
        }
        fields.extend(c.eval.folds.iter().map(|&f| fmt_f64(f)));
        for _ in c.eval.folds.len()..self.columns.n_folds {
            fields.push(String::new());
        }
        for k in 0..self.columns.extra.len() {
            fields.push(c.eval.extra.get(k).cloned().unwrap_or_default());
        }
        if self.columns.steps {
            fields.push(steps_text(&c.eval.steps));
        }
        fields.push(error_text(c.eval));
        let check = chain_next(&self.chain, &fields);
        fields.push(check.clone());
        self.chain = check;
        self.rows += 1;
        self.buf.extend_from_slice(&csv_line(&fields));
        self.timing_buf
            .extend_from_slice(format!("{},{:.6},{}\n", c.trial, c.seconds, c.thread).as_bytes());
    }

    /// Hand the queued rows to the writer, which appends and flushes them
    /// in the background; waits only when very much is already queued.
    /// Returns the error of an earlier write that failed.
    pub fn commit(&mut self) -> Result<(), JournalError> {
        self.writer
            .hand(&mut self.buf, &mut self.timing_buf, self.rows, &self.chain)
    }

    /// Commit the queued rows and wait until every row is on disk and
    /// recorded in the manifest.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.commit()?;
        self.writer.wait(self.rows)
    }

    /// Record the end of the search in the manifest.
    pub fn finish(mut self) -> Result<(), JournalError> {
        self.sync()?;
        self.writer.stop()?;
        self.manifest.rows = self.rows;
        self.manifest.last_check = self.chain.clone();
        self.manifest.finished = Some(utc_now());
        write_manifest(&self.dir, &self.manifest)
    }
}

/// The background writer of a journal: appends the rows it is handed to
/// `timings.csv` and `trials.csv`, flushes both (fdatasync), then records
/// the count and the last check in the manifest; whatever was queued
/// during a flush goes out in the next (a group commit). Rows reach the
/// file strictly in the order handed, so the journal is always a prefix of
/// the search's trials. The first failure stops it; the coordinator sees
/// it at its next [`Journal::commit`] or [`Journal::sync`].
struct Writer {
    /// The results folder, for messages.
    dir: PathBuf,
    shared: std::sync::Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

#[derive(Default)]
struct Queue {
    trials: Vec<u8>,
    timings: Vec<u8>,
    /// Rows handed so far, and the last one's check.
    rows: u64,
    check: String,
    /// Rows on disk and recorded.
    durable: u64,
    /// The first write that failed: (path, kind, message).
    failed: Option<(PathBuf, io::ErrorKind, String)>,
    closing: bool,
}

/// Queued bytes past which [`Journal::commit`] waits for the writer.
const MAX_QUEUED: usize = 64 << 20;

/// The files the writer owns.
struct Files {
    dir: PathBuf,
    trials: File,
    timings: File,
    /// Their lengths after the last successful write.
    trials_len: u64,
    timings_len: u64,
    manifest: Manifest,
}

impl Writer {
    fn start(
        dir: &Path,
        trials: File,
        timings: File,
        trials_len: u64,
        timings_len: u64,
        manifest: Manifest,
    ) -> Result<Writer, JournalError> {
        let shared = std::sync::Arc::new(Shared {
            queue: Mutex::new(Queue {
                rows: manifest.rows,
                check: manifest.last_check.clone(),
                durable: manifest.rows,
                ..Queue::default()
            }),
            changed: Condvar::new(),
        });
        let files = Files {
            dir: dir.to_path_buf(),
            trials,
            timings,
            trials_len,
            timings_len,
            manifest,
        };
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || write_loop(&s, files))
            .map_err(io_err(dir))?;
        Ok(Writer {
            dir: dir.to_path_buf(),
            shared,
            thread: Some(thread),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Why a poisoned lock is taken as is: the queue's fields are
        // plain values, consistent after any single assignment.
        self.shared
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the writer thread still runs.
    fn alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Wait for the writer to report, or a while: a writer that ended
    /// without reporting (it cannot, short of a bug) must not hang the run.
    fn wait_a_while<'a>(&self, q: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        self.shared
            .changed
            .wait_timeout(q, std::time::Duration::from_millis(200))
            .map(|(q, _)| q)
            .unwrap_or_else(|e| e.into_inner().0)
    }

    fn hand(
        &self,
        trials: &mut Vec<u8>,
        timings: &mut Vec<u8>,
        rows: u64,
        check: &str,
    ) -> Result<(), JournalError> {
        let mut q = self.lock();
        if let Some(e) = failure(&q) {
            return Err(e);
        }
        if trials.is_empty() {
            return Ok(());
        }
        q.trials.append(trials);
        q.timings.append(timings);
        q.rows = rows;
        q.check = check.to_string();
        self.shared.changed.notify_all();
        while q.trials.len() > MAX_QUEUED && q.failed.is_none() && self.alive() {
            q = self.wait_a_while(q);
        }
        failure(&q).map_or(Ok(()), Err)
    }

    /// Wait until `rows` rows are durable, or a write failed.
    fn wait(&self, rows: u64) -> Result<(), JournalError> {
        let mut q = self.lock();
        while q.durable < rows && q.failed.is_none() {
            if !self.alive() {
                break;
            }
            q = self.wait_a_while(q);
        }
        if let Some(e) = failure(&q) {
            return Err(e);
        }
        if q.durable < rows {
            return Err(JournalError::Damaged {
                path: self.dir.join("trials.csv"),
                message: format!(
                    "the journal's writer stopped after {} of {rows} rows; run again to resume",
                    q.durable
                ),
            });
        }
        Ok(())
    }

    /// Let the writer end once its queue is empty, and wait for it.
    fn stop(&mut self) -> Result<(), JournalError> {
        {
            let mut q = self.lock();
            q.closing = true;
            self.shared.changed.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        failure(&self.lock()).map_or(Ok(()), Err)
    }
}

impl Drop for Writer {
    /// Write whatever is queued before the journal goes (an early return
    /// after a stop or an error): those rows were committed in order.
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn failure(q: &Queue) -> Option<JournalError> {
    q.failed
        .as_ref()
        .map(|(path, kind, message)| JournalError::Io {
            path: path.clone(),
            source: io::Error::new(*kind, message.clone()),
        })
}

fn write_loop(shared: &Shared, mut files: Files) {
    loop {
        let (trials, timings, rows, check) = {
            let mut q = shared
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            while q.trials.is_empty() && !q.closing {
                q = shared
                    .changed
                    .wait(q)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            if q.trials.is_empty() {
                return;
            }
            (
                std::mem::take(&mut q.trials),
                std::mem::take(&mut q.timings),
                q.rows,
                q.check.clone(),
            )
        };
        let result = files.write(&trials, &timings, rows, &check);
        let mut q = shared
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match result {
            Ok(()) => q.durable = rows,
            Err(e) => {
                q.failed = Some(match e {
                    JournalError::Io { path, source } => (path, source.kind(), source.to_string()),
                    JournalError::Refused { path, message }
                    | JournalError::Damaged { path, message } => {
                        (path, io::ErrorKind::Other, message)
                    }
                });
            }
        }
        shared.changed.notify_all();
        if q.failed.is_some() {
            return;
        }
    }
}

impl Files {
    /// Append one group of rows and their timings, flush both, then record
    /// them in the manifest. A failed write is undone as far as it can be
    /// (those rows were never recorded), so no trial's row outlives its
    /// timing; either way the error names the file.
    fn write(
        &mut self,
        trials: &[u8],
        timings: &[u8],
        rows: u64,
        check: &str,
    ) -> Result<(), JournalError> {
        let trials_path = self.dir.join("trials.csv");
        let timings_path = self.dir.join("timings.csv");
        if let Err(e) = self.timings.write_all(timings) {
            let _ = self.timings.set_len(self.timings_len);
            return Err(io_err(&timings_path)(e));
        }
        if let Err(e) = self.trials.write_all(trials) {
            let _ = self.trials.set_len(self.trials_len);
            let _ = self.timings.set_len(self.timings_len);
            return Err(io_err(&trials_path)(e));
        }
        self.trials.sync_data().map_err(io_err(&trials_path))?;
        self.timings.sync_data().map_err(io_err(&timings_path))?;
        self.trials_len += trials.len() as u64;
        self.timings_len += timings.len() as u64;
        self.manifest.rows = rows;
        self.manifest.last_check = check.to_string();
        // Why the rename need not be durable here: a crash that loses it
        // leaves the previous record, which records fewer rows than the
        // journal holds, as a crash between the flushes would.
        write_record(&self.dir, &self.manifest, false)
    }
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), JournalError> {
    write_record(dir, m, true)
}

/// Write the manifest `m` into `dir`; `durable`: wait until the rename
/// itself is on disk.
fn write_record(dir: &Path, m: &Manifest, durable: bool) -> Result<(), JournalError> {
    let path = dir.join("manifest.toml");
    let body = toml::to_string(m).map_err(|e| JournalError::Damaged {
        path: path.clone(),
        message: format!("cannot encode the manifest: {e}"),
    })?;
    let text = format!(
        "# hpsearch results manifest (format {FORMAT}); written by hpsearch; do not edit.\n\
         # `check` is SHA-256 over the lines below it; the [search] table is the resolved\n\
         # search the root hash is computed from.\n\
         {CHECK_KEY}{}\"\n{body}",
        body_check(&body)
    );
    replace(&path, text.as_bytes(), durable)
}

/// Write a whole file by writing a uniquely named temporary file beside it
/// (`TMP_PREFIX*`, so never a file of the user's), flushing it and
/// renaming it over the target, so a crash leaves the old or the new file,
/// never a torn one. On an error the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    replace(path, bytes, true)
}

/// [`write_atomic`]; `durable`: also flush the folder, so the rename
/// itself survives a crash.
fn replace(path: &Path, bytes: &[u8], durable: bool) -> Result<(), JournalError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(TMP_PREFIX);
    // Why: tempfile's default is owner-only; a written file gets what a
    // plain create would (0666 less the umask).
    #[cfg(unix)]
    builder.permissions(<fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o666));
    let mut tmp = builder.tempfile_in(parent).map_err(io_err(parent))?;
    let tmp_path = tmp.path().to_path_buf();
    tmp.write_all(bytes).map_err(io_err(&tmp_path))?;
    tmp.as_file().sync_all().map_err(io_err(&tmp_path))?;
    // A failed rename drops (so removes) the temporary file.
    tmp.persist(path).map_err(|e| io_err(path)(e.error))?;
    // Make the rename itself durable; not every platform can open a folder.
    if durable {
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

/// The `error` column of a row: why the trial failed; for a pruned trial
/// whose objective gave no reason, the step it stopped at (`pruned at step
/// N`, as a command's pruned trial says), so every pruned row says where
/// it stopped whichever objective pruned it.
fn error_text(eval: &Evaluation) -> String {
    match (eval.error.as_deref(), eval.status, eval.steps.last()) {
        (None | Some(""), Status::Pruned, Some((step, _))) => format!("pruned at step {step}"),
        (e, ..) => e.unwrap_or_default().to_string(),
    }
}

/// The best trial: the best value by the search's direction, the earliest
/// trial among equals; only complete (`ok`) trials win: never a failed
/// trial, nor a pruned one, whose value is a partial score. `run`, `show`,
/// `list`, `compare`, `report`, `replay` and `export` all pick it here.
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
    /// Bytes in the file.
    len: u64,
    /// Bytes up to the end of the last complete line.
    complete_len: u64,
    /// The last row's check (the root hash when there is none).
    chain: String,
    /// The check of the row `read_log` was asked to pin, when present.
    pinned: Option<String>,
}

/// Read `trials.csv` of the search with root hash `root`. This checks the
/// rows but not their number: a results folder's reader wants
/// [`read_committed`].
pub(crate) fn read_rows(
    path: &Path,
    columns: &Columns,
    root: &str,
) -> Result<Vec<Row>, JournalError> {
    read_log(path, columns, root, 0).map(|l| l.rows)
}

/// Read the rows of the results folder `dir` whose manifest is `manifest`,
/// refusing a journal that holds fewer rows than the manifest records or
/// whose last recorded row is not the one recorded.
pub fn read_committed(
    dir: &Path,
    columns: &Columns,
    manifest: &Manifest,
) -> Result<Vec<Row>, JournalError> {
    read_recorded(dir, columns, manifest).map(|l| l.rows)
}

fn read_recorded(dir: &Path, columns: &Columns, manifest: &Manifest) -> Result<Log, JournalError> {
    let path = dir.join("trials.csv");
    if manifest.rows == 0 && !path.exists() {
        // A creation a crash cut short (the manifest is written first).
        return Ok(Log {
            rows: Vec::new(),
            len: 0,
            complete_len: 0,
            chain: manifest.root_hash.clone(),
            pinned: None,
        });
    }
    let log = read_log(&path, columns, &manifest.root_hash, manifest.rows)?;
    let n = log.rows.len() as u64;
    let m = manifest.rows;
    if n < m {
        let missing = if m - n == 1 {
            format!("trial {n} (line {}) is", n + 2)
        } else {
            format!("trials {n} to {} (lines {} to {}) are", m - 1, n + 2, m + 1)
        };
        return Err(JournalError::Damaged {
            path,
            message: format!(
                "holds {n} trials where the manifest records {m} committed: {missing} missing; \
                 the file was cut short after they were written. Restore trials.csv from a \
                 backup, or move the folder away to start over"
            ),
        });
    }
    if m > 0 && log.pinned.as_deref() != Some(manifest.last_check.as_str()) {
        return Err(JournalError::Damaged {
            path,
            message: format!(
                "line {}: trial {} is not the row the manifest records (its check is {}, the \
                 manifest's {}): the journal was replaced after it was written. Restore \
                 trials.csv from a backup, or move the folder away to start over",
                m + 1,
                m - 1,
                log.pinned.as_deref().unwrap_or("missing"),
                manifest.last_check
            ),
        });
    }
    Ok(log)
}

/// Read `trials.csv`: check the header, parse and verify every complete
/// row against its check, and leave out a torn last line (one without its
/// newline), which only a crash leaves. `pin`: the number of rows whose
/// last one's check to keep (0: none).
fn read_log(path: &Path, columns: &Columns, root: &str, pin: u64) -> Result<Log, JournalError> {
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
    let mut pinned = None;
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
        if i as u64 + 1 == pin {
            pinned = Some(check.clone());
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
        let steps = if columns.steps {
            let text = field(want.len() - 3);
            parse_steps(text).ok_or_else(|| {
                damaged(
                    line,
                    format!("bad steps {text:?} (expected [[step,value],…])"),
                )
            })?
        } else {
            Vec::new()
        };
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
            steps,
            error: field(want.len() - 2).to_string(),
        });
    }
    Ok(Log {
        rows,
        len: bytes.len() as u64,
        complete_len: complete.len() as u64,
        chain,
        pinned,
    })
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// This machine's name, for the manifest and the storage's worker list.
pub(crate) fn host() -> String {
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
mod tests;
