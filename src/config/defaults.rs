//! The defaults and limits of the search file that other modules name.

/// The most grid points a grid search without a `trials` cap may have:
/// the largest budget the manifest can record (i64::MAX).
pub const MAX_GRID: u64 = i64::MAX as u64;

/// Default of `[objective] prune_grace`, seconds.
pub const DEFAULT_PRUNE_GRACE: f64 = 10.0;

/// Default of `[objective] factor` (scikit-learn's halving searches).
pub const DEFAULT_FACTOR: u64 = 3;

/// Default of `[objective] max_resources` for `resource = "trees"`
/// (scikit-learn's default `n_estimators`).
pub const DEFAULT_MAX_TREES: u64 = 100;

/// Default of `[objective] max_resources` for `resource = "iterations"`
/// (scikit-learn's default `max_iter`).
pub const DEFAULT_MAX_ITERATIONS: u64 = 100;

/// Default of `[objective] max_failures`.
pub const DEFAULT_MAX_FAILURES: u64 = 10;
