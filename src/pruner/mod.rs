//! Pruners: whether a running trial stops early, from its intermediate
//! values (`[search.pruner]`).
//!
//! Three rules, each following Optuna's pruner of the same name:
//! `median`, `successive_halving` and `hyperband`, each in the private
//! module of that name, which documents its exact rule.
//!
//! The one difference from Optuna, shared by all three, is which trials a
//! decision looks at: Optuna compares with whatever trials happened to
//! report (or finish) so far, hpsearch with the **settled** trials
//! `0 ..= i-W` only (design.md, Determinism 7). A decision for trial `i`
//! is a pure function of the rule, the direction, `i`, its own values and
//! the settled curves, so it is the same for any thread count and after a
//! resume.

pub(crate) mod hyperband;
pub(crate) mod median;
pub(crate) mod successive_halving;

use crate::config::{Direction, PrunerSpec};
use crate::objective::Status;

/// The recorded curve of a settled trial.
///
/// Why the steps are shared (`Arc`): every trial's pruner holds the curves
/// of all the trials settled before it, so a copy of each would make a
/// search quadratic in its trials times their steps; a clone here is a
/// reference count.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// How the trial ended (`ok`, `failed`, `timeout` or `pruned`).
    pub status: Status,
    /// Its intermediate values `(step, value)`, in the order reported
    /// (steps increasing), values as the objective gave them (not oriented).
    pub steps: std::sync::Arc<[(u64, f64)]>,
}

/// A pruner's view for one trial: the rule, the trial's index and the
/// settled curves.
#[derive(Clone, Debug)]
pub struct Pruner {
    spec: PrunerSpec,
    direction: Direction,
    /// The curves this trial may compare with. For `median` the settled
    /// trials that completed; for `successive_halving` every settled
    /// trial; for `hyperband` the settled trials of trial `i`'s bracket.
    settled: Vec<Curve>,
    /// Trial `i`'s bracket (hyperband; 0 otherwise).
    bracket: u64,
}

impl Pruner {
    /// This pruner as a trial's shared question ([`crate::objective::Prune`]).
    pub fn shared(self) -> crate::objective::Prune {
        std::sync::Arc::new(move |v: &[(u64, f64)]| self.should_prune(v))
    }

    /// The pruner for trial `trial` that may see `settled` (trials
    /// `0 ..= i-W`, in index order: `settled[j]` is trial `j`).
    pub fn new(spec: PrunerSpec, direction: Direction, trial: u64, settled: &[Curve]) -> Pruner {
        let (bracket, settled) = match spec {
            PrunerSpec::Median { .. } => (
                0,
                settled
                    .iter()
                    .filter(|c| c.status == Status::Ok)
                    .cloned()
                    .collect(),
            ),
            PrunerSpec::SuccessiveHalving { .. } => (0, settled.to_vec()),
            PrunerSpec::Hyperband {
                min_resource,
                max_resource,
                reduction_factor,
                ..
            } => {
                let brackets =
                    hyperband::Brackets::new(min_resource, max_resource, reduction_factor);
                let mine = brackets.of(trial);
                (
                    mine,
                    settled
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| brackets.of(*j as u64) == mine)
                        .map(|(_, c)| c.clone())
                        .collect(),
                )
            }
        };
        Pruner {
            spec,
            direction,
            settled,
            bracket,
        }
    }

    /// Whether a trial whose intermediate values so far are `own` (in step
    /// order, the one just reported last) stops now.
    pub fn should_prune(&self, own: &[(u64, f64)]) -> bool {
        match self.spec {
            PrunerSpec::Median {
                n_startup_trials,
                n_warmup_steps,
                interval_steps,
            } => median::should_prune(
                (n_startup_trials, n_warmup_steps, interval_steps),
                self.direction,
                &self.settled,
                own,
            ),
            PrunerSpec::SuccessiveHalving {
                min_resource,
                reduction_factor,
                min_early_stopping_rate,
                bootstrap_count,
            } => successive_halving::Rungs {
                min_resource,
                reduction_factor,
                min_early_stopping_rate,
                bootstrap_count,
            }
            .should_prune(self.direction, &self.settled, own),
            PrunerSpec::Hyperband {
                min_resource,
                reduction_factor,
                bootstrap_count,
                ..
            } => successive_halving::Rungs {
                min_resource,
                reduction_factor,
                min_early_stopping_rate: self.bracket,
                bootstrap_count,
            }
            .should_prune(self.direction, &self.settled, own),
        }
    }
}
