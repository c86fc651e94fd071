//! A dataset kept for a whole search ([`Packed`]), and the transform that
//! prepares a fold's rows from it each time a trial needs them.
//!
//! All-numeric data is kept row after row (why: a fold is a set of whole
//! rows, so preparing one reads a single stream through memory, where
//! column after column it reads one stream a column: on 1,000,000 × 50 rows
//! that gather was 40 % of a cold logistic grid's CPU). The transform reads
//! a cell and applies the same arithmetic as [`Preprocessor::transform`]
//! (`(x - center) / divisor`, the fill for a missing cell), so the matrix
//! has the same bits however the data is kept.

use ndarray::Array2;
use rayon::prelude::*;
use std::path::PathBuf;

use super::{Cells, Preprocessor};
use crate::data::{Column, DataError, Dataset, Target};

/// A dataset's feature columns kept for a long time, without its target:
/// one `f64` a numeric cell (NaN for a missing one, as [`Column::Numeric`]
/// holds them), text cells as they are.
#[derive(Clone, Debug)]
pub(crate) struct Packed {
    /// The data file, for errors.
    pub path: PathBuf,
    /// Feature names, in the dataset's order.
    pub feature_names: Vec<String>,
    stored: Stored,
    /// Number of rows.
    pub n_rows: usize,
}

#[derive(Clone, Debug)]
enum Stored {
    /// Every feature is numeric: row after row, `feature_names.len()`
    /// numbers a row.
    Rows(Vec<f64>),
    /// Some feature is text: the dataset's columns.
    Columns(Vec<Column>),
}

/// Rows a rayon task transposes at once (a block of rows stays in cache).
const TRANSPOSE_ROWS: usize = 1024;

impl Packed {
    /// Keep `ds`'s feature columns (all-numeric ones laid out row after
    /// row, others moved as they are); its target is handed back.
    pub fn new(ds: Dataset) -> (Packed, Target) {
        let width = ds.columns.len();
        let numeric: Option<Vec<&[f64]>> = ds
            .columns
            .iter()
            .map(|c| match c {
                Column::Numeric(v) if v.len() == ds.n_rows => Some(v.as_slice()),
                _ => None,
            })
            .collect();
        let stored = match numeric {
            Some(columns) if width > 0 => {
                let mut cells = vec![0.0; ds.n_rows * width];
                cells
                    .par_chunks_mut(TRANSPOSE_ROWS * width)
                    .enumerate()
                    .for_each(|(b, block)| {
                        let first = b * TRANSPOSE_ROWS;
                        for (j, column) in columns.iter().enumerate() {
                            let rows = column.iter().skip(first);
                            for (row, &x) in block.chunks_exact_mut(width).zip(rows) {
                                row[j] = x;
                            }
                        }
                    });
                Stored::Rows(cells)
            }
            _ => Stored::Columns(ds.columns),
        };
        (
            Packed {
                path: ds.path,
                feature_names: ds.feature_names,
                stored,
                n_rows: ds.n_rows,
            },
            ds.target,
        )
    }

    /// The columns as the transforms read them.
    fn cells(&self) -> Vec<Cells<'_>> {
        match &self.stored {
            Stored::Columns(columns) => columns.iter().map(Cells::of).collect(),
            Stored::Rows(cells) => {
                let width = self.feature_names.len();
                (0..width)
                    .map(|offset| Cells::Strided {
                        cells,
                        width,
                        offset,
                    })
                    .collect()
            }
        }
    }
}

impl Preprocessor {
    /// [`Preprocessor::transform`] on the packed form of a dataset: the
    /// same matrix, bit for bit (the same arithmetic reads a packed numeric
    /// cell's NaN as the missing cell it stands for).
    pub(crate) fn transform_packed(
        &self,
        p: &Packed,
        rows: &[usize],
    ) -> Result<Array2<f64>, DataError> {
        self.transform_packed_into(p, rows, Vec::new())
    }

    /// [`Preprocessor::transform_packed`] into `buffer`'s memory where it
    /// can (why: on big data a fold's matrix is hundreds of MB, and fresh
    /// memory costs the kernel a fault and a zeroed page every 4 KiB).
    /// The same bits whatever `buffer` held.
    pub(crate) fn transform_packed_into(
        &self,
        p: &Packed,
        rows: &[usize],
        buffer: Vec<f64>,
    ) -> Result<Array2<f64>, DataError> {
        match &p.stored {
            Stored::Rows(all) => match self.transform_rows(&p.feature_names, all, rows, buffer) {
                Some(out) => Ok(out),
                // A cell the plain version reports.
                None => self.transform_cells_plain(&p.path, &p.feature_names, &p.cells(), rows),
            },
            // Text columns: the fast transforms do not serve.
            Stored::Columns(_) => self.transform_cells(&p.path, &p.feature_names, &p.cells(), rows),
        }
    }

    /// Refuse now what [`Preprocessor::transform_packed`] would refuse on
    /// any of `p`'s rows (a missing cell with no fill), with the same error;
    /// cheaper than transforming every row when the data is all numeric.
    pub(crate) fn check_packed(&self, p: &Packed) -> Result<(), DataError> {
        if let (Stored::Rows(all), Some(plan)) = (&p.stored, self.numeric_plan(&p.feature_names)) {
            // The columns where a missing cell has no fill.
            let needed: Vec<usize> = plan
                .iter()
                .filter(|step| step.fill.is_none() && !self.keep_missing)
                .map(|step| step.source)
                .collect();
            let width = p.feature_names.len().max(1);
            let clean = all.chunks_exact(width).all(|row| {
                needed
                    .iter()
                    .all(|&j| row.get(j).is_some_and(|x| !x.is_nan()))
            });
            if clean {
                return Ok(());
            }
        }
        let all: Vec<usize> = (0..p.n_rows).collect();
        self.transform_packed(p, &all).map(drop)
    }

    /// The transform of all-numeric rows kept row after row; `None` where
    /// it cannot serve (a text or missing column, a missing cell with no
    /// fill: the plain version reports it).
    fn transform_rows(
        &self,
        names: &[String],
        all: &[f64],
        rows: &[usize],
        mut buffer: Vec<f64>,
    ) -> Option<Array2<f64>> {
        let width = names.len();
        let plan = self.numeric_plan(names)?;
        let in_order = plan.len() == width && plan.iter().enumerate().all(|(c, p)| p.source == c);
        let centers: Vec<f64> = plan.iter().map(|p| p.center).collect();
        let divisors: Vec<f64> = plan.iter().map(|p| p.divisor).collect();
        // Written in row order, never read before: no zeroing needed.
        buffer.clear();
        buffer.reserve_exact(rows.len() * plan.len());
        for &r in rows {
            let row = all.get(r.checked_mul(width)?..)?.get(..width)?;
            // `fold`, not `any`: no early exit, so the test vectorises.
            if in_order && !row.iter().fold(false, |m, x| m | x.is_nan()) {
                let scaled = row.iter().zip(&centers).zip(&divisors);
                buffer.extend(scaled.map(|((&x, &center), &divisor)| (x - center) / divisor));
                continue;
            }
            for step in &plan {
                let x = *row.get(step.source)?;
                let x = match (x.is_nan(), step.fill) {
                    (false, _) => x,
                    (true, Some(f)) => f,
                    (true, None) if self.keep_missing => f64::NAN,
                    (true, None) => return None,
                };
                buffer.push((x - step.center) / step.divisor);
            }
        }
        Array2::from_shape_vec((rows.len(), plan.len()), buffer).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Impute, PreprocessSpec, Scale};
    use super::*;

    fn dataset(names: &[&str], columns: Vec<Column>) -> Dataset {
        let n_rows = match columns.first() {
            Some(Column::Numeric(v)) => v.len(),
            Some(Column::Text(v)) => v.len(),
            None => 0,
        };
        Dataset {
            path: PathBuf::from("data.csv"),
            feature_names: names.iter().map(|s| s.to_string()).collect(),
            columns,
            target: Target::Values(vec![0.0; n_rows]),
            n_rows,
            sha256: String::new(),
        }
    }

    fn spec(impute: Impute, keep_missing: bool) -> PreprocessSpec {
        PreprocessSpec {
            impute,
            fill_value: 0.0,
            scale: Scale::Standard,
            keep_missing,
        }
    }

    fn bits(m: &Array2<f64>) -> Vec<u64> {
        m.iter().map(|v| v.to_bits()).collect()
    }

    /// Enough rows for several transpose blocks, a missing cell every so
    /// often.
    fn numeric(n: usize, k: u64) -> Column {
        Column::Numeric(
            (0..n as u64)
                .map(|i| match i % 89 == k {
                    true => f64::NAN,
                    false => ((i * 7919 + k) % 1000) as f64 / 7.0 - 50.0,
                })
                .collect(),
        )
    }

    #[test]
    fn rows_kept_row_after_row_transform_to_the_same_bits() {
        let n = 2 * TRANSPOSE_ROWS + 37;
        let ds = dataset(
            &["a", "b", "c"],
            vec![numeric(n, 3), numeric(n, 40), numeric(n, 0)],
        );
        let (packed, _) = Packed::new(ds.clone());
        assert!(matches!(packed.stored, Stored::Rows(_)));
        let rows: Vec<usize> = (0..n).rev().chain([5, 5, 0]).collect();
        for (impute, keep) in [(Impute::Mean, false), (Impute::None, true)] {
            let pre = Preprocessor::fit(&ds, &rows[..n / 2], &spec(impute, keep)).unwrap();
            let want = bits(&pre.transform(&ds, &rows).unwrap());
            assert_eq!(bits(&pre.transform_packed(&packed, &rows).unwrap()), want);
            // A reused buffer full of other numbers: the same bits.
            let dirty = vec![f64::NAN; 7 * n];
            let reused = pre.transform_packed_into(&packed, &rows, dirty).unwrap();
            assert_eq!(bits(&reused), want);
            assert!(pre.check_packed(&packed).is_ok());
        }
    }

    #[test]
    fn a_file_with_columns_in_another_order_transforms_by_name() {
        let n = 50;
        let ds = dataset(&["a", "b"], vec![numeric(n, 3), numeric(n, 7)]);
        let pre = Preprocessor::fit(&ds, &[1, 2, 3, 4], &spec(Impute::Median, false)).unwrap();
        let swapped = dataset(&["b", "a"], vec![numeric(n, 7), numeric(n, 3)]);
        let (packed, _) = Packed::new(swapped);
        let rows: Vec<usize> = (0..n).collect();
        let want = bits(&pre.transform(&ds, &rows).unwrap());
        assert_eq!(bits(&pre.transform_packed(&packed, &rows).unwrap()), want);
    }

    #[test]
    fn a_missing_cell_with_no_fill_is_the_same_error_either_way() {
        let n = 300;
        // `a` misses nothing, `b` misses rows 5, 94, 183 and 272.
        let ds = dataset(&["a", "b"], vec![numeric(n, 200), numeric(n, 5)]);
        // Fitted on rows with no missing cell.
        let pre = Preprocessor::fit(&ds, &[1, 2, 3], &spec(Impute::None, false)).unwrap();
        let (packed, _) = Packed::new(ds.clone());
        let rows: Vec<usize> = (0..n).collect();
        let message = |e: DataError| e.to_string();
        let want = message(pre.transform(&ds, &rows).unwrap_err());
        assert!(want.contains("line 7") && want.contains("`b`"), "{want}");
        assert_eq!(
            message(pre.transform_packed(&packed, &rows).unwrap_err()),
            want
        );
        assert_eq!(message(pre.check_packed(&packed).unwrap_err()), want);
    }

    #[test]
    fn text_columns_stay_columns() {
        let n = 20;
        let text = Column::Text((0..n).map(|i| Some(format!("t{}", i % 3))).collect());
        let ds = dataset(&["a", "t"], vec![numeric(n, 5), text]);
        let (packed, _) = Packed::new(ds.clone());
        assert!(matches!(packed.stored, Stored::Columns(_)));
        let pre = Preprocessor::fit(&ds, &[0, 1, 2, 3], &spec(Impute::Mean, false)).unwrap();
        let rows: Vec<usize> = (0..n).collect();
        let want = bits(&pre.transform(&ds, &rows).unwrap());
        assert_eq!(bits(&pre.transform_packed(&packed, &rows).unwrap()), want);
        assert!(pre.check_packed(&packed).is_ok());
    }
}
