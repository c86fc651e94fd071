//! Gaussian-process Bayesian optimisation (`strategy = "gp"`): a Matérn 5/2
//! GP fitted to the finished trials, proposing the point that maximises log
//! expected improvement. It owns its settings, the input encoding, the
//! model fit and the acquisition search; it never sees threads, files or
//! the clock. Between proposals it keeps only a cache of its fit chain,
//! which never changes a result (step 3 below).
//!
//! # How a proposal is made
//!
//! 1. **Start-up.** While fewer than `n_startup` trials have succeeded, trial
//!    `i` is point `i` of the search's Sobol design
//!    (`sobol::point(i, dim, search_seed)`).
//! 2. **Data.** Successful trials only: a failed trial (loss `None`, or a
//!    non-finite loss) is left out of the model — it says nothing about the
//!    value there, and the design does not penalise the region. So is a
//!    trial the pruner stopped (`[search.pruner]`), as Optuna's `GPSampler`
//!    uses complete trials only: its value is a partial score at an
//!    earlier step, on another scale than a final value. A pruned trial
//!    still takes its index (its Sobol point, its place in the window),
//!    and does not count toward `n_startup`. Inputs are
//!    encoded in the unit cube ([`Space::to_unit`], so log-scaled
//!    parameters are modelled on the log scale): one column per numeric
//!    parameter; a categorical parameter with `k` choices is one-hot, `k`
//!    columns, each with its own lengthscale. Integer, stepped and
//!    explicit-value parameters are treated as continuous (their cell
//!    centre `(k + 0.5)/n`) and a candidate is rounded by
//!    [`Space::from_unit`]. Losses are warped (`warp`): standardised,
//!    passed through a Yeo–Johnson power transform whose exponent in
//!    [0, 2] maximises the profile likelihood (below 1 a heavy tail of bad
//!    losses is compressed, above 1 a tail of a few very good ones;
//!    near-Gaussian losses keep exponent ≈ 1), and standardised again.
//!    The model, its fit and the expected improvement all work on this
//!    warped scale: an improvement is measured in warped units, not in
//!    raw loss.
//! 3. **Fit: the fit chain.** Kernel hyperparameters (see `model`)
//!    maximise the log marginal likelihood plus weak priors, by argmin's
//!    L-BFGS with exact gradients. `fit(m)`, the fit to the first `m`
//!    successful trials (losses warped among those `m`), is defined
//!    recursively: `fit(n_startup)` runs `n_restarts` starts (the defaults —
//!    all lengthscales 1, signal 1, noise 1e-3 — then random ones from
//!    `seed::stream(search_seed, "gp-fit")`; the lowest value wins, ties
//!    to the earlier start); `fit(m)` runs at most `fit_iters` iterations
//!    from `fit(m − 1)`, stopping early once an iteration lowers the
//!    per-point objective by less than 1e-5 (the cold starts again only
//!    if that fails). Beyond `fit_points` trials the fit sees a subset of
//!    that size and `fit(m)` is refitted only when `m − fit_points` is
//!    even; otherwise `fit(m) = fit(m − 1)` (half the fits, where they
//!    cost most). So a
//!    proposal's hyperparameters are a pure function of the history and
//!    the search seed. The object memoises the chain (keyed by the exact
//!    bits of the trials), so a search pays one short warm-started fit a
//!    trial; a fresh object (a resume) rebuilds the same chain from the
//!    start and gets the same bits.
//! 4. **Pending trials** (running, or finished but outside the window) are
//!    added to the data with a made-up loss: the posterior mean there
//!    (`pending = "kriging_believer"`) or the best loss so far
//!    (`"constant_liar"`); the hyperparameters are not refitted. One
//!    Cholesky factor of this kernel matrix serves the whole acquisition
//!    search.
//! 5. **Acquisition.** Log expected improvement over the best observed
//!    warped loss, computed without underflow (see `special`). It
//!    is evaluated at `n_sweep` random points (snapped to the grid and to
//!    one-hot categories; their variances come from one batched
//!    triangular solve per block of 32 points); L-BFGS (backtracking
//!    Armijo line search, objective scaled so the first step is at most
//!    one lengthscale; a climb stops once an iteration raises log EI by
//!    less than 1e-3) then climbs from the best `n_acq_starts − 2` of
//!    them and from the 2 best observed points, over the numeric columns
//!    only, in a lengthscale-scaled box (leaving the box costs a quadratic
//!    penalty; the result is clamped) — categories stay fixed during a
//!    climb, since between one-hot corners the model means nothing. Each
//!    climb's end is snapped to a valid point, then every choice of each
//!    categorical is tried in turn (strictly better wins) and, if a
//!    category changed, it climbs once more. Start points themselves are
//!    candidates too; the best snapped candidate wins (ties: the earlier
//!    one).
//!
//! # Conditional parameters
//!
//! An inactive parameter (`when` in `[space]`) is encoded at 0 of the
//! unit cube, a fixed value every trial that lacks it shares (a numeric
//! column at its lower end, a categorical as its first choice), as SMAC
//! imputes inactive hyperparameters with a constant. Candidates are
//! snapped to what the trial will record: the parameters their values
//! switch off are dropped and their columns set to that value, so the
//! acquisition is scored where the model has data. An unconditional
//! space is encoded as before, bit for bit.
//!
//! # Fallback
//!
//! If the kernel matrix cannot be factored even with jitter escalation
//! (`jitter`, ×10 up to 1e-2 of its diagonal), or no hyperparameter start
//! gives a finite likelihood, or the acquisition is not finite anywhere,
//! the proposal is the trial's Sobol point, exactly as in start-up. A
//! proposal is never NaN and never panics.
//!
//! # Determinism
//!
//! The sweep draws from `seed::stream(trial_seed, "gp")`, the chain's cold
//! starts from `seed::stream(search_seed, "gp-fit")`; every sum runs in a
//! fixed order; the work is single-threaded and iteration counts are
//! capped, not timed. The dense linear algebra, the likelihood and
//! the acquisition run compiled for AVX2 when the CPU has it, with the
//! same bits as the baseline build (see `numeric::avx2_dispatch!`). The
//! memoised chain is a cache only: it is used just as far as its trials
//! equal the history's bit for bit, and what it holds is exactly what
//! recomputation would give.

use std::cell::RefCell;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{unit, History, Observation, Strategy, Trial};
use crate::seed;
use crate::space::{Domain, Space};
use crate::value::Params;

pub(crate) mod linalg;
pub(crate) mod model;
pub(crate) mod special;
pub(crate) mod warp;

use crate::numeric::avx2_dispatch;
use linalg::{dot, Cholesky};
use model::{fit_objective, matern52, minimise, Data, Kernel, LineSearch, ETA_LIMIT, MIN_NOISE};

/// How trials whose results the window hides are put into the model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pending {
    /// Each pending point gets the posterior mean there as its loss.
    #[default]
    KrigingBeliever,
    /// Each pending point gets the best (lowest) observed loss.
    ConstantLiar,
}

/// `[search.gp]` settings. The field names are part of the root hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpSettings {
    /// Successful trials taken from the Sobol design before the model is
    /// used. Default 10; at least 1.
    pub n_startup: u64,
    /// Starts of the cold kernel-hyperparameter fit at the head of the fit
    /// chain (and wherever a warm start fails): the default
    /// hyperparameters, then random ones. Default 4; 1 to 64.
    pub n_restarts: u64,
    /// Most L-BFGS iterations of one hyperparameter fit: of each cold
    /// start, and of each warm start from the previous link of the chain.
    /// Default 12; 1 to 10000.
    pub fit_iters: u64,
    /// Most points the hyperparameter fit uses: beyond it, an evenly spaced
    /// subset in trial order (the posterior still uses every point), and
    /// the hyperparameters are refitted every second trial. Bounds the
    /// O(n³) fit. Default 128; 8 to 100000.
    pub fit_points: u64,
    /// Random points at which the acquisition is evaluated to choose the
    /// starts of its local search. Default 256; 1 to 100000.
    pub n_sweep: u64,
    /// Starts of the acquisition's L-BFGS: the 2 best observed points and
    /// the best sweep points for the rest (only sweep points when 1).
    /// Default 6; 1 to 256.
    pub n_acq_starts: u64,
    /// L-BFGS iterations per acquisition start. Default 20; 1 to 10000.
    pub acq_iters: u64,
    /// First jitter added to the kernel diagonal when its Cholesky
    /// factorisation fails (then ×10 up to 1e-2 of the diagonal).
    /// Default 1e-6; in (0, 1e-2].
    pub jitter: f64,
    /// How pending trials enter the model: `"kriging_believer"` (default)
    /// or `"constant_liar"`.
    pub pending: Pending,
}

impl Default for GpSettings {
    fn default() -> Self {
        GpSettings {
            n_startup: 10,
            n_restarts: 4,
            fit_iters: 12,
            fit_points: 128,
            n_sweep: 256,
            n_acq_starts: 6,
            acq_iters: 20,
            jitter: 1e-6,
            pending: Pending::KrigingBeliever,
        }
    }
}

impl GpSettings {
    /// Read `[search.gp]` (absent: defaults) and check every range.
    pub fn from_toml(v: Option<&toml::Value>) -> Result<Self, String> {
        let s: GpSettings = super::settings_from_toml(v)?;
        s.check()?;
        Ok(s)
    }

    /// Check every range; the error names the key and the value.
    pub fn check(&self) -> Result<(), String> {
        let range = |key: &str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{key} must be between {lo} and {hi} (got {v})"))
            }
        };
        range("n_startup", self.n_startup, 1, 1_000_000)?;
        range("n_restarts", self.n_restarts, 1, 64)?;
        range("fit_iters", self.fit_iters, 1, 10_000)?;
        range("fit_points", self.fit_points, 8, 100_000)?;
        range("n_sweep", self.n_sweep, 1, 100_000)?;
        range("n_acq_starts", self.n_acq_starts, 1, 256)?;
        range("acq_iters", self.acq_iters, 1, 10_000)?;
        if !(self.jitter > 0.0 && self.jitter <= 1e-2) {
            return Err(format!("jitter must be in (0, 1e-2] (got {})", self.jitter));
        }
        Ok(())
    }
}

/// Gaussian-process search with log expected improvement.
pub struct Gp {
    /// Checked settings.
    pub settings: GpSettings,
    /// Memoised hyperparameter fits (see "Fit: the fit chain" in the module docs): a cache
    /// only, never a source of results, so a fresh object proposes the
    /// same points.
    cache: Mutex<FitCache>,
}

/// The fit chain last computed: the successful trials it was built on and
/// the fitted log hyperparameters for every prefix of them.
#[derive(Default)]
struct FitCache {
    search_seed: u64,
    d: usize,
    /// Encoded rows (`d` columns) of the successful trials, in trial order.
    x: Vec<f64>,
    /// Their losses.
    loss: Vec<f64>,
    /// `etas[j]`: the fit to the first `n_startup + j` of them.
    etas: Vec<Vec<f64>>,
}

impl Gp {
    /// A strategy with `settings` (already checked by
    /// [`GpSettings::from_toml`]).
    pub fn new(settings: GpSettings) -> Self {
        Gp {
            settings,
            cache: Mutex::new(FitCache::default()),
        }
    }
}

impl Strategy for Gp {
    fn propose(&self, t: &Trial<'_>, history: &History<'_>) -> Params {
        let dim = t.space.params.len();
        let u = self
            .model_point(t, history)
            .unwrap_or_else(|| super::sobol::point(t.index, dim, t.search_seed));
        t.space.from_unit(&u)
    }

    fn uses_history(&self) -> bool {
        true
    }
}

/// One input column block: a numeric parameter (one column) or a one-hot
/// categorical (`k` columns).
#[derive(Clone, Copy, Debug)]
enum Block {
    Numeric { col: usize },
    OneHot { col: usize, k: usize },
}

/// The map between parameters and model columns.
struct Encoding {
    blocks: Vec<Block>,
    dim: usize,
}

impl Encoding {
    fn new(space: &Space) -> Encoding {
        let mut blocks = Vec::with_capacity(space.params.len());
        let mut col = 0;
        for p in &space.params {
            match &p.domain {
                Domain::Categorical { choices } if choices.len() > 1 => {
                    blocks.push(Block::OneHot {
                        col,
                        k: choices.len(),
                    });
                    col += choices.len();
                }
                _ => {
                    blocks.push(Block::Numeric { col });
                    col += 1;
                }
            }
        }
        Encoding { blocks, dim: col }
    }

    /// Model columns from unit coordinates (one per parameter).
    fn encode_unit(&self, u: &[f64]) -> Vec<f64> {
        let mut x = vec![0.0; self.dim];
        for (b, &ui) in self.blocks.iter().zip(u) {
            match *b {
                Block::Numeric { col } => x[col] = ui,
                Block::OneHot { col, k } => {
                    let c = ((ui * k as f64) as usize).min(k - 1);
                    x[col + c] = 1.0;
                }
            }
        }
        x
    }

    /// Unit coordinates from model columns: numeric columns clamped into
    /// [0, 1], one-hot blocks decoded by argmax (the first on ties) to the
    /// middle of the choice's cell.
    fn decode(&self, x: &[f64]) -> Vec<f64> {
        self.blocks
            .iter()
            .map(|b| match *b {
                Block::Numeric { col } => x[col].clamp(0.0, 1.0),
                Block::OneHot { col, k } => {
                    let mut best = 0;
                    for c in 1..k {
                        if x[col + c] > x[col + best] {
                            best = c;
                        }
                    }
                    (best as f64 + 0.5) / k as f64
                }
            })
            .collect()
    }

    /// Columns of a point the space can take: `x` decoded, turned into
    /// values and encoded again (ints rounded, categories one-hot).
    fn snap(&self, space: &Space, x: &[f64]) -> Vec<f64> {
        if space.is_conditional() {
            // What the trial will record: the values, less the parameters
            // they switch off, whose columns go to their fixed value
            // (`Space::to_unit`: 0).
            let u = space.to_unit(&space.from_unit(&self.decode(x)));
            return self.encode_unit(&u);
        }
        // Parameter by parameter, as `Space::to_unit(Space::from_unit(u))`
        // would do it, without building the name-keyed map.
        let u: Vec<f64> = space
            .params
            .iter()
            .zip(self.decode(x))
            .map(|(p, ui)| p.to_unit(&p.from_unit(ui)))
            .collect();
        self.encode_unit(&u)
    }

    fn encode(&self, space: &Space, p: &Params) -> Vec<f64> {
        self.encode_unit(&space.to_unit(p))
    }
}

/// The posterior given fitted hyperparameters: one Cholesky factor and
/// `α = K⁻¹ y`, reused for every acquisition evaluation of a proposal.
struct Posterior {
    kern: Kernel,
    x: Vec<f64>,
    /// `x` column by column (`d` columns of `n`), so distances to all
    /// training points are computed along contiguous memory.
    xt: Vec<f64>,
    d: usize,
    chol: Cholesky,
    alpha: Vec<f64>,
    /// The best (lowest) observed warped loss.
    f0: f64,
}

/// Latent variances below this are treated as this (points on top of an
/// observation).
const VAR_FLOOR: f64 = 1e-12;
/// Penalty weight for leaving the unit box during the acquisition search.
const BOX_PENALTY: f64 = 100.0;
/// Observed points used as acquisition starts (when `n_acq_starts` ≥ 2).
const N_BEST_STARTS: usize = 2;
/// Sweep points scored together (one block of the batched solve stays in
/// the L1/L2 cache).
const SWEEP_BLOCK: usize = 32;

impl Posterior {
    fn new(kern: Kernel, x: Vec<f64>, y: &[f64], f0: f64, jitter: f64) -> Option<Posterior> {
        let d = kern.theta.len();
        let n = y.len();
        let k = kern.matrix(&x, n);
        let chol = Cholesky::factor(&k, n, jitter)?;
        let alpha = chol.solve(y);
        if alpha.iter().any(|a| !a.is_finite()) {
            return None;
        }
        let mut xt = vec![0.0; n * d];
        for (i, row) in x.chunks_exact(d.max(1)).enumerate().take(n) {
            for (k, v) in row.iter().enumerate() {
                xt[k * n + i] = *v;
            }
        }
        Some(Posterior {
            kern,
            x,
            xt,
            d,
            chol,
            alpha,
            f0,
        })
    }

    fn n(&self) -> usize {
        self.alpha.len()
    }

    fn mean(&self, z: &[f64]) -> f64 {
        let kv: Vec<f64> = (0..self.n())
            .map(|i| self.kern.cov(z, &self.x[i * self.d..(i + 1) * self.d]))
            .collect();
        dot(&kv, &self.alpha)
    }

    /// Log expected improvement at every row of `zs` (`d` columns each),
    /// without gradients: the formula of [`Posterior::log_ei`], with the
    /// variances of all points from one forward substitution whose inner
    /// loop runs across the points (so the compiler can vectorise it).
    /// Sums run over the training points in index order, as in `log_ei`,
    /// but the triangular solve subtracts term by term, so the last bits
    /// may differ from `log_ei`'s; the sweep only ranks starts with it.
    fn log_ei_many(&self, zs: &[f64]) -> Vec<f64> {
        log_ei_many_fast(self, zs)
    }

    /// [`Posterior::log_ei_many`]'s arithmetic.
    #[inline(always)]
    fn log_ei_many_body(&self, zs: &[f64]) -> Vec<f64> {
        let (n, d) = (self.n(), self.d);
        let count = zs.len() / d;
        let s = self.kern.scale;
        // Row i of `v`: k(x_i, z_c) for every point c; then L⁻¹ of that.
        // The block's points column by column, so each r² row runs across
        // the points (vectorised); each r² still sums over k in order, as
        // `Kernel::r2` does.
        let mut zt = vec![0.0; d * count];
        for (c, z) in zs.chunks_exact(d).enumerate() {
            for (k, v) in z.iter().enumerate() {
                zt[k * count + c] = *v;
            }
        }
        let mut v = vec![0.0; n * count];
        for (i, row) in v.chunks_exact_mut(count.max(1)).enumerate().take(n) {
            let xi = &self.x[i * d..(i + 1) * d];
            for (k, (&t, &xik)) in self.kern.theta.iter().zip(xi).enumerate() {
                for (r, zk) in row.iter_mut().zip(&zt[k * count..(k + 1) * count]) {
                    let diff = zk - xik;
                    *r += t * diff * diff;
                }
            }
            for r in row.iter_mut() {
                *r = s * matern52(*r).0;
            }
        }
        let mut mu = vec![0.0; count];
        for (row, a) in v.chunks_exact(count.max(1)).zip(&self.alpha) {
            for (m, k) in mu.iter_mut().zip(row) {
                *m += a * k;
            }
        }
        let l = &self.chol.l;
        for i in 0..n {
            let (done, rest) = v.split_at_mut(i * count);
            let row = &mut rest[..count];
            let li = &l[i * n..i * n + i];
            // Four finished rows per pass over `row`:
            // r = (((r − a q0) − b q1) − c q2) − e q3 is the same sequence
            // of roundings as four passes (same bits), a quarter of the
            // loads and stores of `row`.
            let mut k = 0;
            while k + 4 <= i {
                let q = |j: usize| &done[j * count..(j + 1) * count];
                let (q0, q1, q2, q3) = (q(k), q(k + 1), q(k + 2), q(k + 3));
                let (a, b, c, e) = (li[k], li[k + 1], li[k + 2], li[k + 3]);
                for ((((r, x0), x1), x2), x3) in row.iter_mut().zip(q0).zip(q1).zip(q2).zip(q3) {
                    *r = (((*r - a * x0) - b * x1) - c * x2) - e * x3;
                }
                k += 4;
            }
            for (vk, &lik) in done[k * count..].chunks_exact(count.max(1)).zip(&li[k..]) {
                for (r, q) in row.iter_mut().zip(vk) {
                    *r -= lik * q;
                }
            }
            let lii = l[i * n + i];
            row.iter_mut().for_each(|r| *r /= lii);
        }
        let mut q = vec![0.0; count];
        for row in v.chunks_exact(count.max(1)) {
            for (qq, r) in q.iter_mut().zip(row) {
                *qq += r * r;
            }
        }
        mu.iter()
            .zip(&q)
            .map(|(m, qq)| {
                let sigma = (s - qq).max(VAR_FLOOR).sqrt();
                sigma.ln() + special::log_h((self.f0 - m) / sigma).0
            })
            .collect()
    }

    /// Log expected improvement (of lowering the loss below `f0`) at `z`,
    /// with its gradient when asked.
    fn log_ei(&self, z: &[f64], want_grad: bool) -> (f64, Vec<f64>) {
        log_ei_fast(self, z, want_grad)
    }

    /// [`Posterior::log_ei`]'s arithmetic.
    #[inline(always)]
    fn log_ei_body(&self, z: &[f64], want_grad: bool) -> (f64, Vec<f64>) {
        let (n, d) = (self.n(), self.d);
        let s = self.kern.scale;
        // r² to every training point, summed over k in order as in
        // `Kernel::r2`, along the columns of `xt` (vectorised).
        let mut kv = vec![0.0; n];
        for (k, (&t, &zk)) in self.kern.theta.iter().zip(z).enumerate() {
            for (r, xk) in kv.iter_mut().zip(&self.xt[k * n..(k + 1) * n]) {
                let diff = zk - xk;
                *r += t * diff * diff;
            }
        }
        let mut dk = vec![0.0; n];
        for (kvi, dki) in kv.iter_mut().zip(dk.iter_mut()) {
            let (m, dm) = matern52(*kvi);
            *kvi = s * m;
            *dki = s * dm;
        }
        let mu = dot(&kv, &self.alpha);
        let v = self.chol.solve_lower(&kv);
        let raw_var = s - dot(&v, &v);
        let var = raw_var.max(VAR_FLOOR);
        let sigma = var.sqrt();
        let zz = (self.f0 - mu) / sigma;
        let (lh, dlh) = special::log_h(zz);
        let val = sigma.ln() + lh;
        if !want_grad {
            return (val, Vec::new());
        }
        // dk_i/dz_j = s m52'(r²_i) 2 θ_j (z_j − x_ij).
        let beta = if raw_var > VAR_FLOOR {
            self.chol.solve_upper(&v)
        } else {
            vec![0.0; n]
        };
        let mut dmu = vec![0.0; d];
        let mut dvar = vec![0.0; d];
        for i in 0..n {
            let xi = &self.x[i * d..(i + 1) * d];
            let (a, b) = (self.alpha[i] * dk[i], -2.0 * beta[i] * dk[i]);
            for j in 0..d {
                let g = 2.0 * self.kern.theta[j] * (z[j] - xi[j]);
                dmu[j] += a * g;
                dvar[j] += b * g;
            }
        }
        let grad = (0..d)
            .map(|j| {
                let dsigma = dvar[j] / (2.0 * sigma);
                let dz = (-dmu[j] - zz * dsigma) / sigma;
                dsigma / sigma + dlh * dz
            })
            .collect();
        (val, grad)
    }
}

avx2_dispatch! {
    /// [`Posterior::log_ei_many`], for AVX2 where the CPU has it.
    fn log_ei_many_fast(post: &Posterior, zs: &[f64]) -> Vec<f64> = log_ei_many_inline;
}

#[inline(always)]
fn log_ei_many_inline(post: &Posterior, zs: &[f64]) -> Vec<f64> {
    post.log_ei_many_body(zs)
}

avx2_dispatch! {
    /// [`Posterior::log_ei`], for AVX2 where the CPU has it.
    fn log_ei_fast(post: &Posterior, z: &[f64], want_grad: bool) -> (f64, Vec<f64>) = log_ei_inline;
}

#[inline(always)]
fn log_ei_inline(post: &Posterior, z: &[f64], want_grad: bool) -> (f64, Vec<f64>) {
    post.log_ei_body(z, want_grad)
}

impl Gp {
    /// The model's proposal in unit coordinates, or `None` to fall back to
    /// the Sobol design.
    fn model_point(&self, t: &Trial<'_>, history: &History<'_>) -> Option<Vec<f64>> {
        let st = &self.settings;
        let space = t.space;
        let ok: Vec<(&Observation, f64)> = history
            .observed
            .iter()
            .filter_map(|o| o.loss.filter(|l| l.is_finite()).map(|l| (o, l)))
            .collect();
        if (ok.len() as u64) < st.n_startup || space.params.is_empty() {
            return None;
        }
        let enc = Encoding::new(space);
        let d = enc.dim;
        let n = ok.len();
        let mut x = Vec::with_capacity(n * d);
        for (o, _) in &ok {
            // The unit coordinates stored when the trial finished (the
            // numbers `Space::to_unit` gives, so the same bits); converted
            // here only if they do not fit the space.
            if o.unit.len() == space.params.len() {
                x.extend(enc.encode_unit(&o.unit));
            } else {
                x.extend(enc.encode(space, &o.params));
            }
        }
        let y = warp::warp(&ok.iter().map(|(_, l)| *l).collect::<Vec<_>>());
        let f0 = y.iter().copied().fold(f64::INFINITY, f64::min);

        let losses: Vec<f64> = ok.iter().map(|(_, l)| *l).collect();
        let kern = Kernel::from_raw(&self.fitted(&x, &losses, d, t.search_seed));
        debug_assert!(kern.noise >= MIN_NOISE);
        let mut rng = seed::stream(t.seed, seed::streams::GP);

        let post = Posterior::new(kern.clone(), x.clone(), &y, f0, st.jitter)?;
        let post = if history.pending.is_empty() {
            post
        } else {
            let mut xa = x;
            let mut ya = y.clone();
            for p in history.pending {
                let z = enc.encode(space, p);
                ya.push(match st.pending {
                    Pending::KrigingBeliever => post.mean(&z),
                    Pending::ConstantLiar => f0,
                });
                xa.extend(z);
            }
            Posterior::new(kern, xa, &ya, f0, st.jitter)?
        };

        // Sweep: random valid points, scored without gradients, in blocks
        // (one triangular solve a block).
        let np = space.params.len();
        let n_sweep = st.n_sweep as usize;
        let mut zs: Vec<f64> = Vec::with_capacity(n_sweep * d);
        for _ in 0..n_sweep {
            let u: Vec<f64> = (0..np).map(|_| unit(&mut rng)).collect();
            zs.extend(enc.snap(space, &enc.encode_unit(&u)));
        }
        let mut sweep: Vec<(f64, Vec<f64>)> = Vec::with_capacity(n_sweep);
        for block in zs.chunks(SWEEP_BLOCK * d) {
            let vals = post.log_ei_many(block);
            for (v, z) in vals.into_iter().zip(block.chunks_exact(d)) {
                sweep.push((v, z.to_vec()));
            }
        }
        // Stable sort: equal values keep sweep order.
        sweep.sort_by(|a, b| b.0.total_cmp(&a.0));
        let n_acq = st.n_acq_starts as usize;
        let n_best = if n_acq >= 2 { N_BEST_STARTS.min(n) } else { 0 };
        let mut cands: Vec<Vec<f64>> = sweep
            .iter()
            .take(n_acq - n_best)
            .map(|(_, z)| z.clone())
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| ok[a].1.total_cmp(&ok[b].1));
        for &i in order.iter().take(n_best) {
            cands.push(post.x[i * d..(i + 1) * d].to_vec());
        }

        // Local search over the numeric columns only, in w = x √θ (unit
        // lengthscales), box [0, √θ]; one-hot columns stay at the start's
        // categories (between categories the model means nothing), which
        // are then tried one parameter at a time.
        let free: Vec<usize> = enc
            .blocks
            .iter()
            .filter_map(|b| match *b {
                Block::Numeric { col } => Some(col),
                Block::OneHot { .. } => None,
            })
            .collect();
        let sq: Vec<f64> = free.iter().map(|&c| post.kern.theta[c].sqrt()).collect();
        let climb = |base: &[f64]| -> Vec<f64> {
            let mut z = base.to_vec();
            if free.is_empty() {
                return z;
            }
            // The start is evaluated twice (for `scale`, then by L-BFGS):
            // its log EI is kept from the first time. Reusing the same
            // (value, gradient) cannot change a bit.
            let first: RefCell<Option<Scored>> = RefCell::new(None);
            // −log EI plus the box penalty, in w = x √θ, divided by `scale`.
            let neg_acq = |w: &[f64], scale: f64| -> Option<(f64, Vec<f64>)> {
                let mut z = base.to_vec();
                let mut outs = Vec::with_capacity(free.len());
                for ((&c, wi), s) in free.iter().zip(w).zip(&sq) {
                    let xr = wi / s;
                    z[c] = xr.clamp(0.0, 1.0);
                    outs.push(xr - z[c]);
                }
                let (v, g) = {
                    let mut memo = first.borrow_mut();
                    match memo.as_ref() {
                        Some((mz, r)) if same_bits(mz, &z) => r.clone(),
                        Some(_) => post.log_ei(&z, true),
                        None => memo.insert((z.clone(), post.log_ei(&z, true))).1.clone(),
                    }
                };
                let mut pen = 0.0;
                let mut grad = Vec::with_capacity(free.len());
                for ((&c, out), s) in free.iter().zip(&outs).zip(&sq) {
                    pen += out * out;
                    let gin = if *out == 0.0 { -g[c] } else { 0.0 };
                    grad.push((gin + 2.0 * BOX_PENALTY * out) / s * scale);
                }
                let f = (-v + BOX_PENALTY * pen) * scale;
                (f.is_finite() && grad.iter().all(|v| v.is_finite())).then_some((f, grad))
            };
            let w0: Vec<f64> = free.iter().zip(&sq).map(|(&c, s)| base[c] * s).collect();
            // Scale so the first (steepest-descent) step of L-BFGS is at
            // most one lengthscale long.
            let scale = match neg_acq(&w0, 1.0) {
                Some((_, g)) => 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0),
                None => return enc.snap(space, &z),
            };
            if let Some((_, w)) = minimise(
                |w| neg_acq(w, scale),
                w0,
                st.acq_iters,
                1e-6,
                ACQ_TOL_COST * scale,
                LineSearch::Backtracking,
            ) {
                for ((&c, wi), s) in free.iter().zip(&w).zip(&sq) {
                    z[c] = (wi / s).clamp(0.0, 1.0);
                }
            }
            enc.snap(space, &z)
        };
        // Each categorical at every choice, in order; strictly better wins.
        let polish = |mut z: Vec<f64>, mut v: f64| -> (f64, Vec<f64>) {
            for b in &enc.blocks {
                if let Block::OneHot { col, k } = *b {
                    for c in 0..k {
                        let mut t = z.clone();
                        t[col..col + k].iter_mut().for_each(|e| *e = 0.0);
                        t[col + c] = 1.0;
                        let tv = post.log_ei(&t, false).0;
                        if tv > v {
                            v = tv;
                            z = t;
                        }
                    }
                }
            }
            (v, z)
        };
        let mut best_pt: Option<(f64, Vec<f64>)> = None;
        let mut consider = |v: f64, z: Vec<f64>| {
            if v.is_finite() && best_pt.as_ref().is_none_or(|(bv, _)| v > *bv) {
                best_pt = Some((v, z));
            }
        };
        for c in cands {
            let c = enc.snap(space, &c);
            let v0 = post.log_ei(&c, false).0;
            consider(v0, c.clone());
            let z = climb(&c);
            let v = post.log_ei(&z, false).0;
            let (pv, pz) = polish(z.clone(), v);
            if pz != z {
                // A category changed: climb once more from there.
                let z2 = climb(&pz);
                let v2 = post.log_ei(&z2, false).0;
                consider(pv, pz);
                consider(v2, z2);
            } else {
                consider(v, z);
            }
        }
        let (_best_v, best_z) = best_pt?;
        Some(enc.decode(&best_z))
    }
}

impl Gp {
    /// The fitted log hyperparameters for all `n` successful trials: the
    /// last link of the fit chain, taken from the cache as far as the
    /// cached trials agree (bit for bit) with these.
    fn fitted(&self, x: &[f64], loss: &[f64], d: usize, search_seed: u64) -> Vec<f64> {
        let n = loss.len();
        let m0 = (self.settings.n_startup as usize).clamp(1, n.max(1));
        // A poisoned lock (a panic elsewhere while it was held) only loses
        // the cache: the results never depend on it.
        let mut guard = self.cache.lock().ok();
        let mut etas = match guard.as_deref_mut() {
            Some(c) if c.search_seed == search_seed && c.d == d && d > 0 => {
                let same = c
                    .loss
                    .iter()
                    .zip(loss)
                    .zip(c.x.chunks_exact(d).zip(x.chunks_exact(d)))
                    .take_while(|((a, b), (ra, rb))| {
                        a.to_bits() == b.to_bits()
                            && ra
                                .iter()
                                .zip(rb.iter())
                                .all(|(p, q)| p.to_bits() == q.to_bits())
                    })
                    .count();
                let mut e = std::mem::take(&mut c.etas);
                e.truncate((same + 1).saturating_sub(m0));
                e
            }
            _ => Vec::new(),
        };
        let fit_points = self.settings.fit_points as usize;
        for m in m0 + etas.len()..=n {
            let e = match etas.last() {
                // Beyond `fit_points` the fit sees a subset of fixed size
                // that shifts by one trial at a time, and its optimum
                // barely moves: refit every `REFIT_EVERY` trials, keep
                // the previous link's hyperparameters in between.
                Some(prev) if m > fit_points && !(m - fit_points).is_multiple_of(REFIT_EVERY) => {
                    prev.clone()
                }
                prev => self.fit_link(&x[..m * d], &loss[..m], d, search_seed, prev),
            };
            etas.push(e);
        }
        let last = etas.last().cloned().unwrap_or_else(|| default_eta(d));
        if let Some(c) = guard.as_deref_mut() {
            *c = FitCache {
                search_seed,
                d,
                x: x.to_vec(),
                loss: loss.to_vec(),
                etas,
            };
        }
        last
    }

    /// One link of the fit chain: the hyperparameters for the `m` trials
    /// in `x`/`loss`, by L-BFGS from the previous link when there is one
    /// (what the fit converged to with one trial fewer), otherwise — and
    /// if that fails — from `n_restarts` starts: the defaults, then random
    /// ones from the stream `seed::stream(search_seed, "gp-fit")`; the
    /// lowest value wins, ties to the earlier start.
    fn fit_link(
        &self,
        x: &[f64],
        loss: &[f64],
        d: usize,
        search_seed: u64,
        prev: Option<&Vec<f64>>,
    ) -> Vec<f64> {
        let st = &self.settings;
        let n = loss.len();
        let y = warp::warp(loss);
        // The fit's subset: rows ⌊k n / m⌋, k = 0 .. m-1 (all when n ≤ m).
        let m = n.min(st.fit_points as usize).max(1);
        let rows: Vec<usize> = (0..m).map(|k| k * n / m).collect();
        let xs: Vec<f64> = rows
            .iter()
            .flat_map(|&i| x[i * d..(i + 1) * d].iter().copied())
            .collect();
        let ys: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
        let data = Data {
            x: &xs,
            y: &ys,
            n: m,
            d,
            jitter: st.jitter,
        };
        let f = |e: &[f64]| fit_objective(&data, e);
        let clamp = |e: Vec<f64>| -> Vec<f64> {
            e.into_iter()
                .map(|v| v.clamp(-ETA_LIMIT, ETA_LIMIT))
                .collect()
        };
        if let Some(p) = prev {
            if let Some((_, e)) = minimise(
                f,
                p.clone(),
                st.fit_iters,
                FIT_TOL,
                WARM_TOL_COST,
                LineSearch::MoreThuente,
            ) {
                return clamp(e);
            }
        }
        let mut rng = seed::stream(search_seed, seed::streams::GP_FIT);
        let mut best: Option<(f64, Vec<f64>)> = None;
        for k in 0..st.n_restarts {
            let s0 = if k == 0 {
                default_eta(d)
            } else {
                let mut e: Vec<f64> = (0..d).map(|_| -2.0 + 6.0 * unit(&mut rng)).collect();
                e.push(-1.0 + 2.0 * unit(&mut rng));
                e.push(-12.0 + 8.0 * unit(&mut rng));
                e
            };
            if let Some((v, e)) =
                minimise(f, s0, st.fit_iters, FIT_TOL, 1e-12, LineSearch::MoreThuente)
            {
                if best.as_ref().is_none_or(|(bv, _)| v < *bv) {
                    best = Some((v, e));
                }
            }
        }
        best.map_or_else(|| default_eta(d), |(_, e)| clamp(e))
    }
}

/// Beyond `fit_points` successful trials, the fit chain refits the
/// hyperparameters only at every this many trials (step 3 of the module
/// doc).
const REFIT_EVERY: usize = 2;

/// Gradient-norm tolerance of the hyperparameter fit (on the objective
/// divided by the number of points).
const FIT_TOL: f64 = 1e-4;
/// A warm-started link of the fit chain stops once an iteration lowers
/// the objective (divided by the number of points) by less than this:
/// the previous link is already close, and the last digits of the
/// hyperparameters do not move a proposal.
const WARM_TOL_COST: f64 = 1e-5;
/// An acquisition climb stops once an iteration raises log EI by less
/// than this (EI by about 0.1%); most climbs used to run to `acq_iters`
/// making only such steps.
const ACQ_TOL_COST: f64 = 1e-3;

/// A point and its log EI with the gradient.
type Scored = (Vec<f64>, (f64, Vec<f64>));

/// Whether two points are the same, bit for bit.
fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// The default start: every lengthscale 1, signal variance 1, noise 1e-3.
fn default_eta(d: usize) -> Vec<f64> {
    let mut e = vec![0.0; d + 2];
    e[d + 1] = (1e-3f64).ln();
    e
}

#[cfg(test)]
mod tests;
