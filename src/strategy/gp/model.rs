//! The Gaussian-process model: a Matérn 5/2 kernel with one lengthscale per
//! input column (ARD), a signal variance and a noise variance, fitted by
//! maximising the log marginal likelihood plus weak log-priors with argmin's
//! L-BFGS, and the posterior it gives.
//!
//! Hyperparameters live in log space, `η = (ln θ_1 … ln θ_D, ln s,
//! ln(σ²_n − σ²_min))`, where `θ_k = 1/ℓ_k²` is an inverse squared
//! lengthscale, `s` the signal variance and `σ²_n ≥ σ²_min = 1e-6` the
//! noise. The priors are those Optuna's GPSampler uses by default:
//! `−(0.1/θ_k + 0.1 θ_k)` per lengthscale, Gamma(2, 1) on `s` and
//! Gamma(1.1, 30) on `σ²_n` (constants dropped).

use std::cell::RefCell;

use argmin::core::{CostFunction, Error, Executor, Gradient};
use argmin::solver::linesearch::condition::ArmijoCondition;
use argmin::solver::linesearch::{BacktrackingLineSearch, MoreThuenteLineSearch};
use argmin::solver::quasinewton::LBFGS;

use crate::numeric::avx2_dispatch;

use super::linalg::{
    dot, factor_in_place, inverse_in_place, jitter_ladder, lane_tree, solve_lower, solve_upper,
};

/// The noise-variance floor σ²_min (outputs are standardised).
pub const MIN_NOISE: f64 = 1e-6;

/// Matérn 5/2 as a function of the scaled squared distance `r²`:
/// `(1 + √5 r + 5/3 r²) e^{−√5 r}`, and its derivative with respect to
/// `r²`, `−5/6 (1 + √5 r) e^{−√5 r}` (finite at `r = 0`).
#[inline]
pub fn matern52(r2: f64) -> (f64, f64) {
    let r = (5.0 * r2).sqrt();
    let e = (-r).exp();
    (
        e * (1.0 + r + (5.0 / 3.0) * r2),
        (-5.0 / 6.0) * (1.0 + r) * e,
    )
}

/// Kernel hyperparameters in natural units.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    /// Inverse squared lengthscales θ_k = 1/ℓ_k², one per input column.
    pub theta: Vec<f64>,
    /// Signal variance `s`.
    pub scale: f64,
    /// Noise variance σ²_n (≥ [`MIN_NOISE`]).
    pub noise: f64,
}

impl Kernel {
    /// The kernel for log-space parameters `eta` (length D + 2).
    pub fn from_raw(eta: &[f64]) -> Kernel {
        let d = eta.len() - 2;
        Kernel {
            theta: eta[..d].iter().map(|v| v.exp()).collect(),
            scale: eta[d].exp(),
            noise: eta[d + 1].exp() + MIN_NOISE,
        }
    }

    /// The scaled squared distance `Σ θ_k (a_k − b_k)²`.
    pub fn r2(&self, a: &[f64], b: &[f64]) -> f64 {
        let mut s = 0.0;
        for ((x, y), t) in a.iter().zip(b).zip(&self.theta) {
            let diff = x - y;
            s += t * diff * diff;
        }
        s
    }

    /// The noise-free covariance `k(a, b)`.
    pub fn cov(&self, a: &[f64], b: &[f64]) -> f64 {
        self.scale * matern52(self.r2(a, b)).0
    }

    /// The `n × n` matrix `K + σ²_n I` of the rows of `x` (n rows of D).
    pub fn matrix(&self, x: &[f64], n: usize) -> Vec<f64> {
        let d = self.theta.len();
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..i {
                let v = self.cov(&x[i * d..(i + 1) * d], &x[j * d..(j + 1) * d]);
                k[i * n + j] = v;
                k[j * n + i] = v;
            }
            k[i * n + i] = self.scale + self.noise;
        }
        k
    }
}

/// Training data for the kernel fit: `n` rows of `d` inputs in the unit
/// cube and standardised outputs.
pub struct Data<'a> {
    /// Inputs, row-major `n × d`.
    pub x: &'a [f64],
    /// Outputs (lower is better), mean 0 and standard deviation 1.
    pub y: &'a [f64],
    /// Rows.
    pub n: usize,
    /// Columns.
    pub d: usize,
    /// First jitter tried when a factorisation fails.
    pub jitter: f64,
}

avx2_dispatch! {
    /// The negative log posterior `−(log marginal likelihood + log prior)` at
    /// `eta` and its exact gradient; `None` when the kernel matrix cannot be
    /// factored even with jitter.
    ///
    /// Two `n × n` buffers: one holds `K + σ²_n I`, then (in place) its
    /// Cholesky factor, then the lower triangle of `K⁻¹`; the other the Matérn
    /// derivatives. Only lower triangles are touched, so at a few hundred
    /// points both stay in the L2 cache.
    pub fn neg_log_posterior(data: &Data<'_>, eta: &[f64]) -> Option<(f64, Vec<f64>)>
        = neg_log_posterior_impl;
}

/// See [`neg_log_posterior`].
#[inline(always)]
fn neg_log_posterior_impl(data: &Data<'_>, eta: &[f64]) -> Option<(f64, Vec<f64>)> {
    let (n, d) = (data.n, data.d);
    if eta.len() != d + 2 || eta.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let kern = Kernel::from_raw(eta);
    let (theta, s) = (&kern.theta, kern.scale);
    // Inputs column by column, so the loops over j below run along
    // contiguous memory (and vectorise); every sum over k still runs in
    // k order, as in `Kernel::r2`.
    let mut xt = vec![0.0; n * d];
    for i in 0..n {
        for k in 0..d {
            xt[k * n + i] = data.x[i * d + k];
        }
    }
    // Lower triangles of K + σ²_n I (into `a`) and of the Matérn
    // derivatives (into `dm`, kept for the gradient).
    let mut a = vec![0.0; n * n];
    let mut dm = vec![0.0; n * n];
    let mut r2 = vec![0.0; n];
    let fill = |a: &mut [f64], dm: &mut [f64], r2: &mut [f64]| {
        fill_kernel(a, dm, r2, &xt, theta, s, kern.noise);
    };
    fill(&mut a, &mut dm, &mut r2);
    if a.iter().any(|v| !v.is_finite()) {
        return None;
    }
    // As `Cholesky::factor`: as given, then growing jitter; a failed try
    // has overwritten `a`, so it is filled again.
    let mut jitter = None;
    if factor_in_place(&mut a, n, 0.0) {
        jitter = Some(0.0);
    } else {
        for j in jitter_ladder(data.jitter, s + kern.noise) {
            fill(&mut a, &mut dm, &mut r2);
            if factor_in_place(&mut a, n, j) {
                jitter = Some(j);
                break;
            }
        }
    }
    let jitter = jitter?;
    let alpha = solve_upper(&a, n, &solve_lower(&a, n, data.y));
    let y_alpha = dot(data.y, &alpha);
    let half_log_det: f64 = (0..n).map(|i| a[i * n + i].ln()).sum();
    let lml = -0.5 * y_alpha - half_log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    let prior = -theta.iter().map(|t| 0.1 / t + 0.1 * t).sum::<f64>()
        + (kern.scale.ln() - kern.scale)
        + (0.1 * kern.noise.ln() - 30.0 * kern.noise);
    // dLML/dη = ½ tr((ααᵀ − K⁻¹) ∂K/∂η); G = ααᵀ − K⁻¹ is symmetric, so
    // off-diagonal pairs count twice. Row i: c_j = G_ij s m'(r²_ij), then
    // Σ_j c_j (x_ik − x_jk)² per column k (lanes as in `dot`).
    inverse_in_place(&mut a, n);
    let w = &a;
    let mut acc = vec![0.0; d];
    let mut diag = 0.0;
    let mut trace = 0.0;
    let mut c = vec![0.0; n];
    for i in 0..n {
        let c = &mut c[..i];
        let (wrow, dmrow) = (&w[i * n..i * n + i], &dm[i * n..i * n + i]);
        let ai = alpha[i];
        for (((cj, &wj), &dj), &aj) in c.iter_mut().zip(wrow).zip(dmrow).zip(&alpha[..i]) {
            *cj = (ai * aj - wj) * s * dj;
        }
        for (k, a) in acc.iter_mut().enumerate() {
            *a += weighted_sq(c, &xt[k * n..k * n + i], xt[k * n + i]);
        }
        diag += ai * ai - w[i * n + i];
        trace += w[i * n + i];
    }
    let mut grad = Vec::with_capacity(d + 2);
    for k in 0..d {
        let dlml = theta[k] * acc[k];
        let dprior = 0.1 / theta[k] - 0.1 * theta[k];
        grad.push(-(dlml + dprior));
    }
    // ∂K/∂ln s is the noise-free K = (K + c I) − c I with c = σ²_n +
    // jitter, and (K + c I) α = y, so ½ tr(G ∂K/∂ln s) = ½ (yᵀα − c αᵀα
    // − n + c tr K⁻¹): no copy of K is needed.
    let cdiag = kern.noise + jitter;
    let dlml_s = 0.5 * (y_alpha - cdiag * dot(&alpha, &alpha) - n as f64 + cdiag * trace);
    grad.push(-(dlml_s + 1.0 - kern.scale));
    let raw_noise = kern.noise - MIN_NOISE;
    let dlml_n = 0.5 * diag * raw_noise;
    grad.push(-(dlml_n + raw_noise * (0.1 / kern.noise - 30.0)));
    let value = -(lml + prior);
    if !value.is_finite() || grad.iter().any(|g| !g.is_finite()) {
        return None;
    }
    Some((value, grad))
}

/// The lower triangles of `K + σ²_n I` (into `a`) and of the Matérn
/// derivatives (into `dm`) for the inputs `xt`, stored column by column
/// (`d` columns of `n`); `r2` is scratch of `n`. Inlined, so it is compiled
/// with its caller's instruction set.
#[inline(always)]
fn fill_kernel(
    a: &mut [f64],
    dm: &mut [f64],
    r2: &mut [f64],
    xt: &[f64],
    theta: &[f64],
    s: f64,
    noise: f64,
) {
    let n = r2.len();
    let d = theta.len();
    for i in 0..n {
        let r2 = &mut r2[..i];
        r2.iter_mut().for_each(|r| *r = 0.0);
        for k in 0..d {
            let (t, col) = (theta[k], &xt[k * n..k * n + i]);
            let xik = xt[k * n + i];
            for (r, xj) in r2.iter_mut().zip(col) {
                let diff = xik - xj;
                *r += t * diff * diff;
            }
        }
        let (krow, dmrow) = (&mut a[i * n..i * n + i], &mut dm[i * n..i * n + i]);
        for ((kv, dv), &r) in krow.iter_mut().zip(dmrow.iter_mut()).zip(r2.iter()) {
            let (m, dmdr2) = matern52(r);
            *kv = s * m;
            *dv = dmdr2;
        }
        a[i * n + i] = s + noise;
    }
}

/// `Σ_j c_j (x − v_j)²` with eight partial sums (lanes `j mod 8`) added in
/// a fixed tree ([`lane_tree`]), then the tail in order: the same bits on
/// every run.
#[inline(always)]
fn weighted_sq(c: &[f64], v: &[f64], x: f64) -> f64 {
    let n = c.len().min(v.len());
    let full = n / 8 * 8;
    let (mut lo, mut hi) = ([0.0f64; 4], [0.0f64; 4]);
    for (a, b) in c[..full].chunks_exact(8).zip(v[..full].chunks_exact(8)) {
        for k in 0..4 {
            let (d0, d1) = (x - b[k], x - b[4 + k]);
            lo[k] += a[k] * d0 * d0;
            hi[k] += a[4 + k] * d1 * d1;
        }
    }
    let mut total = lane_tree(lo, hi);
    for (a, b) in c[full..n].iter().zip(&v[full..n]) {
        let diff = x - b;
        total += a * diff * diff;
    }
    total
}

/// Bound on every log-space hyperparameter during the fit: beyond it the
/// objective is taken at the bound plus a quadratic penalty, so a long
/// line-search step cannot overflow `exp`.
pub const ETA_LIMIT: f64 = 16.0;

/// What the fit minimises: [`neg_log_posterior`] divided by `n` (so its
/// gradient stays O(1) whatever the number of points) at `eta` clamped into
/// `[−ETA_LIMIT, ETA_LIMIT]`, plus `Σ (η − clamp(η))²`.
pub fn fit_objective(data: &Data<'_>, eta: &[f64]) -> Option<(f64, Vec<f64>)> {
    let ec: Vec<f64> = eta.iter().map(|v| v.clamp(-ETA_LIMIT, ETA_LIMIT)).collect();
    let (v, g) = neg_log_posterior(data, &ec)?;
    let scale = 1.0 / data.n.max(1) as f64;
    let mut pen = 0.0;
    let grad = eta
        .iter()
        .zip(&ec)
        .zip(&g)
        .map(|((e, c), gk)| {
            let out = e - c;
            pen += out * out;
            if out == 0.0 {
                gk * scale
            } else {
                2.0 * out
            }
        })
        .collect();
    Some((v * scale + pen, grad))
}

/// A point, the value there and the gradient.
type Eval = (Vec<f64>, f64, Vec<f64>);

/// An objective for argmin that remembers its last evaluation (L-BFGS asks
/// for the cost and the gradient at the same point) and the best point it
/// has seen, so a line search that gives up still leaves a result.
pub struct Tracked<F> {
    f: F,
    last: RefCell<Option<Eval>>,
    best: RefCell<Option<(f64, Vec<f64>)>>,
}

impl<F: Fn(&[f64]) -> Option<(f64, Vec<f64>)>> Tracked<F> {
    /// Wrap `f` (value and gradient, or `None` where undefined).
    pub fn new(f: F) -> Self {
        Tracked {
            f,
            last: RefCell::new(None),
            best: RefCell::new(None),
        }
    }

    fn eval(&self, x: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        if let Some((lx, v, g)) = self.last.borrow().as_ref() {
            if lx.iter().zip(x).all(|(a, b)| a.to_bits() == b.to_bits()) {
                return Ok((*v, g.clone()));
            }
        }
        let (v, g) = (self.f)(x).ok_or_else(|| Error::msg("objective undefined"))?;
        *self.last.borrow_mut() = Some((x.to_vec(), v, g.clone()));
        let mut best = self.best.borrow_mut();
        // Strictly better only: among equal values the first seen wins.
        if best.as_ref().is_none_or(|(bv, _)| v < *bv) {
            *best = Some((v, x.to_vec()));
        }
        Ok((v, g))
    }

    /// The lowest value seen and where, if any evaluation succeeded.
    pub fn best(&self) -> Option<(f64, Vec<f64>)> {
        self.best.borrow().clone()
    }
}

impl<F: Fn(&[f64]) -> Option<(f64, Vec<f64>)>> CostFunction for &Tracked<F> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(self.eval(x)?.0)
    }
}

impl<F: Fn(&[f64]) -> Option<(f64, Vec<f64>)>> Gradient for &Tracked<F> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.eval(x)?.1)
    }
}

/// The line search inside [`minimise`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineSearch {
    /// Moré–Thuente (strong Wolfe conditions): good curvature pairs, a few
    /// evaluations a step. Used for the hyperparameter fit.
    MoreThuente,
    /// Backtracking from the full step, halving, until the Armijo
    /// condition holds: usually one evaluation a step. Used for the
    /// acquisition, whose objective is scaled so the first step is at most
    /// one lengthscale.
    Backtracking,
}

/// Minimise `f` from `x0` with argmin's L-BFGS (memory 7, line search
/// `ls`) for at most `max_iters` iterations, stopping early when the
/// gradient norm falls below `tol_grad` or an iteration changes the value
/// by less than `tol_cost`; the best point evaluated, or
/// `None` if `f` was undefined even at `x0`. A solver error (a failed line
/// search) ends the run but keeps its best point.
pub fn minimise<F>(
    f: F,
    x0: Vec<f64>,
    max_iters: u64,
    tol_grad: f64,
    tol_cost: f64,
    ls: LineSearch,
) -> Option<(f64, Vec<f64>)>
where
    F: Fn(&[f64]) -> Option<(f64, Vec<f64>)>,
{
    let tracked = Tracked::new(f);
    tracked.eval(&x0).ok()?;
    // Errors are not fatal: the tracked best stands.
    match ls {
        LineSearch::MoreThuente => {
            let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
                .with_tolerance_grad(tol_grad)
                .ok()?
                .with_tolerance_cost(tol_cost)
                .ok()?;
            let _ = Executor::new(&tracked, solver)
                .configure(|s| s.param(x0).max_iters(max_iters))
                .timer(false)
                .run();
        }
        LineSearch::Backtracking => {
            let search = BacktrackingLineSearch::new(ArmijoCondition::new(1e-4).ok()?)
                .rho(0.5)
                .ok()?;
            let solver = LBFGS::new(search, 7)
                .with_tolerance_grad(tol_grad)
                .ok()?
                .with_tolerance_cost(tol_cost)
                .ok()?;
            let _ = Executor::new(&tracked, solver)
                .configure(|s| s.param(x0).max_iters(max_iters))
                .timer(false)
                .run();
        }
    }
    tracked.best()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The likelihood's view of [`toy`]'s points.
    fn toy_data<'a>(x: &'a [f64], y: &'a [f64]) -> Data<'a> {
        Data {
            x,
            y,
            n: 7,
            d: 2,
            jitter: 1e-6,
        }
    }

    fn toy() -> (Vec<f64>, Vec<f64>) {
        // 7 points in 2-D and standardised outputs of a smooth function.
        let x: Vec<f64> = (0..7)
            .flat_map(|i| {
                let t = i as f64 / 6.0;
                [t, (3.0 * t).sin().abs()]
            })
            .collect();
        let raw: Vec<f64> = (0..7)
            .map(|i| (x[2 * i] - 0.3).powi(2) + x[2 * i + 1])
            .collect();
        let m = raw.iter().sum::<f64>() / 7.0;
        let sd = (raw.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 7.0).sqrt();
        (x, raw.iter().map(|v| (v - m) / sd).collect())
    }

    #[test]
    fn matern52_at_zero_and_one() {
        assert_eq!(matern52(0.0), (1.0, -5.0 / 6.0));
        let r = 5f64.sqrt();
        let want = (1.0 + r + 5.0 / 3.0) * (-r).exp();
        assert!((matern52(1.0).0 - want).abs() < 1e-15);
    }

    #[test]
    fn lml_gradient_matches_finite_differences() {
        let (x, y) = toy();
        let data = toy_data(&x, &y);
        let eta = vec![0.7, -0.4, 0.2, -3.0];
        let (_, g) = neg_log_posterior(&data, &eta).unwrap();
        for k in 0..eta.len() {
            let h = 1e-6;
            let mut a = eta.clone();
            let mut b = eta.clone();
            a[k] += h;
            b[k] -= h;
            let fd = (neg_log_posterior(&data, &a).unwrap().0
                - neg_log_posterior(&data, &b).unwrap().0)
                / (2.0 * h);
            assert!(
                (g[k] - fd).abs() < 1e-5 * fd.abs().max(1.0),
                "{k}: {} vs {fd}",
                g[k]
            );
        }
    }

    #[test]
    fn fitting_improves_the_posterior() {
        let (x, y) = toy();
        let data = toy_data(&x, &y);
        let x0 = vec![0.0, 0.0, 0.0, -7.0];
        let f0 = neg_log_posterior(&data, &x0).unwrap().0;
        let (f, eta) = minimise(
            |e| neg_log_posterior(&data, e),
            x0,
            100,
            1e-6,
            1e-12,
            LineSearch::MoreThuente,
        )
        .unwrap();
        assert!(f < f0 - 0.1, "{f} {f0}");
        let (_, g) = neg_log_posterior(&data, &eta).unwrap();
        assert!(g.iter().map(|v| v * v).sum::<f64>().sqrt() < 1e-2, "{g:?}");
    }
    #[test]
    fn avx2_and_baseline_likelihood_agree_bit_for_bit() {
        let (x, y) = toy();
        let data = toy_data(&x, &y);
        let eta = vec![0.7, -0.4, 0.2, -3.0];
        let (v, g) = neg_log_posterior(&data, &eta).unwrap();
        let (vb, gb) = neg_log_posterior_impl(&data, &eta).unwrap();
        assert_eq!(v.to_bits(), vb.to_bits());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&g), bits(&gb));
    }
}
