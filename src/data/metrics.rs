//! STUB
use ndarray::ArrayView2;

/// A score of predictions against the truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    Accuracy,
    BalancedAccuracy,
    F1,
    F1Macro,
    LogLoss,
    Rmse,
    Mae,
    R2,
}

pub fn accuracy(_y: &[usize], _pred: &[usize]) -> f64 { todo!() }
pub fn balanced_accuracy(_y: &[usize], _pred: &[usize], _n_classes: usize) -> f64 { todo!() }
pub fn f1_binary(_y: &[usize], _pred: &[usize]) -> f64 { todo!() }
pub fn f1_macro(_y: &[usize], _pred: &[usize], _n_classes: usize) -> f64 { todo!() }
pub fn log_loss(_y: &[usize], _proba: ArrayView2<'_, f64>) -> f64 { todo!() }
pub fn rmse(_y: &[f64], _pred: &[f64]) -> f64 { todo!() }
pub fn mae(_y: &[f64], _pred: &[f64]) -> f64 { todo!() }
pub fn r2(_y: &[f64], _pred: &[f64]) -> f64 { todo!() }

use crate::objective::models::Task;

impl Metric {
    pub const ALL: &'static [Metric] = &[
        Metric::Accuracy,
        Metric::BalancedAccuracy,
        Metric::F1,
        Metric::F1Macro,
        Metric::LogLoss,
        Metric::Rmse,
        Metric::Mae,
        Metric::R2,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BalancedAccuracy => "balanced_accuracy",
            Metric::F1 => "f1",
            Metric::F1Macro => "f1_macro",
            Metric::LogLoss => "log_loss",
            Metric::Rmse => "rmse",
            Metric::Mae => "mae",
            Metric::R2 => "r2",
        }
    }
    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.name() == s)
    }
    pub fn task(self) -> Task {
        match self {
            Metric::Rmse | Metric::Mae | Metric::R2 => Task::Regression,
            _ => Task::Classification,
        }
    }
    pub fn maximize(self) -> bool {
        !matches!(self, Metric::LogLoss | Metric::Rmse | Metric::Mae)
    }
    pub fn needs_proba(self) -> bool {
        self == Metric::LogLoss
    }
}
