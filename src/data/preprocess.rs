//! Preprocessing fitted inside each fold: imputation, scaling and one-hot
//! encoding, learned from the training rows only and applied to any rows.
//!
//! This module owns the fitted statistics and how they are applied. It never
//! sees folds, models or files: the caller says which rows to fit on.
//!
//! # What is fitted
//!
//! For each feature column, in the dataset's order:
//!
//! - **Numeric**: a fill value for missing cells ([`Impute`]), then a scaling
//!   ([`Scale`]) whose statistics are computed on the *imputed* training
//!   values (as a scikit-learn `Pipeline` of `SimpleImputer` then a scaler).
//!   One output named after the column.
//! - **Text**: one-hot encoding over the levels seen in the training rows,
//!   sorted by text (byte order); outputs named `column=level`. A level not
//!   seen in training encodes as all zeros (scikit-learn's
//!   `handle_unknown="ignore"`). A missing text cell takes the most frequent
//!   training level (ties: the smallest level) whenever `impute` is not
//!   `none`, whatever the numeric strategy; with no training level at all it
//!   encodes as all zeros. One-hot outputs are never scaled.
//!
//! With `impute = none`, a missing value in any row that is fitted or
//! transformed is an error naming its line and column, unless the spec
//! keeps missing values ([`PreprocessSpec::keep_missing`], set for models
//! that handle NaN natively): then a missing numeric cell comes out as NaN
//! (the scaling statistics are computed on the present training values
//! only), and a missing text cell as NaN in every one of its column's
//! one-hot outputs.
//!
//! Every statistic is summed in the order of the rows given (fixed), so the
//! fitted values are a pure function of the data and the rows. Columns are
//! stored by name, so a fitted preprocessor can be applied to another file
//! whose columns come in another order.

use std::collections::BTreeMap;

use ndarray::Array2;

use std::path::Path;

use super::{Column, DataError, Dataset};

mod packed;
pub(crate) use packed::Packed;

/// How missing feature values are filled.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impute {
    /// No filling: a missing value is an error naming its line and column.
    None,
    /// The mean of the column's non-missing training values.
    Mean,
    /// Their median (mean of the two middle values for an even count).
    Median,
    /// Their most frequent value, the smallest one on ties.
    MostFrequent,
    /// [`PreprocessSpec::fill_value`].
    Constant,
}

impl Impute {
    /// The name used in search files.
    pub fn name(self) -> &'static str {
        match self {
            Impute::None => "none",
            Impute::Mean => "mean",
            Impute::Median => "median",
            Impute::MostFrequent => "most_frequent",
            Impute::Constant => "constant",
        }
    }
}

/// How numeric features are scaled after imputation.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Values as they are.
    None,
    /// `(x - mean) / std`, population std (scikit-learn's `StandardScaler`);
    /// a constant training column gives `x - value` (0 on training rows).
    Standard,
    /// `(x - min) / (max - min)`; a constant training column gives
    /// `x - min` (0 on training rows), as scikit-learn's `MinMaxScaler`.
    Minmax,
}

impl Scale {
    /// The name used in search files.
    pub fn name(self) -> &'static str {
        match self {
            Scale::None => "none",
            Scale::Standard => "standard",
            Scale::Minmax => "minmax",
        }
    }
}

/// What to fit: imputation, the constant for `Impute::Constant`, scaling.
#[derive(Clone, Debug, PartialEq)]
pub struct PreprocessSpec {
    /// How missing values are filled.
    pub impute: Impute,
    /// The fill for `Impute::Constant` (numeric columns only).
    pub fill_value: f64,
    /// How numeric columns are scaled.
    pub scale: Scale,
    /// With `impute = none`: pass missing cells on as NaN instead of
    /// refusing them (only for a model that takes NaN natively, see
    /// `ModelInfo::missing_values`). Ignored by the other imputations.
    pub keep_missing: bool,
}

/// One fitted input column, found by name when transforming.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FittedColumn {
    /// Output `(x - center) / divisor`, with `x` filled by `fill` when
    /// missing (`None`: missing is an error).
    Numeric {
        /// The input column's name.
        name: String,
        /// The value a missing cell takes (fitted by `impute`).
        fill: Option<f64>,
        /// Subtracted first: the mean (`standard`), the minimum (`minmax`),
        /// or 0 (no scaling).
        center: f64,
        /// Divided by next: the standard deviation, the range, or 1; never 0
        /// (a constant column gets 1).
        divisor: f64,
    },
    /// One output per level (sorted); `fill` replaces a missing value.
    Text {
        /// The input column's name.
        name: String,
        /// The levels seen in the training rows, sorted: one output each
        /// (an unseen level is all zeros).
        levels: Vec<String>,
        /// The level a missing cell takes (fitted by `impute`).
        fill: Option<String>,
    },
}

impl FittedColumn {
    /// The input column's name.
    pub fn name(&self) -> &str {
        match self {
            FittedColumn::Numeric { name, .. } | FittedColumn::Text { name, .. } => name,
        }
    }

    /// Number of output columns.
    pub fn width(&self) -> usize {
        match self {
            FittedColumn::Numeric { .. } => 1,
            FittedColumn::Text { levels, .. } => levels.len(),
        }
    }
}

/// Rows [`Preprocessor::transform_numeric_blocked`] fills at a time: 256
/// rows of 50 features are 100 KB of output.
const BLOCK_ROWS: usize = 256;

/// Imputation, one-hot encoding and scaling, fitted on training rows only.
///
/// # Format
///
/// Serialised (serde) as `{ impute, fill_value, scale, columns }` where
/// `columns` lists, in output order, `{ kind = "numeric", name, fill,
/// center, divisor }` or `{ kind = "text", name, levels, fill }`; and
/// `keep_missing = true` after them when missing cells pass as NaN (the
/// field is absent otherwise, so older files read back unchanged).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Preprocessor {
    impute: Impute,
    fill_value: f64,
    scale: Scale,
    columns: Vec<FittedColumn>,
    #[serde(default, skip_serializing_if = "is_false")]
    keep_missing: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Preprocessor {
    /// Fit on `rows` of `ds` (the training rows of a fold; the statistics
    /// never look at any other row).
    pub fn fit(ds: &Dataset, rows: &[usize], spec: &PreprocessSpec) -> Result<Self, DataError> {
        let mut columns = Vec::with_capacity(ds.columns.len());
        for (name, column) in ds.feature_names.iter().zip(&ds.columns) {
            let fitted = match column {
                Column::Numeric(values) => {
                    let train = rows
                        .iter()
                        .map(|&r| match values.get(r) {
                            Some(x) => Ok((!x.is_nan()).then_some(x)),
                            None => Err(out_of_range(&ds.path, name, r, values.len())),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    fit_numeric(ds, name, rows, &train, spec)?
                }
                Column::Text(values) => {
                    let train = gather(ds, name, values, rows)?;
                    fit_text(ds, name, rows, &train, spec)?
                }
            };
            columns.push(fitted);
        }
        Ok(Preprocessor {
            impute: spec.impute,
            fill_value: spec.fill_value,
            scale: spec.scale,
            columns,
            keep_missing: spec.impute == Impute::None && spec.keep_missing,
        })
    }

    /// Transform `rows` of `ds` into a matrix (rows × outputs). Columns are
    /// found by name, so `ds` may order them differently from the data the
    /// preprocessor was fitted on; a missing column, or one whose kind
    /// (numeric or text) changed, is an error.
    pub fn transform(&self, ds: &Dataset, rows: &[usize]) -> Result<Array2<f64>, DataError> {
        let cells = ds.columns.iter().map(Cells::of).collect::<Vec<_>>();
        self.transform_cells(&ds.path, &ds.feature_names, &cells, rows)
    }

    fn transform_cells(
        &self,
        path: &Path,
        names: &[String],
        columns: &[Cells<'_>],
        rows: &[usize],
    ) -> Result<Array2<f64>, DataError> {
        match self.transform_numeric_blocked(names, columns, rows) {
            Some(out) => Ok(out),
            // Text columns, or a cell the plain version reports.
            None => self.transform_cells_plain(path, names, columns, rows),
        }
    }

    /// For each output, when every fitted column is numeric and named in
    /// `names`, what the fast transforms apply (`None` sends the caller to
    /// the plain version).
    fn numeric_plan(&self, names: &[String]) -> Option<Vec<NumericStep>> {
        let index = column_index(names);
        self.columns
            .iter()
            .map(|fitted| match fitted {
                FittedColumn::Numeric {
                    name,
                    fill,
                    center,
                    divisor,
                } => Some(NumericStep {
                    source: *index.get(name.as_str())?,
                    fill: *fill,
                    center: *center,
                    divisor: *divisor,
                }),
                FittedColumn::Text { .. } => None,
            })
            .collect()
    }

    /// [`Preprocessor::transform_cells_plain`] for all-numeric data, the
    /// same bits, faster on many rows (why: the plain version fills the
    /// row-major output a column at a time, so each column strides through
    /// the whole matrix; this fills [`BLOCK_ROWS`] rows at a time, a block
    /// that stays in cache). `None` where it cannot serve: a text column,
    /// a missing column, or a cell the plain version would refuse (it then
    /// reports the error it always did).
    fn transform_numeric_blocked(
        &self,
        names: &[String],
        columns: &[Cells<'_>],
        rows: &[usize],
    ) -> Option<Array2<f64>> {
        let mut plan = Vec::with_capacity(self.columns.len());
        for step in self.numeric_plan(names)? {
            let Cells::Packed(values) = columns.get(step.source)? else {
                return None;
            };
            plan.push((*values, step.fill, step.center, step.divisor));
        }
        let width = plan.len();
        let mut out = Array2::<f64>::zeros((rows.len(), width));
        let cells = out.as_slice_mut()?;
        for (block, at) in rows
            .chunks(BLOCK_ROWS)
            .zip(cells.chunks_mut(BLOCK_ROWS * width.max(1)))
        {
            for (c, &(values, fill, center, divisor)) in plan.iter().enumerate() {
                for (k, &row) in block.iter().enumerate() {
                    let x = *values.get(row)?;
                    let x = match (x.is_nan(), fill) {
                        (false, _) => x,
                        (true, Some(f)) => f,
                        (true, None) if self.keep_missing => f64::NAN,
                        (true, None) => return None,
                    };
                    *at.get_mut(k * width + c)? = (x - center) / divisor;
                }
            }
        }
        Some(out)
    }

    /// The transform, a column at a time (what the blocked version must
    /// equal, and the one that reports bad cells).
    fn transform_cells_plain(
        &self,
        path: &Path,
        names: &[String],
        columns: &[Cells<'_>],
        rows: &[usize],
    ) -> Result<Array2<f64>, DataError> {
        let width = self.width();
        let mut out = Array2::<f64>::zeros((rows.len(), width));
        let index = column_index(names);
        let mut offset = 0;
        for fitted in &self.columns {
            let name = fitted.name();
            let column = index
                .get(name)
                .and_then(|&j| columns.get(j))
                .ok_or_else(|| {
                    invalid(
                        path,
                        format!(
                            "column `{name}` is missing; the model was fitted with it: add \
                             the column"
                        ),
                    )
                })?;
            match (fitted, column) {
                (
                    FittedColumn::Numeric {
                        fill,
                        center,
                        divisor,
                        ..
                    },
                    Cells::Packed(_) | Cells::Strided { .. },
                ) => {
                    for (i, &row) in rows.iter().enumerate() {
                        let x = match (column.number(path, name, row)?, fill) {
                            (Some(x), _) => x,
                            (None, Some(f)) => *f,
                            (None, None) if self.keep_missing => f64::NAN,
                            (None, None) => return Err(missing_error(path, name, row)),
                        };
                        out[[i, offset]] = (x - center) / divisor;
                    }
                }
                (FittedColumn::Text { levels, fill, .. }, Cells::Text(values)) => {
                    for (i, &row) in rows.iter().enumerate() {
                        let value = match cell(path, name, values, row)? {
                            Some(v) => Some(v),
                            None if self.keep_missing => {
                                for k in 0..levels.len() {
                                    out[[i, offset + k]] = f64::NAN;
                                }
                                continue;
                            }
                            None if self.impute == Impute::None => {
                                return Err(missing_error(path, name, row));
                            }
                            None => fill.as_ref(),
                        };
                        // An unseen level (or no fill) leaves the row all zeros.
                        if let Some(k) = value.and_then(|v| levels.binary_search(v).ok()) {
                            out[[i, offset + k]] = 1.0;
                        }
                    }
                }
                (FittedColumn::Numeric { .. }, Cells::Text(_)) => {
                    return Err(kind_error(path, name, "numeric", "text"));
                }
                (FittedColumn::Text { .. }, Cells::Packed(_) | Cells::Strided { .. }) => {
                    return Err(kind_error(path, name, "text", "numeric"));
                }
            }
            offset += fitted.width();
        }
        Ok(out)
    }

    /// Names of the output columns, in order: a numeric column's own name,
    /// `column=level` for each one-hot level.
    pub fn output_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for fitted in &self.columns {
            match fitted {
                FittedColumn::Numeric { name, .. } => names.push(name.clone()),
                FittedColumn::Text { name, levels, .. } => {
                    names.extend(levels.iter().map(|l| format!("{name}={l}")));
                }
            }
        }
        names
    }

    /// Names of the input columns the preprocessor reads, in fitted order.
    pub fn input_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name().to_owned()).collect()
    }

    /// How many numbers a transformed row has.
    pub fn width(&self) -> usize {
        self.columns.iter().map(FittedColumn::width).sum()
    }

    /// The fitted columns, in output order.
    pub fn columns(&self) -> &[FittedColumn] {
        &self.columns
    }

    /// The spec it was fitted with.
    pub fn spec(&self) -> PreprocessSpec {
        PreprocessSpec {
            impute: self.impute,
            fill_value: self.fill_value,
            scale: self.scale,
            keep_missing: self.keep_missing,
        }
    }
}

/// A feature column as [`Preprocessor::transform`] reads it.
#[derive(Clone, Copy)]
enum Cells<'a> {
    /// NaN for a missing cell.
    Packed(&'a [f64]),
    /// Column `offset` of a row-major matrix `width` numbers wide (NaN for
    /// a missing cell).
    Strided {
        cells: &'a [f64],
        width: usize,
        offset: usize,
    },
    Text(&'a [Option<String>]),
}

impl<'a> Cells<'a> {
    fn of(column: &'a Column) -> Cells<'a> {
        match column {
            Column::Numeric(v) => Cells::Packed(v),
            Column::Text(v) => Cells::Text(v),
        }
    }

    /// A numeric column's cell at `row` (`None`: missing).
    fn number(&self, path: &Path, name: &str, row: usize) -> Result<Option<f64>, DataError> {
        match self {
            Cells::Packed(values) => match values.get(row) {
                Some(x) if x.is_nan() => Ok(None),
                Some(x) => Ok(Some(*x)),
                None => Err(out_of_range(path, name, row, values.len())),
            },
            Cells::Strided {
                cells,
                width,
                offset,
            } => match row
                .checked_mul(*width)
                .filter(|_| offset < width)
                .and_then(|at| cells.get(at + offset))
            {
                Some(x) if x.is_nan() => Ok(None),
                Some(x) => Ok(Some(*x)),
                None => Err(out_of_range(path, name, row, cells.len() / (*width).max(1))),
            },
            Cells::Text(_) => Err(kind_error(path, name, "numeric", "text")),
        }
    }
}

/// One output of an all-numeric transform: `(x - center) / divisor` of
/// column `source`, `x` filled by `fill` when missing.
#[derive(Clone, Copy)]
struct NumericStep {
    source: usize,
    fill: Option<f64>,
    center: f64,
    divisor: f64,
}

/// Each feature name's column.
fn column_index(names: &[String]) -> BTreeMap<&str, usize> {
    names
        .iter()
        .enumerate()
        .map(|(j, n)| (n.as_str(), j))
        .collect()
}

fn invalid(path: &Path, message: String) -> DataError {
    DataError::Invalid {
        path: path.to_path_buf(),
        message,
    }
}

fn missing_error(path: &Path, name: &str, row: usize) -> DataError {
    invalid(
        path,
        format!(
            "line {}: column `{name}`: missing value, and impute is \"none\"; fill the value \
             or set impute to mean, median, most_frequent or constant",
            // Data row `row` is on line `row + 2` (`Dataset::line`).
            row + 2
        ),
    )
}

fn kind_error(path: &Path, name: &str, fitted: &str, found: &str) -> DataError {
    invalid(
        path,
        format!(
            "column `{name}` is {found} here but was {fitted} when the preprocessing was \
             fitted; use data with the same kind of values"
        ),
    )
}

fn out_of_range(path: &Path, name: &str, row: usize, len: usize) -> DataError {
    invalid(
        path,
        format!("column `{name}`: row {row} is out of range ({len} rows)"),
    )
}

/// The cell of `values` at `row`; a row out of range is an error.
fn cell<'a, T>(
    path: &Path,
    name: &str,
    values: &'a [Option<T>],
    row: usize,
) -> Result<Option<&'a T>, DataError> {
    values
        .get(row)
        .map(Option::as_ref)
        .ok_or_else(|| out_of_range(path, name, row, values.len()))
}

/// The training cells of one column, in the order of `rows`.
fn gather<'a, T>(
    ds: &Dataset,
    name: &str,
    values: &'a [Option<T>],
    rows: &[usize],
) -> Result<Vec<Option<&'a T>>, DataError> {
    rows.iter()
        .map(|&r| cell(&ds.path, name, values, r))
        .collect()
}

fn fit_numeric(
    ds: &Dataset,
    name: &str,
    rows: &[usize],
    train: &[Option<&f64>],
    spec: &PreprocessSpec,
) -> Result<FittedColumn, DataError> {
    let present: Vec<f64> = train.iter().filter_map(|v| v.copied()).collect();
    let no_values = || {
        invalid(
            &ds.path,
            format!(
                "column `{name}` has no values in the training rows, so impute = \"{}\" has \
                 nothing to compute from; use impute = \"constant\" or drop the column",
                spec.impute.name()
            ),
        )
    };
    let fill = match spec.impute {
        Impute::None => {
            if let Some(i) = train.iter().position(Option::is_none) {
                if !spec.keep_missing {
                    return Err(missing_error(&ds.path, name, rows[i]));
                }
            }
            None
        }
        Impute::Mean => {
            if present.is_empty() {
                return Err(no_values());
            }
            Some(present.iter().sum::<f64>() / present.len() as f64)
        }
        Impute::Median => {
            let mut sorted = present.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            match n {
                0 => return Err(no_values()),
                _ if n % 2 == 1 => Some(sorted[n / 2]),
                _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
            }
        }
        Impute::MostFrequent => {
            let mut sorted = present.clone();
            sorted.sort_by(f64::total_cmp);
            Some(mode(&sorted).ok_or_else(no_values)?)
        }
        Impute::Constant => Some(spec.fill_value),
    };
    // Statistics on the imputed training values, in row order (kept
    // missing cells, NaN later, do not enter them).
    let values: Vec<f64> = if spec.impute == Impute::None && spec.keep_missing {
        present
    } else {
        train
            .iter()
            .map(|v| v.copied().or(fill).unwrap_or(0.0))
            .collect()
    };
    let n = values.len() as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // A constant column is detected exactly (min == max) rather than by a
    // zero std: the rounded mean of equal values can differ from them in the
    // last bit, and dividing by that tiny std would blow the column up.
    let constant = values.is_empty() || min == max;
    let (center, divisor) = match spec.scale {
        Scale::None => (0.0, 1.0),
        Scale::Standard if constant => (values.first().copied().unwrap_or(0.0), 1.0),
        Scale::Standard => {
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
            let std = var.sqrt();
            (mean, if std > 0.0 { std } else { 1.0 })
        }
        Scale::Minmax if constant => (values.first().copied().unwrap_or(0.0), 1.0),
        Scale::Minmax => (min, max - min),
    };
    Ok(FittedColumn::Numeric {
        name: name.to_owned(),
        fill,
        center,
        divisor,
    })
}

/// The most frequent value of a sorted slice, the first (smallest) on ties.
fn mode<T: PartialEq + Copy>(sorted: &[T]) -> Option<T> {
    let mut best: Option<(T, usize)> = None;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i + 1;
        while j < sorted.len() && sorted[j] == sorted[i] {
            j += 1;
        }
        if best.is_none_or(|(_, count)| j - i > count) {
            best = Some((sorted[i], j - i));
        }
        i = j;
    }
    best.map(|(v, _)| v)
}

fn fit_text(
    ds: &Dataset,
    name: &str,
    rows: &[usize],
    train: &[Option<&String>],
    spec: &PreprocessSpec,
) -> Result<FittedColumn, DataError> {
    // BTreeMap: levels in sorted order, independent of row order.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for value in train.iter().flatten() {
        *counts.entry(value.as_str()).or_insert(0) += 1;
    }
    let fill = match spec.impute {
        Impute::None => {
            if let Some(i) = train.iter().position(Option::is_none) {
                if !spec.keep_missing {
                    return Err(missing_error(&ds.path, name, rows[i]));
                }
            }
            None
        }
        _ => {
            // Sorted iteration + strict `>`: ties go to the smallest level.
            let mut best: Option<(&str, usize)> = None;
            for (&level, &count) in &counts {
                if best.is_none_or(|(_, c)| count > c) {
                    best = Some((level, count));
                }
            }
            best.map(|(level, _)| level.to_owned())
        }
    };
    Ok(FittedColumn::Text {
        name: name.to_owned(),
        levels: counts.keys().map(|l| (*l).to_owned()).collect(),
        fill,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Target;
    use std::path::PathBuf;

    fn dataset(names: &[&str], columns: Vec<Column>) -> Dataset {
        let n_rows = columns.first().map_or(0, Column::len);
        Dataset {
            path: PathBuf::from("t.csv"),
            sha256: String::new(),
            feature_names: names.iter().map(|n| (*n).to_owned()).collect(),
            columns,
            target: Target::Values(vec![0.0; n_rows]),
            n_rows,
        }
    }

    fn num(values: &[Option<f64>]) -> Column {
        Column::numbers(values.iter().copied())
    }

    fn text(values: &[Option<&str>]) -> Column {
        Column::Text(values.iter().map(|v| v.map(str::to_owned)).collect())
    }

    fn spec(impute: Impute, scale: Scale) -> PreprocessSpec {
        PreprocessSpec {
            impute,
            fill_value: -1.0,
            scale,
            keep_missing: false,
        }
    }

    fn message(e: DataError) -> String {
        match e {
            DataError::Invalid { message, .. } => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_blocked_transform_equals_the_plain_one_bit_for_bit() {
        // Enough rows for several blocks and a short last one, a missing
        // cell every so often, rows out of order and repeated.
        let n = 3 * BLOCK_ROWS + 17;
        let col = |k: u64| {
            num(&(0..n as u64)
                .map(|i| (i % 97 != k).then(|| ((i * 7919 + k) % 1000) as f64 / 7.0 - 50.0))
                .collect::<Vec<_>>())
        };
        let ds = dataset(&["a", "b", "c"], vec![col(3), col(40), col(0)]);
        let rows: Vec<usize> = (0..n).rev().chain([5, 5, 0]).collect();
        let cells = ds.columns.iter().map(Cells::of).collect::<Vec<_>>();
        for (impute, keep) in [(Impute::Mean, false), (Impute::None, true)] {
            let spec = PreprocessSpec {
                keep_missing: keep,
                ..spec(impute, Scale::Standard)
            };
            let pre = Preprocessor::fit(&ds, &rows[..n / 2], &spec).unwrap();
            let blocked = pre
                .transform_numeric_blocked(&ds.feature_names, &cells, &rows)
                .unwrap();
            let plain = pre
                .transform_cells_plain(&ds.path, &ds.feature_names, &cells, &rows)
                .unwrap();
            let bits = |m: &Array2<f64>| m.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&blocked), bits(&plain));
            assert_eq!(bits(&pre.transform(&ds, &rows).unwrap()), bits(&plain));
        }
        // A missing cell with no fill: the plain version's error, naming
        // the first column (in column order) with one.
        let pre = Preprocessor::fit(&ds, &[1, 2], &spec(Impute::None, Scale::None)).unwrap();
        assert!(pre
            .transform_numeric_blocked(&ds.feature_names, &cells, &rows)
            .is_none());
        let e = message(pre.transform(&ds, &rows).unwrap_err());
        let plain = pre.transform_cells_plain(&ds.path, &ds.feature_names, &cells, &rows);
        assert_eq!(e, message(plain.unwrap_err()));
        assert!(e.contains("`a`"), "{e}");
    }

    #[test]
    fn fitted_on_train_rows_only() {
        let a = dataset(
            &["x"],
            vec![num(&[Some(1.0), Some(2.0), Some(3.0), Some(100.0)])],
        );
        let b = dataset(
            &["x"],
            vec![num(&[Some(1.0), Some(2.0), Some(3.0), Some(-7.0)])],
        );
        let s = spec(Impute::Mean, Scale::Standard);
        let pa = Preprocessor::fit(&a, &[0, 1, 2], &s).unwrap();
        let pb = Preprocessor::fit(&b, &[0, 1, 2], &s).unwrap();
        assert_eq!(pa, pb);
        // But fitting on all rows does see the outlier.
        assert_ne!(pa, Preprocessor::fit(&a, &[0, 1, 2, 3], &s).unwrap());
    }

    #[test]
    fn standard_scaling_by_hand() {
        // Train 1 2 3 4: mean 2.5, population variance
        // (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25.
        let ds = dataset(
            &["x"],
            vec![num(&[
                Some(1.0),
                Some(2.0),
                Some(3.0),
                Some(4.0),
                Some(5.0),
            ])],
        );
        let p =
            Preprocessor::fit(&ds, &[0, 1, 2, 3], &spec(Impute::None, Scale::Standard)).unwrap();
        let out = p.transform(&ds, &[0, 4]).unwrap();
        let std = 1.25f64.sqrt();
        assert_eq!(out.shape(), &[2, 1]);
        assert_eq!(out[[0, 0]], (1.0 - 2.5) / std);
        assert_eq!(out[[1, 0]], (5.0 - 2.5) / std);
    }

    #[test]
    fn minmax_scaling_by_hand() {
        // Train 2 4 10: min 2, range 8; 6 -> 0.5, 12 -> 1.25 (not clipped).
        let ds = dataset(
            &["x"],
            vec![num(&[
                Some(2.0),
                Some(4.0),
                Some(10.0),
                Some(6.0),
                Some(12.0),
            ])],
        );
        let p = Preprocessor::fit(&ds, &[0, 1, 2], &spec(Impute::None, Scale::Minmax)).unwrap();
        let out = p.transform(&ds, &[0, 1, 2, 3, 4]).unwrap();
        assert_eq!(out.column(0).to_vec(), vec![0.0, 0.25, 1.0, 0.5, 1.25]);
    }

    #[test]
    fn constant_column_scales_to_zero_on_train() {
        // 0.1 three times: the summed mean is 0.10000000000000002, so a
        // std-based check would divide by ~1e-17.
        let ds = dataset(
            &["x"],
            vec![num(&[Some(0.1), Some(0.1), Some(0.1), Some(0.35)])],
        );
        for scale in [Scale::Standard, Scale::Minmax] {
            let p = Preprocessor::fit(&ds, &[0, 1, 2], &spec(Impute::None, scale)).unwrap();
            let out = p.transform(&ds, &[0, 1, 2, 3]).unwrap();
            assert_eq!(out.column(0).to_vec(), vec![0.0, 0.0, 0.0, 0.35 - 0.1]);
        }
    }

    #[test]
    fn imputation_strategies_by_hand() {
        // Train rows 0..5: 1, 7, NA, 3, 10 (row 5 missing, a test row).
        let ds = dataset(
            &["x"],
            vec![num(&[
                Some(1.0),
                Some(7.0),
                None,
                Some(3.0),
                Some(10.0),
                None,
            ])],
        );
        let rows = [0, 1, 2, 3, 4];
        let filled = |impute| {
            let p = Preprocessor::fit(&ds, &rows, &spec(impute, Scale::None)).unwrap();
            p.transform(&ds, &[5]).unwrap()[[0, 0]]
        };
        // Mean of 1 7 3 10 = 21 / 4.
        assert_eq!(filled(Impute::Mean), 5.25);
        // Median with an even count: sorted 1 3 7 10 -> (3 + 7) / 2.
        assert_eq!(filled(Impute::Median), 5.0);
        // Constant: the spec's fill_value.
        assert_eq!(filled(Impute::Constant), -1.0);
        // Median, odd count: 1 7 3 -> 3.
        let p = Preprocessor::fit(&ds, &[0, 1, 2, 3], &spec(Impute::Median, Scale::None)).unwrap();
        assert_eq!(p.transform(&ds, &[2]).unwrap()[[0, 0]], 3.0);
    }

    #[test]
    fn most_frequent_takes_smallest_on_ties() {
        // 3 1 3 1 2: 1 and 3 both twice -> 1.
        let ds = dataset(
            &["x"],
            vec![num(&[
                Some(3.0),
                Some(1.0),
                Some(3.0),
                Some(1.0),
                Some(2.0),
                None,
            ])],
        );
        let p = Preprocessor::fit(
            &ds,
            &[0, 1, 2, 3, 4],
            &spec(Impute::MostFrequent, Scale::None),
        )
        .unwrap();
        assert_eq!(p.transform(&ds, &[5]).unwrap()[[0, 0]], 1.0);
    }

    #[test]
    fn imputed_values_enter_the_scaling_statistics() {
        // Train 0, NA, 4 with mean imputation -> 0, 2, 4: mean 2,
        // population variance 8/3.
        let ds = dataset(&["x"], vec![num(&[Some(0.0), None, Some(4.0)])]);
        let p = Preprocessor::fit(&ds, &[0, 1, 2], &spec(Impute::Mean, Scale::Standard)).unwrap();
        let out = p.transform(&ds, &[0, 1, 2]).unwrap();
        let std = (8.0f64 / 3.0).sqrt();
        assert_eq!(out.column(0).to_vec(), vec![-2.0 / std, 0.0, 2.0 / std]);
    }

    #[test]
    fn kept_missing_cells_come_out_as_nan_and_stay_out_of_the_statistics() {
        // Train 0, NA, 4 kept missing: standard scaling on 0 and 4 only
        // (mean 2, std 2); the missing cell is NaN, in every one-hot output
        // of a text column too. The flag reaches the serialised form only
        // when set.
        let ds = dataset(
            &["x", "color"],
            vec![
                num(&[Some(0.0), None, Some(4.0)]),
                text(&[Some("red"), None, Some("blue")]),
            ],
        );
        let keep = PreprocessSpec {
            keep_missing: true,
            ..spec(Impute::None, Scale::Standard)
        };
        let p = Preprocessor::fit(&ds, &[0, 1, 2], &keep).unwrap();
        assert!(p.spec().keep_missing);
        let out = p.transform(&ds, &[0, 1, 2]).unwrap();
        assert_eq!(out.row(0).to_vec(), vec![-1.0, 0.0, 1.0]);
        assert!(out.row(1).iter().all(|v| v.is_nan()), "{out}");
        assert_eq!(out.row(2).to_vec(), vec![1.0, 1.0, 0.0]);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["keep_missing"], true);
        let back: Preprocessor = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
        // Without the flag: refused as before, and no field written.
        let e = Preprocessor::fit(&ds, &[0, 1, 2], &spec(Impute::None, Scale::Standard));
        assert!(message(e.unwrap_err()).contains("missing value"));
        let p = Preprocessor::fit(&ds, &[0, 2], &spec(Impute::None, Scale::Standard)).unwrap();
        assert!(serde_json::to_value(&p)
            .unwrap()
            .get("keep_missing")
            .is_none());
        assert!(p.transform(&ds, &[1]).is_err());
        // Another imputation ignores the flag.
        let mean = PreprocessSpec {
            keep_missing: true,
            ..spec(Impute::Mean, Scale::None)
        };
        let p = Preprocessor::fit(&ds, &[0, 1, 2], &mean).unwrap();
        assert!(!p.spec().keep_missing);
        assert_eq!(p.transform(&ds, &[1]).unwrap()[[0, 0]], 2.0);
    }

    #[test]
    fn one_hot_with_unseen_level_and_missing() {
        let ds = dataset(
            &["color", "x"],
            vec![
                text(&[Some("red"), Some("blue"), Some("red"), Some("green"), None]),
                num(&[Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(5.0)]),
            ],
        );
        let p = Preprocessor::fit(&ds, &[0, 1, 2], &spec(Impute::Median, Scale::Minmax)).unwrap();
        assert_eq!(p.output_names(), vec!["color=blue", "color=red", "x"]);
        assert_eq!(p.input_names(), vec!["color", "x"]);
        let out = p.transform(&ds, &[0, 1, 3, 4]).unwrap();
        // red; blue; green unseen -> zeros; missing -> most frequent (red).
        // One-hot is not scaled; x: (x - 1) / 2.
        assert_eq!(out.row(0).to_vec(), vec![0.0, 1.0, 0.0]);
        assert_eq!(out.row(1).to_vec(), vec![1.0, 0.0, 0.5]);
        assert_eq!(out.row(2).to_vec(), vec![0.0, 0.0, 1.5]);
        assert_eq!(out.row(3).to_vec(), vec![0.0, 1.0, 2.0]);
    }

    #[test]
    fn missing_with_impute_none_names_line_and_column() {
        let ds = dataset(
            &["a", "b"],
            vec![
                num(&[Some(1.0), Some(2.0), Some(3.0), Some(4.0)]),
                num(&[Some(1.0), Some(2.0), None, Some(4.0)]),
            ],
        );
        let s = spec(Impute::None, Scale::Standard);
        // Row 2 is file line 4.
        let m = message(Preprocessor::fit(&ds, &[0, 2, 3], &s).unwrap_err());
        assert!(m.starts_with("line 4: column `b`: missing value"), "{m}");
        // Fitting without it works; transforming it fails the same way.
        let p = Preprocessor::fit(&ds, &[0, 1, 3], &s).unwrap();
        let m = message(p.transform(&ds, &[2]).unwrap_err());
        assert!(m.starts_with("line 4: column `b`"), "{m}");
        // A missing text value too.
        let ds = dataset(&["t"], vec![text(&[Some("u"), None])]);
        let m = message(Preprocessor::fit(&ds, &[0, 1], &s).unwrap_err());
        assert!(m.starts_with("line 3: column `t`"), "{m}");
    }

    #[test]
    fn all_missing_training_column_cannot_be_mean_imputed() {
        let ds = dataset(&["x"], vec![num(&[None, None, Some(1.0)])]);
        let m =
            message(Preprocessor::fit(&ds, &[0, 1], &spec(Impute::Mean, Scale::None)).unwrap_err());
        assert!(
            m.contains("column `x` has no values in the training rows"),
            "{m}"
        );
        // Constant works.
        let p = Preprocessor::fit(&ds, &[0, 1], &spec(Impute::Constant, Scale::None)).unwrap();
        assert_eq!(p.transform(&ds, &[0]).unwrap()[[0, 0]], -1.0);
    }

    #[test]
    fn columns_are_found_by_name_in_another_order() {
        let fit_ds = dataset(
            &["a", "c"],
            vec![num(&[Some(1.0), Some(3.0)]), text(&[Some("p"), Some("q")])],
        );
        let p = Preprocessor::fit(&fit_ds, &[0, 1], &spec(Impute::None, Scale::Minmax)).unwrap();
        let other = dataset(
            &["c", "extra", "a"],
            vec![text(&[Some("q")]), num(&[Some(9.0)]), num(&[Some(2.0)])],
        );
        let out = p.transform(&other, &[0]).unwrap();
        assert_eq!(out.row(0).to_vec(), vec![0.5, 0.0, 1.0]);
        let missing = dataset(&["a"], vec![num(&[Some(2.0)])]);
        let m = message(p.transform(&missing, &[0]).unwrap_err());
        assert!(m.contains("column `c` is missing"), "{m}");
        let wrong_kind = dataset(&["a", "c"], vec![num(&[Some(2.0)]), num(&[Some(1.0)])]);
        let m = message(p.transform(&wrong_kind, &[0]).unwrap_err());
        assert!(m.contains("column `c` is numeric here but was text"), "{m}");
    }

    fn fitted_with_inexact_floats() -> (Dataset, Preprocessor) {
        let ds = dataset(
            &["x", "t"],
            vec![
                num(&[Some(0.1), Some(0.7), None]),
                text(&[Some("a"), None, Some("b")]),
            ],
        );
        let p = Preprocessor::fit(&ds, &[0, 1, 2], &spec(Impute::Mean, Scale::Standard)).unwrap();
        (ds, p)
    }

    #[test]
    fn serde_format_names_kinds_and_fields() {
        let (_, p) = fitted_with_inexact_floats();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["impute"], "mean");
        assert_eq!(json["scale"], "standard");
        assert_eq!(json["columns"][0]["kind"], "numeric");
        assert_eq!(json["columns"][0]["name"], "x");
        assert_eq!(json["columns"][1]["kind"], "text");
        assert_eq!(json["columns"][1]["levels"], serde_json::json!(["a", "b"]));
        assert_eq!(json["columns"][1]["fill"], "a");
    }

    /// The fitted mean here is 0.39999999999999997 (0.1 + 0.7 summed, / 2);
    /// serde_json's default float parser reads it back as 0.4. Bit-exact
    /// artifacts need `serde_json = { features = ["float_roundtrip"] }`.
    #[test]
    fn serde_json_round_trip_keeps_bits() {
        let (ds, p) = fitted_with_inexact_floats();
        let json = serde_json::to_string(&p).unwrap();
        let back: Preprocessor = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        assert_eq!(
            back.transform(&ds, &[0, 1, 2]).unwrap(),
            p.transform(&ds, &[0, 1, 2]).unwrap()
        );
    }
}
