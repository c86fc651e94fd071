use super::tests::{classes, load};
use super::*;
use ndarray::Array2;

/// Every number of a tree as bits, with its structure.
fn bits(t: &DecisionTree) -> Vec<(usize, u64, usize, usize, Vec<u64>)> {
    t.nodes()
        .iter()
        .map(|n| match n {
            Node::Split {
                feature,
                threshold,
                left,
                right,
            } => (*feature, threshold.to_bits(), *left, *right, Vec::new()),
            Node::Leaf { value } => (0, 0, 0, 0, value.iter().map(|v| v.to_bits()).collect()),
        })
        .collect()
}

/// `n` rows of `d` features, values on a grid of `levels` (ties when
/// small), and three classes that depend on the first features.
fn synthetic(n: usize, d: usize, levels: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, d), |_| below(&mut rng, levels) as f64 - 7.25);
    let y = x
        .rows()
        .into_iter()
        .map(|r| {
            let s = r[0] + 0.5 * r[1 % d] - r[2 % d] + below(&mut rng, levels) as f64 * 0.3;
            if s < 0.0 {
                0
            } else if s < levels as f64 * 0.4 {
                1
            } else {
                2
            }
        })
        .collect();
    (x, y)
}

fn bootstrap(n: usize, seed: u64) -> Vec<u32> {
    let mut w = vec![0u32; n];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for _ in 0..n {
        w[below(&mut rng, n)] += 1;
    }
    w
}

fn param_sets(task: Task) -> Vec<TreeParams> {
    let mut out = Vec::new();
    let criteria: &[Criterion] = match task {
        Task::Classification => &[Criterion::Gini, Criterion::Entropy],
        Task::Regression => &[Criterion::SquaredError],
    };
    for &criterion in criteria {
        for max_features in [
            MaxFeatures::Count(1),
            MaxFeatures::Sqrt,
            MaxFeatures::Log2,
            MaxFeatures::Fraction(0.5),
            MaxFeatures::All,
        ] {
            for (max_depth, min_samples_split, min_samples_leaf, min_impurity_decrease) in [
                (None, 2, 1, 0.0),
                (Some(3), 2, 1, 0.0),
                (Some(8), 10, 4, 0.0),
                (None, 2, 7, 0.0),
                (None, 5, 1, 1e-3),
            ] {
                out.push(TreeParams {
                    criterion,
                    max_depth,
                    min_samples_split,
                    min_samples_leaf,
                    max_features,
                    min_impurity_decrease,
                });
            }
        }
    }
    out
}

/// Fit with both layouts, plain rows and two bootstrap samples, and
/// three seeds; the trees must be equal bit for bit. Returns how many
/// trees were compared.
fn compare(x: &Array2<f64>, labels: Labels<'_>, task: Task) -> usize {
    let sorted = Sorted::new(MODEL, x.view(), labels).unwrap();
    let n = x.nrows();
    let weights = [vec![1u32; n], bootstrap(n, 11), bootstrap(n, 12)];
    let mut count = 0;
    for p in param_sets(task) {
        for (i, w) in weights.iter().enumerate() {
            for seed in [0, 1, 2] {
                let fit =
                    |layout| grow_with(MODEL, &sorted, labels, w, &p, seed, Some(layout)).unwrap();
                let (plain, fast) = (fit(Layout::Partition), fit(Layout::PerNode));
                assert_eq!(
                    bits(&plain),
                    bits(&fast),
                    "params {p:?}, weights {i}, seed {seed}"
                );
                count += 1;
            }
        }
    }
    count
}

#[test]
fn per_node_layout_grows_the_plain_layouts_trees_classification() {
    let mut trees = 0;
    for (n, d, levels, seed) in [(300, 6, 12, 1), (500, 30, 1000, 2), (200, 3, 3, 3)] {
        let (x, y) = synthetic(n, d, levels, seed);
        let labels = Labels::Classes {
            y: &y,
            n_classes: 3,
        };
        trees += compare(&x, labels, Task::Classification);
    }
    for name in ["wine.csv", "breast_cancer.csv", "digits.csv"] {
        let (x, y) = load(name);
        let y = classes(&y);
        let n_classes = y.iter().max().unwrap() + 1;
        trees += compare(
            &x,
            Labels::Classes { y: &y, n_classes },
            Task::Classification,
        );
    }
    assert_eq!(trees, 6 * 2 * 25 * 3 * 3);
}

#[test]
fn per_node_layout_grows_the_plain_layouts_trees_regression() {
    let mut trees = 0;
    for (n, d, levels, seed) in [(300, 6, 12, 4), (400, 20, 1000, 5)] {
        let (x, y) = synthetic(n, d, levels, seed);
        // Targets with many digits, so that the order of the sums shows.
        let y: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(i, c)| *c as f64 * 1.1 + (i % 7) as f64 * 0.37 + 0.1)
            .collect();
        trees += compare(&x, Labels::Values(&y), Task::Regression);
    }
    let (x, y) = load("diabetes.csv");
    trees += compare(&x, Labels::Values(&y), Task::Regression);
    assert_eq!(trees, 3 * 25 * 3 * 3);
}

#[test]
fn the_layout_follows_the_share_of_features_scanned() {
    assert_eq!(Layout::choose(5, 30), Layout::PerNode);
    assert_eq!(Layout::choose(4, 20), Layout::PerNode);
    assert_eq!(Layout::choose(30, 30), Layout::Partition);
    assert_eq!(Layout::choose(1, 1), Layout::Partition);
}

#[test]
fn rank_sorts_agree() {
    let mut bits = vec![0u64; 1000usize.div_ceil(64)];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    for len in [1, 2, 3, 10, 100, 900, 1000] {
        let mut all: Vec<u32> = (0..1000).collect();
        for i in 0..len {
            let j = i + below(&mut rng, 1000 - i);
            all.swap(i, j);
        }
        let mut keys = all[..len].to_vec();
        let (lo, hi) = (*keys.iter().min().unwrap(), *keys.iter().max().unwrap());
        let mut want = keys.clone();
        want.sort();
        sort_ranks(&mut keys, &mut bits, lo, hi);
        assert_eq!(keys, want);
        assert!(bits.iter().all(|b| *b == 0));
    }
}

/// Timings of both layouts (not a test of speed: run by hand with
/// `cargo test --release --lib layout_tests::timing -- --ignored --nocapture`).
#[test]
#[ignore]
fn timing() {
    let (x, y) = synthetic(16000, 30, 1 << 30, 7);
    let labels = Labels::Classes {
        y: &y,
        n_classes: 3,
    };
    let sorted = Sorted::new(MODEL, x.view(), labels).unwrap();
    for k in [1, 3, 5, 8, 10, 15, 30] {
        for depth in [Some(6), None] {
            let mut p = TreeParams::defaults(Task::Classification, MaxFeatures::Count(k));
            p.max_depth = depth;
            let mut t = [0.0; 2];
            for (j, layout) in [Layout::Partition, Layout::PerNode].into_iter().enumerate() {
                let start = std::time::Instant::now();
                for s in 0..5 {
                    let w = bootstrap(16000, s);
                    grow_with(MODEL, &sorted, labels, &w, &p, s, Some(layout)).unwrap();
                }
                t[j] = start.elapsed().as_secs_f64();
            }
            println!(
                "k {k:2} depth {depth:?}: partition {:.3} s, per-node {:.3} s, ratio {:.2}",
                t[0],
                t[1],
                t[0] / t[1]
            );
        }
    }
}
