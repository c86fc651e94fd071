//! The model artifact: what `hpsearch export` writes and `predict` and
//! `drift` read. It lives here, below `replay`, because a drift check reads
//! it; `replay` makes it (export) and writes it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::preprocess::Preprocessor;
use crate::data::{self, DataError, Dataset, Task};
use crate::objective::models::{Fitted, ModelError, Prediction};
use crate::value::Params;

use super::profile::Profile;

/// Version of the model artifact format; `predict` refuses newer ones.
/// Format 2 added `profile` (the drift reference); format 1 artifacts
/// still predict, but `drift` asks for a re-export.
pub const ARTIFACT_FORMAT: u32 = 2;

/// A model exported for production: everything needed to predict, and to
/// know where it came from.
///
/// # Format
///
/// One JSON object (written by `hpsearch export`, read by `hpsearch
/// predict`), fields in this order: `format` (2), `hpsearch_version`,
/// `root_hash` of the search, `data_sha256` of the training file, `trial`
/// and its `seed`, `refit_seed` (= `sub_seed(seed, "refit", 0)`, the seed
/// the refit on all rows trained with), `model`, `task`, `metric`,
/// `cv_score` (the trial's cross-validated value: what the model is
/// expected to score) and `fold_scores`, `params` (every hyperparameter
/// set, searched or fixed; defaults are the model's), `target`, `classes`
/// (class labels in the order of the probability columns; absent for
/// regression), `features` (the input columns it reads, by name),
/// `preprocessing` (imputation, scaling and one-hot levels fitted on all
/// rows), `fitted` (the model, tagged by `kind`) and `profile` (the
/// training data's reference profile for drift checks, documented on
/// `hpsearch::drift::profile`; absent in format 1). Floats are written in
/// shortest round-trip form, so reading the file gives the same bits.
/// Nothing in it depends on the clock: exporting twice gives the same bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// The artifact format ([`ARTIFACT_FORMAT`] when written by this version).
    pub format: u32,
    /// The hpsearch version that exported it.
    pub hpsearch_version: String,
    /// The root hash of the search the trial came from (hex).
    pub root_hash: String,
    /// SHA-256 of the training data file (hex).
    pub data_sha256: String,
    /// The trial's index in the search.
    pub trial: u64,
    /// The trial's seed (the one its cross-validation used).
    pub seed: u64,
    /// The seed of the refit on all rows: `sub_seed(seed, "refit", 0)`.
    pub refit_seed: u64,
    /// The built-in model's name (`logistic_regression`, …).
    pub model: String,
    /// Classification or regression.
    pub task: Task,
    /// The metric the search optimised.
    pub metric: String,
    /// The trial's cross-validated value of `metric`: what the model is
    /// expected to score on new data.
    pub cv_score: f64,
    /// The trial's score on each fold, in fold order.
    pub fold_scores: Vec<f64>,
    /// Every hyperparameter the model was fitted with, searched or fixed.
    pub params: Params,
    /// The target column's name in the training data.
    pub target: String,
    /// Class labels, in the order of the probability columns; `None` for
    /// regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// The input columns the model reads, by name, in training order.
    pub features: Vec<String>,
    /// Imputation, scaling and one-hot levels, fitted on all rows.
    pub preprocessing: Preprocessor,
    /// The fitted model, tagged by `kind`.
    pub fitted: Fitted,
    /// The training data's profile, for `hpsearch drift` (format 2 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

/// Why an export or a prediction failed.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The search optimises a function or runs a command: there is no
    /// model to export.
    #[error(
        "{dir}: export is for searches over a built-in model; this one optimises a function or runs a command \
         (a command's trial keeps its own files in trials/<index>/)"
    )]
    NotAModel {
        /// The results folder.
        dir: PathBuf,
    },
    /// The trial asked for failed in the search: it has no model.
    #[error("trial {trial} failed in the search; export a trial that succeeded")]
    FailedTrial {
        /// The trial's index.
        trial: u64,
    },
    /// A trial the pruner stopped: its value is a partial score.
    #[error(
        "trial {trial} was pruned at step {step}: its value is the score of a run stopped \
         early, not a result; export a complete trial (leave out --trial for the best, or \
         name one whose status is ok)"
    )]
    PrunedTrial {
        /// The trial's index.
        trial: u64,
        /// The step it was stopped at, as the journal records it.
        step: String,
    },
    /// The refit on all rows failed.
    #[error("refit on all rows: {0}")]
    Fit(#[from] ModelError),
    /// A file that cannot be used: the artifact cannot be read or is not
    /// one, or an output that cannot be written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do about it.
        message: String,
    },
    #[error(
        "{path}: artifact format {found}, but this hpsearch ({ours}) reads format {ARTIFACT_FORMAT} and older; \
         use a newer hpsearch"
    )]
    /// The artifact has a format newer than [`ARTIFACT_FORMAT`].
    Newer {
        /// The artifact.
        path: PathBuf,
        /// Its `format`.
        found: u64,
        /// This hpsearch's version.
        ours: &'static str,
    },
    /// The data's feature columns do not match the model's (see
    /// [`Artifact::check_columns`]).
    #[error("{path}: {message}")]
    Columns {
        /// The data file.
        path: PathBuf,
        /// Which columns are missing or extra.
        message: String,
    },
    /// The rows to predict cannot be prepared as the model was.
    #[error("{0}")]
    Data(#[from] DataError),
}

impl Artifact {
    /// The JSON text (pretty, fields in a fixed order).
    pub fn to_json(&self) -> String {
        // Serialising plain data cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Read an artifact, refusing a newer format before anything else.
    pub fn read(path: &Path) -> Result<Artifact, ArtifactError> {
        let file_err = |message: String| ArtifactError::File {
            path: path.to_path_buf(),
            message,
        };
        if let Ok(Some(what)) = data::not_regular(path) {
            return Err(file_err(format!(
                "is {what}, not a regular file; give the path of an exported model"
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| file_err(format!("cannot read the model: {e}")))?;
        let raw: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| file_err(format!("not a model artifact (invalid JSON: {e})")))?;
        let found = raw
            .get("format")
            .and_then(|f| f.as_u64())
            .ok_or_else(|| file_err("not a model artifact (no `format`)".into()))?;
        if found > ARTIFACT_FORMAT as u64 {
            return Err(ArtifactError::Newer {
                path: path.to_path_buf(),
                found,
                ours: env!("CARGO_PKG_VERSION"),
            });
        }
        serde_json::from_value(raw)
            .map_err(|e| file_err(format!("not a valid model artifact: {e}")))
    }

    /// Predict the rows of `ds`, whose columns are matched by name (see
    /// [`Artifact::check_columns`]).
    pub fn predict(&self, ds: &Dataset) -> Result<Prediction, ArtifactError> {
        self.check_columns(&ds.feature_names)
            .map_err(|message| ArtifactError::Columns {
                path: ds.path.clone(),
                message,
            })?;
        let rows: Vec<usize> = (0..ds.n_rows).collect();
        let x = self.preprocessing.transform(ds, &rows)?;
        self.fitted.predict(x.view()).map_err(ArtifactError::Fit)
    }

    /// The column rule of `predict` and `drift`: every feature the model
    /// reads must be among `names`; the target column may be (it is
    /// ignored); any other column is an error. The message names them.
    pub fn check_columns(&self, names: &[String]) -> Result<(), String> {
        let missing: Vec<&str> = self
            .features
            .iter()
            .filter(|f| !names.contains(f))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "missing column(s) the model reads: {}",
                missing.join(", ")
            ));
        }
        let extra: Vec<&str> = names
            .iter()
            .filter(|f| !self.features.contains(f) && **f != self.target)
            .map(String::as_str)
            .collect();
        if !extra.is_empty() {
            return Err(format!(
                "column(s) the model does not know: {}; the model reads {}",
                extra.join(", "),
                self.features.join(", ")
            ));
        }
        Ok(())
    }
}
