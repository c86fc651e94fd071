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
//!   (numpy's "midpoint" percentiles, as scikit-learn). Values `<=` a
//!   threshold fall in its bin or below; NaN falls in a bin of its own.
//! - **Sums.** A node's rows stay in ascending row order (stable
//!   partitions); each feature's histogram is summed over them in that
//!   order by one task, so rayon's thread count never changes a bit. The
//!   larger child's histogram is the parent's minus the smaller child's.
//! - **Ties.** The best split has the largest gain; on equal gains the
//!   lowest feature wins, then the left-to-right scan (missing values
//!   right), then the lowest bin. The next node to split is the one with
//!   the largest gain, the earliest created on ties.
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
//! This module never sees folds, metrics or files.

use ndarray::{Array2, ArrayView2};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::tree::{argmax_rows, below};
use super::{
    check_width, Fitted, HyperParam, ModelError, ModelInfo, Prediction, Reader, Targets, Task,
    POSITIVE,
};
use crate::value::{Params, Value};

const MODEL: &str = "gradient_boosting";

/// The bin of a missing value (NaN); real bins are `0..max_bins` (<= 255).
const MISSING: u8 = 255;
const N_BINS: usize = 256;
/// scikit-learn's `min_hessian_to_split`.
const MIN_HESSIAN: f64 = 1e-3;

/// The registry entry of `gradient_boosting`.
pub const INFO: ModelInfo = ModelInfo {
    name: MODEL,
    summary: "histogram gradient boosted trees (hpsearch's own, bit-stable across threads), \
              scikit-learn HistGradientBoosting's parameters",
    tasks: &[Task::Classification, Task::Regression],
    probabilities: true,
    params: &[
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
    pub learning_rate: f64,
    pub max_iter: usize,
    pub max_leaf_nodes: Option<usize>,
    pub max_depth: Option<usize>,
    pub min_samples_leaf: usize,
    pub l2_regularization: f64,
    pub max_features: f64,
    pub max_bins: usize,
    pub subsample: f64,
}

impl Default for BoostParams {
    /// scikit-learn's defaults.
    fn default() -> Self {
        BoostParams {
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
    pub fn from_reader(r: &Reader<'_>) -> Result<Self, ModelError> {
        let d = BoostParams::default();
        let p = BoostParams {
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

/// Train a `gradient_boosting` model on one fold.
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
    let p = BoostParams::from_reader(&reader)?;
    Ok(Fitted::GradientBoosting(GradientBoosting::fit(
        x, y, &p, seed,
    )?))
}

/// A `gradient_boosting` fit in progress: the model of its first
/// iterations and what the next iteration needs (the binned rows and the
/// raw predictions). [`Growing::grow_to`] adds iterations; the model after
/// `n` of them is the model of `max_iter = n`, bit for bit, however the
/// growth was split (it is the same loop [`GradientBoosting::fit`] runs).
/// This is how `resource = "iterations"` climbs its ladder.
pub struct Growing {
    model: GradientBoosting,
    p: BoostParams,
    seed: u64,
    binned: Binned,
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
        let reader = Reader {
            model: MODEL,
            params,
        };
        let p = BoostParams::from_reader(&reader)?;
        GradientBoosting::start(x, y, &BoostParams { max_iter: 1, ..p }, seed)
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
                let tree = BoostTree { nodes };
                // Raw predictions: the rows the tree was grown on by their
                // leaf, the others through the tree.
                for (a, b, v) in grown.leaves {
                    let v = v * self.p.learning_rate;
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

// ------------------------------------------------------------------ bins --

/// The training features as bins, column by column.
struct Binned {
    /// `cols[f][row]`: the bin of a cell, [`MISSING`] for NaN.
    cols: Vec<Vec<u8>>,
    /// `thresholds[f]`: ascending; bin `b` holds values in
    /// `(thresholds[b-1], thresholds[b]]`.
    thresholds: Vec<Vec<f64>>,
    /// Whether the feature had a missing value in training.
    has_missing: Vec<bool>,
}

/// The bin thresholds of one feature's non-missing values (scikit-learn's
/// `_find_binning_thresholds`).
fn thresholds(mut values: Vec<f64>, max_bins: usize) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    let mut distinct = values.clone();
    distinct.dedup();
    let mut t: Vec<f64> = if distinct.len() <= max_bins {
        distinct.windows(2).map(|w| (w[0] + w[1]) * 0.5).collect()
    } else {
        // numpy's percentile(method="midpoint") at linspace(0, 100,
        // max_bins + 1)[1:-1].
        let n = values.len();
        let step = 100.0 / max_bins as f64;
        (1..max_bins)
            .map(|k| {
                let q = (k as f64 * step) / 100.0;
                let v = (n - 1) as f64 * q;
                let lo = v.floor();
                if lo == v.ceil() {
                    values[lo as usize]
                } else {
                    let (a, b) = (values[lo as usize], values[lo as usize + 1]);
                    b - (b - a) * 0.5
                }
            })
            .collect()
    };
    for v in &mut t {
        if *v > f64::MAX {
            *v = f64::MAX;
        }
    }
    t
}

/// The bin of `v` under `thresholds`: how many thresholds lie below it.
fn bin_of(thresholds: &[f64], v: f64) -> u8 {
    if v.is_nan() {
        MISSING
    } else {
        // At most 254 thresholds, so the count fits below MISSING.
        thresholds.partition_point(|t| *t < v) as u8
    }
}

impl Binned {
    fn new(x: ArrayView2<'_, f64>, max_bins: usize) -> Result<Binned, ModelError> {
        let n_rows = x.nrows();
        // Per feature: its bins, thresholds and whether it had a NaN.
        type Feature = (Vec<u8>, Vec<f64>, bool);
        let per_feature: Vec<Result<Feature, ModelError>> = (0..x.ncols())
            .into_par_iter()
            .map(|f| {
                let col = x.column(f);
                let mut values = Vec::with_capacity(n_rows);
                for (r, v) in col.iter().enumerate() {
                    if v.is_infinite() {
                        return Err(ModelError::Fit {
                            model: MODEL,
                            message: format!(
                                "row {r}, feature {f}: value {v} is infinite (NaN is read as \
                                 missing; infinite values are not)"
                            ),
                        });
                    }
                    if !v.is_nan() {
                        values.push(*v);
                    }
                }
                let has_missing = values.len() < n_rows;
                let t = thresholds(values, max_bins);
                let bins = col.iter().map(|v| bin_of(&t, *v)).collect();
                Ok((bins, t, has_missing))
            })
            .collect();
        let mut b = Binned {
            cols: Vec::with_capacity(x.ncols()),
            thresholds: Vec::with_capacity(x.ncols()),
            has_missing: Vec::with_capacity(x.ncols()),
        };
        for r in per_feature {
            let (c, t, m) = r?;
            b.cols.push(c);
            b.thresholds.push(t);
            b.has_missing.push(m);
        }
        Ok(b)
    }

    fn n_features(&self) -> usize {
        self.cols.len()
    }

    /// Bins holding non-missing values of feature `f`.
    fn n_bins_non_missing(&self, f: usize) -> usize {
        self.thresholds[f].len() + 1
    }
}

// ----------------------------------------------------------- histograms --

#[derive(Clone, Copy, Debug, Default)]
struct Bin {
    g: f64,
    h: f64,
    n: u32,
}

/// Per-feature histograms of one node: `N_BINS` bins a feature.
type Hist = Vec<Bin>;

/// Gradients and hessians of the rows of one tree.
struct Grads<'a> {
    g: &'a [f32],
    /// `None`: every hessian is 1 (squared error), counted instead.
    h: Option<&'a [f32]>,
}

/// The histograms of `rows`: each feature summed over the rows in their
/// order, one feature a task.
fn build_hist(binned: &Binned, rows: &[u32], grads: &Grads<'_>) -> Hist {
    let ordered_g: Vec<f32> = rows.iter().map(|&r| grads.g[r as usize]).collect();
    let ordered_h: Option<Vec<f32>> = grads
        .h
        .map(|h| rows.iter().map(|&r| h[r as usize]).collect());
    let mut hist = vec![Bin::default(); binned.n_features() * N_BINS];
    hist.par_chunks_mut(N_BINS)
        .zip(binned.cols.par_iter())
        .for_each(|(out, col)| {
            match &ordered_h {
                Some(oh) => {
                    for ((&r, &g), &h) in rows.iter().zip(&ordered_g).zip(oh) {
                        let b = &mut out[col[r as usize] as usize];
                        b.g += f64::from(g);
                        b.h += f64::from(h);
                        b.n += 1;
                    }
                }
                None => {
                    for (&r, &g) in rows.iter().zip(&ordered_g) {
                        let b = &mut out[col[r as usize] as usize];
                        b.g += f64::from(g);
                        b.n += 1;
                    }
                }
            }
            if ordered_h.is_none() {
                for b in out.iter_mut() {
                    b.h = f64::from(b.n);
                }
            }
        });
    hist
}

/// `parent - child`, bin by bin.
fn subtract(parent: &Hist, child: &Hist) -> Hist {
    parent
        .iter()
        .zip(child)
        .map(|(p, c)| Bin {
            g: p.g - c.g,
            h: p.h - c.h,
            n: p.n - c.n,
        })
        .collect()
}

// -------------------------------------------------------------- growing --

/// scikit-learn's `compute_node_value`.
fn node_value(g: f64, h: f64, l2: f64) -> f64 {
    -g / (h + l2 + 1e-15)
}

#[derive(Clone, Copy, Debug)]
struct Split {
    gain: f64,
    feature: usize,
    bin: usize,
    missing_left: bool,
    g_left: f64,
    h_left: f64,
}

/// Settings of one tree's growth.
struct GrowParams {
    max_leaf_nodes: Option<usize>,
    max_depth: Option<usize>,
    min_samples_leaf: usize,
    l2: f64,
    /// Features a split may use (`None`: all), drawn per node.
    n_sub_features: Option<usize>,
}

/// The best split of one feature (scikit-learn's two scans), or `None`.
#[allow(clippy::too_many_arguments)]
fn best_split_of(
    binned: &Binned,
    f: usize,
    hist: &[Bin],
    n: u32,
    sum_g: f64,
    sum_h: f64,
    value: f64,
    p: &GrowParams,
) -> Option<Split> {
    let msl = p.min_samples_leaf as u32;
    let nb = binned.n_bins_non_missing(f);
    let has_missing = binned.has_missing[f];
    let loss_node = sum_g * value;
    let gain_of = |gl: f64, hl: f64, gr: f64, hr: f64| {
        let vl = node_value(gl, hl, p.l2);
        let vr = node_value(gr, hr, p.l2);
        loss_node - gl * vl - gr * vr
    };
    let mut best: Option<Split> = None;
    let mut best_gain = -1.0;
    // Left to right: missing values go right.
    let end = nb - 1 + usize::from(has_missing);
    let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0u32);
    for (b, bin) in hist.iter().enumerate().take(end) {
        nl += bin.n;
        let nr = n - nl;
        hl += bin.h;
        let hr = sum_h - hl;
        gl += bin.g;
        let gr = sum_g - gl;
        if nl < msl {
            continue;
        }
        if nr < msl {
            break;
        }
        if hl < MIN_HESSIAN {
            continue;
        }
        if hr < MIN_HESSIAN {
            break;
        }
        let gain = gain_of(gl, hl, gr, hr);
        if gain > best_gain && gain > 0.0 {
            best_gain = gain;
            best = Some(Split {
                gain,
                feature: f,
                bin: b,
                missing_left: false,
                g_left: gl,
                h_left: hl,
            });
        }
    }
    // Right to left: missing values go left.
    if has_missing && nb >= 2 {
        let (mut gr, mut hr, mut nr) = (0.0, 0.0, 0u32);
        for b in (0..nb - 1).rev() {
            let bin = hist[b + 1];
            nr += bin.n;
            let nl = n - nr;
            hr += bin.h;
            let hl = sum_h - hr;
            gr += bin.g;
            let gl = sum_g - gr;
            if nr < msl {
                continue;
            }
            if nl < msl {
                break;
            }
            if hr < MIN_HESSIAN {
                continue;
            }
            if hl < MIN_HESSIAN {
                break;
            }
            let gain = gain_of(gl, hl, gr, hr);
            if gain > best_gain && gain > 0.0 {
                best_gain = gain;
                best = Some(Split {
                    gain,
                    feature: f,
                    bin: b,
                    missing_left: true,
                    g_left: gl,
                    h_left: hl,
                });
            }
        }
    }
    best
}

/// A node waiting to be split, in the grower.
struct Open {
    id: usize,
    start: usize,
    end: usize,
    depth: usize,
    sum_g: f64,
    sum_h: f64,
    value: f64,
    hist: Hist,
    split: Split,
}

/// Heap order: largest gain first, then the earliest node.
struct Key {
    gain: f64,
    id: usize,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.gain
            .total_cmp(&other.gain)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// A tree being grown: its nodes (split nodes still hold their bin) and
/// the row range of each finished leaf.
struct Grown {
    nodes: Vec<Node>,
    /// `(start, end, leaf value)` in the row buffer.
    leaves: Vec<(usize, usize, f64)>,
}

/// Grow one tree on `rows` (ascending; reordered in place) by best-first
/// splitting, scikit-learn's `TreeGrower`. Leaf values are not yet shrunk.
fn grow(
    binned: &Binned,
    rows: &mut [u32],
    grads: &Grads<'_>,
    p: &GrowParams,
    rng: &mut Xoshiro256PlusPlus,
) -> Grown {
    let n_features = binned.n_features();
    let mut nodes = vec![Node::Leaf { value: 0.0 }];
    let mut leaves = Vec::new();
    let m = rows.len();
    let hist = build_hist(binned, rows, grads);
    let (sum_g, sum_h) = hist[..N_BINS]
        .iter()
        .fold((0.0, 0.0), |(g, h), b| (g + b.g, h + b.h));
    let msl = p.min_samples_leaf;
    let mut scratch: Vec<u32> = Vec::with_capacity(m);
    let mut features: Vec<usize> = (0..n_features).collect();

    // The best split of a node over this node's feature draw.
    let mut find = |hist: &[Bin], n: usize, g: f64, h: f64, value: f64| -> Option<Split> {
        let chosen: &[usize] = match p.n_sub_features {
            Some(k) if k < n_features => {
                for i in 0..k {
                    let j = i + below(rng, n_features - i);
                    features.swap(i, j);
                }
                features[..k].sort_unstable();
                &features[..k]
            }
            _ => &features[..],
        };
        let mut best: Option<Split> = None;
        for &f in chosen {
            let s = best_split_of(
                binned,
                f,
                &hist[f * N_BINS..(f + 1) * N_BINS],
                n as u32,
                g,
                h,
                value,
                p,
            );
            if let Some(s) = s {
                if best.is_none_or(|b| s.gain > b.gain) {
                    best = Some(s);
                }
            }
        }
        best
    };

    let mut heap: BinaryHeap<Key> = BinaryHeap::new();
    let mut open: Vec<Option<Open>> = vec![None];
    if m < 2 * msl || sum_h < MIN_HESSIAN {
        leaves.push((0, m, 0.0));
        return Grown { nodes, leaves };
    }
    match find(&hist, m, sum_g, sum_h, 0.0) {
        Some(split) => {
            heap.push(Key {
                gain: split.gain,
                id: 0,
            });
            open[0] = Some(Open {
                id: 0,
                start: 0,
                end: m,
                depth: 0,
                sum_g,
                sum_h,
                value: 0.0,
                hist,
                split,
            });
        }
        None => {
            leaves.push((0, m, 0.0));
            return Grown { nodes, leaves };
        }
    }

    while let Some(key) = heap.pop() {
        let Some(node) = open.get_mut(key.id).and_then(Option::take) else {
            continue;
        };
        let s = node.split;
        // Stable partition of the node's rows.
        let col = &binned.cols[s.feature];
        let goes_left = |r: u32| {
            let b = col[r as usize];
            if b == MISSING {
                s.missing_left
            } else {
                usize::from(b) <= s.bin
            }
        };
        scratch.clear();
        let mut w = node.start;
        for i in node.start..node.end {
            let r = rows[i];
            if goes_left(r) {
                rows[w] = r;
                w += 1;
            } else {
                scratch.push(r);
            }
        }
        rows[w..node.end].copy_from_slice(&scratch);
        let mid = w;
        let n_left = mid - node.start;
        let n_right = node.end - mid;
        let missing_left = if binned.has_missing[s.feature] {
            s.missing_left
        } else {
            n_left > n_right
        };
        let depth = node.depth + 1;
        let (gl, hl) = (s.g_left, s.h_left);
        let (gr, hr) = (node.sum_g - gl, node.sum_h - hl);
        let vl = node_value(gl, hl, p.l2);
        let vr = node_value(gr, hr, p.l2);
        let (left, right) = (nodes.len(), nodes.len() + 1);
        let threshold = binned.thresholds[s.feature]
            .get(s.bin)
            .copied()
            .unwrap_or(f64::MAX);
        nodes[node.id] = Node::Split {
            feature: s.feature,
            threshold,
            missing_left,
            left,
            right,
        };
        nodes.push(Node::Leaf { value: vl });
        nodes.push(Node::Leaf { value: vr });
        open.extend([None, None]);
        let n_leaf = leaves.len() + heap.len() + 2;

        let finish_all = p.max_leaf_nodes == Some(n_leaf);
        let at_depth = p.max_depth == Some(depth);
        let left_leaf = finish_all || at_depth || n_left < 2 * msl;
        let right_leaf = finish_all || at_depth || n_right < 2 * msl;
        let mut children = [
            (left, node.start, mid, gl, hl, vl, left_leaf, None::<Hist>),
            (right, mid, node.end, gr, hr, vr, right_leaf, None::<Hist>),
        ];
        if !(left_leaf && right_leaf) {
            let small = usize::from(n_left >= n_right);
            let (_, a, b, ..) = children[small];
            let h_small = build_hist(binned, &rows[a..b], grads);
            children[1 - small].7 = Some(subtract(&node.hist, &h_small));
            children[small].7 = Some(h_small);
        }
        for (id, a, b, g, h, v, is_leaf, hist) in children {
            let split = match (&hist, is_leaf) {
                (Some(hh), false) => find(hh, b - a, g, h, v),
                _ => None,
            };
            match (split, hist) {
                (Some(split), Some(hist)) => {
                    heap.push(Key {
                        gain: split.gain,
                        id,
                    });
                    open[id] = Some(Open {
                        id,
                        start: a,
                        end: b,
                        depth,
                        sum_g: g,
                        sum_h: h,
                        value: v,
                        hist,
                        split,
                    });
                }
                _ => leaves.push((a, b, v)),
            }
        }
        if finish_all {
            // Every node still waiting becomes a leaf.
            while let Some(k) = heap.pop() {
                if let Some(o) = open.get_mut(k.id).and_then(Option::take) {
                    leaves.push((o.start, o.end, o.value));
                }
            }
        }
    }
    Grown { nodes, leaves }
}

// ---------------------------------------------------------------- model --

/// A node of a boosted tree. Children always come after their parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// `x <= threshold` goes left, a larger value right, NaN to the
    /// learned side.
    Split {
        feature: usize,
        threshold: f64,
        missing_left: bool,
        left: usize,
        right: usize,
    },
    /// The tree's output (already multiplied by the learning rate).
    Leaf { value: f64 },
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

/// `1 / (1 + e^-x)`.
fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Softmax of `raw` into `out`, classes summed in index order.
fn softmax(raw: &[f64], out: &mut [f64]) {
    let max = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (o, r) in out.iter_mut().zip(raw) {
        *o = (r - max).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
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
        let mut grower = Self::start(x, y, p, seed)?;
        grower.grow_to(x, y, p.max_iter);
        Ok(grower.model)
    }

    /// A fit on `x`/`y` of no iteration yet, to grow with
    /// [`Growing::grow_to`].
    fn start(
        x: ArrayView2<'_, f64>,
        y: Targets<'_>,
        p: &BoostParams,
        seed: u64,
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
        let k = trees_per_iteration(task, n_classes);
        let binned = Binned::new(x, p.max_bins)?;
        let baseline = baseline(y, n, k);
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

/// The starting raw prediction of each tree (scikit-learn's
/// `fit_intercept_only`): the mean target; the log-odds of class 1; or
/// the log class shares less their mean.
fn baseline(y: Targets<'_>, n: usize, k: usize) -> Vec<f64> {
    match y {
        Targets::Values(v) => vec![v.iter().sum::<f64>() / n as f64],
        Targets::Classes { y, n_classes } => {
            let mut counts = vec![0usize; n_classes];
            for &c in y {
                counts[c] += 1;
            }
            let eps = f64::EPSILON;
            let share = |c: usize| (counts[c] as f64 / n as f64).clamp(eps, 1.0 - eps);
            if k == 1 {
                let p = share(1);
                vec![(p / (1.0 - p)).ln()]
            } else {
                let logs: Vec<f64> = (0..n_classes).map(|c| share(c).ln()).collect();
                let mean = logs.iter().sum::<f64>() / n_classes as f64;
                logs.iter().map(|l| l - mean).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
        // 0..10 into 2 bins: the median, numpy's percentile(50, "midpoint").
        let t = thresholds((0..10).map(f64::from).collect(), 2);
        assert_eq!(t, vec![4.5]);
        let t = thresholds((0..1000).map(f64::from).collect(), 255);
        assert_eq!(t.len(), 254);
        assert!(t.windows(2).all(|w| w[0] <= w[1]));
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
        assert!(
            GradientBoosting::fit(inf.view(), Targets::Values(&[1.0, 2.0]), &small(1), 0).is_err()
        );
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
}
