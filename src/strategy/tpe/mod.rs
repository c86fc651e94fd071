//! Tree-structured Parzen estimator (Bergstra et al. 2011), in the form of
//! Optuna's default `TPESampler(multivariate=True, constant_liar=True)`.
//!
//! This module owns the TPE settings and the proposal rule; it never sees
//! threads, files or the clock, and keeps nothing between calls but
//! reusable buffers (cleared before every use) and a memo of the last bad
//! mixture's per-parameter work, used only for the points whose ids and
//! coordinates are the same bit for bit: a proposal is a pure function of
//! the space, the trial's seeds and the history.
//!
//! # The rule
//!
//! Everything happens in the unit cube of [`Space::to_unit`] /
//! [`Space::from_unit`], so a log-scaled parameter is already log-uniform.
//!
//! 1. **Start-up.** While fewer than `n_startup` trials have a loss or were
//!    pruned, trial `i` is point `i` of the search's Sobol design.
//! 2. **Split.** The `n` trials with a loss or pruned are ranked as
//!    Optuna 5's `_split_trials` ranks complete and pruned trials: every
//!    complete trial before every **pruned** one; complete trials by loss
//!    (lower is better); pruned trials by the last step they reached
//!    (later is better), then by their loss at that step (a NaN there
//!    ranks as +inf); ties by trial index. The first
//!    `min(ceil(gamma * n), 25)` (the product taken in f64, as Optuna
//!    does) form the *good* group — so pruned trials are good only when
//!    there are fewer complete trials than that — and the other ranked
//!    trials, every **failed** trial (no loss, or a NaN loss) and, with
//!    `constant_liar`, every **pending** trial form the *bad* group. A
//!    failed trial is never good: whatever went wrong there should be
//!    sampled less, not more (Optuna leaves failed trials out instead).
//!    Pending trials are treated as the worst (Optuna's constant liar), so
//!    parallel proposals spread out. Without a pruner no trial is pruned
//!    and this is the plain ranking by loss.
//! 3. **Densities.** Each group gives a Parzen mixture: one kernel per
//!    trial (in trial order) plus a prior kernel. Mixture weights are 1 for
//!    each trial when the group has fewer than 25; otherwise the oldest
//!    `m - 25` trials ramp linearly from `1/m` to 1 and the newest 25 weigh
//!    1 (Optuna's `default_weights`); the prior weighs `prior_weight`; all
//!    are normalised.
//!    * Continuous parameters: a Gaussian truncated to [0, 1] at the trial's
//!      point. Bandwidth, in both modes (as Optuna 5, which dropped the
//!      older Scott-like rule for the multivariate sampler): per parameter,
//!      the larger gap to the neighbouring points of the group (the prior
//!      is not one of them); the outermost points use their inner gap, or
//!      the gap to 0 and 1 as well when `consider_endpoints` (a lone
//!      point always does). Clipped to `[1 / min(100, m + 2), 1]` (Optuna's
//!      "magic clip", `m` trials in the group). The prior kernel is centred
//!      at 0.5 with bandwidth 1. The densities equal Optuna 5.0.0's
//!      `_ParzenEstimator` to 1e-12 (a test checks it on a fixed history).
//!    * Discrete numeric parameters (int ranges, `step`, `steps`, monotone
//!      `values`): the same Gaussians, scored by the mass they put on the
//!      value's cell of the unit interval, sampled continuously and snapped
//!      to the grid by `from_unit`.
//!    * Categorical parameters (and `values` lists that are not monotone):
//!      each trial's kernel puts `1 + prior_weight / (m + 1)` on its choice
//!      and `prior_weight / (m + 1)` on every choice, normalised; the prior
//!      kernel is uniform.
//! 4. **Choice.** `n_candidates` points are drawn from the good mixture
//!    (multivariate: a kernel, then every parameter from it; univariate:
//!    each parameter on its own), then `n_local` more from the kernel of
//!    the best trial so far alone (the first of the good group in the
//!    split's order); all are scored by `log l(x) - log g(x)`, and the
//!    best wins, ties going to the lowest candidate index. The local
//!    candidates are hpsearch's one departure from Optuna (which has
//!    `n_local = 0, n_candidates = 24`): they refine around the incumbent
//!    while the ratio still decides, and over 1200 seeds they lowered the
//!    median regret at 100 trials on all seven benchmark functions
//!    (`docs/strategies.md`).
//!
//! # Determinism
//!
//! All randomness comes from `seed::stream(trial seed, "tpe")`, drawn in a
//! fixed order (candidate by candidate, parameter by parameter in name
//! order); groups are kept in trial order and every sum runs in that order
//! (scoring is vectorised across kernels, never across the terms of one
//! kernel's sum, so the result is the same on any thread count).
//! Normal draws are Box–Muller and `erfc` is written out (the tabulated
//! one of `numeric::tabulated`), so no library's algorithm choice can
//! change a proposal; only `exp`, `ln` and `cos` are the C library's, as
//! `numeric`'s policy allows (the shipped searches' journals matched
//! across the machines tried, `docs/benchmarks.md`).
//!
//! # Speed
//!
//! At 1000 trials a proposal scores 32 candidates against about 1000 bad
//! kernels; each speed-up below leaves every bit of every proposal as it
//! was (the pinned-hash tests), and has its own test against the plain
//! computation:
//! * each trial's unit coordinates are computed once, when it finishes
//!   ([`Observation::unit`]);
//! * large groups' bandwidths, where the memo below does not apply (the
//!   univariate mode), come from buckets narrower than the clip: a point
//!   with points in the buckets on both sides is at the clip whatever its
//!   exact neighbours, so only sparse buckets are sorted (`clip_sigmas`);
//! * candidates are scored a block of eight kernels at a time, in a build
//!   for AVX2 where the CPU has it (same operations, same order, no fused
//!   multiply-add), keeping only the terms within `e^-40` of the largest;
//! * buffers and the mixtures' vectors are reused between proposals;
//! * the bad mixture, which gains a point or two a proposal, is built from
//!   the last one (`Memo`): each parameter's sorted order is merged,
//!   only the bandwidths next to a change are worked out again, and a
//!   kernel's normaliser and its logarithm are reused while its point and
//!   bandwidth are the same (`memo_builds_equal_fresh_builds`).
//!
//! # Where things are
//!
//! This file holds the strategy and the proposal (steps 1 and 4); the rest
//! is one file a concern, each with its tests:
//! * `settings.rs`: `[search.tpe]`, defaults and checks;
//! * `groups.rs`: step 2, the ranking and the good/bad split (pruned
//!   trials included), and the mixtures' trial weights;
//! * `kinds.rs`: how a parameter is modelled, and a trial's coordinates;
//! * `mixture.rs`: step 3, the Parzen mixture: built, sampled;
//! * `bandwidth.rs`: the neighbour-gap bandwidths and their bucketed
//!   shortcut;
//! * `scan.rs`: scoring points under a mixture, the AVX2 block scan beside
//!   the plain pass it equals;
//! * `memo.rs`: the bad mixture rebuilt from the last one;
//! * `conditional.rs`: the rule on a conditional space (`when`): each
//!   parameter's densities fitted only on the trials where it was active;
//! * `tests.rs`: the whole rule's tests and pinned hashes, and the helpers
//!   the other files' tests share; `tests_optuna.rs`: densities against
//!   Optuna's.
//!
//! The normal distribution's functions (`mass`, `log_mass`, the tabulated
//! `erfc`) are in `crate::numeric::tabulated`.

use std::sync::Mutex;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::{unit, History, Observation, Strategy, Trial};
use crate::numeric::avx2_dispatch;
use crate::numeric::tabulated::{log_mass, mass, TAIL_SAFE};
use crate::numeric::LN_SQRT_2PI;
use crate::seed;
use crate::space::{Domain, Param, Space};
use crate::value::{Params, Value};

mod bandwidth;
mod conditional;
mod groups;
mod kinds;
mod memo;
mod mixture;
mod scan;
mod settings;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_optuna;

pub use settings::TpeSettings;

use bandwidth::*;
use groups::*;
use kinds::*;
use memo::*;
use mixture::*;
use settings::*;

/// The TPE strategy.
pub struct Tpe {
    /// Its checked settings.
    pub settings: TpeSettings,
    /// Scoring buffers kept between proposals, so a long search does not
    /// allocate and grow them again on every proposal, and the last bad
    /// mixture's `Memo`. Every proposal clears the buffers before use,
    /// and takes from the memo only what it would compute again the same,
    /// so results never depend on them.
    scratch: Mutex<Scratch>,
}

impl Tpe {
    /// A TPE strategy with `settings` (checked by [`TpeSettings::from_toml`]).
    pub fn new(settings: TpeSettings) -> Self {
        Tpe {
            settings,
            scratch: Mutex::new(Scratch::default()),
        }
    }
}

impl Strategy for Tpe {
    fn propose(&self, t: &Trial<'_>, history: &History<'_>) -> Params {
        let space = t.space;
        let d = space.params.len();
        let n_ok = history
            .observed
            .iter()
            .filter(|o| rank_key(o).is_some())
            .count();
        if d == 0 || (n_ok as u64) < self.settings.n_startup {
            return space.from_unit(&super::sobol::point(t.index, d, t.search_seed));
        }
        if space.is_conditional() {
            return conditional::propose(self, t, history);
        }
        let s = &self.settings;
        let kinds: Vec<Kind> = space.params.iter().map(Kind::of).collect();
        let groups = split(history.observed, history.pending, s);
        // One flat buffer a group (no allocation a trial), read as rows.
        // Observed rows come from their stored unit coordinates (computed
        // once, when the trial finished); pending rows, and any row whose
        // stored coordinates do not fit the space, are converted here. Both
        // give the same bits (a test compares them). Without a categorical
        // parameter the coordinates are the unit coordinates: a copy.
        let numeric = !kinds.iter().any(|k| matches!(k, Kind::Categorical(_)));
        // Proposals made at once on several threads (or after a panic
        // elsewhere poisoned the lock) use buffers of their own.
        let mut guard = self.scratch.try_lock().ok();
        let mut own = Scratch::default();
        let sc = guard.as_deref_mut().unwrap_or(&mut own);
        let mut coords = |idx: &[usize]| -> Vec<f64> {
            let mut out = sc.take(idx.len() * d);
            for &i in idx {
                match history.observed.get(i) {
                    Some(o) if o.unit.len() == d && numeric => out.extend_from_slice(&o.unit),
                    Some(o) if o.unit.len() == d => push_units(&kinds, &o.unit, &mut out),
                    Some(o) => push_coordinates(space, &kinds, &o.params, &mut out),
                    None => {
                        let p = &history.pending[i - history.observed.len()];
                        push_coordinates(space, &kinds, p, &mut out);
                    }
                }
            }
            out
        };
        let (good_buf, bad_buf) = (coords(&groups.good), coords(&groups.bad));
        let mut rng = seed::stream(t.seed, seed::streams::TPE);
        let mut u = vec![0.5; d];
        if s.multivariate {
            let dims: Vec<usize> = (0..d).collect();
            let l = Mixture::build(&good_buf, &[], &dims, &kinds, s, sc);
            // The bad group changes little from one proposal to the next:
            // its ids let the build reuse the last one's work.
            let g = Mixture::build(&bad_buf, &groups.bad, &dims, &kinds, s, sc);
            let best = best_candidate(&l, &g, &kinds, s, groups.best, sc, &mut rng);
            for (j, c) in best.iter().enumerate() {
                u[j] = c.unit(&kinds[j]);
            }
            l.recycle(sc);
            g.recycle(sc);
        } else {
            for (j, uj) in u.iter_mut().enumerate() {
                let l = Mixture::build(&good_buf, &[], &[j], &kinds, s, sc);
                let g = Mixture::build(&bad_buf, &[], &[j], &kinds, s, sc);
                let best = best_candidate(&l, &g, &kinds, s, groups.best, sc, &mut rng);
                *uj = best[0].unit(&kinds[j]);
                l.recycle(sc);
                g.recycle(sc);
            }
        }
        sc.give(good_buf);
        sc.give(bad_buf);
        space.from_unit(&u)
    }

    fn uses_history(&self) -> bool {
        true
    }
}

/// One parameter of a candidate: `x` the unit coordinate (categorical: the
/// choice's index); `[lo, hi]` a discrete value's cell.
#[derive(Clone, Copy, Debug)]
struct Cand {
    x: f64,
    lo: f64,
    hi: f64,
}

impl Cand {
    /// The unit coordinate that `from_unit` turns into this value.
    fn unit(&self, kind: &Kind) -> f64 {
        match kind {
            Kind::Categorical(n) => (self.x + 0.5) / *n as f64,
            _ => self.x,
        }
    }
}

/// Draw `s.n_candidates` candidates from `l` and then `s.n_local` from its
/// kernel `local` (the best trial's; none drawn when it is `None`), return
/// the one with the largest `log l - log g` (the first on ties), scored in
/// the buffers `buf`.
fn best_candidate(
    l: &Mixture,
    g: &Mixture,
    kinds: &[Kind],
    s: &TpeSettings,
    local: Option<usize>,
    buf: &mut Scratch,
    rng: &mut impl RngCore,
) -> Vec<Cand> {
    // Draw all candidates first, so the stream's order does not depend on
    // scoring.
    // One flat buffer, read as rows (no allocation a candidate).
    let mut flat = Vec::new();
    for _ in 0..s.n_candidates {
        l.sample_into(kinds, rng, &mut flat);
    }
    if let Some(k) = local {
        for _ in 0..s.n_local {
            l.sample_kernel(k, kinds, rng, &mut flat);
        }
    }
    let cands: Vec<&[Cand]> = flat.chunks_exact(l.dims.len().max(1)).collect();
    let (mut lp, mut gp) = (Vec::new(), Vec::new());
    l.log_pdf_all(&cands, buf, &mut lp);
    g.log_pdf_all(&cands, buf, &mut gp);
    let mut best = 0;
    let mut best_score = f64::NEG_INFINITY;
    for (i, (a, b)) in lp.iter().zip(&gp).enumerate() {
        let score = a - b;
        // Strictly greater: ties keep the lowest index; NaN never wins.
        if score > best_score {
            best_score = score;
            best = i;
        }
    }
    cands.get(best).map_or_else(Vec::new, |c| c.to_vec())
}
