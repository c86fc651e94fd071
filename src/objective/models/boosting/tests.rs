//! Unit tests of `gradient_boosting`: bins, thread and growth
//! invariance, quality, missing values, limits, parameters and artifacts.

use super::bins::{bin_of, thresholds, MISSING};
use super::*;
use crate::objective::models::tree::tests::{accuracy, classes, holdout, load, r2};
use ndarray::array;

fn small(max_iter: usize) -> BoostParams {
    BoostParams {
        max_iter,
        ..BoostParams::default()
    }
}

fn labels(p: &Prediction) -> Vec<usize> {
    match p {
        Prediction::Classes { labels, .. } => labels.clone(),
        Prediction::Values(_) => panic!("expected classes"),
    }
}

fn bits(p: &Prediction) -> Vec<u64> {
    match p {
        Prediction::Classes { proba, .. } => proba
            .as_ref()
            .map(|a| a.iter().map(|v| v.to_bits()).collect())
            .unwrap_or_default(),
        Prediction::Values(v) => v.iter().map(|v| v.to_bits()).collect(),
    }
}

fn fit_classes(x: &Array2<f64>, y: &[f64], p: &BoostParams, seed: u64) -> GradientBoosting {
    let c = classes(y);
    let n_classes = c.iter().max().unwrap() + 1;
    GradientBoosting::fit(x.view(), Targets::Classes { y: &c, n_classes }, p, seed).unwrap()
}

#[test]
fn thresholds_are_midpoints_or_quantiles_and_nan_has_its_own_bin() {
    assert_eq!(thresholds(vec![3.0, 1.0, 2.0, 1.0], 255), vec![1.5, 2.5]);
    assert_eq!(bin_of(&[1.5, 2.5], 1.5), 0);
    assert_eq!(bin_of(&[1.5, 2.5], 1.6), 1);
    assert_eq!(bin_of(&[1.5, 2.5], 9.0), 2);
    assert_eq!(bin_of(&[1.5, 2.5], f64::NAN), MISSING);
    // 0..10 into 2 bins: the median, numpy's percentile(50,
    // "averaged_inverted_cdf").
    let t = thresholds((0..10).map(f64::from).collect(), 2);
    assert_eq!(t, vec![4.5]);
    let t = thresholds((0..1000).map(f64::from).collect(), 255);
    assert_eq!(t.len(), 254);
    assert!(t.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn quantile_thresholds_are_scikit_learns() {
    // Reference: scikit-learn 1.9.1's `_find_binning_thresholds` (numpy's
    // "averaged_inverted_cdf" percentiles, repeats dropped) on the same
    // columns.
    let col: Vec<f64> = (0..600u64).map(|i| ((i * i) % 997) as f64 / 7.0).collect();
    let t = thresholds(col, 255);
    assert_eq!(t.len(), 254);
    for (i, want) in [
        (0, 0.42857142857142855),
        (1, 1.2857142857142858),
        (2, 1.8571428571428572),
        (100, 56.142857142857146),
        (252, 141.14285714285714),
        (253, 141.85714285714286),
    ] {
        assert_eq!(t[i].to_bits(), f64::to_bits(want), "threshold {i}");
    }
    // A value a third of the rows hold: its repeated quantiles collapse.
    let col: Vec<f64> = (0..1000)
        .map(|i| f64::from(i % 300))
        .chain(std::iter::repeat_n(0.5, 500))
        .collect();
    let t = thresholds(col, 40);
    assert_eq!(t.len(), 27);
    assert_eq!(t[..5], [0.5, 6.0, 15.0, 24.5, 34.0]);
}

#[test]
fn same_bits_for_1_and_4_threads() {
    let (x, y) = load("digits.csv");
    let p = BoostParams {
        max_features: 0.5,
        subsample: 0.8,
        ..small(5)
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let m = fit_classes(&x, &y, &p, 7);
            (m.clone(), m.predict(x.view()).unwrap())
        })
    };
    let (m1, p1) = run(1);
    let (m4, p4) = run(4);
    assert_eq!(m1, m4);
    assert_eq!(bits(&p1), bits(&p4));
    let (xr, yr) = load("diabetes.csv");
    let reg = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            GradientBoosting::fit(xr.view(), Targets::Values(&yr), &small(20), 3)
                .unwrap()
                .predict(xr.view())
                .unwrap()
        })
    };
    assert_eq!(bits(&reg(1)), bits(&reg(4)));
}

#[test]
fn a_fit_on_shared_bins_equals_one_without_bit_for_bit() {
    let (x, y) = load("digits.csv");
    let c = classes(&y);
    let n_classes = c.iter().max().unwrap() + 1;
    let t = Targets::Classes { y: &c, n_classes };
    let p = BoostParams {
        max_features: 0.7,
        subsample: 0.8,
        ..small(4)
    };
    let alone = GradientBoosting::fit(x.view(), t, &p, 11).unwrap();
    let shared = Shared::default();
    // Another candidate on the same rows makes the bins (its max_bins) ...
    let other = BoostParams {
        learning_rate: 0.3,
        max_leaf_nodes: Some(8),
        ..p
    };
    GradientBoosting::fit_shared(x.view(), t, &other, 2, &shared).unwrap();
    // ... which are kept, not made again ...
    shared.get_or_make::<bins::Binned>(&bins::key(p.max_bins), || {
        unreachable!("the first fit keeps the bins")
    });
    // ... and the next fit on them is the fit alone, bit for bit.
    let warm = GradientBoosting::fit_shared(x.view(), t, &p, 11, &shared).unwrap();
    assert_eq!(alone, warm);
    assert_eq!(
        bits(&alone.predict(x.view()).unwrap()),
        bits(&warm.predict(x.view()).unwrap())
    );
    // The same through `Growing` (resource = "iterations").
    let params: Params = [
        ("subsample".to_string(), Value::Float(0.8)),
        ("max_features".to_string(), Value::Float(0.7)),
    ]
    .into_iter()
    .collect();
    let mut g = Growing::start_shared(x.view(), t, &params, 11, &shared).unwrap();
    g.grow_to(x.view(), t, 4);
    assert_eq!(g.model(), &alone);
    // Another max_bins is another value: it must not reuse these bins.
    let coarse = BoostParams { max_bins: 8, ..p };
    let on_shared = GradientBoosting::fit_shared(x.view(), t, &coarse, 11, &shared).unwrap();
    assert_eq!(
        on_shared,
        GradientBoosting::fit(x.view(), t, &coarse, 11).unwrap()
    );
    assert_ne!(on_shared, alone);
}

#[test]
fn an_infinite_value_is_refused_with_or_without_shared_bins() {
    let mut x = Array2::from_shape_fn((40, 2), |(i, j)| (i * (j + 1)) as f64);
    x[[7, 1]] = f64::INFINITY;
    let y: Vec<f64> = (0..40).map(|i| f64::from(i % 3)).collect();
    for shared in [Shared::default(), Shared::disabled()] {
        let e = GradientBoosting::fit_shared(x.view(), Targets::Values(&y), &small(2), 0, &shared)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 7, feature 1") && e.contains("infinite"),
            "{e}"
        );
    }
}

#[test]
fn growing_step_by_step_equals_one_fit() {
    // Row and feature subsampling on, so every seed stream is used.
    let (x, y) = load("wine.csv");
    let c = classes(&y);
    let n_classes = c.iter().max().unwrap() + 1;
    let t = Targets::Classes { y: &c, n_classes };
    let params: Params = [
        ("subsample".to_string(), Value::Float(0.7)),
        ("max_features".to_string(), Value::Float(0.6)),
    ]
    .into_iter()
    .collect();
    let mut g = Growing::start(x.view(), t, &params, 4).unwrap();
    for n in [1, 3, 3, 9] {
        g.grow_to(x.view(), t, n);
        let p = BoostParams {
            subsample: 0.7,
            max_features: 0.6,
            ..small(n)
        };
        let once = fit_classes(&x, &y, &p, 4);
        assert_eq!(g.model().iterations(), once.iterations(), "{n} iterations");
    }
    let (xr, yr) = load("diabetes.csv");
    let mut g = Growing::start(xr.view(), Targets::Values(&yr), &Params::new(), 0).unwrap();
    g.grow_to(xr.view(), Targets::Values(&yr), 2);
    g.grow_to(xr.view(), Targets::Values(&yr), 5);
    let once = GradientBoosting::fit(xr.view(), Targets::Values(&yr), &small(5), 0).unwrap();
    assert_eq!(g.model(), &once);
}

#[test]
fn first_k_rounds_equal_a_fit_with_max_iter_k() {
    let (x, y) = load("wine.csv");
    let p = BoostParams {
        subsample: 0.7,
        max_features: 0.6,
        ..small(12)
    };
    let full = fit_classes(&x, &y, &p, 4);
    for k in [1, 5, 12] {
        let short = fit_classes(&x, &y, &BoostParams { max_iter: k, ..p }, 4);
        assert_eq!(short.iterations(), &full.iterations()[..k]);
        assert_eq!(
            bits(&full.predict_rounds(x.view(), k).unwrap()),
            bits(&short.predict(x.view()).unwrap())
        );
    }
    let (xr, yr) = load("diabetes.csv");
    let full = GradientBoosting::fit(xr.view(), Targets::Values(&yr), &small(10), 0).unwrap();
    let short = GradientBoosting::fit(xr.view(), Targets::Values(&yr), &small(4), 0).unwrap();
    assert_eq!(
        full.predict_rounds(xr.view(), 4).unwrap(),
        short.predict(xr.view()).unwrap()
    );
}

#[test]
fn quality_on_shipped_data() {
    let (x, y) = load("breast_cancer.csv");
    let (xtr, ytr, xte, yte) = holdout(&x, &y);
    let m = fit_classes(&xtr, &ytr, &BoostParams::default(), 0);
    let acc = accuracy(&labels(&m.predict(xte.view()).unwrap()), &classes(&yte));
    assert!(acc > 0.93, "{acc}");
    let (x, y) = load("wine.csv");
    let (xtr, ytr, xte, yte) = holdout(&x, &y);
    let m = fit_classes(&xtr, &ytr, &BoostParams::default(), 0);
    let pred = m.predict(xte.view()).unwrap();
    if let Prediction::Classes { proba: Some(p), .. } = &pred {
        assert_eq!(p.ncols(), 3);
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
    }
    let acc = accuracy(&labels(&pred), &classes(&yte));
    assert!(acc > 0.9, "{acc}");
    let (x, y) = load("diabetes.csv");
    let (xtr, ytr, xte, yte) = holdout(&x, &y);
    let m = GradientBoosting::fit(xtr.view(), Targets::Values(&ytr), &small(100), 0).unwrap();
    let Prediction::Values(v) = m.predict(xte.view()).unwrap() else {
        panic!("values")
    };
    let r = r2(&v, &yte);
    assert!(r > 0.3, "{r}");
}

#[test]
fn missing_values_learn_a_direction() {
    // Class 1 is x > 5 or missing: NaN must go right with the large
    // values, although the missing rows are not the largest.
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for i in 0..200 {
        let v = (i % 10) as f64;
        if i % 7 == 0 {
            xs.push(f64::NAN);
            ys.push(1.0);
        } else {
            xs.push(v);
            ys.push(if v > 5.0 { 1.0 } else { 0.0 });
        }
    }
    let x = Array2::from_shape_vec((xs.len(), 1), xs).unwrap();
    let m = fit_classes(&x, &ys, &small(20), 0);
    let probe = array![[0.0], [9.0], [f64::NAN]];
    assert_eq!(labels(&m.predict(probe.view()).unwrap()), vec![0, 1, 1]);
    let Node::Split { missing_left, .. } = m.iterations()[0][0].nodes()[0] else {
        panic!("no split")
    };
    assert!(!missing_left);
    // A feature with no NaN in training sends NaN to the larger child.
    let x2 = Array2::from_shape_fn((100, 1), |(i, _)| i as f64);
    let y2: Vec<f64> = (0..100).map(|i| if i < 70 { 0.0 } else { 1.0 }).collect();
    let m = fit_classes(&x2, &y2, &small(1), 0);
    let Node::Split { missing_left, .. } = m.iterations()[0][0].nodes()[0] else {
        panic!("no split")
    };
    assert!(missing_left);
    let inf = array![[1.0], [f64::INFINITY]];
    assert!(GradientBoosting::fit(inf.view(), Targets::Values(&[1.0, 2.0]), &small(1), 0).is_err());
}

#[test]
fn limits_bound_the_trees() {
    let (x, y) = load("diabetes.csv");
    let p = BoostParams {
        max_leaf_nodes: Some(4),
        ..small(3)
    };
    let m = GradientBoosting::fit(x.view(), Targets::Values(&y), &p, 0).unwrap();
    for t in m.iterations().iter().flatten() {
        let leaves = t
            .nodes()
            .iter()
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count();
        assert_eq!(leaves, 4);
    }
    let p = BoostParams {
        max_leaf_nodes: None,
        max_depth: Some(1),
        ..small(3)
    };
    let m = GradientBoosting::fit(x.view(), Targets::Values(&y), &p, 0).unwrap();
    assert!(m
        .iterations()
        .iter()
        .flatten()
        .all(|t| t.nodes().len() == 3));
    // min_samples_leaf larger than half the rows: no split at all.
    let p = BoostParams {
        min_samples_leaf: 1000,
        ..small(2)
    };
    let m = GradientBoosting::fit(x.view(), Targets::Values(&y), &p, 0).unwrap();
    assert!(m
        .iterations()
        .iter()
        .flatten()
        .all(|t| t.nodes().len() == 1));
}

#[test]
fn parameters_are_read_and_checked() {
    let read = |pairs: &[(&str, Value)]| {
        let map: Params = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        BoostParams::from_reader(&Reader {
            model: MODEL,
            params: &map,
        })
    };
    assert_eq!(read(&[]).unwrap(), BoostParams::default());
    let p = read(&[
        ("max_leaf_nodes", Value::Str("none".into())),
        ("max_depth", Value::Int(3)),
        ("max_features", Value::Int(1)),
    ])
    .unwrap();
    assert_eq!((p.max_leaf_nodes, p.max_depth), (None, Some(3)));
    assert_eq!(p.max_features, 1.0);
    for (name, v) in [
        ("learning_rate", Value::Float(0.0)),
        ("max_iter", Value::Int(0)),
        ("max_leaf_nodes", Value::Int(1)),
        ("max_depth", Value::Int(0)),
        ("min_samples_leaf", Value::Int(0)),
        ("l2_regularization", Value::Float(-1.0)),
        ("max_features", Value::Float(1.5)),
        ("max_bins", Value::Int(256)),
        ("max_bins", Value::Int(1)),
        ("subsample", Value::Float(0.0)),
    ] {
        let e = read(&[(name, v)]).unwrap_err().to_string();
        assert!(e.contains(&format!("parameter `{name}`")), "{e}");
        assert!(INFO.param(name).is_some());
    }
}

#[test]
fn serde_round_trip_and_broken_models_are_refused() {
    let (x, y) = load("wine.csv");
    let m = fit_classes(&x, &y, &small(3), 1);
    let json = serde_json::to_string(&Fitted::GradientBoosting(m.clone())).unwrap();
    let back: Fitted = serde_json::from_str(&json).unwrap();
    assert_eq!(back, Fitted::GradientBoosting(m.clone()));
    assert_eq!(
        bits(&back.predict(x.view()).unwrap()),
        bits(&m.predict(x.view()).unwrap())
    );
    let json = serde_json::to_string(&m).unwrap();
    let wrong = json.replacen("\"left\":", "\"left\":0,\"x\":", 1);
    assert!(serde_json::from_str::<GradientBoosting>(&wrong).is_err());
    let wrong = json.replacen("\"n_features\":13", "\"n_features\":0", 1);
    assert!(serde_json::from_str::<GradientBoosting>(&wrong).is_err());
    let wrong = json.replacen("\"n_classes\":3", "\"n_classes\":2", 1);
    assert!(serde_json::from_str::<GradientBoosting>(&wrong).is_err());
    assert!(m.predict(array![[1.0]].view()).is_err());
}

/// The leaf of `tree` that `row` lands in.
fn leaf_of(tree: &BoostTree, row: &[f64]) -> usize {
    let mut i = 0;
    loop {
        match &tree.nodes()[i] {
            Node::Leaf { .. } => return i,
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

fn absolute(max_iter: usize) -> BoostParams {
    BoostParams {
        loss: Some(Loss::AbsoluteError),
        ..small(max_iter)
    }
}

#[test]
fn absolute_error_starts_at_the_median_and_sets_leaves_to_median_residuals() {
    let (x, y) = load("diabetes.csv");
    let m = GradientBoosting::fit(x.view(), Targets::Values(&y), &absolute(2), 0).unwrap();
    let mut sorted = y.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let med = |s: &[f64]| {
        let n = s.len();
        if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        }
    };
    assert_eq!(m.baseline, vec![med(&sorted)]);
    assert!(n % 2 == 0 || m.baseline[0] == sorted[n / 2]);
    // Each leaf of each tree: the learning rate times the median of
    // y - (raw prediction before the tree) over the training rows in it.
    let mut raw = vec![m.baseline[0]; n];
    for trees in m.iterations() {
        let tree = &trees[0];
        let leaves: Vec<usize> = x
            .rows()
            .into_iter()
            .map(|r| leaf_of(tree, r.as_slice().unwrap()))
            .collect();
        let n_leaves = tree
            .nodes()
            .iter()
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count();
        assert!(n_leaves > 2, "{n_leaves}");
        for (id, node) in tree.nodes().iter().enumerate() {
            let Node::Leaf { value } = node else { continue };
            let mut res: Vec<f64> = (0..n)
                .filter(|i| leaves[*i] == id)
                .map(|i| y[i] - raw[i])
                .collect();
            res.sort_by(f64::total_cmp);
            assert_eq!(value.to_bits(), (0.1 * med(&res)).to_bits(), "leaf {id}");
        }
        for i in 0..n {
            let Node::Leaf { value } = tree.nodes()[leaves[i]] else {
                unreachable!()
            };
            raw[i] += value;
        }
    }
    // Predictions are those raw values, and the fit is reproducible.
    let Prediction::Values(p) = m.predict(x.view()).unwrap() else {
        panic!("values")
    };
    assert_eq!(
        p.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        raw.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn absolute_error_resists_outliers_and_grows_like_one_fit() {
    // y = x, but one row in seven is a huge outlier (spread over every x):
    // absolute error stays near y = x where squared error is pulled far up
    // (scikit-learn 1.9.1 on the same data: 10.40 and 100010.2).
    let n = 200;
    let x = Array2::from_shape_fn((n, 1), |(i, _)| (i % 20) as f64);
    let y: Vec<f64> = (0..n)
        .map(|i| if i % 7 == 0 { 1e6 } else { (i % 20) as f64 })
        .collect();
    let probe = array![[10.0]];
    let value = |p: &BoostParams| {
        let m = GradientBoosting::fit(x.view(), Targets::Values(&y), p, 0).unwrap();
        let Prediction::Values(v) = m.predict(probe.view()).unwrap() else {
            panic!("values")
        };
        v[0]
    };
    let p = BoostParams {
        min_samples_leaf: 5,
        ..absolute(100)
    };
    let abs = value(&p);
    let sq = value(&BoostParams { loss: None, ..p });
    assert!((abs - 10.0).abs() < 2.0, "{abs}");
    assert!(sq > 1000.0, "{sq}");
    // Growing in steps equals one fit, with row subsampling on.
    let params: Params = [
        ("loss".to_string(), Value::Str("absolute_error".into())),
        ("subsample".to_string(), Value::Float(0.7)),
    ]
    .into_iter()
    .collect();
    let (xr, yr) = load("diabetes.csv");
    let t = Targets::Values(&yr);
    let mut g = Growing::start(xr.view(), t, &params, 5).unwrap();
    g.grow_to(xr.view(), t, 2);
    g.grow_to(xr.view(), t, 6);
    let once = BoostParams {
        subsample: 0.7,
        ..absolute(6)
    };
    let once = GradientBoosting::fit(xr.view(), t, &once, 5).unwrap();
    assert_eq!(g.model(), &once);
}

#[test]
fn loss_must_suit_the_task() {
    let (x, y) = load("wine.csv");
    let c = classes(&y);
    let t = Targets::Classes {
        y: &c,
        n_classes: 3,
    };
    for loss in [Loss::AbsoluteError, Loss::SquaredError] {
        let p = BoostParams {
            loss: Some(loss),
            ..small(1)
        };
        let e = GradientBoosting::fit(x.view(), t, &p, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("parameter `loss`"), "{e}");
        assert!(e.contains("use \"log_loss\""), "{e}");
    }
    let p = BoostParams {
        loss: Some(Loss::LogLoss),
        ..small(1)
    };
    let e = GradientBoosting::fit(x.view(), Targets::Values(&y), &p, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("parameter `loss`"), "{e}");
    // The registry says which choice suits which task.
    let hp = INFO.param("loss").unwrap();
    let abs = Value::Str("absolute_error".into());
    assert!(hp.check(&abs).is_ok());
    assert!(hp.check_task(&abs, Task::Regression).is_ok());
    let e = hp.check_task(&abs, Task::Classification).unwrap_err();
    assert!(
        e.contains("is for regression") && e.contains("\"log_loss\""),
        "{e}"
    );
    assert!(hp.check(&Value::Str("huber".into())).is_err());
    // Explicit default losses change nothing.
    let sq = BoostParams {
        loss: Some(Loss::SquaredError),
        ..small(3)
    };
    assert_eq!(
        GradientBoosting::fit(x.view(), Targets::Values(&y), &sq, 0).unwrap(),
        GradientBoosting::fit(x.view(), Targets::Values(&y), &small(3), 0).unwrap()
    );
}
