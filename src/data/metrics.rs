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

use super::Task;

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
    /// Area under the ROC curve of class index 1's probability (binary
    /// problems); maximise.
    RocAuc,
    /// Unweighted mean over classes of the one-vs-rest ROC AUC of each
    /// class's probability; maximise.
    RocAucOvr,
    /// Mean over classes of the one-vs-rest ROC AUC, weighted by each
    /// class's count in the truth; maximise.
    RocAucOvrWeighted,
    /// Average precision of class index 1's probability (binary); maximise.
    AveragePrecision,
    /// Precision of class index 1 (binary); maximise.
    Precision,
    /// Unweighted mean precision over classes; maximise.
    PrecisionMacro,
    /// Recall of class index 1 (binary); maximise.
    Recall,
    /// Unweighted mean recall over classes; maximise.
    RecallMacro,
    /// Mean F1 over classes weighted by each class's count in the truth;
    /// maximise.
    F1Weighted,
    /// Mean squared difference between class index 1's probability and
    /// the truth (binary); minimise (scikit-learn's `neg_brier_score`
    /// scorer is its negation, maximised).
    BrierScore,
    /// Mean absolute percentage error (a fraction, not percent); minimise.
    Mape,
    /// Median absolute error; minimise.
    MedianAbsoluteError,
    /// Explained variance; maximise.
    ExplainedVariance,
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
        Metric::RocAuc,
        Metric::RocAucOvr,
        Metric::RocAucOvrWeighted,
        Metric::AveragePrecision,
        Metric::Precision,
        Metric::PrecisionMacro,
        Metric::Recall,
        Metric::RecallMacro,
        Metric::F1Weighted,
        Metric::BrierScore,
        Metric::Mape,
        Metric::MedianAbsoluteError,
        Metric::ExplainedVariance,
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
            Metric::RocAuc => "roc_auc",
            Metric::RocAucOvr => "roc_auc_ovr",
            Metric::RocAucOvrWeighted => "roc_auc_ovr_weighted",
            Metric::AveragePrecision => "average_precision",
            Metric::Precision => "precision",
            Metric::PrecisionMacro => "precision_macro",
            Metric::Recall => "recall",
            Metric::RecallMacro => "recall_macro",
            Metric::F1Weighted => "f1_weighted",
            Metric::BrierScore => "brier_score",
            Metric::Mape => "mape",
            Metric::MedianAbsoluteError => "median_absolute_error",
            Metric::ExplainedVariance => "explained_variance",
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
            Metric::Rmse
            | Metric::Mae
            | Metric::R2
            | Metric::Mape
            | Metric::MedianAbsoluteError
            | Metric::ExplainedVariance => Task::Regression,
            _ => Task::Classification,
        }
    }

    /// Whether larger is better (`log_loss`, `brier_score`, `rmse`, `mae`,
    /// `mape` and `median_absolute_error` are minimised).
    pub fn maximize(self) -> bool {
        !matches!(
            self,
            Metric::LogLoss
                | Metric::BrierScore
                | Metric::Rmse
                | Metric::Mae
                | Metric::Mape
                | Metric::MedianAbsoluteError
        )
    }

    /// Whether the metric needs class probabilities (`log_loss`, the
    /// `roc_auc` family, `average_precision`, `brier_score`).
    pub fn needs_proba(self) -> bool {
        matches!(
            self,
            Metric::LogLoss
                | Metric::RocAuc
                | Metric::RocAucOvr
                | Metric::RocAucOvrWeighted
                | Metric::AveragePrecision
                | Metric::BrierScore
        )
    }

    /// Whether the metric is defined for two classes only (class index 1
    /// is the positive class).
    pub fn binary_only(self) -> bool {
        matches!(
            self,
            Metric::F1
                | Metric::RocAuc
                | Metric::AveragePrecision
                | Metric::Precision
                | Metric::Recall
                | Metric::BrierScore
        )
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

/// Per-class scores (`score(tp, fp, fn)`) averaged over the classes that
/// occur in `y` or `pred` (scikit-learn's labels), unweighted, or weighted
/// by each class's count in `y` when `weighted`.
fn averaged(
    y: &[usize],
    pred: &[usize],
    n_classes: usize,
    weighted: bool,
    score: impl Fn(usize, usize, usize) -> f64,
) -> f64 {
    let counts = confusion_counts(y, pred, n_classes);
    let (mut sum, mut total) = (0.0, 0.0);
    for [tp, fp, fneg] in counts {
        if tp + fp + fneg > 0 {
            let w = if weighted { (tp + fneg) as f64 } else { 1.0 };
            sum += w * score(tp, fp, fneg);
            total += w;
        }
    }
    sum / total
}

/// `num / den`, 0 when `den` is 0 (scikit-learn's `zero_division`).
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Binary counts of class index 1: (tp, fp, fn).
fn binary_counts(y: &[usize], pred: &[usize]) -> (usize, usize, usize) {
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    for (&t, &p) in y.iter().zip(pred) {
        match (t == 1, p == 1) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fneg += 1,
            (false, false) => {}
        }
    }
    (tp, fp, fneg)
}

/// Precision of class index 1, `tp / (tp + fp)`; 0 when nothing is
/// predicted positive.
pub fn precision_binary(y: &[usize], pred: &[usize]) -> f64 {
    let (tp, fp, _) = binary_counts(y, pred);
    ratio(tp, tp + fp)
}

/// Recall of class index 1, `tp / (tp + fn)`; 0 when no row is positive.
pub fn recall_binary(y: &[usize], pred: &[usize]) -> f64 {
    let (tp, _, fneg) = binary_counts(y, pred);
    ratio(tp, tp + fneg)
}

/// Unweighted mean of the per-class precision over the classes in `y` or
/// `pred` (scikit-learn's `precision_score(average="macro")`).
pub fn precision_macro(y: &[usize], pred: &[usize], n_classes: usize) -> f64 {
    averaged(y, pred, n_classes, false, |tp, fp, _| ratio(tp, tp + fp))
}

/// Unweighted mean of the per-class recall over the classes in `y` or
/// `pred` (scikit-learn's `recall_score(average="macro")`).
pub fn recall_macro(y: &[usize], pred: &[usize], n_classes: usize) -> f64 {
    averaged(y, pred, n_classes, false, |tp, _, fneg| {
        ratio(tp, tp + fneg)
    })
}

/// Per-class F1 weighted by each class's count in `y` (scikit-learn's
/// `f1_score(average="weighted")`).
pub fn f1_weighted(y: &[usize], pred: &[usize], n_classes: usize) -> f64 {
    averaged(y, pred, n_classes, true, f1_of)
}

/// ROC AUC of `score` for the rows where `positive` holds, against the
/// others: the trapezoid under the ROC curve, which with tied scores is
/// the Mann–Whitney statistic with average ranks,
/// `(sum of positives' ranks - P (P + 1) / 2) / (P N)`. NaN when either
/// side is empty (scikit-learn refuses: undefined).
fn auc_of(positive: impl Fn(usize) -> bool, score: &[f64]) -> f64 {
    let n = score.len();
    let mut order: Vec<usize> = (0..n).collect();
    // Why: total_cmp and index order make the order a pure function of the
    // inputs; ties get one average rank, so their order does not matter.
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    let mut rank_sum = 0.0;
    let mut n_pos = 0usize;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && score[order[j + 1]] == score[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let rank = (i + j + 2) as f64 / 2.0;
        for &r in &order[i..=j] {
            if positive(r) {
                rank_sum += rank;
                n_pos += 1;
            }
        }
        i = j + 1;
    }
    let n_neg = n - n_pos;
    if n_pos == 0 || n_neg == 0 || score.iter().any(|s| s.is_nan()) {
        return f64::NAN;
    }
    let p = n_pos as f64;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * n_neg as f64)
}

/// ROC AUC of the probability of class index 1 (`proba[[i, 1]]`), the
/// positive class.
pub fn roc_auc_binary(y: &[usize], proba: ArrayView2<'_, f64>) -> f64 {
    let score = column(proba, 1, y.len());
    auc_of(|r| y[r] == 1, &score)
}

/// One-vs-rest ROC AUC averaged over the `proba` columns (classes):
/// unweighted, or weighted by each class's count in `y` (scikit-learn's
/// `roc_auc_score(multi_class="ovr", average="macro" | "weighted")`). With
/// two columns, the binary AUC of column 1, as scikit-learn. NaN when a
/// class has no row in `y` (undefined).
pub fn roc_auc_ovr(y: &[usize], proba: ArrayView2<'_, f64>, weighted: bool) -> f64 {
    let k = proba.ncols();
    if k == 2 {
        return roc_auc_binary(y, proba);
    }
    let (mut sum, mut total) = (0.0, 0.0);
    for c in 0..k {
        let score = column(proba, c, y.len());
        let auc = auc_of(|r| y[r] == c, &score);
        let w = if weighted {
            y.iter().filter(|&&t| t == c).count() as f64
        } else {
            1.0
        };
        sum += w * auc;
        total += w;
    }
    sum / total
}

/// Column `c` of `proba` for `n` rows (NaN where absent).
fn column(proba: ArrayView2<'_, f64>, c: usize, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| proba.get((i, c)).copied().unwrap_or(f64::NAN))
        .collect()
}

/// Average precision of the probability of class index 1:
/// `sum over thresholds of (R_t - R_(t-1)) P_t`, a threshold at each
/// distinct score from the highest down (scikit-learn's
/// `average_precision_score`, no interpolation). NaN without a positive.
pub fn average_precision(y: &[usize], proba: ArrayView2<'_, f64>) -> f64 {
    let score = column(proba, 1, y.len());
    if score.iter().any(|s| s.is_nan()) {
        return f64::NAN;
    }
    let n_pos = y.iter().filter(|&&t| t == 1).count();
    if n_pos == 0 {
        return f64::NAN;
    }
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let (mut tp, mut fp, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && score[order[j + 1]] == score[order[i]] {
            j += 1;
        }
        for &r in &order[i..=j] {
            if y[r] == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        let recall = tp as f64 / n_pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - last_recall) * precision;
        last_recall = recall;
        i = j + 1;
    }
    ap
}

/// Mean over rows of `(p - [y == 1])^2`, `p` the probability of class
/// index 1 (scikit-learn's `brier_score_loss`, binary).
pub fn brier_score(y: &[usize], proba: ArrayView2<'_, f64>) -> f64 {
    let score = column(proba, 1, y.len());
    let sum: f64 = y
        .iter()
        .zip(&score)
        .map(|(&t, &p)| {
            let d = p - if t == 1 { 1.0 } else { 0.0 };
            d * d
        })
        .sum();
    sum / y.len() as f64
}

/// Mean of `|y - pred| / max(|y|, f64::EPSILON)` (scikit-learn's
/// `mean_absolute_percentage_error`: a fraction, large when `y` is near 0).
pub fn mape(y: &[f64], pred: &[f64]) -> f64 {
    let sum: f64 = y
        .iter()
        .zip(pred)
        .map(|(a, b)| (a - b).abs() / a.abs().max(f64::EPSILON))
        .sum();
    sum / y.len() as f64
}

/// Median of `|y - pred|` (the mean of the two middle ones for an even
/// count).
pub fn median_absolute_error(y: &[f64], pred: &[f64]) -> f64 {
    let mut errors: Vec<f64> = y.iter().zip(pred).map(|(a, b)| (a - b).abs()).collect();
    if errors.is_empty() || errors.iter().any(|e| e.is_nan()) {
        return f64::NAN;
    }
    errors.sort_by(f64::total_cmp);
    let n = errors.len();
    if n % 2 == 1 {
        errors[n / 2]
    } else {
        (errors[n / 2 - 1] + errors[n / 2]) / 2.0
    }
}

/// `1 - Var(y - pred) / Var(y)`. When the truth is constant, 1.0 if the
/// residual variance is 0 too and 0.0 otherwise (scikit-learn's
/// `force_finite`).
pub fn explained_variance(y: &[f64], pred: &[f64]) -> f64 {
    let n = y.len() as f64;
    let diff: Vec<f64> = y.iter().zip(pred).map(|(a, b)| a - b).collect();
    let diff_mean = diff.iter().sum::<f64>() / n;
    let num: f64 = diff
        .iter()
        .map(|d| (d - diff_mean) * (d - diff_mean))
        .sum::<f64>()
        / n;
    let mean = y.iter().sum::<f64>() / n;
    let den: f64 = y.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / n;
    if den == 0.0 {
        if num == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        1.0 - num / den
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

    /// The truths and scores of `scripts/sklearn_metric_refs.py` (rows of
    /// the shipped breast_cancer, wine and diabetes data), and the values
    /// scikit-learn 1.9.1 gives them, printed by that script.
    #[test]
    #[rustfmt::skip]
    fn matches_scikit_learn_on_shipped_data() {
        let yb: [usize; 57] = [0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
        let p1: [f64; 57] = [0.1, 0.3, 0.6, 0.1, 0.6, 0.8, 0.9, 0.1, 0.8, 0.4, 0.5, 0.9, 0.8, 0.7, 0.9, 0.6, 0.8, 0.7, 0.0, 0.5, 0.7, 0.0, 0.5, 0.2, 0.5, 0.0, 0.0, 0.5, 0.1, 0.4, 0.1, 0.8, 0.9, 0.3, 0.4, 0.8, 0.7, 0.2, 0.8, 0.9, 0.1, 0.8, 0.8, 0.4, 0.8, 0.7, 0.2, 0.9, 0.7, 0.7, 0.4, 0.8, 0.9, 0.8, 0.8, 0.8, 0.5];
        let predb: [usize; 57] = [0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1];
        let yw: [usize; 30] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2];
        let pw: [[f64; 3]; 30] = [[0.4403191920673926, 0.37148181041940453, 0.18819899751320285], [0.5751190045666038, 0.24094699796493854, 0.18393399746845757], [0.37152128368797477, 0.3752551346643634, 0.2532235816476618], [0.2309674946283805, 0.4840929746854094, 0.28493953068621014], [0.3915759054386126, 0.4371075961611998, 0.17131649840018753], [0.29403537050254175, 0.4945756231747313, 0.2113890063227269], [0.3055090166638767, 0.4557658964112701, 0.23872508692485322], [0.2825335096643564, 0.5576866033353888, 0.15977988700025494], [0.41289616240788163, 0.34487986486533434, 0.242223972726784], [0.3422577687034939, 0.4016432122549505, 0.2560990190415557], [0.32430069969510655, 0.2551039657435484, 0.42059533456134496], [0.19665740696113793, 0.5733309727731354, 0.2300116202657266], [0.5006077477543976, 0.2613401605290273, 0.238052091716575], [0.24774591511946975, 0.4167154793309015, 0.3355386055496287], [0.14487169157358354, 0.5701209121880858, 0.2850073962383306], [0.2653900847188276, 0.40391350618442784, 0.3306964090967447], [0.25740945876853527, 0.30817507346947803, 0.4344154677619867], [0.2348744456119597, 0.507273901509151, 0.2578516528788894], [0.2238279539836516, 0.5082013331550914, 0.267970712861257], [0.17165760072320976, 0.575651129518672, 0.25269126975811806], [0.06902631211782248, 0.7165784751480795, 0.214395212734098], [0.12419744436568556, 0.6935841632505126, 0.18221839238380186], [0.3038829551972502, 0.14791571399004447, 0.5482013308127052], [0.48830035762692486, 0.06542671775873514, 0.44627292461434004], [0.11215550925994905, 0.07009744768786962, 0.8177470430521814], [0.265004456931419, 0.10455849174730256, 0.6304370513212784], [0.3251777583446066, 0.043570136872366785, 0.6312521047830266], [0.3387767998790943, 0.09706117823030523, 0.5641620218906006], [0.2927445172610457, 0.0513826349480881, 0.6558728477908662], [0.3452258132364872, 0.06630058588559287, 0.5884736008779199]];
        let predw: [usize; 30] = [0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 2, 1, 1, 1, 1, 1, 2, 0, 2, 2, 2, 2, 2, 2];
        let yr: [f64; 30] = [151.0, 171.0, 129.0, 53.0, 61.0, 42.0, 98.0, 53.0, 200.0, 272.0, 288.0, 59.0, 107.0, 122.0, 191.0, 208.0, 275.0, 153.0, 202.0, 233.0, 275.0, 97.0, 244.0, 139.0, 281.0, 217.0, 277.0, 281.0, 146.0, 64.0];
        let pr: [f64; 30] = [207.5, 135.7, 192.0, 120.2, 148.4, 124.1, 129.0, 123.1, 156.1, 202.7, 215.3, 92.1, 156.1, 174.5, 164.8, 181.3, 219.2, 93.1, 179.4, 133.8, 218.2, 133.8, 179.4, 149.3, 170.7, 149.3, 214.3, 262.8, 119.3, 130.9];
        let near = |name: &str, got: f64, want: f64| {
            assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{name}: {got} != scikit-learn's {want}");
        };
        let binary = ndarray::Array2::from_shape_fn((p1.len(), 2), |(i, c)| if c == 1 { p1[i] } else { 1.0 - p1[i] });
        near("roc_auc", roc_auc_binary(&yb, binary.view()), 0.9681440443213296);
        near("roc_auc_ovr on two classes", roc_auc_ovr(&yb, binary.view(), true), 0.9681440443213296);
        near("average_precision", average_precision(&yb, binary.view()), 0.9797422938339747);
        near("brier_score", brier_score(&yb, binary.view()), 0.09473684210526316);
        near("precision", precision_binary(&yb, &predb), 0.918918918918919);
        near("recall", recall_binary(&yb, &predb), 0.8947368421052632);
        near("f1_weighted (binary)", f1_weighted(&yb, &predb, 2), 0.877948717948718);
        let multi = ndarray::Array2::from_shape_fn((pw.len(), 3), |(i, c)| pw[i][c]);
        near("roc_auc_ovr", roc_auc_ovr(&yw, multi.view(), false), 0.8648148148148148);
        near("roc_auc_ovr_weighted", roc_auc_ovr(&yw, multi.view(), true), 0.8527777777777777);
        near("precision_macro", precision_macro(&yw, &predw, 3), 0.6467592592592593);
        near("recall_macro", recall_macro(&yw, &predw, 3), 0.6416666666666667);
        near("f1_weighted", f1_weighted(&yw, &predw, 3), 0.6100840336134453);
        near("mape", mape(&yr, &pr), 0.46955120379504006);
        near("median_absolute_error", median_absolute_error(&yr, &pr), 56.650000000000006);
        near("explained_variance", explained_variance(&yr, &pr), 0.4768967398439601);
    }

    #[test]
    fn roc_auc_by_hand_with_ties() {
        // y = 0 0 1 1, p1 = 0.1 0.4 0.35 0.8: pairs (pos, neg) ordered
        // right: (0.35>0.1), (0.8>0.1), (0.8>0.4) = 3 of 4.
        let p = ndarray::array![[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]];
        close(roc_auc_binary(&[0, 0, 1, 1], p.view()), 0.75);
        // A tie between a positive and a negative counts one half:
        // y = 0 1, both 0.5 -> 0.5.
        let p = ndarray::array![[0.5, 0.5], [0.5, 0.5]];
        close(roc_auc_binary(&[0, 1], p.view()), 0.5);
        // One class only: undefined.
        assert!(roc_auc_binary(&[1, 1], p.view()).is_nan());
    }

    #[test]
    fn average_precision_and_brier_by_hand() {
        // Scores 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg):
        // thresholds give (R, P) = (1/2, 1), (1/2, 1/2), (1, 2/3), (1, 1/2);
        // AP = 1/2 * 1 + 1/2 * 2/3.
        let p = ndarray::array![[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]];
        close(average_precision(&[0, 0, 1, 1], p.view()), 0.5 + 1.0 / 3.0);
        // Brier: (0.1^2 + 0.4^2 + 0.65^2 + 0.2^2) / 4.
        close(
            brier_score(&[0, 0, 1, 1], p.view()),
            (0.01 + 0.16 + 0.4225 + 0.04) / 4.0,
        );
    }

    #[test]
    fn precision_recall_by_hand() {
        // y = 1 1 1 0 0, pred = 1 1 0 1 0: tp 2, fp 1, fn 1.
        close(
            precision_binary(&[1, 1, 1, 0, 0], &[1, 1, 0, 1, 0]),
            2.0 / 3.0,
        );
        close(recall_binary(&[1, 1, 1, 0, 0], &[1, 1, 0, 1, 0]), 2.0 / 3.0);
        // Nothing predicted positive: 0 (zero_division).
        close(precision_binary(&[1, 0], &[0, 0]), 0.0);
        // y = 0 0 1 1 2, pred = 0 1 1 1 0: precision 1/2, 2/3, 0 (class 2
        // never predicted); recall 1/2, 1, 0.
        close(
            precision_macro(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 3),
            (0.5 + 2.0 / 3.0) / 3.0,
        );
        close(
            recall_macro(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 3),
            1.5 / 3.0,
        );
        // f1 0.5, 0.8, 0 weighted by support 2, 2, 1 over 5.
        close(
            f1_weighted(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 3),
            (1.0 + 1.6) / 5.0,
        );
    }

    #[test]
    fn new_regression_metrics_by_hand() {
        let y = [3.0, -0.5, 2.0, 7.0];
        let pred = [2.5, 0.0, 2.0, 8.0];
        // |e| / |y| = 0.5/3, 0.5/0.5, 0, 1/7.
        close(mape(&y, &pred), (0.5 / 3.0 + 1.0 + 1.0 / 7.0) / 4.0);
        // |e| sorted 0, 0.5, 0.5, 1: median 0.5; odd count takes the middle.
        close(median_absolute_error(&y, &pred), 0.5);
        close(
            median_absolute_error(&[1.0, 2.0, 3.0], &[1.0, 0.0, 3.5]),
            0.5,
        );
        // e = 0.5 -0.5 0 -1, mean -0.25, Var(e) = (0.5625 + 0.0625 + 0.0625
        // + 0.5625) / 4 = 0.3125; Var(y) = 29.1875 / 4.
        close(
            explained_variance(&y, &pred),
            1.0 - 0.3125 / (29.1875 / 4.0),
        );
        close(explained_variance(&[2.0, 2.0], &[1.0, 1.0]), 1.0);
        close(explained_variance(&[2.0, 2.0], &[1.0, 3.0]), 0.0);
    }

    #[test]
    fn metric_names_round_trip_and_directions() {
        assert_eq!(Metric::ALL.len(), 21);
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
        assert_eq!(
            minimised,
            vec![
                "log_loss",
                "rmse",
                "mae",
                "brier_score",
                "mape",
                "median_absolute_error"
            ]
        );
        assert_eq!(Metric::R2.task(), Task::Regression);
        assert_eq!(Metric::F1Macro.task(), Task::Classification);
        assert!(Metric::LogLoss.needs_proba());
        assert!(!Metric::Accuracy.needs_proba());
        assert_eq!(Metric::BalancedAccuracy.to_string(), "balanced_accuracy");
    }
}
