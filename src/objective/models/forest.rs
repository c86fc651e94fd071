//! hpsearch's own seeded random forest (`random_forest`): bagged CART trees
//! from [`super::tree`], for classification and regression.
//!
//! Written here rather than taken from linfa-ensemble 0.8.1, whose votes and
//! trees change from one process to the next. Determinism:
//!
//! - **Seeds.** Tree `i` (0-based) of a forest with seed `s` draws its
//!   bootstrap sample from `Xoshiro256PlusPlus::seed_from_u64(b_i)` and its
//!   feature subsets from one seeded with `t_i`, where `b_i` and `t_i` are
//!   outputs `2i + 1` and `2i + 2` of the SplitMix64 sequence started at `s`
//!   (see [`tree_seeds`]). A tree's seeds therefore depend on `(s, i)` only,
//!   not on the other trees or on the number of trees.
//! - **Bootstrap.** `n` rows drawn with replacement, each draw uniform in
//!   `0..n`; a row drawn `k` times weighs `k` (as scikit-learn's sample
//!   weights), and rows never drawn are left out.
//! - **Order.** Trees are trained one after the other in index order; the
//!   class probabilities are the mean of the trees' probabilities and a
//!   regression prediction the mean of the trees' values, summed in tree
//!   order. The predicted class is the most probable, the lowest index on
//!   ties.
//!
//! This module never sees folds, metrics or files.

use ndarray::{Array2, ArrayView2};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::tree::{
    argmax_rows, below, grow, DecisionTree, Labels, MaxFeatures, Sorted, TreeParams, CRITERION,
    MAX_DEPTH, MIN_IMPURITY_DECREASE, MIN_SAMPLES_LEAF, MIN_SAMPLES_SPLIT,
};
use super::{
    check_width, Fitted, HyperParam, ModelError, ModelInfo, Prediction, Reader, Targets, Task,
    POSITIVE,
};
use crate::value::Params;

const MODEL: &str = "random_forest";

/// The registry entry of `random_forest`.
pub const INFO: ModelInfo = ModelInfo {
    name: MODEL,
    summary: "random forest of CART trees (hpsearch's own, seeded), scikit-learn's parameters",
    tasks: &[Task::Classification, Task::Regression],
    probabilities: true,
    missing_values: false,
    params: &[
        HyperParam {
            ints: Some((1, 100_000)),
            ..HyperParam::new("n_estimators", "100", "number of trees")
        },
        CRITERION,
        MAX_DEPTH,
        MIN_SAMPLES_SPLIT,
        MIN_SAMPLES_LEAF,
        HyperParam {
            ints: Some((1, i64::MAX)),
            floats: Some((POSITIVE, 1.0)),
            choices: &["all", "sqrt", "log2"],
            ..HyperParam::new(
                "max_features",
                "sqrt",
                "features drawn at random at each node: \"all\", \"sqrt\" or \"log2\" of the \
                 count (rounded down), a fraction in (0, 1] (a float: 1.0 is all), or a count \
                 (an integer: 1 is one feature). The default follows the task, as in \
                 scikit-learn: \"sqrt\" for classification, 1.0 (all) for regression",
            )
        },
        HyperParam {
            boolean: true,
            ..HyperParam::new(
                "bootstrap",
                "true",
                "train each tree on a bootstrap sample (n rows drawn with replacement); \
                 false trains every tree on all rows",
            )
        },
        MIN_IMPURITY_DECREASE,
    ],
};

/// Train a `random_forest` on one fold.
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
    let task = match y {
        Targets::Classes { .. } => Task::Classification,
        Targets::Values(_) => Task::Regression,
    };
    let p = ForestParams::from_reader(&reader, task)?;
    Ok(Fitted::RandomForest(RandomForest::fit_labels(
        x,
        Labels::from_targets(y),
        &p,
        seed,
    )?))
}

/// The settings of a forest, validated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    /// Number of trees (>= 1).
    pub n_estimators: usize,
    /// Bootstrap sample per tree (true) or all rows (false).
    pub bootstrap: bool,
    /// Settings of every tree.
    pub tree: TreeParams,
}

impl ForestParams {
    /// scikit-learn's defaults for `task`: 100 trees, bootstrap, and
    /// `max_features` "sqrt" (classification) or all (regression).
    pub fn defaults(task: Task) -> Self {
        ForestParams {
            n_estimators: 100,
            bootstrap: true,
            tree: TreeParams::defaults(task, default_max_features(task)),
        }
    }

    /// Read `n_estimators`, `bootstrap` and the tree parameters (see
    /// [`TreeParams::from_reader`]) from a parameter map.
    pub(crate) fn from_reader(r: &Reader<'_>, task: Task) -> Result<Self, ModelError> {
        let n_estimators = r.usize("n_estimators", 100)?;
        if n_estimators == 0 {
            return Err(ModelError::Param {
                model: r.model,
                name: "n_estimators".into(),
                message: "must be at least 1 (got 0)".into(),
            });
        }
        Ok(ForestParams {
            n_estimators,
            bootstrap: r.bool("bootstrap", true)?,
            tree: TreeParams::from_reader(r, task, default_max_features(task))?,
        })
    }
}

fn default_max_features(task: Task) -> MaxFeatures {
    match task {
        Task::Classification => MaxFeatures::Sqrt,
        Task::Regression => MaxFeatures::Fraction(1.0),
    }
}

/// Output `k` (`k >= 1`) of the SplitMix64 sequence started at `state`:
/// the state advanced `k` times by the golden-ratio increment, then mixed.
fn splitmix64(state: u64, k: u64) -> u64 {
    let mut z = state.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seeds of tree `index` in a forest seeded with `seed`: (bootstrap,
/// feature subsets), outputs `2·index + 1` and `2·index + 2` of SplitMix64
/// started at `seed`.
pub fn tree_seeds(seed: u64, index: u64) -> (u64, u64) {
    (
        splitmix64(seed, 2 * index + 1),
        splitmix64(seed, 2 * index + 2),
    )
}

/// A fitted random forest. Serialisable into model artifacts; a
/// deserialised forest is checked (every tree valid and of the same shape)
/// before it exists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ForestWire")]
pub struct RandomForest {
    task: Task,
    n_features: usize,
    n_outputs: usize,
    trees: Vec<DecisionTree>,
}

/// The unchecked form a forest is read into.
#[derive(Deserialize)]
struct ForestWire {
    task: Task,
    n_features: usize,
    n_outputs: usize,
    trees: Vec<DecisionTree>,
}

impl TryFrom<ForestWire> for RandomForest {
    type Error = String;
    fn try_from(w: ForestWire) -> Result<Self, String> {
        if w.trees.is_empty() {
            return Err("a forest needs at least one tree".into());
        }
        for (i, t) in w.trees.iter().enumerate() {
            if t.task() != w.task || t.n_features() != w.n_features || t.n_outputs() != w.n_outputs
            {
                return Err(format!("tree {i} does not match the forest's shape"));
            }
        }
        Ok(RandomForest {
            task: w.task,
            n_features: w.n_features,
            n_outputs: w.n_outputs,
            trees: w.trees,
        })
    }
}

impl RandomForest {
    /// Fit a classification forest; `y` holds class indices below
    /// `n_classes`.
    pub fn fit_classifier(
        x: ArrayView2<'_, f64>,
        y: &[usize],
        n_classes: usize,
        params: &ForestParams,
        seed: u64,
    ) -> Result<RandomForest, ModelError> {
        Self::fit_labels(x, Labels::Classes { y, n_classes }, params, seed)
    }

    /// Fit a regression forest.
    pub fn fit_regressor(
        x: ArrayView2<'_, f64>,
        y: &[f64],
        params: &ForestParams,
        seed: u64,
    ) -> Result<RandomForest, ModelError> {
        Self::fit_labels(x, Labels::Values(y), params, seed)
    }

    fn fit_labels(
        x: ArrayView2<'_, f64>,
        labels: Labels<'_>,
        params: &ForestParams,
        seed: u64,
    ) -> Result<RandomForest, ModelError> {
        if params.n_estimators == 0 {
            return Err(ModelError::Param {
                model: MODEL,
                name: "n_estimators".into(),
                message: "must be at least 1 (got 0)".into(),
            });
        }
        let mut trees = Vec::with_capacity(params.n_estimators);
        Self::grow_trees(&mut trees, x, labels, params, seed)?;
        let (task, n_outputs) = match labels {
            Labels::Classes { n_classes, .. } => (Task::Classification, n_classes),
            Labels::Values(_) => (Task::Regression, 1),
        };
        Ok(RandomForest {
            task,
            n_features: x.ncols(),
            n_outputs,
            trees,
        })
    }

    /// Grow `trees` (the first trees of a forest with `seed`, trained on
    /// `x`/`labels`) up to `params.n_estimators` trees; the trees already
    /// there are kept. Each tree depends on `(seed, its index)` only, so
    /// the result is the forest [`RandomForest::fit_labels`] trains.
    fn grow_trees(
        trees: &mut Vec<DecisionTree>,
        x: ArrayView2<'_, f64>,
        labels: Labels<'_>,
        params: &ForestParams,
        seed: u64,
    ) -> Result<(), ModelError> {
        if trees.len() >= params.n_estimators {
            return Ok(());
        }
        // Sorted once, shared by every tree grown now.
        let sorted = Sorted::new(MODEL, x, labels)?;
        let n = x.nrows();
        let mut weight = vec![1u32; n];
        for i in trees.len()..params.n_estimators {
            let (boot_seed, split_seed) = tree_seeds(seed, i as u64);
            if params.bootstrap {
                weight.iter_mut().for_each(|w| *w = 0);
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(boot_seed);
                for _ in 0..n {
                    weight[below(&mut rng, n)] += 1;
                }
            }
            trees.push(grow(
                MODEL,
                &sorted,
                labels,
                &weight,
                &params.tree,
                split_seed,
            )?);
        }
        Ok(())
    }

    /// The forest of `n` trees trained on `x`/`y` with `params` (whose
    /// `n_estimators` is ignored) and `seed`, grown from `forest` (the
    /// first trees of that same forest, from an earlier call with the same
    /// data, parameters and seed) by training only the trees it lacks:
    /// the same forest, bit for bit, as [`fit`] with `n_estimators = n`.
    /// This is how `resource = "trees"` climbs its ladder.
    pub fn grow(
        forest: Option<RandomForest>,
        x: ArrayView2<'_, f64>,
        y: Targets<'_>,
        params: &Params,
        seed: u64,
        n: usize,
    ) -> Result<RandomForest, ModelError> {
        let reader = Reader {
            model: MODEL,
            params,
        };
        let labels = Labels::from_targets(y);
        let task = match y {
            Targets::Classes { .. } => Task::Classification,
            Targets::Values(_) => Task::Regression,
        };
        let mut p = ForestParams::from_reader(&reader, task)?;
        p.n_estimators = n;
        match forest {
            None => Self::fit_labels(x, labels, &p, seed),
            Some(mut f) => {
                if f.task != task || f.n_features != x.ncols() {
                    return Err(ModelError::Fit {
                        model: MODEL,
                        message: "cannot grow a forest trained on other data".into(),
                    });
                }
                Self::grow_trees(&mut f.trees, x, labels, &p, seed)?;
                f.trees.truncate(n);
                Ok(f)
            }
        }
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        self.task
    }

    /// The trees, in training order.
    pub fn trees(&self) -> &[DecisionTree] {
        &self.trees
    }

    /// The number of feature columns the forest was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    fn check_width(&self, x: &ArrayView2<'_, f64>) -> Result<(), ModelError> {
        check_width(MODEL, self.n_features, x)
    }

    /// Class indices and probabilities (the mean of the trees'), or values
    /// (the mean of the trees'). Errors when `x` does not have the training
    /// width.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        self.check_width(&x)?;
        let mean = self.mean_unchecked(x);
        Ok(match self.task {
            Task::Classification => Prediction::Classes {
                labels: argmax_rows(&mean),
                proba: Some(mean),
            },
            Task::Regression => Prediction::Values(mean.column(0).to_vec()),
        })
    }

    /// Class probabilities, rows × classes: the mean of the trees'
    /// probabilities. Errors for a regression forest or a wrong width.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, ModelError> {
        self.check_width(&x)?;
        if self.task != Task::Classification {
            return Err(ModelError::Fit {
                model: MODEL,
                message: "a regression forest has no class probabilities".into(),
            });
        }
        Ok(self.mean_unchecked(x))
    }

    /// Predicted values (regression: the mean of the trees) or class
    /// indices as numbers (classification). Errors for a wrong width.
    pub fn predict_values(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, ModelError> {
        self.check_width(&x)?;
        let mean = self.mean_unchecked(x);
        Ok(match self.task {
            Task::Regression => mean.column(0).to_vec(),
            Task::Classification => argmax_rows(&mean).into_iter().map(|k| k as f64).collect(),
        })
    }

    /// The mean of the trees' leaf values, rows × outputs.
    fn mean_unchecked(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut sum = Array2::zeros((x.nrows(), self.n_outputs));
        // Each cell receives its trees' values in tree order.
        for tree in &self.trees {
            for (row, mut dst) in x.rows().into_iter().zip(sum.rows_mut()) {
                for (d, v) in dst.iter_mut().zip(tree.leaf(row).1) {
                    *d += *v;
                }
            }
        }
        let n = self.trees.len() as f64;
        sum.mapv_inplace(|s| s / n);
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::models::tree::tests::{accuracy, classes, holdout, load, r2};
    use crate::objective::models::tree::Node;
    use crate::value::Value;
    use ndarray::array;

    fn params(task: Task, n: usize) -> ForestParams {
        ForestParams {
            n_estimators: n,
            ..ForestParams::defaults(task)
        }
    }

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs of SplitMix64 from state 0 (Vigna's splitmix64.c).
        assert_eq!(splitmix64(0, 1), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(0, 2), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(
            tree_seeds(0, 0),
            (0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4)
        );
        assert_ne!(tree_seeds(1, 0), tree_seeds(0, 0));
        assert_ne!(tree_seeds(0, 1), tree_seeds(0, 0));
    }

    #[test]
    fn defaults_follow_the_task() {
        let map = Params::new();
        let r = Reader {
            model: MODEL,
            params: &map,
        };
        let c = ForestParams::from_reader(&r, Task::Classification).unwrap();
        assert_eq!(c, ForestParams::defaults(Task::Classification));
        assert_eq!(c.n_estimators, 100);
        assert!(c.bootstrap);
        assert_eq!(c.tree.max_features, MaxFeatures::Sqrt);
        let g = ForestParams::from_reader(&r, Task::Regression).unwrap();
        assert_eq!(g.tree.max_features, MaxFeatures::Fraction(1.0));
        let mut map = Params::new();
        map.insert("n_estimators".into(), Value::Int(0));
        let r = Reader {
            model: MODEL,
            params: &map,
        };
        assert!(ForestParams::from_reader(&r, Task::Regression).is_err());
    }

    #[test]
    fn probabilities_are_the_mean_of_the_trees() {
        let (x, y) = load("wine.csv");
        let y = classes(&y);
        let forest =
            RandomForest::fit_classifier(x.view(), &y, 3, &params(Task::Classification, 7), 3)
                .unwrap();
        let proba = forest.predict_proba(x.view()).unwrap();
        let mut expect = Array2::<f64>::zeros(proba.dim());
        for t in forest.trees() {
            expect += &t.predict_proba(x.view()).unwrap();
        }
        expect /= 7.0;
        assert_eq!(proba, expect);
        for row in proba.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn bootstrap_trees_differ_and_without_it_all_rows_are_used() {
        let x = array![[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]];
        let y = [0, 0, 0, 1, 1, 1];
        let mut p = params(Task::Classification, 20);
        p.bootstrap = false;
        let forest = RandomForest::fit_classifier(x.view(), &y, 2, &p, 0).unwrap();
        // One feature, every row: 20 copies of the same stump at 3.5.
        for t in forest.trees() {
            assert!(matches!(t.nodes()[0], Node::Split { threshold, .. } if threshold == 3.5));
        }
        p.bootstrap = true;
        let forest = RandomForest::fit_classifier(x.view(), &y, 2, &p, 0).unwrap();
        let first = &forest.trees()[0];
        assert!(forest.trees().iter().any(|t| t != first));
        // Bootstrap leaves hold weighted class shares (multiples of 1/k).
        assert_eq!(
            forest.predict_values(x.view()).unwrap(),
            vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
        );
    }

    #[test]
    fn same_seed_same_bits_other_seed_other_forest() {
        let (x, y) = load("breast_cancer.csv");
        let y = classes(&y);
        let p = params(Task::Classification, 10);
        let fit = |seed| RandomForest::fit_classifier(x.view(), &y, 2, &p, seed).unwrap();
        let bits = |f: &RandomForest| -> Vec<u64> {
            f.predict_proba(x.view())
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        };
        let a = fit(11);
        assert_eq!(a, fit(11));
        assert_eq!(bits(&a), bits(&fit(11)));
        let b = fit(12);
        assert!(a.trees().iter().zip(b.trees()).all(|(s, t)| s != t));
        assert_ne!(bits(&a), bits(&b));
        // A tree depends on (seed, index) only: the first 10 trees of a
        // 15-tree forest are the 10 trees above.
        let bigger =
            RandomForest::fit_classifier(x.view(), &y, 2, &params(Task::Classification, 15), 11)
                .unwrap();
        assert_eq!(&bigger.trees()[..10], a.trees());
    }

    #[test]
    fn growing_a_forest_rung_by_rung_gives_the_forest_of_that_many_trees() {
        // Twenty rows, two features, two classes.
        let x = Array2::from_shape_fn((20, 2), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
        let y: Vec<usize> = (0..20).map(|i| usize::from(i % 3 == 0)).collect();
        let t = || Targets::Classes {
            y: &y,
            n_classes: 2,
        };
        let mut map = Params::new();
        map.insert("max_depth".into(), Value::Int(3));
        let mut grown = None;
        for n in [1usize, 3, 9, 10] {
            let f = RandomForest::grow(grown.take(), x.view(), t(), &map, 42, n).unwrap();
            map.insert("n_estimators".into(), Value::Int(n as i64));
            let Fitted::RandomForest(whole) = fit(x.view(), t(), &map, 42).unwrap() else {
                panic!("not a forest")
            };
            map.remove("n_estimators");
            assert_eq!(f.trees().len(), n);
            assert_eq!(
                f, whole,
                "{n} trees grown by rungs differ from a fit of {n}"
            );
            grown = Some(f);
        }
        // Other data is refused, not mixed in.
        let wide = Array2::zeros((20, 3));
        assert!(RandomForest::grow(grown, wide.view(), t(), &map, 42, 12).is_err());
    }

    #[test]
    fn fit_entry_point_and_errors() {
        let x = array![[1.0], [2.0], [3.0], [4.0]];
        let mut map = Params::new();
        map.insert("n_estimators".into(), Value::Int(5));
        let m = fit(x.view(), Targets::Values(&[1.0, 1.0, 5.0, 7.0]), &map, 0).unwrap();
        assert!(matches!(m.predict(x.view()).unwrap(), Prediction::Values(v) if v.len() == 4));
        let m = fit(
            x.view(),
            Targets::Classes {
                y: &[0, 0, 1, 1],
                n_classes: 2,
            },
            &map,
            0,
        )
        .unwrap();
        assert!(
            matches!(m.predict(x.view()).unwrap(), Prediction::Classes { proba: Some(p), .. } if p.dim() == (4, 2))
        );
        assert_eq!(m.n_features(), 1);
        let e = m.predict(array![[1.0, 2.0]].view()).err().unwrap();
        assert_eq!(
            e.to_string(),
            "random_forest: trained on 1 feature columns, asked to predict rows of 2"
        );
        assert!(m.predict(Array2::zeros((1, 0)).view()).is_err());
        let nan = array![[1.0], [f64::NAN]];
        assert!(fit(nan.view(), Targets::Values(&[1.0, 2.0]), &map, 0).is_err());
        map.insert("criterion".into(), Value::Str("squared_error".into()));
        assert!(fit(
            x.view(),
            Targets::Classes {
                y: &[0, 0, 1, 1],
                n_classes: 2
            },
            &map,
            0
        )
        .is_err());
    }

    #[test]
    fn serde_round_trip_and_mismatched_trees_are_refused() {
        let x = array![[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0]];
        let forest = RandomForest::fit_regressor(
            x.view(),
            &[1.0, 1.0, 5.0, 7.0],
            &params(Task::Regression, 3),
            0,
        )
        .unwrap();
        let json = serde_json::to_string(&forest).unwrap();
        let back: RandomForest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, forest);
        let wrong = json.replacen("\"n_features\":2", "\"n_features\":3", 1);
        assert!(serde_json::from_str::<RandomForest>(&wrong).is_err());
        assert!(forest.predict_values(array![[1.0]].view()).is_err());
    }

    /// Mean accuracy over seeds 0..10 on the fixed holdout, against
    /// scikit-learn 1.9.1's RandomForestClassifier(n_estimators=100) over
    /// random_state 0..9 (`scripts/check_trees_vs_sklearn.py`).
    fn check_against_sklearn(name: &str, sk: (f64, f64, f64)) {
        let (x, y) = load(&format!("{name}.csv"));
        let (xtr, ytr, xte, yte) = holdout(&x, &y);
        let n_classes = classes(&y).iter().max().unwrap() + 1;
        let p = params(Task::Classification, 100);
        let start = std::time::Instant::now();
        let accs: Vec<f64> = (0..10)
            .map(|seed| {
                let f =
                    RandomForest::fit_classifier(xtr.view(), &classes(&ytr), n_classes, &p, seed)
                        .unwrap();
                let pred: Vec<usize> = f
                    .predict_values(xte.view())
                    .unwrap()
                    .iter()
                    .map(|v| *v as usize)
                    .collect();
                accuracy(&pred, &classes(&yte))
            })
            .collect();
        let secs = start.elapsed().as_secs_f64() / 10.0;
        let mean = accs.iter().sum::<f64>() / accs.len() as f64;
        let (lo, hi) = accs
            .iter()
            .fold((1.0f64, 0.0f64), |(l, h), a| (l.min(*a), h.max(*a)));
        println!(
            "{name} forest: ours {mean:.4} [{lo:.4}, {hi:.4}] ({secs:.3} s a forest), \
             scikit-learn {:.4} [{:.4}, {:.4}]",
            sk.0, sk.1, sk.2
        );
        assert!((mean - sk.0).abs() <= 0.03, "{name}: {mean}");
    }

    #[test]
    fn wine_forest_accuracy_matches_scikit_learn() {
        check_against_sklearn("wine", (0.9972, 0.9722, 1.0));
    }

    #[test]
    fn breast_cancer_forest_accuracy_matches_scikit_learn() {
        check_against_sklearn("breast_cancer", (0.9623, 0.9561, 0.9649));
    }

    #[test]
    fn diabetes_forest_r2_matches_scikit_learn() {
        let (x, y) = load("diabetes.csv");
        let (xtr, ytr, xte, yte) = holdout(&x, &y);
        let p = params(Task::Regression, 100);
        let f = RandomForest::fit_regressor(xtr.view(), &ytr, &p, 0).unwrap();
        let r = r2(&f.predict_values(xte.view()).unwrap(), &yte);
        println!("diabetes forest: ours R2 {r:.4}, scikit-learn 0.4421 [0.4217, 0.4717]");
        assert!(r > 0.4217 - 0.03 && r < 0.4717 + 0.03, "{r}");
    }
}
