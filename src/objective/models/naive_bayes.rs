//! `gaussian_nb`: Gaussian naive Bayes with scikit-learn's
//! `GaussianNB(var_smoothing)` meaning, fitted and evaluated here.
//!
//! Each class gets the mean and population variance of every feature over
//! its rows, plus `var_smoothing · max_j Var(x_j)` (the largest feature
//! variance over all training rows), and the prior `count / n`, exactly as
//! scikit-learn computes them. The fitted [`GaussianNb`] holds these numbers
//! itself, so it serialises into a model file.
//!
//! Predictions come from the joint log-likelihood
//! `log prior − ½·Σ_j [log(2π·σ²_j) + (x_j − μ_j)²/σ²_j]`, class by class
//! in ascending class order; the probabilities are its softmax, shifted by
//! the row maximum (so that rows far from the data do not underflow to
//! 0/0). The label is the first class of largest log-likelihood.
//!
//! Classes absent from the training rows get probability 0. One class alone
//! is accepted, as scikit-learn accepts it: every row gets that class.
//!
//! # Determinism and bits
//!
//! No randomness (the seed is unused), single-threaded. Every number is
//! computed with the same ndarray operations, in the same order and on
//! arrays of the same layout, as linfa-bayes 0.8.1 (which this model used
//! before), so a fit predicts the same bits as it did: means by
//! `mean_axis`, variances by `var_axis` (Welford, ddof 0), the
//! normalising term by `Array1::sum`, the per-row sum by `sum_axis` over
//! the features.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::{
    check_width, wrong_task, Fitted, HyperParam, ModelError, ModelInfo, Prediction, Reader,
    Targets, Task,
};
use crate::value::Params;

const NAME: &str = "gaussian_nb";

/// The registry entry for `gaussian_nb`.
pub const INFO: ModelInfo = ModelInfo {
    name: NAME,
    summary: "Gaussian naive Bayes (per-class feature means and variances), as scikit-learn's \
              GaussianNB",
    tasks: &[Task::Classification],
    probabilities: true,
    missing_values: false,
    params: &[HyperParam {
        floats: Some((0.0, f64::MAX)),
        ..HyperParam::new(
            "var_smoothing",
            "1e-9",
            "share of the largest feature variance added to every variance",
        )
    }],
};

fn fit_error(message: String) -> ModelError {
    ModelError::Fit {
        model: NAME,
        message,
    }
}

/// Train a Gaussian naive Bayes model on `x` and class indices `y`.
///
/// Errors: regression targets, no rows or no columns, a row count that
/// differs from `y`, a non-finite feature, a label `>= n_classes`, an
/// invalid `var_smoothing`, or a zero variance (every feature constant, or
/// `var_smoothing = 0` with a feature constant within a class). `seed` is
/// unused.
pub fn fit(
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    _seed: u64,
) -> Result<Fitted, ModelError> {
    let (labels, n_classes) = match y {
        Targets::Classes { y, n_classes } => (y, n_classes),
        Targets::Values(_) => return Err(wrong_task(NAME, &y)),
    };
    let r = Reader {
        model: NAME,
        params,
    };
    let smoothing = r.f64("var_smoothing", 1e-9)?;
    if !(smoothing >= 0.0 && smoothing.is_finite()) {
        return Err(ModelError::Param {
            model: NAME,
            name: "var_smoothing".into(),
            message: format!("must be a finite number >= 0 (got {smoothing})"),
        });
    }
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return Err(fit_error(format!(
            "needs at least one row and one column (got {n} × {d})"
        )));
    }
    if labels.len() != n {
        return Err(fit_error(format!("{n} rows but {} targets", labels.len())));
    }
    if let Some(&bad) = labels.iter().find(|&&c| c >= n_classes) {
        return Err(fit_error(format!(
            "label {bad} out of range for {n_classes} classes"
        )));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(fit_error("features contain NaN or infinity".into()));
    }
    // The largest feature variance over all rows; `var_axis` works element
    // by element, so the layout of `x` does not change its bits.
    let mut largest = f64::NEG_INFINITY;
    for &v in x.var_axis(Axis(0), 0.0).iter() {
        if v.is_nan() {
            return Err(fit_error("a feature variance is NaN".into()));
        }
        largest = largest.max(v);
    }
    let epsilon = smoothing * largest;
    let mut classes = Vec::new();
    let mut priors = Vec::new();
    let mut means = Vec::with_capacity(n_classes * d);
    let mut variances = Vec::with_capacity(n_classes * d);
    for c in 0..n_classes {
        let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        if rows.is_empty() {
            continue;
        }
        // A fresh row-major copy of the class's rows: its layout, and so
        // the order of `mean_axis`'s sums, never depends on `x`'s.
        let mut xc = Array2::<f64>::zeros((rows.len(), d));
        for (i, &r) in rows.iter().enumerate() {
            xc.row_mut(i).assign(&x.row(r));
        }
        let Some(mean) = xc.mean_axis(Axis(0)) else {
            continue;
        };
        let var = xc.var_axis(Axis(0), 0.0);
        classes.push(c);
        priors.push(rows.len() as f64 / n as f64);
        means.extend(mean.iter().copied());
        variances.extend(var.iter().map(|v| v + epsilon));
    }
    let fitted = GaussianNb {
        n_features: d,
        n_classes,
        classes,
        priors,
        means,
        variances,
    };
    // A zero variance makes log-likelihoods NaN or infinite: refuse it
    // here rather than return NaN probabilities later.
    if fitted.log_likelihoods(x).iter().any(|v| !v.is_finite()) {
        return Err(fit_error(
            "a feature has zero variance within a class; raise var_smoothing".into(),
        ));
    }
    Ok(Fitted::GaussianNb(fitted))
}

/// A fitted Gaussian naive Bayes model. Serialisable; a deserialised model
/// is checked (shapes, class indices, positive finite variances, priors in
/// (0, 1]) before it exists, so prediction cannot index out of bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GaussianNbWire")]
pub struct GaussianNb {
    n_features: usize,
    /// Columns of the probability matrix.
    n_classes: usize,
    /// The classes seen in training, ascending.
    classes: Vec<usize>,
    /// `count / n` of each class in `classes`.
    priors: Vec<f64>,
    /// Per-class feature means, `classes.len() × n_features`, row-major.
    means: Vec<f64>,
    /// Per-class feature variances with the smoothing added, same shape.
    variances: Vec<f64>,
}

/// The unchecked form a model is read into.
#[derive(Deserialize)]
struct GaussianNbWire {
    n_features: usize,
    n_classes: usize,
    classes: Vec<usize>,
    priors: Vec<f64>,
    means: Vec<f64>,
    variances: Vec<f64>,
}

impl TryFrom<GaussianNbWire> for GaussianNb {
    type Error = String;
    fn try_from(w: GaussianNbWire) -> Result<Self, String> {
        let k = w.classes.len();
        if k == 0 || w.classes.windows(2).any(|p| p[0] >= p[1]) {
            return Err("classes must be at least one, ascending".into());
        }
        if w.classes.iter().any(|&c| c >= w.n_classes) {
            return Err(format!("classes must be below {}", w.n_classes));
        }
        let cells = k.checked_mul(w.n_features);
        if w.priors.len() != k || cells != Some(w.means.len()) || cells != Some(w.variances.len()) {
            return Err(format!(
                "priors, means and variances do not fit {k} classes × {} features",
                w.n_features
            ));
        }
        if w.priors.iter().any(|p| !(*p > 0.0 && *p <= 1.0))
            || w.means.iter().any(|m| !m.is_finite())
            || w.variances.iter().any(|v| !(v.is_finite() && *v > 0.0))
        {
            return Err("priors must be in (0, 1], means finite, variances > 0".into());
        }
        Ok(GaussianNb {
            n_features: w.n_features,
            n_classes: w.n_classes,
            classes: w.classes,
            priors: w.priors,
            means: w.means,
            variances: w.variances,
        })
    }
}

impl GaussianNb {
    /// The number of feature columns the model was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Joint log-likelihoods, `rows × classes.len()`, columns in `classes`
    /// order. `x` must have the training width.
    fn log_likelihoods(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let d = self.n_features;
        let mut out = Array2::zeros((x.nrows(), self.classes.len()));
        for (j, prior) in self.priors.iter().enumerate() {
            let mean = Array1::from(self.means[j * d..(j + 1) * d].to_vec());
            let var = Array1::from(self.variances[j * d..(j + 1) * d].to_vec());
            // −½·Σ_j log(2π·σ²_j), summed by `Array1::sum`.
            let log_norm = -0.5
                * var
                    .mapv(|v| 2.0 * std::f64::consts::PI * v)
                    .mapv(f64::ln)
                    .sum();
            // Σ_j (x_j − μ_j)²/σ²_j per row, summed by `sum_axis`.
            let dist = ((x.to_owned() - &mean).mapv(|v| v.powi(2)) / &var).sum_axis(Axis(1));
            let log_prior = prior.ln();
            for (o, s) in out.column_mut(j).iter_mut().zip(dist.iter()) {
                *o = (log_norm - s * 0.5) + log_prior;
            }
        }
        out
    }

    /// Class indices and probabilities (`rows × n_classes`). Errors when
    /// `x` does not have the training width.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        check_width(NAME, self.n_features, &x)?;
        let jll = self.log_likelihoods(x);
        let n = x.nrows();
        let mut proba = Array2::zeros((n, self.n_classes));
        let mut labels = Vec::with_capacity(n);
        for (i, row) in jll.rows().into_iter().enumerate() {
            let mut best = 0;
            for j in 1..row.len() {
                if row[j] > row[best] {
                    best = j; // first maximum wins ties
                }
            }
            let max = row[best];
            let mut sum = 0.0;
            for &v in row.iter() {
                sum += (v - max).exp();
            }
            for (j, &c) in self.classes.iter().enumerate() {
                proba[[i, c]] = (row[j] - max).exp() / sum;
            }
            labels.push(self.classes[best]);
        }
        Ok(Prediction::Classes {
            labels,
            proba: Some(proba),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use ndarray::array;
    use std::f64::consts::PI;

    fn smoothing(v: f64) -> Params {
        [("var_smoothing".to_string(), Value::Float(v))]
            .into_iter()
            .collect()
    }

    fn classes(p: Result<Prediction, ModelError>) -> (Vec<usize>, Array2<f64>) {
        match p.unwrap() {
            Prediction::Classes {
                labels,
                proba: Some(proba),
            } => (labels, proba),
            other => panic!("expected classes with probabilities, got {other:?}"),
        }
    }

    // Class 0: rows (1,2), (3,4): means (2,3), variances (1,1), prior 2/5.
    // Class 1: rows (5,0), (7,2), (9,4): means (7,2), variances (8/3, 8/3),
    // prior 3/5. Over all rows the variances are 8 and 2.24.
    fn toy() -> (Array2<f64>, [usize; 5]) {
        (
            array![[1.0, 2.0], [5.0, 0.0], [3.0, 4.0], [7.0, 2.0], [9.0, 4.0]],
            [0, 1, 0, 1, 1],
        )
    }

    /// log prior + Σ_j log N(x_j; mean_j, var) with one variance for both features.
    fn log_joint(prior: f64, mean: [f64; 2], var: f64, x: [f64; 2]) -> f64 {
        let mut v = prior.ln();
        for j in 0..2 {
            v -= 0.5 * ((2.0 * PI * var).ln() + (x[j] - mean[j]).powi(2) / var);
        }
        v
    }

    fn check_posterior(var_smoothing: f64, extra: f64) {
        let (x, y) = toy();
        let t = Targets::Classes {
            y: &y,
            n_classes: 2,
        };
        let m = fit(x.view(), t, &smoothing(var_smoothing), 0).unwrap();
        let q = [4.0, 3.0];
        let l0 = log_joint(0.4, [2.0, 3.0], 1.0 + extra, q);
        let l1 = log_joint(0.6, [7.0, 2.0], 8.0 / 3.0 + extra, q);
        let p0 = 1.0 / (1.0 + (l1 - l0).exp());
        let (labels, proba) = classes(m.predict(array![[4.0, 3.0]].view()));
        assert!(
            (proba[[0, 0]] - p0).abs() < 1e-12,
            "{} vs {p0}",
            proba[[0, 0]]
        );
        assert!((proba[[0, 1]] - (1.0 - p0)).abs() < 1e-12);
        assert_eq!(labels, [usize::from(p0 < 0.5)]);
    }

    #[test]
    fn toy_posterior_matches_hand_computed_means_and_variances() {
        check_posterior(0.0, 0.0);
    }

    #[test]
    fn var_smoothing_adds_a_share_of_the_largest_variance() {
        // The largest feature variance over all rows is 8.
        check_posterior(0.5, 4.0);
    }

    #[test]
    fn the_model_holds_hand_computed_parameters() {
        let (x, y) = toy();
        let t = Targets::Classes {
            y: &y,
            n_classes: 3,
        };
        let Fitted::GaussianNb(m) = fit(x.view(), t, &smoothing(0.5), 0).unwrap() else {
            panic!()
        };
        assert_eq!(m.n_features(), 2);
        assert_eq!(m.classes, [0, 1]);
        assert_eq!(m.priors, [0.4, 0.6]);
        assert_eq!(m.means, [2.0, 3.0, 7.0, 2.0]);
        // Within-class variances plus 0.5 · 8 (the largest overall variance).
        let want = [5.0, 5.0, 8.0 / 3.0 + 4.0, 8.0 / 3.0 + 4.0];
        for (v, w) in m.variances.iter().zip(want) {
            assert!((v - w).abs() < 1e-12, "{v} vs {w}");
        }
    }

    #[test]
    fn predicting_another_width_is_an_error() {
        let (x, y) = toy();
        let t = Targets::Classes {
            y: &y,
            n_classes: 2,
        };
        let m = fit(x.view(), t, &Params::new(), 0).unwrap();
        let e = m.predict(array![[1.0]].view()).err().unwrap();
        assert_eq!(
            e.to_string(),
            "gaussian_nb: trained on 2 feature columns, asked to predict rows of 1"
        );
        assert!(m.predict(Array2::zeros((1, 3)).view()).is_err());
    }

    #[test]
    fn a_damaged_model_file_is_refused() {
        let (x, y) = toy();
        let t = Targets::Classes {
            y: &y,
            n_classes: 2,
        };
        let Fitted::GaussianNb(m) = fit(x.view(), t, &Params::new(), 0).unwrap() else {
            panic!()
        };
        let good = serde_json::to_value(&m).unwrap();
        assert_eq!(
            serde_json::from_value::<GaussianNb>(good.clone()).unwrap(),
            m
        );
        let cases = [
            ("variances", serde_json::json!([1.0, 1.0, 0.0, 1.0])),
            ("variances", serde_json::json!([1.0, 1.0, 1.0])),
            ("means", serde_json::json!([1.0])),
            ("priors", serde_json::json!([0.4, 0.0])),
            ("classes", serde_json::json!([1, 0])),
            ("n_classes", serde_json::json!(1)),
        ];
        for (field, bad) in cases {
            let mut v = good.clone();
            v[field] = bad;
            assert!(serde_json::from_value::<GaussianNb>(v).is_err(), "{field}");
        }
    }

    #[test]
    fn far_rows_get_finite_probabilities() {
        let (x, y) = toy();
        let m = fit(
            x.view(),
            Targets::Classes {
                y: &y,
                n_classes: 2,
            },
            &Params::new(),
            0,
        )
        .unwrap();
        let (labels, proba) = classes(m.predict(array![[1e4, 1e4], [-1e4, 3.0]].view()));
        for row in proba.rows() {
            assert!(row.iter().all(|p| p.is_finite()));
            assert!((row.sum() - 1.0).abs() < 1e-12);
        }
        // The wider class 1 wins far away.
        assert_eq!(labels, [1, 1]);
    }

    #[test]
    fn absent_class_has_zero_probability_and_one_class_is_accepted() {
        let (x, y) = toy();
        let t = Targets::Classes {
            y: &y,
            n_classes: 3,
        };
        let (_, proba) = classes(
            fit(x.view(), t, &Params::new(), 0)
                .unwrap()
                .predict(x.view()),
        );
        assert_eq!(proba.dim(), (5, 3));
        assert!(proba.column(2).iter().all(|&p| p == 0.0));
        let t = Targets::Classes {
            y: &[2; 5],
            n_classes: 3,
        };
        let (labels, proba) = classes(
            fit(x.view(), t, &Params::new(), 0)
                .unwrap()
                .predict(x.view()),
        );
        assert_eq!(labels, [2; 5]);
        assert!(proba.column(2).iter().all(|&p| p == 1.0));
    }

    #[test]
    fn zero_variance_is_an_error_not_nan() {
        // Feature 1 is constant within class 0; without smoothing its variance is 0.
        let x = array![[1.0, 2.0], [3.0, 2.0], [5.0, 0.0], [7.0, 4.0]];
        let t = Targets::Classes {
            y: &[0, 0, 1, 1],
            n_classes: 2,
        };
        assert!(fit(x.view(), t, &smoothing(0.0), 0).is_err());
        assert!(fit(x.view(), t, &Params::new(), 0).is_ok());
        // Every feature constant: even smoothing adds nothing.
        let flat = array![[1.0], [1.0], [1.0], [1.0]];
        let e = fit(flat.view(), t, &Params::new(), 0).err().unwrap();
        assert!(e.to_string().contains("zero variance"), "{e}");
    }

    #[test]
    fn bad_input_is_an_error() {
        let (x, y) = toy();
        let e = fit(x.view(), Targets::Values(&[0.0; 5]), &Params::new(), 0)
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "gaussian_nb: does not support regression");
        assert!(fit(
            x.view(),
            Targets::Classes {
                y: &y,
                n_classes: 1
            },
            &Params::new(),
            0
        )
        .is_err());
        assert!(fit(
            x.view(),
            Targets::Classes {
                y: &y[..4],
                n_classes: 2
            },
            &Params::new(),
            0
        )
        .is_err());
        assert!(fit(
            x.view(),
            Targets::Classes {
                y: &y,
                n_classes: 2
            },
            &smoothing(-1.0),
            0
        )
        .is_err());
        let nan = array![[f64::NAN]];
        assert!(fit(
            nan.view(),
            Targets::Classes {
                y: &[0],
                n_classes: 1
            },
            &Params::new(),
            0
        )
        .is_err());
    }

    #[test]
    fn two_fits_are_bit_identical() {
        let x = Array2::from_shape_fn((60, 3), |(i, j)| {
            ((i * 7 + j * 13) % 11) as f64 + 0.1 * j as f64
        });
        let y: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let t = Targets::Classes {
            y: &y,
            n_classes: 3,
        };
        let (la, a) = classes(
            fit(x.view(), t, &Params::new(), 1)
                .unwrap()
                .predict(x.view()),
        );
        let (lb, b) = classes(
            fit(x.view(), t, &Params::new(), 2)
                .unwrap()
                .predict(x.view()),
        );
        assert_eq!(la, lb);
        assert!(a
            .iter()
            .zip(b.iter())
            .all(|(p, q)| p.to_bits() == q.to_bits()));
    }
}
