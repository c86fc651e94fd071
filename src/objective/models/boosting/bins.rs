//! Binning of `gradient_boosting`'s features: each feature's thresholds
//! from its training values (scikit-learn's `_BinMapper`), and every cell
//! as a `u8` bin, [`MISSING`] for NaN. It never sees targets or trees.

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::MODEL;
use crate::objective::models::ModelError;

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

impl Binned {
    pub(super) fn new(x: ArrayView2<'_, f64>, max_bins: usize) -> Result<Binned, ModelError> {
        let n_rows = x.nrows();
        // Per feature: its bins, thresholds and whether it had a NaN.
        type Feature = (Vec<u8>, Vec<f64>, bool);
        let per_feature: Vec<Result<Feature, ModelError>> = (0..x.ncols())
            .into_par_iter()
            .map(|f| {
                let col = x.column(f);
                let mut values = Vec::with_capacity(n_rows);
                for (r, v) in col.iter().enumerate() {
                    if v.is_infinite() {
                        return Err(ModelError::Fit {
                            model: MODEL,
                            message: format!(
                                "row {r}, feature {f}: value {v} is infinite (NaN is read as \
                                 missing; infinite values are not)"
                            ),
                        });
                    }
                    if !v.is_nan() {
                        values.push(*v);
                    }
                }
                let has_missing = values.len() < n_rows;
                let t = thresholds(values, max_bins);
                let bins = col.iter().map(|v| bin_of(&t, *v)).collect();
                Ok((bins, t, has_missing))
            })
            .collect();
        let mut b = Binned {
            cols: Vec::with_capacity(x.ncols()),
            thresholds: Vec::with_capacity(x.ncols()),
            has_missing: Vec::with_capacity(x.ncols()),
        };
        for r in per_feature {
            let (c, t, m) = r?;
            b.cols.push(c);
            b.thresholds.push(t);
            b.has_missing.push(m);
        }
        Ok(b)
    }

    pub(super) fn n_features(&self) -> usize {
        self.cols.len()
    }

    /// Bins holding non-missing values of feature `f`.
    pub(super) fn n_bins_non_missing(&self, f: usize) -> usize {
        self.thresholds[f].len() + 1
    }
}
