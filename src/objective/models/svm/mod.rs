//! Support vector classifier with scikit-learn's `SVC` meaning: a C-SVM
//! solved in the dual by SMO, one binary machine per pair of classes
//! (one-vs-one), prediction by majority vote.
//!
//! This module owns the kernel matrix, the dual solver and the fitted
//! model; it never sees folds, metrics or files.
//!
//! # The problem
//!
//! For a pair of classes `(p, q)`, `p < q`, the rows of class `p` get label
//! `+1` and those of class `q` get `-1`, and the solver minimises
//! `½ αᵀQα − Σα` subject to `Σ yᵢαᵢ = 0` and `0 ≤ αᵢ ≤ C`, where
//! `Qᵢⱼ = yᵢyⱼK(xᵢ, xⱼ)`. The decision value of a row `x` is
//! `Σ yᵢαᵢK(xᵢ, x) + b`; positive votes for `p`, zero or negative for `q`
//! (as libsvm does). The predicted class has the most votes; a tie goes to
//! the lowest class index.
//!
//! # The solver
//!
//! Sequential minimal optimisation with the second-order working-set
//! selection of Fan, Chen and Lin (2005, "Working set selection using
//! second order information for training SVM"): the first index is the
//! most violating one, the second the one with the largest guaranteed
//! decrease of the objective. It stops when the maximal violation
//! `max_{I_up} −yG − min_{I_low} −yG` falls below `tol` (scikit-learn's
//! stopping rule, default 1e-3) or after `max_iter` updates of one binary
//! problem (default `DEFAULT_MAX_ITER`; scikit-learn has no cap by
//! default); a problem that hits the cap still gives a model (see
//! `BinarySvm::converged`). No shrinking: the whole kernel is in memory,
//! so an iteration is a few vectorised passes over a few hundred numbers,
//! and shrinking would not pay for its bookkeeping.
//!
//! # Speed
//!
//! - The dot products of a training matrix (its Gram matrix) and of a
//!   scored matrix with it are kept by the process between fits (`gram`:
//!   a search fits the same fold for every candidate, and only `C` and
//!   `gamma` change); a fit turns them into kernel values, a prediction
//!   gathers those of its support vectors. Same bits as computing them.
//! - The training kernel is in one matrix, rows ordered by class, and
//!   every pair reads its two class blocks in place. From cached products
//!   an RBF row's block is computed when the solver first reads it
//!   (`LazyPair`), so rows it never picks cost nothing; without them the
//!   whole matrix is computed first.
//! - Dot products are summed feature by feature in ascending order, several
//!   columns at a time in vector registers; for the RBF kernel
//!   `‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b`, clamped at zero, and `e^x` is our own
//!   branch-free `exp_nonpositive`.
//! - The hot loops are compiled twice, for the baseline CPU and for AVX2,
//!   and picked at run time; both give the same bits (see `avx2_dispatch!`).
//! - Prediction scores 8 rows at a time, each machine keeping one running
//!   sum per row, each in the order of one row alone.
//!
//! On digits (1797 × 64, 10 classes), 5-fold CV over an 8 × 8 grid of `C`
//! and `gamma`, this is about 4× faster than scikit-learn's libsvm on one
//! core, with the same accuracies (to ±1 row where `tol` lets the two
//! solvers stop at slightly different points): `scripts/bench_svm.sh`.
//!
//! # Determinism
//!
//! No randomness at all (the seed is unused): single-threaded, every sum in
//! a fixed order, every arg-max/arg-min keeps the lowest index on ties,
//! no libm in the kernel.

use std::sync::Arc;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::Reader;
use super::{check_width, wrong_task, Fitted, HyperParam, ModelError, ModelInfo, Prediction};
use super::{Targets, Task, POSITIVE};
use crate::numeric::avx2_dispatch;
use crate::value::{Params, Value};

mod gram;
pub use gram::GRAM_BYTES;
use gram::{GramCache, TrainGram};

const NAME: &str = "svm";

/// Default cap on SMO updates for one binary (pair) problem.
pub(crate) const DEFAULT_MAX_ITER: usize = 1_000_000;

/// Curvature used when `K(i,i) + K(j,j) − 2K(i,j)` is not positive (as in
/// Fan et al.), so a step along a flat direction stays finite.
const TAU: f64 = 1e-12;

/// The registry entry: name, task and tunable hyperparameters.
pub const INFO: ModelInfo = ModelInfo {
    name: NAME,
    summary: "support vector classifier (scikit-learn SVC): SMO dual solver, \
              RBF or linear kernel, one-vs-one multiclass",
    tasks: &[Task::Classification],
    probabilities: false,
    missing_values: false,
    params: &[
        HyperParam {
            floats: Some((POSITIVE, f64::MAX)),
            ..HyperParam::new(
                "C",
                "1.0",
                "inverse regularisation: the box constraint 0 <= alpha <= C on the dual",
            )
        },
        HyperParam {
            choices: &["rbf", "linear"],
            ..HyperParam::new("kernel", "rbf", "kernel: exp(-gamma*|x-x'|^2) or x.x'")
        },
        HyperParam {
            floats: Some((POSITIVE, f64::MAX)),
            choices: &["scale", "auto"],
            ..HyperParam::new(
                "gamma",
                "scale",
                "RBF width; \"scale\": 1/(n_features*X.var()), \"auto\": 1/n_features; \
                 ignored by the linear kernel",
            )
        },
        HyperParam {
            floats: Some((POSITIVE, f64::MAX)),
            ..HyperParam::new(
                "tol",
                "0.001",
                "stopping tolerance on the maximal KKT violation",
            )
        },
        HyperParam {
            ints: Some((1, i64::MAX)),
            ..HyperParam::new(
                "max_iter",
                "1000000",
                "cap on solver updates per class pair; the model is kept when it is hit",
            )
        },
    ],
};

/// How `gamma` was given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Gamma {
    /// A fixed positive value.
    Value(f64),
    /// `1 / (n_features * X.var())` over every entry of the training matrix
    /// (1 when that variance is 0), as scikit-learn's `"scale"`.
    Scale,
    /// `1 / n_features`.
    Auto,
}

/// Which kernel, before `gamma` is resolved against the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KernelKind {
    /// `exp(-gamma * ‖x − x'‖²)`.
    Rbf,
    /// `x · x'`.
    Linear,
}

/// A kernel with its parameters resolved.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// `exp(-gamma * ‖x − x'‖²)`.
    Rbf {
        /// The resolved width.
        gamma: f64,
    },
    /// `x · x'`.
    Linear,
}

/// Validated settings of one fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SvcParams {
    /// Box constraint (> 0).
    pub c: f64,
    /// Kernel kind.
    pub kernel: KernelKind,
    /// RBF width.
    pub gamma: Gamma,
    /// Stopping tolerance on the maximal violation (> 0).
    pub tol: f64,
    /// Cap on SMO updates per binary problem (>= 1).
    pub max_iter: usize,
}

impl Default for SvcParams {
    fn default() -> Self {
        SvcParams {
            c: 1.0,
            kernel: KernelKind::Rbf,
            gamma: Gamma::Scale,
            tol: 1e-3,
            max_iter: DEFAULT_MAX_ITER,
        }
    }
}

fn param_err(name: &str, message: impl Into<String>) -> ModelError {
    ModelError::Param {
        model: NAME,
        name: name.to_string(),
        message: message.into(),
    }
}

fn fit_err(message: impl Into<String>) -> ModelError {
    ModelError::Fit {
        model: NAME,
        message: message.into(),
    }
}

impl SvcParams {
    /// Read and check the settings from a parameter map (defaults from
    /// [`INFO`]).
    pub fn from_params(params: &Params) -> Result<Self, ModelError> {
        let r = Reader {
            model: NAME,
            params,
        };
        let d = SvcParams::default();
        let c = r.f64("C", d.c)?;
        let kernel = match r.str("kernel", "rbf")? {
            "rbf" => KernelKind::Rbf,
            "linear" => KernelKind::Linear,
            other => return Err(param_err("kernel", format!("unknown kernel \"{other}\""))),
        };
        let gamma = match r.value("gamma") {
            None => d.gamma,
            Some(Value::Str(s)) if s == "scale" => Gamma::Scale,
            Some(Value::Str(s)) if s == "auto" => Gamma::Auto,
            Some(v) => match v.as_f64() {
                Some(g) => Gamma::Value(g),
                None => {
                    return Err(param_err(
                        "gamma",
                        "expected a positive number, \"scale\" or \"auto\"",
                    ))
                }
            },
        };
        let tol = r.f64("tol", d.tol)?;
        let max_iter = r.usize("max_iter", d.max_iter)?;
        let p = SvcParams {
            c,
            kernel,
            gamma,
            tol,
            max_iter,
        };
        p.check()?;
        Ok(p)
    }

    /// Every rule on the values, whoever built them.
    pub fn check(&self) -> Result<(), ModelError> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(param_err(
                "C",
                format!("must be a finite number > 0 (got {})", self.c),
            ));
        }
        if let Gamma::Value(g) = self.gamma {
            if !(g.is_finite() && g > 0.0) {
                return Err(param_err(
                    "gamma",
                    format!("must be a finite number > 0 (got {g})"),
                ));
            }
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(param_err(
                "tol",
                format!("must be a finite number > 0 (got {})", self.tol),
            ));
        }
        if self.max_iter == 0 {
            return Err(param_err("max_iter", "must be at least 1 (got 0)"));
        }
        Ok(())
    }
}

/// Train from a parameter map: the registry's entry point. The seed is
/// unused (the solver has no randomness).
pub fn fit(
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    _seed: u64,
) -> Result<Fitted, ModelError> {
    let (y, n_classes) = match y {
        Targets::Classes { y, n_classes } => (y, n_classes),
        other => return Err(wrong_task(NAME, &other)),
    };
    let p = SvcParams::from_params(params)?;
    Ok(Fitted::Svm(Svc::fit(x, y, n_classes, &p)?))
}

/// One trained binary machine, for the class pair `(positive, negative)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct BinarySvm {
    /// The class whose rows were labelled `+1` (the lower index).
    pub positive: usize,
    /// The class whose rows were labelled `-1`.
    pub negative: usize,
    /// Support vectors: indices into [`Svc::support`], ascending.
    pub support: Vec<usize>,
    /// `yᵢαᵢ` of each support vector (scikit-learn's `dual_coef_` entries).
    pub dual_coef: Vec<f64>,
    /// The bias `b` (scikit-learn's `intercept_`).
    pub intercept: f64,
    /// SMO updates made.
    pub iterations: usize,
    /// Whether the violation fell below `tol` before `max_iter`.
    pub converged: bool,
}

/// A trained one-vs-one support vector classifier. Serialisable: the file
/// holds the support vectors row by row (the features-major copy and the
/// squared norms are rebuilt on reading, with the bits training computed),
/// and a deserialised model is checked (shapes, indices, finite numbers)
/// before it exists, so prediction cannot index out of bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "SvcWire", try_from = "SvcWire")]
pub struct Svc {
    kernel: Kernel,
    n_features: usize,
    n_classes: usize,
    /// Training-row index of each support vector, grouped by class,
    /// ascending inside a class.
    support: Vec<usize>,
    /// Support vectors, features-major.
    support_t: Columns,
    /// Their squared norms (for the RBF kernel).
    support_sq: Vec<f64>,
    machines: Vec<BinarySvm>,
    /// The training products, when the fit took them from a cache.
    shared: Shared,
}

/// What a model trained here shares with the [`GramCache`] it trained
/// from: the training Gram matrix and where each support vector sits in
/// it, so that scoring a matrix the cache has seen reuses its products.
/// It changes time, never bits (see `gram`), so it is never stored and
/// never compared: a model read from a file has none and predicts the
/// same bits.
#[derive(Clone)]
struct Shared(Option<SharedGram>);

#[derive(Clone)]
struct SharedGram {
    cache: Arc<GramCache>,
    train: Arc<TrainGram>,
    /// Class-order position (a row of the Gram matrix) of each support
    /// vector.
    pos: Vec<usize>,
}

impl PartialEq for Shared {
    fn eq(&self, _: &Shared) -> bool {
        true
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Shared" } else { "None" })
    }
}

/// The stored form of an [`Svc`].
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SvcWire {
    kernel: Kernel,
    n_features: usize,
    n_classes: usize,
    /// Training-row index of each support vector (informative only).
    support: Vec<usize>,
    /// The support vectors, row-major, `support.len() × n_features`.
    support_vectors: Vec<f64>,
    machines: Vec<BinarySvm>,
}

impl From<Svc> for SvcWire {
    fn from(m: Svc) -> SvcWire {
        let (n_sv, d) = (m.support.len(), m.n_features);
        let mut support_vectors = Vec::with_capacity(n_sv * d);
        for i in 0..n_sv {
            for f in 0..d {
                support_vectors.push(m.support_t.data[f * m.support_t.stride + i]);
            }
        }
        SvcWire {
            kernel: m.kernel,
            n_features: d,
            n_classes: m.n_classes,
            support: m.support,
            support_vectors,
            machines: m.machines,
        }
    }
}

impl TryFrom<SvcWire> for Svc {
    type Error = String;
    fn try_from(w: SvcWire) -> Result<Svc, String> {
        let (n_sv, d) = (w.support.len(), w.n_features);
        if d == 0 {
            return Err("an SVM needs at least one feature".into());
        }
        if n_sv.checked_mul(d) != Some(w.support_vectors.len()) {
            return Err(format!(
                "{} stored numbers do not make {n_sv} support vectors of {d} features",
                w.support_vectors.len()
            ));
        }
        if w.support_vectors.iter().any(|v| !v.is_finite()) {
            return Err("support vectors must be finite".into());
        }
        if let Kernel::Rbf { gamma } = w.kernel {
            if !(gamma.is_finite() && gamma > 0.0) {
                return Err(format!("gamma must be finite and > 0 (got {gamma})"));
            }
        }
        if w.machines.is_empty() {
            return Err("an SVM needs at least one binary machine".into());
        }
        for (i, m) in w.machines.iter().enumerate() {
            if m.positive >= m.negative || m.negative >= w.n_classes {
                return Err(format!(
                    "machine {i}: classes ({}, {}) out of order or range",
                    m.positive, m.negative
                ));
            }
            if m.support.len() != m.dual_coef.len() || m.support.iter().any(|&s| s >= n_sv) {
                return Err(format!("machine {i}: bad support vector indices"));
            }
            if m.dual_coef
                .iter()
                .chain([&m.intercept])
                .any(|v| !v.is_finite())
            {
                return Err(format!("machine {i}: coefficients must be finite"));
            }
        }
        // The same `dot` as training: the same bits.
        let sq: Vec<f64> = w
            .support_vectors
            .chunks_exact(d)
            .map(|r| dot(r, r))
            .collect();
        if sq.iter().any(|&v| !v.is_finite() || v > f64::MAX / 8.0) {
            return Err("support vector values too large".into());
        }
        Ok(Svc {
            kernel: w.kernel,
            n_features: d,
            n_classes: w.n_classes,
            support_t: Columns::new(&w.support_vectors, n_sv, d),
            support: w.support,
            support_sq: sq,
            machines: w.machines,
            shared: Shared(None),
        })
    }
}

impl Svc {
    /// Train on `x` (rows × features) and class indices `y < n_classes`.
    /// Needs at least two classes present; a class absent from `y` never
    /// gets a vote. Dot products come from the process's [`GramCache`].
    pub(crate) fn fit(
        x: ArrayView2<'_, f64>,
        y: &[usize],
        n_classes: usize,
        params: &SvcParams,
    ) -> Result<Svc, ModelError> {
        Svc::fit_with(x, y, n_classes, params, Some(GramCache::global()))
    }

    /// [`Svc::fit`] with the dot products from `cache`, or computed for
    /// this fit alone (`None`): the same bits either way.
    pub(crate) fn fit_with(
        x: ArrayView2<'_, f64>,
        y: &[usize],
        n_classes: usize,
        params: &SvcParams,
        cache: Option<&Arc<GramCache>>,
    ) -> Result<Svc, ModelError> {
        params.check()?;
        let (n, d) = x.dim();
        if n != y.len() {
            return Err(fit_err(format!("{n} rows but {} targets", y.len())));
        }
        if n == 0 || d == 0 {
            return Err(fit_err(format!("needs rows and features (got {n} × {d})")));
        }
        if let Some(&bad) = y.iter().find(|&&c| c >= n_classes) {
            return Err(fit_err(format!(
                "class index {bad} out of range for {n_classes} classes"
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(fit_err(
                "features must be finite (impute missing values first)",
            ));
        }

        // Rows grouped by class, ascending row index inside a class: each
        // pair's problem is then two contiguous column ranges of the kernel.
        let mut counts = vec![0usize; n_classes];
        for &c in y {
            counts[c] += 1;
        }
        let present: Vec<usize> = (0..n_classes).filter(|&c| counts[c] > 0).collect();
        if present.len() < 2 {
            return Err(fit_err("needs at least two classes in the training data"));
        }
        let mut start = vec![0usize; n_classes + 1];
        for c in 0..n_classes {
            start[c + 1] = start[c] + counts[c];
        }
        let mut order = vec![0usize; n];
        let mut next = start.clone();
        for (row, &c) in y.iter().enumerate() {
            order[next[c]] = row;
            next[c] += 1;
        }

        let mut xs = Vec::with_capacity(n * d);
        for &row in &order {
            xs.extend(x.row(row).iter().copied());
        }
        let kernel = match params.kernel {
            KernelKind::Linear => Kernel::Linear,
            KernelKind::Rbf => Kernel::Rbf {
                gamma: match params.gamma {
                    Gamma::Value(g) => g,
                    Gamma::Auto => 1.0 / d as f64,
                    Gamma::Scale => {
                        let var = variance(&xs);
                        if var > 0.0 {
                            1.0 / (d as f64 * var)
                        } else {
                            1.0
                        }
                    }
                },
            },
        };
        let sq: Vec<f64> = xs.chunks_exact(d).map(|r| dot(r, r)).collect();
        // Finite squared norms below MAX/8 bound every dot product and
        // every ‖a‖² + ‖b‖² − 2a·b, so the kernel needs no check of its own.
        if sq.iter().any(|&v| !v.is_finite() || v > f64::MAX / 8.0) {
            return Err(fit_err("feature values too large (scale the features)"));
        }
        // From the cache: the products of every fit of these rows. The
        // linear kernel is those products; the RBF kernel's rows are
        // computed from them when the solver first reads them (see
        // `LazyPair`). Either way the same bits as computing it whole.
        let gram = cache.and_then(|c| c.train(&xs, n, d));
        let owned: Vec<f64>;
        let mut train = match (&gram, kernel) {
            (Some(g), Kernel::Linear) => TrainKernel::Whole(&g.dots),
            (Some(g), Kernel::Rbf { gamma }) => TrainKernel::Lazy {
                k: vec![0.0; n * n],
                done: vec![false; n * n_classes],
                gram: &g.dots,
                gamma,
            },
            (None, _) => {
                owned = kernel_matrix(&xs, &sq, n, d, kernel);
                TrainKernel::Whole(&owned)
            }
        };

        // Solve every pair; `is_sv` marks positions (in class order) used
        // by any machine, so the support set is their union.
        let mut is_sv = vec![false; n];
        let mut raw = Vec::new();
        for (a, &p) in present.iter().enumerate() {
            for &q in &present[a + 1..] {
                let (pos, n_pos, neg, n_neg) = (start[p], counts[p], start[q], counts[q]);
                let (c, tol, max_iter) = (params.c, params.tol, params.max_iter);
                let sol = match &mut train {
                    TrainKernel::Whole(k) => {
                        let block = PairKernel {
                            k,
                            n,
                            pos,
                            n_pos,
                            neg,
                            n_neg,
                        };
                        solve(&block, c, tol, max_iter)
                    }
                    TrainKernel::Lazy {
                        k,
                        done,
                        gram,
                        gamma,
                    } => {
                        let mut block = LazyPair {
                            k,
                            done,
                            gram,
                            sq: &sq,
                            gamma: *gamma,
                            n,
                            n_classes,
                            pos: (p, pos, n_pos),
                            neg: (q, neg, n_neg),
                        };
                        solve_lazy(&mut block, c, tol, max_iter)
                    }
                };
                let mut svs = Vec::new();
                for (t, &alpha) in sol.alpha.iter().enumerate() {
                    if alpha > 0.0 {
                        let at = if t < n_pos { pos + t } else { neg + t - n_pos };
                        is_sv[at] = true;
                        svs.push((at, if t < n_pos { alpha } else { -alpha }));
                    }
                }
                raw.push((p, q, svs, sol));
            }
        }
        drop(train);
        let mut compact = vec![usize::MAX; n];
        let mut support = Vec::new();
        let mut sv_pos = Vec::new();
        let mut support_x = Vec::new();
        let mut support_sq = Vec::new();
        for pos in 0..n {
            if is_sv[pos] {
                compact[pos] = support.len();
                support.push(order[pos]);
                sv_pos.push(pos);
                support_x.extend_from_slice(&xs[pos * d..(pos + 1) * d]);
                support_sq.push(sq[pos]);
            }
        }
        let machines = raw
            .into_iter()
            .map(|(p, q, svs, sol)| BinarySvm {
                positive: p,
                negative: q,
                support: svs.iter().map(|&(pos, _)| compact[pos]).collect(),
                dual_coef: svs.iter().map(|&(_, c)| c).collect(),
                intercept: sol.bias,
                iterations: sol.iterations,
                converged: sol.converged,
            })
            .collect();
        Ok(Svc {
            kernel,
            n_features: d,
            n_classes,
            support_t: Columns::new(&support_x, support.len(), d),
            support,
            support_sq,
            machines,
            shared: Shared(gram.zip(cache).map(|(train, cache)| SharedGram {
                cache: Arc::clone(cache),
                train,
                pos: sv_pos,
            })),
        })
    }

    /// The kernel with `gamma` resolved.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Training-row indices of the support vectors (union over all pairs),
    /// grouped by class, ascending inside a class.
    pub fn support(&self) -> &[usize] {
        &self.support
    }

    /// The binary machines, one per pair of present classes `(p, q)`,
    /// `p < q`, in lexicographic order.
    #[cfg(test)]
    pub(crate) fn machines(&self) -> &[BinarySvm] {
        &self.machines
    }

    /// Number of features the model was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Decision values, one row per row of `x`, one column per machine (in
    /// `Svc::machines` order); positive favours the machine's `positive`
    /// class. `x` should have [`Svc::n_features`] columns: extra columns
    /// are ignored and missing ones count as zeros (callers check widths;
    /// this never panics).
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Vec<Vec<f64>> {
        let mut kx = vec![0.0; self.support.len()];
        let mut row = vec![0.0; self.n_features];
        let rows: Vec<_> = x.rows().into_iter().collect();
        self.decide(rows.len(), |t0, kxb| {
            for (l, r) in rows[t0..].iter().take(BLOCK).enumerate() {
                row.fill(0.0);
                for (o, &v) in row.iter_mut().zip(r.iter()) {
                    *o = v;
                }
                kernel_row(
                    &row,
                    &self.support_t,
                    &self.support_sq,
                    self.kernel,
                    &mut kx,
                );
                for (m, &v) in kx.iter().enumerate() {
                    kxb[m * BLOCK + l] = v;
                }
            }
        })
    }

    /// [`Svc::decision_function`] of a matrix of the training width, from
    /// the products the cache holds (or computes and keeps) when the model
    /// was trained from one: the same bits.
    fn decisions(&self, x: ArrayView2<'_, f64>) -> Vec<Vec<f64>> {
        let Some(sh) = &self.shared.0 else {
            return self.decision_function(x);
        };
        let (n, d) = sh.train.shape();
        if x.ncols() != d || x.nrows() == 0 {
            return self.decision_function(x);
        }
        let flat: Vec<f64> = x.iter().copied().collect();
        let Some(cross) = sh.cache.cross(&sh.train, &flat) else {
            return self.decision_function(x);
        };
        // The same `dot` as `kernel_row`'s `‖row‖²`.
        let row_sq: Vec<f64> = flat.chunks_exact(d).map(|r| dot(r, r)).collect();
        let mut kx = vec![0.0; self.support.len()];
        self.decide(row_sq.len(), |t0, kxb| {
            let end = (t0 + BLOCK).min(row_sq.len());
            gather_kernel(
                &cross.dots[t0 * n..end * n],
                &sh.pos,
                (&row_sq[t0..end], &self.support_sq),
                self.kernel,
                &mut kx,
                kxb,
            );
        })
    }

    /// Decision rows for `rows` rows, [`BLOCK`] at a time: `fill(t0, kxb)`
    /// puts `K(row t0 + l, support vector m)` at `kxb[m·BLOCK + l]`, and
    /// each machine sums the block's rows side by side.
    fn decide(&self, rows: usize, mut fill: impl FnMut(usize, &mut [f64])) -> Vec<Vec<f64>> {
        let n_m = self.machines.len();
        let mut kxb = vec![0.0; self.support.len() * BLOCK];
        let mut sums = vec![0.0; n_m * BLOCK];
        let mut out = Vec::with_capacity(rows);
        for t0 in (0..rows).step_by(BLOCK) {
            fill(t0, &mut kxb);
            machine_sums(&self.machines, &kxb, &mut sums);
            for l in 0..BLOCK.min(rows - t0) {
                out.push((0..n_m).map(|m| sums[m * BLOCK + l]).collect());
            }
        }
        out
    }
}

/// Rows of a prediction scored together: each machine keeps one running
/// sum per row, side by side in vector registers.
const BLOCK: usize = 8;

impl BinarySvm {
    /// `Σ yᵢαᵢK(xᵢ, x) + b` for the [`BLOCK`] rows of `kxb` (laid out as
    /// in [`Svc::decide`]); each row's sum runs over the support vectors
    /// in order, so its bits do not depend on the block.
    #[inline(always)]
    fn decision_block(&self, kxb: &[f64], out: &mut [f64]) {
        let mut s = [0.0f64; BLOCK];
        for (&i, &c) in self.support.iter().zip(&self.dual_coef) {
            let k = &kxb[i * BLOCK..][..BLOCK];
            for (a, &v) in s.iter_mut().zip(k) {
                *a += c * v;
            }
        }
        for (o, a) in out.iter_mut().zip(s) {
            *o = a + self.intercept;
        }
    }
}

impl Svc {
    /// Class indices by one-vs-one vote (no probabilities). Errors when
    /// `x` does not have the training width.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        check_width(NAME, self.n_features, &x)?;
        let mut votes = vec![0usize; self.n_classes];
        let labels = self
            .decisions(x)
            .iter()
            .map(|dec| vote(&self.machines, dec, &mut votes))
            .collect();
        Ok(Prediction::Classes {
            labels,
            proba: None,
        })
    }
}

/// One-vs-one majority vote; a tie goes to the lowest class index.
fn vote(machines: &[BinarySvm], dec: &[f64], votes: &mut [usize]) -> usize {
    votes.fill(0);
    for (m, &v) in machines.iter().zip(dec) {
        // Zero votes for the second class, as libsvm does.
        let winner = if v > 0.0 { m.positive } else { m.negative };
        votes[winner] += 1;
    }
    let mut best = 0;
    for (c, &v) in votes.iter().enumerate() {
        // Strict `>`: the first (lowest) class keeps a tie.
        if v > votes[best] {
            best = c;
        }
    }
    best
}

// ---------------------------------------------------------------------------
// Run-time choice of instruction set

avx2_dispatch! {
    /// See [`kernel_matrix_impl`].
    fn kernel_matrix(xs: &[f64], sq: &[f64], n: usize, d: usize, kernel: Kernel) -> Vec<f64>
        = kernel_matrix_impl;
}

avx2_dispatch! {
    /// See [`solve_impl`].
    fn solve(block: &PairKernel<'_>, c: f64, tol: f64, max_iter: usize) -> Solution = solve_impl;
}

avx2_dispatch! {
    /// See [`solve_impl`]: the same solver on rows filled on demand.
    fn solve_lazy(block: &mut LazyPair<'_>, c: f64, tol: f64, max_iter: usize) -> Solution
        = solve_lazy_impl;
}

avx2_dispatch! {
    /// See [`cross_dots_impl`].
    fn cross_dots(x: &[f64], xs: &[f64], n: usize, d: usize, out: &mut [f64]) -> ()
        = cross_dots_impl;
}

avx2_dispatch! {
    /// See [`machine_sums_impl`].
    fn machine_sums(machines: &[BinarySvm], kxb: &[f64], out: &mut [f64]) -> () = machine_sums_impl;
}

avx2_dispatch! {
    /// See [`gather_kernel_impl`].
    fn gather_kernel(
        dots: &[f64],
        pos: &[usize],
        sq: (&[f64], &[f64]),
        kernel: Kernel,
        kx: &mut [f64],
        kxb: &mut [f64]
    ) -> () = gather_kernel_impl;
}

/// `out[m·BLOCK + l]`: machine `m`'s decision value for row `l` of the
/// block `kxb` (see [`Svc::decide`]).
#[inline(always)]
fn machine_sums_impl(machines: &[BinarySvm], kxb: &[f64], out: &mut [f64]) {
    for (m, o) in machines.iter().zip(out.chunks_exact_mut(BLOCK)) {
        m.decision_block(kxb, o);
    }
}

/// `out[j] = exp(-gamma ‖a − b_j‖²)` from `‖a‖² = aa`, `‖b_j‖² = bb[j]`
/// and `a·b_j = dots[j]`: [`rbf_value`] over a row, in a loop over
/// slices that vectorises.
#[inline(always)]
fn rbf_row(gamma: f64, aa: f64, bb: &[f64], dots: &[f64], out: &mut [f64]) {
    for ((o, &v), &b) in out.iter_mut().zip(dots).zip(bb) {
        *o = rbf_value(gamma, aa, b, v);
    }
}

/// `out[t·n + p] = x_t · xs_p` for the row-major rows `x` and `xs`
/// (`n × d`), two rows of `x` at a time: the sums of [`kernel_row_impl`]
/// (ascending features), so the same bits.
#[inline(always)]
fn cross_dots_impl(x: &[f64], xs: &[f64], n: usize, d: usize, out: &mut [f64]) {
    if n == 0 || d == 0 {
        return;
    }
    let xt = Columns::new(xs, n, d);
    let mut rows = x.chunks_exact(d).zip(out.chunks_exact_mut(n));
    while let Some((a, oa)) = rows.next() {
        match rows.next() {
            Some((b, ob)) => dots_two_rows((a, b), &xt, 0, (oa, ob)),
            None => dots_row(a, &xt, 0, oa),
        }
    }
}

/// Fill a prediction block (see [`Svc::decide`]) from cached products:
/// `dots` holds the block's rows (a row of products with every training
/// row, in class order), `pos` the Gram row of each support vector, `sq`
/// the squared norms of the block's rows and of the support vectors; `kx`
/// (one entry per support vector) is scratch. Row by row: gather the
/// support vectors' products, then [`rbf_in_place`] as
/// [`kernel_row_impl`] does, so the same bits.
#[inline(always)]
fn gather_kernel_impl(
    dots: &[f64],
    pos: &[usize],
    sq: (&[f64], &[f64]),
    kernel: Kernel,
    kx: &mut [f64],
    kxb: &mut [f64],
) {
    let (row_sq, sv_sq) = sq;
    let n = dots.len() / row_sq.len().max(1);
    for (l, (row, &aa)) in dots.chunks_exact(n.max(1)).zip(row_sq).enumerate() {
        for (o, &p) in kx.iter_mut().zip(pos) {
            *o = row.get(p).copied().unwrap_or(0.0);
        }
        if let Kernel::Rbf { gamma } = kernel {
            rbf_in_place(gamma, aa, sv_sq, kx);
        }
        for (out, &v) in kxb.chunks_exact_mut(BLOCK).zip(kx.iter()) {
            out[l] = v;
        }
    }
}

avx2_dispatch! {
    /// See [`kernel_row_impl`].
    fn kernel_row(row: &[f64], svt: &Columns, sv_sq: &[f64], kernel: Kernel, out: &mut [f64]) -> ()
        = kernel_row_impl;
}

/// `out[m] = K(row, sv_m)` for the features-major support vectors `svt`:
/// the same sums as the training kernel, so a training row scored here
/// sees the bits the solver saw.
#[inline(always)]
fn kernel_row_impl(row: &[f64], svt: &Columns, sv_sq: &[f64], kernel: Kernel, out: &mut [f64]) {
    dots_row(row, svt, 0, out);
    if let Kernel::Rbf { gamma } = kernel {
        rbf_in_place(gamma, dot(row, row), sv_sq, out);
    }
}

// ---------------------------------------------------------------------------
// Kernel values

/// Dot product summed in index order, the order [`dots_row`] uses too.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = 0.0;
    for (x, y) in a.iter().zip(b) {
        acc += x * y;
    }
    acc
}

/// Columns whose dot products with a row are accumulated together in
/// registers; the features-major matrices are padded to a multiple of it.
const LANES: usize = 16;

/// A row-major `n × d` matrix copied features-major (`d × stride`), each
/// feature's row padded with zeros to `stride`, a multiple of [`LANES`],
/// so every aligned block of [`LANES`] columns can be read whole.
#[derive(Clone, Debug, PartialEq)]
struct Columns {
    data: Vec<f64>,
    stride: usize,
}

impl Columns {
    fn new(xs: &[f64], n: usize, d: usize) -> Columns {
        let stride = n.div_ceil(LANES) * LANES;
        let mut data = vec![0.0; stride * d];
        for (i, row) in xs.chunks_exact(d).enumerate() {
            for (f, &v) in row.iter().enumerate() {
                data[f * stride + i] = v;
            }
        }
        Columns { data, stride }
    }
}

/// `out[t] = row · column (from + t)` for `t < out.len()`. Each entry is
/// summed over the features in ascending order, the order of [`dot`], so
/// the blocking never shows in the bits: blocks of [`LANES`] aligned
/// columns (the ends computed and dropped) only let the compiler keep the
/// running sums in vector registers. Nothing is reassociated.
#[inline(always)]
fn dots_row(row: &[f64], xt: &Columns, from: usize, out: &mut [f64]) {
    let to = from + out.len();
    let mut j0 = from - from % LANES;
    while j0 < to {
        let mut acc = [0.0f64; LANES];
        for (f, &v) in row.iter().enumerate() {
            let col = &xt.data[f * xt.stride + j0..][..LANES];
            for (a, &c) in acc.iter_mut().zip(col) {
                *a += v * c;
            }
        }
        let (lo, hi) = (from.max(j0), to.min(j0 + LANES));
        out[lo - from..hi - from].copy_from_slice(&acc[lo - j0..hi - j0]);
        j0 += LANES;
    }
}

/// [`dots_row`] for two rows at once, sharing the column loads: the same
/// sums, so the same bits.
#[inline(always)]
fn dots_two_rows(rows: (&[f64], &[f64]), xt: &Columns, from: usize, out: (&mut [f64], &mut [f64])) {
    let to = from + out.0.len();
    let mut j0 = from - from % LANES;
    while j0 < to {
        let mut acc_a = [0.0f64; LANES];
        let mut acc_b = [0.0f64; LANES];
        for (f, (&va, &vb)) in rows.0.iter().zip(rows.1).enumerate() {
            let col = &xt.data[f * xt.stride + j0..][..LANES];
            for ((a, b), &c) in acc_a.iter_mut().zip(acc_b.iter_mut()).zip(col) {
                *a += va * c;
                *b += vb * c;
            }
        }
        let (lo, hi) = (from.max(j0), to.min(j0 + LANES));
        out.0[lo - from..hi - from].copy_from_slice(&acc_a[lo - j0..hi - j0]);
        out.1[lo - from..hi - from].copy_from_slice(&acc_b[lo - j0..hi - j0]);
        j0 += LANES;
    }
}

/// Turn dot products `out[j] = a·b_j` into `exp(-gamma ‖a − b_j‖²)`, with
/// `‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b` clamped at zero (rounding can push it
/// below).
#[inline(always)]
fn rbf_in_place(gamma: f64, aa: f64, bb: &[f64], out: &mut [f64]) {
    for (o, &b) in out.iter_mut().zip(bb) {
        *o = rbf_value(gamma, aa, b, *o);
    }
}

/// `exp(-gamma ‖a − b‖²)` from `‖a‖²`, `‖b‖²` and `a·b`: the one formula
/// every kernel value goes through, so they all have the same bits.
#[inline(always)]
fn rbf_value(gamma: f64, aa: f64, bb: f64, dot: f64) -> f64 {
    let dist = aa + bb - 2.0 * dot;
    let dist = if dist > 0.0 { dist } else { 0.0 };
    exp_nonpositive(-gamma * dist)
}

/// `ln 2` split so that `k · LN2_HI` is exact for every `|k| < 2^20`
/// (`LN2_HI` has 32 significant bits), with `LN2_LO = ln 2 − LN2_HI`.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// `1.5 · 2^52`: adding it rounds a float of magnitude below `2^51` to an
/// integer, which then sits in the low bits of the sum.
const ROUNDER: f64 = 6_755_399_441_055_744.0;

/// `e^x` for `x ≤ 0`, with a few ulp of error, in plain arithmetic (no
/// table, no branch, no libm): `x = k ln2 + r` with `|r| ≤ ln2 / 2`,
/// `e^r` by its Taylor series to degree 13 (truncation error below
/// `4e-18`) in Horner form, times `2^k`. Why not `f64::exp`: libm's result
/// can depend on the C library version and on the CPU (glibc picks an FMA
/// variant at run time), while this is the same on every IEEE machine; and
/// a loop of it vectorises.
#[inline(always)]
fn exp_nonpositive(x: f64) -> f64 {
    // Below -745.14 the true value rounds to zero; clamping keeps `k` in
    // range and the final select gives the zero.
    let xc = if x > -746.0 { x } else { -746.0 };
    let t = xc * std::f64::consts::LOG2_E + ROUNDER;
    let kf = t - ROUNDER;
    let k = t.to_bits() as i64 - ROUNDER.to_bits() as i64;
    let r = (xc - kf * LN2_HI) - kf * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    for inv_fact in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + inv_fact;
    }
    // 2^k as two normal factors, so results down to the subnormals come out
    // right (each product by a power of two is exact while normal).
    let k1 = k / 2;
    let k2 = k - k1;
    let s1 = f64::from_bits(((k1 + 1023) as u64) << 52);
    let s2 = f64::from_bits(((k2 + 1023) as u64) << 52);
    let v = p * s1 * s2;
    if x > -745.2 {
        v
    } else {
        0.0
    }
}

/// Population variance of all entries, mean first, sums in index order.
fn variance(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n
}

/// Columns of the kernel matrix computed per sweep over the rows: their
/// features (64 features × 128 columns = 64 KiB) stay in cache.
const COLS: usize = 128;

/// Rows of a block read together while mirroring it.
const MIRROR: usize = 16;

/// The symmetric `n × n` kernel matrix of the rows of `xs`, row-major,
/// built in column blocks: the part of each block on or above the
/// diagonal is computed two rows at a time, then mirrored below in
/// `MIRROR`-row strips. The RBF diagonal is exactly 1. Every entry is the
/// ascending-order dot product of its two rows (see [`dots_row`]), and
/// both products and sums of two terms commute in IEEE arithmetic, so
/// `K[i][j]` and `K[j][i]` have the same bits however each was reached.
#[inline(always)]
fn kernel_matrix_impl(xs: &[f64], sq: &[f64], n: usize, d: usize, kernel: Kernel) -> Vec<f64> {
    let xt = Columns::new(xs, n, d);
    let mut k = vec![0.0; n * n];
    // A plain function, not a closure: it must inline into the AVX2 copy.
    #[inline(always)]
    fn finish(kernel: Kernel, sq: &[f64], i: usize, from: usize, seg: &mut [f64]) {
        if let Kernel::Rbf { gamma } = kernel {
            rbf_in_place(gamma, sq[i], &sq[from..from + seg.len()], seg);
            if (from..from + seg.len()).contains(&i) {
                seg[i - from] = 1.0;
            }
        }
    }
    for cb in (0..n).step_by(COLS) {
        let ce = (cb + COLS).min(n);
        let mut i = 0;
        while i < ce {
            let from = cb.max(i);
            let xi = &xs[i * d..(i + 1) * d];
            if i + 1 < ce {
                // Row i+1 also gets column i (its mirror entry, same bits).
                let (a, b) = k[i * n..(i + 2) * n].split_at_mut(n);
                let (a, b) = (&mut a[from..ce], &mut b[from..ce]);
                dots_two_rows(
                    (xi, &xs[(i + 1) * d..(i + 2) * d]),
                    &xt,
                    from,
                    (&mut *a, &mut *b),
                );
                finish(kernel, sq, i, from, a);
                finish(kernel, sq, i + 1, from, b);
                i += 2;
            } else {
                let a = &mut k[i * n + from..i * n + ce];
                dots_row(xi, &xt, from, a);
                finish(kernel, sq, i, from, a);
                i += 1;
            }
        }
        for ib in (0..ce).step_by(MIRROR) {
            let ie = (ib + MIRROR).min(ce);
            for j in cb.max(ib + 1)..ce {
                for i in ib..ie.min(j) {
                    k[j * n + i] = k[i * n + j];
                }
            }
        }
    }
    k
}

// ---------------------------------------------------------------------------
// The dual solver

/// The training kernel of a fit, in class order.
enum TrainKernel<'a> {
    /// The whole matrix.
    Whole(&'a [f64]),
    /// The RBF kernel, rows filled from the Gram matrix `gram` as the
    /// solver reads them: `done[row · n_classes + class]` says whether
    /// `k`'s row `row` holds its values over the columns of `class`.
    Lazy {
        k: Vec<f64>,
        done: Vec<bool>,
        gram: &'a [f64],
        gamma: f64,
    },
}

/// The kernel of one pair's problem as the solver reads it.
trait PairRows {
    /// Rows of the problem, and how many of them (the first) are
    /// labelled +1.
    fn dims(&self) -> (usize, usize);
    /// `K(t, t)`.
    fn diag(&self, t: usize) -> f64;
    /// Make row `t` readable (nothing to do where the kernel is whole).
    fn fill(&mut self, t: usize);
    /// Row `t` (filled) restricted to the problem: its positive and
    /// negative parts.
    fn row(&self, t: usize) -> (&[f64], &[f64]);
}

/// The kernel of one pair's problem, read in place from the class-ordered
/// matrix: local index `t < n_pos` is column `pos + t` (label +1), the
/// others are column `neg + t − n_pos` (label −1).
#[derive(Clone, Copy)]
struct PairKernel<'a> {
    k: &'a [f64],
    n: usize,
    pos: usize,
    n_pos: usize,
    neg: usize,
    n_neg: usize,
}

impl PairKernel<'_> {
    fn len(&self) -> usize {
        self.n_pos + self.n_neg
    }

    /// Position of local index `t` in the class-ordered matrix.
    #[inline(always)]
    fn global(&self, t: usize) -> usize {
        if t < self.n_pos {
            self.pos + t
        } else {
            self.neg + t - self.n_pos
        }
    }

    /// Row `t` restricted to the problem: its positive and negative parts.
    #[inline(always)]
    fn row(&self, t: usize) -> (&[f64], &[f64]) {
        let r = &self.k[self.global(t) * self.n..][..self.n];
        (
            &r[self.pos..self.pos + self.n_pos],
            &r[self.neg..self.neg + self.n_neg],
        )
    }
}

impl PairRows for PairKernel<'_> {
    #[inline(always)]
    fn dims(&self) -> (usize, usize) {
        (self.len(), self.n_pos)
    }

    #[inline(always)]
    fn diag(&self, t: usize) -> f64 {
        let g = self.global(t);
        self.k[g * self.n + g]
    }

    #[inline(always)]
    fn fill(&mut self, _: usize) {}

    #[inline(always)]
    fn row(&self, t: usize) -> (&[f64], &[f64]) {
        PairKernel::row(self, t)
    }
}

/// One pair's problem on a [`TrainKernel::Lazy`] kernel: row `t`'s values
/// over the pair's two classes are computed on its first [`PairRows::fill`]
/// (by any pair of the fit: a row is computed once per class), with
/// [`rbf_value`] from the same products and squared norms as
/// [`kernel_matrix_impl`] and the diagonal exactly 1, so the solver reads
/// the same bits as from the whole matrix. Rows it never picks (most
/// non-support vectors) are never computed.
struct LazyPair<'a> {
    /// The fit's `n × n` kernel, filled by (row, class) blocks.
    k: &'a mut [f64],
    /// `done[row · n_classes + class]`: that block of `k` is filled.
    done: &'a mut [bool],
    /// The Gram matrix, class order.
    gram: &'a [f64],
    /// Squared norms of the rows, class order.
    sq: &'a [f64],
    gamma: f64,
    n: usize,
    n_classes: usize,
    /// (class, first position, rows) of the rows labelled +1.
    pos: (usize, usize, usize),
    /// The same for the rows labelled −1.
    neg: (usize, usize, usize),
}

impl LazyPair<'_> {
    #[inline(always)]
    fn global(&self, t: usize) -> usize {
        if t < self.pos.2 {
            self.pos.1 + t
        } else {
            self.neg.1 + t - self.pos.2
        }
    }
}

impl PairRows for LazyPair<'_> {
    #[inline(always)]
    fn dims(&self) -> (usize, usize) {
        (self.pos.2 + self.neg.2, self.pos.2)
    }

    /// Exactly 1, as [`kernel_matrix_impl`] sets the RBF diagonal.
    #[inline(always)]
    fn diag(&self, _: usize) -> f64 {
        1.0
    }

    #[inline(always)]
    fn fill(&mut self, t: usize) {
        let g = self.global(t);
        for (class, from, len) in [self.pos, self.neg] {
            let flag = g * self.n_classes + class;
            if self.done[flag] {
                continue;
            }
            let at = g * self.n + from;
            let out = &mut self.k[at..at + len];
            let bb = &self.sq[from..from + len];
            rbf_row(self.gamma, self.sq[g], bb, &self.gram[at..at + len], out);
            if (from..from + len).contains(&g) {
                out[g - from] = 1.0;
            }
            self.done[flag] = true;
        }
    }

    #[inline(always)]
    fn row(&self, t: usize) -> (&[f64], &[f64]) {
        let r = &self.k[self.global(t) * self.n..][..self.n];
        (
            &r[self.pos.1..self.pos.1 + self.pos.2],
            &r[self.neg.1..self.neg.1 + self.neg.2],
        )
    }
}

/// A solved binary problem.
#[derive(Clone, Debug)]
struct Solution {
    alpha: Vec<f64>,
    bias: f64,
    iterations: usize,
    converged: bool,
}

/// Lanes of the solver's scans. Each lane keeps its own best, and lanes
/// are merged by value, then lowest index, which is exactly the answer of a
/// sequential scan that keeps the lowest index on ties: a minimum or an
/// arg-max with that tie rule does not depend on the order of the scan.
/// The lanes only let the compiler use vector compares and blends.
const SCAN: usize = 4;

/// Second-index search state, carried across the two parts of a row.
struct Pick {
    min_low: [f64; SCAN],
    gain: [f64; SCAN],
    j: [usize; SCAN],
}

impl Pick {
    fn new() -> Pick {
        Pick {
            min_low: [f64::INFINITY; SCAN],
            gain: [0.0; SCAN],
            j: [usize::MAX; SCAN],
        }
    }

    /// The smallest `F` over `I_low`, and the second index, if any.
    fn merge(&self) -> (f64, Option<usize>) {
        let mut min_low = f64::INFINITY;
        let (mut gain, mut j) = (0.0, usize::MAX);
        for l in 0..SCAN {
            if self.min_low[l] < min_low {
                min_low = self.min_low[l];
            }
            if self.gain[l] > gain || (self.gain[l] == gain && self.j[l] < j) {
                (gain, j) = (self.gain[l], self.j[l]);
            }
        }
        (min_low, if gain > 0.0 { Some(j) } else { None })
    }
}

/// First-index search state: per lane, the largest `F` over `I_up`.
struct Top {
    f: [f64; SCAN],
    i: [usize; SCAN],
}

impl Top {
    fn new() -> Top {
        Top {
            f: [f64::NEG_INFINITY; SCAN],
            i: [usize::MAX; SCAN],
        }
    }

    fn merge(&self) -> Option<usize> {
        let (mut f, mut i) = (f64::NEG_INFINITY, usize::MAX);
        for l in 0..SCAN {
            if self.f[l] > f || (self.f[l] == f && self.i[l] < i) {
                (f, i) = (self.f[l], self.i[l]);
            }
        }
        (f > f64::NEG_INFINITY).then_some(i)
    }
}

/// Whether `α` can still move so that `yα` grows (`I_up`) or shrinks
/// (`I_low`); `POS` says whether the label is +1.
#[inline(always)]
fn in_up<const POS: bool>(a: f64, c: f64) -> bool {
    if POS {
        a < c
    } else {
        a > 0.0
    }
}

#[inline(always)]
fn in_low<const POS: bool>(a: f64, c: f64) -> bool {
    if POS {
        a > 0.0
    } else {
        a < c
    }
}

/// Scan one part for the second index: over `I_low`, the smallest `F`, and
/// the largest `b²/a` with `b = F_i − F_t > 0`, `a` the curvature (see
/// [`SCAN`] for the lanes). Written without branches so it vectorises:
/// every gain is computed, and the ones outside the rule count as zero.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pick_part<const POS: bool>(
    fi: f64,
    kii: f64,
    f: &[f64],
    alpha: &[f64],
    diag: &[f64],
    ki: &[f64],
    c: f64,
    offset: usize,
    pick: &mut Pick,
) {
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn step<const POS: bool>(
        l: usize,
        t: usize,
        (fi, kii, c): (f64, f64, f64),
        ft: f64,
        at: f64,
        kt: f64,
        kit: f64,
        pick: &mut Pick,
    ) {
        let low = in_low::<POS>(at, c);
        let fl = if low { ft } else { f64::INFINITY };
        pick.min_low[l] = if fl < pick.min_low[l] {
            fl
        } else {
            pick.min_low[l]
        };
        let b = fi - ft;
        let gain = b * b / curvature(kii, kt, kit);
        let gain = if low && b > 0.0 { gain } else { 0.0 };
        let better = gain > pick.gain[l];
        pick.gain[l] = if better { gain } else { pick.gain[l] };
        pick.j[l] = if better { t } else { pick.j[l] };
    }
    let consts = (fi, kii, c);
    let full = f.len() / SCAN * SCAN;
    let chunks = f[..full]
        .chunks_exact(SCAN)
        .zip(alpha.chunks_exact(SCAN))
        .zip(diag.chunks_exact(SCAN))
        .zip(ki.chunks_exact(SCAN));
    for (n, (((fs, als), ds), ks)) in chunks.enumerate() {
        for l in 0..SCAN {
            let t = offset + n * SCAN + l;
            step::<POS>(l, t, consts, fs[l], als[l], ds[l], ks[l], pick);
        }
    }
    for t in full..f.len() {
        let l = t - full;
        step::<POS>(l, offset + t, consts, f[t], alpha[t], diag[t], ki[t], pick);
    }
}

/// `F_t −= d_i K_it + d_j K_jt` over one part.
#[inline(always)]
fn update_part(f: &mut [f64], ki: &[f64], kj: &[f64], di: f64, dj: f64) {
    for ((ft, &a), &b) in f.iter_mut().zip(ki).zip(kj) {
        *ft -= di * a + dj * b;
    }
}

/// The largest `F` over `I_up` in one part, lane by lane (see [`SCAN`]).
#[inline(always)]
fn max_up_part<const POS: bool>(f: &[f64], alpha: &[f64], c: f64, offset: usize, top: &mut Top) {
    #[inline(always)]
    fn step<const POS: bool>(l: usize, t: usize, ft: f64, at: f64, c: f64, top: &mut Top) {
        let v = if in_up::<POS>(at, c) {
            ft
        } else {
            f64::NEG_INFINITY
        };
        let better = v > top.f[l];
        top.f[l] = if better { v } else { top.f[l] };
        top.i[l] = if better { t } else { top.i[l] };
    }
    let full = f.len() / SCAN * SCAN;
    let chunks = f[..full].chunks_exact(SCAN).zip(alpha.chunks_exact(SCAN));
    for (n, (fs, als)) in chunks.enumerate() {
        for l in 0..SCAN {
            step::<POS>(l, offset + n * SCAN + l, fs[l], als[l], c, top);
        }
    }
    for t in full..f.len() {
        step::<POS>(t - full, offset + t, f[t], alpha[t], c, top);
    }
}

/// SMO on one binary problem.
///
/// Works with `F_t = −y_t G_t` (`G` the gradient of the dual objective),
/// which starts at `y_t` and changes by `−(Δ(y_iα_i)K_it + Δ(y_jα_j)K_jt)`
/// after an update of the pair `(i, j)`. `I_up` holds the indices whose
/// `y_tα_t` can grow, `I_low` those whose `y_tα_t` can shrink; at an optimum
/// `max_{I_up} F ≤ min_{I_low} F` and the bias lies between the two.
#[inline(always)]
fn solve_impl(block: &PairKernel<'_>, c: f64, tol: f64, max_iter: usize) -> Solution {
    solve_rows(&mut { *block }, c, tol, max_iter)
}

/// [`solve_impl`] on a [`LazyPair`].
#[inline(always)]
fn solve_lazy_impl(block: &mut LazyPair<'_>, c: f64, tol: f64, max_iter: usize) -> Solution {
    solve_rows(block, c, tol, max_iter)
}

/// The solver of [`solve_impl`], on any [`PairRows`].
#[inline(always)]
fn solve_rows<R: PairRows>(block: &mut R, c: f64, tol: f64, max_iter: usize) -> Solution {
    let (m, np) = block.dims();
    let diag: Vec<f64> = (0..m).map(|t| block.diag(t)).collect();
    let sign = |t: usize| if t < np { 1.0 } else { -1.0 };
    let mut alpha = vec![0.0; m];
    let mut f: Vec<f64> = (0..m).map(sign).collect();
    // A plain function, not a closure: it must inline into the AVX2 copy.
    #[inline(always)]
    fn max_up(f: &[f64], alpha: &[f64], np: usize, c: f64) -> Option<usize> {
        let mut top = Top::new();
        max_up_part::<true>(&f[..np], &alpha[..np], c, 0, &mut top);
        max_up_part::<false>(&f[np..], &alpha[np..], c, np, &mut top);
        top.merge()
    }
    let mut i = max_up(&f, &alpha, np, c);
    let mut iterations = 0;
    let mut converged = false;
    loop {
        // First index: the maximal violator.
        let Some(ii) = i else {
            converged = true;
            break;
        };
        let (fi, kii) = (f[ii], diag[ii]);
        block.fill(ii);
        let (ri_pos, ri_neg) = block.row(ii);
        let mut pick = Pick::new();
        pick_part::<true>(
            fi,
            kii,
            &f[..np],
            &alpha[..np],
            &diag[..np],
            ri_pos,
            c,
            0,
            &mut pick,
        );
        pick_part::<false>(
            fi,
            kii,
            &f[np..],
            &alpha[np..],
            &diag[np..],
            ri_neg,
            c,
            np,
            &mut pick,
        );
        let (min_low, j) = pick.merge();
        if fi - min_low < tol {
            converged = true;
            break;
        }
        let Some(jj) = j else {
            converged = true;
            break;
        };
        if iterations >= max_iter {
            break;
        }
        iterations += 1;

        // Move along d = (y_i at i, −y_j at j), which keeps Σ yα fixed; the
        // objective falls by s·b − s²a/2, best at s = b/a, clipped to the box.
        block.fill(jj);
        let (ri, rj) = (block.row(ii), block.row(jj));
        let kij = if jj < np { ri.0[jj] } else { ri.1[jj - np] };
        let a = curvature(kii, diag[jj], kij);
        let (yi, yj) = (sign(ii), sign(jj));
        let mut step = (fi - f[jj]) / a;
        let cap_i = if yi > 0.0 { c - alpha[ii] } else { alpha[ii] };
        let cap_j = if yj > 0.0 { alpha[jj] } else { c - alpha[jj] };
        let (old_i, old_j) = (alpha[ii], alpha[jj]);
        let (mut hit_i, mut hit_j) = (false, false);
        if cap_i <= step {
            step = cap_i;
            hit_i = true;
        }
        if cap_j <= step {
            step = cap_j;
            hit_j = true;
            hit_i = cap_i <= step;
        }
        // Land exactly on a bound when the step reaches it, so "at bound"
        // is an exact test later.
        alpha[ii] = match (hit_i, yi > 0.0) {
            (true, true) => c,
            (true, false) => 0.0,
            (false, _) => (old_i + yi * step).clamp(0.0, c),
        };
        alpha[jj] = match (hit_j, yj > 0.0) {
            (true, true) => 0.0,
            (true, false) => c,
            (false, _) => (old_j - yj * step).clamp(0.0, c),
        };

        // Gradient update from the actual changes.
        let di = yi * (alpha[ii] - old_i);
        let dj = yj * (alpha[jj] - old_j);
        update_part(&mut f[..np], ri.0, rj.0, di, dj);
        update_part(&mut f[np..], ri.1, rj.1, di, dj);
        i = max_up(&f, &alpha, np, c);
    }
    let bias = bias(&f, &alpha, np, c);
    Solution {
        alpha,
        bias,
        iterations,
        converged,
    }
}

#[inline(always)]
fn curvature(kii: f64, kjj: f64, kij: f64) -> f64 {
    let a = kii + kjj - 2.0 * kij;
    if a > 0.0 {
        a
    } else {
        TAU
    }
}

/// The bias: the mean of `F` over free vectors (`0 < α < C`), where `F`
/// equals `b` exactly at an optimum; with none free, the middle of
/// `[max_{I_up} F, min_{I_low} F]`.
fn bias(f: &[f64], alpha: &[f64], np: usize, c: f64) -> f64 {
    let (mut sum, mut free) = (0.0, 0usize);
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    for (t, (&ft, &at)) in f.iter().zip(alpha).enumerate() {
        if at > 0.0 && at < c {
            sum += ft;
            free += 1;
        }
        let (up, low) = if t < np {
            (in_up::<true>(at, c), in_low::<true>(at, c))
        } else {
            (in_up::<false>(at, c), in_low::<false>(at, c))
        };
        if up {
            lo = lo.max(ft);
        }
        if low {
            hi = hi.min(ft);
        }
    }
    if free > 0 {
        sum / free as f64
    } else if lo.is_finite() && hi.is_finite() {
        (lo + hi) / 2.0
    } else if lo.is_finite() {
        lo
    } else if hi.is_finite() {
        hi
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests;
