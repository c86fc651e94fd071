//! A built-in model scored by k-fold cross-validation.
//!
//! The folds depend only on the user's seed, and the preprocessing of each
//! fold depends only on the fold, so both are fitted once and shared by
//! every trial: a trial trains and scores the model on each fold, with the
//! training seed `sub_seed(trial seed, "training", fold)`.
//!
//! # Memory
//!
//! A fold's prepared matrices (its training and test rows, preprocessed)
//! hold every row once, so keeping all k of them costs k times the data.
//! While that stays under [`KEEP_FOLDS_BYTES`] they are prepared once and
//! kept (small data: no work per trial). Above it only the data (packed:
//! 8 bytes a numeric cell, NaN for a missing one; all-numeric data row
//! after row, so a fold's rows are read as one stream) and each fold's
//! fitted preprocessing are kept, and a trial prepares one fold's
//! matrices at a time and drops them after scoring it (their memory is
//! reused by the next fold prepared), so a search holds the data plus one
//! fold's matrices per running trial, whatever k. Both
//! ways run the same transform on the same rows in the same order: the
//! scores have the same bits (`kept_and_prepared_folds_score_the_same_bits`).
//!
//! # Multi-fidelity (`[objective] resource`, with a pruner)
//!
//! A trial climbs the ladder of [`ResourceSpec::ladder`]: at each rung `r`
//! it is trained and scored on every fold, the mean of the fold scores is
//! its intermediate value at step `r`, and the pruner is asked whether to
//! stop it there (then it is `pruned`, its value and fold scores those of
//! that rung). A trial that is never pruned ends with the last rung's
//! value and fold scores.
//!
//! - `samples`: at rung `r`, fold `f` trains on the first `min(r, n_f)`
//!   rows of a fixed ordering of its `n_f` training rows
//!   ([`nested_order`], seeded with `sub_seed(user seed, "subsample", f)`:
//!   the same rows for every trial, as scikit-learn's halving searches
//!   give every candidate the same subsample), taken in data order; the
//!   preprocessing is fitted on those rows; the validation fold is always
//!   whole. A rung's rows contain the previous rung's (nested). At
//!   `r >= n_f` the fold is the whole training fold, so a last rung of
//!   `max_resources` = the largest training fold (the default) scores
//!   exactly what the search without a resource scores, bit for bit.
//! - `trees` (`random_forest`): at rung `r` each fold's forest has its
//!   first `r` trees. Each tree depends on the training seed and its
//!   index only, so a rung grows only the trees the last one lacked, and
//!   the forest at rung `r` is the forest of `n_estimators = r`.
//! - `iterations` (`gradient_boosting`): at rung `r` each fold's model has
//!   its first `r` boosting iterations. The fit is kept between rungs
//!   ([`Growing`]: the binned rows and raw predictions), so a rung trains
//!   only the iterations the last one lacked, a pruned trial never trains
//!   the rest, and the model at rung `r` is the model of `max_iter = r`.

use ndarray::Array2;
use rand_xoshiro::rand_core::SeedableRng;
use rayon::prelude::*;

use super::models::boosting::Growing;
use super::models::forest::RandomForest;
use super::models::{self, ModelInfo, Prediction, Shared, Targets};
use super::{Evaluation, Objective, Status, TrialInfo};
use crate::config::{CvKind, ObjectiveSpec, Resource, ResourceSpec, Search};
use crate::data::folds::{group_k_fold, holdout, k_fold, shuffle, time_series_split, Fold};
use crate::data::folds::{FoldsOf, NO_FOLD};
use crate::data::metrics::{self, Metric};
use crate::data::preprocess::{Packed, PreprocessSpec, Preprocessor};
use crate::data::{DataError, Dataset, Target};
use crate::seed;
use crate::value::Params;

/// One fold's prepared matrices.
struct Prepared {
    x_train: Array2<f64>,
    y_train: FoldTarget,
    x_test: Array2<f64>,
    y_test: FoldTarget,
}

enum FoldTarget {
    Classes(Vec<usize>),
    Values(Vec<f64>),
}

/// Above this many bytes for all folds' prepared matrices together, the
/// folds are prepared for each trial instead of kept (see the module doc).
/// `HPSEARCH_KEEP_FOLDS_BYTES` overrides it (a test sets 0); it changes
/// memory and time, never a score.
pub const KEEP_FOLDS_BYTES: usize = 256 << 20;

/// A fold's [`Shared`] work, kept under [`models::shared::SHARED_BYTES`];
/// `HPSEARCH_SHARED_BYTES` overrides it (tests set 0 to compare a search
/// with and without sharing): it changes time, never a score.
fn shared_work() -> Shared {
    match models::shared::bytes_from_env("HPSEARCH_SHARED_BYTES") {
        Some(budget) => Shared::with_budget(budget),
        None => Shared::default(),
    }
}

/// The folds' matrices: kept, or prepared when a trial needs them.
enum Folds {
    Kept(Vec<Prepared>),
    /// The data (packed: 8 bytes a numeric cell) and each fold's
    /// preprocessing, fitted on its training rows.
    Prepared {
        data: Packed,
        target: Target,
        fitted: Vec<Preprocessor>,
    },
}

/// A model trained and scored on every fold.
pub struct CrossValidated {
    model: &'static ModelInfo,
    metric: Metric,
    fixed: Params,
    n_classes: usize,
    folds: Folds,
    n_folds: usize,
    /// Row after row, `width` entries: the fold holding the row out in
    /// each repeat, or [`NO_FOLD`].
    fold_of_row: Vec<usize>,
    /// Folds per row: the repeats of `[cv] kind = "repeated"`, else 1.
    width: usize,
    /// With `[cv] kind` set: the splits, whose training rows need not be
    /// the complement of the test rows (time series, holdout, repeats).
    splits: Option<Vec<Fold>>,
    /// With `[objective] resource`: the ladder and what each rung needs.
    rungs: Option<Rungs>,
    /// Each fold's work shared across trials ([`models::shared`]).
    shared: Vec<Shared>,
    /// Memory of prepared folds dropped, reused (not when folds are kept).
    spares: Spares,
    /// `[objective] warm_start = "path"`: the grid's `C` values,
    /// ascending, that each fold's fits follow
    /// ([`models::logistic::fit_path`]).
    path: Option<Vec<f64>>,
}

/// The ladder of a multi-fidelity search (see the module doc).
struct Rungs {
    resource: Resource,
    ladder: Vec<u64>,
    /// `samples`: `subsamples[k][f]`, fold `f`'s training rows at rung `k`,
    /// or `None` where the rung takes the whole fold. Empty for `trees`.
    subsamples: Vec<Vec<Option<Subsample>>>,
}

/// A fold's training rows at one rung of `samples`.
struct Subsample {
    /// The rows, ascending (data order).
    rows: Vec<usize>,
    /// The fold's validation rows, ascending.
    test: Vec<usize>,
    /// The preprocessing fitted on `rows`.
    pre: Preprocessor,
    /// The prepared matrices, when the folds are kept.
    kept: Option<Prepared>,
    /// Work shared across trials on these rows ([`models::shared`]).
    shared: Shared,
}

/// A fold's matrices: kept by the search, or prepared for this trial
/// (their memory goes back to the search's [`Spares`] when dropped).
enum Holder<'a> {
    Borrowed(&'a Prepared),
    Owned(Prepared, &'a Spares),
}

impl Holder<'_> {
    fn get(&self) -> &Prepared {
        match self {
            Holder::Borrowed(p) => p,
            Holder::Owned(p, _) => p,
        }
    }
}

impl Drop for Holder<'_> {
    fn drop(&mut self) {
        if let Holder::Owned(p, spares) = self {
            spares.give(std::mem::take(&mut p.x_train));
            spares.give(std::mem::take(&mut p.x_test));
        }
    }
}

/// The memory of dropped prepared matrices, for the next fold a trial
/// prepares (why: on big data a fold's matrices are hundreds of MB, and
/// fresh memory costs the kernel a fault and a zeroed page every 4 KiB:
/// about a tenth of a cold logistic grid's CPU at 1,000,000 rows). It
/// holds at most [`Spares::MOST`] buffers, and never more than the
/// running trials held at once; what it holds never reaches a result (a
/// matrix is written whole before it is read).
#[derive(Default)]
struct Spares(std::sync::Mutex<Vec<Vec<f64>>>);

impl Spares {
    /// Two matrices (training and validation) for each of a few running
    /// trials.
    const MOST: usize = 8;

    /// The smallest buffer holding `len` numbers, else the largest one
    /// (grown by its user), else an empty one.
    fn take(&self, len: usize) -> Vec<f64> {
        let Ok(mut all) = self.0.lock() else {
            return Vec::new();
        };
        let fits = all
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= len)
            .min_by_key(|(_, b)| b.capacity())
            .or_else(|| all.iter().enumerate().max_by_key(|(_, b)| b.capacity()))
            .map(|(i, _)| i);
        fits.map_or_else(Vec::new, |i| all.swap_remove(i))
    }

    /// `pre`'s transform of `data`'s `rows`, in a spare buffer.
    fn transform(
        &self,
        pre: &Preprocessor,
        data: &Packed,
        rows: &[usize],
    ) -> Result<Array2<f64>, DataError> {
        pre.transform_packed_into(data, rows, self.take(rows.len() * pre.width()))
    }

    fn give(&self, matrix: Array2<f64>) {
        let (buffer, _) = matrix.into_raw_vec_and_offset();
        if let Ok(mut all) = self.0.lock() {
            if all.len() < Self::MOST && buffer.capacity() > 0 {
                all.push(buffer);
            }
        }
    }
}

/// A fixed ordering of `rows` whose every prefix is a stratified sample
/// of them: the subsample of `samples` at rung `r` is its first `r` rows,
/// so rung `k`'s rows are a prefix of rung `k+1`'s.
///
/// Each stratum (the rows of one class, `strata[row]`; one stratum for
/// regression) is shuffled with a `Xoshiro256PlusPlus` seeded with `seed`,
/// strata in class order; then the `j`-th row of a stratum of `n_c` rows
/// is given the position `(2j + 1) / (2 n_c)` in `(0, 1)`, and all rows
/// are sorted by position (compared exactly, in integers), ties by class.
/// A prefix of `r` rows thus holds each class in proportion, within one
/// row of `r * n_c / n`.
pub fn nested_order(rows: &[usize], strata: Option<&[usize]>, seed: u64) -> Vec<usize> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut groups: Vec<Vec<usize>> = match strata {
        None => vec![rows.to_vec()],
        Some(classes) => {
            let n_classes = rows
                .iter()
                .filter_map(|&r| classes.get(r))
                .max()
                .map_or(0, |m| m + 1);
            let mut groups = vec![Vec::new(); n_classes];
            for &r in rows {
                if let Some(&c) = classes.get(r) {
                    groups[c].push(r);
                }
            }
            groups.retain(|g| !g.is_empty());
            groups
        }
    };
    for g in &mut groups {
        shuffle(g, &mut rng);
    }
    // (numerator 2j+1, denominator 2 n_c, stratum, row)
    let mut keyed: Vec<(u64, u64, usize, usize)> = groups
        .iter()
        .enumerate()
        .flat_map(|(c, g)| {
            let n = g.len() as u64;
            g.iter()
                .enumerate()
                .map(move |(j, &row)| (2 * j as u64 + 1, 2 * n, c, row))
        })
        .collect();
    keyed.sort_by(|a, b| {
        (u128::from(a.0) * u128::from(b.1))
            .cmp(&(u128::from(b.0) * u128::from(a.1)))
            .then(a.2.cmp(&b.2))
    });
    keyed.into_iter().map(|k| k.3).collect()
}

/// The splits of `search`'s `[cv]` over `n` rows (`strata`: the classes,
/// for classification), seeded with `sub_seed(seed, "folds", r)` for
/// repeat `r` (0 when nothing repeats): without `kind`, today's default
/// (stratified for classification, shuffled k-fold for regression);
/// repeats are numbered on, fold `f` of repeat `r` being `r k + f`.
pub fn cv_splits(
    search: &Search,
    n: usize,
    k: usize,
    strata: Option<&[usize]>,
) -> Result<Vec<Fold>, String> {
    let seed_of = |r: u64| seed::sub_seed(search.seed, seed::streams::FOLDS, r);
    Ok(match &search.cv_kind {
        None | Some(CvKind::Stratified) => k_fold(n, k, strata, seed_of(0)),
        Some(CvKind::Kfold) => k_fold(n, k, None, seed_of(0)),
        Some(CvKind::Repeated { repeats, stratify }) => {
            let strata = strata.filter(|_| *stratify);
            (0..*repeats as u64)
                .flat_map(|r| k_fold(n, k, strata, seed_of(r)))
                .collect()
        }
        Some(CvKind::Group { .. }) => group_k_fold(&search.cv_keys, k),
        Some(CvKind::TimeSeries {
            order,
            gap,
            max_train_size,
        }) => {
            let rows: Vec<usize> = match order {
                Some(_) => search.cv_keys.clone(),
                None => (0..n).collect(),
            };
            time_series_split(&rows, k, *gap, *max_train_size).ok_or_else(|| {
                format!("{n} rows are too few for a time-series split into {k} folds")
            })?
        }
        Some(CvKind::Holdout {
            test_size,
            stratify,
        }) => vec![holdout(
            n,
            *test_size,
            strata.filter(|_| *stratify),
            seed_of(0),
        )],
    })
}

impl CrossValidated {
    /// Prepare the folds of `ds` for `search` (a model search).
    pub fn new(search: &Search, ds: Dataset) -> Result<CrossValidated, DataError> {
        let budget =
            models::shared::bytes_from_env("HPSEARCH_KEEP_FOLDS_BYTES").unwrap_or(KEEP_FOLDS_BYTES);
        Self::with_budget(search, ds, budget)
    }

    /// [`CrossValidated::new`] keeping the folds' matrices while they take
    /// at most `keep_bytes`.
    pub fn with_budget(
        search: &Search,
        ds: Dataset,
        keep_bytes: usize,
    ) -> Result<CrossValidated, DataError> {
        let ObjectiveSpec::Model {
            model,
            metric,
            fixed,
            resource,
            warm_start,
            ..
        } = &search.objective
        else {
            return Err(DataError::Invalid {
                path: search.file.clone(),
                message: "not a model search".into(),
            });
        };
        let spec = match &search.data {
            Some(d) => PreprocessSpec {
                impute: d.impute,
                fill_value: d.fill_value,
                scale: d.scale,
                keep_missing: model.missing_values,
            },
            None => {
                return Err(DataError::Invalid {
                    path: search.file.clone(),
                    message: "no [data]".into(),
                })
            }
        };
        let k = search.folds.unwrap_or(5);
        let (strata, n_classes) = match &ds.target {
            Target::Classes { labels, y } => (Some(y.as_slice()), labels.len()),
            Target::Values(_) => (None, 0),
        };
        let splits =
            cv_splits(search, ds.n_rows, k, strata).map_err(|message| DataError::Invalid {
                path: ds.path.clone(),
                message,
            })?;
        let repeats = search.cv_kind.as_ref().map_or(1, CvKind::repeats);
        let per_repeat = (splits.len() / repeats).max(1);
        let mut fold_of_row = vec![NO_FOLD; ds.n_rows * repeats];
        for (f, split) in splits.iter().enumerate() {
            for &r in &split.test {
                fold_of_row[r * repeats + f / per_repeat] = f;
            }
        }
        // Folds are fitted and prepared on the rayon threads, collected by
        // index; the first error in fold order is the one reported, as in
        // a serial loop (why: rayon's own Result collection returns any).
        let fitted = splits
            .par_iter()
            .map(|f| Preprocessor::fit(&ds, &f.train, &spec))
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        if fitted.iter().any(|pre| pre.output_names().is_empty()) {
            // Only text columns with no value in a fold's training rows: the
            // model would get no input (caught before anything is written).
            return Err(DataError::Invalid {
                path: ds.path.clone(),
                message: format!(
                    "no feature is left to train on in a cross-validation fold: {} no value in \
                     the fold's training rows; fill the column(s) in, or add a feature column",
                    match ds.feature_names.as_slice() {
                        [one] => format!("text column `{one}` has"),
                        names => format!("the text columns {} have", names.join(", ")),
                    }
                ),
            });
        }
        // Every fold's matrices hold each row once: rows x outputs x 8 bytes.
        let width: usize = fitted.first().map_or(0, Preprocessor::width);
        let bytes = splits
            .len()
            .saturating_mul(ds.n_rows)
            .saturating_mul(width.saturating_add(1))
            .saturating_mul(8);
        let keep = bytes <= keep_bytes;
        let rungs = match resource {
            None => None,
            Some(r) => Some(Rungs::new(
                r,
                &ds,
                &splits,
                &spec,
                strata,
                search.seed,
                keep,
            )?),
        };
        let folds = if keep {
            // Kept folds are all held at the end anyway: preparing them at
            // once costs no more memory. (Prepared folds below are checked
            // one at a time: they are chosen when memory is short.)
            let kept = splits
                .par_iter()
                .zip(fitted.par_iter())
                .map(|(f, pre)| {
                    prepare(
                        &ds.target,
                        |rows| pre.transform(&ds, rows),
                        &f.train,
                        &f.test,
                    )
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            Folds::Kept(kept)
        } else {
            let (data, target) = Packed::new(ds);
            // Whatever a trial's preparation could refuse is refused here,
            // before the search starts, as keeping the folds would: each
            // fold's preprocessing checked against every row.
            for pre in &fitted {
                pre.check_packed(&data)?;
            }
            Folds::Prepared {
                data,
                target,
                fitted,
            }
        };
        Ok(CrossValidated {
            model,
            metric: *metric,
            fixed: fixed.clone(),
            n_classes,
            folds,
            n_folds: splits.len(),
            fold_of_row,
            width: repeats,
            shared: (0..splits.len()).map(|_| shared_work()).collect(),
            splits: search.cv_kind.is_some().then_some(splits),
            rungs,
            path: warm_start.as_ref().map(|p| p.values.clone()),
            spares: Spares::default(),
        })
    }

    /// Fold `i`'s matrices: prepared now from the data (the rows of
    /// [`k_fold`]'s split, ascending, as when they are kept).
    fn prepare_fold(
        &self,
        data: &Packed,
        target: &Target,
        fitted: &[Preprocessor],
        i: usize,
    ) -> Result<Prepared, String> {
        let pre = fitted
            .get(i)
            .ok_or_else(|| format!("no fold {i} (the search has {})", fitted.len()))?;
        let (test, train): (Vec<usize>, Vec<usize>) = match &self.splits {
            Some(splits) => {
                let f = splits
                    .get(i)
                    .ok_or_else(|| format!("no fold {i} (the search has {})", splits.len()))?;
                (f.test.clone(), f.train.clone())
            }
            None => (0..data.n_rows).partition(|&r| self.fold_of_row.get(r) == Some(&i)),
        };
        let transform = |rows: &[usize]| self.spares.transform(pre, data, rows);
        prepare(target, transform, &train, &test).map_err(|e| e.to_string())
    }

    fn score(&self, truth: &FoldTarget, pred: &Prediction) -> Result<f64, String> {
        match (truth, pred) {
            (FoldTarget::Classes(y), Prediction::Classes { labels, proba }) => {
                let k = self.n_classes;
                if self.metric.needs_proba() {
                    let Some(p) = proba else {
                        return Err(format!(
                            "the model gave no probabilities for {}",
                            self.metric.name()
                        ));
                    };
                    let p = p.view();
                    return match self.metric {
                        Metric::LogLoss => Ok(metrics::log_loss(y, p)),
                        Metric::RocAuc => Ok(metrics::roc_auc_binary(y, p)),
                        Metric::RocAucOvr => Ok(metrics::roc_auc_ovr(y, p, false)),
                        Metric::RocAucOvrWeighted => Ok(metrics::roc_auc_ovr(y, p, true)),
                        Metric::AveragePrecision => Ok(metrics::average_precision(y, p)),
                        Metric::BrierScore => Ok(metrics::brier_score(y, p)),
                        m => Err(format!("metric {} does not fit classification", m.name())),
                    };
                }
                Ok(match self.metric {
                    Metric::Accuracy => metrics::accuracy(y, labels),
                    Metric::BalancedAccuracy => metrics::balanced_accuracy(y, labels, k),
                    Metric::F1 => metrics::f1_binary(y, labels),
                    Metric::F1Macro => metrics::f1_macro(y, labels, k),
                    Metric::F1Weighted => metrics::f1_weighted(y, labels, k),
                    Metric::Precision => metrics::precision_binary(y, labels),
                    Metric::PrecisionMacro => metrics::precision_macro(y, labels, k),
                    Metric::Recall => metrics::recall_binary(y, labels),
                    Metric::RecallMacro => metrics::recall_macro(y, labels, k),
                    m => return Err(format!("metric {} does not fit classification", m.name())),
                })
            }
            (FoldTarget::Values(y), Prediction::Values(p)) => Ok(match self.metric {
                Metric::Rmse => metrics::rmse(y, p),
                Metric::Mae => metrics::mae(y, p),
                Metric::R2 => metrics::r2(y, p),
                Metric::Mape => metrics::mape(y, p),
                Metric::MedianAbsoluteError => metrics::median_absolute_error(y, p),
                Metric::ExplainedVariance => metrics::explained_variance(y, p),
                m => return Err(format!("metric {} does not fit regression", m.name())),
            }),
            _ => Err("the model predicted the wrong kind of target".into()),
        }
    }
}

impl Rungs {
    /// The ladder of `spec`; for `samples`, each fold's subsample at each
    /// rung below its size, with its preprocessing (and matrices when
    /// `keep`), from the user's `seed`.
    fn new(
        spec: &ResourceSpec,
        ds: &Dataset,
        splits: &[crate::data::folds::Fold],
        pre: &PreprocessSpec,
        strata: Option<&[usize]>,
        user_seed: u64,
        keep: bool,
    ) -> Result<Rungs, DataError> {
        let ladder = spec.ladder();
        let mut subsamples = Vec::new();
        if spec.resource == Resource::Samples {
            // Why: seeded from the user's seed and the fold, never the
            // trial, so every trial trains on the same rows at a rung.
            let orders: Vec<Vec<usize>> = splits
                .iter()
                .enumerate()
                .map(|(f, split)| {
                    nested_order(
                        &split.train,
                        strata,
                        seed::sub_seed(user_seed, seed::streams::SUBSAMPLE, f as u64),
                    )
                })
                .collect();
            for &r in &ladder {
                let mut at = Vec::with_capacity(splits.len());
                for (split, order) in splits.iter().zip(&orders) {
                    let r = usize::try_from(r).unwrap_or(usize::MAX);
                    if r >= order.len() {
                        at.push(None);
                        continue;
                    }
                    let mut rows = order[..r].to_vec();
                    rows.sort_unstable();
                    let fitted = Preprocessor::fit(ds, &rows, pre)?;
                    if fitted.output_names().is_empty() {
                        return Err(DataError::Invalid {
                            path: ds.path.clone(),
                            message: format!(
                                "no feature is left to train on in a subsample of {r} rows \
                                 (resource = \"samples\"): the text columns have no value \
                                 there; raise [objective] min_resources"
                            ),
                        });
                    }
                    let kept = if keep {
                        Some(prepare(
                            &ds.target,
                            |rows| fitted.transform(ds, rows),
                            &rows,
                            &split.test,
                        )?)
                    } else {
                        // Refused here, as the kept folds would be.
                        drop(fitted.transform(ds, &split.test)?);
                        None
                    };
                    at.push(Some(Subsample {
                        rows,
                        test: split.test.clone(),
                        pre: fitted,
                        kept,
                        shared: shared_work(),
                    }));
                }
                subsamples.push(at);
            }
        }
        Ok(Rungs {
            resource: spec.resource,
            ladder,
            subsamples,
        })
    }
}

/// A fold's matrices: its preprocessing (`transform`, fitted on `train`)
/// applied to its rows, and their targets.
fn prepare(
    target: &Target,
    transform: impl Fn(&[usize]) -> Result<Array2<f64>, DataError>,
    train: &[usize],
    test: &[usize],
) -> Result<Prepared, DataError> {
    let pick = |rows: &[usize]| match target {
        Target::Classes { y, .. } => FoldTarget::Classes(rows.iter().map(|&r| y[r]).collect()),
        Target::Values(v) => FoldTarget::Values(rows.iter().map(|&r| v[r]).collect()),
    };
    Ok(Prepared {
        x_train: transform(train)?,
        y_train: pick(train),
        x_test: transform(test)?,
        y_test: pick(test),
    })
}

impl CrossValidated {
    /// Fold `i`'s matrices at rung `rung` (`None`: the whole fold).
    fn fold(&self, i: usize, rung: Option<usize>) -> Result<Holder<'_>, String> {
        let sub = rung.and_then(|k| {
            self.rungs
                .as_ref()
                .and_then(|r| r.subsamples.get(k))
                .and_then(|at| at.get(i))
                .and_then(Option::as_ref)
        });
        match (&self.folds, sub) {
            (_, Some(Subsample { kept: Some(p), .. })) => Ok(Holder::Borrowed(p)),
            (Folds::Prepared { data, target, .. }, Some(sub)) => prepare(
                target,
                |rows| self.spares.transform(&sub.pre, data, rows),
                &sub.rows,
                &sub.test,
            )
            .map(|p| Holder::Owned(p, &self.spares))
            .map_err(|e| e.to_string()),
            (Folds::Kept(_), Some(_)) => Err("the subsample is not prepared".into()),
            (Folds::Kept(kept), None) => kept
                .get(i)
                .map(Holder::Borrowed)
                .ok_or_else(|| "not prepared".to_string()),
            (
                Folds::Prepared {
                    data,
                    target,
                    fitted,
                },
                None,
            ) => self
                .prepare_fold(data, target, fitted, i)
                .map(|p| Holder::Owned(p, &self.spares)),
        }
    }

    /// The work shared by the trials on fold `i` at `rung` (`None`: the
    /// whole fold).
    fn shared_of(&self, i: usize, rung: Option<usize>) -> Option<&Shared> {
        match rung.and_then(|k| self.rungs.as_ref()?.subsamples.get(k)?.get(i)) {
            Some(Some(sub)) => Some(&sub.shared),
            // No subsample at this rung: the rung takes the whole fold.
            Some(None) | None => self.shared.get(i),
        }
    }

    /// Train and score every fold (at `rung`, `None`: whole folds) with
    /// `fit` (fold index, matrices, targets, training seed, the fold's
    /// shared work → prediction):
    /// the fold scores, or the evaluation that ends the trial (a stop, or
    /// a failure with the scores so far).
    fn score_folds(
        &self,
        trial: &TrialInfo<'_>,
        rung: Option<usize>,
        mut fit: impl FnMut(usize, &Prepared, Targets<'_>, u64, &Shared) -> Result<Prediction, String>,
    ) -> Result<Vec<f64>, Evaluation> {
        let mut scores = Vec::with_capacity(self.n_folds);
        for i in 0..self.n_folds {
            // A stop drops the trial between folds (it reruns on resume),
            // so Ctrl-C never waits for more than one fit.
            if trial.stop_requested() {
                return Err(Evaluation::interrupted());
            }
            // Kept, or prepared for this fold and dropped after it.
            let holder = match self.fold(i, rung) {
                Ok(h) => h,
                Err(e) => return Err(Evaluation::failed(format!("fold {i}: {e}"), scores)),
            };
            let fold = holder.get();
            let targets = match &fold.y_train {
                FoldTarget::Classes(y) => Targets::Classes {
                    y,
                    n_classes: self.n_classes,
                },
                FoldTarget::Values(v) => Targets::Values(v),
            };
            let training_seed = seed::sub_seed(trial.seed, seed::streams::TRAINING, i as u64);
            let unshared = Shared::disabled();
            let shared = self.shared_of(i, rung).unwrap_or(&unshared);
            let pred = match fit(i, fold, targets, training_seed, shared) {
                Ok(p) => p,
                Err(e) => return Err(Evaluation::failed(format!("fold {i}: {e}"), scores)),
            };
            match self.score(&fold.y_test, &pred) {
                Ok(s) => scores.push(s),
                Err(e) => return Err(Evaluation::failed(format!("fold {i}: {e}"), scores)),
            }
        }
        Ok(scores)
    }

    /// Climb the ladder (see the module doc), asking the pruner after
    /// each rung.
    fn evaluate_rungs(&self, rungs: &Rungs, all: &Params, trial: &TrialInfo<'_>) -> Evaluation {
        let mut steps: Vec<(u64, f64)> = Vec::with_capacity(rungs.ladder.len());
        // `trees`: each fold's forest, grown from rung to rung.
        let mut forests: Vec<Option<RandomForest>> = (0..self.n_folds).map(|_| None).collect();
        // `iterations`: each fold's boosting fit, grown from rung to rung.
        let mut boosted: Vec<Option<Growing>> = (0..self.n_folds).map(|_| None).collect();
        let mut last = Evaluation::failed("no rung".into(), Vec::new());
        for (k, &r) in rungs.ladder.iter().enumerate() {
            let scored = match rungs.resource {
                Resource::Samples => self.score_folds(trial, Some(k), |_, fold, y, seed, sh| {
                    models::fit_shared(self.model.name, fold.x_train.view(), y, all, seed, sh)
                        .and_then(|m| m.predict(fold.x_test.view()))
                        .map_err(|e| e.to_string())
                }),
                Resource::Trees => self.score_folds(trial, None, |i, fold, y, seed, _| {
                    let n = usize::try_from(r).unwrap_or(usize::MAX);
                    let grown = forests.get_mut(i).and_then(Option::take);
                    let forest = RandomForest::grow(grown, fold.x_train.view(), y, all, seed, n)
                        .map_err(|e| e.to_string())?;
                    let pred = forest
                        .predict(fold.x_test.view())
                        .map_err(|e| e.to_string());
                    if let Some(slot) = forests.get_mut(i) {
                        *slot = Some(forest);
                    }
                    pred
                }),
                Resource::Iterations => self.score_folds(trial, None, |i, fold, y, seed, sh| {
                    let n = usize::try_from(r).unwrap_or(usize::MAX);
                    let mut grower = match boosted.get_mut(i).and_then(Option::take) {
                        Some(g) => g,
                        None => Growing::start_shared(fold.x_train.view(), y, all, seed, sh)
                            .map_err(|e| e.to_string())?,
                    };
                    grower.grow_to(fold.x_train.view(), y, n);
                    let pred = grower
                        .model()
                        .predict_rounds(fold.x_test.view(), n)
                        .map_err(|e| e.to_string());
                    if let Some(slot) = boosted.get_mut(i) {
                        *slot = Some(grower);
                    }
                    pred
                }),
            };
            let scores = match scored {
                Ok(s) => s,
                Err(mut e) => {
                    if e.status != Status::Interrupted {
                        e.error = e.error.map(|m| format!("step {r}: {m}"));
                        e.steps = steps;
                    }
                    return e;
                }
            };
            // Summed in fold order: the mean has the same bits every time.
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            last = Evaluation::ok(mean, scores);
            if last.status != Status::Ok {
                last.error = last.error.map(|m| format!("step {r}: {m}"));
                last.steps = steps;
                return last;
            }
            steps.push((r, mean));
            if trial.pruner.is_some_and(|p| p(&steps)) {
                last.status = Status::Pruned;
                last.error = Some(format!("pruned at step {r}"));
                last.steps = steps;
                return last;
            }
        }
        last.steps = steps;
        last
    }
}

impl Objective for CrossValidated {
    fn evaluate(&self, params: &Params, trial: &TrialInfo<'_>) -> Evaluation {
        let mut all = self.fixed.clone();
        all.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
        if let Some(rungs) = &self.rungs {
            return self.evaluate_rungs(rungs, &all, trial);
        }
        let scored = self.score_folds(trial, None, |_, fold, y, seed, shared| {
            let x = fold.x_train.view();
            match &self.path {
                // Config allows a path only for logistic_regression.
                Some(path) => models::logistic::fit_path(x, y, &all, seed, shared, path),
                None => models::fit_shared(self.model.name, x, y, &all, seed, shared),
            }
            .and_then(|m| m.predict(fold.x_test.view()))
            .map_err(|e| e.to_string())
        });
        match scored {
            // Summed in fold order: the mean has the same bits every time.
            Ok(scores) => Evaluation::ok(scores.iter().sum::<f64>() / scores.len() as f64, scores),
            Err(e) => e,
        }
    }

    fn n_folds(&self) -> usize {
        self.n_folds
    }

    fn fold_of_rows(&self) -> Option<FoldsOf<'_>> {
        Some(FoldsOf {
            width: self.width,
            folds: &self.fold_of_row,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_order_is_a_permutation_whose_prefixes_keep_class_proportions() {
        // 90 rows of three classes (60 / 20 / 10), the training rows of a
        // fold being every row but those divisible by 9.
        let classes: Vec<usize> = (0..100)
            .map(|r| match r % 10 {
                0..=5 => 0,
                6 | 7 => 1,
                _ => 2,
            })
            .collect();
        let rows: Vec<usize> = (0..100).filter(|r| r % 9 != 0).collect();
        let order = nested_order(&rows, Some(&classes), 5);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, rows, "a permutation of the rows");
        let total: Vec<usize> = (0..3)
            .map(|c| rows.iter().filter(|&&r| classes[r] == c).count())
            .collect();
        for r in 1..=rows.len() {
            for (c, &n_c) in total.iter().enumerate() {
                let got = order[..r].iter().filter(|&&x| classes[x] == c).count() as f64;
                let want = r as f64 * n_c as f64 / rows.len() as f64;
                assert!(
                    (got - want).abs() <= 1.0,
                    "prefix {r}: class {c} has {got}, proportion says {want}"
                );
            }
        }
        // The same seed gives the same order, another seed another one.
        assert_eq!(order, nested_order(&rows, Some(&classes), 5));
        assert_ne!(order, nested_order(&rows, Some(&classes), 6));
        // Regression: one stratum, a shuffle of the rows.
        let plain = nested_order(&rows, None, 5);
        let mut s = plain.clone();
        s.sort_unstable();
        assert_eq!(s, rows);
        assert_ne!(plain, rows);
    }

    #[test]
    fn rung_subsamples_are_nested_and_the_last_rung_is_the_whole_fold() {
        let ladder = ResourceSpec {
            resource: Resource::Samples,
            min_resources: 10,
            max_resources: 90,
            factor: 3,
        }
        .ladder();
        assert_eq!(ladder, [10, 30, 90]);
        let classes: Vec<usize> = (0..100).map(|r| r % 4).collect();
        let rows: Vec<usize> = (0..100).filter(|r| r % 5 != 0).collect();
        let order = nested_order(&rows, Some(&classes), 1);
        let at = |r: usize| {
            let mut s = order[..r.min(order.len())].to_vec();
            s.sort_unstable();
            s
        };
        for w in ladder.windows(2) {
            let (small, big) = (at(w[0] as usize), at(w[1] as usize));
            assert!(small.iter().all(|r| big.contains(r)), "{w:?} not nested");
        }
        // 90 >= the fold's 80 rows: the whole fold, in data order.
        assert_eq!(at(90), rows);
    }
}
