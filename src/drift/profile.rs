//! The reference profile an exported model carries: per feature column, a
//! compact summary of the raw training values (before imputation and
//! scaling: drift is about the data users feed in), and the same for the
//! model's predictions on the training rows.
//!
//! This module owns building a profile from columns and its serialised
//! form; it never reads files (the check in [`super`] streams them).
//!
//! # Format
//!
//! Stored in the artifact as `profile`: `{ rows, features, prediction }`,
//! `features` one entry per feature column in the artifact's order, each
//! `{ name, count, missing, kind, ... }`:
//!
//! * `kind = "numeric"`: `mean`, `std` (population, ddof 0), `min`, `max`
//!   of the present values (`null` when there are none), `exact`, `points`
//!   and `counts`. `points` are increasing distinct values and `counts[i]`
//!   the number of training values in `(points[i-1], points[i]]`
//!   (`counts[0]`: the values equal to `points[0]`, the minimum). When the
//!   column has at most [`MAX_EXACT`] distinct values, `exact` is true and
//!   `points` lists every one of them; otherwise `points` are the minimum
//!   and the [`QUANTILES`] quantiles `k/100` (each an observed value: the
//!   `ceil(k n / 100)`-th smallest), duplicates removed, so the training
//!   distribution function is known exactly at every point.
//! * `kind = "categorical"`: `levels`, an object from level (trimmed cell
//!   text) to its count, keys sorted by byte order.
//!
//! `prediction` has the same shape, named `prediction`: numeric for a
//! regression model, categorical over the predicted class labels for a
//! classifier. Floats are written in shortest round-trip form, so reading
//! the artifact gives the same bits and exporting twice gives the same
//! bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::{Column, Dataset};
use crate::objective::models::Prediction;

/// A numeric column with at most this many distinct values is stored
/// value by value (`exact`), which makes the KS statistic exact.
pub const MAX_EXACT: usize = 100;

/// Otherwise this many quantiles (`k/100`, `k = 1..=100`) are stored.
pub const QUANTILES: usize = 100;

/// The number of equal-mass bins the PSI of a numeric column uses
/// (deciles), derived from the stored points.
pub const PSI_BINS: usize = 10;

/// The reference profile of the training data and of the model's
/// predictions on it (see the module doc for the format).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Number of training rows.
    pub rows: u64,
    /// One profile per feature column, in the artifact's feature order.
    pub features: Vec<ColumnProfile>,
    /// The model's predictions on the training rows.
    pub prediction: ColumnProfile,
}

/// The profile of one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Column name (`prediction` for the predictions).
    pub name: String,
    /// Number of rows, missing ones included.
    pub count: u64,
    /// Number of missing cells.
    pub missing: u64,
    /// The distribution of the present values.
    #[serde(flatten)]
    pub values: Values,
}

/// The distribution of a column's present values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Values {
    /// A numeric column.
    Numeric(NumericProfile),
    /// A text (categorical) column.
    Categorical(CategoricalProfile),
}

/// Summary of a numeric column's present values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    /// Mean (`None` when no value is present).
    pub mean: Option<f64>,
    /// Population standard deviation (ddof 0).
    pub std: Option<f64>,
    /// Smallest value.
    pub min: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
    /// Whether `points` lists every distinct value.
    pub exact: bool,
    /// Increasing distinct values at which the distribution is known.
    pub points: Vec<f64>,
    /// `counts[i]`: values in `(points[i-1], points[i]]`.
    pub counts: Vec<u64>,
}

/// Level counts of a categorical column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoricalProfile {
    /// Count per level, sorted by level (BTreeMap: a fixed order).
    pub levels: BTreeMap<String, u64>,
}

/// Mean and population standard deviation by Welford's update, in the
/// order given (fixed, so the result is a pure function of the values).
#[derive(Clone, Copy, Debug, Default)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Add one value.
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Mean, or `None` without values.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// Population standard deviation, or `None` without values.
    pub fn std(&self) -> Option<f64> {
        (self.n > 0).then(|| (self.m2 / self.n as f64).max(0.0).sqrt())
    }
}

impl NumericProfile {
    /// Profile the present values `xs` (in row order).
    pub fn from_values(xs: &[f64]) -> NumericProfile {
        let mut moments = Moments::default();
        for &x in xs {
            moments.push(x);
        }
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        // `==` merges -0.0 and 0.0, as the comparisons below do.
        let mut distinct = sorted.clone();
        distinct.dedup_by(|a, b| a == b);
        let exact = distinct.len() <= MAX_EXACT;
        let points = if exact {
            distinct
        } else {
            let n = sorted.len();
            let mut p = Vec::with_capacity(QUANTILES + 1);
            p.push(sorted[0]);
            for k in 1..=QUANTILES {
                let rank = (k * n).div_ceil(QUANTILES); // 1-based
                p.push(sorted[rank.max(1) - 1]);
            }
            p.dedup_by(|a, b| a == b);
            p
        };
        let mut counts = Vec::with_capacity(points.len());
        let mut below = 0;
        for &p in &points {
            let upto = sorted.partition_point(|&v| v <= p);
            counts.push((upto - below) as u64);
            below = upto;
        }
        NumericProfile {
            mean: moments.mean(),
            std: moments.std(),
            min: sorted.first().copied(),
            max: sorted.last().copied(),
            exact,
            points,
            counts,
        }
    }

    /// Number of present values.
    pub fn present(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The indices of the points that close the PSI bins, in increasing
    /// order: the first point where the cumulative share reaches `j/10`
    /// for `j = 1..=9`, duplicates and the last point removed. Bin `b`
    /// holds the values in `(points[ends[b-1]], points[ends[b]]]`, the
    /// first bin everything up to `points[ends[0]]` and the last everything
    /// above the last end, so every value has a bin.
    pub fn psi_ends(&self) -> Vec<usize> {
        let n = self.present();
        let mut ends = Vec::new();
        let mut cum = 0u64;
        let mut j = 1u64;
        for (i, &c) in self.counts.iter().enumerate() {
            cum += c;
            while j < PSI_BINS as u64 && cum * PSI_BINS as u64 >= j * n {
                if ends.last() != Some(&i) {
                    ends.push(i);
                }
                j += 1;
            }
        }
        let last = self.points.len().saturating_sub(1);
        ends.retain(|&i| i != last);
        ends
    }
}

impl ColumnProfile {
    /// Profile a numeric column (`None`: a missing cell).
    pub fn numeric(name: &str, cells: &[Option<f64>]) -> ColumnProfile {
        let present: Vec<f64> = cells.iter().filter_map(|c| *c).collect();
        ColumnProfile {
            name: name.to_owned(),
            count: cells.len() as u64,
            missing: (cells.len() - present.len()) as u64,
            values: Values::Numeric(NumericProfile::from_values(&present)),
        }
    }

    /// Profile a categorical column (`None`: a missing cell).
    pub fn categorical<S: AsRef<str>>(name: &str, cells: &[Option<S>]) -> ColumnProfile {
        let mut levels: BTreeMap<String, u64> = BTreeMap::new();
        let mut missing = 0;
        for c in cells {
            match c {
                Some(v) => *levels.entry(v.as_ref().to_owned()).or_insert(0) += 1,
                None => missing += 1,
            }
        }
        ColumnProfile {
            name: name.to_owned(),
            count: cells.len() as u64,
            missing,
            values: Values::Categorical(CategoricalProfile { levels }),
        }
    }

    /// `numeric` or `categorical`.
    pub fn kind(&self) -> &'static str {
        match self.values {
            Values::Numeric(_) => "numeric",
            Values::Categorical(_) => "categorical",
        }
    }
}

impl Profile {
    /// Profile every feature column of `ds` (all rows) and the model's
    /// predictions `pred` on those rows; `classes` names the class
    /// indices of a classifier's predictions.
    pub fn build(ds: &Dataset, pred: &Prediction, classes: Option<&[String]>) -> Profile {
        let features = ds
            .feature_names
            .iter()
            .zip(&ds.columns)
            .map(|(name, column)| match column {
                Column::Numeric(v) => ColumnProfile::numeric(
                    name,
                    &v.iter()
                        .map(|x| (!x.is_nan()).then_some(*x))
                        .collect::<Vec<_>>(),
                ),
                Column::Text(v) => ColumnProfile::categorical(name, v),
            })
            .collect();
        Profile {
            rows: ds.n_rows as u64,
            features,
            prediction: prediction_profile(pred, classes),
        }
    }
}

/// The profile of a block of predictions: numeric values, or class labels.
pub fn prediction_profile(pred: &Prediction, classes: Option<&[String]>) -> ColumnProfile {
    match pred {
        Prediction::Values(v) => {
            let cells: Vec<Option<f64>> = v.iter().map(|&x| x.is_finite().then_some(x)).collect();
            ColumnProfile::numeric("prediction", &cells)
        }
        Prediction::Classes { labels, .. } => {
            let cells: Vec<Option<String>> = labels
                .iter()
                .map(|&k| Some(class_label(classes, k)))
                .collect();
            ColumnProfile::categorical("prediction", &cells)
        }
    }
}

/// The label of class index `k` (its index as text if the names are absent).
pub fn class_label(classes: Option<&[String]>, k: usize) -> String {
    classes
        .and_then(|c| c.get(k).cloned())
        .unwrap_or_else(|| k.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(p: &ColumnProfile) -> &NumericProfile {
        match &p.values {
            Values::Numeric(n) => n,
            Values::Categorical(_) => panic!("not numeric"),
        }
    }

    #[test]
    fn few_distinct_values_are_stored_exactly() {
        let cells = [Some(2.0), None, Some(1.0), Some(2.0), Some(5.0), None];
        let p = ColumnProfile::numeric("x", &cells);
        assert_eq!((p.count, p.missing), (6, 2));
        let n = numeric(&p);
        assert!(n.exact);
        assert_eq!(n.points, vec![1.0, 2.0, 5.0]);
        assert_eq!(n.counts, vec![1, 2, 1]);
        // Mean 2.5, population variance (2.25+0.25+0.25+6.25)/4 = 2.25.
        assert_eq!(n.mean, Some(2.5));
        assert!((n.std.unwrap() - 1.5).abs() < 1e-15);
        assert_eq!((n.min, n.max), (Some(1.0), Some(5.0)));
    }

    #[test]
    fn many_distinct_values_store_quantiles_with_exact_counts() {
        // 0..1000: quantile k/100 is the (10k)-th smallest value, 10k - 1.
        let cells: Vec<Option<f64>> = (0..1000).map(|i| Some(i as f64)).collect();
        let n = numeric(&ColumnProfile::numeric("x", &cells)).clone();
        assert!(!n.exact);
        assert_eq!(n.points.len(), 101);
        assert_eq!(n.points[0], 0.0);
        assert_eq!(n.points[1], 9.0);
        assert_eq!(n.points[100], 999.0);
        assert_eq!(n.counts[0], 1);
        assert_eq!(n.counts[1], 9);
        assert!(n.counts[2..].iter().all(|&c| c == 10));
        assert_eq!(n.present(), 1000);
        // Deciles close at 99, 199, ..., 899: points 10, 20, ..., 90.
        assert_eq!(n.psi_ends(), vec![10, 20, 30, 40, 50, 60, 70, 80, 90]);
    }

    #[test]
    fn heavy_ties_merge_quantile_points() {
        // 900 zeros and 1..=200: the first 90 quantiles are all 0.
        let mut cells: Vec<Option<f64>> = vec![Some(0.0); 900];
        cells.extend((1..=200).map(|i| Some(i as f64)));
        let n = numeric(&ColumnProfile::numeric("x", &cells)).clone();
        assert!(!n.exact);
        assert_eq!(n.points[0], 0.0);
        assert_eq!(n.counts[0], 900);
        assert!(n.points.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(n.present(), 1100);
        // 0 holds 82 % of the mass: it closes the first 8 deciles at once.
        assert_eq!(n.psi_ends()[0], 0);
        assert!(n.psi_ends().windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn constant_column_has_one_point_and_one_psi_bin() {
        let cells = vec![Some(3.0); 50];
        let n = numeric(&ColumnProfile::numeric("c", &cells)).clone();
        assert_eq!(n.points, vec![3.0]);
        assert_eq!(n.counts, vec![50]);
        assert_eq!(n.std, Some(0.0));
        assert!(n.psi_ends().is_empty());
    }

    #[test]
    fn all_missing_numeric_column() {
        let n = numeric(&ColumnProfile::numeric("m", &[None, None])).clone();
        assert_eq!((n.mean, n.min), (None, None));
        assert!(n.points.is_empty());
        assert!(n.psi_ends().is_empty());
    }

    #[test]
    fn categorical_levels_are_sorted_and_counted() {
        let cells = [
            Some("USA"),
            Some("Japan"),
            None,
            Some("USA"),
            Some("Europe"),
        ];
        let p = ColumnProfile::categorical("origin", &cells);
        assert_eq!((p.count, p.missing, p.kind()), (5, 1, "categorical"));
        let Values::Categorical(c) = &p.values else {
            panic!()
        };
        let levels: Vec<(&str, u64)> = c.levels.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(levels, vec![("Europe", 1), ("Japan", 1), ("USA", 2)]);
    }

    #[test]
    fn profile_round_trips_through_json_bit_for_bit() {
        let cells: Vec<Option<f64>> = (0..500)
            .map(|i| Some((i as f64 * 0.37).sin() * 1e-3 + 1.0 / 3.0))
            .collect();
        let p = Profile {
            rows: 500,
            features: vec![
                ColumnProfile::numeric("x", &cells),
                ColumnProfile::categorical("c", &[Some("a"), None]),
            ],
            prediction: prediction_profile(&Prediction::Values(vec![0.1, 0.2]), None),
        };
        let text = serde_json::to_string_pretty(&p).unwrap();
        let back: Profile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, p);
        assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text);
        assert!(text.contains("\"kind\": \"numeric\""), "{text}");
    }

    #[test]
    fn class_predictions_profile_their_labels() {
        let pred = Prediction::Classes {
            labels: vec![0, 2, 2],
            proba: None,
        };
        let classes = ["a".to_string(), "b".into(), "c".into()];
        let p = prediction_profile(&pred, Some(&classes));
        let Values::Categorical(c) = &p.values else {
            panic!()
        };
        assert_eq!(c.levels.get("c"), Some(&2));
        assert_eq!(c.levels.get("a"), Some(&1));
        assert_eq!(c.levels.len(), 2);
    }
}
