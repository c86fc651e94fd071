//! Replay, export and predict: retrain a recorded trial from its results
//! folder and compare every score with the journal, bit for bit; refit a
//! trial on all the data into a self-describing artifact; predict with it.
//!
//! A results folder holds all it takes: `search.toml` (the search file as
//! it was), `manifest.toml` (root hash, data files and their SHA-256) and
//! `trials.csv`. Replay refuses to run on data whose hash changed, because
//! no comparison could mean anything then.
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
//! use hpsearch::interrupt::StopToken;
//! use hpsearch::replay;
//!
//! // Retrain the best trial of the results folder `dir` and compare every
//! // score with the journal, bit for bit (`hpsearch replay DIR`).
//! let recorded = replay::open(&dir, None)?;
//! let replayed = replay::replay(recorded, None, &StopToken::new())?;
//! assert_eq!(replayed.difference, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use crate::config::{self, ConfigError, ObjectiveSpec, Search};
use crate::data::preprocess::{PreprocessSpec, Preprocessor};
use crate::data::{self, Dataset, Target};
use crate::drift::profile::Profile;
use crate::journal::{self, Columns, JournalError, Manifest, Row};
use crate::objective::models::{self, Prediction, Targets};
use crate::objective::{self, Evaluation, Status};
use crate::search::{self, SearchError};
use crate::seed;
use crate::value::{fmt_f64, Params};

/// The artifact type is `drift`'s (a drift check reads it); its public
/// path here is kept.
pub use crate::drift::artifact::{Artifact, ArtifactError, ARTIFACT_FORMAT};

/// Why a replay (or an export) could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The results folder could not be read (a missing or damaged file).
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A command objective's input is not what the search ran on.
    #[error(
        "input {name} changed since the search ran: the manifest has {recorded}, it now hashes to {now}; \
         restore it (the search's results only hold for the inputs it ran on)"
    )]
    InputChanged {
        /// The input, as the search file names it.
        name: String,
        /// The SHA-256 the manifest recorded.
        recorded: String,
        /// The SHA-256 the input has now.
        now: String,
    },
    /// The folder's `search.toml` no longer parses or validates (`dir` is the
    /// results folder).
    #[error("{dir}/search.toml: {source}")]
    Config {
        /// The results folder.
        dir: PathBuf,
        /// What is wrong with the search file.
        source: ConfigError,
    },
    /// The data file's SHA-256 is not the manifest's.
    #[error(
        "data file {path} changed since the search ran: the manifest has sha256 {recorded}, the file now has {now}; \
         restore the original file (or point --data at a copy of it)"
    )]
    DataChanged {
        /// The data file read.
        path: PathBuf,
        /// The SHA-256 the manifest recorded.
        recorded: String,
        /// The SHA-256 the file has now.
        now: String,
    },
    /// The data file could not be read (`message` says why).
    #[error("{path}: cannot read the data file: {message}; point --data at it")]
    DataMissing {
        /// The data file.
        path: PathBuf,
        /// The I/O error, as text.
        message: String,
    },
    /// The search rebuilt from `search.toml` hashes differently from the
    /// manifest's: another hpsearch version computes it otherwise.
    #[error(
        "{dir}: the search rebuilt from search.toml has root hash {now}, the manifest {recorded} \
         (written by hpsearch {version}; this is {ours}): replay needs the same hpsearch version"
    )]
    RootChanged {
        /// The results folder.
        dir: PathBuf,
        /// The manifest's root hash.
        recorded: String,
        /// The root hash of the search as rebuilt now.
        now: String,
        /// The hpsearch version that wrote the manifest.
        version: String,
        /// This hpsearch's version.
        ours: &'static str,
    },
    /// `--trial` names an index past the journal's end (`n` committed trials).
    #[error("{dir}: no trial {trial} (the journal holds {n})")]
    NoSuchTrial {
        /// The results folder.
        dir: PathBuf,
        /// The trial asked for.
        trial: u64,
        /// How many trials the journal holds.
        n: usize,
    },
    /// No trial succeeded, so there is no best trial to pick.
    #[error("{dir}: no successful trial to replay")]
    NoTrials {
        /// The results folder.
        dir: PathBuf,
    },
    /// The proposals recomputed from the journal disagree with its rows
    /// (an edited `trials.csv`, or another hpsearch version).
    #[error(transparent)]
    Drift(#[from] SearchError),
    /// The data (or the rows to predict) could not be loaded.
    #[error("{0}")]
    Data(#[from] data::DataError),
    /// Exporting, reading or predicting with an artifact failed.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The rows to predict do not fit the model (exit 2, nothing written).
    #[error(transparent)]
    Rows(#[from] crate::drift::DriftError),
    /// The predictions could not be written (exit 1).
    #[error("{path}: cannot write the predictions: {source}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A results folder, with its search rebuilt and its data loaded.
pub struct Recorded {
    /// The results folder.
    pub dir: PathBuf,
    /// Its `manifest.toml`.
    pub manifest: Manifest,
    /// The search rebuilt from `search.toml` (its root hash checked against
    /// the manifest's).
    pub search: Search,
    /// The training data, checked against the manifest's SHA-256; `None` for a
    /// search without data (a function, or a command without `data`).
    pub dataset: Option<Dataset>,
    /// The committed trials, in index order.
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
    // A command's inputs: named when they changed, before the root hash
    // (which covers them) can only say that something did.
    let base = Path::new(&manifest.search_file)
        .parent()
        .unwrap_or(Path::new(""))
        .to_path_buf();
    for input in &manifest.inputs {
        let now = data::inputs::hash_input(&base.join(&input.path)).unwrap_or_else(|e| e);
        if now != input.sha256 {
            return Err(ReplayError::InputChanged {
                name: input.path.clone(),
                recorded: input.sha256.clone(),
                now,
            });
        }
    }
    let loaded = config::parse_with_data(
        Path::new(&manifest.search_file),
        &text,
        data_path.as_deref(),
        models::MODELS,
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
    let n_folds = loaded.search.fold_scores();
    let columns = Columns::new(&loaded.search, n_folds);
    let rows = journal::read_committed(dir, &columns, &manifest)?;
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
    /// The parameters of `row`, recomputed (with the history each earlier
    /// proposal had) and checked against the journal.
    pub fn params_of(&self, row: &Row) -> Result<Params, ReplayError> {
        let upto = &self.rows[..=(row.trial as usize).min(self.rows.len() - 1)];
        let mut state = search::recorded_state(&self.search, upto)?;
        Ok(state.proposals.pop().unwrap_or_default())
    }

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
            None => journal::best_row(self.search.direction, &self.rows).ok_or_else(|| {
                ReplayError::NoTrials {
                    dir: self.dir.clone(),
                }
            }),
        }
    }
}

/// The outcome of a replay.
pub struct Replayed {
    /// The trial replayed.
    pub trial: u64,
    /// What the retrained trial gave now.
    pub evaluation: Evaluation,
    /// The first difference from the journal, or `None` when every score
    /// has the same bits.
    pub difference: Option<String>,
    /// The volatile result keys (`[objective] volatile`) the comparison
    /// skipped, as declared.
    pub skipped: Vec<String>,
}

/// Retrain `trial` (default: the best) with its recorded seed and compare
/// its status, value and every fold score with the journal.
///
/// A command objective (or an external one whose search file gives
/// `command`; without one, an external objective is refused) runs its
/// program again, in a temporary folder
/// (removed afterwards) instead of `trials/<index>/`, so a replay never
/// writes into the results folder.
pub fn replay(
    rec: Recorded,
    trial: Option<u64>,
    stop: &crate::interrupt::StopToken,
) -> Result<Replayed, ReplayError> {
    replay_with(rec, trial, stop, None)
}

/// [`replay`] with `code` as the objective of an `external` search (the
/// Python package gives its function); `None`: the search's own (built
/// in, or the external search's `command`).
pub fn replay_with(
    rec: Recorded,
    trial: Option<u64>,
    stop: &crate::interrupt::StopToken,
    code: Option<&dyn objective::Objective>,
) -> Result<Replayed, ReplayError> {
    let row = rec.pick(trial)?.clone();
    let params = rec.params_of(&row)?;
    let built;
    let obj: &dyn objective::Objective = match code {
        Some(c) => c,
        None => {
            built = objective::build(&rec.search, rec.dataset)?;
            built.as_ref()
        }
    };
    // The same fresh folder `run` makes, under a temporary root.
    let root = std::env::temp_dir().join(format!("hpsearch-replay-{}", std::process::id()));
    let workdir = if obj.needs_workdir() {
        Some(journal::fresh_trial_dir(&root, row.trial)?)
    } else {
        None
    };
    // With a pruner, the program's step lines are read again, and a
    // pruned trial is stopped where the journal says it was: its values
    // up to there are compared bit for bit.
    let stop_at = (row.status == Status::Pruned).then_some(row.steps.len());
    let judge: objective::Prune =
        std::sync::Arc::new(move |v: &[(u64, f64)]| stop_at.is_some_and(|n| v.len() >= n));
    let info = objective::TrialInfo {
        index: row.trial,
        seed: row.seed,
        workdir: workdir.as_deref(),
        pruner: rec.search.pruner.is_some().then_some(&judge),
        stop: Some(stop),
    };
    let eval = obj.evaluate(&params, &info);
    if workdir.is_some() {
        let _ = std::fs::remove_dir_all(&root);
    }
    let columns = rec.search.result_columns().unwrap_or_default();
    let volatile = rec.search.volatile();
    let difference = compare(&row, &eval, columns, volatile);
    Ok(Replayed {
        trial: row.trial,
        evaluation: eval,
        difference,
        skipped: volatile.to_vec(),
    })
}

/// The first difference between `row` and `eval`. A command's result keys
/// are compared by name: the declared `columns` (in order), then the keys
/// of the `extra` JSON object; the keys in `volatile` are skipped.
fn compare(
    row: &Row,
    eval: &Evaluation,
    columns: &[String],
    volatile: &[String],
) -> Option<String> {
    if row.status != eval.status {
        return Some(format!(
            "status: journal {}, replay {}",
            row.status.name(),
            eval.status.name()
        ));
    }
    if row.steps.len() != eval.steps.len() {
        return Some(format!(
            "intermediate values: journal has {}, replay {}",
            row.steps.len(),
            eval.steps.len()
        ));
    }
    for (a, b) in row.steps.iter().zip(&eval.steps) {
        if a.0 != b.0 || a.1.to_bits() != b.1.to_bits() {
            return Some(format!(
                "intermediate value at step {}: journal {}, replay step {} {}",
                a.0,
                fmt_f64(a.1),
                b.0,
                fmt_f64(b.1)
            ));
        }
    }
    if matches!(eval.status, Status::Ok | Status::Pruned) {
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
    let advice = |key: &str| {
        format!(
            "; if `{key}` is a measurement that changes from run to run (a time, say), \
             declare it in [objective]: volatile = [\"{key}\"]"
        )
    };
    for (k, (a, b)) in row.extra.iter().zip(&eval.extra).enumerate() {
        if a == b {
            continue;
        }
        match columns.get(k) {
            Some(name) if volatile.contains(name) => {}
            Some(name) => {
                return Some(format!(
                    "result key `{name}`: journal {a:?}, replay {b:?}{}",
                    advice(name)
                ))
            }
            None => {
                // The `extra` cell: a JSON object of the other keys.
                let parse = |t: &str| -> std::collections::BTreeMap<String, serde_json::Value> {
                    serde_json::from_str(t).unwrap_or_default()
                };
                let (ja, jb) = (parse(a), parse(b));
                let keys: std::collections::BTreeSet<&String> =
                    ja.keys().chain(jb.keys()).collect();
                for key in keys {
                    if volatile.contains(key) {
                        continue;
                    }
                    let (va, vb) = (ja.get(key), jb.get(key));
                    if va != vb {
                        let show = |v: Option<&serde_json::Value>| {
                            v.map_or_else(|| "absent".to_string(), |v| v.to_string())
                        };
                        return Some(format!(
                            "result key `{key}`: journal {}, replay {}{}",
                            show(va),
                            show(vb),
                            advice(key)
                        ));
                    }
                }
                if ja.is_empty() && jb.is_empty() {
                    return Some(format!(
                        "extra column {}: journal {a:?}, replay {b:?}",
                        k + 1
                    ));
                }
            }
        }
    }
    None
}

// ------------------------------------------------------------ export --

/// Refit trial `trial` (default: the best) on every row with its
/// parameters and seed, as scikit-learn's `refit=True` does. A pruned
/// trial is refused: its value is a partial score.
///
/// ```
/// # // Hidden set-up: run the grid search of configs/iris_gaussian_nb.toml
/// # // into `dir` (what `hpsearch run` does).
/// # let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
/// # let tmp = tempfile::tempdir()?;
/// # let dir = tmp.path().join("iris");
/// # let engine = hpsearch::engine::Search::from_file(repo.join("configs/iris_gaussian_nb.toml"))?;
/// # let options = hpsearch::engine::RunOptions { threads: Some(2), ..Default::default() };
/// # engine.run(&dir, options)?;
/// use hpsearch::replay::{self, Artifact};
///
/// // Refit the best trial of the results folder `dir` on all rows
/// // (`hpsearch export DIR --out model.json`).
/// let artifact = replay::export(replay::open(&dir, None)?, None)?;
/// let model = tmp.path().join("model.json");
/// artifact.write(&model)?;
///
/// // Later, elsewhere: read it back and predict (`hpsearch predict`).
/// let artifact = Artifact::read(&model)?;
/// let rows = hpsearch::data::load_features(&repo.join("data/iris.csv"))?;
/// let prediction = artifact.predict(&rows)?;
/// let csv = artifact.predictions_csv(&prediction);
/// assert!(csv.starts_with("prediction,proba_0,proba_1,proba_2\n"));
/// assert_eq!(csv.lines().count(), 1 + 150);
///
/// // The training rows themselves do not drift from the model's profile.
/// let report = hpsearch::drift::check(&artifact, &model, &repo.join("data/iris.csv"))?;
/// assert_eq!(report.severity, hpsearch::drift::Severity::Ok);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export(rec: Recorded, trial: Option<u64>) -> Result<Artifact, ReplayError> {
    let row = rec.pick(trial)?.clone();
    // The default pick (the best) is never pruned; a named one may be.
    if row.status == Status::Pruned {
        let step = row
            .steps
            .last()
            .map_or_else(|| "?".to_string(), |(s, _)| s.to_string());
        return Err(ArtifactError::PrunedTrial {
            trial: row.trial,
            step,
        }
        .into());
    }
    let ObjectiveSpec::Model {
        model,
        task,
        metric,
        fixed,
        resource,
        warm_start,
    } = &rec.search.objective
    else {
        return Err(ArtifactError::NotAModel { dir: rec.dir }.into());
    };
    if row.status != Status::Ok {
        return Err(ArtifactError::FailedTrial { trial: row.trial }.into());
    }
    let searched = rec.params_of(&row)?;
    let (Some(ds), Some(d)) = (&rec.dataset, &rec.search.data) else {
        return Err(ArtifactError::NotAModel { dir: rec.dir }.into());
    };
    let mut params = fixed.clone();
    params.extend(searched);
    // With resource = "trees" the trials' forests grew to max_resources
    // trees (their last rung): the export is that forest; likewise
    // max_resources boosting iterations with resource = "iterations".
    if let Some(r) = resource {
        let key = match r.resource {
            crate::config::Resource::Trees => Some("n_estimators"),
            crate::config::Resource::Iterations => Some("max_iter"),
            crate::config::Resource::Samples => None,
        };
        if let Some(key) = key {
            params.insert(key.into(), crate::value::Value::Int(r.max_resources as i64));
        }
    }
    let spec = PreprocessSpec {
        impute: d.impute,
        fill_value: d.fill_value,
        scale: d.scale,
        keep_missing: model.missing_values,
    };
    let rows: Vec<usize> = (0..ds.n_rows).collect();
    let pre = Preprocessor::fit(ds, &rows, &spec)?;
    let x = pre.transform(ds, &rows)?;
    let refit_seed = seed::sub_seed(row.seed, seed::streams::REFIT, 0);
    let (targets, classes) = match &ds.target {
        Target::Classes { labels, y } => (
            Targets::Classes {
                y,
                n_classes: labels.len(),
            },
            Some(labels.clone()),
        ),
        Target::Values(v) => (Targets::Values(v), None),
    };
    // With warm_start = "path" the refit follows the path too (on all the
    // rows), as the trials' fits did on their folds.
    let fitted = match warm_start {
        Some(path) => models::logistic::fit_path(
            x.view(),
            targets,
            &params,
            refit_seed,
            &models::Shared::disabled(),
            &path.values,
        ),
        None => models::fit(model.name, x.view(), targets, &params, refit_seed),
    }
    .map_err(ArtifactError::Fit)?;
    // The drift reference: raw training columns, and the refitted model's
    // predictions on the training rows.
    let train_pred = fitted.predict(x.view()).map_err(ArtifactError::Fit)?;
    let profile = Profile::build(ds, &train_pred, classes.as_deref());
    Ok(Artifact {
        format: ARTIFACT_FORMAT,
        hpsearch_version: env!("CARGO_PKG_VERSION").to_string(),
        root_hash: rec.manifest.root_hash.clone(),
        data_sha256: d.sha256.clone(),
        trial: row.trial,
        seed: row.seed,
        refit_seed,
        model: model.name.to_string(),
        task: *task,
        metric: metric.name().to_string(),
        cv_score: row.value.unwrap_or(f64::NAN),
        fold_scores: row.folds.clone(),
        params,
        target: d.target.clone(),
        classes,
        features: ds.feature_names.clone(),
        preprocessing: pre,
        fitted,
        profile: Some(profile),
    })
}

// `Artifact` is `drift::artifact`'s (drift reads it, below replay); writing
// one and the predictions' CSV are replay's.
impl Artifact {
    /// Write to `path` (temporary file, then rename).
    pub fn write(&self, path: &Path) -> Result<(), ReplayError> {
        journal::write_atomic(path, self.to_json().as_bytes())?;
        Ok(())
    }

    /// Predictions as CSV: `prediction` (the class label, or the value),
    /// then `proba_<label>` per class where the model gives probabilities;
    /// floats in shortest round-trip form.
    pub fn predictions_csv(&self, pred: &Prediction) -> String {
        let mut w = csv_writer(Vec::new());
        let _ = write_predictions(self.classes.as_deref(), &mut w, pred, true, &NO_KEPT);
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// No kept column.
const NO_KEPT: crate::drift::Kept<'static> = crate::drift::Kept {
    names: &[],
    cells: &[],
};

/// [`Artifact::predictions_csv`]'s records for `pred` (class labels from
/// `classes`), the header first when `header`: batch after batch, the same
/// bytes as the whole. The kept input columns (`predict --keep`) come
/// first on each line.
fn write_predictions<W: std::io::Write>(
    classes: Option<&[String]>,
    w: &mut csv::Writer<W>,
    pred: &Prediction,
    header: bool,
    kept: &crate::drift::Kept<'_>,
) -> csv::Result<()> {
    let labels = classes.unwrap_or_default();
    let keep = kept.names;
    let mut kept_rows = kept.cells.chunks(keep.len().max(1));
    let mut write_kept = |w: &mut csv::Writer<W>| -> csv::Result<()> {
        if let Some(row) = kept_rows.next() {
            for cell in row {
                w.write_field(cell)?;
            }
        }
        Ok(())
    };
    match pred {
        Prediction::Classes { labels: idx, proba } => {
            if header {
                let mut head = keep.to_vec();
                head.push("prediction".to_string());
                if proba.is_some() {
                    head.extend(labels.iter().map(|l| format!("proba_{l}")));
                }
                w.write_record(&head)?;
            }
            for (r, &k) in idx.iter().enumerate() {
                write_kept(w)?;
                w.write_field(labels.get(k).map_or("", String::as_str))?;
                if let Some(p) = proba {
                    for &v in p.row(r) {
                        w.write_field(fmt_f64(v))?;
                    }
                }
                w.write_record(None::<&[u8]>)?;
            }
        }
        Prediction::Values(v) => {
            if header {
                let mut head = keep.to_vec();
                head.push("prediction".to_string());
                w.write_record(&head)?;
            }
            for &x in v {
                write_kept(w)?;
                w.write_record([fmt_f64(x)])?;
            }
        }
    }
    Ok(())
}

fn csv_writer<W: std::io::Write>(inner: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(inner)
}

/// `hpsearch predict`: predict every row of `data` with `artifact` and
/// write the CSV of [`Artifact::predictions_csv`] to `out` (stdout when
/// `None`); with `check_drift`, check the rows against the artifact's
/// profile in the same pass and return the report.
///
/// The file is streamed (`crate::drift::predict_rows`): rows are read,
/// checked and predicted `crate::drift::BATCH_ROWS` at a time and each
/// batch's lines written before the next is read, so memory does not grow
/// with the rows. The bytes are those of one whole-file prediction: every
/// model predicts each row on its own, and the records are written by the
/// same code (`tests/big_data.rs` compares them for every model). Input
/// that does not fit the model writes nothing: `out` is written to a
/// temporary file beside it, renamed into place only once every row is
/// predicted (and removed otherwise); stdout gets a checking pass over the
/// file first, then the predicting one. A closed stdout (`| head`) ends
/// the prediction quietly. `model_path` only names the artifact in errors.
/// The input columns `keep` names (`predict --keep`) are written first, in
/// the order they have in `data`, cell for cell as read (trimmed).
pub fn predict_file(
    artifact: &Artifact,
    model_path: &Path,
    data: &Path,
    out: Option<&Path>,
    check_drift: bool,
    keep: &[String],
) -> Result<Option<crate::drift::Report>, ReplayError> {
    use std::io::Write;
    let Some(path) = out else {
        if check_drift {
            return Err(ArtifactError::File {
                path: data.to_path_buf(),
                message: "predict --check-drift writes its report beside the predictions: give \
                          --out"
                    .into(),
            }
            .into());
        }
        crate::drift::predict_rows(artifact, model_path, data, keep, None)?;
        let stdout = std::io::stdout();
        let mut sink = Streamed::new(artifact, std::io::BufWriter::new(stdout.lock()));
        let scanned = crate::drift::predict_rows(
            artifact,
            model_path,
            data,
            keep,
            Some(&mut |p, k| sink.push(p, k)),
        );
        return match (scanned, sink.finish()) {
            (_, Err(e)) | (Err(_), Ok(Some(e))) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                Ok(None)
            }
            (Err(e), _) => Err(e.into()),
            (Ok(()), Ok(None)) => Ok(None),
            (Ok(()), Ok(Some(e))) | (Ok(()), Err(e)) => Err(ReplayError::Write {
                path: PathBuf::from("<stdout>"),
                source: e,
            }),
        };
    };
    let write_err = |source: std::io::Error| ReplayError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Dropped on any error: the temporary file is removed.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(write_err)?;
    let file = tmp.as_file().try_clone().map_err(write_err)?;
    let mut sink = Streamed::new(artifact, std::io::BufWriter::new(file));
    let report = if check_drift {
        let r = crate::drift::check_and_predict(artifact, model_path, data, keep, &mut |p, k| {
            sink.push(p, k)
        });
        Some(r?)
    } else {
        crate::drift::predict_rows(
            artifact,
            model_path,
            data,
            keep,
            Some(&mut |p, k| sink.push(p, k)),
        )?;
        None
    };
    if let Some(e) = sink.finish().map_err(write_err)? {
        return Err(write_err(e));
    }
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    // The rename is durable once the folder is synced.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    let _ = std::io::stdout().flush();
    Ok(report)
}

/// Predictions written batch by batch as they come; the first write error
/// is kept (and stops the scan).
struct Streamed<'a, W: std::io::Write> {
    artifact: &'a Artifact,
    csv: csv::Writer<W>,
    header: bool,
    error: Option<std::io::Error>,
}

impl<'a, W: std::io::Write> Streamed<'a, W> {
    fn new(artifact: &'a Artifact, inner: W) -> Self {
        Streamed {
            artifact,
            csv: csv_writer(inner),
            header: true,
            error: None,
        }
    }

    fn push(&mut self, pred: &Prediction, kept: &crate::drift::Kept<'_>) -> Result<(), String> {
        if let Err(e) = write_predictions(
            self.artifact.classes.as_deref(),
            &mut self.csv,
            pred,
            self.header,
            kept,
        ) {
            let message = e.to_string();
            self.error = Some(match e.into_kind() {
                csv::ErrorKind::Io(io) => io,
                _ => std::io::Error::other(message.clone()),
            });
            return Err(message);
        }
        self.header = false;
        Ok(())
    }

    /// Flush; the write error that stopped the scan, if one did.
    fn finish(mut self) -> std::io::Result<Option<std::io::Error>> {
        if let Some(e) = self.error.take() {
            return Ok(Some(e));
        }
        self.csv.flush()?;
        let inner = self
            .csv
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        drop(inner);
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_of(classes: Option<&[String]>, batches: &[Prediction]) -> String {
        let mut w = csv_writer(Vec::new());
        for (i, b) in batches.iter().enumerate() {
            write_predictions(classes, &mut w, b, i == 0, &NO_KEPT).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn batches_write_the_bytes_of_the_whole_prediction() {
        let classes = vec!["no".to_string(), "yes, sure".to_string()];
        let whole = Prediction::Classes {
            labels: vec![1, 0, 0],
            proba: Some(ndarray::array![[0.25, 0.75], [0.5, 0.5], [1.0, 0.0]]),
        };
        // A column-major batch is written in row order too.
        let t = ndarray::array![[1.0, 0.125], [0.0, 0.875]].reversed_axes();
        let batches = [
            Prediction::Classes {
                labels: vec![1, 0],
                proba: Some(ndarray::array![[0.25, 0.75], [0.5, 0.5]]),
            },
            Prediction::Classes {
                labels: vec![0],
                proba: Some(t.slice(ndarray::s![0..1, ..]).to_owned()),
            },
        ];
        let text = csv_of(Some(&classes), &batches);
        assert_eq!(text, csv_of(Some(&classes), &[whole]));
        assert_eq!(
            text,
            "prediction,proba_no,\"proba_yes, sure\"\n\"yes, sure\",0.25,0.75\nno,0.5,0.5\nno,1.0,0.0\n"
        );
        let values = [
            Prediction::Values(vec![1.5, -2.0]),
            Prediction::Values(vec![0.1]),
        ];
        assert_eq!(
            csv_of(None, &values),
            csv_of(None, &[Prediction::Values(vec![1.5, -2.0, 0.1])])
        );
        assert_eq!(csv_of(None, &values), "prediction\n1.5\n-2.0\n0.1\n");
    }
}
