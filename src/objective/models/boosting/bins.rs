//! Binning of `gradient_boosting`'s features: each feature's thresholds
//! from its training values (scikit-learn's `_BinMapper`), and every cell
//! as a `u8` bin, [`MISSING`] for NaN. It never sees targets or trees.
//!
//! The bins are a pure function of the training matrix and `max_bins`, so
//! a search makes them once per fold and shares them across its trials
//! ([`shared`]: key [`key`]).

use ndarray::ArrayView2;
use rayon::prelude::*;
use std::sync::Arc;

use super::MODEL;
use crate::objective::models::{ModelError, Shared};

/// The bin of a missing value (NaN); real bins are `0..max_bins` (<= 255).
pub(super) const MISSING: u8 = 255;
/// Bins a feature's histogram holds (the real ones and [`MISSING`]).
pub(super) const N_BINS: usize = 256;

/// The training features as bins, column by column.
pub(super) struct Binned {
    /// `cols[f][row]`: the bin of a cell, [`MISSING`] for NaN.
    pub(super) cols: Vec<Vec<u8>>,
    /// `thresholds[f]`: ascending; bin `b` holds values in
    /// `(thresholds[b-1], thresholds[b]]`.
    pub(super) thresholds: Vec<Vec<f64>>,
    /// Whether the feature had a missing value in training.
    pub(super) has_missing: Vec<bool>,
}

/// The bin thresholds of one feature's non-missing values (scikit-learn's
/// `_find_binning_thresholds`).
pub(super) fn thresholds(mut values: Vec<f64>, max_bins: usize) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    let mut distinct = values.clone();
    distinct.dedup();
    let mut t: Vec<f64> = if distinct.len() <= max_bins {
        distinct.windows(2).map(|w| (w[0] + w[1]) * 0.5).collect()
    } else {
        // numpy's percentile(method="averaged_inverted_cdf") at
        // linspace(0, 100, max_bins + 1)[1:-1], as scikit-learn 1.9: the
        // upper value at the virtual index n·q - 1 when it falls between
        // two values, the midpoint of the two when it falls on one (numpy's
        // lerp with gamma 1 or 0.5), clipped to the first and last value.
        let n = values.len();
        let step = 100.0 / max_bins as f64;
        let mut t: Vec<f64> = (1..max_bins)
            .map(|k| {
                let q = (k as f64 * step) / 100.0;
                let v = n as f64 * q - 1.0;
                if v < 0.0 {
                    return values[0];
                }
                if v >= (n - 1) as f64 {
                    return values[n - 1];
                }
                let lo = v.floor();
                let (a, b) = (values[lo as usize], values[lo as usize + 1]);
                if v - lo == 0.0 {
                    b - (b - a) * 0.5
                } else {
                    b
                }
            })
            .collect();
        // scikit-learn drops repeated thresholds (np.unique).
        t.dedup();
        t
    };
    for v in &mut t {
        if *v > f64::MAX {
            *v = f64::MAX;
        }
    }
    t
}

/// The bin of `v` under `thresholds`: how many thresholds lie below it.
pub(super) fn bin_of(thresholds: &[f64], v: f64) -> u8 {
    if v.is_nan() {
        MISSING
    } else {
        // At most 254 thresholds, so the count fits below MISSING.
        thresholds.partition_point(|t| *t < v) as u8
    }
}

/// The [`Shared`] key of the bins of a training matrix: everything they
/// depend on besides the matrix (`max_bins`).
pub(super) fn key(max_bins: usize) -> String {
    format!("gradient_boosting/bins/max_bins={max_bins}")
}

/// One feature's bins, thresholds and whether it had a NaN.
type Feature = (Vec<u8>, Vec<f64>, bool);

/// Bin column `f` of `x` (no value infinite: [`infinite_cell`]).
fn bin_feature(x: &ArrayView2<'_, f64>, f: usize, max_bins: usize) -> Feature {
    let col = x.column(f);
    let values: Vec<f64> = col.iter().copied().filter(|v| !v.is_nan()).collect();
    let has_missing = values.len() < x.nrows();
    let t = thresholds(values, max_bins);
    let bins = col.iter().map(|v| bin_of(&t, *v)).collect();
    (bins, t, has_missing)
}

/// What is wrong with the first infinite value of `x`, feature by
/// feature; `None` when every value is finite or NaN.
fn infinite_cell(x: &ArrayView2<'_, f64>) -> Option<String> {
    x.columns().into_iter().enumerate().find_map(|(f, col)| {
        col.iter()
            .enumerate()
            .find(|(_, v)| v.is_infinite())
            .map(|(r, v)| {
                format!(
                    "row {r}, feature {f}: value {v} is infinite (NaN is read as missing; \
                 infinite values are not)"
                )
            })
    })
}

impl Binned {
    /// The bins of `x` (no value infinite), one feature a rayon task when
    /// `parallel` (each feature is binned alone, so the result is the same
    /// either way).
    fn new(x: ArrayView2<'_, f64>, max_bins: usize, parallel: bool) -> Binned {
        let per_feature: Vec<Feature> = if parallel {
            (0..x.ncols())
                .into_par_iter()
                .map(|f| bin_feature(&x, f, max_bins))
                .collect()
        } else {
            (0..x.ncols())
                .map(|f| bin_feature(&x, f, max_bins))
                .collect()
        };
        let d = x.ncols();
        let mut b = Binned {
            cols: Vec::with_capacity(d),
            thresholds: Vec::with_capacity(d),
            has_missing: Vec::with_capacity(d),
        };
        for (c, t, m) in per_feature {
            b.cols.push(c);
            b.thresholds.push(t);
            b.has_missing.push(m);
        }
        b
    }

    /// The bins of `x`: made once for every fit on `x` that `shared`
    /// serves (under [`key`]), or here when it keeps nothing. An infinite
    /// value is an error naming its row and feature.
    pub(super) fn shared(
        x: ArrayView2<'_, f64>,
        max_bins: usize,
        shared: &Shared,
    ) -> Result<Arc<Binned>, ModelError> {
        let refuse = |message: &String| ModelError::Fit {
            model: MODEL,
            message: message.clone(),
        };
        if shared.keeps_nothing() {
            if let Some(message) = infinite_cell(&x) {
                return Err(refuse(&message));
            }
            // Kept for no other fit, so no trial can wait on it: parallel.
            return Ok(Arc::new(Binned::new(x, max_bins, true)));
        }
        // The check is a function of `x` alone: made once, as the bins.
        let finite = shared.get_or_make("gradient_boosting/finite", || {
            let message = infinite_cell(&x);
            let bytes = message.as_ref().map_or(0, String::len);
            (message, bytes)
        });
        if let Some(message) = finite.as_ref() {
            return Err(refuse(message));
        }
        // Why serial: a maker must stay off the rayon pool (models::shared).
        Ok(shared.get_or_make(&key(max_bins), || {
            let b = Binned::new(x, max_bins, false);
            let bytes = b.bytes();
            (b, bytes)
        }))
    }

    /// The bytes it holds.
    fn bytes(&self) -> usize {
        let t: usize = self.thresholds.iter().map(|t| t.len() * 8).sum();
        self.cols.iter().map(Vec::len).sum::<usize>() + t + self.has_missing.len()
    }

    pub(super) fn n_features(&self) -> usize {
        self.cols.len()
    }

    /// Bins holding non-missing values of feature `f`.
    pub(super) fn n_bins_non_missing(&self, f: usize) -> usize {
        self.thresholds[f].len() + 1
    }
}
