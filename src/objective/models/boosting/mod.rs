//! hpsearch's own histogram gradient boosting (`gradient_boosting`): the
//! algorithm of scikit-learn's HistGradientBoostingClassifier / Regressor,
//! with its parameter names, meanings and defaults.
//!
//! Written by hand because no crate gives histogram boosting that is bit
//! for bit the same across thread counts and processes (LightGBM and
//! XGBoost bindings sum histograms in thread-dependent orders), and the
//! search's promise is byte-identical results. Determinism:
//!
//! - **Bins.** Each feature's thresholds come from its training values
//!   only: the midpoints of consecutive distinct values when there are at
//!   most `max_bins` of them, otherwise the `max_bins - 1` inner quantiles
//!   (numpy's "averaged_inverted_cdf" percentiles, repeats dropped, as
//!   scikit-learn 1.9). Values `<=` a
//!   threshold fall in its bin or below; NaN falls in a bin of its own.
//! - **Sums.** A node's rows stay in ascending row order (stable
//!   partitions); each feature's histogram is summed over them in that
//!   order by one task, so rayon's thread count never changes a bit. The
//!   larger child's histogram is the parent's minus the smaller child's.
//! - **Ties.** The best split has the largest gain; on equal gains the
//!   lowest feature wins, then the left-to-right scan (missing values
//!   right), then the lowest bin. The next node to split is the one with
//!   the largest gain, the earliest created on ties.
//! - **Shared bins.** The bins are a function of the training matrix and
//!   `max_bins` only, so a search makes them once per fold (and rung
//!   subsample) and every trial with that `max_bins` reads them
//!   ([`Shared`], key `gradient_boosting/bins/max_bins=…`): a fit finds
//!   the same bins whether it makes them or not.
//! - **Seeds.** Row subsampling of iteration `i` uses seed
//!   `stream(seed, 1, i)`; the feature draws of tree `k` of iteration `i`
//!   use `stream(seed, 2, i · trees_per_iteration + k)` (see [`stream`]):
//!   they depend on the trial seed and the indices only, so the first `k`
//!   iterations of a fit equal a fit with `max_iter = k`.
//!
//! Differences from scikit-learn: no early stopping (scikit-learn's 'auto'
//! turns it on above 10,000 rows; set `early_stopping=False` to compare),
//! bins from every training row (scikit-learn subsamples 200,000 rows to
//! find them), no native categorical splits (text columns arrive one-hot),
//! gradients in `f32` and histograms in `f64` as scikit-learn, and row
//! subsampling (`subsample`), which scikit-learn does not have.
//!
//! Files: this one holds the registry entry ([`INFO`]), the parameters,
//! the seed streams and the fitted model (its trees, prediction and
//! artifact checks); `fitting` the boosting loop ([`Growing`]); `loss`
//! the baselines and link functions; `bins` the binning of features;
//! `grow` one tree's growth (histograms, split finding, best-first
//! order).
//!
//! This module never sees folds, metrics or files.

mod bins;
mod fitting;
mod grow;
mod loss;
#[cfg(test)]
mod tests;

pub use fitting::Growing;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::tree::argmax_rows;
use super::{
    check_width, Fitted, HyperParam, ModelError, ModelInfo, Prediction, Reader, Shared, Targets,
    Task, POSITIVE,
};
use crate::value::{Params, Value};
pub use loss::Loss;
use loss::{expit, softmax};

const MODEL: &str = "gradient_boosting";

/// The registry entry of `gradient_boosting`.
pub const INFO: ModelInfo = ModelInfo {
    name: MODEL,
    summary: "histogram gradient boosted trees (hpsearch's own, bit-stable across threads), \
              scikit-learn HistGradientBoosting's parameters",
    tasks: &[Task::Classification, Task::Regression],
    probabilities: true,
    missing_values: true,
    params: &[
        HyperParam {
            choices: Loss::NAMES,
            task_choices: &[
                ("squared_error", Task::Regression),
                ("absolute_error", Task::Regression),
                ("log_loss", Task::Classification),
            ],
            ..HyperParam::new(
                "loss",
                "squared_error/log_loss",
                "what each iteration's trees minimise: squared_error (the regression default) \
                 or absolute_error (regression; each leaf becomes the median residual of its \
                 rows), log_loss (classification, binary or multinomial; its only loss)",
            )
        },
        HyperParam {
            floats: Some((POSITIVE, f64::MAX)),
            ..HyperParam::new(
                "learning_rate",
                "0.1",
                "shrinkage: each tree's leaf values are multiplied by it (> 0)",
            )
        },
        HyperParam {
            ints: Some((1, 100_000)),
            ..HyperParam::new(
                "max_iter",
                "100",
                "boosting iterations (one tree each, or one per class for multiclass)",
            )
        },
        HyperParam {
            ints: Some((2, i64::MAX)),
            choices: &["none"],
            ..HyperParam::new(
                "max_leaf_nodes",
                "31",
                "most leaves per tree (>= 2), or \"none\"; trees grow best split first",
            )
        },
        HyperParam {
            ints: Some((1, i64::MAX)),
            choices: &["none"],
            ..HyperParam::new(
                "max_depth",
                "none",
                "deepest level of a tree (the root is level 0), or \"none\"",
            )
        },
        HyperParam {
            ints: Some((1, i64::MAX)),
            ..HyperParam::new("min_samples_leaf", "20", "fewest training rows in a leaf")
        },
        HyperParam {
            floats: Some((0.0, f64::MAX)),
            ..HyperParam::new(
                "l2_regularization",
                "0",
                "L2 penalty on leaf values (>= 0), added to each leaf's hessian sum",
            )
        },
        HyperParam {
            floats: Some((POSITIVE, 1.0)),
            ..HyperParam::new(
                "max_features",
                "1.0",
                "fraction in (0, 1] of the features drawn at random for each split \
                 (at least one, rounded up)",
            )
        },
        HyperParam {
            ints: Some((2, 255)),
            ..HyperParam::new(
                "max_bins",
                "255",
                "bins per feature for non-missing values (2..=255); missing values get one more",
            )
        },
        HyperParam {
            floats: Some((POSITIVE, 1.0)),
            ..HyperParam::new(
                "subsample",
                "1.0",
                "fraction in (0, 1] of the training rows each iteration's trees are grown on, \
                 drawn without replacement (not in scikit-learn; 1.0 uses every row)",
            )
        },
    ],
};

/// The settings of a boosted model, validated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoostParams {
    /// `None`: the task's default ([`Loss::default_for`]).
    pub loss: Option<Loss>,
    /// Shrinkage: each tree's leaf values are multiplied by it (> 0,
    /// default 0.1).
    pub learning_rate: f64,
    /// Boosting iterations: one tree each, or one per class for
    /// multiclass (1..=100000, default 100).
    pub max_iter: usize,
    /// Most leaves per tree (>= 2, default 31); `None`: no limit.
    pub max_leaf_nodes: Option<usize>,
    /// Deepest level of a tree, the root being level 0 (>= 1); `None`
    /// (the default): no limit.
    pub max_depth: Option<usize>,
    /// Fewest training rows in a leaf (>= 1, default 20).
    pub min_samples_leaf: usize,
    /// L2 penalty on leaf values, added to each leaf's hessian sum (>= 0,
    /// default 0).
    pub l2_regularization: f64,
    /// Share of the features drawn at random for each split, in (0, 1]
    /// (at least one, rounded up; default 1.0).
    pub max_features: f64,
    /// Bins per feature for non-missing values (2..=255, default 255);
    /// missing values get one more.
    pub max_bins: usize,
    /// Share of the training rows each iteration's trees are grown on,
    /// drawn without replacement, in (0, 1] (default 1.0: every row).
    pub subsample: f64,
}

impl Default for BoostParams {
    /// scikit-learn's defaults.
    fn default() -> Self {
        BoostParams {
            loss: None,
            learning_rate: 0.1,
            max_iter: 100,
            max_leaf_nodes: Some(31),
            max_depth: None,
            min_samples_leaf: 20,
            l2_regularization: 0.0,
            max_features: 1.0,
            max_bins: 255,
            subsample: 1.0,
        }
    }
}

fn param_err(name: &str, message: String) -> ModelError {
    ModelError::Param {
        model: MODEL,
        name: name.into(),
        message,
    }
}

/// An integer `>= min`, or "none"; `default` when absent.
fn int_or_none(
    r: &Reader<'_>,
    name: &str,
    min: i64,
    default: Option<usize>,
) -> Result<Option<usize>, ModelError> {
    match r.value(name) {
        None => Ok(default),
        Some(Value::Str(s)) if s == "none" => Ok(None),
        Some(v) => match v.as_i64() {
            Some(d) if d >= min => Ok(Some(usize::try_from(d).unwrap_or(usize::MAX))),
            _ => Err(param_err(
                name,
                format!("expected an integer >= {min} or \"none\", got {v}"),
            )),
        },
    }
}

impl BoostParams {
    /// Read and check every parameter (the same rules as [`INFO`]'s bounds,
    /// so a caller that skipped them still gets an error, not a panic).
    pub(crate) fn from_reader(r: &Reader<'_>) -> Result<Self, ModelError> {
        let d = BoostParams::default();
        let loss = match r.value("loss") {
            None => None,
            Some(v) => Some(v.as_str().and_then(Loss::from_name).ok_or_else(|| {
                param_err(
                    "loss",
                    format!("expected one of {}, got {v}", Loss::NAMES.join(", ")),
                )
            })?),
        };
        let p = BoostParams {
            loss,
            learning_rate: r.f64("learning_rate", d.learning_rate)?,
            max_iter: r.usize("max_iter", d.max_iter)?,
            max_leaf_nodes: int_or_none(r, "max_leaf_nodes", 2, d.max_leaf_nodes)?,
            max_depth: int_or_none(r, "max_depth", 1, d.max_depth)?,
            min_samples_leaf: r.usize("min_samples_leaf", d.min_samples_leaf)?,
            l2_regularization: r.f64("l2_regularization", d.l2_regularization)?,
            max_features: r.f64("max_features", d.max_features)?,
            max_bins: r.usize("max_bins", d.max_bins)?,
            subsample: r.f64("subsample", d.subsample)?,
        };
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<(), ModelError> {
        let fraction = |name: &str, v: f64| {
            if v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(param_err(name, format!("must be in (0, 1] (got {v})")))
            }
        };
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(param_err(
                "learning_rate",
                format!("must be > 0 (got {})", self.learning_rate),
            ));
        }
        if self.max_iter < 1 {
            return Err(param_err("max_iter", "must be at least 1 (got 0)".into()));
        }
        if self.min_samples_leaf < 1 {
            return Err(param_err(
                "min_samples_leaf",
                "must be at least 1 (got 0)".into(),
            ));
        }
        if !(self.l2_regularization >= 0.0 && self.l2_regularization.is_finite()) {
            return Err(param_err(
                "l2_regularization",
                format!("must be >= 0 (got {})", self.l2_regularization),
            ));
        }
        if !(2..=255).contains(&self.max_bins) {
            return Err(param_err(
                "max_bins",
                format!("must be in 2..=255 (got {})", self.max_bins),
            ));
        }
        fraction("max_features", self.max_features)?;
        fraction("subsample", self.subsample)
    }
}

/// Train a `gradient_boosting` model on one fold, with the bins `shared`
/// keeps for `x` (the same model, bit for bit, whatever it holds).
pub fn fit(
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    seed: u64,
    shared: &Shared,
) -> Result<Fitted, ModelError> {
    let reader = Reader {
        model: MODEL,
        params,
    };
    let p = BoostParams::from_reader(&reader)?;
    Ok(Fitted::GradientBoosting(GradientBoosting::fit_shared(
        x, y, &p, seed, shared,
    )?))
}

/// Output `k` (`k >= 1`) of the SplitMix64 sequence started at `state`.
fn splitmix64(state: u64, k: u64) -> u64 {
    let mut z = state.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of item `index` of stream `tag` under `seed`: output
/// `index + 1` of SplitMix64 started at output `tag` of SplitMix64 started
/// at `seed`.
pub fn stream(seed: u64, tag: u64, index: u64) -> u64 {
    splitmix64(splitmix64(seed, tag), index.wrapping_add(1))
}

// ---------------------------------------------------------------- model --

/// A node of a boosted tree. Children always come after their parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// `x <= threshold` goes left, a larger value right, NaN to the
    /// learned side.
    Split {
        /// The column of the prepared feature matrix it tests.
        feature: usize,
        /// The largest value that goes left.
        threshold: f64,
        /// Whether a missing value (NaN) goes left.
        missing_left: bool,
        /// The left child's index in the tree's nodes.
        left: usize,
        /// The right child's index in the tree's nodes.
        right: usize,
    },
    /// The tree's output (already multiplied by the learning rate).
    Leaf {
        /// What the tree adds to the raw prediction for a row that ends
        /// here.
        value: f64,
    },
}

/// One boosted tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoostTree {
    nodes: Vec<Node>,
}

impl BoostTree {
    fn value(&self, row: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            match &self.nodes[i] {
                Node::Leaf { value } => return *value,
                Node::Split {
                    feature,
                    threshold,
                    missing_left,
                    left,
                    right,
                } => {
                    let v = row[*feature];
                    let go_left = if v.is_nan() {
                        *missing_left
                    } else {
                        v <= *threshold
                    };
                    i = if go_left { *left } else { *right };
                }
            }
        }
    }

    /// The nodes, root first.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
}

/// A fitted boosted model. Serialisable into model artifacts; a
/// deserialised model is checked (shapes, child indices, features) before
/// it exists, so prediction cannot index out of bounds or loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BoostWire")]
pub struct GradientBoosting {
    task: Task,
    n_features: usize,
    /// Classes (classification); 0 for regression.
    n_classes: usize,
    /// The starting raw prediction of each tree of an iteration.
    baseline: Vec<f64>,
    /// `iterations[i][k]`: tree `k` of iteration `i`.
    iterations: Vec<Vec<BoostTree>>,
}

#[derive(Deserialize)]
struct BoostWire {
    task: Task,
    n_features: usize,
    n_classes: usize,
    baseline: Vec<f64>,
    iterations: Vec<Vec<BoostTree>>,
}

fn trees_per_iteration(task: Task, n_classes: usize) -> usize {
    match task {
        Task::Regression => 1,
        Task::Classification if n_classes <= 2 => 1,
        Task::Classification => n_classes,
    }
}

impl TryFrom<BoostWire> for GradientBoosting {
    type Error = String;
    fn try_from(w: BoostWire) -> Result<Self, String> {
        match w.task {
            Task::Classification if w.n_classes < 2 => {
                return Err("a classifier needs at least 2 classes".into())
            }
            Task::Regression if w.n_classes != 0 => {
                return Err("a regressor has n_classes 0".into())
            }
            _ => {}
        }
        let k = trees_per_iteration(w.task, w.n_classes);
        if w.baseline.len() != k || w.baseline.iter().any(|b| !b.is_finite()) {
            return Err(format!("baseline must hold {k} finite values"));
        }
        if w.iterations.is_empty() {
            return Err("a boosted model needs at least one iteration".into());
        }
        for (i, it) in w.iterations.iter().enumerate() {
            if it.len() != k {
                return Err(format!(
                    "iteration {i} has {} trees, expected {k}",
                    it.len()
                ));
            }
            for (t, tree) in it.iter().enumerate() {
                let len = tree.nodes.len();
                if len == 0 {
                    return Err(format!("iteration {i}, tree {t}: no node"));
                }
                for (j, node) in tree.nodes.iter().enumerate() {
                    let ok = match node {
                        Node::Leaf { value } => value.is_finite(),
                        Node::Split {
                            feature,
                            threshold,
                            left,
                            right,
                            ..
                        } => {
                            *feature < w.n_features
                                && !threshold.is_nan()
                                && *left > j
                                && *right > j
                                && *left < len
                                && *right < len
                        }
                    };
                    if !ok {
                        return Err(format!("iteration {i}, tree {t}, node {j} is invalid"));
                    }
                }
            }
        }
        Ok(GradientBoosting {
            task: w.task,
            n_features: w.n_features,
            n_classes: w.n_classes,
            baseline: w.baseline,
            iterations: w.iterations,
        })
    }
}

impl GradientBoosting {
    /// Fit on `x` (NaN = missing) and `y`.
    pub fn fit(
        x: ArrayView2<'_, f64>,
        y: Targets<'_>,
        p: &BoostParams,
        seed: u64,
    ) -> Result<GradientBoosting, ModelError> {
        Self::fit_shared(x, y, p, seed, &Shared::disabled())
    }

    /// [`GradientBoosting::fit`], with the bins `shared` keeps for `x`
    /// (made there if it has none yet): the same model, bit for bit.
    pub fn fit_shared(
        x: ArrayView2<'_, f64>,
        y: Targets<'_>,
        p: &BoostParams,
        seed: u64,
        shared: &Shared,
    ) -> Result<GradientBoosting, ModelError> {
        let mut grower = Self::start(x, y, p, seed, shared)?;
        grower.grow_to(x, y, p.max_iter);
        Ok(grower.model)
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        self.task
    }

    /// The number of feature columns the model was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The number of boosting iterations.
    pub fn n_iterations(&self) -> usize {
        self.iterations.len()
    }

    /// Trees, by iteration then class.
    pub fn iterations(&self) -> &[Vec<BoostTree>] {
        &self.iterations
    }

    /// Predict with every iteration.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        self.predict_rounds(x, self.iterations.len())
    }

    /// Predict with the first `rounds` iterations only (all of them when
    /// `rounds` is larger): the same bits as a model fitted with
    /// `max_iter = rounds` and the same seed.
    pub fn predict_rounds(
        &self,
        x: ArrayView2<'_, f64>,
        rounds: usize,
    ) -> Result<Prediction, ModelError> {
        check_width(MODEL, self.n_features, &x)?;
        let k = self.baseline.len();
        let its = &self.iterations[..rounds.min(self.iterations.len())];
        let mut raw = Array2::<f64>::zeros((x.nrows(), k));
        let mut buf = vec![0.0; self.n_features];
        for (row, mut out) in x.rows().into_iter().zip(raw.rows_mut()) {
            buf.iter_mut().zip(row).for_each(|(d, s)| *d = *s);
            for (c, o) in out.iter_mut().enumerate() {
                let mut v = self.baseline[c];
                for trees in its {
                    v += trees[c].value(&buf);
                }
                *o = v;
            }
        }
        Ok(match self.task {
            Task::Regression => Prediction::Values(raw.column(0).to_vec()),
            Task::Classification => {
                let mut proba = Array2::<f64>::zeros((x.nrows(), self.n_classes));
                if k == 1 {
                    for (r, mut p) in raw.column(0).iter().zip(proba.rows_mut()) {
                        let p1 = expit(*r);
                        p[0] = 1.0 - p1;
                        p[1] = p1;
                    }
                } else {
                    for (r, mut p) in raw.rows().into_iter().zip(proba.rows_mut()) {
                        if let (Some(r), Some(p)) = (r.as_slice(), p.as_slice_mut()) {
                            softmax(r, p);
                        }
                    }
                }
                Prediction::Classes {
                    labels: argmax_rows(&proba),
                    proba: Some(proba),
                }
            }
        })
    }
}
