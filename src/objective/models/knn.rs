//! k-nearest neighbours, brute force, for classification and regression
//! (linfa has no KNN classifier; this one is written here).
//!
//! Fitting stores the training rows; prediction measures the distance from
//! each query row to every training row. Parameters follow scikit-learn's
//! `KNeighborsClassifier` / `KNeighborsRegressor`: `n_neighbors`, `weights`
//! (`"uniform"` or `"distance"`) and `p` (1 Manhattan, 2 Euclidean).
//!
//! Determinism: neighbours are ordered by distance with ties broken by
//! training row index, and every sum (over features, neighbours and classes)
//! runs in a fixed order, so predictions are the same bits on every run.
//! The seed is unused: nothing here is random.
//!
//! `n_neighbors` larger than the number of training rows is an error (the
//! trial fails with a message), as in scikit-learn, rather than a silent
//! clamp that would make every larger `k` the same model.

use std::cmp::Ordering;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::{
    check_width, Fitted, HyperParam, ModelError, ModelInfo, Prediction, Reader, Targets, Task,
};
use crate::value::Params;

const NAME: &str = "knn";

/// The model's registry entry.
pub const INFO: ModelInfo = ModelInfo {
    name: NAME,
    summary: "k-nearest neighbours (brute force): majority or distance-weighted vote, or mean",
    tasks: &[Task::Classification, Task::Regression],
    probabilities: true,
    missing_values: false,
    params: &[
        HyperParam {
            ints: Some((1, i64::MAX)),
            ..HyperParam::new(
                "n_neighbors",
                "5",
                "number of neighbours; more than the training rows is an error",
            )
        },
        HyperParam {
            choices: &["uniform", "distance"],
            ..HyperParam::new(
                "weights",
                "uniform",
                "uniform: every neighbour counts once; distance: weight 1/d, exact matches alone when any",
            )
        },
        HyperParam {
            ints: Some((1, 2)),
            ..HyperParam::new("p", "2", "Minkowski power: 1 Manhattan, 2 Euclidean")
        },
    ],
};

/// How neighbours are weighted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// Every neighbour counts once.
    Uniform,
    /// Weight `1/d`; exact matches alone when any.
    Distance,
}

/// The distance between rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// `p = 1`.
    Manhattan,
    /// `p = 2`.
    Euclidean,
}

/// Training targets, owned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stored {
    /// Class indices below `n_classes`.
    Classes {
        /// One class index per training row.
        y: Vec<usize>,
        /// Columns of the probability matrix.
        n_classes: usize,
    },
    /// One value per training row.
    Values(Vec<f64>),
}

/// A fitted k-nearest-neighbours model: the training rows and targets.
/// Serialisable; a deserialised model is checked (shapes, `k`, class
/// indices, finite rows) before it exists, so prediction cannot index out
/// of bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "KnnWire")]
pub struct Knn {
    /// Training rows, row-major, `n_rows * n_features`.
    x: Vec<f64>,
    n_features: usize,
    y: Stored,
    k: usize,
    weights: Weights,
    metric: Metric,
}

/// The unchecked form a model is read into.
#[derive(Deserialize)]
struct KnnWire {
    x: Vec<f64>,
    n_features: usize,
    y: Stored,
    k: usize,
    weights: Weights,
    metric: Metric,
}

impl TryFrom<KnnWire> for Knn {
    type Error = String;
    fn try_from(w: KnnWire) -> Result<Self, String> {
        let m = Knn {
            x: w.x,
            n_features: w.n_features,
            y: w.y,
            k: w.k,
            weights: w.weights,
            metric: w.metric,
        };
        let n_rows = m.y_len();
        if n_rows.checked_mul(m.n_features) != Some(m.x.len()) {
            return Err(format!(
                "{} stored numbers do not make {n_rows} rows of {} features",
                m.x.len(),
                m.n_features
            ));
        }
        if m.k == 0 || m.k > n_rows {
            return Err(format!("k = {} with {n_rows} training rows", m.k));
        }
        if m.x.iter().any(|v| !v.is_finite()) {
            return Err("training rows must be finite".into());
        }
        match &m.y {
            Stored::Classes { y, n_classes } => {
                if let Some(bad) = y.iter().find(|&&c| c >= *n_classes) {
                    return Err(format!(
                        "class index {bad} out of range for {n_classes} classes"
                    ));
                }
            }
            Stored::Values(_) => {}
        }
        Ok(m)
    }
}

/// Train (store) a k-nearest-neighbours model. Errors: no training rows,
/// `n_neighbors` outside `1 ..= rows`, an unknown `weights` or `p`, a
/// non-finite feature, or targets that do not match the rows. `seed` is
/// unused.
pub fn fit(
    x: ArrayView2<'_, f64>,
    y: Targets<'_>,
    params: &Params,
    _seed: u64,
) -> Result<Fitted, ModelError> {
    let read = Reader {
        model: NAME,
        params,
    };
    let param_err = |name: &str, message: String| ModelError::Param {
        model: NAME,
        name: name.to_string(),
        message,
    };
    let fit_err = |message: String| ModelError::Fit {
        model: NAME,
        message,
    };

    let k = read.usize("n_neighbors", 5)?;
    let weights = match read.str("weights", "uniform")? {
        "uniform" => Weights::Uniform,
        "distance" => Weights::Distance,
        other => {
            return Err(param_err(
                "weights",
                format!("got \"{other}\", expected \"uniform\" or \"distance\""),
            ))
        }
    };
    let metric = match read.usize("p", 2)? {
        1 => Metric::Manhattan,
        2 => Metric::Euclidean,
        other => return Err(param_err("p", format!("got {other}, expected 1 or 2"))),
    };

    let n_rows = x.nrows();
    if n_rows == 0 {
        return Err(fit_err("no training rows".into()));
    }
    if k == 0 {
        return Err(param_err(
            "n_neighbors",
            "must be at least 1 (got 0)".into(),
        ));
    }
    if k > n_rows {
        return Err(param_err(
            "n_neighbors",
            format!("{k} is more than the {n_rows} training rows"),
        ));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(fit_err("training features must be finite".into()));
    }
    let stored = match y {
        Targets::Classes { y, n_classes } => {
            if y.len() != n_rows {
                return Err(fit_err(format!("{} targets for {n_rows} rows", y.len())));
            }
            if let Some(bad) = y.iter().find(|&&c| c >= n_classes) {
                return Err(fit_err(format!(
                    "class index {bad} out of range for {n_classes} classes"
                )));
            }
            Stored::Classes {
                y: y.to_vec(),
                n_classes,
            }
        }
        Targets::Values(v) => {
            if v.len() != n_rows {
                return Err(fit_err(format!("{} targets for {n_rows} rows", v.len())));
            }
            Stored::Values(v.to_vec())
        }
    };
    Ok(Fitted::Knn(Knn {
        // Row-major copy (iter() walks in logical order whatever the layout).
        x: x.iter().copied().collect(),
        n_features: x.ncols(),
        y: stored,
        k,
        weights,
        metric,
    }))
}

impl Knn {
    /// Distance from `q` to training row `i`; features summed in index order.
    fn distance(&self, q: &[f64], i: usize) -> f64 {
        let row = &self.x[i * self.n_features..(i + 1) * self.n_features];
        match self.metric {
            Metric::Manhattan => {
                let mut s = 0.0;
                for (a, b) in q.iter().zip(row) {
                    s += (a - b).abs();
                }
                s
            }
            Metric::Euclidean => {
                let mut s = 0.0;
                for (a, b) in q.iter().zip(row) {
                    let d = a - b;
                    s += d * d;
                }
                s.sqrt()
            }
        }
    }

    /// The `k` nearest training rows to `q` as (distance, row), nearest
    /// first. `dist` is scratch space of one entry per training row.
    fn neighbours(&self, q: &[f64], dist: &mut Vec<(f64, usize)>) {
        dist.clear();
        let n_rows = self.y_len();
        dist.extend((0..n_rows).map(|i| (self.distance(q, i), i)));
        // A total order (total_cmp, then row index) makes the selected set
        // and its order independent of the selection algorithm: equal
        // distances go to the lower training row.
        let by_distance_then_row = |a: &(f64, usize), b: &(f64, usize)| -> Ordering {
            a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
        };
        if self.k < dist.len() {
            dist.select_nth_unstable_by(self.k - 1, by_distance_then_row);
            dist.truncate(self.k);
        }
        dist.sort_unstable_by(by_distance_then_row);
    }

    fn y_len(&self) -> usize {
        match &self.y {
            Stored::Classes { y, .. } => y.len(),
            Stored::Values(v) => v.len(),
        }
    }

    /// The neighbours' weights, in neighbour order. Distance weighting is
    /// 1/d; if any weight is infinite (an exact match, d = 0), those
    /// neighbours alone vote, each with weight 1 (scikit-learn's rule).
    fn weights_of(&self, near: &[(f64, usize)], w: &mut Vec<f64>) {
        w.clear();
        match self.weights {
            Weights::Uniform => w.extend(near.iter().map(|_| 1.0)),
            Weights::Distance => {
                w.extend(near.iter().map(|(d, _)| 1.0 / d));
                if w.iter().any(|v| v.is_infinite()) {
                    for v in w.iter_mut() {
                        *v = if v.is_infinite() { 1.0 } else { 0.0 };
                    }
                }
            }
        }
    }
}

impl Knn {
    /// The number of feature columns the model was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Predict each row of `x`; errors when `x` does not have the training
    /// width. Classification: per-class sums of the neighbours' weights,
    /// divided by their total, are the probabilities; the label is the most
    /// probable class, the lowest index on ties. Regression: the (weighted)
    /// mean of the neighbours' targets.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Prediction, ModelError> {
        check_width(NAME, self.n_features, &x)?;
        let n = x.nrows();
        let mut q = Vec::with_capacity(self.n_features);
        let mut dist = Vec::with_capacity(self.y_len());
        let mut w = Vec::with_capacity(self.k);
        match &self.y {
            Stored::Classes { y, n_classes } => {
                let n_classes = *n_classes;
                let mut proba = Array2::<f64>::zeros((n, n_classes));
                let mut labels = Vec::with_capacity(n);
                for (r, row) in x.rows().into_iter().enumerate() {
                    q.clear();
                    q.extend(row.iter().copied());
                    self.neighbours(&q, &mut dist);
                    self.weights_of(&dist, &mut w);
                    let mut out = proba.row_mut(r);
                    for ((_, i), wi) in dist.iter().zip(&w) {
                        out[y[*i]] += wi;
                    }
                    let mut total = 0.0;
                    for v in out.iter() {
                        total += v;
                    }
                    // Only when every weight is 0 (all neighbours infinitely
                    // far): leave the row at 0 rather than divide by 0.
                    if total > 0.0 {
                        out.mapv_inplace(|v| v / total);
                    }
                    let mut best = 0;
                    for c in 1..n_classes {
                        if out[c] > out[best] {
                            best = c;
                        }
                    }
                    labels.push(best);
                }
                Ok(Prediction::Classes {
                    labels,
                    proba: Some(proba),
                })
            }
            Stored::Values(y) => {
                let mut out = Vec::with_capacity(n);
                for row in x.rows() {
                    q.clear();
                    q.extend(row.iter().copied());
                    self.neighbours(&q, &mut dist);
                    self.weights_of(&dist, &mut w);
                    let mut num = 0.0;
                    let mut den = 0.0;
                    for ((_, i), wi) in dist.iter().zip(&w) {
                        num += wi * y[*i];
                        den += wi;
                    }
                    // den is 0 only when every neighbour is infinitely far
                    // (a non-finite query row): the prediction is then NaN.
                    out.push(num / den);
                }
                Ok(Prediction::Values(out))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::models::testdata::{holdout, load};
    use crate::value::Value;
    use ndarray::Array2;

    fn params(k: i64, weights: &str, p: i64) -> Params {
        [
            ("n_neighbors".to_string(), Value::Int(k)),
            ("weights".to_string(), Value::Str(weights.to_string())),
            ("p".to_string(), Value::Int(p)),
        ]
        .into_iter()
        .collect()
    }

    fn column(xs: &[f64]) -> Array2<f64> {
        Array2::from_shape_vec((xs.len(), 1), xs.to_vec()).unwrap()
    }

    #[test]
    fn predicting_another_width_is_an_error() {
        let x = column(&[0.0, 1.0, 2.0]);
        let m = fit(
            x.view(),
            Targets::Values(&[1.0, 2.0, 3.0]),
            &params(2, "uniform", 2),
            0,
        )
        .unwrap();
        assert_eq!(m.n_features(), 1);
        let e = m.predict(Array2::zeros((2, 2)).view()).err().unwrap();
        assert_eq!(
            e.to_string(),
            "knn: trained on 1 feature columns, asked to predict rows of 2"
        );
        assert!(m.predict(Array2::zeros((2, 0)).view()).is_err());
    }

    #[test]
    fn a_damaged_model_file_is_refused() {
        let x = column(&[0.0, 1.0, 2.0]);
        let t = Targets::Classes {
            y: &[0, 1, 1],
            n_classes: 2,
        };
        let Fitted::Knn(m) = fit(x.view(), t, &params(2, "distance", 1), 0).unwrap() else {
            panic!()
        };
        let good = serde_json::to_value(&m).unwrap();
        assert_eq!(serde_json::from_value::<Knn>(good.clone()).unwrap(), m);
        let cases = [
            ("x", serde_json::json!([0.0, 1.0])),
            ("k", serde_json::json!(4)),
            ("k", serde_json::json!(0)),
            (
                "y",
                serde_json::json!({"classes": {"y": [0, 2, 1], "n_classes": 2}}),
            ),
            ("n_features", serde_json::json!(2)),
        ];
        for (field, bad) in cases {
            let mut v = good.clone();
            v[field] = bad;
            assert!(serde_json::from_value::<Knn>(v).is_err(), "{field}");
        }
    }

    fn classify(
        train: &[f64],
        y: &[usize],
        n_classes: usize,
        p: &Params,
        query: &[f64],
    ) -> (Vec<usize>, Array2<f64>) {
        let x = column(train);
        let m = fit(x.view(), Targets::Classes { y, n_classes }, p, 0).unwrap();
        match m.predict(column(query).view()).unwrap() {
            Prediction::Classes {
                labels,
                proba: Some(proba),
            } => (labels, proba),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn regress(train: &[f64], y: &[f64], p: &Params, query: &[f64]) -> Vec<f64> {
        let m = fit(column(train).view(), Targets::Values(y), p, 0).unwrap();
        match m.predict(column(query).view()).unwrap() {
            Prediction::Values(v) => v,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn classes(y: &[f64]) -> (Vec<usize>, usize) {
        let c: Vec<usize> = y.iter().map(|&v| v as usize).collect();
        let n = c.iter().max().unwrap() + 1;
        (c, n)
    }

    fn accuracy(name: &str, p: &Params) -> f64 {
        let (x, y) = load(name);
        let (xtr, ytr, xte, yte) = holdout(&x, &y);
        let (ytr, n_classes) = classes(&ytr);
        let m = fit(xtr.view(), Targets::Classes { y: &ytr, n_classes }, p, 0).unwrap();
        let Prediction::Classes { labels, proba } = m.predict(xte.view()).unwrap() else {
            panic!("not classes")
        };
        let proba = proba.unwrap();
        for row in proba.rows() {
            let s: f64 = row.iter().sum();
            assert!((s - 1.0).abs() <= 1e-12, "row sums to {s}");
        }
        let right = labels
            .iter()
            .zip(&yte)
            .filter(|(l, t)| **l == **t as usize)
            .count();
        right as f64 / yte.len() as f64
    }

    #[test]
    fn info_lists_sklearn_parameters() {
        assert_eq!(INFO.name, "knn");
        // Through the registry, as search-file validation reads it.
        assert!(super::super::info("knn").unwrap().probabilities);
        assert_eq!(INFO.tasks, &[Task::Classification, Task::Regression]);
        let k = INFO.param("n_neighbors").unwrap();
        assert!(k.check(&Value::Int(1)).is_ok());
        assert!(k.check(&Value::Int(0)).is_err());
        assert!(INFO
            .param("weights")
            .unwrap()
            .check(&Value::Str("distance".into()))
            .is_ok());
        assert!(INFO
            .param("weights")
            .unwrap()
            .check(&Value::Str("manhattan".into()))
            .is_err());
        assert!(INFO.param("p").unwrap().check(&Value::Int(3)).is_err());
        assert_eq!(INFO.param("p").unwrap().default, "2");
    }

    #[test]
    fn uniform_vote_over_listed_neighbours() {
        // Query 1.4: distances 1.4, 0.4, 0.6, 4.6, 5.6 -> rows 1, 2, 0 ->
        // classes 0, 1, 0. Query 5.0: rows 3 (1), 4 (2), 2 (3) -> all 1.
        let (labels, proba) = classify(
            &[0.0, 1.0, 2.0, 6.0, 7.0],
            &[0, 0, 1, 1, 1],
            2,
            &params(3, "uniform", 2),
            &[1.4, 5.0],
        );
        assert_eq!(labels, vec![0, 1]);
        assert_eq!(proba.row(0).to_vec(), vec![2.0 / 3.0, 1.0 / 3.0]);
        assert_eq!(proba.row(1).to_vec(), vec![0.0, 1.0]);
    }

    #[test]
    fn defaults_are_five_uniform_euclidean() {
        // Five nearest to 0 among 0..=6 are rows 0..=4: classes 1,1,0,0,0.
        let (labels, proba) = classify(
            &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            &[1, 1, 0, 0, 0, 1, 1],
            2,
            &Params::new(),
            &[0.0],
        );
        assert_eq!(labels, vec![0]);
        assert_eq!(proba.row(0).to_vec(), vec![0.6, 0.4]);
    }

    #[test]
    fn equal_distances_go_to_the_lower_row() {
        // Query 0: rows 0 and 1 are both at distance 1; row 0 wins.
        let p = params(1, "uniform", 2);
        let (labels, _) = classify(&[-1.0, 1.0], &[1, 0], 2, &p, &[0.0]);
        assert_eq!(labels, vec![1]);
        let (labels, _) = classify(&[1.0, -1.0], &[0, 1], 2, &p, &[0.0]);
        assert_eq!(labels, vec![0]);
        // Three rows at distance 1 (rows 1, 2, 4), k = 2: rows 1 and 2.
        let (labels, proba) = classify(
            &[2.0, -1.0, 1.0, 5.0, 1.0],
            &[0, 1, 2, 0, 0],
            3,
            &params(2, "uniform", 2),
            &[0.0],
        );
        // Classes 1 and 2 tie at 0.5: the lower class index wins.
        assert_eq!(proba.row(0).to_vec(), vec![0.0, 0.5, 0.5]);
        assert_eq!(labels, vec![1]);
    }

    #[test]
    fn distance_weights_can_overturn_the_majority() {
        // Query 0.5: distances 0.5, 1.5, 2.5 -> weights 2, 2/3, 0.4.
        let train = [0.0, 2.0, 3.0];
        let y = [0, 1, 1];
        let (labels, proba) = classify(&train, &y, 2, &params(3, "distance", 2), &[0.5]);
        let w = [1.0 / 0.5, 1.0 / 1.5, 1.0 / 2.5];
        let total = w[0] + (w[1] + w[2]);
        assert_eq!(labels, vec![0]);
        assert!((proba[[0, 0]] - w[0] / total).abs() <= 1e-15);
        assert!((proba[[0, 1]] - (w[1] + w[2]) / total).abs() <= 1e-15);
        let (labels, _) = classify(&train, &y, 2, &params(3, "uniform", 2), &[0.5]);
        assert_eq!(labels, vec![1]);
    }

    #[test]
    fn an_exact_match_outvotes_everything() {
        // Query 0 matches row 0 exactly: only it votes, although rows 1 and
        // 2 (class 0) are very close.
        let train = [0.0, 0.1, 0.2, 5.0];
        let (labels, proba) = classify(&train, &[1, 0, 0, 1], 2, &params(3, "distance", 2), &[0.0]);
        assert_eq!(labels, vec![1]);
        assert_eq!(proba.row(0).to_vec(), vec![0.0, 1.0]);
        let (labels, _) = classify(&train, &[1, 0, 0, 1], 2, &params(3, "uniform", 2), &[0.0]);
        assert_eq!(labels, vec![0]);
        // Two exact matches share the vote equally, whatever the others.
        let (_, proba) = classify(
            &[0.0, 0.0, 0.1, 0.1],
            &[1, 0, 0, 0],
            2,
            &params(4, "distance", 1),
            &[0.0],
        );
        assert_eq!(proba.row(0).to_vec(), vec![0.5, 0.5]);
        let v = regress(
            &train,
            &[10.0, 20.0, 30.0, 40.0],
            &params(3, "distance", 2),
            &[0.0],
        );
        assert_eq!(v, vec![10.0]);
    }

    #[test]
    fn regression_takes_the_mean() {
        // Query 0.9: rows 1 (0.1), 0 (0.9), 2 (1.1).
        let train = [0.0, 1.0, 2.0, 10.0];
        let y = [1.0, 2.0, 4.0, 100.0];
        let v = regress(&train, &y, &params(3, "uniform", 2), &[0.9, 10.0]);
        assert_eq!(v[0], (2.0 + 1.0 + 4.0) / 3.0);
        // Query 10: rows 3 (0), 2 (8), 1 (9).
        assert_eq!(v[1], (100.0 + 4.0 + 2.0) / 3.0);
        let v = regress(&train, &y, &params(3, "distance", 2), &[0.9]);
        let w = [1.0 / 0.1, 1.0 / 0.9, 1.0 / 1.1];
        let want = (w[0] * 2.0 + w[1] * 1.0 + w[2] * 4.0) / (w[0] + w[1] + w[2]);
        assert!((v[0] - want).abs() <= 1e-12 * want, "{} vs {want}", v[0]);
    }

    #[test]
    fn p_chooses_manhattan_or_euclidean() {
        // From the origin: A = (2, 2) is at 2.83 (p=2) or 4 (p=1);
        // B = (3.5, 0) is at 3.5 either way.
        let x = Array2::from_shape_vec((2, 2), vec![2.0, 2.0, 3.5, 0.0]).unwrap();
        let y = [0, 1];
        let q = Array2::zeros((1, 2));
        for (p, want) in [(2, 0), (1, 1)] {
            let m = fit(
                x.view(),
                Targets::Classes {
                    y: &y,
                    n_classes: 2,
                },
                &params(1, "uniform", p),
                0,
            )
            .unwrap();
            let Prediction::Classes { labels, .. } = m.predict(q.view()).unwrap() else {
                panic!()
            };
            assert_eq!(labels, vec![want], "p = {p}");
        }
    }

    #[test]
    fn n_neighbors_above_the_training_rows_is_an_error() {
        let x = column(&[0.0, 1.0, 2.0]);
        let y = [0, 1, 1];
        let err = fit(
            x.view(),
            Targets::Classes {
                y: &y,
                n_classes: 2,
            },
            &params(4, "uniform", 2),
            0,
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "knn: parameter `n_neighbors`: 4 is more than the 3 training rows"
        );
        let err = fit(
            x.view(),
            Targets::Values(&[1.0, 2.0, 3.0]),
            &params(4, "distance", 1),
            0,
        );
        assert!(matches!(err, Err(ModelError::Param { ref name, .. }) if name == "n_neighbors"));
        // Exactly all the rows is fine: the class shares of the whole set.
        let (labels, proba) = classify(&[0.0, 1.0, 2.0], &y, 2, &params(3, "uniform", 2), &[9.0]);
        assert_eq!(labels, vec![1]);
        assert_eq!(proba.row(0).to_vec(), vec![1.0 / 3.0, 2.0 / 3.0]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let x = column(&[0.0, 1.0]);
        let y = Targets::Values(&[1.0, 2.0]);
        let e = |p: &Params| fit(x.view(), y, p, 0).err().unwrap().to_string();
        assert!(e(&params(0, "uniform", 2)).contains("n_neighbors"));
        assert!(e(&params(1, "gaussian", 2)).contains("weights"));
        assert!(e(&params(1, "uniform", 3)).contains("`p`"));
        let mut p = Params::new();
        p.insert("n_neighbors".into(), Value::Str("3".into()));
        assert!(e(&p).contains("n_neighbors"));
        let empty = Array2::<f64>::zeros((0, 1));
        assert!(fit(empty.view(), Targets::Values(&[]), &Params::new(), 0).is_err());
        let nan = column(&[0.0, f64::NAN]);
        assert!(fit(nan.view(), y, &params(1, "uniform", 2), 0).is_err());
        assert!(fit(
            x.view(),
            Targets::Values(&[1.0]),
            &params(1, "uniform", 2),
            0
        )
        .is_err());
        let bad_class = Targets::Classes {
            y: &[0, 2],
            n_classes: 2,
        };
        assert!(fit(x.view(), bad_class, &params(1, "uniform", 2), 0).is_err());
    }

    #[test]
    fn predictions_are_bit_identical_and_layout_free() {
        let (x, y) = load("diabetes.csv");
        let (xtr, ytr, xte, _) = holdout(&x, &y);
        let p = params(7, "distance", 2);
        let run = |xtr: ArrayView2<'_, f64>, xte: ArrayView2<'_, f64>| -> Vec<u64> {
            let m = fit(xtr, Targets::Values(&ytr), &p, 0).unwrap();
            let Prediction::Values(v) = m.predict(xte).unwrap() else {
                panic!()
            };
            v.iter().map(|f| f.to_bits()).collect()
        };
        let a = run(xtr.view(), xte.view());
        let b = run(xtr.view(), xte.view());
        assert_eq!(a, b);
        // Column-major copies of the same data give the same bits.
        let xtr_f = xtr.t().as_standard_layout().t().to_owned();
        let xte_f = xte.t().as_standard_layout().t().to_owned();
        assert!(!xtr_f.is_standard_layout());
        assert_eq!(run(xtr_f.view(), xte_f.view()), a);
        // The seed changes nothing.
        let m = fit(xtr.view(), Targets::Values(&ytr), &p, 99).unwrap();
        let Prediction::Values(v) = m.predict(xte.view()).unwrap() else {
            panic!()
        };
        assert_eq!(v.iter().map(|f| f.to_bits()).collect::<Vec<_>>(), a);
    }

    #[test]
    fn diabetes_matches_scikit_learn() {
        // KNeighborsRegressor(n_neighbors=5, algorithm="brute") on the same
        // holdout: first three predictions and their sum over all 89 rows.
        let cases = [
            ("uniform", 1, [182.4, 135.6, 129.6], 13386.4),
            ("uniform", 2, [186.8, 133.2, 129.6], 13518.2),
            (
                "distance",
                1,
                [183.8752041711224, 134.80926657648237, 128.67811273185384],
                13407.233393810255,
            ),
            (
                "distance",
                2,
                [187.6484038332867, 133.3020402723598, 130.2667756274243],
                13545.071694087777,
            ),
        ];
        let (x, y) = load("diabetes.csv");
        let (xtr, ytr, xte, _) = holdout(&x, &y);
        for (w, p, first, sum) in cases {
            let m = fit(xtr.view(), Targets::Values(&ytr), &params(5, w, p), 0).unwrap();
            let Prediction::Values(v) = m.predict(xte.view()).unwrap() else {
                panic!()
            };
            for (got, want) in v.iter().zip(first) {
                assert!(
                    (got - want).abs() <= 1e-12 * want,
                    "{w} p={p}: {got} vs {want}"
                );
            }
            let total: f64 = v.iter().sum();
            assert!(
                (total - sum).abs() <= 1e-12 * sum,
                "{w} p={p}: {total} vs {sum}"
            );
        }
    }

    #[test]
    fn iris_holdout_accuracy() {
        // scikit-learn gets 0.9667 on this split for all four settings.
        for (w, p) in [
            ("uniform", 2),
            ("uniform", 1),
            ("distance", 2),
            ("distance", 1),
        ] {
            let acc = accuracy("iris.csv", &params(5, w, p));
            assert!(acc > 0.9, "{w} p={p}: {acc}");
        }
    }

    #[test]
    fn digits_holdout_accuracy() {
        // scikit-learn on this split: 0.9861 (uniform, p=2), 0.9806
        // (distance, p=1); ties may be broken differently there.
        let acc = accuracy("digits.csv", &params(5, "uniform", 2));
        assert!(acc > 0.98, "{acc}");
        let acc = accuracy("digits.csv", &params(5, "distance", 1));
        assert!(acc > 0.97, "{acc}");
    }
}
