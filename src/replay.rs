//! Replay: retrain a recorded trial from its results folder and compare
//! every score with the journal, bit for bit.
//!
//! A results folder holds all it takes: `search.toml` (the search file as
//! it was), `manifest.toml` (root hash, data files and their SHA-256) and
//! `trials.csv`. Replay refuses to run on data whose hash changed, because
//! no comparison could mean anything then.

use std::path::{Path, PathBuf};

use crate::config::{self, ConfigError, Search};
use crate::data::{self, Dataset};
use crate::journal::{self, Columns, JournalError, Manifest, Row};
use crate::objective::{self, Evaluation, Status};
use crate::search::{self, SearchError};
use crate::value::fmt_f64;

/// Why a replay (or an export) could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{dir}/search.toml: {source}")]
    Config { dir: PathBuf, source: ConfigError },
    #[error(
        "data file {path} changed since the search ran: the manifest has sha256 {recorded}, the file now has {now}; \
         restore the original file (or point --data at a copy of it)"
    )]
    DataChanged {
        path: PathBuf,
        recorded: String,
        now: String,
    },
    #[error("{path}: cannot read the data file: {message}; point --data at it")]
    DataMissing { path: PathBuf, message: String },
    #[error(
        "{dir}: the search rebuilt from search.toml has root hash {now}, the manifest {recorded} \
         (written by hpsearch {version}; this is {ours}): replay needs the same hpsearch version"
    )]
    RootChanged {
        dir: PathBuf,
        recorded: String,
        now: String,
        version: String,
        ours: &'static str,
    },
    #[error("{dir}: no trial {trial} (the journal holds {n})")]
    NoSuchTrial { dir: PathBuf, trial: u64, n: usize },
    #[error("{dir}: no successful trial to replay")]
    NoTrials { dir: PathBuf },
    #[error(transparent)]
    Drift(#[from] SearchError),
    #[error("{0}")]
    Data(#[from] data::DataError),
}

/// A results folder, with its search rebuilt and its data loaded.
pub struct Recorded {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub search: Search,
    pub dataset: Option<Dataset>,
    pub rows: Vec<Row>,
}

/// Open a results folder: rebuild its search from `search.toml` with the
/// data at `data` (default: the manifest's path), refusing changed data.
pub fn open(dir: &Path, data: Option<&Path>) -> Result<Recorded, ReplayError> {
    let manifest = journal::read_manifest(dir)?;
    let text_path = dir.join("search.toml");
    let text = std::fs::read_to_string(&text_path).map_err(|e| JournalError::Io {
        path: text_path.clone(),
        source: e,
    })?;
    let data_path = match (data, manifest.data.first()) {
        (Some(p), Some(entry)) => {
            check_data(p, &entry.sha256)?;
            Some(p.to_path_buf())
        }
        (None, Some(entry)) => {
            let p = PathBuf::from(&entry.path);
            check_data(&p, &entry.sha256)?;
            Some(p)
        }
        (_, None) => None,
    };
    let loaded = config::parse_with_data(
        Path::new(&manifest.search_file),
        &text,
        data_path.as_deref(),
    )
    .map_err(|source| ReplayError::Config {
        dir: dir.to_path_buf(),
        source,
    })?;
    let root = loaded.search.root().hex();
    if root != manifest.root_hash {
        return Err(ReplayError::RootChanged {
            dir: dir.to_path_buf(),
            recorded: manifest.root_hash.clone(),
            now: root,
            version: manifest.hpsearch_version.clone(),
            ours: env!("CARGO_PKG_VERSION"),
        });
    }
    let n_folds = loaded.search.folds.unwrap_or(0);
    let columns = Columns::new(&loaded.search, n_folds);
    let rows = journal::read_rows(&dir.join("trials.csv"), &columns, &root)?;
    Ok(Recorded {
        dir: dir.to_path_buf(),
        manifest,
        search: loaded.search,
        dataset: loaded.dataset,
        rows,
    })
}

fn check_data(path: &Path, recorded: &str) -> Result<(), ReplayError> {
    let now = data::sha256_file(path).map_err(|e| ReplayError::DataMissing {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if now != recorded {
        return Err(ReplayError::DataChanged {
            path: path.to_path_buf(),
            recorded: recorded.to_string(),
            now,
        });
    }
    Ok(())
}

impl Recorded {
    /// Trial `trial`, or the best one (the earliest among equals).
    pub fn pick(&self, trial: Option<u64>) -> Result<&Row, ReplayError> {
        match trial {
            Some(t) => self
                .rows
                .get(t as usize)
                .ok_or_else(|| ReplayError::NoSuchTrial {
                    dir: self.dir.clone(),
                    trial: t,
                    n: self.rows.len(),
                }),
            None => crate::cli::best_row(self.search.direction, &self.rows).ok_or_else(|| {
                ReplayError::NoTrials {
                    dir: self.dir.clone(),
                }
            }),
        }
    }
}

/// The outcome of a replay.
pub struct Replayed {
    pub trial: u64,
    pub evaluation: Evaluation,
    /// The first difference from the journal, or `None` when every score
    /// has the same bits.
    pub difference: Option<String>,
}

/// Retrain `trial` (default: the best) with its recorded seed and compare
/// its status, value and every fold score with the journal.
pub fn replay(rec: Recorded, trial: Option<u64>) -> Result<Replayed, ReplayError> {
    let row = rec.pick(trial)?.clone();
    search::check_recorded(&rec.search, std::slice::from_ref(&row))?;
    let strategy = rec.search.strategy.build();
    let params = strategy.propose(
        &rec.search.space,
        row.trial,
        row.seed,
        &crate::strategy::History::default(),
    );
    let obj = objective::build(&rec.search, rec.dataset)?;
    let eval = obj.evaluate(&params, row.seed);
    let difference = compare(&row, &eval);
    Ok(Replayed {
        trial: row.trial,
        evaluation: eval,
        difference,
    })
}

fn compare(row: &Row, eval: &Evaluation) -> Option<String> {
    if row.status != eval.status {
        return Some(format!(
            "status: journal {}, replay {}",
            row.status.name(),
            eval.status.name()
        ));
    }
    if eval.status == Status::Ok {
        let recorded = row.value.unwrap_or(f64::NAN);
        if recorded.to_bits() != eval.value.to_bits() {
            return Some(format!(
                "value: journal {}, replay {}",
                fmt_f64(recorded),
                fmt_f64(eval.value)
            ));
        }
    }
    if row.folds.len() != eval.folds.len() {
        return Some(format!(
            "fold scores: journal has {}, replay {}",
            row.folds.len(),
            eval.folds.len()
        ));
    }
    for (k, (a, b)) in row.folds.iter().zip(&eval.folds).enumerate() {
        if a.to_bits() != b.to_bits() {
            return Some(format!(
                "fold_{k}: journal {}, replay {}",
                fmt_f64(*a),
                fmt_f64(*b)
            ));
        }
    }
    None
}
