use super::*;
use crate::objective::models::testdata;

/// A shipped dataset with class indices as targets.
fn load_csv(file: &str) -> (Array2<f64>, Vec<usize>) {
    let (x, y) = testdata::load(file);
    (x, y.iter().map(|&v| v as usize).collect())
}
use ndarray::{array, Array2};

fn params(pairs: &[(&str, Value)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn svc(x: &Array2<f64>, y: &[usize], n_classes: usize, p: SvcParams) -> Svc {
    Svc::fit(x.view(), y, n_classes, &p).unwrap()
}

/// Both the model and its registry wrapper predict.
trait Predicts {
    fn run(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError>;
}

impl Predicts for Svc {
    fn run(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        self.predict(x)
    }
}

impl Predicts for Fitted {
    fn run(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        self.predict(x)
    }
}

fn labels(m: &impl Predicts, x: &Array2<f64>) -> Vec<usize> {
    match m.run(x.view()).unwrap() {
        Prediction::Classes { labels, proba } => {
            assert!(proba.is_none());
            labels
        }
        other => panic!("not classes: {other:?}"),
    }
}

/// Standardise `train` and `test` rows with the training rows' mean and
/// population std (std 0 -> 1, as scikit-learn's StandardScaler).
fn standardise(x: &Array2<f64>, train: &[usize], test: &[usize]) -> (Array2<f64>, Array2<f64>) {
    let d = x.ncols();
    let n = train.len() as f64;
    let mut mean = vec![0.0; d];
    for &r in train {
        for c in 0..d {
            mean[c] += x[[r, c]];
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut sd = vec![0.0; d];
    for &r in train {
        for c in 0..d {
            sd[c] += (x[[r, c]] - mean[c]).powi(2);
        }
    }
    sd.iter_mut()
        .for_each(|s| *s = if *s > 0.0 { (*s / n).sqrt() } else { 1.0 });
    let pick = |rows: &[usize]| {
        Array2::from_shape_fn((rows.len(), d), |(i, c)| {
            (x[[rows[i], c]] - mean[c]) / sd[c]
        })
    };
    (pick(train), pick(test))
}

fn accuracy(y: &[usize], pred: &[usize]) -> f64 {
    let hit = y.iter().zip(pred).filter(|(a, b)| a == b).count();
    hit as f64 / y.len() as f64
}

fn linear(c: f64, tol: f64) -> SvcParams {
    SvcParams {
        c,
        kernel: KernelKind::Linear,
        tol,
        ..SvcParams::default()
    }
}

#[test]
fn separable_2d_boundary_is_the_hand_computed_one() {
    // Closest points of the two hulls are (0,0) and (2,0): the
    // max-margin boundary is x1 = 1, f(x) = 1 - x1, alpha = 1/2 each.
    let x = array![[0.0, 0.0], [-1.0, 1.0], [2.0, 0.0], [3.0, -1.0]];
    let y = [0, 0, 1, 1];
    let m = svc(&x, &y, 2, linear(1e3, 1e-9));
    assert_eq!(labels(&m, &x), y);
    let bin = &m.machines()[0];
    assert_eq!((bin.positive, bin.negative), (0, 1));
    assert!(bin.converged);
    assert_eq!(m.support(), &[0, 2]);
    assert_eq!(bin.support, vec![0, 1]);
    assert!((bin.dual_coef[0] - 0.5).abs() < 1e-9, "{:?}", bin.dual_coef);
    assert!((bin.dual_coef[1] + 0.5).abs() < 1e-9, "{:?}", bin.dual_coef);
    assert!((bin.intercept - 1.0).abs() < 1e-9, "{}", bin.intercept);
    let probe = array![[1.0, 7.0], [0.7, -3.0], [1.25, 0.5]];
    let dec = m.decision_function(probe.view());
    for (row, want) in dec.iter().zip([0.0, 0.3, -0.25]) {
        assert!((row[0] - want).abs() < 1e-9, "{row:?} vs {want}");
    }
    // On the boundary the vote goes to the second class, as in libsvm.
    assert_eq!(labels(&m, &probe), vec![1, 0, 1]);
}

#[test]
fn kkt_conditions_hold_at_the_solution() {
    // Overlapping classes, so the solution has vectors at 0, at C and
    // free. Checked against a kernel computed directly as exp(-g|a-b|^2).
    let x = array![
        [0.0, 0.0],
        [1.0, 0.2],
        [0.3, 1.1],
        [1.4, 1.3],
        [0.9, 0.8],
        [2.0, 1.9],
        [1.1, 0.9],
        [2.2, 0.4],
        [0.2, 2.1],
        [1.8, 2.5]
    ];
    let y = [0, 0, 0, 1, 0, 1, 1, 1, 0, 1];
    let (c, gamma) = (2.0, 0.7);
    let p = SvcParams {
        c,
        gamma: Gamma::Value(gamma),
        tol: 1e-10,
        ..SvcParams::default()
    };
    let m = svc(&x, &y, 2, p);
    let bin = &m.machines()[0];
    assert!(bin.converged);
    let mut alpha = [0.0; 10];
    for (&s, &coef) in bin.support.iter().zip(&bin.dual_coef) {
        alpha[m.support()[s]] = coef.abs();
        assert_eq!(coef > 0.0, y[m.support()[s]] == 0);
    }
    let sign = |r: usize| if y[r] == 0 { 1.0 } else { -1.0 };
    let balance: f64 = (0..10).map(|r| sign(r) * alpha[r]).sum();
    assert!(balance.abs() < 1e-12, "sum y alpha = {balance}");
    let k = |a: usize, b: usize| {
        let d2: f64 = (0..2).map(|f| (x[[a, f]] - x[[b, f]]).powi(2)).sum();
        (-gamma * d2).exp()
    };
    let (mut at_zero, mut at_c, mut free) = (0, 0, 0);
    for r in 0..10 {
        let fr: f64 = (0..10).map(|s| sign(s) * alpha[s] * k(s, r)).sum::<f64>() + bin.intercept;
        let margin = sign(r) * fr;
        assert!((0.0..=c).contains(&alpha[r]));
        if alpha[r] == 0.0 {
            at_zero += 1;
            assert!(margin >= 1.0 - 1e-8, "row {r}: alpha 0, margin {margin}");
        } else if alpha[r] == c {
            at_c += 1;
            assert!(margin <= 1.0 + 1e-8, "row {r}: alpha C, margin {margin}");
        } else {
            free += 1;
            assert!(
                (margin - 1.0).abs() < 1e-8,
                "row {r}: free, margin {margin}"
            );
        }
    }
    assert!(
        at_zero > 0 && at_c > 0 && free > 0,
        "{at_zero} {at_c} {free}"
    );
    // The model's own decision values agree with the direct kernel.
    let dec = m.decision_function(x.view());
    for (r, row) in dec.iter().enumerate() {
        let fr: f64 = (0..10).map(|s| sign(s) * alpha[s] * k(s, r)).sum::<f64>() + bin.intercept;
        assert!((row[0] - fr).abs() < 1e-12);
    }
}

#[test]
fn three_classes_vote_one_vs_one() {
    let x = array![
        [0.0, 0.0],
        [0.5, 0.3],
        [-0.2, 0.4],
        [5.0, 0.0],
        [5.4, 0.5],
        [4.8, -0.3],
        [0.0, 5.0],
        [0.3, 5.5],
        [-0.4, 4.7]
    ];
    let y = [0, 0, 0, 1, 1, 1, 2, 2, 2];
    let m = fit(
        x.view(),
        Targets::Classes {
            y: &y,
            n_classes: 3,
        },
        &Params::new(),
        0,
    )
    .unwrap();
    assert_eq!(labels(&m, &x), y);
    let probe = array![[0.1, 0.1], [6.0, 1.0], [0.0, 7.0]];
    assert_eq!(labels(&m, &probe), vec![0, 1, 2]);
}

#[test]
fn predicting_another_width_is_an_error() {
    let x = array![[0.0, 0.0], [0.0, 1.0], [3.0, 3.0], [3.0, 4.0]];
    let m = svc(&x, &[0, 0, 1, 1], 2, SvcParams::default());
    assert_eq!(m.n_features(), 2);
    let e = m.predict(array![[1.0]].view()).err().unwrap();
    assert_eq!(
        e.to_string(),
        "svm: trained on 2 feature columns, asked to predict rows of 1"
    );
    assert!(m.predict(Array2::zeros((1, 3)).view()).is_err());
}

#[test]
fn a_model_file_holds_the_support_vectors_row_by_row() {
    let (x, y) = load_csv("iris.csv");
    let all: Vec<usize> = (0..x.nrows()).collect();
    let (xs, _) = standardise(&x, &all, &[]);
    let m = svc(&xs, &y, 3, SvcParams::default());
    let v = serde_json::to_value(&m).unwrap();
    let n_sv = m.support().len();
    let stored = v["support_vectors"].as_array().unwrap();
    assert_eq!(stored.len(), n_sv * 4);
    // Support vector 0 is training row support()[0], standardised.
    let row0 = m.support()[0];
    for f in 0..4 {
        assert_eq!(stored[f].as_f64().unwrap(), xs[[row0, f]]);
    }
    let back: Svc = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(back, m);
    let cases = [
        ("support_vectors", serde_json::json!([1.0])),
        ("n_features", serde_json::json!(0)),
        ("n_classes", serde_json::json!(2)),
        ("machines", serde_json::json!([])),
        ("kernel", serde_json::json!({"rbf": {"gamma": -1.0}})),
    ];
    for (field, bad) in cases {
        let mut w = v.clone();
        w[field] = bad;
        assert!(serde_json::from_value::<Svc>(w).is_err(), "{field}");
    }
    let mut w = v.clone();
    w["machines"][0]["support"][0] = n_sv.into();
    assert!(serde_json::from_value::<Svc>(w).is_err());
}

#[test]
fn machines_come_in_pair_order() {
    let x = array![[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]];
    let y = [2, 2, 0, 0, 1, 1];
    let m = svc(&x, &y, 3, SvcParams::default());
    let pairs: Vec<_> = m
        .machines()
        .iter()
        .map(|b| (b.positive, b.negative))
        .collect();
    assert_eq!(pairs, vec![(0, 1), (0, 2), (1, 2)]);
}

#[test]
fn kernel_matrix_matches_direct_sums_across_blocks() {
    // More rows than one column block, and a remainder of a lane block.
    let (n, d) = (COLS + 45, 5);
    let xs: Vec<f64> = (0..n * d)
        .map(|v| ((v * 37 % 101) as f64 - 50.0) / 25.0)
        .collect();
    let sq: Vec<f64> = xs.chunks_exact(d).map(|r| dot(r, r)).collect();
    let gamma = 0.3;
    let lin = kernel_matrix(&xs, &sq, n, d, Kernel::Linear);
    let rbf = kernel_matrix(&xs, &sq, n, d, Kernel::Rbf { gamma });
    for i in 0..n {
        for j in 0..n {
            let (a, b) = (&xs[i * d..(i + 1) * d], &xs[j * d..(j + 1) * d]);
            let mut ab = 0.0;
            for f in 0..d {
                ab += a[f] * b[f];
            }
            // Upper triangle computed, lower mirrored: same bits.
            let (lo, hi) = (i.min(j), i.max(j));
            let mut s = 0.0;
            for f in 0..d {
                s += xs[lo * d + f] * xs[hi * d + f];
            }
            assert_eq!(lin[i * n + j].to_bits(), s.to_bits(), "({i}, {j})");
            assert!((lin[i * n + j] - ab).abs() < 1e-12);
            let d2: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
            let want = (-gamma * d2).exp();
            assert!((rbf[i * n + j] - want).abs() < 1e-12, "({i}, {j})");
            assert_eq!(rbf[i * n + j].to_bits(), rbf[j * n + i].to_bits());
        }
        assert_eq!(rbf[i * n + i], 1.0);
    }
}

#[test]
fn wide_and_baseline_code_give_the_same_bits() {
    // `kernel_matrix`/`solve`/`kernel_row` take the AVX2 copy where the
    // CPU has it; the `_impl` functions called here are the baseline.
    let (x, y) = load_csv("iris.csv");
    let (n, d) = x.dim();
    let xs: Vec<f64> = x.iter().map(|v| v / 3.0).collect();
    let sq: Vec<f64> = xs.chunks_exact(d).map(|r| dot(r, r)).collect();
    let kernel = Kernel::Rbf { gamma: 0.4 };
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let k = kernel_matrix(&xs, &sq, n, d, kernel);
    assert_eq!(bits(&k), bits(&kernel_matrix_impl(&xs, &sq, n, d, kernel)));
    // Classes 1 and 2 of iris (rows 50..150) overlap: a real problem.
    assert!(y[50..100].iter().all(|&c| c == 1) && y[100..].iter().all(|&c| c == 2));
    let block = PairKernel {
        k: &k,
        n,
        pos: 50,
        n_pos: 50,
        neg: 100,
        n_neg: 50,
    };
    let (a, b) = (
        solve(&block, 5.0, 1e-6, 100_000),
        solve_impl(&block, 5.0, 1e-6, 100_000),
    );
    assert!(a.iterations > 10 && a.converged);
    assert_eq!(bits(&a.alpha), bits(&b.alpha));
    assert_eq!(a.bias.to_bits(), b.bias.to_bits());
    assert_eq!(a.iterations, b.iterations);
    let xt = Columns::new(&xs, n, d);
    let (mut r1, mut r2) = (vec![0.0; n], vec![0.0; n]);
    kernel_row(&xs[7 * d..8 * d], &xt, &sq, kernel, &mut r1);
    kernel_row_impl(&xs[7 * d..8 * d], &xt, &sq, kernel, &mut r2);
    assert_eq!(bits(&r1), bits(&r2));
    // ... and the prediction kernel equals the training kernel, except
    // the diagonal, which the training matrix sets to exactly 1.
    r1[7] = 1.0;
    assert_eq!(bits(&r1), bits(&k[7 * n..8 * n]));
}

#[test]
fn exp_matches_std_within_two_ulp() {
    let mut worst: f64 = 0.0;
    for step in 0..200_000 {
        let x = -(step as f64) * 0.003_725_1;
        let (mine, std) = (exp_nonpositive(x), x.exp());
        if std > f64::MIN_POSITIVE {
            worst = worst.max(((mine - std) / std).abs());
        } else {
            assert!((mine - std).abs() <= 2.0 * 4.9e-324, "{x}: {mine} vs {std}");
        }
    }
    assert!(worst <= 2.0 * f64::EPSILON, "worst relative error {worst}");
    for (x, want) in [
        (0.0, 1.0),
        (-0.0, 1.0),
        (-1.0, (-1.0f64).exp()),
        (-745.5, 0.0),
        (-1e300, 0.0),
    ] {
        assert_eq!(exp_nonpositive(x), want, "{x}");
    }
    assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
}

#[test]
fn vote_ties_go_to_the_lowest_class() {
    let machine = |positive, negative| BinarySvm {
        positive,
        negative,
        support: vec![],
        dual_coef: vec![],
        intercept: 0.0,
        iterations: 0,
        converged: true,
    };
    let ms = [machine(0, 1), machine(0, 2), machine(1, 2)];
    let mut votes = vec![0; 3];
    // 1 beats 0, 0 beats 2, 2 beats 1: one vote each.
    assert_eq!(vote(&ms, &[-1.0, 1.0, -1.0], &mut votes), 0);
    // 1 beats 0, 2 beats 0, 2 beats 1.
    assert_eq!(vote(&ms, &[-1.0, -1.0, -1.0], &mut votes), 2);
    // A zero decision value votes for the second class: 1, 0, 2.
    assert_eq!(vote(&ms, &[0.0, 1.0, 0.0], &mut votes), 0);
    assert_eq!(vote(&ms, &[0.0, 0.0, 1.0], &mut votes), 1);
}

#[test]
fn absent_class_gets_no_machine() {
    let x = array![[0.0], [1.0], [4.0], [5.0]];
    let y = [0, 0, 2, 2];
    let m = svc(&x, &y, 3, linear(1.0, 1e-3));
    assert_eq!(m.machines().len(), 1);
    assert_eq!((m.machines()[0].positive, m.machines()[0].negative), (0, 2));
    assert_eq!(labels(&m, &x), y);
}

#[test]
fn fits_are_bit_identical() {
    let (x, y) = load_csv("iris.csv");
    let all: Vec<usize> = (0..x.nrows()).collect();
    let (xs, _) = standardise(&x, &all, &[]);
    let p = SvcParams {
        c: 10.0,
        ..SvcParams::default()
    };
    let a = svc(&xs, &y, 3, p);
    let b = svc(&xs, &y, 3, p);
    let bits = |m: &Svc| -> Vec<u64> {
        m.machines()
            .iter()
            .flat_map(|b| {
                b.dual_coef
                    .iter()
                    .chain([&b.intercept])
                    .map(|v| v.to_bits())
            })
            .collect()
    };
    assert!(!bits(&a).is_empty());
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(a.support(), b.support());
    let dec_bits = |m: &Svc| -> Vec<u64> {
        m.decision_function(xs.view())
            .iter()
            .flatten()
            .map(|v| v.to_bits())
            .collect()
    };
    assert_eq!(dec_bits(&a), dec_bits(&b));
    assert_eq!(labels(&a, &xs), labels(&b, &xs));
}

#[test]
fn iris_holdout_accuracy_is_above_0_9() {
    let (x, y) = load_csv("iris.csv");
    // Every fifth row held out: the file is sorted by class, so each
    // class gives 10 test rows.
    let (train, test): (Vec<usize>, Vec<usize>) = (0..x.nrows()).partition(|r| r % 5 != 0);
    let (xtr, xte) = standardise(&x, &train, &test);
    let ytr: Vec<usize> = train.iter().map(|&r| y[r]).collect();
    let yte: Vec<usize> = test.iter().map(|&r| y[r]).collect();
    let m = fit(
        xtr.view(),
        Targets::Classes {
            y: &ytr,
            n_classes: 3,
        },
        &Params::new(),
        0,
    )
    .unwrap();
    let acc = accuracy(&yte, &labels(&m, &xte));
    assert!(acc > 0.9, "accuracy {acc}");
    let lin = params(&[
        ("kernel", Value::Str("linear".into())),
        ("C", Value::Float(10.0)),
    ]);
    let m = fit(
        xtr.view(),
        Targets::Classes {
            y: &ytr,
            n_classes: 3,
        },
        &lin,
        0,
    )
    .unwrap();
    let acc = accuracy(&yte, &labels(&m, &xte));
    assert!(acc > 0.9, "linear accuracy {acc}");
}

#[test]
fn regression_targets_are_refused() {
    let x = array![[0.0], [1.0]];
    let err = fit(x.view(), Targets::Values(&[0.5, 1.5]), &Params::new(), 0)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("does not support regression"),
        "{err}"
    );
}

#[test]
fn gamma_scale_and_auto_follow_scikit_learn() {
    // Entries 0, 0, 2, 2, 1, 3: mean 4/3, population variance 11/9.
    let x = array![[0.0, 0.0], [2.0, 2.0], [1.0, 3.0]];
    let y = [0, 1, 1];
    let m = svc(&x, &y, 2, SvcParams::default());
    let Kernel::Rbf { gamma } = m.kernel() else {
        panic!()
    };
    assert!((gamma - 1.0 / (2.0 * 11.0 / 9.0)).abs() < 1e-15, "{gamma}");
    let p = params(&[("gamma", Value::Str("auto".into()))]);
    let m = Svc::fit(x.view(), &y, 2, &SvcParams::from_params(&p).unwrap()).unwrap();
    assert_eq!(m.kernel(), Kernel::Rbf { gamma: 0.5 });
    let p = params(&[("gamma", Value::Int(3))]);
    assert_eq!(SvcParams::from_params(&p).unwrap().gamma, Gamma::Value(3.0));
    // Constant features: variance 0 gives gamma 1.
    let flat = array![[1.0, 1.0], [1.0, 1.0]];
    let m = svc(&flat, &[0, 1], 2, SvcParams::default());
    assert_eq!(m.kernel(), Kernel::Rbf { gamma: 1.0 });
}

#[test]
fn params_default_to_the_info_defaults() {
    let p = SvcParams::from_params(&Params::new()).unwrap();
    assert_eq!(p, SvcParams::default());
    for hp in INFO.params {
        let v: Value = match hp.default.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => match hp.default.parse::<f64>() {
                Ok(f) => Value::Float(f),
                Err(_) => Value::Str(hp.default.into()),
            },
        };
        hp.check(&v).unwrap();
        let one = params(&[(hp.name, v)]);
        assert_eq!(SvcParams::from_params(&one).unwrap(), p, "{}", hp.name);
    }
    assert_eq!(INFO.tasks, &[Task::Classification]);
    let probabilities = INFO.probabilities;
    assert!(!probabilities);
}

#[test]
fn bad_params_are_errors() {
    let cases = [
        ("C", Value::Float(0.0)),
        ("C", Value::Float(f64::NAN)),
        ("gamma", Value::Float(-1.0)),
        ("gamma", Value::Str("wide".into())),
        ("gamma", Value::Bool(true)),
        ("tol", Value::Float(0.0)),
        ("max_iter", Value::Int(0)),
        ("max_iter", Value::Int(-3)),
        ("kernel", Value::Str("poly".into())),
    ];
    for (name, v) in cases {
        let err = SvcParams::from_params(&params(&[(name, v.clone())])).err();
        assert!(
            matches!(&err, Some(ModelError::Param { name: n, .. }) if n == name),
            "{name} = {v:?}: {err:?}"
        );
    }
}

#[test]
fn bad_data_are_errors() {
    let x = array![[0.0], [1.0], [2.0]];
    let p = SvcParams::default();
    assert!(Svc::fit(x.view(), &[0, 0, 0], 2, &p).is_err(), "one class");
    assert!(Svc::fit(x.view(), &[0, 1], 2, &p).is_err(), "length");
    assert!(
        Svc::fit(x.view(), &[0, 1, 2], 2, &p).is_err(),
        "class range"
    );
    let nan = array![[0.0], [f64::NAN], [2.0]];
    assert!(Svc::fit(nan.view(), &[0, 1, 1], 2, &p).is_err(), "nan");
    let huge = array![[1e200], [-1e200]];
    assert!(
        Svc::fit(huge.view(), &[0, 1], 2, &linear(1.0, 1e-3)).is_err(),
        "overflow"
    );
}

#[test]
fn max_iter_cap_still_gives_a_model() {
    let (x, y) = load_csv("iris.csv");
    let all: Vec<usize> = (0..x.nrows()).collect();
    let (xs, _) = standardise(&x, &all, &[]);
    let p = SvcParams {
        max_iter: 3,
        ..SvcParams::default()
    };
    let m = svc(&xs, &y, 3, p);
    assert!(m
        .machines()
        .iter()
        .all(|b| b.iterations == 3 && !b.converged));
    assert_eq!(labels(&m, &xs).len(), 150);
    let full = svc(&xs, &y, 3, SvcParams::default());
    assert!(full
        .machines()
        .iter()
        .all(|b| b.converged && b.iterations > 3));
}

/// Every number a model holds and every decision value it gives on `x`,
/// as bits.
fn model_bits(m: &Svc, x: &Array2<f64>) -> (Vec<usize>, Vec<u64>, Vec<u64>) {
    let coefs = m
        .machines()
        .iter()
        .flat_map(|b| {
            b.dual_coef
                .iter()
                .chain([&b.intercept])
                .map(|v| v.to_bits())
                .chain([b.iterations as u64, b.converged as u64])
        })
        .collect();
    let dec = m
        .decisions(x.view())
        .iter()
        .flatten()
        .map(|v| v.to_bits())
        .collect();
    (m.support().to_vec(), coefs, dec)
}

#[test]
fn cached_and_direct_fits_give_the_same_bits() {
    // Digits: 10 classes (45 machines), 64 features, a test set of another
    // size, more than one prediction block and a remainder.
    let (x, y) = load_csv("digits.csv");
    let train: Vec<usize> = (0..x.nrows()).filter(|r| r % 5 != 0).collect();
    let test: Vec<usize> = (0..x.nrows()).filter(|r| r % 5 == 0).take(61).collect();
    let (xtr, xte) = standardise(&x, &train, &test);
    let ytr: Vec<usize> = train.iter().map(|&r| y[r]).collect();
    let cache = Arc::new(GramCache::new(GRAM_BYTES));
    for (c, kernel, gamma) in [
        (10.0, KernelKind::Rbf, Gamma::Value(0.003)),
        (0.5, KernelKind::Rbf, Gamma::Scale),
        (1e3, KernelKind::Rbf, Gamma::Value(0.1)),
        (0.01, KernelKind::Linear, Gamma::Scale),
    ] {
        let p = SvcParams {
            c,
            kernel,
            gamma,
            ..SvcParams::default()
        };
        let direct = Svc::fit_with(xtr.view(), &ytr, 10, &p, None).unwrap();
        assert!(direct.shared.0.is_none());
        let want = model_bits(&direct, &xte);
        // The same as the uncached prediction path.
        let dec: Vec<u64> = direct
            .decision_function(xte.view())
            .iter()
            .flatten()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(want.2, dec);
        // A miss (first), then hits (the training and the test products).
        for _ in 0..2 {
            let cached = Svc::fit_with(xtr.view(), &ytr, 10, &p, Some(&cache)).unwrap();
            assert!(cached.shared.0.is_some());
            assert_eq!(model_bits(&cached, &xte), want, "C = {c}");
            assert_eq!(labels(&cached, &xte), labels(&direct, &xte));
            // Training rows, scored from their own Gram products.
            assert_eq!(model_bits(&cached, &xtr).2, model_bits(&direct, &xtr).2);
        }
    }
    // One training Gram matrix and two scored matrices, kept once each.
    let n = train.len();
    let want = 8 * (n * n + n * 64 + 61 * n + 61 * 64 + n * n + n * 64);
    assert_eq!(cache.bytes(), want);
}

#[test]
fn a_model_read_back_predicts_the_bits_of_the_cached_one() {
    let (x, y) = load_csv("iris.csv");
    let all: Vec<usize> = (0..x.nrows()).collect();
    let (xs, _) = standardise(&x, &all, &[]);
    let cache = Arc::new(GramCache::new(GRAM_BYTES));
    let p = SvcParams::default();
    let m = Svc::fit_with(xs.view(), &y, 3, &p, Some(&cache)).unwrap();
    let back: Svc = serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
    assert!(m.shared.0.is_some() && back.shared.0.is_none());
    assert_eq!(back, m);
    assert_eq!(model_bits(&back, &xs), model_bits(&m, &xs));
}

#[test]
fn lazy_rbf_rows_from_the_gram_are_the_kernel_matrix() {
    let (n, d) = (COLS + 45, 7);
    let xs: Vec<f64> = (0..n * d)
        .map(|v| ((v * 53 % 97) as f64 - 48.0) / 19.0)
        .collect();
    let sq: Vec<f64> = xs.chunks_exact(d).map(|r| dot(r, r)).collect();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let gram = kernel_matrix(&xs, &sq, n, d, Kernel::Linear);
    // Two "classes", rows 0..60 and 60..n: filling every row of the pair
    // fills the whole matrix.
    for gamma in [1e-4, 0.05, 3.0] {
        let want = kernel_matrix(&xs, &sq, n, d, Kernel::Rbf { gamma });
        let (mut k, mut done) = (vec![0.0; n * n], vec![false; 2 * n]);
        let mut lazy = LazyPair {
            k: &mut k,
            done: &mut done,
            gram: &gram,
            sq: &sq,
            gamma,
            n,
            n_classes: 2,
            pos: (0, 0, 60),
            neg: (1, 60, n - 60),
        };
        for t in (0..n).rev() {
            lazy.fill(t);
            assert_eq!(lazy.diag(t), 1.0);
        }
        assert!(done.iter().all(|&f| f));
        assert_eq!(bits(&k), bits(&want));
    }
    // The cross products are the prediction kernel's dot products.
    let rows = 5;
    let x: Vec<f64> = xs[3 * d..(3 + rows) * d].iter().map(|v| v * 1.5).collect();
    let mut cross = vec![0.0; rows * n];
    cross_dots(&x, &xs, n, d, &mut cross);
    let mut base = vec![0.0; rows * n];
    cross_dots_impl(&x, &xs, n, d, &mut base);
    assert_eq!(bits(&cross), bits(&base));
    let xt = Columns::new(&xs, n, d);
    let mut row = vec![0.0; n];
    for t in 0..rows {
        kernel_row(&x[t * d..(t + 1) * d], &xt, &sq, Kernel::Linear, &mut row);
        assert_eq!(bits(&row), bits(&cross[t * n..(t + 1) * n]));
    }
}

#[test]
fn the_gram_cache_finds_entries_by_their_bits_and_keeps_to_its_budget() {
    let (n, d) = (40, 3);
    let a: Vec<f64> = (0..n * d).map(|v| v as f64 / 7.0).collect();
    let mut b = a.clone();
    b[17] = f64::from_bits(b[17].to_bits() + 1);
    let entry = 8 * (n * n + n * d);
    let cache = GramCache::new(2 * entry);
    let ga = cache.train(&a, n, d).unwrap();
    assert!(Arc::ptr_eq(&ga, &cache.train(&a, n, d).unwrap()));
    let gb = cache.train(&b, n, d).unwrap();
    assert!(!Arc::ptr_eq(&ga, &gb));
    assert_eq!(cache.bytes(), 2 * entry);
    // `a` was used last: a third matrix evicts `b`, the least recent.
    assert!(Arc::ptr_eq(&ga, &cache.train(&a, n, d).unwrap()));
    let c: Vec<f64> = a.iter().map(|v| v + 1.0).collect();
    cache.train(&c, n, d).unwrap();
    assert_eq!(cache.bytes(), 2 * entry);
    assert!(Arc::ptr_eq(&ga, &cache.train(&a, n, d).unwrap()));
    assert!(!Arc::ptr_eq(&gb, &cache.train(&b, n, d).unwrap()));
    // An entry larger than the whole budget is never kept.
    assert!(GramCache::new(entry - 1).train(&a, n, d).is_none());
    assert!(GramCache::new(0).train(&a, n, d).is_none());
    // Cross products: by training matrix and by the scored rows' bits.
    let x = &a[..5 * d];
    let cx = cache.cross(&ga, x).unwrap();
    assert!(Arc::ptr_eq(&cx, &cache.cross(&ga, x).unwrap()));
    assert!(!Arc::ptr_eq(&cx, &cache.cross(&gb, x).unwrap()));
    assert!(cache.cross(&ga, &a[..5 * d - 1]).is_none());
    assert!(cache.bytes() <= 2 * entry);
}
