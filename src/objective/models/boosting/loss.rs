//! The losses of `gradient_boosting`: which one a fit uses ([`Loss`]),
//! the baseline (scikit-learn's `fit_intercept_only`), the median that
//! `absolute_error` uses for its baseline and leaf values, and the link
//! functions from raw predictions to probabilities. It never sees bins or
//! trees.

use crate::objective::models::{Targets, Task};

/// The `loss` parameter, by scikit-learn's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Half squared error: regression's default.
    SquaredError,
    /// Absolute error (regression): gradients are signs, the baseline and
    /// each leaf value are medians (scikit-learn's `AbsoluteError`).
    AbsoluteError,
    /// Binomial or multinomial log-loss: classification's only loss.
    LogLoss,
}

impl Loss {
    /// Every name `loss` accepts, in `hpsearch models` order.
    pub const NAMES: &'static [&'static str] = &["squared_error", "absolute_error", "log_loss"];

    /// The loss named `name`, if any.
    pub fn from_name(name: &str) -> Option<Loss> {
        match name {
            "squared_error" => Some(Loss::SquaredError),
            "absolute_error" => Some(Loss::AbsoluteError),
            "log_loss" => Some(Loss::LogLoss),
            _ => None,
        }
    }

    /// Its name in search files.
    pub fn name(self) -> &'static str {
        match self {
            Loss::SquaredError => "squared_error",
            Loss::AbsoluteError => "absolute_error",
            Loss::LogLoss => "log_loss",
        }
    }

    /// The task it serves.
    pub fn task(self) -> Task {
        match self {
            Loss::SquaredError | Loss::AbsoluteError => Task::Regression,
            Loss::LogLoss => Task::Classification,
        }
    }

    /// The loss of `task` when none is given.
    pub fn default_for(task: Task) -> Loss {
        match task {
            Task::Regression => Loss::SquaredError,
            Task::Classification => Loss::LogLoss,
        }
    }
}

/// The median of `v` (reordered), numpy's: the middle value, or the mean
/// of the two middle values for an even count. `v` must not be empty.
pub(super) fn median(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `1 / (1 + e^-x)`.
pub(super) fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Softmax of `raw` into `out`, classes summed in index order.
pub(super) fn softmax(raw: &[f64], out: &mut [f64]) {
    let max = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (o, r) in out.iter_mut().zip(raw) {
        *o = (r - max).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// The starting raw prediction of each tree (scikit-learn's
/// `fit_intercept_only`): the mean target (the median for
/// `absolute_error`); the log-odds of class 1; or
/// the log class shares less their mean.
pub(super) fn baseline(y: Targets<'_>, n: usize, k: usize, loss: Loss) -> Vec<f64> {
    match y {
        Targets::Values(v) if loss == Loss::AbsoluteError => vec![median(&mut v.to_vec())],
        Targets::Values(v) => vec![v.iter().sum::<f64>() / n as f64],
        Targets::Classes { y, n_classes } => {
            let mut counts = vec![0usize; n_classes];
            for &c in y {
                counts[c] += 1;
            }
            let eps = f64::EPSILON;
            let share = |c: usize| (counts[c] as f64 / n as f64).clamp(eps, 1.0 - eps);
            if k == 1 {
                let p = share(1);
                vec![(p / (1.0 - p)).ln()]
            } else {
                let logs: Vec<f64> = (0..n_classes).map(|c| share(c).ln()).collect();
                let mean = logs.iter().sum::<f64>() / n_classes as f64;
                logs.iter().map(|l| l - mean).collect()
            }
        }
    }
}
