//! Scores of predictions against the truth, with scikit-learn's conventions.
//!
//! This module owns the metric names, their directions and their formulas.
//! It never sees models or folds: callers hand it class indices, values or
//! class probabilities of one test fold. Every sum runs in row order (fixed),
//! so a score is a pure function of its inputs, bit for bit.
//!
//! An empty input gives NaN (0/0); cross-validation never scores an empty
//! fold.

use ndarray::ArrayView2;

use crate::objective::models::Task;

/// A score of predictions against the truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// Fraction of correct class predictions; maximise.
    Accuracy,
    /// Mean recall over the classes present in the truth; maximise.
    BalancedAccuracy,
    /// F1 of class index 1 (binary problems); maximise.
    F1,
    /// Unweighted mean F1 over classes; maximise.
    F1Macro,
    /// Mean negative log-likelihood of the true class; minimise.
    LogLoss,
    /// Root mean squared error; minimise.
    Rmse,
    /// Mean absolute error; minimise.
    Mae,
    /// Coefficient of determination; maximise.
    R2,
}

impl Metric {
    /// Every metric, in declaration order.
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

    /// The name used in search files and outputs.
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

    /// The metric called `name` (exactly as [`Metric::name`] spells it).
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.name() == name)
    }

    /// The task the metric scores.
    pub fn task(self) -> Task {
        match self {
            Metric::Accuracy
            | Metric::BalancedAccuracy
            | Metric::F1
            | Metric::F1Macro
            | Metric::LogLoss => Task::Classification,
            Metric::Rmse | Metric::Mae | Metric::R2 => Task::Regression,
        }
    }

    /// Whether larger is better (`log_loss`, `rmse` and `mae` are minimised).
    pub fn maximize(self) -> bool {
        !matches!(self, Metric::LogLoss | Metric::Rmse | Metric::Mae)
    }

    /// Whether the metric needs class probabilities (only `log_loss`).
    pub fn needs_proba(self) -> bool {
        matches!(self, Metric::LogLoss)
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Fraction of rows where `pred` equals `y`.
pub fn accuracy(y: &[usize], pred: &[usize]) -> f64 {
    let correct = y.iter().zip(pred).filter(|(a, b)| a == b).count();
    correct as f64 / y.len() as f64
}

/// Per-class true positives, false positives and false negatives, sized to
/// hold every class index that occurs (at least `n_classes`).
fn confusion_counts(y: &[usize], pred: &[usize], n_classes: usize) -> Vec<[usize; 3]> {
    let size = y
        .iter()
        .chain(pred)
        .map(|&c| c + 1)
        .max()
        .unwrap_or(0)
        .max(n_classes);
    let mut counts = vec![[0usize; 3]; size];
    for (&t, &p) in y.iter().zip(pred) {
        if t == p {
            counts[t][0] += 1;
        } else {
            counts[p][1] += 1;
            counts[t][2] += 1;
        }
    }
    counts
}

/// Mean recall over the classes that occur in `y` (as scikit-learn's
/// `balanced_accuracy_score`: classes only predicted are ignored).
pub fn balanced_accuracy(y: &[usize], pred: &[usize], n_classes: usize) -> f64 {
    let counts = confusion_counts(y, pred, n_classes);
    let (mut sum, mut present) = (0.0, 0usize);
    for [tp, _, fneg] in counts {
        let support = tp + fneg;
        if support > 0 {
            sum += tp as f64 / support as f64;
            present += 1;
        }
    }
    sum / present as f64
}

/// `2 tp / (2 tp + fp + fn)`, 0 when the denominator is 0.
fn f1_of(tp: usize, fp: usize, fneg: usize) -> f64 {
    let denominator = 2 * tp + fp + fneg;
    if denominator == 0 {
        0.0
    } else {
        (2 * tp) as f64 / denominator as f64
    }
}

/// F1 of the positive class, index 1; 0 when neither `y` nor `pred` has a
/// positive (scikit-learn's `zero_division=0`).
pub fn f1_binary(y: &[usize], pred: &[usize]) -> f64 {
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    for (&t, &p) in y.iter().zip(pred) {
        match (t == 1, p == 1) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fneg += 1,
            (false, false) => {}
        }
    }
    f1_of(tp, fp, fneg)
}

/// Unweighted mean of the per-class F1 over the classes that occur in `y`
/// or `pred` (scikit-learn's `f1_score(average="macro")`, whose labels are
/// that union). `n_classes` sizes the count table.
pub fn f1_macro(y: &[usize], pred: &[usize], n_classes: usize) -> f64 {
    let counts = confusion_counts(y, pred, n_classes);
    let (mut sum, mut present) = (0.0, 0usize);
    for [tp, fp, fneg] in counts {
        if tp + fp + fneg > 0 {
            sum += f1_of(tp, fp, fneg);
            present += 1;
        }
    }
    sum / present as f64
}

/// Smallest probability [`log_loss`] takes the log of; the largest is
/// `1 - LOG_LOSS_EPS`.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// Mean over rows of `-ln p`, where `p` is the probability `proba` gives the
/// true class (`proba[[i, y[i]]]`), clipped to `[1e-15, 1 - 1e-15]` so a
/// confident mistake costs about 34.5 rather than infinity. Rows are not
/// renormalised: the model's probabilities are taken as they are. A class
/// index outside `proba`'s columns counts as probability 0.
pub fn log_loss(y: &[usize], proba: ArrayView2<'_, f64>) -> f64 {
    let mut sum = 0.0;
    for (i, &t) in y.iter().enumerate() {
        let p = proba.get((i, t)).copied().unwrap_or(0.0);
        // NaN (a broken model) stays NaN instead of being clipped away.
        let p = if p.is_nan() {
            p
        } else {
            p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
        };
        sum += -p.ln();
    }
    sum / y.len() as f64
}

/// Root mean squared error.
pub fn rmse(y: &[f64], pred: &[f64]) -> f64 {
    let sum: f64 = y.iter().zip(pred).map(|(a, b)| (a - b) * (a - b)).sum();
    (sum / y.len() as f64).sqrt()
}

/// Mean absolute error.
pub fn mae(y: &[f64], pred: &[f64]) -> f64 {
    let sum: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum();
    sum / y.len() as f64
}

/// `1 - SS_res / SS_tot`. When the truth is constant (`SS_tot == 0`), 1.0 for
/// a perfect prediction and 0.0 otherwise (scikit-learn's `force_finite`).
pub fn r2(y: &[f64], pred: &[f64]) -> f64 {
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let ss_res: f64 = y.iter().zip(pred).map(|(a, b)| (a - b) * (a - b)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean) * (a - mean)).sum();
    if ss_tot == 0.0 {
        if ss_res == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        1.0 - ss_res / ss_tot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn accuracy_by_hand() {
        // 4 of 6 match.
        close(
            accuracy(&[0, 1, 2, 1, 0, 2], &[0, 1, 1, 1, 2, 2]),
            4.0 / 6.0,
        );
        close(accuracy(&[1, 1], &[1, 1]), 1.0);
    }

    #[test]
    fn balanced_accuracy_by_hand() {
        // y = 0 0 0 0 1 1, pred = 0 0 0 1 1 0:
        // recall(0) = 3/4, recall(1) = 1/2, mean = 0.625.
        close(
            balanced_accuracy(&[0, 0, 0, 0, 1, 1], &[0, 0, 0, 1, 1, 0], 2),
            0.625,
        );
        // Class 2 is only predicted, never true: ignored.
        // y = 0 0 1 1, pred = 0 2 1 1: recall(0) = 1/2, recall(1) = 1, mean 0.75.
        close(balanced_accuracy(&[0, 0, 1, 1], &[0, 2, 1, 1], 3), 0.75);
    }

    #[test]
    fn f1_binary_by_hand() {
        // y = 1 1 1 0 0, pred = 1 1 0 1 0: tp 2, fp 1, fn 1 -> 4 / 6.
        close(f1_binary(&[1, 1, 1, 0, 0], &[1, 1, 0, 1, 0]), 4.0 / 6.0);
        // No positive anywhere: undefined -> 0.
        close(f1_binary(&[0, 0], &[0, 0]), 0.0);
        // Positives but none found: tp 0 -> 0.
        close(f1_binary(&[1, 0], &[0, 0]), 0.0);
    }

    #[test]
    fn f1_macro_by_hand() {
        // y = 0 0 1 1 2, pred = 0 1 1 1 0:
        // class 0: tp 1, fp 1, fn 1 -> 2/4 = 0.5
        // class 1: tp 2, fp 1, fn 0 -> 4/5 = 0.8
        // class 2: tp 0, fp 0, fn 1 -> 0
        // mean over 3 = 1.3 / 3.
        close(f1_macro(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 3), 1.3 / 3.0);
        // Class 3 absent from y and pred: not counted even though
        // n_classes = 4. y = 0 1, pred = 0 0: class 0: 2/3, class 1: 0.
        close(f1_macro(&[0, 1], &[0, 0], 4), (2.0 / 3.0) / 2.0);
        // A class only predicted counts (f1 = 0): y = 0 0, pred = 0 1:
        // class 0: tp 1, fn 1 -> 2/3; class 1: fp 1 -> 0; mean 1/3.
        close(f1_macro(&[0, 0], &[0, 1], 2), 1.0 / 3.0);
    }

    #[test]
    fn log_loss_by_hand_with_clipping() {
        // -(ln 0.8 + ln 0.5) / 2
        let p = array![[0.8, 0.2], [0.5, 0.5]];
        close(
            log_loss(&[0, 1], p.view()),
            -(0.8f64.ln() + 0.5f64.ln()) / 2.0,
        );
        // p = 0 for the true class is clipped to 1e-15: -ln(1e-15) = 34.538...
        let p = array![[1.0, 0.0]];
        close(log_loss(&[1], p.view()), -(1e-15f64).ln());
        // p = 1 is clipped to 1 - 1e-15: a tiny positive loss, not 0.
        let loss = log_loss(&[0], p.view());
        assert!(loss > 0.0 && loss < 1e-14, "{loss}");
    }

    #[test]
    fn regression_metrics_by_hand() {
        let y = [3.0, -0.5, 2.0, 7.0];
        let pred = [2.5, 0.0, 2.0, 8.0];
        // errors 0.5, -0.5, 0, -1: squares 0.25 0.25 0 1 -> mean 0.375.
        close(rmse(&y, &pred), 0.375f64.sqrt());
        // |errors| 0.5 0.5 0 1 -> 2 / 4.
        close(mae(&y, &pred), 0.5);
        // mean y = 2.875; SS_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625
        // = 29.1875; SS_res = 1.5; r2 = 1 - 1.5 / 29.1875.
        close(r2(&y, &pred), 1.0 - 1.5 / 29.1875);
    }

    #[test]
    fn r2_constant_truth() {
        close(r2(&[2.0, 2.0], &[2.0, 2.0]), 1.0);
        close(r2(&[2.0, 2.0], &[2.0, 3.0]), 0.0);
    }

    #[test]
    fn metric_names_round_trip_and_directions() {
        assert_eq!(Metric::ALL.len(), 8);
        for &m in Metric::ALL {
            assert_eq!(Metric::parse(m.name()), Some(m));
        }
        assert_eq!(Metric::parse("f1"), Some(Metric::F1));
        assert_eq!(Metric::parse("F1"), None);
        let minimised: Vec<&str> = Metric::ALL
            .iter()
            .filter(|m| !m.maximize())
            .map(|m| m.name())
            .collect();
        assert_eq!(minimised, vec!["log_loss", "rmse", "mae"]);
        assert_eq!(Metric::R2.task(), Task::Regression);
        assert_eq!(Metric::F1Macro.task(), Task::Classification);
        assert!(Metric::LogLoss.needs_proba());
        assert!(!Metric::Accuracy.needs_proba());
        assert_eq!(Metric::BalancedAccuracy.to_string(), "balanced_accuracy");
    }
}
