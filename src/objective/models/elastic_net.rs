//! `elastic_net`, `ridge` and `lasso`: linear regression with an L1/L2
//! penalty, fitted by this module's own cyclic coordinate descent, with
//! scikit-learn's `ElasticNet` parameter names and meanings. This module owns
//! the solver, the centring for the intercept and the fitted linear model; it
//! never touches the registry (`mod.rs`).
//!
//! # Objective
//!
//! ```text
//! minimise 1/(2n)·‖y − Xw − b‖² + alpha·l1_ratio·‖w‖₁ + 0.5·alpha·(1 − l1_ratio)·‖w‖²
//! ```
//!
//! This is scikit-learn's `ElasticNet` objective. The solver works on `n`
//! times it, `½‖r‖² + l1·‖w‖₁ + ½·l2·‖w‖²` with `r = y − Xw`,
//! `l1 = n·alpha·l1_ratio` and `l2 = n·alpha·(1 − l1_ratio)`, so one
//! coordinate update is `w_j = S(x_j·(r + x_j·w_j), l1) / (‖x_j‖² + l2)`
//! (`S` the soft threshold); a column with `‖x_j‖² = 0` keeps weight 0.
//!
//! # Stopping rule (scikit-learn's family)
//!
//! `max_iter` counts sweeps over the features, always in the order
//! `0..d`. After a sweep whose largest weight change is at most `tol` times
//! the largest weight (or where every weight is 0, or on the last allowed
//! sweep), the duality gap of the `n`-times objective is computed and the
//! fit stops when it is at most `tol·‖y − ȳ‖²` (`tol·‖y‖²` without an
//! intercept); the gap is also checked once before the first sweep, so a
//! penalty that already makes `w = 0` optimal costs no sweep. The gap is
//! the usual one for `l1 > 0` (the residual scaled into the dual feasible
//! set), the ridge dual for `l1 = 0 < l2`, and `‖Xᵀr‖²` (the first-order
//! condition) for plain least squares, as in scikit-learn 1.9.
//!
//! # Two solvers, one meaning
//!
//! With more rows than features (`n > d`) the solver precomputes the Gram
//! matrix `G = XᵀX` and `q = Xᵀy` once (`O(n·d²)`) and keeps `Xᵀr = q − G·w`
//! up to date, so each coordinate update costs `O(d)` instead of `O(n)`.
//! Otherwise it keeps the residual `r` itself (`O(n)` per update). Both
//! run the same updates and the same stopping rule; they differ only in
//! rounding.
//!
//! The Gram matrix, `q`, `‖y‖²` and the centring depend only on the
//! training rows, the targets and `fit_intercept`, not on `alpha`,
//! `l1_ratio`, `max_iter` or `tol`, so a search makes them once per fold
//! and `fit_intercept` value ([`fit_shared`], kept in the fold's
//! [`Shared`] under a key naming `fit_intercept`) and every candidate of
//! `elastic_net`, `ridge` and `lasso` on that fold reads them: the same
//! computation an unshared fit runs, so the same bits. A fit that finds
//! them made reads nothing else of the training matrix (the duality gap
//! needs only `G`, `q` and `‖y‖²`; the intercept only the means).
//!
//! `ridge` and `lasso` are the corners `l1_ratio = 0` and `l1_ratio = 1` with
//! the *same* `alpha` meaning. Note that scikit-learn's `Ridge(alpha)`
//! minimises `‖y − Xw‖² + alpha·‖w‖²`, so `ridge` here with `alpha = a`
//! equals scikit-learn's `Ridge(alpha = n·a)`. `lasso` equals scikit-learn's
//! `Lasso(alpha)`. `alpha = 0` and `l1_ratio = 0` are accepted as they are
//! (plain least squares by coordinate descent, and pure ridge): no
//! substitution is made.
//!
//! # Intercept
//!
//! With `fit_intercept` the module centres `X` and `y`, fits without an
//! intercept, and sets `b = ȳ − x̄·w`, as scikit-learn does. A constant
//! column becomes exactly zero after centring and gets weight 0.
//!
//! # Determinism
//!
//! Single-threaded, no randomness (the seed is unused), features always in
//! order `0..d`, and every sum runs in a fixed order (`dot` below splits a
//! sum into four fixed lanes, combined in a fixed order), so a fit is bit
//! identical across runs, processes and thread counts.

use ndarray::ArrayView2;

use serde::{Deserialize, Serialize};

use super::{
    check_width, wrong_task, Fitted, HyperParam, ModelError, ModelInfo, Prediction, Reader, Shared,
    Targets, Task,
};
use crate::value::Params;

const ALPHA: HyperParam = HyperParam {
    floats: Some((0.0, f64::MAX)),
    ..HyperParam::new(
        "alpha",
        "1.0",
        "overall penalty strength (scikit-learn ElasticNet's alpha)",
    )
};
const L1_RATIO: HyperParam = HyperParam {
    floats: Some((0.0, 1.0)),
    ..HyperParam::new(
        "l1_ratio",
        "0.5",
        "share of the L1 penalty: 0 is ridge, 1 is lasso",
    )
};
const MAX_ITER: HyperParam = HyperParam {
    ints: Some((1, i64::MAX)),
    ..HyperParam::new("max_iter", "1000", "maximum coordinate-descent sweeps")
};
const TOL: HyperParam = HyperParam {
    floats: Some((0.0, f64::MAX)),
    ..HyperParam::new(
        "tol",
        "0.0001",
        "stop when the duality gap is below tol*||y - mean(y)||^2",
    )
};
const FIT_INTERCEPT: HyperParam = HyperParam {
    boolean: true,
    ..HyperParam::new("fit_intercept", "true", "fit an unpenalised intercept")
};

/// The registry entry for `elastic_net`.
pub const INFO: ModelInfo = ModelInfo {
    name: "elastic_net",
    summary: "linear regression with an L1 + L2 penalty (coordinate descent), parameters as \
              scikit-learn's ElasticNet: minimise 1/(2n)*||y - Xw - b||^2 \
              + alpha*l1_ratio*||w||_1 + 0.5*alpha*(1 - l1_ratio)*||w||^2",
    tasks: &[Task::Regression],
    probabilities: false,
    missing_values: false,
    params: &[ALPHA, L1_RATIO, MAX_ITER, TOL, FIT_INTERCEPT],
};

/// The registry entry for `ridge`: `elastic_net` with `l1_ratio = 0`.
pub const RIDGE_INFO: ModelInfo = ModelInfo {
    name: "ridge",
    summary:
        "elastic_net with l1_ratio = 0: minimise 1/(2n)*||y - Xw - b||^2 + 0.5*alpha*||w||^2; \
              alpha = a here is scikit-learn's Ridge(alpha = n*a)",
    params: &[ALPHA, MAX_ITER, TOL, FIT_INTERCEPT],
    ..INFO
};

/// The registry entry for `lasso`: `elastic_net` with `l1_ratio = 1`.
pub const LASSO_INFO: ModelInfo = ModelInfo {
    name: "lasso",
    summary: "elastic_net with l1_ratio = 1: minimise 1/(2n)*||y - Xw - b||^2 + alpha*||w||_1, \
              as scikit-learn's Lasso",
    params: &[ALPHA, MAX_ITER, TOL, FIT_INTERCEPT],
    ..INFO
};

/// Validated settings of one fit.
#[derive(Clone, Copy, Debug)]
struct Settings {
    alpha: f64,
    l1_ratio: f64,
    max_iter: usize,
    tol: f64,
    fit_intercept: bool,
}

impl Settings {
    fn read(
        model: &'static str,
        params: &Params,
        l1_ratio: Option<f64>,
    ) -> Result<Self, ModelError> {
        let r = Reader { model, params };
        let bad = |name: &str, message: String| ModelError::Param {
            model,
            name: name.to_string(),
            message,
        };
        let alpha = r.f64("alpha", 1.0)?;
        if !(alpha >= 0.0 && alpha.is_finite()) {
            return Err(bad(
                "alpha",
                format!("must be a finite number >= 0 (got {alpha})"),
            ));
        }
        let l1_ratio = match l1_ratio {
            Some(fixed) => fixed,
            None => r.f64("l1_ratio", 0.5)?,
        };
        if !(0.0..=1.0).contains(&l1_ratio) {
            return Err(bad(
                "l1_ratio",
                format!("must be in [0, 1] (got {l1_ratio})"),
            ));
        }
        let max_iter = r.usize("max_iter", 1000)?;
        if max_iter < 1 {
            return Err(bad("max_iter", "must be at least 1 (got 0)".into()));
        }
        let tol = r.f64("tol", 1e-4)?;
        if !(tol >= 0.0 && tol.is_finite()) {
            return Err(bad(
                "tol",
                format!("must be a finite number >= 0 (got {tol})"),
            ));
        }
        Ok(Settings {
            alpha,
            l1_ratio,
            max_iter,
            tol,
            fit_intercept: r.bool("fit_intercept", true)?,
        })
    }
}

/// Train an elastic net on `x` and real targets `y`. `l1_ratio`: `None` for
/// `elastic_net` (read from `params`), `Some(0.0)` for `ridge`, `Some(1.0)`
/// for `lasso`.
///
/// Errors: class targets, no rows or no columns, a row count that differs
/// from `y`, a non-finite value, or an invalid parameter. `seed` is unused.
pub fn fit(
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    seed: u64,
    l1_ratio: Option<f64>,
) -> Result<Fitted, ModelError> {
    fit_shared(x, y, params, seed, l1_ratio, &Shared::disabled())
}

/// [`fit`], taking the centred Gram matrix of `x` from `shared` (made
/// there once per training matrix, see the module doc): the same model,
/// bit for bit, whatever `shared` holds.
pub fn fit_shared(
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    _seed: u64,
    l1_ratio: Option<f64>,
    shared: &Shared,
) -> Result<Fitted, ModelError> {
    let variant = match l1_ratio {
        Some(0.0) => Variant::Ridge,
        Some(1.0) => Variant::Lasso,
        _ => Variant::ElasticNet,
    };
    let model = variant.name();
    let y = match y {
        Targets::Values(y) => y,
        Targets::Classes { .. } => return Err(wrong_task(model, &y)),
    };
    let settings = Settings::read(model, params, l1_ratio)?;
    Ok(Fitted::ElasticNet(train_shared(
        variant, x, y, settings, shared,
    )?))
}

/// Which registry name a linear model was trained under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// `elastic_net`: `l1_ratio` tuned.
    ElasticNet,
    /// `ridge`: `l1_ratio = 0`.
    Ridge,
    /// `lasso`: `l1_ratio = 1`.
    Lasso,
}

impl Variant {
    /// The registry name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::ElasticNet => INFO.name,
            Variant::Ridge => RIDGE_INFO.name,
            Variant::Lasso => LASSO_INFO.name,
        }
    }
}

/// A fitted linear model `x·w + b` (elastic net, ridge or lasso).
/// Serialisable; a deserialised model must have finite numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LinearWire")]
pub struct Linear {
    variant: Variant,
    /// One weight per training column.
    weights: Vec<f64>,
    intercept: f64,
}

/// The unchecked form a model is read into.
#[derive(Deserialize)]
struct LinearWire {
    variant: Variant,
    weights: Vec<f64>,
    intercept: f64,
}

impl TryFrom<LinearWire> for Linear {
    type Error = String;
    fn try_from(w: LinearWire) -> Result<Self, String> {
        if w.weights
            .iter()
            .chain([&w.intercept])
            .any(|v| !v.is_finite())
        {
            return Err("weights and intercept must be finite".into());
        }
        Ok(Linear {
            variant: w.variant,
            weights: w.weights,
            intercept: w.intercept,
        })
    }
}

/// [`train_shared`] with nothing shared.
#[cfg(test)]
fn train(
    variant: Variant,
    x: ArrayView2<'_, f64>,
    y: &[f64],
    s: Settings,
) -> Result<Linear, ModelError> {
    train_shared(variant, x, y, s, &Shared::disabled())
}

/// Train on `x`/`y`; with more rows than features the centred Gram
/// matrix comes from `shared` (see the module doc, "Two solvers, one
/// meaning").
fn train_shared(
    variant: Variant,
    x: ArrayView2<'_, f64>,
    y: &[f64],
    s: Settings,
    shared: &Shared,
) -> Result<Linear, ModelError> {
    let model = variant.name();
    let fail = |message: String| ModelError::Fit { model, message };
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return Err(fail(format!(
            "needs at least one row and one column (got {n} × {d})"
        )));
    }
    if y.len() != n {
        return Err(fail(format!("{n} rows but {} targets", y.len())));
    }
    let l1 = n as f64 * s.alpha * s.l1_ratio;
    let l2 = n as f64 * s.alpha * (1.0 - s.l1_ratio);
    if n > d {
        // Why sharing cannot change a result: the value under this key is
        // `Gram::of` the fold's training rows and targets with this
        // centring, the computation an unshared fit runs, so every fit
        // reads the same bits (`a_warm_shared_gram_gives_the_same_bits`).
        let key = format!("elastic_net gram fit_intercept={}", s.fit_intercept);
        let made = shared.get_or_make(&key, || {
            let gram = Centred::of(x, y, s.fit_intercept).map(Gram::of);
            let bytes = gram.as_ref().map_or(0, Gram::bytes);
            (gram, bytes)
        });
        let gram = made.as_ref().as_ref().map_err(|m| fail(m.clone()))?;
        let problem = Problem {
            cols: &[],
            y: &[],
            l1,
            l2,
            max_iter: s.max_iter,
            tol: s.tol,
        };
        finish(
            variant,
            problem.solve_on(gram),
            &gram.x_mean,
            gram.y_mean,
            s,
        )
    } else {
        let centred = Centred::of(x, y, s.fit_intercept).map_err(fail)?;
        let problem = Problem {
            cols: &centred.cols,
            y: &centred.y,
            l1,
            l2,
            max_iter: s.max_iter,
            tol: s.tol,
        };
        let weights = problem.solve_residual();
        finish(variant, weights, &centred.x_mean, centred.y_mean, s)
    }
}

/// The fitted model from the solver's weights and the centring.
fn finish(
    variant: Variant,
    weights: Vec<f64>,
    x_mean: &[f64],
    y_mean: f64,
    s: Settings,
) -> Result<Linear, ModelError> {
    if weights.iter().any(|w| !w.is_finite()) {
        return Err(ModelError::Fit {
            model: variant.name(),
            message: "coordinate descent diverged (non-finite weights)".into(),
        });
    }
    let mut shift = 0.0;
    for (m, w) in x_mean.iter().zip(&weights) {
        shift += m * w;
    }
    Ok(Linear {
        variant,
        intercept: if s.fit_intercept { y_mean - shift } else { 0.0 },
        weights,
    })
}

/// The training data centred for the intercept (see the module doc),
/// column-major: the solvers walk one column at a time.
struct Centred {
    /// Column `j` is `cols[j·n..(j + 1)·n]`, `x_j − x̄_j`.
    cols: Vec<f64>,
    /// `y − ȳ`.
    y: Vec<f64>,
    /// `x̄` (zeros without an intercept).
    x_mean: Vec<f64>,
    /// `ȳ` (0 without an intercept).
    y_mean: f64,
}

impl Centred {
    /// Centre `x` and `y` (sums in row order); the error message when a
    /// value is not finite.
    fn of(x: ArrayView2<'_, f64>, y: &[f64], fit_intercept: bool) -> Result<Centred, String> {
        let (n, d) = x.dim();
        if x.iter().chain(y).any(|v| !v.is_finite()) {
            return Err("data contain NaN or infinity".into());
        }
        let mut x_mean = vec![0.0; d];
        let mut y_mean = 0.0;
        if fit_intercept {
            for row in x.rows() {
                for (m, &v) in x_mean.iter_mut().zip(row.iter()) {
                    *m += v;
                }
            }
            for (j, m) in x_mean.iter_mut().enumerate() {
                *m /= n as f64;
                let col = x.column(j);
                if col.iter().all(|&v| v == col[0]) {
                    // A constant column: exactly zero after centring, weight 0.
                    *m = col[0];
                }
            }
            y_mean = y.iter().sum::<f64>() / n as f64;
        }
        let mut cols = Vec::with_capacity(n * d);
        for (j, &m) in x_mean.iter().enumerate() {
            cols.extend(x.column(j).iter().map(|&v| v - m));
        }
        let y = y.iter().map(|&v| v - y_mean).collect();
        Ok(Centred {
            cols,
            y,
            x_mean,
            y_mean,
        })
    }
}

/// What the Gram solver needs of one (centred) training set: everything
/// but the penalty, so it is shared by every candidate on a fold.
struct Gram {
    /// `G = XᵀX`, `d × d` row-major.
    gram: Vec<f64>,
    /// `q = Xᵀy`.
    q: Vec<f64>,
    /// `‖y‖²`.
    y_norm2: f64,
    /// The centring, for the intercept.
    x_mean: Vec<f64>,
    y_mean: f64,
}

impl Gram {
    /// `G`, `q` and `‖y‖²` of `centred`, keeping its means (its columns
    /// are dropped).
    fn of(centred: Centred) -> Gram {
        let (cols, y) = (&centred.cols, &centred.y);
        let n = y.len();
        let d = cols.len() / n.max(1);
        let column = |j: usize| &cols[j * n..(j + 1) * n];
        // G's upper triangle by column dot products, mirrored: symmetric by
        // construction, each entry summed in row order.
        let mut gram = vec![0.0; d * d];
        for j in 0..d {
            for k in j..d {
                let v = dot(column(j), column(k));
                gram[j * d + k] = v;
                gram[k * d + j] = v;
            }
        }
        let q: Vec<f64> = (0..d).map(|j| dot(column(j), y)).collect();
        Gram {
            gram,
            q,
            y_norm2: dot(y, y),
            x_mean: centred.x_mean,
            y_mean: centred.y_mean,
        }
    }

    /// The bytes it holds (what a [`Shared`] counts).
    fn bytes(&self) -> usize {
        (self.gram.len() + self.q.len() + self.x_mean.len() + 2) * std::mem::size_of::<f64>()
    }
}

/// `a·b` in a fixed order: four interleaved partial sums (lane `k` takes
/// the indices `≡ k mod 4`, in order), combined as `(s0 + s1) + (s2 + s3)`,
/// then the tail. Why: the lanes let the CPU overlap the additions, and the
/// order depends only on the length, so results are reproducible.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let len = a.len().min(b.len());
    let (a, b) = (&a[..len], &b[..len]);
    let mut s = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (p, q) in (&mut ca).zip(&mut cb) {
        s[0] += p[0] * q[0];
        s[1] += p[1] * q[1];
        s[2] += p[2] * q[2];
        s[3] += p[3] * q[3];
    }
    let mut total = (s[0] + s[1]) + (s[2] + s[3]);
    for (p, q) in ca.remainder().iter().zip(cb.remainder()) {
        total += p * q;
    }
    total
}

/// `S(z, t) = sign(z)·max(|z| − t, 0)`, the soft threshold.
fn soft_threshold(z: f64, t: f64) -> f64 {
    if z > t {
        z - t
    } else if z < -t {
        z + t
    } else {
        0.0
    }
}

/// One coordinate-descent problem in the `n`-times objective
/// `½‖y − Xw‖² + l1·‖w‖₁ + ½·l2·‖w‖²` (data already centred when there is an
/// intercept).
struct Problem<'a> {
    /// `X` column-major: column `j` is `cols[j·n..(j + 1)·n]`.
    cols: &'a [f64],
    y: &'a [f64],
    l1: f64,
    l2: f64,
    max_iter: usize,
    tol: f64,
}

/// The quantities the duality gap needs at the current `w`.
struct GapInputs<'a> {
    w: &'a [f64],
    /// `Xᵀr`.
    xtr: &'a [f64],
    /// `‖r‖²`.
    r_norm2: f64,
    /// `r·y`.
    r_dot_y: f64,
}

impl Problem<'_> {
    fn n(&self) -> usize {
        self.y.len()
    }

    fn column(&self, j: usize) -> &[f64] {
        let n = self.n();
        &self.cols[j * n..(j + 1) * n]
    }

    fn features(&self) -> usize {
        self.cols.len() / self.n().max(1)
    }

    /// The gap threshold `tol·‖y‖²`.
    fn gap_tol(&self, y_norm2: f64) -> f64 {
        self.tol * y_norm2
    }

    /// Whether a sweep with these statistics calls for a gap check.
    fn check_gap(&self, w_max: f64, dw_max: f64, sweep: usize) -> bool {
        w_max == 0.0 || dw_max / w_max <= self.tol || sweep + 1 == self.max_iter
    }

    /// Duality gap of the `n`-times objective at `g.w` (see the module doc
    /// for which dual is used).
    fn duality_gap(&self, g: &GapInputs<'_>) -> f64 {
        // coef·norm, written so that an infinite penalty (n·alpha past
        // f64::MAX) times a zero norm gives 0, not NaN.
        let times = |coef: f64, norm: f64| if norm > 0.0 { coef * norm } else { 0.0 };
        let ridge = times(self.l2, dot(g.w, g.w));
        if self.l1 == 0.0 {
            let xtr_norm2 = dot(g.xtr, g.xtr);
            if self.l2 == 0.0 {
                // Least squares: no dual; the first-order condition Xᵀr = 0.
                return xtr_norm2;
            }
            // Ridge dual D(r) = r·y − ½‖r‖² − ‖Xᵀr‖²/(2·l2).
            return g.r_norm2 + 0.5 * ridge - g.r_dot_y + xtr_norm2 / (2.0 * self.l2);
        }
        // Dual point: r scaled so that ‖Xᵀθ − l2·w‖∞ ≤ l1.
        let mut dual_norm = 0.0f64;
        let mut w_l1 = 0.0;
        for (&c, &w) in g.xtr.iter().zip(g.w) {
            dual_norm = dual_norm.max((c - self.l2 * w).abs());
            w_l1 += w.abs();
        }
        let scale = if dual_norm > self.l1 {
            self.l1 / dual_norm
        } else {
            1.0
        };
        let smooth = g.r_norm2 + ridge;
        let primal = 0.5 * smooth + times(self.l1, w_l1);
        let dual = scale * g.r_dot_y - 0.5 * scale * scale * smooth;
        primal - dual
    }

    /// Coordinate descent on the Gram matrix (for `n > d`) of this
    /// problem's `cols` and `y`.
    #[cfg(test)]
    fn solve_gram(&self) -> Vec<f64> {
        let centred = Centred {
            cols: self.cols.to_vec(),
            y: self.y.to_vec(),
            x_mean: Vec::new(),
            y_mean: 0.0,
        };
        self.solve_on(&Gram::of(centred))
    }

    /// Coordinate descent on a Gram matrix (for `n > d`): keeps
    /// `c = Xᵀr = q − G·w`, so an update costs `O(d)`. Reads only the
    /// penalty and stopping settings of `self`, never its `cols` or `y`.
    fn solve_on(&self, g: &Gram) -> Vec<f64> {
        let d = g.q.len();
        let (gram, q, y_norm2) = (&g.gram, &g.q, g.y_norm2);
        let gap_tol = self.gap_tol(y_norm2);
        let mut w = vec![0.0; d];
        let mut c = q.clone();
        let gap = |w: &[f64], c: &[f64]| {
            // ‖r‖² = ‖y‖² − 2q·w + w·G·w and G·w = q − c.
            let q_dot_w = dot(q, w);
            self.duality_gap(&GapInputs {
                w,
                xtr: c,
                r_norm2: (y_norm2 - q_dot_w - dot(c, w)).max(0.0),
                r_dot_y: y_norm2 - q_dot_w,
            })
        };
        if gap(&w, &c) <= gap_tol {
            return w;
        }
        for sweep in 0..self.max_iter {
            let (mut w_max, mut dw_max) = (0.0f64, 0.0f64);
            for j in 0..d {
                let row = &gram[j * d..(j + 1) * d];
                let norm = row[j];
                if norm == 0.0 {
                    continue;
                }
                let old = w[j];
                let new = soft_threshold(c[j] + norm * old, self.l1) / (norm + self.l2);
                if new != old {
                    let delta = new - old;
                    for (ck, &gk) in c.iter_mut().zip(row) {
                        *ck -= delta * gk;
                    }
                    w[j] = new;
                }
                dw_max = dw_max.max((new - old).abs());
                w_max = w_max.max(new.abs());
            }
            if self.check_gap(w_max, dw_max, sweep) && gap(&w, &c) <= gap_tol {
                break;
            }
        }
        w
    }

    /// Coordinate descent on the residual (for `n ≤ d`): keeps `r = y − Xw`,
    /// so an update costs `O(n)`.
    fn solve_residual(&self) -> Vec<f64> {
        let d = self.features();
        let norms: Vec<f64> = (0..d)
            .map(|j| dot(self.column(j), self.column(j)))
            .collect();
        let y_norm2 = dot(self.y, self.y);
        let gap_tol = self.gap_tol(y_norm2);
        let mut w = vec![0.0; d];
        let mut r = self.y.to_vec();
        let mut xtr = vec![0.0; d];
        let mut gap = |w: &[f64], r: &[f64]| {
            for (j, c) in xtr.iter_mut().enumerate() {
                *c = dot(self.column(j), r);
            }
            self.duality_gap(&GapInputs {
                w,
                xtr: &xtr,
                r_norm2: dot(r, r),
                r_dot_y: dot(r, self.y),
            })
        };
        if gap(&w, &r) <= gap_tol {
            return w;
        }
        for sweep in 0..self.max_iter {
            let (mut w_max, mut dw_max) = (0.0f64, 0.0f64);
            for (j, &norm) in norms.iter().enumerate() {
                if norm == 0.0 {
                    continue;
                }
                let col = self.column(j);
                let old = w[j];
                let new = soft_threshold(dot(col, &r) + norm * old, self.l1) / (norm + self.l2);
                if new != old {
                    let delta = new - old;
                    for (ri, &xi) in r.iter_mut().zip(col) {
                        *ri -= delta * xi;
                    }
                    w[j] = new;
                }
                dw_max = dw_max.max((new - old).abs());
                w_max = w_max.max(new.abs());
            }
            if self.check_gap(w_max, dw_max, sweep) && gap(&w, &r) <= gap_tol {
                break;
            }
        }
        w
    }
}

impl Linear {
    /// Which of elastic net, ridge and lasso this is.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// The number of feature columns the model was trained on.
    pub fn n_features(&self) -> usize {
        self.weights.len()
    }

    /// `x·w + b` for every row. Errors when `x` does not have the training
    /// width.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        check_width(self.variant.name(), self.weights.len(), &x)?;
        let values = x
            .rows()
            .into_iter()
            .map(|row| {
                let mut acc = self.intercept;
                for (&v, &w) in row.iter().zip(&self.weights) {
                    acc += v * w;
                }
                acc
            })
            .collect();
        Ok(Prediction::Values(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::models::testdata::load;
    use crate::value::Value;
    use ndarray::{array, Array2, Axis};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn params(pairs: &[(&str, f64)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Float(*v)))
            .collect()
    }

    fn values(p: Result<Prediction, ModelError>) -> Vec<f64> {
        match p.unwrap() {
            Prediction::Values(v) => v,
            other => panic!("expected values, got {other:?}"),
        }
    }

    fn tight(alpha: f64, l1_ratio: f64) -> Settings {
        Settings {
            alpha,
            l1_ratio,
            max_iter: 10_000,
            tol: 1e-12,
            fit_intercept: true,
        }
    }

    // x = [0, 1, 2, 3], y = [1, 3, 2, 5]: centred, Σxc² = 5 and Σxc·yc = 5.5,
    // n = 4, x̄ = 1.5, ȳ = 2.75. The 1-D minimiser is
    // w = S(5.5, n·alpha·l1_ratio) / (5 + n·alpha·(1 − l1_ratio)), b = ȳ − x̄·w.
    fn line() -> (Array2<f64>, Vec<f64>) {
        (array![[0.0], [1.0], [2.0], [3.0]], vec![1.0, 3.0, 2.0, 5.0])
    }

    fn check_line(alpha: f64, l1_ratio: f64, w: f64) {
        let (x, y) = line();
        let m = train(Variant::ElasticNet, x.view(), &y, tight(alpha, l1_ratio)).unwrap();
        assert!(
            (m.weights[0] - w).abs() < 1e-9,
            "alpha {alpha} l1 {l1_ratio}: {m:?}"
        );
        assert!((m.intercept - (2.75 - 1.5 * w)).abs() < 1e-9);
    }

    #[test]
    fn one_feature_solutions_match_hand_computed_values() {
        check_line(0.0, 0.5, 1.1); // least squares: 5.5 / 5
        check_line(0.5, 0.0, 5.5 / 7.0); // ridge: 5.5 / (5 + 2)
        check_line(0.5, 1.0, 3.5 / 5.0); // lasso: (5.5 − 2) / 5
        check_line(0.5, 0.5, 4.5 / 6.0); // elastic net: (5.5 − 1) / (5 + 1)
    }

    #[test]
    fn predicting_another_width_is_an_error_naming_the_model() {
        let (x, y) = line();
        for (l1, name) in [
            (Some(0.0), "ridge"),
            (Some(1.0), "lasso"),
            (None, "elastic_net"),
        ] {
            let m = fit(x.view(), Targets::Values(&y), &Params::new(), 0, l1).unwrap();
            assert_eq!(m.n_features(), 1);
            let e = m.predict(Array2::zeros((3, 2)).view()).err().unwrap();
            assert_eq!(
                e.to_string(),
                format!("{name}: trained on 1 feature columns, asked to predict rows of 2")
            );
            assert!(m.predict(Array2::zeros((3, 0)).view()).is_err());
            let Fitted::ElasticNet(lin) = &m else {
                panic!("{m:?}")
            };
            assert_eq!(lin.variant().name(), name);
        }
    }

    #[test]
    fn a_model_file_reads_back_and_a_damaged_one_is_refused() {
        let (x, y) = line();
        let m = train(Variant::Ridge, x.view(), &y, tight(0.5, 0.0)).unwrap();
        let mut v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["variant"], "ridge");
        assert_eq!(serde_json::from_value::<Linear>(v.clone()).unwrap(), m);
        let mut bad = v.clone();
        bad["variant"] = "ridge_regression".into();
        assert!(serde_json::from_value::<Linear>(bad).is_err());
        v["weights"] = serde_json::json!([null]);
        assert!(serde_json::from_value::<Linear>(v).is_err());
    }

    #[test]
    fn without_intercept_the_line_passes_through_the_origin() {
        // Σx² = 14, Σx·y = 22: w = 22 / (14 + n·alpha) with alpha = 0.5, ridge.
        let (x, y) = line();
        let s = Settings {
            fit_intercept: false,
            ..tight(0.5, 0.0)
        };
        let m = train(Variant::ElasticNet, x.view(), &y, s).unwrap();
        assert!((m.weights[0] - 22.0 / 16.0).abs() < 1e-9, "{m:?}");
        assert_eq!(m.intercept, 0.0);
    }

    #[test]
    fn tiny_alpha_recovers_known_coefficients() {
        // y = 2·x0 − 3·x1 + 1 on uncentred features.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let x = Array2::from_shape_fn((50, 2), |(_, j)| rng.gen::<f64>() * 4.0 + 3.0 * j as f64);
        let y: Vec<f64> = x
            .rows()
            .into_iter()
            .map(|r| 2.0 * r[0] - 3.0 * r[1] + 1.0)
            .collect();
        let p = params(&[("alpha", 1e-10), ("tol", 1e-12)]);
        let m = fit(x.view(), Targets::Values(&y), &p, 0, None).unwrap();
        let pred = values(m.predict(array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]].view()));
        assert!((pred[0] - 1.0).abs() < 1e-6, "{pred:?}");
        assert!((pred[1] - 3.0).abs() < 1e-6, "{pred:?}");
        assert!((pred[2] + 2.0).abs() < 1e-6, "{pred:?}");
    }

    #[test]
    fn lasso_with_large_alpha_predicts_the_mean() {
        let (x, y) = line();
        let m = train(Variant::ElasticNet, x.view(), &y, tight(10.0, 1.0)).unwrap();
        assert_eq!(m.weights, [0.0]);
        let pred = values(
            fit(
                x.view(),
                Targets::Values(&y),
                &params(&[("alpha", 10.0)]),
                0,
                Some(1.0),
            )
            .unwrap()
            .predict(array![[-7.0], [42.0]].view()),
        );
        assert_eq!(pred, [2.75, 2.75]);
    }

    #[test]
    fn constant_column_gets_zero_weight() {
        let x = array![[0.0, 0.1], [1.0, 0.1], [2.0, 0.1], [3.0, 0.1]];
        let y = [1.0, 3.0, 2.0, 5.0];
        let m = train(Variant::ElasticNet, x.view(), &y, tight(0.5, 0.5)).unwrap();
        assert_eq!(m.weights[1], 0.0);
        assert!((m.weights[0] - 0.75).abs() < 1e-9);
    }

    #[test]
    fn ridge_and_lasso_have_no_l1_ratio_and_fix_it() {
        assert!(RIDGE_INFO.param("l1_ratio").is_none());
        assert!(LASSO_INFO.param("l1_ratio").is_none());
        assert!(INFO.param("l1_ratio").is_some());
        // l1_ratio in params is ignored by the corners: ridge stays ridge.
        let (x, y) = line();
        let p = params(&[("alpha", 0.5), ("l1_ratio", 1.0), ("tol", 1e-12)]);
        let pred = values(
            fit(x.view(), Targets::Values(&y), &p, 0, Some(0.0))
                .unwrap()
                .predict(x.view()),
        );
        let w = 5.5 / 7.0;
        assert!((pred[0] - (2.75 - 1.5 * w)).abs() < 1e-9);
    }

    #[test]
    fn class_targets_are_the_wrong_task() {
        let (x, _) = line();
        let y = Targets::Classes {
            y: &[0, 1, 0, 1],
            n_classes: 2,
        };
        for (ratio, name) in [
            (None, "elastic_net"),
            (Some(0.0), "ridge"),
            (Some(1.0), "lasso"),
        ] {
            let e = fit(x.view(), y, &Params::new(), 0, ratio).err().unwrap();
            assert_eq!(
                e.to_string(),
                format!("{name}: does not support classification")
            );
        }
    }

    #[test]
    fn bad_input_and_parameters_are_errors() {
        let (x, y) = line();
        let nan = [1.0, f64::NAN, 2.0, 3.0];
        assert!(fit(x.view(), Targets::Values(&nan), &Params::new(), 0, None).is_err());
        assert!(fit(x.view(), Targets::Values(&y[..3]), &Params::new(), 0, None).is_err());
        let empty = Array2::<f64>::zeros((0, 1));
        assert!(fit(empty.view(), Targets::Values(&[]), &Params::new(), 0, None).is_err());
        for bad in [
            ("alpha", -1.0),
            ("l1_ratio", 1.5),
            ("tol", -1.0),
            ("max_iter", 0.0),
        ] {
            let p = params(&[bad]);
            assert!(
                fit(x.view(), Targets::Values(&y), &p, 0, None).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn two_fits_are_bit_identical() {
        let (x, y) = load("diabetes.csv");
        let p = params(&[("alpha", 0.01), ("l1_ratio", 0.3)]);
        let a = values(
            fit(x.view(), Targets::Values(&y), &p, 1, None)
                .unwrap()
                .predict(x.view()),
        );
        let b = values(
            fit(x.view(), Targets::Values(&y), &p, 2, None)
                .unwrap()
                .predict(x.view()),
        );
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
    }

    #[test]
    fn a_warm_shared_gram_gives_the_same_bits() {
        // diabetes: 442 rows > 10 columns, the Gram solver. Every candidate
        // of every variant, fitted after others warmed the fold's Shared,
        // equals the unshared fit bit for bit.
        let (x, y) = load("diabetes.csv");
        let shared = Shared::default();
        let mut made = 0;
        for fit_intercept in [true, false] {
            for (alpha, ratio) in [
                (0.5, None),
                (0.01, Some(0.0)),
                (0.1, Some(1.0)),
                (1e-4, None),
            ] {
                let mut p = params(&[("alpha", alpha), ("l1_ratio", 0.3), ("tol", 1e-8)]);
                p.insert("fit_intercept".into(), Value::Bool(fit_intercept));
                let cold = fit(x.view(), Targets::Values(&y), &p, 0, ratio).unwrap();
                let warm =
                    fit_shared(x.view(), Targets::Values(&y), &p, 0, ratio, &shared).unwrap();
                let (Fitted::ElasticNet(cold), Fitted::ElasticNet(warm)) = (cold, warm) else {
                    panic!("not linear models")
                };
                let bits = |m: &Linear| {
                    let mut b: Vec<u64> = m.weights.iter().map(|w| w.to_bits()).collect();
                    b.push(m.intercept.to_bits());
                    b
                };
                assert_eq!(
                    bits(&cold),
                    bits(&warm),
                    "{alpha} {ratio:?} {fit_intercept}"
                );
                assert!(cold.weights.iter().any(|&w| w != 0.0));
            }
            // The Gram was made once for this centring and is kept.
            let key = format!("elastic_net gram fit_intercept={fit_intercept}");
            shared.get_or_make::<Result<Gram, String>>(&key, || {
                made += 1;
                (Err(String::new()), 0)
            });
        }
        assert_eq!(made, 0, "the Gram matrices were kept");
        // A bad cell is the same error through a shared Gram.
        let mut bad = x.clone();
        bad[[3, 2]] = f64::NAN;
        let off = Shared::default();
        for _ in 0..2 {
            let e = fit_shared(
                bad.view(),
                Targets::Values(&y),
                &Params::new(),
                0,
                None,
                &off,
            );
            assert_eq!(
                e.err().map(|e| e.to_string()).as_deref(),
                Some("elastic_net: data contain NaN or infinity")
            );
        }
    }

    // Two centred features on four rows: x0 = [0, 1, 2, 3] − 1.5 and
    // x1 = [0, 0, 1, 1] − 0.5, y = [1, 3, 2, 5] − 2.75. Hand-computed:
    // G = [[5, 2], [2, 1]], q = [5.5, 1.5], ‖y‖² = 8.75.
    const TWO_COLS: [f64; 8] = [-1.5, -0.5, 0.5, 1.5, -0.5, -0.5, 0.5, 0.5];
    const TWO_Y: [f64; 4] = [-1.75, 0.25, -0.75, 2.25];

    fn two(max_iter: usize) -> Problem<'static> {
        Problem {
            cols: &TWO_COLS,
            y: &TWO_Y,
            l1: 0.0,
            l2: 0.0,
            max_iter,
            tol: 1e-12,
        }
    }

    fn close(a: &[f64], b: &[f64], eps: f64) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(p, q)| (p - q).abs() < eps)
    }

    #[test]
    fn max_iter_counts_sweeps_in_feature_order() {
        // Least squares from w = 0. Sweep 1: w0 = 5.5/5 = 1.1, then
        // w1 = (1.5 − 2·1.1)/1 = −0.7. Sweep 2: w0 = (5.5 + 2·0.7)/5 = 1.38,
        // w1 = 1.5 − 2·1.38 = −1.26. Converged: G·w = q gives [2.5, −3.5].
        for (max_iter, want) in [(1, [1.1, -0.7]), (2, [1.38, -1.26]), (10_000, [2.5, -3.5])] {
            let p = two(max_iter);
            let (gram, residual) = (p.solve_gram(), p.solve_residual());
            assert!(close(&gram, &want, 1e-9), "{max_iter}: {gram:?}");
            assert!(close(&residual, &want, 1e-9), "{max_iter}: {residual:?}");
        }
    }

    #[test]
    fn duality_gaps_match_hand_computed_values() {
        // One feature: the line data centred, G = 5, q = 5.5, ‖y‖² = 8.75.
        let cols = [-1.5, -0.5, 0.5, 1.5];
        let y = [-1.75, 0.25, -0.75, 2.25];
        let problem = |l1: f64, l2: f64| Problem {
            cols: &cols,
            y: &y,
            l1,
            l2,
            max_iter: 1,
            tol: 0.0,
        };
        let at_zero = GapInputs {
            w: &[0.0],
            xtr: &[5.5],
            r_norm2: 8.75,
            r_dot_y: 8.75,
        };
        // Least squares: ‖Xᵀr‖² = 5.5².
        assert!((problem(0.0, 0.0).duality_gap(&at_zero) - 30.25).abs() < 1e-12);
        // Ridge, l2 = 2: 8.75 + 0 − 8.75 + 5.5²/4.
        assert!((problem(0.0, 2.0).duality_gap(&at_zero) - 7.5625).abs() < 1e-12);
        // Lasso, l1 = 2: scale 2/5.5 = 4/11, primal 4.375,
        // dual 8.75·(4/11 − 8/121) = 315/121.
        let lasso = problem(2.0, 0.0).duality_gap(&at_zero);
        assert!((lasso - (4.375 - 315.0 / 121.0)).abs() < 1e-12, "{lasso}");
        // At the lasso optimum w = (5.5 − 2)/5 = 0.7: Xᵀr = 2, ‖r‖² = 3.5,
        // r·y = 4.9, primal = dual = 3.15.
        let at_optimum = GapInputs {
            w: &[0.7],
            xtr: &[2.0],
            r_norm2: 3.5,
            r_dot_y: 4.9,
        };
        assert!(problem(2.0, 0.0).duality_gap(&at_optimum).abs() < 1e-12);
        // At the ridge optimum w = 5.5/7: Xᵀr = 2·w (= l2·w), and the gap is 0.
        let w = 5.5 / 7.0;
        let at_ridge = GapInputs {
            w: &[w],
            xtr: &[5.5 - 5.0 * w],
            r_norm2: 8.75 - 11.0 * w + 5.0 * w * w,
            r_dot_y: 8.75 - 5.5 * w,
        };
        assert!(problem(0.0, 2.0).duality_gap(&at_ridge).abs() < 1e-12);
    }

    #[test]
    fn gram_and_residual_solvers_agree_on_real_data() {
        // Same problem, both solvers (the fit picks Gram here, 60 rows > 10).
        let (x, y) = load("diabetes.csv");
        let (n, d) = (60, x.ncols());
        let mut cols = Vec::new();
        for j in 0..d {
            let col: Vec<f64> = (0..n).map(|i| x[[i, j]]).collect();
            let mean = col.iter().sum::<f64>() / n as f64;
            cols.extend(col.iter().map(|v| v - mean));
        }
        let mean = y[..n].iter().sum::<f64>() / n as f64;
        let yc: Vec<f64> = y[..n].iter().map(|v| v - mean).collect();
        for (alpha, l1_ratio) in [(0.01, 0.5), (0.1, 1.0), (0.05, 0.0)] {
            let p = Problem {
                cols: &cols,
                y: &yc,
                l1: n as f64 * alpha * l1_ratio,
                l2: n as f64 * alpha * (1.0 - l1_ratio),
                max_iter: 100_000,
                tol: 1e-13,
            };
            let (gram, residual) = (p.solve_gram(), p.solve_residual());
            assert!(gram.iter().any(|&w| w != 0.0));
            // Weights are 1..1000 here; the two differ only in rounding.
            assert!(close(&gram, &residual, 1e-9), "{gram:?} vs {residual:?}");
        }
    }

    #[test]
    fn wide_data_ridge_matches_hand_computed_solution() {
        // n = 2 ≤ d = 3 (the residual solver). Centred rows are ±v/2 with
        // v = [1, 2, −2] and y ±3/2, so w = s·v with s = 3/(‖v‖² + 4·alpha)
        // = 3/12 at alpha = 0.75; b = ȳ − x̄·w = 1.5 − 0.125 = 1.375.
        let x = array![[1.0, 2.0, 0.0], [0.0, 0.0, 2.0]];
        let m = train(Variant::ElasticNet, x.view(), &[3.0, 0.0], tight(0.75, 0.0)).unwrap();
        assert!(close(&m.weights, &[0.25, 0.5, -0.5], 1e-9), "{m:?}");
        assert!((m.intercept - 1.375).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn huge_alpha_gives_zero_weights_on_both_solvers() {
        // n·alpha overflows to infinity: every weight is 0 and b = ȳ.
        let (x, y) = line();
        let tall = train(Variant::ElasticNet, x.view(), &y, tight(f64::MAX, 0.5)).unwrap();
        assert_eq!((tall.weights, tall.intercept), (vec![0.0], 2.75));
        let wide = array![[1.0, 2.0, 0.0], [0.0, 0.0, 2.0]];
        let m = train(
            Variant::ElasticNet,
            wide.view(),
            &[3.0, 0.0],
            tight(f64::MAX, 0.5),
        )
        .unwrap();
        assert_eq!((m.weights, m.intercept), (vec![0.0; 3], 1.5));
    }

    /// scikit-learn's `KFold(5, shuffle=True, random_state=0)` test fold of
    /// each diabetes row, so both sides see the same folds.
    const DIABETES_FOLDS: &str = "3023110114030310311310132412421442223044234321243032040104300231101213404211030231434234410411330234010124102332201424042403032442340201222310030114331431102000032404222300424114304234340302114404240213442003032420222221123211333221102123021144412130241212343230421434033014130413310004304044423201031202332323223141123004144101110324441440333001202233313342440101321231412020231310043411013241434040004041424340141132123123244043122200310340";

    #[test]
    fn diabetes_grid_matches_scikit_learn() {
        // scikit-learn 1.9.1: GridSearchCV(StandardScaler + ElasticNet(),
        // alpha = logspace(-4, 1, 20), l1_ratio in {.1,.3,.5,.7,.9,1},
        // cv = KFold(5, shuffle=True, random_state=0)): best R² 0.48993 at
        // alpha = 0.8859, l1_ratio = 1.
        let (x, y) = load("diabetes.csv");
        let mut folds = Vec::new();
        for f in 0..5u8 {
            let test: Vec<usize> = (0..x.nrows())
                .filter(|&i| DIABETES_FOLDS.as_bytes()[i] - b'0' == f)
                .collect();
            let train: Vec<usize> = (0..x.nrows())
                .filter(|&i| DIABETES_FOLDS.as_bytes()[i] - b'0' != f)
                .collect();
            let xt = x.select(Axis(0), &train);
            let mean = xt.mean_axis(Axis(0)).unwrap();
            let std = xt.std_axis(Axis(0), 0.0);
            let scale = |a: Array2<f64>| (a - &mean) / &std;
            let ytr: Vec<f64> = train.iter().map(|&i| y[i]).collect();
            let yte: Vec<f64> = test.iter().map(|&i| y[i]).collect();
            folds.push((scale(xt), ytr, scale(x.select(Axis(0), &test)), yte));
        }
        // CPU time of this thread (Linux schedstat): robust on a busy machine.
        let cpu = || {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|s| {
                    s.split_whitespace()
                        .next()
                        .and_then(|v| v.parse::<f64>().ok())
                })
                .map_or(0.0, |ns| ns * 1e-9)
        };
        let start = cpu();
        let (mut best, mut at) = (f64::MIN, (0.0, 0.0));
        for i in 0..20 {
            let alpha = 10f64.powf(-4.0 + 5.0 * i as f64 / 19.0);
            for l1 in [0.1, 0.3, 0.5, 0.7, 0.9, 1.0] {
                let p = params(&[("alpha", alpha), ("l1_ratio", l1)]);
                let mut r2 = 0.0;
                for (xtr, ytr, xte, yte) in &folds {
                    let m = fit(xtr.view(), Targets::Values(ytr), &p, 0, None).unwrap();
                    let pred = values(m.predict(xte.view()));
                    let mean = yte.iter().sum::<f64>() / yte.len() as f64;
                    let ss_res: f64 = yte.iter().zip(&pred).map(|(a, b)| (a - b).powi(2)).sum();
                    let ss_tot: f64 = yte.iter().map(|a| (a - mean).powi(2)).sum();
                    r2 += (1.0 - ss_res / ss_tot) / 5.0;
                }
                if r2 > best {
                    (best, at) = (r2, (alpha, l1));
                }
            }
        }
        let per_fit = (cpu() - start) / 600.0;
        eprintln!(
            "diabetes grid: best {best:.5} at {at:?}, {:.4} ms CPU per fit+predict",
            per_fit * 1e3
        );
        assert!(best >= 0.4899 * 0.99, "best mean R² {best}");
    }
}
