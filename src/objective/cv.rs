//! A built-in model scored by k-fold cross-validation.
//!
//! The folds depend only on the user's seed, and the preprocessing of each
//! fold depends only on the fold, so both are prepared once and shared by
//! every trial: a trial trains and scores the model on each fold, with the
//! training seed `sub_seed(trial seed, "training", fold)`.

use ndarray::Array2;

use super::models::{self, ModelInfo, Prediction, Targets};
use super::{Evaluation, Objective, TrialInfo};
use crate::config::{ObjectiveSpec, Search};
use crate::data::folds::{k_fold, Fold};
use crate::data::metrics::{self, Metric};
use crate::data::preprocess::{PreprocessSpec, Preprocessor};
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

/// A model trained and scored on every fold.
pub struct CrossValidated {
    model: &'static ModelInfo,
    metric: Metric,
    fixed: Params,
    n_classes: usize,
    folds: Vec<Prepared>,
    fold_of_row: Vec<usize>,
}

impl CrossValidated {
    /// Prepare the folds of `ds` for `search` (a model search).
    pub fn new(search: &Search, ds: Dataset) -> Result<CrossValidated, DataError> {
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
        let folds = splits
            .iter()
            .map(|f| prepare(&ds, f, &spec))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CrossValidated {
            model,
            metric: *metric,
            fixed: fixed.clone(),
            n_classes,
            folds,
            fold_of_row,
        })
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

fn prepare(ds: &Dataset, f: &Fold, spec: &PreprocessSpec) -> Result<Prepared, DataError> {
    let pre = Preprocessor::fit(ds, &f.train, spec)?;
    if pre.output_names().is_empty() {
        // Only text columns with no value in this fold's training rows: the
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
    let pick = |rows: &[usize]| match &ds.target {
        Target::Classes { y, .. } => FoldTarget::Classes(rows.iter().map(|&r| y[r]).collect()),
        Target::Values(v) => FoldTarget::Values(rows.iter().map(|&r| v[r]).collect()),
    };
    Ok(Prepared {
        x_train: pre.transform(ds, &f.train)?,
        y_train: pick(&f.train),
        x_test: pre.transform(ds, &f.test)?,
        y_test: pick(&f.test),
    })
}

impl Objective for CrossValidated {
    fn evaluate(&self, params: &Params, trial: &TrialInfo<'_>) -> Evaluation {
        let seed = trial.seed;
        let mut all = self.fixed.clone();
        all.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut scores = Vec::with_capacity(self.folds.len());
        for (i, fold) in self.folds.iter().enumerate() {
            // A stop drops the trial between folds (it reruns on resume),
            // so Ctrl-C never waits for more than one fit.
            if crate::interrupt::requested() {
                return Evaluation::interrupted();
            }
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
        self.folds.len()
    }

    fn fold_of_rows(&self) -> Option<&[usize]> {
        Some(&self.fold_of_row)
    }
}
