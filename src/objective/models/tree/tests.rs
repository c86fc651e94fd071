use super::*;
pub(crate) use crate::objective::models::testdata::{holdout, load};
use ndarray::{array, Array2};
use std::collections::BTreeMap;

pub(crate) fn classes(y: &[f64]) -> Vec<usize> {
    y.iter().map(|v| *v as usize).collect()
}

pub(crate) fn accuracy(pred: &[usize], truth: &[usize]) -> f64 {
    let hits = pred.iter().zip(truth).filter(|(a, b)| a == b).count();
    hits as f64 / truth.len() as f64
}

pub(crate) fn r2(pred: &[f64], truth: &[f64]) -> f64 {
    let mean = truth.iter().sum::<f64>() / truth.len() as f64;
    let ss_res: f64 = pred.iter().zip(truth).map(|(p, t)| (t - p) * (t - p)).sum();
    let ss_tot: f64 = truth.iter().map(|t| (t - mean) * (t - mean)).sum();
    1.0 - ss_res / ss_tot
}

fn params() -> TreeParams {
    TreeParams::defaults(Task::Classification, MaxFeatures::All)
}

fn reg_params() -> TreeParams {
    TreeParams::defaults(Task::Regression, MaxFeatures::All)
}

fn col(v: &[f64]) -> Array2<f64> {
    Array2::from_shape_vec((v.len(), 1), v.to_vec()).unwrap()
}

fn read(p: &[(&str, Value)], task: Task) -> Result<TreeParams, ModelError> {
    let map: Params = p.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let r = Reader {
        model: MODEL,
        params: &map,
    };
    TreeParams::from_reader(&r, task, MaxFeatures::All)
}

#[test]
fn separable_1d_splits_at_the_midpoint() {
    let x = col(&[1.0, 2.0, 3.0, 10.0, 11.0, 12.0]);
    let tree =
        DecisionTree::fit_classifier(x.view(), &[0, 0, 0, 1, 1, 1], 2, &params(), 0).unwrap();
    assert_eq!(
        tree.nodes(),
        &[
            Node::Split {
                feature: 0,
                threshold: 6.5,
                left: 1,
                right: 2
            },
            Node::Leaf {
                value: vec![1.0, 0.0]
            },
            Node::Leaf {
                value: vec![0.0, 1.0]
            },
        ]
    );
    // x <= threshold goes left.
    let p = tree.predict(array![[6.5], [6.6]].view()).unwrap();
    assert_eq!(
        p,
        Prediction::Classes {
            labels: vec![0, 1],
            proba: Some(array![[1.0, 0.0], [0.0, 1.0]])
        }
    );
}

#[test]
fn rows_are_sorted_by_value_not_by_input_order() {
    let x = col(&[12.0, 1.0, 11.0, 2.0, 10.0, 3.0]);
    let tree =
        DecisionTree::fit_classifier(x.view(), &[1, 0, 1, 0, 1, 0], 2, &params(), 0).unwrap();
    assert!(matches!(tree.nodes()[0], Node::Split { threshold, .. } if threshold == 6.5));
}

#[test]
fn gini_decrease_against_min_impurity_decrease() {
    // Root gini = 1 - (9 + 1)/16 = 0.375; the split at 3.5 makes two
    // pure children, so it lowers the impurity by exactly 0.375.
    let x = col(&[1.0, 2.0, 3.0, 4.0]);
    let y = [0, 0, 0, 1];
    let mut p = params();
    p.min_impurity_decrease = 0.375;
    let tree = DecisionTree::fit_classifier(x.view(), &y, 2, &p, 0).unwrap();
    assert!(matches!(tree.nodes()[0], Node::Split { threshold, .. } if threshold == 3.5));
    p.min_impurity_decrease = 0.38;
    let tree = DecisionTree::fit_classifier(x.view(), &y, 2, &p, 0).unwrap();
    assert_eq!(
        tree.nodes(),
        &[Node::Leaf {
            value: vec![0.75, 0.25]
        }]
    );
}

#[test]
fn entropy_decrease_is_in_bits() {
    // One bit of entropy at the root, none in the children.
    let x = col(&[1.0, 2.0, 3.0, 4.0]);
    let y = [0, 0, 1, 1];
    let mut p = read(
        &[("criterion", Value::Str("log_loss".into()))],
        Task::Classification,
    )
    .unwrap();
    assert_eq!(p.criterion, Criterion::Entropy);
    p.min_impurity_decrease = 1.0;
    let tree = DecisionTree::fit_classifier(x.view(), &y, 2, &p, 0).unwrap();
    assert!(matches!(tree.nodes()[0], Node::Split { threshold, .. } if threshold == 2.5));
    p.min_impurity_decrease = 1.01;
    let tree = DecisionTree::fit_classifier(x.view(), &y, 2, &p, 0).unwrap();
    assert_eq!(tree.n_leaves(), 1);
}

#[test]
fn equal_splits_take_the_lowest_threshold() {
    // 1.5 and 3.5 both leave one pure row and {1, 1, 0}: equal gini.
    let x = col(&[1.0, 2.0, 3.0, 4.0]);
    let mut p = params();
    p.max_depth = Some(1);
    let tree = DecisionTree::fit_classifier(x.view(), &[0, 1, 1, 0], 2, &p, 0).unwrap();
    assert!(matches!(tree.nodes()[0], Node::Split { threshold, .. } if threshold == 1.5));
}

#[test]
fn equal_splits_take_the_lowest_feature() {
    // Feature 1 is feature 0 reversed: the same partition, same score.
    let x = array![[1.0, 4.0], [2.0, 3.0], [3.0, 2.0], [4.0, 1.0]];
    let tree = DecisionTree::fit_classifier(x.view(), &[0, 0, 1, 1], 2, &params(), 0).unwrap();
    assert!(matches!(tree.nodes()[0], Node::Split { feature: 0, .. }));
    // With the columns swapped the better-indexed copy still wins.
    let x = array![[4.0, 1.0], [3.0, 2.0], [2.0, 3.0], [1.0, 4.0]];
    let tree = DecisionTree::fit_classifier(x.view(), &[0, 0, 1, 1], 2, &params(), 0).unwrap();
    assert!(
        matches!(tree.nodes()[0], Node::Split { feature: 0, threshold, .. } if threshold == 2.5)
    );
}

#[test]
fn probability_ties_predict_the_lowest_class() {
    // A constant feature cannot split: one leaf with [0.5, 0.5].
    let x = col(&[1.0, 1.0]);
    let tree = DecisionTree::fit_classifier(x.view(), &[1, 0], 2, &params(), 0).unwrap();
    assert_eq!(
        tree.nodes(),
        &[Node::Leaf {
            value: vec![0.5, 0.5]
        }]
    );
    assert_eq!(tree.predict_values(x.view()).unwrap(), vec![0.0, 0.0]);
}

#[test]
fn regression_leaves_hold_means() {
    // Splits of [1, 1, 5, 7]: SSE 18.67 at 1.5, 2 at 2.5, 10.67 at 3.5.
    let x = col(&[1.0, 2.0, 3.0, 4.0]);
    let mut p = reg_params();
    p.max_depth = Some(1);
    let tree = DecisionTree::fit_regressor(x.view(), &[1.0, 1.0, 5.0, 7.0], &p, 0).unwrap();
    assert!(matches!(tree.nodes()[0], Node::Split { threshold, .. } if threshold == 2.5));
    assert_eq!(
        tree.predict_values(x.view()).unwrap(),
        vec![1.0, 1.0, 6.0, 6.0]
    );
    // Unlimited: every distinct target gets its own leaf; equal targets
    // stay together (a pure node is not split).
    let tree =
        DecisionTree::fit_regressor(x.view(), &[1.0, 1.0, 5.0, 7.0], &reg_params(), 0).unwrap();
    assert_eq!(tree.n_leaves(), 3);
    assert_eq!(
        tree.predict_values(x.view()).unwrap(),
        vec![1.0, 1.0, 5.0, 7.0]
    );
    assert!(tree.predict_proba(x.view()).is_err());
}

/// A pseudo-random data set: `n` rows, `d` features, 3 classes.
fn noisy(n: usize, d: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, d), |_| below(&mut rng, 1000) as f64 / 10.0);
    let y = (0..n).map(|_| below(&mut rng, 3)).collect();
    (x, y)
}

#[test]
fn max_depth_is_respected() {
    let (x, y) = noisy(300, 4, 1);
    for depth in 1..=5 {
        let mut p = params();
        p.max_depth = Some(depth);
        let tree = DecisionTree::fit_classifier(x.view(), &y, 3, &p, 0).unwrap();
        assert_eq!(tree.depth(), depth);
    }
    // Unlimited depth fits noise exactly (the rows are distinct).
    let tree = DecisionTree::fit_classifier(x.view(), &y, 3, &params(), 0).unwrap();
    assert!(tree.depth() > 5);
    let pred = tree.predict_values(x.view()).unwrap();
    let truth: Vec<f64> = y.iter().map(|c| *c as f64).collect();
    assert_eq!(pred, truth);
}

#[test]
fn min_samples_leaf_and_split_are_respected() {
    let (x, y) = noisy(300, 4, 2);
    for (split, leaf) in [(2, 7), (40, 1), (10, 20)] {
        let mut p = params();
        p.min_samples_split = split;
        p.min_samples_leaf = leaf;
        let tree = DecisionTree::fit_classifier(x.view(), &y, 3, &p, 0).unwrap();
        let mut per_leaf = BTreeMap::new();
        for l in tree.apply(x.view()).unwrap() {
            *per_leaf.entry(l).or_insert(0usize) += 1;
        }
        assert_eq!(per_leaf.len(), tree.n_leaves());
        assert!(per_leaf.values().all(|n| *n >= leaf), "{per_leaf:?}");
        // Every split node held at least `split` rows; its children
        // hold it all, so a leaf pair under a split sums to >= split.
        for node in tree.nodes() {
            if let Node::Split { left, right, .. } = node {
                let count = |i: &usize| per_leaf.get(i).copied();
                if let (Some(a), Some(b)) = (count(left), count(right)) {
                    assert!(a + b >= split);
                }
            }
        }
        assert!(tree.n_leaves() > 1);
    }
}

#[test]
fn same_seed_same_bits_other_seed_other_tree() {
    let (x, y) = load("breast_cancer.csv");
    let y = classes(&y);
    let mut p = params();
    p.max_features = MaxFeatures::Sqrt;
    let fit = |seed| DecisionTree::fit_classifier(x.view(), &y, 2, &p, seed).unwrap();
    let bits = |t: &DecisionTree| -> Vec<u64> {
        t.predict_proba(x.view())
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect()
    };
    assert_eq!(bits(&fit(7)), bits(&fit(7)));
    assert_eq!(fit(7), fit(7));
    assert_ne!(fit(7), fit(8));
    // With every feature considered the seed plays no part.
    let all = |seed| DecisionTree::fit_classifier(x.view(), &y, 2, &params(), seed).unwrap();
    assert_eq!(all(1), all(2));
}

#[test]
fn bounded_draws_are_uniform_and_fixed() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let mut counts = [0usize; 3];
    for _ in 0..30_000 {
        counts[below(&mut rng, 3)] += 1;
    }
    assert!(
        counts.iter().all(|c| (9_500..10_500).contains(c)),
        "{counts:?}"
    );
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let first: Vec<usize> = (0..3).map(|_| below(&mut rng, 1000)).collect();
    let mut again = Xoshiro256PlusPlus::seed_from_u64(0);
    let second: Vec<usize> = (0..3).map(|_| below(&mut again, 1000)).collect();
    assert_eq!(first, second);
    assert_eq!(below(&mut rng, 1), 0);
}

#[test]
fn max_features_resolves_like_scikit_learn() {
    assert_eq!(MaxFeatures::All.resolve(13), 13);
    assert_eq!(MaxFeatures::Sqrt.resolve(13), 3);
    assert_eq!(MaxFeatures::Sqrt.resolve(16), 4);
    assert_eq!(MaxFeatures::Log2.resolve(13), 3);
    assert_eq!(MaxFeatures::Log2.resolve(1), 1);
    assert_eq!(MaxFeatures::Fraction(0.5).resolve(13), 6);
    assert_eq!(MaxFeatures::Fraction(0.01).resolve(13), 1);
    assert_eq!(MaxFeatures::Count(20).resolve(13), 13);
    assert_eq!(MaxFeatures::Count(2).resolve(13), 2);
}

#[test]
fn parameters_read_with_scikit_learn_meanings() {
    let p = read(&[], Task::Classification).unwrap();
    assert_eq!(p, params());
    assert_eq!(
        read(&[], Task::Regression).unwrap().criterion,
        Criterion::SquaredError
    );
    let p = read(
        &[
            ("max_depth", Value::Int(4)),
            ("min_samples_split", Value::Int(5)),
            ("min_samples_leaf", Value::Int(3)),
            ("max_features", Value::Float(0.5)),
            ("min_impurity_decrease", Value::Float(0.01)),
            ("criterion", Value::Str("entropy".into())),
        ],
        Task::Classification,
    )
    .unwrap();
    assert_eq!(
        p,
        TreeParams {
            criterion: Criterion::Entropy,
            max_depth: Some(4),
            min_samples_split: 5,
            min_samples_leaf: 3,
            max_features: MaxFeatures::Fraction(0.5),
            min_impurity_decrease: 0.01,
        }
    );
    assert_eq!(
        read(
            &[("max_depth", Value::Str("none".into()))],
            Task::Regression
        )
        .unwrap()
        .max_depth,
        None
    );
    assert_eq!(
        read(&[("max_features", Value::Int(1))], Task::Regression)
            .unwrap()
            .max_features,
        MaxFeatures::Count(1)
    );
    assert_eq!(
        read(&[("max_features", Value::Float(1.0))], Task::Regression)
            .unwrap()
            .max_features,
        MaxFeatures::Fraction(1.0)
    );
    assert_eq!(
        read(
            &[("max_features", Value::Str("log2".into()))],
            Task::Regression
        )
        .unwrap()
        .max_features,
        MaxFeatures::Log2
    );
}

#[test]
fn criterion_must_suit_the_task() {
    let e = read(
        &[("criterion", Value::Str("gini".into()))],
        Task::Regression,
    )
    .unwrap_err();
    assert!(e.to_string().contains("squared_error"), "{e}");
    let e = read(
        &[("criterion", Value::Str("squared_error".into()))],
        Task::Classification,
    )
    .unwrap_err();
    assert!(e.to_string().contains("criterion"), "{e}");
}

#[test]
fn out_of_range_parameters_are_errors() {
    for (name, v) in [
        ("max_depth", Value::Int(0)),
        ("max_depth", Value::Str("deep".into())),
        ("min_samples_split", Value::Int(1)),
        ("min_samples_leaf", Value::Int(0)),
        ("max_features", Value::Float(1.5)),
        ("max_features", Value::Int(0)),
        ("max_features", Value::Str("half".into())),
        ("min_impurity_decrease", Value::Float(-0.1)),
    ] {
        let e = read(&[(name, v.clone())], Task::Classification).unwrap_err();
        assert!(e.to_string().contains(name), "{name} = {v}: {e}");
    }
}

#[test]
fn bad_training_data_is_an_error_not_a_panic() {
    let p = params();
    let x = col(&[1.0, f64::NAN]);
    assert!(DecisionTree::fit_classifier(x.view(), &[0, 1], 2, &p, 0).is_err());
    let x = col(&[1.0, 2.0]);
    assert!(DecisionTree::fit_classifier(x.view(), &[0], 2, &p, 0).is_err());
    assert!(DecisionTree::fit_classifier(x.view(), &[0, 2], 2, &p, 0).is_err());
    let empty = Array2::<f64>::zeros((0, 1));
    assert!(DecisionTree::fit_classifier(empty.view(), &[], 2, &p, 0).is_err());
    assert!(
        DecisionTree::fit_regressor(x.view(), &[0.0, f64::INFINITY], &reg_params(), 0).is_err()
    );
    assert!(DecisionTree::fit_regressor(x.view(), &[0.0, 1.0], &p, 0).is_err());
    let tree = DecisionTree::fit_classifier(x.view(), &[0, 1], 2, &p, 0).unwrap();
    assert!(tree.predict_proba(array![[1.0, 2.0]].view()).is_err());
}

#[test]
fn fit_entry_point_serves_both_tasks() {
    let x = col(&[1.0, 2.0, 3.0, 4.0]);
    let mut map = Params::new();
    map.insert("max_depth".into(), Value::Int(1));
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
        matches!(m.predict(x.view()).unwrap(), Prediction::Classes { labels, .. } if labels == [0, 0, 1, 1])
    );
    let m = fit(x.view(), Targets::Values(&[1.0, 1.0, 5.0, 7.0]), &map, 0).unwrap();
    assert_eq!(
        m.predict(x.view()).unwrap(),
        Prediction::Values(vec![1.0, 1.0, 6.0, 6.0])
    );
    assert_eq!(m.n_features(), 1);
    let e = m.predict(Array2::zeros((4, 2)).view()).err().unwrap();
    assert_eq!(
        e.to_string(),
        "decision_tree: trained on 1 feature columns, asked to predict rows of 2"
    );
    assert!(m.predict(Array2::zeros((4, 0)).view()).is_err());
    map.insert("criterion".into(), Value::Str("gini".into()));
    assert!(fit(x.view(), Targets::Values(&[1.0, 1.0, 5.0, 7.0]), &map, 0).is_err());
}

#[test]
fn serde_round_trip_and_malformed_trees_are_refused() {
    let (x, y) = load("wine.csv");
    let tree = DecisionTree::fit_classifier(x.view(), &classes(&y), 3, &params(), 0).unwrap();
    let json = serde_json::to_string(&tree).unwrap();
    let back: DecisionTree = serde_json::from_str(&json).unwrap();
    assert_eq!(back, tree);
    let bad = r#"{"task":"classification","n_features":1,"n_outputs":2,
            "nodes":[{"split":{"feature":0,"threshold":1.0,"left":0,"right":1}},{"leaf":{"value":[1.0,0.0]}}]}"#;
    assert!(serde_json::from_str::<DecisionTree>(bad).is_err());
    let short_leaf = r#"{"task":"classification","n_features":1,"n_outputs":2,"nodes":[{"leaf":{"value":[1.0]}}]}"#;
    assert!(serde_json::from_str::<DecisionTree>(short_leaf).is_err());
}

#[test]
fn deep_trees_do_not_overflow_the_stack() {
    // A staircase: each split peels off one row, depth n - 1.
    let n = 5000;
    let x = col(&(0..n).map(|i| i as f64).collect::<Vec<_>>());
    let y: Vec<f64> = (0..n).map(|i| (1u64 << (i % 60)) as f64).collect();
    let tree = DecisionTree::fit_regressor(x.view(), &y, &reg_params(), 0).unwrap();
    assert_eq!(tree.n_leaves(), n);
    assert_eq!(tree.predict_values(x.view()).unwrap(), y);
}

/// Accuracy on the fixed holdout, against scikit-learn 1.9.1's numbers
/// from `scripts/check_trees_vs_sklearn.py` (mean [min, max] over
/// random_state 0..9): ours must lie within 3 points of that range.
fn check_against_sklearn(name: &str, max_depth: Option<usize>, sk: (f64, f64, f64)) -> f64 {
    let (x, y) = load(&format!("{name}.csv"));
    let (xtr, ytr, xte, yte) = holdout(&x, &y);
    let n_classes = classes(&y).iter().max().unwrap() + 1;
    let mut p = params();
    p.max_depth = max_depth;
    let tree = DecisionTree::fit_classifier(xtr.view(), &classes(&ytr), n_classes, &p, 0).unwrap();
    let pred: Vec<usize> = tree
        .predict_values(xte.view())
        .unwrap()
        .iter()
        .map(|v| *v as usize)
        .collect();
    let acc = accuracy(&pred, &classes(&yte));
    println!(
        "{name} tree max_depth={max_depth:?}: ours {acc:.4}, scikit-learn {:.4} [{:.4}, {:.4}]",
        sk.0, sk.1, sk.2
    );
    assert!(acc >= sk.1 - 0.03 && acc <= sk.2 + 0.03, "{name}: {acc}");
    acc
}

#[test]
fn wine_accuracy_matches_scikit_learn() {
    check_against_sklearn("wine", Some(3), (0.9278, 0.8889, 0.9722));
    check_against_sklearn("wine", None, (0.9111, 0.8889, 0.9444));
}

#[test]
fn breast_cancer_accuracy_matches_scikit_learn() {
    check_against_sklearn("breast_cancer", Some(3), (0.8816, 0.8772, 0.8860));
    check_against_sklearn("breast_cancer", None, (0.9140, 0.8947, 0.9298));
}

#[test]
fn diabetes_r2_matches_scikit_learn() {
    // scikit-learn's regression trees here do not depend on random_state.
    let (x, y) = load("diabetes.csv");
    let (xtr, ytr, xte, yte) = holdout(&x, &y);
    for (depth, sk) in [(3, 0.2869), (5, 0.0344)] {
        let mut p = reg_params();
        p.max_depth = Some(depth);
        let tree = DecisionTree::fit_regressor(xtr.view(), &ytr, &p, 0).unwrap();
        let r = r2(&tree.predict_values(xte.view()).unwrap(), &yte);
        println!("diabetes tree max_depth={depth}: ours R2 {r:.4}, scikit-learn {sk:.4}");
        assert!((r - sk).abs() < 0.02, "depth {depth}: {r}");
    }
}

#[test]
fn both_row_sorts_agree() {
    let (x, _) = load("digits.csv");
    let (mut a, mut b, mut tmp) = (Vec::new(), Vec::new(), Vec::new());
    for f in [0, 10, 20, 36] {
        // Many ties: digits' pixels take 17 values.
        let keys: Vec<u64> = x.column(f).iter().map(|v| order_key(*v)).collect();
        radix_sort_rows(&keys, &mut a, &mut tmp);
        let mut packed: Vec<(u64, u32)> = keys
            .iter()
            .enumerate()
            .map(|(r, k)| (*k, r as u32))
            .collect();
        packed.sort();
        b.clear();
        b.extend(packed.iter().map(|p| p.1));
        assert_eq!(a, b);
    }
    let keys: Vec<u64> = [-2.5, 0.0, -0.0 + 0.0, 3.0, -1e300, 1e-300, 3.0]
        .iter()
        .map(|v: &f64| order_key(*v))
        .collect();
    radix_sort_rows(&keys, &mut a, &mut tmp);
    assert_eq!(a, vec![4, 0, 1, 2, 5, 3, 6]);
}
