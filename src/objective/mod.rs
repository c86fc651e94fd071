//! Objectives: what a trial evaluates. An objective is a pure function of
//! a trial's parameters and seed (and the data it was built with): it never
//! sees the strategy, threads or files, and a failure is a status, not a
//! crash.

use crate::config::{ObjectiveSpec, Search};
use crate::data::Dataset;
use crate::value::Params;

pub mod cv;
pub mod function;
pub mod models;

/// How a trial ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Failed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "ok" => Some(Status::Ok),
            "failed" => Some(Status::Failed),
            _ => None,
        }
    }
}

/// The result of one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub status: Status,
    /// The objective value (the mean of the fold scores for a model);
    /// NaN when the trial failed.
    pub value: f64,
    /// Per-fold scores, in fold order (empty for functions).
    pub folds: Vec<f64>,
    /// Why the trial failed.
    pub error: Option<String>,
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
            }
        } else {
            Evaluation {
                status: Status::Failed,
                value: f64::NAN,
                folds,
                error: Some(format!("the value is not finite ({value})")),
            }
        }
    }

    pub fn failed(error: String, folds: Vec<f64>) -> Evaluation {
        Evaluation {
            status: Status::Failed,
            value: f64::NAN,
            folds,
            error: Some(error),
        }
    }
}

/// Something a trial can evaluate.
pub trait Objective: Send + Sync {
    /// Evaluate `params` with the trial's `seed`.
    fn evaluate(&self, params: &Params, seed: u64) -> Evaluation;

    /// The number of per-fold scores each evaluation gives.
    fn n_folds(&self) -> usize;

    /// For cross-validation: the held-out fold of each data row, in row
    /// order, so the split can be audited or reused by another tool.
    fn fold_of_rows(&self) -> Option<&[usize]> {
        None
    }
}

/// A built-in benchmark function.
pub struct FunctionObjective(pub function::Function);

impl Objective for FunctionObjective {
    fn evaluate(&self, params: &Params, _seed: u64) -> Evaluation {
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
        (ObjectiveSpec::Model { .. }, Some(ds)) => {
            Ok(Box::new(cv::CrossValidated::new(search, ds)?))
        }
        (ObjectiveSpec::Model { model, .. }, None) => Err(crate::data::DataError::Invalid {
            path: search.file.clone(),
            message: format!("model {} needs data", model.name),
        }),
    }
}
