//! Built-in learners: one file a model, a registry of their names,
//! tasks and tunable hyperparameters, and one entry point, [`fit`].
//!
//! Every learner is a pure function of its training data, its parameters and
//! a `u64` seed: single-threaded, fixed summation order, no global RNG. Seeds
//! (never RNG objects) cross into the learners, because linfa and argmin pin
//! different `rand` versions.
//!
//! This module never sees folds, metrics, strategies or files.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::value::{Params, Value};

pub mod boosting;
pub mod elastic_net;
pub mod forest;
pub mod knn;
pub mod logistic;
pub mod naive_bayes;
pub mod svm;
pub mod tree;

/// What a model predicts.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Classification,
    Regression,
}

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

/// Training targets of one fold.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    /// Class indices `0..n_classes` (labels sorted as in the data module).
    Classes { y: &'a [usize], n_classes: usize },
    /// Real-valued targets.
    Values(&'a [f64]),
}

/// Predictions for a block of rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Prediction {
    /// Predicted class indices, and class probabilities (rows × n_classes)
    /// where the model has them.
    Classes {
        labels: Vec<usize>,
        proba: Option<Array2<f64>>,
    },
    Values(Vec<f64>),
}

/// A model that failed to train: the trial is recorded as failed, the
/// search goes on.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{model}: {message}")]
    Fit {
        model: &'static str,
        message: String,
    },
    #[error("{model}: parameter `{name}`: {message}")]
    Param {
        model: &'static str,
        name: String,
        message: String,
    },
    /// A fitted model asked to predict rows it cannot read.
    #[error("{model}: {message}")]
    Predict {
        model: &'static str,
        message: String,
    },
}

/// A trained built-in model: what [`fit`] returns, and what a model file
/// holds. Serialised with a `"kind"` field naming the variant; every float
/// is written so that it reads back to the same bits, and a model read
/// back predicts exactly what the original predicts. Deserialising checks
/// each model's internal consistency, so a hand-edited file is an error,
/// not a panic at prediction time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fitted {
    /// `logistic_regression`.
    LogisticRegression(logistic::Logistic),
    /// `elastic_net`, `ridge` or `lasso` (the struct says which).
    ElasticNet(elastic_net::Linear),
    /// `decision_tree`.
    DecisionTree(tree::DecisionTree),
    /// `random_forest`.
    RandomForest(forest::RandomForest),
    /// `svm`.
    Svm(svm::Svc),
    /// `knn`.
    Knn(knn::Knn),
    /// `gaussian_nb`.
    GaussianNb(naive_bayes::GaussianNb),
    /// `gradient_boosting`.
    GradientBoosting(boosting::GradientBoosting),
}

impl Fitted {
    /// Predict every row of `x`. Errors (never panics) when `x` does not
    /// have the training width, [`Fitted::n_features`] columns.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        match self {
            Fitted::LogisticRegression(m) => m.predict(x),
            Fitted::ElasticNet(m) => m.predict(x),
            Fitted::DecisionTree(m) => m.predict(x),
            Fitted::RandomForest(m) => m.predict(x),
            Fitted::Svm(m) => m.predict(x),
            Fitted::Knn(m) => m.predict(x),
            Fitted::GaussianNb(m) => m.predict(x),
            Fitted::GradientBoosting(m) => m.predict(x),
        }
    }

    /// The number of feature columns the model was trained on.
    pub fn n_features(&self) -> usize {
        match self {
            Fitted::LogisticRegression(m) => m.n_features(),
            Fitted::ElasticNet(m) => m.n_features(),
            Fitted::DecisionTree(m) => m.n_features(),
            Fitted::RandomForest(m) => m.n_features(),
            Fitted::Svm(m) => m.n_features(),
            Fitted::Knn(m) => m.n_features(),
            Fitted::GaussianNb(m) => m.n_features(),
            Fitted::GradientBoosting(m) => m.n_features(),
        }
    }
}

/// The error unless `x` has `n_features` columns: every model's first
/// check in `predict`.
pub fn check_width(
    model: &'static str,
    n_features: usize,
    x: &ArrayView2<'_, f64>,
) -> Result<(), ModelError> {
    if x.ncols() == n_features {
        Ok(())
    } else {
        Err(ModelError::Predict {
            model,
            message: format!(
                "trained on {n_features} feature columns, asked to predict rows of {}",
                x.ncols()
            ),
        })
    }
}

/// One tunable hyperparameter: its scikit-learn name, what it accepts and
/// its default. Used to validate search files and by `hpsearch models`.
#[derive(Clone, Copy, Debug)]
pub struct HyperParam {
    pub name: &'static str,
    /// Accepted integers (inclusive), if any.
    pub ints: Option<(i64, i64)>,
    /// Accepted floats (inclusive), if any; ints inside it are accepted too.
    pub floats: Option<(f64, f64)>,
    /// Accepted strings.
    pub choices: &'static [&'static str],
    /// Strings of `choices` that only one task accepts (see
    /// [`HyperParam::check_task`]); the others suit every task.
    pub task_choices: &'static [(&'static str, Task)],
    /// Whether `true`/`false` are accepted.
    pub boolean: bool,
    /// The default, as a user would write it.
    pub default: &'static str,
    pub help: &'static str,
}

/// Smallest positive float: the lower bound for "must be > 0".
pub const POSITIVE: f64 = f64::MIN_POSITIVE;

impl HyperParam {
    /// An empty description, to fill with struct update syntax.
    pub const fn new(name: &'static str, default: &'static str, help: &'static str) -> Self {
        HyperParam {
            name,
            ints: None,
            floats: None,
            choices: &[],
            task_choices: &[],
            boolean: false,
            default,
            help,
        }
    }

    /// Whether `v` is a value this parameter accepts; the error says what is.
    pub fn check(&self, v: &Value) -> Result<(), String> {
        let ok = match v {
            Value::Int(i) => {
                self.ints.is_some_and(|(lo, hi)| (lo..=hi).contains(i))
                    || self
                        .floats
                        .is_some_and(|(lo, hi)| (*i as f64) >= lo && (*i as f64) <= hi)
            }
            Value::Float(f) => self.floats.is_some_and(|(lo, hi)| *f >= lo && *f <= hi),
            Value::Str(s) => self.choices.contains(&s.as_str()),
            Value::Bool(_) => self.boolean,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("got {}, expected {}", show(v), self.accepts()))
        }
    }

    /// Whether `v`, already accepted by [`HyperParam::check`], suits
    /// `task`; the error says which choices do.
    pub fn check_task(&self, v: &Value, task: Task) -> Result<(), String> {
        let Value::Str(s) = v else { return Ok(()) };
        match self.task_choices.iter().find(|(c, _)| c == s) {
            Some((_, t)) if *t != task => {
                let fits: Vec<String> = self
                    .task_choices
                    .iter()
                    .filter(|(_, t)| *t == task)
                    .map(|(c, _)| format!("\"{c}\""))
                    .collect();
                Err(format!(
                    "\"{s}\" is for {}, but this search does {}; use {}",
                    t.name(),
                    task.name(),
                    fits.join(" or ")
                ))
            }
            _ => Ok(()),
        }
    }

    /// What the parameter accepts, in words.
    pub fn accepts(&self) -> String {
        let mut parts = Vec::new();
        if let Some((lo, hi)) = self.floats {
            parts.push(format!("a number in [{}, {}]", bound(lo), bound(hi)));
        } else if let Some((lo, hi)) = self.ints {
            if hi == i64::MAX {
                parts.push(format!("an integer >= {lo}"));
            } else {
                parts.push(format!("an integer in [{lo}, {hi}]"));
            }
        }
        if !self.choices.is_empty() {
            let c: Vec<String> = self.choices.iter().map(|c| format!("\"{c}\"")).collect();
            parts.push(format!("one of {}", c.join(", ")));
        }
        if self.boolean {
            parts.push("true or false".into());
        }
        parts.join(" or ")
    }
}

fn bound(x: f64) -> String {
    if x == POSITIVE {
        "0 (exclusive)".into()
    } else if x == f64::MAX {
        "inf".into()
    } else {
        x.to_string()
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// A built-in model: its name in search files, the tasks it serves and its
/// tunable hyperparameters.
#[derive(Clone, Copy, Debug)]
pub struct ModelInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub tasks: &'static [Task],
    /// Whether it predicts class probabilities (needed by `log_loss`).
    pub probabilities: bool,
    pub params: &'static [HyperParam],
}

impl ModelInfo {
    pub fn param(&self, name: &str) -> Option<&'static HyperParam> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether the model takes missing feature values (NaN) natively, so
    /// that `impute = "none"` passes missing cells on to it instead of
    /// refusing them.
    pub fn takes_missing(&self) -> bool {
        TAKE_MISSING.contains(&self.name)
    }
}

/// The models that handle NaN features themselves (a learned direction
/// at each split), as scikit-learn's HistGradientBoosting does.
pub const TAKE_MISSING: &[&str] = &[boosting::INFO.name];

/// Every built-in model, in the order `hpsearch models` prints them.
pub const MODELS: &[ModelInfo] = &[
    logistic::INFO,
    elastic_net::INFO,
    elastic_net::RIDGE_INFO,
    elastic_net::LASSO_INFO,
    tree::INFO,
    forest::INFO,
    boosting::INFO,
    svm::INFO,
    knn::INFO,
    naive_bayes::INFO,
];

/// Look a model up by name.
pub fn info(name: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|m| m.name == name)
}

/// Train `model` on `x`/`y`. `params` holds only validated values; missing
/// ones take the defaults in the model's [`HyperParam`] list.
pub fn fit(
    model: &str,
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    seed: u64,
) -> Result<Fitted, ModelError> {
    // Searches refuse data without a feature up front (config, cv); this
    // keeps any other caller from reaching a model that indexes column 0.
    if x.ncols() == 0 {
        return Err(ModelError::Fit {
            model: info(model).map_or("unknown", |m| m.name),
            message: "no feature column to train on".into(),
        });
    }
    match model {
        "logistic_regression" => logistic::fit(x, y, params, seed),
        "elastic_net" => elastic_net::fit(x, y, params, seed, None),
        "ridge" => elastic_net::fit(x, y, params, seed, Some(0.0)),
        "lasso" => elastic_net::fit(x, y, params, seed, Some(1.0)),
        "decision_tree" => tree::fit(x, y, params, seed),
        "random_forest" => forest::fit(x, y, params, seed),
        "gradient_boosting" => boosting::fit(x, y, params, seed),
        "svm" => svm::fit(x, y, params, seed),
        "knn" => knn::fit(x, y, params, seed),
        "gaussian_nb" => naive_bayes::fit(x, y, params, seed),
        other => Err(ModelError::Fit {
            model: "unknown",
            message: format!("no built-in model named `{other}`"),
        }),
    }
}

/// Typed access to a validated parameter map, with the model's defaults.
pub struct Reader<'a> {
    pub model: &'static str,
    pub params: &'a Params,
}

impl Reader<'_> {
    fn err(&self, name: &str, message: &str) -> ModelError {
        ModelError::Param {
            model: self.model,
            name: name.to_string(),
            message: message.to_string(),
        }
    }

    pub fn f64(&self, name: &str, default: f64) -> Result<f64, ModelError> {
        match self.params.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| self.err(name, "expected a number")),
        }
    }

    pub fn usize(&self, name: &str, default: usize) -> Result<usize, ModelError> {
        match self.params.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_i64()
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(|| self.err(name, "expected a non-negative integer")),
        }
    }

    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ModelError> {
        match self.params.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| self.err(name, "expected true or false")),
        }
    }

    /// The raw value, for parameters that take a number or a word.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    /// A string choice.
    pub fn str<'b>(&'b self, name: &str, default: &'b str) -> Result<&'b str, ModelError> {
        match self.params.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_str()
                .ok_or_else(|| self.err(name, "expected a string")),
        }
    }
}

/// The error for a model given targets of the wrong task.
pub fn wrong_task(model: &'static str, y: &Targets<'_>) -> ModelError {
    let got = match y {
        Targets::Classes { .. } => "classification",
        Targets::Values(_) => "regression",
    };
    ModelError::Fit {
        model,
        message: format!("does not support {got}"),
    }
}

/// Shipped datasets for the models' unit tests.
#[cfg(test)]
pub(crate) mod testdata {
    use ndarray::Array2;

    /// `data/<file>`: every column but the last is a feature, the last the
    /// target.
    pub fn load(file: &str) -> (Array2<f64>, Vec<f64>) {
        let path = format!("{}/data/{file}", env!("CARGO_MANIFEST_DIR"));
        let mut rdr = csv::Reader::from_path(path).unwrap();
        let rows: Vec<Vec<f64>> = rdr
            .records()
            .map(|r| r.unwrap().iter().map(|v| v.parse().unwrap()).collect())
            .collect();
        let d = rows[0].len() - 1;
        let x = Array2::from_shape_fn((rows.len(), d), |(i, j)| rows[i][j]);
        (x, rows.iter().map(|r| r[d]).collect())
    }

    /// Train on rows with `i % 5 != 0`, test on the others (the split the
    /// scikit-learn reference numbers in the tests were computed with).
    pub fn holdout(x: &Array2<f64>, y: &[f64]) -> (Array2<f64>, Vec<f64>, Array2<f64>, Vec<f64>) {
        let test: Vec<usize> = (0..y.len()).filter(|i| i % 5 == 0).collect();
        let train: Vec<usize> = (0..y.len()).filter(|i| i % 5 != 0).collect();
        (
            x.select(ndarray::Axis(0), &train),
            train.iter().map(|&i| y[i]).collect(),
            x.select(ndarray::Axis(0), &test),
            test.iter().map(|&i| y[i]).collect(),
        )
    }
}
