//! hpsearch's own CART decision tree (`decision_tree`), for classification
//! and regression, and the tree learner the random forest is built from.
//!
//! Written here rather than taken from linfa-trees 0.8.1, whose trees change
//! from one process to the next (they sum class weights in `HashMap` order;
//! see `docs/upstream/linfa-trees-nondeterminism.md`). Everything below is a
//! pure function of the data, the parameters and a `u64` seed:
//!
//! - **Order of rows.** Each feature's rows are sorted once by
//!   (value, row index); a split scans a node's rows in that order. Two
//!   layouts get them there, with the same result bit for bit (see
//!   `Layout`): partitioning every feature's order stably at each split,
//!   or sorting a node's rows by their ranks only for the features drawn.
//! - **Thresholds** are midpoints between consecutive distinct values of a
//!   node, as in scikit-learn; a row goes left when `x <= threshold`.
//! - **Ties.** The split with the largest impurity decrease wins; between
//!   equal decreases (exactly equal `f64`s) the lowest feature index wins,
//!   then the lowest threshold.
//! - **Sums.** Class counts are integers, so gini needs no float sum at all;
//!   entropy sums over classes in index order; regression sums run in the
//!   node's sorted row order.
//! - **Feature subsets** (`max_features` below the number of features) are
//!   drawn without replacement at each node with a `Xoshiro256PlusPlus`
//!   seeded by the caller, visiting nodes depth-first, left child first.
//!   As in scikit-learn, a feature that is constant in the node does not
//!   count towards `max_features`.
//! - **Predictions.** Leaves store class proportions (classification) or
//!   the mean target (regression); the predicted class is the most probable
//!   one, the lowest index on ties.
//!
//! This module never sees folds, metrics or files.

use std::cmp::Ordering;

use ndarray::{Array2, ArrayView1, ArrayView2};
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::{
    check_width, Fitted, HyperParam, ModelError, ModelInfo, Prediction, Reader, Targets, Task,
    POSITIVE,
};
use crate::value::{Params, Value};

const MODEL: &str = "decision_tree";

/// The `criterion` parameter, shared with the random forest.
pub(crate) const CRITERION: HyperParam = HyperParam {
    choices: &["gini", "entropy", "log_loss", "squared_error"],
    ..HyperParam::new(
        "criterion",
        "gini",
        "split quality: gini, entropy or log_loss (the same as entropy) for classification; \
         squared_error for regression. The default follows the task: gini for \
         classification, squared_error for regression",
    )
};

/// The `max_depth` parameter, shared with the random forest.
pub(crate) const MAX_DEPTH: HyperParam = HyperParam {
    ints: Some((1, i64::MAX)),
    choices: &["none"],
    ..HyperParam::new(
        "max_depth",
        "none",
        "deepest level of the tree (the root is level 0); \"none\" grows until the leaves are \
         pure or too small to split",
    )
};

/// The `min_samples_split` parameter, shared with the random forest.
pub(crate) const MIN_SAMPLES_SPLIT: HyperParam = HyperParam {
    ints: Some((2, i64::MAX)),
    ..HyperParam::new(
        "min_samples_split",
        "2",
        "fewest training rows a node needs to be split (distinct rows: a bootstrap duplicate \
         counts once, as in scikit-learn)",
    )
};

/// The `min_samples_leaf` parameter, shared with the random forest.
pub(crate) const MIN_SAMPLES_LEAF: HyperParam = HyperParam {
    ints: Some((1, i64::MAX)),
    ..HyperParam::new(
        "min_samples_leaf",
        "1",
        "fewest training rows each side of a split must keep",
    )
};

/// The `min_impurity_decrease` parameter, shared with the random forest.
pub(crate) const MIN_IMPURITY_DECREASE: HyperParam = HyperParam {
    floats: Some((0.0, f64::MAX)),
    ..HyperParam::new(
        "min_impurity_decrease",
        "0",
        "a node is split only if the split lowers the impurity, weighted by the node's share \
         of the training rows, by at least this much (scikit-learn's definition)",
    )
};

/// The `max_features` parameter of a single tree; the forest has its own
/// default.
const MAX_FEATURES: HyperParam = HyperParam {
    ints: Some((1, i64::MAX)),
    floats: Some((POSITIVE, 1.0)),
    choices: &["all", "sqrt", "log2"],
    ..HyperParam::new(
        "max_features",
        "all",
        "features drawn at random at each node: \"all\", \"sqrt\" or \"log2\" of the count \
         (rounded down), a fraction in (0, 1] (a float: 1.0 is all), or a count (an integer: \
         1 is one feature; more than there are means all)",
    )
};

/// The registry entry of `decision_tree`.
pub const INFO: ModelInfo = ModelInfo {
    name: MODEL,
    summary: "CART decision tree (hpsearch's own, deterministic), scikit-learn's parameters",
    tasks: &[Task::Classification, Task::Regression],
    probabilities: true,
    missing_values: false,
    params: &[
        CRITERION,
        MAX_DEPTH,
        MIN_SAMPLES_SPLIT,
        MIN_SAMPLES_LEAF,
        MAX_FEATURES,
        MIN_IMPURITY_DECREASE,
    ],
};

/// Train a `decision_tree` on one fold.
pub fn fit(
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    seed: u64,
) -> Result<Fitted, ModelError> {
    let reader = Reader {
        model: MODEL,
        params,
    };
    let tree = match y {
        Targets::Classes { y, n_classes } => {
            let p = TreeParams::from_reader(&reader, Task::Classification, MaxFeatures::All)?;
            DecisionTree::fit_classifier(x, y, n_classes, &p, seed)?
        }
        Targets::Values(y) => {
            let p = TreeParams::from_reader(&reader, Task::Regression, MaxFeatures::All)?;
            DecisionTree::fit_regressor(x, y, &p, seed)?
        }
    };
    Ok(Fitted::DecisionTree(tree))
}

/// How a split's quality is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Gini impurity `1 - Σ p_k²` (classification).
    Gini,
    /// Entropy `-Σ p_k log2 p_k`, in bits (classification; `log_loss` is
    /// accepted as another name, as in scikit-learn).
    Entropy,
    /// Variance of the target (regression).
    SquaredError,
}

/// How many features each node considers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxFeatures {
    /// Every feature.
    All,
    /// `floor(sqrt(n_features))`, at least 1.
    Sqrt,
    /// `floor(log2(n_features))`, at least 1.
    Log2,
    /// `floor(fraction * n_features)`, at least 1; the fraction is in (0, 1].
    Fraction(f64),
    /// This many, at most `n_features`.
    Count(usize),
}

impl MaxFeatures {
    /// The number of features a node considers, in `1..=n_features`
    /// (0 only when there are no features).
    pub fn resolve(self, n_features: usize) -> usize {
        let d = n_features as f64;
        let k = match self {
            MaxFeatures::All => n_features,
            MaxFeatures::Sqrt => d.sqrt() as usize,
            MaxFeatures::Log2 => d.log2().max(0.0) as usize,
            MaxFeatures::Fraction(f) => (f * d) as usize,
            MaxFeatures::Count(c) => c,
        };
        k.max(1).min(n_features)
    }
}

/// The settings of one tree, validated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeParams {
    /// Split quality; must suit the task.
    pub criterion: Criterion,
    /// Deepest level (root = 0); `None` for unlimited.
    pub max_depth: Option<usize>,
    /// Fewest distinct rows a node needs to be split (>= 2).
    pub min_samples_split: usize,
    /// Fewest distinct rows a leaf keeps (>= 1).
    pub min_samples_leaf: usize,
    /// Features considered at each node.
    pub max_features: MaxFeatures,
    /// Smallest weighted impurity decrease a split must bring (>= 0).
    pub min_impurity_decrease: f64,
}

fn param_err(model: &'static str, name: &str, message: impl Into<String>) -> ModelError {
    ModelError::Param {
        model,
        name: name.to_string(),
        message: message.into(),
    }
}

impl TreeParams {
    /// scikit-learn's defaults for `task`, with `max_features` as given.
    pub fn defaults(task: Task, max_features: MaxFeatures) -> Self {
        TreeParams {
            criterion: match task {
                Task::Classification => Criterion::Gini,
                Task::Regression => Criterion::SquaredError,
            },
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features,
            min_impurity_decrease: 0.0,
        }
    }

    /// Read the tree parameters from a parameter map: `criterion`,
    /// `max_depth`, `min_samples_split`, `min_samples_leaf`, `max_features`
    /// (defaulting to `max_features_default`) and `min_impurity_decrease`.
    /// Other names are ignored. Errors name the parameter.
    pub(crate) fn from_reader(
        r: &Reader<'_>,
        task: Task,
        max_features_default: MaxFeatures,
    ) -> Result<Self, ModelError> {
        let mut p = TreeParams::defaults(task, max_features_default);
        if let Some(v) = r.value("criterion") {
            let name = v
                .as_str()
                .ok_or_else(|| param_err(r.model, "criterion", "expected a string"))?;
            p.criterion = match (name, task) {
                ("gini", Task::Classification) => Criterion::Gini,
                ("entropy" | "log_loss", Task::Classification) => Criterion::Entropy,
                ("squared_error", Task::Regression) => Criterion::SquaredError,
                ("gini" | "entropy" | "log_loss", Task::Regression) => {
                    return Err(param_err(
                        r.model,
                        "criterion",
                        format!("\"{name}\" is for classification; regression uses \"squared_error\""),
                    ))
                }
                ("squared_error", Task::Classification) => {
                    return Err(param_err(
                        r.model,
                        "criterion",
                        "\"squared_error\" is for regression; classification uses \"gini\" or \"entropy\"",
                    ))
                }
                _ => {
                    return Err(param_err(
                        r.model,
                        "criterion",
                        format!("unknown criterion \"{name}\""),
                    ))
                }
            };
        }
        p.max_depth = match r.value("max_depth") {
            None => None,
            Some(Value::Str(s)) if s == "none" => None,
            Some(v) => match v.as_i64() {
                Some(d) if d >= 1 => Some(usize::try_from(d).unwrap_or(usize::MAX)),
                _ => {
                    return Err(param_err(
                        r.model,
                        "max_depth",
                        format!("expected an integer >= 1 or \"none\", got {v}"),
                    ))
                }
            },
        };
        p.min_samples_split = r.usize("min_samples_split", 2)?;
        if p.min_samples_split < 2 {
            return Err(param_err(
                r.model,
                "min_samples_split",
                format!("must be at least 2 (got {})", p.min_samples_split),
            ));
        }
        p.min_samples_leaf = r.usize("min_samples_leaf", 1)?;
        if p.min_samples_leaf < 1 {
            return Err(param_err(
                r.model,
                "min_samples_leaf",
                "must be at least 1 (got 0)",
            ));
        }
        p.max_features = match r.value("max_features") {
            None => max_features_default,
            Some(v) => parse_max_features(r.model, v)?,
        };
        p.min_impurity_decrease = r.f64("min_impurity_decrease", 0.0)?;
        if !(p.min_impurity_decrease >= 0.0 && p.min_impurity_decrease.is_finite()) {
            return Err(param_err(
                r.model,
                "min_impurity_decrease",
                format!(
                    "must be a finite number >= 0 (got {})",
                    p.min_impurity_decrease
                ),
            ));
        }
        Ok(p)
    }
}

/// `max_features` as scikit-learn reads it: an integer is a count, a float a
/// fraction, or a word.
fn parse_max_features(model: &'static str, v: &Value) -> Result<MaxFeatures, ModelError> {
    match v {
        Value::Str(s) => match s.as_str() {
            "all" => Ok(MaxFeatures::All),
            "sqrt" => Ok(MaxFeatures::Sqrt),
            "log2" => Ok(MaxFeatures::Log2),
            other => Err(param_err(
                model,
                "max_features",
                format!("unknown value \"{other}\"; expected \"all\", \"sqrt\", \"log2\", a fraction or a count"),
            )),
        },
        Value::Int(i) if *i >= 1 => Ok(MaxFeatures::Count(
            usize::try_from(*i).unwrap_or(usize::MAX),
        )),
        Value::Float(f) if *f > 0.0 && *f <= 1.0 => Ok(MaxFeatures::Fraction(*f)),
        other => Err(param_err(
            model,
            "max_features",
            format!("expected an integer >= 1, a fraction in (0, 1] or a word, got {other}"),
        )),
    }
}

/// One node of a fitted tree. Nodes live in a `Vec`; the root is node 0
/// and every child's index is larger than its parent's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// Rows with `x[feature] <= threshold` go to `left`, the others
    /// (NaN included) to `right`.
    Split {
        /// Column index of the feature tested.
        feature: usize,
        /// The threshold, a midpoint between two training values.
        threshold: f64,
        /// Index of the left child.
        left: usize,
        /// Index of the right child.
        right: usize,
    },
    /// A leaf: class proportions (classification) or one mean (regression).
    Leaf {
        /// `n_outputs` numbers.
        value: Vec<f64>,
    },
}

/// A fitted CART tree. Serialisable into model artifacts; a deserialised
/// tree is checked (see [`DecisionTree::validate`]) before it exists, so
/// prediction can neither index out of bounds nor loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TreeWire")]
pub struct DecisionTree {
    task: Task,
    n_features: usize,
    n_outputs: usize,
    nodes: Vec<Node>,
}

/// The unchecked form a tree is read into.
#[derive(Deserialize)]
struct TreeWire {
    task: Task,
    n_features: usize,
    n_outputs: usize,
    nodes: Vec<Node>,
}

impl TryFrom<TreeWire> for DecisionTree {
    type Error = String;
    fn try_from(w: TreeWire) -> Result<Self, String> {
        let tree = DecisionTree {
            task: w.task,
            n_features: w.n_features,
            n_outputs: w.n_outputs,
            nodes: w.nodes,
        };
        tree.validate()?;
        Ok(tree)
    }
}

/// Training targets as the builder sees them.
#[derive(Clone, Copy)]
pub(crate) enum Labels<'a> {
    Classes { y: &'a [usize], n_classes: usize },
    Values(&'a [f64]),
}

impl<'a> Labels<'a> {
    pub(crate) fn from_targets(y: Targets<'a>) -> Self {
        match y {
            Targets::Classes { y, n_classes } => Labels::Classes { y, n_classes },
            Targets::Values(y) => Labels::Values(y),
        }
    }

    fn len(&self) -> usize {
        match self {
            Labels::Classes { y, .. } => y.len(),
            Labels::Values(y) => y.len(),
        }
    }
}

impl DecisionTree {
    /// Fit a classification tree. `y` holds class indices below
    /// `n_classes`; `params.criterion` must be gini or entropy. The seed
    /// only matters when `max_features` is below the number of features.
    pub fn fit_classifier(
        x: ArrayView2<'_, f64>,
        y: &[usize],
        n_classes: usize,
        params: &TreeParams,
        seed: u64,
    ) -> Result<DecisionTree, ModelError> {
        let labels = Labels::Classes { y, n_classes };
        let sorted = Sorted::new(MODEL, x, labels)?;
        let weight = vec![1; x.nrows()];
        grow(MODEL, &sorted, labels, &weight, params, seed)
    }

    /// Fit a regression tree (criterion squared_error).
    pub fn fit_regressor(
        x: ArrayView2<'_, f64>,
        y: &[f64],
        params: &TreeParams,
        seed: u64,
    ) -> Result<DecisionTree, ModelError> {
        let labels = Labels::Values(y);
        let sorted = Sorted::new(MODEL, x, labels)?;
        let weight = vec![1; x.nrows()];
        grow(MODEL, &sorted, labels, &weight, params, seed)
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        self.task
    }

    /// The number of feature columns the tree was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Numbers in a leaf: the class count, or 1 for regression.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// The nodes; the root is `nodes()[0]`.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count()
    }

    /// The depth: 0 for a single leaf.
    pub fn depth(&self) -> usize {
        // Children have larger indices than parents, so one forward pass
        // sees every parent before its children.
        let mut depth = vec![0usize; self.nodes.len()];
        let mut max = 0;
        for (i, node) in self.nodes.iter().enumerate() {
            if let Node::Split { left, right, .. } = node {
                depth[*left] = depth[i] + 1;
                depth[*right] = depth[i] + 1;
                max = max.max(depth[i] + 1);
            }
        }
        max
    }

    /// Check the structure: a root, children after their parents and in
    /// range, features below `n_features`, finite thresholds, leaves of
    /// `n_outputs` finite numbers, the right output count for the task.
    pub fn validate(&self) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("a tree needs at least one node".into());
        }
        if self.n_outputs == 0 || (self.task == Task::Regression && self.n_outputs != 1) {
            return Err(format!(
                "{} output(s) do not fit a {} tree",
                self.n_outputs,
                self.task.name()
            ));
        }
        let n = self.nodes.len();
        for (i, node) in self.nodes.iter().enumerate() {
            match node {
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    if *feature >= self.n_features {
                        return Err(format!("node {i}: feature {feature} out of range"));
                    }
                    if !threshold.is_finite() {
                        return Err(format!("node {i}: threshold is not finite"));
                    }
                    if *left <= i || *right <= i || *left >= n || *right >= n || left == right {
                        return Err(format!("node {i}: bad children {left}, {right}"));
                    }
                }
                Node::Leaf { value } => {
                    if value.len() != self.n_outputs || value.iter().any(|v| !v.is_finite()) {
                        return Err(format!(
                            "node {i}: leaf needs {} finite numbers",
                            self.n_outputs
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn check_width(&self, x: &ArrayView2<'_, f64>) -> Result<(), ModelError> {
        check_width(MODEL, self.n_features, x)
    }

    /// Class indices and probabilities (the training class proportions in
    /// each row's leaf), or values. Errors when `x` does not have the
    /// training width.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        self.check_width(&x)?;
        Ok(match self.task {
            Task::Classification => {
                let proba = self.proba_unchecked(x);
                Prediction::Classes {
                    labels: argmax_rows(&proba),
                    proba: Some(proba),
                }
            }
            Task::Regression => Prediction::Values(self.values_unchecked(x)),
        })
    }

    /// The leaf a row falls into. A feature missing from a short row reads
    /// as NaN (goes right); a valid tree cannot index out of bounds or loop.
    pub(crate) fn leaf(&self, row: ArrayView1<'_, f64>) -> (usize, &[f64]) {
        let mut i = 0;
        loop {
            match self.nodes.get(i) {
                Some(Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                }) => {
                    let v = row.get(*feature).copied().unwrap_or(f64::NAN);
                    i = if v <= *threshold { *left } else { *right };
                }
                Some(Node::Leaf { value }) => return (i, value),
                None => return (i, &[]),
            }
        }
    }

    /// The index of the leaf each row falls into (scikit-learn's `apply`).
    pub fn apply(&self, x: ArrayView2<'_, f64>) -> Result<Vec<usize>, ModelError> {
        self.check_width(&x)?;
        Ok(x.rows().into_iter().map(|r| self.leaf(r).0).collect())
    }

    /// Class probabilities, rows × classes: the training class proportions
    /// in each row's leaf. Errors for a regression tree or a wrong width.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, ModelError> {
        self.check_width(&x)?;
        if self.task != Task::Classification {
            return Err(ModelError::Fit {
                model: MODEL,
                message: "a regression tree has no class probabilities".into(),
            });
        }
        Ok(self.proba_unchecked(x))
    }

    /// Predicted values (regression) or class indices as numbers
    /// (classification). Errors for a wrong width.
    pub fn predict_values(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, ModelError> {
        self.check_width(&x)?;
        Ok(match self.task {
            Task::Regression => self.values_unchecked(x),
            Task::Classification => argmax_rows(&self.proba_unchecked(x))
                .into_iter()
                .map(|k| k as f64)
                .collect(),
        })
    }

    pub(crate) fn proba_unchecked(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut out = Array2::zeros((x.nrows(), self.n_outputs));
        for (row, mut dst) in x.rows().into_iter().zip(out.rows_mut()) {
            for (d, v) in dst.iter_mut().zip(self.leaf(row).1) {
                *d = *v;
            }
        }
        out
    }

    pub(crate) fn values_unchecked(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|row| self.leaf(row).1.first().copied().unwrap_or(f64::NAN))
            .collect()
    }
}

/// The most probable class of each row; the lowest index on ties.
pub(crate) fn argmax_rows(proba: &Array2<f64>) -> Vec<usize> {
    proba
        .rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (k, p) in row.iter().enumerate() {
                // Strict `>`: an equal probability later never wins.
                if *p > row[best] {
                    best = k;
                }
            }
            best
        })
        .collect()
}

/// A uniform integer in `0..n` (`n >= 1`) by Lemire's multiply-and-reject.
/// Written here rather than taken from `rand`, so that the draws depend on
/// the generator's output alone, not on a `rand` version's sampling code.
pub(crate) fn below(rng: &mut Xoshiro256PlusPlus, n: usize) -> usize {
    let n = n as u64;
    let reject_below = n.wrapping_neg() % n; // 2^64 mod n
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= reject_below {
            return (m >> 64) as usize;
        }
    }
}

/// The training features, checked and copied column by column, with each
/// feature's rows sorted by (value, row index). Built once per training set
/// and shared by every tree of a forest.
pub(crate) struct Sorted {
    n_rows: usize,
    n_features: usize,
    /// `cols[f * n_rows + r]`.
    cols: Vec<f64>,
    /// `order[f * n_rows ..][..n_rows]`: rows sorted by feature `f`.
    order: Vec<u32>,
    /// `rank[f * n_rows + r]`: the position of row `r` in feature `f`'s
    /// order (the inverse of `order`).
    rank: Vec<u32>,
    /// `svals[f * n_rows + i]`: feature `f`'s value of row
    /// `order[f * n_rows + i]` (its values in sorted order).
    svals: Vec<f64>,
}

impl Sorted {
    /// Check the inputs (non-empty, finite, targets matching) and sort.
    pub(crate) fn new(
        model: &'static str,
        x: ArrayView2<'_, f64>,
        labels: Labels<'_>,
    ) -> Result<Self, ModelError> {
        let fail = |message: String| ModelError::Fit { model, message };
        let (n, d) = x.dim();
        if n == 0 {
            return Err(fail("no training rows".into()));
        }
        if u32::try_from(n).is_err() {
            return Err(fail(format!("{n} rows is more than a tree handles")));
        }
        if labels.len() != n {
            return Err(fail(format!("{n} rows but {} targets", labels.len())));
        }
        match labels {
            Labels::Classes { y, n_classes } => {
                if let Some((i, c)) = y.iter().enumerate().find(|(_, c)| **c >= n_classes) {
                    return Err(fail(format!(
                        "row {i}: class {c} is not below the class count {n_classes}"
                    )));
                }
            }
            Labels::Values(y) => {
                if let Some(i) = y.iter().position(|v| !v.is_finite()) {
                    return Err(fail(format!("row {i}: target is not a finite number")));
                }
            }
        }
        let mut cols = Vec::with_capacity(n * d);
        for (f, col) in x.columns().into_iter().enumerate() {
            for (r, v) in col.iter().enumerate() {
                if !v.is_finite() {
                    return Err(fail(format!(
                        "row {r}, feature {f}: value {v} is not finite (impute missing values first)"
                    )));
                }
                // `+ 0.0` turns -0.0 into 0.0, so that `total_cmp` below
                // agrees with `==` on every pair of values.
                cols.push(v + 0.0);
            }
        }
        let mut order = Vec::with_capacity(n * d);
        let mut keys = Vec::with_capacity(n);
        let mut idx = Vec::with_capacity(n);
        let mut tmp = Vec::with_capacity(n);
        let mut rank = vec![0; n * d];
        let mut svals = Vec::with_capacity(n * d);
        for f in 0..d {
            let col = &cols[f * n..(f + 1) * n];
            keys.clear();
            keys.extend(col.iter().map(|v| order_key(*v)));
            sort_rows(&keys, &mut idx, &mut tmp);
            order.extend_from_slice(&idx);
            for (i, r) in idx.iter().enumerate() {
                // `i < n`, which fits in u32 (checked above).
                rank[f * n + *r as usize] = i as u32;
                svals.push(col[*r as usize]);
            }
        }
        Ok(Sorted {
            n_rows: n,
            n_features: d,
            cols,
            order,
            rank,
            svals,
        })
    }
}

/// An unsigned integer ordered as the float `v` is (for non-NaN values):
/// negative numbers have all bits flipped, the others only the sign bit.
fn order_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Fill `idx` with the rows `0..keys.len()` sorted by (`keys[row]`, row).
/// That order is unique, so both methods below give the same result; which
/// one runs only decides the speed (measured here: the comparison sort is
/// faster up to several hundred rows, the radix sort twice as fast at 1797).
fn sort_rows(keys: &[u64], idx: &mut Vec<u32>, tmp: &mut Vec<u32>) {
    if keys.len() >= 1024 {
        radix_sort_rows(keys, idx, tmp);
    } else {
        // (key, row) packed into one integer: unique, so an unstable sort
        // is exact.
        let mut packed: Vec<u128> = keys
            .iter()
            .enumerate()
            .map(|(r, k)| (u128::from(*k) << 32) | r as u128)
            .collect();
        packed.sort_unstable();
        idx.clear();
        idx.extend(packed.iter().map(|p| *p as u32));
    }
}

/// A least-significant-digit radix sort over the 8 bytes of the keys. It is
/// stable, so equal keys keep their row order; a byte that is the same in
/// every key (often the sign and exponent) is skipped.
fn radix_sort_rows(keys: &[u64], idx: &mut Vec<u32>, tmp: &mut Vec<u32>) {
    let n = keys.len();
    idx.clear();
    idx.extend(0..n as u32);
    tmp.clear();
    tmp.resize(n, 0);
    let mut hist = [[0u32; 256]; 8];
    for k in keys {
        for (b, h) in hist.iter_mut().enumerate() {
            h[((k >> (8 * b)) & 0xFF) as usize] += 1;
        }
    }
    for (b, h) in hist.iter().enumerate() {
        let shift = 8 * b;
        if n == 0 || h[((keys[0] >> shift) & 0xFF) as usize] as usize == n {
            continue;
        }
        let mut next = [0u32; 256];
        let mut total = 0;
        for (o, c) in next.iter_mut().zip(h) {
            *o = total;
            total += c;
        }
        for &r in idx.iter() {
            let digit = ((keys[r as usize] >> shift) & 0xFF) as usize;
            tmp[next[digit] as usize] = r;
            next[digit] += 1;
        }
        std::mem::swap(idx, tmp);
    }
}

/// What the split search needs to know about a node.
struct NodeStats {
    /// Distinct rows.
    n: usize,
    /// Total weight (bootstrap multiplicities).
    w: u64,
    /// Weighted class counts (classification).
    counts: Vec<u64>,
    /// Σ counts² (gini), exact.
    sq: u64,
    /// Σ w·y in the node's row order (regression).
    sum: f64,
    /// The criterion's proxy for the node before splitting.
    proxy: f64,
    /// All rows of one class / one target value.
    pure: bool,
}

/// The best split found so far.
#[derive(Clone, Copy)]
struct Best {
    feature: usize,
    /// Rows going left (in the feature's order).
    n_left: usize,
    proxy: f64,
}

impl Best {
    /// The tie rule: larger proxy wins; on an exact tie the lower feature.
    /// Within a feature thresholds come in increasing order and an equal
    /// proxy never replaces, so the lowest threshold wins.
    fn offer(best: &mut Option<Best>, candidate: Best) {
        let better = match best {
            None => true,
            Some(b) => {
                candidate.proxy > b.proxy
                    || (candidate.proxy == b.proxy && candidate.feature < b.feature)
            }
        };
        if better {
            *best = Some(candidate);
        }
    }
}

/// Make node `p` a split on feature `f` at `threshold` with two leaf
/// children (filled when they are grown), rows `p.start..mid` going left,
/// and queue both: the right first, so the left is grown first. One place
/// for both layouts, which must grow the same trees.
#[allow(clippy::too_many_arguments)]
fn split_node(
    nodes: &mut Vec<Node>,
    stack: &mut Vec<Pending>,
    p: &Pending,
    f: usize,
    threshold: f64,
    mid: usize,
    only: Option<usize>,
) {
    let left = nodes.len();
    let right = left + 1;
    nodes.push(Node::Leaf { value: Vec::new() });
    nodes.push(Node::Leaf { value: Vec::new() });
    nodes[p.node] = Node::Split {
        feature: f,
        threshold,
        left,
        right,
    };
    stack.push(Pending {
        node: right,
        start: mid,
        end: p.end,
        depth: p.depth + 1,
        only,
    });
    stack.push(Pending {
        node: left,
        start: p.start,
        end: mid,
        depth: p.depth + 1,
        only,
    });
}

/// Work waiting on the stack: a node and the range of its rows.
struct Pending {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    /// `Some(f)`: the node's rows are held in feature `f`'s order only
    /// (the other orders were not partitioned for it), and the node is a
    /// leaf by construction (see [`Builder::run`]).
    only: Option<usize>,
}

/// What the split search reads besides a node's rows: the targets, the
/// weights and the settings. Both builders ([`Builder`] and [`PerNode`])
/// compute every node statistic and scan every candidate split through
/// it, so they differ only in how they get a node's rows in order.
struct Kernel<'a> {
    labels: Labels<'a>,
    weight: &'a [u32],
    criterion: Criterion,
    min_leaf: usize,
    /// `xlogx[c] = c·log2(c)`, for entropy.
    xlogx: Vec<f64>,
    left_counts: Vec<u64>,
    right_counts: Vec<u64>,
}

impl Kernel<'_> {
    /// The statistics of the node whose rows are `seg`; the regression sum
    /// runs in `seg`'s order.
    fn stats(&self, seg: &[u32]) -> NodeStats {
        let mut s = NodeStats {
            n: seg.len(),
            w: 0,
            counts: Vec::new(),
            sq: 0,
            sum: 0.0,
            proxy: 0.0,
            pure: true,
        };
        match self.labels {
            Labels::Classes { y, n_classes } => {
                s.counts = vec![0; n_classes];
                for &r in seg {
                    let w = u64::from(self.weight[r as usize]);
                    s.counts[y[r as usize]] += w;
                    s.w += w;
                }
                s.pure = s.counts.iter().filter(|c| **c > 0).count() <= 1;
                s.sq = s.counts.iter().map(|c| c * c).sum();
                s.proxy = match self.criterion {
                    Criterion::Entropy => self.sum_xlogx(&s.counts) - self.xlogx[s.w as usize],
                    _ => s.sq as f64 / s.w as f64,
                };
            }
            Labels::Values(y) => {
                let first = y[seg[0] as usize];
                for &r in seg {
                    let w = u64::from(self.weight[r as usize]);
                    let v = y[r as usize];
                    s.sum += w as f64 * v;
                    s.w += w;
                    s.pure &= v == first;
                }
                s.proxy = s.sum * s.sum / s.w as f64;
            }
        }
        s
    }

    /// Σ_k c_k·log2(c_k), in class index order.
    fn sum_xlogx(&self, counts: &[u64]) -> f64 {
        counts.iter().map(|c| self.xlogx[*c as usize]).sum()
    }

    fn leaf_value(&self, s: &NodeStats) -> Vec<f64> {
        match self.labels {
            Labels::Classes { .. } => s.counts.iter().map(|c| *c as f64 / s.w as f64).collect(),
            Labels::Values(_) => vec![s.sum / s.w as f64],
        }
    }

    /// Try every threshold of feature `f` in a node whose rows, sorted by
    /// (value of `f`, row), are `seg`, with those values in `vals`.
    fn scan(
        &mut self,
        f: usize,
        seg: &[u32],
        vals: &[f64],
        stats: &NodeStats,
        best: &mut Option<Best>,
    ) {
        // A constant feature has no threshold.
        if vals[0] == vals[vals.len() - 1] {
            return;
        }
        match (self.criterion, self.labels) {
            (Criterion::Gini, Labels::Classes { y, .. }) => {
                self.scan_gini(f, seg, vals, stats, y, best)
            }
            (Criterion::Entropy, Labels::Classes { y, .. }) => {
                self.scan_entropy(f, seg, vals, stats, y, best)
            }
            (_, Labels::Values(y)) => self.scan_squared(f, seg, vals, stats, y, best),
            // `grow` rejects a criterion that does not suit the task.
            (Criterion::SquaredError, Labels::Classes { .. }) => {}
        }
    }

    fn scan_gini(
        &mut self,
        f: usize,
        seg: &[u32],
        vals: &[f64],
        stats: &NodeStats,
        y: &[usize],
        best: &mut Option<Best>,
    ) {
        let (weight, min_leaf, len) = (self.weight, self.min_leaf, seg.len());
        let left = &mut self.left_counts;
        let right = &mut self.right_counts;
        left.iter_mut().for_each(|c| *c = 0);
        right.copy_from_slice(&stats.counts);
        let (mut sq_l, mut sq_r) = (0u64, stats.sq);
        let (mut w_l, mut w_r) = (0u64, stats.w);
        for (i, (&r, pair)) in seg.iter().zip(vals.windows(2)).enumerate() {
            let r = r as usize;
            let c = y[r];
            let w = u64::from(weight[r]);
            // (c + w)² - c² and c² - (c - w)², in exact integers.
            sq_l += w * (2 * left[c] + w);
            sq_r -= w * (2 * right[c] - w);
            left[c] += w;
            right[c] -= w;
            w_l += w;
            w_r -= w;
            let n_left = i + 1;
            if n_left < min_leaf || pair[1] <= pair[0] {
                continue;
            }
            if len - n_left < min_leaf {
                break;
            }
            let proxy = sq_l as f64 / w_l as f64 + sq_r as f64 / w_r as f64;
            Best::offer(
                best,
                Best {
                    feature: f,
                    n_left,
                    proxy,
                },
            );
        }
    }

    fn scan_entropy(
        &mut self,
        f: usize,
        seg: &[u32],
        vals: &[f64],
        stats: &NodeStats,
        y: &[usize],
        best: &mut Option<Best>,
    ) {
        let (weight, min_leaf, len) = (self.weight, self.min_leaf, seg.len());
        let xlogx = &self.xlogx;
        let left = &mut self.left_counts;
        let right = &mut self.right_counts;
        left.iter_mut().for_each(|c| *c = 0);
        right.copy_from_slice(&stats.counts);
        let (mut w_l, mut w_r) = (0u64, stats.w);
        for (i, (&r, pair)) in seg.iter().zip(vals.windows(2)).enumerate() {
            let r = r as usize;
            let c = y[r];
            let w = u64::from(weight[r]);
            left[c] += w;
            right[c] -= w;
            w_l += w;
            w_r -= w;
            let n_left = i + 1;
            if n_left < min_leaf || pair[1] <= pair[0] {
                continue;
            }
            if len - n_left < min_leaf {
                break;
            }
            // -(W_L·H_L + W_R·H_R), each Σ in class index order.
            let sum_l: f64 = left.iter().map(|c| xlogx[*c as usize]).sum();
            let sum_r: f64 = right.iter().map(|c| xlogx[*c as usize]).sum();
            let proxy = (sum_l - xlogx[w_l as usize]) + (sum_r - xlogx[w_r as usize]);
            Best::offer(
                best,
                Best {
                    feature: f,
                    n_left,
                    proxy,
                },
            );
        }
    }

    fn scan_squared(
        &self,
        f: usize,
        seg: &[u32],
        vals: &[f64],
        stats: &NodeStats,
        y: &[f64],
        best: &mut Option<Best>,
    ) {
        let (weight, min_leaf, len) = (self.weight, self.min_leaf, seg.len());
        let (mut s_l, mut w_l) = (0.0f64, 0u64);
        for (i, (&r, pair)) in seg.iter().zip(vals.windows(2)).enumerate() {
            let r = r as usize;
            let w = u64::from(weight[r]);
            s_l += w as f64 * y[r];
            w_l += w;
            let n_left = i + 1;
            if n_left < min_leaf || pair[1] <= pair[0] {
                continue;
            }
            if len - n_left < min_leaf {
                break;
            }
            let s_r = stats.sum - s_l;
            let w_r = stats.w - w_l;
            // Σ_child S²/W: the squared-error decrease up to constants.
            let proxy = s_l * s_l / w_l as f64 + s_r * s_r / w_r as f64;
            Best::offer(
                best,
                Best {
                    feature: f,
                    n_left,
                    proxy,
                },
            );
        }
    }
}

/// The settings the builders' main loop reads.
struct Limits {
    max_depth: usize,
    min_split: usize,
    min_leaf: usize,
    min_decrease: f64,
    k_features: usize,
    total_weight: f64,
}

impl Limits {
    /// Whether a node of `n` distinct rows at `depth` may be split at all.
    fn may_split(&self, depth: usize, n: usize) -> bool {
        depth < self.max_depth && n >= self.min_split && n >= 2 * self.min_leaf
    }

    /// scikit-learn's `min_impurity_decrease` rule, including its EPSILON
    /// slack.
    fn enough(&self, best: &Best, stats: &NodeStats) -> bool {
        let decrease = (best.proxy - stats.proxy) / self.total_weight;
        decrease + f64::EPSILON >= self.min_decrease
    }
}

/// How a tree's nodes get their rows in each feature's order. Both give
/// the same tree, bit for bit: a node's rows sorted by (value, row) are one
/// sequence however they are produced, and everything else (feature
/// draws, statistics, scans, ties) is shared code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// [`Builder`]: every feature's sorted order is copied per tree and
    /// partitioned at every split. Work per node ∝ all features; the
    /// plain version, and the faster one when most features are scanned.
    Partition,
    /// [`PerNode`]: one row order is partitioned per split, and each
    /// scanned feature's order is rebuilt for the node from its global
    /// ranks. Work per node ∝ the features drawn (scikit-learn's
    /// BestSplitter sorts per node too).
    PerNode,
}

impl Layout {
    /// The faster layout for `k` of `d` features scanned per node.
    fn choose(k: usize, d: usize) -> Layout {
        // Measured on 16,000 × 20 and × 30 rows: a per-node order costs
        // about as much as partitioning three features, so rebuild only the
        // scanned orders when they are under a third of all.
        if d >= 2 && 3 * k <= d {
            Layout::PerNode
        } else {
            Layout::Partition
        }
    }
}

struct Builder<'a> {
    sorted: &'a Sorted,
    kernel: Kernel<'a>,
    limits: Limits,
    /// Rows with positive weight.
    m: usize,
    /// Per feature, the node segments of its sorted rows: `order[f * m ..]`.
    order: Vec<u32>,
    /// The feature values of `order`'s rows, moved with them, so that the
    /// split search reads memory in sequence.
    vals: Vec<f64>,
    goes_left: Vec<bool>,
    scratch: Vec<u32>,
    scratch_vals: Vec<f64>,
    features: Vec<usize>,
    rng: Xoshiro256PlusPlus,
}

/// Grow a tree on the rows of `sorted` with positive `weight` (a bootstrap
/// multiplicity; 1 for every row in a plain tree).
pub(crate) fn grow(
    model: &'static str,
    sorted: &Sorted,
    labels: Labels<'_>,
    weight: &[u32],
    params: &TreeParams,
    seed: u64,
) -> Result<DecisionTree, ModelError> {
    grow_with(model, sorted, labels, weight, params, seed, None)
}

/// [`grow`] with the layout chosen by the caller (`None`: the faster one
/// for these parameters). The tree is the same for every layout.
fn grow_with(
    model: &'static str,
    sorted: &Sorted,
    labels: Labels<'_>,
    weight: &[u32],
    params: &TreeParams,
    seed: u64,
    layout: Option<Layout>,
) -> Result<DecisionTree, ModelError> {
    let (task, n_outputs) = match labels {
        Labels::Classes { n_classes, .. } => (Task::Classification, n_classes),
        Labels::Values(_) => (Task::Regression, 1),
    };
    let suits = matches!(
        (params.criterion, task),
        (Criterion::Gini | Criterion::Entropy, Task::Classification)
            | (Criterion::SquaredError, Task::Regression)
    );
    if !suits {
        return Err(param_err(
            model,
            "criterion",
            format!("{:?} does not suit {}", params.criterion, task.name()),
        ));
    }
    if params.min_samples_split < 2 || params.min_samples_leaf < 1 {
        return Err(param_err(
            model,
            "min_samples_split",
            "min_samples_split must be >= 2 and min_samples_leaf >= 1",
        ));
    }
    if params.min_impurity_decrease.is_nan() || params.min_impurity_decrease < 0.0 {
        return Err(param_err(model, "min_impurity_decrease", "must be >= 0"));
    }
    let n = sorted.n_rows;
    let d = sorted.n_features;
    if weight.len() != n {
        return Err(ModelError::Fit {
            model,
            message: format!("{} weights for {n} rows", weight.len()),
        });
    }
    let m = weight.iter().filter(|w| **w > 0).count();
    if m == 0 {
        return Err(ModelError::Fit {
            model,
            message: "no row with positive weight".into(),
        });
    }
    let total: u64 = weight.iter().map(|w| u64::from(*w)).sum();
    let xlogx = if params.criterion == Criterion::Entropy {
        (0..=total)
            .map(|c| {
                if c == 0 {
                    0.0
                } else {
                    c as f64 * (c as f64).log2()
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let kernel = Kernel {
        labels,
        weight,
        criterion: params.criterion,
        min_leaf: params.min_samples_leaf,
        xlogx,
        left_counts: vec![0; n_outputs],
        right_counts: vec![0; n_outputs],
    };
    let k_features = params.max_features.resolve(d);
    let limits = Limits {
        max_depth: params.max_depth.unwrap_or(usize::MAX),
        min_split: params.min_samples_split,
        min_leaf: params.min_samples_leaf,
        min_decrease: params.min_impurity_decrease,
        k_features,
        total_weight: total as f64,
    };
    let rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let layout = match layout {
        // `PerNode` keeps its rows in feature 0's order: it needs one.
        _ if d == 0 => Layout::Partition,
        Some(l) => l,
        None => Layout::choose(k_features, d),
    };
    let nodes = match layout {
        Layout::Partition => {
            // Keep each feature's sorted order, dropping rows left out of
            // the sample.
            let mut order = Vec::with_capacity(m * d);
            let mut vals = Vec::with_capacity(m * d);
            for f in 0..d {
                for &r in &sorted.order[f * n..(f + 1) * n] {
                    if weight[r as usize] > 0 {
                        order.push(r);
                        vals.push(sorted.cols[f * n + r as usize]);
                    }
                }
            }
            Builder {
                sorted,
                kernel,
                limits,
                m,
                order,
                vals,
                goes_left: vec![false; n],
                scratch: vec![0; m],
                scratch_vals: vec![0.0; m],
                features: (0..d).collect(),
                rng,
            }
            .run()
        }
        Layout::PerNode => {
            let rows: Vec<u32> = sorted.order[..n]
                .iter()
                .copied()
                .filter(|r| weight[*r as usize] > 0)
                .collect();
            PerNode {
                sorted,
                kernel,
                limits,
                rows,
                goes_left: vec![false; n],
                scratch: vec![0; m],
                keys: Vec::with_capacity(m),
                bits: vec![0; n.div_ceil(64)],
                cur: (Vec::with_capacity(m), Vec::with_capacity(m)),
                best: (Vec::with_capacity(m), Vec::with_capacity(m)),
                features: (0..d).collect(),
                rng,
            }
            .run()
        }
    };
    Ok(DecisionTree {
        task,
        n_features: d,
        n_outputs,
        nodes,
    })
}

/// The features a node scans, in scan order, for either builder: all of
/// them in index order, or (when `max_features` is below the count) a
/// partial Fisher-Yates draw that skips constant features without counting
/// them, as scikit-learn does. `visit(f)` scans feature `f` and says
/// whether it was constant in the node.
fn draw_features(
    k_features: usize,
    features: &mut [usize],
    rng: &mut Xoshiro256PlusPlus,
    mut visit: impl FnMut(usize) -> bool,
) {
    let d = features.len();
    if k_features >= d {
        for f in 0..d {
            visit(f);
        }
        return;
    }
    for (i, f) in (0..d).enumerate() {
        features[i] = f;
    }
    let mut visited = 0;
    for i in 0..d {
        if visited == k_features {
            break;
        }
        let j = i + below(rng, d - i);
        features.swap(i, j);
        if visit(features[i]) {
            visited += 1;
        }
    }
}

impl Builder<'_> {
    /// Grow depth-first, left child first (this order decides which node
    /// gets which random feature draws); an explicit stack, so deep trees
    /// cannot overflow the call stack.
    fn run(&mut self) -> Vec<Node> {
        let mut nodes = vec![Node::Leaf { value: Vec::new() }];
        let mut stack = vec![Pending {
            node: 0,
            start: 0,
            end: self.m,
            depth: 0,
            only: None,
        }];
        while let Some(p) = stack.pop() {
            let f0 = p.only.unwrap_or(0);
            let stats = self.kernel.stats(self.segment(f0, p.start, p.end));
            let can_split = p.only.is_none()
                && self.limits.may_split(p.depth, stats.n)
                && !stats.pure
                && self.sorted.n_features > 0;
            let split = if can_split {
                self.best_split(p.start, p.end, &stats)
            } else {
                None
            };
            let Some(best) = split.filter(|b| self.limits.enough(b, &stats)) else {
                nodes[p.node] = Node::Leaf {
                    value: self.kernel.leaf_value(&stats),
                };
                continue;
            };
            let f = best.feature;
            let mid = p.start + best.n_left;
            let vals = &self.vals[f * self.m + p.start..f * self.m + p.end];
            let threshold = midpoint(vals[best.n_left - 1], vals[best.n_left]);
            // Children that will be leaves whatever their rows need only one
            // valid order (this split feature's) to compute their values;
            // skip partitioning the other features then.
            let n_right = stats.n - best.n_left;
            let leaf_sized = |k: usize| !self.limits.may_split(p.depth + 1, k);
            let only = if leaf_sized(best.n_left) && leaf_sized(n_right) {
                Some(f)
            } else {
                self.partition(f, p.start, mid, p.end);
                None
            };
            split_node(&mut nodes, &mut stack, &p, f, threshold, mid, only);
        }
        nodes
    }

    fn segment(&self, f: usize, start: usize, end: usize) -> &[u32] {
        &self.order[f * self.m + start..f * self.m + end]
    }

    fn best_split(&mut self, start: usize, end: usize, stats: &NodeStats) -> Option<Best> {
        let mut best = None;
        let m = self.m;
        let mut features = std::mem::take(&mut self.features);
        let mut rng = self.rng.clone();
        draw_features(self.limits.k_features, &mut features, &mut rng, |f| {
            let at = f * m;
            if self.vals[at + start] == self.vals[at + end - 1] {
                // Constant in the node.
                return false;
            }
            self.kernel.scan(
                f,
                &self.order[at + start..at + end],
                &self.vals[at + start..at + end],
                stats,
                &mut best,
            );
            true
        });
        self.features = features;
        self.rng = rng;
        best
    }

    /// Stable partition of every other feature's segment into the rows of
    /// the left child (first `mid - start` of feature `f`'s segment) then
    /// the right child, each keeping its sorted order.
    fn partition(&mut self, f: usize, start: usize, mid: usize, end: usize) {
        let m = self.m;
        for &r in &self.order[f * m + start..f * m + mid] {
            self.goes_left[r as usize] = true;
        }
        for &r in &self.order[f * m + mid..f * m + end] {
            self.goes_left[r as usize] = false;
        }
        for g in 0..self.sorted.n_features {
            if g == f {
                continue;
            }
            let seg = &mut self.order[g * m + start..g * m + end];
            let vals = &mut self.vals[g * m + start..g * m + end];
            let mut n_left = 0;
            let mut n_right = 0;
            for i in 0..seg.len() {
                let (r, v) = (seg[i], vals[i]);
                if self.goes_left[r as usize] {
                    seg[n_left] = r;
                    vals[n_left] = v;
                    n_left += 1;
                } else {
                    self.scratch[n_right] = r;
                    self.scratch_vals[n_right] = v;
                    n_right += 1;
                }
            }
            seg[n_left..].copy_from_slice(&self.scratch[..n_right]);
            vals[n_left..].copy_from_slice(&self.scratch_vals[..n_right]);
        }
    }
}

/// The builder of [`Layout::PerNode`]: it keeps one row order, and sorts a
/// node's rows by a feature only when that feature is scanned there, so a
/// node costs work in proportion to the features drawn, not to all of
/// them, and a tree copies no feature's order.
///
/// Why it grows the same tree as [`Builder`]: the sorted rows a scan reads
/// are the node's rows in (value, row) order, which is one sequence
/// whichever way it is made; `rows` holds each node's rows in the order
/// `Builder` sums a node's statistics in (feature 0's, or for a node made
/// a leaf by construction, its parent's split feature's); the features are
/// drawn by the same code from the same generator, in the same node order.
struct PerNode<'a> {
    sorted: &'a Sorted,
    kernel: Kernel<'a>,
    limits: Limits,
    /// The rows of every node's segment `start..end`, in feature 0's order
    /// (rows sorted by (value, row), stably partitioned at each split), or
    /// for a node marked `only`, in that feature's order.
    rows: Vec<u32>,
    goes_left: Vec<bool>,
    scratch: Vec<u32>,
    /// Ranks of the node's rows in the feature being loaded.
    keys: Vec<u32>,
    /// One bit per rank, all zero between uses.
    bits: Vec<u64>,
    /// The node's rows sorted by the feature being scanned, and their
    /// values.
    cur: (Vec<u32>, Vec<f64>),
    /// The same for the feature of the best split so far.
    best: (Vec<u32>, Vec<f64>),
    features: Vec<usize>,
    rng: Xoshiro256PlusPlus,
}

impl PerNode<'_> {
    /// The loop of [`Builder::run`], reading rows from `rows`.
    fn run(&mut self) -> Vec<Node> {
        let mut nodes = vec![Node::Leaf { value: Vec::new() }];
        let mut stack = vec![Pending {
            node: 0,
            start: 0,
            end: self.rows.len(),
            depth: 0,
            only: None,
        }];
        while let Some(p) = stack.pop() {
            let stats = self.kernel.stats(&self.rows[p.start..p.end]);
            let can_split =
                p.only.is_none() && self.limits.may_split(p.depth, stats.n) && !stats.pure;
            let split = if can_split {
                self.best_split(p.start, p.end, &stats)
            } else {
                None
            };
            let Some(best) = split.filter(|b| self.limits.enough(b, &stats)) else {
                nodes[p.node] = Node::Leaf {
                    value: self.kernel.leaf_value(&stats),
                };
                continue;
            };
            let f = best.feature;
            let mid = p.start + best.n_left;
            let (sorted_rows, vals) = (&self.best.0, &self.best.1);
            let threshold = midpoint(vals[best.n_left - 1], vals[best.n_left]);
            let n_right = stats.n - best.n_left;
            let leaf_sized = |k: usize| !self.limits.may_split(p.depth + 1, k);
            let only = if leaf_sized(best.n_left) && leaf_sized(n_right) {
                // Both children are leaves: their statistics are summed in
                // the split feature's order, as `Builder` sums them.
                self.rows[p.start..p.end].copy_from_slice(sorted_rows);
                Some(f)
            } else {
                self.partition(f, best.n_left, p.start, p.end);
                None
            };
            split_node(&mut nodes, &mut stack, &p, f, threshold, mid, only);
        }
        nodes
    }

    fn best_split(&mut self, start: usize, end: usize, stats: &NodeStats) -> Option<Best> {
        let mut best = None;
        let mut features = std::mem::take(&mut self.features);
        let mut rng = self.rng.clone();
        draw_features(self.limits.k_features, &mut features, &mut rng, |f| {
            if !self.load(f, start, end) {
                return false;
            }
            let (rows, vals) = (&self.cur.0, &self.cur.1);
            self.kernel.scan(f, rows, vals, stats, &mut best);
            // Only this scan can have made `f` the best feature.
            if best.is_some_and(|b: Best| b.feature == f) {
                std::mem::swap(&mut self.cur, &mut self.best);
            }
            true
        });
        self.features = features;
        self.rng = rng;
        best
    }

    /// Put the rows of the node `start..end`, sorted by (value of `f`,
    /// row), and their values in `cur`; false when `f` is constant there
    /// (then `cur` is left as it is).
    fn load(&mut self, f: usize, start: usize, end: usize) -> bool {
        let sorted = self.sorted;
        let n = sorted.n_rows;
        let seg = &self.rows[start..end];
        let (rows, vals) = (&mut self.cur.0, &mut self.cur.1);
        if f == 0 {
            // `rows` is in feature 0's order already.
            let col = &sorted.cols[..n];
            if col[seg[0] as usize] == col[seg[seg.len() - 1] as usize] {
                return false;
            }
            rows.clear();
            rows.extend_from_slice(seg);
            vals.clear();
            vals.extend(seg.iter().map(|r| col[*r as usize]));
            return true;
        }
        let rank = &sorted.rank[f * n..(f + 1) * n];
        let svals = &sorted.svals[f * n..(f + 1) * n];
        self.keys.clear();
        let (mut lo, mut hi) = (u32::MAX, 0);
        for &r in seg {
            let k = rank[r as usize];
            lo = lo.min(k);
            hi = hi.max(k);
            self.keys.push(k);
        }
        if svals[lo as usize] == svals[hi as usize] {
            return false;
        }
        sort_ranks(&mut self.keys, &mut self.bits, lo, hi);
        let order = &sorted.order[f * n..(f + 1) * n];
        rows.clear();
        rows.extend(self.keys.iter().map(|k| order[*k as usize]));
        vals.clear();
        vals.extend(self.keys.iter().map(|k| svals[*k as usize]));
        true
    }

    /// Stable partition of the node's `rows` into the left child's rows
    /// (the first `n_left` of `best`'s order) then the right child's.
    fn partition(&mut self, f: usize, n_left: usize, start: usize, end: usize) {
        if f == 0 {
            // `best` was loaded from `rows` as they are: already split.
            return;
        }
        let (left, right) = self.best.0.split_at(n_left);
        for &r in left {
            self.goes_left[r as usize] = true;
        }
        for &r in right {
            self.goes_left[r as usize] = false;
        }
        let seg = &mut self.rows[start..end];
        let mut n_l = 0;
        let mut n_r = 0;
        for i in 0..seg.len() {
            let r = seg[i];
            if self.goes_left[r as usize] {
                seg[n_l] = r;
                n_l += 1;
            } else {
                self.scratch[n_r] = r;
                n_r += 1;
            }
        }
        seg[n_l..].copy_from_slice(&self.scratch[..n_r]);
    }
}

/// Sort `keys`, distinct ranks in `lo..=hi`, in place. Dense keys go
/// through the bitmap `bits` (one bit per rank, all zero before and after);
/// sparse ones through a comparison sort. Distinct keys have one sorted
/// order, so the method only decides the speed.
fn sort_ranks(keys: &mut Vec<u32>, bits: &mut [u64], lo: u32, hi: u32) {
    let (w_lo, w_hi) = (lo as usize / 64, hi as usize / 64);
    if keys.len() * 4 < w_hi - w_lo + 1 {
        keys.sort_unstable();
        return;
    }
    for &k in keys.iter() {
        bits[k as usize / 64] |= 1 << (k % 64);
    }
    keys.clear();
    for (i, word) in bits[w_lo..=w_hi].iter_mut().enumerate() {
        let mut b = *word;
        *word = 0;
        let at = ((w_lo + i) * 64) as u32;
        while b != 0 {
            keys.push(at + b.trailing_zeros());
            b &= b - 1;
        }
    }
}

/// A threshold between two consecutive distinct values `a < b` such that
/// `a <= t < b`: their midpoint, or `a` where the midpoint rounds to `b`.
fn midpoint(a: f64, b: f64) -> f64 {
    // Halving is exact for normal numbers, so this equals (a + b) / 2
    // (scikit-learn's threshold) without overflowing.
    let t = a / 2.0 + b / 2.0;
    match (t.partial_cmp(&a), t.partial_cmp(&b)) {
        (Some(Ordering::Greater | Ordering::Equal), Some(Ordering::Less)) => t,
        _ => a,
    }
}

#[cfg(test)]
pub(crate) mod tests;

/// The per-node layout against the plain one: the same trees, bit for bit.
#[cfg(test)]
mod layout_tests;
