//! A built-in model scored by k-fold cross-validation.
//!
//! The folds depend only on the user's seed, and the preprocessing of each
//! fold depends only on the fold, so both are fitted once and shared by
//! every trial: a trial trains and scores the model on each fold, with the
//! training seed `sub_seed(trial seed, "training", fold)`.
//!
//! # Memory
//!
//! A fold's prepared matrices (its training and test rows, preprocessed)
//! hold every row once, so keeping all k of them costs k times the data.
//! While that stays under [`KEEP_FOLDS_BYTES`] they are prepared once and
//! kept (small data: no work per trial). Above it only the data (packed:
//! 8 bytes a numeric cell, NaN for a missing one) and each fold's fitted
//! preprocessing are kept, and a trial prepares one fold's
//! matrices at a time and drops them after scoring it, so a search holds
//! the data plus one fold's matrices per running trial, whatever k. Both
//! ways run the same transform on the same rows in the same order: the
//! scores have the same bits (`kept_and_prepared_folds_score_the_same_bits`).

use ndarray::Array2;

use super::models::{self, ModelInfo, Prediction, Targets};
use super::{Evaluation, Objective, TrialInfo};
use crate::config::{ObjectiveSpec, Search};
use crate::data::folds::k_fold;
use crate::data::metrics::{self, Metric};
use crate::data::preprocess::{Packed, PreprocessSpec, Preprocessor};
use crate::data::{DataError, Dataset, Target};
use crate::seed;
use crate::value::Params;

/// One fold's prepared matrices.
struct Prepared {
    x_train: Array2<f64>,
    y_train: FoldTarget,
    x_test: Array2<f64>,
    y_test: FoldTarget,
}

enum FoldTarget {
    Classes(Vec<usize>),
    Values(Vec<f64>),
}

/// Above this many bytes for all folds' prepared matrices together, the
/// folds are prepared for each trial instead of kept (see the module doc).
/// `HPSEARCH_KEEP_FOLDS_BYTES` overrides it (a test sets 0); it changes
/// memory and time, never a score.
pub const KEEP_FOLDS_BYTES: usize = 256 << 20;

/// The folds' matrices: kept, or prepared when a trial needs them.
enum Folds {
    Kept(Vec<Prepared>),
    /// The data (packed: 8 bytes a numeric cell) and each fold's
    /// preprocessing, fitted on its training rows.
    Prepared {
        data: Packed,
        target: Target,
        fitted: Vec<Preprocessor>,
    },
}

/// A model trained and scored on every fold.
pub struct CrossValidated {
    model: &'static ModelInfo,
    metric: Metric,
    fixed: Params,
    n_classes: usize,
    folds: Folds,
    n_folds: usize,
    fold_of_row: Vec<usize>,
}

impl CrossValidated {
    /// Prepare the folds of `ds` for `search` (a model search).
    pub fn new(search: &Search, ds: Dataset) -> Result<CrossValidated, DataError> {
        let budget = std::env::var("HPSEARCH_KEEP_FOLDS_BYTES")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(KEEP_FOLDS_BYTES);
        Self::with_budget(search, ds, budget)
    }

    /// [`CrossValidated::new`] keeping the folds' matrices while they take
    /// at most `keep_bytes`.
    pub fn with_budget(
        search: &Search,
        ds: Dataset,
        keep_bytes: usize,
    ) -> Result<CrossValidated, DataError> {
        let ObjectiveSpec::Model {
            model,
            metric,
            fixed,
            ..
        } = &search.objective
        else {
            return Err(DataError::Invalid {
                path: search.file.clone(),
                message: "not a model search".into(),
            });
        };
        let spec = match &search.data {
            Some(d) => PreprocessSpec {
                impute: d.impute,
                fill_value: d.fill_value,
                scale: d.scale,
            },
            None => {
                return Err(DataError::Invalid {
                    path: search.file.clone(),
                    message: "no [data]".into(),
                })
            }
        };
        let k = search.folds.unwrap_or(5);
        let fold_seed = seed::sub_seed(search.seed, "folds", 0);
        let (strata, n_classes) = match &ds.target {
            Target::Classes { labels, y } => (Some(y.as_slice()), labels.len()),
            Target::Values(_) => (None, 0),
        };
        let splits = k_fold(ds.n_rows, k, strata, fold_seed);
        let mut fold_of_row = vec![0; ds.n_rows];
        for (f, split) in splits.iter().enumerate() {
            for &r in &split.test {
                fold_of_row[r] = f;
            }
        }
        let fitted = splits
            .iter()
            .map(|f| Preprocessor::fit(&ds, &f.train, &spec))
            .collect::<Result<Vec<_>, _>>()?;
        if fitted.iter().any(|pre| pre.output_names().is_empty()) {
            // Only text columns with no value in a fold's training rows: the
            // model would get no input (caught before anything is written).
            return Err(DataError::Invalid {
                path: ds.path.clone(),
                message: format!(
                    "no feature is left to train on in a cross-validation fold: {} no value in \
                     the fold's training rows; fill the column(s) in, or add a feature column",
                    match ds.feature_names.as_slice() {
                        [one] => format!("text column `{one}` has"),
                        names => format!("the text columns {} have", names.join(", ")),
                    }
                ),
            });
        }
        // Every fold's matrices hold each row once: rows x outputs x 8 bytes.
        let width: usize = fitted
            .first()
            .map_or(0, |p| p.columns().iter().map(|c| c.width()).sum());
        let bytes = splits
            .len()
            .saturating_mul(ds.n_rows)
            .saturating_mul(width.saturating_add(1))
            .saturating_mul(8);
        let folds = if bytes <= keep_bytes {
            let kept = splits
                .iter()
                .zip(&fitted)
                .map(|(f, pre)| {
                    prepare(
                        &ds.target,
                        |rows| pre.transform(&ds, rows),
                        &f.train,
                        &f.test,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            Folds::Kept(kept)
        } else {
            let (data, target) = Packed::new(ds);
            // Whatever a trial's preparation could refuse is refused here,
            // before the search starts, as keeping the folds would: each
            // fold's preprocessing applied to every row, one at a time.
            let all: Vec<usize> = (0..data.n_rows).collect();
            for pre in &fitted {
                drop(pre.transform_packed(&data, &all)?);
            }
            Folds::Prepared {
                data,
                target,
                fitted,
            }
        };
        Ok(CrossValidated {
            model,
            metric: *metric,
            fixed: fixed.clone(),
            n_classes,
            folds,
            n_folds: splits.len(),
            fold_of_row,
        })
    }

    /// Whether the folds' matrices are kept (else prepared per trial).
    pub fn keeps_folds(&self) -> bool {
        matches!(self.folds, Folds::Kept(_))
    }

    /// Fold `i`'s matrices: prepared now from the data (the rows of
    /// [`k_fold`]'s split, ascending, as when they are kept).
    fn prepare_fold(
        &self,
        data: &Packed,
        target: &Target,
        fitted: &[Preprocessor],
        i: usize,
    ) -> Result<Prepared, String> {
        let pre = fitted
            .get(i)
            .ok_or_else(|| format!("no fold {i} (the search has {})", fitted.len()))?;
        let (test, train): (Vec<usize>, Vec<usize>) =
            (0..data.n_rows).partition(|&r| self.fold_of_row.get(r) == Some(&i));
        let transform = |rows: &[usize]| pre.transform_packed(data, rows);
        prepare(target, transform, &train, &test).map_err(|e| e.to_string())
    }

    fn score(&self, truth: &FoldTarget, pred: &Prediction) -> Result<f64, String> {
        match (truth, pred) {
            (FoldTarget::Classes(y), Prediction::Classes { labels, proba }) => {
                Ok(match self.metric {
                    Metric::Accuracy => metrics::accuracy(y, labels),
                    Metric::BalancedAccuracy => {
                        metrics::balanced_accuracy(y, labels, self.n_classes)
                    }
                    Metric::F1 => metrics::f1_binary(y, labels),
                    Metric::F1Macro => metrics::f1_macro(y, labels, self.n_classes),
                    Metric::LogLoss => match proba {
                        Some(p) => metrics::log_loss(y, p.view()),
                        None => return Err("the model gave no probabilities for log_loss".into()),
                    },
                    m => return Err(format!("metric {} does not fit classification", m.name())),
                })
            }
            (FoldTarget::Values(y), Prediction::Values(p)) => Ok(match self.metric {
                Metric::Rmse => metrics::rmse(y, p),
                Metric::Mae => metrics::mae(y, p),
                Metric::R2 => metrics::r2(y, p),
                m => return Err(format!("metric {} does not fit regression", m.name())),
            }),
            _ => Err("the model predicted the wrong kind of target".into()),
        }
    }
}

/// A fold's matrices: its preprocessing (`transform`, fitted on `train`)
/// applied to its rows, and their targets.
fn prepare(
    target: &Target,
    transform: impl Fn(&[usize]) -> Result<Array2<f64>, DataError>,
    train: &[usize],
    test: &[usize],
) -> Result<Prepared, DataError> {
    let pick = |rows: &[usize]| match target {
        Target::Classes { y, .. } => FoldTarget::Classes(rows.iter().map(|&r| y[r]).collect()),
        Target::Values(v) => FoldTarget::Values(rows.iter().map(|&r| v[r]).collect()),
    };
    Ok(Prepared {
        x_train: transform(train)?,
        y_train: pick(train),
        x_test: transform(test)?,
        y_test: pick(test),
    })
}

impl Objective for CrossValidated {
    fn evaluate(&self, params: &Params, trial: &TrialInfo<'_>) -> Evaluation {
        let seed = trial.seed;
        let mut all = self.fixed.clone();
        all.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut scores = Vec::with_capacity(self.n_folds);
        for i in 0..self.n_folds {
            // A stop drops the trial between folds (it reruns on resume),
            // so Ctrl-C never waits for more than one fit.
            if crate::interrupt::requested() {
                return Evaluation::interrupted();
            }
            // Kept, or prepared for this fold and dropped after it.
            let prepared;
            let fold = match &self.folds {
                Folds::Kept(kept) => match kept.get(i) {
                    Some(f) => f,
                    None => return Evaluation::failed(format!("fold {i}: not prepared"), scores),
                },
                Folds::Prepared {
                    data,
                    target,
                    fitted,
                } => match self.prepare_fold(data, target, fitted, i) {
                    Ok(p) => {
                        prepared = p;
                        &prepared
                    }
                    Err(e) => return Evaluation::failed(format!("fold {i}: {e}"), scores),
                },
            };
            let targets = match &fold.y_train {
                FoldTarget::Classes(y) => Targets::Classes {
                    y,
                    n_classes: self.n_classes,
                },
                FoldTarget::Values(v) => Targets::Values(v),
            };
            let training_seed = seed::sub_seed(seed, "training", i as u64);
            let fitted = match models::fit(
                self.model.name,
                fold.x_train.view(),
                targets,
                &all,
                training_seed,
            ) {
                Ok(m) => m,
                Err(e) => return Evaluation::failed(format!("fold {i}: {e}"), scores),
            };
            let pred = match fitted.predict(fold.x_test.view()) {
                Ok(p) => p,
                Err(e) => return Evaluation::failed(format!("fold {i}: {e}"), scores),
            };
            match self.score(&fold.y_test, &pred) {
                Ok(s) => scores.push(s),
                Err(e) => return Evaluation::failed(format!("fold {i}: {e}"), scores),
            }
        }
        // Summed in fold order: the mean has the same bits every time.
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        Evaluation::ok(mean, scores)
    }

    fn n_folds(&self) -> usize {
        self.n_folds
    }

    fn fold_of_rows(&self) -> Option<&[usize]> {
        Some(&self.fold_of_row)
    }
}
