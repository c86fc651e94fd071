//! The losses of `gradient_boosting`: the baseline (scikit-learn's
//! `fit_intercept_only`) and the link functions from raw predictions to
//! probabilities. It never sees bins or trees.

use crate::objective::models::Targets;

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
/// `fit_intercept_only`): the mean target; the log-odds of class 1; or
/// the log class shares less their mean.
pub(super) fn baseline(y: Targets<'_>, n: usize, k: usize) -> Vec<f64> {
    match y {
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
