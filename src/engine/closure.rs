//! Objectives written in Rust: a closure `Fn(&Params, &Trial) -> R` as an
//! [`Objective`], with intermediate values and pruning through [`Trial`].
//!
//! A closure enters the root hash through the name and version of the
//! search's `[objective] external = "…"` (see `config`): the search cannot
//! see the code, so the caller's version is its identity, and changing the
//! version makes a different search (a folder of the old one is refused).
//! The search file may also give a `command` for the same objective (how
//! `hpsearch run` runs it, outside the root hash); `Search::with_fn`
//! replaces it. The journal has a command's layout either way (the
//! declared `columns`, then `extra`): return
//! [`Evaluation::from_result`](crate::objective::Evaluation::from_result)
//! to fill them from a result map, as a program's result line does.

use std::cell::RefCell;
use std::path::Path;

use crate::objective::{Evaluation, Objective, Prune, Status, TrialInfo};
use crate::value::Params;

/// What a closure objective may return: the value, a value or an error,
/// or a whole [`Evaluation`].
pub trait IntoEvaluation {
    /// The trial's evaluation.
    fn into_evaluation(self) -> Evaluation;
}

impl IntoEvaluation for f64 {
    /// A finite value succeeds; a non-finite one fails the trial.
    fn into_evaluation(self) -> Evaluation {
        Evaluation::ok(self, Vec::new())
    }
}

impl<E: std::fmt::Display> IntoEvaluation for Result<f64, E> {
    /// `Err` fails the trial with the error's text in `error`.
    fn into_evaluation(self) -> Evaluation {
        match self {
            Ok(v) => Evaluation::ok(v, Vec::new()),
            Err(e) => Evaluation::failed(e.to_string(), Vec::new()),
        }
    }
}

impl IntoEvaluation for Evaluation {
    fn into_evaluation(self) -> Evaluation {
        self
    }
}

/// The trial a closure evaluates: its index, seed and folder, and the
/// place to report intermediate values and ask the pruner.
///
/// ```
/// use hpsearch::engine::{FnObjective, Trial};
/// use hpsearch::value::Params;
///
/// // An "epoch loop" that reports its loss and stops when pruned.
/// let objective = FnObjective::new(|params: &Params, trial: &Trial<'_>| {
///     let lr = params.get("lr").and_then(|v| v.as_f64()).unwrap_or(0.1);
///     let mut loss = 1.0;
///     for epoch in 1..=10 {
///         loss *= 1.0 - lr;
///         trial.report(epoch, loss)?;
///         if trial.should_prune() {
///             break;
///         }
///     }
///     Ok::<f64, String>(loss)
/// });
/// # let _ = objective;
/// ```
pub struct Trial<'a> {
    info: &'a TrialInfo<'a>,
    reported: RefCell<Reports>,
}

/// What an objective reported while it ran, and the pruner's answers: the
/// bookkeeping behind [`Trial::report`] and [`Trial::should_prune`], for
/// objectives that keep it themselves (the Python package's trial; an ask
/// and tell caller, with [`Asked::reports`](super::Asked::reports)).
#[derive(Default)]
pub struct Reports {
    /// The trial's pruner; `None`: never prune.
    pruner: Option<Prune>,
    /// The values so far, steps increasing.
    steps: Vec<(u64, f64)>,
    /// A reporting error (the first), which fails the trial.
    bad: Option<String>,
    /// How many values the pruner had seen when it said stop.
    pruned_at: Option<usize>,
}

impl Reports {
    /// Nothing reported yet; `pruner` judges what will be.
    pub fn new(pruner: Option<Prune>) -> Reports {
        Reports {
            pruner,
            ..Reports::default()
        }
    }

    /// The values reported so far, `(step, value)` in step order.
    pub fn steps(&self) -> &[(u64, f64)] {
        &self.steps
    }

    /// Record the value at `step` (steps strictly increasing, the value
    /// finite). The first bad report fails the trial: it and every later
    /// report return its message.
    pub fn report(&mut self, step: u64, value: f64) -> Result<(), String> {
        if let Some(e) = &self.bad {
            return Err(e.clone());
        }
        let problem = if !value.is_finite() {
            Some(format!("step {step}: the value is not finite ({value})"))
        } else {
            match self.steps.last() {
                Some(&(last, _)) if step <= last => Some(format!(
                    "step {step} after step {last}: steps must increase"
                )),
                _ => None,
            }
        };
        if let Some(p) = problem {
            self.bad = Some(p.clone());
            return Err(p);
        }
        self.steps.push((step, value));
        Ok(())
    }

    /// Whether the pruner stops the trial after the values so far. Once
    /// it says yes, the trial is pruned at that step, whatever comes next.
    pub fn should_prune(&mut self) -> bool {
        if self.pruned_at.is_some() {
            return true;
        }
        let yes = self
            .pruner
            .as_ref()
            .is_some_and(|p| !self.steps.is_empty() && p(&self.steps));
        if yes {
            self.pruned_at = Some(self.steps.len());
        }
        yes
    }

    /// Mark the trial pruned after the values so far, as if the pruner
    /// had said so (Python's `raise hpsearch.TrialPruned()`); `false`
    /// when nothing was reported, as a pruned trial records its last
    /// value.
    pub fn prune_now(&mut self) -> bool {
        if self.pruned_at.is_none() && !self.steps.is_empty() {
            self.pruned_at = Some(self.steps.len());
        }
        self.pruned_at.is_some()
    }

    /// The evaluation to record from the objective's own `eval`: pruned
    /// at the step the pruner stopped it, failed after a bad report, or
    /// `eval` with the reported values.
    pub fn settle(self, eval: Evaluation) -> Evaluation {
        if eval.status == Status::Interrupted {
            return eval;
        }
        let Reports {
            steps,
            bad,
            pruned_at,
            ..
        } = self;
        if let Some(pruned) =
            pruned_at.and_then(|n| Evaluation::pruned(steps[..n.min(steps.len())].to_vec()))
        {
            return pruned;
        }
        if let Some(e) = bad {
            let mut failed = Evaluation::failed(e, Vec::new());
            failed.steps = steps;
            return failed;
        }
        Evaluation { steps, ..eval }
    }
}

impl<'a> Trial<'a> {
    fn new(info: &'a TrialInfo<'a>) -> Trial<'a> {
        Trial {
            info,
            reported: RefCell::new(Reports::new(info.pruner.cloned())),
        }
    }

    /// The trial index.
    pub fn index(&self) -> u64 {
        self.info.index
    }

    /// The trial's seed: seed the objective's own randomness with it, and
    /// the trial is reproducible.
    pub fn seed(&self) -> u64 {
        self.info.seed
    }

    /// The trial's own empty folder, when the objective asked for one.
    pub fn workdir(&self) -> Option<&Path> {
        self.info.workdir
    }

    /// Whether the search was asked to stop: a long objective may give up
    /// (its trial is dropped and reruns on resume).
    pub fn stop_requested(&self) -> bool {
        self.info.stop_requested()
    }

    /// Report an intermediate value at `step` (steps strictly increasing;
    /// the value finite). A bad report fails the trial with the returned
    /// message, as a bad step line fails a command trial.
    pub fn report(&self, step: u64, value: f64) -> Result<(), String> {
        self.reported.borrow_mut().report(step, value)
    }

    /// With a pruner: whether to stop now, given the values reported so
    /// far. Once it says yes the trial is recorded as pruned at that step
    /// whatever the closure returns or reports afterwards (the record is
    /// the decision, not the timing).
    pub fn should_prune(&self) -> bool {
        self.reported.borrow_mut().should_prune()
    }

    /// The evaluation to record, from the closure's.
    fn settle(self, eval: Evaluation) -> Evaluation {
        self.reported.into_inner().settle(eval)
    }
}

/// A closure as an [`Objective`] (see the module doc and [`Trial`]).
pub struct FnObjective<F> {
    f: F,
}

impl<F> FnObjective<F> {
    /// Wrap `f(params, trial)`.
    pub fn new<R>(f: F) -> FnObjective<F>
    where
        F: Fn(&Params, &Trial<'_>) -> R + Send + Sync,
        R: IntoEvaluation,
    {
        FnObjective { f }
    }
}

impl<F, R> Objective for FnObjective<F>
where
    F: Fn(&Params, &Trial<'_>) -> R + Send + Sync,
    R: IntoEvaluation,
{
    fn evaluate(&self, params: &Params, info: &TrialInfo<'_>) -> Evaluation {
        let trial = Trial::new(info);
        // A panic in the user's code fails the trial with its message; it
        // must not unwind into the search's worker.
        match crate::search::catch(|| (self.f)(params, &trial).into_evaluation()) {
            Ok(eval) => trial.settle(eval),
            Err(what) => Evaluation::failed(format!("the objective panicked: {what}"), Vec::new()),
        }
    }

    fn n_folds(&self) -> usize {
        0
    }
}
