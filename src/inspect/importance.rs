//! Parameter importance by functional ANOVA (fANOVA) on a random forest,
//! the method Optuna's default importance evaluator uses (Hutter, Hoos and
//! Leyton-Brown, "An efficient approach for assessing hyperparameter
//! importance", ICML 2014).
//!
//! # Method
//!
//! 1. Each successful trial is a point in the unit cube (one coordinate a
//!    parameter, by [`crate::space::Param::to_unit`]: log parameters on
//!    their log scale, a categorical choice `k` of `n` at `(k + 0.5) / n`)
//!    with its objective value.
//! 2. hpsearch's own random-forest regressor (64 trees, bootstrap, every
//!    feature at every split, fixed seed 0) is fitted to those points.
//! 3. A tree cuts the cube into boxes, each with a constant value, so under
//!    the uniform distribution on the cube its total variance `V` and the
//!    variance `V_j` of its *main effect* of parameter `j` (the tree's value
//!    averaged over every other parameter, as a function of `j` alone) are
//!    exact finite sums over its leaves and the thresholds it uses on `j`.
//! 4. The importance of `j` is the mean of `V_j / V` over the trees (trees
//!    with `V = 0` left out), normalised so the importances sum to 1.
//!    Interactions are not attributed to any parameter, so before the
//!    normalisation the fractions may sum to less than 1.
//!
//! Everything is deterministic: a fixed seed, leaves visited in node order,
//! sums in a fixed order.

use ndarray::Array2;

use crate::objective::models::forest::{ForestParams, RandomForest};
use crate::objective::models::tree::{DecisionTree, MaxFeatures, Node, TreeParams};
use crate::objective::models::Task;

/// Trees in the forest.
pub const N_TREES: usize = 64;

/// Fewest successful trials importance is computed from.
pub const MIN_TRIALS: usize = 4;

/// Most trials the forest is fitted to. Beyond it, an even spread of the
/// rows as given is kept (see [`spread`]): the forest's cost grows with
/// the rows, and a few thousand points already pin down how much each
/// parameter matters.
pub const MAX_ROWS: usize = 2_000;

/// `k` indices spread evenly over `0..n` (all of them when `k >= n`):
/// `floor(i * n / k)` for `i` in `0..k`, so the first row is always kept.
/// Deterministic: the same `n` and `k` give the same indices.
pub fn spread(n: usize, k: usize) -> Vec<usize> {
    if k >= n {
        return (0..n).collect();
    }
    (0..k)
        .map(|i| (i as u128 * n as u128 / k as u128) as usize)
        .collect()
}

/// The importance of each column of `x` (points in the unit cube, one row a
/// trial) for `y`, summing to 1; see the module doc. `None` when there are
/// fewer than [`MIN_TRIALS`] points, no columns, all values are equal, or
/// the forest explains no variance. More than [`MAX_ROWS`] rows are thinned
/// to an even spread of [`MAX_ROWS`] of them, in the order given (the
/// report passes them best first, so the spread keeps the values'
/// distribution).
pub fn fanova(x: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let d = x.first().map_or(0, Vec::len);
    if x.len() < MIN_TRIALS || x.len() != y.len() || d == 0 || x.iter().any(|r| r.len() != d) {
        return None;
    }
    let keep = spread(x.len(), MAX_ROWS);
    let (x, y): (Vec<&Vec<f64>>, Vec<f64>) = keep.iter().map(|&i| (&x[i], y[i])).unzip();
    if y.iter().all(|v| *v == y[0]) || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let flat: Vec<f64> = x.iter().flat_map(|r| r.iter()).copied().collect();
    let xa = Array2::from_shape_vec((x.len(), d), flat).ok()?;
    let mut tree = TreeParams::defaults(Task::Regression, MaxFeatures::All);
    tree.max_depth = Some(64);
    let params = ForestParams {
        n_estimators: N_TREES,
        bootstrap: true,
        tree,
    };
    let forest = RandomForest::fit_regressor(xa.view(), &y, &params, 0).ok()?;
    let mut sum = vec![0.0; d];
    let mut used = 0usize;
    for t in forest.trees() {
        if let Some(f) = tree_fractions(t, d) {
            for (s, v) in sum.iter_mut().zip(&f) {
                *s += v;
            }
            used += 1;
        }
    }
    if used == 0 {
        return None;
    }
    let total: f64 = sum.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    Some(sum.iter().map(|s| s / total).collect())
}

/// A leaf of a tree as a box of the unit cube with its value.
struct Leaf {
    lo: Vec<f64>,
    hi: Vec<f64>,
    value: f64,
}

/// The leaves of `tree` over the unit cube `[0, 1]^d`, in node order.
fn leaves(tree: &DecisionTree, d: usize) -> Vec<Leaf> {
    let nodes = tree.nodes();
    let mut out = Vec::new();
    let mut stack = vec![(0usize, vec![0.0; d], vec![1.0; d])];
    while let Some((i, lo, hi)) = stack.pop() {
        match nodes.get(i) {
            Some(Node::Leaf { value }) => out.push(Leaf {
                lo,
                hi,
                value: value.first().copied().unwrap_or(0.0),
            }),
            Some(Node::Split {
                feature,
                threshold,
                left,
                right,
            }) if *feature < d => {
                let t = threshold.clamp(lo[*feature], hi[*feature]);
                let (mut lhi, mut rlo) = (hi.clone(), lo.clone());
                lhi[*feature] = t;
                rlo[*feature] = t;
                // Right pushed first so the left subtree is visited first.
                stack.push((*right, rlo, hi));
                stack.push((*left, lo, lhi));
            }
            _ => {}
        }
    }
    out
}

/// `V_j / V` for each feature `j` of one tree; `None` when the tree is
/// constant over the cube.
///
/// The main effect of `j` is a step function of `x_j` whose steps are the
/// leaves' bounds on `j`; it is found by one sweep over those bounds
/// sorted (a leaf's weight enters at its lower bound and leaves at its
/// upper), `O(L log L)` for `L` leaves, where testing every leaf against
/// every step would be `O(L²)` (the report's former hot spot: 20,000
/// trials took minutes).
fn tree_fractions(tree: &DecisionTree, d: usize) -> Option<Vec<f64>> {
    let leaves = leaves(tree, d);
    let volume = |l: &Leaf, skip: Option<usize>| -> f64 {
        (0..d)
            .filter(|&k| Some(k) != skip)
            .map(|k| l.hi[k] - l.lo[k])
            .product()
    };
    let mean: f64 = leaves.iter().map(|l| volume(l, None) * l.value).sum();
    let var: f64 = leaves
        .iter()
        .map(|l| volume(l, None) * (l.value - mean) * (l.value - mean))
        .sum();
    if var <= 1e-300 || !var.is_finite() {
        return None;
    }
    let mut out = Vec::with_capacity(d);
    let mut events: Vec<(f64, f64)> = Vec::with_capacity(2 * leaves.len());
    for j in 0..d {
        // Why centred values: the leaves cut every slice `x_j = t` into
        // pieces whose other volumes sum to 1, so the main effect minus the
        // mean is the sum of the active leaves' `volume * (value - mean)`;
        // small terms keep the sweep's running sum accurate.
        events.clear();
        for l in &leaves {
            if l.hi[j] <= l.lo[j] {
                continue;
            }
            let c = volume(l, Some(j)) * (l.value - mean);
            events.push((l.lo[j], c));
            events.push((l.hi[j], -c));
        }
        // Position order; at one position in leaf order (a stable sort), so
        // the sums are the same run after run.
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut vj = 0.0;
        let mut effect = 0.0;
        let mut at = 0.0;
        let mut k = 0;
        while k < events.len() {
            let here = events[k].0;
            if here > at {
                vj += (here - at) * effect * effect;
            }
            while k < events.len() && events[k].0 == here {
                effect += events[k].1;
                k += 1;
            }
            at = at.max(here);
        }
        if at < 1.0 {
            vj += (1.0 - at) * effect * effect;
        }
        out.push(vj / var);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree from its nodes (through the artifact format, which checks it).
    fn tree(nodes: &str, d: usize) -> DecisionTree {
        let json = format!(
            "{{\"task\":\"regression\",\"n_features\":{d},\"n_outputs\":1,\"nodes\":{nodes}}}"
        );
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn one_split_on_x0_is_all_x0() {
        let t = tree(
            r#"[{"split":{"feature":0,"threshold":0.5,"left":1,"right":2}},
                {"leaf":{"value":[0.0]}},{"leaf":{"value":[1.0]}}]"#,
            2,
        );
        assert_eq!(tree_fractions(&t, 2), Some(vec![1.0, 0.0]));
    }

    #[test]
    fn additive_tree_by_hand() {
        // f = a(x0) + b(x1): x0 < 0.25 adds 0, else 4; x1 < 0.5 adds 0,
        // else 2. Values: (0,0)=0, (0,1)=2, (1,0)=4, (1,1)=6.
        // Main effect of x0: 0 w.p. 1/4, 4 w.p. 3/4: variance 16*3/16 = 3.
        // Main effect of x1: 0 or 2 w.p. 1/2: variance 1. Total 4.
        let t = tree(
            r#"[{"split":{"feature":0,"threshold":0.25,"left":1,"right":2}},
                {"split":{"feature":1,"threshold":0.5,"left":3,"right":4}},
                {"split":{"feature":1,"threshold":0.5,"left":5,"right":6}},
                {"leaf":{"value":[1.0]}},{"leaf":{"value":[3.0]}},
                {"leaf":{"value":[5.0]}},{"leaf":{"value":[7.0]}}]"#,
            2,
        );
        let f = tree_fractions(&t, 2).unwrap();
        assert!((f[0] - 0.75).abs() < 1e-12, "{f:?}");
        assert!((f[1] - 0.25).abs() < 1e-12, "{f:?}");
    }

    #[test]
    fn pure_interaction_has_no_main_effect() {
        // XOR on the two halves: each parameter alone explains nothing.
        let t = tree(
            r#"[{"split":{"feature":0,"threshold":0.5,"left":1,"right":2}},
                {"split":{"feature":1,"threshold":0.5,"left":3,"right":4}},
                {"split":{"feature":1,"threshold":0.5,"left":5,"right":6}},
                {"leaf":{"value":[0.0]}},{"leaf":{"value":[1.0]}},
                {"leaf":{"value":[1.0]}},{"leaf":{"value":[0.0]}}]"#,
            2,
        );
        assert_eq!(tree_fractions(&t, 2), Some(vec![0.0, 0.0]));
    }

    /// 60 trials on a 2-D grid-like sequence (no RNG needed): y depends on
    /// x0 strongly, on x1 not at all.
    fn synthetic(f: impl Fn(f64, f64) -> f64) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..60 {
            // Additive recurrences (golden ratio, sqrt 2): well spread.
            let a = (i as f64 * 0.618_033_988_749_895 + 0.1).fract();
            let b = (i as f64 * 0.414_213_562_373_095 + 0.3).fract();
            x.push(vec![a, b]);
            y.push(f(a, b));
        }
        (x, y)
    }

    #[test]
    fn the_parameter_that_matters_gets_the_importance() {
        let (x, y) = synthetic(|a, _| (3.0 * a).sin() * 10.0);
        let imp = fanova(&x, &y).unwrap();
        assert!(imp[0] > 0.9, "{imp:?}");
        assert!(imp[1] < 0.1, "{imp:?}");
        assert!((imp[0] + imp[1] - 1.0).abs() < 1e-12);
        // And the other way round.
        let (x, y) = synthetic(|_, b| b * b);
        let imp = fanova(&x, &y).unwrap();
        assert!(imp[1] > 0.9 && imp[0] < 0.1, "{imp:?}");
    }

    #[test]
    fn importance_is_reproducible_bit_for_bit() {
        let (x, y) = synthetic(|a, b| a + 0.3 * b);
        let p = fanova(&x, &y).unwrap();
        let q = fanova(&x, &y).unwrap();
        assert_eq!(
            p.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            q.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        // a's range of effect is 1, b's 0.3: variances 1/12 and 0.09/12.
        assert!(p[0] > p[1] && p[1] > 0.02, "{p:?}");
    }

    #[test]
    fn too_few_or_constant_trials_give_none() {
        let (x, y) = synthetic(|a, _| a);
        assert_eq!(fanova(&x[..3], &y[..3]), None);
        let flat = vec![1.0; x.len()];
        assert_eq!(fanova(&x, &flat), None);
    }

    /// The definition, term by term: for every step between two leaf
    /// bounds on `j`, the main effect there summed over the leaves that
    /// span it (`O(L²)`; what the sweep replaced).
    fn fractions_by_definition(tree: &DecisionTree, d: usize) -> Vec<f64> {
        let leaves = leaves(tree, d);
        let volume = |l: &Leaf, skip: Option<usize>| -> f64 {
            (0..d)
                .filter(|&k| Some(k) != skip)
                .map(|k| l.hi[k] - l.lo[k])
                .product()
        };
        let mean: f64 = leaves.iter().map(|l| volume(l, None) * l.value).sum();
        let var: f64 = leaves
            .iter()
            .map(|l| volume(l, None) * (l.value - mean).powi(2))
            .sum();
        (0..d)
            .map(|j| {
                let mut cuts: Vec<f64> = leaves.iter().flat_map(|l| [l.lo[j], l.hi[j]]).collect();
                cuts.extend([0.0, 1.0]);
                cuts.sort_by(f64::total_cmp);
                cuts.dedup();
                let vj: f64 = cuts
                    .windows(2)
                    .map(|w| {
                        let mid = 0.5 * (w[0] + w[1]);
                        let m: f64 = leaves
                            .iter()
                            .filter(|l| l.lo[j] < mid && mid < l.hi[j])
                            .map(|l| volume(l, Some(j)) * l.value)
                            .sum();
                        (w[1] - w[0]) * (m - mean).powi(2)
                    })
                    .sum();
                vj / var
            })
            .collect()
    }

    #[test]
    fn the_sweep_equals_the_definition_on_a_fitted_forest() {
        let (x, y) = synthetic(|a, b| (5.0 * a).sin() + a * b * 3.0 + b * b);
        let flat: Vec<f64> = x.iter().flatten().copied().collect();
        let xa = Array2::from_shape_vec((x.len(), 2), flat).unwrap();
        let mut tree = TreeParams::defaults(Task::Regression, MaxFeatures::All);
        tree.max_depth = Some(64);
        let params = ForestParams {
            n_estimators: 8,
            bootstrap: true,
            tree,
        };
        let forest = RandomForest::fit_regressor(xa.view(), &y, &params, 0).unwrap();
        for t in forest.trees() {
            let fast = tree_fractions(t, 2).unwrap();
            let slow = fractions_by_definition(t, 2);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-9, "{fast:?} {slow:?}");
            }
        }
    }

    #[test]
    fn spread_keeps_the_first_and_is_even() {
        assert_eq!(spread(3, 5), vec![0, 1, 2]);
        assert_eq!(spread(10, 4), vec![0, 2, 5, 7]);
        assert_eq!(spread(100_000, MAX_ROWS).len(), MAX_ROWS);
    }

    #[test]
    fn many_rows_are_thinned_to_the_cap_and_still_find_the_parameter() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..3 * MAX_ROWS {
            let a = (i as f64 * 0.618_033_988_749_895 + 0.1).fract();
            let b = (i as f64 * 0.414_213_562_373_095 + 0.3).fract();
            x.push(vec![a, b]);
            y.push(a * a * 4.0 + 0.01 * b);
        }
        let imp = fanova(&x, &y).unwrap();
        assert!(imp[0] > 0.95, "{imp:?}");
        // Thinning takes rows 0, 3, 6, ...: the same as passing those.
        let keep = spread(x.len(), MAX_ROWS);
        let xs: Vec<Vec<f64>> = keep.iter().map(|&i| x[i].clone()).collect();
        let ys: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
        assert_eq!(fanova(&xs, &ys), Some(imp));
    }
}
