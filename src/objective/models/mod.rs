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
pub mod shared;
pub mod svm;
pub mod tree;

/// What a model predicts; owned by `data` (a target column reads as one).
pub use crate::data::Task;
pub use shared::Shared;

/// Training targets of one fold.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    /// Class indices `0..n_classes` (labels sorted as in the data module).
    Classes {
        /// The class index of each training row.
        y: &'a [usize],
        /// How many classes there are (every index is below it).
        n_classes: usize,
    },
    /// Real-valued targets.
    Values(&'a [f64]),
}

/// Predictions for a block of rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Prediction {
    /// Predicted class indices, and class probabilities (rows × n_classes)
    /// where the model has them.
    Classes {
        /// The predicted class index of each row.
        labels: Vec<usize>,
        /// Class probabilities, one row per input row (each sums to 1);
        /// `None` for a model without them.
        proba: Option<Array2<f64>>,
    },
    /// Predicted values of a regression, one per row.
    Values(Vec<f64>),
}

/// A model that failed to train: the trial is recorded as failed, the
/// search goes on.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Training failed, or the model cannot serve the task; `message` says
    /// why.
    #[error("{model}: {message}")]
    Fit {
        /// The model's name.
        model: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A parameter has a value of the wrong type for the model.
    #[error("{model}: parameter `{name}`: {message}")]
    Param {
        /// The model's name.
        model: &'static str,
        /// The parameter's name.
        name: String,
        /// What was expected.
        message: String,
    },
    /// A fitted model asked to predict rows it cannot read.
    #[error("{model}: {message}")]
    Predict {
        /// The model's name.
        model: &'static str,
        /// What is wrong with the rows.
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

// What a model accepts (`HyperParam`) and the model's description
// (`ModelInfo`) are `config`'s: it checks search files with them. The list
// of models is this module's (`MODELS`), passed to `config::load`.
pub use crate::config::{HyperParam, ModelInfo, POSITIVE};

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
///
/// ```
/// use hpsearch::objective::models::{self, Prediction, Targets};
/// use hpsearch::value::{Params, Value};
/// use ndarray::array;
///
/// let x = array![[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]];
/// let y = [0, 0, 0, 1, 1, 1];
/// let mut params = Params::new();
/// params.insert("n_neighbors".into(), Value::Int(3));
/// let targets = Targets::Classes { y: &y, n_classes: 2 };
/// let fitted = models::fit("knn", x.view(), targets, &params, 0)?;
/// let Prediction::Classes { labels, .. } = fitted.predict(array![[0.5], [4.5]].view())? else {
///     return Err("a classifier predicts classes".into());
/// };
/// assert_eq!(labels, [0, 1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fit(
    model: &str,
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    seed: u64,
) -> Result<Fitted, ModelError> {
    fit_shared(model, x, y, params, seed, &Shared::disabled())
}

/// [`fit`], with the work `shared` keeps for this training matrix (see
/// [`shared`]): the same model, bit for bit, whatever `shared` holds.
pub fn fit_shared(
    model: &str,
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    seed: u64,
    shared: &Shared,
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
        "elastic_net" => elastic_net::fit_shared(x, y, params, seed, None, shared),
        "ridge" => elastic_net::fit_shared(x, y, params, seed, Some(0.0), shared),
        "lasso" => elastic_net::fit_shared(x, y, params, seed, Some(1.0), shared),
        "decision_tree" => tree::fit(x, y, params, seed),
        "random_forest" => forest::fit(x, y, params, seed),
        "gradient_boosting" => boosting::fit(x, y, params, seed, shared),
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
pub(crate) struct Reader<'a> {
    /// The model's name, for errors.
    pub model: &'static str,
    /// The parameters to read.
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

    /// A number (an int is read as a float), or `default` when absent.
    pub fn f64(&self, name: &str, default: f64) -> Result<f64, ModelError> {
        match self.params.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| self.err(name, "expected a number")),
        }
    }

    /// A non-negative integer (a whole float is accepted), or `default`
    /// when absent.
    pub fn usize(&self, name: &str, default: usize) -> Result<usize, ModelError> {
        match self.params.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_i64()
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(|| self.err(name, "expected a non-negative integer")),
        }
    }

    /// A boolean, or `default` when absent.
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

    /// A string choice, or `default` when absent.
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
pub(crate) fn wrong_task(model: &'static str, y: &Targets<'_>) -> ModelError {
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
