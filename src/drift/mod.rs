//! Drift checks for exported models: compare new data, streamed from a CSV
//! file, with the reference profile the artifact carries (see
//! [`profile`]), column by column and for the model's predictions, and
//! grade each difference `ok`, `warn` or `alert` against documented
//! thresholds.
//!
//! This module owns the check, its report and the thresholds. It reads the
//! artifact (never writes it) and streams the CSV file one record at a
//! time, so memory is O(features × profile points + one prediction batch),
//! not O(rows). It never sees searches, strategies or results folders.
//!
//! # The checks, per column
//!
//! | check | numeric column | categorical column | effect compared |
//! | --- | --- | --- | --- |
//! | `psi` | over 10 equal-mass training bins | over the training levels + one "unseen" cell | the PSI |
//! | `ks` / `chi2` | two-sample Kolmogorov–Smirnov | chi-square test of homogeneity | D / Cramér's V |
//! | `missing` | change in the missing fraction (2×2 chi-square test) | same | \|Δ\| |
//! | `outside` | share of values outside the training [min, max] | share of unseen levels | the share |
//!
//! Each check has a p-value and an effect size; it **warns** when the
//! effect reaches the warn threshold *and* p < 0.05 / K, and **alerts**
//! when the effect reaches the alert threshold *and* p < 0.01 / K, where K
//! is the number of checks in the report (4 per column, the predictions
//! included; Bonferroni, so that with no drift the whole report alerts
//! with probability at most about 1 %); see [`THRESHOLDS`]. Requiring both
//! keeps a million-row batch from alerting on a difference too small to
//! matter (every p-value is tiny there) and a 50-row batch from alerting
//! on noise (every effect is large there). A column's severity is its
//! worst check's; the report's is its worst column's. Missing cells are left out of the PSI, KS and chi-square
//! tests: the `missing` check covers them.
//!
//! p-values: KS by the asymptotic Kolmogorov distribution with
//! `n_eff = n m / (n + m)`; chi-square and missing from the chi-square
//! distribution; PSI from `PSI · n_eff ~ χ²(bins − 1)` (the PSI is, for
//! small differences, the chi-square distance of the two histograms);
//! `outside` from a Poisson tail: with no drift a new value falls outside
//! the range of `n` training values with probability at most `2/(n+1)`,
//! and is an unseen level with probability about `(f1 + 1)/(n + 1)`
//! (`f1`: levels seen once in training, Good–Turing).
//!
//! The KS statistic is exact (scipy's `ks_2samp`) when the profile stored
//! every distinct training value (at most 100); otherwise it is evaluated
//! at the stored quantiles and the training minimum, a lower bound of the
//! true statistic.
//!
//! # Determinism
//!
//! The report is a pure function of the artifact and the CSV bytes:
//! records are tallied in file order, predictions run in fixed batches of
//! `BATCH_ROWS` rows, levels are kept in `BTreeMap`s, and every sum runs
//! in a fixed order. Two runs print the same bytes.

pub mod artifact;
pub mod profile;
pub(crate) mod stats;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::data::preprocess::{FittedColumn, Impute};
use crate::data::{self, Column, Dataset, Target};
use crate::objective::models::Prediction;
pub use artifact::Artifact;
use profile::{class_label, ColumnProfile, Moments, NumericProfile, Values};

/// Rows predicted at a time for the prediction check (fixed, so the
/// batches, and anything a model might do per batch, never vary).
pub(crate) const BATCH_ROWS: usize = 4096;

/// At most this many distinct unseen levels are remembered per column
/// (their rows are all counted); the report lists the most frequent.
const MAX_UNSEEN_KEPT: usize = 1000;

/// Checks per column: psi, ks or chi2, missing, outside.
pub(crate) const CHECKS_PER_COLUMN: usize = 4;

/// How many unseen levels the report names per column.
const UNSEEN_SHOWN: usize = 10;

/// Why a drift check could not run (exit 2: nothing was checked).
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// The artifact predates profiles.
    #[error(
        "{path}: this model has no training-data profile (artifact format {format}); \
         re-export it with this hpsearch ({ours}) to check drift"
    )]
    NoProfile {
        /// The artifact file.
        path: PathBuf,
        /// Its artifact format (1: before profiles).
        format: u32,
        /// This hpsearch's version.
        ours: &'static str,
    },
    /// The CSV file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The CSV file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CSV file's content does not fit the model.
    #[error("{path}: {message}")]
    Invalid {
        /// The CSV file.
        path: PathBuf,
        /// What does not fit, naming the line or column.
        message: String,
    },
    /// Predicting a batch failed.
    #[error("{path}: predicting rows for the prediction check: {message}")]
    Predict {
        /// The CSV file.
        path: PathBuf,
        /// The model's error.
        message: String,
    },
}

/// `ok`, `warn` or `alert` (ordered: `Ok < Warn < Alert`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing beyond the warn thresholds.
    Ok,
    /// Worth a look.
    Warn,
    /// The model should not be trusted on this data without review.
    Alert,
}

impl Severity {
    /// `ok`, `warn`, `alert`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Warn => "warn",
            Severity::Alert => "alert",
        }
    }
}

/// The warn and alert levels of one check: the effect must reach the
/// level and the p-value fall below the matching significance.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Level {
    /// Effect size at which the check warns.
    pub warn: f64,
    /// Effect size at which the check alerts.
    pub alert: f64,
}

/// Every threshold a drift check uses (the report carries them).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    /// A warning needs p below this divided by the number of checks.
    pub warn_p: f64,
    /// An alert needs p below this divided by the number of checks.
    pub alert_p: f64,
    /// PSI.
    pub psi: Level,
    /// KS statistic D (numeric columns).
    pub ks: Level,
    /// Cramér's V of the chi-square test, `sqrt(chi2 / (n + m))`.
    pub chi2: Level,
    /// Absolute change of the missing fraction.
    pub missing: Level,
    /// Share of present values outside the training range / unseen levels.
    pub outside: Level,
}

/// The thresholds: PSI 0.1 / 0.25 (the usual credit-scoring levels), KS D
/// and Cramér's V 0.05 / 0.1, missing fraction ±0.02 / ±0.05, outside
/// share 0.01 / 0.05; significance, for the whole report, 0.05 to warn and
/// 0.01 to alert (each check: p below that over the number of checks).
/// `docs/drift.md` gives the false-alarm rate these give.
pub const THRESHOLDS: Thresholds = Thresholds {
    warn_p: 0.05,
    alert_p: 0.01,
    psi: Level {
        warn: 0.1,
        alert: 0.25,
    },
    ks: Level {
        warn: 0.05,
        alert: 0.1,
    },
    chi2: Level {
        warn: 0.05,
        alert: 0.1,
    },
    missing: Level {
        warn: 0.02,
        alert: 0.05,
    },
    outside: Level {
        warn: 0.01,
        alert: 0.05,
    },
};

/// One check of one column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// `psi`, `ks`, `chi2`, `missing` or `outside`.
    pub test: &'static str,
    /// The statistic (PSI; KS D; chi-square; new − training missing
    /// fraction; outside share). `None` when a side has no values.
    pub statistic: Option<f64>,
    /// Degrees of freedom (chi-square, and the PSI's approximation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dof: Option<usize>,
    /// Its p-value (`None` where none applies: the effect decides alone).
    pub p_value: Option<f64>,
    /// The effect size compared with the thresholds.
    pub effect: Option<f64>,
    /// The grade.
    pub severity: Severity,
    /// The effect levels it is graded against.
    #[serde(skip)]
    level: Level,
}

impl Check {
    /// An ungraded check (severity `ok` until [`Check::grade`]).
    fn new(
        test: &'static str,
        statistic: Option<f64>,
        dof: Option<usize>,
        p_value: Option<f64>,
        effect: Option<f64>,
        level: Level,
    ) -> Check {
        Check {
            test,
            statistic,
            dof,
            p_value,
            effect,
            severity: Severity::Ok,
            level,
        }
    }

    /// Grade against the thresholds, the p-value against the family-wise
    /// levels divided by `tests`, the number of checks in the report
    /// (Bonferroni: with no drift, the chance that any check of the report
    /// passes the alert significance is at most 1 %). A check without a
    /// p-value is graded on its effect alone.
    pub fn grade(&mut self, tests: usize) {
        let t = &THRESHOLDS;
        let k = tests.max(1) as f64;
        self.severity = match self.effect {
            None => Severity::Ok,
            Some(e) => {
                let p = self.p_value.unwrap_or(0.0);
                if e >= self.level.alert && p < t.alert_p / k {
                    Severity::Alert
                } else if e >= self.level.warn && p < t.warn_p / k {
                    Severity::Warn
                } else {
                    Severity::Ok
                }
            }
        };
    }
}

/// A column's summary on one side (training or new).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Side {
    /// Rows.
    pub count: u64,
    /// Missing fraction.
    pub missing_fraction: Option<f64>,
    /// Mean of the present values (numeric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Population std of the present values (numeric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    /// Smallest present value (numeric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest present value (numeric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Number of distinct levels (categorical; new side: seen ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<u64>,
}

/// Whether a report row is an input column or the model's predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A feature column of the CSV file.
    Feature,
    /// The model's predictions on the rows.
    Prediction,
}

/// The checks of one column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnReport {
    /// Column name (`prediction` for the predictions).
    pub column: String,
    /// Feature or prediction.
    pub role: Role,
    /// `numeric` or `categorical`.
    pub kind: &'static str,
    /// The worst of the checks.
    pub severity: Severity,
    /// The training side.
    pub train: Side,
    /// The new data.
    pub new: Side,
    /// Population stability index.
    pub psi: Check,
    /// KS (numeric) or chi-square (categorical).
    pub test: Check,
    /// Change of the missing fraction.
    pub missing: Check,
    /// Values outside the training range, or unseen levels.
    pub outside: Check,
    /// The most frequent unseen levels and their counts (categorical).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unseen: Vec<(String, u64)>,
}

impl ColumnReport {
    fn checks(&self) -> [&Check; 4] {
        [&self.psi, &self.test, &self.missing, &self.outside]
    }
}

/// The result of a drift check.
///
/// # Format
///
/// `--format json` writes this object: `model`, `trial`, `root_hash` (of
/// the search the model came from), `data_sha256` (of the CSV checked),
/// `rows`, `training_rows`, `severity` (the worst), `alerts` and
/// `warnings` (columns at that severity), `columns` (sorted as the table:
/// alert, warn, ok, then by PSI, largest first, then by name), each with
/// `column`, `role`, `kind`, `severity`, `train` and `new` summaries and
/// the checks `psi`, `test`, `missing`, `outside` (each `{ test,
/// statistic, dof?, p_value, effect, severity }`), and `thresholds`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The model's name.
    pub model: String,
    /// The trial it was exported from.
    pub trial: u64,
    /// Root hash of the search it came from.
    pub root_hash: String,
    /// SHA-256 of the CSV file checked.
    pub data_sha256: String,
    /// Rows checked.
    pub rows: u64,
    /// Rows the model was trained on.
    pub training_rows: u64,
    /// The worst column's severity.
    pub severity: Severity,
    /// Checks in the report (4 per column, predictions included): the
    /// p-value levels are divided by it.
    pub tests: usize,
    /// Columns that alert.
    pub alerts: usize,
    /// Columns that warn.
    pub warnings: usize,
    /// Every feature column and the predictions, sorted by severity.
    pub columns: Vec<ColumnReport>,
    /// The thresholds used.
    pub thresholds: Thresholds,
}

// ------------------------------------------------------------ tallies --

/// The new data of one numeric column, against its training points.
#[derive(Clone, Debug)]
pub(crate) struct NumericTally {
    count: u64,
    missing: u64,
    moments: Moments,
    min: Option<f64>,
    max: Option<f64>,
    /// Values strictly between `points[i-1]` and `points[i]` (below the
    /// first point for `i = 0`).
    below: Vec<u64>,
    /// Values equal to `points[i]`.
    at: Vec<u64>,
    /// Values above the last point.
    above: u64,
}

impl NumericTally {
    /// An empty tally for a column with `points` training points.
    pub fn new(points: usize) -> NumericTally {
        NumericTally {
            count: 0,
            missing: 0,
            moments: Moments::default(),
            min: None,
            max: None,
            below: vec![0; points],
            at: vec![0; points],
            above: 0,
        }
    }

    /// Add one cell (`None`: missing).
    pub fn push(&mut self, reference: &NumericProfile, x: Option<f64>) {
        self.count += 1;
        let Some(x) = x else {
            self.missing += 1;
            return;
        };
        self.moments.push(x);
        self.min = Some(self.min.map_or(x, |m| m.min(x)));
        self.max = Some(self.max.map_or(x, |m| m.max(x)));
        let i = reference.points.partition_point(|&p| p < x);
        if i == reference.points.len() {
            self.above += 1;
        } else if reference.points[i] == x {
            self.at[i] += 1;
        } else {
            self.below[i] += 1;
        }
    }

    fn present(&self) -> u64 {
        self.count - self.missing
    }
}

/// The new data of one categorical column, against its training levels.
#[derive(Clone, Debug)]
pub(crate) struct CategoricalTally {
    count: u64,
    missing: u64,
    /// Per training level, in the profile's (sorted) order.
    seen: Vec<u64>,
    unseen_total: u64,
    unseen: BTreeMap<String, u64>,
}

impl CategoricalTally {
    /// An empty tally for a column with `levels` training levels.
    pub fn new(levels: usize) -> CategoricalTally {
        CategoricalTally {
            count: 0,
            missing: 0,
            seen: vec![0; levels],
            unseen_total: 0,
            unseen: BTreeMap::new(),
        }
    }

    /// Add one cell (`None`: missing); `index` finds a training level.
    pub fn push(&mut self, index: &BTreeMap<String, usize>, cell: Option<&str>) {
        self.count += 1;
        let Some(v) = cell else {
            self.missing += 1;
            return;
        };
        match index.get(v) {
            Some(&k) => self.seen[k] += 1,
            None => {
                self.unseen_total += 1;
                if let Some(c) = self.unseen.get_mut(v) {
                    *c += 1;
                } else if self.unseen.len() < MAX_UNSEEN_KEPT {
                    self.unseen.insert(v.to_owned(), 1);
                }
            }
        }
    }

    fn present(&self) -> u64 {
        self.count - self.missing
    }
}

/// The tally of one column of either kind.
#[derive(Clone, Debug)]
pub(crate) enum Tally {
    /// A numeric column.
    Numeric(NumericTally),
    /// A categorical column.
    Categorical(CategoricalTally),
}

/// A tally paired with what it needs from the profile.
struct Tracker<'a> {
    reference: &'a ColumnProfile,
    index: BTreeMap<String, usize>,
    tally: Tally,
}

impl<'a> Tracker<'a> {
    fn new(reference: &'a ColumnProfile) -> Tracker<'a> {
        match &reference.values {
            Values::Numeric(n) => Tracker {
                reference,
                index: BTreeMap::new(),
                tally: Tally::Numeric(NumericTally::new(n.points.len())),
            },
            Values::Categorical(c) => Tracker {
                reference,
                index: c
                    .levels
                    .keys()
                    .enumerate()
                    .map(|(i, k)| (k.clone(), i))
                    .collect(),
                tally: Tally::Categorical(CategoricalTally::new(c.levels.len())),
            },
        }
    }

    fn push_number(&mut self, x: Option<f64>) {
        if let (Tally::Numeric(t), Values::Numeric(n)) = (&mut self.tally, &self.reference.values) {
            t.push(n, x);
        }
    }

    fn push_text(&mut self, v: Option<&str>) {
        if let Tally::Categorical(t) = &mut self.tally {
            t.push(&self.index, v);
        }
    }

    fn report(&self, role: Role, tests: usize) -> ColumnReport {
        evaluate(self.reference, &self.tally, role, tests)
    }
}

// ---------------------------------------------------------- evaluation --

/// Compare a column's tally with its profile and grade the checks, their
/// p-values corrected for `tests` checks in the whole report (see
/// [`Check::grade`]).
pub(crate) fn evaluate(
    reference: &ColumnProfile,
    tally: &Tally,
    role: Role,
    tests: usize,
) -> ColumnReport {
    let t = &THRESHOLDS;
    let (count, missing) = match tally {
        Tally::Numeric(x) => (x.count, x.missing),
        Tally::Categorical(x) => (x.count, x.missing),
    };
    let frac = |m: u64, c: u64| (c > 0).then(|| m as f64 / c as f64);
    let train_frac = frac(reference.missing, reference.count);
    let new_frac = frac(missing, count);
    let missing_check = {
        let delta = match (new_frac, train_frac) {
            (Some(a), Some(b)) => Some(a - b),
            _ => None,
        };
        let test = stats::chi2_homogeneity(
            &[reference.missing, reference.count - reference.missing],
            &[missing, count - missing],
        );
        let p = test.map(|(s, dof)| stats::chi2_sf(s, dof as f64));
        let p = match (delta, p) {
            // No cell varies (nothing missing anywhere): nothing changed.
            (Some(_), None) => Some(1.0),
            (_, p) => p,
        };
        Check::new("missing", delta, None, p, delta.map(f64::abs), t.missing)
    };
    let mut report = match (&reference.values, tally) {
        (Values::Numeric(p), Tally::Numeric(x)) => numeric_checks(reference, p, x, role),
        (Values::Categorical(p), Tally::Categorical(x)) => {
            categorical_checks(reference, &p.levels, x, role)
        }
        // A tally is always built from its own profile's kind.
        _ => categorical_checks(reference, &BTreeMap::new(), &CategoricalTally::new(0), role),
    };
    report.train.missing_fraction = train_frac;
    report.new.missing_fraction = new_frac;
    report.missing = missing_check;
    for c in [
        &mut report.psi,
        &mut report.test,
        &mut report.missing,
        &mut report.outside,
    ] {
        c.grade(tests);
    }
    report.severity = report
        .checks()
        .iter()
        .map(|c| c.severity)
        .max()
        .unwrap_or(Severity::Ok);
    report
}

fn blank_check(test: &'static str) -> Check {
    Check::new(
        test,
        None,
        None,
        None,
        None,
        Level {
            warn: f64::INFINITY,
            alert: f64::INFINITY,
        },
    )
}

fn numeric_checks(
    reference: &ColumnProfile,
    p: &NumericProfile,
    x: &NumericTally,
    role: Role,
) -> ColumnReport {
    let t = &THRESHOLDS;
    let n = p.present();
    let m = x.present();
    // The new data's cumulative counts at each point: up to and excluding
    // the point, and up to and including it.
    let mut before = Vec::with_capacity(p.points.len());
    let mut upto = Vec::with_capacity(p.points.len());
    let mut cum = 0u64;
    for i in 0..p.points.len() {
        cum += x.below[i];
        before.push(cum);
        cum += x.at[i];
        upto.push(cum);
    }
    // PSI over the decile bins derived from the stored points.
    let ends = p.psi_ends();
    let mut train_bins = Vec::with_capacity(ends.len() + 1);
    let mut new_bins = Vec::with_capacity(ends.len() + 1);
    let train_cum: Vec<u64> = p
        .counts
        .iter()
        .scan(0u64, |s, &c| {
            *s += c;
            Some(*s)
        })
        .collect();
    let (mut tprev, mut nprev) = (0u64, 0u64);
    for &e in &ends {
        train_bins.push(train_cum[e] - tprev);
        new_bins.push(upto[e] - nprev);
        tprev = train_cum[e];
        nprev = upto[e];
    }
    train_bins.push(n - tprev);
    new_bins.push(m - nprev);
    let psi = stats::psi(&train_bins, &new_bins);
    let psi_p = psi.and_then(|v| stats::psi_p_value(v, n, m, train_bins.len()));
    let psi_check = Check::new(
        "psi",
        psi,
        (train_bins.len() > 1).then(|| train_bins.len() - 1),
        psi_p,
        psi,
        t.psi,
    );
    // KS: at each point (exact training CDF), and just below each point
    // where the training CDF is known there (every point when exact; the
    // minimum otherwise, where it is 0).
    let ks = (n > 0 && m > 0).then(|| {
        let (nf, mf) = (n as f64, m as f64);
        let mut d: f64 = 0.0;
        let mut prev = 0u64;
        for i in 0..p.points.len() {
            if p.exact || i == 0 {
                d = d.max((prev as f64 / nf - before[i] as f64 / mf).abs());
            }
            d = d.max((train_cum[i] as f64 / nf - upto[i] as f64 / mf).abs());
            prev = train_cum[i];
        }
        d
    });
    let ks_check = Check::new(
        "ks",
        ks,
        None,
        ks.and_then(|d| stats::ks_p_value(d, n, m)),
        ks,
        t.ks,
    );
    // Outside the training range.
    let outside = (m > 0).then(|| {
        let k = x.below.first().copied().unwrap_or(0) + x.above;
        (k, k as f64 / m as f64)
    });
    let outside_check = match outside {
        None => blank_check("outside"),
        Some((k, share)) => {
            let p_value = (n > 0).then(|| {
                let rate = (2.0 / (n as f64 + 1.0)).min(1.0);
                stats::poisson_at_least(k, m as f64 * rate)
            });
            Check::new(
                "outside",
                Some(share),
                None,
                p_value,
                Some(share),
                t.outside,
            )
        }
    };
    ColumnReport {
        column: reference.name.clone(),
        role,
        kind: "numeric",
        severity: Severity::Ok,
        train: Side {
            count: reference.count,
            missing_fraction: None,
            mean: p.mean,
            std: p.std,
            min: p.min,
            max: p.max,
            levels: None,
        },
        new: Side {
            count: x.count,
            missing_fraction: None,
            mean: x.moments.mean(),
            std: x.moments.std(),
            min: x.min,
            max: x.max,
            levels: None,
        },
        psi: psi_check,
        test: ks_check,
        missing: blank_check("missing"),
        outside: outside_check,
        unseen: Vec::new(),
    }
}

fn categorical_checks(
    reference: &ColumnProfile,
    levels: &BTreeMap<String, u64>,
    x: &CategoricalTally,
    role: Role,
) -> ColumnReport {
    let t = &THRESHOLDS;
    let n: u64 = levels.values().sum();
    let m = x.present();
    let mut train_cells: Vec<u64> = levels.values().copied().collect();
    let mut new_cells: Vec<u64> = x.seen.clone();
    new_cells.resize(train_cells.len(), 0);
    train_cells.push(0);
    new_cells.push(x.unseen_total);
    // PSI over the levels and the unseen cell; a cell empty on both sides
    // adds nothing (q = p = epsilon), so the unseen cell is harmless.
    let psi = stats::psi(&train_cells, &new_cells);
    let used = train_cells
        .iter()
        .zip(&new_cells)
        .filter(|(a, b)| **a + **b > 0)
        .count();
    let psi_p = psi.and_then(|v| stats::psi_p_value(v, n, m, used));
    let psi_check = Check::new("psi", psi, (used > 1).then(|| used - 1), psi_p, psi, t.psi);
    let chi2 = stats::chi2_homogeneity(&train_cells, &new_cells);
    let chi2_check = match chi2 {
        Some((stat, dof)) => {
            let v = (stat / (n + m) as f64).sqrt();
            Check::new(
                "chi2",
                Some(stat),
                Some(dof),
                Some(stats::chi2_sf(stat, dof as f64)),
                Some(v),
                t.chi2,
            )
        }
        // Both sides have values but only one cell: nothing differs.
        None if n > 0 && m > 0 => {
            Check::new("chi2", Some(0.0), Some(0), Some(1.0), Some(0.0), t.chi2)
        }
        None => blank_check("chi2"),
    };
    let outside_check = if m > 0 {
        let share = x.unseen_total as f64 / m as f64;
        let p_value = (n > 0).then(|| {
            let singletons = levels.values().filter(|&&c| c == 1).count() as f64;
            let rate = ((singletons + 1.0) / (n as f64 + 1.0)).min(1.0);
            stats::poisson_at_least(x.unseen_total, m as f64 * rate)
        });
        Check::new(
            "outside",
            Some(share),
            None,
            p_value,
            Some(share),
            t.outside,
        )
    } else {
        blank_check("outside")
    };
    let mut unseen: Vec<(String, u64)> = x.unseen.iter().map(|(k, v)| (k.clone(), *v)).collect();
    // Most frequent first, ties by level (the sort is stable on a sorted list).
    unseen.sort_by_key(|u| std::cmp::Reverse(u.1));
    unseen.truncate(UNSEEN_SHOWN);
    let seen_levels = x.seen.iter().filter(|&&c| c > 0).count() as u64;
    ColumnReport {
        column: reference.name.clone(),
        role,
        kind: "categorical",
        severity: Severity::Ok,
        train: Side {
            count: reference.count,
            missing_fraction: None,
            mean: None,
            std: None,
            min: None,
            max: None,
            levels: Some(levels.len() as u64),
        },
        new: Side {
            count: x.count,
            missing_fraction: None,
            mean: None,
            std: None,
            min: None,
            max: None,
            levels: Some(seen_levels + x.unseen.len() as u64),
        },
        psi: psi_check,
        test: chi2_check,
        missing: blank_check("missing"),
        outside: outside_check,
        unseen,
    }
}

/// Sort rows as the table shows them: alert, warn, ok; then by PSI,
/// largest first (none last); then by name; the predictions after a
/// feature with the same name.
pub(crate) fn sort_columns(columns: &mut [ColumnReport]) {
    columns.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| {
                let pa = a.psi.statistic.unwrap_or(f64::NEG_INFINITY);
                let pb = b.psi.statistic.unwrap_or(f64::NEG_INFINITY);
                pb.total_cmp(&pa)
            })
            .then_with(|| a.column.cmp(&b.column))
            .then_with(|| (a.role == Role::Prediction).cmp(&(b.role == Role::Prediction)))
    });
}

// ------------------------------------------------------------ the check --

/// A reader that hashes every byte it passes on and keeps the bytes from
/// the start of the last record on, so that each record's line can be
/// counted from the bytes themselves, as `predict` counts it.
///
/// Why not the csv reader's own line counter: it stands after a record's
/// `\n` in an LF file but before it in a CRLF file (the next read consumes
/// it), so it cannot tell a clean LF header from a CRLF header with a
/// blank line before it. Counting the `\n` bytes before each record's first
/// byte has no such ambiguity, for LF, CRLF or mixed line ends.
struct Lines<R> {
    inner: R,
    hasher: Sha256,
    /// The bytes read, from absolute offset `base` on.
    window: Vec<u8>,
    /// Absolute offset of `window[0]`.
    base: u64,
    /// `window[..done]` is counted in `newlines` and may be dropped.
    done: usize,
    /// `\n` bytes before `window[done]`.
    newlines: u64,
}

impl<R> Lines<R> {
    fn new(inner: R) -> Lines<R> {
        Lines {
            inner,
            hasher: Sha256::new(),
            window: Vec::new(),
            base: 0,
            done: 0,
            newlines: 0,
        }
    }

    /// The 1-based line on which the record whose reading started at
    /// absolute byte `start` (the csv reader's position before the read)
    /// begins: the reader skips line breaks and blank lines before a
    /// record, so its first byte is the first one at or after `start` that
    /// is neither `\r` nor `\n` (nor the file's byte order mark). Forgets
    /// the bytes before it. The record
    /// has been read, so its bytes are all in the window.
    fn line_of_record(&mut self, start: u64) -> u64 {
        let mut from = usize::try_from(start.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .clamp(self.done, self.window.len());
        // The csv reader drops a UTF-8 byte order mark at the file's start.
        if self.base == 0 && from == 0 && self.window.starts_with(b"\xEF\xBB\xBF") {
            from = 3;
        }
        let first = self.window[from..]
            .iter()
            .position(|&b| b != b'\n' && b != b'\r')
            .map_or(self.window.len(), |k| from + k);
        let counted = self.window[self.done..first]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.newlines += counted as u64;
        self.done = first;
        self.newlines + 1
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        // Drop what is counted once per read (not per record): the csv
        // reader reads 64 KiB at a time, so the window stays about that
        // size plus one record, and each byte is moved once.
        self.window.drain(..self.done);
        self.base += self.done as u64;
        self.done = 0;
        self.window.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Check the rows of `csv` against `artifact`'s profile, streaming the
/// file. `model_path` only names the artifact in errors.
///
/// Columns follow `predict`'s rules: matched by name in any order, every
/// feature the model reads must be there, the target column may be (it is
/// ignored), any other column is an error. A numeric training column whose
/// cell is not a number (and not a missing marker) is an error naming its
/// line, as `predict` would refuse it; so is a missing cell when the model
/// was exported with `impute = "none"`, unless the model takes missing
/// values natively (`gradient_boosting`: the cell reaches it as NaN). Data row `r` is on line `r + 2`,
/// as for `predict`: a blank line before the header or a row, a quoted
/// cell with a line break, or a line that ends in a bare carriage return
/// is an error naming the line (blank lines at the end are fine), for LF
/// and CRLF files alike.
pub fn check(artifact: &Artifact, model_path: &Path, csv: &Path) -> Result<Report, DriftError> {
    let pass = Pass {
        tally: true,
        predict: false,
    };
    scan(artifact, model_path, csv, pass, &[], None)?.ok_or_else(|| no_report(csv))
}

/// Where a scan hands its predictions: one [`BATCH_ROWS`]-row batch at a
/// time, in row order, with the batch's cells of the kept columns. An
/// error stops the scan with its message.
pub(crate) type Sink<'s> = &'s mut SinkFn<'s>;

/// What a [`Sink`] points at.
pub(crate) type SinkFn<'s> = dyn FnMut(&Prediction, &Kept<'_>) -> Result<(), String> + 's;

/// The input columns `predict --keep` passes through, for one batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kept<'a> {
    /// Their names, in the order they have in the input file.
    pub names: &'a [String],
    /// Their cells (trimmed), row after row.
    pub cells: &'a [String],
}

/// [`check`], and the model's predictions of every row of `csv`, in row
/// order, from the same single read of the file: what `predict --check-drift`
/// writes. Each batch goes to `sink` as soon as it is predicted; an error
/// can come after some batches went (the caller writes them to a temporary
/// file and keeps it only when this returns `Ok`).
///
/// The predictions are those of [`BATCH_ROWS`]-row batches put end to end;
/// every model predicts each row on its own, so they are, bit for bit,
/// those of [`Artifact::predict`] on [`data::load_features`] of the whole
/// file (`tests/drift.rs` and `tests/big_data.rs` compare the written
/// files, across batch boundaries, for every model). Like `predict`, it
/// reads each column with the kind it had in training (a text column stays
/// text even when every cell is a number). Memory: the report's plus one
/// batch, whatever the rows.
/// `keep` names input columns passed through to `sink` (`predict --keep`).
pub(crate) fn check_and_predict(
    artifact: &Artifact,
    model_path: &Path,
    csv: &Path,
    keep: &[String],
    sink: Sink<'_>,
) -> Result<Report, DriftError> {
    let pass = Pass {
        tally: true,
        predict: true,
    };
    scan(artifact, model_path, csv, pass, keep, Some(sink))?.ok_or_else(|| no_report(csv))
}

/// `predict`'s streaming pass: read `csv` as [`check_and_predict`] does
/// (the same rules, lines and messages) and hand each batch's predictions
/// to `sink`, without the drift tallies (so an artifact without a profile
/// predicts too). With no sink the rows are only checked, nothing is
/// predicted: `predict` does that first when it writes to stdout, where
/// nothing can be taken back. Memory: one batch, whatever the rows.
/// `keep` names input columns passed through to `sink` (`predict --keep`):
/// each must be in the header, and a column the model does not read is
/// allowed when it is kept.
pub(crate) fn predict_rows(
    artifact: &Artifact,
    model_path: &Path,
    csv: &Path,
    keep: &[String],
    sink: Option<Sink<'_>>,
) -> Result<(), DriftError> {
    let pass = Pass {
        tally: false,
        predict: sink.is_some(),
    };
    scan(artifact, model_path, csv, pass, keep, sink).map(|_| ())
}

fn no_report(csv: &Path) -> DriftError {
    DriftError::Invalid {
        path: csv.to_path_buf(),
        message: "the drift check made no report".into(),
    }
}

/// What one scan of the file does.
#[derive(Clone, Copy)]
struct Pass {
    /// Tally the columns and predictions against the profile (drift).
    tally: bool,
    /// Run the model on each batch.
    predict: bool,
}

/// One pass over the file: the checks every pass makes, plus what `pass`
/// asks for; the report when it tallies.
fn scan(
    artifact: &Artifact,
    model_path: &Path,
    csv: &Path,
    pass: Pass,
    keep: &[String],
    mut sink: Option<Sink<'_>>,
) -> Result<Option<Report>, DriftError> {
    let profile = match pass.tally {
        false => None,
        true => Some(
            artifact
                .profile
                .as_ref()
                .ok_or_else(|| DriftError::NoProfile {
                    path: model_path.to_path_buf(),
                    format: artifact.format,
                    ours: env!("CARGO_PKG_VERSION"),
                })?,
        ),
    };
    let invalid = |message: String| DriftError::Invalid {
        path: csv.to_path_buf(),
        message,
    };
    // A FIFO would block at open and a device never end: refuse them.
    if let Ok(Some(what)) = data::not_regular(csv) {
        return Err(invalid(format!(
            "is {what}, not a regular file; hpsearch reads only regular files: save the rows \
             to a file and give its path"
        )));
    }
    let file = std::fs::File::open(csv).map_err(|source| DriftError::Io {
        path: csv.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(Lines::new(file));
    let mut record = csv::StringRecord::new();
    let read = |reader: &mut csv::Reader<Lines<std::fs::File>>,
                record: &mut csv::StringRecord,
                line: usize|
     -> Result<bool, DriftError> {
        reader.read_record(record).map_err(|e| match e.kind() {
            csv::ErrorKind::Io(_) => DriftError::Io {
                path: csv.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            },
            csv::ErrorKind::Utf8 { .. } => invalid(format!(
                "line {line}: the file is not valid UTF-8 text; save it as UTF-8"
            )),
            _ => invalid(format!("line {line}: cannot parse the CSV: {e}")),
        })
    };
    // Where a record really starts, against the line its place says
    // (`expected`); with a line break inside a cell refused first, a
    // record that starts later follows blank lines, and one that starts
    // earlier follows a line ended by a bare `\r` (`predict` counts lines by
    // `\n` and refuses both).
    let placed = |reader: &mut csv::Reader<Lines<std::fs::File>>,
                  record: &csv::StringRecord,
                  expected: usize|
     -> Result<(), DriftError> {
        if record.as_slice().contains('\n') {
            let what = if expected == 1 {
                "the header".to_string()
            } else {
                "this row".to_string()
            };
            return Err(invalid(format!(
                "line {expected}: a quoted cell in {what} contains a line break; cells may \
                 not span lines (hpsearch names rows by their line, and predict refuses the \
                 file too): remove the line break"
            )));
        }
        let start = record.position().map_or(0, csv::Position::byte);
        let line = reader.get_mut().line_of_record(start);
        let expected = expected as u64;
        if line > expected {
            let place = if expected == 1 {
                "before the header"
            } else {
                "before or between rows"
            };
            return Err(invalid(format!(
                "line {expected}: blank line; blank lines {place} are not allowed (hpsearch \
                 names rows by their line, and predict refuses the file too): delete it"
            )));
        }
        if line < expected {
            return Err(invalid(format!(
                "line {}: the line ends in a bare carriage return (CR) rather than LF or \
                 CRLF; hpsearch counts lines by their LF (and predict refuses the file too): \
                 save the file with LF or CRLF line ends",
                expected - 1
            )));
        }
        Ok(())
    };
    if !read(&mut reader, &mut record, 1)? {
        return Err(invalid(
            "the file is empty: it needs a header row and at least one data row".into(),
        ));
    }
    placed(&mut reader, &record, 1)?;
    let header: Vec<String> = record
        .iter()
        .enumerate()
        .map(|(j, f)| {
            let f = if j == 0 {
                f.trim_start_matches('\u{feff}')
            } else {
                f
            };
            f.trim().to_owned()
        })
        .collect();
    let positions = match_columns(artifact, &header, keep).map_err(&invalid)?;
    // Kept columns go out in the order they have in the input.
    let kept_at: Vec<usize> = (0..header.len())
        .filter(|&j| keep.contains(&header[j]))
        .collect();
    let kept_names: Vec<String> = kept_at.iter().map(|&j| header[j].clone()).collect();

    // Without a profile (predict), no trackers: `trackers.get_mut(i)` is
    // `None` and nothing is tallied.
    let mut trackers: Vec<Tracker> = profile
        .map(|p| p.features.iter().map(Tracker::new).collect())
        .unwrap_or_default();
    if profile.is_some() && trackers.len() != artifact.features.len() {
        return Err(invalid(format!(
            "the model's profile has {} columns but it reads {}; re-export the model",
            trackers.len(),
            artifact.features.len()
        )));
    }
    let mut prediction = profile.map(|p| Tracker::new(&p.prediction));
    // A model that takes NaN natively was exported keeping missing cells.
    let spec = artifact.preprocessing.spec();
    let impute_none = spec.impute == Impute::None && !spec.keep_missing;
    let mut batch = Batch::new(artifact);
    let predict = pass.tally || pass.predict;
    let mut rows = 0u64;
    loop {
        let line = rows as usize + 2;
        if !read(&mut reader, &mut record, line)? {
            break;
        }
        placed(&mut reader, &record, line)?;
        if record.len() != header.len() {
            return Err(invalid(format!(
                "line {line}: expected {} fields as in the header, found {}; every row needs \
                 one value per column",
                header.len(),
                record.len()
            )));
        }
        for (i, (&pos, column)) in positions.iter().zip(&mut batch.columns).enumerate() {
            let name = batch.names.get(i).map_or("", String::as_str);
            let tracker = trackers.get_mut(i);
            let cell = record.get(pos).unwrap_or("").trim();
            let missing = data::is_missing(cell);
            if missing && impute_none {
                return Err(invalid(format!(
                    "line {line}: column `{name}`: missing value, and the model was exported \
                     with impute = \"none\", so predict refuses this row: fill the value, or \
                     export a model fitted with another impute"
                )));
            }
            match column {
                Column::Numeric(values) => {
                    let x = if missing {
                        None
                    } else {
                        match data::parse_finite(cell) {
                            Some(v) => Some(v),
                            None => {
                                return Err(invalid(format!(
                                    "line {line}: column `{name}`: {}, but the column was \
                                     numeric in training",
                                    data::not_a_number(cell)
                                )))
                            }
                        }
                    };
                    if let Some(t) = tracker {
                        t.push_number(x);
                    }
                    values.push(x.unwrap_or(f64::NAN));
                }
                Column::Text(values) => {
                    let v = (!missing).then_some(cell);
                    if let Some(t) = tracker {
                        t.push_text(v);
                    }
                    values.push(v.map(str::to_owned));
                }
            }
        }
        for &pos in &kept_at {
            batch
                .kept
                .push(record.get(pos).unwrap_or("").trim().to_owned());
        }
        rows += 1;
        batch.rows += 1;
        if batch.rows == BATCH_ROWS {
            batch.predict(
                artifact,
                csv,
                predict,
                prediction.as_mut(),
                &kept_names,
                sink.as_deref_mut(),
            )?;
        }
    }
    if rows == 0 {
        return Err(invalid(
            "no data rows: the file has a header but no rows below it".into(),
        ));
    }
    batch.predict(
        artifact,
        csv,
        predict,
        prediction.as_mut(),
        &kept_names,
        sink,
    )?;
    let (Some(profile), Some(prediction)) = (profile, prediction) else {
        return Ok(None);
    };
    let data_sha256 = crate::seed::hex(&reader.into_inner().hasher.finalize());

    let tests = CHECKS_PER_COLUMN * (trackers.len() + 1);
    let mut columns: Vec<ColumnReport> = trackers
        .iter()
        .map(|t| t.report(Role::Feature, tests))
        .collect();
    columns.push(prediction.report(Role::Prediction, tests));
    sort_columns(&mut columns);
    let severity = columns
        .iter()
        .map(|c| c.severity)
        .max()
        .unwrap_or(Severity::Ok);
    Ok(Some(Report {
        model: artifact.model.clone(),
        trial: artifact.trial,
        root_hash: artifact.root_hash.clone(),
        data_sha256,
        rows,
        training_rows: profile.rows,
        severity,
        tests,
        alerts: columns
            .iter()
            .filter(|c| c.severity == Severity::Alert)
            .count(),
        warnings: columns
            .iter()
            .filter(|c| c.severity == Severity::Warn)
            .count(),
        columns,
        thresholds: THRESHOLDS,
    }))
}

/// For each feature the model reads, its position in `header`; errors as
/// `predict` words them.
fn match_columns(
    artifact: &Artifact,
    header: &[String],
    keep: &[String],
) -> Result<Vec<usize>, String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (j, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(format!(
                "line 1: column {} has no name in the header",
                j + 1
            ));
        }
        if let Some(first) = seen.insert(name, j) {
            return Err(format!(
                "line 1: column name `{name}` appears twice in the header (columns {} and {})",
                first + 1,
                j + 1
            ));
        }
    }
    let mut asked: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, k) in keep.iter().enumerate() {
        if !seen.contains_key(k.as_str()) {
            return Err(format!(
                "--keep {k}: the file has no column `{k}`; its columns are: {}",
                header.join(", ")
            ));
        }
        if let Some(first) = asked.insert(k, i) {
            return Err(format!(
                "--keep {k} is given twice (places {} and {}); keep each column once",
                first + 1,
                i + 1
            ));
        }
    }
    // A kept column is passed through, so the model need not know it.
    let checked: Vec<String> = header
        .iter()
        .filter(|h| !asked.contains_key(h.as_str()) || artifact.features.contains(h))
        .cloned()
        .collect();
    artifact.check_columns(&checked)?;
    Ok(artifact
        .features
        .iter()
        .map(|f| seen.get(f.as_str()).copied().unwrap_or(0))
        .collect())
}

/// Rows waiting to be predicted, column by column in the model's order.
struct Batch {
    names: Vec<String>,
    columns: Vec<Column>,
    /// The kept columns' cells, row after row (`predict --keep`).
    kept: Vec<String>,
    rows: usize,
}

impl Batch {
    /// The features the model reads, in its order, each of the kind its
    /// preprocessing was fitted on (numeric or text).
    fn new(artifact: &Artifact) -> Batch {
        let text: BTreeMap<&str, bool> = artifact
            .preprocessing
            .columns()
            .iter()
            .map(|c| (c.name(), matches!(c, FittedColumn::Text { .. })))
            .collect();
        let columns = artifact
            .features
            .iter()
            .map(|f| match text.get(f.as_str()) {
                Some(true) => Column::Text(Vec::with_capacity(BATCH_ROWS)),
                _ => Column::Numeric(Vec::with_capacity(BATCH_ROWS)),
            })
            .collect();
        Batch {
            names: artifact.features.clone(),
            columns,
            kept: Vec::new(),
            rows: 0,
        }
    }

    /// Predict the waiting rows (when `predict`), tally the predictions
    /// (when there is a tracker), hand them to `sink` (if any), empty the
    /// batch.
    fn predict(
        &mut self,
        artifact: &Artifact,
        csv: &Path,
        predict: bool,
        tracker: Option<&mut Tracker>,
        kept_names: &[String],
        sink: Option<&mut SinkFn<'_>>,
    ) -> Result<(), DriftError> {
        if self.rows == 0 {
            return Ok(());
        }
        let empty = |c: &Column| match c {
            Column::Numeric(_) => Column::Numeric(Vec::with_capacity(BATCH_ROWS)),
            Column::Text(_) => Column::Text(Vec::with_capacity(BATCH_ROWS)),
        };
        let fresh: Vec<Column> = self.columns.iter().map(empty).collect();
        let ds = Dataset {
            path: csv.to_path_buf(),
            sha256: String::new(),
            feature_names: self.names.clone(),
            columns: std::mem::replace(&mut self.columns, fresh),
            target: Target::Values(Vec::new()),
            n_rows: self.rows,
        };
        self.rows = 0;
        let kept = std::mem::take(&mut self.kept);
        let fail = |message: String| DriftError::Predict {
            path: csv.to_path_buf(),
            message,
        };
        if !predict {
            return Ok(());
        }
        let pred = artifact.predict(&ds).map_err(|e| fail(e.to_string()))?;
        match (&pred, tracker) {
            (_, None) => {}
            (Prediction::Values(v), Some(tracker)) => {
                for &x in v {
                    tracker.push_number(x.is_finite().then_some(x));
                }
            }
            (Prediction::Classes { labels, .. }, Some(tracker)) => {
                let classes = artifact.classes.as_deref();
                for &k in labels {
                    let label = class_label(classes, k);
                    tracker.push_text(Some(&label));
                }
            }
        }
        if let Some(sink) = sink {
            let kept = Kept {
                names: kept_names,
                cells: &kept,
            };
            sink(&pred, &kept).map_err(fail)?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------- output --

impl Report {
    /// The JSON form (pretty, fields in a fixed order; see `# Format`).
    pub fn to_json(&self) -> String {
        // Serialising plain data cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The table `hpsearch drift` prints.
    pub fn to_text(&self, model: &Path, csv: &Path) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let oks = self.columns.len() - self.alerts - self.warnings;
        let _ = writeln!(
            s,
            "drift check of {} ({} rows) against {} ({} trial {}, trained on {} rows)",
            csv.display(),
            self.rows,
            model.display(),
            self.model,
            self.trial,
            self.training_rows
        );
        let _ = writeln!(
            s,
            "result: {} ({} alert, {} warn, {} ok)\n",
            self.severity.name().to_uppercase(),
            self.alerts,
            self.warnings,
            oks
        );
        let head = [
            "severity",
            "column",
            "kind",
            "psi",
            "test",
            "p-value",
            "missing Δ",
            "outside",
            "flagged",
        ];
        let mut rows: Vec<Vec<String>> = vec![head.iter().map(|h| h.to_string()).collect()];
        for c in &self.columns {
            let name = match c.role {
                Role::Feature => c.column.clone(),
                Role::Prediction => "(prediction)".to_string(),
            };
            let flagged: Vec<String> = c
                .checks()
                .iter()
                .filter(|k| k.severity != Severity::Ok)
                .map(|k| match k.severity {
                    Severity::Alert => format!("{}!", k.test),
                    _ => k.test.to_string(),
                })
                .collect();
            rows.push(vec![
                c.severity.name().to_string(),
                name,
                c.kind.to_string(),
                opt(c.psi.statistic, |v| format!("{v:.4}")),
                opt(c.test.statistic, |v| format!("{} {v:.4}", c.test.test)),
                opt(c.test.p_value, fmt_p),
                opt(c.missing.statistic, |v| format!("{v:+.4}")),
                opt(c.outside.statistic, |v| format!("{:.2}%", v * 100.0)),
                flagged.join(" "),
            ]);
        }
        let widths: Vec<usize> = (0..head.len())
            .map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
            .collect();
        for r in &rows {
            let mut line = String::new();
            for (j, cell) in r.iter().enumerate() {
                if j + 1 == r.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    let pad = widths[j] - cell.chars().count() + 2;
                    line.push_str(&" ".repeat(pad));
                }
            }
            let _ = writeln!(s, "{}", line.trim_end());
        }
        for c in &self.columns {
            if !c.unseen.is_empty() {
                let list: Vec<String> =
                    c.unseen.iter().map(|(l, n)| format!("{l} ({n})")).collect();
                let _ = writeln!(s, "\nunseen levels of {}: {}", c.column, list.join(", "));
            }
        }
        let t = &self.thresholds;
        let _ = writeln!(
            s,
            "\nflagged: a check at warn; `!`: at alert. warn needs p < {}/{k} and alert p < {}/{k} ({k} checks), plus the effect: \
             psi ≥ {}/{}, ks D ≥ {}/{}, chi2 Cramér's V ≥ {}/{}, |missing Δ| ≥ {}/{}, outside ≥ {}%/{}% \
             (warn/alert; see docs/drift.md)",
            t.warn_p,
            t.alert_p,
            t.psi.warn,
            t.psi.alert,
            t.ks.warn,
            t.ks.alert,
            t.chi2.warn,
            t.chi2.alert,
            t.missing.warn,
            t.missing.alert,
            t.outside.warn * 100.0,
            t.outside.alert * 100.0,
            k = self.tests
        );
        s
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "-".to_string(), f)
}

fn fmt_p(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.4}")
    } else if p > 0.0 {
        format!("{p:.1e}")
    } else {
        "0".to_string()
    }
}

#[cfg(test)]
mod tests;
