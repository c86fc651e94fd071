//! Objectives: what a trial evaluates. An objective is a pure function of
//! a trial's parameters and seed (and the data it was built with): it never
//! sees the strategy, threads or files, and a failure is a status, not a
//! crash.

use std::path::Path;

use crate::config::{ObjectiveSpec, Search};
use crate::data::Dataset;
use crate::value::Params;

pub mod command;
pub(crate) mod cv;
pub mod function;
pub mod models;

/// How a trial ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The trial gave a finite value.
    Ok,
    /// The trial gave no usable value (an error, a crash, a non-finite
    /// value); its value is NaN and `error` says why.
    Failed,
    /// A command trial killed at its `timeout`. The one status that
    /// depends on the machine rather than on the trial's inputs.
    Timeout,
    /// A trial stopped early by the pruner (`[search.pruner]`): a command,
    /// or a built-in model climbing its resource's ladder; its value is
    /// the last intermediate value it reported.
    Pruned,
    /// A trial dropped because the search was stopped (Ctrl-C, SIGTERM):
    /// a command killed, a model between folds, or a trial that had not
    /// started. Never written to the journal: the trial reruns on resume.
    Interrupted,
}

impl Status {
    /// The name `trials.csv` writes in its `status` column.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
            Status::Pruned => "pruned",
            Status::Interrupted => "interrupted",
        }
    }

    /// A status as `trials.csv` writes it (`interrupted` never is).
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "ok" => Some(Status::Ok),
            "failed" => Some(Status::Failed),
            "timeout" => Some(Status::Timeout),
            "pruned" => Some(Status::Pruned),
            _ => None,
        }
    }
}

/// The result of one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// How the trial ended.
    pub status: Status,
    /// The objective value (the mean of the fold scores for a model);
    /// NaN when the trial failed.
    pub value: f64,
    /// Per-fold scores, in fold order (empty for functions).
    pub folds: Vec<f64>,
    /// Why the trial failed.
    pub error: Option<String>,
    /// The cells of the result columns (see [`command::result_columns`])
    /// of a command or an external objective, in that order: the
    /// declared `columns`, then `extra` (built by
    /// [`command::result_cells`]); empty for the others, and empty cells
    /// when empty (a closure returning a plain value).
    pub extra: Vec<String>,
    /// The intermediate values `(step, value)` in step order, with a
    /// pruner: a command's step lines, or a built-in model's score at each
    /// rung of its resource (step = the resource amount); empty otherwise.
    pub steps: Vec<(u64, f64)>,
}

impl Evaluation {
    /// A successful evaluation; a non-finite value makes it a failure.
    pub fn ok(value: f64, folds: Vec<f64>) -> Evaluation {
        if value.is_finite() {
            Evaluation {
                status: Status::Ok,
                value,
                folds,
                error: None,
                extra: Vec::new(),
                steps: Vec::new(),
            }
        } else {
            Evaluation {
                status: Status::Failed,
                value: f64::NAN,
                folds,
                error: Some(format!("the value is not finite ({value})")),
                extra: Vec::new(),
                steps: Vec::new(),
            }
        }
    }

    /// The evaluation of a result map, as a command's result line gives
    /// it (`{"value": 0.93, "loss": 0.21}`) and as an external objective
    /// may return it: `value` is the value (a finite number, or the trial
    /// fails), and [`Evaluation::extra`] holds the cells of the declared
    /// `columns` and then the other keys (see [`command::result_cells`]).
    /// `columns` are the search's (`config::Search::result_columns`), so
    /// the row is the one the same search run by a command writes.
    pub fn from_result(
        columns: &[String],
        result: &serde_json::Map<String, serde_json::Value>,
    ) -> Evaluation {
        let mut eval = match result.get("value").and_then(|v| v.as_f64()) {
            Some(v) => Evaluation::ok(v, Vec::new()),
            None => Evaluation::failed(
                match result.get("value") {
                    Some(v) => format!("the result's value is not a number: {v}"),
                    None => "the result has no \"value\" key".to_string(),
                },
                Vec::new(),
            ),
        };
        eval.extra = command::result_cells(columns, result);
        eval
    }

    /// The evaluation of a result map whose `value` is a number no `f64`
    /// holds finitely (`shown` as the program printed it: `NaN`,
    /// `Infinity`, `1e400`): failed, saying so, with the map's cells kept.
    pub fn non_finite_result(
        columns: &[String],
        result: &serde_json::Map<String, serde_json::Value>,
        shown: &str,
    ) -> Evaluation {
        let mut eval = Evaluation::failed(
            format!("the result's value {shown} is not a finite number"),
            Vec::new(),
        );
        eval.extra = command::result_cells(columns, result);
        eval
    }

    /// A trial the pruner stopped after the values `kept` (steps
    /// increasing): its value is the last of them. `None` when `kept` is
    /// empty (a pruner never stops a trial before its first value).
    pub fn pruned(kept: Vec<(u64, f64)>) -> Option<Evaluation> {
        let &(step, value) = kept.last()?;
        Some(Evaluation {
            status: Status::Pruned,
            value,
            folds: Vec::new(),
            error: Some(format!("pruned at step {step}")),
            extra: Vec::new(),
            steps: kept,
        })
    }

    /// A trial dropped because the search was stopped; never committed.
    pub fn interrupted() -> Evaluation {
        Evaluation {
            status: Status::Interrupted,
            value: f64::NAN,
            folds: Vec::new(),
            error: Some("stopped".into()),
            extra: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// A failed evaluation: `error` says why, `folds` holds the fold
    /// scores computed before the failure; the value is NaN.
    pub fn failed(error: String, folds: Vec<f64>) -> Evaluation {
        Evaluation {
            status: Status::Failed,
            value: f64::NAN,
            folds,
            error: Some(error),
            extra: Vec::new(),
            steps: Vec::new(),
        }
    }
}

/// The trial an evaluation is for.
#[derive(Clone, Copy)]
pub struct TrialInfo<'a> {
    /// The trial index.
    pub index: u64,
    /// The trial's seed (design.md, Determinism 2).
    pub seed: u64,
    /// A fresh, empty folder for the trial's own files, for objectives
    /// that ask for one ([`Objective::needs_workdir`]).
    pub workdir: Option<&'a Path>,
    /// With a pruner: asked after each intermediate value whether to stop
    /// the trial now, given its `(step, value)` pairs so far (`true`:
    /// prune). Built by the search from the settled curves only
    /// (design.md, Determinism 7), so it is a pure function of its input.
    pub pruner: Option<&'a Prune>,
    /// The search's stop token: an objective that runs long (a program,
    /// a model between folds) looks at it and gives up with
    /// [`Evaluation::interrupted`]. `None`: nothing stops it.
    pub stop: Option<&'a crate::interrupt::StopToken>,
}

impl TrialInfo<'_> {
    /// Whether the search was asked to stop (see [`TrialInfo::stop`]).
    pub fn stop_requested(&self) -> bool {
        self.stop.is_some_and(|s| s.is_stopped())
    }

    /// Whether running trials are not wanted any more (storage: other
    /// workers committed the budget).
    pub(crate) fn discarding(&self) -> bool {
        self.stop.is_some_and(|s| s.discarding())
    }
}

impl std::fmt::Debug for TrialInfo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrialInfo")
            .field("index", &self.index)
            .field("seed", &self.seed)
            .field("workdir", &self.workdir)
            .field("pruner", &self.pruner.is_some())
            .field("stop", &self.stop_requested())
            .finish()
    }
}

/// The pruner's question for one trial: prune after these values?
pub type PruneFn = dyn Fn(&[(u64, f64)]) -> bool + Send + Sync;

/// A trial's pruner, shared: an objective may keep a handle beyond the
/// call that received it (the Python package's trial object does).
pub type Prune = std::sync::Arc<PruneFn>;

/// Something a trial can evaluate.
pub trait Objective: Send + Sync {
    /// Evaluate `params` as trial `trial` (its index, seed and folder).
    fn evaluate(&self, params: &Params, trial: &TrialInfo<'_>) -> Evaluation;

    /// The number of per-fold scores each evaluation gives.
    fn n_folds(&self) -> usize;

    /// For cross-validation: the held-out fold of each data row, in row
    /// order, so the split can be audited or reused by another tool.
    fn fold_of_rows(&self) -> Option<crate::data::folds::FoldsOf<'_>> {
        None
    }

    /// Whether each trial needs its own working folder.
    fn needs_workdir(&self) -> bool {
        false
    }
}

/// A built-in benchmark function.
pub struct FunctionObjective(pub function::Function);

impl Objective for FunctionObjective {
    fn evaluate(&self, params: &Params, _trial: &TrialInfo<'_>) -> Evaluation {
        match self.0.evaluate(params) {
            Ok(v) => Evaluation::ok(v, Vec::new()),
            Err(e) => Evaluation::failed(e, Vec::new()),
        }
    }

    fn n_folds(&self) -> usize {
        0
    }
}

/// Build the objective of a resolved search.
pub fn build(
    search: &Search,
    dataset: Option<Dataset>,
) -> Result<Box<dyn Objective>, crate::data::DataError> {
    match (&search.objective, dataset) {
        (ObjectiveSpec::Function { function, .. }, _) => Ok(Box::new(FunctionObjective(*function))),
        (ObjectiveSpec::Command(spec), _) => {
            Ok(Box::new(command::CommandObjective::new((**spec).clone())))
        }
        (ObjectiveSpec::Model { .. }, Some(ds)) => {
            Ok(Box::new(cv::CrossValidated::new(search, ds)?))
        }
        // The command the file gives runs the external objective.
        (
            ObjectiveSpec::External {
                runner: Some(spec), ..
            },
            _,
        ) => Ok(Box::new(command::CommandObjective::new((**spec).clone()))),
        (ObjectiveSpec::External { name, .. }, _) => Err(crate::data::DataError::Invalid {
            path: search.file.clone(),
            message: format!(
                "the objective `{name}` is external: its code is given by the program that runs \
                 the search (Rust: hpsearch::engine; Python: hpsearch.optimize), or by \
                 `command = [...]` in the search file"
            ),
        }),
        (ObjectiveSpec::Model { model, .. }, None) => Err(crate::data::DataError::Invalid {
            path: search.file.clone(),
            message: format!("model {} needs data", model.name),
        }),
    }
}
