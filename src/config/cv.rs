//! `[cv]`: the cross-validation scheme and the data column it reads.

use std::collections::BTreeMap;

use crate::data::{Column, Dataset, Task};

use super::wire::CvWire;
use super::{one_of, ConfigError, Ctx, CvKind};

/// Resolve `[cv] kind` and the keys that go with it; `None` when `kind`
/// is not set (the keys of other kinds are refused then too).
pub(super) fn resolve_cv_kind(
    cx: &Ctx<'_>,
    cv: Option<&CvWire>,
    target: &str,
    task: Task,
) -> Result<Option<CvKind>, ConfigError> {
    let Some(cv) = cv else { return Ok(None) };
    let kind = cv.kind.as_deref();
    const KINDS: &[&str] = &[
        "stratified",
        "kfold",
        "repeated",
        "group",
        "time_series",
        "holdout",
    ];
    let only = |key: &str, present: bool, kinds: &str| -> Result<(), ConfigError> {
        if present {
            Err(cx.err(
                format!("cv.{key}"),
                format!(
                    "only with kind = {kinds}; remove it (kind is {})",
                    kind.map_or("not set".to_string(), |k| format!("\"{k}\""))
                ),
            ))
        } else {
            Ok(())
        }
    };
    let is = |k: &str| kind == Some(k);
    only(
        "repeats",
        cv.repeats.is_some() && !is("repeated"),
        "\"repeated\"",
    )?;
    only("groups", cv.groups.is_some() && !is("group"), "\"group\"")?;
    for (key, present) in [
        ("order", cv.order.is_some()),
        ("gap", cv.gap.is_some()),
        ("max_train_size", cv.max_train_size.is_some()),
    ] {
        only(key, present && !is("time_series"), "\"time_series\"")?;
    }
    only(
        "test_size",
        cv.test_size.is_some() && !is("holdout"),
        "\"holdout\"",
    )?;
    if cv.stratify == Some(true) && (is("time_series") || is("group") || is("kfold")) {
        return Err(cx.err(
            "cv.stratify",
            format!(
                "kind = \"{}\" does not stratify (it keeps {}); remove stratify, or use kind = \"stratified\"",
                kind.unwrap_or_default(),
                match kind {
                    Some("time_series") => "the rows in time order, unshuffled",
                    Some("group") => "each group's rows together",
                    _ => "the rows' shuffled order",
                }
            ),
        ));
    }
    only(
        "stratify",
        cv.stratify.is_some()
            && !(is("repeated")
                || is("holdout")
                || is("time_series")
                || is("group")
                || is("kfold")),
        "\"repeated\" or \"holdout\"",
    )?;
    let classes = task == Task::Classification;
    let stratify = match cv.stratify {
        Some(true) if !classes => {
            return Err(cx.err(
                "cv.stratify",
                "stratifying needs classes, but this search does regression; remove it",
            ))
        }
        Some(s) => s,
        None => classes,
    };
    let column = |key: &str, name: &str| -> Result<String, ConfigError> {
        if name == target {
            return Err(cx.err(
                format!("cv.{key}"),
                format!("`{name}` is the target column; name another column"),
            ));
        }
        Ok(name.to_string())
    };
    let kind = match kind {
        None => return Ok(None),
        Some("stratified") => {
            if !classes {
                return Err(cx.err(
                    "cv.kind",
                    "\"stratified\" needs classes, but this search does regression; use kind = \"kfold\"",
                ));
            }
            CvKind::Stratified
        }
        Some("kfold") => CvKind::Kfold,
        Some("repeated") => {
            let repeats = match cv.repeats {
                None => 10,
                Some(r) if r >= 1 => r as usize,
                Some(r) => return Err(cx.err("cv.repeats", format!("must be at least 1, got {r}"))),
            };
            CvKind::Repeated { repeats, stratify }
        }
        Some("group") => {
            let Some(g) = &cv.groups else {
                return Err(cx.err(
                    "cv.groups",
                    "missing: kind = \"group\" needs groups = \"<column>\", the column whose values are the groups",
                ));
            };
            CvKind::Group {
                groups: column("groups", g)?,
            }
        }
        Some("time_series") => {
            let gap = match cv.gap {
                None => 0,
                Some(g) if g >= 0 => g as usize,
                Some(g) => return Err(cx.err("cv.gap", format!("must be 0 or more, got {g}"))),
            };
            let max_train_size = match cv.max_train_size {
                None => None,
                Some(m) if m >= 1 => Some(m as usize),
                Some(m) => {
                    return Err(cx.err("cv.max_train_size", format!("must be at least 1, got {m}")))
                }
            };
            let order = cv
                .order
                .as_deref()
                .map(|o| column("order", o))
                .transpose()?;
            CvKind::TimeSeries {
                order,
                gap,
                max_train_size,
            }
        }
        Some("holdout") => {
            let test_size = cv.test_size.unwrap_or(0.25);
            if !(test_size > 0.0 && test_size < 1.0) {
                return Err(cx.err(
                    "cv.test_size",
                    format!(
                        "must be a share of the rows strictly between 0 and 1, got {test_size}"
                    ),
                ));
            }
            CvKind::Holdout {
                test_size,
                stratify,
            }
        }
        Some(other) => return Err(cx.err("cv.kind", one_of("cross-validation kind", other, KINDS))),
    };
    Ok(Some(kind))
}

/// Take the column `kind` reads out of the features, and check that the
/// data allow its folds (enough groups, rows, a holdout with rows on both
/// sides).
pub(super) fn check_cv_data(
    cx: &Ctx<'_>,
    kind: &CvKind,
    mut ds: Dataset,
    folds: usize,
) -> Result<(Dataset, Vec<usize>), ConfigError> {
    let n = ds.n_rows;
    let mut keys = Vec::new();
    if let Some(name) = kind.column() {
        let key = match kind {
            CvKind::Group { .. } => "cv.groups",
            _ => "cv.order",
        };
        let Some(i) = ds.column_index(name) else {
            return Err(cx.err(
                key,
                format!(
                    "`{name}` is not a column of {}; its columns are: {}",
                    ds.path.display(),
                    ds.feature_names.join(", ")
                ),
            ));
        };
        if let Some(row) = (0..n).find(|&r| ds.columns[i].is_missing(r)) {
            return Err(cx.err(
                key,
                format!(
                    "{}: line {}, column `{name}` is missing a value; every row needs one",
                    ds.path.display(),
                    ds.line(row)
                ),
            ));
        }
        if ds.feature_names.len() == 1 {
            return Err(cx.err(
                key,
                format!("`{name}` is the only feature column; the model would have nothing to learn from"),
            ));
        }
        ds.feature_names.remove(i);
        let column = ds.columns.remove(i);
        keys = match kind {
            CvKind::Group { .. } => group_indices(&column, n),
            _ => time_order(&column, n),
        };
    }
    match kind {
        CvKind::Group { groups } => {
            let count = keys.iter().max().map_or(0, |m| m + 1);
            if count < folds {
                return Err(cx.err(
                    "cv.groups",
                    format!(
                        "column `{groups}` has {count} distinct value(s), fewer than the {folds} folds; \
                         lower folds or group by another column"
                    ),
                ));
            }
        }
        CvKind::TimeSeries { gap, .. } => {
            let test_size = n / (folds + 1);
            if test_size == 0 || n <= gap + folds * test_size {
                return Err(cx.err(
                    "cv.folds",
                    format!(
                        "{n} rows are too few for a time-series split into {folds} folds with gap {gap} \
                         (each fold tests n / (folds + 1) = {test_size} rows, and the first needs training rows before the gap); \
                         lower folds or gap"
                    ),
                ));
            }
        }
        CvKind::Holdout { test_size, .. } => {
            let held = (test_size * n as f64).ceil() as usize;
            if held >= n {
                return Err(cx.err(
                    "cv.test_size",
                    format!("holds out all {n} rows ({test_size}); lower it"),
                ));
            }
        }
        _ => {}
    }
    Ok((ds, keys))
}

/// Each row's group: its value's index in order of first appearance.
fn group_indices(column: &Column, n: usize) -> Vec<usize> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    (0..n)
        .map(|r| {
            let key = match column {
                Column::Numeric(_) => column
                    .number(r)
                    .map_or(String::new(), crate::value::fmt_f64),
                Column::Text(v) => v[r].clone().unwrap_or_default(),
            };
            let next = seen.len();
            *seen.entry(key).or_insert(next)
        })
        .collect()
}

/// The rows sorted by `column` ascending (numbers by value, text by its
/// bytes, as ISO dates sort), ties in file order.
fn time_order(column: &Column, n: usize) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..n).collect();
    match column {
        // A missing cell is NaN, sorted last.
        Column::Numeric(v) => rows.sort_by(|&a, &b| v[a].total_cmp(&v[b])),
        Column::Text(v) => rows.sort_by(|&a, &b| v[a].cmp(&v[b])),
    }
    rows
}
