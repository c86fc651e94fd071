//! The boosting loop of `gradient_boosting`: [`Growing`] holds a fit in
//! progress (binned rows, raw predictions, gradients) and adds iterations
//! one at a time; [`GradientBoosting::fit`] is `start` then `grow_to`.
//! It never sees folds, metrics or files.

use std::sync::Arc;

use ndarray::ArrayView2;
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::bins::Binned;
use super::grow::{grow, Grads, GrowParams};
use super::loss::{baseline, expit, median, softmax, Loss};
use super::{stream, trees_per_iteration, BoostParams, BoostTree, GradientBoosting, Node, MODEL};
use crate::objective::models::tree::below;
use crate::objective::models::{ModelError, Reader, Shared, Targets, Task};
use crate::value::Params;

/// A `gradient_boosting` fit in progress: the model of its first
/// iterations and what the next iteration needs (the binned rows and the
/// raw predictions). [`Growing::grow_to`] adds iterations; the model after
/// `n` of them is the model of `max_iter = n`, bit for bit, however the
/// growth was split (it is the same loop [`GradientBoosting::fit`] runs).
/// This is how `resource = "iterations"` climbs its ladder.
pub struct Growing {
    pub(super) model: GradientBoosting,
    p: BoostParams,
    /// The loss, resolved against the task.
    loss: Loss,
    seed: u64,
    /// The training matrix's bins (shared by the fits on it in a search).
    binned: Arc<Binned>,
    raw: Vec<f64>,
    g: Vec<Vec<f32>>,
    h: Vec<Vec<f32>>,
    prob: Vec<f64>,
    gp: GrowParams,
    all: Vec<u32>,
    rows: Vec<u32>,
    in_sample: Vec<bool>,
}

impl Growing {
    /// Start a fit on `x`/`y` with `params` (validated values; missing
    /// ones take the defaults; `max_iter` is ignored) and no iteration.
    pub fn start(
        x: ArrayView2<'_, f64>,
        y: Targets<'_>,
        params: &Params,
        seed: u64,
    ) -> Result<Growing, ModelError> {
        Self::start_shared(x, y, params, seed, &Shared::disabled())
    }

    /// [`Growing::start`], with the bins `shared` keeps for `x` (made
    /// there if it has none yet): the same fit, bit for bit.
    pub fn start_shared(
        x: ArrayView2<'_, f64>,
        y: Targets<'_>,
        params: &Params,
        seed: u64,
        shared: &Shared,
    ) -> Result<Growing, ModelError> {
        let reader = Reader {
            model: MODEL,
            params,
        };
        let p = BoostParams::from_reader(&reader)?;
        GradientBoosting::start(x, y, &BoostParams { max_iter: 1, ..p }, seed, shared)
    }

    /// The model of the iterations grown so far.
    pub fn model(&self) -> &GradientBoosting {
        &self.model
    }

    /// Grow to `n` iterations (none when it has as many already), on the
    /// same `x`/`y` as [`Growing::start`].
    // Why: the row loops index several per-row vectors at once (targets,
    // gradients, raw predictions) in one order, as the fit always did.
    #[allow(clippy::needless_range_loop)]
    pub fn grow_to(&mut self, x: ArrayView2<'_, f64>, y: Targets<'_>, iterations: usize) {
        let k = self.model.baseline.len();
        let n = self.raw.len() / k.max(1);
        let task = self.model.task;
        while self.model.iterations.len() < iterations {
            let it = self.model.iterations.len();
            // Gradients and hessians at the current raw predictions.
            match y {
                // scikit-learn's AbsoluteError: the sign of raw - y, and
                // -1 on a tie.
                Targets::Values(v) if self.loss == Loss::AbsoluteError => {
                    for i in 0..n {
                        self.g[0][i] = if self.raw[i] > v[i] { 1.0 } else { -1.0 };
                    }
                }
                Targets::Values(v) => {
                    for i in 0..n {
                        self.g[0][i] = (self.raw[i] - v[i]) as f32;
                    }
                }
                Targets::Classes { y: c, .. } if k == 1 => {
                    for i in 0..n {
                        let pr = expit(self.raw[i]);
                        self.g[0][i] = (pr - if c[i] == 1 { 1.0 } else { 0.0 }) as f32;
                        self.h[0][i] = (pr * (1.0 - pr)) as f32;
                    }
                }
                Targets::Classes { y: c, .. } => {
                    for i in 0..n {
                        softmax(&self.raw[i * k..(i + 1) * k], &mut self.prob);
                        for (cls, pr) in self.prob.iter().enumerate() {
                            let t = if c[i] == cls { 1.0 } else { 0.0 };
                            self.g[cls][i] = (pr - t) as f32;
                            self.h[cls][i] = (pr * (1.0 - pr)) as f32;
                        }
                    }
                }
            }
            // The rows of this iteration.
            let sampled = self.p.subsample < 1.0;
            if sampled {
                let m = ((self.p.subsample * n as f64) as usize).clamp(1, n);
                let mut perm = self.all.clone();
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(stream(self.seed, 1, it as u64));
                for i in 0..m {
                    let j = i + below(&mut rng, n - i);
                    perm.swap(i, j);
                }
                perm.truncate(m);
                perm.sort_unstable();
                self.in_sample.iter_mut().for_each(|s| *s = false);
                for &r in &perm {
                    self.in_sample[r as usize] = true;
                }
                self.rows = perm;
            }
            let mut trees = Vec::with_capacity(k);
            for cls in 0..k {
                let mut rows_k = if sampled {
                    self.rows.clone()
                } else {
                    self.all.clone()
                };
                let mut rng =
                    Xoshiro256PlusPlus::seed_from_u64(stream(self.seed, 2, (it * k + cls) as u64));
                let grads = Grads {
                    g: &self.g[cls],
                    h: (task == Task::Classification).then_some(&self.h[cls][..]),
                };
                let grown = grow(&self.binned, &mut rows_k, &grads, &self.gp, &mut rng);
                let mut nodes = grown.nodes;
                for node in &mut nodes {
                    if let Node::Leaf { value } = node {
                        *value *= self.p.learning_rate;
                    }
                }
                // What each leaf adds to its rows' raw predictions.
                let mut steps: Vec<(usize, usize, f64)> = Vec::with_capacity(grown.leaves.len());
                for (id, a, b, v) in grown.leaves {
                    let mut step = v * self.p.learning_rate;
                    if let (Loss::AbsoluteError, Targets::Values(t)) = (self.loss, y) {
                        // scikit-learn's `_update_leaves_values`: the leaf
                        // is the median residual of its rows (at the raw
                        // predictions before this tree), shrunk; the L2
                        // penalty does not enter.
                        let mut res: Vec<f64> = rows_k[a..b]
                            .iter()
                            .map(|&r| t[r as usize] - self.raw[r as usize * k + cls])
                            .collect();
                        if !res.is_empty() {
                            step = self.p.learning_rate * median(&mut res);
                            if let Some(node) = nodes.get_mut(id) {
                                *node = Node::Leaf { value: step };
                            }
                        }
                    }
                    steps.push((a, b, step));
                }
                let tree = BoostTree { nodes };
                // Raw predictions: the rows the tree was grown on by their
                // leaf, the others through the tree.
                for (a, b, v) in steps {
                    for &r in &rows_k[a..b] {
                        self.raw[r as usize * k + cls] += v;
                    }
                }
                if sampled {
                    let mut row = vec![0.0; x.ncols()];
                    for i in (0..n).filter(|i| !self.in_sample[*i]) {
                        row.iter_mut().zip(x.row(i)).for_each(|(d, s)| *d = *s);
                        self.raw[i * k + cls] += tree.value(&row);
                    }
                }
                trees.push(tree);
            }
            self.model.iterations.push(trees);
        }
    }
}

impl GradientBoosting {
    /// A fit on `x`/`y` of no iteration yet, to grow with
    /// [`Growing::grow_to`].
    pub(super) fn start(
        x: ArrayView2<'_, f64>,
        y: Targets<'_>,
        p: &BoostParams,
        seed: u64,
        shared: &Shared,
    ) -> Result<Growing, ModelError> {
        p.check()?;
        let n = x.nrows();
        if n == 0 || x.ncols() == 0 {
            return Err(ModelError::Fit {
                model: MODEL,
                message: "no training rows or no feature column".into(),
            });
        }
        let (task, n_classes) = match y {
            Targets::Classes { n_classes, .. } => (Task::Classification, n_classes),
            Targets::Values(_) => (Task::Regression, 0),
        };
        match y {
            Targets::Classes { y, n_classes } => {
                if n_classes < 2 {
                    return Err(ModelError::Fit {
                        model: MODEL,
                        message: format!("needs at least 2 classes (got {n_classes})"),
                    });
                }
                if y.len() != n || y.iter().any(|c| *c >= n_classes) {
                    return Err(ModelError::Fit {
                        model: MODEL,
                        message: "class indices do not match the rows".into(),
                    });
                }
            }
            Targets::Values(v) => {
                if v.len() != n || v.iter().any(|t| !t.is_finite()) {
                    return Err(ModelError::Fit {
                        model: MODEL,
                        message: "targets must be finite, one a row".into(),
                    });
                }
            }
        }
        let loss = p.loss.unwrap_or(Loss::default_for(task));
        if loss.task() != task {
            return Err(ModelError::Param {
                model: MODEL,
                name: "loss".into(),
                message: format!(
                    "\"{}\" is for {}, but the targets are for {}; use \"{}\"",
                    loss.name(),
                    loss.task().name(),
                    task.name(),
                    Loss::default_for(task).name()
                ),
            });
        }
        let k = trees_per_iteration(task, n_classes);
        let binned = Binned::shared(x, p.max_bins, shared)?;
        let baseline = baseline(y, n, k, loss);
        // raw[i * k + c]: the raw prediction of row i, tree c.
        let raw: Vec<f64> = (0..n * k).map(|j| baseline[j % k]).collect();
        let g = vec![vec![0f32; n]; k];
        let h = vec![vec![0f32; n]; k];
        let prob = vec![0.0; k];
        let n_sub_features = (p.max_features < 1.0).then(|| {
            ((p.max_features * binned.n_features() as f64).ceil() as usize)
                .clamp(1, binned.n_features())
        });
        let gp = GrowParams {
            max_leaf_nodes: p.max_leaf_nodes,
            max_depth: p.max_depth,
            min_samples_leaf: p.min_samples_leaf,
            l2: p.l2_regularization,
            n_sub_features,
        };
        let all: Vec<u32> = (0..n as u32).collect();
        let rows: Vec<u32> = Vec::new();
        let in_sample = vec![true; n];
        Ok(Growing {
            model: GradientBoosting {
                task,
                n_features: x.ncols(),
                n_classes,
                baseline,
                iterations: Vec::with_capacity(p.max_iter),
            },
            p: *p,
            loss,
            seed,
            binned,
            raw,
            g,
            h,
            prob,
            gp,
            all,
            rows,
            in_sample,
        })
    }
}
